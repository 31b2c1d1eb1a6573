//! A rule's page (its family, expansion, rendering, history with restore, test), and the
//! editor pages: edit, new rule of an owner, override of a rule for an owner.

use super::SilenceButton;
use crate::api::admin::audit_log;
use crate::api::rules::{DeleteRule, RestoreRule, SetRuleEnabled, TestRule, editor_context, get_rule};
use crate::components::deferred::deferred_sections;
use crate::components::{
    ChangeDiff, ConfirmSubmit, DeleteZone, FormError, Held, LabelChips, Loading, PageError, PostAction, PostForm,
    RedirectTo, RuleEditor, TestResult, When, forget_answers, successes, test_fields,
};
use crate::error::AppError;
use crate::model::silences::{owner_matchers, silence_link};
use crate::model::*;
use crate::rules::overrides;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn RulePage() -> impl IntoView {
    let id = super::id_param::<RuleId>("id");
    let toggle = PostAction::new::<SetRuleEnabled>();
    let toggle_done = successes(toggle);
    let restore = PostAction::new::<RestoreRule>();
    let restore_done = successes(restore);
    let delete = PostAction::new::<DeleteRule>();
    let test = PostAction::new::<TestRule>();
    forget_answers!(id.clone(), [toggle, restore, delete, test]);
    let detail = Resource::new(
        {
            let id = id.clone();
            move || (id(), toggle_done.get() + restore_done.get())
        },
        |(id, _)| async move {
            match id {
                Some(id) => get_rule(id).await,
                None => Err(AppError::NotFound("rule".into())),
            }
        },
    );
    // Read by the history's section (`Held`): the page's code holds no reader for it.
    let history = Held::<AuditPage>::new(move || id().map(|i| i.0), |id| audit_log(1, Some("rule".into()), Some(id)));
    history.refetch_on(move || toggle_done.get() + restore_done.get());
    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                let d = match detail.await {
                    Ok(d) => d,
                    Err(e) => return view! { <PageError error=e /> }.into_any(),
                };
                let r = d.rule.clone();
                let rid = r.id;
                let edit = d.can_edit;
                let disable_question = Signal::stored(format!("Disable the rule {}? Prometheus stops evaluating it.", r.name));
                // The backend keeps the overrides (rules of their own then): the question says so.
                let delete_question = Signal::stored(match d.children.len() {
                    0 => format!("Delete the rule {}?", r.name),
                    1 => format!("Delete the rule {}? Its override stays, as a rule of its own.", r.name),
                    n => format!("Delete the rule {}? Its {n} overrides stay, as rules of their own.", r.name),
                });
                let labels = crate::rules::labels::owner_labels(&r.owner, &r.labels);
                let (owner_href, owner_name) = (r.owner.href(), r.owner.describe());
                let (owner_kind, owner_id) = (r.owner.kind().as_str(), r.owner.id());
                view! {
                    <Title text={format!("Rule {}", r.name)} />
                    <h1>{if r.kind == RuleKind::Alert { "Alert " } else { "Recording rule " }} {r.name.clone()}</h1>
                    <p class="muted">
                        "Rule of the " <A href=owner_href>{owner_name}</A>
                        " · " {if r.enabled { "enabled" } else { "disabled" }}
                        {(!r.duration.is_empty()).then(|| format!(" · for {}", r.duration))}
                    </p>
                    <p class="muted">{r.description.clone()}</p>
                    {(r.kind == RuleKind::Alert && d.may_silence).then(|| {
                        let label = |k: &str| labels.get(k).cloned().unwrap_or_default();
                        let (service, project) = (label("service"), label("project"));
                        if service.is_empty() && project.is_empty() {
                            // Promgen's rule: a site rule's alert name alone would silence it
                            // for everyone (refused), so the form starts with it and the page
                            // says what to add.
                            let href = silence_link(&owner_matchers(&r.name, "", ""));
                            view! {
                                <p class="muted">
                                    <A href=href attr:class="button small">"Silence for a service…"</A>
                                    " A site rule is silenced for a service or project, not for everyone: add "
                                    <code>"service=\"…\""</code> " or " <code>"project=\"…\""</code> " to the matchers."
                                </p>
                            }.into_any()
                        } else {
                            view! { <SilenceButton matchers=owner_matchers(&r.name, &service, &project) /> }.into_any()
                        }
                    })}
                    {d.left_out.clone().map(|why| view! {
                        <p class="error" role="alert" data-testid="left-out">
                            "Left out of the rule file, which Prometheus would refuse with it: " {why}
                        </p>
                    })}
                    <Show when=move || edit>
                        // A <div>: a form may not sit inside a <p>.
                        <div class="actions">
                            <a class="button" href=format!("/rule/{rid}/edit")>"Edit"</a>
                            <PostForm action=toggle attr:class="inline">
                                <input type="hidden" name="id" value=rid.to_string() />
                                <input type="hidden" name="enabled" value=(!r.enabled).to_string() />
                                {if r.enabled {
                                        view! { <ConfirmSubmit label="Disable" class="small" question=disable_question /> }.into_any()
                                    } else {
                                        view! { <button type="submit" class="small">"Enable"</button> }.into_any()
                                    }}
                            </PostForm>
                        </div>
                        <FormError action=toggle />
                    </Show>
                    <section class="card">
                        <h2>"Expression"</h2>
                        <pre class="expr">{r.expr.clone()}</pre>
                        <h3>"As Prometheus receives it"</h3>
                        <pre class="expr" data-testid="expanded">{d.expanded.clone()}</pre>
                        <p>
                            <LabelChips labels />
                        </p>
                        // Testing runs the expression on the owner's Prometheus servers: for
                        // those who may change the rule (the server asks the same).
                        {edit.then(|| view! {
                            <button type="button" on:click=move |_| {
                                test.dispatch(&test_fields(Some(rid), owner_kind, owner_id, r.kind, r.expr.clone()));
                            }>"Test against Prometheus"</button>
                            <TestResult test />
                        })}
                    </section>
                    <section class="card">
                        <h2>"Family"</h2>
                        {match d.parent.clone() {
                            Some(p) => view! { <p>"Overrides " <A href=format!("/rule/{}", p.id)>{p.name}</A> " of the " {p.owner.describe()}</p> }.into_any(),
                            None => view! { <p class="muted">"Overrides no other rule."</p> }.into_any(),
                        }}
                        {if d.children.is_empty() {
                            view! { <p class="muted">"No overrides."</p> }.into_any()
                        } else {
                            view! { <p>"Overridden by:"</p> <RuleTreeView nodes=d.children.clone() /> }.into_any()
                        }}
                    </section>
                    <section class="card">
                        <h2>"In the rule file"</h2>
                        <pre class="yaml">{d.yaml.clone()}</pre>
                    </section>
                    {rule_foot(history, restore, delete, delete_question, rid, r.name.clone(), edit)}
                }.into_any()
            })}
        </Transition>
    }
}

