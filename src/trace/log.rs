//! The trace log format: a lossless text-framed record of messages with their time, transport
//! and addresses, for `siptest lint` and for keeping what a run saw.
//!
//! ```text
//! siptest-trace 1
//! @ 0.000000 udp 127.0.0.1:5060 > 127.0.0.1:5070 452
//! <exactly 452 octets of the message as sent>
//! @ 0.012500 udp 127.0.0.1:5070 > 127.0.0.1:5060 310
//! <310 octets>
//! ```
//!
//! Each record is a header line `@ SECONDS TRANSPORT SRC > DST LENGTH` followed by exactly
//! LENGTH octets and a line feed. The explicit length keeps any byte sequence (a wrong
//! Content-Length, bare LF, binary bodies) intact. Lines starting with `#` between records are
//! comments. Times are seconds from the start of the trace; addresses are `IP:port`
//! (`[v6]:port` for IPv6).

use super::{Trace, TracedMessage, Transport};
use crate::sip::parse::parse_datagram;
use crate::sip::parse::parse_message;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// The first line of every trace log.
pub const MAGIC: &str = "siptest-trace 1";

/// A trace log that could not be read: where and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {expected}")]
pub struct LogError {
    pub line: usize,
    pub column: usize,
    pub expected: String,
}

/// Writes a trace in the log format.
pub fn write(trace: &Trace) -> Vec<u8> {
    write_records(trace.messages.iter().map(|m| (m.time, m)))
}

/// Writes messages in the log format, each at the time given beside it (for traces merged
/// from several, whose messages carry the times of their own trace).
pub fn write_records<'a>(
    records: impl IntoIterator<Item = (Duration, &'a TracedMessage)>,
) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC.as_bytes());
    out.push(b'\n');
    for (time, m) in records {
        write_record(&mut out, time, m);
    }
    out
}

/// Appends one record (header line, message, line feed) at `time`.
pub fn write_record(out: &mut Vec<u8>, time: Duration, m: &TracedMessage) {
    use std::io::Write;
    let bytes = m.message.as_bytes();
    // Writing into a Vec cannot fail.
    let _ = writeln!(
        out,
        "@ {}.{:06} {} {} > {} {}",
        time.as_secs(),
        time.subsec_micros(),
        m.transport,
        m.src,
        m.dst,
        bytes.len()
    );
    out.extend_from_slice(bytes);
    out.push(b'\n');
}

/// Reads a trace log. Messages over UDP are parsed as datagrams (RFC 3261 §18.3); others as
/// whole messages.
pub fn read(input: &[u8]) -> Result<Trace, LogError> {
    let mut r = Reader {
        input,
        pos: 0,
        line: 1,
    };
    let first = r.line_text();
    if first != MAGIC {
        return Err(r.error(1, format!("`{MAGIC}` as the first line")));
    }
    r.next_line();
    let mut trace = Trace::default();
    while r.pos < input.len() {
        let text = r.line_text();
        if text.is_empty() || text.starts_with('#') {
            r.next_line();
            continue;
        }
        let header = parse_header(text).map_err(|(col, e)| r.error(col, e))?;
        r.next_line();
        let end = r.pos + header.length;
        if end > input.len() {
            return Err(r.error(
                1,
                format!(
                    "{} octets of message, but the file ends after {}",
                    header.length,
                    input.len() - r.pos
                ),
            ));
        }
        let bytes = &input[r.pos..end];
        let message = match header.transport {
            Transport::Udp => parse_datagram(bytes).message,
            _ => parse_message(bytes),
        };
        trace.messages.push(TracedMessage {
            time: header.time,
            src: header.src,
            dst: header.dst,
            transport: header.transport,
            message,
        });
        r.line += bytes.iter().filter(|&&b| b == b'\n').count();
        r.pos = end;
        if r.pos < input.len() {
            if input[r.pos] != b'\n' {
                return Err(r.error(1, "a line feed after the message octets".into()));
            }
            r.pos += 1;
            r.line += 1;
        }
    }
    Ok(trace)
}

struct Header {
    time: Duration,
    transport: Transport,
    src: SocketAddr,
    dst: SocketAddr,
    length: usize,
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    line: usize,
}

impl Reader<'_> {
    fn line_text(&self) -> &str {
        let rest = &self.input[self.pos..];
        let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let line = &rest[..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        std::str::from_utf8(line).unwrap_or("\u{fffd}")
    }

    fn next_line(&mut self) {
        let rest = &self.input[self.pos..];
        self.pos += memchr::memchr(b'\n', rest).map_or(rest.len(), |n| n + 1);
        self.line += 1;
    }

    fn error(&self, column: usize, expected: String) -> LogError {
        LogError {
            line: self.line,
            column,
            expected,
        }
    }
}

