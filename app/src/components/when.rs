//! A time as people read it: "3 min ago" (or "in 10 min"), the exact time in the browser's
//! time zone on hover. The server renders the exact UTC time (it does not know the reader's
//! zone or clock); the browser turns it into words once the page is live, and keeps them
//! current every half minute.

use crate::model::when::utc_text;
use leptos::prelude::*;

/// `at`: an RFC 3339 time as the server stores them (`2026-11-30T15:04:05.123Z`); an empty
/// one shows `empty` ("never").
#[component]
pub fn When(#[prop(into)] at: String, #[prop(optional)] empty: &'static str) -> impl IntoView {
    if at.is_empty() {
        return view! { <span class="muted">{if empty.is_empty() { "never" } else { empty }}</span> }.into_any();
    }
    let utc = utc_text(&at);
    // (words, exact local time), once the browser knows them.
    let local = RwSignal::new(None::<(String, String)>);
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    {
        let at = at.clone();
        let update = move || {
            let then = js_sys::Date::parse(&at);
            if then.is_nan() {
                return;
            }
            let now = js_sys::Date::now();
            let exact = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(then))
                .to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED);
            local.set(Some((crate::model::when::relative(((now - then) / 1000.0) as i64), String::from(exact))));
        };
        Effect::new({
            let update = update.clone();
            move || update()
        });
        let handle = set_interval_with_handle(update, std::time::Duration::from_secs(30)).ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    }
    let title = {
        let utc = utc.clone();
        move || local.get().map(|l| l.1).unwrap_or_else(|| utc.clone())
    };
    view! {
        <time datetime=at title=title>{move || local.get().map(|l| l.0).unwrap_or_else(|| utc.clone())}</time>
    }
    .into_any()
}
