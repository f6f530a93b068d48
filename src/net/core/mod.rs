//! The sans-IO heart of an endpoint: the transaction table, the timer queue, the impairers,
//! the trace and the bounded queues of events and transmissions.
//!
//! [`EndpointCore`] never reads a clock and never touches a socket. The caller feeds it
//! `handle_datagram(now, from, bytes)` (UDP), `handle_stream(now, from, bytes)` (TCP) and
//! `handle_timeout(now)`, and after every input drains `poll_transmit()` (bytes to put on the
//! wire) and `poll_event()` (what the transaction user must hear), then sleeps until
//! `poll_timeout()`. This is quinn-proto's and str0m's discipline; the tokio shell in
//! [`super::endpoint`] does nothing else.
//!
//! Bounds: events, transmissions and impairer-delayed deliveries sit in queues of fixed size
//! ([`Limits`]); when the event queue is full the oldest event is dropped and counted in
//! [`EndpointStats::dropped`]. The transaction table and the trace are bounded too, so a peer
//! flooding the endpoint costs counters, not memory.

mod inbound;
mod queue;
#[cfg(test)]
mod tests;
mod types;

pub use types::{
    destination, CoreConfig, EndpointEvent, EndpointStats, Limits, SendError, Transmit, TxId,
};

use super::impair::{Delivery, Impairer};
use super::via;
use crate::sip::framing::StreamFramer;
use crate::sip::message::Message;
use crate::sip::parse::parse_message;
use crate::trace::{Trace, TracedMessage, Transport};
use crate::txn::client::ClientTransaction;
use crate::txn::server::{build_response, ServerTransaction};
use crate::txn::{Output, Time, TimerConfig, TuEvent, TxKey};
use queue::{BoundedQueue, Direction, Pending};
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::net::SocketAddr;

/// A hosted transaction of either side.
#[derive(Debug)]
enum Tx {
    Client(ClientTransaction),
    Server(ServerTransaction),
}

/// A row of the transaction table.
#[derive(Debug)]
struct Entry {
    tx: Tx,
    /// Where this transaction's messages go (the request's destination, or where responses
    /// are sent, §18.2.2).
    peer: SocketAddr,
    /// The key it is filed under (computed from the message as received).
    key: TxKey,
    /// The deadline it is filed under in the timer queue.
    deadline: Option<Time>,
}

impl Tx {
    fn poll_output(&mut self) -> Option<Output> {
        match self {
            Tx::Client(t) => t.poll_output(),
            Tx::Server(t) => t.poll_output(),
        }
    }
    fn poll_timeout(&self) -> Option<Time> {
        match self {
            Tx::Client(t) => t.poll_timeout(),
            Tx::Server(t) => t.poll_timeout(),
        }
    }
    fn handle_timeout(&mut self, now: Time) {
        match self {
            Tx::Client(t) => t.handle_timeout(now),
            Tx::Server(t) => t.handle_timeout(now),
        }
    }
    fn transport_error(&mut self, now: Time) {
        match self {
            Tx::Client(t) => t.transport_error(now),
            Tx::Server(t) => t.transport_error(now),
        }
    }
    fn is_terminated(&self) -> bool {
        match self {
            Tx::Client(t) => t.is_terminated(),
            Tx::Server(t) => t.is_terminated(),
        }
    }
}

/// The sans-IO endpoint. See the module documentation.
#[derive(Debug)]
pub struct EndpointCore {
    cfg: CoreConfig,
    now: Time,
    next_id: u64,
    txs: HashMap<TxId, Entry>,
    client_keys: HashMap<TxKey, TxId>,
    server_keys: HashMap<TxKey, TxId>,
    /// Every transaction's next deadline, earliest first (ties by id: deterministic).
    timers: BTreeSet<(Time, TxId)>,
    events: BoundedQueue<EndpointEvent>,
    transmits: BoundedQueue<Transmit>,
    delayed: BinaryHeap<Pending>,
    delayed_seq: u64,
    framers: HashMap<SocketAddr, StreamFramer>,
    /// The local address of each connection (its ephemeral port), for the trace.
    conn_local: HashMap<SocketAddr, SocketAddr>,
    trace: Trace,
    trace_bytes: usize,
    stats: EndpointStats,
    ids_issued: u64,
}

