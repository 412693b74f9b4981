//! Simulator start-up with 10,000 users and a filtered list page over loopback HTTP.
//!
//! Run with `cargo bench --bench simulator`. Targets (issue 3): start < 1 s,
//! filtered list page < 5 ms.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use pingone_mcp::simulator::{Simulator, SimulatorConfig};
use serde_json::Value;

fn config() -> SimulatorConfig {
    SimulatorConfig { users: 10_000, ..SimulatorConfig::default() }
}

fn start(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let mut group = c.benchmark_group("simulator");
    group.sample_size(10).measurement_time(Duration::from_secs(8));
    group.bench_function("start_10k_users", |b| {
        b.iter(|| {
            rt.block_on(async {
                let sim = Simulator::start(config(), 0).await.expect("start");
                sim.shutdown().await;
            })
        })
    });
    group.finish();
}

fn filtered_page(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let sim = rt.block_on(Simulator::start(config(), 0)).expect("start");
    let http = reqwest::Client::new();
    let token: Value = rt
        .block_on(async {
            http.post(format!("{}/{}/as/token", sim.auth_base(), sim.environment_id))
                .basic_auth(&sim.client_id, Some(&sim.client_secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await?
                .json()
                .await
        })
        .expect("a token");
    let token = token["access_token"].as_str().expect("access_token").to_owned();
    let users = format!("{}/environments/{}/users", sim.api_base(), sim.environment_id);
    let mut group = c.benchmark_group("simulator");
    for (name, filter) in [
        ("filtered_page_sw", r#"email sw "mary""#),
        ("filtered_page_and_or", r#"(name.given eq "Mary" or name.family eq "Smith") and enabled eq true"#),
        ("unfiltered_page", ""),
    ] {
        let url = if filter.is_empty() { format!("{users}?limit=100") } else { format!("{users}?limit=100&filter={}", urlencode(filter)) };
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let r = http.get(&url).bearer_auth(&token).send().await.expect("send");
                    assert!(r.status().is_success());
                    r.bytes().await.expect("body")
                })
            })
        });
    }
    group.finish();
    rt.block_on(sim.shutdown());
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

criterion_group!(benches, start, filtered_page);
criterion_main!(benches);
