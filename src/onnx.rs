//! The small transformer models (`models/`): the defender's classifier and the search
//! encoder, run with `ort` against a `libonnxruntime.so` loaded at run time, so the
//! build needs no native library. Finding the library and a model, loading them, and
//! running a padded batch are the same for both, and live here.
//!
//! A caller that cannot load its model falls back to something that needs none (the
//! defender to patterns, search to lexical ranking) and says so.

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, OnceLock};

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;
use tokenizers::Tokenizer;

use crate::wordpiece::{Tokens, WordPiece};

/// Why a model cannot run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("libonnxruntime not found: set ORT_DYLIB_PATH or run scripts/fetch-onnxruntime.sh")]
    NoLibrary,
    #[error("cannot load `{path}`: {message}")]
    Library { path: PathBuf, message: String },
    #[error("model not found (not in the directory {variable} names, or with it unset, in models/ beside the binary): set {variable} to the directory holding {file} and tokenizer.json")]
    NoModel { variable: &'static str, file: &'static str },
    #[error("cannot load the model `{path}`: {message}")]
    Model { path: PathBuf, message: String },
    #[error("inference failed: {0}")]
    Run(String),
}

/// The environment is process-wide and the library can be loaded only once.
static ENVIRONMENT: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

/// Threads loading or warming a model in the background, and a signal when one ends.
/// The process must not exit while one is inside onnxruntime: the library's teardown
/// breaks under it (a server whose client leaves at once would crash on the way out).
static BACKGROUND: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

/// Run `work` on a thread of its own, counted until it ends (see [`wait_for_background`]).
/// A thread that cannot start leaves the work to whoever needs it first.
pub fn spawn_background(name: &str, work: impl FnOnce() + Send + 'static) {
    // Counted before the thread starts, so an exit right after this call still waits;
    // moved into the thread, or dropped here when it cannot start; a panic drops it too.
    let counted = Counted::new();
    let _ = std::thread::Builder::new().name(name.into()).spawn(move || {
        let _counted = counted;
        work();
    });
}

/// One background thread counted in [`BACKGROUND`], until dropped.
struct Counted;

impl Counted {
    fn new() -> Counted {
        *BACKGROUND.0.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        Counted
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let (count, ended) = &BACKGROUND;
        *count.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        ended.notify_all();
    }
}

/// Wait until no model loads in the background: call before the process exits.
pub fn wait_for_background() {
    let (count, ended) = &BACKGROUND;
    let mut running = count.lock().unwrap_or_else(|e| e.into_inner());
    while *running > 0 {
        running = ended.wait(running).unwrap_or_else(|e| e.into_inner());
    }
}

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

/// The model file `file` and the `tokenizer.json` beside it: in the directory named by
/// the environment variable `variable` (or beside the `.onnx` file it names) and only
/// there when it is set, so a wrong one is reported rather than quietly replaced; else
/// in `models/` beside the executable's checkout or the source tree this binary was built from.
pub fn find_model(variable: &str, file: &str) -> Option<(PathBuf, PathBuf)> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os(variable) {
        let dir = PathBuf::from(dir);
        dirs.push(if dir.extension().is_some_and(|e| e == "onnx") { dir.parent().map(Path::to_path_buf).unwrap_or_default() } else { dir });
    } else {
        if let Ok(exe) = std::env::current_exe() {
            dirs.extend(exe.ancestors().skip(1).take(4).map(|a| a.join("models")));
        }
        dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("models"));
    }
    dirs.into_iter().map(|d| (d.join(file), d.join("tokenizer.json"))).find(|(m, t)| m.is_file() && t.is_file())
}

/// A model stamped with its word table's size (`vocab_size`, models/train.py) must
/// meet a tokenizer of that vocabulary: another's ids would index the wrong rows and
/// score garbage without any error.
fn check_vocabulary(session: &Session, tok: &Tokenizer, model: &Path, tokenizer: &Path) -> Result<(), ModelError> {
    let stamped = session.metadata().ok().and_then(|m| m.custom("vocab_size")).and_then(|v| v.parse::<usize>().ok());
    let ids = tok.get_vocab(true).into_values().max().map_or(0, |max| max as usize + 1);
    match stamped {
        Some(rows) if rows != ids => Err(ModelError::Model {
            path: model.to_path_buf(),
            message: format!(
                "it reads {rows} token ids, but {} has {ids}: put the tokenizer it was trained with beside it (the confirmer's is defender.confirm.tokenizer.json)",
                tokenizer.display()
            ),
        }),
        _ => Ok(()),
    }
}

fn environment(library: &Path) -> Result<&'static ort::environment::Environment, ModelError> {
    let env = ENVIRONMENT.get_or_init(|| {
        let builder = ort::init_from(library).map_err(|e| e.to_string())?;
        builder.with_name("pingone-mcp").with_telemetry(false).build().map_err(|e| e.to_string())
    });
    env.as_ref().map_err(|message| ModelError::Library { path: library.to_path_buf(), message: message.clone() })
}

/// A loaded model and its tokenizer (padding and truncation off: callers cut and pad).
pub struct Model {
    session: Mutex<Session>,
    tokenizer: Tokenizer,
    /// The same tokenizer's fast path for plain ASCII text.
    fast: Option<WordPiece>,
    pub cls: u32,
    pub sep: u32,
    pad: u32,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").finish_non_exhaustive()
    }
}

/// Which of onnxruntime's graph fusions run when a model loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fusion {
    /// All of them: the graph was exported as the framework wrote it.
    AtLoad,
    /// Basic clean-ups only: the graph was fused when it was exported (models/train.py),
    /// without SkipLayerNormalization, whose kernel is slower on this CPU than the Add and
    /// LayerNormalization it replaces; the extended level would fuse them again.
    AtExport,
}

