//! Calling actions: arguments checked, token attached, retried when that is safe,
//! lists normalised to `{items, count, cursor}` or followed to the end.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use serde_json::{json, Map, Value};
use url::Url;

use super::auth::{without_url, TokenSource};
use super::error::{parse_error_body, ClientError, PingOneErrorBody};
use super::rate::RateLimiter;
use super::cursor;
use super::request::{build, Body, RequestSpec};
use super::retry::{parse_retry_after, RetryPolicy, Waits, RETRYABLE_STATUSES};
use crate::catalog::{check_args, Action, Host};
use crate::config::Connection;
use crate::secret::{credentials_in, without_echoed, Secret};

pub const TRANSACTION_HEADER: &str = "X-Ping-External-Transaction-ID";

/// The most items `{ all: true }` collects before it stops with an error.
const MAX_ALL_ITEMS: usize = 100_000;

#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// Overrides the transaction id sent to PingOne (default: a new UUID per call).
    pub transaction_id: Option<String>,
    /// The most JSON `all: true` gathers before it gives up (none: only [`MAX_ALL_ITEMS`]).
    pub all_bytes: Option<usize>,
    /// Counts the retries this call took and the time spent waiting for them.
    pub waits: Option<Arc<Waits>>,
}

#[derive(Debug, Clone)]
pub struct PingOneClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    conn: Connection,
    tokens: TokenSource,
    retry: RetryPolicy,
    rate: Option<Arc<RateLimiter>>,
}

/// What one HTTP exchange produced.
struct Reply {
    status: u16,
    text: String,
}

/// A URL longer than this is said to be why a request could not be made (the HTTP
/// library takes none past 64 KB).
const LONG_URL: usize = 8_000;

impl PingOneClient {
    pub fn new(conn: Connection, retry: RetryPolicy) -> Result<Self, ClientError> {
        Self::with_rate_limit(conn, retry, None)
    }

