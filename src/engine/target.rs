//! The device under test as given on the command line: `udp:HOST:PORT` or `tcp:HOST:PORT`,
//! IPv6 in brackets (`udp:[::1]:5060`, RFC 5118 §4.1), optionally with a user part
//! (`udp:bob@192.0.2.1:5060`) for the Request-URI and To of requests addressed to it, and
//! `?control=HOST:PORT` for a standalone `siptest ua --control` that drives it (`act` steps).
//!
//! `builtin`, `builtin:udp`, `builtin:tcp` (optionally `?quirk=a,b&variation=c,d&t1=MS`) is the built-in
//! reference user agent: a fresh one per run on 127.0.0.1, port chosen by the OS, driven
//! in-process. Its address is known only once it has started ([`TargetSpec::at`]).

use super::device_driver::DeviceDriver;
use crate::trace::Transport;
use crate::ua::{parse_quirk_list, parse_variation_list, Quirk, Variation};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// The user part of the target's URI when none is given.
pub const DEFAULT_TARGET_USER: &str = "target";

/// What kind of device the target is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// A device at an address; `control`: the control port of a standalone `siptest ua`
    /// that acts for it; `device`: the driver of a real device (`driver:` in a targets file).
    Address {
        control: Option<SocketAddr>,
        device: Option<Arc<DeviceDriver>>,
    },
    /// The built-in reference UA, started for each run.
    Builtin {
        quirks: Vec<Quirk>,
        /// `variation=a,b`: legal variations of its behaviour (`crate::ua::variation`).
        variations: Vec<Variation>,
        /// `t1=MS`: the run's T1 (and the UA's) unless `--t1` says otherwise.
        t1: Option<Duration>,
    },
}

/// Where the target listens and how to reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetSpec {
    pub transport: Transport,
    /// For a builtin target, `127.0.0.1:0` until its UA has started.
    pub addr: SocketAddr,
    /// The user part of `[target.uri]`.
    pub user: String,
    pub kind: TargetKind,
}

/// A `--target` value that does not parse, with what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "bad target `{input}`: {expected} (e.g. builtin, builtin:tcp?quirk=no-to-tag, \
     udp:127.0.0.1:5060, tcp:[::1]:5060?control=127.0.0.1:5071)"
)]
pub struct TargetError {
    pub input: String,
    pub expected: String,
}

impl TargetSpec {
    /// The default target: the built-in UA over UDP, without quirks.
    pub fn builtin() -> TargetSpec {
        TargetSpec {
            transport: Transport::Udp,
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            user: DEFAULT_TARGET_USER.to_string(),
            kind: TargetKind::Builtin {
                quirks: Vec::new(),
                variations: Vec::new(),
                t1: None,
            },
        }
    }

