//! Parser and model tests.

use super::rules::*;
use super::*;
use crate::rule::{Rule, Span};
use std::net::{IpAddr, Ipv4Addr};

/// The body with every `\n` turned into CRLF.
pub(crate) fn crlf(s: &str) -> Vec<u8> {
    s.replace('\n', "\r\n").into_bytes()
}

pub(crate) const OFFER: &str = "v=0
o=alice 2890844526 2890844526 IN IP4 192.0.2.101
s=-
c=IN IP4 192.0.2.101
t=0 0
m=audio 49170 RTP/AVP 0 8 97
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:97 iLBC/8000
m=video 51372 RTP/AVP 31 32
a=rtpmap:31 H261/90000
a=rtpmap:32 MPV/90000
";

fn ids(sdp: &Sdp) -> Vec<&'static str> {
    sdp.violations.iter().map(|v| v.rule.id).collect()
}

fn only(sdp: &Sdp, rule: &Rule) -> Vec<Span> {
    sdp.violations
        .iter()
        .filter(|v| std::ptr::eq(v.rule, rule))
        .map(|v| v.span)
        .collect()
}

/// A minimal valid description with the given extra session lines and media section.
fn with_media(session_extra: &str, media: &str) -> Sdp {
    let body = format!(
        "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n{session_extra}{media}"
    );
    parse(&crlf(&body))
}

fn assert_lossless(body: &[u8], sdp: &Sdp) {
    assert_eq!(sdp.as_bytes(), body);
    let joined: Vec<u8> = sdp
        .lines
        .iter()
        .flat_map(|l| sdp.slice(l.full_span()).to_vec())
        .collect();
    assert_eq!(joined, body);
}

#[test]
fn typical_offer_parses_clean() {
    let body = crlf(OFFER);
    let sdp = parse(&body);
    assert!(sdp.violations.is_empty(), "{:?}", sdp.violations);
    assert_lossless(&body, &sdp);
    assert_eq!(sdp.version, Some(0));
    let o = sdp.origin.as_ref().unwrap();
    assert_eq!(
        (o.username.as_str(), o.version()),
        ("alice", Some(2890844526))
    );
    assert_eq!(o.address, "192.0.2.101");
    assert_eq!(sdp.session_name.as_deref(), Some("-"));
    assert_eq!(sdp.times.len(), 1);
    assert_eq!(sdp.media.len(), 2);
    let audio = &sdp.media[0];
    assert_eq!((audio.media.as_str(), audio.port), ("audio", 49170));
    assert_eq!(audio.proto, "RTP/AVP");
    assert_eq!(audio.formats, ["0", "8", "97"]);
    assert_eq!(audio.codec_names(), ["PCMU", "PCMA", "iLBC"]);
    assert!(sdp.slice(audio.span).starts_with(b"m=audio"));
    assert!(sdp
        .slice(audio.span)
        .ends_with(b"a=rtpmap:97 iLBC/8000\r\n"));
    assert_eq!(audio.lines, 5..9);
    assert_eq!(sdp.media[1].span.end, body.len());
    assert_eq!(
        sdp.effective_connection(1).unwrap().ip(),
        Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 101)))
    );
    assert_eq!(sdp.effective_direction(0), Direction::SendRecv);
    assert!(!sdp.is_hold());
}

#[test]
fn line_spans_and_values() {
    let body = crlf(OFFER);
    let sdp = parse(&body);
    let s = sdp.lines.iter().find(|l| l.kind == Some(b's')).unwrap();
    assert_eq!(sdp.slice(s.span), b"s=-");
    assert_eq!(sdp.slice(s.value), b"-");
    assert_eq!(s.ending, LineEnding::CrLf);
    let rtpmap = &sdp.media[0].attributes[2];
    assert_eq!(sdp.slice(rtpmap.span), b"a=rtpmap:97 iLBC/8000");
    assert_eq!(rtpmap.value.as_deref(), Some("97 iLBC/8000"));
}

#[test]
fn lf_only_is_one_warning() {
    let sdp = parse(OFFER.as_bytes());
    assert_eq!(ids(&sdp), ["sdp.line-ending.lf"]);
    assert_eq!(sdp.violations[0].span, Span::new(0, 3));
    assert_lossless(OFFER.as_bytes(), &sdp);
    assert_eq!(sdp.media.len(), 2);
    assert_eq!(sdp.media[0].codec_names(), ["PCMU", "PCMA", "iLBC"]);
}

