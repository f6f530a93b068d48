//! The JSON Schema (draft 2020-12) of the scenario format, for editors (the YAML language
//! server, for one) and other tools. `siptest schema` prints it.
//!
//! It is written by hand rather than derived, because the format is richer than serde's view
//! of it: the kind of a step is given by which key is present, and a step's allowed keys
//! depend on its kind. The step objects are composed from the same key tables the loader
//! checks against (`steps.rs`), and unit tests compare every other object's properties with
//! the fields of the serde type that reads it. What the schema cannot say (an agent must be
//! defined, a variable must be set by an earlier step) only the loader checks.

use super::auth::AUTH_ALGORITHMS;
use super::build::{ADDRESS_FIELDS, BUILTIN_VARIABLES};
use super::keys::{
    ACT_KEYS, EXPECT_KEYS, HOLD_STYLES, NOT_ENTRY_KEYS, NOT_KEYS, NOT_WITH_RAW, ONE_OF_ENTRY_KEYS,
    ONE_OF_KEYS, SEND_REQUEST_KEYS, SEND_RESPONSE_KEYS, UNORDERED_ENTRY_KEYS, UNORDERED_KEYS,
    WAIT_KEYS,
};
use super::parts::SEND_SDP_WORDS;
use super::values::CAPTURE_PATHS;
use serde_json::{json, Map, Value};

const TOKEN: &str = r"[A-Za-z0-9.!%*_+`'~-]+";
const METHOD: &str = r"^[A-Za-z.!%*_+`'~-][A-Za-z0-9.!%*_+`'~-]*$";
const KEBAB: &str = "^[a-z0-9][a-z0-9-]*$";
const LOWER: &str = "^[a-z][a-z0-9_]*$";
const VARIABLE: &str = "^[A-Za-z_][A-Za-z0-9_]*$";
const DIALOG: &str = "^[A-Za-z0-9][A-Za-z0-9_-]*$";
const DURATION: &str = r"^(0|[0-9]+(\.[0-9]{1,9})?(ms|s|m|min))$";

type Defs = Vec<(&'static str, Value)>;

/// Where a step's `headers`, `sdp` and `body` are read: sending or expecting.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Send,
    Expect,
}

/// The schema as a JSON value.
pub fn json_schema() -> Value {
    let mut defs = Map::new();
    for part in [
        scalar_defs(),
        value_defs(),
        scenario_defs(),
        impair_defs(),
        header_defs(),
        body_defs(),
        capture_defs(),
        step_defs(),
    ] {
        defs.extend(part.into_iter().map(|(k, v)| (k.to_string(), v)));
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "siptest scenario",
        "description": "A SIP call flow siptest replays against a device under test. \
                        See docs/scenarios.md.",
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "summary", "agents", "steps"],
        "properties": top_level_properties(),
        "$defs": defs
    })
}

fn top_level_properties() -> Value {
    json!({
        "name": described(json!({ "type": "string", "pattern": KEBAB }),
            "The scenario's id, unique in its directory."),
        "summary": described(json!({ "type": "string", "minLength": 1 }),
            "One line saying what happens."),
        "references": described(json!({ "type": "array", "items": { "type": "string" } }),
            "Where the behaviour comes from, e.g. \"RFC 3261 §13.2.1\"."),
        "tags": described(
            json!({ "type": "array", "items": { "type": "string", "pattern": KEBAB } }),
            "Labels for selecting scenarios."),
        "target": r("target"),
        "timers": r("timers"),
        "deadline": described(r("duration"), "Hard limit for the whole run."),
        "impair": r("impair"),
        "agents": described(json!({
            "type": "object",
            "minProperties": 1,
            "propertyNames": { "pattern": LOWER, "not": { "const": "target" } },
            "additionalProperties": { "anyOf": [{ "type": "null" }, r("agent")] }
        }), "siptest's own user agents, by name; the first is the agent of the first step."),
        "variables": described(json!({
            "type": "object",
            "propertyNames": variable_names(),
            "additionalProperties": r("text")
        }), "Initial values of [variables]."),
        "steps": { "type": "array", "minItems": 1, "items": r("step") }
    })
}

/// `{"$ref": "#/$defs/name"}`.
fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/$defs/{name}") })
}

