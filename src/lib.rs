//! pingone-mcp: a Code-Mode MCP server for PingOne. The modules follow the one-way
//! data flow of DESIGN.md: catalog -> search; sandbox -> dispatch -> pingone client.

pub mod auth;
pub mod catalog;
pub mod config;
pub mod defender;
pub mod dispatch;
pub mod email;
pub mod json_strings;
pub mod mcp;
pub mod onnx;
pub mod pingone;
pub mod resource_server;
pub mod scim_filter;
pub mod policy;
pub mod private_file;
pub mod sandbox;
pub mod search;
pub mod secret;
pub mod simulator;
pub mod stop_signal;
pub mod trim;
pub mod wordpiece;
