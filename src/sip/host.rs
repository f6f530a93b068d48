//! Hosts and ports as they appear in URIs, Via sent-by and received (RFC 3261 §25.1, RFC 5118,
//! RFC 5954).

use serde::Serialize;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A host: a domain name, an IPv4 address or an IPv6 reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Host {
    /// A hostname, as written (comparison is case-insensitive, RFC 3261 §19.1.4).
    Name(String),
    Ipv4(Ipv4Addr),
    /// Written `[addr]` in SIP (RFC 3261 `IPv6reference`).
    Ipv6(Ipv6Addr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(n) => f.write_str(n),
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6(a) => write!(f, "[{a}]"),
        }
    }
}

/// Why a host or host:port did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("empty host")]
    Empty,
    #[error("IPv6 address not enclosed in [] (RFC 5118 §4.2)")]
    UnbracketedIpv6,
    #[error("invalid IPv6 reference `{0}` (RFC 5954 §4.1)")]
    BadIpv6(String),
    #[error("unterminated IPv6 reference `[`")]
    UnterminatedIpv6,
    #[error("invalid character {0:?} in host")]
    BadHostChar(char),
    #[error("invalid port `{0}`")]
    BadPort(String),
}

/// Parses a `host` alone (no port). IPv6 must be bracketed. `allow_bare_ipv6` accepts an
/// unbracketed IPv6 address, as RFC 5118 §4.5 asks receivers to accept in Via `received`.
pub fn parse_host(s: &str, allow_bare_ipv6: bool) -> Result<Host, HostError> {
    if s.is_empty() {
        return Err(HostError::Empty);
    }
    if let Some(rest) = s.strip_prefix('[') {
        let inner = rest.strip_suffix(']').ok_or(HostError::UnterminatedIpv6)?;
        return inner
            .parse::<Ipv6Addr>()
            .map(Host::Ipv6)
            .map_err(|_| HostError::BadIpv6(inner.to_string()));
    }
    if s.contains(':') {
        if allow_bare_ipv6 {
            if let Ok(a) = s.parse::<Ipv6Addr>() {
                return Ok(Host::Ipv6(a));
            }
        }
        return Err(HostError::UnbracketedIpv6);
    }
    if let Ok(a) = s.parse::<Ipv4Addr>() {
        return Ok(Host::Ipv4(a));
    }
    // hostname = *( domainlabel "." ) toplabel [ "." ]: alphanumerics, '-' and '.'. We accept '_'
    // too, which real deployments use in SRV-style names, but nothing else.
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
    {
        return Err(HostError::BadHostChar(c));
    }
    Ok(Host::Name(s.to_string()))
}

/// Parses `host[:port]`. An unbracketed string with several colons is an IPv6 address written
/// without brackets, which RFC 5118 §4.2 says is invalid.
pub fn parse_hostport(s: &str) -> Result<(Host, Option<u16>), HostError> {
    if s.starts_with('[') {
        let close = s.find(']').ok_or(HostError::UnterminatedIpv6)?;
        let host = parse_host(&s[..=close], false)?;
        let rest = &s[close + 1..];
        if rest.is_empty() {
            return Ok((host, None));
        }
        let port = rest
            .strip_prefix(':')
            .ok_or_else(|| HostError::BadPort(rest.to_string()))?;
        return Ok((host, Some(parse_port(port)?)));
    }
    match s.matches(':').count() {
        0 => Ok((parse_host(s, false)?, None)),
        1 => {
            let (h, p) = s.split_once(':').unwrap_or((s, ""));
            Ok((parse_host(h, false)?, Some(parse_port(p)?)))
        }
        _ => Err(HostError::UnbracketedIpv6),
    }
}

fn parse_port(p: &str) -> Result<u16, HostError> {
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HostError::BadPort(p.to_string()));
    }
    p.parse::<u16>()
        .map_err(|_| HostError::BadPort(p.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracketed_ipv6_with_and_without_port() {
        let (h, p) = parse_hostport("[2001:db8::10]:5070").unwrap();
        assert_eq!(h, Host::Ipv6("2001:db8::10".parse().unwrap()));
        assert_eq!(p, Some(5070));
        // RFC 5118 §4.3: the whole bracketed string is the address.
        let (h, p) = parse_hostport("[2001:db8::10:5070]").unwrap();
        assert_eq!(h, Host::Ipv6("2001:db8::10:5070".parse().unwrap()));
        assert_eq!(p, None);
    }

    #[test]
    fn unbracketed_ipv6_is_rejected() {
        assert_eq!(
            parse_hostport("2001:db8::10"),
            Err(HostError::UnbracketedIpv6)
        );
    }

    #[test]
    fn three_colons_are_rejected() {
        // RFC 5118 §4.10 / RFC 5954: the RFC 3261 ABNF wrongly allowed this.
        assert!(matches!(
            parse_hostport("[2001:db8:::192.0.2.1]"),
            Err(HostError::BadIpv6(_))
        ));
        assert!(parse_hostport("[2001:db8::192.0.2.1]").is_ok());
    }

    #[test]
    fn names_and_v4() {
        assert_eq!(
            parse_hostport("example.com:5060").unwrap(),
            (Host::Name("example.com".into()), Some(5060))
        );
        assert_eq!(
            parse_hostport("192.0.2.1").unwrap().0,
            Host::Ipv4("192.0.2.1".parse().unwrap())
        );
        assert!(parse_hostport("a b").is_err());
        assert!(parse_hostport("host:99999").is_err());
    }
}
