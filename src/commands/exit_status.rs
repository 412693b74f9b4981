//! The command line's exit statuses, the same for `run` and `call`: a cron job or a CI
//! step that reads only the status must tell "nothing happened" from "check first".

use std::process::ExitCode;

/// It failed, and nothing it sent is left in doubt: refused here (policy, arguments,
/// a confirmation), a script's error, a sign-in or configuration error.
pub const FAILED: u8 = 1;
/// PingOne refused the call (`call`; a 4xx): nothing was applied.
pub const PINGONE_REFUSED: u8 = 2;
/// A write was applied though its answer could not be read, or may have been (no
/// answer, a 5xx): check the state before running it again; never retry it blindly.
pub const WRITES_TO_CHECK: u8 = 3;
/// PingOne throttled it or could not answer (a 429 after the tries, a 5xx or a lost
/// connection on a read, the token endpoint down), and nothing was applied: run it
/// again later (sysexits' EX_TEMPFAIL; review 59 M6: a 429 exited as a refusal, 2).
pub const TRY_LATER: u8 = 75;

/// Whether a failure of this code and status is PingOne's passing trouble, not a
/// refusal of the request; what it left applied is the caller's to weigh.
pub fn is_passing(code: &str, status: Option<u16>) -> bool {
    status.is_some_and(|s| s == 429 || s >= 500) || ["AUTH_UNAVAILABLE", "RETRIES_EXHAUSTED", "TRANSPORT_ERROR"].contains(&code)
}

/// The command line itself was wrong (an unknown flag, a value out of range).
pub const USAGE: u8 = 64;

pub fn exit(status: u8) -> ExitCode {
    ExitCode::from(status)
}

/// `done`, or with `--json` (`json`), its error before anything was sent as a JSON
/// report on stdout (exit 1): a program parsing stdout gets JSON either way.
pub fn json_when_not_started(json: bool, done: anyhow::Result<ExitCode>) -> anyhow::Result<ExitCode> {
    match done {
        Err(e) if json => {
            crate::output::print_json(&not_started(&e));
            Ok(exit(FAILED))
        }
        done => done,
    }
}

/// The report of a command stopped before it sent anything (a missing script or
/// cassette, a wrong action id or argument, a sign-in), for `--json`.
pub fn not_started(e: &anyhow::Error) -> serde_json::Value {
    serde_json::json!({ "ok": false, "code": NOT_STARTED, "error": format!("{e:#}"), "sent": false })
}

/// The code of a command stopped before it sent anything.
pub const NOT_STARTED: &str = "NOT_STARTED";
