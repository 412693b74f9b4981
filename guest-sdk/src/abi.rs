//! The host-call ABI: every value crosses as UTF-8 JSON in the guest's memory.
//!
//! Guest exports: `alloc(len) -> ptr`, `run(ptr, len) -> u64` (the input is a
//! [`RunInput`]; the result packs the pointer and length of a [`RunOutcome`] as
//! `ptr << 32 | len`), `abi_version() -> u32`.
//!
//! Host imports (module [`IMPORT_MODULE`]):
//! - `call_start(ptr, len) -> u32`: start the [`HostCall`] at ptr/len; returns its id.
//!   The host runs it concurrently with other started calls.
//! - `call_wait() -> u64`: wait until any started call completes; returns
//!   `id << 32 | len` of its [`HostReply`].
//! - `call_read(id, ptr)`: copy that reply (len bytes) to ptr.
//! - `log(level, ptr, len)`: one console line ([`LogLevel`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const ABI_VERSION: u32 = 1;
pub const IMPORT_MODULE: &str = "pingone";

/// Pseudo-actions the prelude uses for `pingone.search` and `pingone.describe`.
pub const SEARCH_ACTION: &str = "__search";
pub const DESCRIBE_ACTION: &str = "__describe";
/// What is left of the script's limits, answered by the sandbox itself (not an
/// action call, and not counted as one).
pub const BUDGET_ACTION: &str = "__budget";

/// Said (a warning line) when a script gives back undefined (null in JSON): a script
/// of statements, or the function a script is, that ends without `return` gives back
/// that, not its last line's value, which an agent would otherwise take null for.
pub const NO_RETURN: &str = "the script gave back nothing (undefined, shown as null): either it has no `return` (a script of statements, or the function a script is, gives back only what `return` gives, not its last line's value: end it with `return <value>`), or what it returned was undefined (a field the record does not have, such as `user.emial`, or a function that returns nothing)";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInput {
    /// JavaScript source: a function body (top-level `await` and `return` allowed), or
    /// an expression such as an async arrow function, which is called with `args`.
    pub script: String,
    /// Passed to the script as `args`.
    #[serde(default)]
    pub args: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HostCall {
    pub action: String,
    #[serde(default)]
    pub args: Value,
}

/// A call as a script starts it: a [`HostCall`]'s fields, and where in the script it
/// was made (for naming the line of a call the script never awaited). Its own fields,
/// not a flattened `HostCall`, so the arguments are parsed once, not buffered first.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StartedCall {
    pub action: String,
    #[serde(default)]
    pub args: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<ScriptPosition>,
}

impl StartedCall {
    /// The call, and where it was made.
    pub fn into_parts(self) -> (HostCall, Option<ScriptPosition>) {
        (HostCall { action: self.action, args: self.args }, self.at)
    }
}

/// The answer to one host call: `{"value": …}` or `{"error": {…}}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum HostReply {
    Value(Value),
    Error(ActionError),
}

/// A failed action, as the script sees it (`PingOneError`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ActionError {
    pub action: String,
    /// The HTTP status when PingOne answered.
    #[serde(default)]
    pub status: Option<u16>,
    /// PingOne's code (NOT_FOUND, INVALID_DATA, …) or ours (INVALID_ARGUMENTS,
    /// UNKNOWN_ACTION, OUTCOME_UNKNOWN, …).
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub details: Vec<Value>,
    /// The id PingOne's logs know the request by, when one was sent: what to look up a
    /// write that may have been applied by (review 45: it was only in the message).
    #[serde(default, rename = "transactionId", skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// The host's record of which of these texts it wrote itself (refusals, argument
    /// errors, guidance), so the defender scans only the outside values they quote.
    /// Never sent to the script, which could otherwise vouch for its own texts.
    #[serde(skip)]
    pub own_texts: Vec<OwnText>,
}

