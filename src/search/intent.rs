//! Which operation a need asks for: create, read one (get), read many (list), update
//! or delete. Actions get theirs from the verb their id starts with; a query from its
//! verbs ("kick out" → delete, "which …" → read) and, for reads, from whether it
//! speaks of one thing ("john's account", "this group") or many ("all", "which
//! groups", "every user").

use super::tokens::{is_stop_word, stem, Word};
use crate::catalog::{Action, Method};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Get,
    List,
    Update,
    Delete,
}

impl Op {
    /// The operation of an action: from the first word of its id, or else (a custom
    /// action such as `count_widgets`) from its HTTP method.
    pub fn of_action(action: &Action) -> Op {
        Self::of_id(&action.id).unwrap_or(match action.method {
            Method::Get if action.list_key.is_some() => Op::List,
            Method::Get => Op::Get,
            Method::Post => Op::Create,
            Method::Put | Method::Patch => Op::Update,
            Method::Delete => Op::Delete,
        })
    }

    /// The operation an id's first word names, if it names one.
    pub fn of_id(id: &str) -> Option<Op> {
        match id.split('_').next()? {
            "create" | "import" | "pair" | "add" | "generate" => Some(Op::Create),
            "get" => Some(Op::Get),
            "list" => Some(Op::List),
            "update" | "set" => Some(Op::Update),
            "delete" | "remove" => Some(Op::Delete),
            _ => None,
        }
    }

    /// How well an action's operation fits the query's: 1 for the same, a half for
    /// the other kind of read, 0 otherwise.
    pub fn fit(self, action: Op) -> f64 {
        match (self, action) {
            (a, b) if a == b => 1.0,
            (Op::Get, Op::List) | (Op::List, Op::Get) => 0.5,
            _ => 0.0,
        }
    }
}

/// Words that open a question, which asks to read.
const QUESTION_WORDS: [&str; 12] = ["is", "are", "does", "do", "has", "have", "can", "what", "which", "who", "when", "whats"];

/// Question words that may follow a preposition ("in what order …").
const WH_WORDS: [&str; 5] = ["what", "which", "who", "when", "whats"];

/// Words that mean many.
const MANY_WORDS: [&str; 6] = ["all", "every", "each", "everyone", "everybody", "people"];

/// Words that mean exactly one.
const ONE_WORDS: [&str; 5] = ["one", "single", "specific", "particular", "detail"];

/// Nouns (stemmed) whose plural means a list is wanted.
const RESOURCE_NOUNS: [&str; 31] = [
    "user", "person", "account", "group", "team", "member", "application", "app", "client", "rol", "policy", "devic",
    "authenticator", "factor", "method", "claim", "attribut", "mapping", "certificat", "cert", "grant", "scop",
    "segment", "population", "provider", "idp", "connection", "assignment", "permission", "right", "step",
];

/// Words after a read that say it searches by a value ("users named Smith", "the
/// segment called Contractors"): finding by name is a filtered list.
const FILTER_WORDS: [&str; 9] = ["named", "called", "whose", "matching", "containing", "starts", "starting", "ends", "ending"];

/// Attributes that, after "with", also make a read a search ("the user with email …").
const SEARCH_ATTRIBUTES: [&str; 5] = ["email", "username", "name", "phone", "title"];

