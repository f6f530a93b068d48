//! Test helpers: fixtures, and a simulated clock that steps a transaction from timeout to
//! timeout collecting what it outputs and when.

use super::{ServerInvite, ServerNonInvite, ServerTransaction};
use crate::sip::builder::MessageBuilder;
use crate::sip::message::Message;
use crate::sip::parse::parse_message;
use crate::txn::{Output, Time, TimerConfig, TuEvent};
use std::time::Duration;

/// What `drive` needs from a transaction.
pub trait Driven {
    fn next(&self) -> Option<Time>;
    fn fire(&mut self, now: Time);
    fn output(&mut self) -> Option<Output>;
}

macro_rules! driven {
    ($($t:ty),*) => {$(
        impl Driven for $t {
            fn next(&self) -> Option<Time> { self.poll_timeout() }
            fn fire(&mut self, now: Time) { self.handle_timeout(now) }
            fn output(&mut self) -> Option<Output> { self.poll_output() }
        }
    )*};
}
driven!(ServerInvite, ServerNonInvite, ServerTransaction);

/// Everything queued now, stamped with `at`.
pub fn drain(tx: &mut impl Driven, at: Time) -> Vec<(Time, Output)> {
    std::iter::from_fn(|| tx.output())
        .map(|o| (at, o))
        .collect()
}

/// Steps the clock from timeout to timeout up to and including `until`.
pub fn drive(tx: &mut impl Driven, until: Time) -> Vec<(Time, Output)> {
    let mut out = Vec::new();
    for _ in 0..10_000 {
        match tx.next() {
            Some(t) if t <= until => {
                tx.fire(t);
                out.extend(drain(tx, t));
            }
            _ => return out,
        }
    }
    panic!("timers keep firing before {until:?}");
}

/// The two clocks every timer test runs on: the defaults and T1 = 50 ms.
pub fn configs() -> [TimerConfig; 2] {
    [
        TimerConfig::default(),
        TimerConfig::scaled(Duration::from_millis(50)),
    ]
}

pub fn ms(n: u64) -> Time {
    Duration::from_millis(n)
}

/// A request from a client over `transport` (UDP or TCP), branch z9hG4bK-srv.
pub fn request(method: &str, transport: &str) -> Message {
    let bytes = MessageBuilder::request(method, "sip:bob@example.com")
        .header(
            "Via",
            &format!("SIP/2.0/{transport} client.example.com:5070;branch=z9hG4bK-srv"),
        )
        .header("Via", "SIP/2.0/UDP proxy.example.com;branch=z9hG4bK-up")
        .header("From", "<sip:alice@example.com>;tag=a1")
        .header("To", "<sip:bob@example.com>")
        .header("Call-ID", "call-1@client")
        .header(
            "CSeq",
            &format!("1 {}", if method == "ACK" { "ACK" } else { method }),
        )
        .header("Max-Forwards", "70")
        .build();
    parse_message(&bytes)
}

/// The ACK for a non-2xx final: same branch, so the INVITE transaction's key (§17.2.3).
pub fn ack(transport: &str) -> Message {
    request("ACK", transport)
}

pub fn first_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.lines().next().unwrap_or_default().to_string()
}

/// The transmissions among `events`, as (time, first line).
pub fn sent(events: &[(Time, Output)]) -> Vec<(Time, String)> {
    events
        .iter()
        .filter_map(|(t, o)| match o {
            Output::Transmit(b) => Some((*t, first_line(b))),
            Output::Tu(_) => None,
        })
        .collect()
}

/// The TU events among `events`.
pub fn told(events: &[(Time, Output)]) -> Vec<(Time, TuEvent)> {
    events
        .iter()
        .filter_map(|(t, o)| match o {
            Output::Tu(e) => Some((*t, e.clone())),
            Output::Transmit(_) => None,
        })
        .collect()
}

/// How many `Terminated` events `events` hold.
pub fn terminations(events: &[(Time, Output)]) -> usize {
    told(events)
        .iter()
        .filter(|(_, e)| *e == TuEvent::Terminated)
        .count()
}
