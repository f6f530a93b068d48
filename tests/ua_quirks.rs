//! Every quirk of the reference UA is revealed by the scenario library, and only by the
//! scenarios written to reveal it: for each quirk in `siptest ua --list-quirks --format json`,
//! the library runs against `builtin?quirk=NAME` and the set of scenarios that do not pass
//! must equal the table below (docs/library.md has the same table, with the reasons).
//!
//! Transaction-level quirks bend every response the UA sends, so every scenario in which the
//! target answers something reveals them: their entries list the scenarios that pass instead
//! (`AllBut`: the target only sends requests there, or acts as a proxy, which forwards other
//! agents' responses and answers nothing itself).

mod common;

use common::runs::{catalogue, on_workers, Subject};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Which scenarios a quirk makes fail (verdict `fail`; anything but `pass` counts as revealed,
/// and a revealed scenario must end `fail`).
enum Reveal {
    /// Exactly these.
    Only(&'static [&'static str]),
    /// Every scenario but these.
    AllBut(&'static [&'static str]),
}
use Reveal::{AllBut, Only};

const TABLE: &[(&str, Reveal)] = &[
    ("408-to-non-invite", Only(&["non-invite-rfc4320-no-answer"])),
    (
        "180-to-message",
        Only(&["non-invite-message", "non-invite-message-415"]),
    ),
    (
        "early-100-non-invite",
        AllBut(&[
            "basic-call-uas",
            "call-busy-486",
            "call-cancel-200-race",
            "call-cancel-before-answer",
            "call-decline-603",
            "call-uas-basic",
            "non-invite-unknown-require-420",
            "proxy-basic-call",
            "proxy-cancel-forwarding",
            "proxy-late-response",
            "proxy-sdp-application-passthrough",
            "proxy-second-final-response",
            "raw-negative-content-length",
            "register-by-target",
        ]),
    ),
    ("no-2xx-retransmission", Only(&["call-2xx-retransmission"])),
    (
        "wrong-via-branch",
        AllBut(&[
            "basic-call-uas",
            "call-uas-basic",
            "non-invite-rfc4320-no-answer",
            "proxy-basic-call",
            "proxy-cancel-forwarding",
            "proxy-late-response",
            "proxy-sdp-application-passthrough",
            "proxy-second-final-response",
            "register-by-target",
        ]),
    ),
    (
        "no-to-tag",
        AllBut(&[
            "basic-call-uas",
            "call-late-offer-uas",
            "call-uas-basic",
            "ext-prack-by-target",
            "non-invite-rfc4320-no-answer",
            "proxy-basic-call",
            "proxy-cancel-forwarding",
            "proxy-late-response",
            "proxy-sdp-application-passthrough",
            "proxy-second-final-response",
            "register-by-target",
        ]),
    ),
    (
        "wrong-content-length",
        AllBut(&[
            "basic-call-uas",
            "call-uas-basic",
            "non-invite-rfc4320-no-answer",
            "proxy-basic-call",
            "proxy-cancel-forwarding",
            "proxy-late-response",
            "proxy-sdp-application-passthrough",
            "proxy-second-final-response",
            "register-by-target",
        ]),
    ),
    (
        "cseq-not-copied",
        AllBut(&[
            "basic-call-uas",
            "call-uas-basic",
            "non-invite-rfc4320-no-answer",
            "proxy-basic-call",
            "proxy-cancel-forwarding",
            "proxy-late-response",
            "proxy-sdp-application-passthrough",
            "proxy-second-final-response",
            "register-by-target",
        ]),
    ),
    (
        "to-tag-changes",
        Only(&[
            "basic-call-uac",
            "call-2xx-retransmission",
            "call-cancel-200-race",
            "call-late-offer-uac",
            "call-pcma-only",
            "call-uac-basic",
            "ext-prack-with-sdp",
            "ext-prack-without-sdp",
            "ext-reinvite-glare",
            "ext-session-timer",
            "ext-update-early-dialog",
            "hold-inactive-by-target",
            "hold-inactive-uac",
            "hold-sendonly",
            "hold-sendonly-by-target",
            "hold-sendonly-uac",
            "hold-zero-connection-by-target",
            "hold-zero-connection-uac",
            "non-invite-info-in-dialog",
            "transfer-attended-replaces",
            "transfer-blind-transferee",
            "transfer-blind-transferor",
            "transfer-refer-no-subscription",
        ]),
    ),
    (
        "forwards-late-responses",
        Only(&["proxy-second-final-response"]),
    ),
    (
        "hold-answered-sendrecv",
        Only(&["hold-inactive-uac", "hold-sendonly", "hold-sendonly-uac"]),
    ),
    (
        "hold-zero-connection-only",
        Only(&["hold-inactive-by-target", "hold-sendonly-by-target"]),
    ),
    ("unhold-requires-sdp", Only(&["hold-zero-connection-uac"])),
    ("refer-without-notify", Only(&["transfer-blind-transferee"])),
    ("notify-before-202", Only(&["transfer-blind-transferee"])),
    (
        "reinvite-always-491",
        Only(&[
            "hold-inactive-uac",
            "hold-sendonly",
            "hold-sendonly-uac",
            "hold-zero-connection-uac",
        ]),
    ),
    (
        "no-late-offer",
        Only(&["call-late-offer-uac", "ext-prack-with-sdp"]),
    ),
    (
        "bye-before-transfer-notify",
        Only(&["transfer-blind-transferee"]),
    ),
    (
        "refer-in-allow-501",
        Only(&[
            "transfer-blind-transferee",
            "transfer-refer-no-subscription",
        ]),
    ),
    ("info-405", Only(&["non-invite-info-in-dialog"])),
    ("100rel-420", Only(&["ext-prack-with-sdp"])),
    (
        "replaces-unsupported",
        Only(&["transfer-attended-replaces"]),
    ),
    ("dialog-event-489", Only(&["ext-subscribe-dialog"])),
    (
        "codec-488",
        Only(&["call-pcma-only", "ext-update-early-dialog"]),
    ),
    ("sha256-unsupported", Only(&["register-digest-sha256"])),
    ("session-expires-ignored", Only(&["ext-session-timer"])),
    ("message-415", Only(&["non-invite-message"])),
];