/// The query's operation: the first operation signal, where a read (or a question,
/// even after a preposition: "in what order …") becomes a list when the query speaks
/// of many things or searches by a value, and a get otherwise. Without a verb, a
/// plural noun asks to see them ("application grants"); else there is no operation.
pub fn query_op(words: &[Word], first_signal: Option<&str>) -> Option<Op> {
    let opens = words.first().is_some_and(|w| QUESTION_WORDS.contains(&w.text.as_str()));
    let wh = words.iter().find(|w| !is_stop_word(&w.text)).is_some_and(|w| WH_WORDS.contains(&w.text.as_str()));
    let names_many = || matches!(listed_noun(words), Some(Listed::Noun(_)));
    let first = if opens || wh || (first_signal.is_none() && names_many()) { Some("read") } else { first_signal };
    match first? {
        "get" => Some(Op::Get),
        // "how many users are there": count a list; "how many members does the Sales
        // team have": read the one thing that also names.
        "count" => Some(match listed_noun(words) {
            // "count disabled users by population": counted over a list, in groups.
            Some(Listed::Noun(at)) if !names_another_resource(words, at) || counts_by_group(words) => Op::List,
            _ => Op::Get,
        }),
        "create" => Some(Op::Create),
        "update" => Some(Op::Update),
        "delete" => Some(Op::Delete),
        _ => Some(if listed_noun(words).is_some() || searches_by_value(words) { Op::List } else { Op::Get }),
    }
}

/// What a list is of: the position of the first plural resource noun ("which
/// *groups* is maria in"), or of a leading "who" (people); none when the query
/// speaks of exactly one thing.
pub fn listed_noun(words: &[Word]) -> Option<Listed> {
    if words.iter().any(|w| !w.piece && ONE_WORDS.contains(&stem(&w.text).as_str())) {
        return None;
    }
    let plural = words.iter().position(|w| {
        let text = w.text.as_str();
        let plural = text.len() > 3 && text.ends_with('s') && !text.ends_with("ss") && !text.ends_with("us") && !w.possessive;
        plural && RESOURCE_NOUNS.contains(&stem(text).as_str())
    });
    if let Some(at) = plural {
        return Some(Listed::Noun(at));
    }
    // "who is in the finance team", "who has admin rights"; not "who am i".
    let who = words.first().is_some_and(|w| w.text == "who") && words.get(1).is_some_and(|w| w.text != "am");
    if who {
        return Some(Listed::People);
    }
    words.iter().any(|w| MANY_WORDS.contains(&w.text.as_str())).then_some(Listed::Unnamed)
}

/// What a list question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    /// The word at this position names the items.
    Noun(usize),
    /// "who …": users.
    People,
    /// "all", "every": the items are named elsewhere.
    Unnamed,
}

/// Whether the word at `i` says or is a value searched for: "whose", "named", or
/// closely after them ("groups whose name starts with *eng*").
pub fn is_searched_value(words: &[Word], i: usize) -> bool {
    words[i.saturating_sub(3)..=i].iter().any(|w| FILTER_WORDS.contains(&w.text.as_str()))
}

/// Whether a resource noun other than the one at `at` is named.
fn names_another_resource(words: &[Word], at: usize) -> bool {
    words.iter().enumerate().any(|(i, w)| i != at && RESOURCE_NOUNS.contains(&stem(&w.text).as_str()))
}

/// "… by population", "… per group", "in each population": a count split into groups.
fn counts_by_group(words: &[Word]) -> bool {
    words.iter().any(|w| matches!(w.text.as_str(), "by" | "per" | "each"))
}

fn searches_by_value(words: &[Word]) -> bool {
    words.iter().enumerate().any(|(i, w)| {
        FILTER_WORDS.contains(&w.text.as_str()) || (w.text == "with" && words.get(i + 1).is_some_and(|n| SEARCH_ATTRIBUTES.contains(&n.text.as_str())))
    })
}

/// Words that frame a need as done in bulk or from a file: "in bulk", "a list of",
/// "from a spreadsheet", "from a CSV file".
static BULK_FRAMING: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)\b(?:in bulk|en masse|in (?:a )?batch(?:es)?|a batch of|bulk|mass|a list of|lists? of|(?:from|in|using|via|with|out of) (?:a |an |the |our |my |this )?(?:csv|excel|xlsx|json|google|text)? ?(?:file|spreadsheet|sheet|list|export)s?)\b",
    )
    .expect("the bulk framing pattern compiles")
});

