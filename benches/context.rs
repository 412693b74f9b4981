//! Context cost, code mode vs tools mode, counted with o200k_base: the tool
//! definitions a model reads, plus every argument it writes and every result it
//! reads, for realistic tasks against a simulator with 2,000 users.
//!
//!   cargo bench --profile dev --bench context
//!
//! Tools mode replays the fewest calls a model would need with the 113 tools (using
//! filters PingOne supports and `all: true` where they help it); code mode is the
//! search_tools calls whose hits name every action the script uses (one or two), and
//! one execute, shaped exactly as the server shapes them. `CONTEXT_SHOW=1` also
//! prints code mode's replies.

// A benchmark reports its figures on stdout.
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use guest_sdk::abi::{HostCall, HostReply};
use pingone_mcp::catalog::{load_builtin, Catalog};
use pingone_mcp::dispatch::{Backend, Dispatcher};
use pingone_mcp::mcp::{action_tool, execute_reply, execute_tool, search_reply, search_tool, ObservedHost, instructions, SEARCH_LIMIT};
use pingone_mcp::pingone::{PingOneClient, RetryPolicy};
use pingone_mcp::policy::Policy;
use pingone_mcp::sandbox::{Limits, Sandbox};
use pingone_mcp::search::SearchIndex;
use pingone_mcp::simulator::{Simulator, SimulatorConfig};
use pingone_mcp::trim::{count_json_tokens, count_tokens, DEFAULT_BUDGET};
use serde_json::{json, Value};

struct Task {
    name: &'static str,
    /// The `search_tools` queries a model makes first: between them, their hits name
    /// every action the script calls (the bench checks).
    searches: &'static [&'static str],
    script: &'static str,
}

const TASKS: [Task; 6] = [
    Task {
        name: "Which users in the Sales group have MFA off?",
        searches: &["users in a group"],
        script: "const [sales] = (await pingone.list_groups({ all: true })).filter(g => g.name === 'Sales');
                 const users = (await pingone.list_users({ filter: `memberOfGroups[id eq \"${sales.id}\"]`, all: true })).filter(u => !u.mfaEnabled);
                 return { count: users.length, usernames: users.map(u => u.username) };",
    },
    Task {
        name: "Who holds Environment Admin, and through which group?",
        searches: &["who holds the Environment Admin role through a group", "list admin roles", "groups and the users in them"],
        script: "const roles = (await pingone.list_system_roles({})).items;
                 const admin = roles.find(r => r.name === 'Environment Admin');
                 const groups = await pingone.list_groups({ all: true });
                 const out = [];
                 for (const g of groups) {
                   const assignments = await pingone.list_group_role_assignments({ groupId: g.id, all: true });
                   if (!assignments.some(a => a.role.id === admin.id)) continue;
                   const members = await pingone.list_users({ filter: `memberOfGroups[id eq \"${g.id}\"]`, all: true });
                   out.push({ group: g.name, members: members.map(u => u.username) });
                 }
                 return out;",
    },
    Task {
        name: "Disable every contractor whose account is locked",
        searches: &["disable a user", "users in a population"],
        script: "const [contractors] = (await pingone.list_populations({ all: true })).filter(p => p.name === 'Contractors');
                 const users = await pingone.list_users({ filter: `population.id eq \"${contractors.id}\"`, all: true });
                 const locked = users.filter(u => u.account?.status === 'LOCKED');
                 await Promise.all(locked.map(u => pingone.update_user_enabled_status({ userId: u.id, enabled: false })));
                 return { disabled: locked.map(u => u.username) };",
    },
    Task {
        name: "How many users, and how many disabled, in each population?",
        searches: &["list users in a population"],
        script: "const pops = await pingone.list_populations({ all: true });
                 return await Promise.all(pops.map(async p => ({ population: p.name,
                   users: (await pingone.list_users({ filter: `population.id eq \"${p.id}\"`, limit: 1 })).count,
                   disabled: (await pingone.list_users({ filter: `population.id eq \"${p.id}\" and enabled eq false`, limit: 1 })).count })));",
    },
    Task {
        name: "Which applications can call which resources?",
        searches: &["which applications can call which resources"],
        script: "const apps = await pingone.list_applications({ all: true });
                 return await Promise.all(apps.map(async a => ({ app: a.name,
                   resources: (await pingone.list_application_grants({ applicationId: a.id, all: true })).map(g => g.resource.id) })));",
    },
    Task {
        name: "Disable every user who has not signed in for 90 days",
        searches: &["users who have not signed in for 90 days", "disable a user"],
        script: "const cutoff = Date.now() - 90 * 86400000;
                 const users = await pingone.list_users({ filter: 'enabled eq true', all: true });
                 const stale = users.filter(u => !u.lastSignOn || Date.parse(u.lastSignOn.at) < cutoff);
                 await Promise.all(stale.map(u => pingone.update_user_enabled_status({ userId: u.id, enabled: false })));
                 return { disabled: stale.length, usernames: stale.map(u => u.username) };",
    },
];