/// `@ SECONDS TRANSPORT SRC > DST LENGTH`; errors carry the 1-based column.
fn parse_header(line: &str) -> Result<Header, (usize, String)> {
    let mut fields = Vec::new();
    let mut col = 1;
    for word in line.split(' ') {
        if !word.is_empty() {
            fields.push((col, word));
        }
        col += word.len() + 1;
    }
    let field = |i: usize, what: &str| -> Result<(usize, &str), (usize, String)> {
        fields.get(i).copied().ok_or((
            line.len() + 1,
            format!("{what} (record header: `@ SECONDS TRANSPORT SRC > DST LENGTH`)"),
        ))
    };
    let (c, at) = field(0, "`@`")?;
    if at != "@" {
        return Err((c, "`@` to start a record".into()));
    }
    let (c, t) = field(1, "the time in seconds")?;
    let time = t
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .ok_or((c, format!("a time in seconds, found `{t}`")))?;
    let (c, tr) = field(2, "a transport")?;
    let transport =
        Transport::parse(tr).ok_or((c, format!("udp, tcp, tls, sctp, ws or wss, found `{tr}`")))?;
    let (c, s) = field(3, "the source address")?;
    let src = s
        .parse()
        .map_err(|_| (c, format!("IP:port, found `{s}`")))?;
    let (c, gt) = field(4, "`>`")?;
    if gt != ">" {
        return Err((c, format!("`>` between the addresses, found `{gt}`")));
    }
    let (c, d) = field(5, "the destination address")?;
    let dst = d
        .parse()
        .map_err(|_| (c, format!("IP:port, found `{d}`")))?;
    let (c, l) = field(6, "the message length in octets")?;
    let length = l
        .parse()
        .map_err(|_| (c, format!("a length in octets, found `{l}`")))?;
    if let Some((c, extra)) = fields.get(7) {
        return Err((*c, format!("the end of the record header, found `{extra}`")));
    }
    Ok(Header {
        time,
        transport,
        src,
        dst,
        length,
    })
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.messages.iter().enumerate() {
            writeln!(
                f,
                "{i:>4} {:>10.6} {} {} > {} {}",
                m.time.as_secs_f64(),
                m.transport,
                m.src,
                m.dst,
                m.message.summary()
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"OPTIONS sip:b@x SIP/2.0\r\nContent-Length: 0\r\n\r\n";

    fn one() -> Trace {
        let m = parse_message(MSG);
        Trace {
            messages: vec![
                TracedMessage {
                    time: Duration::from_micros(1_500),
                    src: "127.0.0.1:5060".parse().unwrap(),
                    dst: "[::1]:5070".parse().unwrap(),
                    transport: Transport::Udp,
                    message: m.clone(),
                },
                TracedMessage {
                    time: Duration::from_secs(2),
                    src: "[::1]:5070".parse().unwrap(),
                    dst: "127.0.0.1:5060".parse().unwrap(),
                    transport: Transport::Tcp,
                    message: m,
                },
            ],
        }
    }

    #[test]
    fn write_then_read_gives_the_same_trace() {
        let t = one();
        let bytes = write(&t);
        let back = read(&bytes).unwrap();
        assert_eq!(back.messages.len(), 2);
        assert_eq!(back.messages[0].message.as_bytes(), MSG);
        assert_eq!(back.messages[0].time, Duration::from_micros(1_500));
        assert_eq!(back.messages[1].transport, Transport::Tcp);
        assert_eq!(write(&back), bytes);
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = read(b"hello\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 1));
        let e = read(b"siptest-trace 1\n# c\n@ 0.1 udp 127.0.0.1:1 > 127.0.0.1:2 x\n").unwrap_err();
        assert_eq!((e.line, e.column), (3, 37));
        assert!(e.expected.contains("length"), "{e}");
        let e = read(b"siptest-trace 1\n@ 0.1 carrier-pigeon 127.0.0.1:1 > 127.0.0.1:2 3\nabc\n")
            .unwrap_err();
        assert_eq!((e.line, e.column), (2, 7));
        let e =
            read(b"siptest-trace 1\n@ 0.1 udp 127.0.0.1:1 > 127.0.0.1:2 300\nabc\n").unwrap_err();
        assert_eq!(e.line, 3);
    }
}
