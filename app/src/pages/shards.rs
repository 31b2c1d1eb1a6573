use crate::api::admin::{CreateProbe, CreateShard, list_shards};
use crate::components::{ErrorView, Field, FormError, Loading, checks};
use leptos::prelude::*;

/// Load against capacity, as Promgen's badges: fine, busy, high, over.
fn load_class(used: i64, capacity: i64) -> &'static str {
    if capacity <= 0 {
        return "load";
    }
    match used as f64 / capacity as f64 {
        r if r > 0.9 => "load danger",
        r if r > 0.7 => "load warning",
        r if r > 0.5 => "load info",
        _ => "load ok",
    }
}

/// Shards with their Prometheus servers and registered load; admins add shards and probes.
#[component]
pub fn ShardsPage() -> impl IntoView {
    let create = ServerAction::<CreateShard>::new();
    let probe = ServerAction::<CreateProbe>::new();
    let shards = Resource::new(move || create.version().get(), |_| list_shards());
    view! {
        <h1>"Shards"</h1>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match shards.await {
                    Err(e) => view! { <ErrorView error=e /> }.into_any(),
                    Ok(list) => view! {
                        <table class="list">
                            <thead><tr><th>"Shard"</th><th>"URL"</th><th>"Servers"</th><th>"Projects"</th><th>"Targets / capacity"</th><th>"State"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|s| view! {
                                    <tr>
                                        <td>{s.shard.name.clone()}</td>
                                        <td>{s.shard.url.clone()}</td>
                                        <td>{s.servers.iter().map(|p| format!("{}:{}", p.host, p.port)).collect::<Vec<_>>().join(", ")}</td>
                                        <td>{s.projects}</td>
                                        <td><span class=load_class(s.registered_targets, s.shard.targets)>
                                            {format!("{} / {}", s.registered_targets, s.shard.targets)}
                                        </span></td>
                                        <td>{if s.shard.enabled { "enabled" } else { "disabled" }}{if s.shard.proxy { ", proxied" } else { "" }}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
        <section class="card">
            <h2>"Add a shard"</h2>
            <ActionForm action=create>
                <div class="row">
                    <Field label="Name" name="name" check=checks::name />
                    <Field label="Prometheus URL" name="url" check=checks::http_url placeholder="http://prometheus:9090" />
                </div>
                <div class="row">
                    <Field label="Sample capacity" name="samples" value="5000000" />
                    <Field label="Target capacity" name="targets" value="10000" />
                    <label class="field check"><input type="checkbox" name="proxy" value="on" /><span>"Proxy queries"</span></label>
                </div>
                <button type="submit">"Add shard"</button>
            </ActionForm>
            <FormError value=create.value() />
        </section>
        <section class="card">
            <h2>"Add a blackbox probe"</h2>
            <ActionForm action=probe>
                <div class="row">
                    <Field label="Module" name="module" check=checks::job placeholder="http_2xx" />
                    <Field label="Description" name="description" />
                </div>
                <button type="submit">"Add probe"</button>
            </ActionForm>
            <FormError value=probe.value() />
            {move || probe.value().get().and_then(Result::ok).map(|p| view! { <p class="ok">"Added probe " {p.module}</p> })}
        </section>
    }
}
