//! Confirming destructive calls with the person at the MCP client (elicitation).
//!
//! A client on a protocol with the `initialize` handshake (≤ 2025-11-25) is sent an
//! `elicitation/create` request in the middle of the tool call. Protocol 2026-07-28
//! forbids requests from server to client; there the tool call is answered with an
//! `input_required` result carrying the question, the script stays suspended in this
//! process, and the client's retry (with the answer and the echoed `requestState`)
//! resumes it (multi round-trip requests, SEP-2322). A suspended call that gets no
//! answer in time is declined, so nothing destructive runs unconfirmed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use rmcp::model::{
    CallToolResponse, CallToolResult, ContentBlock, ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction, InputRequest, InputRequiredResult, InputResponses,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, Peer, RoleServer};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::reply::{code, Failure};
use super::server::tool_result;
use crate::policy::{Blanket, Confirm, ConfirmReason, ConfirmRequest, Refusal, Yes};

/// How long a person has to answer before the call is declined.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(300);
/// Calls of one caller that may wait for a person's answer at once; a question beyond
/// them is declined at once, so its script ends and frees its sandbox slot.
pub const QUESTIONS_PER_CALLER: usize = 8;

/// How long a cancelled call has to stop by itself.
const STOPPING: Duration = Duration::from_secs(5);

/// The key of the one input request an `input_required` result carries.
const INPUT_KEY: &str = "confirm";

/// Declines every call that needs a person, for a client that cannot ask one: nothing
/// destructive or access-granting runs unconfirmed unless the operator said so
/// (`--no-confirm`).
pub struct CannotAsk;

impl Confirm for CannotAsk {
    fn confirm(&self, _request: ConfirmRequest) -> BoxFuture<'static, Result<Yes, Refusal>> {
        Box::pin(async {
            Err(Refusal::unanswered(
                "it needs a person's yes, and this MCP client cannot ask one (it does not support elicitation, or, over HTTP, is on a protocol older than 2026-07-28); \
                 use a client that can, or have whoever runs the server start it with --no-confirm to run such calls unasked",
            ))
        })
    }

    /// No question is put, so none is prepared.
    fn will_ask(&self, _call: &Blanket) -> BoxFuture<'static, bool> {
        Box::pin(async { false })
    }

    fn can_ask(&self) -> bool {
        false
    }
}

/// How this request's client can be asked, if at all.
pub fn confirmer_for(context: &RequestContext<RoleServer>) -> Option<Via> {
    if !context.client_capabilities().is_some_and(|c| can_ask(&c)) {
        return None;
    }
    match context.protocol_version() {
        Some(version) if !version.has_initialize() => Some(Via::RoundTrip),
        _ => Some(Via::Request(context.peer.clone())),
    }
}

/// Whether a client with these capabilities can put a question to the person: it
/// takes form elicitation.
pub fn can_ask(capabilities: &rmcp::model::ClientCapabilities) -> bool {
    capabilities.elicitation.as_ref().is_some_and(|e| e.form.is_some() || e.url.is_none())
}

pub enum Via {
    /// An `elicitation/create` request mid-call (handshake protocols).
    Request(Peer<RoleServer>),
    /// An `input_required` result and a retry (2026-07-28).
    RoundTrip,
}

/// What a tool call's confirmations are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asking {
    /// The calls of an `execute` script: the person may allow the rest of them.
    ScriptCalls,
    /// One action the agent called as a tool.
    OneCall,
}

