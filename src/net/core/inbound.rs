//! The receive side of the endpoint core: datagrams and stream bytes in, routed to
//! transactions (RFC 3261 §17.1.3 for responses, §17.2.3 for requests), or reported as stray
//! or garbage.

use super::queue::Direction;
use super::{EndpointCore, EndpointEvent, Tx};
use crate::net::via;
use crate::rule::{Severity, Span, Violation};
use crate::sip::framing::{Frame, StreamFramer};
use crate::sip::message::{Kind, Message};
use crate::sip::parse::{parse_datagram, parse_message};
use crate::sip::validate::MISSING_HEADER;
use crate::trace::Transport;
use crate::txn::server::{ServerInviteState, ServerTransaction};
use crate::txn::{Time, TxKey};
use std::net::SocketAddr;

impl EndpointCore {
    /// A UDP datagram from `from`. It is recorded as it arrived, then goes through the inbound
    /// impairer to the transaction layer.
    pub fn handle_datagram(&mut self, now: Time, from: SocketAddr, bytes: &[u8]) {
        self.advance(now);
        let local = self.cfg.local;
        self.record(from, local, bytes);
        self.impair_in(from, bytes);
    }

    /// Bytes read from the connection with `from`. RFC 3261 §18.3: on a stream, messages are
    /// delimited by Content-Length; each connection has its own framer.
    pub fn handle_stream(&mut self, now: Time, from: SocketAddr, bytes: &[u8]) {
        self.advance(now);
        if !self.framers.contains_key(&from)
            && self.framers.len() >= self.cfg.limits.max_connections
        {
            self.stats.garbage += 1;
            return;
        }
        let limits = self.cfg.limits.framer;
        let framer = self
            .framers
            .entry(from)
            .or_insert_with(|| StreamFramer::with_limits(limits));
        framer.push(bytes);
        let frames: Vec<Frame> = std::iter::from_fn(|| framer.next_frame()).collect();
        for frame in frames {
            self.handle_frame(from, frame, true);
        }
    }

    /// The connection with `from` is established; `local` is this side's address on it.
    pub fn handle_connected(&mut self, from: SocketAddr, local: SocketAddr) {
        self.conn_local.insert(from, local);
    }

    /// The connection with `from` closed: what its framer still holds is a last frame
    /// (a cut message is reported as garbage).
    pub fn handle_stream_closed(&mut self, now: Time, from: SocketAddr) {
        self.advance(now);
        if let Some(mut framer) = self.framers.remove(&from) {
            while let Some(frame) = framer.next_frame() {
                self.handle_frame(from, frame, false);
            }
            if let Some(frame) = framer.finish() {
                self.handle_frame(from, frame, false);
            }
        }
        self.conn_local.remove(&from);
    }

    /// The transport could not deliver to `peer` (connection refused, reset, write timeout):
    /// every transaction talking to it ends (RFC 3261 §17.1.4, §17.2.4).
    pub fn handle_transport_error(&mut self, now: Time, peer: SocketAddr) {
        self.advance(now);
        let mut ids: Vec<_> = self
            .txs
            .iter()
            .filter(|(_, e)| e.peer == peer)
            .map(|(id, _)| *id)
            .collect();
        ids.sort();
        for id in ids {
            if let Some(e) = self.txs.get_mut(&id) {
                e.tx.transport_error(now);
            }
            self.push_event(EndpointEvent::TransportError { tx: id, peer });
            self.drain_tx(id);
        }
        self.framers.remove(&peer);
        self.conn_local.remove(&peer);
    }

    fn handle_frame(&mut self, from: SocketAddr, frame: Frame, open: bool) {
        let local = self
            .conn_local
            .get(&from)
            .copied()
            .unwrap_or(self.cfg.local);
        match frame {
            Frame::Message(m) => {
                self.record(from, local, m.as_bytes());
                if self.cfg.inbound.is_some() {
                    self.impair_in(from, m.as_bytes());
                } else {
                    let raw = m.to_bytes();
                    self.route(from, m, &raw);
                }
            }
            Frame::KeepAlive { line_breaks } => {
                self.stats.keepalives += 1;
                // RFC 5626 §3.5.1: a double-CRLF ping is answered with a single-CRLF pong.
                if open
                    && line_breaks >= 2
                    && self.transmits.push(super::Transmit {
                        to: from,
                        bytes: b"\r\n".to_vec(),
                    })
                {
                    self.stats.dropped_transmits += 1;
                }
            }
            Frame::Garbage { bytes, violation } => {
                self.record(from, local, &bytes);
                self.stats.garbage += 1;
                self.push_event(EndpointEvent::Garbage {
                    bytes,
                    from,
                    violation,
                });
            }
        }
    }

    fn impair_in(&mut self, from: SocketAddr, bytes: &[u8]) {
        let now = self.now;
        match self.cfg.inbound.as_mut() {
            Some(imp) => {
                let d = imp.process(now, from, bytes);
                self.schedule(Direction::In, d);
            }
            None => self.deliver_in(from, bytes),
        }
    }

