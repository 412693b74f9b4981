//! Server start with the compiled guest module already cached: from spawning
//! `pingone-mcp serve` to its answer to `initialize` on stdio.
//!
//!   cargo bench --bench startup            (release profile)
//!   cargo bench --profile dev --bench startup
//!
//! Two ways to start: against an empty cassette (what a tenant deployment does
//! before its first call: no network at start) and with the built-in simulator
//! (which also seeds its 200 users).

// A benchmark reports its figures on stdout.
#![allow(clippy::print_stdout)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 20;

/// Spawns the server, sends `initialize`, waits for the answer; the time taken.
fn start_once(args: &[&str]) -> Duration {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pingone-mcp"))
        .args(["serve"])
        .args(args)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#;
    writeln!(child.stdin.as_mut().unwrap(), "{initialize}").unwrap();
    let mut answer = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut answer).unwrap();
    let elapsed = started.elapsed();
    assert!(answer.contains("\"serverInfo\""), "not an initialize answer: {answer}");
    child.kill().unwrap();
    child.wait().unwrap();
    elapsed
}

fn report(name: &str, args: &[&str]) {
    start_once(args); // compiles and caches the module if it was not yet
    let mut times: Vec<Duration> = (0..RUNS).map(|_| start_once(args)).collect();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("{name}: p50 {:.1} ms, p90 {:.1} ms, min {:.1} ms ({RUNS} starts)", ms(times[RUNS / 2]), ms(times[RUNS * 9 / 10]), ms(times[0]));
}

fn main() {
    let cassette = std::env::temp_dir().join(format!("pingone-mcp-startup-{}.json", std::process::id()));
    std::fs::write(&cassette, r#"{"format":1,"calls":[]}"#).unwrap();
    report("serve, cached module, no network (--replay of an empty cassette)", &["--replay", cassette.to_str().unwrap()]);
    report("serve --simulator, cached module (seeds 200 users)", &["--simulator"]);
    let _ = std::fs::remove_file(cassette);
}
