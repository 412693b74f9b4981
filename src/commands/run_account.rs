//! What a `run` changed, for the person at the terminal: when a script fails or is
//! stopped part-way, which writes it made, which were refused, and which had no answer
//! (and so may or may not have been applied), each with the record it acted on, so a
//! batch is not run again blindly.

use pingone_mcp::mcp::CallSummary;
use pingone_mcp::sandbox::{ExecutionError, Limit};
use serde_json::{json, Value};

/// Lines shown before the rest are only counted (the audit log has every call).
const SHOWN: usize = 200;

/// The writes among `calls` (answered, in the order they finished) and `in_flight`.
pub fn writes(calls: &[CallSummary], in_flight: &[CallSummary]) -> Vec<CallSummary> {
    calls.iter().chain(in_flight).filter(|c| c.writes).cloned().collect()
}

/// The writes as JSON, for `run --json`.
pub fn writes_json(writes: &[CallSummary]) -> Value {
    writes.iter().map(|w| json!({ "action": w.action, "target": w.target, "outcome": w.outcome, "status": w.status })).collect()
}

/// The account printed after a failed run: empty when it made no write.
pub fn account(writes: &[CallSummary]) -> Vec<String> {
    if writes.is_empty() {
        return vec!["it made no write: nothing was changed".to_owned()];
    }
    let applied = writes.iter().filter(|w| w.outcome == "ok").count();
    let mut lines = vec![format!(
        "its writes ({applied} of {} applied; \"ok\" was applied, an error code was not, OUTCOME_UNKNOWN and \"no answer yet\" may have been: check those before running again):",
        writes.len()
    )];
    lines.extend(writes.iter().take(SHOWN).map(|w| {
        let target = w.target.as_deref().map(|t| format!(" ({t})")).unwrap_or_default();
        format!("  {}{target}: {}", w.action, w.outcome)
    }));
    if writes.len() > SHOWN {
        lines.push(format!("  … and {} more (--audit-log FILE records every call)", writes.len() - SHOWN));
    }
    lines
}

/// The command-line option that raises the limit that stopped a run, if it has one.
pub fn raise_with(error: &ExecutionError) -> Option<&'static str> {
    match error {
        ExecutionError::Limit { limit: Limit::WallTime, .. } => Some("--timeout SECONDS raises the wall-time limit"),
        ExecutionError::Limit { limit: Limit::HostCalls, .. } => Some("--max-calls N raises the action-call limit"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(action: &str, outcome: &str, writes: bool, target: Option<&str>) -> CallSummary {
        CallSummary { action: action.into(), outcome: outcome.into(), status: None, ms: 1, writes, target: target.map(Into::into) }
    }

    #[test]
    fn the_account_names_each_write_and_its_record() {
        let calls = [call("list_users", "ok", false, None), call("update_user", "ok", true, Some("userId u1")), call("remove_user_from_group", "POLICY_DENIED", true, Some("userId u1, groupId g1"))];
        let in_flight = [call("update_user", "no answer yet", true, Some("userId u2"))];
        let lines = account(&writes(&calls, &in_flight));
        assert!(lines[0].starts_with("its writes (1 of 3 applied;"), "{lines:?}");
        assert_eq!(&lines[1..], ["  update_user (userId u1): ok", "  remove_user_from_group (userId u1, groupId g1): POLICY_DENIED", "  update_user (userId u2): no answer yet"]);
        assert_eq!(account(&writes(&calls[..1], &[])), ["it made no write: nothing was changed"]);
    }
}
