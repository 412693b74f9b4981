//! Runs agent JavaScript in boa compiled to WebAssembly, inside wasmtime. A script
//! reaches the world only through [`ActionHost`]; each run gets a fresh instance
//! (from a pre-initialised snapshot) and its own limits.

mod instance;
mod limits;
mod module;
mod person_waits;
mod readings;
mod script;
mod syntax;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use guest_sdk::abi::{ActionError, HostCall, HostReply, LogLevel, RunInput, RunOutcome, ScriptError, ScriptErrorKind};
use serde::Serialize;
use serde_json::Value;
use wasmtime::{Engine, InstancePre, Trap};

pub use guest_sdk::abi::NO_RETURN;
pub use instance::lines_not_kept;
pub use limits::{Limit, Limits, FUEL_PER_SECOND};
pub use module::{cache_dir, POOL_SLOTS};
pub use person_waits::{PersonWait, PersonWaits, Working};
pub use readings::{Readings, RecordedReadings};
pub use script::prepare_script;

use instance::GuestState;

/// The code of a run (and of a recorded call) stopped by a signal or a cancellation.
pub const INTERRUPTED: &str = "INTERRUPTED";
/// What became of a write that a stop caught while a person was being asked about it.
pub const NOT_SENT_ASKING: &str = "not sent (a person was still being asked)";

