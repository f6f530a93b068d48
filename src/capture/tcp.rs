//! TCP stream reassembly (RFC 9293 §3.4 sequence numbers), one byte stream per direction, and
//! SIP framing on it.
//!
//! Each direction keeps the next sequence number it expects. A segment wholly before it is a
//! retransmission (counted, not delivered again); a segment overlapping it is trimmed; a segment
//! after it waits, out of order, until the gap is filled. The reassembled bytes go to
//! [`SipFramer`] (Content-Length framing, RFC 3261 §18.3), so a message split over segments
//! or several messages in one segment come out as whole messages, or, after an HTTP upgrade,
//! to the WebSocket decoder (RFC 7118).
//!
//! A stream is taken for SIP by its content: the first bytes delivered (or the first after a
//! gap or after something that was not SIP) must start with a SIP start line. A capture that
//! begins in the middle of a connection thus syncs on the first segment that starts a message.
//!
//! Memory is bounded: at most [`MAX_DIRECTIONS`] directions are tracked (idle ones are dropped
//! first), each holds at most [`MAX_OUT_OF_ORDER`] octets of out-of-order segments (beyond it
//! the gap is given up and the stream resyncs) and the framer holds at most one message of at
//! most [`MAX_BODY`] octets of body.

use super::detect;
use super::stream::SipFramer;
use super::websocket::{self, WsDecoder, WsEvent};
use super::PayloadRef;
use crate::trace::Transport;
use std::borrow::Cow;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Directions tracked at the same time.
pub const MAX_DIRECTIONS: usize = 8192;
/// Out-of-order octets held per direction.
pub const MAX_OUT_OF_ORDER: usize = 256 * 1024;
/// Largest Content-Length framed on a stream.
pub const MAX_BODY: usize = super::stream::MAX_BODY;
/// Idle time after which a closed direction is forgotten.
const CLOSED_IDLE: Duration = Duration::from_secs(60);
/// Idle time after which an open direction is forgotten (SIP keeps connections open long).
const OPEN_IDLE: Duration = Duration::from_secs(900);
/// Longest partial first line kept while looking for the start of a message.
const HELD_MAX: usize = 2048;
/// Segments between sweeps of idle directions.
const SWEEP_EVERY: u64 = 16 * 1024;

/// TCP header flags.
pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;

/// What one direction's bytes are taken for.
enum Mode {
    /// Looking for the start of a SIP message (or a WebSocket upgrade).
    Hunting,
    Sip(Box<SipFramer>),
    Ws(Box<WsDecoder>),
}

struct Direction {
    next: Option<u32>,
    out_of_order: Vec<(u32, Vec<u8>)>,
    ooo_bytes: usize,
    mode: Mode,
    /// While hunting: the start of a line that may become a SIP start line with the next bytes.
    held: Vec<u8>,
    last: Duration,
    closed: bool,
}

impl Direction {
    fn new(now: Duration) -> Self {
        Direction {
            next: None,
            out_of_order: Vec::new(),
            ooo_bytes: 0,
            mode: Mode::Hunting,
            held: Vec::new(),
            last: now,
            closed: false,
        }
    }
}

/// Where the messages found go, borrowed from the segment (or the bytes held for a message
/// split over segments).
pub type Emit<'e> = &'e mut dyn FnMut(Transport, PayloadRef<'_>);

/// A TCP segment as the IP layer hands it over.
pub struct Segment<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub flags: u8,
    pub payload: &'a [u8],
}

/// Counters for the summary.
#[derive(Clone, Copy, Debug, Default)]
pub struct TcpStats {
    /// Segments whose data had all been seen already.
    pub retransmissions: u64,
    /// Gaps given up (data never captured, or out-of-order data beyond the bound).
    pub gaps: u64,
    /// Directions forgotten to stay within [`MAX_DIRECTIONS`].
    pub evicted: u64,
    /// WebSocket messages that could not be read (compressed).
    pub ws_unreadable: u64,
}

/// A direction: its source and destination address and port, packed into one array so that
/// hashing it, once per segment, is one write to the hasher rather than one per field of two
/// `SocketAddr`s. The decoder's addresses have no IPv6 flow label or scope, so the IP addresses
/// and ports are all there is to compare.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct DirKey([u8; 2 * ENDPOINT]);

/// One address in a [`DirKey`]: the IP version, 16 octets of address, the port.
const ENDPOINT: usize = 1 + 16 + 2;

impl DirKey {
    fn new(src: SocketAddr, dst: SocketAddr) -> Self {
        let mut key = [0; 2 * ENDPOINT];
        for (at, a) in key.chunks_exact_mut(ENDPOINT).zip([src, dst]) {
            match a.ip() {
                IpAddr::V4(ip) => {
                    at[0] = 4;
                    at[1..5].copy_from_slice(&ip.octets());
                }
                IpAddr::V6(ip) => {
                    at[0] = 6;
                    at[1..17].copy_from_slice(&ip.octets());
                }
            }
            at[17..].copy_from_slice(&a.port().to_be_bytes());
        }
        DirKey(key)
    }
}

