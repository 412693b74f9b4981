//! The PingOne client against a scripted PingOne on loopback: tokens, retries,
//! backoff, Retry-After, no blind retry of writes, pagination and error bodies.

mod common;

use std::time::{Duration, Instant};

use common::fake_pingone::{worker, FakePingOne, Reply, CLIENT_SECRET};
use pingone_mcp::catalog::{load_builtin, Action, Catalog};
use pingone_mcp::config::{AuthMethod, Connection};
use pingone_mcp::pingone::{CallOptions, ClientError, PingOneClient, RetryPolicy};
use serde_json::{json, Value};

const USER_ID: &str = "1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b";

fn connection(fake: &FakePingOne, secret: &str) -> Connection {
    Connection { credentials: worker(secret, AuthMethod::Basic), ..fake.connection() }
}

/// Short delays so the retry tests stay fast; the shape of the policy is unchanged.
fn quick_retries() -> RetryPolicy {
    RetryPolicy { max_retries: 3, base_delay: Duration::from_millis(20), max_delay: Duration::from_millis(200), max_retry_after: Duration::from_secs(5) }
}

struct Setup {
    fake: FakePingOne,
    client: PingOneClient,
    catalog: Catalog,
}

impl Setup {
    async fn new() -> Self {
        let fake = FakePingOne::start().await;
        let client = PingOneClient::new(connection(&fake, CLIENT_SECRET), quick_retries()).unwrap();
        Self { fake, client, catalog: load_builtin().unwrap() }
    }

    fn action(&self, id: &str) -> &Action {
        self.catalog.get(id).unwrap()
    }

    async fn call(&self, id: &str, args: Value) -> Result<Value, ClientError> {
        self.client.call(self.action(id), &args, &CallOptions::default()).await
    }

    fn user_path(&self) -> String {
        self.fake.env_path(&format!("/users/{USER_ID}"))
    }
}

fn user() -> Value {
    json!({ "id": USER_ID, "username": "jdoe" })
}

#[tokio::test]
async fn one_token_serves_many_calls() {
    let s = Setup::new().await;
    s.fake.on("GET", &s.user_path(), vec![Reply::json(200, user())]);
    for _ in 0..3 {
        s.call("get_user", json!({ "userId": USER_ID })).await.unwrap();
    }
    assert_eq!(s.fake.tokens_issued(), 1);
    let requests = s.fake.api_requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].headers["authorization"], "Bearer tok-1-fake-access-token");
}

#[tokio::test]
async fn concurrent_calls_share_one_token_fetch() {
    let s = Setup::new().await;
    s.fake.token_delay(Duration::from_millis(200));
    s.fake.on("GET", &s.user_path(), vec![Reply::json(200, user())]);
    let calls = (0..8).map(|_| s.call("get_user", json!({ "userId": USER_ID })));
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    assert_eq!(s.fake.tokens_issued(), 1, "eight concurrent calls should wait for one token request");
}

