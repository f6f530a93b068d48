//! RFC 4475 torture messages, one test per message, named after its file.
//!
//! §3.1.1 (valid): parsed without error-severity violations, with the right values.
//! §3.1.2 (invalid): each yields a violation naming its actual problem.
//! §3.2-3.4: parsed, and the point each one makes is recorded as a violation or a value.

mod common;

use siptest::rule::Severity;
use siptest::sip::addr::{self, ContactValue};
use siptest::sip::headers;
use siptest::sip::host::Host;
use siptest::sip::multipart;
use siptest::sip::parse::{parse_datagram, Datagram};
use siptest::sip::uri::{self, Scheme};
use siptest::sip::{HeaderName, Message};

fn datagram(file: &str) -> Datagram {
    let bytes = common::corpus("rfc4475", &format!("{file}.dat"));
    let d = parse_datagram(&bytes);
    assert_eq!(
        d.to_bytes(),
        bytes,
        "{file}: the datagram must round-trip byte for byte"
    );
    d
}

fn parse(file: &str) -> Message {
    datagram(file).message
}

/// A valid message: no error-severity violation.
fn valid(file: &str) -> Message {
    let m = parse(file);
    common::assert_valid(file, &m);
    m
}

/// A message that must carry a violation of `rule`.
fn has_rule(file: &str, rule: &str) -> Message {
    let m = parse(file);
    assert!(
        m.rule_ids().contains(&rule),
        "{file}: expected rule {rule}, got {:#?}",
        m.violations
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
    );
    m
}

/// An invalid message: a violation of `rule` with error severity.
fn invalid(file: &str, rule: &str) -> Message {
    let m = has_rule(file, rule);
    assert!(
        m.violations
            .iter()
            .any(|v| v.rule.id == rule && v.severity() == Severity::Error),
        "{file}: {rule} must be an error"
    );
    m
}

fn from_to(m: &Message, name: HeaderName) -> addr::NameAddr {
    addr::parse_from_to(&m.first_value(name).expect("header present")).expect("parses")
}

// ---- §3.1.1 valid messages ----

