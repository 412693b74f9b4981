//! The MCP handler: tool listing, and the three kinds of call (search, execute, and
//! a single action in tools mode).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use guest_sdk::abi::HostCall;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, DiscoverResult, Implementation, InitializeRequestParams, InitializeResult, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{json, Map, Value};
use tokio::sync::watch;

use super::account;
use super::confirm::{can_ask, confirmer_for, Asker, Asking, CannotAsk, Job, SuspendedCalls, Via};
use super::stdio::WatchedStdin;
use super::observe::{CallSummary, ObservedHost};
use super::quota::ScriptQuota;
use super::reply::{action_reply, code, scanned_execute_reply, with_calls_run_unasked, Failure};
use super::tools::{action_tool, execute_tool, search_tool, EXECUTE, SEARCH_TOOLS};
use crate::catalog::{Action, Catalog};
use crate::dispatch::Dispatcher;
use crate::policy::{flag_of, Caller, Confirm, Grant, Policy};
use crate::defender::{Defender, Mode as DefenderMode, DEFAULT_THRESHOLD};
use crate::sandbox::{ExecutionError, Limits, Sandbox};
use crate::trim::take_cut_marks;
use crate::search::{found, hit_json, no_match_note, nothing_fits_note, read_as_note, SearchIndex, SignatureStyle};

/// Taught to every client at initialisation.
/// What the model is told at the start: how to find and call actions, and the limits
/// of one script, so a bulk job is planned in batches rather than learnt by failing.
pub fn instructions(limits: &Limits) -> String {
    format!(
        "\
You manage a PingOne identity environment by writing JavaScript.
1. search_tools({{query}}) finds actions: id and signature (pingone.describe(id) gives one in full).
2. execute({{code}}) runs a script in which each action is an async function on `pingone`.
A list action returns Page<T> = {{ items: T[], count, cursor }} (count is every match, so {{ limit: 1 }} counts, where the signature takes limit), \
or with {{ all: true }} every item as T[], for lists of up to a few thousand; \
for more, `for await (const u of pingone.iterate('list_users', {{ filter }}))` pages through without holding them all (to change records the filter selects, such as disabling them, collect their ids first: changed while paging, records move between pages and some are skipped).
A failed call throws PingOneError {{ status, code, message, details, transactionId }}.
Filter, join and count inside the script; return only what is needed, values as separate fields \
(each text returned is scanned for prompt injection, and one joining several values is judged whole).
A script may run {secs} s, make {calls} action calls and use {mib} MiB; \
for a bulk change, do a batch per script and return what was done and what is left \
(`await pingone.budget()` gives {{ msLeft, callsLeft, computeLeftPercent }}: a busy loop runs out of compute before time).
Example:
  const users = await pingone.list_users({{ filter: 'enabled eq false', all: true }});
  return users.map(u => u.username);",
        secs = limits.wall_time.as_secs(),
        calls = limits.host_calls,
        mib = limits.memory_bytes >> 20,
    )
}

/// Hits `search_tools` returns unless asked for more: the right action is among the
/// first five for nearly every need (`tests/search_quality.rs`).
pub const SEARCH_LIMIT: usize = 5;
/// The most actions `search_tools` returns.
pub const MAX_SEARCH_LIMIT: usize = 30;

/// Which tools the server offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Mode {
    /// search_tools and execute.
    #[default]
    Code,
    /// Every action as its own tool.
    Tools,
    /// Both sets.
    Both,
}

#[derive(Clone)]
pub struct PingOneMcp {
    inner: Arc<Inner>,
}

/// How the server runs scripts and shapes replies.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub mode: Mode,
    pub limits: Limits,
    /// Tokens an `execute` reply may take (o200k_base).
    pub result_budget: usize,
    /// Scans every string going back to the model.
    pub defender: Arc<Defender>,
    /// Ask the person at the client (when it supports elicitation) before each
    /// destructive action runs.
    pub confirm_destructive: bool,
    /// Scripts one HTTP caller (a token's subject) may run at once.
    pub scripts_per_caller: u64,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            mode: Mode::Code,
            limits: Limits::default(),
            result_budget: crate::trim::DEFAULT_BUDGET,
            defender: Arc::new(Defender::load(DefenderMode::Full, DEFAULT_THRESHOLD)),
            confirm_destructive: true,
            scripts_per_caller: super::quota::DEFAULT_PER_CALLER,
        }
    }
}

struct Inner {
    catalog: Arc<Catalog>,
    search: Arc<SearchIndex>,
    sandbox: Sandbox,
    dispatcher: Arc<Dispatcher>,
    /// Over HTTP, further environments a caller's token may bind it to, by profile.
    profiles: BTreeMap<String, Arc<Dispatcher>>,
    limits: Limits,
    mode: Mode,
    result_budget: usize,
    defender: Arc<Defender>,
    confirm_destructive: bool,
    scripts: Arc<ScriptQuota>,
    /// Calls waiting for a person's confirmation (protocol 2026-07-28).
    suspended: Arc<SuspendedCalls>,
    /// Set when the stdio client leaves or the server shuts down: running scripts stop.
    stop_all: watch::Sender<bool>,
    /// Calls running now, for a `notifications/cancelled` that arrives apart from its
    /// request (over HTTP each message is a request of its own).
    running: Mutex<RunningCalls>,
}

