//! The real binary driven by the MCP Inspector CLI (`@modelcontextprotocol/inspector`),
//! answering from a cassette so no PingOne is needed.

mod common;

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// The Inspector's install (scripts/test.sh makes it), or None with a visible skip.
fn inspector_bin_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("PINGONE_MCP_INSPECTOR_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/pingone-mcp/inspector")))?
        .join("node_modules/.bin");
    if dir.join("mcp-inspector").exists() && dir.join("node").exists() {
        Some(dir)
    } else {
        eprintln!("SKIPPED {test}: the MCP Inspector is not installed (run scripts/test.sh, or set PINGONE_MCP_INSPECTOR_DIR)");
        None
    }
}

fn inspect(bin_dir: &std::path::Path, cassette: &std::path::Path, args: &[&str]) -> Value {
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let output = Command::new(bin_dir.join("mcp-inspector"))
        .env("PATH", path)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .args(["--cli", env!("CARGO_BIN_EXE_pingone-mcp"), "serve", "--replay", cassette.to_str().unwrap()])
        .args(args)
        .output()
        .expect("the inspector runs");
    assert!(output.status.success(), "inspector failed: {}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

#[test]
fn inspector_lists_searches_and_executes() {
    let Some(bin_dir) = inspector_bin_dir("inspector_lists_searches_and_executes") else { return };
    let dir = tempfile::tempdir().unwrap();
    let cassette = dir.path().join("cassette.json");
    let user = serde_json::json!({ "format": 1, "calls": [{ "action": "list_users", "args": { "limit": 2 }, "reply": { "value": { "items": [{ "username": "ana" }, { "username": "bo" }], "count": 2 } } }] });
    std::fs::write(&cassette, user.to_string()).unwrap();

    let tools = inspect(&bin_dir, &cassette, &["--method", "tools/list"]);
    let names: Vec<&str> = tools["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["search_tools", "execute"]);
    assert_eq!(tools["tools"][1]["annotations"]["readOnlyHint"], true, "read-only by default");

    let found = inspect(&bin_dir, &cassette, &["--method", "tools/call", "--tool-name", "search_tools", "--tool-arg", "query=list all users"]);
    let hits: Vec<&str> = found["structuredContent"]["actions"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert!(hits.contains(&"list_users"), "{hits:?}");

    let code = "code=const page = await pingone.list_users({ limit: 2 }); return page.items.map(u => u.username)";
    let ran = inspect(&bin_dir, &cassette, &["--method", "tools/call", "--tool-name", "execute", "--tool-arg", code]);
    assert_eq!(ran["structuredContent"]["result"], serde_json::json!(["ana", "bo"]), "{ran}");

    let failed = inspect(&bin_dir, &cassette, &["--method", "tools/call", "--tool-name", "execute", "--tool-arg", "code=return pingone.delete_user({ userId: 'x' })"]);
    assert_eq!(failed["isError"], true);
    assert!(failed["content"][0]["text"].as_str().unwrap().contains("--allow-writes"), "{failed}");
}