#[tokio::test]
async fn token_is_refreshed_before_it_expires() {
    let s = Setup::new().await;
    // A 2 s token is refreshed after half its life.
    s.fake.token_lifetime(2);
    s.fake.on("GET", &s.user_path(), vec![Reply::json(200, user())]);
    s.call("get_user", json!({ "userId": USER_ID })).await.unwrap();
    s.call("get_user", json!({ "userId": USER_ID })).await.unwrap();
    assert_eq!(s.fake.tokens_issued(), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    s.call("get_user", json!({ "userId": USER_ID })).await.unwrap();
    assert_eq!(s.fake.tokens_issued(), 2);
    assert_eq!(s.fake.api_requests().last().unwrap().headers["authorization"], "Bearer tok-2-fake-access-token");
}

#[tokio::test]
async fn a_rejected_token_is_replaced_once() {
    let s = Setup::new().await;
    s.fake.on("GET", &s.user_path(), vec![Reply::error(401, "ACCESS_FAILED", "token revoked"), Reply::json(200, user())]);
    let user = s.call("get_user", json!({ "userId": USER_ID })).await.unwrap();
    assert_eq!(user["username"], "jdoe");
    assert_eq!(s.fake.tokens_issued(), 2);

    // A second 401 in a row is PingOne's answer, not a stale token.
    s.fake.on("GET", &s.user_path(), vec![Reply::error(401, "ACCESS_FAILED", "not allowed")]);
    let err = s.call("get_user", json!({ "userId": USER_ID })).await.unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert_eq!(s.fake.tokens_issued(), 3);
}

#[tokio::test]
async fn client_secret_post_sends_the_credentials_in_the_form() {
    let s = Setup::new().await;
    let mut conn = connection(&s.fake, CLIENT_SECRET);
    conn.credentials = worker(CLIENT_SECRET, AuthMethod::Post);
    let client = PingOneClient::new(conn, quick_retries()).unwrap();
    s.fake.on("GET", &s.user_path(), vec![Reply::json(200, user())]);
    client.call(s.action("get_user"), &json!({ "userId": USER_ID }), &CallOptions::default()).await.unwrap();
    let token_request = &s.fake.token_requests()[0];
    assert!(token_request.headers.get("authorization").is_none());
    assert!(token_request.body.contains("client_id=test-client"), "{}", token_request.body);
}

#[tokio::test]
async fn wrong_secret_is_reported_without_the_secret() {
    let s = Setup::new().await;
    let client = PingOneClient::new(connection(&s.fake, "wrong-secret-value"), quick_retries()).unwrap();
    let err = client.call(s.action("get_user"), &json!({ "userId": USER_ID }), &CallOptions::default()).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ClientError::Auth { status: Some(401), .. }), "{err:?}");
    assert!(text.contains("invalid_client") && text.contains("check the client id and secret"), "{text}");
    assert!(!text.contains("wrong-secret-value") && !format!("{err:?}").contains("wrong-secret-value"), "{err:?}");
}

/// A token endpoint that cannot be reached says nothing about the credentials: the
/// error says where it is and what to check, not that sign-in failed.
#[tokio::test]
async fn an_unreachable_token_endpoint_is_not_reported_as_failed_sign_in() {
    let s = Setup::new().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let conn = Connection { auth_base: closed_url.parse().unwrap(), ..connection(&s.fake, CLIENT_SECRET) };
    let client = PingOneClient::new(conn, quick_retries()).unwrap();
    let err = client.call(s.action("get_user"), &json!({ "userId": USER_ID }), &CallOptions::default()).await.unwrap_err();
    assert!(matches!(err, ClientError::AuthUnavailable { status: None, .. }), "{err:?}");
    assert_eq!(err.to_json()["code"], "AUTH_UNAVAILABLE");
    let text = err.to_string();
    assert!(text.contains(&closed_url) && text.contains("could not be reached") && text.contains("PINGONE_AUTH_URL") && text.contains("No call was made"), "{text}");
    assert!(s.fake.api_requests().is_empty());
}

/// A token endpoint that fails for a moment is tried again, even before a create:
/// nothing was sent without a token.
#[tokio::test]
async fn a_failing_token_endpoint_is_tried_again() {
    let s = Setup::new().await;
    s.fake.fail_tokens(&[503, 502]);
    s.fake.on("POST", &s.fake.env_path("/users"), vec![Reply::json(201, user())]);
    let created = s.call("create_user", s.action("create_user").example.clone()).await.unwrap();
    assert_eq!(created["username"], "jdoe");
    assert_eq!(s.fake.token_requests().len(), 3);
    assert_eq!(s.fake.api_requests().len(), 1);

    // When it keeps failing, the error is its answer, not a refusal of the credentials.
    let s = Setup::new().await;
    s.fake.fail_tokens(&[503; 10]);
    let err = s.call("get_user", json!({ "userId": USER_ID })).await.unwrap_err();
    assert!(matches!(err, ClientError::AuthUnavailable { status: Some(503), .. }), "{err:?}");
    assert!(err.to_string().contains("answered 503 SERVICE_UNAVAILABLE"), "{err}");
    assert_eq!(s.fake.token_requests().len(), 4, "one try and three retries");
}

