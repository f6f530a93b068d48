//! SIP framing on a reassembled TCP direction, without parsing the messages.
//!
//! On a stream, Content-Length is the only way to find where a message ends (RFC 3261 §18.3), so
//! the framer needs the end of the header section and that one header, nothing else. The
//! library's [`StreamFramer`] parses every message it frames (head and validation); a capture
//! summary reads only five header values from each message (`capture::fields`), and that full
//! parse was the largest single cost of reading a capture. This framer makes the same decisions
//! as [`StreamFramer`] (with the limits [`MAX_HEAD`] and [`MAX_BODY`]) and hands out the
//! message bytes; [`parse()`] gives the exact [`Message`] [`StreamFramer`] would have made, for
//! the callers that want one. A differential test (`stream_tests.rs`) holds the two framers
//! together.
//!
//! It also copies less: a segment's complete messages are framed where they lie, and only an
//! incomplete message at the end of a segment is carried over to the next one.

use super::detect;
use crate::sip::framing::{find_head_end, Frame, FramerLimits, StreamFramer};
use crate::sip::message::Message;
use crate::sip::parse::{self, Framing};

/// The longest header section framed: beyond it without an empty line, the bytes are dropped.
pub const MAX_HEAD: usize = 64 * 1024;
/// Largest Content-Length framed on a stream.
pub const MAX_BODY: usize = 2 << 20;

/// The header section of the message being received.
#[derive(Clone, Copy, Debug)]
struct Head {
    /// Octets up to and including the empty line.
    len: usize,
    /// The body length Content-Length announces (0 without one).
    body: usize,
}

/// Splits one direction's bytes into SIP messages.
#[derive(Debug, Default)]
pub struct SipFramer {
    /// The start of an incomplete message (or of a keep-alive) carried over from earlier bytes.
    held: Vec<u8>,
    /// How far into the pending bytes the search for the end of the header section has looked,
    /// so that work per octet stays constant however the stream is cut into segments.
    scanned: usize,
    head: Option<Head>,
}

/// How framing the pending bytes ended.
enum Stop {
    /// Everything complete was framed; the rest starts at this offset and waits for more.
    NeedMore(usize),
    /// The stream is not (or no longer) SIP from this offset on: the caller resyncs on content.
    Lost(usize),
}

/// What looking for the header section found.
enum HeadSearch {
    Found(Head),
    NeedMore,
    /// No empty line within [`MAX_HEAD`] octets.
    TooLong,
    /// A Content-Length beyond [`MAX_BODY`]: the header section (this long) is dropped.
    BodyTooLarge(usize),
}

impl SipFramer {
    /// Takes the next in-order bytes; each complete message goes to `emit`. Returns the bytes
    /// from where the stream stopped being SIP (a framed message that does not start with a SIP
    /// start line, a header section too long, a body too large), for the caller to hunt for the
    /// next message in; the framer is then spent.
    pub fn push(&mut self, data: &[u8], emit: &mut dyn FnMut(&[u8])) -> Option<Vec<u8>> {
        if self.held.is_empty() {
            return match self.frame(data, emit) {
                Stop::NeedMore(at) => {
                    self.held.extend_from_slice(&data[at..]);
                    None
                }
                Stop::Lost(at) => Some(data[at..].to_vec()),
            };
        }
        let mut held = std::mem::take(&mut self.held);
        held.extend_from_slice(data);
        match self.frame(&held, emit) {
            Stop::NeedMore(at) => {
                held.drain(..at);
                self.held = held;
                None
            }
            Stop::Lost(at) => {
                held.drain(..at);
                Some(held)
            }
        }
    }

    /// Frames the messages at the front of `pending` (the bytes not framed yet), as
    /// `StreamFramer::next_frame` does in a loop.
    fn frame(&mut self, pending: &[u8], emit: &mut dyn FnMut(&[u8])) -> Stop {
        let mut at = 0;
        loop {
            let data = &pending[at..];
            if data.is_empty() {
                return Stop::NeedMore(at);
            }
            if self.head.is_none() {
                match keep_alive(data) {
                    KeepAlive::None => {}
                    KeepAlive::Incomplete => return Stop::NeedMore(at),
                    KeepAlive::Complete(len) => {
                        at += len;
                        self.reset();
                        continue;
                    }
                }
            }
            let head = match self.head {
                Some(h) => h,
                None => match self.find_head(data) {
                    HeadSearch::Found(h) => h,
                    HeadSearch::NeedMore => return Stop::NeedMore(at),
                    HeadSearch::TooLong => return Stop::Lost(pending.len()),
                    HeadSearch::BodyTooLarge(len) => return Stop::Lost(at + len),
                },
            };
            let total = head.len + head.body;
            let Some(message) = data.get(..total) else {
                return Stop::NeedMore(at);
            };
            at += total;
            self.reset();
            if !detect::is_sip_start(message) {
                return Stop::Lost(at);
            }
            emit(message);
        }
    }

