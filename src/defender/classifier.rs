//! The second tier: a fine-tuned all-MiniLM-L6-v2 in int8 ONNX (`models/`), run with
//! `ort` against a `libonnxruntime.so` loaded at run time, so the build needs no
//! native library and a machine without one falls back to patterns (see `detector`).
//!
//! Long text is cut into chunks of at most [`MAX_CHUNK_TOKENS`], ending at sentence
//! boundaries where it can; each chunk is scored and the highest score wins, so an
//! injection buried in a long description is not diluted by the text around it.
//! Chunks of many strings are scored together in padded batches of similar length.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;
use tokenizers::Tokenizer;

/// Tokens per chunk, [CLS] and [SEP] included: the training window (models/train.py),
/// so an injection at the end of a long text is not averaged away by a longer chunk.
pub const MAX_CHUNK_TOKENS: usize = 128;
/// Chunks per inference call.
const BATCH: usize = 32;

/// Why the classifier cannot run.
#[derive(Debug, thiserror::Error)]
pub enum ClassifierError {
    #[error("libonnxruntime not found: set ORT_DYLIB_PATH or run scripts/fetch-onnxruntime.sh")]
    NoLibrary,
    #[error("cannot load `{path}`: {message}")]
    Library { path: PathBuf, message: String },
    #[error("model not found: set PINGONE_MCP_DEFENDER_MODEL to the directory holding defender.int8.onnx and tokenizer.json")]
    NoModel,
    #[error("cannot load the model `{path}`: {message}")]
    Model { path: PathBuf, message: String },
    #[error("inference failed: {0}")]
    Run(String),
}

/// The ONNX model and its tokenizer.
pub struct Classifier {
    session: Mutex<Session>,
    tokenizer: Tokenizer,
    cls: u32,
    sep: u32,
    pad: u32,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier").finish_non_exhaustive()
    }
}

/// The environment is process-wide and the library can be loaded only once.
static ENVIRONMENT: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

/// Where `libonnxruntime.so` is: `ORT_DYLIB_PATH`, else the `onnxruntime` wheel in the
/// project venv (`PINGONE_MCP_VENV`, default `~/.cache/pingone-mcp/venv`).
pub fn find_library() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH") {
        return Some(PathBuf::from(path));
    }
    let venv = std::env::var_os("PINGONE_MCP_VENV")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/pingone-mcp/venv")))?;
    let lib = std::fs::read_dir(venv.join("lib")).ok()?;
    for python in lib.flatten() {
        let capi = python.path().join("site-packages/onnxruntime/capi");
        let Ok(files) = std::fs::read_dir(&capi) else { continue };
        let mut found: Vec<PathBuf> = files
            .flatten()
            .map(|f| f.path())
            .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("libonnxruntime.so")))
            .collect();
        found.sort();
        if let Some(p) = found.pop() {
            return Some(p);
        }
    }
    None
}

/// The model directory: `PINGONE_MCP_DEFENDER_MODEL`, else `models/` beside the
/// executable's checkout or the source tree this binary was built from.
pub fn find_model() -> Option<(PathBuf, PathBuf)> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("PINGONE_MCP_DEFENDER_MODEL") {
        let dir = PathBuf::from(dir);
        dirs.push(if dir.extension().is_some_and(|e| e == "onnx") { dir.parent().map(Path::to_path_buf).unwrap_or_default() } else { dir });
    }
    if let Ok(exe) = std::env::current_exe() {
        dirs.extend(exe.ancestors().skip(1).take(4).map(|a| a.join("models")));
    }
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("models"));
    dirs.into_iter()
        .map(|d| (d.join("defender.int8.onnx"), d.join("tokenizer.json")))
        .find(|(m, t)| m.is_file() && t.is_file())
}

fn environment(library: &Path) -> Result<&'static ort::environment::Environment, ClassifierError> {
    let env = ENVIRONMENT.get_or_init(|| {
        let builder = ort::init_from(library).map_err(|e| e.to_string())?;
        builder.with_name("pingone-mcp-defender").with_telemetry(false).build().map_err(|e| e.to_string())
    });
    env.as_ref().map_err(|message| ClassifierError::Library { path: library.to_path_buf(), message: message.clone() })
}

