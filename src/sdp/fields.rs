//! Parsers for the values of single SDP fields (RFC 8866 §5, grammar in §9). Each returns the
//! typed value or a one-line description of what is wrong, for the caller to turn into a
//! violation on the line's span.

use super::model::{parse_decimal, Attribute, Bandwidth, Connection, Origin, Timing};
use crate::rule::Span;
use crate::sip::host::{parse_host, Host};
use std::net::{Ipv4Addr, Ipv6Addr};

/// SDP `token-char` (RFC 8866 §9): `%x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A /
/// %x5E-7E`. Wider than the SIP token: it also allows `#$&^{|}`.
pub const fn is_token_char(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x27 | 0x2A..=0x2B | 0x2D..=0x2E | 0x30..=0x39 | 0x41..=0x5A | 0x5E..=0x7E)
}

/// True for a non-empty SDP token.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

/// Splits a value into exactly `N` fields separated by single spaces.
fn fields<'a, const N: usize>(v: &'a str, what: &str) -> Result<[&'a str; N], String> {
    let parts: Vec<&str> = v.split(' ').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!(
            "{what}: fields must be separated by exactly one space"
        ));
    }
    parts
        .try_into()
        .map_err(|p: Vec<&str>| format!("{what}: expected {N} fields, found {}", p.len()))
}

fn token<'a>(s: &'a str, what: &str) -> Result<&'a str, String> {
    if is_token(s) {
        Ok(s)
    } else {
        Err(format!("{what} `{s}` is not a token"))
    }
}

/// An IP4 address field: `Some` for an IPv4 literal, `None` for a domain name.
fn ip4_or_name(s: &str) -> Result<Option<Ipv4Addr>, String> {
    if let Ok(a) = s.parse::<Ipv4Addr>() {
        return Ok(Some(a));
    }
    if s.parse::<Ipv6Addr>().is_ok() {
        return Err(format!(
            "`{s}` is an IPv6 address but the address type is IP4"
        ));
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(format!("`{s}` is not a valid IPv4 address"));
    }
    domain_name(s).map(|()| None)
}

/// An IP6 address field: `Some` for an IPv6 literal, `None` for a domain name.
fn ip6_or_name(s: &str) -> Result<Option<Ipv6Addr>, String> {
    if let Ok(a) = s.parse::<Ipv6Addr>() {
        return Ok(Some(a));
    }
    if s.parse::<Ipv4Addr>().is_ok() {
        return Err(format!(
            "`{s}` is an IPv4 address but the address type is IP6"
        ));
    }
    if s.contains(':') || s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(format!("`{s}` is not a valid IPv6 address"));
    }
    domain_name(s).map(|()| None)
}

/// RFC 8866 §9 `FQDN = 4*(alpha-numeric / "-" / ".")`; the SIP host parser checks the characters.
fn domain_name(s: &str) -> Result<(), String> {
    match parse_host(s, false) {
        Ok(Host::Name(_)) if s.len() >= 4 => Ok(()),
        Ok(_) => Err(format!("`{s}` is too short for a domain name")),
        Err(e) => Err(format!("`{s}` is not an address: {e}")),
    }
}

/// Checks a unicast address of the `IN` network type (o= and unicast c=).
fn unicast_address(addrtype: &str, addr: &str) -> Result<(), String> {
    match addrtype {
        "IP4" => ip4_or_name(addr).map(drop),
        "IP6" => ip6_or_name(addr).map(drop),
        _ => Ok(()),
    }
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (RFC 8866 §5.2).
pub fn parse_origin(v: &str, span: Span) -> Result<Origin, String> {
    let [username, sess_id, sess_version, nettype, addrtype, address] = fields::<6>(v, "o=")?;
    // RFC 8866 §5.2: sess-id and sess-version are numeric strings.
    for (what, n) in [("sess-id", sess_id), ("sess-version", sess_version)] {
        if !n.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{what} `{n}` is not a decimal number"));
        }
    }
    token(nettype, "nettype")?;
    token(addrtype, "addrtype")?;
    if nettype == "IN" {
        unicast_address(addrtype, address)?;
    }
    Ok(Origin {
        username: username.to_string(),
        sess_id: sess_id.to_string(),
        sess_version: sess_version.to_string(),
        nettype: nettype.to_string(),
        addrtype: addrtype.to_string(),
        address: address.to_string(),
        span,
    })
}