/// `schema` with a description (a `$ref` is wrapped, as siblings of `$ref` are ignored by
/// some editors).
fn described(schema: Value, text: &str) -> Value {
    let mut schema = if schema.get("$ref").is_some() {
        json!({ "allOf": [schema] })
    } else {
        schema
    };
    schema["description"] = json!(text);
    schema
}

fn reserved_variables() -> Vec<&'static str> {
    let mut v = BUILTIN_VARIABLES.to_vec();
    v.extend(["target", "local", "agent"]);
    v
}

fn scalar_defs() -> Defs {
    let fields = ADDRESS_FIELDS.join("|");
    let builtins: Vec<String> = BUILTIN_VARIABLES.iter().map(|v| format!("[{v}]")).collect();
    let template = format!(
        "Text with [variable] references. Built in: {}, [target.{fields}], [local.{fields}], \
         [agent.NAME.{fields}]; [[ writes a literal [.",
        builtins.join(", ")
    );
    vec![
        (
            "duration",
            described(
                json!({ "anyOf": [{ "type": "string", "pattern": DURATION }, { "const": 0 }] }),
                "A duration with a unit: 200ms, 4s, 1.5s, 2m (or 0).",
            ),
        ),
        (
            "probability",
            json!({ "type": "number", "minimum": 0, "maximum": 1 }),
        ),
        (
            "status",
            json!({ "type": "integer", "minimum": 100, "maximum": 699 }),
        ),
        (
            "method",
            described(
                json!({ "type": "string", "pattern": METHOD }),
                "A method (a token, case-sensitive); the loader rejects misspelled well-known \
             methods.",
            ),
        ),
        ("text", json!({ "type": ["string", "number", "boolean"] })),
        (
            "template",
            described(json!({ "type": "string" }), &template),
        ),
    ]
}

fn value_defs() -> Defs {
    let codec = json!({ "type": "string", "pattern": format!("^{TOKEN}$") });
    vec![
        (
            "agent_name",
            json!({ "type": "string", "pattern": LOWER, "not": { "const": "target" } }),
        ),
        (
            "dialog",
            described(
                json!({ "type": "string", "pattern": DIALOG }),
                "A dialog name: the first INVITE, SUBSCRIBE or REFER sent with it, or the first \
             expect step naming it, creates it.",
            ),
        ),
        (
            "direction",
            json!({ "enum": ["sendrecv", "sendonly", "recvonly", "inactive"] }),
        ),
        (
            "ip",
            described(
                json!({ "type": "string", "anyOf": [{ "format": "ipv4" }, { "format": "ipv6" }] }),
                "An IPv4 or IPv6 address.",
            ),
        ),
        (
            "codecs",
            described(
                json!({ "type": "array", "items": codec }),
                "Encoding names: PCMU, PCMA, opus, telephone-event, ...",
            ),
        ),
        (
            "media_type",
            json!({ "type": "string", "pattern": format!("^{TOKEN}/{TOKEN}") }),
        ),
        (
            "matcher",
            described(
                json!({
                    "anyOf": [
                        r("status"),
                        { "type": "string", "pattern": "^[1-6]([0-9]{2}|xx|XX)$" },
                        { "type": "string", "pattern": "^[1-6][0-9]{2}-[1-6][0-9]{2}$" },
                        r("method")
                    ]
                }),
                "A status (200), a class (2xx), a range (180-183) or a method (BYE).",
            ),
        ),
    ]
}

fn scenario_defs() -> Defs {
    let capability = json!({ "type": "string", "pattern": format!("^(event:)?{TOKEN}$") });
    vec![
        (
            "target",
            described(
                json!({
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "role": { "enum": ["ua", "proxy", "b2bua", "registrar"], "default": "ua" },
                        "needs": described(
                            json!({ "type": "array", "items": capability }),
                            "Capabilities the target must have: methods (REFER), option tags \
                             (100rel), event packages (event:refer)."),
                        "acts": described(json!({ "type": "boolean", "default": false }),
                            "True when the target itself must act through a driver.")
                    }
                }),
                "The device under test.",
            ),
        ),
        (
            "timers",
            described(
                json!({
                    "type": "object",
                    "additionalProperties": false,
                    "properties": { "t1": r("duration"), "t2": r("duration"), "t4": r("duration") }
                }),
                "Timer base values (RFC 3261 §17.1.1.1).",
            ),
        ),
        (
            "agent",
            json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "user": described(json!({ "type": ["string", "number"] }),
                        "User part of the agent's URI; its name by default."),
                    "transport": { "enum": ["udp", "tcp"] },
                    "display": { "type": "string" }
                }
            }),
        ),
    ]
}

