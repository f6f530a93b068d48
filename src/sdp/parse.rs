//! The lossless SDP parser. It never fails: every problem becomes a [`Violation`] and every byte
//! stays in [`Sdp::as_bytes`], with each line's span in [`Sdp::lines`].

use super::fields::{
    parse_attribute, parse_bandwidth, parse_connection, parse_media, parse_origin, parse_time,
};
use super::model::{Direction, Line, LineEnding, MediaDescription, RtpMap, Sdp};
use super::rules::*;
use crate::rule::{Rule, Span, Violation};

/// The type letters RFC 8866 §5 defines.
pub(crate) const KNOWN_TYPES: &[u8] = b"vosiuepcbtrzkam";

/// Parses a session description. Never fails; see [`Sdp::violations`].
pub fn parse(body: &[u8]) -> Sdp {
    let mut p = Parser::new(body);
    p.split_lines();
    for i in 0..p.sdp.lines.len() {
        p.line(i);
    }
    p.finish()
}

struct Parser {
    sdp: Sdp,
    /// The media section being read, `None` while in the session part.
    media: Option<usize>,
    /// The highest order rank seen at the current level (RFC 8866 §5).
    rank: u8,
    seen_time: bool,
    /// Once-only type letters seen in the session part and in the current media section.
    session_seen: Vec<u8>,
    media_seen: Vec<u8>,
    /// Direction attributes at the current level.
    directions: usize,
}

/// The position of a type letter in the session part (RFC 8866 §5): v o s i u e p c b, then the
/// time descriptions (t r z), k, a and the media descriptions.
#[inline]
pub(crate) fn session_rank(kind: u8) -> u8 {
    match kind {
        b'v' => 0,
        b'o' => 1,
        b's' => 2,
        b'i' => 3,
        b'u' => 4,
        b'e' => 5,
        b'p' => 6,
        b'c' => 7,
        b'b' => 8,
        b't' | b'r' | b'z' => 9,
        b'k' => 10,
        b'a' => 11,
        _ => 12,
    }
}

/// The position of a type letter in a media description (RFC 8866 §5): m i c b k a. `None` for
/// letters that only exist in the session part.
#[inline]
pub(crate) fn media_rank(kind: u8) -> Option<u8> {
    match kind {
        b'm' => Some(0),
        b'i' => Some(1),
        b'c' => Some(2),
        b'b' => Some(3),
        b'k' => Some(4),
        b'a' => Some(5),
        _ => None,
    }
}

impl Parser {
    fn new(body: &[u8]) -> Parser {
        Parser {
            sdp: Sdp::empty(body),
            media: None,
            rank: 0,
            seen_time: false,
            session_seen: Vec::new(),
            media_seen: Vec::new(),
            directions: 0,
        }
    }

    fn flag(&mut self, rule: &'static Rule, span: Span, detail: impl Into<String>) {
        self.sdp.violations.push(Violation::new(rule, span, detail));
    }

    /// Cuts the body into lines, CRLF or bare LF terminated (RFC 8866 §5: parsers should accept
    /// a bare LF), and reports the malformed ones.
    fn split_lines(&mut self) {
        let len = self.sdp.raw.len();
        let mut start = 0;
        let mut lf_lines = Vec::new();
        while start < len {
            let (end, ending, next) = match memchr::memchr(b'\n', &self.sdp.raw[start..]) {
                Some(n) if n > 0 && self.sdp.raw[start + n - 1] == b'\r' => {
                    (start + n - 1, LineEnding::CrLf, start + n + 1)
                }
                Some(n) => (start + n, LineEnding::Lf, start + n + 1),
                None => (len, LineEnding::None, len),
            };
            if ending == LineEnding::Lf {
                lf_lines.push(Span::new(start, end));
            }
            let line = self.make_line(start, end, ending);
            self.sdp.lines.push(line);
            start = next;
        }
        self.report_endings(&lf_lines);
    }

