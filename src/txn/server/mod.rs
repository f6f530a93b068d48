//! Server transactions (RFC 3261 §17.2) as sans-IO state machines: [`ServerInvite`] (§17.2.1
//! with RFC 6026 §7.1's Accepted state) and [`ServerNonInvite`] (§17.2.2 with RFC 4320 §4).
//!
//! The caller owns the clock and the sockets. It creates a transaction for a new request,
//! routes later requests with the same [`TxKey`] to `handle_request` (including the ACK of a
//! non-2xx final, which §17.2.3 files under the INVITE, and the ACK of a 2xx while the INVITE
//! transaction is Accepted), passes the TU's responses to `send_response`, and after every input
//! drains `poll_output()` and calls `handle_timeout(now)` at `poll_timeout()`.
//!
//! The transactions only send well-formed, permitted responses: a response the rules forbid is
//! refused with the rule that forbids it (`Err(Refused)` and `TuEvent::Refused`), never sent.
//! A scenario that must misbehave on purpose writes its bytes to the transport directly.

mod invite;
mod non_invite;
mod shared;

#[cfg(test)]
mod invite_tests;
#[cfg(test)]
mod non_invite_tests;
#[cfg(test)]
mod test_support;

pub use invite::{ServerInvite, ServerInviteState};
pub use non_invite::{ServerNonInvite, ServerNonInviteState};

use crate::sip::builder::MessageBuilder;
use crate::sip::message::Message;
use crate::txn::{Output, Reliability, Time, TimerConfig, TimerName, TxKey};

/// A response the transaction would not send, and the rule that forbids it. The same reason
/// is queued for the TU as `TuEvent::Refused`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason} ({rfc})")]
pub struct Refused {
    pub reason: &'static str,
    pub rfc: &'static str,
}

/// A response to `request` with no body (RFC 3261 §8.2.6): every Via in order, From, To (with
/// `to_tag` added unless the response is a 100 or To already has a tag, §8.2.6.2), Call-ID,
/// CSeq (and Timestamp, §8.2.6.1) copied, `Content-Length: 0`.
pub fn build_response(request: &Message, code: u16, reason: &str, to_tag: Option<&str>) -> Vec<u8> {
    let b = MessageBuilder::response_to(request, code, reason);
    match to_tag {
        Some(tag) if code != 100 => b.to_tag(tag).build(),
        _ => b.build(),
    }
}

/// Either kind of server transaction, for a caller that keeps them in one table by [`TxKey`].
#[derive(Clone, Debug)]
pub enum ServerTransaction {
    Invite(ServerInvite),
    NonInvite(ServerNonInvite),
}

macro_rules! both {
    ($self:expr, $t:ident => $e:expr) => {
        match $self {
            ServerTransaction::Invite($t) => $e,
            ServerTransaction::NonInvite($t) => $e,
        }
    };
}

impl ServerTransaction {
    /// The transaction a new request creates: INVITE or non-INVITE by its method. `None` for
    /// an ACK (it never creates a server transaction, RFC 3261 §17.2.3) and for a request with
    /// no transaction key.
    pub fn new(now: Time, request: Message, cfg: TimerConfig, rel: Reliability) -> Option<Self> {
        if request.method().as_deref() == Some("INVITE") {
            ServerInvite::new(now, request, cfg, rel).map(ServerTransaction::Invite)
        } else {
            ServerNonInvite::new(now, request, cfg, rel).map(ServerTransaction::NonInvite)
        }
    }

    pub fn key(&self) -> &TxKey {
        both!(self, t => t.key())
    }

    pub fn is_terminated(&self) -> bool {
        match self {
            ServerTransaction::Invite(t) => t.state() == ServerInviteState::Terminated,
            ServerTransaction::NonInvite(t) => t.state() == ServerNonInviteState::Terminated,
        }
    }

    pub fn handle_request(&mut self, now: Time, req: Message) {
        both!(self, t => t.handle_request(now, req))
    }

    pub fn send_response(&mut self, now: Time, resp: Message) -> Result<(), Refused> {
        both!(self, t => t.send_response(now, resp))
    }

    pub fn handle_timeout(&mut self, now: Time) {
        both!(self, t => t.handle_timeout(now))
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        both!(self, t => t.poll_output())
    }

    pub fn poll_timeout(&self) -> Option<Time> {
        both!(self, t => t.poll_timeout())
    }

    pub fn timers(&self) -> Vec<(TimerName, Time)> {
        both!(self, t => t.timers().collect())
    }

    pub fn transport_error(&mut self, now: Time) {
        both!(self, t => t.transport_error(now))
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{ack, drain, drive, request, sent};
    use super::*;
    use crate::sip::parse::parse_message;
    use crate::sip::HeaderName;
    use std::time::Duration;

    #[test]
    fn build_response_copies_the_headers_and_tags_all_but_100() {
        let req = request("INVITE", "UDP");
        let busy = parse_message(&build_response(&req, 486, "Busy Here", Some("t9")));
        assert_eq!(busy.status(), Some(486));
        assert_eq!(busy.vias().len(), 2, "every Via, in order");
        assert_eq!(busy.branch().as_deref(), Some("z9hG4bK-srv"));
        assert_eq!(busy.from_tag().as_deref(), Some("a1"));
        assert_eq!(busy.to_tag().as_deref(), Some("t9"));
        assert_eq!(busy.call_id(), req.call_id());
        assert_eq!(busy.cseq(), req.cseq());
        assert_eq!(
            busy.first_value(HeaderName::ContentLength).as_deref(),
            Some("0")
        );
        assert!(busy.violations.is_empty(), "{:?}", busy.rule_ids());
        let trying = parse_message(&build_response(&req, 100, "Trying", Some("t9")));
        assert_eq!(trying.to_tag(), None);
    }

    #[test]
    fn server_transaction_picks_the_kind_by_method() {
        let cfg = TimerConfig::scaled(Duration::from_millis(50));
        let rel = Reliability::Unreliable;
        let t0 = Time::ZERO;
        let mut inv = ServerTransaction::new(t0, request("INVITE", "UDP"), cfg, rel).unwrap();
        assert!(matches!(inv, ServerTransaction::Invite(_)));
        assert_eq!(inv.key(), &TxKey::of(&ack("UDP")).unwrap());
        assert_eq!(inv.timers(), [(TimerName::Trying100, cfg.trying_delay)]);
        let ev = drive(&mut inv, cfg.t1 * 2);
        assert_eq!(sent(&ev), [(cfg.trying_delay, "SIP/2.0 100 Trying".into())]);
        let mut reg = ServerTransaction::new(t0, request("REGISTER", "UDP"), cfg, rel).unwrap();
        assert!(matches!(reg, ServerTransaction::NonInvite(_)));
        let ok = parse_message(&build_response(
            &request("REGISTER", "UDP"),
            200,
            "OK",
            None,
        ));
        reg.send_response(t0, ok).unwrap();
        assert_eq!(sent(&drain(&mut reg, t0)).len(), 1);
        reg.transport_error(t0);
        assert!(reg.is_terminated());
        assert!(ServerTransaction::new(t0, ack("UDP"), cfg, rel).is_none());
    }
}
