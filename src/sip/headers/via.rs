//! Via (RFC 3261 §20.42, §18.2.1, §25.1; RFC 3581 rport; RFC 5118 §4.5).

use super::common::{
    excerpt, find_param, find_raw, host_error, non_empty, offset_in, owned, parse_list,
    parse_number, split_value_params, Cursor, Params,
};
use super::{HeaderError, HeaderErrorKind};
use crate::sip::host::{parse_host, Host};
use crate::sip::lex::{self, Param};

/// The magic cookie that starts an RFC 3261 branch (RFC 3261 §8.1.1.7). Case-sensitive.
pub const BRANCH_COOKIE: &str = "z9hG4bK";

/// One via-parm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Via {
    /// `SIP`, or another token (RFC 3261 §25.1 protocol-name).
    pub protocol_name: String,
    /// Always `2.0` once parsed: other versions are rejected with `BadVersion`.
    pub protocol_version: String,
    /// `UDP`, `TCP`, `TLS`, `SCTP`, `WS`, ... as written (any token).
    pub transport: String,
    pub sent_by_host: Host,
    pub sent_by_port: Option<u16>,
    /// All parameters in order, values as written.
    pub params: Params,
}

impl Via {
    /// A parameter by name (case-insensitive): `Some(None)` for a flag.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }

    /// The branch value, if any (validated as a token when parsed, RFC 3261 §20.42).
    pub fn branch(&self) -> Option<&str> {
        self.param("branch").flatten()
    }

    /// True when the branch starts with the RFC 3261 magic cookie `z9hG4bK` (§8.1.1.7; the
    /// comparison is case-sensitive). False without a branch (an RFC 2543 peer).
    pub fn branch_has_cookie(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with(BRANCH_COOKIE))
    }

    /// True when the branch is exactly the cookie and nothing else (RFC 4475 §3.2.1 badbranch):
    /// such a branch cannot identify a transaction.
    pub fn branch_is_cookie_only(&self) -> bool {
        self.branch() == Some(BRANCH_COOKIE)
    }

    /// `received`: an IPv4 or IPv6 address; IPv6 accepted with or without brackets
    /// (RFC 3261 §20.42 via-received, RFC 5118 §4.5). Offsets are within the value.
    pub fn received(&self) -> Option<Result<Host, HeaderError>> {
        let v = self.param("received")?;
        Some(received_host(v))
    }

    /// `rport`: `Some(None)` for the bare flag a client sends, `Some(Some(port))` for the value a
    /// server fills in (RFC 3581 §3, §4). Values were validated when parsed.
    pub fn rport(&self) -> Option<Option<u16>> {
        let v = self.param("rport")?;
        Some(
            v.and_then(lex::parse_decimal)
                .and_then(|p| u16::try_from(p).ok()),
        )
    }

    /// `maddr`: a host (RFC 3261 §20.42 via-maddr = "maddr" EQUAL host).
    pub fn maddr(&self) -> Option<Result<Host, HeaderError>> {
        let v = self.param("maddr")?;
        Some(match v {
            None => Err(HeaderError::syntax(0, "maddr needs a host value")),
            Some(h) => parse_host(h, false).map_err(|e| host_error(0, e)),
        })
    }

    /// `ttl`: 1*3DIGIT in 0..=255 (RFC 3261 §20.42 via-ttl).
    pub fn ttl(&self) -> Option<Result<u8, HeaderError>> {
        let v = self.param("ttl")?;
        Some(match v {
            // RFC 3261 §25.1: ttl = 1*3DIGIT ; 0 to 255
            Some(t) if t.len() <= 3 => {
                parse_number(t, t, 255, "ttl").map(|n| u8::try_from(n).unwrap_or(u8::MAX))
            }
            Some(t) => Err(HeaderError::syntax(
                0,
                format!("ttl `{}` has more than 3 digits", excerpt(t)),
            )),
            None => Err(HeaderError::syntax(0, "ttl needs a value")),
        })
    }

    /// `host[:port]` as it would be written.
    pub fn sent_by(&self) -> String {
        match self.sent_by_port {
            Some(p) => format!("{}:{p}", self.sent_by_host),
            None => self.sent_by_host.to_string(),
        }
    }
}

fn received_host(v: Option<&str>) -> Result<Host, HeaderError> {
    let v = v.ok_or_else(|| HeaderError::syntax(0, "received needs an address value"))?;
    // RFC 5118 §4.5: accept IPv6 in received both bracketed and bare.
    match parse_host(v, true).map_err(|e| host_error(0, e))? {
        // RFC 3261 §20.42: via-received = "received" EQUAL (IPv4address / IPv6address)
        Host::Name(n) => Err(HeaderError::new(
            HeaderErrorKind::BadHost,
            0,
            format!("received `{}` is not an IP address", excerpt(&n)),
        )),
        h => Ok(h),
    }
}

