//! RFC 5118 IPv6 torture messages, one test per message, named after its file. The archived
//! files use bare LF; `common::rfc5118_wire` turns them into wire bytes (CRLF, terminated
//! header section) in the test, and the corpus stays as it is.

mod common;

use siptest::rule::Severity;
use siptest::sdp;
use siptest::sip::addr;
use siptest::sip::headers;
use siptest::sip::host::Host;
use siptest::sip::parse::parse_datagram;
use siptest::sip::uri;
use siptest::sip::{HeaderName, Message};
use std::net::Ipv6Addr;

fn parse(file: &str) -> Message {
    let wire = common::rfc5118_wire(&format!("{file}.dat"));
    let d = parse_datagram(&wire);
    assert_eq!(d.to_bytes(), wire);
    d.message
}

fn valid(file: &str) -> Message {
    let m = parse(file);
    common::assert_valid(file, &m);
    m
}

/// The three SDP-carrying messages of the archive declare a Content-Length that differs from
/// their body (268 for 251 octets, 181 for 189, 236 for 245, after the CRLF conversion). Read
/// as one whole message, the mismatch must be reported and the body still read in full; the
/// errors other than that must be exactly `also` (defects of the archived bytes).
fn whole_with_wrong_length(file: &str, also: &[&str]) -> Message {
    let wire = common::rfc5118_wire(&format!("{file}.dat"));
    let m = siptest::sip::parse_message(&wire);
    assert_eq!(m.to_bytes(), wire);
    assert!(
        m.rule_ids().contains(&"msg.content-length.mismatch"),
        "{:?}",
        m.rule_ids()
    );
    let mut errors: Vec<&str> = m
        .violations
        .iter()
        .filter(|v| v.severity() == Severity::Error && v.rule.id != "msg.content-length.mismatch")
        .map(|v| v.rule.id)
        .collect();
    errors.dedup();
    assert_eq!(errors, also, "{file}");
    m
}

fn v6(s: &str) -> Host {
    Host::Ipv6(s.parse::<Ipv6Addr>().unwrap())
}

fn ruri(m: &Message) -> uri::Uri {
    uri::parse_uri(&m.request_uri().unwrap()).unwrap()
}

fn vias(m: &Message) -> Vec<headers::Via> {
    m.values(HeaderName::Via)
        .iter()
        .map(|v| headers::parse_via(v).unwrap())
        .collect()
}

fn sdp_of(m: &Message) -> sdp::Sdp {
    sdp::parse(m.body())
}

#[test]
fn ipv6_good() {
    // §4.1
    let m = valid("ipv6-good");
    assert_eq!(ruri(&m).host, Some(v6("2001:db8::10")));
    assert_eq!(vias(&m)[0].sent_by_host, v6("2001:db8::9:1"));
    let c = addr::parse_name_addr(&m.first_value(HeaderName::Contact).unwrap()).unwrap();
    assert_eq!(c.uri.host, Some(v6("2001:db8::1")));
}

#[test]
fn ipv6_bad() {
    // §4.2: an IPv6 address in a URI must be bracketed.
    let m = parse("ipv6-bad");
    assert!(
        m.rule_ids().contains(&"hdr.host.invalid"),
        "{:?}",
        m.rule_ids()
    );
    assert!(m.has_errors());
}

#[test]
fn port_ambiguous() {
    // §4.3: the whole bracketed string is the address; there is no port.
    let m = valid("port-ambiguous");
    let u = ruri(&m);
    assert_eq!(u.host, Some(v6("2001:db8::10:5070")));
    assert_eq!(u.port, None);
}

#[test]
fn port_unambiguous() {
    // §4.4
    let m = valid("port-unambiguous");
    let u = ruri(&m);
    assert_eq!(u.host, Some(v6("2001:db8::10")));
    assert_eq!(u.port, Some(5070));
}

