//! Which keys each kind of step accepts. The step builder checks against these tables and the
//! JSON Schema is composed from them, so the two cannot drift apart.

/// The keys that give a step its kind.
pub const KIND_KEYS: &[&str] = &[
    "send",
    "expect",
    "one_of",
    "unordered",
    "wait",
    "not",
    "act",
];
pub const SEND_REQUEST_KEYS: &[&str] = &[
    "send", "from", "to", "uri", "dialog", "headers", "sdp", "body", "ack", "raw", "auth",
];
pub const SEND_RESPONSE_KEYS: &[&str] = &[
    "send", "from", "reply_to", "dialog", "headers", "sdp", "body", "raw",
];
pub const EXPECT_KEYS: &[&str] = &[
    "expect", "at", "dialog", "label", "optional", "timeout", "headers", "sdp", "body", "capture",
];
pub const ONE_OF_KEYS: &[&str] = &["one_of", "optional", "timeout"];
pub const ONE_OF_ENTRY_KEYS: &[&str] = &[
    "expect", "at", "dialog", "label", "headers", "sdp", "body", "capture",
];
pub const UNORDERED_KEYS: &[&str] = &["unordered", "timeout"];
pub const UNORDERED_ENTRY_KEYS: &[&str] = &[
    "expect", "at", "dialog", "label", "optional", "headers", "sdp", "body", "capture",
];
pub const WAIT_KEYS: &[&str] = &["wait"];
pub const NOT_KEYS: &[&str] = &["not"];
pub const NOT_ENTRY_KEYS: &[&str] = &["expect", "at", "dialog", "headers", "sdp", "body", "within"];
/// Keys that make no sense beside `raw`.
pub const NOT_WITH_RAW: &[&str] = &[
    "uri", "headers", "sdp", "body", "ack", "to", "dialog", "auth",
];
/// The actions of `act` steps and the keys each accepts (`docs/scenarios.md`, "act").
pub const ACT_KEYS: &[(&str, &[&str])] = &[
    (
        "answer",
        &[
            "act",
            "provisional",
            "reliable",
            "early_media",
            "ring",
            "status",
        ],
    ),
    ("respond", &["act", "method", "delay", "status"]),
    (
        "call",
        &[
            "act",
            "with",
            "late_offer",
            "require_100rel",
            "session_expires",
        ],
    ),
    ("hold", &["act", "with", "style"]),
    ("unhold", &["act", "with", "offerless"]),
    ("hangup", &["act", "with"]),
    ("transfer", &["act", "with", "to"]),
    ("request", &["act", "with", "method"]),
    ("register", &["act", "with", "user", "password", "expires"]),
    ("subscribe", &["act", "with", "event"]),
];
/// The hold styles of `act: hold` (RFC 3264 §8.4).
pub const HOLD_STYLES: &[&str] = &["sendonly", "inactive", "zero-connection"];
/// Requests that may create a dialog (RFC 3261 §12.1, RFC 6665 §4.1, RFC 3515 §2.4.4).
pub const DIALOG_CREATING: &[&str] = &["INVITE", "SUBSCRIBE", "REFER"];

/// Why a key does not fit, when there is more to say than "not here".
pub fn key_hint(key: &str, allowed: &[&str]) -> Option<&'static str> {
    let is = |k: &str| allowed.contains(&k);
    Some(match key {
        "from" if is("at") => "the receiving agent of an expect step is `at`",
        "at" if is("from") => "the sending agent of a send step is `from`",
        "to" if is("reply_to") => "a response goes back to where its request came from",
        "uri" if is("reply_to") => "a response has no Request-URI",
        "ack" if is("reply_to") => "`ack` is for sending INVITE",
        "reply_to" if is("to") => "`reply_to` is for responses",
        "within" if is("expect") => {
            "`within` belongs in `not`; an expect step waits up to `timeout`"
        }
        "timeout" if is("within") => "`not` waits for `within`",
        "optional" | "timeout" if is("capture") => "set it on the group step itself",
        "capture" | "label" if is("within") => "nothing is received in a `not` step",
        "with" if is("provisional") || is("delay") => {
            "`answer` and `respond` apply to every agent of the run"
        }
        "from" | "at" if is("act") => "the agent of an `act` step is `with`",
        _ => return None,
    })
}
