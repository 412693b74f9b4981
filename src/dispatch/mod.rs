//! The one function every action call from a script goes through: resolve the
//! action, check its arguments, apply the policy (allow/deny, writes, production),
//! run it (live, dry, or from a cassette), mask secrets, audit and record it, and
//! turn the outcome into what the script sees.

mod cassette;
mod changes;
mod own_credential;
mod withheld;

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::OnceCell;

use futures::future::BoxFuture;
use guest_sdk::abi::{ActionError, HostCall, HostReply, OwnText, DESCRIBE_ACTION, SEARCH_ACTION};
use serde_json::{json, Value};

pub use cassette::{Cassette, Interaction, Recorder, Replay, NOT_IN_CASSETTE};

use crate::catalog::{action_signature, check_args, normalise_args, Action, ArgsError, Catalog, Method, ParamLocation};
use crate::config::Credentials;
use crate::pingone::{gave_up_text, CallOptions, ClientError, PingOneClient, Waits};
use crate::policy::{AuditEntry, AuditLog, Caller, Confirm, ConfirmReason, ConfirmRequest, Grant, Policy, PolicyConfig, Yes};
use crate::secret::{hide_fields, mask_in_place, Hide, Masked};
use crate::sandbox::{ActionHost, Readings, INTERRUPTED};
use crate::search::{hits_json, meant, SearchIndex, SignatureStyle};

/// Where action calls are answered.
#[derive(Clone)]
pub enum Backend {
    /// PingOne (or the simulator) over HTTP.
    Live(PingOneClient),
    /// A cassette recorded earlier: no network.
    Replay(Arc<Replay>),
    /// No PingOne environment is configured (why not): a script that calls nothing
    /// still runs (`run`); each call is refused with this reason.
    Unconfigured(String),
}

/// Why the production guard stopped a call.
enum EnvironmentCheck {
    /// A verdict: production, or an environment nobody may read.
    Refused(OwnText),
    /// The check could not be made (sign-in, network); the next call tries again.
    Failed(ClientError),
}

/// Actions an unknown id's error suggests.
const SUGGESTIONS: usize = 5;

/// Fields a call may change while a credential's mask is put back as the secret: none
/// decides where the secret is sent or how (an identity provider's endpoints, issuer,
/// client id, authentication method), so the secret goes only where it went before.
const SECRET_NEUTRAL_FIELDS: [&str; 7] = ["name", "description", "enabled", "icon", "loginButtonIcon", "registration", "scopes"];

pub struct Dispatcher {
    catalog: Arc<Catalog>,
    search: Arc<SearchIndex>,
    backend: Backend,
    policy: Policy,
    audit: Option<Arc<AuditLog>>,
    session: String,
    recorder: Option<Arc<Recorder>>,
    /// The production guard's verdict, settled on the first live call.
    environment_check: OnceCell<Result<(), OwnText>>,
    /// What this dry run has shown and not sent.
    rehearsal: std::sync::Mutex<Rehearsal>,
    /// When this process rotated the secret its worker signs in with, keeping the old
    /// one for a while: a second rotation would drop the one it signs in with.
    own_secret_rotated_at: std::sync::OnceLock<String>,
}

/// A dry run's memory of what it showed and did not send.
#[derive(Default)]
struct Rehearsal {
    /// The stand-in ids its creates returned: only these stand for records.
    stand_ins: std::collections::HashSet<String>,
    /// The paths its writes were shown for.
    touched: Vec<String>,
    /// The paths its deletes were shown for: the real run finds nothing there after.
    deleted: Vec<String>,
    /// The unique values its creates were shown giving ([`unique_key`]), which a second
    /// create of the same run would repeat.
    unique_values: std::collections::HashSet<String>,
}