    /// Builds one line and reports what is wrong with its shape.
    fn make_line(&mut self, start: usize, end: usize, ending: LineEnding) -> Line {
        let span = Span::new(start, end);
        let bytes = &self.sdp.raw[start..end];
        let kind = match bytes {
            [k, b'=', ..] if k.is_ascii_alphabetic() => Some(*k),
            _ => None,
        };
        let bad_byte = bytes.iter().position(|&b| b == 0 || b == b'\r');
        // RFC 8866 §5: `<type>=<value>`, no white space around `=`, no NUL/CR/LF in a value.
        if bytes.is_empty() {
            self.flag(&LINE_EMPTY, span, "empty line");
        } else if kind.is_none() {
            let detail = match bytes.iter().position(|&b| b == b'=') {
                Some(i) if i > 0 && bytes[..i].iter().all(|&b| b != b' ') => {
                    "the type must be a single letter before `=`"
                }
                Some(_) => "white space is not allowed on either side of `=`",
                None => "expected `<type>=<value>`",
            };
            self.flag(&LINE_MALFORMED, span, detail);
        } else if let Some(i) = bad_byte {
            let what = if bytes[i] == 0 {
                "a NUL byte"
            } else {
                "a bare CR"
            };
            self.flag(&LINE_MALFORMED, span, format!("the line contains {what}"));
        }
        let value = if kind.is_some() {
            Span::new(start + 2, end)
        } else {
            span
        };
        Line {
            kind,
            span,
            value,
            ending,
        }
    }

    fn report_endings(&mut self, lf_lines: &[Span]) {
        let total = self.sdp.lines.len();
        if let Some(&first) = lf_lines.first() {
            // RFC 8866 §5: lines end with CRLF; a bare LF is tolerated.
            let n = lf_lines.len();
            self.flag(
                &LINE_ENDING_LF,
                first,
                format!("{n} of {total} lines end with a bare LF instead of CRLF"),
            );
        }
        if let Some(last) = self.sdp.lines.last().copied() {
            if last.ending == LineEnding::None && !last.span.is_empty() {
                self.flag(&LINE_ENDING_MISSING, last.span, "the last line has no CRLF");
            }
        }
    }

    fn line(&mut self, idx: usize) {
        let line = self.sdp.lines[idx];
        let Some(kind) = line.kind else { return };
        if !KNOWN_TYPES.contains(&kind) {
            // RFC 8866 §5: a parser must ignore a description with a type letter it does not know.
            let detail = format!("unknown type letter `{}`", kind as char);
            self.flag(&LINE_UNKNOWN_TYPE, line.span, detail);
            return;
        }
        self.check_order(kind, line.span);
        self.check_duplicate(kind, line.span);
        let value = String::from_utf8_lossy(self.sdp.slice(line.value)).into_owned();
        self.field(idx, kind, line, &value);
    }

    /// RFC 8866 §5: the lines of each level come in a fixed order.
    fn check_order(&mut self, kind: u8, span: Span) {
        let c = kind as char;
        let Some(media) = self.media else {
            let rank = session_rank(kind);
            if rank < self.rank {
                self.flag(
                    &LINE_ORDER,
                    span,
                    format!("{c}= is out of order in the session part"),
                );
            } else {
                self.rank = rank;
            }
            if matches!(kind, b'r' | b'z') && !self.seen_time {
                self.flag(&LINE_ORDER, span, format!("{c}= comes before any t="));
            }
            return;
        };
        match media_rank(kind) {
            Some(_) if kind == b'm' => {}
            Some(rank) if rank < self.rank => {
                let detail = format!("{c}= is out of order in media description #{media}");
                self.flag(&LINE_ORDER, span, detail);
            }
            Some(rank) => self.rank = rank,
            None => {
                let detail =
                    format!("{c}= belongs to the session part, not media description #{media}");
                self.flag(&LINE_ORDER, span, detail);
            }
        }
    }

    /// RFC 8866 §5 (and the §9 grammar): v o s u once per description; i k once per level; c
    /// once at session level (media descriptions may have several).
    fn check_duplicate(&mut self, kind: u8, span: Span) {
        let anywhere = matches!(kind, b'v' | b'o' | b's' | b'u');
        let here = matches!(kind, b'i' | b'k') || (kind == b'c' && self.media.is_none());
        if !(anywhere || here) {
            return;
        }
        let seen = if anywhere || self.media.is_none() {
            &mut self.session_seen
        } else {
            &mut self.media_seen
        };
        if seen.contains(&kind) {
            let level = if anywhere || self.media.is_none() {
                "the session"
            } else {
                "this media description"
            };
            let detail = format!("a second {}= line in {level}", kind as char);
            self.flag(&LINE_DUPLICATE, span, detail);
        } else {
            seen.push(kind);
        }
    }

