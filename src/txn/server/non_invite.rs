//! The non-INVITE server transaction: RFC 3261 §17.2.2 with RFC 4320's rules for the responses
//! siptest itself sends.
//!
//! ```text
//!   Trying     --request retransmission: absorb------------------> Trying
//!   Trying     --100 from TU (reliable, or after E reached T2)---> Proceeding
//!   Trying     --NonInvite100 (E would reach T2): send 100-------> Proceeding
//!   Proceeding --1xx from TU: send; retransmission: re-send-------> Proceeding
//!   Trying/Proceeding --200-699 from TU: send, Timer J-----------> Completed
//!   Completed  --retransmission: re-send final-------------------> Completed
//!   Completed  --Timer J (64*T1 UDP, 0 reliable)------------------> Terminated
//!   any        --transport error: inform TU---------------------> Terminated
//! ```
//!
//! RFC 4320 §4.1 and §4.2, and the choice made for the delayed 100: Timer `NonInvite100` is
//! armed when the request arrives, for `cfg.timer_e_reaches_t2()` (3.5 s with the defaults),
//! on every transport. Until then a 100 from the TU over an unreliable transport is held back
//! (accepted, not sent): sent earlier it would make the client stop its short retransmissions
//! for nothing (§4.1: MUST NOT before Timer E reaches T2). When the timer fires with no
//! response sent yet, the transaction sends 100 itself, whether or not the TU asked, because
//! §4.1 also says an element MUST send 100 by then "without regard to transport" if it has
//! not otherwise responded: a slow server so tells the client to retransmit at T2 intervals.
//! Over reliable transports the TU's 100 goes out at once (§4.1: MAY at any time).

use super::shared::{status_of, Shared};
use super::{build_response, Refused};
use crate::sip::message::Message;
use crate::txn::{Output, Reliability, Time, TimerConfig, TimerName, TxKey};

/// The states of RFC 3261 Figure 8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ServerNonInviteState {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

/// A non-INVITE server transaction (RFC 3261 §17.2.2, RFC 4320 §4), sans-IO.
#[derive(Clone, Debug)]
pub struct ServerNonInvite {
    tx: Shared,
    state: ServerNonInviteState,
    /// From this time on a 100 may go out over an unreliable transport (RFC 4320 §4.1).
    hundred_allowed_at: Time,
    /// The most recent provisional sent, for retransmissions in Proceeding.
    last_provisional: Option<Vec<u8>>,
    /// The final response, for retransmissions in Completed.
    final_response: Option<Vec<u8>>,
}

impl ServerNonInvite {
    /// A transaction for a non-INVITE request that arrived at `now`, in Trying. `None` for
    /// INVITE and ACK (ACK never creates a server transaction, RFC 3261 §17.2.3) and for a
    /// request with no transaction key.
    pub fn new(now: Time, request: Message, cfg: TimerConfig, rel: Reliability) -> Option<Self> {
        if matches!(request.method().as_deref(), Some("INVITE" | "ACK") | None) {
            return None;
        }
        let mut tx = Shared::new(request, cfg, rel)?;
        let hundred_allowed_at = now + cfg.timer_e_reaches_t2();
        // RFC 4320 §4.1: a 100 is due once the client's Timer E would have reached T2.
        tx.set_timer(TimerName::NonInvite100, hundred_allowed_at);
        Some(ServerNonInvite {
            tx,
            state: ServerNonInviteState::Trying,
            hundred_allowed_at,
            last_provisional: None,
            final_response: None,
        })
    }

    pub fn key(&self) -> &TxKey {
        &self.tx.key
    }

    pub fn state(&self) -> ServerNonInviteState {
        self.state
    }

    /// The request this transaction was created for.
    pub fn request(&self) -> &Message {
        &self.tx.request
    }

    /// A retransmission of the request, matched to this transaction by the caller.
    pub fn handle_request(&mut self, _now: Time, _req: Message) {
        use ServerNonInviteState::*;
        let resend = match self.state {
            // RFC 3261 §17.2.2: retransmissions in Trying are discarded.
            Trying | Terminated => None,
            // RFC 3261 §17.2.2: in Proceeding they get the latest provisional.
            Proceeding => self.last_provisional.clone(),
            // RFC 3261 §17.2.2: in Completed they get the final.
            Completed => self.final_response.clone(),
        };
        if let Some(bytes) = resend {
            self.tx.transmit(bytes);
        }
    }

