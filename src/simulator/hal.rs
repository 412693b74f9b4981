//! HAL collection pages: `{_links:{self, next?}, _embedded:{<key>:[…]}, count, size}`,
//! with an opaque `cursor` in the next link and `limit` for the page size.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{json, Value};

use super::errors::ApiError;
use crate::scim_filter::Filter;
use super::reply::{Outcome, Reply, Req};

/// The page size when no `limit` is given.
pub const DEFAULT_LIMIT: usize = 100;
/// PingOne never returns more than about 200 records in one page, whatever `limit` says.
pub const MAX_PAGE: usize = 200;

/// The request's `filter`, parsed; a bad one is INVALID_FILTER naming the problem.
pub fn parse_filter(req: &Req) -> Result<Option<Filter>, ApiError> {
    match req.q("filter").map(str::trim).filter(|f| !f.is_empty()) {
        None => Ok(None),
        Some(text) => Filter::parse(text).map(Some).map_err(|e| ApiError::invalid_filter(format!("{} (at character {})", e.message, e.position))),
    }
}

/// Records of `all` that pass the request's filter.
pub fn filtered<'a>(req: &Req, all: impl Iterator<Item = &'a Value>) -> Result<Vec<&'a Value>, ApiError> {
    let filter = parse_filter(req)?;
    Ok(match filter {
        Some(f) => all.filter(|v| f.matches(v)).collect(),
        None => all.collect(),
    })
}

/// What a list's filter may compare, as PingOne documents it: each attribute with the
/// operators it takes. A filter outside them is refused, as PingOne refuses it, rather
/// than matching nothing (a misspelt attribute) or matching where PingOne would not.
pub struct FilterRules {
    /// The collection, for the message: "populations".
    pub collection: &'static str,
    pub attributes: &'static [(&'static str, &'static [&'static str])],
}

impl FilterRules {
    pub fn check(&self, filter: &Filter) -> Result<(), ApiError> {
        for comparison in filter.comparisons() {
            let rule = self.attributes.iter().find(|(name, _)| name.eq_ignore_ascii_case(&comparison.path));
            if rule.is_some_and(|(_, ops)| ops.contains(&comparison.op)) {
                continue;
            }
            let problem = match rule {
                Some(_) => format!("`{} {}` cannot be used in a {} filter", comparison.path, comparison.op, self.collection),
                None => format!("the attribute `{}` cannot be used in a {} filter", comparison.path, self.collection),
            };
            let allowed: Vec<String> = self.attributes.iter().map(|(name, ops)| format!("{name} ({})", ops.join(", "))).collect();
            return Err(ApiError::invalid_filter(format!("{problem}; PingOne filters {} on {} only", self.collection, allowed.join(", "))));
        }
        Ok(())
    }
}

/// [`filtered`], refusing a filter outside `rules`.
pub fn filtered_by<'a>(req: &Req, all: impl Iterator<Item = &'a Value>, rules: &FilterRules) -> Result<Vec<&'a Value>, ApiError> {
    if let Some(filter) = parse_filter(req)? {
        rules.check(&filter)?;
    }
    filtered(req, all)
}

pub fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

fn decode_cursor(text: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()?;
    String::from_utf8(bytes).ok()?.strip_prefix("o:")?.parse().ok()
}

/// One page of `matched` (already filtered), each record shown through `view`.
/// `url` is the collection's absolute URL without a query.
pub fn page<'a, T: Serialize>(req: &Req, url: &str, key: &str, matched: &[&'a Value], view: impl Fn(&'a Value) -> T) -> Outcome {
    page_of(req, url, key, matched.iter().copied(), view)
}