/// Rounds of `handle_timeout` in one call: zero-length timers (D, K on reliable transports)
/// re-arm at `now` and fire in the next round; the cap only guards against a loop.
const MAX_TIMER_ROUNDS: usize = 16;

impl EndpointCore {
    pub fn new(cfg: CoreConfig) -> Self {
        let limits = cfg.limits;
        EndpointCore {
            cfg,
            now: Time::ZERO,
            next_id: 1,
            txs: HashMap::new(),
            client_keys: HashMap::new(),
            server_keys: HashMap::new(),
            timers: BTreeSet::new(),
            events: BoundedQueue::new(limits.max_events),
            transmits: BoundedQueue::new(limits.max_transmits),
            delayed: BinaryHeap::new(),
            delayed_seq: 0,
            framers: HashMap::new(),
            conn_local: HashMap::new(),
            trace: Trace::default(),
            trace_bytes: 0,
            stats: EndpointStats::default(),
            ids_issued: 0,
        }
    }

    pub fn local(&self) -> SocketAddr {
        self.cfg.local
    }

    pub fn transport(&self) -> Transport {
        self.cfg.transport
    }

    pub fn timers(&self) -> TimerConfig {
        self.cfg.timers
    }

    /// A fresh identifier: unique within this core, salted by `CoreConfig::seed`.
    pub fn unique_token(&mut self) -> String {
        self.ids_issued += 1;
        format!("{:x}{:x}", self.cfg.seed & 0xffff_ffff, self.ids_issued)
    }

    /// A fresh RFC 3261 branch (`z9hG4bK` + a unique token, §8.1.1.7).
    pub fn new_branch(&mut self) -> String {
        format!("z9hG4bK{}", self.unique_token())
    }

    /// A complete Via value for a new request from this endpoint, with a fresh branch and
    /// `rport` (RFC 3581 §3).
    pub fn new_via(&mut self) -> String {
        let branch = self.new_branch();
        via::via_value(self.cfg.transport.as_str(), self.cfg.local, &branch)
    }

    /// Sends a request through a new client transaction to the address in its top Route or
    /// Request-URI (an IP address; default port 5060, 5061 for sips).
    pub fn send_request(&mut self, now: Time, msg: Message) -> Result<TxId, SendError> {
        let to = destination(&msg).ok_or(SendError::NoDestination)?;
        self.send_request_to(now, to, msg)
    }

    /// Sends a request through a new client transaction (RFC 3261 §17.1) to `to`.
    pub fn send_request_to(
        &mut self,
        now: Time,
        to: SocketAddr,
        msg: Message,
    ) -> Result<TxId, SendError> {
        self.advance(now);
        if self.txs.len() >= self.cfg.limits.max_transactions {
            return Err(SendError::TooManyTransactions(self.txs.len()));
        }
        let rel = self.cfg.transport.reliability();
        let tx = ClientTransaction::new(now, msg, self.cfg.timers, rel)?;
        let key = tx.key().clone();
        if self.client_keys.contains_key(&key) {
            return Err(SendError::DuplicateKey(key));
        }
        let id = self.insert(Tx::Client(tx), to, key);
        self.drain_tx(id);
        Ok(id)
    }

    /// Sends `resp` through server transaction `tx` (RFC 3261 §17.2).
    pub fn send_response(&mut self, now: Time, tx: TxId, resp: Message) -> Result<(), SendError> {
        self.advance(now);
        let entry = self.txs.get_mut(&tx).ok_or(SendError::UnknownTx(tx))?;
        let Tx::Server(server) = &mut entry.tx else {
            return Err(SendError::NotServer(tx));
        };
        let result = server.send_response(now, resp);
        self.drain_tx(tx);
        result.map_err(SendError::from)
    }

    /// Answers the request of server transaction `tx` with a response built by
    /// [`build_response`] (RFC 3261 §8.2.6), adding a To tag unless the request had one.
    pub fn respond(
        &mut self,
        now: Time,
        tx: TxId,
        code: u16,
        reason: &str,
    ) -> Result<(), SendError> {
        let entry = self.txs.get(&tx).ok_or(SendError::UnknownTx(tx))?;
        let Tx::Server(server) = &entry.tx else {
            return Err(SendError::NotServer(tx));
        };
        let request = match server {
            ServerTransaction::Invite(t) => t.request(),
            ServerTransaction::NonInvite(t) => t.request(),
        };
        let tag = if request.to_tag().is_some() {
            None
        } else {
            Some(format!("{:x}t{}", self.cfg.seed & 0xffff_ffff, tx.0))
        };
        let bytes = build_response(request, code, reason, tag.as_deref());
        self.send_response(now, tx, parse_message(&bytes))
    }

