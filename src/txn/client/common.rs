//! What both client transactions share: the request and its key, the armed timers, the queue
//! of outputs, and the one-time move to Terminated.

use super::{ClientTxError, Termination};
use crate::sip::message::Message;
use crate::txn::{Output, Reliability, Time, TimerConfig, TimerName, TuEvent, TxKey};
use std::collections::VecDeque;
use std::time::Duration;

/// The state-independent half of a client transaction.
#[derive(Clone, Debug)]
pub(super) struct Core {
    pub(super) key: TxKey,
    pub(super) request: Message,
    pub(super) cfg: TimerConfig,
    pub(super) rel: Reliability,
    /// Armed timers, kept sorted by deadline, then by name (so that a tie fires in the order
    /// of RFC 3261 Appendix A: a retransmission timer before the timeout timer).
    timers: Vec<(TimerName, Time)>,
    out: VecDeque<Output>,
    ended: Option<Termination>,
}

impl Core {
    /// Checks that `request` is a request with a transaction key (a Via and a CSeq, §17.1.3).
    pub(super) fn new(
        request: Message,
        cfg: TimerConfig,
        rel: Reliability,
    ) -> Result<Self, ClientTxError> {
        if !request.is_request() {
            return Err(ClientTxError::NotARequest);
        }
        let key = TxKey::of(&request).ok_or(ClientTxError::NoKey)?;
        Ok(Core {
            key,
            request,
            cfg,
            rel,
            timers: Vec::new(),
            out: VecDeque::new(),
            ended: None,
        })
    }

    /// The request method as written.
    pub(super) fn method(&self) -> String {
        self.request
            .method()
            .map(|m| m.into_owned())
            .unwrap_or_default()
    }

    /// `d` on unreliable transports, zero on reliable ones (§17.1.1.2 Timer D, §17.1.2.2
    /// Timer K).
    pub(super) fn unreliable_only(&self, d: Duration) -> Duration {
        match self.rel {
            Reliability::Unreliable => d,
            Reliability::Reliable => Duration::ZERO,
        }
    }

    pub(super) fn is_unreliable(&self) -> bool {
        self.rel == Reliability::Unreliable
    }

    /// Queues the request (first transmission or a retransmission) for the transport.
    pub(super) fn transmit_request(&mut self) {
        let bytes = self.request.to_bytes();
        self.out.push_back(Output::Transmit(bytes));
    }

    pub(super) fn transmit(&mut self, bytes: Vec<u8>) {
        self.out.push_back(Output::Transmit(bytes));
    }

    pub(super) fn tell_tu(&mut self, ev: TuEvent) {
        self.out.push_back(Output::Tu(ev));
    }

    /// Arms (or re-arms) a timer to fire at `at`.
    pub(super) fn arm(&mut self, name: TimerName, at: Time) {
        self.disarm(name);
        let pos = self.timers.partition_point(|&(n, t)| (t, n) < (at, name));
        self.timers.insert(pos, (name, at));
    }

    pub(super) fn disarm(&mut self, name: TimerName) {
        self.timers.retain(|&(n, _)| n != name);
    }

    /// Removes and returns the earliest timer due at or before `now`.
    pub(super) fn pop_due(&mut self, now: Time) -> Option<TimerName> {
        match self.timers.first() {
            Some(&(name, at)) if at <= now => {
                self.timers.remove(0);
                Some(name)
            }
            _ => None,
        }
    }

    pub(super) fn timers(&self) -> impl Iterator<Item = (TimerName, Time)> + '_ {
        self.timers.iter().copied()
    }

    pub(super) fn poll_timeout(&self) -> Option<Time> {
        self.timers.first().map(|&(_, at)| at)
    }

    pub(super) fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Disarms every timer and tells the TU, once, that the transaction can be dropped.
    pub(super) fn terminate(&mut self, why: Termination) {
        if self.ended.is_some() {
            return;
        }
        self.ended = Some(why);
        self.timers.clear();
        self.out.push_back(Output::Tu(TuEvent::Terminated));
    }

    pub(super) fn termination(&self) -> Option<Termination> {
        self.ended
    }
}