    /// Every HTTP attempt (retries and pages included) first waits for `rate`.
    pub fn with_rate_limit(conn: Connection, retry: RetryPolicy, rate: Option<Arc<RateLimiter>>) -> Result<Self, ClientError> {
        #[allow(clippy::disallowed_methods)]
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(conn.request_timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("pingone-mcp/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Unusable { action: "client".into(), message: e.to_string() })?;
        let tokens = TokenSource::new(http.clone(), &conn)?;
        Ok(Self { inner: Arc::new(Inner { http, conn, tokens, retry, rate }) })
    }

    pub fn connection(&self) -> &Connection {
        &self.inner.conn
    }

    /// The user id of the person this client acts as (`--as-user`), when it can tell.
    pub async fn person_id(&self) -> Option<String> {
        self.inner.tokens.person_id().await
    }

    /// The environment's `type` (SANDBOX or PRODUCTION), read with the worker token.
    pub async fn environment_type(&self) -> Result<String, ClientError> {
        let action: Action = serde_json::from_value(json!({
            "id": "read_environment", "title": "Read Environment", "description": "The configured environment, for the production guard.",
            "method": "GET", "host": "api", "path": "/environments/{environmentId}",
            "read_only": true, "destructive": false, "idempotent": true, "example": {}
        }))
        .map_err(|e| ClientError::Unusable { action: "read_environment".into(), message: e.to_string() })?;
        let environment = self.call(&action, &json!({}), &CallOptions::default()).await?;
        Ok(environment.get("type").and_then(Value::as_str).unwrap_or("UNKNOWN").to_owned())
    }

    /// The request a call would send, without sending it (dry runs).
    pub fn preview(&self, action: &Action, args: &Value) -> Result<Value, ClientError> {
        check_args(action, args)?;
        let empty = Map::new();
        let spec = build(action, args.as_object().unwrap_or(&empty), &self.inner.conn)?;
        let body = match &spec.body {
            Body::None => Value::Null,
            Body::Json { value, .. } => value.clone(),
            Body::Form(fields) => Value::Object(fields.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect()),
        };
        Ok(json!({ "method": spec.method.as_str(), "url": spec.url.as_str(), "contentType": action.content_type, "body": body }))
    }

    /// Calls one action. `args.all = true` on a list action returns every item.
    pub async fn call(&self, action: &Action, args: &Value, opts: &CallOptions) -> Result<Value, ClientError> {
        check_args(action, args)?;
        let empty = Map::new();
        let map = args.as_object().unwrap_or(&empty);
        let all = map.get("all").and_then(Value::as_bool).unwrap_or(false);
        let mut spec = build(action, map, &self.inner.conn)?;
        // What a list was first asked with, for its next page's cursor: a cursor's own,
        // once the call is shown to continue that list.
        let asked = match (&action.list_key, map.get("cursor").and_then(Value::as_str)) {
            (Some(_), Some(cursor)) => {
                let (next, first) = cursor::next_page(action, cursor, map, &spec.url)?;
                spec.url = self.same_origin(action, next.as_str())?;
                first
            }
            (Some(_), None) => cursor::asked(action, map),
            (None, _) => cursor::Asked::new(),
        };
        let transaction_id = opts.transaction_id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        // A read whose answer cannot be read is asked again, as after a 5xx (review 58);
        // a write's was applied, and is not sent again.
        let mut unreadable = 0;
        let (reply, value) = loop {
            let reply = self.send(action, &spec, &transaction_id, opts.waits.as_deref()).await?;
            if let Some(waits) = &opts.waits {
                waits.set_status(reply.status);
            }
            match parse_success(action, &reply, &transaction_id) {
                Ok(value) => break (reply, value),
                Err(_) if !action.writes() && unreadable < self.inner.retry.max_retries => {
                    unreadable += 1;
                    tracing::info!(action = %action.id, attempt = unreadable, "retrying: the answer was not JSON");
                    pause(opts.waits.as_deref(), self.inner.retry.backoff(unreadable), false).await;
                }
                Err(e) => return Err(e),
            }
        };
        if let Some(key) = &action.list_key {
            check_list_key(action, key, &value)?;
        }
        match &action.list_key {
            Some(key) if all => self.collect_all(action, key, value, reply.text.len(), opts, &transaction_id).await,
            Some(key) => Ok(page(action, key, &value, &asked)),
            None => Ok(without_links(value)),
        }
    }

    /// Every page's items, following `next` links. Gives up past [`MAX_ALL_ITEMS`], or
    /// past `all_bytes` of JSON, before fetching the rest.
    async fn collect_all(&self, action: &Action, key: &str, first: Value, first_bytes: usize, opts: &CallOptions, transaction_id: &str) -> Result<Value, ClientError> {
        let total = first.get("count").and_then(Value::as_u64);
        let mut items: Vec<Value> = Vec::new();
        let mut bytes = first_bytes;
        let mut current = first;
        loop {
            items.extend(embedded(key, &current));
            let more = current.pointer("/_links/next/href").and_then(Value::as_str);
            let too_big = opts.all_bytes.is_some_and(|most| bytes > most);
            if more.is_some() && (items.len() > MAX_ALL_ITEMS || too_big) {
                return Err(all_too_big(action, items.len(), bytes, total));
            }
            let Some(next) = more else { break };
            let url = self.same_origin(action, next)?;
            let spec = RequestSpec { method: reqwest::Method::GET, url, body: Body::None };
            let reply = self.send(action, &spec, transaction_id, opts.waits.as_deref()).await?;
            bytes += reply.text.len();
            current = parse_success(action, &reply, transaction_id)?;
        }
        Ok(Value::Array(items))
    }

    /// A `next` link must point at the API we called: the token never goes elsewhere.
    fn same_origin(&self, action: &Action, href: &str) -> Result<Url, ClientError> {
        let url = Url::parse(href).map_err(|e| ClientError::Unusable { action: action.id.clone(), message: format!("PingOne sent a bad next link `{href}`: {e}") })?;
        if url.origin() != self.inner.conn.api_base.origin() {
            return Err(ClientError::Unusable { action: action.id.clone(), message: format!("PingOne sent a next link to another host ({}); refusing to send the token there", url.origin().ascii_serialization()) });
        }
        Ok(url)
    }

    /// Sends with retries: any attempt that PingOne certainly did not act on
    /// (connect failure, 429, a rejected token) is retried; other failures only when
    /// the action is idempotent.
    async fn send(&self, action: &Action, spec: &RequestSpec, transaction_id: &str, waits: Option<&Waits>) -> Result<Reply, ClientError> {
        let retry = &self.inner.retry;
        let mut token_refreshed = false;
        let mut attempt = 0u32;
        let began = std::time::Instant::now();
        // An earlier try may have been carried out (a 5xx, a connection lost after
        // sending): a delete's retry that then finds the record gone is taken as done,
        // since it most likely removed it, and the record is gone either way; a write
        // whose tries all go unanswered ends with its outcome unknown, never as failed.
        let mut maybe_applied = 0u32;
        let unknown = |reason: String, status: Option<u16>, answer: Option<Box<PingOneErrorBody>>, tries: u32| ClientError::OutcomeUnknown {
            action: action.id.clone(),
            method: action.method.as_str(),
            reason,
            status,
            answer,
            transaction_id: transaction_id.into(),
            tries,
        };
        let writes = !action.read_only;
        let sent_credentials = sent_credentials(action, spec);
        if let Some(waits) = waits {
            waits.mark_sent();
        }
        loop {
            attempt += 1;
            if let Some(rate) = &self.inner.rate {
                rate.acquire().await;
            }
            let token = match self.token_for(action).await {
                Ok(token) => token,
                // No request was sent without a token: trying again is safe for any method.
                Err(unavailable @ ClientError::AuthUnavailable { .. }) if attempt <= retry.max_retries => {
                    let wait = retry.delay(attempt, None, false);
                    tracing::info!(action = %action.id, attempt, wait_ms = wait.as_millis() as u64, "retrying: {unavailable}");
                    pause(waits, wait, maybe_applied > 0).await;
                    continue;
                }
                Err(other) => return Err(other),
            };
            let request = self.request(action, spec, &token, transaction_id)?;
            let started = std::time::Instant::now();
            let outcome = request.send().await;
            let (retryable, retry_after, last) = match outcome {
                // The request could not even be made (review 50: a 60 KB filter's URL):
                // nothing was sent, and another try would fail the same way.
                Err(e) if e.is_builder() => {
                    let long = spec.url.as_str().len();
                    let why = if long > LONG_URL { format!("; its URL is {long} characters: shorten the filter (or filter part of the list in the script)") } else { String::new() };
                    return Err(ClientError::Unusable { action: action.id.clone(), message: format!("the request could not be made, so nothing was sent ({}){why}", without_url(&e)) });
                }
                Err(e) => {
                    let never_sent = e.is_connect();
                    let message = without_url(&e);
                    tracing::debug!(action = %action.id, attempt, never_sent, "request failed: {message}");
                    if !never_sent && !action.idempotent {
                        return Err(unknown(message, None, None, 1));
                    }
                    maybe_applied += u32::from(!never_sent);
                    if attempt > retry.max_retries {
                        return Err(if writes && maybe_applied > 0 {
                            unknown(format!("the connection was lost, {attempt} times ({message})"), None, None, maybe_applied)
                        } else if never_sent {
                            ClientError::Transport { action: action.id.clone(), url: spec.url.to_string(), message }
                        } else {
                            ClientError::RetriesExhausted { action: action.id.clone(), attempts: attempt, last: message, transaction_id: transaction_id.into() }
                        });
                    }
                    (true, None, message)
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retry_after = response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
                    let text = match response.text().await {
                        Ok(text) => text,
                        Err(e) if action.idempotent => {
                            maybe_applied += 1;
                            if attempt > retry.max_retries {
                                return Err(if writes {
                                    unknown(format!("the answer was cut off, {attempt} times ({})", without_url(&e)), Some(status), None, maybe_applied)
                                } else {
                                    ClientError::RetriesExhausted { action: action.id.clone(), attempts: attempt, last: without_url(&e), transaction_id: transaction_id.into() }
                                });
                            }
                            pause(waits, retry.delay(attempt, None, false), true).await;
                            continue;
                        }
                        Err(e) => return Err(unknown(format!("the response was cut off ({})", without_url(&e)), Some(status), None, 1)),
                    };
                    tracing::debug!(action = %action.id, status, attempt, ms = started.elapsed().as_millis() as u64, "PingOne replied");
                    if (200..300).contains(&status) {
                        return Ok(Reply { status, text });
                    }
                    let credentials: Vec<&str> = sent_credentials.iter().copied().chain([token.expose()]).collect();
                    let text = without_echoed(&text, &credentials);
                    if status == 404 && maybe_applied > 0 && spec.method == reqwest::Method::DELETE {
                        tracing::info!(action = %action.id, attempt, "an earlier try's answer was lost and this one finds the record gone: taken as deleted");
                        // PingOne's own status stays on record (review 58: a 204 it never sent was logged).
                        return Ok(Reply { status, text: String::new() });
                    }
                    if status == 401 && action.host == Host::Api && !token_refreshed {
                        // The token may have been revoked or expired early: one fresh try.
                        self.inner.tokens.invalidate(&token).await;
                        token_refreshed = true;
                        continue;
                    }
                    let api_error = |gave_up: Option<String>| ClientError::Api { action: action.id.clone(), method: action.method.as_str(), path: spec.url.path().to_owned(), status, body: Box::new(parse_error_body(status, &text)), transaction_id: transaction_id.into(), gave_up };
                    if !RETRYABLE_STATUSES.contains(&status) {
                        return Err(api_error(None));
                    }
                    // 429 means PingOne refused the request unprocessed: safe for any method.
                    if status != 429 && !action.idempotent {
                        return Err(unknown(format!("PingOne answered {status}"), Some(status), Some(Box::new(parse_error_body(status, &text))), 1));
                    }
                    maybe_applied += u32::from(status != 429);
                    let gave_up = if attempt > retry.max_retries {
                        // What a caller can change (review 54 L8): the tries, or the pace that is throttled.
                        let more = if status == 429 { "; --max-retries N tries more, and a lower --rate-limit is throttled less" } else { "; --max-retries N tries more" };
                        let tries = if attempt == 1 { "1 try".to_owned() } else { format!("{attempt} tries") };
                        Some(format!("gave up after {tries} over {:.1} s{more}", began.elapsed().as_secs_f64()))
                    } else {
                        retry_after.filter(|wait| *wait > retry.max_retry_after).map(|wait| {
                            format!("PingOne asked to wait {} s before trying again, longer than the {} s this client waits; try again later", wait.as_secs(), retry.max_retry_after.as_secs())
                        })
                    };
                    if let Some(why) = gave_up {
                        return Err(if writes && maybe_applied > 0 {
                            unknown(format!("PingOne answered {status} ({why})"), Some(status), Some(Box::new(parse_error_body(status, &text))), maybe_applied)
                        } else {
                            api_error(Some(why))
                        });
                    }
                    (true, retry_after.map(|wait| (wait, status == 429)), format!("{status}"))
                }
            };
            debug_assert!(retryable);
            let (retry_after, throttled) = retry_after.unzip();
            let wait = retry.delay(attempt, retry_after, throttled.unwrap_or(false));
            tracing::info!(action = %action.id, attempt, wait_ms = wait.as_millis() as u64, "retrying after {last}");
            pause(waits, wait, maybe_applied > 0).await;
        }
    }

    async fn token_for(&self, action: &Action) -> Result<Secret, ClientError> {
        match action.host {
            Host::Api => self.inner.tokens.token().await,
            // A person's token given for the auth host (PINGONE_USER_TOKEN) is used as
            // given; else, signed in as a person, theirs serves it too (userinfo).
            Host::Auth if self.inner.conn.user_token.is_none() && self.inner.tokens.is_person() => self.inner.tokens.token().await,
            Host::Auth => self.inner.conn.user_token.clone().ok_or_else(|| ClientError::Unusable {
                action: action.id.clone(),
                message: "this action runs on the auth host and needs a signed-in person's access token, not the worker app's: sign in with `pingone-mcp login` and pass --as-user (or set PINGONE_USER_TOKEN)".into(),
            }),
        }
    }

    fn request(&self, action: &Action, spec: &RequestSpec, token: &Secret, transaction_id: &str) -> Result<reqwest::RequestBuilder, ClientError> {
        let mut bearer = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
            .map_err(|_| ClientError::Unusable { action: action.id.clone(), message: "the access token contains characters not allowed in a header".into() })?;
        bearer.set_sensitive(true);
        let mut request = self.inner.http.request(spec.method.clone(), spec.url.clone()).header(AUTHORIZATION, bearer).header(TRANSACTION_HEADER, transaction_id);
        match &spec.body {
            Body::None => {}
            Body::Json { content_type, value } => {
                request = request.header(CONTENT_TYPE, content_type.as_str()).body(value.to_string());
            }
            Body::Form(fields) => {
                let mut form = reqwest::multipart::Form::new();
                for (name, value) in fields {
                    form = if name == "file" {
                        let part = reqwest::multipart::Part::text(value.clone()).file_name("certificate.pem");
                        form.part(name.clone(), part)
                    } else {
                        form.text(name.clone(), value.clone())
                    };
                }
                request = request.multipart(form);
            }
        }
        Ok(request)
    }
}

fn parse_success(action: &Action, reply: &Reply, transaction_id: &str) -> Result<Value, ClientError> {
    // A delete's 204 (and any other empty answer) is the `void` its signature declares.
    if reply.text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&reply.text).map_err(|e| ClientError::AnswerUnreadable { action: action.id.clone(), status: reply.status, problem: e.to_string(), wrote: action.writes(), transaction_id: transaction_id.to_owned() })
}

/// Waits before another try, counted in `waits`; `maybe_applied`: a try before it may
/// have been carried out, so the call, given up in the wait, may have been applied.
async fn pause(waits: Option<&Waits>, wait: Duration, maybe_applied: bool) {
    if let Some(waits) = waits {
        if maybe_applied {
            waits.mark_maybe_applied();
        }
        waits.begin_wait(wait);
    }
    tokio::time::sleep(wait).await;
    if let Some(waits) = waits {
        waits.end_wait();
    }
}

/// `all: true` given up: how far it got, and the ways to read the whole list.
fn all_too_big(action: &Action, gathered: usize, bytes: usize, total: Option<u64>) -> ClientError {
    let of_total = total.map(|t| format!(" of {t}")).unwrap_or_default();
    ClientError::ListTooLarge {
        action: action.id.clone(),
        message: format!(
            "`all: true` stopped after {gathered}{of_total} items ({:.1} MB): more than one call should gather. Page through them (in a script, `for await (const item of pingone.iterate('{}', args))`, keeping only what you need of each; else page by page with `cursor`), or narrow the list with a filter",
            bytes as f64 / 1e6,
            action.id
        ),
    }
}

/// A page whose items are under another `_embedded` key than the action's `list_key`
/// (an action file's mistake) would read as an empty list: refused, naming the keys.
fn check_list_key(action: &Action, key: &str, value: &Value) -> Result<(), ClientError> {
    let found: Vec<&str> = match value.get("_embedded") {
        Some(Value::Object(embedded)) if !embedded.contains_key(key) => embedded.keys().map(String::as_str).collect(),
        _ => return Ok(()),
    };
    if found.is_empty() {
        return Ok(());
    }
    Err(ClientError::Unusable {
        action: action.id.clone(),
        message: format!(
            "PingOne's list has its items under `_embedded.{}`, not `_embedded.{key}` as the action's `list_key` says: set `list_key: {}` in its action file",
            found.join("`, `_embedded."),
            found[0]
        ),
    })
}

/// The items of a HAL page, without their `_links` (navigation, never data).
fn embedded(key: &str, value: &Value) -> Vec<Value> {
    let mut items = value.pointer(&format!("/_embedded/{key}")).and_then(Value::as_array).cloned().unwrap_or_default();
    for item in &mut items {
        if let Some(map) = item.as_object_mut() {
            map.remove("_links");
        }
    }
    items
}

/// One record without its `_links`: a get passed back to an update round-trips.
fn without_links(mut value: Value) -> Value {
    if let Some(map) = value.as_object_mut() {
        map.remove("_links");
    }
    value
}

/// One HAL page as `{items, count, cursor}`: agents never see `_links`; the cursor
/// carries the next link and what the list was asked with ([`cursor`]).
fn page(action: &Action, key: &str, value: &Value, asked: &cursor::Asked) -> Value {
    let mut out = Map::new();
    out.insert("items".into(), Value::Array(embedded(key, value)));
    if let Some(count) = value.get("count") {
        out.insert("count".into(), count.clone());
    }
    if let Some(cursor) = value.pointer("/_links/next/href").and_then(Value::as_str).and_then(|next| cursor::encode(action, next, asked)) {
        out.insert("cursor".into(), Value::String(cursor));
    }
    Value::Object(out)
}

/// The credentials a request's body carries (a password, a client secret), to be cut
/// from whatever comes back should it be echoed.
fn sent_credentials<'a>(action: &Action, spec: &'a RequestSpec) -> Vec<&'a str> {
    let also: Vec<&str> = action.secret_params().collect();
    let mut found = Vec::new();
    match &spec.body {
        Body::None => {}
        Body::Json { value, .. } => credentials_in(value, &also, &mut found),
        Body::Form(fields) => found.extend(fields.iter().filter(|(name, _)| crate::secret::is_secret_field(name) || also.contains(&name.as_str())).map(|(_, value)| value.as_str())),
    }
    found
}
