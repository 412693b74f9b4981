//! The `pingone-mcp` command line.

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_tracing(cli.global.verbose);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            output::error(&format!("cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            output::error(&format!("{e:#}"));
            ExitCode::FAILURE
        }
    };
    pingone_mcp::onnx::wait_for_background();
    code
}

/// Logs go to stderr: stdout carries results (and, for `serve`, the protocol).
fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,pingone_mcp=info",
        // rmcp logs each request whole at debug, tool arguments (passwords) included.
        _ => "debug,pingone_mcp=debug,hyper=info,reqwest=info,rmcp=info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PINGONE_MCP_LOG").unwrap_or_else(|_| default.into());
    // Colour only for a person at a terminal: MCP clients and log files get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).init();
}
