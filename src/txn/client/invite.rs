//! The INVITE client transaction: RFC 3261 §17.1.1 (Figure 5) with RFC 6026 §7.2 (Figure 3),
//! which adds the Accepted state so that every 2xx, from every fork, reaches the TU.

use super::build::build_ack_for_non_2xx;
use super::common::Core;
use super::{ClientTxError, Termination};
use crate::sip::message::Message;
use crate::txn::{Output, Reliability, Time, TimerConfig, TimerName, TuEvent, TxKey};
use std::time::Duration;

/// The states of RFC 3261 §17.1.1.2 plus RFC 6026's Accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ClientInviteState {
    /// The INVITE was sent; no response yet. Timer A (unreliable) and Timer B run.
    Calling,
    /// A provisional response arrived; the request is no longer retransmitted.
    Proceeding,
    /// A 2xx arrived (RFC 6026 §7.2): further 2xx are passed to the TU until Timer M fires.
    Accepted,
    /// A 300-699 arrived and was ACKed; final retransmissions are re-ACKed until Timer D.
    Completed,
    Terminated,
}

impl ClientInviteState {
    /// The RFC's name for the state.
    pub fn name(self) -> &'static str {
        match self {
            ClientInviteState::Calling => "Calling",
            ClientInviteState::Proceeding => "Proceeding",
            ClientInviteState::Accepted => "Accepted",
            ClientInviteState::Completed => "Completed",
            ClientInviteState::Terminated => "Terminated",
        }
    }
}

/// A client INVITE transaction. See the module docs of [`super`] for how to drive it.
#[derive(Clone, Debug)]
pub struct ClientInvite {
    pub(super) core: Core,
    state: ClientInviteState,
    /// The interval Timer A was last armed with (T1, then doubled on each firing).
    a_interval: Duration,
    /// The ACK sent for the non-2xx final response, kept to re-send on its retransmissions.
    ack: Option<Vec<u8>>,
}

impl ClientInvite {
    /// Starts the transaction in Calling and queues the INVITE for transmission.
    pub fn new(
        now: Time,
        request: Message,
        cfg: TimerConfig,
        rel: Reliability,
    ) -> Result<Self, ClientTxError> {
        let core = Core::new(request, cfg, rel)?;
        let method = core.method();
        if method != "INVITE" {
            return Err(ClientTxError::NotInvite(method));
        }
        let mut tx = ClientInvite {
            core,
            state: ClientInviteState::Calling,
            a_interval: cfg.t1,
            ack: None,
        };
        // RFC 3261 §17.1.1.2: the initial state is Calling; the request is passed to the
        // transport; Timer A = T1 on unreliable transports only; Timer B = 64*T1 on all.
        tx.core.transmit_request();
        if tx.core.is_unreliable() {
            tx.core.arm(TimerName::A, now + cfg.t1);
        }
        tx.core.arm(TimerName::B, now + cfg.t1x64());
        Ok(tx)
    }

    pub fn key(&self) -> &TxKey {
        &self.core.key
    }

    pub fn state(&self) -> ClientInviteState {
        self.state
    }

    /// The INVITE this transaction sends.
    pub fn request(&self) -> &Message {
        &self.core.request
    }

    /// The ACK sent for a non-2xx final response, once there is one.
    pub fn ack(&self) -> Option<&[u8]> {
        self.ack.as_deref()
    }

    /// A response the caller matched to this transaction (§17.1.3). Responses the current
    /// state has no transition for are dropped silently.
    pub fn handle_response(&mut self, now: Time, resp: Message) {
        use ClientInviteState::*;
        let Some(code) = resp.status() else { return };
        match (self.state, code) {
            (Calling | Proceeding, 100..=199) => self.on_provisional(resp),
            (Calling | Proceeding, 200..=299) => self.on_2xx(now, resp),
            (Calling | Proceeding, 300..=699) => self.on_failure(now, resp),
            // RFC 6026 §7.2: in Accepted, a 2xx (a retransmission or another fork's) is
            // passed to the TU, which ACKs it (RFC 3261 §13.2.2.4); Timer M is not restarted.
            (Accepted, 200..=299) => self.core.tell_tu(TuEvent::Response(resp)),
            // RFC 3261 §17.1.1.2: a retransmitted final in Completed makes the transaction
            // re-send the ACK and is NOT passed to the TU.
            (Completed, 300..=699) => {
                if let Some(ack) = self.ack.clone() {
                    self.core.transmit(ack);
                }
            }
            // No transition: 1xx in Accepted or Completed, non-2xx in Accepted (RFC 6026 §7.2
            // passes up only 2xx), 2xx in Completed, anything in Terminated, codes outside
            // 100-699.
            _ => {}
        }
    }

