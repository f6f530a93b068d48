//! Addresses: `name-addr` / `addr-spec` with header parameters, and the headers built from them:
//! To, From (RFC 3261 §20.39, §20.20), Contact (§20.10), Route, Record-Route (§20.34, §20.30),
//! Path (RFC 3327 §4), Refer-To (RFC 3515 §2.1) and Referred-By (RFC 3892 §3).
//!
//! Every parser takes one (unfolded) header value and reports errors with the byte offset inside
//! that value, whatever element of a list the error is in.

use super::host::parse_host;
use super::lex;
use super::lex::offset_in;
use super::uri::{parse_uri, Uri, UriError, UriErrorKind};
use std::ops::Range;

/// What was wrong with an address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddrErrorKind {
    #[error("empty address: expected a name-addr or addr-spec (RFC 3261 §25.1)")]
    Empty,
    #[error("quoted string is not closed (RFC 3261 §25.1 quoted-string; RFC 4475 §3.1.2.6)")]
    UnterminatedQuote,
    #[error("character {0:?} must be escaped with `\\` inside a quoted string (RFC 3261 §25.1 qdtext, quoted-pair)")]
    BadQuotedChar(char),
    #[error("character {0:?} in an unquoted display name: only tokens separated by white space are allowed, quote it (RFC 3261 §25.1 display-name; RFC 4475 §3.1.2.15)")]
    BadDisplayName(char),
    #[error("expected `<` after the quoted display name (RFC 3261 §25.1 name-addr)")]
    MissingLaquot,
    #[error("`<` without a matching `>` (RFC 3261 §25.1 name-addr)")]
    MissingRaquot,
    #[error("white space between `<` or `>` and the URI (RFC 3261 §25.1 LAQUOT, RAQUOT; RFC 4475 §3.1.2.14)")]
    SpaceInBrackets,
    #[error("a URI containing {0:?} must be enclosed in `<>` (RFC 3261 §20; RFC 4475 §3.1.2.13)")]
    AddrSpecNeedsBrackets(char),
    #[error("comma outside quotes and `<>`: this header takes one address, or the display name needs quotes (RFC 3261 §20.20, §20.39)")]
    UnexpectedComma,
    #[error("unexpected {0:?} after the address: expected `;` and parameters, or the end (RFC 3261 §25.1)")]
    ExpectedSemicolon(char),
    #[error("empty parameter: `;` with no name after it (RFC 3261 §25.1 generic-param; RFC 4475 §3.1.2.1)")]
    EmptyParam,
    #[error("character {0:?} in a parameter name: expected a token (RFC 3261 §25.1)")]
    BadParamName(char),
    #[error("parameter value must be a token, host or quoted string (RFC 3261 §25.1)")]
    BadParamValue,
    #[error("empty element in a comma-separated list (RFC 3261 §7.3.1; RFC 4475 §3.1.2.1)")]
    EmptyElement,
    #[error("`*` must be the only Contact value (RFC 3261 §20.10, §10.2.2)")]
    StarNotAlone,
    #[error("expected `<URI>`: this header takes the name-addr form only (RFC 3261 §20.30, §20.34; RFC 3327 §4)")]
    NameAddrRequired,
    #[error("expires must be delta-seconds that fit 32 bits (RFC 3261 §20.10, §10.2.1.1)")]
    BadExpires,
    #[error("q must be 0 to 1 with at most three decimals (RFC 3261 §20.10 qvalue)")]
    BadQ,
    #[error("cid must be a quoted message id \"id@host\" (RFC 3892 §3 sip-clean-msg-id)")]
    BadCid,
    #[error("invalid URI: {0}")]
    Uri(UriErrorKind),
}

/// An address that did not parse: where (byte offset in the parsed value) and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} (at byte {offset})")]
pub struct AddrError {
    pub offset: usize,
    pub kind: AddrErrorKind,
}

impl AddrError {
    fn new(offset: usize, kind: AddrErrorKind) -> Self {
        AddrError { offset, kind }
    }
}

fn uri_error(e: UriError, base: usize) -> AddrError {
    let e = e.shifted(base);
    AddrError::new(e.offset, AddrErrorKind::Uri(e.kind))
}

