//! Tests of the proxy mode (RFC 3261 §16, RFC 4320 §4.2): alice (127.0.0.1:5061) and bob
//! (127.0.0.1:5062) talk through the UA (127.0.0.1:5070, the test wire's address).

use super::test_wire::{msg, request, response, Sent, TestWire};
use super::{Quirk, Quirks, UaConfig, UaCore};
use crate::net::{EndpointEvent, TxId};
use crate::sip::parse::parse_message;
use crate::sip::HeaderName;
use crate::txn::TimerName;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::time::Instant;

const ALICE: &str = "127.0.0.1:5061";
const BOB: &str = "127.0.0.1:5062";
const RR: &str = "<sip:127.0.0.1:5070;lr>";

const SDP: &str = "v=0
o=alice 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=application 9000 UDP/BFCP *
a=floorctrl:c-s
a=x-custom:kept  as  is
";

fn ua(quirks: &[Quirk]) -> (UaCore, Arc<TestWire>) {
    let wire = TestWire::new();
    let cfg = UaConfig {
        quirks: Quirks::new(quirks.iter().copied()),
        ..UaConfig::default()
    };
    (UaCore::new(cfg, wire.clone()), wire)
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("address")
}

/// alice's INVITE to bob, as the UA's server transaction 1 hands it up.
fn invite(extra: &str) -> EndpointEvent {
    let text = format!(
        "INVITE sip:bob@{BOB} SIP/2.0
Via: SIP/2.0/UDP {ALICE};branch=z9hG4bKa1;rport=5061;received=127.0.0.1
Max-Forwards: 70
From: <sip:alice@{ALICE}>;tag=a1
To: <sip:bob@{BOB}>
Call-ID: call-1
CSeq: 1 INVITE
Contact: <sip:alice@{ALICE}>
{extra}Content-Type: application/sdp

{SDP}"
    );
    request(1, ALICE, &text)
}

/// Forwards alice's INVITE and returns the forwarded request.
fn forward_invite(ua: &mut UaCore, wire: &TestWire, now: Instant) -> Sent {
    ua.on_event(now, invite(""));
    let sent = wire.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    sent.into_iter().next().expect("the INVITE")
}

/// bob's response to the forwarded request `fwd` (its Vias, a To tag for non-100s).
fn answer(fwd: &Sent, status: u16, extra: &str) -> String {
    let m = fwd.msg();
    let vias: String = m
        .values(HeaderName::Via)
        .iter()
        .map(|v| format!("Via: {v}\n"))
        .collect();
    let to = m.first_value(HeaderName::To).expect("To");
    let to = if status == 100 {
        to.into_owned()
    } else {
        format!("{to};tag=b1")
    };
    format!(
        "SIP/2.0 {status} Whatever
{vias}From: {}
To: {to}
Call-ID: {}
CSeq: {}
{extra}",
        m.first_value(HeaderName::From).expect("From"),
        m.call_id().expect("Call-ID"),
        m.first_value(HeaderName::CSeq).expect("CSeq"),
    )
}

#[test]
fn invite_is_forwarded_with_record_route_max_forwards_and_own_via() {
    let (mut ua, wire) = ua(&[]);
    let fwd = forward_invite(&mut ua, &wire, Instant::now());
    let Sent::Request { to, msg: m, .. } = &fwd else {
        panic!("not through a client transaction: {fwd:?}");
    };
    assert_eq!(*to, addr(BOB));
    // RFC 3261 §16.6: Request-URI unchanged, Max-Forwards decremented, Record-Route, own Via.
    assert_eq!(m.request_uri().as_deref(), Some("sip:bob@127.0.0.1:5062"));
    assert_eq!(fwd.header(HeaderName::MaxForwards).as_deref(), Some("69"));
    assert_eq!(m.values(HeaderName::RecordRoute), [RR]);
    let vias = m.vias();
    assert_eq!(vias.len(), 2);
    assert_eq!(vias[0].sent_by(), "127.0.0.1:5070");
    assert!(vias[0].branch_has_cookie());
    assert_ne!(vias[0].branch(), Some("z9hG4bKa1"));
    assert_eq!(vias[1].branch(), Some("z9hG4bKa1"));
    assert_eq!(vias[1].param("received"), Some(Some("127.0.0.1")));
    assert_eq!(m.call_id().as_deref(), Some("call-1"));
    assert!(m.violations.is_empty(), "{:?}", m.rule_ids());
    // The UA did not answer as a UA: no call, no 180 of its own.
    assert!(wire.take().is_empty());
}