#[test]
fn via_received_param_with_delim() {
    // §4.5: received=[2001:db8::9:255]
    let m = valid("via-received-param-with-delim");
    assert_eq!(vias(&m)[0].received(), Some(Ok(v6("2001:db8::9:255"))));
}

#[test]
fn via_received_param_no_delim() {
    // §4.5: received=2001:db8::9:255 without brackets is accepted too.
    let m = valid("via-received-param-no-delim");
    assert_eq!(vias(&m)[0].received(), Some(Ok(v6("2001:db8::9:255"))));
}

#[test]
fn ipv6_in_sdp() {
    // §4.6
    let m = whole_with_wrong_length("ipv6-in-sdp", &[]);
    let s = sdp_of(&m);
    let c = s.effective_connection(0).expect("a connection line");
    assert_eq!(c.addrtype, "IP6");
    assert_eq!(c.address, "2001:db8::20");
}

#[test]
fn mult_ip_in_header() {
    // §4.7: IPv4 and IPv6 sent-by values with ports and received.
    let m = valid("mult-ip-in-header");
    let v = vias(&m);
    assert_eq!(v.len(), 3);
    assert_eq!(v[0].sent_by_host, v6("2001:db8::9:1"));
    assert_eq!(v[0].sent_by_port, Some(6050));
    assert_eq!(v[1].sent_by_host, Host::Ipv4("192.0.2.1".parse().unwrap()));
    assert_eq!(
        v[2].received(),
        Some(Ok(Host::Ipv4("192.0.2.200".parse().unwrap())))
    );
}

#[test]
fn mult_ip_in_sdp() {
    // §4.8: IPv4 and IPv6 connection addresses in one description. Its `s=` line is empty,
    // which RFC 8866 §5.3 forbids: reported, not fatal.
    let m = whole_with_wrong_length("mult-ip-in-sdp", &["sdp.session-name.missing"]);
    let s = sdp_of(&m);
    let types: Vec<String> = (0..s.media.len())
        .filter_map(|i| s.effective_connection(i).map(|c| c.addrtype.clone()))
        .collect();
    assert!(
        types.iter().any(|t| t == "IP4") && types.iter().any(|t| t == "IP6"),
        "{types:?}"
    );
}

#[test]
fn ipv4_mapped_ipv6() {
    // §4.9
    let m = whole_with_wrong_length("ipv4-mapped-ipv6", &[]);
    assert_eq!(vias(&m)[0].sent_by_host, v6("::ffff:192.0.2.10"));
    assert_eq!(vias(&m)[0].sent_by_port, Some(19823));
    let s = sdp_of(&m);
    assert_eq!(
        s.effective_connection(0).unwrap().address,
        "::ffff:192.0.2.2"
    );
}

#[test]
fn ipv6_bug_abnf_3_colons() {
    // §4.10: `2001:db8:::192.0.2.1` was allowed by RFC 3261's ABNF; RFC 5954 fixed it.
    let m = parse("ipv6-bug-abnf-3-colons");
    assert!(
        m.rule_ids().contains(&"hdr.host.invalid"),
        "{:?}",
        m.rule_ids()
    );
}

#[test]
fn ipv6_correct_abnf_2_colons() {
    // §4.10
    let m = valid("ipv6-correct-abnf-2-colons");
    assert_eq!(ruri(&m).host, Some(v6("2001:db8::192.0.2.1")));
}

#[test]
fn every_corpus_file_has_a_test() {
    let src = include_str!("rfc5118.rs");
    let mut n = 0;
    for e in std::fs::read_dir(common::corpus_dir().join("rfc5118")).expect("corpus folder") {
        let name = e.unwrap().file_name().into_string().unwrap();
        if let Some(stem) = name.strip_suffix(".dat") {
            let f = format!("fn {}()", stem.replace('-', "_"));
            assert!(src.contains(&f), "no test for {name}");
            n += 1;
        }
    }
    assert_eq!(n, 12);
}
