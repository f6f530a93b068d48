//! Zero-allocation fast paths for header-value and SDP validation.
//!
//! Every checker here reads raw bytes and answers one question: is this value *certainly*
//! clean, that is, would the typed views ([`super::headers`], [`super::addr`], [`super::uri`],
//! [`crate::sdp::parse()`]) as run by [`super::validate`] report nothing for it? `true` is a
//! promise; `false` only means "not sure", and the caller then runs the typed path, which
//! produces the exact violations. So the checkers accept a strict subset of each grammar: the
//! shapes real traffic uses (one line, ASCII, sip/sips URIs, no escapes inside quoted strings,
//! no white space where RFC 3261 allows SWS but senders rarely put it) and leave the rest to the
//! typed parsers. They never allocate. `fastcheck/tests.rs` checks the promise differentially
//! (generated values, single-byte mutations of real values, whole corpora).

mod addr;
mod sdp;
#[cfg(test)]
mod testgen;
#[cfg(test)]
mod tests;
mod via;

pub use addr::{contact_ok, from_to, from_to_parts, route_ok, sip_uri_ok, FromTo};
pub use sdp::sdp_clean;
pub use via::{top_via, via_ok, TopVia};

use super::header_name::HeaderName;
use super::headers::{is_known_body_type, is_known_option_tag, CSEQ_MAX};
use super::lex;

// ---------------------------------------------------------------------------------------------
// Character classes (RFC 3261 §25.1), one bit each in a 256-entry table.

/// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
pub(crate) const TOKEN: u16 = 1;
/// word (Call-ID) = token characters and `( ) < > : \ " / [ ] ? { }`
pub(crate) const WORD: u16 = 1 << 1;
/// Host name characters `host::parse_host` accepts: alphanum, `-`, `.`, `_`.
pub(crate) const HOST: u16 = 1 << 2;
/// user = 1*( unreserved / user-unreserved ); escapes are read apart.
pub(crate) const USER: u16 = 1 << 3;
/// password = *( unreserved / "&" / "=" / "+" / "$" / "," ); escapes are read apart.
pub(crate) const PASSWORD: u16 = 1 << 4;
/// paramchar = param-unreserved / unreserved; escapes are read apart.
pub(crate) const PARAM: u16 = 1 << 5;
/// qdtext without the quoted-pair escape: SP / HTAB / %x21 / %x23-5B / %x5D-7E (ASCII only).
pub(crate) const QDTEXT: u16 = 1 << 6;
/// gen-value when unquoted: token / host (IPv6 references add `[`, `]`, `:`).
pub(crate) const GEN_VALUE: u16 = 1 << 7;
/// SDP token-char (RFC 8866 §9).
pub(crate) const SDP_TOKEN: u16 = 1 << 8;
pub(crate) const DIGIT: u16 = 1 << 9;
/// SP / HTAB: the white space of a one-line value.
pub(crate) const WS: u16 = 1 << 10;
/// Printable ASCII but SP: %x21-7E (RFC 5234 VCHAR).
pub(crate) const VCHAR: u16 = 1 << 11;

/// True when `b` is one of `set`.
const fn one_of(b: u8, set: &[u8]) -> bool {
    let mut i = 0;
    while i < set.len() {
        if set[i] == b {
            return true;
        }
        i += 1;
    }
    false
}

const fn class_of(b: u8) -> u16 {
    let token = lex::is_token_char(b);
    // unreserved = alphanum / mark; mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"
    let unreserved = b.is_ascii_alphanumeric() || one_of(b, b"-_.!~*'()");
    let flags = [
        (TOKEN, token),
        (WORD, token || one_of(b, b"()<>:\\\"/[]?{}")),
        (HOST, b.is_ascii_alphanumeric() || one_of(b, b"-._")),
        (USER, unreserved || one_of(b, b"&=+$,;?/")),
        (PASSWORD, unreserved || one_of(b, b"&=+$,")),
        (PARAM, unreserved || one_of(b, b"[]/:&+$")),
        (
            QDTEXT,
            matches!(b, b' ' | b'\t' | 0x21 | 0x23..=0x5B | 0x5D..=0x7E),
        ),
        (GEN_VALUE, token || one_of(b, b"[]:")),
        (SDP_TOKEN, crate::sdp::fields::is_token_char(b)),
        (DIGIT, b.is_ascii_digit()),
        (WS, one_of(b, b" \t")),
        (VCHAR, matches!(b, 0x21..=0x7E)),
    ];
    let mut c = 0;
    let mut i = 0;
    while i < flags.len() {
        if flags[i].1 {
            c |= flags[i].0;
        }
        i += 1;
    }
    c
}

