//! Value generators for the differential tests of the fast paths: header values built from
//! their grammar with variants on each side of each fast path's boundary, SDP bodies, whole
//! messages, and random byte edits on top. Alternatives are written `"a|b|c"`.

use super::HeaderName;
use proptest::prelude::*;

/// Every header with a fast path.
pub(super) const FAST_HEADERS: &[HeaderName] = &[
    HeaderName::Via,
    HeaderName::From,
    HeaderName::To,
    HeaderName::Contact,
    HeaderName::Route,
    HeaderName::RecordRoute,
    HeaderName::Path,
    HeaderName::CSeq,
    HeaderName::CallId,
    HeaderName::MaxForwards,
    HeaderName::Expires,
    HeaderName::ContentType,
    HeaderName::Allow,
    HeaderName::Supported,
    HeaderName::Unsupported,
    HeaderName::Require,
    HeaderName::ProxyRequire,
    HeaderName::Accept,
    HeaderName::WwwAuthenticate,
    HeaderName::ProxyAuthenticate,
    HeaderName::Authorization,
    HeaderName::ProxyAuthorization,
];

/// One of the `|`-separated alternatives.
fn pick(alternatives: &'static str) -> BoxedStrategy<&'static str> {
    prop::sample::select(alternatives.split('|').collect::<Vec<_>>()).boxed()
}

/// An alternative from `good` most of the time, from `bad` otherwise.
fn mostly(good: &'static str, bad: &'static str) -> BoxedStrategy<&'static str> {
    prop_oneof![8 => pick(good), 1 => pick(bad)].boxed()
}

/// 0 to `n - 1` parameters, each from `good` most of the time.
fn params(good: &'static str, bad: &'static str, n: usize) -> BoxedStrategy<String> {
    prop::collection::vec(mostly(good, bad), 0..n)
        .prop_map(|p| p.concat())
        .boxed()
}

/// The concatenation of the parts.
fn concat(parts: Vec<BoxedStrategy<String>>) -> BoxedStrategy<String> {
    parts.prop_map(|p| p.concat()).boxed()
}

fn text(s: BoxedStrategy<&'static str>) -> BoxedStrategy<String> {
    s.prop_map(str::to_string).boxed()
}

/// `1..n` elements joined by list separators, valid ones most of the time.
fn list(elem: BoxedStrategy<String>, n: usize) -> BoxedStrategy<String> {
    let sep = mostly(", |,| , ", ",,| |;");
    (elem.clone(), prop::collection::vec((sep, elem), 0..n))
        .prop_map(|(first, rest)| {
            rest.into_iter()
                .fold(first, |acc, (sep, e)| format!("{acc}{sep}{e}"))
        })
        .boxed()
}

/// RFC 3261 §25.1 via-parm.
fn via_parm() -> BoxedStrategy<String> {
    let other = || {
        params(
            ";rport|;rport=5060|;received=192.0.2.2|;received=[2001:db8::9]|;ttl=1|;maddr=h\
             |;x=\"a;b,c\"|;x=[a:b]|; rport",
            ";rport=99999|;rport=\"1\"|;rport=a|;rport=|;x=\"|;;|;|;x=y z|;branch=1",
            3,
        )
    };
    concat(vec![
        text(mostly(
            "SIP/2.0/UDP|SIP/2.0/TCP|SIP/2.0/TLS|SIP/2.0/X-y.z|sip/2.0/udp",
            "SIP/3.0/UDP|SIP/2.0/|SIP /2.0/UDP|SIP/2.0",
        )),
        text(mostly(" |  |\t", "")),
        text(mostly(
            "host.example.com|h|192.0.2.1|255.255.255.254|[2001:db8::1]|[::ffff:192.0.2.1]|a_b-c.",
            "255.255.255.255|[2001:db8:::1]|[::1|2001:db8::1|ex!ample||host .com",
        )),
        text(mostly(
            "|:5060|:0|:65535|:05060",
            ":65536|:|:000000005060|:x| :5060",
        )),
        other(),
        text(mostly(
            ";branch=z9hG4bK776asdhds| ; branch = z9hG4bKsp|;BRANCH=z9hG4bKx",
            ";branch=z9hG4bK|;branch=z9hg4bk1|;branch|;branch=|;branch=\"z9hG4bKq\"\
             |;branch=z9hG4bK[1]|",
        )),
        other(),
    ])
}

