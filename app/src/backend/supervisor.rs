//! The one owner of the server's background work (the outbox dispatcher, the alert writer, the
//! heartbeat watch, the LISTEN loop, pruning and the other periodic jobs): every task is
//! spawned here, sees the same stop signal, and [`Supervisor::shutdown`] waits for all of them,
//! so a stopping server finishes the deliveries it has on the wire instead of dropping them.

use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Clone, Default)]
pub struct Supervisor {
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl Supervisor {
    pub fn new() -> Supervisor {
        Supervisor::default()
    }

    /// Cancelled when the server stops: a task finishes what it is doing and returns.
    pub fn stop(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Whether stopping has begun.
    pub fn stopping(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// Runs `work` as a supervised task named `name` (in the logs).
    pub fn spawn<F>(&self, name: &'static str, work: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(async move {
            work.await;
            tracing::debug!(task = name, "background task stopped");
        });
    }

    /// Runs `work` every `period` (the first at once) until stopped; a round under way is
    /// finished first.
    pub fn periodically<F, Fut>(&self, name: &'static str, period: Duration, mut work: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let stop = self.stop();
        self.spawn(name, async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tokio::select! {
                    biased;
                    _ = stop.cancelled() => return,
                    _ = tick.tick() => work().await,
                }
            }
        });
    }

    /// Stops every task and waits for them, at most `grace`. Returns whether all stopped in
    /// time; those that did not are abandoned (the outbox's leases bring their work back).
    pub async fn shutdown(&self, grace: Duration) -> bool {
        self.stop.cancel();
        self.tasks.close();
        let running = self.tasks.len();
        if running > 0 {
            tracing::info!(tasks = running, "waiting for background work to finish");
        }
        match tokio::time::timeout(grace, self.tasks.wait()).await {
            Ok(()) => true,
            Err(_) => {
                tracing::warn!(tasks = self.tasks.len(), ?grace, "background work did not finish in time; leaving it");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn waits_for_work_under_way_and_gives_up_on_stuck_work() {
        let s = Supervisor::new();
        let done = Arc::new(AtomicUsize::new(0));
        let d = done.clone();
        let stop = s.stop();
        s.spawn("finishes its round", async move {
            stop.cancelled().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            d.fetch_add(1, Ordering::SeqCst);
        });
        let rounds = Arc::new(AtomicUsize::new(0));
        let r = rounds.clone();
        s.periodically("ticks", Duration::from_millis(10), move || {
            r.fetch_add(1, Ordering::SeqCst);
            std::future::ready(())
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(s.shutdown(Duration::from_secs(5)).await);
        assert_eq!(done.load(Ordering::SeqCst), 1, "the round under way was finished");
        let after = rounds.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(rounds.load(Ordering::SeqCst), after, "nothing runs after the stop");

        let stuck = Supervisor::new();
        stuck.spawn("never returns", std::future::pending());
        assert!(!stuck.shutdown(Duration::from_millis(50)).await);
    }
}
