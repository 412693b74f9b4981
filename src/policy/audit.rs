//! The audit trail: one JSON line per action call, flushed as it is written, so a
//! crash loses nothing. Arguments are masked before they get here.

use std::io::Write;
use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    /// RFC 3339, UTC.
    pub time: String,
    pub session: String,
    /// Who the call was made for (the HTTP caller's token subject), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub action: String,
    pub args: Value,
    /// ok, refused, dry_run, or error.
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub ms: u64,
    /// Also sent to PingOne as X-Ping-External-Transaction-ID.
    pub transaction_id: String,
}

pub struct AuditLog {
    out: Mutex<Box<dyn Write + Send>>,
}

impl AuditLog {
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self { out: Mutex::new(out) }
    }

    /// Appends to `path` (created if needed).
    pub fn to_file(path: &std::path::Path) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self::new(Box::new(file)))
    }

    pub fn to_stderr() -> Self {
        Self::new(Box::new(std::io::stderr()))
    }

    pub fn write(&self, entry: &AuditEntry) {
        let Ok(line) = serde_json::to_string(entry) else { return };
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        // An audit line that cannot be written is reported, never silently dropped.
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            tracing::error!("cannot write the audit log; the action `{}` ran anyway", entry.action);
        }
    }
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditLog")
    }
}
