//! Asking a person before a destructive action runs. The policy decides whether the
//! action may run at all; a confirmer, when the caller's client can ask someone,
//! decides whether this one call goes ahead.

use futures::future::BoxFuture;
use serde_json::Value;

use crate::catalog::Action;
use crate::defender::is_direction_mark;
use crate::secret::{hide_fields, mask_json, Hide};

/// One destructive call waiting for a person's yes.
#[derive(Debug, Clone)]
pub struct ConfirmRequest {
    pub action: String,
    pub title: String,
    /// The request with the path filled in from the arguments (and the environment,
    /// see [`ConfirmRequest::in_environment`]), e.g. "DELETE /environments/0c2f…/users/5f1c…".
    pub request: String,
    /// The call's arguments, secrets masked.
    pub args: Value,
    /// What the ids in the path name, e.g. `userId 5f1c… has username "jdoe"`.
    pub targets: Vec<String>,
    /// What the call changes that made it a question, e.g. `email "a@x" -> "b@y"`.
    pub changes: Vec<String>,
    /// The environment's id and profile, e.g. "0c2f… (profile `prod`)".
    pub environment: Option<String>,
    /// Why it is asked ("a destructive PingOne action", … in the question).
    pub reason: ConfirmReason,
    /// Whether a script makes the call (`execute`), or the agent called the action
    /// itself as a tool.
    pub from_script: bool,
    /// What a call granting access gives, as sent (the arguments outside the path: a
    /// group, a role and its scope, a resource and its scopes). A person's yes to the
    /// rest of a script's calls covers only calls that give the same: a yes to adding
    /// users to Finance is no yes to adding one to the admins' group.
    pub grants: Option<String>,
    /// What leaving out a parameter the call left out does, where the catalog says it
    /// matters (a secret rotated without a grace period: the old one stops at once).
    pub notes: Vec<String>,
    /// The record it acts on, by the ids in its path (`userId 5f1c…`): what a call run
    /// unasked on a yes to the rest is listed by.
    pub subject: String,
    /// For a call changing access, each access-changing value it sends (`enabled
    /// false`, `email at @new.example`), of which `grants` keeps those it changes.
    pub change_parts: Vec<String>,
}

/// Why a person is asked before a call is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmReason {
    /// It removes something (`destructive` in the catalog).
    Destructive,
    /// It gives someone access: a role, a group, a grant, a device (`grants_access`);
    /// or it locks or unlocks an account (`grants_access_only_if` its state allows).
    GrantsAccess,
    /// It changes who can sign on, how, or where sign-ons and a user's codes go: a
    /// `grants_access` parameter given a new value (a user's email or phone, an
    /// application's redirect URIs, a user or an application disabled or enabled, a population move, the
    /// sign-on policies attached to an application).
    ChangesAccess,
}

impl ConfirmReason {
    /// The reason this call of `action` is asked about whatever the record holds, if
    /// there is one.
    pub fn of(action: &Action, args: &Value) -> Option<Self> {
        if action.is_destructive_call(args) {
            Some(Self::Destructive)
        } else if action.grants_access {
            Some(Self::GrantsAccess)
        } else {
            None
        }
    }

    fn words(self) -> &'static str {
        match self {
            Self::Destructive => "a destructive PingOne action",
            Self::GrantsAccess => "a PingOne action that grants access or changes who can sign on",
            Self::ChangesAccess => "a PingOne change to who can sign on, how, where sign-ons and a user's recovery and one-time codes go, or what an application may do",
        }
    }
}

