//! One module per route.

mod alerts;
mod audit;
mod groups;
mod home;
mod host;
mod import;
mod login;
mod probes;
mod profile;
mod project;
mod rules;
mod search;
mod service;
mod shards;
mod silences;
mod site;
mod users;

pub use alerts::{AlertHistoryPage, AlertPage, AlertsPage};
pub use audit::AuditPage;
pub use groups::{GroupPage, GroupsPage};
pub use home::HomePage;
pub use host::HostPage;
pub use import::ImportPage;
pub use login::LoginPage;
pub use probes::ProbesPage;
pub use profile::ProfilePage;
pub use project::ProjectPage;
pub use rules::{RuleEditPage, RuleNewPage, RuleOverridePage, RulePage};
pub use search::SearchPage;
pub use service::ServicePage;
pub use shards::{ShardPage, ShardsPage};
pub use silences::{HeldAlertsPanel, SilenceButton, SilencesPage};
pub use site::SitePage;
pub use users::UsersPage;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// The page's query parameters: `query()("q")` is `?q=`'s value, decoded once (`+` is a space,
/// as forms send it), and tracked. Not leptos_router's `use_query_map`: its 0.8 map decodes every
/// value a second time (`?q=a%2526b` gave `a&b`, not `a%26b`), which changed what a search, a
/// filter or the login's `next` asked for.
fn query() -> impl Fn(&str) -> Option<String> + Copy + Send + Sync + 'static {
    // The route's own URL, as `use_query_map` reads it: while a navigation away is under way
    // the page keeps its query (the router's location already has the next one).
    // Read with `try_`: leptos_meta's title may still ask a page that is gone for its text (the
    // search page's title panicked after some navigations), which then has none.
    let url = leptos_router::hooks::use_url();
    move |name| {
        url.try_with(|u| {
            form_urlencoded::parse(u.search().as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
        })
        .flatten()
    }
}

/// A route parameter, e.g. the `:name` of `/host/:name`; read with `try_`, as [`query`] is.
fn param(name: &'static str) -> impl Fn() -> Option<String> + Copy + Send + Sync + 'static {
    let params = use_params_map();
    move || params.try_with(|p| p.get(name)).flatten()
}

/// A numeric route parameter, e.g. the `:id` of `/service/:id`.
fn id_param<T: From<i64>>(name: &'static str) -> impl Fn() -> Option<T> + Clone + Send + Sync + 'static {
    let param = param(name);
    move || param().and_then(|s| s.parse::<i64>().ok()).map(T::from)
}
