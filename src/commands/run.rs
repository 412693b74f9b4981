//! `pingone-mcp run SCRIPT`: one script through the sandbox, live or from a cassette.

use std::collections::HashSet;
use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use pingone_mcp::dispatch::{Recorder, AUDIT_LOG_FAILED};
use pingone_mcp::defender::Defender;
use guest_sdk::abi::{LogLevel, ScriptError};
use pingone_mcp::mcp::{account, screen_found, screen_targets, screen_value, withheld_json, ObservedHost, Reader, DEFENDER_NOTICE};
use pingone_mcp::sandbox::{ExecutionError, Limits, LogLine, Sandbox};
use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedReceiver;

use super::exit_status::{exit, is_passing, json_when_not_started, FAILED, TRY_LATER, WRITES_TO_CHECK};
use super::{session, Needed};
use crate::cli::{GlobalArgs, RunArgs};
use super::run_account;
use crate::output::{error, log_line, note, print, print_json, print_raw};

/// A scan of the result longer than this is told, with how to skip it.
const SLOW_SCAN: Duration = Duration::from_secs(5);

pub async fn run(global: &GlobalArgs, args: RunArgs) -> anyhow::Result<ExitCode> {
    // With --json, what stopped it before the script ran is JSON too (review 58: a
    // missing script or cassette gave plain text to a program parsing stdout).
    let json = args.json;
    json_when_not_started(json, run_script(global, args).await)
}