/// Answers a script's action calls. The sandbox knows nothing else of PingOne.
pub trait ActionHost: Send + Sync + 'static {
    fn call(self: Arc<Self>, call: HostCall) -> BoxFuture<'static, HostReply>;

    /// Whether a call of `action` may change anything, so that a script stopped while
    /// it is in flight must say its outcome is unknown. Unless a host knows, it may.
    fn may_change_state(&self, _action: &str) -> bool {
        true
    }

    /// The actions of this host's calls in flight that change state and have not been
    /// sent yet: stopped now, they were not applied.
    fn unsent_writes(&self) -> Vec<String> {
        Vec::new()
    }

    /// Those of [`Self::unsent_writes`] held for a person's answer: a script that has
    /// ended does not wait for them.
    fn writes_awaiting_answer(&self) -> Vec<String> {
        Vec::new()
    }

    /// A console line as the script writes it, for a host that shows them live (they
    /// are in the run's [`Execution`] too).
    fn console(&self, _line: &LogLine) {}

    /// The time this host's calls spend waiting for a person's answer, which the
    /// script's wall-time limit does not count (none unless a host asks people).
    fn person_waits(&self) -> Option<Arc<PersonWaits>> {
        None
    }

    /// The wall clock the script reads, when this host records its readings or gives
    /// back a recording's (otherwise the system's own).
    fn readings(&self) -> Option<Arc<Readings>> {
        None
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogLine {
    pub level: LogLevel,
    pub message: String,
}

/// What one run produced.
#[derive(Debug, Clone)]
pub struct Execution {
    pub outcome: Result<Value, ExecutionError>,
    pub logs: Vec<LogLine>,
    /// Action calls the script started.
    pub calls: u32,
    pub duration: Duration,
    /// The guest's largest linear memory, in bytes (the snapshot's pages included).
    pub peak_memory: usize,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ExecutionError {
    /// The script failed: a syntax error, an uncaught exception, a failed action.
    #[error("{}", script_error_text(.0))]
    Script(ScriptError),
    /// A limit ended it. `unfinished` lists the calls still in flight then that may
    /// have changed something, whose outcome is unknown (reads in flight are not listed).
    #[error("{}: {message}{}", limit_head(*.limit), unfinished_text(.unfinished))]
    Limit { limit: Limit, message: String, unfinished: Vec<String> },
    /// It was stopped from outside: the person running it (Ctrl-C), its client, or the
    /// server shutting down, which `because` says when the caller gave a reason.
    /// `unfinished` as for a limit.
    #[error("the script was interrupted{}{}", because_text(*.because), unfinished_text(.unfinished))]
    Interrupted { unfinished: Vec<String>, because: Option<&'static str> },
    /// The sandbox itself failed (never the script's fault).
    #[error("the sandbox failed: {0}")]
    Internal(String),
}

impl ExecutionError {
    /// A stable code for programs that read the failure (`run --json`, an MCP reply's
    /// structured content), so they need not read its prose: a failed action's own
    /// (PingOne's, or the server's such as POLICY_DENIED and NOT_CONFIRMED), else the
    /// kind of failure.
    pub fn code(&self) -> &str {
        match self {
            ExecutionError::Script(ScriptError { action_error: Some(failed), .. }) => &failed.code,
            ExecutionError::Script(error) => match error.kind {
                ScriptErrorKind::Syntax => "SYNTAX_ERROR",
                ScriptErrorKind::Runtime => "SCRIPT_ERROR",
                ScriptErrorKind::Result => "RESULT_NOT_JSON",
                ScriptErrorKind::Deadlock => "NEVER_SETTLES",
                ScriptErrorKind::Unawaited => "UNAWAITED_REJECTION",
            },
            ExecutionError::Limit { limit, .. } => limit.code(),
            ExecutionError::Interrupted { .. } => INTERRUPTED,
            ExecutionError::Internal(_) => "SANDBOX_FAILED",
        }
    }

    /// The failure for a program: its [`code`](Self::code), where in the script it
    /// arose, and the failed action's name, HTTP status, details and transaction id.
    pub fn facts(&self) -> serde_json::Map<String, Value> {
        let mut facts = serde_json::Map::new();
        facts.insert("code".into(), self.code().into());
        if let ExecutionError::Script(error) = self {
            let at = error.at.or_else(|| (error.kind == ScriptErrorKind::Syntax).then(|| syntax_error_position(&error.message)).flatten());
            if let Some(at) = at {
                facts.insert("at".into(), serde_json::json!({ "line": at.line, "column": at.column }));
            }
            if let Some(failed) = &error.action_error {
                facts.extend(action_facts(failed));
            }
            // Its code is the failed call's; that nothing awaited it is said apart.
            if error.kind == ScriptErrorKind::Unawaited && error.action_error.is_some() {
                facts.insert("unawaited".into(), true.into());
            }
        }
        facts
    }
}

/// The engine's recursion limit, reached by a script that recursed too deep and did not
/// catch the RangeError: a limit, as the stack's overflow is, with the same advice.
fn runaway_recursion(e: &ScriptError) -> bool {
    e.kind == ScriptErrorKind::Runtime && e.action_error.is_none() && e.message.ends_with(guest_sdk::abi::RECURSED_TOO_DEEPLY)
}

/// Where a syntax error is, from the parser's message (`… at line 2, col 9`), which
/// counts the agent's own lines.
fn syntax_error_position(message: &str) -> Option<guest_sdk::abi::ScriptPosition> {
    let (_, place) = message.rsplit_once(" at line ")?;
    let (line, column) = place.split_once(", col ")?;
    let digits = |text: &str| text.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok();
    Some(guest_sdk::abi::ScriptPosition { line: digits(line)?, column: digits(column)? })
}

/// A failed action for a program: its code, name, HTTP status, details and transaction id.
pub fn action_facts(failed: &ActionError) -> serde_json::Map<String, Value> {
    let mut facts = serde_json::Map::new();
    facts.insert("code".into(), failed.code.clone().into());
    facts.insert("action".into(), failed.action.clone().into());
    if let Some(status) = failed.status {
        facts.insert("status".into(), status.into());
    }
    if !failed.details.is_empty() {
        facts.insert("details".into(), failed.details.clone().into());
    }
    if let Some(id) = &failed.transaction_id {
        facts.insert("transactionId".into(), id.clone().into());
    }
    facts
}

fn script_error_text(e: &ScriptError) -> String {
    let place = e.at.map(|at| format!("at line {}, column {} of the script", at.line, at.column));
    let unawaited = e.kind == ScriptErrorKind::Unawaited;
    let text = match &e.action_error {
        Some(a) => {
            let status = a.status.map(|s| format!(" {s}")).unwrap_or_default();
            let place = place.map(|place| format!(" {place}")).unwrap_or_default();
            let what = if unawaited { "a PingOneError nothing awaited" } else { "uncaught PingOneError" };
            format!("{} failed:{status} {}: {}{} ({what}{place})", a.action, a.code, a.message, details_text(&a.message, &a.details))
        }
        None => {
            let place = place.map(|place| format!(" ({place})")).unwrap_or_default();
            let hint = if e.message.contains(UNDEFINED_READ) { UNDEFINED_HINT } else { "" };
            format!("{}: {}{place}{hint}", e.name, e.message)
        }
    };
    if unawaited {
        format!("{text}. The script ended without awaiting the promise that failed, so its result was not sent back: await each call and each async function you call (for several, await Promise.all(list)) so a failure stops the script where it happens, and check what it changed before running it again")
    } else {
        text
    }
}

/// What PingOne's error details say, after its general message ("One or more
/// validation errors…"): `: otp: the one-time passcode is not valid`; but not what
/// `message` says already ([`said_in`]).
fn details_text(message: &str, details: &[serde_json::Value]) -> String {
    let said: Vec<String> = details
        .iter()
        .filter(|d| !said_in(message, d))
        .filter_map(|d| {
            let detail = d.get("message")?.as_str()?;
            Some(match d.get("target").and_then(serde_json::Value::as_str) {
                Some(target) => format!("{target}: {detail}"),
                None => detail.to_owned(),
            })
        })
        .collect();
    if said.is_empty() {
        String::new()
    } else {
        format!(" ({})", said.join("; "))
    }
}

/// Whether an error's `detail` only repeats its `message`: an argument error's message
/// lists its problems, which its details list again.
pub fn said_in(message: &str, detail: &serde_json::Value) -> bool {
    detail.get("message").and_then(serde_json::Value::as_str).is_some_and(|said| message.contains(said))
}

/// What the engine says when a property is read from undefined or null, naming neither
/// the property nor the value, and what to look at.
const UNDEFINED_READ: &str = "cannot convert 'null' or 'undefined' to object";
const UNDEFINED_HINT: &str = "; a value a property was read from was undefined or null: check each part before a `.` or `[` exists (a list action's page keeps its records in `.items`, but with `all: true` the result is the array itself, which has no `.items`)";

/// A result too big is found when the script has ended: every call it made was made.
fn limit_head(limit: Limit) -> &'static str {
    match limit {
        Limit::ResultSize => "the script ran to its end (every call it made was made), but its result cannot be returned",
        _ => "the script was stopped",
    }
}

fn because_text(because: Option<&str>) -> String {
    because.map(|why| format!(" because {why}")).unwrap_or_default()
}

fn unfinished_text(unfinished: &[String]) -> String {
    if unfinished.is_empty() {
        String::new()
    } else {
        format!(". These action calls were in flight and may or may not have been applied: {}; check their state before running again", unfinished.join(", "))
    }
}

/// A compiled guest, ready to instantiate. Cheap to share; one per process is enough.
#[derive(Clone)]
pub struct Sandbox {
    engine: &'static Engine,
    pre: InstancePre<GuestState>,
}

impl Sandbox {
    /// Loads the guest (from the on-disk cache when possible).
    pub async fn new() -> anyhow::Result<Self> {
        let engine = module::engine()?;
        let module = module::load(engine).await?;
        let pre = instance::linker(engine)?.instantiate_pre(&module).map_err(|e| anyhow::anyhow!("cannot link the guest: {e}"))?;
        Ok(Self { engine, pre })
    }

    /// Runs `script` (see [`prepare_script`] for what is accepted) with `args`.
    pub async fn execute(&self, script: &str, args: Value, host: Arc<dyn ActionHost>, limits: &Limits) -> Execution {
        self.execute_until(script, args, host, limits, std::future::pending()).await
    }

    /// [`Sandbox::execute`], stopped early when `stop` completes (a person's Ctrl-C),
    /// with the reason it gives, if any (see [`ExecutionError::Interrupted`]): the logs
    /// so far are kept, and calls in flight are named as for a limit.
    pub async fn execute_until(&self, script: &str, args: Value, host: Arc<dyn ActionHost>, limits: &Limits, stop: impl std::future::Future<Output = Option<&'static str>>) -> Execution {
        let started = Instant::now();
        // The script's clock starts now: time waiting for a slot counts, a person's does not.
        let clock_start = tokio::time::Instant::now();
        let deadline = clock_start + limits.wall_time;
        // Declared before the store, so the slot is released after the store drops.
        let Ok(Ok(_slot)) = tokio::time::timeout_at(deadline, module::SLOTS.acquire()).await else {
            let message = format!(
                "the script never started: all {} script slots stayed busy for {} s, held by other scripts (running, or waiting for a person's answer); nothing of it ran: try it again shortly",
                module::POOL_SLOTS,
                limits.wall_time.as_secs()
            );
            return Execution { outcome: Err(ExecutionError::Limit { limit: Limit::WallTime, message, unfinished: vec![] }), logs: vec![], calls: 0, duration: started.elapsed(), peak_memory: 0 };
        };
        let input = RunInput { script: prepare_script(script), args };
        let waits = host.person_waits().unwrap_or_default();
        let mut store = match instance::store(self.engine, GuestState::new(limits, host)) {
            Ok(store) => store,
            Err(e) => return Execution { outcome: Err(ExecutionError::Internal(format!("{e:#}"))), logs: vec![], calls: 0, duration: started.elapsed(), peak_memory: 0 },
        };
        let run = tokio::select! {
            run = waits.within(clock_start, limits.wall_time, instance::run(&self.pre, &mut store, &input)) => Ok(run),
            because = stop => Err(because),
        };
        let outcome = {
            let state = store.data();
            let limit_error = |limit: Limit| {
                let mut message = limit.explain(limits);
                // Calls started but not yet sent when the script stopped (waiting for their
                // turn, at most `concurrency` at once) never are: fewer were made than the limit.
                let never_sent = state.calls_never_sent();
                if limit == Limit::HostCalls && never_sent > 0 {
                    message.push_str(&format!(" ({never_sent} of the calls started had not been sent yet, and were not sent)"));
                }
                ExecutionError::Limit { limit, message, unfinished: state.unfinished_actions() }
            };
            let outcome = match run {
                Err(because) => Err(ExecutionError::Interrupted { unfinished: state.unfinished_actions(), because }),
                Ok(None) => Err(limit_error(Limit::WallTime)),
                Ok(Some(Ok(RunOutcome::Ok(value)))) => check_result_size(value, limits).map_err(limit_error),
                Ok(Some(Ok(RunOutcome::Error(e)))) if runaway_recursion(&e) => Err(limit_error(Limit::Stack)),
                Ok(Some(Ok(RunOutcome::Error(e)))) => Err(ExecutionError::Script(syntax::placed_in_script(e, &input.script))),
                Ok(Some(Err(e))) => Err(match (state.exceeded, e.downcast_ref::<Trap>()) {
                    (Some(limit), _) => limit_error(limit),
                    (None, Some(Trap::StackOverflow)) => limit_error(Limit::Stack),
                    (None, Some(Trap::OutOfFuel)) => limit_error(Limit::Compute),
                    (None, _) if state.memory_denied() => limit_error(Limit::Memory),
                    (None, _) if state.panic.is_some() => ExecutionError::Internal(format!("the JavaScript engine crashed: {}", state.panic.as_deref().unwrap_or_default())),
                    (None, _) => ExecutionError::Internal(format!("{e:#}")),
                }),
            };
            tracing::debug!(calls = state.calls_started(), fuel = instance::fuel_used(&store), "script finished");
            outcome
        };
        let mut outcome = outcome;
        if matches!(outcome, Ok(_) | Err(ExecutionError::Script(_))) {
            let settled = store.data_mut().settle(clock_start + limits.wall_time + waits.total()).await;
            if !settled.is_empty() {
                let calls = counted(&settled);
                if outcome.is_ok() {
                    // Its result was made without them, and may claim what did not happen.
                    outcome = Err(ExecutionError::Script(unawaited_calls_error(&calls)));
                } else {
                    let message = format!("the script ended without waiting for these calls; those already sent were let finish, the rest were not sent (await every call to see its result): {calls}");
                    store.data_mut().push_log(LogLine { level: LogLevel::Warn, message });
                }
            }
        }
        let state = store.data();
        Execution { outcome, logs: state.console(), calls: state.calls_started(), duration: started.elapsed(), peak_memory: state.peak_memory() }
    }
}

/// Lines joined, each said once with how often it came (`x: ok (3 times)`), in order.
fn counted(lines: &[String]) -> String {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for line in lines {
        match seen.iter_mut().find(|(said, _)| *said == line.as_str()) {
            Some((_, count)) => *count += 1,
            None => seen.push((line, 1)),
        }
    }
    let said: Vec<String> = seen.into_iter().map(|(line, count)| if count > 1 { format!("{line} ({count} times)") } else { line.to_owned() }).collect();
    said.join("; ")
}

/// A script that returned before awaiting every call it started: an error, since its
/// result did not wait for them (a `forEach(async …)` loop returns before its writes).
fn unawaited_calls_error(calls: &str) -> ScriptError {
    let message = format!(
        "the script returned before awaiting every call it started, so its result was not sent back; those already sent were let finish, the rest were not sent: {calls}. Await each call (for…of with await, or await Promise.all(items.map(…)); forEach does not wait) and run it again"
    );
    ScriptError { kind: ScriptErrorKind::Runtime, name: "Error".into(), message, action_error: None, at: None }
}

fn check_result_size(value: Value, limits: &Limits) -> Result<Value, Limit> {
    let size = serde_json::to_string(&value).map(|s| s.len()).unwrap_or(usize::MAX);
    if size > limits.result_bytes {
        Err(Limit::ResultSize)
    } else {
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A failed call nothing awaited keeps the call's code and says it was unawaited
    /// (review 50); a syntax error's place is read from the parser's message.
    #[test]
    fn a_failures_facts_name_its_code_place_and_whether_it_was_awaited() {
        let failed = ActionError { action: "get_user".into(), status: Some(404), code: "NOT_FOUND".into(), ..Default::default() };
        let unawaited = ExecutionError::Script(ScriptError { kind: ScriptErrorKind::Unawaited, name: "PingOneError".into(), message: String::new(), action_error: Some(failed), at: None });
        let facts = unawaited.facts();
        assert_eq!((&facts["code"], &facts["status"], &facts["unawaited"]), (&serde_json::json!("NOT_FOUND"), &serde_json::json!(404), &serde_json::json!(true)));
        let syntax = ExecutionError::Script(ScriptError { kind: ScriptErrorKind::Syntax, name: "SyntaxError".into(), message: "unexpected token ';' at line 2, col 9".into(), action_error: None, at: None });
        assert_eq!(syntax.facts()["at"], serde_json::json!({ "line": 2, "column": 9 }));
    }
}
