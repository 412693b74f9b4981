//! `pingone-mcp actions list|show|types|check|format`.

use std::process::ExitCode;

use anyhow::bail;
use pingone_mcp::catalog::{action_signature, declarations, load_dir, Catalog};
use pingone_mcp::search::{meant, SearchIndex};
use serde_json::json;

use super::{add_action_dirs, catalog_errors, load_catalog};
use crate::cli::{ActionsCommand, GlobalArgs};
use crate::output::{print, print_json};

pub fn run(global: &GlobalArgs, command: ActionsCommand) -> anyhow::Result<ExitCode> {
    match &command {
        ActionsCommand::Check { dirs } => return check(global, dirs),
        // The format needs no catalog: it is how to write one.
        ActionsCommand::Format => {
            print(pingone_mcp::catalog::FILE_FORMAT);
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let catalog = load_catalog(global)?;
    match command {
        ActionsCommand::List { json: true } => {
            let rows: Vec<_> = catalog
                .actions()
                .map(|a| {
                    json!({
                        "id": a.id, "title": a.title, "group": a.group, "method": a.method.as_str(),
                        "path": a.path, "host": a.host, "read_only": a.read_only,
                        "destructive": a.may_be_destructive(), "grants_access": a.grants_access, "idempotent": a.idempotent,
                    })
                })
                .collect();
            print_json(&json!(rows));
        }
        ActionsCommand::List { json: false } => {
            for a in catalog.actions() {
                print(&format!("{:<46} {:<6} {:<13} {}", a.id, a.method.as_str(), a.kind(), a.path));
            }
            print(&format!("\n{} actions", catalog.len()));
        }
        ActionsCommand::Show { id } => show(&catalog, &id)?,
        ActionsCommand::Types => print(&declarations(&catalog)),
        ActionsCommand::Check { .. } | ActionsCommand::Format => unreachable!("handled above"),
    }
    Ok(ExitCode::SUCCESS)
}

fn show(catalog: &Catalog, id: &str) -> anyhow::Result<()> {
    let Some(action) = catalog.get(id) else {
        bail!("{}", unknown_action(catalog, id));
    };
    print(&format!("{} — {}\n", action.id, action.title));
    print(&format!("{}\n", action.description.trim()));
    let host = match action.host {
        pingone_mcp::catalog::Host::Api => "management API",
        pingone_mcp::catalog::Host::Auth => "auth host",
    };
    print(&format!("{} {} ({host})", action.method.as_str(), action.path));
    if let Some(ct) = &action.content_type {
        print(&format!("Content-Type: {ct}"));
    }
    print(&format!("read_only: {}  destructive: {}  grants_access: {}  idempotent: {}\n", action.read_only, action.may_be_destructive(), action.grants_access, action.idempotent));
    print(&format!("signature: {}", action_signature(action)));
    if action.is_list() {
        print("returns: one page, { items, count, cursor } (count is every match; pass cursor back for the next); with all: true, every item as a plain array (in a script, up to about 4 MB; past it, page with pingone.iterate)");
    }
    print("");
    print("parameters:");
    for p in &action.params {
        let location = p.location.map(|l| format!("{l:?}").to_lowercase()).unwrap_or_default();
        let required = if p.required { "required" } else { "optional" };
        let allowed = if p.allowed.is_empty() { String::new() } else { format!(" one of {}", serde_json::to_string(&p.allowed)?) };
        print(&format!("  {:<24} {:<6} {:<8} {}{allowed}  {}", p.name, location, p.ty.as_str(), required, p.description.trim()));
    }
    let flags = if action.is_destructive_call(&action.example) { " --allow-writes --allow-destructive" } else if action.writes() { " --allow-writes" } else { "" };
    print(&format!("\nexample: pingone-mcp call {}{flags} --args '{}'", action.id, action.example));
    Ok(())
}

pub fn unknown_action(catalog: &Catalog, id: &str) -> String {
    let similar = meant(catalog, &SearchIndex::new(catalog), id, 5);
    let hint = if similar.is_empty() { String::new() } else { format!(" Did you mean: {}?", similar.join(", ")) };
    format!("unknown action `{id}`.{hint} `pingone-mcp actions list` shows every action.")
}

fn check(global: &GlobalArgs, dirs: &[std::path::PathBuf]) -> anyhow::Result<ExitCode> {
    // The source of the built-in catalog, being edited: checked on its own, as the
    // next build will load it (against the built-ins, every id would be a duplicate).
    if let [dir] = dirs {
        let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("actions");
        if dir.canonicalize().ok().is_some_and(|d| source.canonicalize().ok() == Some(d)) {
            let mut catalog = pingone_mcp::catalog::Catalog::default();
            catalog.add_files(&load_dir(dir).map_err(catalog_errors)?).map_err(catalog_errors)?;
            print(&format!("ok: {} actions (the built-in catalog's source, checked on its own)", catalog.len()));
            return Ok(ExitCode::SUCCESS);
        }
    }
    // The built-ins (and any --actions-dir) first, so clashes with them are caught.
    let mut catalog = pingone_mcp::catalog::load_builtin().map_err(catalog_errors)?;
    let builtin = catalog.len();
    add_action_dirs(&mut catalog, global.actions_dirs.iter().chain(dirs))?;
    print(&format!("ok: {} actions ({} built-in, {} from the directories)", catalog.len(), builtin, catalog.len() - builtin));
    Ok(ExitCode::SUCCESS)
}
