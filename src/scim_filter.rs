//! SCIM filters (RFC 7644 §3.4.2.2) as PingOne's list endpoints accept them, e.g.
//! `GET /users?filter=population.id eq "…" and name.given sw "Al"`.
//!
//! Supported, following the PingOne reference (REFERENCE.md, "SCIM filter on /users"):
//! - the comparison operators `eq`, `sw`, `ew`, `co`, plus the ordering operators
//!   `gt`, `ge`, `lt`, `le` (PingOne uses them for ranges such as `updatedAt ge "…"`);
//! - `and`, `or` and parentheses; `and` binds tighter than `or`;
//! - values: double-quoted JSON strings (with `\"`, `\\` and the other JSON escapes),
//!   numbers, `true`, `false`, `null`;
//! - dotted attribute paths (`name.given`) and value paths (`memberOfGroups[id eq "…"]`),
//!   which are true when any element of the array attribute matches the inner filter.
//!
//! RFC 7644 also has `ne`, `pr` and `not`, but PingOne does not list them, so they are
//! rejected with an error that says so: the simulator must not accept a filter the real
//! API would refuse.
//!
//! Keywords (operators, `and`, `or`, `true`, `false`, `null`) and attribute names are
//! case-insensitive. String comparisons are case-sensitive: `eq` is an exact match,
//! as it has to be for ids. Error positions are 1-based character (not byte) offsets.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

/// The operators of PingOne's filter grammar, for error messages.
const OPERATORS: &str = "eq, sw, ew, co, gt, ge, lt, le";
/// Which of them a list takes, and on which attributes, differs by list (users take no
/// `gt` or `lt`): a message that lists the grammar's operators says where to look.
const OPERATORS_PER_LIST: &str = "which of them a list takes on which attribute is in the action's `filter` description";
/// What to do instead of `ne` or `!=`.
const NE_INSTEAD: &str = "filter on what the records must match, or list them all, and leave out the matching ones in the script";
const VALUE_KINDS: &str = "a double-quoted string, a number, true, false or null";

/// Parentheses and brackets may nest this deep. The parser is recursive, so without
/// a limit a hostile filter of a million `(` would overflow the stack.
const MAX_NESTING: usize = 64;

/// A parsed SCIM filter. Build one with [`Filter::parse`].
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    root: Expr,
}

/// Why a filter could not be parsed. `position` is the 1-based character offset of the
/// offending token; for "something is missing at the end" errors it is one past the
/// last character.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{message} (at character {position} of the filter)")]
pub struct FilterError {
    pub message: String,
    pub position: usize,
    /// SCIM has the operator and PingOne does not (`ne`, `!=`, `pr`, `not`): PingOne
    /// would refuse the filter too, so a caller can say so before sending it.
    pub not_in_pingone: bool,
}

impl FilterError {
    fn new(message: impl Into<String>, position: usize) -> Self {
        FilterError { message: message.into(), position, not_in_pingone: false }
    }

    fn not_in_pingone(message: impl Into<String>, position: usize) -> Self {
        FilterError { not_in_pingone: true, ..Self::new(message, position) }
    }
}

impl Filter {
    /// Parses a filter, e.g. `memberOfGroups[id eq "g1"] and enabled eq true`.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let tokens = lex(text)?;
        if tokens.is_empty() {
            return Err(FilterError::new("the filter is empty; write an expression such as username eq \"alice\"", 1));
        }
        let mut parser =
            Parser { tokens, next: 0, end: text.chars().count() + 1, open_parens: 0, nesting: 0, in_value_path: false };
        let root = parser.parse_or()?;
        if let Some(token) = parser.peek() {
            return Err(parser.unexpected_after_expression(token));
        }
        Ok(Filter { root })
    }

    /// Evaluates against one resource as JSON; missing attributes never match (except `not`).
    ///
    /// (PingOne has no `not`, so here a comparison on a missing attribute is simply false.)
    /// An attribute that holds an array matches when any of its elements does, so
    /// `memberOfGroups.id eq "g1"` and `memberOfGroups[id eq "g1"]` agree. A comparison
    /// between different JSON types (`enabled eq "true"`) is false.
    pub fn matches(&self, resource: &Value) -> bool {
        self.root.eval(resource)
    }

    /// Attribute paths the filter mentions (e.g. ["population.id", "memberOfGroups.id"]), so the caller can refuse attributes PingOne does not allow filtering on.
    ///
    /// Paths are spelled as written in the filter (attribute names are case-insensitive,
    /// so compare them case-insensitively), listed once each in order of first mention.
    /// A value path contributes `attribute.inner`, e.g. `memberOfGroups.id`.
    pub fn attributes(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.root.collect_attributes("", &mut out);
        out
    }

    /// Every comparison, its path as in [`Filter::attributes`] and its value as JSON
    /// (a string, number, boolean or null), so a caller can check values against the
    /// attributes' types.
    pub fn comparisons(&self) -> Vec<Comparison> {
        let mut out = Vec::new();
        self.root.collect_comparisons("", &mut out);
        out
    }

    /// The records that can match, by row number, from an index, so a list need not
    /// test every record. `lookup` answers one [`Probe`] with a superset of the rows for
    /// which that comparison holds, or None when it has no index for the path. None
    /// overall means the filter cannot be narrowed (no indexed comparison on some `or`
    /// branch), so every record must be tested. Candidates must still be tested with
    /// [`Filter::matches`], which alone decides.
    pub fn candidates(&self, lookup: &dyn Fn(Probe<'_>) -> Option<BTreeSet<u64>>) -> Option<BTreeSet<u64>> {
        self.root.candidates(lookup)
    }
}

/// One comparison of a filter: `enabled eq "false"` is path `enabled`, op `eq`, value
/// the string "false".
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub path: String,
    pub op: &'static str,
    pub value: Value,
}

/// A comparison an index may answer: `path eq "value"`, or `path sw "value"` when
/// `prefix`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probe<'a> {
    /// The attribute path as written; attribute names are case-insensitive.
    pub path: &'a str,
    pub prefix: bool,
    pub value: &'a str,
}

