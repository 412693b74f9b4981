//! PingOne as an authorization server for people, so per-user sign-on and JWT
//! validation run offline: discovery, JWKS, authorize (PKCE), device authorization,
//! token (client credentials, authorization code, refresh, device code), revocation,
//! and role enforcement for a person's token on the management API.

mod authorize;
mod clients;
mod device;
mod discovery;
mod flows;
mod form;
mod front;
mod grants;
mod keys;
mod pages;
mod people;
mod permissions;
mod pkce;
mod tokens;

pub(crate) use front::{handle, AuthServer, Settings};
pub(crate) use people::seed_sign_on;
pub use people::Person;
pub(crate) use permissions::{application_may_call, may_assign, not_assignable, person_may_call};
pub use tokens::JwtSpec;
pub(crate) use tokens::{issuer, management_audience, mint_access};
