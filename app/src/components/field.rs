//! Form fields that check what is typed as it is typed, with the same validators the server
//! runs on save.

use leptos::prelude::*;

/// A checker: the message for a bad value, or `None`.
pub type Check = fn(&str) -> Option<String>;

#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(optional)] check: Option<Check>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional, into)] value: String,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
) -> impl IntoView {
    let (message, set_message) = signal(None::<String>);
    view! {
        <label class="field">
            <span>{label}</span>
            <input
                type=kind
                name=name
                autocomplete=autocomplete
                placeholder=placeholder
                value=value
                aria-invalid=move || message.try_get().flatten().is_some().to_string()
                on:input=move |ev| set_message.set(checked(check, &ev))
            />
            <small class="field-error">{move || message.try_get().flatten().map(|m| super::sentence(&m))}</small>
        </label>
    }
}

/// What `check` says of the value just typed. A form with a flagged field cannot succeed, so
/// in the browser the message also becomes the field's custom validity (the browser will not
/// submit the form) and its submit buttons are disabled with the first flagged field's message
/// as their reason (`title`); one the page disabled itself (`disabled` drawn) is left so.
pub fn checked(check: Option<Check>, ev: &leptos::ev::Event) -> Option<String> {
    let message = check.and_then(|c| c(&event_target_value(ev)));
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    hold_submit(ev, message.as_deref());
    message
}

#[cfg(any(feature = "hydrate", feature = "csr"))]
fn hold_submit(ev: &leptos::ev::Event, message: Option<&str>) {
    use wasm_bindgen::JsCast;
    let Some(target) = ev.target() else { return };
    let form = if let Some(input) = target.dyn_ref::<web_sys::HtmlInputElement>() {
        input.set_custom_validity(message.unwrap_or(""));
        input.form()
    } else if let Some(text) = target.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        text.set_custom_validity(message.unwrap_or(""));
        text.form()
    } else {
        None
    };
    let Some(form) = form else { return };
    let all = |selector: &str| {
        let list = form.query_selector_all(selector).ok();
        (0..list.as_ref().map_or(0, |l| l.length())).filter_map(move |i| list.as_ref()?.item(i))
    };
    // The first flagged field in the form's order is the reason.
    let reason = all("input, textarea").find_map(|field| {
        let message = if let Some(input) = field.dyn_ref::<web_sys::HtmlInputElement>() {
            input.validation_message().ok().filter(|_| input.validity().custom_error())
        } else {
            let text = field.dyn_ref::<web_sys::HtmlTextAreaElement>()?;
            text.validation_message().ok().filter(|_| text.validity().custom_error())
        };
        message.filter(|m| !m.is_empty())
    });
    for button in all("button[type=submit]") {
        if let Some(button) = button.dyn_ref::<web_sys::HtmlButtonElement>() {
            // A button the page disabled for a reason of its own (no Alertmanager to send a
            // silence to) stays as the page drew it: a valid field does not enable it.
            let held_here = button.has_attribute("data-held");
            if button.disabled() && !held_here {
                continue;
            }
            // Firefox would keep a disabled button disabled across a reload, with no reason shown.
            let _ = button.set_attribute("autocomplete", "off");
            button.set_disabled(reason.is_some());
            match &reason {
                Some(why) => {
                    let _ = button.set_attribute("data-held", "");
                    button.set_title(&super::sentence(why));
                }
                None => {
                    let _ = button.remove_attribute("data-held");
                    let _ = button.remove_attribute("title");
                }
            }
        }
    }
}

/// The HTML that goes inside a `<textarea>` so that it shows exactly `text`.
///
/// Leptos 0.8 writes a textarea's children unescaped during SSR (tachys declares `<textarea>`
/// a raw-text element, like `<script>`), so stored text put there as a child could close the
/// element and inject markup. Every textarea therefore gets its text through `inner_html` of
/// this: `&`, `<` and `>` escaped (the browser decodes them in the field, which is RCDATA), and
/// on the server a leading newline, because the HTML parser drops the first newline after
/// `<textarea>` and a value that starts with one would lose it. Hydration leaves the
/// server's text alone; a textarea built in the browser gets the escaped text through
/// `innerHTML`, which decodes it the same way.
pub fn textarea_html(text: &str) -> String {
    let newline = if cfg!(feature = "ssr") { "\n" } else { "" };
    format!("{newline}{}", rcdata_text(text))
}

