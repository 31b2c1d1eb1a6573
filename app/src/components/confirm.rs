//! A submit button that asks first: the first click turns it into the question naming what
//! will go, with "Yes, …" (the real submit) and "Cancel". Keyboard focus moves to the answer
//! and comes back to the button on cancel; when the answer's row leaves the page (the thing is
//! gone, or its list is redrawn), focus goes to the enclosing section instead of falling to
//! `<body>`. No browser dialog: it stays in the page, on a phone too.

use leptos::html;
use leptos::prelude::*;

/// Inside an `<ActionForm>` (or any form): `label` is the button's text ("Delete"), `question`
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
    // Focus follows the question: onto "Yes" when it opens, back to the button when it closes.
    Effect::new(move |was: Option<bool>| {
        let now = asking.get();
        if was.is_some() {
            let target = if now { yes.get() } else { ask.get() };
            if let Some(b) = target {
                let _ = b.focus();
            }
        }
        now
    });
    let yes_label = format!("Yes, {}", label.to_lowercase());
    let remember_landing = keep_focus_in_section(yes);
    view! {
        <Show
            when=move || asking.get()
            fallback=move || view! {
                <button type="button" class=class node_ref=ask on:click=move |_| asking.set(true)>
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
                        asking.set(false);
                    }
                }
            >
                <span class="question">{question}</span>
                <button type="submit" class="small danger" node_ref=yes on:click={
                    let remember = remember_landing.clone();
                    move |_| remember()
                }>
                    {yes_label.clone()}
                </button>
                <button type="button" class="small" on:click=move |_| asking.set(false)>"Cancel"</button>
            </span>
        </Show>
    }
}

/// Returns what "Yes" calls when clicked: it notes the section (or `<main>`) around the button;
/// when this component goes away and focus has fallen to `<body>` with it, that section gets
/// the focus (`tabindex="-1"` if it had none), so a keyboard user stays where they were.
#[cfg(any(feature = "hydrate", feature = "csr"))]
fn keep_focus_in_section(yes: NodeRef<html::Button>) -> impl Fn() + Clone + 'static {
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    let landing = send_wrapper::SendWrapper::new(Rc::new(RefCell::new(None::<web_sys::HtmlElement>)));
    let noted = landing.clone();
    on_cleanup(move || {
        let Some(section) = landing.borrow_mut().take() else { return };
        // After the DOM has let go of the removed row.
        request_animation_frame(move || {
            let doc = document();
            let fallen = doc.active_element().is_none_or(|a| doc.body().is_some_and(|b| *b == a));
            if fallen && section.is_connected() {
                if !section.has_attribute("tabindex") {
                    let _ = section.set_attribute("tabindex", "-1");
                }
                let _ = section.focus();
            }
        });
    });
    move || {
        let section = yes.get_untracked().and_then(|b| b.closest("section, main").ok().flatten());
        *noted.borrow_mut() = section.and_then(|s| s.dyn_into::<web_sys::HtmlElement>().ok());
    }
}

/// On the server nothing is clicked.
#[cfg(not(any(feature = "hydrate", feature = "csr")))]
fn keep_focus_in_section(_yes: NodeRef<html::Button>) -> impl Fn() + Clone + 'static {
    || {}
}