impl Classifier {
    /// Load the library, the model and the tokenizer found by [`find_library`] and [`find_model`].
    pub fn load_default() -> Result<Self, ClassifierError> {
        let library = find_library().ok_or(ClassifierError::NoLibrary)?;
        if !library.is_file() {
            return Err(ClassifierError::Library { path: library, message: "no such file".into() });
        }
        let (model, tokenizer) = find_model().ok_or(ClassifierError::NoModel)?;
        Self::load(&library, &model, &tokenizer)
    }

    /// Load a model with one intra-op thread (scans run side by side on the blocking pool).
    pub fn load(library: &Path, model: &Path, tokenizer: &Path) -> Result<Self, ClassifierError> {
        let env = environment(library)?;
        let model_err = |message: String| ClassifierError::Model { path: model.to_path_buf(), message };
        let session = Session::builder(env)
            .map_err(|e| model_err(e.to_string()))?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|e| model_err(e.to_string()))?
            .with_intra_threads(1)
            .map_err(|e| model_err(e.to_string()))?
            .commit_from_file(model)
            .map_err(|e| model_err(e.to_string()))?;
        let tok_err = |message: String| ClassifierError::Model { path: tokenizer.to_path_buf(), message };
        let mut tok = Tokenizer::from_file(tokenizer).map_err(|e| tok_err(e.to_string()))?;
        tok.with_padding(None);
        tok.with_truncation(None).map_err(|e| tok_err(e.to_string()))?;
        let id = |t: &str| tok.token_to_id(t).ok_or_else(|| tok_err(format!("no `{t}` token")));
        let (cls, sep, pad) = (id("[CLS]")?, id("[SEP]")?, id("[PAD]")?);
        Ok(Classifier { session: Mutex::new(session), tokenizer: tok, cls, sep, pad })
    }

    /// The injection probability of each text: the highest over its chunks.
    pub fn score(&self, texts: &[&str]) -> Result<Vec<f32>, ClassifierError> {
        let mut chunks: Vec<(usize, Vec<u32>)> = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            for chunk in self.chunks(text)? {
                chunks.push((i, chunk));
            }
        }
        chunks.sort_by_key(|(_, c)| c.len());
        let mut scores = vec![0.0f32; texts.len()];
        for batch in chunks.chunks(BATCH) {
            let probs = self.run(batch.iter().map(|(_, c)| c.as_slice()))?;
            for ((i, _), p) in batch.iter().zip(probs) {
                scores[*i] = scores[*i].max(p);
            }
        }
        Ok(scores)
    }

    /// Token ids of each chunk, with [CLS] and [SEP], cut at sentence ends where possible.
    fn chunks(&self, text: &str) -> Result<Vec<Vec<u32>>, ClassifierError> {
        let enc = self.tokenizer.encode(text, false).map_err(|e| ClassifierError::Run(e.to_string()))?;
        let ids = enc.get_ids();
        let offsets = enc.get_offsets();
        let bytes = text.as_bytes();
        // A token ends a sentence when it is . ! ? or a newline follows it.
        let ends_sentence = |k: usize| {
            let end = offsets[k].1;
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
            chunk.push(self.cls);
            chunk.extend_from_slice(&ids[start..end]);
            chunk.push(self.sep);
            out.push(chunk);
            if end >= ids.len() {
                break;
            }
            start = end;
        }
        Ok(out)
    }

    fn run<'a>(&self, batch: impl ExactSizeIterator<Item = &'a [u32]> + Clone) -> Result<Vec<f32>, ClassifierError> {
        let rows = batch.len();
        let width = batch.clone().map(<[u32]>::len).max().unwrap_or(0);
        let mut ids = vec![i64::from(self.pad); rows * width];
        let mut mask = vec![0i64; rows * width];
        for (r, chunk) in batch.enumerate() {
            for (c, &id) in chunk.iter().enumerate() {
                ids[r * width + c] = i64::from(id);
                mask[r * width + c] = 1;
            }
        }
        let err = |e: ort::Error| ClassifierError::Run(e.to_string());
        let shape = [rows as i64, width as i64];
        let ids = Tensor::from_array((shape, ids)).map_err(err)?;
        let mask = Tensor::from_array((shape, mask)).map_err(err)?;
        let mut session = self.session.lock().map_err(|_| ClassifierError::Run("a previous inference panicked".into()))?;
        let outputs = session.run(ort::inputs!["input_ids" => ids, "attention_mask" => mask]).map_err(err)?;
        let (_, scores) = outputs["score"].try_extract_tensor::<f32>().map_err(err)?;
        Ok(scores.to_vec())
    }
}
