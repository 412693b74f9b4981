//! Calls that would cut this server off from PingOne: the worker application it signs
//! in with deleted, disabled, or its secret replaced with no grace period (review 49:
//! an agent asked to rotate "the worker's secret" rotated the server's own; the new
//! secret came back masked and every later call failed with 401 invalid_client), or
//! one of the roles it acts with removed (review 51: a script stripped them all).

use serde_json::Value;

use crate::catalog::{Action, Method};
use crate::config::Credentials;

const APPLICATION: &str = "/environments/{environmentId}/applications/{applicationId}";
const ROLE_ASSIGNMENT: &str = "/environments/{environmentId}/applications/{applicationId}/roleAssignments/{roleAssignmentId}";

/// What every later call would fail with once the worker cannot sign in.
const SIGN_IN_FAILS: &str = "every later call would fail with 401 invalid_client";

/// Why `action` with `args` would leave this server unable to sign in, or None.
pub fn cut_off(action: &Action, args: &Value, credentials: &Credentials) -> Option<String> {
    let Credentials::Worker { client_id, .. } = credentials else { return None };
    if args.get("applicationId").and_then(Value::as_str) != Some(client_id.as_str()) {
        return None;
    }
    let secret = format!("{APPLICATION}/secret");
    let (harm, then) = match (&action.method, action.path.as_str()) {
        (Method::Post, path) if path == secret && args.pointer("/previous/expiresAt").is_none() => {
            ("its secret would be replaced at once (no previous.expiresAt keeps the old one valid) and the new one comes back masked", SIGN_IN_FAILS)
        }
        (Method::Delete, path) if path == secret => ("the previous secret would stop working, and this server may still sign in with it", SIGN_IN_FAILS),
        (Method::Delete, APPLICATION) => ("the application would be deleted", SIGN_IN_FAILS),
        (Method::Put | Method::Patch, APPLICATION) if args.get("enabled") == Some(&Value::Bool(false)) => ("the application would be disabled", SIGN_IN_FAILS),
        (Method::Delete, ROLE_ASSIGNMENT) => ("one of the admin roles this server acts with would be removed", "the calls that need it would fail with 403, and with none left every call would"),
        _ => return None,
    };
    let rotate = if action.path == secret { "; to rotate this worker's secret, keep the old one valid for a while with previous: { expiresAt } (up to 30 days) and put the new one in this server's configuration before then" } else { "" };
    Some(format!("`{}` was not sent: application {client_id} is the worker this server signs in with; {harm}, so {then}. Do this from the PingOne console or with another worker's credentials{rotate}", action.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::load_builtin;
    use crate::config::AuthMethod;
    use crate::secret::Secret;
    use serde_json::json;

    fn worker(id: &str) -> Credentials {
        Credentials::Worker { client_id: id.to_owned(), client_secret: Secret::new("s"), auth_method: AuthMethod::Basic }
    }

    #[test]
    fn only_the_calls_that_would_lock_out_the_servers_own_worker_are_named() {
        let catalog = load_builtin().unwrap();
        let action = |id: &str| catalog.get(id).unwrap();
        let own = worker("w1");
        let cut_off_by = |id: &str, args: Value| cut_off(action(id), &args, &own);
        assert!(cut_off_by("generate_application_secret", json!({ "applicationId": "w1" })).unwrap().contains("replaced at once"));
        assert!(cut_off_by("delete_application", json!({ "applicationId": "w1" })).unwrap().contains("deleted"));
        assert!(cut_off_by("delete_application_secret", json!({ "applicationId": "w1" })).is_some());
        assert!(cut_off_by("update_application", json!({ "applicationId": "w1", "enabled": false })).unwrap().contains("disabled"));
        let unroled = cut_off_by("delete_application_role_assignment", json!({ "applicationId": "w1", "roleAssignmentId": "r1" })).unwrap();
        assert!(unroled.contains("admin roles this server acts with would be removed, so the calls that need it would fail with 403"), "{unroled}");
        assert_eq!(cut_off_by("delete_application_role_assignment", json!({ "applicationId": "other", "roleAssignmentId": "r1" })), None);
        // With a grace period, another application, or a change that keeps it enabled: sent.
        assert_eq!(cut_off_by("generate_application_secret", json!({ "applicationId": "w1", "previous": { "expiresAt": "2030-01-01T00:00:00Z" } })), None);
        assert_eq!(cut_off_by("generate_application_secret", json!({ "applicationId": "other" })), None);
        assert_eq!(cut_off_by("update_application", json!({ "applicationId": "w1", "enabled": true })), None);
        assert_eq!(cut_off(action("delete_application"), &json!({ "applicationId": "w1" }), &Credentials::Person), None);
    }
}
