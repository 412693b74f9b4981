//! A page's `cursor`: the next link PingOne gave, and the list action it continues.
//! Passed back, it is followed as PingOne's own clients follow `_links.next.href`
//! (its filter, limit and the rest come with it), so the next page is always the same
//! query's: a cursor sent alone, with another filter or to another list cannot
//! quietly page through other records (review 38).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};
use url::Url;

use crate::catalog::{Action, ArgsError, ParamLocation, Problem};

/// What a list was asked with: its query arguments other than `cursor` and `all`
/// (filter, limit, expand…), as text.
pub(crate) type Asked = Map<String, Value>;

/// The query arguments a call of `action` gives.
pub(crate) fn asked(action: &Action, args: &Map<String, Value>) -> Asked {
    action
        .params_in(ParamLocation::Query)
        .filter(|p| p.name != "cursor")
        .filter_map(|p| Some((p.name.clone(), Value::String(text(args.get(&p.name).filter(|v| !v.is_null())?)))))
        .collect()
}

/// The cursor handed to the caller for `next_href`, the page after one of `action`'s
/// list asked with `asked`.
pub(crate) fn encode(action: &Action, next_href: &str, asked: &Asked) -> Option<String> {
    let url = Url::parse(next_href).ok()?;
    let continues = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let text = serde_json::to_string(&(action.id.as_str(), continues.as_str(), asked)).ok()?;
    Some(URL_SAFE_NO_PAD.encode(text))
}

/// The URL a call with `cursor` fetches (PingOne's next link, on `built`'s origin) and
/// what the list was first asked with, once the call is shown to continue that list:
/// the same action and path (`built` is the URL the call's other arguments make), and
/// no query argument other than the first page's. PingOne's link is followed as it
/// is: whatever its cursor keeps of the query, the page is the same list's.
pub(crate) fn next_page(action: &Action, cursor: &str, args: &Map<String, Value>, built: &Url) -> Result<(Url, Asked), ArgsError> {
    let refuse = |text: String| ArgsError { action: action.id.clone(), problems: vec![Problem { text, quoted: None }] };
    let (of, continues, first) = decode(cursor).ok_or_else(|| {
        refuse("`cursor` is not one a page of results gave: pass the `cursor` of the page before, unchanged (or use all: true, or pingone.iterate)".to_owned())
    })?;
    if of != action.id {
        return Err(refuse(format!("`cursor` continues a list of `{of}`, not of `{}`: pass it back to `{of}`", action.id)));
    }
    let next = built.join(&continues).map_err(|_| refuse("`cursor` is damaged: pass the `cursor` of the page before, unchanged".to_owned()))?;
    if next.path() != built.path() {
        return Err(refuse(format!("`cursor` continues the list at {}, and these arguments name {}: pass the path arguments the first page had", next.path(), built.path())));
    }
    for (name, given) in asked(action, args) {
        match first.get(&name) {
            Some(own) if *own == given => {}
            Some(own) => {
                let (own, given) = (text(own), text(&given));
                return Err(refuse(format!("`cursor` continues a list asked with {name} `{own}`, and this call gives `{given}`: leave `{name}` out to go on with the first page's, or start again without `cursor`")));
            }
            None => return Err(refuse(format!("`cursor` continues a list asked without `{name}`: leave it out to go on, or start again without `cursor` to list with it"))),
        }
    }
    Ok((next, first))
}

fn decode(cursor: &str) -> Option<(String, String, Asked)> {
    let text = URL_SAFE_NO_PAD.decode(cursor.trim()).ok()?;
    let (action, continues, asked): (String, String, Asked) = serde_json::from_slice(&text).ok()?;
    // A path on the API's own host: `//host/…` would lead elsewhere (review 40).
    (continues.starts_with('/') && !continues.starts_with("//")).then_some((action, continues, asked))
}

fn text(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_owned)
}
