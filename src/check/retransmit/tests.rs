use super::*;
use crate::check::observe::observe;
use crate::check::observe::tests::{addr, trace};
use crate::txn::TimerConfig;

/// A message of call `c`: its start line, a top Via sent by party `via` with branch
/// `z9hG4bK{branch}`, `CSeq: {cseq}` and the To-tag `tag` unless empty.
pub(crate) fn msg(start: &str, via: &str, branch: &str, cseq: &str, tag: &str) -> String {
    let to = if tag.is_empty() {
        String::new()
    } else {
        format!(";tag={tag}")
    };
    let mf = if start.starts_with("SIP/") {
        ""
    } else {
        "Max-Forwards: 70\n"
    };
    format!(
        "{start}\nVia: SIP/2.0/UDP {};branch=z9hG4bK{branch}\nFrom: <sip:a@x>;tag=f\n\
         To: <sip:b@x>{to}\nCall-ID: c\nCSeq: {cseq}\n{mf}",
        addr(via)
    )
}

/// A row of a test trace: `(millis, from, to, message)`.
pub(crate) type Row = (u64, &'static str, &'static str, String);

/// Runs one check group over the rows, all sent over `transport`.
pub(crate) fn run_rows(
    group: &CheckGroup,
    rows: &[Row],
    transport: Transport,
    tol: &Tolerances,
) -> Vec<Finding> {
    let items: Vec<_> = rows
        .iter()
        .map(|(t, f, d, m)| (*t, *f, *d, m.as_str()))
        .collect();
    let mut t = trace(&items);
    t.messages.iter_mut().for_each(|m| m.transport = transport);
    let mut out = Vec::new();
    (group.run)(&t, &observe(&t), tol, &mut out);
    out
}

pub(crate) fn ids(f: &[Finding]) -> Vec<&'static str> {
    f.iter().map(|f| f.rule.id).collect()
}

/// The messages of the scripts: an INVITE (branch 1) and a MESSAGE (branch 3) from `a`,
/// responses to them (`INV486`, `MES100`), the ACK to a non-2xx (`ACK`, branch 1) and to a
/// 2xx (`ACK2`, branch 2), and `LATER`, a transaction that only makes the trace run on.
fn kind(k: &str) -> String {
    match k {
        "INV" => msg("INVITE sip:b@x SIP/2.0", "a", "1", "1 INVITE", ""),
        "ACK" => msg("ACK sip:b@x SIP/2.0", "a", "1", "1 ACK", "t"),
        "ACK2" => msg("ACK sip:b@x SIP/2.0", "a", "2", "1 ACK", "t"),
        "MES" => msg("MESSAGE sip:b@x SIP/2.0", "a", "3", "2 MESSAGE", ""),
        "LATER" => msg("OPTIONS sip:a@x SIP/2.0", "b", "9", "7 OPTIONS", ""),
        _ => {
            let (method, code) = k.split_at(3);
            let line = format!("SIP/2.0 {code} Reason");
            match method {
                "INV" => msg(&line, "a", "1", "1 INVITE", "t"),
                _ => msg(&line, "a", "3", "2 MESSAGE", "t"),
            }
        }
    }
}

/// A trace from `from>to KIND millis...` segments separated by `;`.
fn script(s: &'static str) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for seg in s.split(';') {
        let mut words = seg.split_whitespace();
        let (dir, k) = (words.next().unwrap(), words.next().unwrap());
        let (from, to) = dir.split_once('>').unwrap();
        let text = kind(k);
        rows.extend(words.map(|t| (t.parse().unwrap(), from, to, text.clone())));
    }
    rows.sort_by_key(|r| r.0);
    rows
}

fn check(rows: &[Row]) -> Vec<Finding> {
    run_rows(&GROUP, rows, Transport::Udp, &Tolerances::default())
}