/// Parses one via-parm (RFC 3261 §20.42, §25.1):
/// `sent-protocol LWS sent-by *( SEMI via-params )`.
pub fn parse_via(s: &str) -> Result<Via, HeaderError> {
    non_empty(s, "Via")?;
    let mut c = Cursor::new(s);
    c.skip_ws();
    let (protocol_name, protocol_version, transport) = sent_protocol(&mut c)?;
    // RFC 3261 §25.1: via-parm = sent-protocol LWS sent-by
    let ws = c.skip_ws();
    if c.at_end() || c.peek() == Some(b';') {
        return Err(HeaderError::syntax(
            c.pos(),
            "missing sent-by (RFC 3261 §20.42)",
        ));
    }
    if ws == 0 {
        return Err(c.expected("white space between transport and sent-by"));
    }
    let (sent_by, params) = split_value_params(s, c.rest())?;
    let (sent_by_host, sent_by_port) = parse_sent_by(s, sent_by)?;
    check_params(s, &params)?;
    Ok(Via {
        protocol_name: protocol_name.to_string(),
        protocol_version: protocol_version.to_string(),
        transport: transport.to_string(),
        sent_by_host,
        sent_by_port,
        params: owned(&params),
    })
}

/// Splits a whole Via value on commas (RFC 3261 §7.3.1) and parses each via-parm. Empty elements
/// (RFC 4475 §3.1.2.1 badinv01: `SIP/2.0/UDP 192.0.2.15;;,;,,`) come back as `Empty` errors.
/// Offsets are relative to `s`.
pub fn parse_via_list(s: &str) -> Vec<Result<Via, HeaderError>> {
    if lex::trim(s).is_empty() {
        // RFC 3261 §25.1: Via = ( "Via" / "v" ) HCOLON via-parm *(COMMA via-parm)
        return vec![Err(HeaderError::new(
            HeaderErrorKind::Empty,
            0,
            "empty Via value",
        ))];
    }
    parse_list(s, parse_via)
}

/// `protocol-name SLASH protocol-version SLASH transport`, SLASH = SWS "/" SWS (RFC 3261 §25.1).
fn sent_protocol<'a>(c: &mut Cursor<'a>) -> Result<(&'a str, &'a str, &'a str), HeaderError> {
    let name = c.token();
    if name.is_empty() {
        return Err(c.expected("protocol name `SIP`"));
    }
    c.skip_ws();
    if !c.eat(b'/') {
        return Err(c.expected("`/` after the protocol name"));
    }
    c.skip_ws();
    let version_at = c.pos();
    let version = c.token();
    if version.is_empty() {
        return Err(c.expected("protocol version"));
    }
    c.skip_ws();
    if !c.eat(b'/') {
        return Err(c.expected("`/` after the protocol version"));
    }
    c.skip_ws();
    let transport = c.token();
    if transport.is_empty() {
        return Err(c.expected("transport"));
    }
    // RFC 3261 §20.42 / RFC 4475 §3.1.2.16 badvers: only SIP/2.0 is understood.
    if version != "2.0" {
        return Err(HeaderError::new(
            HeaderErrorKind::BadVersion,
            version_at,
            format!("protocol version `{}`, expected 2.0", excerpt(version)),
        ));
    }
    Ok((name, version, transport))
}

/// `sent-by = host [ COLON port ]`, COLON = SWS ":" SWS (RFC 3261 §25.1). `sb` is a trimmed
/// sub-slice of `whole`.
fn parse_sent_by(whole: &str, sb: &str) -> Result<(Host, Option<u16>), HeaderError> {
    let at = offset_in(whole, sb);
    let colon = if sb.starts_with('[') {
        // The port colon is the first one after the closing bracket.
        sb.find(']').and_then(|close| {
            let after = lex::trim(&sb[close + 1..]);
            after.starts_with(':').then(|| offset_in(sb, after))
        })
    } else if sb.matches(':').count() == 1 {
        sb.find(':')
    } else {
        None
    };
    let (host_txt, port_txt) = match colon {
        Some(i) => (lex::trim(&sb[..i]), Some(lex::trim(&sb[i + 1..]))),
        None => (sb, None),
    };
    // RFC 3261 §25.1 host; RFC 5118 §4.2: IPv6 in sent-by must be bracketed.
    let host = parse_host(host_txt, false).map_err(|e| host_error(at, e))?;
    let port = match port_txt {
        None => None,
        Some(p) => {
            // RFC 3261 §25.1: port = 1*DIGIT
            let n = parse_number(whole, p, u64::from(u16::MAX), "port")
                .map_err(|e| HeaderError::new(HeaderErrorKind::BadHost, e.offset, e.what))?;
            Some(u16::try_from(n).unwrap_or(u16::MAX))
        }
    };
    Ok((host, port))
}

