//! Building the messages siptest sends.
//!
//! By default the builder writes well-formed bytes: CRLF line endings, exactly one SP between
//! start-line elements, a Content-Length that matches the body. Each of those can be overridden
//! so that a scenario can send something wrong on purpose (a Content-Length that lies, a missing
//! one, bare LF line endings, a raw start line, raw header lines).

use super::header_name::HeaderName;
use super::message::Message;

/// What to write for Content-Length.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum ContentLength {
    /// The body's real length (the default).
    #[default]
    Auto,
    /// No Content-Length header at all.
    Omit,
    /// This text, whatever the body is (to send a wrong or malformed value).
    Literal(String),
}

/// A SIP message under construction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageBuilder {
    start_line: String,
    headers: Vec<String>,
    body: Vec<u8>,
    content_length: ContentLength,
    line_ending: &'static str,
    compact_content_length: bool,
}

impl MessageBuilder {
    /// `METHOD SP Request-URI SP SIP/2.0` (RFC 3261 §7.1).
    pub fn request(method: &str, uri: &str) -> Self {
        Self::with_start_line(format!("{method} {uri} SIP/2.0"))
    }

    /// `SIP/2.0 SP code SP reason` (RFC 3261 §7.2).
    pub fn response(code: u16, reason: &str) -> Self {
        Self::with_start_line(format!("SIP/2.0 {code} {reason}"))
    }

    /// A response to `request` with the headers RFC 3261 §8.2.6.2 says to copy: every Via in
    /// order, From, To, Call-ID and CSeq (plus the timestamp, §8.2.6.1). The To-tag, if one
    /// must be added, is the caller's business (`to_tag`).
    pub fn response_to(request: &Message, code: u16, reason: &str) -> Self {
        let mut b = Self::response(code, reason);
        for h in &request.headers {
            if matches!(
                h.name,
                HeaderName::Via
                    | HeaderName::From
                    | HeaderName::To
                    | HeaderName::CallId
                    | HeaderName::CSeq
                    | HeaderName::Timestamp
            ) {
                let name = request.text(h.name_span);
                let value = request.value(h);
                b = b.header(&name, &value);
            }
        }
        b
    }

    /// A message whose first line is exactly `line` (to send a malformed one on purpose).
    pub fn with_start_line(line: impl Into<String>) -> Self {
        MessageBuilder {
            start_line: line.into(),
            headers: Vec::new(),
            body: Vec::new(),
            content_length: ContentLength::Auto,
            line_ending: "\r\n",
            compact_content_length: false,
        }
    }

    /// Appends `name: value`.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push(format!("{name}: {value}"));
        self
    }

    /// Appends a header line exactly as given (no colon added; may be malformed on purpose).
    pub fn raw_header_line(mut self, line: impl Into<String>) -> Self {
        self.headers.push(line.into());
        self
    }

    /// Adds `;tag=...` to the To header if it has none.
    pub fn to_tag(mut self, tag: &str) -> Self {
        for line in &mut self.headers {
            let (name, value) = line.split_once(':').unwrap_or((line.as_str(), ""));
            let (hn, _) = HeaderName::lookup(name.trim().as_bytes());
            if hn == HeaderName::To && !has_tag(value) {
                line.push_str(";tag=");
                line.push_str(tag);
            }
        }
        self
    }

    /// Removes every header with this name (case-insensitive, compact forms included).
    pub fn remove(mut self, name: HeaderName) -> Self {
        self.headers.retain(|line| {
            let n = line.split_once(':').map_or(line.as_str(), |(n, _)| n);
            HeaderName::lookup(n.trim().as_bytes()).0 != name
        });
        self
    }

    /// Sets the body and its Content-Type.
    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.headers.push(format!("Content-Type: {content_type}"));
        self.body = body.into();
        self
    }

    /// Sets the body without touching Content-Type.
    pub fn raw_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn content_length(mut self, cl: ContentLength) -> Self {
        self.content_length = cl;
        self
    }

    /// Writes Content-Length in its compact form `l:`.
    pub fn compact_content_length(mut self, yes: bool) -> Self {
        self.compact_content_length = yes;
        self
    }

    /// Line ending for the start line and the header section ("\r\n" unless told otherwise;
    /// "\n" sends bare LF on purpose).
    pub fn line_ending(mut self, eol: &'static str) -> Self {
        self.line_ending = eol;
        self
    }

    /// The bytes to send.
    pub fn build(&self) -> Vec<u8> {
        let eol = self.line_ending;
        let mut out = Vec::with_capacity(256 + self.body.len());
        out.extend_from_slice(self.start_line.as_bytes());
        out.extend_from_slice(eol.as_bytes());
        for h in &self.headers {
            out.extend_from_slice(h.as_bytes());
            out.extend_from_slice(eol.as_bytes());
        }
        let cl_name = if self.compact_content_length {
            "l"
        } else {
            "Content-Length"
        };
        match &self.content_length {
            ContentLength::Auto => {
                out.extend_from_slice(format!("{cl_name}: {}{eol}", self.body.len()).as_bytes())
            }
            ContentLength::Literal(v) => {
                out.extend_from_slice(format!("{cl_name}: {v}{eol}").as_bytes())
            }
            ContentLength::Omit => {}
        }
        out.extend_from_slice(eol.as_bytes());
        out.extend_from_slice(&self.body);
        out
    }
}

fn has_tag(value: &str) -> bool {
    // The tag is a header parameter: after the closing '>' in name-addr form, or anywhere in
    // addr-spec form (RFC 3261 §20.39).
    let params = value.rsplit_once('>').map_or(value, |(_, p)| p);
    params
        .split(';')
        .skip(1)
        .any(|p| p.trim().to_ascii_lowercase().starts_with("tag"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::parse::parse_datagram;

    #[test]
    fn content_length_matches_body_and_line_endings_are_crlf() {
        let bytes = MessageBuilder::request("MESSAGE", "sip:bob@example.com")
            .header("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKabc")
            .body("text/plain", "hello")
            .build();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains("Content-Length: 5\r\n\r\nhello"));
        assert!(!text.replace("\r\n", "").contains('\n'));
    }

    #[test]
    fn deliberate_malformations_are_written_as_asked() {
        let bytes = MessageBuilder::request("OPTIONS", "sip:b@x")
            .raw_body("abc")
            .content_length(ContentLength::Literal("10".into()))
            .build();
        let d = parse_datagram(&bytes);
        assert!(d
            .message
            .rule_ids()
            .contains(&"msg.content-length.exceeds-datagram"));
        let lf = MessageBuilder::request("OPTIONS", "sip:b@x")
            .line_ending("\n")
            .build();
        assert!(parse_datagram(&lf)
            .message
            .rule_ids()
            .contains(&"msg.line-ending.bare-lf"));
    }

    #[test]
    fn to_tag_added_once() {
        let b = MessageBuilder::response(200, "OK")
            .header("To", "<sip:b@x>")
            .to_tag("abc")
            .to_tag("def");
        let text = String::from_utf8(b.build()).unwrap();
        assert!(text.contains("To: <sip:b@x>;tag=abc\r\n"));
    }
}
