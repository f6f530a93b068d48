//! Client transactions (RFC 3261 §17.1, with RFC 6026's Accepted state) as sans-IO state
//! machines.
//!
//! [`ClientInvite`] follows §17.1.1 as amended by RFC 6026 §7.2 (Calling, Proceeding, Accepted,
//! Completed, Terminated); [`ClientNonInvite`] follows §17.1.2 (Trying, Proceeding, Completed,
//! Terminated). [`ClientTransaction`] holds either, for a transaction layer that keeps them in
//! one map keyed by [`TxKey`].
//!
//! Driving them: create one with `new(now, request, ..)`, then after every input
//! (`handle_response`, `handle_timeout`, `transport_error`) drain `poll_output()` until it is
//! `None` and call `handle_timeout(now)` once `now >= poll_timeout()`. The caller matches
//! responses to the transaction by [`TxKey::of`] (§17.1.3); the transaction does not check.
//!
//! Deterministic choices worth knowing:
//! - Timers never fire inside `handle_response`. A timer of zero duration (D and K on reliable
//!   transports) is armed at `now` and fires on the next `handle_timeout(now)` with the same
//!   `now`; a caller that follows the discipline above does so straight away.
//! - `handle_timeout(now)` fires every timer due at or before `now`, earliest first; at equal
//!   deadlines the retransmission timer (A, E) fires before the timeout timer (B, F). A
//!   retransmission timer is re-armed from `now`, so a late caller gets one retransmission,
//!   not a burst of catch-up copies.
//! - `TuEvent::Terminated` is emitted exactly once; afterwards every input is ignored.
//!   [`Termination`] (from `termination()`) says why it ended, which is how the TU tells a
//!   transport error (§17.1.4, to be treated as 503 per §8.1.3.1) from a normal end: `TuEvent`
//!   has no variant for it.

mod build;
mod common;
mod invite;
mod non_invite;
#[cfg(test)]
mod testkit;

pub use build::{build_ack_for_non_2xx, build_cancel};
pub use invite::{ClientInvite, ClientInviteState};
pub use non_invite::{ClientNonInvite, ClientNonInviteState};

use crate::sip::message::Message;
use crate::txn::{Output, Reliability, Time, TimerConfig, TimerName, TxKey};

/// Why a client transaction could not be created.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClientTxError {
    #[error("a client transaction is created for a request, not a response")]
    NotARequest,
    #[error(
        "the request has no transaction key: a top Via and a CSeq are needed (RFC 3261 §17.1.3)"
    )]
    NoKey,
    #[error("an INVITE client transaction needs an INVITE, not {0} (RFC 3261 §17.1.1)")]
    NotInvite(String),
    #[error("{0} does not run in a non-INVITE client transaction (RFC 3261 §17.1.2; an ACK has no transaction of its own, §17)")]
    InviteOrAck(String),
}

/// How a client transaction reached Terminated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Termination {
    /// Timer B or F fired: no final response in time (reported to the TU as
    /// `TuEvent::Timeout`, a 408 per RFC 3261 §8.1.3.1).
    Timeout(TimerName),
    /// The wait after a final response ended: Timer D, K or M fired.
    Done(TimerName),
    /// The transport reported a failure (RFC 3261 §17.1.4); the TU treats it as a 503
    /// (§8.1.3.1).
    TransportError,
}

/// Either kind of client transaction, for a transaction layer that keeps them together.
#[derive(Clone, Debug)]
pub enum ClientTransaction {
    Invite(ClientInvite),
    NonInvite(ClientNonInvite),
}

impl ClientTransaction {
    /// Starts the transaction the request's method calls for: INVITE (§17.1.1) or non-INVITE
    /// (§17.1.2). An ACK is refused: it has no client transaction (§17, §17.1.1.3).
    pub fn new(
        now: Time,
        request: Message,
        cfg: TimerConfig,
        rel: Reliability,
    ) -> Result<Self, ClientTxError> {
        if request.method().as_deref() == Some("INVITE") {
            ClientInvite::new(now, request, cfg, rel).map(ClientTransaction::Invite)
        } else {
            ClientNonInvite::new(now, request, cfg, rel).map(ClientTransaction::NonInvite)
        }
    }

