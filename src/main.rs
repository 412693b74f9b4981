//! The `pingone-mcp` command line.

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // A wrong command line exits apart from anything PingOne answers (clap's own 2 is
    // `call`'s "PingOne refused"); help and version are no error.
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            if !e.use_stderr() {
                return ExitCode::SUCCESS;
            }
            // A program that asked for JSON gets JSON, however the line was wrong (review 59 L1).
            if std::env::args().skip(1).any(|arg| arg == "--json") {
                output::print_json(&serde_json::json!({ "ok": false, "code": "USAGE", "error": usage_error(&e), "sent": false }));
            }
            return commands::exit_status::exit(commands::exit_status::USAGE);
        }
    };
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
    // Not a plain drop, which waits for every blocking task: a stdio server stopped by
    // a signal still has one reading its stdin, which may never end.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    pingone_mcp::onnx::wait_for_background();
    code
}

/// Crates whose debug logs carry whole requests and replies (an MCP tool call's
/// arguments: a script with a password in it; HTTP headers).
const WHOLE_REQUEST_LOGGERS: [&str; 4] = ["rmcp", "hyper", "h2", "reqwest"];

/// `PINGONE_MCP_LOG`'s filter with those crates kept at info unless it names them
/// itself: `debug` must not log the secrets an agent sends.
fn without_whole_requests(filter: &str) -> String {
    let capped = WHOLE_REQUEST_LOGGERS.iter().filter(|name| !filter.contains(*name)).map(|name| format!(",{name}=info"));
    std::iter::once(filter.trim().to_owned()).chain(capped).collect()
}

/// Logs go to stderr: stdout carries results (and, for `serve`, the protocol).
fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,pingone_mcp=info",
        // rmcp logs each request whole at debug, tool arguments (passwords) included.
        _ => "debug,pingone_mcp=debug,hyper=info,reqwest=info,rmcp=info",
    };
    let filter = std::env::var("PINGONE_MCP_LOG")
        .ok()
        .and_then(|asked| tracing_subscriber::EnvFilter::try_new(without_whole_requests(&asked)).ok())
        .unwrap_or_else(|| default.into());
    // Colour only for a person at a terminal: MCP clients and log files get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).init();
}

/// The first line of clap's message, as plain text: "unexpected argument '--bogus' found".
fn usage_error(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_owned()
}
