//! One script in one fresh guest instance: the store's state, the host imports
//! the guest calls, and the run itself.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use wasmtime::format_err;
use guest_sdk::abi::{self, HostReply, LogLevel, RunInput, RunOutcome, ScriptPosition, StartedCall, IMPORT_MODULE};
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::Semaphore;
use wasmtime::{Caller, Engine, InstancePre, Linker, Memory, Store};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::WasiCtxBuilder;

use super::limits::{Limit, Limits};
use super::{ActionHost, LogLine};

/// Everything the host keeps for one running script.
pub(super) struct GuestState {
    wasi: WasiP1Ctx,
    /// The guest's exported memory, found once per instance rather than by name on
    /// every host call.
    guest_memory: Option<Memory>,
    memory: MemoryLimiter,
    limits: Limits,
    host: Arc<dyn ActionHost>,
    permits: Arc<Semaphore>,
    calls_started: u32,
    next_call_id: u32,
    /// Started calls, driven whenever the guest waits: on this task, so a call that
    /// is answered at once costs no thread hop.
    in_flight: FuturesUnordered<BoxFuture<'static, (u32, Vec<u8>)>>,
    /// Every call that may change something, not yet delivered, for reporting what a
    /// cut-off run left.
    unfinished: HashMap<u32, Started>,
    /// Every read the script has not taken the result of: one it never awaited
    /// (`forEach(async …)`) leaves its result made without it.
    unread: HashMap<u32, Started>,
    /// Calls that got past the concurrency permits and were handed to the host; a
    /// call still queued behind them has sent nothing.
    sent: Arc<std::sync::Mutex<std::collections::HashSet<u32>>>,
    ready: HashMap<u32, Vec<u8>>,
    /// The console: its first lines, up to three quarters of the limit, then its last
    /// lines in the rest; lines between them are counted, not kept.
    logs: Vec<LogLine>,
    log_bytes: usize,
    log_tail: VecDeque<(LogLine, usize)>,
    log_tail_bytes: usize,
    logs_dropped: usize,
    /// The arguments of every call started, together.
    argument_bytes: usize,
    /// When the run began, for what is left of its wall time.
    started: std::time::Instant,
    /// Set just before a trap that a limit caused.
    pub exceeded: Option<Limit>,
    /// The guest's panic message, when it panicked.
    pub panic: Option<String>,
}

/// A call the script started: its action, and where in the script.
struct Started {
    action: String,
    at: Option<ScriptPosition>,
}

impl Started {
    /// `get_user (line 3)`: what the script is told of a call it left behind.
    fn label(&self) -> String {
        match self.at {
            Some(at) => format!("{} (line {})", self.action, at.line),
            None => self.action.clone(),
        }
    }
}

/// What follows the count in the console's line about the lines it did not keep.
const NOT_KEPT: &str = " console line(s) not kept";

/// The count in the console's line about the lines it did not keep (as written, or
/// prefixed with its level), so a reply that hides it can count them in.
pub fn lines_not_kept(line: &str) -> Option<usize> {
    let (_, rest) = line.split_once("… ")?;
    let (count, _) = rest.split_once(NOT_KEPT)?;
    count.parse().ok()
}

impl GuestState {
    pub fn new(limits: &Limits, host: Arc<dyn ActionHost>) -> Self {
        let mut wasi = WasiCtxBuilder::new();
        if let Some(readings) = host.readings() {
            wasi.wall_clock(readings.clock());
        }
        Self {
            wasi: wasi.build_p1(),
            guest_memory: None,
            memory: MemoryLimiter { max: limits.memory_bytes, denied: false, peak: 0 },
            permits: Arc::new(Semaphore::new(limits.concurrency.max(1))),
            limits: limits.clone(),
            host,
            calls_started: 0,
            next_call_id: 1,
            in_flight: FuturesUnordered::new(),
            unfinished: HashMap::new(),
            unread: HashMap::new(),
            sent: Arc::default(),
            ready: HashMap::new(),
            logs: Vec::new(),
            log_bytes: 0,
            log_tail: VecDeque::new(),
            log_tail_bytes: 0,
            logs_dropped: 0,
            argument_bytes: 0,
            started: std::time::Instant::now(),
            exceeded: None,
            panic: None,
        }
    }

    /// Hands a console line to the host as it comes, and keeps it if it fits: a script
    /// that logs more than the console limit goes on, keeping its first and last lines.
    pub fn push_log(&mut self, line: LogLine) {
        self.host.console(&line);
        // Each line costs its prefix and separators too, so a flood of empty lines counts.
        let cost = line.message.len() + LOG_LINE_COST;
        let head = self.limits.log_bytes / 4 * 3;
        if self.log_tail.is_empty() && self.log_bytes + cost <= head {
            self.log_bytes += cost;
            self.logs.push(line);
            return;
        }
        self.log_tail.push_back((line, cost));
        self.log_tail_bytes += cost;
        while self.log_tail_bytes > self.limits.log_bytes - head {
            let Some((_, cost)) = self.log_tail.pop_front() else { break };
            self.log_tail_bytes -= cost;
            self.logs_dropped += 1;
        }
    }