/// `c=<nettype> <addrtype> <connection-address>` (RFC 8866 §5.7), with the multicast
/// `/<ttl>[/<number of addresses>]` (IP4) or `/<number of addresses>` (IP6) suffixes.
pub fn parse_connection(v: &str, span: Span) -> Result<Connection, String> {
    let [nettype, addrtype, addr] = fields::<3>(v, "c=")?;
    token(nettype, "nettype")?;
    token(addrtype, "addrtype")?;
    let known = nettype == "IN" && matches!(addrtype, "IP4" | "IP6");
    let (address, ttl, count) = if known {
        in_connection_address(addrtype, addr)?
    } else {
        (addr, None, None)
    };
    Ok(Connection {
        nettype: nettype.to_string(),
        addrtype: addrtype.to_string(),
        address: address.to_string(),
        ttl,
        count,
        span,
    })
}

type AddressParts<'a> = (&'a str, Option<u8>, Option<u32>);

/// RFC 8866 §5.7: IPv4 multicast needs a TTL and may have a count; IPv6 multicast may have a
/// count; unicast addresses and names take no suffix.
fn in_connection_address<'a>(addrtype: &str, addr: &'a str) -> Result<AddressParts<'a>, String> {
    let mut parts = addr.split('/');
    let base = parts.next().unwrap_or_default();
    let suffix: Vec<&str> = parts.collect();
    let multicast = if addrtype == "IP4" {
        ip4_or_name(base)?.is_some_and(|a| a.is_multicast())
    } else {
        ip6_or_name(base)?.is_some_and(|a| a.is_multicast())
    };
    let count = |s: &str| {
        parse_decimal::<u32>(s)
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("number of addresses `{s}` is not a positive number"))
    };
    match (multicast, addrtype, suffix.as_slice()) {
        (false, _, []) => Ok((base, None, None)),
        (false, _, _) => Err(format!(
            "`{addr}`: only multicast addresses take a `/` suffix"
        )),
        (true, "IP4", []) => Err(format!("IPv4 multicast address `{base}` needs a /<ttl>")),
        (true, "IP4", [ttl, rest @ ..]) if rest.len() <= 1 => {
            let ttl =
                parse_decimal::<u8>(ttl).ok_or_else(|| format!("TTL `{ttl}` is not 0-255"))?;
            let n = rest.first().map(|s| count(s)).transpose()?;
            Ok((base, Some(ttl), n))
        }
        (true, "IP6", []) => Ok((base, None, None)),
        (true, "IP6", [n]) => Ok((base, None, Some(count(n)?))),
        _ => Err(format!("`{addr}`: too many `/` parts")),
    }
}

/// `b=<bwtype>:<bandwidth>` (RFC 8866 §5.8).
pub fn parse_bandwidth(v: &str, span: Span) -> Result<Bandwidth, String> {
    let (bwtype, bw) = v.split_once(':').ok_or("expected `<bwtype>:<bandwidth>`")?;
    token(bwtype, "bwtype")?;
    let bandwidth =
        parse_decimal::<u64>(bw).ok_or_else(|| format!("bandwidth `{bw}` is not a number"))?;
    Ok(Bandwidth {
        bwtype: bwtype.to_string(),
        bandwidth,
        span,
    })
}

