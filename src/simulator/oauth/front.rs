//! The auth host's front: which endpoint a path names, and the context each handler
//! gets (state, flows, keys, settings), taken in one fixed lock order.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::flows::Flows;
use super::form::Params;
use super::keys::SigningKeys;
use super::pages::Answer;
use super::{authorize, device, discovery, grants};
use crate::simulator::errors::oauth_error;
use crate::simulator::reply::Req;
use crate::simulator::routes;
use crate::simulator::server::App;
use crate::simulator::store::State;

/// Tunables of the flows that tests want short.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The device flow's polling `interval`.
    pub device_interval: Duration,
    /// How long a device code lives.
    pub device_code_ttl: Duration,
}

/// Everything the auth host keeps besides the simulator's state.
pub(crate) struct AuthServer {
    pub keys: SigningKeys,
    pub flows: Mutex<Flows>,
    pub settings: Settings,
}

impl AuthServer {
    /// Starts generating the signing key in the background (see `keys`).
    pub fn start(seed: u64, settings: Settings) -> Self {
        Self { keys: SigningKeys::start(seed), flows: Mutex::new(Flows::default()), settings }
    }
}

/// What a handler works with.
pub(crate) struct Ctx<'a> {
    pub st: &'a mut State,
    pub flows: &'a mut Flows,
    pub keys: &'a SigningKeys,
    pub settings: &'a Settings,
}

enum Endpoint {
    Discovery,
    Jwks,
    Authorize,
    DeviceAuthorization,
    Token,
    Revoke,
    Userinfo,
    /// `/{envId}/device`: where a person enters a device's user code.
    DevicePage,
    Unknown,
}

fn endpoint<'a>(segs: &[&'a str]) -> Option<(&'a str, Endpoint)> {
    let found = match segs {
        ["v1", ..] => return None,
        [env, "as", ".well-known", "openid-configuration"] => (*env, Endpoint::Discovery),
        [env, "as", "jwks"] => (*env, Endpoint::Jwks),
        [env, "as", "authorize"] => (*env, Endpoint::Authorize),
        [env, "as", "device_authorization"] => (*env, Endpoint::DeviceAuthorization),
        [env, "as", "token"] => (*env, Endpoint::Token),
        [env, "as", "revoke"] => (*env, Endpoint::Revoke),
        [env, "as", "userinfo"] => (*env, Endpoint::Userinfo),
        [env, "device"] => (*env, Endpoint::DevicePage),
        [env, "as", ..] => (*env, Endpoint::Unknown),
        _ => return None,
    };
    Some(found)
}

/// Whether answering needs a signing key (so it is awaited before any lock is taken).
fn needs_key(endpoint: &Endpoint, req: &Req) -> bool {
    match endpoint {
        Endpoint::Jwks => true,
        Endpoint::Token => Params::form(req).get("grant_type") != Some("client_credentials"),
        _ => false,
    }
}

/// Answers a request to the auth host; `None` when the path is not one of its own.
pub(crate) async fn handle(app: &Arc<App>, req: &Req, segs: &[&str]) -> Option<Answer> {
    let (env, endpoint) = endpoint(segs)?;
    if needs_key(&endpoint, req) && !app.auth.keys.is_ready() {
        // Key generation runs on its own thread; wait for it off the async workers.
        let waiting = app.clone();
        let _ = tokio::task::spawn_blocking(move || drop(waiting.auth.keys.current())).await;
    }
    let mut st = app.state();
    let mut flows = app.auth.flows.lock().unwrap_or_else(|p| p.into_inner());
    flows.sweep(Instant::now());
    if env != st.environment_id {
        return Some(oauth_error(404, "invalid_request", &format!("unknown environment `{env}`")).into());
    }
    let mut ctx = Ctx { st: &mut st, flows: &mut flows, keys: &app.auth.keys, settings: &app.auth.settings };
    Some(match endpoint {
        Endpoint::Discovery => discovery::openid_configuration(ctx.st).into(),
        Endpoint::Jwks => discovery::jwks(ctx.keys).into(),
        Endpoint::Authorize => authorize::authorize(&mut ctx, req),
        Endpoint::DeviceAuthorization => device::device_authorization(&mut ctx, req).into(),
        Endpoint::Token => grants::token(&mut ctx, req).into(),
        Endpoint::Revoke => grants::revoke(&mut ctx, req).into(),
        Endpoint::Userinfo => routes::userinfo(ctx.st, req).into(),
        Endpoint::DevicePage => device::page(&mut ctx, req),
        Endpoint::Unknown => oauth_error(404, "invalid_request", "unknown endpoint").into(),
    })
}
