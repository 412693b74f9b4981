//! The device authorization grant (RFC 8628): `POST /{envId}/as/device_authorization`
//! starts it, and a person approves or denies it at `/{envId}/device` by entering the
//! user code and signing on. The client polls the token endpoint meanwhile.

use std::time::Instant;

use rand::Rng;
use serde_json::json;

use super::clients::{allows_grant, authenticated_post};
use super::flows::{normalise_user_code, Device, DeviceStatus, Grant};
use super::form::{is_form, Params};
use super::front::Ctx;
use super::pages::{device_form, message, Answer};
use super::people::check_credentials;
use super::tokens::{audience_for, InvalidTarget};
use crate::simulator::clock::now_secs;
use crate::simulator::errors::oauth_error;
use crate::simulator::reply::{Reply, Req};

/// Consonants only, so a user code never spells a word or mixes up 0/O and 1/I.
const USER_CODE_LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

fn verification_uri(ctx: &Ctx) -> String {
    format!("{}/{}/device", ctx.st.base_url, ctx.st.environment_id)
}

/// `ABCD-EFGH`, unused by any pending authorization.
fn new_user_code(ctx: &mut Ctx) -> String {
    loop {
        let letters: String = (0..8).map(|_| USER_CODE_LETTERS[ctx.st.rng.gen_range(0..USER_CODE_LETTERS.len())] as char).collect();
        if !ctx.flows.user_codes.contains_key(&letters) {
            return format!("{}-{}", &letters[..4], &letters[4..]);
        }
    }
}

/// Starts a device authorization for a client allowed the `DEVICE_CODE` grant.
pub(crate) fn device_authorization(ctx: &mut Ctx, req: &Req) -> Reply {
    start(ctx, req).unwrap_or_else(|error| error)
}

fn start(ctx: &mut Ctx, req: &Req) -> Result<Reply, Reply> {
    let (params, client_id) = authenticated_post(ctx.st, req, "device authorization request")?;
    if !ctx.st.applications.get(&client_id).is_some_and(|app| allows_grant(app, "DEVICE_CODE")) {
        return Err(oauth_error(400, "unauthorized_client", "Request denied: the application may not use the device authorization grant"));
    }
    let audience = audience_for(ctx.st, params.get("resource")).map_err(|InvalidTarget(why)| oauth_error(400, "invalid_target", why))?;
    let device_code = ctx.st.random_text(48);
    let user_code = new_user_code(ctx);
    let ttl = ctx.settings.device_code_ttl;
    ctx.flows.user_codes.insert(normalise_user_code(&user_code), device_code.clone());
    ctx.flows.devices.insert(
        device_code.clone(),
        Device { client_id, user_code: user_code.clone(), scope: params.scope(), audience, status: DeviceStatus::Pending, expires: Instant::now() + ttl, last_poll: None },
    );
    let uri = verification_uri(ctx);
    Ok(Reply::ok(json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": uri,
        "verification_uri_complete": format!("{uri}?user_code={user_code}"),
        "expires_in": ttl.as_secs(),
        "interval": ctx.settings.device_interval.as_secs(),
    })))
}

/// `GET /{envId}/device[?user_code=]` shows the form; `POST` approves or denies.
pub(crate) fn page(ctx: &mut Ctx, req: &Req) -> Answer {
    let action = format!("/{}/device", ctx.st.environment_id);
    match req.method.as_str() {
        "GET" => device_form(&action, Params::query(req).get("user_code").unwrap_or_default(), None),
        "POST" if is_form(req) => decide(ctx, &Params::form(req), &action),
        "POST" => message(400, "Bad request", "The form must be application/x-www-form-urlencoded."),
        _ => message(405, "Method not allowed", "Use GET or POST."),
    }
}

fn decide(ctx: &mut Ctx, p: &Params, action: &str) -> Answer {
    let typed = p.get("user_code").unwrap_or_default();
    let now = Instant::now();
    let found = ctx.flows.device_code_for(typed).filter(|dc| ctx.flows.devices.get(dc).is_some_and(|d| d.expires > now));
    let Some(device_code) = found else {
        return device_form(action, typed, Some("That code is unknown or has expired. Check the code on your device."));
    };
    let device = ctx.flows.devices.get(&device_code).cloned().expect("found above");
    if !matches!(device.status, DeviceStatus::Pending) {
        return message(400, "Code already used", "This code was already approved or denied.");
    }
    if p.has("deny") {
        set_status(ctx, &device_code, DeviceStatus::Denied);
        return message(200, "Access denied", "The device was not connected. You may close this window.");
    }
    let user_id = match check_credentials(ctx.st, p.get("username").unwrap_or_default(), p.get("password").unwrap_or_default()) {
        Ok(id) => id,
        Err(why) => return device_form(action, typed, Some(why)),
    };
    let grant = Grant { user_id, client_id: device.client_id, scope: device.scope, audience: device.audience, session_id: ctx.st.new_id(), auth_time: now_secs() };
    set_status(ctx, &device_code, DeviceStatus::Approved(grant));
    message(200, "Device connected", "Your device is connected. You may close this window and return to it.")
}

fn set_status(ctx: &mut Ctx, device_code: &str, status: DeviceStatus) {
    if let Some(d) = ctx.flows.devices.get_mut(device_code) {
        d.status = status;
    }
}
