//! Pieces the pages share.

mod browser_fetch;
mod change_diff;
mod confirm;
pub mod deferred;
mod field;
mod held;
mod keep_focus;
mod keep_typed;
mod live_feed;
mod members;
mod nav;
mod notifiers;
mod post;
mod rule_editor;
mod rules;
mod session;
mod when;

pub use browser_fetch::browser_fetch;
pub use change_diff::ChangeDiff;
pub use confirm::{ConfirmSubmit, DeleteZone};
#[cfg(feature = "hydrate")]
pub use deferred::sections_hydrated;
pub use field::{Field, TextArea, checked, checks, rcdata_text, textarea_html};
pub use held::{Held, Sections};
#[cfg(any(feature = "hydrate", feature = "csr"))]
pub use keep_focus::keep_focus;
#[cfg(any(feature = "hydrate", feature = "csr"))]
pub use keep_typed::keep_typed;
pub use live_feed::live_feed;
pub use members::MembersPanel;
pub use nav::{Nav, login_href};
pub use notifiers::NotifiersSection;
pub use post::{Answer, PostAction, PostForm, Posted, SaidAfterPost};
pub use rule_editor::{RuleEditor, TestResult, test_fields};
pub use rules::RulesSection;
pub use session::{Session, SiteAdminOnly};
pub use when::{When, exact_text, provide_clock};

use crate::error::AppError;
use crate::model::{FormChoices, LabelMap, ShardId};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

/// Sends the page elsewhere: on the server a real 302 with `Location: path`, in the browser a
/// client-side navigation. Not Leptos' `<Redirect>` alone: it answers 302 only to requests that
/// accept text/html (it takes the others for its own server-function client), so a script's
/// plain GET of a page got a 200 with nothing on it. Every page request is a navigation.
#[component]
pub fn RedirectTo(path: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(location) = axum::http::HeaderValue::from_str(&path)
    {
        res.set_status(axum::http::StatusCode::FOUND);
        res.insert_header(axum::http::header::LOCATION, location);
        return ().into_any();
    }
    view! { <Redirect path=path /> }.into_any()
}

/// A page refused whole (a missing object, a page one may not see): a heading for the kind of
/// refusal by its HTTP status, then the error ([`ErrorView`], which also sets the status and
/// sends an anonymous visitor to the login page, with no heading).
#[component]
pub fn PageError(error: AppError) -> impl IntoView {
    let heading = match error.status() {
        401 => None,
        403 => Some("Not allowed"),
        404 => Some("Not found"),
        400..=499 => Some("Cannot be shown"),
        _ => Some("Something went wrong"),
    };
    view! {
        {heading.map(|h| view! { <Title text=h /> <h1>{h}</h1> })}
        <ErrorView error />
    }
}

/// Shows an error; an anonymous visitor is sent to the login page. On the server it also sets
/// the HTTP status (a visitor gets a 302 to the login page).
#[component]
pub fn ErrorView(error: AppError) -> impl IntoView {
    if error == AppError::Unauthenticated {
        // Back to this page after the login.
        let here = leptos_router::hooks::use_location();
        let path = login_href(&here.pathname.get_untracked(), &here.search.get_untracked());
        return view! { <RedirectTo path /> }.into_any();
    }
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(code) = axum::http::StatusCode::from_u16(error.status())
    {
        res.set_status(code);
    }
    view! { <p class="error" role="alert">{sentence(&error.to_string())}</p> }.into_any()
}

/// Server messages as pages show them (see [`crate::model::sentence`]).
pub use crate::model::sentence;

