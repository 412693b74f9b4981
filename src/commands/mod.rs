//! One function per subcommand.

mod actions;
mod call;
mod run;
mod scan;
mod serve;

use std::process::ExitCode;

use std::sync::Arc;

use anyhow::Context;
use pingone_mcp::config::{resolve, ConfigFile};
use pingone_mcp::dispatch::{Backend, Cassette, Replay};
use pingone_mcp::pingone::{PingOneClient, RetryPolicy};
use pingone_mcp::catalog::{load_builtin, load_dir, Catalog, CatalogError};

use crate::cli::{Cli, Command, GlobalArgs};

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Actions(command) => actions::run(&cli.global, command),
        Command::Call(args) => call::run(&cli.global, args).await,
        Command::Run(args) => run::run(&cli.global, args).await,
        Command::Scan(args) => scan::run(args),
        Command::Serve(args) => serve::run(&cli.global, args).await,
    }
}

/// The built-in catalog plus every `--actions-dir`.
pub fn load_catalog(global: &GlobalArgs) -> anyhow::Result<Catalog> {
    let mut catalog = load_builtin().map_err(catalog_errors).context("the built-in action catalog is invalid")?;
    for dir in &global.actions_dirs {
        let files = load_dir(dir).map_err(catalog_errors)?;
        catalog.add_files(&files).map_err(catalog_errors).with_context(|| format!("cannot load actions from {}", dir.display()))?;
    }
    Ok(catalog)
}

/// Where action calls go: a cassette when replaying, else the configured PingOne.
pub fn backend(global: &GlobalArgs, replay: Option<&std::path::Path>) -> anyhow::Result<Backend> {
    Ok(match replay {
        Some(path) => Backend::Replay(Arc::new(Replay::new(Cassette::load(path)?))),
        None => {
            let file = ConfigFile::load(global.config.as_deref())?;
            Backend::Live(PingOneClient::new(resolve(&file, global.profile.as_deref())?, RetryPolicy::default())?)
        }
    })
}

pub fn catalog_errors(errors: Vec<CatalogError>) -> anyhow::Error {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    anyhow::anyhow!("{} problem(s) in action files:\n  {}", errors.len(), lines.join("\n  "))
}
