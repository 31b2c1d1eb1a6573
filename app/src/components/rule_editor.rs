//! The rule form with its live preview: every keystroke runs the rule engine in the browser
//! (`rules::preview`) and shows the rule as Prometheus will receive it, the parent, siblings
//! and following overrides as this edit leaves them, the rule file entry, and any error under
//! the character it is about. The form is a plain `PostForm`: it also saves before the wasm
//! has loaded.

use crate::api::rules::{SaveRule, TestRule};
use crate::components::{FormError, PostAction, PostForm, sentence, textarea_html};
use crate::model::validate::FieldError;
use crate::model::*;
use crate::rules::preview::{Prepared, Preview, Related, caret, parent_lacks_exclude, preview};
use leptos::prelude::*;
use leptos_router::components::A;

/// A label or annotation row of the form.
#[derive(Clone, Copy)]
struct Row {
    id: usize,
    key: RwSignal<String>,
    value: RwSignal<String>,
}

fn rows(map: &LabelMap) -> Vec<Row> {
    map.iter()
        .enumerate()
        .map(|(id, (k, v))| Row { id, key: RwSignal::new(k.clone()), value: RwSignal::new(v.clone()) })
        .collect()
}

fn collect(rows: &[Row]) -> LabelMap {
    rows.iter().map(|r| (r.key.get(), r.value.get())).collect()
}

/// Why `rows` cannot be saved when a name is in them twice (a map keeps one of them).
fn repeated(rows: RwSignal<Vec<Row>>) -> Option<String> {
    let keys: Vec<String> = rows.with(|v| v.iter().map(|r| r.key.get()).collect());
    repeated_key(keys.iter().map(String::as_str)).map(repeated_key_message)
}

/// Milliseconds since the page started, for the editor's own timing.
fn now_ms() -> f64 {
    #[cfg(all(target_arch = "wasm32", any(feature = "hydrate", feature = "csr")))]
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        return p.now();
    }
    0.0
}

