//! A message under construction: the start line, header lines in order and the body, before
//! the scenario's header edits (`headers:`) are applied and the bytes are written.
//!
//! Header names compare case-insensitively and compact forms count as their full names
//! (`f` is From, RFC 3261 §7.3.3). An edit replaces the first header of its name in place
//! (keeping the order of the others) and removes the rest; `null` removes them all.

use crate::sip::builder::{ContentLength, MessageBuilder};
use crate::sip::header_name::HeaderName;
use crate::sip::message::Message;

/// A message siptest is about to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    pub start_line: String,
    /// `(name, value)` in order, Content-Length excluded (see `content_length`).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub content_length: ContentLength,
}

/// One header edit after rendering: `None` removes.
pub type RenderedEdit = (String, Option<Vec<String>>);

/// Whether two header names name the same header (case-insensitive, compact forms included).
pub fn same_header(a: &str, b: &str) -> bool {
    let (ha, _) = HeaderName::lookup(a.trim().as_bytes());
    let (hb, _) = HeaderName::lookup(b.trim().as_bytes());
    if ha == HeaderName::Other || hb == HeaderName::Other {
        ha == hb && a.trim().eq_ignore_ascii_case(b.trim())
    } else {
        ha == hb
    }
}

impl Draft {
    pub fn new(start_line: impl Into<String>) -> Draft {
        Draft {
            start_line: start_line.into(),
            headers: Vec::new(),
            body: Vec::new(),
            content_length: ContentLength::Auto,
        }
    }

    /// The headers of a parsed message, as a draft (Content-Length left to the draft).
    pub fn from_message(msg: &Message) -> Draft {
        let start = msg.text(msg.start_line.line()).into_owned();
        let mut d = Draft::new(start);
        for h in &msg.headers {
            if h.name == HeaderName::ContentLength {
                continue;
            }
            d.headers.push((
                msg.text(h.name_span).into_owned(),
                msg.value(h).into_owned(),
            ));
        }
        d.body = msg.body().to_vec();
        d
    }

    /// Appends a header line.
    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.headers.push((name.to_string(), value.into()));
    }

    /// The first value of a header, if any.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| same_header(n, name))
            .map(|(_, v)| v.as_str())
    }

    /// Replaces the header's lines with `values` (one line each), at the place of the first
    /// existing one, or at the end.
    pub fn set(&mut self, name: &str, values: &[String]) {
        let at = self.headers.iter().position(|(n, _)| same_header(n, name));
        self.remove(name);
        let at = at.unwrap_or(self.headers.len()).min(self.headers.len());
        for (i, v) in values.iter().enumerate() {
            self.headers.insert(at + i, (name.to_string(), v.clone()));
        }
    }

    /// Removes every line of the header.
    pub fn remove(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !same_header(n, name));
    }

    /// Sets the body and its Content-Type.
    pub fn set_body(&mut self, content_type: &str, body: Vec<u8>) {
        self.set("Content-Type", &[content_type.to_string()]);
        self.body = body;
    }

    /// Applies the scenario's edits in order. Content-Length is special: a value is written
    /// as given (a wrong one on purpose), `null` leaves it out.
    pub fn apply(&mut self, edits: &[RenderedEdit]) {
        for (name, values) in edits {
            if same_header(name, "Content-Length") {
                self.content_length = match values.as_deref() {
                    None | Some([]) => ContentLength::Omit,
                    Some(vs) => ContentLength::Literal(vs.join(", ")),
                };
                continue;
            }
            match values {
                None => self.remove(name),
                Some(vs) => self.set(name, vs),
            }
        }
    }

    /// The bytes: CRLF line ends, Content-Length last (the body's length unless edited).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = MessageBuilder::with_start_line(self.start_line.clone());
        for (n, v) in &self.headers {
            b = b.header(n, v);
        }
        b.raw_body(self.body.clone())
            .content_length(self.content_length.clone())
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::parse::parse_message;

    fn draft() -> Draft {
        let mut d = Draft::new("INVITE sip:b@x SIP/2.0");
        d.push("Via", "SIP/2.0/UDP h;branch=z9hG4bK1");
        d.push("From", "<sip:a@x>;tag=1");
        d.push("To", "<sip:b@x>");
        d.push("X-Extra", "1");
        d
    }

    #[test]
    fn edits_replace_in_place_remove_and_add() {
        let mut d = draft();
        d.apply(&[
            ("f".into(), Some(vec!["<sip:z@x>;tag=9".into()])),
            ("x-extra".into(), None),
            ("X-Other".into(), None),
            ("Subject".into(), Some(vec!["a".into(), "b".into()])),
        ]);
        let names: Vec<&str> = d.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Via", "f", "To", "Subject", "Subject"]);
        assert_eq!(d.get("From"), Some("<sip:z@x>;tag=9"));
        let m = parse_message(&d.to_bytes());
        assert_eq!(m.from_tag().as_deref(), Some("9"));
        assert_eq!(m.values(HeaderName::Subject), ["a", "b"]);
    }

    #[test]
    fn content_length_is_automatic_unless_edited() {
        let mut d = draft();
        d.set_body("text/plain", b"hello".to_vec());
        let text = String::from_utf8(d.to_bytes()).unwrap();
        assert!(text.ends_with("Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"));
        d.apply(&[("l".into(), Some(vec!["99".into()]))]);
        assert!(String::from_utf8(d.to_bytes())
            .unwrap()
            .contains("Content-Length: 99\r\n"));
        d.apply(&[("Content-Length".into(), None)]);
        assert!(!String::from_utf8(d.to_bytes())
            .unwrap()
            .contains("Content-Length"));
    }

    #[test]
    fn from_message_round_trips_headers() {
        let d = draft();
        let m = parse_message(&d.to_bytes());
        let again = Draft::from_message(&m);
        assert_eq!(again.headers, d.headers);
        assert_eq!(again.start_line, d.start_line);
    }
}