/// The library against `builtin?quirk=QUIRK`. The table is about the scenarios' own
/// expectations: no golden transcripts here (a golden can reveal a quirk in more scenarios;
/// tests/transcripts.rs covers goldens).
fn subject(quirk: &str) -> Subject {
    Subject::new(
        format!("builtin?quirk={quirk}"),
        format!("ua-quirks/{quirk}"),
    )
    .golden_dir("ua-quirks/no-goldens")
}

/// A run as the table reads it: verdict, source, and why it did not pass.
type Run = (String, String, String);

/// The runs of a `siptest run`, by scenario name, as the table reads them.
fn summary(runs: BTreeMap<String, Value>) -> BTreeMap<String, Run> {
    let mut out = BTreeMap::new();
    for (name, r) in runs {
        let why = match r["verdict"].as_str() {
            Some("pass") => String::new(),
            _ => format!(
                "{} {}",
                r["expected"]
                    .as_str()
                    .or(r["reason"].as_str())
                    .unwrap_or(""),
                r["actual"].as_str().unwrap_or("")
            ),
        };
        out.insert(
            name,
            (
                r["verdict"].as_str().expect("verdict").to_string(),
                r["source"].as_str().expect("source").to_string(),
                why,
            ),
        );
    }
    out
}

fn expected(reveal: &Reveal, all: &BTreeSet<String>) -> BTreeSet<String> {
    match reveal {
        Only(names) => names.iter().map(|s| s.to_string()).collect(),
        AllBut(names) => all
            .iter()
            .filter(|n| !names.contains(&n.as_str()))
            .cloned()
            .collect(),
    }
}

