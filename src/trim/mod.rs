//! Shaping what goes back to the model to a token budget, counted with a real
//! tokenizer (o200k_base). Small results pass untouched; large ones keep the first
//! items of each array and the start of each long string, with what was left out
//! said in place, plus a note of what was cut.

mod marks;

use std::sync::OnceLock;

use serde_json::{Map, Value};
use tiktoken_rs::CoreBPE;

use marks::FIELDS_NOT_SHOWN_KEY;
pub use marks::{lift_marks, restore_marks, take_cut_marks};

/// Default budget for one `execute` reply.
pub const DEFAULT_BUDGET: usize = 6_000;

/// JSON never packs more than this many bytes into one o200k token on average, so
/// a text this many times larger than the budget is over it without counting.
const MAX_BYTES_PER_TOKEN: usize = 8;

fn tokenizer() -> &'static CoreBPE {
    static BPE: OnceLock<CoreBPE> = OnceLock::new();
    BPE.get_or_init(|| tiktoken_rs::o200k_base().expect("the o200k_base tables are built in"))
}

/// Tokens in `text` for o200k_base (GPT-4o class models; close for others).
pub fn count_tokens(text: &str) -> usize {
    tokenizer().encode_ordinary(text).len()
}

/// Tokens of a JSON value as the model reads it (compact JSON).
pub fn count_json_tokens(value: &Value) -> usize {
    count_tokens(&value.to_string())
}

#[derive(Debug, Clone, PartialEq)]
pub struct Trimmed {
    pub value: Value,
    /// Tokens of `value`.
    pub tokens: usize,
    /// Whether anything was left out.
    pub trimmed: bool,
    /// For the agent: what was cut (the caller adds how to ask for less).
    pub note: Option<String>,
}

/// How hard one shrinking pass cuts.
#[derive(Debug, Clone, Copy)]
struct Cut {
    max_items: usize,
    max_chars: usize,
    /// Fields an object keeps: a script's map keyed by username is as long as a list,
    /// while a record's fields are cut last (never below [`MIN_FIELDS`]).
    max_fields: usize,
}

#[derive(Debug, Default)]
struct Counts {
    arrays: usize,
    items_dropped: usize,
    objects: usize,
    fields_dropped: usize,
    strings: usize,
    /// Where the first strings cut are (JSON paths), for the note.
    cut_at: Vec<String>,
}

/// How many cut strings' paths the note names.
const CUT_PATHS_NAMED: usize = 3;

/// Fits `value` into `budget` tokens. It is taken by value so that a result that fits,
/// the usual case, is handed back without a copy.
pub fn trim(value: Value, budget: usize) -> Trimmed {
    trim_at(value, budget, "$")
}

/// [`trim`], for a value the reply holds at `root` (`$.result`): the note names the
/// strings it cut by the paths the reply's other notes use (review 55: `$[5].nickname`
/// in one, `$.result[5].nickname` in the defender's).
pub fn trim_at(value: Value, budget: usize, root: &str) -> Trimmed {
    // Most results are small: count them exactly. A huge one is not even held serialised.
    let limit = budget * MAX_BYTES_PER_TOKEN;
    let counted = serialise_up_to(&value, limit).map(|text| (text.len(), count_tokens(&text)));
    if let Some((_, tokens)) = counted {
        if tokens <= budget {
            return Trimmed { value, tokens, trimmed: false, note: None };
        }
    }
    // How far over the whole is: counted, or, past the limit, its size at JSON's densest
    // packing. Bytes per token of this kind of data, once counted, judge later passes by
    // their size, so only the last one is counted.
    let (mut tokens, mut bytes_per_token) = match counted {
        Some((bytes, tokens)) => (tokens, Some(bytes as f64 / tokens.max(1) as f64)),
        None => (serialised_len(&value) / MAX_BYTES_PER_TOKEN, None),
    };
    // Cut no harder than needed: from the value's own extent down, each pass in
    // proportion to how far over the last one was, so the result fills the budget.
    let mut cut = Cut::extent_of(&value);
    loop {
        cut = cut.scaled((budget as f64 / tokens.max(1) as f64 * 0.9).clamp(0.05, 0.9));
        let mut counts = Counts::default();
        let candidate = shrink(&value, &mut String::from(root), cut, &mut counts);
        let text = candidate.to_string();
        let at_floor = cut.max_items == 1 && cut.max_chars == MIN_CHARS && cut.max_fields == MIN_FIELDS;
        tokens = bytes_per_token.map_or(text.len() / MAX_BYTES_PER_TOKEN, |ratio| (text.len() as f64 / ratio) as usize);
        if tokens <= budget + budget / 10 || at_floor {
            tokens = count_tokens(&text);
            bytes_per_token.get_or_insert(text.len() as f64 / tokens.max(1) as f64);
            if tokens <= budget || at_floor {
                return Trimmed { value: candidate, tokens, trimmed: true, note: Some(note(&counts, budget, tokens > budget)) };
            }
        }
    }
}

