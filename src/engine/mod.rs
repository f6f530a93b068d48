//! The scenario engine: plays a [`Scenario`] against a target with siptest's own agents and
//! ends every run with exactly one [`Verdict`] (`docs/scenarios.md` defines the semantics).
//!
//! Layering, as in `../shared/STYLE.md`:
//! - pure parts, unit-tested without sockets: templates and variables ([`vars`]), messages
//!   ([`draft`], [`compose`], [`sdp_gen`]), matching and assertions ([`matching`],
//!   [`assertions`]), run settings ([`plan`]) and the agents' state ([`agent`]: it sends
//!   through a [`agent::Wire`] and reads no clock);
//! - the thin async shell: [`run::Run::pump`] is the only place that waits (for an event of
//!   any agent, an agent's timer or a time limit); the steps ([`exec`], [`send`]) are played
//!   on top of it, and every wait is bounded by the run's deadline;
//! - results flow as [`RunEvent`]s to independent reporters ([`report`]): terminal table and
//!   progress, JSON, JUnit, and the report directory (pcap, trace log).

mod act;
pub mod agent;
pub mod assertions;
mod auth;
pub mod batch;
pub mod compose;
pub mod device_driver;
pub mod draft;
pub mod driver;
mod exec;
pub mod import;
pub mod matching;
pub mod plan;
pub mod replay;
pub mod report;
pub mod report_files;
pub mod report_text;
pub mod run;
pub mod sdp_gen;
mod send;
pub mod target;
pub mod targets;
pub mod vars;
pub mod verdict;
pub mod wire;

pub use batch::{run_batch, Batch, RunEvent};
pub use plan::RunConfig;
pub use report::Reporter;
pub use target::{TargetError, TargetKind, TargetSpec};
pub use verdict::{Failure, Finding, RunResult, StepRef, Verdict, VerdictKind};

use crate::check::{self, Tolerances};
use crate::rule::Severity;
use crate::scenario::Scenario;
use crate::trace::{Trace, TracedMessage};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

/// Time the engine gives itself beyond a run's deadline before it declares its own error.
const OVERRUN: Duration = Duration::from_secs(2);

/// Traces longer than this (a flood) are not given to the transaction checker, so that the
/// results come soon after the deadline.
const CHECK_LIMIT: usize = 20_000;

/// Plays one scenario once against `cfg.target` and returns its result; never panics on
/// what the target does, and returns by the run's deadline (plus a little cleanup). A
/// `builtin` target's UA is started first, for this run alone.
pub async fn run_scenario(sc: &Scenario, cfg: &RunConfig, repetition: u32) -> RunResult {
    run_in_slot(sc, cfg, repetition, ()).await
}

/// [`run_scenario`] holding `slot` (a batch's job permit): a run whose steps passed drops it
/// as it starts to linger ([`run::Run::linger`]), so that the next run need not wait for a
/// moment in which nothing is expected; the result, made after the linger, still has what
/// came then. A run that did not pass (its teardown is still going on) and a run with an
/// agent on a fixed port (the next run must bind it) hold the slot to the end.
pub async fn run_in_slot<S: Send>(
    sc: &Scenario,
    cfg: &RunConfig,
    repetition: u32,
    slot: S,
) -> RunResult {
    let mut slot = Some(slot);
    let started = tokio::time::Instant::now();
    let (run_cfg, driver) = match driver::prepare(sc, cfg).await {
        Ok(p) => p,
        Err(reason) => return error_result(sc, cfg, repetition, reason, started.elapsed()),
    };
    let mut run = match run::Run::bind(sc, &run_cfg).await {
        Ok(r) => r,
        Err(reason) => return error_result(sc, cfg, repetition, reason, started.elapsed()),
    };
    run.driver = driver;
    let fixed_port = sc
        .agents
        .iter()
        .any(|a| run_cfg.agent_ports.contains_key(&a.name.value));
    let steps_done = |v: &Verdict| {
        if v.is_pass() && !fixed_port {
            slot.take();
        }
    };
    let limit = run
        .deadline
        .saturating_duration_since(tokio::time::Instant::now())
        + OVERRUN;
    let verdict = match tokio::time::timeout(limit, run.execute_then(steps_done)).await {
        Ok(v) => v,
        Err(_) => Verdict::Error {
            reason: "the engine overran the run's deadline (a bug in siptest)".into(),
        },
    };
    run.collect_notes();
    let trace = run.merged_trace();
    let mut findings = std::mem::take(&mut run.findings);
    let sides = Sides {
        ours: run.agents.iter().map(|a| a.wire.local()).collect(),
        target: run.agents.first().map(|a| a.target),
    };
    let verdict = judge_trace(
        sc,
        verdict,
        &mut findings,
        &trace,
        run.timers,
        &sides,
        &run.step_started,
    );
    RunResult {
        scenario: sc.name.value.clone(),
        source: sc.source.clone(),
        target: cfg.target.to_string(),
        repetition,
        call_id: run.vars.call_id.clone(),
        verdict,
        findings,
        duration: started.elapsed(),
        messages: trace.messages.len(),
        transcript: match cfg.transcripts {
            true => run_transcript(sc, cfg, &run, &trace),
            false => Default::default(),
        },
        golden: None,
        trace,
        started_at: run.started_at,
    }
}

