//! Differential tests of the fast paths against the typed views, which are the reference.
//!
//! The promise under test: whenever a fast checker says "clean", the typed path reports nothing
//! for that value (so skipping it cannot change what `validate` reports). It is checked on
//! values generated from grammar pieces, on every single-byte edit of real values, and on the
//! corpora; whole messages must get exactly the same violations with the fast paths on and off.
//! The typical-call values must also take the fast path, or the speed-up silently goes away.

use super::testgen::{
    edit_bytes, edit_strategy, header_value, message, mutate, sdp_body, single_edits, uri,
    FAST_HEADERS,
};
use super::*;
use crate::sip::parse::{parse_datagram, parse_message};
use crate::sip::validate::{typed, violations};
use crate::sip::{Message, StartLine};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::path::PathBuf;

/// Request methods (and `None` for a response) each value is checked under.
const METHODS: &[Option<&str>] = &[None, Some("INVITE"), Some("ACK"), Some("REGISTER")];

/// Checks the promise for one header value under every context; returns whether the fast path
/// accepted it under some context.
fn assert_sound(name: HeaderName, v: &[u8]) -> bool {
    if matches!(name, HeaderName::From | HeaderName::To) {
        assert_tag_agrees(v);
    }
    if name == HeaderName::Via {
        assert_top_via_agrees(v);
    }
    let mut accepted = false;
    for m in METHODS {
        if !header_clean(name, v, m.map(str::as_bytes)) {
            continue;
        }
        accepted = true;
        for first_via in [true, false] {
            let found = typed::header(name, v, *m, first_via);
            assert!(
                found.is_empty(),
                "fast path accepted {name:?} `{}` (method {m:?}) but the typed path reports {:?}",
                String::from_utf8_lossy(v).escape_debug(),
                found.iter().map(|x| x.to_string()).collect::<Vec<_>>()
            );
        }
    }
    accepted
}

/// Whenever `from_to_parts` answers, the typed parse succeeds with the same URI and tag.
fn assert_tag_agrees(v: &[u8]) {
    let Some(fast) = from_to_parts(v) else {
        return;
    };
    let text = std::str::from_utf8(v).expect("a clean value is ASCII");
    let tag = fast
        .tag
        .map(|t| lex::unquote(std::str::from_utf8(t).unwrap()).into_owned());
    let uri = std::str::from_utf8(fast.uri).unwrap().to_string();
    let typed = crate::sip::addr::parse_from_to(text)
        .ok()
        .map(|a| (a.uri.raw.clone(), a.tag()));
    assert_eq!(
        typed,
        Some((uri, tag)),
        "from_to_parts on `{}`",
        text.escape_debug()
    );
}

/// Whenever `top_via` answers, the typed parse of the first via-parm succeeds with the same
/// sent-by and branch.
fn assert_top_via_agrees(v: &[u8]) {
    let Some(fast) = top_via(v) else {
        return;
    };
    // Only the first via-parm is clean: what follows the comma may be anything.
    let text = String::from_utf8_lossy(v);
    let typed = crate::sip::headers::parse_via_list(&text)
        .into_iter()
        .next();
    let Some(Ok(typed)) = typed else {
        panic!(
            "top_via accepted `{}` but the typed parser did not",
            text.escape_debug()
        );
    };
    let host = std::str::from_utf8(fast.host).unwrap();
    assert_eq!(
        crate::sip::host::parse_host(host, false).ok().as_ref(),
        Some(&typed.sent_by_host),
        "host of `{}`",
        text.escape_debug()
    );
    assert_eq!(
        fast.port,
        typed.sent_by_port,
        "port of `{}`",
        text.escape_debug()
    );
    assert_eq!(
        Some(std::str::from_utf8(fast.branch).unwrap()),
        typed.branch(),
        "branch of `{}`",
        text.escape_debug()
    );
}

/// The same for a Request-URI.
fn assert_sound_ruri(v: &[u8]) -> bool {
    if !sip_uri_ok(v) {
        return false;
    }
    let found = typed::request_uri(v);
    assert!(
        found.is_empty(),
        "fast path accepted Request-URI `{}` but the typed path reports {found:?}",
        String::from_utf8_lossy(v).escape_debug()
    );
    true
}

/// The same for an SDP body.
fn assert_sound_sdp(body: &[u8]) -> bool {
    if !sdp_clean(body) {
        return false;
    }
    let found = crate::sdp::parse(body).violations;
    assert!(
        found.is_empty(),
        "fast path accepted SDP `{}` but the parser reports {found:?}",
        String::from_utf8_lossy(body).escape_debug()
    );
    true
}

