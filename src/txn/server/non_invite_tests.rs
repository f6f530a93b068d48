//! Non-INVITE server transaction tests (RFC 3261 §17.2.2, RFC 4320 §4) on a simulated clock,
//! each run with the default timers and with T1 = 50 ms.

use super::test_support::*;
use super::{ServerNonInvite, ServerNonInviteState::*};
use crate::txn::{Output, Reliability, Time, TimerConfig, TimerName, TuEvent};

const T0: Time = Time::ZERO;

fn options(cfg: TimerConfig, transport: &str) -> ServerNonInvite {
    let rel = match transport {
        "UDP" => Reliability::Unreliable,
        _ => Reliability::Reliable,
    };
    ServerNonInvite::new(T0, request("OPTIONS", transport), cfg, rel).expect("a request with a key")
}

fn line(s: &str) -> String {
    s.to_string()
}

/// When the client's Timer E reaches T2: 3.5 s with the defaults, 7*T1 in both configs.
fn e_at_t2(cfg: TimerConfig) -> Time {
    assert_eq!(cfg.timer_e_reaches_t2(), cfg.t1 * 7);
    cfg.t1 * 7
}

#[test]
fn final_then_timer_j_unreliable() {
    for cfg in configs() {
        let mut tx = options(cfg, "UDP");
        tx.handle_request(cfg.t1, request("OPTIONS", "UDP"));
        assert!(drain(&mut tx, cfg.t1).is_empty(), "absorbed in Trying");
        let at = cfg.t1 * 2;
        tx.respond(at, 200, "OK", Some("b1")).unwrap();
        assert_eq!(sent(&drain(&mut tx, at)), [(at, line("SIP/2.0 200 OK"))]);
        assert_eq!(tx.state(), Completed);
        assert_eq!(
            tx.timers().collect::<Vec<_>>(),
            [(TimerName::J, at + cfg.t1 * 64)]
        );
        // RFC 3261 §17.2.2: retransmissions in Completed get the final again.
        let re = cfg.t1 * 3;
        tx.handle_request(re, request("OPTIONS", "UDP"));
        assert_eq!(sent(&drain(&mut tx, re)), [(re, line("SIP/2.0 200 OK"))]);
        let ev = drive(&mut tx, cfg.t1 * 200);
        assert_eq!(ev, [(at + cfg.t1 * 64, Output::Tu(TuEvent::Terminated))]);
        assert_eq!(tx.state(), Terminated);
    }
    // Defaults: J = 32 s.
    let mut tx = options(TimerConfig::default(), "UDP");
    tx.respond(T0, 200, "OK", None).unwrap();
    assert_eq!(tx.poll_timeout(), Some(ms(32_000)));
}

#[test]
fn final_on_a_reliable_transport_terminates_at_once() {
    for cfg in configs() {
        let mut tx = options(cfg, "TCP");
        tx.respond(cfg.t1, 404, "Not Found", Some("b1")).unwrap();
        let ev = drain(&mut tx, cfg.t1);
        assert_eq!(sent(&ev), [(cfg.t1, line("SIP/2.0 404 Not Found"))]);
        assert_eq!(
            told(&ev),
            [(cfg.t1, TuEvent::Terminated)],
            "Timer J is zero"
        );
        assert_eq!(tx.state(), Terminated);
        assert_eq!(tx.poll_timeout(), None);
    }
}

#[test]
fn a_408_is_refused_under_rfc_4320() {
    for transport in ["UDP", "TCP"] {
        let mut tx = options(TimerConfig::default(), transport);
        let e = tx
            .respond(ms(100), 408, "Request Timeout", Some("b1"))
            .unwrap_err();
        assert_eq!(e.rfc, "RFC 4320 §4.2");
        let ev = drain(&mut tx, ms(100));
        assert!(sent(&ev).is_empty());
        assert_eq!(
            told(&ev),
            [(
                ms(100),
                TuEvent::Refused {
                    reason: e.reason,
                    rfc: "RFC 4320 §4.2"
                }
            )]
        );
        assert_eq!(tx.state(), Trying);
    }
}

#[test]
fn provisionals_other_than_100_are_refused() {
    for code in [101, 180, 183, 199] {
        let mut tx = options(TimerConfig::default(), "TCP");
        let e = tx
            .respond(ms(100), code, "Progress", Some("b1"))
            .unwrap_err();
        assert_eq!(e.rfc, "RFC 4320 §4.1");
        assert!(sent(&drain(&mut tx, ms(100))).is_empty());
        assert_eq!(tx.state(), Trying);
    }
}

