//! What is typed survives a redraw. After an action succeeds, a page's data is fetched again
//! and the view around it is built anew (the project page's whole view after a quick-add; a
//! notifier list after one row's filter was added), so every other form in it came back
//! empty: the exporter half typed, the hosts pasted, another row's filter, a new password.
//! This puts what was typed into the same fields drawn anew, as a browser's back button
//! does, and opens again the disclosures (`<details>`) that were open: closed, they hid what
//! was typed inside ("Add a notifier", a row's "Edit"). The form that was sent is not
//! refilled: its success empties it (a `reset`), and its disclosure may close.

/// Starts following what is typed in the forms of `<main>` (once, from [`crate::hydrate`] or
/// [`crate::mount`]).
///
/// Each field typed into (its value now differs from what it was drawn with) is remembered
/// with what identifies it on its page: the page's path, its form's action and hidden inputs
/// (which row's form: [`super::keep_focus`]'s `FormMark`), its name and type, and which of the
/// form's fields by that name it is. When the document changes and a remembered field is gone
/// with its form, the same field in the form drawn anew, untouched, gets the value (and an `input` and a `change` event,
/// so its own check runs and what follows the field updates, as if typed; not on a field a
/// refusal marks, whose message the first change would take off). A field gone with no such
/// field drawn is forgotten; so is one gone from a form still on the page (a row removed from
/// the rule editor's labels, whose names are by position: the next row now has the removed
/// one's name, and got its value), and every field of a form that was reset (a sent form's
/// success). A select kept through a redraw gets its choice back: the redraw selects its
/// drawn option again.
#[cfg(any(feature = "hydrate", feature = "csr"))]
pub fn keep_typed() {
    use std::cell::RefCell;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    thread_local! {
        /// The fields typed into, with their marks and what they hold.
        static TYPED: RefCell<Vec<Typed>> = const { RefCell::new(Vec::new()) };
        /// The disclosures (`<details>`) opened, with their marks.
        static OPENED: RefCell<Vec<(web_sys::Element, DetailsMark)>> = const { RefCell::new(Vec::new()) };
    }
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };

    // Each keystroke: a field already remembered only has its value read again; its mark
    // (which takes querying its form) is made once.
    let on_input = Closure::<dyn Fn(web_sys::Event)>::new(|event: web_sys::Event| {
        let Some(field) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
        let known = TYPED.with(|all| {
            let mut all = all.borrow_mut();
            let at = all.iter().position(|t| t.field == field)?;
            match Value::of(&field) {
                Some(value) if !value.is_drawn(&field) => all[at].value = value,
                _ => drop(all.swap_remove(at)),
            }
            Some(())
        });
        if known.is_none()
            && let Some(typed) = Typed::of(&field).filter(|t| !t.value.is_drawn(&field))
        {
            TYPED.with(|all| all.borrow_mut().push(typed));
        }
    });
    for kind in ["input", "change"] {
        let _ = document.add_event_listener_with_callback(kind, on_input.as_ref().unchecked_ref());
    }
    on_input.forget();

    // `toggle` does not bubble: heard on its way down.
    let on_toggle = Closure::<dyn Fn(web_sys::Event)>::new(|event: web_sys::Event| {
        let Some(details) = event.target().and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok()) else {
            return;
        };
        let details: web_sys::Element = details.into();
        let mark = DetailsMark::of(&details);
        OPENED.with(|all| {
            let mut all = all.borrow_mut();
            all.retain(|(d, _)| *d != details);
            if let Some(mark) = mark.filter(|_| details.has_attribute("open")) {
                all.push((details, mark));
            }
        });
    });
    let _ = document.add_event_listener_with_callback_and_bool("toggle", on_toggle.as_ref().unchecked_ref(), true);
    on_toggle.forget();

    // A reset form (sent, and succeeded) is empty on purpose, and the disclosures around it
    // and in it may close.
    let on_reset = Closure::<dyn Fn(web_sys::Event)>::new(|event: web_sys::Event| {
        let Some(form) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
        TYPED.with(|all| all.borrow_mut().retain(|t| !form.contains(Some(&t.field))));
        OPENED.with(|all| all.borrow_mut().retain(|(d, _)| !d.contains(Some(&form)) && !form.contains(Some(d))));
    });
    let _ = document.add_event_listener_with_callback("reset", on_reset.as_ref().unchecked_ref());
    on_reset.forget();

    let on_change = Closure::<dyn Fn()>::new({
        let document = document.clone();
        move || {
            let closed: Vec<DetailsMark> = OPENED.with(|all| {
                let mut all = all.borrow_mut();
                let (gone, kept) = all.drain(..).partition(|(d, _)| !d.is_connected());
                *all = kept;
                gone.into_iter().map(|(_, mark)| mark).collect()
            });
            for mark in closed {
                // Its `toggle` remembers the new one.
                if let Some(details) = mark.drawn_anew(&document) {
                    let _ = details.set_attribute("open", "");
                }
            }
            let gone: Vec<Typed> = TYPED.with(|all| {
                let mut all = all.borrow_mut();
                let (gone, kept) = all.drain(..).partition(|t| !t.field.is_connected());
                *all = kept;
                gone
            });
            // A choice in a select kept through a redraw: the redraw sets its options'
            // `selected` again, which Chromium follows even after the user chose (an input's
            // or a textarea's value, once typed into, no longer follows what it is drawn with).
            let overwritten: Vec<(web_sys::Element, Value)> = TYPED.with(|all| {
                all.borrow()
                    .iter()
                    .filter(|t| t.field.tag_name().eq_ignore_ascii_case("select"))
                    .filter(|t| Value::of(&t.field).as_ref() != Some(&t.value))
                    .map(|t| (t.field.clone(), t.value.clone()))
                    .collect()
            });
            for (field, value) in overwritten {
                value.put(&field);
            }
            for typed in gone {
                if typed.form.is_connected() {
                    continue;
                }
                let Some(field) = typed.drawn_anew(&document) else { continue };
                typed.value.put(&field);
                // Remembered as typed into, for the next redraw (its events may have done it).
                if let Some(now) = Typed::of(&field) {
                    TYPED.with(|all| {
                        let mut all = all.borrow_mut();
                        all.retain(|t| t.field != field);
                        all.push(now);
                    });
                }
            }
        }
    });
    super::keep_focus::on_body_change(&document, on_change);
}

