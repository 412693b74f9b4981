//! A token bucket shared by every request of the process, so bulk scripts pace
//! themselves instead of tripping PingOne's 429s.

use std::time::{Duration, Instant};

use tokio::sync::Mutex;

#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimiter {
    /// `per_second` requests on average, bursts of up to one second's worth.
    pub fn new(per_second: f64) -> Self {
        let per_second = per_second.max(0.1);
        let burst = per_second.max(1.0);
        Self { per_second, burst, state: Mutex::new((burst, Instant::now())) }
    }

    /// Waits until a request may go.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut state = self.state.lock().await;
                let now = Instant::now();
                let (tokens, last) = *state;
                let tokens = (tokens + now.duration_since(last).as_secs_f64() * self.per_second).min(self.burst);
                if tokens >= 1.0 {
                    *state = (tokens - 1.0, now);
                    return;
                }
                *state = (tokens, now);
                Duration::from_secs_f64((1.0 - tokens) / self.per_second)
            };
            tokio::time::sleep(wait).await;
        }
    }
}
