//! A string that never prints itself: client secrets and access tokens.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The raw value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// The mark that replaces a masked value.
pub const REDACTED: &str = "[redacted]";

/// Whether a JSON field name holds a credential (client secrets, passwords, tokens,
/// private keys), whatever its case.
pub fn is_secret_field(name: &str) -> bool {
    const MARKERS: [&str; 8] = ["secret", "password", "token", "privatekey", "private_key", "apikey", "api_key", "passphrase"];
    // `passwordPolicy` and `tokenEndpointAuthMethod` name settings, not credentials, as
    // does an MFA policy's `oathToken` block (that name only).
    const SETTINGS: [&str; 3] = ["policy", "endpoint", "method"];
    let has = |needle: &str| name.as_bytes().windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle.as_bytes()));
    let setting = SETTINGS.iter().any(|s| has(s)) || name.eq_ignore_ascii_case("oathToken");
    let an_id = name.len() >= 2 && name.as_bytes()[name.len() - 2..].eq_ignore_ascii_case(b"id");
    (MARKERS.iter().any(|m| has(m)) || names_a_password(name)) && !setting && !an_id
}

/// Whether a field name is a password's under some spelling (`passwd`, `pwd`, `pw`,
/// `initial_password`): masked wherever it is shown, and refused where a record would
/// store it in the clear.
pub fn names_a_password(name: &str) -> bool {
    use unicode_normalization::UnicodeNormalization;
    // Accents dropped (`contraseña` is `contrasena`), then letters and digits only.
    let ascii: String = name.nfkd().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
    ["password", "passwd", "passphrase", "pswd", "pwd"].iter().chain(&PASSWORD_ELSEWHERE).any(|m| ascii.contains(m))
        || matches!(ascii.as_str(), "pass" | "pw" | "pword" | "passcode" | "credential" | "credentials" | "cred" | "creds")
        // Every key of every result is asked: an ASCII one (nearly all) is not lowered again.
        || (!name.is_ascii() && {
            let lower = name.to_lowercase();
            PASSWORD_BEYOND_ASCII.iter().any(|m| lower.contains(m))
        })
}

/// "Password" in other languages, as field names write it (review 47: `passwort` was
/// stored as a custom attribute, readable by whoever reads the user): German, Spanish,
/// Catalan, French, Portuguese, Dutch, Italian and Romanian, Polish, Swedish, Finnish,
/// Danish, Norwegian, Czech and Slovak, Hungarian, Turkish, Slovenian, Croatian and
/// Serbian, Estonian.
const PASSWORD_ELSEWHERE: [&str; 18] = [
    "passwort", "kennwort", "contrasena", "contrasenya", "motdepasse", "senha", "wachtwoord", "parola", "haslo", "losenord", "salasana",
    "adgangskode", "passord", "heslo", "jelszo", "sifre", "geslo", "lozinka",
];

/// The same where letters do not fold to ASCII: Polish `hasło`, and Russian,
/// Ukrainian, Greek, Chinese, Japanese, Korean, Arabic, Hebrew.
const PASSWORD_BEYOND_ASCII: [&str; 10] = ["hasło", "пароль", "гасло", "κωδικός", "密码", "密碼", "パスワード", "비밀번호", "كلمة المرور", "סיסמה"];

/// A copy of `value` with every credential masked but its last four characters, so a
/// person can still tell secrets apart (`****a1b2`).
pub fn mask_json(value: &serde_json::Value) -> serde_json::Value {
    let mut copy = value.clone();
    mask_in_place(&mut copy);
    copy
}

/// [`mask_json`] on a value the caller owns, without copying it.
pub fn mask_in_place(value: &mut serde_json::Value) {
    hide_secrets(value, &masked_secret);
}

