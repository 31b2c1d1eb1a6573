//! A provider's claims become a user here: found by the provider's subject, made at the first
//! sign-in, its email and names refreshed, and its memberships of the provider's groups set
//! from the groups claim, all in one transaction.

use super::super::super::{Actor, Db, audit, db};
use super::SignInError;
use super::config::Provider;
use crate::model::{CurrentUser, UserId};
use serde_json::{Map, Value};

/// The most groups one sign-in sets (a claim listing more is cut, and logged).
const MAX_GROUPS: usize = 1000;

/// Who the provider says the user is.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub subject: String,
    pub username: String,
    pub email: String,
    /// The provider's `email_verified` (absent: not said).
    pub email_verified: Option<bool>,
    pub first_name: String,
    pub last_name: String,
    /// `None` when the provider has no groups claim configured.
    pub groups: Option<Vec<String>>,
}

impl Identity {
    pub fn from_claims(p: &Provider, claims: &Map<String, Value>) -> Result<Identity, SignInError> {
        let text = |key: &str| -> Option<String> {
            match claims.get(key)? {
                Value::String(s) => Some(s.trim().to_string()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        };
        let missing = |key: &str| {
            tracing::warn!(provider = %p.id, claim = key, "a sign-in lacks a configured claim");
            SignInError::new(
                502,
                format!("{} sent no {key:?} for this user; the site's configuration names it", p.name),
            )
        };
        let subject = text(&p.subject_field).filter(|s| !s.is_empty()).ok_or_else(|| missing(&p.subject_field))?;
        if subject.len() > 255 {
            return Err(SignInError::new(502, format!("{} sent a subject longer than 255 bytes", p.name)));
        }
        let username = text(&p.username_claim).filter(|s| !s.is_empty()).ok_or_else(|| missing(&p.username_claim))?;
        // Django's username rule, which Promgen's users follow (letters, digits and @.+-_), in
        // ASCII: no name that looks like another's ("аdmin" with a Cyrillic а).
        if username.len() > 150 || !username.chars().all(|c| c.is_ascii_alphanumeric() || "@.+-_".contains(c)) {
            return Err(SignInError::bad(format!(
                "the username {} from {} is not one Promgen takes (letters, digits and @.+-_, at most 150)",
                super::word(&username),
                p.name
            )));
        }
        let name = text(&p.name_claim).unwrap_or_default();
        let (first, last) = match (text("given_name"), text("family_name")) {
            (Some(g), f) => (g, f.unwrap_or_default()),
            (None, _) => match name.split_once(' ') {
                Some((f, l)) => (f.to_string(), l.to_string()),
                None => (name.clone(), String::new()),
            },
        };
        let groups = p.groups_claim.as_ref().map(|key| {
            let mut groups: Vec<String> = match claims.get(key) {
                Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
                Some(Value::String(s)) if !s.trim().is_empty() => vec![s.trim().to_string()],
                _ => Vec::new(),
            };
            if groups.len() > MAX_GROUPS {
                tracing::warn!(provider = %p.id, count = groups.len(), "a groups claim lists more than {MAX_GROUPS}; the rest are ignored");
                groups.truncate(MAX_GROUPS);
            }
            groups
        });
        if let (Some(allowed), Some(groups)) = (&p.allowed_groups, &groups)
            && !groups.iter().any(|g| allowed.contains(g))
        {
            return Err(SignInError::new(403, format!("{} says you are in no group allowed to sign in here", p.name)));
        }
        let clip = |s: String| s.chars().filter(|c| !c.is_control()).take(150).collect::<String>();
        Ok(Identity {
            subject,
            username,
            email_verified: claims.get("email_verified").and_then(Value::as_bool),
            email: clip(text(&p.email_claim).unwrap_or_default()),
            first_name: clip(first),
            last_name: clip(last),
            groups,
        })
    }
}

#[derive(sqlx::FromRow)]
struct Found {
    id: i64,
    username: String,
    is_superuser: i64,
    is_active: i64,
    process_alerts: i64,
}

/// Signs `who` in through `p`: the user linked to the subject, else (first sign-in) a new
/// user of that username, or the existing one when the provider may link. A deactivated user
/// is refused; a taken username without linking is refused (409).
/// Also returns the groups the user left (their claim no longer names them).
pub async fn sign_in(database: &Db, p: &Provider, who: Identity) -> Result<(CurrentUser, Vec<i64>), SignInError> {
    let fault = |e: sqlx::Error| {
        tracing::error!(error = %e, "database error at sign-in");
        SignInError::new(500, "the database failed; the server's log says why")
    };
    let mut tx = database.begin().await.map_err(fault)?;
    let now = db::now();
    let linked: Option<Found> = sqlx::query_as(
        "SELECT u.id, u.username, u.is_superuser, u.is_active, u.process_alerts FROM user_identity i \
         JOIN users u ON u.id = i.user_id WHERE i.provider = $1 AND i.subject = $2",
    )
    .bind(&p.id)
    .bind(&who.subject)
    .fetch_optional(&mut *tx)
    .await
    .map_err(fault)?;
    let user = match linked {
        Some(u) => u,
        None => {
            let existing: Option<(Found, String)> = sqlx::query_as::<_, (i64, String, i64, i64, i64, String)>(
                "SELECT id, username, is_superuser, is_active, process_alerts, email FROM users WHERE username = $1",
            )
            .bind(&who.username)
            .fetch_optional(&mut *tx)
            .await
            .map_err(fault)?
            .map(|(id, username, is_superuser, is_active, process_alerts, email)| {
                (Found { id, username, is_superuser, is_active, process_alerts }, email)
            });
            let user = match existing {
                Some((u, email)) => {
                    let (linked,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM user_identity WHERE user_id = $1")
                        .bind(u.id)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(fault)?;
                    // Linking proves the account is theirs by its email, verified by the
                    // provider; never for an account another provider signs in, nor a site
                    // admin's.
                    let proven = !who.email.is_empty()
                        && who.email_verified != Some(false)
                        && who.email.eq_ignore_ascii_case(email.trim());
                    if u.is_superuser != 0 {
                        return Err(SignInError::new(
                            409,
                            format!(
                                "the username {} belongs to a site admin here, which no provider signs in",
                                who.username
                            ),
                        ));
                    }
                    if !p.link_existing || linked > 0 || !proven {
                        return Err(SignInError::new(
                            409,
                            format!(
                                "the username {} belongs to another account here; an admin can link them \
                                 (link_existing for {}) or rename one",
                                who.username, p.name
                            ),
                        ));
                    }
                    u
                }
                None => {
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO users (username, email, first_name, last_name, is_active, created) \
                         VALUES ($1, $2, $3, $4, 1, $5) RETURNING id",
                    )
                    .bind(&who.username)
                    .bind(&who.email)
                    .bind(&who.first_name)
                    .bind(&who.last_name)
                    .bind(&now)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(fault)?;
                    audit::record(
                        &mut tx,
                        &Actor::System,
                        &format!("Created user {} at their first sign-in through {}", who.username, p.name),
                        audit::Subject::new("user", id),
                        None::<&()>,
                        None::<&()>,
                    )
                    .await
                    .map_err(fault)?;
                    Found { id, username: who.username.clone(), is_superuser: 0, is_active: 1, process_alerts: 0 }
                }
            };
            sqlx::query(
                "INSERT INTO user_identity (provider, subject, user_id, created, last_login) VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(&p.id)
            .bind(&who.subject)
            .bind(user.id)
            .bind(&now)
            .execute(&mut *tx)
            .await
            .map_err(fault)?;
            user
        }
    };
    if user.is_active == 0 {
        return Err(SignInError::new(403, "this account is deactivated; ask an admin"));
    }
    sqlx::query("UPDATE user_identity SET last_login = $1 WHERE provider = $2 AND subject = $3")
        .bind(&now)
        .bind(&p.id)
        .bind(&who.subject)
        .execute(&mut *tx)
        .await
        .map_err(fault)?;
    // What the provider says of the user is kept up to date; an empty claim keeps what is here.
    sqlx::query(
        "UPDATE users SET email = CASE WHEN $1 = '' THEN email ELSE $1 END, \
         first_name = CASE WHEN $2 = '' THEN first_name ELSE $2 END, \
         last_name = CASE WHEN $3 = '' THEN last_name ELSE $3 END WHERE id = $4",
    )
    .bind(&who.email)
    .bind(&who.first_name)
    .bind(&who.last_name)
    .bind(user.id)
    .execute(&mut *tx)
    .await
    .map_err(fault)?;
    let left = match &who.groups {
        Some(groups) => set_groups(&mut tx, p, user.id, groups).await.map_err(fault)?,
        None => Vec::new(),
    };
    tx.commit().await.map_err(fault)?;
    let user = CurrentUser {
        id: UserId(user.id),
        username: user.username,
        is_superuser: user.is_superuser != 0,
        process_alerts: user.process_alerts != 0,
    };
    Ok((user, left))
}

/// Makes the user a member of exactly the named groups of this provider (made at first
/// sight, marked as the provider's); memberships of other groups are left as they are, and a
/// group made here under such a name is not joined. Returns the groups the user left.
async fn set_groups(
    tx: &mut sqlx::AnyConnection,
    p: &Provider,
    user: i64,
    names: &[String],
) -> Result<Vec<i64>, sqlx::Error> {
    let mut left = Vec::new();
    let mut wanted = Vec::new();
    for name in names {
        let name: String = name.chars().filter(|c| !c.is_control()).take(150).collect();
        let found: Option<(i64, Option<String>)> =
            sqlx::query_as("SELECT id, provider FROM user_group WHERE name = $1")
                .bind(&name)
                .fetch_optional(&mut *tx)
                .await?;
        match found {
            Some((id, Some(by))) if by == p.id => wanted.push(id),
            Some(_) => {
                tracing::warn!(provider = %p.id, group = %name, "a group of this name was made here; the provider's claim does not join it")
            }
            None if name.trim().is_empty() => {}
            None => {
                let (id,): (i64,) =
                    sqlx::query_as("INSERT INTO user_group (name, provider) VALUES ($1, $2) RETURNING id")
                        .bind(&name)
                        .bind(&p.id)
                        .fetch_one(&mut *tx)
                        .await?;
                wanted.push(id);
            }
        }
    }
    let held: Vec<(i64, Option<String>)> =
        sqlx::query_as("SELECT group_id, provider FROM group_member WHERE user_id = $1")
            .bind(user)
            .fetch_all(&mut *tx)
            .await?;
    for (group, by) in &held {
        if by.as_deref() == Some(p.id.as_str()) && !wanted.contains(group) {
            sqlx::query("DELETE FROM group_member WHERE group_id = $1 AND user_id = $2")
                .bind(group)
                .bind(user)
                .execute(&mut *tx)
                .await?;
            left.push(*group);
        }
    }
    for group in wanted {
        if !held.iter().any(|(g, _)| *g == group) {
            sqlx::query("INSERT INTO group_member (group_id, user_id, role, provider) VALUES ($1, $2, 'MEMBER', $3)")
                .bind(group)
                .bind(user)
                .bind(&p.id)
                .execute(&mut *tx)
                .await?;
        }
    }
    Ok(left)
}
