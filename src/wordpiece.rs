//! A fast path for BERT-uncased WordPiece on plain ASCII text.
//!
//! The `tokenizers` crate takes about 250 µs for a 64-token sentence here, more than a
//! tenth of the classifier's 2 ms budget: every word becomes a `NormalizedString` with
//! per-character alignments. On ASCII text without control characters or special-token
//! strings, BERT's normaliser only lowercases, so the whole pipeline reduces to
//! splitting on whitespace and punctuation and a greedy longest-match over the
//! vocabulary, which this does with no allocation per word. Any other text goes to
//! `tokenizers`, and a test checks that both give the same ids and offsets.

use std::collections::HashMap;

/// Tokens of one text: ids and the byte offset where each ends in the text.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tokens {
    pub ids: Vec<u32>,
    pub ends: Vec<usize>,
}

/// Token bytes to id.
type Vocab = HashMap<Box<[u8]>, u32>;

/// The vocabulary, split into word starts and `##` continuations.
#[derive(Debug)]
pub struct WordPiece {
    starts: Vocab,
    continuations: Vocab,
    unk: u32,
    longest: usize,
    /// Added tokens matched in the raw text before normalisation ("[SEP]" in a
    /// description becomes the separator id): such text takes the slow path.
    specials: Vec<String>,
}

/// Words longer than this (in characters) become [UNK], as in BERT's WordPiece.
const MAX_WORD_CHARS: usize = 100;

impl WordPiece {
    /// From the `tokenizers` tokenizer of a BERT-uncased model (WordPiece with `##`
    /// continuations); None for any other kind, which then always takes the slow path.
    pub fn from_tokenizer(tok: &tokenizers::Tokenizer) -> Option<WordPiece> {
        let config = serde_json::to_value(tok).ok()?;
        let lowercase_bert = config["normalizer"]["type"] == "BertNormalizer"
            && config["normalizer"]["lowercase"] == true
            && config["pre_tokenizer"]["type"] == "BertPreTokenizer"
            && config["model"]["type"] == "WordPiece"
            && config["model"]["continuing_subword_prefix"] == "##"
            && config["model"]["max_input_chars_per_word"] == MAX_WORD_CHARS;
        if !lowercase_bert {
            return None;
        }
        let unk = tok.token_to_id(config["model"]["unk_token"].as_str()?)?;
        let (mut starts, mut continuations) = (Vocab::new(), Vocab::new());
        for (token, id) in tok.get_vocab(false) {
            match token.strip_prefix("##") {
                Some(rest) if !rest.is_empty() => continuations.insert(rest.as_bytes().into(), id),
                _ => starts.insert(token.as_bytes().into(), id),
            };
        }
        let longest = starts.keys().chain(continuations.keys()).map(|k| k.len()).max().unwrap_or(0);
        let specials = tok.get_added_tokens_decoder().values().map(|t| t.content.clone()).collect();
        Some(WordPiece { starts, continuations, unk, longest, specials })
    }

    /// The tokens of `text`, or None when it is not plain ASCII (control characters
    /// other than tab, newline and carriage return, or an added token's string) and
    /// must go through `tokenizers`.
    pub fn encode(&self, text: &str) -> Option<Tokens> {
        let bytes = text.as_bytes();
        let plain = bytes.iter().all(|&b| b.is_ascii() && (b >= b' ' || matches!(b, b'\t' | b'\n' | b'\r')) && b != 0x7f);
        if !plain || self.specials.iter().any(|s| text.contains(s.as_str())) {
            return None;
        }
        let mut out = Tokens::default();
        let mut word = [0u8; MAX_WORD_CHARS];
        let mut start = 0;
        while start < bytes.len() {
            let b = bytes[start];
            if b.is_ascii_whitespace() {
                start += 1;
                continue;
            }
            let end = if b.is_ascii_punctuation() {
                start + 1
            } else {
                start + bytes[start..].iter().position(|c| c.is_ascii_whitespace() || c.is_ascii_punctuation()).unwrap_or(bytes.len() - start)
            };
            self.word(&bytes[start..end], start, &mut word, &mut out);
            start = end;
        }
        Some(out)
    }

    /// Greedy longest match of one word (bytes at `offset` in the text).
    fn word(&self, raw: &[u8], offset: usize, lower: &mut [u8; MAX_WORD_CHARS], out: &mut Tokens) {
        if raw.len() > MAX_WORD_CHARS {
            out.ids.push(self.unk);
            out.ends.push(offset + raw.len());
            return;
        }
        let lower = &mut lower[..raw.len()];
        for (l, r) in lower.iter_mut().zip(raw) {
            *l = r.to_ascii_lowercase();
        }
        let first = out.ids.len();
        let mut at = 0;
        while at < lower.len() {
            let vocab = if at == 0 { &self.starts } else { &self.continuations };
            let longest = (lower.len() - at).min(self.longest);
            let found = (1..=longest).rev().find_map(|n| vocab.get(&lower[at..at + n]).map(|&id| (id, n)));
            let Some((id, n)) = found else {
                // No piece fits: the whole word is unknown.
                out.ids.truncate(first);
                out.ends.truncate(first);
                out.ids.push(self.unk);
                out.ends.push(offset + raw.len());
                return;
            };
            out.ids.push(id);
            out.ends.push(offset + at + n);
            at += n;
        }
    }
}
