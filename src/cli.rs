//! Command-line flags, as close to what the user types as possible.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// A Code-Mode MCP server for PingOne: agents find actions with `search_tools` and
/// run JavaScript that calls them with `execute`.
#[derive(Debug, Parser)]
#[command(name = "pingone-mcp", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Extra directory of action YAML files, loaded after the built-in ones (repeatable).
    #[arg(long = "actions-dir", value_name = "DIR", global = true)]
    pub actions_dirs: Vec<PathBuf>,
    /// Configuration file of named profiles [default: ~/.config/pingone-mcp/config.toml].
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// Profile of the configuration file to use (e.g. dev, staging, prod).
    #[arg(long, global = true, env = "PINGONE_PROFILE")]
    pub profile: Option<String>,
    /// More logging on stderr (-v info, -vv debug). PINGONE_MCP_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect and check the action catalog.
    #[command(subcommand)]
    Actions(ActionsCommand),
    /// Call one action and print its JSON result.
    Call(CallArgs),
    /// Run the built-in PingOne simulator and print how to connect to it.
    Simulator(pingone_mcp::simulator::cli::SimulatorArgs),
}

#[derive(Debug, Subcommand)]
pub enum ActionsCommand {
    /// List every action: id, method, path and flags.
    List {
        /// Print a JSON array of objects (id, title, group, method, path, host, read_only, destructive, idempotent).
        #[arg(long)]
        json: bool,
    },
    /// Show one action in full: parameters, result, flags and an example.
    Show {
        /// The action id, e.g. list_users.
        id: String,
    },
    /// Print TypeScript declarations of every action's arguments and result.
    Types,
    /// Validate action files without running anything (the built-ins, plus DIRs).
    Check {
        /// Directories of *.yaml action files to validate.
        dirs: Vec<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The action id, e.g. list_users (see `pingone-mcp actions list`).
    pub id: String,
    /// The arguments as a JSON object, e.g. '{"filter": "enabled eq false", "all": true}'.
    #[arg(long, default_value = "{}")]
    pub args: String,
    /// Print the result as compact JSON on one line.
    #[arg(long)]
    pub compact: bool,
}
