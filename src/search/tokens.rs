//! Turning text into terms: words split on punctuation, snake_case and camelCase,
//! lower-cased and lightly stemmed, so that `enabled`, `enable` and `enabling` meet.

/// Words with no meaning of their own for ranking.
const STOP_WORDS: [&str; 40] = [
    "the", "an", "and", "or", "of", "to", "in", "for", "on", "with", "by", "is", "it", "be", "as", "at", "this", "that",
    "these", "those", "we", "our", "my", "me", "his", "her", "their", "its", "from", "are", "was", "do", "does", "has",
    "have", "can", "so", "now", "any", "please",
];

/// One word of a text as typed: lower-cased, and whether it ended in a possessive `'s`.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub text: String,
    pub possessive: bool,
    /// A camelCase piece after the first (`One` of `PingOne`).
    pub piece: bool,
}

/// The words of `text`, lower-cased, split on anything not alphanumeric and on
/// camelCase; `'s` after a word marks it possessive instead of being a word.
pub fn words(text: &str) -> Vec<Word> {
    let mut words: Vec<Word> = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    let mut piece = false;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !c.is_alphanumeric() {
            let apostrophe = matches!(c, '\'' | '\u{2019}');
            let s_follows = chars.get(i + 1).is_some_and(|n| *n == 's' || *n == 'S')
                && !chars.get(i + 2).is_some_and(|n| n.is_alphanumeric());
            if !current.is_empty() {
                words.push(Word { text: std::mem::take(&mut current), possessive: apostrophe && s_follows, piece });
            }
            if apostrophe && s_follows {
                i += 1;
            }
            previous_lower = false;
            piece = false;
            i += 1;
            continue;
        }
        // Not before a lone capital (or one plus a plural `s`): `IdP`, `IdPs` are words.
        let rest = chars[i + 1..].iter().take_while(|n| n.is_lowercase() || n.is_ascii_digit()).count();
        let lone = rest == 0 || (rest == 1 && chars[i + 1] == 's' && !chars.get(i + 2).is_some_and(|n| n.is_alphanumeric()));
        if c.is_uppercase() && previous_lower && !current.is_empty() && !lone {
            words.push(Word { text: std::mem::take(&mut current), possessive: false, piece });
            piece = true;
        }
        previous_lower = c.is_lowercase();
        current.extend(c.to_lowercase());
        i += 1;
    }
    if !current.is_empty() {
        words.push(Word { text: current, possessive: false, piece });
    }
    words
}

pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

/// Terms of a catalog text: stemmed words, stop words and single letters dropped.
pub fn tokens(text: &str) -> Vec<String> {
    words(text).into_iter().filter(|w| w.text.len() > 1 && !is_stop_word(&w.text)).map(|w| stem(&w.text)).collect()
}

/// A light suffix stripper: plural and verb endings, then a final `e`
/// (`enabled`, `enable` → `enabl`; `policies` → `policy`; `roles`, `role` → `rol`).
pub fn stem(word: &str) -> String {
    let word = word.to_lowercase();
    if word.len() <= 3 || ["ss", "us", "is"].iter().any(|end| word.ends_with(end)) {
        return word;
    }
    let mut base = word.as_str();
    let mut owned = None;
    for suffix in ["ies", "es", "s", "ing", "ed"] {
        if base.len() >= suffix.len() + 3 && base.ends_with(suffix) {
            if suffix == "ies" {
                owned = Some(format!("{}y", &base[..base.len() - 3]));
            } else {
                base = &base[..base.len() - suffix.len()];
            }
            break;
        }
    }
    if let Some(owned) = owned {
        return owned;
    }
    if base.len() > 3 && base.ends_with('e') {
        base = &base[..base.len() - 1];
    }
    base.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_ids_and_camel_case() {
        assert_eq!(tokens("update_user_enabled_status"), ["updat", "user", "enabl", "status"]);
        assert_eq!(tokens("memberOfGroups"), ["member", "group"]);
        assert_eq!(tokens("IdP IdPs PingOne"), ["idp", "idp", "ping", "one"]);
    }

    #[test]
    fn stems_meet() {
        for (a, b) in [("enable", "enabled"), ("policies", "policy"), ("roles", "role"), ("types", "type"), ("nested", "nest")] {
            assert_eq!(stem(a), stem(b), "{a} {b}");
        }
        assert_eq!(stem("status"), "status");
        assert_eq!(stem("access"), "access");
    }

    #[test]
    fn possessives_are_marked_not_split() {
        let w = words("john's account, the app\u{2019}s secret");
        let texts: Vec<&str> = w.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["john", "account", "the", "app", "secret"]);
        assert!(w[0].possessive && !w[1].possessive && w[3].possessive);
    }
}
