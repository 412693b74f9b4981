//! What an email address looks like, one rule for the argument check (before a call is
//! sent) and the simulator (as PingOne answers).

/// Whether `text` is an email address as PingOne takes one (RFC 2822's addr-spec, its
/// usual form): one `@`, a name before it, and after it a domain of dot-separated labels,
/// no blank anywhere. `bob@@example.com`, `@example.com` and `not-an-email` are not.
pub fn is_address(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else { return false };
    let label_ok = |label: &str| !label.is_empty() && label.chars().all(|c| c.is_alphanumeric() || c == '-');
    !local.is_empty()
        && !text.chars().any(char::is_whitespace)
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && domain.split('.').all(label_ok)
}

#[cfg(test)]
mod tests {
    use super::is_address;

    #[test]
    fn an_address_has_one_at_a_name_and_a_domain() {
        for ok in ["ana@example.com", "ana.silva+hr@mail.example.co.uk", "o'brien@example.ie", "zoë@exämple.de", "admin@localhost"] {
            assert!(is_address(ok), "{ok}");
        }
        for bad in ["not-an-email", "bob@@example.com", "@example.com", "ana@", "ana @example.com", "ana@example..com", ".ana@example.com", "ana@exa_mple.com", ""] {
            assert!(!is_address(bad), "{bad}");
        }
    }
}