/// What a credential's value is shown as: its last four characters when it is a long
/// generated one (a client secret, a token), so people can tell them apart; nothing of
/// a password, which a person chose. A value already redacted or masked (a cassette's)
/// stays so.
fn masked_secret(field: &str, secret: &serde_json::Value) -> serde_json::Value {
    let chosen = names_a_password(field);
    let already_masked = |s: &str| s.strip_prefix("****").is_some_and(|tail| tail.chars().count() <= 4);
    match secret {
        serde_json::Value::String(s) if s == REDACTED || already_masked(s) => secret.clone(),
        serde_json::Value::String(s) if is_otpauth(s) => serde_json::Value::String(masked_otpauth(s)),
        serde_json::Value::String(s) if s.chars().count() > 8 && !chosen => {
            let tail: String = s.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
            serde_json::Value::String(format!("****{tail}"))
        }
        _ => serde_json::Value::String("****".into()),
    }
}

/// Whether `value` shows a credential masked (`****a1b2`), for a hint on how to see it.
pub fn shows_masked(value: &serde_json::Value) -> bool {
    let found = std::cell::Cell::new(false);
    hide_secrets(&mut value.clone(), &|_, secret| {
        found.set(found.get() || secret.as_str().is_some_and(|s| s.starts_with("****")));
        secret.clone()
    });
    found.get()
}

/// Serializes as [`mask_json`] of the value would, without copying it (audit lines).
#[derive(Debug, Clone, Copy)]
pub struct Masked<'a>(pub &'a serde_json::Value);

impl serde::Serialize for Masked<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        use serde_json::Value;
        match self.0 {
            Value::Object(map) => {
                let mut out = serializer.serialize_map(Some(map.len()))?;
                for (key, item) in map {
                    if is_hidden(key, item) {
                        out.serialize_entry(key, &masked_secret(key, item))?;
                    } else {
                        out.serialize_entry(key, &Masked(item))?;
                    }
                }
                out.end()
            }
            Value::Array(items) => {
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    out.serialize_element(&Masked(item))?;
                }
                out.end()
            }
            other => other.serialize(serializer),
        }
    }
}

/// A credential in a call's arguments that holds the mask this server shows in place of
/// one (`****a1b2`, `[redacted]`) rather than a credential: a record read and sent back
/// whole would otherwise store the mask over the real secret. Its `key` is the field's
/// name, which decides how its value is masked.
pub type SentMask = crate::json_strings::FoundString;

/// The masks sent back in `value` in place of credentials.
pub fn masks_sent_back(value: &serde_json::Value) -> Vec<SentMask> {
    crate::json_strings::strings_where(value, &|key, text| (is_secret_field(key) || is_otpauth(text)) && is_mask(text))
}

/// The masks `args` sends back that are the very mask this server showed of `record`'s
/// credential at the same place (`record`: the one the call changes, as PingOne holds
/// it), each with that credential.
fn current_masks<'r>(args: &serde_json::Value, record: &'r serde_json::Value) -> Vec<(SentMask, &'r serde_json::Value)> {
    masks_sent_back(args)
        .into_iter()
        .filter_map(|mask| {
            let real = record.pointer(&mask.pointer).filter(|real| real.is_string())?;
            (args.pointer(&mask.pointer) == Some(&masked_secret(&mask.key, real))).then_some((mask, real))
        })
        .collect()
}

/// Puts back the credentials of `record` where `args` sends the very mask this server
/// showed of them, so a record read and sent back keeps its secret, and only where it
/// was. A mask of another value is left, for the caller to refuse.
pub fn restore_masks(args: &mut serde_json::Value, record: &serde_json::Value) {
    for (mask, real) in current_masks(args, record) {
        if let Some(sent) = args.pointer_mut(&mask.pointer) {
            *sent = real.clone();
        }
    }
}

/// Leaves out of a partial update's `args` the top-level credentials that send back the
/// very mask this server showed of `record`'s: a PATCH keeps what it is not sent, so the
/// secret stays without being sent anywhere, whatever else the call changes. A nested
/// one stays for [`restore_masks`]: its object may be replaced whole.
pub fn leave_out_current_masks(args: &mut serde_json::Value, record: &serde_json::Value) {
    for (mask, _) in current_masks(args, record).into_iter().filter(|(m, _)| m.pointer.rfind('/') == Some(0)) {
        if let Some(fields) = args.as_object_mut() {
            fields.remove(&mask.key);
        }
    }
}

