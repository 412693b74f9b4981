//! The simulator's state: every resource as a JSON record in insertion order,
//! plus the relations (memberships, nesting, secrets, tokens) kept beside them.
//! One `Mutex<State>` guards it all; handlers are synchronous and short.

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::Rng;
use serde_json::Value;

use crate::scim_filter::Filter;
use super::index::ValueIndex;

/// Records of one kind, in insertion order, indexed by `id` and, for some tables, by
/// the values of a few attributes (see [`ValueIndex`]).
#[derive(Debug, Default)]
pub struct Table {
    rows: BTreeMap<u64, Value>,
    index: HashMap<String, u64>,
    /// Paths of the value index, empty for none.
    value_paths: &'static [&'static str],
    /// Built on the first filter that can use it, then kept up to date.
    values: OnceCell<ValueIndex>,
    next: u64,
}

impl Table {
    /// A table whose records are also indexed by the string values at `paths`, for
    /// filters (`eq`, `sw`) on them.
    pub fn with_value_index(paths: &'static [&'static str]) -> Self {
        Self { value_paths: paths, ..Self::default() }
    }

    /// Inserts (or replaces, keeping its place) the record with `record["id"]`.
    pub fn put(&mut self, record: Value) {
        let id = record["id"].as_str().unwrap_or_default().to_owned();
        let seq = match self.index.get(&id) {
            Some(seq) => *seq,
            None => {
                self.next += 1;
                self.index.insert(id, self.next);
                self.next
            }
        };
        if let Some(values) = self.values.get_mut() {
            if let Some(old) = self.rows.get(&seq) {
                values.remove(seq, old);
            }
            values.insert(seq, &record);
        }
        self.rows.insert(seq, record);
    }

    pub fn get(&self, id: &str) -> Option<&Value> {
        self.index.get(id).and_then(|seq| self.rows.get(seq))
    }

    /// The record, to change in place: it leaves the value index until the returned
    /// guard is dropped, and is filed again as it is then.
    pub fn get_mut(&mut self, id: &str) -> Option<RowMut<'_>> {
        let seq = *self.index.get(id)?;
        let record = self.rows.get_mut(&seq)?;
        let mut values = self.values.get_mut();
        if let Some(values) = values.as_deref_mut() {
            values.remove(seq, record);
        }
        Some(RowMut { seq, record, values })
    }

    pub fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    pub fn remove(&mut self, id: &str) -> Option<Value> {
        let seq = self.index.remove(id)?;
        let record = self.rows.remove(&seq)?;
        if let Some(values) = self.values.get_mut() {
            values.remove(seq, &record);
        }
        Some(record)
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Value> {
        self.rows.values()
    }

    /// Records for which `keep` holds, in order. When `filter` is narrowed by the value
    /// index only its candidates are tested; `keep` must imply `filter` for that to
    /// be right (it is the filter, perhaps applied to an extended record).
    pub fn select(&self, filter: &Filter, keep: impl Fn(&Value) -> bool) -> Vec<&Value> {
        let candidates = (!self.value_paths.is_empty()).then(|| self.value_index()).and_then(|values| filter.candidates(&|probe| values.lookup(probe)));
        match candidates {
            Some(rows) => rows.iter().filter_map(|seq| self.rows.get(seq)).filter(|v| keep(v)).collect(),
            None => self.rows.values().filter(|v| keep(v)).collect(),
        }
    }

    /// Builds the value index now (it is otherwise built by the first filter that
    /// can use it).
    pub fn prepare_value_index(&mut self) {
        if !self.value_paths.is_empty() {
            self.value_index();
        }
    }

    fn value_index(&self) -> &ValueIndex {
        self.values.get_or_init(|| ValueIndex::build(self.value_paths, self.rows.iter().map(|(seq, record)| (*seq, record))))
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Unsets `default` on every record but `keep`'s: a table of policies (or
    /// populations) has one default, and making one the default unsets the others.
    pub fn clear_default_except(&mut self, keep: &str) {
        let others: Vec<String> = self.rows.values().filter(|r| r["default"] == Value::Bool(true) && r["id"].as_str() != Some(keep)).filter_map(|r| r["id"].as_str().map(str::to_owned)).collect();
        for id in others {
            if let Some(mut record) = self.get_mut(&id) {
                record["default"] = Value::Bool(false);
            }
        }
    }

    /// Removes every record for which `keep` is false; returns the removed ids.
    pub fn retain(&mut self, mut keep: impl FnMut(&Value) -> bool) -> Vec<String> {
        let gone: Vec<String> = self.rows.values().filter(|v| !keep(v)).filter_map(|v| v["id"].as_str().map(str::to_owned)).collect();
        for id in &gone {
            self.remove(id);
        }
        gone
    }
}

/// A record being changed in place; files it in the value index again when dropped.
pub struct RowMut<'a> {
    seq: u64,
    record: &'a mut Value,
    values: Option<&'a mut ValueIndex>,
}

impl std::ops::Deref for RowMut<'_> {
    type Target = Value;
    fn deref(&self) -> &Value {
        self.record
    }
}

