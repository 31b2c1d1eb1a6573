//! Promgen-rs: the shared library. Compiled for the server (feature `ssr`) and for the
//! browser (`hydrate`, or `csr` for the Trunk build); `model` and `render` are plain Rust
//! used by both.

pub mod api;
pub mod app;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;
pub mod render;
pub mod rules;

#[cfg(feature = "ssr")]
pub mod backend;

/// The browser entry point: takes over the server-rendered page.
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    leptos::mount::hydrate_body(app::App);
}

/// The Trunk build's entry point: renders the whole app in the browser.
#[cfg(feature = "csr")]
pub fn mount() {
    leptos::mount::mount_to_body(app::App);
}
