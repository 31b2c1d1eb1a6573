//! A user's signed-in sessions, as their profile lists them: how and from where each began,
//! when it was last used; ended one at a time, or all but the one asking. A session's id is
//! its cookie's secret and never leaves the server: the page names a session by a hash of it.

use super::{Actor, Auth, SESSION_USER_KEY};
use crate::backend::audit::{self, Subject};
use crate::error::AppError;
use crate::model::{ActiveSession, UserId};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::net::IpAddr;

/// Sessions last this many days of inactivity.
pub const SESSION_DAYS: i64 = 14;

/// The session key under which how a session began is kept.
const STARTED_KEY: &str = "started";

/// How a session began.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Started {
    /// RFC 3339, UTC.
    at: String,
    /// `password`, or the identity provider's name.
    via: String,
    /// The browser's `User-Agent`, at most 200 characters.
    agent: String,
    address: String,
}

/// The `User-Agent` of a request's `headers`, bytes that are not UTF-8 replaced (a non-ASCII
/// agent was stored empty).
pub fn user_agent(headers: &axum::http::HeaderMap) -> Option<String> {
    Some(String::from_utf8_lossy(headers.get(axum::http::header::USER_AGENT)?.as_bytes()).into_owned())
}

/// Starts `user`'s session: a new id (an id planted before is worth nothing after), the user,
/// and how it began (`via`: `password` or the provider's name).
pub async fn begin(
    session: &tower_sessions::Session,
    user: UserId,
    via: &str,
    agent: Option<&str>,
    address: Option<IpAddr>,
) -> Result<(), AppError> {
    let fail = |e| AppError::fault("starting the session", e);
    session.cycle_id().await.map_err(fail)?;
    session.insert(SESSION_USER_KEY, user.0).await.map_err(fail)?;
    let started = Started {
        at: crate::backend::db::now(),
        via: via.to_string(),
        agent: agent.unwrap_or_default().chars().filter(|c| !c.is_control()).take(200).collect(),
        address: address.map(|a| a.to_string()).unwrap_or_default(),
    };
    session.insert(STARTED_KEY, started).await.map_err(fail)
}

/// The session key of the last time a request was seen, in Unix seconds.
const SEEN_KEY: &str = "seen";

/// How often a session in use is written back (pushing its expiry on): at most every five
/// minutes, so a busy browser does not write on every request.
const TOUCH_SECS: i64 = 300;

/// Marks a signed-in session as used now, if it was not in the last five minutes: the session
/// is saved, so its expiry (inactivity plus [`SESSION_DAYS`]) moves on. Anonymous sessions are
/// left alone.
pub async fn touch(session: &tower_sessions::Session) {
    let Ok(Some(_)) = session.get::<i64>(SESSION_USER_KEY).await else { return };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let seen = session.get::<i64>(SEEN_KEY).await.ok().flatten().unwrap_or(0);
    if now - seen >= TOUCH_SECS {
        let _ = session.insert(SEEN_KEY, now).await;
    }
}

