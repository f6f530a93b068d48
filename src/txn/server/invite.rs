//! The INVITE server transaction: RFC 3261 §17.2.1 as updated by RFC 6026 §7.1 (the Accepted
//! state and Timer L, RFC 6026 §8.4).
//!
//! ```text
//!   Proceeding --1xx from TU: send------------------------------> Proceeding
//!   Proceeding --200 ms without a provisional: send 100---------> Proceeding
//!   Proceeding --2xx from TU: send, Timer L---------------------> Accepted
//!   Proceeding --300-699 from TU: send, Timers G (UDP) and H----> Completed
//!   Accepted   --ACK: pass to TU; INVITE: absorb; 2xx: send-----> Accepted
//!   Accepted   --Timer L------------------------------------------> Terminated
//!   Completed  --Timer G: re-send final; INVITE: re-send final--> Completed
//!   Completed  --Timer H: Timeout(H) to TU------------------------> Terminated
//!   Completed  --ACK: Timer I (T4 UDP, 0 reliable)--------------> Confirmed
//!   Confirmed  --Timer I------------------------------------------> Terminated
//!   any        --transport error: inform TU---------------------> Terminated
//! ```

use super::shared::{is_ack, status_of, Shared};
use super::{build_response, Refused};
use crate::sip::message::Message;
use crate::txn::{Reliability, Time, TimerConfig, TimerName, TuEvent, TxKey};
use std::time::Duration;

/// The states of RFC 3261 Figure 7 with RFC 6026's Accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ServerInviteState {
    Proceeding,
    /// A 2xx was sent; the TU retransmits it (RFC 3261 §13.3.1.4), the transaction only
    /// absorbs INVITE retransmissions and passes the ACK up (RFC 6026 §7.1).
    Accepted,
    Completed,
    Confirmed,
    Terminated,
}

/// An INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §7.1), sans-IO.
#[derive(Clone, Debug)]
pub struct ServerInvite {
    tx: Shared,
    state: ServerInviteState,
    /// The most recent provisional sent, for INVITE retransmissions in Proceeding.
    last_provisional: Option<Vec<u8>>,
    /// The 300-699 final, for Timer G and INVITE retransmissions in Completed.
    final_response: Option<Vec<u8>>,
    /// Timer G's current interval: T1, then doubled up to T2.
    g_interval: Duration,
}

impl ServerInvite {
    /// A transaction for an INVITE that arrived at `now`, in Proceeding. `None` when the
    /// request is not an INVITE or has no transaction key (no top Via or CSeq).
    pub fn new(now: Time, request: Message, cfg: TimerConfig, rel: Reliability) -> Option<Self> {
        if request.method().as_deref() != Some("INVITE") {
            return None;
        }
        let mut tx = Shared::new(request, cfg, rel)?;
        // RFC 3261 §17.2.1: the transaction sends 100 Trying itself unless the TU sends a
        // provisional within 200 ms.
        tx.set_timer(TimerName::Trying100, now + cfg.trying_delay);
        Some(ServerInvite {
            tx,
            state: ServerInviteState::Proceeding,
            last_provisional: None,
            final_response: None,
            g_interval: cfg.t1,
        })
    }

    pub fn key(&self) -> &TxKey {
        &self.tx.key
    }

    pub fn state(&self) -> ServerInviteState {
        self.state
    }

    /// The INVITE this transaction was created for.
    pub fn request(&self) -> &Message {
        &self.tx.request
    }

    /// A request the caller matched to this transaction: a retransmission of the INVITE or an
    /// ACK (to the non-2xx final by §17.2.3, or to the 2xx when the caller routes it here).
    pub fn handle_request(&mut self, now: Time, req: Message) {
        use ServerInviteState::*;
        match (self.state, is_ack(&req)) {
            // RFC 3261 §17.2.1: a retransmission in Proceeding gets the latest provisional.
            (Proceeding, false) => {
                if let Some(p) = self.last_provisional.clone() {
                    self.tx.transmit(p);
                }
            }
            // RFC 3261 §17.2.1: a retransmission in Completed gets the final again.
            (Completed, false) => {
                if let Some(f) = self.final_response.clone() {
                    self.tx.transmit(f);
                }
            }
            // RFC 3261 §17.2.1: ACK in Completed -> Confirmed.
            (Completed, true) => self.confirm(now),
            // RFC 6026 §7.1: in Accepted the ACK (for the 2xx) goes to the TU...
            (Accepted, true) => self.tx.tu(TuEvent::Request(req)),
            // RFC 6026 §7.1: ...and INVITE retransmissions are absorbed.
            (Accepted, false) => {}
            // RFC 3261 §17.2.1: Confirmed absorbs further ACKs (and INVITEs).
            (Confirmed, _) => {}
            // No final was sent, so an ACK here acknowledges nothing (§17.2.3): absorbed.
            (Proceeding, true) | (Terminated, _) => {}
        }
    }

