//! A time as people read it: "3 min ago" (or "in 10 min"), the exact time in the browser's
//! time zone on hover. The server renders the exact UTC time (it does not know the reader's
//! zone or clock); the browser turns it into words once the time is on the page (also after
//! hydration, which keeps the server's text), and keeps them current with one timer for the
//! whole page (see [`provide_clock`]).

use crate::model::when::utc_text;
use leptos::prelude::*;

/// Ticks every 30 s once the page is live, so that every [`When`] says its words again.
#[derive(Clone, Copy)]
struct Clock(RwSignal<u64>);

/// Provides the page's one clock that every [`When`] reads (one timer, not one per time
/// shown). Called once by the app.
pub fn provide_clock() {
    let ticks = RwSignal::new(0);
    provide_context(Clock(ticks));
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    Effect::new(move || {
        let handle =
            set_interval_with_handle(move || ticks.update(|n| *n += 1), std::time::Duration::from_secs(30)).ok();
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
    // The first render is the server's (the UTC text, which hydration keeps); once mounted
    // (effects run only in the browser), the words, from the browser's time at each tick.
    let mounted = RwSignal::new(false);
    Effect::new(move || mounted.set(true));
    // (words, exact local time)
    let local = {
        let at = at.clone();
        Memo::new(move |_| {
            if let Some(c) = clock {
                c.track();
            }
            mounted.get().then(|| local_words(&at)).flatten()
        })
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

/// `at`'s exact time in the reader's locale and zone, with the zone's short name, in the
/// browser; the UTC text on the server (and for a time the browser cannot read). For a time
/// stated once, such as a confirmation, where words ("in 1 h") would say too little.
pub fn exact_text(at: &str) -> String {
    local_words(at).map_or_else(|| utc_text(at), |l| l.1)
}

/// `at` in words at the browser's time now, and its exact time in the reader's locale and
/// zone, with the zone's short name; nothing for a time the browser cannot read.
#[cfg(any(feature = "hydrate", feature = "csr"))]
fn local_words(at: &str) -> Option<(String, String)> {
    let (now, then) = (js_sys::Date::now(), js_sys::Date::parse(at));
    if then.is_nan() {
        return None;
    }
    // With the zone's name ("2/12/2026, 10:04:05 CET"): a time on hover said no zone, so a
    // reader could not tell it from the page's UTC times.
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"timeZoneName".into(), &"short".into());
    let exact = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(then)).to_locale_string("default", &options);
    Some((crate::model::when::relative(((now - then) / 1000.0) as i64), String::from(exact)))
}

/// On the server: always the UTC text.
#[cfg(not(any(feature = "hydrate", feature = "csr")))]
fn local_words(_: &str) -> Option<(String, String)> {
    None
}
