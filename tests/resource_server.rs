//! The HTTP server's side of per-user auth, as a library: access tokens checked
//! against the simulator's real JWKS (each failure on its own), scopes mapped to
//! grants that narrow the policy, and session tokens issued, checked and revoked.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use guest_sdk::abi::{HostCall, HostReply};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use pingone_mcp::catalog::load_builtin;
use pingone_mcp::dispatch::{Backend, Dispatcher};
use pingone_mcp::pingone::{PingOneClient, RetryPolicy};
use pingone_mcp::policy::{default_scope_grants, Caller, Grant, Policy, PolicyConfig, ScopeGrant};
use pingone_mcp::resource_server::{JwtValidator, ResourceServer, SessionTokens, ServedProfile, TokenError, Refusal};
use pingone_mcp::search::SearchIndex;
use pingone_mcp::simulator::{JwtSpec, Simulator, SimulatorConfig};
use serde_json::json;

const AUDIENCE: &str = "http://127.0.0.1:9/mcp";

async fn simulator() -> Simulator {
    Simulator::start(SimulatorConfig { users: 20, ..SimulatorConfig::default() }, 0).await.unwrap()
}

fn spec(sim: &Simulator, audience: &str, lifetime_secs: i64) -> JwtSpec {
    JwtSpec { subject: sim.admin.user_id.clone(), audience: audience.into(), scope: "openid pingone-mcp:read".into(), lifetime_secs, not_before_offset_secs: 0, client_id: Some(sim.login_client_id.clone()) }
}

fn validator(sim: &Simulator) -> JwtValidator {
    JwtValidator::new(&sim.issuer(), &format!("{}/jwks", sim.issuer()), AUDIENCE).with_min_refetch(Duration::ZERO)
}

#[tokio::test]
async fn a_good_access_token_is_accepted() {
    let sim = simulator().await;
    let claims = validator(&sim).validate(&sim.issue_jwt(spec(&sim, AUDIENCE, 300))).await.unwrap();
    assert_eq!(claims.sub, sim.admin.user_id);
    assert_eq!(claims.scopes().collect::<Vec<_>>(), ["openid", "pingone-mcp:read"]);
}

#[tokio::test]
async fn each_bad_access_token_is_refused_for_its_own_reason() {
    let sim = simulator().await;
    let v = validator(&sim);
    let good = sim.issue_jwt(spec(&sim, AUDIENCE, 300));

    // Bad signature: the payload of a good token, re-signed by a key of our own.
    let (header, _) = good.split_once('.').unwrap();
    let kid = jsonwebtoken::decode_header(&good).unwrap().kid;
    let mut forged_header = Header::new(Algorithm::RS256);
    forged_header.kid = kid;
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
    let der = rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_der(&key).unwrap();
    let payload: serde_json::Value = {
        use base64::Engine;
        let part = good.split('.').nth(1).unwrap();
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    };
    let forged = encode(&forged_header, &payload, &EncodingKey::from_rsa_der(der.as_bytes())).unwrap();
    assert!(!header.is_empty());
    assert!(matches!(v.validate(&forged).await, Err(TokenError::BadSignature)), "forged signature");

    // A tampered payload under the real signature.
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = {
        use base64::Engine;
        let mut claims = payload.clone();
        claims["scope"] = json!("pingone-mcp:admin");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap())
    };
    assert!(matches!(v.validate(&parts.join(".")).await, Err(TokenError::BadSignature)), "tampered claims");

    assert!(matches!(v.validate(&sim.issue_jwt(spec(&sim, "https://someone-else.example/mcp", 300))).await, Err(TokenError::WrongAudience)));
    assert!(matches!(v.validate(&sim.issue_jwt(spec(&sim, AUDIENCE, -120))).await, Err(TokenError::Expired)));
    let early = JwtSpec { not_before_offset_secs: 600, ..spec(&sim, AUDIENCE, 900) };
    assert!(matches!(v.validate(&sim.issue_jwt(early)).await, Err(TokenError::NotYetValid)));
    // Within the clock skew an expired token still passes.
    assert!(v.validate(&sim.issue_jwt(spec(&sim, AUDIENCE, -5))).await.is_ok(), "small clock skew is tolerated");

    let other_issuer = JwtValidator::new("https://auth.example/other/as", &format!("{}/jwks", sim.issuer()), AUDIENCE);
    assert!(matches!(other_issuer.validate(&good).await, Err(TokenError::WrongIssuer)));
    assert!(matches!(v.validate("not-a-jwt").await, Err(TokenError::Malformed(_))));
}