/// The calls a model makes with one tool per action, as (action, args), each
/// step able to look at the results so far.
async fn tools_mode_calls(task: usize, dispatcher: &Dispatcher) -> Vec<(String, Value, Value)> {
    let mut transcript = Vec::new();
    let call = |action: &str, args: Value| {
        let action = action.to_owned();
        async move {
            let reply = dispatcher.dispatch(HostCall { action: action.clone(), args: args.clone() }).await;
            let value = match reply {
                HostReply::Value(v) => json!({ "result": v }),
                HostReply::Error(e) => json!({ "error": e }),
            };
            (action, args, value)
        }
    };
    let items = |v: &Value| v["result"].as_array().cloned().or_else(|| v["result"]["items"].as_array().cloned()).unwrap_or_default();
    let find = |list: &[Value], name: &str| list.iter().find(|x| x["name"] == name).map(|x| x["id"].as_str().unwrap_or_default().to_owned()).unwrap_or_default();
    match task {
        0 => {
            let groups = call("list_groups", json!({ "all": true })).await;
            let sales = find(&items(&groups.2), "Sales");
            transcript.push(groups);
            // PingOne cannot filter users on mfaEnabled: the model reads every member.
            transcript.push(call("list_users", json!({ "filter": format!("memberOfGroups[id eq \"{sales}\"]"), "all": true })).await);
        }
        1 => {
            let roles = call("list_system_roles", json!({})).await;
            let admin = find(&items(&roles.2), "Environment Admin");
            transcript.push(roles);
            let groups = call("list_groups", json!({ "all": true })).await;
            let group_list = items(&groups.2);
            transcript.push(groups);
            for g in group_list {
                let id = g["id"].as_str().unwrap_or_default().to_owned();
                let assignments = call("list_group_role_assignments", json!({ "groupId": id, "all": true })).await;
                let holds = items(&assignments.2).iter().any(|a| a["role"]["id"] == admin.as_str());
                transcript.push(assignments);
                if holds {
                    transcript.push(call("list_users", json!({ "filter": format!("memberOfGroups[id eq \"{id}\"]"), "all": true })).await);
                }
            }
        }
        2 => {
            let pops = call("list_populations", json!({ "all": true })).await;
            let contractors = find(&items(&pops.2), "Contractors");
            transcript.push(pops);
            let users = call("list_users", json!({ "filter": format!("population.id eq \"{contractors}\""), "all": true })).await;
            let locked: Vec<String> = items(&users.2).iter().filter(|u| u["account"]["status"] == "LOCKED").filter_map(|u| u["id"].as_str().map(str::to_owned)).collect();
            transcript.push(users);
            for id in locked {
                transcript.push(call("update_user_enabled_status", json!({ "userId": id, "enabled": false })).await);
            }
        }
        3 => {
            let pops = call("list_populations", json!({ "all": true })).await;
            let ids: Vec<String> = items(&pops.2).iter().filter_map(|p| p["id"].as_str().map(str::to_owned)).collect();
            transcript.push(pops);
            for id in ids {
                transcript.push(call("list_users", json!({ "filter": format!("population.id eq \"{id}\""), "limit": 1 })).await);
                transcript.push(call("list_users", json!({ "filter": format!("population.id eq \"{id}\" and enabled eq false"), "limit": 1 })).await);
            }
        }
        4 => {
            let apps = call("list_applications", json!({ "all": true })).await;
            let ids: Vec<String> = items(&apps.2).iter().filter_map(|a| a["id"].as_str().map(str::to_owned)).collect();
            transcript.push(apps);
            for id in ids {
                transcript.push(call("list_application_grants", json!({ "applicationId": id, "all": true })).await);
            }
        }
        _ => {
            // PingOne cannot filter on lastSignOn (REFERENCE.md lists the filterable
            // attributes), so the model reads every enabled user and picks the stale ones.
            let cutoff = humantime::format_rfc3339_millis(SystemTime::now() - Duration::from_secs(90 * 86_400)).to_string();
            let users = call("list_users", json!({ "filter": "enabled eq true", "all": true })).await;
            let stale: Vec<String> = items(&users.2)
                .iter()
                .filter(|u| u["lastSignOn"]["at"].as_str().is_none_or(|at| at < cutoff.as_str()))
                .filter_map(|u| u["id"].as_str().map(str::to_owned))
                .collect();
            transcript.push(users);
            for id in stale {
                transcript.push(call("update_user_enabled_status", json!({ "userId": id, "enabled": false })).await);
            }
        }
    }
    transcript
}

