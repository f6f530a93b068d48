//! The agent's absorption and dialog logic, with a fake wire (no sockets, no clock).

use super::*;
use crate::engine::compose::{self, NewRequest};
use crate::net::core::SendError;
use crate::sip::parse::parse_message;
use crate::trace::Transport;
use std::sync::Mutex;

/// Records what the agent sends.
#[derive(Default)]
struct FakeWire {
    raw: Mutex<Vec<Vec<u8>>>,
    responses: Mutex<Vec<(TxId, Message)>>,
    next: Mutex<u64>,
}

impl Wire for FakeWire {
    fn local(&self) -> SocketAddr {
        "127.0.0.1:5070".parse().unwrap()
    }
    fn transport(&self) -> Transport {
        Transport::Udp
    }
    fn new_via(&self) -> String {
        format!(
            "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK{};rport",
            self.token()
        )
    }
    fn token(&self) -> String {
        let mut n = self.next.lock().unwrap();
        *n += 1;
        format!("t{n}")
    }
    fn send_request_to(&self, _: SocketAddr, _: Message) -> Result<TxId, SendError> {
        Ok(TxId(1))
    }
    fn send_response(&self, tx: TxId, msg: Message) -> Result<(), SendError> {
        self.responses.lock().unwrap().push((tx, msg));
        Ok(())
    }
    fn send_raw(&self, _: SocketAddr, bytes: Vec<u8>) {
        self.raw.lock().unwrap().push(bytes);
    }
}

fn agent(wire: Arc<FakeWire>) -> Agent {
    Agent::new(
        "alice",
        "alice",
        None,
        wire,
        "127.0.0.1:5060".parse().unwrap(),
        "c1@siptest",
        (Duration::from_millis(50), Duration::from_millis(400)),
        1,
    )
}

fn invite(tag: &str) -> Message {
    let d = compose::new_request(&NewRequest {
        method: "INVITE",
        request_uri: "sip:bob@127.0.0.1:5060",
        from: (None, "sip:alice@127.0.0.1:5070"),
        from_tag: tag,
        to: (None, "sip:bob@127.0.0.1:5060"),
        call_id: "c1@siptest",
        cseq: 1,
        via: "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKinv;rport",
        contact: Some("<sip:alice@127.0.0.1:5070>"),
    });
    parse_message(&d.to_bytes())
}

fn answer(req: &Message, status: u16, tag: &str) -> Message {
    let contact = "<sip:bob@127.0.0.1:5060>";
    let d = compose::response(req, status, "X", Some(tag), Some(contact));
    parse_message(&d.to_bytes())
}

/// An agent that sent an INVITE creating slot 0 (`ack` mode given).
fn calling(ack: AckMode) -> (Agent, Arc<FakeWire>, Message) {
    let wire = Arc::new(FakeWire::default());
    let mut a = agent(wire.clone());
    let inv = invite("lt");
    let slot = a.new_slot(Some("call".into()), "lt".into());
    a.record_sent(TxId(1), inv.clone(), Some(slot), ack);
    a.slots[slot].set = Some(DialogSet::new(&inv, false).unwrap());
    a.slots[slot].creating_tx = Some(TxId(1));
    (a, wire, inv)
}

fn response_event(msg: Message) -> EndpointEvent {
    EndpointEvent::Response { tx: TxId(1), msg }
}

#[test]
fn a_2xx_is_acked_once_and_its_retransmissions_are_reacked_and_absorbed() {
    let (mut a, wire, inv) = calling(AckMode::Auto);
    let ok = answer(&inv, 200, "rt");
    a.on_event(response_event(ok.clone()), 1, Duration::ZERO);
    assert_eq!(a.mailbox.len(), 1);
    assert!(a.slots[0].dialog.as_ref().is_some_and(|d| d.is_confirmed()));
    let acks = wire.raw.lock().unwrap().clone();
    assert_eq!(acks.len(), 1);
    let ack = parse_message(&acks[0]);
    assert_eq!(ack.method().as_deref(), Some("ACK"));
    assert_eq!(ack.cseq().map(|c| c.number), Some(1));
    assert_eq!(ack.to_tag().as_deref(), Some("rt"));
    // RFC 3261 §13.2.2.4: each retransmission gets the same ACK again; the steps never see it.
    a.on_event(response_event(ok.clone()), 2, Duration::ZERO);
    a.on_event(
        EndpointEvent::Stray {
            msg: ok,
            from: a.target,
        },
        3,
        Duration::ZERO,
    );
    assert_eq!(a.mailbox.len(), 1);
    let acks = wire.raw.lock().unwrap().clone();
    assert_eq!(acks.len(), 3);
    assert_eq!(acks[1], acks[0]);
}

