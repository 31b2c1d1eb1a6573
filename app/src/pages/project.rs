use super::SilenceButton;
use crate::api::inventory::*;
use crate::components::deferred::deferred_sections;
use crate::components::{
    ConfirmSubmit, DeleteZone, ErrorView, Field, FormError, Held, Loading, ObjectLinks, PageError, PostAction,
    PostForm, Saved, Sections, ShardSelect, TextArea, browser_fetch, checks, deferred, forget_answers, just_saved,
    successes,
};
use crate::error::AppError;
use crate::model::silences::owner_matchers;
use crate::model::*;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// A project: its farm and hosts, exporters (with enable/disable) and blackbox URLs.
#[component]
pub fn ProjectPage() -> impl IntoView {
    let id = super::id_param::<ProjectId>("id");
    // Made before the view, which is drawn again after each change (see `Held`).
    let sections = Sections::new(OwnerKind::Project, {
        let id = id.clone();
        move || id().map(|id| id.0)
    });
    let create_farm = PostAction::new::<CreateFarm>();
    let create_farm_done = successes(create_farm);
    let add_hosts = PostAction::new::<AddHosts>();
    let add_hosts_done = successes(add_hosts);
    // How many distinct hosts the list being added names (set by the form's section as it is
    // sent): with the answer (how many were new) it tells how many were there already. Here,
    // so that it outlives the redraw the answer brings.
    let hosts_named = RwSignal::new(0usize);
    let delete_host = PostAction::new::<DeleteHost>();
    let delete_host_done = successes(delete_host);
    let delete_farm = PostAction::new::<DeleteFarm>();
    let delete_farm_done = successes(delete_farm);
    let create_exporter = PostAction::new::<CreateExporter>();
    let create_exporter_done = successes(create_exporter);
    // The quick-add buttons have their own, so that their refusal is shown by them and does
    // not mark the exporter form's fields.
    let quick_add = PostAction::new::<CreateExporter>();
    let quick_add_done = successes(quick_add);
    let toggle = PostAction::new::<SetExporterEnabled>();
    let toggle_done = successes(toggle);
    let delete_exporter = PostAction::new::<DeleteExporter>();
    let delete_exporter_done = successes(delete_exporter);
    let create_url = PostAction::new::<CreateUrl>();
    let create_url_done = successes(create_url);
    let delete_url = PostAction::new::<DeleteUrl>();
    let delete_url_done = successes(delete_url);
    let delete_project = PostAction::new::<DeleteProject>();
    let update_project = PostAction::new::<UpdateProject>();
    let update_project_done = successes(update_project);
    let test_exporter = PostAction::new::<TestExporter>();
    forget_answers!(
        id.clone(),
        [
            create_farm,
            add_hosts,
            delete_host,
            delete_farm,
            create_exporter,
            quick_add,
            toggle,
            delete_exporter,
            create_url,
            delete_url,
            delete_project,
            update_project,
            test_exporter
        ]
    );
    // Both forms add an exporter: one's new answer replaces the other's.
    forget_answers!(move || create_exporter.version().get(), [quick_add]);
    forget_answers!(move || quick_add.version().get(), [create_exporter]);
    let changes = move || {
        create_farm_done.get()
            + add_hosts_done.get()
            + delete_host_done.get()
            + delete_farm_done.get()
            + create_exporter_done.get()
            + quick_add_done.get()
            + toggle_done.get()
            + delete_exporter_done.get()
            + create_url_done.get()
            + delete_url_done.get()
            + update_project_done.get()
    };
    let detail = Resource::new(
        {
            let id = id.clone();
            move || (id(), changes())
        },
        |(id, _)| async move {
            match id {
                Some(id) => get_project(id).await,
                None => Err(AppError::NotFound("project".into())),
            }
        },
    );
    let choices = Held::new(|| Some(0), |_| get_form_choices());
    // Asked of Prometheus from the browser only, so a slow shard never holds the page back;
    // once the project is shown with exporters (not on a refusal, a missing project or one with
    // nothing to scrape), and again after each change reloads it.
    let health_id = id.clone();
    let health = browser_fetch(move || {
        let (project, shown) = (health_id(), detail.with(|d| matches!(d, Some(Ok(p)) if !p.exporters.is_empty())));
        async move {
            match project {
                Some(p) if shown => exporters_up(p).await.ok(),
                _ => None,
            }
        }
    });

    view! {
        <crate::components::SaidAfterPost />
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                let d = match detail.await {
                    Ok(d) => d,
                    Err(e) => return view! { <PageError error=e /> }.into_any(),
                };
                let p = d.project.clone();
                let editable = d.project.clone();
                let pid = p.id;
                let have = StoredValue::new(d.exporters.iter().map(|e| (e.job.clone(), e.port, e.path.clone(), e.scheme)).collect::<Vec<_>>());
                let edit = d.can_edit;
                let delete = d.can_delete;
                let mute = owner_matchers("", &p.service_name, &p.name);
                view! {
                    <Title text={format!("Project {}", p.name)} />
                    <h1>"Project " {p.name.clone()}</h1>
                    <p class="muted">
                        "Service " <A href=format!("/service/{}", p.service_id)>{p.service_name.clone()}</A>
                        " · shard " <a href=format!("/shard/{}", p.shard_id)>{p.shard_name.clone()}</a>
                        " · owner " {p.owner.clone().unwrap_or_else(|| "none".into())}
                    </p>
                    {edit.then(|| view! { <SilenceButton matchers=mute /> })}
                    <p class="muted">{p.description.clone()}</p>
                    <ObjectLinks kind="project" id=pid.0 name=p.name.clone() />

                    {farm_card(d.farm.clone(), d.hosts.clone(), edit, pid, hosts_named, [create_farm, add_hosts, delete_host, delete_farm])}

                    <section class="card" id="exporters">
                        <h2>"Exporters"</h2>
                        {d.exporters.is_empty().then(|| view! {
                            <p class="muted">"No exporters yet: add one below (job and port), or a common one with its button."</p>
                        })}
                        <table class="list" class:hidden=d.exporters.is_empty()>
                            <thead><tr><th>"Job"</th><th>"Port"</th><th>"Path"</th><th>"Scheme"</th><th>"State"</th><th>"Up"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                            <tbody>
                                {d.exporters.iter().cloned().map(|e| { let target = if e.path.is_empty() { format!("{}:{}", e.job, e.port) } else { format!("{}:{}{}", e.job, e.port, e.path) }; let disable = Signal::stored(format!("Disable {target}? Prometheus stops scraping it.")); let delete = Signal::stored(format!("Delete the exporter {target}?")); view! {
                                    <tr class:disabled=!e.enabled>
                                        <td>{e.job.clone()}</td>
                                        <td data-label="Port">{e.port}</td>
                                        <td data-label="Path">{if e.path.is_empty() { "/metrics".to_string() } else { e.path.clone() }}</td>
                                        <td data-label="Scheme">{e.scheme.as_str()}</td>
                                        <td data-label="State">{if e.enabled { "enabled" } else { "disabled" }}</td>
                                        <td class="up" data-label="Up">{move || up_text(health.get(), e.id)}</td>
                                        <td>
                                            <Show when=move || edit>
                                                <PostForm action=test_exporter attr:class="inline">
                                                    <input type="hidden" name="id" value=e.id.to_string() />
                                                    <button type="submit" class="small">"Test"</button>
                                                </PostForm>
                                                <PostForm action=toggle attr:class="inline">
                                                    <input type="hidden" name="id" value=e.id.to_string() />
                                                    <input type="hidden" name="enabled" value=(!e.enabled).to_string() />
                                                    {if e.enabled {
                                                        view! { <ConfirmSubmit label="Disable" class="small" question=disable /> }.into_any()
                                                    } else {
                                                        view! { <button type="submit" class="small">"Enable"</button> }.into_any()
                                                    }}
                                                </PostForm>
                                                <PostForm action=delete_exporter attr:class="inline">
                                                    <input type="hidden" name="id" value=e.id.to_string() />
                                                    <ConfirmSubmit label="Delete" class="small danger" question=delete />
                                                </PostForm>
                                            </Show>
                                        </td>
                                    </tr>
                                }}).collect_view()}
                            </tbody>
                        </table>
                        // Why the Up column has no answer (no Prometheus of the shard answered).
                        {move || health.get().flatten().filter(|h| !h.warnings.is_empty()).map(|h| view! {
                            <p class="muted" role="status">{crate::model::sentence(&h.warnings.join("; "))}</p>
                        })}
                        {scrape_results(test_exporter)}
                        {add_exporter(edit, pid, have, create_exporter, quick_add, choices)}
                        <div><FormError action=toggle /><FormError action=delete_exporter /></div>
                    </section>

                    {urls(d.urls.clone(), edit, pid, create_url, delete_url, choices)}

                    {deferred::members("project", pid.0, sections.members)}
                    {deferred::notifiers("project", pid.0, sections.notifiers)}
                    {deferred::rules(OwnerKind::Project, pid.0, sections.rules)}

                    {edit_zone(editable.clone(), delete.then(|| delete_question(&d)), edit, update_project, delete_project, choices)}
                }.into_any()
            })}
        </Transition>
    }
}

