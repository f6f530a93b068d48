//! The endpoint core driven through simulated time: two cores exchange datagrams by hand, with
//! no sockets and no clock.

use super::*;
use crate::net::impair::{DropRule, Impairer, Impairment};
use crate::sip::builder::MessageBuilder;
use crate::sip::HeaderName;
use crate::txn::TimerName;
use std::time::Duration;

const A: &str = "127.0.0.1:5060";
const B: &str = "127.0.0.1:5070";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn cfg(local: &str, transport: Transport) -> CoreConfig {
    let mut c = CoreConfig::new(
        addr(local),
        transport,
        TimerConfig::scaled(Duration::from_millis(10)),
    );
    c.seed = u64::from(addr(local).port());
    c
}

fn core(local: &str) -> EndpointCore {
    EndpointCore::new(cfg(local, Transport::Udp))
}

fn ms(n: u64) -> Time {
    Duration::from_millis(n)
}

/// A request from `c` to `to` with a fresh Via from the core.
fn request(c: &mut EndpointCore, method: &str, to: &str) -> Message {
    let via = c.new_via();
    let bytes = MessageBuilder::request(method, &format!("sip:b@{to}"))
        .header("Via", &via)
        .header("Max-Forwards", "70")
        .header("From", "<sip:a@example.com>;tag=fa")
        .header("To", "<sip:b@example.com>")
        .header("Call-ID", &format!("call-{}", c.unique_token()))
        .header("CSeq", &format!("1 {method}"))
        .build();
    parse_message(&bytes)
}

fn transmits(c: &mut EndpointCore) -> Vec<Transmit> {
    std::iter::from_fn(|| c.poll_transmit()).collect()
}

fn events(c: &mut EndpointCore) -> Vec<EndpointEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

/// Two cores on a perfect wire: steps time from event to event, carrying every transmission
/// across at once, until `until`. Returns each side's events with their times.
struct Wire {
    a: EndpointCore,
    b: EndpointCore,
    now: Time,
    a_events: Vec<(Time, EndpointEvent)>,
    b_events: Vec<(Time, EndpointEvent)>,
}

impl Wire {
    fn new(a: EndpointCore, b: EndpointCore) -> Self {
        Wire {
            a,
            b,
            now: Time::ZERO,
            a_events: Vec::new(),
            b_events: Vec::new(),
        }
    }

    /// Carries transmissions until both sides are quiet at the current time.
    fn settle(&mut self) {
        loop {
            let from_a = transmits(&mut self.a);
            let from_b = transmits(&mut self.b);
            if from_a.is_empty() && from_b.is_empty() {
                break;
            }
            for t in from_a {
                self.b.handle_datagram(self.now, self.a.local(), &t.bytes);
            }
            for t in from_b {
                self.a.handle_datagram(self.now, self.b.local(), &t.bytes);
            }
        }
        let now = self.now;
        self.a_events
            .extend(events(&mut self.a).into_iter().map(|e| (now, e)));
        self.b_events
            .extend(events(&mut self.b).into_iter().map(|e| (now, e)));
    }

    fn run_until(&mut self, until: Time) {
        self.settle();
        loop {
            let next = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) if t <= until => {
                    self.now = self.now.max(t);
                    self.a.handle_timeout(self.now);
                    self.b.handle_timeout(self.now);
                    self.settle();
                }
                _ => break,
            }
        }
        self.now = self.now.max(until);
    }
}

fn sent_times(trace: &Trace, local: SocketAddr) -> Vec<Time> {
    trace
        .messages
        .iter()
        .filter(|m| m.src == local)
        .map(|m| m.time)
        .collect()
}

#[test]
fn unanswered_request_retransmits_per_timer_e_then_times_out_with_f() {
    let mut a = core(A);
    let req = request(&mut a, "OPTIONS", B);
    let tx = a.send_request(Time::ZERO, req).unwrap();
    assert_eq!(transmits(&mut a)[0].to, addr(B));
    let mut now = Time::ZERO;
    let mut timeouts = Vec::new();
    while let Some(t) = a.poll_timeout() {
        now = t;
        a.handle_timeout(now);
        transmits(&mut a);
        timeouts.extend(events(&mut a));
    }
    // RFC 3261 §17.1.2.2: E = T1, 2T1, 4T1, then T2 (= 8T1 here) until F = 64*T1.
    let t1 = [0, 1, 3, 7, 15, 23, 31, 39, 47, 55, 63];
    let expected: Vec<Time> = t1.iter().map(|n| ms(10 * n)).collect();
    assert_eq!(sent_times(a.trace(), addr(A)), expected);
    assert_eq!(now, ms(640));
    assert_eq!(
        timeouts,
        [EndpointEvent::Timeout {
            tx,
            timer: TimerName::F
        }]
    );
    assert_eq!(
        a.transaction_count(),
        0,
        "terminated transactions are dropped"
    );
}

