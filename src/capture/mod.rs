//! Reading SIP out of packet captures (pcap, pcapng) as tshark does, into the same [`Trace`]
//! a live run records, so the checker and `siptest lint` run on a capture unchanged.
//!
//! The layers, each in its own file: the container ([`file`]: pcap, pcapng with per-interface
//! link type and time-stamp resolution), the link layer and tunnels ([`link`]: Ethernet, VLAN,
//! MPLS, Linux SLL/SLL2, BSD loopback, raw IP, GRE, ERSPAN, PPP), IP with fragment reassembly
//! ([`ip`]; IP-in-IP is followed here), then UDP, TCP stream reassembly ([`tcp`]), SIP over
//! WebSocket ([`websocket`]) and SCTP DATA chunks ([`sctp`]). SIP is recognised by content on
//! any port ([`detect`]), never by port number.
//!
//! Sans-IO in the sense of the style guide: [`Decoder`] takes packets (time, link type, bytes)
//! and yields messages; [`CaptureReader`] only adds the streaming file reader. It is an
//! iterator, so a caller that only counts never holds more than one message; memory stays
//! bounded by the limits of the layers (see `docs/captures.md`), not by the file size.
//!
//! Time stamps: [`TracedMessage::time`] is the time since the first packet of the file;
//! [`CaptureReader::start`] is that packet's wall-clock time. A TCP message carries the time of
//! the segment that completed it, as tshark reports reassembled messages.

pub mod detect;
pub mod fields;
pub mod file;
pub mod ip;
pub mod link;
pub mod sctp;
pub mod tcp;
pub mod websocket;

pub use file::{sniff, Format};

use crate::sip::message::Message;
use crate::sip::parse::parse_datagram;
use crate::trace::{Trace, TracedMessage, Transport};
use std::collections::VecDeque;
use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

/// What went wrong with a capture file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Not a pcap or pcapng file.
    NotACapture,
    /// The file ends in the middle of a header or record.
    Truncated,
    /// A record or block that cannot be parsed.
    Corrupt,
    /// The file could not be read.
    Io,
}

/// A capture that could not be read (completely): what, and at which file offset.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("at byte {offset}: {detail}")]
pub struct CaptureError {
    pub kind: ErrorKind,
    pub offset: usize,
    pub detail: String,
}

impl CaptureError {
    pub fn new(kind: ErrorKind, offset: usize, detail: impl Into<String>) -> Self {
        CaptureError {
            kind,
            offset,
            detail: detail.into(),
        }
    }
}

/// Counters over a whole capture.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Stats {
    pub packets: u64,
    /// Captured octets of all packets.
    pub bytes: u64,
    /// SIP messages found.
    pub messages: u64,
    /// Packets with no IP packet inside that siptest can find (other link types, ARP, ...).
    pub not_ip: u64,
    pub ip_reassembled: u64,
    /// IP datagrams whose fragments never all arrived (or were inconsistent).
    pub ip_incomplete: u64,
    pub tcp_retransmissions: u64,
    pub tcp_gaps: u64,
    /// TCP directions forgotten to bound memory.
    pub tcp_evicted: u64,
    /// Compressed WebSocket messages (not readable).
    pub ws_unreadable: u64,
}

/// What a message was found as: a datagram-like unit not parsed yet (UDP, SCTP, WebSocket:
/// parsed on demand with [`parse_datagram`]) or a message the stream framer already parsed.
#[derive(Clone, Debug)]
pub enum Payload {
    Datagram(Vec<u8>),
    Framed(Message),
}

impl Payload {
    /// The message's bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Payload::Datagram(b) => b,
            Payload::Framed(m) => m.as_bytes(),
        }
    }

    /// The parsed message (a datagram is parsed now, RFC 3261 §18.3 framing).
    pub fn into_message(self) -> Message {
        match self {
            Payload::Datagram(b) => parse_datagram(&b).message,
            Payload::Framed(m) => m,
        }
    }
}

/// A SIP message found in a capture, before parsing: for callers that only count or look at a
/// few headers ([`fields`]) and want to skip the full parse.
#[derive(Clone, Debug)]
pub struct RawMessage {
    pub time: Duration,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub transport: Transport,
    pub payload: Payload,
}

impl RawMessage {
    pub fn into_traced(self) -> TracedMessage {
        TracedMessage {
            time: self.time,
            src: self.src,
            dst: self.dst,
            transport: self.transport,
            message: self.payload.into_message(),
        }
    }
}

/// IP protocol numbers.
const PROTO_IPIP: u8 = 4;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_IPV6: u8 = 41;
const PROTO_GRE: u8 = 47;
const PROTO_SCTP: u8 = 132;

/// Packets between expiries of stale IP fragments.
const EXPIRE_EVERY: u64 = 4096;

