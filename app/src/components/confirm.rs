//! A submit button that asks first: the first click turns it into the question naming what
//! will go, with "Yes, …" (the real submit) and "Cancel". Keyboard focus moves to the answer
//! and comes back to the button on cancel; when the answer's row leaves the page, focus goes
//! where [`super::keep_focus`] puts it. No browser dialog: it stays in the page, on a phone too.
//! Until the page is live, and without scripts (the button cannot ask then, nor post), a
//! disclosure asks instead: "Delete" opens to the question and its "Yes, …" posts the form.

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
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    let me = NEXT.fetch_add(1, Ordering::Relaxed);
    // Owned here (disposed with the button), reading the shared one.
    let open = RwSignal::from(open_question());
    let asking = Signal::derive(move || open.get() == me);
    let set_asking = move |now: bool| open.set(if now { me } else { 0 });
    let yes = NodeRef::<html::Button>::new();
    let ask = NodeRef::<html::Button>::new();
    // Focus follows the question: onto "Yes" when it opens, back to the button when it closes
    // (not when another question took its place: focus is on that one's "Yes").
    Effect::new(move |was: Option<bool>| {
        let now = asking.get();
        let target = match (was, now) {
            (Some(false), true) => yes.get(),
            (Some(true), false) if open.get_untracked() == 0 => ask.get(),
            _ => None,
        };
        if let Some(b) = target {
            let _ = b.focus();
        }
        now
    });
    let yes_label = format!("Yes, {}", label.to_ascii_lowercase());
    // Until the page is live (and without scripts, always) a disclosure asks: the scripted
    // button did nothing before the wasm had come, and the disclosure's "Yes" posts the form.
    // Markup (less code than its view), so the text is escaped here.
    let disclosure = format!(
        r#"<details class="confirm-no-script"><summary class="button {class}">{}</summary><span class="question">{}</span> <button type="submit" class="small danger">{}</button></details>"#,
        super::rcdata_text(label),
        super::rcdata_text(&question.get_untracked()),
        super::rcdata_text(&yes_label),
    );
    let live = RwSignal::new(false);
    Effect::new(move || live.set(true));
    // 0: not live yet, 1: the button, 2: the question.
    let state = Memo::new(move |_| if !live.get() { 0 } else { 1 + asking.get() as u8 });
    move || match state.get() {
        0 => view! { <span inner_html=disclosure.clone()></span> }.into_any(),
        1 => view! {
            <button type="button" class=class node_ref=ask on:click=move |_| set_asking(true)>
                {label}
            </button>
        }
        .into_any(),
        _ => view! {
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
        }
        .into_any(),
    }
}

/// Which [`ConfirmSubmit`] asks its question (0: none): in the browser, one for the page, so
/// that opening one closes any other and a "Yes" never answers a question asked elsewhere and
/// forgotten.
#[cfg(any(feature = "hydrate", feature = "csr"))]
fn open_question() -> ArcRwSignal<usize> {
    thread_local! {
        static OPEN: ArcRwSignal<usize> = ArcRwSignal::new(0);
    }
    OPEN.with(Clone::clone)
}

/// On the server, where no question opens, one per button: a signal shared by every request
/// would keep a subscriber for each button ever drawn.
#[cfg(not(any(feature = "hydrate", feature = "csr")))]
fn open_question() -> ArcRwSignal<usize> {
    ArcRwSignal::new(0)
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