/// `t=<start-time> <stop-time>` (RFC 8866 §5.9).
pub fn parse_time(v: &str, span: Span) -> Result<Timing, String> {
    let [start, stop] = fields::<2>(v, "t=")?;
    let num =
        |s: &str| parse_decimal::<u64>(s).ok_or_else(|| format!("`{s}` is not a decimal NTP time"));
    Ok(Timing {
        start: num(start)?,
        stop: num(stop)?,
        span,
    })
}

/// `a=<attribute-name>[:<attribute-value>]` (RFC 8866 §5.13). Always returns the attribute (so
/// that nothing is lost), plus what is wrong with it.
pub fn parse_attribute(v: &str, span: Span) -> (Attribute, Option<String>) {
    let (name, value) = match v.split_once(':') {
        Some((n, val)) => (n, Some(val)),
        None => (v, None),
    };
    let problem = if !is_token(name) {
        Some(format!("attribute name `{name}` is not a token"))
    } else if value == Some("") {
        Some(format!("a={name}: empty value after `:`"))
    } else {
        None
    };
    let attr = Attribute {
        name: name.to_string(),
        value: value.map(str::to_string),
        span,
    };
    (attr, problem)
}

/// The fields of an `m=` line.
#[derive(Debug, Default)]
pub struct MediaLine {
    pub media: String,
    pub port: u16,
    pub port_count: Option<u16>,
    pub proto: String,
    pub formats: Vec<String>,
}

/// `m=<media> <port>[/<number of ports>] <proto> <fmt> ...` (RFC 8866 §5.14). Always returns
/// what could be read, plus the first problem found.
pub fn parse_media(v: &str) -> (MediaLine, Option<String>) {
    let mut problems = Vec::new();
    let raw: Vec<&str> = v.split(' ').collect();
    if raw.iter().any(|p| p.is_empty()) {
        problems.push("fields must be separated by exactly one space".to_string());
    }
    let parts: Vec<&str> = raw.into_iter().filter(|p| !p.is_empty()).collect();
    let mut m = MediaLine::default();
    if let Some(media) = parts.first() {
        m.media = media.to_string();
        if !is_token(media) {
            problems.push(format!("media type `{media}` is not a token"));
        }
    }
    if let Some(port) = parts.get(1) {
        port_field(port, &mut m, &mut problems);
    }
    if let Some(proto) = parts.get(2) {
        m.proto = proto.to_string();
        // proto = token *("/" token)
        if !proto.split('/').all(is_token) {
            problems.push(format!("proto `{proto}` is not token/token"));
        }
    }
    m.formats = parts.iter().skip(3).map(|f| f.to_string()).collect();
    if parts.len() < 4 {
        problems
            .push("expected `<media> <port> <proto> <fmt> ...` with at least one format".into());
    }
    formats_field(&mut m, &mut problems);
    (m, problems.into_iter().next())
}

fn port_field(port: &str, m: &mut MediaLine, problems: &mut Vec<String>) {
    let (p, count) = match port.split_once('/') {
        Some((p, c)) => (p, Some(c)),
        None => (port, None),
    };
    match parse_decimal::<u16>(p) {
        Some(n) => m.port = n,
        None => problems.push(format!("port `{p}` is not a number from 0 to 65535")),
    }
    if let Some(c) = count {
        match parse_decimal::<u16>(c).filter(|&n| n > 0) {
            Some(n) => m.port_count = Some(n),
            None => problems.push(format!("number of ports `{c}` is not a positive number")),
        }
    }
}

/// RFC 8866 §5.14: formats are tokens; under an RTP profile they are payload type numbers.
fn formats_field(m: &mut MediaLine, problems: &mut Vec<String>) {
    let rtp = m.proto.split('/').any(|p| p == "RTP");
    for f in &m.formats {
        if rtp && super::model::parse_payload_type(f).is_err() {
            problems.push(format!(
                "format `{f}` is not an RTP payload type (0-127) under {}",
                m.proto
            ));
        } else if !is_token(f) {
            problems.push(format!("format `{f}` is not a token"));
        }
    }
}
