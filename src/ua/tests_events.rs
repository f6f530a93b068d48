//! Transfer (REFER, Replaces) and events (SUBSCRIBE/NOTIFY) of the reference UA, sans-IO:
//! messages in as text, what the UA sends checked in order.

use super::test_wire::{request, Sent, TestWire};
use super::{Action, Quirk, Quirks, UaConfig, UaCore};
use crate::engine::compose::{self, reason_phrase};
use crate::net::EndpointEvent;
use crate::sip::parse::parse_message;
use crate::sip::HeaderName;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const ALICE: &str = "127.0.0.1:5080";
const SDP: &str = "v=0\no=peer 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 30000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n";

fn ua(quirks: &[Quirk]) -> (UaCore, Arc<TestWire>) {
    let wire = TestWire::new();
    let cfg = UaConfig {
        quirks: Quirks::new(quirks.iter().copied()),
        ..UaConfig::default()
    };
    (UaCore::new(cfg, wire.clone()), wire)
}

/// Feeds a request and runs what is due now.
fn feed(ua: &mut UaCore, now: Instant, ev: EndpointEvent) {
    ua.on_event(now, ev);
    ua.handle_timeout(now);
}

/// The response of the peer `sent` went to: its To tag `tag`, a Contact, an SDP body.
fn reply(sent: &Sent, status: u16, tag: &str, sdp: bool) -> EndpointEvent {
    let to = match sent {
        Sent::Request { to, .. } => *to,
        _ => panic!("not a request: {}", sent.label()),
    };
    let contact = format!("<sip:peer@{to}>");
    let mut d = compose::response(
        sent.msg(),
        status,
        reason_phrase(status),
        Some(tag),
        Some(&contact),
    );
    if sdp {
        d.set_body("application/sdp", SDP.replace('\n', "\r\n").into_bytes());
    }
    EndpointEvent::Response {
        tx: sent.tx(),
        msg: parse_message(&d.to_bytes()),
    }
}

fn labels(sent: &[Sent]) -> Vec<String> {
    sent.iter().map(Sent::label).collect()
}

fn header(s: &Sent, name: HeaderName) -> String {
    s.header(name).unwrap_or_default()
}

/// An INVITE from `from_user` at `addr`, Call-ID `cid`, From tag `tag`, with extra headers.
fn invite(tx: u64, addr: &str, cid: &str, tag: &str, extra: &str) -> EndpointEvent {
    request(
        tx,
        addr,
        &format!(
            "INVITE sip:ua@127.0.0.1:5070 SIP/2.0\nVia: SIP/2.0/UDP {addr};branch=z9hG4bKi{tx}\nMax-Forwards: 70\nFrom: <sip:peer@{addr}>;tag={tag}\nTo: <sip:ua@127.0.0.1:5070>\nCall-ID: {cid}\nCSeq: 1 INVITE\nContact: <sip:peer@{addr}>\n{extra}Content-Type: application/sdp\n\n{SDP}"
        ),
    )
}

/// A request from `addr` inside the dialog `cid` (From tag `tag`, To tag `to_tag`).
#[allow(clippy::too_many_arguments)]
fn in_dialog(
    tx: u64,
    addr: &str,
    method: &str,
    cid: &str,
    tag: &str,
    to_tag: &str,
    cseq: u32,
    extra: &str,
    body: &str,
) -> EndpointEvent {
    request(
        tx,
        addr,
        &format!(
            "{method} sip:ua@127.0.0.1:5070 SIP/2.0\nVia: SIP/2.0/UDP {addr};branch=z9hG4bKd{tx}\nMax-Forwards: 70\nFrom: <sip:peer@{addr}>;tag={tag}\nTo: <sip:ua@127.0.0.1:5070>;tag={to_tag}\nCall-ID: {cid}\nCSeq: {cseq} {method}\nContact: <sip:peer@{addr}>\n{extra}\n{body}"
        ),
    )
}