#[test]
fn an_early_100_over_udp_waits_until_timer_e_reaches_t2() {
    for cfg in configs() {
        let mut tx = options(cfg, "UDP");
        let asked = cfg.t1 * 2; // 1 s with the defaults
        tx.respond(asked, 100, "Trying", None).unwrap();
        assert!(drain(&mut tx, asked).is_empty(), "held back");
        assert_eq!(tx.state(), Trying);
        let due = e_at_t2(cfg);
        assert!(
            drive(&mut tx, due - ms(1)).is_empty(),
            "nothing before E reaches T2"
        );
        let ev = drive(&mut tx, due);
        assert_eq!(sent(&ev), [(due, line("SIP/2.0 100 Trying"))]);
        assert_eq!(tx.state(), Proceeding);
        // RFC 3261 §17.2.2: retransmissions in Proceeding get the 100 again.
        tx.handle_request(due + cfg.t2, request("OPTIONS", "UDP"));
        assert_eq!(sent(&drain(&mut tx, due + cfg.t2)).len(), 1);
        // A 100 from the TU after that goes out at once.
        tx.respond(due + cfg.t2, 100, "Trying", None).unwrap();
        assert_eq!(sent(&drain(&mut tx, due + cfg.t2)).len(), 1);
    }
    assert_eq!(e_at_t2(TimerConfig::default()), ms(3500));
}

#[test]
fn a_final_before_timer_e_reaches_t2_means_no_100_at_all() {
    for cfg in configs() {
        let mut tx = options(cfg, "UDP");
        tx.respond(cfg.t1 * 2, 100, "Trying", None).unwrap();
        let fin = cfg.t1 * 4; // 2 s with the defaults
        tx.respond(fin, 200, "OK", Some("b1")).unwrap();
        let mut ev = drain(&mut tx, fin);
        ev.extend(drive(&mut tx, cfg.t1 * 200));
        assert_eq!(sent(&ev), [(fin, line("SIP/2.0 200 OK"))]);
        assert_eq!(terminations(&ev), 1);
    }
}

#[test]
fn a_silent_tu_gets_a_100_sent_for_it_when_timer_e_reaches_t2() {
    // RFC 4320 §4.1: "without regard to transport", 100 by then if nothing else was sent.
    for (cfg, transport) in configs().into_iter().flat_map(|c| [(c, "UDP"), (c, "TCP")]) {
        let mut tx = options(cfg, transport);
        let ev = drive(&mut tx, cfg.t1 * 200);
        assert_eq!(sent(&ev), [(e_at_t2(cfg), line("SIP/2.0 100 Trying"))]);
        assert_eq!(tx.state(), Proceeding, "waiting for the TU");
    }
}

#[test]
fn over_tcp_a_100_goes_out_at_once() {
    for cfg in configs() {
        let mut tx = options(cfg, "TCP");
        tx.respond(cfg.t1 * 2, 100, "Trying", None).unwrap();
        assert_eq!(
            sent(&drain(&mut tx, cfg.t1 * 2)),
            [(cfg.t1 * 2, line("SIP/2.0 100 Trying"))]
        );
        assert_eq!(tx.state(), Proceeding);
        assert_eq!(tx.poll_timeout(), None, "no second 100 is due");
        tx.respond(cfg.t1 * 20, 200, "OK", Some("b1")).unwrap();
        assert_eq!(tx.state(), Terminated);
    }
}

#[test]
fn responses_after_the_final_are_refused_and_terminated_is_told_once() {
    let cfg = TimerConfig::default();
    let mut tx = options(cfg, "UDP");
    tx.respond(T0, 200, "OK", Some("b1")).unwrap();
    assert_eq!(
        tx.respond(T0, 500, "Oops", None).unwrap_err().rfc,
        "RFC 3261 §17.2.2"
    );
    assert_eq!(
        tx.respond(T0, 100, "Trying", None).unwrap_err().rfc,
        "RFC 3261 §17.2.2"
    );
    let mut ev = drain(&mut tx, T0);
    assert_eq!(sent(&ev).len(), 1);
    tx.transport_error(ms(10));
    tx.transport_error(ms(20));
    ev.extend(drain(&mut tx, ms(20)));
    ev.extend(drive(&mut tx, ms(100_000)));
    assert_eq!(terminations(&ev), 1);
    assert!(tx.respond(ms(30), 200, "OK", None).is_err());
}

#[test]
fn invite_and_ack_make_no_non_invite_transaction() {
    let cfg = TimerConfig::default();
    let rel = Reliability::Unreliable;
    assert!(ServerNonInvite::new(T0, request("INVITE", "UDP"), cfg, rel).is_none());
    assert!(ServerNonInvite::new(T0, ack("UDP"), cfg, rel).is_none());
}
