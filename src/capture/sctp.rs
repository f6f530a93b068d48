//! SIP over SCTP (RFC 4168): each SIP message is one SCTP user message, carried in DATA chunks
//! (RFC 4960 §3.3.1; I-DATA of RFC 8260 §2.1 likewise).
//!
//! The SCTP packet is a 12-octet common header (§3.1) followed by chunks, each `type, flags,
//! length` and padded to a multiple of 4 octets (§3.2). A DATA chunk's flags say whether it
//! is the beginning (B) and/or end (E) of a user message; a message in several chunks is put
//! back together per (association direction, stream), bounded by [`MAX_MESSAGE`] and
//! [`MAX_PARTIAL`].

use std::collections::HashMap;
use std::net::SocketAddr;

/// Largest user message reassembled.
pub const MAX_MESSAGE: usize = 1 << 20;
/// Partial messages held at the same time.
pub const MAX_PARTIAL: usize = 1024;

const CHUNK_DATA: u8 = 0;
const CHUNK_IDATA: u8 = 64;

/// Partially received user messages.
#[derive(Default)]
pub struct SctpStreams {
    partial: HashMap<(SocketAddr, SocketAddr, u16), Vec<u8>>,
}

/// The SCTP ports of a packet.
pub fn ports(packet: &[u8]) -> Option<(u16, u16)> {
    Some((
        u16::from_be_bytes([*packet.first()?, *packet.get(1)?]),
        u16::from_be_bytes([*packet.get(2)?, *packet.get(3)?]),
    ))
}

impl SctpStreams {
    /// The complete user messages in one SCTP packet from `src` to `dst`.
    pub fn packet(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        packet: &[u8],
        out: &mut Vec<Vec<u8>>,
    ) {
        let mut pos = 12;
        while let Some(hdr) = packet.get(pos..pos + 4) {
            let (kind, flags) = (hdr[0], hdr[1]);
            let len = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
            if len < 4 {
                return;
            }
            let chunk = &packet[pos..(pos + len).min(packet.len())];
            // DATA: TSN, stream id, stream sequence number, PPID, then user data (16 octets of
            // header). I-DATA: TSN, stream id, reserved, MID, PPID/FSN (20 octets).
            let (header, stream) = match kind {
                CHUNK_DATA => (16, chunk.get(8..10)),
                CHUNK_IDATA => (20, chunk.get(8..10)),
                _ => (0, None),
            };
            if let (Some(stream), Some(data)) = (stream, chunk.get(header..)) {
                let stream = u16::from_be_bytes([stream[0], stream[1]]);
                self.data(src, dst, stream, flags, data, out);
            }
            pos += (len + 3) & !3;
        }
    }

    fn data(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        stream: u16,
        flags: u8,
        data: &[u8],
        out: &mut Vec<Vec<u8>>,
    ) {
        let (begin, end) = (flags & 0x02 != 0, flags & 0x01 != 0);
        let key = (src, dst, stream);
        if begin && end {
            out.push(data.to_vec());
            return;
        }
        if begin {
            if self.partial.len() >= MAX_PARTIAL {
                self.partial.clear();
            }
            self.partial.insert(key, data.to_vec());
            return;
        }
        let Some(buf) = self.partial.get_mut(&key) else {
            return;
        };
        if buf.len() + data.len() > MAX_MESSAGE {
            self.partial.remove(&key);
            return;
        }
        buf.extend_from_slice(data);
        if end {
            if let Some(m) = self.partial.remove(&key) {
                out.push(m);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(flags: u8, data: &[u8]) -> Vec<u8> {
        let mut c = vec![CHUNK_DATA, flags];
        c.extend_from_slice(&((16 + data.len()) as u16).to_be_bytes());
        c.extend_from_slice(&[0, 0, 0, 1, 0, 7, 0, 0, 0, 0, 0, 0]);
        c.extend_from_slice(data);
        while c.len() % 4 != 0 {
            c.push(0);
        }
        c
    }

    #[test]
    fn whole_and_fragmented_messages() {
        let a: SocketAddr = "10.0.0.1:5060".parse().unwrap();
        let b: SocketAddr = "10.0.0.2:5060".parse().unwrap();
        let mut s = SctpStreams::default();
        let mut out = Vec::new();
        let mut p = vec![0u8; 12];
        p.extend(chunk(3, b"one"));
        p.extend(chunk(2, b"tw"));
        s.packet(a, b, &p, &mut out);
        let mut q = vec![0u8; 12];
        q.extend(chunk(1, b"o"));
        s.packet(a, b, &q, &mut out);
        assert_eq!(out, vec![b"one".to_vec(), b"two".to_vec()]);
    }
}
