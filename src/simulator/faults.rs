//! Fault knobs: throttling (429 with Retry-After), server errors, latency, dropped
//! connections and malformed bodies, on every management call or on a path prefix,
//! every Nth matching call or at a random rate. Token and userinfo calls on the auth
//! host are never faulted, so a drill exercises the management client's retries.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng;

/// What a fault does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// 429 REQUEST_LIMITED with `Retry-After: <secs>` (fractions allowed, e.g. 0.05).
    RateLimit { retry_after_ms: u64 },
    /// A 5xx with PingOne's UNEXPECTED_ERROR body; `applied`: after the call was
    /// carried out (a gateway that timed out on a create that landed), not instead.
    ServerError { status: u16, applied: bool },
    /// Answer normally, after this delay.
    Latency { ms: u64 },
    /// Carry out the call, send the headers, then cut the connection before the body
    /// ends: a write was applied though its caller cannot know.
    Drop,
    /// Answer 200 with a body that is not valid JSON.
    Malformed,
}

/// When a rule fires.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trigger {
    Always,
    /// The Nth, 2Nth, ... matching call.
    Every(u64),
    /// Each matching call with this probability (0.0 to 1.0).
    Rate(f64),
}

/// One fault rule.
#[derive(Debug)]
pub struct FaultRule {
    pub kind: FaultKind,
    pub trigger: Trigger,
    /// Only requests whose path starts with this prefix: the full path
    /// (`/v1/environments/…/users`), the same without `/v1` (as PingOne's API reference
    /// writes paths), or the part after the environment (`/users`).
    pub path_prefix: Option<String>,
    /// Only this HTTP method (upper case), if set.
    pub method: Option<String>,
    calls: AtomicU64,
}

impl Clone for FaultRule {
    fn clone(&self) -> Self {
        Self { kind: self.kind, trigger: self.trigger, path_prefix: self.path_prefix.clone(), method: self.method.clone(), calls: AtomicU64::new(0) }
    }
}

impl FaultRule {
    pub fn new(kind: FaultKind, trigger: Trigger) -> Self {
        Self { kind, trigger, path_prefix: None, method: None, calls: AtomicU64::new(0) }
    }

    /// Limits the rule to paths starting with `prefix`.
    pub fn on_path(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = Some(prefix.into());
        self
    }

    /// Limits the rule to one HTTP method.
    pub fn on_method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    fn applies(&self, method: &str, full: &str, relative: &str) -> bool {
        if self.method.as_deref().is_some_and(|m| m != method) {
            return false;
        }
        match &self.path_prefix {
            None => true,
            Some(p) => [Some(full), full.strip_prefix("/v1"), Some(relative)].into_iter().flatten().any(|path| path.starts_with(p.as_str())),
        }
    }

    fn fires(&self) -> bool {
        let n = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        match self.trigger {
            Trigger::Always => true,
            Trigger::Every(k) => k > 0 && n % k == 0,
            Trigger::Rate(p) => rand::thread_rng().gen_bool(p.clamp(0.0, 1.0)),
        }
    }
}

/// The set of fault rules; empty means a well-behaved PingOne.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub rules: Vec<FaultRule>,
}

/// What the server should do to one request.
#[derive(Debug, Default, Clone, Copy)]
pub struct Decision {
    pub delay: Duration,
    /// The first non-latency fault that fired.
    pub fault: Option<FaultKind>,
}

impl Faults {
    pub fn none() -> Self {
        Self::default()
    }

    pub fn with(mut self, rule: FaultRule) -> Self {
        self.rules.push(rule);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Decides the faults for one management call. `relative` is the path after
    /// `/v1/environments/{id}` (or the full path for org-level calls).
    pub fn decide(&self, method: &str, full: &str, relative: &str) -> Decision {
        let mut d = Decision::default();
        for rule in self.rules.iter().filter(|r| r.applies(method, full, relative)) {
            if !rule.fires() {
                continue;
            }
            match rule.kind {
                FaultKind::Latency { ms } => d.delay += Duration::from_millis(ms),
                other if d.fault.is_none() => d.fault = Some(other),
                _ => {}
            }
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nth_and_prefix() {
        let f = Faults::none().with(FaultRule::new(FaultKind::ServerError { status: 503, applied: false }, Trigger::Every(3)).on_path("/users"));
        let hits: Vec<bool> = (0..6).map(|_| f.decide("GET", "/v1/environments/e/users", "/users").fault.is_some()).collect();
        assert_eq!(hits, vec![false, false, true, false, false, true]);
        assert!(f.decide("GET", "/v1/environments/e/groups", "/groups").fault.is_none());
        // A path as PingOne's API reference writes it, without /v1, matches too (review 51).
        let written = Faults::none().with(FaultRule::new(FaultKind::ServerError { status: 503, applied: false }, Trigger::Always).on_path("/environments/e/users"));
        assert!(written.decide("POST", "/v1/environments/e/users", "/users").fault.is_some());
        assert!(written.decide("POST", "/v1/environments/e/groups", "/groups").fault.is_none());
    }

    #[test]
    fn latency_adds_up_and_method_filters() {
        let f = Faults::none()
            .with(FaultRule::new(FaultKind::Latency { ms: 5 }, Trigger::Always))
            .with(FaultRule::new(FaultKind::Latency { ms: 7 }, Trigger::Always).on_method("post"));
        assert_eq!(f.decide("POST", "/x", "/x").delay, Duration::from_millis(12));
        assert_eq!(f.decide("GET", "/x", "/x").delay, Duration::from_millis(5));
    }
}