#[test]
fn the_body_passes_byte_for_byte() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    let ev = invite("");
    let EndpointEvent::Request { msg: received, .. } = &ev else {
        unreachable!()
    };
    let body = received.body().to_vec();
    assert!(body.ends_with(b"a=x-custom:kept  as  is\r\n"));
    ua.on_event(now, ev);
    let sent = wire.take();
    assert_eq!(sent[0].msg().body(), &body[..]);
    assert_eq!(
        sent[0].header(HeaderName::ContentLength),
        Some(body.len().to_string())
    );
    // Bytes the UA would never write itself (bare LF, trailing blanks) pass unchanged too.
    let odd = b"x\n  y \r\nz\t\n";
    let raw = format!(
        "MESSAGE sip:bob@{BOB} SIP/2.0\r\nVia: SIP/2.0/UDP {ALICE};branch=z9hG4bKm9\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice@{ALICE}>;tag=a9\r\nTo: <sip:bob@{BOB}>\r\n\
         Call-ID: m9\r\nCSeq: 1 MESSAGE\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {}\r\n\r\n",
        odd.len()
    );
    let mut bytes = raw.into_bytes();
    bytes.extend_from_slice(odd);
    ua.on_event(
        now,
        EndpointEvent::Request {
            tx: TxId(9),
            msg: parse_message(&bytes),
            from: addr(ALICE),
        },
    );
    let sent = wire.take();
    assert_eq!(sent[0].label(), "MESSAGE");
    assert_eq!(sent[0].msg().body(), odd);
}

#[test]
fn provisionals_and_the_2xx_go_up_without_the_proxys_via_and_100_stays() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    let fwd = forward_invite(&mut ua, &wire, now);
    let tx = fwd.tx();
    // §16.7: a 100 is hop by hop.
    ua.on_event(now, response(tx, &answer(&fwd, 100, "")));
    assert!(wire.take().is_empty());
    ua.on_event(now, response(tx, &answer(&fwd, 180, "")));
    let rr = format!("Record-Route: {RR}\nContact: <sip:bob@{BOB}>\n");
    ua.on_event(
        now,
        response(
            tx,
            &answer(
                &fwd,
                200,
                &format!("{rr}Content-Type: application/sdp\n\n{SDP}"),
            ),
        ),
    );
    let sent = wire.take();
    assert_eq!(sent.len(), 2, "{sent:?}");
    for (s, status) in sent.iter().zip([180, 200]) {
        let Sent::Response { tx, msg: m } = s else {
            panic!("not through the server transaction: {s:?}");
        };
        assert_eq!(*tx, TxId(1));
        assert_eq!(m.status(), Some(status));
        assert_eq!(m.values(HeaderName::Via).len(), 1);
        assert_eq!(m.branch().as_deref(), Some("z9hG4bKa1"));
    }
    assert_eq!(sent[1].msg().values(HeaderName::RecordRoute), [RR]);
    assert!(sent[1].body().contains("a=x-custom:kept  as  is"));
    // RFC 6026 §8.4: a 2xx retransmission after the client transaction ended (a stray)
    // is forwarded too.
    let stray = msg(&answer(&fwd, 200, &rr));
    ua.on_event(
        now,
        EndpointEvent::Stray {
            msg: stray,
            from: addr(BOB),
        },
    );
    assert_eq!(wire.take_labels(), ["200 INVITE"]);
}

#[test]
fn max_forwards_zero_gets_483() {
    let (mut ua, wire) = ua(&[]);
    let ev = invite("");
    let EndpointEvent::Request { msg: m, .. } = ev else {
        unreachable!()
    };
    let text = String::from_utf8_lossy(m.as_bytes()).replace("Max-Forwards: 70", "Max-Forwards: 0");
    ua.on_event(
        Instant::now(),
        EndpointEvent::Request {
            tx: TxId(1),
            msg: parse_message(text.as_bytes()),
            from: addr(ALICE),
        },
    );
    let sent = wire.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(matches!(&sent[0], Sent::Response { tx: TxId(1), .. }));
    assert_eq!(sent[0].msg().status(), Some(483));
}

