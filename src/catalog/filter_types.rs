//! A list's SCIM filter checked against the types of the attributes it names: a
//! boolean compared with text (`enabled eq "false"`, quoted) matches no record, so a
//! script would conclude there are none. The fix is said before anything is sent.

use serde_json::{Map, Value};

use super::args::Problem;
use super::model::Action;
use crate::scim_filter::Filter;

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
            let ty = action.result.iter().find(|(field, _)| field.eq_ignore_ascii_case(&c.path)).map(|(_, ty)| ty.as_str())?;
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
