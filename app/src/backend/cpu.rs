//! CPU-heavy work that requests cause (checking and rendering rules, parsing files users send,
//! rendering notifier templates, checking pasted host lists) runs here: on blocking threads, at
//! most one per core at once, within a time budget. The async workers that serve pages, the
//! webhook, the live feed and the dispatcher are never held by it.
//!
//! A thread cannot be stopped from outside, so the budget bounds how long a caller waits, not
//! the work: what runs here must itself be bounded (linear algorithms, template fuel, size
//! limits). The permit is held until the work ends, so work that outlives its caller still
//! counts against the pool and a flood of requests cannot pile up threads.

use crate::error::AppError;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

#[derive(Clone, Debug)]
pub struct Cpu {
    permits: Arc<Semaphore>,
    budget: Duration,
}

impl Default for Cpu {
    fn default() -> Self {
        Cpu::new(0, Duration::from_secs(10))
    }
}

impl Cpu {
    /// A pool of `threads` (0: one per core) whose callers wait at most `budget`.
    pub fn new(threads: usize, budget: Duration) -> Cpu {
        let threads = if threads == 0 { std::thread::available_parallelism().map_or(2, |n| n.get()) } else { threads };
        Cpu { permits: Arc::new(Semaphore::new(threads)), budget }
    }

    /// The longest a caller waits for work here (queueing included).
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// A place in the pool for work done elsewhere (a child process), held until dropped; a
    /// 503 naming `what` when none frees up within the budget.
    pub async fn hold(&self, what: &str) -> Result<tokio::sync::OwnedSemaphorePermit, AppError> {
        tokio::time::timeout(self.budget, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| {
                AppError::Unavailable(format!(
                    "{what} waited longer than {} s: the server is busy",
                    self.budget.as_secs_f64()
                ))
            })?
            .map_err(|_| AppError::Internal("the CPU pool is closed".into()))
    }

    /// Runs `work` off the async workers and returns its result, or a 503 naming `what` when
    /// the budget ran out first (while queued or running).
    pub async fn run<T, F>(&self, what: &str, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let started = Instant::now();
        let over = || {
            AppError::Unavailable(format!(
                "{what} took longer than {} s: the input is too large or the server is busy; try again",
                self.budget.as_secs_f64()
            ))
        };
        let permit = tokio::time::timeout(self.budget, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| over())?
            .map_err(|_| AppError::Internal("the CPU pool is closed".into()))?;
        let job = tokio::task::spawn_blocking(move || {
            let _held = permit;
            work()
        });
        match tokio::time::timeout(self.budget.saturating_sub(started.elapsed()), job).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                tracing::error!(error = %e, what, "CPU work failed");
                Err(AppError::Internal(format!("{what} failed; the server's log says why")))
            }
            Err(_) => {
                tracing::warn!(what, budget = ?self.budget, "CPU work over budget");
                Err(over())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_runs_off_the_workers_within_its_budget() {
        let cpu = Cpu::new(1, Duration::from_millis(200));
        assert_eq!(cpu.run("adding", || 1 + 1).await, Ok(2));
        let slow = cpu.run("sleeping", || std::thread::sleep(Duration::from_secs(1)));
        let e = slow.await.unwrap_err();
        assert_eq!(e.status(), 503);
        assert!(e.to_string().contains("sleeping took longer than 0.2 s"), "{e}");
        // The pool's one thread is still busy: the next caller is refused in time, not queued
        // for ever.
        let started = Instant::now();
        assert!(cpu.run("queued", || ()).await.is_err());
        assert!(started.elapsed() < Duration::from_millis(900));
    }
}
