//! Newtype ids, so a project id is never passed where a service id belongs.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    )*};
}

id_type!(
    UserId,
    ShardId,
    PrometheusId,
    ServiceId,
    ProjectId,
    FarmId,
    HostId,
    ExporterId,
    DefaultExporterId,
    ProbeId,
    UrlId,
    AuditId,
    RuleId,
    AlertId,
    NotifierId,
    NotifierFilterId,
    TokenId,
);

macro_rules! id_from {
    ($($name:ident),*) => {$(
        impl From<i64> for $name {
            fn from(v: i64) -> Self {
                $name(v)
            }
        }
    )*};
}

id_from!(ServiceId, ProjectId, ShardId, FarmId, RuleId, AlertId, NotifierId);
