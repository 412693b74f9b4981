//! The time a script spends waiting for a person's answer (a confirmation), which its
//! wall-time limit does not count: the limit is for the script's own work, and a
//! person who reads the question for a minute must not find their "yes" thrown away.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// Questions out now, calls in flight, and the time the clock has been stopped.
#[derive(Debug)]
pub struct PersonWaits {
    /// Whether the clock is stopped now: a question is out and every call in flight is
    /// one waiting for its answer (other work beside a question still counts).
    stopped: watch::Sender<bool>,
    state: Mutex<Spent>,
}

#[derive(Debug, Default)]
struct Spent {
    done: Duration,
    /// Since when the clock has been stopped.
    since: Option<Instant>,
    questions: usize,
    /// Calls in flight, the asking ones among them, when the host counts them
    /// ([`PersonWaits::working`]); a host that does not stops the clock for any question.
    calls: usize,
}

impl Default for PersonWaits {
    fn default() -> Self {
        Self { stopped: watch::Sender::new(false), state: Mutex::default() }
    }
}

impl PersonWaits {
    /// A question is out until the returned guard drops.
    pub fn begin(self: &Arc<Self>) -> PersonWait {
        self.change(|spent| spent.questions += 1);
        PersonWait(self.clone())
    }

    /// A call is in flight until the returned guard drops: while it runs beside a
    /// question (and is not the one asking), the script's clock goes on.
    pub fn working(self: &Arc<Self>) -> Working {
        self.change(|spent| spent.calls += 1);
        Working(self.clone())
    }

    fn change(&self, update: impl FnOnce(&mut Spent)) {
        let mut spent = self.state.lock().unwrap_or_else(|e| e.into_inner());
        update(&mut spent);
        let stop = spent.questions > 0 && spent.calls <= spent.questions;
        match (stop, spent.since) {
            (true, None) => spent.since = Some(Instant::now()),
            (false, Some(since)) => {
                spent.done += since.elapsed();
                spent.since = None;
            }
            _ => {}
        }
        self.stopped.send_if_modified(|stopped| std::mem::replace(stopped, stop) != stop);
    }

    /// All the time the clock has been stopped so far, now included.
    pub fn total(&self) -> Duration {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.done + state.since.map_or(Duration::ZERO, |since| since.elapsed())
    }

    /// `work` within `wall` of script time from `started`, not counting the time spent
    /// waiting for a person; `None` when the time ran out first.
    pub async fn within<F: Future>(&self, started: Instant, wall: Duration, work: F) -> Option<F::Output> {
        tokio::pin!(work);
        let mut stopped = self.stopped.subscribe();
        loop {
            if *stopped.borrow_and_update() {
                tokio::select! {
                    done = &mut work => return Some(done),
                    _ = stopped.changed() => continue,
                }
            }
            let deadline = started + wall + self.total();
            tokio::select! {
                done = &mut work => return Some(done),
                _ = stopped.changed() => continue,
                () = tokio::time::sleep_until(deadline) => {
                    // A question that went out just before the deadline stops the clock.
                    if !*stopped.borrow() {
                        return None;
                    }
                }
            }
        }
    }
}

/// One question out; dropping it stops counting it.
#[derive(Debug)]
pub struct PersonWait(Arc<PersonWaits>);

impl Drop for PersonWait {
    fn drop(&mut self) {
        self.0.change(|spent| spent.questions -= 1);
    }
}

/// One call in flight; dropping it stops counting it.
#[derive(Debug)]
pub struct Working(Arc<PersonWaits>);

impl Drop for Working {
    fn drop(&mut self) {
        self.0.change(|spent| spent.calls -= 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn time_waiting_for_a_person_does_not_count() {
        let waits = Arc::new(PersonWaits::default());
        let started = Instant::now();
        let asking = waits.clone();
        let work = async move {
            tokio::time::sleep(Duration::from_secs(20)).await;
            let question = asking.begin();
            tokio::time::sleep(Duration::from_secs(40)).await;
            drop(question);
            tokio::time::sleep(Duration::from_secs(5)).await;
            "done"
        };
        assert_eq!(waits.within(started, Duration::from_secs(30), work).await, Some("done"), "25 s of work and 40 s of waiting fit in 30 s");
        assert_eq!(waits.total(), Duration::from_secs(40));
    }

    /// A call asks a question; another call works `beside` seconds meanwhile, then the
    /// question stays out `alone` seconds more. Whether it fits in 30 s of script time.
    async fn question_with_work_beside(beside: u64, alone: u64) -> bool {
        let waits = Arc::new(PersonWaits::default());
        let calls = waits.clone();
        let work = async move {
            let asking_call = calls.working();
            let question = calls.begin();
            let other_call = calls.working();
            tokio::time::sleep(Duration::from_secs(beside)).await;
            drop(other_call);
            tokio::time::sleep(Duration::from_secs(alone)).await;
            drop((question, asking_call));
        };
        waits.within(Instant::now(), Duration::from_secs(30), work).await.is_some()
    }

    #[tokio::test(start_paused = true)]
    async fn work_beside_a_question_still_counts() {
        assert!(!question_with_work_beside(31, 0).await, "31 s of another call's work while the question is out");
        assert!(question_with_work_beside(10, 40).await, "10 s of work counted, the 40 s with only the question out not");
    }

    #[tokio::test(start_paused = true)]
    async fn the_scripts_own_time_still_runs_out() {
        let waits = Arc::new(PersonWaits::default());
        let asking = waits.clone();
        let work = async move {
            drop(asking.begin());
            tokio::time::sleep(Duration::from_secs(31)).await;
        };
        assert_eq!(waits.within(Instant::now(), Duration::from_secs(30), work).await, None);
    }
}