/// The error of `action`'s last submission, if it failed. Put it after its form: in the
/// browser the message moves under the field the error names (see [`AppError::field`]), in the
/// form whose post it answers (one action may serve a form on every row) or else the form right before;
/// the field is marked invalid, tied to the message (`aria-describedby`) and focused; the typed
/// values stay. An error without a field (or with one the form does not show) stays here, as
/// it does without the wasm.
#[component]
pub fn FormError(action: PostAction) -> impl IntoView {
    let message = NodeRef::<leptos::html::P>::new();
    // `try_get`: while the server renders, a form inside a Suspense that resolved again may be
    // disposed before its error is read (leptos' dry_resolve); that renders nothing, not a panic.
    let error = move || action.value().try_get().flatten().and_then(Result::err);
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    {
        use std::cell::RefCell;
        use std::rc::Rc;
        // What this message and other rows' standing refusals were put at, taken back when
        // the answer changes; the latest way of placing them, run again when the page changes
        // and they went with a redrawn list (or were not placed: their form was not drawn).
        let placements = Rc::new(RefCell::new(Placements::default()));
        let current = Rc::new(RefCell::new(None::<Rc<dyn Fn(bool)>>));
        let again: Rc<dyn Fn()> = Rc::new({
            let (placements, current) = (placements.clone(), current.clone());
            move || {
                let place = current.borrow().clone();
                if placements.borrow().stale(action)
                    && let Some(place) = place
                {
                    place(false);
                }
            }
        });
        on_page_change(&again);
        // Lives as long as this component: the watcher holds it weakly.
        StoredValue::new_local(again);
        // The first run is the form (re)appearing with an earlier answer (hydration, or a list
        // around it refetched): that answer is shown again but takes neither focus nor scroll.
        Effect::new(move |first_done: Option<()>| {
            let error = error();
            let p = message.get();
            let place: Rc<dyn Fn(bool)> = Rc::new({
                let placements = placements.clone();
                move |new_answer: bool| {
                    let mut at = placements.borrow_mut();
                    at.take_back(p.as_ref());
                    for (form, refusal) in action.earlier_refusals() {
                        match form.and_then(|form| place_earlier(form, &refusal)) {
                            Some(placed) => at.earlier.push(placed),
                            None => at.missing_earlier += 1,
                        }
                    }
                    let Some(p) = &p else { return };
                    // The same element shows the next error, which may have no field.
                    let _ = p.remove_attribute("hidden");
                    let _ = p.set_attribute("role", "alert");
                    let Some(field) = error.as_ref().and_then(AppError::field) else { return };
                    match action.answered_form() {
                        Some(form) => at.primary = mark_field(p, Some(form), field, new_answer),
                        // The row it was for is not drawn (deleted, or its list not yet in).
                        None if action.answered_a_form() => {
                            let _ = p.set_attribute("hidden", "");
                            at.primary_lost = true;
                        }
                        None => at.primary = mark_field(p, None, field, new_answer),
                    }
                }
            });
            place(first_done.is_some());
            *current.borrow_mut() = Some(place);
        });
    }
    // A session that ended while the form was filled: logging in in another tab keeps what
    // was typed here, to send again.
    let here = leptos_router::hooks::use_location();
    let log_in = move || {
        let href = login_href(&here.pathname.get_untracked(), &here.search.get_untracked());
        view! {
            "Not logged in (the session may have ended): "
            <a href=href target="_blank" rel="noopener">"log in in a new tab"</a>
            ", then send again; what you typed stays."
        }
    };
    // The field's name is a part of its own: under the field (labelled right above) only the
    // message goes; the labels the server names fields by need not match the form's words.
    (move || {
        error().map(|e| {
            let (name, text) = refusal_words(&e);
            view! {
                <p class="error" role="alert" node_ref=message>
                    {name.map(|n| view! { <span class="field-name">{n}</span> })}
                    {(e != AppError::Unauthenticated).then_some(text)}
                    {(e == AppError::Unauthenticated).then(log_in)}
                </p>
            }
        })
    })
    .into_any()
}

/// "Saved." after an edit form while its action's last answer is a success (until the next
/// post): an edit whose change shows nowhere else on the page still says it was kept. A
/// status (`role=status`): read out without taking the focus. Put it after the form's
/// [`FormError`]; a form in a `<details>` that the save redraws keeps it open with
/// [`just_saved`].
#[component]
pub fn Saved(action: PostAction) -> impl IntoView {
    let saved = move || !action.pending().get() && matches!(action.value().try_get().flatten(), Some(Ok(_)));
    move || saved().then(|| view! { <p class="ok" role="status">"Saved."</p> })
}

/// Whether `action`'s last answer is a success, read once (not tracked): a `<details>` drawn
/// anew after its form saved opens with it, so its [`Saved`] shows.
pub fn just_saved(action: PostAction) -> bool {
    action.value().try_get_untracked().flatten().is_some_and(|a| a.is_ok())
}