#[test]
fn response_ends_retransmissions_and_server_absorbs_request_retransmission() {
    let mut w = Wire::new(core(A), core(B));
    let req = request(&mut w.a, "OPTIONS", B);
    let tx_a = w.a.send_request(Time::ZERO, req).unwrap();
    // B's TU does not answer before A's first retransmission (at T1 = 10 ms).
    w.run_until(ms(15));
    assert_eq!(
        w.b_events.len(),
        1,
        "the retransmission is absorbed: {:?}",
        w.b_events
    );
    let EndpointEvent::Request {
        tx: tx_b,
        msg,
        from,
    } = &w.b_events[0].1
    else {
        panic!("expected a request, got {:?}", w.b_events)
    };
    assert_eq!(*from, addr(A));
    assert_eq!(w.b.state_of(*tx_b).as_deref(), Some("Trying"));
    // RFC 3581 §4 / RFC 3261 §18.2.1: rport filled, received added.
    assert_eq!(msg.top_via().unwrap().rport(), Some(Some(5060)));
    let tx_b = *tx_b;
    w.b.respond(w.now, tx_b, 200, "OK").unwrap();
    w.run_until(ms(200));
    let responses: Vec<_> = w
        .a_events
        .iter()
        .filter(|(_, e)| matches!(e, EndpointEvent::Response { tx, .. } if *tx == tx_a))
        .collect();
    assert_eq!(responses.len(), 1);
    let a_sent = sent_times(w.a.trace(), addr(A));
    assert_eq!(a_sent, [ms(0), ms(10)], "no retransmission after the 200");
    // A is in Completed until Timer K (T4 = 100 ms) and then gone; B keeps Timer J (64*T1).
    assert_eq!(w.a.transaction_count(), 0);
    assert_eq!(w.b.state_of(tx_b).as_deref(), Some("Completed"));
    w.run_until(ms(1000));
    assert_eq!(w.b.transaction_count(), 0);
}