#[component]
pub fn RuleEditor(
    ctx: RuleContext,
    /// What the form starts with.
    draft: RuleInput,
    /// Set when the form makes an override of this rule.
    #[prop(optional)]
    parent: Option<RuleId>,
) -> impl IntoView {
    let save = PostAction::new::<SaveRule>();
    let test = PostAction::new::<TestRule>();
    let id = ctx.rule.as_ref().map(|r| r.id);
    let owner_kind = ctx.owner.kind().as_str();
    let owner_id = ctx.owner.id();
    let followers = ctx.followers.len();
    let lacks_exclude = parent_lacks_exclude(&ctx);
    let checked_for = ctx.dialect_source.clone();
    // What does not change while typing is worked out once.
    let prepared = StoredValue::new(Prepared::new(ctx));

    let kind = RwSignal::new(draft.kind);
    let name = RwSignal::new(draft.name.clone());
    let expr = RwSignal::new(draft.expr.clone());
    let duration = RwSignal::new(draft.duration.clone());
    let description = RwSignal::new(draft.description.clone());
    let enabled = RwSignal::new(draft.enabled);
    let follow = RwSignal::new(true);
    let labels = RwSignal::new(rows(&draft.labels));
    let annotations = RwSignal::new(rows(&draft.annotations));
    let next_row = StoredValue::new(draft.labels.len() + draft.annotations.len());

    // The engine, on every change; with how long it took, shown on the preview.
    let computed = Memo::new(move |_| {
        let kind = kind.get();
        let input = RuleInput {
            kind,
            name: name.get(),
            expr: expr.get(),
            // A recording rule has no `for` and no annotations; what was typed before switching
            // stays in the (hidden, disabled) fields.
            duration: if kind == RuleKind::Alert { duration.get() } else { String::new() },
            enabled: enabled.get(),
            description: description.get(),
            labels: labels.with(|r| collect(r)),
            annotations: if kind == RuleKind::Alert { annotations.with(|r| collect(r)) } else { Default::default() },
        };
        let started = now_ms();
        let p = prepared.with_value(|c| preview(c, &input, follow.get()));
        (p, now_ms() - started)
    });
    let is_alert = move || kind.get() == RuleKind::Alert;
    // A new rule's empty form is not told it is wrong before anything is typed (Save still
    // says why it is disabled); a rule or override being edited is checked from the start.
    let touched = RwSignal::new(id.is_some() || parent.is_some());
    // The live check's problem, once something was typed; and its problem with `field`, shown
    // under it.
    let problem = Signal::derive(move || touched.get().then(|| computed.with(|(p, _)| p.problem.clone())).flatten());
    let problem_at = move |field: &'static str| move || problem.get().filter(|e| e.field == field);
    // Why the server would refuse the rule as it stands, once in the browser: Save is disabled
    // with it. (Not on the server's page: a form without the wasm still posts and is told.)
    let in_browser = RwSignal::new(false);
    // What was typed before the page became interactive is what the engine reads from then on.
    let (name_field, expr_field) = (NodeRef::<leptos::html::Input>::new(), NodeRef::<leptos::html::Textarea>::new());
    let (duration_field, description_field) =
        (NodeRef::<leptos::html::Input>::new(), NodeRef::<leptos::html::Textarea>::new());
    Effect::new(move || {
        #[cfg(any(feature = "hydrate", feature = "csr"))]
        {
            let typed = [
                (name, name_field.get_untracked().map(|f| f.value())),
                (expr, expr_field.get_untracked().map(|f| f.value())),
                (duration, duration_field.get_untracked().map(|f| f.value())),
                (description, description_field.get_untracked().map(|f| f.value())),
            ];
            for (signal, value) in typed {
                if let Some(value) = value.filter(|v| signal.with_untracked(|s| s != v)) {
                    signal.set(value);
                    touched.set(true);
                }
            }
        }
        in_browser.set(true);
    });
    let refusal = move || {
        in_browser
            .get()
            .then(|| {
                computed.with(|(p, _)| match &p.expr {
                    Err(e) => Some(FieldError::new("expr", expr.with(|text| e.describe(text))).to_string()),
                    Ok(_) => p.problem.as_ref().map(FieldError::to_string),
                })
            })?
            .or_else(|| {
                let twice = |field: &str, rows| repeated(rows).map(|why| FieldError::new(field, why).to_string());
                twice("labels", labels).or_else(|| is_alert().then(|| twice("annotations", annotations)).flatten())
            })
    };

    view! {
        <div class="editor" on:input=move |_| touched.set(true)>
            <PostForm action=save attr:class="rule-form">
                {id.map(|id| view! { <input type="hidden" name="id" value=id.to_string() /> })}
                {parent.map(|p| view! { <input type="hidden" name="parent" value=p.to_string() /> })}
                <input type="hidden" name="owner_kind" value=owner_kind />
                <input type="hidden" name="owner_id" value=owner_id.to_string() />
                {if id.is_none() && parent.is_none() {
                    view! {
                        <label class="field">
                            <span>"Kind"</span>
                            <select name="kind" on:change=move |ev| kind.set(RuleKind::parse(&event_target_value(&ev)).unwrap_or_default())>
                                <option value="alert" selected=draft.kind == RuleKind::Alert>"Alert"</option>
                                <option value="record" selected=draft.kind == RuleKind::Record>"Recording rule"</option>
                            </select>
                        </label>
                    }.into_any()
                } else {
                    view! { <input type="hidden" name="kind" value=draft.kind.as_str() /> }.into_any()
                }}
                <label class="field">
                    <span>{move || if is_alert() { "Alert name" } else { "Recorded metric name" }}</span>
                    <input type="text" name="name" value=draft.name.clone() autocomplete="off" node_ref=name_field
                        aria-invalid=move || problem_at("name")().is_some().to_string()
                        on:input=move |ev| name.set(event_target_value(&ev)) />
                    <small class="field-error">{move || problem_at("name")().map(|e| sentence(&e.message))}</small>
                </label>
                <label class="field">
                    <span>"Expression (PromQL; " <code>"<exclude>"</code> " is where the overrides' exclusions go)"</span>
                    <textarea name="expr" rows=4 spellcheck="false" class="expr-input" node_ref=expr_field
                        aria-invalid=move || (touched.get() && computed.with(|(p, _)| p.expr.is_err())).to_string()
                        aria-describedby=move || (touched.get() && computed.with(|(p, _)| p.expr.is_err())).then_some("expr-error")
                        on:input=move |ev| expr.set(event_target_value(&ev)) inner_html=textarea_html(&draft.expr)></textarea>
                </label>
                <Show when=move || touched.get()>
                    <ExprError computed expr />
                </Show>
                <div class="row">
                    // What only an alert has is disabled as well as hidden for a recording rule,
                    // so the form does not send it.
                    <fieldset class="plain" disabled=move || !is_alert() class:hidden=move || !is_alert()>
                        <label class="field">
                            <span>"For"</span>
                            <input type="text" name="duration" value=draft.duration.clone() placeholder="5m" node_ref=duration_field
                                aria-invalid=move || problem_at("duration")().is_some().to_string()
                                on:input=move |ev| duration.set(event_target_value(&ev)) />
                            <small class="field-error">{move || problem_at("duration")().map(|e| sentence(&e.message))}</small>
                        </label>
                    </fieldset>
                    <label class="field check">
                        <input type="checkbox" name="enabled" value="on" checked=draft.enabled
                            on:change=move |ev| enabled.set(event_target_checked(&ev)) />
                        <span>"Enabled"</span>
                    </label>
                </div>
                <PairRows title="Labels" field="labels" rows=labels next=next_row problem />
                <fieldset class="plain" disabled=move || !is_alert() class:hidden=move || !is_alert()>
                    <PairRows title="Annotations" field="annotations" rows=annotations next=next_row problem />
                </fieldset>
                <label class="field">
                    <span>"Description (for people; not rendered)"</span>
                    <textarea name="description" rows=2 node_ref=description_field on:input=move |ev| description.set(event_target_value(&ev))
                        inner_html=textarea_html(&draft.description)></textarea>
                </label>
                {(followers > 0).then(|| view! {
                    <label class="field check">
                        <input type="checkbox" name="follow" value="on" checked=true
                            on:change=move |ev| follow.set(event_target_checked(&ev)) />
                        <span>{format!("Also change the {} still using this expression", crate::model::counted(followers as i64, "override"))}</span>
                    </label>
                })}
                // A problem of no field shown above (the kind).
                {move || problem.get().filter(|e| !placed_in_editor(&e.field)).map(|e| view! { <p class="field-error">{e.to_string()}</p> })}
                <button type="submit" disabled=move || refusal().is_some() title=refusal>
                    {if parent.is_some() { "Save override" } else { "Save rule" }}
                </button>
            </PostForm>
            <FormError action=save />

            <aside class="preview" data-compute-ms=move || format!("{:.4}", computed.with(|(_, ms)| *ms))>
                {lacks_exclude.then(|| view! {
                    <p class="warning">"The parent rule has no <exclude>: it keeps firing for this owner too."</p>
                })}
                <p class="muted" data-testid="dialect">"Checked for " {checked_for}</p>
                <h2>"As Prometheus receives it"</h2>
                <Expansion result=Signal::derive(move || computed.with(|(p, _)| p.expr.clone())) testid="expansion" />
                {move || computed.with(|(p, _)| related_views(p))}
                <h2>"In the rule file"</h2>
                <pre class="yaml" data-testid="yaml">{move || computed.with(|(p, _)| p.yaml.clone())}</pre>
                <div class="rule-test">
                    <button type="button" on:click=move |_| {
                        test.dispatch(&test_fields(id, owner_kind, owner_id, kind.get_untracked(), expr.get_untracked()));
                    }>"Test against Prometheus"</button>
                    <TestResult test />
                </div>
            </aside>
        </div>
    }
}

