//! What agents send, made runnable: Markdown fences stripped.

/// Strips a surrounding Markdown code fence (```js … ```), which models often add, and
/// the blank space around the script. The lines taken off the top are put back as
/// empty lines, so an error names the line the agent wrote.
pub fn prepare_script(script: &str) -> String {
    let body = strip(script);
    // `body` is a slice of `script`: what precedes it was taken off the top. Its first
    // line keeps its indent, so columns hold too.
    let start = body.as_ptr() as usize - script.as_ptr() as usize;
    let line_start = script[..start].rfind('\n').map_or(0, |at| at + 1);
    let lines_above = script[..line_start].matches('\n').count();
    let indent = Some(&script[line_start..start]).filter(|indent| indent.trim().is_empty()).unwrap_or_default();
    format!("{}{indent}{body}", "\n".repeat(lines_above))
}

fn strip(script: &str) -> &str {
    let trimmed = script.trim();
    let Some(rest) = trimmed.strip_prefix("```") else {
        return trimmed;
    };
    // The fence's info string (js, javascript, ts…) runs to the end of the line.
    // (An empty slice at the end of `rest`, not a literal: `prepare_script` locates it.)
    let body = rest.split_once('\n').map_or(&rest[rest.len()..], |(_, body)| body);
    body.trim_end().strip_suffix("```").unwrap_or(body).trim()
}

#[cfg(test)]
mod tests {
    use super::prepare_script;

    #[test]
    fn fences_are_stripped_and_lines_keep_their_numbers() {
        assert_eq!(prepare_script("```js\nreturn 1\n```"), "\nreturn 1");
        assert_eq!(prepare_script("```\nreturn 1\n```\n"), "\nreturn 1");
        assert_eq!(prepare_script("  return 2 "), "  return 2");
        assert_eq!(prepare_script("\n\n\nnull.x;\n\n"), "\n\n\nnull.x;");
        assert_eq!(prepare_script("```javascript\nconst a = '```';\nreturn a\n```"), "\nconst a = '```';\nreturn a");
        assert_eq!(prepare_script("```js\n\n  return 3\n```"), "\n\n  return 3");
        assert_eq!(prepare_script("```js"), "");
        assert_eq!(prepare_script("   "), "");
    }
}
