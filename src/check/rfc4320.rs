//! RFC 4320, the fixes to the non-INVITE transaction.
//!
//! §4.1 (Action 1) limits provisional responses to non-INVITE requests: 100 only, over an
//! unreliable transport not before the client's Timer E has reached T2, and by then certainly.
//! §4.2 (Action 2) forbids 408 to a non-INVITE request and stops a proxy from sending a response
//! that has no live server transaction: a late response after its own final, or one that matches
//! no request it received. A party is a proxy in a call when it received a request and then sent
//! one with the same Call-ID and CSeq (it forwarded it).

use super::retransmit::{is_retransmission, secs};
use super::{CheckGroup, Finding, Observation, ObservedTx, Tolerances};
use crate::sip::headers::CSeq;
use crate::trace::{Trace, Transport};
use std::collections::HashSet;
use std::net::SocketAddr;

crate::declare_rules! {
    NON_100_PROVISIONAL = ("tx.rfc4320.non-100-provisional", Transaction, Error, "RFC 4320 §4.1",
        "provisional response other than 100 to a non-INVITE request");
    EARLY_100 = ("tx.rfc4320.early-100", Transaction, Error, "RFC 4320 §4.1",
        "100 Trying to a non-INVITE request over UDP before the client's Timer E reached T2");
    MISSING_100 = ("tx.rfc4320.missing-100", Transaction, Error, "RFC 4320 §4.1",
        "no response at all to a non-INVITE request once the client's Timer E reached T2");
    RESPONSE_408 = ("tx.rfc4320.408", Transaction, Error, "RFC 4320 §4.2",
        "408 Request Timeout sent to a non-INVITE request");
    LATE_RESPONSE = ("tx.rfc4320.late-response-forwarded", Transaction, Error, "RFC 4320 §4.2",
        "proxy sent a response to a non-INVITE request after its server transaction had sent another final");
    UNMATCHED_RESPONSE = ("tx.rfc4320.unmatched-response-forwarded", Transaction, Error, "RFC 4320 §4.2",
        "proxy sent a response to a non-INVITE request that matches no request it received");
}

/// The RFC 4320 checks.
pub const GROUP: CheckGroup = CheckGroup {
    name: "rfc4320",
    rules: RULES,
    run,
};

fn run(trace: &Trace, obs: &Observation, tol: &Tolerances, out: &mut Vec<Finding>) {
    let proxies = proxies(trace);
    let end = trace.end();
    for tx in obs
        .txs
        .iter()
        .filter(|t| !t.is_invite() && t.method != "ACK")
    {
        provisionals(trace, tx, tol, out);
        missing_100(trace, tx, tol, end, out);
        no_408(trace, tx, out);
        let call = trace.messages[tx.request()].message.call_id();
        if call.is_some_and(|c| proxies.contains(&(tx.server, c))) {
            late_responses(trace, tx, out);
        }
    }
    unmatched(trace, obs, &proxies, out);
}

/// Every party that forwarded a request, with the Call-ID it did so in: it received a request
/// and later sent one with the same Call-ID and CSeq.
pub(crate) fn proxies(trace: &Trace) -> HashSet<(SocketAddr, String)> {
    let mut received: HashSet<(SocketAddr, String, CSeq)> = HashSet::new();
    let mut out = HashSet::new();
    for m in trace.messages.iter().filter(|m| m.message.is_request()) {
        let (Some(call), Some(cseq)) = (m.message.call_id(), m.message.cseq()) else {
            continue;
        };
        if received.contains(&(m.src, call.clone(), cseq.clone())) {
            out.insert((m.src, call.clone()));
        }
        received.insert((m.dst, call, cseq));
    }
    out
}

/// The messages of `idx` that are not retransmissions of an earlier one of them.
fn distinct(trace: &Trace, idx: &[usize]) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    for &i in idx {
        if !out.iter().any(|&e| is_retransmission(trace, e, i)) {
            out.push(i);
        }
    }
    out
}