impl Dispatcher {
    /// A read-only dispatcher (the default policy); see [`Dispatcher::with_policy`].
    pub fn new(catalog: Arc<Catalog>, search: Arc<SearchIndex>, backend: Backend) -> Self {
        Self {
            catalog,
            search,
            backend,
            policy: Policy::new(PolicyConfig::default()),
            audit: None,
            session: uuid::Uuid::new_v4().to_string(),
            recorder: None,
            environment_check: OnceCell::new(),
            rehearsal: std::sync::Mutex::default(),
            own_secret_rotated_at: std::sync::OnceLock::new(),
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Why the audit log could not be written, once a line of it could not: later
    /// changes are refused (`AUDIT_LOG_FAILED`), and the run does not end as done.
    pub fn audit_failure(&self) -> Option<String> {
        self.audit.as_ref()?.failure().map(str::to_owned)
    }

    /// One audit line of this session that is no action call's (`run_started`,
    /// `run_ended`), with `fields`, when there is an audit log.
    pub fn audit_event(&self, event: &str, fields: Value) {
        let Some(audit) = &self.audit else { return };
        let mut line = json!({ "time": now_rfc3339(), "session": self.session, "event": event });
        if let (Some(line), Value::Object(fields)) = (line.as_object_mut(), fields) {
            line.extend(fields);
        }
        audit.write_event(&line);
    }

    /// Whether `action` is one of the catalog's actions.
    pub fn knows(&self, action: &str) -> bool {
        self.catalog.get(action).is_some()
    }

    /// Whether a call of `action` may change something (a write), for the caller's record.
    pub fn writes(&self, action: &str) -> bool {
        self.catalog.get(action).is_some_and(Action::writes)
    }

    /// The record a call acts on, by the ids of its path (`userId 5f0c…`, the
    /// environment's left out), for telling a person which calls changed what. Only
    /// short texts, as ids are.
    pub fn target(&self, action: &str, args: &Value) -> Option<String> {
        let action = self.catalog.get(action)?;
        // As the call is sent: a group given as `groupId` is the membership's group.
        let args = &normalise_args(action, args.clone());
        let path_ids = action.params_in(ParamLocation::Path).map(|p| p.name.as_str()).filter(|name| *name != "environmentId");
        let mut ids: Vec<String> = path_ids.filter_map(|name| Some(format!("{name} {}", id_like(args.get(name)?)?))).collect();
        // A create names its new record by its username or name, quoted when it has
        // spaces ("EMEA Sales"): the one left without an answer is found by it (review
        // 43). Every account that quotes it to the agent scans it (`screen_targets`).
        let naming = CREATE_NAMING_ARGS.iter().copied().filter(|_| is_create(action)).find_map(|name| Some((name, args.get(name)?)));
        ids.extend(naming.and_then(|(name, value)| Some(format!("{name} {}", id_like(value).or_else(|| quoted_name(value))?))));
        // What a grant gives, named in its body: the group joined, the role and its scope.
        ids.extend(named_in_body(action, args).into_iter().filter_map(|(what, id, _)| Some(format!("{what} {}", id_like(&Value::from(id))?))));
        // A switch's new state, when the body is that switch alone (`enabled false`): a
        // disable and a later enable of one user read apart (review 52).
        if let [switch] = action.params_in(ParamLocation::Body).collect::<Vec<_>>().as_slice() {
            if let Some(on) = args.get(&switch.name).and_then(Value::as_bool) {
                ids.push(format!("{} {on}", switch.name));
            }
        }
        // An application grant: the API resource and the scopes it gives.
        if let Some(resource) = args.pointer("/resource/id").and_then(id_like) {
            let scopes: Vec<String> = args.get("scopes").and_then(Value::as_array).into_iter().flatten().filter_map(|s| id_like(s.get("id")?)).collect();
            ids.push(format!("resource {resource}"));
            if !scopes.is_empty() {
                ids.push(format!("scopes {}", scopes.join(" ")));
            }
        }
        (!ids.is_empty()).then(|| ids.join(", "))
    }

    /// Whether calls go to PingOne (not a cassette, not refused for want of a tenant).
    pub fn is_live(&self) -> bool {
        matches!(self.backend, Backend::Live(_))
    }

    /// Whether a cassette answers the calls.
    pub fn is_replay(&self) -> bool {
        matches!(self.backend, Backend::Replay(_))
    }

    /// The id PingOne gave the record a create made, from its answer.
    pub fn created_id(&self, action: &str, answer: &Value) -> Option<String> {
        self.catalog.get(action).filter(|action| is_create(action)).and_then(|_| id_like(answer.get("id")?)).filter(|id| !id.starts_with(DRY_RUN_ID_PREFIX))
    }

    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Writes one line per action call to `audit`.
    pub fn with_audit(mut self, audit: Arc<AuditLog>) -> Self {
        self.audit = Some(audit);
        self
    }

    /// Writes every action call and its reply to `recorder` as well.
    pub fn recording(mut self, recorder: Arc<Recorder>) -> Self {
        self.recorder = Some(recorder);
        self
    }

    pub async fn dispatch(&self, call: HostCall) -> HostReply {
        self.dispatch_as(call, None).await
    }

    /// Like [`Dispatcher::dispatch`], for an authenticated HTTP caller: its grant
    /// narrows the policy, and its subject goes into the audit line.
    pub async fn dispatch_as(&self, call: HostCall, caller: Option<&Caller>) -> HostReply {
        self.dispatch_for(call, &Requester { caller, ..Requester::default() }).await
    }

    /// Like [`Dispatcher::dispatch_as`]; a destructive call the policy allows is sent
    /// only once the requester's confirmer (when it has one) says yes.
    pub async fn dispatch_for(&self, call: HostCall, requester: &Requester<'_>) -> HostReply {
        let caller = requester.caller;
        match call.action.as_str() {
            SEARCH_ACTION => return self.search(&call.args, caller.and_then(|c| c.grant.as_ref())),
            DESCRIBE_ACTION => return self.describe(&call.args),
            _ => {}
        }
        let Some(action) = self.catalog.get(&call.action) else {
            return HostReply::Error(self.unknown_action(&call.action));
        };
        let call = HostCall { args: normalise_args(action, call.args), ..call };
        let started = Instant::now();
        let transaction_id = uuid::Uuid::new_v4().to_string();
        let confirmed = Mutex::new(None);
        let mut audited = AuditedCall { subject: caller.map(|c| c.subject.as_str()), token_id: caller.and_then(|c| c.token_id.as_deref()), action, args: &call.args, transaction_id: &transaction_id, started, created_id: None };
        let waits = requester.waits.cloned().unwrap_or_default();
        waits.set_transaction(&transaction_id);
        let unanswered = Unanswered { dispatcher: self, call: &audited, waits: &waits, confirmed: &confirmed };
        let (reply, outcome) = self.run(action, &call.args, &transaction_id, requester, &waits, &confirmed).await;
        std::mem::forget(unanswered);
        let reply = match reply {
            HostReply::Value(mut value) if !self.reveals_secrets(caller, action) => {
                mask_in_place(&mut value);
                HostReply::Value(value)
            }
            other => other,
        };
        let (status, code) = match &reply {
            HostReply::Error(e) => (e.status, Some(e.code.as_str())),
            HostReply::Value(_) => (waits.status(), None),
        };
        // A create's line names what it made, so a partial batch can be undone from the log.
        if let HostReply::Value(answer) = &reply {
            audited.created_id = self.created_id(&action.id, answer);
            if let Backend::Live(client) = &self.backend {
                if own_credential::rotates_own_secret_with_grace(action, &call.args, &client.connection().credentials) {
                    let _ = self.own_secret_rotated_at.set(now_rfc3339());
                }
            }
        }
        self.audit(&audited, outcome, status, code, confirmed.into_inner().unwrap_or_else(|e| e.into_inner()), &waits);
        self.record(action, &call.args, &reply);
        reply
    }

    /// Keeps the call in the cassette, when the run is recorded.
    fn record(&self, action: &Action, args: &Value, reply: &HostReply) {
        if let Some(recorder) = &self.recorder {
            recorder.record(&action.id, &hide_fields(args, action.hidden_args(args), Hide::Redact), reply);
        }
    }

    /// When other records at `path`'s collection share `record`'s name (PingOne allows
    /// two applications called "Customer Portal"), what tells this one apart, for the
    /// person asked to delete one of them (review 57 M5).
    async fn told_from_namesakes(&self, client: &PingOneClient, path: &str, args: &Value, record: &Value) -> Option<String> {
        let name = record.get("name").and_then(Value::as_str)?;
        let collection = path.rsplit_once('/')?.0;
        let siblings = self.list_at(client, collection, args).await?;
        let namesakes = siblings.iter().filter(|other| other.get("name").and_then(Value::as_str) == Some(name)).count();
        (namesakes > 1).then(|| format!("one of {namesakes} records named {}; this one has {}", quoted_label(name), telling_fields(record)))
    }

    /// A stand-in id for the record a dry run's create would make (`dry-run-group-1`).
    fn new_stand_in(&self, action: &Action) -> String {
        let issued = &mut self.rehearsal().stand_ins;
        let noun = action.id.strip_prefix("create_").unwrap_or(&action.id).replace('_', "-");
        let id = format!("{DRY_RUN_ID_PREFIX}{noun}-{}", issued.len() + 1);
        issued.insert(id.clone());
        id
    }

    /// Whether `args` name a record this dry run would create, by a stand-in id it gave.
    fn names_a_stand_in(&self, args: &Value) -> bool {
        let issued = &self.rehearsal().stand_ins;
        !issued.is_empty() && holds_any(args, issued)
    }

    /// Whether `caller` sees the secrets in `action`'s result unmasked: on a server run
    /// with `--reveal-secrets`, unless the caller's grant holds them back.
    fn reveals_secrets(&self, caller: Option<&Caller>, action: &Action) -> bool {
        self.policy.config.reveal_secrets && caller.and_then(|c| c.grant.as_ref()).is_none_or(|g| g.reveals_secrets_of(&action.id))
    }

    /// The call itself, and how it ended for the audit log; `confirmed` is set for a
    /// destructive or access-changing call that is sent: whether, and how, a person
    /// said yes to it.
    async fn run(&self, action: &Action, args: &Value, transaction_id: &str, requester: &Requester<'_>, waits: &Arc<Waits>, confirmed: &Mutex<Option<Confirmed>>) -> (HostReply, &'static str) {
        let grant: Option<&Grant> = requester.caller.and_then(|c| c.grant.as_ref());
        if let Err(e) = check_args(action, args) {
            // Only after a write was shown can a missing value be one a write did not return.
            let after_a_write = self.policy.config.dry_run && !self.rehearsal().touched.is_empty();
            let e = if after_a_write && e.problems.iter().any(|p| p.text.starts_with("missing required")) { e.noting(DRY_RUN_NOTE) } else { e };
            // No action reads the environment's own id, which an ENVIRONMENT scope needs.
            let no_id = args.pointer("/scope/id").is_none_or(|id| id.as_str().is_some_and(|id| id.trim().is_empty()));
            let e = match (&self.backend, args.pointer("/scope/type").and_then(Value::as_str), no_id) {
                (Backend::Live(client), Some("ENVIRONMENT"), true) => e.noting(&format!("for scope type ENVIRONMENT, scope.id is the environment's id; this one's is {}", client.connection().environment_id)),
                _ => e,
            };
            return (HostReply::Error(invalid_arguments(action, &e)), "refused");
        }
        if let Some(why) = self.audit_failure().filter(|_| !action.read_only) {
            let text = format!("`{}` was not sent: the audit log could not be written ({why}), and no change is made that it would not record; the calls before it stand (the writes list says which were applied). Free the disk or fix the log's path, then run again", action.id);
            return (HostReply::Error(own_error(action, AUDIT_LOG_FAILED, OwnText { text, quoted: vec![why] })), "refused");
        }
        if let Some(lapsed) = requester.caller.and_then(Caller::lapsed) {
            let text = format!("{lapsed} while the script ran: `{}` was not sent, nor will any later call be; the calls before it stand (the reply lists any writes they made); ask for a new token to go on", action.id);
            return (HostReply::Error(own_error(action, "TOKEN_LAPSED", OwnText { text, quoted: vec![] })), "refused");
        }
        if let Err(message) = self.policy.check_call(action, args).and_then(|()| grant.map_or(Ok(()), |g| g.check_call(action, args))) {
            // Built from the catalog's id and the operator's configuration: all ours.
            return (HostReply::Error(refusal(action, OwnText { text: message, quoted: vec![] })), "refused");
        }
        match &self.backend {
            Backend::Live(client) => {
                match self.environment_allowed(client).await {
                    Ok(()) => {}
                    Err(EnvironmentCheck::Refused(reason)) => return (HostReply::Error(refusal(action, reason)), "refused"),
                    // Sign-in or network trouble, not a policy: reported as what it is.
                    Err(EnvironmentCheck::Failed(e)) => return (HostReply::Error(not_sent_for_the_check(action, &e)), "not_sent"),
                }
                let (restored, mut record) = match self.restored_credentials(client, action, args, self.reveals_secrets(requester.caller, action)).await {
                    Ok(restored) => restored,
                    Err(e) => return (HostReply::Error(e), "refused"),
                };
                let args = restored.as_ref().unwrap_or(args);
                let (with_texts, read) = match self.restored_withheld_texts(client, action, args, record.as_ref()).await {
                    Ok(restored) => restored,
                    Err(e) => return (HostReply::Error(e), "refused"),
                };
                record = record.or(read);
                let args = with_texts.as_ref().unwrap_or(args);
                // A call naming a record this dry run would create has nothing to act
                // on yet, read or write: it is shown, like a write, not sent.
                let names_a_stand_in = self.policy.config.dry_run && self.names_a_stand_in(args);
                if self.policy.config.dry_run {
                    if let Some(gone) = self.deleted_in_dry_run(client, action, args) {
                        return (HostReply::Error(gone), "dry_run");
                    }
                }
                if let Some(taken) = self.priority_taken(client, action, args).await {
                    return (HostReply::Error(taken), "refused");
                }
                if let Some(text) = own_credential::cut_off(action, args, client).await {
                    return (HostReply::Error(own_error(action, "OWN_CREDENTIAL", OwnText { text, quoted: vec![] })), "refused");
                }
                let rotates_own_secret = own_credential::rotates_own_secret_with_grace(action, args, &client.connection().credentials);
                if let Some(rotated_at) = self.own_secret_rotated_at.get().filter(|_| rotates_own_secret) {
                    let text = own_credential::drops_the_signing_secret(action, args["applicationId"].as_str().unwrap_or_default(), rotated_at);
                    return (HostReply::Error(own_error(action, "OWN_CREDENTIAL", OwnText { text, quoted: vec![] })), "refused");
                }
                if self.policy.is_dry_run(action) || names_a_stand_in {
                    return self.dry_run(client, action, args, names_a_stand_in, requester.caller).await;
                }
                // The record an access-changing call would change (or an unlock acts on),
                // read once: compared here, and named in the question.
                let always = ConfirmReason::of(action, args);
                let changes_access = action.access_granting_args(args).next().is_some() || action.access_params_left_out(args).next().is_some();
                let granting = matches!(always, Some(ConfirmReason::GrantsAccess));
                // With nobody to ask (the command line, --no-confirm), the record is read
                // only where it decides what is sent, not to word a question: a bulk
                // change costs one request an item, not two.
                let nobody_asked = requester.confirm.is_none();
                let mut current = if (always.is_none() && changes_access && !nobody_asked) || (granting && action.grants_access_only_if.is_some()) {
                    match record.take() {
                        Some(record) => Some(record),
                        None => self.read_at(client, &action.path, args).await,
                    }
                } else {
                    None
                };
                let granted_already = if granting { self.grants_nothing(client, action, args, current.as_ref()).await } else { None };
                // Not sent: what the record was read to hold stands, and a change that
                // landed since the read (an admin's lock) is not undone unasked.
                if let Some(record) = granted_already {
                    return (HostReply::Value(record), "unchanged");
                }
                // A delete of one field (a previous secret) when there is none removes
                // nothing: not sent, and said so rather than answered "ok" (review 57).
                if action.removes_field.is_some() {
                    match self.record_to_remove(client, action, args).await {
                        Ok(Some(read)) if changes::removal(action, &read).is_none() => return (HostReply::Value(read), "unchanged"),
                        Ok(read) => current = current.or(read),
                        Err(missing) => return (HostReply::Error(missing), "refused"),
                    }
                }
                let (reason, changes) = match always {
                    // An unlock shows the state it ends: `account.status "LOCKED" -> "OK"`;
                    // a removal what it removes.
                    Some(reason) => {
                        let unlock = action.grants_access_only_if.as_ref().zip(current.as_ref()).and_then(|(condition, record)| condition.change_in(record));
                        let removal = current.as_ref().and_then(|record| changes::removal(action, record));
                        (Some(reason), unlock.into_iter().chain(removal).collect())
                    }
                    // Taken to change access: the audit line says nobody confirmed it.
                    None if nobody_asked => (changes_access.then_some(ConfirmReason::ChangesAccess), vec![]),
                    None => {
                        let absent = self.absent_values(client, action, current.is_some()).await;
                        let changes = changes::access_changes(action, args, current.as_ref(), &absent);
                        ((!changes.is_empty()).then_some(ConfirmReason::ChangesAccess), changes)
                    }
                };
                if let (Some(reason), Some(confirm)) = (reason, requester.confirm) {
                    let connection = client.connection();
                    let mut request = ConfirmRequest::new(action, args, reason).in_environment(&connection.environment_id, &connection.profile).with_changes(changes);
                    if rotates_own_secret {
                        request.notes.push(own_credential::OWN_ROTATION_NOTE.to_owned());
                    }
                    let asks = confirm.will_ask(&request.blanket()).await;
                    if asks {
                        // Nobody is asked to remove what is not there; what is, is named
                        // from the one read.
                        if current.is_none() {
                            match self.record_to_remove(client, action, args).await {
                                Ok(read) => current = read,
                                Err(missing) => return (HostReply::Error(missing), "refused"),
                            }
                        }
                        // An update asked about whatever it changes (an identity
                        // provider's, a sign-on policy's step) still shows what it
                        // changes; but not a credential set, which no read shows.
                        if always.is_some() && matches!(action.method, Method::Put | Method::Patch) && action.secret_params().next().is_none() {
                            current = match current.take().or_else(|| record.take()) {
                                Some(read) => Some(read),
                                None => self.read_at(client, &action.path, args).await,
                            };
                            let unread = || vec!["(the record could not be read, so what this call changes cannot be shown)".to_owned()];
                            request = request.with_changes(current.as_ref().map_or_else(unread, |r| changes::record_changes(action, args, r)));
                        }
                        request = request.with_targets(self.target_names(client, action, args, current.as_ref()).await);
                    }
                    let asked_about = request.changes.clone();
                    waits.set_asking(true);
                    let answer = confirm.confirm(request).await;
                    waits.set_asking(false);
                    match answer {
                        Ok(yes) => set(confirmed, Confirmed::By(yes)),
                        // Said no (to this call, or to the rest of the script's calls
                        // like it), no answer came, or there was nobody to ask.
                        Err(refusal) => {
                            let outcome = match (refusal.by_person, asks || confirm.can_ask()) {
                                (true, _) => "declined",
                                (false, true) => "unanswered",
                                (false, false) => "not_asked",
                            };
                            return (HostReply::Error(not_confirmed(action, refusal.why, &asked_about)), outcome);
                        }
                    }
                } else if reason.is_some() {
                    set(confirmed, Confirmed::NobodyAsked);
                }
                // A full replace clears what it leaves out: the record is read first (or
                // the read for the question is used), so the log and the agent can be
                // told what was cleared, and from what (review 53: a person asked saw it,
                // the agent did not). A PUT of one of a record's parts (a user's
                // population, enabled status, password) has nothing else to clear, and is
                // sent alone: a bulk move costs one request an item.
                let cleared = match action.replaces_whole_record() {
                    true => match current.take().or_else(|| record.take()) {
                        Some(read) => Some(read),
                        None => self.read_at(client, &action.path, args).await,
                    }
                    .map(|before| changes::cleared_fields(action, args, &before))
                    .unwrap_or_default(),
                    false => vec![],
                };
                // The client marks the call sent once its arguments pass and its request is made.
                let options = CallOptions { transaction_id: Some(transaction_id.to_owned()), all_bytes: requester.all_bytes, waits: Some(waits.clone()) };
                match client.call(action, args, &options).await {
                    Ok(value) => {
                        if !cleared.is_empty() {
                            let target = self.target(&action.id, args).unwrap_or_else(|| "its record".to_owned());
                            tracing::warn!("{} replaced the whole record ({target}) and so cleared what the call left out, which held: {}; to keep a field in a full replace, send it (read the record, change what you need, send it all)", action.id, cleared.join("; "));
                            waits.set_cleared(cleared.join("; "));
                        }
                        (HostReply::Value(value), "ok")
                    }
                    Err(e) => {
                        // Not "error": an auditor must not read a write that was, or may have
                        // been, applied as failed.
                        let outcome = match e {
                            ClientError::OutcomeUnknown { .. } => "unknown",
                            ClientError::AnswerUnreadable { .. } if action.writes() => "applied_unreadable",
                            _ => "error",
                        };
                        (HostReply::Error(with_id_hint(action, args, action_error(&action.id, &e))), outcome)
                    }
                }
            }
            Backend::Unconfigured(why) => {
                let text = format!("`{}` was not sent: no PingOne environment is configured: {why}", action.id);
                (HostReply::Error(own_error(action, "NOT_CONFIGURED", OwnText { text, quoted: vec![] })), "refused")
            }
            Backend::Replay(replay) => {
                let reply = replay.answer(&action.id, &hide_fields(args, action.hidden_args(args), Hide::Redact));
                let outcome = match &reply {
                    HostReply::Value(_) => "replayed",
                    HostReply::Error(e) if e.code == NOT_IN_CASSETTE => "refused",
                    HostReply::Error(_) => "replayed_error",
                };
                if outcome != "refused" {
                    // Handed to the cassette, which answered as PingOne did.
                    waits.mark_sent();
                }
                (reply, outcome)
            }
        }
    }

    /// One call's audit line, when there is an audit log: with where the call went (the
    /// environment id and the API's host; none when a cassette answered).
    fn audit(&self, call: &AuditedCall<'_>, outcome: &'static str, status: Option<u16>, code: Option<&str>, confirmed: Option<Confirmed>, waits: &Waits) {
        let (retries, waited_ms) = waits.get();
        let Some(audit) = &self.audit else { return };
        let (environment, api_host) = match &self.backend {
            Backend::Live(client) => {
                let connection = client.connection();
                (Some(connection.environment_id.as_str()), connection.api_base.host_str())
            }
            Backend::Replay(_) | Backend::Unconfigured(_) => (None, None),
        };
        audit.write(&AuditEntry {
            time: now_rfc3339(),
            session: &self.session,
            environment,
            api_host,
            subject: call.subject,
            token_id: call.token_id,
            action: &call.action.id,
            args: Masked(&hide_fields(call.args, call.action.hidden_args(call.args), Hide::Mask)),
            outcome,
            status,
            code,
            ms: call.started.elapsed().as_millis() as u64,
            transaction_id: Some(call.transaction_id).filter(|_| waits.sent() && self.is_live()),
            created_id: call.created_id.as_deref(),
            confirmed: confirmed.map(|c| matches!(c, Confirmed::By(_))),
            confirmed_by: match confirmed {
                Some(Confirmed::By(yes)) => Some(yes.as_str()),
                _ => None,
            },
            retries,
            waited_ms,
        });
    }

    /// The production guard: the environment's type is read once; PRODUCTION is
    /// refused unless allowed. A read that fails for want of permission refuses too
    /// (nobody can tell the environment is not production); one that fails to sign in
    /// or to reach PingOne is that failure, and is tried again on the next call.
    async fn environment_allowed(&self, client: &PingOneClient) -> Result<(), EnvironmentCheck> {
        if self.policy.config.allow_production {
            return Ok(());
        }
        if let Some(settled) = self.environment_check.get() {
            return settled.clone().map_err(EnvironmentCheck::Refused);
        }
        let settled = match client.environment_type().await {
            Ok(kind) if kind == "PRODUCTION" => Err(OwnText {
                text: "the environment is of type PRODUCTION, and pingone-mcp acts on production only with --allow-production, given by whoever starts it (`serve`, `run` or `call`) if that is really intended".to_owned(),
                quoted: vec![],
            }),
            Ok(_) => Ok(()),
            // Not there: the id, the region or the API's URL is wrong, which no role or
            // flag mends.
            Err(e @ ClientError::Api { status: 404, .. }) => {
                let connection = client.connection();
                let e = e.to_string();
                let text = format!(
                    "PingOne has no environment {} at {} ({e}): check the environment id, the region, and the API URL (PINGONE_API_URL or the profile's api_url, which ends in /v1)",
                    connection.environment_id, connection.api_base
                );
                Err(OwnText { text, quoted: vec![e] })
            }
            Err(e @ ClientError::Api { status: 403, .. }) => {
                let e = e.to_string();
                let text = match client.connection().credentials {
                    Credentials::Person => format!(
                        "cannot read the environment's type to check it is not PRODUCTION ({e}): your PingOne roles do not let you read it (have you lost your admin roles?); have another administrator give you a role that can, or sign in as someone who has one"
                    ),
                    Credentials::Worker { .. } => format!(
                        "cannot read the environment's type to check it is not PRODUCTION ({e}): the worker app's roles do not let it read the environment; grant it a role that can (Environment Admin, or a read-only one). --allow-production skips this check, but the calls will need a role all the same"
                    ),
                };
                Err(OwnText { text, quoted: vec![e] })
            }
            Err(e) => return Err(EnvironmentCheck::Failed(e)),
        };
        let _ = self.environment_check.set(settled.clone());
        settled.map_err(EnvironmentCheck::Refused)
    }

    /// What a record without each of the action's fields holds: its parameters'
    /// `absent_means`, and for `absent_means_default_of` a reference to the
    /// environment's default record, read when the changed record was (`read`). A
    /// default that cannot be read is left out, so the person is asked rather than not.
    async fn absent_values(&self, client: &PingOneClient, action: &Action, read: bool) -> serde_json::Map<String, Value> {
        let mut absent = changes::absent_values(action);
        for param in action.params.iter().filter(|_| read) {
            let Some(list) = param.absent_means_default_of.as_deref().and_then(|id| self.catalog.get(id)) else { continue };
            // With `all`, a list action returns every record as one array.
            let Ok(records) = client.call(list, &json!({ "all": true }), &CallOptions::default()).await else { continue };
            // Its name too, for the question; compared by id.
            let default = records.as_array().into_iter().flatten().find(|r| r["default"] == true);
            if let Some(id) = default.and_then(|r| r.get("id")) {
                absent.insert(param.name.clone(), json!({ "id": id, "name": default.and_then(|r| r.get("name")) }));
            }
        }
        absent
    }

    /// What the ids in a call's path name, for the person confirming it: each id's
    /// resource is read with the get action for that part of the path (the record the
    /// call changes, when `changed` already holds it), e.g. `userId 5f1c… has username
    /// "jdoe"`. Best effort: a read that fails is said to have, in place of the name.
    async fn target_names(&self, client: &PingOneClient, action: &Action, args: &Value, changed: Option<&Value>) -> Vec<String> {
        let mut names = Vec::new();
        // The user a path names, as read to name them: a new device is compared with it.
        let mut user = None;
        for (param, path) in records_in_path(&action.path) {
            let Some(id) = args.get(param).and_then(Value::as_str) else { continue };
            let record = match changed {
                Some(record) if path == action.path => Some(Cow::Borrowed(record)),
                _ => self.read_at(client, &path, args).await.map(Cow::Owned),
            };
            match record {
                Some(record) => {
                    names.extend(label(&record).map(|name| format!("{param} {id} has {name}")));
                    if path == action.path {
                        names.extend(self.told_from_namesakes(client, &path, args, &record).await);
                    }
                    if param == "userId" {
                        user = Some(record);
                    }
                }
                // Said, so a question without the name is not taken for one about a nameless record (review 43).
                None if self.reader_at(&path, args).is_some() => names.push(format!("{param} {id} could not be read just now, so what it is cannot be shown")),
                None => {}
            }
        }
        let in_path = |id: &str| action.params_in(ParamLocation::Path).any(|p| args.get(&p.name).and_then(Value::as_str) == Some(id));
        // What the call gives or attaches, named in its body: the role, the scope, the
        // group, the population, the sign-on policy; and what it replaces, named in the
        // record it changes (a user's current population, an assignment's current policy).
        let given = named_in_body(action, args);
        let replaced = changed.map(|record| named_in_body(action, record)).unwrap_or_default();
        let replaced = replaced.into_iter().filter(|(what, id, _)| !given.iter().any(|(w, i, _)| w == what && i == id));
        let references = given.iter().map(|&(what, id, readers)| (String::from(what), id, readers));
        // A record the path names already (a step's own policy) is not named twice.
        for (what, id, readers) in references.chain(replaced.map(|(what, id, readers)| (format!("current {what}"), id, readers))).filter(|(_, id, _)| !in_path(id)) {
            if readers.is_empty() {
                // Nothing reads it by id (an environment scope): named by its id.
                let this = if id == client.connection().environment_id { " (the environment this server manages)" } else { "" };
                names.push(format!("{what} {id}{this}"));
            } else {
                match self.name_of(client, id, readers).await {
                    Naming::Named(name) => names.push(format!("{what} {id} has {name}")),
                    Naming::NotFound => names.push(format!("{what} {id}: PingOne has no such record (404), so the call will likely fail")),
                    Naming::Unread => {}
                }
            }
        }
        if let Some(resource) = args.pointer("/resource/id").and_then(Value::as_str) {
            names.extend(self.granted_scopes(client, resource, args.get("scopes"), changed.and_then(|r| r.get("scopes"))).await);
        }
        if action.method == Method::Post && action.path.ends_with("/memberOfGroups") {
            if let Some(group) = args.get("id").and_then(Value::as_str) {
                names.extend(self.group_roles(client, group).await);
            }
            // A group nested in another: its members are the ones given the roles.
            if let Some(child) = args.get("groupId").and_then(Value::as_str).filter(|_| action.path.contains("/groups/{groupId}/")) {
                names.extend(self.members_given(client, child).await);
            }
        }
        if action.method == Method::Post && action.path.ends_with("/users/{userId}/devices") {
            names.extend(user.and_then(|user| device_contact_on_record(args, user.as_ref())));
        }
        names.extend(self.dependents(client, action, args).await);
        names
    }

    /// The admin roles a group gives its members, each with its scope, for the person
    /// asked to add a member: a group's name is chosen by whoever made it ("Newsletter
    /// readers") and says nothing of an Environment Admin role it holds. Members of a
    /// group are members of every group it is nested in, with their roles (review 47:
    /// "no admin role" was said of a group nested in one holding Environment Admin).
    async fn group_roles(&self, client: &PingOneClient, group: &str) -> Vec<String> {
        let Some(mut roles) = self.roles_of_group(client, group).await else { return Vec::new() };
        let (ancestors, complete) = self.groups_nested_in(client, group).await;
        for ancestor in &ancestors {
            let through = match self.name_of(client, ancestor, GROUP_READERS).await {
                Naming::Named(name) => format!("group {ancestor} ({name})"),
                _ => format!("group {ancestor}"),
            };
            match self.roles_of_group(client, ancestor).await {
                Some(held) => roles.extend(held.into_iter().map(|role| format!("{role}, through {through}, which it is nested in"))),
                None => roles.push(format!("whatever {through}, which it is nested in, gives (its roles could not be read just now)")),
            }
        }
        let mut said = vec![match roles.is_empty() {
            true if ancestors.is_empty() => format!("group {group} gives its members no admin role"),
            true => format!("group {group} gives its members no admin role, nor do the {} group(s) it is nested in", ancestors.len()),
            false => format!("group {group} gives its members the admin role(s): {}", roles.join("; ")),
        }];
        if !complete {
            said.push(format!("the groups group {group} is nested in could not all be read just now, so roles they give may be missing above"));
        }
        said
    }

    /// The admin roles assigned to one group, each with its scope; None when they
    /// cannot be read.
    async fn roles_of_group(&self, client: &PingOneClient, group: &str) -> Option<Vec<String>> {
        let list = self.catalog.get("list_group_role_assignments")?;
        let held = client.call(list, &json!({ "groupId": group, "all": true }), &CallOptions::default()).await.ok()?;
        let mut roles = Vec::new();
        for assignment in held.as_array()? {
            let role = assignment.pointer("/role/id").and_then(Value::as_str).unwrap_or("?");
            let role = match self.name_of(client, role, ROLE_READERS).await {
                Naming::Named(name) => name,
                _ => format!("role {role}"),
            };
            let scope = match (assignment.pointer("/scope/type").and_then(Value::as_str), assignment.pointer("/scope/id").and_then(Value::as_str)) {
                (Some(kind), Some(id)) => format!(" (over {} {id})", kind.to_lowercase()),
                _ => String::new(),
            };
            roles.push(format!("{role}{scope}"));
        }
        Some(roles)
    }

    /// Every group `group` is nested in, through any number of levels (at most
    /// [`NESTING_READ`] groups), and whether all of them could be read.
    async fn groups_nested_in(&self, client: &PingOneClient, group: &str) -> (Vec<String>, bool) {
        let Some(list) = self.catalog.get("list_group_nested_groups") else { return (Vec::new(), false) };
        let mut found: Vec<String> = Vec::new();
        let mut next = vec![group.to_owned()];
        while let Some(child) = next.pop() {
            if found.len() >= NESTING_READ {
                return (found, false);
            }
            let Ok(parents) = client.call(list, &json!({ "groupId": child, "all": true }), &CallOptions::default()).await else { return (found, false) };
            for parent in parents.as_array().into_iter().flatten().filter_map(|p| p.get("id")?.as_str()) {
                if parent != group && !found.iter().any(|f| f == parent) {
                    found.push(parent.to_owned());
                    next.push(parent.to_owned());
                }
            }
        }
        (found, true)
    }

    /// `3 users are in group …, and would get them`: who a nesting hands the parent's
    /// roles to, for the person asked to nest a group; best effort.
    async fn members_given(&self, client: &PingOneClient, child: &str) -> Option<String> {
        let list = self.catalog.get("list_users")?;
        let filter = format!("memberOfGroups[id eq \"{child}\"]");
        let page = client.call(list, &json!({ "filter": filter, "limit": 1 }), &CallOptions::default()).await.ok()?;
        Some(format!("{} user(s) are members of group {child} now, and would be members of the group it joins, with its roles", page.get("count")?.as_u64()?))
    }

    /// `12 users are in the group …`: how many records depend on the one a destructive
    /// call acts on (the catalog's `dependents`); best effort.
    async fn dependents(&self, client: &PingOneClient, action: &Action, args: &Value) -> Option<String> {
        let dependents = action.dependents.as_ref()?;
        let list = self.catalog.get(&dependents.list)?;
        let page = client.call(list, &json!({ "filter": dependents.filter_for(args)?, "limit": 1 }), &CallOptions::default()).await.ok()?;
        Some(format!("{} {}", page.get("count")?.as_u64()?, dependents.are))
    }

    /// The API resource a grant is of and the scopes it gives, by name: their ids alone
    /// do not tell a person that the grant lets an application change users; and those
    /// the grant it replaces (`current`) gives that it will not. Read with the list
    /// actions, as neither has a get; best effort.
    async fn granted_scopes(&self, client: &PingOneClient, resource: &str, scopes: Option<&Value>, current: Option<&Value>) -> Vec<String> {
        let every = |list: &'static str, mut args: Value| async move {
            let list = self.catalog.get(list)?;
            args["all"] = json!(true);
            client.call(list, &args, &CallOptions::default()).await.ok()
        };
        let find = |records: &Value, id: &str| records.as_array().into_iter().flatten().find(|r| r["id"] == id).cloned();
        let mut names = Vec::new();
        if let Some(name) = every("list_resources", json!({})).await.and_then(|all| find(&all, resource)).as_ref().and_then(label) {
            names.push(format!("resource {resource} has {name}"));
        }
        fn ids_of(scopes: Option<&Value>) -> Vec<&str> {
            scopes.and_then(Value::as_array).into_iter().flatten().filter_map(|s| s.get("id")?.as_str()).collect()
        }
        let ids = ids_of(scopes);
        let dropped: Vec<&str> = ids_of(current).into_iter().filter(|id| !ids.contains(id)).collect();
        if ids.is_empty() && dropped.is_empty() {
            return names;
        }
        if let Some(all) = every("list_resource_scopes", json!({ "resourceId": resource })).await {
            let named = |ids: &[&str]| -> String {
                let named: Vec<String> = ids
                    .iter()
                    .map(|id| find(&all, id).and_then(|s| s.get("name")?.as_str().map(quoted_label)).unwrap_or_else(|| format!("{id} (not a scope of this resource)")))
                    .collect();
                named.join(", ")
            };
            if !ids.is_empty() {
                names.push(format!("scopes {}", named(&ids)));
            }
            if !dropped.is_empty() {
                names.push(format!("scopes it gives now and will no longer {}", named(&dropped)));
            }
        }
        names
    }

    /// `name "Contractors"`: the label of the record `id`, read with the first of
    /// `readers` that finds it.
    async fn name_of(&self, client: &PingOneClient, id: &str, readers: Readers) -> Naming {
        match self.read_by(client, id, readers, |record| label(record).is_some()).await {
            Read::Found(record) => label(&record).map_or(Naming::Unread, Naming::Named),
            Read::NotFound => Naming::NotFound,
            Read::Unread => Naming::Unread,
        }
    }

    /// The record `id`, read with the first of `readers` that finds one `wanted` takes;
    /// `NotFound` when every reader answered 404.
    async fn read_by(&self, client: &PingOneClient, id: &str, readers: Readers, wanted: impl Fn(&Value) -> bool) -> Read {
        let mut not_found = 0;
        for &(reader, param) in readers {
            let Some(reader) = self.catalog.get(reader) else { continue };
            match client.call(reader, &json!({ param: id }), &CallOptions::default()).await {
                Ok(record) if wanted(&record) => return Read::Found(record),
                Ok(_) => {}
                Err(ClientError::Api { status: 404, .. }) => not_found += 1,
                Err(_) => {}
            }
        }
        if not_found > 0 && not_found == readers.len() {
            Read::NotFound
        } else {
            Read::Unread
        }
    }

    /// A dry run's answer to a write (or to a call naming a record the run would
    /// create): the request it would send, or what the real run would find before
    /// sending it ([`Dispatcher::dry_run_finding`]).
    async fn dry_run(&self, client: &PingOneClient, action: &Action, args: &Value, names_a_stand_in: bool, caller: Option<&Caller>) -> (HostReply, &'static str) {
        let mut request = match client.preview(action, args) {
            Ok(request) => request,
            Err(e) => return (HostReply::Error(action_error(&action.id, &e)), "error"),
        };
        let path = path_of(&request).unwrap_or_default();
        // The real run reads PingOne before the write only when it would send it (not
        // refused for a flag), and PingOne holds what the real run would find only
        // where no earlier write of this run (shown, not sent) has been.
        let sendable = self.policy.flags_needed(action, args).is_empty();
        let checkable = !names_a_stand_in && sendable && !self.touched_in_dry_run(&path);
        // Creates of this run do not hide PingOne's records of their kind: a username
        // taken in PingOne is taken whatever this run showed (review 54 M1: a rehearsal of
        // an import with duplicate usernames showed every row created).
        if sendable {
            if let Some(taken) = self.value_taken(client, action, args, &path).await {
                return (HostReply::Error(taken), "refused");
            }
        }
        if checkable {
            if let Some(finding) = self.dry_run_finding(client, action, args).await {
                return finding;
            }
        } else if names_a_stand_in && sendable {
            // A call on a record this dry run created still names PingOne's records in
            // its body, which must exist (review 57: a policy `nope` assigned to a new
            // application was shown as sent).
            if let Err(why) = self.body_records(client, action, args).await {
                return (HostReply::Error(foreseen_refusal(action, "INVALID_DATA", 400, why)), "refused");
            }
        }
        // A create's stand-in id, so the script's later steps (add the new group to a
        // role) are previewed too.
        let stand_in = is_create(action).then(|| self.new_stand_in(action));
        // Shown as sent: later checks of this run do not trust PingOne there, and what
        // it deletes is not there for later reads. A create touches only its new record:
        // the others of its kind are PingOne's still (review 43: a delete of a missing
        // group went unchecked after a group was created).
        if action.writes() {
            let mut rehearsal = self.rehearsal();
            // A delete of one field (a previous secret) leaves its record.
            if action.method == Method::Delete && action.removes_field.is_none() {
                rehearsal.deleted.push(path.clone());
            }
            if let Some((value, _)) = action.unique.as_ref().and_then(|unique| unique.lookup(args)) {
                rehearsal.unique_values.insert(unique_key(action, &value));
            }
            rehearsal.touched.push(match &stand_in {
                Some(id) => format!("{path}/{id}"),
                None => path,
            });
        }
        // What is listed under a record not yet created is nothing: `all: true` gets no
        // items, a page is empty, so `pingone.iterate` and loops over `items` run on.
        let lists = action.is_list() && !action.writes();
        if lists && args.get("all") == Some(&Value::Bool(true)) {
            return (HostReply::Value(json!([])), "dry_run");
        }
        if !self.reveals_secrets(caller, action) {
            request["body"] = hide_fields(&request["body"], action.secret_params(), Hide::Mask).into_owned();
        }
        let mut preview = json!({ "dryRun": true, "sent": false, "request": request });
        // What a full replace would clear, said before the real run rather than logged
        // after it (review 49: a policy's description was lost that way).
        // And what an update changes, as the question's `Change:` lines say it.
        let update = matches!(action.method, Method::Put | Method::Patch);
        if checkable && update {
            if let Some(before) = self.read_at(client, &action.path, args).await {
                preview["changes"] = json!(changes::body_changes(action, args, &before));
                let cleared = if action.replaces_whole_record() { changes::cleared_fields(action, args, &before) } else { vec![] };
                if !cleared.is_empty() {
                    preview["clears"] = json!(cleared);
                }
            }
        }
        if let Some(id) = stand_in {
            preview["id"] = json!(id);
            preview["note"] = json!("`id` stands in for the id PingOne would give the new record: later calls of this dry run may use it, and are shown, not sent");
        }
        if lists {
            preview["items"] = json!([]);
            preview["note"] = json!("an empty page: the record this list is under would be created by this dry run, so nothing is under it yet");
        }
        self.note_flags_needed(&mut preview, action, args);
        (HostReply::Value(preview), "dry_run")
    }

    /// A create that repeats a value no two records may share (a user's username, a
    /// group's name): held by a record PingOne has, as the list action's filter finds it
    /// (unless this run deleted one of the kind, which may have freed it), or given by a
    /// create this dry run showed earlier. `collection` is the path the create posts to.
    async fn value_taken(&self, client: &PingOneClient, action: &Action, args: &Value, collection: &str) -> Option<ActionError> {
        let unique = action.unique.as_ref()?;
        let (value, filter) = unique.lookup(args)?;
        let field = &unique.field;
        let why = if self.rehearsal().unique_values.contains(&unique_key(action, &value)) {
            format!("{field} `{value}` is given to a record this dry run created earlier (shown, not sent), and PingOne refuses a second one")
        } else {
            let list = self.catalog.get(&unique.list)?;
            if self.rehearsal().deleted.iter().any(|deleted| deleted.starts_with(&format!("{collection}/"))) {
                return None;
            }
            let found = client.call(list, &json!({ "filter": filter, "all": true }), &CallOptions::default()).await.ok()?;
            let holder = found.as_array()?.iter().find(|record| record.get(field).and_then(Value::as_str).is_some_and(|held| held.eq_ignore_ascii_case(&value)))?;
            let id = holder.get("id").and_then(Value::as_str).unwrap_or("?");
            format!("{field} `{value}` is held already (id {id}, read with {}), and PingOne refuses a second one", list.id)
        };
        let mut error = foreseen_refusal(action, "INVALID_DATA", 400, why);
        error.own_texts.iter_mut().for_each(|own| own.quoted.push(value.clone()));
        Some(error)
    }

    /// Whether a write this dry run showed (and did not send) was at `path`, or at a
    /// record above or below it (`/users/u1/memberOfGroups` and `…/memberOfGroups/g1`).
    fn touched_in_dry_run(&self, path: &str) -> bool {
        let nests = |outer: &str, inner: &str| inner.strip_prefix(outer).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        self.rehearsal().touched.iter().any(|touched| nests(touched, path) || nests(path, touched))
    }

    /// A call on a record this dry run showed deleted (or on one under it: a read, a
    /// second delete, an update, an add to it), answered as the real run would be: 404,
    /// not with PingOne's record, which the dry run left in place.
    fn deleted_in_dry_run(&self, client: &PingOneClient, action: &Action, args: &Value) -> Option<ActionError> {
        let path = path_of(&client.preview(action, args).ok()?)?;
        let under = |deleted: &str| path.strip_prefix(deleted).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        let deleted = self.rehearsal().deleted.iter().find(|deleted| under(deleted))?.clone();
        let text = format!("`{}` was not sent (dry run): this dry run deleted the record at {deleted} earlier (shown, not sent), and the real run would find nothing there (404)", action.id);
        let mut error = own_error(action, "NOT_FOUND", OwnText { text, quoted: vec![] });
        error.status = Some(404);
        Some(error)
    }

    fn rehearsal(&self) -> std::sync::MutexGuard<'_, Rehearsal> {
        self.rehearsal.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What the real run would find before it sends this write, for a dry run to show
    /// in its place: a delete of a record that is not there fails, and a grant the
    /// record holds already (an unlock of an account that is not locked, a membership
    /// the member has) is not sent. Reads only; `None` when the write would be sent.
    async fn dry_run_finding(&self, client: &PingOneClient, action: &Action, args: &Value) -> Option<(HostReply, &'static str)> {
        match self.record_to_remove(client, action, args).await {
            Err(missing) => return Some((HostReply::Error(missing), "refused")),
            Ok(Some(record)) if action.removes_field.is_some() && changes::removal(action, &record).is_none() => {
                let field = action.removes_field.as_deref().unwrap_or_default();
                let note = format!("not sent, and the real run would not send it either: the record holds no `{field}` to remove (this is the record as it stands)");
                return Some((HostReply::Value(held_in_dry_run(record, &note)), "dry_run"));
            }
            Ok(_) => {}
        }
        if let Some(refused) = self.refused_by_pingone(client, action, args).await {
            return Some((HostReply::Error(refused), "refused"));
        }
        if ConfirmReason::of(action, args) != Some(ConfirmReason::GrantsAccess) {
            return None;
        }
        let record = match action.grants_access_only_if {
            Some(_) => self.read_at(client, &action.path, args).await,
            None => None,
        };
        // The record as it stands, as the real run answers, marked as this run's.
        let held = self.grants_nothing(client, action, args, record.as_ref()).await?;
        let note = "not sent, and the real run would not send it either: what it grants holds already (this is the record as it stands)";
        Some((HostReply::Value(held_in_dry_run(held, note)), "dry_run"))
    }

    /// What PingOne would refuse this write for, foreseen by reads: a record its path
    /// names that is not there (the user an unlock acts on: 404), a record its body
    /// names that is not there (the group joined, the role granted: 400), a role granted
    /// at a scope type it cannot have, or a role the holder has at that scope already (400). Only a read's 404 counts as missing;
    /// a read that fails otherwise foresees nothing.
    async fn refused_by_pingone(&self, client: &PingOneClient, action: &Action, args: &Value) -> Option<ActionError> {
        let dry_run = |code: &str, status: u16, text: String| foreseen_refusal(action, code, status, text);
        for (param, path) in records_in_path(&action.path).filter(|(param, _)| *param != "environmentId") {
            // A delete's own record is record_to_remove's to read.
            if path == action.path && action.method == Method::Delete {
                continue;
            }
            let Some((reader, reader_args)) = self.reader_at(&path, args) else { continue };
            if let Err(ClientError::Api { status: 404, .. }) = client.call(reader, &reader_args, &CallOptions::default()).await {
                let id = args.get(param).map(|id| id.as_str().map_or_else(|| id.to_string(), str::to_owned)).unwrap_or_default();
                return Some(dry_run("NOT_FOUND", 404, format!("{param} {id} was not found ({} answered 404); check the id", reader.id)));
            }
        }
        // The role granted, as read here, to check the scope type it may have.
        let role = match self.body_records(client, action, args).await {
            Ok(role) => role,
            Err(why) => return Some(dry_run("INVALID_DATA", 400, why)),
        };
        if let Some(why) = role.and_then(|role| role_not_applicable(action, args, &role)) {
            return Some(dry_run("INVALID_DATA", 400, why));
        }
        let held = self.role_held_already(client, action, args).await?;
        let assignment = held.get("id").and_then(Value::as_str).unwrap_or("?");
        let holder = self.target(&action.id, args).unwrap_or_else(|| "the holder".to_owned());
        Some(dry_run("INVALID_DATA", 400, format!("{holder}: this role is held at this scope already (assignment {assignment}), and PingOne refuses a second one")))
    }

    /// Reads the records the body names (the group joined, the policy assigned): the
    /// refusal's text for one PingOne does not have (404), else the role it grants, as
    /// read. A stand-in of this dry run is not read: the real run creates it first.
    async fn body_records(&self, client: &PingOneClient, action: &Action, args: &Value) -> Result<Option<Value>, String> {
        let mut role = None;
        for (what, id, readers) in named_in_body(action, args) {
            if readers.is_empty() || self.rehearsal().stand_ins.contains(id) {
                continue;
            }
            match self.read_by(client, id, readers, |_| true).await {
                Read::NotFound => {
                    let read = readers.iter().map(|(reader, _)| *reader).collect::<Vec<_>>().join(" and ");
                    return Err(format!("{what} {id} was not found ({read} answered 404), and PingOne refuses a request that names it; check the id"));
                }
                Read::Found(record) if what == "role" => role = Some(record),
                _ => {}
            }
        }
        match self.scopes_of_another_resource(client, args).await {
            Some(why) => Err(why),
            None => Ok(role),
        }
    }

    /// The scopes a grant gives that its resource does not have (review 57: a scope of
    /// the PingOne API granted under `openid` was shown as sent), read with
    /// list_resource_scopes; none when they cannot be read (a resource this dry run created).
    async fn scopes_of_another_resource(&self, client: &PingOneClient, args: &Value) -> Option<String> {
        let resource = args.pointer("/resource/id")?.as_str()?;
        let granted: Vec<&str> = args.get("scopes")?.as_array()?.iter().filter_map(|scope| scope.get("id")?.as_str()).collect();
        let list = self.catalog.get("list_resource_scopes")?;
        let held = client.call(list, &json!({ "resourceId": resource, "all": true }), &CallOptions::default()).await.ok()?;
        let held: Vec<&str> = held.as_array()?.iter().filter_map(|scope| scope.get("id")?.as_str()).collect();
        let foreign: Vec<&str> = granted.into_iter().filter(|id| !held.contains(id)).collect();
        (!foreign.is_empty()).then(|| format!("scope {} is not a scope of resource {resource} (list_resource_scopes lists its scopes), and PingOne refuses a grant of it", foreign.join(", ")))
    }

    /// A sign-on policy assignment that holds the priority this call gives an
    /// application's assignment (a new one, or one moved): PingOne takes both and leaves
    /// their order unsaid, so which policy applies first would be chance. Refused before
    /// sending, with the lowest free priority and the action that moves the other.
    async fn priority_taken(&self, client: &PingOneClient, action: &Action, args: &Value) -> Option<ActionError> {
        const COLLECTION: &str = "/signOnPolicyAssignments";
        let priority = args.get("priority").filter(|p| p.is_number())?;
        let (collection, own_id) = match action.method {
            Method::Post if action.path.ends_with(COLLECTION) => (action.path.as_str(), None),
            Method::Put | Method::Patch => {
                let (collection, last) = action.path.rsplit_once('/')?;
                let param = last.strip_prefix('{')?.strip_suffix('}')?;
                (collection.ends_with(COLLECTION).then_some(collection)?, args.get(param).and_then(Value::as_str))
            }
            _ => return None,
        };
        let held = self.list_at(client, collection, args).await?;
        let others: Vec<&Value> = held.iter().filter(|a| a.get("id").and_then(Value::as_str) != own_id).collect();
        let holder = others.iter().find(|a| a.get("priority") == Some(priority))?;
        let taken: std::collections::HashSet<i64> = others.iter().filter_map(|a| a.get("priority")?.as_i64()).collect();
        let free = (1..).find(|p| !taken.contains(p)).unwrap_or(1);
        let policy = holder.pointer("/signOnPolicy/id").and_then(Value::as_str).unwrap_or("?");
        let assignment = holder.get("id").and_then(Value::as_str).unwrap_or("?");
        let mover = self.catalog.actions().find(|a| a.method == Method::Put && a.path.rsplit_once('/').is_some_and(|(c, _)| c == collection)).map_or_else(String::new, |a| format!(", or first move that assignment with `{}`", a.id));
        let text = format!(
            "`{}` was not sent: priority {priority} is held already by assignment {assignment} (sign-on policy {policy}); PingOne would take both and leave their order unsaid, so which policy applies first would be chance. Give a free priority (the lowest free is {free}){mover}",
            action.id
        );
        Some(own_error(action, "PRIORITY_TAKEN", OwnText { text, quoted: vec![] }))
    }

    /// The role assignment a new one (a POST to a `roleAssignments` collection) would
    /// repeat: the same role at the same scope, read with the list action of that
    /// collection.
    async fn role_held_already(&self, client: &PingOneClient, action: &Action, args: &Value) -> Option<Value> {
        if action.method != Method::Post || !action.path.ends_with("/roleAssignments") {
            return None;
        }
        let (role, scope) = (args.pointer("/role/id")?, args.pointer("/scope/id")?);
        self.list_at(client, &action.path, args).await?.into_iter().find(|a| a.pointer("/role/id") == Some(role) && a.pointer("/scope/id") == Some(scope))
    }

    /// A dry run's answer names the flags the real run would be refused without, so a
    /// rehearsal does not hide that the real run would stop half-way.
    fn note_flags_needed(&self, answer: &mut Value, action: &Action, args: &Value) {
        let needed = self.policy.flags_needed(action, args);
        if !needed.is_empty() {
            answer["refusedWithout"] = json!(needed.join(" and "));
        }
    }

    /// The record that shows a call of an access-granting action would grant nothing:
    /// the record it acts on (`record`, already read) does not hold what its
    /// `grants_access_only_if` names (an account that is not locked, for an unlock), or
    /// the group membership it would add exists already, directly.
    async fn grants_nothing(&self, client: &PingOneClient, action: &Action, args: &Value, record: Option<&Value>) -> Option<Value> {
        if let Some(condition) = &action.grants_access_only_if {
            return record.filter(|record| !condition.may_hold(record)).cloned();
        }
        self.direct_membership(client, action, args).await
    }

    /// The direct membership a call that adds a user or group to a group (a POST to a
    /// `memberOfGroups` collection, the group's id in the body) would add, when its
    /// member has it already: read with the get action for that one membership. A
    /// membership through a dynamic group's filter is not direct: a direct one would
    /// outlast the filter, so that call is still a grant.
    async fn direct_membership(&self, client: &PingOneClient, action: &Action, args: &Value) -> Option<Value> {
        if action.method != Method::Post || !action.path.ends_with("/memberOfGroups") {
            return None;
        }
        let group = args.get("id").and_then(Value::as_str)?;
        let one = format!("{}/{{", action.path);
        let reader = self.catalog.actions().find(|a| a.method == Method::Get && a.path.starts_with(&one) && !a.path[one.len()..].contains('/'))?;
        let group_param = reader.path[one.len()..].strip_suffix('}')?;
        let mut with_group = args.clone();
        with_group[group_param] = json!(group);
        let membership = self.read_at(client, &reader.path, &with_group).await?;
        (membership.get("type").and_then(Value::as_str) == Some("DIRECT")).then_some(membership)
    }

    /// The arguments with the credential masks the model sends back (a record read and
    /// sent back whole) replaced by the real values of the record the call changes, and
    /// that record when it was read (for the confirmation to compare with); an error
    /// names a mask that cannot be put back, which would otherwise be stored over the
    /// secret. `(None, None)`: nothing to put back.
    async fn restored_credentials(&self, client: &PingOneClient, action: &Action, args: &Value, revealed: bool) -> Result<(Option<Value>, Option<Value>), ActionError> {
        let sent = crate::secret::masks_sent_back(args);
        if revealed || sent.is_empty() {
            return Ok((None, None));
        }
        let mut restored = args.clone();
        let record = if matches!(action.method, Method::Put | Method::Patch) { self.read_at(client, &action.path, args).await } else { None };
        if let Some(record) = &record {
            if action.method == Method::Patch {
                crate::secret::leave_out_current_masks(&mut restored, record);
            }
            crate::secret::restore_masks(&mut restored, record);
        }
        let paths = |masks: Vec<crate::secret::SentMask>| masks.into_iter().map(|m| format!("`{}`", m.path)).collect::<Vec<_>>().join(", ");
        let refused = |text: String, quoted: String| refused_argument(action, text, quoted);
        let left = paths(crate::secret::masks_sent_back(&restored));
        if !left.is_empty() {
            return Err(refused(
                format!("{left}: the mask shown in place of a credential (`****…`), not the credential, and not the mask of the current one of the record this call changes (only that is put back); pass the real value"),
                left,
            ));
        }
        let record = record.unwrap_or_default();
        let put_back: Vec<_> = sent.into_iter().filter(|mask| restored.pointer(&mask.pointer).is_some()).collect();
        if put_back.is_empty() {
            return Ok((Some(restored), Some(record)));
        }
        // The secret put back goes only to the configuration it was read with: a call that
        // also points the record elsewhere (an identity provider's token endpoint) would
        // hand the real secret to whoever it now points at.
        let path_params: Vec<&str> = action.params_in(ParamLocation::Path).map(|p| p.name.as_str()).collect();
        let unchanged = |key: &str| path_params.contains(&key) || SECRET_NEUTRAL_FIELDS.iter().any(|k| k.eq_ignore_ascii_case(key));
        let mut changed: Vec<String> =
            restored.as_object().into_iter().flatten().filter(|(key, value)| !unchanged(key) && changes::differs(record.get(key.as_str()), Some(value))).map(|(key, _)| format!("`{key}`")).collect();
        // A full replace clears what it leaves out (a provider's tenant).
        let dropped = changes::dropped_fields(action, &restored, &record).into_iter().filter(|(name, _)| !unchanged(name));
        changed.extend(dropped.map(|(name, _)| format!("`{name}` (left out)")));
        if !changed.is_empty() {
            let changed = changed.join(", ");
            return Err(refused(
                format!("{} sent as the mask of the current secret beside changes to {changed}: the current secret is put back only on a call that changes nothing else but {}, so it never goes to a changed configuration; to make these changes, pass the real secret", paths(put_back), SECRET_NEUTRAL_FIELDS.join(", ")),
                changed,
            ));
        }
        Ok((Some(restored), Some(record)))
    }

    /// The arguments with the defender's placeholders put back as the texts the record
    /// this call changes holds ([`withheld`]), and that record when it was read here; an
    /// error names a placeholder that cannot be put back. `(None, None)`: none sent.
    async fn restored_withheld_texts(&self, client: &PingOneClient, action: &Action, args: &Value, record: Option<&Value>) -> Result<(Option<Value>, Option<Value>), ActionError> {
        let sent = withheld::placeholders_sent(args);
        if sent.is_empty() {
            return Ok((None, None));
        }
        let read = match record {
            None if matches!(action.method, Method::Put | Method::Patch) => self.read_at(client, &action.path, args).await,
            _ => None,
        };
        let mut restored = args.clone();
        let left = withheld::put_back(&mut restored, sent, record.or(read.as_ref()));
        if !left.is_empty() {
            let quoted = left.iter().map(|f| f.path.as_str()).collect::<Vec<_>>().join(", ");
            return Err(refused_argument(action, withheld::refusal(&left), quoted));
        }
        Ok((Some(restored), read))
    }

    /// For a delete, the record it removes, read to name it in the question; or the
    /// error to answer with when there is none (its get answers 404): the call is not
    /// sent and nobody is asked. Another failure, or no get for it, reads nothing and
    /// leaves the call to go ahead.
    async fn record_to_remove(&self, client: &PingOneClient, action: &Action, args: &Value) -> Result<Option<Value>, ActionError> {
        let Some((reader, reader_args)) = self.reader_at(&action.path, args).filter(|_| action.method == Method::Delete) else {
            return Ok(None);
        };
        let missing = match client.call(reader, &reader_args, &CallOptions::default()).await {
            Ok(record) => return Ok(Some(record)),
            Err(e) if e.status() == Some(404) => e,
            Err(_) => return Ok(None),
        };
        let target = self.target(&action.id, args).unwrap_or_else(|| "its record".to_owned());
        // A membership that is gone (one through another group ends with it) is no wrong id.
        let fix = if action.path.ends_with("/memberOfGroups/{groupId}") {
            "the user is not a member of that group (any more), so there is nothing to remove; a membership through another group (INDIRECT) ends when that one does, and list_user_groups shows the current ones"
        } else {
            "check the id"
        };
        let text = format!("`{}` was not sent and nobody was asked: {target} was not found ({} answered 404); {fix}", action.id, reader.id);
        let mut error = own_error(action, "NOT_FOUND", OwnText { text, quoted: vec![] });
        error.status = Some(404);
        error.details = action_error(&reader.id, &missing).details;
        Err(error)
    }

    /// The record `path` names, read with the get action for that path, its ids
    /// taken from `args`. Best effort: none when there is no such action or it fails.
    async fn read_at(&self, client: &PingOneClient, path: &str, args: &Value) -> Option<Value> {
        let (reader, reader_args) = self.reader_at(path, args)?;
        client.call(reader, &reader_args, &CallOptions::default()).await.ok()
    }

    /// Every record of the collection at `path`, read with its list action (the path's
    /// arguments taken from `args`). Best effort: a read that fails gives `None`.
    async fn list_at(&self, client: &PingOneClient, path: &str, args: &Value) -> Option<Vec<Value>> {
        let list = self.catalog.actions().find(|a| a.method == Method::Get && a.path == path && a.is_list())?;
        let mut list_args = path_args(list, args);
        list_args.insert("all".into(), json!(true));
        match client.call(list, &Value::Object(list_args), &CallOptions::default()).await.ok()? {
            Value::Array(records) => Some(records),
            _ => None,
        }
    }

    /// The get action for the record at `path`, and its arguments taken from `args`.
    fn reader_at(&self, path: &str, args: &Value) -> Option<(&Action, Value)> {
        let reader = self.catalog.actions().find(|a| a.method == Method::Get && a.path == path && !a.is_list())?;
        Some((reader, Value::Object(path_args(reader, args))))
    }

    fn unknown_action(&self, id: &str) -> ActionError {
        let similar = meant(&self.catalog, &self.search, id, SUGGESTIONS);
        let hint = if similar.is_empty() {
            "use pingone.search('what you need') to find one".to_owned()
        } else {
            format!("did you mean {}?", similar.join(", "))
        };
        let own = OwnText { text: format!("there is no action `{id}`: {hint}"), quoted: vec![id.to_owned()] };
        ActionError { action: id.to_owned(), code: "UNKNOWN_ACTION".into(), message: own.text.clone(), own_texts: vec![own], ..Default::default() }
    }

    /// The hits for a script's `pingone.search`, each this caller would only be refused
    /// saying so, as `search_tools` does (review 45).
    fn search(&self, args: &Value, grant: Option<&Grant>) -> HostReply {
        let query = args.get("query").and_then(Value::as_str).unwrap_or_default();
        let limit = args.get("limit").and_then(Value::as_u64).unwrap_or(8).clamp(1, 50) as usize;
        let mut hits = hits_json(&self.catalog, &self.search, query, limit, SignatureStyle::Full);
        for hit in &mut hits {
            if let Some(why) = hit["id"].as_str().and_then(|id| self.catalog.get(id)).and_then(|a| self.policy.refused_briefly(a, grant)) {
                hit["refused"] = json!(why);
            }
        }
        HostReply::Value(Value::Array(hits))
    }

    fn describe(&self, args: &Value) -> HostReply {
        let id = args.get("id").and_then(Value::as_str).unwrap_or_default();
        match self.catalog.get(id) {
            Some(a) => {
                let mut described = json!({
                    "id": a.id, "title": a.title, "group": a.group, "description": a.description.trim(),
                    "signature": action_signature(a), "method": a.method.as_str(), "path": a.path,
                    "read_only": a.read_only, "destructive": a.may_be_destructive(), "grants_access": a.grants_access,
                    "idempotent": a.idempotent, "example": a.example,
                });
                // The catch a search hit shows is shown here too.
                if let Some(note) = &a.note {
                    described["note"] = json!(note);
                }
                HostReply::Value(described)
            }
            None => HostReply::Error(self.unknown_action(id)),
        }
    }
}

/// Whether the phone or e-mail a new MFA device sends codes to is one on the user's
/// record: a number that is not is what a hijack pairs (review 43).
fn device_contact_on_record(args: &Value, user: &Value) -> Option<String> {
    // A phone number is compared by its digits (`+1 (555) 010-0003`), an address whole.
    fn phone_digits(text: &str) -> String {
        text.chars().filter(char::is_ascii_digit).collect()
    }
    fn address(text: &str) -> String {
        text.trim().to_lowercase()
    }
    let (given, fields, same): (&str, &[&str], fn(&str) -> String) = match (args.get("phone").and_then(Value::as_str), args.get("email").and_then(Value::as_str)) {
        (Some(phone), _) => (phone, &["mobilePhone", "primaryPhone"], phone_digits),
        (None, Some(email)) => (email, &["email"], address),
        (None, None) => return None,
    };
    let on_record: Vec<(&str, &str)> = fields.iter().filter_map(|&field| Some((field, user.get(field)?.as_str()?))).collect();
    Some(match on_record.iter().find(|(_, value)| same(value) == same(given)) {
        Some((field, _)) => format!("\"{given}\" is the user's {field} on record"),
        None if on_record.is_empty() => format!("\"{given}\" is NOT on the user's record, which has no {}: codes would go to a new address", fields.join(" or ")),
        None => {
            let held: Vec<String> = on_record.iter().map(|(field, value)| format!("{field} \"{value}\"")).collect();
            format!("\"{given}\" is NOT on the user's record ({}): codes would go to a new address", held.join(", "))
        }
    })
}

/// Get actions that may read an id, each with its id parameter.
type Readers = &'static [(&'static str, &'static str)];

/// A role is a system or a custom one.
const ROLE_READERS: Readers = &[("get_system_role", "roleId"), ("get_custom_role", "customRoleId")];
const GROUP_READERS: Readers = &[("get_group", "groupId")];

/// Groups a question reads up the nesting of the group a member joins: deeper nesting
/// than this is said to be unread, not taken for none.
const NESTING_READ: usize = 50;

/// Each record a path names, outermost first: the `{param}` and the path up to it
/// (`/users/{userId}/memberOfGroups` names `userId` at `/users/{userId}`).
fn records_in_path(path: &str) -> impl Iterator<Item = (&str, String)> {
    let segments: Vec<&str> = path.split('/').collect();
    (0..segments.len()).filter_map(move |at| {
        let param = segments[at].strip_prefix('{')?.strip_suffix('}')?;
        Some((param, segments[..=at].join("/")))
    })
}

/// The arguments of `action`'s path parameters, taken from `args`.
fn path_args(action: &Action, args: &Value) -> serde_json::Map<String, Value> {
    action.params_in(ParamLocation::Path).filter_map(|p| Some((p.name.clone(), args.get(&p.name)?.clone()))).collect()
}

/// The URL path of a previewed request (`PingOneClient::preview`).
fn path_of(request: &Value) -> Option<String> {
    Some(url::Url::parse(request["url"].as_str()?).ok()?.path().to_owned())
}

/// The ids a confirmed call names in its body, each with what it is and the get
/// actions that may read it: a role is a system or a custom one.
fn named_in_body<'a>(action: &Action, args: &'a Value) -> Vec<(&'static str, &'a str, Readers)> {
    let id_at = |pointer: &str| args.pointer(pointer).and_then(Value::as_str);
    let mut named = Vec::new();
    if let Some(role) = id_at("/role/id") {
        named.push(("role", role, ROLE_READERS));
    }
    match (id_at("/scope/type"), id_at("/scope/id")) {
        (Some("POPULATION"), Some(id)) => named.push(("scope population", id, &[("get_population", "populationId")][..])),
        (Some("APPLICATION"), Some(id)) => named.push(("scope application", id, &[("get_application", "applicationId")][..])),
        // No action reads these by id: named by id only.
        (Some("ENVIRONMENT"), Some(id)) => named.push(("scope environment", id, &[][..])),
        (Some("ORGANIZATION"), Some(id)) => named.push(("scope organization", id, &[][..])),
        _ => {}
    }
    // A POST to a memberOfGroups collection (a user's or a group's) names the group joined.
    if action.method == Method::Post && action.path.ends_with("/memberOfGroups") {
        if let Some(group) = id_at("/id") {
            named.push(("group", group, GROUP_READERS));
        }
    }
    // A PUT to a user's population names the population moved to.
    if action.method == Method::Put && action.path.ends_with("/population") {
        if let Some(population) = id_at("/id") {
            named.push(("population", population, &[("get_population", "populationId")][..]));
        }
    }
    // A PUT to a population's default identity provider names the provider.
    if action.method == Method::Put && action.path.ends_with("/defaultIdentityProvider") {
        if let Some(provider) = id_at("/id") {
            named.push(("identity provider", provider, &[("get_identity_provider", "providerId")][..]));
        }
    }
    if let Some(policy) = id_at("/signOnPolicy/id") {
        named.push(("sign-on policy", policy, &[("get_sign_on_policy", "policyId")][..]));
    }
    if let Some(policy) = id_at("/passwordPolicy/id") {
        named.push(("password policy", policy, &[("get_password_policy", "passwordPolicyId")][..]));
    }
    // An MFA policy's FIDO2 policy (review 50: the question showed a bare id).
    if let Some(policy) = id_at("/fido2/fido2PolicyId") {
        named.push(("FIDO2 policy", policy, &[("get_fido2_policy", "fido2PolicyId")][..]));
    }
    named
}