/// The form the person answers: a required yes/no, and for a script whether the
/// rest of its uses of the action may run unasked.
fn elicitation(request: &ConfirmRequest) -> ElicitRequestParams {
    let mut properties = json!({
        "confirm": {
            "type": "boolean",
            "title": format!("Run {}", request.action),
            "description": format!("{} — {}", request.title, request.request),
            "default": false,
        },
    });
    if request.from_script {
        let title = match &request.grants {
            Some(change) if request.reason == ConfirmReason::ChangesAccess => format!("Also run every later {} call of this script that makes the same change ({change}) without asking, as many as it makes; any other change is asked", request.action),
            Some(grants) => format!("Also run every later {} call of this script that gives the same ({grants}) without asking, as many as it makes; one giving anything else is asked", request.action),
            None => format!("Also run every later {} call of this script without asking, as many as it makes", request.action),
        };
        properties["confirmAll"] = json!({ "type": "boolean", "title": title, "default": false });
        properties["refuseAll"] = json!({
            "type": "boolean",
            "title": format!("If not running it: also refuse every later {} call of this script like it, without asking", request.action),
            "default": false,
        });
    }
    let schema = json!({ "type": "object", "properties": properties, "required": ["confirm"] });
    ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: request.message(),
        requested_schema: serde_json::from_value(schema).expect("the confirmation schema is a valid elicitation schema"),
    }
}

/// Only an accepted form with `confirm: true` lets the call run; `Ok(true)` when the
/// person also allowed the action's other calls in this script.
fn verdict(result: &ElicitResult) -> Result<bool, String> {
    let field = |name: &str| result.content.as_ref().and_then(|c| c.get(name)).and_then(Value::as_bool) == Some(true);
    match result.action {
        ElicitationAction::Accept if field("confirm") => Ok(field("confirmAll")),
        ElicitationAction::Accept => Err("the person at the client did not confirm it".into()),
        ElicitationAction::Decline => Err("the person at the client declined it".into()),
        _ => Err("the person at the client cancelled the confirmation".into()),
    }
}

/// Whether the person, not running this call, also refused the script's later calls
/// like it: the `refuseAll` box, with the call not confirmed or declined, or a cancel,
/// which stops the batch rather than ask again for each of its calls (review 60 M1: a
/// cancelled bulk disable asked once a user).
fn refuses_rest(result: &ElicitResult) -> bool {
    let field = |name: &str| result.content.as_ref().and_then(|c| c.get(name)).and_then(Value::as_bool) == Some(true);
    match result.action {
        ElicitationAction::Accept => field("refuseAll") && !field("confirm"),
        ElicitationAction::Decline => field("refuseAll"),
        // A cancel, "the entire operation" in the protocol (or an answer not known here).
        _ => true,
    }
}

/// Why a call like one the person refused the rest of is not run.
fn refused_rest(action: &str) -> String {
    format!("the person at the client refused this and the script's later {action} calls like it; ask them before running it again")
}

/// A question for the person, waiting to go out in an `input_required` result.
pub struct Ask {
    params: ElicitRequestParams,
    answer: oneshot::Sender<Answer>,
}

/// The person's answer, or why none came.
type Answer = Result<ElicitResult, String>;

/// How a question reaches the person.
#[derive(Clone)]
enum Channel {
    /// An `elicitation/create` request on the open session.
    Request(Peer<RoleServer>),
    /// Handed to the tool call's driver, which suspends the call until the retry.
    RoundTrip(mpsc::Sender<Ask>),
}

impl Channel {
    async fn ask(&self, params: ElicitRequestParams) -> Answer {
        match self {
            Channel::Request(peer) => peer.create_elicitation_with_timeout(params, Some(ANSWER_TIMEOUT)).await.map_err(unanswered),
            Channel::RoundTrip(asks) => {
                let (answer, answered) = oneshot::channel();
                if asks.send(Ask { params, answer }).await.is_err() {
                    return Err("the client is no longer waiting for this call".into());
                }
                answered.await.unwrap_or_else(|_| Err("the question was dropped unanswered".into()))
            }
        }
    }
}

/// Why a question sent to the client got no answer, for the agent: nothing in it
/// suggests turning questions off, which is the operator's decision, not the agent's.
fn unanswered(e: rmcp::service::ServiceError) -> String {
    match e {
        rmcp::service::ServiceError::Timeout { timeout } => {
            format!("the person was asked but did not answer within {} minutes; ask them, and run it again when they are there", timeout.as_secs() / 60)
        }
        e => format!("the client failed to put the question to the person ({e}); ask them directly, and run it again"),
    }
}

