//! `pingone-mcp call ID --args JSON`: one action, through the same gate as a script's
//! calls (policy, production guard, secret masking, audit log).

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::bail;
use guest_sdk::abi::{ActionError, HostCall, HostReply};
use pingone_mcp::catalog::{check_args, normalise_args};
use pingone_mcp::defender::OwnTexts;
use pingone_mcp::dispatch::{invalid_arguments, Requester, AUDIT_LOG_FAILED};
use pingone_mcp::mcp::{account, action_error_text, screen_action_error, screen_value_found, withheld_json, Reader};
use pingone_mcp::pingone::{Waits, ANSWER_UNREADABLE};
use pingone_mcp::sandbox::{action_facts, INTERRUPTED};
use pingone_mcp::stop_signal::stop_requested;
use serde_json::json;

use super::actions::unknown_action;
use super::exit_status::{exit, is_passing, json_when_not_started, FAILED, PINGONE_REFUSED, TRY_LATER, WRITES_TO_CHECK};
use super::{json_args, load_catalog, session, Needed};
use crate::cli::{CallArgs, GlobalArgs};
use crate::output::{error, log_line, note, print, print_json};

pub async fn run(global: &GlobalArgs, args: CallArgs) -> anyhow::Result<ExitCode> {
    let json = args.json;
    json_when_not_started(json, call(global, args).await)
}

async fn call(global: &GlobalArgs, args: CallArgs) -> anyhow::Result<ExitCode> {
    let catalog = load_catalog(global)?;
    let Some(action) = catalog.get(&args.id) else {
        bail!("{}", unknown_action(&catalog, &args.id));
    };
    let call_args = json_args(&args.args, &action.example.to_string())?;
    // Checked before any configuration or network is touched.
    let call_args = normalise_args(action, call_args);
    if let Err(e) = check_args(action, &call_args) {
        // With the stable code a program branches on, and the action (review 59 L3).
        if args.json {
            let failure = invalid_arguments(action, &e);
            print_json(&failure_report(&failure.message, &failure, false, action.writes().then_some(WriteState::NotApplied)));
            return Ok(exit(FAILED));
        }
        return Err(e.into());
    }
    // Read before anything runs: a broken allow file stops the command before a write.
    let defender = Arc::new(args.defender.load()?);
    let session = session(global, &args.policy, &args.simulator, None, Needed::Always).await?;
    // What made the call's audit line, by whom, with which flags, and how it ended.
    let started = json!({ "command": "call", "call": args.id, "flags": session.dispatcher.policy().config.flags_in_force() });
    session.dispatcher.audit_event("run_started", super::with_who_ran(started));
    let status = call_once(&session, &args, action, call_args, &defender).await?;
    session.dispatcher.audit_event("run_ended", json!({ "command": "call", "exit_status": status }));
    Ok(exit(status))
}

/// The call, its answer printed; the exit status.
async fn call_once(session: &super::Session, args: &CallArgs, action: &pingone_mcp::catalog::Action, call_args: serde_json::Value, defender: &Arc<pingone_mcp::defender::Defender>) -> anyhow::Result<u8> {
    // Stopped (Ctrl-C, a timeout's SIGTERM, a closed terminal) before the answer: the
    // call is dropped, which writes its audit line (no answer, or not sent), and what
    // may have happened is said.
    let waits = Arc::new(Waits::default());
    let requester = Requester { waits: Some(&waits), ..Requester::default() };
    let reply = tokio::select! {
        reply = session.dispatcher.dispatch_for(HostCall { action: args.id.clone(), args: call_args }, &requester) => reply,
        signal = stop_requested() => {
            let text = stopped_text(&args.id, action.writes(), &waits);
            if args.json {
                // What a program needs of a stopped call as of a failed one (review 59 M1).
                let stopped = ActionError { action: args.id.clone(), code: INTERRUPTED.into(), transaction_id: waits.transaction().filter(|_| waits.sent()).map(str::to_owned), ..ActionError::default() };
                let state = if waits.sent() && !waits.waiting_unapplied() { WriteState::MayHaveBeenApplied } else { WriteState::NotApplied };
                print_json(&failure_report(&text, &stopped, waits.sent(), action.writes().then_some(state)));
            } else {
                error(&text);
            }
            return Ok(signal.exit_status());
        }
    };
    // What is printed is scanned, as tools mode scans what returns to the model: the
    // result, and PingOne's error texts, which can echo the values of records.
    match reply {
        HostReply::Value(value) => {
            let (value, notices, withheld) = screen_value_found(value, defender, OwnTexts::default(), false, Reader::Person).await;
            warn_all(&notices);
            // Its line could not be written: not done, for an auditor's sake (review 59 M3).
            let audit_failure = session.dispatcher.audit_failure();
            if let Some(why) = &audit_failure {
                error(&format!("the audit log could not be written ({why}): this call ran, and is not on record"));
            }
            let status = if audit_failure.is_some() { FAILED } else { 0 };
            if args.json {
                let mut out = json!({ "ok": audit_failure.is_none(), "result": value });
                if audit_failure.is_some() {
                    out["code"] = json!(AUDIT_LOG_FAILED);
                    out["auditIncomplete"] = json!(true);
                }
                if !withheld.is_empty() {
                    out["withheld"] = withheld_json(&withheld);
                }
                print_json(&out);
                return Ok(status);
            }
            let text = if args.compact { serde_json::to_string(&value)? } else { serde_json::to_string_pretty(&value)? };
            print(&text);
            if let Some(more) = more_pages(&value) {
                note(&more);
            }
            if pingone_mcp::secret::shows_masked(&value) {
                let how = if action.writes() { "read it back with its get action and --reveal-secrets (calling this again would make another)".to_owned() } else { format!("`call {}` with --reveal-secrets shows it", args.id) };
                note(&format!("note: the secret is shown masked: {how}"));
            }
            Ok(status)
        }
        HostReply::Error(mut failure) => {
            // Every failure's text is scanned: besides PingOne's answers, an unknown
            // outcome quotes the error body of the 5xx that left it unknown.
            let notices = screen_action_error(&mut failure, defender, Reader::Person).await;
            let text = action_error_text(&args.id, &failure);
            warn_all(&notices);
            let state = write_state(action.writes(), waits.sent(), &failure);
            if args.json {
                print_json(&failure_report(&text, &failure, waits.sent(), state));
            } else {
                error(&text);
            }
            Ok(match state {
                Some(WriteState::Applied | WriteState::MayHaveBeenApplied) => WRITES_TO_CHECK,
                _ if is_passing(&failure.code, failure.status) => TRY_LATER,
                _ if pingone_refused(&failure) => PINGONE_REFUSED,
                _ => FAILED,
            })
        }
    }
}

