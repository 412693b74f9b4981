//! People who sign on: the password check of the sign-on forms, and the seed of the
//! CLI's login application and two people with known passwords and roles.

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Value};

use crate::simulator::seed::{INJECTIONS, SYSTEM_ROLES};
use crate::simulator::store::{new_id, Holder, Password, State};

/// A seeded person tests and demos can sign on as.
#[derive(Debug, Clone)]
pub struct Person {
    pub user_id: String,
    pub username: String,
    pub password: String,
}

/// What `seed_sign_on` adds to the environment.
pub(crate) struct SignOnSeed {
    /// The public (PKCE, no secret) application the CLI signs people on with.
    pub login_client_id: String,
    /// Environment Admin at environment scope.
    pub admin: Person,
    /// Identity Data Read Only at environment scope.
    pub reader: Person,
}

const WRONG: &str = "The username or password is incorrect.";

/// The user id for a username and password, or why the sign-on fails (one message for
/// an unknown user and a wrong password, so the form does not reveal which).
pub(crate) fn check_credentials(st: &State, username: &str, password: &str) -> Result<String, &'static str> {
    let user_id = st.usernames.get(&username.trim().to_lowercase()).ok_or(WRONG)?;
    let user = st.users.get(user_id).ok_or(WRONG)?;
    let password_matches = st.passwords.get(user_id).is_some_and(|p| p.value == password);
    if !password_matches {
        return Err(WRONG);
    }
    if user["enabled"] != json!(true) || user["account"]["status"] == json!("LOCKED") {
        return Err("This account cannot sign on: it is disabled or locked.");
    }
    Ok(user_id.clone())
}

/// Fixed, so the banner and docs can name them; this is a simulator.
const ADMIN_PASSWORD: &str = "Simulated-Admin-1!";
const READER_PASSWORD: &str = "Simulated-Reader-1!";

/// Adds the login application and makes two seeded users able to sign on. With their
/// own rng, so the ids of everything seeded before stay as they were.
pub(crate) fn seed_sign_on(st: &mut State, seed: u64) -> SignOnSeed {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5167_6e4f_6e00);
    let login_client_id = new_id(&mut rng);
    st.applications.put(json!({
        "id": login_client_id, "environment": st.env_ref(), "name": "pingone-mcp CLI",
        "description": "Signs people on to pingone-mcp from the command line (authorization code with PKCE, or device authorization)",
        "protocol": "OPENID_CONNECT", "type": "NATIVE_APP", "enabled": true,
        "grantTypes": ["AUTHORIZATION_CODE", "REFRESH_TOKEN", "DEVICE_CODE"], "responseTypes": ["CODE"],
        "redirectUris": ["http://127.0.0.1/callback"], "tokenEndpointAuthMethod": "NONE", "pkceEnforcement": "S256_REQUIRED",
        "createdAt": "2024-01-02T00:00:00.000Z", "updatedAt": "2024-01-02T00:00:00.000Z",
    }));
    let mut people = sign_on_candidates(st).into_iter();
    let mut person = |rng: &mut StdRng, st: &mut State, role: &str, password: &str, fallback: &str| {
        let user_id = people.next().unwrap_or_else(|| add_user(st, rng, fallback));
        st.passwords.insert(user_id.clone(), Password { value: password.to_owned(), must_change: false, last_changed: "2024-02-01T00:00:00.000Z".into() });
        let scope = st.environment_id.clone();
        assign_role(st, rng, &user_id, role, &scope);
        let username = st.users.get(&user_id).and_then(|u| u["username"].as_str()).unwrap_or_default().to_owned();
        Person { user_id, username, password: password.to_owned() }
    };
    let admin = person(&mut rng, st, SYSTEM_ROLES[1].0, ADMIN_PASSWORD, "sim.admin");
    let reader = person(&mut rng, st, SYSTEM_ROLES[4].0, READER_PASSWORD, "sim.reader");
    SignOnSeed { login_client_id, admin, reader }
}

/// Seeded users that can sign on and hold no role yet, directly or through a group:
/// the people are chosen from them, so the user count stays the one asked for.
fn sign_on_candidates(st: &State) -> Vec<String> {
    let holding = |kind: Holder| -> Vec<&String> { st.holders.values().filter(|(k, _)| *k == kind).map(|(_, id)| id).collect() };
    let (users_with_roles, groups_with_roles) = (holding(Holder::User), holding(Holder::Group));
    let able = |u: &Value| u["enabled"] == json!(true) && u["account"]["status"] == json!("OK") && !INJECTIONS.iter().any(|i| u.to_string().contains(&i[..20]));
    let roleless = |id: &String| !users_with_roles.contains(&id) && !st.user_groups(id).iter().any(|(g, _)| groups_with_roles.contains(&g));
    st.users.iter().filter(|u| able(u)).filter_map(|u| u["id"].as_str().map(str::to_owned)).filter(roleless).take(2).collect()
}

/// A user of the default population, for environments seeded with too few users.
fn add_user(st: &mut State, rng: &mut StdRng, username: &str) -> String {
    let user_id = new_id(rng);
    let population = st.populations.iter().find(|p| p["default"] == json!(true)).map(|p| p["id"].clone()).unwrap_or(Value::Null);
    st.users.put(json!({
        "id": user_id, "environment": st.env_ref(), "username": username, "email": format!("{username}@example.com"),
        "name": { "given": "Simulated", "family": username, "formatted": format!("Simulated {username}") },
        "population": { "id": population }, "enabled": true, "account": { "canAuthenticate": true, "status": "OK" },
        "identityProvider": { "type": "PING_ONE" }, "lifecycle": { "status": "ACCOUNT_OK" },
        "createdAt": "2024-01-02T00:00:00.000Z", "updatedAt": "2024-01-02T00:00:00.000Z",
    }));
    st.usernames.insert(username.to_lowercase(), user_id.clone());
    user_id
}

fn assign_role(st: &mut State, rng: &mut StdRng, user_id: &str, role_id: &str, environment_id: &str) {
    let assignment_id = new_id(rng);
    st.role_assignments.put(json!({
        "id": assignment_id, "environment": st.env_ref(), "role": { "id": role_id }, "scope": { "id": environment_id, "type": "ENVIRONMENT" },
        "user": { "id": user_id }, "readOnly": false, "createdAt": "2024-01-03T00:00:00.000Z",
    }));
    st.holders.insert(assignment_id, (Holder::User, user_id.to_owned()));
}