/// Packets in, SIP messages out.
#[derive(Default)]
pub struct Decoder {
    start: Option<Duration>,
    defrag: ip::Defrag,
    tcp: tcp::TcpStreams,
    sctp: sctp::SctpStreams,
    out: VecDeque<RawMessage>,
    scratch: Vec<(Transport, Payload)>,
    chunks: Vec<Vec<u8>>,
    stats: Stats,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one packet: its wall-clock time, LINKTYPE_* and captured bytes.
    pub fn packet(&mut self, time: Duration, link: u32, data: &[u8]) {
        self.stats.packets += 1;
        self.stats.bytes += data.len() as u64;
        let start = *self.start.get_or_insert(time);
        let now = time.saturating_sub(start);
        if self.stats.packets % EXPIRE_EVERY == 0 {
            self.defrag.expire(now);
        }
        match link::to_ip(link, data) {
            Some(ip) => self.ip(now, ip, 0),
            None => self.stats.not_ip += 1,
        }
    }

    /// The next message found, in the order found.
    pub fn pop(&mut self) -> Option<TracedMessage> {
        self.out.pop_front().map(RawMessage::into_traced)
    }

    /// The next message found, not parsed yet.
    pub fn pop_raw(&mut self) -> Option<RawMessage> {
        self.out.pop_front()
    }

    /// Wall-clock time of the first packet.
    pub fn start(&self) -> Option<Duration> {
        self.start
    }

    pub fn stats(&self) -> Stats {
        let mut s = self.stats;
        s.ip_reassembled = self.defrag.reassembled;
        s.ip_incomplete = self.defrag.dropped + self.defrag.pending() as u64;
        s.tcp_retransmissions = self.tcp.stats.retransmissions;
        s.tcp_gaps = self.tcp.stats.gaps;
        s.tcp_evicted = self.tcp.stats.evicted;
        s.ws_unreadable = self.tcp.stats.ws_unreadable;
        s
    }

    fn ip(&mut self, now: Duration, data: &[u8], depth: usize) {
        if depth >= link::MAX_DEPTH {
            return;
        }
        let Some(p) = ip::parse(data) else {
            self.stats.not_ip += 1;
            return;
        };
        match p.fragment {
            Some(frag) => {
                if let Some(whole) = self.defrag.add(now, &p, frag) {
                    self.transport(now, p.src, p.dst, p.proto, &whole, depth);
                }
            }
            None => self.transport(now, p.src, p.dst, p.proto, p.payload, depth),
        }
    }

    fn transport(
        &mut self,
        now: Duration,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        data: &[u8],
        depth: usize,
    ) {
        match proto {
            PROTO_IPIP | PROTO_IPV6 => self.ip(now, data, depth + 1),
            PROTO_GRE => {
                if let Some(inner) = link::gre(data, depth) {
                    self.ip(now, inner, depth + 1);
                }
            }
            PROTO_UDP => self.udp(now, src, dst, data),
            PROTO_TCP => self.tcp(now, src, dst, data),
            PROTO_SCTP => self.sctp(now, src, dst, data),
            _ => {}
        }
    }

    /// RFC 768: ports, length, checksum, then the datagram. One datagram holds one message
    /// (RFC 3261 §18.3); octets after its Content-Length are kept aside by the parser.
    fn udp(&mut self, now: Duration, src: IpAddr, dst: IpAddr, data: &[u8]) {
        let Some(h) = data.get(..8) else { return };
        let sport = u16::from_be_bytes([h[0], h[1]]);
        let dport = u16::from_be_bytes([h[2], h[3]]);
        let len = usize::from(u16::from_be_bytes([h[4], h[5]]));
        // A length shorter than the header or longer than the packet (snap length, a jumbo
        // datagram's 0) falls back to what was captured.
        let end = if (8..=data.len()).contains(&len) {
            len
        } else {
            data.len()
        };
        let payload = &data[8..end];
        let payload = &payload[detect::leading_line_breaks(payload)..];
        if detect::is_sip_start(payload) {
            let p = Payload::Datagram(payload.to_vec());
            self.emit(now, (src, sport), (dst, dport), Transport::Udp, p);
        }
    }

    /// RFC 9293 §3.1: the header's data offset says where the payload starts.
    fn tcp(&mut self, now: Duration, src: IpAddr, dst: IpAddr, data: &[u8]) {
        let Some(h) = data.get(..20) else { return };
        let off = usize::from(h[12] >> 4) * 4;
        let Some(payload) = data.get(off.max(20)..) else {
            return;
        };
        let seg = tcp::Segment {
            src: SocketAddr::new(src, u16::from_be_bytes([h[0], h[1]])),
            dst: SocketAddr::new(dst, u16::from_be_bytes([h[2], h[3]])),
            seq: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
            flags: h[13],
            payload,
        };
        let (s, d) = (seg.src, seg.dst);
        let mut found = std::mem::take(&mut self.scratch);
        self.tcp.segment(now, seg, &mut found);
        for (transport, m) in found.drain(..) {
            self.emit(now, (s.ip(), s.port()), (d.ip(), d.port()), transport, m);
        }
        self.scratch = found;
    }