/// A field typed into: the element, what identifies it on its page, what it holds.
#[cfg(any(feature = "hydrate", feature = "csr"))]
struct Typed {
    field: web_sys::Element,
    /// The form it was in when typed into.
    form: web_sys::Element,
    mark: FieldMark,
    value: Value,
}

/// What identifies a form's field across redraws (see [`keep_typed`]).
#[cfg(any(feature = "hydrate", feature = "csr"))]
#[derive(PartialEq)]
struct FieldMark {
    path: String,
    form: super::keep_focus::FormMark,
    name: String,
    kind: String,
    /// Which of the form's fields named `name` it is.
    nth: usize,
}

/// What identifies a disclosure across redraws: the page's path, the section it is in, its
/// summary's words and the first form inside it (which row's "Edit" it is).
#[cfg(any(feature = "hydrate", feature = "csr"))]
#[derive(PartialEq)]
struct DetailsMark {
    path: String,
    section: Option<String>,
    summary: String,
    form: Option<super::keep_focus::FormMark>,
}

#[cfg(any(feature = "hydrate", feature = "csr"))]
impl DetailsMark {
    /// `None` for one outside `<main>` (the phone menu) or without a summary.
    fn of(details: &web_sys::Element) -> Option<DetailsMark> {
        details.closest("main").ok().flatten()?;
        let summary = details.query_selector("summary").ok().flatten()?.text_content()?.trim().to_string();
        Some(DetailsMark {
            path: super::keep_focus::current_path()?,
            section: super::keep_focus::section_of(details),
            summary,
            form: details.query_selector("form").ok().flatten().map(|f| super::keep_focus::FormMark::of(&f)),
        })
    }

    /// The closed disclosure marked so, drawn anew.
    fn drawn_anew(&self, document: &web_sys::Document) -> Option<web_sys::Element> {
        let all = document.query_selector_all("main details:not([open])").ok()?;
        (0..all.length())
            .filter_map(|i| all.item(i).and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(n).ok()))
            .find(|d| DetailsMark::of(d).as_ref() == Some(self))
    }
}

/// What a field holds.
#[cfg(any(feature = "hydrate", feature = "csr"))]
#[derive(Clone, PartialEq)]
enum Value {
    Text(String),
    Checked(bool),
}

#[cfg(any(feature = "hydrate", feature = "csr"))]
impl Typed {
    /// `None` for what is not a named field of a form in `<main>`, or one not typed into
    /// (hidden, a button, a file).
    fn of(field: &web_sys::Element) -> Option<Typed> {
        let value = Value::of(field)?;
        let form = field.closest("main form").ok().flatten()?;
        let mark = FieldMark::of(field, &form)?;
        Some(Typed { field: field.clone(), form, mark, value })
    }

    /// The field marked as this one, untouched, that is not this one: drawn anew.
    fn drawn_anew(&self, document: &web_sys::Document) -> Option<web_sys::Element> {
        let selector = format!("main form [name=\"{}\"]", css_string(&self.mark.name));
        let fields = document.query_selector_all(&selector).ok()?;
        (0..fields.length())
            .filter_map(|i| fields.item(i).and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(n).ok()))
            .find(|f| {
                *f != self.field
                    && self.value.untouched(f)
                    && f.closest("main form").ok().flatten().and_then(|form| FieldMark::of(f, &form)).as_ref()
                        == Some(&self.mark)
            })
    }
}