#[tokio::test]
async fn server_errors_on_reads_are_retried_with_growing_backoff() {
    let s = Setup::new().await;
    s.fake.on("GET", &s.user_path(), vec![
        Reply::error(503, "SERVICE_UNAVAILABLE", "busy"),
        Reply::error(502, "BAD_GATEWAY", "busy"),
        Reply::error(500, "UNEXPECTED_ERROR", "oops"),
        Reply::json(200, user()),
    ]);
    let user = s.call("get_user", json!({ "userId": USER_ID })).await.unwrap();
    assert_eq!(user["id"], USER_ID);
    let at: Vec<Instant> = s.fake.api_requests().iter().map(|r| r.at).collect();
    assert_eq!(at.len(), 4);
    // Backoff: base 20 ms doubling with jitter in [half, full]: >= 10, 20, 40 ms.
    let gaps: Vec<Duration> = at.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps[0] >= Duration::from_millis(10), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(20), "{gaps:?}");
    assert!(gaps[2] >= Duration::from_millis(40), "{gaps:?}");
    // Every retry carries the same transaction id, so PingOne support can follow it.
    let ids: Vec<_> = s.fake.api_requests().iter().map(|r| r.headers["x-ping-external-transaction-id"].clone()).collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
}

#[tokio::test]
async fn retries_run_out_with_the_last_error() {
    let s = Setup::new().await;
    s.fake.on("GET", &s.user_path(), vec![Reply::error(503, "SERVICE_UNAVAILABLE", "still busy")]);
    let err = s.call("get_user", json!({ "userId": USER_ID })).await.unwrap_err();
    assert_eq!(s.fake.api_requests().len(), 4, "first attempt plus max_retries");
    assert_eq!(err.status(), Some(503));
    assert!(err.to_string().contains("still busy") && err.to_string().contains("(gave up after 4 tries over "), "{err}");
    assert!(err.to_json()["message"].as_str().unwrap().contains("gave up after 4 tries"), "scripts read it too: {}", err.to_json());
    assert!(err.to_string().contains("; --max-retries N tries more)") && !err.to_string().contains("--rate-limit"), "what to change is named (review 54 L8): {err}");
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let s = Setup::new().await;
    s.fake.on("GET", &s.user_path(), vec![
        Reply::error(429, "REQUEST_LIMITED", "slow down").header("retry-after", "1"),
        Reply::json(200, user()),
    ]);
    s.call("get_user", json!({ "userId": USER_ID })).await.unwrap();
    let at: Vec<Instant> = s.fake.api_requests().iter().map(|r| r.at).collect();
    assert_eq!(at.len(), 2);
    assert!(at[1] - at[0] >= Duration::from_millis(990), "waited only {:?}", at[1] - at[0]);
}

#[tokio::test]
async fn retry_after_beyond_the_limit_fails_instead_of_hanging() {
    let s = Setup::new().await;
    s.fake.on("GET", &s.user_path(), vec![Reply::error(429, "REQUEST_LIMITED", "come back later").header("retry-after", "3600")]);
    let started = Instant::now();
    let err = s.call("get_user", json!({ "userId": USER_ID })).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(err.status(), Some(429));
    assert_eq!(s.fake.api_requests().len(), 1);
    assert!(err.to_string().contains("PingOne asked to wait 3600 s before trying again, longer than the 5 s this client waits"), "{err}");
}

#[tokio::test]
async fn a_throttled_create_is_retried_because_pingone_did_not_process_it() {
    let s = Setup::new().await;
    let users = s.fake.env_path("/users");
    s.fake.on("POST", &users, vec![Reply::error(429, "REQUEST_LIMITED", "slow down").header("retry-after", "0"), Reply::json(201, user())]);
    let created = s.call("create_user", s.action("create_user").example.clone()).await.unwrap();
    assert_eq!(created["id"], USER_ID);
    assert_eq!(s.fake.api_requests().len(), 2);
}