/// [`page`] over records as they come, so a whole table need not be collected first.
/// Only the page's records are viewed, and the page is serialized straight from the
/// views, which may borrow the records (see [`WithSelf`]) instead of copying them.
pub fn page_of<'a, T: Serialize>(req: &Req, url: &str, key: &str, matched: impl ExactSizeIterator<Item = &'a Value>, view: impl Fn(&'a Value) -> T) -> Outcome {
    let limit = req.limit()?;
    let offset = match req.q("cursor") {
        None => 0,
        Some(c) => decode_cursor(c).ok_or_else(|| ApiError::invalid_value("cursor", format!("`cursor` `{c}` is not a cursor this API issued")))?,
    };
    let count = matched.len();
    let size = limit.unwrap_or(DEFAULT_LIMIT).min(MAX_PAGE);
    let end = (offset + size).min(count);
    let items: Vec<T> = matched.skip(offset).take(end.saturating_sub(offset)).map(view).collect();
    let link = |cursor: Option<String>| {
        let mut u = url::Url::parse(url).expect("the simulator's own URLs parse");
        {
            let mut q = u.query_pairs_mut();
            for (k, v) in &req.query {
                if k != "cursor" {
                    q.append_pair(k, v);
                }
            }
            if let Some(c) = cursor {
                q.append_pair("cursor", &c);
            }
        }
        if u.query() == Some("") {
            u.set_query(None);
        }
        u.to_string()
    };
    let mut links = json!({ "self": { "href": link(req.q("cursor").map(str::to_owned)) } });
    if end < count {
        links["next"] = json!({ "href": link(Some(encode_cursor(end))) });
    }
    let body = PageBody { embedded: Embedded { key, items: &items }, links, count, size: items.len() };
    let bytes = serde_json::to_vec(&body).map_err(|e| ApiError::unexpected(500).with_detail("UNEXPECTED_ERROR", None, format!("cannot serialize the page: {e}")))?;
    Ok(Reply::hal(bytes))
}

/// `{_embedded: {<key>: [...]}, _links, count, size}`, keys in the order a JSON object
/// of the simulator's would have them.
#[derive(Serialize)]
struct PageBody<'a, T> {
    #[serde(rename = "_embedded")]
    embedded: Embedded<'a, T>,
    #[serde(rename = "_links")]
    links: Value,
    count: usize,
    size: usize,
}

struct Embedded<'a, T> {
    key: &'a str,
    items: &'a [T],
}

impl<T: Serialize> Serialize for Embedded<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.key, self.items)?;
        map.end()
    }
}

/// A stored record shown with its `_links.self`, without copying it: what
/// `routes::with_self(record.clone(), href)` would give.
pub struct WithSelf<'a> {
    pub record: &'a Value,
    pub href: String,
}

impl Serialize for WithSelf<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Some(object) = self.record.as_object() else {
            return self.record.serialize(serializer);
        };
        let mut map = serializer.serialize_map(None)?;
        // First, as PingOne writes it.
        map.serialize_entry("_links", &json!({ "self": { "href": self.href } }))?;
        for (k, v) in object.iter().filter(|(k, _)| *k != "_links") {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// A whole (small) collection as one page, unfiltered.
pub fn page_all<'a>(req: &Req, url: &str, key: &str, all: impl Iterator<Item = &'a Value>) -> Outcome {
    let matched = filtered(req, all)?;
    page(req, url, key, &matched, |v| v)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn with_self_serializes_like_a_copy_with_links() {
        for record in [
            json!({ "id": "u1", "Zeta": 1, "account": { "status": "OK" }, "username": "ann" }),
            json!({ "id": "u2", "_links": { "old": {} }, "name": "x" }),
            json!({ "A": 1, "B": 2 }),
            json!({}),
        ] {
            let shown = super::WithSelf { record: &record, href: "http://h/users/u1".into() };
            let copied = crate::simulator::routes::with_self(record.clone(), "http://h/users/u1".into());
            assert_eq!(serde_json::to_string(&shown).unwrap(), serde_json::to_string(&copied).unwrap());
        }
    }

    #[test]
    fn cursor_round_trips() {
        assert_eq!(super::decode_cursor(&super::encode_cursor(400)), Some(400));
        assert_eq!(super::decode_cursor("garbage!"), None);
    }
}
