//! What a script changed, for whoever must decide what to do next: when it fails or
//! is stopped part-way, which writes it made, which were refused, and which had no
//! answer (and so may or may not have been applied), each with the record it acted on,
//! so a batch is not run again blindly. `run` prints it; `execute` tells the agent.

use serde_json::{json, Value};

use super::observe::{DRY_RUN, DRY_RUN_HELD, DRY_RUN_NEEDS, NOT_SENT, NOT_SENT_THROTTLED, REPLAYED, UNCHANGED};
use super::CallSummary;
use crate::pingone::ANSWER_UNREADABLE;
use crate::sandbox::NOT_SENT_ASKING;

/// Writes `run` (and the server log, of a script whose client left) lists before the
/// rest are only counted (the audit log has every call).
pub const SHOWN: usize = 200;
/// Writes an `execute` reply lists: its token budget is shared with the error and the
/// console, and the ones to check come first.
pub const SHOWN_TO_AGENT: usize = 40;

/// The writes among `calls` (answered, in the order they finished) and `in_flight`.
pub fn writes(calls: &[CallSummary], in_flight: &[CallSummary]) -> Vec<CallSummary> {
    calls.iter().chain(in_flight).filter(|c| c.writes).cloned().collect()
}

/// The outcome of a write still in flight when its script ended: in the text a
/// person or model reads.
pub const NO_ANSWER_YET: &str = "no answer yet";

/// The writes as JSON, for `run --json` and an MCP reply's structured content.
pub fn writes_json(writes: &[CallSummary]) -> Value {
    writes
        .iter()
        .map(|w| {
            let mut entry = json!({ "action": w.action, "target": w.target, "createdId": w.created, "outcome": outcome_token(&w.outcome), "status": w.status, "transactionId": w.transaction });
            if let Some(flags) = w.outcome.strip_prefix(DRY_RUN_NEEDS) {
                entry["dryRunNeeds"] = json!(flags);
            }
            entry
        })
        .collect()
}

/// A write's outcome for programs: `ok`, an error's code, or one of `no_answer`,
/// `not_sent`, `unchanged`, `dry_run`, `replayed` (the audit log's words, where it has
/// them); `replayed CODE` for a recorded failure.
fn outcome_token(outcome: &str) -> &str {
    match outcome {
        NO_ANSWER_YET => "no_answer",
        NOT_SENT | NOT_SENT_ASKING | NOT_SENT_THROTTLED => "not_sent",
        // A dry run's write that the real run would not send is no change to expect
        // (review 54 L6: a member added again was counted among the dry run's changes).
        UNCHANGED | DRY_RUN_HELD => "unchanged",
        dry if dry.starts_with(DRY_RUN) => "dry_run",
        other => other,
    }
}

/// Whether no write was applied or may have been: a run that failed on PingOne's
/// passing trouble can then be run again whole.
pub fn changed_nothing(writes: &[CallSummary]) -> bool {
    !writes.iter().any(|w| applied(w) || uncertain(w))
}

/// Whether a write was applied: PingOne said so, though its answer could not be read.
fn applied(write: &CallSummary) -> bool {
    write.outcome == "ok" || write.outcome == ANSWER_UNREADABLE
}

/// Whether a write may or may not have been applied: no answer, an unknown outcome, or
/// a server error or timeout (an idempotent write is retried on those, and the last
/// try's 5xx does not say the ones before it were not applied).
fn uncertain(write: &CallSummary) -> bool {
    !replayed(write) && (write.outcome == NO_ANSWER_YET || write.outcome == "OUTCOME_UNKNOWN" || write.status.is_some_and(leaves_doubt))
}

/// Whether a write's last answer leaves in doubt whether it was applied: a server error
/// or a timeout (an idempotent write is retried on those, and the last try's does not
/// say the ones before it were not applied).
pub fn leaves_doubt(status: u16) -> bool {
    status >= 500 || status == 408
}

/// What precedes the account of a script that ended well with such writes.
pub const CAUGHT_UNCERTAIN: &str = "the script ended without an error, but it caught the errors of writes that were or may have been applied";

/// For a script that ended well: its account, headed by [`CAUGHT_UNCERTAIN`], when any of
/// its writes may or may not have been applied, or was applied though the script was
/// given an error (its answer could not be read, so a create's id is unknown): it caught
/// their errors, and its run must still say so (reviews 45 and 54).
pub fn caught_uncertain(writes: &[CallSummary], shown: usize) -> Option<Vec<String>> {
    any_to_check(writes).then(|| std::iter::once(format!("{CAUGHT_UNCERTAIN}:")).chain(account(writes, shown)).collect())
}

