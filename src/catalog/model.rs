//! The YAML shape of an action file, kept as close to the files as possible.
//! Validation beyond the shape lives in `load.rs`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActionFile {
    pub group: String,
    /// Read one by one into [`Action`]s, so each one's mistakes are reported.
    pub actions: Vec<serde_yaml_ng::Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub id: String,
    pub title: String,
    pub description: String,
    /// Shown with the action in search results, beside the description's first
    /// sentence: what an agent must know before calling it that the first sentence
    /// leaves out (an object sent replaces the whole object; the old secret stops
    /// working at once; where a group's members are listed). Not searched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub method: Method,
    pub host: Host,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default)]
    pub params: Vec<Param>,
    /// Body fields that are not declared are passed through unchecked.
    #[serde(default)]
    pub body_open: bool,
    /// The undeclared fields of an open body are the tenant's custom attributes (a
    /// user's), stored as named: a name one slip from a declared field, or a common
    /// other name for one, is refused as the misspelling it almost surely is.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub custom_attributes: bool,
    /// Fields of the record that this action does not change, each with the action
    /// that does (`enabled: update_user_enabled_status`): refused by name, so a
    /// change the agent meant is neither lost nor sent where it could act unconfirmed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub changed_by: BTreeMap<String, String>,
    /// The `_embedded` key of a HAL list result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_key: Option<String>,
    /// Field name -> TypeScript type of the returned resource (the item, for lists).
    #[serde(default)]
    pub result: BTreeMap<String, String>,
    pub read_only: bool,
    pub destructive: bool,
    /// Gives someone access (a role, a group's membership, an application's scopes, an
    /// MFA device that signs in as a user, an identity provider's settings or a user's
    /// link to one):
    /// an ordinary write, but what an injected instruction aims for, so a person
    /// confirms it as they confirm a destructive action.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub grants_access: bool,
    /// With `grants_access`: the call grants nothing unless the record it acts on (read
    /// with the get action for its path) holds one of these values, so it is asked
    /// about only then: unlocking a user whose `account.status` is not LOCKED, or
    /// locking one that is, changes nothing. A record that cannot be read, or lacks the field, is asked about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants_access_only_if: Option<RecordCondition>,
    /// A delete that removes one field of the record at its path, not the record (an
    /// application's previous secret): when the record holds none, nothing is sent and
    /// the call answers the record as it stands (`unchanged`); the question shows what
    /// the field holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removes_field: Option<String>,
    /// Records that depend on the one a destructive call acts on, counted for the person
    /// confirming it: a group's members lose what the group gave them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependents: Option<Dependents>,
    /// A field no two records may share (a user's username) and how to find a record
    /// holding a value: a dry run foresees PingOne's refusal of a create that repeats one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique: Option<Unique>,
    pub idempotent: bool,
    pub example: serde_json::Value,
    /// Set by the loader: the resource group of the file the action came from.
    #[serde(skip_deserializing, default)]
    pub group: String,
}

/// How to count the records that depend on an action's record: a list action and its
/// filter, `{param}` standing for the call's argument, and what they are ("users in
/// the group").
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Dependents {
    pub list: String,
    pub filter: String,
    pub are: String,
}

impl Dependents {
    /// The filter with the call's arguments in place; none when one is missing.
    pub fn filter_for(&self, args: &serde_json::Value) -> Option<String> {
        filled(&self.filter, args)
    }
}

/// `template` with each `{param}` replaced by that argument; none when one is missing.
/// Only the template's own braces are read: a value holding `{name}` is taken as it is.
fn filled(template: &str, args: &serde_json::Value) -> Option<String> {
    let mut text = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let end = start + rest[start..].find('}')?;
        text.push_str(&rest[..start]);
        text.push_str(args.get(&rest[start + 1..end])?.as_str()?);
        rest = &rest[end + 1..];
    }
    text.push_str(rest);
    Some(text)
}

/// A field unique among the records an action creates, the list action that finds
/// them, and its filter (`{param}` for the call's argument, as in [`Dependents`]), which
/// may match more than the value (`name sw`): what it lists is compared by the field.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Unique {
    pub field: String,
    pub list: String,
    pub filter: String,
}

impl Unique {
    /// The value the call gives the field, and the filter with it in place.
    pub fn lookup(&self, args: &serde_json::Value) -> Option<(String, String)> {
        let value = args.get(&self.field)?.as_str()?.to_owned();
        let quoted = value.replace('\\', "\\\\").replace('"', "\\\"");
        let filter = filled(&self.filter, &serde_json::json!({ self.field.clone(): quoted }))?;
        Some((value, filter))
    }
}