/// How a dry run remembers a unique value one of its creates gave (`create_user:ana.silva`).
fn unique_key(action: &Action, value: &str) -> String {
    format!("{}:{}", action.id, value.to_lowercase())
}

/// A dry run's answer for a write the real run would send and PingOne refuse.
fn foreseen_refusal(action: &Action, code: &str, status: u16, text: String) -> ActionError {
    let mut error = own_error(action, code, OwnText { text: format!("`{}` was not sent (dry run), and the real run would fail: {text}", action.id), quoted: vec![] });
    error.status = Some(status);
    error
}

/// `username "jdoe"`: the first label a record has, for the person confirming. A
/// record of a kind (`type`: a device, a sign-on policy's step, a provider) is told
/// by its kind too, and one without a name by its kind and what tells it from its
/// siblings: `type "MULTI_FACTOR_AUTHENTICATION", priority 2`, `type "SMS", phone "+1…"`.
fn label(record: &Value) -> Option<String> {
    let text = |key: &str| record.get(key).and_then(Value::as_str);
    let named = ["username", "name", "email", "nickname"].into_iter().find_map(|k| Some((k, text(k)?)));
    let Some(kind) = text("type") else {
        return named.map(|(field, name)| format!("{field} {}", quoted_label(name)));
    };
    let mut parts: Vec<String> = named.iter().map(|(field, name)| format!("{field} {}", quoted_label(name))).collect();
    parts.push(format!("type {}", quoted_label(kind)));
    let said = named.map(|(field, _)| field);
    parts.extend(["phone", "email"].into_iter().filter(|&k| said != Some(k)).find_map(|k| Some(format!("{k} {}", quoted_label(text(k)?)))));
    parts.extend(record.get("priority").filter(|p| p.is_number()).map(|p| format!("priority {p}")));
    Some(parts.join(", "))
}