#[tokio::test]
async fn a_create_that_fails_with_5xx_is_not_retried() {
    let s = Setup::new().await;
    let users = s.fake.env_path("/users");
    s.fake.on("POST", &users, vec![Reply::error(503, "SERVICE_UNAVAILABLE", "busy"), Reply::json(201, user())]);
    let err = s.call("create_user", s.action("create_user").example.clone()).await.unwrap_err();
    assert_eq!(s.fake.api_requests().len(), 1, "a POST that may have been applied must not be sent again");
    assert!(matches!(err, ClientError::OutcomeUnknown { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("outcome is unknown") && text.contains("check the current state"), "{text}");
    assert_eq!(err.to_json()["code"], "OUTCOME_UNKNOWN");
    assert_eq!(err.to_json()["status"], 503, "the status PingOne answered: {}", err.to_json());
}

#[tokio::test]
async fn a_create_cut_off_mid_response_is_not_retried() {
    let s = Setup::new().await;
    let users = s.fake.env_path("/users");
    s.fake.on("POST", &users, vec![Reply::json(201, user()).cut()]);
    let err = s.call("create_user", s.action("create_user").example.clone()).await.unwrap_err();
    assert_eq!(s.fake.api_requests().len(), 1);
    assert!(matches!(err, ClientError::OutcomeUnknown { .. }), "{err:?}");
}

/// An idempotent write is safe to repeat, so it is tried again; but when no try is
/// answered it ends with its outcome unknown, never as a plain failure (review 43, H1:
/// a group renamed or deleted on the first try was reported as not applied).
#[tokio::test]
async fn a_write_whose_every_try_goes_unanswered_ends_with_its_outcome_unknown() {
    let s = Setup::new().await;
    s.fake.on("PATCH", &s.user_path(), vec![Reply::error(502, "BAD_GATEWAY", "upstream")]);
    let err = s.call("update_user", json!({ "userId": USER_ID, "title": "Lead" })).await.unwrap_err();
    assert_eq!(s.fake.api_requests().len(), 4, "it is tried again, as it is safe to repeat");
    assert!(matches!(err, ClientError::OutcomeUnknown { tries: 4, .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("PingOne answered 502 (gave up after 4 tries") && text.contains("The PATCH was sent 4 times and may have been applied"), "{text}");
    assert_eq!((err.to_json()["code"].as_str(), err.to_json()["status"].as_u64()), (Some("OUTCOME_UNKNOWN"), Some(502)));

    let s = Setup::new().await;
    s.fake.on("DELETE", &s.user_path(), vec![Reply::json(200, json!({ "id": USER_ID })).cut()]);
    let err = s.call("delete_user", json!({ "userId": USER_ID })).await.unwrap_err();
    assert!(matches!(err, ClientError::OutcomeUnknown { tries: 4, .. }), "{err:?}");
    // A read that runs out of tries changed nothing: it says so as before.
    s.fake.on("GET", &s.user_path(), vec![Reply::json(200, user()).cut()]);
    let err = s.call("get_user", json!({ "userId": USER_ID })).await.unwrap_err();
    assert!(matches!(err, ClientError::RetriesExhausted { .. }), "{err:?}");
}

#[tokio::test]
async fn a_slow_read_times_out_and_is_retried() {
    let s = Setup::new().await;
    let mut conn = connection(&s.fake, CLIENT_SECRET);
    conn.request_timeout = Duration::from_millis(300);
    let client = PingOneClient::new(conn, quick_retries()).unwrap();
    s.fake.on("GET", &s.user_path(), vec![Reply::json(200, user()).delayed(Duration::from_secs(2)), Reply::json(200, user())]);
    client.call(s.action("get_user"), &json!({ "userId": USER_ID }), &CallOptions::default()).await.unwrap();
    assert_eq!(s.fake.api_requests().len(), 2);
}

#[tokio::test]
async fn pingone_error_bodies_are_kept_whole() {
    let s = Setup::new().await;
    let users = s.fake.env_path("/users");
    let body = json!({
        "id": "b4a5", "code": "INVALID_DATA", "message": "The request could not be completed. One or more validation errors were in the request.",
        "details": [{ "code": "INVALID_VALUE", "target": "email", "message": "must be a well-formed email address" }]
    });
    s.fake.on("POST", &users, vec![Reply::json(400, body)]);
    let err = s.call("create_user", s.action("create_user").example.clone()).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("400 INVALID_DATA") && text.contains("INVALID_VALUE `email`: must be a well-formed email address"), "{text}");
    let as_json = err.to_json();
    assert_eq!(as_json["details"][0]["target"], "email");
    assert_eq!(as_json["status"], 400);
    assert!(as_json["transactionId"].as_str().is_some_and(|t| !t.is_empty()));
}

#[tokio::test]
async fn vendor_content_types_are_sent() {
    let s = Setup::new().await;
    let password = s.fake.env_path(&format!("/users/{USER_ID}/password"));
    s.fake.on("PUT", &password, vec![Reply::json(200, json!({ "status": "OK" }))]);
    s.call("set_user_password", json!({ "userId": USER_ID, "value": "N3w-passw0rd!", "forceChange": true })).await.unwrap();
    let request = &s.fake.api_requests()[0];
    assert_eq!(request.headers["content-type"], "application/vnd.pingidentity.password.set+json");
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body, json!({ "value": "N3w-passw0rd!", "forceChange": true }), "path parameters stay out of the body");
}

fn users_page(ids: &[&str], next: Option<String>) -> Value {
    let users: Vec<Value> = ids.iter().map(|id| json!({ "id": id })).collect();
    let mut links = json!({ "self": { "href": "x" } });
    if let Some(next) = next {
        links["next"] = json!({ "href": next });
    }
    json!({ "_links": links, "_embedded": { "users": users }, "count": 5, "size": ids.len() })
}

#[tokio::test]
async fn a_list_page_hides_hal_and_hands_back_the_cursor() {
    let s = Setup::new().await;
    let users = s.fake.env_path("/users");
    let next = format!("{}{users}?limit=2&cursor=abc%3D%3D", s.fake.base_url);
    s.fake.on("GET", &users, vec![users_page(&["u1", "u2"], Some(next))].into_iter().map(|b| Reply::json(200, b)).collect());
    let page = s.call("list_users", json!({ "limit": 2, "filter": "enabled eq true" })).await.unwrap();
    assert_eq!(page["items"], json!([{ "id": "u1" }, { "id": "u2" }]));
    assert_eq!(page["count"], 5);
    let query = s.fake.api_requests()[0].query.clone().unwrap();
    assert!(query.contains("limit=2") && query.contains("filter=enabled+eq+true"), "{query}");
    // The cursor, passed back alone, fetches PingOne's next link as it was given.
    let cursor = page["cursor"].as_str().expect("a cursor").to_owned();
    s.fake.on("GET", &users, vec![Reply::json(200, users_page(&["u3"], None))]);
    let next = s.call("list_users", json!({ "cursor": cursor })).await.unwrap();
    assert_eq!(next["items"], json!([{ "id": "u3" }]));
    assert_eq!(s.fake.api_requests()[1].query.as_deref(), Some("limit=2&cursor=abc%3D%3D"));
}

/// A cursor belongs to the list it came from (review 38: a bare offset passed with
/// another filter, or to another list, paged through other records without a word):
/// it is refused with another filter or limit than the first page's, with other path
/// arguments, by another action, or when it is no cursor a page gave; nothing is sent.
#[tokio::test]
async fn a_cursor_is_refused_for_any_other_list() {
    let s = Setup::new().await;
    let users = s.fake.env_path("/users/u1/memberOfGroups");
    let next = format!("{}{users}?limit=2&cursor=abc", s.fake.base_url);
    s.fake.on("GET", &users, vec![Reply::json(200, json!({ "_links": { "next": { "href": next } }, "_embedded": { "groupMemberships": [{ "id": "g1" }] }, "count": 3 }))]);
    let page = s.call("list_user_groups", json!({ "userId": "u1", "limit": 2, "filter": "type eq \"DIRECT\"" })).await.unwrap();
    let cursor = page["cursor"].as_str().expect("a cursor").to_owned();
    let refused = |args: Value| {
        let s = &s;
        async move { s.call(if args.get("userId").is_some() { "list_user_groups" } else { "list_groups" }, args).await.unwrap_err().to_string() }
    };
    let other_filter = refused(json!({ "userId": "u1", "cursor": cursor, "filter": "type eq \"INDIRECT\"" })).await;
    assert!(other_filter.contains("continues a list asked with filter `type eq \"DIRECT\"`") && other_filter.contains("leave `filter` out"), "{other_filter}");
    let other_limit = refused(json!({ "userId": "u1", "cursor": cursor, "limit": 50 })).await;
    assert!(other_limit.contains("asked with limit `2`, and this call gives `50`"), "{other_limit}");
    let other_user = refused(json!({ "userId": "u2", "cursor": cursor })).await;
    assert!(other_user.contains("pass the path arguments the first page had"), "{other_user}");
    let other_action = refused(json!({ "cursor": cursor })).await;
    assert!(other_action.contains("continues a list of `list_user_groups`, not of `list_groups`"), "{other_action}");
    let made_up = refused(json!({ "userId": "u1", "cursor": "bzoy" })).await;
    assert!(made_up.contains("is not one a page of results gave"), "{made_up}");
    // One leading to another host is made up too, not "PingOne's" link (review 40).
    use base64::Engine as _;
    let elsewhere = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!(["list_user_groups", format!("//evil.example{users}"), {}]).to_string());
    let forged = refused(json!({ "userId": "u1", "cursor": elsewhere })).await;
    assert!(forged.contains("is not one a page of results gave") && !forged.contains("PingOne sent"), "{forged}");
    assert_eq!(s.fake.api_requests().len(), 1, "nothing refused was sent");
}

#[tokio::test]
async fn all_follows_next_links_to_the_end() {
    let s = Setup::new().await;
    let users = s.fake.env_path("/users");
    let link = |cursor: &str| Some(format!("{}{users}?limit=2&cursor={cursor}", s.fake.base_url));
    s.fake.on("GET", &users, vec![
        Reply::json(200, users_page(&["u1", "u2"], link("p2"))),
        Reply::json(200, users_page(&["u3", "u4"], link("p3"))),
        Reply::json(200, users_page(&["u5"], None)),
    ]);
    let all = s.call("list_users", json!({ "limit": 2, "all": true })).await.unwrap();
    let ids: Vec<&str> = all.as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["u1", "u2", "u3", "u4", "u5"]);
    let cursors: Vec<Option<String>> = s.fake.api_requests().iter().map(|r| r.query.clone()).collect();
    assert_eq!(cursors.len(), 3);
    assert!(cursors[2].as_deref().unwrap().contains("cursor=p3"), "{cursors:?}");
}

