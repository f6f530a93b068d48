//! The transaction-level checker: it watches a two-sided message stream (a [`Trace`], live or
//! captured), rebuilds the transactions in it, and names every transaction-level rule a party
//! broke, with the messages that show it.
//!
//! The checker is an observer, not a participant: it never assumes which side is "right". It
//! knows each party by its address; a party that both receives and forwards requests of the same
//! call is a proxy (RFC 4320 §4.2 rules apply to it).

pub mod dialogs;
pub mod matching;
pub mod observe;
pub mod retransmit;
pub mod rfc4320;

use crate::rule::{Rule, Severity};
use crate::trace::Trace;
use crate::txn::TimerConfig;
use serde::Serialize;
use std::time::Duration;

pub use observe::{observe, Observation, ObservedTx};

/// The slack the checker allows when it compares what it saw with what the RFC says. Named, not
/// magic: a report can say which tolerance a finding exceeded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerances {
    /// The timer values the parties are expected to use (T1, T2, T4).
    pub timers: TimerConfig,
    /// Relative slack on a retransmission interval: 0.25 accepts 375..625 ms for T1 = 500 ms.
    pub timer_slack: f64,
    /// Absolute slack for timestamps: capture clock jitter, scheduling delay, one-way transit
    /// (a retransmission sent just before the peer's response arrived is not "after the end").
    pub clock_jitter: Duration,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            timers: TimerConfig::default(),
            timer_slack: 0.25,
            clock_jitter: Duration::from_millis(50),
        }
    }
}

impl Tolerances {
    /// Whether `actual` is within the tolerances of the `expected` interval.
    pub fn interval_ok(&self, actual: Duration, expected: Duration) -> bool {
        let slack = expected.mul_f64(self.timer_slack) + self.clock_jitter;
        actual + slack >= expected && actual <= expected + slack
    }
}

/// One rule broken, with evidence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    #[serde(serialize_with = "rule_id")]
    pub rule: &'static Rule,
    pub call_id: Option<String>,
    /// The message that breaks the rule (index in the trace).
    pub message_index: usize,
    /// Other messages that show it (the request a response fails to match, the earlier
    /// transmissions of a retransmission schedule).
    pub related: Vec<usize>,
    pub detail: String,
    /// The element at fault when it is not the sender of `message_index` (a server that did
    /// not answer: the evidence is the request it received).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub culprit: Option<std::net::SocketAddr>,
}

fn rule_id<S: serde::Serializer>(r: &&'static Rule, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(r.id)
}

impl Finding {
    pub fn new(
        rule: &'static Rule,
        trace: &Trace,
        index: usize,
        detail: impl Into<String>,
    ) -> Self {
        Finding {
            rule,
            call_id: trace.messages.get(index).and_then(|m| m.message.call_id()),
            message_index: index,
            related: Vec::new(),
            detail: detail.into(),
            culprit: None,
        }
    }

    /// Names the element at fault when it is not the sender of the evidence message.
    pub fn blaming(mut self, culprit: std::net::SocketAddr) -> Self {
        self.culprit = Some(culprit);
        self
    }

    /// The element at fault: [`Finding::culprit`], else the sender of the evidence message.
    pub fn at_fault(&self, trace: &Trace) -> Option<std::net::SocketAddr> {
        self.culprit
            .or_else(|| trace.messages.get(self.message_index).map(|m| m.src))
    }

    pub fn with_related(mut self, related: impl IntoIterator<Item = usize>) -> Self {
        self.related.extend(related);
        self
    }

    pub fn severity(&self) -> Severity {
        self.rule.severity
    }
}

/// Runs every transaction-level check over a trace. Findings are ordered by message index.
pub fn check(trace: &Trace, tol: &Tolerances) -> Vec<Finding> {
    let obs = observe(trace);
    let mut out = Vec::new();
    for group in CHECKS {
        (group.run)(trace, &obs, tol, &mut out);
    }
    out.sort_by_key(|f| (f.message_index, f.rule.id));
    out
}

/// A group of rules and the function that checks them.
pub struct CheckGroup {
    pub name: &'static str,
    pub rules: &'static [&'static Rule],
    pub run: fn(&Trace, &Observation, &Tolerances, &mut Vec<Finding>),
}

/// Every check group, in the order they run.
pub static CHECKS: &[CheckGroup] = &[
    matching::GROUP,
    dialogs::GROUP,
    rfc4320::GROUP,
    retransmit::GROUP,
];

/// Every rule of every check group (for the catalogue).
pub fn rules() -> Vec<&'static Rule> {
    CHECKS
        .iter()
        .flat_map(|g| g.rules.iter().copied())
        .collect()
}
