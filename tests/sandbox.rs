//! Real scripts through the real sandbox (boa in wasmtime), with action calls going
//! through the dispatcher and the real client to a PingOne on loopback, or to a
//! cassette.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::fake_pingone::{FakePingOne, Reply};
use pingone_mcp::catalog::load_builtin;
use pingone_mcp::dispatch::{Backend, Cassette, Dispatcher, Recorder, Replay};
use pingone_mcp::pingone::{PingOneClient, RetryPolicy};
use pingone_mcp::policy::Policy;
use futures::future::BoxFuture;
use guest_sdk::abi::{ActionError, HostCall, HostReply};
use pingone_mcp::sandbox::{ActionHost, Execution, ExecutionError, Limit, Limits, POOL_SLOTS};
use pingone_mcp::search::SearchIndex;
use serde_json::{json, Value};

fn dispatcher(backend: Backend) -> Dispatcher {
    let catalog = Arc::new(load_builtin().unwrap());
    let search = Arc::new(SearchIndex::new(&catalog));
    // These tests are about the sandbox, not the policy (tests/policy.rs): allow all.
    Dispatcher::new(catalog, search, backend).with_policy(Policy::permissive())
}

fn offline() -> Arc<Dispatcher> {
    Arc::new(dispatcher(Backend::Replay(Arc::new(Replay::new(Cassette { format: 1, calls: vec![], ..Cassette::default() })))))
}

fn live(fake: &FakePingOne) -> Backend {
    Backend::Live(PingOneClient::new(fake.connection(), RetryPolicy::default()).unwrap())
}

async fn run_with(script: &str, args: Value, host: Arc<Dispatcher>, limits: &Limits) -> Execution {
    common::sandbox().await.execute(script, args, host, limits).await
}

async fn run_offline(script: &str) -> Execution {
    run_with(script, json!({}), offline(), &Limits::default()).await
}

fn ok(execution: &Execution) -> &Value {
    execution.outcome.as_ref().unwrap_or_else(|e| panic!("script failed: {e}"))
}

fn err(execution: &Execution) -> &ExecutionError {
    execution.outcome.as_ref().err().unwrap_or_else(|| panic!("script succeeded: {:?}", execution.outcome))
}

fn limit_of(execution: &Execution) -> Limit {
    match err(execution) {
        ExecutionError::Limit { limit, .. } => *limit,
        other => panic!("expected a limit, got {other}"),
    }
}

#[tokio::test]
async fn scripts_come_in_the_shapes_agents_write() {
    assert_eq!(ok(&run_offline("return 1 + 1").await), &json!(2));
    assert_eq!(ok(&run_offline("const a = await Promise.resolve(20); return a + 1").await), &json!(21));
    assert_eq!(ok(&run_offline("[1, 2, 3].map(x => x * 2)").await), &json!([2, 4, 6]));
    let arrow = run_with("async (args) => ({ doubled: args.n * 2 })", json!({ "n": 21 }), offline(), &Limits::default()).await;
    assert_eq!(ok(&arrow), &json!({ "doubled": 42 }));
    assert_eq!(ok(&run_offline("```javascript\nreturn 'fenced'\n```").await), &json!("fenced"));
    assert_eq!(ok(&run_offline("const x = 1;").await), &Value::Null, "no return gives null");
    assert_eq!(ok(&run_offline("const args = { n: 2 }; return args.n").await), &json!(2), "a script may name its own `args`");
}

/// The guest's own job queue keeps JavaScript's microtask order.
#[tokio::test]
async fn promise_reactions_run_in_the_order_javascript_specifies() {
    let script = "const log = [];
                  Promise.resolve().then(() => log.push(1)).then(() => log.push(3));
                  Promise.resolve().then(() => log.push(2)).then(() => log.push(4));
                  await null; log.push('after one await');
                  await null; await null;
                  const settled = await Promise.allSettled([Promise.resolve(5), Promise.reject(new Error('no'))]);
                  return { log, settled: settled.map(s => s.status) }";
    let expected = json!({ "log": [1, 2, "after one await", 3, 4], "settled": ["fulfilled", "rejected"] });
    assert_eq!(ok(&run_offline(script).await), &expected);
}

#[tokio::test]
async fn console_output_is_captured_with_levels() {
    let execution = run_offline("console.log('a', { b: 1 }); console.warn('careful'); console.error(new TypeError('bad')); return 0").await;
    let lines: Vec<(String, String)> = execution.logs.iter().map(|l| (format!("{:?}", l.level), l.message.clone())).collect();
    assert_eq!(lines, [("Log".into(), "a {\"b\":1}".into()), ("Warn".into(), "careful".into()), ("Error".into(), "TypeError: bad".into())]);
}

