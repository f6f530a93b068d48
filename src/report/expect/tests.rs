//! Loading and comparing on values built here (the CLI and real runs: tests/expectations.rs).

use super::*;
use crate::report::model::{FindingRecord, ResultSet, RunRecord, ScenarioRef};

fn finding(rule: &str, level: Option<&str>, severity: &str, actual: &str) -> FindingRecord {
    FindingRecord {
        level: level.map(str::to_string),
        source: "classifier".into(),
        rule: rule.into(),
        rfc: None,
        severity: severity.into(),
        step: None,
        expected: String::new(),
        actual: actual.into(),
        evidence: Vec::new(),
        cause: None,
    }
}

/// A run; a fail leads with the first finding that has a level.
fn run(target: &str, scenario: &str, verdict: &str, findings: Vec<FindingRecord>) -> RunRecord {
    let lead = findings.iter().find(|f| f.level.is_some()).cloned();
    RunRecord {
        scenario: scenario.into(),
        source: format!("scenarios/{scenario}.yaml"),
        target: target.into(),
        repetition: 1,
        call_id: String::new(),
        verdict: verdict.into(),
        step: None,
        expected: None,
        actual: (verdict == "fail").then(|| "404 Not Found (to OPTIONS, CSeq 1)".into()),
        reason: (verdict == "error").then(|| "the target did not start".into()),
        level: lead.as_ref().and_then(|f| f.level.clone()),
        rule: lead.map(|f| f.rule),
        findings,
        duration_ms: 1,
        messages: 2,
        started_at_ms: 0,
        trace: None,
        golden: None,
        transcript: String::new(),
    }
}

fn set(runs: Vec<RunRecord>) -> ResultSet {
    let mut s = ResultSet {
        format: crate::report::model::FORMAT.into(),
        generator: String::new(),
        shard: None,
        targets: Vec::new(),
        scenarios: Vec::new(),
        runs,
        summary: Default::default(),
        classes: Default::default(),
    };
    for r in &s.runs {
        if !s.targets.contains(&r.target) {
            s.targets.push(r.target.clone());
        }
        let sc = ScenarioRef {
            name: r.scenario.clone(),
            source: r.source.clone(),
        };
        if !s.scenarios.contains(&sc) {
            s.scenarios.push(sc);
        }
    }
    s
}

const DEV: &str = "\
target: dev
version: dev 1.0
expect:
  - scenario: options-query
    verdict: fail
    level: sequence
    rules: [seq.flow.unexpected]
    match: \"404\"
    reason: answers 404 to an OPTIONS for a user it does not have
  - scenario: \"hold-*\"
    verdict: fail
    level: spec
    rules: [spec.allow.not-allowed]
    reason: no hold
  - scenario: boom
    verdict: error
    reason: crashes
";

fn dev() -> Vec<Expectations> {
    vec![load_str(DEV, "dev.yaml").unwrap()]
}

fn unexpected() -> FindingRecord {
    finding(
        "seq.flow.unexpected",
        Some("sequence"),
        "error",
        "404 Not Found",
    )
}

fn not_allowed() -> FindingRecord {
    finding("spec.allow.not-allowed", Some("spec"), "error", "405")
}

#[test]
fn runs_as_expected_are_no_change() {
    let s = set(vec![
        run("dev", "options-query", "fail", vec![unexpected()]),
        run("dev", "hold-sendonly", "fail", vec![not_allowed()]),
        run("dev", "basic-call", "pass", vec![]),
        run("dev", "boom", "error", vec![]),
    ]);
    let c = compare(&s, &dev());
    assert!(c.changes.is_empty(), "{:?}", c.changes);
    assert_eq!((c.passed, c.known), (1, 3));
    assert_eq!(
        c.summary_line(),
        "4 runs as expected (1 pass, 3 known non-pass), 0 changed"
    );
}