/// The shortest a cut string gets.
const MIN_CHARS: usize = 80;

/// The fewest fields a cut object keeps: more than a PingOne record has, so records
/// are shown whole while their list is shortened.
const MIN_FIELDS: usize = 60;


impl Cut {
    /// A cut that keeps all of `value`: its longest array and longest string.
    fn extent_of(value: &Value) -> Cut {
        fn visit(value: &Value, cut: &mut Cut) {
            match value {
                Value::Array(items) => {
                    cut.max_items = cut.max_items.max(items.len());
                    items.iter().for_each(|item| visit(item, cut));
                }
                Value::Object(map) => {
                    cut.max_fields = cut.max_fields.max(map.len());
                    map.iter().for_each(|(key, item)| {
                        cut.max_chars = cut.max_chars.max(key.chars().count());
                        visit(item, cut);
                    })
                }
                Value::String(text) => cut.max_chars = cut.max_chars.max(text.chars().count()),
                _ => {}
            }
        }
        let mut cut = Cut { max_items: 1, max_chars: MIN_CHARS, max_fields: MIN_FIELDS };
        visit(value, &mut cut);
        cut
    }

    fn scaled(self, scale: f64) -> Cut {
        let shrunk = |n: usize, floor: usize| ((n as f64 * scale) as usize).clamp(floor, n.max(floor));
        Cut { max_items: shrunk(self.max_items, 1), max_chars: shrunk(self.max_chars, MIN_CHARS), max_fields: shrunk(self.max_fields, MIN_FIELDS) }
    }
}

/// The length of `value`'s compact JSON, counted as it is written, not kept.
fn serialised_len(value: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    serde_json::to_writer(&mut counter, value).map_or(usize::MAX, |()| counter.0)
}

