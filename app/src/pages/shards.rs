use crate::api::admin::{
    AddServer, CreateShard, DeleteShard, ForgetAgent, RemoveServer, UpdateShard, list_shards, shard_agents,
    shard_servers,
};
use crate::components::deferred::deferred_sections;
use crate::components::{
    ConfirmSubmit, DeleteZone, ErrorView, Field, FormError, Loading, PageError, PostAction, PostForm, Saved,
    SiteAdminOnly, When, browser_fetch, checks, forget_answers, land_on, successes,
};
use crate::model::{ServerState, Shard, ShardId, ShardSummary};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

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

/// Shards with their Prometheus servers and registered load; admins add shards.
#[component]
pub fn ShardsPage() -> impl IntoView {
    let create = PostAction::new::<CreateShard>();
    let create_done = successes(create);
    let shards = Resource::new(move || create_done.get(), |_| list_shards());
    land_on(create, |s: &crate::model::Shard| format!("/shard/{}", s.id));
    view! {
        <crate::components::SaidAfterPost />
        <Title text="Shards" />
        <h1>"Shards"</h1>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match shards.await {
                    Err(e) => view! { <ErrorView error=e /> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted">"No shards yet. A shard is a group of identical Prometheus servers; site admins add them here."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="list">
                            <thead><tr><th>"Shard"</th><th>"URL"</th><th>"Servers"</th><th>"Projects"</th><th>"Targets / capacity"</th><th>"State"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|s| view! {
                                    <tr>
                                        <td><A href=format!("/shard/{}", s.shard.id)>{s.shard.name.clone()}</A></td>
                                        <td>{s.shard.url.clone()}</td>
                                        <td data-label="Servers">{if s.servers.is_empty() { "none".to_string() } else { s.servers.iter().map(|p| format!("{}:{}", p.host, p.port)).collect::<Vec<_>>().join(", ") }}</td>
                                        <td data-label="Projects">{s.projects}</td>
                                        <td data-label="Targets"><span class=load_class(s.registered_targets, s.shard.targets)>
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
        </Transition>
        <SiteAdminOnly>
        <section class="card">
            <h2>"Add a shard"</h2>
            <PostForm action=create>
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
            </PostForm>
            <FormError action=create />
        </section>
        </SiteAdminOnly>
        <p><A href="/probe">"Blackbox probes"</A> " (the modules projects' URLs are checked with) have a page of their own."</p>
    }
}

/// One shard: its settings (site admins change them), its Prometheus servers with what each
/// scrapes now, asked live (one that does not answer says why), and deleting it.
#[component]
pub fn ShardPage() -> impl IntoView {
    let id = super::id_param::<ShardId>("id");
    let update = PostAction::new::<UpdateShard>();
    let update_done = successes(update);
    let add = PostAction::new::<AddServer>();
    let add_done = successes(add);
    let remove = PostAction::new::<RemoveServer>();
    let remove_done = successes(remove);
    let delete = PostAction::new::<DeleteShard>();
    forget_answers!(id.clone(), [update, add, remove, delete]);
    let shards = Resource::new(move || (update_done.get(), add_done.get(), remove_done.get()), |_| list_shards());
    // Asked from the browser only: a Prometheus that hangs never holds the page back. Only for
    // a shard that exists, and again when its servers change (the list reloads then).
    let live_id = id.clone();
    let states = browser_fetch(move || {
        let shard = live_id();
        let known = shards.with(|l| matches!(l, Some(Ok(list)) if list.iter().any(|s| Some(s.shard.id) == shard)));
        async move {
            match shard {
                Some(s) if known => shard_servers(s).await.ok(),
                _ => None,
            }
        }
    });
    view! {
        <Transition fallback=Loading>
            {move || {
                let id = id();
                Suspend::new(async move {
                    let found = shards.await.map(|list| list.into_iter().find(|s| Some(s.shard.id) == id));
                    match found {
                        Err(e) => view! { <PageError error=e /> }.into_any(),
                        Ok(None) => view! { <PageError error=crate::error::AppError::NotFound("shard".into()) /> }.into_any(),
                        Ok(Some(s)) => view! { <ShardDetail s states update add remove delete /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn ShardDetail(
    s: ShardSummary,
    states: ReadSignal<Option<Option<Vec<ServerState>>>>,
    update: PostAction,
    add: PostAction,
    remove: PostAction,
    delete: PostAction,
) -> impl IntoView {
    let sid = s.shard.id;
    let live = move |server: crate::model::PrometheusId| {
        let state = states.get().flatten().and_then(|list| list.into_iter().find(|x| x.server.id == server));
        match state {
            None => view! { <td colspan="2" class="muted">"…"</td> }.into_any(),
            Some(ServerState { error: Some(e), .. }) => view! { <td colspan="2" class="error">{e}</td> }.into_any(),
            Some(x) => view! {
                <td>{x.targets.unwrap_or(0)}</td>
                <td>{x.samples.unwrap_or(0)}</td>
            }
            .into_any(),
        }
    };
    view! {
        <Title text={format!("Shard {}", s.shard.name)} />
        <h1>"Shard " {s.shard.name.clone()}</h1>
        <p class="muted">
            {s.shard.url.clone()} " · " {if s.shard.enabled { "enabled" } else { "disabled" }}
            {if s.shard.proxy { " · proxied" } else { "" }}
            {format!(" · {} · {} / {} targets registered", crate::model::counted(s.projects, "project"), s.registered_targets, s.shard.targets)}
        </p>

        <section class="card">
            <h2>"Prometheus servers"</h2>
            {if s.servers.is_empty() {
                view! { <p class="muted">"No server registered yet. Site admins add them here or with promgen register-server."</p> }.into_any()
            } else {
                view! {
                    <table class="list">
                        <thead><tr><th>"Server"</th><th>"Targets now"</th><th>"Samples now"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                        <tbody>
                            {s.servers.iter().cloned().map(|p| { let remove_question = format!("Remove the server {}:{} from this shard? Its agent stops getting files.", p.host, p.port); view! {
                                <tr>
                                    <td>{format!("{}:{}", p.host, p.port)}</td>
                                    {move || live(p.id)}
                                    <td>
                                        <SiteAdminOnly>
                                            <PostForm action=remove attr:class="inline" clone:remove_question>
                                                <input type="hidden" name="id" value=p.id.to_string() />
                                                <ConfirmSubmit label="Remove" class="small danger" question=remove_question.clone() />
                                            </PostForm>
                                        </SiteAdminOnly>
                                    </td>
                                </tr>
                            }}).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            <FormError action=remove />
            <SiteAdminOnly>
            <PostForm action=add>
                <input type="hidden" name="shard_id" value=sid.to_string() />
                <div class="row">
                    <Field label="Host" name="host" placeholder="prometheus-1.example.com" />
                    <Field label="Port" name="port" value="9090" />
                </div>
                <button type="submit">"Add server"</button>
            </PostForm>
            <FormError action=add />
            {move || add.answer::<String>().and_then(Result::ok).map(|m| view! { <p class="ok">{m}</p> })}
            </SiteAdminOnly>
        </section>
        <AgentStates shard=sid />
        {settings(s.shard.clone(), s.projects, named(&s), update, delete)}
    }
}

/// The projects on a shard by name, as many as its summary names, then how many more.
fn named(s: &ShardSummary) -> String {
    let more = s.projects - s.project_names.len() as i64;
    let names = s.project_names.join(", ");
    if more > 0 { format!("{names} and {more} more") } else { names }
}

deferred_sections! {
    /// A shard's settings and its delete button, for site admins (the delete button says
    /// which of its `projects` keep it, by `names`): their code after the page's
    /// (components::deferred).
    section_shard_settings => fn settings(shard: Shard, projects: i64, names: String, update: PostAction, delete: PostAction) {
        let sid = shard.id;
        let delete_question = format!("Delete the shard {} and its servers?", shard.name);
        view! {
            <SiteAdminOnly>
            <section class="card">
                <h2>"Settings"</h2>
                <PostForm action=update clone:shard>
                    <input type="hidden" name="id" value=sid.to_string() />
                    <div class="row">
                        <Field label="Name" name="name" check=checks::name value=shard.name.clone() />
                        <Field label="Prometheus URL" name="url" check=checks::http_url value=shard.url.clone() />
                    </div>
                    <div class="row">
                        <Field label="Sample capacity" name="samples" value=shard.samples.to_string() />
                        <Field label="Target capacity" name="targets" value=shard.targets.to_string() />
                    </div>
                    <div class="row">
                        <label class="field check"><input type="checkbox" name="proxy" value="on" checked=shard.proxy /><span>"Proxy queries"</span></label>
                        <label class="field check"><input type="checkbox" name="enabled" value="on" checked=shard.enabled /><span>"Enabled"</span></label>
                    </div>
                    <button type="submit">"Save"</button>
                </PostForm>
                <FormError action=update />
                <Saved action=update />
            </section>
            {if projects > 0 {
                // It could only be refused: the reason instead of the question.
                view! {
                    <div class="danger-zone">
                        <button type="button" class="danger" disabled aria-describedby="shard-delete-why">"Delete this shard"</button>
                        <p id="shard-delete-why" class="muted">
                            {format!("Move its {} to another shard first, in each project's settings: {names}.", crate::model::counted(projects, "project"))}
                        </p>
                    </div>
                }.into_any()
            } else {
                view! { <DeleteZone action=delete id=sid.to_string() label="Delete this shard" question=delete_question.clone() /> }.into_any()
            }}
            </SiteAdminOnly>
        }
        .into_any()
    }
}

/// The push agents of a shard (`promgen agent`) and whether each has applied the last change.
#[component]
fn AgentStates(shard: ShardId) -> impl IntoView {
    let forget = PostAction::new::<ForgetAgent>();
    let forget_done = successes(forget);
    let agents = browser_fetch(move || {
        forget_done.get();
        shard_agents(shard)
    });
    view! {
        <section class="card">
            <h2>"Agents"</h2>
            {move || match agents.get() {
                None => view! { <p class="muted">"…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorView error=e /> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    <p class="muted">"No agent reports here. Run promgen agent beside each Prometheus server to have its files kept and reloaded (see the README)."</p>
                }.into_any(),
                Some(Ok(list)) => view! {
                    <table class="list">
                        <thead><tr><th>"Server"</th><th>"State"</th><th>"Last sync"</th><th>"Configuration"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|a| {
                                let class = if a.state == "in sync" { "state ok" } else { "state error" };
                                let forget_question = format!("Forget the agent {}? It shows again when it next reports.", a.name);
                                let name = a.name.clone();
                                view! {
                                    <tr>
                                        <td>{a.name.clone()}</td>
                                        <td class=class>{a.state}</td>
                                        <td data-label="Last sync"><When at=a.synced_at /></td>
                                        <td><code>{a.config_hash}</code></td>
                                        <td>
                                            <SiteAdminOnly>
                                                <PostForm action=forget attr:class="inline" clone:name clone:forget_question>
                                                    <input type="hidden" name="shard_id" value=shard.to_string() />
                                                    <input type="hidden" name="name" value=name.clone() />
                                                    <ConfirmSubmit label="Forget" class="small" question=forget_question.clone() />
                                                </PostForm>
                                            </SiteAdminOnly>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
            <FormError action=forget />
        </section>
    }
}
