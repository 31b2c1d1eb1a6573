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
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    type Noted = Option<(web_sys::HtmlElement, web_sys::HtmlElement)>;
    let landing = send_wrapper::SendWrapper::new(Rc::new(RefCell::new(Noted::None)));
    let noted = landing.clone();
    on_cleanup(move || {
        let taken: Noted = landing.borrow_mut().take();
        let Some((button, section)) = taken else { return };
        // The component goes before its DOM does (a list keeps showing until its new rows are
        // in): watch, up to 3 s, for the button to leave the page.
        let ticks = Rc::new(Cell::new(0u32));
        let handle = Rc::new(Cell::new(None::<IntervalHandle>));
        let stop = handle.clone();
        let watch = move || {
            ticks.set(ticks.get() + 1);
            if button.is_connected() && ticks.get() < 30 {
                return;
            }
            if let Some(h) = stop.take() {
                h.clear();
            }
            if !button.is_connected() {
                land(&section);
            }
        };
        if let Ok(h) = set_interval_with_handle(watch, std::time::Duration::from_millis(100)) {
            handle.set(Some(h));
        }
    });
    move || {
        let button = yes.get_untracked().map(|b| b.unchecked_into::<web_sys::HtmlElement>());
        let section = button
            .as_ref()
            .and_then(|b| b.closest("section, main").ok().flatten())
            .and_then(|s| s.dyn_into::<web_sys::HtmlElement>().ok());
        *noted.borrow_mut() = button.zip(section);
    }
}

/// Focuses `section` (or, if a redraw replaced it, the element with its id, else `<main>`)
/// when focus has fallen to `<body>`.
#[cfg(any(feature = "hydrate", feature = "csr"))]
fn land(section: &web_sys::HtmlElement) {
    use wasm_bindgen::JsCast;
    let doc = document();
    let fallen = doc.active_element().is_none_or(|a| doc.body().is_some_and(|b| *b == a));
    if !fallen {
        return;
    }
    let section = if section.is_connected() {
        Some(section.clone())
    } else {
        doc.get_element_by_id(&section.id())
            .or_else(|| doc.query_selector("main").ok().flatten())
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    };
    if let Some(section) = section {
        if !section.has_attribute("tabindex") {
            let _ = section.set_attribute("tabindex", "-1");
        }
        let _ = section.focus();
    }
}

/// On the server nothing is clicked.
#[cfg(not(any(feature = "hydrate", feature = "csr")))]
fn keep_focus_in_section(_yes: NodeRef<html::Button>) -> impl Fn() + Clone + 'static {
    || {}
}