    /// Looks for the end of the header section, resuming where the last search stopped.
    fn find_head(&mut self, data: &[u8]) -> HeadSearch {
        // Back up 3 octets so that a CRLFCRLF split across segments is still found.
        let from = self.scanned.saturating_sub(3);
        let Some(len) = find_head_end(&data[from..]).map(|n| from + n) else {
            self.scanned = data.len();
            if data.len() > MAX_HEAD {
                return HeadSearch::TooLong;
            }
            return HeadSearch::NeedMore;
        };
        let body = body_length(&data[..len]);
        if body > MAX_BODY {
            return HeadSearch::BodyTooLarge(len);
        }
        let head = Head { len, body };
        self.head = Some(head);
        HeadSearch::Found(head)
    }

    /// A message (or keep-alive) was framed: the next one starts afresh.
    fn reset(&mut self) {
        self.scanned = 0;
        self.head = None;
    }
}

/// CRLFs (or bare LFs) between messages: RFC 5626 §3.5.1 keep-alives.
enum KeepAlive {
    /// The bytes do not start with a line break.
    None,
    /// Line breaks that may still grow into a ping (CRLFCRLF): wait for more.
    Incomplete,
    /// A keep-alive this long, followed by something else or a full ping.
    Complete(usize),
}

/// As `StreamFramer` decides: a lone CRLF (or a CR) at the end may be the start of a ping.
fn keep_alive(data: &[u8]) -> KeepAlive {
    let (mut count, mut len) = (0, 0);
    loop {
        if data[len..].starts_with(b"\r\n") {
            len += 2;
        } else if data.get(len) == Some(&b'\n') {
            len += 1;
        } else {
            break;
        }
        count += 1;
    }
    if len == 0 && data != b"\r" {
        return KeepAlive::None;
    }
    let rest = &data[len..];
    if rest.is_empty() && count < 2 || rest == b"\r" {
        return KeepAlive::Incomplete;
    }
    KeepAlive::Complete(len)
}

/// The body length Content-Length announces in a header section (0 without one, RFC 3261
/// §18.3), as `parse::parse_head` and `parse::content_length` read it: the first value that is a
/// decimal number counts. A header section with a folded line (RFC 3261 §7.3.1), rare on the
/// wire, is read by the full parser.
fn body_length(head: &[u8]) -> usize {
    // RFC 3261 §7.5: empty lines before the start line are ignored; the start line is skipped.
    let lead = head
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count();
    let mut pos = line_end(head, lead).1;
    let mut value = None;
    while pos < head.len() {
        let (end, next) = line_end(head, pos);
        if end == pos {
            break;
        }
        let line = &head[pos..end];
        if line[0] == b' ' || line[0] == b'\t' {
            return body_length_parsed(head);
        }
        if let Some(v) = content_length_value(line) {
            value = value.or_else(|| decimal(v));
        }
        pos = next;
    }
    value.unwrap_or(0)
}

/// [`body_length`] by the full parser.
fn body_length_parsed(head: &[u8]) -> usize {
    let h = parse::parse_head(head);
    parse::content_length(head, &h.headers).0.unwrap_or(0)
}

/// The value of a `Content-Length` (or compact `l`, RFC 3261 §7.3.3) header line.
fn content_length_value(line: &[u8]) -> Option<&[u8]> {
    // Most lines are other headers: the first letter rules them out before the colon search.
    if !matches!(line[0], b'c' | b'C' | b'l' | b'L') {
        return None;
    }
    let colon = memchr::memchr(b':', line)?;
    let mut name = &line[..colon];
    while let [rest @ .., b' ' | b'\t'] = name {
        name = rest;
    }
    let is_cl = name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l");
    is_cl.then(|| &line[colon + 1..])
}

/// A non-negative decimal number between optional white space (`lex::parse_decimal` after
/// `lex::unfold`: white space inside the value makes it invalid either way).
fn decimal(v: &[u8]) -> Option<usize> {
    let lws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = v.iter().position(|b| !lws(b))?;
    let end = v.iter().rposition(|b| !lws(b))? + 1;
    let mut n: u64 = 0;
    for &b in &v[start..end] {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    usize::try_from(n).ok()
}

/// The end of the line's content at `from` (before CRLF or a bare LF) and the start of the next
/// line, as the parser splits lines.
fn line_end(b: &[u8], from: usize) -> (usize, usize) {
    match memchr::memchr(b'\n', &b[from..]) {
        Some(n) => {
            let lf = from + n;
            if lf > from && b[lf - 1] == b'\r' {
                (lf - 1, lf + 1)
            } else {
                (lf, lf + 1)
            }
        }
        None => (b.len(), b.len()),
    }
}

/// The message [`StreamFramer`] makes of bytes this framer framed (the same parse, with the
/// same `msg.stream.no-content-length` finding when there is no Content-Length).
pub fn parse(bytes: &[u8]) -> Message {
    let mut f = StreamFramer::with_limits(FramerLimits {
        max_head: MAX_HEAD,
        max_body: MAX_BODY,
    });
    f.push(bytes);
    match f.next_frame() {
        Some(Frame::Message(m)) => m,
        // Not reached for bytes this framer framed; parse them whole all the same.
        _ => parse::parse_framed(bytes, Framing::Whole),
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
