//! Focus that survives a redraw. After an action succeeds, a page's data is fetched again and
//! its view is built anew (a `Transition` keeps the old one on screen meanwhile), so the field
//! or button the user was on is replaced by an equal new one, or is gone (the deleted row's),
//! and the focus fell to `<body>`: the next Tab started again at the top of the page. This puts
//! it back where the user was.

/// Starts following focus in the whole document (once, from [`crate::hydrate`] or
/// [`crate::mount`]).
///
/// The focused element is remembered with what identifies it on its page ([`Mark`]). When the
/// document changes, that element is gone and the focus is on nothing (`<body>`), the first of
/// these that takes the focus gets it, without scrolling:
/// 1. the same element drawn anew; for a form's submit button (the form was sent and drawn
///    anew, empty), the form's first field instead, for the next entry;
/// 2. the same form (a row's toggle now says "Enable"): its first field, else its button;
/// 3. the same section (`#farm`, `#notifiers`: the deleted row's): its first field, else the
///    section itself;
/// 4. `<main>`.
///
/// The same happens when the focused element is still there but now stands for another row
/// (a list drawn again keeps its elements by place). Focus the user moved elsewhere, or put
/// nowhere by clicking, is left alone.
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
            let active = document.active_element();
            let lost = !el.is_connected() && active.as_ref().is_none_or(|a| Some(a) == body.as_ref());
            // A list drawn again keeps its elements by place: the focused button may now be the
            // next row's ("End" of another session), and a second Enter would act on that one.
            let moved = el.is_connected() && active.as_ref() == Some(&el) && Mark::of(&el).as_ref() != Some(&mark);
            if !(lost || moved) || current_path().as_ref() != Some(&mark.path) {
                return;
            }
            if moved && let Some(el) = el.dyn_ref::<web_sys::HtmlElement>() {
                let _ = el.blur();
            }
            let found = same_element(&document, &el.tag_name(), &mark)
                .into_iter()
                .flat_map(|same| {
                    let form = mark.submit.then(|| same.closest("form").ok().flatten()).flatten();
                    [form.and_then(|f| first_field(&f)), Some(same)]
                })
                .chain(
                    mark.form
                        .as_ref()
                        .and_then(|f| same_form(&document, f))
                        .into_iter()
                        .flat_map(|form| [first_field(&form), form.query_selector("button").ok().flatten()]),
                )
                .chain(mark.section.as_deref().and_then(|id| document.get_element_by_id(id)).into_iter().flat_map(
                    |section| {
                        let _ = section.set_attribute("tabindex", "-1");
                        [first_field(&section), Some(section)]
                    },
                ))
                .chain(std::iter::once_with(|| {
                    let main = document.query_selector("main").ok().flatten()?;
                    let _ = main.set_attribute("tabindex", "-1");
                    Some(main)
                }))
                .flatten()
                .any(|candidate| take_focus(&document, &candidate));
            if !found {
                LAST.with(|last| *last.borrow_mut() = None);
            }
        }
    });
    on_body_change(&document, on_change);
}

/// Calls `on_change` after each change of the elements in `<body>` (a `MutationObserver`),
/// for as long as the page lives.
#[cfg(any(feature = "hydrate", feature = "csr"))]
pub(super) fn on_body_change(document: &web_sys::Document, on_change: wasm_bindgen::closure::Closure<dyn Fn()>) {
    use wasm_bindgen::JsCast;
    let Ok(observer) = web_sys::MutationObserver::new(on_change.as_ref().unchecked_ref()) else { return };
    on_change.forget();
    let options = web_sys::MutationObserverInit::new();
    options.set_child_list(true);
    options.set_subtree(true);
    if let Some(body) = document.body() {
        let _ = observer.observe_with_options(&body, &options);
    }
}

/// Focuses `el` without scrolling; whether it took it. An element in a closed `<details>`
/// (a sent form's disclosure, closed by its success: "Add a notifier", a row's "Edit") cannot
/// take it: the disclosure's summary does, the outermost closed one's, rather than a field
/// further on (the first row's filter).
#[cfg(any(feature = "hydrate", feature = "csr"))]
fn take_focus(document: &web_sys::Document, el: &web_sys::Element) -> bool {
    use wasm_bindgen::JsCast;
    let mut el = el.clone();
    loop {
        // A disclosure's own summary shows while it is closed: look from outside it.
        let within = match el.tag_name().eq_ignore_ascii_case("summary") {
            true => el.parent_element().and_then(|details| details.parent_element()),
            false => el.parent_element(),
        };
        let Some(closed) = within.and_then(|p| p.closest("details:not([open])").ok().flatten()) else { break };
        match closed.query_selector(":scope > summary").ok().flatten() {
            Some(summary) => el = summary,
            None => return false,
        }
    }
    let Some(el) = el.dyn_ref::<web_sys::HtmlElement>() else { return false };
    let options = web_sys::FocusOptions::new();
    options.set_prevent_scroll(true);
    // Its own focusin remembers the new element.
    let _ = el.focus_with_options(&options);
    document.active_element().as_ref() == Some(el.unchecked_ref())
}