fn impair_defs() -> Defs {
    vec![
        (
            "impair",
            described(
                json!({
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "seed": { "type": "integer", "minimum": 0 },
                        "outbound": r("path_impairment"),
                        "inbound": r("path_impairment"),
                        "rules": { "type": "array", "items": r("impair_rule") }
                    }
                }),
                "Impairment of siptest's own network path.",
            ),
        ),
        (
            "path_impairment",
            json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "loss": r("probability"),
                    "delay": r("duration"),
                    "jitter": r("duration"),
                    "duplicate": r("probability"),
                    "reorder": r("probability"),
                    "hold": r("duration")
                }
            }),
        ),
        (
            "impair_rule",
            json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["drop", "match"],
                "properties": {
                    "drop": { "anyOf": [
                        { "enum": ["first", "all"] },
                        { "type": "integer", "minimum": 1 }
                    ] },
                    "match": r("matcher"),
                    "direction": { "enum": ["inbound", "outbound"] }
                }
            }),
        ),
    ]
}

fn header_defs() -> Defs {
    let name = json!({ "pattern": format!("^{TOKEN}$") });
    vec![
        (
            "send_headers",
            described(
                json!({
                    "type": "object",
                    "propertyNames": name,
                    "additionalProperties": { "anyOf": [
                        { "type": "null" },
                        r("text"),
                        { "type": "array", "minItems": 1, "items": r("text") }
                    ] }
                }),
                "Headers to add or replace; null removes one siptest would add; a list gives \
             several lines.",
            ),
        ),
        (
            "expect_headers",
            described(
                json!({
                    "type": "object",
                    "propertyNames": name,
                    "additionalProperties": { "anyOf": [r("text"), r("header_assertion")] }
                }),
                "present | absent | exact text | { equals | contains | matches: ... }",
            ),
        ),
        (
            "header_assertion",
            json!({
                "type": "object",
                "additionalProperties": false,
                "minProperties": 1,
                "maxProperties": 1,
                "properties": {
                    "equals": r("template"),
                    "contains": r("template"),
                    "matches": described(json!({ "type": "string" }),
                        "A regular expression (not a template).")
                }
            }),
        ),
    ]
}

/// The names a user variable may take.
fn variable_names() -> Value {
    json!({ "pattern": VARIABLE, "not": { "enum": reserved_variables() } })
}

fn capture_defs() -> Defs {
    let mut paths: Vec<&str> = CAPTURE_PATHS.iter().map(|(p, _)| *p).collect();
    paths.sort_unstable();
    let header_path = r"^header\.[A-Za-z0-9!%*_+`'~-]+(\.[A-Za-z0-9!%*_+`'~-]+)?$";
    let capture = json!({
        "type": "object",
        "propertyNames": variable_names(),
        "additionalProperties": { "anyOf": [
            { "enum": paths },
            { "type": "string", "pattern": header_path }
        ] }
    });
    let text = "variable: path. The variable is usable from the next step on.";
    vec![("capture", described(capture, text))]
}

fn body_defs() -> Defs {
    let sdp = |extra: Value| {
        let mut props = json!({
            "direction": r("direction"),
            "codecs": r("codecs"),
            "connection": r("ip"),
            "port_zero": { "type": "boolean" }
        });
        props
            .as_object_mut()
            .expect("object")
            .extend(extra.as_object().cloned().unwrap_or_default());
        json!({ "type": "object", "additionalProperties": false, "properties": props })
    };
    let media = json!({ "media": { "type": "integer", "minimum": 0 } });
    vec![
        (
            "send_sdp",
            json!({ "anyOf": [{ "enum": SEND_SDP_WORDS }, sdp(json!({}))] }),
        ),
        (
            "expect_sdp",
            json!({ "anyOf": [{ "enum": ["present", "absent"] }, sdp(media)] }),
        ),
        (
            "send_body",
            json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["content_type", "text"],
                "properties": { "content_type": r("media_type"), "text": r("template") }
            }),
        ),
        (
            "expect_body",
            json!({ "anyOf": [{ "enum": ["present", "absent"] }, {
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "content_type": r("media_type"),
                "equals": r("template"),
                "contains": r("template"),
                "matches": { "type": "string" }
            }
        }] }),
        ),
    ]
}

