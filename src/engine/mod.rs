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

pub mod agent;
pub mod assertions;
pub mod batch;
pub mod compose;
pub mod draft;
mod exec;
pub mod matching;
pub mod plan;
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
pub use target::{TargetError, TargetSpec};
pub use verdict::{Failure, Finding, RunResult, StepRef, Verdict, VerdictKind};

use crate::check::{self, Tolerances};
use crate::scenario::Scenario;
use std::time::{Duration, SystemTime};

/// Time the engine gives itself beyond a run's deadline before it declares its own error.
const OVERRUN: Duration = Duration::from_secs(2);

/// Traces longer than this (a flood) are not given to the transaction checker, so that the
/// results come soon after the deadline.
const CHECK_LIMIT: usize = 20_000;

/// Plays one scenario once against `cfg.target` and returns its result; never panics on
/// what the target does, and returns by the run's deadline (plus a little cleanup).
pub async fn run_scenario(sc: &Scenario, cfg: &RunConfig, repetition: u32) -> RunResult {
    let started = tokio::time::Instant::now();
    let mut run = match run::Run::bind(sc, cfg).await {
        Ok(r) => r,
        Err(reason) => return error_result(sc, cfg, repetition, reason, started.elapsed()),
    };
    let limit = run
        .deadline
        .saturating_duration_since(tokio::time::Instant::now())
        + OVERRUN;
    let verdict = match tokio::time::timeout(limit, run.execute()).await {
        Ok(v) => v,
        Err(_) => Verdict::Error {
            reason: "the engine overran the run's deadline (a bug in siptest)".into(),
        },
    };
    run.collect_notes();
    let trace = run.merged_trace();
    let tol = Tolerances {
        timers: run.timers,
        ..Tolerances::default()
    };
    let mut findings = std::mem::take(&mut run.findings);
    if trace.messages.len() <= CHECK_LIMIT {
        let checked = check::check(&trace, &tol);
        findings.extend(checked.iter().map(|f| Finding::from_check(f, &trace)));
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
        trace,
        started_at: run.started_at,
    }
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
    }
}
