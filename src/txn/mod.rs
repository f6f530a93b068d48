//! SIP transactions (RFC 3261 §17, RFC 6026, RFC 4320) as sans-IO state machines.
//!
//! A transaction is driven by `(now, event)` inputs: a message received, a timer that fired, a
//! request or response from the transaction user (TU). It never reads a clock or touches a
//! socket: after each input the caller drains [`Output`]s with `poll_output()` (bytes to
//! transmit, events for the TU) and asks `poll_timeout()` when to call `handle_timeout(now)`
//! next. This is the discipline of quinn-proto and str0m: after each input, drain outputs until
//! the next timeout.

pub mod client;
pub mod key;
pub mod server;
pub mod timers;

pub use key::TxKey;
pub use timers::{TimerConfig, TimerName};

use crate::sip::message::Message;
use std::time::Duration;

/// A point in time: the duration since an epoch the caller chooses (the start of a run, the
/// first packet of a capture). Transactions only compare and add these.
pub type Time = Duration;

/// Whether the transport retransmits for us (RFC 3261 §17.1.1.1: timers that only exist for
/// unreliable transports are set to zero on reliable ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reliability {
    /// UDP.
    Unreliable,
    /// TCP, TLS, SCTP, WebSocket.
    Reliable,
}

/// Something a transaction wants done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Send these bytes to the peer (a request, a retransmission, an ACK, a response).
    Transmit(Vec<u8>),
    /// Tell the transaction user.
    Tu(TuEvent),
}

/// What a transaction reports to its user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TuEvent {
    /// A response for a client transaction (provisional or final; retransmissions of a final
    /// are absorbed, except 2xx to INVITE in RFC 6026's Accepted state, which the TU must see).
    Response(Message),
    /// A request for a server transaction's TU: the ACK to a 2xx arriving in Accepted
    /// (RFC 6026 §7.1) is passed up; retransmissions of the original request are absorbed.
    Request(Message),
    /// Timer B, F or H fired: no response, or no ACK, in time (RFC 3261 §17.1.1.2, §17.1.2.2,
    /// §17.2.1). Reported as a 408 to the TU for client transactions.
    Timeout(TimerName),
    /// The TU asked for something the transaction refuses because a rule forbids it; the
    /// message was not sent (a non-100 provisional to a non-INVITE, RFC 4320 §4.1 "Action 1"; a
    /// 408 to a non-INVITE, RFC 4320 §4.2 "Action 2").
    Refused {
        reason: &'static str,
        rfc: &'static str,
    },
    /// The transaction reached Terminated and can be dropped.
    Terminated,
}
