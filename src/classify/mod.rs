//! The classifier: every failure of a run, and every difference from its golden transcript,
//! becomes a finding at one of three levels (README, `docs/classification.md`):
//!
//! - **transaction**: the SIP stack reads RFC 3261 differently. These are the transaction
//!   checker's findings (`tx.*`, `crate::check`); the classifier only decides whether one of
//!   them explains the failing step.
//! - **sequence**: the feature is realised with another call flow: a hold answered
//!   sendrecv, a transfer without NOTIFY, an offer refused where the RFC lets it come late,
//!   messages missing, extra or reordered (`seq.*`, [`rules`]).
//! - **spec**: a capability claimed and not delivered: a 405/501/420/489/415/488 to what the
//!   target lists in Allow, Supported, Allow-Events, Accept or its own SDP, a Session-Expires
//!   left out although Supported lists timer (`spec.*`).
//!
//! Sans-IO like the rest of the core: it reads a [`Trace`], the scenario's facts and the
//! failing step, and returns findings; nothing in it waits or reads a clock. The same input
//! from a live run or from a capture of it gives the same findings.
//!
//! What is *not* a finding about the target gets no level: the engine's own notes
//! (`engine.*`) and step failures that say the scenario could not be played as written
//! (`scenario.run.deadline`, `scenario.variable.unset`, `scenario.*.nothing-to-*`,
//! `scenario.dialog.unusable`) unless a finding about the target explains them. Every other
//! step failure (`scenario.expect.*`, `scenario.not.arrived`, `scenario.auth.challenge`, the
//! engine's `spec.*`) is the target's doing and always gets a level: the most precise rule
//! that explains it, else a `seq.flow.*` rule.

pub mod attach;
pub mod rules;
mod sequence;
mod spec;
mod step;
mod view;

use crate::check;
use crate::rule::{Level, Rule, Severity};
use crate::scenario::{Capability, Step};
use crate::trace::Trace;

/// Everything the classifier looks at for one run.
pub struct Input<'a> {
    pub trace: &'a Trace,
    /// For each message of `trace`: whether the target sent it.
    pub by_target: &'a [bool],
    /// The scenario's `target.needs`.
    pub needs: &'a [Capability],
    /// The scenario's tags (the feature: `hold`, `transfer`, ...).
    pub tags: &'a [String],
    /// The step that stopped the run, if one did.
    pub failure: Option<StepFailure<'a>>,
    /// The transaction checker's findings over `trace`.
    pub checked: &'a [check::Finding],
    /// Differences from the golden transcript, when there is one.
    pub golden: &'a [FlowDifference],
}

/// A step that stopped the run (`crate::engine::exec`).
pub struct StepFailure<'a> {
    /// The engine's id: `scenario.expect.mismatch`, `scenario.expect.timeout`, ...
    pub cause: &'a str,
    pub expected: &'a str,
    pub actual: &'a str,
    /// The step as written.
    pub step: Option<&'a Step>,
    /// The message (index in the trace) the step got instead of what it waited for.
    pub arrival: Option<usize>,
}

/// One difference between a run's transcript and its golden transcript, by message index
/// (the transcript's aligned diff, `crate::transcript::diff`, gives these).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowDifference {
    /// A golden line with no counterpart; `near`: the run's message where it was due.
    Missing { golden: String, near: Option<usize> },
    /// A message of the run with no counterpart in the golden.
    Extra { index: usize },
    /// A message of the run matched out of order.
    Reordered { index: usize },
    /// A message matched, with other content.
    Changed { index: usize, what: String },
}

/// A finding of the classifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classified {
    pub rule: &'static Rule,
    pub expected: String,
    pub actual: String,
    /// Messages that show it (indexes into the trace), the decisive one first.
    pub evidence: Vec<usize>,
}

/// What explains the step failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Explained {
    /// No step failed.
    Nothing,
    /// The classifier's finding at this index of [`Classification::findings`].
    Finding(usize),
    /// The checker's finding at this index of [`Input::checked`].
    Checker(usize),
    /// The failure is not about the target (see the module documentation): no level.
    NotTarget,
}

/// The classifier's answer for one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classification {
    pub findings: Vec<Classified>,
    pub failure: Explained,
}

/// Step failures that are about the scenario or the engine, not the target.
pub const NOT_TARGET: &[&str] = &[
    "scenario.run.deadline",
    "scenario.variable.unset",
    "scenario.ack.nothing-to-ack",
    "scenario.cancel.nothing-to-cancel",
    "scenario.send.nothing-to-answer",
    "scenario.dialog.unusable",
];

/// Classifies one run. Findings come in trace order within each scan; the caller sorts by
/// level ([`lead_order`]).
pub fn classify(input: &Input<'_>) -> Classification {
    let mut out = Vec::new();
    spec::refusals(input, &mut out);
    spec::session_timer(input, &mut out);
    sequence::reinvite_491(input, &mut out);
    sequence::hold_answers(input, &mut out);
    sequence::transfers(input, &mut out);
    step::golden(input, &mut out);
    // A retransmitted response repeats a finding: one per rule and request.
    let mut seen = std::collections::HashSet::new();
    out.retain(|c| seen.insert((c.rule.id, c.evidence.last().copied())));
    let failure = match &input.failure {
        None => Explained::Nothing,
        Some(f) => step::explain(input, f, &mut out),
    };
    Classification {
        findings: out,
        failure,
    }
}

/// The order findings are reported in: transaction, sequence, spec, then what has no level;
/// within a level errors before warnings. The verdict leads with the first (a broken stack
/// turns later differences into noise).
pub fn lead_order(level: Option<Level>, severity: Severity) -> (u8, std::cmp::Reverse<Severity>) {
    let l = match level {
        Some(Level::Transaction) => 0,
        Some(Level::Sequence) => 1,
        Some(Level::Spec) => 2,
        None => 3,
    };
    (l, std::cmp::Reverse(severity))
}

/// A message's start line (how a failing step's arrival is found in the trace).
pub fn first_line(m: &crate::sip::message::Message) -> String {
    let b = m.to_bytes();
    let end = b
        .iter()
        .position(|&c| c == b'\r' || c == b'\n')
        .unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Every rule the classifier can name (for the catalogue).
pub fn all_rules() -> &'static [&'static Rule] {
    rules::RULES
}