/// A call from `addr` the UA answered and that was ACKed; returns the UA's To tag.
fn answered_call(ua: &mut UaCore, wire: &TestWire, now: Instant, addr: &str, cid: &str) -> String {
    feed(ua, now, invite(1, addr, cid, "pt", ""));
    let sent = wire.take();
    assert_eq!(labels(&sent), ["180 INVITE", "200 INVITE"]);
    let tag = sent[1].msg().to_tag().expect("To tag");
    feed(
        ua,
        now,
        in_dialog(2, addr, "ACK", cid, "pt", &tag, 1, "", ""),
    );
    assert!(wire.take().is_empty());
    tag
}

fn refer_from_alice(tx: u64, tag: &str, cseq: u32, extra: &str) -> EndpointEvent {
    let headers =
        format!("Refer-To: <sip:carol@127.0.0.1:5090>\nReferred-By: <sip:peer@{ALICE}>\n{extra}");
    in_dialog(tx, ALICE, "REFER", "c1", "pt", tag, cseq, &headers, "")
}

// --- transferee ---

#[test]
fn transferee_202_notify_100_invite_then_final_notify_200_and_no_bye() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    let tag = answered_call(&mut ua, &wire, now, ALICE, "c1");
    feed(&mut ua, now, refer_from_alice(3, &tag, 2, ""));
    let sent = wire.take();
    assert_eq!(labels(&sent), ["202 REFER", "NOTIFY", "INVITE"]);
    let notify = &sent[1];
    assert_eq!(header(notify, HeaderName::Event), "refer");
    assert_eq!(
        header(notify, HeaderName::SubscriptionState),
        "active;expires=60"
    );
    assert!(header(notify, HeaderName::ContentType).starts_with("message/sipfrag"));
    assert_eq!(notify.body().trim_end(), "SIP/2.0 100 Trying");
    assert_eq!(
        notify.msg().request_uri().as_deref(),
        Some("sip:peer@127.0.0.1:5080")
    );
    let inv = &sent[2];
    assert_eq!(
        inv.msg().request_uri().as_deref(),
        Some("sip:carol@127.0.0.1:5090")
    );
    assert_eq!(
        header(inv, HeaderName::ReferredBy),
        format!("<sip:peer@{ALICE}>")
    );
    assert!(inv.msg().sdp().is_some(), "the INVITE carries an offer");
    assert!(inv.msg().header(HeaderName::Replaces).is_none());
    feed(&mut ua, now, reply(notify, 200, "x", false));
    feed(&mut ua, now, reply(inv, 180, "carol1", false));
    assert!(wire.take().is_empty(), "no NOTIFY for a 180");
    feed(&mut ua, now, reply(inv, 200, "carol1", true));
    let sent = wire.take();
    assert_eq!(labels(&sent), ["raw ACK", "NOTIFY"]);
    assert_eq!(
        header(&sent[1], HeaderName::SubscriptionState),
        "terminated;reason=noresource"
    );
    assert_eq!(sent[1].body().trim_end(), "SIP/2.0 200 OK");
    // RFC 5589 §6.1: the transferor hangs up; the transferee does not.
    feed(&mut ua, now, reply(&sent[1], 200, "x", false));
    assert!(wire.take().is_empty());
    feed(
        &mut ua,
        now,
        in_dialog(9, ALICE, "BYE", "c1", "pt", &tag, 3, "", ""),
    );
    assert_eq!(wire.take_labels(), ["200 BYE"]);
}

#[test]
fn transferee_reports_a_failed_transfer_in_the_final_notify() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    let tag = answered_call(&mut ua, &wire, now, ALICE, "c1");
    feed(&mut ua, now, refer_from_alice(3, &tag, 2, ""));
    let sent = wire.take();
    feed(&mut ua, now, reply(&sent[2], 486, "carol1", false));
    let sent = wire.take();
    assert_eq!(labels(&sent), ["NOTIFY"]);
    assert_eq!(sent[0].body().trim_end(), "SIP/2.0 486 Busy Here");
    assert_eq!(
        header(&sent[0], HeaderName::SubscriptionState),
        "terminated;reason=noresource"
    );
}

