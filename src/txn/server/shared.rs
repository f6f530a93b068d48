//! What both server transactions share: the request, the output queue, the timer table and the
//! one way to reach Terminated.

use super::Refused;
use crate::sip::message::Message;
use crate::txn::{Output, Reliability, Time, TimerConfig, TimerName, TuEvent, TxKey};
use std::collections::VecDeque;

/// The state every server transaction carries, whatever its kind.
#[derive(Clone, Debug)]
pub(super) struct Shared {
    pub key: TxKey,
    pub request: Message,
    pub cfg: TimerConfig,
    pub rel: Reliability,
    out: VecDeque<Output>,
    /// Armed timers and their deadlines; at most one entry per name.
    timers: Vec<(TimerName, Time)>,
    terminated: bool,
}

impl Shared {
    /// `None` when the request has no transaction key (no top Via or no CSeq): such a request
    /// cannot be matched to a transaction (RFC 3261 §17.2.3), so none is created for it.
    pub fn new(request: Message, cfg: TimerConfig, rel: Reliability) -> Option<Self> {
        Some(Shared {
            key: TxKey::of(&request)?,
            request,
            cfg,
            rel,
            out: VecDeque::new(),
            timers: Vec::new(),
            terminated: false,
        })
    }

    pub fn unreliable(&self) -> bool {
        self.rel == Reliability::Unreliable
    }

    pub fn transmit(&mut self, bytes: Vec<u8>) {
        self.out.push_back(Output::Transmit(bytes));
    }

    pub fn tu(&mut self, event: TuEvent) {
        self.out.push_back(Output::Tu(event));
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Tells the TU why a response was not sent and hands the same reason back to the caller.
    pub fn refuse<T>(&mut self, reason: &'static str, rfc: &'static str) -> Result<T, Refused> {
        self.tu(TuEvent::Refused { reason, rfc });
        Err(Refused { reason, rfc })
    }

    /// Enters Terminated: every timer is cancelled and the TU hears `Terminated`, once.
    pub fn terminate(&mut self) {
        if !self.terminated {
            self.terminated = true;
            self.timers.clear();
            self.tu(TuEvent::Terminated);
        }
    }

    /// Arms `name` to fire at `at`, replacing an earlier deadline of the same name.
    pub fn set_timer(&mut self, name: TimerName, at: Time) {
        self.cancel_timer(name);
        self.timers.push((name, at));
    }

    pub fn cancel_timer(&mut self, name: TimerName) {
        self.timers.retain(|(n, _)| *n != name);
    }

    pub fn next_timeout(&self) -> Option<Time> {
        self.timers.iter().map(|(_, at)| *at).min()
    }

    /// Removes and returns the earliest timer due at `now` (ties in [`TimerName`] order), so
    /// that `handle_timeout` fires timers in the order they expired.
    pub fn pop_due(&mut self, now: Time) -> Option<TimerName> {
        let (i, _) = self
            .timers
            .iter()
            .enumerate()
            .filter(|(_, (_, at))| *at <= now)
            .min_by_key(|(_, (name, at))| (*at, *name))?;
        Some(self.timers.swap_remove(i).0)
    }

    /// The armed timers, earliest first.
    pub fn timers(&self) -> impl Iterator<Item = (TimerName, Time)> {
        let mut v = self.timers.clone();
        v.sort_by_key(|(name, at)| (*at, *name));
        v.into_iter()
    }
}

/// Whether a request handed to a server transaction is an ACK (RFC 3261 §17.2.3 files the ACK
/// for a non-2xx final under the INVITE's transaction).
pub(super) fn is_ack(req: &Message) -> bool {
    req.method().as_deref() == Some("ACK")
}

/// The status code of a response from the TU, checked to be one SIP defines (RFC 3261 §7.2:
/// three digits, classes 1xx to 6xx).
pub(super) fn status_of(tx: &mut Shared, resp: &Message) -> Result<u16, Refused> {
    match resp.status() {
        Some(code @ 100..=699) => Ok(code),
        _ => tx.refuse(
            "not a response with a status code from 100 to 699",
            "RFC 3261 §7.2",
        ),
    }
}
