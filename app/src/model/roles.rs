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

    /// As people read it (the audit log's entries): `Viewer`, `Editor`, `Admin`.
    pub fn title(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::Editor => "Editor",
            Role::Admin => "Admin",
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
    /// Promgen's REST names: `MEMBER`, `ADMIN`.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupRole::Member => "MEMBER",
            GroupRole::Admin => "ADMIN",
        }
    }

    /// As people read it (the audit log's entries): `Member`, `Admin`.
    pub fn title(self) -> &'static str {
        match self {
            GroupRole::Member => "Member",
            GroupRole::Admin => "Admin",
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

/// Who holds a role: a user or a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Principal {
    User(UserId),
    Group(i64),
}

/// A user's or group's role on an object, as Promgen's member lists show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub principal: Principal,
    /// The username, or the group's name.
    pub name: String,
    pub email: String,
    pub role: Role,
    /// Owns the object (their Admin role cannot be taken until ownership moves).
    pub owner: bool,
}

/// A group of users.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub id: i64,
    pub name: String,
}

/// A group's member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupMember {
    pub user: UserId,
    pub username: String,
    pub email: String,
    pub role: GroupRole,
}

/// Who holds a role on a service or project, and whether the caller may change that.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Members {
    /// The owner first, then users, then groups, by name.
    pub members: Vec<Member>,
    /// The caller is an Admin of the object (or a site admin).
    pub may_manage: bool,
}

/// A role a group holds: on what (its name) and which.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupResource {
    pub object: Object,
    pub name: String,
    pub role: Role,
}

/// A group's page: its members, its roles, and whether the caller manages it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupDetail {
    pub group: Group,
    pub members: Vec<GroupMember>,
    pub resources: Vec<GroupResource>,
    pub may_manage: bool,
}
