//! Silences: the form (prefilled by the mute buttons of other pages through `?matchers=`) and
//! the active and pending silences of every configured Alertmanager with who made them; the
//! alerts the Alertmanagers hold now are the alerts page's ([`HeldAlertsPanel`]), linked from
//! here: on this page their code put its first load over the wasm budget.

use crate::api::silences::{CreateSilence, ExpireSilence, alertmanager_alerts, list_silences};
use crate::components::{
    ConfirmSubmit, ErrorView, Field, FormError, Loading, PostAction, PostForm, When, checked, checks, exact_text,
    successes,
};
use crate::model::silences::*;
use leptos::prelude::*;
use leptos_meta::Title;

/// What the page says where an Alertmanager is needed and none is configured.
const NO_ALERTMANAGER: &str = "No Alertmanager is configured: start the server with --alertmanager-url.";
/// Why the form is disabled for one who may silence nothing (the backend's refusal, said first).
const NO_ROLE: &str = "Silencing needs the Editor or Admin role on a service or project: ask one of its Admins.";

/// The live check of the matchers field: what the server would refuse.
fn check_matcher_text(text: &str) -> Option<String> {
    match parse_matchers(text) {
        Ok(ms) if ms.is_empty() => None,
        Ok(ms) => check_matchers(&ms).err(),
        Err(e) => Some(e),
    }
}

#[component]
pub fn SilencesPage() -> impl IntoView {
    let query = super::query();
    let create = PostAction::new::<CreateSilence>();
    let create_done = successes(create);
    // Once a silence is made the mute button's matchers are not offered again (a second click
    // made a twin): its success empties the form to what it is drawn with, now nothing.
    let prefill = move || if create_done.get() > 0 { String::new() } else { query("matchers").unwrap_or_default() };
    let expire = PostAction::new::<ExpireSilence>();
    let expire_done = successes(expire);
    let silences = Resource::new(move || (create_done.get(), expire_done.get()), |_| list_silences());
    // "Silenced …" is stale once a silence was expired (it may be that one).
    Effect::watch(move || expire_done.get(), move |_, _, _| create.value().set(None), false);
    // With no Alertmanager, or for one who may silence nothing, the form cannot succeed: its
    // button says why before anything is sent (in the browser; a plain post is refused).
    let (blocked, set_blocked) = signal(None::<&'static str>);
    Effect::new(move || {
        if let Some(Ok(list)) = silences.get() {
            set_blocked.set(if list.unconfigured {
                Some(NO_ALERTMANAGER)
            } else {
                (!list.may_silence).then_some(NO_ROLE)
            });
        }
    });
    // What is wrong with the matchers: those typed, else those a mute button prefilled (a site
    // rule's alert name alone is refused, and the page says so before anything is sent).
    let (typed, set_typed) = signal(None::<Option<String>>);
    let message = move || typed.get().unwrap_or_else(|| check_matcher_text(&prefill()));
    view! {
        <Title text="Silences" />
        <h1>"Silences"</h1>
        <section class="card">
            <h2>"Silence alerts"</h2>
            <p class="muted">
                "Matchers as Alertmanager writes them: " <code>"service=\"web\", instance=~\"db-.*\""</code>
                ". Operators: = != =~ !~ (regexes match the whole value)."
            </p>
            <PostForm action=create>
                <label class="field">
                    <span>"Matchers"</span>
                    <input
                        type="text"
                        name="matchers"
                        autocomplete="off"
                        value=prefill
                        aria-invalid=move || message().is_some().to_string()
                        on:input=move |ev| set_typed.set(Some(checked(Some(check_matcher_text), &ev)))
                    />
                    <small class="field-error">{message}</small>
                </label>
                <div class="row">
                    <Field label="For" name="duration" value="1h" placeholder="2h, 1h30m, 1d" check=checks::silence_duration />
                    <PickedTime label="From" hint="empty: now" name="starts_at" />
                    <PickedTime label="Until" hint="instead of For" name="ends_at" />
                </div>
                <Field label="Comment" name="comment" placeholder="Silenced from Promgen" />
                <button type="submit" disabled=move || blocked.get().is_some() title=blocked>
                    "Silence"
                </button>
                {move || blocked.get().map(|why| view! { <p class="muted">{why}</p> })}
            </PostForm>
            <FormError action=create />
            {move || create.answer::<SilenceMade>().and_then(Result::ok).map(|made| view! {
                <p class="ok" role="status">
                    "Silenced the alerts matching " <code>{made.matchers}</code> ", from "
                    {exact_text(&made.starts_at)} " until " {exact_text(&made.ends_at)} "."
                </p>
                {made.warnings.into_iter().map(|w| view! { <p class="warning">{w}</p> }).collect_view()}
            })}
        </section>
        <section class="card">
            <h2>"Active and pending"</h2>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match silences.await {
                        Ok(list) => view! { <SilenceTable list expire /> }.into_any(),
                        Err(e) => view! { <ErrorView error=e /> }.into_any(),
                    }
                })}
            </Transition>
            <FormError action=expire />
            {move || expire.answer::<()>().and_then(Result::ok).map(|_| view! { <p class="ok" role="status">"Expired."</p> })}
        </section>
        <p class="links"><a href="/alert">"The alerts Alertmanager holds now"</a></p>
    }
}

/// A time picked in the reader's zone: a `datetime-local` field (which has none), sent as the
/// instant it names there ([`crate::components::PostForm`]). Once the page is live the label
/// names the zone; before, and without the wasm, it says UTC, and the time is read so.
#[component]
fn PickedTime(label: &'static str, hint: &'static str, name: &'static str) -> impl IntoView {
    let zone = RwSignal::new(None::<String>);
    Effect::new(move || zone.set(browser_zone()));
    view! {
        <label class="field">
            <span>{label} " (" {move || zone.get().unwrap_or_else(|| "UTC".into())} "; " {hint} ")"</span>
            <input type="datetime-local" name=name />
        </label>
    }
}

