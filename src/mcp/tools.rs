//! The tools' definitions: the two code-mode tools, and one tool per action.

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{json, Map, Value};

use super::server::{MAX_SEARCH_LIMIT, SEARCH_LIMIT};
use crate::catalog::{Action, Param, ParamType};

pub const SEARCH_TOOLS: &str = "search_tools";
pub const EXECUTE: &str = "execute";

fn object(value: Value) -> Arc<JsonObject> {
    match value {
        Value::Object(map) => Arc::new(map),
        _ => Arc::new(Map::new()),
    }
}

pub fn search_tool() -> Tool {
    Tool::new(
        SEARCH_TOOLS,
        "Find the PingOne actions for a need, best first: id, signature `(args) => result`, one-line description, \
         a note where the action has a catch to know before calling it, and whether it writes. A list returns Page<T> = { items: T[], count, cursor }, or with `all: true` every \
         item as T[]. Cheap: call it freely.",
        object(json!({
            "type": "object",
            "properties": {
                "query": { "type": "string", "description": "The need in plain words, e.g. \"disable a user\"." },
                "limit": { "type": "integer", "minimum": 1, "maximum": MAX_SEARCH_LIMIT, "description": format!("How many actions to return (default {SEARCH_LIMIT}).") }
            },
            "required": ["query"],
            "additionalProperties": false
        })),
    )
    .with_title("Search PingOne actions")
    .with_annotations(ToolAnnotations::new().read_only(true).destructive(false).idempotent(true).open_world(false))
}

/// Annotations follow the policy: read-only unless writes are on, destructive only
/// when destructive actions are allowed.
pub fn execute_tool(writes_allowed: bool, destructive_allowed: bool) -> Tool {
    let annotations = ToolAnnotations::new().read_only(!writes_allowed).destructive(destructive_allowed).idempotent(!writes_allowed).open_world(true);
    Tool::new(
        EXECUTE,
        "Run JavaScript (top-level await and return) in which every PingOne action is an async function on \
         `pingone`. Only the return value and console output come back: filter and count in the script. \
         End with `return`. No Intl; the clock is UTC.",
        object(json!({
            "type": "object",
            "properties": {
                "code": { "type": "string", "description": "A function body, or an async arrow function." }
            },
            "required": ["code"],
            "additionalProperties": false
        })),
    )
    .with_title("Run a PingOne script")
    .with_annotations(annotations)
}

/// One action as an ordinary MCP tool (tools mode).
pub fn action_tool(action: &Action) -> Tool {
    let annotations = ToolAnnotations::new()
        .read_only(action.read_only)
        .destructive(action.may_be_destructive())
        .idempotent(action.idempotent)
        .open_world(true);
    Tool::new(action.id.clone(), action.description.trim().to_owned(), object(action_input_schema(action)))
        .with_title(action.title.clone())
        .with_annotations(annotations)
}

/// JSON Schema of an action's arguments, from the catalog.
pub fn action_input_schema(action: &Action) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for param in &action.params {
        properties.insert(param.name.clone(), param_schema(param));
        if param.required {
            required.push(Value::String(param.name.clone()));
        }
    }
    if action.is_list() {
        properties.insert("all".into(), json!({ "type": "boolean", "description": "Return every item of every page as one array." }));
    }
    json!({ "type": "object", "properties": properties, "required": required, "additionalProperties": action.body_open })
}

fn param_schema(param: &Param) -> Value {
    let mut schema = Map::new();
    schema.insert("type".into(), json!(param.ty.as_str()));
    if !param.description.is_empty() {
        schema.insert("description".into(), json!(param.description.trim()));
    }
    if param.ty == ParamType::Array {
        let mut items = json!({ "type": param.items.unwrap_or(ParamType::String).as_str() });
        if !param.allowed.is_empty() {
            items["enum"] = json!(param.allowed);
        }
        schema.insert("items".into(), items);
    } else if !param.allowed.is_empty() {
        schema.insert("enum".into(), json!(param.allowed));
    }
    if param.ty == ParamType::Object && !param.properties.is_empty() {
        let properties: Map<String, Value> = param.properties.iter().map(|p| (p.name.clone(), param_schema(p))).collect();
        let required: Vec<&str> = param.properties.iter().filter(|p| p.required).map(|p| p.name.as_str()).collect();
        schema.insert("properties".into(), Value::Object(properties));
        schema.insert("required".into(), json!(required));
    }
    Value::Object(schema)
}
