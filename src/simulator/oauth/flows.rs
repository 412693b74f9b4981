//! What the authorization server remembers between requests: sign-ons in progress,
//! authorization codes, device authorizations and refresh tokens. Each is keyed by
//! the opaque value the client holds, and dropped once used or expired.

use std::collections::HashMap;
use std::time::{Duration, Instant};

const DEVICE_LINGER: Duration = Duration::from_secs(600);

/// What a person agreed to: the basis of every token issued for them.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub user_id: String,
    pub client_id: String,
    pub scope: String,
    /// The access token's `aud`: the `resource` asked for, or the management API.
    pub audience: String,
    /// The sign-on session, carried through refreshes as `sid`.
    pub session_id: String,
    /// When the person signed on (seconds since the epoch).
    pub auth_time: i64,
}

/// An authorization request waiting for the person to sign on.
#[derive(Debug, Clone)]
pub(crate) struct SignOn {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub audience: String,
    pub expires: Instant,
}

/// An authorization code, bound to its client, redirect URI and PKCE challenge.
#[derive(Debug, Clone)]
pub(crate) struct Code {
    pub grant: Grant,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub expires: Instant,
    /// The tokens it was exchanged for: a second exchange revokes them (RFC 6749 §4.1.2).
    pub redeemed: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub(crate) enum DeviceStatus {
    Pending,
    Approved(Grant),
    Denied,
}

/// A device authorization (RFC 8628), polled by the client with its device code.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub client_id: String,
    pub user_code: String,
    pub scope: String,
    pub audience: String,
    pub status: DeviceStatus,
    pub expires: Instant,
    pub last_poll: Option<Instant>,
}

/// A refresh token: the grant it renews.
#[derive(Debug, Clone)]
pub(crate) struct Refresh {
    pub grant: Grant,
    pub expires: Instant,
}

#[derive(Debug, Default)]
pub(crate) struct Flows {
    /// flow id -> authorization request.
    pub sign_ons: HashMap<String, SignOn>,
    pub codes: HashMap<String, Code>,
    /// device code -> device authorization.
    pub devices: HashMap<String, Device>,
    /// user code (normalised) -> device code.
    pub user_codes: HashMap<String, String>,
    pub refresh_tokens: HashMap<String, Refresh>,
}

impl Flows {
    /// Forgets what has expired, so long runs do not grow without bound.
    pub fn sweep(&mut self, now: Instant) {
        self.sign_ons.retain(|_, s| s.expires > now);
        // Redeemed codes are kept past expiry only while reuse could still matter.
        self.codes.retain(|_, c| c.expires > now);
        self.refresh_tokens.retain(|_, r| r.expires > now);
        // An expired device code lingers a while, so the polling client learns `expired_token`.
        let gone: Vec<String> = self.devices.iter().filter(|(_, d)| d.expires + DEVICE_LINGER < now).map(|(k, _)| k.clone()).collect();
        for device_code in gone {
            self.drop_device(&device_code);
        }
    }

    /// The device code of the authorization a person's user code names.
    pub fn device_code_for(&self, user_code: &str) -> Option<String> {
        self.user_codes.get(&normalise_user_code(user_code)).cloned()
    }

    /// Forgets a device authorization and its user code.
    pub fn drop_device(&mut self, device_code: &str) {
        if let Some(d) = self.devices.remove(device_code) {
            self.user_codes.remove(&normalise_user_code(&d.user_code));
        }
    }
}

/// `abcd-efgh`, `ABCDEFGH` and ` ABCD EFGH ` all name the same user code.
pub(crate) fn normalise_user_code(code: &str) -> String {
    code.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}
