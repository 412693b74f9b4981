//! When and how long to wait before trying a request again.

use std::time::Duration;

use rand::Rng;

/// How much one call was held up: the tries it took beyond the first (after a 429,
/// a 5xx on a read, a connection that failed) and the time spent waiting between them;
/// and whether it got as far as being sent (until then, e.g. while a person is asked,
/// a call given up was certainly not applied), or is held for a person's answer.
#[derive(Debug, Default)]
pub struct Waits {
    retries: std::sync::atomic::AtomicU32,
    waited_ms: std::sync::atomic::AtomicU64,
    sent: std::sync::atomic::AtomicBool,
    asking: std::sync::atomic::AtomicBool,
    /// The id PingOne's logs and the audit log know the call by.
    transaction: std::sync::OnceLock<String>,
    /// The HTTP status of PingOne's answer, when it answered well (0: none yet).
    status: std::sync::atomic::AtomicU16,
    /// What a full replace cleared because the call left it out (`users.mfaEnabled true`).
    cleared: std::sync::OnceLock<String>,
    /// The wait under way (begun when, for how long), counted as far as it went when
    /// the call is given up in it (review 58: a 20 s Retry-After stopped after 2 s was
    /// logged as 20 s waited, and its retry, never sent, as made).
    waiting: std::sync::Mutex<Option<(std::time::Instant, Duration)>>,
    /// An earlier try may have been carried out (a 5xx, a connection lost after sending):
    /// a call given up in its wait may have been applied. Unset, a call given up while
    /// waiting out a throttle (429) certainly was not (review 58 L3).
    maybe_applied: std::sync::atomic::AtomicBool,
}

impl Waits {
    /// The call's request is made and about to go to PingOne (its arguments passed):
    /// from here on, a call given up may or may not have been applied.
    pub fn mark_sent(&self) {
        self.sent.store(true, std::sync::atomic::Ordering::Release);
    }

    pub fn sent(&self) -> bool {
        self.sent.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Whether the call is held for a person's answer (set while the question is out).
    pub fn set_asking(&self, asking: bool) {
        self.asking.store(asking, std::sync::atomic::Ordering::Release);
    }

    pub fn asking(&self) -> bool {
        self.asking.load(std::sync::atomic::Ordering::Acquire)
    }

    pub fn set_transaction(&self, id: &str) {
        let _ = self.transaction.set(id.to_owned());
    }

    pub fn transaction(&self) -> Option<&str> {
        self.transaction.get().map(String::as_str)
    }

    /// PingOne answered well, with this status (a create's 201, a delete's 204).
    pub fn set_status(&self, status: u16) {
        self.status.store(status, std::sync::atomic::Ordering::Release);
    }

    /// A full replace cleared these fields, which the call left out.
    pub fn set_cleared(&self, fields: String) {
        let _ = self.cleared.set(fields);
    }

    pub fn cleared(&self) -> Option<&str> {
        self.cleared.get().map(String::as_str)
    }

    pub fn status(&self) -> Option<u16> {
        Some(self.status.load(std::sync::atomic::Ordering::Acquire)).filter(|&s| s != 0)
    }

    /// A try that may have been carried out was made.
    pub fn mark_maybe_applied(&self) {
        self.maybe_applied.store(true, std::sync::atomic::Ordering::Release);
    }

    /// Whether the call is between tries, every try so far certainly not carried out
    /// (throttled, or never reached PingOne): given up now, it changed nothing.
    pub fn waiting_unapplied(&self) -> bool {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner()).is_some() && !self.maybe_applied.load(std::sync::atomic::Ordering::Acquire)
    }

    /// A wait before another try begins.
    pub fn begin_wait(&self, wait: Duration) {
        *self.waiting.lock().unwrap_or_else(|e| e.into_inner()) = Some((std::time::Instant::now(), wait));
    }

    /// The wait is over and the next try is made: counted whole.
    pub fn end_wait(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        if let Some((_, wait)) = self.waiting.lock().unwrap_or_else(|e| e.into_inner()).take() {
            self.retries.fetch_add(1, Relaxed);
            self.waited_ms.fetch_add(wait.as_millis() as u64, Relaxed);
        }
    }

    /// (tries made beyond the first, milliseconds waited, a wait under way as far as it went)
    pub fn get(&self) -> (u32, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        let under_way = self.waiting.lock().unwrap_or_else(|e| e.into_inner()).map_or(0, |(began, wait)| began.elapsed().min(wait).as_millis() as u64);
        (self.retries.load(Relaxed), self.waited_ms.load(Relaxed) + under_way)
    }
}

/// Statuses worth another try: the request was throttled or the server failed.
pub const RETRYABLE_STATUSES: [u16; 6] = [408, 429, 500, 502, 503, 504];

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; longer waits fail instead of hanging.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Capped exponential backoff with full jitter, for attempt 1, 2, ...
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let cap = exp.min(self.max_delay);
        let millis = cap.as_millis() as u64;
        // Half fixed, half random: never zero, never in lockstep with other clients.
        Duration::from_millis(millis / 2 + rand::thread_rng().gen_range(0..=millis / 2))
    }

    /// The wait before the next attempt: a throttle's `Retry-After` (capped) when it
    /// gave one, else the backoff. After a server error (`throttled` false) a
    /// `Retry-After` only lengthens the backoff: a gateway's `Retry-After: 0` must not
    /// spend every try of a brief outage in milliseconds (review 58).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, throttled: bool) -> Duration {
        match retry_after.map(|wait| wait.min(self.max_retry_after)) {
            Some(wait) if throttled => wait,
            Some(wait) => wait.max(self.backoff(attempt)),
            None => self.backoff(attempt),
        }
    }
}

/// `Retry-After` as delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs >= 0.0 && secs.is_finite()).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(std::time::SystemTime::now()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy { max_delay: Duration::from_secs(2), ..Default::default() };
        for attempt in 1..10 {
            let d = p.backoff(attempt);
            let ceiling = (p.base_delay * (1 << (attempt - 1))).min(p.max_delay);
            assert!(d <= ceiling && d >= ceiling / 2, "attempt {attempt}: {d:?} vs {ceiling:?}");
        }
    }

    /// A call given up in a wait counts the wait as far as it went, and no try it did
    /// not make (review 58: 20 s and one retry logged after 2 s).
    #[test]
    fn a_wait_is_counted_as_far_as_it_went() {
        let waits = Waits::default();
        waits.begin_wait(Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(30));
        let (retries, waited) = waits.get();
        assert!(retries == 0 && (30..20_000).contains(&waited), "{retries} {waited}");
        waits.end_wait();
        assert_eq!(waits.get(), (1, 20_000));
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1, Some(Duration::from_secs(3)), true), Duration::from_secs(3));
        assert_eq!(p.delay(1, Some(Duration::from_secs(3600)), true), p.max_retry_after);
        assert_eq!(p.delay(1, Some(Duration::ZERO), true), Duration::ZERO, "a throttle's own word");
        assert!(p.delay(3, Some(Duration::ZERO), false) >= p.base_delay * 2, "a server error's Retry-After: 0 still backs off");
        assert_eq!(p.delay(1, Some(Duration::from_secs(3)), false), Duration::from_secs(3), "and a longer one is waited");
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
