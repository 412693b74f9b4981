//! An in-process PingOne: the management API behind every catalog action, the token and
//! userinfo endpoints, HAL pages with cursors, SCIM filters, PingOne's error bodies
//! and rules, deterministic seed data and fault knobs, served over loopback HTTP.
//!
//! Written from the API specs (`../shared/pingone-api/`), never from the action
//! catalog, so that the catalog and the simulator check each other.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use pingone_mcp::simulator::{Simulator, SimulatorConfig};
//! let sim = Simulator::start(SimulatorConfig::default(), 0).await?;
//! let conn = sim.connection(); // ready for PingOneClient::new
//! # drop(conn); sim.shutdown().await; Ok(()) }
//! ```

pub mod cli;
mod clock;
mod errors;
mod faults;
mod hal;
mod oauth;
mod index;
mod reply;
mod routes;
mod seed;
mod server;
mod store;

pub use faults::{FaultKind, FaultRule, Faults, Trigger};
pub use oauth::{JwtSpec, Person};
pub use seed::{INJECTIONS, SYSTEM_ROLES};

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::config::{AuthMethod, Connection, Credentials};
use crate::secret::Secret;
use server::App;
use store::{State, Subject};

/// Whether the simulated environment says it is a sandbox or production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum EnvironmentType {
    #[default]
    Sandbox,
    Production,
}

impl EnvironmentType {
    pub fn as_str(self) -> &'static str {
        match self {
            EnvironmentType::Sandbox => "SANDBOX",
            EnvironmentType::Production => "PRODUCTION",
        }
    }
}

/// How to build the simulated environment.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// Seeds every id, name and secret: the same seed gives the same environment.
    pub seed: u64,
    /// Number of seeded users.
    pub users: usize,
    pub environment_type: EnvironmentType,
    pub faults: Faults,
    /// Lifetime of issued access tokens.
    pub token_ttl: Duration,
    /// The device flow's polling interval (whole seconds; short, so tests are quick).
    pub device_interval: Duration,
    /// How long a device code lives.
    pub device_code_ttl: Duration,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            users: 200,
            environment_type: EnvironmentType::Sandbox,
            faults: Faults::none(),
            token_ttl: Duration::from_secs(3600),
            device_interval: Duration::from_secs(1),
            device_code_ttl: Duration::from_secs(600),
        }
    }
}