impl std::ops::DerefMut for RowMut<'_> {
    fn deref_mut(&mut self) -> &mut Value {
        self.record
    }
}

impl Drop for RowMut<'_> {
    fn drop(&mut self) {
        if let Some(values) = self.values.as_deref_mut() {
            values.insert(self.seq, self.record);
        }
    }
}

/// Who holds a role assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Holder {
    User,
    Group,
    Application,
}

impl Holder {
    pub fn key(self) -> &'static str {
        match self {
            Holder::User => "user",
            Holder::Group => "group",
            Holder::Application => "application",
        }
    }
}

/// An application's client secret; the previous one (kept only when a rotation gave
/// it an expiry) stays valid until it expires or is retired with `DELETE .../secret`.
#[derive(Debug, Clone)]
pub struct AppSecret {
    pub current: String,
    pub previous: Option<PreviousSecret>,
}

impl AppSecret {
    /// The previous secret while it is still valid at `now` (Unix seconds).
    pub fn previous_at(&self, now: i64) -> Option<&PreviousSecret> {
        self.previous.as_ref().filter(|p| p.expires_at > now)
    }
}

/// A rotated-out secret, valid until `expires_at`; `last_used` is when a client last
/// authenticated with it (set while the token endpoint only reads the state).
#[derive(Debug, Clone)]
pub struct PreviousSecret {
    pub secret: String,
    pub expires_at: i64,
    pub last_used: std::cell::Cell<Option<i64>>,
}

/// What an access token stands for.
#[derive(Debug, Clone)]
pub enum Subject {
    /// A worker app's client-credentials token.
    Client(String),
    /// A signed-in person.
    User(String),
}

#[derive(Debug, Clone)]
pub struct Token {
    pub subject: Subject,
    pub expires: Instant,
    /// The `aud` of a person's JWT; `None` for opaque tokens.
    pub audience: Option<String>,
}

/// A user's password state (never the value itself on the wire).
#[derive(Debug, Clone)]
pub struct Password {
    pub value: String,
    pub must_change: bool,
    pub last_changed: String,
}

/// User attributes list filters often compare with `eq` or `sw`.
const USER_INDEX: &[&str] = &["username", "email", "name.given", "name.family"];

/// Everything the simulator knows.
#[derive(Debug)]
pub struct State {
    pub environment_id: String,
    pub environment_type: &'static str,
    pub organization_id: String,
    /// The URL the server is reachable at, for HAL links.
    pub base_url: String,
    pub rng: StdRng,
    pub token_ttl: Duration,
    /// The subject of the token of the request being handled.
    pub caller: Option<Subject>,

    pub users: Table,
    pub populations: Table,
    pub groups: Table,
    pub applications: Table,
    pub grants: Table,
    pub sop_assignments: Table,
    pub app_attributes: Table,
    pub role_assignments: Table,
    pub system_roles: Table,
    pub custom_roles: Table,
    pub resources: Table,
    pub password_policies: Table,
    pub sign_on_policies: Table,
    /// Sign-on policies' steps (`signOnPolicy.id` names whose).
    pub sign_on_actions: Table,
    pub identity_providers: Table,
    pub idp_attributes: Table,
    pub devices: Table,
    /// Users' sign-on sessions (`user.id` names whose).
    pub sessions: Table,
    pub device_policies: Table,
    pub fido2_policies: Table,
    /// The environment's MFA settings (one record, no id).
    pub mfa_settings: Value,
    pub certificates: Table,

    /// username (lower case) -> user id.
    pub usernames: HashMap<String, String>,
    /// user id -> groups the user is a direct member of.
    pub memberships: HashMap<String, BTreeSet<String>>,
    /// group id -> parent groups it is nested in.
    pub nesting: HashMap<String, BTreeSet<String>>,
    /// role assignment id -> (holder kind, holder id).
    pub holders: HashMap<String, (Holder, String)>,
    pub secrets: HashMap<String, AppSecret>,
    pub passwords: HashMap<String, Password>,
    pub tokens: HashMap<String, Token>,
    /// user id -> device ids in the user's preferred order (when set).
    pub device_order: HashMap<String, Vec<String>>,
}

impl State {
    pub fn new(environment_id: String, organization_id: String, environment_type: &'static str, rng: StdRng) -> Self {
        Self {
            environment_id,
            environment_type,
            organization_id,
            base_url: String::new(),
            rng,
            token_ttl: Duration::from_secs(3600),
            caller: None,
            users: Table::with_value_index(USER_INDEX),
            populations: Table::default(),
            groups: Table::default(),
            applications: Table::default(),
            grants: Table::default(),
            sop_assignments: Table::default(),
            app_attributes: Table::default(),
            role_assignments: Table::default(),
            system_roles: Table::default(),
            custom_roles: Table::default(),
            resources: Table::default(),
            password_policies: Table::default(),
            sign_on_policies: Table::default(),
            sign_on_actions: Table::default(),
            identity_providers: Table::default(),
            idp_attributes: Table::default(),
            devices: Table::default(),
            sessions: Table::default(),
            device_policies: Table::default(),
            fido2_policies: Table::default(),
            mfa_settings: Value::Null,
            certificates: Table::default(),
            usernames: HashMap::new(),
            memberships: HashMap::new(),
            nesting: HashMap::new(),
            holders: HashMap::new(),
            secrets: HashMap::new(),
            passwords: HashMap::new(),
            tokens: HashMap::new(),
            device_order: HashMap::new(),
        }
    }

