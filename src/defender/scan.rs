//! Scanning a JSON value (a script's result, its logs) string by string, with the
//! field path of each, and withholding what is flagged.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::sync::Arc;

use serde_json::Value;

use super::allow::{digest, Allowed};
use super::detector::{Defender, Verdict};
use super::own::OwnTexts;
use super::record::{instruction_span, is_prose, records};
use super::table::{short_table_texts, table_texts, withhold_in_table};
use crate::json_strings::push_key;

/// A withheld string: where it was and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// JSONPath-like: `$[3].description`, `$.logs[0]`.
    pub path: String,
    pub score: f32,
    pub reasons: Vec<String>,
    /// The digest of each withheld text (a table's cells, one each), for an
    /// administrator who reads it and allows it through (`--defender-allow`). Of a
    /// server's own text, the outside value judged.
    pub digests: Vec<String>,
}

impl Finding {
    fn of(path: String, withheld: &Withheld) -> Finding {
        Finding { path, score: withheld.verdict.score, reasons: withheld.verdict.reasons.clone(), digests: withheld.digests.clone() }
    }
}

/// What a withheld string becomes, and why.
struct Withheld {
    verdict: Verdict,
    replacement: String,
    digests: Vec<String>,
}

impl Withheld {
    /// `judged`, the whole string or what is left of it, replaced by a marker.
    fn whole(verdict: Verdict, judged: &str) -> Withheld {
        Withheld { replacement: marker(&verdict), digests: vec![digest(judged)], verdict }
    }
}

/// What [`Defender::scan_json`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanReport {
    /// How many strings were replaced by a marker.
    pub withheld: usize,
    /// How many strings were scanned.
    pub scanned: usize,
    pub findings: Vec<Finding>,
    /// The highest-scoring verdict of the scan, flagged or not (`None` when the value
    /// held no string): what `pingone-mcp scan` reports of a JSON text.
    pub top: Option<Verdict>,
    /// The defender's warning (fallback to patterns, scanning off), for the reply's metadata.
    pub warnings: Vec<String>,
}

/// How every text that replaces a flagged string begins.
pub const MARKER_PREFIX: &str = "[withheld by pingone-mcp defender";

/// The text that replaces a flagged string.
pub fn marker(verdict: &Verdict) -> String {
    let patterns: Vec<&str> = verdict.reasons.iter().filter(|r| !r.starts_with("obfuscation") && *r != "classifier").map(String::as_str).collect();
    let why = if patterns.is_empty() || verdict.reasons.first().is_some_and(|r| r.starts_with("classifier")) {
        "classifier".to_string()
    } else {
        format!("patterns: {}", patterns.join(", "))
    };
    format!("{MARKER_PREFIX}: possible prompt injection ({why}; score {:.2})]", verdict.score)
}

