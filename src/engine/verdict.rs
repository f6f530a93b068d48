//! What a run ends with: exactly one [`Verdict`], the [`Finding`]s collected on the way, and
//! the [`RunResult`] the reporters consume.

use crate::check;
use crate::rule::Level;
use crate::scenario::{Located, Step};
use crate::trace::Trace;
use serde::Serialize;
use std::fmt;
use std::time::{Duration, SystemTime};

/// Which step of a scenario: its 1-based index and where it is written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepRef {
    /// 1-based position in `steps`.
    pub index: usize,
    pub line: u32,
    pub column: u32,
    /// `send`, `expect`, `one_of`, `unordered`, `wait`, `not` or `act`.
    pub kind: &'static str,
}

impl StepRef {
    pub fn of(index0: usize, step: &Located<Step>) -> StepRef {
        let kind = match &step.value {
            Step::Send(_) => "send",
            Step::Expect(_) => "expect",
            Step::OneOf(_) => "one_of",
            Step::Unordered(_) => "unordered",
            Step::Wait(_) => "wait",
            Step::Not(_) => "not",
            Step::Act(_) => "act",
        };
        StepRef {
            index: index0 + 1,
            line: step.line,
            column: step.column,
            kind,
        }
    }
}

/// `step 3 (expect, 12:5)`.
impl fmt::Display for StepRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "step {} ({}, {}:{})",
            self.index, self.kind, self.line, self.column
        )
    }
}

/// A step that did not get what it expected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub step: StepRef,
    pub expected: String,
    pub actual: String,
}

/// The outcome of one run. Inconclusive never counts as a pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// The target did something the scenario (or the RFC behind it) does not allow.
    Fail(Failure),
    /// The scenario could not be played to its end for a reason that says nothing about the
    /// target's correctness: it lacks a capability in `target.needs`, or could not be reached.
    Inconclusive {
        step: Option<StepRef>,
        reason: String,
    },
    /// siptest's own problem (a socket that would not bind, a message it could not send).
    Error {
        reason: String,
    },
}

/// The verdict's name, as in JSON and JUnit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VerdictKind {
    Pass,
    Fail,
    Inconclusive,
    Error,
}

impl VerdictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Pass => "pass",
            VerdictKind::Fail => "fail",
            VerdictKind::Inconclusive => "inconclusive",
            VerdictKind::Error => "error",
        }
    }
}

impl fmt::Display for VerdictKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Verdict {
    pub fn kind(&self) -> VerdictKind {
        match self {
            Verdict::Pass => VerdictKind::Pass,
            Verdict::Fail(_) => VerdictKind::Fail,
            Verdict::Inconclusive { .. } => VerdictKind::Inconclusive,
            Verdict::Error { .. } => VerdictKind::Error,
        }
    }

    pub fn is_pass(&self) -> bool {
        matches!(self, Verdict::Pass)
    }

    /// The step the verdict points at, if any.
    pub fn step(&self) -> Option<&StepRef> {
        match self {
            Verdict::Fail(f) => Some(&f.step),
            Verdict::Inconclusive { step, .. } => step.as_ref(),
            _ => None,
        }
    }

    /// One line: `step 3 (expect, 12:5): expected 486, got 200 OK`.
    pub fn summary(&self) -> String {
        match self {
            Verdict::Pass => String::new(),
            Verdict::Fail(f) => {
                format!("{}: expected {}; actual: {}", f.step, f.expected, f.actual)
            }
            Verdict::Inconclusive {
                step: Some(s),
                reason,
            } => format!("{s}: {reason}"),
            Verdict::Inconclusive { step: None, reason } | Verdict::Error { reason } => {
                reason.clone()
            }
        }
    }
}

/// Something worth reporting about a run: a rule the target broke (the checker's
/// transaction-level findings, the classifier's sequence- and spec-level ones,
/// `docs/classification.md`), or what is not about the target (a step failure that says the
/// scenario could not be played as written, a note of the engine): those have no level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `transaction`, `sequence` or `spec` for a finding about the target; `None` (JSON
    /// `null`) for one about the scenario or the engine.
    pub level: Option<Level>,
    /// Who found it: `checker`, `classifier`, `step` (a failing step, before it is
    /// classified, and one that is not about the target) or `engine`.
    pub source: String,
    /// A stable rule id (`seq.hold.answer-direction`, `tx.retransmit.interval`,
    /// `scenario.run.deadline`, `engine.mailbox.overflow`, ...).
    pub rule: String,
    /// The RFC section behind the rule, when there is one.
    pub rfc: Option<String>,
    pub severity: String,
    /// The failing step this finding explains.
    pub step: Option<StepRef>,
    pub expected: String,
    pub actual: String,
    /// Messages that show it: indexes into the run's trace (the order of its pcap and trace
    /// log), the decisive one first.
    pub evidence: Vec<usize>,
    /// The engine's id of the step failure this finding explains (`scenario.expect.timeout`,
    /// ...), when it explains one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// The message the failing step got instead of what it waited for (not serialised: the
    /// classifier finds it in the trace and names it in `evidence`).
    #[serde(skip)]
    pub arrival: Option<Arrived>,
}