    /// Sends bytes with no transaction (an ACK to a 2xx, a malformed message on purpose). They
    /// go through the outbound impairer and into the trace like everything else.
    pub fn send_raw(&mut self, now: Time, to: SocketAddr, bytes: Vec<u8>) {
        self.advance(now);
        self.send_out(to, bytes);
    }

    /// Fires what is due at `now`: delayed deliveries, then transaction timers.
    pub fn handle_timeout(&mut self, now: Time) {
        self.advance(now);
        self.release_held();
        while self.delayed.peek().is_some_and(|p| p.at <= now) {
            if let Some(p) = self.delayed.pop() {
                self.deliver(p.dir, p.peer, p.bytes);
            }
        }
        for _ in 0..MAX_TIMER_ROUNDS {
            let due: Vec<TxId> = self
                .timers
                .iter()
                .take_while(|(at, _)| *at <= now)
                .map(|(_, id)| *id)
                .collect();
            if due.is_empty() {
                break;
            }
            for id in due {
                if let Some(e) = self.txs.get_mut(&id) {
                    e.tx.handle_timeout(now);
                }
                self.drain_tx(id);
            }
        }
    }

    /// When `handle_timeout` must be called next.
    pub fn poll_timeout(&self) -> Option<Time> {
        let held = [&self.cfg.outbound, &self.cfg.inbound]
            .into_iter()
            .filter_map(|i| i.as_ref().and_then(Impairer::poll_timeout));
        self.timers
            .first()
            .map(|(at, _)| *at)
            .into_iter()
            .chain(self.delayed.peek().map(|p| p.at))
            .chain(held)
            .min()
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop()
    }

    pub fn poll_event(&mut self) -> Option<EndpointEvent> {
        self.events.pop()
    }

    /// Everything sent and received so far.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The trace so far, leaving an empty one (and a fresh size budget).
    pub fn take_trace(&mut self) -> Trace {
        self.trace_bytes = 0;
        std::mem::take(&mut self.trace)
    }

    pub fn stats(&self) -> EndpointStats {
        let mut s = self.stats;
        if let Some(i) = &self.cfg.outbound {
            s.outbound = i.stats();
        }
        if let Some(i) = &self.cfg.inbound {
            s.inbound = i.stats();
        }
        s
    }

    /// Live transactions.
    pub fn transaction_count(&self) -> usize {
        self.txs.len()
    }

    /// Events waiting in the queue.
    pub fn queued_events(&self) -> usize {
        self.events.len()
    }

    /// The RFC state name of a live transaction (`"Trying"`, `"Completed"`, ...).
    pub fn state_of(&self, tx: TxId) -> Option<String> {
        Some(match &self.txs.get(&tx)?.tx {
            Tx::Client(t) => t.state_name().to_string(),
            Tx::Server(ServerTransaction::Invite(t)) => format!("{:?}", t.state()),
            Tx::Server(ServerTransaction::NonInvite(t)) => format!("{:?}", t.state()),
        })
    }

    fn advance(&mut self, now: Time) {
        self.now = self.now.max(now);
    }

    fn insert(&mut self, tx: Tx, peer: SocketAddr, key: TxKey) -> TxId {
        let id = TxId(self.next_id);
        self.next_id += 1;
        match tx {
            Tx::Client(_) => self.client_keys.insert(key.clone(), id),
            Tx::Server(_) => self.server_keys.insert(key.clone(), id),
        };
        let entry = Entry {
            tx,
            peer,
            key,
            deadline: None,
        };
        self.txs.insert(id, entry);
        id
    }

    /// Drains a transaction's outputs after an input, refiles its deadline and drops it once
    /// Terminated.
    fn drain_tx(&mut self, id: TxId) {
        let Some(entry) = self.txs.get_mut(&id) else {
            return;
        };
        let peer = entry.peer;
        let outputs: Vec<Output> = std::iter::from_fn(|| entry.tx.poll_output()).collect();
        let deadline = entry.tx.poll_timeout();
        let old = std::mem::replace(&mut entry.deadline, deadline);
        let terminated = entry.tx.is_terminated();
        if old != deadline {
            if let Some(at) = old {
                self.timers.remove(&(at, id));
            }
            if let Some(at) = deadline {
                self.timers.insert((at, id));
            }
        }
        for out in outputs {
            match out {
                Output::Transmit(bytes) => self.send_out(peer, bytes),
                Output::Tu(ev) => self.tu_event(id, peer, ev),
            }
        }
        if terminated {
            self.remove_tx(id);
        }
    }