/// One address: `name-addr` (`[display-name] <URI>`) or `addr-spec` (bare URI), with the header
/// parameters that follow it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name with quotes removed and `\` escapes resolved.
    pub display_name: Option<String>,
    /// The display name as written (quotes included when quoted).
    pub display_name_raw: Option<String>,
    pub uri: Uri,
    /// Written as `<URI>` (name-addr) rather than a bare addr-spec.
    pub bracketed: bool,
    /// Header parameters as written (quoted values keep their quotes). Without `<>` everything
    /// after the first `;` is here, not in the URI (RFC 3261 §20.10).
    pub params: Vec<(String, Option<String>)>,
    /// Byte offset of each parameter's name in the parsed value (parallel to `params`).
    pub param_offsets: Vec<usize>,
    /// Byte offset of the URI in the parsed value.
    pub uri_offset: usize,
    /// Where this address is in the parsed value, without surrounding white space.
    pub span: Range<usize>,
}

impl NameAddr {
    fn find_param(&self, name: &str) -> Option<usize> {
        self.params
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// A header parameter by name, case-insensitive (RFC 3261 §7.3.1). `None`: absent;
    /// `Some(None)`: a flag without value; `Some(Some(v))`: the value, unquoted.
    pub fn param(&self, name: &str) -> Option<Option<String>> {
        self.find_param(name).map(|i| {
            self.params[i]
                .1
                .as_deref()
                .map(|v| lex::unquote(v).into_owned())
        })
    }

    /// True when the parameter is present, with or without a value.
    pub fn has_param(&self, name: &str) -> bool {
        self.find_param(name).is_some()
    }

    /// The `tag` parameter (RFC 3261 §19.3, §20.20, §20.39).
    pub fn tag(&self) -> Option<String> {
        self.param("tag").flatten()
    }

    /// The Contact `expires` parameter in seconds (RFC 3261 §20.10 c-p-expires = delta-seconds).
    /// `None` when absent. Values over 2^32-1 are an error here (RFC 4475 §3.1.2.4 scalar02);
    /// RFC 3261 §10.2.1.1 lets a registrar clamp them instead.
    pub fn expires(&self) -> Option<Result<u32, AddrError>> {
        let i = self.find_param("expires")?;
        let bad = AddrError::new(self.param_offsets[i], AddrErrorKind::BadExpires);
        let v = self.params[i].1.as_deref().unwrap_or("");
        Some(
            lex::parse_decimal(v)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or(bad),
        )
    }

    /// The Contact `q` parameter in thousandths, 0..=1000 (RFC 3261 §20.10, §25.1
    /// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`).
    pub fn q(&self) -> Option<Result<u16, AddrError>> {
        let i = self.find_param("q")?;
        let bad = AddrError::new(self.param_offsets[i], AddrErrorKind::BadQ);
        Some(parse_qvalue(self.params[i].1.as_deref().unwrap_or("")).ok_or(bad))
    }

    /// The Referred-By `cid` parameter, unquoted (RFC 3892 §3).
    pub fn cid(&self) -> Option<String> {
        self.param("cid").flatten()
    }
}

fn parse_qvalue(v: &str) -> Option<u16> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if !(int == "0" || int == "1") || frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut thousandths = 0u16;
    for k in 0..3 {
        let d = frac.as_bytes().get(k).map_or(0, |b| u16::from(b - b'0'));
        thousandths = thousandths * 10 + d;
    }
    if int == "1" {
        return (thousandths == 0).then_some(1000);
    }
    Some(thousandths)
}

/// The value of a whole Contact header (RFC 3261 §20.10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContactValue {
    /// `Contact: *`, only in a REGISTER that removes all bindings (RFC 3261 §10.2.2).
    Star,
    Addresses(Vec<NameAddr>),
}

/// Parses one address with its parameters: `( name-addr / addr-spec ) *( SEMI generic-param )`
/// (RFC 3261 §25.1). The value is not split on commas.
pub fn parse_name_addr(s: &str) -> Result<NameAddr, AddrError> {
    parse_range(s, 0..s.len())
}

/// Parses a whole To or From value (RFC 3261 §20.39, §20.20). These headers hold exactly one
/// address, so the value is never split: an unquoted comma is an error (RFC 4475 §3.1.2.15
/// baddn: `Bell, Alexander <sip:a.g.bell@bell-tel.com>`).
pub fn parse_from_to(s: &str) -> Result<NameAddr, AddrError> {
    parse_name_addr(s)
}

/// Parses a whole Contact value: `*` or a comma-separated list of addresses (RFC 3261 §20.10).
pub fn parse_contact(s: &str) -> Result<ContactValue, AddrError> {
    if lex::trim(s) == "*" {
        return Ok(ContactValue::Star);
    }
    let ranges = split_list(s)?;
    let mut out = Vec::with_capacity(ranges.len());
    for r in ranges {
        if &s[r.clone()] == "*" {
            return Err(AddrError::new(r.start, AddrErrorKind::StarNotAlone));
        }
        out.push(parse_range(s, r)?);
    }
    Ok(ContactValue::Addresses(out))
}

