//! The search index: built once from the catalog, then queried.

use std::collections::{HashMap, HashSet};

use super::bm25::{Bm25, DocumentBuilder};
use super::semantic::{Encoder, Semantic, MODEL_FILE, MODEL_VARIABLE};
use super::spelling::Spelling;
use super::intent::{is_searched_value, listed_noun, query_op, Listed, Op};
use super::tokens::{is_stop_word, stem, tokens, words};
use super::vocabulary::{Vocabulary, VOCABULARY};
use crate::catalog::{Action, Catalog};
use crate::onnx::{find_model, ModelError};

/// How the parts of a score add up. `Weights::default()` is what the quality test
/// (`tests/search_quality.rs`) measured best on its tuning split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// Weight of a term the vocabulary added, against 1 for a word the user typed.
    pub expansion: f64,
    /// Per distinct id word (other than the verb) that the query names.
    pub id_match: f64,
    /// Per distinct id word the query does not name: prefers `get_user` to
    /// `get_user_population` when only a user is mentioned.
    pub id_miss: f64,
    /// When the action's operation fits the query's (half for get against list).
    pub op: f64,
    /// Weight of the term `user` added when the query names something the catalog
    /// does not know, which is nearly always a person ("kick bob out of …").
    pub unknown_user: f64,
    /// Whether words that only name the operation ("kick", "get rid of") also count
    /// as terms.
    pub verbs_as_terms: bool,
    /// When a list's items are named ("which *teams* …", "who …"), for a list
    /// action whose id ends in them (`list_user_groups` for teams).
    pub listed: f64,
    /// Field weights: how much one occurrence of a word counts in an action's id,
    /// title, group, description and parameter names.
    pub fields: [f64; 5],
    /// BM25's term-frequency saturation and length normalisation.
    pub k1: f64,
    pub b: f64,
    /// Weight of the encoder's cosine of query and action (`semantic`), added to the
    /// lexical score.
    pub semantic: f64,
    /// The cosine at which an action no query word names still counts as a match
    /// (below it, a query of unknown words finds nothing rather than noise).
    pub min_similarity: f64,
    /// Below this best cosine of any action, no action meets the query closely: the
    /// encoder was trained to put needs the catalog does not meet there
    /// (models/search/MODEL_CARD.md, "Saying when nothing fits").
    pub nothing_fits_below: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Self { expansion: 1.0, id_match: 2.0, id_miss: 3.0, op: 12.0, unknown_user: 0.5, verbs_as_terms: true, listed: 6.0, fields: [3.0, 2.0, 2.0, 1.0, 0.5], k1: 1.2, b: 0.75, semantic: 50.0, min_similarity: 0.5, nothing_fits_below: NOTHING_FITS_BELOW }
    }
}

fn best_of(similarities: &[f32]) -> f32 {
    similarities.iter().copied().fold(f32::MIN, f32::max)
}

/// See [`Weights::nothing_fits_below`]: the cut chosen on the tuning splits.
const NOTHING_FITS_BELOW: f32 = 0.475;

#[derive(Debug, Clone)]
pub struct SearchIndex {
    bm25: Bm25,
    actions: Vec<Entry>,
    vocabulary: Vocabulary,
    weights: Weights,
    /// The words of ids and titles: what the catalog names things with. Only these
    /// make a word before them a name ("the *beta testers* group"); a word known
    /// from descriptions alone may be a verb ("what roles does anna *hold*").
    nouns: HashSet<String>,
    spelling: Spelling,
    semantic: Semantic,
}

#[derive(Debug, Clone)]
struct Entry {
    id: String,
    op: Op,
    /// The id's words after its verb, stemmed and sorted, repeats kept
    /// (`list_user_mfa_devices` → devic, mfa, user; `add_group_to_group` → group, group).
    subject: Vec<String>,
    /// What a list action returns: the id's last word, stemmed, and for an
    /// assignment what is assigned (`list_user_role_assignments` lists roles too).
    items: Vec<String>,
}

