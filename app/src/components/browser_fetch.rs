//! Values the browser fetches once the page is shown, never the server while it renders.

use leptos::prelude::*;
use std::future::Future;

/// A value only the browser fetches, in an effect once the page is interactive: `None` on the
/// server, during hydration and until the first answer. For answers from outside (Prometheus,
/// the push agents) that must never hold a server render back. `fetch` runs again whenever a
/// signal it reads before returning its future changes; an answer to an earlier run that arrives
/// after a later run started is dropped.
///
/// Not Leptos' `LocalResource`: read on the server inside a `Suspense`, that one makes the
/// Suspense send its fallback instead of the page, or (read after the Suspense resolved) logs
/// "A local-resource notification could not be delivered" on every render.
pub fn browser_fetch<T, Fut>(fetch: impl Fn() -> Fut + 'static) -> ReadSignal<Option<T>>
where
    T: Send + Sync + 'static,
    Fut: Future<Output = T> + 'static,
{
    let (value, set_value) = signal(None);
    // Effects never run on the server.
    let latest = StoredValue::new(0u64);
    Effect::new(move |_| {
        let answer = fetch();
        let run = latest.get_value() + 1;
        latest.set_value(run);
        leptos::task::spawn_local(async move {
            let answer = answer.await;
            // The page may have gone meanwhile (then both are disposed: nothing to do).
            if latest.try_get_value() == Some(run) {
                let _ = set_value.try_set(Some(answer));
            }
        });
    });
    value
}