#[tokio::test]
async fn an_unknown_key_id_refetches_the_rotated_jwks() {
    let sim = simulator().await;
    let v = validator(&sim);
    v.validate(&sim.issue_jwt(spec(&sim, AUDIENCE, 300))).await.expect("the first key is fetched and cached");
    sim.rotate_signing_key();
    let rotated = sim.issue_jwt(spec(&sim, AUDIENCE, 300));
    let kid = jsonwebtoken::decode_header(&rotated).unwrap().kid.unwrap();
    let claims = v.validate(&rotated).await.unwrap_or_else(|e| panic!("the key {kid} should be found after a refetch: {e}"));
    assert_eq!(claims.sub, sim.admin.user_id);

    // Without a refetch allowed yet, an unknown key id is refused, not fetched again.
    let patient = JwtValidator::new(&sim.issuer(), &format!("{}/jwks", sim.issuer()), AUDIENCE).with_min_refetch(Duration::from_secs(3600));
    patient.validate(&rotated).await.unwrap();
    sim.rotate_signing_key();
    let newest = sim.issue_jwt(spec(&sim, AUDIENCE, 300));
    assert!(matches!(patient.validate(&newest).await, Err(TokenError::UnknownKey(_))));
}

#[tokio::test]
async fn scopes_map_to_grants_that_narrow_the_policy() {
    let sim = simulator().await;
    let catalog = Arc::new(load_builtin().unwrap());
    let search = Arc::new(SearchIndex::new(&catalog));
    let client = PingOneClient::new(sim.connection(), RetryPolicy::default()).unwrap();
    // The server itself allows writes but not destructive actions.
    let server_policy = Policy::new(PolicyConfig { allow_writes: true, ..PolicyConfig::default() });
    let dispatcher = Dispatcher::new(catalog, search, Backend::Live(client)).with_policy(server_policy);
    let mapping = default_scope_grants();
    let caller = |scope: &str| Caller { subject: "u1".into(), token_id: None, profile: None, grant: Grant::from_scopes(scope.split(' '), &mapping), validity: None };
    let user = sim.admin.user_id.clone();
    let disable = || HostCall { action: "update_user_enabled_status".into(), args: json!({ "userId": user, "enabled": true }) };
    let list = || HostCall { action: "list_users".into(), args: json!({ "limit": 1 }) };

    let reader = caller("openid pingone-mcp:read");
    assert!(matches!(dispatcher.dispatch_as(list(), Some(&reader)).await, HostReply::Value(_)));
    match dispatcher.dispatch_as(disable(), Some(&reader)).await {
        HostReply::Error(e) => assert!(e.code == "POLICY_DENIED" && e.message.contains("pingone-mcp:read"), "{e:?}"),
        other => panic!("a read scope must not write: {other:?}"),
    }
    let writer = caller("pingone-mcp:write");
    assert!(matches!(dispatcher.dispatch_as(disable(), Some(&writer)).await, HostReply::Value(_)), "a write scope writes");
    // An admin scope cannot widen the server's own policy: destructive stays refused.
    let admin = caller("pingone-mcp:admin");
    let delete = HostCall { action: "delete_user".into(), args: json!({ "userId": sim.reader.user_id }) };
    match dispatcher.dispatch_as(delete, Some(&admin)).await {
        HostReply::Error(e) => assert!(e.message.contains("--allow-destructive"), "{e:?}"),
        other => panic!("the server policy still applies: {other:?}"),
    }
    assert!(Grant::from_scopes(["openid", "email"], &mapping).is_none(), "no known scope, no grant");

    // A configured mapping: a scope limited to some actions.
    let custom = BTreeMap::from([("helpdesk".to_owned(), ScopeGrant { writes: true, destructive: false, actions: vec!["update_user_enabled_status".into(), "get_*".into()] })]);
    let helpdesk = Caller { subject: "h".into(), token_id: None, profile: None, grant: Grant::from_scopes(["helpdesk"], &custom), validity: None };
    assert!(matches!(dispatcher.dispatch_as(disable(), Some(&helpdesk)).await, HostReply::Value(_)));
    assert!(matches!(dispatcher.dispatch_as(list(), Some(&helpdesk)).await, HostReply::Error(_)), "list_users is outside the helpdesk scope");
}

