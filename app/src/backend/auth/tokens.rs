//! API tokens: what Alertmanager and scripts authenticate with (`Authorization: Token <key>`,
//! as Promgen, or `Bearer <key>`). Only a SHA-256 of the key is stored; the key is shown once.
//! Keys imported from Promgen keep working: they are hashed on import.
//!
//! Every request checks its token against the database (one indexed read): a token revoked,
//! or a user deactivated or stripped of a permission, here or on another replica or from the
//! command line, is refused from the next request on. No cache stands in between.

use super::super::audit::{self, Subject};
use super::{Actor, Auth};
use crate::backend::db;
use crate::error::AppError;
use crate::model::{CurrentUser, TokenId, TokenInfo, UserId};
use rand::distributions::{Alphanumeric, DistString};
use sha2::{Digest, Sha256};

/// `last_used` is written at most this often per token: a webhook at thousands of requests a
/// second must not write a row each.
const LAST_USED_SECONDS: i64 = 60;

pub fn hash(key: &str) -> String {
    crate::backend::alerts::webhook::hex(&Sha256::digest(key.trim().as_bytes()))
}

/// The key of an `Authorization` header value: `Token <key>` or `Bearer <key>`.
pub fn key_of(header: &str) -> Option<&str> {
    let (scheme, key) = header.trim().split_once(' ')?;
    let key = key.trim();
    (matches!(scheme.to_ascii_lowercase().as_str(), "token" | "bearer") && !key.is_empty()).then_some(key)
}

/// Writes a token with the given key (made here, or imported from Promgen) in the caller's
/// transaction: its hash and first letters, never the key. The same key again is the same
/// token, now `user`'s.
pub(crate) async fn insert(
    conn: &mut sqlx::AnyConnection,
    user: UserId,
    key: &str,
    name: &str,
    created: &str,
) -> Result<TokenInfo, sqlx::Error> {
    let prefix: String = key.trim().chars().take(6).collect();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO token (user_id, hash, prefix, name, created) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (hash) DO UPDATE SET user_id = excluded.user_id, name = excluded.name RETURNING id",
    )
    .bind(user.0)
    .bind(hash(key))
    .bind(&prefix)
    .bind(name)
    .bind(created)
    .fetch_one(&mut *conn)
    .await?;
    Ok(TokenInfo { id: TokenId(id), name: name.to_string(), prefix, created: created.to_string(), last_used: None })
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    name: String,
    prefix: String,
    created: String,
    last_used: Option<String>,
}

impl From<TokenRow> for TokenInfo {
    fn from(r: TokenRow) -> Self {
        TokenInfo { id: TokenId(r.id), name: r.name, prefix: r.prefix, created: r.created, last_used: r.last_used }
    }
}

impl Auth {
    /// Makes a token for `username` (one's own, or anyone's for an admin or the operator).
    /// Returns the key, which is not stored and cannot be shown again.
    pub async fn create_token(
        &self,
        actor: &Actor,
        username: &str,
        name: &str,
    ) -> Result<(TokenInfo, String), AppError> {
        let name = crate::model::validate::line("name", name, 128)?;
        let user = self.user_by_name(username).await?;
        if actor.user_id() != Some(user.id) {
            actor.may_administer("make tokens for other users")?;
        }
        let key = Alphanumeric.sample_string(&mut rand::thread_rng(), 40);
        let info = self.store_token(actor, user.id, &key, &name).await?;
        Ok((info, key))
    }

    /// Stores a token made here, with its audit entry.
    async fn store_token(&self, actor: &Actor, user: UserId, key: &str, name: &str) -> Result<TokenInfo, AppError> {
        let mut tx = self.db.begin().await?;
        let info = insert(&mut tx, user, key, name, &db::now()).await?;
        let id = info.id.0;
        let subject = Subject::new("token", id).under("user", user.0);
        // The audit log is for everyone: the token's name, not the first letters of its key.
        let shown = TokenInfo { prefix: String::new(), ..info.clone() };
        audit::record(
            &mut tx,
            actor,
            &if info.name.is_empty() {
                format!("Created token #{id}")
            } else {
                format!("Created token #{id} ({})", info.name)
            },
            subject,
            None::<&()>,
            Some(&shown),
        )
        .await?;
        tx.commit().await?;
        Ok(info)
    }