#[cfg(any(feature = "hydrate", feature = "csr"))]
impl FieldMark {
    fn of(field: &web_sys::Element, form: &web_sys::Element) -> Option<FieldMark> {
        let name = field.get_attribute("name").filter(|n| !n.is_empty())?;
        let path = super::keep_focus::current_path()?;
        let same_name = form.query_selector_all(&format!("[name=\"{}\"]", css_string(&name))).ok()?;
        let node: &web_sys::Node = field;
        let nth = (0..same_name.length()).position(|i| same_name.item(i).as_ref() == Some(node))?;
        Some(FieldMark {
            path,
            form: super::keep_focus::FormMark::of(form),
            kind: field.get_attribute("type").unwrap_or_else(|| field.tag_name()),
            name,
            nth,
        })
    }
}

#[cfg(any(feature = "hydrate", feature = "csr"))]
impl Value {
    /// What `field` holds now; `None` for what is not typed into (hidden, a button, a file).
    fn of(field: &web_sys::Element) -> Option<Value> {
        use wasm_bindgen::JsCast;
        Some(if let Some(input) = field.dyn_ref::<web_sys::HtmlInputElement>() {
            match input.type_().as_str() {
                "hidden" | "submit" | "button" | "reset" | "image" | "file" => return None,
                "checkbox" | "radio" => Value::Checked(input.checked()),
                _ => Value::Text(input.value()),
            }
        } else if let Some(text) = field.dyn_ref::<web_sys::HtmlTextAreaElement>() {
            Value::Text(text.value())
        } else {
            Value::Text(field.dyn_ref::<web_sys::HtmlSelectElement>()?.value())
        })
    }

    /// Whether `field` holds what it was drawn with (and so this value is not worth keeping).
    fn is_drawn(&self, field: &web_sys::Element) -> bool {
        Self::drawn(field).is_some_and(|drawn| match (self, drawn) {
            (Value::Text(now), Value::Text(drawn)) => *now == drawn,
            (Value::Checked(now), Value::Checked(drawn)) => *now == drawn,
            _ => false,
        })
    }

    /// Whether `field` (a field of the same mark) still holds what it was drawn with.
    fn untouched(&self, field: &web_sys::Element) -> bool {
        Value::of(field).is_some_and(|now| now.is_drawn(field))
    }

    /// What `field` was drawn with: its `value` attribute (a textarea's text), its `checked`,
    /// its selected option.
    fn drawn(field: &web_sys::Element) -> Option<Value> {
        use wasm_bindgen::JsCast;
        if let Some(input) = field.dyn_ref::<web_sys::HtmlInputElement>() {
            Some(match input.type_().as_str() {
                "checkbox" | "radio" => Value::Checked(input.default_checked()),
                _ => Value::Text(input.default_value()),
            })
        } else if let Some(text) = field.dyn_ref::<web_sys::HtmlTextAreaElement>() {
            Some(Value::Text(text.default_value().ok()?))
        } else {
            let select = field.dyn_ref::<web_sys::HtmlSelectElement>()?;
            let options = select.options();
            let default = (0..options.length())
                .filter_map(|i| options.item(i).and_then(|o| o.dyn_into::<web_sys::HtmlOptionElement>().ok()))
                .find(|o| o.default_selected())
                .or_else(|| options.item(0).and_then(|o| o.dyn_into::<web_sys::HtmlOptionElement>().ok()));
            Some(Value::Text(default.map(|o| o.value()).unwrap_or_default()))
        }
    }

    /// Puts this value into `field` and tells it, as typing would.
    fn put(&self, field: &web_sys::Element) {
        use wasm_bindgen::JsCast;
        match self {
            Value::Text(text) => {
                if let Some(input) = field.dyn_ref::<web_sys::HtmlInputElement>() {
                    input.set_value(text);
                } else if let Some(area) = field.dyn_ref::<web_sys::HtmlTextAreaElement>() {
                    area.set_value(text);
                } else if let Some(select) = field.dyn_ref::<web_sys::HtmlSelectElement>() {
                    select.set_value(text);
                }
            }
            Value::Checked(on) => {
                if let Some(input) = field.dyn_ref::<web_sys::HtmlInputElement>() {
                    input.set_checked(*on);
                }
            }
        }
        // A field a refusal marked already (its form drawn anew with the earlier answer) keeps
        // the message: the first change takes it off (`mark_field`), and this is not one.
        if field.get_attribute("aria-describedby").is_some_and(|id| id.starts_with("form-error-")) {
            return;
        }
        let init = web_sys::EventInit::new();
        init.set_bubbles(true);
        for kind in ["input", "change"] {
            if let Ok(event) = web_sys::Event::new_with_event_init_dict(kind, &init) {
                let _ = field.dispatch_event(&event);
            }
        }
    }
}

/// `text` inside a CSS string in double quotes (a field's name in a selector).
#[cfg(any(feature = "hydrate", feature = "csr"))]
fn css_string(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}