fn status(trace: &Trace, i: usize) -> u16 {
    trace.messages[i].message.status().unwrap_or(0)
}

/// RFC 4320 §4.1: "A SIP element MUST NOT send any provisional response with a Status-Code
/// other than 100 to a non-INVITE request", and "MUST NOT respond to a non-INVITE request with
/// a Status-Code of 100 over any unreliable transport [...] before the amount of time it takes a
/// client transaction's Timer E to be reset to T2".
fn provisionals(trace: &Trace, tx: &ObservedTx, tol: &Tolerances, out: &mut Vec<Finding>) {
    let t0 = trace.messages[tx.request()].time;
    let reach = tol.timers.timer_e_reaches_t2();
    let provisionals: Vec<usize> = tx.provisionals(trace).collect();
    let mut early_reported = false;
    for i in distinct(trace, &provisionals) {
        let (s, t) = (status(trace, i), trace.messages[i].time);
        let detail = if s != 100 {
            format!(
                "{s} to {} {} after the request; RFC 4320 §4.1 allows only 100 as a \
                 provisional response to a non-INVITE request",
                tx.method,
                secs(t.saturating_sub(t0))
            )
        } else if tx.transport == Transport::Udp
            && t + tol.clock_jitter < t0 + reach
            && !early_reported
        {
            early_reported = true;
            format!(
                "100 Trying to {} over UDP {} after the request; RFC 4320 §4.1 allows it only \
                 after {} (when the client's Timer E reaches T2)",
                tx.method,
                secs(t.saturating_sub(t0)),
                secs(reach)
            )
        } else {
            continue;
        };
        let rule = if s == 100 {
            &EARLY_100
        } else {
            &NON_100_PROVISIONAL
        };
        out.push(Finding::new(rule, trace, i, detail).with_related([tx.request()]));
    }
}

/// RFC 4320 §4.1: "Without regard to transport, an SIP element MUST respond to a non-INVITE
/// request with a Status-Code of 100 if it has not otherwise responded after the amount of time
/// it takes a client transaction's Timer E to be reset to T2." Judged only when the trace runs
/// past that time (with the interval tolerance).
fn missing_100(
    trace: &Trace,
    tx: &ObservedTx,
    tol: &Tolerances,
    end: std::time::Duration,
    out: &mut Vec<Finding>,
) {
    let t0 = trace.messages[tx.request()].time;
    let reach = tol.timers.timer_e_reaches_t2();
    let by = t0 + reach + reach.mul_f64(tol.timer_slack) + tol.clock_jitter;
    if end <= by || tx.responses.iter().any(|&r| trace.messages[r].time <= by) {
        return;
    }
    let detail = format!(
        "no response from {} to {} within {} of the request (the trace runs {} past it); \
         RFC 4320 §4.1 requires a 100 Trying once the client's Timer E reaches T2 at {}",
        tx.server,
        tx.method,
        secs(by - t0),
        secs(end - t0),
        secs(reach)
    );
    // The server is at fault, not the sender of the request the finding points at.
    out.push(Finding::new(&MISSING_100, trace, tx.request(), detail).blaming(tx.server));
}

/// RFC 4320 §4.2: "A transaction-stateful SIP element MUST NOT send a response with
/// Status-Code of 408 to a non-INVITE request."
fn no_408(trace: &Trace, tx: &ObservedTx, out: &mut Vec<Finding>) {
    let finals: Vec<usize> = tx.finals(trace).collect();
    for i in distinct(trace, &finals) {
        if status(trace, i) != 408 {
            continue;
        }
        let detail = format!(
            "408 to {} from {}; RFC 4320 §4.2 forbids 408 to a non-INVITE request (a server \
             that cannot answer in time sends no final response at all)",
            tx.method, trace.messages[i].src
        );
        out.push(Finding::new(&RESPONSE_408, trace, i, detail).with_related([tx.request()]));
    }
}

