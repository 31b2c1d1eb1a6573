//! Who is asking, as the browser may know it (no secrets here: this type ships in the wasm).

use super::ids::UserId;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: UserId,
    pub username: String,
    pub is_superuser: bool,
    /// May post alerts to the Alertmanager webhook (Promgen's `process_alert` permission).
    #[serde(default)]
    pub process_alerts: bool,
}

/// A user as Promgen's REST API lists them (`/rest/v2/users`, `/rest/v2/users/me`): Django's
/// `auth.user` fields. `date_joined` is RFC 3339 in UTC.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserProfile {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub date_joined: String,
}

/// An identity provider as the login page shows it: a button to `/login/sso/<id>`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignInProvider {
    /// The provider's id in its configuration (`[a-z0-9-]`), part of its URLs.
    pub id: String,
    /// What the button says ("Sign in with {name}").
    pub name: String,
}

/// How one may log in on this site: through these providers, and with a local username and
/// password unless the site turned local accounts off.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoginOptions {
    pub providers: Vec<SignInProvider>,
    pub local_accounts: bool,
    /// For a caller already logged in: where the login page sends them on instead (the path
    /// of this site its `next` names, else `/`).
    #[serde(default)]
    pub logged_in_next: Option<String>,
}

/// One of a user's live sessions (a browser signed in), as their profile lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActiveSession {
    /// Names the session to end it (a hash of its id, which stays secret).
    pub handle: String,
    /// When it began, RFC 3339 UTC (empty for sessions older than this record).
    pub signed_in: String,
    /// When it was last used, RFC 3339 UTC.
    pub last_active: String,
    /// `password`, or the identity provider's name.
    pub via: String,
    /// The browser's `User-Agent`, as it sent it (at most 200 characters).
    pub agent: String,
    /// The browser and its system read from `agent` (`Firefox 128 on Linux`; Project Woothee's
    /// names), or `agent` itself when it names no browser it knows.
    pub browser: String,
    /// The client's address.
    pub address: String,
    /// The session asking.
    pub current: bool,
}
