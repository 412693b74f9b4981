//! `pingone-mcp simulator`: run the built-in PingOne simulator standalone.

use std::process::ExitCode;

use pingone_mcp::simulator::cli::{self, SimulatorArgs};

pub async fn run(args: SimulatorArgs) -> anyhow::Result<ExitCode> {
    cli::run(args).await?;
    Ok(ExitCode::SUCCESS)
}
