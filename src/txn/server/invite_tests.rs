//! INVITE server transaction tests (RFC 3261 §17.2.1, RFC 6026 §7.1) on a simulated clock,
//! each run with the default timers and with T1 = 50 ms.

use super::test_support::*;
use super::{Refused, ServerInvite, ServerInviteState::*};
use crate::sip::parse::parse_message;
use crate::txn::{Output, Reliability, Time, TimerConfig, TimerName, TuEvent};

const T0: Time = Time::ZERO;

fn invite(cfg: TimerConfig, transport: &str) -> ServerInvite {
    let rel = match transport {
        "UDP" => Reliability::Unreliable,
        _ => Reliability::Reliable,
    };
    ServerInvite::new(T0, request("INVITE", transport), cfg, rel).expect("an INVITE with a key")
}

/// An INVITE answered with 486 at once; the 486 is checked and drained.
fn busy(cfg: TimerConfig, transport: &str) -> ServerInvite {
    let mut tx = invite(cfg, transport);
    tx.respond(T0, 486, "Busy Here", Some("b1")).unwrap();
    assert_eq!(
        sent(&drain(&mut tx, T0)),
        [(T0, "SIP/2.0 486 Busy Here".into())]
    );
    assert_eq!(tx.state(), Completed);
    tx
}

fn line(s: &str) -> String {
    s.to_string()
}

#[test]
fn trying_100_goes_out_at_200_ms_when_the_tu_is_silent() {
    assert_eq!(TimerConfig::default().trying_delay, ms(200));
    for cfg in configs() {
        let mut tx = invite(cfg, "UDP");
        assert_eq!(
            tx.timers().collect::<Vec<_>>(),
            [(TimerName::Trying100, cfg.trying_delay)]
        );
        let ev = drive(&mut tx, cfg.t1 * 10);
        assert_eq!(sent(&ev), [(cfg.trying_delay, line("SIP/2.0 100 Trying"))]);
        let Output::Transmit(bytes) = &ev[0].1 else {
            panic!("{ev:?}")
        };
        assert_eq!(parse_message(bytes).to_tag(), None, "no To-tag on the 100");
        assert_eq!(tx.state(), Proceeding);
        // RFC 3261 §17.2.1: a retransmission in Proceeding gets the latest provisional.
        let now = cfg.t1 * 10;
        tx.handle_request(now, request("INVITE", "UDP"));
        assert_eq!(
            sent(&drain(&mut tx, now)),
            [(now, line("SIP/2.0 100 Trying"))]
        );
    }
}

#[test]
fn no_trying_100_when_the_tu_sent_180_first() {
    for cfg in configs() {
        let mut tx = invite(cfg, "UDP");
        let early = cfg.trying_delay / 4;
        tx.handle_request(early, request("INVITE", "UDP"));
        assert!(drain(&mut tx, early).is_empty(), "nothing to re-send yet");
        let at = cfg.trying_delay / 2;
        tx.respond(at, 180, "Ringing", Some("b1")).unwrap();
        assert_eq!(
            sent(&drain(&mut tx, at)),
            [(at, line("SIP/2.0 180 Ringing"))]
        );
        assert!(drive(&mut tx, cfg.t1 * 10).is_empty());
        assert_eq!(tx.poll_timeout(), None);
        let now = cfg.t1 * 10;
        tx.handle_request(now, request("INVITE", "UDP"));
        assert_eq!(
            sent(&drain(&mut tx, now)),
            [(now, line("SIP/2.0 180 Ringing"))]
        );
    }
}

