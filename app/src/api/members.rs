//! Members of services and projects (the roles users and groups hold there), groups and their
//! members, and the user directory: what the members panels, the groups pages and the users
//! page call. Who may is the backend's answer (an object's Admins, a group's admins).

use crate::api::json_text::{JsonText, RawJson};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::Action;
use crate::model::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
fn object(owner_kind: &str, owner_id: i64) -> Result<Object, AppError> {
    match owner_kind {
        "service" => Ok(Object::Service(ServiceId(owner_id))),
        "project" => Ok(Object::Project(ProjectId(owner_id))),
        _ => Err(AppError::invalid("owner_kind", "must be service or project")),
    }
}

/// Who holds a role on a service or project, and whether the caller may change that (read by
/// the members' section, `RawJson`).
#[server(endpoint = "object_members", output = JsonText)]
pub async fn object_members(owner_kind: String, owner_id: i64) -> Result<RawJson<Members>, AppError> {
    let (b, actor) = super::caller().await?;
    let object = object(&owner_kind, owner_id)?;
    let members = b.roles.members(&actor, object).await?;
    let may_manage = crate::backend::policy::allows(&b.db, &actor, Action::ManageMembers, object).await?;
    RawJson::new(&Members { members, may_manage })
}

/// Gives a user or group (`who`: a username or a group's name) a role on a service or project,
/// replacing the role it held there: a members table's Change.
#[server(endpoint = "set_member_role", output = JsonText)]
pub async fn set_member_role(
    owner_kind: String,
    owner_id: i64,
    principal_kind: String,
    who: String,
    role: String,
) -> Result<(), AppError> {
    let (b, actor) = super::caller().await?;
    let (object, principal, role) =
        member_request(&b, &actor, &owner_kind, owner_id, &principal_kind, &who, &role).await?;
    b.roles.grant(&actor, object, principal, role).await
}

/// Adds a user or group (`who`: a username or a group's name) to a service or project with a
/// role: the members panel's Add member. One who already holds a role there is refused
/// (409 at `who`, naming the role), so adding never changes a role unseen; `set_member_role`
/// does that.
#[server(endpoint = "add_member", output = JsonText)]
pub async fn add_member(
    owner_kind: String,
    owner_id: i64,
    principal_kind: String,
    who: String,
    role: String,
) -> Result<(), AppError> {
    let (b, actor) = super::caller().await?;
    let (object, principal, role) =
        member_request(&b, &actor, &owner_kind, owner_id, &principal_kind, &who, &role).await?;
    if let Some(m) = b.roles.members(&actor, object).await?.into_iter().find(|m| m.principal == principal) {
        return Err(AppError::conflict(
            "who",
            format!("already holds the {:?} role here: change it in the table", m.role),
        ));
    }
    b.roles.add(&actor, object, principal, role).await
}

/// The object, principal and role a members form names, checked in that order (the caller's
/// right to manage the members before any name is looked up).
#[cfg(feature = "ssr")]
async fn member_request(
    b: &crate::backend::Backend,
    actor: &crate::backend::Actor,
    owner_kind: &str,
    owner_id: i64,
    principal_kind: &str,
    who: &str,
    role: &str,
) -> Result<(Object, Principal, Role), AppError> {
    let object = object(owner_kind, owner_id)?;
    let role = Role::parse(role).ok_or_else(|| AppError::invalid("role", "must be ADMIN, EDITOR or VIEWER"))?;
    // Rights first: who is not an Admin here learns nothing of which names exist.
    crate::backend::policy::check(&b.db, actor, Action::ManageMembers, object, "manage the members").await?;
    let principal = match principal_kind {
        "user" => Principal::User(
            b.auth.user_by_name(who.trim()).await.map_err(|e| e.not_found_at("who", || no_one("user", who)))?.id,
        ),
        "group" => Principal::Group(
            b.roles
                .group_by_name(actor, who.trim())
                .await
                .map_err(|e| e.not_found_at("who", || no_one("group", who)))?
                .id,
        ),
        _ => return Err(AppError::invalid("principal_kind", "must be user or group")),
    };
    Ok((object, principal, role))
}

/// Takes a user's or group's role on a service or project away.
#[server(endpoint = "remove_member", output = JsonText)]
pub async fn remove_member(
    owner_kind: String,
    owner_id: i64,
    principal_kind: String,
    principal_id: i64,
) -> Result<(), AppError> {
    let (b, actor) = super::caller().await?;
    let object = object(&owner_kind, owner_id)?;
    let principal = match principal_kind.as_str() {
        "user" => Principal::User(UserId(principal_id)),
        "group" => Principal::Group(principal_id),
        _ => return Err(AppError::invalid("principal_kind", "must be user or group")),
    };
    b.roles.revoke(&actor, object, principal).await
}

/// The groups the caller is in (every group for site admins).
#[server(endpoint = "list_groups", output = JsonText)]
pub async fn list_groups() -> Result<Vec<Group>, AppError> {
    let (b, actor) = super::caller().await?;
    b.roles.groups(&actor).await
}

/// Makes a group; its maker is its admin.
#[server(endpoint = "create_group", output = JsonText)]
pub async fn create_group(name: String) -> Result<Group, AppError> {
    let (b, actor) = super::caller().await?;
    let group = b.roles.create_own_group(&actor, &name).await?;
    leptos_axum::redirect(&format!("/group/{}", group.id));
    Ok(group)
}