#[test]
fn refer_without_exactly_one_refer_to_gets_400() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    let tag = answered_call(&mut ua, &wire, now, ALICE, "c1");
    feed(
        &mut ua,
        now,
        in_dialog(3, ALICE, "REFER", "c1", "pt", &tag, 2, "", ""),
    );
    assert_eq!(wire.take_labels(), ["400 REFER"]);
    let two = "Refer-To: <sip:a@127.0.0.1:1>\nRefer-To: <sip:b@127.0.0.1:2>\n";
    feed(
        &mut ua,
        now,
        in_dialog(4, ALICE, "REFER", "c1", "pt", &tag, 3, two, ""),
    );
    assert_eq!(wire.take_labels(), ["400 REFER"]);
}

#[test]
fn refer_sub_false_gets_202_with_refer_sub_false_and_no_notify() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    let tag = answered_call(&mut ua, &wire, now, ALICE, "c1");
    feed(
        &mut ua,
        now,
        refer_from_alice(3, &tag, 2, "Refer-Sub: false\n"),
    );
    let sent = wire.take();
    assert_eq!(labels(&sent), ["202 REFER", "INVITE"]);
    assert_eq!(header(&sent[0], HeaderName::ReferSub), "false");
    feed(&mut ua, now, reply(&sent[1], 200, "carol1", true));
    assert_eq!(wire.take_labels(), ["raw ACK"]);
}

#[test]
fn a_second_refer_in_the_dialog_notifies_with_its_cseq_as_id() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    let tag = answered_call(&mut ua, &wire, now, ALICE, "c1");
    feed(&mut ua, now, refer_from_alice(3, &tag, 2, ""));
    let first = wire.take();
    assert_eq!(header(&first[1], HeaderName::Event), "refer");
    feed(&mut ua, now, refer_from_alice(4, &tag, 7, ""));
    let second = wire.take();
    assert_eq!(labels(&second), ["202 REFER", "NOTIFY", "INVITE"]);
    assert_eq!(header(&second[1], HeaderName::Event), "refer;id=7");
    // NOTIFYs of the dialog count on from the same CSeq space.
    let n1 = first[1].msg().cseq().unwrap().number;
    let n2 = second[1].msg().cseq().unwrap().number;
    assert_eq!(n2, n1 + 1);
}

#[test]
fn refer_to_with_escaped_replaces_gives_the_invite_a_replaces_header() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    let tag = answered_call(&mut ua, &wire, now, ALICE, "c1");
    let refer_to =
        "Refer-To: <sip:carol@127.0.0.1:5090?Replaces=abc%40h%3Bto-tag%3D7%3Bfrom-tag%3D8>\n";
    feed(
        &mut ua,
        now,
        in_dialog(3, ALICE, "REFER", "c1", "pt", &tag, 2, refer_to, ""),
    );
    let sent = wire.take();
    assert_eq!(labels(&sent), ["202 REFER", "NOTIFY", "INVITE"]);
    assert_eq!(
        sent[2].msg().request_uri().as_deref(),
        Some("sip:carol@127.0.0.1:5090")
    );
    assert_eq!(
        header(&sent[2], HeaderName::Replaces),
        "abc@h;to-tag=7;from-tag=8"
    );
    assert!(sent[2].msg().header(HeaderName::ReferredBy).is_none());
}