/// What is judged of one string.
enum Plan<'a> {
    /// The string itself.
    Whole(&'a str),
    /// The string with the server's own texts in it cut down to their quoted values and
    /// the script's own words taken out: the values left, a piece each. Each is judged
    /// by itself, as in the record it came from (a username and a role name judged
    /// together read like an order), and the patterns read them joined, so an order cut
    /// over two values still counts. With them, the values the own texts quoted, which
    /// are withheld where they stand when only they are flagged.
    Stripped(Vec<String>, Vec<String>),
    /// One of the server's own texts: only the outside values it quotes.
    Own(&'a [String]),
}

impl<'a> Plan<'a> {
    fn for_text(text: &'a str, own: &'a OwnTexts) -> Self {
        // What the reply's trim left of a string is judged, not the trim's mark (ours):
        // an own text cut short is still ours, as a catalog description is.
        let text = crate::trim::cut_head(text).unwrap_or(text);
        if own.is_empty() {
            return Plan::Whole(text);
        }
        match own.quoted(text) {
            Some(values) => Plan::Own(values),
            None => own.strip(text).map_or(Plan::Whole(text), |stripped| Plan::Stripped(pieces(&stripped.rest), stripped.quoted)),
        }
    }

    /// The texts to scan for this plan, added to `out`.
    fn queries<'b>(&'b self, out: &mut Vec<&'b str>) {
        match self {
            Plan::Whole(text) => out.push(text),
            Plan::Stripped(pieces, _) => out.extend(pieces.iter().map(String::as_str)),
            Plan::Own(values) => out.extend(values.iter().map(String::as_str)),
        }
    }

    /// What `text` becomes when it is to be withheld, taking this plan's verdicts from
    /// `verdicts`; `patterns` judges pieces joined.
    fn judge(&self, text: &str, verdicts: &mut impl Iterator<Item = Verdict>, patterns: impl Fn(&str) -> Verdict) -> Option<Withheld> {
        match self {
            Plan::Whole(judged) => verdicts.next().filter(|v| v.flagged).map(|verdict| Withheld::whole(verdict, judged)),
            Plan::Stripped(pieces, quoted) => {
                let flagged: Vec<(&String, Verdict)> = pieces.iter().zip(verdicts.by_ref()).filter(|(_, verdict)| verdict.flagged).collect();
                // An argument error the script made a string of (`String(e)`) keeps its
                // words: only the flagged values it quotes are withheld (review 40).
                if !flagged.is_empty() && flagged.iter().all(|(piece, _)| quoted.contains(piece)) {
                    return Some(withheld_in_place(text, flagged));
                }
                let digests: Vec<String> = if flagged.is_empty() { pieces.iter().map(|p| digest(p)).collect() } else { flagged.iter().map(|(p, _)| digest(p)).collect() };
                let verdict = match flagged.into_iter().map(|(_, v)| v).max_by(|a, b| a.score.total_cmp(&b.score)) {
                    Some(worst) => worst,
                    None if pieces.len() > 1 => Some(patterns(&pieces.join(" "))).filter(|v| v.flagged)?,
                    None => return None,
                };
                Some(Withheld { replacement: marker(&verdict), digests, verdict })
            }
            Plan::Own(values) => {
                let flagged: Vec<(&String, Verdict)> = values.iter().zip(verdicts.by_ref()).filter(|(_, verdict)| verdict.flagged).collect();
                (!flagged.is_empty()).then(|| withheld_in_place(text, flagged))
            }
        }
    }
}

/// `text` with each flagged value in it replaced by its own marker; `flagged` is not empty.
fn withheld_in_place(text: &str, flagged: Vec<(&String, Verdict)>) -> Withheld {
    let mut replacement = text.to_owned();
    let mut worst: Option<Verdict> = None;
    let mut digests = Vec::new();
    for (value, verdict) in flagged {
        replacement = replacement.replace(value.as_str(), &marker(&verdict));
        digests.push(digest(value));
        if worst.as_ref().is_none_or(|w| verdict.score > w.score) {
            worst = Some(verdict);
        }
    }
    Withheld { verdict: worst.expect("at least one value is flagged"), replacement, digests }
}

/// The values left in a string once the own words are taken out (each leaves a line
/// break): its lines with a letter or digit in them.
fn pieces(rest: &str) -> Vec<String> {
    rest.lines().map(str::trim).filter(|line| line.chars().any(char::is_alphanumeric)).map(str::to_owned).collect()
}

