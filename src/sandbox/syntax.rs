//! Syntax errors the engine places outside the script. The script runs wrapped (as an
//! expression, or as an async function's body), so a bracket left open or closed once
//! too often is found in the wrapper: at a line past the script's end, at a `)` the
//! author never wrote, or at no line at all (an unterminated template literal). Those
//! are told by the bracket or quote in the script itself.

use guest_sdk::abi::{ScriptError, ScriptErrorKind};

/// The error with its place in the script, when the engine's is not in it.
pub fn placed_in_script(mut error: ScriptError, script: &str) -> ScriptError {
    if error.kind != ScriptErrorKind::Syntax || engine_line(&error.message).is_some_and(|line| line <= script.lines().count().max(1)) {
        return error;
    }
    if let Some(found) = first_unbalanced(script) {
        let head = error.message.split(" at line ").next().unwrap_or_default().to_owned();
        error.message = format!("{found} (the engine said: {head})");
    }
    error
}

/// The line of the engine's `at line N, col M`.
fn engine_line(message: &str) -> Option<usize> {
    let at = message.find("at line ")? + "at line ".len();
    message[at..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// The first bracket closed without being opened, or else the innermost one, string or
/// template left open at the end, with where it is.
fn first_unbalanced(script: &str) -> Option<String> {
    let mut open: Vec<(char, usize, usize)> = Vec::new();
    let mut chars = script.chars().peekable();
    let (mut line, mut column) = (1, 0);
    let mut quote: Option<(char, usize, usize)> = None;
    let mut comment: Option<bool> = None; // Some(true): to the end of the line
    let mut previous = '\0';
    while let Some(c) = chars.next() {
        column += 1;
        if c == '\n' {
            line += 1;
            column = 0;
        }
        match (comment, quote) {
            (Some(true), _) if c == '\n' => comment = None,
            (Some(false), _) if previous == '*' && c == '/' => comment = None,
            (Some(_), _) => {}
            (None, Some(_)) if c == '\\' => {
                if chars.next() == Some('\n') {
                    line += 1;
                    column = 0;
                } else {
                    column += 1;
                }
                previous = '\0';
                continue;
            }
            (None, Some((q, ..))) if c == q => quote = None,
            (None, Some((q, ..))) if c == '\n' && q != '`' => quote = None, // the engine says where
            (None, Some(_)) => {}
            (None, None) => match c {
                '/' if chars.peek() == Some(&'/') => comment = Some(true),
                '/' if chars.peek() == Some(&'*') => {
                    chars.next();
                    column += 1;
                    comment = Some(false);
                }
                '\'' | '"' | '`' => quote = Some((c, line, column)),
                '{' | '(' | '[' => open.push((c, line, column)),
                '}' | ')' | ']' => {
                    let opener = match c {
                        '}' => '{',
                        ')' => '(',
                        _ => '[',
                    };
                    match open.pop() {
                        Some((o, ..)) if o == opener => {}
                        Some((o, l, col)) => return Some(format!("the `{c}` at line {line}, column {column} does not close the `{o}` opened at line {l}, column {col}")),
                        None => return Some(format!("the `{c}` at line {line}, column {column} closes nothing that was opened: remove it, or open what it closes")),
                    }
                }
                _ => {}
            },
        }
        previous = c;
    }
    if let Some(('`', l, col)) = quote {
        return Some(format!("the template literal opened with ` at line {l}, column {col} is never closed: end it with another `"));
    }
    open.last().map(|(o, l, col)| format!("the `{o}` opened at line {l}, column {col} is never closed: the script ends first"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syntax(message: &str) -> ScriptError {
        ScriptError { kind: ScriptErrorKind::Syntax, name: "SyntaxError".into(), message: message.into(), action_error: None, at: None }
    }

    #[test]
    fn a_bracket_left_open_or_closed_twice_is_told_where_it_is() {
        let missing = "const users = await pingone.list_users({});\nfor (const u of users.items) {\n  console.log(u.id);\n\nreturn 1;";
        let told = placed_in_script(syntax("unexpected token ')', primary expression at line 6, col 4"), missing).message;
        assert_eq!(told, "the `{` opened at line 2, column 30 is never closed: the script ends first (the engine said: unexpected token ')', primary expression)");
        let extra = "return 1;\n}";
        let told = placed_in_script(syntax("expected one of ')' or ',', got '}' in CoverParenthesizedExpressionAndArrowParameterList at line 3, col 3"), extra).message;
        assert!(told.starts_with("the `}` at line 2, column 1 closes nothing that was opened"), "{told}");
        let template = "const s = `unterminated;\nreturn s;";
        let told = placed_in_script(syntax("unterminated template literal"), template).message;
        assert!(told.starts_with("the template literal opened with ` at line 1, column 11 is never closed"), "{told}");
    }

    #[test]
    fn a_place_inside_the_script_is_kept_and_strings_and_comments_do_not_count() {
        let script = "const a = '{('; // )\n/* } */ return a +;";
        let error = syntax("unexpected token ';' at line 2, col 19");
        assert_eq!(placed_in_script(error.clone(), script), error);
        assert_eq!(first_unbalanced(script), None);
        assert_eq!(first_unbalanced("const s = `a ${x} \\` b`; return [s]"), None);
    }
}
