//! HAL collection pages: `{_links:{self, next?}, _embedded:{<key>:[…]}, count, size}`,
//! with an opaque `cursor` in the next link and `limit` for the page size.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::errors::ApiError;
use super::filter::Filter;
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

pub fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

fn decode_cursor(text: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()?;
    String::from_utf8(bytes).ok()?.strip_prefix("o:")?.parse().ok()
}

/// One page of `matched` (already filtered), each record shown through `view`.
/// `url` is the collection's absolute URL without a query.
pub fn page(req: &Req, url: &str, key: &str, matched: &[&Value], view: impl Fn(&Value) -> Value) -> Outcome {
    let limit = req.limit()?;
    let offset = match req.q("cursor") {
        None => 0,
        Some(c) => decode_cursor(c).ok_or_else(|| ApiError::invalid_value("cursor", format!("`cursor` `{c}` is not a cursor this API issued")))?,
    };
    let size = limit.unwrap_or(DEFAULT_LIMIT).min(MAX_PAGE);
    let end = (offset + size).min(matched.len());
    let items: Vec<Value> = matched.get(offset.min(end)..end).unwrap_or_default().iter().map(|v| view(v)).collect();
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
    if end < matched.len() {
        links["next"] = json!({ "href": link(Some(encode_cursor(end))) });
    }
    let size = items.len();
    Ok(Reply::ok(json!({
        "_links": links,
        "_embedded": { key: items },
        "count": matched.len(),
        "size": size,
    })))
}

/// A whole (small) collection as one page, unfiltered.
pub fn page_all<'a>(req: &Req, url: &str, key: &str, all: impl Iterator<Item = &'a Value>) -> Outcome {
    let matched = filtered(req, all)?;
    page(req, url, key, &matched, Value::clone)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cursor_round_trips() {
        assert_eq!(super::decode_cursor(&super::encode_cursor(400)), Some(400));
        assert_eq!(super::decode_cursor("garbage!"), None);
    }
}