#[test]
fn an_out_of_dialog_refer_is_accepted_in_a_dialog_of_its_own() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    let text = format!("REFER sip:ua@127.0.0.1:5070 SIP/2.0\nVia: SIP/2.0/UDP {ALICE};branch=z9hG4bKo1\nMax-Forwards: 70\nFrom: <sip:peer@{ALICE}>;tag=o1\nTo: <sip:ua@127.0.0.1:5070>\nCall-ID: ood1\nCSeq: 1 REFER\nContact: <sip:peer@{ALICE}>\nRefer-To: <sip:carol@127.0.0.1:5090>\n");
    feed(&mut ua, now, request(3, ALICE, &text));
    let sent = wire.take();
    assert_eq!(labels(&sent), ["202 REFER", "NOTIFY", "INVITE"]);
    let tag = sent[0].msg().to_tag().expect("the 202 has a To tag");
    assert!(sent[0].msg().header(HeaderName::Contact).is_some());
    assert_eq!(sent[1].msg().call_id().as_deref(), Some("ood1"));
    assert_eq!(sent[1].msg().from_tag(), Some(tag));
    feed(&mut ua, now, reply(&sent[2], 200, "carol1", true));
    let fin = wire.take();
    assert_eq!(labels(&fin), ["raw ACK", "NOTIFY"]);
    assert_eq!(fin[1].msg().call_id().as_deref(), Some("ood1"));
}

#[test]
fn quirk_refer_without_notify_accepts_and_never_notifies() {
    let (mut ua, wire) = ua(&[Quirk::ReferWithoutNotify]);
    let now = Instant::now();
    let tag = answered_call(&mut ua, &wire, now, ALICE, "c1");
    feed(&mut ua, now, refer_from_alice(3, &tag, 2, ""));
    let sent = wire.take();
    assert_eq!(labels(&sent), ["202 REFER", "INVITE"]);
    feed(&mut ua, now, reply(&sent[1], 200, "carol1", true));
    assert_eq!(wire.take_labels(), ["raw ACK"]);
}

#[test]
fn quirk_notify_before_202_sends_the_notify_first() {
    let (mut ua, wire) = ua(&[Quirk::NotifyBefore202]);
    let now = Instant::now();
    let tag = answered_call(&mut ua, &wire, now, ALICE, "c1");
    feed(&mut ua, now, refer_from_alice(3, &tag, 2, ""));
    assert_eq!(wire.take_labels(), ["NOTIFY", "202 REFER", "INVITE"]);
}

#[test]
fn quirk_bye_before_transfer_notify_hangs_up_the_transferor_first() {
    let (mut ua, wire) = ua(&[Quirk::ByeBeforeTransferNotify]);
    let now = Instant::now();
    let tag = answered_call(&mut ua, &wire, now, ALICE, "c1");
    feed(&mut ua, now, refer_from_alice(3, &tag, 2, ""));
    let sent = wire.take();
    feed(&mut ua, now, reply(&sent[2], 200, "carol1", true));
    let fin = wire.take();
    assert_eq!(labels(&fin), ["raw ACK", "BYE", "NOTIFY"]);
    assert_eq!(fin[1].msg().call_id().as_deref(), Some("c1"));
    // The NOTIFY still goes out in the dialog the BYE ended, with the next CSeq.
    assert_eq!(fin[2].msg().call_id().as_deref(), Some("c1"));
    let bye = fin[1].msg().cseq().unwrap().number;
    assert_eq!(fin[2].msg().cseq().unwrap().number, bye + 1);
    assert_eq!(fin[2].body().trim_end(), "SIP/2.0 200 OK");
}

#[test]
fn quirk_refer_in_allow_501_refuses_refer() {
    let (mut ua, wire) = ua(&[Quirk::Refer501]);
    let now = Instant::now();
    let tag = answered_call(&mut ua, &wire, now, ALICE, "c1");
    feed(&mut ua, now, refer_from_alice(3, &tag, 2, ""));
    let sent = wire.take();
    assert_eq!(labels(&sent), ["501 REFER"]);
    assert!(header(&sent[0], HeaderName::Allow).contains("REFER"));
}

/// A NOTIFY of the refer package from ALICE in call `c1`, with a sipfrag `SIP/2.0 {frag}`.
fn notify_from_alice(tx: u64, tag: &str, cseq: u32, state: &str, frag: &str) -> EndpointEvent {
    let extra =
        format!("Event: refer\nSubscription-State: {state}\nContent-Type: message/sipfrag\n");
    let body = format!("SIP/2.0 {frag}\n");
    in_dialog(tx, ALICE, "NOTIFY", "c1", "pt", tag, cseq, &extra, &body)
}