/// What [`masked_secret`] and [`redact_json`] write: `****`, `****` and the last four
/// characters, or [`REDACTED`].
fn is_mask(text: &str) -> bool {
    text == REDACTED || text.strip_prefix("****").is_some_and(|tail| tail.chars().count() <= 4) || (is_otpauth(text) && text.contains("****"))
}

/// Whether the field `key` holds a credential whose value must be hidden: by its
/// name, or, whatever its name, an `otpauth://` URI, which carries a TOTP seed
/// (an MFA device's `keyUri`).
fn is_hidden(key: &str, value: &serde_json::Value) -> bool {
    (is_secret_field(key) && !value.is_null() && !value.is_boolean() && !value.is_number()) || value.as_str().is_some_and(is_otpauth)
}

fn is_otpauth(text: &str) -> bool {
    text.get(..10).is_some_and(|scheme| scheme.eq_ignore_ascii_case("otpauth://"))
}

/// An `otpauth://` URI with its seed masked and its label kept, so a person can
/// still tell whose device it is.
fn masked_otpauth(uri: &str) -> String {
    let Some((head, query)) = uri.split_once('?') else { return "otpauth://****".into() };
    let params: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((name, _)) if name.eq_ignore_ascii_case("secret") => format!("{name}=****"),
            _ => p.to_owned(),
        })
        .collect();
    format!("{head}?{}", params.join("&"))
}

/// `args` with the named top-level fields hidden as credentials too, masked
/// ([`Hide::Mask`]) or redacted ([`Hide::Redact`]); borrowed when there are none.
pub fn hide_fields<'a, 'f>(args: &'a serde_json::Value, fields: impl IntoIterator<Item = &'f str>, how: Hide) -> std::borrow::Cow<'a, serde_json::Value> {
    use std::borrow::Cow;
    let mut shown = Cow::Borrowed(args);
    for field in fields {
        if args.get(field).is_some_and(|v| !v.is_null()) {
            let hidden = match how {
                // Arguments a caller sends (a new password, say) are chosen, not generated.
                Hide::Mask => serde_json::Value::String("****".into()),
                Hide::Redact => serde_json::Value::String(REDACTED.into()),
            };
            shown.to_mut()[field] = hidden;
        }
    }
    shown
}

/// How [`hide_fields`] hides a value.
#[derive(Debug, Clone, Copy)]
pub enum Hide {
    /// The last four characters kept, for people to tell values apart.
    Mask,
    /// Nothing kept (cassettes).
    Redact,
}

/// A copy of `value` with every credential replaced by [`REDACTED`] (nothing kept).
pub fn redact_json(value: &serde_json::Value) -> serde_json::Value {
    let mut copy = value.clone();
    hide_secrets(&mut copy, &|_, _| serde_json::Value::String(REDACTED.into()));
    copy
}

/// Replaces, in place, the value of every credential field by `hide(value)`.
fn hide_secrets(value: &mut serde_json::Value, hide: &dyn Fn(&str, &serde_json::Value) -> serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if is_hidden(key, item) {
                    *item = hide(key, item);
                } else {
                    hide_secrets(item, hide);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| hide_secrets(item, hide)),
        _ => {}
    }
}

