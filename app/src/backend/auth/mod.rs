//! Who is asking, and what they may do. Users log in with a password today; OIDC and API
//! tokens (a later issue) produce the same [`Actor`], so nothing downstream changes.

pub mod session_store;
mod tokens;

use super::Db;
use crate::error::AppError;
use crate::model::{CurrentUser, UserId};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use rand::distributions::{Alphanumeric, DistString};

pub use session_store::DbSessionStore;
pub(crate) use tokens::insert as insert_token;
pub use tokens::key_of as token_key;

/// The session key under which the logged-in user's id is kept.
pub const SESSION_USER_KEY: &str = "user_id";

/// The caller of a backend operation.
#[derive(Clone, Debug)]
pub enum Actor {
    Anonymous,
    User(CurrentUser),
    /// The operator at the command line (import, register-server): trusted like a superuser,
    /// recorded in the audit log without a user.
    System,
}

impl Actor {
    /// Fails unless someone is logged in (or it is the operator).
    pub fn require(&self) -> Result<(), AppError> {
        match self {
            Actor::Anonymous => Err(AppError::Unauthenticated),
            _ => Ok(()),
        }
    }

    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Actor::User(u) => Some(u.id),
            _ => None,
        }
    }

    pub fn is_superuser(&self) -> bool {
        match self {
            Actor::User(u) => u.is_superuser,
            Actor::System => true,
            Actor::Anonymous => false,
        }
    }

    /// Superusers may do anything; others may change what they own (a project is also its
    /// service owner's). Roles per object come with the identity issue, here.
    pub fn may_edit(&self, owners: &[Option<i64>], what: &str) -> Result<(), AppError> {
        self.require()?;
        if self.is_superuser() {
            return Ok(());
        }
        let me = self.user_id().map(|u| u.0);
        if me.is_some() && owners.contains(&me) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!("change {what}: only its owner or an admin can")))
        }
    }

    /// Posting to the Alertmanager webhook: admins, and users given the permission (Promgen's
    /// `promgen.process_alert`).
    pub fn may_post_alerts(&self) -> Result<(), AppError> {
        match self {
            Actor::Anonymous => Err(AppError::Unauthenticated),
            Actor::System => Ok(()),
            Actor::User(u) if u.is_superuser || u.process_alerts => Ok(()),
            Actor::User(u) => Err(AppError::Forbidden(format!(
                "post alerts: {} lacks the process_alerts permission (promgen grant-alerts {})",
                u.username, u.username
            ))),
        }
    }

    /// Site-wide settings (shards, Prometheus servers, probes, imports): superusers only.
    pub fn may_administer(&self, what: &str) -> Result<(), AppError> {
        self.require()?;
        if self.is_superuser() { Ok(()) } else { Err(AppError::Forbidden(format!("{what}: only an admin can"))) }
    }
}

#[derive(Clone)]
pub struct Auth {
    db: Db,
    /// Tokens checked in the last seconds: a webhook at thousands of requests a second should
    /// not cost a query each. Revoking clears this replica's entry at once, others' within
    /// [`tokens::CACHE_SECONDS`].
    token_cache: tokens::TokenCache,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    is_superuser: i64,
    password_hash: Option<String>,
    is_active: i64,
    process_alerts: i64,
}

impl UserRow {
    fn current(&self) -> CurrentUser {
        CurrentUser {
            id: UserId(self.id),
            username: self.username.clone(),
            is_superuser: self.is_superuser != 0,
            process_alerts: self.process_alerts != 0,
        }
    }
}

const USER_COLUMNS: &str = "id, username, is_superuser, password_hash, is_active, process_alerts";

/// The first admin's password, when the server made one up.
pub struct Bootstrap {
    pub username: String,
    pub generated_password: Option<String>,
}

impl Auth {
    pub fn new(db: Db) -> Self {
        Auth { db, token_cache: Default::default() }
    }

