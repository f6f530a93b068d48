//! Scenario files as users write them: the examples load; malformed files fail at the exact
//! line and column with a message that says what was expected; `siptest schema` prints a JSON
//! Schema that accepts the examples and rejects the same structural mistakes as the loader.

use serde_json::Value;
use siptest::scenario::{
    load_dir, load_file, load_str, load_str_all, ActKind, BodySpec, Content, HeaderAssertion,
    LoadError, LoadErrorKind as K, Outgoing, Peer, ReplyTo, Scenario, Step,
};
use std::path::{Path, PathBuf};
use std::process::Command;

const HEAD: &str = "name: t\nsummary: s\nagents:\n  alice: {}\nsteps:\n";

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/examples")
}

fn example_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(examples_dir())
        .expect("scenarios/examples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    v
}

/// YAML as an editor's language server sees it (YAML 1.2 booleans).
fn yaml_to_json(text: &str) -> Value {
    let options = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::from_str_with_options(text, options).expect("YAML parses")
}

fn validator() -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&siptest::scenario::json_schema())
        .expect("the schema compiles")
}

#[test]
fn every_example_loads() {
    let files = example_files();
    assert!(files.len() >= 5, "{files:?}");
    for f in &files {
        let s = load_file(f).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.source, f.display().to_string());
    }
    let (scenarios, errors) = load_dir(examples_dir());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(scenarios.len(), files.len());
}

/// A malformed scenario: the error's position, kind and words of its message, and whether
/// the JSON Schema rejects it too (some checks need the loader: references between steps).
struct Case {
    what: &'static str,
    text: String,
    at: (u32, u32),
    kind: K,
    words: &'static [&'static str],
    schema_rejects: bool,
}

fn case(
    what: &'static str,
    text: &str,
    at: (u32, u32),
    kind: K,
    words: &'static [&'static str],
    schema_rejects: bool,
) -> Case {
    Case {
        what,
        text: text.to_string(),
        at,
        kind,
        words,
        schema_rejects,
    }
}

/// A case whose text is `HEAD` followed by `steps` (steps start on line 6).
fn step_case(
    what: &'static str,
    steps: &str,
    at: (u32, u32),
    kind: K,
    words: &'static [&'static str],
    schema_rejects: bool,
) -> Case {
    case(
        what,
        &format!("{HEAD}{steps}"),
        at,
        kind,
        words,
        schema_rejects,
    )
}

fn malformed_cases() -> Vec<Case> {
    let mut v = syntax_and_type_cases();
    v.extend(value_cases());
    v.extend(step_shape_cases());
    v.extend(reference_cases());
    v.extend(act_cases());
    v
}

/// `act` steps and `auth` (docs/scenarios.md, "act", "Digest authentication").
fn act_cases() -> Vec<Case> {
    vec![
        step_case("unknown action", "  - act: cal\n",
            (6, 10), K::InvalidValue, &["unknown action `cal`", "expected one of: answer, respond, call", "did you mean `call`?"], true),
        step_case("a key of another action", "  - act: call\n    status: 486\n",
            (7, 13), K::UnknownKey, &["`status` does not belong in an `act: call` step", "expected one of: act, with, late_offer"], true),
        step_case("misspelled act key", "  - act: hold\n    stlye: inactive\n",
            (7, 5), K::UnknownKey, &["unknown key `stlye`", "did you mean `style`?"], true),
        step_case("bad hold style", "  - act: hold\n    style: sendonyl\n",
            (7, 12), K::InvalidValue, &["expected a hold style", "did you mean `sendonly`?"], true),
        step_case("unknown agent in with", "  - act: call\n    with: bob\n",
            (7, 11), K::Undefined, &["undefined agent `bob` in `with`", "agents: alice"], false),
        step_case("unknown agent in to", "  - act: transfer\n    to: alcie\n",
            (7, 9), K::Undefined, &["undefined agent `alcie` in `to`", "did you mean `alice`?"], false),
        step_case("final status out of range", "  - act: answer\n    status: 99\n",
            (7, 13), K::InvalidValue, &["expected a final status from 200 to 699, or `none`, found the number 99"], true),
        step_case("provisional status out of range", "  - act: answer\n    provisional: [180, 200]\n",
            (7, 24), K::InvalidValue, &["expected a provisional status from 101 to 199, found the number 200"], true),
        step_case("respond without method", "  - act: respond\n    status: 200\n",
            (6, 5), K::MissingKey, &["`act: respond` needs `method`"], false),
        step_case("respond to INVITE", "  - act: respond\n    method: INVITE\n",
            (7, 13), K::InvalidValue, &["answered as `act: answer` says"], false),
        step_case("with on answer", "  - act: answer\n    with: alice\n",
            (7, 11), K::UnknownKey, &["`with` does not belong in an `act: answer` step", "apply to every agent"], true),
        step_case("register without password", "  - act: register\n    user: alice\n",
            (6, 5), K::MissingKey, &["needs `user` and `password`"], false),
        step_case("misspelled method in request", "  - act: request\n    method: INFOO\n",
            (7, 13), K::InvalidValue, &["unknown method `INFOO`", "did you mean `INFO`?"], false),
        step_case("auth without a challenge", "  - send: REGISTER\n    auth: { user: a, password: b }\n",
            (7, 11), K::Conflict, &["no earlier step expects a 401 or 407 at `alice`"], false),
        step_case("auth with an unknown algorithm",
            "  - send: REGISTER\n  - expect: 401\n  - send: REGISTER\n    auth: { user: a, password: b, algorithm: SHA256 }\n",
            (9, 46), K::InvalidValue, &["expected a digest algorithm", "did you mean `SHA-256`?"], true),
        step_case("auth on a response", "  - expect: INVITE\n  - send: 407\n    auth: { user: a, password: b }\n",
            (8, 11), K::UnknownKey, &["`auth` does not belong in a send step for a response"], true),
    ]
}