/// What agents return and log that JSON would turn into {} says what it holds: a Map
/// as an object, a Set as an array, an Error (a caught PingOneError too) as its name
/// and message; Node's other console methods write lines (review 25 H4, M1, M3).
#[tokio::test]
async fn maps_sets_and_errors_keep_their_data_in_results_and_lines() {
    let execution = run_offline(
        "const counts = new Map([['FR', 2], ['DE', 1]]);
         let failure;
         try { await pingone.no_such_action({}); } catch (e) { failure = e; }
         console.table([{ a: 1 }]); console.log(new Set(['x']));
         const plain = new Error('boom'); plain.status = 503;
         const byId = new Map([[1, 'num'], ['1', 'str']]);
         const itself = new Map(); itself.set('me', itself);
         let cycle; try { JSON.stringify(itself); } catch (e) { cycle = e.message; }
         const original = { when: new Date(0), tags: new Set(['a']), list: [{ n: 1 }] };
         const copied = structuredClone(original); copied.list[0].n = 2;
         return { counts, tags: new Set(['a', 'b']), plain, failure, byId, cycle, copy: [original.list[0].n, copied.when instanceof Date, copied.tags.has('a')] };",
    )
    .await;
    let result = ok(&execution);
    assert_eq!((&result["counts"], &result["tags"], &result["plain"]), (&json!({ "FR": 2, "DE": 1 }), &json!(["a", "b"]), &json!({ "name": "Error", "message": "boom", "status": 503 })));
    assert_eq!(result["byId"], json!([[1, "num"], ["1", "str"]]), "keys other than text give the entries");
    assert!(result["cycle"].as_str().is_some_and(|m| m.contains("cyclic")), "a Map holding itself is a catchable cycle: {result}");
    assert_eq!(result["copy"], json!([1, true, true]), "structuredClone copies deeply");
    assert_eq!((&result["failure"]["name"], &result["failure"]["code"]), (&json!("PingOneError"), &json!("UNKNOWN_ACTION")), "{result}");
    assert!(result["failure"]["message"].as_str().is_some_and(|m| m.contains("no_such_action")) && result["failure"].get("stack").is_none(), "{result}");
    let lines: Vec<&str> = execution.logs.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(lines, [r#"[{"a":1}]"#, r#"["x"]"#]);
}

/// Dates as CSVs and other systems write them parse as V8 parses them (the sandbox's
/// clock is UTC), not to Invalid Date (review 25 H5: a "created before" filter found 0
/// users instead of 200); the strict form and the rest of Date are unchanged.
#[tokio::test]
async fn dates_in_common_forms_parse_as_in_node() {
    let execution = run_offline(
        "const iso = (t) => new Date(t).toISOString();
         return [iso('2024-06-01 00:00:00'), iso('2024-06-01T10:20:30.123456Z'), iso('2024-06-01T10:20:30.1Z'), iso('2024-06-01T10:20:30+0200'),
                 iso('2024-06-01T10:20:30+02'), Date.parse('2024-06-01 10:20'), iso('2024-06-01T10:20:30.000Z'), iso(0), iso(Date.UTC(2020, 0, 2)),
                 new Date('2024-06-01') instanceof Date, typeof Date(), String(new Date('not a date')), new Date(2024, 0, 31).getUTCDate(), Date.now() > 0,
                 [Date.name, Date.length, new Date().constructor.name, Object.prototype.toString.call(new Date())]];",
    )
    .await;
    assert_eq!(
        ok(&execution),
        &json!([
            "2024-06-01T00:00:00.000Z", "2024-06-01T10:20:30.123Z", "2024-06-01T10:20:30.100Z", "2024-06-01T08:20:30.000Z",
            "2024-06-01T08:20:30.000Z", 1_717_237_200_000_i64, "2024-06-01T10:20:30.000Z", "1970-01-01T00:00:00.000Z", "2020-01-02T00:00:00.000Z",
            true, "string", "Invalid Date", 31, true,
            ["Date", 7, "Date", "[object Date]"]
        ])
    );
}

/// The forms people type dates in parse as Node parses them with its clock at UTC
/// (each expected value below is what Node 20 printed for the same text); text that
/// is no date stays Invalid Date, and Date.parse agrees with the constructor.
#[tokio::test]
async fn dates_as_people_type_them_parse_as_in_node() {
    let execution = run_offline(
        "const forms = ['03/10/2024', '3/10/2024 14:30', 'March 10, 2024', 'Mar 10 2024', '10 March 2024', '10 Mar 2024 14:30:05',
                        'March 10, 2024 2:30 PM', '12/1/2023 12:05 am', '2024/03/10', '10-Mar-2024', 'Sept 5, 2024',
                        'December 1 2023 08:00:00 UTC', 'Sun, 10 Mar 2024 14:30:00 +0200', 'Marchy 10, 2024', '02/30/2024'];
         const iso = (t) => { const d = new Date(t); return isNaN(d) ? 'Invalid Date' : d.toISOString(); };
         return { forms: forms.map(iso), parse: Date.parse('March 10, 2024'), not: ['13/45/2024', 'Smarch 10, 2024', 'March 5th 2024', 'the 10th of March'].map(iso) };",
    )
    .await;
    assert_eq!(
        ok(&execution),
        &json!({
            "forms": [
                "2024-03-10T00:00:00.000Z", "2024-03-10T14:30:00.000Z", "2024-03-10T00:00:00.000Z", "2024-03-10T00:00:00.000Z",
                "2024-03-10T00:00:00.000Z", "2024-03-10T14:30:05.000Z", "2024-03-10T14:30:00.000Z", "2023-12-01T00:05:00.000Z",
                "2024-03-10T00:00:00.000Z", "2024-03-10T00:00:00.000Z", "2024-09-05T00:00:00.000Z", "2023-12-01T08:00:00.000Z",
                "2024-03-10T12:30:00.000Z", "2024-03-10T00:00:00.000Z", "2024-03-01T00:00:00.000Z"
            ],
            "parse": 1_710_028_800_000_i64,
            "not": ["Invalid Date", "Invalid Date", "Invalid Date", "Invalid Date"]
        })
    );
}

/// Node's format specifiers in a console line (`console.log('%s has %d users', …)`):
/// each expected line is what Node 20 printed, but for objects, which are JSON here.
#[tokio::test]
async fn console_lines_take_nodes_format_specifiers() {
    let execution = run_offline(
        "console.log('%s has %d users', 'sales', 42); console.log('%% done %s'); console.log('100%% of %s', 'x');
         console.log('%s', { a: 1 }, 'extra', 3); console.log('%i and %f', '42.9px', '3.5e1'); console.log('%c styled', 'color: red');
         console.log('%d', '12abc'); console.log(5, '%s', 'x'); console.assert(false, 'count was %d', 3); return 0",
    )
    .await;
    let lines: Vec<&str> = execution.logs.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(
        lines,
        ["sales has 42 users", "%% done %s", "100% of x", r#"{"a":1} extra 3"#, "42 and 35", " styled", "NaN", "5 %s x", "Assertion failed: count was 3"]
    );
}

/// A script of statements gives back what `return` gives; one with no `return` that
/// gives back null is told so, not left to report null as its answer (review 25 H2).
#[tokio::test]
async fn a_script_without_return_is_told_its_last_line_is_not_its_result() {
    use pingone_mcp::sandbox::NO_RETURN;
    let told = [
        "const users = [1, 2, 3];\nusers.length",
        "function main() { return 5 }\nmain()",
        "const ids = [1].map(u => { return u; });\nids",
        // A script that is a function whose body runs off its end, and a lone call.
        "async () => { const users = [1, 2]; users.length }",
        "async function (args) { await Promise.resolve(1) }",
        "console.log('done')",
        // A `return` of what is not there is told too, and the message says so (review 57 L7).
        "const user = { email: 'a@x' };\nreturn user.emial",
    ];
    for told in told {
        let execution = run_offline(told).await;
        assert_eq!(ok(&execution), &Value::Null);
        assert!(execution.logs.iter().any(|l| l.message == NO_RETURN), "{told}: {:?}", execution.logs);
    }
    assert!(NO_RETURN.contains("what it returned was undefined"), "{NO_RETURN}");
    for fine in ["const users = [1, 2];\nreturn null", "async () => null", "null"] {
        let execution = run_offline(fine).await;
        assert!(execution.logs.iter().all(|l| l.message != NO_RETURN), "{fine}: {:?}", execution.logs);
    }
}

#[tokio::test]
async fn bad_scripts_get_errors_that_say_what_to_do() {
    let cases = [
        ("const a = [1, 2", "SyntaxError"),
        ("const name: string = 'x'; return name", "looks like TypeScript"),
        ("import fs from 'fs'", "nothing to import"),
        ("return fetch('https://example.com')", "fetch is not available in the sandbox"),
        ("return require('fs')", "require is not available"),
        ("throw new Error('boom')", "Error: boom"),
        ("return await new Promise(() => {})", "awaits a promise that is never resolved"),
        // boa loses this error; the message names it as a cause.
        ("await Promise.resolve(); function f() { return f() + 1 } return f()", "recursed too deeply"),
        ("throw { a: 1 }", r#"the script threw {"a":1}, which is not an Error"#),
        // A missing await: the call's promise is not its result.
        ("const u = pingone.search('users'); return u.length", r#""length" was read from a pending call, not its result: put `await` before"#),
        ("return () => 1", "returned a function"),
        ("return 10n", "cannot be sent back as JSON"),
    ];
    for (script, expected) in cases {
        let execution = run_offline(script).await;
        let message = err(&execution).to_string();
        assert!(message.contains(expected), "{script}: {message}");
    }
}

/// A promise left inside the result would reach JSON as `{}`: it is awaited, and the
/// console says so; one that fails fails the script as an awaited one would.
#[tokio::test]
async fn promises_left_in_the_result_are_awaited_and_named() {
    let execution = run_offline("return [pingone.describe('get_user').then(d => d.id), { nested: { n: Promise.resolve(5) }, empty: {} }]").await;
    assert_eq!(ok(&execution), &json!(["get_user", { "nested": { "n": 5 }, "empty": {} }]));
    let warning = execution.logs.iter().find(|l| format!("{:?}", l.level) == "Warn").expect("a warning line");
    assert!(warning.message.contains("held 2 promise(s), at $[0], $[1].nested.n,") && warning.message.contains("Promise.all"), "{}", warning.message);

    let plain = run_offline("return { empty: {} }").await;
    assert!(plain.logs.is_empty(), "no promise, no warning: {:?}", plain.logs);

    let message = err(&run_offline("return [Promise.reject(new TypeError('no such group'))]").await).to_string();
    assert!(message.contains("no such group"), "{message}");
}

#[tokio::test]
async fn syntax_errors_point_at_the_agents_line_and_column() {
    let message = err(&run_offline("const x = 1;\nconst y = ;").await).to_string();
    assert!(message.contains("line 2"), "{message}");
    let message = err(&run_offline("const = 1").await).to_string();
    assert!(message.contains("line 1, col 7"), "{message}");
}

/// A runtime error names where the script raised it, after an `await` too; a script
/// passed as a function keeps its own columns on the first line.
#[tokio::test]
async fn runtime_errors_point_at_the_agents_line() {
    let message = err(&run_offline("const a = 1;\nconst u = undefined;\nreturn u.name;").await).to_string();
    assert!(message.contains("TypeError") && message.contains("(at line 3, column 10 of the script)"), "{message}");
    let after_await = "const hits = await pingone.search('user');\nconst none = hits.find(h => h.id === 'nothing');\nreturn none.id;";
    let message = err(&run_offline(after_await).await).to_string();
    assert!(message.contains("at line 3,"), "{message}");
    let message = err(&run_offline("function f() { throw new Error('mine') }\nf()").await).to_string();
    assert!(message.contains("mine (at line 1, column 22 of the script)"), "{message}");
    let message = err(&run_offline("async () => null.x").await).to_string();
    assert!(message.contains("(at line 1, column 18 of the script)"), "{message}");
    // A fence or blank lines around the script do not move its lines.
    let message = err(&run_offline("```js\nconst a = {};\nreturn a.b.c;\n```").await).to_string();
    assert!(message.contains("(at line 3, column 12 of the script)"), "{message}");
    let message = err(&run_offline("\n\n\nnull.x").await).to_string();
    assert!(message.contains("(at line 4, column 6 of the script)"), "{message}");
    let message = err(&run_offline("const n = {};\nn.foo()").await).to_string();
    assert!(message.contains("TypeError") && message.contains("(at line 2, column 6 of the script)"), "{message}");
    // Where boa knows only the function an error is in, no place beats a false one.
    let message = err(&run_offline("missingName + 1").await).to_string();
    assert!(message.contains("ReferenceError") && !message.contains("at line"), "{message}");
    // A failed call left uncaught names the line that made it.
    let message = err(&run_offline("const id = 'u1';\nawait pingone.get_user({ userId: id });").await).to_string();
    assert!(message.contains("(uncaught PingOneError at line 2, column 23 of the script)"), "{message}");
    // So does an argument that is not an object (review 32: the one error without a place).
    let message = err(&run_offline("const id = 'u1';\nawait pingone.get_user(id);").await).to_string();
    assert!(message.contains("args must be an object") && message.contains("(at line 2, column 23 of the script)"), "{message}");
    // pingone.iterate fetches its pages away from the script's frames: a failed page
    // names the line that called it (review 36).
    let message = err(&run_offline("let n = 0;\nfor await (const u of pingone.iterate('list_users', {})) n++;").await).to_string();
    assert!(message.contains("list_users") && message.contains("(uncaught PingOneError at line 2, column 38 of the script)"), "{message}");
    let message = err(&run_offline("const pages = pingone.iterate('__budget', {});\nfor await (const x of pages) {}").await).to_string();
    assert!(message.contains("is not a list action") && message.contains("(at line 1, column 30 of the script)"), "{message}");
}

#[tokio::test]
async fn results_come_back_as_json_stringify_writes_them() {
    let result = run_offline("return [10 / 2, Number.MAX_SAFE_INTEGER, -0, 2 ** 40, 0.5, 1e21]").await;
    let result = ok(&result);
    assert_eq!(result, &json!([5, 9_007_199_254_740_991_i64, 0, 1_099_511_627_776_i64, 0.5, 1e21]));
    assert_eq!(result.to_string(), "[5,9007199254740991,0,1099511627776,0.5,1e+21]", "as JSON.stringify writes them");
    // Dates, toJSON and functions as JSON.stringify has them; a promise still awaits.
    let result = run_offline("return { at: new Date(0), own: { toJSON() { return 'mine' } }, f() {}, p: Promise.resolve(1) instanceof Promise }").await;
    assert_eq!(ok(&result), &json!({ "at": "1970-01-01T00:00:00.000Z", "own": "mine", "p": true }));
    let result = run_offline("const hits = pingone.search('users'); const same = hits instanceof Promise && typeof hits.then === 'function'; await hits; return same").await;
    assert_eq!(ok(&result), &json!(true), "a call's promise is a Promise to every check");
    // A fraction with every digit significant is read back exactly.
    let result = run_offline("return [4503599627370495.5, 0.1 + 0.2]").await;
    assert_eq!(ok(&result), &json!([4_503_599_627_370_495.5_f64, 0.1_f64 + 0.2_f64]));
}

#[tokio::test]
async fn scripts_discover_actions_themselves() {
    let result = run_offline("const hits = await pingone.search('disable a user'); const d = await pingone.describe(hits[0].id); return { first: hits[0].id, method: d.method, sig: d.signature, note: d.note, rotate: (await pingone.describe('generate_application_secret')).note }").await;
    let result = ok(&result);
    assert_eq!(result["first"], "update_user_enabled_status");
    assert_eq!(result["method"], "PUT");
    assert!(result["sig"].as_str().unwrap().starts_with("update_user_enabled_status(args: { userId: string; enabled: boolean"));
    // An action's note (its catch) is described as its search hit shows it; none, none.
    assert!(result.get("note").is_none(), "{result}");
    assert!(result["rotate"].as_str().is_some_and(|n| n.starts_with("The old secret stops working at once")), "{result}");
}

/// A blank query or id says what to give, spends none of the script's calls, and
/// `describe` of an unknown id offers the ids it may have meant (review 40).
#[tokio::test]
async fn blank_search_and_describe_say_what_to_give() {
    let script = "
        const out = {};
        for (const [name, f] of [['search', () => pingone.search('  ')], ['searchNothing', () => pingone.search()], ['describe', () => pingone.describe('')]]) {
          try { await f(); out[name] = 'answered' } catch (e) { out[name] = e.name + ': ' + e.message }
        }
        try { await pingone.describe('get_usr') } catch (e) { out.typo = e.message }
        try { for await (const u of pingone.iterate('list_users', { all: true })) {} } catch (e) { out.iterateAll = e.message }
        out.budget = await pingone.budget();
        return out";
    let result = run_offline(script).await;
    let result = ok(&result);
    let says = |key: &str| result[key].as_str().unwrap_or_default().to_owned();
    assert!(says("search").starts_with("TypeError: pingone.search needs a query") && says("search").contains("pingone.search('disable a user')"), "{result}");
    assert_eq!(says("searchNothing"), says("search"), "{result}");
    assert!(says("describe").starts_with("TypeError: pingone.describe needs an action id"), "{result}");
    assert!(says("typo").contains("did you mean get_user"), "{result}");
    assert_eq!(says("iterateAll"), "pingone.iterate(list_users) pages by itself: leave out `all`", "review 43: it said list_users is no list action");
    assert_eq!(result["budget"]["callsLeft"], Limits::default().host_calls - 1, "only the unknown id's describe spent a call: {result}");
}

#[tokio::test]
async fn wrong_calls_throw_catchable_pingone_errors() {
    let script = "
        const out = {};
        try { await pingone.list_usres({}) } catch (e) { out.unknown = [e.name, e.code, e.message] }
        try { await pingone.disable_user({ userId: 'x' }) } catch (e) { out.guessed = e.message }
        try { await pingone.get_user({ userID: 'x' }) } catch (e) { out.args = [e.code, e.message] }
        try { await pingone.get_user('x') } catch (e) { out.type = [e.name, e.message] }
        return out";
    let result = ok(&run_offline(script).await).clone();
    assert_eq!(result["unknown"][0], "PingOneError");
    assert_eq!(result["unknown"][1], "UNKNOWN_ACTION");
    assert!(result["unknown"][2].as_str().unwrap().contains("did you mean list_users"), "{result}");
    // An id made up from the task is matched by what it means, not by shared words.
    assert!(result["guessed"].as_str().unwrap().contains("did you mean update_user_enabled_status,"), "{result}");
    assert_eq!(result["args"][0], "INVALID_ARGUMENTS");
    assert!(result["args"][1].as_str().unwrap().contains("unknown argument `userID`"), "{result}");
    assert!(result["type"][1].as_str().unwrap().contains("args must be an object"), "{result}");
}

/// An action's function is made once and then read as a plain property; scripts can
/// neither replace it nor lose errors thrown before the call leaves the guest.
#[tokio::test]
async fn action_functions_are_stable_and_failures_before_the_call_reject() {
    let script = "
        const out = {};
        const first = pingone.list_usres;
        out.same = first === pingone.list_usres;
        try { pingone.list_usres = () => 'replaced' } catch (e) { out.assign = e.name }
        try { pingone.brand_new = () => 'replaced' } catch (e) { out.assignNew = e.message }
        out.kept = pingone.list_usres === first;
        const cyclic = {}; cyclic.self = cyclic;
        const pending = pingone.get_user(cyclic);
        out.isPromise = pending instanceof Promise;
        try { await pending } catch (e) { out.cyclic = e.name }
        try { await pingone.list_usres() } catch (e) { out.code = e.code }
        return out";
    let execution = run_offline(script).await;
    let result = ok(&execution);
    assert_eq!(result["same"], true, "{result}");
    assert_eq!(result["kept"], true, "{result}");
    assert_eq!(result["assignNew"], "pingone is read-only", "{result}");
    assert_eq!(result["isPromise"], true, "a bad argument rejects the call's promise: {result}");
    assert_eq!(result["cyclic"], "TypeError", "{result}");
    assert_eq!(result["code"], "UNKNOWN_ACTION", "{result}");
    assert_eq!(execution.calls, 1, "only the well-formed call left the guest");
}

/// Keeps the arguments of every call and answers `null`.
#[derive(Default)]
struct ArgsRecorder(std::sync::Mutex<Vec<Value>>);

impl ActionHost for ArgsRecorder {
    fn call(self: Arc<Self>, call: HostCall) -> BoxFuture<'static, HostReply> {
        self.0.lock().unwrap().push(call.args);
        Box::pin(async { HostReply::Value(Value::Null) })
    }
}

/// Arguments reach the host exactly as `JSON.stringify` writes them, whether the
/// guest serialises them natively (plain data) or through `JSON.stringify` (dates,
/// getters, toJSON, class instances, deep nesting).
#[tokio::test]
async fn arguments_reach_the_host_as_json_stringify_writes_them() {
    let script = r#"
        const deep = {}; let at = deep; for (let i = 0; i < 40; i++) { at.next = {}; at = at.next; }
        const cases = [
          { userId: 'u', limit: 10 / 2, ratio: 0.1, big: 1e21, tiny: 5e-7, negZero: -0, nan: NaN, inf: -Infinity, max: Number.MAX_SAFE_INTEGER + 2 },
          { nested: { list: [1, undefined, , 'x', () => 1, null, [true]], text: 'é "q" \\ \n \u0001 😀 \u2028' } },
          { skip: undefined, f() {}, [Symbol('s')]: 1, 2: 'two', 1: 'one', b: false },
          { when: new Date(0) },
          Object.assign(Object.create(null), { bare: 1 }),
          new (class { constructor() { this.a = 1 } get g() { return 2 } })(),
          { get computed() { return 3 } },
          Object.defineProperty({ shown: 1 }, 'hidden', { value: 2, enumerable: false }),
          { toJSON() { return { replaced: true } } },
          { inner: { toJSON: () => 'custom' } },
          { boxed: new String('s'), map: new Map([[1, 2]]) },
          deep,
          {},
        ];
        const sent = [];
        for (const c of cases) { await pingone.echo(c); sent.push(JSON.stringify(c)); }
        await pingone.echo();
        sent.push('{}');
        const rejected = {};
        for (const [name, bad] of [['array', [1]], ['null', null], ['string', 'u'], ['function', () => 1]]) {
          try { await pingone.echo(bad) } catch (e) { rejected[name] = e.message }
        }
        return { sent, rejected };"#;
    let host = Arc::new(ArgsRecorder::default());
    let execution = common::sandbox().await.execute(script, json!({}), host.clone(), &Limits::default()).await;
    let result = ok(&execution);
    let received = host.0.lock().unwrap().clone();
    let sent: Vec<Value> = result["sent"].as_array().unwrap().iter().map(|s| serde_json::from_str(s.as_str().unwrap()).unwrap()).collect();
    assert_eq!(received.len(), sent.len(), "{result}");
    for (got, want) in received.iter().zip(&sent) {
        assert_eq!(got, want, "the host got {got}, JSON.stringify wrote {want}");
    }
    assert_eq!(received[0]["limit"], json!(5), "a whole number arrives as an integer, not 5.0");
    let rejected = &result["rejected"];
    assert_eq!(rejected["array"], "pingone.echo(args): args must be an object such as { userId: \"...\" }, got an array");
    for (name, got) in [("null", "null"), ("string", "string"), ("function", "function")] {
        assert!(rejected[name].as_str().unwrap().ends_with(&format!("got {got}")), "{rejected}");
    }
}

const USER_ID: &str = "1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b";

#[tokio::test]
async fn actions_reach_pingone_and_errors_keep_pingones_body() {
    let fake = FakePingOne::start().await;
    fake.on("GET", &fake.env_path(&format!("/users/{USER_ID}")), vec![Reply::json(200, json!({ "id": USER_ID, "username": "jdoe" }))]);
    let body = json!({ "id": "e1", "code": "INVALID_DATA", "message": "Validation failed", "details": [{ "code": "INVALID_VALUE", "target": "email", "message": "bad email" }, { "code": "INVALID_VALUE", "message": "no target" }] });
    fake.on("POST", &fake.env_path("/users"), vec![Reply::json(400, body.clone())]);
    let host = Arc::new(dispatcher(live(&fake)));
    let script = format!(
        "const user = await pingone.get_user({{ userId: '{USER_ID}' }});
         let failure;
         try {{ await pingone.create_user({{ username: 'x', email: 'x@example.com' }}) }}
         catch (e) {{ failure = {{ name: e.name, status: e.status, code: e.code, target: e.details[0].target, isError: e instanceof Error, text: `${{e}}` }} }}
         return {{ username: user.username, failure }}"
    );
    let execution = run_with(&script, json!({}), host.clone(), &Limits::default()).await;
    let text = "PingOneError: Validation failed (email: bad email; no target)";
    assert_eq!(ok(&execution), &json!({ "username": "jdoe", "failure": { "name": "PingOneError", "status": 400, "code": "INVALID_DATA", "target": "email", "isError": true, "text": text } }));
    // The host knows that text, to judge PingOne's parts of it each on its own.
    let error = |message: &str| ActionError { message: message.into(), details: body["details"].as_array().unwrap().clone(), ..Default::default() };
    assert_eq!(error("Validation failed").script_text(), text);
    assert_eq!(error("bad email; no target").script_text(), "PingOneError: bad email; no target", "what the message says is not said again");
    assert_eq!(execution.calls, 2);

    // Uncaught, the failure ends the script and keeps PingOne's code.
    let execution = run_with("await pingone.create_user({ username: 'x', email: 'x@example.com' })", json!({}), host, &Limits::default()).await;
    match err(&execution) {
        ExecutionError::Script(e) => {
            let action = e.action_error.as_ref().expect("the action's error is kept");
            assert_eq!((action.action.as_str(), action.status, action.code.as_str()), ("create_user", Some(400), "INVALID_DATA"));
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn promise_all_runs_calls_concurrently_within_the_bound() {
    let fake = FakePingOne::start().await;
    for i in 0..12 {
        fake.on("GET", &fake.env_path(&format!("/users/u{i}")), vec![Reply::json(200, json!({ "id": format!("u{i}") })).delayed(Duration::from_millis(300))]);
    }
    let host = Arc::new(dispatcher(live(&fake)));
    let limits = Limits { concurrency: 4, ..Limits::default() };
    let script = "const ids = Array.from({ length: 12 }, (_, i) => 'u' + i);
                  const users = await Promise.all(ids.map(userId => pingone.get_user({ userId })));
                  return users.map(u => u.id)";
    let execution = run_with(script, json!({}), host, &limits).await;
    assert_eq!(ok(&execution).as_array().unwrap().len(), 12);
    let mut arrivals: Vec<_> = fake.api_requests().iter().map(|r| r.at).collect();
    arrivals.sort();
    // Three waves of four: each wave arrives together, the next only after the 300 ms replies.
    // The upper bounds leave a slow machine room but still fail at three calls at a time
    // (the fourth would wait 300 ms) or two (the last would wait 1,500 ms).
    let first = arrivals[0];
    let offsets: Vec<u128> = arrivals.iter().map(|at| (*at - first).as_millis()).collect();
    assert!(offsets[3] < 250, "the first four should start together: {offsets:?}");
    assert!(offsets[4] >= 250, "the fifth should wait for a free slot: {offsets:?}");
    assert!(offsets[8] >= 550 && offsets[11] < 1400, "{offsets:?}");
}

/// Holds every call until all pool slots are busy (or 20 s pass), then answers after a pause,
/// counting how many calls are waiting at once. Holding makes the count independent of how
/// fast this machine starts instances: a plain pause let the first script finish before the
/// last slot's script reached its call on a slow CI machine.
struct SlowCounter {
    waiting: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
    all_slots_busy: tokio::sync::watch::Sender<bool>,
}

impl SlowCounter {
    fn new() -> Self {
        let waiting = Default::default();
        let most = Default::default();
        SlowCounter { waiting, most, all_slots_busy: tokio::sync::watch::channel(false).0 }
    }
}

impl ActionHost for SlowCounter {
    fn call(self: Arc<Self>, _call: HostCall) -> BoxFuture<'static, HostReply> {
        use std::sync::atomic::Ordering::SeqCst;
        let now = self.waiting.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(now, SeqCst);
        let mut busy = self.all_slots_busy.subscribe();
        if now >= POOL_SLOTS as usize {
            self.all_slots_busy.send_replace(true);
        }
        Box::pin(async move {
            let _ = tokio::time::timeout(Duration::from_secs(20), busy.wait_for(|busy| *busy)).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            self.waiting.fetch_sub(1, SeqCst);
            HostReply::Value(json!(1))
        })
    }
}

/// Scripts past the instance pool's size wait for a slot instead of failing.
#[tokio::test]
async fn more_scripts_than_pool_slots_queue_and_all_finish() {
    let sandbox = common::sandbox().await;
    let host = Arc::new(SlowCounter::new());
    let limits = Limits { wall_time: Duration::from_secs(60), ..Limits::default() };
    let scripts = POOL_SLOTS as usize + 16;
    let runs = (0..scripts).map(|_| sandbox.execute("return await pingone.noop({})", json!({}), host.clone(), &limits));
    let executions = futures::future::join_all(runs).await;
    for execution in &executions {
        assert_eq!(ok(execution), &json!(1));
    }
    assert_eq!(host.most.load(std::sync::atomic::Ordering::SeqCst), POOL_SLOTS as usize, "one script per slot at a time");
}

/// A script that logs more than the console keeps goes on to its end: the console
/// keeps its first and last lines and says how many it left out.
#[tokio::test]
async fn a_console_over_its_limit_keeps_its_first_and_last_lines_and_the_script_goes_on() {
    let small = Limits { log_bytes: 2_000, ..Limits::default() };
    let execution = run_with("for (let i = 0; i < 1000; i++) console.log('line ' + i); return 'done'", json!({}), offline(), &small).await;
    assert_eq!(execution.outcome.as_ref().ok(), Some(&json!("done")), "{:?}", execution.outcome);
    let lines: Vec<&str> = execution.logs.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(lines[0], "line 0");
    assert_eq!(*lines.last().unwrap(), "line 999");
    let gap = lines.iter().position(|l| l.contains("console line(s) not kept")).unwrap_or_else(|| panic!("{lines:?}"));
    let kept = lines.len() - 1;
    assert!(lines[gap].starts_with(&format!("… {} console line(s) not kept", 1000 - kept)), "{}", lines[gap]);
    let bytes: usize = execution.logs.iter().map(|l| l.message.len() + 16).sum();
    assert!(bytes < 2_000 + 200, "{bytes} bytes kept");
    let one_long = run_with("console.log('x'.repeat(100000)); console.log('after'); return 1", json!({}), offline(), &small).await;
    assert!(one_long.logs[0].message.len() <= 500 + 4 && one_long.logs.last().unwrap().message == "after", "{:?}", one_long.logs);
}

/// `pingone.budget()` tells a script what is left of its limits, so a batch job can
/// stop in time; asking is not an action call.
#[tokio::test]
async fn a_script_can_read_what_is_left_of_its_limits() {
    let limits = Limits { host_calls: 3, wall_time: Duration::from_secs(20), ..Limits::default() };
    let script = "const before = await pingone.budget(); await pingone.search('user'); await pingone.search('group'); const after = await pingone.budget(); return { before, after }";
    let execution = run_with(script, json!({}), offline(), &limits).await;
    let result = execution.outcome.as_ref().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(result["before"]["callsLeft"], 3, "{result}");
    assert_eq!(result["after"]["callsLeft"], 1, "two searches were made, and the budget asked twice: {result}");
    let ms_left = result["after"]["msLeft"].as_u64().unwrap();
    assert!(ms_left <= 20_000 && ms_left > 10_000, "{result}");
    // Compute too: a busy loop spends it (review 43: only time was told).
    let script = "const before = await pingone.budget(); let n = 0; for (let i = 0; i < 300000; i++) n += i % 7; const after = await pingone.budget(); return { before, after, n }";
    let execution = run_with(script, json!({}), offline(), &Limits::default()).await;
    let result = execution.outcome.as_ref().unwrap_or_else(|e| panic!("{e}"));
    let (before, after) = (result["before"]["computeLeftPercent"].as_u64().unwrap(), result["after"]["computeLeftPercent"].as_u64().unwrap());
    assert!(before <= 100 && after < before, "{result}");
}

/// A host whose every call takes a while.
struct Sleepy;

impl ActionHost for Sleepy {
    fn call(self: Arc<Self>, _call: HostCall) -> BoxFuture<'static, HostReply> {
        Box::pin(async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            HostReply::Value(json!(1))
        })
    }
}

/// Calls started together wait their turn to be sent; when the call limit stops the
/// script, those never sent are counted, so "limit of 1000 calls reached" is not taken
/// for 1000 made when the call summary shows fewer.
#[tokio::test]
async fn the_call_limit_says_how_many_started_calls_were_never_sent() {
    let limits = Limits { host_calls: 10, concurrency: 8, wall_time: Duration::from_secs(20), ..Limits::default() };
    // Three made one by one, then twelve started together: seven of them fit the limit,
    // and none of those had been sent when the eighth stopped the script.
    let script = "for (let i = 0; i < 3; i++) await pingone.noop({}); await Promise.all(Array.from({ length: 12 }, () => pingone.noop({})))";
    let execution = common::sandbox().await.execute(script, json!({}), Arc::new(Sleepy), &limits).await;
    let error = execution.outcome.expect_err("the limit stops it").to_string();
    assert!(error.contains("action-call limit of 10 calls per script reached"), "{error}");
    assert!(error.contains("(7 of the calls started had not been sent yet, and were not sent)"), "{error}");
}

#[tokio::test]
async fn every_limit_ends_the_script_with_its_name_and_value() {
    let tight = Limits {
        wall_time: Duration::from_secs(20),
        fuel: 300_000_000,
        memory_bytes: 32 << 20,
        host_calls: 3,
        result_bytes: 10_000,
        log_bytes: 2_000,
        argument_bytes: 100_000,
        ..Limits::default()
    };
    let generous_compute = Limits { fuel: 30_000_000_000, ..tight.clone() };
    let cases = [
        ("while (true) {}", &tight, Limit::Compute, "compute limit of 300 million instructions"),
        ("const o = {}; for (let i = 0; ; i++) o['k' + i] = i;", &tight, Limit::Compute, "compute limit"),
        ("let s = 'x'; while (true) s += s;", &generous_compute, Limit::Memory, "memory limit of 32 MiB"),
        ("const a = []; while (true) a.push('x'.repeat(100000) + a.length);", &generous_compute, Limit::Memory, "memory limit"),
        ("for (let i = 0; i < 5; i++) await pingone.search('user'); return 1", &tight, Limit::HostCalls, "action-call limit of 3"),
        ("return 'x'.repeat(20000)", &tight, Limit::ResultSize, "result-size limit"),
        ("await pingone.search('x'.repeat(200000))", &tight, Limit::ArgumentSize, "action-argument limit of 97 KiB"),
        ("let x = []; for (let i = 0; i < 300; i++) x = [x]; return x", &tight, Limit::Depth, "nesting limit of 128 levels"),
        ("let x = []; for (let i = 0; i < 300; i++) x = [x]; await pingone.get_user({ userId: x })", &tight, Limit::Depth, "nesting limit of 128 levels"),
    ];
    for (script, limits, limit, text) in cases {
        let execution = run_with(script, json!({}), offline(), limits).await;
        assert_eq!(limit_of(&execution), limit, "{script}");
        assert!(err(&execution).to_string().contains(text), "{script}: {}", err(&execution));
    }
    // Recursion the engine stops is the stack limit too, not an error in the script.
    let deep = run_offline("function f(n) { return f(n + 1) + 1 } return f(0)").await;
    assert_eq!(limit_of(&deep), Limit::Stack, "{}", err(&deep));
    assert!(err(&deep).to_string().contains("recursed too deeply"), "{}", err(&deep));
    assert_eq!(err(&deep).code(), "LIMIT_STACK");
    // The sandbox is unharmed: the next script runs normally.
    assert_eq!(ok(&run_offline("return 'still fine'").await), &json!("still fine"));
}

#[tokio::test]
async fn wall_time_names_the_calls_left_in_flight() {
    let fake = FakePingOne::start().await;
    fake.on("POST", &fake.env_path("/users"), vec![Reply::json(201, json!({ "id": "new" })).delayed(Duration::from_secs(5))]);
    fake.on("GET", &fake.env_path(&format!("/users/{USER_ID}")), vec![Reply::json(200, json!({ "id": USER_ID })).delayed(Duration::from_secs(5))]);
    let host = Arc::new(dispatcher(live(&fake)));
    let limits = Limits { wall_time: Duration::from_millis(500), ..Limits::default() };
    let script = format!("await Promise.all([pingone.create_user({{ username: 'slow', email: 'slow@example.com' }}), pingone.get_user({{ userId: '{USER_ID}' }})])");
    let execution = run_with(&script, json!({}), host, &limits).await;
    assert_eq!(limit_of(&execution), Limit::WallTime);
    let message = err(&execution).to_string();
    assert!(message.contains("wall-time limit of 500ms") && message.contains("create_user") && message.contains("may or may not have been applied"), "{message}");
    assert!(!message.contains("get_user"), "a read in flight changed nothing: {message}");

    // Calls still queued behind the concurrency limit sent nothing: not listed.
    let limits = Limits { wall_time: Duration::from_millis(500), concurrency: 1, ..Limits::default() };
    let script = "await Promise.all([1, 2, 3].map(i => pingone.create_user({ username: 'slow' + i, email: 'slow@example.com' })))";
    let execution = run_with(script, json!({}), Arc::new(dispatcher(live(&fake))), &limits).await;
    let message = err(&execution).to_string();
    assert_eq!(message.matches("create_user").count(), 1, "one call was sent, two waited: {message}");
}

#[tokio::test]
async fn record_then_replay_gives_the_same_result_offline() {
    let fake = FakePingOne::start().await;
    let app = "0a1b2c3d-0000-4000-8000-000000000001";
    fake.on("GET", &fake.env_path(&format!("/applications/{app}/secret")), vec![Reply::json(200, json!({ "secret": "super-secret-value", "previous": { "secret": "old-secret", "expiresAt": "2026-12-01T00:00:00Z" } }))]);
    fake.on("GET", &fake.env_path(&format!("/users/{USER_ID}")), vec![Reply::json(200, json!({ "id": USER_ID, "username": "jdoe" }))]);
    let script = format!(
        "const [user, secret] = await Promise.all([pingone.get_user({{ userId: '{USER_ID}' }}), pingone.get_application_secret({{ applicationId: '{app}' }})]);
         return {{ user: user.username, hasPrevious: !!secret.previous }}"
    );
    let recorder = Arc::new(Recorder::new(false));
    let host = Arc::new(dispatcher(live(&fake)).recording(recorder.clone()));
    let recorded = run_with(&script, json!({}), host, &Limits::default()).await;
    let cassette = recorder.cassette();
    assert_eq!(cassette.calls.len(), 2);
    let text = serde_json::to_string(&cassette).unwrap();
    assert!(!text.contains("super-secret-value") && !text.contains("old-secret"), "a secret reached the cassette: {text}");

    let file = tempfile::NamedTempFile::new().unwrap();
    cassette.save(file.path()).unwrap();
    let replay = Arc::new(Replay::new(Cassette::load(file.path()).unwrap()));
    let replayed = run_with(&script, json!({}), Arc::new(dispatcher(Backend::Replay(replay))), &Limits::default()).await;
    assert_eq!(ok(&replayed), ok(&recorded));
    assert_eq!(fake.api_requests().len(), 2, "the replay made no requests");

    let changed = script.replace("get_user(", "get_user_population(");
    let replay = Arc::new(Replay::new(Cassette::load(file.path()).unwrap()));
    let missed = run_with(&changed, json!({}), Arc::new(dispatcher(Backend::Replay(replay))), &Limits::default()).await;
    assert!(err(&missed).to_string().contains("NOT_IN_CASSETTE"), "{}", err(&missed));
}

/// `split` with a RegExp gives what Node gives (each expected value below is what Node 20
/// printed), and a CSV of a few thousand rows splits within the default compute limit
/// (review 54 M4: `csv.split(/\n/)` on 60 KB ran out of compute).
#[tokio::test]
async fn split_by_a_regexp_is_as_in_node_and_fits_a_long_csv() {
    let execution = run_offline(
        r#"return [
  'a,b,,c'.split(/,/), 'a1b22c333d'.split(/(\d+)/), 'a1b2c3'.split(/\d/, 2), 'abc'.split(/(?:)/), ''.split(/x/), ''.split(/(?:)/),
  'x\r\ny\nz\r\n'.split(/\r?\n/), '😀😀'.split(/(?:)/u), 'A-b_C'.split(/[-_]/i), 'ab'.split(/(a)|(c)/), ',a,'.split(/,/), 'aXbxc'.split(/x/i, 0),
  'one  two'.split(/\s*/), 'test'.split(/(?=s)/), 'a,b'.split(/,/g),
];"#,
    )
    .await;
    let node = r#"[["a","b","","c"],["a","1","b","22","c","333","d"],["a","b"],["a","b","c"],[""],[],["x","y","z",""],["😀","😀"],["A","b","C"],["","a",null,"b"],["","a",""],[],["o","n","e","t","w","o"],["te","st"],["a","b"]]"#;
    assert_eq!(ok(&execution), &serde_json::from_str::<Value>(node).unwrap());
    let csv = run_offline("const csv = 'Björn,Andersson,bjorn.andersson@example.com,Engineering,Stockholm\\r\\n'.repeat(3000); return csv.trim().split(/\\r?\\n/).length;").await;
    assert_eq!(ok(&csv), &json!(3000), "{:?}", csv.outcome);
}