/// A field of a record (a dotted path, `account.status`) and the values it may hold.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecordCondition {
    pub field: String,
    pub values: Vec<serde_json::Value>,
    /// What the field holds once the action has run (an unlock: `OK`), for a
    /// question's old and new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
}

impl RecordCondition {
    /// `account.status "LOCKED" -> "OK"`: what the action changes in `record`, when the
    /// record holds the field and what follows is known.
    pub fn change_in(&self, record: &serde_json::Value) -> Option<String> {
        let old = self.value_in(record)?;
        Some(format!("{} {old} -> {}", self.field, self.after.as_ref()?))
    }

    /// The field's value in `record`, when it holds one (not missing, not null).
    fn value_in<'a>(&self, record: &'a serde_json::Value) -> Option<&'a serde_json::Value> {
        self.field.split('.').try_fold(record, |value, key| value.get(key)).filter(|v| !v.is_null())
    }

    /// The values, as JSON, joined with "or": `"OPENID_CONNECT"`.
    pub fn values_text(&self) -> String {
        self.values.iter().map(serde_json::Value::to_string).collect::<Vec<_>>().join(" or ")
    }

    /// Whether `record` holds one of the values (text in any case).
    pub fn holds(&self, record: &serde_json::Value) -> bool {
        self.value_in(record).is_some() && self.may_hold(record)
    }

    /// Whether `record` may hold one of the values: it does (text in any case), or the
    /// field is missing or null, so nobody can tell.
    pub fn may_hold(&self, record: &serde_json::Value) -> bool {
        let found = self.value_in(record);
        let same = |listed: &serde_json::Value, value: &serde_json::Value| match (listed.as_str(), value.as_str()) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => is_listed(std::slice::from_ref(listed), value),
        };
        found.is_none_or(|value| self.values.iter().any(|listed| same(listed, value)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// Which PingOne host serves the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Host {
    /// The management API, `https://api.pingone.<tld>/v1`.
    Api,
    /// The auth host, `https://auth.pingone.<tld>`.
    Auth,
}

/// The form of a text parameter, checked before a call is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TextFormat {
    /// An email address (RFC 2822's addr-spec, as PingOne reads it): `ana@example.com`.
    Email,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    pub name: String,
    /// Absent only for the `properties` of an object parameter.
    #[serde(rename = "in", default, skip_serializing_if = "Option::is_none")]
    pub location: Option<ParamLocation>,
    #[serde(rename = "type")]
    pub ty: ParamType,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub description: String,
    #[serde(rename = "enum", default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<ParamType>,
    /// The smallest and largest number PingOne accepts (a page's `limit`: 1 to 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<i64>,
    /// The longest text PingOne takes (`maxLength` in its spec), in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// The form a text must have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<TextFormat>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<Param>,
    /// Sent when the caller passes none (query parameters only): e.g. the filter that
    /// keeps list_custom_roles to custom roles. A value the caller passes replaces it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    /// A credential whose name does not say so (set_user_password's `value`): masked
    /// like one in audit lines, cassettes, dry runs and confirmations.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
    /// Changing it can hand access to whoever holds the new value (a user's email and
    /// phones receive recovery and one-time codes; an application's redirect URIs and
    /// client authentication decide who receives its sign-ons; a group's user filter
    /// decides who holds its roles; a user's population decides which administrators
    /// manage them; an application's sign-on policies decide which factors it asks
    /// for): a call that changes it is confirmed by the person like a grant of access.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub grants_access: bool,
    /// Like `grants_access`, for these values only: a WORKER application created
    /// through the API inherits its creator's admin roles, so its client is an admin;
    /// `default: true` makes a population the one new users land in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants_access_if: Vec<serde_json::Value>,
    /// What the value that grants access does, told to the person asked to confirm a
    /// call that gives it (a WORKER application inherits its creator's admin roles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_warning: Option<String>,
    /// What leaving this parameter out does, told to the person asked to confirm a call
    /// that leaves it out (a rotation without `previous`: the old secret stops at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absent_warning: Option<String>,
    /// The value PingOne holds when a record lacks the field, and stores when a full
    /// replace leaves it out (an MFA policy's `newDeviceNotification`: `EMAIL_THEN_SMS`).
    /// Access checks compare with it, so restating it, or leaving the field out, is no
    /// change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absent_means: Option<serde_json::Value>,
    /// A reference whose absence means the environment's default record, the one this
    /// list action returns with `default: true` (a population without a password policy
    /// uses the default policy: `list_password_policies`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absent_means_default_of: Option<String>,
    /// These values make a call destructive (it needs --allow-destructive and is
    /// confirmed), the others an ordinary write: `mfaEnabled: false` turns a user's
    /// MFA off, `true` turns it on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destructive_if: Vec<serde_json::Value>,
    /// Another name a call may give it, the one its neighbours use: add_user_to_group
    /// takes the group as `id` (PingOne's body field) and also as `groupId`, as
    /// remove_user_from_group does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Required only when another argument holds one of some values: an OIDC
    /// application's `tokenEndpointAuthMethod` (`protocol` is OPENID_CONNECT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_when: Option<RecordCondition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamLocation {
    Path,
    Query,
    Body,
    /// A field of a `multipart/form-data` body.
    Form,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    String,
    Integer,
    Number,
    Boolean,
    Object,
    Array,
}

