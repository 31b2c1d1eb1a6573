use super::SilenceButton;
use crate::api::inventory::{CreateProject, DeleteService, UpdateService, get_form_choices, get_service};
use crate::components::deferred::deferred_sections;
use crate::components::{
    DeleteZone, Field, FormError, Held, Loading, ObjectLinks, PageError, PostAction, PostForm, Saved, Sections,
    ShardSelect, checks, deferred, forget_answers, just_saved, land_on, successes,
};
use crate::error::AppError;
use crate::model::silences::owner_matchers;
use crate::model::{FormChoices, OwnerKind, Service, ServiceDetail, ServiceId};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// A service: its projects, and the form to add one.
#[component]
pub fn ServicePage() -> impl IntoView {
    let id = super::id_param::<ServiceId>("id");
    // Made before the view, which is drawn again after each change (see `Held`).
    let sections = Sections::new(OwnerKind::Service, {
        let id = id.clone();
        move || id().map(|id| id.0)
    });
    let create = PostAction::new::<CreateProject>();
    let create_done = successes(create);
    land_on(create, |p: &crate::model::Project| format!("/project/{}", p.id));
    let delete = PostAction::new::<DeleteService>();
    let update = PostAction::new::<UpdateService>();
    let update_done = successes(update);
    forget_answers!(id.clone(), [create, delete, update]);
    let detail = Resource::new(
        {
            let id = id.clone();
            move || (id(), create_done.get() + update_done.get())
        },
        |(id, _)| async move {
            match id {
                Some(id) => get_service(id).await,
                None => Err(AppError::NotFound("service".into())),
            }
        },
    );
    let choices = Held::new(|| Some(0), |_| get_form_choices());
    view! {
        <crate::components::SaidAfterPost />
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                let d = match detail.await {
                    Ok(d) => d,
                    Err(e) => return view! { <PageError error=e /> }.into_any(),
                };
                let can_delete = d.can_delete;
                let sid = d.service.id;
                let service = d.service.clone();
                let no_projects = d.projects.is_empty();
                // The question names what goes with the service: its projects cascade, with
                // their farms' hosts and their exporters.
                let delete_question = can_delete.then(|| delete_question(&d));
                view! {
                    <Title text={format!("Service {}", d.service.name)} />
                    <h1>"Service " {d.service.name.clone()}</h1>
                    <p class="muted">{d.service.description.clone()}</p>
                    <p class="muted">"Owner: " {d.service.owner.clone().unwrap_or_else(|| "none".into())}</p>
                    <ObjectLinks kind="service" id=sid.0 name=d.service.name.clone() />
                    // Silencing takes the Editor or Admin role: a Viewer's button led to a form it may not send.
                    {d.can_edit.then(|| view! { <SilenceButton matchers=owner_matchers("", &d.service.name, "") /> })}
                    <h2>"Projects"</h2>
                    {no_projects.then(|| if d.can_edit {
                        view! {
                            <p class="muted">
                                "No projects yet: " <a href="#register-project">"register one"</a>
                                ", on the shard Prometheus should scrape it from."
                            </p>
                        }.into_any()
                    } else {
                        view! { <p class="muted">"No projects yet."</p> }.into_any()
                    })}
                    <table class="list" class:hidden=no_projects>
                        <thead><tr><th>"Project"</th><th>"Shard"</th><th>"Farm"</th><th>"Hosts"</th><th>"Exporters"</th></tr></thead>
                        <tbody>
                            {d.projects.into_iter().map(|p| view! {
                                <tr>
                                    <td><A href=format!("/project/{}", p.id)>{p.name}</A></td>
                                    <td data-label="Shard">{p.shard_name}</td>
                                    <td data-label="Farm">{p.farm_name.unwrap_or_default()}</td>
                                    <td data-label="Hosts">{p.hosts}</td>
                                    <td data-label="Exporters">{p.exporters}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    {deferred::members("service", sid.0, sections.members)}
                    {deferred::notifiers("service", sid.0, sections.notifiers)}
                    {deferred::rules(OwnerKind::Service, sid.0, sections.rules)}
                    {edit_zone(service.clone(), delete_question, d.can_edit, create, update, delete, choices)}
                }.into_any()
            })}
        </Transition>
    }
}

deferred_sections! {
    /// Registering a project, editing and deleting the service: its code after the page's
    /// (components::deferred).
    section_service_edit => fn edit_zone(
        service: Service,
        // The delete question, for one who may delete it.
        delete_question: Option<String>,
        edit: bool,
        create: PostAction,
        update: PostAction,
        delete: PostAction,
        choices: Held<FormChoices>,
    ) {
        let sid = service.id;
        let can_delete = delete_question.is_some();
        let delete_question = Signal::stored(delete_question.unwrap_or_default());
        view! {
            <Show when=move || edit>
                <section class="card" id="register-project">
                    <h2>"Register a project"</h2>
                    <PostForm action=create>
                        <input type="hidden" name="service_id" value=sid.to_string() />
                        <Field label="Name" name="name" check=checks::name />
                        <Field label="Description" name="description" />
                        <ShardSelect choices submit="Register project" />
                    </PostForm>
                    <FormError action=create />
                </section>
                <EditService service=service.clone() update />
                <Show when=move || can_delete>
                    <DeleteZone action=delete id=sid.to_string() label="Delete this service and its projects" question=delete_question />
                </Show>
            </Show>
        }
        .into_any()
    }
}

#[component]
fn EditService(service: Service, update: PostAction) -> impl IntoView {
    view! {
        <details class="card" open=just_saved(update)>
            <summary>"Edit service"</summary>
            <PostForm action=update>
                <input type="hidden" name="id" value=service.id.to_string() />
                <Field label="Name" name="name" check=checks::name value=service.name />
                <Field label="Description" name="description" value=service.description />
                <button type="submit">"Save"</button>
            </PostForm>
            <FormError action=update />
            <Saved action=update />
        </details>
    }
}

/// The service's delete question, naming what goes with it: "Delete the service web with its 2
/// projects (frontend and api), their 12 hosts and 3 exporters, and their rules and notifiers?"
fn delete_question(d: &ServiceDetail) -> String {
    use crate::model::{counted, listed, some_names};
    let names: Vec<String> = d.projects.iter().map(|p| p.name.clone()).collect();
    let projects = match names.as_slice() {
        [] => return format!("Delete the service {} with its rules and notifiers?", d.service.name),
        [one] => format!("project {one}"),
        _ => format!("{} ({})", counted(names.len() as i64, "project"), some_names(&names, 3)),
    };
    let (hosts, exporters) = d.projects.iter().fold((0, 0), |(h, e), p| (h + p.hosts, e + p.exporters));
    let theirs: Vec<String> = [(hosts, "host"), (exporters, "exporter")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, w)| counted(n, w))
        .collect();
    let theirs = if theirs.is_empty() { String::new() } else { format!(", their {}", listed(&theirs)) };
    format!("Delete the service {} with its {projects}{theirs}, and their rules and notifiers?", d.service.name)
}