/// Asks the person at the client about one tool call's destructive actions, one
/// question at a time, remembering the actions they allowed for the rest of the call.
pub struct Asker {
    channel: Channel,
    asking: Asking,
    /// The person's answers for the rest of the call. Held while a question is out, so
    /// calls made together (`Promise.all`) are asked in turn and one answer for all
    /// covers those still waiting.
    answered: Arc<tokio::sync::Mutex<ForTheRest>>,
}

/// What the person said of the rest of a call's calls.
#[derive(Default)]
struct ForTheRest {
    /// Allowed, each with the records of the calls that ran unasked since.
    allowed: BTreeMap<Blanket, Vec<String>>,
    /// Refused without asking again.
    refused: BTreeSet<Blanket>,
}

impl Asker {
    /// Asks with `elicitation/create` requests (protocols with the handshake).
    pub fn by_request(peer: Peer<RoleServer>, asking: Asking) -> Self {
        Self::new(Channel::Request(peer), asking)
    }

    fn new(channel: Channel, asking: Asking) -> Self {
        Self { channel, asking, answered: Arc::default() }
    }
}

impl Confirm for Asker {
    fn confirm(&self, mut request: ConfirmRequest) -> BoxFuture<'static, Result<Yes, Refusal>> {
        let (channel, answered) = (self.channel.clone(), self.answered.clone());
        request.from_script = self.asking == Asking::ScriptCalls;
        Box::pin(async move {
            let mut answered = answered.lock().await;
            let blanket = request.blanket();
            if let Some(unasked) = answered.allowed.get_mut(&blanket) {
                unasked.push(request.subject.clone());
                return Ok(Yes::ToTheRest);
            }
            if answered.refused.contains(&blanket) {
                return Err(Refusal::by_person(refused_rest(&request.action)));
            }
            // No answer is no one's decision; an answer that is not a yes is the person's.
            let answer = channel.ask(elicitation(&request)).await.map_err(Refusal::unanswered)?;
            if refuses_rest(&answer) {
                answered.refused.insert(blanket.clone());
            }
            if verdict(&answer).map_err(Refusal::by_person)? {
                answered.allowed.insert(blanket, Vec::new());
            }
            Ok(Yes::Asked)
        })
    }

    fn allowed_unasked(&self) -> BoxFuture<'static, Vec<(String, Vec<String>)>> {
        let answered = self.answered.clone();
        Box::pin(async move {
            let mut by_action: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (blanket, subjects) in answered.lock().await.allowed.iter().filter(|(_, subjects)| !subjects.is_empty()) {
                by_action.entry(blanket.action.clone()).or_default().extend(subjects.iter().cloned());
            }
            by_action.into_iter().collect()
        })
    }

    /// Waits while a question is out, so a call made together with it learns whether
    /// the answer allowed the rest.
    fn will_ask(&self, call: &Blanket) -> BoxFuture<'static, bool> {
        let (answered, call) = (self.answered.clone(), call.clone());
        Box::pin(async move {
            let answered = answered.lock().await;
            !answered.allowed.contains_key(&call) && !answered.refused.contains(&call)
        })
    }
}

/// A tool call running in its own task, and the questions it may ask on the way.
pub struct Job {
    task: JoinHandle<CallToolResult>,
    asks: mpsc::Receiver<Ask>,
    /// Set when the request driving it is cancelled: the call stops itself.
    cancel: watch::Sender<bool>,
}