/// A running simulator. Dropping it stops the server too.
pub struct Simulator {
    /// `http://127.0.0.1:<port>`: the auth host; the API is under `/v1`.
    pub base_url: String,
    pub environment_id: String,
    pub organization_id: String,
    /// The seeded worker app (client_secret_basic, roles at environment scope).
    pub client_id: String,
    pub client_secret: String,
    /// A signed-in user's access token, for the userinfo endpoint.
    pub user_token: String,
    /// The user `user_token` belongs to.
    pub demo_user_id: String,
    /// The public login application (native app: no secret, PKCE S256 required,
    /// authorization code, refresh token and device code; redirect
    /// `http://127.0.0.1/callback` on any port).
    pub login_client_id: String,
    /// A person with Environment Admin at environment scope.
    pub admin: Person,
    /// A person with Identity Data Read Only at environment scope.
    pub reader: Person,
    pub addr: SocketAddr,
    app: Arc<App>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Simulator {
    /// Seeds the environment, binds 127.0.0.1:`port` (0 picks a free port) and
    /// serves on a tokio task.
    pub async fn start(config: SimulatorConfig, port: u16) -> anyhow::Result<Simulator> {
        let started = Instant::now();
        // First, so RSA key generation overlaps the seeding.
        let auth = oauth::AuthServer::start(config.seed, oauth::Settings { device_interval: config.device_interval, device_code_ttl: config.device_code_ttl });
        let mut rng = StdRng::seed_from_u64(config.seed);
        let environment_id = store::new_id(&mut rng);
        let organization_id = store::new_id(&mut rng);
        let mut st = State::new(environment_id.clone(), organization_id.clone(), config.environment_type.as_str(), StdRng::seed_from_u64(config.seed.wrapping_add(1)));
        st.token_ttl = config.token_ttl;
        let seeded = seed::seed(&mut st, config.seed, config.users);
        let sign_on = oauth::seed_sign_on(&mut st, config.seed);
        // Built now, in bulk, rather than by the first filtered list of users.
        st.users.prepare_value_index();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
        let addr = listener.local_addr().context("the listener has no local address")?;
        let base_url = format!("http://{addr}");
        st.base_url = base_url.clone();
        let user_token = st.issue_token(Subject::User(seeded.demo_user_id.clone()));
        let app = Arc::new(App { state: Mutex::new(st), faults: RwLock::new(config.faults), auth });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = server::router(app.clone());
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = served.await {
                tracing::error!("the simulator stopped: {e}");
            }
        });
        tracing::info!(users = config.users, ms = started.elapsed().as_millis() as u64, %base_url, "simulator started");
        Ok(Simulator {
            base_url,
            environment_id,
            organization_id,
            client_id: seeded.client_id,
            client_secret: seeded.client_secret,
            user_token,
            demo_user_id: seeded.demo_user_id,
            login_client_id: sign_on.login_client_id,
            admin: sign_on.admin,
            reader: sign_on.reader,
            addr,
            app,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The management API base, `<base_url>/v1`.
    pub fn api_base(&self) -> String {
        format!("{}/v1", self.base_url)
    }

    /// The auth host base (token and userinfo live under `/{envId}/as/`).
    pub fn auth_base(&self) -> String {
        self.base_url.clone()
    }

    /// Connection settings for `PingOneClient::new`.
    pub fn connection(&self) -> Connection {
        Connection {
            profile: "simulator".into(),
            environment_id: self.environment_id.clone(),
            credentials: Credentials::Worker { client_id: self.client_id.clone(), client_secret: Secret::new(self.client_secret.clone()), auth_method: AuthMethod::Basic },
            api_base: url::Url::parse(&self.api_base()).expect("the simulator's URL parses"),
            auth_base: url::Url::parse(&self.auth_base()).expect("the simulator's URL parses"),
            user_token: Some(Secret::new(self.user_token.clone())),
            request_timeout: Duration::from_secs(30),
        }
    }

    /// Replaces the fault rules of the running server.
    pub fn set_faults(&self, faults: Faults) {
        *self.app.faults.write().unwrap_or_else(|p| p.into_inner()) = faults;
    }

    /// Expires every access token issued so far (clients must fetch new ones).
    pub fn expire_tokens(&self) {
        let mut st = self.app.state();
        let now = Instant::now();
        for t in st.tokens.values_mut() {
            t.expires = now;
        }
    }

    /// Issues a user access token (for userinfo) for `user_id`.
    pub fn issue_user_token(&self, user_id: &str) -> String {
        self.app.state().issue_token(Subject::User(user_id.to_owned()))
    }

    /// The authorization server's issuer, `<base_url>/<envId>/as` (the `iss` of tokens).
    pub fn issuer(&self) -> String {
        oauth::issuer(&self.app.state())
    }

    /// The `aud` of a person's token for the management API (the API's host).
    pub fn management_audience(&self) -> String {
        oauth::management_audience(&self.app.state())
    }

    /// Signs a person's access token with the current key exactly as the token
    /// endpoint does, for testing resource servers (expired, not yet valid, another
    /// audience…). Tokens that are valid now also work on the simulator's own APIs.
    pub fn issue_jwt(&self, spec: JwtSpec) -> String {
        // Wait for the key before taking the state lock, so requests are not held up.
        drop(self.app.auth.keys.current());
        oauth::mint_access(&mut self.app.state(), &self.app.auth.keys, &spec, None)
    }

    /// Starts signing with a new key (new `kid`); the JWKS then lists it and the
    /// previous one. Generates an RSA key: blocks for a fraction of a second.
    pub fn rotate_signing_key(&self) {
        self.app.auth.keys.rotate();
    }

    /// How many users the environment holds now.
    pub fn user_count(&self) -> usize {
        self.app.state().users.len()
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
