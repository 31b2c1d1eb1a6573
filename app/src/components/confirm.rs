//! A submit button that asks first: the first click turns it into the question naming what
//! will go, with "Yes, …" (the real submit) and "Cancel". Keyboard focus moves to the answer
//! and comes back to the button on cancel; when the answer's row leaves the page, focus goes
//! where [`super::keep_focus`] puts it. No browser dialog: it stays in the page, on a phone too.
//! Without scripts (the button cannot ask then, nor post) a disclosure asks instead: "Delete"
//! opens to the question and its "Yes, …". One question is open on a page at a time.

use leptos::html;
use leptos::prelude::*;

/// Inside a `<PostForm>` (or any form): `label` is the button's text ("Delete"), `question`
/// names what will go ("Delete the exporter node:9100 of web-frontend?"), `class` the button's
/// classes ("small danger").
#[component]
pub fn ConfirmSubmit(
    label: &'static str,
    #[prop(into)] question: Signal<String>,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    let yes = NodeRef::<html::Button>::new();
    let ask = NodeRef::<html::Button>::new();
    // Focus follows the question: onto "Yes" when it opens, back to the button when it closes
    // (not when another question took its place: focus is on that one's "Yes").
    Effect::new(move |was: Option<bool>| {
        let now = asking.get();
        if was.is_some() && (now || OPEN.get().is_none()) {
            let target = if now { yes.get() } else { ask.get() };
            if let Some(b) = target {
                let _ = b.focus();
            }
        }
        now
    });
    // One question open on the page: opening one closes the other, whose "Yes" was left
    // waiting for a click meant for something else.
    let set_asking = move |now: bool| {
        if let Some(other) = OPEN.replace(now.then_some(asking)).filter(|o| *o != asking) {
            other.try_set(false);
        }
        asking.set(now);
    };
    let yes_label = format!("Yes, {}", label.to_ascii_lowercase());
    // Parsed as elements only where scripts are off; markup, so the text is escaped here.
    let without_scripts = format!(
        r#"<details class="confirm-no-script"><summary class="button {class}">{}</summary><span class="question">{}</span> <button type="submit" class="small danger">{}</button></details>"#,
        super::rcdata_text(label),
        super::rcdata_text(&question.get_untracked()),
        super::rcdata_text(&yes_label),
    );
    view! {
        <noscript inner_html=without_scripts></noscript>
        <Show
            when=move || asking.get()
            fallback=move || view! {
                <button type="button" class=format!("{class} needs-script") node_ref=ask on:click=move |_| set_asking(true)>
                    {label}
                </button>
            }
        >
            <span
                class="confirm"
                role="group"
                aria-label=question
                on:keydown=move |e| {
                    if e.key() == "Escape" {
                        set_asking(false);
                    }
                }
            >
                <span class="question">{question}</span>
                <button type="submit" class="small danger" node_ref=yes>
                    {yes_label.clone()}
                </button>
                <button type="button" class="small" on:click=move |_| set_asking(false)>"Cancel"</button>
            </span>
        </Show>
    }
}

thread_local! {
    /// The question open on the page, if any (only the browser opens one).
    static OPEN: std::cell::Cell<Option<RwSignal<bool>>> = const { std::cell::Cell::new(None) };
}

/// The delete button at the foot of an object's page ("Delete this project"): a form of its
/// own posting the object's `id` to `action`, which asks first ([`ConfirmSubmit`] with
/// `question`), and the refusal under it.
#[component]
pub fn DeleteZone(
    action: super::PostAction,
    #[prop(into)] id: String,
    label: &'static str,
    #[prop(into)] question: Signal<String>,
) -> impl IntoView {
    view! {
        <super::PostForm action attr:class="danger-zone">
            <input type="hidden" name="id" value=id />
            <ConfirmSubmit label class="danger" question />
        </super::PostForm>
        <super::FormError action />
    }
}
