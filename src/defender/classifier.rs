//! The second tier: a fine-tuned all-MiniLM-L6-v2 in int8 ONNX (`models/`), run with
//! `ort` against a `libonnxruntime.so` loaded at run time, so the build needs no
//! native library and a machine without one falls back to patterns (see `detector`).
//!
//! Long text is cut into chunks of at most [`MAX_CHUNK_TOKENS`], ending at sentence
//! boundaries where it can; each chunk is scored and the highest score wins, so an
//! injection buried in a long description is not diluted by the text around it.
//! Each chunk is scored on its own: the int8 models quantise activations with one
//! scale per tensor, so a chunk scored in a batch beside others (and their padding)
//! would get a score that depends on them, and a text's verdict on its neighbours.
//!
//! A second model, the confirmer (`defender.confirm.int8.onnx` beside the first, when
//! present), reads only what the first would flag (and English text it is unsure of,
//! see `detector`), and both must agree: the first was
//! trained on English without long prose and flags much of it and most text in other
//! languages; the confirmer, six layers of multilingual-e5-small with its own
//! SentencePiece tokenizer (`defender.confirm.tokenizer.json`), reads German, French,
//! Spanish, Portuguese, Italian, Dutch and Polish and was trained with prose
//! (models/MODEL_CARD.md, attempt 24).

use crate::onnx::{Fusion, Located, Model, ModelError};

/// Tokens per chunk, [CLS] and [SEP] included: the training window (models/train.py),
/// so an injection at the end of a long text is not averaged away by a longer chunk.
pub const MAX_CHUNK_TOKENS: usize = 128;
/// Where the model is looked for first (see [`crate::onnx::find_model`]).
const MODEL_VARIABLE: &str = "PINGONE_MCP_DEFENDER_MODEL";
const MODEL_FILE: &str = "defender.int8.onnx";
/// The confirmer, looked for beside [`MODEL_FILE`].
const CONFIRMER_FILE: &str = "defender.confirm.int8.onnx";
/// The confirmer's own tokenizer, when it has one (a base with another vocabulary);
/// otherwise it shares the first model's `tokenizer.json`.
const CONFIRMER_TOKENIZER_FILE: &str = "defender.confirm.tokenizer.json";

/// Why the classifier cannot run.
pub type ClassifierError = ModelError;

/// The ONNX model and its tokenizer, and the confirmer when there is one.
#[derive(Debug)]
pub struct Classifier {
    model: Model,
    confirmer: Option<Model>,
}

/// The defender model directory: `PINGONE_MCP_DEFENDER_MODEL`, else `models/` beside the
/// executable's checkout or the source tree this binary was built from.
pub fn find_model() -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    crate::onnx::find_model(MODEL_VARIABLE, MODEL_FILE)
}

impl Classifier {
    /// Load the library, the model and the tokenizer found by [`Classifier::locate`].
    pub fn load_default() -> Result<Self, ClassifierError> {
        Self::load_located(&Self::locate()?)
    }

    /// Where the library, the model and the tokenizer are, without loading them.
    pub fn locate() -> Result<Located, ClassifierError> {
        crate::onnx::locate(MODEL_VARIABLE, MODEL_FILE, Fusion::AtExport)
    }

    /// Load what [`Classifier::locate`] found, and the confirmer beside it if present.
    pub fn load_located(located: &Located) -> Result<Self, ClassifierError> {
        let model = located.load()?;
        let confirmer_path = located.model.with_file_name(CONFIRMER_FILE);
        let own_tokenizer = located.model.with_file_name(CONFIRMER_TOKENIZER_FILE);
        let tokenizer = if own_tokenizer.is_file() { own_tokenizer } else { located.tokenizer.clone() };
        let confirmer = if confirmer_path.is_file() { Some(Located { model: confirmer_path, tokenizer, ..located.clone() }.load()?) } else { None };
        Ok(Classifier { model, confirmer })
    }

    /// The first model's injection probability of each text: the highest over its chunks.
    pub fn score(&self, texts: &[&str]) -> Result<Vec<f32>, ClassifierError> {
        score(&self.model, texts)
    }

    /// Whether the confirmer was found beside the first model.
    pub fn has_confirmer(&self) -> bool {
        self.confirmer.is_some()
    }

    /// The confirmer's probabilities for `texts`, or `None` when there is no confirmer.
    pub fn confirm(&self, texts: &[&str]) -> Result<Option<Vec<f32>>, ClassifierError> {
        self.confirmer.as_ref().map(|model| score(model, texts)).transpose()
    }
}

/// `model`'s injection probability of each text: the highest over its chunks.
fn score(model: &Model, texts: &[&str]) -> Result<Vec<f32>, ClassifierError> {
    let mut chunks: Vec<(usize, Vec<u32>)> = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        for chunk in chunks_of(model, text)? {
            chunks.push((i, chunk));
        }
    }
    let mut scores = vec![0.0f32; texts.len()];
    for (i, chunk) in &chunks {
        let score = model.run(std::iter::once(chunk.as_slice()), "score")?;
        scores[*i] = scores[*i].max(score.first().copied().unwrap_or(0.0));
    }
    Ok(scores)
}

/// Token ids of each chunk, with [CLS] and [SEP], cut at sentence ends where possible.
fn chunks_of(model: &Model, text: &str) -> Result<Vec<Vec<u32>>, ClassifierError> {
    let tokens = model.encode(text)?;
    let ids = &tokens.ids;
    let bytes = text.as_bytes();
    // A token ends a sentence when it is . ! ? or a newline follows it.
    let ends_sentence = |k: usize| {
        let end = tokens.ends[k];
        matches!(bytes.get(end.wrapping_sub(1)), Some(b'.' | b'!' | b'?' | b':' | b';')) || matches!(bytes.get(end), Some(b'\n'))
    };
    let room = MAX_CHUNK_TOKENS - 2;
    let mut out = Vec::new();
    let mut start = 0;
    while start < ids.len() || (start == 0 && out.is_empty()) {
        let mut end = (start + room).min(ids.len());
        if end < ids.len() {
            if let Some(cut) = (start + room / 2..end).rev().find(|&k| ends_sentence(k)) {
                end = cut + 1;
            }
        }
        let mut chunk = Vec::with_capacity(end - start + 2);
        chunk.push(model.cls);
        chunk.extend_from_slice(&ids[start..end]);
        chunk.push(model.sep);
        out.push(chunk);
        if end >= ids.len() {
            break;
        }
        start = end;
    }
    Ok(out)
}
