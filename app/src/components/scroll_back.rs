//! Back and forward land where the page was left. A page reached by back within the app
//! (a `popstate` the router handles) fetches its data again and shows "Loading…" first: the
//! browser's own restoring of the scroll runs against that short page and lands at the top.
//! So the position of each page (path and query) is remembered as it is scrolled, and after a
//! back or forward it is put back, as far as the page goes, while it grows: for a few seconds
//! or until the user scrolls, taps or types. A full load (a reload, a page from another site)
//! is the browser's to restore, from the server's whole HTML.

/// How long after a back or forward the page's position is put back as it grows (ms).
#[cfg(any(feature = "hydrate", feature = "csr"))]
const RESTORE_FOR_MS: f64 = 3000.0;

/// Starts remembering and restoring (once, from [`crate::hydrate`] or [`crate::mount`]).
#[cfg(any(feature = "hydrate", feature = "csr"))]
pub fn scroll_back() {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    thread_local! {
        /// Each page's last position (`scrollY`), by path and query.
        static LEFT_AT: RefCell<HashMap<String, f64>> = RefCell::new(HashMap::new());
        /// After a back or forward: the position to put back, until when (`performance.now()`).
        static PENDING: RefCell<Option<(f64, f64)>> = const { RefCell::new(None) };
    }
    let Some(window) = web_sys::window() else { return };
    let Some(document) = window.document() else { return };
    let page = || {
        let location = web_sys::window()?.location();
        Some(format!("{}{}", location.pathname().ok()?, location.search().ok()?))
    };
    let now = || web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now());
    // Puts the position back while the page is tall enough for it; gives up after the time.
    let restore = move || {
        let Some((y, until)) = PENDING.with(|p| *p.borrow()) else { return };
        if now() > until {
            PENDING.with(|p| p.take());
            return;
        }
        let Some(window) = web_sys::window() else { return };
        let Some(root) = window.document().and_then(|d| d.document_element()) else { return };
        // As far as the page goes yet: it grows as its data comes, and may end shorter than it
        // was left (a disclosure open then is closed now).
        let room = f64::from(root.scroll_height()) - window.inner_height().ok().and_then(|h| h.as_f64()).unwrap_or(0.0);
        let to = y.min(room.max(0.0));
        if window.scroll_y().ok() != Some(to) {
            window.scroll_to_with_x_and_y(0.0, to);
        }
    };

    // While nothing is pending, each scroll is the page's position (the scrolls of a page
    // still growing after a back are not).
    let on_scroll = Closure::<dyn Fn()>::new(move || {
        if PENDING.with(|p| p.borrow().is_some()) {
            return;
        }
        if let (Some(page), Some(y)) = (page(), web_sys::window().and_then(|w| w.scroll_y().ok())) {
            LEFT_AT.with(|all| all.borrow_mut().insert(page, y));
        }
    });
    let passive = web_sys::AddEventListenerOptions::new();
    passive.set_passive(true);
    let _ = window.add_event_listener_with_callback_and_add_event_listener_options(
        "scroll",
        on_scroll.as_ref().unchecked_ref(),
        &passive,
    );
    on_scroll.forget();

    // The location is the new page's already.
    let on_popstate = Closure::<dyn Fn()>::new(move || {
        let left_at = page().and_then(|page| LEFT_AT.with(|all| all.borrow().get(&page).copied()));
        PENDING.with(|p| *p.borrow_mut() = left_at.map(|y| (y, now() + RESTORE_FOR_MS)));
        restore();
    });
    let _ = window.add_event_listener_with_callback("popstate", on_popstate.as_ref().unchecked_ref());
    on_popstate.forget();

    // The user moves on their own: their scroll wins.
    let on_user = Closure::<dyn Fn()>::new(|| {
        PENDING.with(|p| p.take());
    });
    for kind in ["wheel", "touchstart", "keydown", "mousedown"] {
        let _ = window.add_event_listener_with_callback_and_add_event_listener_options(
            kind,
            on_user.as_ref().unchecked_ref(),
            &passive,
        );
    }
    on_user.forget();

    super::keep_focus::on_body_change(&document, Closure::<dyn Fn()>::new(restore));
}
