//! Ranking quality of action search on the labelled queries in
//! `tests/data/search_queries.tsv`: Hit@1 and Hit@5 on the tuning split and on the
//! held-out test split (every third query), each asserted against a floor so that a
//! regression fails.
//!
//! `SEARCH_QUALITY_VERBOSE=1 cargo test --test search_quality -- --nocapture` also
//! prints every query whose expected action is not first.

use std::io::Write;

use pingone_mcp::catalog::{load_builtin, Catalog};
use pingone_mcp::onnx::ModelError;
use pingone_mcp::search::{SearchIndex, Weights};

/// Floors: the measured values minus a small margin (about two queries), as tune
/// Hit@1, Hit@5, test Hit@1, Hit@5. Words only (no encoder), measured
/// with the default weights on 385 queries (the last 117 written after tuning
/// began): tune 257 queries Hit@1 0.930, Hit@5 0.992; test 128 queries Hit@1 0.773,
/// Hit@5 0.969. Plain BM25 (the starting point) measured tune 0.274 / 0.654 and test
/// 0.213 / 0.562 on the first 268.
/// Then (2026-12-04) the six actions beyond ACTIONS.md and 12 queries for them, on 397
/// queries: tune Hit@1 0.909, Hit@5 0.985; test Hit@1 0.750, Hit@5 0.970. Locking and
/// forcing a password change sit beside disabling and setting a password, and some
/// queries of either kind now rank the neighbour first; the floors moved with them.
/// Descriptions that say which calls are confirmed (re-enabling, population moves,
/// sign-on policies, MFA off) moved one tuning query each way: tune Hit@1 0.913,
/// Hit@5 0.981, MRR 0.946; test unchanged but MRR 0.845.
/// Then (2026-12-05) a sign-on policy's steps (list and get) with 6 new queries, and one
/// relabelled ("show the steps of ..."), on 403 queries: tune Hit@1 0.907, Hit@5 0.981,
/// MRR 0.942; test Hit@1 0.746, Hit@5 0.963, MRR 0.840. (The vocabulary entry for
/// "step", and "steps" as a plural that asks for a list, were added after seeing these
/// queries rank.)
/// Then (2026-12-05, later) the API resources and their scopes (list_resources,
/// list_resource_scopes) with 6 new queries written before they were run, on 409
/// queries: tune Hit@1 0.908, Hit@5 0.978, MRR 0.943; test Hit@1 0.750, Hit@5 0.963,
/// MRR 0.842. Two of the new queries name a grant and rank the grant actions first.
/// Then (2026-12-05, evening) offboarding: 6 new queries (three tried before they were
/// written down; all six run once before the vocabulary entries for "offboard", "left
/// the company", "cut off" and "stop * signing in" were added), on 415 queries: tune Hit@1
/// 0.906, Hit@5 0.975, MRR 0.940; test Hit@1 0.754, Hit@5 0.964, MRR 0.844. Then a
/// sign-on policy's steps added, changed and removed, with 6 queries written before the
/// actions existed, on 421 queries: "step-up" and a numbered step ("step one") then read
/// as a step of a policy (three held-out queries fell to second), so they got their own
/// entries, and "offboard" lost its operation signal ("offboard ... and delete the
/// account" wants delete_user): tune Hit@1 0.900, Hit@5 0.982, MRR 0.938; test Hit@1
/// 0.743, Hit@5 0.971, MRR 0.840.
/// Then (2026-12-06) "character" read as a policy's length rule ("passwords should be at
/// least 14 characters" ranked the destructive set_user_password first): tune Hit@1
/// 0.897 (one query now ranks create_password_policy over update_password_policy),
/// Hit@5 0.986, MRR 0.938; test unchanged.
/// Then (2026-12-06, later) review 38's seven misses added with the vocabulary written
/// for them (a redirect, logout or ACS URL added is an application's update, a reset of
/// MFA deletes devices, an expired password is a forced change, people registering
/// themselves is a sign-on step's): no earlier query moved; tune Hit@1 0.902, Hit@5
/// 0.990, test Hit@1 0.741, Hit@5 0.972 on 429.
const LEXICAL_FLOORS: [f64; 4] = [0.89, 0.97, 0.73, 0.95];
/// Floors with the search encoder (models/search.int8.onnx) blended in at the default
/// weights, in the same order (tune Hit@1, Hit@5, test Hit@1, Hit@5). Measured: tune
/// Hit@1 0.961, Hit@5 1.000, MRR 0.977; test Hit@1 0.930, Hit@5 1.000, MRR 0.963.
/// With the six new actions (above): tune Hit@1 0.955, Hit@5 1.000, MRR 0.976; test
/// Hit@1 0.909, Hit@5 1.000, MRR 0.953. With a sign-on policy's steps (above): tune
/// Hit@1 0.955, Hit@5 0.996, MRR 0.976; test Hit@1 0.903, Hit@5 0.993, MRR 0.946. With
/// the resources and scopes (above): tune Hit@1 0.956, Hit@5 1.000, MRR 0.976; test
/// Hit@1 0.882, Hit@5 0.993, MRR 0.934: two new held-out queries rank their action
/// second and third (after the grant actions), and "what permissions does the Identity
/// Data Admin role include" now ranks get_system_role second. With offboarding (above):
/// tune Hit@1 0.953, Hit@5 1.000, MRR 0.975; test Hit@1 0.884, Hit@5 0.993, MRR 0.935;
/// "offboard an employee" ranked create_user first before ("onboard" is its neighbour).
/// With the step writes (above): tune Hit@1 0.957, Hit@5 0.996, MRR 0.977; test Hit@1
/// 0.886, Hit@5 0.993, MRR 0.936. The encoder retrained with queries for the 13 actions
/// beyond the specification (models/search/MODEL_CARD.md): tune Hit@1 0.965, Hit@5
/// 1.000, MRR 0.982; test Hit@1 0.914, Hit@5 0.993, MRR 0.955. Retrained with queries
/// for a group's members and a population's or identity provider's users: tune 0.965,
/// 1.000, 0.982; test Hit@1 0.921, Hit@5 0.993, MRR 0.957 (on another machine's CPU: tune
/// 0.961, test 0.936). Retrained to tell needs no action meets (`--unmatched`), measured
/// on that machine: tune Hit@1 0.968, Hit@5 1.000, MRR 0.983; test Hit@1 0.914, Hit@5
/// 0.993, MRR 0.954. With review 38's seven queries (above; five rank first, the
/// expired password second, registration third): no earlier query moved; tune Hit@1
/// 0.969, Hit@5 1.000, MRR 0.983; test Hit@1 0.909, Hit@5 0.993, MRR 0.951.
const FLOORS: [f64; 4] = [0.95, 0.99, 0.90, 0.98];

