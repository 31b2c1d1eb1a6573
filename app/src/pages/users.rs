//! The users of the site, for its admins: who they are, searchable, and a form to add a local
//! account (where people may log in with a password).

use crate::api::auth::login_options;
use crate::api::members::{AddUser, list_users};
use crate::components::{
    ErrorView, Field, FormError, Loading, PostAction, PostForm, When, checks, get_within_page, successes,
};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = super::query();
    let q = move || query("q").unwrap_or_default();
    let add = PostAction::new::<AddUser>();
    let added = successes(add);
    let users = Resource::new(move || (q(), added.get()), |(q, _)| list_users(q));
    let options = Resource::new(|| (), |_| login_options(None));
    view! {
        <Title text="Users" />
        <h1>"Users"</h1>
        <form method="GET" action="/user" on:submit=get_within_page("/user")>
            // The property too: the attribute no longer shows once the box was typed in, and the box
            // follows the URL (Back).
            <input
                type="search"
                name="q"
                value=q
                prop:value=q
                maxlength=crate::model::validate::QUERY_MAX_CHARS
                placeholder="Username, email or name"
                aria-label="Find users"
            />
            <button type="submit">"Find"</button>
        </form>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(users) if users.is_empty() => view! { <p class="muted">"No active user matches."</p> }.into_any(),
                    Ok(users) => view! {
                        <table class="list">
                            <thead><tr><th>"Username"</th><th>"Name"</th><th>"Email"</th><th>"Admin"</th><th>"Joined"</th></tr></thead>
                            <tbody>
                                {users.into_iter().map(|u| view! {
                                    <tr>
                                        <td>{u.username}</td>
                                        <td>{format!("{} {}", u.first_name, u.last_name)}</td>
                                        <td>{u.email}</td>
                                        <td data-label="Admin">{u.is_superuser.then_some("yes")}</td>
                                        <td data-label="Joined"><When at=u.date_joined /></td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <ErrorView error=e /> }.into_any(),
                }
            })}
        </Transition>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                // Only site admins add users: for anyone else the form could only fail.
                if matches!(users.await, Err(crate::error::AppError::Forbidden(_))) {
                    return ().into_any();
                }
                view! {
        <section class="card">
            <h2>"Add a user"</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    if options.await.is_ok_and(|o| !o.local_accounts) {
                        return view! {
                            <p class="muted">"People sign in here through the identity providers: they appear in this list after their first login."</p>
                        }.into_any();
                    }
                    view! {
                        <PostForm action=add>
                            <div class="row">
                                <Field label="Username" name="username" check=checks::username />
                                <Field label="Email (optional)" name="email" kind="email" />
                                <Field label="Password (8 characters or more)" name="password" kind="password" autocomplete="new-password" check=checks::new_password />
                            </div>
                            <label class="field check"><input type="checkbox" name="superuser" value="on" /><span>"Site admin"</span></label>
                            <button type="submit">"Add user"</button>
                        </PostForm>
                        <FormError action=add />
                        {move || add.answer::<String>().and_then(Result::ok).map(|name| view! {
                            <p class="ok" role="status">
                                "Added " {name} ". Give them a role in the Members section of a service or project, and tell them their password."
                            </p>
                        })}
                    }.into_any()
                })}
            </Suspense>
        </section>
                }.into_any()
            })}
        </Transition>
    }
}
