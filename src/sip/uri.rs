//! URIs as they appear in Request-URIs and address headers: SIP and SIPS (RFC 3261 §19.1,
//! §25.1), tel (RFC 3966), and any other scheme kept opaque (RFC 3261 §25.1 `absoluteURI`).
//!
//! [`parse_uri`] takes the URI text alone (no `<>`, no surrounding white space) and either returns
//! a [`Uri`] that prints back exactly what was parsed, or a [`UriError`] with the byte offset of
//! the problem inside that text. Nothing is normalised: user parts, parameters and headers are
//! kept as written, escapes included; accessors decode on demand.

use super::host::{parse_hostport, Host, HostError};
use super::lex;
use super::lex::offset_in;
use std::fmt;
use std::ops::Range;

/// A URI scheme. Comparison is case-insensitive (RFC 3261 §19.1.4); `Other` keeps the spelling.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    Sip,
    Sips,
    Tel,
    Other(String),
}

impl Scheme {
    fn from_text(s: &str) -> Scheme {
        match s.to_ascii_lowercase().as_str() {
            "sip" => Scheme::Sip,
            "sips" => Scheme::Sips,
            "tel" => Scheme::Tel,
            _ => Scheme::Other(s.to_string()),
        }
    }

    /// The scheme in lower case for the known ones, as written for `Other`.
    pub fn as_str(&self) -> &str {
        match self {
            Scheme::Sip => "sip",
            Scheme::Sips => "sips",
            Scheme::Tel => "tel",
            Scheme::Other(s) => s,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which component of a URI a character was found in (for error messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UriPart {
    User,
    Password,
    Param,
    Header,
    TelNumber,
    Opaque,
}

impl fmt::Display for UriPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UriPart::User => "user part",
            UriPart::Password => "password",
            UriPart::Param => "URI parameter",
            UriPart::Header => "URI header",
            UriPart::TelNumber => "telephone number",
            UriPart::Opaque => "URI",
        })
    }
}

/// What was wrong with a URI.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriErrorKind {
    #[error("empty URI")]
    Empty,
    #[error("expected `scheme:` at the start of the URI (RFC 3261 §25.1 absoluteURI)")]
    MissingScheme,
    #[error("invalid scheme: expected ALPHA *( ALPHA / DIGIT / \"+\" / \"-\" / \".\" ) (RFC 3261 §25.1)")]
    BadScheme,
    #[error("white space inside a URI (RFC 3261 §25.1; RFC 4475 §3.1.2.8)")]
    Whitespace,
    #[error("`%` must be followed by two hex digits (RFC 3261 §25.1 escaped)")]
    BadEscape,
    #[error(
        "character {ch:?} is not allowed in the {part}; it must be %-escaped (RFC 3261 §25.1)"
    )]
    InvalidChar { ch: char, part: UriPart },
    #[error("empty user part before `@` (RFC 3261 §25.1 userinfo)")]
    EmptyUser,
    #[error("expected a host after the scheme (RFC 3261 §19.1.1)")]
    MissingHost,
    #[error("invalid host or port: {0}")]
    Host(HostError),
    #[error("empty URI parameter: expected a name after `;` (RFC 3261 §25.1 uri-parameter)")]
    EmptyParam,
    #[error("expected a value after `=` in a URI parameter (RFC 3261 §25.1 pvalue)")]
    EmptyParamValue,
    #[error("expected `hname=hvalue` in the URI headers (RFC 3261 §25.1 header)")]
    BadHeader,
    #[error("expected text after the scheme's `:` (RFC 3261 §25.1 opaque-part)")]
    EmptyOpaque,
    #[error("expected a telephone number: \"+\" and digits, or a local number (RFC 3966 §3)")]
    BadTelNumber,
    #[error("a local tel number needs a phone-context parameter (RFC 3966 §5.1.5)")]
    TelMissingPhoneContext,
}

