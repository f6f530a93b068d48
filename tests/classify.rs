//! The classifier on the quirk catalogue (issue 7, "Must show"): the library runs against
//! every quirk of the reference UA, and every run a quirk makes fail is classified at the
//! quirk's labelled level, with the quirk's rule among the findings at that level. The
//! confusion matrix (labelled level x the level the verdict leads with) is printed and must
//! be diagonal. The unquirked UA and every legal variation give no finding about the target
//! at all, and every run passes.
//!
//! Slow (the library once per quirk and per variation): quirks run one at a time, as in
//! `tests/ua_quirks.rs` (`common::runs`); a run whose classification differs is played once
//! more on its own (a loaded machine can stretch a timer window past the checker's tolerance),
//! and only a difference that repeats counts.

mod common;

use common::runs::{catalogue, on_workers, Subject};
use serde_json::Value;
use std::collections::BTreeMap;

const LEVELS: [&str; 4] = ["transaction", "sequence", "spec", "none"];

/// The level a run's verdict leads with (`none` when no finding is about the target).
fn lead_level(r: &Value) -> String {
    r["level"].as_str().unwrap_or("none").to_string()
}

/// Whether `rule` is among the run's findings at `level`.
fn has_rule(r: &Value, level: &str, rule: &str) -> bool {
    r["findings"]
        .as_array()
        .is_some_and(|fs| fs.iter().any(|f| f["level"] == level && f["rule"] == rule))
}

struct Quirk {
    name: String,
    level: String,
    rule: String,
}

impl Quirk {
    /// What is wrong with a run that should show this quirk, if anything.
    fn judge(&self, r: &Value) -> Option<String> {
        if r["verdict"] == "pass" {
            return Some("passed on replay".into());
        }
        let got = lead_level(r);
        if got != self.level {
            return Some(format!(
                "led with {got} {}, labelled {} {}",
                r["rule"], self.level, self.rule
            ));
        }
        if !has_rule(r, &self.level, &self.rule) {
            return Some(format!("no finding {} at {}", self.rule, self.level));
        }
        None
    }
}

/// One classified run: scenario, the level it led with, its leading rule, and a problem.
type Outcome = (String, String, String, Option<String>);

fn check_quirk(q: &Quirk) -> Vec<Outcome> {
    let subject = Subject::new(
        format!("builtin?quirk={}", q.name),
        format!("classify/{}", q.name),
    );
    let runs = subject.run(&["scenarios/"]);
    let mut out = Vec::new();
    for (name, r) in &runs {
        if r["verdict"] == "pass" {
            continue;
        }
        let mut r = r.clone();
        let mut problem = q.judge(&r);
        if problem.is_some() {
            let again = subject.replay(&[r["source"].as_str().unwrap()]);
            if let Some(a) = again.get(name) {
                if a["verdict"] == "pass" {
                    eprintln!("{}: {name} failed once and passed on replay", q.name);
                    continue;
                }
                if q.judge(a).is_none() {
                    eprintln!("{}: {name} was misclassified once, not on replay", q.name);
                    r = a.clone();
                    problem = None;
                }
            }
        }
        out.push((
            name.clone(),
            lead_level(&r),
            r["rule"].as_str().unwrap_or("-").to_string(),
            problem.map(|p| format!("{}: {name}: {p}", q.name)),
        ));
    }
    if out.is_empty() {
        out.push((
            "-".into(),
            "none".into(),
            "-".into(),
            Some(format!("{}: no scenario reveals it", q.name)),
        ));
    }
    out
}

fn quirks() -> Vec<Quirk> {
    catalogue("--list-quirks")
        .iter()
        .map(|q| Quirk {
            name: q["name"].as_str().unwrap().to_string(),
            level: q["level"].as_str().unwrap().to_string(),
            rule: q["rule"].as_str().unwrap().to_string(),
        })
        .collect()
}

#[test]
fn every_quirk_is_classified_at_its_level_and_rule() {
    let all = quirks();
    let results = on_workers(&all, check_quirk);
    let mut matrix = [[0usize; 4]; 3];
    let mut problems = Vec::new();
    println!(
        "{:<28} {:<12} {:<36} revealing runs: lead level / rule",
        "quirk", "labelled", "rule"
    );
    for (i, q) in all.iter().enumerate() {
        let row = LEVELS.iter().position(|l| *l == q.level).expect("level");
        let mut leads: BTreeMap<String, usize> = BTreeMap::new();
        for (_, level, rule, problem) in &results[i] {
            let col = LEVELS.iter().position(|l| l == level).unwrap_or(3);
            matrix[row][col] += 1;
            *leads.entry(format!("{level} {rule}")).or_default() += 1;
            problems.extend(problem.iter().cloned());
        }
        let leads: Vec<String> = leads.iter().map(|(k, n)| format!("{k} x{n}")).collect();
        println!(
            "{:<28} {:<12} {:<36} {}",
            q.name,
            q.level,
            q.rule,
            leads.join(", ")
        );
    }
    println!(
        "\nconfusion matrix (rows: labelled level; columns: the level the verdict leads with)"
    );
    println!(
        "{:<12} {:>12} {:>12} {:>12} {:>12}",
        "", LEVELS[0], LEVELS[1], LEVELS[2], LEVELS[3]
    );
    let (mut right, mut total) = (0, 0);
    for (row, counts) in matrix.iter().enumerate() {
        println!(
            "{:<12} {:>12} {:>12} {:>12} {:>12}",
            LEVELS[row], counts[0], counts[1], counts[2], counts[3]
        );
        right += counts[row];
        total += counts.iter().sum::<usize>();
    }
    println!(
        "{right}/{total} runs classified at their labelled level ({:.1}%)",
        100.0 * right as f64 / total.max(1) as f64
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(right, total);
}

/// The unquirked UA and each legal variation: every run passes and no finding is about the
/// target (findings without a level, siptest's own notes, may be there).
#[test]
fn the_unquirked_ua_and_every_legal_variation_give_no_finding() {
    let mut targets = vec![("builtin".to_string(), "plain".to_string())];
    for v in catalogue("--list-variations") {
        let name = v["name"].as_str().unwrap();
        targets.push((format!("builtin?variation={name}"), name.to_string()));
    }
    assert!(targets.len() >= 9, "{targets:?}");
    let problems = on_workers(&targets, |(target, dir)| check_clean(target, dir)).concat();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The library against a target that should give no finding about itself: the problems.
fn check_clean(target: &str, dir: &str) -> Vec<String> {
    let subject = Subject::new(target, format!("classify/clean-{dir}"));
    let runs = subject.run(&["scenarios/"]);
    assert!(runs.len() >= 40, "{target}: {} runs", runs.len());
    let mut problems = Vec::new();
    for (name, r) in &runs {
        if r["verdict"] == "pass" && about_target(r) == 0 {
            continue;
        }
        // Once more on its own before it counts (a loaded machine).
        let again = subject.replay(&[r["source"].as_str().unwrap()]);
        let a = &again[name];
        let about_again = about_target(a);
        if a["verdict"] != "pass" || about_again > 0 {
            problems.push(format!(
                "{target}: {name}: {} with {} finding(s) about the target: {}",
                a["verdict"], about_again, a["findings"]
            ));
        } else {
            eprintln!("{target}: {name} differed once, not on replay");
        }
    }
    problems
}

/// How many of a run's findings are about the target (those with a level).
fn about_target(r: &Value) -> usize {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["level"].is_null())
        .count()
}
