//! pingone-mcp: a Code-Mode MCP server for PingOne. The modules follow the one-way
//! data flow of DESIGN.md: catalog -> pingone client -> (sandbox, mcp).

pub mod catalog;
pub mod config;
pub mod pingone;
pub mod secret;
pub mod simulator;
