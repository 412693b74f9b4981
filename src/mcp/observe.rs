//! Watching one `execute`: every action call is summarised for the reply (action,
//! outcome, milliseconds) and, when the client asked, reported as progress; the
//! texts the host wrote in its errors are kept for the defender.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::future::BoxFuture;
use guest_sdk::abi::{ActionError, HostCall, HostReply, DESCRIBE_ACTION, SEARCH_ACTION};
use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};
use serde::Serialize;
use serde_json::Value;

use super::account::NO_ANSWER_YET;
use super::reply::add_own_texts;
use crate::defender::OwnTexts;
use crate::dispatch::{Dispatcher, Requester};
use crate::pingone::Waits;
use crate::policy::{Blanket, Caller, Confirm, ConfirmRequest, Refusal, Yes};
use crate::sandbox::{ActionHost, LogLine, PersonWaits, Readings, NOT_SENT_ASKING};

/// The most JSON a script's `all: true` gathers: boa holds parsed JSON at many times
/// its text size, and a script's 64 MiB ran out between about 2.7 and 6 MB of users
/// (review 17). Past it the call fails at once, pointing at `pingone.iterate`, rather
/// than after every page was fetched into the server's memory.
pub const SCRIPT_LIST_BYTES: usize = 4 << 20;

/// The outcome of a dry run's write the real run would not send either: the record
/// holds what it asks for already.
pub const DRY_RUN_HELD: &str = "dry run: it holds already, so the real run would not send it";

/// The outcome of a write not sent because the record holds what it asks for already.
pub const UNCHANGED: &str = "unchanged (already so; nothing sent)";
/// The outcome of a write a replay's cassette answered (followed by the recorded
/// error's code when it failed then): nothing was sent.
pub const REPLAYED: &str = "replayed";

/// How a dry-run write's outcome begins when the real run would be refused, before the
/// flags it needs (`run` gathers them into one note).
pub const DRY_RUN_NEEDS: &str = "dry run, not sent; the real run needs ";
/// How every dry-run write's outcome begins.
pub const DRY_RUN: &str = "dry run, not sent";
/// The outcome of a write given up before it was sent.
pub const NOT_SENT: &str = "not sent";
/// The outcome of a write given up while it waited to try again after PingOne refused
/// it unprocessed (429) or it never reached PingOne: nothing was applied.
pub const NOT_SENT_THROTTLED: &str = "not applied (PingOne throttled it, 429, and it was stopped before trying again)";

#[derive(Debug, Clone, Default, Serialize)]
pub struct CallSummary {
    pub action: String,
    /// "ok", or the error code (PingOne's or ours).
    pub outcome: String,
    /// PingOne's HTTP status: a failure's, or the answer to a write it applied (200,
    /// a create's 201, a delete's 204).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub ms: u64,
    /// Whether the action may change something (a write), and the record a write acts
    /// on (its path's ids): for the command line's account of what a run changed.
    #[serde(skip)]
    pub writes: bool,
    #[serde(skip)]
    pub target: Option<String>,
    /// The id of the record a create made.
    #[serde(skip)]
    pub created: Option<String>,
    /// The id the audit log and PingOne know the call by: to look a write up by, when
    /// whether it was applied is unknown.
    #[serde(skip)]
    pub transaction: Option<String>,
    /// What a full replace cleared because the call left it out: told to the agent,
    /// who may not have meant it (review 53).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cleared: Option<String>,
    /// Tries beyond the first, and the time spent waiting for them (throttling).
    #[serde(skip)]
    pub retries: u32,
    #[serde(skip)]
    pub waited_ms: u64,
}

pub struct ObservedHost {
    dispatcher: Arc<Dispatcher>,
    caller: Option<Caller>,
    calls: Mutex<Vec<CallSummary>>,
    /// Calls started and not yet answered, by the order they started in, with how far
    /// each got (whether it was sent).
    in_flight: Mutex<BTreeMap<u64, (CallSummary, Arc<Waits>)>>,
    started: AtomicU64,
    own_texts: Mutex<OwnTexts>,
    progress: Option<(Peer<RoleServer>, ProgressToken)>,
    /// Asks the person at the client before a destructive call.
    confirm: Option<Arc<dyn Confirm>>,
    /// Where console lines go as the script writes them, until the run ends.
    console: Mutex<Option<tokio::sync::mpsc::UnboundedSender<LogLine>>>,
    /// Time spent waiting for the person's answers.
    person_waits: Arc<PersonWaits>,
}