/// The error under the expression: the line, a caret under the column, the message.
#[component]
fn ExprError(computed: Memo<(Preview, f64)>, expr: RwSignal<String>) -> impl IntoView {
    move || {
        computed.with(|(p, _)| p.expr.clone().err()).map(|e| {
            let text = expr.get();
            let (line, mark) = caret(&text, &e);
            view! {
                <div class="expr-error" id="expr-error" role="alert">
                    // It scrolls sideways under a long line: a keyboard reaches it too (axe).
                    <pre tabindex="0" aria-label="The line of the expression, marked where it goes wrong">{line}"\n"{mark}</pre>
                    <p class="error">{e.describe(&text)}</p>
                </div>
            }
        })
    }
}

#[component]
fn Expansion(result: Signal<Result<String, crate::rules::ExprError>>, testid: &'static str) -> impl IntoView {
    view! {
        <pre class="expr" class:invalid=move || result.with(Result::is_err) data-testid=testid>
            {move || match result.get() {
                Ok(e) => e,
                Err(e) => format!("Not valid yet: {}", e.message),
            }}
        </pre>
    }
}

fn related_views(p: &Preview) -> impl IntoView + use<> {
    let one = |title: &'static str, r: &Related| {
        let text = match &r.expr {
            Ok(e) => e.clone(),
            Err(e) => format!("Would break: {}", e.message),
        };
        let (id, name, owner, invalid) = (r.id, r.name.clone(), r.owner.clone(), r.expr.is_err());
        view! {
            <h3>{title} " " <A href=format!("/rule/{id}")>{name}</A> <small class="muted">" (" {owner} ")"</small></h3>
            <pre class="expr" class:invalid=invalid data-testid=format!("rule-{id}")>{text}</pre>
        }
    };
    view! {
        {p.parent.as_ref().map(|r| one("Parent", r))}
        {p.followers.iter().map(|r| one("Follows", r)).collect_view()}
        {p.siblings.iter().map(|r| one("Sibling", r)).collect_view()}
    }
}