#[test]
fn timer_g_retransmits_the_final_up_to_t2_until_timer_h() {
    for cfg in configs() {
        let mut tx = busy(cfg, "UDP");
        let ev = drive(&mut tx, cfg.t1 * 100);
        // G = T1, 2T1, 4T1, then T2 = 8T1 (both configs have T2 = 8*T1).
        let expected: Vec<(Time, String)> = [1, 3, 7, 15, 23, 31, 39, 47, 55, 63]
            .into_iter()
            .map(|k| (cfg.t1 * k, line("SIP/2.0 486 Busy Here")))
            .collect();
        assert_eq!(sent(&ev), expected);
        let h = cfg.t1 * 64;
        assert_eq!(
            told(&ev),
            [
                (h, TuEvent::Timeout(TimerName::H)),
                (h, TuEvent::Terminated)
            ]
        );
        assert_eq!(tx.state(), Terminated);
        assert_eq!(tx.poll_timeout(), None);
    }
    // The same in wall-clock terms with the defaults: 0.5, 1.5, 3.5, 7.5, 11.5, 15.5 s; H at 32 s.
    let mut tx = busy(TimerConfig::default(), "UDP");
    let ev = drive(&mut tx, ms(40_000));
    let times: Vec<Time> = sent(&ev).iter().map(|(t, _)| *t).collect();
    assert_eq!(times[..6], [500, 1500, 3500, 7500, 11500, 15500].map(ms));
    assert_eq!(told(&ev)[0], (ms(32_000), TuEvent::Timeout(TimerName::H)));
}

#[test]
fn reliable_transports_have_no_timer_g_but_timer_h() {
    for cfg in configs() {
        let mut tx = busy(cfg, "TCP");
        assert_eq!(
            tx.timers().collect::<Vec<_>>(),
            [(TimerName::H, cfg.t1 * 64)]
        );
        let ev = drive(&mut tx, cfg.t1 * 100);
        assert!(sent(&ev).is_empty());
        assert_eq!(told(&ev)[0], (cfg.t1 * 64, TuEvent::Timeout(TimerName::H)));
        assert_eq!(terminations(&ev), 1);
    }
}

#[test]
fn invite_retransmission_in_completed_re_sends_the_final() {
    for cfg in configs() {
        let mut tx = busy(cfg, "UDP");
        let now = cfg.t1 / 2;
        tx.handle_request(now, request("INVITE", "UDP"));
        assert_eq!(
            sent(&drain(&mut tx, now)),
            [(now, line("SIP/2.0 486 Busy Here"))]
        );
        assert_eq!(tx.state(), Completed);
    }
}

#[test]
fn ack_confirms_and_timer_i_terminates_unreliable() {
    for cfg in configs() {
        let mut tx = busy(cfg, "UDP");
        assert_eq!(sent(&drive(&mut tx, cfg.t1 * 2)).len(), 1, "G once");
        let at = cfg.t1 * 2;
        tx.handle_request(at, ack("UDP"));
        assert_eq!(tx.state(), Confirmed);
        assert!(drain(&mut tx, at).is_empty(), "the ACK is not passed up");
        assert_eq!(
            tx.timers().collect::<Vec<_>>(),
            [(TimerName::I, at + cfg.t4)]
        );
        // RFC 3261 §17.2.1: Confirmed absorbs ACKs and INVITE retransmissions.
        tx.handle_request(at + cfg.t1, ack("UDP"));
        tx.handle_request(at + cfg.t1, request("INVITE", "UDP"));
        assert!(drain(&mut tx, at + cfg.t1).is_empty());
        let ev = drive(&mut tx, cfg.t1 * 200);
        assert_eq!(told(&ev), [(at + cfg.t4, TuEvent::Terminated)]);
        assert!(sent(&ev).is_empty(), "G stopped with the ACK");
        assert_eq!(tx.state(), Terminated);
    }
    // Defaults: T4 = 5 s, so an ACK at 1 s means Terminated at 6 s.
    let mut tx = busy(TimerConfig::default(), "UDP");
    drive(&mut tx, ms(1000));
    tx.handle_request(ms(1000), ack("UDP"));
    assert_eq!(tx.poll_timeout(), Some(ms(6000)));
}

