//! Classic pcap files from a [`Trace`], for Wireshark, tshark and sngrep.
//!
//! The file format is libpcap's (<https://www.tcpdump.org/manpages/pcap-savefile.5.html>,
//! draft-ietf-opsawg-pcap): a 24-octet global header whose magic says the byte order and the
//! time-stamp resolution (`a1b2c3d4` microseconds, `a1b23c4d` nanoseconds), then one record per
//! packet. Records here are little-endian.
//!
//! A trace holds SIP messages, not packets, so the headers around each message are made up:
//! Ethernet II (link type 1) or none (link type RAW, 101), then IPv4 or IPv6, then UDP or TCP,
//! with correct lengths and checksums. For TCP each direction of a connection keeps its own
//! sequence number (so Wireshark reassembles messages split over segments or packed together)
//! and the first packet of a connection is preceded by a synthesised three-way handshake at
//! the same time stamp, so tools see who opened it. TLS, SCTP and WebSocket messages are written
//! as TCP carrying the plain SIP text. A UDP message larger than an IPv4 datagram can carry
//! (65507 octets) is cut to that size in the file.

mod packet;
#[cfg(test)]
mod tests;

pub use packet::internet_checksum;

use crate::trace::{Trace, Transport};
use packet::{Endpoints, MAX_TCP_SEGMENT, MAX_UDP_PAYLOAD, PROTO_TCP, PROTO_UDP};
use std::collections::HashMap;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Microseconds magic.
pub const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// Nanoseconds magic.
pub const MAGIC_NANOS: u32 = 0xa1b2_3c4d;

/// The link layer written before each IP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    /// LINKTYPE_ETHERNET (1): synthesised MAC addresses.
    Ethernet,
    /// LINKTYPE_RAW (101): the packet starts with the IP header.
    Raw,
}

impl LinkType {
    pub fn code(self) -> u32 {
        match self {
            LinkType::Ethernet => 1,
            LinkType::Raw => 101,
        }
    }
}

/// Time-stamp resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    Micros,
    Nanos,
}

/// How the file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PcapOptions {
    pub link: LinkType,
    pub precision: Precision,
    /// Wall-clock time of trace time zero, as a duration since the Unix epoch.
    pub epoch_offset: Duration,
    /// Largest number of octets kept per packet.
    pub snaplen: u32,
}

impl Default for PcapOptions {
    fn default() -> Self {
        PcapOptions {
            link: LinkType::Ethernet,
            precision: Precision::Micros,
            epoch_offset: Duration::ZERO,
            snaplen: 262_144,
        }
    }
}

impl PcapOptions {
    /// Options whose time stamps start at `start` (the moment the run began).
    pub fn starting_at(start: SystemTime) -> Self {
        PcapOptions {
            epoch_offset: start.duration_since(UNIX_EPOCH).unwrap_or_default(),
            ..Self::default()
        }
    }
}

/// Per-direction TCP state: the next sequence number to send.
#[derive(Clone, Copy, Debug)]
struct Flow {
    next_seq: u32,
}

/// Writes packets to a pcap stream.
pub struct PcapWriter<W: Write> {
    out: W,
    opts: PcapOptions,
    flows: HashMap<(SocketAddr, SocketAddr), Flow>,
    ip_id: u16,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header.
    pub fn new(mut out: W, opts: PcapOptions) -> io::Result<Self> {
        let magic = match opts.precision {
            Precision::Micros => MAGIC_MICROS,
            Precision::Nanos => MAGIC_NANOS,
        };
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&magic.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        h.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        h.extend_from_slice(&opts.snaplen.to_le_bytes());
        h.extend_from_slice(&opts.link.code().to_le_bytes());
        out.write_all(&h)?;
        Ok(PcapWriter {
            out,
            opts,
            flows: HashMap::new(),
            ip_id: 0,
        })
    }

    /// Writes one message as the packets that would have carried it.
    pub fn write_message(
        &mut self,
        time: Duration,
        src: SocketAddr,
        dst: SocketAddr,
        transport: Transport,
        payload: &[u8],
    ) -> io::Result<()> {
        let ends = Endpoints { src, dst };
        if transport == Transport::Udp {
            let payload = &payload[..payload.len().min(MAX_UDP_PAYLOAD)];
            let mut seg = packet::udp_header(&ends, payload);
            seg.extend_from_slice(payload);
            return self.write_ip(time, &ends, PROTO_UDP, &seg);
        }
        if !self.flows.contains_key(&(src, dst)) {
            self.handshake(time, &ends)?;
        }
        for chunk in payload.chunks(MAX_TCP_SEGMENT) {
            self.write_tcp(time, &ends, packet::TCP_PSH | packet::TCP_ACK, chunk)?;
        }
        Ok(())
    }

