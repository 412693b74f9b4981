//! `pingone-mcp search QUERY [--limit N] [--json]`: the actions that fit a need.

use std::process::ExitCode;

use pingone_mcp::search::{found, hit_json, SearchIndex, SignatureStyle};
use serde_json::json;

use super::load_catalog;
use crate::cli::{GlobalArgs, SearchArgs};
use crate::output::{print, print_json};

pub fn run(global: &GlobalArgs, args: SearchArgs) -> anyhow::Result<ExitCode> {
    let catalog = load_catalog(global)?;
    let index = SearchIndex::new(&catalog);
    let query = args.query.join(" ");
    let hits = found(&catalog, &index, &query, args.limit);
    if args.json {
        let rows: Vec<_> = hits
            .iter()
            .map(|(a, score)| {
                let mut hit = hit_json(a, SignatureStyle::Full);
                hit["score"] = json!((score * 1000.0).round() / 1000.0);
                hit
            })
            .collect();
        print_json(&json!(rows));
        return Ok(ExitCode::SUCCESS);
    }
    if hits.is_empty() {
        print(&format!("no action matches `{query}`; `pingone-mcp actions list` shows every action"));
        return Ok(ExitCode::SUCCESS);
    }
    for (action, score) in &hits {
        let flag = if action.destructive { "destructive" } else if action.read_only { "read-only" } else { "write" };
        print(&format!("{score:>6.2}  {:<46} {:<11} {}", action.id, flag, action.title));
    }
    Ok(ExitCode::SUCCESS)
}