#[tokio::test]
async fn session_tokens_are_bound_limited_and_revocable() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = SessionTokens::open_or_create(dir.path()).unwrap();
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(dir.path().join("session-signing.key")).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the signing key is readable only by its owner");
    let env = "11111111-2222-3333-4444-555555555555";
    assert!(tokens.issue("ci", "dev", env, &[], Duration::from_secs(60)).is_err(), "a token must name its actions");
    let (token, claims) = tokens.issue("ci-bot", "dev", env, &["list_*".into()], Duration::from_secs(60)).unwrap();
    assert_eq!(tokens.verify(&token).unwrap(), claims);

    let server = ResourceServer {
        profiles: vec![ServedProfile { profile: "dev".into(), environment_id: env.into(), validator: None }, ServedProfile { profile: "prod".into(), environment_id: "99999999-2222-3333-4444-555555555555".into(), validator: None }],
        session_tokens: Some(SessionTokens::open(dir.path()).unwrap().unwrap()),
        static_token: None,
        scopes: default_scope_grants(),
        resource: AUDIENCE.into(),
        metadata_url: "http://127.0.0.1:9/.well-known/oauth-protected-resource".into(),
    };
    let caller = server.authenticate(Some(&format!("Bearer {token}"))).await.unwrap();
    assert_eq!((caller.subject.as_str(), caller.profile.as_deref()), ("ci-bot", Some("dev")));
    let catalog = load_builtin().unwrap();
    assert_eq!(caller.lapsed(), None);
    let running = caller.clone();
    let grant = caller.grant.unwrap();
    assert!(grant.check(catalog.get("list_groups").unwrap()).is_ok());
    assert!(grant.check(catalog.get("get_user").unwrap()).unwrap_err().contains("session token"));

    // A token for an environment the profile does not have here is refused.
    let (elsewhere, _) = tokens.issue("x", "prod", env, &["*".into()], Duration::from_secs(60)).unwrap();
    assert!(matches!(server.authenticate(Some(&format!("Bearer {elsewhere}"))).await, Err(Refusal::Forbidden(_))));
    // Tampering breaks the signature.
    let tampered = format!("{}x", token);
    assert!(matches!(server.authenticate(Some(&format!("Bearer {tampered}"))).await, Err(Refusal::Invalid(_))));
    assert!(matches!(server.authenticate(None).await, Err(Refusal::Missing)));

    assert!(tokens.revoke(&claims.jti).unwrap());
    assert!(!tokens.revoke("no-such-id").unwrap());
    match server.authenticate(Some(&format!("Bearer {token}"))).await {
        Err(Refusal::Invalid(why)) => assert!(why.contains("revoked"), "{why}"),
        other => panic!("a revoked token must be refused: {other:?}"),
    }
    // Review 32: a script already running with it sees the revocation at its next call.
    assert_eq!(running.lapsed(), Some(format!("the session token {} was revoked", claims.jti)));

    // An expired token stops working when `token list` says so (no leeway), and a
    // running script's caller with it.
    let (short, _) = tokens.issue("ci-bot", "dev", env, &["list_*".into()], Duration::from_secs(2)).unwrap();
    let caller = server.authenticate(Some(&format!("Bearer {short}"))).await.unwrap();
    assert_eq!(caller.lapsed(), None);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    // Named, so the person reading the reply knows which token to replace.
    assert_eq!(caller.lapsed(), Some(format!("the session token {} has expired", caller.token_id.as_deref().unwrap())));
    assert!(matches!(server.authenticate(Some(&format!("Bearer {short}"))).await, Err(Refusal::Invalid(why)) if why.contains("expired")));
}

/// An access token accepted within the clock skew allowed (its `exp` just past) has not
/// lapsed at the running script's first call: the same skew holds there.
#[tokio::test]
async fn an_access_token_accepted_within_the_skew_has_not_lapsed() {
    let sim = simulator().await;
    let server = ResourceServer {
        profiles: vec![ServedProfile { profile: "dev".into(), environment_id: sim.environment_id.clone(), validator: Some(validator(&sim)) }],
        session_tokens: None,
        static_token: None,
        scopes: default_scope_grants(),
        resource: AUDIENCE.into(),
        metadata_url: "http://127.0.0.1:9/.well-known/oauth-protected-resource".into(),
    };
    let just_expired = sim.issue_jwt(spec(&sim, AUDIENCE, -10));
    let caller = server.authenticate(Some(&format!("Bearer {just_expired}"))).await.unwrap();
    assert_eq!(caller.lapsed(), None);
}
