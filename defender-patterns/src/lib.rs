//! The defender's first tier, cheap enough for every string the server returns:
//! [`normalise`] undoes the obfuscations that hide an instruction, and [`patterns`]
//! matches our prompt-injection patterns over the result.
//!
//! A crate of its own so that it is always built optimised (`[profile.dev.package]`
//! in the workspace's Cargo.toml): the server and its tests run the dev profile, where
//! the root crate is built at opt-level 1 to keep builds short, and this code's
//! iterator-heavy loops are several times slower there.

pub mod normalise;
pub mod patterns;
