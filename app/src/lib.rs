//! Promgen-rs: the shared library. Compiled for the server (feature `ssr`) and for the
//! browser (`hydrate`, or `csr` for the Trunk build); `model` and `render` are plain Rust
//! used by both.

pub mod api;
pub mod app;
pub mod chunks;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;
pub mod render;
pub mod rules;

#[cfg(feature = "ssr")]
pub mod backend;

/// The browser entry point: takes over the server-rendered page. Asynchronous, because the
/// page's wasm chunk (its route is lazy, see `app`) may have to arrive first; `on_hydrated` runs
/// once the page is live.
#[cfg(feature = "hydrate")]
pub fn hydrate(on_hydrated: impl FnOnce() + 'static) {
    wasm_bindgen_futures::spawn_local(async move {
        leptos::mount::hydrate_from_async(leptos::prelude::document().body().expect("a <body>"), app::App)
            .await
            .forget();
        // keep_typed first: the disclosures it opens again are open when focus is put back.
        // Both before the sections whose code comes after the page's have hydrated
        // (components::deferred): what is typed into them meanwhile is kept too.
        components::keep_typed();
        components::keep_focus();
        // The page itself is live, then with its sections: marks the page-load benchmark reads.
        let mark = |name: &str| {
            if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
                let _ = p.mark(name);
            }
        };
        mark("promgen-page-hydrated");
        components::sections_hydrated().await;
        mark("promgen-hydrated");
        on_hydrated();
    });
}

/// The Trunk build's entry point: renders the whole app in the browser.
#[cfg(feature = "csr")]
pub fn mount() {
    leptos::mount::mount_to_body(app::App);
    components::keep_typed();
    components::keep_focus();
}
