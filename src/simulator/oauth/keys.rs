//! The RS256 signing keys of the authorization server and their JWKS.
//!
//! RSA-2048 key generation takes a noticeable fraction of a second, so the first key
//! is generated on its own thread while the simulator starts, and whoever needs it
//! first waits for it. Rotation keeps the previous key in the JWKS so tokens it
//! signed still verify, as a real authorization server does during a rollover.

use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const BITS: usize = 2048;
/// Keys published at once: the current one and the one before it.
const PUBLISHED: usize = 2;

/// One signing key: its id and what signing and the JWKS need.
pub(crate) struct SigningKey {
    pub kid: String,
    encoding: EncodingKey,
    /// Base64url modulus and exponent, as the JWKS publishes them.
    n: String,
    e: String,
}

impl SigningKey {
    fn new(private: &RsaPrivateKey) -> Self {
        let n = URL_SAFE_NO_PAD.encode(private.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(private.e().to_bytes_be());
        // jsonwebtoken's RustCrypto backend reads RSA keys as PKCS#1 DER.
        let der = private.to_pkcs1_der().expect("a generated RSA key encodes as PKCS#1");
        Self { kid: thumbprint(&n, &e), encoding: EncodingKey::from_rsa_der(der.as_bytes()), n, e }
    }

    /// A compact JWS of `claims`, with this key's `kid` in the header.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("RS256 signing with a valid key cannot fail")
    }

    fn jwk(&self) -> Value {
        json!({ "kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256", "n": self.n, "e": self.e })
    }
}

/// The RFC 7638 thumbprint of an RSA public key: a stable, content-derived `kid`.
fn thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

fn generate(seed: u64) -> RsaPrivateKey {
    RsaPrivateKey::new(&mut StdRng::seed_from_u64(seed), BITS).expect("RSA key generation succeeds")
}

struct Ring {
    /// The first key, still being generated.
    pending: Option<JoinHandle<RsaPrivateKey>>,
    /// Newest first.
    keys: Vec<Arc<SigningKey>>,
    /// Seeds the next key, so a given simulator seed gives the same keys.
    next_seed: u64,
}

/// The signing keys; cheap to share, safe to use from any thread.
pub(crate) struct SigningKeys {
    ring: Mutex<Ring>,
}

impl SigningKeys {
    /// Starts generating the first key in the background.
    pub fn start(seed: u64) -> Self {
        let first = seed ^ 0x6b65_7973;
        let pending = std::thread::Builder::new().name("sim-rsa-keygen".into()).spawn(move || generate(first)).expect("a thread for key generation");
        Self { ring: Mutex::new(Ring { pending: Some(pending), keys: Vec::new(), next_seed: first.wrapping_add(1) }) }
    }

    /// Whether the first key is there (so using the keys will not block).
    pub fn is_ready(&self) -> bool {
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        ring.pending.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// The ring, with the first key in it (waits for its generation if need be).
    fn ring(&self) -> MutexGuard<'_, Ring> {
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(pending) = ring.pending.take() {
            let private = pending.join().expect("the key generation thread does not panic");
            ring.keys.insert(0, Arc::new(SigningKey::new(&private)));
        }
        ring
    }

    /// The key new tokens are signed with.
    pub fn current(&self) -> Arc<SigningKey> {
        self.ring().keys[0].clone()
    }

    /// Signs `claims` with the current key.
    pub fn sign(&self, claims: &Value) -> String {
        self.current().sign(claims)
    }

    /// Generates a new current key (blocking); the previous one stays published.
    pub fn rotate(&self) {
        let mut ring = self.ring();
        let private = generate(ring.next_seed);
        ring.next_seed = ring.next_seed.wrapping_add(1);
        ring.keys.insert(0, Arc::new(SigningKey::new(&private)));
        ring.keys.truncate(PUBLISHED);
    }

    /// `{"keys": [...]}`, the current key first.
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.ring().keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() })
    }
}
