//! The members panel of a service or project page: who holds which role there, and for the
//! object's Admins, adding a user or group with a role, changing a role, taking one away. The
//! owner's Admin role stays until ownership moves (the server refuses it anyway).

use crate::api::members::{AddMember, RemoveMember, SetMemberRole};
use crate::components::{
    ConfirmSubmit, ErrorView, Field, FormError, Held, Loading, PostAction, PostForm, forget_answers, successes,
};
use crate::model::{Members, Principal, Role};
use leptos::prelude::*;

/// The roles as a select's options, `selected` chosen.
fn role_options(selected: Role) -> impl IntoView {
    [(Role::Viewer, "Viewer"), (Role::Editor, "Editor"), (Role::Admin, "Admin")]
        .into_iter()
        .map(|(role, label)| view! { <option value=role.as_str() selected=role == selected>{label}</option> })
        .collect_view()
}

#[component]
/// `held`: the data, which the page holds (see [`Held`] and `components::deferred`).
pub fn MembersPanel(owner_kind: &'static str, owner_id: i64, held: Held<Members>) -> impl IntoView {
    let set = PostAction::new::<AddMember>();
    let set_done = successes(set);
    // A row's role change: its own action, so its error is not put at the add form's fields.
    let change = PostAction::new::<SetMemberRole>();
    let change_done = successes(change);
    let remove = PostAction::new::<RemoveMember>();
    let remove_done = successes(remove);
    held.refetch_on(move || set_done.get() + change_done.get() + remove_done.get());
    // The add form's refusal may name a role that a row's change just changed: it goes.
    forget_answers!(move || change_done.get() + remove_done.get(), [set]);
    let hidden = move || {
        view! {
            <input type="hidden" name="owner_kind" value=owner_kind />
            <input type="hidden" name="owner_id" value=owner_id.to_string() />
        }
    };
    view! {
        <section class="card" id="members">
            <h2>"Members"</h2>
            <p class="muted">"Viewers read; Editors also change rules, notifiers, exporters, URLs and hosts; Admins also manage members."</p>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    let m = match held.read().await {
                        Ok(m) => m,
                        Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                    };
                    let manage = m.may_manage;
                    view! {
                        <table class="list">
                            <thead><tr><th>"Who"</th><th>"Role"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                            <tbody>
                                {m.members.into_iter().map(|member| {
                                    let remove_question = format!("Remove {} and their role here?", member.name);
                                    let (kind, id) = match member.principal {
                                        Principal::User(u) => ("user", u.0),
                                        Principal::Group(g) => ("group", g),
                                    };
                                    let who = if kind == "group" { format!("{} (group)", member.name) } else { member.name.clone() };
                                    let changeable = manage && !member.owner;
                                    view! {
                                        <tr>
                                            <td>{who}{member.owner.then(|| view! { <span class="muted">" (owner)"</span> })}</td>
                                            <td>
                                                {if changeable {
                                                    view! {
                                                        <PostForm action=change attr:class="inline">
                                                            {hidden()}
                                                            <input type="hidden" name="principal_kind" value=kind />
                                                            <input type="hidden" name="who" value=member.name.clone() />
                                                            <select name="role" aria-label=format!("Role of {}", member.name)>
                                                                {role_options(member.role)}
                                                            </select>
                                                            <button type="submit" class="small">"Change"</button>
                                                        </PostForm>
                                                    }.into_any()
                                                } else {
                                                    view! { <span>{format!("{:?}", member.role)}</span> }.into_any()
                                                }}
                                            </td>
                                            <td>
                                                {changeable.then(|| view! {
                                                    <PostForm action=remove attr:class="inline">
                                                        {hidden()}
                                                        <input type="hidden" name="principal_kind" value=kind />
                                                        <input type="hidden" name="principal_id" value=id.to_string() />
                                                        <ConfirmSubmit label="Remove" class="small danger" question=remove_question />
                                                    </PostForm>
                                                })}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        {manage.then(|| view! {
                            <PostForm action=set>
                                {hidden()}
                                <label class="field">
                                    <span>"Add a"</span>
                                    <select name="principal_kind">
                                        <option value="user">"user"</option>
                                        <option value="group">"group"</option>
                                    </select>
                                </label>
                                <Field label="Username or group name" name="who" />
                                <label class="field">
                                    <span>"Role"</span>
                                    <select name="role">{role_options(Role::Viewer)}</select>
                                </label>
                                <button type="submit">"Add member"</button>
                            </PostForm>
                        })}
                    }.into_any()
                })}
            </Transition>
            <FormError action=set />
            <FormError action=remove />
            // In a box of its own: the form before it is the add form, not the row's.
            <div><FormError action=change /></div>
        </section>
    }
}