static CLASS: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = class_of(i as u8);
        i += 1;
    }
    t
};

/// True when `b` is in `class`.
#[inline]
pub(crate) fn is(b: u8, class: u16) -> bool {
    CLASS[usize::from(b)] & class != 0
}

/// The end of the run of `class` bytes starting at `i`. Four bytes are tested per step (one
/// branch for the four), then the last few one by one.
#[inline]
pub(crate) fn run(v: &[u8], mut i: usize, class: u16) -> usize {
    while let Some(&[a, b, c, d]) = v.get(i..i + 4) {
        let c4 = CLASS[usize::from(a)] & CLASS[usize::from(b)] & CLASS[usize::from(c)];
        if c4 & CLASS[usize::from(d)] & class == 0 {
            break;
        }
        i += 4;
    }
    while i < v.len() && is(v[i], class) {
        i += 1;
    }
    i
}

/// True when every byte is in `class` (and there is at least one).
#[inline]
pub(crate) fn all(v: &[u8], class: u16) -> bool {
    !v.is_empty() && v.iter().all(|&b| is(b, class))
}

/// True when `name` is `lower` in any case; `lower` must be lower-case letters only (for them,
/// setting the 0x20 bit is exactly case folding).
#[inline]
pub(crate) fn is_name(name: &[u8], lower: &[u8]) -> bool {
    name.len() == lower.len() && name.iter().zip(lower).all(|(&a, &b)| a | 0x20 == b)
}

/// The first `b` in `v`: a plain loop, faster than `memchr` on the short slices of a value.
#[inline]
pub(crate) fn find(b: u8, v: &[u8]) -> Option<usize> {
    v.iter().position(|&c| c == b)
}

/// Skips SP / HTAB.
#[inline]
pub(crate) fn skip_ws(v: &[u8], mut i: usize) -> usize {
    // Usually there is none: one comparison, no table.
    while let Some(b' ' | b'\t') = v.get(i) {
        i += 1;
    }
    i
}

/// `port = 1*DIGIT` at `i`, at most 65535 (RFC 3261 §25.1), written with at most five digits;
/// returns its end.
pub(crate) fn port_at(v: &[u8], i: usize) -> Option<usize> {
    let mut n: u32 = 0;
    let mut e = i;
    while let Some(&b) = v.get(e) {
        if !b.is_ascii_digit() {
            break;
        }
        n = n * 10 + u32::from(b - b'0');
        e += 1;
        if e - i > 5 {
            return None; // leading zeros: left to the typed parser
        }
    }
    (e > i && n <= u32::from(u16::MAX)).then_some(e)
}

/// `1*DIGIT` not above `max`; leading zeros allowed, as `lex::parse_decimal` and
/// `str::parse` do.
#[inline]
pub(crate) fn decimal(v: &[u8], max: u64) -> Option<u64> {
    if v.is_empty() || v.len() > 19 {
        return long_decimal(v, max);
    }
    // Nineteen digits always fit a u64.
    let mut n = 0u64;
    for &b in v {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u64::from(d);
    }
    (n <= max).then_some(n)
}

/// [`decimal`] for the empty and the long numbers, with overflow checks.
#[cold]
fn long_decimal(v: &[u8], max: u64) -> Option<u64> {
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = v.iter().try_fold(0u64, |n, &b| {
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })?;
    (n <= max).then_some(n)
}

/// The end of the quoted-string opening at `i` (RFC 3261 §25.1 quoted-string), for strings
/// made of plain qdtext: no quoted-pair, no control character, no non-ASCII byte.
pub(crate) fn quoted_end(v: &[u8], i: usize) -> Option<usize> {
    if v.get(i) != Some(&b'"') {
        return None;
    }
    let e = run(v, i + 1, QDTEXT);
    (v.get(e) == Some(&b'"')).then_some(e + 1)
}

