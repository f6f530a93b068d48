//! Parse throughput of siptest against ezk-sip-types on the same messages in the same run.
//!
//! `cargo bench --bench parse` prints, for each message set and each parser, the median of five
//! ~1 s samples in messages/s and MB/s, and the ratio siptest/ezk. `-- --dump DIR` writes the
//! "typical call" messages to DIR (one file per message) and exits, so that `ci/bench.sh` can time
//! libosip2 on exactly the same bytes. `SIPTEST_BENCH_SECS` changes the sample length and
//! `SIPTEST_CORPUS` the corpus folder (default `../shared/corpus`).

use ezk_sip_types::_private_reexport::Bytes;
use ezk_sip_types::header::typed::{
    CSeq, CallID, Contact, ContentLength, FromTo, MaxForwards, Via,
};
use ezk_sip_types::msg::{Line, MessageLine, PullParser};
use ezk_sip_types::parse::Parse;
use ezk_sip_types::{Headers, Name};
use siptest::sip::parse::{parse_datagram, parse_head};
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// The messages

const SDP_ALICE: &str = "v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 198.51.100.7\r\n\
s=-\r\n\
c=IN IP4 198.51.100.7\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 0 8 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n";

const SDP_BOB: &str = "v=0\r\n\
o=bob 2808844564 2808844564 IN IP4 192.0.2.4\r\n\
s=-\r\n\
c=IN IP4 192.0.2.4\r\n\
t=0 0\r\n\
m=audio 3456 RTP/AVP 0 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=sendrecv\r\n";

const VIAS: &str = "Via: SIP/2.0/UDP biloxi.example.com:5060;branch=z9hG4bK4b43c2ff8.1\r\n\
Via: SIP/2.0/UDP atlanta.example.com:5060;branch=z9hG4bK77ef4c2312983.1;received=192.0.2.101\r\n\
Via: SIP/2.0/UDP 198.51.100.7:5060;rport=5060;received=198.51.100.7;branch=z9hG4bKnashds8\r\n";

const DIALOG: &str = "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n";