/// Where a model's library, weights and tokenizer are: found, not yet loaded.
#[derive(Debug, Clone)]
pub struct Located {
    pub library: PathBuf,
    pub model: PathBuf,
    pub tokenizer: PathBuf,
    pub fusion: Fusion,
}

impl Located {
    pub fn load(&self) -> Result<Model, ModelError> {
        Model::load(&self.library, &self.model, &self.tokenizer, self.fusion)
    }
}

/// Find the library ([`find_library`]) and the model ([`find_model`]) without loading
/// either: cheap, so a missing file is known at once.
pub fn locate(variable: &'static str, file: &'static str, fusion: Fusion) -> Result<Located, ModelError> {
    let library = find_library().ok_or(ModelError::NoLibrary)?;
    if !library.is_file() {
        return Err(ModelError::Library { path: library, message: "no such file".into() });
    }
    let (model, tokenizer) = find_model(variable, file).ok_or(ModelError::NoModel { variable, file })?;
    Ok(Located { library, model, tokenizer, fusion })
}

impl Model {
    /// Load the library found by [`find_library`] and the model found by
    /// [`find_model`]`(variable, file)`.
    pub fn load_default(variable: &'static str, file: &'static str, fusion: Fusion) -> Result<Self, ModelError> {
        locate(variable, file, fusion)?.load()
    }

    /// Load a model with one intra-op thread: calls run side by side on their own
    /// threads, and the machine may be small.
    pub fn load(library: &Path, model: &Path, tokenizer: &Path, fusion: Fusion) -> Result<Self, ModelError> {
        let env = environment(library)?;
        let model_err = |message: String| ModelError::Model { path: model.to_path_buf(), message };
        let session = Session::builder(env)
            .map_err(|e| model_err(e.to_string()))?
            .with_optimization_level(match fusion {
                Fusion::AtLoad => GraphOptimizationLevel::All,
                Fusion::AtExport => GraphOptimizationLevel::Level1,
            })
            .map_err(|e| model_err(e.to_string()))?
            .with_intra_threads(1)
            .map_err(|e| model_err(e.to_string()))?
            .commit_from_file(model)
            .map_err(|e| model_err(e.to_string()))?;
        let tok_err = |message: String| ModelError::Model { path: tokenizer.to_path_buf(), message };
        let mut tok = Tokenizer::from_file(tokenizer).map_err(|e| tok_err(e.to_string()))?;
        tok.with_padding(None);
        tok.with_truncation(None).map_err(|e| tok_err(e.to_string()))?;
        // BERT's WordPiece names its specials [CLS] [SEP] [PAD]; SentencePiece vocabularies
        // (XLM-RoBERTa's, the multilingual confirmer's) <s> </s> <pad>.
        let id = |names: [&str; 2]| {
            names.iter().find_map(|t| tok.token_to_id(t)).ok_or_else(|| tok_err(format!("no `{}` or `{}` token", names[0], names[1])))
        };
        let (cls, sep, pad) = (id(["[CLS]", "<s>"])?, id(["[SEP]", "</s>"])?, id(["[PAD]", "<pad>"])?);
        check_vocabulary(&session, &tok, model, tokenizer)?;
        let fast = WordPiece::from_tokenizer(&tok);
        Ok(Model { session: Mutex::new(session), tokenizer: tok, fast, cls, sep, pad })
    }

    /// The token ids of `text` (no [CLS] or [SEP]) and where each token ends in it.
    pub fn encode(&self, text: &str) -> Result<Tokens, ModelError> {
        if let Some(tokens) = self.fast.as_ref().and_then(|fast| fast.encode(text)) {
            return Ok(tokens);
        }
        self.encode_slowly(text)
    }

    /// [`Model::encode`] by `tokenizers`, for text the fast path does not take.
    fn encode_slowly(&self, text: &str) -> Result<Tokens, ModelError> {
        let enc = self.tokenizer.encode(text, false).map_err(|e| ModelError::Run(e.to_string()))?;
        Ok(Tokens { ids: enc.get_ids().to_vec(), ends: enc.get_offsets().iter().map(|o| o.1).collect() })
    }

    /// Run rows of token ids (each with its [CLS] and [SEP]) as one padded batch and
    /// return the float output `output`, flattened row after row.
    pub fn run<'a>(&self, batch: impl ExactSizeIterator<Item = &'a [u32]> + Clone, output: &str) -> Result<Vec<f32>, ModelError> {
        let rows = batch.len();
        let width = batch.clone().map(<[u32]>::len).max().unwrap_or(0);
        let mut ids = vec![i64::from(self.pad); rows * width];
        let mut mask = vec![0i64; rows * width];
        for (r, row) in batch.enumerate() {
            for (c, &id) in row.iter().enumerate() {
                ids[r * width + c] = i64::from(id);
                mask[r * width + c] = 1;
            }
        }
        let err = |e: ort::Error| ModelError::Run(e.to_string());
        let shape = [rows as i64, width as i64];
        let ids = Tensor::from_array((shape, ids)).map_err(err)?;
        let mask = Tensor::from_array((shape, mask)).map_err(err)?;
        let mut session = self.session.lock().map_err(|_| ModelError::Run("a previous inference panicked".into()))?;
        let outputs = session.run(ort::inputs!["input_ids" => ids, "attention_mask" => mask]).map_err(err)?;
        let (_, values) = outputs[output].try_extract_tensor::<f32>().map_err(err)?;
        Ok(values.to_vec())
    }
}