#[test]
fn missing_final_line_ending_is_a_warning() {
    let mut body = crlf(OFFER);
    body.truncate(body.len() - 2);
    let sdp = parse(&body);
    assert_eq!(ids(&sdp), ["sdp.line-ending.missing"]);
    assert_lossless(&body, &sdp);
    assert_eq!(sdp.media[1].rtpmaps().len(), 2);
}

#[test]
fn ipv6_connection() {
    let sdp = parse(&crlf(
        "v=0\no=- 1 1 IN IP6 2001:db8::1\ns=-\nc=IN IP6 2001:db8::1\nt=0 0\nm=audio 5004 RTP/AVP 0\n",
    ));
    assert!(sdp.violations.is_empty(), "{:?}", sdp.violations);
    let c = sdp.effective_connection(0).unwrap();
    assert_eq!(c.addrtype, "IP6");
    assert_eq!(c.ip(), Some("2001:db8::1".parse().unwrap()));
    assert!(!c.is_zero());
}

#[test]
fn ipv4_mapped_ipv6_connection() {
    let sdp = with_media("", "m=audio 5004 RTP/AVP 0\nc=IN IP6 ::ffff:192.0.2.2\n");
    assert!(sdp.violations.is_empty(), "{:?}", sdp.violations);
    let c = sdp.effective_connection(0).unwrap();
    let Some(IpAddr::V6(a)) = c.ip() else {
        panic!("not v6")
    };
    assert_eq!(a.to_ipv4_mapped(), Some(Ipv4Addr::new(192, 0, 2, 2)));
    assert!(!c.is_zero());
}

#[test]
fn connection_addresses() {
    let good = [
        ("IN IP4 224.2.1.1/127/3", Some(127), Some(3)),
        ("IN IP4 224.2.1.1/127", Some(127), None),
        ("IN IP6 ff15::101/3", None, Some(3)),
        ("IN IP4 media.example.com", None, None),
        ("IN IP6 media.example.com", None, None),
        ("ATM NSAP 47.0091.8100.0000", None, None),
    ];
    for (c, ttl, count) in good {
        let sdp = with_media("", &format!("m=audio 5004 RTP/AVP 0\nc={c}\n"));
        assert!(sdp.violations.is_empty(), "{c}: {:?}", sdp.violations);
        let conn = sdp.media[0].connection().unwrap();
        assert_eq!((conn.ttl, conn.count), (ttl, count), "{c}");
    }
    let bad = [
        "IN IP4 2001:db8::1",
        "IN IP6 192.0.2.1",
        "IN IP4 300.1.1.1",
        "IN IP4 224.2.1.1",
        "IN IP4 192.0.2.1/127",
        "IN IP6 ff15::101/3/2",
        "IN IP6 fe80::1%eth0",
        "IN IP4",
        "IN  IP4 192.0.2.1",
        "IN IP4 bad_host!",
    ];
    for c in bad {
        let sdp = with_media("", &format!("m=audio 5004 RTP/AVP 0\nc={c}\n"));
        assert_eq!(ids(&sdp), ["sdp.connection.invalid"], "{c}");
    }
}

#[test]
fn hold_styles() {
    let cases = [
        ("a=sendonly\n", "", Some(HoldStyle::SendOnly)),
        ("a=inactive\n", "", Some(HoldStyle::Inactive)),
        ("a=recvonly\n", "", None),
        ("a=sendrecv\n", "", None),
        ("", "c=IN IP4 0.0.0.0\n", Some(HoldStyle::ZeroConnection)),
        ("", "c=IN IP6 ::\n", Some(HoldStyle::ZeroConnection)),
        (
            "a=sendonly\n",
            "c=IN IP4 0.0.0.0\n",
            Some(HoldStyle::ZeroConnection),
        ),
    ];
    for (attr, conn, want) in cases {
        let sdp = with_media("", &format!("m=audio 5004 RTP/AVP 0\n{conn}{attr}"));
        assert!(sdp.violations.is_empty(), "{:?}", sdp.violations);
        assert_eq!(sdp.hold_style(0), want, "{attr}{conn}");
        assert_eq!(sdp.is_hold(), want.is_some());
    }
    // Session-level hold, and a disabled stream is never "held".
    let sdp = with_media(
        "a=sendonly\n",
        "m=audio 5004 RTP/AVP 0\nm=video 0 RTP/AVP 31\n",
    );
    assert_eq!(sdp.hold_style(0), Some(HoldStyle::SendOnly));
    assert_eq!(sdp.hold_style(1), None);
    assert_eq!(sdp.hold_style(7), None);
    // The RFC 2543 style at session level.
    let sdp = parse(&crlf(
        "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 0.0.0.0\nt=0 0\nm=audio 5004 RTP/AVP 0\n",
    ));
    assert_eq!(sdp.hold_style(0), Some(HoldStyle::ZeroConnection));
}