/// RFC 4320 §4.2: "A transaction-stateful SIP proxy MUST NOT send any response to a non-INVITE
/// request unless it has a matching server transaction that is not in the Terminated state."
/// Once the proxy sent a final, its server transaction is done: any other response it sends
/// there (the downstream 200 after its own 408) is a late response forwarded. A retransmission
/// of the same final (same status and To-tag) is not.
fn late_responses(trace: &Trace, tx: &ObservedTx, out: &mut Vec<Finding>) {
    let Some(f) = tx.first_final(trace) else {
        return;
    };
    let after: Vec<usize> = tx
        .responses
        .iter()
        .copied()
        .filter(|&r| r > f && trace.messages[r].src == tx.server)
        .filter(|&r| !is_retransmission(trace, f, r))
        .collect();
    for r in distinct(trace, &after) {
        let detail = format!(
            "proxy {} sent {} to {} {} after it had already sent {} in the same server \
             transaction; RFC 4320 §4.2: a proxy forwards no response without a live server \
             transaction",
            tx.server,
            status(trace, r),
            tx.method,
            secs(trace.messages[r].time - trace.messages[f].time),
            status(trace, f)
        );
        let related = [Some(f), relayed_from(trace, r)];
        out.push(
            Finding::new(&LATE_RESPONSE, trace, r, detail)
                .with_related(related.into_iter().flatten()),
        );
    }
}

/// Responses to non-INVITE requests that match no transaction of the trace, sent by a proxy of
/// their call (RFC 4320 §4.2). Responses to INVITE are left alone: a proxy forwards every 2xx of
/// a forked INVITE (RFC 3261 §16.7).
fn unmatched(
    trace: &Trace,
    obs: &Observation,
    proxies: &HashSet<(SocketAddr, String)>,
    out: &mut Vec<Finding>,
) {
    let candidates: Vec<usize> = obs
        .unmatched_responses
        .iter()
        .copied()
        .filter(|&i| {
            let m = &trace.messages[i];
            let non_invite = m
                .message
                .cseq()
                .is_some_and(|c| c.method != "INVITE" && c.method != "ACK");
            let call = m.message.call_id();
            non_invite && call.is_some_and(|c| proxies.contains(&(m.src, c)))
        })
        .collect();
    for i in distinct(trace, &candidates) {
        let m = &trace.messages[i];
        let method = m.message.cseq().map(|c| c.method).unwrap_or_default();
        let detail = format!(
            "proxy {} sent {} to {} matching no request it received (no server transaction \
             has this Via branch); RFC 4320 §4.2 forbids forwarding it",
            m.src,
            status(trace, i),
            method
        );
        let f = Finding::new(&UNMATCHED_RESPONSE, trace, i, detail);
        out.push(f.with_related(relayed_from(trace, i)));
    }
}