/// Every TCP direction in the capture.
#[derive(Default)]
pub struct TcpStreams {
    dirs: HashMap<DirKey, Direction>,
    segments: u64,
    pub stats: TcpStats,
}

impl TcpStreams {
    /// Takes one segment; SIP messages it completes go to `emit`.
    pub fn segment(&mut self, now: Duration, s: Segment<'_>, emit: Emit<'_>) {
        self.segments += 1;
        if self.segments % SWEEP_EVERY == 0 {
            self.sweep(now);
        }
        let key = DirKey::new(s.src, s.dst);
        if self.dirs.len() >= MAX_DIRECTIONS && !self.dirs.contains_key(&key) {
            self.make_room(now);
        }
        let stats = &mut self.stats;
        let dir = self.dirs.entry(key).or_insert_with(|| Direction::new(now));
        dir.last = now;
        let mut seq = s.seq;
        if s.flags & SYN != 0 {
            // A retransmitted SYN changes nothing; a new one starts a new connection.
            if dir.next != Some(seq.wrapping_add(1)) {
                *dir = Direction::new(now);
                dir.next = Some(seq.wrapping_add(1));
            }
            seq = seq.wrapping_add(1);
        }
        if !s.payload.is_empty() {
            accept(dir, stats, seq, s.payload, emit);
        }
        if s.flags & (FIN | RST) != 0 {
            dir.closed = true;
        }
    }

    /// Forgets idle directions.
    fn sweep(&mut self, now: Duration) {
        let before = self.dirs.len();
        self.dirs.retain(|_, d| {
            let idle = now.saturating_sub(d.last);
            idle <= if d.closed { CLOSED_IDLE } else { OPEN_IDLE }
        });
        self.stats.evicted += (before - self.dirs.len()) as u64;
    }

    /// Frees a quarter of the table at once (so the cost per new direction stays constant):
    /// idle directions first, then those seen longest ago.
    fn make_room(&mut self, now: Duration) {
        self.sweep(now);
        if self.dirs.len() < MAX_DIRECTIONS * 3 / 4 {
            return;
        }
        let mut times: Vec<Duration> = self.dirs.values().map(|d| d.last).collect();
        let quarter = times.len() / 4;
        let (_, &mut cut, _) = times.select_nth_unstable(quarter);
        let before = self.dirs.len();
        self.dirs.retain(|_, d| d.last > cut);
        self.stats.evicted += (before - self.dirs.len()) as u64;
    }

    /// Directions tracked now.
    pub fn directions(&self) -> usize {
        self.dirs.len()
    }
}

/// Places a segment's data in its direction's stream and delivers what is now in order.
fn accept(dir: &mut Direction, stats: &mut TcpStats, seq: u32, payload: &[u8], emit: Emit<'_>) {
    let next = *dir.next.get_or_insert(seq);
    let ahead = seq.wrapping_sub(next) as i32;
    if ahead < 0 {
        let seen = ahead.unsigned_abs() as usize;
        if seen >= payload.len() {
            stats.retransmissions += 1;
            return;
        }
        // Overlap: only the new tail is delivered.
        deliver(dir, stats, &payload[seen..], emit);
    } else if ahead == 0 {
        deliver(dir, stats, payload, emit);
    } else {
        if ahead as usize > MAX_OUT_OF_ORDER || dir.ooo_bytes + payload.len() > MAX_OUT_OF_ORDER {
            give_up_gap(dir, stats, seq);
        } else {
            dir.ooo_bytes += payload.len();
            dir.out_of_order.push((seq, payload.to_vec()));
            return;
        }
        deliver(dir, stats, payload, emit);
    }
    drain_out_of_order(dir, stats, emit);
}

/// The data before `seq` will not come: the stream resumes at `seq` and resyncs on content.
fn give_up_gap(dir: &mut Direction, stats: &mut TcpStats, seq: u32) {
    stats.gaps += 1;
    dir.next = Some(seq);
    dir.mode = Mode::Hunting;
    dir.held.clear();
    let next = seq;
    // Keep what lies at or after the new position.
    dir.out_of_order.retain(|(s, d)| {
        (s.wrapping_sub(next) as i32) >= 0
            || s.wrapping_add(d.len() as u32).wrapping_sub(next) as i32 > 0
    });
    dir.ooo_bytes = dir.out_of_order.iter().map(|(_, d)| d.len()).sum();
}

/// Delivers buffered segments that the stream has caught up with.
fn drain_out_of_order(dir: &mut Direction, stats: &mut TcpStats, emit: Emit<'_>) {
    while !dir.out_of_order.is_empty() {
        let next = dir.next.unwrap_or(0);
        let Some(i) = dir
            .out_of_order
            .iter()
            .position(|(s, _)| (s.wrapping_sub(next) as i32) <= 0)
        else {
            return;
        };
        let (s, data) = dir.out_of_order.swap_remove(i);
        dir.ooo_bytes -= data.len();
        let seen = next.wrapping_sub(s) as usize;
        if seen < data.len() {
            deliver(dir, stats, &data[seen..], emit);
        } else {
            stats.retransmissions += 1;
        }
    }
}