impl ConfirmRequest {
    pub fn new(action: &Action, args: &Value, reason: ConfirmReason) -> Self {
        let left_out = action.params.iter().filter(|p| args.get(&p.name).is_none_or(Value::is_null)).filter_map(|p| p.absent_warning.clone());
        let granting = action.access_granting_args(args).filter_map(|(name, _)| action.param(name)?.grant_warning.clone());
        let notes = granting.chain(left_out).collect();
        let args = mask_json(&hide_fields(args, action.hidden_args(args), Hide::Mask));
        let subject = action
            .params
            .iter()
            .filter(|p| action.path.contains(&format!("{{{}}}", p.name)))
            .filter_map(|p| Some(format!("{} {}", p.name, args.get(&p.name)?.as_str()?)))
            .collect::<Vec<_>>()
            .join(", ");
        let mut path = action.path.clone();
        for (name, value) in args.as_object().into_iter().flatten() {
            if let Some(value) = value.as_str() {
                path = path.replace(&format!("{{{name}}}"), value);
            }
        }
        let change_parts = if reason == ConfirmReason::ChangesAccess { same_change(action, &args) } else { vec![] };
        let grants = match reason {
            ConfirmReason::GrantsAccess => {
                let outside_path: serde_json::Map<String, Value> =
                    args.as_object().into_iter().flatten().filter(|(name, _)| !action.path.contains(&format!("{{{name}}}"))).map(|(k, v)| (k.clone(), v.clone())).collect();
                Some(Value::Object(outside_path).to_string())
            }
            ConfirmReason::ChangesAccess => Some(change_parts.join(", ")),
            ConfirmReason::Destructive => None,
        };
        Self {
            action: action.id.clone(),
            title: action.title.clone(),
            request: format!("{} {path}", action.method.as_str()),
            args,
            targets: vec![],
            changes: vec![],
            environment: None,
            reason,
            from_script: true,
            grants,
            notes,
            subject,
            change_parts,
        }
    }

    /// What a person's yes to the rest of a script's calls of this action covers: the
    /// action, and for a call granting access, what it gives; for one changing access,
    /// the change it makes.
    pub fn blanket(&self) -> Blanket {
        Blanket { action: self.action.clone(), grants: self.grants.clone() }
    }

    /// The environment the call goes to, filled into the request and named with its
    /// profile, so that a person serving several environments can tell which.
    pub fn in_environment(mut self, environment_id: &str, profile: &str) -> Self {
        self.request = self.request.replace("{environmentId}", environment_id);
        self.environment = Some(format!("{environment_id} (profile `{profile}`)"));
        self
    }

    pub fn with_targets(mut self, targets: Vec<String>) -> Self {
        self.targets = targets;
        self
    }

    /// What the call changes in the record, shown to the person; for a call changing
    /// access, a yes to the rest then covers the calls making the same of those changes,
    /// not all it restates (review 60 M3: disabling three applications, a full replace
    /// each, was asked three times for their differing redirect URIs).
    pub fn with_changes(mut self, changes: Vec<String>) -> Self {
        let changed = |part: &String| {
            let name = part.split(' ').next().unwrap_or_default();
            changes.iter().any(|line| line.strip_prefix(name).is_some_and(|rest| rest.starts_with([' ', '.', '['])))
        };
        let kept: Vec<&String> = self.change_parts.iter().filter(|part| changed(part)).collect();
        if self.reason == ConfirmReason::ChangesAccess && !kept.is_empty() {
            self.grants = Some(kept.iter().map(|part| part.as_str()).collect::<Vec<_>>().join(", "));
        }
        self.changes = changes;
        self
    }

    /// What the person reads: the action, what it does, and its target.
    pub fn message(&self) -> String {
        let targets: String = self
            .targets
            .iter()
            .map(|t| format!("Target: {t}\n"))
            .chain(self.changes.iter().map(|c| format!("Change: {c}\n")))
            .chain(self.notes.iter().map(|n| format!("Note: {n}\n")))
            .collect();
        let environment = self.environment.as_ref().map(|e| format!("Environment: {e}\n")).unwrap_or_default();
        let who = if self.from_script { "An agent's script" } else { "An agent" };
        // Marks that reorder text are shown escaped, so an argument reads as it is sent.
        let args: String = self.args.to_string().chars().map(|c| if is_direction_mark(c) { format!("\\u{:04x}", c as u32) } else { c.to_string() }).collect();
        format!(
            "{who} wants to run {}.\n\nAction: {} ({})\n{environment}Request: {}\n{targets}Arguments: {args}\n\nRun it?",
            self.reason.words(), self.action, self.title, self.request
        )
    }
}