#[test]
fn a_dropped_200_is_recovered_by_timer_e_and_the_completed_server() {
    let mut b_cfg = cfg(B, Transport::Udp);
    b_cfg.outbound = Some(Impairer::new(Impairment::none(), 1).with_rule(DropRule::status(200, 1)));
    let mut w = Wire::new(core(A), EndpointCore::new(b_cfg));
    let req = request(&mut w.a, "OPTIONS", B);
    let tx_a = w.a.send_request(Time::ZERO, req).unwrap();
    w.settle();
    let EndpointEvent::Request { tx: tx_b, .. } = w.b_events[0].1 else {
        panic!("expected a request")
    };
    w.b.respond(w.now, tx_b, 200, "OK").unwrap();
    w.run_until(ms(300));
    let got: Vec<_> = w
        .a_events
        .iter()
        .map(|(t, e)| match e {
            EndpointEvent::Response { tx, msg } => (*t, *tx, msg.status()),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(got, [(ms(10), tx_a, Some(200))]);
    // B's trace: what left. The dropped 200 never left, so only the re-sent one is there.
    let b_sent: Vec<_> =
        w.b.trace()
            .messages
            .iter()
            .filter(|m| m.src == addr(B))
            .map(|m| (m.time, m.message.status()))
            .collect();
    assert_eq!(b_sent, [(ms(10), Some(200))]);
    assert_eq!(w.b.stats().outbound.dropped_by_rule, 1);
    let a_requests =
        w.a.trace()
            .messages
            .iter()
            .filter(|m| m.src == addr(A))
            .count();
    assert_eq!(a_requests, 2, "the OPTIONS was retransmitted once");
}

#[test]
fn stray_response_and_garbage_are_reported() {
    let mut a = core(A);
    let from = addr(B);
    let resp = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKnone\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    a.handle_datagram(ms(1), from, resp);
    a.handle_datagram(ms(2), from, b"\x00\x01 hello there\r\n\r\n");
    a.handle_datagram(
        ms(3),
        from,
        b"OPTIONS sip:a@x SIP/2.0\r\nContent-Length: 0\r\n\r\n",
    );
    a.handle_datagram(ms(4), from, b"\r\n\r\n");
    let ev = events(&mut a);
    assert_eq!(ev.len(), 3, "{ev:?}");
    assert!(
        matches!(&ev[0], EndpointEvent::Stray { msg, from: f } if msg.status() == Some(200) && *f == from)
    );
    let EndpointEvent::Garbage {
        violation, bytes, ..
    } = &ev[1]
    else {
        panic!("expected garbage: {:?}", ev[1])
    };
    // The first line reads as a Request-Line whose method is not a token.
    assert_eq!(violation.rule.id, "msg.method.not-token");
    assert_eq!(bytes[0], 0);
    let EndpointEvent::Garbage { violation, .. } = &ev[2] else {
        panic!("expected garbage: {:?}", ev[2])
    };
    assert_eq!(violation.rule.id, "msg.header.missing");
    let s = a.stats();
    assert_eq!((s.stray, s.garbage, s.keepalives), (1, 2, 1));
    assert_eq!(
        a.trace().messages.len(),
        4,
        "everything that arrived is in the trace"
    );
}

#[test]
fn a_flood_of_garbage_keeps_queues_and_trace_bounded() {
    let mut c = cfg(A, Transport::Udp);
    c.limits.max_events = 64;
    c.limits.max_trace_bytes = 10_000;
    let mut a = EndpointCore::new(c);
    let from = addr(B);
    for i in 0..100_000u64 {
        let junk = format!("junk {i} \u{1}\r\n\r\n");
        a.handle_datagram(Duration::from_micros(i), from, junk.as_bytes());
    }
    assert_eq!(a.queued_events(), 64);
    let s = a.stats();
    assert_eq!(s.garbage, 100_000);
    assert_eq!(s.dropped, 100_000 - 64);
    let kept = a.trace().messages.len() as u64;
    assert!(kept < 1000, "{kept}");
    assert_eq!(s.trace_dropped, 100_000 - kept);
    // Drop-oldest: the newest events survive.
    let ev = events(&mut a);
    let EndpointEvent::Garbage { bytes, .. } = ev.last().unwrap() else {
        panic!()
    };
    assert!(bytes.starts_with(b"junk 99999 "));
    assert_eq!(a.transaction_count(), 0);
}

#[test]
fn a_flood_of_requests_is_capped_by_the_transaction_table() {
    let mut c = cfg(B, Transport::Udp);
    c.limits.max_transactions = 10;
    let mut b = EndpointCore::new(c);
    let mut a = core(A);
    for _ in 0..50 {
        let req = request(&mut a, "OPTIONS", B);
        b.handle_datagram(ms(1), addr(A), req.as_bytes());
    }
    assert_eq!(b.transaction_count(), 10);
    assert_eq!(b.stats().rejected_requests, 40);
    assert_eq!(events(&mut b).len(), 10);
}

#[test]
fn ack_to_2xx_reaches_the_accepted_invite_transaction() {
    let mut w = Wire::new(core(A), core(B));
    let inv = request(&mut w.a, "INVITE", B);
    let tx_a = w.a.send_request(Time::ZERO, inv.clone()).unwrap();
    w.settle();
    let EndpointEvent::Request { tx: tx_b, .. } = w.b_events[0].1 else {
        panic!()
    };
    w.b.respond(w.now, tx_b, 200, "OK").unwrap();
    w.settle();
    let Some((_, EndpointEvent::Response { tx, msg })) = w.a_events.first().cloned() else {
        panic!("{:?}", w.a_events)
    };
    assert_eq!((tx, msg.status()), (tx_a, Some(200)));
    assert_eq!(w.b.state_of(tx_b).as_deref(), Some("Accepted"));
    // The TU's ACK (RFC 3261 §13.2.2.4): a new branch, sent without a transaction.
    let via = w.a.new_via();
    let ack = MessageBuilder::request("ACK", &format!("sip:b@{B}"))
        .header("Via", &via)
        .header("From", "<sip:a@example.com>;tag=fa")
        .header("To", &msg.first_value(HeaderName::To).unwrap())
        .header("Call-ID", &inv.call_id().unwrap())
        .header("CSeq", "1 ACK")
        .build();
    w.a.send_raw(w.now, addr(B), ack);
    w.settle();
    let last = &w.b_events.last().unwrap().1;
    assert!(
        matches!(last, EndpointEvent::Request { tx, msg, .. } if *tx == tx_b && msg.method().as_deref() == Some("ACK")),
        "{last:?}"
    );
    // A second, unrelated ACK is stray.
    let stray = b"ACK sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKzz\r\nFrom: <sip:a@x>;tag=9\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: other\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n";
    w.b.handle_datagram(w.now, addr(A), stray);
    assert!(matches!(
        events(&mut w.b)[..],
        [EndpointEvent::Stray { .. }]
    ));
}

#[test]
fn stream_bytes_are_framed_per_connection_and_pings_get_pongs() {
    let mut b = EndpointCore::new(cfg(B, Transport::Tcp));
    let mut a = EndpointCore::new(cfg(A, Transport::Tcp));
    let peer: SocketAddr = addr("127.0.0.1:40000");
    b.handle_connected(peer, addr(B));
    let req = request(&mut a, "OPTIONS", B);
    let mut stream = b"\r\n\r\n".to_vec();
    stream.extend_from_slice(req.as_bytes());
    stream.extend_from_slice(&req.as_bytes()[..30]);
    for chunk in stream.chunks(13) {
        b.handle_stream(ms(1), peer, chunk);
    }
    let t = transmits(&mut b);
    assert_eq!(
        t,
        [Transmit {
            to: peer,
            bytes: b"\r\n".to_vec()
        }],
        "RFC 5626 pong"
    );
    let ev = events(&mut b);
    let [EndpointEvent::Request { tx, from, .. }] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(*from, peer);
    // Over TCP the response goes back on the connection (RFC 3261 §18.2.2).
    b.respond(ms(2), *tx, 200, "OK").unwrap();
    assert_eq!(transmits(&mut b)[0].to, peer);
    assert_eq!(
        b.transaction_count(),
        0,
        "Timer J is zero on reliable transports"
    );
    b.handle_stream_closed(ms(3), peer);
    let ev = events(&mut b);
    let [EndpointEvent::Garbage {
        violation, bytes, ..
    }] = &ev[..]
    else {
        panic!("{ev:?}")
    };
    assert_eq!(violation.rule.id, "msg.stream.incomplete");
    assert_eq!(bytes.len(), 30);
    assert_eq!(
        b.trace().messages.len(),
        3,
        "request, response, cut message"
    );
}

#[test]
fn transport_error_ends_the_transactions_towards_the_peer() {
    let mut a = EndpointCore::new(cfg(A, Transport::Tcp));
    let req = request(&mut a, "OPTIONS", B);
    let tx = a.send_request(Time::ZERO, req).unwrap();
    transmits(&mut a);
    a.handle_transport_error(ms(5), addr(B));
    assert_eq!(
        events(&mut a),
        [EndpointEvent::TransportError { tx, peer: addr(B) }]
    );
    assert_eq!(a.transaction_count(), 0);
    assert_eq!(a.poll_timeout(), None);
}

#[test]
fn request_destination_and_send_errors() {
    let mut a = core(A);
    let req = request(&mut a, "OPTIONS", "[::1]:5080");
    assert_eq!(destination(&req), Some(addr("[::1]:5080")));
    let routed = parse_message(
        b"OPTIONS sip:b@example.com SIP/2.0\r\nRoute: <sip:192.0.2.7;lr>\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 OPTIONS\r\n\r\n",
    );
    assert_eq!(destination(&routed), Some(addr("192.0.2.7:5060")));
    let named = parse_message(b"OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 OPTIONS\r\n\r\n");
    assert_eq!(a.send_request(ms(0), named), Err(SendError::NoDestination));
    let req = request(&mut a, "OPTIONS", B);
    a.send_request(ms(0), req.clone()).unwrap();
    assert!(matches!(
        a.send_request(ms(0), req),
        Err(SendError::DuplicateKey(_))
    ));
    assert!(matches!(
        a.respond(ms(0), TxId(1), 200, "OK"),
        Err(SendError::NotServer(_))
    ));
    assert!(matches!(
        a.respond(ms(0), TxId(99), 200, "OK"),
        Err(SendError::UnknownTx(_))
    ));
}

/// Runs an OPTIONS exchange over an impaired wire and returns what A's trace saw.
fn impaired_run(seed: u64) -> Vec<(Time, String)> {
    let imp = Impairment {
        loss: 0.3,
        delay: ms(2),
        jitter: ms(1),
        duplicate: 0.2,
        reorder: 0.0,
        ..Impairment::none()
    };
    let mut a_cfg = cfg(A, Transport::Udp);
    a_cfg.outbound = Some(Impairer::new(imp, seed));
    let mut b_cfg = cfg(B, Transport::Udp);
    b_cfg.outbound = Some(Impairer::new(imp, seed + 1));
    let mut w = Wire::new(EndpointCore::new(a_cfg), EndpointCore::new(b_cfg));
    let req = request(&mut w.a, "OPTIONS", B);
    w.a.send_request(Time::ZERO, req).unwrap();
    for step in 1..=100 {
        w.run_until(ms(step * 10));
        let reqs: Vec<TxId> = w
            .b_events
            .drain(..)
            .filter_map(|(_, e)| match e {
                EndpointEvent::Request { tx, .. } => Some(tx),
                _ => None,
            })
            .collect();
        for tx in reqs {
            w.b.respond(w.now, tx, 200, "OK").unwrap();
        }
    }
    w.a.trace()
        .messages
        .iter()
        .map(|m| (m.time, m.message.summary()))
        .collect()
}

#[test]
fn impaired_runs_are_deterministic_for_a_seed() {
    let first = impaired_run(7);
    assert_eq!(first, impaired_run(7));
    assert_ne!(first, impaired_run(8));
    assert!(first.iter().any(|(_, s)| s.starts_with("200")), "{first:?}");
}