// --- transferor ---

#[test]
fn transferor_refers_answers_notifies_and_hangs_up_on_a_2xx_sipfrag() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    let tag = answered_call(&mut ua, &wire, now, ALICE, "c1");
    let action = Action::Transfer {
        peer: format!("sip:peer@{ALICE}"),
        to: "sip:carol@127.0.0.1:5090".into(),
    };
    ua.act(now, action).unwrap();
    let sent = wire.take();
    assert_eq!(labels(&sent), ["REFER"]);
    let refer = &sent[0];
    assert_eq!(
        header(refer, HeaderName::ReferTo),
        "<sip:carol@127.0.0.1:5090>"
    );
    assert_eq!(
        header(refer, HeaderName::ReferredBy),
        "<sip:ua@127.0.0.1:5070>"
    );
    let cseq = refer.msg().cseq().unwrap().number;
    feed(&mut ua, now, reply(refer, 202, "pt", false));
    feed(
        &mut ua,
        now,
        notify_from_alice(5, &tag, 2, "active;expires=60", "100 Trying"),
    );
    assert_eq!(wire.take_labels(), ["200 NOTIFY"]);
    let done = notify_from_alice(6, &tag, 3, "terminated;reason=noresource", "200 OK");
    feed(&mut ua, now, done);
    let sent = wire.take();
    assert_eq!(labels(&sent), ["200 NOTIFY", "BYE"]);
    assert_eq!(sent[1].msg().cseq().unwrap().number, cseq + 1);
    // The subscription is over: another NOTIFY gets 481.
    feed(
        &mut ua,
        now,
        notify_from_alice(7, &tag, 4, "terminated", "200 OK"),
    );
    assert_eq!(wire.take_labels(), ["481 NOTIFY"]);
}

#[test]
fn transferor_takes_the_final_notify_after_the_transferee_hung_up() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    let tag = answered_call(&mut ua, &wire, now, ALICE, "c1");
    let action = Action::Transfer {
        peer: format!("sip:peer@{ALICE}"),
        to: "sip:carol@127.0.0.1:5090".into(),
    };
    ua.act(now, action).unwrap();
    wire.take();
    feed(
        &mut ua,
        now,
        in_dialog(5, ALICE, "BYE", "c1", "pt", &tag, 2, "", ""),
    );
    assert_eq!(wire.take_labels(), ["200 BYE"]);
    let done = notify_from_alice(6, &tag, 3, "terminated;reason=noresource", "200 OK");
    feed(&mut ua, now, done);
    assert_eq!(
        wire.take_labels(),
        ["200 NOTIFY"],
        "RFC 5057: the subscription outlives the BYE"
    );
}

#[test]
fn a_notify_without_a_subscription_gets_481() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    let tag = answered_call(&mut ua, &wire, now, ALICE, "c1");
    feed(
        &mut ua,
        now,
        notify_from_alice(5, &tag, 2, "active", "100 Trying"),
    );
    assert_eq!(wire.take_labels(), ["481 NOTIFY"]);
}

// --- Replaces ---

#[test]
fn invite_with_replaces_is_answered_and_the_replaced_call_gets_bye() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    let tag = answered_call(&mut ua, &wire, now, ALICE, "c1");
    let replaces = format!("Replaces: c1;to-tag={tag};from-tag=pt\n");
    feed(
        &mut ua,
        now,
        invite(10, "127.0.0.1:5090", "c2", "ct", &replaces),
    );
    let sent = wire.take();
    assert_eq!(labels(&sent), ["180 INVITE", "200 INVITE", "BYE"]);
    assert!(sent[1].msg().sdp().is_some());
    assert_eq!(sent[2].msg().call_id().as_deref(), Some("c1"));
}