struct Query {
    text: String,
    accepted: Vec<String>,
}

/// The query lines in file order; blank lines and `#` comments are skipped.
fn queries() -> Vec<Query> {
    let text = include_str!("data/search_queries.tsv");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let mut columns = line.split('\t');
            let text = columns.next().unwrap_or_default().to_owned();
            let expected = columns.next().unwrap_or_else(|| panic!("no expected id: {line}"));
            let mut accepted = vec![expected.to_owned()];
            if let Some(more) = columns.next() {
                accepted.extend(more.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()));
            }
            Query { text, accepted }
        })
        .collect()
}

/// Whether the `i`-th query line (from 0) is in the held-out test split: every third.
fn is_held_out(i: usize) -> bool {
    i % 3 == 2
}

/// The lines of one split: the held-out one, or the tuning one.
fn lines_of_split<T>(lines: Vec<T>, held_out: bool) -> Vec<T> {
    lines.into_iter().enumerate().filter(|(i, _)| is_held_out(*i) == held_out).map(|(_, line)| line).collect()
}

#[derive(Debug, Default)]
struct Score {
    queries: usize,
    hit1: usize,
    hit5: usize,
    reciprocal_rank: f64,
}

impl Score {
    fn hit1(&self) -> f64 {
        self.hit1 as f64 / self.queries as f64
    }
    fn hit5(&self) -> f64 {
        self.hit5 as f64 / self.queries as f64
    }
    fn mrr(&self) -> f64 {
        self.reciprocal_rank / self.queries as f64
    }
}

#[test]
fn every_labelled_id_is_in_the_catalog_and_every_action_is_covered() {
    let catalog = load_builtin().unwrap();
    let queries = queries();
    assert!(queries.len() >= 220, "only {} queries", queries.len());
    for q in &queries {
        for id in &q.accepted {
            assert!(catalog.get(id).is_some(), "unknown id `{id}` for query `{}`", q.text);
        }
    }
    for action in catalog.actions() {
        assert!(queries.iter().any(|q| q.accepted[0] == action.id), "no query expects `{}`", action.id);
    }
}