#[test]
fn absent_max_forwards_becomes_70() {
    let (mut ua, wire) = ua(&[]);
    let text = format!(
        "OPTIONS sip:bob@{BOB} SIP/2.0
Via: SIP/2.0/UDP {ALICE};branch=z9hG4bKo1
From: <sip:alice@{ALICE}>;tag=a1
To: <sip:bob@{BOB}>
Call-ID: o1
CSeq: 1 OPTIONS
"
    );
    ua.on_event(Instant::now(), request(1, ALICE, &text));
    let sent = wire.take();
    assert_eq!(sent[0].label(), "OPTIONS");
    assert_eq!(
        sent[0].header(HeaderName::MaxForwards).as_deref(),
        Some("70")
    );
    // A non-INVITE that creates no dialog is not record-routed.
    assert!(sent[0].header(HeaderName::RecordRoute).is_none());
}

#[test]
fn requests_for_the_ua_itself_are_not_proxied() {
    let (mut ua, wire) = ua(&[]);
    let text = format!(
        "OPTIONS sip:ua@127.0.0.1:5070 SIP/2.0
Via: SIP/2.0/UDP {ALICE};branch=z9hG4bKo2
Max-Forwards: 0
From: <sip:alice@{ALICE}>;tag=a1
To: <sip:ua@127.0.0.1:5070>
Call-ID: o2
CSeq: 1 OPTIONS
"
    );
    ua.on_event(Instant::now(), request(1, ALICE, &text));
    assert_eq!(wire.take_labels(), ["200 OPTIONS"]);
    // A host name cannot be resolved: the UA answers too.
    let named = text.replace("sip:ua@127.0.0.1:5070 SIP", "sip:bob@example.com SIP");
    ua.on_event(Instant::now(), request(2, ALICE, &named));
    assert_eq!(wire.take_labels(), ["200 OPTIONS"]);
    // Nor can the UA's IP address without a port mean anyone else.
    let portless = text.replace("sip:ua@127.0.0.1:5070 SIP", "sip:ua@127.0.0.1 SIP");
    ua.on_event(Instant::now(), request(3, ALICE, &portless));
    assert_eq!(wire.take_labels(), ["200 OPTIONS"]);
    // A loopback UA forwards to loopback addresses only.
    let away = text.replace("sip:ua@127.0.0.1:5070 SIP", "sip:bob@192.0.2.1:5060 SIP");
    ua.on_event(Instant::now(), request(4, ALICE, &away));
    assert_eq!(wire.take_labels(), ["200 OPTIONS"]);
}

/// bob's BYE to alice in the call, routed through the proxy.
fn bye(route: &str) -> EndpointEvent {
    let text = format!(
        "BYE sip:alice@{ALICE} SIP/2.0
Via: SIP/2.0/UDP {BOB};branch=z9hG4bKb7
Max-Forwards: 70
Route: {route}
From: <sip:bob@{BOB}>;tag=b1
To: <sip:alice@{ALICE}>;tag=a1
Call-ID: call-1
CSeq: 7 BYE
"
    );
    request(7, BOB, &text)
}

#[test]
fn bye_with_the_proxys_route_is_forwarded_and_its_200_comes_back() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    ua.on_event(now, bye(RR));
    let sent = wire.take();
    let Sent::Request { to, msg: m, tx } = &sent[0] else {
        panic!("{sent:?}");
    };
    assert_eq!(*to, addr(ALICE));
    // RFC 3261 §16.4: the proxy's own Route is removed; no Record-Route in a BYE.
    assert!(m.header(HeaderName::Route).is_none());
    assert!(m.header(HeaderName::RecordRoute).is_none());
    assert_eq!(m.request_uri().as_deref(), Some("sip:alice@127.0.0.1:5061"));
    assert_eq!(m.values(HeaderName::Via).len(), 2);
    ua.on_event(now, response(*tx, &answer(&sent[0], 200, "")));
    let up = wire.take();
    assert!(
        matches!(&up[0], Sent::Response { tx: TxId(7), .. }),
        "{up:?}"
    );
    assert_eq!(up[0].msg().branch().as_deref(), Some("z9hG4bKb7"));
}