/// A run's transcript: its agents by name, the target's address as `target`.
fn run_transcript(
    sc: &Scenario,
    cfg: &RunConfig,
    run: &run::Run<'_>,
    trace: &Trace,
) -> crate::transcript::Transcript {
    let mut parties = crate::transcript::Parties::new();
    for a in &run.agents {
        parties.add(a.wire.local(), a.name.clone());
    }
    if let Some(a) = run.agents.first() {
        parties.add(a.target, "target");
    }
    // A flood gets the transcript of its first messages, as the checker does (CHECK_LIMIT):
    // the result must come soon after the deadline; the pcap has everything.
    let mut t = if trace.messages.len() > CHECK_LIMIT {
        let head = Trace {
            messages: trace.messages[..CHECK_LIMIT].to_vec(),
        };
        crate::transcript::build(&head, &parties)
    } else {
        crate::transcript::build(trace, &parties)
    };
    t.scenario = Some(sc.name.value.clone());
    t.target = Some(cfg.target.to_string());
    t.optional = crate::transcript::optional_matchers(sc);
    t
}

/// Who is who in a trace: siptest's agents' addresses and the target's.
pub(crate) struct Sides {
    pub ours: Vec<SocketAddr>,
    pub target: Option<SocketAddr>,
}

/// Runs the transaction checker over a run's trace (a live run's or a capture's, for
/// `siptest check`): its findings join `findings`, and an error-severity one in a message the
/// target sent decides the verdict ([`checker_failure`]). `step_started` and the trace's
/// times share one time base.
pub(crate) fn judge_trace(
    sc: &Scenario,
    mut verdict: Verdict,
    findings: &mut Vec<Finding>,
    trace: &Trace,
    timers: crate::txn::TimerConfig,
    sides: &Sides,
    step_started: &[Duration],
) -> Verdict {
    let tol = Tolerances {
        timers,
        ..Tolerances::default()
    };
    if trace.messages.len() <= CHECK_LIMIT {
        let checked = check::check(trace, &tol);
        // A target that broke a transaction-level rule fails the run, whatever else
        // happened: a run that passed, and also one that could not go on (an error or an
        // inconclusive) because of what the broken message did to siptest's dialogs. The
        // verdict it replaces stays among the findings.
        // A run whose step failed leads with the transaction-level finding too (the
        // verdict leads with the lowest level, `docs/classification.md`: a broken stack turns
        // later steps into noise, e.g. a missing To tag leaves a capture unset); the step's
        // failure stays among the findings, classified, with its expected and actual.
        if let Some(failed) = checker_failure(&checked, trace, sides, step_started, sc) {
            if !verdict.is_pass() && !matches!(verdict, Verdict::Fail(_)) {
                findings.push(Finding::engine(
                    "engine.verdict.superseded",
                    "the verdict the run would have had without the checker's finding",
                    format!("{}: {}", verdict.kind().as_str(), verdict.summary()),
                ));
            }
            verdict = failed;
        }
        let checked_at = findings.len();
        findings.extend(checked.iter().map(|f| Finding::from_check(f, trace)));
        // Every failure and every refusal of what the target claims becomes a finding with a
        // level (src/classify).
        let by_target: Vec<bool> = match sides.target {
            Some(target) => trace
                .messages
                .iter()
                .map(|m| sent_by_target(m, &sides.ours, target))
                .collect(),
            None => vec![false; trace.messages.len()],
        };
        crate::classify::attach::attach(sc, findings, trace, &by_target, &checked, checked_at);
    } else {
        findings.push(Finding::engine(
            "engine.check.skipped",
            "a trace the transaction checker can go through within the run's time",
            format!(
                "{} messages (more than {CHECK_LIMIT}: a flood); see the pcap",
                trace.messages.len()
            ),
        ));
    }
    verdict
}

/// A run whose steps all passed fails when the transaction checker found an error-severity
/// rule broken in a message the target sent (siptest's own messages never fail a run this
/// way). The verdict names the first such finding and the step during which the message came.
fn checker_failure(
    checked: &[check::Finding],
    trace: &Trace,
    sides: &Sides,
    step_started: &[Duration],
    sc: &Scenario,
) -> Option<Verdict> {
    let ours = &sides.ours;
    let target = sides.target?;
    let f = checked.iter().find(|f| {
        f.rule.severity == Severity::Error
            && trace.messages.get(f.message_index).is_some_and(|m| {
                let culprit = f.at_fault(trace).unwrap_or(m.src);
                culprit == m.src && sent_by_target(m, ours, target)
                    || culprit != m.src && !ours.contains(&culprit)
            })
    })?;
    let m = &trace.messages[f.message_index];
    let i = step_started
        .partition_point(|t| *t <= m.time)
        .saturating_sub(1);
    let step = StepRef::of(i, sc.steps.get(i)?);
    let shown = Finding::from_check(f, trace);
    Some(Verdict::Fail(Failure {
        step,
        expected: format!("{} ({}, {})", f.rule.summary, f.rule.id, f.rule.rfc),
        actual: shown.actual,
    }))
}

/// Whether a traced message came from the target: not from one of the agents' addresses,
/// and either received on an agent's listening address or sent from the target's address
/// (answers on a TCP connection an agent opened arrive at that connection's own port).
fn sent_by_target(m: &TracedMessage, ours: &[SocketAddr], target: SocketAddr) -> bool {
    !ours.contains(&m.src) && (ours.contains(&m.dst) || m.src == target)
}

pub(crate) fn error_result(
    sc: &Scenario,
    cfg: &RunConfig,
    repetition: u32,
    reason: String,
    duration: Duration,
) -> RunResult {
    RunResult {
        scenario: sc.name.value.clone(),
        source: sc.source.clone(),
        target: cfg.target.to_string(),
        repetition,
        call_id: String::new(),
        verdict: Verdict::Error { reason },
        findings: Vec::new(),
        duration,
        messages: 0,
        trace: Default::default(),
        started_at: SystemTime::now(),
        transcript: Default::default(),
        golden: None,
    }
}