#[test]
fn invite_with_replaces_of_no_dialog_gets_481_and_of_an_ended_one_603() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    let tag = answered_call(&mut ua, &wire, now, ALICE, "c1");
    let wrong = format!("Replaces: c1;to-tag={tag};from-tag=other\n");
    feed(
        &mut ua,
        now,
        invite(10, "127.0.0.1:5090", "c2", "ct", &wrong),
    );
    assert_eq!(wire.take_labels(), ["481 INVITE"]);
    // Ended but still known (its 2xx retransmission timer keeps it): RFC 3891 §3 says 603.
    let (mut ua2, wire2) = self::ua(&[]);
    feed(&mut ua2, now, invite(1, ALICE, "c1", "pt", ""));
    let tag2 = wire2.take()[1].msg().to_tag().unwrap();
    feed(
        &mut ua2,
        now,
        in_dialog(2, ALICE, "BYE", "c1", "pt", &tag2, 2, "", ""),
    );
    assert_eq!(wire2.take_labels(), ["200 BYE"]);
    let r = format!("Replaces: c1;to-tag={tag2};from-tag=pt\n");
    feed(&mut ua2, now, invite(10, "127.0.0.1:5090", "c2", "ct", &r));
    assert_eq!(wire2.take_labels(), ["603 INVITE"]);
}

#[test]
fn invite_replacing_an_early_dialog_we_did_not_originate_gets_481() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    ua.act(
        now,
        Action::Answer {
            peers: vec![format!("sip:peer@{ALICE}")],
            plan: super::AnswerPlan {
                status: None,
                ..super::AnswerPlan::default()
            },
        },
    )
    .unwrap();
    feed(&mut ua, now, invite(1, ALICE, "c1", "pt", ""));
    let sent = wire.take();
    assert_eq!(labels(&sent), ["180 INVITE"]);
    let tag = sent[0].msg().to_tag().unwrap();
    let r = format!("Replaces: c1;to-tag={tag};from-tag=pt\n");
    feed(&mut ua, now, invite(10, "127.0.0.1:5090", "c2", "ct", &r));
    assert_eq!(wire.take_labels(), ["481 INVITE"]);
}

#[test]
fn invite_replacing_our_own_early_call_is_answered_and_the_call_cancelled() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    let call = Action::Call {
        peer: "sip:carol@127.0.0.1:5090".into(),
        late_offer: false,
        require_100rel: false,
        session_expires: None,
    };
    ua.act(now, call).unwrap();
    let sent = wire.take();
    assert_eq!(labels(&sent), ["INVITE"]);
    feed(&mut ua, now, reply(&sent[0], 180, "carol1", false));
    let cid = sent[0].msg().call_id().unwrap();
    let ours = sent[0].msg().from_tag().unwrap();
    let r = format!("Replaces: {cid};to-tag={ours};from-tag=carol1\n");
    feed(&mut ua, now, invite(10, ALICE, "c2", "pt", &r));
    let out = wire.take();
    assert_eq!(labels(&out), ["180 INVITE", "200 INVITE", "CANCEL"]);
    assert_eq!(out[2].msg().call_id(), Some(cid));
}

// --- SUBSCRIBE ---

fn subscribe(tx: u64, event: &str, expires: u32) -> EndpointEvent {
    request(
        tx,
        "127.0.0.1:5095",
        &format!("SUBSCRIBE sip:ua@127.0.0.1:5070 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5095;branch=z9hG4bKs{tx}\nMax-Forwards: 70\nFrom: <sip:watcher@127.0.0.1:5095>;tag=w1\nTo: <sip:ua@127.0.0.1:5070>\nCall-ID: sub1\nCSeq: 1 SUBSCRIBE\nContact: <sip:watcher@127.0.0.1:5095>\nEvent: {event}\nExpires: {expires}\n"),
    )
}

