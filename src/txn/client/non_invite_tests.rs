//! Client non-INVITE transaction tests, on a simulated clock.

use super::super::build_cancel;
use super::super::testkit::*;
use super::*;
use crate::sip::parse::parse_message;
use std::time::Duration;

const UDP: Reliability = Reliability::Unreliable;
const TCP: Reliability = Reliability::Reliable;

fn start(cfg: TimerConfig, rel: Reliability) -> ClientNonInvite {
    ClientNonInvite::new(Time::ZERO, request("OPTIONS"), cfg, rel).unwrap()
}

fn timeout_f_at(outs: &[(Time, Output)], f: Time) {
    assert_eq!(
        tu_events(outs),
        vec![
            (f, TuEvent::Timeout(TimerName::F)),
            (f, TuEvent::Terminated)
        ]
    );
}

#[test]
fn timer_e_doubles_up_to_t2_and_timer_f_ends_it_at_64_t1() {
    for cfg in configs() {
        // Both configurations have T2 = 8*T1: intervals T1, 2, 4, 8, 8, ... T1.
        assert_eq!(cfg.t2, cfg.t1 * 8);
        let mut tx = start(cfg, UDP);
        let outs = drive(&mut tx, Time::ZERO, cfg.t1 * 200);
        let expect = t1s(&cfg, &[0, 1, 3, 7, 15, 23, 31, 39, 47, 55, 63]);
        assert_eq!(transmit_times(&outs), expect);
        timeout_f_at(&outs, cfg.t1x64());
        assert_eq!(tx.termination(), Some(Termination::Timeout(TimerName::F)));
        assert_eq!(tx.state(), ClientNonInviteState::Terminated);
    }
}