async fn run_script(global: &GlobalArgs, args: RunArgs) -> anyhow::Result<ExitCode> {
    let script = read_script(&args.script)?;
    let script_args = super::json_args(&args.args, r#"{"limit": 10}"#)?;
    // Read before anything runs: a broken allow file stops the command before a write.
    let allow = args.defender.allow_file()?;
    let session = session(global, &args.policy, &args.simulator, args.replay.as_deref(), Needed::OnFirstCall).await?;
    let replay = session.replay.clone();
    let mut dispatcher = session.dispatcher;
    // Where the writes past the first `account::SHOWN` are told: the audit log when one
    // is kept, else stderr, all of them (review 54 M5: 800 created ids recorded nowhere).
    let writes_shown = if dispatcher.policy().config.audit_logs.is_empty() { usize::MAX } else { account::SHOWN };
    let pace = run_account::Pace { timeout_secs: args.timeout, requests_per_sec: dispatcher.policy().config.rate_limit.unwrap_or(pingone_mcp::policy::DEFAULT_RATE_LIMIT) };
    let recorder = args.record.as_ref().map(|_| Arc::new(Recorder::new(dispatcher.policy().config.dry_run)));
    if let (Some(path), Some(recorder)) = (&args.record, &recorder) {
        // Written (empty) before the script runs: a path that cannot be written stops
        // the command before a write, not after it.
        recorder.cassette().save(path)?;
        dispatcher = dispatcher.recording(recorder.clone());
    }
    let limits = Limits { wall_time: Duration::from_secs(args.timeout), host_calls: args.max_calls, ..Limits::default() }.with_result_bytes((args.max_result_mib as usize) << 20);
    let sandbox = Sandbox::new().await?;
    let defender = Arc::new(args.defender.load_with(allow));
    // Observed, so the defender knows which error texts the host wrote. Without --json,
    // console lines are shown as the script writes them (a long job shows progress).
    // The audit log says what ran the calls that follow, by whom, with which flags.
    let mut started = json!({ "command": "run", "script": args.script.display().to_string(), "script_sha256": pingone_mcp::defender::digest(&script), "flags": dispatcher.policy().config.flags_in_force() });
    for (key, path) in [("replay", &args.replay), ("record", &args.record)] {
        if let Some(path) = path {
            started[key] = json!(path.display().to_string());
        }
    }
    dispatcher.audit_event("run_started", super::with_who_ran(started));
    let dispatcher = Arc::new(dispatcher);
    let mut host = ObservedHost::new(dispatcher.clone(), None, None).for_script(&script).with_input(&script_args);
    let mut console = None;
    if !args.json {
        let (lines, received) = tokio::sync::mpsc::unbounded_channel();
        host = host.with_console(lines);
        console = Some(received);
    }
    let host = Arc::new(host);
    let printer = console.map(|lines| tokio::spawn(print_console(lines, defender.clone(), host.clone())));
    // Ctrl-C, SIGTERM or SIGHUP stops the script, not the process: what it did is still
    // told and recorded.
    let stopped_by = std::sync::OnceLock::new();
    let interrupted = async {
        let _ = stopped_by.set(pingone_mcp::stop_signal::stop_requested().await);
        None
    };
    let mut execution = sandbox.execute_until(&script, script_args, host.clone(), &limits, interrupted).await;
    host.end_console();
    let mut told = HashSet::new();
    if let Some(printer) = printer {
        told = printer.await.unwrap_or_default();
        // Shown already.
        execution.logs.clear();
    }
    let scanning = std::time::Instant::now();
    let (mut execution, withheld) = screen_found(execution, &defender, host.own_texts(), Reader::Person).await;
    execution.logs.retain(|line| !told.contains(&line.message));
    if scanning.elapsed() > SLOW_SCAN {
        note(&format!(
            "the defender took {:.0} s to scan the result (the classifier reads every part of a long text, such as a CSV); output no agent will read, such as an export to a file, can skip the classifier with --defender patterns, or the scan with --defender off",
            scanning.elapsed().as_secs_f64()
        ));
    }

    // A cassette that cannot be written now (the disk filled up) is told, and the
    // result and the writes are still printed.
    let unsaved = match (&args.record, &recorder) {
        (Some(path), Some(recorder)) => {
            if let Err(e) = &execution.outcome {
                recorder.ended_with(e.code());
            }
            recorder.cassette().save(path).err()
        }
        _ => None,
    };
    // One scan of what names the records, for the calls answered and those in flight.
    let answered = host.calls();
    let answered_count = answered.len();
    let refused_by_policy = answered.iter().filter(|c| c.outcome == "POLICY_DENIED").count();
    let mut screened = screen_targets(answered.into_iter().chain(host.in_flight()).collect(), &defender, &host.own_texts()).await;
    let in_flight = screened.split_off(answered_count);
    let writes = account::writes(&screened, &in_flight);
    let waited_ms: u64 = screened.iter().chain(&in_flight).map(|call| call.waited_ms).sum();
    // A replay exits as its recording did, though it sent nothing to check.
    let recorded_to_check = account::recorded_to_check(&writes);
    if recorded_to_check && !args.json {
        note("the recorded run had writes to check (replayed OUTCOME_UNKNOWN or ANSWER_UNREADABLE): this replay exits as it did, with status 3, though it sent nothing");
    }
    // A replay is a check that the script still does what was recorded: one that did
    // not make the recorded calls fails, whatever the script made of the errors
    // (review 54 M3: 300 NOT_IN_CASSETTE caught, exit 0).
    let unfaithful = replay.and_then(|r| r.unfaithful(refused_by_policy));
    let caught_uncertain = execution.outcome.as_ref().ok().and_then(|_| account::caught_uncertain(&writes, writes_shown));
    if let Some(why) = &unfaithful {
        error(why);
    }
    // A log an auditor relies on with lines missing is no run done (review 59 M3).
    let audit_failure = dispatcher.audit_failure();
    if let Some(why) = &audit_failure {
        error(&format!("the audit log could not be written ({why}): calls from then on are not all on record, and no change was sent after it"));
    }
    let to_check = account::any_to_check(&writes);
    let status = match &execution.outcome {
        // As a shell reports a command the signal ended.
        Err(ExecutionError::Interrupted { .. }) => stopped_by.get().map_or(130, |s| s.exit_status()),
        // As `call` does for one such write, caught or not: a cron job or agent must
        // not take it for done, nor send it again unchecked.
        _ if to_check || recorded_to_check => WRITES_TO_CHECK,
        Ok(_) if unsaved.is_some() || unfaithful.is_some() || audit_failure.is_some() => FAILED,
        Ok(_) => 0,
        Err(ExecutionError::Script(ScriptError { action_error: Some(failed), .. })) if is_passing(&failed.code, failed.status) && account::changed_nothing(&writes) => TRY_LATER,
        Err(_) => FAILED,
    };
    if args.json {
        let mut out = json!({ "ok": status == 0, "logs": execution.logs, "calls": execution.calls, "writes": account::writes_json(&writes), "duration_ms": execution.duration.as_millis() as u64 });
        // Why a script that ended well still exits 1, for a program that reads only
        // this (review 54 L1: `ok: true` beside exit status 1).
        if caught_uncertain.is_some() {
            out["writesToCheck"] = json!(true);
        }
        // Why a script that ended well did not exit 0 (review 59 M7: `ok: true` beside 1).
        if let (Ok(_), Some(code)) = (&execution.outcome, ended_well_but(status, unfaithful.is_some(), audit_failure.is_some())) {
            out["code"] = json!(code);
        }
        if audit_failure.is_some() {
            out["auditIncomplete"] = json!(true);
        }
        if let Some(why) = &unfaithful {
            out["replayUnfaithful"] = json!(why);
        }
        if recorded_to_check {
            out["recordedWritesToCheck"] = json!(true);
        }
        // What the defender replaced, so a program can tell a record's text from a
        // marker (review 58: an export altered, told only in `logs`).
        if !withheld.is_empty() {
            out["withheld"] = withheld_json(&withheld);
            for line in execution.logs.iter().filter(|line| line.level == LogLevel::Warn && line.message.starts_with(DEFENDER_NOTICE)) {
                log_line("warn", &line.message);
            }
        }
        match &execution.outcome {
            Ok(value) => out["result"] = value.clone(),
            Err(e) => {
                out["error"] = json!(e.to_string());
                if let Some(hint) = run_account::raise_with(e, pace, waited_ms) {
                    out["hint"] = json!(hint);
                }
                // What failed and where the script raised it, for tools that read the
                // report rather than its text.
                for (key, value) in e.facts() {
                    out[key.as_str()] = value;
                }
            }
        }
        print_json(&out);
    } else {
        for line in &execution.logs {
            log_line(line.level.name(), &line.message);
        }
        match &execution.outcome {
            // As it is: a text that ends its last line gets no second line ending.
            Ok(Value::String(text)) if args.raw => print_raw(text),
            Ok(value) => print(&serde_json::to_string_pretty(value)?),
            Err(e) => {
                error(&e.to_string());
                if let Some(hint) = run_account::raise_with(e, pace, waited_ms) {
                    note(&hint);
                }
                account::account(&writes, writes_shown).iter().for_each(|line| note(line));
            }
        }
        if let Some(refused) = refused_in_the_real_run(&writes) {
            note(&refused);
        }
    }
    if let Some(lines) = caught_uncertain.as_ref().filter(|_| !args.json) {
        lines.iter().for_each(|line| note(line));
    }
    if let Some(e) = &unsaved {
        error(&format!("{e:#}; the script ran, and its result and writes are above"));
    }
    let code = execution.outcome.as_ref().err().map(ExecutionError::code);
    dispatcher.audit_event("run_ended", json!({ "command": "run", "exit_status": status, "code": code, "calls": execution.calls, "writes": writes.len(), "writes_to_check": to_check }));
    Ok(exit(status))
}

/// The code of a run whose script ended well and whose exit status is not 0: a write
/// to check, a replay that did not make the recorded calls, an audit log with lines
/// missing, or a cassette not saved.
fn ended_well_but(status: u8, unfaithful: bool, audit_failed: bool) -> Option<&'static str> {
    match status {
        0 => None,
        WRITES_TO_CHECK => Some("WRITES_TO_CHECK"),
        _ if unfaithful => Some("REPLAY_UNFAITHFUL"),
        _ if audit_failed => Some(AUDIT_LOG_FAILED),
        _ => Some("RECORDING_NOT_SAVED"),
    }
}

