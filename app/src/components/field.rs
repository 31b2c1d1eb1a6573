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
                aria-invalid=move || message.get().is_some().to_string()
                on:input=move |ev| set_message.set(check.and_then(|c| c(&event_target_value(&ev))))
            />
            <small class="field-error">{move || message.get()}</small>
        </label>
    }
}

#[component]
pub fn TextArea(
    label: &'static str,
    name: &'static str,
    #[prop(optional)] check: Option<Check>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(default = 4)] rows: u32,
) -> impl IntoView {
    let (message, set_message) = signal(None::<String>);
    view! {
        <label class="field">
            <span>{label}</span>
            <textarea
                name=name
                rows=rows
                placeholder=placeholder
                aria-invalid=move || message.get().is_some().to_string()
                on:input=move |ev| set_message.set(check.and_then(|c| c(&event_target_value(&ev))))
            ></textarea>
            <small class="field-error">{move || message.get()}</small>
        </label>
    }
}

/// The model's validators as field checkers.
pub mod checks {
    use crate::model::validate;

    pub fn name(v: &str) -> Option<String> {
        validate::name("name", v).err().map(|e| e.message)
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
    pub fn http_url(v: &str) -> Option<String> {
        validate::http_url("url", v).err().map(|e| e.message)
    }
}