/// Whether any write may or may not have been applied, or was applied though its
/// answer could not be read: what must be checked before the run is made again.
pub fn any_to_check(writes: &[CallSummary]) -> bool {
    writes.iter().any(|w| uncertain(w) || w.outcome == ANSWER_UNREADABLE)
}

/// Whether a replayed write was one to check when it was recorded. Nothing of a replay
/// is to check (review 46), but it exits as its recording did (review 58 M2: a run
/// that exited for a write to check replayed as done).
pub fn recorded_to_check(writes: &[CallSummary]) -> bool {
    let replayed_code = |w: &CallSummary| w.outcome.strip_prefix(REPLAYED).and_then(|rest| rest.strip_prefix(' ')).map(str::to_owned);
    writes.iter().filter_map(replayed_code).any(|code| code == "OUTCOME_UNKNOWN" || code == ANSWER_UNREADABLE)
}

/// Whether a write was not sent because the record held what it asked for already
/// (an unlock of an account that is not locked): no error, and nothing to undo.
fn unchanged(write: &CallSummary) -> bool {
    write.outcome == UNCHANGED
}

/// Whether a replay's cassette answered a write, as PingOne answered it when it was
/// recorded: this run sent nothing.
fn replayed(write: &CallSummary) -> bool {
    write.outcome == REPLAYED || write.outcome.starts_with(&format!("{REPLAYED} "))
}

/// Whether a write was refused, so not applied: an error with a clear answer.
fn refused(write: &CallSummary) -> bool {
    !applied(write) && !uncertain(write) && !unchanged(write) && !replayed(write)
}

/// The account of a failed or stopped run: a head line, then each write with its
/// record, those that may or may not have been applied first, then those refused, then
/// those applied, so the ones to check come before any cut; past `shown` writes, the
/// rest are counted.
pub fn account(writes: &[CallSummary], shown: usize) -> Vec<String> {
    if writes.is_empty() {
        return vec!["it made no write: nothing was changed".to_owned()];
    }
    let count = writes.iter().filter(|w| applied(w)).count();
    let mut lines = vec![format!("its writes ({count} of {} applied; {}):", writes.len(), legend(writes))];
    let ordered: Vec<&CallSummary> = [uncertain, refused, applied, unchanged, replayed].into_iter().flat_map(|kind| writes.iter().filter(move |w| kind(w))).collect();
    lines.extend(ordered.iter().take(shown).map(|w| {
        let target = w.target.as_deref().map(|t| format!(" ({t})")).unwrap_or_default();
        // What to look a write up by, in PingOne's logs and the audit log, when its
        // outcome is unknown.
        let transaction = w.transaction.as_deref().filter(|_| uncertain(w) || w.outcome == ANSWER_UNREADABLE).map(|t| format!(" (transaction id {t})")).unwrap_or_default();
        format!("  {}{target}: {}{transaction}", w.action, w.outcome)
    }));
    if let Some(rest) = ordered.get(shown..).filter(|rest| !rest.is_empty()) {
        let which = if rest.iter().all(|w| applied(w)) { " applied" } else { "" };
        lines.push(format!("  … and {} more{which} (the audit log, --audit-log FILE, records every call)", rest.len()));
    }
    lines
}

