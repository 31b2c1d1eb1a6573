//! Rule lists for the site, service and project pages, and the import form.

use crate::api::rules::{ImportRules, SetRuleEnabled};
use crate::components::{
    ConfirmSubmit, ErrorView, FormError, Held, Loading, PostAction, PostForm, successes, textarea_html,
};
use crate::model::*;
use leptos::prelude::*;
use leptos_router::components::A;

/// The rules of an owner (with enable/disable), the rules above it that reach it (with their
/// override for this owner, or the button to make one), and the import form.
#[component]
/// `held`: the data, which the page holds (see [`Held`] and `components::deferred`).
pub fn RulesSection(owner_kind: OwnerKind, owner_id: i64, held: Held<RuleListing>) -> impl IntoView {
    let toggle = PostAction::new::<SetRuleEnabled>();
    let toggle_done = successes(toggle);
    let import = PostAction::new::<ImportRules>();
    let import_done = successes(import);
    held.refetch_on(move || toggle_done.get() + import_done.get());
    view! {
        <section class="card" id="rules">
            <h2>"Rules"</h2>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    let l = match held.read().await {
                        Ok(l) => l,
                        Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                    };
                    let edit = l.can_edit;
                    view! {
                        {if l.own.is_empty() {
                            view! { <p class="muted">"No rules of its own."</p> }.into_any()
                        } else {
                            view! { <RuleRows rules=l.own edit toggle /> }.into_any()
                        }}
                        <Show when=move || edit>
                            <p>
                                <a href=format!("/rule/new?owner={}&id={owner_id}", owner_kind.as_str())>"New rule"</a>
                            </p>
                        </Show>
                        {(!l.inherited.is_empty()).then(|| view! {
                            <h3>"Inherited"</h3>
                            <InheritedRows rules=l.inherited edit owner_kind owner_id />
                        })}
                        <Show when=move || edit>
                            <ImportForm owner_kind owner_id import />
                        </Show>
                    }.into_any()
                })}
            </Transition>
        </section>
    }
}

#[component]
fn RuleRows(rules: Vec<RuleSummary>, edit: bool, toggle: PostAction) -> impl IntoView {
    view! {
        <table class="list rules">
            <thead><tr><th>"Rule"</th><th>"Expression"</th><th>"For"</th><th>"State"</th></tr></thead>
            <tbody>
                {rules.into_iter().map(|r| { let disable_question = Signal::stored(format!("Disable the rule {}? Prometheus stops evaluating it.", r.name)); view! {
                    <tr class:disabled=!r.enabled>
                        <td>
                            <A href=format!("/rule/{}", r.id)>{r.name.clone()}</A>
                            {(r.kind == RuleKind::Record).then(|| view! { " " <span class="chip">"record"</span> })}
                            {r.parent.is_some().then(|| view! { " " <span class="chip">"override"</span> })}
                        </td>
                        <td><code>{r.expr.clone()}</code></td>
                        <td data-label="For">{r.duration.clone()}</td>
                        <td>
                            {if r.enabled { "enabled" } else { "disabled" }}
                            <Show when=move || edit>
                                <PostForm action=toggle attr:class="inline">
                                    <input type="hidden" name="id" value=r.id.to_string() />
                                    <input type="hidden" name="enabled" value=(!r.enabled).to_string() />
                                    {if r.enabled {
                                        view! { <ConfirmSubmit label="Disable" class="small" question=disable_question /> }.into_any()
                                    } else {
                                        view! { <button type="submit" class="small">"Enable"</button> }.into_any()
                                    }}
                                </PostForm>
                            </Show>
                        </td>
                    </tr>
                }}).collect_view()}
            </tbody>
        </table>
        <FormError action=toggle />
    }
}

#[component]
fn InheritedRows(rules: Vec<InheritedRule>, edit: bool, owner_kind: OwnerKind, owner_id: i64) -> impl IntoView {
    view! {
        <table class="list rules">
            <thead><tr><th>"Rule"</th><th>"From"</th><th>"Expression"</th><th>"Here"</th></tr></thead>
            <tbody>
                {rules.into_iter().map(|i| {
                    let r = i.rule;
                    let here = match i.overridden_by {
                        Some(child) => view! { <A href=format!("/rule/{child}")>"overridden"</A> }.into_any(),
                        None if edit => view! {
                            <a class="button small" href=format!("/rule/{}/override?owner={}&id={owner_id}", r.id, owner_kind.as_str())>"Override"</a>
                        }.into_any(),
                        None => view! { <span class="muted">"applies"</span> }.into_any(),
                    };
                    view! {
                        <tr class:disabled=!r.enabled>
                            <td><A href=format!("/rule/{}", r.id)>{r.name.clone()}</A></td>
                            <td>{r.owner.describe()}</td>
                            <td><code>{r.expr.clone()}</code></td>
                            <td data-label="Here">{here}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Paste a Prometheus rule file, or pick one (the browser reads it into the box).
#[component]
pub fn ImportForm(owner_kind: OwnerKind, owner_id: i64, import: PostAction) -> impl IntoView {
    let text = NodeRef::<leptos::html::Textarea>::new();
    let pick = move |ev: leptos::ev::Event| read_file_into(ev, text);
    view! {
        // Open while it has an answer to show: the list drawn again after an import drew this
        // closed, and the report inside was hidden.
        <details class="import" open=move || import.value().with(|v| v.is_some())>
            <summary>"Import a Prometheus rule file"</summary>
            <PostForm action=import>
                <input type="hidden" name="owner_kind" value=owner_kind.as_str() />
                <input type="hidden" name="owner_id" value=owner_id.to_string() />
                <label class="field">
                    <span>"Rule file (groups: ... rules: ...), or a single rule"</span>
                    <textarea name="rules" rows=8 node_ref=text placeholder="groups:\n- name: example\n  rules:\n  - alert: InstanceDown\n    expr: up == 0\n    for: 5m"
                        inner_html=textarea_html("")></textarea>
                </label>
                <label class="field"><span>"…or a file"</span><input type="file" accept=".yml,.yaml,.json" on:change=pick /></label>
                <button type="submit">"Import rules"</button>
            </PostForm>
            <FormError action=import />
            {move || import.answer::<String>().and_then(Result::ok).map(|r| view! { <pre class="report">{r}</pre> })}
        </details>
    }
}

#[cfg(all(target_arch = "wasm32", any(feature = "hydrate", feature = "csr")))]
fn read_file_into(ev: leptos::ev::Event, target: NodeRef<leptos::html::Textarea>) {
    use wasm_bindgen::JsCast;
    let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
    let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
    leptos::task::spawn_local(async move {
        if let Ok(text) = wasm_bindgen_futures::JsFuture::from(file.text()).await
            && let (Some(area), Some(text)) = (target.get_untracked(), text.as_string())
        {
            area.set_value(&text);
        }
    });
}

#[cfg(not(all(target_arch = "wasm32", any(feature = "hydrate", feature = "csr"))))]
fn read_file_into(_ev: leptos::ev::Event, _target: NodeRef<leptos::html::Textarea>) {}