/// What a dry run's writes would need that the run was not given, said once at its end:
/// a rehearsal that shows every step must not hide that the real run stops half-way.
fn refused_in_the_real_run(writes: &[pingone_mcp::mcp::CallSummary]) -> Option<String> {
    let refused: Vec<(&str, &str)> = writes.iter().filter_map(|w| Some((w.action.as_str(), w.outcome.strip_prefix(pingone_mcp::mcp::DRY_RUN_NEEDS)?))).collect();
    let (first, flags) = *refused.first()?;
    let mut all: Vec<&str> = refused.iter().flat_map(|(_, flags)| flags.split(" and ")).collect();
    all.sort_unstable();
    all.dedup();
    Some(format!(
        "dry run: {} of its {} writes would be refused without {} (the first: {first}, which needs {flags}); the real run would fail there, after the writes before it (and stop, unless the script catches that error)",
        refused.len(),
        writes.len(),
        all.join(" and ")
    ))
}

/// Prints console lines as they come, each scanned as the whole run's would be; the
/// defender's notices once each. Returns the notices told.
async fn print_console(mut lines: UnboundedReceiver<LogLine>, defender: Arc<Defender>, host: Arc<ObservedHost>) -> HashSet<String> {
    let mut told = HashSet::new();
    while let Some(line) = lines.recv().await {
        // Named as the notice will name it: `$.console`.
        let (scanned, notices) = screen_value(json!({ "console": line.message }), &defender, host.own_texts(), true, Reader::Person).await;
        let text = scanned.get("console").unwrap_or(&scanned);
        log_line(line.level.name(), text.as_str().unwrap_or_default());
        for notice in notices {
            if told.insert(notice.clone()) {
                log_line("warn", &notice);
            }
        }
    }
    told
}

fn read_script(path: &std::path::Path) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("cannot read the script from standard input")?;
        return Ok(text);
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read the script {}", path.display()))
}
