//! Reading SIP out of packet captures (pcap, pcapng) as tshark does, into the same [`Trace`]
//! a live run records, so the checker and `siptest lint` run on a capture unchanged.
//!
//! The layers, each in its own file: the container ([`file`](mod@file): pcap, pcapng with
//! per-interface link type and time-stamp resolution), the link layer and tunnels ([`link`]:
//! Ethernet, VLAN, MPLS, Linux SLL/SLL2, BSD loopback, raw IP, GRE, ERSPAN, PPP), IP with
//! fragment reassembly ([`ip`]; IP-in-IP is followed here), then UDP, TCP stream reassembly
//! ([`tcp`]) with SIP framing on the stream ([`stream`]), SIP over WebSocket ([`websocket`]) and
//! SCTP DATA chunks ([`sctp`]). SIP is recognised by content on any port ([`detect`]), never by
//! port number. [`Decoder`] (`decoder.rs`) runs the layers.
//!
//! Sans-IO in the sense of the style guide: [`Decoder`] takes packets (time, link type, bytes)
//! and yields messages; [`CaptureReader`] only adds the streaming file reader. It is an
//! iterator, so a caller that only counts never holds more than one message, and
//! [`CaptureReader::for_each_raw`] hands each message over unparsed and uncopied ([`RawRef`]),
//! for a caller that only summarises. Memory stays bounded by the limits of the layers (see
//! `docs/captures.md`), not by the file size.
//!
//! Time stamps: [`TracedMessage::time`] is the time since the first packet of the file;
//! [`CaptureReader::start`] is that packet's wall-clock time. A TCP message carries the time of
//! the segment that completed it, as tshark reports reassembled messages.

mod decoder;
pub mod detect;
pub mod fields;
pub mod file;
pub mod ip;
pub mod link;
mod raw;
pub mod sctp;
pub mod stream;
pub mod tcp;
pub mod websocket;

pub use decoder::Decoder;
pub use file::{sniff, Format};
pub use raw::{Payload, PayloadRef, RawMessage, RawRef};

use crate::trace::{Trace, TracedMessage};
use std::io::Read;
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

/// Streams the SIP messages of a capture file. Iterate it; afterwards [`CaptureReader::error`]
/// says whether the file was read to its end.
pub struct CaptureReader {
    packets: Packets,
    decoder: Decoder,
}

/// The file's packets, and how reading them ended.
struct Packets {
    source: file::PacketSource,
    error: Option<CaptureError>,
    done: bool,
}

impl Packets {
    /// Hands the next packet to `f`, or notes the end of the file (and why).
    fn next(&mut self, f: &mut dyn FnMut(file::Packet<'_>)) {
        match self.source.next_packet(f) {
            Ok(true) => {}
            Ok(false) => self.done = true,
            Err(e) => {
                self.error = Some(e);
                self.done = true;
            }
        }
    }
}

impl CaptureReader {
    /// Reads the file header from `input`. Fails when it is not a pcap or pcapng stream.
    pub fn new(input: impl Read + Send + 'static) -> Result<Self, CaptureError> {
        Ok(CaptureReader {
            packets: Packets {
                source: file::PacketSource::new(Box::new(input))?,
                error: None,
                done: false,
            },
            decoder: Decoder::new(),
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
        self.packets.error.as_ref()
    }

    /// Wall-clock time of the first packet (since the Unix epoch).
    pub fn start(&self) -> Option<Duration> {
        self.decoder.start()
    }

    pub fn stats(&self) -> Stats {
        self.decoder.stats()
    }

    /// The next message without parsing it (the iterator parses every message).
    pub fn next_raw(&mut self) -> Option<RawMessage> {
        loop {
            if let Some(m) = self.decoder.pop_raw() {
                return Some(m);
            }
            if self.packets.done {
                return None;
            }
            let decoder = &mut self.decoder;
            self.packets
                .next(&mut |p| decoder.packet(p.time, p.link, p.data));
        }
    }

    /// Hands every message left in the file to `each`, in the order found, not parsed and not
    /// copied: its bytes are borrowed from the packet (or TCP segment) they were found in. The
    /// fastest way through a capture for a caller that only looks at a few headers.
    ///
    /// It stays on the calling thread: reading and decoding on a second thread, with messages
    /// handed over in batches, was measured on the capture benchmark; it took 20 % more CPU
    /// time (the copies, caches warmed on one core and read on the other) and was slower
    /// whenever the machine had no idle core.
    pub fn for_each_raw(&mut self, mut each: impl FnMut(RawRef<'_>)) {
        while let Some(m) = self.decoder.pop_raw() {
            each(m.borrowed());
        }
        let decoder = &mut self.decoder;
        while !self.packets.done {
            self.packets
                .next(&mut |p| decoder.packet_with(p.time, p.link, p.data, &mut each));
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
            error: r.packets.error,
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