/// The browser's time zone (`Asia/Tokyo`).
#[cfg(any(feature = "hydrate", feature = "csr"))]
fn browser_zone() -> Option<String> {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into()).ok()?.as_string()
}

#[cfg(not(any(feature = "hydrate", feature = "csr")))]
fn browser_zone() -> Option<String> {
    None
}

#[component]
fn SilenceTable(list: SilenceList, expire: PostAction) -> impl IntoView {
    if list.unconfigured {
        return view! { <p class="muted">"None: there is no Alertmanager to ask."</p> }.into_any();
    }
    let empty = list.silences.is_empty().then_some("No silence is active or pending.");
    let (warnings, empty) = answered(list.warnings, empty);
    if let Some(empty) = empty {
        return view! { {warnings} {empty} }.into_any();
    }
    view! {
        {warnings}
        <table class="list silences">
            <thead><tr><th>"Matchers"</th><th>"State"</th><th>"Starts"</th><th>"Ends"</th><th>"By"</th><th>"Comment"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
            <tbody>
                {list.silences.into_iter().map(|s| {
                    let (id, may_expire) = (s.id.clone(), s.may_expire);
                    view! {
                    <tr>
                        <td class="matchers">
                            {s.matchers.iter().enumerate().map(|(i, m)| view! { {(i > 0).then_some(", ")} <code>{m.to_string()}</code> }).collect_view()}
                        </td>
                        <td class=format!("state {}", s.state.as_str())>{s.state.as_str()}</td>
                        <td data-label="Starts"><When at=s.starts_at.clone() /></td>
                        <td data-label="Ends"><When at=s.ends_at.clone() /></td>
                        <td data-label="By">{s.created_by.clone()}</td>
                        <td>{s.comment.clone()}</td>
                        <td>
                            {may_expire.then(|| view! {
                                <PostForm action=expire attr:class="inline">
                                    <input type="hidden" name="id" value=id />
                                    <ConfirmSubmit label="Expire" class="small danger" question=expire_question(&s) />
                                </PostForm>
                            })}
                        </td>
                    </tr>
                }}).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// The alerts the Alertmanagers hold now, each with a link that silences it (the alerts
/// page's).
#[component]
pub fn HeldAlertsPanel() -> impl IntoView {
    let held = Resource::new(|| (), |_| alertmanager_alerts());
    view! {
        <section class="card">
            <h2>"Held by Alertmanager now"</h2>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match held.await {
                        Ok(h) if h.unconfigured => view! { <p class="muted">{NO_ALERTMANAGER}</p> }.into_any(),
                        Ok(h) => {
                            let empty = h.alerts.is_empty().then_some("Alertmanager holds no alert.");
                            let may_silence = h.may_silence;
                            let (warnings, empty) = answered(h.warnings, empty);
                            if let Some(empty) = empty {
                                return view! { {warnings} {empty} }.into_any();
                            }
                            view! {
                                {warnings}
                                <table class="list">
                                    <thead><tr><th>"Alert"</th><th>"Service"</th><th>"Project"</th><th>"Instance"</th><th>"State"</th><th>"Since"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                                    <tbody>
                                        {h.alerts.into_iter().map(|a| {
                                            let label = |k: &str| a.labels.get(k).cloned().unwrap_or_default();
                                            let matchers: Vec<Matcher> = ["alertname", "service", "project", "instance"]
                                                .iter()
                                                .filter_map(|k| a.labels.get(*k).map(|v| Matcher::equal(k, v)))
                                                .collect();
                                            let state = if a.silenced_by.is_empty() { a.state.clone() } else { "silenced".to_string() };
                                            view! {
                                                <tr>
                                                    <td>{label("alertname")}</td>
                                                    <td>{label("service")}</td>
                                                    <td>{label("project")}</td>
                                                    <td>{label("instance")}</td>
                                                    <td class=format!("state {state}")>{state.clone()}</td>
                                                    <td data-label="Since"><When at=a.starts_at.clone() /></td>
                                                    <td>{may_silence.then(|| view! { <SilenceButton matchers /> })}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorView error=e /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The warnings of Alertmanagers that did not answer, and what to say of an empty list
/// (`empty`, when it is): with warnings, that none is listed and what of is missing (not that
/// some answered: all may have failed).
fn answered(warnings: Vec<String>, empty: Option<&'static str>) -> (AnyView, Option<AnyView>) {
    let empty = empty.map(|text| {
        let text = match warnings.len() {
            0 => text.to_string(),
            1 => "None listed: the Alertmanager above did not answer, and what it holds is not shown.".to_string(),
            n => format!("None listed: the {n} Alertmanagers above did not answer, and what they hold is not shown."),
        };
        view! { <p class="muted">{text}</p> }.into_any()
    });
    (warnings.into_iter().map(|w| view! { <p class="warning">{w}</p> }).collect_view().into_any(), empty)
}

/// What expiring `s` does: a pending silence silenced nothing yet.
fn expire_question(s: &Silence) -> String {
    let matchers = format_matchers(&s.matchers);
    match s.state {
        SilenceState::Pending => format!("Expire the silence {matchers} before it starts?"),
        _ => format!("Expire the silence {matchers}? Its alerts are sent again."),
    }
}

/// A mute button: a link to the silence form with `matchers` filled in.
#[component]
pub fn SilenceButton(matchers: Vec<Matcher>) -> impl IntoView {
    // A plain link (the router still takes it): `<A>` marks one to the page it is on (the
    // silences page's own table) as the current page.
    view! { <a href=silence_link(&matchers) class="button small">"Silence"</a> }
}
