//! A zero-allocation pre-check of SDP bodies (RFC 8866): true only when [`crate::sdp::parse()`]
//! would report no violation. It walks the lines once with the parser's order, duplicate and
//! field rules, and gives up (returns false) on anything unusual: a bare LF, a byte outside
//! printable ASCII, a multicast or missing connection address, an unmapped dynamic payload type.

use super::{decimal, find, run, DIGIT, HOST, SDP_TOKEN, VCHAR};
use crate::sdp::parse::{media_rank, session_rank, KNOWN_TYPES};
use std::net::{Ipv4Addr, Ipv6Addr};

/// True when `crate::sdp::parse(body)` certainly has no violation.
pub fn sdp_clean(body: &[u8]) -> bool {
    let mut st = State::default();
    let mut pos = 0;
    while pos < body.len() {
        // RFC 8866 §5: `<type>=<value>` lines ending with CRLF (the last one too), none empty;
        // printable ASCII only on the fast path (no NUL, no bare CR).
        let end = printable_end(body, pos);
        if end - pos < 2 || body.get(end..end + 2) != Some(b"\r\n") || !st.line(&body[pos..end]) {
            return false;
        }
        pos = end + 2;
    }
    st.finish()
}

/// The end of the run of printable ASCII (SP to `~`) at `i`, eight bytes at a time.
fn printable_end(v: &[u8], mut i: usize) -> usize {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = v.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        // Per byte, without carries between bytes: the high bit of `low + 0x60` is set when
        // the low seven bits are 0x20 or more, that of `low + 0x01` when they are 0x7F.
        let low = w & LOW7;
        let special = (w | !(low + 0x6060_6060_6060_6060) | (low + 0x0101_0101_0101_0101)) & HIGH;
        if special != 0 {
            return i + special.trailing_zeros() as usize / 8;
        }
        i += 8;
    }
    while i < v.len() && (0x20..0x7F).contains(&v[i]) {
        i += 1;
    }
    i
}

/// One media description being read.
#[derive(Default)]
struct Media {
    has_c: bool,
    /// Dynamic payload types (96-127) of the m= line, bit `pt - 96`.
    dynamic: u32,
    /// Payload types with an a=rtpmap, bit `pt`.
    mapped: u128,
}

#[derive(Default)]
struct State {
    lines: usize,
    rank: u8,
    seen_time: bool,
    /// Type letters seen: anywhere, once-per-session, once-per-media; bit `letter - 'a'`.
    all_seen: u32,
    session_seen: u32,
    media_seen: u32,
    directions: u8,
    session_c: bool,
    media: Option<Media>,
}

/// A bit per lower-case letter.
fn bit(kind: u8) -> u32 {
    1 << (kind - b'a')
}

/// The type letters of RFC 8866 §5, as bits.
const KNOWN: u32 = {
    let mut m = 0;
    let mut i = 0;
    while i < KNOWN_TYPES.len() {
        m |= 1 << (KNOWN_TYPES[i] - b'a');
        i += 1;
    }
    m
};

impl State {
    /// One line without its CRLF: `<type>=<value>` (RFC 8866 §5).
    fn line(&mut self, l: &[u8]) -> bool {
        let kind = l[0];
        if l[1] != b'=' || !kind.is_ascii_lowercase() || KNOWN & bit(kind) == 0 {
            return false;
        }
        // RFC 8866 §5: the description starts with v=.
        if self.lines == 0 && kind != b'v' {
            return false;
        }
        self.lines += 1;
        self.all_seen |= bit(kind);
        self.order(kind) && self.once(kind) && self.field(kind, &l[2..])
    }

    /// RFC 8866 §5: the lines of each level come in a fixed order; r= and z= follow a t=.
    fn order(&mut self, kind: u8) -> bool {
        if self.media.is_none() {
            let rank = session_rank(kind);
            let ok = rank >= self.rank && (!matches!(kind, b'r' | b'z') || self.seen_time);
            self.rank = self.rank.max(rank);
            return ok;
        }
        match media_rank(kind) {
            Some(_) if kind == b'm' => true,
            Some(rank) if rank >= self.rank => {
                self.rank = rank;
                true
            }
            _ => false,
        }
    }

    /// RFC 8866 §5: v o s u once per description; i k once per level; c once at session level.
    fn once(&mut self, kind: u8) -> bool {
        let anywhere = matches!(kind, b'v' | b'o' | b's' | b'u');
        let in_media = self.media.is_some();
        if !(anywhere || matches!(kind, b'i' | b'k') || (kind == b'c' && !in_media)) {
            return true;
        }
        let seen = if anywhere || !in_media {
            &mut self.session_seen
        } else {
            &mut self.media_seen
        };
        let fresh = *seen & bit(kind) == 0;
        *seen |= bit(kind);
        fresh
    }