/// The element of the page marked `mark`, drawn anew.
#[cfg(any(feature = "hydrate", feature = "csr"))]
fn same_element(document: &web_sys::Document, tag: &str, mark: &Mark) -> Option<web_sys::Element> {
    let candidates = document.query_selector_all(tag).ok()?;
    (0..candidates.length())
        .filter_map(|i| candidates.item(i).and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(n).ok()))
        .find(|c| Mark::of(c).as_ref() == Some(mark))
}

/// The form of the page marked `form`, drawn anew.
#[cfg(any(feature = "hydrate", feature = "csr"))]
pub(super) fn same_form(document: &web_sys::Document, form: &FormMark) -> Option<web_sys::Element> {
    let forms = document.query_selector_all("main form").ok()?;
    (0..forms.length())
        .filter_map(|i| forms.item(i).and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(n).ok()))
        .find(|f| FormMark::of(f) == *form)
}

/// The first field one types into under `el`.
#[cfg(any(feature = "hydrate", feature = "csr"))]
fn first_field(el: &web_sys::Element) -> Option<web_sys::Element> {
    el.query_selector("input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file]), textarea")
        .ok()
        .flatten()
}

/// The id of the section `el` is in (`#farm`, `#notifiers`).
#[cfg(any(feature = "hydrate", feature = "csr"))]
pub(super) fn section_of(el: &web_sys::Element) -> Option<String> {
    el.closest("section[id], [id].card").ok().flatten().map(|s| s.id())
}

#[cfg(any(feature = "hydrate", feature = "csr"))]
pub(super) fn current_path() -> Option<String> {
    web_sys::window()?.location().pathname().ok()
}

/// What identifies a focusable element on its page across redraws: the page's path, the
/// element's tag, name and type, its text (a button's label, a link's words) and address, and
/// for one in a form the form's action and hidden inputs (which row's form it is); besides,
/// whether it is a form's submit button and the id of the section it is in, for the fallbacks.
#[cfg(any(feature = "hydrate", feature = "csr"))]
#[derive(Clone, PartialEq)]
struct Mark {
    path: String,
    tag: String,
    attributes: [Option<String>; 5],
    text: String,
    form: Option<FormMark>,
    submit: bool,
    section: Option<String>,
}

/// Which form an element is in: its action and its hidden inputs' names and values.
#[cfg(any(feature = "hydrate", feature = "csr"))]
#[derive(Clone, PartialEq)]
pub(super) struct FormMark {
    action: Option<String>,
    hidden: Vec<(String, String)>,
}

#[cfg(any(feature = "hydrate", feature = "csr"))]
impl FormMark {
    pub(super) fn of(form: &web_sys::Element) -> FormMark {
        use wasm_bindgen::JsCast;
        let mut hidden = Vec::new();
        if let Ok(inputs) = form.query_selector_all("input[type=hidden]") {
            for i in 0..inputs.length() {
                // A toggle's target state is not which row's form it is.
                if let Some(input) = inputs.item(i).and_then(|n| n.dyn_into::<web_sys::HtmlInputElement>().ok())
                    && !matches!(input.name().as_str(), "enabled" | "on")
                {
                    hidden.push((input.name(), input.value()));
                }
            }
        }
        FormMark { action: form.get_attribute("action"), hidden }
    }
}

#[cfg(any(feature = "hydrate", feature = "csr"))]
impl Mark {
    /// `None` for what is not in the page's `<main>` (the header stays, so it keeps its focus).
    fn of(el: &web_sys::Element) -> Option<Mark> {
        el.closest("main").ok().flatten()?;
        let path = current_path()?;
        let tag = el.tag_name();
        // A button's value tells rows apart (`name=id value=3`); a field's is what was typed.
        let attributes = ["name", "type", "href", "id", "value"]
            .map(|a| el.get_attribute(a).filter(|_| a != "value" || tag == "BUTTON"));
        // The text only of what has little: a button or a link, not a section.
        let text = match tag.as_str() {
            "BUTTON" | "A" | "SUMMARY" => el.text_content().unwrap_or_default().trim().to_string(),
            _ => String::new(),
        };
        let form = el.closest("form").ok().flatten();
        let submit = tag == "BUTTON" && el.get_attribute("type").is_none_or(|t| t == "submit") && form.is_some();
        let section = section_of(el);
        Some(Mark { path, tag, attributes, text, form: form.as_ref().map(FormMark::of), submit, section })
    }
}