deferred_sections! {
    /// The project's farm and its hosts, with the forms that make it, add and remove hosts and
    /// unlink it (for an editor); its code after the page's. `actions`: create farm, add hosts,
    /// delete host, delete farm.
    section_project_farm => fn farm_card(
        farm: Option<Farm>,
        hosts: Vec<Host>,
        edit: bool,
        pid: ProjectId,
        hosts_named: RwSignal<usize>,
        actions: [PostAction; 4],
    ) {
        let [create_farm, add_hosts, delete_host, delete_farm] = actions;
        // `input` is there only while the list is sent.
        Effect::new(move || {
            if let Some(sent) = add_hosts.input().get() {
                hosts_named.set(
                    crate::model::validate::host_list("hosts", &sent.field("hosts").unwrap_or_default())
                        .map_or(0, |h| h.len()),
                );
            }
        });
        view! {
            <section class="card" id="farm">
                {match farm {
                    None => view! {
                        <h2>"Farm"</h2>
                        <p class="muted">"No farm yet: Prometheus scrapes nothing for this project until it has one."</p>
                        <Show when=move || edit>
                            <PostForm action=create_farm>
                                <input type="hidden" name="project_id" value=pid.to_string() />
                                <Field label="Farm name" name="name" check=checks::name />
                                <TextArea label="Hosts (one per line, or separated by commas or spaces)" name="hosts" check=checks::optional_hosts />
                                <button type="submit">"Create farm"</button>
                            </PostForm>
                            <FormError action=create_farm />
                        </Show>
                    }.into_any(),
                    Some(farm) => {
                        let fid = farm.id;
                        let local = farm.is_local();
                        // A farm is its project's alone: unlinking it deletes it (as the audit log says).
                        let unlink = Signal::stored(format!(
                            "Unlink and delete the farm {} with its {}? Prometheus stops scraping them.",
                            farm.name,
                            crate::model::counted(hosts.len() as i64, "host")
                        ));
                        view! {
                            <h2>"Farm " {farm.name.clone()} <small class="muted">" (" {farm.source.clone()} ")"</small></h2>
                            <ul class="hosts">
                                {hosts.into_iter().map(|h| { let ask = Signal::stored(format!("Remove {} from this farm?", h.name)); view! {
                                    <li>
                                        <A href=format!("/host/{}", h.name)>{h.name.clone()}</A>
                                        <Show when=move || edit && local>
                                            <PostForm action=delete_host attr:class="inline">
                                                <input type="hidden" name="id" value=h.id.to_string() />
                                                <ConfirmSubmit label="Remove" class="small" question=ask />
                                            </PostForm>
                                        </Show>
                                    </li>
                                }}).collect_view()}
                            </ul>
                            <Show when=move || edit && local>
                                <PostForm action=add_hosts>
                                    <input type="hidden" name="farm_id" value=fid.to_string() />
                                    <TextArea label="Add hosts (paste a list)" name="hosts" check=checks::hosts />
                                    <button type="submit">"Add hosts"</button>
                                </PostForm>
                                <FormError action=add_hosts />
                                {move || add_hosts.answer::<u64>().and_then(Result::ok).map(|n| view! { <p class="ok" role="status">{added_hosts(n, hosts_named.get_untracked())}</p> })}
                            </Show>
                            <Show when=move || edit>
                                <PostForm action=delete_farm attr:class="inline">
                                    <input type="hidden" name="id" value=fid.to_string() />
                                    <ConfirmSubmit label="Unlink farm" class="danger small" question=unlink />
                                </PostForm>
                            </Show>
                        }.into_any()
                    }
                }}
                // Row actions: their own box, so no form's field is marked for them.
                <div><FormError action=delete_host /><FormError action=delete_farm /></div>
            </section>
        }
        .into_any()
    }
    /// What an exporter's test scraped, once asked; its code after the page's.
    section_project_scrape_results => fn scrape_results(test_exporter: PostAction) {
        view! {
            {move || test_exporter.answer::<ExporterTest>().map(|r| match r {
                Ok(t) => view! { <ScrapeResults test=t /> }.into_any(),
                Err(e) => view! { <ErrorView error=e /> }.into_any(),
            })}
        }
        .into_any()
    }
    /// The forms that add an exporter (for an editor): job, port, path and scheme, or a common
    /// one with its button (`have`: the project's, which cannot be added again); their code
    /// after the page's.
    section_project_add_exporter => fn add_exporter(
        edit: bool,
        pid: ProjectId,
        have: StoredValue<Vec<(String, i64, String, Scheme)>>,
        create_exporter: PostAction,
        quick_add: PostAction,
        choices: Held<FormChoices>,
    ) {
        view! {
            <Show when=move || edit>
                <PostForm action=create_exporter>
                    <input type="hidden" name="project_id" value=pid.to_string() />
                    <div class="row">
                        <Field label="Job" name="job" check=checks::job placeholder="e.g. node" />
                        <Field label="Port" name="port" check=checks::port placeholder="e.g. 9100" />
                        <Field label="Path" name="path" check=checks::metrics_path placeholder="empty: /metrics" />
                        <label class="field">
                            <span>"Scheme"</span>
                            <select name="scheme">
                                <option value="http">"http"</option>
                                <option value="https">"https"</option>
                            </select>
                        </label>
                    </div>
                    <button type="submit">"Add exporter"</button>
                </PostForm>
                <FormError action=create_exporter />
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        choices.read().await.ok().map(|c| view! {
                            <div class="quick-add">"Quick add: "
                                {c.default_exporters.into_iter().map(|x| {
                                    // One the project has cannot be added again: disabled, saying why in
                                    // its words too (a title alone is for a mouse).
                                    let there = have.with_value(|h| h.iter().any(|(job, port, path, scheme)| *job == x.job && *port == x.port && *path == x.path && *scheme == x.scheme));
                                    let why = there.then(|| format!("{}:{} is in this project already", x.job, x.port));
                                    view! {
                                    <PostForm action=quick_add attr:class="inline">
                                        <input type="hidden" name="project_id" value=pid.to_string() />
                                        <input type="hidden" name="job" value=x.job.clone() />
                                        <input type="hidden" name="port" value=x.port.to_string() />
                                        <input type="hidden" name="path" value=x.path.clone() />
                                        <input type="hidden" name="scheme" value=x.scheme.as_str() />
                                        <button type="submit" class="small" disabled=there title=why>{format!("{}:{}", x.job, x.port)}{there.then_some(" (added)")}</button>
                                    </PostForm>
                                }}).collect_view()}
                            </div>
                            <FormError action=quick_add />
                        })
                    })}
                </Suspense>
            </Show>
        }
        .into_any()
    }
    /// The project's blackbox URLs, its code after the page's (components::deferred).
    section_project_urls => fn urls(
        urls: Vec<Url>,
        edit: bool,
        pid: ProjectId,
        create_url: PostAction,
        delete_url: PostAction,
        choices: Held<FormChoices>,
    ) {
        view! {
            <section class="card" id="urls">
                <h2>"URLs (blackbox)"</h2>
                <ul>
                    {urls.into_iter().map(|u| { let ask = Signal::stored(format!("Delete the URL {}?", u.url)); view! {
                        <li>
                            {u.url.clone()} " " <span class="chip">{u.probe_module.clone()}</span>
                            <Show when=move || edit>
                                <PostForm action=delete_url attr:class="inline">
                                    <input type="hidden" name="id" value=u.id.to_string() />
                                    <ConfirmSubmit label="Delete" class="small danger" question=ask />
                                </PostForm>
                            </Show>
                        </li>
                    }}).collect_view()}
                </ul>
                <Show when=move || edit>
                    <PostForm action=create_url>
                        <input type="hidden" name="project_id" value=pid.to_string() />
                        <div class="row">
                            <Field label="URL" name="url" check=checks::http_url placeholder="e.g. https://example.com/health" />
                            // Suspense outside the <select>: its markers may not live inside one.
                            <Suspense fallback=|| ()>
                                {move || Suspend::new(async move {
                                    let probes = choices.read().await.map(|c| c.probes).unwrap_or_default();
                                    view! {
                                        <label class="field">
                                            <span>"Probe"</span>
                                            <select name="probe_id" required>
                                                {probes.is_empty().then(|| view! { <option value="">"No probe yet"</option> })}
                                                {probes.iter().cloned().map(|p| view! {
                                                    <option value=p.id.to_string()>{p.module}</option>
                                                }).collect_view()}
                                            </select>
                                        </label>
                                        {probes.is_empty().then(|| view! {
                                            <p class="warning">"URLs are checked with a blackbox probe: " <a href="/probe">"add one"</a> " first."</p>
                                        })}
                                    }
                                })}
                            </Suspense>
                        </div>
                        <button type="submit">"Add URL"</button>
                    </PostForm>
                    <FormError action=create_url />
                </Show>
                <div><FormError action=delete_url /></div>
            </section>
        }
        .into_any()
    }
    /// Editing and deleting the project, its code after the page's.
    section_project_edit => fn edit_zone(
        editable: Project,
        // The delete question, for one who may delete it.
        delete_question: Option<String>,
        edit: bool,
        update_project: PostAction,
        delete_project: PostAction,
        choices: Held<FormChoices>,
    ) {
        let pid = editable.id;
        let delete = delete_question.is_some();
        let delete_question = Signal::stored(delete_question.unwrap_or_default());
        view! {
            <Show when=move || edit>
                <EditProject project=editable.clone() update=update_project choices />
                <Show when=move || delete>
                    <DeleteZone action=delete_project id=pid.to_string() label="Delete this project" question=delete_question />
                </Show>
            </Show>
        }
        .into_any()
    }
}