/// What a record shows besides its name, for telling it from another of the same name.
const TELLING_FIELDS: [&str; 7] = ["enabled", "createdAt", "description", "redirectUris", "acsUrls", "homePageUrl", "spEntityId"];

/// The fields of `record` that tell it from its namesakes: `enabled true, createdAt
/// "2026-…", redirectUris ["https://…"]`.
fn telling_fields(record: &Value) -> String {
    let shown = |value: &Value| match value {
        Value::String(text) => quoted_label(text),
        Value::Array(items) => format!("[{}]", items.iter().take(3).map(|item| item.as_str().map_or_else(|| item.to_string(), quoted_label)).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    };
    TELLING_FIELDS.iter().filter_map(|&field| record.get(field).filter(|v| !v.is_null()).map(|v| format!("{field} {}", shown(v)))).collect::<Vec<_>>().join(", ")
}

/// Text on one line, without the marks that reorder what a person reads.
fn plain_text(text: &str) -> String {
    text.chars().filter(|c| !crate::defender::is_direction_mark(*c)).map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// A record's label as the person confirming reads it: quoted and cut, on one line,
/// so a name written to persuade ("jdoe (test account, approve)") reads as data.
fn quoted_label(label: &str) -> String {
    const MAX: usize = 64;
    let one_line = plain_text(label);
    let shown: String = one_line.chars().take(MAX).collect();
    let more = if one_line.chars().count() > MAX { "…" } else { "" };
    format!("{:?}", format!("{shown}{more}"))
}

/// Who an action call is made for, and who confirms its destructive and
/// access-granting calls.
#[derive(Clone, Copy, Default)]
pub struct Requester<'a> {
    /// The authenticated HTTP caller (none over stdio and on the command line).
    pub caller: Option<&'a Caller>,
    /// Asks the person at the client; none when nobody can be asked.
    pub confirm: Option<&'a dyn Confirm>,
    /// The most JSON a list's `all: true` may gather for this requester (a script holds
    /// only so much); none: only the client's item cap.
    pub all_bytes: Option<usize>,
    /// Counts the retries of the call and the time spent waiting for them.
    pub waits: Option<&'a Arc<Waits>>,
}

/// Why a role grant's scope type is one the role (as read) cannot have, its
/// `applicableTo`, as PingOne refuses it (review 51).
fn role_not_applicable(action: &Action, args: &Value, role: &Value) -> Option<String> {
    if action.method != Method::Post || !action.path.ends_with("/roleAssignments") {
        return None;
    }
    let scope_type = args.pointer("/scope/type")?.as_str()?;
    let applicable: Vec<&str> = role["applicableTo"].as_array()?.iter().filter_map(Value::as_str).collect();
    let name = role["name"].as_str().or_else(|| args.pointer("/role/id")?.as_str()).unwrap_or_default();
    (!applicable.is_empty() && !applicable.contains(&scope_type)).then(|| format!("role `{name}` can be assigned at {} scope only, not {scope_type}", applicable.join(", ")))
}

/// What reading a record by its id with several readers found.
enum Read {
    Found(Value),
    /// Every reader answered 404.
    NotFound,
    /// Not read (an error, or no record the caller wanted).
    Unread,
}

/// What reading a referenced record by its id found, for the person's question.
enum Naming {
    Named(String),
    /// Every reader answered 404: the id names nothing (a mistyped or stale id).
    NotFound,
    /// Not read (an error, or a record without a name).
    Unread,
}

/// Whether a call that needed a person's yes had one, for its audit line.
#[derive(Clone, Copy)]
enum Confirmed {
    By(Yes),
    /// Nobody was asked: --no-confirm, or `run` and `call`, where the operator's own
    /// flags allowed it.
    NobodyAsked,
}

fn set(confirmed: &Mutex<Option<Confirmed>>, how: Confirmed) {
    *confirmed.lock().unwrap_or_else(|e| e.into_inner()) = Some(how);
}

/// A call a person did not confirm (or could not be asked about), with what made it a
/// question when that was a change the call makes (a full replace leaving out a
/// population's password policy): the agent may send the call without it.
fn not_confirmed(action: &Action, reason: String, changes: &[String]) -> ActionError {
    let asked_about = if changes.is_empty() { String::new() } else { format!(". It needs a person because it changes access: {}", changes.join("; ")) };
    // The reason can be the client's, and the changes hold the record's values: quoted.
    let text = format!("`{}` was not run: {reason}{asked_about}. Nothing of it was sent to PingOne; calls made before it stand", action.id);
    let own = OwnText { text, quoted: std::iter::once(reason).chain(changes.iter().cloned()).collect() };
    ActionError { action: action.id.clone(), code: "NOT_CONFIRMED".into(), message: own.text.clone(), own_texts: vec![own], ..Default::default() }
}

impl ActionHost for Dispatcher {
    fn call(self: Arc<Self>, call: HostCall) -> BoxFuture<'static, HostReply> {
        Box::pin(async move { self.dispatch(call).await })
    }

    /// Writes may; reads, search and an unknown id (never sent) do not.
    fn may_change_state(&self, action: &str) -> bool {
        self.writes(action)
    }

    /// A replay's clock is its cassette's; a recording's readings are kept in its cassette.
    fn readings(&self) -> Option<Arc<Readings>> {
        match &self.backend {
            Backend::Replay(replay) => replay.readings(),
            _ => self.recorder.as_ref().map(|recorder| recorder.readings()),
        }
    }
}

