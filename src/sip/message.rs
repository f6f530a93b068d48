//! The lossless message model: the exact bytes of one SIP message and the byte spans of its
//! parts. Nothing is normalised or rewritten; typed views read from the spans on demand.

use super::header_name::{HeaderName, ValueShape};
use super::lex;
use crate::rule::{Severity, Span, Violation};
use std::borrow::Cow;

/// The first line of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartLine {
    /// `Method SP Request-URI SP SIP-Version`.
    Request {
        method: Span,
        uri: Span,
        version: Span,
        /// The whole line without its CRLF.
        line: Span,
    },
    /// `SIP-Version SP Status-Code SP Reason-Phrase`.
    Response {
        version: Span,
        code: Span,
        /// The status code as a number, when it is one that fits (3 digits per RFC 3261 §25.1;
        /// bigger numbers are kept as written in `code` and reported as a violation).
        status: Option<u16>,
        reason: Span,
        line: Span,
    },
    /// A first line that is neither; the message is still kept with its headers.
    Unknown { line: Span },
}

impl StartLine {
    /// The whole first line, without its line ending.
    pub fn line(&self) -> Span {
        match self {
            StartLine::Request { line, .. }
            | StartLine::Response { line, .. }
            | StartLine::Unknown { line } => *line,
        }
    }
}

/// One header field as written: its name, its value and the whole line(s) it occupies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Which header this is; `Other` for extension headers.
    pub name: HeaderName,
    /// The name as written (any case, compact or full).
    pub name_span: Span,
    /// The value: after the colon and leading white space, up to the final CRLF. Folded
    /// continuation lines are inside this span, line breaks included.
    pub value: Span,
    /// The whole field, from the first byte of the name up to and including its final line
    /// ending.
    pub field: Span,
    /// The compact form of the name was used (`v:` for Via).
    pub compact: bool,
    /// The value continues on folded lines (RFC 3261 §7.3.1).
    pub folded: bool,
}

/// A parsed SIP message. `raw` is exactly the bytes the message was parsed from; every span
/// points into it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub(crate) raw: Vec<u8>,
    pub start_line: StartLine,
    pub headers: Vec<Header>,
    /// Where the body starts: just after the empty line that ends the header section (or the end
    /// of the message when there is no empty line).
    pub head_end: usize,
    /// The body, as delimited by Content-Length (or to the end of the datagram).
    pub body: Span,
    /// Everything the parser and the validator found wrong, in order of position.
    pub violations: Vec<Violation>,
}

/// Request or response, for summaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Request,
    Response,
    Unknown,
}

impl Message {
    /// The exact bytes this message was parsed from.
    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// The exact bytes this message was parsed from, owned (`parse(b).to_bytes() == b`).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.raw.clone()
    }

    /// The bytes of a span.
    pub fn bytes(&self, span: Span) -> &[u8] {
        &self.raw[span.range()]
    }

    /// The text of a span; invalid UTF-8 is replaced, which only happens in malformed input.
    pub fn text(&self, span: Span) -> Cow<'_, str> {
        String::from_utf8_lossy(self.bytes(span))
    }

    pub fn kind(&self) -> Kind {
        match self.start_line {
            StartLine::Request { .. } => Kind::Request,
            StartLine::Response { .. } => Kind::Response,
            StartLine::Unknown { .. } => Kind::Unknown,
        }
    }

    pub fn is_request(&self) -> bool {
        matches!(self.start_line, StartLine::Request { .. })
    }

    pub fn is_response(&self) -> bool {
        matches!(self.start_line, StartLine::Response { .. })
    }

    /// The request method as written (case-sensitive, RFC 3261 §7.1).
    pub fn method(&self) -> Option<Cow<'_, str>> {
        match self.start_line {
            StartLine::Request { method, .. } => Some(self.text(method)),
            _ => None,
        }
    }

    /// The Request-URI as written.
    pub fn request_uri(&self) -> Option<Cow<'_, str>> {
        match self.start_line {
            StartLine::Request { uri, .. } => Some(self.text(uri)),
            _ => None,
        }
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        match self.start_line {
            StartLine::Response { status, .. } => status,
            _ => None,
        }
    }

    /// The reason phrase of a response, possibly empty.
    pub fn reason(&self) -> Option<Cow<'_, str>> {
        match self.start_line {
            StartLine::Response { reason, .. } => Some(self.text(reason)),
            _ => None,
        }
    }

    /// The body bytes.
    pub fn body(&self) -> &[u8] {
        self.bytes(self.body)
    }

    /// All header fields with this name, in order.
    pub fn headers_named(&self, name: HeaderName) -> impl Iterator<Item = &Header> + '_ {
        self.headers.iter().filter(move |h| h.name == name)
    }

    /// Header fields of an extension header, by case-insensitive name.
    pub fn headers_other<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Header> + 'a {
        self.headers.iter().filter(move |h| {
            h.name == HeaderName::Other
                && self
                    .bytes(h.name_span)
                    .eq_ignore_ascii_case(name.as_bytes())
        })
    }

    /// The first header field with this name.
    pub fn header(&self, name: HeaderName) -> Option<&Header> {
        self.headers.iter().find(|h| h.name == name)
    }

    /// A header's value with folding resolved to single spaces, as text.
    pub fn value(&self, h: &Header) -> Cow<'_, str> {
        let raw = self.bytes(h.value);
        match lex::unfold(raw) {
            // `from_utf8` first: it is several times faster than `from_utf8_lossy` on the
            // valid UTF-8 nearly every value is.
            Cow::Borrowed(b) => match std::str::from_utf8(b) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => String::from_utf8_lossy(b),
            },
            Cow::Owned(v) => Cow::Owned(String::from_utf8_lossy(&v).into_owned()),
        }
    }

    /// The value of the first header with this name, unfolded.
    pub fn first_value(&self, name: HeaderName) -> Option<Cow<'_, str>> {
        self.header(name).map(|h| self.value(h))
    }

    /// Every element of every field of this header, in order. For list headers (Via, Contact,
    /// Allow, ...) each field is split on its separating commas; for single-valued headers each
    /// field is one element. Elements are unfolded and trimmed.
    pub fn values(&self, name: HeaderName) -> Vec<String> {
        let mut out = Vec::new();
        for h in self.headers_named(name) {
            let v = self.value(h);
            match name.shape() {
                ValueShape::Single => out.push(lex::trim(&v).to_string()),
                ValueShape::List => {
                    let (parts, _) = lex::split_commas(v.as_bytes());
                    out.extend(parts.into_iter().map(|r| v[r].to_string()));
                }
            }
        }
        out
    }

    /// Whether any violation of error severity was found.
    pub fn has_errors(&self) -> bool {
        self.violations
            .iter()
            .any(|v| v.severity() == Severity::Error)
    }

    /// The ids of all violations, in order (handy in tests and summaries).
    pub fn rule_ids(&self) -> Vec<&'static str> {
        self.violations.iter().map(|v| v.rule.id).collect()
    }

    /// One line for logs: `INVITE sip:bob@example.com` or `200 OK`.
    pub fn summary(&self) -> String {
        match &self.start_line {
            StartLine::Request { method, uri, .. } => {
                format!("{} {}", self.text(*method), self.text(*uri))
            }
            StartLine::Response { code, reason, .. } => {
                format!("{} {}", self.text(*code), self.text(*reason))
            }
            StartLine::Unknown { line } => format!("? {}", self.text(*line)),
        }
    }
}