#[component]
fn EditProject(project: Project, update: PostAction, choices: Held<FormChoices>) -> impl IntoView {
    let current = project.shard_id;
    view! {
        <details class="card" open=just_saved(update)>
            <summary>"Edit project"</summary>
            <PostForm action=update>
                <input type="hidden" name="id" value=project.id.to_string() />
                <Field label="Name" name="name" check=checks::name value=project.name />
                <Field label="Description" name="description" value=project.description />
                <ShardSelect choices selected=current />
                <button type="submit">"Save"</button>
            </PostForm>
            <FormError action=update />
            <Saved action=update />
        </details>
    }
}

/// What adding a pasted host list did: `added` new hosts of the `named` distinct ones (0 when
/// not known, as on a page that posted without the wasm); the others were in the farm already.
fn added_hosts(added: u64, named: usize) -> String {
    let there = (named as u64).saturating_sub(added);
    match (added, there) {
        (0, _) => "No host added: every one is in this farm already.".to_string(),
        (n, 0) => format!("Added {}.", crate::model::counted(n as i64, "host")),
        (n, 1) => format!("Added {}; 1 other was in this farm already.", crate::model::counted(n as i64, "host")),
        (n, m) => format!("Added {}; {m} others were in this farm already.", crate::model::counted(n as i64, "host")),
    }
}