#[test]
fn wsinv() {
    let m = valid("wsinv");
    assert_eq!(m.method().as_deref(), Some("INVITE"));
    // Folding: `TO :` CRLF SP value, and a value continued on a second line.
    let to = from_to(&m, HeaderName::To);
    assert_eq!(to.tag().as_deref(), Some("1918181833n"));
    let new = m.headers_other("NewFangledHeader").next().unwrap();
    assert!(new.folded);
    assert_eq!(m.value(new), "newfangled value continued newfangled value");
    // Escaped quotes in the display name: "J Rosenberg \\\"" is `J Rosenberg \"`.
    let from = from_to(&m, HeaderName::From);
    assert_eq!(from.display_name.as_deref(), Some(r#"J Rosenberg \""#));
    assert_eq!(from.tag().as_deref(), Some("98asjd8"));
    // Mixed-case and compact names: MaX-fOrWaRdS, cseq, s, v, m.
    assert_eq!(
        headers::parse_max_forwards(&m.first_value(HeaderName::MaxForwards).unwrap()),
        Ok(68)
    );
    let cseq = headers::parse_cseq(&m.first_value(HeaderName::CSeq).unwrap()).unwrap();
    assert_eq!((cseq.number, cseq.method.as_str()), (9, "INVITE"));
    assert!(m.header(HeaderName::Subject).unwrap().compact);
    let vias: Vec<_> = m.values(HeaderName::Via);
    assert_eq!(
        vias.len(),
        3,
        "one Via field and a compact v: field with two values"
    );
    let v2 = headers::parse_via(&vias[1]).unwrap();
    assert_eq!(v2.transport, "TCP");
    assert_eq!(v2.branch(), Some("z9hG4bK9ikj8"));
    let v3 = headers::parse_via(&vias[2]).unwrap();
    assert_eq!(v3.branch(), Some("z9hG4bK30239"));
    match addr::parse_contact(&m.first_value(HeaderName::Contact).unwrap()).unwrap() {
        ContactValue::Addresses(a) => {
            assert_eq!(a[0].display_name.as_deref(), Some(r#"Quoted string """#));
            assert_eq!(a[0].q(), Some(Ok(330)));
        }
        ContactValue::Star => panic!("not a star"),
    }
    assert_eq!(m.body().len(), 150);
}

#[test]
fn intmeth() {
    let m = valid("intmeth");
    assert_eq!(
        m.method().as_deref(),
        Some("!interesting-Method0123456789_*+`.%indeed'~")
    );
    let cseq = headers::parse_cseq(&m.first_value(HeaderName::CSeq).unwrap()).unwrap();
    assert_eq!(cseq.method, "!interesting-Method0123456789_*+`.%indeed'~");
    let u = uri::parse_uri(&m.request_uri().unwrap()).unwrap();
    assert_eq!(u.host, Some(Host::Name("example.com".into())));
    assert_eq!(
        u.user.as_deref(),
        Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
    );
    let to = from_to(&m, HeaderName::To);
    assert_eq!(
        to.display_name.as_deref(),
        Some("BEL:\u{7} NUL:\0 DEL:\u{7f}")
    );
    let from = from_to(&m, HeaderName::From);
    assert_eq!(
        from.display_name.as_deref(),
        Some("token1~` token2'+_ token3*%!.-")
    );
    assert_eq!(from.tag().as_deref(), Some("_token~1'+`*%!-."));
}

#[test]
fn esc01() {
    let m = valid("esc01");
    let u = uri::parse_uri(&m.request_uri().unwrap()).unwrap();
    assert_eq!(
        u.user_unescaped().as_deref(),
        Some(&b"sips:user@example.com"[..])
    );
    assert_eq!(u.host, Some(Host::Name("example.net".into())));
    let to = from_to(&m, HeaderName::To);
    assert_eq!(to.uri.user_unescaped().as_deref(), Some(&b"user"[..]));
    let from = from_to(&m, HeaderName::From);
    assert_eq!(
        from.uri.user_unescaped().as_deref(),
        Some(&b"I have spaces"[..])
    );
    // `C:` is the compact Content-Type; the Contact value starts on a folded line.
    assert_eq!(
        m.first_value(HeaderName::ContentType).as_deref(),
        Some("application/sdp")
    );
    assert!(m.header(HeaderName::Contact).unwrap().folded);
}

#[test]
fn escnull() {
    let m = valid("escnull");
    let to = from_to(&m, HeaderName::To);
    assert_eq!(
        to.uri.user_unescaped().as_deref(),
        Some(&b"null-\0-null"[..])
    );
    let contacts: Vec<_> = m.headers_named(HeaderName::Contact).collect();
    assert_eq!(contacts.len(), 2);
    let c2 = addr::parse_name_addr(&m.value(contacts[1])).unwrap();
    assert_eq!(c2.uri.user_unescaped().as_deref(), Some(&b"\0\0"[..]));
    assert!(m.header(HeaderName::ContentLength).unwrap().compact);
}

#[test]
fn esc02() {
    let m = valid("esc02");
    // `%` is a token character: the method is RE%47IST%45R, not REGISTER.
    assert_eq!(m.method().as_deref(), Some("RE%47IST%45R"));
    let to = from_to(&m, HeaderName::To);
    assert_eq!(to.display_name.as_deref(), Some("%Z%45"));
    // `C%6Fntact` is an extension header, not Contact.
    assert_eq!(m.headers_named(HeaderName::Contact).count(), 2);
    assert_eq!(m.headers_other("C%6Fntact").count(), 1);
    let via = headers::parse_via(&m.first_value(HeaderName::Via).unwrap()).unwrap();
    assert_eq!(via.branch(), Some("z9hG4bK209%fzsnel234"));
}

#[test]
fn lwsdisp() {
    let m = valid("lwsdisp");
    let from = from_to(&m, HeaderName::From);
    assert_eq!(from.display_name.as_deref(), Some("caller"));
    assert_eq!(from.tag().as_deref(), Some("323"));
}

#[test]
fn longreq() {
    let m = valid("longreq");
    let to = from_to(&m, HeaderName::To);
    assert!(to.display_name.unwrap().len() > 100);
    let from = from_to(&m, HeaderName::From);
    assert!(from.uri.user.as_deref().unwrap().len() > 100);
    assert!(from.tag().unwrap().len() > 10);
    assert!(m.values(HeaderName::Via).len() >= 30);
    assert!(m.first_value(HeaderName::CallId).unwrap().len() > 100);
}

#[test]
fn dblreq() {
    let d = datagram("dblreq");
    let m = &d.message;
    assert!(!m.has_errors());
    assert_eq!(m.method().as_deref(), Some("REGISTER"));
    // RFC 3261 §18.3: the CRLF and INVITE after the zero-length body are ignored.
    assert!(d
        .trailing
        .starts_with(b"\r\nINVITE sip:joe@example.com SIP/2.0"));
    assert!(m.rule_ids().contains(&"msg.datagram.trailing-octets"));
}

#[test]
fn semiuri() {
    let m = valid("semiuri");
    let u = uri::parse_uri(&m.request_uri().unwrap()).unwrap();
    assert_eq!(u.user.as_deref(), Some("user;par=u%40example.net"));
    assert_eq!(u.host, Some(Host::Name("example.com".into())));
    assert!(u.params.is_empty());
    // The Accept value is folded over three lines and lists six types.
    assert_eq!(m.values(HeaderName::Accept).len(), 6);
}

#[test]
fn transports() {
    let m = valid("transports");
    let t: Vec<String> = m
        .values(HeaderName::Via)
        .iter()
        .map(|v| headers::parse_via(v).unwrap().transport)
        .collect();
    assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
}

#[test]
fn mpart01() {
    let m = valid("mpart01");
    let ct = m.first_value(HeaderName::ContentType).unwrap();
    let parts = multipart::split_multipart(&ct, m.body()).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].content_type.as_deref(), Some("text/plain"));
    assert_eq!(&m.body()[parts[0].body.clone()], b"Hello");
    assert_eq!(
        parts[1].content_type.as_deref(),
        Some("application/octet-stream")
    );
    let binary = &m.body()[parts[1].body.clone()];
    assert!(
        binary.iter().any(|&b| b >= 0x80),
        "binary part kept as octets"
    );
}

#[test]
fn unreason() {
    let m = valid("unreason");
    assert_eq!(m.status(), Some(200));
    let reason = m.reason().unwrap();
    assert!(reason.starts_with("= 2**3 * 5**2 "));
    assert!(!reason.is_ascii(), "UTF-8 reason phrase kept");
}

#[test]
fn noreason() {
    let m = valid("noreason");
    assert_eq!(m.status(), Some(100));
    assert_eq!(m.reason().as_deref(), Some(""));
}

// ---- §3.1.2 invalid messages ----

#[test]
fn badinv01() {
    // `Via: SIP/2.0/UDP 192.0.2.15;;,;,,` and `Contact: ... ; ;;;`: stray separators.
    let m = parse("badinv01");
    let ids = m.rule_ids();
    assert!(
        ids.contains(&"hdr.list.empty-element") || ids.contains(&"hdr.param.empty"),
        "{ids:?}"
    );
    assert!(m.has_errors());
}

#[test]
fn clerr() {
    invalid("clerr", "msg.content-length.exceeds-datagram");
}

#[test]
fn ncl() {
    invalid("ncl", "msg.content-length.invalid");
}

#[test]
fn scalar02() {
    let m = invalid("scalar02", "hdr.value.out-of-range");
    // CSeq, Max-Forwards, Expires and the Contact expires are all too large.
    let n = m
        .rule_ids()
        .iter()
        .filter(|r| **r == "hdr.value.out-of-range")
        .count();
    assert!(n >= 3, "expected several out-of-range values, got {n}");
}

#[test]
fn scalarlg() {
    let m = invalid("scalarlg", "hdr.value.out-of-range");
    // Warning: 1812 overture "In Progress" has a four-digit warn-code.
    assert!(
        m.violations.iter().any(|v| v.detail.starts_with("Warning")),
        "{:?}",
        m.rule_ids()
    );
}

#[test]
fn quotbal() {
    invalid("quotbal", "hdr.address.unterminated-quote");
}

#[test]
fn ltgtruri() {
    invalid("ltgtruri", "msg.request-uri.angle-brackets");
}

#[test]
fn lwsruri() {
    invalid("lwsruri", "msg.request-uri.whitespace");
}

#[test]
fn lwsstart() {
    invalid("lwsstart", "msg.request-line.extra-space");
}

#[test]
fn trws() {
    invalid("trws", "msg.request-line.trailing-space");
}

#[test]
fn escruri() {
    invalid("escruri", "uri.request-uri.headers");
}

#[test]
fn baddate() {
    invalid("baddate", "hdr.date.not-gmt");
}

#[test]
fn regbadct() {
    invalid("regbadct", "hdr.address.needs-brackets");
}

#[test]
fn badaspec() {
    invalid("badaspec", "hdr.address.space-in-brackets");
}

#[test]
fn baddn() {
    let m = invalid("baddn", "hdr.address.display-name");
    // The archived file also lacks the empty line that ends the header section.
    assert!(m.rule_ids().contains(&"msg.head.unterminated") || m.body().is_empty());
}

#[test]
fn badvers() {
    let m = invalid("badvers", "msg.version.unsupported");
    assert!(m.rule_ids().contains(&"hdr.via.version"));
}

#[test]
fn mismatch01() {
    invalid("mismatch01", "msg.cseq.method-mismatch");
}

#[test]
fn mismatch02() {
    let m = invalid("mismatch02", "msg.cseq.method-mismatch");
    assert_eq!(m.method().as_deref(), Some("NEWMETHOD"));
}

#[test]
fn bigcode() {
    let m = invalid("bigcode", "msg.status-code.invalid");
    assert_eq!(m.status(), None);
}

// ---- §3.2 transaction layer ----

#[test]
fn badbranch() {
    // The branch is only the magic cookie: a transaction layer cannot use it as an id and must
    // fall back to RFC 2543 matching (RFC 4475 §3.2.1).
    let m = has_rule("badbranch", "hdr.via.branch-cookie-only");
    assert!(!m.has_errors());
}

// ---- §3.3 application layer ----

#[test]
fn insuf() {
    let m = invalid("insuf", "msg.header.missing");
    let v = m
        .violations
        .iter()
        .find(|v| v.rule.id == "msg.header.missing")
        .unwrap();
    for h in ["To", "From", "Call-ID"] {
        assert!(v.detail.contains(h), "{}", v.detail);
    }
}

#[test]
fn unkscm() {
    let m = has_rule("unkscm", "uri.scheme.unsupported");
    let u = uri::parse_uri(&m.request_uri().unwrap()).unwrap();
    assert_eq!(u.scheme, Scheme::Other("nobodyKnowsThisScheme".into()));
}

#[test]
fn novelsc() {
    let m = has_rule("novelsc", "uri.scheme.unsupported");
    let u = uri::parse_uri(&m.request_uri().unwrap()).unwrap();
    assert_eq!(u.scheme, Scheme::Other("soap.beep".into()));
    assert!(!m.has_errors());
}

#[test]
fn unksm2() {
    let m = has_rule("unksm2", "uri.scheme.unsupported");
    let n = m
        .rule_ids()
        .iter()
        .filter(|r| **r == "uri.scheme.unsupported")
        .count();
    assert!(
        n >= 3,
        "To isbn:, From http:, Contact name: each reported, got {n}"
    );
}

#[test]
fn bext01() {
    let m = has_rule("bext01", "hdr.option-tag.unknown");
    let n = m
        .rule_ids()
        .iter()
        .filter(|r| **r == "hdr.option-tag.unknown")
        .count();
    assert!(n >= 2, "Require and Proxy-Require both carry unknown tags");
}

#[test]
fn invut() {
    has_rule("invut", "body.content-type.unknown");
}

#[test]
fn regaut01() {
    let m = has_rule("regaut01", "hdr.auth.unknown-scheme");
    assert!(!m.has_errors());
}

#[test]
fn multi01() {
    let m = invalid("multi01", "hdr.single-value.repeated");
    let n = m
        .rule_ids()
        .iter()
        .filter(|r| **r == "hdr.single-value.repeated")
        .count();
    assert!(n >= 4, "two each of To, From, Call-ID and CSeq, got {n}");
}

#[test]
fn mcl01() {
    invalid("mcl01", "msg.content-length.conflict");
}

#[test]
fn bcast() {
    has_rule("bcast", "hdr.via.broadcast-sent-by");
}

#[test]
fn zeromf() {
    let m = has_rule("zeromf", "hdr.max-forwards.zero");
    assert!(!m.has_errors());
}

#[test]
fn cparam01() {
    // No <>: `;unknownparam` is a header parameter of the Contact, not of the URI.
    let m = valid("cparam01");
    match addr::parse_contact(&m.first_value(HeaderName::Contact).unwrap()).unwrap() {
        ContactValue::Addresses(a) => {
            assert!(!a[0].bracketed);
            assert!(a[0].has_param("unknownparam"));
            assert!(!a[0].uri.has_param("unknownparam"));
        }
        ContactValue::Star => panic!("not a star"),
    }
}

#[test]
fn cparam02() {
    // With <>: `;unknownparam` belongs to the URI.
    let m = valid("cparam02");
    match addr::parse_contact(&m.first_value(HeaderName::Contact).unwrap()).unwrap() {
        ContactValue::Addresses(a) => {
            assert!(a[0].bracketed);
            assert!(a[0].uri.has_param("unknownparam"));
            assert!(!a[0].has_param("unknownparam"));
        }
        ContactValue::Star => panic!("not a star"),
    }
}

#[test]
fn regescrt() {
    let m = has_rule("regescrt", "hdr.contact.uri-headers");
    let c = addr::parse_name_addr(&m.first_value(HeaderName::Contact).unwrap()).unwrap();
    assert_eq!(
        c.uri.header("Route").as_deref(),
        Some("<sip:sip.example.com>")
    );
}

#[test]
fn sdp01() {
    has_rule("sdp01", "hdr.accept.none-known");
}

// ---- §3.4 backward compatibility ----

#[test]
fn inv2543() {
    // RFC 2543 style: accepted, with the differences recorded.
    let m = parse("inv2543");
    assert!(!m.has_errors(), "{:?}", m.rule_ids());
    let ids = m.rule_ids();
    assert!(ids.contains(&"hdr.via.no-branch") || ids.contains(&"hdr.via.branch-no-cookie"));
    assert!(ids.contains(&"msg.header.missing-max-forwards"));
    assert!(ids.contains(&"hdr.from.no-tag"));
}

// ---- the archive's extra file ----

#[test]
fn test_dat() {
    // Not an RFC test case: a Request-Line without SIP-Version and a header line without colon.
    let m = invalid("test", "msg.start-line.malformed");
    assert!(m.rule_ids().contains(&"msg.header.no-colon"));
}

/// Every file in the folder is covered by a test above (a new file cannot go unnoticed).
#[test]
fn every_corpus_file_has_a_test() {
    let src = include_str!("rfc4475.rs");
    let dir = common::corpus_dir().join("rfc4475");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).expect("corpus folder") {
        let name = e.unwrap().file_name().into_string().unwrap();
        if let Some(stem) = name.strip_suffix(".dat") {
            let test_name = if stem == "test" {
                "test_dat".to_string()
            } else {
                stem.to_string()
            };
            assert!(
                src.contains(&format!("fn {test_name}()")),
                "no test for {name}"
            );
            n += 1;
        }
    }
    assert_eq!(n, 50, "49 RFC messages plus test.dat");
}