/// [`Saved`] for one row of a list whose rows' edit forms share `action`: shown in the row
/// whose form (its hidden `id`) was saved, not in every row.
#[component]
pub fn RowSaved(action: PostAction, id: String) -> impl IntoView {
    move || (action.answered_field("id").as_deref() == Some(id.as_str())).then(|| view! { <Saved action /> })
}

/// [`just_saved`] for the row whose hidden `id` is `id`: its edit disclosure, drawn anew with
/// the list, opens with its [`RowSaved`].
pub fn just_saved_row(action: PostAction, id: &str) -> bool {
    just_saved(action) && untrack(|| action.answered_field("id")).as_deref() == Some(id)
}

/// A refusal's words: the field's name as its form labels it (`Port: `), when it names one,
/// and the message as a sentence.
fn refusal_words(e: &AppError) -> (Option<String>, String) {
    match e {
        AppError::Invalid(f) | AppError::Conflict(f) if !f.field.is_empty() => {
            (Some(format!("{}: ", crate::model::validate::field_label(&f.field))), sentence(&f.message))
        }
        _ => (None, sentence(&e.to_string())),
    }
}

/// An earlier refusal of `form` (another row's than the action's last answer) put at its
/// field, or, when it names none the form has, right after the form; never focused.
#[cfg(any(feature = "hydrate", feature = "csr"))]
fn place_earlier(form: web_sys::HtmlFormElement, refusal: &AppError) -> Option<Placed> {
    let document = form.owner_document()?;
    let p = document.create_element("p").ok()?;
    p.set_class_name("error");
    let (name, text) = refusal_words(refusal);
    p.set_text_content(Some(&text));
    let p: web_sys::HtmlParagraphElement = wasm_bindgen::JsCast::dyn_into(p).ok()?;
    if let Some(at) = refusal.field().and_then(|field| mark_field(&p, Some(form.clone()), field, false)) {
        return Some(at);
    }
    // No field to put it at: the whole message, field name included, after the form.
    p.set_text_content(Some(&format!("{}{text}", name.unwrap_or_default())));
    let _ = p.set_attribute("role", "alert");
    form.after_with_node_1(&p).ok()?;
    Some(Placed { at_field: p.into(), input: None })
}

/// What one [`FormError`] put at fields.
#[cfg(any(feature = "hydrate", feature = "csr"))]
#[derive(Default)]
struct Placements {
    /// Its message, at the field of the form answered.
    primary: Option<Placed>,
    /// Other rows' standing refusals ([`PostAction::earlier_refusals`]).
    earlier: Vec<Placed>,
    /// How many of `earlier` found no form (not drawn: deleted, or not yet drawn anew).
    missing_earlier: usize,
    /// The message's form is not drawn: it is hidden.
    primary_lost: bool,
}

#[cfg(any(feature = "hydrate", feature = "csr"))]
impl Placements {
    /// Everything back: the message's text into `message`, the others removed.
    fn take_back(&mut self, message: Option<&web_sys::HtmlParagraphElement>) {
        if let Some(old) = self.primary.take() {
            old.take_back(message);
        }
        for old in self.earlier.drain(..) {
            old.take_back(None);
        }
        self.missing_earlier = 0;
        self.primary_lost = false;
    }

    /// Whether to place them again: some went with the fields they were put at, or a form
    /// that was not drawn now is. (Not merely because some are missing: placing changes the
    /// page, which would call for placing again, without end.)
    fn stale(&self, action: PostAction) -> bool {
        // Gone with its field (a list drawn anew); a message its field's first change took
        // off (the field is still there) is over.
        let gone = |at: &Placed| !at.at_field.is_connected() && at.input.as_ref().is_none_or(|i| !i.is_connected());
        self.primary.as_ref().is_some_and(gone)
            || self.earlier.iter().any(gone)
            || (self.primary_lost && action.answered_form().is_some())
            || (self.missing_earlier > 0
                && action.earlier_refusals().iter().filter(|(form, _)| form.is_none()).count() < self.missing_earlier)
    }
}

