//! The device authorization grant (RFC 8628), for machines without a browser: show
//! a code and a URL, then poll the token endpoint until the person approves.

use std::time::{Duration, Instant};

use serde::Deserialize;

use super::exchange::{post_form, OAuthError, TokenResponse};
use super::LoginRequest;

#[derive(Deserialize)]
pub struct DeviceCode {
    device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    #[serde(default)]
    pub verification_uri_complete: Option<String>,
    #[serde(default = "default_expiry")]
    pub expires_in: u64,
    #[serde(default = "default_interval")]
    pub interval: u64,
}

fn default_expiry() -> u64 {
    600
}

fn default_interval() -> u64 {
    5
}

/// Runs the flow: `show` gets the code to display to the person.
pub async fn device_login(http: &reqwest::Client, request: &LoginRequest, show: impl FnOnce(&DeviceCode)) -> Result<TokenResponse, OAuthError> {
    let mut form = vec![("client_id", request.client_id.as_str()), ("scope", request.scope.as_str())];
    if let Some(resource) = &request.resource {
        form.push(("resource", resource));
    }
    let url = request.server.device_authorization();
    let text = post_form(http, &url, &form).await?;
    let code: DeviceCode = serde_json::from_str(&text).map_err(|e| OAuthError::new("invalid_response", format!("the device authorization response is not valid JSON: {e}")))?;
    show(&code);

    let deadline = Instant::now() + Duration::from_secs(code.expires_in);
    let mut interval = Duration::from_secs(code.interval.max(1));
    let poll = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", request.client_id.as_str()),
        ("device_code", code.device_code.as_str()),
    ];
    loop {
        tokio::time::sleep(interval).await;
        if Instant::now() > deadline {
            return Err(OAuthError::new("expired_token", "the code expired before it was approved; run `pingone-mcp login --device` again"));
        }
        match post_form(http, &request.server.token(), &poll).await {
            Ok(text) => return serde_json::from_str(&text).map_err(|e| OAuthError::new("invalid_response", format!("the token response is not valid JSON: {e}"))),
            Err(e) if e.error == "authorization_pending" => {}
            // RFC 8628 §3.5: slow down by five seconds.
            Err(e) if e.error == "slow_down" => interval += Duration::from_secs(5),
            Err(e) => return Err(e),
        }
    }
}
