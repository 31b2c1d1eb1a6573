//! The top bar: where to go, search, who is logged in.

use crate::api::auth::{Logout, whoami};
use leptos::prelude::*;
use leptos_router::components::{A, Form};

#[component]
pub fn Nav() -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let user = Resource::new(move || logout.version().get(), |_| whoami());
    view! {
        <header class="nav">
            <A href="/" attr:class="brand">"Promgen"</A>
            <A href="/alert">"Alerts"</A>
            <A href="/silence">"Silences"</A>
            <A href="/shard">"Shards"</A>
            <A href="/site">"Site rules"</A>
            <A href="/audit">"Audit"</A>
            <A href="/import">"Import"</A>
            <A href="/group">"Groups"</A>
            <Form method="GET" action="/search" attr:class="search">
                <input type="search" name="q" placeholder="Search services, projects, hosts" aria-label="Search" />
            </Form>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(u)) => view! {
                            {u.is_superuser.then(|| view! { <A href="/user">"Users"</A> })}
                            <A href="/profile" attr:class="user">{u.username}</A>
                            <ActionForm action=logout attr:class="inline">
                                <button type="submit">"Log out"</button>
                            </ActionForm>
                        }.into_any(),
                        _ => view! { <A href="/login">"Log in"</A> }.into_any(),
                    }
                })}
            </Transition>
        </header>
    }
}
