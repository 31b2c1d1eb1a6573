//! The page shell and the routes.

use crate::components::{Nav, Session, provide_clock};
use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::SsrMode;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// The stylesheet's path as the server serves it (content-hashed by `.ci/build-site`); the
/// server provides it to every page it renders.
#[derive(Clone, Debug)]
pub struct StylesheetHref(pub String);

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let css = use_context::<StylesheetHref>().map(|s| s.0).unwrap_or_else(|| "/pkg/promgen.css".into());
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" href=css />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Each page is a group of wasm chunks of its own, fetched when the page is first shown: the
/// first load carries the shell, the router and the page's group, and the PromQL engine comes
/// only with the pages that edit rules. A first page's chunks come in one file, its group's
/// pack, which the server names in a `Link` header (`crate::chunks`); a later page's in a pack
/// of the chunks the tab lacks (server/src/web/packs.rs). A group per page rather than per
/// part of the site: the splitter gives each set of split points that shares code a chunk of
/// its own, so a page may need 270 files, but they come in one pack, and a first page needs
/// none of its neighbours' code (release build, main module and pack, brotli: 14 of the 24
/// pages under 300 KB, against 3 with eight groups; the project page 455 KB, against 476 KB
/// for the inventory group).
/// `.ci/build-site` splits the wasm at these points (`wasm_split`, `.ci/wasm-split`).
/// Trunk's client-only bundle is not split, so under `csr` the routes are the plain components.
mod lazy {
    use crate::pages;
    #[cfg_attr(feature = "csr", allow(unused_imports))]
    use leptos::prelude::*;
    use leptos_router::ChooseView;

    macro_rules! page_groups {
        ($($group:ident / $preload:ident: [$($page:ident),* $(,)?];)*) => {
            /// Which page a route draws.
            #[cfg(not(feature = "csr"))]
            #[derive(Clone, Copy)]
            #[allow(clippy::enum_variant_names)]
            enum Page {
                $($($page,)*)*
            }

            #[cfg(not(feature = "csr"))]
            impl Page {
                /// The page's group of chunks, as the splitter names it.
                fn group(self) -> &'static str {
                    match self {
                        $($(Page::$page => stringify!($group),)*)*
                    }
                }
            }

            $(
                /// One group's pages: a split point, so their code is a chunk of its own
                /// (`wasm_split`, as Leptos' `#[lazy]` but `fallible`: a chunk that cannot be
                /// fetched is an `Err`, not a panic of the whole wasm).
                #[cfg(not(feature = "csr"))]
                #[leptos::wasm_split::wasm_split(
                    $group,
                    wasm_split_path = ::leptos::wasm_split,
                    fallible,
                    preload(#[doc(hidden)] $preload)
                )]
                fn $group(page: Page) -> Result<AnyView, crate::chunks::ChunkUnavailable> {
                    Ok(match page {
                        $(Page::$page => view! { <pages::$page /> }.into_any(),)*
                        #[allow(unreachable_patterns)]
                        _ => unreachable!("{} is not in this group", stringify!($group)),
                    })
                }
            )*

            /// A route's view: its page, its group's chunk loaded first. One type for every
            /// route rather than leptos_router's `Lazy<T>` per page: the router's code for a
            /// lazy route is then in the main module once, not 24 times.
            #[cfg(not(feature = "csr"))]
            #[derive(Clone, Copy)]
            pub struct PageView(Page);

            #[cfg(not(feature = "csr"))]
            impl ChooseView for PageView {
                async fn choose(self) -> AnyView {
                    let group = self.0.group();
                    crate::chunks::preload(group);
                    let page = match self.0 {
                        $($(Page::$page => $group(Page::$page).await,)*)*
                    };
                    let page = page.unwrap_or_else(|crate::chunks::ChunkUnavailable| crate::chunks::unavailable());
                    // `<html data-promgen-group>`: the chunk loader fetches the group's pack
                    // as soon as it is imported (crate::chunks).
                    view! {
                        <leptos_meta::Html attr:data-promgen-group=group />
                        {page}
                    }
                    .into_any()
                }

                async fn preload(&self) {
                    // Only the browser fetches chunks (links are preloaded on intent); a
                    // failure here is retried when the page is shown.
                    #[cfg(target_arch = "wasm32")]
                    {
                        // The router may preload a first page's group before its view.
                        crate::chunks::name_group(self.0.group());
                        match self.0 {
                            $($(Page::$page => { let _ = $preload().await; })*)*
                        }
                    }
                }
            }