/// Parses a Route, Record-Route or Path value: a comma-separated list of `name-addr`, each with
/// `<>` (RFC 3261 §20.30, §20.34 `route-param = name-addr *( SEMI rr-param )`; RFC 3327 §4).
pub fn parse_address_list(s: &str) -> Result<Vec<NameAddr>, AddrError> {
    let ranges = split_list(s)?;
    let mut out = Vec::with_capacity(ranges.len());
    for r in ranges {
        let a = parse_range(s, r)?;
        if !a.bracketed {
            let kind = AddrErrorKind::NameAddrRequired;
            return Err(AddrError::new(a.span.start, kind));
        }
        out.push(a);
    }
    Ok(out)
}

/// Parses a Refer-To value (RFC 3515 §2.1: `( name-addr / addr-spec ) *( SEMI generic-param )`).
pub fn parse_refer_to(s: &str) -> Result<NameAddr, AddrError> {
    parse_name_addr(s)
}

/// The Replaces header embedded in a Refer-To URI, %-decoded (RFC 3891 §3, RFC 3515 §2.1):
/// `<sip:bob@example.com?Replaces=12345%40host%3Bto-tag%3D1%3Bfrom-tag%3D2>` gives
/// `12345@host;to-tag=1;from-tag=2`.
pub fn refer_replaces(refer_to: &NameAddr) -> Option<String> {
    refer_to.uri.header("Replaces")
}

/// Parses a Referred-By value and checks its `cid` parameter if any (RFC 3892 §3:
/// `referredby-id-param = "cid" EQUAL sip-clean-msg-id`, `sip-clean-msg-id = LDQUOT dot-atom
/// "@" (dot-atom / host) RDQUOT`).
pub fn parse_referred_by(s: &str) -> Result<NameAddr, AddrError> {
    let a = parse_name_addr(s)?;
    if let Some(i) = a.find_param("cid") {
        let ok = a.params[i].1.as_deref().is_some_and(|v| {
            v.len() > 2 && v.starts_with('"') && v.ends_with('"') && v[1..v.len() - 1].contains('@')
        });
        if !ok {
            return Err(AddrError::new(a.param_offsets[i], AddrErrorKind::BadCid));
        }
    }
    Ok(a)
}

/// Splits a list value on commas (RFC 3261 §7.3.1) and rejects empty elements.
fn split_list(s: &str) -> Result<Vec<Range<usize>>, AddrError> {
    if lex::trim(s).is_empty() {
        return Err(AddrError::new(0, AddrErrorKind::Empty));
    }
    let (ranges, problem) = lex::split_commas(s.as_bytes());
    match problem {
        Some(lex::SplitProblem::UnterminatedQuote(o)) => {
            return Err(AddrError::new(o, AddrErrorKind::UnterminatedQuote))
        }
        Some(lex::SplitProblem::UnterminatedAngle(o)) => {
            return Err(AddrError::new(o, AddrErrorKind::MissingRaquot))
        }
        None => {}
    }
    if let Some(r) = ranges.iter().find(|r| r.is_empty()) {
        return Err(AddrError::new(r.start, AddrErrorKind::EmptyElement));
    }
    Ok(ranges)
}

/// Parses `s[range]` as one address; all offsets are in `s`.
fn parse_range(s: &str, range: Range<usize>) -> Result<NameAddr, AddrError> {
    let r = lex::trim_range(s.as_bytes(), range.clone());
    if r.is_empty() {
        return Err(AddrError::new(range.start, AddrErrorKind::Empty));
    }
    let b = s.as_bytes();
    if b[r.start] == b'"' {
        // display-name = quoted-string, then LAQUOT = SWS "<" (RFC 3261 §25.1).
        let close = scan_quoted(s, r.start, r.end)?;
        let lt = lex::trim_range(b, close + 1..r.end).start;
        if lt >= r.end || b[lt] != b'<' {
            return Err(AddrError::new(lt, AddrErrorKind::MissingLaquot));
        }
        let raw = &s[r.start..=close];
        let display = Some((lex::unquote(raw).into_owned(), raw.to_string()));
        return parse_bracketed(s, display, lt, r);
    }
    match lex::find_unquoted(&b[r.start..r.end], b'<') {
        Some(i) => {
            let lt = r.start + i;
            let name = lex::trim_range(b, r.start..lt);
            check_display_tokens(s, name.clone())?;
            let display = (!name.is_empty()).then(|| {
                let t = s[name].to_string();
                (t.clone(), t)
            });
            parse_bracketed(s, display, lt, r)
        }
        None => parse_addr_spec(s, r),
    }
}

