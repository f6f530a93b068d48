//! Stream framing for connection-oriented transports (TCP, TLS, SCTP streams).
//!
//! On a stream, Content-Length is the only way to find where a message ends, so it is mandatory
//! (RFC 3261 §18.3). Between messages a peer may send CRLF keep-alives (RFC 5626 §3.5.1: a
//! double CRLF "ping", answered by a single CRLF "pong"); they are reported as events, not
//! errors. The framer never fails: garbage that never turns into a message is handed back as
//! such once it exceeds a size limit, so a misbehaving peer cannot make it grow without bound.

use super::header_name::HeaderName;
use super::message::Message;
use super::parse::{self, Framing};
use crate::rule::{Span, Violation};

crate::declare_rules! {
    STREAM_NO_CONTENT_LENGTH = ("msg.stream.no-content-length", Transaction, Error, "RFC 3261 §18.3",
        "a message on a stream transport has no Content-Length");
    STREAM_HEAD_TOO_LARGE = ("msg.stream.head-too-large", Transaction, Error, "RFC 3261 §18.3",
        "no end of header section within the framer's limit; the bytes were discarded");
    STREAM_BODY_TOO_LARGE = ("msg.stream.body-too-large", Transaction, Error, "RFC 3261 §18.3",
        "Content-Length larger than the framer's limit");
    STREAM_INCOMPLETE = ("msg.stream.incomplete", Transaction, Error, "RFC 3261 §18.3",
        "the stream ended in the middle of a message");
}

/// What the framer found on the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A complete message.
    Message(Message),
    /// A run of CRLF between messages: `"\r\n\r\n"` is a keep-alive ping and `"\r\n"` a pong
    /// (RFC 5626 §3.5.1). The count is the number of CRLF pairs (or bare LFs).
    KeepAlive { line_breaks: usize },
    /// Bytes that could not be framed as a message (no header end within the limit), with why.
    Garbage {
        bytes: Vec<u8>,
        violation: Violation,
    },
}

/// Limits that stop a hostile or broken peer from making the framer buffer without bound.
#[derive(Clone, Copy, Debug)]
pub struct FramerLimits {
    /// Longest header section accepted before the bytes are discarded as garbage.
    pub max_head: usize,
    /// Largest Content-Length accepted.
    pub max_body: usize,
}

impl Default for FramerLimits {
    fn default() -> Self {
        FramerLimits {
            max_head: 64 * 1024,
            max_body: 16 * 1024 * 1024,
        }
    }
}

/// Splits a byte stream into SIP messages.
///
/// Work per byte is constant however the stream is cut into reads: the search for the end of a
/// header section resumes where the previous read left it, and a header section already found
/// is not parsed again while its body arrives.
#[derive(Debug, Default)]
pub struct StreamFramer {
    buf: Vec<u8>,
    /// Bytes already consumed from the front of `buf` (compacted lazily).
    start: usize,
    limits: FramerLimits,
    /// How far past `start` the search for the end of the header section has already looked.
    scanned: usize,
    /// The header section of the message being received, once complete: its length, the body
    /// length Content-Length announces, and whether there was a Content-Length at all.
    head: Option<(usize, usize, bool)>,
    /// Octets framed since the stream began (the stream offset of `pending()`).
    consumed: usize,
}

