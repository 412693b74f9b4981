//! A list's SCIM filter checked against the types of the attributes it names: a
//! boolean compared with text (`enabled eq "false"`, quoted) matches no record, so a
//! script would conclude there are none. The fix is said before anything is sent.

use serde_json::{Map, Value};

use super::args::Problem;
use super::model::Action;
use crate::scim_filter::{Comparison, Filter};

/// Problems of the `filter` argument, if the action takes one and it parses (a filter
/// that does not parse is PingOne's to refuse, with its own words), or uses an operator
/// PingOne lacks (`ne`, `pr`, `not`), which PingOne refuses in words that do not say
/// what to do instead.
pub(super) fn filter_problems(action: &Action, args: &Map<String, Value>) -> Vec<Problem> {
    let Some(text) = args.get("filter").and_then(Value::as_str).filter(|_| action.param("filter").is_some()) else { return vec![] };
    let filter = match Filter::parse(text) {
        Ok(filter) => filter,
        Err(e) if e.not_in_pingone => return vec![Problem::quoting(format!("`filter`: {e}"), text.to_owned())],
        Err(_) => return vec![],
    };
    filter
        .comparisons()
        .into_iter()
        .filter_map(|c| {
            if let Some(fix) = not_an_id(&c).or_else(|| not_a_date(&c)) {
                return Some(Problem::quoting(format!("`filter`: {fix}; as written it matches no record"), text.to_owned()));
            }
            let ty = action.result.iter().find(|(field, _)| field.trim_end_matches('?').eq_ignore_ascii_case(&c.path)).map(|(_, ty)| ty.as_str())?;
            let written = |value: &str| format!("`{} {} {value}`", c.path, c.op);
            let fix = match (ty, &c.value) {
                ("boolean", Value::String(s)) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => {
                    format!("`{}` is true or false, not text: write {}, without quotes", c.path, written(&s.to_ascii_lowercase()))
                }
                ("boolean", Value::String(_) | Value::Number(_)) => format!("`{}` is true or false: compare it with true or false, without quotes", c.path),
                ("number", Value::String(s)) if s.trim().parse::<f64>().is_ok() => {
                    format!("`{}` is a number, not text: write {}, without quotes", c.path, written(s.trim()))
                }
                ("string", Value::Number(_) | Value::Bool(_)) => format!("`{}` is text: put the value in double quotes, {}", c.path, written(&format!("\"{}\"", c.value))),
                _ => return None,
            };
            Some(Problem::quoting(format!("`filter`: {fix}; as written it matches no record"), text.to_owned()))
        })
        .collect()
}

/// An id compared with what is no id (`memberOfGroups[id eq "All Staff"]`,
/// `population.id eq "Employees"`): PingOne's ids are UUIDs, so the list comes back empty
/// and a role review would read "nobody" (review 43). A dry run's stand-in ids pass.
fn not_an_id(c: &Comparison) -> Option<String> {
    let (record, last) = c.path.rsplit_once('.').map_or(("", c.path.as_str()), |(record, last)| (record, last));
    let value = c.value.as_str().filter(|_| last.eq_ignore_ascii_case("id") && c.op == "eq")?;
    if uuid::Uuid::parse_str(value).is_ok() || value.starts_with(crate::dispatch::DRY_RUN_ID_PREFIX) {
        return None;
    }
    let finder = match record.to_ascii_lowercase().as_str() {
        "population" => format!(": find it with list_populations({{ filter: 'name eq \"{value}\"' }})"),
        "memberofgroups" => format!(": find it with list_groups({{ filter: 'name eq \"{value}\"' }})"),
        "identityprovider" => ": find it with list_identity_providers".to_owned(),
        _ => String::new(),
    };
    Some(format!("`{}` takes a record's id (a UUID), and `{value}` is not one{finder}", c.path))
}

/// A time compared with what is no date (`updatedAt ge "yesterday"`): said with the
/// form PingOne reads. Anything that starts as a date is left to PingOne.
fn not_a_date(c: &Comparison) -> Option<String> {
    let last = c.path.rsplit('.').next().unwrap_or(&c.path);
    let is_time = last.ends_with("At") || last.ends_with("Date") || last.eq_ignore_ascii_case("recordedAt");
    let value = c.value.as_str().filter(|_| is_time)?;
    let starts_as_date = value.len() >= 10 && value.as_bytes()[..10].iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() });
    (!starts_as_date).then(|| format!("`{}` is a date and time, and `{value}` is not one: write it in ISO 8601, e.g. `{} {} \"2026-12-01T00:00:00Z\"`", c.path, c.path, c.op))
}