// ---------------------------------------------------------------------------------
// AST and evaluation
// ---------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: Literal,
    },
    /// `path[inner]`: true when any element of the attribute matches `inner`, whose
    /// paths are relative to the element.
    ValuePath {
        path: AttrPath,
        inner: Box<Expr>,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct AttrPath {
    /// As written, for `attributes()`.
    text: String,
    segments: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CompareOp {
    Eq,
    Sw,
    Ew,
    Co,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Co => "co",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    fn from_word(word: &str) -> Option<CompareOp> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => CompareOp::Eq,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "co" => CompareOp::Co,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Str(String),
    Number(f64),
    Bool(bool),
    Null,
}

impl Expr {
    fn eval(&self, resource: &Value) -> bool {
        match self {
            Expr::Or(a, b) => a.eval(resource) || b.eval(resource),
            Expr::And(a, b) => a.eval(resource) && b.eval(resource),
            Expr::Compare { path, op, value } => any_at(resource, &path.segments, &mut |actual| compare(actual, *op, value)),
            Expr::ValuePath { path, inner } => any_at(resource, &path.segments, &mut |element| inner.eval(element)),
        }
    }

    /// See [`Filter::candidates`]: `and` needs one side narrowed (both: their
    /// intersection), `or` needs both (their union).
    fn candidates(&self, lookup: &dyn Fn(Probe<'_>) -> Option<BTreeSet<u64>>) -> Option<BTreeSet<u64>> {
        match self {
            Expr::And(a, b) => match (a.candidates(lookup), b.candidates(lookup)) {
                (Some(x), Some(y)) => Some(x.intersection(&y).copied().collect()),
                (x, y) => x.or(y),
            },
            Expr::Or(a, b) => {
                let mut x = a.candidates(lookup)?;
                x.extend(b.candidates(lookup)?);
                Some(x)
            }
            Expr::Compare { path, op, value: Literal::Str(value) } => {
                let prefix = match op {
                    CompareOp::Eq => false,
                    CompareOp::Sw => true,
                    _ => return None,
                };
                lookup(Probe { path: &path.text, prefix, value })
            }
            // Value paths look inside array elements; other literals are not indexed.
            Expr::Compare { .. } | Expr::ValuePath { .. } => None,
        }
    }

    fn collect_comparisons(&self, prefix: &str, out: &mut Vec<Comparison>) {
        match self {
            Expr::Or(a, b) | Expr::And(a, b) => {
                a.collect_comparisons(prefix, out);
                b.collect_comparisons(prefix, out);
            }
            Expr::Compare { path, op, value } => {
                let value = match value {
                    Literal::Str(text) => Value::String(text.clone()),
                    Literal::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => Value::from(*n as i64),
                    Literal::Number(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
                    Literal::Bool(b) => Value::Bool(*b),
                    Literal::Null => Value::Null,
                };
                out.push(Comparison { path: format!("{prefix}{}", path.text), op: op.as_str(), value });
            }
            Expr::ValuePath { path, inner } => inner.collect_comparisons(&format!("{prefix}{}.", path.text), out),
        }
    }

    fn collect_attributes(&self, prefix: &str, out: &mut Vec<String>) {
        match self {
            Expr::Or(a, b) | Expr::And(a, b) => {
                a.collect_attributes(prefix, out);
                b.collect_attributes(prefix, out);
            }
            Expr::Compare { path, .. } => {
                let full = format!("{prefix}{}", path.text);
                if !out.iter().any(|seen| seen.eq_ignore_ascii_case(&full)) {
                    out.push(full);
                }
            }
            Expr::ValuePath { path, inner } => {
                inner.collect_attributes(&format!("{prefix}{}.", path.text), out);
            }
        }
    }
}

/// Whether `test` holds for any value found at `segments`. SCIM attributes may be
/// multi-valued, so an array met along the way or at the end contributes each of its
/// elements: `memberOfGroups.id` visits every group's id. Missing attributes contribute
/// nothing. (A walk, not a list of the values: filters test every record of a list.)
fn any_at(value: &Value, segments: &[String], test: &mut dyn FnMut(&Value) -> bool) -> bool {
    match segments.split_first() {
        None => elements(value).iter().any(&mut *test),
        Some((first, rest)) => elements(value).iter().filter_map(|v| get_attribute(v, first)).any(|v| any_at(v, rest, test)),
    }
}

/// An array's elements, or the value itself.
fn elements(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}

/// Attribute names are case-insensitive in SCIM; an exact match is tried first since it
/// is both the common case and cheap.
fn get_attribute<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    let object = value.as_object()?;
    object.get(name).or_else(|| object.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

fn compare(actual: &Value, op: CompareOp, expected: &Literal) -> bool {
    match op {
        CompareOp::Eq => match (actual, expected) {
            (Value::String(a), Literal::Str(b)) => a == b,
            (Value::Number(a), Literal::Number(b)) => a.as_f64() == Some(*b),
            (Value::Bool(a), Literal::Bool(b)) => a == b,
            (Value::Null, Literal::Null) => true,
            _ => false,
        },
        CompareOp::Sw | CompareOp::Ew | CompareOp::Co => {
            let (Value::String(a), Literal::Str(b)) = (actual, expected) else {
                return false;
            };
            match op {
                CompareOp::Sw => a.starts_with(b.as_str()),
                CompareOp::Ew => a.ends_with(b.as_str()),
                _ => a.contains(b.as_str()),
            }
        }
        CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => {
            let Some(ordering) = order(actual, expected) else {
                return false;
            };
            match op {
                CompareOp::Gt => ordering.is_gt(),
                CompareOp::Ge => ordering.is_ge(),
                CompareOp::Lt => ordering.is_lt(),
                _ => ordering.is_le(),
            }
        }
    }
}

/// How `actual` orders against `expected`, for `gt`/`ge`/`lt`/`le`. Numbers compare
/// numerically. Strings compare as instants when both are RFC 3339 timestamps (PingOne's
/// dates), because plain string order gets fractions and offsets wrong:
/// "…10:00:00.5Z" sorts before "…10:00:00Z" since '.' < 'Z'. Other strings compare
/// lexicographically.
fn order(actual: &Value, expected: &Literal) -> Option<Ordering> {
    match (actual, expected) {
        (Value::Number(a), Literal::Number(b)) => a.as_f64()?.partial_cmp(b),
        (Value::String(a), Literal::Str(b)) => match (timestamp(a), timestamp(b)) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => Some(a.as_str().cmp(b.as_str())),
        },
        _ => None,
    }
}

static RFC3339: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$")
        .expect("valid regex")
});

/// An RFC 3339 timestamp as (seconds since the Unix epoch, nanoseconds), or None.
fn timestamp(text: &str) -> Option<(i64, u32)> {
    let caps = RFC3339.captures(text)?;
    let num = |i: usize| -> i64 { caps.get(i).map_or(0, |m| m.as_str().parse().unwrap_or(0)) };
    let (year, month, day) = (num(1), num(2), num(3));
    let (hour, minute, second) = (num(4), num(5), num(6));
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Right-pad the fraction to nine digits: ".5" is 500_000_000 ns.
    let nanos = caps.get(7).map_or(0, |m| format!("{:0<9}", m.as_str()).parse::<u32>().unwrap_or(0));
    let offset = match caps.get(9) {
        Some(sign) => {
            let minutes = num(10) * 60 + num(11);
            if sign.as_str() == "-" {
                -minutes
            } else {
                minutes
            }
        }
        None => 0,
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset * 60;
    Some((seconds, nanos))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

// ---------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// An attribute path, operator or keyword; which one depends on where it appears,
    /// so an attribute may be called `title` or even `eq`.
    Word(String),
    Str(String),
    Number(f64),
    LParen,
    RParen,
    LBracket,
    RBracket,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// 1-based character offset of the token's first character.
    pos: usize,
    /// The token as written, for error messages.
    text: String,
}

fn lex(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let tok = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' | ')' | '[' | ']' => {
                i += 1;
                match c {
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    '[' => Tok::LBracket,
                    _ => Tok::RBracket,
                }
            }
            '"' => {
                let (value, next) = lex_string(&chars, i)?;
                i = next;
                Tok::Str(value)
            }
            c if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) => {
                let (value, next) = lex_number(&chars, i)?;
                i = next;
                Tok::Number(value)
            }
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                while i < chars.len() && is_word_char(chars[i]) {
                    i += 1;
                }
                Tok::Word(chars[start..i].iter().collect())
            }
            _ => return Err(unexpected_character(&chars, i)),
        };
        tokens.push(Token { tok, pos: start + 1, text: chars[start..i].iter().collect() });
    }
    Ok(tokens)
}