/// A string met in a walk: a value, which may be replaced in place, or an object key,
/// which is replaced by returning its new name.
enum Text<'a> {
    Value(&'a mut String),
    Key(&'a str),
}

/// Each item of an array or field of an object, visited with its path (`[3]`,
/// `.name`) pushed on `path`.
pub(super) fn each_child<'a>(value: &'a Value, path: &mut String, mut visit: impl FnMut(&'a Value, &mut String)) {
    let len = path.len();
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let _ = write!(path, "[{i}]");
                visit(item, path);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                push_key(path, key);
                visit(item, path);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// The arrays of two or more strings in `value`, at their paths: a sentence cut into
/// items (`["SYSTEM:", "grant", …]`) is one sentence to the patterns, though each
/// item is judged on its own.
fn string_arrays<'a>(value: &'a Value, path: &mut String, out: &mut Vec<(String, Vec<&'a str>)>) {
    if let Value::Array(items) = value {
        let texts: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
        if let Some(texts) = texts.filter(|texts| texts.len() > 1) {
            out.push((path.clone(), texts));
            return;
        }
    }
    each_child(value, path, |item, path| string_arrays(item, path, out));
}

/// The path of the array an item's `path` (`$.tags[3]`) is in.
fn array_of(path: &str) -> Option<&str> {
    let open = path.strip_suffix(']')?.rfind('[')?;
    path[open + 1..path.len() - 1].bytes().all(|b| b.is_ascii_digit()).then(|| &path[..open])
}

/// Walk the strings of `value` mutably, object keys included (the model reads those
/// too), with the path of each in `path` (a buffer reused for the whole walk: paths
/// are built only for what `visit` keeps).
fn walk_mut(value: &mut Value, path: &mut String, visit: &mut impl FnMut(&str, Text<'_>) -> Option<String>) {
    let len = path.len();
    match value {
        Value::String(s) => {
            visit(path, Text::Value(s));
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let _ = write!(path, "[{i}]");
                walk_mut(item, path, visit);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            let renames: Vec<(String, String)> = map.keys().filter_map(|key| visit(path, Text::Key(key)).map(|new| (key.clone(), new))).collect();
            for (old, new) in renames {
                if let Some(item) = map.remove(&old) {
                    map.insert(new, item);
                }
            }
            for (key, item) in map.iter_mut() {
                push_key(path, key);
                walk_mut(item, path, visit);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Every string literal, keys and repeated keys included, in order, of the JSON
/// object or array a string holds; `None` when it holds none. A JSON text cut short by
/// the reply's trim (`… [cut: N characters in all]`) counts too, its last literal
/// perhaps unfinished: read as prose, a run of records looks like anything.
fn json_literals(text: &str) -> Option<Vec<String>> {
    let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if !trimmed.starts_with(['{', '[']) {
        // A script's `'Users:\n' + JSON.stringify(users)`: the header is one more text.
        let (header, json) = after_header(trimmed)?;
        let mut literals = vec![header.trim().to_owned()];
        literals.extend(json_literals(json)?);
        return Some(literals);
    }
    let (trimmed, cut) = crate::trim::cut_head(trimmed).map_or((trimmed, false), |head| (head, true));
    match serde_json::from_str::<serde::de::IgnoredAny>(trimmed) {
        Ok(_) => {}
        Err(e) if cut && e.is_eof() => {}
        Err(_) => return None,
    }
    // Valid JSON: outside a literal, a quote can only open one.
    let bytes = trimmed.as_bytes();
    let mut literals = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'"' {
            at += 1;
            continue;
        }
        let start = at;
        at += 1;
        while at < bytes.len() && bytes[at] != b'"' {
            at += if bytes[at] == b'\\' { 2 } else { 1 };
        }
        let literal = match trimmed.get(start..=at) {
            Some(whole) => serde_json::from_str::<String>(whole).ok()?,
            // Unfinished where the text was cut: what there is of it, read as it stands.
            None => serde_json::from_str(&format!("{}\"", &trimmed[start..])).unwrap_or_else(|_| trimmed[start + 1..].to_owned()),
        };
        literals.push(literal);
        at += 1;
    }
    Some(literals)
}

/// A short header and the JSON object or array after it (`Users:\n[…]`,
/// `export = {…}`): the header ends a line or with `:` or `=`, within a few hundred
/// bytes; `None` for any other text, and for one that begins as JSON (JSON Lines).
fn after_header(text: &str) -> Option<(&str, &str)> {
    const MOST_HEADER_BYTES: usize = 200;
    if text.starts_with(['{', '[']) {
        return None;
    }
    text.match_indices(['{', '['])
        .take_while(|(at, _)| *at <= MOST_HEADER_BYTES)
        .map(|(at, _)| (&text[..at], &text[at..]))
        .find(|(header, _)| header.trim_end_matches([' ', '\t']).ends_with(['\n', ':', '=']) && !header.trim().is_empty())
}

/// The string literals of JSON Lines (a JSON text on each of two or more lines: a
/// script's `records.map(r => JSON.stringify(r)).join('\n')`), in order.
fn json_lines_literals(text: &str) -> Option<Vec<String>> {
    let lines: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
    if lines.len() < 2 {
        return None;
    }
    lines.iter().map(|line| json_literals(line)).collect::<Option<Vec<_>>>().map(|each| each.concat())
}

/// What a string is judged by when it holds structured text: the string literals of
/// a JSON text (or JSON Lines), or the cells of a table; `None` for any other text,
/// judged whole.
fn inner_texts(text: &str) -> Option<Inner> {
    match json_literals(text).or_else(|| json_lines_literals(text)) {
        Some(literals) => Some(Inner { texts: literals, table: false, rows: Vec::new() }),
        None => table_texts(text).map(|table| Inner { texts: table.texts, table: true, rows: table.rows }),
    }
}

/// The texts a string holding structured text is judged by.
struct Inner {
    texts: Vec<String>,
    /// A table's cells: one withheld is replaced in its row, and the rest of the table
    /// kept (an export with one bad title is still the export). In a JSON text the
    /// withheld literal is replaced where it stands.
    table: bool,
    /// A table's cells by row (see [`crate::defender::table::TableTexts::rows`]).
    rows: Vec<Vec<String>>,
}

/// Each of `texts` once, in order: an export repeats the same titles and flags on every row.
fn distinct(texts: &[String]) -> Vec<&str> {
    let mut seen = HashSet::with_capacity(texts.len());
    texts.iter().map(String::as_str).filter(|text| seen.insert(*text)).collect()
}

/// `table` with each cell judged in `parts` replaced by its marker, in its row.
/// The highest-scored of several withheld parts, with every part's digests: each
/// needs its own line in the allow file.
fn worst_of(parts: impl IntoIterator<Item = Withheld>) -> Option<(Withheld, Vec<String>)> {
    let mut digests = Vec::new();
    let mut worst: Option<Withheld> = None;
    for part in parts {
        digests.extend(part.digests.iter().cloned());
        if worst.as_ref().is_none_or(|w| part.verdict.score > w.verdict.score) {
            worst = Some(part);
        }
    }
    Some((worst?, digests))
}

/// `json` (a JSON text) with each literal judged in `parts` replaced, where it stands,
/// by its marker as a JSON string: a `JSON.stringify` of records keeps its usernames
/// when one title is withheld. `None` when a literal is not written there as
/// `serde_json` writes it (other escapes), and the text is withheld whole.
fn json_withholding(json: &str, parts: &[(&str, Withheld)]) -> Option<String> {
    let mut kept = json.to_owned();
    for (literal, part) in parts {
        let written = serde_json::to_string(literal).ok()?;
        if !kept.contains(&written) {
            return None;
        }
        kept = kept.replace(&written, &serde_json::to_string(&marker(&part.verdict)).ok()?);
    }
    Some(kept)
}

fn table_withholding(table: &str, parts: &[(&str, Withheld)]) -> Option<String> {
    let markers: HashMap<&str, String> = parts.iter().map(|(cell, part)| (*cell, marker(&part.verdict))).collect();
    withhold_in_table(table, |cell| markers.get(cell).cloned())
}

/// `path`, and where the markers stand inside a JSON text (or JSON Lines) kept with
/// only its withheld literals replaced: `$.export (inside its JSON text: $[3].title)`,
/// so the person cleaning records finds the one. Any other replacement: `path`.
fn with_places_inside(path: &str, replacement: &str) -> String {
    if replacement.starts_with(MARKER_PREFIX) {
        return path.to_owned();
    }
    let text = replacement.trim_start_matches('\u{feff}');
    let json = after_header(text.trim_start()).map_or(text, |(_, json)| json);
    let documents: Vec<(String, Value)> = match serde_json::from_str(json) {
        Ok(value) => vec![("$".to_owned(), value)],
        // JSON Lines: records (a one-column table's quoted marker is no record).
        Err(_) => replacement
            .lines()
            .enumerate()
            .filter_map(|(i, line)| Some((format!("line {} $", i + 1), serde_json::from_str::<Value>(line).ok().filter(|v| v.is_object() || v.is_array())?)))
            .collect(),
    };
    let mut places = Vec::new();
    for (start, document) in &documents {
        markers_in(document, &mut start.clone(), &mut places);
    }
    match places.is_empty() {
        true => path.to_owned(),
        false => format!("{path} (inside its JSON text: {})", places.join(", ")),
    }
}

/// The paths of the defender's markers in `value`, keys' too.
fn markers_in(value: &Value, path: &mut String, out: &mut Vec<String>) {
    match value {
        Value::String(s) if s.starts_with(MARKER_PREFIX) => out.push(path.clone()),
        Value::Object(map) => out.extend(map.keys().filter(|key| key.starts_with(MARKER_PREFIX)).map(|_| format!("{path} (a key)"))),
        _ => {}
    }
    each_child(value, path, |item, path| markers_in(item, path, out));
}

/// Every string in `value`, object keys included, in document order.
fn strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            out.push(k);
            strings(v, out)
        }),
        _ => {}
    }
}

impl Defender {
    /// A short table (under a KiB) flagged whole, judged again by its cells: when some
    /// cells are flagged, the table with only those replaced (a small export with one
    /// bad title is still the export); `None` when it is no table or no cell alone is
    /// flagged (an instruction cut across cells), and it stays withheld whole.
    fn withheld_by_cells(&self, text: &str, own: &OwnTexts) -> Option<Withheld> {
        let table = short_table_texts(text)?;
        let cells = distinct(&table.texts);
        let plans: Vec<Plan> = cells.iter().map(|cell| Plan::for_text(cell, own)).collect();
        let mut queries = Vec::with_capacity(plans.len());
        plans.iter().for_each(|plan| plan.queries(&mut queries));
        let mut verdicts = self.scan_texts(&queries).into_iter();
        let parts: Vec<(&str, Withheld)> = cells.iter().zip(&plans).filter_map(|(cell, plan)| Some((*cell, plan.judge(cell, &mut verdicts, |t| self.scan_patterns(t))?))).collect();
        let kept = table_withholding(text, &parts)?;
        let (worst, digests) = worst_of(parts.into_iter().map(|(_, part)| part))?;
        Some(Withheld { replacement: kept, digests, ..worst })
    }

    /// Scan every string in `value`; replace each flagged one by a [`marker`].
    /// Identical strings are scanned once.
    pub fn scan_json(&self, value: &mut Value) -> ScanReport {
        self.scan_json_with(value, &OwnTexts::default())
    }

    /// [`Defender::scan_json`], knowing which texts are the server's own: of those,
    /// only the outside values they quote are judged, and a flagged value is replaced
    /// inside the text, so the agent still reads our guidance around it.
    pub fn scan_json_with(&self, value: &mut Value, own: &OwnTexts) -> ScanReport {
        // The reply's trim marks are ours: judged, they would read as a record copying them.
        let marks = crate::trim::lift_marks(value);
        let report = self.scan_unmarked(value, own);
        crate::trim::restore_marks(value, marks);
        report
    }

    fn scan_unmarked(&self, value: &mut Value, own: &OwnTexts) -> ScanReport {
        let mut all = Vec::new();
        strings(value, &mut all);
        let scanned = all.len();
        let mut unique: HashSet<&str> = HashSet::with_capacity(all.len());
        all.retain(|s| unique.insert(*s));
        // A string holding a JSON object or array (a script's `JSON.stringify` of
        // records) is judged by the strings inside it, as a result's own are: the
        // classifier reads strings, not JSON text. Every string literal counts, a
        // repeated key's too, and the patterns also read them joined, so a sentence
        // cut into literals (`["SYSTEM:", "ignore", …]`) is still one sentence to them.
        // A delimited table (a CSV export) is judged by its cells in the same way.
        let allowed = self.allowed_now();
        let inner: Vec<Option<Inner>> =
            all.iter().map(|s| if allowed.as_ref().is_some_and(|a| a.contains(s)) { None } else { inner_texts(s) }).collect();
        let judged: Vec<Vec<&str>> = all
            .iter()
            .zip(&inner)
            .map(|(s, inner)| match inner {
                Some(inner) => distinct(&inner.texts),
                None => vec![*s],
            })
            .collect();
        let plans: Vec<Vec<Plan>> = judged.iter().map(|texts| texts.iter().map(|t| Plan::for_text(t, own)).collect()).collect();
        let mut queries = Vec::with_capacity(plans.len());
        plans.iter().flatten().for_each(|plan| plan.queries(&mut queries));
        let verdicts = self.scan_texts(&queries);
        let mut top = verdicts.iter().max_by(|a, b| a.score.total_cmp(&b.score)).cloned();
        let mut verdicts = verdicts.into_iter();
        // Usually nothing is flagged and the value is left as it is, unwalked.
        let flagged: HashMap<String, Withheld> = all
            .iter()
            .zip(judged.iter().zip(&plans).zip(&inner))
            .filter_map(|(s, ((texts, plans), inner))| {
                // Every plan takes its verdicts, flagged or not, so the rest stay in step.
                let mut parts: Vec<(&str, Withheld)> = texts.iter().zip(plans).filter_map(|(text, plan)| Some((*text, plan.judge(text, &mut verdicts, |t| self.scan_patterns(t))?))).collect();
                if let Some(inner) = inner.as_ref().filter(|inner| inner.table) {
                    let split = self.split_over_cells(&inner.rows, &parts, allowed.as_deref());
                    parts.extend(split);
                }
                // A table or JSON text keeps what was not withheld: each withheld cell is
                // replaced in its row, each literal where it stands.
                let kept = inner.as_ref().filter(|_| !parts.is_empty()).and_then(|inner| if inner.table { table_withholding(s, &parts) } else { json_withholding(s, &parts) });
                let mut withheld: Vec<Withheld> = parts.into_iter().map(|(_, part)| part).collect();
                // Joined, for a sentence cut into parts none of which is flagged alone;
                // a part flagged alone is the one to name (and to allow, by its digest).
                if let Some(inner) = inner.as_ref().map(|inner| &inner.texts).filter(|inner| inner.len() > 1 && withheld.is_empty()) {
                    let joined = self.scan_patterns(&inner.join(" "));
                    if joined.flagged {
                        if top.as_ref().is_none_or(|top| joined.score > top.score) {
                            top = Some(joined.clone());
                        }
                        withheld.push(Withheld { replacement: marker(&joined), digests: vec![digest(s)], verdict: joined });
                    }
                }
                let (worst, digests) = worst_of(withheld)?;
                // Inside a table the cell is withheld, inside JSON text the literal (whole
                // when it cannot be found as written); the digests are the flagged inner
                // texts', which is what the allow file lets through.
                let withheld = match kept {
                    Some(table) => Withheld { replacement: table, digests, ..worst },
                    None if texts.len() == 1 && texts[0] == *s => self.withheld_by_cells(s, own).unwrap_or(Withheld { digests, ..worst }),
                    None => Withheld { replacement: marker(&worst.verdict), digests, ..worst },
                };
                Some((s.to_string(), withheld))
            })
            .collect();
        // After the scan, which read the allow file: its warning is about what was used.
        let mut report = ScanReport { warnings: self.warnings(), scanned, top, ..ScanReport::default() };
        let mut arrays = Vec::new();
        string_arrays(value, &mut String::from("$"), &mut arrays);
        let cut: HashMap<String, Withheld> = arrays
            .into_iter()
            // An item flagged on its own is withheld alone: one bad console line or
            // record does not take its neighbours with it.
            .filter(|(_, items)| !items.iter().any(|item| flagged.contains_key(*item)))
            .filter_map(|(path, items)| {
                let joined = items.join(" ");
                let verdict = self.scan_patterns(&joined);
                verdict.flagged.then(|| (path, Withheld { replacement: marker(&verdict), digests: vec![digest(&joined)], verdict }))
            })
            .collect();
        let split = self.split_over_fields(value, &flagged, allowed.as_deref());
        if let Some(worst) = split.values().map(|w| &w.verdict).max_by(|a, b| a.score.total_cmp(&b.score)) {
            if report.top.as_ref().is_none_or(|top| worst.score > top.score) {
                report.top = Some(worst.clone());
            }
        }
        if flagged.is_empty() && cut.is_empty() && split.is_empty() {
            return report;
        }
        let mut path = String::from("$");
        let mut findings = Vec::new();
        walk_mut(value, &mut path, &mut |path, text| match text {
            Text::Value(s) => {
                // A flagged item of its own, or one of an array whose items say it together.
                let withheld = flagged
                    .get(s.as_str())
                    .or_else(|| array_of(path).and_then(|array| cut.get(array)))
                    .or_else(|| split.get(path))?;
                findings.push(Finding::of(with_places_inside(path, &withheld.replacement), withheld));
                *s = withheld.replacement.clone();
                None
            }
            Text::Key(key) => {
                let withheld = flagged.get(key)?;
                findings.push(Finding::of(format!("{path} (a key)"), withheld));
                // Numbered, so two withheld keys of one object stay two keys.
                Some(format!("{} #{}", marker(&withheld.verdict), findings.len()))
            }
        });
        report.withheld = findings.len();
        report.findings = findings;
        report
    }

    /// The fields of records that say together what none says alone (by the patterns,
    /// as an array's items are judged), by path, each withheld with the verdict on them
    /// all. Fields withheld or allowed on their own are left out of the join: what
    /// remains of an instruction is judged by itself.
    fn split_over_fields(&self, value: &Value, flagged: &HashMap<String, Withheld>, allowed: Option<&Allowed>) -> HashMap<String, Withheld> {
        let mut found = Vec::new();
        records(value, &mut String::from("$"), &mut found);
        let mut out = HashMap::new();
        for record in found {
            let visible: Vec<&(String, &str)> =
                record.parts.iter().filter(|(_, text)| !flagged.contains_key(*text) && !allowed.is_some_and(|a| a.contains(text))).collect();
            let texts: Vec<&str> = visible.iter().map(|(_, text)| *text).collect();
            let Some((span, verdict)) = self.split_instruction(&texts, "fields of one record") else {
                continue;
            };
            for (path, text) in &visible[span] {
                out.insert(path.clone(), Withheld { replacement: marker(&verdict), digests: vec![digest(text)], verdict: verdict.clone() });
            }
        }
        out
    }

    /// The cells of a table's rows that hold an instruction cut over them (each passes
    /// alone; see [`Defender::split_over_fields`]), with the verdict on their join. Rows
    /// with a cell withheld already (`flagged`) are left as they are.
    fn split_over_cells<'a>(&self, rows: &'a [Vec<String>], flagged: &[(&str, Withheld)], allowed: Option<&Allowed>) -> Vec<(&'a str, Withheld)> {
        let mut out = Vec::new();
        for row in rows {
            if row.iter().any(|cell| flagged.iter().any(|(text, _)| text == cell)) {
                continue;
            }
            let texts: Vec<&str> = row.iter().map(String::as_str).filter(|cell| is_prose(cell) && !allowed.is_some_and(|a| a.contains(cell))).collect();
            let Some((span, verdict)) = self.split_instruction(&texts, "cells of one row") else {
                continue;
            };
            for text in &texts[span] {
                out.push((*text, Withheld { replacement: marker(&verdict), digests: vec![digest(text)], verdict: verdict.clone() }));
            }
        }
        out
    }

    /// The narrowest run of `texts` (a record's fields, a row's cells) that the patterns
    /// flag joined, and the verdict on it, its reason naming the split over `parts`.
    fn split_instruction(&self, texts: &[&str], parts: &str) -> Option<(std::ops::Range<usize>, Verdict)> {
        let span = instruction_span(texts, |joined| self.scan_patterns(joined).flagged)?;
        let mut verdict = self.scan_patterns(&texts[span.clone()].join(" "));
        verdict.reasons.push(format!("obfuscation: split over {} {parts}", span.len()));
        Some((span, verdict))
    }

    /// [`Defender::scan_json_with`] on tokio's blocking pool, off the async executor.
    pub async fn scan_json_blocking(self: Arc<Self>, mut value: Value, own: OwnTexts) -> (Value, ScanReport) {
        match tokio::task::spawn_blocking(move || {
            let report = self.scan_json_with(&mut value, &own);
            (value, report)
        })
        .await
        {
            Ok(done) => done,
            Err(e) => {
                // Fail closed: a panicked scan withholds the whole value.
                let report = ScanReport { withheld: 1, warnings: vec![format!("defender failed: {e}")], ..ScanReport::default() };
                (Value::String(format!("{MARKER_PREFIX}: the scan failed]")), report)
            }
        }
    }
}