    /// Parses `TRANSPORT:[USER@]HOST:PORT[?control=HOST:PORT]` or
    /// `builtin[:TRANSPORT][?quirk=A,B][&t1=MS]`; HOST is an IP address (no DNS, RFC 3263 is
    /// not implemented), in brackets when IPv6.
    pub fn parse(s: &str) -> Result<TargetSpec, TargetError> {
        let err = |expected: &str| TargetError {
            input: s.to_string(),
            expected: expected.to_string(),
        };
        let (main, query) = match s.split_once('?') {
            Some((m, q)) => (m, Some(q)),
            None => (s, None),
        };
        let params = parse_query(query).map_err(|e| err(&e))?;
        let lower = main.to_ascii_lowercase();
        if lower == "builtin" || lower.starts_with("builtin:") {
            return Self::parse_builtin(&lower, &params).map_err(|e| err(&e));
        }
        let (proto, rest) = main
            .split_once(':')
            .ok_or_else(|| err("`builtin`, or `udp:` or `tcp:` followed by HOST:PORT"))?;
        let transport = transport(proto).map_err(|e| err(&e))?;
        let (user, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) if !u.is_empty() && !u.contains([':', '[', ']']) => (u.to_string(), h),
            Some(_) => return Err(err("a user part before `@`")),
            None => (DEFAULT_TARGET_USER.to_string(), rest),
        };
        let addr = socket_addr(hostport).map_err(|e| err(&e))?;
        let mut control = None;
        for (k, v) in params {
            match k {
                "control" => {
                    let c = socket_addr(v).map_err(|e| err(&format!("`control`: {e}")))?;
                    control = Some(c);
                }
                other => {
                    return Err(err(&format!(
                        "unknown parameter `{other}` (an address target takes `control`)"
                    )))
                }
            }
        }
        Ok(TargetSpec {
            transport,
            addr,
            user,
            kind: TargetKind::Address {
                control,
                device: None,
            },
        })
    }

    fn parse_builtin(main: &str, params: &[(&str, &str)]) -> Result<TargetSpec, String> {
        let mut t = TargetSpec::builtin();
        if let Some((_, proto)) = main.split_once(':') {
            t.transport = transport(proto)?;
        }
        let (mut quirks, mut variations, mut t1) = (Vec::new(), Vec::new(), None);
        for (k, v) in params {
            match *k {
                "quirk" => quirks = parse_quirk_list(v).map_err(|e| e.to_string())?,
                "variation" => {
                    variations = parse_variation_list(v).map_err(|e| e.to_string())?
                }
                "t1" => match v.parse::<u64>() {
                    Ok(ms) if ms > 0 => t1 = Some(Duration::from_millis(ms)),
                    _ => {
                        return Err(format!(
                            "`t1` is T1 in milliseconds, greater than 0, found `{v}`"
                        ))
                    }
                },
                other => {
                    return Err(format!(
                        "unknown parameter `{other}` (a builtin target takes `quirk`, `variation` and `t1`)"
                    ))
                }
            }
        }
        t.kind = TargetKind::Builtin {
            quirks,
            variations,
            t1,
        };
        Ok(t)
    }

    pub fn is_builtin(&self) -> bool {
        matches!(self.kind, TargetKind::Builtin { .. })
    }

    /// The T1 the target's spec asks for (`builtin?t1=MS`).
    pub fn t1(&self) -> Option<Duration> {
        match &self.kind {
            TargetKind::Builtin { t1, .. } => *t1,
            TargetKind::Address { .. } => None,
        }
    }

    /// The control port of a standalone `siptest ua` driving the target.
    pub fn control(&self) -> Option<SocketAddr> {
        match &self.kind {
            TargetKind::Address { control, .. } => *control,
            TargetKind::Builtin { .. } => None,
        }
    }

    /// The same target, now listening at `addr` (a builtin UA once started).
    pub fn at(&self, addr: SocketAddr) -> TargetSpec {
        TargetSpec {
            addr,
            ..self.clone()
        }
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

fn transport(proto: &str) -> Result<Transport, String> {
    match proto.to_ascii_lowercase().as_str() {
        "udp" => Ok(Transport::Udp),
        "tcp" => Ok(Transport::Tcp),
        other => Err(format!("transport `udp` or `tcp`, found `{other}`")),
    }
}

fn socket_addr(hostport: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr = hostport.parse().map_err(|_| {
        "HOST:PORT with an IP address and a port (IPv6 in brackets: [::1]:5060)".to_string()
    })?;
    if addr.port() == 0 {
        return Err("a port other than 0".into());
    }
    Ok(addr)
}

/// `a=1&b=2` as pairs; every item needs a value.
fn parse_query(q: Option<&str>) -> Result<Vec<(&str, &str)>, String> {
    let Some(q) = q else {
        return Ok(Vec::new());
    };
    q.split('&')
        .map(|item| {
            item.split_once('=')
                .filter(|(k, v)| !k.is_empty() && !v.is_empty())
                .ok_or_else(|| format!("a parameter NAME=VALUE after `?`, found `{item}`"))
        })
        .collect()
}

/// `udp:127.0.0.1:5060`, as the run reports name the target; `builtin`, `builtin:tcp`,
/// `builtin?quirk=no-to-tag` for the built-in UA.
impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            TargetKind::Builtin {
                quirks,
                variations,
                t1,
            } => {
                f.write_str("builtin")?;
                if self.transport == Transport::Tcp {
                    f.write_str(":tcp")?;
                }
                let mut params = Vec::new();
                if !quirks.is_empty() {
                    let names: Vec<&str> = quirks.iter().map(|q| q.name()).collect();
                    params.push(format!("quirk={}", names.join(",")));
                }
                if !variations.is_empty() {
                    let names: Vec<&str> = variations.iter().map(|v| v.name()).collect();
                    params.push(format!("variation={}", names.join(",")));
                }
                if let Some(t1) = t1 {
                    params.push(format!("t1={}", t1.as_millis()));
                }
                if !params.is_empty() {
                    write!(f, "?{}", params.join("&"))?;
                }
                Ok(())
            }
            TargetKind::Address { control, .. } => {
                let user = if self.user == DEFAULT_TARGET_USER {
                    String::new()
                } else {
                    format!("{}@", self.user)
                };
                write!(f, "{}:{user}{}", self.transport, self.addr)?;
                if let Some(c) = control {
                    write!(f, "?control={c}")?;
                }
                Ok(())
            }
        }
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
    fn parses_builtin_with_quirks_and_t1() {
        let t = TargetSpec::parse("builtin").unwrap();
        assert_eq!(t, TargetSpec::builtin());
        assert_eq!(t.to_string(), "builtin");
        let t = TargetSpec::parse("builtin:tcp?quirk=no-to-tag,info-405&t1=40").unwrap();
        assert_eq!(t.transport, Transport::Tcp);
        assert_eq!(
            t.kind,
            TargetKind::Builtin {
                quirks: vec![Quirk::NoToTag, Quirk::Info405],
                variations: Vec::new(),
                t1: Some(Duration::from_millis(40)),
            }
        );
        assert_eq!(t.t1(), Some(Duration::from_millis(40)));
        assert_eq!(t.to_string(), "builtin:tcp?quirk=no-to-tag,info-405&t1=40");
        assert_eq!(
            TargetSpec::parse("builtin:udp?quirk=no-to-tag")
                .unwrap()
                .to_string(),
            "builtin?quirk=no-to-tag"
        );
    }

    #[test]
    fn parses_builtin_variations() {
        let t = TargetSpec::parse("builtin?variation=no-100,two-180&quirk=no-to-tag").unwrap();
        assert_eq!(
            t.to_string(),
            "builtin?quirk=no-to-tag&variation=no-100,two-180"
        );
        assert!(TargetSpec::parse("builtin?variation=no-10").is_err());
    }

    #[test]
    fn parses_a_control_port() {
        let t = TargetSpec::parse("udp:127.0.0.1:5070?control=127.0.0.1:5071").unwrap();
        assert_eq!(t.control(), Some("127.0.0.1:5071".parse().unwrap()));
        assert_eq!(t.to_string(), "udp:127.0.0.1:5070?control=127.0.0.1:5071");
    }

    #[test]
    fn unknown_quirks_get_a_hint() {
        let e = TargetSpec::parse("builtin?quirk=no-to-tg").unwrap_err();
        let s = e.to_string();
        assert!(s.contains("unknown quirk `no-to-tg`"), "{s}");
        assert!(s.contains("did you mean `no-to-tag`"), "{s}");
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
            "udp:127.0.0.1:5060?quirk=no-to-tag",
            "udp:127.0.0.1:5060?control=nowhere",
            "udp:127.0.0.1:5060?control",
            "builtin:sctp",
            "builtin?t1=0",
            "builtin?control=127.0.0.1:5071",
        ] {
            let e = TargetSpec::parse(bad).unwrap_err();
            assert!(e.to_string().starts_with("bad target"), "{bad}: {e}");
        }
    }
}
