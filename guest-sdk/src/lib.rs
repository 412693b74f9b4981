//! What the pingone-mcp host and its JavaScript guest agree on: the host-call ABI
//! (imports, exports, wire types) and the JavaScript prelude that turns host calls
//! into `pingone.<action>(args)` functions.
//!
//! Compiled into both sides, so a change here changes both at once; `ABI_VERSION`
//! guards against a cached guest from an older build.

pub mod abi;

/// The prelude evaluated once in the guest (and snapshotted by wizer).
pub const PRELUDE: &str = include_str!("prelude.js");