    /// A message that made it through the inbound impairer.
    pub(super) fn deliver_in(&mut self, from: SocketAddr, bytes: &[u8]) {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            // An empty datagram or a CRLF keep-alive (RFC 5626 §3.5.1), not a message.
            self.stats.keepalives += 1;
            return;
        }
        let msg = match self.cfg.transport {
            // RFC 3261 §18.3: octets after Content-Length in a datagram are discarded.
            Transport::Udp => parse_datagram(bytes).message,
            _ => parse_message(bytes),
        };
        self.route(from, msg, bytes);
    }

    fn route(&mut self, from: SocketAddr, msg: Message, raw: &[u8]) {
        match msg.kind() {
            Kind::Request => self.route_request(from, msg, raw),
            Kind::Response => self.route_response(from, msg),
            Kind::Unknown => self.garbage(from, raw, &msg),
        }
    }

    /// RFC 3261 §17.1.3: a response goes to the client transaction with its key; §18.1.2: one
    /// that matches none is handed up as stray (to the core, which may forward or drop it).
    fn route_response(&mut self, from: SocketAddr, msg: Message) {
        let id = TxKey::of(&msg).and_then(|k| self.client_keys.get(&k).copied());
        let Some(id) = id else {
            self.stats.stray += 1;
            self.push_event(EndpointEvent::Stray { msg, from });
            return;
        };
        let now = self.now;
        if let Some(Tx::Client(t)) = self.txs.get_mut(&id).map(|e| &mut e.tx) {
            t.handle_response(now, msg);
        }
        self.drain_tx(id);
    }

    /// RFC 3261 §17.2.3: a request with the key of a server transaction is a retransmission
    /// (or the ACK of a non-2xx) and goes to it; otherwise it creates one, except an ACK,
    /// which reaches an INVITE transaction in Accepted (RFC 6026 §7.1) or is stray.
    fn route_request(&mut self, from: SocketAddr, msg: Message, raw: &[u8]) {
        let Some(key) = TxKey::of(&msg) else {
            return self.garbage(from, raw, &msg);
        };
        // RFC 3261 §18.2.1: received (and RFC 3581 §4 rport) on the top Via.
        let msg = via::stamp_received(&msg, from).unwrap_or(msg);
        let now = self.now;
        let is_ack = msg.method().as_deref() == Some("ACK");
        let existing = self.server_keys.get(&key).copied();
        let existing = existing.or_else(|| is_ack.then(|| self.accepted_invite_for(&msg))?);
        if let Some(id) = existing {
            if let Some(Tx::Server(t)) = self.txs.get_mut(&id).map(|e| &mut e.tx) {
                t.handle_request(now, msg);
            }
            return self.drain_tx(id);
        }
        if is_ack {
            self.stats.stray += 1;
            return self.push_event(EndpointEvent::Stray { msg, from });
        }
        if self.txs.len() >= self.cfg.limits.max_transactions {
            self.stats.rejected_requests += 1;
            return;
        }
        let reliable = self.cfg.transport != Transport::Udp;
        let peer = via::response_destination(&msg, from, reliable);
        let rel = self.cfg.transport.reliability();
        let Some(tx) = ServerTransaction::new(now, msg.clone(), self.cfg.timers, rel) else {
            return self.garbage(from, raw, &msg);
        };
        let id = self.insert(Tx::Server(tx), peer, key);
        self.push_event(EndpointEvent::Request { tx: id, msg, from });
        self.drain_tx(id);
    }

    /// The INVITE server transaction in Accepted that an ACK to its 2xx belongs to: same
    /// Call-ID, CSeq number and From tag (the dialog's identifiers, RFC 3261 §12, §13.2.2.4).
    fn accepted_invite_for(&self, ack: &Message) -> Option<super::TxId> {
        let call_id = ack.call_id();
        let cseq = ack.cseq().map(|c| c.number);
        let from_tag = ack.from_tag();
        self.txs
            .iter()
            .filter_map(|(id, e)| match &e.tx {
                Tx::Server(ServerTransaction::Invite(t))
                    if t.state() == ServerInviteState::Accepted =>
                {
                    let r = t.request();
                    let same = r.call_id() == call_id
                        && r.cseq().map(|c| c.number) == cseq
                        && r.from_tag() == from_tag;
                    same.then_some(*id)
                }
                _ => None,
            })
            .min()
    }

    /// Reports bytes that cannot be routed, with the first error the parser found in them.
    fn garbage(&mut self, from: SocketAddr, raw: &[u8], msg: &Message) {
        let violation = msg
            .violations
            .iter()
            .find(|v| v.severity() == Severity::Error)
            .cloned()
            .unwrap_or_else(|| {
                Violation::new(
                    &MISSING_HEADER,
                    Span::new(0, 0),
                    "no top Via or CSeq: the message matches no transaction (RFC 3261 §17.2.3)",
                )
            });
        self.stats.garbage += 1;
        self.push_event(EndpointEvent::Garbage {
            bytes: raw.to_vec(),
            from,
            violation,
        });
    }
}
