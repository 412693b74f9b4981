//! What agents send, made runnable: Markdown fences stripped.

/// Strips a surrounding Markdown code fence (```js … ```), which models often add.
pub fn prepare_script(script: &str) -> String {
    let trimmed = script.trim();
    let Some(rest) = trimmed.strip_prefix("```") else {
        return trimmed.to_owned();
    };
    // The fence's info string (js, javascript, ts…) runs to the end of the line.
    let body = rest.split_once('\n').map(|(_, body)| body).unwrap_or("");
    body.trim_end().strip_suffix("```").unwrap_or(body).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::prepare_script;

    #[test]
    fn fences_are_stripped() {
        assert_eq!(prepare_script("```js\nreturn 1\n```"), "return 1");
        assert_eq!(prepare_script("```\nreturn 1\n```\n"), "return 1");
        assert_eq!(prepare_script("  return 2 "), "return 2");
        assert_eq!(prepare_script("```javascript\nconst a = '```';\nreturn a\n```"), "const a = '```';\nreturn a");
    }
}