/// The running calls' stop switches, by caller (none over stdio) and request id. Two
/// clients of one caller may run calls with the same id at once (stateless HTTP has no
/// session to tell them apart; two Python `mcp` sessions both send `execute` as id 2),
/// so an id holds a switch for each, numbered so that each call removes its own.
#[derive(Default)]
struct RunningCalls {
    by_id: HashMap<CallId, Vec<(u64, watch::Sender<bool>)>>,
    next: u64,
}

/// A call's caller (none over stdio) and request id.
type CallId = (Option<String>, String);

impl PingOneMcp {
    pub fn new(catalog: Arc<Catalog>, search: Arc<SearchIndex>, sandbox: Sandbox, dispatcher: Arc<Dispatcher>, options: ServerOptions) -> Self {
        let ServerOptions { mode, limits, result_budget, defender, confirm_destructive, scripts_per_caller } = options;
        let scripts = ScriptQuota::new(scripts_per_caller);
        Self { inner: Arc::new(Inner { catalog, search, sandbox, dispatcher, profiles: BTreeMap::new(), limits, mode, result_budget, defender, confirm_destructive, scripts, suspended: Arc::default(), stop_all: watch::Sender::new(false), running: Mutex::default() }) }
    }

    /// The stdio transport; when its client leaves, the scripts it started stop.
    pub fn stdio(&self) -> (WatchedStdin, tokio::io::Stdout) {
        (WatchedStdin::new(self.inner.stop_all.clone()), tokio::io::stdout())
    }

    /// Stops every running script (the server is shutting down): each tells its
    /// client, if still there, and the server's log what it changed.
    pub fn stop_scripts(&self) {
        self.inner.stop_all.send_replace(true);
    }

