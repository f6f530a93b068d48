//! Client INVITE transaction tests, on a simulated clock.

use super::super::testkit::*;
use super::*;
use crate::sip::parse::parse_message;
use std::time::Duration;

const UDP: Reliability = Reliability::Unreliable;
const TCP: Reliability = Reliability::Reliable;

fn start(cfg: TimerConfig, rel: Reliability) -> ClientInvite {
    ClientInvite::new(Time::ZERO, invite(), cfg, rel).unwrap()
}

fn responses(outs: &[(Time, Output)]) -> Vec<u16> {
    tu_events(outs)
        .into_iter()
        .filter_map(|(_, ev)| match ev {
            TuEvent::Response(m) => m.status(),
            _ => None,
        })
        .collect()
}

#[test]
fn timer_a_doubles_from_t1_and_timer_b_ends_it_at_64_t1() {
    for cfg in configs() {
        let mut tx = start(cfg, UDP);
        let outs = drive(&mut tx, Time::ZERO, cfg.t1 * 200);
        assert_eq!(transmit_times(&outs), t1s(&cfg, &[0, 1, 3, 7, 15, 31, 63]));
        for (_, o) in &outs {
            if let Output::Transmit(b) = o {
                assert_eq!(b.as_slice(), tx.request().as_bytes());
            }
        }
        let b = cfg.t1x64();
        let tu = tu_events(&outs);
        assert_eq!(
            tu,
            vec![
                (b, TuEvent::Timeout(TimerName::B)),
                (b, TuEvent::Terminated)
            ]
        );
        assert_eq!(tx.state(), ClientInviteState::Terminated);
        assert_eq!(tx.termination(), Some(Termination::Timeout(TimerName::B)));
        assert_eq!(tx.poll_timeout(), None);
    }
}

#[test]
fn timer_a_times_in_seconds_with_the_defaults() {
    let mut tx = start(TimerConfig::default(), UDP);
    let outs = drive(&mut tx, Time::ZERO, Duration::from_secs(100));
    let secs: Vec<f64> = transmit_times(&outs)
        .iter()
        .map(|t| t.as_secs_f64())
        .collect();
    assert_eq!(secs, [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]);
    assert_eq!(outs.last().unwrap().0, Duration::from_secs(32));
}

#[test]
fn reliable_transport_has_no_timer_a_but_timer_b_fires() {
    for cfg in configs() {
        let mut tx = start(cfg, TCP);
        assert_eq!(
            tx.timers().collect::<Vec<_>>(),
            [(TimerName::B, cfg.t1x64())]
        );
        let outs = drive(&mut tx, Time::ZERO, cfg.t1 * 200);
        assert_eq!(transmit_times(&outs), [Time::ZERO]);
        let b = cfg.t1x64();
        let tu = tu_events(&outs);
        assert_eq!(
            tu,
            vec![
                (b, TuEvent::Timeout(TimerName::B)),
                (b, TuEvent::Terminated)
            ]
        );
    }
}

#[test]
fn a_late_handle_timeout_fires_everything_due_once() {
    let cfg = TimerConfig::default();
    let mut tx = start(cfg, UDP);
    drain(&mut tx);
    tx.handle_timeout(Duration::from_secs(40));
    let outs = drain(&mut tx);
    assert_eq!(outs.len(), 3, "{outs:?}");
    assert!(matches!(outs[0], Output::Transmit(_)));
    assert_eq!(outs[1], Output::Tu(TuEvent::Timeout(TimerName::B)));
    assert_eq!(outs[2], Output::Tu(TuEvent::Terminated));
}

#[test]
fn provisional_moves_to_proceeding_and_stops_retransmission() {
    for cfg in configs() {
        let mut tx = start(cfg, UDP);
        let mut outs = drive(&mut tx, Time::ZERO, cfg.t1 * 2);
        let inv = invite();
        tx.handle_response(cfg.t1 * 2, response(&inv, 180, Some("b1")));
        assert_eq!(tx.state(), ClientInviteState::Proceeding);
        assert_eq!(tx.timers().count(), 0, "A stops; B only acts in Calling");
        tx.handle_response(cfg.t1 * 3, response(&inv, 183, Some("b1")));
        outs.extend(drive(&mut tx, cfg.t1 * 3, cfg.t1 * 200));
        assert_eq!(transmit_times(&outs), t1s(&cfg, &[0, 1]));
        assert_eq!(responses(&outs), [180, 183]);
        assert_eq!(tx.state(), ClientInviteState::Proceeding);
    }
}