deferred_sections! {
    /// The foot of a rule's page: its history, with a button to restore each version, and
    /// the button to delete it. Their code (the diffs) comes after the page's
    /// (components::deferred).
    section_rule_foot => fn rule_foot(
        history: Held<AuditPage>,
        restore: PostAction,
        delete: PostAction,
        delete_question: Signal<String>,
        rid: RuleId,
        name: String,
        edit: bool,
    ) {
        let name = StoredValue::new(name);
        view! {
            <section class="card">
                <h2>"History"</h2>
                <FormError action=restore />
                <Transition fallback=Loading>
                    {move || Suspend::new(async move {
                        history.read().await.map(|page| {
                            let none = page.entries.is_empty();
                            // The newest version is the rule as it is: nothing to restore.
                            let newest_shown = page.page <= 1;
                            view! {
                            {none.then(|| view! { <p class="muted">"No change recorded yet."</p> })}
                            <table class="list audit" class:hidden=none>
                                <thead><tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Version"</th></tr></thead>
                                <tbody>
                                    {page.entries.into_iter().enumerate().map(|(i, e)| view! {
                                        <tr>
                                            <td data-label="When"><When at=e.created.clone() /></td>
                                            <td>{e.user.clone().unwrap_or_else(|| "system".into())}</td>
                                            <td>{e.body.clone()}</td>
                                            <td>
                                                <ChangeDiff old=e.old.clone() new=e.data.clone() />
                                                {(edit && e.data.is_some() && !(newest_shown && i == 0)).then(|| view! {
                                                    <PostForm action=restore attr:class="inline">
                                                        <input type="hidden" name="id" value=rid.to_string() />
                                                        <input type="hidden" name="version" value=e.id.to_string() />
                                                        <ConfirmSubmit label="Restore this version" class="small" question=format!("Put the rule {} back as it was on {}?", name.get_value(), crate::model::when::utc_text(&e.created)) />
                                                    </PostForm>
                                                })}
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }})
                    })}
                </Transition>
            </section>
            <Show when=move || edit>
                <DeleteZone action=delete id=rid.to_string() label="Delete this rule" question=delete_question />
            </Show>
        }
        .into_any()
    }
}

#[component]
fn RuleTreeView(nodes: Vec<RuleTree>) -> impl IntoView {
    view! {
        <ul class="tree">
            {nodes.into_iter().map(|n| view! {
                <li>
                    <A href=format!("/rule/{}", n.rule.id)>{n.rule.name.clone()}</A>
                    " " <span class="muted">{n.rule.owner.describe()}</span>
                    {(!n.rule.enabled).then(|| view! { " " <span class="chip">"disabled"</span> })}
                    {(!n.children.is_empty()).then(|| view! { <RuleTreeView nodes=n.children /> }.into_any())}
                </li>
            }).collect_view()}
        </ul>
    }
}

/// The owner named by `?owner=service&id=3`: `None` for a service or project without a
/// number for its id (it opened the editor for the one with id 1).
fn owner_query() -> impl Fn() -> Option<(String, i64)> + Clone + Send + Sync + 'static {
    let q = super::query();
    move || {
        let kind = q("owner").unwrap_or_else(|| "site".into());
        match q("id").and_then(|i| i.parse().ok()) {
            Some(id) => Some((kind, id)),
            None if kind == "site" => Some((kind, 1)),
            None => None,
        }
    }
}

/// The editor's context for a new rule or an override (`parent`) of the owner `owner`.
async fn owner_context(parent: Option<RuleId>, owner: Option<(String, i64)>) -> Result<RuleContext, AppError> {
    match owner {
        Some((kind, id)) => editor_context(None, parent, kind, id).await,
        None => Err(AppError::NotFound("owner".into())),
    }
}

#[component]
pub fn RuleEditPage() -> impl IntoView {
    let id = super::id_param::<RuleId>("id");
    let ctx = Resource::new(id, |id| async move {
        match id {
            Some(id) => editor_context(Some(id), None, String::new(), 0).await,
            None => Err(AppError::NotFound("rule".into())),
        }
    });
    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match ctx.await {
                    Err(e) => view! { <PageError error=e /> }.into_any(),
                    Ok(c) => {
                        let Some(rule) = c.rule.clone() else { return view! { <PageError error=AppError::NotFound("rule".into()) /> }.into_any() };
                        let (owner_href, owner_name) = (rule.owner.href(), rule.owner.describe());
                        view! {
                            <Title text={format!("Edit {}", rule.name)} />
                            <h1>"Edit " {rule.name}</h1>
                            <p class="muted">"Rule of the " <A href=owner_href>{owner_name}</A></p>
                            <Editable ctx=c />
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
pub fn RuleNewPage() -> impl IntoView {
    let owner = owner_query();
    let ctx = Resource::new(owner, |owner| owner_context(None, owner));
    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match ctx.await {
                    Err(e) => view! { <PageError error=e /> }.into_any(),
                    Ok(c) => {
                        view! {
                            <Title text={format!("New rule of the {}", c.owner.describe())} />
                            <h1>"New rule of the " {c.owner.describe()}</h1>
                            <Editable ctx=c />
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
pub fn RuleOverridePage() -> impl IntoView {
    let parent = super::id_param::<RuleId>("id");
    let owner = owner_query();
    let ctx = Resource::new(
        move || (parent(), owner()),
        |(parent, owner)| async move {
            match parent {
                Some(p) => owner_context(Some(p), owner).await,
                None => Err(AppError::NotFound("rule".into())),
            }
        },
    );
    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match ctx.await {
                    Err(e) => view! { <PageError error=e /> }.into_any(),
                    // This owner overrides the rule already: edit that override.
                    Ok(c) if c.rule.is_some() => {
                        let id = c.rule.as_ref().map(|r| r.id).unwrap_or(RuleId(0));
                        view! { <RedirectTo path=format!("/rule/{id}/edit") /> }.into_any()
                    }
                    Ok(c) => {
                        let Some(p) = c.parent.clone() else { return view! { <PageError error=AppError::NotFound("rule".into()) /> }.into_any() };
                        view! {
                            <Title text={format!("Override {} for the {}", p.rule.name, c.owner.describe())} />
                            <h1>"Override " {p.rule.name.clone()} " for the " {c.owner.describe()}</h1>
                            <p class="muted">
                                "A copy of " <A href=format!("/rule/{}", p.rule.id)>{p.rule.name.clone()}</A>
                                " for the " {c.owner.describe()} " only; the original stops firing for it."
                            </p>
                            <Editable ctx=c parent=p.rule.id />
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The editor (of `ctx`'s rule, of a new override of `parent`, or of a new rule), or why this
/// user may only look.
#[component]
fn Editable(ctx: RuleContext, #[prop(optional)] parent: Option<RuleId>) -> impl IntoView {
    if !ctx.can_edit {
        let why = match ctx.rule {
            Some(_) => "You may look at this rule, but only its owners can change it.".to_string(),
            // No rule yet (a new one, an override): nothing to look at.
            None => format!("Adding rules for the {} needs the Editor or Admin role there.", ctx.owner.describe()),
        };
        return view! { <p class="error">{why}</p> }.into_any();
    }
    editor(ctx, parent)
}

deferred_sections! {
    /// The rule editor: its form, live preview and PromQL engine, the largest code of the site
    /// (`components::rule_editor`), come after the page's. Until then the form is the server's
    /// HTML: what is typed stays, and Save posts it as without the wasm.
    section_rule_editor => fn editor(ctx: RuleContext, parent: Option<RuleId>) {
        // The form's first values: the rule's, an override's copy of its parent, a new alert's.
        let draft = match (&ctx.rule, &ctx.parent) {
            (Some(rule), _) => RuleInput::from_rule(rule),
            (None, Some(p)) => overrides::draft(&p.rule, &ctx.owner),
            (None, None) => RuleInput { duration: "5m".into(), enabled: true, ..Default::default() },
        };
        match parent {
            Some(parent) => view! { <RuleEditor ctx draft parent /> }.into_any(),
            None => view! { <RuleEditor ctx draft /> }.into_any(),
        }
    }
}