impl ActionError {
    /// What `String(error)` gives in the script (`PingOneError.toString` in
    /// prelude.js; tests/sandbox.rs holds the two to one form): `PingOneError:`, the
    /// message, and in parentheses the details it does not say already.
    pub fn script_text(&self) -> String {
        let added: Vec<String> = self
            .added_details()
            .map(|(target, message)| match target {
                Some(target) => format!("{target}: {message}"),
                None => message.to_owned(),
            })
            .collect();
        let mut text = format!("PingOneError: {}", self.message);
        if !added.is_empty() {
            text = format!("{text} ({})", added.join("; "));
        }
        text
    }

    /// The details `script_text` adds (those whose message the error's does not hold),
    /// each as its target and message.
    pub fn added_details(&self) -> impl Iterator<Item = (Option<&str>, &str)> {
        self.details.iter().filter_map(|d| {
            let message = d.get("message")?.as_str().filter(|m| !self.message.contains(m))?;
            Some((d.get("target").and_then(Value::as_str).filter(|t| !t.is_empty()), message))
        })
    }
}

/// A text the host wrote, and the outside values in it (the script's arguments, what
/// PingOne answered), which may have come from a record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OwnText {
    pub text: String,
    pub quoted: Vec<String>,
}

/// How a script ended.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum RunOutcome {
    Ok(Value),
    Error(ScriptError),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScriptError {
    pub kind: ScriptErrorKind,
    /// e.g. TypeError, PingOneError.
    #[serde(default)]
    pub name: String,
    pub message: String,
    /// Set when an action failed and the script did not catch it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_error: Option<ActionError>,
    /// Where in the script a runtime error arose, when the engine knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<ScriptPosition>,
}

/// A place in the agent's script, both counted from 1.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct ScriptPosition {
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ScriptErrorKind {
    /// The script does not parse.
    Syntax,
    /// It threw (or its promise rejected).
    Runtime,
    /// It returned something JSON cannot carry (a function, a cycle, a BigInt).
    Result,
    /// It awaited something that can never settle.
    Deadlock,
    /// It ended well, but a promise it never awaited was rejected (a call's failure,
    /// or an async function that threw): what it returned rests on something that
    /// did not happen.
    Unawaited,
}

/// How the guest ends the message of the engine's recursion limit (a RangeError the
/// script cannot catch): the host reports it as the stack limit.
pub const RECURSED_TOO_DEEPLY: &str = ": the script recursed too deeply";

/// The `log` level the guest's panic hook uses, just before the instance aborts.
pub const PANIC_LOG_LEVEL: u32 = 99;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Log = 0,
    Info = 1,
    Warn = 2,
    Error = 3,
    Debug = 4,
}

impl LogLevel {
    /// The console method's name: log, info, warn, error, debug.
    pub fn name(self) -> &'static str {
        match self {
            Self::Log => "log",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
            Self::Debug => "debug",
        }
    }

    pub fn from_u32(level: u32) -> Self {
        match level {
            1 => Self::Info,
            2 => Self::Warn,
            3 => Self::Error,
            4 => Self::Debug,
            _ => Self::Log,
        }
    }
}

/// `hi << 32 | lo`, how two u32 cross in one wasm i64.
pub fn pack(hi: u32, lo: u32) -> u64 {
    (u64::from(hi) << 32) | u64::from(lo)
}

pub fn unpack(packed: u64) -> (u32, u32) {
    ((packed >> 32) as u32, packed as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shapes_are_stable() {
        let reply = HostReply::Value(serde_json::json!({"id": 1}));
        assert_eq!(serde_json::to_string(&reply).unwrap(), r#"{"value":{"id":1}}"#);
        let outcome = RunOutcome::Error(ScriptError { kind: ScriptErrorKind::Syntax, name: "SyntaxError".into(), message: "x".into(), action_error: None, at: None });
        assert_eq!(serde_json::to_string(&outcome).unwrap(), r#"{"error":{"kind":"syntax","name":"SyntaxError","message":"x"}}"#);
        assert_eq!(unpack(pack(7, 42)), (7, 42));
    }
}