#[test]
fn a_further_route_is_the_next_hop() {
    let (mut ua, wire) = ua(&[]);
    let route = format!("{RR}, <sip:127.0.0.1:5099;lr>");
    ua.on_event(Instant::now(), bye(&route));
    let sent = wire.take();
    let Sent::Request { to, msg: m, .. } = &sent[0] else {
        panic!("{sent:?}");
    };
    assert_eq!(*to, addr("127.0.0.1:5099"));
    assert_eq!(m.values(HeaderName::Route), ["<sip:127.0.0.1:5099;lr>"]);
}

#[test]
fn ack_to_the_2xx_is_forwarded_without_a_transaction() {
    let (mut ua, wire) = ua(&[]);
    let text = format!(
        "ACK sip:bob@{BOB} SIP/2.0
Via: SIP/2.0/UDP {ALICE};branch=z9hG4bKack
Max-Forwards: 70
Route: {RR}
From: <sip:alice@{ALICE}>;tag=a1
To: <sip:bob@{BOB}>;tag=b1
Call-ID: call-1
CSeq: 1 ACK
"
    );
    // It reaches the UA through the INVITE server transaction in Accepted (RFC 6026 §7.1)...
    ua.on_event(Instant::now(), request(1, ALICE, &text));
    // ...or as a stray once that transaction ended.
    ua.on_event(
        Instant::now(),
        EndpointEvent::Stray {
            msg: msg(&text),
            from: addr(ALICE),
        },
    );
    let sent = wire.take();
    assert_eq!(sent.len(), 2, "{sent:?}");
    for s in &sent {
        let Sent::Raw { to, msg: m } = s else {
            panic!("{s:?}");
        };
        assert_eq!(*to, addr(BOB));
        assert_eq!(s.label(), "raw ACK");
        assert!(m.header(HeaderName::Route).is_none());
        assert_eq!(m.vias()[0].sent_by(), "127.0.0.1:5070");
        assert_eq!(s.header(HeaderName::MaxForwards).as_deref(), Some("69"));
    }
}

/// alice's CANCEL of her INVITE, server transaction 2.
fn cancel() -> EndpointEvent {
    let text = format!(
        "CANCEL sip:bob@{BOB} SIP/2.0
Via: SIP/2.0/UDP {ALICE};branch=z9hG4bKa1;rport=5061;received=127.0.0.1
Max-Forwards: 70
From: <sip:alice@{ALICE}>;tag=a1
To: <sip:bob@{BOB}>
Call-ID: call-1
CSeq: 1 CANCEL
"
    );
    request(2, ALICE, &text)
}

#[test]
fn cancel_gets_200_cancels_downstream_and_the_487_comes_back() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    let fwd = forward_invite(&mut ua, &wire, now);
    ua.on_event(now, response(fwd.tx(), &answer(&fwd, 180, "")));
    assert_eq!(wire.take_labels(), ["180 INVITE"]);
    ua.on_event(now, cancel());
    let sent = wire.take();
    assert_eq!(
        sent.iter().map(Sent::label).collect::<Vec<_>>(),
        ["200 CANCEL", "CANCEL"]
    );
    assert!(matches!(&sent[0], Sent::Response { tx: TxId(2), .. }));
    // RFC 3261 §9.1: the CANCEL matches the forwarded INVITE: its top Via, Request-URI.
    let c = sent[1].msg();
    assert_eq!(c.branch(), fwd.msg().branch());
    assert_eq!(c.request_uri(), fwd.msg().request_uri());
    assert_eq!(c.values(HeaderName::Via).len(), 1);
    // Its 200 ends at the proxy; the 487 goes up through the INVITE's server transaction.
    let Sent::Request { tx: cancel_tx, .. } = &sent[1] else {
        panic!()
    };
    ua.on_event(now, response(*cancel_tx, &answer(&sent[1], 200, "")));
    assert!(wire.take().is_empty());
    ua.on_event(now, response(fwd.tx(), &answer(&fwd, 487, "")));
    let up = wire.take();
    assert_eq!(up.len(), 1, "{up:?}");
    assert!(matches!(&up[0], Sent::Response { tx: TxId(1), .. }));
    assert_eq!(up[0].msg().status(), Some(487));
}