#[test]
fn non_2xx_final_is_acked_and_timer_d_runs() {
    for cfg in configs() {
        let mut tx = start(cfg, UDP);
        drain(&mut tx);
        let inv = invite();
        let t = cfg.t1 / 2;
        tx.handle_response(t, response(&inv, 486, Some("busy-1")));
        assert_eq!(tx.state(), ClientInviteState::Completed);
        assert_eq!(
            tx.timers().collect::<Vec<_>>(),
            [(TimerName::D, t + cfg.timer_d)]
        );
        let outs = drain(&mut tx);
        let ack = tx.ack().unwrap().to_vec();
        assert!(matches!(&outs[0], Output::Tu(TuEvent::Response(r)) if r.status() == Some(486)));
        assert_eq!(outs[1], Output::Transmit(ack.clone()));
        assert_eq!(outs.len(), 2);
        // The ACK of §17.1.1.3: the INVITE's branch, CSeq method ACK, the response's To tag.
        let parsed = parse_message(&ack);
        assert_eq!(parsed.method().as_deref(), Some("ACK"));
        assert_eq!(parsed.branch(), inv.branch());
        assert_eq!(parsed.cseq().unwrap().method, "ACK");
        assert_eq!(parsed.to_tag().as_deref(), Some("busy-1"));
        // Each retransmitted final is re-ACKed with the same bytes and not passed up.
        let mut later = Vec::new();
        for k in 1..=3u32 {
            tx.handle_response(t + cfg.t1 * k, response(&inv, 486, Some("busy-1")));
            later.extend(drain_at(&mut tx, t + cfg.t1 * k));
        }
        let d = t + cfg.timer_d;
        later.extend(drive(&mut tx, t + cfg.t1 * 3, d * 2));
        let expect_acks: Vec<_> = (1..=3u32).map(|k| t + cfg.t1 * k).collect();
        assert_eq!(transmit_times(&later), expect_acks);
        assert!(later
            .iter()
            .all(|(_, o)| !matches!(o, Output::Transmit(b) if *b != ack)));
        assert_eq!(tu_events(&later), [(d, TuEvent::Terminated)]);
        assert_eq!(tx.termination(), Some(Termination::Done(TimerName::D)));
    }
}

#[test]
fn timer_d_is_32_s_by_default_and_zero_on_reliable_transports() {
    let inv = invite();
    let mut udp = start(TimerConfig::default(), UDP);
    udp.handle_response(Duration::from_secs(1), response(&inv, 404, Some("x")));
    assert_eq!(udp.poll_timeout(), Some(Duration::from_secs(33)));
    for cfg in configs() {
        let mut tx = start(cfg, TCP);
        drain(&mut tx);
        let t = cfg.t1 * 3;
        tx.handle_response(t, response(&inv, 603, Some("x")));
        assert_eq!(tx.timers().collect::<Vec<_>>(), [(TimerName::D, t)]);
        assert_eq!(
            tx.state(),
            ClientInviteState::Completed,
            "D fires on handle_timeout"
        );
        let outs = drive(&mut tx, t, t);
        assert_eq!(transmit_times(&outs), [t], "the ACK is still sent");
        assert_eq!(tu_events(&outs).last(), Some(&(t, TuEvent::Terminated)));
        assert_eq!(tx.state(), ClientInviteState::Terminated);
    }
}

#[test]
fn final_after_provisional_is_acked_and_stray_responses_are_ignored() {
    let cfg = TimerConfig::default();
    let inv = invite();
    let mut tx = start(cfg, UDP);
    let mut outs = drain_at(&mut tx, ms(0));
    tx.handle_response(ms(100), response(&inv, 100, None));
    tx.handle_response(ms(200), response(&inv, 480, Some("t")));
    assert_eq!(tx.state(), ClientInviteState::Completed);
    outs.extend(drain_at(&mut tx, ms(200)));
    assert_eq!(responses(&outs), [100, 480]);
    assert_eq!(
        transmit_times(&outs),
        [ms(0), ms(200)],
        "the INVITE, then the ACK"
    );
    // RFC 3261 §17.1.1.2 has no transition for a 1xx or a 2xx in Completed.
    tx.handle_response(ms(300), response(&inv, 180, Some("t")));
    tx.handle_response(ms(300), response(&inv, 200, Some("t")));
    assert!(drain(&mut tx).is_empty());
}