impl ParamType {
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Integer => "integer",
            ParamType::Number => "number",
            ParamType::Boolean => "boolean",
            ParamType::Object => "object",
            ParamType::Array => "array",
        }
    }

    pub fn matches(self, value: &serde_json::Value) -> bool {
        use serde_json::Value;
        match self {
            ParamType::String => value.is_string(),
            ParamType::Integer => value.is_i64() || value.is_u64(),
            ParamType::Number => value.is_number(),
            ParamType::Boolean => value.is_boolean(),
            ParamType::Object => value.is_object(),
            ParamType::Array => matches!(value, Value::Array(_)),
        }
    }
}

impl Action {
    pub fn params_in(&self, location: ParamLocation) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(move |p| p.location == Some(location))
    }

    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The description's first sentence without its full stop, for a search hit or a
    /// declaration: "e.g." and "i.e." do not end one.
    pub fn summary(&self) -> &str {
        let text = self.description.trim();
        let mut from = 0;
        while let Some(at) = text[from..].find(". ") {
            let end = from + at;
            if !(text[..end].ends_with("e.g") || text[..end].ends_with("i.e")) {
                return &text[..end];
            }
            from = end + 2;
        }
        text.trim_end_matches('.')
    }

    /// Whether the action changes anything in PingOne.
    pub fn writes(&self) -> bool {
        !self.read_only
    }

    /// Whether this call, with these arguments, is destructive: the action always is,
    /// or an argument has a value its parameter's `destructive_if` lists.
    pub fn is_destructive_call(&self, args: &serde_json::Value) -> bool {
        self.destructive || self.destructive_args(args).next().is_some()
    }

    /// The arguments whose values make this call destructive (`mfaEnabled: false`),
    /// each with its parameter's name.
    pub fn destructive_args<'a>(&'a self, args: &'a serde_json::Value) -> impl Iterator<Item = (&'a str, &'a serde_json::Value)> + 'a {
        self.given(args).filter(|(p, value)| is_listed(&p.destructive_if, value)).map(|(p, value)| (p.name.as_str(), value))
    }

    /// The call's top-level arguments with a value, each with its parameter. Names
    /// match in any case, as PingOne's attribute names do (`Email` passes through an
    /// open body as `email`).
    fn given<'a>(&'a self, args: &'a serde_json::Value) -> impl Iterator<Item = (&'a Param, &'a serde_json::Value)> + 'a {
        let given = args.as_object().into_iter().flatten().filter(|(_, v)| !v.is_null());
        given.filter_map(move |(key, value)| Some((self.params.iter().find(|p| p.name.eq_ignore_ascii_case(key))?, value)))
    }

    /// Whether a call replaces a whole record, so what it leaves out is cleared: a PUT
    /// to a record (`…/applications/{applicationId}`) or to one the environment has
    /// only one of (`…/mfaSettings`); not a PUT of a record's part (`…/users/{userId}/enabled`).
    pub fn replaces_whole_record(&self) -> bool {
        let singleton = self.path.strip_prefix("/environments/{environmentId}/").is_some_and(|rest| !rest.is_empty() && !rest.contains('/'));
        self.method == Method::Put && (self.path.ends_with('}') || singleton)
    }

    /// Whether every call of it that changes something waits for a person's yes (while
    /// confirmation is on): it is destructive whatever its arguments, or grants access
    /// whatever the record holds.
    pub fn always_confirmed(&self) -> bool {
        self.destructive || (self.grants_access && self.grants_access_only_if.is_none())
    }

    /// Whether some call of it is destructive, for listings and tool hints.
    pub fn may_be_destructive(&self) -> bool {
        self.destructive || self.params.iter().any(|p| !p.destructive_if.is_empty())
    }

    /// When only some values make a call destructive, which: "when mfaEnabled is false".
    pub fn destructive_when(&self) -> Option<String> {
        if self.destructive {
            return None;
        }
        let when: Vec<String> = self
            .params
            .iter()
            .filter(|p| !p.destructive_if.is_empty())
            .map(|p| format!("{} is {}", p.name, p.destructive_if.iter().map(ToString::to_string).collect::<Vec<_>>().join(" or ")))
            .collect();
        (!when.is_empty()).then(|| format!("when {}", when.join(", or ")))
    }

    /// Whether some call of it grants access: the action always does, or a parameter
    /// does when it changes (a user's email) or holds some values.
    pub fn may_grant_access(&self) -> bool {
        self.grants_access || self.params.iter().any(|p| p.grants_access || !p.grants_access_if.is_empty())
    }

    /// What kind of action it is, in a word or two, for listings.
    pub fn kind(&self) -> &'static str {
        if self.may_be_destructive() {
            "destructive"
        } else if self.grants_access {
            "grants access"
        } else if self.read_only {
            "read-only"
        } else {
            "write"
        }
    }

    /// The arguments of this call that grant access when they change a value
    /// (`grants_access` parameters given a value): such a call is asked about
    /// unless the record already holds those values.
    pub fn access_granting_args<'a>(&'a self, args: &'a serde_json::Value) -> impl Iterator<Item = (&'a str, &'a serde_json::Value)> + 'a {
        self.given(args).filter(|(p, value)| p.grants_access || is_listed(&p.grants_access_if, value)).map(|(p, value)| (p.name.as_str(), value))
    }

    /// The `grants_access` body parameters (or those whose `absent_means` value grants
    /// access) a full replace (PUT) leaves out, or sends as
    /// null under any spelling of the name (an open body passes `pkceEnforcement: null`
    /// beside `PkceEnforcement: "S256_REQUIRED"` as written). PingOne then clears them or
    /// puts its default back (a population's password policy, an application's PKCE
    /// rule, a policy's lockout), which changes access as much as a new value does:
    /// such a call is asked about when the record holds a value.
    pub fn access_params_left_out<'a>(&'a self, args: &'a serde_json::Value) -> impl Iterator<Item = &'a str> + 'a {
        let replaces = self.method == Method::Put;
        let sent = move |p: &'a Param| args.as_object().into_iter().flatten().filter(move |(key, _)| p.name.eq_ignore_ascii_case(key)).map(|(_, v)| v);
        self.params
            .iter()
            .filter(move |p| replaces && p.location == Some(ParamLocation::Body))
            .filter(|p| p.grants_access || p.absent_means.as_ref().is_some_and(|v| is_listed(&p.grants_access_if, v)))
            .filter(move |p| sent(p).next().is_none() || sent(p).any(serde_json::Value::is_null))
            .map(|p| p.name.as_str())
    }

    pub fn is_list(&self) -> bool {
        self.list_key.is_some()
    }

    /// The arguments that carry a credential their name does not reveal.
    pub fn secret_params(&self) -> impl Iterator<Item = &str> {
        self.params.iter().filter(|p| p.secret).map(|p| p.name.as_str())
    }

    /// The arguments of a call hidden wherever it is shown, logged or recorded: its
    /// secret parameters, and, for an action that takes one in a closed body, every
    /// argument it does not know, which may be the credential misspelt (`valeu`; it is
    /// refused, but its line is audited; review 47).
    pub fn hidden_args<'a>(&'a self, args: &'a serde_json::Value) -> impl Iterator<Item = &'a str> {
        let misspelt = self.secret_params().next().is_some() && !self.body_open;
        let unknown = args.as_object().into_iter().flatten().map(|(key, _)| key.as_str()).filter(move |key| misspelt && self.param(key).is_none());
        self.secret_params().chain(unknown)
    }
}

