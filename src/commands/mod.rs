//! One function per subcommand.

mod actions;
mod call;
mod run;
mod search;

use std::process::ExitCode;

use anyhow::Context;
use pingone_mcp::catalog::{load_builtin, load_dir, Catalog, CatalogError};

use crate::cli::{Cli, Command, GlobalArgs};

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Actions(command) => actions::run(&cli.global, command),
        Command::Call(args) => call::run(&cli.global, args).await,
        Command::Run(args) => run::run(&cli.global, args).await,
        Command::Search(args) => search::run(&cli.global, args),
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

pub fn catalog_errors(errors: Vec<CatalogError>) -> anyhow::Error {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    anyhow::anyhow!("{} problem(s) in action files:\n  {}", errors.len(), lines.join("\n  "))
}
