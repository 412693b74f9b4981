//! What `run` adds to a stopped run's account (`pingone_mcp::mcp::account`): the
//! option that raises the limit that stopped it.

use pingone_mcp::sandbox::{ExecutionError, Limit};

/// The command-line option that raises the limit that stopped a run, if it has one.
pub fn raise_with(error: &ExecutionError) -> Option<&'static str> {
    match error {
        ExecutionError::Limit { limit: Limit::WallTime, .. } => Some("--timeout SECONDS raises the wall-time limit"),
        ExecutionError::Limit { limit: Limit::HostCalls, .. } => Some("--max-calls N raises the action-call limit"),
        ExecutionError::Limit { limit: Limit::ResultSize, .. } => Some("--max-result-mib N raises the result-size limit"),
        _ => None,
    }
}