/// The calls one "run the rest without asking" answer covers: later calls of one
/// action, and of an action granting access, those giving the same.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Blanket {
    pub action: String,
    pub grants: Option<String>,
}

/// How a person's yes to a call was given, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Yes {
    /// To this call's own question.
    Asked,
    /// By an earlier yes to the rest of the script's calls like it: nobody read this one.
    ToTheRest,
}

impl Yes {
    pub fn as_str(self) -> &'static str {
        match self {
            Yes::Asked => "asked",
            Yes::ToTheRest => "yes_to_the_rest",
        }
    }
}

/// Why a call that needed a person's yes does not run, and whether a person decided
/// so (said no, cancelled, refused the rest) or no answer came (the client could not
/// put the question, it timed out, there was nobody to ask): the audit log tells these
/// apart, so no one reads a decision that was never made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub why: String,
    pub by_person: bool,
}

impl Refusal {
    pub fn by_person(why: impl Into<String>) -> Self {
        Self { why: why.into(), by_person: true }
    }

    pub fn unanswered(why: impl Into<String>) -> Self {
        Self { why: why.into(), by_person: false }
    }
}

/// Asks someone to confirm a destructive call. `Err` says why it must not run
/// (declined, cancelled, no answer in time, or no way to ask).
pub trait Confirm: Send + Sync {
    fn confirm(&self, request: ConfirmRequest) -> BoxFuture<'static, Result<Yes, Refusal>>;

    /// Whether a call would be put to the person, so a caller can skip preparing the
    /// question (reading the target's name) when it would not: after the person
    /// allowed the rest of the script's calls like it.
    fn will_ask(&self, _call: &Blanket) -> BoxFuture<'static, bool> {
        Box::pin(async { true })
    }

    /// Whether a person can be asked at all: a call refused by one that can was refused
    /// by the person (their no to the rest of the script's calls like it), not for want
    /// of someone to ask.
    fn can_ask(&self) -> bool {
        true
    }

    /// The actions the person allowed for the rest of a script, each with the records
    /// its calls then ran unasked on (those with none left out).
    fn allowed_unasked(&self) -> BoxFuture<'static, Vec<(String, Vec<String>)>> {
        Box::pin(async { vec![] })
    }
}

