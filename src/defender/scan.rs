//! Scanning a JSON value (a script's result, its logs) string by string, with the
//! field path of each, and withholding what is flagged.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::detector::{Defender, Verdict};

/// A withheld string: where it was and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// JSONPath-like: `$[3].description`, `$.logs[0]`.
    pub path: String,
    pub score: f32,
    pub reasons: Vec<String>,
}

/// What [`Defender::scan_json`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanReport {
    /// How many strings were replaced by a marker.
    pub withheld: usize,
    /// How many strings were scanned.
    pub scanned: usize,
    pub findings: Vec<Finding>,
    /// The defender's warning (fallback to patterns, scanning off), for the reply's metadata.
    pub warnings: Vec<String>,
}

/// The text that replaces a flagged string.
pub fn marker(verdict: &Verdict) -> String {
    let patterns: Vec<&str> = verdict.reasons.iter().filter(|r| !r.starts_with("obfuscation") && *r != "classifier").map(String::as_str).collect();
    let why = if patterns.is_empty() || verdict.reasons.first().is_some_and(|r| r.starts_with("classifier")) {
        "classifier".to_string()
    } else {
        format!("patterns: {}", patterns.join(", "))
    };
    format!("[withheld by pingone-mcp defender: possible prompt injection ({why}; score {:.2})]", verdict.score)
}

fn collect<'a>(value: &'a mut Value, path: String, out: &mut Vec<(String, &'a mut String)>) {
    match value {
        Value::String(s) => out.push((path, s)),
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                collect(item, format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let simple = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                let child = if simple { format!("{path}.{key}") } else { format!("{path}[{}]", Value::String(key.clone())) };
                collect(item, child, out);
            }
        }
        _ => {}
    }
}

fn strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

impl Defender {
    /// The verdict on a whole JSON value: its highest-scoring string, scanned one by
    /// one as [`Defender::scan_json`] does.
    pub fn scan_value(&self, value: &Value) -> Verdict {
        let mut texts = Vec::new();
        strings(value, &mut texts);
        texts.sort_unstable();
        texts.dedup();
        self.scan_texts(&texts)
            .into_iter()
            .max_by(|a, b| a.score.total_cmp(&b.score))
            .unwrap_or_else(|| self.scan_text(""))
    }

    /// Scan every string in `value`; replace each flagged one by a [`marker`].
    /// Identical strings are scanned once.
    pub fn scan_json(&self, value: &mut Value) -> ScanReport {
        let mut report = ScanReport { warnings: self.warning().map(|w| vec![w.to_string()]).unwrap_or_default(), ..ScanReport::default() };
        let mut strings = Vec::new();
        collect(value, "$".to_string(), &mut strings);
        report.scanned = strings.len();
        let mut unique: HashMap<&str, usize> = HashMap::new();
        let mut texts: Vec<&str> = Vec::new();
        for (_, s) in &strings {
            if !unique.contains_key(s.as_str()) {
                unique.insert(s.as_str(), texts.len());
                texts.push(s.as_str());
            }
        }
        let verdicts = self.scan_texts(&texts);
        let index: Vec<usize> = strings.iter().map(|(_, s)| unique[s.as_str()]).collect();
        drop(unique);
        for ((path, s), i) in strings.into_iter().zip(index) {
            let verdict = &verdicts[i];
            if verdict.flagged {
                *s = marker(verdict);
                report.withheld += 1;
                report.findings.push(Finding { path, score: verdict.score, reasons: verdict.reasons.clone() });
            }
        }
        report
    }

    /// [`Defender::scan_json`] on tokio's blocking pool, off the async executor.
    pub async fn scan_json_blocking(self: Arc<Self>, mut value: Value) -> (Value, ScanReport) {
        match tokio::task::spawn_blocking(move || {
            let report = self.scan_json(&mut value);
            (value, report)
        })
        .await
        {
            Ok(done) => done,
            Err(e) => {
                // Fail closed: a panicked scan withholds the whole value.
                let report = ScanReport { withheld: 1, scanned: 0, findings: Vec::new(), warnings: vec![format!("defender failed: {e}")] };
                (Value::String("[withheld by pingone-mcp defender: the scan failed]".into()), report)
            }
        }
    }
}