/// A message a failing step got: when (since the run's start) and its first line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrived {
    pub at: std::time::Duration,
    pub first_line: String,
}

impl Finding {
    /// The finding a failed step stands for, before the classifier gives it a level.
    pub fn from_failure(rule: &str, f: &Failure) -> Finding {
        Finding {
            level: None,
            source: "step".into(),
            rule: rule.into(),
            rfc: None,
            severity: "error".into(),
            step: Some(f.step.clone()),
            expected: f.expected.clone(),
            actual: f.actual.clone(),
            evidence: Vec::new(),
            cause: None,
            arrival: None,
        }
    }

    /// A transaction-level checker finding over the run's merged trace.
    pub fn from_check(f: &check::Finding, trace: &Trace) -> Finding {
        let at = trace
            .messages
            .get(f.message_index)
            .map(|m| format!("message #{} ({}): ", f.message_index, m.message.summary()))
            .unwrap_or_default();
        let mut evidence = vec![f.message_index];
        evidence.extend(f.related.iter().copied().filter(|i| *i != f.message_index));
        Finding {
            level: Some(f.rule.level),
            source: "checker".into(),
            rule: f.rule.id.to_string(),
            rfc: Some(f.rule.rfc.to_string()),
            severity: f.rule.severity.to_string(),
            step: None,
            expected: f.rule.summary.to_string(),
            actual: format!("{at}{}", f.detail),
            evidence,
            cause: None,
            arrival: None,
        }
    }

    /// A sequence- or spec-level finding of the classifier.
    pub fn classified(c: &crate::classify::Classified) -> Finding {
        Finding {
            level: Some(c.rule.level),
            source: "classifier".into(),
            rule: c.rule.id.to_string(),
            rfc: Some(c.rule.rfc.to_string()),
            severity: c.rule.severity.to_string(),
            step: None,
            expected: c.expected.clone(),
            actual: c.actual.clone(),
            evidence: c.evidence.clone(),
            cause: None,
            arrival: None,
        }
    }

    /// A note of the engine itself.
    pub fn engine(rule: &str, expected: &str, actual: String) -> Finding {
        Finding {
            level: None,
            source: "engine".into(),
            rule: rule.into(),
            rfc: None,
            severity: "warning".into(),
            step: None,
            expected: expected.into(),
            actual,
            evidence: Vec::new(),
            cause: None,
            arrival: None,
        }
    }

    /// Whether it is about the target (it has a level).
    pub fn is_about_target(&self) -> bool {
        self.level.is_some()
    }

    /// The failing step's own finding, before classification.
    pub fn is_step_failure(&self) -> bool {
        self.source == "step"
    }
}

/// Everything one run of one scenario against one target produced.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// The scenario's name.
    pub scenario: String,
    /// The file it came from.
    pub source: String,
    /// The target, as `udp:HOST:PORT`.
    pub target: String,
    /// 1-based repetition number (`--repeat`).
    pub repetition: u32,
    pub call_id: String,
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
    pub duration: Duration,
    /// Messages sent and received by all agents.
    pub messages: usize,
    /// Every agent's messages, merged by time (zero is `started_at`).
    pub trace: Trace,
    /// Wall-clock time of the trace's time zero.
    pub started_at: SystemTime,
    /// The run's normalised transcript (`crate::transcript`, `docs/transcripts.md`): its
    /// parties named after the scenario's agents and `target`.
    pub transcript: crate::transcript::Transcript,
    /// The comparison with the run's golden transcript, when `siptest run` found one
    /// (`crate::transcript::golden`).
    pub golden: Option<crate::transcript::golden::GoldenOutcome>,
}

impl RunResult {
    /// The finding the verdict leads with: the first about the target (findings are in
    /// lead order: transaction, sequence, spec; `crate::classify::lead_order`).
    pub fn lead(&self) -> Option<&Finding> {
        self.findings.iter().find(|f| f.is_about_target())
    }

    /// A name for this run's files: the scenario name, `-N` for repetitions after the first.
    pub fn file_stem(&self) -> String {
        if self.repetition > 1 {
            format!("{}-{}", self.scenario, self.repetition)
        } else {
            self.scenario.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_name_the_step() {
        let step = StepRef {
            index: 3,
            line: 12,
            column: 5,
            kind: "expect",
        };
        let v = Verdict::Fail(Failure {
            step: step.clone(),
            expected: "486".into(),
            actual: "200 OK".into(),
        });
        assert_eq!(v.kind(), VerdictKind::Fail);
        assert_eq!(
            v.summary(),
            "step 3 (expect, 12:5): expected 486; actual: 200 OK"
        );
        assert_eq!(v.step(), Some(&step));
        assert!(Verdict::Pass.summary().is_empty());
        assert_eq!(
            serde_json::to_string(&VerdictKind::Inconclusive).unwrap(),
            "\"inconclusive\""
        );
    }
}
