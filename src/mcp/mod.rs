//! The MCP server: `search_tools` and `execute` (code mode), or every action as its
//! own tool (tools mode), over stdio or streamable HTTP.

mod http;
mod observe;
mod server;
mod tools;

pub use http::{serve_http, HttpOptions};
pub use server::{Mode, PingOneMcp, INSTRUCTIONS};
pub use tools::action_input_schema;
