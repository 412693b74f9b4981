//! The [`Defender`]: patterns on every string, then the classifier on prose.
//!
//! A [`Verdict::score`] is in 0..=1: the chance that the text carries instructions
//! aimed at the agent. A pattern match scores its category's confidence (0.93-0.97)
//! and is final; otherwise the classifier's probability is the score (with a
//! confirmer, the lower of the two models' when the first reaches the threshold, and
//! the confirmer's for English text the first scores at [`ENGLISH_BAR`] or more). A
//! text is flagged when its score reaches the threshold.
//!
//! Acceptable false positives: text that really is an order to whoever reads it
//! ("disable MFA for all contractors") even when a person wrote it in good faith; the
//! agent still sees the record exists, and the person can read the field themselves.
//! Not acceptable: benign admin text flagged for a trigger word ("override the
//! default session timeout", "system account").

use std::sync::{Arc, OnceLock};

use super::allow::{AllowFile, Allowed};
use super::classifier::{Classifier, ClassifierError};
use super::normalise::{is_joined_sentence, normalise, short_ids};
use super::patterns::{hidden_order, Category, Patterns};
use crate::onnx::Located;

/// Which tiers run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[derive(clap::ValueEnum)]
pub enum Mode {
    /// No scanning.
    Off,
    /// Normalisation and patterns only.
    Patterns,
    /// Patterns, then the classifier on what they pass.
    #[default]
    Full,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "off" => Ok(Mode::Off),
            "patterns" => Ok(Mode::Patterns),
            "full" => Ok(Mode::Full),
            _ => Err(format!("unknown defender mode `{s}`: expected off, patterns or full")),
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Off => "off",
            Mode::Patterns => "patterns",
            Mode::Full => "full",
        })
    }
}

/// The tier that decided a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Nothing ran (mode off, or no text).
    None,
    Patterns,
    Classifier,
    /// An administrator allowed this exact text (`--defender-allow`).
    Allowed,
}

impl Tier {
    pub fn name(self) -> &'static str {
        match self {
            Tier::None => "none",
            Tier::Patterns => "patterns",
            Tier::Classifier => "classifier",
            Tier::Allowed => "allowed",
        }
    }
}

/// What the defender thinks of one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// 0..=1, the chance the text carries an injection.
    pub score: f32,
    /// `score >= threshold`.
    pub flagged: bool,
    pub tier: Tier,
    /// Pattern categories matched, and the obfuscations undone (`decoded base64`).
    pub reasons: Vec<String>,
}

impl Verdict {
    fn clean(tier: Tier) -> Self {
        Verdict { score: 0.0, flagged: false, tier, reasons: Vec::new() }
    }
}

/// Said in every reply when the first model runs without the confirmer beside it.
const NO_CONFIRMER: &str = "WARNING: the defender's confirmer (defender.confirm.int8.onnx and defender.confirm.tokenizer.json) was not found beside the first model; the first model alone withholds much benign prose and text in languages other than English";

/// The threshold chosen in models/MODEL_CARD.md.
pub const DEFAULT_THRESHOLD: f32 = 0.92;

/// Texts shorter than this (in words) are not sent to the classifier: an id, a date, a
/// name or a two-word title carries no instruction that the patterns would not catch.
pub const MIN_CLASSIFIER_WORDS: usize = 4;

/// The scanner. Cheap to share (`Arc`); scanning takes `&self`.
#[derive(Debug, Clone)]
pub struct Defender {
    mode: Mode,
    threshold: f32,
    /// Compiled on a thread of its own from load (about 150 ms of regex compilation,
    /// which would otherwise delay the server's start); a scan before it is ready waits.
    patterns: Arc<OnceLock<Patterns>>,
    /// Loaded on a thread of its own too, once its files are known to exist.
    classifier: Option<Arc<LazyClassifier>>,
    /// Why the defender runs below the mode asked for, when that is known at load.
    warning: Option<String>,
    /// Texts an administrator has read and allows through.
    allow: Option<Arc<AllowFile>>,
}

/// The classifier, loading; whoever needs it first waits for the load.
#[derive(Debug)]
struct LazyClassifier {
    located: Option<Located>,
    loaded: OnceLock<Result<Classifier, ClassifierError>>,
}

impl LazyClassifier {
    fn get(&self) -> Result<&Classifier, &ClassifierError> {
        self.loaded
            .get_or_init(|| match &self.located {
                Some(located) => Classifier::load_located(located),
                None => Err(ClassifierError::Run("the classifier was given, not located".into())),
            })
            .as_ref()
    }
}

impl Defender {
    /// A defender in `mode`. `Full` finds the classifier's files at once and loads them
    /// on a thread of its own; when the model or `libonnxruntime` is missing it falls
    /// back to patterns and [`Defender::warning`] says so.
    pub fn load(mode: Mode, threshold: f32) -> Defender {
        let classifier = match mode {
            Mode::Full => Some(Classifier::locate().map(|located| LazyClassifier { located: Some(located), loaded: OnceLock::new() })),
            _ => None,
        };
        let defender = Self::build(mode, threshold, classifier);
        if let Some(lazy) = defender.classifier.clone() {
            crate::onnx::spawn_background("defender-classifier", move || {
                let _ = lazy.get();
            });
        }
        defender
    }

