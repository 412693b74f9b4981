//! Shared by the integration tests: where `../shared` is and how to run the binary.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// `../shared` beside the checkout (or `PINGONE_MCP_SHARED`), if present. Tests that
/// need it skip with a visible message when it is absent.
pub mod fake_pingone;

/// A record as read back, without the fields the server owns (`_links`, `id`,
/// `environment`, `createdAt`, `updatedAt`): a body to create or replace it with.
pub fn without_server_fields(record: &serde_json::Value) -> serde_json::Value {
    let mut body = record.clone();
    if let Some(fields) = body.as_object_mut() {
        for owned in ["_links", "id", "environment", "createdAt", "updatedAt"] {
            fields.remove(owned);
        }
    }
    body
}

pub fn shared_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("PINGONE_MCP_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    if dir.join("ACTIONS.md").is_file() {
        Some(dir)
    } else {
        eprintln!("SKIPPED {test}: {} not found (set PINGONE_MCP_SHARED to the shared folder)", dir.display());
        None
    }
}

/// Runs the real `pingone-mcp` binary with a clean PingOne environment.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pingone-mcp"));
    command.args(args);
    for (key, _) in std::env::vars() {
        if key.starts_with("PINGONE_") {
            command.env_remove(key);
        }
    }
    // No stray config file from the developer's home.
    command.env("XDG_CONFIG_HOME", "/nonexistent");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the pingone-mcp binary runs")
}

/// One compiled guest for the whole test binary (compiling takes seconds).
pub async fn sandbox() -> &'static pingone_mcp::sandbox::Sandbox {
    static SANDBOX: tokio::sync::OnceCell<pingone_mcp::sandbox::Sandbox> = tokio::sync::OnceCell::const_new();
    SANDBOX.get_or_init(|| async { pingone_mcp::sandbox::Sandbox::new().await.expect("the sandbox loads") }).await
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The Python with `mcp` installed: PINGONE_MCP_PYTHON, or the venv scripts/test.sh makes.
pub fn python_with_mcp(test: &str) -> Option<PathBuf> {
    let candidate = std::env::var_os("PINGONE_MCP_PYTHON")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/pingone-mcp/venv/bin/python")))?;
    let works = Command::new(&candidate).args(["-c", "import mcp"]).output().is_ok_and(|o| o.status.success());
    if !works {
        eprintln!("SKIPPED {test}: no Python with the `mcp` package (run scripts/test.sh, or set PINGONE_MCP_PYTHON)");
        return None;
    }
    Some(candidate)
}

/// A Python MCP client driver under tests/clients/, e.g. mcp_client.py.
pub fn client_script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients").join(name)
}

/// Starts `serve --http 127.0.0.1:0` and returns it with the URL it printed.
pub fn start_http_server(extra: &[&str], env: &[(&'static str, String)]) -> (std::process::Child, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pingone-mcp"));
    command.args(["serve", "--http", "127.0.0.1:0"]).args(extra).env("XDG_CONFIG_HOME", "/nonexistent").stderr(std::process::Stdio::piped()).stdout(std::process::Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("the server starts");
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let url = loop {
        let line = lines.next().expect("the server prints its URL").unwrap();
        if let Some(at) = line.find("http://") {
            break line[at..].trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

/// A loopback port for a server a test starts itself, below Linux's ephemeral range
/// (32768–60999): a port the system picked with `:0` and let go can be taken by any
/// outgoing connection before the server binds it; one down here only by a bind.
pub fn listen_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    // Test binaries run side by side: each starts at its own place in 20000–31999.
    let start = (std::process::id() % 12_000) as u16;
    loop {
        let port = 20_000 + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % 12_000;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}