impl ObservedHost {
    pub fn new(dispatcher: Arc<Dispatcher>, caller: Option<Caller>, progress: Option<(Peer<RoleServer>, ProgressToken)>) -> Self {
        Self { dispatcher, caller, calls: Mutex::new(Vec::new()), in_flight: Mutex::default(), started: AtomicU64::new(0), own_texts: Mutex::default(), progress, confirm: None, console: Mutex::default(), person_waits: Arc::default() }
    }

    /// The script this host serves: its literal parts are the agent's own words, which
    /// the defender does not judge in what the script returns or logs.
    pub fn for_script(self, code: &str) -> Self {
        self.own_texts.lock().unwrap_or_else(|e| e.into_inner()).add_script(code);
        self
    }

    /// The script's input (`run --args`): data, perhaps exported from elsewhere, whose
    /// text is judged whole wherever it stands, as a record's is.
    pub fn with_input(self, input: &Value) -> Self {
        add_outside_texts(&mut self.own_texts.lock().unwrap_or_else(|e| e.into_inner()), input);
        self
    }

    /// Sends each console line to `lines` as the script writes it, until [`Self::end_console`].
    pub fn with_console(self, lines: tokio::sync::mpsc::UnboundedSender<LogLine>) -> Self {
        *self.console.lock().unwrap_or_else(|e| e.into_inner()) = Some(lines);
        self
    }

