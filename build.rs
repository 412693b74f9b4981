//! The built-in actions are embedded with `include_dir!`, which cannot tell cargo
//! about files added later; this makes any change under `actions/` rebuild the crate.

fn main() {
    println!("cargo:rerun-if-changed=actions");
}
