//! The sandbox's own costs, measured with criterion:
//!   cargo bench --bench sandbox            (release profile)
//!   cargo bench --profile dev --bench sandbox
//! - a trivial script end to end, warm (fresh instance from the snapshot, run, result);
//! - one host call (guest -> host -> guest) with a host that answers at once, so no HTTP;
//! - loading the sandbox with the compiled module already cached;
//! - 100 calls under Promise.all against a host with 50 ms latency;
//!
//! It also prints the peak guest memory of an execution.

// A benchmark reports its figures on stdout.
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use futures::future::BoxFuture;
use guest_sdk::abi::{HostCall, HostReply};
use pingone_mcp::sandbox::{ActionHost, Limits, Sandbox};
use serde_json::json;

/// Answers every call with `{ok: true}`, after `latency`.
struct InstantHost {
    latency: Duration,
}

impl ActionHost for InstantHost {
    fn call(self: Arc<Self>, _call: HostCall) -> BoxFuture<'static, HostReply> {
        Box::pin(async move {
            if !self.latency.is_zero() {
                tokio::time::sleep(self.latency).await;
            }
            HostReply::Value(json!({ "ok": true }))
        })
    }
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sandbox = runtime.block_on(Sandbox::new()).unwrap();
    let instant: Arc<dyn ActionHost> = Arc::new(InstantHost { latency: Duration::ZERO });
    let slow: Arc<dyn ActionHost> = Arc::new(InstantHost { latency: Duration::from_millis(50) });
    let limits = Limits::default();

    c.bench_function("trivial script end to end (return 1 + 1)", |b| {
        b.to_async(&runtime).iter(|| async { sandbox.execute("return 1 + 1", json!({}), instant.clone(), &limits).await.outcome.unwrap() })
    });

    // 100 sequential calls, minus the trivial script, over 100 = one round trip.
    c.bench_function("100 sequential host calls", |b| {
        b.to_async(&runtime).iter(|| async {
            let script = "for (let i = 0; i < 100; i++) await pingone.noop({ i }); return 1";
            sandbox.execute(script, json!({}), instant.clone(), &limits).await.outcome.unwrap()
        })
    });

    c.bench_function("load the sandbox (module cached)", |b| b.to_async(&runtime).iter(|| async { Sandbox::new().await.unwrap() }));

    let mut group = c.benchmark_group("latency");
    group.sample_size(10);
    group.bench_function("100 calls, 50 ms each, Promise.all (concurrency 8)", |b| {
        b.to_async(&runtime).iter(|| async {
            let script = "await Promise.all(Array.from({ length: 100 }, (_, i) => pingone.noop({ i }))); return 1";
            sandbox.execute(script, json!({}), slow.clone(), &limits).await.outcome.unwrap()
        })
    });
    group.finish();

    let execution = runtime.block_on(sandbox.execute("const a = []; for (let i = 0; i < 1000; i++) a.push({ id: 'u' + i }); return a.length", json!({}), instant.clone(), &limits));
    println!("peak guest memory of an execution building 1,000 objects: {:.1} MiB", execution.peak_memory as f64 / (1 << 20) as f64);
    let execution = runtime.block_on(sandbox.execute("return 1", json!({}), instant, &limits));
    println!("peak guest memory of a trivial execution: {:.1} MiB", execution.peak_memory as f64 / (1 << 20) as f64);
}

criterion_group!(sandbox_benches, benches);
criterion_main!(sandbox_benches);