/// The schema of one step key, as read by a step of `side`.
fn step_key(key: &str, side: Side) -> Value {
    let sided = |send: &str, expect: &str| r(if side == Side::Send { send } else { expect });
    let response = json!({ "type": "string", "pattern": "^[1-6][0-9]{2}( .*)?$" });
    let entries = |entry: &str| json!({ "type": "array", "minItems": 2, "items": r(entry) });
    match key {
        "send" => described(
            json!({ "anyOf": [r("status"), response, r("method")] }),
            "A method (INVITE) or a response (200, \"486 Busy Here\").",
        ),
        "expect" => r("matcher"),
        "one_of" => described(
            entries("one_of_entry"),
            "Alternatives: the first that matches.",
        ),
        "unordered" => described(entries("unordered_entry"), "All must match, in any order."),
        "wait" => described(
            json!({ "anyOf": [r("duration"), { "type": "string", "pattern": "^[1-9][0-9]{0,3}\\*T1$" }] }),
            "A duration, or a multiple of the run's T1 (6*T1).",
        ),
        "timeout" | "within" => r("duration"),
        "not" => r("not_entry"),
        "from" | "at" => described(r("agent_name"), "An agent; by default the previous step's."),
        "to" => described(
            json!({ "type": "string" }),
            "`target` (the default) or an agent: the Request-URI and To.",
        ),
        "uri" => described(r("template"), "The Request-URI."),
        "reply_to" => described(
            json!({ "type": "string" }),
            "The request answered: a method, or the label of an expect step. Default: the \
             latest request without a final response.",
        ),
        "ack" => described(
            json!({ "enum": ["auto", "manual"], "default": "auto" }),
            "manual withholds the ACK to a 2xx until a `send: ACK` step.",
        ),
        "raw" => described(
            json!({ "type": "string" }),
            "The exact message after [variable] substitution; line ends are sent as CRLF.",
        ),
        "dialog" => r("dialog"),
        "label" => described(
            json!({ "type": "string", "pattern": LOWER }),
            "A name for the request received here, for `reply_to`.",
        ),
        "optional" => json!({ "type": "boolean", "default": false }),
        "headers" => sided("send_headers", "expect_headers"),
        "sdp" => sided("send_sdp", "expect_sdp"),
        "body" => sided("send_body", "expect_body"),
        "capture" => r("capture"),
        "auth" => r("auth"),
        other => act_key(key).unwrap_or_else(|| unreachable!("no schema for step key `{other}`")),
    }
}

/// The schema of a key of an `act` step.
fn act_key(key: &str) -> Option<Value> {
    let names: Vec<&str> = ACT_KEYS.iter().map(|(n, _)| *n).collect();
    let flag = |text: &str| described(json!({ "type": "boolean", "default": false }), text);
    let final_status = json!({ "anyOf": [
        { "type": "integer", "minimum": 200, "maximum": 699 },
        { "const": "none" }
    ] });
    Some(match key {
        "act" => described(
            json!({ "enum": names }),
            "What the target does, through its driver.",
        ),
        "with" => described(
            r("agent_name"),
            "The agent concerned; by default the previous step's.",
        ),
        "provisional" => described(
            json!({ "type": "array", "items": { "type": "integer", "minimum": 101, "maximum": 199 } }),
            "Provisional statuses before the final one; default [180].",
        ),
        "reliable" => flag("Reliable provisionals (RFC 3262)."),
        "early_media" => flag("The 183 carries the SDP answer."),
        "ring" => described(r("duration"), "Wait before the final response; default 0."),
        "status" => described(
            final_status,
            "The final status; `none`: never answers. Default 200.",
        ),
        "method" => r("method"),
        "delay" => described(r("duration"), "Wait before the final response; default 0."),
        "late_offer" => flag("An INVITE without SDP."),
        "require_100rel" => flag("Require: 100rel (RFC 3262)."),
        "session_expires" => described(
            json!({ "type": "integer", "minimum": 1 }),
            "Session-Expires in seconds (RFC 4028).",
        ),
        "style" => described(
            json!({ "enum": HOLD_STYLES }),
            "How to hold; default sendonly.",
        ),
        "offerless" => flag("A re-INVITE without SDP."),
        "user" | "password" => r("text"),
        "expires" => json!({ "type": "integer", "minimum": 0, "default": 3600 }),
        "event" => described(
            json!({ "type": "string" }),
            "An event package, e.g. dialog.",
        ),
        _ => return None,
    })
}

