use crate::api::inventory::search;
use crate::components::{ErrorView, Loading};
use crate::model::SearchHit;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// Services, projects, hosts, farms, URLs, rules and notifiers matching `?q=`.
#[component]
pub fn SearchPage() -> impl IntoView {
    let query = super::query();
    let q = move || query("q").unwrap_or_default();
    let hits = Resource::new(q, search);
    view! {
        <Title text=move || match q() { q if q.trim().is_empty() => "Search".to_string(), q => format!("Search: {q}") } />
        <h1>"Search: " {q}</h1>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match hits.await {
                    Err(e) => view! { <ErrorView error=e /> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted">"Nothing matches."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="hits">
                            {list.into_iter().map(|hit| match hit {
                                SearchHit::Service { id, name } => view! {
                                    <li><span class="chip">"service"</span> <A href=format!("/service/{id}")>{name}</A></li>
                                }.into_any(),
                                SearchHit::Project { id, name, service } => view! {
                                    <li><span class="chip">"project"</span> <A href=format!("/project/{id}")>{name}</A> <span class="muted">" in " {service}</span></li>
                                }.into_any(),
                                SearchHit::Host { name, farm } => view! {
                                    <li><span class="chip">"host"</span> <A href=format!("/host/{name}")>{name.clone()}</A> <span class="muted">" in farm " {farm}</span></li>
                                }.into_any(),
                                SearchHit::Farm { project, name, project_name } => view! {
                                    <li><span class="chip">"farm"</span> <A href=format!("/project/{project}")>{name}</A> <span class="muted">" of project " {project_name}</span></li>
                                }.into_any(),
                                SearchHit::Url { project, url, project_name } => view! {
                                    <li><span class="chip">"URL"</span> <A href=format!("/project/{project}#urls")>{url}</A> <span class="muted">" of project " {project_name}</span></li>
                                }.into_any(),
                                SearchHit::Rule { id, name, owner } => view! {
                                    <li><span class="chip">"rule"</span> <A href=format!("/rule/{id}")>{name}</A> <span class="muted">" of the " {owner}</span></li>
                                }.into_any(),
                                SearchHit::Notifier { href, kind, target, owner } => view! {
                                    <li><span class="chip">"notifier"</span> <a href=href>{format!("{kind} {target}")}</a> <span class="muted">" of " {owner}</span></li>
                                }.into_any(),
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
