//! The page shell and the routes.

use crate::components::{Nav, SessionChanges, provide_clock};
use crate::pages::*;
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

/// Data pages render whole on the server (`SsrMode::Async`), so their HTTP status is right: a
/// redirect to the login page is a real 302, a missing service a real 404.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    SessionChanges::provide();
    provide_clock();
    view! {
        <Title text="Promgen" />
        <Router>
            <Nav />
            <main>
                <Routes fallback=|| view! { <p class="error">"No such page."</p> }>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/service/:id") view=ServicePage ssr=SsrMode::Async />
                    <Route path=path!("/project/:id") view=ProjectPage ssr=SsrMode::Async />
                    <Route path=path!("/shard") view=ShardsPage ssr=SsrMode::Async />
                    <Route path=path!("/shard/:id") view=ShardPage ssr=SsrMode::Async />
                    <Route path=path!("/probe") view=ProbesPage ssr=SsrMode::Async />
                    <Route path=path!("/host/:name") view=HostPage ssr=SsrMode::Async />
                    <Route path=path!("/search") view=SearchPage ssr=SsrMode::Async />
                    <Route path=path!("/audit") view=AuditPage ssr=SsrMode::Async />
                    <Route path=path!("/import") view=ImportPage ssr=SsrMode::Async />
                    <Route path=path!("/site") view=SitePage ssr=SsrMode::Async />
                    <Route path=path!("/alert") view=AlertsPage ssr=SsrMode::Async />
                    <Route path=path!("/silence") view=SilencesPage ssr=SsrMode::Async />
                    <Route path=path!("/alert/history") view=AlertHistoryPage ssr=SsrMode::Async />
                    <Route path=path!("/alert/:id") view=AlertPage ssr=SsrMode::Async />
                    <Route path=path!("/profile") view=ProfilePage ssr=SsrMode::Async />
                    <Route path=path!("/group") view=GroupsPage ssr=SsrMode::Async />
                    <Route path=path!("/group/:id") view=GroupPage ssr=SsrMode::Async />
                    <Route path=path!("/user") view=UsersPage ssr=SsrMode::Async />
                    <Route path=path!("/rule/new") view=RuleNewPage ssr=SsrMode::Async />
                    <Route path=path!("/rule/:id") view=RulePage ssr=SsrMode::Async />
                    <Route path=path!("/rule/:id/edit") view=RuleEditPage ssr=SsrMode::Async />
                    <Route path=path!("/rule/:id/override") view=RuleOverridePage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}