/// Checks one quirk: the scenarios that do not pass, and the problems.
fn check_quirk(quirk: &str) -> (BTreeSet<String>, Vec<String>) {
    let subject = subject(quirk);
    let runs = summary(subject.run(&["scenarios/"]));
    let all: BTreeSet<String> = runs.keys().cloned().collect();
    let reveal = &TABLE
        .iter()
        .find(|(q, _)| *q == quirk)
        .unwrap_or_else(|| panic!("quirk `{quirk}` has no entry in TABLE"))
        .1;
    let want = expected(reveal, &all);
    let got = failing(quirk, &subject, &runs, &want);
    let mut problems = Vec::new();
    for n in got.difference(&want) {
        problems.push(format!(
            "{quirk}: {n} does not pass but the table says it should: {:?}",
            runs[n]
        ));
    }
    for n in want.difference(&got) {
        problems.push(format!(
            "{quirk}: {n} passes but the table says the quirk reveals it"
        ));
    }
    // Revealing means failing: a quirk makes the target wrong, so an inconclusive (a
    // capability it lacks) or an error (siptest's own problem) does not count.
    for n in got.intersection(&want) {
        let verdict = &runs[n].0;
        if verdict != "fail" && again_verdict(&subject, &runs[n].1) != "fail" {
            problems.push(format!(
                "{quirk}: {n} is revealed as `{verdict}`, not `fail`: {:?}",
                runs[n]
            ));
        }
    }
    if got.is_empty() {
        problems.push(format!("{quirk}: no scenario reveals it"));
    }
    (got, problems)
}

/// The scenarios of `runs` that do not pass. Those whose outcome differs from the table
/// (`want`) are played once more on their own, and only a difference that repeats counts.
fn failing(
    quirk: &str,
    subject: &Subject,
    runs: &BTreeMap<String, Run>,
    want: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut got: BTreeSet<String> = runs
        .iter()
        .filter(|(_, (v, _, _))| v != "pass")
        .map(|(n, _)| n.clone())
        .collect();
    let differing: Vec<String> = got.symmetric_difference(want).cloned().collect();
    if !differing.is_empty() {
        let sources: Vec<&str> = differing.iter().map(|n| runs[n].1.as_str()).collect();
        let again = summary(subject.replay(&sources));
        for n in &differing {
            if again.get(n).is_some_and(|(v, _, _)| v != "pass") == want.contains(n) {
                eprintln!(
                    "{quirk}: {n} differed once and not on replay: {:?}",
                    runs[n]
                );
                if want.contains(n) {
                    got.insert(n.clone());
                } else {
                    got.remove(n);
                }
            }
        }
    }
    got
}

/// The verdict of one scenario file played once more against the quirk.
fn again_verdict(subject: &Subject, source: &str) -> String {
    summary(subject.replay(&[source]))
        .into_values()
        .next()
        .map(|(v, _, _)| v)
        .unwrap_or_default()
}

#[test]
fn every_quirk_is_revealed_by_exactly_the_scenarios_in_the_table() {
    let names: Vec<String> = catalogue("--list-quirks")
        .iter()
        .map(|q| q["name"].as_str().expect("name").to_string())
        .collect();
    for (q, _) in TABLE {
        assert!(
            names.iter().any(|n| n == q),
            "TABLE names `{q}`, which is not in the catalogue"
        );
    }
    let results = on_workers(&names, |q| check_quirk(q));
    let mut problems = Vec::new();
    println!("{:<28} scenarios that do not pass", "quirk");
    for (q, (failing, p)) in names.iter().zip(&results) {
        let list: Vec<&str> = failing.iter().map(String::as_str).collect();
        println!("{q:<28} {} ({})", list.join(", "), list.len());
        problems.extend(p.iter().cloned());
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