fn definitions_tokens(tools: &[rmcp::model::Tool], instructions: &str) -> usize {
    count_json_tokens(&json!({ "tools": tools })) + count_tokens(instructions)
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let catalog: Arc<Catalog> = Arc::new(load_builtin().unwrap());
        let index = Arc::new(SearchIndex::new(&catalog));
        let sandbox = Sandbox::new().await.unwrap();
        let new_dispatcher = |sim: &Simulator| {
            let client = PingOneClient::new(sim.connection(), RetryPolicy::default()).unwrap();
            Dispatcher::new(catalog.clone(), index.clone(), Backend::Live(client)).with_policy(Policy::permissive())
        };

        let tool_defs: Vec<_> = catalog.actions().map(action_tool).collect();
        let tools_defs = definitions_tokens(&tool_defs, "Each PingOne action is a tool; list results come back as { items, count, cursor }.");
        let code_defs = definitions_tokens(&[search_tool(), execute_tool(true, true)], &instructions(&pingone_mcp::sandbox::Limits::default()));
        println!("tool definitions: tools mode {tools_defs} tokens, code mode {code_defs} tokens\n");
        println!("| task | tools mode: calls | tools mode: tokens | code mode: calls | code mode: tokens | saved |");
        println!("|---|---|---|---|---|---|");
        let (mut total_tools, mut total_code) = (tools_defs, code_defs);
        for (i, task) in TASKS.iter().enumerate() {
            // A fresh, identical environment for each way, so writes don't leak across.
            let sim = Simulator::start(SimulatorConfig { users: 2_000, ..SimulatorConfig::default() }, 0).await.unwrap();
            let transcript = tools_mode_calls(i, &new_dispatcher(&sim)).await;
            let tools_tokens: usize = transcript.iter().map(|(action, args, result)| count_tokens(action) + count_json_tokens(args) + count_json_tokens(result)).sum();

            let sim = Simulator::start(SimulatorConfig { users: 2_000, ..SimulatorConfig::default() }, 0).await.unwrap();
            let dispatcher = Arc::new(new_dispatcher(&sim));
            let searches: Vec<(Value, Value)> =
                task.searches.iter().map(|query| (json!({ "query": query }), search_reply(&catalog, &index, query, SEARCH_LIMIT).unwrap())).collect();
            let host = Arc::new(ObservedHost::new(dispatcher, None, None));
            let execution = sandbox.execute(task.script, json!({}), host.clone(), &Limits::default()).await;
            let reply = execute_reply(execution, &host.calls(), DEFAULT_BUDGET, None).unwrap_or_else(|e| panic!("{}: {e}", task.name));
            let found: Vec<&Value> = searches.iter().flat_map(|(_, reply)| reply["actions"].as_array().into_iter().flatten()).map(|hit| &hit["id"]).collect();
            for call in host.calls() {
                assert!(found.iter().any(|id| **id == call.action.as_str()), "{}: the script calls {}, which its searches did not find", task.name, call.action);
            }
            if std::env::var_os("CONTEXT_SHOW").is_some() {
                for (_, search) in &searches {
                    eprintln!("search reply: {search}");
                }
                eprintln!("execute reply: {reply}");
            }
            let count = |values: &mut dyn Iterator<Item = &Value>| values.map(count_json_tokens).sum::<usize>();
            let queries = count(&mut searches.iter().map(|(query, _)| query));
            let search_replies = count(&mut searches.iter().map(|(_, reply)| reply));
            let (script, execute) = (count_json_tokens(&json!({ "code": task.script })), count_json_tokens(&reply));
            let code_tokens = queries + search_replies + script + execute;
            eprintln!(
                "code mode, task {}: {} search queries {queries}, their replies {search_replies}, script {script}, execute reply {execute} tokens",
                i + 1,
                searches.len()
            );

            total_tools += tools_tokens;
            total_code += code_tokens;
            let saved = 100.0 * (1.0 - code_tokens as f64 / tools_tokens as f64);
            println!("| {} | {} | {tools_tokens} | {} | {code_tokens} | {saved:.1}% |", task.name, transcript.len(), searches.len() + 1);
        }
        let saved = 100.0 * (1.0 - total_code as f64 / total_tools as f64);
        println!("| **all six, with tool definitions** | | **{total_tools}** | | **{total_code}** | **{saved:.1}%** |");
    });
}
