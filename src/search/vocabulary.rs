//! Identity-admin vocabulary: the words administrators use for what PingOne names
//! differently ("2FA", "team", "segment", "federation", "admin rights"), mapped to the
//! catalog's own terms, plus the verbs that say which operation a need asks for.
//!
//! Each entry is `(phrase, expansion)`. A phrase is one or more words, matched on
//! stemmed words in order; the expansion's words are added to the query. A word
//! `@create`, `@update`, `@delete`, `@read` (or `@get`, a read of one, or `@count`) in an expansion is an operation signal
//! rather than a term (see `intent.rs`).

use super::tokens::{stem, tokens, words};

/// Phrases are matched longest first, so "second factor" wins over "factor".
pub const VOCABULARY: &[(&str, &str)] = &[
    // Operations.
    ("create", "@create"),
    ("make a", "@create"),
    ("make an", "@create"),
    ("new", "@create"),
    ("add", "@create"),
    ("register", "@create"),
    ("set up", "@create"),
    ("setup", "@create"),
    ("onboard", "@create user"),
    ("define", "@create"),
    ("enroll", "@create pair"),
    ("enrol", "@create pair"),
    ("upload", "@create import"),
    ("install", "@create import"),
    ("import", "@create"),
    ("grant", "@create"),
    ("give", "@create"),
    ("assign", "@create assignment"),
    ("attach", "@create assignment"),
    ("apply", "@create assignment"),
    ("put", "@create"),
    ("nest", "@create nested"),
    ("pair", "@create"),
    ("provision", "@create"),
    ("start", "@create"),
    ("issue", "@create"),
    ("generate", "@create"),
    ("invite", "@create user"),
    ("promote", "@create role assignment"),
    ("elevate", "@create role assignment"),
    ("change", "@update"),
    ("update", "@update"),
    ("rename", "@update name nickname"),
    ("modify", "@update"),
    ("edit", "@update"),
    ("set", "@update"),
    ("fix", "@update"),
    ("swap", "@update"),
    ("replace", "@update"),
    ("reset", "@update set"),
    ("force", "@update"),
    ("move", "@update"),
    ("transfer", "@update move"),
    ("reassign", "@update move"),
    ("link", "@update"),
    ("label", "@update nickname"),
    ("mark", "@update"),
    ("allow", "@update"),
    ("send", "@update"),
    ("turn * off", "@update enabled status"),
    ("turn * on", "@update enabled status"),
    ("switch * off", "@update enabled status"),
    ("switch * on", "@update enabled status"),
    ("disable", "@update enabled status"),
    ("enable", "@update enabled status"),
    ("deactivate", "@update enabled status"),
    ("reactivate", "@update enabled status"),
    ("activate", "@update enabled status"),
    ("suspend", "@update enabled status"),
    ("block", "@update enabled status"),
    ("unblock", "@update enabled status"),
    // An account lock (a lockout after failed sign-ons, or one set by an admin) is
    // its own state, with its own actions; disabling is the other way to stop sign-on.
    // "Locked out", nothing between, is the state (asked about), before "lock X out",
    // the act, whose stems it shares.
    ("locked out", "enabled status account"),
    ("lock * out", "@update lock"),
    // Ending a user's sessions signs them out.
    ("sign * out", "@delete session"),
    ("log * out", "@delete session"),
    ("sign off", "@delete session"),
    ("logged in from", "session"),
    ("signing in from", "session"),
    ("lock down", "@update lock"),
    ("activate * device", "@update activate mfa device"),
    ("activate * authenticator", "@update activate mfa device"),
    ("shut * off", "@update enabled status"),
    ("make * default", "@update default"),
    ("set * default", "@update default"),
    ("make * member", "@create member"),
    ("make * admin", "@create role assignment"),
    ("make * subgroup", "@create nested"),
    ("unlock", "@update unlock"),
    ("reinstate", "@update enabled status"),
    ("freeze", "@update enabled status"),
    ("ban", "@update enabled status"),
    ("delete", "@delete"),
    ("demote", "@delete role assignment"),
    ("deprovision", "@delete user"),
    // Offboarding starts by stopping sign-on; deleting the user comes later, if at all.
    ("offboard", "user enabled status"),
    ("left the company", "@update user enabled status"),
    ("cut off", "@update enabled status"),
    ("stop * signing in", "@update enabled status"),
    ("terminate", "@delete"),
    ("remove", "@delete"),
    ("get rid", "@delete"),
    ("drop", "@delete"),
    ("erase", "@delete"),
    ("erasure", "@delete user"),
    ("wipe", "@delete"),
    ("purge", "@delete"),
    // A person's data removed at their request (GDPR's right to erasure) is the user
    // deleted; "GDPR" alone names a person's data, not what to do with it (an export).
    ("gdpr", "user"),
    ("right to be forgotten", "@delete user"),
    ("for good", "@delete"),
    ("decommission", "@delete"),
    ("kick", "@delete remove"),
    ("take * out", "@delete remove"),
    ("take * away", "@delete remove"),
    ("take * off", "@delete remove"),
    ("pull * out", "@delete remove"),
    ("pull * off", "@delete remove"),
    ("strip", "@delete"),
    ("unassign", "@delete assignment"),
    ("unlink", "@delete"),
    ("kick * out", "@delete remove"),
    ("revoke", "@delete"),
    ("detach", "@delete assignment"),
    ("unregister", "@delete"),
    ("retire", "@delete previous"),
    ("invalidate", "@delete"),
    ("expire", "@delete"),
    // A password expired is one its user must change at the next sign-on.
    ("expire * password", "@update force password change"),
    ("un nest", "@delete nested remove"),
    ("unnest", "@delete nested remove"),
    ("stop", "@delete"),
    ("stop requiring", "@update"),
    ("stop allowing", "@update"),
    ("how many", "@count"),
    ("count", "@count"),
    ("how much", "@get"),
    ("no longer", "@delete"),
    ("show", "@read"),
    ("list", "@read"),
    ("find", "@read"),
    ("search", "@read"),
    ("look up", "@read"),
    ("look at", "@read"),
    ("lookup", "@read"),
    ("fetch", "@read"),
    ("view", "@read"),
    ("see", "@read"),
    ("display", "@read"),
    ("detail", "@read"),
    ("inspect", "@read"),
    ("audit", "@read"),
    ("check", "@read"),
    ("reveal", "@read"),
    ("copy", "@read"),
    ("copy * into", "@create attribute mapping"),
    ("stop copying", "@delete attribute mapping"),
    ("read", "@read"),
    // People, groups, segments.
    ("person", "user"),
    ("people", "user"),
    ("employee", "user"),
    ("account", "user"),
    ("everyone", "user"),
    ("directory", "user"),
    ("hire", "user"),
    ("leaver", "user"),
    ("profile", "user"),
    ("surname", "name family"),
    ("last name", "name family"),
    ("first name", "name given"),
    ("display name", "name formatted"),
    ("job title", "title"),
    ("phone number", "mobilePhone"),
    ("team", "group"),
    ("subgroup", "nested group"),
    ("parent", "nested group"),
    ("child", "nested group"),
    ("inside", "nested"),
    ("under", "nested"),
    ("member", "group"),
    ("member of", "group membership"),
    // A group's members are users, listed with a memberOfGroups filter.
    ("group member", "=list users"),
    ("list member of", "=list users"),
    ("list member", "=list users"),
    ("who is in", "=list users"),
    ("belong", "membership"),
    ("membership", "group"),
    ("segment", "population"),
    ("security group", "group"),
    ("distribution list", "group"),
    // Sign-in state.
    ("sign in", "sign on"),
    ("signin", "sign on"),
    ("log in", "sign on"),
    ("logging in", "sign on"),
    ("login", "sign on"),
    ("logon", "sign on"),
    ("active", "enabled status"),
    ("inactive", "enabled status"),
    ("switched off", "enabled"),
    ("switched on", "enabled"),
    ("turned on", "enabled"),
    ("turned off", "enabled"),
    // MFA.
    ("mfa", "mfa"),
    // Resetting a user's MFA is removing their devices so they enrol again, not turning
    // MFA off (review 38).
    ("reset * mfa", "@delete mfa device"),
    ("reset * 2fa", "@delete mfa device"),
    ("mfa on", "mfa enabled"),
    ("2fa on", "mfa enabled"),
    ("mfa off", "mfa enabled"),
    ("2fa off", "mfa enabled"),
    ("2fa", "mfa"),
    ("two factor", "mfa"),
    ("multi factor", "mfa"),
    ("multifactor", "mfa"),
    ("second factor", "mfa device"),
    ("two step", "mfa"),
    ("2 step", "mfa"),
    ("otp", "mfa"),
    ("passcode", "otp mfa device"),
    ("digit code", "otp activate mfa device"),
    ("authenticator", "mfa device"),
    ("yubikey", "mfa device fido2"),
    ("security key", "mfa device fido2"),
    // FIDO2 policies and the environment's MFA settings (review 49).
    ("passkey", "fido2"),
    // A FIDO2 authenticator's check of its user (a PIN, a fingerprint), not identity verification.
    ("user verification", "fido2"),
    ("synced", "backup eligibility"),
    ("metadata service", "mds authenticators requirements"),
    ("pair up to", "pairing max allowed devices mfa settings"),
    ("devices per user", "pairing max allowed devices mfa settings"),
    ("mfa lockout", "mfa settings lockout"),
    // Locking people out of MFA after failed attempts is the environment's MFA lockout,
    // not locking an account (review 50).
    ("lock * out of mfa", "=mfa settings lockout @update"),
    ("failed mfa attempts", "mfa settings lockout"),
    ("mfa policy", "device authentication policy"),
    ("mfa method", "device authentication policy"),
    ("mfa setting", "device authentication policy"),
    ("verification", "verify status"),
    ("verified", "verify status"),
    ("verify", "verify status"),
    ("identity verification", "=verify status"),
    ("id verification", "=verify status"),
    ("identity proof", "=verify status"),
    // Roles.
    ("environment admin", "=role"),
    ("identity data admin", "=role"),
    // "Identity Data Read Only" is a role too, not an identity provider.
    ("identity data", "=role"),
    ("configuration read only", "=role"),
    // The same role as people say it (review 27).
    ("read only access * configuration", "=role assignment"),
    ("application owner", "=role"),
    ("organization admin", "=role"),
    ("org admin", "=role"),
    ("user admin", "=role"),
    ("client application developer", "=role"),
    ("admin", "role"),
    ("admin right", "role assignment"),
    ("admin role", "role assignment"),
    ("admin permission", "role assignment"),
    ("right", "role"),
    ("permission", "role"),
    ("privilege", "role"),
    ("built in", "system"),
    ("predefined", "system"),
    ("out of the box", "system"),
    ("standard", "system"),
    ("stock", "system"),
    ("our own", "custom"),
    ("ourselves", "custom"),
    ("homegrown", "custom"),
    ("bespoke", "custom"),
    ("tailor made", "custom"),
    // Applications.
    ("app", "application"),
    ("sso app", "application"),
    ("client", "application"),
    ("bot", "application"),
    ("machine", "application worker"),
    ("m2m", "application worker"),
    ("automation", "application worker"),
    ("daemon", "application worker"),
    ("api client", "application"),
    ("worker", "application"),
    ("integration", "application"),
    ("connector", "application"),
    ("portal", "application"),
    ("spa", "application"),
    ("service provider", "application"),
    ("credential", "secret"),
    ("rotate", "@create generate secret"),
    ("roll", "@create generate secret"),
    ("regenerate", "@create generate secret"),
    ("fresh", "generate"),
    ("old secret", "previous"),
    ("rotated out", "previous"),
    ("claim", "attribute mapping"),
    ("mapping", "attribute"),
    ("config", "configuration"),
    ("setting", "configuration"),
    ("saml attribute", "attribute mapping"),
    ("attribute statement", "attribute mapping"),
    ("scope", "grant resource"),
    ("api access", "grant resource"),
    ("api resource", "grant"),
    ("authorize", "@create grant"),
    ("let * call", "@create grant resource"),
    ("let * read", "@create grant resource"),
    ("let * access", "@create grant resource"),
    ("let * use", "@create grant resource"),
    ("priority", "assignment"),
    ("attachment", "assignment"),
    ("role grant", "role assignment"),
    ("map", "@create attribute mapping"),
    ("order", "priority assignment"),
    ("first place", "priority assignment"),
    ("evaluation order", "priority assignment"),
    ("precedence", "priority assignment"),
    ("api", "grant resource"),
    ("oidc", "application"),
    ("redirect uri", "application"),
    // Adding a value to a record that exists is its update ("add a redirect URI to the
    // portal"); "to" tells it from a new record that has one ("add an app with a
    // redirect URI"). A claim or a step added to something is a record of its own.
    ("add * redirect uri to", "@update application"),
    ("add * callback url to", "@update application redirect uri"),
    ("add * grant type to", "@update application"),
    // Said with no record named, these are still values added to an application, which
    // nobody creates to hold one (review 38).
    ("add a redirect uri", "@update application"),
    ("add redirect uri", "@update application"),
    // Review 57: "set PKCE required on the SPA", "add a post logout redirect URI" were
    // told no action fits.
    ("pkce", "application"),
    ("post logout redirect uri", "application"),
    ("add a post logout redirect uri", "@update application"),
    ("add post logout redirect uri", "@update application"),
    ("require pkce", "@update application"),
    ("set pkce", "@update application"),
    ("logout url", "application"),
    ("signoff url", "application"),
    ("acs url", "application"),
    ("add a logout url", "@update application"),
    ("add an acs url", "@update application"),
    ("add * scope to", "@update scope"),
    // Policies.
    ("login policy", "sign on policy"),
    ("login flow", "sign on policy"),
    ("authentication policy", "sign on policy"),
    ("authentication flow", "sign on policy"),
    ("step up policy", "sign on policy"),
    ("passwordless policy", "sign on policy"),
    // A sign-on policy's steps are what PingOne calls its actions; step-up is a kind of
    // policy, and a numbered step is one of a procedure's.
    ("step", "sign on policy action"),
    ("step up", "=sign on policy"),
    ("step one", "="),
    ("first step", "="),
    ("next step", "="),
    ("rule", "policy"),
    // People registering their own accounts is a sign-on step's registration.
    ("register themselves", "sign on policy action registration"),
    ("self registration", "sign on policy action registration"),
    ("self service registration", "sign on policy action registration"),
    ("complexity", "password policy"),
    ("password requirement", "password policy"),
    ("password strength", "password policy complexity"),
    ("expiry", "password policy age"),
    ("make * expire", "@update policy age"),
    // One-time passcodes expire by the MFA policy's rule (review 27).
    ("code * expire", "@update device authentication policy otp lifetime"),
    ("passcode * expire", "@update device authentication policy otp lifetime"),
    ("lockout threshold", "password policy lockout"),
    ("char", "characters length"),
    // How long passwords must be is a policy's rule, not one user's password.
    ("character", "policy length"),
    ("password expired", "password metadata status"),
    ("password lock", "password metadata status"),
    ("password status", "password metadata"),
    ("last change", "password metadata"),
    ("temporary", "set password"),
    ("new password", "set password"),
    // A change the user makes at their next sign-on, not one the admin sets.
    ("next login", "force change password"),
    ("next logon", "force change password"),
    ("next sign on", "force change password"),
    ("next sign in", "force change password"),
    ("next signin", "force change password"),
    ("must change", "force change password"),
    // Federation.
    ("idp", "identity provider"),
    ("federation", "identity provider"),
    ("federated", "identity provider"),
    ("external login", "identity provider"),
    ("social login", "identity provider"),
    ("login provider", "identity provider"),
    ("login source", "identity provider"),
    ("okta", "identity provider"),
    ("azure", "identity provider"),
    ("adfs", "identity provider"),
    ("google", "identity provider"),
    ("facebook", "identity provider"),
    ("apple", "identity provider"),
    ("github", "identity provider"),
    ("social", "identity provider"),
    ("entra", "identity provider"),
    ("azure ad", "=identity provider"),
    ("entra id", "=identity provider"),
    ("active directory", "=identity provider"),
    ("jit", "identity provider provisioning"),
    ("identity proofing", "verify status"),
    ("kyc", "verify status"),
    ("sign in through", "identity provider"),
    ("sign in with", "identity provider"),
    // Certificates, activity, the current user.
    ("cert", "certificate"),
    ("x 509", "certificate"),
    ("pem", "certificate"),
    ("statistic", "activities"),
    ("stat", "activities"),
    ("activity", "activities"),
    ("recently", "activities"),
    ("recent", "activities"),
    ("audit log", "activities"),
    ("audit trail", "activities"),
    ("login history", "activities"),
    ("sign in history", "activities"),
    ("failed login", "activities"),
    ("userinfo", "current user info"),
    ("who am i", "current user info @read"),
    ("my token", "current user info"),
    ("my access token", "current user info"),
    ("signed in as", "current user info"),
    ("token owner", "current user info"),
];