    /// Waits until no script runs (each stopped one has told what it changed), or
    /// `grace` has passed.
    pub async fn scripts_stopped(&self, grace: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        while !self.running().by_id.is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Completes when `cancelled` does, or when every script is to stop, saying which.
    fn stopped(&self, cancelled: impl std::future::Future<Output = ()> + Send + 'static) -> BoxFuture<'static, Stop> {
        let mut gone = self.inner.stop_all.subscribe();
        let shutting_down = self.inner.stop_all.subscribe();
        Box::pin(async move {
            // A shutdown also ends the stdio client's requests: when both have happened,
            // it is the shutdown.
            tokio::select! {
                biased;
                _ = gone.wait_for(|gone| *gone) => Stop::ShuttingDown,
                () = cancelled => if *shutting_down.borrow() { Stop::ShuttingDown } else { Stop::Cancelled },
            }
        })
    }

    /// Serves these environments too (HTTP callers are bound to one by their token);
    /// `default_profile` names the one given to `new`.
    pub fn with_profiles(mut self, default_profile: &str, profiles: BTreeMap<String, Arc<Dispatcher>>) -> Self {
        let inner = Arc::get_mut(&mut self.inner).expect("with_profiles is called before the server is shared");
        inner.profiles = profiles;
        inner.profiles.insert(default_profile.to_owned(), inner.dispatcher.clone());
        self
    }

    /// The authenticated HTTP caller (none over stdio) and the dispatcher of the
    /// environment its token binds it to.
    fn route(&self, context: &RequestContext<RoleServer>) -> Result<(Arc<Dispatcher>, Option<Caller>), McpError> {
        let caller = caller_of(&context.extensions);
        let dispatcher = match caller.as_ref().and_then(|c| c.profile.as_deref()) {
            None => self.inner.dispatcher.clone(),
            Some(profile) => self.inner.profiles.get(profile).cloned().ok_or_else(|| McpError::invalid_request(format!("this server does not serve profile `{profile}`"), None))?,
        };
        Ok((dispatcher, caller))
    }

    /// The tools offered to a caller: in tools mode only the actions that the
    /// environment's policy and the caller's grant let run, so an agent is not shown
    /// tools it would only be refused; `execute`'s hints say what its scripts may do.
    /// Tools mode leaves out what this client could only have refused for want of a
    /// person's yes (review 48: a client that cannot ask was listed 45 such tools).
    fn tools_for(&self, dispatcher: &Dispatcher, caller: Option<&Caller>, context: &RequestContext<RoleServer>) -> Vec<Tool> {
        let access = Access { catalog: &self.inner.catalog, policy: dispatcher.policy(), grant: caller.and_then(|c| c.grant.as_ref()) };
        let unconfirmable = self.cannot_confirm(dispatcher, context);
        let mut tools = Vec::new();
        if self.inner.mode != Mode::Tools {
            tools.push(search_tool());
            tools.push(execute_tool(access.writes(), access.destructive()));
        }
        if self.inner.mode != Mode::Code {
            tools.extend(self.inner.catalog.actions().filter(|a| access.permits(a) && !(unconfirmable && a.always_confirmed())).map(action_tool));
        }
        tools
    }

    /// Whether this request's client cannot be asked for the yes that grants and
    /// destructive calls wait for, so they would be refused (NOT_CONFIRMED).
    fn cannot_confirm(&self, dispatcher: &Dispatcher, context: &RequestContext<RoleServer>) -> bool {
        self.inner.confirm_destructive && !dispatcher.policy().config.dry_run && confirmer_for(context).is_none()
    }

    /// Bad arguments are the tool's error (`isError`), not the protocol's, so the model
    /// reads what to fix.
    fn search_tools(&self, args: &Map<String, Value>, context: &RequestContext<RoleServer>) -> Result<CallToolResult, McpError> {
        let Some(query) = args.get("query").and_then(Value::as_str).filter(|q| !q.trim().is_empty()) else {
            return Ok(tool_result(Err(Failure::new(code::INVALID_ARGUMENTS, "search_tools needs a `query` string: what you want to do, e.g. \"disable a user\""))));
        };
        let limit = match args.get("limit") {
            None | Some(Value::Null) => SEARCH_LIMIT,
            Some(given) => match given.as_u64().filter(|n| (1..=MAX_SEARCH_LIMIT as u64).contains(n)) {
                Some(n) => n as usize,
                None => return Ok(tool_result(Err(Failure::new(code::INVALID_ARGUMENTS, format!("search_tools: `limit` must be a whole number from 1 to {MAX_SEARCH_LIMIT}, got {given}"))))),
            },
        };
        let (dispatcher, caller) = self.route(context)?;
        let access = Access { catalog: &self.inner.catalog, policy: dispatcher.policy(), grant: caller.as_ref().and_then(|c| c.grant.as_ref()) };
        let mut reply = search_reply(&self.inner.catalog, &self.inner.search, query, limit);
        // A hit this caller would only be refused says so, and why, before a script tries it.
        if let Ok(Value::Object(found)) = &mut reply {
            let unconfirmable = self.cannot_confirm(&dispatcher, context);
            for hit in found.get_mut("actions").and_then(Value::as_array_mut).into_iter().flatten() {
                let Some(action) = hit["id"].as_str().and_then(|id| self.inner.catalog.get(id)) else { continue };
                let why = access.refused_briefly(action).or((unconfirmable && action.always_confirmed()).then_some(UNCONFIRMABLE));
                if let Some(why) = why {
                    hit["refused"] = json!(why);
                }
            }
        }
        Ok(tool_result(reply))
    }

    /// Why `execute`'s arguments cannot run, for the model: no `code` string, or an
    /// argument it does not take (a `timeout` would not raise the server's limit).
    fn execute_arguments_problem(&self, args: &Map<String, Value>) -> Option<String> {
        if let Some(other) = args.keys().find(|k| *k != "code") {
            let limits = &self.inner.limits;
            return Some(format!(
                "execute takes only `code`, the script; `{other}` is not one of its arguments. Its limits are the server's: {} s, {} action calls",
                limits.wall_time.as_secs(),
                limits.host_calls
            ));
        }
        match args.get("code") {
            Some(Value::String(_)) => None,
            _ => Some("execute needs a `code` string with the JavaScript to run".to_owned()),
        }
    }

    async fn execute(&self, args: &Map<String, Value>, context: &RequestContext<RoleServer>) -> Result<CallToolResponse, McpError> {
        if let Some(problem) = self.execute_arguments_problem(args) {
            return Ok(tool_result(Err(Failure::new(code::INVALID_ARGUMENTS, problem))).into());
        }
        let code = args.get("code").and_then(Value::as_str).unwrap_or_default().to_owned();
        let progress = context.meta.get_progress_token().map(|token| (context.peer.clone(), token));
        let (dispatcher, caller) = self.route(context)?;
        // Over HTTP, a caller's scripts share its places (without authentication, all
        // callers are one); over stdio there is one client.
        let over_http = context.extensions.get::<axum::http::request::Parts>().is_some();
        let subject = over_http.then(|| caller.as_ref().map_or("", |c| c.subject.as_str()));
        let place = match subject.map(|subject| self.inner.scripts.take(subject)).transpose() {
            Ok(place) => place,
            Err(refused) => return Ok(tool_result(Err(Failure::new(code::TOO_MANY_SCRIPTS, refused))).into()),
        };
        let owner = caller.as_ref().map(|c| c.subject.clone());
        let whose = caller.as_ref().map(|c| match &c.token_id {
            Some(id) => format!("`{}` (token {id})", c.subject),
            None => format!("`{}`", c.subject),
        });
        let this = self.clone();
        let run = move |confirm: Option<Arc<dyn Confirm>>, stopped: BoxFuture<'static, Stop>| async move {
            let asker = confirm.clone();
            let host = Arc::new(ObservedHost::new(dispatcher, caller, progress).confirming(confirm).for_script(&code));
            // Stopped with every script (the server is going away), not by its own client:
            // said, so the agent does not run it again at once.
            let stopped = async move {
                Some(match stopped.await {
                    Stop::ShuttingDown => SHUT_DOWN,
                    Stop::Cancelled => CANCELLED_BY_ID,
                })
            };
            let execution = this.inner.sandbox.execute_until(&code, json!({}), host.clone(), &this.inner.limits, stopped).await;
            // Only what the agent will see is scanned: a large result is cut to the budget first.
            // Calls given up unanswered are told too: a write among them may have been applied.
            let calls: Vec<CallSummary> = host.calls().into_iter().chain(host.in_flight()).collect();
            let stopped_code = match &execution.outcome {
                Err(ExecutionError::Interrupted { because, .. }) => Some(if *because == Some(SHUT_DOWN) { code::SHUTTING_DOWN } else { code::CANCELLED }),
                _ => None,
            };
            if stopped_code.is_some() {
                log_stopped_changes(&calls, whose.as_deref());
            }
            let mut reply = scanned_execute_reply(execution, &calls, this.inner.result_budget, &this.inner.defender, &host.own_texts()).await;
            if let (Err(failure), Some(stopped)) = (&mut reply, stopped_code) {
                failure.facts.insert("code".into(), stopped.into());
            }
            let unasked = match asker {
                Some(asker) => asker.allowed_unasked().await,
                None => vec![],
            };
            drop(place);
            let result = tool_result(with_calls_run_unasked(reply, &unasked));
            with_writes_for_programs(result, &account::writes(&calls, &[]), this.inner.result_budget / 2)
        };
        self.run_confirming(Asking::ScriptCalls, run, owner, context).await
    }

    /// Tools mode: one action, its arguments straight from the client.
    async fn call_action(&self, name: &str, args: Map<String, Value>, context: &RequestContext<RoleServer>) -> Result<CallToolResponse, McpError> {
        let (dispatcher, caller) = self.route(context)?;
        let owner = caller.as_ref().map(|c| c.subject.clone());
        let name = name.to_owned();
        let this = self.clone();
        let run = move |confirm: Option<Arc<dyn Confirm>>, stopped: BoxFuture<'static, Stop>| async move {
            let host = ObservedHost::new(dispatcher, caller, None).confirming(confirm);
            let call = host.dispatch(HostCall { action: name.clone(), args: Value::Object(args) });
            let reply = tokio::select! {
                reply = call => reply,
                stop = stopped => {
                    let why = match stop {
                        Stop::ShuttingDown => Failure::new(code::SHUTTING_DOWN, CALL_SHUT_DOWN),
                        Stop::Cancelled => Failure::new(code::CANCELLED, CALL_CANCELLED),
                    };
                    return tool_result(Err(why.with("action", json!(name))));
                }
            };
            let execute_offered = this.inner.mode != Mode::Tools;
            tool_result(action_reply(&name, reply, this.inner.result_budget, &this.inner.defender, execute_offered).await)
        };
        self.run_confirming(Asking::OneCall, run, owner, context).await
    }