/// `text` that came back for a request (an error page, a proxy's or a misconfigured
/// endpoint's echo of it) with the credentials the request carried cut out, as sent,
/// JSON-escaped or form-encoded: `sent` is the client secret, the bearer token, a
/// password (review 59 M4: an echoing endpoint put them in the error message). Values
/// shorter than 6 characters are left alone, so an echo is not taken for a word.
pub fn without_echoed(text: &str, sent: &[&str]) -> String {
    let mut text = text.to_owned();
    for credential in sent.iter().filter(|c| c.chars().count() >= 6) {
        let escaped = serde_json::to_string(credential).unwrap_or_default();
        let escaped = escaped.trim_matches('"');
        let encoded: String = url::form_urlencoded::byte_serialize(credential.as_bytes()).collect();
        for form in [*credential, escaped, encoded.as_str()] {
            if text.contains(form) {
                text = text.replace(form, REDACTED);
            }
        }
    }
    text
}

/// The credentials a JSON or form body carries: the string values of its secret fields
/// (by name, or named in `also`: set_user_password's `value`), at any depth.
pub fn credentials_in<'a>(body: &'a serde_json::Value, also: &[&str], found: &mut Vec<&'a str>) {
    match body {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                match value.as_str() {
                    Some(text) if is_secret_field(key) || also.contains(&key.as_str()) => found.push(text),
                    _ => credentials_in(value, also, found),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| credentials_in(item, also, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    /// An echo of the request's credentials is cut out however it was written back.
    #[test]
    fn echoed_credentials_are_cut_out_as_sent_escaped_or_encoded() {
        let secret = "Re4N8~ZpX+Fd/n\"q";
        let echo = format!("bad secret; got client_secret={} and {{\"secret\":{}}} and {secret}; Bearer eyJtoken.abc", url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>(), serde_json::to_string(secret).unwrap());
        let scrubbed = super::without_echoed(&echo, &[secret, "eyJtoken.abc", "pw"]);
        assert_eq!(scrubbed, "bad secret; got client_secret=[redacted] and {\"secret\":\"[redacted]\"} and [redacted]; Bearer [redacted]");
        let body = serde_json::json!({ "value": "Hunter2-Password!", "name": "x", "nested": [{ "clientSecret": "abcdefgh" }] });
        let mut found = vec![];
        super::credentials_in(&body, &["value"], &mut found);
        found.sort_unstable();
        assert_eq!(found, ["Hunter2-Password!", "abcdefgh"]);
    }
    use super::*;

    #[test]
    fn a_mask_sent_back_in_place_of_a_credential_is_found() {
        let read = serde_json::json!({ "name": "Corp IdP", "clientSecret": "9f8e7d6c5b4a39281706", "nested": { "apiKey": "k" }, "note": "****" });
        let paths = |v: &serde_json::Value| masks_sent_back(v).into_iter().map(|m| m.path).collect::<Vec<_>>();
        let mut sent_back = mask_json(&read);
        assert_eq!(paths(&sent_back), ["clientSecret", "nested.apiKey"]);
        assert!(masks_sent_back(&read).is_empty(), "real values and a note that reads **** are not masks of credentials");
        assert_eq!(paths(&redact_json(&read)), ["clientSecret", "nested.apiKey"]);

        let mut rotated = read.clone();
        rotated["clientSecret"] = serde_json::json!("a-newer-secret-0000");
        restore_masks(&mut sent_back, &rotated);
        assert_eq!(paths(&sent_back), ["clientSecret"], "a mask of another secret is not restored");
        restore_masks(&mut sent_back, &read);
        assert_eq!(sent_back, serde_json::json!({ "name": "Corp IdP", "clientSecret": "9f8e7d6c5b4a39281706", "nested": { "apiKey": "k" }, "note": "****" }));
    }

    /// A password under another name, refused before sending, is masked in the audit
    /// line and the cassette all the same (review 23: `passwd` was logged in the clear).
    #[test]
    fn a_password_under_another_name_is_masked() {
        let args = serde_json::json!({ "username": "nh1", "passwd": "Initial-Secret-1", "pw": "Initial-2", "temp_password": "Initial-3", "pwdLastSet": "x", "passwordPolicy": { "id": "p1" } });
        let masked = mask_json(&args);
        for key in ["passwd", "pw", "temp_password", "pwdLastSet"] {
            assert_eq!(masked[key], "****", "{key}: {masked}");
        }
        assert_eq!((masked["username"].as_str(), masked["passwordPolicy"]["id"].as_str()), (Some("nh1"), Some("p1")));
        assert!(!serde_json::to_string(&Masked(&args)).unwrap().contains("Initial-"));
        assert!(!redact_json(&args).to_string().contains("Initial-"));
        // In other languages too (review 47: `passwort` was stored and logged as is).
        let foreign = serde_json::json!({ "passwort": "Initial-4", "contraseña": "Initial-5", "mot_de_passe": "Initial-6", "hasło": "Initial-7", "пароль": "Initial-8", "displayName": "Passant" });
        let masked = mask_json(&foreign);
        assert!(!masked.to_string().contains("Initial-") && masked["displayName"] == "Passant", "{masked}");
        // A credential by that name, not its id (review 47).
        let named = serde_json::json!({ "credential": "Initial-9", "Credentials": "Initial-10", "credentialId": "c1", "credentialType": "TOTP" });
        let masked = mask_json(&named);
        assert!(!masked.to_string().contains("Initial-") && masked["credentialId"] == "c1" && masked["credentialType"] == "TOTP", "{masked}");
    }

    #[test]
    fn credentials_are_masked_and_settings_kept() {
        let value = serde_json::json!({
            "secret": "abc", "previous": { "secret": "old", "expiresAt": "2026" },
            "users": [{ "password": { "value": "x" }, "passwordPolicy": { "id": "p" } }],
            "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC", "forceChange": true, "clientSecret": "s"
        });
        let masked = redact_json(&value);
        assert_eq!(masked["secret"], REDACTED);
        assert_eq!(masked["previous"]["secret"], REDACTED);
        assert_eq!(masked["previous"]["expiresAt"], "2026");
        assert_eq!(masked["users"][0]["password"], REDACTED);
        assert_eq!(masked["users"][0]["passwordPolicy"]["id"], "p");
        assert_eq!(masked["tokenEndpointAuthMethod"], "CLIENT_SECRET_BASIC");
        assert_eq!(masked["forceChange"], true);
        assert_eq!(masked["clientSecret"], REDACTED);
        let shown = mask_json(&serde_json::json!({ "secret": "abcdefghijklmnop1234", "password": "short", "newPassword": "Winter2026-Pass!", "token": REDACTED }));
        assert_eq!(shown, serde_json::json!({ "secret": "****1234", "password": "****", "newPassword": "****", "token": REDACTED }));
    }

    #[test]
    fn a_totp_seed_is_hidden_under_any_name() {
        let device = serde_json::json!({ "type": "TOTP", "keyUri": "otpauth://totp/PingOne:ann?secret=OMTBBGXVNIHYEUKHW4W2&issuer=PingOne", "note": "OTPAUTH://totp/x?Secret=ABCDEF" });
        let shown = mask_json(&device);
        assert_eq!(shown["keyUri"], "otpauth://totp/PingOne:ann?secret=****&issuer=PingOne");
        assert_eq!(shown["note"], "OTPAUTH://totp/x?Secret=****");
        assert_eq!(redact_json(&device)["keyUri"], REDACTED);
        assert!(!serde_json::to_string(&Masked(&device)).unwrap().contains("OMTBBG"));
    }

    #[test]
    fn masked_serializes_like_a_masked_copy() {
        let value = serde_json::json!({
            "clientSecret": "abcdefghijklmnop1234", "nested": [{ "password": { "value": "x" } }, 3, null],
            "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC", "apiKey": 12, "name": "n"
        });
        assert_eq!(serde_json::to_string(&Masked(&value)).unwrap(), serde_json::to_string(&mask_json(&value)).unwrap());
        assert!(!serde_json::to_string(&Masked(&value)).unwrap().contains("abcdefghijklmnop"));
    }

    #[test]
    fn never_prints_its_value() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s}"), "****");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2-very-secret");
    }
}