/// `display-name = *(token LWS)` when unquoted (RFC 3261 §25.1). No LWS is needed before `<`
/// (RFC 4475 §3.1.1.6 lwsdisp).
fn check_display_tokens(s: &str, r: Range<usize>) -> Result<(), AddrError> {
    let bad = s[r.clone()]
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii() && (lex::is_token_char(c as u8) || lex::is_lws(c as u8))));
    match bad {
        Some((i, c)) => Err(AddrError::new(
            r.start + i,
            AddrErrorKind::BadDisplayName(c),
        )),
        None => Ok(()),
    }
}

/// Scans a quoted string opening at `open`; returns the offset of the closing quote
/// (RFC 3261 §25.1: `qdtext = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII`,
/// `quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)`).
fn scan_quoted(s: &str, open: usize, end: usize) -> Result<usize, AddrError> {
    let mut it = s[open + 1..end].char_indices();
    while let Some((i, c)) = it.next() {
        let at = open + 1 + i;
        match c {
            '"' => return Ok(at),
            '\\' => match it.next() {
                None => break,
                Some((_, n)) if !n.is_ascii() || n == '\r' || n == '\n' => {
                    return Err(AddrError::new(at + 1, AddrErrorKind::BadQuotedChar(n)))
                }
                Some(_) => {}
            },
            ' ' | '\t' | '\r' | '\n' => {}
            c if c.is_ascii_control() => {
                return Err(AddrError::new(at, AddrErrorKind::BadQuotedChar(c)))
            }
            _ => {}
        }
    }
    Err(AddrError::new(open, AddrErrorKind::UnterminatedQuote))
}

/// `LAQUOT addr-spec RAQUOT` at `lt`, then the header parameters (RFC 3261 §25.1).
fn parse_bracketed(
    s: &str,
    display: Option<(String, String)>,
    lt: usize,
    r: Range<usize>,
) -> Result<NameAddr, AddrError> {
    let gt = s[lt + 1..r.end]
        .find('>')
        .map(|i| lt + 1 + i)
        .ok_or(AddrError::new(lt, AddrErrorKind::MissingRaquot))?;
    let inner = lt + 1..gt;
    // LAQUOT = SWS "<" and RAQUOT = ">" SWS: no white space inside the brackets.
    let b = s.as_bytes();
    for at in [inner.start, gt.saturating_sub(1)] {
        if !inner.is_empty() && lex::is_lws(b[at]) {
            return Err(AddrError::new(at, AddrErrorKind::SpaceInBrackets));
        }
    }
    let uri = parse_uri(&s[inner.clone()]).map_err(|e| uri_error(e, inner.start))?;
    let after = lex::trim_range(b, gt + 1..r.end).start;
    let (params, param_offsets) = match b.get(after) {
        _ if after >= r.end => (Vec::new(), Vec::new()),
        Some(b';') => parse_params(s, after + 1..r.end)?,
        Some(b',') => return Err(AddrError::new(after, AddrErrorKind::UnexpectedComma)),
        _ => {
            let c = s[after..].chars().next().unwrap_or(' ');
            return Err(AddrError::new(after, AddrErrorKind::ExpectedSemicolon(c)));
        }
    };
    let (display_name, display_name_raw) = display.unzip();
    Ok(NameAddr {
        display_name,
        display_name_raw,
        uri,
        bracketed: true,
        params,
        param_offsets,
        uri_offset: inner.start,
        span: r,
    })
}