/// Runs `again` after each change of the page while it lives (it is held weakly): one
/// watcher for every [`FormError`].
#[cfg(any(feature = "hydrate", feature = "csr"))]
fn on_page_change(again: &std::rc::Rc<dyn Fn()>) {
    use std::cell::RefCell;
    use std::rc::{Rc, Weak};
    thread_local! {
        static WATCHED: RefCell<Vec<Weak<dyn Fn()>>> = const { RefCell::new(Vec::new()) };
        static STARTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    WATCHED.with(|w| w.borrow_mut().push(Rc::downgrade(again)));
    let first = !STARTED.replace(true);
    if first {
        let on_change = wasm_bindgen::closure::Closure::<dyn Fn()>::new(|| {
            // Called outside the borrow: placing changes the page, which comes back here.
            let live: Vec<Rc<dyn Fn()>> = WATCHED.with(|w| {
                let mut all = w.borrow_mut();
                all.retain(|a| a.strong_count() > 0);
                all.iter().filter_map(Weak::upgrade).collect()
            });
            for again in live {
                again();
            }
        });
        keep_focus::on_body_change(&document(), on_change);
    }
}

/// A form error put at its field by [`mark_field`].
#[cfg(any(feature = "hydrate", feature = "csr"))]
struct Placed {
    /// The `small.field-error` under the field, holding the message's text.
    at_field: web_sys::Element,
    /// The field, marked invalid and described by `at_field` (none for a message about a whole
    /// form).
    input: Option<web_sys::Element>,
}

#[cfg(any(feature = "hydrate", feature = "csr"))]
impl Placed {
    /// Undoes [`mark_field`]: the text back into `message` (it is Leptos' own node, which it
    /// writes the next error into), the field's mark off (unless a change took it already).
    fn take_back(self, message: Option<&web_sys::HtmlParagraphElement>) {
        if let Some(message) = message {
            move_children(&self.at_field, message);
        }
        self.at_field.remove();
        if let Some(input) = self.input.filter(|i| i.get_attribute("aria-describedby") == Some(self.at_field.id())) {
            let _ = input.set_attribute("aria-invalid", "false");
            let _ = input.remove_attribute("aria-describedby");
        }
    }
}

/// Puts `message` (the form's error) at the field `field` of the form `sent` (or else the form
/// just before the message, the one that rendered it without the wasm): its text
/// moves under the field (into a `small.field-error`, announced), the field is marked invalid
/// and described by it, a closed `<details>` around it opens, and the emptied message is hidden.
/// A new answer (`new_answer`) also focuses the field and scrolls the message into view. `None`
/// when the form has no such field one can see.
#[cfg(any(feature = "hydrate", feature = "csr"))]
fn mark_field(
    message: &web_sys::HtmlParagraphElement,
    sent: Option<web_sys::HtmlFormElement>,
    field: &str,
    new_answer: bool,
) -> Option<Placed> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use wasm_bindgen::JsCast;
    static PLACED: AtomicUsize = AtomicUsize::new(0);
    let form = match sent {
        Some(form) => form.into(),
        None => form_before(message)?,
    };
    let input = field_input(&form, field)?;
    // Right under the field (above its own check's line, which is empty then: it was valid).
    let at_field = input.owner_document()?.create_element("small").ok()?;
    // Numbered only: a field's name may hold spaces (`labels.a b`), which split an id reference.
    let id = format!("form-error-{}", PLACED.fetch_add(1, Ordering::Relaxed));
    at_field.set_id(&id);
    at_field.set_class_name("field-error");
    let _ = at_field.set_attribute("role", "alert");
    move_children(message, &at_field);
    input.parent_node()?.insert_before(&at_field, input.next_sibling().as_ref()).ok()?;
    // A field in a folded part of the form (the notifier's message templates) is shown.
    let mut folded = input.closest("details:not([open])").ok().flatten();
    while let Some(details) = folded {
        let _ = details.set_attribute("open", "");
        folded = details.closest("details:not([open])").ok().flatten();
    }
    let _ = message.set_attribute("hidden", "");
    let _ = message.remove_attribute("role");
    let _ = input.set_attribute("aria-invalid", "true");
    let _ = input.set_attribute("aria-describedby", &id);
    // The mark and the message go with the field's first change, typed or pasted: its own
    // check (if any) says from then on. (The reactive attribute of a checked field writes only
    // when its value changes, so it would not take the mark back.)
    let unmark = wasm_bindgen::closure::Closure::once_into_js({
        let input = input.clone();
        let at_field = at_field.clone();
        move || {
            if input.get_attribute("aria-describedby").as_deref() == Some(at_field.id().as_str()) {
                let _ = input.set_attribute("aria-invalid", "false");
                let _ = input.remove_attribute("aria-describedby");
            }
            at_field.remove();
        }
    });
    let once = web_sys::AddEventListenerOptions::new();
    once.set_once(true);
    let _ =
        input.add_event_listener_with_callback_and_add_event_listener_options("input", unmark.unchecked_ref(), &once);
    if new_answer {
        if let Some(input) = input.dyn_ref::<web_sys::HtmlElement>() {
            let _ = input.focus();
        }
        // Focus shows the field; on a phone the message under it may still be below the fold.
        let nearest = web_sys::ScrollIntoViewOptions::new();
        nearest.set_block(web_sys::ScrollLogicalPosition::Nearest);
        at_field.scroll_into_view_with_scroll_into_view_options(&nearest);
    }
    Some(Placed { at_field, input: Some(input) })
}

