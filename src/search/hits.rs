//! Search hits as the callers show them: one builder for the model's `search_tools`
//! reply (compact signatures), a script's `pingone.search` and the CLI (full ones).

use serde_json::{json, Value};

use super::{Hit, SearchIndex};
use crate::catalog::{action_signature, compact_signature, Action, Catalog};

/// How much of an action's signature a hit shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureStyle {
    /// Short enough to list several actions, beside the id (see `compact_signature`).
    Compact,
    /// Everything, for a script that inspects it or a person reading the CLI.
    Full,
}

/// The best actions for a query, best first, with their scores.
pub struct Found<'c> {
    pub hits: Vec<(&'c Action, Hit)>,
    /// The best cosine of any action, when the encoder judged that none fits closely.
    pub nothing_fits: Option<f32>,
    /// The query as ranked, when mistyped words in it were mended.
    pub read_as: Option<String>,
}

/// The best `limit` actions for `query`.
pub fn found<'c>(catalog: &'c Catalog, index: &SearchIndex, query: &str, limit: usize) -> Found<'c> {
    let ranked = index.find(query, limit);
    Found { hits: ranked.hits.into_iter().filter_map(|hit| Some((catalog.get(&hit.id)?, hit))).collect(), nothing_fits: ranked.nothing_fits, read_as: ranked.read_as }
}

/// What the actions cover, for a reader whose need may lie outside it.
const SCOPE: &str = "the actions here manage PingOne users, groups, populations, applications, roles, sign-on, password, MFA and FIDO2 policies, MFA settings, identity providers, certificates and API resources; not environments, branding, notification templates, schema attributes, signing keys, gateways, flows, other PingOne products or systems outside PingOne";

/// What a reader is told when mistyped words of a query were mended before ranking.
pub fn read_as_note(read_as: &str) -> String {
    format!("searched for \"{read_as}\" (mistyped words mended)")
}

/// What a reader is told when no action fits `query` closely, beside the nearest.
pub fn nothing_fits_note(query: &str) -> String {
    format!(
        "no action fits \"{query}\" closely: {SCOPE}. If the need is one of theirs, one of the nearest actions listed may still do it (read its description first); if not, tell the user it cannot be done with these actions"
    )
}

/// What a reader is told when no action matches `query` at all.
pub fn no_match_note(query: &str) -> String {
    format!("no action matches \"{query}\": {SCOPE}. If the need is one of theirs, try other words (the resource and what to do with it); if not, tell the user it cannot be done with these actions")
}

/// The actions an unknown id was likely meant to be, at most `limit`: typos of it
/// first, then what search finds for its words ("disable_user" finds
/// update_user_enabled_status, where shared words alone would offer delete_user).
pub fn meant<'c>(catalog: &'c Catalog, index: &SearchIndex, unknown: &str, limit: usize) -> Vec<&'c str> {
    let mut ids = catalog.typo_ids(unknown);
    for (action, _) in found(catalog, index, &unknown.replace('_', " "), limit).hits {
        if !ids.contains(&action.id.as_str()) {
            ids.push(&action.id);
        }
    }
    ids.truncate(limit);
    ids
}

/// One hit: its id, signature, the first sentence of its description, its `note`
/// when it has one, and `writes` / `destructive` only when true (a reader takes
/// absence as false); `destructive` says when, for an action only some values make
/// destructive (`"when mfaEnabled is false"`).
pub fn hit_json(action: &Action, style: SignatureStyle) -> Value {
    let signature = match style {
        SignatureStyle::Compact => compact_signature(action),
        SignatureStyle::Full => action_signature(action),
    };
    let summary = action.summary();
    let mut hit = json!({ "id": action.id, "signature": signature, "description": summary });
    if let Some(note) = &action.note {
        hit["note"] = json!(note);
    }
    if action.writes() {
        hit["writes"] = json!(true);
    }
    if let Some(when) = action.destructive_when() {
        hit["destructive"] = json!(when);
    } else if action.may_be_destructive() {
        hit["destructive"] = json!(true);
    }
    hit
}

/// The hits for `query` in `style`, best first.
pub fn hits_json(catalog: &Catalog, index: &SearchIndex, query: &str, limit: usize, style: SignatureStyle) -> Vec<Value> {
    found(catalog, index, query, limit).hits.into_iter().map(|(action, _)| hit_json(action, style)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Turning MFA on is an ordinary write: the hit says which value is destructive, so
    /// an agent onboarding users does not take it for one that needs --allow-destructive
    /// (review 30).
    #[test]
    fn a_hit_says_when_only_some_values_are_destructive() {
        let catalog = crate::catalog::load_builtin().expect("the built-in catalog loads");
        let hit = |id: &str| hit_json(catalog.get(id).expect("a built-in action"), SignatureStyle::Compact);
        assert_eq!(hit("update_user_mfa_enabled")["destructive"], "when mfaEnabled is false");
        assert_eq!(hit("delete_user")["destructive"], true);
        assert!(hit("get_user").get("destructive").is_none());
    }
}
