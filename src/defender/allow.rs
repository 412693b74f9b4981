//! Texts an administrator has read and allows through the defender: a file of SHA-256
//! digests (`--defender-allow FILE`), one a line, each with an optional note:
//!
//! ```text
//! # Descriptions of our Hamburg tenant, read in the console on 2026-12-04.
//! sha256:610f34192cdd126c23f9612f4bf599e5a58f1188f43d824a92bbf86ed100146b  the group description "Vertrieb Hamburg"
//! ```
//!
//! A digest, not the text, so the file can sit in a shared config without copying
//! tenant data, and a text that changes by one character is scanned again. The server
//! log and `pingone-mcp scan` print the digest of every text they withhold.
//!
//! The file is read again at every scan and parsed when it changed, so a running server
//! takes new entries without a restart. When it can no longer be read, or no longer
//! parses, no text is allowed through until it is fixed, and every reply says why: an
//! allowance is never kept on a file that was meant to change it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

const PREFIX: &str = "sha256:";

/// The digest of `text` as the allow file writes it: `sha256:` and 64 hex digits.
pub fn digest(text: &str) -> String {
    let bytes = Sha256::digest(text.as_bytes());
    let mut out = String::with_capacity(PREFIX.len() + 64);
    out.push_str(PREFIX);
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The digests of one allow file's text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Allowed {
    digests: HashSet<[u8; 32]>,
}

impl Allowed {
    /// Parse an allow file: `sha256:<64 hex digits>` at the start of each entry line,
    /// anything after whitespace a note; blank lines and `#` comments skipped.
    pub fn parse(text: &str) -> Result<Allowed, String> {
        let mut digests = HashSet::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let entry = line.split_whitespace().next().unwrap_or_default();
            let digest = parse_digest(entry).ok_or_else(|| {
                format!(
                    "line {}: `{}` is not an allowed-text digest: write `sha256:` and the 64 hex digits that the server log or `pingone-mcp scan` printed for the text, then any note",
                    n + 1,
                    shorten(entry)
                )
            })?;
            digests.insert(digest);
        }
        Ok(Allowed { digests })
    }

    pub fn contains(&self, text: &str) -> bool {
        !self.digests.is_empty() && self.digests.contains(&<[u8; 32]>::from(Sha256::digest(text.as_bytes())))
    }

    pub fn len(&self) -> usize {
        self.digests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }
}

fn parse_digest(entry: &str) -> Option<[u8; 32]> {
    let hex = entry.strip_prefix(PREFIX)?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn shorten(entry: &str) -> String {
    match entry.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &entry[..cut]),
        None => entry.to_string(),
    }
}

/// An allow file, read again when it changes.
#[derive(Debug)]
pub struct AllowFile {
    path: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The file's bytes when last read (None: it could not be read). Compared whole,
    /// not by modified time, which a coarse filesystem clock can leave unchanged.
    seen: Option<Vec<u8>>,
    allowed: Arc<Allowed>,
    /// Why nothing is allowed through: the file could not be read or parsed.
    problem: Option<String>,
}

impl AllowFile {
    /// Read `path` now: a file that is missing or does not parse is an error, so a
    /// mistake is seen at start rather than as texts withheld later.
    pub fn open(path: &Path) -> Result<AllowFile, String> {
        let file = AllowFile { path: path.to_path_buf(), state: Mutex::new(State { seen: None, allowed: Arc::default(), problem: None }) };
        file.refresh();
        let problem = file.state.lock().unwrap_or_else(|e| e.into_inner()).problem.clone();
        match problem {
            Some(problem) => Err(problem),
            None => Ok(file),
        }
    }

    /// The texts allowed now (the file read again if it changed), and why none are
    /// when the file is broken (see [`AllowFile::problem`]).
    pub fn current(&self) -> (Arc<Allowed>, Option<String>) {
        self.refresh();
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        (state.allowed.clone(), state.problem.clone())
    }