    /// Revokes a token: its owner or an admin.
    pub async fn revoke_token(&self, actor: &Actor, id: TokenId) -> Result<(), AppError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT user_id FROM token WHERE id = $1").bind(id.0).fetch_optional(&self.db.pool).await?;
        let Some((owner,)) = row else { return Err(AppError::NotFound(format!("token {id}"))) };
        if actor.user_id() != Some(UserId(owner)) {
            actor.may_administer("revoke other users' tokens")?;
        }
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM token WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
        let subject = Subject::new("token", id.0).under("user", owner);
        audit::record(&mut tx, actor, &format!("Revoked token #{}", id.0), subject, None::<&()>, None::<&()>).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn tokens(&self, user: UserId) -> Result<Vec<TokenInfo>, AppError> {
        let rows: Vec<TokenRow> =
            sqlx::query_as("SELECT id, name, prefix, created, last_used FROM token WHERE user_id = $1 ORDER BY id")
                .bind(user.0)
                .fetch_all(&self.db.pool)
                .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The actor behind an `Authorization` header: the token's active user, or an error that
    /// says what is wrong (401 at the edge).
    pub async fn actor_from_header(&self, header: Option<&str>) -> Result<Actor, AppError> {
        let Some(header) = header else {
            return Err(AppError::invalid(
                "authorization",
                "no Authorization header: send `Authorization: Token <key>`",
            ));
        };
        let Some(key) = key_of(header) else {
            return Err(AppError::invalid(
                "authorization",
                "the Authorization header must be `Token <key>` or `Bearer <key>`",
            ));
        };
        let row: Option<(i64, Option<String>, i64, String, i64, i64)> = sqlx::query_as(
            "SELECT t.id, t.last_used, u.id, u.username, u.is_superuser, u.process_alerts \
             FROM token t JOIN users u ON u.id = t.user_id WHERE t.hash = $1 AND u.is_active = 1",
        )
        .bind(hash(key))
        .fetch_optional(&self.db.pool)
        .await?;
        let Some((token, last_used, id, username, is_superuser, process_alerts)) = row else {
            return Err(AppError::invalid(
                "authorization",
                "the token is not valid (revoked, or its user is inactive)",
            ));
        };
        let now = chrono::Utc::now();
        let stale = last_used
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .is_none_or(|t| (now - t.to_utc()).num_seconds() >= LAST_USED_SECONDS);
        if stale {
            sqlx::query("UPDATE token SET last_used = $1 WHERE id = $2")
                .bind(db::now())
                .bind(token)
                .execute(&self.db.pool)
                .await?;
        }
        Ok(Actor::User(CurrentUser {
            id: UserId(id),
            username,
            is_superuser: is_superuser != 0,
            process_alerts: process_alerts != 0,
        }))
    }

    /// Lets a user post alerts (or stops it): the operator or an admin.
    pub async fn grant_alerts(&self, actor: &Actor, username: &str, allowed: bool) -> Result<(), AppError> {
        actor.may_administer("grant the process_alert permission")?;
        let user = self.user_by_name(username).await?;
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE users SET process_alerts = $1 WHERE id = $2")
            .bind(i64::from(allowed))
            .bind(user.id.0)
            .execute(&mut *tx)
            .await?;
        let body = format!("{} {username} to post alerts", if allowed { "Allowed" } else { "Stopped" });
        audit::record(
            &mut tx,
            actor,
            &body,
            Subject::new("user", user.id.0),
            Some(&user.process_alerts),
            Some(&allowed),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn user_by_name(&self, username: &str) -> Result<CurrentUser, AppError> {
        let (id,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE username = $1")
            .bind(username.trim())
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("user {username:?}")))?;
        self.user(UserId(id)).await?.ok_or_else(|| AppError::NotFound(format!("active user {username:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_header_forms() {
        assert_eq!(key_of("Token abc123"), Some("abc123"));
        assert_eq!(key_of("Bearer abc123 "), Some("abc123"));
        assert_eq!(key_of("Basic abc"), None);
        assert_eq!(key_of("Token "), None);
        assert_eq!(hash("k"), hash(" k "));
    }
}