/// YAML syntax, keys and types.
fn syntax_and_type_cases() -> Vec<Case> {
    vec![
        case("unknown top-level key", "name: t\nsumary: s\nagents:\n  alice: {}\nsteps:\n  - send: OPTIONS\n",
            (2, 1), K::UnknownKey, &["unknown key `sumary`", "expected one of: name, summary", "did you mean `summary`?"], true),
        step_case("unknown step key", "  - send: OPTIONS\n    frm: alice\n",
            (7, 5), K::UnknownKey, &["unknown key `frm`", "did you mean `from`?"], true),
        case("bad YAML", "name: t\nsummary: s: x\n", (2, 11), K::Syntax, &["mapping values are not allowed"], false),
        case("bad YAML indentation", "name: t\nsummary: s\nagents:\n  alice: {}\n steps: []\n",
            (5, 2), K::Syntax, &["did not find expected key"], false),
        case("missing required key", "# comment\nname: t\nagents:\n  alice: {}\nsteps:\n  - send: OPTIONS\n",
            (2, 1), K::MissingKey, &["missing required key `summary`"], true),
        case("missing nested key", "name: t\nsummary: s\nimpair:\n  rules:\n    - drop: first\nagents:\n  alice: {}\nsteps:\n  - send: OPTIONS\n",
            (5, 7), K::MissingKey, &["missing required key `match`"], true),
        case("wrong type", "name: t\nsummary: s\nagents: [alice]\nsteps:\n  - send: OPTIONS\n",
            (3, 9), K::WrongType, &["expected a mapping", "found a list"], true),
        step_case("wrong type for a text", "  - send: OPTIONS\n    uri: [a]\n",
            (7, 10), K::WrongType, &["expected a text value, found a list"], true),
    ]
}

