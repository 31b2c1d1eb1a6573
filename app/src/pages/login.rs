use crate::api::auth::Login;
use crate::components::{Field, FormError};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_else(|| "/".into());
    view! {
        <section class="card narrow">
            <h1>"Log in"</h1>
            <ActionForm action=login>
                <input type="hidden" name="next" value=next />
                <Field label="Username" name="username" autocomplete="username" />
                <Field label="Password" name="password" kind="password" autocomplete="current-password" />
                <button type="submit">"Log in"</button>
            </ActionForm>
            <FormError value=login.value() />
        </section>
    }
}