/// A list call that gives no `limit` asks for the largest page PingOne serves, so every
/// item of a long list costs fewer requests; one out of range is refused before sending.
#[tokio::test]
async fn a_list_without_a_limit_asks_for_the_largest_page() {
    let s = Setup::new().await;
    let users = s.fake.env_path("/users");
    s.fake.on("GET", &users, vec![Reply::json(200, users_page(&["u1"], None)), Reply::json(200, users_page(&["u2"], None))]);
    s.call("list_users", json!({ "all": true })).await.unwrap();
    s.call("list_users", json!({ "limit": 50 })).await.unwrap();
    let queries: Vec<String> = s.fake.api_requests().iter().map(|r| r.query.clone().unwrap_or_default()).collect();
    assert_eq!(queries, ["limit=1000", "limit=50"]);
    for limit in [0, 1001] {
        let err = s.call("list_users", json!({ "limit": limit })).await.unwrap_err();
        assert!(err.to_string().contains(&format!("`limit` is {limit}, but must be from 1 to 1000")), "{err}");
    }
    assert_eq!(s.fake.api_requests().len(), 2);
}

#[tokio::test]
async fn a_next_link_to_another_host_is_refused() {
    let s = Setup::new().await;
    let users = s.fake.env_path("/users");
    s.fake.on("GET", &users, vec![Reply::json(200, users_page(&["u1"], Some("https://evil.example/v1/users?cursor=x".into())))]);
    let err = s.call("list_users", json!({ "all": true })).await.unwrap_err();
    assert!(err.to_string().contains("refusing to send the token there"), "{err}");
    assert_eq!(s.fake.api_requests().len(), 1);
}

