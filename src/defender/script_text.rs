//! The text an agent's script writes itself: its string and template literals. A
//! console line or result the script builds from them (`added ${u.username} to group
//! Admins`) is judged by what came from elsewhere, not by the script's own words, which
//! are the agent's and read like the admin goals the defender looks for.

/// Literal parts shorter than this (or without a letter) are not taken out: a short one
/// could match a record's text by chance.
const MIN_FRAGMENT_CHARS: usize = 4;

/// The script's string literals and the fixed parts of its template literals, as the
/// script would print them, longest first. A best effort, not a parser: what it misses
/// is judged with the rest.
pub fn literal_fragments(script: &str) -> Vec<String> {
    let chars: Vec<char> = script.chars().collect();
    let mut fragments = Vec::new();
    let mut at = 0;
    code(&chars, &mut at, &mut fragments, false);
    fragments.retain(|f: &String| f.chars().count() >= MIN_FRAGMENT_CHARS && f.chars().any(char::is_alphabetic));
    fragments.sort_by_key(|f| std::cmp::Reverse(f.len()));
    fragments.dedup();
    fragments
}

/// Code up to its end, or (`nested`) up to the `}` that closes a template's `${`.
fn code(chars: &[char], at: &mut usize, out: &mut Vec<String>, nested: bool) {
    let mut depth = 0usize;
    while *at < chars.len() {
        let c = chars[*at];
        *at += 1;
        match c {
            '/' if chars.get(*at) == Some(&'/') => {
                while *at < chars.len() && chars[*at] != '\n' {
                    *at += 1;
                }
            }
            '/' if chars.get(*at) == Some(&'*') => {
                *at += 1;
                while *at < chars.len() && !(chars[*at] == '*' && chars.get(*at + 1) == Some(&'/')) {
                    *at += 1;
                }
                *at += 2;
            }
            '\'' | '"' | '`' => literal(chars, at, c, out),
            '{' => depth += 1,
            '}' if nested && depth == 0 => return,
            '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
}

/// A literal after its opening `close`: a '…' or "…" string, which ends at its quote
/// or line, or a template, which ends at its backtick and whose fixed parts are each a
/// fragment, the code of each `${…}` read for literals of its own.
fn literal(chars: &[char], at: &mut usize, close: char, out: &mut Vec<String>) {
    let template = close == '`';
    let mut text = String::new();
    while *at < chars.len() {
        let c = chars[*at];
        *at += 1;
        match c {
            '\\' => escaped(chars, at, &mut text),
            c if c == close => break,
            '\n' if !template => break,
            '$' if template && chars.get(*at) == Some(&'{') => {
                *at += 1;
                out.push(std::mem::take(&mut text));
                code(chars, at, out, true);
            }
            c => text.push(c),
        }
    }
    out.push(text);
}

/// The character after a backslash, as the script means it.
fn escaped(chars: &[char], at: &mut usize, text: &mut String) {
    if let Some(&next) = chars.get(*at) {
        *at += 1;
        text.push(unescaped(next));
    }
}

fn unescaped(c: char) -> char {
    match c {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_template_parts_are_found() {
        let script = "// a comment's 'quote' is not a string\nconst a = 'added'; /* \"nor\" here */\nconsole.log(`added ${u.username} to group ${g.name ?? 'Admins group'}: done`);\nreturn \"it\\'s \\\"fine\\\"\"";
        let fragments = literal_fragments(script);
        assert_eq!(fragments, ["Admins group", "it's \"fine\"", " to group ", "added ", ": done", "added"]);
    }

    #[test]
    fn short_or_letterless_parts_are_left_in() {
        assert!(literal_fragments("console.log(`${a}, ${b} - ${c}`, 'ok', ' :: ')").is_empty());
    }
}