#[inline]
/// A parameter value at `i`: `value_class` characters, or a quoted-string (RFC 3261 §25.1
/// gen-value / m-value / auth-param value). Returns its end.
pub(crate) fn param_value(v: &[u8], i: usize, value_class: u16) -> Option<usize> {
    if v.get(i) == Some(&b'"') {
        return quoted_end(v, i);
    }
    let e = run(v, i, value_class);
    (e > i).then_some(e)
}

/// `elem *(COMMA elem)` with COMMA = SWS "," SWS (RFC 3261 §7.3.1, §25.1). `elem` reads one
/// non-empty element at the given offset and returns its end.
pub(crate) fn list_ok(v: &[u8], mut elem: impl FnMut(&[u8], usize) -> Option<usize>) -> bool {
    let mut i = 0;
    loop {
        let Some(e) = elem(v, i) else {
            return false;
        };
        let j = skip_ws(v, e);
        if j == v.len() {
            return true;
        }
        if v[j] != b',' {
            return false;
        }
        i = skip_ws(v, j + 1);
    }
}

// ---------------------------------------------------------------------------------------------
// Header dispatch and the small headers

/// True when the typed check of header `name` with this one-line `value` would report nothing
/// (`method`: the request method's bytes, `None` for a response). `false` for headers without
/// a fast path.
pub fn header_clean(name: HeaderName, value: &[u8], method: Option<&[u8]>) -> bool {
    use HeaderName as N;
    let v = value;
    // A thin dispatcher: each checker is its own (not inlined) function, so a header pays only
    // for the registers its own checker needs.
    match name {
        N::Via => via_ok(v),
        // RFC 3261 §8.1.1.3: a request's From carries a tag.
        N::From => from_ok(v, method.is_some()),
        N::To => from_to(v).is_some(),
        N::Contact => contact_ok(v),
        N::Route | N::RecordRoute | N::Path => route_ok(v),
        N::CSeq => cseq_ok(v, method),
        N::CallId => call_id_ok(v),
        // RFC 3261 §20.22 Max-Forwards = 1*DIGIT (0-255); 0 in a request is reported (§16.3).
        N::MaxForwards => decimal(v, 255).is_some_and(|n| n > 0 || method.is_none()),
        // RFC 3261 §20.19 Expires = delta-seconds, at most 2**32-1.
        N::Expires => decimal(v, u64::from(u32::MAX)).is_some(),
        N::ContentType => content_type_ok(v),
        N::Allow | N::Supported | N::Unsupported => tokens_ok(v),
        N::Require | N::ProxyRequire => require_ok(v),
        N::Accept => accept_ok(v),
        N::WwwAuthenticate | N::ProxyAuthenticate | N::Authorization | N::ProxyAuthorization => {
            digest_ok(v)
        }
        _ => false,
    }
}

/// From with the tag a request's From must carry (RFC 3261 §8.1.1.3).
#[inline]
fn from_ok(v: &[u8], request: bool) -> bool {
    from_to(v).is_some_and(|tag| tag || !request)
}

/// CSeq whose method is the request's (RFC 3261 §8.1.1.5).
#[inline(never)]
fn cseq_ok(v: &[u8], method: Option<&[u8]>) -> bool {
    cseq_method(v).is_some_and(|m| method.is_none_or(|r| r == m))
}

/// Allow, Supported, Unsupported: `[ token *(COMMA token) ]` (RFC 3261 §20.5, §20.37, §20.40).
#[inline(never)]
fn tokens_ok(v: &[u8]) -> bool {
    token_list_ok(v, |_| true)
}

/// Require, Proxy-Require: option tags siptest knows (an unknown one is reported, RFC 3261
/// §8.2.2.3).
#[inline(never)]
fn require_ok(v: &[u8]) -> bool {
    !v.is_empty() && token_list_ok(v, |t| std::str::from_utf8(t).is_ok_and(is_known_option_tag))
}

/// RFC 3261 §25.1 CSeq = "CSeq" HCOLON 1*DIGIT LWS Method, the number below 2**31
/// (§8.1.1.5). Returns the method.
pub fn cseq_method(v: &[u8]) -> Option<&[u8]> {
    // The number, read once: at most ten digits (more, with leading zeros, go to the typed path).
    let (mut n, mut d) = (0u64, 0);
    while let Some(&b) = v.get(d).filter(|b| b.is_ascii_digit()) {
        n = n * 10 + u64::from(b - b'0');
        d += 1;
        if d > 10 {
            return None;
        }
    }
    let m = skip_ws(v, d);
    let e = run(v, m, TOKEN);
    let ok = d > 0 && n <= u64::from(CSEQ_MAX) && m > d && e > m && e == v.len();
    ok.then(|| &v[m..e])
}

