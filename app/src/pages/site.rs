//! The site: its address (domain and scheme, which the rule links use) and the site rules.

use crate::api::rules::{
    SetOpenRead, SetPrometheusVersion, UpdateSite, get_site, open_read, rule_file_report, rules_dialect,
};
use crate::components::deferred::deferred_sections;
use crate::components::{
    AddressWarning, ErrorView, Field, FormError, Held, Loading, PostAction, PostForm, Saved, SiteAdminOnly, deferred,
    just_saved, successes,
};
use crate::error::AppError;
use crate::model::{OwnerKind, Site};
use crate::rules::promql::Dialect;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SitePage() -> impl IntoView {
    let update = PostAction::new::<UpdateSite>();
    let update_done = successes(update);
    let set_version = PostAction::new::<SetPrometheusVersion>();
    let set_version_done = successes(set_version);
    let set_open = PostAction::new::<SetOpenRead>();
    let set_open_done = successes(set_open);
    let open = Resource::new(move || set_open_done.get(), |_| open_read());
    let site = Resource::new(move || update_done.get(), |_| get_site());
    let dialect = Resource::new(move || set_version_done.get(), |_| rules_dialect());
    let problems = Resource::new(move || set_version_done.get(), |_| rule_file_report());
    // The sections' data, made by the page (components::deferred).
    let notifiers = Held::notifiers(OwnerKind::Site, || Some(1));
    let rules = Held::rules(OwnerKind::Site, || Some(1));
    view! {
        <crate::components::SaidAfterPost />
        <Title text="Site" />
        <h1>"Site"</h1>
        <AddressWarning changes=update_done />
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match site.await {
                    Err(e) => view! { <ErrorView error=e /> }.into_any(),
                    Ok(s) => view! {
                        <p class="muted">
                            "Site rules apply to every service. Alerts link back to their rules at "
                            <code>{format!("{}/rule/<id>", s.url())}</code> "."
                        </p>
                        {settings(s, update, set_version, set_open, dialect, open)}
                    }.into_any(),
                }
            })}
        </Transition>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                problems.await.ok().filter(|p| !p.left_out.is_empty() || p.refused.is_some()).map(|p| view! {
                    <section class="card warning" id="rule-file" role="alert">
                        <h2>"The rule file"</h2>
                        {p.refused.map(|why| view! {
                            <p>"promtool refuses the newest rule file, so the last good one is served"
                                {p.serving_since.map(|t| format!(" (checked {t})"))} ": " {why}</p>
                        })}
                        {(!p.left_out.is_empty()).then(|| view! {
                            <p>"These rules are left out: Prometheus would refuse the whole file with them."</p>
                            <ul>
                                {p.left_out.into_iter().map(|(id, name, why)| view! {
                                    <li><a href=format!("/rule/{id}")>{name}</a> ": " {why}</li>
                                }).collect_view()}
                            </ul>
                        })}
                    </section>
                })
            })}
        </Suspense>
        <p class="muted">"The site's notifiers hear when the alert pipeline itself breaks (the heartbeat alert stops)."</p>
        {deferred::notifiers("site", 1, notifiers)}
        {deferred::rules(OwnerKind::Site, 1, rules)}
    }
}

deferred_sections! {
    /// The site admins' settings (the site's address, the Prometheus release rules are checked
    /// for, who reads the inventory): closed disclosures, their code after the page's
    /// (components::deferred).
    section_site_settings => fn settings(
        s: Site,
        update: PostAction,
        set_version: PostAction,
        set_open: PostAction,
        dialect: Resource<Result<(Dialect, String), AppError>>,
        open: Resource<Result<bool, AppError>>,
    ) {
        view! {
            <SiteAdminOnly>
            <details class="card" open=just_saved(update)>
                <summary>"Site address"</summary>
                <PostForm action=update clone:s>
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
                </PostForm>
                <FormError action=update />
                <Saved action=update />
            </details>
            <details class="card" open=just_saved(set_version)>
                <summary>"Prometheus release"</summary>
                <Transition fallback=Loading>
                    {move || Suspend::new(async move {
                        dialect.await.ok().map(|(d, source)| view! {
                            <p class="muted" data-testid="dialect">"Rules are checked for " {source} "."</p>
                            <PostForm action=set_version>
                                <Field label="Release of your Prometheus servers, while no shard reports one (2.42 to 3.14)"
                                    name="prometheus_version" value=d.version.to_string() />
                                <button type="submit">"Save"</button>
                            </PostForm>
                        })
                    })}
                </Transition>
                <FormError action=set_version />
                <Saved action=set_version />
            </details>
            <details class="card" open=just_saved(set_open)>
                <summary>"Who reads the inventory"</summary>
                <Transition fallback=Loading>
                    {move || Suspend::new(async move {
                        open.await.ok().map(|on| view! {
                            <p class="muted">
                                {if on {
                                    "Every logged-in user reads every service and project."
                                } else {
                                    "Users read the services and projects they hold a role on (Admin, Editor or Viewer)."
                                }}
                            </p>
                            <PostForm action=set_open>
                                <label class="check">
                                    <input type="checkbox" name="open" checked=on />
                                    " Let every logged-in user read every service and project"
                                </label>
                                <button type="submit">"Save"</button>
                            </PostForm>
                        })
                    })}
                </Transition>
                <FormError action=set_open />
                <Saved action=set_open />
            </details>
            </SiteAdminOnly>
        }
        .into_any()
    }
}
