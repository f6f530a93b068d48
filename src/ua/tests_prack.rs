//! Reliable provisionals (RFC 3262) on both sides and re-INVITE glare (RFC 3261 §14.1),
//! sans-IO with the test wire and a simulated clock.

use super::glare::glare_delay;
use super::test_wire::{request, response, Sent, TestWire};
use super::{Action, AnswerPlan, HoldHow, UaConfig, UaCore};
use crate::net::Pcg32;
use crate::sip::headers::parse_rseq;
use crate::sip::message::Message;
use crate::sip::HeaderName;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const ALICE: &str = "127.0.0.1:6000";
const SDP: &str = "v=0\no=alice 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 49170 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n";

fn ua(plan: AnswerPlan) -> (UaCore, Arc<TestWire>) {
    let wire = TestWire::new();
    let cfg = UaConfig {
        answer: plan,
        t1: Duration::from_millis(500),
        ..UaConfig::default()
    };
    (UaCore::new(cfg, wire.clone()), wire)
}

fn reliable(provisional: Vec<u16>, early_media: bool) -> AnswerPlan {
    AnswerPlan {
        provisional,
        reliable: true,
        early_media,
        ..AnswerPlan::default()
    }
}

/// An INVITE from alice with Supported: 100rel, with or without an offer.
fn invite(with_sdp: bool) -> String {
    let mut s = format!(
        "INVITE sip:ua@127.0.0.1:5070 SIP/2.0\n\
         Via: SIP/2.0/UDP {ALICE};branch=z9hG4bKinv1\n\
         Max-Forwards: 70\n\
         From: <sip:alice@{ALICE}>;tag=a1\n\
         To: <sip:ua@127.0.0.1:5070>\n\
         Call-ID: call1\n\
         CSeq: 10 INVITE\n\
         Contact: <sip:alice@{ALICE}>\n\
         Supported: 100rel\n"
    );
    if with_sdp {
        s.push_str(&format!("Content-Type: application/sdp\n\n{SDP}"));
    }
    s
}

/// A request from alice in the dialog whose To tag is `tag`.
fn in_dialog(method: &str, cseq: u32, tag: &str, extra: &str, body: Option<&str>) -> String {
    let mut s = format!(
        "{method} sip:ua@127.0.0.1:5070 SIP/2.0\n\
         Via: SIP/2.0/UDP {ALICE};branch=z9hG4bK{method}{cseq}\n\
         Max-Forwards: 70\n\
         From: <sip:alice@{ALICE}>;tag=a1\n\
         To: <sip:ua@127.0.0.1:5070>;tag={tag}\n\
         Call-ID: call1\n\
         CSeq: {cseq} {method}\n"
    );
    for l in extra.lines().filter(|l| !l.is_empty()) {
        s.push_str(l);
        s.push('\n');
    }
    if let Some(b) = body {
        s.push_str(&format!("Content-Type: application/sdp\n\n{b}"));
    }
    s
}

fn rseq(m: &Message) -> u32 {
    parse_rseq(&m.first_value(HeaderName::RSeq).expect("RSeq")).unwrap()
}

fn labels(sent: &[Sent]) -> Vec<String> {
    sent.iter().map(Sent::label).collect()
}

#[test]
fn a_reliable_180_is_retransmitted_until_its_prack_then_the_call_is_answered() {
    let (mut ua, wire) = ua(reliable(vec![180], false));
    let now = Instant::now();
    ua.on_event(now, request(1, ALICE, &invite(true)));
    let sent = wire.take();
    assert_eq!(labels(&sent), ["180 INVITE"]);
    let r180 = sent[0].msg().clone();
    assert_eq!(
        r180.first_value(HeaderName::Require).as_deref(),
        Some("100rel")
    );
    let n = rseq(&r180);
    assert!((1..(1u32 << 31)).contains(&n));
    assert!(
        r180.body().is_empty(),
        "the answer waits for the 2xx without early media"
    );
    // RFC 3262 §3: T1, then 2*T1 later...
    assert_eq!(ua.poll_timeout(), Some(now + Duration::from_millis(500)));
    ua.handle_timeout(now + Duration::from_millis(500));
    assert_eq!(labels(&wire.take()), ["180 INVITE"]);
    assert_eq!(ua.poll_timeout(), Some(now + Duration::from_millis(1500)));
    // A PRACK for another RSeq: 481, still waiting.
    let tag = r180.to_tag().unwrap();
    let t = now + Duration::from_millis(600);
    ua.on_event(
        t,
        request(
            2,
            ALICE,
            &in_dialog(
                "PRACK",
                11,
                &tag,
                &format!("RAck: {} 10 INVITE", n + 1),
                None,
            ),
        ),
    );
    assert_eq!(labels(&wire.take()), ["481 PRACK"]);
    ua.on_event(
        t,
        request(
            3,
            ALICE,
            &in_dialog("PRACK", 12, &tag, &format!("RAck: {n} 9 INVITE"), None),
        ),
    );
    assert_eq!(labels(&wire.take()), ["481 PRACK"]);
    ua.on_event(
        t,
        request(
            4,
            ALICE,
            &in_dialog("PRACK", 13, &tag, &format!("RAck: {n} 10 INVITE"), None),
        ),
    );
    assert_eq!(labels(&wire.take()), ["200 PRACK"]);
    ua.handle_timeout(t);
    let sent = wire.take();
    assert_eq!(labels(&sent), ["200 INVITE"]);
    assert!(!sent[0].body().is_empty(), "the 2xx carries the answer");
    // No more 180s: only the 2xx is retransmitted now.
    ua.handle_timeout(t + Duration::from_millis(500));
    assert_eq!(labels(&wire.take()), ["200 INVITE"]);
    // A second PRACK for the same RSeq matches nothing any more.
    ua.on_event(
        t,
        request(
            5,
            ALICE,
            &in_dialog("PRACK", 14, &tag, &format!("RAck: {n} 10 INVITE"), None),
        ),
    );
    assert_eq!(labels(&wire.take()), ["481 PRACK"]);
}