    /// No more console lines: whoever reads them sees the end.
    pub fn end_console(&self) {
        self.console.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// Asks `confirm` before the calls that need a person; the time spent waiting for
    /// their answer does not count against the script's wall time.
    pub fn confirming(mut self, confirm: Option<Arc<dyn Confirm>>) -> Self {
        self.confirm = confirm.map(|confirm| Arc::new(Timed { confirm, waits: self.person_waits.clone() }) as Arc<dyn Confirm>);
        self
    }

    pub fn calls(&self) -> Vec<CallSummary> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The calls started and not answered (yet): when a run is stopped, the writes
    /// among them that were sent may or may not have been applied; those not sent yet
    /// (a person was being asked) were not.
    pub fn in_flight(&self) -> Vec<CallSummary> {
        let in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        in_flight
            .values()
            .map(|(call, waits)| match (waits.sent(), waits.asking()) {
                (true, _) => {
                    let (retries, waited_ms) = waits.get();
                    // Stopped between tries all refused unprocessed (429): not applied.
                    match waits.waiting_unapplied() {
                        true => CallSummary { outcome: NOT_SENT_THROTTLED.into(), retries, waited_ms, ..call.clone() },
                        false => CallSummary { transaction: waits.transaction().map(str::to_owned), retries, waited_ms, ..call.clone() },
                    }
                }
                (false, true) => CallSummary { outcome: NOT_SENT_ASKING.into(), ..call.clone() },
                (false, false) => CallSummary { outcome: NOT_SENT.into(), ..call.clone() },
            })
            .collect()
    }

    /// The actions of the writes in flight whose progress meets `test`.
    fn writes_where(&self, test: impl Fn(&Waits) -> bool) -> Vec<String> {
        let in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        in_flight.values().filter(|(call, waits)| call.writes && test(waits)).map(|(call, _)| call.action.clone()).collect()
    }

    /// The texts the host wrote in this run's action errors.
    pub fn own_texts(&self) -> OwnTexts {
        self.own_texts.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl ObservedHost {
    /// One action call: dispatched for this caller, summarised, reported as progress.
    pub async fn dispatch(&self, call: HostCall) -> HostReply {
        let started = Instant::now();
        // The helpers' calls are named as scripts write them: pingone.search(…). A name
        // that is no action is the script's own text (it may be a record's): not echoed.
        let action = match call.action.as_str() {
            SEARCH_ACTION => "search".to_owned(),
            DESCRIBE_ACTION => "describe".to_owned(),
            known if self.dispatcher.knows(known) => known.to_owned(),
            _ => "(an unknown action)".to_owned(),
        };
        let writes = self.dispatcher.writes(&call.action);
        // Only a write's record is named (in `run`'s account of what it changed).
        let target = if writes { self.dispatcher.target(&call.action, &call.args) } else { None };
        let ticket = self.started.fetch_add(1, Ordering::Relaxed);
        let pending = CallSummary { action: action.clone(), outcome: NO_ANSWER_YET.into(), writes, target: target.clone(), ..CallSummary::default() };
        let waits = Arc::new(Waits::default());
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).insert(ticket, (pending, waits.clone()));
        // Counted as the script's work, beside any question another call has out.
        let _working = self.person_waits.working();
        let requester = Requester { caller: self.caller.as_ref(), confirm: self.confirm.as_deref(), all_bytes: Some(SCRIPT_LIST_BYTES), waits: Some(&waits) };
        let reply = self.dispatcher.dispatch_for(call, &requester).await;
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).remove(&ticket);
        // Answered from a cassette: nothing was sent, whatever the recording says.
        let replayed = self.dispatcher.is_replay() && waits.sent();
        let (outcome, status) = match &reply {
            // A write under --dry-run answers with the request it would have sent.
            HostReply::Value(value) if value.get("dryRun") == Some(&Value::Bool(true)) => match value.get("refusedWithout").and_then(Value::as_str) {
                Some(flags) => (format!("{DRY_RUN_NEEDS}{flags}"), None),
                None if value.get("unchanged") == Some(&Value::Bool(true)) => (DRY_RUN_HELD.to_owned(), None),
                None => (DRY_RUN.to_owned(), None),
            },
            HostReply::Value(value) => {
                let mut own = self.own_texts.lock().unwrap_or_else(|e| e.into_inner());
                // pingone.search and pingone.describe answer with the catalog's words: ours.
                if matches!(action.as_str(), "search" | "describe") {
                    add_catalog_texts(&mut own, value);
                } else {
                    add_outside_texts(&mut own, value);
                }
                // A write answered without a request: what it asks for holds already (a
                // membership the user has), and the answer is the record as it stands.
                let unsent = writes && !waits.sent() && self.dispatcher.is_live();
                let (outcome, status) = if unsent {
                    (UNCHANGED, None)
                } else if replayed {
                    (REPLAYED, None)
                } else {
                    ("ok", waits.status().filter(|_| writes))
                };
                (outcome.to_owned(), status)
            }
            HostReply::Error(e) => {
                let mut own = self.own_texts.lock().unwrap_or_else(|e| e.into_inner());
                add_own_texts(&mut own, e);
                add_outside_error_texts(&mut own, e);
                match replayed {
                    true => (format!("{REPLAYED} {}", e.code), None),
                    false => (e.code.clone(), e.status),
                }
            }
        };
        let (retries, waited_ms) = waits.get();
        // `action` is the call's own name for every action that writes.
        let created = match &reply {
            HostReply::Value(value) if writes => self.dispatcher.created_id(&action, value),
            _ => None,
        };
        let target = match &created {
            Some(id) => Some(target.map_or_else(|| format!("created id {id}"), |named| format!("{named}, created id {id}"))),
            None => target,
        };
        // A write refused before it was sent has no transaction to look up.
        // Nor a replayed one: the id would be new, and PingOne's logs would not know it.
        let transaction = waits.transaction().filter(|_| writes && waits.sent() && !replayed).map(str::to_owned);
        let cleared = waits.cleared().map(str::to_owned);
        let summary = CallSummary { action, outcome, status, ms: started.elapsed().as_millis() as u64, writes, target, created, transaction, cleared, retries, waited_ms };
        let done = {
            let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
            calls.push(summary.clone());
            calls.len()
        };
        if let Some((peer, token)) = &self.progress {
            let message = format!("{} {} ({} ms)", summary.action, summary.outcome, summary.ms);
            let _ = peer.notify_progress(ProgressNotificationParam::new(token.clone(), done as f64).with_message(message)).await;
        }
        reply
    }
}

impl ActionHost for ObservedHost {
    fn call(self: Arc<Self>, call: HostCall) -> BoxFuture<'static, HostReply> {
        Box::pin(async move { self.dispatch(call).await })
    }