#[test]
fn timer_e_times_in_seconds_with_the_defaults() {
    let mut tx = start(TimerConfig::default(), UDP);
    let outs = drive(&mut tx, Time::ZERO, Duration::from_secs(100));
    let secs: Vec<f64> = transmit_times(&outs)
        .iter()
        .map(|t| t.as_secs_f64())
        .collect();
    assert_eq!(
        secs,
        [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    );
    timeout_f_at(&outs, Duration::from_secs(32));
}

#[test]
fn after_a_provisional_timer_e_is_re_armed_with_t2() {
    for cfg in configs() {
        let mut tx = start(cfg, UDP);
        let mut outs = drain_at(&mut tx, Time::ZERO);
        // 100 Trying before the first retransmission: E still fires at T1, then every T2.
        let t = cfg.t1 / 2;
        tx.handle_response(t, response(tx.request(), 100, None));
        assert_eq!(tx.state(), ClientNonInviteState::Proceeding);
        outs.extend(drive(&mut tx, t, cfg.t1 * 200));
        let expect = t1s(&cfg, &[0, 1, 9, 17, 25, 33, 41, 49, 57]);
        assert_eq!(transmit_times(&outs), expect);
        let tu = tu_events(&outs);
        assert!(matches!(&tu[0], (_, TuEvent::Response(r)) if r.status() == Some(100)));
        timeout_f_at(&outs[outs.len() - 2..], cfg.t1x64());
    }
}

#[test]
fn reliable_transport_has_no_timer_e_but_timer_f_fires() {
    for cfg in configs() {
        let mut tx = start(cfg, TCP);
        assert_eq!(
            tx.timers().collect::<Vec<_>>(),
            [(TimerName::F, cfg.t1x64())]
        );
        let outs = drive(&mut tx, Time::ZERO, cfg.t1 * 200);
        assert_eq!(transmit_times(&outs), [Time::ZERO]);
        timeout_f_at(&outs, cfg.t1x64());
    }
}

#[test]
fn final_moves_to_completed_and_timer_k_absorbs_retransmissions() {
    for cfg in configs() {
        let mut tx = start(cfg, UDP);
        let mut outs = drive(&mut tx, Time::ZERO, cfg.t1 * 2);
        let t = cfg.t1 * 2;
        tx.handle_response(t, response(tx.request(), 200, Some("u")));
        assert_eq!(tx.state(), ClientNonInviteState::Completed);
        let k = t + cfg.t4;
        assert_eq!(tx.timers().collect::<Vec<_>>(), [(TimerName::K, k)]);
        for n in 1..=3u32 {
            tx.handle_response(t + cfg.t1 * n, response(tx.request(), 200, Some("u")));
            tx.handle_response(t + cfg.t1 * n, response(tx.request(), 100, None));
        }
        outs.extend(drive(&mut tx, t, cfg.t1 * 200));
        assert_eq!(transmit_times(&outs), t1s(&cfg, &[0, 1]));
        let tu = tu_events(&outs);
        assert_eq!(tu.len(), 2, "{tu:?}");
        assert!(
            matches!(&tu[0], (at, TuEvent::Response(r)) if *at == t && r.status() == Some(200))
        );
        assert_eq!(tu[1], (k, TuEvent::Terminated));
        assert_eq!(tx.termination(), Some(Termination::Done(TimerName::K)));
    }
}

#[test]
fn timer_k_is_t4_by_default_and_zero_on_reliable_transports() {
    let mut udp = start(TimerConfig::default(), UDP);
    udp.handle_response(Duration::from_secs(1), response(udp.request(), 404, None));
    assert_eq!(udp.poll_timeout(), Some(Duration::from_secs(6)));
    for cfg in configs() {
        let mut tx = start(cfg, TCP);
        drain(&mut tx);
        let t = cfg.t1 * 5;
        tx.handle_response(t, response(tx.request(), 503, None));
        assert_eq!(tx.timers().collect::<Vec<_>>(), [(TimerName::K, t)]);
        let outs = drive(&mut tx, t, t);
        assert_eq!(tu_events(&outs).last(), Some(&(t, TuEvent::Terminated)));
        assert_eq!(tx.state(), ClientNonInviteState::Terminated);
    }
}

#[test]
fn every_provisional_in_proceeding_reaches_the_tu() {
    let mut tx = start(TimerConfig::default(), UDP);
    drain(&mut tx);
    for code in [100, 180, 181] {
        tx.handle_response(ms(10), response(tx.request(), code, None));
    }
    let codes: Vec<_> = drain(&mut tx)
        .into_iter()
        .filter_map(|o| match o {
            Output::Tu(TuEvent::Response(r)) => r.status(),
            _ => None,
        })
        .collect();
    assert_eq!(codes, [100, 180, 181]);
}

#[test]
fn transport_error_terminates_once() {
    let mut tx = start(TimerConfig::default(), UDP);
    drain(&mut tx);
    tx.transport_error(ms(5));
    tx.transport_error(ms(6));
    assert_eq!(drain(&mut tx), [Output::Tu(TuEvent::Terminated)]);
    assert_eq!(tx.termination(), Some(Termination::TransportError));
    tx.handle_timeout(Duration::from_secs(100));
    tx.handle_response(ms(7), response(tx.request(), 200, None));
    assert!(drain(&mut tx).is_empty());
}

#[test]
fn refuses_invite_and_ack() {
    let cfg = TimerConfig::default();
    for m in ["INVITE", "ACK"] {
        let err = ClientNonInvite::new(Time::ZERO, request(m), cfg, UDP).unwrap_err();
        assert_eq!(err, ClientTxError::InviteOrAck(m.into()));
    }
}

#[test]
fn a_cancel_runs_in_its_own_non_invite_transaction() {
    let cfg = TimerConfig::default();
    let inv = invite();
    let cancel = parse_message(&build_cancel(&inv));
    let mut tx = ClientNonInvite::new(ms(700), cancel.clone(), cfg, UDP).unwrap();
    let inv_key = TxKey::of(&inv).unwrap();
    assert_eq!(tx.key(), &inv_key.with_method("CANCEL"));
    assert_ne!(tx.key(), &inv_key);
    assert_eq!(drain(&mut tx), [Output::Transmit(cancel.to_bytes())]);
    assert_eq!(tx.poll_timeout(), Some(ms(1200)));
    tx.handle_response(ms(800), response(&cancel, 200, None));
    assert_eq!(tx.state(), ClientNonInviteState::Completed);
}
