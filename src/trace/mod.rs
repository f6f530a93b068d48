//! A trace: the time-stamped, two-sided stream of SIP messages between parties, as a live run
//! records it or a capture yields it. The checker reads traces; `siptest lint` reads them from
//! files in the trace log format of [`log`].

pub mod log;

use crate::sip::message::Message;
use serde::Serialize;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// The transport a message travelled over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
    Sctp,
    Ws,
    Wss,
}

impl Transport {
    /// Whether the transport itself retransmits (everything but UDP).
    pub fn reliability(self) -> crate::txn::Reliability {
        match self {
            Transport::Udp => crate::txn::Reliability::Unreliable,
            _ => crate::txn::Reliability::Reliable,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Sctp => "sctp",
            Transport::Ws => "ws",
            Transport::Wss => "wss",
        }
    }

    /// Parses a transport name, case-insensitively (`udp`, `TCP`, ...).
    pub fn parse(s: &str) -> Option<Transport> {
        Some(match s.to_ascii_lowercase().as_str() {
            "udp" => Transport::Udp,
            "tcp" => Transport::Tcp,
            "tls" => Transport::Tls,
            "sctp" => Transport::Sctp,
            "ws" => Transport::Ws,
            "wss" => Transport::Wss,
            _ => return None,
        })
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One message as observed on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TracedMessage {
    /// Time since the start of the trace.
    pub time: Duration,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub transport: Transport,
    pub message: Message,
}

/// Messages in the order they were seen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    pub messages: Vec<TracedMessage>,
}

impl Trace {
    /// The messages of one call (by Call-ID), in order, with their index in the whole trace.
    pub fn call<'a>(
        &'a self,
        call_id: &'a str,
    ) -> impl Iterator<Item = (usize, &'a TracedMessage)> + 'a {
        self.messages
            .iter()
            .enumerate()
            .filter(move |(_, m)| m.message.call_id().as_deref() == Some(call_id))
    }

    /// The time of the last message (zero for an empty trace): how far the trace covers.
    pub fn end(&self) -> Duration {
        self.messages
            .iter()
            .map(|m| m.time)
            .max()
            .unwrap_or_default()
    }

    /// Every Call-ID in order of first appearance.
    pub fn call_ids(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for m in &self.messages {
            if let Some(c) = m.message.call_id() {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
        out
    }
}
