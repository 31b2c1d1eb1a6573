//! Who may do what, as Promgen 0.73 says it (spec 8.2): roles on a service or a project, held
//! by a user or a group, inherited from a service to its projects and from a project to its
//! farm, hosts, exporters, URLs, rules and notifiers.

use super::ids::*;
use serde::{Deserialize, Serialize};

/// A role on a service or a project, weakest first (so `max` is the strongest held).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

impl Role {
    /// Promgen's REST names: `ADMIN`, `EDITOR`, `VIEWER`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "VIEWER",
            Role::Editor => "EDITOR",
            Role::Admin => "ADMIN",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "VIEWER" => Some(Role::Viewer),
            "EDITOR" => Some(Role::Editor),
            "ADMIN" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A role in a group: its admins manage its members.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum GroupRole {
    Member,
    Admin,
}

impl GroupRole {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupRole::Member => "MEMBER",
            GroupRole::Admin => "ADMIN",
        }
    }

    pub fn parse(text: &str) -> Option<GroupRole> {
        match text {
            "MEMBER" => Some(GroupRole::Member),
            "ADMIN" => Some(GroupRole::Admin),
            _ => None,
        }
    }
}

/// What a role is held on, or what an action is about: the site (site rules and notifiers),
/// a service, a project. Everything else is asked about as the object it belongs to (an
/// exporter as its project, a service's rule as its service).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Object {
    Site,
    Service(ServiceId),
    Project(ProjectId),
}

/// What a caller wants to do with an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Read it (any role; everyone for the site).
    View,
    /// Change it or what belongs to it (Editor or Admin; site admins for the site).
    Edit,
    /// Grant and take away roles on it (Admin).
    ManageMembers,
    /// Delete it (its owner; a project also its service's owner; site admins).
    Delete,
}

impl Action {
    /// The role the action needs, for messages.
    pub fn needs(self) -> &'static str {
        match self {
            Action::View => "a role on it",
            Action::Edit => "the Editor or Admin role on it",
            Action::ManageMembers => "the Admin role on it",
            Action::Delete => "to own it",
        }
    }
}