fn cases(n: u32) -> Config {
    Config {
        cases: n,
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(cases(4096))]

    #[test]
    fn generated_header_values_accepted_fast_are_clean(
        (name, v) in prop::sample::select(FAST_HEADERS).prop_flat_map(|n| (Just(n), header_value(n)))
    ) {
        assert_sound(name, &v);
    }

}

proptest! {
    #![proptest_config(cases(1024))]

    #[test]
    fn generated_request_uris_accepted_fast_are_clean(
        (v, e) in (uri(), edit_strategy())
    ) {
        assert_sound_ruri(&mutate(v.into_bytes(), &e));
    }

    #[test]
    fn generated_sdp_accepted_fast_is_clean(body in sdp_body()) {
        assert_sound_sdp(&body);
    }

    #[test]
    fn generated_messages_get_the_same_violations(m in message()) {
        assert_same_violations("generated", &m);
    }
}

// ---------------------------------------------------------------------------------------------
// Whole messages and the corpora

/// The violations of `bytes` (parsed as a datagram and as a whole message) are the same with
/// the fast paths on and off: same rules, spans and details, in the same order.
fn assert_same_violations(what: &str, bytes: &[u8]) {
    for msg in [parse_datagram(bytes).message, parse_message(bytes)] {
        let fast = violations(&msg, true);
        let slow = violations(&msg, false);
        assert_eq!(
            fast,
            slow,
            "{what}: fast and typed validation differ on `{}`",
            String::from_utf8_lossy(bytes).escape_debug()
        );
    }
}

fn corpus_dir() -> PathBuf {
    std::env::var_os("SIPTEST_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus")))
}

/// Every `.dat` and `.sip` file of the corpus folders that exist, by name.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for sub in ["rfc4475", "rfc5118"] {
        let Ok(entries) = std::fs::read_dir(corpus_dir().join(sub)) else {
            eprintln!("corpus folder {sub} not found: skipped");
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "dat" || x == "sip") {
                let bytes = std::fs::read(&p).expect("read corpus file");
                out.push((p.display().to_string(), bytes));
            }
        }
    }
    out.sort();
    out
}

/// One basic call and a registration, as in `benches/parse.rs`.
const TYPICAL: &[&str] = &[
    "INVITE sip:bob@192.0.2.4:5060;transport=udp SIP/2.0\r\n\
Via: SIP/2.0/UDP biloxi.example.com:5060;branch=z9hG4bK4b43c2ff8.1\r\n\
Via: SIP/2.0/UDP atlanta.example.com:5060;branch=z9hG4bK77ef4c2312983.1;received=192.0.2.101\r\n\
Via: SIP/2.0/UDP 198.51.100.7:5060;rport=5060;received=198.51.100.7;branch=z9hG4bKnashds8\r\n\
Record-Route: <sip:biloxi.example.com;lr>\r\nRecord-Route: <sip:atlanta.example.com;lr>\r\n\
Max-Forwards: 68\r\nTo: Bob <sip:bob@biloxi.example.com>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\nCSeq: 314159 INVITE\r\n\
Contact: <sip:alice@198.51.100.7:5060;transport=udp>\r\n\
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK, REFER, NOTIFY\r\n\
Supported: replaces, timer, 100rel\r\nUser-Agent: ExamplePhone/4.2.1 (build 2026)\r\n\
Content-Type: application/sdp\r\nContent-Length: 242\r\n\r\n\
v=0\r\no=alice 2890844526 2890844526 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\n\
t=0 0\r\nm=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n",
    "REGISTER sip:registrar.biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.4:5060;rport;branch=z9hG4bKnashds7\r\nMax-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\nFrom: Bob <sip:bob@biloxi.example.com>;tag=456248\r\n\
Call-ID: 843817637684230@998sdasdh09\r\nCSeq: 1826 REGISTER\r\n\
Contact: <sip:bob@192.0.2.4:5060;transport=udp>;expires=7200\r\nExpires: 7200\r\n\
Route: <sip:atlanta.example.com;lr>,<sip:biloxi.example.com;lr>\r\n\
Accept: application/sdp\r\nContent-Length: 0\r\n\r\n",
    "SIP/2.0 401 Unauthorized\r\n\
Via: SIP/2.0/UDP 192.0.2.4:5060;rport=5060;received=192.0.2.4;branch=z9hG4bKnashds7\r\n\
To: Bob <sip:bob@biloxi.example.com>;tag=2493k59kd\r\n\
From: Bob <sip:bob@biloxi.example.com>;tag=456248\r\n\
Call-ID: 843817637684230@998sdasdh09\r\nCSeq: 1826 REGISTER\r\n\
WWW-Authenticate: Digest realm=\"biloxi.example.com\", qop=\"auth\", \
nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", algorithm=MD5\r\n\
Content-Length: 0\r\n\r\n",
];

