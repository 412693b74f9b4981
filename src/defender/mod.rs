//! Prompt-injection scanning of everything that returns to the model: normalisation
//! and patterns on every string, then a small transformer classifier on prose.

mod allow;
mod classifier;
mod detector;
mod own;
mod record;
mod scan;
mod script_text;
mod table;

// The first tier is a crate of its own, always built optimised (see its lib.rs).
use defender_patterns::{normalise, patterns};

pub use allow::{digest, AllowFile, Allowed};
pub use classifier::{find_model, Classifier, ClassifierError, MAX_CHUNK_TOKENS};
pub use detector::{Defender, Mode, Tier, Verdict, DEFAULT_THRESHOLD, MIN_CLASSIFIER_WORDS};
pub use normalise::{is_direction_mark, normalise, Normalised};
pub use own::OwnTexts;
pub use patterns::{Category, Patterns};
pub use scan::{marker, Finding, ScanReport, MARKER_PREFIX};