/// Values of the right type that are not allowed.
fn value_cases() -> Vec<Case> {
    vec![
        step_case("misspelled method", "  - send: INVIT\n",
            (6, 11), K::InvalidValue, &["unknown method `INVIT`", "did you mean `INVITE`?", "use `raw`"], false),
        step_case("status out of range", "  - expect: 700\n",
            (6, 13), K::InvalidValue, &["expected a status code from 100 to 699, found 700"], true),
        step_case("status out of range in send", "  - expect: INVITE\n  - send: \"99 Low\"\n",
            (7, 11), K::InvalidValue, &["from 100 to 699", "`99`"], true),
        step_case("undefined agent in from", "  - send: OPTIONS\n    from: alcie\n",
            (7, 11), K::Undefined, &["undefined agent `alcie` in `from`", "(agents: alice)", "did you mean `alice`?"], false),
        step_case("undefined agent in at", "  - send: OPTIONS\n  - expect: 200\n    at: bob\n",
            (8, 9), K::Undefined, &["undefined agent `bob` in `at`"], false),
        case("agent named target", "name: t\nsummary: s\nagents:\n  target: {}\nsteps:\n  - send: OPTIONS\n",
            (4, 3), K::InvalidValue, &["cannot be named `target`"], true),
        case("duplicate agent", "name: t\nsummary: s\nagents:\n  alice: {}\n  alice: { user: a2 }\nsteps:\n  - send: OPTIONS\n",
            (5, 3), K::Duplicate, &["duplicate key `alice`"], false),
        step_case("undefined variable", "  - send: OPTIONS\n    headers:\n      Subject: \"hi [nope]\"\n",
            (8, 20), K::Undefined, &["undefined variable `[nope]`", "from `variables`"], false),
        step_case("undefined variable inside raw", "  - send: OPTIONS\n    raw: |\n      OPTIONS sip:x SIP/2.0\n      Call-ID: [callid]\n\n",
            (9, 16), K::Undefined, &["undefined variable `[callid]`", "did you mean `call_id`?"], false),
        step_case("variable captured only later", "  - send: OPTIONS\n    headers: { X-Tag: \"[tag]\" }\n  - expect: 200\n    capture: { tag: to.tag }\n",
            (7, 24), K::Undefined, &["undefined variable `[tag]`"], false),
        step_case("[len] outside raw", "  - send: OPTIONS\n    headers: { X: \"[len]\" }\n",
            (7, 20), K::Undefined, &["only available in `raw`"], false),
        step_case("duration without unit", "  - expect: 200\n    timeout: 5\n",
            (7, 14), K::InvalidValue, &["expected a duration with a unit", "found the number 5"], true),
        step_case("duration with unknown unit", "  - wait: 5 sec\n",
            (6, 11), K::InvalidValue, &["expected a duration", "` sec`"], true),
        step_case("unknown SDP direction", "  - expect: 200\n    sdp: { direction: sendonli }\n",
            (7, 23), K::InvalidValue, &["expected a direction (sendrecv, sendonly, recvonly or inactive)", "`sendonli`"], true),
        step_case("bad IP in SDP assertion", "  - expect: 200\n    sdp: { connection: 1.2.3 }\n",
            (7, 24), K::InvalidValue, &["expected an IPv4 or IPv6 address", "`1.2.3`"], true),
        step_case("bad capture path", "  - expect: 200\n    capture: { t: to.tga }\n",
            (7, 19), K::InvalidValue, &["unknown capture path `to.tga`", "did you mean `to.tag`?"], true),
        step_case("bad header name", "  - send: OPTIONS\n    headers:\n      \"X Bad\": 1\n",
            (8, 7), K::InvalidValue, &["expected a header name (a token", "`X Bad`"], true),
        step_case("header given twice via its compact form", "  - send: OPTIONS\n    headers: { f: a, From: b }\n",
            (7, 22), K::Duplicate, &["header `From` is given twice", "`f`"], false),
    ]
}