/// The hits of a search, and whether the encoder judged that none fits.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub hits: Vec<Hit>,
    /// The best cosine of any action with the query, when it is under
    /// [`Weights::nothing_fits_below`]; None when some action fits or ranking is
    /// lexical only (words alone cannot tell).
    pub nothing_fits: Option<f32>,
    /// The query as it was ranked, when mistyped words were mended ("pasword" →
    /// "password"), for the reader to see.
    pub read_as: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: String,
    pub score: f64,
    /// The encoder's cosine of query and action; None when ranking is lexical only.
    pub similarity: Option<f32>,
}

impl SearchIndex {
    /// The index with the search encoder found on this machine (loaded at the first
    /// query or [`SearchIndex::preload`]), or lexical only with a
    /// [`SearchIndex::warning`] when there is none.
    pub fn new(catalog: &Catalog) -> Self {
        Self::with_weights(catalog, Weights::default())
    }

    pub fn with_weights(catalog: &Catalog, weights: Weights) -> Self {
        let actions: Vec<&Action> = catalog.actions().collect();
        Self::build(catalog, weights, Semantic::load_default(&actions))
    }

    /// With `encoder` given, or the error that explains why there is none.
    pub fn with_encoder(catalog: &Catalog, weights: Weights, encoder: Result<Encoder, ModelError>) -> Self {
        let actions: Vec<&Action> = catalog.actions().collect();
        Self::build(catalog, weights, Semantic::with_encoder(encoder, &actions))
    }

    fn build(catalog: &Catalog, weights: Weights, semantic: Semantic) -> Self {
        let actions: Vec<&Action> = catalog.actions().collect();
        let bm25 = Bm25::new(actions.iter().map(|a| document(a, &weights.fields)).collect(), weights.k1, weights.b);
        let nouns = actions.iter().flat_map(|a| tokens(&a.id).into_iter().skip(usize::from(Op::of_id(&a.id).is_some())).chain(tokens(&a.title))).collect();
        let entries = actions
            .iter()
            .map(|a| {
                let op = Op::of_action(a);
                let skip = usize::from(Op::of_id(&a.id).is_some());
                // "assignment" is implied: admins say "anna's role", not "anna's role assignment".
                let mut subject: Vec<String> = tokens(&a.id).into_iter().skip(skip).filter(|w| w != "assignment").collect();
                subject.sort();
                let id_words = tokens(&a.id);
                let items = match id_words.as_slice() {
                    [.., assigned, last] if last == "assignment" => vec![last.clone(), assigned.clone()],
                    [.., last] => vec![last.clone()],
                    [] => Vec::new(),
                };
                Entry { id: a.id.clone(), op, subject, items }
            })
            .collect();
        let texts = actions.iter().flat_map(|a| {
            let params = a.params.iter().map(|p| p.name.as_str());
            [a.id.as_str(), a.title.as_str(), a.group.as_str(), a.description.as_str(), a.note.as_deref().unwrap_or_default()].into_iter().chain(params)
        });
        // The search encoder's word list, found even where the encoder cannot run.
        let english_from = find_model(MODEL_VARIABLE, MODEL_FILE).map(|(_, tokenizer)| tokenizer);
        let spelling = Spelling::new(texts.chain(VOCABULARY.iter().map(|(phrase, _)| *phrase)), english_from);
        Self { bm25, actions: entries, vocabulary: Vocabulary::builtin(), weights, nouns, spelling, semantic }
    }

    /// Load the encoder and embed the actions on a thread of their own now, instead of
    /// at the first query.
    pub fn preload(&self) {
        self.semantic.preload();
    }

    /// Why ranking is lexical only, when it is (as far as is known without waiting
    /// for the model to load).
    pub fn warning(&self) -> Option<String> {
        self.semantic.warning()
    }

    /// The encoder's cosine of `query` with each action, in catalog order; None when
    /// ranking is lexical only.
    pub fn similarities(&self, query: &str) -> Option<Vec<f32>> {
        self.semantic.similarities(query).ok()
    }

