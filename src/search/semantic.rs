//! The learned half of the ranking: a small sentence encoder (`models/search.int8.onnx`,
//! two layers of all-MiniLM-L6-v2 fine-tuned on admin-phrased needs, see
//! `models/search/MODEL_CARD.md`) maps a query and each action to a unit vector, and
//! their cosine says how well the action fits, whatever words either uses ("add
//! facebook login" fits `create_identity_provider`).
//!
//! The model is loaded and the actions embedded once: at the first query, or before it
//! on a thread of their own (`preload`, which the server calls), so building the index
//! and the server's start do not wait for them. When the model or
//! `libonnxruntime` is missing, or loading fails, search ranks lexically and
//! [`Semantic::warning`] says so.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use crate::catalog::Action;
use crate::onnx::{find_library, find_model, Fusion, Model, ModelError};

/// Where the model is looked for first (see [`crate::onnx::find_model`]).
pub const MODEL_VARIABLE: &str = "PINGONE_MCP_SEARCH_MODEL";
pub(super) const MODEL_FILE: &str = "search.int8.onnx";
/// Tokens of a query or action text, [CLS] and [SEP] included (the training window).
const MAX_TOKENS: usize = 128;

/// The encoder: one unit vector per text.
#[derive(Debug)]
pub struct Encoder {
    model: Model,
}

impl Encoder {
    /// The model found by [`crate::onnx::find_model`] under [`MODEL_VARIABLE`].
    pub fn load_default() -> Result<Self, ModelError> {
        Ok(Encoder { model: Model::load_default(MODEL_VARIABLE, MODEL_FILE, Fusion::AtLoad)? })
    }

    pub fn load(library: &std::path::Path, model: &std::path::Path, tokenizer: &std::path::Path) -> Result<Self, ModelError> {
        Ok(Encoder { model: Model::load(library, model, tokenizer, Fusion::AtLoad)? })
    }

    /// The embedding of each text, unit length (the model normalises).
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        let mut rows = Vec::with_capacity(texts.len());
        for text in texts {
            let ids = self.model.encode(text)?.ids;
            let mut row = Vec::with_capacity(ids.len().min(MAX_TOKENS - 2) + 2);
            row.push(self.model.cls);
            row.extend_from_slice(&ids[..ids.len().min(MAX_TOKENS - 2)]);
            row.push(self.model.sep);
            rows.push(row);
        }
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let flat = self.model.run(rows.iter().map(Vec::as_slice), "embedding")?;
        let width = flat.len() / rows.len();
        Ok(flat.chunks(width).map(<[f32]>::to_vec).collect())
    }
}

/// What the encoder reads of an action: its title and the first sentence of its
/// description. The training script (`models/search/train.py`, `action_text`) builds
/// the same text; the two must not drift apart.
pub fn action_text(action: &Action) -> String {
    let description = action.description.split_whitespace().collect::<Vec<_>>().join(" ");
    let first = description.split(". ").next().unwrap_or("").trim_end_matches('.');
    format!("{}. {first}.", action.title)
}

/// The encoder and the catalog's action vectors, loaded and computed once; a query
/// before they are ready waits for them.
#[derive(Debug, Clone)]
pub struct Semantic {
    ready: Arc<OnceLock<Result<Ready, String>>>,
    /// What loading needs, taken by whichever thread loads first.
    pending: Arc<Mutex<Option<Pending>>>,
}

#[derive(Debug)]
struct Pending {
    source: Source,
    /// The action texts to embed.
    texts: Vec<String>,
}

#[derive(Debug)]
struct Ready {
    encoder: Encoder,
    actions: Vec<Vec<f32>>,
}

#[derive(Debug)]
enum Source {
    Files { library: PathBuf, model: PathBuf, tokenizer: PathBuf },
    Loaded(Box<Result<Encoder, ModelError>>),
}

impl Semantic {
    /// The model found by [`crate::onnx::find_library`] and [`crate::onnx::find_model`].
    /// Only the files are looked for here (cheap); loading them and embedding `actions`
    /// wait for the first query or [`Semantic::preload`].
    pub fn load_default(actions: &[&Action]) -> Self {
        let source = match (find_library(), find_model(MODEL_VARIABLE, MODEL_FILE)) {
            (None, _) => Source::Loaded(Box::new(Err(ModelError::NoLibrary))),
            (Some(path), _) if !path.is_file() => Source::Loaded(Box::new(Err(ModelError::Library { path, message: "no such file".into() }))),
            (_, None) => Source::Loaded(Box::new(Err(ModelError::NoModel { variable: MODEL_VARIABLE, file: MODEL_FILE }))),
            (Some(library), Some((model, tokenizer))) => Source::Files { library, model, tokenizer },
        };
        Self::start(source, actions)
    }

