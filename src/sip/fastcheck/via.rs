//! Fast path for Via (RFC 3261 §20.42, §25.1; RFC 3581 rport).

use super::{
    decimal, find, is_name, list_ok, port_at, quoted_end, run, skip_ws, GEN_VALUE, HOST, TOKEN,
};
use crate::sip::headers::BRANCH_COOKIE;
use std::net::Ipv6Addr;

/// RFC 3261 §25.1 Via = ( "Via" / "v" ) HCOLON via-parm *(COMMA via-parm). True when every
/// via-parm is clean: SIP/2.0, a sent-by that parses and is not the broadcast address, a
/// branch that is a token starting with the magic cookie and carrying more than it (§8.1.1.7),
/// and an `rport` that is a flag or a port.
#[inline(never)]
pub fn via_ok(v: &[u8]) -> bool {
    list_ok(v, via_parm)
}

/// What a transaction key needs of a top Via (RFC 3261 §17.2.3): sent-by and branch, as
/// written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TopVia<'a> {
    /// The host of sent-by, brackets included for IPv6.
    pub host: &'a [u8],
    pub port: Option<u16>,
    /// The first `branch`: a token starting with the magic cookie and longer than it.
    pub branch: &'a [u8],
}

/// The top via-parm of a Via value when it is clean as [`via_ok`] reads each via-parm and is
/// the whole value or followed by a comma; `None` when not certainly clean (ask the typed
/// parser, whose first via-parm then has the same sent-by and branch).
#[inline(never)]
pub fn top_via(v: &[u8]) -> Option<TopVia<'_>> {
    let p = sent_protocol(v, 0)?;
    let s = skip_ws(v, p);
    if s == p {
        return None;
    }
    let e = sent_by(v, s)?;
    let (end, branch) = via_params_branch(v, e)?;
    let j = skip_ws(v, end);
    if j != v.len() && v[j] != b',' {
        return None;
    }
    let h = host_end(v, s);
    let port = match h < e {
        true => Some(u16::try_from(decimal(&v[h + 1..e], u64::from(u16::MAX))?).ok()?),
        false => None,
    };
    Some(TopVia {
        host: &v[s..h],
        port,
        branch: &v[branch],
    })
}

/// via-parm = sent-protocol LWS sent-by *( SEMI via-params ) (RFC 3261 §25.1).
fn via_parm(v: &[u8], i: usize) -> Option<usize> {
    let p = sent_protocol(v, i)?;
    let s = skip_ws(v, p);
    if s == p {
        return None;
    }
    let e = sent_by(v, s)?;
    via_params(v, e)
}

/// sent-protocol = protocol-name SLASH protocol-version SLASH transport, written without SWS;
/// the version must be 2.0 (RFC 3261 §20.42, RFC 4475 §3.1.2.16).
fn sent_protocol(v: &[u8], i: usize) -> Option<usize> {
    let n = if v[i..].starts_with(b"SIP/2.0/") {
        i + 8
    } else {
        let n = run(v, i, TOKEN);
        if n == i || !v[n..].starts_with(b"/2.0/") {
            return None;
        }
        n + 5
    };
    let t = run(v, n, TOKEN);
    (t > n).then_some(t)
}

/// sent-by = host [ COLON port ] without SWS (RFC 3261 §25.1); IPv6 must be bracketed
/// (RFC 5118 §4.2). The broadcast address is reported (RFC 4475 §3.3.10), so not clean here.
/// Where the host of a sent-by that [`sent_by`] accepted at `i` ends (at its `:` or its end).
fn host_end(v: &[u8], i: usize) -> usize {
    if v[i] == b'[' {
        i + find(b']', &v[i..]).map_or(0, |c| c + 1)
    } else {
        run(v, i, HOST)
    }
}

fn sent_by(v: &[u8], i: usize) -> Option<usize> {
    let mut e = if v.get(i) == Some(&b'[') {
        let close = i + find(b']', &v[i..])?;
        ipv6(&v[i + 1..close])?;
        close + 1
    } else {
        let e = run(v, i, HOST);
        if e == i || &v[i..e] == b"255.255.255.255" {
            return None;
        }
        e
    };
    if v.get(e) == Some(&b':') {
        e = port_at(v, e + 1)?;
    }
    Some(e)
}

/// An IPv6 address as `std` parses it (RFC 5954 §4.1 rules out the `:::` form).
pub(crate) fn ipv6(b: &[u8]) -> Option<Ipv6Addr> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// `*( SEMI via-params )` at `i`, via-params being generic-params (token [ EQUAL gen-value ])
/// with SWS around `;` and `=` (RFC 3261 §25.1). Clean when the first `branch` is a cookie
/// branch (RFC 3261 §20.42 via-branch = "branch" EQUAL token) and the first valued `rport` is a
/// port (RFC 3581 §3 response-port = "rport" [EQUAL 1*DIGIT]).
fn via_params(v: &[u8], e: usize) -> Option<usize> {
    via_params_branch(v, e).map(|(i, _)| i)
}

/// [`via_params`], also returning where the branch is.
fn via_params_branch(v: &[u8], e: usize) -> Option<(usize, std::ops::Range<usize>)> {
    let mut i = skip_ws(v, e);
    let (mut branch, mut branch_seen, mut rport_seen) = (None, false, false);
    while v.get(i) == Some(&b';') {
        let n0 = skip_ws(v, i + 1);
        let n = run(v, n0, TOKEN);
        if n == n0 {
            return None;
        }
        let mut j = skip_ws(v, n);
        // The value: `s..end`, of which `s..t` is a token (t == end: all of it).
        let (mut s, mut t, mut end) = (j, j, j);
        if v.get(j) == Some(&b'=') {
            s = skip_ws(v, j + 1);
            if v.get(s) == Some(&b'"') {
                (t, end) = (s, quoted_end(v, s)?);
            } else {
                t = run(v, s, TOKEN);
                // Host characters beyond a token (`[`, `]`, `:`) are rare.
                end = match v.get(t) {
                    Some(&b) if super::is(b, GEN_VALUE) => run(v, t, GEN_VALUE),
                    _ => t,
                };
                if end == s {
                    return None;
                }
            }
            j = skip_ws(v, end);
        }
        let name = &v[n0..n];
        if !branch_seen && is_name(name, b"branch") {
            branch_seen = true;
            branch = (t == end && branch_has_id(&v[s..end])).then_some(s..end);
        } else if !rport_seen && is_name(name, b"rport") {
            rport_seen = true;
            if end > s {
                decimal(&v[s..end], u64::from(u16::MAX))?;
            }
        }
        i = j;
    }
    branch.map(|b| (i, b))
}

/// Starts with `z9hG4bK` and has more after it (RFC 3261 §8.1.1.7; RFC 4475 §3.2.1 badbranch
/// is the cookie alone).
fn branch_has_id(b: &[u8]) -> bool {
    b.len() > BRANCH_COOKIE.len() && b.starts_with(BRANCH_COOKIE.as_bytes())
}