#[test]
fn ack_on_a_reliable_transport_terminates_at_once() {
    for cfg in configs() {
        let mut tx = busy(cfg, "TCP");
        tx.handle_request(cfg.t1, ack("TCP"));
        assert_eq!(tx.state(), Terminated, "Timer I is zero");
        assert_eq!(
            told(&drain(&mut tx, cfg.t1)),
            [(cfg.t1, TuEvent::Terminated)]
        );
        assert_eq!(tx.poll_timeout(), None);
    }
}

#[test]
fn accepted_absorbs_invites_passes_the_ack_and_ends_with_timer_l() {
    for (cfg, transport) in configs().into_iter().flat_map(|c| [(c, "UDP"), (c, "TCP")]) {
        let mut tx = invite(cfg, transport);
        tx.respond(T0, 200, "OK", Some("b1")).unwrap();
        assert_eq!(sent(&drain(&mut tx, T0)), [(T0, line("SIP/2.0 200 OK"))]);
        assert_eq!(tx.state(), Accepted);
        assert_eq!(
            tx.timers().collect::<Vec<_>>(),
            [(TimerName::L, cfg.t1 * 64)]
        );
        tx.handle_request(cfg.t1, request("INVITE", transport));
        assert!(drain(&mut tx, cfg.t1).is_empty(), "INVITE absorbed");
        // RFC 3261 §13.3.1.4: the TU retransmits its 2xx; the transaction sends each one.
        tx.respond(cfg.t1, 200, "OK", Some("b1")).unwrap();
        assert_eq!(sent(&drain(&mut tx, cfg.t1)).len(), 1);
        let ack_at = cfg.t1 * 2;
        tx.handle_request(ack_at, ack(transport));
        assert_eq!(
            told(&drain(&mut tx, ack_at)),
            [(ack_at, TuEvent::Request(ack(transport)))]
        );
        let ev = drive(&mut tx, cfg.t1 * 200);
        assert_eq!(ev, [(cfg.t1 * 64, Output::Tu(TuEvent::Terminated))]);
        assert_eq!(tx.state(), Terminated);
    }
}

#[test]
fn responses_after_a_final_are_refused() {
    for cfg in configs() {
        let mut tx = invite(cfg, "UDP");
        tx.respond(T0, 200, "OK", Some("b1")).unwrap();
        drain(&mut tx, T0);
        let e = tx.respond(T0, 486, "Busy Here", Some("b1")).unwrap_err();
        assert_eq!(e.rfc, "RFC 3261 §17.2.1");
        let ev = drain(&mut tx, T0);
        assert!(sent(&ev).is_empty());
        assert!(matches!(told(&ev)[..], [(_, TuEvent::Refused { .. })]));

        let mut tx = busy(cfg, "UDP");
        for code in [180, 200, 603] {
            assert!(tx.respond(T0, code, "X", Some("b1")).is_err());
        }
        assert!(sent(&drain(&mut tx, T0)).is_empty());
        tx.transport_error(T0);
        let e: Refused = tx.respond(T0, 200, "OK", None).unwrap_err();
        assert_eq!(e.reason, "the transaction is terminated");
    }
}

#[test]
fn transport_error_terminates_once() {
    let cfg = TimerConfig::default();
    let mut tx = invite(cfg, "UDP");
    tx.transport_error(ms(10));
    tx.transport_error(ms(20));
    assert_eq!(tx.state(), Terminated);
    assert_eq!(tx.poll_timeout(), None);
    assert_eq!(
        drain(&mut tx, ms(20)),
        [(ms(20), Output::Tu(TuEvent::Terminated))]
    );
    assert!(drive(&mut tx, ms(100_000)).is_empty());
}

#[test]
fn non_invites_and_keyless_requests_make_no_invite_transaction() {
    let cfg = TimerConfig::default();
    let rel = Reliability::Unreliable;
    assert!(ServerInvite::new(T0, request("OPTIONS", "UDP"), cfg, rel).is_none());
    assert!(ServerInvite::new(T0, ack("UDP"), cfg, rel).is_none());
    let no_via = parse_message(b"INVITE sip:b@x SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n");
    assert!(ServerInvite::new(T0, no_via, cfg, rel).is_none());
}