/// Checks the parameters whose grammar makes the whole via-parm invalid.
fn check_params(whole: &str, params: &[Param<'_>]) -> Result<(), HeaderError> {
    if let Some(p) = find_raw(params, "branch") {
        // RFC 3261 §20.42: via-branch = "branch" EQUAL token
        match p.value {
            Some(v) if lex::is_token(v.as_bytes()) => {}
            _ => {
                return Err(HeaderError::syntax(
                    offset_in(whole, p.value.unwrap_or(p.name)),
                    "branch needs a token value",
                ))
            }
        }
    }
    if let Some(Param { value: Some(v), .. }) = find_raw(params, "rport") {
        // RFC 3581 §3: response-port = "rport" [EQUAL 1*DIGIT]
        parse_number(whole, v, u64::from(u16::MAX), "rport")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::headers::test_support::garbage;

    fn via(s: &str) -> Via {
        parse_via(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn rfc3261_20_42_basic() {
        let v = via("SIP/2.0/UDP erlang.example.com:5060;branch=z9hG4bK87asdks7");
        assert_eq!(
            (v.protocol_name.as_str(), v.transport.as_str()),
            ("SIP", "UDP")
        );
        assert_eq!(v.sent_by_host, Host::Name("erlang.example.com".into()));
        assert_eq!(v.sent_by_port, Some(5060));
        assert_eq!(v.branch(), Some("z9hG4bK87asdks7"));
        assert!(v.branch_has_cookie());
        assert!(!v.branch_is_cookie_only());
        assert_eq!(v.sent_by(), "erlang.example.com:5060");
    }

    #[test]
    fn rfc4475_wsinv_spaces_around_slashes() {
        // RFC 4475 §3.1.1.1, unfolded.
        let v = via("SIP  /   2.0 /UDP 192.0.2.2;rport;branch=390skdjuw");
        assert_eq!(v.protocol_version, "2.0");
        assert_eq!(v.transport, "UDP");
        assert_eq!(v.rport(), Some(None));
        assert!(!v.branch_has_cookie());
        // RFC 3261 §25.1: SWS before `;` and around the port colon.
        let v = via("SIP/2.0/TCP host.example.com : 5070 ;branch=z9hG4bKx");
        assert_eq!(v.sent_by_port, Some(5070));
    }

    #[test]
    fn rfc4475_badvers_is_rejected() {
        // RFC 4475 §3.1.2.16.
        let e = parse_via("SIP/7.0/UDP 192.0.2.15;branch=z9hG4bK3fiudlkdfj").unwrap_err();
        assert_eq!(e.kind, HeaderErrorKind::BadVersion);
        assert_eq!(e.offset, 4);
    }

    #[test]
    fn rfc4475_badinv01_empty_elements() {
        // RFC 4475 §3.1.2.1: `Via: SIP/2.0/UDP 192.0.2.15;;,;,,`
        let r = parse_via_list("SIP/2.0/UDP 192.0.2.15;;,;,,");
        use HeaderErrorKind::{Empty, EmptyParam, Syntax};
        let kinds: Vec<HeaderErrorKind> = r.iter().map(|x| x.as_ref().unwrap_err().kind).collect();
        assert_eq!(kinds, [EmptyParam, Syntax, Empty, Empty]);
        assert_eq!(r[1].as_ref().unwrap_err().offset, 25);
    }

    #[test]
    fn rfc4475_transports() {
        // RFC 4475 §3.1.1.10: any token is a transport.
        for t in ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"] {
            let v = via(&format!("SIP/2.0/{t} t.example.com;branch=z9hG4bKkdjuw"));
            assert_eq!(v.transport, t);
        }
    }

    #[test]
    fn list_offsets_are_relative_to_the_whole_value() {
        let r = parse_via_list("SIP/2.0/UDP a.example.com, SIP/2.0/UDP b.example.com:99999");
        assert!(r[0].is_ok());
        let e = r[1].as_ref().unwrap_err();
        assert_eq!(e.kind, HeaderErrorKind::BadHost);
        assert_eq!(e.offset, 53);
        assert_eq!(
            parse_via_list(" ")[0].as_ref().unwrap_err().kind,
            HeaderErrorKind::Empty
        );
    }

    #[test]
    fn rfc4475_badbranch_cookie_only() {
        // RFC 4475 §3.2.1; RFC 3261 §8.1.1.7 cookie is case-sensitive.
        assert!(via("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK").branch_is_cookie_only());
        assert!(!via("SIP/2.0/UDP 192.0.2.1;branch=z9hg4bkabc").branch_has_cookie());
        assert!(!via("SIP/2.0/UDP 192.0.2.1").branch_has_cookie());
        assert!(parse_via("SIP/2.0/UDP 192.0.2.1;branch").is_err());
        assert!(parse_via("SIP/2.0/UDP 192.0.2.1;branch=\"z9hG4bKa\"").is_err());
    }

    #[test]
    fn rfc5118_4_5_received_ipv6_with_and_without_brackets() {
        let v = via("SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKas3");
        assert_eq!(v.sent_by_host, Host::Ipv6("2001:db8::9:1".parse().unwrap()));
        let want = Host::Ipv6("2001:db8::9:255".parse().unwrap());
        assert_eq!(v.received(), Some(Ok(want.clone())));
        let v = via("SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3");
        assert_eq!(v.received(), Some(Ok(want)));
        let r = via("SIP/2.0/UDP 192.0.2.1;received=host.example.com").received();
        assert_eq!(r.unwrap().unwrap_err().kind, HeaderErrorKind::BadHost);
        // RFC 5118 §4.2: sent-by IPv6 must be bracketed.
        let e = parse_via("SIP/2.0/UDP 2001:db8::9:1;branch=z9hG4bKas3").unwrap_err();
        assert_eq!(e.kind, HeaderErrorKind::BadHost);
        let v = via("SIP/2.0/UDP [2001:db8::9:1]:5061");
        assert_eq!(v.sent_by_port, Some(5061));
    }

    #[test]
    fn rfc3581_rport_flag_and_value() {
        assert_eq!(via("SIP/2.0/UDP h;rport=5066").rport(), Some(Some(5066)));
        assert_eq!(via("SIP/2.0/UDP h").rport(), None);
        assert!(parse_via("SIP/2.0/UDP h;rport=abc").is_err());
        assert_eq!(
            parse_via("SIP/2.0/UDP h;rport=65536").unwrap_err().kind,
            HeaderErrorKind::OutOfRange
        );
    }

    #[test]
    fn rfc3261_20_42_ttl_and_maddr() {
        assert_eq!(via("SIP/2.0/UDP h;ttl=0").ttl(), Some(Ok(0)));
        assert_eq!(via("SIP/2.0/UDP h;ttl=255").ttl(), Some(Ok(255)));
        let e = via("SIP/2.0/UDP h;ttl=256").ttl().unwrap().unwrap_err();
        assert_eq!(e.kind, HeaderErrorKind::OutOfRange);
        assert!(via("SIP/2.0/UDP h;ttl=0016").ttl().unwrap().is_err());
        assert!(via("SIP/2.0/UDP h;ttl").ttl().unwrap().is_err());
        let m = via("SIP/2.0/UDP h;maddr=224.2.0.1;ttl=16").maddr();
        assert_eq!(m, Some(Ok(Host::Ipv4("224.2.0.1".parse().unwrap()))));
    }

    #[test]
    fn rfc3261_20_42_missing_parts() {
        for bad in [
            "SIP/2.0/UDP",
            "SIP/2.0/UDP ;branch=z9hG4bKa",
            "SIP/2.0 192.0.2.1",
            "SIP 2.0 UDP 192.0.2.1",
            "SIP/2.0/UDP192.0.2.1",
            "/2.0/UDP h",
            "SIP//UDP h",
            "SIP/2.0/ h",
            "SIP/2.0/UDP h:",
            "SIP/2.0/UDP h:port",
            "SIP/2.0/UDP h x",
            "SIP/2.0/UDP h;a=\"open",
            "SIP/2.0/UDP h;",
        ] {
            assert!(parse_via(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_via("").unwrap_err().kind, HeaderErrorKind::Empty);
    }

    #[test]
    fn garbage_never_panics() {
        for g in garbage() {
            let _ = parse_via(&g);
            let _ = parse_via_list(&g);
            let _ = parse_via(&format!("SIP/2.0/UDP {g}"));
            if let Ok(v) = parse_via(&format!("SIP/2.0/UDP h;{g}")) {
                let _ = (v.received(), v.maddr(), v.ttl(), v.rport(), v.branch());
            }
        }
    }
}
