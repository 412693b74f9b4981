//! An in-process PingOne API simulator.
pub mod filter;
