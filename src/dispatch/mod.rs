//! The one function every action call from a script goes through: resolve the
//! action, check its arguments, run it (live or from a cassette), record it, and
//! turn the outcome into what the script sees. Policy, audit and rate limits plug
//! in here.

mod cassette;

use std::sync::Arc;

use futures::future::BoxFuture;
use guest_sdk::abi::{ActionError, HostCall, HostReply, DESCRIBE_ACTION, SEARCH_ACTION};
use serde_json::{json, Value};

pub use cassette::{Cassette, Interaction, Recorder, Replay};

use crate::catalog::{action_signature, check_args, Action, Catalog};
use crate::pingone::{CallOptions, ClientError, PingOneClient};
use crate::sandbox::ActionHost;
use crate::search::SearchIndex;

/// Where action calls are answered.
#[derive(Clone)]
pub enum Backend {
    /// PingOne (or the simulator) over HTTP.
    Live(PingOneClient),
    /// A cassette recorded earlier: no network.
    Replay(Arc<Replay>),
}

pub struct Dispatcher {
    catalog: Arc<Catalog>,
    search: Arc<SearchIndex>,
    backend: Backend,
    recorder: Option<Arc<Recorder>>,
}

impl Dispatcher {
    pub fn new(catalog: Arc<Catalog>, search: Arc<SearchIndex>, backend: Backend) -> Self {
        Self { catalog, search, backend, recorder: None }
    }

    /// Writes every action call and its reply to `recorder` as well.
    pub fn recording(mut self, recorder: Arc<Recorder>) -> Self {
        self.recorder = Some(recorder);
        self
    }

    pub async fn dispatch(&self, call: HostCall) -> HostReply {
        match call.action.as_str() {
            SEARCH_ACTION => return self.search(&call.args),
            DESCRIBE_ACTION => return self.describe(&call.args),
            _ => {}
        }
        let Some(action) = self.catalog.get(&call.action) else {
            return HostReply::Error(self.unknown_action(&call.action));
        };
        let reply = self.run(action, &call.args).await;
        if let Some(recorder) = &self.recorder {
            recorder.record(&call, &reply);
        }
        reply
    }

    async fn run(&self, action: &Action, args: &Value) -> HostReply {
        if let Err(e) = check_args(action, args) {
            let error = ActionError {
                action: action.id.clone(),
                status: None,
                code: "INVALID_ARGUMENTS".into(),
                message: format!("{e}. Signature: {}", action_signature(action)),
                details: e.problems.iter().map(|p| json!({ "code": "INVALID_VALUE", "message": p })).collect(),
            };
            return HostReply::Error(error);
        }
        match &self.backend {
            Backend::Live(client) => match client.call(action, args, &CallOptions::default()).await {
                Ok(value) => HostReply::Value(value),
                Err(e) => HostReply::Error(action_error(&action.id, &e)),
            },
            Backend::Replay(replay) => replay.answer(&action.id, args),
        }
    }

    fn unknown_action(&self, id: &str) -> ActionError {
        let similar = self.catalog.similar_ids(id);
        let hint = if similar.is_empty() {
            "use pingone.search('what you need') to find one".to_owned()
        } else {
            format!("did you mean {}?", similar.join(", "))
        };
        ActionError { action: id.to_owned(), status: None, code: "UNKNOWN_ACTION".into(), message: format!("there is no action `{id}`: {hint}"), details: vec![] }
    }

    fn search(&self, args: &Value) -> HostReply {
        let query = args.get("query").and_then(Value::as_str).unwrap_or_default();
        let limit = args.get("limit").and_then(Value::as_u64).unwrap_or(8).clamp(1, 50) as usize;
        let hits: Vec<Value> = self
            .search
            .search(query, limit)
            .into_iter()
            .filter_map(|hit| self.catalog.get(&hit.id))
            .map(|a| json!({ "id": a.id, "title": a.title, "signature": action_signature(a), "read_only": a.read_only, "destructive": a.destructive }))
            .collect();
        HostReply::Value(Value::Array(hits))
    }

    fn describe(&self, args: &Value) -> HostReply {
        let id = args.get("id").and_then(Value::as_str).unwrap_or_default();
        match self.catalog.get(id) {
            Some(a) => HostReply::Value(json!({
                "id": a.id, "title": a.title, "group": a.group, "description": a.description.trim(),
                "signature": action_signature(a), "method": a.method.as_str(), "path": a.path,
                "read_only": a.read_only, "destructive": a.destructive, "idempotent": a.idempotent,
                "example": a.example,
            })),
            None => HostReply::Error(self.unknown_action(id)),
        }
    }
}

impl ActionHost for Dispatcher {
    fn call(self: Arc<Self>, call: HostCall) -> BoxFuture<'static, HostReply> {
        Box::pin(async move { self.dispatch(call).await })
    }
}

/// A client failure as the script's `PingOneError`: PingOne's own code, message and
/// details when it answered; ours otherwise.
pub fn action_error(action: &str, e: &ClientError) -> ActionError {
    match e {
        ClientError::Api { status, body, .. } => ActionError {
            action: action.to_owned(),
            status: Some(*status),
            code: body.code.clone(),
            message: body.message.clone(),
            details: body.details.iter().filter_map(|d| serde_json::to_value(d).ok()).collect(),
        },
        other => {
            let json = other.to_json();
            ActionError {
                action: action.to_owned(),
                status: other.status(),
                code: json["code"].as_str().unwrap_or("CLIENT_ERROR").to_owned(),
                message: other.to_string(),
                details: vec![],
            }
        }
    }
}