    /// As [`Defender::load`], with the classifier (or the error loading it) given.
    pub fn with_classifier(mode: Mode, threshold: f32, classifier: Option<Result<Classifier, ClassifierError>>) -> Defender {
        let classifier = classifier.map(|c| c.map(|c| LazyClassifier { located: None, loaded: OnceLock::from(Ok(c)) }));
        Self::build(mode, threshold, classifier)
    }

    fn build(mode: Mode, threshold: f32, classifier: Option<Result<LazyClassifier, ClassifierError>>) -> Defender {
        let (classifier, warning) = match (mode, classifier) {
            (Mode::Full, Some(Ok(c))) => (Some(Arc::new(c)), None),
            (Mode::Full, Some(Err(e))) => (None, Some(unavailable(&e))),
            (Mode::Full, None) => (None, Some("WARNING: prompt-injection classifier not loaded; scanning with patterns only".into())),
            (Mode::Off, _) => (None, Some("WARNING: prompt-injection scanning is off (--defender off)".into())),
            (Mode::Patterns, _) => (None, None),
        };
        let mode = if mode == Mode::Full && classifier.is_none() { Mode::Patterns } else { mode };
        let patterns = Arc::new(OnceLock::new());
        if mode != Mode::Off {
            let compiling = patterns.clone();
            std::thread::spawn(move || {
                compiling.get_or_init(Patterns::new);
            });
        }
        Defender { mode, threshold, patterns, classifier, warning, allow: None }
    }

    /// This defender, letting through the texts `allow` lists, if any.
    pub fn allowing(self, allow: Option<AllowFile>) -> Defender {
        Defender { allow: allow.map(Arc::new), ..self }
    }

    fn patterns(&self) -> &Patterns {
        self.patterns.get_or_init(Patterns::new)
    }

    /// The classifier, waiting for it to load; None when it is not used or failed to load.
    fn classifier(&self) -> Option<&Classifier> {
        self.classifier.as_ref()?.get().ok()
    }

    /// The mode in force (`Patterns` after a fallback). Waits for the classifier to load.
    pub fn mode(&self) -> Mode {
        if self.mode == Mode::Full && self.classifier().is_none() {
            return Mode::Patterns;
        }
        self.mode
    }

    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// A message for every reply while the defender runs below what was asked (or is
    /// off). Waits for the classifier to load, so a late failure is reported too.
    pub fn warning(&self) -> Option<String> {
        match self.classifier.as_ref().map(|c| c.get()) {
            Some(Err(e)) => Some(unavailable(e)),
            Some(Ok(classifier)) if !classifier.has_confirmer() => Some(NO_CONFIRMER.into()),
            _ => self.warning.clone(),
        }
    }

    /// What the allow file lets through, for the operator at start.
    pub fn allowing_summary(&self) -> Option<String> {
        let allow = self.allow.as_ref()?;
        Some(format!("defender: {} text(s) an administrator allowed, from {} (read again when it changes)", allow.current().0.len(), allow.path().display()))
    }

    /// Everything every reply must say of the defender: [`Defender::warning`], and the
    /// allow file's problem when the last scan found it broken.
    pub fn warnings(&self) -> Vec<String> {
        let allow_problem = self.allow.as_ref().and_then(|allow| allow.problem());
        self.warning().into_iter().chain(allow_problem).collect()
    }

    /// The patterns' verdict on `text` alone (no classifier, no allow file): for text
    /// put together from pieces the model reads one by one.
    pub fn scan_patterns(&self, text: &str) -> Verdict {
        if self.mode == Mode::Off {
            return Verdict::clean(Tier::None);
        }
        self.by_patterns(text).1
    }

    /// The texts an administrator's allow file lets through now. It reads the file
    /// (again if it changed), so a scan takes it once, not once a string.
    pub(crate) fn allowed_now(&self) -> Option<Arc<Allowed>> {
        self.allow.as_ref().map(|allow| allow.current().0)
    }

    /// `text` normalised, and what the patterns make of it (score 0 when none matches;
    /// the obfuscations seen are named either way).
    fn by_patterns(&self, text: &str) -> (super::normalise::Normalised, Verdict) {
        let norm = normalise(text);
        let mut found = self.patterns().matches(&norm.folded);
        if norm.hidden.iter().any(|decoded| hidden_order(decoded)) {
            found.push(Category::HiddenOrder);
        }
        let mut reasons: Vec<String> = found.iter().map(|c| Category::name(*c).to_string()).collect();
        reasons.extend(norm.seen.iter().map(|s| format!("obfuscation: {s}")));
        let score = if found.is_empty() { 0.0 } else { Patterns::score(&found) };
        (norm, Verdict { score, flagged: score >= self.threshold && !found.is_empty(), tier: Tier::Patterns, reasons })
    }