impl Job {
    /// Starts `run` with a confirmer that asks through this job, and a future that
    /// completes when whichever request drives the job is cancelled (the job outlives
    /// the request that started it, which ends with the question).
    pub fn spawn<F>(asking: Asking, run: impl FnOnce(Arc<dyn Confirm>, BoxFuture<'static, ()>) -> F) -> Self
    where
        F: std::future::Future<Output = CallToolResult> + Send + 'static,
    {
        let (sender, asks) = mpsc::channel(1);
        let (cancel, mut cancelled) = watch::channel(false);
        let stop = Box::pin(async move {
            let _ = cancelled.wait_for(|cancelled| *cancelled).await;
        });
        let task = tokio::spawn(run(Arc::new(Asker::new(Channel::RoundTrip(sender), asking)), stop));
        Self { task, asks, cancel }
    }
}

struct Suspended {
    job: Job,
    answer: oneshot::Sender<Answer>,
    /// The HTTP caller that started it; only it may answer.
    owner: Option<String>,
}

/// A suspended call whose question went unanswered: declined, run to its end, and
/// its result kept for the client's late retry.
struct Expired {
    result: CallToolResult,
    owner: Option<String>,
}

/// What a `requestState` stands for.
enum Waiting {
    Question(Suspended),
    Expired(Expired),
}

impl Waiting {
    fn owner(&self) -> &Option<String> {
        match self {
            Waiting::Question(s) => &s.owner,
            Waiting::Expired(e) => &e.owner,
        }
    }
}

/// How long the result of an expired call waits for a late retry.
const EXPIRED_RESULT_KEPT: Duration = Duration::from_secs(3600);

/// Calls waiting for an answer, by the `requestState` handed to the client.
pub struct SuspendedCalls {
    calls: Mutex<HashMap<String, Waiting>>,
    /// How long a question waits for the client's retry.
    timeout: Duration,
}

impl Default for SuspendedCalls {
    fn default() -> Self {
        Self::with_timeout(ANSWER_TIMEOUT)
    }
}

impl SuspendedCalls {
    pub fn with_timeout(timeout: Duration) -> Self {
        Self { calls: Mutex::default(), timeout }
    }

    /// Runs `job` until it finishes (the tool's result) or asks a question (an
    /// `input_required` result; the job waits here for the retry).
    pub async fn drive(self: &Arc<Self>, mut job: Job, owner: Option<String>, cancelled: impl std::future::Future<Output = ()>) -> Result<CallToolResponse, McpError> {
        tokio::pin!(cancelled);
        loop {
            tokio::select! {
                finished = &mut job.task => return finished
                    .map(CallToolResponse::from)
                    .map_err(|e| McpError::internal_error(format!("the call stopped unexpectedly: {e}"), None)),
                Some(ask) = job.asks.recv() => {
                    // A suspended script keeps its sandbox slot: one caller leaving its
                    // questions unanswered must not take every slot from the others.
                    let waiting = self.lock().values().filter(|w| matches!(w, Waiting::Question(s) if s.owner == owner)).count();
                    if waiting >= QUESTIONS_PER_CALLER {
                        let _ = ask.answer.send(Err(format!(
                            "{waiting} of this caller's calls are already waiting for a person's answer; answer or cancel those, then run this again"
                        )));
                        continue;
                    }
                    let handle = uuid::Uuid::new_v4().to_string();
                    let question = InputRequest::Elicitation(ElicitRequest::new(ask.params));
                    self.lock().insert(handle.clone(), Waiting::Question(Suspended { job, answer: ask.answer, owner }));
                    self.expire_later(handle.clone());
                    return Ok(InputRequiredResult::new(Some([(INPUT_KEY.to_owned(), question)].into()), Some(handle)).into());
                }
                () = &mut cancelled => {
                    // The call stops itself, telling the server's log what it changed; one
                    // that does not is cut off.
                    job.cancel.send_replace(true);
                    if tokio::time::timeout(STOPPING, &mut job.task).await.is_err() {
                        job.task.abort();
                    }
                    return Err(McpError::internal_error("the client cancelled the call", None));
                }
            }
        }
    }

    /// The client's retry: hands its answer to the suspended call and drives it on,
    /// or, when the question expired meanwhile, returns what the call did without it.
    pub async fn resume(self: &Arc<Self>, handle: &str, responses: Option<InputResponses>, owner: Option<String>, cancelled: impl std::future::Future<Output = ()>) -> Result<CallToolResponse, McpError> {
        let waiting = {
            let mut calls = self.lock();
            match calls.get(handle) {
                Some(w) if *w.owner() != owner => return Err(McpError::invalid_params("this requestState belongs to another caller", None)),
                Some(_) => calls.remove(handle),
                None => None,
            }
        };
        let Suspended { job, answer, owner } = match waiting {
            Some(Waiting::Question(suspended)) => suspended,
            Some(Waiting::Expired(expired)) => return Ok(self.too_late(expired.result).into()),
            None => {
                return Err(McpError::invalid_params(
                    "no call is waiting for this requestState: it was answered already, or its result was dropped an hour after its question expired, \
                     or it started on another server instance. Its earlier action calls may have run; check the state before running it again",
                    None,
                ))
            }
        };
        let result = responses
            .and_then(|mut r| r.remove(INPUT_KEY))
            .and_then(|v| serde_json::from_value::<ElicitResult>(v).ok())
            .unwrap_or_else(|| ElicitResult::new(ElicitationAction::Cancel));
        let _ = answer.send(Ok(result));
        self.drive(job, owner, cancelled).await
    }

    /// Declines the question if no retry comes in time; the job then runs to its
    /// end with that call (and any later question) refused, and its result waits
    /// [`EXPIRED_RESULT_KEPT`] for a late retry, so the client still learns what ran.
    fn expire_later(self: &Arc<Self>, handle: String) {
        let calls = Arc::downgrade(self);
        let timeout = self.timeout;
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            let Some(this) = calls.upgrade() else { return };
            let Some(Waiting::Question(expired)) = this.take_question(&handle) else { return };
            drop(this);
            let why = format!("no answer came within {} s", timeout.as_secs_f32());
            tracing::warn!(request_state = %handle, "a destructive call waited {:?} for confirmation and was declined", timeout);
            let _ = expired.answer.send(Err(why.clone()));
            let result = finish_unasked(expired.job, &why).await;
            let Some(this) = calls.upgrade() else { return };
            this.lock().insert(handle.clone(), Waiting::Expired(Expired { result, owner: expired.owner }));
            drop(this);
            tokio::time::sleep(EXPIRED_RESULT_KEPT).await;
            if let Some(this) = calls.upgrade() {
                this.lock().remove(&handle);
            }
        });
    }