#[component]
fn PairRows(
    title: &'static str,
    field: &'static str,
    rows: RwSignal<Vec<Row>>,
    next: StoredValue<usize>,
    /// The live check's problem: one of these rows' (`annotations.summary`, under the row) or
    /// of them all (`annotations`, under the last).
    problem: Signal<Option<FieldError>>,
) -> impl IntoView {
    let one = &title[..title.len() - 1];
    let set = NodeRef::<leptos::html::Fieldset>::new();
    let add = move |_| {
        let id = next.get_value();
        next.set_value(id + 1);
        rows.update(|v| v.push(Row { id, key: RwSignal::new(String::new()), value: RwSignal::new(String::new()) }));
        // Typing goes on in the new row's name (it went nowhere: the focus stayed on the button).
        request_animation_frame(move || {
            use leptos::wasm_bindgen::JsCast;
            let name = set.get().and_then(|f| f.query_selector("div.pair:last-of-type input").ok().flatten());
            if let Some(name) = name.and_then(|n| n.dyn_into::<leptos::web_sys::HtmlElement>().ok()) {
                let _ = name.focus();
            }
        });
    };
    view! {
        <fieldset class="pairs" node_ref=set>
            <legend>{title}</legend>
            <For each=move || rows.get() key=|r| r.id children=move |row| {
                // Names follow the row's place, so the form always sends 0, 1, 2...
                let at = move || rows.with(|v| v.iter().position(|r| r.id == row.id).unwrap_or(0));
                // The problem with this row's value (its name as typed names it).
                let mine = move || {
                    problem.get().filter(|e| row.key.with(|k| e.field.strip_prefix(field).and_then(|f| f.strip_prefix('.')) == Some(k.trim())))
                };
                view! {
                    <div class="pair">
                        <input type="text" placeholder="name" name=move || format!("{field}[{}][key]", at())
                            aria-label=move || format!("{one} {}: name", at() + 1)
                            value=row.key.get_untracked() on:input=move |ev| row.key.set(event_target_value(&ev)) />
                        <input type="text" placeholder="value" name=move || format!("{field}[{}][value]", at())
                            aria-label=move || format!("{one} {}: value", at() + 1)
                            aria-invalid=move || mine().is_some().to_string()
                            value=row.value.get_untracked() on:input=move |ev| row.value.set(event_target_value(&ev)) />
                        <button type="button" class="small" title="Remove" aria-label=move || format!("Remove {} {}", one.to_ascii_lowercase(), at() + 1)
                            on:click=move |_| rows.update(|v| v.retain(|r| r.id != row.id))>"×"</button>
                        <small class="field-error">{move || mine().map(|e| sentence(&e.message))}</small>
                    </div>
                }
            } />
            {move || repeated(rows).map(|why| view! { <p class="error" role="alert">{sentence(&why)}</p> })}
            {move || problem.get().filter(|e| e.field == field).map(|e| view! { <p class="field-error">{sentence(&e.message)}</p> })}
            <button type="button" class="small" on:click=add>{format!("Add {}", one.to_ascii_lowercase())}</button>
        </fieldset>
    }
}

/// Whether the editor shows a problem of `field` at its field (else after the form's fields).
fn placed_in_editor(field: &str) -> bool {
    ["name", "duration", "labels", "annotations"].iter().any(|f| field == *f || field.starts_with(&format!("{f}.")))
}

/// The fields of a test of `expr` ([`TestRule`]'s arguments): as rule `id`, or as a new rule
/// of the owner.
pub fn test_fields(
    id: Option<RuleId>,
    owner_kind: &str,
    owner_id: i64,
    kind: RuleKind,
    expr: String,
) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("owner_kind", owner_kind.to_string()),
        ("owner_id", owner_id.to_string()),
        ("kind", kind.as_str().to_string()),
        ("expr", expr),
    ];
    fields.extend(id.map(|id| ("id", id.0.to_string())));
    fields
}

/// What testing a rule against Prometheus answered ([`TestRule`]).
#[component]
pub fn TestResult(test: PostAction) -> impl IntoView {
    view! {
        {move || test.pending().get().then(|| view! { <p class="muted">"Asking Prometheus…"</p> })}
        {move || test.answer::<crate::model::RuleTest>().map(|r| match r {
            Err(e) => view! { <p class="error" role="alert">{sentence(&e.to_string())}</p> }.into_any(),
            Ok(t) => view! {
                <div class="test-result" data-testid="test-result">
                    {
                        let (verdict, words) = t.verdict();
                        view! {
                            <p
                                class:firing=verdict == crate::model::Verdict::Firing
                                class:warning=verdict == crate::model::Verdict::Unknown
                                role="status"
                            >
                                {words}
                            </p>
                        }
                    }
                    <ul class="shards">
                        {t.shards.into_iter().map(|s| view! {
                            <li>
                                {s.shard} " (" {s.url} "): "
                                {match s.result {
                                    Ok(n) => view! { <span>{format!("{n} series")}</span> }.into_any(),
                                    Err(e) => view! { <span class="error">{e}</span> }.into_any(),
                                }}
                            </li>
                        }).collect_view()}
                    </ul>
                    {t.problems.into_iter().map(|p| view! { <p class="warning">{p}</p> }).collect_view()}
                </div>
            }.into_any(),
        })}
    }
}
