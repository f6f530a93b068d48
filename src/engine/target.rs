//! The device under test as given on the command line: `udp:HOST:PORT` or `tcp:HOST:PORT`,
//! IPv6 in brackets (`udp:[::1]:5060`, RFC 5118 §4.1), optionally with a user part
//! (`udp:bob@192.0.2.1:5060`) for the Request-URI and To of requests addressed to it.

use crate::trace::Transport;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// The user part of the target's URI when none is given.
pub const DEFAULT_TARGET_USER: &str = "target";

/// Where the target listens and how to reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetSpec {
    pub transport: Transport,
    pub addr: SocketAddr,
    /// The user part of `[target.uri]`.
    pub user: String,
}

/// A `--target` value that does not parse, with what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad target `{input}`: {expected} (e.g. udp:127.0.0.1:5060, tcp:[::1]:5060)")]
pub struct TargetError {
    pub input: String,
    pub expected: String,
}

impl TargetSpec {
    /// Parses `TRANSPORT:[USER@]HOST:PORT`; HOST is an IP address (no DNS, RFC 3263 is not
    /// implemented), in brackets when IPv6.
    pub fn parse(s: &str) -> Result<TargetSpec, TargetError> {
        let err = |expected: &str| TargetError {
            input: s.to_string(),
            expected: expected.to_string(),
        };
        let (proto, rest) = s
            .split_once(':')
            .ok_or_else(|| err("`udp:` or `tcp:` followed by HOST:PORT"))?;
        let transport = match proto.to_ascii_lowercase().as_str() {
            "udp" => Transport::Udp,
            "tcp" => Transport::Tcp,
            other => return Err(err(&format!("transport `udp` or `tcp`, found `{other}`"))),
        };
        let (user, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) if !u.is_empty() && !u.contains([':', '[', ']']) => (u.to_string(), h),
            Some(_) => return Err(err("a user part before `@`")),
            None => (DEFAULT_TARGET_USER.to_string(), rest),
        };
        let addr: SocketAddr = hostport.parse().map_err(|_| {
            err("HOST:PORT with an IP address and a port (IPv6 in brackets: [::1]:5060)")
        })?;
        if addr.port() == 0 {
            return Err(err("a port other than 0"));
        }
        Ok(TargetSpec {
            transport,
            addr,
            user,
        })
    }

    /// `host` as written in a URI: IPv6 in brackets.
    pub fn host(&self) -> String {
        uri_host(self.addr.ip())
    }

    /// `sip:user@host:port`.
    pub fn uri(&self) -> String {
        format!("sip:{}@{}:{}", self.user, self.host(), self.addr.port())
    }
}

/// `udp:127.0.0.1:5060`, as the run reports name the target.
impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let user = if self.user == DEFAULT_TARGET_USER {
            String::new()
        } else {
            format!("{}@", self.user)
        };
        write!(f, "{}:{user}{}", self.transport, self.addr)
    }
}

/// An IP address as the host of a SIP URI or Via: IPv6 references in brackets (RFC 3261
/// §25.1 `IPv6reference`, RFC 5118 §4.1).
pub fn uri_host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_udp_tcp_ipv6_and_user() {
        let t = TargetSpec::parse("udp:127.0.0.1:5060").unwrap();
        assert_eq!(t.transport, Transport::Udp);
        assert_eq!(t.addr, "127.0.0.1:5060".parse().unwrap());
        assert_eq!(t.uri(), "sip:target@127.0.0.1:5060");
        assert_eq!(t.to_string(), "udp:127.0.0.1:5060");
        let t = TargetSpec::parse("TCP:[::1]:5070").unwrap();
        assert_eq!(t.transport, Transport::Tcp);
        assert_eq!(t.host(), "[::1]");
        let t = TargetSpec::parse("udp:bob@192.0.2.1:5062").unwrap();
        assert_eq!(t.user, "bob");
        assert_eq!(t.to_string(), "udp:bob@192.0.2.1:5062");
    }

    #[test]
    fn rejects_what_it_cannot_reach() {
        for bad in [
            "127.0.0.1:5060",
            "tls:127.0.0.1:5061",
            "udp:localhost:5060",
            "udp:::1:5060",
            "udp:127.0.0.1",
            "udp:127.0.0.1:0",
            "udp:@127.0.0.1:5060",
        ] {
            let e = TargetSpec::parse(bad).unwrap_err();
            assert!(e.to_string().starts_with("bad target"), "{bad}: {e}");
        }
    }
}
