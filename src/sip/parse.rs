//! The lossless parser: start line, header fields and body delimitation.
//!
//! Parsing never fails on content. It returns a [`Message`] holding the exact bytes it was given
//! and the spans of every part, with a list of [`Violation`]s for everything that breaks the
//! grammar of RFC 3261 §7 and §25. Header values are checked afterwards by
//! [`super::validate`], which uses the typed views.

use super::header_name::HeaderName;
use super::lex;
use super::message::{Header, Message, StartLine};
use super::validate;
use crate::rule::{Span, Violation};

crate::declare_rules! {
    LEADING_CRLF = ("msg.leading-crlf", Transaction, Info, "RFC 3261 §7.5",
        "empty lines before the start line (to be ignored by the receiver)");
    BARE_LF = ("msg.line-ending.bare-lf", Transaction, Warning, "RFC 3261 §7",
        "a line ends with LF alone instead of CRLF");
    START_LINE_MALFORMED = ("msg.start-line.malformed", Transaction, Error, "RFC 3261 §7.1",
        "the first line is neither a Request-Line nor a Status-Line");
    REQUEST_LINE_EXTRA_SPACE = ("msg.request-line.extra-space", Transaction, Error, "RFC 3261 §7.1",
        "Request-Line elements separated by more than one SP");
    REQUEST_LINE_TRAILING_SPACE = ("msg.request-line.trailing-space", Transaction, Error, "RFC 3261 §7.1",
        "white space after the SIP-Version of the Request-Line");
    REQUEST_URI_WHITESPACE = ("msg.request-uri.whitespace", Transaction, Error, "RFC 3261 §7.1",
        "the Request-URI contains white space (more than three Request-Line elements)");
    REQUEST_URI_ANGLE = ("msg.request-uri.angle-brackets", Transaction, Error, "RFC 3261 §7.1",
        "the Request-URI is enclosed in <>");
    METHOD_NOT_TOKEN = ("msg.method.not-token", Transaction, Error, "RFC 3261 §25.1",
        "the method contains characters that are not token characters");
    VERSION_UNSUPPORTED = ("msg.version.unsupported", Transaction, Error, "RFC 3261 §7.1, §8.2.2",
        "the SIP-Version is not SIP/2.0 (a UAS answers 505)");
    STATUS_CODE_INVALID = ("msg.status-code.invalid", Transaction, Error, "RFC 3261 §7.2, §25.1",
        "the Status-Code is not three digits from 100 to 699");
    STATUS_LINE_NO_REASON_SP = ("msg.status-line.no-reason-sp", Transaction, Warning, "RFC 3261 §25.1",
        "no SP between the Status-Code and the (possibly empty) Reason-Phrase");
    HEADER_NO_COLON = ("msg.header.no-colon", Transaction, Error, "RFC 3261 §7.3",
        "a header line has no colon");
    HEADER_BAD_NAME = ("msg.header.bad-name", Transaction, Error, "RFC 3261 §7.3, §25.1",
        "a header name is empty or not a token");
    HEADER_LEADING_CONTINUATION = ("msg.header.leading-continuation", Transaction, Error, "RFC 3261 §7.3.1",
        "a folded continuation line with no header field before it");
    HEAD_UNTERMINATED = ("msg.head.unterminated", Transaction, Error, "RFC 3261 §7",
        "the header section is not ended by an empty line");
    CONTENT_LENGTH_INVALID = ("msg.content-length.invalid", Transaction, Error, "RFC 3261 §20.14",
        "Content-Length is not a non-negative decimal number");
    CONTENT_LENGTH_CONFLICT = ("msg.content-length.conflict", Transaction, Error, "RFC 3261 §20.14, RFC 4475 §3.3.9",
        "several Content-Length fields with different values");
    CONTENT_LENGTH_EXCEEDS = ("msg.content-length.exceeds-datagram", Transaction, Error, "RFC 3261 §18.3",
        "Content-Length is larger than the bytes that follow the header section");
    CONTENT_LENGTH_MISMATCH = ("msg.content-length.mismatch", Transaction, Error, "RFC 3261 §20.14",
        "Content-Length differs from the length of the body of a message framed by other means");
    DATAGRAM_TRAILING_OCTETS = ("msg.datagram.trailing-octets", Transaction, Info, "RFC 3261 §18.3, RFC 4475 §3.1.1.8",
        "octets after the body delimited by Content-Length (discarded)");
}