/// An index that ranks by words only (the fallback when the encoder is missing).
fn lexical(catalog: &Catalog, weights: Weights) -> SearchIndex {
    SearchIndex::with_encoder(catalog, weights, Err(ModelError::NoLibrary))
}

/// Scores of the tuning split and of the held-out test split (every third query).
/// `similarities` (one row per query, from [`SearchIndex::similarities`]) lets many
/// weightings share one run of the encoder; without them the index ranks as it would.
fn evaluate(index: &SearchIndex, queries: &[Query], similarities: Option<&[Vec<f32>]>, verbose: bool) -> (Score, Score) {
    let (mut tune, mut test) = (Score::default(), Score::default());
    for (i, q) in queries.iter().enumerate() {
        let held_out = is_held_out(i);
        let hits = match similarities {
            Some(rows) => index.rank(&q.text, Some(&rows[i]), 10),
            None => index.search(&q.text, 10),
        };
        let rank = hits.iter().position(|h| q.accepted.contains(&h.id));
        let score = if held_out { &mut test } else { &mut tune };
        score.queries += 1;
        score.hit1 += usize::from(rank == Some(0));
        score.hit5 += usize::from(rank.is_some_and(|r| r < 5));
        score.reciprocal_rank += rank.map_or(0.0, |r| 1.0 / (r as f64 + 1.0));
        if verbose && rank != Some(0) {
            let top: Vec<&str> = hits.iter().take(3).map(|h| h.id.as_str()).collect();
            let split = if held_out { "test" } else { "tune" };
            eprintln!("{split} rank {rank:?} `{}` want {} got {top:?}", q.text, q.accepted[0]);
        }
    }
    (tune, test)
}

fn report(name: &str, score: &Score) {
    eprintln!("{name}: {} queries  Hit@1 {:.3}  Hit@5 {:.3}  MRR {:.3}", score.queries, score.hit1(), score.hit5(), score.mrr());
}

fn assert_floors(label: &str, (tune, test): (&Score, &Score), [tune1, tune5, test1, test5]: [f64; 4]) {
    assert!(tune.hit1() >= tune1, "{label} tune Hit@1 {:.3} < {tune1}", tune.hit1());
    assert!(tune.hit5() >= tune5, "{label} tune Hit@5 {:.3} < {tune5}", tune.hit5());
    assert!(test.hit1() >= test1, "{label} test Hit@1 {:.3} < {test1}", test.hit1());
    assert!(test.hit5() >= test5, "{label} test Hit@5 {:.3} < {test5}", test.hit5());
}

/// Ranking by words only, as on a machine without the encoder: still guarded.
#[test]
fn lexical_hit_at_1_and_5_stay_above_their_floors() {
    let catalog = load_builtin().unwrap();
    let index = lexical(&catalog, Weights::default());
    let (tune, test) = evaluate(&index, &queries(), None, std::env::var_os("SEARCH_QUALITY_VERBOSE").is_some());
    report("lexical tune", &tune);
    report("lexical test", &test);
    assert_floors("lexical", (&tune, &test), LEXICAL_FLOORS);
}

#[test]
fn hit_at_1_and_5_stay_above_their_floors() {
    let catalog = load_builtin().unwrap();
    let index = SearchIndex::new(&catalog);
    let queries = queries();
    // Waits for the encoder to load; then says whether it did.
    let available = index.similarities("warm up").is_some();
    if let Some(warning) = index.warning() {
        // Straight to stderr, past the test harness's capture, so the skip is seen.
        let _ = writeln!(std::io::stderr(), "SKIP (semantic search floors): {warning}");
        assert!(!available);
        return;
    }
    let verbose = std::env::var_os("SEARCH_QUALITY_VERBOSE").is_some();
    let (tune, test) = evaluate(&index, &queries, None, verbose);
    let mut micros: Vec<u128> = queries
        .iter()
        .map(|q| {
            let start = std::time::Instant::now();
            std::hint::black_box(index.search(&q.text, 8));
            start.elapsed().as_micros()
        })
        .collect();
    micros.sort_unstable();
    eprintln!(
        "latency over {} queries, encoder included (this test's profile): p50 {} µs, p95 {} µs",
        micros.len(),
        micros[micros.len() / 2],
        micros[micros.len() * 95 / 100]
    );
    report("tune", &tune);
    report("test", &test);
    assert_floors("blended", (&tune, &test), FLOORS);
}

/// Each query's cosines with every action, from the encoder (which must load).
fn all_similarities(index: &SearchIndex, queries: &[Query]) -> Vec<Vec<f32>> {
    queries
        .iter()
        .map(|q| index.similarities(&q.text).unwrap_or_else(|| panic!("the search encoder is needed: {:?}", index.warning())))
        .collect()
}