impl StreamFramer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_limits(limits: FramerLimits) -> Self {
        StreamFramer {
            limits,
            ..Self::default()
        }
    }

    /// Appends bytes received from the stream.
    pub fn push(&mut self, data: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// The stream offset of the next frame: octets framed since the stream began.
    pub fn consumed(&self) -> usize {
        self.consumed
    }

    /// Bytes received but not yet framed.
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// The next complete frame, or `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Frame> {
        let frame = self.frame_at_start();
        if self.start > 64 * 1024 && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        frame
    }

    fn frame_at_start(&mut self) -> Option<Frame> {
        let data = &self.buf[self.start..];
        if data.is_empty() {
            return None;
        }
        if self.head.is_none() {
            let (count, len) = leading_line_breaks(data);
            if len > 0 || data == b"\r" {
                // A keep-alive is complete once something else follows it or once it is a full
                // ping (CRLFCRLF); a lone CRLF (or a CR) at the end may be the start of a ping.
                let rest = &data[len..];
                if rest.is_empty() && count < 2 || rest == b"\r" {
                    return None;
                }
                self.consume(len);
                return Some(Frame::KeepAlive { line_breaks: count });
            }
        }
        let (head_len, body_len, has_cl) = match self.head {
            Some(h) => h,
            None => match self.find_head() {
                HeadSearch::Found(h) => h,
                HeadSearch::NeedMore => return None,
                HeadSearch::Garbage(frame) => return Some(frame),
            },
        };
        let data = &self.buf[self.start..];
        if data.len() < head_len + body_len {
            return None;
        }
        let total = head_len + body_len;
        let mut msg = parse::parse_framed(&data[..total], Framing::Whole);
        if !has_cl {
            // RFC 3261 §18.3: the message is taken to end at the header section.
            msg.violations.push(Violation::new(
                &STREAM_NO_CONTENT_LENGTH,
                msg.start_line.line(),
                "no Content-Length on a stream transport; assumed 0",
            ));
        }
        self.consume(total);
        Some(Frame::Message(msg))
    }

    /// Looks for the end of the header section, resuming where the last search stopped. On
    /// success the head is parsed once and remembered.
    fn find_head(&mut self) -> HeadSearch {
        let data = &self.buf[self.start..];
        // Back up 3 octets so a CRLFCRLF split across reads is still found.
        let from = self.scanned.saturating_sub(3);
        let Some(head_len) = find_head_end(&data[from..]).map(|n| from + n) else {
            self.scanned = data.len();
            if data.len() > self.limits.max_head {
                return HeadSearch::Garbage(self.discard_garbage());
            }
            return HeadSearch::NeedMore;
        };
        let head = parse::parse_head(&data[..head_len]);
        let (cl, _) = parse::content_length(&data[..head_len], &head.headers);
        let has_cl = head
            .headers
            .iter()
            .any(|h| h.name == HeaderName::ContentLength);
        let body_len = cl.unwrap_or(0);
        if body_len > self.limits.max_body {
            let bytes = data[..head_len].to_vec();
            self.consume(head_len);
            return HeadSearch::Garbage(Frame::Garbage {
                violation: Violation::new(
                    &STREAM_BODY_TOO_LARGE,
                    Span::new(0, head_len),
                    format!(
                        "Content-Length {body_len} exceeds the limit of {}",
                        self.limits.max_body
                    ),
                ),
                bytes,
            });
        }
        self.head = Some((head_len, body_len, has_cl));
        HeadSearch::Found((head_len, body_len, has_cl))
    }

    /// Drops `n` framed bytes from the front and resets the per-message state.
    fn consume(&mut self, n: usize) {
        self.start += n;
        self.consumed += n;
        self.scanned = 0;
        self.head = None;
    }

    /// The end of the stream: whatever is still held becomes a last frame, a keep-alive when it
    /// is only line breaks, else garbage with a `msg.stream.incomplete` violation (the stream
    /// ended in the middle of a message). Call `next_frame` until `None` first.
    pub fn finish(&mut self) -> Option<Frame> {
        let data = &self.buf[self.start..];
        if data.is_empty() {
            return None;
        }
        let (count, len) = leading_line_breaks(data);
        let frame = if len == data.len() {
            Frame::KeepAlive { line_breaks: count }
        } else {
            Frame::Garbage {
                violation: Violation::new(
                    &STREAM_INCOMPLETE,
                    Span::new(0, data.len()),
                    format!("{} octets at the end do not complete a message", data.len()),
                ),
                bytes: data.to_vec(),
            }
        };
        let n = data.len();
        self.consume(n);
        Some(frame)
    }

    fn discard_garbage(&mut self) -> Frame {
        let bytes = self.buf[self.start..].to_vec();
        self.consume(bytes.len());
        Frame::Garbage {
            violation: Violation::new(
                &STREAM_HEAD_TOO_LARGE,
                Span::new(0, bytes.len()),
                format!("{} octets without the end of a header section", bytes.len()),
            ),
            bytes,
        }
    }
}

/// The outcome of looking for the end of a header section.
enum HeadSearch {
    /// Head length, announced body length, whether Content-Length was present.
    Found((usize, usize, bool)),
    NeedMore,
    Garbage(Frame),
}

/// Counts the CRLF (or bare LF) line breaks at the start of `data`: (count, octets). A lone CR
/// at the very end is left for the next read.
fn leading_line_breaks(data: &[u8]) -> (usize, usize) {
    let mut i = 0;
    let mut n = 0;
    loop {
        if data[i..].starts_with(b"\r\n") {
            i += 2;
        } else if data.get(i) == Some(&b'\n') {
            i += 1;
        } else {
            return (n, i);
        }
        n += 1;
    }
}

