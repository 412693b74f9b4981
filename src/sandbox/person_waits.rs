//! The time a script spends waiting for a person's answer (a confirmation), which its
//! wall-time limit does not count: the limit is for the script's own work, and a
//! person who reads the question for a minute must not find their "yes" thrown away.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// Questions out now, and the time spent on those already answered.
#[derive(Debug)]
pub struct PersonWaits {
    open: watch::Sender<usize>,
    state: Mutex<Spent>,
}

#[derive(Debug, Default)]
struct Spent {
    done: Duration,
    /// Since when at least one question has been out.
    since: Option<Instant>,
}

impl Default for PersonWaits {
    fn default() -> Self {
        Self { open: watch::Sender::new(0), state: Mutex::default() }
    }
}

impl PersonWaits {
    /// A question is out until the returned guard drops.
    pub fn begin(self: &Arc<Self>) -> PersonWait {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.open.send_modify(|open| {
            if *open == 0 {
                state.since = Some(Instant::now());
            }
            *open += 1;
        });
        PersonWait(self.clone())
    }

    /// All the time spent waiting so far, a question out now included.
    pub fn total(&self) -> Duration {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.done + state.since.map_or(Duration::ZERO, |since| since.elapsed())
    }

    /// `work` within `wall` of script time from `started`, not counting the time spent
    /// waiting for a person; `None` when the time ran out first.
    pub async fn within<F: Future>(&self, started: Instant, wall: Duration, work: F) -> Option<F::Output> {
        tokio::pin!(work);
        let mut open = self.open.subscribe();
        loop {
            if *open.borrow_and_update() > 0 {
                tokio::select! {
                    done = &mut work => return Some(done),
                    _ = open.changed() => continue,
                }
            }
            let deadline = started + wall + self.total();
            tokio::select! {
                done = &mut work => return Some(done),
                () = tokio::time::sleep_until(deadline) => {
                    // A question that went out just before the deadline stops the clock.
                    if *open.borrow() == 0 {
                        return None;
                    }
                }
            }
        }
    }
}

/// One question out; dropping it stops counting.
#[derive(Debug)]
pub struct PersonWait(Arc<PersonWaits>);

impl Drop for PersonWait {
    fn drop(&mut self) {
        let waits = &self.0;
        let mut state = waits.state.lock().unwrap_or_else(|e| e.into_inner());
        waits.open.send_modify(|open| {
            *open -= 1;
            if *open == 0 {
                if let Some(since) = state.since.take() {
                    state.done += since.elapsed();
                }
            }
        });
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
