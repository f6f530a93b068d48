//! One of siptest's agents during a run: its endpoint (behind [`Wire`]), the requests it sent
//! and received, its dialogs, and its mailbox of arrivals waiting for steps.
//!
//! Everything here is synchronous and reads no clock: events come in with their time, the
//! executor asks [`Agent::poll_timeout`] when the agent needs waking (2xx retransmissions,
//! RFC 3261 §13.3.1.4). What the RFCs say never breaks a step is absorbed here, before the
//! steps see it (`docs/scenarios.md`, "What never breaks a step"): retransmitted 2xx are
//! ACKed again (§13.2.2.4), duplicate provisionals and ACKs are dropped.

use super::compose;
use super::draft::RenderedEdit;
use super::matching::{Arrival, Incoming};
use super::sdp_gen::{self, SdpContext};
pub use super::wire::Wire;
use crate::dialog::{creates_dialog, Dialog, DialogId, DialogSet, SetEvent};
use crate::net::{EndpointEvent, TxId};
use crate::scenario::AckMode;
use crate::sip::message::Message;
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Arrivals kept per agent; beyond this (a flood) they are counted and dropped.
pub const MAILBOX_LIMIT: usize = 512;

/// A request the agent received.
#[derive(Clone, Debug)]
pub struct Received {
    pub tx: Option<TxId>,
    pub msg: Message,
    pub method: String,
    /// Set by the expect step that consumed it.
    pub label: Option<String>,
    /// A final response was sent (or none is due: an ACK).
    pub answered: bool,
    /// The To tag of our responses: the request's own, or one chosen on arrival.
    pub local_tag: String,
    pub slot: Option<usize>,
}

/// A request the agent sent.
#[derive(Clone, Debug)]
pub struct Sent {
    pub msg: Message,
    pub method: String,
    pub slot: Option<usize>,
    pub ack: AckMode,
    /// The first request of its method this agent sent (for `target.needs`).
    pub first_of_method: bool,
    /// It carried an SDP offer.
    pub offered: bool,
    /// A final response came, or the transaction ended without one.
    pub finished: bool,
    /// A provisional response came (a CANCEL may be sent only then, RFC 3261 §9.1).
    pub provisional: bool,
}

/// A dialog of the agent, named by a scenario or not: the dialogs its creating request made
/// (one per remote tag when forked, RFC 3261 §12.1.2) and the one the steps use.
#[derive(Clone, Debug)]
pub struct Slot {
    pub name: Option<String>,
    pub local_tag: String,
    /// The creating request we sent and its dialogs (UAC).
    pub set: Option<DialogSet>,
    pub creating_tx: Option<TxId>,
    pub dialog: Option<Dialog>,
    /// Our last session description in this dialog (for hold and unhold re-offers).
    pub last_sdp: Option<Vec<u8>>,
    /// ACKs sent per (remote tag, INVITE CSeq), re-sent for each 2xx retransmission.
    pub acks: HashMap<(String, u32), Vec<u8>>,
    /// A 2xx whose ACK is withheld (`ack: manual`).
    pub held_2xx: Option<Message>,
}

/// A 2xx the agent retransmits until the ACK comes (RFC 3261 §13.3.1.4).
#[derive(Clone, Debug)]
struct Retransmit {
    tx: TxId,
    msg: Message,
    /// Identifies the ACK that stops it: Call-ID, CSeq number, remote (From) tag.
    key: (String, u32, String),
    next: Instant,
    interval: Duration,
    until: Instant,
}

/// One agent.
pub struct Agent {
    pub name: String,
    pub user: String,
    pub display: Option<String>,
    pub wire: Arc<dyn Wire>,
    pub target: SocketAddr,
    pub call_id: String,
    /// T1 and T2 for 2xx retransmissions.
    pub t1: Duration,
    pub t2: Duration,
    pub mailbox: VecDeque<Incoming>,
    pub overflow: u64,
    /// The last CSeq number used outside dialogs.
    pub cseq: u32,
    pub received: Vec<Received>,
    pub sent: HashMap<TxId, Sent>,
    pub slots: Vec<Slot>,
    pub last_slot: Option<usize>,
    retransmits: Vec<Retransmit>,
    seen: HashSet<String>,
    methods_sent: HashSet<String>,
    pub sdp: SdpContext,
    /// Problems with the peer's messages that do not decide a step (dialog errors).
    pub notes: Vec<String>,
    /// A raw message went out without a transaction: its answers arrive as strays.
    pub sent_stateless: bool,
    /// The latest final response to a request of each method (what `auth` answers).
    pub last_final: HashMap<String, Message>,
    /// Digest nonce counts per nonce (RFC 7616 §3.4).
    pub nonce_counts: HashMap<String, u32>,
}