#[test]
fn rseq_grows_by_one_and_early_media_183_makes_the_2xx_sdp_free() {
    let (mut ua, wire) = ua(reliable(vec![180, 183], true));
    let now = Instant::now();
    ua.on_event(now, request(1, ALICE, &invite(true)));
    let r180 = wire.take()[0].msg().clone();
    let (n, tag) = (rseq(&r180), r180.to_tag().unwrap());
    ua.on_event(
        now,
        request(
            2,
            ALICE,
            &in_dialog("PRACK", 11, &tag, &format!("RAck: {n} 10 INVITE"), None),
        ),
    );
    ua.handle_timeout(now);
    let sent = wire.take();
    assert_eq!(labels(&sent), ["200 PRACK", "183 INVITE"]);
    assert_eq!(rseq(sent[1].msg()), n + 1);
    assert!(
        sent[1].body().contains("m=audio"),
        "the 183 carries the answer"
    );
    ua.on_event(
        now,
        request(
            3,
            ALICE,
            &in_dialog(
                "PRACK",
                12,
                &tag,
                &format!("RAck: {} 10 INVITE", n + 1),
                None,
            ),
        ),
    );
    ua.handle_timeout(now);
    let sent = wire.take();
    assert_eq!(labels(&sent), ["200 PRACK", "200 INVITE"]);
    assert!(
        sent[1].body().is_empty(),
        "RFC 3262 §5: the answer went in the 183"
    );
}

#[test]
fn an_offerless_invite_gets_the_offer_in_the_reliable_180_and_the_answer_in_the_prack() {
    let (mut ua, wire) = ua(reliable(vec![180], false));
    let now = Instant::now();
    ua.on_event(now, request(1, ALICE, &invite(false)));
    let r180 = wire.take()[0].msg().clone();
    assert!(
        r180.sdp().is_some(),
        "RFC 3262 §5: the offer is in the first reliable provisional"
    );
    let (n, tag) = (rseq(&r180), r180.to_tag().unwrap());
    let prack = in_dialog(
        "PRACK",
        11,
        &tag,
        &format!("RAck: {n} 10 INVITE"),
        Some(SDP),
    );
    ua.on_event(now, request(2, ALICE, &prack));
    ua.handle_timeout(now);
    let sent = wire.take();
    assert_eq!(labels(&sent), ["200 PRACK", "200 INVITE"]);
    assert!(sent[0].body().is_empty() && sent[1].body().is_empty());
    assert!(ua.notes.is_empty(), "{:?}", ua.notes);
}

#[test]
fn without_prack_the_invite_is_rejected_with_5xx_after_64_t1() {
    let (mut ua, wire) = ua(reliable(vec![180], false));
    let now = Instant::now();
    ua.on_event(now, request(1, ALICE, &invite(true)));
    let mut retransmissions = 0;
    while let Some(at) = ua.poll_timeout() {
        if at > now + Duration::from_secs(40) {
            break;
        }
        ua.handle_timeout(at);
        for s in wire.take() {
            match s.label().as_str() {
                "180 INVITE" => retransmissions += 1,
                "504 INVITE" => {
                    assert_eq!(at, now + Duration::from_secs(32), "64*T1");
                    assert!(retransmissions >= 9, "{retransmissions}");
                    return;
                }
                other => panic!("{other}"),
            }
        }
    }
    panic!("no 5xx after {retransmissions} retransmissions");
}

