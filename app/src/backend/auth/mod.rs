//! Who is asking, and what they may do. Users log in with a password today; OIDC and API
//! tokens (a later issue) produce the same [`Actor`], so nothing downstream changes.

pub mod django;
mod password;
pub mod session_store;
pub mod sessions;
pub mod sso;
mod throttle;
mod tokens;

use super::Db;
use crate::error::AppError;
use crate::model::{CurrentUser, UserId, UserProfile};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use rand::distributions::{Alphanumeric, DistString};
use std::net::IpAddr;

pub use session_store::DbSessionStore;
pub use throttle::LoginSettings;
pub(crate) use tokens::insert as insert_token;
pub use tokens::key_of as token_key;

/// Who a request's `Authorization` header named, resolved before a server function runs and
/// read by it (in the request's extensions) instead of the session.
#[derive(Clone, Debug)]
pub struct TokenCaller(pub Actor);

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

    /// Posting to the Alertmanager webhook: admins, and users given the permission (Promgen's
    /// `promgen.process_alert`).
    pub fn may_post_alerts(&self) -> Result<(), AppError> {
        match self {
            Actor::Anonymous => Err(AppError::Unauthenticated),
            Actor::System => Ok(()),
            Actor::User(u) if u.is_superuser || u.process_alerts => Ok(()),
            Actor::User(u) => Err(AppError::Forbidden(format!(
                "post alerts: {} lacks the process_alert permission (promgen grant-alerts {})",
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
    throttle: std::sync::Arc<throttle::Throttle>,
    hasher: std::sync::Arc<password::Hasher>,
    /// Whether usernames and passwords kept here may log in.
    local_accounts: bool,
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

const PROFILE_COLUMNS: &str = "id, username, email, first_name, last_name, is_staff, is_superuser, created";

#[derive(sqlx::FromRow)]
struct ProfileRow {
    id: i64,
    username: String,
    email: String,
    first_name: String,
    last_name: String,
    is_staff: i64,
    is_superuser: i64,
    created: String,
}

impl From<ProfileRow> for UserProfile {
    fn from(r: ProfileRow) -> Self {
        UserProfile {
            id: UserId(r.id),
            username: r.username,
            email: r.email,
            first_name: r.first_name,
            last_name: r.last_name,
            is_staff: r.is_staff != 0,
            is_superuser: r.is_superuser != 0,
            date_joined: r.created,
        }
    }
}

const USER_COLUMNS: &str = "id, username, is_superuser, password_hash, is_active, process_alerts";

/// The longest email address taken, in characters (RFC 5321's path limit).
const MAX_EMAIL: usize = 254;

/// A local account to add ([`Auth::add_user`]).
pub struct NewUser<'a> {
    pub username: &'a str,
    /// Empty, or an address (notifications for the user go there).
    pub email: &'a str,
    pub password: &'a str,
    /// A site admin.
    pub superuser: bool,
}

/// The first admin's password, when the server made one up.
pub struct Bootstrap {
    pub username: String,
    pub generated_password: Option<String>,
}

impl Auth {
    pub fn new(db: Db, login: &LoginSettings) -> Self {
        Auth {
            db,
            throttle: std::sync::Arc::new(throttle::Throttle::new(login)),
            hasher: std::sync::Arc::new(password::Hasher::new(login.concurrent_hashes)),
            local_accounts: true,
        }
    }

    /// Turns password logins off (`false`): users sign in through identity providers only.
    pub fn with_local_accounts(mut self, allowed: bool) -> Self {
        self.local_accounts = allowed;
        self
    }

    /// The address of a request's client (for login limits): the peer, or behind a proxy the
    /// address in `--client-ip-header`.
    pub fn client_address(&self, peer: Option<IpAddr>, headers: &axum::http::HeaderMap) -> Option<IpAddr> {
        self.throttle.client_address(peer, headers)
    }

    /// Forgets login attempts old enough not to count any more (run now and then).
    pub fn forget_idle_attempts(&self) {
        self.throttle.forget_idle();
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

    /// A local account without an email address ([`Auth::add_user`]).
    pub async fn create_user(
        &self,
        actor: &Actor,
        username: &str,
        password: &str,
        superuser: bool,
    ) -> Result<CurrentUser, AppError> {
        self.add_user(actor, NewUser { username, email: "", password, superuser }).await
    }

    /// Adds a local account (site admins: the users page, `promgen create-user`). The username
    /// has no spaces and is unique (409 at `username`); the email is empty or an address
    /// (400 at `email`); the password is bounded as [`crate::model::validate::new_password`]
    /// says. Recorded in the audit log.
    pub async fn add_user(&self, actor: &Actor, new: NewUser<'_>) -> Result<CurrentUser, AppError> {
        actor.may_administer("create users")?;
        let username = crate::model::validate::job("username", new.username)?;
        let email = crate::model::validate::text("email", new.email, MAX_EMAIL)?;
        let email = if email.is_empty() { email } else { super::notify::email_address("email", &email)? };
        crate::model::validate::new_password("password", new.password)?;
        let hash = self.hash_password(new.password.to_string()).await?;
        let mut tx = self.db.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO users (username, email, password_hash, is_superuser, is_active, created) \
             VALUES ($1, $2, $3, $4, 1, $5) RETURNING id",
        )
        .bind(&username)
        .bind(&email)
        .bind(hash)
        .bind(i64::from(new.superuser))
        .bind(super::db::now())
        .fetch_one(&mut *tx)
        .await
        .map_err(super::unique("username", format!("{username:?} is taken")))?;
        let made = serde_json::json!({ "username": username, "email": email, "is_superuser": new.superuser });
        let body = format!("Created user {username}{}", if new.superuser { " (site admin)" } else { "" });
        super::audit::record(&mut tx, actor, &body, super::audit::Subject::new("user", id), None::<&()>, Some(&made))
            .await?;
        tx.commit().await?;
        Ok(CurrentUser { id: UserId(id), username, is_superuser: new.superuser, process_alerts: false })
    }

    /// Sets a user's password (an admin's or the operator's reset) and ends every session
    /// of the user: a stolen cookie stops working with the reset.
    pub async fn set_password(&self, actor: &Actor, username: &str, password: &str) -> Result<(), AppError> {
        actor.may_administer("reset passwords")?;
        let (id,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE username = $1")
            .bind(username.trim())
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("user {username:?}")))?;
        self.store_password(actor, UserId(id), password, None).await
    }

    /// A user's own change of password: the current one must be right. Every other session
    /// of the user ends; `this_session` (the one asking) stays.
    pub async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
        this_session: Option<&str>,
        address: Option<IpAddr>,
    ) -> Result<(), AppError> {
        let Actor::User(me) = actor else { return Err(AppError::Unauthenticated) };
        // Guessing the current password from a stolen session counts like logging in.
        self.throttle.attempt(&me.username, address)?;
        let (hash,): (Option<String>,) = sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
            .bind(me.id.0)
            .fetch_one(&self.db.pool)
            .await?;
        let usable = hash.is_some();
        if !self.verify_password(current.to_string(), hash.unwrap_or_else(|| DUMMY_HASH.clone())).await? || !usable {
            return Err(AppError::invalid("current", "that is not your current password"));
        }
        // A change that changes nothing would still end the other sessions, and mislead.
        if new == current {
            return Err(AppError::invalid("password", "the new password is the current one; choose another"));
        }
        self.store_password(actor, me.id, new, this_session).await
    }

    /// Hashes and stores `password`, ends the user's sessions but `keep`, and records it.
    async fn store_password(
        &self,
        actor: &Actor,
        user: UserId,
        password: &str,
        keep: Option<&str>,
    ) -> Result<(), AppError> {
        crate::model::validate::new_password("password", password)?;
        let hash = self.hash_password(password.to_string()).await?;
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user.0)
            .execute(&mut *tx)
            .await?;
        let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(user.0)
            .bind(keep.unwrap_or(""))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let ended = crate::model::counted(ended as i64, "other session");
        let body = format!("Changed the password of user #{}; ended {ended}", user.0);
        super::audit::record(
            &mut tx,
            actor,
            &body,
            super::audit::Subject::new("user", user.0),
            None::<&()>,
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks a username and password from a client at `address`. The message does not say
    /// which of the two was wrong, and every refusal takes the time of one password check,
    /// whether the user exists, has a password or is active. Too many attempts for the account
    /// or from the address are refused before any check (429).
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<CurrentUser, AppError> {
        if !self.local_accounts {
            return Err(AppError::Forbidden(
                "log in with a password here: this site signs users in through its identity providers".into(),
            ));
        }
        self.throttle.attempt(username, address)?;
        let wrong = || AppError::WrongCredentials;
        let row: Option<UserRow> = if username.len() > throttle::MAX_USERNAME {
            None
        } else {
            sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1"))
                .bind(username.trim())
                .fetch_optional(&self.db.pool)
                .await?
        };
        // Longer than any password that can be set: wrong, without hashing it (work per byte).
        if password.len() > crate::model::validate::MAX_PASSWORD_CHARS * 4 {
            return Err(wrong());
        }
        let usable = row.as_ref().filter(|r| r.is_active != 0).and_then(|r| r.password_hash.clone());
        // Without a usable hash, check against a hash of nothing anyone knows: the same time.
        let hash = usable.clone().unwrap_or_else(|| DUMMY_HASH.clone());
        let matches = self.verify_password(password.to_string(), hash).await?;
        match row {
            Some(row) if matches && usable.is_some() => {
                // A password kept from Promgen (Django's hash) becomes Argon2id at its first use.
                if usable.as_deref().and_then(django::DjangoHash::parse).is_some() {
                    let rehashed = self.hash_password(password.to_string()).await?;
                    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                        .bind(rehashed)
                        .bind(row.id)
                        .execute(&self.db.pool)
                        .await?;
                    tracing::info!(user = %row.username, "a password kept from Promgen is now hashed with Argon2id");
                }
                Ok(row.current())
            }
            _ => Err(wrong()),
        }
    }

    /// Active users whose username, email, first or last name contains `q` (all without
    /// one), by id: the directory any logged-in user may read (Promgen's `/rest/v2/users`).
    pub async fn directory(&self, actor: &Actor, q: Option<&str>) -> Result<Vec<UserProfile>, AppError> {
        actor.require()?;
        let q = crate::model::validate::text("q", q.unwrap_or_default(), 200)?;
        let like = super::db::contains_pattern(&q);
        let rows: Vec<ProfileRow> = sqlx::query_as(&format!(
            "SELECT {PROFILE_COLUMNS} FROM users WHERE is_active = 1 AND (LOWER(username) LIKE $1 ESCAPE '\\' \
             OR LOWER(email) LIKE $1 ESCAPE '\\' OR LOWER(first_name) LIKE $1 ESCAPE '\\' \
             OR LOWER(last_name) LIKE $1 ESCAPE '\\') ORDER BY id"
        ))
        .bind(like)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Whether the user has a password kept here (accounts made by a provider have none).
    pub async fn has_password(&self, user: UserId) -> Result<bool, AppError> {
        let (hash,): (Option<String>,) = sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
            .bind(user.0)
            .fetch_one(&self.db.pool)
            .await?;
        Ok(hash.is_some())
    }

    /// The caller's own profile (`/rest/v2/users/me`).
    pub async fn profile(&self, actor: &Actor) -> Result<UserProfile, AppError> {
        let Actor::User(me) = actor else { return Err(AppError::Unauthenticated) };
        let row: ProfileRow = sqlx::query_as(&format!("SELECT {PROFILE_COLUMNS} FROM users WHERE id = $1"))
            .bind(me.id.0)
            .fetch_one(&self.db.pool)
            .await?;
        Ok(row.into())
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

impl Auth {
    /// Argon2 is deliberately slow: off the async runtime, a few at a time.
    async fn hash_password(&self, password: String) -> Result<String, AppError> {
        self.hasher.hash(password).await
    }

    /// Checks an Argon2 PHC string, or a Django hash kept from Promgen ([`django`]).
    async fn verify_password(&self, password: String, hash: String) -> Result<bool, AppError> {
        match django::DjangoHash::parse(&hash) {
            Some(django::DjangoHash::Argon2(phc)) => self.hasher.verify(password, phc).await,
            Some(pbkdf2) => self.hasher.verify_with(move || pbkdf2.verify_pbkdf2(&password)).await,
            None => self.hasher.verify(password, hash).await,
        }
    }
}

/// Where to send a user after logging in: `next` when it is a path on this site, else `/`.
///
/// `next` is read as a browser reads a `Location` (the WHATWG URL parser: tabs and newlines
/// dropped, `\` as `/`), relative to this site; anything that lands elsewhere (`//evil`,
/// `/\evil`, `/<tab>/evil`, `https://evil`) is refused. What is returned is the parsed path,
/// query and fragment, as the browser would follow it.
pub fn local_redirect(next: Option<&str>) -> String {
    const HOME: &str = "http://promgen.invalid/";
    let (Ok(base), Some(next)) = (url::Url::parse(HOME), next) else { return "/".into() };
    // An address no page of ours has: a 70 KB `next` made a Location header clients refuse.
    if next.len() > MAX_NEXT_BYTES {
        return "/".into();
    }
    match base.join(next) {
        // The scheme too: a `blob:` URL's origin is its inner URL's, so `blob:http://promgen.invalid\@evil/`
        // passed the origin check, and its "path" was the whole inner URL.
        Ok(mut url)
            if url.scheme() == base.scheme()
                && url.origin() == base.origin()
                && url.username().is_empty()
                && url.password().is_none() =>
        {
            // Not a refusal for the page to show: the browser goes there without the server
            // checking its signature (server/src/web/refusal_links.rs).
            if let Some(kept) = url.query().and_then(crate::error::without_address_refusal) {
                url.set_query(Some(&kept).filter(|q| !q.is_empty()).map(String::as_str));
            }
            let path = &url[url::Position::BeforePath..];
            // `/.//evil` parses to the path `//evil`, which a browser reads as another host.
            // Encoded, it may have grown past the limit.
            if path.starts_with("//") || path.starts_with("/\\") || path.len() > MAX_NEXT_BYTES {
                "/".into()
            } else {
                path.to_string()
            }
        }
        _ => "/".into(),
    }
}

/// The longest `next` followed after a login, in bytes (a page's path and query; longer goes
/// home).
pub const MAX_NEXT_BYTES: usize = 4096;

/// The actor behind a browser session: the logged-in user, or anonymous.
pub async fn actor_from_session(auth: &Auth, session: &tower_sessions::Session) -> Result<Actor, AppError> {
    let id: Option<i64> = session.get(SESSION_USER_KEY).await.map_err(|e| AppError::fault("reading the session", e))?;
    Ok(match id {
        Some(id) => auth.user(UserId(id)).await?.map_or(Actor::Anonymous, Actor::User),
        None => Actor::Anonymous,
    })
}

#[cfg(test)]
mod tests {
    use super::local_redirect;

    #[test]
    fn redirects_only_to_paths_of_this_site() {
        for (next, to) in [
            (Some("/project/7"), "/project/7"),
            (Some("/search?q=a b#x"), "/search?q=a%20b#x"),
            (Some("/\\evil.example/x"), "/"),
            // A refusal the browser would show there unchecked is left out, by its decoded name.
            (Some("/profile?__path=%2Fapi%2Fx&%5F_err=e30&tab=a&__sig=1"), "/profile?tab=a"),
            (Some("/profile?__err=e30"), "/profile"),
            (Some("/\t/evil.example/x"), "/"),
            (Some("//evil.example"), "/"),
            (Some("https://evil.example/"), "/"),
            (Some(" //evil.example"), "/"),
            (Some("javascript:alert(1)"), "/"),
            (Some("http://promgen.invalid@evil.example/"), "/"),
            (Some("/../../etc"), "/etc"),
            (Some("/.//evil.example/x"), "/"),
            (Some("/..//evil.example"), "/"),
            (Some("/%2e%2e//evil.example"), "/"),
            (Some(".//evil.example"), "/"),
            (Some("/x/%2e%2e//evil"), "/"),
            (Some("/.\\/evil"), "/"),
            (Some("/;/..//evil"), "/"),
            (Some("http://promgen.invalid//evil"), "/"),
            (Some("blob:http://promgen.invalid/x"), "/"),
            (Some("blob:http://promgen.invalid\\@evil.example/"), "/"),
            (Some("blob:blob:http://promgen.invalid/"), "/"),
            (Some(""), "/"),
            (None, "/"),
        ] {
            assert_eq!(local_redirect(next), to, "{next:?}");
        }
        // Longer than a page's address (as sent, or once encoded): home.
        assert_eq!(local_redirect(Some(&format!("/{}", "a".repeat(super::MAX_NEXT_BYTES)))), "/");
        assert_eq!(local_redirect(Some(&format!("/{}", " ".repeat(2000)))), "/");
        assert_eq!(local_redirect(Some(&format!("/{}", "a".repeat(4000)))).len(), 4001);
    }
}
