//! The one place that writes to stdout and stderr for people.

use std::io::Write;

#[allow(clippy::print_stdout)]
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = writeln!(out, "{text}");
}

/// `text` as it is, ended with a line ending only when it does not end with one.
pub fn print_raw(text: &str) {
    let mut out = std::io::stdout().lock();
    let ending = if text.ends_with('\n') { "" } else { "\n" };
    let _ = write!(out, "{text}{ending}");
}

pub fn print_json(value: &serde_json::Value) {
    print(&serde_json::to_string_pretty(value).unwrap_or_default());
}

pub fn error(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "error: {text}");
}

/// A script's console line, on stderr so stdout stays the result.
pub fn log_line(level: &str, message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "[{level}] {message}");
}

/// A message for the person running the command (never on stdout, which may be a protocol).
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
