//! Mistyped words mended before a query is ranked: "pasword reset" is read as
//! "password reset". A word is mended only when it is no English word (the search
//! encoder's vocabulary, which holds ~20,000 common words whole, decides), the catalog
//! does not know it, and one slip of the fingers (a letter added, dropped, swapped with
//! its neighbour, or struck on a key beside the right one) makes it a word the catalog
//! or the vocabulary uses. "remote", "looked" and
//! "paying" are words, not typos of "remove", "locked" and "paging". Short words are
//! left alone: at five letters and under, one edit turns names into words.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::tokens::{stem, words};

/// Words this short or shorter are never mended, nor offered as a mend.
const SHORTEST_MENDED: usize = 6;

/// The English words a tokenizer's vocabulary (`tokenizer.json`, WordPiece) holds
/// whole; None when it cannot be read.
fn english_words(tokenizer: &Path) -> Option<HashSet<String>> {
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(tokenizer).ok()?).ok()?;
    let vocabulary = json.pointer("/model/vocab")?.as_object()?;
    Some(vocabulary.keys().filter(|w| w.len() > 1 && w.chars().all(|c| c.is_ascii_lowercase())).cloned().collect())
}

#[derive(Debug, Clone, Default)]
pub struct Spelling {
    /// Each known word, lower-case, with how often the texts it came from use it.
    known: HashMap<String, usize>,
    /// English words, which are never mended; none known: nothing is mended. Read from
    /// `english_from` at the first mend, so a run that never searches never reads them.
    english: OnceLock<HashSet<String>>,
    english_from: Option<PathBuf>,
}

impl Spelling {
    /// From the texts the catalog and vocabulary are written in, and the tokenizer whose
    /// vocabulary gives the English words.
    pub fn new<'t>(texts: impl IntoIterator<Item = &'t str>, english_from: Option<PathBuf>) -> Self {
        let mut known: HashMap<String, usize> = HashMap::new();
        for text in texts {
            for word in words(text) {
                *known.entry(word.text).or_default() += 1;
            }
        }
        Self { known, english: OnceLock::new(), english_from }
    }

    fn english(&self) -> &HashSet<String> {
        self.english.get_or_init(|| self.english_from.as_deref().and_then(english_words).unwrap_or_default())
    }

    /// `query` with each mistyped word replaced by the word it most likely meant, or
    /// None when no word needed it. `knows_stem` says whether the ranking knows a word
    /// by its stem (a form the texts do not use, "disabling", is no typo).
    pub fn mend(&self, query: &str, knows_stem: impl Fn(&str) -> bool) -> Option<String> {
        let mut mended = String::with_capacity(query.len());
        let mut changed = false;
        let mut rest = query;
        while let Some(start) = rest.find(|c: char| c.is_ascii_alphabetic()) {
            mended.push_str(&rest[..start]);
            let run = &rest[start..];
            let end = run.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(run.len());
            let word = &run[..end];
            match self.meant(word, &knows_stem) {
                Some(meant) => {
                    mended.push_str(meant);
                    changed = true;
                }
                None => mended.push_str(word),
            }
            rest = &run[end..];
        }
        mended.push_str(rest);
        changed.then_some(mended)
    }

    /// Whether `word` is an English word, or one with an ending (`-s`, `-ed`, `-ing`)
    /// the vocabulary leaves off ("integrations", "onboarded"). With no English
    /// words known, every word counts as one.
    fn is_english(&self, word: &str) -> bool {
        let endings = ["s", "es", "d", "ed", "ing", "ly", "er"];
        let english = self.english();
        english.is_empty() || english.contains(word) || endings.iter().filter_map(|e| word.strip_suffix(e)).any(|base| english.contains(base) || english.contains(&format!("{base}e")))
    }

    /// The known word one edit from `word`, when `word` is unknown: the most used of
    /// them (ties: the first in alphabetical order).
    fn meant(&self, word: &str, knows_stem: &impl Fn(&str) -> bool) -> Option<&str> {
        // Mixed case is a name or an id someone typed on purpose ("PingOne", "McKay").
        if word.len() < SHORTEST_MENDED || word.chars().skip(1).any(|c| c.is_ascii_uppercase()) {
            return None;
        }
        let lower = word.to_ascii_lowercase();
        if self.known.contains_key(&lower) || knows_stem(&stem(&lower)) || self.is_english(&lower) {
            return None;
        }
        self.known
            .iter()
            .filter(|(known, _)| known.len() >= SHORTEST_MENDED && known.len().abs_diff(lower.len()) <= 1 && is_typo_of(&lower, known))
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(known, _)| known.as_str())
    }
}

