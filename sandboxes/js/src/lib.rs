//! The JavaScript guest: boa runs one agent script per instance. The only way out
//! is the host-call ABI in `guest_sdk::abi`; see that module for the protocol.
//!
//! Flow of `run`: evaluate the script, then drive its promise — run queued jobs;
//! while it is pending, block in `call_wait` for the next finished host call and
//! settle the matching JS promise. Host calls started together (`Promise.all`) run
//! concurrently on the host.

// FFI with the host needs raw pointers; every unsafe block is one copy or one call.
#![allow(unsafe_code)]

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use boa_engine::builtins::promise::{OperationType, Promise, PromiseState, ResolvingFunctions};
use boa_engine::context::HostHooks;
use boa_engine::job::{GenericJob, Job, JobExecutor, PromiseJob, SimpleJobExecutor};
use boa_engine::object::builtins::JsPromise;
use boa_engine::object::FunctionObjectBuilder;
use boa_engine::property::PropertyKey;
use boa_engine::value::JsVariant;
use boa_engine::vm::{CallFrame, SourcePath};
use boa_engine::ast::Position;
use boa_engine::{js_string, Context, JsError, JsNativeError, JsObject, JsResult, JsString, JsValue, NativeFunction, Script, Source};
use guest_sdk::abi::{self, ActionError, HostReply, RunInput, RunOutcome, ScriptError, ScriptErrorKind, ScriptPosition};
use serde_json::Value;

#[link(wasm_import_module = "pingone")]
extern "C" {
    fn call_start(ptr: *const u8, len: usize) -> u32;
    fn call_wait() -> u64;
    fn call_read(id: u32, ptr: *mut u8);
    fn log(level: u32, ptr: *const u8, len: usize);
}

thread_local! {
    static CONTEXT: RefCell<Option<Context>> = const { RefCell::new(None) };
    /// Promises waiting for a host call, by call id.
    static PENDING: RefCell<HashMap<u32, Pending>> = RefCell::new(HashMap::new());
    /// The last outcome, kept alive until the host has read it.
    static OUTCOME: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// How many characters the wrapper put before the script on its first line.
    static FIRST_LINE_SHIFT: Cell<usize> = const { Cell::new(0) };
    /// `JSON.stringify` as the engine made it, for arguments and the result (a script
    /// may replace the global one).
    static STRINGIFY: RefCell<JsValue> = RefCell::new(JsValue::undefined());
    /// The prelude's prototypes for a call's promise and for a list action's page.
    static CALL_PROTOTYPE: RefCell<Option<JsObject>> = const { RefCell::new(None) };
    static PAGE_PROTOTYPE: RefCell<Option<JsObject>> = const { RefCell::new(None) };
    /// Promises rejected while no handler was attached, in order, less those handled
    /// since (the engine's HostPromiseRejectionTracker): any left when the script
    /// ends is a failure nothing awaited.
    static UNHANDLED: RefCell<Vec<JsObject>> = const { RefCell::new(Vec::new()) };
}

/// Tracks rejections nothing handles, as Node does to report them.
struct RejectionTracker;

impl HostHooks for RejectionTracker {
    fn promise_rejection_tracker(&self, promise: &JsObject<Promise>, operation: OperationType, _context: &mut Context) {
        let promise = promise.clone().upcast();
        UNHANDLED.with(|unhandled| {
            let mut unhandled = unhandled.borrow_mut();
            match operation {
                OperationType::Reject => unhandled.push(promise),
                OperationType::Handle => unhandled.retain(|p| !JsObject::equals(p, &promise)),
            }
        });
    }
}

/// The name the script's source goes by in stack traces, to tell its frames from the
/// prelude's.
const SCRIPT_PATH: &str = "script.js";

/// A host call's promise, the `PingOneError` class to reject it with, and where in the
/// script the call was made.
struct Pending {
    resolvers: ResolvingFunctions,
    error_class: JsValue,
    site: Option<Position>,
}

