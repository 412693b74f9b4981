//! Cassettes: every action call of a run and its reply, written by `--record` and
//! answered by `--replay` with no network. Credentials are masked before they are
//! written, and arguments are compared masked.

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use guest_sdk::abi::{ActionError, HostReply, OwnText};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::sandbox::{Readings, RecordedReadings};
use crate::secret::{mask_json, redact_json};

const FORMAT: u32 = 1;

/// The code of a call a replay's cassette holds no recording of.
pub const NOT_IN_CASSETTE: &str = "NOT_IN_CASSETTE";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Cassette {
    pub format: u32,
    /// Recorded by a dry run: its writes answered with the requests previewed, not
    /// with what PingOne would have answered.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// The clock readings the script made, given back by a replay; a cassette written
    /// before they were kept has none, and its replay reads the system's clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readings: Option<RecordedReadings>,
    /// The code of the error the recorded run ended with (`LIMIT_WALL_TIME`,
    /// `INTERRUPTED`, …), when it did: a replay can answer only the calls made before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_with: Option<String>,
    pub calls: Vec<Interaction>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Interaction {
    pub action: String,
    pub args: Value,
    pub reply: HostReply,
}

impl Cassette {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the cassette {}", path.display()))?;
        let cassette: Cassette = serde_json::from_str(&text).with_context(|| format!("{} is not a pingone-mcp cassette", path.display()))?;
        if cassette.format != FORMAT {
            anyhow::bail!("{} is cassette format {}, this build reads format {FORMAT}; record it again", path.display(), cassette.format);
        }
        Ok(cassette)
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        // Ids, names and the calls' arguments: the owner's alone, like the audit log.
        let write = || std::io::Write::write_all(&mut crate::private_file::create_private(path)?, (text + "\n").as_bytes());
        write().with_context(|| format!("cannot write the cassette {}", path.display()))
    }
}

/// Collects calls as they complete.
pub struct Recorder {
    calls: Mutex<Vec<Interaction>>,
    dry_run: bool,
    readings: Arc<Readings>,
    ended_with: Mutex<Option<String>>,
}

impl Recorder {
    /// A recorder for a run; a dry run's cassette says it is one.
    pub fn new(dry_run: bool) -> Self {
        Self { calls: Mutex::default(), dry_run, readings: Readings::recording(), ended_with: Mutex::default() }
    }

    /// The clock the recorded script reads.
    pub fn readings(&self) -> Arc<Readings> {
        self.readings.clone()
    }

    /// Keeps one call; `args` must already have the action's secret parameters hidden.
    pub fn record(&self, action: &str, args: &Value, reply: &HostReply) {
        let reply = match reply {
            // Masked as a live run shows it (`****a1b2`), so a replay prints the same.
            HostReply::Value(value) => HostReply::Value(mask_json(value)),
            HostReply::Error(error) => HostReply::Error(error.clone()),
        };
        let interaction = Interaction { action: action.to_owned(), args: redact_json(args), reply };
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).push(interaction);
    }

    /// The recorded run ended with the error of this code.
    pub fn ended_with(&self, code: &str) {
        *self.ended_with.lock().unwrap_or_else(|e| e.into_inner()) = Some(code.to_owned());
    }

    pub fn cassette(&self) -> Cassette {
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let ended_with = self.ended_with.lock().unwrap_or_else(|e| e.into_inner()).clone();
        Cassette { format: FORMAT, dry_run: self.dry_run, readings: Some(self.readings.recorded()), ended_with, calls }
    }
}

/// Answers each call with the first unused recorded call of the same action and
/// arguments, so a script that repeats a call gets the replies in recorded order.
pub struct Replay {
    calls: Mutex<Vec<(Interaction, bool)>>,
    readings: Option<Arc<Readings>>,
    /// Calls the cassette had no recording for.
    missed: std::sync::atomic::AtomicUsize,
    ended_with: Option<String>,
}

impl Replay {
    pub fn new(cassette: Cassette) -> Self {
        let readings = cassette.readings.as_ref().map(Readings::replaying);
        Self { calls: Mutex::new(cassette.calls.into_iter().map(|c| (c, false)).collect()), readings, missed: Default::default(), ended_with: cassette.ended_with }
    }

    /// The recording's clock, when the cassette kept its readings.
    pub fn readings(&self) -> Option<Arc<Readings>> {
        self.readings.clone()
    }

    pub fn answer(&self, action: &str, args: &Value) -> HostReply {
        let args = redact_json(args);
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((interaction, used)) = calls.iter_mut().find(|(c, used)| !used && c.action == action && c.args == args) {
            *used = true;
            return interaction.reply.clone();
        }
        self.missed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let recorded = calls.iter().filter(|(c, _)| c.action == action).count();
        // What the cassette does hold for this action, so the difference shows.
        let unused: Vec<String> = calls.iter().filter(|(c, used)| !used && c.action == action).take(3).map(|(c, _)| c.args.to_string()).collect();
        let holds = if unused.is_empty() { String::new() } else { format!("; unused recordings of it have arguments {}", unused.join(", ")) };
        let message = format!(
            "the cassette has no unused recording of {action} with arguments {args} ({recorded} recording(s) of {action} in all{holds}); \
             the script or its --args changed since it was recorded, or the script draws random numbers (a replay gives back the clock as recorded, not those): record it again with --record"
        );
        let mut quoted = vec![action.to_owned(), args.to_string()];
        quoted.extend(unused);
        let own = OwnText { text: message.clone(), quoted };
        HostReply::Error(ActionError { action: action.to_owned(), code: NOT_IN_CASSETTE.into(), message, own_texts: vec![own], ..Default::default() })
    }

    /// Recorded calls no call has replayed yet.
    pub fn unused(&self) -> usize {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).iter().filter(|(_, used)| !used).count()
    }

    /// Why this replay did not make the recorded run's calls, when it did not: calls
    /// the cassette had no recording of, calls this run's policy refused before the
    /// cassette was asked (`refused`), recordings left over, and how the recorded run
    /// ended. `None` for a faithful replay.
    pub fn unfaithful(&self, refused: usize) -> Option<String> {
        let (missed, unused) = (self.missed.load(std::sync::atomic::Ordering::Relaxed), self.unused());
        if missed == 0 && unused == 0 {
            return None;
        }
        let mut why = Vec::new();
        if missed > 0 {
            why.push(format!("{missed} call(s) had no recording ({NOT_IN_CASSETTE}): the script or its --args changed since it was recorded"));
        }
        if refused > 0 {
            why.push(format!("{refused} call(s) were refused by this run's policy before the cassette was asked: give the replay the flags the recording had (such as --allow-writes)"));
        }
        if unused > 0 {
            let fewer = if missed == 0 && refused == 0 { ": the script made fewer calls than when it was recorded" } else { "" };
            why.push(format!("{unused} recorded call(s) were not replayed{fewer}"));
        }
        if let Some(code) = &self.ended_with {
            why.push(format!("the recorded run ended with {code}, so the cassette holds only the calls made before that"));
        }
        Some(format!("the replay did not make the recorded calls, so its result is not the recorded run's: {}", why.join("; ")))
    }
}