/// The shape of steps and the combinations of their keys.
fn step_shape_cases() -> Vec<Case> {
    vec![
        case("empty steps", "name: t\nsummary: s\nagents:\n  alice: {}\nsteps: []\n",
            (5, 8), K::InvalidValue, &["expected at least one step, found none"], true),
        step_case("step without a kind", "  - {}\n",
            (6, 5), K::MissingKey, &["one of the keys send, expect, one_of, unordered, wait, not or act"], true),
        step_case("two kinds in one step", "  - send: OPTIONS\n    expect: 200\n",
            (7, 13), K::Conflict, &["`expect` cannot be combined with `send`"], true),
        step_case("one_of with one entry", "  - one_of:\n      - expect: 180\n",
            (7, 7), K::InvalidValue, &["expected at least two entries in `one_of`, found 1"], true),
        step_case("unordered holding a send", "  - unordered:\n      - expect: 180\n      - send: BYE\n",
            (8, 15), K::Conflict, &["`unordered` holds expect steps only, found `send`"], true),
        step_case("raw with sdp", "  - send: OPTIONS\n    sdp: offer\n    raw: \"OPTIONS sip:x SIP/2.0\"\n",
            (7, 10), K::Conflict, &["`sdp` cannot be combined with `raw`"], true),
        step_case("raw with headers", "  - send: OPTIONS\n    raw: \"OPTIONS sip:x SIP/2.0\"\n    headers: { X: y }\n",
            (8, 14), K::Conflict, &["`headers` cannot be combined with `raw`"], true),
        step_case("ack on a non-INVITE", "  - send: BYE\n    ack: manual\n",
            (7, 10), K::Conflict, &["`ack` applies to INVITE only", "this step sends BYE"], true),
        case("probability above 1", "name: t\nsummary: s\nimpair:\n  outbound: { loss: 1.5 }\nagents:\n  alice: {}\nsteps:\n  - send: OPTIONS\n",
            (4, 21), K::InvalidValue, &["expected a probability from 0 to 1", "1.5"], true),
        case("unknown role", "name: t\nsummary: s\ntarget: { role: proxi }\nagents:\n  alice: {}\nsteps:\n  - send: OPTIONS\n",
            (3, 17), K::InvalidValue, &["expected one of ua, proxy, b2bua, registrar, found `proxi`", "did you mean `proxy`?"], true),
        case("misspelled capability", "name: t\nsummary: s\ntarget: { needs: [INVITE, 100rle] }\nagents:\n  alice: {}\nsteps:\n  - send: OPTIONS\n",
            (3, 27), K::InvalidValue, &["unknown option tag `100rle`", "did you mean `100rel`?"], false),
        step_case("YAML 1.1 boolean", "  - expect: 200\n    optional: yes\n",
            (7, 15), K::WrongType, &["expected true or false"], true),
        step_case("from in an expect step", "  - send: OPTIONS\n  - expect: 200\n    from: alice\n",
            (8, 11), K::UnknownKey, &["`from` does not belong in an expect step", "is `at`"], true),
        step_case("to on a response", "  - expect: INVITE\n  - send: 200\n    to: alice\n",
            (8, 9), K::UnknownKey, &["`to` does not belong in a send step for a response"], true),
    ]
}

/// References between steps.
fn reference_cases() -> Vec<Case> {
    vec![
        step_case(
            "response without a request",
            "  - send: 200\n",
            (6, 5),
            K::Undefined,
            &["`alice` has not received one"],
            false,
        ),
        step_case(
            "dialog used before it exists",
            "  - send: BYE\n    dialog: call\n",
            (7, 13),
            K::Undefined,
            &["dialog `call` does not exist yet"],
            false,
        ),
        step_case(
            "explicit ACK without ack: manual",
            "  - send: INVITE\n  - expect: 200\n  - send: ACK\n",
            (8, 5),
            K::Conflict,
            &["needs an earlier INVITE from `alice` with `ack: manual`"],
            false,
        ),
        step_case(
            "undefined reply_to label",
            "  - expect: INVITE\n    label: inv\n  - send: 200\n    reply_to: invv\n",
            (9, 15),
            K::Undefined,
            &["undefined label `invv`", "did you mean `inv`?"],
            false,
        ),
        step_case(
            "not without within",
            "  - not: { expect: BYE }\n",
            (6, 10),
            K::MissingKey,
            &["`not` needs `within`"],
            true,
        ),
        step_case(
            "expect with a reason phrase",
            "  - expect: \"486 Busy Here\"\n",
            (6, 13),
            K::InvalidValue,
            &["write `486`"],
            false,
        ),
    ]
}