/// SCIM attribute names are letters, digits, `-` and `_`; `.` joins a path's parts and
/// `$` appears in `$ref`.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '$')
}

/// Lexes the string whose opening quote is at `start`; returns its value and the index
/// after the closing quote.
fn lex_string(chars: &[char], start: usize) -> Result<(String, usize), FilterError> {
    let unterminated = || {
        FilterError::new(
            format!(
                "unterminated string starting at character {}; add a closing double quote (a quote inside a string is written \\\")",
                start + 1
            ),
            start + 1,
        )
    };
    let mut value = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err(unterminated()),
            Some('"') => return Ok((value, i + 1)),
            Some('\\') => {
                let Some(&escaped) = chars.get(i + 1) else {
                    return Err(unterminated());
                };
                let simple = match escaped {
                    '"' => Some('"'),
                    '\\' => Some('\\'),
                    '/' => Some('/'),
                    'b' => Some('\u{8}'),
                    'f' => Some('\u{c}'),
                    'n' => Some('\n'),
                    'r' => Some('\r'),
                    't' => Some('\t'),
                    _ => None,
                };
                if let Some(c) = simple {
                    value.push(c);
                    i += 2;
                } else if escaped == 'u' {
                    let (c, next) = lex_unicode_escape(chars, i)?;
                    value.push(c);
                    i = next;
                } else {
                    return Err(FilterError::new(
                        format!(
                            "unknown escape \"\\{escaped}\" in a string; inside a string write \\\" for a double quote and \\\\ for a backslash"
                        ),
                        i + 1,
                    ));
                }
            }
            Some(&c) => {
                value.push(c);
                i += 1;
            }
        }
    }
}

/// Decodes `\uXXXX` at `i` (the backslash), including a UTF-16 surrogate pair written
/// as two escapes, as JSON does for characters outside the Basic Multilingual Plane.
fn lex_unicode_escape(chars: &[char], i: usize) -> Result<(char, usize), FilterError> {
    let hex4 = |at: usize| -> Option<u32> {
        let digits: String = chars.get(at..at + 4)?.iter().collect();
        if digits.chars().all(|c| c.is_ascii_hexdigit()) {
            u32::from_str_radix(&digits, 16).ok()
        } else {
            None
        }
    };
    let bad = || {
        FilterError::new(
            "\"\\u\" must be followed by four hex digits, e.g. \\u00e9, and a surrogate \\uD800-\\uDBFF by a second \\uDC00-\\uDFFF",
            i + 1,
        )
    };
    let high = hex4(i + 2).ok_or_else(bad)?;
    let mut next = i + 6;
    let code = match high {
        0xD800..=0xDBFF => {
            if chars.get(next) != Some(&'\\') || chars.get(next + 1) != Some(&'u') {
                return Err(bad());
            }
            let low = hex4(next + 2).ok_or_else(bad)?;
            if !(0xDC00..=0xDFFF).contains(&low) {
                return Err(bad());
            }
            next += 6;
            0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        }
        0xDC00..=0xDFFF => return Err(bad()),
        other => other,
    };
    Ok((char::from_u32(code).ok_or_else(bad)?, next))
}