/// A UDP datagram: one message and whatever trailing octets followed the body that
/// Content-Length delimits (RFC 3261 §18.3 says they are discarded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datagram {
    pub message: Message,
    /// The discarded octets, relative to the start of the datagram (empty when none).
    pub trailing: Vec<u8>,
}

impl Datagram {
    /// The exact bytes of the datagram: the message followed by the trailing octets.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = self.message.to_bytes();
        v.extend_from_slice(&self.trailing);
        v
    }
}

/// The start line and header section of a message, as found by [`parse_head`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub start_line: StartLine,
    pub headers: Vec<Header>,
    /// Offset just after the empty line ending the header section; `None` when the input ends
    /// before that line.
    pub body_start: Option<usize>,
    pub violations: Vec<Violation>,
}

/// How the body length is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// A datagram: the body is Content-Length bytes, or everything that follows when there is
    /// no Content-Length (RFC 3261 §18.3).
    Datagram,
    /// The input is exactly one message (as already framed by a stream framer, or a file):
    /// the body is everything after the header section.
    Whole,
}

/// Parses a UDP datagram. Octets beyond Content-Length are split off into `trailing`.
pub fn parse_datagram(input: &[u8]) -> Datagram {
    let head = parse_head(input);
    let body_start = head.body_start.unwrap_or(input.len());
    let (cl, mut cl_violations) = content_length(input, &head.headers);
    let available = input.len() - body_start;
    let mut end = input.len();
    let mut extra = Vec::new();
    if let Some(cl) = cl {
        if cl > available {
            // RFC 3261 §18.3: a datagram whose body is shorter than Content-Length is discarded
            // by a conformant receiver; we keep it and say so.
            let h = head
                .headers
                .iter()
                .rfind(|h| h.name == HeaderName::ContentLength);
            let span = h.map_or(Span::new(0, 0), |h| h.value);
            extra.push(Violation::new(
                &CONTENT_LENGTH_EXCEEDS,
                span,
                format!(
                    "Content-Length is {cl} but only {available} octets follow the header section"
                ),
            ));
        } else if cl < available {
            end = body_start + cl;
            // The span is the empty point where the message ends: the discarded octets are
            // not part of the message (they are in `Datagram::trailing`).
            extra.push(Violation::new(
                &DATAGRAM_TRAILING_OCTETS,
                Span::new(end, end),
                format!(
                    "{} octets after the {cl}-octet body are ignored",
                    input.len() - end
                ),
            ));
        }
    }
    cl_violations.extend(extra);
    let message = assemble(input[..end].to_vec(), head, body_start, end, cl_violations);
    Datagram {
        message,
        trailing: input[end..].to_vec(),
    }
}

/// Parses `input` as exactly one message: the body is everything after the header section.
/// Content-Length is checked against it but does not cut the input.
pub fn parse_message(input: &[u8]) -> Message {
    parse_framed(input, Framing::Whole)
}

/// Parses one message with the given framing. For [`Framing::Datagram`] any trailing octets are
/// dropped from the message (use [`parse_datagram`] to keep them).
pub fn parse_framed(input: &[u8], framing: Framing) -> Message {
    match framing {
        Framing::Datagram => parse_datagram(input).message,
        Framing::Whole => {
            let head = parse_head(input);
            let body_start = head.body_start.unwrap_or(input.len());
            let (cl, mut vs) = content_length(input, &head.headers);
            if let Some(cl) = cl {
                let available = input.len() - body_start;
                if cl != available {
                    let h = head
                        .headers
                        .iter()
                        .rfind(|h| h.name == HeaderName::ContentLength);
                    let span = h.map_or(Span::new(0, 0), |h| h.value);
                    vs.push(Violation::new(
                        &CONTENT_LENGTH_MISMATCH,
                        span,
                        format!("Content-Length is {cl} but the body has {available} octets"),
                    ));
                }
            }
            assemble(input.to_vec(), head, body_start, input.len(), vs)
        }
    }
}

