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