#[test]
fn session_and_media_direction() {
    let sdp = with_media(
        "a=sendonly\n",
        "m=audio 5004 RTP/AVP 0\nm=audio 5006 RTP/AVP 0\na=recvonly\nm=audio 5008 RTP/AVP 0\na=inactive\n",
    );
    assert!(sdp.violations.is_empty(), "{:?}", sdp.violations);
    assert_eq!(sdp.direction(), Some(Direction::SendOnly));
    assert_eq!(sdp.effective_direction(0), Direction::SendOnly);
    assert_eq!(sdp.effective_direction(1), Direction::RecvOnly);
    assert_eq!(sdp.effective_direction(2), Direction::Inactive);
    let sdp = with_media("", "m=audio 5004 RTP/AVP 0\n");
    assert_eq!(sdp.effective_direction(0), Direction::SendRecv);
}

#[test]
fn multiple_directions_are_reported() {
    let sdp = with_media("", "m=audio 5004 RTP/AVP 0\na=sendonly\na=sendrecv\n");
    assert_eq!(ids(&sdp), ["sdp.direction.multiple"]);
    assert_eq!(sdp.slice(sdp.violations[0].span), b"a=sendrecv");
    // The first one counts.
    assert_eq!(sdp.effective_direction(0), Direction::SendOnly);
    // One at each level is fine.
    let sdp = with_media("a=sendrecv\n", "m=audio 5004 RTP/AVP 0\na=sendonly\n");
    assert!(sdp.violations.is_empty());
}

#[test]
fn bfcp_application_section_is_kept_byte_exact() {
    let section = "m=application 9 TCP/BFCP *\na=setup:passive\na=connection:new\n\
                   a=floorctrl:c-s\na=confid:4321\na=userid:1234\na=floorid:1 m-stream:10\n\
                   a=x-odd:  two  spaces  \na=flag\na=weird-#$&^{|}~:v:a:l\n";
    let sdp = with_media("", &format!("m=audio 5004 RTP/AVP 0\n{section}"));
    assert!(sdp.violations.is_empty(), "{:?}", sdp.violations);
    let app = &sdp.media[1];
    assert_eq!(app.media, "application");
    assert_eq!((app.port, app.proto.as_str()), (9, "TCP/BFCP"));
    assert_eq!(app.formats, ["*"]);
    assert!(!app.is_rtp());
    assert!(app.codec_names().is_empty());
    assert_eq!(sdp.slice(app.span), crlf(section).as_slice());
    let odd = app.attribute("x-odd").unwrap();
    assert_eq!(odd.value.as_deref(), Some("  two  spaces  "));
    assert_eq!(sdp.slice(odd.span), b"a=x-odd:  two  spaces  ");
    assert_eq!(app.attribute("flag").unwrap().value, None);
    let weird = app.attribute("weird-#$&^{|}~").unwrap();
    assert_eq!(weird.value.as_deref(), Some("v:a:l"));
    assert_eq!(
        app.attribute("floorid").unwrap().value.as_deref(),
        Some("1 m-stream:10")
    );
}

#[test]
fn malformed_lines_have_exact_spans() {
    let body = crlf(OFFER);
    let mut bad = body.clone();
    let at = bad.len();
    bad.extend_from_slice(b"garbage line\r\nv =0\r\n\r\na=ok\0x\r\nb=AS:64\n");
    let sdp = parse(&bad);
    assert_lossless(&bad, &sdp);
    let spans = only(&sdp, &LINE_MALFORMED);
    assert_eq!(spans.len(), 3, "{:?}", sdp.violations);
    assert_eq!(&bad[spans[0].range()], b"garbage line");
    assert_eq!(spans[0], Span::new(at, at + 12));
    assert_eq!(&bad[spans[1].range()], b"v =0");
    assert_eq!(&bad[spans[2].range()], b"a=ok\0x");
    let empty = only(&sdp, &LINE_EMPTY);
    assert_eq!(empty, [Span::new(at + 20, at + 20)]);
    let lf = only(&sdp, &LINE_ENDING_LF);
    assert_eq!(&bad[lf[0].range()], b"b=AS:64");
    // The malformed lines are kept, with no type.
    assert_eq!(sdp.lines.iter().filter(|l| l.kind.is_none()).count(), 3);
}