    /// A warning for every reply while the file is broken, as of its last reading (every
    /// scan reads it, through [`AllowFile::current`]).
    pub fn problem(&self) -> Option<String> {
        let why = self.state.lock().unwrap_or_else(|e| e.into_inner()).problem.clone()?;
        Some(format!("WARNING: the defender's allow file {} is broken ({why}); no text is allowed through until it is fixed", self.path.display()))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read the file (small, once a scan) and parse it only when its bytes changed.
    fn refresh(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = std::fs::read(&self.path);
        if let (Ok(now), Some(before)) = (&bytes, &state.seen) {
            if now == before {
                return;
            }
        }
        state.seen = bytes.as_ref().ok().cloned();
        let read = bytes
            .map_err(|e| format!("cannot read it: {e}"))
            .and_then(|b| String::from_utf8(b).map_err(|_| "it is not UTF-8 text".to_string()))
            .and_then(|text| Allowed::parse(&text));
        match read {
            Ok(allowed) => {
                state.allowed = Arc::new(allowed);
                state.problem = None;
            }
            Err(why) => {
                state.allowed = Arc::default();
                state.problem = Some(why);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_sha256_in_hex() {
        assert_eq!(digest("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn entries_notes_comments_and_blank_lines() {
        let text = format!("# reviewed 2026-12-04\n\n{}  Vertrieb Hamburg\n  {}\n", digest("Vertrieb Hamburg"), digest("Équipe de Lyon").to_uppercase().replace("SHA256:", "sha256:"));
        let allowed = Allowed::parse(&text).unwrap();
        assert_eq!(allowed.len(), 2);
        assert!(allowed.contains("Vertrieb Hamburg"));
        assert!(allowed.contains("Équipe de Lyon"), "hex digits in either case");
        assert!(!allowed.contains("Vertrieb Hamburg."), "one character more is another text");
    }

    #[test]
    fn a_bad_line_is_named_with_the_fix() {
        for (line, bad) in [("9f86d08188", "9f86d08188"), ("sha256:9f86", "sha256:9f86"), (&format!("sha256:{}", "g".repeat(64)), "sha256:ggg"), ("Vertrieb Hamburg", "Vertrieb")] {
            let err = Allowed::parse(&format!("# ok\n{line}\n")).unwrap_err();
            assert!(err.starts_with("line 2: `"), "{err}");
            assert!(err.contains(bad), "{err}");
            assert!(err.contains("64 hex digits"), "{err}");
        }
    }

    #[test]
    fn the_file_is_read_again_when_it_changes_and_fails_closed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("allow.txt");
        assert!(AllowFile::open(&path).unwrap_err().contains("cannot read it"));
        std::fs::write(&path, "# nothing yet\n").unwrap();
        let file = AllowFile::open(&path).unwrap();
        assert!(!file.current().0.contains("Vertrieb Hamburg"));
        std::fs::write(&path, format!("{} Vertrieb Hamburg\n", digest("Vertrieb Hamburg"))).unwrap();
        let (allowed, problem) = file.current();
        assert!(allowed.contains("Vertrieb Hamburg") && problem.is_none());
        std::fs::write(&path, format!("{} Vertrieb Hamburg\nnot a digest\n", digest("Vertrieb Hamburg"))).unwrap();
        let (allowed, problem) = file.current();
        assert!(!allowed.contains("Vertrieb Hamburg"), "a broken file allows nothing");
        assert!(problem.unwrap().contains("line 2"));
        // The same length, written at once: still seen, whatever the filesystem's clock.
        let other = digest("Équipe de Lyon");
        std::fs::write(&path, format!("{} Vertrieb Hamburg\n", digest("Vertrieb Hamburg"))).unwrap();
        assert!(file.current().0.contains("Vertrieb Hamburg"));
        std::fs::write(&path, format!("{other} Vertrieb Hamburg\n")).unwrap();
        assert!(!file.current().0.contains("Vertrieb Hamburg") && file.current().0.contains("Équipe de Lyon"));
        std::fs::remove_file(&path).unwrap();
        assert!(!file.current().0.contains("Équipe de Lyon"));
        let problem = file.problem().unwrap();
        assert!(problem.contains("cannot read it") && problem.contains("no text is allowed through until it is fixed"), "{problem}");
    }
}
