//! The notifiers of a site, service, project or user: enable/disable, filters, a test message,
//! delete, and the form to add one; on services and projects, subscribing oneself.

use crate::api::alerts::*;
use crate::components::{
    ConfirmSubmit, ErrorView, FormError, Held, Loading, PostAction, PostForm, sentence, successes, textarea_html,
};
use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;

#[component]
/// `held`: the data, which the page holds (see [`Held`] and `components::deferred`).
pub fn NotifiersSection(owner_kind: &'static str, owner_id: i64, held: Held<NotifierListing>) -> impl IntoView {
    let create = PostAction::new::<CreateNotifier>();
    let create_done = successes(create);
    let toggle = PostAction::new::<SetNotifierEnabled>();
    let toggle_done = successes(toggle);
    let delete = PostAction::new::<DeleteNotifier>();
    let delete_done = successes(delete);
    let add_filter = PostAction::new::<AddNotifierFilter>();
    let add_filter_done = successes(add_filter);
    let delete_filter = PostAction::new::<DeleteNotifierFilter>();
    let delete_filter_done = successes(delete_filter);
    let subscribe = PostAction::new::<Subscribe>();
    let subscribe_done = successes(subscribe);
    let test = PostAction::new::<TestNotifier>();
    let update = PostAction::new::<UpdateNotifier>();
    let update_done = successes(update);
    held.refetch_on(move || {
        create_done.get()
            + toggle_done.get()
            + delete_done.get()
            + add_filter_done.get()
            + delete_filter_done.get()
            + subscribe_done.get()
            + update_done.get()
    });
    let subscribable = owner_kind == "service" || owner_kind == "project";
    view! {
        <section class="card" id="notifiers">
            <h2>"Notifiers"</h2>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    let l = match held.read().await {
                        Ok(l) => l,
                        Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                    };
                    let edit = l.can_edit;
                    let subscribed = l.subscribed;
                    let no_own_notifier = l.own_notifiers == 0;
                    view! {
                        {if l.notifiers.is_empty() {
                            let empty = if owner_kind == "user" {
                                "You have no notifier yet. Add one: the services and projects you subscribe to tell it."
                            } else {
                                "Nobody is told about its alerts yet."
                            };
                            view! { <p class="muted">{empty}</p> }.into_any()
                        } else {
                            view! {
                                <table class="list notifiers">
                                    <thead><tr><th>"Kind"</th><th>"Sends to"</th><th>"Only when"</th><th>"State"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                                    <tbody>
                                        {l.notifiers.into_iter().map(|n| view! {
                                            <NotifierRow n edit actions=RowActions { toggle, test, update, delete, add_filter, delete_filter } />
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }}
                        // A test's answer whose row is not known (a refusal sent back in the
                        // address, without the wasm) shows under the table.
                        {move || test.answered_field("id").is_none().then(|| test.answer::<String>()).flatten().map(test_result)}
                        <FormError action=add_filter />
                        <FormError action=update />
                        <FormError action=toggle />
                        <FormError action=delete />
                        <FormError action=delete_filter />
                        {subscribable.then(|| view! {
                            <PostForm action=subscribe attr:class="subscribe">
                                <input type="hidden" name="owner_kind" value=owner_kind />
                                <input type="hidden" name="owner_id" value=owner_id.to_string() />
                                <input type="hidden" name="on" value=(!subscribed).to_string() />
                                <button type="submit" class="small">{if subscribed { "Unsubscribe me" } else { "Subscribe me" }}</button>
                                <span class="muted">" — your own notifiers (on your profile) hear its alerts"</span>
                            </PostForm>
                            <FormError action=subscribe />
                            {no_own_notifier.then(|| view! {
                                <p class="warning" data-testid="no-own-notifier">
                                    "You have no notifier of your own yet, so a subscription tells nobody. "
                                    <a href="/profile#notifiers">"Add one on your profile"</a> "."
                                </p>
                            })}
                        })}
                        <Show when=move || edit>
                            <NotifierForm owner_kind owner_id create />
                        </Show>
                    }.into_any()
                })}
            </Transition>
        </section>
    }
}

/// What the buttons on a notifier's row do.
#[derive(Clone, Copy)]
struct RowActions {
    toggle: PostAction,
    test: PostAction,
    update: PostAction,
    delete: PostAction,
    add_filter: PostAction,
    delete_filter: PostAction,
}

#[component]
fn NotifierRow(n: Notifier, edit: bool, actions: RowActions) -> impl IntoView {
    let RowActions { toggle, test, update, delete, add_filter, delete_filter } = actions;
    let id = n.id;
    let (alias, subject, body) = (n.alias.clone(), n.subject_template.clone(), n.body_template.clone());
    let filters = n
        .filters
        .iter()
        .map(|f| {
            let fid = f.id;
            let ask = Signal::stored(format!("Remove the filter {}={}?", f.name, f.value));
            view! {
                <span class="chip">{f.name.clone()} "=" {f.value.clone()}
                    <Show when=move || edit>
                        <PostForm action=delete_filter attr:class="inline">
                            <input type="hidden" name="id" value=fid.to_string() />
                            <ConfirmSubmit label="Remove" class="small" question=ask />
                        </PostForm>
                    </Show>
                </span>
            }
        })
        .collect_view();
    let target = format!("{} {}", n.kind.as_str(), n.label());
    let disable_question =
        Signal::stored(format!("Disable the notifier {target}? Alerts are not sent to it until it is enabled again."));
    let delete_question = Signal::stored(format!("Delete the notifier {target} and its filters?"));
    view! {
        <tr class:disabled=!n.enabled>
            <td>{n.kind.label()}</td>
            <td>{n.label().to_string()}</td>
            <td>
                {filters}
                <Show when=move || edit>
                    <PostForm action=add_filter attr:class="filter-form">
                        <input type="hidden" name="id" value=id.to_string() />
                        <input type="text" name="name" placeholder="label" size=8 aria-label="Filter: label name" />
                        <input type="text" name="value" placeholder="value" size=8 aria-label="Filter: label value" />
                        <button type="submit" class="small">"Add filter"</button>
                    </PostForm>
                </Show>
            </td>
            <td>{if n.enabled { "enabled" } else { "disabled" }}</td>
            <td>
                <Show when=move || edit>
                    <PostForm action=toggle attr:class="inline">
                        <input type="hidden" name="id" value=id.to_string() />
                        <input type="hidden" name="enabled" value=(!n.enabled).to_string() />
                        {if n.enabled {
                            view! { <ConfirmSubmit label="Disable" class="small" question=disable_question /> }.into_any()
                        } else {
                            view! { <button type="submit" class="small">"Enable"</button> }.into_any()
                        }}
                    </PostForm>
                    <PostForm action=test attr:class="inline">
                        <input type="hidden" name="id" value=id.to_string() />
                        <button type="submit" class="small">"Test"</button>
                    </PostForm>
                    <PostForm action=delete attr:class="inline">
                        <input type="hidden" name="id" value=id.to_string() />
                        <ConfirmSubmit label="Delete" class="small danger" question=delete_question />
                    </PostForm>
                    <NotifierEdit id alias=alias.clone() subject=subject.clone() body=body.clone() update />
                </Show>
                // The test's result in the row tested (it showed under the table).
                {move || (test.answered_field("id") == Some(id.to_string())).then(|| test.answer::<String>()).flatten().map(test_result)}
            </td>
        </tr>
    }
    // Erased: the row's full type is too deep for the compiler's layout of the table.
    .into_any()
}

/// What a notifier's test answered.
fn test_result(answer: Result<String, AppError>) -> AnyView {
    match answer {
        Ok(m) => view! { <p class="ok" role="status">{m}</p> }.into_any(),
        Err(e) => view! { <p class="error" role="alert">{sentence(&e.to_string())}</p> }.into_any(),
    }
}

/// A notifier's alias and message templates, to change.
#[component]
fn NotifierEdit(id: NotifierId, alias: String, subject: String, body: String, update: PostAction) -> impl IntoView {
    view! {
        <details class="edit-notifier" open=super::just_saved_row(update, &id.to_string())>
            <summary>"Edit"</summary>
            <PostForm action=update>
                <input type="hidden" name="id" value=id.to_string() />
                <label class="field">
                    <span>"Alias"</span>
                    <input type="text" name="alias" value=alias autocomplete="off" />
                </label>
                <label class="field">
                    <span>"Subject template (email subject; chat: resolved message)"</span>
                    <textarea name="subject_template" rows=2 placeholder=DEFAULT_SUBJECT_TEMPLATE inner_html=textarea_html(&subject)></textarea>
                </label>
                <label class="field">
                    <span>"Body template (email body; chat: firing message)"</span>
                    <textarea name="body_template" rows=6 placeholder=DEFAULT_BODY_TEMPLATE inner_html=textarea_html(&body)></textarea>
                </label>
                <button type="submit" class="small">"Save"</button>
            </PostForm>
            <super::RowSaved action=update id=id.to_string() />
        </details>
    }
}

#[component]
fn NotifierForm(owner_kind: &'static str, owner_id: i64, create: PostAction) -> impl IntoView {
    let kinds: Vec<NotifierKind> = NotifierKind::ALL
        .into_iter()
        .filter(|k| *k != NotifierKind::User || owner_kind == "service" || owner_kind == "project")
        .collect();
    let (help, set_help) = signal(NotifierKind::Email.value_help());
    view! {
        <details class="add-notifier">
            <summary>"Add a notifier"</summary>
            <PostForm action=create>
                <input type="hidden" name="owner_kind" value=owner_kind />
                <input type="hidden" name="owner_id" value=owner_id.to_string() />
                <div class="row">
                    <label class="field">
                        <span>"Kind"</span>
                        <select name="kind" on:change=move |ev| {
                            set_help.set(NotifierKind::parse(&event_target_value(&ev)).map_or("", NotifierKind::value_help))
                        }>
                            {kinds.into_iter().map(|k| view! { <option value=k.as_str()>{k.label()}</option> }).collect_view()}
                        </select>
                    </label>
                    <label class="field">
                        <span>{move || sentence(help.get())}</span>
                        <input type="text" name="value" autocomplete="off" />
                    </label>
                    <label class="field">
                        <span>"Alias (shown instead of the value)"</span>
                        <input type="text" name="alias" autocomplete="off" />
                    </label>
                </div>
                <details>
                    <summary>"Message templates (Jinja; empty for Promgen's)"</summary>
                    <label class="field">
                        <span>"Subject template (email subject; chat: resolved message)"</span>
                        <textarea name="subject_template" rows=2 placeholder=DEFAULT_SUBJECT_TEMPLATE inner_html=textarea_html("")></textarea>
                    </label>
                    <label class="field">
                        <span>"Body template (email body; chat: firing message)"</span>
                        <textarea name="body_template" rows=6 placeholder=DEFAULT_BODY_TEMPLATE inner_html=textarea_html("")></textarea>
                    </label>
                </details>
                <button type="submit">"Add notifier"</button>
            </PostForm>
            <FormError action=create />
        </details>
    }
}