#[test]
fn missing_required_lines() {
    let sdp = parse(b"");
    assert_eq!(
        ids(&sdp),
        [
            "sdp.version.missing",
            "sdp.origin.missing",
            "sdp.session-name.missing",
            "sdp.time.missing"
        ]
    );
    let sdp = parse(&crlf("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=\nt=0 0\n"));
    assert_eq!(ids(&sdp), ["sdp.session-name.missing"]);
    let sdp = parse(&crlf("v=1\no=- 1 1 IN IP4 192.0.2.1\ns= \nt=0 0\n"));
    assert_eq!(ids(&sdp), ["sdp.version.invalid"]);
    assert_eq!(sdp.session_name.as_deref(), Some(" "));
}

#[test]
fn origin_problems() {
    for o in [
        "o=alice abc 1 IN IP4 192.0.2.1",
        "o=alice 1 1 IN IP4",
        "o=alice 1 1 IN IP4 2001:db8::1",
        "o=alice  1 1 IN IP4 192.0.2.1",
    ] {
        let sdp = parse(&crlf(&format!("v=0\n{o}\ns=-\nt=0 0\n")));
        assert_eq!(ids(&sdp), ["sdp.origin.invalid"], "{o}");
        assert!(sdp.origin.is_none());
    }
}

#[test]
fn unknown_type_order_and_duplicates() {
    let sdp = with_media("x=whatever\nV=0\n", "m=audio 5004 RTP/AVP 0\n");
    assert_eq!(
        ids(&sdp),
        ["sdp.line.unknown-type", "sdp.line.unknown-type"]
    );
    // a= before t= at session level; c= after a= and t= inside a media description.
    let sdp = parse(&crlf(
        "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\na=tool:x\nt=0 0\nm=audio 5004 RTP/AVP 0\na=ptime:20\nc=IN IP4 192.0.2.1\nt=0 0\n",
    ));
    let spans = only(&sdp, &LINE_ORDER);
    let lines: Vec<&[u8]> = spans.iter().map(|s| sdp.slice(*s)).collect();
    assert_eq!(lines, [&b"t=0 0"[..], b"c=IN IP4 192.0.2.1", b"t=0 0"]);
    assert_eq!(sdp.times.len(), 2);
    // Not starting with v=, r= before t=.
    let sdp = parse(&crlf(
        "o=- 1 1 IN IP4 192.0.2.1\nv=0\ns=-\nr=7d 1h 0 25h\nt=0 0\n",
    ));
    assert_eq!(only(&sdp, &LINE_ORDER).len(), 3, "{:?}", sdp.violations);
    let sdp = with_media("s=again\n", "m=audio 5004 RTP/AVP 0\ni=one\ni=two\n");
    assert_eq!(only(&sdp, &LINE_DUPLICATE).len(), 2, "{:?}", sdp.violations);
    assert_eq!(sdp.session_name.as_deref(), Some("-"));
    assert_eq!(sdp.media[0].information.as_deref(), Some("one"));
}

#[test]
fn connection_missing() {
    let sdp = parse(&crlf(
        "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=audio 5004 RTP/AVP 0\nc=IN IP4 192.0.2.1\nm=video 5006 RTP/AVP 31\n",
    ));
    assert_eq!(ids(&sdp), ["sdp.connection.missing"]);
    assert_eq!(
        sdp.slice(sdp.violations[0].span),
        b"m=video 5006 RTP/AVP 31"
    );
    assert!(sdp.effective_connection(1).is_none());
    assert!(sdp.effective_connection(0).is_some());
}

#[test]
fn media_line_problems() {
    for m in [
        "m=audio abc RTP/AVP 0",
        "m=audio 5004 RTP/AVP",
        "m=audio 5004 RTP/AVP abc",
        "m=audio 5004 RTP/AVP 128",
        "m=audio 70000 RTP/AVP 0",
        "m=audio 5004/0 RTP/AVP 0",
        "m=audio  5004 RTP/AVP 0",
        "m=",
    ] {
        let sdp = with_media("", &format!("{m}\n"));
        assert_eq!(ids(&sdp), ["sdp.media.invalid"], "{m}");
        assert_eq!(sdp.media.len(), 1);
    }
    let sdp = with_media("", "m=video 5004/2 RTP/AVP 31\n");
    assert!(sdp.violations.is_empty());
    assert_eq!(sdp.media[0].port_count, Some(2));
}