/// An `act` step: every action's keys, each action allowed only its own.
fn act_step() -> Value {
    let mut keys: Vec<&str> = Vec::new();
    for (_, ks) in ACT_KEYS {
        for k in *ks {
            if !keys.contains(k) {
                keys.push(k);
            }
        }
    }
    let mut step = step_object(&keys, &["act"], Side::Send);
    let rules: Vec<Value> = ACT_KEYS
        .iter()
        .map(|(name, own)| {
            json!({
                "if": { "properties": { "act": { "const": name } } },
                "then": forbid_others(own, &keys)
            })
        })
        .collect();
    step["allOf"] = json!(rules);
    step
}

fn auth_def() -> Value {
    described(
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["user", "password"],
            "properties": {
                "user": r("template"),
                "password": r("template"),
                "algorithm": { "enum": AUTH_ALGORITHMS }
            }
        }),
        "Digest credentials answering the agent's latest 401/407 to this method \
         (RFC 3261 §22.2).",
    )
}

/// An object with exactly `keys`, `required` among them.
fn step_object(keys: &[&str], required: &[&str], side: Side) -> Value {
    let props: Map<String, Value> = keys
        .iter()
        .map(|k| (k.to_string(), step_key(k, side)))
        .collect();
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": props
    })
}

/// `{ "properties": { k: false } }` for each key of `other` not in `keys`.
fn forbid_others(keys: &[&str], other: &[&str]) -> Value {
    let banned: Map<String, Value> = other
        .iter()
        .filter(|k| !keys.contains(k))
        .map(|k| (k.to_string(), json!(false)))
        .collect();
    json!({ "properties": banned })
}

/// A send step: request and response keys, with each kind's own keys forbidden to the other,
/// `ack` only on INVITE and nothing built beside `raw`.
fn send_step() -> Value {
    let mut keys: Vec<&str> = SEND_REQUEST_KEYS.to_vec();
    keys.extend(
        SEND_RESPONSE_KEYS
            .iter()
            .filter(|k| !SEND_REQUEST_KEYS.contains(k)),
    );
    let mut step = step_object(&keys, &["send"], Side::Send);
    let response = json!({ "properties": { "send": { "anyOf": [
        { "type": "integer" },
        { "type": "string", "pattern": "^[0-9]" }
    ] } } });
    let invite = json!({ "properties": { "send": { "const": "INVITE" } } });
    step["allOf"] = json!([
        {
            "if": response,
            "then": forbid_others(SEND_RESPONSE_KEYS, SEND_REQUEST_KEYS),
            "else": forbid_others(SEND_REQUEST_KEYS, SEND_RESPONSE_KEYS)
        },
        { "if": invite, "else": { "properties": { "ack": false } } }
    ]);
    step["dependentSchemas"] = json!({ "raw": forbid_others(&[], NOT_WITH_RAW) });
    step
}

fn step_defs() -> Defs {
    let e = Side::Expect;
    let kinds = [
        "send",
        "expect",
        "one_of",
        "unordered",
        "wait",
        "not",
        "act",
    ];
    let steps: Vec<Value> = kinds.iter().map(|k| r(&format!("{k}_step"))).collect();
    vec![
        ("step", json!({ "oneOf": steps })),
        ("send_step", send_step()),
        ("expect_step", step_object(EXPECT_KEYS, &["expect"], e)),
        ("one_of_step", step_object(ONE_OF_KEYS, &["one_of"], e)),
        (
            "unordered_step",
            step_object(UNORDERED_KEYS, &["unordered"], e),
        ),
        ("wait_step", step_object(WAIT_KEYS, &["wait"], e)),
        ("not_step", step_object(NOT_KEYS, &["not"], e)),
        ("act_step", act_step()),
        ("auth", auth_def()),
        (
            "one_of_entry",
            step_object(ONE_OF_ENTRY_KEYS, &["expect"], e),
        ),
        (
            "unordered_entry",
            step_object(UNORDERED_ENTRY_KEYS, &["expect"], e),
        ),
        (
            "not_entry",
            step_object(NOT_ENTRY_KEYS, &["expect", "within"], e),
        ),
    ]
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
