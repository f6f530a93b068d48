//! Packets in, SIP messages out: the layers below the container, from the link layer to SIP.

use super::raw::{PayloadRef, RawMessage, RawRef};
use super::{detect, ip, link, sctp, tcp, Stats};
use crate::trace::{TracedMessage, Transport};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// IP protocol numbers.
const PROTO_IPIP: u8 = 4;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_IPV6: u8 = 41;
const PROTO_GRE: u8 = 47;
const PROTO_SCTP: u8 = 132;

/// Packets between expiries of stale IP fragments.
const EXPIRE_EVERY: u64 = 4096;

/// Packets in, SIP messages out: either handed over as found ([`Decoder::packet_with`], borrowed
/// from the packet) or queued ([`Decoder::packet`], then [`Decoder::pop`]).
#[derive(Default)]
pub struct Decoder {
    start: Option<Duration>,
    defrag: ip::Defrag,
    tcp: tcp::TcpStreams,
    sctp: sctp::SctpStreams,
    out: VecDeque<RawMessage>,
    chunks: Vec<Vec<u8>>,
    stats: Stats,
}

/// Where the messages of the packet being decoded go, with its time.
struct Sink<'s> {
    /// Time since the first packet.
    now: Duration,
    each: &'s mut dyn FnMut(RawRef<'_>),
    /// Messages found in the packet.
    found: u64,
}

impl Sink<'_> {
    fn emit(&mut self, src: SocketAddr, dst: SocketAddr, t: Transport, payload: PayloadRef<'_>) {
        self.found += 1;
        (self.each)(RawRef {
            time: self.now,
            src,
            dst,
            transport: t,
            payload,
        });
    }
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one packet: its wall-clock time, LINKTYPE_* and captured bytes. The messages it
    /// completes wait for [`Decoder::pop`].
    pub fn packet(&mut self, time: Duration, link: u32, data: &[u8]) {
        let mut out = std::mem::take(&mut self.out);
        self.packet_with(time, link, data, &mut |m| out.push_back(m.to_raw_message()));
        self.out = out;
    }

    /// Takes one packet and hands each message it completes to `each`, in the order found,
    /// without copying it.
    pub fn packet_with(
        &mut self,
        time: Duration,
        link: u32,
        data: &[u8],
        each: &mut dyn FnMut(RawRef<'_>),
    ) {
        self.stats.packets += 1;
        self.stats.bytes += data.len() as u64;
        let start = *self.start.get_or_insert(time);
        let now = time.saturating_sub(start);
        if self.stats.packets % EXPIRE_EVERY == 0 {
            self.defrag.expire(now);
        }
        let mut sink = Sink {
            now,
            each,
            found: 0,
        };
        match link::to_ip(link, data) {
            Some(ip) => self.ip(&mut sink, ip, 0),
            None => self.stats.not_ip += 1,
        }
        self.stats.messages += sink.found;
    }

    /// The next message queued by [`Decoder::packet`], in the order found.
    pub fn pop(&mut self) -> Option<TracedMessage> {
        self.out.pop_front().map(RawMessage::into_traced)
    }

    /// The next message queued, not parsed yet.
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

    fn ip(&mut self, sink: &mut Sink<'_>, data: &[u8], depth: usize) {
        if depth >= link::MAX_DEPTH {
            return;
        }
        let Some(p) = ip::parse(data) else {
            self.stats.not_ip += 1;
            return;
        };
        match p.fragment {
            Some(frag) => {
                if let Some(whole) = self.defrag.add(sink.now, &p, frag) {
                    self.transport(sink, p.src, p.dst, p.proto, &whole, depth);
                }
            }
            None => self.transport(sink, p.src, p.dst, p.proto, p.payload, depth),
        }
    }

    fn transport(
        &mut self,
        sink: &mut Sink<'_>,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        data: &[u8],
        depth: usize,
    ) {
        match proto {
            PROTO_IPIP | PROTO_IPV6 => self.ip(sink, data, depth + 1),
            PROTO_GRE => {
                if let Some(inner) = link::gre(data, depth) {
                    self.ip(sink, inner, depth + 1);
                }
            }
            PROTO_UDP => self.udp(sink, src, dst, data),
            PROTO_TCP => self.tcp(sink, src, dst, data),
            PROTO_SCTP => self.sctp(sink, src, dst, data),
            _ => {}
        }
    }

    /// RFC 768: ports, length, checksum, then the datagram. One datagram holds one message
    /// (RFC 3261 §18.3); octets after its Content-Length are kept aside by the parser.
    fn udp(&mut self, sink: &mut Sink<'_>, src: IpAddr, dst: IpAddr, data: &[u8]) {
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
            let (s, d) = (SocketAddr::new(src, sport), SocketAddr::new(dst, dport));
            let p = PayloadRef::Datagram(payload);
            sink.emit(s, d, Transport::Udp, p);
        }
    }

    /// RFC 9293 §3.1: the header's data offset says where the payload starts.
    fn tcp(&mut self, sink: &mut Sink<'_>, src: IpAddr, dst: IpAddr, data: &[u8]) {
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
        let now = sink.now;
        self.tcp
            .segment(now, seg, &mut |t, p| sink.emit(s, d, t, p));
    }

    fn sctp(&mut self, sink: &mut Sink<'_>, src: IpAddr, dst: IpAddr, data: &[u8]) {
        let Some((sport, dport)) = sctp::ports(data) else {
            return;
        };
        let (s, d) = (SocketAddr::new(src, sport), SocketAddr::new(dst, dport));
        let mut chunks = std::mem::take(&mut self.chunks);
        self.sctp.packet(s, d, data, &mut chunks);
        for m in chunks.drain(..) {
            let m = &m[detect::leading_line_breaks(&m)..];
            if detect::is_sip_start(m) {
                let p = PayloadRef::Datagram(m);
                sink.emit(s, d, Transport::Sctp, p);
            }
        }
        self.chunks = chunks;
    }
}