/// A URI that did not parse: where (byte offset in the parsed text) and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} (at byte {offset})")]
pub struct UriError {
    pub offset: usize,
    pub kind: UriErrorKind,
}

impl UriError {
    fn new(offset: usize, kind: UriErrorKind) -> Self {
        UriError { offset, kind }
    }

    /// The same error with its offset moved by `base` (for a URI parsed out of a larger value).
    pub fn shifted(self, base: usize) -> Self {
        let offset = self.offset + base;
        UriError { offset, ..self }
    }
}

/// A parsed URI. `raw` is the text as given; [`fmt::Display`] prints it unchanged.
///
/// For sip/sips every component is filled as written (escapes kept). For tel the number is in
/// `user` and its parameters in `params`. Other schemes are opaque: only `raw` and `opaque`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uri {
    pub raw: String,
    pub scheme: Scheme,
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: Option<Host>,
    pub port: Option<u16>,
    /// URI parameters as written: name, and value when there is an `=`.
    pub params: Vec<(String, Option<String>)>,
    /// URI headers (`?name=value&...`) as written, escapes kept.
    pub headers: Vec<(String, String)>,
    /// Byte offset of the `?` that starts the headers, if any (for pointing at them).
    pub headers_offset: Option<usize>,
    /// Everything after `scheme:` (set for every scheme; the only content for `Other`).
    pub opaque: String,
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl Uri {
    /// True for sip: and sips:.
    pub fn is_sip(&self) -> bool {
        matches!(self.scheme, Scheme::Sip | Scheme::Sips)
    }

    /// The user part %-decoded to bytes. `%00` is legal and decodes to a NUL byte (RFC 4475
    /// §3.1.1.4), which is why this is bytes and not a string.
    pub fn user_unescaped(&self) -> Option<Vec<u8>> {
        self.user.as_deref().map(pct_decode)
    }

    /// A URI parameter by name, compared case-insensitively after %-decoding (RFC 3261 §19.1.4).
    /// `None`: absent; `Some(None)`: present without a value (`;lr`); `Some(Some(v))`: the
    /// %-decoded value.
    pub fn param(&self, name: &str) -> Option<Option<String>> {
        self.params
            .iter()
            .find(|(n, _)| name_matches(n, name))
            .map(|(_, v)| v.as_deref().map(decode_lossy))
    }

    /// True when the parameter is present, with or without a value.
    pub fn has_param(&self, name: &str) -> bool {
        self.param(name).is_some()
    }

    /// The `transport` parameter, decoded (RFC 3261 §19.1.1).
    pub fn transport(&self) -> Option<String> {
        self.param("transport").flatten()
    }

    /// The loose-routing flag `lr` (RFC 3261 §19.1.1, §16.12). `%6C%72` counts too (RFC 4475
    /// §3.1.1.3).
    pub fn has_lr(&self) -> bool {
        self.has_param("lr")
    }

    /// The `maddr` parameter, decoded (RFC 3261 §19.1.1).
    pub fn maddr(&self) -> Option<String> {
        self.param("maddr").flatten()
    }

    /// The `user` parameter (`user=phone`, RFC 3261 §19.1.1).
    pub fn user_param(&self) -> Option<String> {
        self.param("user").flatten()
    }

    /// A URI header by name (case-insensitive, RFC 3261 §19.1.4) with its value %-decoded:
    /// `?Route=%3Csip:example.com%3E` gives `<sip:example.com>` (RFC 4475 §3.3.14).
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| name_matches(n, name))
            .map(|(_, v)| decode_lossy(v))
    }

    /// The names of the URI headers, %-decoded. A Request-URI must have none (RFC 3261 §19.1.1
    /// table; RFC 4475 §3.1.2.11).
    pub fn escaped_header_names(&self) -> Vec<String> {
        self.headers.iter().map(|(n, _)| decode_lossy(n)).collect()
    }
}