/// A client failure as the script's `PingOneError`: PingOne's own code, message and
/// details when it answered; ours otherwise.
pub fn action_error(action: &str, e: &ClientError) -> ActionError {
    match e {
        ClientError::Api { status, body, gave_up, transaction_id, .. } => {
            let mut error = ActionError {
                action: action.to_owned(),
                status: Some(*status),
                code: body.code.clone(),
                message: format!("{}{}", body.message, gave_up_text(gave_up)),
                details: body.details.iter().filter_map(|d| serde_json::to_value(d).ok()).collect(),
                transaction_id: Some(transaction_id.clone()),
                own_texts: vec![],
            };
            error.own_texts = pingone_error_texts(&error, &body.message, &[]);
            error
        }
        other => {
            let mut json = other.to_json();
            let message = other.to_string();
            // Our guidance is not judged, only what it quotes from outside: on an unknown
            // outcome the reason (PingOne's answer is in the details), after retries the
            // last failure. Sign-in and connection failures quote no record's data.
            let quoted = match other {
                ClientError::OutcomeUnknown { reason, .. } => Some(vec![reason.clone()]),
                ClientError::RetriesExhausted { last, .. } => Some(vec![last.clone()]),
                ClientError::Auth { .. } | ClientError::AuthUnavailable { .. } | ClientError::Transport { .. } | ClientError::Unusable { .. } | ClientError::ListTooLarge { .. } | ClientError::AnswerUnreadable { .. } => Some(vec![]),
                ClientError::Args(_) | ClientError::Api { .. } => None,
            };
            let own_texts = quoted.map(|quoted| vec![OwnText { text: message.clone(), quoted }]).unwrap_or_default();
            ActionError {
                action: action.to_owned(),
                status: other.status(),
                code: json["code"].as_str().unwrap_or("CLIENT_ERROR").to_owned(),
                message,
                details: json["details"].as_array_mut().map(std::mem::take).unwrap_or_default(),
                transaction_id: json["transactionId"].as_str().map(str::to_owned),
                own_texts,
            }
        }
    }
}