#[tokio::test]
async fn bad_arguments_are_refused_before_any_request() {
    let s = Setup::new().await;
    let err = s.call("get_user", json!({ "userID": USER_ID })).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("userID") && text.contains("userId"), "{text}");
    assert_eq!(s.fake.tokens_issued(), 0);
    assert!(s.fake.api_requests().is_empty());
}

/// A list whose items are under another `_embedded` key than the action's `list_key`
/// (a mistake in an action file) is refused, naming the key, not read as empty.
#[tokio::test]
async fn a_list_under_another_key_is_refused_naming_it() {
    let s = Setup::new().await;
    let mut wrong = s.action("list_users").clone();
    wrong.list_key = Some("fooBar".into());
    s.fake.on("GET", &s.fake.env_path("/users"), vec![Reply::json(200, json!({ "_embedded": { "users": [user()] }, "count": 1 }))]);
    let error = s.client.call(&wrong, &json!({}), &CallOptions::default()).await.unwrap_err().to_string();
    assert!(error.contains("under `_embedded.users`, not `_embedded.fooBar`") && error.contains("set `list_key: users`"), "{error}");
    let page = s.call("list_users", json!({})).await.unwrap();
    assert_eq!(page["items"][0]["username"], "jdoe", "the right key reads the items");
}