    /// Runs a tool call with a way to confirm its destructive actions that this
    /// client supports (or none): mid-call, or suspended across a round trip.
    async fn run_confirming<F, Fut>(&self, asking: Asking, run: F, owner: Option<String>, context: &RequestContext<RoleServer>) -> Result<CallToolResponse, McpError>
    where
        F: FnOnce(Option<Arc<dyn Confirm>>, BoxFuture<'static, Stop>) -> Fut,
        Fut: std::future::Future<Output = CallToolResult> + Send + 'static,
    {
        let via = if self.inner.confirm_destructive { confirmer_for(context) } else { None };
        if let Some(Via::RoundTrip) = via {
            let job = Job::spawn(asking, |confirm, cancelled| run(Some(confirm), self.stopped(cancelled)));
            return self.inner.suspended.drive(job, owner, context.ct.cancelled()).await;
        }
        let (cancel, mut cancelled) = watch::channel(false);
        let _running = RunningCall::register(self, (owner, context.id.to_string()), cancel);
        let ct = context.ct.clone();
        let stopped = self.stopped(async move {
            tokio::select! {
                () = ct.cancelled() => {}
                // Only a switch turned on stops the call; one dropped never does.
                Ok(_) = cancelled.wait_for(|cancelled| *cancelled) => {}
            }
        });
        let inline = match via {
            Some(Via::Request(peer)) => run(Some(Arc::new(Asker::by_request(peer, asking))), stopped),
            None if self.inner.confirm_destructive => run(Some(Arc::new(CannotAsk)), stopped),
            _ => run(None, stopped),
        };
        // The run stops itself when the call is cancelled, so that what it did is told.
        let result = inline.await;
        // Stopped with every call as the server shuts down: the reply says so itself
        // (and what was changed); its client cancelled nothing.
        let shutting_down = *self.inner.stop_all.borrow();
        // Cancelled by its own request: nobody reads the reply. Stopped by a
        // `notifications/cancelled` naming its id, it may be read by a client that sent
        // none (another client of the same token that used the same id; review 48): the
        // reply says why it stopped and what it changed.
        if !shutting_down && context.ct.is_cancelled() {
            return Err(McpError::internal_error(CANCELLED, None));
        }
        Ok(result.into())
    }

    /// Stops `caller`'s running call `request_id` (a `notifications/cancelled` over
    /// HTTP, where each message is a request of its own; over stdio the MCP library
    /// cancels the call itself). Only the caller that made a call can stop it.
    ///
    /// When the caller has several calls with that id running (two clients sharing a
    /// token), each is stopped: nothing tells which of them the cancellation was for.
    pub fn cancel_call(&self, caller: Option<&str>, request_id: &str) {
        if let Some(calls) = self.running().by_id.get(&(caller.map(str::to_owned), request_id.to_owned())) {
            tracing::info!(request_id, calls = calls.len(), "the client cancelled the call");
            calls.iter().for_each(|(_, cancel)| {
                cancel.send_replace(true);
            });
        }
    }

    fn running(&self) -> std::sync::MutexGuard<'_, RunningCalls> {
        self.inner.running.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A call in [`Inner::running`] until it ends, or its future is dropped.
struct RunningCall<'a> {
    server: &'a PingOneMcp,
    key: CallId,
    number: u64,
}

impl<'a> RunningCall<'a> {
    fn register(server: &'a PingOneMcp, key: CallId, cancel: watch::Sender<bool>) -> Self {
        let mut running = server.running();
        let number = running.next;
        running.next += 1;
        running.by_id.entry(key.clone()).or_default().push((number, cancel));
        Self { server, key, number }
    }
}

impl Drop for RunningCall<'_> {
    fn drop(&mut self) {
        let mut running = self.server.running();
        if let Some(calls) = running.by_id.get_mut(&self.key) {
            calls.retain(|(number, _)| *number != self.number);
            if calls.is_empty() {
                running.by_id.remove(&self.key);
            }
        }
    }
}