/// The error of a call not sent because the environment's type could not be read
/// first (a 429 or a 5xx there): said to be the check's, with the check's code and
/// status and no transaction id, since the call itself was not sent (review 59 M2: it
/// read as the write's own 429).
fn not_sent_for_the_check(action: &Action, e: &ClientError) -> ActionError {
    let mut error = action_error(&action.id, e);
    let old = std::mem::take(&mut error.message);
    error.message = format!("`{}` was not sent: reading the environment's type first, to check it is not PRODUCTION, failed: {old}", action.id);
    for own in &mut error.own_texts {
        own.text = own.text.replacen(&old, &error.message, 1);
    }
    error.transaction_id = None;
    error
}

/// The texts a script sees of a PingOne error, `String(error)` and the message, as
/// ours with PingOne's parts quoted: its message, each detail's target and message,
/// and `values` of ours. Each part is judged on its own, as the script would see them
/// apart (joined, or with its target before it, a worker's "use another worker
/// application to read this secret" read as an order: 0.98).
fn pingone_error_texts(error: &ActionError, pingone_message: &str, values: &[String]) -> Vec<OwnText> {
    let details = error.added_details().flat_map(|(target, message)| target.into_iter().chain([message])).map(str::to_owned);
    let quoted: Vec<String> = std::iter::once(pingone_message.to_owned()).chain(details).chain(values.iter().cloned()).collect();
    vec![OwnText { text: error.script_text(), quoted: quoted.clone() }, OwnText { text: error.message.clone(), quoted }]
}

