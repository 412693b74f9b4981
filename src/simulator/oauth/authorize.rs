//! `GET|POST /{envId}/as/authorize`: the authorization-code flow's browser side.
//!
//! A valid request answers the sign-on form; the form posts back here with its
//! `flowId`, and the right password redirects to `redirect_uri?code=…&state=…`.
//! Until the client and its redirect URI are known good, errors are pages, never
//! redirects, so the endpoint cannot be used as an open redirector (RFC 6749 §4.1.2.1).

use std::time::{Duration, Instant};

use serde_json::Value;

use super::clients::{allows_grant, enabled_app, redirect_allowed};
use super::flows::{Code, Grant, SignOn};
use super::form::{is_form, Params};
use super::front::Ctx;
use super::pages::{message, sign_on_form, Answer};
use super::people::check_credentials;
use super::pkce;
use super::tokens::{audience_for, InvalidTarget};
use crate::simulator::clock::now_secs;
use crate::simulator::reply::Req;

/// How long a person has to sign on.
const SIGN_ON_TTL: Duration = Duration::from_secs(600);
/// Authorization codes are short-lived (RFC 6749 §4.1.2 recommends at most 10 minutes).
const CODE_TTL: Duration = Duration::from_secs(60);

pub(crate) fn authorize(ctx: &mut Ctx, req: &Req) -> Answer {
    match req.method.as_str() {
        "GET" => start(ctx, &Params::query(req)),
        "POST" if is_form(req) => {
            let params = Params::form(req);
            // OpenID Connect also allows the authorization request itself as a POST.
            if params.has("flowId") {
                sign_on(ctx, &params)
            } else {
                start(ctx, &params)
            }
        }
        "POST" => message(400, "Bad request", "The form must be application/x-www-form-urlencoded."),
        _ => message(405, "Method not allowed", "Use GET or POST."),
    }
}

/// `redirect_uri` with the response parameters appended to its query.
fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)]) -> Answer {
    let mut url = url::Url::parse(redirect_uri).expect("redirect URIs are checked against the registered ones, which parse");
    url.query_pairs_mut().extend_pairs(pairs.iter().copied());
    Answer::Redirect(url.to_string())
}

fn redirect_error(redirect_uri: &str, state: Option<&str>, error: &str, description: &str) -> Answer {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    redirect_with(redirect_uri, &pairs)
}

fn app_name(app: &Value) -> String {
    app["name"].as_str().unwrap_or("the application").to_owned()
}

/// Validates an authorization request and answers the sign-on form.
fn start(ctx: &mut Ctx, p: &Params) -> Answer {
    let Some(client_id) = p.get("client_id") else {
        return message(400, "Invalid request", "The request has no client_id.");
    };
    let Some(app) = enabled_app(ctx.st, client_id) else {
        return message(400, "Invalid client", "The client_id names no enabled application in this environment.");
    };
    let Some(redirect_uri) = p.get("redirect_uri") else {
        return message(400, "Invalid request", "The request has no redirect_uri.");
    };
    if url::Url::parse(redirect_uri).is_err() || !redirect_allowed(app, redirect_uri) {
        return message(400, "Invalid redirect URI", "The redirect_uri is not registered for this application.");
    }
    // From here on, errors go back to the client.
    let state = p.get("state");
    let fail = |error: &str, description: &str| redirect_error(redirect_uri, state, error, description);
    if p.get("response_type") != Some("code") {
        return fail("unsupported_response_type", "response_type must be code");
    }
    if !allows_grant(app, "AUTHORIZATION_CODE") {
        return fail("unauthorized_client", "the application may not use the authorization_code grant");
    }
    let pkce_required = matches!(app["pkceEnforcement"].as_str(), Some("REQUIRED" | "S256_REQUIRED"));
    let code_challenge = match (p.get("code_challenge"), p.get("code_challenge_method")) {
        (Some(challenge), Some("S256")) if pkce::challenge_well_formed(challenge) => Some(challenge.to_owned()),
        (Some(_), Some("S256")) => return fail("invalid_request", "code_challenge must be the base64url SHA-256 of the verifier (43 characters)"),
        (Some(_), _) => return fail("invalid_request", "code_challenge_method must be S256"),
        (None, _) if pkce_required => return fail("invalid_request", "the application requires PKCE: send code_challenge with code_challenge_method=S256"),
        (None, _) => None,
    };
    let audience = match audience_for(ctx.st, p.get("resource")) {
        Ok(aud) => aud,
        Err(InvalidTarget(why)) => return fail("invalid_target", why),
    };
    let name = app_name(app);
    let sign_on = SignOn {
        client_id: app["id"].as_str().unwrap_or(client_id).to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scope: p.scope(),
        state: state.map(str::to_owned),
        nonce: p.get("nonce").map(str::to_owned),
        code_challenge,
        audience,
        expires: Instant::now() + SIGN_ON_TTL,
    };
    let flow_id = ctx.st.new_id();
    ctx.flows.sign_ons.insert(flow_id.clone(), sign_on);
    sign_on_form(&action(ctx), &flow_id, &name, None)
}

/// The form's `action`: this endpoint.
fn action(ctx: &Ctx) -> String {
    format!("/{}/as/authorize", ctx.st.environment_id)
}

/// The posted sign-on form: the right password redirects with a code.
fn sign_on(ctx: &mut Ctx, p: &Params) -> Answer {
    let flow_id = p.get("flowId").unwrap_or_default();
    let Some(flow) = ctx.flows.sign_ons.get(flow_id).filter(|f| f.expires > Instant::now()).cloned() else {
        return message(400, "Sign-on expired", "This sign-on is unknown or has expired. Start again from the application.");
    };
    let user_id = match check_credentials(ctx.st, p.get("username").unwrap_or_default(), p.get("password").unwrap_or_default()) {
        Ok(user_id) => user_id,
        Err(why) => {
            let name = ctx.st.applications.get(&flow.client_id).map(app_name).unwrap_or_default();
            return sign_on_form(&action(ctx), flow_id, &name, Some(why));
        }
    };
    ctx.flows.sign_ons.remove(flow_id);
    let grant = Grant { user_id, client_id: flow.client_id, scope: flow.scope, audience: flow.audience, session_id: ctx.st.new_id(), auth_time: now_secs() };
    let code = ctx.st.random_text(43);
    let redirect_uri = flow.redirect_uri.clone();
    ctx.flows.codes.insert(
        code.clone(),
        Code { grant, redirect_uri: flow.redirect_uri, code_challenge: flow.code_challenge, nonce: flow.nonce, expires: Instant::now() + CODE_TTL, redeemed: None },
    );
    let mut pairs = vec![("code", code.as_str())];
    if let Some(state) = flow.state.as_deref() {
        pairs.push(("state", state));
    }
    redirect_with(&redirect_uri, &pairs)
}
