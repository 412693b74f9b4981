//! Calls that would cut this server off from PingOne: the worker application it signs
//! in with deleted, disabled, or its secret replaced with no grace period (review 49:
//! an agent asked to rotate "the worker's secret" rotated the server's own; the new
//! secret came back masked and every later call failed with 401 invalid_client), or
//! one of the roles it acts with removed, the worker's or, acting as a person, theirs
//! (reviews 51 and 52: a script stripped them all).

use serde_json::Value;

use crate::catalog::{Action, Method};
use crate::config::Credentials;
use crate::pingone::PingOneClient;

const APPLICATION: &str = "/environments/{environmentId}/applications/{applicationId}";
const SECRET: &str = "/environments/{environmentId}/applications/{applicationId}/secret";
const ROLE_ASSIGNMENT: &str = "/environments/{environmentId}/applications/{applicationId}/roleAssignments/{roleAssignmentId}";

/// What every later call would fail with once the worker cannot sign in.
const SIGN_IN_FAILS: &str = "every later call would fail with 401 invalid_client";

const USER_ROLE_ASSIGNMENT: &str = "/environments/{environmentId}/users/{userId}/roleAssignments/{roleAssignmentId}";

/// Why `action` with `args` would cut this server off from PingOne, or None.
pub async fn cut_off(action: &Action, args: &Value, client: &PingOneClient) -> Option<String> {
    if let Some(why) = worker_cut_off(action, args, &client.connection().credentials) {
        return Some(why);
    }
    // Only this call needs to know who the person is.
    if removes_a_users_role(action) {
        return person_cut_off(action, args, &client.person_id().await?);
    }
    None
}

fn removes_a_users_role(action: &Action) -> bool {
    action.method == Method::Delete && action.path == USER_ROLE_ASSIGNMENT
}

/// Why `action` would remove an admin role of `person_id`, the person this server acts
/// as (`--as-user`), or None.
fn person_cut_off(action: &Action, args: &Value, person_id: &str) -> Option<String> {
    (removes_a_users_role(action) && args.get("userId").and_then(Value::as_str) == Some(person_id)).then(|| {
        format!(
            "`{}` was not sent: user {person_id} is you, the person this server acts as; one of your own admin roles would be removed, so your calls that need it would fail with 403, and with none left every call would. Have another administrator do it, or do it from the PingOne console",
            action.id
        )
    })
}

/// Why `action` with `args` would leave this server's worker unable to sign in or to
/// act, or None.
fn worker_cut_off(action: &Action, args: &Value, credentials: &Credentials) -> Option<String> {
    let Credentials::Worker { client_id, .. } = credentials else { return None };
    if args.get("applicationId").and_then(Value::as_str) != Some(client_id.as_str()) {
        return None;
    }
    let (harm, then) = match (&action.method, action.path.as_str()) {
        (Method::Post, SECRET) if args.pointer("/previous/expiresAt").is_none() => {
            ("its secret would be replaced at once (no previous.expiresAt keeps the old one valid) and the new one comes back masked", SIGN_IN_FAILS)
        }
        (Method::Delete, SECRET) => ("the previous secret would stop working, and this server may still sign in with it", SIGN_IN_FAILS),
        (Method::Delete, APPLICATION) => ("the application would be deleted", SIGN_IN_FAILS),
        (Method::Put | Method::Patch, APPLICATION) if args.get("enabled") == Some(&Value::Bool(false)) => ("the application would be disabled", SIGN_IN_FAILS),
        (Method::Delete, ROLE_ASSIGNMENT) => ("one of the admin roles this server acts with would be removed", "the calls that need it would fail with 403, and with none left every call would"),
        _ => return None,
    };
    let rotate = if action.path == SECRET { "; to rotate this worker's secret, keep the old one valid for a while with previous: { expiresAt } (up to 30 days) and put the new one in this server's configuration before then" } else { "" };
    Some(format!("`{}` was not sent: application {client_id} is the worker this server signs in with; {harm}, so {then}. Do this from the PingOne console or with another worker's credentials{rotate}", action.id))
}