#[test]
fn malformed_files_fail_at_the_right_place() {
    let mut failures = Vec::new();
    for c in malformed_cases() {
        let e = match load_str(&c.text, "t.yaml") {
            Ok(_) => {
                failures.push(format!("{}: loaded", c.what));
                continue;
            }
            Err(e) => e,
        };
        let ok = (e.line, e.column) == c.at
            && e.kind == c.kind
            && c.words.iter().all(|w| e.message.contains(w));
        if !ok {
            failures.push(format!(
                "{}: expected {:?} {:?} {:?}, got {:?} {e}",
                c.what, c.at, c.kind, c.words, e.kind
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn the_schema_rejects_the_structural_mistakes() {
    let v = validator();
    for c in malformed_cases().into_iter().filter(|c| c.schema_rejects) {
        let doc = yaml_to_json(&c.text);
        assert!(!v.is_valid(&doc), "the schema accepts: {}", c.what);
    }
}

#[test]
fn error_display_is_file_line_column_message() {
    let e = load_str(&format!("{HEAD}  - send: INVIT\n"), "dir/x.yaml").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("dir/x.yaml:6:11: unknown method `INVIT`"),
        "{e}"
    );
    let e = load_file("no/such/file.yaml").unwrap_err();
    assert_eq!((e.line, e.column, e.kind), (0, 0, K::Io));
    assert!(
        e.to_string().starts_with("no/such/file.yaml: cannot read:"),
        "{e}"
    );
}

#[test]
fn every_error_of_a_file_is_reported_in_file_order() {
    let text = format!("{HEAD}  - send: OPTIONS\n    from: bob\n  - expect: 200\n    at: carol\n    timeout: 0.5s\n");
    let errors: Vec<LoadError> = load_str_all(&text, "t.yaml").unwrap_err();
    let at: Vec<(u32, u32)> = errors.iter().map(|e| (e.line, e.column)).collect();
    assert_eq!(at, [(7, 11), (9, 9)], "{errors:?}");
}

fn temp_dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("sub/.hidden")).expect("temp dir");
    d
}

#[test]
fn load_dir_recurses_sorts_and_reports_duplicate_names() {
    let d = temp_dir("scenario_load_dir");
    let one = |name: &str| {
        format!("name: {name}\nsummary: s\nagents: {{ a: {{}} }}\nsteps:\n  - send: OPTIONS\n")
    };
    std::fs::write(d.join("b.yaml"), one("second")).unwrap();
    std::fs::write(d.join("a.yml"), one("first")).unwrap();
    std::fs::write(d.join("sub/c.yaml"), one("first")).unwrap();
    std::fs::write(d.join("sub/.hidden/h.yaml"), "not: [a scenario").unwrap();
    std::fs::write(d.join("notes.txt"), "ignored").unwrap();
    std::fs::write(d.join("sub/bad.yaml"), "name: bad\n").unwrap();
    let (scenarios, errors) = load_dir(&d);
    let names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["first", "second"]);
    let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(errors.len(), 4, "{shown:#?}");
    let dup = errors
        .iter()
        .find(|e| e.kind == K::Duplicate)
        .expect("duplicate name");
    assert!(dup.file.ends_with("sub/c.yaml"), "{dup}");
    assert_eq!((dup.line, dup.column), (1, 7));
    assert!(
        dup.message.contains("`first` is already used by") && dup.message.contains("a.yml:1:7"),
        "{dup}"
    );
    assert!(errors.iter().all(|e| !e.file.contains(".hidden")));
}

fn load_example(file: &str) -> Scenario {
    load_file(examples_dir().join(file)).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn defaults_are_resolved_by_the_loader() {
    let s = load_example("basic-call-uas.yaml");
    // `send: 180` names no agent: it is the agent of the previous step, and it answers the
    // latest request.
    let Step::Send(send) = &s.steps[2].value else {
        panic!("a send step")
    };
    assert_eq!(send.from.value, "bob");
    assert!(
        matches!(&send.message, Outgoing::Response { status: 180, reply_to, .. } if reply_to.value == ReplyTo::Latest)
    );
    assert_eq!((s.steps[2].line, s.steps[2].column), (29, 5));
    let s = load_example("basic-call-uac.yaml");
    let Step::Send(invite) = &s.steps[0].value else {
        panic!("a send step")
    };
    assert!(matches!(&invite.message, Outgoing::Request { to, .. } if to.value == Peer::Target));
    let Content::Built(b) = &invite.content else {
        panic!("built")
    };
    assert_eq!(b.body, BodySpec::Auto);
}

#[test]
fn number_like_header_values_keep_their_spelling() {
    let text = format!("{HEAD}  - send: OPTIONS\n    headers: {{ X-Version: 1.10, Max-Forwards: 070, Y: 0x1F, Z: true }}\n");
    let s = load_str(&text, "t.yaml").unwrap_or_else(|e| panic!("{e}"));
    let Step::Send(send) = &s.steps[0].value else {
        panic!()
    };
    let Content::Built(b) = &send.content else {
        panic!()
    };
    let values: Vec<&str> = b
        .headers
        .iter()
        .map(|h| h.values.as_ref().unwrap()[0].source.as_str())
        .collect();
    assert_eq!(values, ["1.10", "070", "0x1F", "true"]);
}

/// Every key of the format, once or more.
const FULL: &str = r#"
name: every-key
summary: Uses every key of the format.
references: ["RFC 3261"]
tags: [reference]
target:
  role: b2bua
  needs: [INVITE, REFER, 100rel, event:refer]
  acts: false
timers: { t1: 100ms, t2: 800ms, t4: 1s }
deadline: 2m
impair:
  seed: 42
  outbound: { loss: 0.1, delay: 20ms, jitter: 5ms, duplicate: 0.05, reorder: 0.02, hold: 100ms }
  inbound: { loss: 0 }
  rules:
    - { drop: first, match: 200, direction: inbound }
    - { drop: 2, match: 1xx }
    - { drop: all, match: "180-183", direction: outbound }
agents:
  alice: { user: alice, transport: udp, display: "Alice A." }
  bob: { user: 1002, transport: tcp }
  carol:
variables: { greeting: hello, n: 5 }
steps:
  - send: INVITE
    from: alice
    to: bob
    uri: "sip:[agent.bob.user]@[target.host]:[target.port]"
    dialog: a_leg
    ack: manual
    headers: { Subject: "[greeting]", Route: ["<sip:[target.host];lr>"], Max-Forwards: null }
    sdp: { direction: sendrecv, codecs: [PCMU, PCMA], connection: 192.0.2.1, port_zero: false }
  - expect: INVITE
    at: bob
    dialog: b_leg
    label: b_invite
    timeout: 5s
    headers: { From: { contains: "[agent.alice.user]" }, Subject: hello, X-Absent: absent, Via: { matches: "^SIP/2\\.0/" } }
    sdp: { direction: sendrecv, codecs: [PCMU], connection: "192.0.2.1", port_zero: false, media: 1 }
    body: { content_type: application/sdp, contains: "m=audio", matches: "v=0" }
    capture: { b_branch: header.Via.branch, b_call: call-id }
  - send: 180
    from: bob
    reply_to: b_invite
  - one_of:
      - expect: 180
        at: alice
        dialog: a_leg
      - expect: 183
    optional: true
    timeout: 3s
  - send: "200 OK"
    from: bob
    reply_to: INVITE
    dialog: b_leg
    sdp: answer
  - expect: 2xx
    at: alice
  - send: ACK
    from: alice
    dialog: a_leg
  - unordered:
      - expect: ACK
        at: bob
      - expect: NOTIFY
        at: alice
        optional: true
        headers: { Event: { contains: refer } }
    timeout: 2s
  - wait: 1.5s
  - not: { expect: BYE, at: bob, dialog: b_leg, headers: { Reason: present }, sdp: absent, body: absent, within: 500ms }
  - send: MESSAGE
    from: carol
    body: { content_type: text/plain, text: "[greeting] [b_call] [call_id] [branch] [cseq] [run_id] [transport] [local.uri]" }
  - expect: 200
  - send: OPTIONS
    raw: "OPTIONS sip:[target.host] SIP/2.0\r\nContent-Length: [len]\r\n\r\n"
  - expect: 400-499
"#;

#[test]
fn a_scenario_using_every_key_loads_and_validates() {
    let s = load_str(FULL, "full.yaml").unwrap_or_else(|e| panic!("{e}"));
    let errors: Vec<String> = validator()
        .iter_errors(&yaml_to_json(FULL))
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let Some(Step::Unordered(u)) = s
        .steps
        .iter()
        .map(|st| &st.value)
        .find(|st| matches!(st, Step::Unordered(_)))
    else {
        panic!("an unordered step")
    };
    assert_eq!(u.entries.len(), 2);
    assert!(
        matches!(&u.entries[1].headers[0].assertion, HeaderAssertion::Contains(t) if t.source == "refer")
    );
    // The default agent follows the previous step: the raw OPTIONS is sent by carol.
    let Step::Send(raw) = &s.steps[s.steps.len() - 2].value else {
        panic!("a send step")
    };
    assert_eq!(raw.from.value, "carol");
}

#[test]
fn siptest_schema_prints_the_schema() {
    let out = Command::new(env!("CARGO_BIN_EXE_siptest"))
        .arg("schema")
        .output()
        .expect("run siptest");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(printed, siptest::scenario::json_schema());
    assert_eq!(
        printed["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    jsonschema::meta::validate(&printed).expect("a valid draft 2020-12 schema");
    let v = jsonschema::options()
        .should_validate_formats(true)
        .build(&printed)
        .expect("compiles");
    for f in example_files() {
        let doc = yaml_to_json(&std::fs::read_to_string(&f).unwrap());
        let errors: Vec<String> = v
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", f.display());
    }
}

/// The YAML snippets of docs/scenarios.md load: whole files as they are, lists of steps
/// under a minimal scenario, other top-level keys beside one.
#[test]
fn the_documentation_snippets_load() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scenarios.md"))
            .expect("docs/scenarios.md");
    let mut count = 0;
    for block in doc.split("```yaml\n").skip(1) {
        let block = &block[..block.find("```").expect("closed block")];
        let text = if block.starts_with("name:") {
            block.to_string()
        } else if block.starts_with("  - ") {
            format!("{HEAD}{block}")
        } else {
            format!(
                "name: t\nsummary: s\n{block}agents:\n  alice: {{}}\nsteps:\n  - send: OPTIONS\n"
            )
        };
        if let Err(e) = load_str(&text, "docs/scenarios.md") {
            panic!("{e}\n{text}");
        }
        count += 1;
    }
    assert!(count >= 4, "{count} snippets");
}

#[test]
fn act_steps_resolve_their_agent_and_values() {
    let text = "name: t\nsummary: s\nagents:\n  alice: {}\n  bob: {}\nsteps:\n  \
                - act: answer\n    provisional: [180, 183]\n    status: none\n    ring: 200ms\n  \
                - act: call\n    with: bob\n    session_expires: 90\n  \
                - expect: INVITE\n  - send: 200\n  - expect: ACK\n  \
                - act: hold\n    style: zero-connection\n  \
                - act: transfer\n    to: alice\n  \
                - send: REGISTER\n    from: alice\n  - expect: 4xx\n  \
                - send: REGISTER\n    auth: { user: \"[agent.alice.user]\", password: pw, algorithm: SHA-256 }\n";
    let s = load_str(text, "t.yaml").unwrap_or_else(|e| panic!("{e}"));
    let steps: Vec<&Step> = s.steps.iter().map(|st| &st.value).collect();
    let Step::Act(answer) = steps[0] else {
        panic!("act")
    };
    assert_eq!(answer.with, None);
    assert_eq!(
        answer.action,
        ActKind::Answer {
            provisional: vec![180, 183],
            reliable: false,
            early_media: false,
            ring: std::time::Duration::from_millis(200),
            status: None,
        }
    );
    // `with: bob` makes bob the agent of the next steps.
    let Step::Expect(e) = steps[2] else {
        panic!("expect")
    };
    assert_eq!(e.at.value, "bob");
    let Step::Act(hold) = steps[5] else {
        panic!("act")
    };
    assert_eq!(hold.with.as_ref().unwrap().value, "bob");
    assert_eq!(hold.action.name(), "hold");
    let Step::Send(reg) = steps[9] else {
        panic!("send")
    };
    let Content::Built(b) = &reg.content else {
        panic!("built")
    };
    assert_eq!(
        b.auth.as_ref().unwrap().algorithm,
        Some(siptest::scenario::DigestChoice::Sha256)
    );
    let errors: Vec<String> = validator()
        .iter_errors(&yaml_to_json(text))
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn captures_count_from_the_next_step_and_not_receives_nothing() {
    let after_group = format!(
        "{HEAD}  - send: OPTIONS\n  - one_of:\n      - expect: 200\n        capture: {{ t: to.tag }}\n      \
         - expect: 202\n  - send: OPTIONS\n    headers: {{ X: \"[t]\" }}\n"
    );
    load_str(&after_group, "t.yaml").unwrap_or_else(|e| panic!("{e}"));
    let same_step = format!(
        "{HEAD}  - send: OPTIONS\n  - expect: 200\n    capture: {{ t: to.tag }}\n    headers: {{ To: {{ contains: \"[t]\" }} }}\n"
    );
    let e = load_str(&same_step, "t.yaml").unwrap_err();
    assert_eq!((e.line, e.column, e.kind), (9, 33, K::Undefined), "{e}");
    let after_not = format!("{HEAD}  - not: {{ expect: INVITE, within: 1s }}\n  - send: 200\n");
    let e = load_str(&after_not, "t.yaml").unwrap_err();
    assert_eq!((e.line, e.kind), (7, K::Undefined), "{e}");
}