    /// With `encoder` given (or the error loading it).
    pub fn with_encoder(encoder: Result<Encoder, ModelError>, actions: &[&Action]) -> Self {
        Self::start(Source::Loaded(Box::new(encoder)), actions)
    }

    fn start(source: Source, actions: &[&Action]) -> Self {
        let failed = matches!(&source, Source::Loaded(loaded) if loaded.is_err());
        let texts = actions.iter().map(|a| action_text(a)).collect();
        let semantic = Semantic { ready: Arc::new(OnceLock::new()), pending: Arc::new(Mutex::new(Some(Pending { source, texts }))) };
        if failed {
            semantic.ready();
        }
        semantic
    }

    /// Load the model and embed the actions on a thread of their own now, rather than
    /// at the first query (the server does, so its first `search_tools` is quick; a
    /// one-off command does not, and never loads a model it does not use).
    pub fn preload(&self) {
        if self.ready.get().is_some() {
            return;
        }
        let loading = self.clone();
        crate::onnx::spawn_background("search-encoder", move || {
            loading.ready();
        });
    }

    fn ready(&self) -> &Result<Ready, String> {
        self.ready.get_or_init(|| {
            let pending = self.pending.lock().ok().and_then(|mut p| p.take());
            let Pending { source, texts } = pending.ok_or("the search encoder failed to load earlier")?;
            // A missing file is reported by whoever asks for `warning` at once; a load
            // that fails later, perhaps on a background thread, is logged here too.
            let loads = matches!(source, Source::Files { .. });
            let encoder = match source {
                Source::Files { library, model, tokenizer } => Encoder::load(&library, &model, &tokenizer),
                Source::Loaded(encoder) => *encoder,
            };
            let ready = encoder.map_err(|e| e.to_string()).and_then(|encoder| {
                let actions = embed_all(&encoder, &texts)?;
                Ok(Ready { encoder, actions })
            });
            if let (Err(e), true) = (&ready, loads) {
                tracing::warn!("search encoder unavailable, ranking lexically: {e}");
            }
            ready
        })
    }

    /// The cosine of `query` with each action (in catalog order), or why there is none.
    /// Waits for the model and the action vectors if they are still loading.
    pub fn similarities(&self, query: &str) -> Result<Vec<f32>, String> {
        let ready = self.ready().as_ref().map_err(Clone::clone)?;
        let query = ready.encoder.embed(&[query]).map_err(|e| e.to_string())?;
        let q = query.first().ok_or("the encoder returned no vector")?;
        Ok(ready.actions.iter().map(|a| a.iter().zip(q).map(|(x, y)| x * y).sum()).collect())
    }

    /// Why ranking is lexical only, as far as is known without waiting: the library or
    /// model is missing, or loading or embedding the actions failed.
    pub fn warning(&self) -> Option<String> {
        let why = self.ready.get()?.as_ref().err()?;
        Some(format!("WARNING: semantic search unavailable ({why}); ranking actions by their words only"))
    }
}

fn embed_all(encoder: &Encoder, texts: &[String]) -> Result<Vec<Vec<f32>>, String> {
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut out = Vec::with_capacity(refs.len());
    for chunk in refs.chunks(32) {
        out.extend(encoder.embed(chunk).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_text_is_the_title_and_first_sentence() {
        let catalog = crate::catalog::load_builtin().unwrap();
        let text = action_text(catalog.get("delete_user").unwrap());
        assert_eq!(text, "Delete User. Permanently delete a user together with their devices, sessions, memberships and role assignments.");
    }

    #[test]
    fn a_missing_model_is_a_warning_not_a_failure() {
        let semantic = Semantic::with_encoder(Err(ModelError::NoLibrary), &[]);
        assert!(semantic.similarities("disable a user").is_err());
        let warning = semantic.warning().unwrap();
        assert!(warning.contains("semantic search unavailable") && warning.contains("ORT_DYLIB_PATH"), "{warning}");
    }
}
