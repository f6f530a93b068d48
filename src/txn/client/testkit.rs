//! Test fixtures and a simulated clock for the client transaction tests.

use super::{ClientInvite, ClientNonInvite, ClientTransaction};
use crate::sip::builder::MessageBuilder;
use crate::sip::message::Message;
use crate::sip::parse::parse_message;
use crate::txn::{Output, Time, TimerConfig, TuEvent};
use std::time::Duration;

/// The two timer configurations every timer test runs with: RFC 3261's defaults
/// (T1 = 500 ms) and a short T1 of 50 ms.
pub(super) fn configs() -> [TimerConfig; 2] {
    [
        TimerConfig::default(),
        TimerConfig::scaled(Duration::from_millis(50)),
    ]
}

pub(super) fn ms(n: u64) -> Time {
    Duration::from_millis(n)
}

/// An INVITE as a proxy would send it: two Vias (the top one is ours), two Route fields and
/// an SDP body.
pub(super) fn invite() -> Message {
    let sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    let bytes = MessageBuilder::request("INVITE", "sip:bob@biloxi.example.com")
        .header(
            "Via",
            "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds, SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKup",
        )
        .header("Max-Forwards", "69")
        .header("Route", "<sip:p1.example.com;lr>")
        .header("Route", "<sip:p2.example.com;lr>")
        .header("From", "Alice <sip:alice@atlanta.example.com>;tag=1928301774")
        .header("To", "Bob <sip:bob@biloxi.example.com>")
        .header("Call-ID", "a84b4c76e66710@pc33.atlanta.example.com")
        .header("CSeq", "1 INVITE")
        .header("Contact", "<sip:alice@pc33.atlanta.example.com>")
        .body("application/sdp", sdp)
        .build();
    parse_message(&bytes)
}

/// A bodiless request with the given method.
pub(super) fn request(method: &str) -> Message {
    let bytes = MessageBuilder::request(method, "sip:bob@biloxi.example.com")
        .header(
            "Via",
            "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8",
        )
        .header("Max-Forwards", "70")
        .header("From", "<sip:alice@atlanta.example.com>;tag=88sja8x")
        .header("To", "<sip:bob@biloxi.example.com>")
        .header("Call-ID", "987asjd97y7atg")
        .header("CSeq", &format!("986759 {method}"))
        .build();
    parse_message(&bytes)
}

/// A response to `req`, with a To tag when given.
pub(super) fn response(req: &Message, code: u16, to_tag: Option<&str>) -> Message {
    let mut b = MessageBuilder::response_to(req, code, "Reason");
    if let Some(tag) = to_tag {
        b = b.to_tag(tag);
    }
    parse_message(&b.build())
}

/// What `drive` needs from a transaction.
pub(super) trait Steppable {
    fn poll_output(&mut self) -> Option<Output>;
    fn poll_timeout(&self) -> Option<Time>;
    fn handle_timeout(&mut self, now: Time);
}

macro_rules! steppable {
    ($t:ty) => {
        impl Steppable for $t {
            fn poll_output(&mut self) -> Option<Output> {
                <$t>::poll_output(self)
            }
            fn poll_timeout(&self) -> Option<Time> {
                <$t>::poll_timeout(self)
            }
            fn handle_timeout(&mut self, now: Time) {
                <$t>::handle_timeout(self, now)
            }
        }
    };
}
steppable!(ClientInvite);
steppable!(ClientNonInvite);
steppable!(ClientTransaction);

/// Runs the simulated clock: drains what is pending (stamped `now`), then repeatedly jumps to
/// `poll_timeout()` while it is at or before `until`, fires it and drains again. Returns every
/// output with the time it was produced.
pub(super) fn drive(tx: &mut impl Steppable, now: Time, until: Time) -> Vec<(Time, Output)> {
    let mut got = drain_at(tx, now);
    while let Some(at) = tx.poll_timeout().filter(|&at| at <= until) {
        tx.handle_timeout(at);
        got.extend(drain_at(tx, at));
    }
    got
}

/// Everything pending, stamped `now`.
pub(super) fn drain_at(tx: &mut impl Steppable, now: Time) -> Vec<(Time, Output)> {
    std::iter::from_fn(|| tx.poll_output())
        .map(|o| (now, o))
        .collect()
}

/// Everything pending, unstamped.
pub(super) fn drain(tx: &mut impl Steppable) -> Vec<Output> {
    std::iter::from_fn(|| tx.poll_output()).collect()
}

/// The times at which bytes were transmitted.
pub(super) fn transmit_times(outs: &[(Time, Output)]) -> Vec<Time> {
    outs.iter()
        .filter(|(_, o)| matches!(o, Output::Transmit(_)))
        .map(|&(t, _)| t)
        .collect()
}

/// The TU events, with their times.
pub(super) fn tu_events(outs: &[(Time, Output)]) -> Vec<(Time, TuEvent)> {
    outs.iter()
        .filter_map(|(t, o)| match o {
            Output::Tu(ev) => Some((*t, ev.clone())),
            Output::Transmit(_) => None,
        })
        .collect()
}

/// `multiples` of T1, as times.
pub(super) fn t1s(cfg: &TimerConfig, multiples: &[u32]) -> Vec<Time> {
    multiples.iter().map(|&m| cfg.t1 * m).collect()
}