/// Most words a `*` in a phrase stands for.
const GAP: usize = 6;

/// The positions of `phrase` in `stems` starting at `start`, if it is there and unused.
fn find_at(stems: &[String], used: &[bool], phrase: &[String], start: usize) -> Option<Vec<usize>> {
    let end = start + phrase.len();
    let fits = !phrase.is_empty() && end <= stems.len() && stems[start..end] == *phrase && !used[start..end].iter().any(|u| *u);
    fits.then(|| (start..end).collect())
}

/// The vocabulary compiled for matching: stemmed phrase words and expansion terms.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    phrase: Vec<String>,
    terms: Vec<String>,
    signals: Vec<String>,
    replaces: bool,
}

/// One phrase found in a query.
#[derive(Debug, Clone)]
pub struct Match {
    /// Index of the first word of the phrase, and of every word it matched.
    pub start: usize,
    pub positions: Vec<usize>,
    /// Terms to add, in catalog stems.
    pub terms: Vec<String>,
    /// Operation signals: `create`, `update`, `delete` or `read`.
    pub signals: Vec<String>,
    /// Whether the phrase's own words stop counting as terms (a role name such as
    /// "Identity Data Admin" says nothing about identity providers).
    pub replaces: bool,
}

impl Vocabulary {
    pub fn builtin() -> Self {
        let mut entries: Vec<Entry> = VOCABULARY
            .iter()
            .map(|(phrase, expansion)| {
                let phrase = phrase.split_whitespace().flat_map(|p| if p == "*" { vec!["*".to_owned()] } else { words(p).iter().map(|w| stem(&w.text)).collect() }).collect();
                let replaces = expansion.starts_with('=');
                let expansion = expansion.trim_start_matches('=');
                let (signals, plain): (Vec<&str>, Vec<&str>) = expansion.split_whitespace().partition(|w| w.starts_with('@'));
                Entry {
                    phrase,
                    terms: tokens(&plain.join(" ")),
                    signals: signals.iter().map(|s| s.trim_start_matches('@').to_owned()).collect(),
                    replaces,
                }
            })
            .collect();
        // Longest first; the sort is stable, so earlier entries win among equals.
        entries.sort_by_key(|e| std::cmp::Reverse(e.phrase.iter().filter(|w| *w != "*").count()));
        Self { entries }
    }

