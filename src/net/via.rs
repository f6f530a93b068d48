//! What the server transport does to a request's top Via, and where the response goes
//! (RFC 3261 §18.2.1, §18.2.2; RFC 3581 §4 for `rport`).

use crate::sip::header_name::HeaderName;
use crate::sip::host::Host;
use crate::sip::lex;
use crate::sip::message::Message;
use crate::sip::parse::parse_message;
use std::net::{IpAddr, SocketAddr};

/// A fresh Via value for a request this endpoint sends: the transport, the local address as
/// sent-by, an RFC 3261 branch (with the `z9hG4bK` cookie, §8.1.1.7) and an empty `rport`
/// asking for symmetric response routing (RFC 3581 §3).
pub fn via_value(transport: &str, local: SocketAddr, branch: &str) -> String {
    format!(
        "SIP/2.0/{} {};branch={branch};rport",
        transport.to_ascii_uppercase(),
        sent_by(local)
    )
}

/// `host:port` as written in a Via sent-by or a URI: IPv6 in brackets (RFC 5118 §4.1).
pub fn sent_by(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(ip) => format!("{ip}:{}", addr.port()),
        IpAddr::V6(ip) => format!("[{ip}]:{}", addr.port()),
    }
}

/// The request as the server transport passes it up: the top Via gets `received` when its
/// sent-by is not the source address (RFC 3261 §18.2.1) or when it asks for `rport`, and an
/// empty `rport` is filled with the source port (RFC 3581 §4). `None` when nothing changes (or
/// when the top Via is folded over several lines or does not parse: it is then left alone).
pub fn stamp_received(msg: &Message, from: SocketAddr) -> Option<Message> {
    let via = msg.top_via()?;
    let h = msg.header(HeaderName::Via)?;
    if h.folded || via.param("received").is_some() {
        return None;
    }
    let wants_rport = via.rport() == Some(None);
    let differs = match &via.sent_by_host {
        Host::Ipv4(ip) => IpAddr::V4(*ip) != from.ip(),
        Host::Ipv6(ip) => IpAddr::V6(*ip) != from.ip(),
        Host::Name(_) => true,
    };
    if !differs && !wants_rport {
        return None;
    }
    let raw = msg.as_bytes();
    let value = &raw[h.value.range()];
    let (parts, _) = lex::split_commas(value);
    let first = parts.first()?.clone();
    let element = std::str::from_utf8(&value[first.clone()]).ok()?;
    let mut segments: Vec<String> = element.split(';').map(str::to_string).collect();
    if wants_rport {
        for seg in segments.iter_mut().skip(1) {
            if seg.trim().eq_ignore_ascii_case("rport") {
                let lead = &seg[..seg.len() - seg.trim_start().len()];
                *seg = format!("{lead}rport={}", from.port());
            }
        }
    }
    // RFC 3261 §20.42: via-received = "received" EQUAL (IPv4address / IPv6address), no
    // brackets.
    let stamped = format!("{};received={}", segments.join(";"), from.ip());
    let start = h.value.start + first.start;
    let end = h.value.start + first.end;
    let mut bytes = Vec::with_capacity(raw.len() + 40);
    bytes.extend_from_slice(&raw[..start]);
    bytes.extend_from_slice(stamped.as_bytes());
    bytes.extend_from_slice(&raw[end..]);
    Some(parse_message(&bytes))
}

/// Where responses to a request received from `from` go. On a connection: back on it
/// (§18.2.2, first bullet), i.e. to `from`. Over UDP: to the source address (the `received`
/// address) at the source port when the request asked for `rport` (RFC 3581 §4), else at the
/// sent-by port, 5060 by default (§18.2.2, fourth bullet). `maddr` (multicast) is not honoured.
pub fn response_destination(msg: &Message, from: SocketAddr, reliable: bool) -> SocketAddr {
    if reliable {
        return from;
    }
    match msg.top_via() {
        Some(v) if v.rport().is_none() => {
            SocketAddr::new(from.ip(), v.sent_by_port.unwrap_or(5060))
        }
        _ => from,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(via: &str) -> Message {
        parse_message(
            format!(
                "OPTIONS sip:b@x SIP/2.0\r\nVia: {via}\r\nVia: SIP/2.0/UDP p;branch=z9hG4bKp\r\nMax-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
            )
            .as_bytes(),
        )
    }

    #[test]
    fn rport_is_filled_and_received_added() {
        let from: SocketAddr = "192.0.2.1:4000".parse().unwrap();
        let m = req("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport");
        let s = stamp_received(&m, from).unwrap();
        assert_eq!(
            s.values(HeaderName::Via)[0],
            "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport=4000;received=192.0.2.1"
        );
        assert_eq!(
            s.values(HeaderName::Via)[1],
            "SIP/2.0/UDP p;branch=z9hG4bKp"
        );
        assert_eq!(s.top_via().unwrap().rport(), Some(Some(4000)));
        assert!(s.violations.is_empty(), "{:?}", s.rule_ids());
        assert_eq!(response_destination(&m, from, false), from);
    }

    #[test]
    fn received_only_when_sent_by_differs() {
        let from: SocketAddr = "[2001:db8::1]:5070".parse().unwrap();
        let same = req("SIP/2.0/UDP [2001:db8::1]:5070;branch=z9hG4bK1");
        assert!(stamp_received(&same, from).is_none());
        let name = req("SIP/2.0/UDP pc.example.com:5070;branch=z9hG4bK1");
        let s = stamp_received(&name, from).unwrap();
        assert_eq!(
            s.top_via().unwrap().received().unwrap().unwrap(),
            Host::Ipv6("2001:db8::1".parse().unwrap())
        );
        // §18.2.2: without rport the response goes to the sent-by port.
        let from2: SocketAddr = "[2001:db8::1]:40000".parse().unwrap();
        assert_eq!(response_destination(&name, from2, false).port(), 5070);
        assert_eq!(response_destination(&name, from2, true), from2);
    }

    #[test]
    fn via_value_brackets_ipv6() {
        let v = via_value("udp", "[::1]:5060".parse().unwrap(), "z9hG4bKx");
        assert_eq!(v, "SIP/2.0/UDP [::1]:5060;branch=z9hG4bKx;rport");
    }
}