/// The input of `form` that the server's field name `field` means: the one by that name (one
/// can see and change: a quick-add button's hidden input is not it), or for `labels.team` the
/// value of the row (of `labels[i][key]` and `labels[i][value]`, the rule editor's) whose name
/// is `team`. Field names come from the server's validators; anything else is not looked up.
#[cfg(any(feature = "hydrate", feature = "csr"))]
fn field_input(form: &web_sys::Element, field: &str) -> Option<web_sys::Element> {
    use wasm_bindgen::JsCast;
    let plain = |name: &str| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let Some((rows, key)) = field.split_once('.') else {
        return plain(field)
            .then(|| form.query_selector(&format!("[name=\"{field}\"]:not([type=hidden])")).ok().flatten())?;
    };
    if !plain(rows) {
        return None;
    }
    let names = form.query_selector_all(&format!("input[name^=\"{rows}[\"][name$=\"][key]\"]")).ok()?;
    let name = (0..names.length())
        .filter_map(|i| names.item(i)?.dyn_into::<web_sys::HtmlInputElement>().ok())
        .find(|n| n.value().trim() == key)?;
    // `labels[3][key]` → `labels[3][value]`, checked to be no more than that.
    let value = format!("{}[value]", name.name().strip_suffix("[key]")?);
    let ours = value.strip_prefix(rows)?.chars().all(|c| c.is_ascii_alphanumeric() || "[]_".contains(c));
    ours.then(|| form.query_selector(&format!("[name=\"{value}\"]")).ok().flatten())?
}

/// The form right before `message`, past the other forms' errors (several may follow one
/// form); anything else between means the message is not about a form.
#[cfg(any(feature = "hydrate", feature = "csr"))]
fn form_before(message: &web_sys::HtmlParagraphElement) -> Option<web_sys::Element> {
    let mut el = message.previous_element_sibling()?;
    while !el.tag_name().eq_ignore_ascii_case("form") {
        if !(el.tag_name().eq_ignore_ascii_case("p") && el.class_list().contains("error")) {
            return None;
        }
        el = el.previous_element_sibling()?;
    }
    Some(el)
}

/// Moves every child node of `from` to the end of `to`, but a `span.field-name` (the field's
/// name in a form's message stays with it).
#[cfg(any(feature = "hydrate", feature = "csr"))]
fn move_children(from: &web_sys::Element, to: &web_sys::Element) {
    use wasm_bindgen::JsCast;
    let mut next = from.first_child();
    while let Some(child) = next {
        next = child.next_sibling();
        if child.dyn_ref::<web_sys::Element>().is_some_and(|e| e.class_list().contains("field-name")) {
            continue;
        }
        if to.append_child(&child).is_err() {
            return;
        }
    }
}

/// Runs `forget` (clearing a page's action answers: `action.value().set(None)`) when `key` (the
/// route's parameter) changes: a page kept for another object of its route (`/service/1` →
/// `/service/2` keeps the component, and so its actions) would show the first object's refusals
/// and results on the second. Pages call it through [`forget_answers!`].
pub fn forget_on_change<K>(key: impl Fn() -> K + Send + Sync + 'static, forget: impl Fn() + 'static)
where
    K: PartialEq + Clone + Send + Sync + 'static,
{
    Effect::watch(key, move |_, _, _| forget(), false);
}