/// In-order bytes of one direction.
fn deliver(dir: &mut Direction, stats: &mut TcpStats, data: &[u8], emit: Emit<'_>) {
    dir.next = Some(dir.next.unwrap_or(0).wrapping_add(data.len() as u32));
    let mut data = Cow::Borrowed(data);
    // Each pass either ends or switches mode with fewer bytes left, so this terminates.
    loop {
        let rest = match &mut dir.mode {
            Mode::Hunting => match hunt(dir, data) {
                Some(rest) => rest,
                None => return,
            },
            Mode::Sip(f) => {
                match f.push(&data, &mut |m| emit(Transport::Tcp, PayloadRef::Stream(m))) {
                    None => return,
                    // Not SIP from here on: hunt for the next start line in what is left.
                    Some(rest) => {
                        dir.mode = Mode::Hunting;
                        if rest.is_empty() {
                            return;
                        }
                        Cow::Owned(rest)
                    }
                }
            }
            Mode::Ws(ws) => {
                let mut events = Vec::new();
                ws.push(&data, &mut events);
                stats.ws_unreadable += std::mem::take(&mut ws.unreadable);
                for e in events {
                    match e {
                        WsEvent::Message(bytes) => {
                            emit(Transport::Ws, PayloadRef::Datagram(&bytes));
                        }
                        WsEvent::NotWebSocket => {
                            dir.mode = Mode::Hunting;
                            return;
                        }
                    }
                }
                return;
            }
        };
        data = rest;
    }
}

/// Looks for the start of a SIP message (or a WebSocket upgrade) in `data`, after what is held
/// from the previous segment. Switches mode and returns the bytes for the new mode when found.
fn hunt<'a>(dir: &mut Direction, mut data: Cow<'a, [u8]>) -> Option<Cow<'a, [u8]>> {
    if !dir.held.is_empty() {
        let mut joined = std::mem::take(&mut dir.held);
        joined.extend_from_slice(&data);
        data = Cow::Owned(joined);
    }
    let from = detect::leading_line_breaks(&data);
    let rest = &data[from..];
    if detect::is_sip_start(rest) {
        dir.mode = Mode::Sip(Box::default());
    } else if websocket::starts_http(rest) {
        dir.mode = Mode::Ws(Box::default());
    } else {
        // A start line cut by the segment boundary: keep its beginning.
        let open_line = !rest.iter().any(|&b| b == b'\r' || b == b'\n');
        if open_line && rest.len() < HELD_MAX && !rest.is_empty() {
            dir.held = rest.to_vec();
        }
        return None;
    }
    Some(match data {
        Cow::Borrowed(d) => Cow::Borrowed(&d[from..]),
        Cow::Owned(mut d) => {
            d.drain(..from);
            Cow::Owned(d)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg<'a>(seq: u32, flags: u8, payload: &'a [u8]) -> Segment<'a> {
        Segment {
            src: "10.0.0.1:5060".parse().unwrap(),
            dst: "10.0.0.2:5060".parse().unwrap(),
            seq,
            flags,
            payload,
        }
    }

    /// The messages the segments complete, copied.
    #[derive(Default)]
    struct Found(Vec<Vec<u8>>);

    impl Found {
        fn take(&mut self, t: &mut TcpStreams, s: Segment<'_>) {
            t.segment(Duration::ZERO, s, &mut |_, p| {
                self.0.push(p.bytes().to_vec())
            });
        }
    }

    const A: &[u8] = b"OPTIONS sip:a SIP/2.0\r\nContent-Length: 3\r\n\r\nabc";
    const B: &[u8] = b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn split_reordered_retransmitted_and_packed() {
        let mut t = TcpStreams::default();
        let mut out = Found::default();
        out.take(&mut t, seg(99, SYN, b""));
        let mut stream = A.to_vec();
        stream.extend_from_slice(B);
        stream.extend_from_slice(A);
        // Second piece first, then the first, then the first again (retransmission), then an
        // overlapping last piece.
        out.take(&mut t, seg(100 + 20, 0, &stream[20..60]));
        assert!(out.0.is_empty());
        out.take(&mut t, seg(100, 0, &stream[..20]));
        out.take(&mut t, seg(100, 0, &stream[..20]));
        out.take(&mut t, seg(100 + 50, 0, &stream[50..]));
        assert_eq!(out.0.len(), 3);
        assert_eq!(out.0[1], B);
        assert_eq!(t.stats.retransmissions, 1);
    }

    #[test]
    fn non_sip_stream_is_ignored_and_sync_mid_stream() {
        let mut t = TcpStreams::default();
        let mut out = Found::default();
        let http = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let tail = b"tail of something\r\n";
        out.take(&mut t, seg(1, 0, http));
        let at = 1 + http.len() as u32;
        out.take(&mut t, seg(at, 0, tail));
        assert!(out.0.is_empty());
        out.take(&mut t, seg(at + tail.len() as u32, 0, B));
        assert_eq!(out.0.len(), 1);
    }
}