/// The length of the header section including its terminating empty line, when complete.
/// Accepts CRLFCRLF and, for robustness, LFLF.
pub fn find_head_end(data: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(n) = memchr::memchr(b'\n', &data[from..]) {
        let lf = from + n;
        let rest = &data[lf + 1..];
        if rest.starts_with(b"\r\n") {
            return Some(lf + 3);
        }
        if rest.first() == Some(&b'\n') {
            return Some(lf + 2);
        }
        from = lf + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &[u8] = b"OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/TCP a.example.com;branch=z9hG4bK1\r\nContent-Length: 4\r\n\r\nabcd";

    fn frames(f: &mut StreamFramer) -> Vec<Frame> {
        std::iter::from_fn(|| f.next_frame()).collect()
    }

    #[test]
    fn messages_split_over_reads_and_several_in_one() {
        let mut f = StreamFramer::new();
        let mut stream = OPTIONS.to_vec();
        stream.extend_from_slice(b"\r\n\r\n");
        stream.extend_from_slice(OPTIONS);
        stream.extend_from_slice(OPTIONS);
        let mut got = Vec::new();
        for chunk in stream.chunks(7) {
            f.push(chunk);
            got.extend(frames(&mut f));
        }
        let kinds: Vec<&str> = got
            .iter()
            .map(|fr| match fr {
                Frame::Message(_) => "msg",
                Frame::KeepAlive { .. } => "ka",
                Frame::Garbage { .. } => "garbage",
            })
            .collect();
        assert_eq!(kinds, ["msg", "ka", "msg", "msg"]);
        if let Frame::Message(m) = &got[0] {
            assert_eq!(m.as_bytes(), OPTIONS);
            assert_eq!(m.body(), b"abcd");
        }
        assert!(f.pending().is_empty());
    }

    #[test]
    fn a_ping_split_after_its_cr_waits_for_the_lf() {
        let mut f = StreamFramer::new();
        f.push(b"\r\n\r");
        assert_eq!(f.next_frame(), None);
        f.push(b"\n");
        assert_eq!(f.next_frame(), Some(Frame::KeepAlive { line_breaks: 2 }));
        assert!(f.pending().is_empty());
    }

    #[test]
    fn finish_flushes_a_pong_and_reports_a_cut_message() {
        let mut f = StreamFramer::new();
        f.push(b"\r\n");
        assert_eq!(f.next_frame(), None, "may be the first half of a ping");
        assert_eq!(f.finish(), Some(Frame::KeepAlive { line_breaks: 1 }));
        f.push(&OPTIONS[..20]);
        assert_eq!(f.next_frame(), None);
        match f.finish() {
            Some(Frame::Garbage { bytes, violation }) => {
                assert_eq!(bytes, &OPTIONS[..20]);
                assert_eq!(violation.rule.id, "msg.stream.incomplete");
            }
            other => panic!("expected garbage, got {other:?}"),
        }
        assert_eq!(f.finish(), None);
        assert_eq!(f.consumed(), 22);
    }

    #[test]
    fn keepalive_ping_counts_two_breaks() {
        let mut f = StreamFramer::new();
        f.push(b"\r\n\r\n");
        assert_eq!(f.next_frame(), Some(Frame::KeepAlive { line_breaks: 2 }));
        assert_eq!(f.next_frame(), None);
    }

    #[test]
    fn missing_content_length_is_an_error_and_body_is_empty() {
        let mut f = StreamFramer::new();
        f.push(b"BYE sip:b@x SIP/2.0\r\nVia: SIP/2.0/TCP a;branch=z9hG4bK2\r\n\r\nBYE sip:b@x SIP/2.0\r\nContent-Length: 0\r\n\r\n");
        let got = frames(&mut f);
        assert_eq!(got.len(), 2);
        let Frame::Message(m) = &got[0] else {
            panic!("expected a message")
        };
        assert!(m.rule_ids().contains(&"msg.stream.no-content-length"));
        assert!(m.body().is_empty());
    }

    #[test]
    fn garbage_without_head_end_is_bounded() {
        let mut f = StreamFramer::with_limits(FramerLimits {
            max_head: 100,
            max_body: 100,
        });
        f.push(&[b'x'; 150]);
        match f.next_frame() {
            Some(Frame::Garbage { bytes, violation }) => {
                assert_eq!(bytes.len(), 150);
                assert_eq!(violation.rule.id, "msg.stream.head-too-large");
            }
            other => panic!("expected garbage, got {other:?}"),
        }
        assert!(f.pending().is_empty());
    }

    #[test]
    fn incomplete_body_waits_for_more() {
        let mut f = StreamFramer::new();
        f.push(&OPTIONS[..OPTIONS.len() - 2]);
        assert_eq!(f.next_frame(), None);
        f.push(&OPTIONS[OPTIONS.len() - 2..]);
        assert!(matches!(f.next_frame(), Some(Frame::Message(_))));
    }
}