/// A 404 for a path id that is no id (a username given as `userId`): PingOne says only
/// that nothing has that id, so the message adds where the record's id comes from.
fn with_id_hint(action: &Action, args: &Value, mut error: ActionError) -> ActionError {
    if error.status != Some(404) {
        return error;
    }
    let given = action.params_in(ParamLocation::Path).filter(|p| p.name.ends_with("Id")).find_map(|p| {
        let value = args.get(&p.name)?.as_str()?;
        uuid::Uuid::parse_str(value).is_err().then_some((p.name.as_str(), value))
    });
    let Some((name, value)) = given else { return error };
    let finder = match name {
        "userId" if value.contains('@') => format!("list_users with filter email eq \"{value}\""),
        "userId" => format!("list_users with filter username eq \"{value}\" (or email eq)"),
        "groupId" | "parentGroupId" => format!("list_groups with filter name eq \"{value}\""),
        "populationId" => format!("list_populations with filter name sw \"{value}\""),
        _ => "the list action of that kind, matching the name in the script".to_owned(),
    };
    let pingone_message = std::mem::take(&mut error.message);
    error.message = format!("{pingone_message}. `{name}` takes the record's id (a UUID), and `{value}` is not one: find the id with {finder}");
    error.own_texts = pingone_error_texts(&error, &pingone_message, &[value.to_owned()]);
    error
}