#[test]
fn cancel_before_any_provisional_waits_for_one() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    let fwd = forward_invite(&mut ua, &wire, now);
    ua.on_event(now, cancel());
    // RFC 3261 §9.1: no CANCEL before a provisional; the 200 to alice's CANCEL goes at once.
    assert_eq!(wire.take_labels(), ["200 CANCEL"]);
    ua.on_event(now, response(fwd.tx(), &answer(&fwd, 100, "")));
    assert_eq!(wire.take_labels(), ["CANCEL"]);
}

#[test]
fn invite_timeout_gets_408_upstream() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    let fwd = forward_invite(&mut ua, &wire, now);
    ua.on_event(
        now,
        EndpointEvent::Timeout {
            tx: fwd.tx(),
            timer: TimerName::B,
        },
    );
    assert_eq!(wire.take_labels(), ["408 INVITE"]);
}

/// alice's MESSAGE to bob, server transaction 3; returns the forwarded one.
fn forward_message(ua: &mut UaCore, wire: &TestWire, now: Instant) -> Sent {
    let text = format!(
        "MESSAGE sip:bob@{BOB} SIP/2.0
Via: SIP/2.0/UDP {ALICE};branch=z9hG4bKm1
Max-Forwards: 70
From: <sip:alice@{ALICE}>;tag=a1
To: <sip:bob@{BOB}>
Call-ID: m1
CSeq: 1 MESSAGE
Content-Type: text/plain

hello
"
    );
    ua.on_event(now, request(3, ALICE, &text));
    let sent = wire.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    sent.into_iter().next().expect("the MESSAGE")
}

/// Timer F fires at the proxy, then bob's 200 arrives as a stray.
fn late_200(ua: &mut UaCore, wire: &TestWire) {
    let now = Instant::now();
    let fwd = forward_message(ua, wire, now);
    ua.on_event(
        now,
        EndpointEvent::Timeout {
            tx: fwd.tx(),
            timer: TimerName::F,
        },
    );
    // RFC 4320 §4.2: no 408, nothing at all.
    assert!(wire.take().is_empty());
    ua.on_event(
        now,
        EndpointEvent::Stray {
            msg: msg(&answer(&fwd, 200, "")),
            from: addr(BOB),
        },
    );
}

#[test]
fn a_late_200_to_message_is_dropped() {
    let (mut ua, wire) = ua(&[]);
    late_200(&mut ua, &wire);
    assert!(wire.take().is_empty());
    assert!(
        ua.notes.iter().any(|n| n.contains("late 200")),
        "{:?}",
        ua.notes
    );
}

#[test]
fn a_late_200_to_message_is_forwarded_with_the_quirk() {
    let (mut ua, wire) = ua(&[Quirk::ForwardsLateResponses]);
    late_200(&mut ua, &wire);
    let sent = wire.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let Sent::Raw { to, msg: m } = &sent[0] else {
        panic!("{sent:?}");
    };
    assert_eq!(*to, addr(ALICE));
    assert_eq!(m.status(), Some(200));
    assert_eq!(m.branch().as_deref(), Some("z9hG4bKm1"));
}

#[test]
fn message_final_goes_up_once_and_a_503_as_500() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    let fwd = forward_message(&mut ua, &wire, now);
    assert!(fwd.body().starts_with("hello"));
    ua.on_event(now, response(fwd.tx(), &answer(&fwd, 503, "")));
    // RFC 3261 §16.7 step 6: a lone 503 goes up as 500.
    assert_eq!(wire.take_labels(), ["500 MESSAGE"]);
    // A second final through the same client transaction (the layer would absorb it) is
    // late.
    ua.on_event(now, response(fwd.tx(), &answer(&fwd, 200, "")));
    assert!(wire.take().is_empty());
}

