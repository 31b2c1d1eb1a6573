//! Blackbox probes: the site's modules (blackbox_exporter's `modules:`) that projects' URLs are
//! checked with. Everyone reads the list; site admins add, edit and delete them.

use crate::api::admin::{CreateProbe, DeleteProbe, UpdateProbe, list_probes};
use crate::components::{
    ConfirmSubmit, ErrorView, Field, FormError, Loading, PostAction, PostForm, RowSaved, SiteAdminOnly, checks,
    just_saved_row, successes,
};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ProbesPage() -> impl IntoView {
    let create = PostAction::new::<CreateProbe>();
    let create_done = successes(create);
    let update = PostAction::new::<UpdateProbe>();
    let update_done = successes(update);
    let delete = PostAction::new::<DeleteProbe>();
    let delete_done = successes(delete);
    let probes = Resource::new(move || (create_done.get(), update_done.get(), delete_done.get()), |_| list_probes());
    view! {
        <Title text="Blackbox probes" />
        <h1>"Blackbox probes"</h1>
        <p class="muted">
            "A probe names a module of your blackbox_exporter; projects' URLs are checked with one. "
            "The URLs file (" <a href="/api/v1/urls" rel="external">"/api/v1/urls"</a> ") carries the module as a label."
        </p>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match probes.await {
                    Err(e) => view! { <ErrorView error=e /> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted">"No probes yet. Site admins add them here (http_2xx is blackbox_exporter's usual module)."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="list probes">
                            <thead><tr><th>"Module"</th><th>"Description"</th><th>"URLs"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|u| {
                                    let p = u.probe;
                                    let question = format!("Delete the probe {}?", p.module);
                                    view! {
                                        <tr>
                                            <td><code>{p.module.clone()}</code></td>
                                            <td>{p.description.clone()}</td>
                                            <td data-label="URLs">{u.urls}</td>
                                            <td>
                                                <SiteAdminOnly>
                                                <details class="edit-probe" open=just_saved_row(update, &p.id.to_string())>
                                                    <summary>"Edit"</summary>
                                                    <PostForm action=update clone:p>
                                                        <input type="hidden" name="id" value=p.id.to_string() />
                                                        <Field label="Module" name="module" check=checks::job value=p.module.clone() />
                                                        <Field label="Description" name="description" value=p.description.clone() />
                                                        <button type="submit">"Save"</button>
                                                    </PostForm>
                                                    <RowSaved action=update id=p.id.to_string() />
                                                </details>
                                                {if u.urls > 0 {
                                                    view! {
                                                        <button type="button" class="small danger" disabled=true
                                                            title=format!("Used by {}: delete or move them first", crate::model::counted(u.urls, "URL"))>
                                                            "Delete"
                                                        </button>
                                                        <span class="muted small-note">{format!(" used by {}", crate::model::counted(u.urls, "URL"))}</span>
                                                    }.into_any()
                                                } else {
                                                    view! {
                                                        <PostForm action=delete attr:class="inline" clone:p clone:question>
                                                            <input type="hidden" name="id" value=p.id.to_string() />
                                                            <ConfirmSubmit label="Delete" class="small danger" question=question.clone() />
                                                        </PostForm>
                                                    }.into_any()
                                                }}
                                                </SiteAdminOnly>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
        <FormError action=update />
        <FormError action=delete />
        <SiteAdminOnly>
        <section class="card">
            <h2>"Add a probe"</h2>
            <PostForm action=create>
                <div class="row">
                    <Field label="Module" name="module" check=checks::job placeholder="http_2xx" />
                    <Field label="Description" name="description" />
                </div>
                <button type="submit">"Add probe"</button>
            </PostForm>
            <FormError action=create />
        </section>
        </SiteAdminOnly>
    }
}
