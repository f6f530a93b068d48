//! The check: every run of a result set against the expectation of its target and scenario.
//! A change is any difference, in either direction; entries that apply to no scenario of the
//! plan are only noted (a shard, or a plan of a few scenarios, runs a subset).

use super::{Expectation, Expectations};
use crate::report::model::{ResultSet, RunRecord};
use crate::scenario::Located;
use std::collections::{BTreeSet, HashMap};
use std::fmt;

/// What a check found.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Runs not as expected, in run order, then targets without expectations.
    pub changes: Vec<Change>,
    /// Entries that apply to no scenario of the plan: warnings, not failures.
    pub stale: Vec<Stale>,
    /// Runs that passed, as expected.
    pub passed: usize,
    /// Runs that did not pass, exactly as expected.
    pub known: usize,
}

/// A difference from the expectations; each fails the check.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Run(Box<RunChange>),
    /// Runs of a target no expectation file names.
    NoExpectations {
        target: String,
        runs: usize,
    },
}

/// A run whose outcome is not the expected one.
#[derive(Clone, Debug, PartialEq)]
pub struct RunChange {
    pub target: String,
    pub scenario: String,
    pub repetition: u32,
    /// The expectation file of the target.
    pub file: String,
    /// The entry that applies; `None`: no entry matches, so a pass was expected.
    pub entry: Option<Expectation>,
    pub got: Outcome,
    /// What differs (a different verdict alone when the verdicts differ).
    pub differences: Vec<Difference>,
}

/// What a run gave, in the terms of an expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// `pass`, `fail`, `inconclusive`, `error`.
    pub verdict: String,
    /// The report class: `pass`, `transaction`, `sequence`, `spec`, `unclassified`,
    /// `inconclusive`, `error`.
    pub class: String,
    /// The rules of the findings of severity error, and the rule the verdict leads with.
    pub rules: BTreeSet<String>,
    /// For a fail, what came instead (`actual`); else the reason; one line.
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Difference {
    Verdict,
    Level,
    /// `missing`: expected rules the run does not have; `extra`: rules it has besides.
    Rules {
        missing: Vec<String>,
        extra: Vec<String>,
    },
    /// The entry's `match` text is nowhere in the run.
    Match,
}

/// An entry that applies to no scenario of the plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Stale {
    pub file: String,
    pub target: String,
    pub scenario: Located<String>,
    /// Some scenario of the plan matches it, but an earlier entry takes each of them.
    pub shadowed: bool,
}

/// Checks every run of `results` against the expectations of its target (first matching
/// entry; no entry: pass). A target of the results with no expectations is one change.
pub fn compare(results: &ResultSet, exp: &[Expectations]) -> Comparison {
    let by_target: HashMap<&str, &Expectations> =
        exp.iter().map(|x| (x.target.as_str(), x)).collect();
    let mut out = Comparison {
        changes: Vec::new(),
        stale: Vec::new(),
        passed: 0,
        known: 0,
    };
    let mut unchecked: HashMap<&str, usize> = HashMap::new();
    for r in &results.runs {
        let Some(x) = by_target.get(r.target.as_str()) else {
            *unchecked.entry(r.target.as_str()).or_default() += 1;
            continue;
        };
        let entry = x.entry_for(&r.scenario);
        let differences = differences(r, entry);
        if !differences.is_empty() {
            out.changes.push(Change::Run(Box::new(RunChange {
                target: r.target.clone(),
                scenario: r.scenario.clone(),
                repetition: r.repetition,
                file: x.file.clone(),
                entry: entry.cloned(),
                got: Outcome::of(r),
                differences,
            })));
        } else if r.verdict == "pass" {
            out.passed += 1;
        } else {
            out.known += 1;
        }
    }
    let mut targets: Vec<&str> = results.targets.iter().map(String::as_str).collect();
    targets.extend(results.runs.iter().map(|r| r.target.as_str()));
    let mut said = BTreeSet::new();
    for t in targets {
        if let Some(&runs) = unchecked.get(t).filter(|_| said.insert(t)) {
            let target = t.to_string();
            out.changes.push(Change::NoExpectations { target, runs });
        }
    }
    out.stale = stale(results, exp);
    out
}

