//! Query latency of action search over the built-in catalog: with the search encoder
//! (one model inference per query, when libonnxruntime and the model are found) and by
//! words only.
//!
//! `cargo bench --profile dev --bench search` (the dev profile avoids rebuilding every
//! dependency for release; `cargo bench --bench search` measures the release build).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use pingone_mcp::catalog::load_builtin;
use pingone_mcp::mcp::SEARCH_LIMIT;
use pingone_mcp::onnx::ModelError;
use pingone_mcp::search::{SearchIndex, Weights};

const QUERIES: [&str; 6] = [
    "turn off sign-in for john's account",
    "which second factors has Maria registered",
    "kick bob out of the contractors team",
    "give the ops bot admin rights",
    "is 2FA on for this person",
    "retire the old client secret now that everyone migrated",
];

fn search(c: &mut Criterion) {
    let catalog = load_builtin().expect("the built-in catalog loads");
    let index = SearchIndex::new(&catalog);
    if let Some(warning) = index.similarities("warm up").map_or_else(|| index.warning(), |_| None) {
        eprintln!("{warning}");
    }
    let lexical = SearchIndex::with_encoder(&catalog, Weights::default(), Err(ModelError::NoLibrary));
    for (name, index) in [("search one query (top 5, as search_tools)", &index), ("search one query, words only", &lexical)] {
        let mut i = 0;
        c.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) % QUERIES.len();
                black_box(index.search(black_box(QUERIES[i]), SEARCH_LIMIT))
            })
        });
    }
    c.bench_function("build the index", |b| b.iter(|| black_box(SearchIndex::new(&catalog))));
}

criterion_group!(benches, search);
criterion_main!(benches);
