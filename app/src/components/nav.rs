//! The top bar: where to go, search, who is logged in. On a phone the links fold into a
//! "Menu" (a `<details>`, so it opens without the wasm too).

use super::Session;
use crate::api::auth::Logout;
use crate::components::{PostAction, PostForm};
use leptos::prelude::*;
use leptos_router::components::A;
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
    let logout = PostAction::new::<Logout>();
    let user = Session::user();
    Effect::new(move || {
        if matches!(logout.value().get(), Some(Ok(_))) {
            Session::changed();
        }
    });
    let location = use_location();
    let login = move || login_href(&location.pathname.get(), &location.search.get());
    // The phone menu closes when a page is chosen (also the one shown), on a click outside it
    // and on Escape (focus back on its button when it was in the menu).
    let menu = NodeRef::<leptos::html::Details>::new();
    let summary = NodeRef::<leptos::html::Summary>::new();
    Effect::new(move || {
        location.pathname.track();
        if let Some(d) = menu.get_untracked() {
            let _ = d.remove_attribute("open");
        }
    });
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    Effect::new(move || {
        use wasm_bindgen::JsCast;
        let close = move |focus_button: bool| {
            if let Some(d) = menu.get_untracked()
                && d.has_attribute("open")
            {
                let _ = d.remove_attribute("open");
                if let (true, Some(s)) = (focus_button, summary.get_untracked()) {
                    let _ = s.focus();
                }
            }
        };
        let within = move |node: Option<web_sys::Node>| menu.get_untracked().is_some_and(|d| d.contains(node.as_ref()));
        let clicks = window_event_listener(leptos::ev::click, move |e| {
            let target = e.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok());
            let on_link = target.as_ref().and_then(|t| t.closest("a").ok().flatten()).is_some();
            if on_link || !within(target.map(Into::into)) {
                close(false);
            }
        });
        let keys = window_event_listener(leptos::ev::keydown, move |e| {
            if e.key() == "Escape" {
                let focused = document().active_element().map(Into::into);
                close(within(focused));
            }
        });
        on_cleanup(move || {
            clicks.remove();
            keys.remove();
        });
    });
    view! {
        <header class="nav">
            // External to the router: the browser's own jump moves the keyboard's focus there
            // (the router's navigation left it on the link).
            <a class="skip" href="#main" rel="external">"Skip to content"</a>
            <A href="/" attr:class="brand">"Promgen"</A>
            <form method="GET" action="/search" class="search" role="search" on:submit=super::get_within_page("/search")>
                <input
                    type="search"
                    name="q"
                    placeholder="Search services, hosts, rules, URLs…"
                    aria-label="Search"
                    maxlength=crate::model::validate::QUERY_MAX_CHARS
                />
            </form>
            <details class="menu" node_ref=menu>
                <summary node_ref=summary>"Menu"</summary>
                <nav class="links" aria-label="Main">
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            match user.await {
                                // A visitor is shown the way in only: every other page asks
                                // for a login first.
                                Ok(Some(u)) => view! {
                                    <A href="/alert">"Alerts"</A>
                                    <A href="/silence">"Silences"</A>
                                    <A href="/shard">"Shards"</A>
                                    <A href="/site">"Site"</A>
                                    <A href="/audit">"Audit"</A>
                                    <A href="/group">"Groups"</A>
                                    // What only a site admin may use.
                                    {u.is_superuser.then(|| view! { <A href="/import">"Import"</A> <A href="/user">"Users"</A> })}
                                    <A href="/profile" attr:class="user">{u.username}</A>
                                    <PostForm action=logout attr:class="inline">
                                        <button type="submit">"Log out"</button>
                                    </PostForm>
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
