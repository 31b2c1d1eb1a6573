//! The site: its address (domain and scheme, which the rule links use) and the site rules.

use crate::api::rules::{UpdateSite, get_site};
use crate::components::{ErrorView, Field, FormError, Loading, NotifiersSection, RulesSection};
use crate::model::OwnerKind;
use leptos::prelude::*;

#[component]
pub fn SitePage() -> impl IntoView {
    let update = ServerAction::<UpdateSite>::new();
    let site = Resource::new(move || update.version().get(), |_| get_site());
    view! {
        <h1>"Site"</h1>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match site.await {
                    Err(e) => view! { <ErrorView error=e /> }.into_any(),
                    Ok(s) => view! {
                        <p class="muted">
                            "Site rules apply to every service. Alerts link back to their rules at "
                            <code>{format!("{}/rule/<id>", s.url())}</code> "."
                        </p>
                        <details class="card">
                            <summary>"Site address (admins)"</summary>
                            <ActionForm action=update>
                                <div class="row">
                                    <label class="field">
                                        <span>"Scheme"</span>
                                        <select name="scheme">
                                            <option value="http" selected=s.scheme == "http">"http"</option>
                                            <option value="https" selected=s.scheme == "https">"https"</option>
                                        </select>
                                    </label>
                                    <Field label="Domain (and port)" name="domain" value=s.domain.clone() />
                                </div>
                                <button type="submit">"Save"</button>
                            </ActionForm>
                            <FormError value=update.value() />
                        </details>
                    }.into_any(),
                }
            })}
        </Suspense>
        <p class="muted">"The site's notifiers hear when the alert pipeline itself breaks (the heartbeat alert stops)."</p>
        <NotifiersSection owner_kind="site" owner_id=1 />
        <RulesSection owner_kind=OwnerKind::Site owner_id=1 />
    }
}
