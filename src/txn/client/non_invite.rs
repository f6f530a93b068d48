//! The non-INVITE client transaction: RFC 3261 §17.1.2 (Figure 6). A CANCEL (§9.1) runs in
//! one of these too.

use super::common::Core;
use super::{ClientTxError, Termination};
use crate::sip::message::Message;
use crate::txn::{Output, Reliability, Time, TimerConfig, TimerName, TuEvent, TxKey};
use std::time::Duration;

/// The states of RFC 3261 §17.1.2.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ClientNonInviteState {
    /// The request was sent; no response yet. Timer E (unreliable) and Timer F run.
    Trying,
    /// A provisional arrived; retransmissions continue every T2 (unreliable).
    Proceeding,
    /// A final response arrived; its retransmissions are absorbed until Timer K.
    Completed,
    Terminated,
}

impl ClientNonInviteState {
    /// The RFC's name for the state.
    pub fn name(self) -> &'static str {
        match self {
            ClientNonInviteState::Trying => "Trying",
            ClientNonInviteState::Proceeding => "Proceeding",
            ClientNonInviteState::Completed => "Completed",
            ClientNonInviteState::Terminated => "Terminated",
        }
    }
}

/// A client non-INVITE transaction. See the module docs of [`super`] for how to drive it.
#[derive(Clone, Debug)]
pub struct ClientNonInvite {
    pub(super) core: Core,
    state: ClientNonInviteState,
    /// The interval Timer E was last armed with.
    e_interval: Duration,
}

impl ClientNonInvite {
    /// Starts the transaction in Trying and queues the request for transmission. INVITE
    /// (which has its own transaction, §17.1.1) and ACK (which has none, §17) are refused.
    pub fn new(
        now: Time,
        request: Message,
        cfg: TimerConfig,
        rel: Reliability,
    ) -> Result<Self, ClientTxError> {
        let core = Core::new(request, cfg, rel)?;
        let method = core.method();
        if method == "INVITE" || method == "ACK" {
            return Err(ClientTxError::InviteOrAck(method));
        }
        let mut tx = ClientNonInvite {
            core,
            state: ClientNonInviteState::Trying,
            e_interval: cfg.t1,
        };
        // RFC 3261 §17.1.2.2: the initial state is Trying; the request is passed to the
        // transport; Timer E = T1 on unreliable transports only; Timer F = 64*T1 on all.
        tx.core.transmit_request();
        if tx.core.is_unreliable() {
            tx.core.arm(TimerName::E, now + cfg.t1);
        }
        tx.core.arm(TimerName::F, now + cfg.t1x64());
        Ok(tx)
    }

    pub fn key(&self) -> &TxKey {
        &self.core.key
    }

    pub fn state(&self) -> ClientNonInviteState {
        self.state
    }

    /// The request this transaction sends.
    pub fn request(&self) -> &Message {
        &self.core.request
    }

    /// A response the caller matched to this transaction (§17.1.3). Responses the current
    /// state has no transition for are dropped silently.
    pub fn handle_response(&mut self, now: Time, resp: Message) {
        use ClientNonInviteState::*;
        let Some(code) = resp.status() else { return };
        match (self.state, code) {
            // RFC 3261 §17.1.2.2: a provisional in Trying moves to Proceeding; in Proceeding
            // it stays there. Either way it is passed to the TU. Timer E keeps running: the
            // next time it fires it is re-armed with T2.
            (Trying | Proceeding, 100..=199) => {
                self.state = Proceeding;
                self.core.tell_tu(TuEvent::Response(resp));
            }
            (Trying | Proceeding, 200..=699) => self.on_final(now, resp),
            // RFC 3261 §17.1.2.2: Completed buffers response retransmissions: absorbed.
            // Nothing is done in Terminated, nor with codes outside 100-699.
            _ => {}
        }
    }

    /// RFC 3261 §17.1.2.2: a final response (200-699) in Trying or Proceeding moves to
    /// Completed and is passed to the TU; Timer K = T4 unreliable, zero reliable.
    fn on_final(&mut self, now: Time, resp: Message) {
        self.state = ClientNonInviteState::Completed;
        self.core.disarm(TimerName::E);
        self.core.disarm(TimerName::F);
        let k = self.core.unreliable_only(self.core.cfg.t4);
        self.core.arm(TimerName::K, now + k);
        self.core.tell_tu(TuEvent::Response(resp));
    }

    /// Fires every timer due at or before `now`, earliest first.
    pub fn handle_timeout(&mut self, now: Time) {
        use ClientNonInviteState::*;
        while let Some(name) = self.core.pop_due(now) {
            match (self.state, name) {
                // RFC 3261 §17.1.2.2: Timer E fires in Trying: retransmit and re-arm with
                // MIN(2*previous, T2).
                (Trying, TimerName::E) => {
                    self.e_interval = (self.e_interval * 2).min(self.core.cfg.t2);
                    self.retransmit(now);
                }
                // RFC 3261 §17.1.2.2: Timer E fires in Proceeding: retransmit and re-arm
                // with T2.
                (Proceeding, TimerName::E) => {
                    self.e_interval = self.core.cfg.t2;
                    self.retransmit(now);
                }
                // RFC 3261 §17.1.2.2: Timer F fires in Trying or Proceeding: inform the TU of
                // the timeout (a 408, §8.1.3.1) and move to Terminated.
                (Trying | Proceeding, TimerName::F) => {
                    self.core.tell_tu(TuEvent::Timeout(TimerName::F));
                    self.terminate(Termination::Timeout(TimerName::F));
                }
                // RFC 3261 §17.1.2.2: Timer K fires in Completed: Terminated.
                (Completed, TimerName::K) => self.terminate(Termination::Done(TimerName::K)),
                // Every transition disarms the timers the next state does not use.
                _ => {}
            }
        }
    }

    fn retransmit(&mut self, now: Time) {
        self.core.transmit_request();
        self.core.arm(TimerName::E, now + self.e_interval);
    }

    /// RFC 3261 §17.1.4: the transport reported a failure: inform the TU (see
    /// [`Termination::TransportError`]) and move straight to Terminated, from any state.
    pub fn transport_error(&mut self, _now: Time) {
        self.terminate(Termination::TransportError);
    }

    fn terminate(&mut self, why: Termination) {
        self.state = ClientNonInviteState::Terminated;
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
#[path = "non_invite_tests.rs"]
mod tests;
