//! What arrives at an agent ([`Arrival`]) and whether it is what an expect step waits for
//! ([`fit`]), as pure functions. The sentences they produce are the "expected" and "actual"
//! of a failed step.

use super::assertions::{check_body, check_header, check_sdp, Render};
use crate::net::TxId;
use crate::scenario::{Expect, HeaderAssertion, Matcher};
use crate::sip::message::Message;
use crate::txn::TimerName;
use std::net::SocketAddr;
use std::time::Duration;

/// Something offered to the steps of an agent, in arrival order.
#[derive(Clone, Debug)]
pub struct Incoming {
    /// Order of arrival across all agents of the run.
    pub seq: u64,
    /// Time since the start of the run.
    pub at: Duration,
    pub what: Arrival,
}

/// What arrived.
#[derive(Clone, Debug)]
pub enum Arrival {
    /// A request; `received` indexes the agent's list of received requests.
    Request {
        msg: Message,
        tx: Option<TxId>,
        received: usize,
    },
    /// A response to one of the agent's requests (`method` is that request's). `stray`: it
    /// matches none of the agent's transactions (RFC 3261 §17.1.3), and the agent sent
    /// nothing statelessly it could answer.
    Response {
        msg: Message,
        tx: Option<TxId>,
        method: String,
        stray: bool,
    },
    /// A transaction timed out: no final response, or no ACK (RFC 3261 §17.1.1.2, §17.1.2.2,
    /// §17.2.1).
    Timeout {
        tx: TxId,
        timer: TimerName,
        method: String,
    },
    /// The transport could not reach the peer (RFC 3261 §17.1.4, §17.2.4).
    TransportError {
        tx: TxId,
        method: String,
        peer: SocketAddr,
    },
    /// Bytes that are not a SIP message siptest can route.
    Garbage {
        len: usize,
        from: SocketAddr,
        problem: String,
    },
}

impl Arrival {
    pub fn message(&self) -> Option<&Message> {
        match self {
            Arrival::Request { msg, .. } | Arrival::Response { msg, .. } => Some(msg),
            _ => None,
        }
    }

    /// A 100 Trying: hop-by-hop, never required (RFC 3261 §8.2.6.1, §16.7).
    pub fn is_trying(&self) -> bool {
        matches!(self, Arrival::Response { msg, .. } if msg.status() == Some(100))
    }

    /// One line for reports: `486 Busy Here (to INVITE, CSeq 1)`, `BYE sip:a@h (CSeq 2)`.
    pub fn describe(&self) -> String {
        match self {
            Arrival::Request { msg, .. } => {
                let cseq = msg.cseq().map(|c| format!(" (CSeq {})", c.number));
                format!("{}{}", msg.summary(), cseq.unwrap_or_default())
            }
            Arrival::Response {
                msg, method, stray, ..
            } => {
                let cseq = msg.cseq().map(|c| format!(", CSeq {}", c.number));
                let stray = if *stray {
                    ", matching none of the agent's transactions (RFC 3261 §17.1.3)"
                } else {
                    ""
                };
                format!(
                    "{} (to {method}{}{stray})",
                    msg.summary(),
                    cseq.unwrap_or_default()
                )
            }
            Arrival::Timeout { timer, method, .. } => timeout_text(*timer, method),
            Arrival::TransportError { method, peer, .. } => format!(
                "the {method} could not be delivered to {peer}: transport error (RFC 3261 §17.1.4)"
            ),
            Arrival::Garbage { len, from, problem } => format!(
                "{len} octets from {from} that are not a SIP message: {}",
                printable(problem)
            ),
        }
    }
}

/// Text with control characters escaped (`\u{1}`), for reports.
pub fn printable(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let esc: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            esc
        })
        .collect()
}

fn timeout_text(timer: TimerName, method: &str) -> String {
    match timer {
        TimerName::B => {
            format!("no final response to the {method} before Timer B (64*T1, RFC 3261 §17.1.1.2)")
        }
        TimerName::F => {
            format!("no final response to the {method} before Timer F (64*T1, RFC 3261 §17.1.2.2)")
        }
        TimerName::H => format!(
            "no ACK for the final response to the {method} before Timer H (RFC 3261 §17.2.1)"
        ),
        other => format!("the {method} transaction timed out (Timer {other:?})"),
    }
}

/// How an arrival fits an expect step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fit {
    /// It is what the step waits for, assertions included.
    Match,
    /// It is something else (another status, method, dialog, or not a message).
    Other,
    /// It is the message the step waits for, but an assertion fails: the sentence says how.
    Wrong(String),
}

/// Whether `a` is what `e` waits for. `in_dialog`: the message belongs to (or creates) the
/// step's dialog, or the step names none.
pub fn fit(e: &Expect, a: &Arrival, in_dialog: bool, render: &Render<'_>) -> Fit {
    let Some(msg) = a.message() else {
        return Fit::Other;
    };
    if matches!(a, Arrival::Response { stray: true, .. }) {
        return Fit::Other; // it answers nothing the agent asked
    }
    let kind_ok = match (&e.matcher.value, msg.status(), msg.method()) {
        (m, Some(status), _) => m.matches_status(status),
        (m, None, Some(method)) => m.matches_method(&method),
        _ => false,
    };
    if !kind_ok || !in_dialog {
        return Fit::Other;
    }
    match assertions(e, msg, render) {
        Ok(()) => Fit::Match,
        Err(why) => Fit::Wrong(why),
    }
}