/// The one-line values of the headers with a fast path in `msg`, and its Request-URI.
fn fast_values(msg: &Message) -> (Vec<Value>, Option<Vec<u8>>) {
    let values = msg
        .headers
        .iter()
        .filter(|h| !h.folded && FAST_HEADERS.contains(&h.name))
        .map(|h| (h.name, msg.bytes(h.value).to_vec()))
        .collect();
    let ruri = match msg.start_line {
        StartLine::Request { uri, .. } => Some(msg.bytes(uri).to_vec()),
        _ => None,
    };
    (values, ruri)
}

#[test]
fn typical_call_takes_the_fast_path_everywhere() {
    for m in TYPICAL {
        let msg = parse_datagram(m.as_bytes()).message;
        assert!(msg.violations.is_empty(), "{:?}", msg.violations);
        let (values, ruri) = fast_values(&msg);
        for (name, v) in values {
            assert!(
                assert_sound(name, &v),
                "{name:?} `{}` misses the fast path",
                String::from_utf8_lossy(&v)
            );
        }
        if let Some(u) = ruri {
            assert!(assert_sound_ruri(&u));
        }
        if !msg.body().is_empty() {
            assert!(
                assert_sound_sdp(msg.body()),
                "the SDP body misses the fast path"
            );
        }
    }
}

#[test]
fn corpus_messages_get_the_same_violations() {
    let corpus = corpus();
    for (name, bytes) in &corpus {
        assert_same_violations(name, bytes);
    }
    for m in TYPICAL {
        assert_same_violations("typical", m.as_bytes());
    }
}

/// A real value to edit: its header (`None` for a Request-URI) and its bytes.
type Seed = (Option<HeaderName>, Vec<u8>);

/// A header value: its header and its bytes.
type Value = (HeaderName, Vec<u8>);

/// Every single-byte edit of every fast-path value of the typical call and the corpora.
#[test]
fn single_byte_edits_of_real_values_are_sound() {
    let alphabet = edit_bytes();
    let mut seeds: std::collections::HashSet<Seed> = std::collections::HashSet::new();
    let msgs = TYPICAL
        .iter()
        .map(|m| m.as_bytes().to_vec())
        .chain(corpus().into_iter().map(|c| c.1));
    for bytes in msgs {
        let msg = parse_datagram(&bytes).message;
        let (values, ruri) = fast_values(&msg);
        seeds.extend(values.into_iter().map(|(n, v)| (Some(n), v)));
        seeds.extend(ruri.map(|u| (None, u)));
    }
    let (mut tried, mut accepted) = (0, 0);
    for (name, seed) in seeds.iter().filter(|s| s.1.len() <= 200) {
        for v in single_edits(seed, &alphabet) {
            tried += 1;
            let ok = match name {
                Some(n) => assert_sound(*n, &v),
                None => assert_sound_ruri(&v),
            };
            accepted += usize::from(ok);
        }
    }
    // The edits must reach both sides of the fast path's boundary.
    assert!(
        accepted > tried / 100 && accepted < tried,
        "{accepted} of {tried}"
    );
}

#[test]
fn single_byte_edits_of_the_typical_sdp_are_sound() {
    let msg = parse_datagram(TYPICAL[0].as_bytes()).message;
    let body = msg.body().to_vec();
    let mut edits = single_edits(&body, &edit_bytes());
    // Whole lines dropped and doubled, too.
    let lines: Vec<&[u8]> = body.split_inclusive(|&b| b == b'\n').collect();
    for i in 0..lines.len() {
        let mut drop = lines.clone();
        drop.remove(i);
        edits.push(drop.concat());
        let mut twice = lines.clone();
        twice.insert(i, lines[i]);
        edits.push(twice.concat());
    }
    let accepted = edits.iter().filter(|b| assert_sound_sdp(b)).count();
    assert!(accepted > 0 && accepted < edits.len());
}