/// RFC 3261 §25.1 SIP-URI and a few other schemes.
pub(super) fn uri() -> BoxedStrategy<String> {
    concat(vec![
        text(mostly("sip:|sips:|SIP:", "tel:|mailto:|sip|http:")),
        text(mostly(
            "|alice@|alice:pw@|%41lice@|+1-555@|a:@|a?b@",
            "a;b=c@|%4lice@|@|a b@|a:b:c@|\u{e9}@",
        )),
        text(mostly(
            "atlanta.example.com|192.0.2.4|[2001:db8::1]",
            "[::1||h!|2001:db8::1|a@b",
        )),
        text(mostly("|:5060|:0", ":99999|:|:5060:1")),
        params(
            ";transport=udp|;lr|;%6C%72|;maddr=[::1]",
            ";x=|;=y|;x=y=z|;x=%zz|;|;x=\"y\"",
            3,
        ),
        text(mostly("", "?h=v|?h|?a=b&c=d")),
    ])
}

/// RFC 3261 §25.1 name-addr (and addr-spec) with header parameters.
fn name_addr() -> BoxedStrategy<String> {
    let display = mostly(
        "|Alice |\"Alice\" |\"A, B\" |Alice Smith |caller|* ",
        "\"a\\\"b\" |A,B |\"open |Zo\u{eb} |\"Zo\u{eb}\" ",
    );
    let brackets = mostly("<>", "|< >|<");
    let header_params = params(
        ";tag=1928301774|;TAG=x|;tag=\"q\"|;expires=3600|;q=0.5| ; tag = a|;lr|;x=\"a,b\"",
        ";tag|;tag=|;x=|;=y|;x=[::1]|, ",
        3,
    );
    (display, brackets, uri(), header_params)
        .prop_map(|(d, b, u, p)| match b {
            "" => format!("{d}{u}{p}"),
            "<" => format!("{d}<{u}{p}"),
            "< >" => format!("{d}< {u}>{p}"),
            _ => format!("{d}<{u}>{p}"),
        })
        .boxed()
}

fn contact() -> BoxedStrategy<String> {
    prop_oneof![9 => list(name_addr(), 3), 1 => text(pick("*| *|*, <sip:a@b>"))].boxed()
}

fn cseq() -> BoxedStrategy<String> {
    concat(vec![
        text(mostly("314159|1|0|2147483647|00000001", "2147483648||-1")),
        text(mostly(" |\t|  ", "")),
        text(mostly("INVITE|ACK|REGISTER|X.Y", "invite|INV ITE|")),
    ])
}

fn call_id() -> BoxedStrategy<String> {
    let word = || {
        text(mostly(
            "a84b4c76e66710|f81d4fae-7dec|<>|{x}|\"q\"",
            "a b|\u{e9}|;||%|=",
        ))
    };
    concat(vec![word(), text(mostly("|@", "@@")), word()])
}

fn content_type() -> BoxedStrategy<String> {
    concat(vec![
        text(mostly("application|text|multipart|*", "|a b")),
        text(mostly("/", " / |")),
        text(mostly("sdp|plain|mixed|*", "")),
        params(
            ";charset=utf-8|;boundary=\"x y\"",
            ";a|;a=| ; a=b|;a=b c",
            2,
        ),
    ])
}

fn digest() -> BoxedStrategy<String> {
    let param = text(mostly(
        "realm=\"atlanta.com\"|nonce=\"xyz\"|algorithm=MD5|qop=auth|qop=\"auth,auth-int\"\
         |stale=FALSE|opaque=\"\"|a = b",
        "a=|=b|a b=c|a=\"x|a=\"x\\\"y\"",
    ));
    concat(vec![
        text(mostly("Digest|digest", "Basic|")),
        text(mostly(" |  ", "")),
        list(param, 4),
    ])
}

/// Values of header `name`, from its grammar.
fn structured(name: HeaderName) -> BoxedStrategy<String> {
    use HeaderName as N;
    match name {
        N::Via => list(via_parm(), 3),
        N::From | N::To => name_addr(),
        N::Contact => contact(),
        N::Route | N::RecordRoute | N::Path => list(name_addr(), 3),
        N::CSeq => cseq(),
        N::CallId => call_id(),
        N::MaxForwards | N::Expires => text(mostly(
            "0|1|68|70|255|4294967295|007",
            "256|4294967296||-1|a|1 ",
        )),
        N::ContentType => content_type(),
        N::Accept => list(
            text(mostly(
                "application/sdp|*/*|text/*|text/plain|application/x|multipart/mixed",
                "*/sdp|application|a/b;q=0.5|",
            )),
            3,
        ),
        N::Allow | N::Supported | N::Unsupported | N::Require | N::ProxyRequire => list(
            text(mostly(
                "INVITE|ACK|100rel|timer|replaces|path|X-1",
                "foo|\"x\"||a b",
            )),
            4,
        ),
        _ => digest(),
    }
}