    /// On an empty user table, creates the `admin` superuser with `password`, or with a
    /// random one that is returned so it can be shown once.
    pub async fn bootstrap_admin(&self, password: Option<String>) -> Result<Option<Bootstrap>, AppError> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(&self.db.pool).await?;
        if count > 0 {
            return Ok(None);
        }
        let generated = password.is_none();
        let password = password.unwrap_or_else(random_password);
        self.create_user(&Actor::System, "admin", &password, true).await?;
        Ok(Some(Bootstrap { username: "admin".into(), generated_password: generated.then_some(password) }))
    }

    pub async fn create_user(
        &self,
        actor: &Actor,
        username: &str,
        password: &str,
        superuser: bool,
    ) -> Result<CurrentUser, AppError> {
        actor.may_administer("create users")?;
        let username = crate::model::validate::job("username", username)?;
        if password.len() < 8 {
            return Err(AppError::invalid("password", "must be at least 8 characters"));
        }
        let hash = hash_password(password.to_string()).await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO users (username, password_hash, is_superuser, is_active, created) \
             VALUES ($1, $2, $3, 1, $4) RETURNING id",
        )
        .bind(&username)
        .bind(hash)
        .bind(i64::from(superuser))
        .bind(super::db::now())
        .fetch_one(&self.db.pool)
        .await
        .map_err(super::unique("username", format!("{username:?} is taken")))?;
        Ok(CurrentUser { id: UserId(id), username, is_superuser: superuser, process_alerts: false })
    }

    /// Sets a user's password (operator's reset from the command line).
    pub async fn set_password(&self, actor: &Actor, username: &str, password: &str) -> Result<(), AppError> {
        actor.may_administer("reset passwords")?;
        if password.len() < 8 {
            return Err(AppError::invalid("password", "must be at least 8 characters"));
        }
        let hash = hash_password(password.to_string()).await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2")
            .bind(hash)
            .bind(username)
            .execute(&self.db.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(AppError::NotFound(format!("user {username:?}")));
        }
        Ok(())
    }

    /// Checks a username and password. The message does not say which of the two was wrong.
    pub async fn login(&self, username: &str, password: &str) -> Result<CurrentUser, AppError> {
        let wrong = || AppError::invalid("password", "wrong username or password");
        let row: Option<UserRow> = sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1"))
            .bind(username.trim())
            .fetch_optional(&self.db.pool)
            .await?;
        let Some(row) = row else {
            // Spend the same time as a real check, so timing does not reveal which users exist.
            let _ = verify_password(password.to_string(), DUMMY_HASH.clone()).await;
            return Err(wrong());
        };
        let Some(hash) = row.password_hash.clone() else { return Err(wrong()) };
        if row.is_active == 0 || !verify_password(password.to_string(), hash).await? {
            return Err(wrong());
        }
        Ok(row.current())
    }

    /// The active user with this id, for a session.
    pub async fn user(&self, id: UserId) -> Result<Option<CurrentUser>, AppError> {
        let row: Option<UserRow> = sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(row.filter(|r| r.is_active != 0).map(|r| r.current()))
    }
}

// A hash of a random string, checked against when the user does not exist.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(random_password().as_bytes(), &salt).map(|h| h.to_string()).unwrap_or_default()
});

pub fn random_password() -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), 20)
}

/// Argon2 is deliberately slow: keep it off the async runtime.
async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(format!("hashing failed: {e}")))
}

async fn verify_password(password: String, hash: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))
}

/// The actor behind a browser session: the logged-in user, or anonymous.
pub async fn actor_from_session(auth: &Auth, session: &tower_sessions::Session) -> Result<Actor, AppError> {
    let id: Option<i64> =
        session.get(SESSION_USER_KEY).await.map_err(|e| AppError::Internal(format!("session: {e}")))?;
    Ok(match id {
        Some(id) => auth.user(UserId(id)).await?.map_or(Actor::Anonymous, Actor::User),
        None => Actor::Anonymous,
    })
}