/// Whether `typed` is `word` with one slip of the fingers: a letter added, dropped or
/// swapped with its neighbour, or struck on a key beside the right one. Another
/// changed letter is more often another word ("reword" is no typo of "record").
fn is_typo_of(typed: &str, word: &str) -> bool {
    if strsim::osa_distance(typed, word) != 1 {
        return false;
    }
    if typed.len() != word.len() {
        return true;
    }
    let differing: Vec<(u8, u8)> = typed.bytes().zip(word.bytes()).filter(|(a, b)| a != b).collect();
    match differing.as_slice() {
        [(struck, meant)] => keys_touch(*struck, *meant),
        _ => true, // two neighbours swapped
    }
}

/// Whether two letters' keys touch on a QWERTY keyboard.
fn keys_touch(a: u8, b: u8) -> bool {
    const ROWS: [&[u8]; 3] = [b"qwertyuiop", b"asdfghjkl", b"zxcvbnm"];
    let at = |key: u8| ROWS.iter().enumerate().find_map(|(row, keys)| keys.iter().position(|k| *k == key).map(|col| (row as i32, col as i32)));
    let (Some((ra, ca)), Some((rb, cb))) = (at(a), at(b)) else { return false };
    // A row sits half a key right of the one above: its key at c touches c and c + 1 above.
    match rb - ra {
        0 => (ca - cb).abs() == 1,
        1 => cb == ca || cb == ca - 1,
        -1 => ca == cb || ca == cb - 1,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spelling over `texts`, with `english` as the English words.
    fn with_english<const N: usize>(texts: &[&str], english: [&str; N]) -> Spelling {
        let spelling = Spelling::new(texts.iter().copied(), None);
        spelling.english.set(english.map(String::from).into()).expect("not read yet");
        spelling
    }

    fn spelling() -> Spelling {
        let english = ["set", "user", "password", "change", "reset", "devices", "groups", "remote", "look", "integration"];
        with_english(&["Set a user's password", "Force a password change at next sign-in", "Reset the user's MFA devices", "List the groups", "passwords", "remove a locked device"], english)
    }

    #[test]
    fn one_edit_from_a_known_word_is_mended() {
        let mend = |q: &str| spelling().mend(q, |_| false);
        assert_eq!(mend("pasword reset").as_deref(), Some("password reset"));
        assert_eq!(mend("Pssword, then devcies!").as_deref(), Some("password, then devices!"));
        assert_eq!(mend("chnage the grousp").as_deref(), Some("change the groups"));
    }

    #[test]
    fn known_words_names_and_short_words_are_left() {
        let mend = |q: &str| spelling().mend(q, |_| false);
        assert_eq!(mend("reset the password of the groups"), None);
        // Five letters or fewer, mixed case, or more than one edit away.
        assert_eq!(mend("grop"), None);
        assert_eq!(mend("PasWord"), None);
        assert_eq!(mend("psswrd"), None);
        // A form the ranking knows by its stem.
        assert_eq!(spelling().mend("resetting", |known| known == stem("resetting")), None);
        // English words one edit from a catalog word, with or without an ending.
        assert_eq!(mend("the remote workers looked at integrations"), None);
        // A letter changed to one whose key is not beside it is another word.
        assert_eq!(with_english(&["record"], ["the"]).mend("reword", |_| false), None);
        assert_eq!(with_english(&["record"], ["the"]).mend("recird", |_| false).as_deref(), Some("record"));
        // Without English words nothing can be told from a typo.
        assert_eq!(Spelling::new(["password"], None).mend("pasword", |_| false), None);
    }
}