/// `addr-spec *( SEMI generic-param )`: without `<>` the first `;` ends the URI, and the URI may
/// not contain `,` or `?` (RFC 3261 §20, §20.10; RFC 4475 §3.3.12 cparam01, §3.1.2.13 regbadct).
fn parse_addr_spec(s: &str, r: Range<usize>) -> Result<NameAddr, AddrError> {
    let b = s.as_bytes();
    let semi = s[r.clone()].find(';').map(|i| r.start + i);
    let uri_end = lex::trim_range(b, r.start..semi.unwrap_or(r.end)).end;
    if let Some(i) = s[r.start..uri_end].find([',', '?']) {
        let kind = AddrErrorKind::AddrSpecNeedsBrackets(char::from(b[r.start + i]));
        return Err(AddrError::new(r.start + i, kind));
    }
    if let Some(semi) = semi {
        // `sip:user;par=x@host` unbracketed: the ";" was meant to be part of the URI.
        let tail = &s[semi..r.end];
        if tail.contains('@') && !tail.contains('"') {
            let kind = AddrErrorKind::AddrSpecNeedsBrackets(';');
            return Err(AddrError::new(semi, kind));
        }
    }
    let uri = parse_uri(&s[r.start..uri_end]).map_err(|e| uri_error(e, r.start))?;
    let (params, param_offsets) = match semi {
        Some(semi) => parse_params(s, semi + 1..r.end)?,
        None => (Vec::new(), Vec::new()),
    };
    Ok(NameAddr {
        display_name: None,
        display_name_raw: None,
        uri,
        bracketed: false,
        params,
        param_offsets,
        uri_offset: r.start,
        span: r,
    })
}

type Params = (Vec<(String, Option<String>)>, Vec<usize>);

/// `*( SEMI generic-param )` with `r` the text after the first `;`; `generic-param = token
/// [ EQUAL gen-value ]`, `gen-value = token / host / quoted-string` (RFC 3261 §25.1).
fn parse_params(s: &str, r: Range<usize>) -> Result<Params, AddrError> {
    let text = &s[r.clone()];
    let mut params = Vec::new();
    let mut offsets = Vec::new();
    for p in lex::split_params(text) {
        let at = r.start + offset_in(text, p.name);
        if p.name.is_empty() {
            return Err(AddrError::new(at, AddrErrorKind::EmptyParam));
        }
        if let Some((i, c)) = p
            .name
            .char_indices()
            .find(|&(_, c)| !(c.is_ascii() && lex::is_token_char(c as u8)))
        {
            return Err(AddrError::new(at + i, AddrErrorKind::BadParamName(c)));
        }
        if let Some(v) = p.value {
            check_gen_value(s, r.start + offset_in(text, v), v)?;
        }
        params.push((p.name.to_string(), p.value.map(str::to_string)));
        offsets.push(at);
    }
    Ok((params, offsets))
}