/// %-decodes `s` to bytes. A `%` not followed by two hex digits is kept as is.
pub fn pct_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex_val(b[i + 1]), hex_val(b[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn decode_lossy(s: &str) -> String {
    String::from_utf8_lossy(&pct_decode(s)).into_owned()
}

fn name_matches(raw: &str, name: &str) -> bool {
    pct_decode(raw).eq_ignore_ascii_case(name.as_bytes())
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

// RFC 3261 §25.1 character classes; `%` is allowed everywhere escapes are, and checked apart.
// unreserved = alphanum / mark; mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b)
}
// user = 1*( unreserved / escaped / user-unreserved )
fn is_user_char(b: u8) -> bool {
    is_unreserved(b) || b"&=+$,;?/%".contains(&b)
}
// password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," )
fn is_password_char(b: u8) -> bool {
    is_unreserved(b) || b"&=+$,%".contains(&b)
}
// paramchar = param-unreserved / unreserved / escaped (the same set in RFC 3966 §3)
fn is_param_char(b: u8) -> bool {
    is_unreserved(b) || b"[]/:&+$%".contains(&b)
}
// hname / hvalue = *( hnv-unreserved / unreserved / escaped )
fn is_header_char(b: u8) -> bool {
    is_unreserved(b) || b"[]/?:+$%".contains(&b)
}
// Other schemes: printable ASCII except what RFC 3986 §2 never allows unescaped.
fn is_opaque_char(b: u8) -> bool {
    b.is_ascii_graphic() && !b"<>\"{}|\\^`".contains(&b)
}

/// Checks every character of `s[r]` with `ok`; the error names the first offending one.
fn check_chars(
    s: &str,
    r: Range<usize>,
    part: UriPart,
    ok: fn(u8) -> bool,
) -> Result<(), UriError> {
    let bad = s[r.clone()]
        .char_indices()
        .find(|&(_, c)| !c.is_ascii() || !ok(c as u8));
    match bad {
        Some((i, ch)) => Err(UriError::new(
            r.start + i,
            UriErrorKind::InvalidChar { ch, part },
        )),
        None => Ok(()),
    }
}

/// Parses one URI (RFC 3261 §19.1, §25.1 `Request-URI = SIP-URI / SIPS-URI / absoluteURI`).
pub fn parse_uri(s: &str) -> Result<Uri, UriError> {
    if s.is_empty() {
        return Err(UriError::new(0, UriErrorKind::Empty));
    }
    // RFC 3261 §25.1: no LWS anywhere in a URI; RFC 4475 §3.1.2.8 (lwsruri).
    if let Some(i) = s.bytes().position(lex::is_lws) {
        return Err(UriError::new(i, UriErrorKind::Whitespace));
    }
    let colon = scheme_end(s)?;
    let scheme_text = &s[..colon];
    let mut uri = Uri {
        raw: s.to_string(),
        scheme: Scheme::from_text(scheme_text),
        user: None,
        password: None,
        host: None,
        port: None,
        params: Vec::new(),
        headers: Vec::new(),
        headers_offset: None,
        opaque: s[colon + 1..].to_string(),
    };
    let rest = colon + 1;
    match uri.scheme {
        Scheme::Sip | Scheme::Sips => {
            check_escapes(s, rest)?;
            parse_sip_rest(s, rest, &mut uri)?;
        }
        Scheme::Tel => {
            check_escapes(s, rest)?;
            parse_tel_rest(s, rest, &mut uri)?;
        }
        Scheme::Other(_) => {
            // RFC 3261 §25.1: opaque-part = uric-no-slash *uric; hier-part starts with "/".
            if rest == s.len() {
                return Err(UriError::new(rest, UriErrorKind::EmptyOpaque));
            }
            check_chars(s, rest..s.len(), UriPart::Opaque, is_opaque_char)?;
        }
    }
    Ok(uri)
}

/// The offset of the `:` that ends a valid scheme: `scheme = ALPHA *( ALPHA / DIGIT / "+" /
/// "-" / "." )` (RFC 3261 §25.1).
fn scheme_end(s: &str) -> Result<usize, UriError> {
    let colon = match s.find(':') {
        Some(c) if c > 0 => c,
        _ => return Err(UriError::new(0, UriErrorKind::MissingScheme)),
    };
    let bad = s[..colon].bytes().enumerate().find(|&(i, b)| {
        !(b.is_ascii_alphabetic() || (i > 0 && (b.is_ascii_digit() || b"+-.".contains(&b))))
    });
    match bad {
        Some((i, _)) => Err(UriError::new(i, UriErrorKind::BadScheme)),
        None => Ok(colon),
    }
}

/// RFC 3261 §25.1: escaped = "%" HEXDIG HEXDIG.
fn check_escapes(s: &str, from: usize) -> Result<(), UriError> {
    let b = s.as_bytes();
    let mut i = from;
    while i < b.len() {
        if b[i] == b'%' {
            let ok = b.get(i + 1).is_some_and(|&c| c.is_ascii_hexdigit())
                && b.get(i + 2).is_some_and(|&c| c.is_ascii_hexdigit());
            if !ok {
                return Err(UriError::new(i, UriErrorKind::BadEscape));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    Ok(())
}

/// The part of a sip/sips URI after `sip:`:
/// `[ userinfo ] hostport uri-parameters [ headers ]` (RFC 3261 §19.1.1, §25.1).
fn parse_sip_rest(s: &str, rest: usize, uri: &mut Uri) -> Result<(), UriError> {
    // The userinfo ends at the LAST "@": a user may contain ";", "?" and escapes (RFC 4475
    // §3.1.1.9 semiuri, §3.1.1.2 intmeth), and neither host, parameters nor headers may contain
    // an unescaped "@".
    let host_start = match s[rest..].rfind('@') {
        Some(at) => {
            parse_userinfo(s, rest, rest + at, uri)?;
            rest + at + 1
        }
        None => rest,
    };
    let host_end = s[host_start..]
        .find([';', '?'])
        .map_or(s.len(), |i| host_start + i);
    parse_host_part(s, host_start, host_end, uri)?;
    let query = s[host_end..].find('?').map(|i| host_end + i);
    let params_end = query.unwrap_or(s.len());
    if host_end < params_end {
        // s[host_end] is ';'
        uri.params = parse_params(s, host_end + 1, params_end)?;
    }
    if let Some(q) = query {
        uri.headers_offset = Some(q);
        uri.headers = parse_headers(s, q + 1)?;
    }
    Ok(())
}

/// `userinfo = ( user / telephone-subscriber ) [ ":" password ] "@"` (RFC 3261 §25.1).
fn parse_userinfo(s: &str, start: usize, at: usize, uri: &mut Uri) -> Result<(), UriError> {
    // user has no ":", so the first one starts the password.
    let (user_end, pass) = match s[start..at].find(':') {
        Some(c) => (start + c, Some(start + c + 1)),
        None => (at, None),
    };
    if user_end == start {
        return Err(UriError::new(start, UriErrorKind::EmptyUser));
    }
    check_chars(s, start..user_end, UriPart::User, is_user_char)?;
    uri.user = Some(s[start..user_end].to_string());
    if let Some(p) = pass {
        check_chars(s, p..at, UriPart::Password, is_password_char)?;
        uri.password = Some(s[p..at].to_string());
    }
    Ok(())
}

/// `hostport = host [ ":" port ]`, through the shared host parser (RFC 3261 §25.1; RFC 5118
/// §4.2: IPv6 must be bracketed; RFC 5954 §4.1: no three-colon form).
fn parse_host_part(s: &str, start: usize, end: usize, uri: &mut Uri) -> Result<(), UriError> {
    let text = &s[start..end];
    if text.is_empty() {
        return Err(UriError::new(start, UriErrorKind::MissingHost));
    }
    match parse_hostport(text) {
        Ok((host, port)) => {
            uri.host = Some(host);
            uri.port = port;
            Ok(())
        }
        Err(HostError::Empty) => Err(UriError::new(start, UriErrorKind::MissingHost)),
        Err(e) => {
            let at = match &e {
                HostError::BadHostChar(c) => text.find(*c).unwrap_or(0),
                HostError::BadPort(_) => text.rfind(':').map_or(0, |i| i + 1),
                _ => 0,
            };
            Err(UriError::new(start + at, UriErrorKind::Host(e)))
        }
    }
}

/// `*( ";" pname [ "=" pvalue ] )` with `s[start..end]` the text after the first `;`
/// (RFC 3261 §25.1 uri-parameters; RFC 3966 §3 par).
fn parse_params(
    s: &str,
    start: usize,
    end: usize,
) -> Result<Vec<(String, Option<String>)>, UriError> {
    let text = &s[start..end];
    let mut out = Vec::new();
    for p in lex::split_params(text) {
        let name_at = start + offset_in(text, p.name);
        if p.name.is_empty() {
            return Err(UriError::new(name_at, UriErrorKind::EmptyParam));
        }
        check_chars(
            s,
            name_at..name_at + p.name.len(),
            UriPart::Param,
            is_param_char,
        )?;
        if let Some(v) = p.value {
            let value_at = start + offset_in(text, v);
            if v.is_empty() {
                return Err(UriError::new(value_at, UriErrorKind::EmptyParamValue));
            }
            check_chars(
                s,
                value_at..value_at + v.len(),
                UriPart::Param,
                is_param_char,
            )?;
        }
        out.push((p.name.to_string(), p.value.map(str::to_string)));
    }
    Ok(out)
}

/// `headers = "?" header *( "&" header )`, `header = hname "=" hvalue` (RFC 3261 §25.1).
fn parse_headers(s: &str, start: usize) -> Result<Vec<(String, String)>, UriError> {
    let mut out = Vec::new();
    let mut at = start;
    for piece in s[start..].split('&') {
        let eq = piece
            .find('=')
            .filter(|&e| e > 0)
            .ok_or(UriError::new(at, UriErrorKind::BadHeader))?;
        check_chars(s, at..at + eq, UriPart::Header, is_header_char)?;
        check_chars(
            s,
            at + eq + 1..at + piece.len(),
            UriPart::Header,
            is_header_char,
        )?;
        out.push((piece[..eq].to_string(), piece[eq + 1..].to_string()));
        at += piece.len() + 1;
    }
    Ok(out)
}

/// `telephone-subscriber = global-number / local-number` followed by parameters (RFC 3966 §3).
fn parse_tel_rest(s: &str, rest: usize, uri: &mut Uri) -> Result<(), UriError> {
    let num_end = s[rest..].find(';').map_or(s.len(), |i| rest + i);
    let number = &s[rest..num_end];
    let global = number.starts_with('+');
    let digits_at = rest + usize::from(global);
    // global-number-digits = "+" *phonedigit DIGIT *phonedigit
    // local-number-digits = *phonedigit-hex (HEXDIG / "*" / "#") *phonedigit-hex
    let ok: fn(u8) -> bool = if global {
        |b| b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'(' | b')')
    } else {
        |b| b.is_ascii_hexdigit() || matches!(b, b'*' | b'#' | b'-' | b'.' | b'(' | b')')
    };
    check_chars(s, digits_at..num_end, UriPart::TelNumber, ok)?;
    let has_digit = s[digits_at..num_end].bytes().any(|b| {
        if global {
            b.is_ascii_digit()
        } else {
            b.is_ascii_hexdigit() || b == b'*' || b == b'#'
        }
    });
    if !has_digit {
        return Err(UriError::new(rest, UriErrorKind::BadTelNumber));
    }
    uri.user = Some(number.to_string());
    if num_end < s.len() {
        uri.params = parse_params(s, num_end + 1, s.len())?;
    }
    // RFC 3966 §5.1.5: local numbers MUST carry phone-context.
    if !global && !uri.has_param("phone-context") {
        return Err(UriError::new(rest, UriErrorKind::TelMissingPhoneContext));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use UriErrorKind as K;

    #[test]
    fn user_part_ends_at_last_at_and_keeps_escapes() {
        // RFC 4475 §3.1.1.9 semiuri
        let u = parse_uri("sip:user;par=u%40example.net@example.com").unwrap();
        assert_eq!(u.user.as_deref(), Some("user;par=u%40example.net"));
        assert_eq!(u.host, Some(Host::Name("example.com".into())));
        assert!(u.params.is_empty());
        for (s, user) in [
            (
                "sip:user;par=u%40example.net@example.com",
                &b"user;par=u@example.net"[..],
            ),
            ("sips:user%40example.com@example.net", b"user@example.com"), // RFC 4475 §3.1.1.3
            (
                "sip:sips%3Auser%40example.com@example.net",
                b"sips:user@example.com",
            ),
            ("sip:%75se%72@example.com", b"user"),
            ("sip:null-%00-null@example.com", b"null-\0-null"), // RFC 4475 §3.1.1.4
            ("sip:%00%00@host5.example.com", b"\0\0"),
        ] {
            assert_eq!(parse_uri(s).unwrap().user_unescaped().unwrap(), user, "{s}");
        }
    }

    #[test]
    fn intmeth_request_uri_user_and_password() {
        // RFC 4475 §3.1.1.2
        let s = "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com";
        let u = parse_uri(s).unwrap();
        assert_eq!(
            u.user.as_deref(),
            Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        );
        let pw = "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)";
        assert_eq!(u.password.as_deref(), Some(pw));
        assert_eq!(u.host, Some(Host::Name("example.com".into())));
        assert!(u.headers.is_empty() && u.params.is_empty());
    }

    #[test]
    fn params_match_decoded_names() {
        // RFC 4475 §3.1.1.3 esc01 Contact: `%6C%72` is `lr`.
        let u = parse_uri("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31").unwrap();
        assert!(u.has_lr());
        assert_eq!(u.param("name"), Some(Some("value%41".to_string())));
        assert_eq!(u.params[0], ("%6C%72".to_string(), None));
        let u =
            parse_uri("sip:192.0.2.1:5060;transport=TCP;maddr=239.255.255.1;user=phone").unwrap();
        assert_eq!(u.host, Some(Host::Ipv4("192.0.2.1".parse().unwrap())));
        assert_eq!(u.port, Some(5060));
        assert_eq!(u.transport().as_deref(), Some("TCP"));
        assert_eq!(u.maddr().as_deref(), Some("239.255.255.1"));
        assert_eq!(u.user_param().as_deref(), Some("phone"));
        assert_eq!(
            (u.user.as_deref(), u.param("nope"), u.has_lr()),
            (None, None, false)
        );
    }

    #[test]
    fn escaped_headers_decode() {
        // RFC 4475 §3.3.14 regescrt, §3.1.2.11 escruri
        let u = parse_uri("sip:user@example.com?Route=%3Csip:sip.example.com%3E").unwrap();
        assert_eq!(u.header("route").as_deref(), Some("<sip:sip.example.com>"));
        assert_eq!(u.escaped_header_names(), vec!["Route".to_string()]);
        assert_eq!(u.headers_offset, Some(20));
        let u = parse_uri("sip:a@b;lr?subject=x&priority=urgent&body=").unwrap();
        assert_eq!(u.headers.len(), 3);
        assert_eq!(u.header("BODY").as_deref(), Some(""));
    }

    #[test]
    fn other_schemes_and_tel() {
        // RFC 4475 §3.3.3 novelsc, §3.3.2 unkscm, §3.3.4 unksm2
        let u = parse_uri("soap.beep://192.0.2.103:3002").unwrap();
        assert_eq!(u.scheme, Scheme::Other("soap.beep".into()));
        assert_eq!(u.opaque, "//192.0.2.103:3002");
        let u = parse_uri("nobodyKnowsThisScheme:totallyopaquecontent").unwrap();
        assert_eq!((u.scheme.as_str(), u.host), ("nobodyKnowsThisScheme", None));
        for s in [
            "isbn:2983792873",
            "http://x.example.com",
            "name:John_Smith",
            "foo:%zz",
        ] {
            assert!(
                matches!(parse_uri(s).unwrap().scheme, Scheme::Other(_)),
                "{s}"
            );
        }
        assert_eq!(parse_uri("SIP:a@b").unwrap().scheme, Scheme::Sip);
        // RFC 3966 §3
        let u = parse_uri("tel:+1-201-555-0123;ext=1234").unwrap();
        assert_eq!(u.scheme, Scheme::Tel);
        assert_eq!(u.user.as_deref(), Some("+1-201-555-0123"));
        assert_eq!(u.param("ext"), Some(Some("1234".into())));
        assert!(parse_uri("tel:7042;phone-context=example.com").is_ok());
    }

    #[test]
    fn ipv6_hosts() {
        // RFC 5118 §4.1, §4.3, §4.4, §4.9, §4.11
        let v6 = |s: &str| Some(Host::Ipv6(s.parse().unwrap()));
        let u = parse_uri("sip:[2001:db8::10]").unwrap();
        assert_eq!((u.host, u.port), (v6("2001:db8::10"), None));
        let u = parse_uri("sip:[2001:db8::10]:5070").unwrap();
        assert_eq!((u.host, u.port), (v6("2001:db8::10"), Some(5070)));
        let u = parse_uri("sip:[2001:db8::10:5070]").unwrap();
        assert_eq!((u.host, u.port), (v6("2001:db8::10:5070"), None));
        assert!(parse_uri("sip:user@[2001:db8::192.0.2.1]").is_ok());
        assert!(parse_uri("sip:ted@[::ffff:192.0.2.2]").is_ok());
        assert_eq!(parse_uri("sip:a@b:65535").unwrap().port, Some(65535));
        assert_eq!(parse_uri("sip:a@b:0").unwrap().port, Some(0));
    }

    #[test]
    fn invalid_uris_name_the_offset_and_problem() {
        let inv = |ch, part| K::InvalidChar { ch, part };
        let bad_port = |p: &str| K::Host(HostError::BadPort(p.into()));
        let bad_v6 = K::Host(HostError::BadIpv6("2001:db8:::192.0.2.1".into()));
        let cases: Vec<(&str, usize, UriErrorKind)> = vec![
            ("", 0, K::Empty),
            ("sip:user@example.com; lr", 21, K::Whitespace), // RFC 4475 §3.1.2.8 lwsruri
            ("sip:a b@c", 5, K::Whitespace),
            ("<sip:user@example.com>", 0, K::BadScheme), // RFC 4475 §3.1.2.7 ltgtruri
            ("1sip:a@b", 0, K::BadScheme),
            ("si_p:a@b", 2, K::BadScheme),
            ("example.com", 0, K::MissingScheme),
            (":x", 0, K::MissingScheme),
            ("foo:", 4, K::EmptyOpaque),
            ("foo:a<b", 5, inv('<', UriPart::Opaque)),
            ("sip:a%4@b", 5, K::BadEscape),
            ("sip:a%zz@b", 5, K::BadEscape),
            ("sip:a@b;x=%", 10, K::BadEscape),
            ("sip:a@b?h=%4", 10, K::BadEscape),
            ("sip:2001:db8::10", 4, K::Host(HostError::UnbracketedIpv6)), // RFC 5118 §4.2
            ("sip:user@[2001:db8:::192.0.2.1]", 9, bad_v6), // RFC 5118 §4.10, RFC 5954
            ("sip:a@[::1", 6, K::Host(HostError::UnterminatedIpv6)),
            ("sip:a@b:65536", 8, bad_port("65536")),
            ("sip:a@b:", 8, bad_port("")),
            ("sip:a@e!x", 7, K::Host(HostError::BadHostChar('!'))),
            ("sip:", 4, K::MissingHost),
            ("sip:a@", 6, K::MissingHost),
            ("sip:a@;lr", 6, K::MissingHost),
            ("sip:@b", 4, K::EmptyUser),
            ("sip::pw@b", 4, K::EmptyUser),
            ("sip:a#b@c", 5, inv('#', UriPart::User)),
            ("sip:a:p;w@c", 7, inv(';', UriPart::Password)),
            ("sip:é@c", 4, inv('é', UriPart::User)),
            ("sip:a@b;", 8, K::EmptyParam),
            ("sip:a@b;;lr", 8, K::EmptyParam),
            ("sip:a@b;=x", 8, K::EmptyParam),
            ("sip:a@b;x=", 10, K::EmptyParamValue),
            ("sip:a@b;x=\"y\"", 10, inv('"', UriPart::Param)),
            ("sip:a@b;x=1=2", 11, inv('=', UriPart::Param)),
            ("sip:a@b?x", 8, K::BadHeader),
            ("sip:a@b?=x", 8, K::BadHeader),
            ("sip:a@b?x=1&&y=2", 12, K::BadHeader),
            ("sip:a@b?x=<", 10, inv('<', UriPart::Header)),
            ("tel:7042", 4, K::TelMissingPhoneContext), // RFC 3966 §5.1.5
            ("tel:", 4, K::BadTelNumber),
            ("tel:+", 4, K::BadTelNumber),
            ("tel:+1x2", 6, inv('x', UriPart::TelNumber)),
        ];
        for (s, offset, kind) in cases {
            assert_eq!(parse_uri(s), Err(UriError { offset, kind }), "{s}");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "sip:user;par=u%40example.net@example.com",
            "SIPS:user%40example.com@example.net:5061;TRANSPORT=tcp?Subject=hi&x=",
            "sip:[2001:db8::10]:5070;lr",
            "tel:+1-201-555-0123;ext=1234",
            "soap.beep://192.0.2.103:3002",
            "nobodyKnowsThisScheme:totallyopaquecontent",
            "sip:%00%00@host5.example.com",
        ] {
            assert_eq!(parse_uri(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn garbage_never_panics() {
        let long_user = format!("sip:{}@example.com", "a".repeat(100_000));
        let long_at = format!("sip:{}", "@".repeat(10_000));
        let long_pct = "%".repeat(10_001);
        // Space-separated nasty inputs (none contains a space), plus the empty string.
        let nasty =
            "< \" sip: sip:@ sip:[ sip:a@[::1 % : :: sip:: sip:@@ sip:a@b: sip:a@b; sip:a@b? \
            sip:a@b?& sip:a@b?= sip:% sip:%4 sip:a@[] sip:a@[]: sip:a@] sip:; sip:? sip:a@b;= tel: \
            tel:; tel:+; tel:;phone-context=x x: \0: sip:\0@a sip:é é:x sip:a@b;x=é sip:a@b:-1 \
            sip:a@[::1]:99999999999999999999";
        let mut inputs: Vec<&str> = nasty.split(' ').collect();
        inputs.push("");
        inputs.extend([long_user.as_str(), &long_at, &long_pct]);
        for s in inputs {
            if let Ok(u) = parse_uri(s) {
                let _ = (u.user_unescaped(), u.header("x"), u.has_lr(), u.to_string());
            }
        }
        assert!(parse_uri(&long_user).is_ok());
        assert_eq!(pct_decode("%"), b"%");
        assert_eq!(pct_decode("%4"), b"%4");
        assert_eq!(pct_decode("a%41%"), b"aA%");
    }
}
