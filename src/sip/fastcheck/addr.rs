//! Fast paths for SIP URIs (RFC 3261 §19.1.1, §25.1) and the address headers built on them:
//! From, To (§20.20, §20.39), Contact (§20.10), Route, Record-Route (§20.34, §20.30) and Path
//! (RFC 3327 §4). Only the name-addr form with a sip/sips URI and no URI headers is taken; an
//! addr-spec without `<>`, another scheme or `?headers` go to the typed parser.

use super::via::ipv6;
use super::{
    is, is_name, list_ok, param_value, port_at, quoted_end, run, skip_ws, HOST, PARAM, PASSWORD,
    TOKEN, USER, WS,
};
use std::ops::Range;

/// A whole From or To value (RFC 3261 §20.20, §20.39): exactly one clean address. Returns
/// whether its first `tag` parameter has a value (RFC 3261 §19.3).
#[inline(never)]
pub fn from_to(v: &[u8]) -> Option<bool> {
    let (e, tag) = name_addr(v, 0)?;
    (e == v.len()).then_some(tag)
}

/// What dialogs and the checker read of a From or To value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FromTo<'a> {
    /// The URI, without `<>`: the typed parse's `uri.raw`.
    pub uri: &'a [u8],
    /// The value of the first `tag` parameter as written (a quoted value keeps its quotes);
    /// `None` when there is no `tag` or one without a value (`NameAddr::tag` is the same).
    pub tag: Option<&'a [u8]>,
}

/// The URI and tag of a whole From or To value that [`from_to`] finds clean; `None` when the
/// value is not certainly clean (ask the typed parser).
#[inline(never)]
pub fn from_to_parts(v: &[u8]) -> Option<FromTo<'_>> {
    let lt = display_name(v, 0)?;
    let gt = sip_uri(v, lt + 1)?;
    if v.get(gt) != Some(&b'>') {
        return None;
    }
    let (e, tag) = addr_params_tag(v, gt + 1)?;
    (e == v.len()).then(|| FromTo {
        uri: &v[lt + 1..gt],
        tag: tag.flatten().map(|r| &v[r]),
    })
}

/// A whole Contact value: `*` or a list of clean addresses (RFC 3261 §20.10).
#[inline(never)]
pub fn contact_ok(v: &[u8]) -> bool {
    v == b"*" || list_ok(v, |v, i| name_addr(v, i).map(|(e, _)| e))
}

/// A whole Route, Record-Route or Path value: `name-addr *(COMMA name-addr)` (RFC 3261 §25.1
/// route-param = name-addr *( SEMI rr-param )).
#[inline(never)]
pub fn route_ok(v: &[u8]) -> bool {
    list_ok(v, |v, i| name_addr(v, i).map(|(e, _)| e))
}

/// `name-addr *( SEMI generic-param )` at `i`, name-addr = [ display-name ] LAQUOT addr-spec
/// RAQUOT (RFC 3261 §25.1). Returns the end and whether the first `tag` has a value.
fn name_addr(v: &[u8], i: usize) -> Option<(usize, bool)> {
    let lt = display_name(v, i)?;
    // No part of a URI holds `>`, so the URI ends at the first one, as the typed parser reads.
    let gt = sip_uri(v, lt + 1)?;
    if v.get(gt) != Some(&b'>') {
        return None;
    }
    addr_params(v, gt + 1)
}

/// display-name = *(token LWS) / quoted-string, then SWS "<" (RFC 3261 §25.1 LAQUOT);
/// returns the offset of `<`.
fn display_name(v: &[u8], i: usize) -> Option<usize> {
    let lt = match v.get(i) {
        Some(b'<') => i,
        Some(b'"') => skip_ws(v, quoted_end(v, i)?),
        _ => run(v, i, TOKEN | WS),
    };
    (v.get(lt) == Some(&b'<')).then_some(lt)
}

/// `*( SEMI generic-param )` after RAQUOT, generic-param = token [ EQUAL gen-value ] with a
/// token or quoted-string value (RFC 3261 §25.1), SWS around `;` and `=`.
fn addr_params(v: &[u8], j: usize) -> Option<(usize, bool)> {
    let (e, tag) = addr_params_tag(v, j)?;
    Some((e, matches!(tag, Some(Some(_)))))
}

/// [`addr_params`], returning where the first `tag` parameter's value is: `Some(None)` for a
/// `tag` without a value.
fn addr_params_tag(v: &[u8], j: usize) -> Option<(usize, Option<Option<Range<usize>>>)> {
    let mut i = skip_ws(v, j);
    let mut tag = None;
    while v.get(i) == Some(&b';') {
        let n0 = skip_ws(v, i + 1);
        let n = run(v, n0, TOKEN);
        if n == n0 {
            return None;
        }
        let mut k = skip_ws(v, n);
        let mut value = None;
        if v.get(k) == Some(&b'=') {
            let v0 = skip_ws(v, k + 1);
            let v1 = param_value(v, v0, TOKEN)?;
            value = Some(v0..v1);
            k = skip_ws(v, v1);
        }
        if tag.is_none() && is_name(&v[n0..n], b"tag") {
            tag = Some(value);
        }
        i = k;
    }
    Some((i, tag))
}

