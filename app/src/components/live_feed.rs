//! The live alert feed in the browser: a websocket to `/ws` that hands every event to the page,
//! and on a drop reconnects with growing waits, asking for what came after the last event it
//! saw, so nothing is missed. On the server it does nothing: pages render from their data.

use crate::model::FeedMessage;
use leptos::prelude::*;

/// Starts the feed after event `since`; `on_message` gets every message. Returns what the feed
/// is doing, for the page to show ("live", "reconnecting in 2 s", ...).
pub fn live_feed(since: i64, on_message: impl Fn(FeedMessage) + 'static) -> ReadSignal<String> {
    let (status, set_status) = signal("connecting".to_string());
    // In the browser only: a host build with `hydrate` unified into `ssr` (`cargo test
    // --workspace`) would spawn a browser task while rendering and never finish the page.
    #[cfg(all(target_arch = "wasm32", any(feature = "hydrate", feature = "csr")))]
    browser::run(since, on_message, set_status);
    #[cfg(not(all(target_arch = "wasm32", any(feature = "hydrate", feature = "csr"))))]
    let _ = (since, on_message, set_status);
    status
}

#[cfg(all(target_arch = "wasm32", any(feature = "hydrate", feature = "csr")))]
mod browser {
    use super::*;
    use futures::{FutureExt, StreamExt};
    use gloo_net::websocket::{Message, futures::WebSocket};
    use std::cell::Cell;
    use std::rc::Rc;

    /// The feed's address on this page's server.
    fn url(since: i64) -> Option<String> {
        let location = web_sys::window()?.location();
        let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
        Some(format!("{scheme}://{}/ws?since={since}", location.host().ok()?))
    }

    async fn sleep(ms: i32) {
        let promise = js_sys_promise(ms);
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }

    fn js_sys_promise(ms: i32) -> wasm_bindgen_futures::js_sys::Promise {
        wasm_bindgen_futures::js_sys::Promise::new(&mut |resolve, _| {
            if let Some(w) = web_sys::window() {
                let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
            }
        })
    }

    pub fn run(since: i64, on_message: impl Fn(FeedMessage) + 'static, status: WriteSignal<String>) {
        let last = Rc::new(Cell::new(since));
        let (stop, stopped) = futures::channel::oneshot::channel::<()>();
        // Leaving the page ends the feed.
        let stop = send_wrapper::SendWrapper::new(std::cell::RefCell::new(Some(stop)));
        on_cleanup(move || drop(stop.borrow_mut().take()));
        leptos::task::spawn_local(async move {
            let mut stopped = stopped.fuse();
            let mut wait = 500;
            loop {
                if let Some(ws) = url(last.get()).and_then(|u| WebSocket::open(&u).ok()) {
                    let (_, mut read) = ws.split();
                    let _ = status.try_set("live".into());
                    loop {
                        futures::select! {
                            m = read.next().fuse() => match m {
                                Some(Ok(Message::Text(text))) => {
                                    wait = 500;
                                    if let Ok(m) = serde_json::from_str::<FeedMessage>(&text) {
                                        if let FeedMessage::Event { event, .. } = &m {
                                            last.set(last.get().max(event.id));
                                        }
                                        on_message(m);
                                    }
                                }
                                Some(Ok(_)) => {}
                                _ => break,
                            },
                            _ = stopped => return,
                        }
                    }
                }
                let _ = status.try_set(format!("reconnecting in {} s", (wait + 999) / 1000));
                futures::select! {
                    _ = sleep(wait).fuse() => {}
                    _ = stopped => return,
                }
                wait = (wait * 2).min(30_000);
            }
        });
    }
}
