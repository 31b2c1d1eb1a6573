//! The users of the site, for its admins: who they are, searchable.

use crate::api::members::list_users;
use crate::components::{ErrorView, Loading, When, get_within_page};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = super::query();
    let q = move || query("q").unwrap_or_default();
    let users = Resource::new(q, list_users);
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
                                        <td>{if u.is_superuser { "yes" } else { "" }}</td>
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
    }
}