/// `name: script => the rule it triggers` (nothing after `=>` for a near-miss). T1 = 0.5 s:
/// Timer A 0.5, 1, 2, 4 s...; Timer E, G and the 2xx 0.5, 1, 2, then 4 s (T2).
const CASES: &[&str] = &[
    "timer A on schedule with jitter: a>b INV 0 510 1490 3520; b>a INV180 3600 =>",
    "timer A too short: a>b INV 0 500 900; b>a INV180 1000 => timer-a-interval",
    "timer E up to T2: a>b MES 0 500 1500 3500 7500 11500; b>a MES200 11600 =>",
    "timer E doubling past T2: a>b MES 0 500 1500 3500 11500; b>a MES200 11600 => timer-e-interval",
    "timer E is T2 after a provisional: a>b MES 0 500 1500 5500; b>a MES100 600; b>a MES200 5600 =>",
    "timer E still doubling after a provisional: a>b MES 0 500 1500 3500; b>a MES100 600; b>a MES200 3600 => timer-e-interval",
    "provisional within jitter of the retransmission, either interval: a>b MES 0 500 1500 3500; b>a MES100 1480; b>a MES200 3600 =>",
    "timer G, one answering an INVITE retransmission: a>b INV 0 500; b>a INV486 480 505 980 1980; a>b ACK 2000 =>",
    "timer G too short: a>b INV 0; b>a INV486 100 600 1100; a>b ACK 1200 => timer-g-interval",
    "2xx on schedule: a>b INV 0; b>a INV200 100 600 1600; a>b ACK2 1700 =>",
    "2xx too short: a>b INV 0; b>a INV200 100 600 1100; a>b ACK2 1200 => 2xx-interval",
    "2xx never retransmitted: a>b INV 0; b>a INV200 100; b>a LATER 2000 => 2xx-missing",
    "2xx ACKed within T1: a>b INV 0; b>a INV200 100; a>b ACK2 400; b>a LATER 2000 =>",
    "trace ends before the 2xx retransmission was due: a>b INV 0; b>a INV200 100; b>a LATER 700 =>",
    "2xx stops without ACK: a>b INV 0; b>a INV200 100 600 1600; b>a LATER 10000 => 2xx-stopped-early",
    "trace ends before the next 2xx was due: a>b INV 0; b>a INV200 100 600 1600; b>a LATER 3900 =>",
    "request stops without response: a>b MES 0 500; b>a LATER 5000 => request-stopped-early",
    "INVITE never retransmitted: a>b INV 0; b>a LATER 5000 => request-stopped-early",
    "INVITE stops after a provisional: a>b INV 0 500; b>a INV180 600; b>a LATER 10000 =>",
    "non-INVITE stops after a provisional: a>b MES 0 500; b>a MES100 600; b>a LATER 8000 => request-stopped-early",
    "trace ends before the next request was due: a>b MES 0 500; b>a LATER 1700 =>",
    "non-2xx final never retransmitted: a>b INV 0; b>a INV486 100; b>a LATER 3000 => final-stopped-early",
    "non-2xx final ACKed: a>b INV 0; b>a INV486 100; a>b ACK 550; b>a LATER 3000 =>",
    "INVITE after a provisional: a>b INV 0 500; b>a INV180 100 => invite-after-provisional",
    "INVITE in flight when the provisional came: a>b INV 0 500; b>a INV180 480 =>",
    "request after the final: a>b MES 0 500 1500; b>a MES200 900 => request-after-final",
    "request in flight when the final came: a>b MES 0 500 1500; b>a MES200 1480 =>",
    "INVITE after the 2xx: a>b INV 0 500; b>a INV200 100; a>b ACK2 150 => request-after-final",
    "non-2xx final after the ACK: a>b INV 0; b>a INV486 100 600; a>b ACK 200 => response-after-ack",
    "non-2xx final in flight when the ACK came: a>b INV 0; b>a INV486 100 600; a>b ACK 580 =>",
    "2xx after the ACK: a>b INV 0; b>a INV200 100 600; a>b ACK2 200 => response-after-ack",
    "request past Timer F: a>b MES 0 500 1500 3500 7500 11500 15500 19500 23500 27500 31500 35500 => after-timeout",
    "request until Timer F: a>b MES 0 500 1500 3500 7500 11500 15500 19500 23500 27500 31500; b>a LATER 40000 =>",
];