fn resubscribe(tx: u64, to_tag: &str, cseq: u32, expires: u32) -> EndpointEvent {
    let extra = format!("Event: dialog\nExpires: {expires}\n");
    in_dialog(
        tx,
        "127.0.0.1:5095",
        "SUBSCRIBE",
        "sub1",
        "w1",
        to_tag,
        cseq,
        &extra,
        "",
    )
}

#[test]
fn dialog_subscription_notifies_at_once_then_on_answer_and_end() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    feed(&mut ua, now, subscribe(1, "dialog", 600));
    let sent = wire.take();
    assert_eq!(labels(&sent), ["200 SUBSCRIBE", "NOTIFY"]);
    assert_eq!(header(&sent[0], HeaderName::Expires), "600");
    let sub_tag = sent[0].msg().to_tag().unwrap();
    let n = &sent[1];
    // RFC 6665 §4.2.1: the NOTIFY goes in the subscription's dialog, from our tag in the 200.
    assert_eq!(n.msg().from_tag().as_deref(), Some(sub_tag.as_str()));
    assert_eq!(header(n, HeaderName::Event), "dialog");
    assert_eq!(
        header(n, HeaderName::SubscriptionState),
        "active;expires=600"
    );
    assert_eq!(
        header(n, HeaderName::ContentType),
        "application/dialog-info+xml"
    );
    assert!(
        n.body().contains("version=\"0\" state=\"full\""),
        "{}",
        n.body()
    );
    assert!(!n.body().contains("<dialog "), "no calls yet");
    feed(&mut ua, now, reply(n, 200, "w1", false));
    // A call comes in and is answered: a NOTIFY with the confirmed dialog, version 1.
    feed(&mut ua, now, invite(1, ALICE, "c1", "pt", ""));
    let sent = wire.take();
    assert_eq!(labels(&sent), ["180 INVITE", "200 INVITE", "NOTIFY"]);
    let tag = sent[1].msg().to_tag().unwrap();
    let body = sent[2].body();
    assert!(body.contains("version=\"1\""), "{body}");
    assert!(body.contains("call-id=\"c1\""), "{body}");
    assert!(
        body.contains(&format!("local-tag=\"{tag}\" remote-tag=\"pt\"")),
        "{body}"
    );
    assert!(body.contains("direction=\"recipient\""), "{body}");
    assert!(body.contains("<state>confirmed</state>"), "{body}");
    assert_eq!(sent[2].msg().call_id().as_deref(), Some("sub1"));
    // The call ends: terminated, version 2.
    feed(
        &mut ua,
        now,
        in_dialog(3, ALICE, "BYE", "c1", "pt", &tag, 2, "", ""),
    );
    let sent = wire.take();
    assert_eq!(labels(&sent), ["200 BYE", "NOTIFY"]);
    assert!(sent[1].body().contains("version=\"2\""));
    assert!(sent[1].body().contains("<state>terminated</state>"));
}

#[test]
fn dialog_subscription_refresh_notifies_and_expires_0_terminates_it() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    feed(&mut ua, now, subscribe(1, "dialog", 600));
    let sub_tag = wire.take()[0].msg().to_tag().unwrap();
    // A refresh: 200 and a NOTIFY; Expires 0 ends it with a terminated NOTIFY.
    feed(&mut ua, now, resubscribe(4, &sub_tag, 2, 300));
    let sent = wire.take();
    assert_eq!(labels(&sent), ["200 SUBSCRIBE", "NOTIFY"]);
    assert_eq!(
        header(&sent[1], HeaderName::SubscriptionState),
        "active;expires=300"
    );
    feed(&mut ua, now, resubscribe(5, &sub_tag, 3, 0));
    let sent = wire.take();
    assert_eq!(labels(&sent), ["200 SUBSCRIBE", "NOTIFY"]);
    assert_eq!(header(&sent[0], HeaderName::Expires), "0");
    assert_eq!(
        header(&sent[1], HeaderName::SubscriptionState),
        "terminated;reason=timeout"
    );
    // Gone: a later SUBSCRIBE in that dialog matches nothing.
    feed(&mut ua, now, resubscribe(6, &sub_tag, 4, 300));
    assert_eq!(wire.take_labels(), ["481 SUBSCRIBE"]);
}