#[test]
fn manual_ack_withholds_until_asked() {
    let (mut a, wire, inv) = calling(AckMode::Manual);
    let ok = answer(&inv, 200, "rt");
    a.on_event(response_event(ok.clone()), 1, Duration::ZERO);
    a.on_event(response_event(ok.clone()), 2, Duration::ZERO);
    assert!(wire.raw.lock().unwrap().is_empty());
    assert_eq!(a.mailbox.len(), 1);
    let held = a.slots[0].held_2xx.take().unwrap();
    a.send_ack(0, &held, &[("X-Test".into(), Some(vec!["1".into()]))])
        .unwrap();
    let ack = parse_message(&wire.raw.lock().unwrap()[0]);
    assert_eq!(ack.values(crate::sip::HeaderName::Other).len(), 1);
    a.on_event(response_event(ok), 3, Duration::ZERO);
    assert_eq!(
        wire.raw.lock().unwrap().len(),
        2,
        "re-ACKed after the manual ACK"
    );
}

#[test]
fn duplicate_provisionals_are_absorbed_and_make_an_early_dialog() {
    let (mut a, _, inv) = calling(AckMode::Auto);
    let ringing = answer(&inv, 180, "rt");
    a.on_event(response_event(ringing.clone()), 1, Duration::ZERO);
    a.on_event(response_event(ringing), 2, Duration::ZERO);
    assert_eq!(a.mailbox.len(), 1);
    assert!(a.slots[0].dialog.as_ref().is_some_and(|d| d.is_early()));
    let arrival = &a.mailbox[0].what;
    assert!(a.belongs("call", arrival));
    assert!(!a.belongs("other", arrival));
}

#[test]
fn received_invite_gets_a_slot_and_duplicate_acks_are_absorbed() {
    let wire = Arc::new(FakeWire::default());
    let mut a = agent(wire.clone());
    let inv = invite("remote");
    let from = a.target;
    a.on_event(
        EndpointEvent::Request {
            tx: TxId(7),
            msg: inv.clone(),
            from,
        },
        1,
        Duration::ZERO,
    );
    assert_eq!(a.slots.len(), 1);
    let local = a.received[0].local_tag.clone();
    assert!(
        a.belongs("call", &a.mailbox[0].what),
        "an INVITE creates a named dialog"
    );
    let ok = answer(&inv, 200, &local);
    let now = Instant::now();
    a.retransmit_2xx(TxId(7), &ok, &inv, now);
    // RFC 3261 §13.3.1.4: at T1, then 2*T1...
    assert_eq!(a.poll_timeout(), Some(now + Duration::from_millis(50)));
    a.handle_timeout(now + Duration::from_millis(50));
    assert_eq!(a.poll_timeout(), Some(now + Duration::from_millis(150)));
    assert_eq!(wire.responses.lock().unwrap().len(), 1);
    let ack_text = format!(
        "ACK sip:alice@127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKack\r\n\
         From: <sip:alice@127.0.0.1:5070>;tag=remote\r\nTo: <sip:bob@127.0.0.1:5060>;tag={local}\r\n\
         Call-ID: c1@siptest\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    let ack = parse_message(ack_text.as_bytes());
    a.on_event(
        EndpointEvent::Request {
            tx: TxId(7),
            msg: ack.clone(),
            from,
        },
        2,
        Duration::ZERO,
    );
    assert_eq!(a.poll_timeout(), None, "the ACK stops the retransmissions");
    a.on_event(EndpointEvent::Stray { msg: ack, from }, 3, Duration::ZERO);
    assert_eq!(a.mailbox.len(), 2, "the second ACK is absorbed");
}

#[test]
fn the_mailbox_is_bounded() {
    let wire = Arc::new(FakeWire::default());
    let mut a = agent(wire);
    for i in 0..(MAILBOX_LIMIT as u64 + 10) {
        let ev = EndpointEvent::Garbage {
            bytes: vec![b'x'],
            from: a.target,
            violation: crate::rule::Violation::new(
                &crate::sip::validate::MISSING_HEADER,
                crate::rule::Span::new(0, 0),
                "x",
            ),
        };
        a.on_event(ev, i, Duration::ZERO);
    }
    assert_eq!(a.mailbox.len(), MAILBOX_LIMIT);
    assert_eq!(a.overflow, 10);
}