/// The HTTP caller the authentication put into the request (none over stdio).
fn caller_of(extensions: &rmcp::model::Extensions) -> Option<Caller> {
    extensions.get::<axum::http::request::Parts>().and_then(|parts| parts.extensions.get::<Caller>()).cloned()
}

/// Why a running call stops early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Its client cancelled it or left.
    Cancelled,
    /// The server is shutting down and stops every call.
    ShuttingDown,
}

/// Why a search hit would be refused to a client that cannot ask the person.
const UNCONFIRMABLE: &str = "it waits for a person's yes, which this client cannot ask for";

/// Why a script was interrupted when the server stopped it.
const SHUT_DOWN: &str = "the server is shutting down (run it again once the server is back, after checking the writes below)";

/// The reply to a call its client cancelled (which it will not read).
const CANCELLED: &str = "the client cancelled the call";
/// Why a script stopped by a `notifications/cancelled` stopped: the notice names a
/// request id, which two clients of one token may both use.
const CANCELLED_BY_ID: &str = "a cancellation (notifications/cancelled) named its request id: from its own client, or from another client using the same token and the same id";
/// The reply to one action's call stopped by a cancellation naming its request id.
const CALL_CANCELLED: &str = "the call was stopped by a cancellation (notifications/cancelled) naming its request id, from its own client or another client using the same token and id, before PingOne answered: a write may or may not have been applied (the audit log has it); check the record before calling again";
/// The reply to one action's call stopped as the server shuts down.
const CALL_SHUT_DOWN: &str = "the call was stopped because the server is shutting down before PingOne answered: a write may or may not have been applied (the audit log has it); check the record once the server is back before calling again";

/// Nobody may read the reply of a script stopped because its client cancelled the call
/// or left, or the server is shutting down: what it changed goes to the server's log
/// (and each call to the audit log).
/// `caller` names whose script it was: the token's subject, and its id when it has one.
fn log_stopped_changes(calls: &[CallSummary], caller: Option<&str>) {
    let writes = account::writes(calls, &[]);
    let lines = account::account(&writes, account::SHOWN);
    let whose = caller.map(|caller| format!(" of {caller}")).unwrap_or_default();
    tracing::warn!("a script{whose} was stopped (its client cancelled the call or left, or the server is shutting down); what it changed:\n{}", lines.join("\n"));
}

