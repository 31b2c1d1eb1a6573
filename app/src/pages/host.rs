use super::SilenceButton;
use crate::api::inventory::get_host;
use crate::components::{Loading, PageError};
use crate::model::silences::{Matcher, host_matcher};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// One host name across every farm that lists it.
#[component]
pub fn HostPage() -> impl IntoView {
    let name = super::param("name");
    let host = Resource::new(move || name().unwrap_or_default(), get_host);
    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match host.await {
                    Err(e) => view! { <PageError error=e /> }.into_any(),
                    Ok(h) => view! {
                        <Title text={format!("Host {}", h.name)} />
                        <h1>"Host " {h.name.clone()}</h1>
                        // Everywhere at once by `instance` alone is a site admin's; in one
                        // project, its Editors' (what making either silence needs).
                        {h.may_silence_everywhere.then(|| view! {
                            <p><SilenceButton matchers=vec![host_matcher(&h.name)] /> " every alert of this host, in every project"</p>
                        })}
                        <table class="list">
                            <thead><tr><th>"Service"</th><th>"Project"</th><th>"Farm"</th><th>"Scraped by"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                            <tbody>
                                {h.placements.into_iter().map(|p| {
                                    let mute = p.may_silence.then(|| vec![Matcher::equal("project", &p.project_name), host_matcher(&h.name)]);
                                    view! {
                                        <tr>
                                            <td><A href=format!("/service/{}", p.service_id)>{p.service_name}</A></td>
                                            <td><A href=format!("/project/{}", p.project_id)>{p.project_name}</A></td>
                                            <td>{p.farm.name} " (" {p.farm.source} ")"</td>
                                            <td>{p.exporters.iter().map(|e| format!("{}:{}{}", e.job, e.port, if e.enabled { "" } else { " (disabled)" })).collect::<Vec<_>>().join(", ")}</td>
                                            <td>{mute.map(|matchers| view! { <SilenceButton matchers /> })}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