#[test]
fn a_dialog_subscription_that_is_not_refreshed_ends_with_reason_timeout() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    feed(&mut ua, now, subscribe(1, "dialog", 30));
    assert_eq!(wire.take_labels(), ["200 SUBSCRIBE", "NOTIFY"]);
    assert!(ua
        .poll_timeout()
        .is_some_and(|t| t <= now + Duration::from_secs(30)));
    ua.handle_timeout(now + Duration::from_secs(29));
    assert!(wire.take().is_empty());
    ua.handle_timeout(now + Duration::from_secs(30));
    let sent = wire.take();
    assert_eq!(labels(&sent), ["NOTIFY"]);
    assert_eq!(
        header(&sent[0], HeaderName::SubscriptionState),
        "terminated;reason=timeout"
    );
}

#[test]
fn unknown_events_get_489_with_allow_events_and_refer_outside_a_refer_403() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    feed(&mut ua, now, subscribe(1, "presence", 600));
    let sent = wire.take();
    assert_eq!(labels(&sent), ["489 SUBSCRIBE"]);
    assert_eq!(
        header(&sent[0], HeaderName::AllowEvents),
        super::ALLOW_EVENTS
    );
    feed(&mut ua, now, subscribe(2, "refer", 600));
    assert_eq!(wire.take_labels(), ["403 SUBSCRIBE"]);
}

#[test]
fn quirk_dialog_event_489_refuses_the_dialog_package() {
    let (mut ua, wire) = ua(&[Quirk::DialogEvent489]);
    let now = Instant::now();
    feed(&mut ua, now, subscribe(1, "dialog", 600));
    let sent = wire.take();
    assert_eq!(labels(&sent), ["489 SUBSCRIBE"]);
    assert!(header(&sent[0], HeaderName::AllowEvents).contains("dialog"));
}

#[test]
fn subscriber_sends_subscribe_and_answers_its_notifies() {
    let (mut ua, wire) = ua(&[]);
    let now = Instant::now();
    let action = Action::Subscribe {
        peer: "sip:bob@127.0.0.1:5099".into(),
        event: "dialog".into(),
    };
    ua.act(now, action).unwrap();
    let sent = wire.take();
    assert_eq!(labels(&sent), ["SUBSCRIBE"]);
    let sub = &sent[0];
    assert_eq!(header(sub, HeaderName::Event), "dialog");
    assert_eq!(
        header(sub, HeaderName::Accept),
        "application/dialog-info+xml"
    );
    assert!(sub.msg().header(HeaderName::Contact).is_some());
    let cid = sub.msg().call_id().unwrap();
    let our_tag = sub.msg().from_tag().unwrap();
    let notify = |tx: u64, cseq: u32, state: &str| {
        let extra = format!(
            "Event: dialog
Subscription-State: {state}
Content-Type: application/dialog-info+xml
"
        );
        in_dialog(
            tx,
            "127.0.0.1:5099",
            "NOTIFY",
            &cid,
            "b1",
            &our_tag,
            cseq,
            &extra,
            "<dialog-info/>\n",
        )
    };
    // RFC 6665 §4.1.2.4: the first NOTIFY may overtake the 200.
    feed(&mut ua, now, notify(1, 1, "active;expires=3600"));
    assert_eq!(wire.take_labels(), ["200 NOTIFY"]);
    feed(&mut ua, now, reply(sub, 200, "b1", false));
    assert!(wire.take().is_empty());
    feed(&mut ua, now, notify(2, 2, "terminated;reason=timeout"));
    assert_eq!(wire.take_labels(), ["200 NOTIFY"]);
    feed(&mut ua, now, notify(3, 3, "active"));
    assert_eq!(wire.take_labels(), ["481 NOTIFY"]);
}