    /// A response from the TU. Refused (nothing sent, `TuEvent::Refused` queued) when it is
    /// not a response, or when a non-2xx final was already sent, or after Terminated.
    pub fn send_response(&mut self, now: Time, resp: Message) -> Result<(), Refused> {
        use ServerInviteState::*;
        let code = status_of(&mut self.tx, &resp)?;
        match (self.state, code) {
            // RFC 3261 §17.2.1: provisionals from the TU in Proceeding are sent.
            (Proceeding, 100..=199) => {
                self.tx.cancel_timer(TimerName::Trying100);
                let bytes = resp.to_bytes();
                self.last_provisional = Some(bytes.clone());
                self.tx.transmit(bytes);
            }
            // RFC 6026 §7.1: a 2xx moves Proceeding to Accepted with Timer L (§8.4)...
            (Proceeding, 200..=299) => {
                self.tx.cancel_timer(TimerName::Trying100);
                self.tx.transmit(resp.to_bytes());
                self.state = Accepted;
                self.tx.set_timer(TimerName::L, now + self.tx.cfg.t1x64());
            }
            // RFC 6026 §7.1: ...and in Accepted every 2xx the TU retransmits is sent.
            (Accepted, 200..=299) => self.tx.transmit(resp.to_bytes()),
            (Proceeding, _) => self.complete(now, resp.to_bytes()),
            (Terminated, _) => {
                return self
                    .tx
                    .refuse("the transaction is terminated", "RFC 3261 §17.2.1")
            }
            _ => {
                return self.tx.refuse(
                    "a final response was already sent for this INVITE",
                    "RFC 3261 §17.2.1",
                )
            }
        }
        Ok(())
    }

    /// Builds a response to the INVITE with [`build_response`] and sends it.
    pub fn respond(
        &mut self,
        now: Time,
        code: u16,
        reason: &str,
        to_tag: Option<&str>,
    ) -> Result<(), Refused> {
        let bytes = build_response(&self.tx.request, code, reason, to_tag);
        self.send_response(now, crate::sip::parse::parse_message(&bytes))
    }

    /// Fires every timer due at `now`, in the order they expired.
    pub fn handle_timeout(&mut self, now: Time) {
        while let Some(name) = self.tx.pop_due(now) {
            self.on_timer(now, name);
        }
    }

    pub fn poll_output(&mut self) -> Option<crate::txn::Output> {
        self.tx.poll_output()
    }

    pub fn poll_timeout(&self) -> Option<Time> {
        self.tx.next_timeout()
    }

    /// The armed timers, earliest first.
    pub fn timers(&self) -> impl Iterator<Item = (TimerName, Time)> {
        self.tx.timers()
    }

    /// The transport could not send a response. RFC 3261 §17.2.4: inform the TU and go to
    /// Terminated. `TuEvent` has no transport-error variant, so `Terminated` is that notice.
    pub fn transport_error(&mut self, _now: Time) {
        self.terminate();
    }

    fn on_timer(&mut self, now: Time, name: TimerName) {
        use ServerInviteState::*;
        match (self.state, name) {
            // RFC 3261 §17.2.1: no provisional from the TU within 200 ms: send 100 Trying
            // (no To-tag: §8.2.6.2 lets a 100 go without one).
            (Proceeding, TimerName::Trying100) => {
                let bytes = build_response(&self.tx.request, 100, "Trying", None);
                self.last_provisional = Some(bytes.clone());
                self.tx.transmit(bytes);
            }
            // RFC 3261 §17.2.1: Timer G re-sends the final and doubles up to T2.
            (Completed, TimerName::G) => {
                if let Some(f) = self.final_response.clone() {
                    self.tx.transmit(f);
                }
                self.g_interval = (self.g_interval * 2).min(self.tx.cfg.t2);
                self.tx.set_timer(TimerName::G, now + self.g_interval);
            }
            // RFC 3261 §17.2.1: Timer H, no ACK: tell the TU, Terminated.
            (Completed, TimerName::H) => {
                self.tx.tu(TuEvent::Timeout(TimerName::H));
                self.terminate();
            }
            // RFC 3261 §17.2.1: Timer I ends Confirmed.
            (Confirmed, TimerName::I) => self.terminate(),
            // RFC 6026 §7.1: Timer L ends Accepted.
            (Accepted, TimerName::L) => self.terminate(),
            // A timer left over from an earlier state (all are cancelled on leaving it).
            _ => {}
        }
    }

    /// RFC 3261 §17.2.1: a 300-699 final from the TU in Proceeding: send it, Completed,
    /// Timer G (T1, unreliable transports only) and Timer H (64*T1, every transport).
    fn complete(&mut self, now: Time, bytes: Vec<u8>) {
        self.tx.cancel_timer(TimerName::Trying100);
        self.final_response = Some(bytes.clone());
        self.tx.transmit(bytes);
        self.state = ServerInviteState::Completed;
        if self.tx.unreliable() {
            self.g_interval = self.tx.cfg.t1;
            self.tx.set_timer(TimerName::G, now + self.g_interval);
        }
        self.tx.set_timer(TimerName::H, now + self.tx.cfg.t1x64());
    }

    /// RFC 3261 §17.2.1: ACK in Completed: Confirmed, G and H stop, Timer I is T4 on
    /// unreliable transports and zero on reliable ones (so Terminated at once).
    fn confirm(&mut self, now: Time) {
        self.state = ServerInviteState::Confirmed;
        self.tx.cancel_timer(TimerName::G);
        self.tx.cancel_timer(TimerName::H);
        if self.tx.unreliable() {
            self.tx.set_timer(TimerName::I, now + self.tx.cfg.t4);
        } else {
            self.terminate();
        }
    }

    fn terminate(&mut self) {
        self.state = ServerInviteState::Terminated;
        self.tx.terminate();
    }
}