/// A message from its start line, header lines and body, with a correct Content-Length.
fn message(start: &str, headers: &str, content_type: Option<&str>, body: &str) -> Vec<u8> {
    let ct = content_type.map_or(String::new(), |c| format!("Content-Type: {c}\r\n"));
    format!(
        "{start}\r\n{headers}{ct}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One basic call as a UAS sees it (INVITE through two proxies, provisional and final responses,
/// ACK, BYE) plus a registration with a digest challenge and an OPTIONS ping.
fn typical_call() -> Vec<(&'static str, Vec<u8>)> {
    let to_tagged = "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n";
    let rr = "Record-Route: <sip:biloxi.example.com;lr>\r\nRecord-Route: <sip:atlanta.example.com;lr>\r\n";
    let bob_contact = "Contact: <sip:bob@192.0.2.4:5060;transport=udp>\r\n";
    vec![
        ("invite", message(
            "INVITE sip:bob@192.0.2.4:5060;transport=udp SIP/2.0",
            &format!("{VIAS}{rr}Max-Forwards: 68\r\nTo: Bob <sip:bob@biloxi.example.com>\r\n{DIALOG}\
CSeq: 314159 INVITE\r\nContact: <sip:alice@198.51.100.7:5060;transport=udp>\r\n\
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK, REFER, NOTIFY\r\n\
Supported: replaces, timer, 100rel\r\nUser-Agent: ExamplePhone/4.2.1 (build 2026)\r\n"),
            Some("application/sdp"), SDP_ALICE)),
        ("100-trying", message("SIP/2.0 100 Trying",
            &format!("{VIAS}To: Bob <sip:bob@biloxi.example.com>\r\n{DIALOG}CSeq: 314159 INVITE\r\n"), None, "")),
        ("180-ringing", message("SIP/2.0 180 Ringing",
            &format!("{VIAS}{rr}{to_tagged}{DIALOG}CSeq: 314159 INVITE\r\n{bob_contact}"), None, "")),
        ("200-ok-invite", message("SIP/2.0 200 OK",
            &format!("{VIAS}{rr}{to_tagged}{DIALOG}CSeq: 314159 INVITE\r\n{bob_contact}\
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE\r\nSupported: replaces, timer\r\n\
Server: ExampleUA/1.0\r\n"), Some("application/sdp"), SDP_BOB)),
        ("ack", message("ACK sip:bob@192.0.2.4:5060;transport=udp SIP/2.0",
            &format!("Via: SIP/2.0/UDP 198.51.100.7:5060;rport;branch=z9hG4bKnashds9\r\n\
Route: <sip:atlanta.example.com;lr>,<sip:biloxi.example.com;lr>\r\nMax-Forwards: 70\r\n{to_tagged}{DIALOG}\
CSeq: 314159 ACK\r\n"), None, "")),
        ("bye", message("BYE sip:alice@198.51.100.7:5060;transport=udp SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.4:5060;rport;branch=z9hG4bKnashds10\r\n\
Route: <sip:biloxi.example.com;lr>,<sip:atlanta.example.com;lr>\r\nMax-Forwards: 70\r\n\
From: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\nTo: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\nCSeq: 231 BYE\r\n", None, "")),
        ("200-ok-bye", message("SIP/2.0 200 OK",
            "Via: SIP/2.0/UDP 192.0.2.4:5060;rport=5060;received=192.0.2.4;branch=z9hG4bKnashds10\r\n\
From: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\nTo: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\nCSeq: 231 BYE\r\n", None, "")),
        ("register", message("REGISTER sip:registrar.biloxi.example.com SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.4:5060;rport;branch=z9hG4bKnashds7\r\nMax-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\nFrom: Bob <sip:bob@biloxi.example.com>;tag=456248\r\n\
Call-ID: 843817637684230@998sdasdh09\r\nCSeq: 1826 REGISTER\r\n\
Contact: <sip:bob@192.0.2.4:5060;transport=udp>;expires=7200\r\nExpires: 7200\r\n\
User-Agent: ExamplePhone/4.2.1\r\n", None, "")),
        ("401-challenge", message("SIP/2.0 401 Unauthorized",
            "Via: SIP/2.0/UDP 192.0.2.4:5060;rport=5060;received=192.0.2.4;branch=z9hG4bKnashds7\r\n\
To: Bob <sip:bob@biloxi.example.com>;tag=2493k59kd\r\nFrom: Bob <sip:bob@biloxi.example.com>;tag=456248\r\n\
Call-ID: 843817637684230@998sdasdh09\r\nCSeq: 1826 REGISTER\r\n\
WWW-Authenticate: Digest realm=\"biloxi.example.com\", qop=\"auth\", \
nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", algorithm=MD5\r\n", None, "")),
        ("options", message("OPTIONS sip:carol@chicago.example.com SIP/2.0",
            "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKhjhs8ass877\r\nMax-Forwards: 70\r\n\
To: <sip:carol@chicago.example.com>\r\nFrom: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710\r\nCSeq: 63104 OPTIONS\r\nContact: <sip:alice@pc33.atlanta.example.com>\r\n\
Accept: application/sdp\r\n", None, "")),
    ]
}

/// The 13 valid messages of RFC 4475 §3.1.1, from the corpus.
const RFC4475_VALID: &[&str] = &[
    "wsinv",
    "intmeth",
    "esc01",
    "escnull",
    "esc02",
    "lwsdisp",
    "longreq",
    "dblreq",
    "semiuri",
    "transports",
    "mpart01",
    "unreason",
    "noreason",
];

fn corpus_dir() -> PathBuf {
    std::env::var_os("SIPTEST_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus")))
}

fn rfc4475_valid() -> Result<Vec<(&'static str, Vec<u8>)>, String> {
    let dir = corpus_dir().join("rfc4475");
    RFC4475_VALID
        .iter()
        .map(|n| {
            let p = dir.join(format!("{n}.dat"));
            std::fs::read(&p)
                .map(|b| (*n, b))
                .map_err(|e| format!("{}: {e}", p.display()))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The parsers, each doing what it does for a received datagram

/// siptest's full path: start line and header lexing, Content-Length framing, and validation of
/// every header value through the typed views (and the SDP body). Returns a number that depends
/// on the result so the work cannot be optimised away.
fn siptest_full(b: &[u8]) -> usize {
    let d = parse_datagram(b);
    d.message.headers.len() + d.message.violations.len() + d.message.body().len()
}

/// siptest's lexer alone: start line and header field spans, no value validation.
fn siptest_head(b: &[u8]) -> usize {
    let h = parse_head(b);
    h.headers.len() + h.body_start.unwrap_or(0)
}

/// ezk-sip-types as a receiver uses it: copy into `Bytes`, split lines with `PullParser`, parse
/// the start line, parse each header line into the `Headers` multimap, then decode (its headers
/// are lazy) the ones siptest validates on every message: Via (all), From, To, Call-ID, CSeq,
/// Content-Length, Contact (all), Max-Forwards. Errors are counted, not fatal.
fn ezk(b: &[u8]) -> usize {
    ezk_parse(b, &mut |_| {})
}

/// The ezk work of [`ezk`]; `failed` is told the name of each step that returned an error.
fn ezk_parse(b: &[u8], failed: &mut dyn FnMut(&'static str)) -> usize {
    let src = Bytes::copy_from_slice(b);
    let mut lines = PullParser::new(&src, 0);
    let Some(Ok(first)) = lines.next() else {
        failed("first line");
        return 0;
    };
    let Ok(first) = std::str::from_utf8(first) else {
        failed("first line utf-8");
        return 0;
    };
    let mut n = match MessageLine::parse(&src)(first) {
        Ok((_, MessageLine::Request(_))) => 1,
        Ok((_, MessageLine::Response(_))) => 2,
        Err(_) => {
            failed("start line");
            3
        }
    };
    let mut headers = Headers::with_capacity(16);
    for line in &mut lines {
        let Ok(line) = line else {
            failed("incomplete head");
            break;
        };
        let Ok(text) = std::str::from_utf8(line) else {
            failed("header utf-8");
            continue;
        };
        match Line::parse(&src, text) {
            Ok((_, l)) => headers.insert(l.name, l.value),
            Err(_) => failed("header line"),
        }
    }
    let body = src.len() - lines.head_end().min(src.len());
    let mut count = |name: &'static str, r: Option<usize>| match r {
        Some(v) => v,
        None => {
            failed(name);
            0
        }
    };
    n += count("Via", headers.get_named::<Vec<Via>>().ok().map(|v| v.len()));
    n += count(
        "From",
        headers
            .get::<FromTo>(Name::FROM)
            .ok()
            .map(|f| f.tag.map_or(1, |t| t.len())),
    );
    n += count(
        "To",
        headers
            .get::<FromTo>(Name::TO)
            .ok()
            .map(|f| f.tag.map_or(1, |t| t.len())),
    );
    n += count(
        "Call-ID",
        headers.get_named::<CallID>().ok().map(|c| c.0.len()),
    );
    n += count(
        "CSeq",
        headers.get_named::<CSeq>().ok().map(|c| c.cseq as usize),
    );
    n += count(
        "Content-Length",
        headers.get_named::<ContentLength>().ok().map(|c| c.0),
    );
    if headers.contains(&Name::CONTACT) {
        n += count(
            "Contact",
            headers.get_named::<Vec<Contact>>().ok().map(|c| c.len()),
        );
    }
    if headers.contains(&Name::MAX_FORWARDS) {
        n += count(
            "Max-Forwards",
            headers
                .get_named::<MaxForwards>()
                .ok()
                .map(|m| m.0 as usize),
        );
    }
    n + body
}

// ---------------------------------------------------------------------------------------------
// Timing

struct Rate {
    msgs_per_s: f64,
    mb_per_s: f64,
}

fn pass(set: &[(&str, Vec<u8>)], f: fn(&[u8]) -> usize) -> usize {
    let mut acc = 0;
    for (_, m) in set {
        acc += f(black_box(m));
    }
    black_box(acc)
}

/// Repeats passes over `set` for `secs` after a warm-up; five samples, median.
fn time(set: &[(&str, Vec<u8>)], f: fn(&[u8]) -> usize, secs: f64) -> Rate {
    let bytes: usize = set.iter().map(|(_, m)| m.len()).sum();
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_secs_f64(secs / 4.0) {
        pass(set, f);
    }
    let mut rates: Vec<(f64, f64)> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let mut passes = 0u64;
            while t.elapsed().as_secs_f64() < secs {
                for _ in 0..16 {
                    pass(set, f);
                }
                passes += 16;
            }
            let s = t.elapsed().as_secs_f64();
            let msgs = passes as f64 * set.len() as f64 / s;
            (msgs, passes as f64 * bytes as f64 / s / 1e6)
        })
        .collect();
    rates.sort_by(|a, b| a.0.total_cmp(&b.0));
    Rate {
        msgs_per_s: rates[2].0,
        mb_per_s: rates[2].1,
    }
}

const TYPICAL_REFERENCE: f64 = 390_000.0;

fn run_set(name: &str, set: &[(&str, Vec<u8>)], secs: f64) -> f64 {
    let bytes: usize = set.iter().map(|(_, m)| m.len()).sum();
    println!(
        "\n== {name}: {} messages, {bytes} bytes (largest {} bytes) ==",
        set.len(),
        set.iter().map(|(_, m)| m.len()).max().unwrap_or(0)
    );
    // Sanity: the typical messages are valid, so siptest must find no errors in them.
    for (n, m) in set {
        let d = parse_datagram(m);
        if d.message.has_errors() {
            println!(
                "  note: siptest reports errors in {n}: {:?}",
                d.message.rule_ids()
            );
        }
    }
    let full = time(set, siptest_full, secs);
    let head = time(set, siptest_head, secs);
    let ez = time(set, ezk, secs);
    let row = |label: &str, r: &Rate| {
        println!(
            "  {label:58} {:>12.0} msgs/s {:>9.1} MB/s",
            r.msgs_per_s, r.mb_per_s
        )
    };
    row("siptest parse_datagram (lex + framing + validation)", &full);
    row("siptest parse_head (lexing only)", &head);
    row(
        "ezk-sip-types (lines + start line + Headers + 8 decodes)",
        &ez,
    );
    println!(
        "  ratio siptest/ezk: full {:.2}x, lexing only {:.2}x",
        full.msgs_per_s / ez.msgs_per_s,
        head.msgs_per_s / ez.msgs_per_s
    );
    let key = name.split_whitespace().next().unwrap_or(name);
    println!("RESULT {key} siptest-full {:.0}", full.msgs_per_s);
    println!("RESULT {key} siptest-head {:.0}", head.msgs_per_s);
    println!("RESULT {key} ezk {:.0}", ez.msgs_per_s);
    full.msgs_per_s
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let typical = typical_call();
    if let Some(i) = args.iter().position(|a| a == "--dump") {
        let dir = PathBuf::from(args.get(i + 1).expect("--dump needs a directory"));
        std::fs::create_dir_all(&dir).expect("create dump dir");
        for (k, (n, m)) in typical.iter().enumerate() {
            std::fs::write(dir.join(format!("{k:02}-{n}.sip")), m).expect("write message");
        }
        println!("wrote {} messages to {}", typical.len(), dir.display());
        return;
    }
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it, and
    // then one pass of each parser over the messages is enough to show the bench still works.
    if !args.iter().any(|a| a == "--bench") {
        let mut sets = vec![typical];
        sets.extend(rfc4475_valid().ok());
        for set in &sets {
            for (n, m) in set {
                assert_eq!(parse_datagram(m).to_bytes(), *m, "{n}: siptest round trip");
                black_box((siptest_full(m), siptest_head(m), ezk(m)));
            }
        }
        println!("bench parse: smoke run done (use `cargo bench --bench parse` for timings)");
        return;
    }
    let secs: f64 = std::env::var("SIPTEST_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    println!("parse throughput, single thread, median of 5 samples of {secs} s after a warm-up");
    println!(
        "siptest parse_datagram: start line, header spans, Content-Length framing, every header \
value validated through the typed views, body checks (SDP); the message owns a copy of the bytes."
    );
    println!("siptest parse_head: start line and header field spans only.");
    println!(
        "ezk-sip-types: Bytes copy, PullParser lines, MessageLine::parse, Line::parse of every \
header into Headers (allocates each value), then decodes Vec<Via>, From, To, CallID, CSeq, \
ContentLength, Vec<Contact>, MaxForwards (the headers siptest checks on every message); other \
headers stay undecoded (lazy) and the body is not looked at."
    );
    let typical_rate = run_set(
        "typical call (INVITE w/ SDP, 100, 180, 200 w/ SDP, ACK, BYE, 200, REGISTER, 401, OPTIONS)",
        &typical,
        secs,
    );
    match rfc4475_valid() {
        Ok(set) => {
            run_set("rfc4475-valid (13 messages of RFC 4475 §3.1.1)", &set, secs);
        }
        Err(e) => println!("\n== rfc4475-valid: skipped, corpus not found ({e}) =="),
    }
    println!(
        "\nreference: libosip2 ~390k typical msgs/s on one core of this machine; target >= 3x = 1.17M msgs/s; \
measured siptest parse_datagram {:.0} msgs/s = {:.2}x libosip2 ({})",
        typical_rate,
        typical_rate / TYPICAL_REFERENCE,
        if typical_rate >= 3.0 * TYPICAL_REFERENCE { "target met" } else { "below target" }
    );
}
