//! A sign-on policy step's `condition`, the rule that decides when the step is skipped
//! (MGMT `SignOnPolicyActionCommon.condition`: And, Or, Not, or one of the
//! Aggregate's conditions). PingOne refuses one that matches none of them; the
//! simulator stored `{ "foo": "bar" }` and `greater: "12h"` (review 49).

use serde_json::{Map, Value};

use crate::simulator::errors::ApiError;

/// The leaf conditions (MGMT `SignOnPolicyActionCommonConditionAggregate`), by the key that names each.
const LEAVES: [&str; 6] = ["greater", "ipRange", "ipRisk", "geoVelocity", "anonymousNetwork", "equals"];

/// Refuses a condition at `at` (`condition`, `condition.and[1]`) that no schema matches.
pub(super) fn check_condition(condition: &Value, at: &str) -> Result<(), ApiError> {
    let Some(fields) = condition.as_object() else {
        return Err(invalid(at, "must be an object"));
    };
    for branch in ["and", "or"] {
        if let Some(parts) = fields.get(branch) {
            let parts = parts.as_array().filter(|parts| !parts.is_empty()).ok_or_else(|| invalid(&format!("{at}.{branch}"), "must be a non-empty array of conditions"))?;
            return parts.iter().enumerate().try_for_each(|(i, part)| check_condition(part, &format!("{at}.{branch}[{i}]")));
        }
    }
    if let Some(negated) = fields.get("not") {
        return check_condition(negated, &format!("{at}.not"));
    }
    check_leaf(fields, at)
}

fn check_leaf(fields: &Map<String, Value>, at: &str) -> Result<(), ApiError> {
    let text = |key: &str| fields.get(key).is_some_and(Value::is_string);
    let texts = |key: &str| fields.get(key).and_then(Value::as_array).is_some_and(|items| items.iter().all(Value::is_string));
    let whole_at_least_one = |value: Option<&Value>| value.and_then(Value::as_i64).is_some_and(|n| n >= 1);
    let (ok, needs) = if fields.contains_key("greater") {
        (whole_at_least_one(fields.get("greater")) && text("secondsSince"), "`greater`, a whole number of seconds of at least 1, and `secondsSince`, a variable such as \"${session.lastSignOn.withAuthenticator.mfa.at}\"")
    } else if fields.contains_key("ipRange") {
        (texts("ipRange") && text("contains"), "`ipRange`, an array of CIDR ranges, and `contains`, a variable such as \"${flow.request.http.remoteIp}\"")
    } else if fields.contains_key("ipRisk") {
        let score = |key: &str| whole_at_least_one(fields.get("ipRisk").and_then(|r| r.get(key)));
        (score("minScore") && score("maxScore") && text("valid"), "`ipRisk` with whole `minScore` and `maxScore` of at least 1, and `valid`")
    } else if fields.contains_key("geoVelocity") {
        let valid = |key: &str| fields.get("valid").and_then(|v| v.get(key)).is_some_and(Value::is_string);
        (text("geoVelocity") && valid("previousSuccessfulAuthenticationIp") && valid("previousSuccessfulAuthenticationTime"), "`geoVelocity` and `valid` with `previousSuccessfulAuthenticationIp` and `previousSuccessfulAuthenticationTime`")
    } else if fields.contains_key("anonymousNetwork") {
        (texts("anonymousNetwork") && text("valid"), "`anonymousNetwork`, an array of texts, and `valid`")
    } else if fields.contains_key("equals") {
        (text("value") && fields.get("equals").is_some_and(|v| v.is_string() || v.is_boolean()), "`value`, a variable, and `equals`, a text or a boolean")
    } else {
        return Err(invalid(at, &format!("is not a condition: give `and`, `or` or `not`, or one of {}", LEAVES.map(|leaf| format!("`{leaf}`")).join(", "))));
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(at, &format!("needs {needs}")))
    }
}

fn invalid(at: &str, problem: &str) -> ApiError {
    ApiError::invalid_value(at, format!("`{at}` {problem}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problem(condition: Value) -> Option<String> {
        check_condition(&condition, "condition").err().map(|e| e.details[0].message.clone())
    }

    #[test]
    fn conditions_the_schema_matches_pass_and_others_are_refused() {
        let since = json!({ "secondsSince": "${session.lastSignOn.withAuthenticator.mfa.at}", "greater": 3600 });
        assert_eq!(problem(since.clone()), None);
        assert_eq!(problem(json!({ "or": [since, { "ipRange": ["10.0.0.0/8"], "contains": "${flow.request.http.remoteIp}" }] })), None);
        assert_eq!(problem(json!({ "not": { "value": "${user.*.memberOfGroupNames}", "equals": "Admins" } })), None);

        assert!(problem(json!({ "secondsSince": "${x}", "greater": "12h" })).unwrap().contains("a whole number of seconds of at least 1"));
        assert!(problem(json!({ "secondsSince": "${x}", "greater": 0 })).is_some());
        assert!(problem(json!({ "greater": 3600 })).unwrap().contains("secondsSince"));
        assert!(problem(json!({ "foo": "bar" })).unwrap().starts_with("`condition` is not a condition"));
        assert!(problem(json!({ "and": [] })).unwrap().contains("non-empty array"));
        assert!(problem(json!({ "and": [{ "greater": 5 }] })).unwrap().starts_with("`condition.and[0]` needs"));
    }
}