/// A grid search of the score weights on the tuning split only (the test split is
/// never looked at): `cargo test --test search_quality -- --ignored --nocapture`.
#[test]
#[ignore = "a tuning aid, not a check"]
fn grid_search_weights_on_the_tuning_split() {
    let catalog = load_builtin().unwrap();
    let queries = queries();
    let similarities = all_similarities(&SearchIndex::new(&catalog), &queries);
    let mut best: Vec<(f64, Weights)> = Vec::new();
    let mut try_weights = |weights: Weights| {
        let index = lexical(&catalog, weights);
        let (tune, _) = evaluate(&index, &queries, Some(&similarities), false);
        best.push((tune.hit1() + 0.5 * tune.mrr() + 0.25 * tune.hit5(), weights));
    };
    let base = Weights::default();
    if std::env::var_os("GRID_SEMANTIC").is_some() {
        for semantic in [0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 70.0] {
            for min_similarity in [0.3, 0.4, 0.5, 0.6, 0.7] {
                for op in [6.0, 12.0] {
                    try_weights(Weights { semantic, min_similarity, op, ..base });
                }
            }
        }
    } else if std::env::var_os("GRID_BM25").is_some() {
        for k1 in [0.5, 0.8, 1.2, 1.6, 2.0] {
            for b in [0.0, 0.3, 0.5, 0.75, 1.0] {
                try_weights(Weights { k1, b, ..base });
            }
        }
    } else if std::env::var_os("GRID_FIELDS").is_some() {
        for id in [2.0, 3.0, 4.0] {
            for title in [1.0, 2.0, 3.0] {
                for description in [0.5, 1.0, 1.5] {
                    for params in [0.25, 0.5, 1.0] {
                        try_weights(Weights { fields: [id, title, base.fields[2], description, params], ..base });
                    }
                }
            }
        }
    } else {
        for expansion in [0.6, 0.8, 1.0] {
            for id_match in [1.0, 2.0, 3.0] {
                for id_miss in [1.0, 2.0, 3.0, 4.0] {
                    for op in [3.0, 5.0, 8.0, 12.0] {
                        for unknown_user in [0.0, 0.5, 1.0] {
                            for listed in [0.0, 2.0, 4.0, 6.0] {
                                try_weights(Weights { expansion, id_match, id_miss, op, unknown_user, listed, ..base });
                            }
                        }
                    }
                }
            }
        }
    }
    best.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (objective, weights) in best.iter().take(10) {
        eprintln!("{objective:.3} {weights:?}");
    }
}

/// What each part of the score is worth, on both splits:
/// `cargo test --test search_quality ablation -- --ignored --nocapture`.
#[test]
#[ignore = "a report, not a check"]
fn ablation() {
    let catalog = load_builtin().unwrap();
    let queries = queries();
    let similarities = all_similarities(&SearchIndex::new(&catalog), &queries);
    let full = Weights::default();
    let variants = [
        ("full", full),
        ("words only (no encoder)", Weights { semantic: 0.0, ..full }),
        ("encoder only", Weights { semantic: 1.0, expansion: 0.0, id_match: 0.0, id_miss: 0.0, op: 0.0, unknown_user: 0.0, listed: 0.0, fields: [1e-6; 5], ..full }),
        ("no vocabulary terms", Weights { expansion: 0.0, ..full }),
        ("no operation intent", Weights { op: 0.0, ..full }),
        ("no id coverage", Weights { id_match: 0.0, id_miss: 0.0, ..full }),
        ("no unknown-name hint", Weights { unknown_user: 0.0, ..full }),
        ("BM25 + vocabulary only", Weights { op: 0.0, id_match: 0.0, id_miss: 0.0, unknown_user: 0.0, ..full }),
    ];
    for (name, weights) in variants {
        let (tune, test) = evaluate(&lexical(&catalog, weights), &queries, Some(&similarities), false);
        eprintln!(
            "{name:<24} tune Hit@1 {:.3} Hit@5 {:.3} | test Hit@1 {:.3} Hit@5 {:.3}",
            tune.hit1(),
            tune.hit5(),
            test.hit1(),
            test.hit5()
        );
    }
}

/// The lines of `tests/data/search_unmatched.tsv`: needs no action meets.
fn unmatched() -> Vec<String> {
    include_str!("data/search_unmatched.tsv").lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).map(str::to_owned).collect()
}

