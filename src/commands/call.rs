//! `pingone-mcp call ID --args JSON`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use pingone_mcp::catalog::check_args;
use pingone_mcp::config::ConfigFile;
use pingone_mcp::dispatch::action_error;
use pingone_mcp::defender::OwnTexts;
use pingone_mcp::mcp::{action_error_text, screen_action_error, screen_value};
use pingone_mcp::pingone::{CallOptions, ClientError, PingOneClient, RetryPolicy};

use super::actions::unknown_action;
use super::{connect, load_catalog};
use crate::cli::{CallArgs, GlobalArgs};
use crate::output::{error, log_line, print};

pub async fn run(global: &GlobalArgs, args: CallArgs) -> anyhow::Result<ExitCode> {
    let catalog = load_catalog(global)?;
    let Some(action) = catalog.get(&args.id) else {
        bail!("{}", unknown_action(&catalog, &args.id));
    };
    let call_args: serde_json::Value = serde_json::from_str(&args.args)
        .with_context(|| format!("--args is not valid JSON; pass an object such as '{}'", action.example))?;
    // Checked before any configuration or network is touched.
    check_args(action, &call_args)?;
    let file = ConfigFile::load(global.config.as_deref())?;
    let (conn, _simulator) = connect(global, &file, &args.simulator).await?;
    let client = PingOneClient::new(conn, RetryPolicy::default())?;
    // What is printed is scanned, as tools mode scans what returns to the model: the
    // result, and PingOne's error texts, which can echo the values of records.
    let defender = Arc::new(args.defender.load()?);
    match client.call(action, &call_args, &CallOptions::default()).await {
        Ok(value) => {
            let (value, notices) = screen_value(value, &defender, OwnTexts::default()).await;
            warn_all(&notices);
            let text = if args.compact { serde_json::to_string(&value)? } else { serde_json::to_string_pretty(&value)? };
            print(&text);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            // Every failure's text is scanned: besides PingOne's answers, an unknown
            // outcome quotes the error body of the 5xx that left it unknown.
            let mut failure = action_error(&args.id, &e);
            let notices = screen_action_error(&mut failure, &defender).await;
            error(&action_error_text(&args.id, &failure));
            warn_all(&notices);
            // 2: PingOne refused the call; 1: it could not be made, or its outcome is unknown.
            Ok(if matches!(e, ClientError::Api { .. }) { ExitCode::from(2) } else { ExitCode::FAILURE })
        }
    }
}

fn warn_all(notices: &[String]) {
    for notice in notices {
        log_line("warn", notice);
    }
}
