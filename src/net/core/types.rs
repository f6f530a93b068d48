//! The public types of the endpoint core: identifiers, events, limits, statistics, errors,
//! and where a request goes.

use crate::net::impair::{ImpairStats, Impairer};
use crate::rule::Violation;
use crate::sip::framing::FramerLimits;
use crate::sip::host::Host;
use crate::sip::message::Message;
use crate::sip::uri::parse_uri;
use crate::sip::HeaderName;
use crate::trace::Transport;
use crate::txn::client::ClientTxError;
use crate::txn::server::Refused;
use crate::txn::{TimerConfig, TimerName, TxKey};
use std::fmt;
use std::net::SocketAddr;

/// Identifies a transaction hosted by an endpoint (client and server share one numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxId(pub u64);

impl fmt::Display for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tx{}", self.0)
    }
}

/// What the endpoint tells its user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndpointEvent {
    /// A new request (its server transaction is `tx`), or an ACK to a 2xx that reached an
    /// INVITE server transaction in Accepted (RFC 6026 §7.1). Retransmissions never show up.
    Request {
        tx: TxId,
        msg: Message,
        from: SocketAddr,
    },
    /// A response for client transaction `tx` (retransmissions of a final are absorbed).
    Response { tx: TxId, msg: Message },
    /// Timer B, F or H fired (RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1).
    Timeout { tx: TxId, timer: TimerName },
    /// A message that matches no transaction: a response to nothing, an ACK to no Accepted
    /// INVITE.
    Stray { msg: Message, from: SocketAddr },
    /// Bytes that are not a SIP message siptest can route, with the first error found.
    Garbage {
        bytes: Vec<u8>,
        from: SocketAddr,
        violation: Violation,
    },
    /// The transport could not reach `peer`; transaction `tx` ended (RFC 3261 §17.1.4,
    /// §17.2.4).
    TransportError { tx: TxId, peer: SocketAddr },
}

/// Bytes to put on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    pub to: SocketAddr,
    pub bytes: Vec<u8>,
}

/// Sizes of everything a peer could make grow.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Events waiting for the user; beyond this the oldest is dropped.
    pub max_events: usize,
    /// Transmissions waiting for the socket; beyond this the oldest is dropped.
    pub max_transmits: usize,
    /// Deliveries an impairer delayed; beyond this new ones are dropped.
    pub max_delayed: usize,
    /// Live transactions; requests beyond this are dropped (counted as rejected).
    pub max_transactions: usize,
    /// Stream connections with a framer.
    pub max_connections: usize,
    /// Octets of messages kept in the trace; later messages are counted, not kept.
    pub max_trace_bytes: usize,
    pub framer: FramerLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_events: 1024,
            max_transmits: 4096,
            max_delayed: 4096,
            max_transactions: 4096,
            max_connections: 256,
            max_trace_bytes: 64 << 20,
            framer: FramerLimits {
                max_head: 64 * 1024,
                max_body: 1 << 20,
            },
        }
    }
}

/// How an endpoint core is set up.
#[derive(Clone, Debug)]
pub struct CoreConfig {
    /// The address the endpoint is bound to (sent-by in its Vias, source in its trace).
    pub local: SocketAddr,
    pub transport: Transport,
    pub timers: TimerConfig,
    pub limits: Limits,
    /// Impairs what the endpoint sends (applied before the trace records it).
    pub outbound: Option<Impairer>,
    /// Impairs what the endpoint receives (applied after the trace records it).
    pub inbound: Option<Impairer>,
    /// Salt for generated branches and tags: different endpoints, different identifiers.
    pub seed: u64,
}

impl CoreConfig {
    pub fn new(local: SocketAddr, transport: Transport, timers: TimerConfig) -> Self {
        CoreConfig {
            local,
            transport,
            timers,
            limits: Limits::default(),
            outbound: None,
            inbound: None,
            seed: 0,
        }
    }
}

/// Counters of everything the endpoint dropped or set aside.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EndpointStats {
    /// Events dropped because the user did not keep up (oldest first).
    pub dropped: u64,
    pub dropped_transmits: u64,
    pub dropped_delayed: u64,
    /// Requests dropped because the transaction table was full.
    pub rejected_requests: u64,
    /// Messages not kept in the trace because it reached its size limit.
    pub trace_dropped: u64,
    pub garbage: u64,
    pub stray: u64,
    /// CRLF keep-alives and empty datagrams (RFC 5626 §3.5.1).
    pub keepalives: u64,
    pub outbound: ImpairStats,
    pub inbound: ImpairStats,
}

/// Why the endpoint did not send something.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Client(#[from] ClientTxError),
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error("a client transaction `{0}` is already running (RFC 3261 §17.1.3: one per branch)")]
    DuplicateKey(TxKey),
    #[error("no IP address to send to in the Request-URI or top Route (no DNS, RFC 3263)")]
    NoDestination,
    #[error("{0}: no such transaction (it may have terminated)")]
    UnknownTx(TxId),
    #[error("{0} is a client transaction; responses go through server transactions")]
    NotServer(TxId),
    #[error("the transaction table is full ({0} transactions)")]
    TooManyTransactions(usize),
}

/// The next hop of a request: the top Route's URI when there is one (loose routing, RFC 3261
/// §8.1.2), else the Request-URI; only IP-address hosts (no RFC 3263 DNS).
pub fn destination(msg: &Message) -> Option<SocketAddr> {
    let route = msg.values(HeaderName::Route).into_iter().next();
    let uri_text = match &route {
        Some(r) => {
            let start = r.find('<')? + 1;
            let end = r[start..].find('>')? + start;
            r[start..end].to_string()
        }
        None => msg.request_uri()?.into_owned(),
    };
    let uri = parse_uri(&uri_text).ok()?;
    let default_port = if uri.scheme.as_str() == "sips" {
        5061
    } else {
        5060
    };
    let port = uri.port.unwrap_or(default_port);
    match uri.host? {
        Host::Ipv4(ip) => Some(SocketAddr::new(ip.into(), port)),
        Host::Ipv6(ip) => Some(SocketAddr::new(ip.into(), port)),
        Host::Name(_) => None,
    }
}