    fn sctp(&mut self, now: Duration, src: IpAddr, dst: IpAddr, data: &[u8]) {
        let Some((sport, dport)) = sctp::ports(data) else {
            return;
        };
        let (s, d) = (SocketAddr::new(src, sport), SocketAddr::new(dst, dport));
        let mut chunks = std::mem::take(&mut self.chunks);
        self.sctp.packet(s, d, data, &mut chunks);
        for m in chunks.drain(..) {
            let m = &m[detect::leading_line_breaks(&m)..];
            if detect::is_sip_start(m) {
                let p = Payload::Datagram(m.to_vec());
                self.emit(now, (src, sport), (dst, dport), Transport::Sctp, p);
            }
        }
        self.chunks = chunks;
    }

    fn emit(
        &mut self,
        time: Duration,
        src: (IpAddr, u16),
        dst: (IpAddr, u16),
        transport: Transport,
        payload: Payload,
    ) {
        self.stats.messages += 1;
        self.out.push_back(RawMessage {
            time,
            src: SocketAddr::new(src.0, src.1),
            dst: SocketAddr::new(dst.0, dst.1),
            transport,
            payload,
        });
    }
}

/// Streams the SIP messages of a capture file. Iterate it; afterwards [`CaptureReader::error`]
/// says whether the file was read to its end.
pub struct CaptureReader {
    source: file::PacketSource,
    decoder: Decoder,
    error: Option<CaptureError>,
    done: bool,
}

impl CaptureReader {
    /// Reads the file header from `input`. Fails when it is not a pcap or pcapng stream.
    pub fn new(input: impl Read + Send + 'static) -> Result<Self, CaptureError> {
        Ok(CaptureReader {
            source: file::PacketSource::new(Box::new(input))?,
            decoder: Decoder::new(),
            error: None,
            done: false,
        })
    }

    /// Opens a capture file.
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let f = std::fs::File::open(path)
            .map_err(|e| CaptureError::new(ErrorKind::Io, 0, format!("cannot open: {e}")))?;
        Self::new(f)
    }

    /// Why the file could not be read to its end, once the iterator is exhausted.
    pub fn error(&self) -> Option<&CaptureError> {
        self.error.as_ref()
    }

    /// Wall-clock time of the first packet (since the Unix epoch).
    pub fn start(&self) -> Option<Duration> {
        self.decoder.start()
    }

    pub fn stats(&self) -> Stats {
        self.decoder.stats()
    }
}

impl CaptureReader {
    /// The next message without parsing it (the iterator parses every message).
    pub fn next_raw(&mut self) -> Option<RawMessage> {
        loop {
            if let Some(m) = self.decoder.pop_raw() {
                return Some(m);
            }
            if self.done {
                return None;
            }
            let decoder = &mut self.decoder;
            let mut each = |p: file::Packet<'_>| decoder.packet(p.time, p.link, p.data);
            match self.source.next_packet(&mut each) {
                Ok(true) => {}
                Ok(false) => self.done = true,
                Err(e) => {
                    self.error = Some(e);
                    self.done = true;
                }
            }
        }
    }
}

impl Iterator for CaptureReader {
    type Item = TracedMessage;

    fn next(&mut self) -> Option<TracedMessage> {
        self.next_raw().map(RawMessage::into_traced)
    }
}

/// A whole capture read into memory.
#[derive(Debug)]
pub struct Capture {
    pub trace: Trace,
    /// Wall-clock time of the first packet.
    pub start: Option<Duration>,
    pub stats: Stats,
    /// Set when the file could not be read to its end; `trace` holds what came before.
    pub error: Option<CaptureError>,
}

impl Capture {
    fn collect(mut r: CaptureReader) -> Capture {
        let messages: Vec<TracedMessage> = r.by_ref().collect();
        Capture {
            trace: Trace { messages },
            start: r.start(),
            stats: r.stats(),
            error: r.error,
        }
    }
}

/// Reads every SIP message of a capture file. `Err` only when the file cannot be opened or is
/// not a capture; a truncated or corrupt file gives what could be read and `error`.
pub fn read_file(path: &Path) -> Result<Capture, CaptureError> {
    CaptureReader::open(path).map(Capture::collect)
}

/// [`read_file`] over bytes in memory.
pub fn read_bytes(bytes: &[u8]) -> Result<Capture, CaptureError> {
    CaptureReader::new(std::io::Cursor::new(bytes.to_vec())).map(Capture::collect)
}
