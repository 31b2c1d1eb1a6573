use crate::api::admin::ImportTargets;
use crate::components::{ErrorView, Field, FormError, Loading, PostAction, PostForm, Session, TextArea};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;

/// Promgen's target import: paste file_sd JSON (as `/api/v1/targets` writes it). Site admins
/// only: a visitor is sent to the login page, anyone else is told, before typing anything.
#[component]
pub fn ImportPage() -> impl IntoView {
    let me = Session::user();
    view! {
        <Title text="Import targets" />
        <h1>"Import targets"</h1>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(u)) if u.is_superuser => view! { <ImportForm /> }.into_any(),
                    Ok(Some(_)) => {
                        let error = AppError::Forbidden("import targets: only a site admin can".into());
                        view! { <ErrorView error /> }.into_any()
                    }
                    Ok(None) => view! { <ErrorView error=AppError::Unauthenticated /> }.into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ImportForm() -> impl IntoView {
    let import = PostAction::new::<ImportTargets>();
    view! {
        <section class="card">
            <p class="muted">"Paste file_sd JSON; services, projects, farms, hosts and exporters are created or reused by name."</p>
            <PostForm action=import>
                <TextArea label="file_sd JSON" name="targets" rows=12 />
                <Field label="Put every project on this shard (optional)" name="shard" />
                <button type="submit">"Import"</button>
            </PostForm>
            <FormError action=import />
            {move || import.answer::<String>().and_then(Result::ok).map(|report| view! { <p class="ok" role="status">{report}</p> })}
        </section>
    }
}
