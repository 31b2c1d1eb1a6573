use crate::api::admin::ImportTargets;
use crate::components::{Field, FormError, TextArea};
use leptos::prelude::*;

/// Promgen's target import: paste file_sd JSON (as `/api/v1/targets` writes it).
#[component]
pub fn ImportPage() -> impl IntoView {
    let import = ServerAction::<ImportTargets>::new();
    view! {
        <h1>"Import targets"</h1>
        <section class="card">
            <p class="muted">"Paste file_sd JSON; services, projects, farms, hosts and exporters are created or reused by name. Admins only."</p>
            <ActionForm action=import>
                <TextArea label="file_sd JSON" name="targets" rows=12 />
                <Field label="Put every project on this shard (optional)" name="shard" />
                <button type="submit">"Import"</button>
            </ActionForm>
            <FormError value=import.value() />
            {move || import.value().get().and_then(Result::ok).map(|report| view! { <pre class="ok">{report}</pre> })}
        </section>
    }
}