/// `forget_answers!(key, [action, …])`: the actions' answers are forgotten when `key` changes
/// (see [`forget_on_change`]).
macro_rules! forget_answers {
    ($key:expr, [$($action:ident),+ $(,)?]) => {
        $crate::components::forget_on_change($key, move || {
            $($action.value().set(None);)+
        })
    };
}
pub(crate) use forget_answers;

/// How many times `action` has succeeded, or found what it acts on gone (a 404: deleted in
/// another tab or by another user, whose row stayed until the next change): what the lists it
/// changes refetch on. Its `version()` also counts the other refusals, after which the list
/// has not changed. A success also empties the form that was sent (`form.reset()`,
/// back to what it was drawn with; without one, every form of the action): a page drawn again
/// keeps its elements where it can, and with them what was typed, which a second submit sent
/// again ("tok1tok1"). Other forms are not emptied: where the page draws its view again after
/// the change (the project page does), [`keep_typed`] puts what they held back.
pub fn successes(action: PostAction) -> Signal<usize> {
    let count = RwSignal::new(0usize);
    Effect::new(move || {
        let (done, gone) =
            action.value().with(|v| (matches!(v, Some(Ok(_))), matches!(v, Some(Err(AppError::NotFound(_))))));
        if done || gone {
            count.update(|n| *n += 1);
        }
        if done {
            #[cfg(any(feature = "hydrate", feature = "csr"))]
            match action.answered_form() {
                Some(form) => form.reset(),
                None => reset_forms(action.path()),
            }
        }
    });
    count.into()
}

/// Resets every form of the page that posts to `url`.
#[cfg(any(feature = "hydrate", feature = "csr"))]
fn reset_forms(url: &str) {
    use wasm_bindgen::JsCast;
    let Ok(forms) = document().query_selector_all("main form") else { return };
    for i in 0..forms.length() {
        if let Some(form) = forms.item(i).and_then(|n| n.dyn_into::<web_sys::HtmlFormElement>().ok())
            && form.get_attribute("action").as_deref() == Some(url)
        {
            form.reset();
        }
    }
}

/// After a creation succeeds, goes to what was created: `href` makes its page's path from
/// the server's answer. (On failure the form stays as typed, with the error under it.)
pub fn land_on<T: serde::de::DeserializeOwned + 'static>(action: PostAction, href: impl Fn(&T) -> String + 'static) {
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move || {
        if let Some(Ok(created)) = action.answer::<T>() {
            navigate(&href(&created), Default::default());
        }
    });
}

/// For site admins, a warning while the site's links may point elsewhere than where users
/// reach it (see [`crate::api::rules::site_address_warning`]); nothing for anyone else.
/// Asked again when `changes` (the site address form's successes) goes up: it stayed after the
/// address was set right, until a reload.
#[component]
pub fn AddressWarning(#[prop(optional, into)] changes: Option<Signal<usize>>) -> impl IntoView {
    let warning = Resource::new(move || changes.map(|c| c.get()), |_| crate::api::rules::site_address_warning());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                warning.await.ok().flatten().map(|w| view! {
                    <p class="card warning" role="status" data-testid="address-warning">{w}</p>
                })
            })}
        </Suspense>
    }
}