            $($(
                pub struct $page;

                impl $page {
                    /// The route's view: its group's chunk loaded first, except in the
                    /// unsplit `csr` bundle.
                    pub fn route() -> impl ChooseView {
                        #[cfg(not(feature = "csr"))]
                        return PageView(Page::$page);
                        #[cfg(feature = "csr")]
                        return pages::$page;
                    }
                }
            )*)*
        };
    }

    page_groups! {
        home / __preload_home: [HomePage];
        search / __preload_search: [SearchPage];
        login / __preload_login: [LoginPage];
        service / __preload_service: [ServicePage];
        project / __preload_project: [ProjectPage];
        host / __preload_host: [HostPage];
        import / __preload_import: [ImportPage];
        shards / __preload_shards: [ShardsPage];
        shard / __preload_shard: [ShardPage];
        probes / __preload_probes: [ProbesPage];
        alerts / __preload_alerts: [AlertsPage];
        alert_history / __preload_alert_history: [AlertHistoryPage];
        alert / __preload_alert: [AlertPage];
        silences / __preload_silences: [SilencesPage];
        rule / __preload_rule: [RulePage];
        rule_edit / __preload_rule_edit: [RuleEditPage];
        rule_new / __preload_rule_new: [RuleNewPage];
        rule_override / __preload_rule_override: [RuleOverridePage];
        audit / __preload_audit: [AuditPage];
        site / __preload_site: [SitePage];
        profile / __preload_profile: [ProfilePage];
        groups / __preload_groups: [GroupsPage];
        group / __preload_group: [GroupPage];
        users / __preload_users: [UsersPage];
    }
}

/// A path no page has: 404 with a heading, as a missing object's page. Not [`crate::components::PageError`]:
/// this is in every page's wasm, which should not carry the error views for it.
#[component]
fn NoSuchPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <h1>"Not found"</h1>
        <p class="error" role="alert">"No page is at this address."</p>
    }
}

/// The document's title for a page's own (`<Title text=…>`): "Project web · Promgen". On the
/// server leptos_meta 0.8 writes it into `<title>` unescaped (a search for `</title><script>`
/// became markup), so there it is escaped; the browser sets `document.title`, which is text.
fn page_title(page: String) -> String {
    let title = if page.is_empty() { "Promgen".to_string() } else { format!("{page} · Promgen") };
    if cfg!(feature = "ssr") { crate::components::rcdata_text(&title) } else { title }
}

/// Data pages render whole on the server (`SsrMode::Async`), so their HTTP status is right: a
/// redirect to the login page is a real 302, a missing service a real 404.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    Session::provide();
    provide_clock();
    view! {
        <Title formatter=page_title />
        <Router>
            <Nav />
            // The skip link's target: focusable, so the next Tab goes on from there.
            <main id="main" tabindex="-1">
                <Routes fallback=NoSuchPage>
                    <Route path=path!("/") view=lazy::HomePage::route() ssr=SsrMode::Async />
                    <Route path=path!("/login") view=lazy::LoginPage::route() ssr=SsrMode::Async />
                    <Route path=path!("/service/:id") view=lazy::ServicePage::route() ssr=SsrMode::Async />
                    <Route path=path!("/project/:id") view=lazy::ProjectPage::route() ssr=SsrMode::Async />
                    <Route path=path!("/shard") view=lazy::ShardsPage::route() ssr=SsrMode::Async />
                    <Route path=path!("/shard/:id") view=lazy::ShardPage::route() ssr=SsrMode::Async />
                    <Route path=path!("/probe") view=lazy::ProbesPage::route() ssr=SsrMode::Async />
                    <Route path=path!("/host/:name") view=lazy::HostPage::route() ssr=SsrMode::Async />
                    <Route path=path!("/search") view=lazy::SearchPage::route() ssr=SsrMode::Async />
                    <Route path=path!("/audit") view=lazy::AuditPage::route() ssr=SsrMode::Async />
                    <Route path=path!("/import") view=lazy::ImportPage::route() ssr=SsrMode::Async />
                    <Route path=path!("/site") view=lazy::SitePage::route() ssr=SsrMode::Async />
                    <Route path=path!("/alert") view=lazy::AlertsPage::route() ssr=SsrMode::Async />
                    <Route path=path!("/silence") view=lazy::SilencesPage::route() ssr=SsrMode::Async />
                    <Route path=path!("/alert/history") view=lazy::AlertHistoryPage::route() ssr=SsrMode::Async />
                    <Route path=path!("/alert/:id") view=lazy::AlertPage::route() ssr=SsrMode::Async />
                    <Route path=path!("/profile") view=lazy::ProfilePage::route() ssr=SsrMode::Async />
                    <Route path=path!("/group") view=lazy::GroupsPage::route() ssr=SsrMode::Async />
                    <Route path=path!("/group/:id") view=lazy::GroupPage::route() ssr=SsrMode::Async />
                    <Route path=path!("/user") view=lazy::UsersPage::route() ssr=SsrMode::Async />
                    <Route path=path!("/rule/new") view=lazy::RuleNewPage::route() ssr=SsrMode::Async />
                    <Route path=path!("/rule/:id") view=lazy::RulePage::route() ssr=SsrMode::Async />
                    <Route path=path!("/rule/:id/edit") view=lazy::RuleEditPage::route() ssr=SsrMode::Async />
                    <Route path=path!("/rule/:id/override") view=lazy::RuleOverridePage::route() ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}
