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