#[test]
fn headers_without_a_value_check_are_never_looked_at() {
    // `validate` skips the headers `checks_value` leaves out: the typed path must report
    // nothing for them, whatever the value.
    let garbage: [&[u8]; 6] = [b"", b";;,,", b"\"", b"<sip:a@b", b"\xff\x00", b"a b c"];
    let names = HeaderName::ALL.iter().copied().chain([HeaderName::Other]);
    for name in names.filter(|n| !typed::checks_value(*n)) {
        for g in garbage {
            assert!(
                typed::header(name, g, Some("INVITE"), true).is_empty(),
                "{name:?}"
            );
        }
    }
}

/// The generators must produce values on both sides of every fast path's boundary, or the
/// properties above would test little.
#[test]
fn generators_reach_both_sides_of_the_fast_paths() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut rate = |what: &str, s: BoxedStrategy<Vec<u8>>, sound: &dyn Fn(&[u8]) -> bool| {
        let n = 400;
        let accepted = (0..n)
            .filter(|_| sound(&s.new_tree(&mut runner).expect("value").current()))
            .count();
        eprintln!("{what}: {accepted} of {n} accepted by the fast path");
        assert!(
            accepted >= n / 20 && accepted <= n * 19 / 20,
            "{what}: {accepted} of {n}"
        );
    };
    for &name in FAST_HEADERS {
        rate(&format!("{name:?}"), header_value(name).boxed(), &|v| {
            assert_sound(name, v)
        });
    }
    let ruri = (uri(), edit_strategy()).prop_map(|(v, e)| mutate(v.into_bytes(), &e));
    rate("Request-URI", ruri.boxed(), &assert_sound_ruri);
    rate("SDP", sdp_body().boxed(), &assert_sound_sdp);
}

#[test]
fn character_classes_match_the_typed_parsers() {
    for b in 0..=255u8 {
        assert_eq!(is(b, TOKEN), crate::sip::lex::is_token_char(b), "{b}");
        assert_eq!(is(b, WORD), crate::sip::headers::is_word_char(b), "{b}");
        assert_eq!(
            is(b, SDP_TOKEN),
            crate::sdp::fields::is_token_char(b),
            "{b}"
        );
        assert_eq!(is(b, DIGIT), b.is_ascii_digit(), "{b}");
        // Host names as `host::parse_host` reads them, which every other class but QDTEXT and
        // VCHAR (and WORD, GEN_VALUE, SDP_TOKEN) must hold too where the grammar says so.
        let host = b.is_ascii_alphanumeric() || b"-._".contains(&b);
        assert_eq!(is(b, HOST), host, "{b}");
        assert!(
            !host || (is(b, USER) && is(b, PARAM) && is(b, TOKEN)),
            "{b}"
        );
        // No class but QDTEXT and WS holds white space; none holds CR, LF or non-ASCII.
        let others = TOKEN | WORD | HOST | USER | PASSWORD | PARAM | GEN_VALUE | SDP_TOKEN | VCHAR;
        if b" \t".contains(&b) {
            assert!(!is(b, others), "{b}");
        }
        if b == b'\r' || b == b'\n' || b >= 0x80 {
            assert!(!is(b, others | QDTEXT | WS), "{b}");
        }
    }
}

#[test]
fn ipv4_literals_read_as_std_reads_them() {
    // The SDP fast path reads IPv4 literals itself; it must accept exactly what std accepts.
    let mut cases: Vec<String> = vec![
        "0.0.0.0",
        "255.255.255.255",
        "256.1.1.1",
        "01.2.3.4",
        "1.2.3",
        "1.2.3.4.5",
        "1..2.3",
        ".1.2.3",
        "1.2.3.",
        "1.2.3.04",
        "10.0.0.1",
        "1.2.3.4 ",
        "a.b.c.d",
        "",
        "1.2.3.0255",
        "199.255.0.00",
        "224.0.0.1",
        "0.00.0.0",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for a in [
        "0", "1", "09", "10", "99", "100", "199", "200", "249", "250", "255", "256", "999", "0000",
    ] {
        cases.push(format!("{a}.1.{a}.0"));
    }
    for c in &cases {
        let std = c.parse::<std::net::Ipv4Addr>().ok().map(|a| a.octets()[0]);
        assert_eq!(sdp::ipv4_first_octet(c.as_bytes()), std, "{c}");
    }
}