    fn may_change_state(&self, action: &str) -> bool {
        self.dispatcher.may_change_state(action)
    }

    fn console(&self, line: &LogLine) {
        if let Some(lines) = self.console.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            let _ = lines.send(line.clone());
        }
    }

    fn person_waits(&self) -> Option<Arc<PersonWaits>> {
        Some(self.person_waits.clone())
    }

    fn readings(&self) -> Option<Arc<Readings>> {
        self.dispatcher.readings()
    }

    fn unsent_writes(&self) -> Vec<String> {
        self.writes_where(|waits| !waits.sent())
    }

    fn writes_awaiting_answer(&self) -> Vec<String> {
        self.writes_where(|waits| !waits.sent() && waits.asking())
    }
}

/// A confirmer whose questions stop the script's clock while they are out.
struct Timed {
    confirm: Arc<dyn Confirm>,
    waits: Arc<PersonWaits>,
}

impl Timed {
    /// `asking`, with the script's clock stopped until it has the person's answer.
    fn clock_stopped<T: Send + 'static>(&self, asking: BoxFuture<'static, T>) -> BoxFuture<'static, T> {
        let waiting = self.waits.begin();
        Box::pin(async move {
            let answer = asking.await;
            drop(waiting);
            answer
        })
    }
}

impl Confirm for Timed {
    fn confirm(&self, request: ConfirmRequest) -> BoxFuture<'static, Result<Yes, Refusal>> {
        self.clock_stopped(self.confirm.confirm(request))
    }

    fn will_ask(&self, call: &Blanket) -> BoxFuture<'static, bool> {
        self.clock_stopped(self.confirm.will_ask(call))
    }

    fn can_ask(&self) -> bool {
        self.confirm.can_ask()
    }
}

/// Every string of a catalog answer (descriptions, signatures, examples) as an own
/// text, which the defender does not judge.
fn add_catalog_texts(own: &mut OwnTexts, value: &Value) {
    match value {
        Value::String(text) => own.add(text, &[]),
        Value::Array(items) => items.iter().for_each(|item| add_catalog_texts(own, item)),
        Value::Object(map) => map.values().for_each(|item| add_catalog_texts(own, item)),
        _ => {}
    }
}

/// Every string of an action's answer, keys included, as outside text (see
/// [`OwnTexts::add_outside`]).
fn add_outside_texts(own: &mut OwnTexts, value: &Value) {
    add_outside_texts_but(own, value, &|_| false);
}

/// What a failed action's error says that is not the host's own words: PingOne's
/// message and details, and the values the host's texts quote.
fn add_outside_error_texts(own: &mut OwnTexts, error: &ActionError) {
    let ours = |text: &str| error.own_texts.iter().any(|own| own.text == text);
    for quoted in error.own_texts.iter().flat_map(|own| &own.quoted) {
        own.add_outside(quoted);
    }
    add_outside_texts_but(own, &Value::String(error.message.clone()), &ours);
    for detail in &error.details {
        add_outside_texts_but(own, detail, &ours);
    }
}

fn add_outside_texts_but(own: &mut OwnTexts, value: &Value, ours: &dyn Fn(&str) -> bool) {
    if !own.strips_script_text() {
        return;
    }
    match value {
        Value::String(text) if !ours(text) => own.add_outside(text),
        Value::Array(items) => items.iter().for_each(|item| add_outside_texts_but(own, item, ours)),
        Value::Object(map) => map.iter().for_each(|(key, item)| {
            own.add_outside(key);
            add_outside_texts_but(own, item, ours);
        }),
        _ => {}
    }
}