/// `text` as the content of an RCDATA element (`<textarea>`, `<title>`): `&`, `<` and `>`
/// escaped, so it cannot close the element; the browser decodes them.
pub fn rcdata_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[component]
pub fn TextArea(
    label: &'static str,
    name: &'static str,
    #[prop(optional)] check: Option<Check>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(default = 4)] rows: u32,
    /// What the field starts with.
    #[prop(optional, into)]
    value: String,
) -> impl IntoView {
    let (message, set_message) = signal(None::<String>);
    view! {
        <label class="field">
            <span>{label}</span>
            <textarea
                name=name
                rows=rows
                placeholder=placeholder
                aria-invalid=move || message.try_get().flatten().is_some().to_string()
                on:input=move |ev| set_message.set(checked(check, &ev))
                inner_html=textarea_html(&value)
            ></textarea>
            <small class="field-error">{move || message.try_get().flatten().map(|m| super::sentence(&m))}</small>
        </label>
    }
}

/// The model's validators as field checkers.
pub mod checks {
    use crate::model::validate;

    pub fn name(v: &str) -> Option<String> {
        validate::name("name", v).err().map(|e| e.message)
    }
    pub fn username(v: &str) -> Option<String> {
        validate::job("username", v).err().map(|e| e.message)
    }
    pub fn job(v: &str) -> Option<String> {
        validate::job("job", v).err().map(|e| e.message)
    }
    pub fn port(v: &str) -> Option<String> {
        validate::port_text("port", v).err().map(|e| e.message)
    }
    pub fn metrics_path(v: &str) -> Option<String> {
        validate::metrics_path("path", v).err().map(|e| e.message)
    }
    pub fn hosts(v: &str) -> Option<String> {
        validate::host_list("hosts", v).err().map(|e| e.message)
    }
    /// Hosts may be left empty when creating a farm.
    pub fn optional_hosts(v: &str) -> Option<String> {
        if v.trim().is_empty() { None } else { hosts(v) }
    }
    pub fn new_password(v: &str) -> Option<String> {
        validate::new_password("password", v).err().map(|e| e.message)
    }
    pub fn http_url(v: &str) -> Option<String> {
        validate::http_url("url", v).err().map(|e| e.message)
    }
    /// A silence's length (a Prometheus duration), as the server reads it; empty when its
    /// start and end are given instead.
    pub fn silence_duration(v: &str) -> Option<String> {
        match crate::model::duration::parse_duration(v.trim()) {
            _ if v.trim().is_empty() => None,
            Err(e) => Some(e.to_string()),
            Ok(ms) if ms < crate::model::silences::MIN_SILENCE_MS => {
                Some(crate::model::silences::TOO_SHORT.to_string())
            }
            Ok(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::textarea_html;

    /// A silence's length is checked as it is typed, as the server reads it.
    #[test]
    fn a_silence_length_is_checked_as_typed() {
        use super::checks::silence_duration;
        assert_eq!(silence_duration(""), None, "start and end instead");
        assert_eq!(silence_duration("1h30m"), None);
        assert!(silence_duration("2x").is_some());
        assert!(silence_duration("-5m").is_some());
        assert_eq!(silence_duration("0s").as_deref(), Some("a silence must last at least 1m"));
        assert_eq!(silence_duration("59s").as_deref(), Some("a silence must last at least 1m"));
        assert_eq!(silence_duration("1m"), None);
    }

    #[test]
    fn textarea_text_cannot_close_the_element() {
        let hostile = "</textarea><img src=x onerror=alert(1)>&amp;";
        let html = textarea_html(hostile);
        assert!(!html.contains('<') && !html.contains('>'), "{html}");
        assert_eq!(html, "\n&lt;/textarea&gt;&lt;img src=x onerror=alert(1)&gt;&amp;amp;");
        assert_eq!(textarea_html("\nkept"), "\n\nkept", "a leading newline survives the parser");
    }

    /// Every `<textarea>` in the app takes its text through [`textarea_html`]: a child would
    /// be written unescaped during SSR.
    #[test]
    fn every_textarea_is_filled_escaped() {
        let mut files = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
        let mut seen = 0;
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("components/field.rs") {
                continue;
            }
            let src = std::fs::read_to_string(&path).unwrap();
            for (at, _) in src.match_indices("<textarea") {
                seen += 1;
                let element = &src[at..at + src[at..].find("</textarea>").expect("closed")];
                assert!(
                    element.contains("inner_html=textarea_html(") && element.trim_end().ends_with('>'),
                    "{}: a <textarea> with children or without inner_html=textarea_html(..): {element}",
                    path.display()
                );
            }
        }
        assert!(seen >= 6, "found only {seen} textareas: is the source where this test looks?");
    }
}
