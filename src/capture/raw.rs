//! SIP messages found in a capture, before parsing: for callers that only count or look at a few
//! headers ([`super::fields`]) and want to skip the full parse.
//!
//! The decoder hands each message over borrowed ([`RawRef`]: its bytes still in the packet, the
//! reassembled datagram or the TCP segment they were found in), so a caller that only summarises
//! copies nothing; [`RawRef::to_raw_message`] keeps one ([`RawMessage`]).

use super::stream;
use crate::sip::message::Message;
use crate::sip::parse::parse_datagram;
use crate::trace::{TracedMessage, Transport};
use std::net::SocketAddr;
use std::time::Duration;

/// What a message was found as, not parsed yet: a datagram-like unit (UDP, SCTP, WebSocket:
/// parsed with [`parse_datagram`], RFC 3261 §18.3) or a message framed on a TCP stream by its
/// Content-Length (parsed as the stream framer parses it, [`stream::parse`]).
#[derive(Clone, Debug)]
pub enum Payload {
    Datagram(Vec<u8>),
    Stream(Vec<u8>),
}

impl Payload {
    /// The message's bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Payload::Datagram(b) | Payload::Stream(b) => b,
        }
    }

    /// The parsed message.
    pub fn into_message(self) -> Message {
        self.borrowed().parse()
    }

    pub fn borrowed(&self) -> PayloadRef<'_> {
        match self {
            Payload::Datagram(b) => PayloadRef::Datagram(b),
            Payload::Stream(b) => PayloadRef::Stream(b),
        }
    }
}

/// A [`Payload`] whose bytes are borrowed.
#[derive(Clone, Copy, Debug)]
pub enum PayloadRef<'a> {
    Datagram(&'a [u8]),
    Stream(&'a [u8]),
}

impl<'a> PayloadRef<'a> {
    pub fn bytes(self) -> &'a [u8] {
        match self {
            PayloadRef::Datagram(b) | PayloadRef::Stream(b) => b,
        }
    }

    /// The parsed message.
    pub fn parse(self) -> Message {
        match self {
            PayloadRef::Datagram(b) => parse_datagram(b).message,
            PayloadRef::Stream(b) => stream::parse(b),
        }
    }

    pub fn to_payload(self) -> Payload {
        match self {
            PayloadRef::Datagram(b) => Payload::Datagram(b.to_vec()),
            PayloadRef::Stream(b) => Payload::Stream(b.to_vec()),
        }
    }
}

/// A SIP message found in a capture, not parsed yet.
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

    pub fn borrowed(&self) -> RawRef<'_> {
        RawRef {
            time: self.time,
            src: self.src,
            dst: self.dst,
            transport: self.transport,
            payload: self.payload.borrowed(),
        }
    }
}

/// A [`RawMessage`] whose bytes are borrowed from where the decoder found them.
#[derive(Clone, Copy, Debug)]
pub struct RawRef<'a> {
    pub time: Duration,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub transport: Transport,
    pub payload: PayloadRef<'a>,
}

impl RawRef<'_> {
    pub fn to_raw_message(self) -> RawMessage {
        RawMessage {
            time: self.time,
            src: self.src,
            dst: self.dst,
            transport: self.transport,
            payload: self.payload.to_payload(),
        }
    }

    /// The parsed message, with its addresses and time.
    pub fn to_traced(self) -> TracedMessage {
        TracedMessage {
            time: self.time,
            src: self.src,
            dst: self.dst,
            transport: self.transport,
            message: self.payload.parse(),
        }
    }
}