/// An exporter's live state: "3/4 up"; "checking…" until the server answered (`health` is
/// `None`); "no answer" when no Prometheus answered (why is said under the table) or the
/// request failed (`Some(None)`).
fn up_text(health: Option<Option<ProjectHealth>>, exporter: ExporterId) -> String {
    match health {
        None => "checking…".to_string(),
        Some(None) => "no answer".to_string(),
        Some(Some(h)) if !h.answered => "no answer".to_string(),
        Some(Some(h)) => match h.exporters.iter().find(|x| x.exporter == exporter) {
            Some(x) if x.total > 0 => format!("{}/{} up", x.up, x.total),
            _ => "not scraped".to_string(),
        },
    }
}

/// What an exporter test scraped, host by host.
#[component]
fn ScrapeResults(test: ExporterTest) -> impl IntoView {
    view! {
        <div class="scrape-results" data-testid="scrape-results">
            {test.results.into_iter().map(|r| view! {
                <details open=r.error.is_some()>
                    <summary>
                        <code>{r.target.clone()}</code> " · "
                        {match (&r.error, r.status) {
                            (Some(e), _) => view! { <span class="error">{e.clone()}</span> }.into_any(),
                            (None, Some(s)) => view! { <span class="ok">{format!("{s} · {} samples", r.samples)}</span> }.into_any(),
                            (None, None) => ().into_any(),
                        }}
                    </summary>
                    <pre>{r.excerpt.join("\n")}</pre>
                </details>
            }).collect_view()}
            {(test.more_hosts > 0).then(|| view! { <p class="muted">{format!("{} not scraped", crate::model::counted(test.more_hosts as i64, "more host"))}</p> })}
        </div>
    }
}

/// The project's delete question, naming what goes with it: "Delete the project frontend with
/// its farm web (3 hosts), 2 exporters, rules and notifiers?" (a farm belongs to its project).
fn delete_question(d: &ProjectDetail) -> String {
    let mut parts = Vec::new();
    if let Some(farm) = &d.farm {
        parts.push(format!("farm {} ({})", farm.name, crate::model::counted(d.hosts.len() as i64, "host")));
    }
    for (n, noun) in [(d.exporters.len(), "exporter"), (d.urls.len(), "URL")] {
        if n > 0 {
            parts.push(crate::model::counted(n as i64, noun));
        }
    }
    parts.push("rules and notifiers".into());
    format!("Delete the project {} with its {}?", d.project.name, parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::added_hosts;

    #[test]
    fn an_added_list_counts_what_was_there() {
        assert_eq!(added_hosts(0, 3), "No host added: every one is in this farm already.");
        assert_eq!(added_hosts(1, 1), "Added 1 host.");
        assert_eq!(added_hosts(2, 0), "Added 2 hosts.");
        assert_eq!(added_hosts(2, 3), "Added 2 hosts; 1 other was in this farm already.");
        assert_eq!(added_hosts(1, 4), "Added 1 host; 3 others were in this farm already.");
    }
}
