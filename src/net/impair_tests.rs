//! Impairer and `--impair` parser tests: exact outcomes for fixed seeds, statistical bounds
//! over 10,000 messages, located parse errors.

use super::impair::{Delivery, DropRule, Impairer, Impairment, Match};
use super::impair_spec::{parse_impair, ImpairSpecError};
use crate::txn::Time;
use std::net::SocketAddr;
use std::time::Duration;

fn ms(n: u64) -> Time {
    Duration::from_millis(n)
}

fn peer() -> SocketAddr {
    "127.0.0.1:5060".parse().unwrap()
}

/// Which of `n` one-byte messages (numbered 0..n, one per millisecond) are delivered.
fn survivors(imp: &mut Impairer, n: u8) -> Vec<u8> {
    (0..n)
        .flat_map(|i| imp.process(ms(u64::from(i)), peer(), &[i]))
        .map(|d| d.bytes[0])
        .collect()
}

const OK_200: &[u8] = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
const OPTIONS: &[u8] = b"OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

#[test]
fn no_impairment_delivers_everything_at_once() {
    let mut imp = Impairer::new(Impairment::none(), 1);
    let d = imp.process(ms(5), peer(), b"x");
    assert_eq!(
        d,
        [Delivery {
            at: ms(5),
            peer: peer(),
            bytes: b"x".to_vec()
        }]
    );
    assert_eq!(imp.poll_timeout(), None);
}

#[test]
fn fixed_seeds_give_fixed_losses() {
    // Golden values: if the generator or the draw order changes, these change, and every
    // recorded impaired run with them. Change them only on purpose.
    let mut imp = Impairer::new(Impairment::loss(0.3), 7);
    let got = survivors(&mut imp, 20);
    let again = survivors(&mut Impairer::new(Impairment::loss(0.3), 7), 20);
    assert_eq!(got, again);
    assert_eq!(got, GOLDEN_SEED_7);
    assert_eq!(imp.stats().lost, 20 - GOLDEN_SEED_7.len() as u64);
    let other = survivors(&mut Impairer::new(Impairment::loss(0.3), 8), 20);
    assert_ne!(got, other);
}

const GOLDEN_SEED_7: &[u8] = &[0, 3, 4, 5, 6, 8, 10, 12, 13, 15, 17, 18];

#[test]
fn loss_duplicate_and_reorder_rates_over_ten_thousand_messages() {
    let cfg = Impairment {
        loss: 0.1,
        duplicate: 0.05,
        reorder: 0.02,
        ..Impairment::none()
    };
    for seed in [1, 2, 3, 42] {
        let mut imp = Impairer::new(cfg, seed);
        let mut delivered = 0u64;
        for i in 0..10_000u32 {
            delivered += imp
                .process(ms(u64::from(i)), peer(), &i.to_be_bytes())
                .len() as u64;
        }
        delivered += imp.handle_timeout(ms(1_000_000)).len() as u64;
        let s = imp.stats();
        assert_eq!(s.seen, 10_000);
        assert!(
            (800..=1200).contains(&s.lost),
            "seed {seed}: lost {}",
            s.lost
        );
        // Duplicates and reorders are drawn for every message, then only counted if it was
        // not lost: 5 % and 2 % of the ~90 % that got through.
        assert!(
            (300..=600).contains(&s.duplicated),
            "seed {seed}: dup {}",
            s.duplicated
        );
        assert!(
            (100..=270).contains(&s.reordered),
            "seed {seed}: reo {}",
            s.reordered
        );
        assert_eq!(delivered, 10_000 - s.lost + s.duplicated);
    }
}

#[test]
fn delay_and_jitter_bound_delivery_times() {
    let cfg = Impairment {
        delay: ms(20),
        jitter: ms(5),
        ..Impairment::none()
    };
    let mut imp = Impairer::new(cfg, 3);
    let mut early = 0;
    let mut late = 0;
    for i in 0..1000u64 {
        let now = ms(i);
        let d = imp.process(now, peer(), b"m");
        assert_eq!(d.len(), 1);
        let delay = d[0].at - now;
        assert!(delay >= ms(15) && delay <= ms(25), "{delay:?}");
        if delay < ms(20) {
            early += 1;
        } else {
            late += 1;
        }
    }
    assert!(early > 400 && late > 400, "{early} / {late}");
    // Jitter larger than the delay never delivers before `now`.
    let mut imp = Impairer::new(
        Impairment {
            delay: ms(1),
            jitter: ms(10),
            ..Impairment::none()
        },
        4,
    );
    assert!((0..1000).all(|_| imp.process(ms(50), peer(), b"m")[0].at >= ms(50)));
}

#[test]
fn duplicates_come_twice() {
    let mut imp = Impairer::new(
        Impairment {
            duplicate: 1.0,
            ..Impairment::none()
        },
        5,
    );
    let d = imp.process(ms(1), peer(), b"dup");
    assert_eq!(d.len(), 2);
    assert!(d.iter().all(|d| d.bytes == b"dup" && d.at == ms(1)));
    assert_eq!(imp.stats().duplicated, 1);
}