/// Whether `value` is one of `listed`: the same value, or the same text in any case (a
/// query parameter's `true` goes out as the text "true", as does `"true"`; `worker`
/// may reach PingOne as `WORKER`).
fn is_listed(listed: &[serde_json::Value], value: &serde_json::Value) -> bool {
    let text = |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    listed.iter().any(|l| l == value || text(l).eq_ignore_ascii_case(&text(value)))
}

#[cfg(test)]
mod tests {
    use super::{Dependents, Unique};
    use serde_json::json;

    /// A value holding a template's own `{param}` is taken as written: read again, it
    /// would be replaced by itself for ever.
    #[test]
    fn a_filter_takes_each_value_as_written() {
        let members = Dependents { list: "list_users".into(), filter: r#"memberOfGroups[id eq "{groupId}"]"#.into(), are: String::new() };
        assert_eq!(members.filter_for(&json!({ "groupId": "{groupId}" })).as_deref(), Some(r#"memberOfGroups[id eq "{groupId}"]"#));
        assert_eq!(members.filter_for(&json!({})), None);
        let names = Unique { field: "name".into(), list: "list_groups".into(), filter: r#"name eq "{name}""#.into() };
        assert_eq!(names.lookup(&json!({ "name": r#"Team "A" {name}"# })), Some((r#"Team "A" {name}"#.to_owned(), r#"name eq "Team \"A\" {name}""#.to_owned())));
    }
}