    /// Scan one text.
    pub fn scan_text(&self, text: &str) -> Verdict {
        self.scan_texts(&[text]).pop().unwrap_or_else(|| Verdict::clean(Tier::None))
    }

    /// Scan many texts; the classifier scores the ones patterns pass in batches.
    pub fn scan_texts(&self, texts: &[&str]) -> Vec<Verdict> {
        if self.mode == Mode::Off {
            return texts.iter().map(|_| Verdict::clean(Tier::None)).collect();
        }
        let mut verdicts = Vec::with_capacity(texts.len());
        let mut prose: Vec<(usize, String)> = Vec::new();
        let allowed = self.allowed_now();
        for (i, text) in texts.iter().enumerate() {
            if allowed.as_ref().is_some_and(|a| a.contains(text)) {
                verdicts.push(Verdict { reasons: vec!["allowed: an administrator's reviewed text".into()], ..Verdict::clean(Tier::Allowed) });
                continue;
            }
            if plain_token(text) {
                verdicts.push(Verdict::clean(Tier::Patterns));
                continue;
            }
            let (norm, verdict) = self.by_patterns(text);
            if verdict.score == 0.0 && self.classifier.is_some() && worth_classifying(&norm.clean) {
                prose.push((i, short_ids(&norm.clean).into_owned()));
            }
            verdicts.push(verdict);
        }
        if let (Some(classifier), false) = (self.classifier(), prose.is_empty()) {
            let refs: Vec<&str> = prose.iter().map(|(_, t)| t.as_str()).collect();
            match self.classify(classifier, &refs) {
                Ok(scores) => {
                    for ((i, _), score) in prose.iter().zip(scores) {
                        let v = &mut verdicts[*i];
                        v.score = score;
                        v.flagged = score >= self.threshold;
                        v.tier = Tier::Classifier;
                        if v.flagged {
                            v.reasons.insert(0, "classifier".into());
                        }
                    }
                }
                Err(e) => {
                    // Fail closed on the texts the classifier should have seen.
                    tracing::error!("defender classifier failed: {e}");
                    for (i, _) in &prose {
                        let v = &mut verdicts[*i];
                        v.score = 1.0;
                        v.flagged = true;
                        v.tier = Tier::Classifier;
                        v.reasons.insert(0, format!("classifier error: {e}"));
                    }
                }
            }
        }
        verdicts
    }

    /// The classifier's score of each text. What the first model would flag goes to the
    /// confirmer, when there is one, and keeps the lower of the two scores: both models
    /// must reach the threshold. English text goes to the confirmer at a lower bar
    /// ([`ENGLISH_BAR`]) and takes the confirmer's score. The rest never meet the
    /// confirmer, so the usual case (benign text) costs one model.
    fn classify(&self, classifier: &Classifier, texts: &[&str]) -> Result<Vec<f32>, ClassifierError> {
        let mut scores = classifier.score(texts)?;
        if !classifier.has_confirmer() {
            return Ok(scores);
        }
        let english_bar = ENGLISH_BAR.min(self.threshold);
        let suspects: Vec<(usize, bool)> = (0..texts.len())
            .filter_map(|i| {
                if scores[i] >= english_bar && is_english(texts[i]) {
                    Some((i, true))
                } else {
                    (scores[i] >= self.threshold).then_some((i, false))
                }
            })
            .collect();
        if suspects.is_empty() {
            return Ok(scores);
        }
        let suspect_texts: Vec<&str> = suspects.iter().map(|&(i, _)| texts[i]).collect();
        if let Some(second) = classifier.confirm(&suspect_texts)? {
            for ((i, english), score) in suspects.into_iter().zip(second) {
                scores[i] = if english { score } else { scores[i].min(score) };
            }
        }
        Ok(scores)
    }
}

/// The first model's bar for sending English text to the confirmer, whose verdict then
/// stands: it catches English injections the first model is unsure of. Text in other
/// languages is sent only at the threshold, because the confirmer alone withholds too
/// much benign interface text in those languages (models/MODEL_CARD.md, attempts 25
/// and 28). Never above the threshold a user sets.
const ENGLISH_BAR: f32 = 0.3;

fn is_english(text: &str) -> bool {
    whatlang::detect_lang(text) == Some(whatlang::Lang::Eng)
}

/// An id, a date, an e-mail address, an enum value: one short ASCII token without
/// markup that could not hide base64 (which needs both cases) or a sentence with its
/// spaces taken out. Nothing to scan.
fn plain_token(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() <= 64
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'@' | b'.' | b'_' | b':' | b'+' | b'-' | b'/' | b','))
        && !(b.len() >= 16 && b.iter().any(u8::is_ascii_uppercase) && b.iter().any(u8::is_ascii_lowercase))
        && !is_joined_sentence(text)
}

fn worth_classifying(text: &str) -> bool {
    text.split_whitespace().filter(|w| w.chars().any(char::is_alphabetic)).take(MIN_CLASSIFIER_WORDS).count() >= MIN_CLASSIFIER_WORDS
}

fn unavailable(e: &ClassifierError) -> String {
    format!("WARNING: prompt-injection classifier unavailable ({e}); scanning with patterns only")
}