#[test]
fn rfc6026_2xx_moves_to_accepted_and_every_2xx_reaches_the_tu() {
    for (cfg, rel) in configs().into_iter().flat_map(|c| [(c, UDP), (c, TCP)]) {
        let inv = invite();
        let mut tx = start(cfg, rel);
        drain(&mut tx);
        let t = cfg.t1 / 2;
        tx.handle_response(t, response(&inv, 200, Some("fork-1")));
        assert_eq!(tx.state(), ClientInviteState::Accepted);
        let m = t + cfg.t1x64();
        assert_eq!(tx.timers().collect::<Vec<_>>(), [(TimerName::M, m)]);
        let mut outs = drain_at(&mut tx, t);
        for (k, tag) in [(1, "fork-1"), (2, "fork-2"), (3, "fork-3")] {
            tx.handle_response(t + cfg.t1 * k, response(&inv, 200, Some(tag)));
        }
        // No transition in Accepted for 1xx or non-2xx finals (RFC 6026 §7.2).
        tx.handle_response(t + cfg.t1 * 4, response(&inv, 180, Some("fork-4")));
        tx.handle_response(t + cfg.t1 * 4, response(&inv, 486, Some("fork-4")));
        assert_eq!(
            tx.timers().collect::<Vec<_>>(),
            [(TimerName::M, m)],
            "M not restarted"
        );
        outs.extend(drive(&mut tx, t + cfg.t1 * 4, m * 3));
        assert!(
            transmit_times(&outs).is_empty(),
            "the TU ACKs 2xx (§13.2.2.4)"
        );
        let tags: Vec<_> = tu_events(&outs)
            .into_iter()
            .filter_map(|(_, ev)| match ev {
                TuEvent::Response(r) => r.to_tag(),
                _ => None,
            })
            .collect();
        assert_eq!(tags, ["fork-1", "fork-1", "fork-2", "fork-3"]);
        assert_eq!(tu_events(&outs).last(), Some(&(m, TuEvent::Terminated)));
        assert_eq!(tx.termination(), Some(Termination::Done(TimerName::M)));
    }
}

#[test]
fn terminated_is_reported_once_and_later_inputs_are_ignored() {
    let cfg = TimerConfig::default();
    let inv = invite();
    let mut tx = start(cfg, UDP);
    drain(&mut tx);
    tx.transport_error(ms(10));
    assert_eq!(drain(&mut tx), [Output::Tu(TuEvent::Terminated)]);
    assert_eq!(tx.termination(), Some(Termination::TransportError));
    assert_eq!(tx.state(), ClientInviteState::Terminated);
    assert_eq!(tx.poll_timeout(), None);
    tx.transport_error(ms(20));
    tx.handle_response(ms(30), response(&inv, 200, Some("late")));
    tx.handle_timeout(Duration::from_secs(100));
    assert!(drain(&mut tx).is_empty());
    assert_eq!(tx.termination(), Some(Termination::TransportError));
}

#[test]
fn transport_error_in_accepted_terminates_too() {
    let inv = invite();
    let mut tx = start(TimerConfig::default(), UDP);
    tx.handle_response(ms(10), response(&inv, 200, Some("a")));
    drain(&mut tx);
    tx.transport_error(ms(20));
    assert_eq!(drain(&mut tx), [Output::Tu(TuEvent::Terminated)]);
    assert_eq!(tx.timers().count(), 0);
}

#[test]
fn refuses_what_is_not_an_invite_request() {
    let cfg = TimerConfig::default();
    let err = ClientInvite::new(Time::ZERO, request("OPTIONS"), cfg, UDP).unwrap_err();
    assert_eq!(err, ClientTxError::NotInvite("OPTIONS".into()));
    let resp = response(&invite(), 200, None);
    let err = ClientInvite::new(Time::ZERO, resp, cfg, UDP).unwrap_err();
    assert_eq!(err, ClientTxError::NotARequest);
    let no_via = parse_message(b"INVITE sip:b@x SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n");
    let err = ClientInvite::new(Time::ZERO, no_via, cfg, UDP).unwrap_err();
    assert_eq!(err, ClientTxError::NoKey);
}

#[test]
fn key_is_the_invites() {
    let tx = start(TimerConfig::default(), UDP);
    assert_eq!(Some(tx.key()), TxKey::of(&invite()).as_ref());
    assert_eq!(tx.key().branch(), Some("z9hG4bK776asdhds"));
}
