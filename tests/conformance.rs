//! The MCP conformance suite (`@modelcontextprotocol/conformance server`) against the
//! real binary over streamable HTTP. Scenarios that do not apply to a tools-only
//! server are listed, with reasons, in tests/data/conformance-baseline.yml.

mod common;

use std::path::PathBuf;
use std::process::Command;

/// Node >= 22 and the suite, installed by scripts/test.sh; None with a visible skip.
fn suite(test: &str) -> Option<(PathBuf, PathBuf)> {
    let dir = std::env::var_os("PINGONE_MCP_INSPECTOR_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/pingone-mcp/inspector")))?
        .join("node_modules");
    let node = dir.join(".bin/node");
    let cli = dir.join("@modelcontextprotocol/conformance/dist/index.js");
    if node.exists() && cli.exists() {
        Some((node, cli))
    } else {
        eprintln!("SKIPPED {test}: the MCP conformance suite is not installed (run scripts/test.sh, or set PINGONE_MCP_INSPECTOR_DIR)");
        None
    }
}

#[test]
fn the_http_server_passes_the_conformance_suite() {
    let Some((node, cli)) = suite("the_http_server_passes_the_conformance_suite") else { return };
    let (mut server, url) = common::start_http_server(&["--simulator", "--no-auth"], &[]);
    let results = tempfile::tempdir().unwrap();
    let baseline = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance-baseline.yml");
    let output = Command::new(node)
        .arg(cli)
        .args(["server", "--url", &url, "--expected-failures"])
        .arg(&baseline)
        .arg("--output-dir")
        .arg(results.path())
        .output()
        .expect("node runs");
    server.kill().unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "conformance failures beyond the baseline:\n{report}\n{}", String::from_utf8_lossy(&output.stderr));
    for applies in ["server-initialize", "ping", "tools-list", "dns-rebinding-protection"] {
        assert!(report.contains(&format!("✓ {applies}:")), "{applies} did not pass:\n{report}");
    }
}