/// Builds the message and runs the header-value validation.
pub(crate) fn assemble(
    raw: Vec<u8>,
    head: Head,
    body_start: usize,
    end: usize,
    extra: Vec<Violation>,
) -> Message {
    let body_start = body_start.min(end);
    let mut msg = Message {
        raw,
        start_line: head.start_line,
        headers: head.headers,
        head_end: body_start,
        body: Span::new(body_start, end),
        violations: head.violations,
    };
    msg.violations.extend(extra);
    validate::validate(&mut msg);
    msg.violations.sort_by_key(|v| v.span.start);
    msg
}

/// The Content-Length value(s) of a header section. Returns the value to frame by (the first
/// valid one) and violations for invalid or conflicting values.
pub fn content_length(input: &[u8], headers: &[Header]) -> (Option<usize>, Vec<Violation>) {
    let mut value: Option<usize> = None;
    let mut violations = Vec::new();
    for h in headers
        .iter()
        .filter(|h| h.name == HeaderName::ContentLength)
    {
        let text = lex::unfold(&input[h.value.range()]);
        let parsed = std::str::from_utf8(&text)
            .ok()
            .and_then(lex::parse_decimal)
            .and_then(|v| usize::try_from(v).ok());
        match (parsed, value) {
            (None, _) => violations.push(Violation::new(
                &CONTENT_LENGTH_INVALID,
                h.value,
                format!(
                    "Content-Length `{}` is not a non-negative decimal number",
                    String::from_utf8_lossy(&text)
                ),
            )),
            (Some(v), None) => value = Some(v),
            (Some(v), Some(first)) if v != first => violations.push(Violation::new(
                &CONTENT_LENGTH_CONFLICT,
                h.field,
                format!("Content-Length {v} conflicts with the earlier Content-Length {first}"),
            )),
            (Some(_), Some(_)) => {}
        }
    }
    (value, violations)
}

/// Finds the end of the line starting at `from`: returns (end of content, start of next line).
/// A line ends at CRLF or at a bare LF; the last line may end at the end of the input.
#[inline]
fn line_end(b: &[u8], from: usize) -> (usize, usize, bool) {
    match memchr::memchr(b'\n', &b[from..]) {
        Some(n) => {
            let lf = from + n;
            if lf > from && b[lf - 1] == b'\r' {
                (lf - 1, lf + 1, false)
            } else {
                (lf, lf + 1, true)
            }
        }
        None => (b.len(), b.len(), false),
    }
}

/// Parses the start line and header fields, up to and including the empty line.
pub fn parse_head(b: &[u8]) -> Head {
    let mut violations = Vec::new();
    let mut pos = 0;
    // RFC 3261 §7.5: empty lines before the start line are ignored.
    while pos < b.len() && (b[pos] == b'\r' || b[pos] == b'\n') {
        pos += 1;
    }
    if pos > 0 {
        violations.push(Violation::new(
            &LEADING_CRLF,
            Span::new(0, pos),
            format!("{pos} octets of empty lines before the start line"),
        ));
    }
    let (le, next, bare) = line_end(b, pos);
    if bare {
        violations.push(bare_lf(le));
    }
    let start_line = parse_start_line(b, Span::new(pos, le), &mut violations);
    let (headers, body_start) = parse_header_lines(b, next, &mut violations);
    Head {
        start_line,
        headers,
        body_start,
        violations,
    }
}

fn bare_lf(at: usize) -> Violation {
    Violation::new(
        &BARE_LF,
        Span::new(at, at + 1),
        "line ended by LF without CR",
    )
}

/// Header fields from `pos` to the empty line. Returns the headers and the body offset.
fn parse_header_lines(
    b: &[u8],
    mut pos: usize,
    violations: &mut Vec<Violation>,
) -> (Vec<Header>, Option<usize>) {
    let mut headers: Vec<Header> = Vec::with_capacity(16);
    let mut reported_bare_lf = false;
    while pos < b.len() {
        let (le, next, bare) = line_end(b, pos);
        if bare && !reported_bare_lf {
            // One report per message is enough to name the problem.
            violations.push(bare_lf(le));
            reported_bare_lf = true;
        }
        if le == pos {
            return (headers, Some(next));
        }
        if b[pos] == b' ' || b[pos] == b'\t' {
            // RFC 3261 §7.3.1: a line starting with white space continues the previous field.
            match headers.last_mut() {
                Some(h) => {
                    h.folded = true;
                    if h.value.is_empty() && h.value.start <= pos {
                        // The value started on this continuation line (`To :` CRLF SP value).
                        let trimmed = lex::trim_range(b, pos..le);
                        h.value = Span::new(trimmed.start, le.max(trimmed.start));
                    } else {
                        h.value.end = trim_end(b, h.value.start, le);
                    }
                    h.field.end = next;
                }
                None => violations.push(Violation::new(
                    &HEADER_LEADING_CONTINUATION,
                    Span::new(pos, le),
                    "continuation line before any header field",
                )),
            }
        } else if let Some(h) = parse_header_line(b, pos, le, next, violations) {
            headers.push(h);
        }
        pos = next;
    }
    (headers, None)
}