/// How a run differs from what the entry (none: a pass) expects.
fn differences(r: &RunRecord, entry: Option<&Expectation>) -> Vec<Difference> {
    let Some(e) = entry else {
        return if r.verdict == "pass" {
            Vec::new()
        } else {
            vec![Difference::Verdict]
        };
    };
    if r.verdict != e.verdict.as_str() {
        return vec![Difference::Verdict];
    }
    let mut d = Vec::new();
    if e.level.is_some_and(|l| l.as_str() != r.class()) {
        d.push(Difference::Level);
    }
    if let Some(want) = &e.rules {
        let got = run_rules(r);
        if &got != want {
            d.push(Difference::Rules {
                missing: want.difference(&got).cloned().collect(),
                extra: got.difference(want).cloned().collect(),
            });
        }
    }
    if e.matches.as_deref().is_some_and(|m| !mentions(r, m)) {
        d.push(Difference::Match);
    }
    d
}

/// The run's failing rules: those of its findings of severity error, and its verdict's rule.
pub fn run_rules(r: &RunRecord) -> BTreeSet<String> {
    let mut rules: BTreeSet<String> = r
        .findings
        .iter()
        .filter(|f| f.severity == "error")
        .map(|f| f.rule.clone())
        .collect();
    rules.extend(r.rule.clone());
    rules
}

/// Whether `text` is in the run's reason, expected or actual text, a finding's texts, or a
/// message a finding points at.
fn mentions(r: &RunRecord, text: &str) -> bool {
    let own = [&r.reason, &r.expected, &r.actual];
    if own.into_iter().flatten().any(|s| s.contains(text)) {
        return true;
    }
    let messages = r
        .trace
        .as_ref()
        .map(|t| t.messages.as_slice())
        .unwrap_or(&[]);
    r.findings.iter().any(|f| {
        f.expected.contains(text)
            || f.actual.contains(text)
            || f.cause.as_deref().is_some_and(|c| c.contains(text))
            || f.evidence
                .iter()
                .filter_map(|&i| messages.get(i))
                .any(|m| m.raw.contains(text))
    })
}

/// Entries of the targets in the plan that no scenario of the plan gets.
fn stale(results: &ResultSet, exp: &[Expectations]) -> Vec<Stale> {
    let mut out = Vec::new();
    for x in exp.iter().filter(|x| results.targets.contains(&x.target)) {
        let used: BTreeSet<usize> = results
            .scenarios
            .iter()
            .filter_map(|s| {
                let e = x.entry_for(&s.name)?;
                x.entries.iter().position(|y| std::ptr::eq(y, e))
            })
            .collect();
        for (i, e) in x.entries.iter().enumerate() {
            if used.contains(&i) {
                continue;
            }
            let shadowed = results
                .scenarios
                .iter()
                .any(|s| super::glob_match(&e.scenario, &s.name));
            out.push(Stale {
                file: x.file.clone(),
                target: x.target.value.clone(),
                scenario: e.scenario.clone(),
                shadowed,
            });
        }
    }
    out
}

impl Outcome {
    pub fn of(r: &RunRecord) -> Outcome {
        let detail = match r.verdict.as_str() {
            "pass" => String::new(),
            "fail" => r
                .actual
                .clone()
                .or_else(|| r.lead().map(|f| f.actual.clone()))
                .unwrap_or_default(),
            _ => r.reason.clone().unwrap_or_default(),
        };
        Outcome {
            verdict: r.verdict.clone(),
            class: r.class().to_string(),
            rules: run_rules(r),
            detail: one_line(&detail, 160),
        }
    }
}

/// The first line of `s`, cut to `max` characters.
fn one_line(s: &str, max: usize) -> String {
    let line = s.lines().next().unwrap_or("").trim();
    if line.chars().count() <= max {
        return line.to_string();
    }
    let cut: String = line.chars().take(max - 1).collect();
    format!("{cut}…")
}

impl Comparison {
    /// Runs not as expected, those of targets without expectations included.
    pub fn changed_runs(&self) -> usize {
        self.changes
            .iter()
            .map(|c| match c {
                Change::Run(_) => 1,
                Change::NoExpectations { runs, .. } => *runs,
            })
            .sum()
    }