/// Bytes the single-byte edits use: every printable ASCII character but most letters and
/// digits, white space, line breaks, controls and non-ASCII bytes.
pub(super) fn edit_bytes() -> Vec<u8> {
    let mut b: Vec<u8> = (0x20u8..0x7F)
        .filter(|c| !c.is_ascii_alphanumeric())
        .collect();
    b.extend_from_slice(b"aAzZ09157\t\r\n\0\x01\x7f\x80\xc3\xa9\xff");
    b
}

/// Every value one byte away from `v`: each byte replaced, a byte inserted anywhere, each byte
/// deleted.
pub(super) fn single_edits(v: &[u8], alphabet: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for i in 0..=v.len() {
        for &b in alphabet {
            let mut ins = v.to_vec();
            ins.insert(i, b);
            out.push(ins);
            if i < v.len() && v[i] != b {
                let mut rep = v.to_vec();
                rep[i] = b;
                out.push(rep);
            }
        }
        if i < v.len() {
            let mut del = v.to_vec();
            del.remove(i);
            out.push(del);
        }
    }
    out
}

/// `v` with the edits `(kind, position, byte)` applied: insert, replace or delete.
pub(super) fn mutate(mut v: Vec<u8>, edits: &[(usize, usize, u8)]) -> Vec<u8> {
    for &(kind, at, b) in edits {
        let at = if v.is_empty() { 0 } else { at % (v.len() + 1) };
        match kind % 3 {
            0 => v.insert(at, b),
            1 if at < v.len() => v[at] = b,
            _ if at < v.len() => {
                v.remove(at);
            }
            _ => {}
        }
    }
    v
}

/// No edit two times in three, else one or two.
pub(super) fn edit_strategy() -> impl Strategy<Value = Vec<(usize, usize, u8)>> {
    let edit = (0usize..3, 0usize..200, prop::sample::select(edit_bytes()));
    prop_oneof![
        2 => Just(Vec::new()),
        1 => prop::collection::vec(edit, 1..3),
    ]
}

/// A value of header `name`: a structured one, then maybe random byte edits.
pub(super) fn header_value(name: HeaderName) -> impl Strategy<Value = Vec<u8>> {
    (structured(name), edit_strategy()).prop_map(|(v, e)| mutate(v.into_bytes(), &e))
}

/// Variants of SDP lines, valid and not.
const SDP_LINES: &str =
    "v=0|v=1|o=alice 2890844526 2890844526 IN IP4 198.51.100.7|o=- 1 1 IN IP6 ::1\
|o=a 1 1 IN IP4 host.example.com|o=a 1 1 IN IP4 01.2.3.4|o=a 1 1 IN IP4 ::1|o=a x 1 IN IP4 1.2.3.4\
|o=a 1 1 IN IP4|s=-|s=|s= |c=IN IP4 198.51.100.7|c=IN IP4 224.2.1.1/127|c=IN IP4 224.2.1.1\
|c=IN IP6 ff15::101|c=IN IP4 0.0.0.0|c=IN IP4 1.2.3.4/2|c=IN IP4 abc|c=IN IP6 1.2.3.4|c=XX YY zz\
|c=IN IP4 239.0.0.1|c=IN IP4 host.example.com|c=IN IP6 ::1|c=IN IP4 1.2.3|t=0 0|t=0|t=1 x\
|b=AS:64|b=AS:x|b=AS|m=audio 49170 RTP/AVP 0 8 101|m=audio 0 RTP/AVP 96|m=video 5000/2 RTP/AVP 31\
|m=video 5000/0 RTP/AVP 31|m=audio 70000 RTP/AVP 0|m=application 9 UDP/BFCP *|m=audio 1 RTP/AVP 128\
|m=audio 1 RTP/AVP|m=audio  1 RTP/AVP 0|a=rtpmap:0 PCMU/8000|a=rtpmap:101 telephone-event/8000\
|a=rtpmap:96 opus/48000/2|a=rtpmap:96 opus/48000/0|a=rtpmap:8 PCMA|a=rtpmap:8 PCMA/0\
|a=rtpmap:300 X/1|a=rtpmap:0 PCMU/8000/1/2|a=fmtp:101 0-15|a=sendrecv|a=sendonly|a=recvonly\
|a=inactive|a=ptime:20|a=|a=x:|a=:x|i=info|u=http://x|k=clear:x|r=7d 1h 0 25h|z=0 0|e=a@b|p=+1\
|x=unknown|A=0|a=x\0y|a=\u{e9}";