/// The public name of a session: the first 16 hex digits of the SHA-256 of its id.
fn handle(id: &str) -> String {
    sha2::Sha256::digest(id.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

impl Auth {
    /// The caller's live sessions, the most recently used first; `current` is the asking
    /// session's id.
    pub async fn sessions(&self, actor: &Actor, current: Option<&str>) -> Result<Vec<ActiveSession>, AppError> {
        let Actor::User(me) = actor else { return Err(AppError::Unauthenticated) };
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT id, data, expiry FROM sessions WHERE user_id = $1 AND expiry > $2 ORDER BY expiry DESC",
        )
        .bind(me.id.0)
        .bind(now)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, data, expiry)| {
                let data: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
                let started: Started = serde_json::from_value(data[STARTED_KEY].clone()).unwrap_or_default();
                // A session in use is saved every few minutes ([`touch`]), which pushes its
                // expiry on: the expiry is the last use plus the lifetime.
                let last = chrono::DateTime::from_timestamp(expiry - SESSION_DAYS * 86_400, 0)
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    .unwrap_or_default();
                ActiveSession {
                    handle: handle(&id),
                    signed_in: started.at,
                    last_active: last,
                    via: started.via,
                    browser: browser(&started.agent),
                    agent: started.agent,
                    address: started.address,
                    current: current == Some(id.as_str()),
                }
            })
            .collect())
    }

    /// Whether the session with this id is still live (not ended, not expired).
    pub async fn session_alive(&self, id: &str) -> Result<bool, AppError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM sessions WHERE id = $1 AND expiry > $2")
            .bind(id)
            .bind(time::OffsetDateTime::now_utc().unix_timestamp())
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Ends one of the caller's sessions, named by its handle (not the asking one: that is
    /// logging out).
    pub async fn end_session(&self, actor: &Actor, handle_of: &str, current: Option<&str>) -> Result<(), AppError> {
        let Actor::User(me) = actor else { return Err(AppError::Unauthenticated) };
        let ids: Vec<(String,)> =
            sqlx::query_as("SELECT id FROM sessions WHERE user_id = $1").bind(me.id.0).fetch_all(&self.db.pool).await?;
        let Some((id,)) = ids.into_iter().find(|(id,)| handle(id) == handle_of.trim()) else {
            return Err(AppError::NotFound("session".into()));
        };
        if current == Some(id.as_str()) {
            return Err(AppError::invalid("handle", "this is the session you are using: log out to end it"));
        }
        self.end(actor, me.id, "DELETE FROM sessions WHERE id = $1 AND user_id = $2", &id, "one session").await?;
        Ok(())
    }

    /// Ends every session of the caller but `current`; how many ended.
    pub async fn end_other_sessions(&self, actor: &Actor, current: Option<&str>) -> Result<u64, AppError> {
        let Actor::User(me) = actor else { return Err(AppError::Unauthenticated) };
        self.end(
            actor,
            me.id,
            "DELETE FROM sessions WHERE id <> $1 AND user_id = $2",
            current.unwrap_or(""),
            "other sessions",
        )
        .await
    }

    async fn end(&self, actor: &Actor, user: UserId, sql: &str, id: &str, what: &str) -> Result<u64, AppError> {
        let mut tx = self.db.begin().await?;
        let ended = sqlx::query(sql).bind(id).bind(user.0).execute(&mut *tx).await?.rows_affected();
        let body = format!("Ended {what} of user #{} ({ended})", user.0);
        audit::record(&mut tx, actor, &body, Subject::new("user", user.0), None::<&()>, None::<&()>).await?;
        tx.commit().await?;
        Ok(ended)
    }
}

/// The browser and system a `User-Agent` names, for people (`Chrome 120 on Linux`: the major
/// version only); the string itself when Project Woothee's data knows no browser in it (a
/// script's agent, `curl/8.5.0`).
fn browser(agent: &str) -> String {
    // Browsers only: a script's library ("HTTP Library") says more as it came.
    let browser = |ua: &woothee::parser::WootheeResult| {
        ua.name != woothee::woothee::VALUE_UNKNOWN && ["pc", "smartphone", "mobilephone"].contains(&ua.category)
    };
    let Some(ua) = woothee::parser::Parser::new().parse(agent).filter(browser) else {
        return agent.to_string();
    };
    let mut out = ua.name.to_string();
    if let Some(major) = ua.version.split('.').next().filter(|v| !v.is_empty() && *v != woothee::woothee::VALUE_UNKNOWN)
    {
        out = format!("{out} {major}");
    }
    if ua.os != woothee::woothee::VALUE_UNKNOWN {
        out = format!("{out} on {}", ua.os);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_handle_does_not_give_the_id_away() {
        let h = super::handle("0123456789abcdef0123456789abcdef");
        assert_eq!(h.len(), 16);
        assert!(!"0123456789abcdef0123456789abcdef".contains(&h));
    }

    #[test]
    fn a_session_names_its_browser_for_people() {
        let chrome =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 Safari/537.36";
        assert_eq!(super::browser(chrome), "Chrome 120 on Linux");
        let firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(super::browser(firefox), "Firefox 128 on Windows 10");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
        assert_eq!(super::browser(iphone), "Safari 17 on iPhone");
        // A script's agent is shown as it came.
        assert_eq!(super::browser("curl/8.5.0"), "curl/8.5.0");
        assert_eq!(super::browser(""), "");
    }
}