/// A reply as a tool result. The model reads the text: the reply's JSON, with each cut
/// marked where it was made, or a failure's prose. A program reads the structured
/// content: the reply without those marks, listed apart under `truncated`, or the
/// failure's code and facts.
pub(super) fn tool_result(reply: Result<Value, Failure>) -> CallToolResult {
    let (text, mut structured, failed) = match reply {
        Ok(reply) => (reply.to_string(), reply, false),
        Err(failure) => (failure.text, Value::Object(failure.facts), true),
    };
    let cuts = take_cut_marks(&mut structured, &mut "$".to_owned());
    if !cuts.is_empty() {
        structured["truncated"] = Value::Array(cuts);
    }
    let mut result = if failed { CallToolResult::error(vec![]) } else { CallToolResult::structured(Value::Null) };
    result.content = vec![ContentBlock::text(text)];
    result.structured_content = Some(structured);
    result
}

/// A script's writes in the structured content, for a program, when it ended well too
/// (a failure's facts have them already); the model reads the summary of the calls.
/// Cut to `budget` tokens, each cut listed under `truncated`.
fn with_writes_for_programs(mut result: CallToolResult, writes: &[CallSummary], budget: usize) -> CallToolResult {
    let Some(Value::Object(structured)) = result.structured_content.as_mut() else { return result };
    if writes.is_empty() || structured.contains_key("writes") {
        return result;
    }
    let mut shown = crate::trim::trim(account::writes_json(writes), budget).value;
    let cuts = take_cut_marks(&mut shown, &mut "$.writes".to_owned());
    structured.insert("writes".into(), shown);
    if !cuts.is_empty() {
        if let Value::Array(listed) = structured.entry("truncated").or_insert_with(|| Value::Array(vec![])) {
            listed.extend(cuts);
        }
    }
    result
}

/// What `search_tools` answers: the best actions, each with its signature (and a
/// `warning` while ranking is lexical only, since the encoder is missing); or a
/// message when nothing matches.
pub fn search_reply(catalog: &Catalog, index: &SearchIndex, query: &str, limit: usize) -> Result<Value, Failure> {
    let found = found(catalog, index, query, limit);
    let hits: Vec<Value> = found.hits.iter().map(|(action, _)| hit_json(action, SignatureStyle::Compact)).collect();
    if hits.is_empty() {
        return Err(Failure::new(code::NO_MATCH, no_match_note(query)));
    }
    let mut reply = json!({ "actions": hits });
    let notes: Vec<String> = found.read_as.as_deref().map(read_as_note).into_iter().chain(found.nothing_fits.map(|_| nothing_fits_note(query))).collect();
    if !notes.is_empty() {
        reply["note"] = json!(notes.join("; "));
    }
    if let Some(warning) = index.warning() {
        reply["warning"] = json!(warning);
    }
    Ok(reply)
}

impl ServerHandler for PingOneMcp {
    fn get_info(&self) -> InitializeResult {
        let instructions = match self.inner.mode {
            Mode::Tools => "Each PingOne action is a tool; list results come back as { items, count, cursor }.".to_owned(),
            _ => instructions(&self.inner.limits),
        };
        InitializeResult::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("pingone-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions(instructions)
    }

    async fn initialize(&self, request: InitializeRequestParams, context: RequestContext<RoleServer>) -> Result<InitializeResult, McpError> {
        context.peer.set_peer_info(request.clone());
        let mut info = self.negotiate_initialize(&request)?;
        self.tell_what_is_held_back(&mut info, Some(&request.capabilities), &context)?;
        Ok(info)
    }

    /// Protocol 2026-07-28's `server/discover`, which replaces `initialize`.
    async fn discover(&self, context: RequestContext<RoleServer>) -> Result<DiscoverResult, McpError> {
        let mut info = self.get_info();
        self.tell_what_is_held_back(&mut info, None, &context)?;
        Ok(DiscoverResult::from_server_info(self.supported_protocol_versions().into_owned(), info))
    }

    async fn list_tools(&self, _request: Option<PaginatedRequestParams>, context: RequestContext<RoleServer>) -> Result<ListToolsResult, McpError> {
        let (dispatcher, caller) = self.route(&context)?;
        Ok(ListToolsResult::with_all_items(self.tools_for(&dispatcher, caller.as_ref(), &context)))
    }

    async fn call_tool(&self, request: CallToolRequestParams, context: RequestContext<RoleServer>) -> Result<CallToolResponse, McpError> {
        if let Some(state) = request.request_state.as_deref() {
            let owner = self.route(&context)?.1.map(|c| c.subject);
            return self.inner.suspended.resume(state, request.input_responses, owner, context.ct.cancelled()).await;
        }
        let args = request.arguments.unwrap_or_default();
        let name = request.name.as_ref();
        let code_tools = self.inner.mode != Mode::Tools;
        match name {
            SEARCH_TOOLS if code_tools => Ok(self.search_tools(&args, &context)?.into()),
            EXECUTE if code_tools => self.execute(&args, &context).await,
            action if self.inner.mode != Mode::Code && self.inner.catalog.get(action).is_some() => self.call_action(action, args, &context).await,
            other => Err(McpError::invalid_params(format!("unknown tool `{other}`; {}", self.offered(&context)), None)),
        }
    }
}

impl PingOneMcp {
    /// Adds to the instructions what this caller's policy and grant hold back, so an
    /// agent does not plan around actions that will be refused; and, when scripts may
    /// make grants, changes of access and destructive calls, who confirms them (given
    /// the `client`'s capabilities, which `initialize` has): the person, asked through
    /// this client, or nobody, so they are refused. An agent learns it before a batch,
    /// not half-way through one.
    fn tell_what_is_held_back(&self, info: &mut InitializeResult, client: Option<&rmcp::model::ClientCapabilities>, context: &RequestContext<RoleServer>) -> Result<(), McpError> {
        let (dispatcher, caller) = self.route(context)?;
        let access = Access { catalog: &self.inner.catalog, policy: dispatcher.policy(), grant: caller.as_ref().and_then(|c| c.grant.as_ref()) };
        let Some(instructions) = info.instructions.as_mut() else { return Ok(()) };
        if let Some(note) = access.note(self.inner.mode) {
            instructions.push('\n');
            instructions.push_str(&note);
        }
        if self.inner.confirm_destructive && access.writes() {
            // One list for both, so what is asked and what is refused stay the same calls.
            const KINDS: &str = "(roles, group memberships, MFA devices, identity providers, sign-on policies, disabling, enabling, locking or unlocking users and applications)";
            let asked = format!("Grants and changes of access {KINDS} and destructive calls wait for the person's yes, asked through this client for each call (an answer for all covers the rest of the script); a no refuses that call (NOT_CONFIRMED) and nothing of it is sent.");
            let refused = format!("This client cannot ask the person to confirm: grants and changes of access {KINDS} and destructive calls are refused (NOT_CONFIRMED). Do not start a batch that needs them; say what would be done, for the person to do or allow.");
            instructions.push('\n');
            // Discovery (2026-07-28) comes before the client says what it can do: both are said.
            match client {
                Some(client) if can_ask(client) => instructions.push_str(&asked),
                Some(_) if self.inner.mode == Mode::Tools => instructions.push_str(&format!("{refused} The actions that always wait for it (deletes, grants of roles and memberships) are not offered here; whoever runs the server can let them run unasked with --no-confirm.")),
                Some(_) => instructions.push_str(&refused),
                None => instructions.push_str(&format!("{asked} A client that cannot ask the person (no elicitation) has them refused with NOT_CONFIRMED: then say what would be done, for the person to do or allow.")),
            }
        }
        Ok(())
    }

