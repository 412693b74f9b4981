//! What `run` adds to a stopped run's account (`pingone_mcp::mcp::account`): the
//! option that raises the limit that stopped it.

use pingone_mcp::sandbox::{ExecutionError, Limit};

/// How fast a run may call PingOne and for how long: what a call limit raised runs into next.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub timeout_secs: u64,
    pub requests_per_sec: f64,
}

/// The command-line option that raises the limit that stopped a run, if it has one; for
/// the call limit, also the wall time that more calls need at this pace (review 54 L7: a
/// bulk job raised --max-calls, then ran out of --timeout).
/// `waited_ms`: how long the run's calls waited between tries (a throttle's
/// Retry-After): when the wall time ran out, often the cause (review 58 L2).
pub fn raise_with(error: &ExecutionError, pace: Pace, waited_ms: u64) -> Option<String> {
    match error {
        ExecutionError::Limit { limit: Limit::WallTime, .. } if waited_ms >= 1_000 => Some(format!(
            "--timeout SECONDS raises the wall-time limit; of the {} s, the calls spent {:.1} s waiting to try again (PingOne throttled them, or failed), so the time went to PingOne, not the script: a lower --rate-limit is throttled less",
            pace.timeout_secs,
            waited_ms as f64 / 1000.0
        )),
        ExecutionError::Limit { limit: Limit::WallTime, .. } => Some("--timeout SECONDS raises the wall-time limit".to_owned()),
        ExecutionError::Limit { limit: Limit::HostCalls, .. } => {
            let calls_in_time = (pace.requests_per_sec * pace.timeout_secs as f64) as u64;
            Some(format!(
                "--max-calls N raises the action-call limit; at {} requests a second (--rate-limit), about {calls_in_time} calls fit in the {} s of --timeout, so a longer job needs --timeout SECONDS raised with it",
                pace.requests_per_sec, pace.timeout_secs
            ))
        }
        ExecutionError::Limit { limit: Limit::ResultSize, .. } => Some("--max-result-mib N raises the result-size limit".to_owned()),
        _ => None,
    }
}