/// The response the proxy received just before sending `r` with the same Call-ID, CSeq and
/// status: the one it forwarded.
fn relayed_from(trace: &Trace, r: usize) -> Option<usize> {
    let m = &trace.messages[r];
    let (call, cseq, s) = (m.message.call_id(), m.message.cseq(), m.message.status());
    (0..r).rev().find(|&i| {
        let x = &trace.messages[i];
        x.dst == m.src
            && x.message.status() == s
            && x.message.call_id() == call
            && x.message.cseq() == cseq
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::retransmit::tests::{ids, msg, run_rows, Row};
    use crate::txn::TimerConfig;
    use std::time::Duration;

    fn req(method: &str, via: &str, branch: &str, cseq: &str) -> String {
        msg(&format!("{method} sip:b@x SIP/2.0"), via, branch, cseq, "")
    }
    fn resp(code: u16, via: &str, branch: &str, cseq: &str, tag: &str) -> String {
        msg(&format!("SIP/2.0 {code} Reason"), via, branch, cseq, tag)
    }
    /// A MESSAGE from `a` (branch 1) and a response to it.
    fn mes() -> String {
        req("MESSAGE", "a", "1", "2 MESSAGE")
    }
    fn mes_resp(code: u16) -> String {
        resp(code, "a", "1", "2 MESSAGE", "t")
    }
    fn run(rows: &[Row], transport: Transport, tol: &Tolerances) -> Vec<&'static str> {
        ids(&run_rows(&GROUP, rows, transport, tol))
    }
    fn check(rows: &[Row]) -> Vec<&'static str> {
        run(rows, Transport::Udp, &Tolerances::default())
    }

    #[test]
    fn only_100_may_be_provisional_to_a_non_invite() {
        let rows = [
            (0, "a", "b", mes()),
            (10, "b", "a", mes_resp(180)),
            (20, "b", "a", mes_resp(200)),
        ];
        assert_eq!(check(&rows), ["tx.rfc4320.non-100-provisional"]);
        let inv = |code| resp(code, "a", "1", "1 INVITE", "t");
        let rows = [
            (0, "a", "b", req("INVITE", "a", "1", "1 INVITE")),
            (10, "b", "a", inv(180)),
        ];
        assert!(check(&rows).is_empty());
    }

    #[test]
    fn a_100_over_udp_waits_until_timer_e_reaches_t2() {
        let early = [
            (0, "a", "b", mes()),
            (20, "b", "a", mes_resp(100)),
            (30, "b", "a", mes_resp(200)),
        ];
        let found = run_rows(&GROUP, &early, Transport::Udp, &Tolerances::default());
        assert_eq!(ids(&found), ["tx.rfc4320.early-100"]);
        let d = &found[0].detail;
        assert!(
            d.contains("over UDP 0.02 s after the request") && d.contains("3.50 s"),
            "{d}"
        );
        // Over TCP a 100 may come at any time.
        assert!(run(&early, Transport::Tcp, &Tolerances::default()).is_empty());
        // A 100 to BYE once the client's Timer E reached T2 (0.5 + 1 + 2 s) is legal.
        let bye = req("BYE", "a", "4", "3 BYE");
        let mut rows: Vec<Row> = [0, 500, 1500, 3500]
            .iter()
            .map(|&t| (t, "a", "b", bye.clone()))
            .collect();
        rows.push((3500, "b", "a", resp(100, "a", "4", "3 BYE", "")));
        rows.push((3600, "b", "a", resp(200, "a", "4", "3 BYE", "t")));
        assert!(check(&rows).is_empty());
    }

    #[test]
    fn with_a_short_t1_the_100_delay_is_short_too() {
        let tol = Tolerances {
            timers: TimerConfig::scaled(Duration::from_millis(50)),
            ..Tolerances::default()
        };
        // T1 = 50 ms, T2 = 400 ms: Timer E reaches T2 after 50 + 100 + 200 = 350 ms.
        let at = |t| {
            [
                (0, "a", "b", mes()),
                (t, "b", "a", mes_resp(100)),
                (t + 10, "b", "a", mes_resp(200)),
            ]
        };
        assert_eq!(
            run(&at(200), Transport::Udp, &tol),
            ["tx.rfc4320.early-100"]
        );
        assert!(run(&at(320), Transport::Udp, &tol).is_empty());
    }

    #[test]
    fn silence_past_the_timer_e_delay_needs_a_100() {
        let sends =
            |times: &[u64]| -> Vec<Row> { times.iter().map(|&t| (t, "a", "b", mes())).collect() };
        let silent = sends(&[0, 500, 1500, 3500, 7500]);
        assert_eq!(check(&silent), ["tx.rfc4320.missing-100"]);
        // A final within the delay (3.5 s + 25% + jitter) answers it; a trace that ends
        // before the delay says nothing.
        let mut answered = sends(&[0, 500, 1500, 3500]);
        answered.push((4000, "b", "a", mes_resp(200)));
        assert!(check(&answered).is_empty());
        assert!(check(&sends(&[0, 500, 1500, 3500])).is_empty());
    }

    #[test]
    fn no_408_to_a_non_invite() {
        let rows = [
            (0, "a", "b", mes()),
            (100, "b", "a", mes_resp(408)),
            (600, "b", "a", mes_resp(408)),
        ];
        assert_eq!(
            check(&rows),
            ["tx.rfc4320.408"],
            "the retransmitted 408 is not a second one"
        );
        let inv = req("INVITE", "a", "1", "1 INVITE");
        let rows = [
            (0, "a", "b", inv),
            (100, "b", "a", resp(408, "a", "1", "1 INVITE", "t")),
        ];
        assert!(check(&rows).is_empty());
    }

    /// `a` sends a MESSAGE to proxy `p`, which forwards it to `b`.
    fn proxied() -> Vec<Row> {
        vec![
            (0, "a", "p", mes()),
            (10, "p", "b", req("MESSAGE", "p", "2", "2 MESSAGE")),
        ]
    }

    #[test]
    fn a_proxy_forwards_no_late_response() {
        let mut rows = proxied();
        rows.push((2000, "p", "a", resp(408, "a", "1", "2 MESSAGE", "p1")));
        rows.push((3000, "b", "p", resp(200, "p", "2", "2 MESSAGE", "t")));
        rows.push((3010, "p", "a", mes_resp(200)));
        let found = run_rows(&GROUP, &rows, Transport::Udp, &Tolerances::default());
        assert_eq!(
            ids(&found),
            ["tx.rfc4320.408", "tx.rfc4320.late-response-forwarded"]
        );
        assert_eq!(
            (found[1].message_index, found[1].related.clone()),
            (4, vec![2, 3])
        );
        // A retransmitted 200 (same status and To-tag) is not a second response.
        let mut rows = proxied();
        for t in [100, 600] {
            rows.push((t, "b", "p", resp(200, "p", "2", "2 MESSAGE", "t")));
            rows.push((t + 10, "p", "a", mes_resp(200)));
        }
        assert!(check(&rows).is_empty());
    }

    #[test]
    fn two_2xx_from_a_forked_invite_are_not_late_responses() {
        let inv = |via, branch| req("INVITE", via, branch, "1 INVITE");
        let ok = |via, branch, tag| resp(200, via, branch, "1 INVITE", tag);
        let rows = [
            (0, "a", "p", inv("a", "1")),
            (10, "p", "b", inv("p", "2")),
            (10, "p", "127.0.0.1:5064", inv("p", "3")),
            (100, "b", "p", ok("p", "2", "t1")),
            (110, "p", "a", ok("a", "1", "t1")),
            (200, "127.0.0.1:5064", "p", ok("p", "3", "t2")),
            (210, "p", "a", ok("a", "1", "t2")),
        ];
        assert!(check(&rows).is_empty());
    }

    #[test]
    fn a_proxy_sends_no_response_that_matches_no_request_it_received() {
        let mut rows = proxied();
        rows.push((100, "b", "p", resp(200, "p", "2", "2 MESSAGE", "t")));
        rows.push((110, "p", "a", resp(200, "a", "9", "2 MESSAGE", "t")));
        let found = run_rows(&GROUP, &rows, Transport::Udp, &Tolerances::default());
        assert_eq!(ids(&found), ["tx.rfc4320.unmatched-response-forwarded"]);
        assert_eq!(
            (found[0].message_index, found[0].related.clone()),
            (3, vec![2])
        );
        // The same stray response from a UAS is not a proxy's business.
        let rows = [
            (0, "a", "b", mes()),
            (100, "b", "a", mes_resp(200)),
            (110, "b", "a", resp(200, "a", "9", "2 MESSAGE", "t")),
        ];
        assert!(check(&rows).is_empty());
        // Nor is a proxy's unmatched response to an INVITE (every 2xx is forwarded).
        let rows = [
            (0, "a", "p", req("INVITE", "a", "1", "1 INVITE")),
            (10, "p", "b", req("INVITE", "p", "2", "1 INVITE")),
            (100, "b", "p", resp(200, "p", "2", "1 INVITE", "t")),
            (110, "p", "a", resp(200, "a", "9", "1 INVITE", "t")),
        ];
        assert!(check(&rows).is_empty());
    }
}
