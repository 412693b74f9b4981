//! Builds what the binary embeds:
//! - the JavaScript guest (`sandboxes/js`) for wasm32-wasip1, in release mode, in
//!   its own target directory (a nested cargo cannot share the outer one's lock);
//! - and makes any change under `actions/` rebuild the crate (`include_dir!` cannot
//!   tell cargo about files added later).

use std::path::{Path, PathBuf};
use std::process::Command;

const GUEST_PACKAGE: &str = "pingone-js-sandbox";
const GUEST_TARGET: &str = "wasm32-wasip1";
/// Cargo profile of the guest build (Cargo.toml: release plus LTO).
const GUEST_PROFILE: &str = "guest";

fn main() {
    println!("cargo:rerun-if-changed=actions");
    for path in ["sandboxes/js/src", "sandboxes/js/Cargo.toml", "guest-sdk/src", "guest-sdk/Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={path}");
    }
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let wasm = build_guest(&manifest_dir);
    std::fs::copy(&wasm, out_dir.join("pingone_js_sandbox.wasm")).expect("copy the guest module into OUT_DIR");
}

fn build_guest(manifest_dir: &Path) -> PathBuf {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir.join("target"))
        .join("wasm-guest");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(manifest_dir)
        .args(["build", "--profile", GUEST_PROFILE, "--package", GUEST_PACKAGE, "--target", GUEST_TARGET, "--target-dir"])
        .arg(&target_dir);
    // The outer build's flags are for the host, not the guest.
    for var in ["CARGO_ENCODED_RUSTFLAGS", "RUSTFLAGS", "CARGO_BUILD_TARGET", "CARGO_TARGET_DIR", "RUSTC_WORKSPACE_WRAPPER"] {
        command.env_remove(var);
    }
    let status = command.status().expect("run cargo to build the JavaScript guest");
    if !status.success() {
        panic!(
            "building the JavaScript guest ({GUEST_PACKAGE}) for {GUEST_TARGET} failed; \
             if the target is missing, run `rustup target add {GUEST_TARGET}`"
        );
    }
    target_dir.join(GUEST_TARGET).join(GUEST_PROFILE).join("pingone_js_sandbox.wasm")
}
