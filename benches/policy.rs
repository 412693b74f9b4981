//! The gate's own cost per action call (policy check, masking, one audit line),
//! trimming a 5 MB result to the reply budget and counting one that fits.
//!
//!   cargo bench --profile dev --bench policy

// A benchmark reports its figures on stdout.
#![allow(clippy::print_stdout)]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use pingone_mcp::catalog::load_builtin;
use pingone_mcp::policy::{AuditEntry, AuditLog, Policy, PolicyConfig};
use pingone_mcp::secret::{hide_fields, mask_in_place, Hide, Masked};
use pingone_mcp::trim::{trim, DEFAULT_BUDGET};
use serde_json::{json, Value};

fn user(i: usize) -> Value {
    json!({
        "id": format!("5f0c6a1e-0000-4000-8000-{i:012}"), "username": format!("person.{i}"), "email": format!("person.{i}@example.com"),
        "name": { "given": "Alex", "family": "Doe", "formatted": "Alex Doe" }, "enabled": i % 7 != 0, "mfaEnabled": i % 3 == 0,
        "population": { "id": "7ea30f07-dd8d-4867-8c8a-b5fc687751ea" }, "account": { "canAuthenticate": true, "status": "OK" },
        "title": "Senior Engineer", "createdAt": "2024-02-04T12:32:59.000Z", "updatedAt": "2024-02-04T12:32:59.000Z",
        "address": { "locality": "Berlin", "countryCode": "DE" }, "externalId": format!("EMP{i:06}"),
    })
}

fn benches(c: &mut Criterion) {
    let catalog = load_builtin().unwrap();
    let action = catalog.get("update_user_enabled_status").unwrap();
    let policy = Policy::new(PolicyConfig { allow_writes: true, deny: vec!["*_secret*".into(), "delete_*".into()], allow: vec!["*_user*".into()], ..Default::default() });
    let audit = AuditLog::new(Box::new(std::io::sink()));
    let args = json!({ "userId": "5f0c6a1e-0000-4000-8000-000000000001", "enabled": false });
    let reply = user(1);
    // As the dispatcher does per call: check the policy, mask the reply it owns in
    // place, write one audit line with the arguments masked as they are written. The
    // reply's copy is set-up, not measured: the dispatcher owns the reply it parsed.
    c.bench_function("policy check + mask + audit line, per call", |b| {
        b.iter_batched(
            || reply.clone(),
            |mut reply| {
                policy.check(action).unwrap();
                mask_in_place(&mut reply);
                audit.write(&AuditEntry {
                    time: "2026-11-29T03:00:00Z".into(),
                    session: "s",
                    environment: Some("11111111-2222-3333-4444-555555555555"),
                    api_host: Some("api.pingone.com"),
                    subject: None,
                    token_id: None,
                    action: &action.id,
                    args: Masked(&hide_fields(&args, action.secret_params(), Hide::Mask)),
                    outcome: "ok",
                    status: None,
                    code: None,
                    ms: 3,
                    transaction_id: Some("5f0c6a1e-0000-4000-8000-000000000009"),
                    created_id: None,
                    confirmed: None,
                    confirmed_by: None,
                    retries: 0,
                    waited_ms: 0,
                });
                reply
            },
            BatchSize::SmallInput,
        )
    });

    let users: Vec<Value> = (0..12_000).map(user).collect();
    let big = json!({ "result": users });
    println!("large result: {:.1} MB of JSON", big.to_string().len() as f64 / 1e6);
    let mut group = c.benchmark_group("trim");
    group.sample_size(20);
    group.bench_function("trim a ~5 MB result to 6,000 tokens", |b| b.iter_batched(|| big.clone(), |big| trim(big, DEFAULT_BUDGET), BatchSize::LargeInput));
    // A result that fits is counted, not cut; `execute` counts it twice (the result
    // before the defender scans it, then the whole reply), so this is that second
    // count's cost.
    let fits = json!({ "result": (0..30).map(user).collect::<Vec<_>>() });
    println!("fitting result: {} tokens", pingone_mcp::trim::count_json_tokens(&fits));
    group.bench_function("trim a 30-user result that fits the budget", |b| b.iter_batched(|| fits.clone(), |fits| trim(fits, DEFAULT_BUDGET), BatchSize::SmallInput));
    group.finish();
}

criterion_group!(policy_benches, benches);
criterion_main!(policy_benches);