    /// RFC 3261 §17.1.1.2: a provisional in Calling moves to Proceeding (stop retransmitting:
    /// Timer A stops, and Timer B, which only acts in Calling, with it); every provisional is
    /// passed to the TU.
    fn on_provisional(&mut self, resp: Message) {
        self.state = ClientInviteState::Proceeding;
        self.core.disarm(TimerName::A);
        self.core.disarm(TimerName::B);
        self.core.tell_tu(TuEvent::Response(resp));
    }

    /// RFC 6026 §7.2 (replacing RFC 3261 §17.1.1.2's move to Terminated): a 2xx in Calling or
    /// Proceeding moves to Accepted and is passed to the TU; Timer M = 64*T1 (RFC 6026 §8.4)
    /// on every transport. The transaction sends no ACK for a 2xx (RFC 3261 §13.2.2.4).
    fn on_2xx(&mut self, now: Time, resp: Message) {
        self.state = ClientInviteState::Accepted;
        self.core.disarm(TimerName::A);
        self.core.disarm(TimerName::B);
        self.core.arm(TimerName::M, now + self.core.cfg.t1x64());
        self.core.tell_tu(TuEvent::Response(resp));
    }

    /// RFC 3261 §17.1.1.2: a 300-699 in Calling or Proceeding moves to Completed; the response
    /// goes to the TU, the ACK of §17.1.1.3 to the transport, and Timer D starts (at least
    /// 32 s unreliable, zero reliable).
    fn on_failure(&mut self, now: Time, resp: Message) {
        self.state = ClientInviteState::Completed;
        self.core.disarm(TimerName::A);
        self.core.disarm(TimerName::B);
        let ack = build_ack_for_non_2xx(&self.core.request, &resp);
        self.core.tell_tu(TuEvent::Response(resp));
        self.core.transmit(ack.clone());
        self.ack = Some(ack);
        let d = self.core.unreliable_only(self.core.cfg.timer_d);
        self.core.arm(TimerName::D, now + d);
    }

    /// Fires every timer due at or before `now`, earliest first.
    pub fn handle_timeout(&mut self, now: Time) {
        use ClientInviteState::*;
        while let Some(name) = self.core.pop_due(now) {
            match (self.state, name) {
                // RFC 3261 §17.1.1.2: Timer A fires in Calling: retransmit the request and
                // re-arm A with twice its last interval.
                (Calling, TimerName::A) => {
                    self.core.transmit_request();
                    self.a_interval *= 2;
                    self.core.arm(TimerName::A, now + self.a_interval);
                }
                // RFC 3261 §17.1.1.2: Timer B fires in Calling: inform the TU of the timeout
                // (a 408, §8.1.3.1) and move to Terminated.
                (Calling, TimerName::B) => {
                    self.core.tell_tu(TuEvent::Timeout(TimerName::B));
                    self.terminate(Termination::Timeout(TimerName::B));
                }
                // RFC 3261 §17.1.1.2: Timer D fires in Completed: Terminated.
                (Completed, TimerName::D) => self.terminate(Termination::Done(TimerName::D)),
                // RFC 6026 §7.2: Timer M fires in Accepted: Terminated.
                (Accepted, TimerName::M) => self.terminate(Termination::Done(TimerName::M)),
                // Every transition disarms the timers the next state does not use.
                _ => {}
            }
        }
    }

    /// RFC 3261 §17.1.4: the transport reported a failure: inform the TU (see
    /// [`Termination::TransportError`]) and move straight to Terminated, from any state.
    pub fn transport_error(&mut self, _now: Time) {
        self.terminate(Termination::TransportError);
    }

    fn terminate(&mut self, why: Termination) {
        self.state = ClientInviteState::Terminated;
        self.core.terminate(why);
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.core.poll_output()
    }

    pub fn poll_timeout(&self) -> Option<Time> {
        self.core.poll_timeout()
    }

    /// The armed timers, earliest first.
    pub fn timers(&self) -> impl Iterator<Item = (TimerName, Time)> + '_ {
        self.core.timers()
    }

    /// Why the transaction ended, once it has.
    pub fn termination(&self) -> Option<Termination> {
        self.core.termination()
    }
}

#[cfg(test)]
#[path = "invite_tests.rs"]
mod tests;