/// `gen-value = token / host / quoted-string` (RFC 3261 §25.1), `v` being `s[at..]`.
fn check_gen_value(s: &str, at: usize, v: &str) -> Result<(), AddrError> {
    if v.starts_with('"') {
        let close = scan_quoted(s, at, at + v.len())?;
        if close + 1 != at + v.len() {
            return Err(AddrError::new(close + 1, AddrErrorKind::BadParamValue));
        }
        return Ok(());
    }
    // A host is made of token characters, except an IPv6 reference.
    if lex::is_token(v.as_bytes()) || (v.starts_with('[') && parse_host(v, false).is_ok()) {
        return Ok(());
    }
    Err(AddrError::new(at, AddrErrorKind::BadParamValue))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::host::{Host, HostError};
    use crate::sip::uri::Scheme;
    use AddrErrorKind as K;

    fn addrs(s: &str) -> Vec<NameAddr> {
        match parse_contact(s).unwrap() {
            ContactValue::Addresses(v) => v,
            ContactValue::Star => panic!("star"),
        }
    }

    #[test]
    fn display_names() {
        let a =
            parse_name_addr(r#""quoted \"escaped\" name" <sip:bob@example.com>;tag=9"#).unwrap();
        assert_eq!(a.display_name.as_deref(), Some(r#"quoted "escaped" name"#));
        assert_eq!(
            a.display_name_raw.as_deref(),
            Some(r#""quoted \"escaped\" name""#)
        );
        assert_eq!((a.bracketed, a.tag().as_deref()), (true, Some("9")));
        assert_eq!(a.uri.to_string(), "sip:bob@example.com");
        // RFC 4475 §3.1.1.1 wsinv From, unfolded
        let a =
            parse_name_addr(r#""J Rosenberg \\\""  <sip:jdrosen@example.com> ;  tag = 98asjd8"#);
        let a = a.unwrap();
        assert_eq!(a.display_name.as_deref(), Some(r#"J Rosenberg \""#));
        assert_eq!(a.tag().as_deref(), Some("98asjd8"));
        for (s, name) in [
            ("Bob Smith <sip:bob@example.com>", Some("Bob Smith")),
            ("caller<sip:caller@example.com>;tag=323", Some("caller")), // RFC 4475 §3.1.1.6
            (r#""%Z%45" <sip:resource@example.com>"#, Some("%Z%45")),   // RFC 4475 §3.1.1.5
            (
                r#""Bell, Alexander" <sip:a.g.bell@example.com>"#,
                Some("Bell, Alexander"),
            ),
            ("\"Ünïcödé\" <sip:a@b>", Some("Ünïcödé")),
            ("<sip:a@b>", None),
        ] {
            assert_eq!(
                parse_from_to(s).unwrap().display_name.as_deref(),
                name,
                "{s}"
            );
        }
    }

    #[test]
    fn intmeth_addresses() {
        // RFC 4475 §3.1.1.2: control characters escaped in a quoted string, UTF-8 param value.
        let to = "\"BEL:\\\u{7} NUL:\\\u{0} DEL:\\\u{7f}\" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>";
        let a = parse_from_to(to).unwrap();
        assert_eq!(
            a.display_name.as_deref(),
            Some("BEL:\u{7} NUL:\u{0} DEL:\u{7f}")
        );
        assert_eq!(
            a.uri.user.as_deref(),
            Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        );
        let from = "token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"работающий\";tag=_token~1'+`*%!-.";
        let a = parse_from_to(from).unwrap();
        assert_eq!(
            a.display_name.as_deref(),
            Some("token1~` token2'+_ token3*%!.-")
        );
        assert_eq!(
            a.param("fromparam''~+*_!.-%"),
            Some(Some("работающий".into()))
        );
        assert_eq!(a.tag().as_deref(), Some("_token~1'+`*%!-."));
    }

    #[test]
    fn addr_spec_params_belong_to_the_header() {
        // RFC 4475 §3.3.12 cparam01 / §3.3.13 cparam02
        let a = &addrs("sip:+19725552222@gw1.example.net;unknownparam")[0];
        assert!(!a.bracketed && a.has_param("unknownparam") && a.uri.params.is_empty());
        let a = &addrs("<sip:+19725552222@gw1.example.net;unknownparam>")[0];
        assert!(a.params.is_empty() && a.uri.has_param("unknownparam"));
        // RFC 4475 §3.1.1.1 wsinv To, unfolded
        let a =
            parse_from_to(" sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n").unwrap();
        assert_eq!(
            a.uri.host,
            Some(Host::Name("chair-dnrc.example.com".into()))
        );
        assert_eq!(
            (a.tag().as_deref(), a.span.clone()),
            (Some("1918181833n"), 1..59)
        );
        // RFC 4475 §3.3.4 unksm2
        assert!(matches!(
            parse_from_to("isbn:2983792873").unwrap().uri.scheme,
            Scheme::Other(_)
        ));
        assert!(parse_contact("<name:John_Smith>").is_ok());
        // RFC 4475 §3.3.14 regescrt: URI headers are fine inside <>.
        let a = &addrs("<sip:user@example.com?Route=%3Csip:sip.example.com%3E>")[0];
        assert_eq!(
            a.uri.header("Route").as_deref(),
            Some("<sip:sip.example.com>")
        );
        let a = parse_name_addr("<sip:a@b>;received=[2001:db8::9:255];x=\"a;b\"").unwrap();
        assert_eq!(a.param("received"), Some(Some("[2001:db8::9:255]".into())));
        assert_eq!(
            (a.param("X"), a.param_offsets.clone()),
            (Some(Some("a;b".into())), vec![10, 37])
        );
    }

    #[test]
    fn invalid_addresses_name_the_offset_and_problem() {
        let quotbal = r#""Mr. J. User <sip:j.user@example.com>"#; // RFC 4475 §3.1.2.6
        let cases: Vec<(&str, usize, AddrErrorKind)> = vec![
            (
                "Bell, Alexander <sip:a.g.bell@bell-tel.com>;tag=43",
                4,
                K::BadDisplayName(','),
            ), // RFC 4475 §3.1.2.15
            (
                "Watson, Thomas <sip:t.watson@example.org>",
                6,
                K::BadDisplayName(','),
            ),
            ("Zoë <sip:a@b>", 2, K::BadDisplayName('ë')),
            ("<sip:a@b>, <sip:c@d>", 9, K::UnexpectedComma),
            ("sip:a@b, sip:c@d", 7, K::AddrSpecNeedsBrackets(',')),
            (
                r#""Watson, Thomas" < sip:t.watson@example.org >"#,
                18,
                K::SpaceInBrackets,
            ), // RFC 4475 §3.1.2.14
            ("<sip:a@b >", 8, K::SpaceInBrackets),
            ("<sip:a @b>", 6, K::Uri(UriErrorKind::Whitespace)),
            (
                "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
                20,
                K::AddrSpecNeedsBrackets('?'),
            ), // RFC 4475 §3.1.2.13
            (
                "sip:user;par=u%40example.net@example.com",
                8,
                K::AddrSpecNeedsBrackets(';'),
            ),
            (quotbal, 0, K::UnterminatedQuote),
            (r#""abc\"#, 0, K::UnterminatedQuote),
            ("\"a\u{0}b\" <sip:a@b>", 2, K::BadQuotedChar('\u{0}')),
            ("\"a\u{7f}\" <sip:a@b>", 2, K::BadQuotedChar('\u{7f}')),
            ("\"a\\é\" <sip:a@b>", 3, K::BadQuotedChar('é')),
            ("<sip:a@b>;", 10, K::EmptyParam),
            ("<sip:a@b>;=1", 10, K::EmptyParam),
            ("<sip:a@b>;a b=1", 11, K::BadParamName(' ')),
            ("<sip:a@b>;x=", 12, K::BadParamValue),
            ("<sip:a@b>;x=a,b", 12, K::BadParamValue),
            ("<sip:a@b>;x=\"a\"b", 15, K::BadParamValue),
            ("<sip:a@b>;x=\"ab", 12, K::UnterminatedQuote),
            ("<sip:a@b> x", 10, K::ExpectedSemicolon('x')),
            ("<sip:a@b", 0, K::MissingRaquot),
            ("Bob <sip:a@b", 4, K::MissingRaquot),
            ("\"Bob\" sip:a@b", 6, K::MissingLaquot),
            ("\"Bob\"", 5, K::MissingLaquot),
            ("  ", 0, K::Empty),
            ("<>", 1, K::Uri(UriErrorKind::Empty)),
        ];
        for (s, offset, kind) in cases {
            assert_eq!(parse_from_to(s), Err(AddrError { offset, kind }), "{s}");
        }
    }

    #[test]
    fn invalid_contacts() {
        let cases: Vec<(&str, usize, AddrErrorKind)> = vec![
            (r#""Joe" <sip:joe@example.org>;;;;"#, 28, K::EmptyParam), // RFC 4475 §3.1.2.1
            (
                r#""Quoted string \"\"" <sip:jdrosen@bell-tel.com> ; ;;;"#,
                49,
                K::EmptyParam,
            ),
            ("*, <sip:a@b>", 0, K::StarNotAlone),
            ("<sip:a@b>,,<sip:c@d>", 10, K::EmptyElement),
            ("<sip:a@b>,", 10, K::EmptyElement),
            ("", 0, K::Empty),
            (
                "<sip:a@b>, <sip:c@d:99999>",
                20,
                K::Uri(UriErrorKind::Host(HostError::BadPort("99999".into()))),
            ),
            (
                "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
                20,
                K::AddrSpecNeedsBrackets('?'),
            ),
            (
                r#""Mr. J. User <sip:j.user@example.com>"#,
                0,
                K::UnterminatedQuote,
            ),
            ("<sip:a@b", 0, K::MissingRaquot),
        ];
        for (s, offset, kind) in cases {
            assert_eq!(parse_contact(s), Err(AddrError { offset, kind }), "{s}");
        }
    }

    #[test]
    fn contact_lists_star_q_and_expires() {
        assert_eq!(parse_contact(" * ").unwrap(), ContactValue::Star);
        let v = addrs("<sip:%00@host5.example.com>, \"A, B\" <sip:%00%00@host5.example.com>;q=0.5");
        assert_eq!(v[1].uri.user_unescaped().unwrap(), b"\0\0");
        assert_eq!(
            (v[1].display_name.as_deref(), v[1].span.start),
            (Some("A, B"), 29)
        );
        // RFC 4475 §3.1.1.1 wsinv Contact, unfolded
        let v = addrs(
            r#""Quoted string \"\"" <sip:jdrosen@example.com> ; newparam = newvalue ; secondparam ; q = 0.33"#,
        );
        assert_eq!(v[0].display_name.as_deref(), Some(r#"Quoted string """#));
        assert_eq!(
            (v[0].q(), v[0].has_param("secondparam")),
            (Some(Ok(330)), true)
        );
        let a = parse_name_addr("<sip:a@b>;q=0.7;expires=3600").unwrap();
        assert_eq!((a.q(), a.expires()), (Some(Ok(700)), Some(Ok(3600))));
        for (q, want) in [
            ("0", Some(0)),
            ("1", Some(1000)),
            ("1.000", Some(1000)),
            ("0.001", Some(1)),
        ] {
            assert_eq!(parse_qvalue(q), want, "{q}");
        }
        for q in ["1.5", "0.1234", "2", ".5", "", "0.a"] {
            assert_eq!(parse_qvalue(q), None, "{q}");
        }
        // RFC 4475 §3.1.2.4 scalar02
        let a = parse_name_addr("<sip:user@host129.example.com>;expires=280297596632815").unwrap();
        assert_eq!(a.expires(), Some(Err(AddrError::new(31, K::BadExpires))));
        let a = parse_name_addr("<sip:a@b>;q").unwrap();
        assert_eq!(
            (a.q(), a.expires()),
            (Some(Err(AddrError::new(10, K::BadQ))), None)
        );
    }

    #[test]
    fn route_lists() {
        let v =
            parse_address_list("<sip:p1.example.com;lr>, <sip:p2.example.com;lr;transport=tcp>");
        let v = v.unwrap();
        assert!(v[0].uri.has_lr());
        assert_eq!(v[1].uri.transport().as_deref(), Some("tcp"));
        // RFC 4475 §3.1.1.1 wsinv Route, unfolded
        let v =
            parse_address_list(" <sip:services.example.com;lr;unknownwith=value;unknown-no-value>");
        assert!(v.unwrap()[0].uri.has_param("unknown-no-value"));
        let e = parse_address_list("<sip:p1;lr>, sip:p2").unwrap_err();
        assert_eq!((e.offset, e.kind), (13, K::NameAddrRequired));
        assert_eq!(parse_address_list(" ").unwrap_err().kind, K::Empty);
    }

    #[test]
    fn refer_to_and_referred_by() {
        // RFC 3891 §3 / RFC 3515 §2.1: Replaces escaped in the Refer-To URI.
        let r = parse_refer_to("<sip:bob@example.com?Replaces=12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994>");
        let want = "12345@192.168.118.3;to-tag=12345;from-tag=5FFE-3994";
        assert_eq!(refer_replaces(&r.unwrap()).as_deref(), Some(want));
        assert_eq!(
            refer_replaces(&parse_refer_to("<sip:bob@example.com>").unwrap()),
            None
        );
        let e = parse_refer_to("sip:bob@example.com?Replaces=x").unwrap_err();
        assert_eq!(e.kind, K::AddrSpecNeedsBrackets('?'));
        // RFC 3892 §3
        let b = parse_referred_by(
            "<sip:r@referrer.example>;cid=\"20398823.2UWQFN309shb3@referrer.example\"",
        );
        assert_eq!(
            b.unwrap().cid().as_deref(),
            Some("20398823.2UWQFN309shb3@referrer.example")
        );
        assert!(!parse_referred_by("sip:r@x;cid=\"1@x\"").unwrap().bracketed);
        assert!(parse_referred_by("<sip:r@x>").unwrap().cid().is_none());
        let e = parse_referred_by("<sip:r@x>;cid=abc").unwrap_err();
        assert_eq!((e.offset, e.kind), (10, K::BadCid));
    }

    #[test]
    fn garbage_never_panics() {
        let long = format!("\"{}\" <sip:a@b>", "x".repeat(100_000));
        let long_list = "<sip:a@b>,".repeat(5_000);
        // Space-separated nasty inputs (none contains a space), plus a few with spaces.
        let nasty =
            "< > \" \"\" \\ sip: sip:@ sip:[ sip:a@[::1 <sip:a@[::1> % ; , ,, * ** <>; <<>> \
            \"a\"< a< a<> \"\\ <sip:a@b>;\" <sip:a@b>;x=\" <sip:a@b>;x=\"\\ sip:a@b;x=\" sip:a@b; \
            é<sip:a@b> <sip:a@b>é <sip:a@b>;é <sip:a@b>;x=é \"é\\ \0 <\0> sip:a@b;= <sip:a@b>;[ \
            ;;; <sip:a@b>;x=[ <sip:a@b>;x=[::1 \"a\"\"b\"<sip:a@b>";
        let mut inputs: Vec<&str> = nasty.split(' ').collect();
        inputs.extend(["", "  ", "a <", "\"a\" <", "<sip:a@b> ;", &long, &long_list]);
        for s in inputs {
            let _ = (
                parse_contact(s),
                parse_address_list(s),
                parse_referred_by(s),
            );
            if let Ok(a) = parse_name_addr(s) {
                let _ = (a.q(), a.expires(), a.tag(), refer_replaces(&a));
            }
        }
        assert!(parse_name_addr(&long).is_ok());
        assert_eq!(addrs(&long_list[..long_list.len() - 1]).len(), 5_000);
    }
}