/// The UA calls alice; returns the INVITE it sent.
fn call(ua: &mut UaCore, wire: &TestWire, now: Instant, late_offer: bool) -> Sent {
    let action = Action::Call {
        peer: format!("sip:alice@{ALICE}"),
        late_offer,
        require_100rel: false,
        session_expires: None,
    };
    ua.act(now, action).unwrap();
    let mut sent = wire.take();
    assert_eq!(labels(&sent), ["INVITE"]);
    sent.remove(0)
}

/// A response from alice to the UA's request `req`.
fn answer(req: &Sent, status: &str, extra: &str, body: Option<&str>) -> crate::net::EndpointEvent {
    let m = req.msg();
    let mut s = format!(
        "SIP/2.0 {status}\nVia: {}\nFrom: {}\nTo: {};tag=b1\nCall-ID: {}\nCSeq: {}\nContact: <sip:alice@{ALICE}>\n",
        m.first_value(HeaderName::Via).unwrap(),
        m.first_value(HeaderName::From).unwrap(),
        m.first_value(HeaderName::To).unwrap(),
        m.call_id().unwrap(),
        m.first_value(HeaderName::CSeq).unwrap(),
    );
    for l in extra.lines().filter(|l| !l.is_empty()) {
        s.push_str(l);
        s.push('\n');
    }
    if let Some(b) = body {
        s.push_str(&format!("Content-Type: application/sdp\n\n{b}"));
    }
    response(req.tx(), &s)
}

#[test]
fn the_uac_pracks_each_reliable_provisional_once_and_in_order() {
    let (mut ua, wire) = ua(AnswerPlan::default());
    let now = Instant::now();
    let inv = call(&mut ua, &wire, now, false);
    ua.on_event(
        now,
        answer(&inv, "180 Ringing", "Require: 100rel\nRSeq: 5", None),
    );
    let sent = wire.take();
    assert_eq!(labels(&sent), ["PRACK"]);
    let p = sent[0].msg();
    assert_eq!(
        p.first_value(HeaderName::RAck).as_deref(),
        Some("5 1 INVITE")
    );
    assert_eq!(p.cseq().unwrap().number, 2);
    assert_eq!(p.to_tag().as_deref(), Some("b1"));
    assert!(p.body().is_empty());
    // The retransmission is absorbed; an unreliable 180 too.
    ua.on_event(
        now,
        answer(&inv, "180 Ringing", "Require: 100rel\nRSeq: 5", None),
    );
    ua.on_event(now, answer(&inv, "180 Ringing", "", None));
    assert!(wire.take().is_empty());
    // Out of order (7 before 6): not PRACKed.
    ua.on_event(
        now,
        answer(
            &inv,
            "183 Session Progress",
            "Require: 100rel\nRSeq: 7",
            None,
        ),
    );
    assert!(wire.take().is_empty());
    ua.on_event(
        now,
        answer(
            &inv,
            "183 Session Progress",
            "Require: 100rel\nRSeq: 6",
            Some(SDP),
        ),
    );
    let sent = wire.take();
    assert_eq!(
        sent[0].header(HeaderName::RAck).as_deref(),
        Some("6 1 INVITE")
    );
    assert_eq!(sent[0].msg().cseq().unwrap().number, 3);
    assert!(
        sent[0].body().is_empty(),
        "our INVITE had the offer: the 183 has the answer"
    );
    // 200, ACK, then the BYE comes after the PRACKs' CSeqs.
    ua.on_event(now, answer(&inv, "200 OK", "", Some(SDP)));
    let sent = wire.take();
    assert_eq!(labels(&sent), ["raw ACK"]);
    assert_eq!(sent[0].msg().cseq().unwrap().number, 1);
    ua.act(
        now,
        Action::Hangup {
            peer: format!("sip:alice@{ALICE}"),
        },
    )
    .unwrap();
    let sent = wire.take();
    assert_eq!(labels(&sent), ["BYE"]);
    assert_eq!(sent[0].msg().cseq().unwrap().number, 4);
}

#[test]
fn the_uac_answers_an_offer_in_a_reliable_provisional_in_the_prack() {
    let (mut ua, wire) = ua(AnswerPlan::default());
    let now = Instant::now();
    let inv = call(&mut ua, &wire, now, true);
    assert!(inv.body().is_empty());
    ua.on_event(
        now,
        answer(&inv, "180 Ringing", "Require: 100rel\nRSeq: 1", Some(SDP)),
    );
    let sent = wire.take();
    assert_eq!(labels(&sent), ["PRACK"]);
    assert!(
        sent[0].msg().sdp().is_some(),
        "RFC 3262 §5: the answer is in the PRACK"
    );
    // The 2xx repeats the offer: the exchange is over, the ACK has no body.
    ua.on_event(now, answer(&inv, "200 OK", "", Some(SDP)));
    let sent = wire.take();
    assert_eq!(labels(&sent), ["raw ACK"]);
    assert!(sent[0].body().is_empty());
}