#[test]
fn reordering_holds_a_message_behind_the_next_or_until_hold() {
    let cfg = Impairment {
        reorder: 1.0,
        hold: ms(50),
        ..Impairment::none()
    };
    let mut imp = Impairer::new(cfg, 6);
    let other: SocketAddr = "127.0.0.1:6000".parse().unwrap();
    assert!(imp.process(ms(0), peer(), b"first").is_empty());
    assert_eq!(imp.poll_timeout(), Some(ms(50)));
    // Only one message is held at a time: the next overtakes and releases it, and the held
    // message keeps its own peer.
    let d = imp.process(ms(10), other, b"second");
    let order: Vec<(&[u8], SocketAddr, Time)> =
        d.iter().map(|d| (&d.bytes[..], d.peer, d.at)).collect();
    assert_eq!(
        order,
        [
            (&b"second"[..], other, ms(10)),
            (&b"first"[..], peer(), ms(10))
        ]
    );
    // Nothing follows the third message: the hold runs out.
    assert!(imp.process(ms(20), peer(), b"third").is_empty());
    assert!(imp.handle_timeout(ms(69)).is_empty());
    let d = imp.handle_timeout(ms(70));
    assert_eq!((d[0].bytes.as_slice(), d[0].at), (&b"third"[..], ms(70)));
    assert_eq!(imp.poll_timeout(), None);
}

#[test]
fn drop_rules_take_the_first_matches_without_random_draws() {
    let mut with_rule = Impairer::new(Impairment::loss(0.5), 9)
        .with_rule(DropRule::status(200, 1))
        .with_rule(DropRule::method("OPTIONS", 2));
    let mut without = Impairer::new(Impairment::loss(0.5), 9);
    assert!(with_rule.process(ms(0), peer(), OK_200).is_empty());
    assert!(with_rule.process(ms(0), peer(), OPTIONS).is_empty());
    assert!(with_rule.process(ms(0), peer(), OPTIONS).is_empty());
    assert_eq!(with_rule.stats().dropped_by_rule, 3);
    // The rules are used up; the random stream is where it would be without them.
    for i in 0..50u8 {
        let a = with_rule.process(ms(1), peer(), OK_200).len();
        let b = without.process(ms(1), peer(), OK_200).len();
        assert_eq!(a, b, "message {i}");
    }
    let pred = DropRule::predicate(|m| m.body().is_empty(), 1);
    assert!(matches!(pred.matcher, Match::Predicate(_)));
    let mut p = Impairer::new(Impairment::none(), 1).with_rule(pred);
    assert!(p.process(ms(0), peer(), OPTIONS).is_empty());
    assert_eq!(p.process(ms(0), peer(), OPTIONS).len(), 1);
}

#[test]
fn impair_option_parses_every_key() {
    let s = parse_impair("loss=0.1,delay=20ms,jitter=5ms,dup=0.05,reorder=0.02,seed=7").unwrap();
    assert_eq!(s.impairment.loss, 0.1);
    assert_eq!(s.impairment.delay, ms(20));
    assert_eq!(s.impairment.jitter, ms(5));
    assert_eq!(s.impairment.duplicate, 0.05);
    assert_eq!(s.impairment.reorder, 0.02);
    assert_eq!(s.seed, 7);
    let s = parse_impair(" hold=1.5s , delay=250us, drop=200, drop=INVITE*2, jitter=0").unwrap();
    assert_eq!(s.impairment.hold, ms(1500));
    assert_eq!(s.impairment.delay, Duration::from_micros(250));
    assert_eq!(s.impairment.jitter, Duration::ZERO);
    assert_eq!(
        s.drops,
        [DropRule::status(200, 1), DropRule::method("INVITE", 2)]
    );
    assert_eq!(parse_impair("").unwrap().impairment, Impairment::none());
    // Each direction draws its own numbers from the one seed.
    let spec = parse_impair("loss=0.5,seed=3").unwrap();
    let a = survivors(&mut spec.impairer(0), 40);
    let b = survivors(&mut spec.impairer(1), 40);
    assert_ne!(a, b);
    assert_eq!(a, survivors(&mut spec.impairer(0), 40));
}

#[test]
fn impair_option_errors_say_where_and_what() {
    let e = |s: &str| parse_impair(s).unwrap_err();
    let err = e("loss=1.5");
    assert_eq!(
        err,
        ImpairSpecError {
            column: 6,
            expected: "a probability between 0 and 1, found `1.5`".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "column 6: expected a probability between 0 and 1, found `1.5`"
    );
    // The unit is missing right after `20`.
    assert_eq!(e("loss=0.1,delay=20").column, 18);
    assert!(e("loss=0.1,delay=20")
        .expected
        .starts_with("a unit (ns, us, ms, s)"));
    assert_eq!(e("loss=0.1,lose=0.2").column, 10);
    assert!(e("loss=0.1,lose=0.2")
        .expected
        .starts_with("one of loss, delay"));
    assert_eq!(e("seed=x").column, 6);
    assert_eq!(e("loss").expected, "`=` after `loss`");
    assert_eq!(e("loss=0.1,,seed=1").column, 10);
    assert_eq!(e("loss=0.1,loss=0.2").expected, "`loss` only once");
    assert_eq!(e("drop=200*x").column, 10);
    assert_eq!(e("drop=99").column, 6);
    assert_eq!(e("delay=.5ms").column, 7);
    assert_eq!(e("loss=-0.1").column, 6);
}