    /// The best `limit` actions for `query`, best first; ties keep catalog order.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        self.find(query, limit).hits
    }

    /// As [`SearchIndex::search`], and whether any action fits the query closely.
    /// A need framed as done in bulk or from a file that seems to fit nothing is
    /// judged again without the framing: the actions do one record a call, and a
    /// script loops over the file's rows.
    pub fn find(&self, query: &str, limit: usize) -> Ranked {
        let mended = self.spelling.mend(query, |stem| self.bm25.knows(stem));
        let query = mended.as_deref().unwrap_or(query);
        let ranked = self.find_as_written(query, limit);
        let ranked = match ranked.nothing_fits.and_then(|_| super::intent::without_bulk_framing(query)) {
            Some(one_by_one) => Some(self.find_as_written(&one_by_one, limit)).filter(|r| r.nothing_fits.is_none()).unwrap_or(ranked),
            None => ranked,
        };
        // A need set off by an event is met only by an action that fits what is asked,
        // whatever fits the event; the hits stay ranked for the whole need.
        let asked = super::intent::asked_before_event(query).filter(|_| ranked.nothing_fits.is_none());
        let nothing_fits = match asked.and_then(|asked| self.best_similarity(asked)) {
            Some(best) if best < self.weights.nothing_fits_below => Some(best),
            _ => ranked.nothing_fits,
        };
        Ranked { read_as: mended, nothing_fits, ..ranked }
    }

    /// The encoder's best cosine of `text` with any action.
    fn best_similarity(&self, text: &str) -> Option<f32> {
        self.similarities(text).map(|s| best_of(&s))
    }

    fn find_as_written(&self, query: &str, limit: usize) -> Ranked {
        let similarities = self.similarities(query);
        let best = similarities.as_deref().map(best_of);
        Ranked { hits: self.rank(query, similarities.as_deref(), limit), nothing_fits: best.filter(|b| *b < self.weights.nothing_fits_below), read_as: None }
    }

    /// As [`SearchIndex::search`], with the cosines given (or none): lets a tuning run
    /// embed each query once and try many weights.
    pub fn rank(&self, query: &str, similarities: Option<&[f32]>, limit: usize) -> Vec<Hit> {
        let w = self.weights;
        let Analysis { terms, op, listed, mentions } = analyse(query, &self.vocabulary, &self.bm25, &self.nouns, &w);
        let lexical = self.bm25.scores(&terms);
        let mut hits: Vec<Hit> = self
            .actions
            .iter()
            .zip(lexical)
            .enumerate()
            .filter_map(|(i, (entry, lexical))| {
                let similarity = similarities.and_then(|s| s.get(i).copied());
                // A match by words, or by meaning alone when the encoder is sure enough.
                if lexical <= 0.0 && similarity.is_none_or(|s| f64::from(s) < w.min_similarity) {
                    return None;
                }
                // A word the id repeats must be said as often (`add_group_to_group` needs two groups).
                let named = entry.subject.iter().enumerate().filter(|&(k, w)| entry.subject[..k].iter().filter(|x| *x == w).count() < mentions.get(w).copied().unwrap_or(0)).count() as f64;
                let missed = entry.subject.len() as f64 - named;
                let fit = op.map_or(0.0, |q| q.fit(entry.op));
                let lists_them = op == Some(Op::List) && entry.op == Op::List && entry.items.iter().any(|i| listed.contains(i));
                let score = lexical + w.id_match * named - w.id_miss * missed + w.op * fit + w.listed * f64::from(u8::from(lists_them));
                let score = score + w.semantic * similarity.map_or(0.0, f64::from);
                Some(Hit { id: entry.id.clone(), score, similarity })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits.truncate(limit);
        hits
    }
}

/// What a query asks for.
struct Analysis {
    /// Weighted terms in catalog stems.
    terms: Vec<(String, f64)>,
    op: Option<Op>,
    /// For a list, the stems that may name its items (a word and what the
    /// vocabulary maps it to: teams → team, group).
    listed: Vec<String>,
    /// How often each term is said: by a word, a phrase's expansion or a person.
    mentions: HashMap<String, usize>,
}

/// The weighted terms of a query, the operation it asks for and what it lists.
fn analyse(query: &str, vocabulary: &Vocabulary, bm25: &Bm25, nouns: &HashSet<String>, w: &Weights) -> Analysis {
    let words = words(query);
    let stems: Vec<String> = words.iter().map(|w| stem(&w.text)).collect();
    let mut matches = vocabulary.matches(&stems);
    // A verb said with a plural -s is a noun ("application grants", "imports"): it
    // names a thing, not the operation.
    for m in &mut matches {
        if words[m.start].text.ends_with('s') && !stems[m.start].ends_with('s') {
            m.signals.clear();
        }
    }
    // The first phrase that names an operation decides it; later ones ("show the
    // certs we uploaded") neither change it nor add their terms.
    let verb = matches.iter().position(|m| !m.signals.is_empty());
    let op = query_op(&words, verb.map(|i| matches[i].signals[0].as_str()));
    let covering = |i: usize| matches.iter().position(|m| m.positions.contains(&i));

    let mut weights: HashMap<String, f64> = HashMap::new();
    let mut mentions: HashMap<String, usize> = HashMap::new();
    let mut person = false;
    for (i, (word, stem)) in words.iter().zip(&stems).enumerate() {
        if is_function_word(&word.text) {
            continue;
        }
        let phrase = covering(i).map(|m| &matches[m]);
        let other_verb = |k: usize| !matches[k].signals.is_empty() && (!w.verbs_as_terms || Some(k) != verb);
        if covering(i).is_some_and(|k| matches[k].replaces || other_verb(k)) {
            continue;
        }
        weights.insert(stem.clone(), 1.0);
        *mentions.entry(stem.clone()).or_default() += 1;
        // A word the catalog does not know, said of no known thing after it, is
        // nearly always a person: "kick bob out", "which groups is maria in". Before
        // a thing, unknown words are its name ("the beta testers group"); the
        // particle of a verb phrase ("take carlos *off*") is no thing.
        let known = |i: usize| covering(i).is_some() || bm25.knows(&stems[i]);
        let thing = |i: usize| covering(i).map_or(nouns.contains(&stems[i]), |m| matches[m].signals.is_empty());
        let name_ends = (i + 1..words.len()).find(|&j| is_function_word(&words[j].text) || known(j));
        let next_is_thing = name_ends.is_some_and(|j| !is_function_word(&words[j].text) && thing(j));
        // A value searched for ("named smith", "starts with eng") is no person either.
        if phrase.is_none() && !known(i) && !word.text.chars().all(|c| c.is_ascii_digit()) && (word.possessive || !next_is_thing) && !is_searched_value(&words, i) {
            person = true;
        }
    }
    for (k, m) in matches.iter().enumerate() {
        if !m.signals.is_empty() && Some(k) != verb {
            continue;
        }
        for term in &m.terms {
            *mentions.entry(term.clone()).or_default() += 1;
            let weight = weights.entry(term.clone()).or_insert(0.0);
            *weight = weight.max(w.expansion);
        }
    }
    let knows_something = weights.keys().any(|t| bm25.knows(t));
    if person && knows_something && w.unknown_user > 0.0 {
        *mentions.entry("user".to_owned()).or_default() += 1;
        let weight = weights.entry("user".to_owned()).or_insert(0.0);
        *weight = weight.max(w.unknown_user);
    }
    let mut terms: Vec<(String, f64)> = weights.into_iter().collect();
    terms.sort_by(|a, b| a.0.cmp(&b.0));
    let listed = match listed_noun(&words) {
        Some(Listed::Noun(at)) => {
            let mut listed = covering(at).map(|m| matches[m].terms.clone()).unwrap_or_default();
            listed.push(stems[at].clone());
            listed
        }
        Some(Listed::People) => vec!["user".to_owned()],
        _ => Vec::new(),
    };
    Analysis { terms, op, listed, mentions }
}

fn is_function_word(word: &str) -> bool {
    word.len() < 2 || is_stop_word(word) || matches!(word, "out" | "into" | "onto" | "about")
}

fn document(action: &Action, fields: &[f64; 5]) -> DocumentBuilder {
    let [id, title, group, description, params] = *fields;
    let mut doc = DocumentBuilder::default();
    doc.add(tokens(&action.id), id);
    doc.add(tokens(&action.title), title);
    doc.add(tokens(&action.group), group);
    doc.add(tokens(&action.description), description);
    for param in &action.params {
        doc.add(tokens(&param.name), params);
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_obvious_action_first() {
        let catalog = crate::catalog::load_builtin().unwrap();
        let index = SearchIndex::new(&catalog);
        for (query, expected) in [
            ("disable a user", "update_user_enabled_status"),
            ("rotate application secret", "generate_application_secret"),
            ("list users", "list_users"),
            ("add user to group", "add_user_to_group"),
        ] {
            let hits = index.search(query, 5);
            assert_eq!(hits.first().map(|h| h.id.as_str()), Some(expected), "{query}: {hits:?}");
        }
    }

    /// Review 43: "pasword reset" found nothing about passwords.
    #[test]
    fn a_mistyped_word_is_mended_and_said() {
        let catalog = crate::catalog::load_builtin().unwrap();
        let index = SearchIndex::new(&catalog);
        let ranked = index.find("pasword reset", 3);
        assert_eq!(ranked.read_as.as_deref(), Some("password reset"));
        assert!(ranked.hits.iter().any(|h| h.id == "set_user_password" || h.id == "force_user_password_change"), "{:?}", ranked.hits);
        assert_eq!(index.find("reset a password", 3).read_as, None);
    }

    #[test]
    fn adding_a_value_to_a_record_is_its_update_and_a_record_with_one_is_new() {
        let catalog = crate::catalog::load_builtin().unwrap();
        let index = SearchIndex::new(&catalog);
        for (query, expected) in [
            ("add a redirect URI to the portal app", Op::Update),
            ("add the groups scope to the Azure AD identity provider", Op::Update),
            ("add an app with a redirect uri", Op::Create),
            ("add a custom claim to the token of the HR portal app", Op::Create),
            ("add bob to the contractors team", Op::Create),
        ] {
            let op = analyse(query, &index.vocabulary, &index.bm25, &index.nouns, &index.weights).op;
            assert_eq!(op, Some(expected), "{query}");
        }
        let first = |query: &str| index.search(query, 1).first().map(|h| h.id.clone());
        assert_eq!(first("add a redirect URI to the portal app").as_deref(), Some("update_application"));
        assert_eq!(first("add an app with a redirect uri").as_deref(), Some("create_application"));
    }
}
#[cfg(test)]
mod debug_tests {
    use super::*;

    /// Why actions score as they do, term by term:
    /// `Q='kick bob out' IDS=remove_user_from_group,delete_group cargo test --lib explain -- --ignored --nocapture`.
    #[test]
    #[ignore = "a debugging aid"]
    fn explain() {
        let catalog = crate::catalog::load_builtin().unwrap();
        let index = SearchIndex::new(&catalog);
        let q = std::env::var("Q").unwrap();
        let Analysis { terms, op, listed, .. } = analyse(&q, &index.vocabulary, &index.bm25, &index.nouns, &index.weights);
        eprintln!("{terms:?} {op:?} lists {listed:?}");
        for id in std::env::var("IDS").unwrap().split(',') {
            let i = index.actions.iter().position(|a| a.id == id).unwrap();
            let per: Vec<(String, f64)> = terms.iter().map(|t| (t.0.clone(), index.bm25.scores(std::slice::from_ref(t))[i])).collect();
            eprintln!("{id} {:?} {per:?}", index.actions[i].subject);
        }
    }
}

#[cfg(test)]
mod intent_report {
    use super::*;

    /// Queries of the tuning split whose detected operation differs from their
    /// action's: `cargo test --lib intent_report -- --ignored --nocapture`.
    #[test]
    #[ignore = "a tuning aid"]
    fn operations_of_the_tuning_split() {
        let catalog = crate::catalog::load_builtin().unwrap();
        let index = SearchIndex::new(&catalog);
        let lines = include_str!("../../tests/data/search_queries.tsv").lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
        let (mut right, mut total) = (0, 0);
        for (i, line) in lines.enumerate() {
            if i % 3 == 2 {
                continue;
            }
            let mut columns = line.split('\t');
            let (query, id) = (columns.next().unwrap(), columns.next().unwrap());
            let op = analyse(query, &index.vocabulary, &index.bm25, &index.nouns, &index.weights).op;
            total += 1;
            if op == Op::of_id(id) {
                right += 1;
            } else {
                eprintln!("{op:?} want {:?}: {query}", Op::of_id(id));
            }
        }
        eprintln!("{right}/{total} operations right");
    }
}