fn only_change(c: &Comparison) -> &RunChange {
    assert_eq!(c.changes.len(), 1, "{:?}", c.changes);
    match &c.changes[0] {
        Change::Run(r) => r,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_known_fail_that_passes_is_a_change() {
    let s = set(vec![run("dev", "options-query", "pass", vec![])]);
    let c = compare(&s, &dev());
    let ch = only_change(&c);
    assert_eq!(ch.differences, vec![Difference::Verdict]);
    assert_eq!(
        ch.to_string(),
        "dev options-query: expected fail [sequence: seq.flow.unexpected] matching \"404\" \
         (answers 404 to an OPTIONS for a user it does not have), got pass [dev.yaml:4:15]"
    );
    assert_eq!(c.changed_runs(), 1);
}

#[test]
fn a_pass_that_fails_is_a_change() {
    let s = set(vec![run("dev", "basic-call", "fail", vec![unexpected()])]);
    let c = compare(&s, &dev());
    let ch = only_change(&c);
    assert!(ch.entry.is_none());
    assert_eq!(
        ch.to_string(),
        "dev basic-call: expected pass (no entry), got fail [sequence: seq.flow.unexpected] \
         (404 Not Found (to OPTIONS, CSeq 1)) [dev.yaml]"
    );
}

#[test]
fn other_rules_level_or_text_are_changes() {
    let tx = finding("tx.response.no-to-tag", Some("transaction"), "error", "x");
    let warn = finding("engine.dialog.note", None, "warning", "x");
    let s = set(vec![
        // A new rule at a lower level: both the level and the rules differ.
        run("dev", "options-query", "fail", vec![tx, unexpected()]),
        // Warnings do not count.
        run("dev", "hold-a", "fail", vec![not_allowed(), warn]),
        // The rules but not the text.
        run("dev", "options-query", "fail", vec![unexpected()]),
    ]);
    let mut s = s;
    s.runs[2].actual = Some("408 Request Timeout".into());
    s.runs[2].findings[0].actual = "408".into();
    s.runs[2].repetition = 2;
    let c = compare(&s, &dev());
    assert_eq!(c.changes.len(), 2, "{:?}", c.changes);
    let Change::Run(a) = &c.changes[0] else {
        panic!()
    };
    assert_eq!(
        a.differences,
        vec![
            Difference::Level,
            Difference::Rules {
                missing: vec![],
                extra: vec!["tx.response.no-to-tag".into()]
            }
        ]
    );
    assert!(a.to_string().contains(
        "got fail [transaction: seq.flow.unexpected, tx.response.no-to-tag] (404 Not Found \
         (to OPTIONS, CSeq 1)): the level differs; the rules differ (new tx.response.no-to-tag)"
    ));
    let Change::Run(b) = &c.changes[1] else {
        panic!()
    };
    assert_eq!(b.differences, vec![Difference::Match]);
    assert!(b.to_string().starts_with("dev options-query#2: "), "{b}");
    assert!(b.to_string().contains("no \"404\" in the run"), "{b}");
}

#[test]
fn targets_without_expectations_fail_and_stale_entries_warn() {
    let s = set(vec![
        run("dev", "options-query", "fail", vec![unexpected()]),
        run("other", "options-query", "pass", vec![]),
        run("other", "basic-call", "pass", vec![]),
    ]);
    let c = compare(&s, &dev());
    assert_eq!(
        c.changes,
        vec![Change::NoExpectations {
            target: "other".into(),
            runs: 2
        }]
    );
    assert_eq!(c.changed_runs(), 2);
    // `hold-*` and `boom` apply to no scenario of this plan.
    let stale: Vec<&str> = c.stale.iter().map(|s| s.scenario.as_str()).collect();
    assert_eq!(stale, ["hold-*", "boom"]);
    assert_eq!(
        c.stale[0].to_string(),
        "dev.yaml:10:15: warning: `hold-*` applies to no scenario of the plan for `dev`"
    );
    assert_eq!(
        c.summary_line(),
        "1 run as expected (0 pass, 1 known non-pass), 2 changed, 2 stale entries"
    );
}

#[test]
fn expectations_of_targets_not_in_the_plan_are_ignored() {
    let s = set(vec![run("other", "basic-call", "pass", vec![])]);
    let c = compare(&s, &dev());
    assert!(c.stale.is_empty());
    assert_eq!(c.changes.len(), 1);
}

#[test]
fn the_summary_counts_classes_per_target() {
    let s = set(vec![
        run("dev", "options-query", "fail", vec![unexpected()]),
        run("dev", "basic-call", "pass", vec![]),
        run("dev", "boom", "error", vec![]),
        run("dev", "odd", "fail", vec![]),
        run("x|y", "basic-call", "pass", vec![]),
    ]);
    let rows = summary_table(&s, &dev());
    assert_eq!(rows.len(), 2);
    let d = &rows[0];
    assert_eq!(d.version.as_deref(), Some("dev 1.0"));
    assert_eq!(
        (d.runs, d.pass, d.sequence, d.unclassified, d.error),
        (4, 1, 1, 1, 1)
    );
    let md = summary_markdown(&rows);
    assert!(
        md.contains("\n| dev | dev 1.0 | 4 | 1 | 0 | 1 | 0 | 1 | 0 | 1 |\n"),
        "{md}"
    );
    assert!(md.contains("\n| x\\|y | – | 1 | 1 |"), "{md}");
}

#[test]
fn loading_checks_every_entry() {
    let e = load_str(DEV, "dev.yaml").unwrap();
    assert_eq!(e.target.value, "dev");
    assert_eq!(e.entries.len(), 3);
    assert_eq!(e.entries[0].level, Some(Level::Sequence));
    assert_eq!(e.entries[2].rules, None);
    let bad = "target: dev\nexpect:\n  - scenario: a\n    verdict: inconclusive\n";
    let errs = load_str(bad, "x.yaml").unwrap_err();
    assert_eq!(errs.len(), 1);
    assert_eq!((errs[0].line, errs[0].column), (3, 5));
    assert_eq!(errs[0].kind, LoadErrorKind::MissingKey);
    assert!(errs[0]
        .to_string()
        .starts_with("x.yaml:3:5: missing required key `reason`"));
    let none = load_str("target: dev\n", "y.yaml").unwrap();
    assert!(none.entries.is_empty());
}