    /// The console as kept: the first lines, a line saying how many were left out, the last.
    pub fn console(&self) -> Vec<LogLine> {
        let mut lines = self.logs.clone();
        if self.logs_dropped > 0 {
            let message = format!(
                "… {}{NOT_KEPT}: the console keeps {} KiB, its first and last lines (the script went on)",
                self.logs_dropped,
                self.limits.log_bytes >> 10
            );
            lines.push(LogLine { level: LogLevel::Warn, message });
        }
        lines.extend(self.log_tail.iter().map(|(line, _)| line.clone()));
        lines
    }

    /// What is left of the wall time, the action calls and the compute (`fuel_left`
    /// of the limit, as a percentage: a loop may run out of it long before the time;
    /// review 43), for `pingone.budget()`.
    fn budget(&self, fuel_left: u64) -> serde_json::Value {
        let waited = self.host.person_waits().map_or(Duration::ZERO, |waits| waits.total());
        let ms_left = (self.limits.wall_time + waited).saturating_sub(self.started.elapsed()).as_millis() as u64;
        let compute_left = (fuel_left as f64 * 100.0 / self.limits.fuel.max(1) as f64).floor().min(100.0) as u64;
        serde_json::json!({ "msLeft": ms_left, "callsLeft": self.limits.host_calls.saturating_sub(self.calls_started), "computeLeftPercent": compute_left })
    }

    pub fn calls_started(&self) -> u32 {
        self.calls_started
    }

    /// Calls the script started that were still queued behind the concurrency limit,
    /// never handed to the host.
    pub fn calls_never_sent(&self) -> u32 {
        let sent = self.sent.lock().unwrap_or_else(|e| e.into_inner()).len() as u32;
        self.calls_started.saturating_sub(sent)
    }

    /// Actions whose calls had been sent but not delivered to the script, less those
    /// the host still holds unsent (waiting for a person's answer).
    pub fn unfinished_actions(&self) -> Vec<String> {
        let sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        let mut calls: Vec<&Started> = self.unfinished.iter().filter(|(id, _)| sent.contains(id)).map(|(_, call)| call).collect();
        for held in self.host.unsent_writes() {
            if let Some(i) = calls.iter().position(|call| call.action == held) {
                calls.swap_remove(i);
            }
        }
        let mut actions: Vec<String> = calls.iter().map(|call| call.label()).collect();
        actions.sort();
        actions
    }

    /// Lets the calls that may change something, which the script started and never
    /// waited for, finish (until `deadline`), so a write already sent is not dropped
    /// unaudited and unreported; says what became of each, and names each read the
    /// script did not wait for.
    pub async fn settle(&mut self, deadline: tokio::time::Instant) -> Vec<String> {
        // Calls still queued behind the concurrency limit are not sent now that the
        // script has ended: closing the permits ends them unsent.
        self.permits.close();
        // Reads change nothing: what matters is that the script did not wait for them.
        let mut settled: Vec<String> = self.unread.drain().map(|(_, call)| format!("{}: a read whose result the script did not wait for", call.label())).collect();
        settled.sort();
        let mut answered: Vec<(u32, Vec<u8>)> = self.ready.drain().collect();
        while !self.unfinished.is_empty() {
            if let Some((id, reply)) = answered.pop() {
                if let Some(call) = self.unfinished.remove(&id) {
                    settled.push(format!("{}: {}", call.label(), outcome_of(&reply)));
                }
                continue;
            }
            // What is left waits for a person's answer: it is not sent, now that the
            // script has ended, so nobody waits for it.
            let held = self.host.writes_awaiting_answer();
            if self.unfinished.len() <= held.len() {
                settled.extend(held.into_iter().map(|action| format!("{action}: {}", super::NOT_SENT_ASKING)));
                break;
            }
            match tokio::time::timeout_at(deadline, self.in_flight.next()).await {
                Ok(Some(done)) => answered.push(done),
                Ok(None) => break,
                Err(_elapsed) => {
                    let mut left = self.unfinished_actions();
                    left.iter_mut().for_each(|action| action.push_str(": still running when the time ran out; it may or may not have been applied"));
                    settled.extend(left);
                    break;
                }
            }
        }
        settled
    }

    pub fn memory_denied(&self) -> bool {
        self.memory.denied
    }

    /// The guest's largest linear memory during the run.
    pub fn peak_memory(&self) -> usize {
        self.memory.peak
    }