/// Over real sockets: alice and bob (plain UDP sockets) call through a UA started with
/// `ua::shell::start`; the endpoint's transactions and `received`/`rport` stamping are real.
#[tokio::test]
async fn a_call_through_the_proxy_over_udp() {
    use crate::trace::Transport;
    use crate::txn::server::build_response;
    use tokio::net::UdpSocket;

    async fn recv(sock: &UdpSocket, skip_100: bool) -> crate::sip::message::Message {
        let mut buf = vec![0u8; 65536];
        loop {
            let fut = sock.recv_from(&mut buf);
            let (n, _) = tokio::time::timeout(std::time::Duration::from_secs(3), fut)
                .await
                .expect("a message in time")
                .expect("recv");
            let m = parse_message(&buf[..n]);
            if !(skip_100 && m.status() == Some(100)) {
                return m;
            }
        }
    }
    let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let ua = super::shell::start(bind, Transport::Udp, UaConfig::default())
        .await
        .expect("the UA starts");
    let proxy = ua.local_addr();
    let alice = UdpSocket::bind(bind).await.unwrap();
    let bob = UdpSocket::bind(bind).await.unwrap();
    let (a, b) = (alice.local_addr().unwrap(), bob.local_addr().unwrap());
    let rr = format!("<sip:{proxy};lr>");
    let invite = format!(
        "INVITE sip:bob@{b} SIP/2.0\r\nVia: SIP/2.0/UDP {a};branch=z9hG4bKe2e1;rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice@{a}>;tag=a1\r\nTo: <sip:bob@{b}>\r\n\
         Call-ID: e2e-1\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@{a}>\r\nContent-Length: 0\r\n\r\n"
    );
    alice.send_to(invite.as_bytes(), proxy).await.unwrap();
    let inv = recv(&bob, false).await;
    assert_eq!(inv.method().as_deref(), Some("INVITE"));
    assert_eq!(inv.values(HeaderName::RecordRoute), [rr.as_str()]);
    assert_eq!(inv.values(HeaderName::Via).len(), 2);
    assert_eq!(
        inv.first_value(HeaderName::MaxForwards).as_deref(),
        Some("69")
    );
    let ringing = build_response(&inv, 180, "Ringing", Some("b1"));
    bob.send_to(&ringing, proxy).await.unwrap();
    let ok = String::from_utf8(build_response(&inv, 200, "OK", Some("b1"))).unwrap();
    let ok = ok.replace(
        "Content-Length: 0\r\n",
        &format!("Record-Route: {rr}\r\nContact: <sip:bob@{b}>\r\nContent-Length: 0\r\n"),
    );
    bob.send_to(ok.as_bytes(), proxy).await.unwrap();
    let r180 = recv(&alice, true).await;
    assert_eq!(r180.status(), Some(180));
    assert_eq!(r180.values(HeaderName::Via).len(), 1);
    let r200 = recv(&alice, true).await;
    assert_eq!(r200.status(), Some(200));
    assert_eq!(r200.branch().as_deref(), Some("z9hG4bKe2e1"));
    // The ACK and bob's BYE follow the route set through the proxy.
    let ack = format!(
        "ACK sip:bob@{b} SIP/2.0\r\nVia: SIP/2.0/UDP {a};branch=z9hG4bKe2e2;rport\r\n\
         Max-Forwards: 70\r\nRoute: {rr}\r\nFrom: <sip:alice@{a}>;tag=a1\r\n\
         To: <sip:bob@{b}>;tag=b1\r\nCall-ID: e2e-1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
    );
    alice.send_to(ack.as_bytes(), proxy).await.unwrap();
    let got = recv(&bob, false).await;
    assert_eq!(got.method().as_deref(), Some("ACK"));
    assert!(got.header(HeaderName::Route).is_none());
    let bye = format!(
        "BYE sip:alice@{a} SIP/2.0\r\nVia: SIP/2.0/UDP {b};branch=z9hG4bKe2e3;rport\r\n\
         Max-Forwards: 70\r\nRoute: {rr}\r\nFrom: <sip:bob@{b}>;tag=b1\r\n\
         To: <sip:alice@{a}>;tag=a1\r\nCall-ID: e2e-1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
    );
    bob.send_to(bye.as_bytes(), proxy).await.unwrap();
    let got = recv(&alice, false).await;
    assert_eq!(got.method().as_deref(), Some("BYE"));
    alice
        .send_to(&build_response(&got, 200, "OK", None), proxy)
        .await
        .unwrap();
    let done = recv(&bob, false).await;
    assert_eq!(done.status(), Some(200));
    assert_eq!(done.cseq().map(|c| c.method).as_deref(), Some("BYE"));
}
