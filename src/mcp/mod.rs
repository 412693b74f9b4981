//! The MCP server: `search_tools` and `execute` (code mode), or every action as its
//! own tool (tools mode), over stdio or streamable HTTP.

mod confirm;
mod http;
mod observe;
mod quota;
mod reply;
mod server;
mod stdio;
mod tools;

pub mod account;

pub use http::{bind, check_exposure, check_origins, serve_http, HttpOptions, METADATA_PATH};
pub use observe::{CallSummary, ObservedHost, DRY_RUN_NEEDS};
pub use quota::DEFAULT_PER_CALLER as SCRIPTS_PER_CALLER;
pub use reply::{action_error_text, action_reply, add_own_texts, execute_reply, Failure, screen, screen_action_error, screen_found, screen_targets, screen_value, screen_value_found, withheld_json, Reader, DEFENDER_NOTICE};
pub use server::{search_reply, Mode, SEARCH_LIMIT, PingOneMcp, ServerOptions, instructions};
pub use tools::{action_tool, execute_tool, search_tool};
pub use tools::action_input_schema;