    /// `N runs as expected (P pass, K known non-pass), M changed[, S stale entries]`.
    pub fn summary_line(&self) -> String {
        let ok = self.passed + self.known;
        let mut s = format!(
            "{ok} {} as expected ({} pass, {} known non-pass), {} changed",
            if ok == 1 { "run" } else { "runs" },
            self.passed,
            self.known,
            self.changed_runs()
        );
        match self.stale.len() {
            0 => {}
            1 => s.push_str(", 1 stale entry"),
            n => s.push_str(&format!(", {n} stale entries")),
        }
        s
    }
}

/// `pass`, `fail [sequence: a, b]`, `error`, `inconclusive [a]`.
fn verdict_text(verdict: &str, level: Option<&str>, rules: Option<&BTreeSet<String>>) -> String {
    let list = rules.map(|r| match r.is_empty() {
        true => "no rule".to_string(),
        false => r.iter().cloned().collect::<Vec<_>>().join(", "),
    });
    match (level, list) {
        (Some(l), Some(list)) => format!("{verdict} [{l}: {list}]"),
        (Some(l), None) => format!("{verdict} [{l}]"),
        (None, Some(list)) => format!("{verdict} [{list}]"),
        (None, None) => verdict.to_string(),
    }
}

impl fmt::Display for RunChange {
    /// `target scenario: expected fail [sequence: r] (reason), got pass [file:line:column]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.target, self.scenario)?;
        if self.repetition > 1 {
            write!(f, "#{}", self.repetition)?;
        }
        match &self.entry {
            None => write!(f, ": expected pass (no entry)")?,
            Some(e) => {
                let level = e.level.map(|l| l.as_str());
                let v = verdict_text(e.verdict.as_str(), level, e.rules.as_ref());
                write!(f, ": expected {v}")?;
                if let Some(m) = &e.matches {
                    write!(f, " matching {m:?}")?;
                }
                if let Some(r) = &e.reason {
                    write!(f, " ({r})")?;
                }
            }
        }
        let g = &self.got;
        let fail = g.verdict == "fail";
        let level = fail.then_some(g.class.as_str());
        let rules = (fail || (g.verdict != "pass" && !g.rules.is_empty())).then_some(&g.rules);
        write!(f, ", got {}", verdict_text(&g.verdict, level, rules))?;
        if !g.detail.is_empty() {
            write!(f, " ({})", g.detail)?;
        }
        let mut notes: Vec<String> = self.differences.iter().filter_map(note).collect();
        if let Some(m) = self.entry.as_ref().and_then(|e| e.matches.as_ref()) {
            if self.differences.contains(&Difference::Match) {
                notes.push(format!("no {m:?} in the run"));
            }
        }
        if !notes.is_empty() {
            write!(f, ": {}", notes.join("; "))?;
        }
        match &self.entry {
            Some(e) => write!(
                f,
                " [{}:{}:{}]",
                self.file, e.scenario.line, e.scenario.column
            ),
            None => write!(f, " [{}]", self.file),
        }
    }
}

fn note(d: &Difference) -> Option<String> {
    match d {
        Difference::Verdict => None,
        Difference::Level => Some("the level differs".into()),
        Difference::Rules { missing, extra } => {
            let mut parts = Vec::new();
            if !extra.is_empty() {
                parts.push(format!("new {}", extra.join(", ")));
            }
            if !missing.is_empty() {
                parts.push(format!("gone {}", missing.join(", ")));
            }
            Some(format!("the rules differ ({})", parts.join("; ")))
        }
        Difference::Match => None,
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Run(c) => c.fmt(f),
            Change::NoExpectations { target, runs } => write!(
                f,
                "{target}: no expectations for this target ({runs} runs not checked); write \
                 an expectation file with `target: {target}`"
            ),
        }
    }
}

impl fmt::Display for Stale {
    /// `file:line:column: warning: ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.scenario;
        write!(
            f,
            "{}:{}:{}: warning: `{}` applies to no scenario of the plan for `{}`",
            self.file, s.line, s.column, s.value, self.target
        )?;
        if self.shadowed {
            write!(f, " (earlier entries take every scenario it matches)")?;
        }
        Ok(())
    }
}
