//! A time as people read it: "3 min ago" (or "in 10 min"), the exact time in the browser's
//! time zone on hover. The server renders the exact UTC time (it does not know the reader's
//! zone or clock); the browser turns it into words once the page is live, and keeps them
//! current from one clock for the whole page (see [`provide_clock`]).

use crate::model::when::utc_text;
use leptos::prelude::*;

/// The browser's time (ms since the epoch), 0 until the page is live; ticks every 30 s.
#[derive(Clone, Copy)]
struct Clock(RwSignal<f64>);

/// Provides the page's one clock that every [`When`] reads (one timer, not one per time
/// shown). Called once by the app.
pub fn provide_clock() {
    let now = RwSignal::new(0.0);
    provide_context(Clock(now));
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    Effect::new(move || {
        now.set(js_sys::Date::now());
        let handle =
            set_interval_with_handle(move || now.set(js_sys::Date::now()), std::time::Duration::from_secs(30)).ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    });
}

/// `at`: an RFC 3339 time as the server stores them (`2026-11-30T15:04:05.123Z`); an empty
/// one shows `empty` ("never").
#[component]
pub fn When(#[prop(into)] at: String, #[prop(optional)] empty: &'static str) -> impl IntoView {
    if at.is_empty() {
        return view! { <span class="muted">{if empty.is_empty() { "never" } else { empty }}</span> }.into_any();
    }
    let utc = utc_text(&at);
    let clock = use_context::<Clock>().map(|Clock(c)| c);
    // (words, exact local time), once the browser's clock runs.
    let local = {
        let at = at.clone();
        Memo::new(move |_| local_words(&at, clock.map(|c| c.get()).unwrap_or(0.0)))
    };
    let title = {
        let utc = utc.clone();
        move || local.get().map(|l| l.1).unwrap_or_else(|| utc.clone())
    };
    view! {
        <time datetime=at title=title>{move || local.get().map(|l| l.0).unwrap_or_else(|| utc.clone())}</time>
    }
    .into_any()
}

/// `at` in words at browser time `now` (ms), and its exact time in the reader's locale and
/// zone; nothing before the clock runs or for a time the browser cannot read.
#[cfg(any(feature = "hydrate", feature = "csr"))]
fn local_words(at: &str, now: f64) -> Option<(String, String)> {
    let then = js_sys::Date::parse(at);
    if now == 0.0 || then.is_nan() {
        return None;
    }
    let exact = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(then))
        .to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED);
    Some((crate::model::when::relative(((now - then) / 1000.0) as i64), String::from(exact)))
}

/// On the server: always the UTC text.
#[cfg(not(any(feature = "hydrate", feature = "csr")))]
fn local_words(_: &str, _: f64) -> Option<(String, String)> {
    None
}