    /// The phrases in the stemmed query words, in query order; a word used by a
    /// longer phrase is not matched again by a shorter one. A `*` in a phrase stands
    /// for up to `GAP` words ("take * out" matches "take the QA group out").
    pub fn matches(&self, stems: &[String]) -> Vec<Match> {
        let mut used = vec![false; stems.len()];
        let mut found = Vec::new();
        for entry in &self.entries {
            let gap = entry.phrase.iter().position(|w| w == "*");
            let (head, tail) = match gap {
                Some(g) => (&entry.phrase[..g], &entry.phrase[g + 1..]),
                None => (&entry.phrase[..], &entry.phrase[..0]),
            };
            for start in 0..stems.len() {
                let Some(mut positions) = find_at(stems, &used, head, start) else { continue };
                if gap.is_some() {
                    let from = start + head.len();
                    let Some(rest) = (from..=(from + GAP).min(stems.len())).find_map(|at| find_at(stems, &used, tail, at)) else {
                        continue;
                    };
                    positions.extend(rest);
                }
                positions.iter().for_each(|&p| used[p] = true);
                found.push(Match {
                    start,
                    positions,
                    terms: entry.terms.clone(),
                    signals: entry.signals.clone(),
                    replaces: entry.replaces,
                });
            }
        }
        found.sort_by_key(|m| m.start);
        found
    }
}