    /// "this server offers: …" (the first few), for an unknown tool's error.
    fn offered(&self, context: &RequestContext<RoleServer>) -> String {
        let Ok((dispatcher, caller)) = self.route(context) else { return String::new() };
        let tools = self.tools_for(&dispatcher, caller.as_ref(), context);
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).take(10).collect();
        let more = if tools.len() > names.len() { format!(" and {} more (tools/list has them all)", tools.len() - names.len()) } else { String::new() };
        format!("this server offers: {}{more}", names.join(", "))
    }
}

/// What may run for one caller: the environment's policy, narrowed by the caller's
/// grant (over HTTP; none over stdio or with the server's own token).
struct Access<'a> {
    catalog: &'a Catalog,
    policy: &'a Policy,
    grant: Option<&'a Grant>,
}

impl Access<'_> {
    fn permits(&self, action: &Action) -> bool {
        self.policy.check(action).is_ok() && self.grant.is_none_or(|g| g.check(action).is_ok())
    }

    fn refused_briefly(&self, action: &Action) -> Option<&'static str> {
        self.policy.refused_briefly(action, self.grant)
    }

    /// Whether a script's writes would be sent (not refused, not only shown): some
    /// action that writes is let through by the policy and the grant's action list.
    fn writes(&self) -> bool {
        let config = &self.policy.config;
        config.allow_writes && !config.dry_run && self.grant.is_none_or(Grant::allows_writes) && self.catalog.actions().any(|a| a.writes() && self.permits(a))
    }

    fn destructive(&self) -> bool {
        let config = &self.policy.config;
        config.allow_destructive && !config.dry_run && self.grant.is_none_or(Grant::allows_destructive) && self.catalog.actions().any(|a| a.may_be_destructive() && self.permits(a))
    }

    /// What is held back, in a sentence (tools mode does not list it at all).
    fn note(&self, mode: Mode) -> Option<String> {
        let fate = if mode == Mode::Tools { "are not offered" } else { "are refused" };
        let config = &self.policy.config;
        let fix = |by_policy: bool, setting: &str| match self.grant {
            Some(grant) if !by_policy => format!("your token does not grant them ({}); ask for one that does", grant.source),
            _ if config.kept_off.contains(&setting) => format!("this environment's profile keeps them off ({setting} = false in the configuration file)"),
            _ => format!("whoever starts pingone-mcp can allow them with {}", flag_of(setting)),
        };
        let held = if config.dry_run {
            "Dry run: actions that change PingOne are not sent; their reply shows the request that would have been made.".to_owned()
        } else if !self.writes() {
            format!("Writes are off: actions that change PingOne {fate}; {}.", fix(!config.allow_writes, "allow_writes"))
        } else if !self.destructive() {
            let calls = if mode == Mode::Tools { "Destructive actions (deletes, secret rotation, password resets) are not offered, and turning a user's MFA off is refused" } else { "Destructive calls (deletes, secret rotation, password resets, turning a user's MFA off) are refused" };
            format!("{calls}; {}.", fix(!config.allow_destructive, "allow_destructive"))
        } else {
            String::new()
        };
        let lists = !self.policy.config.allow.is_empty() || !self.policy.config.deny.is_empty();
        let listed = if lists { format!("The policy's allow and deny lists hold back some actions; they {fate}.") } else { String::new() };
        let granted = match self.grant.map(Grant::action_globs).filter(|globs| !globs.is_empty()) {
            Some(globs) => format!("Your token grants only the actions matching {}; the others {fate}.", globs.join(", ")),
            None => String::new(),
        };
        let note = [held, listed, granted].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
        (!note.is_empty()).then_some(note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_callers_grant_narrows_what_the_policy_offers() {
        let catalog = crate::catalog::load_builtin().unwrap();
        let policy = Policy::new(crate::policy::PolicyConfig { allow_writes: true, ..Default::default() });
        let session = Grant::new("session token", vec![crate::policy::ScopeGrant { writes: true, destructive: true, actions: vec!["*_group*".into()] }]);
        let access = Access { catalog: &catalog, policy: &policy, grant: Some(&session) };
        let offered: Vec<&str> = catalog.actions().filter(|a| access.permits(a)).map(|a| a.id.as_str()).collect();
        assert!(offered.contains(&"list_groups") && offered.contains(&"create_group"), "{offered:?}");
        assert!(!offered.contains(&"delete_group"), "the policy refuses destructive actions whatever the grant: {offered:?}");
        assert!(!offered.contains(&"list_users"), "outside the grant: {offered:?}");
        let note = access.note(Mode::Tools).unwrap();
        assert!(note.starts_with("Destructive actions") && note.contains("whoever starts pingone-mcp can allow them with --allow-destructive"), "{note}");

        let reader = Grant::from_scopes(["pingone-mcp:read"], &crate::policy::default_scope_grants()).unwrap();
        let access = Access { catalog: &catalog, policy: &policy, grant: Some(&reader) };
        assert!(!access.writes(), "the server allows writes, the token does not");
        assert!(access.note(Mode::Code).unwrap().contains("are refused; your token does not grant them (scopes pingone-mcp:read)"));
        assert!(Access { catalog: &catalog, policy: &Policy::permissive(), grant: None }.note(Mode::Tools).is_none(), "nothing held back, nothing said");

        // A session token for reads only: its agent is told writes are refused, and why.
        let lister = Grant::new("session token 9a0b", vec![crate::policy::ScopeGrant { writes: true, destructive: true, actions: vec!["list_*".into(), "get_*".into()] }]);
        let access = Access { catalog: &catalog, policy: &Policy::permissive(), grant: Some(&lister) };
        assert!(!access.writes() && !access.destructive(), "no action it grants writes");
        let note = access.note(Mode::Code).unwrap();
        assert!(note.contains("Writes are off: actions that change PingOne are refused; your token does not grant them (session token 9a0b)"), "{note}");
        assert!(note.contains("Your token grants only the actions matching list_*, get_*; the others are refused."), "{note}");
        let everything = Grant::new("session token 7c1d", vec![crate::policy::ScopeGrant { writes: true, destructive: true, actions: vec!["*".into()] }]);
        assert!(Access { catalog: &catalog, policy: &Policy::permissive(), grant: Some(&everything) }.note(Mode::Code).is_none(), "a token for every action is not said to be limited");

        // A profile that keeps writes off is not lifted by a flag, so the flag is not offered as the fix.
        let kept_off = Policy::new(crate::policy::PolicyConfig { kept_off: vec!["allow_writes"], ..Default::default() });
        let note = Access { catalog: &catalog, policy: &kept_off, grant: None }.note(Mode::Code).unwrap();
        assert!(note.contains("this environment's profile keeps them off (allow_writes = false in the configuration file)") && !note.contains("--allow-writes"), "{note}");
    }

    #[test]
    fn search_without_the_encoder_still_answers_and_says_why() {
        let catalog = crate::catalog::load_builtin().unwrap();
        let missing = Err(crate::onnx::ModelError::NoLibrary);
        let index = SearchIndex::with_encoder(&catalog, crate::search::Weights::default(), missing);
        let reply = search_reply(&catalog, &index, "disable a user", 3).unwrap();
        assert_eq!(reply["actions"][0]["id"], "update_user_enabled_status", "{reply}");
        let warning = reply["warning"].as_str().unwrap_or_default();
        assert!(warning.contains("semantic search unavailable") && warning.contains("libonnxruntime not found"), "{reply}");
    }
}