impl Agent {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        user: &str,
        display: Option<String>,
        wire: Arc<dyn Wire>,
        target: SocketAddr,
        call_id: &str,
        timers: (Duration, Duration),
        session_id: u64,
    ) -> Agent {
        let local = wire.local();
        Agent {
            name: name.to_string(),
            user: user.to_string(),
            display,
            target,
            call_id: call_id.to_string(),
            t1: timers.0,
            t2: timers.1,
            mailbox: VecDeque::new(),
            overflow: 0,
            cseq: 0,
            received: Vec::new(),
            sent: HashMap::new(),
            slots: Vec::new(),
            last_slot: None,
            retransmits: Vec::new(),
            seen: HashSet::new(),
            methods_sent: HashSet::new(),
            sdp: SdpContext {
                address: local.ip(),
                session_id,
                version: 0,
                port: media_port(local.port()),
            },
            notes: Vec::new(),
            sent_stateless: false,
            last_final: HashMap::new(),
            nonce_counts: HashMap::new(),
            wire,
        }
    }

    /// `sip:user@host:port` of this agent.
    pub fn uri(&self) -> String {
        compose::sip_uri(&self.user, self.wire.local())
    }

    pub fn contact(&self) -> String {
        compose::contact(&self.user, self.wire.local(), self.wire.transport())
    }

    /// The SDP context for a new description (the version goes up each time, RFC 3264 §8).
    pub fn next_sdp(&mut self) -> SdpContext {
        self.sdp.version += 1;
        self.sdp
    }

    /// Records a request sent through a client transaction.
    pub fn record_sent(&mut self, tx: TxId, msg: Message, slot: Option<usize>, ack: AckMode) {
        let method = msg.method().map(|m| m.into_owned()).unwrap_or_default();
        let first_of_method = self.methods_sent.insert(method.clone());
        let offered = msg.has_sdp();
        if let Some(i) = slot {
            self.last_slot = Some(i);
        }
        self.sent.insert(
            tx,
            Sent {
                msg,
                method,
                slot,
                ack,
                first_of_method,
                offered,
                finished: false,
                provisional: false,
            },
        );
    }

    /// A new dialog slot; returns its index.
    pub fn new_slot(&mut self, name: Option<String>, local_tag: String) -> usize {
        self.slots.push(Slot {
            name,
            local_tag,
            set: None,
            creating_tx: None,
            dialog: None,
            last_sdp: None,
            acks: HashMap::new(),
            held_2xx: None,
        });
        self.last_slot = Some(self.slots.len() - 1);
        self.slots.len() - 1
    }

    pub fn slot_named(&self, name: &str) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.name.as_deref() == Some(name))
    }

    /// Takes an endpoint event: absorbs what never breaks a step, queues the rest.
    pub fn on_event(&mut self, ev: EndpointEvent, seq: u64, at: Duration) {
        let arrival = match ev {
            EndpointEvent::Request { tx, msg, .. } => self.on_request(Some(tx), msg),
            EndpointEvent::Response { tx, msg } => self.on_response(Some(tx), msg),
            EndpointEvent::Stray { msg, .. } if msg.is_request() => self.on_request(None, msg),
            EndpointEvent::Stray { msg, .. } => self.on_response(None, msg),
            EndpointEvent::Timeout { tx, .. } | EndpointEvent::TransportError { tx, .. }
                if self.sent.get(&tx).is_some_and(|s| s.finished) =>
            {
                None // about a transaction already over (RFC 6026 Timer M, a late error)
            }
            EndpointEvent::Timeout { tx, timer } => Some(Arrival::Timeout {
                tx,
                timer,
                method: self.method_of(tx),
            }),
            EndpointEvent::TransportError { tx, peer } => Some(Arrival::TransportError {
                tx,
                method: self.method_of(tx),
                peer,
            }),
            EndpointEvent::Garbage {
                bytes,
                from,
                violation,
            } => Some(Arrival::Garbage {
                len: bytes.len(),
                from,
                problem: violation.to_string(),
            }),
        };
        if let Some(what) = arrival {
            if let Arrival::Timeout { tx, .. } | Arrival::TransportError { tx, .. } = &what {
                if let Some(s) = self.sent.get_mut(tx) {
                    s.finished = true;
                }
            }
            self.push(Incoming { seq, at, what });
        }
    }

    fn push(&mut self, inc: Incoming) {
        if self.mailbox.len() >= MAILBOX_LIMIT {
            self.overflow += 1;
        } else {
            self.mailbox.push_back(inc);
        }
    }

    fn method_of(&self, tx: TxId) -> String {
        self.sent
            .get(&tx)
            .map(|s| s.method.clone())
            .or_else(|| {
                self.received
                    .iter()
                    .rev()
                    .find(|r| r.tx == Some(tx))
                    .map(|r| r.method.clone())
            })
            .unwrap_or_else(|| "request".into())
    }

    fn on_request(&mut self, tx: Option<TxId>, msg: Message) -> Option<Arrival> {
        let method = msg.method().map(|m| m.into_owned()).unwrap_or_default();
        if method == "ACK" && !self.on_ack(&msg) {
            return None;
        }
        let slot = self.slot_of_request(&msg);
        let local_tag = msg.to_tag().unwrap_or_else(|| self.wire.token());
        let slot = match slot {
            None if creates_dialog(&method) && msg.to_tag().is_none() => {
                Some(self.new_slot(None, local_tag.clone()))
            }
            other => other,
        };
        if let (Some(i), true) = (slot, msg.to_tag().is_some() && method != "ACK") {
            if let Some(d) = self.slots[i].dialog.as_mut() {
                if let Err(e) = d.on_remote_request(&msg) {
                    self.notes.push(format!("{method} in dialog: {e}"));
                }
            }
        }
        self.received.push(Received {
            tx,
            msg: msg.clone(),
            method: method.clone(),
            label: None,
            answered: method == "ACK",
            local_tag,
            slot,
        });
        Some(Arrival::Request {
            msg,
            tx,
            received: self.received.len() - 1,
        })
    }

    /// The slot a received request belongs to: its To tag is a slot's local tag.
    fn slot_of_request(&self, msg: &Message) -> Option<usize> {
        let to_tag = msg.to_tag()?;
        self.slots.iter().position(|s| s.local_tag == to_tag)
    }

    /// An ACK: stops the 2xx retransmissions it acknowledges; false when it is a duplicate
    /// (an ACK re-sent for a retransmitted 2xx) and must not reach the steps.
    fn on_ack(&mut self, msg: &Message) -> bool {
        let key = (
            msg.call_id().unwrap_or_default(),
            msg.cseq().map_or(0, |c| c.number),
            msg.from_tag().unwrap_or_default(),
        );
        self.retransmits.retain(|r| r.key != key);
        self.seen
            .insert(format!("ACK {} {} {}", key.0, key.1, key.2))
    }

    fn on_response(&mut self, tx: Option<TxId>, msg: Message) -> Option<Arrival> {
        let status = msg.status().unwrap_or(0);
        let cseq = msg.cseq();
        let method = tx
            .and_then(|t| self.sent.get(&t).map(|s| s.method.clone()))
            .or_else(|| cseq.as_ref().map(|c| c.method.clone()))
            .unwrap_or_default();
        let slot = self.slot_of_response(tx, &msg);
        if let Some(s) = tx.and_then(|t| self.sent.get_mut(&t)) {
            s.finished |= status >= 200;
            s.provisional |= status < 200;
            if status >= 200 {
                self.last_final.insert(method.clone(), msg.clone());
            }
        }
        if method == "INVITE" && (200..300).contains(&status) {
            let fresh = self.on_invite_2xx(tx, slot, &msg);
            let stray = tx.is_none() && !self.sent_stateless;
            return fresh.then_some(Arrival::Response {
                msg,
                tx,
                method,
                stray,
            });
        }
        let key = format!(
            "{status} {:?} {} {}",
            msg.branch(),
            cseq.map_or(0, |c| c.number),
            msg.to_tag().unwrap_or_default()
        );
        if !self.seen.insert(key) {
            return None; // a retransmission already offered (RFC 3261 §17.1.1.2, §17.1.2.2)
        }
        if let (Some(i), Some(t)) = (slot, tx) {
            self.feed_dialog(i, t, &msg);
        }
        let stray = tx.is_none() && !self.sent_stateless;
        Some(Arrival::Response {
            msg,
            tx,
            method,
            stray,
        })
    }

    /// The slot of a response: its request's, or the one whose local tag is its From tag.
    fn slot_of_response(&self, tx: Option<TxId>, msg: &Message) -> Option<usize> {
        if let Some(s) = tx.and_then(|t| self.sent.get(&t)).and_then(|s| s.slot) {
            return Some(s);
        }
        let from_tag = msg.from_tag()?;
        self.slots.iter().position(|s| s.local_tag == from_tag)
    }

    /// A 2xx to an INVITE (RFC 3261 §13.2.2.4): the dialog is confirmed and the 2xx ACKed,
    /// now or (`ack: manual`) at the `send: ACK` step; a retransmission is ACKed again and
    /// absorbed. Returns whether the steps must see it.
    fn on_invite_2xx(&mut self, tx: Option<TxId>, slot: Option<usize>, msg: &Message) -> bool {
        let Some(i) = slot else {
            return true;
        };
        let remote = msg.to_tag().unwrap_or_default();
        let cseq = msg.cseq().map_or(0, |c| c.number);
        if let Some(ack) = self.slots[i].acks.get(&(remote.clone(), cseq)) {
            self.wire.send_raw(self.target, ack.clone());
            return false;
        }
        let key = format!("2xx {remote} {cseq}");
        if !self.seen.insert(key) {
            return false; // held for a manual ACK: the target keeps retransmitting
        }
        if let Some(t) = tx {
            self.feed_dialog(i, t, msg);
        }
        let manual = tx
            .and_then(|t| self.sent.get(&t))
            .is_some_and(|s| s.ack == AckMode::Manual);
        if manual {
            self.slots[i].held_2xx = Some(msg.clone());
        } else if let Err(e) = self.send_ack(i, msg, &[]) {
            self.notes.push(e);
        }
        true
    }

    /// Sends the ACK of a 2xx in slot `i` and keeps it for retransmissions of that 2xx.
    pub fn send_ack(
        &mut self,
        i: usize,
        ok: &Message,
        edits: &[RenderedEdit],
    ) -> Result<Vec<u8>, String> {
        let remote = ok.to_tag().unwrap_or_default();
        let cseq = ok.cseq().map_or(0, |c| c.number);
        let dialog = self.dialog_for_tag(i, &remote).ok_or_else(|| {
            format!("cannot ACK the 2xx: no dialog for To tag `{remote}` (RFC 3261 §12.1.2)")
        })?;
        let via = self.wire.new_via();
        let mut draft = compose::ack_for_2xx(&dialog, cseq, &via);
        // RFC 3264 §4 (RFC 3261 §13.2.1): a 2xx carrying the offer is answered in the ACK.
        // Whether the INVITE it answers (the one with its CSeq) offered: a re-INVITE without
        // SDP gets an offer in its 2xx even when the dialog's first INVITE had one.
        let invite_offered = self.sent.values().any(|s| {
            s.slot == Some(i)
                && s.method == "INVITE"
                && s.offered
                && s.msg.cseq().is_some_and(|c| c.number == cseq)
        });
        if let Some(offer) = (!invite_offered).then(|| ok.sdp()).flatten() {
            let ctx = self.next_sdp();
            let body = sdp_gen::answer(&ctx, &offer, &Default::default());
            self.slots[i].last_sdp = Some(body.clone());
            draft.set_body("application/sdp", body);
        }
        draft.apply(edits);
        let bytes = draft.to_bytes();
        self.wire.send_raw(self.target, bytes.clone());
        self.slots[i].acks.insert((remote, cseq), bytes.clone());
        Ok(bytes)
    }

    fn dialog_for_tag(&self, i: usize, remote: &str) -> Option<Dialog> {
        let s = &self.slots[i];
        s.set
            .as_ref()
            .and_then(|set| set.get(remote).cloned())
            .or_else(|| s.dialog.clone().filter(|d| d.id.remote_tag == remote))
    }

    /// A response to request `tx` of slot `i` updates its dialogs (RFC 3261 §12.1.2,
    /// §12.2.1.2, §13.2.2.4).
    fn feed_dialog(&mut self, i: usize, tx: TxId, msg: &Message) {
        let slot = &mut self.slots[i];
        if slot.creating_tx == Some(tx) {
            let Some(set) = slot.set.as_mut() else {
                return;
            };
            match set.on_response(msg) {
                Ok(SetEvent::Provisional { id, .. } | SetEvent::Confirmed { id, .. }) => {
                    adopt(slot, &id)
                }
                Ok(_) => {}
                Err(e) => self
                    .notes
                    .push(format!("response to the dialog's request: {e}")),
            }
        } else if let Some(d) = slot.dialog.as_mut() {
            if let Err(e) = d.on_response(msg) {
                self.notes.push(format!("response in dialog: {e}"));
            }
        }
    }

    /// Starts retransmitting a 2xx to an INVITE over UDP until its ACK (RFC 3261 §13.3.1.4):
    /// at T1, then doubling up to T2, for 64*T1.
    pub fn retransmit_2xx(&mut self, tx: TxId, ok: &Message, request: &Message, now: Instant) {
        // RFC 3261 §13.3.1.4: "retransmitted periodically even if the transport at the UAS
        // is reliable" (there may be UDP hops beyond it): over TCP too.
        let key = (
            request.call_id().unwrap_or_default(),
            request.cseq().map_or(0, |c| c.number),
            request.from_tag().unwrap_or_default(),
        );
        self.retransmits.push(Retransmit {
            tx,
            msg: ok.clone(),
            key,
            next: now + self.t1,
            interval: self.t1,
            until: now + self.t1 * 64,
        });
    }

    /// When the agent must be woken next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.retransmits.iter().map(|r| r.next).min()
    }

    /// Retransmits what is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let t2 = self.t2;
        let wire = self.wire.clone();
        self.retransmits.retain_mut(|r| {
            if r.next > now {
                return true;
            }
            if now >= r.until || wire.send_response(r.tx, r.msg.clone()).is_err() {
                return false;
            }
            r.interval = (r.interval * 2).min(t2);
            r.next = now + r.interval;
            true
        });
    }

    /// Whether an arrival belongs to the dialog named `name`, or (a request without To tag
    /// that creates dialogs, when no dialog has the name yet) creates it.
    pub fn belongs(&self, name: &str, a: &Arrival) -> bool {
        match (self.slot_named(name), a) {
            (Some(i), Arrival::Response { msg, tx, .. }) => {
                self.slot_of_response(*tx, msg) == Some(i)
            }
            (Some(i), Arrival::Request { msg, received, .. }) => {
                self.received[*received].slot == Some(i) || self.slot_matches_request(i, msg)
            }
            (None, Arrival::Request { msg, received, .. }) => {
                msg.to_tag().is_none()
                    && self.received[*received]
                        .slot
                        .is_some_and(|s| self.slots[s].name.is_none())
            }
            _ => false,
        }
    }

    /// Whether a received request is in slot `i`: its To tag is the slot's local tag, or
    /// (no To tag: a CANCEL, RFC 3261 §9.2) its From tag is the dialog's remote tag.
    pub fn slot_matches_request(&self, i: usize, msg: &Message) -> bool {
        let s = &self.slots[i];
        match msg.to_tag() {
            Some(t) => t == s.local_tag,
            None => s
                .dialog
                .as_ref()
                .is_some_and(|d| Some(&d.id.remote_tag) == msg.from_tag().as_ref()),
        }
    }
}