/// The submit handler of a GET form (`<form method="GET" action=action on:submit=…>`): the
/// router goes to `action?<the form's named fields>` within the page, as the browser would go
/// there in full; without wasm the form is a plain GET form. Not leptos_router's `<Form>`,
/// which cost each page that has one 10 KB of wasm and appended the submit button without a
/// name to the query (`/user?q=adm&=`).
pub fn get_within_page(action: &'static str) -> impl Fn(leptos::ev::SubmitEvent) + Clone + 'static {
    let navigate = leptos_router::hooks::use_navigate();
    move |ev| {
        #[cfg(any(feature = "hydrate", feature = "csr"))]
        if let Some((_, query)) = post::form_body(&ev) {
            ev.prevent_default();
            navigate(&format!("{action}?{query}"), Default::default());
        }
        #[cfg(not(any(feature = "hydrate", feature = "csr")))]
        let _ = (ev, &navigate, action);
    }
}

/// A value made safe for a URL's query string.
pub fn query_value(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// Links to an object's Prometheus files and history.
#[component]
pub fn ObjectLinks(kind: &'static str, id: i64, name: String) -> impl IntoView {
    let q = query_value(&name);
    view! {
        <p class="links">
            <a href=format!("/api/v1/targets?{kind}={q}") rel="external">"Targets file"</a>
            <a href=format!("/api/v1/urls?{kind}={q}") rel="external">"URLs file"</a>
            <a href=format!("/audit?type={kind}&id={id}")>"History"</a>
        </p>
    }
}

/// The shard picker of the project forms. The `<Suspense>` stays outside the `<select>`: its
/// markers may not live inside one, or hydration fails. `submit`: the label of the form's
/// button, drawn here when given, disabled while there is no shard to choose (the warning
/// under the picker says why).
#[component]
pub fn ShardSelect(
    choices: Held<FormChoices>,
    #[prop(optional)] selected: Option<ShardId>,
    #[prop(optional)] submit: Option<&'static str>,
) -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let shards: Vec<_> = choices
                    .read()
                    .await
                    .map(|c| c.shards)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|s| s.enabled || Some(s.id) == selected)
                    .collect();
                // None to choose: the form cannot be sent (`required`), and says what to do.
                let none = shards.is_empty();
                view! {
                    <label class="field">
                        <span>"Shard"</span>
                        <select name="shard_id" required>
                            {none.then(|| view! { <option value="">"No shard yet"</option> })}
                            {shards.into_iter().map(|s| view! {
                                <option value=s.id.to_string() selected=Some(s.id) == selected>{s.name}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    {none.then(|| view! {
                        <p class="warning" id="no-shard">"A project needs a shard: " <a href="/shard">"add one under Shards"</a> " first."</p>
                    })}
                    {submit.map(|label| view! {
                        <button type="submit" disabled=none aria-describedby=none.then_some("no-shard")>{label}</button>
                    })}
                }
            })}
        </Suspense>
    }
}

/// Labels as chips; values are text, never markup.
#[component]
pub fn LabelChips(labels: LabelMap) -> impl IntoView {
    labels.into_iter().map(|(k, v)| view! { <span class="chip">{k} "=" {v}</span> }).collect_view()
}

/// A spinner-free loading line.
#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="muted">"Loading…"</p> }
}

#[cfg(test)]
mod tests {
    use super::sentence;

    /// Every action a page or component dispatches shows a refusal somewhere: a `FormError`,
    /// its own view of the answer, or the component it is handed to (`DeleteZone` has one). (Deleting a row someone
    /// else deleted answered 404 and showed nothing.)
    #[test]
    fn every_action_shows_its_refusal() {
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut silent = Vec::new();
        for dir in ["pages", "components"] {
            for entry in std::fs::read_dir(format!("{src}/{dir}")).unwrap() {
                let path = entry.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap();
                for line in text.lines() {
                    let Some((name, _)) =
                        line.trim().strip_prefix("let ").and_then(|rest| rest.split_once(" = PostAction::new::<"))
                    else {
                        continue;
                    };
                    let shown = [
                        format!("<FormError action={name} />"),
                        format!("{name}.value().get()"),
                        format!("{name}.answer::<"),
                        format!("<TestResult {name} />"),
                        format!("update={name} "),
                        format!("<DeleteZone action={name} "),
                    ];
                    if !shown.iter().any(|s| text.contains(s.as_str())) {
                        silent.push(format!("{}: {name}", path.display()));
                    }
                }
            }
        }
        assert!(silent.is_empty(), "actions whose refusal nothing shows: {silent:?}");
    }

    /// The first letter becomes a capital, whatever script it is in; the rest is as written.
    #[test]
    fn messages_start_with_a_capital() {
        assert_eq!(sentence("wrong username or password"), "Wrong username or password");
        assert_eq!(sentence("Name: is required"), "Name: is required");
        assert_eq!(sentence("élan: x"), "élan: x");
        assert_eq!(sentence(""), "");
        assert_eq!(sentence("\"web\" exists"), "\"web\" exists");
    }
}
