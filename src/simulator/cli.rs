//! `pingone-mcp simulator`: flags, and the standalone run that prints how to
//! connect and serves until Ctrl-C.

use std::io::Write;

use clap::Args;

use super::{EnvironmentType, FaultKind, FaultRule, Faults, Simulator, SimulatorConfig, Trigger};
use crate::config::{ENV_API_URL, ENV_AUTH_URL, ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_ENVIRONMENT_ID};

#[derive(Debug, Clone, Args)]
pub struct SimulatorArgs {
    /// Port to listen on (127.0.0.1); 0 picks a free one.
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
    /// Number of seeded users.
    #[arg(long, default_value_t = 200)]
    pub users: usize,
    /// Seed for ids, names and secrets: the same seed gives the same environment.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The type the environment reports.
    #[arg(long, value_enum, default_value_t = EnvironmentType::Sandbox)]
    pub environment_type: EnvironmentType,

    /// Answer every Nth management call with 429 and Retry-After.
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub rate_limit_every: Option<u64>,
    /// Answer management calls with 429 at this rate (0.0 to 1.0).
    #[arg(long, value_name = "P", help_heading = "Faults")]
    pub rate_limit_rate: Option<f64>,
    /// The Retry-After of simulated 429s, in seconds (fractions allowed).
    #[arg(long, value_name = "SECS", default_value_t = 1.0, help_heading = "Faults")]
    pub retry_after: f64,
    /// Answer every Nth management call with a server error.
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub error_every: Option<u64>,
    /// Answer management calls with a server error at this rate (0.0 to 1.0).
    #[arg(long, value_name = "P", help_heading = "Faults")]
    pub error_rate: Option<f64>,
    /// The status of simulated server errors.
    #[arg(long, value_name = "STATUS", default_value_t = 503, help_heading = "Faults")]
    pub error_status: u16,
    /// Simulated server errors come after the call was carried out (a gateway timing
    /// out on a create that landed), so a retried write meets the record it made.
    #[arg(long, help_heading = "Faults")]
    pub error_applied: bool,
    /// Delay every management call by this many milliseconds.
    #[arg(long, value_name = "MS", help_heading = "Faults")]
    pub latency_ms: Option<u64>,
    /// Drop the connection of every Nth management call mid-response (the call was carried out).
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub drop_every: Option<u64>,
    /// Drop connections at this rate (0.0 to 1.0).
    #[arg(long, value_name = "P", help_heading = "Faults")]
    pub drop_rate: Option<f64>,
    /// Answer every Nth management call with a body that is not JSON.
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub malformed_every: Option<u64>,
    /// Limit the faults above to paths starting with this prefix: /users, or the whole
    /// path (/environments/{id}/users, with or without /v1).
    #[arg(long, value_name = "PREFIX", help_heading = "Faults")]
    pub fault_path: Option<String>,
}

impl SimulatorArgs {
    /// The fault rules the flags describe.
    pub fn faults(&self) -> Faults {
        let mut faults = Faults::none();
        let retry_after_ms = (self.retry_after.max(0.0) * 1000.0).round() as u64;
        let specs: [(Option<Trigger>, FaultKind); 7] = [
            (self.rate_limit_every.map(Trigger::Every), FaultKind::RateLimit { retry_after_ms }),
            (self.rate_limit_rate.map(Trigger::Rate), FaultKind::RateLimit { retry_after_ms }),
            (self.error_every.map(Trigger::Every), FaultKind::ServerError { status: self.error_status, applied: self.error_applied }),
            (self.error_rate.map(Trigger::Rate), FaultKind::ServerError { status: self.error_status, applied: self.error_applied }),
            (self.latency_ms.map(|_| Trigger::Always), FaultKind::Latency { ms: self.latency_ms.unwrap_or(0) }),
            (self.drop_every.map(Trigger::Every).or(self.drop_rate.map(Trigger::Rate)), FaultKind::Drop),
            (self.malformed_every.map(Trigger::Every), FaultKind::Malformed),
        ];
        for (trigger, kind) in specs {
            if let Some(trigger) = trigger {
                let mut rule = FaultRule::new(kind, trigger);
                if let Some(prefix) = &self.fault_path {
                    rule = rule.on_path(prefix.clone());
                }
                faults = faults.with(rule);
            }
        }
        faults
    }

    pub fn config(&self) -> SimulatorConfig {
        SimulatorConfig { seed: self.seed, users: self.users, environment_type: self.environment_type, faults: self.faults(), ..SimulatorConfig::default() }
    }
}

/// Starts the simulator, prints how to connect, and serves until Ctrl-C.
pub async fn run(args: SimulatorArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let sim = Simulator::start(args.config(), args.port).await?;
    let elapsed = started.elapsed();
    let mut out = std::io::stdout().lock();
    writeln!(out, "PingOne simulator listening on {} ({} users, seed {}, {} environment, started in {} ms)", sim.base_url, sim.user_count(), args.seed, args.environment_type.as_str(), elapsed.as_millis())?;
    writeln!(out, "  environment id: {}", sim.environment_id)?;
    writeln!(out, "  client id:      {}", sim.client_id)?;
    writeln!(out, "  client secret:  {}", sim.client_secret)?;
    writeln!(out, "  API base:       {}", sim.api_base())?;
    writeln!(out, "  auth base:      {}", sim.auth_base())?;
    writeln!(out, "  issuer:         {}", sim.issuer())?;
    writeln!(out, "  login client:   {} (public, PKCE; redirect http://127.0.0.1/callback on any port)", sim.login_client_id)?;
    writeln!(out, "  admin sign-on:  {} / {} (Environment Admin)", sim.admin.username, sim.admin.password)?;
    writeln!(out, "  reader sign-on: {} / {} (Identity Data Read Only)", sim.reader.username, sim.reader.password)?;
    if !args.faults().is_empty() {
        writeln!(out, "  faults:         {} rule(s) on management calls", args.faults().rules.len())?;
    }
    writeln!(out, "\nTo point pingone-mcp at it:\n")?;
    writeln!(out, "export {ENV_ENVIRONMENT_ID}={}", sim.environment_id)?;
    writeln!(out, "export {ENV_CLIENT_ID}={}", sim.client_id)?;
    writeln!(out, "export {ENV_CLIENT_SECRET}={}", sim.client_secret)?;
    writeln!(out, "export {ENV_API_URL}={}", sim.api_base())?;
    writeln!(out, "export {ENV_AUTH_URL}={}", sim.auth_base())?;
    writeln!(out, "\nPress Ctrl-C to stop.")?;
    out.flush()?;
    drop(out);
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