/// `call --json`'s report of a call that failed or was stopped: its text, what a
/// program branches on (code, action, status, details, transaction id), whether it was
/// sent and, for a write, the state it left.
fn failure_report(text: &str, failure: &ActionError, sent: bool, state: Option<WriteState>) -> serde_json::Value {
    let mut out = json!({ "ok": false, "error": text, "sent": sent });
    out.as_object_mut().into_iter().for_each(|o| o.extend(action_facts(failure)));
    if let Some(state) = state {
        out["writeState"] = json!(state.name());
    }
    out
}

/// Whether PingOne answered the call with a refusal (not a sign-in's, not a 5xx).
fn pingone_refused(failure: &ActionError) -> bool {
    failure.status.is_some_and(|s| s < 500) && !["AUTHENTICATION_FAILED", "AUTH_UNAVAILABLE", "OUTCOME_UNKNOWN", ANSWER_UNREADABLE].contains(&failure.code.as_str())
}

/// What a failed write left behind, for a program deciding whether to send it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteState {
    /// Refused here or by PingOne: nothing changed.
    NotApplied,
    /// No answer, or a 5xx (an idempotent write is retried, and the last try's 5xx
    /// does not say the ones before it were not applied): check before sending again.
    MayHaveBeenApplied,
    /// Applied, though its answer could not be read.
    Applied,
}

impl WriteState {
    fn name(self) -> &'static str {
        match self {
            WriteState::NotApplied => "not_applied",
            WriteState::MayHaveBeenApplied => "may_have_been_applied",
            WriteState::Applied => "applied",
        }
    }
}

/// The state a failed call left, for a write; `None` for a read.
fn write_state(writes: bool, sent: bool, failure: &ActionError) -> Option<WriteState> {
    if !writes {
        return None;
    }
    Some(match failure.code.as_str() {
        ANSWER_UNREADABLE => WriteState::Applied,
        "OUTCOME_UNKNOWN" => WriteState::MayHaveBeenApplied,
        _ if sent && failure.status.is_none_or(account::leaves_doubt) => WriteState::MayHaveBeenApplied,
        _ => WriteState::NotApplied,
    })
}

/// What a call stopped before its answer came may have done.
fn stopped_text(id: &str, writes: bool, waits: &Waits) -> String {
    let transaction = waits.transaction().map(|t| format!(" (transaction id {t})")).unwrap_or_default();
    match (writes, waits.sent()) {
        (true, true) if waits.waiting_unapplied() => format!("`{id}` was stopped while it waited to try again after PingOne throttled it (429){transaction}: it was not applied"),
        (true, true) => format!("`{id}` was stopped before its answer came{transaction}: it may or may not have been applied; check the record before calling it again"),
        (true, false) => format!("`{id}` was stopped before it was sent: nothing was changed"),
        (false, _) => format!("`{id}` was stopped before its answer came"),
    }
}

fn warn_all(notices: &[String]) {
    for notice in notices {
        log_line("warn", notice);
    }
}

/// For a page of a list with more after it: how many of how many it shows and how to
/// get the rest, so a count taken of the output is not taken for the list's (review 55:
/// 200 of 3,000 users, told nothing).
fn more_pages(value: &serde_json::Value) -> Option<String> {
    let cursor = value.get("cursor").and_then(serde_json::Value::as_str)?;
    let shown = value.get("items")?.as_array()?.len();
    let of = value.get("count").and_then(serde_json::Value::as_u64).map_or_else(String::new, |count| format!(" of {count}"));
    Some(format!("note: this page shows {shown}{of}; for the next, pass \"cursor\": \"{cursor}\" in --args, or \"all\": true for every item"))
}