    /// A response from the TU. Refused (nothing sent, `TuEvent::Refused` queued) for a 408
    /// (RFC 4320 §4.2), a provisional other than 100 (RFC 4320 §4.1), anything after the final
    /// (RFC 3261 §17.2.2) or after Terminated. A 100 over an unreliable transport before Timer
    /// E would reach T2 is accepted but held back (see the module documentation).
    pub fn send_response(&mut self, now: Time, resp: Message) -> Result<(), Refused> {
        use ServerNonInviteState::*;
        let code = status_of(&mut self.tx, &resp)?;
        if code == 408 {
            return self.tx.refuse(
                "a transaction-stateful element sends no 408 to a non-INVITE request",
                "RFC 4320 §4.2",
            );
        }
        if (101..=199).contains(&code) {
            return self.tx.refuse(
                "no provisional other than 100 to a non-INVITE request",
                "RFC 4320 §4.1",
            );
        }
        match self.state {
            Completed => {
                // RFC 3261 §17.2.2: further responses in Completed are discarded.
                return self.tx.refuse(
                    "a final response was already sent for this request",
                    "RFC 3261 §17.2.2",
                );
            }
            Terminated => {
                return self
                    .tx
                    .refuse("the transaction is terminated", "RFC 3261 §17.2.2")
            }
            // RFC 4320 §4.1: no 100 over UDP before Timer E reaches T2; the timer sends it.
            Trying if code == 100 && self.tx.unreliable() && now < self.hundred_allowed_at => {}
            // RFC 3261 §17.2.2: a provisional from the TU: send it, Proceeding.
            Trying | Proceeding if code == 100 => self.send_provisional(resp.to_bytes()),
            Trying | Proceeding => self.complete(now, resp.to_bytes()),
        }
        Ok(())
    }

    /// Builds a response to the request with [`build_response`] and sends it.
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
            match (self.state, name) {
                // RFC 4320 §4.1: Timer E would now be at T2 and nothing was sent: send 100.
                (ServerNonInviteState::Trying, TimerName::NonInvite100) => {
                    let bytes = build_response(&self.tx.request, 100, "Trying", None);
                    self.send_provisional(bytes);
                }
                // RFC 3261 §17.2.2: Timer J ends Completed.
                (ServerNonInviteState::Completed, TimerName::J) => self.terminate(),
                _ => {}
            }
        }
    }

    pub fn poll_output(&mut self) -> Option<Output> {
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
    /// Terminated (`TuEvent::Terminated` is that notice).
    pub fn transport_error(&mut self, _now: Time) {
        self.terminate();
    }

    /// RFC 3261 §17.2.2: a provisional in Trying or Proceeding is sent and the transaction is
    /// in Proceeding; the delayed 100 is no longer needed once one went out.
    fn send_provisional(&mut self, bytes: Vec<u8>) {
        self.tx.cancel_timer(TimerName::NonInvite100);
        self.last_provisional = Some(bytes.clone());
        self.tx.transmit(bytes);
        self.state = ServerNonInviteState::Proceeding;
    }

    /// RFC 3261 §17.2.2: a final from the TU: send it, Completed, Timer J = 64*T1 on
    /// unreliable transports and zero (Terminated at once) on reliable ones.
    fn complete(&mut self, now: Time, bytes: Vec<u8>) {
        self.tx.cancel_timer(TimerName::NonInvite100);
        self.final_response = Some(bytes.clone());
        self.tx.transmit(bytes);
        self.state = ServerNonInviteState::Completed;
        if self.tx.unreliable() {
            self.tx.set_timer(TimerName::J, now + self.tx.cfg.t1x64());
        } else {
            self.terminate();
        }
    }

    fn terminate(&mut self) {
        self.state = ServerNonInviteState::Terminated;
        self.tx.terminate();
    }
}