/// The compact JSON of `value`, or None as soon as it passes `limit` bytes.
fn serialise_up_to(value: &Value, limit: usize) -> Option<String> {
    struct Capped {
        out: Vec<u8>,
        limit: usize,
    }
    impl std::io::Write for Capped {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.out.len() + buf.len() > self.limit {
                return Err(std::io::Error::other("over the limit"));
            }
            self.out.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut capped = Capped { out: Vec::new(), limit };
    serde_json::to_writer(&mut capped, value).ok()?;
    String::from_utf8(capped.out).ok()
}

/// `value` cut to `cut`; `path` is where it is (`$.users[3]`), grown and restored as
/// the walk goes down, so no path is built for a string that is not cut.
fn shrink(value: &Value, path: &mut String, cut: Cut, counts: &mut Counts) -> Value {
    let mut each = |at: usize, item: &Value, counts: &mut Counts| {
        let len = path.len();
        path.push_str(&format!("[{at}]"));
        let shrunk = shrink(item, path, cut, counts);
        path.truncate(len);
        shrunk
    };
    match value {
        Value::Array(items) if items.len() > cut.max_items => {
            counts.arrays += 1;
            counts.items_dropped += items.len() - cut.max_items;
            let mut kept: Vec<Value> = items[..cut.max_items].iter().enumerate().map(|(at, v)| each(at, v, counts)).collect();
            kept.push(marks::items_mark(cut.max_items, items.len()));
            Value::Array(kept)
        }
        Value::Array(items) => Value::Array(items.iter().enumerate().map(|(at, v)| each(at, v, counts)).collect()),
        // A key can be as long as a value (a script may build one from a record): cut too.
        Value::Object(map) => {
            let mut kept = map
                .iter()
                .take(cut.max_fields)
                .map(|(k, v)| {
                    let len = path.len();
                    crate::json_strings::push_key(path, k);
                    let entry = (shrink_text(k, path, true, cut, counts), shrink(v, path, cut, counts));
                    path.truncate(len);
                    entry
                })
                .collect::<Map<_, _>>();
            if map.len() > cut.max_fields {
                counts.objects += 1;
                counts.fields_dropped += map.len() - cut.max_fields;
                kept.insert(FIELDS_NOT_SHOWN_KEY.to_owned(), marks::fields_mark(cut.max_fields, map.len()));
            }
            Value::Object(kept)
        }
        Value::String(s) => Value::String(shrink_text(s, path, false, cut, counts)),
        other => other.clone(),
    }
}

/// `text` cut to the cut's length, with a mark that says how long it was; `path` is
/// where it is (the key of the field at `path`, when `is_key`).
fn shrink_text(text: &str, path: &str, is_key: bool, cut: Cut, counts: &mut Counts) -> String {
    if text.chars().count() <= cut.max_chars {
        return text.to_owned();
    }
    counts.strings += 1;
    if counts.cut_at.len() < CUT_PATHS_NAMED {
        counts.cut_at.push(if is_key { format!("{path} (its key)") } else { path.to_owned() });
    }
    let total = text.chars().count();
    let head: String = text.chars().take(cut.max_chars).collect();
    format!("{head}{CUT_MARK_START}{total}{CUT_MARK_END}")
}

const CUT_MARK_START: &str = "… [cut: ";
const CUT_MARK_END: &str = " characters in all]";

/// What is left of a text [`trim`] cut: the text before its mark, if it ends with one.
pub fn cut_head(text: &str) -> Option<&str> {
    cut_text(text).map(|(head, _)| head)
}

/// A text [`trim`] cut: the text before its mark, and how many characters it had.
fn cut_text(text: &str) -> Option<(&str, usize)> {
    let rest = text.strip_suffix(CUT_MARK_END)?;
    let (head, count) = rest.rsplit_once(CUT_MARK_START)?;
    Some((head, count.parse().ok()?))
}

fn note(counts: &Counts, budget: usize, still_over: bool) -> String {
    let mut parts = Vec::new();
    if counts.arrays > 0 {
        parts.push(format!("{} array(s) shortened ({} items not shown)", counts.arrays, counts.items_dropped));
    }
    if counts.objects > 0 {
        parts.push(format!("{} object(s) shortened ({} fields not shown, each under the key \"{FIELDS_NOT_SHOWN_KEY}\")", counts.objects, counts.fields_dropped));
    }
    if counts.strings > 0 {
        let more = counts.strings.saturating_sub(counts.cut_at.len());
        let and_more = if more > 0 { format!(" and {more} more") } else { String::new() };
        parts.push(format!("{} long string(s) cut (at {}{and_more})", counts.strings, counts.cut_at.join(", ")));
    }
    let over = if still_over { " and it is still over because of its many fields" } else { "" };
    format!("The result was trimmed to fit {budget} tokens (its share of the reply's budget, --max-result-tokens): {}{over}.", parts.join(", "))
}

/// After a trimmed script result's note: how to ask for less.
pub const NARROW_SCRIPT: &str = "Narrow the script: filter inside it, return only the fields you need \
    (e.g. users.map(u => ({ id: u.id, username: u.username }))), or return counts and summaries instead of records; \
    for the rest of a long list, run again returning the part not shown (e.g. users.slice(50, 100)).";

/// After a trimmed action result's note (tools mode): how to ask for less.
pub const NARROW_CALL: &str = "Ask for less: pass a `filter` or a smaller `limit` and page with `cursor`.";

/// Added to [`NARROW_CALL`] when the `execute` tool is offered too.
pub const OR_NARROW_IN_SCRIPT: &str = " Or use execute to filter and pick fields in a script.";

/// After a trimmed error's note: how to make the next one fit.
pub const SHORTEN_ERROR: &str = "Throw shorter messages and log less: console lines count against the reply.";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn small_results_pass_untouched() {
        let value = json!({ "users": [{ "id": "u1", "username": "jdoe" }], "count": 1 });
        let out = trim(value.clone(), 100);
        assert_eq!(out.value, value);
        assert!(!out.trimmed && out.note.is_none());
        assert!(out.tokens > 5 && out.tokens < 40, "{}", out.tokens);
    }

    #[test]
    fn large_arrays_keep_their_head_and_say_what_is_missing() {
        let users: Vec<Value> = (0..5_000).map(|i| json!({ "id": format!("user-{i}"), "username": format!("person{i}"), "enabled": i % 2 == 0 })).collect();
        let out = trim(json!({ "items": users }), 1_000);
        assert!(out.trimmed && out.tokens <= 1_000, "{}", out.tokens);
        let items = out.value["items"].as_array().unwrap();
        assert_eq!(items[0]["id"], "user-0");
        let marker = items.last().unwrap().as_str().unwrap();
        assert!(marker.contains("more items not shown (5000 in all)"), "{marker}");
        assert!(out.note.unwrap().contains("1 array(s) shortened"));
    }

    #[test]
    fn a_trimmed_result_fills_most_of_its_budget() {
        let names: Vec<Value> = (0..30_000).map(|i| json!(format!("user{i}"))).collect();
        for budget in [1_000, 6_000, 100_000] {
            let out = trim(json!(names), budget);
            assert!(out.trimmed && out.tokens <= budget && out.tokens * 10 >= budget * 7, "budget {budget}: {} tokens", out.tokens);
        }
        let out = trim(json!({ "text": "lorem ipsum dolor sit amet ".repeat(20_000) }), 6_000);
        assert!(out.tokens <= 6_000 && out.tokens >= 4_200, "{}", out.tokens);
    }

    #[test]
    fn long_strings_are_cut_with_their_length() {
        let out = trim(json!({ "description": "word ".repeat(10_000) }), 300);
        assert!(out.tokens <= 300, "{}", out.tokens);
        assert!(out.value["description"].as_str().unwrap().ends_with("[cut: 50000 characters in all]"));
        // The note names where (review 38: a cut string the defender then withheld could
        // not be found).
        let out = trim(json!({ "user": { "bio": "word ".repeat(10_000), "a key": "word ".repeat(10_000) } }), 600);
        assert!(out.note.as_deref().unwrap().contains(r#"2 long string(s) cut (at $.user.bio, $.user["a key"])"#), "{:?}", out.note);
        // Under the path the reply holds it at, as the defender's notes name it.
        let out = trim_at(json!([{ "bio": "word ".repeat(10_000) }]), 300, "$.result");
        assert!(out.note.as_deref().unwrap().contains("1 long string(s) cut (at $.result[0].bio)"), "{:?}", out.note);
    }

    /// Review 40: a script's map keyed by username is as long as a list, and was
    /// returned whole at eight times the budget; it is cut like one, while the records
    /// of a shortened list keep all their fields.
    #[test]
    fn an_object_with_many_fields_is_shortened_like_a_list() {
        let by_name: Map<String, Value> = (0..2_000).map(|i| (format!("person{i:04}"), json!({ "email": format!("person{i}@example.com"), "enabled": true }))).collect();
        let out = trim(Value::Object(by_name), 6_000);
        assert!(out.trimmed && out.tokens <= 6_000, "{}", out.tokens);
        let kept = out.value.as_object().unwrap();
        assert!(kept.len() > 100 && kept.len() < 2_000, "{}", kept.len());
        let marker = kept[FIELDS_NOT_SHOWN_KEY].as_str().unwrap();
        assert!(marker.ends_with("more fields not shown (2000 in all)"), "{marker}");
        assert_eq!(kept["person0000"]["email"], "person0@example.com");
        assert!(out.note.unwrap().contains("1 object(s) shortened"));

        let records: Vec<Value> = (0..500).map(|i| Value::Object((0..40).map(|f| (format!("field{f}"), json!(format!("value {i}.{f}")))).collect())).collect();
        let out = trim(json!(records), 6_000);
        let items = out.value.as_array().unwrap();
        assert!(items.len() < 500 && items[0].as_object().unwrap().len() == 40, "records are shown whole: {}", items[0]);
    }

    #[test]
    fn a_long_key_is_cut_like_a_value() {
        let key = "instructions for the reader ".repeat(5_000);
        let out = trim(json!({ key: 1 }), 300);
        assert!(out.tokens <= 300, "{}", out.tokens);
        let (kept, _) = out.value.as_object().unwrap().iter().next().unwrap();
        assert!(kept.ends_with("[cut: 140000 characters in all]"), "{}", &kept[kept.len() - 40..]);
    }
}