/// The code of a change refused because the audit log could not be written.
pub const AUDIT_LOG_FAILED: &str = "AUDIT_LOG_FAILED";

/// How a dry run's stand-in ids begin: never a PingOne id (a UUID).
pub const DRY_RUN_ID_PREFIX: &str = "dry-run-";

/// Whether a string in `args` is one of `ids`, or names one (a filter).
fn holds_any(args: &Value, ids: &std::collections::HashSet<String>) -> bool {
    match args {
        Value::String(s) => ids.contains(s) || (s.contains(DRY_RUN_ID_PREFIX) && ids.iter().any(|id| s.contains(id.as_str()))),
        Value::Array(items) => items.iter().any(|item| holds_any(item, ids)),
        Value::Object(map) => map.values().any(|value| holds_any(value, ids)),
        _ => false,
    }
}

/// Why a later step of a dry-run script often lacks an argument.
const DRY_RUN_NOTE: &str = "if the missing value comes from an earlier write's result (such as a new user's `id`): this is a dry run, where writes send nothing and return the request they would have sent, not a record (a create's reply has a stand-in `id` that later calls may use); preview one step at a time, or use an existing record's id";

/// What an action call's audit line says besides how it ended.
struct AuditedCall<'a> {
    subject: Option<&'a str>,
    token_id: Option<&'a str>,
    action: &'a Action,
    args: &'a Value,
    transaction_id: &'a str,
    started: Instant,
    /// The id PingOne gave the record a create made.
    created_id: Option<String>,
}

/// The audit line of a call given up before its answer came (the run was interrupted,
/// its process ended): written when the call's future is dropped unanswered, so a write
/// that may have been applied is on record with its transaction id (`no_answer`), and
/// one given up before it was sent, while a person was asked, is on record as not sent
/// (`not_sent`). Forgotten once the answer is in, which has its own line.
struct Unanswered<'a> {
    dispatcher: &'a Dispatcher,
    call: &'a AuditedCall<'a>,
    waits: &'a Waits,
    /// Set once a person said yes (or nobody was asked), before the call is sent.
    confirmed: &'a Mutex<Option<Confirmed>>,
}

impl Drop for Unanswered<'_> {
    fn drop(&mut self) {
        // Stopped between tries that were all refused unprocessed (429): not applied.
        let outcome = if self.waits.sent() && !self.waits.waiting_unapplied() { "no_answer" } else { "not_sent" };
        let confirmed = *self.confirmed.lock().unwrap_or_else(|e| e.into_inner());
        self.dispatcher.audit(self.call, outcome, None, None, confirmed, self.waits);
        // In the cassette too, so a replay stops where the recorded run did, with a
        // write that may have been applied still one to check (review 58 L4).
        let action = self.call.action;
        let reply = if outcome == "no_answer" && !action.read_only {
            let text = format!("the recorded run stopped before PingOne answered this call (transaction {}): it may have been applied; read the record to check", self.call.transaction_id);
            own_error(action, "OUTCOME_UNKNOWN", OwnText { text, quoted: vec![] })
        } else {
            let text = "the recorded run stopped before this call was answered; it changed nothing".to_owned();
            own_error(action, INTERRUPTED, OwnText { text, quoted: vec![] })
        };
        self.dispatcher.record(action, self.call.args, &HostReply::Error(reply));
    }
}

/// A call refused for one problem with its arguments, quoting the caller's text.
fn refused_argument(action: &Action, text: String, quoted: String) -> ActionError {
    invalid_arguments(action, &ArgsError { action: action.id.clone(), problems: vec![crate::catalog::Problem::quoting(text, quoted)] })
}

/// Arguments the action refuses, as the script's `PingOneError`: what was wrong, and
/// the signature to fix the call by.
pub fn invalid_arguments(action: &Action, e: &ArgsError) -> ActionError {
    // A long signature (a policy's, 4 KB) repeated in every refusal would bury what is
    // wrong, which the problems already say (review 49): it is pointed to instead.
    let signature = action_signature(action);
    let message = if signature.len() <= SIGNATURE_SHOWN_UP_TO {
        format!("{e}. Signature: {signature}")
    } else {
        format!("{e}. Its full signature: pingone.describe('{}') in a script, or the tool's input schema", action.id)
    };
    let quoted: Vec<String> = e.problems.iter().filter_map(|p| p.quoted.clone()).collect();
    let mut own_texts = vec![OwnText { text: message.clone(), quoted }];
    own_texts.extend(e.problems.iter().map(|p| OwnText { text: p.text.clone(), quoted: p.quoted.iter().cloned().collect() }));
    ActionError {
        action: action.id.clone(),
        status: None,
        code: "INVALID_ARGUMENTS".into(),
        message,
        details: e.problems.iter().map(|p| json!({ "code": "INVALID_VALUE", "message": p.text })).collect(),
        transaction_id: None,
        own_texts,
    }
}

/// The longest signature an argument error repeats.
const SIGNATURE_SHOWN_UP_TO: usize = 1_000;

/// The arguments that name a new record, in the order looked for.
const CREATE_NAMING_ARGS: [&str; 2] = ["username", "name"];

/// Whether `action` makes a new record, whose id PingOne gives it: a `create_…` action, or a
/// POST to a collection whose answer has an id (a paired MFA device, an imported
/// certificate), not to a membership (`memberOfGroups`, whose answer's id is the group's).
fn is_create(action: &Action) -> bool {
    let last = action.path.rsplit('/').next().unwrap_or_default();
    action.id.starts_with("create_")
        || (action.method == Method::Post && !last.starts_with('{') && !last.starts_with("memberOf") && action.result.contains_key("id"))
}

/// A value as it may be echoed in an account of writes, which is not scanned: only an
/// id-like text (no spaces, at most 64 characters), since a longer or spaced one may
/// be a record's text.
fn id_like(value: &Value) -> Option<String> {
    let id = match value {
        Value::String(text) => text.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (id.chars().count() <= 64 && !id.chars().any(|c| c.is_whitespace() || c.is_control())).then_some(id)
}

/// A record's name with spaces, quoted, as an account of writes names a create by it:
/// at most 64 characters, on one line.
fn quoted_name(value: &Value) -> Option<String> {
    let name = value.as_str()?.trim();
    (!name.is_empty() && name.chars().count() <= 64 && !name.chars().any(char::is_control)).then(|| format!("{name:?}"))
}

/// A record as it stands, answered by a dry run for a write the real run would not
/// send either, marked as this run's.
fn held_in_dry_run(mut record: Value, note: &str) -> Value {
    if let Some(fields) = record.as_object_mut() {
        fields.extend([("dryRun".to_owned(), json!(true)), ("sent".to_owned(), json!(false)), ("unchanged".to_owned(), json!(true)), ("note".to_owned(), json!(note))]);
    }
    record
}

fn refusal(action: &Action, reason: OwnText) -> ActionError {
    own_error(action, "POLICY_DENIED", reason)
}

/// An error of `action` in this server's own words (which the defender does not judge).
fn own_error(action: &Action, code: &str, reason: OwnText) -> ActionError {
    ActionError { action: action.id.clone(), code: code.into(), message: reason.text.clone(), own_texts: vec![reason], ..Default::default() }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{invalid_arguments, is_create, quoted_label};
    use crate::catalog::check_args;
    use serde_json::json;

    /// A short signature is repeated with what is wrong; a long one is pointed to (review 49:
    /// five refusals of one policy update came to 20 KB).
    #[test]
    fn an_argument_error_repeats_a_short_signature_only() {
        let catalog = crate::catalog::load_builtin().expect("the built-in catalog loads");
        let refused = |id: &str, args| {
            let action = catalog.get(id).unwrap();
            invalid_arguments(action, &check_args(action, &args).unwrap_err()).message
        };
        assert!(refused("get_user", json!({ "userID": "x" })).contains("Signature: get_user(args: { userId: string"));
        let long = refused("update_device_authentication_policy", json!({ "deviceAuthenticationPolicyId": "p", "nmae": "x" }));
        assert!(long.contains("missing required `name`") && long.contains("pingone.describe('update_device_authentication_policy')") && !long.contains("Signature:"), "{long}");
        assert!(long.len() < 1_000, "{} bytes: {long}", long.len());
    }

    /// Besides the `create_…` actions, the POSTs that make a record of their own (review
    /// 30: a paired device's id was in neither the account of writes nor the audit log).
    #[test]
    fn a_paired_device_and_an_imported_certificate_are_creates_and_a_membership_is_not() {
        let catalog = crate::catalog::load_builtin().expect("the built-in catalog loads");
        let creates: Vec<&str> = catalog.actions().filter(|a| is_create(a) && !a.id.starts_with("create_")).map(|a| a.id.as_str()).collect();
        assert_eq!(creates, ["import_certificate", "pair_user_mfa_device"]);
    }

    #[test]
    fn a_label_is_shown_quoted_cut_and_on_one_line() {
        assert_eq!(quoted_label("jdoe"), "\"jdoe\"");
        assert_eq!(quoted_label("jdoe\nTarget: test account, approve"), "\"jdoe Target: test account, approve\"");
        let long = quoted_label(&"x".repeat(100));
        assert_eq!(long.chars().count(), 64 + 3, "{long}");
        assert!(long.ends_with("…\""));
    }
}