/// A fresh context with the prelude; wizer runs this at build time so instances
/// start from the snapshot.
fn new_context() -> Context {
    // A panic aborts the instance; tell the host why first.
    std::panic::set_hook(Box::new(|info| {
        let text = info.to_string();
        // SAFETY: the host reads `text.len()` bytes at its pointer during the call.
        unsafe { log(abi::PANIC_LOG_LEVEL, text.as_ptr(), text.len()) };
    }));
    let mut context = Context::builder()
        .job_executor(Rc::new(ScriptJobs::default()))
        .host_hooks(Rc::new(RejectionTracker))
        .build()
        .expect("a context builds with our job queue");
    // Deep recursion ends the script with a RangeError, not the instance.
    context.runtime_limits_mut().set_recursion_limit(400);
    context
        .register_global_builtin_callable(js_string!("__pingone_call"), 3, NativeFunction::from_fn_ptr(start_host_call))
        .expect("a fresh context accepts globals");
    context
        .register_global_builtin_callable(js_string!("__pingone_action"), 2, NativeFunction::from_fn_ptr(bind_action))
        .expect("a fresh context accepts globals");
    context
        .register_global_builtin_callable(js_string!("__console"), 2, NativeFunction::from_fn_ptr(console))
        .expect("a fresh context accepts globals");
    context
        .register_global_builtin_callable(js_string!("__pingone_prototypes"), 2, NativeFunction::from_fn_ptr(set_prototypes))
        .expect("a fresh context accepts globals");
    context
        .register_global_builtin_callable(js_string!("__pingone_site"), 1, NativeFunction::from_fn_ptr(script_site))
        .expect("a fresh context accepts globals");
    context.eval(Source::from_bytes(guest_sdk::PRELUDE)).expect("the prelude is valid JavaScript");
    let stringify = context.intrinsics().objects().json().get(js_string!("stringify"), &mut context).expect("JSON.stringify is there");
    STRINGIFY.set(stringify);
    context
}

/// A job the script's own code queued: promise reactions, and generic jobs.
enum Queued {
    Promise(PromiseJob),
    Generic(GenericJob),
}

/// Runs the jobs a script queues, in order. boa's `SimpleJobExecutor` reads the clock
/// (a host call) and polls a future group on every pass, for timers and async jobs a
/// script here cannot create (there is no `setTimeout`); that was a measurable share
/// of every `await` on an action. Any such job still goes to a `SimpleJobExecutor`.
#[derive(Default)]
struct ScriptJobs {
    queue: RefCell<VecDeque<Queued>>,
    others: Rc<SimpleJobExecutor>,
    others_waiting: Cell<bool>,
}

impl JobExecutor for ScriptJobs {
    fn enqueue_job(self: Rc<Self>, job: Job, context: &mut Context) {
        match job {
            Job::PromiseJob(job) => self.queue.borrow_mut().push_back(Queued::Promise(job)),
            Job::GenericJob(job) => self.queue.borrow_mut().push_back(Queued::Generic(job)),
            other => {
                self.others_waiting.set(true);
                self.others.clone().enqueue_job(other, context);
            }
        }
    }

    fn run_jobs(self: Rc<Self>, context: &mut Context) -> JsResult<()> {
        loop {
            let next = self.queue.borrow_mut().pop_front();
            let result = match next {
                Some(Queued::Promise(job)) => job.call(context),
                Some(Queued::Generic(job)) => job.call(context),
                None if self.others_waiting.replace(false) => self.others.clone().run_jobs(context).map(|()| JsValue::undefined()),
                None => break,
            };
            if let Err(e) = result {
                self.queue.borrow_mut().clear();
                return Err(e);
            }
        }
        context.clear_kept_objects();
        Ok(())
    }
}

fn with_context<T>(f: impl FnOnce(&mut Context) -> T) -> T {
    CONTEXT.with(|cell| {
        let mut slot = cell.borrow_mut();
        f(slot.get_or_insert_with(new_context))
    })
}

#[export_name = "wizer-initialize"]
pub extern "C" fn wizer_initialize() {
    with_context(|_| ());
}

#[no_mangle]
pub extern "C" fn abi_version() -> u32 {
    abi::ABI_VERSION
}

/// Memory for the host to write the run input into. Leaked on purpose: an instance
/// runs one script and is then dropped whole.
#[no_mangle]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    let mut buffer = vec![0u8; len];
    let ptr = buffer.as_mut_ptr();
    std::mem::forget(buffer);
    ptr
}