/// What the outcomes listed mean, for those present only: a refused call's account
/// need not explain unanswered ones.
fn legend(writes: &[CallSummary]) -> String {
    let mut said = Vec::new();
    if writes.iter().any(|w| w.outcome == ANSWER_UNREADABLE) {
        said.push(format!("\"ok\" and {ANSWER_UNREADABLE} were applied"));
    } else if writes.iter().any(applied) {
        said.push("\"ok\" was applied".to_owned());
    }
    if writes.iter().any(refused) {
        said.push("an error (a 4xx, or \"not sent\") was not".to_owned());
    }
    if writes.iter().any(unchanged) {
        said.push("\"unchanged\" held already, so nothing was sent".to_owned());
    }
    if writes.iter().any(replayed) {
        said.push(format!("\"{REPLAYED}\" was answered from the cassette as it was recorded, and nothing was sent"));
    }
    if writes.iter().any(uncertain) {
        said.push("OUTCOME_UNKNOWN, a 5xx and \"no answer yet\" may have been: check those before running again".to_owned());
    }
    said.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(action: &str, outcome: &str, writes: bool, target: Option<&str>) -> CallSummary {
        CallSummary { action: action.into(), outcome: outcome.into(), ms: 1, writes, target: target.map(Into::into), ..CallSummary::default() }
    }

    #[test]
    fn the_account_names_each_write_and_its_record_those_to_check_first() {
        let calls = [call("list_users", "ok", false, None), call("update_user", "ok", true, Some("userId u1")), call("remove_user_from_group", "POLICY_DENIED", true, Some("userId u1, groupId g1"))];
        let in_flight = [call("update_user", "no answer yet", true, Some("userId u2"))];
        let lines = account(&writes(&calls, &in_flight), SHOWN);
        assert!(lines[0].starts_with("its writes (1 of 3 applied;"), "{lines:?}");
        assert_eq!(&lines[1..], ["  update_user (userId u2): no answer yet", "  remove_user_from_group (userId u1, groupId g1): POLICY_DENIED", "  update_user (userId u1): ok"]);
        assert_eq!(account(&writes(&calls[..1], &[]), SHOWN), ["it made no write: nothing was changed"]);
    }

    #[test]
    fn the_head_explains_only_the_outcomes_listed() {
        let refused = [call("update_user", "NOT_CONFIRMED", true, Some("userId u1"))];
        assert_eq!(account(&refused, SHOWN)[0], "its writes (0 of 1 applied; an error (a 4xx, or \"not sent\") was not):");
        let unanswered = [call("update_user", "ok", true, Some("userId u1")), call("update_user", "no answer yet", true, Some("userId u2"))];
        assert_eq!(account(&unanswered, SHOWN)[0], "its writes (1 of 2 applied; \"ok\" was applied, OUTCOME_UNKNOWN, a 5xx and \"no answer yet\" may have been: check those before running again):");
        // A write not sent because it held already is no error (review 43), and comes last.
        let held = [call("unlock_user", UNCHANGED, true, Some("userId u1")), call("delete_user", "ok", true, Some("userId u2"))];
        let lines = account(&held, SHOWN);
        assert_eq!(lines[0], "its writes (1 of 2 applied; \"ok\" was applied, \"unchanged\" held already, so nothing was sent):");
        assert_eq!(lines[2], "  unlock_user (userId u1): unchanged (already so; nothing sent)");
    }

    /// A replay sends nothing, whatever its cassette recorded (review 46: "1 of 2
    /// applied" sent its reader to look for a stray application).
    #[test]
    fn a_replayed_write_is_not_applied_nor_one_to_check() {
        let replayed = [call("create_application", REPLAYED, true, Some("name Expense")), call("update_user", &format!("{REPLAYED} OUTCOME_UNKNOWN"), true, Some("userId u1")), call("update_user", "NOT_IN_CASSETTE", true, Some("userId u2"))];
        let lines = account(&replayed, SHOWN);
        assert_eq!(lines[0], "its writes (0 of 3 applied; an error (a 4xx, or \"not sent\") was not, \"replayed\" was answered from the cassette as it was recorded, and nothing was sent):");
        assert_eq!(&lines[1..], ["  update_user (userId u2): NOT_IN_CASSETTE", "  create_application (name Expense): replayed", "  update_user (userId u1): replayed OUTCOME_UNKNOWN"]);
        assert!(caught_uncertain(&replayed, SHOWN).is_none());
        assert!(recorded_to_check(&replayed), "yet it was one to check when recorded");
        assert!(!recorded_to_check(&replayed[..1]));
    }

    #[test]
    fn a_write_whose_answer_could_not_be_read_was_applied() {
        let calls = [call("create_user", ANSWER_UNREADABLE, true, Some("username a")), call("create_user", "INVALID_DATA", true, Some("username b"))];
        let lines = account(&writes(&calls, &[]), SHOWN);
        assert!(lines[0].starts_with("its writes (1 of 2 applied;"), "{lines:?}");
        assert_eq!(lines.last().map(String::as_str), Some("  create_user (username a): ANSWER_UNREADABLE"), "listed with the applied ones: {lines:?}");
    }

    #[test]
    fn a_write_given_up_on_a_server_error_is_one_to_check() {
        let failed = CallSummary { status: Some(502), ..call("update_user", "UNEXPECTED_ERROR", true, Some("userId u1")) };
        let refused = CallSummary { status: Some(400), ..call("update_user", "INVALID_DATA", true, Some("userId u2")) };
        let lines = account(&writes(&[refused, failed], &[]), SHOWN);
        assert_eq!(&lines[1..], ["  update_user (userId u1): UNEXPECTED_ERROR", "  update_user (userId u2): INVALID_DATA"]);
    }

    #[test]
    fn past_the_cut_only_applied_writes_are_counted() {
        let mut calls: Vec<CallSummary> = (0..SHOWN + 5).map(|i| call("add_user_to_group", "ok", true, Some(&format!("userId u{i}")))).collect();
        calls.push(call("add_user_to_group", "OUTCOME_UNKNOWN", true, Some("userId late")));
        let lines = account(&writes(&calls, &[]), SHOWN);
        assert_eq!(lines[1], "  add_user_to_group (userId late): OUTCOME_UNKNOWN");
        assert!(lines.last().unwrap().starts_with("  … and 6 more applied"), "{:?}", lines.last());
    }
}