/// Whether `action` rotates the secret of the worker this server signs in with while
/// keeping the old one for a while (`previous.expiresAt`): safe only while the server
/// signs in with the current secret.
pub fn rotates_own_secret_with_grace(action: &Action, args: &Value, credentials: &Credentials) -> bool {
    let Credentials::Worker { client_id, .. } = credentials else { return false };
    action.method == Method::Post
        && action.path == SECRET
        && args.get("applicationId").and_then(Value::as_str) == Some(client_id.as_str())
        && args.pointer("/previous/expiresAt").is_some()
}

/// Why a second rotation of this server's own secret would cut it off, after this
/// process rotated it once (`rotated_at`): the server still signs in with the secret
/// that rotation made the previous one, and PingOne keeps one previous secret, so this
/// one would drop it (review 60 H2: a containment script run twice locked the server
/// out). PingOne does not let a worker read its own secret, so only a rotation this
/// process made is known.
pub fn drops_the_signing_secret(action: &Action, client_id: &str, rotated_at: &str) -> String {
    format!(
        "`{}` was not sent: application {client_id} is the worker this server signs in with, and this server rotated its secret at {rotated_at}; it still signs in with the secret that rotation kept as the previous one, and PingOne keeps only one previous secret, so this rotation would drop it at once, and {SIGN_IN_FAILS}. Put the current secret in this server's configuration (read it with another worker's credentials or in the PingOne console) and start the server again before rotating once more",
        action.id
    )
}

/// What the person asked to rotate this server's own secret (with a grace period) is
/// told: a rotation made elsewhere since it started is not known here.
pub const OWN_ROTATION_NOTE: &str = "this is the worker this server signs in with: put the new secret in its configuration before previous.expiresAt; and if its secret was rotated since the server started (by another process or in the console), it now signs in with the previous secret, which this rotation would drop at once";

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
        let cut_off_by = |id: &str, args: Value| worker_cut_off(action(id), &args, &own);
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
        assert_eq!(worker_cut_off(action("delete_application"), &json!({ "applicationId": "w1" }), &Credentials::Person), None);
    }

    /// A person acting as themselves keeps their own roles (review 52: one removed
    /// their only admin role, and every later call failed).
    /// Only a rotation of the server's own worker with a grace period is one whose
    /// repeat is weighed.
    #[test]
    fn a_rotation_with_grace_of_the_servers_own_secret_is_told_apart() {
        let catalog = load_builtin().unwrap();
        let rotate = catalog.get("generate_application_secret").unwrap();
        let own = worker("w1");
        let later = json!({ "previous": { "expiresAt": "2030-01-01T00:00:00Z" } });
        assert!(rotates_own_secret_with_grace(rotate, &json!({ "applicationId": "w1", "previous": later["previous"] }), &own));
        assert!(!rotates_own_secret_with_grace(rotate, &json!({ "applicationId": "other", "previous": later["previous"] }), &own));
        assert!(!rotates_own_secret_with_grace(rotate, &json!({ "applicationId": "w1" }), &own));
        assert!(drops_the_signing_secret(rotate, "w1", "12:00").contains("still signs in with the secret that rotation kept as the previous one"));
    }

    #[test]
    fn a_person_does_not_remove_their_own_roles() {
        let catalog = load_builtin().unwrap();
        let delete = catalog.get("delete_user_role_assignment").unwrap();
        let own = person_cut_off(delete, &json!({ "userId": "me", "roleAssignmentId": "r1" }), "me").unwrap();
        assert!(own.contains("user me is you, the person this server acts as") && own.contains("would fail with 403"), "{own}");
        assert_eq!(person_cut_off(delete, &json!({ "userId": "someone", "roleAssignmentId": "r1" }), "me"), None);
        assert_eq!(person_cut_off(catalog.get("get_user_role_assignment").unwrap(), &json!({ "userId": "me", "roleAssignmentId": "r1" }), "me"), None);
    }

    #[test]
    fn a_tokens_subject_is_read_from_its_claims() {
        use base64::Engine as _;
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"u-42","aud":"x"}"#);
        assert_eq!(crate::pingone::jwt_subject(&format!("h.{claims}.s")).as_deref(), Some("u-42"));
        assert_eq!(crate::pingone::jwt_subject("opaque"), None);
    }
}
