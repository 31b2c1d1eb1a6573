//! The top bar: where to go, search, who is logged in. On a phone the links fold into a
//! "Menu" (a `<details>`, so it opens without the wasm too).

use super::Session;
use crate::api::auth::Logout;
use leptos::prelude::*;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_location;

/// `/login?next=<this page>`: the login page brings the user back here.
pub fn login_href(path: &str, search: &str) -> String {
    // Home is where the login page goes anyway.
    if path == "/login" || (path == "/" && search.is_empty()) {
        return "/login".into();
    }
    let here = if search.is_empty() { path.to_string() } else { format!("{path}?{search}") };
    format!("/login?next={}", super::query_value(&here))
}

#[component]
pub fn Nav() -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let user = Session::user();
    Effect::new(move || {
        if matches!(logout.value().get(), Some(Ok(_))) {
            Session::changed();
        }
    });
    let location = use_location();
    let login = move || login_href(&location.pathname.get(), &location.search.get());
    // The phone menu closes when a page is chosen, and on Escape (focus back on its button).
    let menu = NodeRef::<leptos::html::Details>::new();
    let summary = NodeRef::<leptos::html::Summary>::new();
    Effect::new(move || {
        location.pathname.track();
        if let Some(d) = menu.get_untracked() {
            let _ = d.remove_attribute("open");
        }
    });
    let escape = move |e: leptos::ev::KeyboardEvent| {
        if e.key() == "Escape"
            && let (Some(d), Some(s)) = (menu.get_untracked(), summary.get_untracked())
        {
            let _ = d.remove_attribute("open");
            let _ = s.focus();
        }
    };
    view! {
        <header class="nav">
            <A href="/" attr:class="brand">"Promgen"</A>
            <Form method="GET" action="/search" attr:class="search" attr:role="search">
                <input
                    type="search"
                    name="q"
                    placeholder="Search services, hosts, rules, URLs…"
                    aria-label="Search"
                />
            </Form>
            <details class="menu" node_ref=menu on:keydown=escape>
                <summary node_ref=summary>"Menu"</summary>
                <nav class="links" aria-label="Main">
                    <A href="/alert">"Alerts"</A>
                    <A href="/silence">"Silences"</A>
                    <A href="/shard">"Shards"</A>
                    <A href="/site">"Site rules"</A>
                    <A href="/audit">"Audit"</A>
                    <A href="/group">"Groups"</A>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            match user.await {
                                Ok(Some(u)) => view! {
                                    // What only a site admin may use.
                                    {u.is_superuser.then(|| view! { <A href="/import">"Import"</A> <A href="/user">"Users"</A> })}
                                    <A href="/profile" attr:class="user">{u.username}</A>
                                    <ActionForm action=logout attr:class="inline">
                                        <button type="submit">"Log out"</button>
                                    </ActionForm>
                                }.into_any(),
                                _ => view! { <a href=login>"Log in"</a> }.into_any(),
                            }
                        })}
                    </Transition>
                </nav>
            </details>
        </header>
    }
}

#[cfg(test)]
mod tests {
    use super::login_href;

    #[test]
    fn the_login_link_comes_back_here() {
        assert_eq!(login_href("/project/3", ""), "/login?next=%2Fproject%2F3");
        assert_eq!(login_href("/search", "q=a b&x=1"), "/login?next=%2Fsearch%3Fq%3Da+b%26x%3D1");
        assert_eq!(login_href("/login", "next=/x"), "/login");
        assert_eq!(login_href("/", ""), "/login");
    }
}