/// The typical offer, line by line.
const SDP_BASE: &str = "v=0|o=alice 2890844526 2890844526 IN IP4 198.51.100.7|s=-\
|c=IN IP4 198.51.100.7|t=0 0|m=audio 49170 RTP/AVP 0 8 101|a=rtpmap:0 PCMU/8000\
|a=rtpmap:8 PCMA/8000|a=rtpmap:101 telephone-event/8000|a=fmtp:101 0-15|a=ptime:20|a=sendrecv";

fn lines(s: &'static str) -> Vec<&'static str> {
    s.split('|').collect()
}

/// The typical offer with one or two lines swapped for variants of the same type.
fn sdp_substituted() -> impl Strategy<Value = Vec<&'static str>> {
    let swap = (0..lines(SDP_BASE).len(), any::<prop::sample::Index>());
    prop::collection::vec(swap, 1..3).prop_map(|swaps| {
        let mut base = lines(SDP_BASE);
        for (at, pick) in swaps {
            let kind = &base[at][..2];
            let same: Vec<&str> = lines(SDP_LINES)
                .into_iter()
                .filter(|l| l.starts_with(kind))
                .collect();
            if !same.is_empty() {
                base[at] = same[pick.index(same.len())];
            }
        }
        base
    })
}

/// The typical offer with up to three lines replaced, inserted or dropped.
fn sdp_edited() -> impl Strategy<Value = Vec<&'static str>> {
    let edit = (
        0usize..3,
        0usize..16,
        prop::sample::select(lines(SDP_LINES)),
    );
    prop::collection::vec(edit, 0..4).prop_map(|edits| {
        let mut base = lines(SDP_BASE);
        for (kind, at, line) in edits {
            let at = at % (base.len() + 1);
            match kind {
                0 => base.insert(at, line),
                1 if at < base.len() => base[at] = line,
                _ if at < base.len() => {
                    base.remove(at);
                }
                _ => {}
            }
        }
        base
    })
}

/// SDP bodies: the typical offer with lines swapped for variants, replaced, inserted or dropped,
/// random sequences of lines, different line endings, then byte edits.
pub(super) fn sdp_body() -> impl Strategy<Value = Vec<u8>> {
    let random = prop::collection::vec(prop::sample::select(lines(SDP_LINES)), 0..14);
    let body = prop_oneof![4 => sdp_substituted(), 3 => sdp_edited(), 1 => random];
    let ending = prop::sample::select(vec!["\r\n", "\r\n", "\r\n", "\n", ""]);
    (body, ending, edit_strategy()).prop_map(|(lines, end, e)| {
        let mut b = String::new();
        for (i, l) in lines.iter().enumerate() {
            b.push_str(l);
            b.push_str(if i + 1 == lines.len() { end } else { "\r\n" });
        }
        mutate(b.into_bytes(), &e)
    })
}

/// Messages built from a start line, header fields of every kind with a fast path, and
/// sometimes an SDP body.
pub(super) fn message() -> impl Strategy<Value = Vec<u8>> {
    let start = pick(
        "INVITE sip:bob@biloxi.example.com SIP/2.0|ACK sip:bob@192.0.2.4:5060;transport=udp SIP/2.0\
         |REGISTER sips:registrar.example.com SIP/2.0|OPTIONS tel:+1-201-555-0123 SIP/2.0\
         |BYE sip:a@b?x=y SIP/2.0|SIP/2.0 200 OK|SIP/2.0 180 Ringing",
    );
    let field = prop::sample::select(FAST_HEADERS)
        .prop_flat_map(|n| (Just(n), header_value(n)))
        .prop_map(|(n, v)| {
            let mut f = format!("{}: ", n.canonical()).into_bytes();
            f.extend(v.iter().filter(|&&b| b != b'\r' && b != b'\n'));
            f.extend_from_slice(b"\r\n");
            f
        });
    let fields = prop::collection::vec(field, 0..12);
    let body = prop_oneof![Just(None), sdp_body().prop_map(Some)];
    (start, fields, body).prop_map(|(start, fields, body)| {
        let mut m = format!("{start}\r\n").into_bytes();
        fields.iter().for_each(|f| m.extend_from_slice(f));
        if let Some(b) = body {
            m.extend_from_slice(b"Content-Type: application/sdp\r\n");
            m.extend_from_slice(format!("Content-Length: {}\r\n\r\n", b.len()).as_bytes());
            m.extend_from_slice(&b);
        } else {
            m.extend_from_slice(b"\r\n");
        }
        m
    })
}