#[test]
fn rtpmap_problems() {
    let sdp = with_media(
        "a=rtpmap:0 PCMU/8000\n",
        "m=audio 5004 RTP/AVP 0 97 98 99\na=rtpmap:97 iLBC\na=rtpmap:200 x/8000\na=rtpmap:98 opus/48000/two\n",
    );
    // `97 iLBC` lacks only its clock rate: a warning of its own (RFC 4475 uses the form).
    assert_eq!(only(&sdp, &RTPMAP_INVALID).len(), 3, "{:?}", sdp.violations);
    assert_eq!(only(&sdp, &RTPMAP_NO_CLOCK_RATE).len(), 1);
    // 97, 98, 99 have no usable rtpmap.
    assert_eq!(only(&sdp, &RTPMAP_MISSING).len(), 3);
    let sdp = with_media(
        "",
        "m=audio 5004 RTP/AVP 97\na=rtpmap:97 iLBC/8000\na=rtpmap:97 PCMU/8000\n",
    );
    assert_eq!(ids(&sdp), ["sdp.rtpmap.invalid"]);
}

#[test]
fn codecs_rtpmaps_and_fmtp() {
    let sdp = with_media(
        "",
        "m=audio 5004 RTP/AVP 0 8 18 9 3 4 111 101\na=rtpmap:111 opus/48000/2\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\na=fmtp:18 annexb=no\n",
    );
    assert!(sdp.violations.is_empty(), "{:?}", sdp.violations);
    let m = &sdp.media[0];
    assert_eq!(
        m.codec_names(),
        [
            "PCMU",
            "PCMA",
            "G729",
            "G722",
            "GSM",
            "G723",
            "opus",
            "telephone-event"
        ]
    );
    assert_eq!(m.fmtp("101"), Some("0-15"));
    assert_eq!(m.fmtp("18"), Some("annexb=no"));
    assert_eq!(m.fmtp("0"), None);
    let opus = &m.rtpmaps()[0];
    assert_eq!(
        (opus.pt, opus.clock_rate, opus.channels),
        (111, 48000, Some(2))
    );
    assert_eq!(m.encoding(9).unwrap().encoding, "G722");
    assert!(m.encoding(96).is_none());
}

/// A tiny deterministic generator for the garbage test.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn exercise(body: &[u8]) {
    let sdp = parse(body);
    assert_lossless(body, &sdp);
    for v in &sdp.violations {
        assert!(v.span.end <= body.len() && v.span.start <= v.span.end);
    }
    for (i, m) in sdp.media.iter().enumerate() {
        let _ = (m.rtpmaps(), m.codec_names(), m.fmtp("0"), m.payload_types());
        let _ = (sdp.effective_direction(i), sdp.hold_style(i));
    }
    let _ = offer_answer::check_answer(&sdp, &sdp);
    let _ = offer_answer::check_reoffer(&sdp, &sdp);
    for style in [
        HoldStyle::SendOnly,
        HoldStyle::Inactive,
        HoldStyle::ZeroConnection,
    ] {
        let _ = parse(&hold(&sdp, style));
    }
    let _ = parse(&unhold(&sdp, Some(IpAddr::V4(Ipv4Addr::LOCALHOST))));
}

#[test]
fn garbage_never_panics() {
    let fixed: &[&[u8]] = &[
        b"",
        b"\r\n",
        b"\n\n\n",
        b"\r",
        b"=",
        b"m=",
        b"m=audio",
        b"m= 1 2 3",
        b"a=rtpmap:",
        b"a=rtpmap:96 /",
        b"a=:",
        b"c=IN IP4 224.0.0.1/",
        b"c=IN IP6 ff00::1//",
        b"v=0\r",
        b"o=- 99999999999999999999999 99999999999999999999999 IN IP4 1.2.3.4\r\n",
        b"\xff\xfe=\x80\r\nm=\xc3\x28 0 RTP/AVP 0\r\n",
        b"m=audio 1/0 RTP/AVP 0\nm=audio 0 RTP/AVP 0\n",
    ];
    for body in fixed {
        exercise(body);
    }
    let all: Vec<u8> = (0..=255u8).collect();
    exercise(&all);
    // Random splices of real lines and random bytes.
    let pieces: Vec<&[u8]> = OFFER.as_bytes().split_inclusive(|&b| b == b'\n').collect();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..500 {
        let mut body = Vec::new();
        for _ in 0..(xorshift(&mut state) % 12) {
            let r = xorshift(&mut state);
            match r % 4 {
                0 => body.push((r >> 8) as u8),
                1 => body.extend_from_slice(b"\r\n"),
                _ => body.extend_from_slice(pieces[(r >> 8) as usize % pieces.len()]),
            }
        }
        exercise(&body);
    }
}