fn trim_end(b: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && matches!(b[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    end
}

/// One `name HCOLON value` line.
fn parse_header_line(
    b: &[u8],
    pos: usize,
    le: usize,
    next: usize,
    violations: &mut Vec<Violation>,
) -> Option<Header> {
    let line = &b[pos..le];
    let Some(colon) = memchr::memchr(b':', line) else {
        violations.push(Violation::new(
            &HEADER_NO_COLON,
            Span::new(pos, le),
            format!(
                "header line `{}` has no colon",
                String::from_utf8_lossy(line)
            ),
        ));
        return None;
    };
    // HCOLON = *( SP / HTAB ) ":" SWS
    let name_end = trim_end(b, pos, pos + colon);
    let name = &b[pos..name_end];
    if !lex::is_token(name) {
        violations.push(Violation::new(
            &HEADER_BAD_NAME,
            Span::new(pos, name_end),
            format!(
                "header name `{}` is not a token",
                String::from_utf8_lossy(name)
            ),
        ));
    }
    let (kind, compact) = HeaderName::lookup(name);
    let mut vstart = pos + colon + 1;
    while vstart < le && matches!(b[vstart], b' ' | b'\t') {
        vstart += 1;
    }
    Some(Header {
        name: kind,
        name_span: Span::new(pos, name_end),
        value: Span::new(vstart, trim_end(b, vstart, le)),
        field: Span::new(pos, next),
        compact,
        folded: false,
    })
}

/// Parses the first line into a request line, a status line or an unknown line.
fn parse_start_line(b: &[u8], line: Span, violations: &mut Vec<Violation>) -> StartLine {
    let text = &b[line.range()];
    if text.len() >= 4 && text[..4].eq_ignore_ascii_case(b"SIP/") {
        return parse_status_line(b, line, violations);
    }
    parse_request_line(b, line, violations)
}

fn check_version(b: &[u8], span: Span, violations: &mut Vec<Violation>) {
    // RFC 3261 §7.1: SIP-Version is "SIP/2.0"; the literal is case-insensitive (§25).
    if !b[span.range()].eq_ignore_ascii_case(b"SIP/2.0") {
        violations.push(Violation::new(
            &VERSION_UNSUPPORTED,
            span,
            format!(
                "SIP-Version `{}` is not SIP/2.0",
                String::from_utf8_lossy(&b[span.range()])
            ),
        ));
    }
}

fn parse_status_line(b: &[u8], line: Span, violations: &mut Vec<Violation>) -> StartLine {
    let text = &b[line.range()];
    let sp1 = memchr::memchr(b' ', text).unwrap_or(text.len());
    let version = Span::new(line.start, line.start + sp1);
    check_version(b, version, violations);
    let code_start = (line.start + sp1 + 1).min(line.end);
    let code_len = b[code_start..line.end]
        .iter()
        .position(|&c| c == b' ')
        .unwrap_or(line.end - code_start);
    let code = Span::new(code_start, code_start + code_len);
    let digits = &b[code.range()];
    // RFC 3261 §25.1: Status-Code = 3DIGIT; §7.2 limits the class to 1xx..6xx.
    let status = if digits.len() == 3 && digits.iter().all(u8::is_ascii_digit) {
        let v = digits
            .iter()
            .fold(0u16, |a, &d| a * 10 + u16::from(d - b'0'));
        (100..=699).contains(&v).then_some(v)
    } else {
        None
    };
    if status.is_none() {
        violations.push(Violation::new(
            &STATUS_CODE_INVALID,
            code,
            format!(
                "Status-Code `{}` is not 100..699",
                String::from_utf8_lossy(digits)
            ),
        ));
    }
    let reason_start = code.end + 1;
    let reason = if reason_start <= line.end {
        Span::new(reason_start, line.end)
    } else {
        violations.push(Violation::new(
            &STATUS_LINE_NO_REASON_SP,
            Span::new(code.end, code.end),
            "Status-Line ends right after the Status-Code",
        ));
        Span::new(line.end, line.end)
    };
    StartLine::Response {
        version,
        code,
        status,
        reason,
        line,
    }
}

fn parse_request_line(b: &[u8], line: Span, violations: &mut Vec<Violation>) -> StartLine {
    let text = &b[line.range()];
    let Some(sp1) = memchr::memchr(b' ', text) else {
        violations.push(Violation::new(
            &START_LINE_MALFORMED,
            line,
            "first line has no SP: neither a Request-Line nor a Status-Line",
        ));
        return StartLine::Unknown { line };
    };
    let method = Span::new(line.start, line.start + sp1);
    if !lex::is_token(&b[method.range()]) {
        violations.push(Violation::new(
            &METHOD_NOT_TOKEN,
            method,
            format!(
                "method `{}` is not a token",
                String::from_utf8_lossy(&b[method.range()])
            ),
        ));
    }
    // Trailing white space (RFC 4475 §3.1.2.10).
    let mut end = line.end;
    while end > method.end && matches!(b[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    if end < line.end {
        violations.push(Violation::new(
            &REQUEST_LINE_TRAILING_SPACE,
            Span::new(end, line.end),
            "white space after the SIP-Version",
        ));
    }
    // The SP before the version; when the only SP is the one after the method, the line has
    // no version at all (RFC 4475 archive's test.dat) and the rest is taken as the URI.
    let last_sp = memchr::memrchr(b' ', &b[method.end..end]).map_or(method.end, |n| method.end + n);
    if last_sp == method.end {
        violations.push(Violation::new(
            &START_LINE_MALFORMED,
            line,
            "the Request-Line has no SIP-Version",
        ));
        let uri = Span::new((method.end + 1).min(end), end);
        check_request_uri(b, uri, violations);
        return StartLine::Request {
            method,
            uri,
            version: Span::new(end, end),
            line,
        };
    }
    let version = Span::new(last_sp + 1, end);
    let mut uri = Span::new(method.end + 1, last_sp);
    // More than one SP between elements (RFC 4475 §3.1.2.9).
    let (mut us, mut ue) = (uri.start, uri.end);
    while us < ue && b[us] == b' ' {
        us += 1;
    }
    while ue > us && b[ue - 1] == b' ' {
        ue -= 1;
    }
    if (us, ue) != (uri.start, uri.end) {
        violations.push(Violation::new(
            &REQUEST_LINE_EXTRA_SPACE,
            Span::new(uri.start.min(ue), uri.end),
            "Request-Line elements separated by more than one SP",
        ));
        uri = Span::new(us, ue);
    }
    if version.is_empty()
        || !b[version.range()].starts_with(b"SIP/") && !b[version.range()].starts_with(b"sip/")
    {
        violations.push(Violation::new(
            &START_LINE_MALFORMED,
            line,
            "the Request-Line does not end with a SIP-Version",
        ));
    } else {
        check_version(b, version, violations);
    }
    check_request_uri(b, uri, violations);
    StartLine::Request {
        method,
        uri,
        version,
        line,
    }
}

fn check_request_uri(b: &[u8], uri: Span, violations: &mut Vec<Violation>) {
    let u = &b[uri.range()];
    if u.iter().any(|&c| c == b' ' || c == b'\t') {
        // RFC 4475 §3.1.2.8: LWS inside the Request-URI splits the line into more elements.
        violations.push(Violation::new(
            &REQUEST_URI_WHITESPACE,
            uri,
            "the Request-URI contains white space",
        ));
    }
    if u.first() == Some(&b'<') {
        // RFC 4475 §3.1.2.7.
        violations.push(Violation::new(
            &REQUEST_URI_ANGLE,
            uri,
            "the Request-URI must not be enclosed in <>",
        ));
    }
}