    /// Removes `handle` if it is still a question (not answered meanwhile).
    fn take_question(&self, handle: &str) -> Option<Waiting> {
        let mut calls = self.lock();
        matches!(calls.get(handle), Some(Waiting::Question(_))).then(|| calls.remove(handle)).flatten()
    }

    /// The result of an expired call, led by a note that says the answer came late.
    fn too_late(&self, mut result: CallToolResult) -> CallToolResult {
        let note = format!(
            "This answer came too late: the confirmation waited {} s, then the call was declined and nothing was sent to PingOne for it \
             (or for any later call that needed confirming). The script's other calls ran; its outcome follows.",
            self.timeout.as_secs_f32()
        );
        result.content.insert(0, ContentBlock::text(note));
        result
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Waiting>> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs a job whose question expired to its end, refusing any further question.
async fn finish_unasked(mut job: Job, why: &str) -> CallToolResult {
    loop {
        tokio::select! {
            finished = &mut job.task => {
                return finished.unwrap_or_else(|e| tool_result(Err(Failure::new(code::INTERNAL, format!("the call stopped unexpectedly: {e}")))));
            }
            Some(ask) = job.asks.recv() => {
                let _ = ask.answer.send(Err(format!("an earlier confirmation of this call expired ({why})")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A question left unanswered is said to be so, and nothing tells the agent to
    /// have questions turned off.
    #[test]
    fn an_unanswered_question_says_so_without_advising_no_confirm() {
        let timeout = unanswered(rmcp::service::ServiceError::Timeout { timeout: ANSWER_TIMEOUT });
        assert!(timeout.contains("was asked but did not answer within 5 minutes"), "{timeout}");
        let failed = unanswered(rmcp::service::ServiceError::TransportClosed);
        assert!(failed.contains("failed to put the question") && failed.contains("Transport closed"), "{failed}");
        assert!(![timeout, failed].iter().any(|text| text.contains("no-confirm")));
    }

    fn answer(action: ElicitationAction, content: Option<Value>) -> ElicitResult {
        let mut result = ElicitResult::new(action);
        result.content = content;
        result
    }

    #[test]
    fn only_an_explicit_yes_confirms() {
        assert_eq!(verdict(&answer(ElicitationAction::Accept, Some(json!({ "confirm": true })))), Ok(false));
        assert_eq!(verdict(&answer(ElicitationAction::Accept, Some(json!({ "confirm": true, "confirmAll": true })))), Ok(true));
        assert!(verdict(&answer(ElicitationAction::Accept, Some(json!({ "confirmAll": true })))).is_err(), "all without yes is no");
        for (result, why) in [
            (answer(ElicitationAction::Accept, Some(json!({ "confirm": false }))), "did not confirm"),
            (answer(ElicitationAction::Accept, None), "did not confirm"),
            (answer(ElicitationAction::Accept, Some(json!({ "confirm": "yes" }))), "did not confirm"),
            (answer(ElicitationAction::Decline, None), "declined"),
            (answer(ElicitationAction::Cancel, None), "cancelled"),
        ] {
            assert!(verdict(&result).unwrap_err().contains(why), "{result:?}");
        }
    }

    fn request() -> ConfirmRequest {
        ConfirmRequest { action: "delete_user".into(), title: "Delete User".into(), request: "DELETE /users/u-1".into(), args: json!({ "userId": "u-1" }), targets: vec![], changes: vec![], environment: None, reason: ConfirmReason::Destructive, from_script: true, grants: None, notes: vec![], subject: "userId u-1".into(), change_parts: vec![] }
    }

    /// A job that asks once and finishes with the verdict as its text.
    fn asking_job() -> Job {
        Job::spawn(Asking::ScriptCalls, |confirm, _stop| async move {
            let text = match confirm.confirm(request()).await {
                Ok(_) => "confirmed".to_owned(),
                Err(refusal) => refusal.why,
            };
            CallToolResult::success(vec![ContentBlock::text(text)])
        })
    }

    fn text(response: CallToolResponse) -> String {
        let CallToolResponse::Complete(result) = response else { panic!("expected a finished call") };
        result.content[0].as_text().unwrap().text.clone()
    }

    fn question(response: CallToolResponse) -> String {
        let CallToolResponse::InputRequired(input) = response else { panic!("expected a question") };
        assert!(matches!(input.input_requests.as_ref().unwrap()[INPUT_KEY], InputRequest::Elicitation(_)));
        input.request_state.unwrap()
    }

    fn yes() -> InputResponses {
        [(INPUT_KEY.to_owned(), json!({ "action": "accept", "content": { "confirm": true } }))].into()
    }

    /// A job outlives the request that started it; the one driving it when the client
    /// cancels tells it to stop, and it gets to finish (to tell what it changed).
    #[tokio::test]
    async fn a_cancelled_job_is_told_to_stop_and_finishes() {
        let calls = Arc::new(SuspendedCalls::default());
        let finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let done = finished.clone();
        let job = Job::spawn(Asking::ScriptCalls, |_confirm, stop| async move {
            stop.await;
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            CallToolResult::success(vec![ContentBlock::text("stopped")])
        });
        let cancelled = calls.drive(job, None, std::future::ready(())).await.unwrap_err();
        assert!(cancelled.message.contains("cancelled"), "{cancelled:?}");
        assert!(finished.load(std::sync::atomic::Ordering::SeqCst), "the job ran to its end after the stop");
    }

    #[tokio::test]
    async fn a_suspended_call_resumes_with_its_owners_answer_only() {
        let calls = Arc::new(SuspendedCalls::default());
        let owner = Some("alice".to_owned());
        let state = question(calls.drive(asking_job(), owner.clone(), std::future::pending()).await.unwrap());
        let stranger = calls.resume(&state, Some(yes()), Some("mallory".into()), std::future::pending()).await.unwrap_err();
        assert!(stranger.message.contains("another caller"), "{stranger:?}");
        assert_eq!(text(calls.resume(&state, Some(yes()), owner.clone(), std::future::pending()).await.unwrap()), "confirmed");
        let again = calls.resume(&state, Some(yes()), owner, std::future::pending()).await.unwrap_err();
        assert!(again.message.contains("no call is waiting for this requestState"), "{again:?}");
    }

    #[tokio::test]
    async fn one_answer_for_all_covers_the_calls_still_waiting() {
        let calls = Arc::new(SuspendedCalls::default());
        let job = Job::spawn(Asking::ScriptCalls, |confirm, _stop| async move {
            let (first, second) = tokio::join!(confirm.confirm(request()), confirm.confirm(request()));
            CallToolResult::success(vec![ContentBlock::text(format!("{first:?} {second:?}"))])
        });
        let state = question(calls.drive(job, None, std::future::pending()).await.unwrap());
        let all: InputResponses = [(INPUT_KEY.to_owned(), json!({ "action": "accept", "content": { "confirm": true, "confirmAll": true } }))].into();
        assert_eq!(text(calls.resume(&state, Some(all), None, std::future::pending()).await.unwrap()), "Ok(Asked) Ok(ToTheRest)", "asked once; the second says it ran on the yes to the rest");
    }

    #[tokio::test]
    async fn after_a_yes_to_all_the_action_is_not_asked_about_again() {
        let calls = Arc::new(SuspendedCalls::default());
        let job = Job::spawn(Asking::ScriptCalls, |confirm, _stop| async move {
            let call = |action: &str| Blanket { action: action.into(), grants: None };
            let before = confirm.will_ask(&call("delete_user")).await;
            let first = confirm.confirm(request()).await;
            let after = (confirm.will_ask(&call("delete_user")).await, confirm.will_ask(&call("delete_group")).await);
            CallToolResult::success(vec![ContentBlock::text(format!("{before} {first:?} {after:?}"))])
        });
        let state = question(calls.drive(job, None, std::future::pending()).await.unwrap());
        let all: InputResponses = [(INPUT_KEY.to_owned(), json!({ "action": "accept", "content": { "confirm": true, "confirmAll": true } }))].into();
        assert_eq!(text(calls.resume(&state, Some(all), None, std::future::pending()).await.unwrap()), "true Ok(Asked) (false, true)");
    }

    /// A yes to the rest of a script's calls granting access covers those giving the
    /// same: adding more users to Finance, not adding one to the admins' group.
    #[tokio::test]
    async fn a_yes_to_all_grants_covers_only_the_same_grant() {
        let add_to = |group: &str| ConfirmRequest {
            action: "add_user_to_group".into(),
            args: json!({ "userId": "u-1", "id": group }),
            grants: Some(json!({ "id": group }).to_string()),
            reason: ConfirmReason::GrantsAccess,
            ..request()
        };
        let calls = Arc::new(SuspendedCalls::default());
        let job = Job::spawn(Asking::ScriptCalls, move |confirm, _stop| async move {
            let first = confirm.confirm(add_to("finance")).await;
            let same = confirm.will_ask(&add_to("finance").blanket()).await;
            let other = confirm.will_ask(&add_to("identity-admins").blanket()).await;
            CallToolResult::success(vec![ContentBlock::text(format!("{first:?} {same} {other}"))])
        });
        let CallToolResponse::InputRequired(input) = calls.drive(job, None, std::future::pending()).await.unwrap() else { panic!("expected a question") };
        let InputRequest::Elicitation(question) = &input.input_requests.as_ref().unwrap()[INPUT_KEY] else { panic!("expected an elicitation") };
        let schema = serde_json::to_value(question).unwrap();
        let title = schema.pointer("/params/requestedSchema/properties/confirmAll/title").and_then(Value::as_str).unwrap_or_default().to_owned();
        assert!(title.contains(r#"that gives the same ({"id":"finance"})"#) && title.contains("anything else is asked"), "{schema}");
        let all: InputResponses = [(INPUT_KEY.to_owned(), json!({ "action": "accept", "content": { "confirm": true, "confirmAll": true } }))].into();
        let state = input.request_state.unwrap();
        assert_eq!(text(calls.resume(&state, Some(all), None, std::future::pending()).await.unwrap()), "Ok(Asked) false true");
    }

    /// A person who refuses a call and ticks "refuse the rest" is not asked about the
    /// script's later calls like it (review 30: asked again for each of four).
    #[tokio::test]
    async fn refusing_the_rest_refuses_later_calls_like_it_unasked() {
        let calls = Arc::new(SuspendedCalls::default());
        let job = Job::spawn(Asking::ScriptCalls, |confirm, _stop| async move {
            let first = confirm.confirm(request()).await;
            let asks = confirm.will_ask(&request().blanket()).await;
            let second = confirm.confirm(request()).await;
            CallToolResult::success(vec![ContentBlock::text(format!("{first:?} | {asks} | {second:?}"))])
        });
        let state = question(calls.drive(job, None, std::future::pending()).await.unwrap());
        let refuse: InputResponses = [(INPUT_KEY.to_owned(), json!({ "action": "accept", "content": { "confirm": false, "refuseAll": true } }))].into();
        let text = text(calls.resume(&state, Some(refuse), None, std::future::pending()).await.unwrap());
        assert!(text.starts_with("Err(Refusal { why: \"the person at the client did not confirm it\", by_person: true }) | false | Err(Refusal { why: \"the person at the client refused this and the script's later delete_user calls like it"), "{text}");
    }

    #[tokio::test]
    async fn a_retry_without_an_answer_cancels() {
        let calls = Arc::new(SuspendedCalls::default());
        let state = question(calls.drive(asking_job(), None, std::future::pending()).await.unwrap());
        assert!(text(calls.resume(&state, None, None, std::future::pending()).await.unwrap()).contains("cancelled"));
    }

    #[tokio::test]
    async fn an_unanswered_question_is_declined_and_the_late_retry_gets_the_outcome() {
        let calls = Arc::new(SuspendedCalls::with_timeout(Duration::from_millis(50)));
        let job = Job::spawn(Asking::ScriptCalls, |confirm, _stop| async move {
            let first = confirm.confirm(request()).await;
            let second = confirm.confirm(request()).await;
            CallToolResult::success(vec![ContentBlock::text(format!("{first:?} / {second:?}"))])
        });
        let state = question(calls.drive(job, Some("alice".into()), std::future::pending()).await.unwrap());
        let late = loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if matches!(calls.lock().get(&state), Some(Waiting::Expired(_))) {
                break calls.resume(&state, Some(yes()), Some("alice".into()), std::future::pending()).await.unwrap();
            }
        };
        let CallToolResponse::Complete(result) = late else { panic!("expected the finished call") };
        let texts: Vec<&str> = result.content.iter().map(|c| c.as_text().unwrap().text.as_str()).collect();
        assert!(texts[0].contains("came too late") && texts[0].contains("nothing was sent"), "{texts:?}");
        assert!(texts[1].contains("no answer came within 0.05 s") && texts[1].contains("an earlier confirmation of this call expired"), "second call refused unasked: {texts:?}");
        assert!(calls.resume(&state, Some(yes()), Some("alice".into()), std::future::pending()).await.is_err(), "delivered once");
    }

    /// One caller's unanswered questions are capped, so its suspended scripts cannot
    /// hold every sandbox slot: a question beyond the cap is declined at once and its
    /// script runs to its end; another caller still gets its question asked.
    #[tokio::test]
    async fn one_callers_waiting_questions_are_capped() {
        let calls = Arc::new(SuspendedCalls::default());
        let asking = || {
            Job::spawn(Asking::ScriptCalls, |confirm, _stop| async move {
                let answer = confirm.confirm(request()).await;
                CallToolResult::success(vec![ContentBlock::text(format!("{answer:?}"))])
            })
        };
        for _ in 0..QUESTIONS_PER_CALLER {
            question(calls.drive(asking(), Some("mallory".into()), std::future::pending()).await.unwrap());
        }
        let CallToolResponse::Complete(result) = calls.drive(asking(), Some("mallory".into()), std::future::pending()).await.unwrap() else {
            panic!("a question beyond the cap is declined, not suspended")
        };
        let text = &result.content[0].as_text().unwrap().text;
        assert!(text.contains("8 of this caller's calls are already waiting for a person's answer"), "{text}");
        question(calls.drive(asking(), Some("alice".into()), std::future::pending()).await.unwrap());
    }
}