/// Search says when no action fits (`Ranked::nothing_fits`): for most needs the catalog
/// does not meet, and for few it does. Measured with the encoder trained with
/// `--unmatched` at the cut 0.475 chosen on the tuning splits: tuning, 30 of 36 unmatched
/// needs told and 4 of 282 matched queries; held out, 14 of 18 and 1 of 140. With the
/// lines added since (2026-12-07, the event rule of `asked_before_event`): tuning 33 of
/// 39 and 4 of 289, held out 16 of 19 and 2 of 144.
#[test]
fn search_says_when_nothing_fits() {
    let catalog = load_builtin().unwrap();
    let index = SearchIndex::new(&catalog);
    if index.similarities("warm up").is_none() {
        let _ = writeln!(std::io::stderr(), "SKIP (nothing fits): {:?}", index.warning());
        return;
    }
    let told = |text: &str| index.find(text, 5).nothing_fits.is_some();
    let verbose = std::env::var_os("SEARCH_QUALITY_VERBOSE").is_some();
    for (split, held_out, (min_unmatched, max_matched)) in [("tune", false, (28, 6)), ("test", true, (12, 3))] {
        let unmatched = lines_of_split(unmatched(), held_out);
        let matched = lines_of_split(queries(), held_out);
        let missed: Vec<&String> = unmatched.iter().filter(|q| !told(q)).collect();
        let wrongly: Vec<&str> = matched.iter().map(|q| q.text.as_str()).filter(|q| told(q)).collect();
        eprintln!("{split}: {} of {} unmatched needs told, {} of {} matched queries", unmatched.len() - missed.len(), unmatched.len(), wrongly.len(), matched.len());
        if verbose {
            eprintln!("{split} not told: {missed:?}\n{split} told wrongly: {wrongly:?}");
        }
        assert!(unmatched.len() - missed.len() >= min_unmatched, "{split}: only {} told; not told: {missed:?}", unmatched.len() - missed.len());
        assert!(wrongly.len() <= max_matched, "{split}: told of needs the catalog meets: {wrongly:?}");
    }
}

/// The best cosine of `text` with any action (0 when the encoder is missing).
fn best_cosine(index: &SearchIndex, text: &str) -> f32 {
    index.similarities(text).unwrap_or_default().into_iter().fold(0.0, f32::max)
}

/// How many needs the catalog meets and how many it does not have a best cosine under
/// each cut, on the tuning split of each file (`HELD_OUT=1`: the held-out split):
/// `cargo test --test search_quality closeness -- --ignored --nocapture`.
#[test]
#[ignore = "a tuning aid, not a check"]
fn closeness_of_the_best_action() {
    let catalog = load_builtin().unwrap();
    let index = SearchIndex::new(&catalog);
    let held_out = std::env::var_os("HELD_OUT").is_some();
    let matched: Vec<f32> = lines_of_split(queries(), held_out).iter().map(|q| best_cosine(&index, &q.text)).collect();
    let unmatched: Vec<(String, f32)> = lines_of_split(unmatched(), held_out).into_iter().map(|q| { let c = best_cosine(&index, &q); (q, c) }).collect();
    for (q, cosine) in &unmatched {
        eprintln!("unmatched, best cosine {cosine:.3}: {q}");
    }
    for cut in (0..=12).map(|k| 0.30 + 0.025 * f32::from(k as u8)) {
        let told = |cosines: &mut dyn Iterator<Item = f32>| cosines.filter(|c| *c < cut).count();
        eprintln!(
            "best cosine < {cut:.3}: {}/{} unmatched told, {}/{} matched told",
            told(&mut unmatched.iter().map(|u| u.1)),
            unmatched.len(),
            told(&mut matched.iter().copied()),
            matched.len()
        );
    }
}

/// The figures above rank each query as written; search mends mistyped words first
/// (`Ranked::read_as`), and must leave every labelled query as it is, or they would not
/// describe what search does.
#[test]
fn no_labelled_query_is_taken_for_a_typo() {
    let catalog = load_builtin().unwrap();
    let index = SearchIndex::new(&catalog);
    let mended: Vec<String> = queries().into_iter().map(|q| q.text).chain(unmatched()).filter_map(|q| index.find(&q, 1).read_as.map(|r| format!("{q} => {r}"))).collect();
    assert!(mended.is_empty(), "{mended:#?}");
    assert_eq!(index.find("pasword reset", 1).read_as.as_deref(), Some("password reset"), "the word list was found");
}