/// Makes the dialog `id` of the slot's set the one its steps use: the first one seen, or a
/// confirmed one replacing an early one (RFC 3261 §13.2.2.4). The local sequence number the
/// steps advanced is kept.
fn adopt(slot: &mut Slot, id: &DialogId) {
    let Some(fresh) = slot
        .set
        .as_ref()
        .and_then(|s| s.get(&id.remote_tag))
        .cloned()
    else {
        return;
    };
    let replace = match &slot.dialog {
        None => true,
        Some(d) => d.id.remote_tag == id.remote_tag || (d.is_early() && fresh.is_confirmed()),
    };
    if replace {
        let seq = slot.dialog.as_ref().and_then(|d| d.local_seq);
        let mut d = fresh;
        d.local_seq = d.local_seq.max(seq);
        slot.dialog = Some(d);
    }
}

#[cfg(test)]
#[path = "agent_tests.rs"]
mod tests;

/// The audio port written in an agent's SDP: nothing listens there (no media flows), but a
/// real device sends RTP and RTCP to it and the port after it (RFC 3550 §11), so the pair
/// must never be a SIP socket of siptest. Even ports 20000-29998 lie below Linux's ephemeral
/// range (32768-60999), where the agents' SIP ports come from unless fixed with
/// `--agent-port`; a fixed port in the range is stepped over.
pub fn media_port(sip_port: u16) -> u16 {
    let mut p = 20_000 + (sip_port % 5_000) * 2;
    if p == sip_port || p + 1 == sip_port {
        p = if p >= 29_998 { 20_000 } else { p + 2 };
    }
    p
}

#[cfg(test)]
mod media_port_tests {
    #[test]
    fn the_media_pair_never_is_the_sip_port() {
        for sip in 1..=u16::MAX {
            let p = super::media_port(sip);
            assert!(p % 2 == 0 && (20_000..30_000).contains(&p), "{sip} -> {p}");
            assert!(p != sip && p + 1 != sip, "{sip} -> {p}");
        }
    }
}
