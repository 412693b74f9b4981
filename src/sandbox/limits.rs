//! What one script may use, and the error when it uses more.

use std::fmt;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// From start to result, including time spent waiting on PingOne.
    pub wall_time: Duration,
    /// Compute, in fuel: about one unit per WebAssembly instruction the JavaScript
    /// engine executes ([`FUEL_PER_SECOND`] is a rough guide).
    pub fuel: u64,
    /// The guest's linear memory.
    pub memory_bytes: usize,
    /// Action calls per script.
    pub host_calls: u32,
    /// Action calls in flight at once.
    pub concurrency: usize,
    /// The script's JSON result.
    pub result_bytes: usize,
    /// The console kept together (its first and last lines; a script logging more goes on).
    pub log_bytes: usize,
    /// The arguments of all action calls together (they wait in host memory).
    pub argument_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            wall_time: Duration::from_secs(30),
            fuel: 10 * FUEL_PER_SECOND,
            memory_bytes: 64 << 20,
            host_calls: 1000,
            concurrency: 8,
            result_bytes: 1 << 20,
            log_bytes: 64 << 10,
            argument_bytes: 16 << 20,
        }
    }
}

impl Limits {
    /// These limits with room for a result of up to `bytes`: the engine holds a long
    /// string in two bytes a character, and returning it copies it a few times, so a
    /// script allowed a large result gets the memory to build and return it.
    pub fn with_result_bytes(self, bytes: usize) -> Self {
        let memory_bytes = self.memory_bytes.max(RESULT_MEMORY_FACTOR * bytes);
        Self { result_bytes: bytes, memory_bytes, ..self }
    }
}

/// Memory a script needs per byte of its result, beside everything else it holds.
const RESULT_MEMORY_FACTOR: usize = 24;

/// Fuel one core burns in a second of JavaScript, roughly: measured here at 2.5–4
/// billion per second (a tight loop, object building, JSON) on the 2-core CI machine.
pub const FUEL_PER_SECOND: u64 = 3_000_000_000;

/// Which limit ended a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    WallTime,
    Compute,
    Memory,
    HostCalls,
    ResultSize,
    ArgumentSize,
    Depth,
    Stack,
}

impl Limit {
    /// A stable code for programs that read the failure (`run --json`, an MCP reply's
    /// structured content).
    pub fn code(self) -> &'static str {
        match self {
            Limit::WallTime => "LIMIT_WALL_TIME",
            Limit::Compute => "LIMIT_COMPUTE",
            Limit::Memory => "LIMIT_MEMORY",
            Limit::HostCalls => "LIMIT_CALLS",
            Limit::ResultSize => "LIMIT_RESULT_SIZE",
            Limit::ArgumentSize => "LIMIT_ARGUMENT_SIZE",
            Limit::Depth => "LIMIT_DEPTH",
            Limit::Stack => "LIMIT_STACK",
        }
    }

    /// The limit's name, its value, and what to do about it.
    pub fn explain(self, limits: &Limits) -> String {
        match self {
            Limit::WallTime => format!("wall-time limit of {:?} reached: narrow the lists you fetch, or do a batch per script and return what was done and what is left", limits.wall_time),
            // No time is given: how fast fuel burns differs by CPU (about twice as fast on
            // one with AVX-512 as on the machine FUEL_PER_SECOND was measured on).
            Limit::Compute => format!(
                "compute limit of {} million instructions reached: the script computes too long (an endless loop? a long text built with += is costly here: push the lines to an array and join them once)",
                limits.fuel / 1_000_000
            ),
            Limit::Memory => format!("memory limit of {} MiB reached: keep less in memory (filter lists as you page through them, return summaries)", limits.memory_bytes >> 20),
            Limit::HostCalls => format!("action-call limit of {} calls per script reached: use list filters instead of one call per item where one can, or do a batch per script and return what was done and what is left", limits.host_calls),
            Limit::ResultSize => format!("result-size limit of {} KiB exceeded: return fewer records or fewer fields (or counts)", limits.result_bytes >> 10),
            Limit::ArgumentSize => format!("action-argument limit of {} per script exceeded: send smaller values, or fewer calls per script", size_text(limits.argument_bytes)),
            Limit::Depth => "nesting limit of 128 levels exceeded: a result or an action's arguments are nested too deeply; return or send flatter data".to_owned(),
            Limit::Stack => "stack limit reached: the script recursed too deeply (a few hundred calls deep at most here), or what it returned or sent is nested a few hundred levels deep: walk nested records with a loop and a list of what is left to visit, and return flatter data".to_owned(),
        }
    }
}

/// `16 MiB`, or `97 KiB` under a mebibyte.
fn size_text(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} KiB", bytes >> 10)
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Limit::WallTime => "wall_time",
            Limit::Compute => "compute",
            Limit::Memory => "memory",
            Limit::HostCalls => "host_calls",
            Limit::ResultSize => "result_size",
            Limit::ArgumentSize => "argument_size",
            Limit::Depth => "depth",
            Limit::Stack => "stack",
        };
        f.write_str(name)
    }
}
