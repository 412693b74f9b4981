//! Finding actions for a need, as administrators phrase it.
//!
//! A query goes through four steps, after mistyped words are mended (`spelling`):
//! 1. `tokens`: words, lower-cased and lightly stemmed; possessives ("john's") marked.
//! 2. `vocabulary`: identity-admin phrases ("2FA", "team", "segment", "kick … out",
//!    "admin rights") add the catalog's own terms and say which operation is meant.
//! 3. `intent`: the operation (create, get, list, update, delete), where a read is a
//!    list when the query speaks of many things ("all", "which groups") and a get
//!    otherwise ("john's account", "this group").
//! 4. `index`: BM25 (`bm25`) over each action's id, title, group, description and
//!    parameter names, plus how much of the action's id the query names and whether
//!    the action's operation fits, plus a weighted cosine of query and action from a
//!    small fine-tuned sentence encoder (`semantic`), which catches what the words
//!    miss ("add facebook login" is an identity provider). The weights were chosen on
//!    the tuning split of `tests/data/search_queries.tsv`; `tests/search_quality.rs`
//!    reports and guards Hit@1 and Hit@5 on both splits.
//!
//! When the best cosine of any action is under a cut, no action fits the query closely
//! and the callers say so beside the hits (`nothing_fits_note`): the encoder was trained
//! to put needs the catalog does not meet there (`tests/data/search_unmatched.tsv`
//! measures it).

mod bm25;
mod hits;
mod index;
mod intent;
mod semantic;
mod spelling;
mod tokens;
mod vocabulary;

pub use hits::{found, hit_json, hits_json, meant, no_match_note, nothing_fits_note, read_as_note, Found, SignatureStyle};
pub use index::{Hit, Ranked, SearchIndex, Weights};
pub use semantic::{action_text, Encoder, MODEL_VARIABLE};
pub use tokens::tokens;
