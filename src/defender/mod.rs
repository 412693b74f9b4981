//! Prompt-injection scanning of everything that returns to the model: normalisation
//! and patterns on every string, then a small transformer classifier on prose.

mod allow;
mod classifier;
mod detector;
mod normalise;
mod own;
mod patterns;
mod record;
mod scan;
mod script_text;
mod table;

pub use allow::{digest, AllowFile, Allowed};
pub use classifier::{find_model, Classifier, ClassifierError, MAX_CHUNK_TOKENS};
pub use detector::{Defender, Mode, Tier, Verdict, DEFAULT_THRESHOLD, MIN_CLASSIFIER_WORDS};
pub use normalise::{is_direction_mark, normalise, Normalised};
pub use own::OwnTexts;
pub use patterns::{Category, Patterns};
pub use scan::{marker, Finding, ScanReport, MARKER_PREFIX};