    /// A new id, deterministic for a given seed and sequence of calls.
    pub fn new_id(&mut self) -> String {
        new_id(&mut self.rng)
    }

    /// A random URL-safe string of `len` characters (secrets, tokens).
    pub fn random_text(&mut self, len: usize) -> String {
        random_text(&mut self.rng, len)
    }

    /// `{"id": environment id}`, as every record carries.
    pub fn env_ref(&self) -> Value {
        serde_json::json!({ "id": self.environment_id })
    }

    /// `<base>/v1/environments/<env>/<rest>`.
    pub fn env_url(&self, rest: &str) -> String {
        format!("{}/v1/environments/{}/{rest}", self.base_url, self.environment_id)
    }

    /// Groups `user_id` belongs to: direct ones, then those reached through nesting.
    pub fn user_groups(&self, user_id: &str) -> Vec<(String, &'static str)> {
        let mut out: Vec<(String, &'static str)> = Vec::new();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let direct = self.memberships.get(user_id).cloned().unwrap_or_default();
        for g in &direct {
            seen.insert(g.clone());
            out.push((g.clone(), "DIRECT"));
        }
        let mut frontier: Vec<String> = direct.into_iter().collect();
        while let Some(g) = frontier.pop() {
            for parent in self.nesting.get(&g).into_iter().flatten() {
                if seen.insert(parent.clone()) {
                    out.push((parent.clone(), "INDIRECT"));
                    frontier.push(parent.clone());
                }
            }
        }
        out
    }

    /// Every group that `group_id` is nested in, directly or not.
    pub fn ancestors(&self, group_id: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut frontier = vec![group_id.to_owned()];
        while let Some(g) = frontier.pop() {
            for parent in self.nesting.get(&g).into_iter().flatten() {
                if seen.insert(parent.clone()) {
                    frontier.push(parent.clone());
                }
            }
        }
        seen
    }

    /// Whether `role_id` is a system or custom role.
    pub fn role(&self, role_id: &str) -> Option<&Value> {
        self.system_roles.get(role_id).or_else(|| self.custom_roles.get(role_id))
    }

    /// Drops the role assignments held by `holder`.
    pub fn drop_assignments_of(&mut self, kind: Holder, holder_id: &str) {
        let ids: Vec<String> = self.holders.iter().filter(|(_, (k, h))| *k == kind && h == holder_id).map(|(id, _)| id.clone()).collect();
        for id in ids {
            self.holders.remove(&id);
            self.role_assignments.remove(&id);
        }
    }

    /// Issues an access token for `subject`.
    pub fn issue_token(&mut self, subject: Subject) -> String {
        let token = self.random_text(48);
        self.tokens.insert(token.clone(), Token { subject, expires: Instant::now() + self.token_ttl, audience: None });
        token
    }

    /// The subject of a live token.
    pub fn token_subject(&self, token: &str) -> Option<&Subject> {
        self.tokens.get(token).filter(|t| t.expires > Instant::now()).map(|t| &t.subject)
    }
}

pub fn new_id(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.gen()).into_uuid().to_string()
}

pub fn random_text(rng: &mut StdRng, len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_~.";
    (0..len).map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_keeps_order_and_replaces_in_place() {
        let mut t = Table::default();
        t.put(json!({"id": "a", "n": 1}));
        t.put(json!({"id": "b", "n": 2}));
        t.put(json!({"id": "a", "n": 3}));
        let ns: Vec<i64> = t.iter().map(|v| v["n"].as_i64().unwrap()).collect();
        assert_eq!(ns, vec![3, 2]);
        assert!(t.remove("a").is_some());
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn select_uses_the_value_index_and_follows_changes_in_place() {
        let mut t = Table::with_value_index(&["username"]);
        for (id, name) in [("a", "ann"), ("b", "bob"), ("c", "anna")] {
            t.put(json!({ "id": id, "username": name }));
        }
        let filter = Filter::parse(r#"username sw "ann""#).unwrap();
        let ids = |t: &Table, f: &Filter| t.select(f, |v| f.matches(v)).iter().map(|v| v["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(ids(&t, &filter), vec!["a", "c"]);
        t.get_mut("b").unwrap()["username"] = json!("annabel");
        t.get_mut("a").unwrap()["username"] = json!("zoe");
        assert_eq!(ids(&t, &filter), vec!["b", "c"], "in insertion order, after changes in place");
        t.remove("c");
        assert_eq!(ids(&t, &filter), vec!["b"]);
        // Not narrowed by the index (an `or` branch it cannot answer): a full scan.
        let either = Filter::parse(r#"username sw "ann" or id eq "a""#).unwrap();
        assert_eq!(ids(&t, &either), vec!["a", "b"]);
    }
}
