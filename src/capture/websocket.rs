//! SIP over WebSocket (RFC 7118): after the HTTP/1.1 upgrade handshake (RFC 6455 §4, with
//! `Sec-WebSocket-Protocol: sip`), each WebSocket message carries exactly one SIP message
//! (RFC 7118 §5.2), as a text or binary message, possibly fragmented into several frames.
//!
//! Frames are decoded per RFC 6455 §5.2: FIN, RSV1-3, opcode, MASK, a 7-, 16- or 64-bit payload
//! length, a 4-octet masking key when MASK is set (every client-to-server frame, §5.3: octet i is
//! XORed with key[i mod 4]), then the payload. Control frames (close, ping, pong) are skipped.
//! Compressed messages (RSV1, permessage-deflate, RFC 7692) cannot be read and are counted.

use super::detect;

/// Largest WebSocket message assembled.
pub const MAX_MESSAGE: usize = 1 << 20;
/// Largest HTTP upgrade header section accepted.
const MAX_HANDSHAKE: usize = 16 * 1024;

/// Whether the stream starts with an HTTP request or response (a possible upgrade).
pub fn starts_http(data: &[u8]) -> bool {
    data.starts_with(b"GET ") || data.starts_with(b"HTTP/1.1 101")
}

/// One direction of a WebSocket connection.
#[derive(Debug, Default)]
pub struct WsDecoder {
    buf: Vec<u8>,
    /// The HTTP upgrade is behind us.
    open: bool,
    /// Payload of the message being assembled from fragments.
    message: Vec<u8>,
    /// The message being assembled is compressed (skipped).
    compressed: bool,
    /// Messages that could not be read (compressed).
    pub unreadable: u64,
}

/// What the decoder made of the bytes.
pub enum WsEvent {
    /// A complete WebSocket message.
    Message(Vec<u8>),
    /// The stream is not (or no longer) a WebSocket: the caller goes back to looking for SIP.
    NotWebSocket,
}

impl WsDecoder {
    /// Feeds stream bytes; complete messages are handed to `out`.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<WsEvent>) {
        self.buf.extend_from_slice(data);
        if !self.open {
            let Some(end) = crate::sip::framing::find_head_end(&self.buf) else {
                if self.buf.len() > MAX_HANDSHAKE {
                    out.push(WsEvent::NotWebSocket);
                }
                return;
            };
            let head = String::from_utf8_lossy(&self.buf[..end]).to_ascii_lowercase();
            if !head.contains("websocket") {
                out.push(WsEvent::NotWebSocket);
                return;
            }
            self.open = true;
            self.buf.drain(..end);
        }
        let mut pos = 0;
        while let Some(frame) = parse_frame(&self.buf[pos..]) {
            let Frame {
                fin,
                rsv1,
                opcode,
                key,
                start,
                len,
            } = frame;
            if len > MAX_MESSAGE as u64 {
                out.push(WsEvent::NotWebSocket);
                return;
            }
            let payload_at = pos + start;
            let len = len as usize;
            if self.buf.len() < payload_at + len {
                break;
            }
            pos = payload_at + len;
            // Text, binary, continuation (§5.4); close, ping, pong and reserved opcodes are skipped.
            if opcode <= 2 {
                {
                    if opcode != 0 {
                        self.message.clear();
                        self.compressed = rsv1;
                    }
                    if self.message.len() + len > MAX_MESSAGE {
                        out.push(WsEvent::NotWebSocket);
                        return;
                    }
                    let payload = &self.buf[payload_at..payload_at + len];
                    let base = self.message.len();
                    self.message.extend_from_slice(payload);
                    if let Some(k) = key {
                        for (i, b) in self.message[base..].iter_mut().enumerate() {
                            *b ^= k[i % 4];
                        }
                    }
                    if fin {
                        let msg = std::mem::take(&mut self.message);
                        if self.compressed {
                            self.unreadable += 1;
                        } else if detect::is_sip_start(&msg[detect::leading_line_breaks(&msg)..]) {
                            out.push(WsEvent::Message(msg));
                        }
                    }
                }
            }
        }
        self.buf.drain(..pos);
    }
}

struct Frame {
    fin: bool,
    rsv1: bool,
    opcode: u8,
    key: Option<[u8; 4]>,
    /// Offset of the payload from the frame start.
    start: usize,
    len: u64,
}

/// The header of the frame at the start of `b`, once complete (RFC 6455 §5.2).
fn parse_frame(b: &[u8]) -> Option<Frame> {
    let b0 = *b.first()?;
    let b1 = *b.get(1)?;
    let masked = b1 & 0x80 != 0;
    let (len, mut at) = match b1 & 0x7f {
        126 => (u64::from(u16::from_be_bytes([*b.get(2)?, *b.get(3)?])), 4),
        127 => (u64::from_be_bytes(b.get(2..10)?.try_into().ok()?), 10),
        n => (u64::from(n), 2),
    };
    let key = if masked {
        let k: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        Some(k)
    } else {
        None
    };
    Some(Frame {
        fin: b0 & 0x80 != 0,
        rsv1: b0 & 0x40 != 0,
        opcode: b0 & 0x0f,
        key,
        start: at,
        len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(payload: &[u8], fin: bool, opcode: u8, key: Option<[u8; 4]>) -> Vec<u8> {
        let mut f = vec![(if fin { 0x80 } else { 0 }) | opcode];
        let m = if key.is_some() { 0x80 } else { 0 };
        if payload.len() < 126 {
            f.push(m | payload.len() as u8);
        } else {
            f.push(m | 126);
            f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        }
        match key {
            Some(k) => {
                f.extend_from_slice(&k);
                f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
            }
            None => f.extend_from_slice(payload),
        }
        f
    }

    #[test]
    fn masked_fragmented_message_split_over_reads() {
        let sip = b"OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n";
        let mut stream = b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n".to_vec();
        stream.extend(frame(&sip[..10], false, 1, Some([1, 2, 3, 4])));
        stream.extend(frame(b"", true, 9, Some([9, 9, 9, 9]))); // a ping in between
        stream.extend(frame(&sip[10..], true, 0, Some([5, 6, 7, 8])));
        let mut d = WsDecoder::default();
        let mut out = Vec::new();
        for chunk in stream.chunks(7) {
            d.push(chunk, &mut out);
        }
        assert_eq!(out.len(), 1);
        assert!(matches!(&out[0], WsEvent::Message(m) if m == sip));
    }

    #[test]
    fn plain_http_is_not_websocket() {
        let mut d = WsDecoder::default();
        let mut out = Vec::new();
        d.push(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", &mut out);
        assert!(matches!(out[..], [WsEvent::NotWebSocket]));
    }
}