    fn field(&mut self, kind: u8, value: &[u8]) -> bool {
        match kind {
            b'v' => value == b"0",     // RFC 8866 §5.1
            b'o' => origin_ok(value),  // RFC 8866 §5.2
            b's' => !value.is_empty(), // RFC 8866 §5.3
            b'c' => {
                match &mut self.media {
                    Some(m) => m.has_c = true,
                    None => self.session_c = true,
                }
                connection_ok(value)
            }
            b'b' => bandwidth_ok(value), // RFC 8866 §5.8
            b't' => {
                self.seen_time = true;
                time_ok(value)
            }
            b'a' => self.attribute(value),
            b'm' => self.start_media(value),
            _ => true,
        }
    }

    /// `a=<attribute-name>[:<attribute-value>]` (RFC 8866 §5.13), one direction per level
    /// (§6.7), rtpmap at media level, one per payload type (§6.6).
    fn attribute(&mut self, value: &[u8]) -> bool {
        // The name ends at the first `:` (not a token character) or at the end.
        let n = run(value, 0, SDP_TOKEN);
        let (name, val) = (&value[..n], value.get(n + 1..));
        if n == 0 || (n < value.len() && (value[n] != b':' || n + 1 == value.len())) {
            return false;
        }
        if matches!(name, b"sendrecv" | b"sendonly" | b"recvonly" | b"inactive") {
            self.directions += 1;
            if self.directions > 1 {
                return false;
            }
        }
        if name != b"rtpmap" {
            return true;
        }
        match (&mut self.media, rtpmap_pt(val.unwrap_or_default())) {
            (Some(m), Some(pt)) if m.mapped & (1 << pt) == 0 => {
                m.mapped |= 1 << pt;
                true
            }
            _ => false,
        }
    }

    /// `m=<media> <port>[/<number of ports>] <proto> <fmt> ...` (RFC 8866 §5.14).
    fn start_media(&mut self, value: &[u8]) -> bool {
        if !self.close_media() {
            return false;
        }
        self.rank = 0;
        self.media_seen = 0;
        self.directions = 0;
        match media_line(value) {
            Some(dynamic) => {
                self.media = Some(Media {
                    dynamic,
                    ..Media::default()
                });
                true
            }
            None => false,
        }
    }

    /// RFC 8866 §5.7: a c= in the media description or at session level; §5.14: every
    /// dynamic payload type has an a=rtpmap.
    fn close_media(&mut self) -> bool {
        match self.media.take() {
            Some(m) => {
                let mapped = (m.mapped >> 96) as u32;
                (self.session_c || m.has_c) && m.dynamic & !mapped == 0
            }
            None => true,
        }
    }

    /// RFC 8866 §5: v, o, s and t are required.
    fn finish(mut self) -> bool {
        let required = bit(b'v') | bit(b'o') | bit(b's') | bit(b't');
        self.close_media() && self.all_seen & required == required
    }
}

/// Exactly `N` fields separated by single spaces, field `k` being one or more bytes of
/// `classes[k]` (none of which holds SP).
fn fields<const N: usize>(v: &[u8], classes: [u16; N]) -> Option<[&[u8]; N]> {
    let mut out = [&v[..0]; N];
    let mut i = 0;
    for (k, &class) in classes.iter().enumerate() {
        if k > 0 {
            if v.get(i) != Some(&b' ') {
                return None;
            }
            i += 1;
        }
        let e = run(v, i, class);
        if e == i {
            return None;
        }
        out[k] = &v[i..e];
        i = e;
    }
    (i == v.len()).then_some(out)
}

fn parse_ip<T: std::str::FromStr>(s: &[u8]) -> Option<T> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// RFC 8866 §9 FQDN as the SDP parser checks it: host characters, 4 or more, not a number.
fn domain_ok(s: &[u8]) -> bool {
    s.len() >= 4 && super::all(s, HOST) && !s.iter().all(|&b| b.is_ascii_digit() || b == b'.')
}

/// A dotted-quad IPv4 address without leading zeros: exactly what `Ipv4Addr::from_str`
/// accepts, read in one pass without building a `str`. Returns the first octet.
pub(super) fn ipv4_first_octet(s: &[u8]) -> Option<u8> {
    let (mut dots, mut digits, mut n, mut first) = (0, 0, 0u32, 0u32);
    for &b in s {
        if b == b'.' {
            if digits == 0 || dots == 3 {
                return None;
            }
            if dots == 0 {
                first = n;
            }
            (dots, digits, n) = (dots + 1, 0, 0);
        } else if b.is_ascii_digit() {
            // No leading zero (a second digit after a `0`), no octet above 255.
            if digits == 1 && n == 0 {
                return None;
            }
            (digits, n) = (digits + 1, n * 10 + u32::from(b - b'0'));
            if n > 255 {
                return None;
            }
        } else {
            return None;
        }
    }
    (dots == 3 && digits > 0).then_some(first as u8)
}