fn assertions(e: &Expect, msg: &Message, render: &Render<'_>) -> Result<(), String> {
    for h in &e.headers {
        check_header(msg, h, render)?;
    }
    if let Some(s) = &e.sdp {
        check_sdp(msg, s)?;
    }
    if let Some(b) = &e.body {
        check_body(msg, b, render)?;
    }
    Ok(())
}

/// Whether the step lets a 100 Trying through (only `expect: 100` waits for one).
pub fn wants_trying(e: &Expect) -> bool {
    matches!(e.matcher.value, Matcher::Status(100))
}

/// What a matcher accepts: `200`, `a 2xx response`, `a 180-183 response`, `a BYE request`.
pub fn describe_matcher(m: &Matcher) -> String {
    match m {
        Matcher::Status(s) => format!("{s}"),
        Matcher::Class(c) => format!("a {c}xx response"),
        Matcher::Range(lo, hi) => format!("a {lo}-{hi} response"),
        Matcher::Method(m) => format!("a {m} request"),
    }
}

/// What an expect step waits for, in one line: `200 in dialog call with header Contact
/// present, SDP`.
pub fn describe_expect(e: &Expect) -> String {
    let mut s = describe_matcher(&e.matcher);
    if let Some(d) = &e.dialog {
        s.push_str(&format!(" in dialog `{}`", d.value));
    }
    let mut with: Vec<String> = e
        .headers
        .iter()
        .map(|h| {
            let what = match &h.assertion {
                HeaderAssertion::Present => "present".to_string(),
                HeaderAssertion::Absent => "absent".to_string(),
                HeaderAssertion::Equals(t) => format!("= `{}`", t.source),
                HeaderAssertion::Contains(t) => format!("containing `{}`", t.source),
                HeaderAssertion::Matches(r) => format!("matching `{}`", r.value),
            };
            format!("header {} {what}", h.name.value)
        })
        .collect();
    if e.sdp.is_some() {
        with.push("the SDP asserted".into());
    }
    if e.body.is_some() {
        with.push("the body asserted".into());
    }
    if !with.is_empty() {
        s.push_str(" with ");
        s.push_str(&with.join(", "));
    }
    s.push_str(&format!(" at {}", e.at.value));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{HeaderCheck, Located, Template};
    use crate::sip::parse::parse_message;

    fn expect(m: Matcher) -> Expect {
        Expect {
            matcher: Located::new(m, 1, 1),
            at: Located::new("alice".into(), 1, 1),
            dialog: None,
            label: None,
            optional: false,
            timeout: None,
            headers: Vec::new(),
            sdp: None,
            body: None,
            captures: Vec::new(),
        }
    }

    fn response(status: u16) -> Arrival {
        let text = format!(
            "SIP/2.0 {status} Whatever\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\n\
             To: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
        );
        Arrival::Response {
            msg: parse_message(text.as_bytes()),
            tx: None,
            method: "INVITE".into(),
            stray: false,
        }
    }

    fn no_vars(t: &Template) -> Result<String, crate::scenario::UnsetVariable> {
        t.render(|_| None)
    }

    #[test]
    fn status_class_range_and_dialog() {
        let r = response(180);
        assert_eq!(
            fit(&expect(Matcher::Range(180, 183)), &r, true, &no_vars),
            Fit::Match
        );
        assert_eq!(
            fit(&expect(Matcher::Class(1)), &r, true, &no_vars),
            Fit::Match
        );
        assert_eq!(
            fit(&expect(Matcher::Status(200)), &r, true, &no_vars),
            Fit::Other
        );
        assert_eq!(
            fit(&expect(Matcher::Class(1)), &r, false, &no_vars),
            Fit::Other
        );
        assert_eq!(
            fit(&expect(Matcher::Method("BYE".into())), &r, true, &no_vars),
            Fit::Other
        );
        assert!(response(100).is_trying());
        assert_eq!(printable("a\u{1}b\r"), "a\\u{1}b\\r");
        assert!(!wants_trying(&expect(Matcher::Class(1))));
        assert!(wants_trying(&expect(Matcher::Status(100))));
    }

    #[test]
    fn failed_assertion_is_wrong_not_other() {
        let mut e = expect(Matcher::Status(200));
        e.headers.push(HeaderCheck {
            name: Located::new("Contact".into(), 1, 1),
            assertion: HeaderAssertion::Present,
        });
        assert_eq!(
            fit(&e, &response(200), true, &no_vars),
            Fit::Wrong("header `Contact` is absent".into())
        );
        assert_eq!(
            describe_expect(&e),
            "200 with header Contact present at alice"
        );
        assert_eq!(response(486).describe(), "486 Whatever (to INVITE, CSeq 1)");
    }
}