#[test]
fn glare_delays_follow_rfc3261_14_1_and_scale_with_t1() {
    let mut rng = Pcg32::new(7);
    let t1 = Duration::from_millis(500);
    for _ in 0..2000 {
        let owner = glare_delay(&mut rng, true, t1);
        assert!(
            owner >= Duration::from_millis(2100) && owner <= Duration::from_secs(4),
            "{owner:?}"
        );
        assert_eq!(owner.as_millis() % 10, 0);
        let other = glare_delay(&mut rng, false, t1);
        assert!(other <= Duration::from_secs(2), "{other:?}");
        assert_eq!(other.as_millis() % 10, 0);
        let fast = glare_delay(&mut rng, true, Duration::from_millis(50));
        assert!(
            fast >= Duration::from_millis(210) && fast <= Duration::from_millis(400),
            "{fast:?}"
        );
        let slow = glare_delay(&mut rng, false, Duration::from_secs(2));
        assert!(slow <= Duration::from_secs(2), "{slow:?}");
    }
    // Both ends of the ranges are reached.
    let draws: Vec<Duration> = (0..5000).map(|_| glare_delay(&mut rng, true, t1)).collect();
    assert!(draws.iter().any(|d| *d < Duration::from_millis(2200)));
    assert!(draws.iter().any(|d| *d > Duration::from_millis(3900)));
}

#[test]
fn a_491_to_our_reinvite_is_retried_after_the_owner_delay() {
    let (mut ua, wire) = ua(AnswerPlan::default());
    let now = Instant::now();
    let inv = call(&mut ua, &wire, now, false);
    ua.on_event(now, answer(&inv, "200 OK", "", Some(SDP)));
    wire.take();
    ua.act(
        now,
        Action::Hold {
            peer: format!("sip:alice@{ALICE}"),
            how: HoldHow::Sendonly,
        },
    )
    .unwrap();
    let hold = wire.take().remove(0);
    assert_eq!(hold.label(), "INVITE");
    ua.on_event(now, answer(&hold, "491 Request Pending", "", None));
    assert!(wire.take().is_empty());
    let at = ua.poll_timeout().expect("a retry");
    assert!(
        at >= now + Duration::from_millis(2100) && at <= now + Duration::from_secs(4),
        "{:?}",
        at - now
    );
    ua.handle_timeout(at - Duration::from_millis(1));
    assert!(wire.take().is_empty());
    ua.handle_timeout(at);
    let retry = wire.take().remove(0);
    assert_eq!(retry.label(), "INVITE");
    assert!(retry.msg().cseq().unwrap().number > hold.msg().cseq().unwrap().number);
    let version = |s: &Sent| -> u64 {
        s.msg()
            .sdp()
            .unwrap()
            .origin
            .unwrap()
            .sess_version
            .parse()
            .unwrap()
    };
    assert!(version(&retry) > version(&hold), "RFC 3264 §8");
    assert!(retry.body().contains("a=sendonly"));
}

#[test]
fn a_491_to_the_reinvite_of_a_call_we_answered_is_retried_within_2_s() {
    let (mut ua, wire) = ua(AnswerPlan {
        provisional: vec![],
        ..AnswerPlan::default()
    });
    let now = Instant::now();
    ua.on_event(now, request(1, ALICE, &invite(true)));
    let ok = wire.take().remove(0);
    assert_eq!(ok.label(), "200 INVITE");
    let tag = ok.msg().to_tag().unwrap();
    ua.on_event(
        now,
        request(2, ALICE, &in_dialog("ACK", 10, &tag, "", None)),
    );
    ua.act(
        now,
        Action::Hold {
            peer: format!("sip:alice@{ALICE}"),
            how: HoldHow::Inactive,
        },
    )
    .unwrap();
    let hold = wire
        .take()
        .into_iter()
        .find(|s| s.label() == "INVITE")
        .expect("re-INVITE");
    let m = hold.msg();
    let resp = format!(
        "SIP/2.0 491 Request Pending\nVia: {}\nFrom: {}\nTo: {}\nCall-ID: call1\nCSeq: {}\n",
        m.first_value(HeaderName::Via).unwrap(),
        m.first_value(HeaderName::From).unwrap(),
        m.first_value(HeaderName::To).unwrap(),
        m.first_value(HeaderName::CSeq).unwrap(),
    );
    ua.on_event(now, response(hold.tx(), &resp));
    // Step through the UA's timers (a stale 2xx retransmission timer may come first).
    while let Some(at) = ua.poll_timeout() {
        assert!(
            at <= now + Duration::from_secs(2),
            "no retry within 2 s: {:?}",
            at - now
        );
        ua.handle_timeout(at);
        if wire.take().iter().any(|s| s.label() == "INVITE") {
            return;
        }
    }
    panic!("no retry");
}