/// A unicast address of type IP4 or IP6 (literal or domain name), or `None` when it is not one.
/// `Some(true)` for a multicast literal.
fn address(addrtype: &[u8], s: &[u8]) -> Option<bool> {
    let multicast = match addrtype {
        // RFC 5771: 224.0.0.0/4 is multicast.
        b"IP4" => ipv4_first_octet(s)
            .map(|a| (224..=239).contains(&a))
            .or_else(|| parse_ip::<Ipv4Addr>(s).map(|a| a.is_multicast())),
        _ => parse_ip::<Ipv6Addr>(s).map(|a| a.is_multicast()),
    };
    multicast.or_else(|| domain_ok(s).then_some(false))
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (§5.2).
fn origin_ok(v: &[u8]) -> bool {
    let classes = [VCHAR, DIGIT, DIGIT, SDP_TOKEN, SDP_TOKEN, VCHAR];
    let Some([_, _, _, nettype, addrtype, addr]) = fields(v, classes) else {
        return false;
    };
    nettype != b"IN" || !matches!(addrtype, b"IP4" | b"IP6") || address(addrtype, addr).is_some()
}

/// `c=<nettype> <addrtype> <connection-address>` (RFC 8866 §5.7), unicast only here.
fn connection_ok(v: &[u8]) -> bool {
    let Some([nettype, addrtype, addr]) = fields(v, [SDP_TOKEN, SDP_TOKEN, VCHAR]) else {
        return false;
    };
    nettype != b"IN"
        || !matches!(addrtype, b"IP4" | b"IP6")
        || (find(b'/', addr).is_none() && address(addrtype, addr) == Some(false))
}

/// `b=<bwtype>:<bandwidth>` (RFC 8866 §5.8).
fn bandwidth_ok(v: &[u8]) -> bool {
    match find(b':', v) {
        Some(c) => super::all(&v[..c], SDP_TOKEN) && decimal(&v[c + 1..], u64::MAX).is_some(),
        None => false,
    }
}

/// `t=<start-time> <stop-time>` (RFC 8866 §5.9).
fn time_ok(v: &[u8]) -> bool {
    fields(v, [DIGIT, DIGIT]).is_some_and(|f| f.iter().all(|t| decimal(t, u64::MAX).is_some()))
}

/// The payload type of a well-formed rtpmap value: `<payload type> <encoding name>/<clock
/// rate>[/<encoding parameters>]` (RFC 8866 §6.6).
fn rtpmap_pt(v: &[u8]) -> Option<u8> {
    let d = run(v, 0, DIGIT);
    let pt = decimal(&v[..d], 127)?;
    let e = run(v, d + 1, SDP_TOKEN);
    if v.get(d) != Some(&b' ') || e == d + 1 || v.get(e) != Some(&b'/') {
        return None;
    }
    let c = run(v, e + 1, DIGIT);
    decimal(&v[e + 1..c], u64::from(u32::MAX)).filter(|&n| n > 0)?;
    if c < v.len() {
        // encoding parameters: a channel count
        let p = run(v, c + 1, DIGIT);
        let channels = decimal(&v[c + 1..p], u64::from(u16::MAX)).filter(|&n| n > 0);
        if v[c] != b'/' || channels.is_none() || p != v.len() {
            return None;
        }
    }
    Some(pt as u8)
}

/// The m= fields (RFC 8866 §5.14); returns the dynamic payload types (bit `pt - 96`).
fn media_line(v: &[u8]) -> Option<u32> {
    // <media> SP <port>[/<number of ports>] SP <proto> ...
    let m = run(v, 0, SDP_TOKEN);
    if m == 0 || v.get(m) != Some(&b' ') {
        return None;
    }
    let mut i = run(v, m + 1, DIGIT);
    decimal(&v[m + 1..i], u64::from(u16::MAX))?;
    if v.get(i) == Some(&b'/') {
        let c = run(v, i + 1, DIGIT);
        decimal(&v[i + 1..c], u64::from(u16::MAX)).filter(|&n| n > 0)?;
        i = c;
    }
    if v.get(i) != Some(&b' ') {
        return None;
    }
    // <proto> = token *("/" token); under an RTP profile the formats are payload types
    let mut rtp = false;
    loop {
        let t = run(v, i + 1, SDP_TOKEN);
        if t == i + 1 {
            return None;
        }
        rtp |= &v[i + 1..t] == b"RTP";
        i = t;
        if v.get(i) != Some(&b'/') {
            break;
        }
    }
    formats(v, i, rtp)
}

/// ` <fmt>` repeated to the end of an m= value, at least one (RFC 8866 §5.14).
fn formats(v: &[u8], mut i: usize, rtp: bool) -> Option<u32> {
    let mut dynamic = 0u32;
    loop {
        let f = run(v, i + 1, if rtp { DIGIT } else { SDP_TOKEN });
        if v.get(i) != Some(&b' ') || f == i + 1 {
            return None;
        }
        if rtp {
            let pt = decimal(&v[i + 1..f], 127)?;
            if pt >= 96 {
                dynamic |= 1 << (pt - 96);
            }
        }
        i = f;
        if i == v.len() {
            return Some(dynamic);
        }
    }
}