/// A sip or sips URI without headers that `uri::parse_uri` accepts and that is the whole of
/// `u` (a Request-URI, RFC 3261 §19.1.1, §25.1).
pub fn sip_uri_ok(u: &[u8]) -> bool {
    sip_uri(u, 0) == Some(u.len())
}

/// A sip or sips URI starting at `i` (RFC 3261 §25.1 SIP-URI = "sip:" [ userinfo ] hostport
/// uri-parameters [ headers ]), read forward up to the first byte none of its parts may hold
/// (`>`, `?`, white space, the end, ...), which is returned. Every `%` must start an escape
/// (RFC 3261 §25.1 escaped = "%" HEXDIG HEXDIG). The typed parser splits the userinfo off at
/// the last `@`; no `@` can follow the one found here, or the host and parameters would stop
/// before it and the caller would see a byte other than the one it expects.
fn sip_uri(v: &[u8], i: usize) -> Option<usize> {
    let rest = i + scheme_len(&v[i..])?;
    // Most URIs start with host characters, which are user characters too: read them once and
    // decide from what stops them (RFC 3261 §25.1 userinfo = ( user / telephone-subscriber )
    // [ ":" password ] "@").
    let h = run(v, rest, HOST);
    let host = match v.get(h) {
        Some(b'@') if h > rest => h + 1,
        Some(b':' | b'@') => userinfo(v, rest)?,
        // `;` starts the parameters of a URI without userinfo; a user holding `;` (RFC 4475
        // §3.1.1.9) reaches its `@` while the parameters are read, and the caller gives up.
        Some(&b) if b != b';' && (is(b, USER) || b == b'%') => userinfo(v, rest)?,
        _ => rest,
    };
    let e = if host == rest && h > rest {
        port(v, h)?
    } else {
        hostport(v, host)?
    };
    if v.get(e) == Some(&b';') {
        uri_params(v, e + 1)
    } else {
        Some(e)
    }
}

/// `sip:` or `sips:`, any case (RFC 3261 §19.1.4).
#[inline]
fn scheme_len(v: &[u8]) -> Option<usize> {
    // Lower-case the letters with one OR (`:` already has the 0x20 bit).
    let lower = |b: &[u8]| b.iter().fold(0u64, |w, &c| w << 8 | u64::from(c | 0x20));
    match v {
        [a, b, c, b':', ..] if lower(&[*a, *b, *c]) == lower(b"sip") => Some(4),
        [a, b, c, d, b':', ..] if lower(&[*a, *b, *c, *d]) == lower(b"sips") => Some(5),
        _ => None,
    }
}

/// A run of `class` bytes and valid escapes from `i`; `None` at a `%` that does not start one.
#[inline]
fn run_escaped(v: &[u8], i: usize, class: u16) -> Option<usize> {
    let mut j = run(v, i, class);
    while v.get(j) == Some(&b'%') {
        let hex = |k: usize| v.get(k).is_some_and(u8::is_ascii_hexdigit);
        if !(hex(j + 1) && hex(j + 2)) {
            return None;
        }
        j = run(v, j + 3, class);
    }
    Some(j)
}

/// userinfo = user [ ":" password ] "@" at `i` (RFC 3261 §25.1); returns where the host
/// starts (`i` when there is no userinfo).
fn userinfo(v: &[u8], i: usize) -> Option<usize> {
    let u = run_escaped(v, i, USER)?;
    match v.get(u) {
        Some(b'@') => (u > i).then_some(u + 1),
        Some(b':') => {
            let p = run_escaped(v, u + 1, PASSWORD)?;
            match v.get(p) {
                Some(b'@') => (u > i).then_some(p + 1),
                _ => Some(i), // `host:port`
            }
        }
        _ => Some(i),
    }
}

/// hostport = host [ ":" port ] at `i` (RFC 3261 §25.1), IPv6 bracketed (RFC 5118 §4.2);
/// returns its end.
fn hostport(v: &[u8], i: usize) -> Option<usize> {
    let h = if v.get(i) == Some(&b'[') {
        let close = i + v[i..].iter().position(|&b| b == b']')?;
        ipv6(&v[i + 1..close])?;
        close + 1
    } else {
        let h = run(v, i, HOST);
        (h > i).then_some(h)?
    };
    port(v, h)
}

/// `[ ":" port ]` at `h` (RFC 3261 §25.1); returns the end.
#[inline]
fn port(v: &[u8], h: usize) -> Option<usize> {
    if v.get(h) == Some(&b':') {
        port_at(v, h + 1)
    } else {
        Some(h)
    }
}

/// `*( ";" uri-parameter )` after the first `;`, uri-parameter = pname [ "=" pvalue ], both
/// 1*paramchar (RFC 3261 §25.1); returns the end.
fn uri_params(v: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let n = run_escaped(v, i, PARAM)?;
        let mut e = n;
        if n == i {
            return None;
        }
        if v.get(n) == Some(&b'=') {
            e = run_escaped(v, n + 1, PARAM)?;
            if e == n + 1 {
                return None;
            }
        }
        if v.get(e) != Some(&b';') {
            return Some(e);
        }
        i = e + 1;
    }
}