    fn field(&mut self, idx: usize, kind: u8, line: Line, value: &str) {
        let span = line.span;
        match kind {
            b'v' => self.version(value, span),
            b'o' => match parse_origin(value, span) {
                Ok(o) => {
                    self.sdp.origin.get_or_insert(o);
                }
                Err(e) => self.flag(&ORIGIN_INVALID, span, e), // RFC 8866 §5.2
            },
            b's' => self.session_name(value, span),
            b'i' => {
                let slot = match self.media {
                    Some(m) => &mut self.sdp.media[m].information,
                    None => &mut self.sdp.information,
                };
                slot.get_or_insert_with(|| value.to_string());
            }
            b'c' => self.connection(value, span),
            b'b' => match parse_bandwidth(value, span) {
                Ok(b) => match self.media {
                    Some(m) => self.sdp.media[m].bandwidths.push(b),
                    None => self.sdp.bandwidths.push(b),
                },
                Err(e) => self.flag(&BANDWIDTH_INVALID, span, e), // RFC 8866 §5.8
            },
            b't' => {
                self.seen_time = true;
                match parse_time(value, span) {
                    Ok(t) => self.sdp.times.push(t),
                    Err(e) => self.flag(&TIME_INVALID, span, e), // RFC 8866 §5.9
                }
            }
            b'a' => self.attribute(value, span),
            b'm' => self.start_media(idx, line, value),
            // u= e= p= r= z= k= are kept as lines only.
            _ => {}
        }
    }

    fn version(&mut self, value: &str, span: Span) {
        self.sdp.version = self.sdp.version.or(value.parse().ok());
        // RFC 8866 §5.1: "v=0"; there is no other version.
        if value != "0" {
            self.flag(
                &VERSION_INVALID,
                span,
                format!("v={value}: the only version is 0"),
            );
        }
    }

    fn session_name(&mut self, value: &str, span: Span) {
        // RFC 8866 §5.3: s= must not be empty; "s= " or "s=-" when there is no name.
        if value.is_empty() {
            self.flag(
                &SESSION_NAME_MISSING,
                span,
                "s= is empty (use `s=-` or `s= `)",
            );
        }
        self.sdp.session_name.get_or_insert(value.to_string());
    }

    fn connection(&mut self, value: &str, span: Span) {
        match parse_connection(value, span) {
            Ok(c) => match self.media {
                Some(m) => self.sdp.media[m].connections.push(c),
                None => {
                    self.sdp.connection.get_or_insert(c);
                }
            },
            // RFC 8866 §5.7: the address must match its address type.
            Err(e) => self.flag(&CONNECTION_INVALID, span, e),
        }
    }

    fn attribute(&mut self, value: &str, span: Span) {
        let (attr, problem) = parse_attribute(value, span);
        if let Some(p) = problem {
            self.flag(&ATTRIBUTE_INVALID, span, p); // RFC 8866 §5.13
        }
        if Direction::from_attribute(&attr.name).is_some() {
            // RFC 8866 §6.7: at most one direction attribute per level.
            self.directions += 1;
            if self.directions > 1 {
                let detail = format!(
                    "a={} is a second direction attribute at this level",
                    attr.name
                );
                self.flag(&DIRECTION_MULTIPLE, span, detail);
            }
        }
        if attr.name == "rtpmap" {
            self.rtpmap(attr.value.as_deref().unwrap_or_default(), span);
        }
        match self.media {
            Some(m) => self.sdp.media[m].attributes.push(attr),
            None => self.sdp.attributes.push(attr),
        }
    }

    /// RFC 8866 §6.6: `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<parameters>]`, a
    /// media-level attribute, one per payload type.
    fn rtpmap(&mut self, value: &str, span: Span) {
        let Some(m) = self.media else {
            self.flag(&RTPMAP_INVALID, span, "a=rtpmap is a media-level attribute");
            return;
        };
        match RtpMap::parse(value) {
            // `a=rtpmap:31 LPC`: only the clock rate is missing. Receivers read the encoding
            // name and use the static payload type's rate, so this is a warning.
            Err(_) if is_rtpmap_without_rate(value) => self.flag(
                &RTPMAP_NO_CLOCK_RATE,
                span,
                format!("a=rtpmap:{value}: no `/<clock rate>`"),
            ),
            Err(e) => self.flag(&RTPMAP_INVALID, span, format!("a=rtpmap:{value}: {e}")),
            Ok(map) => {
                if self.sdp.media[m].rtpmaps().iter().any(|r| r.pt == map.pt) {
                    let detail = format!("a second a=rtpmap for payload type {}", map.pt);
                    self.flag(&RTPMAP_INVALID, span, detail);
                }
            }
        }
    }

