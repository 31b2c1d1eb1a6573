//! Focus that survives a redraw. After an action succeeds, a page's data is fetched again and
//! its view is built anew (a `Transition` keeps the old one on screen meanwhile), so the field
//! or button the user was on is replaced by an equal new one and the focus fell to `<body>`:
//! the next Tab started again at the top of the page. This puts it on the new one.

/// Starts following focus in the whole document (once, from [`crate::app::App`]'s hydration).
///
/// The focused element is remembered with what identifies it on its page ([`Mark`]). When the
/// document changes, that element is gone and the focus is on nothing (`<body>`), the first
/// element of the same page with the same mark is focused, without scrolling. Focus the user
/// moved elsewhere, or put nowhere by clicking, is left alone (the element is still there), as
/// is one whose element has no equal (the deleted row's button).
#[cfg(any(feature = "hydrate", feature = "csr"))]
pub fn keep_focus() {
    use std::cell::RefCell;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    thread_local! {
        /// The element that had the focus last, and its mark.
        static LAST: RefCell<Option<(web_sys::Element, Mark)>> = const { RefCell::new(None) };
    }
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };

    let on_focus = Closure::<dyn Fn(web_sys::Event)>::new(|event: web_sys::Event| {
        let Some(el) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
        let mark = Mark::of(&el);
        LAST.with(|last| *last.borrow_mut() = mark.map(|m| (el, m)));
    });
    let _ = document.add_event_listener_with_callback("focusin", on_focus.as_ref().unchecked_ref());
    on_focus.forget();

    let on_change = Closure::<dyn Fn()>::new({
        let document = document.clone();
        move || {
            let Some((el, mark)) = LAST.with(|last| last.borrow().clone()) else { return };
            let body: Option<web_sys::Element> = document.body().map(Into::into);
            let lost = document.active_element().is_none_or(|a| Some(&a) == body.as_ref());
            if el.is_connected() || !lost {
                return;
            }
            let Ok(candidates) = document.query_selector_all(&el.tag_name()) else { return };
            for i in 0..candidates.length() {
                let Some(c) = candidates.item(i).and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok()) else {
                    continue;
                };
                if Mark::of(&c).as_ref() == Some(&mark) {
                    let options = web_sys::FocusOptions::new();
                    options.set_prevent_scroll(true);
                    // Its own focusin remembers the new element.
                    let _ = c.focus_with_options(&options);
                    return;
                }
            }
        }
    });
    let Ok(observer) = web_sys::MutationObserver::new(on_change.as_ref().unchecked_ref()) else { return };
    on_change.forget();
    let options = web_sys::MutationObserverInit::new();
    options.set_child_list(true);
    options.set_subtree(true);
    if let Some(body) = document.body() {
        let _ = observer.observe_with_options(&body, &options);
    }
}

/// What identifies a focusable element on its page across redraws: the page's path, the
/// element's tag, name and type, its text (a button's label, a link's words) and address, and
/// for one in a form the form's action and hidden inputs (which row's form it is).
#[cfg(any(feature = "hydrate", feature = "csr"))]
#[derive(Clone, PartialEq)]
struct Mark {
    path: String,
    tag: String,
    attributes: [Option<String>; 4],
    text: String,
    form: Option<FormMark>,
}

/// Which form an element is in: its action and its hidden inputs' names and values.
#[cfg(any(feature = "hydrate", feature = "csr"))]
#[derive(Clone, PartialEq)]
struct FormMark {
    action: Option<String>,
    hidden: Vec<(String, String)>,
}

#[cfg(any(feature = "hydrate", feature = "csr"))]
impl Mark {
    /// `None` for what is not in the page's `<main>` (the header stays, so it keeps its focus).
    fn of(el: &web_sys::Element) -> Option<Mark> {
        use wasm_bindgen::JsCast;
        el.closest("main").ok().flatten()?;
        let path = web_sys::window()?.location().pathname().ok()?;
        let attributes = ["name", "type", "href", "id"].map(|a| el.get_attribute(a));
        // The text only of what has little: a button or a link, not a section.
        let text = match el.tag_name().as_str() {
            "BUTTON" | "A" | "SUMMARY" => el.text_content().unwrap_or_default().trim().to_string(),
            _ => String::new(),
        };
        let form = el.closest("form").ok().flatten().map(|form| {
            let mut hidden = Vec::new();
            if let Ok(inputs) = form.query_selector_all("input[type=hidden]") {
                for i in 0..inputs.length() {
                    if let Some(input) = inputs.item(i).and_then(|n| n.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                        hidden.push((input.name(), input.value()));
                    }
                }
            }
            FormMark { action: form.get_attribute("action"), hidden }
        });
        Some(Mark { path, tag: el.tag_name(), attributes, text, form })
    }
}