    fn exceed(&mut self, limit: Limit) -> wasmtime::Error {
        self.exceeded = Some(limit);
        format_err!("{limit} limit exceeded")
    }
}

/// "ok", or the error code and message of a host reply.
fn outcome_of(reply: &[u8]) -> String {
    match serde_json::from_slice::<HostReply>(reply) {
        Ok(HostReply::Value(_)) => "ok".into(),
        Ok(HostReply::Error(e)) if e.code == NOT_SENT => "not sent, as the script had ended".into(),
        Ok(HostReply::Error(e)) => format!("failed, {} {}", e.code, e.message),
        Err(_) => "finished, with an unreadable reply".into(),
    }
}

/// Caps the guest's memory and remembers whether it tried to grow past the cap, so
/// the resulting trap is reported as the memory limit.
struct MemoryLimiter {
    max: usize,
    denied: bool,
    peak: usize,
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = desired <= self.max;
        self.denied |= !allowed;
        if allowed {
            self.peak = self.peak.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// The host side of the ABI (see `guest_sdk::abi`).
pub(super) fn linker(engine: &Engine) -> wasmtime::Result<Linker<GuestState>> {
    let mut linker: Linker<GuestState> = Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_async(&mut linker, |state| &mut state.wasi)?;
    linker.func_wrap(IMPORT_MODULE, "call_start", call_start)?;
    linker.func_wrap_async(IMPORT_MODULE, "call_wait", |caller: Caller<'_, GuestState>, (): ()| Box::new(call_wait(caller)))?;
    linker.func_wrap(IMPORT_MODULE, "call_read", call_read)?;
    linker.func_wrap(IMPORT_MODULE, "log", log)?;
    Ok(linker)
}

fn memory(caller: &Caller<'_, GuestState>) -> wasmtime::Result<Memory> {
    caller.data().guest_memory.ok_or_else(|| format_err!("the guest exports no memory"))
}

fn read_bytes(caller: &mut Caller<'_, GuestState>, ptr: u32, len: u32) -> wasmtime::Result<Vec<u8>> {
    let memory = memory(caller)?;
    let mut buffer = vec![0u8; len as usize];
    memory.read(&caller, ptr as usize, &mut buffer).map_err(|_| format_err!("the guest passed a buffer outside its memory"))?;
    Ok(buffer)
}

/// The code of a call that never got past the concurrency permits.
const NOT_SENT: &str = "CANCELLED";

/// What a console line costs of the console limit besides its text.
const LOG_LINE_COST: usize = 16;

/// Starts an action call on a tokio task, bounded by the concurrency permits.
fn call_start(mut caller: Caller<'_, GuestState>, ptr: u32, len: u32) -> wasmtime::Result<u32> {
    let state = caller.data_mut();
    // Arguments wait in host memory until their call is sent: bounded per script.
    if state.argument_bytes + len as usize > state.limits.argument_bytes {
        return Err(state.exceed(Limit::ArgumentSize));
    }
    let bytes = read_bytes(&mut caller, ptr, len)?;
    let (call, at) = match serde_json::from_slice::<StartedCall>(&bytes) {
        Ok(started) => started.into_parts(),
        Err(e) if too_deep(&e) => return Err(caller.data_mut().exceed(Limit::Depth)),
        Err(e) => return Err(format_err!("the guest sent a malformed host call: {e}")),
    };
    if call.action == abi::BUDGET_ACTION {
        let fuel_left = caller.get_fuel().unwrap_or(0);
        let state = caller.data_mut();
        let id = state.next_call_id;
        state.next_call_id += 1;
        let reply = serde_json::to_vec(&HostReply::Value(state.budget(fuel_left))).unwrap_or_default();
        state.in_flight.push(Box::pin(async move { (id, reply) }));
        return Ok(id);
    }
    let state = caller.data_mut();
    let id = state.next_call_id;
    if state.calls_started >= state.limits.host_calls {
        return Err(state.exceed(Limit::HostCalls));
    }
    state.argument_bytes += len as usize;
    state.calls_started += 1;
    state.next_call_id += 1;
    let host = state.host.clone();
    let started = Started { action: call.action.clone(), at };
    if host.may_change_state(&call.action) {
        state.unfinished.insert(id, started);
    } else {
        state.unread.insert(id, started);
    }
    let permits = state.permits.clone();
    let sent = state.sent.clone();
    state.in_flight.push(Box::pin(async move {
        let reply = match permits.acquire_owned().await {
            Ok(_permit) => {
                sent.lock().unwrap_or_else(|e| e.into_inner()).insert(id);
                host.call(call).await
            }
            Err(_) => HostReply::Error(abi::ActionError { code: NOT_SENT.into(), message: "the script ended".into(), ..Default::default() }),
        };
        (id, serde_json::to_vec(&reply).unwrap_or_default())
    }));
    Ok(id)
}

/// Waits for any started call to finish; returns `id << 32 | reply length`.
async fn call_wait(mut caller: Caller<'_, GuestState>) -> wasmtime::Result<u64> {
    let state = caller.data_mut();
    let (id, reply) = state.in_flight.next().await.ok_or_else(|| format_err!("the guest waited with no call in flight"))?;
    let len = reply.len() as u32;
    state.ready.insert(id, reply);
    Ok(abi::pack(id, len))
}

fn call_read(mut caller: Caller<'_, GuestState>, id: u32, ptr: u32) -> wasmtime::Result<()> {
    let state = caller.data_mut();
    let reply = state.ready.remove(&id).ok_or_else(|| format_err!("the guest read reply {id}, which is not ready"))?;
    state.unfinished.remove(&id);
    state.unread.remove(&id);
    let memory = memory(&caller)?;
    memory.write(&mut caller, ptr as usize, &reply).map_err(|_| format_err!("the guest's reply buffer is outside its memory"))
}

fn log(mut caller: Caller<'_, GuestState>, level: u32, ptr: u32, len: u32) -> wasmtime::Result<()> {
    if level == abi::PANIC_LOG_LEVEL {
        let bytes = read_bytes(&mut caller, ptr, len.min(4096))?;
        caller.data_mut().panic = Some(String::from_utf8_lossy(&bytes).into_owned());
        return Ok(());
    }
    // A line is cut to a quarter of the console, so the last lines always fit.
    let kept = len.min((caller.data().limits.log_bytes / 4) as u32);
    let mut bytes = read_bytes(&mut caller, ptr, kept)?;
    if kept < len {
        bytes.extend_from_slice(" …".as_bytes());
    }
    let state = caller.data_mut();
    state.push_log(LogLine { level: LogLevel::from_u32(level), message: String::from_utf8_lossy(&bytes).into_owned() });
    Ok(())
}

/// Fuel between yields to tokio: a computing script lets others (and its own wall
/// clock) run every millisecond or so, so many scripts share few threads.
const FUEL_PER_YIELD: u64 = 1_000_000;

/// A store for one run: memory capped, compute metered with fuel.
pub(super) fn store(engine: &Engine, state: GuestState) -> wasmtime::Result<Store<GuestState>> {
    let fuel = state.limits.fuel;
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.memory);
    store.set_fuel(fuel)?;
    store.fuel_async_yield_interval(Some(FUEL_PER_YIELD))?;
    Ok(store)
}

/// Instantiates the guest and runs one script to its outcome (as JSON bytes).
pub(super) async fn run(pre: &InstancePre<GuestState>, store: &mut Store<GuestState>, input: &RunInput) -> wasmtime::Result<RunOutcome> {
    let instance = pre.instantiate_async(&mut *store).await?;
    let version = instance.get_typed_func::<(), u32>(&mut *store, "abi_version")?.call_async(&mut *store, ()).await?;
    if version != abi::ABI_VERSION {
        return Err(format_err!("the guest speaks ABI {version}, the host {}: rebuild", abi::ABI_VERSION));
    }
    let memory = instance.get_memory(&mut *store, "memory").ok_or_else(|| format_err!("the guest exports no memory"))?;
    store.data_mut().guest_memory = Some(memory);
    let input = serde_json::to_vec(input)?;
    let alloc = instance.get_typed_func::<u32, u32>(&mut *store, "alloc")?;
    let ptr = alloc.call_async(&mut *store, input.len() as u32).await?;
    memory.write(&mut *store, ptr as usize, &input)?;
    let packed = instance.get_typed_func::<(u32, u32), u64>(&mut *store, "run")?.call_async(&mut *store, (ptr, input.len() as u32)).await?;
    let (out_ptr, out_len) = abi::unpack(packed);
    let result_bytes = store.data().limits.result_bytes;
    if out_len as usize > result_bytes + 1024 {
        return Err(store.data_mut().exceed(Limit::ResultSize));
    }
    let mut output = vec![0u8; out_len as usize];
    memory.read(&*store, out_ptr as usize, &mut output)?;
    match serde_json::from_slice::<RunOutcome>(&output) {
        Ok(outcome) => Ok(outcome),
        Err(e) if too_deep(&e) => Err(store.data_mut().exceed(Limit::Depth)),
        Err(e) => Err(format_err!("the guest's outcome is not valid: {e}")),
    }
}

/// JSON nested deeper than serde_json reads (128 levels): the script's data, not a fault.
fn too_deep(e: &serde_json::Error) -> bool {
    e.to_string().starts_with("recursion limit exceeded")
}

/// Fuel the script has burnt.
pub(super) fn fuel_used(store: &Store<GuestState>) -> u64 {
    store.data().limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0))
}
