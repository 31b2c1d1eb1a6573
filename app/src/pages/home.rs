use crate::api::inventory::{CreateService, list_services};
use crate::components::{
    AddressWarning, ErrorView, Field, FormError, Loading, PostAction, PostForm, checks, land_on, successes,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// Every service with its projects, and the form to register a new service.
#[component]
pub fn HomePage() -> impl IntoView {
    let create = PostAction::new::<CreateService>();
    let create_done = successes(create);
    let services = Resource::new(move || create_done.get(), |_| list_services());
    land_on(create, |s: &crate::model::Service| format!("/service/{}", s.id));
    view! {
        <crate::components::SaidAfterPost />
        <Title text="Services" />
        <h1>"Services"</h1>
        <AddressWarning />
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match services.await {
                    Err(e) => view! { <ErrorView error=e /> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No services to show: register one below."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="list">
                            <thead><tr><th>"Service"</th><th>"Projects"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|s| view! {
                                    <tr>
                                        <td>{if s.readable {
                                            view! { <A href=format!("/service/{}", s.service.id)>{s.service.name.clone()}</A> }.into_any()
                                        } else {
                                            view! { <span title="Your role is on its projects, not on the service">{s.service.name.clone()}</span> }.into_any()
                                        }}</td>
                                        <td>
                                            {s.projects.into_iter().map(|p| view! {
                                                <A href=format!("/project/{}", p.id) attr:class="chip">{p.name}</A>
                                            }).collect_view()}
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
        <section class="card">
            <h2>"Register a service"</h2>
            <PostForm action=create>
                <Field label="Name" name="name" check=checks::name placeholder="web-frontend" />
                <Field label="Description" name="description" />
                <button type="submit">"Register service"</button>
            </PostForm>
            <FormError action=create />
        </section>
    }
}
