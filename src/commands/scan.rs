//! `pingone-mcp scan`: run the prompt-injection defender over text, a file, or JSONL.

use std::io::BufRead;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use pingone_mcp::defender::{digest, Defender, Finding, Verdict};
use serde_json::{json, Value};

use crate::cli::ScanArgs;
use crate::output::{note, print};

pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let allow = crate::cli::open_allow_file(args.allow.as_deref())?;
    let defender = Defender::load(args.defender, args.threshold).allowing(allow);
    if let Some(warning) = defender.warning() {
        note(&warning);
    }
    if let Some(path) = &args.jsonl {
        return jsonl(&defender, path);
    }
    let text = match (&args.text, &args.file) {
        (Some(text), None) => text.clone(),
        (None, Some(path)) => std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
        _ => bail!("give TEXT, --file F or --jsonl F"),
    };
    let start = Instant::now();
    let scanned = scan(&defender, &text);
    let mut out = row(&scanned.verdict, start.elapsed().as_secs_f64() * 1e3);
    add_digests(&text, &scanned, &mut out);
    print(&out.to_string());
    Ok(ExitCode::SUCCESS)
}

/// One text's scan: its verdict and, for a JSON object or array, what each string became.
struct Scanned {
    verdict: Verdict,
    /// The withheld strings' paths and digests, when the text was JSON.
    findings: Option<Vec<Finding>>,
}

/// A JSON object or array is scanned string by string, as the server scans a result
/// (its verdict is its highest-scoring string's); anything else as the server scans a
/// string result (a table by its cells).
fn scan(defender: &Defender, text: &str) -> Scanned {
    let (mut value, json) = match serde_json::from_str::<Value>(text) {
        Ok(value @ (Value::Object(_) | Value::Array(_))) => (value, true),
        _ => (Value::String(text.to_owned()), false),
    };
    let report = defender.scan_json(&mut value);
    let verdict = report.top.unwrap_or_else(|| defender.scan_text(""));
    Scanned { verdict, findings: json.then_some(report.findings) }
}

/// For a flagged text, what an administrator who has read it and trusts it puts in
/// the allow file: the text's digest, or for JSON, each withheld string's path and digest.
fn add_digests(text: &str, scanned: &Scanned, out: &mut Value) {
    if !scanned.verdict.flagged {
        return;
    }
    match &scanned.findings {
        Some(findings) => out["withheld"] = findings.iter().flat_map(|f| f.digests.iter().map(|d| json!({ "path": f.path, "sha256": d }))).collect(),
        None => out["sha256"] = json!(digest(text)),
    }
}

fn row(v: &Verdict, ms: f64) -> Value {
    json!({
        "score": (f64::from(v.score) * 1e4).round() / 1e4,
        "flagged": v.flagged,
        "tier": v.tier.name(),
        "reasons": v.reasons,
        "ms": (ms * 1e3).round() / 1e3,
    })
}

/// One labelled, scored row.
struct Scored {
    label: bool,
    score: f32,
    flagged: bool,
    ms: f64,
    source: String,
}

fn jsonl(defender: &Defender, path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?))
    };
    let mut scored = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let input: Value = serde_json::from_str(&line).with_context(|| format!("line {}: not JSON", n + 1))?;
        let Some(text) = input.get("text").and_then(Value::as_str) else {
            bail!("line {}: no `text` string field", n + 1);
        };
        let start = Instant::now();
        let scanned = scan(defender, text);
        let ms = start.elapsed().as_secs_f64() * 1e3;
        let mut out = row(&scanned.verdict, ms);
        add_digests(text, &scanned, &mut out);
        let verdict = scanned.verdict;
        let label = input.get("label").and_then(|l| l.as_i64().or_else(|| l.as_bool().map(i64::from)));
        for key in ["id", "label", "source"] {
            if let Some(v) = input.get(key) {
                out[key] = v.clone();
            }
        }
        print(&out.to_string());
        if let Some(label) = label {
            let source = input.get("source").and_then(Value::as_str).unwrap_or("").split(':').next().unwrap_or("").to_string();
            scored.push(Scored { label: label == 1, score: verdict.score, flagged: verdict.flagged, ms, source });
        }
    }
    if !scored.is_empty() {
        let mut sources: Vec<String> = scored.iter().map(|s| s.source.clone()).collect();
        sources.sort();
        sources.dedup();
        let by_source: serde_json::Map<String, Value> = if sources.len() > 1 {
            sources.iter().map(|src| (src.clone(), metrics(&scored.iter().filter(|s| &s.source == src).collect::<Vec<_>>()))).collect()
        } else {
            serde_json::Map::new()
        };
        let mut summary = metrics(&scored.iter().collect::<Vec<_>>());
        summary["mode"] = json!(defender.mode().to_string());
        summary["threshold"] = json!(defender.threshold());
        // Figures from a defender below what was asked must not pass for the real ones.
        if let Some(warning) = defender.warning() {
            summary["warning"] = json!(warning);
        }
        if !by_source.is_empty() {
            summary["by_source"] = Value::Object(by_source);
        }
        print(&json!({ "summary": summary }).to_string());
    }
    Ok(ExitCode::SUCCESS)
}

fn round(x: f64) -> Value {
    if x.is_finite() {
        json!((x * 1e4).round() / 1e4)
    } else {
        Value::Null
    }
}

fn metrics(rows: &[&Scored]) -> Value {
    let pos = rows.iter().filter(|r| r.label).count();
    let neg = rows.len() - pos;
    let tp = rows.iter().filter(|r| r.label && r.flagged).count();
    let fp = rows.iter().filter(|r| !r.label && r.flagged).count();
    let tpr = tp as f64 / pos as f64;
    let fpr = fp as f64 / neg as f64;
    let bacc = match (pos, neg) {
        (0, _) => 1.0 - fpr,
        (_, 0) => tpr,
        _ => (tpr + 1.0 - fpr) / 2.0,
    };
    let mut ms: Vec<f64> = rows.iter().map(|r| r.ms).collect();
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| ms.get(((ms.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN);
    json!({
        "n": rows.len(), "positives": pos, "negatives": neg,
        "tpr": round(tpr), "fpr": round(fpr), "balanced_accuracy": round(bacc), "auc": round(auc(rows)),
        "p50_ms": round(pct(0.5)), "p95_ms": round(pct(0.95)),
    })
}

/// Area under the ROC curve: the chance a random positive outscores a random negative (ties count half).
fn auc(rows: &[&Scored]) -> f64 {
    let mut sorted: Vec<(f32, bool)> = rows.iter().map(|r| (r.score, r.label)).collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < sorted.len() {
        let mut j = i;
        while j < sorted.len() && sorted[j].0 == sorted[i].0 {
            j += 1;
        }
        let mid = (i + j + 1) as f64 / 2.0; // 1-based average rank of the tie group
        rank_sum += mid * sorted[i..j].iter().filter(|r| r.1).count() as f64;
        i = j;
    }
    let pos = sorted.iter().filter(|r| r.1).count() as f64;
    let neg = sorted.len() as f64 - pos;
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}