/// An import or onboarding of people is a create of each user: "import users",
/// "onboard new contractors".
static IMPORT_PEOPLE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"(?i)\b(?:import|onboard|bring on)\s+(?:the\s+|our\s+)?(?:new\s+)?(users|accounts|people|employees|contractors|staff|members|hires|starters|interns|vendors|partners)\b")
        .expect("the import pattern compiles")
});

/// A need set off by an event: three words or more, then "when", "whenever", "every
/// time", "each time" or "as soon as" and who or what the event befalls.
static SET_OFF_BY_EVENT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)^\s*(\S+(?:\s+\S+){2,}?)\s*,?\s+(?:whenever|when|every time|each time|as soon as)\s+(?:a|an|the|any|someone|somebody|anyone|users?|accounts?|admins?|people|employees|their|his|her)\s",
    )
    .expect("the event pattern compiles")
});

/// What is asked of a need set off by an event ("notify the security team on Slack
/// *when an account gets locked*"): the clause before the event. An action that fits
/// only the event (lock_user) does not meet the need (review 45).
pub fn asked_before_event(query: &str) -> Option<&str> {
    SET_OFF_BY_EVENT.captures(query).and_then(|c| c.get(1)).map(|m| m.as_str().trim_end_matches([',', ';', ':']))
}

/// `query` without the words that frame it as done in bulk or from a file, when it
/// has some; `None` otherwise.
pub fn without_bulk_framing(query: &str) -> Option<String> {
    let stripped = BULK_FRAMING.replace_all(query, " ");
    let stripped = IMPORT_PEOPLE.replace_all(&stripped, "create user accounts for $1");
    let stripped = stripped.split_whitespace().collect::<Vec<_>>().join(" ");
    (stripped != query.split_whitespace().collect::<Vec<_>>().join(" ")).then_some(stripped)
}


#[cfg(test)]
mod tests {
    use super::super::tokens::words;
    use super::*;

    fn op(query: &str, signal: &str) -> Option<Op> {
        query_op(&words(query), Some(signal))
    }

    #[test]
    fn reads_are_lists_when_they_speak_of_many() {
        assert_eq!(op("which groups is maria in", "read"), Some(Op::List));
        assert_eq!(op("show all the teams", "read"), Some(Op::List));
        assert_eq!(op("show john's profile", "read"), Some(Op::Get));
        assert_eq!(op("is alice a member of the finance group", "read"), Some(Op::Get));
        assert_eq!(op("is 2FA on for this person", "update"), Some(Op::Get));
        assert_eq!(op("kick bob out of the team", "delete"), Some(Op::Delete));
        assert_eq!(op("how many users are there in total", "count"), Some(Op::List));
        assert_eq!(op("how many members does the Sales team have", "count"), Some(Op::Get));
        assert_eq!(op("count disabled users by population", "count"), Some(Op::List));
    }

    #[test]
    fn the_clause_before_an_event_is_what_is_asked() {
        assert_eq!(asked_before_event("notify the security team on Slack when an account gets locked"), Some("notify the security team on Slack"));
        assert_eq!(asked_before_event("email the manager, whenever someone is added to Admins"), Some("email the manager"));
        assert_eq!(asked_before_event("when an account gets locked, what happens"), None);
        assert_eq!(asked_before_event("show me when the user last signed in"), None);
        assert_eq!(asked_before_event("make passwords expire after 90 days"), None);
    }

    #[test]
    fn bulk_and_file_framing_is_taken_out() {
        assert_eq!(without_bulk_framing("onboard a list of new contractors from a spreadsheet").as_deref(), Some("create user accounts for contractors"));
        assert_eq!(without_bulk_framing("bulk import users from a CSV file").as_deref(), Some("create user accounts for users"));
        assert_eq!(without_bulk_framing("disable users in bulk").as_deref(), Some("disable users"));
        assert_eq!(without_bulk_framing("send a Slack message"), None);
        assert_eq!(without_bulk_framing("import a certificate"), None);
    }
}
