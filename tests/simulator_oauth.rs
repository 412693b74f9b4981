//! The simulator as PingOne's authorization server, over loopback HTTP with reqwest:
//! PKCE sign-on played as a browser, the device flow, refresh rotation, JWKS and key
//! rotation, and a person's token on the management API under their roles.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use pingone_mcp::simulator::{JwtSpec, Person, Simulator, SimulatorConfig};
use rand::distributions::Alphanumeric;
use rand::Rng;
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn start(config: SimulatorConfig) -> Simulator {
    Simulator::start(SimulatorConfig { users: 20, ..config }, 0).await.expect("the simulator starts")
}

/// A browser that does not follow redirects, so the test sees each Location.
fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().expect("a client")
}

fn as_url(sim: &Simulator, endpoint: &str) -> String {
    format!("{}/{endpoint}", sim.issuer())
}

/// A PKCE verifier and its S256 challenge, computed here independently of the server.
fn pkce() -> (String, String) {
    let verifier: String = rand::thread_rng().sample_iter(&Alphanumeric).take(64).map(char::from).collect();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The value of `name="<field>"`'s `value` attribute, or the form's `action`.
fn html_attr(html: &str, pattern: &str) -> Option<String> {
    regex::Regex::new(pattern).expect("a pattern").captures(html).map(|c| c[1].replace("&amp;", "&"))
}

struct SignOnPage {
    action: String,
    flow_id: String,
}

fn parse_sign_on(sim: &Simulator, html: &str) -> SignOnPage {
    let action = html_attr(html, r#"<form method="post" action="([^"]+)""#).unwrap_or_else(|| panic!("a form in {html}"));
    let flow_id = html_attr(html, r#"name="flowId" value="([^"]+)""#).unwrap_or_else(|| panic!("a flowId in {html}"));
    SignOnPage { action: format!("{}{action}", sim.base_url), flow_id }
}

/// What the CLI's loopback listener would see after sign-on.
struct Callback {
    redirect_uri: String,
    code: String,
    state: String,
}

/// Plays the browser: GET authorize, read the form, post the person's credentials,
/// and read the redirect back to the loopback URI.
async fn sign_on(sim: &Simulator, person: &Person, challenge: &str, resource: Option<&str>) -> Callback {
    let http = browser();
    let redirect_uri = "http://127.0.0.1:53682/callback";
    let state: String = rand::thread_rng().sample_iter(&Alphanumeric).take(16).map(char::from).collect();
    let mut query = vec![
        ("response_type", "code"),
        ("client_id", sim.login_client_id.as_str()),
        ("redirect_uri", redirect_uri),
        ("scope", "openid profile"),
        ("state", state.as_str()),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    if let Some(r) = resource {
        query.push(("resource", r));
    }
    let page = http.get(as_url(sim, "authorize")).query(&query).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let form = parse_sign_on(sim, &page.text().await.unwrap());

    // A wrong password shows the form again, with an error, and no redirect.
    let wrong = http.post(&form.action).form(&[("flowId", form.flow_id.as_str()), ("username", &person.username), ("password", "not-the-password")]).send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::OK);
    let again = wrong.text().await.unwrap();
    assert!(again.contains("incorrect"), "{again}");
    assert_eq!(parse_sign_on(sim, &again).flow_id, form.flow_id);

    let signed = http.post(&form.action).form(&[("flowId", form.flow_id.as_str()), ("username", &person.username), ("password", &person.password)]).send().await.unwrap();
    assert_eq!(signed.status(), StatusCode::FOUND);
    let location = url::Url::parse(signed.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!((location.host_str(), location.port(), location.path()), (Some("127.0.0.1"), Some(53682), "/callback"));
    let param = |name: &str| location.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    assert_eq!(param("state").as_deref(), Some(state.as_str()), "state comes back unchanged");
    Callback { redirect_uri: redirect_uri.to_owned(), code: param("code").expect("a code"), state }
}

async fn exchange(sim: &Simulator, cb: &Callback, verifier: &str) -> (StatusCode, Value) {
    let form = [("grant_type", "authorization_code"), ("client_id", sim.login_client_id.as_str()), ("code", &cb.code), ("redirect_uri", &cb.redirect_uri), ("code_verifier", verifier)];
    let resp = reqwest::Client::new().post(as_url(sim, "token")).form(&form).send().await.unwrap();
    (resp.status(), resp.json().await.unwrap())
}

async fn token_request(sim: &Simulator, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let resp = reqwest::Client::new().post(as_url(sim, "token")).form(form).send().await.unwrap();
    (resp.status(), resp.json().await.unwrap())
}

/// Verifies a JWT against the simulator's JWKS as a resource server would: by `kid`.
async fn verify(sim: &Simulator, jwt: &str, audience: &str) -> Result<Value, jsonwebtoken::errors::Error> {
    let jwks: Value = reqwest::get(as_url(sim, "jwks")).await.unwrap().json().await.unwrap();
    let kid = jsonwebtoken::decode_header(jwt)?.kid.expect("a kid in the header");
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == json!(kid)).unwrap_or_else(|| panic!("kid {kid} not in {jwks}"));
    let key = DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[sim.issuer()]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 0;
    validation.validate_nbf = true;
    Ok(jsonwebtoken::decode::<Value>(jwt, &key, &validation)?.claims)
}

async fn userinfo_status(sim: &Simulator, token: &str) -> StatusCode {
    reqwest::Client::new().get(as_url(sim, "userinfo")).bearer_auth(token).send().await.unwrap().status()
}

#[tokio::test]
async fn discovery_names_the_endpoints() {
    let sim = start(SimulatorConfig::default()).await;
    let doc: Value = reqwest::get(as_url(&sim, ".well-known/openid-configuration")).await.unwrap().json().await.unwrap();
    assert_eq!(doc["issuer"], json!(sim.issuer()));
    assert_eq!(sim.issuer(), format!("{}/{}/as", sim.base_url, sim.environment_id));
    for (field, endpoint) in [("authorization_endpoint", "authorize"), ("token_endpoint", "token"), ("device_authorization_endpoint", "device_authorization"), ("jwks_uri", "jwks"), ("userinfo_endpoint", "userinfo")] {
        assert_eq!(doc[field], json!(as_url(&sim, endpoint)), "{field}");
    }
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["id_token_signing_alg_values_supported"], json!(["RS256"]));
    assert!(doc["grant_types_supported"].as_array().unwrap().contains(&json!(DEVICE_GRANT)));
    let jwks: Value = reqwest::get(doc["jwks_uri"].as_str().unwrap()).await.unwrap().json().await.unwrap();
    let key = &jwks["keys"][0];
    assert_eq!((key["kty"].as_str(), key["use"].as_str(), key["alg"].as_str()), (Some("RSA"), Some("sig"), Some("RS256")));
    assert!(key["kid"].is_string() && key["n"].as_str().unwrap().len() > 300, "{key}");
}

#[tokio::test]
async fn pkce_sign_on_end_to_end() {
    let sim = start(SimulatorConfig::default()).await;
    let (verifier, challenge) = pkce();
    let cb = sign_on(&sim, &sim.admin, &challenge, None).await;
    assert!(!cb.state.is_empty());

    // The wrong verifier fails, and does not use the code up.
    let (status, err) = exchange(&sim, &cb, &pkce().0).await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{err}");

    let (status, tokens) = exchange(&sim, &cb, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "openid profile");
    assert_eq!(tokens["expires_in"], 3600);
    assert!(tokens["refresh_token"].is_string() && tokens["id_token"].is_string(), "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let claims = verify(&sim, access, &sim.management_audience()).await.expect("the access token verifies against the JWKS");
    assert_eq!(claims["sub"], json!(sim.admin.user_id));
    assert_eq!(claims["client_id"], json!(sim.login_client_id));
    assert_eq!(claims["env"], json!(sim.environment_id));
    assert_eq!(claims["org"], json!(sim.organization_id));
    assert_eq!(claims["scope"], "openid profile");
    let (iat, exp) = (claims["iat"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
    assert_eq!(exp - iat, 3600);
    assert_eq!(claims["nbf"].as_i64(), Some(iat));
    assert!(claims["jti"].is_string() && claims["sid"].is_string());
    let id_token = verify(&sim, tokens["id_token"].as_str().unwrap(), &sim.login_client_id).await.expect("the ID token is for the client");
    assert_eq!(id_token["sub"], json!(sim.admin.user_id));
    assert_eq!(id_token["sid"], claims["sid"]);

    // userinfo knows the new token.
    let me: Value = reqwest::Client::new().get(as_url(&sim, "userinfo")).bearer_auth(access).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["preferred_username"], json!(sim.admin.username));

    // A second exchange of the code fails and revokes what the first one gave.
    let (status, err) = exchange(&sim, &cb, &verifier).await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{err}");
    assert_eq!(userinfo_status(&sim, access).await, StatusCode::UNAUTHORIZED, "the replayed code's access token is revoked");
    let refresh = [("grant_type", "refresh_token"), ("client_id", sim.login_client_id.as_str()), ("refresh_token", tokens["refresh_token"].as_str().unwrap())];
    assert_eq!(token_request(&sim, &refresh).await.1["error"], "invalid_grant", "and its refresh token");
}

#[tokio::test]
async fn codes_are_bound_to_redirect_uri_and_client() {
    let sim = start(SimulatorConfig::default()).await;
    let (verifier, challenge) = pkce();
    let cb = sign_on(&sim, &sim.reader, &challenge, None).await;
    let other_port = Callback { redirect_uri: "http://127.0.0.1:9/callback".into(), code: cb.code.clone(), state: cb.state.clone() };
    let (status, err) = exchange(&sim, &other_port, &verifier).await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{err}");
    // No verifier at all.
    let form = [("grant_type", "authorization_code"), ("client_id", sim.login_client_id.as_str()), ("code", &cb.code), ("redirect_uri", &cb.redirect_uri)];
    assert_eq!(token_request(&sim, &form).await.1["error"], "invalid_grant");
    // Another client (the worker, properly authenticated) cannot use the code either.
    let resp = reqwest::Client::new()
        .post(as_url(&sim, "token"))
        .basic_auth(&sim.client_id, Some(&sim.client_secret))
        .form(&[("grant_type", "authorization_code"), ("code", &cb.code), ("redirect_uri", &cb.redirect_uri), ("code_verifier", &verifier)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "unauthorized_client", "the worker may not use the grant at all");
    // The right exchange still works: the failures above did not spend the code.
    let (status, _) = exchange(&sim, &cb, &verifier).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn bad_authorization_requests() {
    let sim = start(SimulatorConfig::default()).await;
    let http = browser();
    let (_, challenge) = pkce();
    let base = |redirect: &str, client: &str| {
        vec![
            ("response_type".to_owned(), "code".to_owned()),
            ("client_id".to_owned(), client.to_owned()),
            ("redirect_uri".to_owned(), redirect.to_owned()),
            ("scope".to_owned(), "openid".to_owned()),
            ("state".to_owned(), "s1".to_owned()),
            ("code_challenge".to_owned(), challenge.clone()),
            ("code_challenge_method".to_owned(), "S256".to_owned()),
        ]
    };
    // An unregistered redirect URI or an unknown client: a 400 page, never a redirect.
    for (redirect, client) in [("https://evil.example.com/callback", sim.login_client_id.as_str()), ("http://127.0.0.1:5000/elsewhere", sim.login_client_id.as_str()), ("http://127.0.0.1:5000/callback", "no-such-client")] {
        let resp = http.get(as_url(&sim, "authorize")).query(&base(redirect, client)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{redirect} {client}");
        assert!(resp.headers().get("location").is_none());
    }
    // With a good client and redirect, other errors go back to the client.
    let mut plain = base("http://127.0.0.1:5000/callback", &sim.login_client_id);
    plain.retain(|(k, _)| k != "code_challenge_method");
    plain.push(("code_challenge_method".into(), "plain".into()));
    let mut none = base("http://127.0.0.1:5000/callback", &sim.login_client_id);
    none.retain(|(k, _)| !k.starts_with("code_challenge"));
    for query in [plain, none] {
        let resp = http.get(as_url(&sim, "authorize")).query(&query).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::FOUND);
        let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
        let pairs: Vec<(String, String)> = location.query_pairs().into_owned().collect();
        assert!(pairs.contains(&("error".into(), "invalid_request".into())) && pairs.contains(&("state".into(), "s1".into())), "{location}");
        assert!(location.as_str().starts_with("http://127.0.0.1:5000/callback?"));
    }
    // A stale flow id is refused.
    let stale = http.post(as_url(&sim, "authorize")).form(&[("flowId", "made-up"), ("username", &sim.admin.username), ("password", &sim.admin.password)]).send().await.unwrap();
    assert_eq!(stale.status(), StatusCode::BAD_REQUEST);
}

async fn device_start(sim: &Simulator, resource: Option<&str>) -> Value {
    let mut form = vec![("client_id", sim.login_client_id.as_str()), ("scope", "openid")];
    if let Some(r) = resource {
        form.push(("resource", r));
    }
    let resp = reqwest::Client::new().post(as_url(sim, "device_authorization")).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

/// The person's side: open the verification URI, then post the form.
async fn device_decide(sim: &Simulator, started: &Value, person: &Person, password: &str, deny: bool) -> (StatusCode, String) {
    let http = browser();
    let page = http.get(started["verification_uri_complete"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    let user_code = html_attr(&page, r#"name="user_code" value="([^"]*)""#).expect("a user_code field");
    assert_eq!(user_code, started["user_code"].as_str().unwrap(), "the complete URI fills the code in");
    let action = html_attr(&page, r#"<form method="post" action="([^"]+)""#).expect("a form");
    // People type codes loosely: lower case, no dash.
    let typed = user_code.replace('-', "").to_lowercase();
    let mut form = vec![("user_code", typed.as_str()), ("username", person.username.as_str()), ("password", password)];
    if deny {
        form.push(("deny", "true"));
    }
    let resp = http.post(format!("{}{action}", sim.base_url)).form(&form).send().await.unwrap();
    (resp.status(), resp.text().await.unwrap())
}

#[tokio::test]
async fn device_flow_pending_slow_down_approve() {
    let sim = start(SimulatorConfig::default()).await;
    let started = device_start(&sim, None).await;
    assert_eq!(started["interval"], 1);
    assert!(started["expires_in"].as_u64().unwrap() > 60);
    assert_eq!(started["verification_uri"], json!(format!("{}/{}/device", sim.base_url, sim.environment_id)));
    assert!(regex::Regex::new(r"^[A-Z]{4}-[A-Z]{4}$").unwrap().is_match(started["user_code"].as_str().unwrap()), "{started}");
    let device_code = started["device_code"].as_str().unwrap();
    let poll = [("grant_type", DEVICE_GRANT), ("client_id", sim.login_client_id.as_str()), ("device_code", device_code)];

    let (status, first) = token_request(&sim, &poll).await;
    assert_eq!((status, first["error"].as_str()), (StatusCode::BAD_REQUEST, Some("authorization_pending")));
    assert_eq!(token_request(&sim, &poll).await.1["error"], "slow_down", "polled again at once");

    let (status, page) = device_decide(&sim, &started, &sim.reader, "wrong", false).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("incorrect"), "{page}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(token_request(&sim, &poll).await.1["error"], "authorization_pending", "a wrong password approves nothing");

    let (status, page) = device_decide(&sim, &started, &sim.reader, &sim.reader.password, false).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, tokens) = token_request(&sim, &poll).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let claims = verify(&sim, tokens["access_token"].as_str().unwrap(), &sim.management_audience()).await.unwrap();
    assert_eq!(claims["sub"], json!(sim.reader.user_id));
    assert!(tokens["refresh_token"].is_string());
    assert_eq!(token_request(&sim, &poll).await.1["error"], "invalid_grant", "a device code gives tokens once");
}

#[tokio::test]
async fn device_flow_denied_and_expired() {
    let sim = start(SimulatorConfig { device_code_ttl: Duration::from_millis(1500), ..SimulatorConfig::default() }).await;
    let denied = device_start(&sim, None).await;
    let (status, _) = device_decide(&sim, &denied, &sim.admin, "", true).await;
    assert_eq!(status, StatusCode::OK);
    let poll = |started: &Value| vec![("grant_type", DEVICE_GRANT.to_owned()), ("client_id", sim.login_client_id.clone()), ("device_code", started["device_code"].as_str().unwrap().to_owned())];
    let form = poll(&denied);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(token_request(&sim, &form).await.1["error"], "access_denied");

    let expiring = device_start(&sim, None).await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let form = poll(&expiring);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(token_request(&sim, &form).await.1["error"], "expired_token");
    let (_, page) = device_decide(&sim, &device_start(&sim, None).await, &sim.admin, &sim.admin.password, false).await;
    assert!(page.contains("connected"), "a fresh code still works: {page}");
}

#[tokio::test]
async fn refresh_tokens_rotate() {
    let sim = start(SimulatorConfig::default()).await;
    let (verifier, challenge) = pkce();
    let resource = "http://127.0.0.1:7777/mcp";
    let cb = sign_on(&sim, &sim.reader, &challenge, Some(resource)).await;
    let (_, first) = exchange(&sim, &cb, &verifier).await;
    let old_refresh = first["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |token: &str| vec![("grant_type".to_owned(), "refresh_token".to_owned()), ("client_id".to_owned(), sim.login_client_id.clone()), ("refresh_token".to_owned(), token.to_owned())];
    let (status, second) = token_request(&sim, &refresh(&old_refresh).iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>()).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let new_refresh = second["refresh_token"].as_str().unwrap();
    assert_ne!(new_refresh, old_refresh);
    assert_ne!(second["access_token"], first["access_token"]);
    let a = verify(&sim, first["access_token"].as_str().unwrap(), resource).await.expect("the resource is the audience (RFC 8707)");
    let b = verify(&sim, second["access_token"].as_str().unwrap(), resource).await.expect("the refreshed token keeps the audience");
    assert_eq!((&b["sub"], &b["scope"], &b["sid"]), (&a["sub"], &a["scope"], &a["sid"]));
    assert!(verify(&sim, second["access_token"].as_str().unwrap(), &sim.management_audience()).await.is_err(), "not a management API token");

    let (status, err) = token_request(&sim, &refresh(&old_refresh).iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>()).await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "the rotated-out token is dead");
    // Asking for more scope than granted is refused; the token stays usable.
    let mut wider = refresh(new_refresh);
    wider.push(("scope".into(), "openid profile email".into()));
    assert_eq!(token_request(&sim, &wider.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>()).await.1["error"], "invalid_scope");

    // Revocation (RFC 7009) ends the refresh token.
    let revoked = reqwest::Client::new().post(as_url(&sim, "revoke")).form(&[("client_id", sim.login_client_id.as_str()), ("token", new_refresh)]).send().await.unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(token_request(&sim, &refresh(new_refresh).iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>()).await.1["error"], "invalid_grant");
}

#[tokio::test]
async fn key_rotation_keeps_the_previous_key_published() {
    let sim = start(SimulatorConfig::default()).await;
    let spec = |aud: &str| JwtSpec { subject: sim.admin.user_id.clone(), audience: aud.to_owned(), scope: "openid".into(), lifetime_secs: 300, not_before_offset_secs: 0, client_id: None };
    let before = sim.issue_jwt(spec("https://rs.example.com"));
    let old_kid = jsonwebtoken::decode_header(&before).unwrap().kid.unwrap();
    sim.rotate_signing_key();
    let after = sim.issue_jwt(spec("https://rs.example.com"));
    let new_kid = jsonwebtoken::decode_header(&after).unwrap().kid.unwrap();
    assert_ne!(old_kid, new_kid, "new tokens are signed with the new key");
    let jwks: Value = reqwest::get(as_url(&sim, "jwks")).await.unwrap().json().await.unwrap();
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, vec![new_kid.as_str(), old_kid.as_str()]);
    verify(&sim, &before, "https://rs.example.com").await.expect("a token of the previous key still verifies");
    verify(&sim, &after, "https://rs.example.com").await.expect("and one of the new key");
    sim.rotate_signing_key();
    let jwks: Value = reqwest::get(as_url(&sim, "jwks")).await.unwrap().json().await.unwrap();
    assert!(!jwks["keys"].as_array().unwrap().iter().any(|k| k["kid"] == json!(old_kid)), "two rotations retire a key");

    // A token signed by another simulator's key does not verify here.
    let other = start(SimulatorConfig { seed: 2, ..SimulatorConfig::default() }).await;
    let foreign = other.issue_jwt(spec("https://rs.example.com"));
    let jwks: Value = reqwest::get(as_url(&sim, "jwks")).await.unwrap().json().await.unwrap();
    let kid = jsonwebtoken::decode_header(&foreign).unwrap().kid.unwrap();
    assert!(!jwks["keys"].as_array().unwrap().iter().any(|k| k["kid"] == json!(kid)));
}

#[tokio::test]
async fn issued_jwts_carry_the_requested_times() {
    let sim = start(SimulatorConfig::default()).await;
    let spec = |lifetime_secs: i64, not_before_offset_secs: i64| JwtSpec {
        subject: sim.reader.user_id.clone(),
        audience: "https://rs.example.com".into(),
        scope: "read".into(),
        lifetime_secs,
        not_before_offset_secs,
        client_id: Some("some-client".into()),
    };
    let good = verify(&sim, &sim.issue_jwt(spec(120, 0)), "https://rs.example.com").await.unwrap();
    assert_eq!((good["client_id"].as_str(), good["scope"].as_str(), good["iss"].as_str()), (Some("some-client"), Some("read"), Some(sim.issuer().as_str())));
    let expired = verify(&sim, &sim.issue_jwt(spec(-60, 0)), "https://rs.example.com").await.unwrap_err();
    assert_eq!(*expired.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature);
    let early = verify(&sim, &sim.issue_jwt(spec(600, 300)), "https://rs.example.com").await.unwrap_err();
    assert_eq!(*early.kind(), jsonwebtoken::errors::ErrorKind::ImmatureSignature);
    let elsewhere = verify(&sim, &sim.issue_jwt(spec(120, 0)), "https://other.example.com").await.unwrap_err();
    assert_eq!(*elsewhere.kind(), jsonwebtoken::errors::ErrorKind::InvalidAudience);
}

async fn api(sim: &Simulator, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let url = format!("{}/environments/{}/{path}", sim.api_base(), sim.environment_id);
    let mut request = reqwest::Client::new().request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let resp = request.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn signed_on_token(sim: &Simulator, person: &Person, resource: Option<&str>) -> String {
    let (verifier, challenge) = pkce();
    let cb = sign_on(sim, person, &challenge, resource).await;
    exchange(sim, &cb, &verifier).await.1["access_token"].as_str().expect("an access token").to_owned()
}

#[tokio::test]
async fn people_call_the_management_api_with_their_roles() {
    let sim = start(SimulatorConfig::default()).await;
    let group = || Some(json!({ "name": format!("Made by a person {}", rand::random::<u32>()) }));

    // The seeded role assignments are the ones the API lists.
    let admin = signed_on_token(&sim, &sim.admin, None).await;
    let (status, roles) = api(&sim, &admin, reqwest::Method::GET, &format!("users/{}/roleAssignments", sim.reader.user_id), None).await;
    assert_eq!(status, StatusCode::OK);
    let role_ids: Vec<&str> = roles["_embedded"]["roleAssignments"].as_array().unwrap().iter().filter_map(|r| r["role"]["id"].as_str()).collect();
    let system: Value = reqwest::Client::new().get(format!("{}/roles", sim.api_base())).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
    let name_of = |id: &str| system["_embedded"]["roles"].as_array().unwrap().iter().find(|r| r["id"] == json!(id)).and_then(|r| r["name"].as_str()).unwrap_or("").to_owned();
    assert_eq!(role_ids.iter().map(|id| name_of(id)).collect::<Vec<_>>(), vec!["Identity Data Read Only"]);

    // The administrator can write.
    let (status, created) = api(&sim, &admin, reqwest::Method::POST, "groups", group()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");

    // The reader can read, not write.
    let reader = signed_on_token(&sim, &sim.reader, None).await;
    let (status, _) = api(&sim, &reader, reqwest::Method::GET, "users?limit=2", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, err) = api(&sim, &reader, reqwest::Method::POST, "groups", group()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!((err["code"].as_str(), err["details"][0]["code"].as_str()), (Some("ACCESS_FAILED"), Some("INSUFFICIENT_PERMISSIONS")), "{err}");
    let (status, _) = api(&sim, &reader, reqwest::Method::DELETE, &format!("groups/{}", created["id"].as_str().unwrap()), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Roles are read at each call: take the reader's away and reads stop too.
    for id in roles["_embedded"]["roleAssignments"].as_array().unwrap().iter().filter_map(|r| r["id"].as_str()) {
        let (status, _) = api(&sim, &admin, reqwest::Method::DELETE, &format!("users/{}/roleAssignments/{id}", sim.reader.user_id), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let (status, err) = api(&sim, &reader, reqwest::Method::GET, "users?limit=2", None).await;
    assert_eq!((status, err["details"][0]["code"].as_str()), (StatusCode::FORBIDDEN, Some("INSUFFICIENT_PERMISSIONS")));

    // A token for another resource is not a management API token, even an admin's.
    let elsewhere = signed_on_token(&sim, &sim.admin, Some("http://127.0.0.1:7777/mcp")).await;
    let (status, err) = api(&sim, &elsewhere, reqwest::Method::GET, "users?limit=1", None).await;
    assert_eq!((status, err["details"][0]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("INVALID_TOKEN")));

    // issue_jwt tokens for the API behave like signed-on ones; expired ones are refused.
    let spec = |lifetime_secs: i64| JwtSpec { subject: sim.admin.user_id.clone(), audience: sim.management_audience(), scope: "openid".into(), lifetime_secs, not_before_offset_secs: 0, client_id: None };
    assert_eq!(api(&sim, &sim.issue_jwt(spec(60)), reqwest::Method::GET, "groups", None).await.0, StatusCode::OK);
    assert_eq!(api(&sim, &sim.issue_jwt(spec(-1)), reqwest::Method::GET, "groups", None).await.0, StatusCode::UNAUTHORIZED);
    sim.expire_tokens();
    assert_eq!(api(&sim, &admin, reqwest::Method::GET, "groups", None).await.0, StatusCode::UNAUTHORIZED, "expire_tokens ends people's tokens too");
}