/// RFC 3261 §25.1 `callid = word [ "@" word ]`
#[inline(never)]
pub fn call_id_ok(v: &[u8]) -> bool {
    let w = run(v, 0, WORD);
    if w == 0 || w == v.len() {
        return w > 0;
    }
    let e = run(v, w + 1, WORD);
    v[w] == b'@' && e > w + 1 && e == v.len()
}

/// `[ token *(COMMA token) ]` with each token passing `each` (RFC 3261 §25.1: Allow §20.5,
/// Supported §20.37, Unsupported §20.40, Require §20.32 option-tag = token).
pub fn token_list_ok(v: &[u8], each: impl Fn(&[u8]) -> bool) -> bool {
    v.is_empty()
        || list_ok(v, |v, i| {
            let e = run(v, i, TOKEN);
            (e > i && each(&v[i..e])).then_some(e)
        })
}

/// `m-type SLASH m-subtype` at `i` without SWS (RFC 3261 §25.1); returns the end and whether
/// the type is `*`.
fn media_range(v: &[u8], i: usize) -> Option<(usize, usize)> {
    let t = run(v, i, TOKEN);
    if t == i || v.get(t) != Some(&b'/') {
        return None;
    }
    let s = run(v, t + 1, TOKEN);
    (s > t + 1).then_some((t, s))
}

/// RFC 3261 §20.15, §25.1 Content-Type = media-type; media-type = m-type SLASH m-subtype
/// *(SEMI m-parameter); m-parameter = m-attribute EQUAL m-value (token / quoted-string).
#[inline(never)]
pub fn content_type_ok(v: &[u8]) -> bool {
    let Some((_, mut i)) = media_range(v, 0) else {
        return false;
    };
    while i < v.len() {
        let n = run(v, i + 1, TOKEN);
        if v[i] != b';' || n == i + 1 || v.get(n) != Some(&b'=') {
            return false;
        }
        match param_value(v, n + 1, TOKEN) {
            Some(e) => i = e,
            None => return false,
        }
    }
    true
}

/// RFC 3261 §20.1 Accept = [ accept-range *(COMMA accept-range) ] without accept-params;
/// media-range = "*/*" / ( m-type SLASH "*" ) / ( m-type SLASH m-subtype ).
#[inline(never)]
pub fn accept_ok(v: &[u8]) -> bool {
    v.is_empty()
        || list_ok(v, |v, i| {
            let (t, e) = media_range(v, i)?;
            (&v[i..t] != b"*" || &v[t + 1..e] == b"*").then_some(e)
        })
}

/// The elements of a value [`accept_ok`] accepted.
pub fn accept_elements(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&b| b == b',').map(|e| {
        let s = skip_ws(e, 0);
        let mut end = e.len();
        while end > s && is(e[end - 1], WS) {
            end -= 1;
        }
        &e[s..end]
    })
}

/// True for an accept range [`accept_ok`] accepted that names a body type siptest knows
/// (`*/*` or a known `type/subtype`, RFC 3261 §8.2.3).
pub fn accept_range_known(e: &[u8]) -> bool {
    e == b"*/*" || std::str::from_utf8(e).is_ok_and(is_known_body_type)
}

/// RFC 3261 §25.1 challenge / credentials in the Digest scheme: `"Digest" LWS auth-param
/// *(COMMA auth-param)`, auth-param = auth-param-name EQUAL ( token / quoted-string ).
#[inline(never)]
pub fn digest_ok(v: &[u8]) -> bool {
    let s = run(v, 0, TOKEN);
    let i = skip_ws(v, s);
    if !is_name(&v[..s], b"digest") || i == s || i == v.len() {
        return false;
    }
    list_ok(&v[i..], |v, i| {
        let n = run(v, i, TOKEN);
        let eq = skip_ws(v, n);
        if n == i || v.get(eq) != Some(&b'=') {
            return None;
        }
        param_value(v, skip_ws(v, eq + 1), TOKEN)
    })
}
