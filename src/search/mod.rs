//! Finding actions for a need, as administrators phrase it: BM25 over each action's
//! id, title, group, description and parameter names, with the query widened by
//! identity-admin vocabulary, and re-ranked by how well the action's id covers the
//! query and whether its operation (get, list, create, update, delete) fits.

mod bm25;
mod index;
mod intent;
mod tokens;
mod vocabulary;

pub use index::{Hit, SearchIndex, Weights};
pub use tokens::tokens;