    /// Every message of `trace`, in order.
    pub fn write_trace(&mut self, trace: &Trace) -> io::Result<()> {
        for m in &trace.messages {
            self.write_message(m.time, m.src, m.dst, m.transport, m.message.as_bytes())?;
        }
        Ok(())
    }

    /// The underlying writer (what was written so far, for a `Vec<u8>`).
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    /// SYN, SYN-ACK, ACK (RFC 9293 §3.5) for a connection first seen from `ends.src`. The
    /// initial sequence numbers are fixed per direction so the output is reproducible.
    fn handshake(&mut self, time: Duration, ends: &Endpoints) -> io::Result<()> {
        let back = Endpoints {
            src: ends.dst,
            dst: ends.src,
        };
        let isn = |e: &Endpoints| 1000 + u32::from(e.src.port()) * 7;
        self.flows.insert(
            (ends.src, ends.dst),
            Flow {
                next_seq: isn(ends),
            },
        );
        self.flows.insert(
            (back.src, back.dst),
            Flow {
                next_seq: isn(&back),
            },
        );
        self.write_tcp(time, ends, packet::TCP_SYN, &[])?;
        self.write_tcp(time, &back, packet::TCP_SYN | packet::TCP_ACK, &[])?;
        self.write_tcp(time, ends, packet::TCP_ACK, &[])
    }

    /// One TCP segment; SYN and FIN count as one octet of sequence space.
    fn write_tcp(
        &mut self,
        time: Duration,
        ends: &Endpoints,
        flags: u8,
        data: &[u8],
    ) -> io::Result<()> {
        let seq = self
            .flows
            .get(&(ends.src, ends.dst))
            .map_or(0, |f| f.next_seq);
        let ack = self
            .flows
            .get(&(ends.dst, ends.src))
            .map_or(0, |f| f.next_seq);
        let syn = flags & packet::TCP_SYN != 0;
        // The SYN itself carries no ACK number.
        let ack = if flags & packet::TCP_ACK != 0 { ack } else { 0 };
        let used = data.len() as u32 + u32::from(syn || flags & packet::TCP_FIN != 0);
        if let Some(f) = self.flows.get_mut(&(ends.src, ends.dst)) {
            f.next_seq = f.next_seq.wrapping_add(used);
        }
        let mut seg = packet::tcp_header(ends, seq, ack, flags, data);
        seg.extend_from_slice(data);
        self.write_ip(time, ends, PROTO_TCP, &seg)
    }

    fn write_ip(
        &mut self,
        time: Duration,
        ends: &Endpoints,
        proto: u8,
        seg: &[u8],
    ) -> io::Result<()> {
        self.ip_id = self.ip_id.wrapping_add(1);
        let mut pkt = Vec::with_capacity(14 + 40 + seg.len());
        if self.opts.link == LinkType::Ethernet {
            pkt.extend_from_slice(&packet::ethernet_header(ends));
        }
        pkt.extend_from_slice(&packet::ip_header(ends, proto, seg.len(), self.ip_id));
        pkt.extend_from_slice(seg);
        self.write_record(time, &pkt)
    }

    fn write_record(&mut self, time: Duration, pkt: &[u8]) -> io::Result<()> {
        let t = self.opts.epoch_offset + time;
        let frac = match self.opts.precision {
            Precision::Micros => t.subsec_micros(),
            Precision::Nanos => t.subsec_nanos(),
        };
        let incl = pkt.len().min(self.opts.snaplen as usize);
        let mut h = Vec::with_capacity(16);
        h.extend_from_slice(&(t.as_secs() as u32).to_le_bytes());
        h.extend_from_slice(&frac.to_le_bytes());
        h.extend_from_slice(&(incl as u32).to_le_bytes());
        h.extend_from_slice(&(pkt.len() as u32).to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(&pkt[..incl])
    }
}

/// The pcap file of a trace, in memory.
pub fn to_bytes(trace: &Trace, opts: PcapOptions) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), opts).expect("writing to a Vec cannot fail");
    w.write_trace(trace).expect("writing to a Vec cannot fail");
    w.finish().expect("writing to a Vec cannot fail")
}

/// Writes the pcap file of a trace to `path`.
pub fn write_file(path: &Path, trace: &Trace, opts: PcapOptions) -> io::Result<()> {
    let file = io::BufWriter::new(std::fs::File::create(path)?);
    let mut w = PcapWriter::new(file, opts)?;
    w.write_trace(trace)?;
    w.finish()?;
    Ok(())
}
