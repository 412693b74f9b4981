//! `pingone-mcp search QUERY [--limit N] [--json]`: the actions that fit a need.

use std::process::ExitCode;

use pingone_mcp::search::{found, hit_json, no_match_note, nothing_fits_note, read_as_note, Hit, SearchIndex, SignatureStyle};
use serde_json::json;

use super::load_catalog;
use crate::cli::{GlobalArgs, SearchArgs};
use crate::output::{note, print, print_json};

pub fn run(global: &GlobalArgs, args: SearchArgs) -> anyhow::Result<ExitCode> {
    let catalog = load_catalog(global)?;
    let index = SearchIndex::new(&catalog);
    let query = args.query.join(" ");
    let found = found(&catalog, &index, &query, args.limit);
    // After the search, so a model that failed to load is known.
    if let Some(warning) = index.warning() {
        note(&warning);
    }
    if let Some(read_as) = &found.read_as {
        note(&read_as_note(read_as));
    }
    if found.hits.is_empty() {
        note(&format!("{}; `pingone-mcp actions list` shows every action", no_match_note(&query)));
    } else if found.nothing_fits.is_some() {
        note(&nothing_fits_note(&query));
    }
    let hits = found.hits;
    if args.json {
        let rows: Vec<_> = hits
            .iter()
            .map(|(a, hit)| {
                let mut row = hit_json(a, SignatureStyle::Full);
                row["score"] = json!((hit.score * 1000.0).round() / 1000.0);
                // null when ranking is lexical only: the encoder is missing.
                row["similarity"] = json!(hit.similarity.map(|s| (f64::from(s) * 1000.0).round() / 1000.0));
                row
            })
            .collect();
        print_json(&json!(rows));
        return Ok(ExitCode::SUCCESS);
    }
    for (action, Hit { score, .. }) in &hits {
        print(&format!("{score:>6.2}  {:<46} {:<13} {}", action.id, action.kind(), action.title));
        if let Some(note) = &action.note {
            print(&format!("        note: {note}"));
        }
    }
    Ok(ExitCode::SUCCESS)
}