    fn core(&self) -> &common::Core {
        match self {
            ClientTransaction::Invite(t) => &t.core,
            ClientTransaction::NonInvite(t) => &t.core,
        }
    }

    pub fn key(&self) -> &TxKey {
        &self.core().key
    }

    /// The RFC name of the current state (`"Calling"`, `"Accepted"`, `"Trying"`, ...).
    pub fn state_name(&self) -> &'static str {
        match self {
            ClientTransaction::Invite(t) => t.state().name(),
            ClientTransaction::NonInvite(t) => t.state().name(),
        }
    }

    pub fn handle_response(&mut self, now: Time, resp: Message) {
        match self {
            ClientTransaction::Invite(t) => t.handle_response(now, resp),
            ClientTransaction::NonInvite(t) => t.handle_response(now, resp),
        }
    }

    pub fn handle_timeout(&mut self, now: Time) {
        match self {
            ClientTransaction::Invite(t) => t.handle_timeout(now),
            ClientTransaction::NonInvite(t) => t.handle_timeout(now),
        }
    }

    pub fn transport_error(&mut self, now: Time) {
        match self {
            ClientTransaction::Invite(t) => t.transport_error(now),
            ClientTransaction::NonInvite(t) => t.transport_error(now),
        }
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        match self {
            ClientTransaction::Invite(t) => t.poll_output(),
            ClientTransaction::NonInvite(t) => t.poll_output(),
        }
    }

    pub fn poll_timeout(&self) -> Option<Time> {
        self.core().poll_timeout()
    }

    pub fn timers(&self) -> impl Iterator<Item = (TimerName, Time)> + '_ {
        self.core().timers()
    }

    pub fn termination(&self) -> Option<Termination> {
        self.core().termination()
    }

    pub fn is_terminated(&self) -> bool {
        self.termination().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::testkit::{drive, invite, request, tu_events};
    use super::*;
    use crate::txn::TuEvent;

    #[test]
    fn dispatches_on_method_and_refuses_ack() {
        let cfg = TimerConfig::default();
        let rel = Reliability::Unreliable;
        let t0 = Time::ZERO;
        let inv = ClientTransaction::new(t0, invite(), cfg, rel).unwrap();
        assert!(matches!(inv, ClientTransaction::Invite(_)));
        assert_eq!(inv.state_name(), "Calling");
        let opt = ClientTransaction::new(t0, request("OPTIONS"), cfg, rel).unwrap();
        assert_eq!(opt.state_name(), "Trying");
        assert_eq!(opt.key().method(), "OPTIONS");
        let ack = ClientTransaction::new(t0, request("ACK"), cfg, rel);
        assert_eq!(ack.unwrap_err(), ClientTxError::InviteOrAck("ACK".into()));
    }

    #[test]
    fn the_enum_delegates_to_the_machine() {
        let cfg = TimerConfig::default();
        let mut tx =
            ClientTransaction::new(Time::ZERO, request("BYE"), cfg, Reliability::Reliable).unwrap();
        assert_eq!(
            tx.timers().collect::<Vec<_>>(),
            [(TimerName::F, cfg.t1x64())]
        );
        let outs = drive(&mut tx, Time::ZERO, cfg.t1x64());
        assert_eq!(outs.len(), 3);
        assert_eq!(tu_events(&outs)[0].1, TuEvent::Timeout(TimerName::F));
        assert!(tx.is_terminated());
        assert_eq!(tx.state_name(), "Terminated");
        assert_eq!(tx.termination(), Some(Termination::Timeout(TimerName::F)));
    }
}
