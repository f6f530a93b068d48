//! The classifier's findings joined to a run's: the failing step's own finding is replaced by
//! the finding that explains it (which takes the step and the engine's id as its `cause`),
//! the classifier's findings are added, and all are put in lead order (transaction,
//! sequence, spec, then what has no level). Pure: the engine calls it for live runs and for
//! captures replayed against a scenario alike.

use super::{classify, lead_order, Explained, Input, StepFailure};
use crate::check;
use crate::engine::verdict::{Arrived, Finding};
use crate::rule::Severity;
use crate::scenario::Scenario;
use crate::trace::Trace;

/// Classifies a run. `findings` holds the run's findings, the checker's `checked` among them
/// from position `checked_at` on, in the same order.
pub fn attach(
    sc: &Scenario,
    findings: &mut Vec<Finding>,
    trace: &Trace,
    by_target: &[bool],
    checked: &[check::Finding],
    checked_at: usize,
) {
    let pos = findings.iter().position(|f| f.is_step_failure());
    let failing = pos.map(|p| findings[p].clone());
    let arrival = failing
        .as_ref()
        .and_then(|f| f.arrival.as_ref())
        .and_then(|a| resolve(trace, by_target, a));
    let step = failing
        .as_ref()
        .and_then(|f| f.step.as_ref())
        .and_then(|s| sc.steps.get(s.index.checked_sub(1)?))
        .map(|l| &l.value);
    let input = Input {
        trace,
        by_target,
        needs: &sc.target.needs,
        tags: &sc.tags,
        failure: failing.as_ref().map(|f| StepFailure {
            cause: &f.rule,
            expected: &f.expected,
            actual: &f.actual,
            step,
            arrival,
        }),
        checked,
        golden: &[],
    };
    let c = classify(&input);
    let mut added: Vec<Finding> = c.findings.iter().map(Finding::classified).collect();
    let explains = |f: &mut Finding| {
        if let Some(s) = &failing {
            f.step = s.step.clone();
            f.cause = Some(s.rule.clone());
        }
    };
    let explained = match c.failure {
        Explained::Finding(n) => {
            if let Some(f) = added.get_mut(n) {
                explains(f);
            }
            true
        }
        Explained::Checker(k) => {
            if let Some(f) = findings.get_mut(checked_at + k) {
                explains(f);
            }
            true
        }
        Explained::Nothing | Explained::NotTarget => false,
    };
    if explained {
        if let Some(p) = pos {
            findings.remove(p);
        }
    }
    findings.extend(added);
    findings.sort_by_key(|f| lead_order(f.level, severity(&f.severity)));
}

/// The trace index of the message a failing step got: the target's message with that start
/// line nearest in time.
fn resolve(trace: &Trace, by_target: &[bool], a: &Arrived) -> Option<usize> {
    trace
        .messages
        .iter()
        .enumerate()
        .filter(|(i, m)| {
            by_target.get(*i).copied().unwrap_or(false)
                && super::first_line(&m.message) == a.first_line
        })
        .min_by_key(|(_, m)| m.time.abs_diff(a.at))
        .map(|(i, _)| i)
}

fn severity(s: &str) -> Severity {
    match s {
        "error" => Severity::Error,
        "warning" => Severity::Warning,
        _ => Severity::Info,
    }
}