    fn start_media(&mut self, idx: usize, line: Line, value: &str) {
        let (m, problem) = parse_media(value);
        if let Some(p) = problem {
            self.flag(&MEDIA_INVALID, line.span, format!("m={value}: {p}")); // RFC 8866 §5.14
        }
        self.sdp.media.push(MediaDescription {
            media: m.media,
            port: m.port,
            port_count: m.port_count,
            proto: m.proto,
            formats: m.formats,
            information: None,
            connections: Vec::new(),
            bandwidths: Vec::new(),
            attributes: Vec::new(),
            span: line.full_span(),
            m_line: line.span,
            lines: idx..idx + 1,
        });
        self.media = Some(self.sdp.media.len() - 1);
        self.rank = 0;
        self.media_seen.clear();
        self.directions = 0;
    }

    fn finish(mut self) -> Sdp {
        self.close_sections();
        self.check_required();
        for i in 0..self.sdp.media.len() {
            self.check_media(i);
        }
        self.sdp.violations.sort_by_key(|v| v.span.start);
        self.sdp
    }

    /// Sets each media section's line range and span: up to the next `m=` or the end.
    fn close_sections(&mut self) {
        let n = self.sdp.lines.len();
        for i in 0..self.sdp.media.len() {
            let end = self.sdp.media.get(i + 1).map_or(n, |m| m.lines.start);
            let m = &mut self.sdp.media[i];
            m.lines.end = end;
            m.span.end = self.sdp.lines[end - 1].full_span().end;
        }
    }

    /// The lines every description must have (RFC 8866 §5).
    fn check_required(&mut self) {
        let at = Span::new(0, 0);
        let has = |kind: u8| self.sdp.lines_of(kind).next().is_some();
        let (v, o, s, t) = (has(b'v'), has(b'o'), has(b's'), has(b't'));
        if !v {
            self.flag(&VERSION_MISSING, at, "no v= line"); // RFC 8866 §5.1
        } else if self.sdp.lines.first().and_then(|l| l.kind) != Some(b'v') {
            let first = self.sdp.lines[0].span;
            self.flag(&LINE_ORDER, first, "the description must start with v=");
        }
        if !o {
            self.flag(&ORIGIN_MISSING, at, "no o= line"); // RFC 8866 §5.2
        }
        if !s {
            self.flag(&SESSION_NAME_MISSING, at, "no s= line"); // RFC 8866 §5.3
        }
        if !t {
            self.flag(&TIME_MISSING, at, "no t= line"); // RFC 8866 §5.9
        }
    }

    fn check_media(&mut self, i: usize) {
        let m = &self.sdp.media[i];
        let span = m.m_line;
        let has_c = |lines: &[Line]| lines.iter().any(|l| l.kind == Some(b'c'));
        let session_c = has_c(&self.sdp.lines[..self.sdp.media[0].lines.start]);
        let media_c = has_c(&self.sdp.lines[m.lines.clone()]);
        // RFC 8866 §5.14: dynamic payload types are mapped with a=rtpmap.
        let maps = m.rtpmaps();
        let missing: Vec<u8> = m
            .payload_types()
            .into_iter()
            .filter(|pt| (96..=127).contains(pt) && !maps.iter().any(|r| r.pt == *pt))
            .collect();
        // RFC 8866 §5.7: a c= in every media description or one at session level.
        if !session_c && !media_c {
            let detail =
                format!("media description #{i} has no c= and there is no session-level c=");
            self.flag(&CONNECTION_MISSING, span, detail);
        }
        for pt in missing {
            let detail =
                format!("dynamic payload type {pt} in media description #{i} has no a=rtpmap");
            self.flag(&RTPMAP_MISSING, span, detail);
        }
    }
}

/// `<payload type> SP <encoding name>` with no `/`: an rtpmap that lacks only its clock rate.
fn is_rtpmap_without_rate(value: &str) -> bool {
    let mut parts = value.split(' ');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(pt), Some(enc), None)
            if !pt.is_empty() && pt.bytes().all(|b| b.is_ascii_digit())
                && super::fields::is_token(enc)
    )
}
