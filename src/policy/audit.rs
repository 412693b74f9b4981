//! The audit trail: one JSON line per action call, flushed as it is written, so a
//! crash loses nothing. Arguments are masked as they are written.

use std::io::Write;
use std::sync::Mutex;

use serde::Serialize;

use crate::secret::Masked;

/// One audit line, borrowing what it reports: writing it copies nothing.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry<'a> {
    /// RFC 3339, UTC.
    pub time: String,
    pub session: &'a str,
    /// The PingOne environment the call went to and the API's host (the simulator's is
    /// on loopback); none when it was answered from a cassette.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_host: Option<&'a str>,
    /// Who the call was made for (the HTTP caller's token subject), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<&'a str>,
    /// The id of the token the call came with (`token list` shows it; `token revoke`
    /// takes it), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_id: Option<&'a str>,
    pub action: &'a str,
    /// The call's arguments, credentials masked as they are written.
    pub args: Masked<'a>,
    /// ok, refused, dry_run, error, unknown (PingOne gave no clear answer, a 5xx to a
    /// create or every try of a write unanswered: it may have been applied), unchanged,
    /// no_answer (given up before PingOne
    /// answered: it may or may not have been applied), not_sent (given up before it was
    /// sent, e.g. while a person was asked: not applied), declined (the person said no),
    /// unanswered (the person was to be asked, but the client could not put the
    /// question or no answer came in time), not_asked (it needed a person's yes and none
    /// could be asked), or
    /// replayed / replayed_error (answered from a cassette: nothing was sent).
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'a str>,
    pub ms: u64,
    /// Sent to PingOne as X-Ping-External-Transaction-ID: only for a call that was sent
    /// (none for one refused here, a dry run's or a replay's, which PingOne never saw).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<&'a str>,
    /// The id PingOne gave the record a create made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_id: Option<&'a str>,
    /// For a destructive or access-changing call that was sent: whether a person
    /// confirmed it (false when nobody was asked: --no-confirm, or `run` and `call`,
    /// where the operator's own flags allowed it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<bool>,
    /// How a person said yes: `asked` (to this call's own question) or
    /// `yes_to_the_rest` (an earlier yes to the rest of the script's calls like it
    /// covered this one, which nobody read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_by: Option<&'static str>,
    /// Tries beyond the first (after a 429, a 5xx on a read, a failed connection) and
    /// the time spent waiting for them: a throttled call is seen as one.
    #[serde(skip_serializing_if = "is_zero")]
    pub retries: u32,
    #[serde(skip_serializing_if = "is_zero")]
    pub waited_ms: u64,
}

fn is_zero<T: Default + PartialEq>(n: &T) -> bool {
    *n == T::default()
}

pub struct AuditLog {
    outs: Vec<Mutex<Box<dyn Write + Send>>>,
    /// Why a line could not be written, once one could not: no change is sent after it
    /// (review 59 M3: a full disk let a bulk job go on with nothing on record).
    failed: std::sync::OnceLock<String>,
}

impl AuditLog {
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self::of(vec![Mutex::new(out)])
    }

    fn of(outs: Vec<Mutex<Box<dyn Write + Send>>>) -> Self {
        Self { outs, failed: std::sync::OnceLock::new() }
    }

    /// Why a line of this log could not be written, when one could not.
    pub fn failure(&self) -> Option<&str> {
        self.failed.get().map(String::as_str)
    }

    /// One log written to every path ("-" for stderr); the path that cannot be opened
    /// with why.
    pub fn open(paths: &[std::path::PathBuf]) -> Result<Self, (std::path::PathBuf, std::io::Error)> {
        let outs = paths
            .iter()
            .map(|path| sink(path).map(Mutex::new).map_err(|e| (path.clone(), e)))
            .collect::<Result<_, _>>()?;
        Ok(Self::of(outs))
    }

    /// Appends to `path` (created if needed), readable by its owner only.
    pub fn to_file(path: &std::path::Path) -> std::io::Result<Self> {
        Ok(Self::new(sink(path)?))
    }

    pub fn write(&self, entry: &AuditEntry<'_>) {
        self.write_line(entry, &format!("the action `{}` ran anyway", entry.action));
    }

    /// A line that is no action call's: a `run` or `call` starting or ending, which
    /// ties the calls between (by `session`) to what ran them, by whom and how.
    pub fn write_event(&self, event: &serde_json::Value) {
        self.write_line(event, "an event of the run is not on record");
    }

    fn write_line(&self, value: &impl Serialize, lost: &str) {
        let Ok(mut line) = serde_json::to_vec(value) else { return };
        line.push(b'\n');
        for out in &self.outs {
            let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
            // One write per line, so lines from concurrent calls never interleave. An audit
            // line that cannot be written is reported, never silently dropped.
            if let Err(e) = out.write_all(&line).and_then(|()| out.flush()) {
                tracing::error!("cannot write the audit log ({e}); {lost}");
                let _ = self.failed.set(e.to_string());
            }
        }
    }
}

/// Where an audit log's lines go: stderr for "-", else the file, appended to (created
/// if needed, readable by its owner only).
fn sink(path: &std::path::Path) -> std::io::Result<Box<dyn Write + Send>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(std::io::stderr()));
    }
    Ok(Box::new(crate::private_file::append_private(path)?))
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditLog")
    }
}
