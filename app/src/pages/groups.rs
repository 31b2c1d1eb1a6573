//! Groups: the list of one's groups (every group for site admins) with a form to make one, and
//! a group's page: its members (its admins add, change and remove them) and what it holds
//! roles on.

use crate::api::members::{
    AddGroupMember, CreateGroup, DeleteGroup, RemoveGroupMember, SetGroupMember, get_group, list_groups,
};
use crate::components::{
    ConfirmSubmit, DeleteZone, ErrorView, Field, FormError, Loading, PageError, PostAction, PostForm, forget_answers,
    land_on, successes,
};
use crate::model::{GroupRole, Object};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn GroupsPage() -> impl IntoView {
    let create = PostAction::new::<CreateGroup>();
    let create_done = successes(create);
    let groups = Resource::new(move || create_done.get(), |_| list_groups());
    land_on(create, |g: &crate::model::Group| format!("/group/{}", g.id));
    view! {
        <crate::components::SaidAfterPost />
        <Title text="Groups" />
        <h1>"Groups"</h1>
        <p class="muted">"A group holds roles on services and projects for all its members."</p>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match groups.await {
                    Ok(groups) if groups.is_empty() => view! { <p class="muted">"You are in no group yet. Make one below."</p> }.into_any(),
                    Ok(groups) => view! {
                        <ul class="groups">
                            {groups.into_iter().map(|g| view! { <li><A href=format!("/group/{}", g.id)>{g.name}</A></li> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <ErrorView error=e /> }.into_any(),
                }
            })}
        </Transition>
        <section class="card narrow">
            <h2>"Make a group"</h2>
            <PostForm action=create>
                <Field label="Name" name="name" />
                <button type="submit">"Make group"</button>
            </PostForm>
            <FormError action=create />
        </section>
    }
}

#[component]
pub fn GroupPage() -> impl IntoView {
    let param = super::param("id");
    let id = move || param().and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
    let set = PostAction::new::<AddGroupMember>();
    let set_done = successes(set);
    // A row's role change: its own action, so its error is not put at the add form's fields.
    let change = PostAction::new::<SetGroupMember>();
    let change_done = successes(change);
    let remove = PostAction::new::<RemoveGroupMember>();
    let remove_done = successes(remove);
    let delete = PostAction::new::<DeleteGroup>();
    forget_answers!(id, [set, change, remove, delete]);
    // The add form's refusal may name a role that a row's change just changed: it goes.
    forget_answers!(move || change_done.get() + remove_done.get(), [set]);
    let group = Resource::new(
        move || (id(), set_done.get(), change_done.get(), remove_done.get()),
        |(id, _, _, _)| get_group(id),
    );
    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                let d = match group.await {
                    Ok(d) => d,
                    Err(e) => return view! { <PageError error=e /> }.into_any(),
                };
                let gid = d.group.id;
                let manage = d.may_manage;
                view! {
                    <Title text={format!("Group {}", d.group.name)} />
                    <h1>"Group " {d.group.name.clone()}</h1>
                    <section class="card">
                        <h2>"Members"</h2>
                        {if d.members.is_empty() {
                            view! { <p class="muted">"No members yet."</p> }.into_any()
                        } else {
                            view! {
                                <table class="list">
                                    <thead><tr><th>"User"</th><th>"Email"</th><th>"Role"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                                    <tbody>
                                        {d.members.into_iter().map(|m| { let remove_question = format!("Remove {} from this group?", m.username); view! {
                                            <tr>
                                                <td>{m.username.clone()}</td>
                                                <td>{m.email.clone()}</td>
                                                <td>
                                                    {if manage {
                                                        view! {
                                                            <PostForm action=change attr:class="inline">
                                                                <input type="hidden" name="id" value=gid.to_string() />
                                                                <input type="hidden" name="username" value=m.username.clone() />
                                                                <select name="role" aria-label=format!("Role of {}", m.username)>
                                                                    <option value="MEMBER" selected=m.role == GroupRole::Member>"Member"</option>
                                                                    <option value="ADMIN" selected=m.role == GroupRole::Admin>"Admin"</option>
                                                                </select>
                                                                <button type="submit" class="small">"Change"</button>
                                                            </PostForm>
                                                        }.into_any()
                                                    } else {
                                                        view! { <span>{format!("{:?}", m.role)}</span> }.into_any()
                                                    }}
                                                </td>
                                                <td>
                                                    {manage.then(|| view! {
                                                        <PostForm action=remove attr:class="inline">
                                                            <input type="hidden" name="id" value=gid.to_string() />
                                                            <input type="hidden" name="user_id" value=m.user.0.to_string() />
                                                            <ConfirmSubmit label="Remove" class="small danger" question=remove_question />
                                                        </PostForm>
                                                    })}
                                                </td>
                                            </tr>
                                        }}).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }}
                        {manage.then(|| view! {
                            <PostForm action=set>
                                <input type="hidden" name="id" value=gid.to_string() />
                                <Field label="Username" name="username" />
                                <label class="field">
                                    <span>"Role"</span>
                                    <select name="role">
                                        <option value="MEMBER">"Member"</option>
                                        <option value="ADMIN">"Admin"</option>
                                    </select>
                                </label>
                                <button type="submit">"Add member"</button>
                            </PostForm>
                        })}
                        <FormError action=set />
                        <FormError action=remove />
                        // In a box of its own: the form before it is the add form, not the row's.
                        <div><FormError action=change /></div>
                    </section>
                    <section class="card">
                        <h2>"Roles"</h2>
                        {if d.resources.is_empty() {
                            view! { <p class="muted">"No roles yet: an Admin of a service or project adds this group on its page."</p> }.into_any()
                        } else {
                            view! {
                                <table class="list">
                                    <thead><tr><th>"On"</th><th>"Role"</th></tr></thead>
                                    <tbody>
                                        {d.resources.into_iter().map(|r| {
                                            let href = match r.object {
                                                Object::Service(s) => format!("/service/{}", s.0),
                                                Object::Project(p) => format!("/project/{}", p.0),
                                                Object::Site => "/site".to_string(),
                                            };
                                            view! { <tr><td><A href=href>{r.name}</A></td><td>{format!("{:?}", r.role)}</td></tr> }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }}
                    </section>
                    {manage.then(|| view! {
                        <DeleteZone action=delete id=gid.to_string() label="Delete this group and its roles" question=format!("Delete the group {} and every role it gives?", d.group.name) />
                    })}
                }.into_any()
            })}
        </Transition>
    }
}