/// The change an access-changing call makes, as a person's yes to the rest of a
/// script's calls covers it (review 40): each access-changing value it sets, an e-mail
/// address by its domain, so a yes to moving users to `@new.example` covers the rest of
/// that migration, not a later address at `@evil.example` nor a phone number.
fn same_change(action: &Action, args: &Value) -> Vec<String> {
    let mut parts: Vec<String> = action
        .access_granting_args(args)
        .map(|(name, value)| match value.as_str().and_then(|text| text.rsplit_once('@')) {
            Some((_, domain)) => format!("{name} at @{}", domain.to_lowercase()),
            None => format!("{name} {value}"),
        })
        .chain(action.access_params_left_out(args).map(|name| format!("{name} left out")))
        .collect();
    parts.sort();
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::load_builtin;
    use serde_json::json;

    #[test]
    fn the_question_names_the_action_and_its_target_with_secrets_masked() {
        let catalog = load_builtin().unwrap();
        let request = ConfirmRequest::new(catalog.get("set_user_password").unwrap(), &json!({ "userId": "u-42", "value": "Sup3r-secret-pw" }), ConfirmReason::Destructive);
        assert_eq!(request.request, "PUT /environments/{environmentId}/users/u-42/password");
        let message = request.message();
        assert!(message.contains("set_user_password") && message.contains("u-42"), "{message}");
        assert!(!message.contains("Sup3r-secret-pw"), "{message}");
        let reordered = ConfirmRequest::new(catalog.get("update_user").unwrap(), &json!({ "userId": "u-42", "email": "a@moc.\u{202E}example" }), ConfirmReason::ChangesAccess).message();
        assert!(reordered.contains("a@moc.\\u202eexample") && !reordered.contains('\u{202E}'), "{reordered}");
    }

    /// A call that leaves out what keeps it safe is asked with what that means
    /// (review 57: a secret rotated without a grace period broke every client, unsaid).
    #[test]
    fn the_question_says_what_leaving_a_parameter_out_does() {
        let catalog = crate::catalog::load_builtin().unwrap();
        let rotate = catalog.get("generate_application_secret").unwrap();
        let at_once = ConfirmRequest::new(rotate, &json!({ "applicationId": "a-1" }), ConfirmReason::Destructive).message();
        assert!(at_once.contains("Note: no previous.expiresAt was given, so the current secret stops working at once"), "{at_once}");
        let graced = ConfirmRequest::new(rotate, &json!({ "applicationId": "a-1", "previous": { "expiresAt": "2026-12-10T00:00:00Z" } }), ConfirmReason::Destructive).message();
        assert!(!graced.contains("Note:"), "{graced}");
    }

    /// A value that grants access is asked with what it grants (review 57 M6: a WORKER
    /// application's question said only `type "WORKER"`).
    #[test]
    fn the_question_says_what_a_granting_value_does() {
        let catalog = crate::catalog::load_builtin().unwrap();
        let create = catalog.get("create_application").unwrap();
        let app = |kind: &str| json!({ "name": "Sync", "type": kind, "protocol": "OPENID_CONNECT", "enabled": true, "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC" });
        let worker = ConfirmRequest::new(create, &app("WORKER"), ConfirmReason::ChangesAccess).message();
        assert!(worker.contains("Note: a WORKER application is given every admin role of the client that creates it"), "{worker}");
        let web = ConfirmRequest::new(create, &app("WEB_APP"), ConfirmReason::ChangesAccess).message();
        assert!(!web.contains("admin role"), "{web}");
    }

    /// Review 40: a yes to the rest of a script's e-mail changes covered an admin's
    /// address moved to an attacker's domain, and her phone. It covers the same change:
    /// addresses at the same domain, not another domain, not another field.
    #[test]
    fn a_yes_to_the_rest_of_a_change_covers_only_the_same_change() {
        let catalog = load_builtin().unwrap();
        let update = catalog.get("update_user").unwrap();
        let blanket = |args: Value| ConfirmRequest::new(update, &args, ConfirmReason::ChangesAccess).blanket();
        let first = blanket(json!({ "userId": "u-1", "email": "noah.white@new.example" }));
        assert_eq!(first, blanket(json!({ "userId": "u-2", "email": "ana.lopez@New.Example" })));
        assert_ne!(first, blanket(json!({ "userId": "u-3", "email": "attacker@evil.example" })));
        assert_ne!(first, blanket(json!({ "userId": "u-3", "email": "x@new.example", "mobilePhone": "+15550100" })));
        assert_ne!(blanket(json!({ "userId": "u-3", "mobilePhone": "+15550100" })), blanket(json!({ "userId": "u-3", "mobilePhone": "+15550199" })));
    }

    /// Review 60 M3: a yes to disabling the rest of a script's applications covers each
    /// application disabled, whatever settings its full replace restates; one that also
    /// changes a setting is asked.
    #[test]
    fn a_yes_to_the_rest_covers_what_the_calls_change_not_what_they_restate() {
        let catalog = load_builtin().unwrap();
        let update = catalog.get("update_application").unwrap();
        let app = |id: &str, uri: &str| json!({ "applicationId": id, "name": id, "type": "WEB_APP", "protocol": "OPENID_CONNECT", "enabled": false, "redirectUris": [uri], "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC" });
        let blanket = |args: Value, changes: &[&str]| ConfirmRequest::new(update, &args, ConfirmReason::ChangesAccess).with_changes(changes.iter().map(|c| c.to_string()).collect()).blanket();
        let disable = ["enabled true -> false"];
        let first = blanket(app("hr", "https://hr.example.com/cb"), &disable);
        assert_eq!(first, blanket(app("crm", "https://crm.example.com/cb"), &disable));
        assert_ne!(first, blanket(app("crm", "https://evil.example.net/cb"), &["enabled true -> false", "redirectUris adds \"https://evil.example.net/cb\""]));
    }
}