#[test]
fn every_case_triggers_exactly_its_rule() {
    for case in CASES {
        let (name, rest) = case.split_once(": ").unwrap();
        let (s, rule) = rest.split_once("=>").unwrap();
        let s: &'static str = s.trim();
        let found = check(&script(s));
        let want: Vec<String> = rule
            .split_whitespace()
            .map(|r| format!("tx.retransmit.{r}"))
            .collect();
        assert_eq!(ids(&found), want, "{name}: {found:#?}");
    }
}

#[test]
fn an_interval_finding_names_actual_and_expected() {
    let f = &check(&script("a>b INV 0 500 900; b>a INV180 1000"))[0];
    assert_eq!((f.message_index, f.related.clone()), (2, vec![0, 1]));
    assert!(
        f.detail.contains("0.40 s") && f.detail.contains("expects 1.00 s"),
        "{}",
        f.detail
    );
}

#[test]
fn over_tcp_the_transaction_layer_does_not_retransmit_but_the_uas_core_does() {
    let tcp = |s| {
        ids(&run_rows(
            &GROUP,
            &script(s),
            Transport::Tcp,
            &Tolerances::default(),
        ))
    };
    assert_eq!(
        tcp("a>b MES 0 500; b>a MES200 600"),
        ["tx.retransmit.reliable-transport"]
    );
    assert_eq!(
        tcp("a>b INV 0; b>a INV486 100 600; a>b ACK 700"),
        ["tx.retransmit.reliable-transport"]
    );
    // RFC 3261 §13.3.1.4: the 2xx is retransmitted "even if the transport at the UAS is
    // reliable": a retransmitted 2xx over TCP is right, a missing one is not.
    assert!(tcp("a>b INV 0; b>a INV200 100 600 1600; a>b ACK2 1700").is_empty());
    assert_eq!(
        tcp("a>b INV 0; b>a INV200 100; b>a LATER 2000"),
        ["tx.retransmit.2xx-missing"]
    );
}

#[test]
fn with_a_short_t1_the_2xx_runs_until_64_t1_and_no_longer() {
    let tol = Tolerances {
        timers: TimerConfig::scaled(Duration::from_millis(50)),
        ..Tolerances::default()
    };
    // T1 = 50 ms, T2 = 400 ms, 64*T1 = 3.2 s from the first 2xx at 0.1 s: the last one is
    // due at 3.25 s, the next would be at 3.65 s.
    let until = "a>b INV 0; b>a INV200 100 150 250 450 850 1250 1650 2050 2450 2850 3250";
    let mut rows = script(until);
    rows.extend(script("b>a LATER 5000"));
    assert!(run_rows(&GROUP, &rows, Transport::Udp, &tol).is_empty());
    rows.extend(script("b>a INV200 3650"));
    rows.sort_by_key(|r| r.0);
    let found = run_rows(&GROUP, &rows, Transport::Udp, &tol);
    assert_eq!(ids(&found), ["tx.retransmit.after-timeout"]);
    // The schedule is judged with the short timers: after 0.05 s comes 0.10 s (accepted
    // 0.025..0.175 s with the 50 ms jitter), not 0.25 s.
    let short = script("a>b INV 0; b>a INV200 100 150 400; a>b ACK2 500");
    let found = run_rows(&GROUP, &short, Transport::Udp, &tol);
    assert_eq!(ids(&found), ["tx.retransmit.2xx-interval"]);
}

#[test]
fn a_missing_2xx_retransmission_is_blamed_on_the_uas_not_on_the_proxy() {
    let inv_p = msg("INVITE sip:b@x SIP/2.0", "p", "2", "1 INVITE", "");
    let rows = vec![
        (0, "a", "p", kind("INV")),
        (10, "p", "b", inv_p),
        (
            100,
            "b",
            "p",
            msg("SIP/2.0 200 OK", "p", "2", "1 INVITE", "t"),
        ),
        (110, "p", "a", kind("INV200")),
        (3000, "b", "a", kind("LATER")),
    ];
    let f = check(&rows);
    assert_eq!(ids(&f), ["tx.retransmit.2xx-missing"]);
    assert_eq!(f[0].message_index, 2);
}