#[no_mangle]
pub extern "C" fn run(ptr: *const u8, len: usize) -> u64 {
    // SAFETY: the host wrote `len` bytes at `ptr`, a buffer it got from `alloc`.
    let input = unsafe { std::slice::from_raw_parts(ptr, len) };
    let outcome = match serde_json::from_slice::<RunInput>(input) {
        Ok(input) => with_context(|context| run_script(context, &input)),
        Err(e) => RunOutcome::Error(error(ScriptErrorKind::Runtime, "Error", format!("bad run input from the host: {e}"))),
    };
    let bytes = serde_json::to_vec(&outcome).unwrap_or_else(|e| format!(r#"{{"error":{{"kind":"result","message":"{e}"}}}}"#).into_bytes());
    OUTCOME.with(|cell| {
        let mut out = cell.borrow_mut();
        *out = bytes;
        abi::pack(out.as_ptr() as u32, out.len() as u32)
    })
}

fn error(kind: ScriptErrorKind, name: &str, message: String) -> ScriptError {
    ScriptError { kind, name: name.to_owned(), message, action_error: None, at: None }
}

fn run_script(context: &mut Context, input: &RunInput) -> RunOutcome {
    let args = match JsValue::from_json(&input.args, context) {
        Ok(args) => args,
        Err(e) => return RunOutcome::Error(error(ScriptErrorKind::Runtime, "TypeError", format!("args: {e}"))),
    };
    let value = match start(context, &input.script, &args) {
        Ok(value) => value,
        Err(outcome) => return RunOutcome::Error(outcome),
    };
    match settle(context, value) {
        Ok(value) => {
            // A body, or the function a script is, that ran off its end, or a lone
            // statement such as `console.log(x)` (an explicit `return null` is null).
            if value.is_undefined() {
                let text = guest_sdk::abi::NO_RETURN;
                // SAFETY: the host reads `text.len()` bytes at its pointer during the call.
                unsafe { log(WARN_LEVEL, text.as_ptr(), text.len()) };
            }
            match to_result(context, &value) {
                RunOutcome::Ok(result) => unawaited_rejection(context).map_or(RunOutcome::Ok(result), RunOutcome::Error),
                failed => failed,
            }
        }
        Err(e) => RunOutcome::Error(e),
    }
}

/// The first rejection nothing awaited or caught, as the script's error, with how many
/// more there were. Jobs run first: a handler may be attached on the way out.
fn unawaited_rejection(context: &mut Context) -> Option<ScriptError> {
    context.run_jobs().ok()?;
    let unhandled = UNHANDLED.with(|u| std::mem::take(&mut *u.borrow_mut()));
    let reasons: Vec<JsValue> = unhandled.iter().filter_map(|p| match JsPromise::from_object(p.clone()).ok()?.state() {
        PromiseState::Rejected(reason) => Some(reason),
        _ => None,
    }).collect();
    let first = reasons.first()?;
    let mut e = rejected(context, first);
    e.kind = ScriptErrorKind::Unawaited;
    if reasons.len() > 1 {
        e.message.push_str(&format!(" (and {} more failures nothing awaited)", reasons.len() - 1));
    }
    Some(e)
}

/// The console level of `console.warn` (prelude.js).
const WARN_LEVEL: u32 = 2;

/// How deep a result is searched for promises left in it.
const PROMISE_SEARCH_DEPTH: usize = 32;

/// Awaits the promises a script left inside its result (`return ids.map(async …)`,
/// `return [pingone.get_user(…)]`): their calls were started anyway, and a promise
/// would reach JSON as `{}`. Says so on the console, and where, so the author learns
/// to await.
fn await_left_promises(context: &mut Context, value: &JsValue) -> Result<(), ScriptError> {
    const NAMED: usize = 5;
    let mut awaited = Vec::new();
    await_promises_in(context, value, "$", 0, &mut awaited)?;
    if !awaited.is_empty() {
        let more = awaited.len().saturating_sub(NAMED);
        let and_more = if more > 0 { format!(" and {more} more") } else { String::new() };
        let text = format!(
            "the result held {} promise(s), at {}{and_more}, awaited before it was returned; `await` them yourself (for a list, `await Promise.all(list)`) so failures stop the script where they happen",
            awaited.len(),
            awaited[..awaited.len().min(NAMED)].join(", ")
        );
        // SAFETY: the host reads `text.len()` bytes at its pointer during the call.
        unsafe { log(abi::LogLevel::Warn as u32, text.as_ptr(), text.len()) };
    }
    Ok(())
}

fn await_promises_in(context: &mut Context, value: &JsValue, path: &str, depth: usize, awaited: &mut Vec<String>) -> Result<(), ScriptError> {
    let Some(object) = value.as_object() else { return Ok(()) };
    if depth >= PROMISE_SEARCH_DEPTH || object.is_callable() || value.as_promise().is_some() {
        return Ok(());
    }
    let keys = object.own_property_keys(context).map_err(|e| thrown(context, &e))?;
    for key in keys {
        let item_path = match &key {
            PropertyKey::Index(index) => format!("{path}[{}]", index.get()),
            PropertyKey::String(name) => format!("{path}.{}", name.to_std_string_escaped()),
            PropertyKey::Symbol(_) => continue,
        };
        let Some(property) = object.borrow().properties().get(&key) else { continue };
        let Some(item) = property.value().cloned() else { continue }; // getters are left to JSON
        let item = if item.as_promise().is_some() {
            let settled = settle(context, item)?;
            awaited.push(item_path.clone());
            object.set(key, settled.clone(), true, context).map_err(|e| thrown(context, &e))?;
            settled
        } else {
            item
        };
        await_promises_in(context, &item, &item_path, depth + 1, awaited)?;
    }
    Ok(())
}

/// Whether a JSON value holds an empty object anywhere, which is what a promise becomes.
fn has_empty_object(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.is_empty() || map.values().any(has_empty_object),
        Value::Array(items) => items.iter().any(has_empty_object),
        _ => false,
    }
}

/// Evaluates the script. An expression (typically `async (args) => {…}`) is used as
/// is, and called with `args` when it is a function; anything else is treated as
/// the body of an async function, so top-level `await` and `return` work.
/// Put before a script used as a function body (on its first line, so line numbers
/// hold). The inner block lets a script declare its own `const args`.
const BODY_PREFIX: &str = "(async function (args) { { ";

fn start(context: &mut Context, script: &str, args: &JsValue) -> Result<JsValue, ScriptError> {
    let as_expression = format!("({script}\n)");
    let source = |text| Source::from_bytes(text).with_path(std::path::Path::new(SCRIPT_PATH));
    let parsed = match Script::parse(source(&as_expression), None, context) {
        Ok(parsed) => {
            FIRST_LINE_SHIFT.set(1);
            parsed
        }
        Err(_) => {
            // Same line numbers as the original: the wrapper adds no line before it.
            let as_body = format!("{BODY_PREFIX}{script}\n}} }})");
            FIRST_LINE_SHIFT.set(BODY_PREFIX.len());
            Script::parse(source(&as_body), None, context).map_err(|e| syntax_error(context, &e, script))?
        }
    };
    let value = parsed.evaluate(context).map_err(|e| thrown(context, &e))?;
    match value.as_callable() {
        Some(function) => function.call(&JsValue::undefined(), std::slice::from_ref(args), context).map_err(|e| thrown(context, &e)),
        None => Ok(value),
    }
}

/// Runs jobs and host calls until the script's value is no longer a pending promise.
fn settle(context: &mut Context, value: JsValue) -> Result<JsValue, ScriptError> {
    let Some(promise) = value.as_promise() else {
        context.run_jobs().map_err(|e| thrown(context, &e))?;
        return Ok(value);
    };
    loop {
        context.run_jobs().map_err(|e| thrown(context, &e))?;
        match promise.state() {
            PromiseState::Fulfilled(value) => return Ok(value),
            PromiseState::Rejected(reason) => return Err(rejected(context, &reason)),
            PromiseState::Pending => {}
        }
        if PENDING.with(|p| p.borrow().is_empty()) {
            return Err(error(
                ScriptErrorKind::Deadlock,
                "Error",
                // boa drops an error it cannot turn into a value (the recursion limit)
                // when it ends code resumed after an `await`: this is what is left of it.
                "the script stopped with its promise unsettled and no PingOne call in flight: either it awaits a promise that is never resolved, or code after an `await` recursed too deeply (the engine cannot report that error there); make sure every promise you await is resolved, and that recursion ends".into(),
            ));
        }
        deliver_next_reply(context).map_err(|e| thrown(context, &e))?;
    }
}

/// Blocks until the host finishes one call, then settles its promise: fulfilled with
/// the action's value, or rejected with a `PingOneError`.
fn deliver_next_reply(context: &mut Context) -> JsResult<()> {
    // SAFETY: plain host calls; the host writes exactly `len` bytes into our buffer.
    let (id, len) = abi::unpack(unsafe { call_wait() });
    let mut reply = vec![0u8; len as usize];
    unsafe { call_read(id, reply.as_mut_ptr()) };
    let Some(pending) = PENDING.with(|p| p.borrow_mut().remove(&id)) else {
        return Ok(());
    };
    let reply = serde_json::from_slice::<HostReply>(&reply).unwrap_or_else(|e| {
        HostReply::Error(ActionError { code: "BAD_REPLY".into(), message: format!("the host sent a reply that is not valid: {e}"), ..Default::default() })
    });
    match reply {
        HostReply::Value(value) => {
            let page = value.get("items").is_some_and(Value::is_array);
            let value = JsValue::from_json(&value, context)?;
            if let (true, Some(object)) = (page, value.as_object()) {
                object.set_prototype(PAGE_PROTOTYPE.with_borrow(Clone::clone));
            }
            pending.resolvers.resolve.call(&JsValue::undefined(), &[value], context)?;
        }
        HostReply::Error(error) => {
            let fields = serde_json::to_value(&error).unwrap_or_default();
            let fields = JsValue::from_json(&fields, context)?;
            let class = pending.error_class.as_constructor().ok_or_else(|| JsNativeError::typ().with_message("PingOneError is not a class"))?;
            let error = class.construct(&[fields], None, context)?;
            // Made here, the error's own stack holds no frame of the script: name the call.
            if let Some(site) = pending.site {
                let action = error.get(js_string!("action"), context)?.to_string(context)?.to_std_string_escaped();
                error.set(js_string!("stack"), js_string!(frame_at(&action, site)), false, context)?;
            }
            pending.resolvers.reject.call(&JsValue::undefined(), &[error.into()], context)?;
        }
    }
    Ok(())
}

/// `__pingone_prototypes(callPrototype, pagePrototype)`: the prototypes for calls'
/// promises and list actions' pages (set once, by the prelude).
fn set_prototypes(_this: &JsValue, args: &[JsValue], _context: &mut Context) -> JsResult<JsValue> {
    CALL_PROTOTYPE.set(args.first().and_then(JsValue::as_object));
    PAGE_PROTOTYPE.set(args.get(1).and_then(JsValue::as_object));
    Ok(JsValue::undefined())
}

/// `__pingone_call(action, argsJson, PingOneError)`: starts a host call, returns its
/// promise. `argsJson` is `JSON.stringify`'s output, so it goes to the host as is.
fn start_host_call(_this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let action = args.first().cloned().unwrap_or_default().to_string(context)?.to_std_string_escaped();
    let json = args.get(1).cloned().unwrap_or_default().to_string(context)?.to_std_string_escaped();
    let error_class = args.get(2).cloned().unwrap_or_default();
    Ok(start_call(&call_prefix(&action), &json, error_class, context))
}

/// `{"action":"NAME","args":` — a call's JSON up to its arguments.
fn call_prefix(action: &str) -> String {
    let mut prefix = String::from(r#"{"action":"#);
    prefix.push_str(&serde_json::to_string(action).unwrap_or_default());
    prefix.push_str(r#","args":"#);
    prefix
}

/// Sends one call to the host; the promise its reply settles, with the prelude's call
/// prototype (which stops a script reading the promise as if it were the result).
fn start_call(prefix: &str, args_json: &str, error_class: JsValue, context: &mut Context) -> JsValue {
    let site = call_site(context);
    let mut call = String::with_capacity(prefix.len() + args_json.len() + 40);
    call.push_str(prefix);
    call.push_str(args_json);
    // Where it was made, for naming its line should the script never await it.
    if let Some(at) = site.and_then(|site| agent_position(site.line_number(), site.column_number())) {
        call.push_str(&format!(r#","at":{{"line":{},"column":{}}}"#, at.line, at.column));
    }
    call.push('}');
    // SAFETY: the host reads `call.len()` bytes at its pointer during the call.
    let id = unsafe { call_start(call.as_ptr(), call.len()) };
    let (promise, resolvers) = JsPromise::new_pending(context);
    if let Some(prototype) = CALL_PROTOTYPE.with_borrow(Clone::clone) {
        promise.set_prototype(Some(prototype));
    }
    PENDING.with(|p| p.borrow_mut().insert(id, Pending { resolvers, error_class, site }));
    promise.into()
}

/// Where the script is as it makes a call: the line and column of its innermost frame.
fn call_site(context: &Context) -> Option<Position> {
    context
        .stack_trace()
        .map(CallFrame::position)
        .find(|frame| matches!(&frame.path, SourcePath::Path(path) if path.as_os_str() == SCRIPT_PATH))
        .and_then(|frame| frame.position)
}

/// `__pingone_site(name)`: where the script is now, as a stack frame naming `name`
/// (`    at name (script.js:3:9)`), or undefined outside the script's code. A helper
/// whose calls run later, away from the script's frames (`pingone.iterate`'s pages),
/// takes it when the script calls it, to name that line in its errors.
fn script_site(_this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let name = args.first().cloned().unwrap_or_default().to_string(context)?.to_std_string_escaped();
    Ok(call_site(context).map_or_else(JsValue::undefined, |site| js_string!(frame_at(&name, site)).into()))
}

/// A stack frame in the script, as `script_position` reads it back.
fn frame_at(name: &str, site: Position) -> String {
    format!("    at {name} ({SCRIPT_PATH}:{}:{})\n", site.line_number(), site.column_number())
}

/// What a `pingone.<action>` function keeps: the action's name, its call prefix and the
/// `PingOneError` class.
type ActionCaptures = (String, String, JsValue);

/// `__pingone_action(name, PingOneError)`: the native function behind
/// `pingone.<name>`. Calling it costs no JavaScript frame, and plain arguments are
/// turned into JSON natively; anything else goes through `JSON.stringify`.
fn bind_action(_this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let name = args.first().cloned().unwrap_or_default().to_string(context)?.to_std_string_escaped();
    let error_class = args.get(1).cloned().unwrap_or_default();
    let captures: ActionCaptures = (name.clone(), call_prefix(&name), error_class);
    let function = FunctionObjectBuilder::new(context.realm(), NativeFunction::from_copy_closure_with_captures(call_action, captures))
        .name(JsString::from(name.as_str()))
        .length(1)
        .build();
    Ok(function.into())
}

fn call_action(_this: &JsValue, args: &[JsValue], captures: &ActionCaptures, context: &mut Context) -> JsResult<JsValue> {
    let (name, prefix, error_class) = captures;
    let arg = args.first().cloned().unwrap_or_default();
    match args_json(name, &arg, context) {
        Ok(json) => Ok(start_call(prefix, &json, error_class.clone(), context)),
        // A bad argument rejects the call's promise, as a failed call would, and names
        // the script's line as a failed call does (made natively, the error has none).
        Err(e) => {
            let error = e.into_opaque(context)?;
            if let (Some(object), Some(site)) = (error.as_object(), call_site(context)) {
                object.set(js_string!("stack"), js_string!(frame_at(name, site)), false, context)?;
            }
            Ok(JsPromise::reject(JsError::from_opaque(error), context)?.into())
        }
    }
}

/// The arguments as JSON, as `JSON.stringify` would write them.
fn args_json(action: &str, arg: &JsValue, context: &mut Context) -> JsResult<String> {
    if arg.is_undefined() {
        return Ok("{}".into());
    }
    let got = match arg.as_object() {
        Some(object) if object.is_array() => Some("an array"),
        Some(object) if object.is_callable() => Some("function"),
        Some(_) => None,
        None if arg.is_null() => Some("null"),
        None => Some(arg.type_of()),
    };
    if let Some(got) = got {
        let message = format!("pingone.{action}(args): args must be an object such as {{ userId: \"...\" }}, got {got}");
        return Err(JsNativeError::typ().with_message(message).into());
    }
    let mut out = String::new();
    if write_plain_json(arg, &mut out, 0, context)? {
        return Ok(out);
    }
    Ok(stringify(arg, context)?.to_string(context)?.to_std_string_escaped())
}

/// Deeper than this, arguments go through `JSON.stringify` (which also finds cycles).
const PLAIN_DEPTH: usize = 32;

/// Writes `value` as JSON when it is plain data (primitives, arrays, objects made by
/// literals, data properties only); `false`, with `out` to be discarded, otherwise.
fn write_plain_json(value: &JsValue, out: &mut String, depth: usize, context: &mut Context) -> JsResult<bool> {
    match value.variant() {
        JsVariant::Null => out.push_str("null"),
        JsVariant::Boolean(b) => out.push_str(if b { "true" } else { "false" }),
        JsVariant::Integer32(n) => out.push_str(&n.to_string()),
        // JSON.stringify writes NaN and the infinities as null.
        JsVariant::Float64(n) if !n.is_finite() => out.push_str("null"),
        // Whole numbers below 1e21 in digits, as JSON.stringify writes them (and -0 as
        // 0), so the host sees `5` for `10 / 2`, not `5.0`.
        JsVariant::Float64(n) if n.fract() == 0.0 && n.abs() < 1e21 => out.push_str(&(n as i128).to_string()),
        JsVariant::Float64(n) => out.push_str(&serde_json::Number::from_f64(n).map(|n| n.to_string()).unwrap_or_else(|| "null".into())),
        JsVariant::String(s) => match s.to_std_string() {
            Ok(text) => out.push_str(&serde_json::to_string(&text).unwrap_or_default()),
            Err(_) => return Ok(false), // lone surrogates: JSON.stringify escapes them
        },
        JsVariant::Object(object) if depth < PLAIN_DEPTH => return write_plain_object(&object, out, depth, context),
        _ => return Ok(false),
    }
    Ok(true)
}

fn write_plain_object(object: &JsObject, out: &mut String, depth: usize, context: &mut Context) -> JsResult<bool> {
    if object.is_array() {
        let length = object.get(js_string!("length"), context)?.to_length(context)?;
        out.push('[');
        for index in 0..length {
            if index > 0 {
                out.push(',');
            }
            let item = object.get(index, context)?;
            if item.is_undefined() {
                out.push_str("null");
            } else if !write_plain_json(&item, out, depth + 1, context)? {
                return Ok(false);
            }
        }
        out.push(']');
        return Ok(true);
    }
    // Only objects made by literals: a class instance, Date, Map or proxy may have
    // toJSON or getters, which JSON.stringify honours.
    let object_prototype = context.intrinsics().constructors().object().prototype();
    if !object.is_ordinary() || object.is_callable() || object.prototype().is_some_and(|p| p != object_prototype) {
        return Ok(false);
    }
    out.push('{');
    let mut first = true;
    for key in object.own_property_keys(context)? {
        let name = match &key {
            PropertyKey::String(name) => name.to_std_string_escaped(),
            PropertyKey::Index(index) => index.get().to_string(),
            PropertyKey::Symbol(_) => continue,
        };
        if name == "toJSON" {
            return Ok(false);
        }
        let Some(property) = object.borrow().properties().get(&key) else { continue };
        if property.enumerable() != Some(true) {
            continue;
        }
        let Some(value) = property.value().cloned() else { return Ok(false) }; // a getter
        if value.is_undefined() || value.is_symbol() || value.is_callable() {
            continue; // JSON.stringify leaves these properties out
        }
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(&serde_json::to_string(&name).unwrap_or_default());
        out.push(':');
        if !write_plain_json(&value, out, depth + 1, context)? {
            return Ok(false);
        }
    }
    out.push('}');
    Ok(true)
}

/// `__console(level, text)`.
fn console(_this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let level = args.first().cloned().unwrap_or_default().to_u32(context)?;
    let text = args.get(1).cloned().unwrap_or_default().to_string(context)?.to_std_string_escaped();
    // SAFETY: the host reads `text.len()` bytes at its pointer during the call.
    unsafe { log(level, text.as_ptr(), text.len()) };
    Ok(JsValue::undefined())
}

fn to_result(context: &mut Context, value: &JsValue) -> RunOutcome {
    if value.is_callable() {
        return RunOutcome::Error(error(
            ScriptErrorKind::Result,
            "TypeError",
            "the script returned a function; if it is `async (args) => {...}`, it was called already, so return data instead".into(),
        ));
    }
    let json = match as_json(context, value) {
        Ok(json) if has_empty_object(&json) => match await_left_promises(context, value) {
            Ok(()) => as_json(context, value),
            Err(e) => return RunOutcome::Error(e),
        },
        other => other,
    };
    match json {
        Ok(json) => RunOutcome::Ok(json),
        Err(e) => RunOutcome::Error(error(
            ScriptErrorKind::Result,
            "TypeError",
            format!("the script's result cannot be sent back as JSON ({}); return plain objects, arrays, strings, numbers and booleans", message_of(context, &e)),
        )),
    }
}

/// The result as `JSON.stringify` writes it, read back: `toJSON` honoured (a Date is
/// its ISO text), functions and `undefined` left out, whole numbers in digits.
fn as_json(context: &mut Context, value: &JsValue) -> JsResult<Value> {
    let text = stringify(value, context)?;
    if text.is_undefined() {
        return Ok(Value::Null);
    }
    match serde_json::from_str(&text.to_string(context)?.to_std_string_escaped()) {
        Ok(json) => Ok(json),
        // A lone surrogate, which JSON.stringify escapes and serde_json refuses.
        Err(_) => Ok(value.to_json(context)?.map_or(Value::Null, whole_numbers_in_digits)),
    }
}

/// `JSON.stringify(value)`, the engine's own.
fn stringify(value: &JsValue, context: &mut Context) -> JsResult<JsValue> {
    let stringify = STRINGIFY.with_borrow(JsValue::clone);
    let stringify = stringify.as_callable().ok_or_else(|| JsNativeError::typ().with_message("JSON.stringify is not a function"))?;
    stringify.call(&JsValue::undefined(), std::slice::from_ref(value), context)
}

/// Whole numbers as JSON.stringify writes them, in digits (`5` for `10 / 2`, not `5.0`;
/// -0 as 0), where an integer holds them exactly.
fn whole_numbers_in_digits(mut value: Value) -> Value {
    fn visit(value: &mut Value) {
        match value {
            Value::Number(number) => {
                // i64::MAX as f64 is 2^63, so the comparison is exact.
                if let Some(n) = number.as_f64().filter(|n| number.is_f64() && n.fract() == 0.0 && n.abs() < i64::MAX as f64) {
                    *number = (n as i64).into();
                }
            }
            Value::Array(items) => items.iter_mut().for_each(visit),
            Value::Object(map) => map.values_mut().for_each(visit),
            _ => {}
        }
    }
    visit(&mut value);
    value
}

fn syntax_error(context: &mut Context, e: &JsError, script: &str) -> ScriptError {
    let mut message = unshift_first_line(&message_of(context, e), BODY_PREFIX.len());
    if looks_like_typescript(script) {
        message.push_str(". This looks like TypeScript: send plain JavaScript (no type annotations, interfaces or `as` casts)");
    } else if script.contains("import ") || script.contains("export ") {
        message.push_str(". Modules are not available: there is nothing to import; use the global `pingone` object");
    }
    error(ScriptErrorKind::Syntax, "SyntaxError", message)
}

fn looks_like_typescript(script: &str) -> bool {
    const MARKERS: [&str; 10] = [": string", ": number", ": boolean", ": any", "interface ", " as const", " as any", "): Promise<", "type ", "<T>"];
    MARKERS.iter().any(|m| script.contains(m))
}

fn thrown(context: &mut Context, e: &JsError) -> ScriptError {
    // Runtime limits (recursion, loop iterations) cannot become JS values.
    match e.clone().into_opaque(context) {
        Ok(value) => rejected(context, &value),
        // The engine's own words, without the stack its display adds.
        Err(_) => {
            let limit = e.as_engine().map_or_else(|| "a runtime limit was reached".to_owned(), ToString::to_string);
            error(ScriptErrorKind::Runtime, "RangeError", format!("{limit}{}", abi::RECURSED_TOO_DEEPLY))
        }
    }
}

/// How much of a thrown value that is not an Error the message shows.
const THROWN_SHOWN: usize = 300;

/// A thrown value or rejection reason, as a script error; a `PingOneError` keeps
/// its action, status, code, details and transaction id.
fn rejected(context: &mut Context, reason: &JsValue) -> ScriptError {
    let Some(object) = reason.as_object() else {
        let text = reason.to_string(context).map(|s| s.to_std_string_escaped()).unwrap_or_default();
        return error(ScriptErrorKind::Runtime, "Error", format!("the script threw {text}"));
    };
    let said = |key: &str, context: &mut Context| object.get(js_string!(key), context).is_ok_and(|v| !v.is_undefined());
    if !said("name", context) && !said("message", context) {
        // `throw { code: 1 }`: show what was thrown.
        let shown = reason.to_json(context).ok().flatten().map_or_else(|| reason.display().to_string(), |json| json.to_string());
        let shown: String = if shown.chars().count() > THROWN_SHOWN { shown.chars().take(THROWN_SHOWN).chain("…".chars()).collect() } else { shown };
        return error(ScriptErrorKind::Runtime, "Error", format!("the script threw {shown}, which is not an Error; throw new Error('what went wrong') to say why"));
    }
    let mut get = |key: &str| object.get(js_string!(key), context).ok().filter(|v| !v.is_undefined());
    let text = |v: JsValue| v.as_string().map(|s| s.to_std_string_escaped()).unwrap_or_else(|| v.display().to_string());
    let name = get("name").map(text).unwrap_or_else(|| "Error".into());
    let message = get("message").map(text).unwrap_or_default();
    let at = get("stack").and_then(|stack| stack.as_string().and_then(|s| script_position(&s.to_std_string_escaped())));
    let action_error = if name == "PingOneError" {
        let action = get("action").map(text).unwrap_or_default();
        let status = get("status").and_then(|v| v.as_number()).map(|n| n as u16);
        let code = get("code").map(text).unwrap_or_default();
        // What PingOne's logs know the request by: for a write left uncaught, what to check.
        let transaction_id = get("transactionId").filter(|v| !v.is_null()).map(text);
        let details = get("details");
        let details = details.and_then(|v| v.to_json(context).ok().flatten()).and_then(|v| v.as_array().cloned()).unwrap_or_default();
        Some(ActionError { action, status, code, message: message.clone(), details, transaction_id, ..Default::default() })
    } else {
        None
    };
    ScriptError { kind: ScriptErrorKind::Runtime, name, message, action_error, at }
}

/// Where in the script an error arose: the innermost frame of the script's own code
/// in a stack trace (`    at f (script.js:3:9)`), its first line's column put back
/// where the script has it.
fn script_position(stack: &str) -> Option<ScriptPosition> {
    let marker = format!("({SCRIPT_PATH}:");
    stack.lines().find_map(|frame| {
        let at = frame.find(&marker)? + marker.len();
        let (line, column) = frame[at..].trim_end_matches(')').split_once(':')?;
        agent_position(line.parse::<u32>().ok()?, column.parse::<u32>().ok()?)
    })
}

/// A position in the script as run, in the agent's script: the first line is shifted
/// by the wrapper put before it.
fn agent_position(line: u32, column: u32) -> Option<ScriptPosition> {
    let shift = u32::try_from(FIRST_LINE_SHIFT.get()).unwrap_or(0);
    // For some errors (a call of something undefined, a misspelt name) boa knows only
    // the function the error is in, and gives where it starts: at the top of the
    // script that is the wrapper, or the script's first character. No place is better
    // than a false one.
    if line == 1 && column <= shift + 1 {
        return None;
    }
    let column = if line == 1 { column - shift } else { column };
    Some(ScriptPosition { line, column })
}

fn message_of(context: &mut Context, e: &JsError) -> String {
    match e.try_native(context) {
        Ok(native) => native.message().to_string(),
        Err(_) => e.to_string(),
    }
}

/// Positions on the first line are shifted by the wrapper put before the script.
fn unshift_first_line(message: &str, shift: usize) -> String {
    const MARK: &str = "at line 1, col ";
    let Some(at) = message.find(MARK) else { return message.to_owned() };
    let start = at + MARK.len();
    let digits: String = message[start..].chars().take_while(char::is_ascii_digit).collect();
    match digits.parse::<usize>() {
        Ok(col) if col > shift => format!("{}{}{}", &message[..start], col - shift, &message[start + digits.len()..]),
        _ => message.to_owned(),
    }
}