/// A group with its members and what it holds roles on.
#[server(endpoint = "get_group", output = JsonText)]
pub async fn get_group(id: i64) -> Result<GroupDetail, AppError> {
    let (b, actor) = super::caller().await?;
    let group = b.roles.group(&actor, id).await?;
    let members = b.roles.group_members(&actor, id).await?;
    let resources = b
        .roles
        .group_resources(&actor, id)
        .await?
        .into_iter()
        .map(|(object, name, role)| GroupResource { object, name, role })
        .collect();
    let may_manage = b.roles.check_group_admin(&actor, id, "manage this group").await.is_ok();
    Ok(GroupDetail { group, members, resources, may_manage })
}

/// Changes a group member's role (`MEMBER` or `ADMIN`), or adds the user (by username) with
/// it: a group's members table's Change.
#[server(endpoint = "set_group_member", output = JsonText)]
pub async fn set_group_member(id: i64, username: String, role: String) -> Result<(), AppError> {
    let (b, actor) = super::caller().await?;
    let (user, role, member) = group_member_request(&b, &actor, id, &username, &role).await?;
    if member.is_some() {
        b.roles.set_group_role(&actor, id, user, role).await
    } else {
        b.roles.add_group_members(&actor, id, &[user], role).await
    }
}

/// Adds a user (by username) to a group as `MEMBER` or `ADMIN`: the group page's Add member.
/// One already in the group is refused (409 at `username`, naming their role), so adding never
/// changes a role unseen; `set_group_member` does that.
#[server(endpoint = "add_group_member", output = JsonText)]
pub async fn add_group_member(id: i64, username: String, role: String) -> Result<(), AppError> {
    let (b, actor) = super::caller().await?;
    let (user, role, member) = group_member_request(&b, &actor, id, &username, &role).await?;
    if let Some(m) = member {
        return Err(AppError::conflict(
            "username",
            format!("already in this group, as {:?}: change the role in the table", m.role),
        ));
    }
    b.roles.add_group_members(&actor, id, &[user], role).await.map_err(|e| e.renamed("user_ids", "username"))
}

/// The user and role a group's members form names, with their membership if they have one;
/// the caller's right to manage the group is checked before any name is looked up. The
/// group's only admin stays admin.
#[cfg(feature = "ssr")]
async fn group_member_request(
    b: &crate::backend::Backend,
    actor: &crate::backend::Actor,
    id: i64,
    username: &str,
    role: &str,
) -> Result<(UserId, GroupRole, Option<GroupMember>), AppError> {
    let role = GroupRole::parse(role).ok_or_else(|| AppError::invalid("role", "must be ADMIN or MEMBER"))?;
    // Rights first: who may not manage the group learns nothing of which names exist.
    b.roles.check_group_admin(actor, id, "manage this group's members").await?;
    let user = b
        .auth
        .user_by_name(username.trim())
        .await
        .map_err(|e| e.not_found_at("username", || no_one("user", username)))?
        .id;
    let member = b.roles.group_members(actor, id).await?.into_iter().find(|m| m.user == user);
    if role == GroupRole::Member && b.roles.is_last_admin(id, user).await? {
        return Err(AppError::conflict("role", "the group's only admin stays admin: make someone else admin first"));
    }
    Ok((user, role, member))
}

/// Takes a user out of a group.
#[server(endpoint = "remove_group_member", output = JsonText)]
pub async fn remove_group_member(id: i64, user_id: i64) -> Result<(), AppError> {
    let (b, actor) = super::caller().await?;
    b.roles.check_group_admin(&actor, id, "remove members of this group").await?;
    if b.roles.is_last_admin(id, UserId(user_id)).await? {
        return Err(AppError::conflict("user_id", "the group's only admin stays: make someone else admin first"));
    }
    b.roles.remove_group_member(&actor, id, UserId(user_id)).await
}

/// Deletes a group (its admins); its roles go with it.
#[server(endpoint = "delete_group", output = JsonText)]
pub async fn delete_group(id: i64) -> Result<String, AppError> {
    let (b, actor) = super::caller().await?;
    let gone = b.roles.delete_group(&actor, id).await?;
    Ok(super::deleted("/group", format!("the group {}", gone.name)))
}

/// Active users whose username, email or name contains `q`: the users page (site admins).
#[server(endpoint = "list_users", output = JsonText)]
pub async fn list_users(q: String) -> Result<Vec<UserProfile>, AppError> {
    let (b, actor) = super::caller().await?;
    actor.may_administer("list users")?;
    b.auth.directory(&actor, Some(&q)).await
}

/// Adds a local account (site admins): the users page's form. `superuser` is a checkbox's
/// (present: a site admin). Refused (403) where people sign in only through identity
/// providers. Answers the new user's name.
#[server(endpoint = "add_user", output = JsonText)]
pub async fn add_user(
    username: String,
    email: String,
    password: String,
    superuser: Option<String>,
) -> Result<String, AppError> {
    let (b, actor) = super::caller().await?;
    actor.may_administer("add users")?;
    if !b.sign_in.local_accounts() {
        return Err(AppError::Forbidden(
            "add users with a password: this site signs people in through its identity providers, \
             and they appear here after their first login"
                .into(),
        ));
    }
    let new = crate::backend::auth::NewUser {
        username: &username,
        email: &email,
        password: &password,
        superuser: superuser.is_some(),
    };
    Ok(b.auth.add_user(&actor, new).await?.username)
}

/// Why a name that is no one (`kind`: user, group) is refused.
#[cfg(feature = "ssr")]
fn no_one(kind: &str, name: &str) -> String {
    format!("no {kind} is named {:?}", name.trim())
}