    fn remove_tx(&mut self, id: TxId) {
        if let Some(e) = self.txs.remove(&id) {
            if let Some(at) = e.deadline {
                self.timers.remove(&(at, id));
            }
            let keys = match e.tx {
                Tx::Client(_) => &mut self.client_keys,
                Tx::Server(_) => &mut self.server_keys,
            };
            if keys.get(&e.key) == Some(&id) {
                keys.remove(&e.key);
            }
        }
    }

    fn tu_event(&mut self, tx: TxId, peer: SocketAddr, ev: TuEvent) {
        let event = match ev {
            TuEvent::Response(msg) => EndpointEvent::Response { tx, msg },
            TuEvent::Request(msg) => EndpointEvent::Request {
                tx,
                msg,
                from: peer,
            },
            TuEvent::Timeout(timer) => EndpointEvent::Timeout { tx, timer },
            // Refusals are returned to the caller of send_response; Terminated is handled by
            // dropping the transaction.
            TuEvent::Refused { .. } | TuEvent::Terminated => return,
        };
        self.push_event(event);
    }

    fn push_event(&mut self, ev: EndpointEvent) {
        if self.events.push(ev) {
            self.stats.dropped += 1;
        }
    }

    /// The outbound path: impairment, then (now or later) the trace and the wire.
    fn send_out(&mut self, to: SocketAddr, bytes: Vec<u8>) {
        let now = self.now;
        match self.cfg.outbound.as_mut() {
            Some(imp) => {
                let d = imp.process(now, to, &bytes);
                self.schedule(Direction::Out, d);
            }
            None => self.release_out(to, bytes),
        }
    }

    /// What actually leaves: recorded, then queued for the socket.
    fn release_out(&mut self, to: SocketAddr, bytes: Vec<u8>) {
        let src = self.conn_local.get(&to).copied().unwrap_or(self.cfg.local);
        self.record(src, to, &bytes);
        if self.transmits.push(Transmit { to, bytes }) {
            self.stats.dropped_transmits += 1;
        }
    }

    /// Delivers what is due now and files the rest on the delay queue.
    fn schedule(&mut self, dir: Direction, deliveries: Vec<Delivery>) {
        for d in deliveries {
            if d.at <= self.now {
                self.deliver(dir, d.peer, d.bytes);
            } else if self.delayed.len() >= self.cfg.limits.max_delayed {
                self.stats.dropped_delayed += 1;
            } else {
                self.delayed_seq += 1;
                self.delayed.push(Pending {
                    at: d.at,
                    seq: self.delayed_seq,
                    dir,
                    peer: d.peer,
                    bytes: d.bytes,
                });
            }
        }
    }

    fn deliver(&mut self, dir: Direction, peer: SocketAddr, bytes: Vec<u8>) {
        match dir {
            Direction::Out => self.release_out(peer, bytes),
            Direction::In => self.deliver_in(peer, &bytes),
        }
    }

    /// Releases messages the impairers held back for reordering whose hold ran out.
    fn release_held(&mut self) {
        let now = self.now;
        if let Some(imp) = self.cfg.outbound.as_mut() {
            let d = imp.handle_timeout(now);
            self.schedule(Direction::Out, d);
        }
        if let Some(imp) = self.cfg.inbound.as_mut() {
            let d = imp.handle_timeout(now);
            self.schedule(Direction::In, d);
        }
    }

    /// Adds a message to the trace, unless the trace is full.
    fn record(&mut self, src: SocketAddr, dst: SocketAddr, bytes: &[u8]) {
        if self.trace_bytes + bytes.len() > self.cfg.limits.max_trace_bytes {
            self.stats.trace_dropped += 1;
            return;
        }
        self.trace_bytes += bytes.len();
        self.trace.messages.push(TracedMessage {
            time: self.now,
            src,
            dst,
            transport: self.cfg.transport,
            message: parse_message(bytes),
        });
    }
}
