//! Certificates: import (multipart/form-data, answered with 202), list, get, delete.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::{new_record, not_allowed, with_self};
use crate::simulator::clock::{iso, now_secs};
use crate::simulator::errors::ApiError;
use crate::simulator::hal;
use crate::simulator::reply::{Outcome, Reply, Req};
use crate::simulator::store::State;

const USAGE_TYPES: [&str; 2] = ["SIGNING", "ENCRYPTION"];

pub(super) fn route(st: &mut State, req: &Req, rest: &[&str]) -> Option<Outcome> {
    let m = req.method.as_str();
    match rest {
        ["certificates"] => Some(match m {
            "GET" => hal::page_all(req, &st.env_url("certificates"), "certificates", st.certificates.iter()),
            "POST" => import(st, req),
            _ => return not_allowed(req),
        }),
        ["certificates", id] => Some(match m {
            "GET" => st.certificates.get(id).cloned().map(Reply::ok).ok_or_else(|| ApiError::not_found("certificate", id)),
            "DELETE" => st.certificates.remove(id).map(|_| Reply::no_content()).ok_or_else(|| ApiError::not_found("certificate", id)),
            _ => return not_allowed(req),
        }),
        _ => None,
    }
}

/// The fields of a `multipart/form-data` body, by name.
fn form_fields(req: &Req) -> Result<Vec<(String, String)>, ApiError> {
    let ct = req.content_type.as_deref().unwrap_or_default();
    if req.media_type().as_deref() != Some("multipart/form-data") {
        return Err(ApiError::unsupported_media_type(Some(ct), &["multipart/form-data"]));
    }
    let boundary = ct
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .map(|b| b.trim_matches('"').to_owned())
        .ok_or_else(|| ApiError::new(400, "INVALID_REQUEST", "the multipart Content-Type has no boundary"))?;
    let text = String::from_utf8_lossy(&req.body);
    let delimiter = format!("--{boundary}");
    let mut fields = Vec::new();
    for part in text.split(delimiter.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n").unwrap_or(part);
        let Some((head, body)) = part.split_once("\r\n\r\n") else { continue };
        let name = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .and_then(|l| l.split(';').find_map(|p| p.trim().strip_prefix("name=").map(|n| n.trim_matches('"').to_owned())));
        if let Some(name) = name {
            fields.push((name, body.strip_suffix("\r\n").unwrap_or(body).to_owned()));
        }
    }
    Ok(fields)
}

fn import(st: &mut State, req: &Req) -> Outcome {
    let fields = form_fields(req)?;
    let field = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let mut missing = Vec::new();
    let file = field("file").filter(|f| !f.trim().is_empty());
    let usage = field("usageType").filter(|u| !u.trim().is_empty());
    if file.is_none() {
        missing.push("file");
    }
    if usage.is_none() {
        missing.push("usageType");
    }
    if !missing.is_empty() {
        return Err(ApiError::required(&missing));
    }
    let (file, usage) = (file.unwrap_or_default(), usage.unwrap_or_default());
    if !USAGE_TYPES.contains(&usage.as_str()) {
        return Err(ApiError::invalid_value("usageType", format!("`usageType` must be SIGNING or ENCRYPTION, got `{usage}`")));
    }
    let der = pem_body(&file).ok_or_else(|| ApiError::invalid_value("file", "the file is not a PEM certificate (-----BEGIN CERTIFICATE----- … base64 … -----END CERTIFICATE-----)"))?;
    let fingerprint: u64 = der.iter().fold(1469598103934665603u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(1099511628211));
    let now = now_secs();
    let mut rec = new_record(st, &Map::new());
    let id = rec["id"].as_str().unwrap_or_default().to_owned();
    rec.insert("name".into(), json!(format!("Imported certificate {:08x}", fingerprint as u32)));
    rec.insert("usageType".into(), json!(usage));
    rec.insert("serialNumber".into(), json!(fingerprint.to_string()));
    rec.insert("subjectDN".into(), json!(format!("CN=imported-{:08x}", fingerprint as u32)));
    rec.insert("issuerDN".into(), json!("CN=Simulated CA"));
    rec.insert("algorithm".into(), json!("RSA"));
    rec.insert("keyLength".into(), json!(2048));
    rec.insert("signatureAlgorithm".into(), json!("SHA256withRSA"));
    rec.insert("startsAt".into(), json!(iso(now)));
    rec.insert("expiresAt".into(), json!(iso(now + 365 * 86_400)));
    rec.insert("status".into(), json!("VALID"));
    rec.insert("default".into(), json!(false));
    let rec = with_self(Value::Object(rec), st.env_url(&format!("certificates/{id}")));
    st.certificates.put(rec.clone());
    Ok(Reply::json(202, rec))
}

/// The DER bytes inside a PEM certificate (or a bare base64 one).
fn pem_body(text: &str) -> Option<Vec<u8>> {
    let inner = match (text.find("-----BEGIN CERTIFICATE-----"), text.find("-----END CERTIFICATE-----")) {
        (Some(b), Some(e)) if b < e => &text[b + 27..e],
        _ => return None,
    };
    let b64: String = inner.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(b64).ok().filter(|d| !d.is_empty())
}