/// Lexes a JSON number (`-?digits(.digits)?([eE][+-]?digits)?`) starting at `start`.
fn lex_number(chars: &[char], start: usize) -> Result<(f64, usize), FilterError> {
    let digits_from = |mut i: usize| {
        while chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let mut i = start;
    if chars[i] == '-' {
        i += 1;
    }
    i = digits_from(i);
    let mut well_formed = true;
    if chars.get(i) == Some(&'.') {
        let after = digits_from(i + 1);
        well_formed &= after > i + 1;
        i = after;
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        let mut j = i + 1;
        if matches!(chars.get(j), Some('+' | '-')) {
            j += 1;
        }
        let after = digits_from(j);
        well_formed &= after > j;
        i = after;
    }
    // Letters glued to the digits ("12abc") are a typo, not a number followed by a word.
    while chars.get(i).is_some_and(|&c| is_word_char(c)) {
        well_formed = false;
        i += 1;
    }
    let text: String = chars[start..i].iter().collect();
    match text.parse::<f64>() {
        Ok(value) if well_formed && value.is_finite() => Ok((value, i)),
        _ => Err(FilterError::new(
            format!("malformed number \"{text}\"; write numbers like 42, -7 or 3.14, and strings in double quotes"),
            start + 1,
        )),
    }
}

/// An error for a character that starts no token, with a hint for the usual mistakes
/// (other query languages' operators, single quotes, a still URL-encoded filter).
fn unexpected_character(chars: &[char], i: usize) -> FilterError {
    let c = chars[i];
    let next = chars.get(i + 1).copied();
    let message = match (c, next) {
        ('\'', _) => "single quotes are not allowed; put strings in double quotes, e.g. username eq \"alice\"".to_string(),
        ('=', Some('=')) => format!("\"==\" is not a SCIM operator; use eq (operators are {OPERATORS})"),
        ('=', _) => format!("\"=\" is not a SCIM operator; use eq (operators are {OPERATORS})"),
        ('!', Some('=')) => return FilterError::not_in_pingone(format!("\"!=\" is not a SCIM operator, and PingOne does not support ne; {NE_INSTEAD}"), i + 1),
        ('<' | '>', _) => {
            let written: String = if next == Some('=') { format!("{c}=") } else { c.to_string() };
            let word = match written.as_str() {
                "<" => "lt",
                "<=" => "le",
                ">" => "gt",
                _ => "ge",
            };
            format!("\"{written}\" is not a SCIM operator; use {word}")
        }
        ('&', _) => "\"&\" is not a SCIM operator; combine expressions with and".to_string(),
        ('|', _) => "\"|\" is not a SCIM operator; combine expressions with or".to_string(),
        ('%', _) => "unexpected character \"%\"; the filter looks URL-encoded, so decode it first".to_string(),
        _ => format!(
            "unexpected character \"{c}\"; a filter is made of attribute paths, the operators {OPERATORS}, values ({VALUE_KINDS}), and, or and parentheses"
        ),
    };
    FilterError::new(message, i + 1)
}

// ---------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------
//
// filter     = or-expr
// or-expr    = and-expr *("or" and-expr)
// and-expr   = atom *("and" atom)
// atom       = "(" or-expr ")" / attr-path "[" or-expr "]" / attr-path operator value

struct Parser {
    tokens: Vec<Token>,
    next: usize,
    /// Position just past the last character, for "missing at the end" errors.
    end: usize,
    /// Parentheses open in the current bracket (or at the top level), to tell a stray
    /// `)` from a closing one.
    open_parens: usize,
    /// Parentheses and brackets open in total, against `MAX_NESTING`.
    nesting: usize,
    /// Inside `attr[...]`; SCIM does not allow value paths to nest.
    in_value_path: bool,
}

impl Parser {
    fn peek(&self) -> Option<Token> {
        self.tokens.get(self.next).cloned()
    }

    fn advance(&mut self) -> Option<Token> {
        let token = self.peek();
        if token.is_some() {
            self.next += 1;
        }
        token
    }

    fn previous(&self) -> Option<&Token> {
        self.next.checked_sub(1).and_then(|i| self.tokens.get(i))
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(keyword))
    }

    fn parse_or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.parse_and()?;
        while self.peek_keyword("or") {
            self.advance();
            let right = self.parse_and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.parse_atom()?;
        while self.peek_keyword("and") {
            self.advance();
            let right = self.parse_atom()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_atom(&mut self) -> Result<Expr, FilterError> {
        let Some(token) = self.peek() else {
            let message = match self.previous() {
                Some(prev) => format!("expected an expression after \"{}\", such as username eq \"alice\"", prev.text),
                None => "expected an expression, such as username eq \"alice\"".to_string(),
            };
            return Err(FilterError::new(message, self.end));
        };
        match &token.tok {
            Tok::LParen => self.parse_parenthesised(),
            Tok::Word(word) => {
                let lower = word.to_ascii_lowercase();
                // A keyword here is an attribute name only if an operator or `[` follows
                // it (`not eq true`); otherwise it is a misplaced keyword.
                let keyword_is_attribute = match self.tokens.get(self.next + 1) {
                    Some(Token { tok: Tok::Word(w), .. }) => {
                        CompareOp::from_word(w).is_some() || ["ne", "pr"].contains(&w.to_ascii_lowercase().as_str())
                    }
                    Some(Token { tok: Tok::LBracket, .. }) => true,
                    _ => false,
                };
                if lower == "not" && !keyword_is_attribute {
                    return Err(FilterError::not_in_pingone(
                        "\"not\" is not supported by PingOne's SCIM filters; filter on what the records must match, with and/or, and leave out the others in the script",
                        token.pos,
                    ));
                }
                if (lower == "and" || lower == "or") && !keyword_is_attribute {
                    return Err(self.expected_expression(&token));
                }
                self.parse_attribute_expression()
            }
            Tok::RParen if self.open_parens == 0 => Err(stray_closer(&token)),
            Tok::RBracket if !self.in_value_path => Err(stray_closer(&token)),
            _ => Err(self.expected_expression(&token)),
        }
    }

    /// `( or-expr )`, with the `(` next.
    fn parse_parenthesised(&mut self) -> Result<Expr, FilterError> {
        let open = self.advance().expect("caller peeked a token");
        self.enter(&open)?;
        self.open_parens += 1;
        let inner = self.parse_or()?;
        match self.peek() {
            Some(Token { tok: Tok::RParen, .. }) => {
                self.advance();
            }
            // End of input, or a `]` closing a value path around this unclosed `(`.
            None | Some(Token { tok: Tok::RBracket, .. }) => {
                return Err(FilterError::new(
                    format!("unbalanced parenthesis: the \"(\" at character {} is never closed; add a \")\"", open.pos),
                    open.pos,
                ));
            }
            Some(other) => return Err(self.unexpected_after_expression(other)),
        }
        self.open_parens -= 1;
        self.nesting -= 1;
        Ok(inner)
    }

    /// `attr-path operator value` or `attr-path [ or-expr ]`, with the path next.
    fn parse_attribute_expression(&mut self) -> Result<Expr, FilterError> {
        let path_token = self.advance().expect("caller peeked a token");
        let path = attribute_path(&path_token)?;
        let Some(token) = self.peek() else {
            return Err(FilterError::new(
                format!("expected an operator after \"{}\"; use one of {OPERATORS} ({OPERATORS_PER_LIST})", path_token.text),
                self.end,
            ));
        };
        match &token.tok {
            Tok::LBracket => self.parse_value_path(path),
            Tok::Word(word) => {
                self.advance();
                let Some(op) = CompareOp::from_word(word) else {
                    return Err(unknown_operator(&path_token, &token));
                };
                let value = self.parse_value(op, &token)?;
                Ok(Expr::Compare { path, op, value })
            }
            _ => Err(FilterError::new(
                format!(
                    "expected an operator after \"{}\" but found {}; use one of {OPERATORS} ({OPERATORS_PER_LIST})",
                    path_token.text, token.text
                ),
                token.pos,
            )),
        }
    }

    /// `[ or-expr ]` after `path`, with the `[` next.
    fn parse_value_path(&mut self, path: AttrPath) -> Result<Expr, FilterError> {
        let open = self.advance().expect("caller peeked a token");
        if self.in_value_path {
            return Err(FilterError::new(
                "value paths cannot be nested; inside [...] compare the element's own attributes, e.g. memberOfGroups[id eq \"…\"]",
                open.pos,
            ));
        }
        self.enter(&open)?;
        // Parentheses outside the brackets cannot be closed inside them.
        let outer_parens = std::mem::replace(&mut self.open_parens, 0);
        self.in_value_path = true;
        let inner = self.parse_or()?;
        match self.peek() {
            Some(Token { tok: Tok::RBracket, .. }) => {
                self.advance();
            }
            None | Some(Token { tok: Tok::RParen, .. }) => {
                return Err(FilterError::new(
                    format!("unbalanced bracket: the \"[\" at character {} is never closed; add a \"]\"", open.pos),
                    open.pos,
                ));
            }
            Some(other) => return Err(self.unexpected_after_expression(other)),
        }
        self.in_value_path = false;
        self.open_parens = outer_parens;
        self.nesting -= 1;
        Ok(Expr::ValuePath { path, inner: Box::new(inner) })
    }

    /// The value after `op_token`, checked against what the operator can compare.
    fn parse_value(&mut self, op: CompareOp, op_token: &Token) -> Result<Literal, FilterError> {
        let op_text = &op_token.text;
        let Some(token) = self.advance() else {
            return Err(FilterError::new(format!("expected a value after \"{op_text}\"; use {VALUE_KINDS}"), self.end));
        };
        let value = match &token.tok {
            Tok::Str(s) => Literal::Str(s.clone()),
            Tok::Number(n) => Literal::Number(*n),
            Tok::Word(w) => match w.to_ascii_lowercase().as_str() {
                "true" => Literal::Bool(true),
                "false" => Literal::Bool(false),
                "null" => Literal::Null,
                _ => {
                    return Err(FilterError::new(
                        format!(
                            "expected a value after \"{op_text}\" but found {w}; put strings in double quotes, e.g. \"{w}\""
                        ),
                        token.pos,
                    ))
                }
            },
            _ => {
                return Err(FilterError::new(
                    format!(
                        "expected a value after \"{op_text}\" but found \"{}\"; use {VALUE_KINDS}",
                        token.text
                    ),
                    token.pos,
                ))
            }
        };
        let acceptable = match op {
            CompareOp::Eq => true,
            CompareOp::Sw | CompareOp::Ew | CompareOp::Co => matches!(value, Literal::Str(_)),
            _ => matches!(value, Literal::Str(_) | Literal::Number(_)),
        };
        if !acceptable {
            let needs = match op {
                CompareOp::Sw | CompareOp::Ew | CompareOp::Co => "compares strings; put the value in double quotes",
                _ => "compares strings (such as dates) or numbers, not true, false or null",
            };
            return Err(FilterError::new(format!("\"{op_text}\" {needs}"), token.pos));
        }
        Ok(value)
    }

    /// Counts an opening `(` or `[` against the nesting limit.
    fn enter(&mut self, open: &Token) -> Result<(), FilterError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(FilterError::new(
                format!("the filter nests parentheses and brackets more than {MAX_NESTING} deep; simplify it"),
                open.pos,
            ));
        }
        Ok(())
    }

    fn expected_expression(&self, found: &Token) -> FilterError {
        let message = match self.previous() {
            Some(prev) => format!(
                "expected an expression after \"{}\" but found \"{}\"; write one such as username eq \"alice\"",
                prev.text, found.text
            ),
            None => format!(
                "expected an expression but found \"{}\"; a filter starts with an attribute, e.g. username eq \"alice\"",
                found.text
            ),
        };
        FilterError::new(message, found.pos)
    }

    /// An error for `token`, found where a complete expression may only be followed by
    /// `and`, `or`, a closer, or the end.
    fn unexpected_after_expression(&self, token: Token) -> FilterError {
        match token.tok {
            Tok::RParen if self.open_parens == 0 => return stray_closer(&token),
            Tok::RBracket if !self.in_value_path => return stray_closer(&token),
            _ => {}
        }
        let mut allowed = vec!["\"and\"", "\"or\""];
        if self.open_parens > 0 {
            allowed.push("\")\"");
        }
        if self.in_value_path {
            allowed.push("\"]\"");
        }
        let allowed = match allowed.split_last() {
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        FilterError::new(
            format!("expected {allowed} but found \"{}\"; join conditions with and/or", token.text),
            token.pos,
        )
    }
}

/// Checks the parts of a dotted path (`name.given`) and splits it.
fn attribute_path(token: &Token) -> Result<AttrPath, FilterError> {
    let Tok::Word(text) = &token.tok else { unreachable!("attribute paths are words") };
    let segments: Vec<String> = text.split('.').map(str::to_string).collect();
    let well_formed = segments
        .iter()
        .all(|segment| segment.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$'));
    if !well_formed {
        return Err(FilterError::new(
            format!(
                "malformed attribute path \"{text}\"; each part must start with a letter, joined by single dots, e.g. name.given"
            ),
            token.pos,
        ));
    }
    Ok(AttrPath { text: text.clone(), segments })
}

fn unknown_operator(path: &Token, op: &Token) -> FilterError {
    let message = match op.text.to_ascii_lowercase().as_str() {
        "ne" => return FilterError::not_in_pingone(format!("\"{}\" is not supported by PingOne's SCIM filters; {NE_INSTEAD}", op.text), op.pos),
        "pr" => {
            let message = format!("\"{}\" (present) is not supported by PingOne's SCIM filters; list without it and keep the records that have `{}` in the script", op.text, path.text);
            return FilterError::not_in_pingone(message, op.pos);
        }
        "and" | "or" => {
            format!("expected an operator after \"{}\" but found \"{}\"; use one of {OPERATORS} ({OPERATORS_PER_LIST})", path.text, op.text)
        }
        _ => format!("unknown operator \"{}\"; use one of {OPERATORS} ({OPERATORS_PER_LIST})", op.text),
    };
    FilterError::new(message, op.pos)
}

fn stray_closer(token: &Token) -> FilterError {
    let (kind, opener) = if token.tok == Tok::RParen { ("parenthesis", "(") } else { ("bracket", "[") };
    FilterError::new(
        format!(
            "unbalanced {kind}: this \"{}\" has no matching \"{opener}\"; remove it or add the \"{opener}\"",
            token.text
        ),
        token.pos,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn alice() -> Value {
        json!({
            "id": "5a9c0d1e-1111-4a2b-9c3d-000000000001",
            "username": "alice.smith",
            "email": "alice.smith@example.com",
            "enabled": true,
            "population": {"id": "pop-0001"},
            "name": {"given": "Alice", "family": "Smith"},
            "memberOfGroups": [{"id": "grp-admins"}, {"id": "grp-sales"}],
            "loginCount": 42,
            "createdAt": "2024-03-05T10:11:12.345Z",
            "updatedAt": "2024-06-01T08:00:00.500Z",
            "nickname": null
        })
    }

    fn bob() -> Value {
        json!({
            "id": "5a9c0d1e-2222-4a2b-9c3d-000000000002",
            "username": "bob.jones",
            "email": "bob@example.org",
            "enabled": false,
            "population": {"id": "pop-0002"},
            "name": {"given": "Bob", "family": "Jones"},
            "memberOfGroups": [],
            "loginCount": 3,
            "updatedAt": "2023-12-31T23:59:59Z"
        })
    }

    fn matches(filter: &str, resource: &Value) -> bool {
        Filter::parse(filter).unwrap_or_else(|e| panic!("{filter:?} should parse: {e}")).matches(resource)
    }

    fn error(filter: &str) -> FilterError {
        match Filter::parse(filter) {
            Ok(parsed) => panic!("{filter:?} should not parse, got {parsed:?}"),
            Err(e) => e,
        }
    }

    /// Asserts the error's position and that its message contains `fragment`.
    fn assert_error(filter: &str, position: usize, fragment: &str) {
        let e = error(filter);
        assert!(e.message.contains(fragment), "{filter:?}: message {:?} should contain {fragment:?}", e.message);
        assert_eq!(e.position, position, "{filter:?}: {e}");
    }

    // --- operators ---------------------------------------------------------------

    #[test]
    fn eq_is_exact_on_strings() {
        let user = alice();
        assert!(matches(r#"id eq "5a9c0d1e-1111-4a2b-9c3d-000000000001""#, &user));
        assert!(!matches(r#"id eq "5A9C0D1E-1111-4A2B-9C3D-000000000001""#, &user));
        assert!(!matches(r#"username eq "alice""#, &user));
        assert!(matches(r#"username eq "alice.smith""#, &user));
    }

    #[test]
    fn eq_on_numbers_booleans_and_null() {
        let user = alice();
        assert!(matches("loginCount eq 42", &user));
        assert!(matches("loginCount eq 42.0", &user));
        assert!(matches("loginCount eq 4.2e1", &user));
        assert!(!matches("loginCount eq 43", &user));
        assert!(matches("enabled eq true", &user));
        assert!(!matches("enabled eq false", &user));
        assert!(matches("nickname eq null", &user));
        // A missing attribute is not null: missing attributes never match.
        assert!(!matches("title eq null", &user));
    }

    #[test]
    fn different_types_never_match() {
        let user = alice();
        assert!(!matches(r#"enabled eq "true""#, &user));
        assert!(!matches(r#"loginCount eq "42""#, &user));
        assert!(!matches("username eq null", &user));
        assert!(!matches(r#"loginCount sw "4""#, &user));
        assert!(!matches(r#"population eq "pop-0001""#, &user));
    }

    #[test]
    fn sw_ew_co() {
        let user = alice();
        assert!(matches(r#"name.given sw "Al""#, &user));
        assert!(!matches(r#"name.given sw "al""#, &user));
        assert!(!matches(r#"name.given sw "ce""#, &user));
        assert!(matches(r#"email ew "@example.com""#, &user));
        assert!(!matches(r#"email ew "@example.org""#, &user));
        assert!(matches(r#"email co "smith@""#, &user));
        assert!(!matches(r#"email co "jones""#, &user));
        assert!(matches(r#"username sw """#, &user));
    }

    #[test]
    fn ordering_operators_on_numbers() {
        let user = alice();
        assert!(matches("loginCount gt 41", &user));
        assert!(!matches("loginCount gt 42", &user));
        assert!(matches("loginCount ge 42", &user));
        assert!(matches("loginCount lt 42.5", &user));
        assert!(!matches("loginCount lt 42", &user));
        assert!(matches("loginCount le 42", &user));
        assert!(matches("loginCount gt -1", &user));
    }

    #[test]
    fn ordering_operators_on_timestamps() {
        let (a, b) = (alice(), bob());
        let range = r#"updatedAt ge "2024-01-01T00:00:00Z" and updatedAt le "2024-12-31T23:59:59Z""#;
        assert!(matches(range, &a));
        assert!(!matches(range, &b));
        // Fractional seconds: string order would put "…00.500Z" before "…00Z".
        assert!(matches(r#"updatedAt gt "2024-06-01T08:00:00Z""#, &a));
        assert!(!matches(r#"updatedAt lt "2024-06-01T08:00:00Z""#, &a));
        // Offsets: 10:00:00+02:00 is 08:00:00Z.
        assert!(matches(r#"updatedAt ge "2024-06-01T10:00:00+02:00""#, &a));
        assert!(!matches(r#"updatedAt ge "2024-06-01T10:00:01+02:00""#, &a));
        // Plain strings compare lexicographically.
        assert!(matches(r#"username gt "alice""#, &a));
        assert!(matches(r#"username lt "b""#, &a));
    }

    #[test]
    fn timestamps_convert_to_epoch_seconds() {
        assert_eq!(timestamp("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(timestamp("2000-03-01T00:00:00Z"), Some((951_868_800, 0)));
        assert_eq!(timestamp("2024-02-29T12:00:00.25Z"), Some((1_709_208_000, 250_000_000)));
        assert_eq!(timestamp("2024-02-29T13:00:00+01:00"), Some((1_709_208_000, 0)));
        assert_eq!(timestamp("2024-13-01T00:00:00Z"), None);
        assert_eq!(timestamp("yesterday"), None);
    }

    // --- logic -------------------------------------------------------------------

    #[test]
    fn and_binds_tighter_than_or() {
        let user = alice();
        // true or (false and false) = true; (true or false) and false would be false.
        assert!(matches(r#"enabled eq true or username eq "x" and email eq "y""#, &user));
        // (false and false) or true = true; false and (false or true) would be false.
        assert!(matches(r#"username eq "x" and email eq "y" or enabled eq true"#, &user));
        assert!(!matches(r#"username eq "x" and (email eq "y" or enabled eq true)"#, &user));
        // The tree itself: `a or b and c` is `a or (b and c)`, not `(a or b) and c`.
        let parse = |text: &str| Filter::parse(text).expect("parses");
        assert_eq!(parse("a eq 1 or b eq 2 and c eq 3"), parse("a eq 1 or (b eq 2 and c eq 3)"));
        assert_ne!(parse("a eq 1 or b eq 2 and c eq 3"), parse("(a eq 1 or b eq 2) and c eq 3"));
    }

    #[test]
    fn parentheses_group() {
        let user = alice();
        assert!(!matches(r#"(enabled eq true or username eq "x") and email eq "y""#, &user));
        assert!(matches(r#"((enabled eq true)) and (name.family eq "Smith" or name.family eq "Jones")"#, &user));
        assert_eq!(Filter::parse(r#"a eq 1 or b eq 2 and c eq 3"#), Filter::parse(r#"a eq 1 or (b eq 2 and c eq 3)"#));
    }

    #[test]
    fn and_or_chains() {
        let user = alice();
        assert!(matches(r#"enabled eq true and name.given eq "Alice" and name.family eq "Smith""#, &user));
        assert!(!matches(r#"enabled eq true and name.given eq "Alice" and name.family eq "Jones""#, &user));
        assert!(matches(r#"id eq "a" or id eq "b" or username eq "alice.smith""#, &user));
    }

    // --- paths -------------------------------------------------------------------

    #[test]
    fn dotted_paths() {
        let user = alice();
        assert!(matches(r#"population.id eq "pop-0001""#, &user));
        assert!(matches(r#"name.family eq "Smith""#, &user));
        assert!(!matches(r#"name.middle eq "Smith""#, &user));
        assert!(!matches(r#"population.id.x eq "pop-0001""#, &user));
        assert!(!matches(r#"address.locality eq "Denver""#, &user));
    }

    #[test]
    fn value_paths_match_any_element() {
        let (a, b) = (alice(), bob());
        assert!(matches(r#"memberOfGroups[id eq "grp-sales"]"#, &a));
        assert!(matches(r#"memberOfGroups[id eq "grp-admins"]"#, &a));
        assert!(!matches(r#"memberOfGroups[id eq "grp-other"]"#, &a));
        assert!(!matches(r#"memberOfGroups[id eq "grp-sales"]"#, &b));
        // The inner filter applies to one element at a time.
        assert!(!matches(r#"memberOfGroups[id eq "grp-sales" and id eq "grp-admins"]"#, &a));
        assert!(matches(r#"memberOfGroups[id eq "grp-sales" or id eq "grp-other"]"#, &a));
        assert!(matches(r#"memberOfGroups[(id sw "grp-") and id ew "ales"]"#, &a));
        // Combined with other conditions.
        assert!(matches(r#"memberOfGroups[id eq "grp-sales"] and population.id eq "pop-0001""#, &a));
        assert!(!matches(r#"nosuch[id eq "grp-sales"]"#, &a));
    }

    #[test]
    fn value_paths_on_arrays_of_richer_objects() {
        let user = json!({
            "emails": [
                {"type": "work", "value": "a@corp.example", "primary": true},
                {"type": "home", "value": "a@home.example", "primary": false}
            ]
        });
        assert!(matches(r#"emails[type eq "work" and value ew "@corp.example"]"#, &user));
        assert!(!matches(r#"emails[type eq "home" and value ew "@corp.example"]"#, &user));
        assert!(matches(r#"emails[primary eq false]"#, &user));
    }

    #[test]
    fn dotted_paths_through_arrays_match_any_element() {
        let user = alice();
        assert!(matches(r#"memberOfGroups.id eq "grp-sales""#, &user));
        assert!(!matches(r#"memberOfGroups.id eq "grp-none""#, &user));
        assert!(matches(r#"tags co "b""#, &json!({"tags": ["a", "bc"]})));
    }

    #[test]
    fn attribute_names_are_case_insensitive() {
        let user = alice();
        assert!(matches(r#"USERNAME eq "alice.smith""#, &user));
        assert!(matches(r#"Population.ID eq "pop-0001""#, &user));
        assert!(matches(r#"memberofgroups[ID eq "grp-sales"]"#, &user));
        // Values stay case-sensitive.
        assert!(!matches(r#"Name.Given eq "ALICE""#, &user));
    }

    #[test]
    fn operators_and_keywords_are_case_insensitive() {
        let user = alice();
        assert!(matches(r#"username EQ "alice.smith""#, &user));
        assert!(matches(r#"name.given Sw "Al""#, &user));
        assert!(matches(r#"email eW "example.com""#, &user));
        assert!(matches(r#"email CO "smith""#, &user));
        assert!(matches("loginCount GE 42 AND loginCount Le 42", &user));
        assert!(matches(r#"username eq "x" OR enabled eq TRUE"#, &user));
        assert!(matches("enabled eq True", &user));
        assert!(matches("nickname eq NULL", &user));
        assert!(matches("loginCount Gt 1 aNd loginCount lT 100", &user));
    }

    #[test]
    fn booleans() {
        let (a, b) = (alice(), bob());
        assert!(matches("enabled eq true", &a));
        assert!(!matches("enabled eq true", &b));
        assert!(matches("enabled eq false", &b));
        assert!(!matches("enabled eq false", &a));
    }

    #[test]
    fn missing_attributes_never_match() {
        let user = json!({"id": "u1"});
        for filter in [
            r#"username eq "x""#,
            r#"username sw """#,
            r#"email co "@""#,
            "enabled eq false",
            "loginCount lt 100",
            r#"name.given ew "x""#,
            r#"memberOfGroups[id sw ""]"#,
        ] {
            assert!(!matches(filter, &user), "{filter}");
        }
    }

    #[test]
    fn string_escapes() {
        let user = json!({"title": "the \"boss\" \\ é 😀"});
        assert!(matches(r#"title eq "the \"boss\" \\ é 😀""#, &user));
        assert!(matches(r#"title co "\"boss\"""#, &user));
        assert!(matches(r#"title ew "\u00e9 \ud83d\ude00""#, &user));
        assert!(matches(r#"title sw "the\u0020""#, &user));
        assert!(matches(r#"x eq "a\/b\tc\nd""#, &json!({"x": "a/b\tc\nd"})));
    }

    #[test]
    fn words_that_are_keywords_elsewhere_can_be_attributes() {
        let resource = json!({"or": "x", "eq": 1, "not": true, "title": "t"});
        assert!(matches(r#"or eq "x""#, &resource));
        assert!(matches("eq eq 1", &resource));
        assert!(matches("not eq true", &resource));
        assert!(matches(r#"title eq "t" and not eq true"#, &resource));
    }

    #[test]
    fn whitespace_is_flexible() {
        let user = alice();
        assert!(matches("  ( enabled  eq\ttrue )and(memberOfGroups [ id eq \"grp-sales\" ])\n", &user));
    }

    // --- realistic user lists ----------------------------------------------------

    #[test]
    fn filters_a_list_of_pingone_users() {
        let carol = json!({
            "id": "5a9c0d1e-3333-4a2b-9c3d-000000000003",
            "username": "carol",
            "email": "carol@example.com",
            "enabled": true,
            "population": {"id": "pop-0002"},
            "name": {"given": "Carol", "family": "Smithers"},
            "memberOfGroups": [{"id": "grp-sales"}]
        });
        let users = [alice(), bob(), carol];
        let select = |filter: &str| -> Vec<String> {
            let filter = Filter::parse(filter).expect("parses");
            users
                .iter()
                .filter(|u| filter.matches(u))
                .map(|u| u["username"].as_str().unwrap_or_default().to_string())
                .collect()
        };
        assert_eq!(select(r#"memberOfGroups[id eq "grp-sales"]"#), ["alice.smith", "carol"]);
        assert_eq!(select(r#"population.id eq "pop-0002""#), ["bob.jones", "carol"]);
        assert_eq!(select(r#"population.id eq "pop-0002" and enabled eq true"#), ["carol"]);
        assert_eq!(select(r#"name.family sw "Smith""#), ["alice.smith", "carol"]);
        assert_eq!(select(r#"email ew "@example.com""#), ["alice.smith", "carol"]);
        assert_eq!(
            select(r#"(name.given eq "Bob" or name.given eq "Carol") and memberOfGroups[id eq "grp-sales"]"#),
            ["carol"]
        );
        assert_eq!(select(r#"username eq "nobody""#), Vec::<String>::new());
    }

    // --- attributes() ------------------------------------------------------------

    #[test]
    fn attributes_lists_each_path_once() {
        let filter = Filter::parse(
            r#"population.id eq "p" and (memberOfGroups[id eq "g" or id eq "h"] or name.given sw "A") and Population.Id eq "q""#,
        )
        .expect("parses");
        assert_eq!(filter.attributes(), ["population.id", "memberOfGroups.id", "name.given"]);
        assert_eq!(Filter::parse("enabled eq true").expect("parses").attributes(), ["enabled"]);
        assert_eq!(
            Filter::parse(r#"emails[type eq "work" and value co "@"]"#).expect("parses").attributes(),
            ["emails.type", "emails.value"]
        );
    }

    // --- errors ------------------------------------------------------------------

    #[test]
    fn error_display_includes_the_position() {
        let e = error(r#"username eqq "a""#);
        assert_eq!(
            e.to_string(),
            "unknown operator \"eqq\"; use one of eq, sw, ew, co, gt, ge, lt, le (which of them a list takes on which attribute is in the action's `filter` description) (at character 10 of the filter)"
        );
    }

    #[test]
    fn empty_filter() {
        assert_error("", 1, "the filter is empty");
        assert_error("   ", 1, "the filter is empty");
    }

    #[test]
    fn unknown_operator() {
        assert_error(r#"username eqq "a""#, 10, "unknown operator \"eqq\"; use one of eq, sw");
        assert_error(r#"username like "a""#, 10, "unknown operator \"like\"");
    }

    #[test]
    fn operators_pingone_does_not_support() {
        // What to do instead, not a list of operators that the list may refuse too
        // (users take no gt or lt).
        assert_error(r#"username ne "a""#, 10, "\"ne\" is not supported by PingOne's SCIM filters; filter on what the records must match");
        assert_error(r#"username != "a""#, 10, "PingOne does not support ne; filter on what the records must match");
        assert_error("title pr", 7, "\"pr\" (present) is not supported by PingOne's SCIM filters; list without it and keep the records that have `title` in the script");
        assert_error(r#"not (username eq "a")"#, 1, "\"not\" is not supported by PingOne");
        assert_error(r#"enabled eq true and NOT (username eq "a")"#, 21, "\"not\" is not supported");
    }

    #[test]
    fn unterminated_string() {
        assert_error(
            r#"username eq "alice"#,
            13,
            "unterminated string starting at character 13; add a closing double quote",
        );
        // A trailing backslash escapes what would have been the closing quote.
        assert_error(r#"username eq "alice\""#, 13, "unterminated string");
        assert_error(r#"username eq "alice\"#, 13, "unterminated string");
    }

    #[test]
    fn bad_escapes() {
        assert_error(r#"title eq "a\qb""#, 12, "unknown escape \"\\q\"");
        assert_error(r#"title eq "\u12""#, 11, "four hex digits");
        assert_error(r#"title eq "\uzzzz""#, 11, "four hex digits");
        assert_error(r#"title eq "\ud83d""#, 11, "surrogate");
        assert_error(r#"title eq "\ude00x""#, 11, "surrogate");
    }

    #[test]
    fn missing_operator() {
        assert_error("username", 9, "expected an operator after \"username\"; use one of eq");
        assert_error(r#"username "alice""#, 10, "expected an operator after \"username\" but found \"alice\"");
        assert_error(r#"enabled and x eq 1"#, 9, "expected an operator after \"enabled\" but found \"and\"");
    }

    #[test]
    fn missing_or_wrong_value() {
        assert_error("username eq", 12, "expected a value after \"eq\"; use a double-quoted string");
        assert_error("username eq ", 13, "expected a value after \"eq\"");
        assert_error(
            "username eq alice",
            13,
            "expected a value after \"eq\" but found alice; put strings in double quotes, e.g. \"alice\"",
        );
        assert_error("username eq )", 13, "expected a value after \"eq\" but found \")\"");
        assert_error("name.given sw 5", 15, "\"sw\" compares strings; put the value in double quotes");
        assert_error("name.given CO true", 15, "\"CO\" compares strings");
        assert_error("enabled gt true", 12, "\"gt\" compares strings (such as dates) or numbers");
        assert_error("x le null", 6, "\"le\" compares strings");
    }

    #[test]
    fn malformed_numbers_and_paths() {
        assert_error("x eq 1.", 6, "malformed number \"1.\"");
        assert_error("x eq 1e", 6, "malformed number \"1e\"");
        assert_error("x eq 12abc", 6, "malformed number \"12abc\"");
        assert_error(r#"name..given eq "a""#, 1, "malformed attribute path \"name..given\"");
        assert_error(r#"name. eq "a""#, 1, "malformed attribute path");
        assert_error(r#"name.1st eq "a""#, 1, "malformed attribute path");
    }

    #[test]
    fn unbalanced_parentheses() {
        assert_error(
            r#"(username eq "a""#,
            1,
            "unbalanced parenthesis: the \"(\" at character 1 is never closed; add a \")\"",
        );
        assert_error(r#"((username eq "a")"#, 1, "unbalanced parenthesis");
        assert_error(r#"username eq "a")"#, 16, "unbalanced parenthesis: this \")\" has no matching \"(\"");
        assert_error(r#")username eq "a""#, 1, "unbalanced parenthesis");
        assert_error(r#"(a eq 1) or b eq 2)"#, 19, "unbalanced parenthesis");
        assert_error("()", 2, "expected an expression after \"(\" but found \")\"");
    }

    #[test]
    fn unbalanced_brackets() {
        assert_error(
            r#"memberOfGroups[id eq "g""#,
            15,
            "unbalanced bracket: the \"[\" at character 15 is never closed; add a \"]\"",
        );
        assert_error(r#"(memberOfGroups[id eq "g")]"#, 16, "unbalanced bracket: the \"[\"");
        assert_error(r#"memberOfGroups[(id eq "g"]"#, 16, "unbalanced parenthesis: the \"(\" at character 16");
        assert_error(r#"id eq "g"]"#, 10, "unbalanced bracket: this \"]\" has no matching \"[\"");
        assert_error(r#"]"#, 1, "unbalanced bracket");
        assert_error("memberOfGroups[]", 16, "expected an expression after \"[\" but found \"]\"");
    }

    #[test]
    fn nested_value_paths() {
        assert_error(r#"a[b[c eq 1]]"#, 4, "value paths cannot be nested");
    }

    #[test]
    fn expressions_must_be_joined_by_and_or() {
        assert_error(r#"username eq "a" email eq "b""#, 17, "expected \"and\" or \"or\" but found \"email\"");
        assert_error(r#"(a eq 1 b eq 2)"#, 9, "expected \"and\", \"or\" or \")\" but found \"b\"");
        assert_error(r#"g[a eq 1 b eq 2]"#, 10, "expected \"and\", \"or\" or \"]\" but found \"b\"");
        assert_error(r#"a eq 1 "x""#, 8, "expected \"and\" or \"or\" but found \"\"x\"\"");
    }

    #[test]
    fn dangling_and_or() {
        assert_error(r#"username eq "a" and"#, 20, "expected an expression after \"and\"");
        assert_error(r#"username eq "a" OR "#, 20, "expected an expression after \"OR\"");
        assert_error(r#"and username eq "a""#, 1, "expected an expression but found \"and\"");
        assert_error(r#"a eq 1 and or b eq 2"#, 12, "expected an expression after \"and\" but found \"or\"");
        assert_error(r#"a eq 1 and (b eq 2 or)"#, 22, "expected an expression after \"or\" but found \")\"");
    }

    #[test]
    fn value_where_an_attribute_belongs() {
        assert_error(r#""alice" eq username"#, 1, "expected an expression but found \"\"alice\"\"");
        assert_error("42", 1, "expected an expression but found \"42\"");
    }

    #[test]
    fn unexpected_characters_get_hints() {
        assert_error("username = 'a'", 10, "\"=\" is not a SCIM operator; use eq");
        assert_error(r#"username == "a""#, 10, "\"==\" is not a SCIM operator; use eq");
        assert_error(r#"username != "a""#, 10, "PingOne does not support ne");
        assert_error("loginCount >= 3", 12, "\">=\" is not a SCIM operator; use ge");
        assert_error("loginCount < 3", 12, "use lt");
        assert_error("username eq 'a'", 13, "single quotes are not allowed");
        assert_error(r#"a eq 1 && b eq 2"#, 8, "combine expressions with and");
        assert_error(r#"a eq 1 || b eq 2"#, 8, "combine expressions with or");
        assert_error("username%20eq%20%22a%22", 9, "URL-encoded");
        assert_error("username eq #", 13, "unexpected character \"#\"");
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        // "é" and "😀" are multi-byte in UTF-8 but one character each.
        assert_error(r#"name.given eq "Zoé😀" zz"#, 22, "found \"zz\"");
    }

    #[test]
    fn nesting_is_limited() {
        let deep = format!("{}a eq 1{}", "(".repeat(64), ")".repeat(64));
        assert!(Filter::parse(&deep).is_ok());
        let too_deep = format!("{}a eq 1{}", "(".repeat(65), ")".repeat(65));
        assert_error(&too_deep, 65, "more than 64 deep");
        let hostile = "(".repeat(100_000);
        assert_error(&hostile, 65, "more than 64 deep");
    }

    // --- narrowing by an index ---------------------------------------------------

    /// An index over `username` that answers each probe with one made-up row per value
    /// letter, so tests can see which probes were combined how.
    fn candidates(filter: &str) -> Option<Vec<u64>> {
        let lookup = |probe: Probe<'_>| {
            probe.path.eq_ignore_ascii_case("username").then(|| probe.value.bytes().map(|b| u64::from(b) + if probe.prefix { 1000 } else { 0 }).collect())
        };
        Filter::parse(filter).unwrap().candidates(&lookup).map(|rows| rows.into_iter().collect())
    }

    #[test]
    fn candidates_come_from_indexed_eq_and_sw_only() {
        assert_eq!(candidates(r#"username eq "a""#), Some(vec![97]));
        assert_eq!(candidates(r#"UserName SW "a""#), Some(vec![1097]));
        assert_eq!(candidates(r#"email eq "a""#), None, "not indexed");
        assert_eq!(candidates(r#"username co "a""#), None, "co needs a scan");
        assert_eq!(candidates("username eq 1"), None, "only strings are indexed");
        assert_eq!(candidates(r#"emails[username eq "a"]"#), None, "value paths are relative to elements");
    }

    #[test]
    fn candidates_combine_through_and_and_or() {
        assert_eq!(candidates(r#"username eq "a" and enabled eq true"#), Some(vec![97]), "one narrowed side is enough");
        assert_eq!(candidates(r#"username eq "ab" and username eq "bc""#), Some(vec![98]), "both: the intersection");
        assert_eq!(candidates(r#"username eq "a" or username eq "b""#), Some(vec![97, 98]), "or: the union");
        assert_eq!(candidates(r#"username eq "a" or enabled eq true"#), None, "an or branch without an index needs a scan");
        assert_eq!(candidates(r#"(username eq "a" or username eq "b") and title co "x""#), Some(vec![97, 98]));
    }
}
