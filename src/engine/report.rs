//! Reporters: independent consumers of [`RunEvent`]s. This file has the trait, the JSON
//! document (`--format json`, `results.json`) and the JUnit document (`--format junit`,
//! `junit.xml`); the terminal and the report directory have their own files.

use super::batch::RunEvent;
use super::verdict::{Finding, RunResult, StepRef, Verdict, VerdictKind};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

/// A consumer of run events.
pub trait Reporter: Send {
    fn on_event(&mut self, ev: &RunEvent<'_>);
    /// Called once after `Done`: what went wrong while reporting, if anything.
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One run in the JSON document.
#[derive(Serialize)]
pub struct JsonRun<'a> {
    pub scenario: &'a str,
    pub source: &'a str,
    pub target: &'a str,
    pub repetition: u32,
    pub call_id: &'a str,
    pub verdict: VerdictKind,
    /// The step a fail or inconclusive verdict points at.
    pub step: Option<&'a StepRef>,
    pub expected: Option<&'a str>,
    pub actual: Option<&'a str>,
    /// Why a run is inconclusive or an error.
    pub reason: Option<&'a str>,
    pub findings: &'a [Finding],
    pub duration_ms: u64,
    pub messages: usize,
}

impl<'a> JsonRun<'a> {
    pub fn of(r: &'a RunResult) -> JsonRun<'a> {
        let (expected, actual, reason) = match &r.verdict {
            Verdict::Pass => (None, None, None),
            Verdict::Fail(f) => (Some(f.expected.as_str()), Some(f.actual.as_str()), None),
            Verdict::Inconclusive { reason, .. } | Verdict::Error { reason } => {
                (None, None, Some(reason.as_str()))
            }
        };
        JsonRun {
            scenario: &r.scenario,
            source: &r.source,
            target: &r.target,
            repetition: r.repetition,
            call_id: &r.call_id,
            verdict: r.verdict.kind(),
            step: r.verdict.step(),
            expected,
            actual,
            reason,
            findings: &r.findings,
            duration_ms: r.duration.as_millis() as u64,
            messages: r.messages,
        }
    }
}

/// `{"runs": [...], "summary": {"pass": N, ...}}`.
pub fn json_document(results: &[RunResult]) -> serde_json::Value {
    let runs: Vec<JsonRun<'_>> = results.iter().map(JsonRun::of).collect();
    let mut summary = BTreeMap::new();
    for k in [
        VerdictKind::Pass,
        VerdictKind::Fail,
        VerdictKind::Inconclusive,
        VerdictKind::Error,
    ] {
        summary.insert(
            k.as_str(),
            results.iter().filter(|r| r.verdict.kind() == k).count(),
        );
    }
    serde_json::json!({ "runs": runs, "summary": summary })
}

/// The JUnit report: one test suite per target, one test case per scenario run
/// (`name#N` for repetitions). A non-pass verdict is a failure (an error for `error`) whose
/// type is the verdict and whose message names the step (or the reason); checker findings
/// go to the case's system-out.
pub fn junit_document(results: &[RunResult], duration: Duration) -> Report {
    let mut report = Report::new("siptest");
    report.set_time(duration);
    let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
    for r in results {
        let suite = suites
            .entry(r.target.as_str())
            .or_insert_with(|| TestSuite::new(format!("siptest run {}", r.target)));
        suite.add_test_case(junit_case(r));
    }
    report.add_test_suites(suites.into_values());
    report
}

fn junit_case(r: &RunResult) -> TestCase {
    let status = match &r.verdict {
        Verdict::Pass => TestCaseStatus::success(),
        v => {
            let kind = match v.kind() {
                VerdictKind::Error => NonSuccessKind::Error,
                _ => NonSuccessKind::Failure,
            };
            let mut s = TestCaseStatus::non_success(kind);
            s.set_type(v.kind().as_str());
            s.set_message(v.summary());
            if let Some(f) = r.findings.iter().find(|f| f.level == "scenario") {
                s.set_description(format!(
                    "{}: expected {}\nactual: {}",
                    f.rule, f.expected, f.actual
                ));
            }
            s
        }
    };
    let name = if r.repetition > 1 {
        format!("{}#{}", r.scenario, r.repetition)
    } else {
        r.scenario.clone()
    };
    let mut case = TestCase::new(name, status);
    case.set_classname(r.source.clone());
    case.set_time(r.duration);
    let notes: Vec<String> = r
        .findings
        .iter()
        .filter(|f| f.level != "scenario")
        .map(|f| {
            format!(
                "[{} {}] {} ({}): {}",
                f.level,
                f.severity,
                f.rule,
                f.rfc.as_deref().unwrap_or("-"),
                f.actual
            )
        })
        .collect();
    if !notes.is_empty() {
        case.set_system_out(notes.join("\n"));
    }
    case
}

/// Which document a stream reporter writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocFormat {
    Json,
    Junit,
}

/// Writes the JSON or JUnit document to a writer (stdout) when the batch is done.
pub struct DocReporter<W: Write + Send> {
    pub format: DocFormat,
    pub out: W,
    error: Option<io::Error>,
}

impl<W: Write + Send> DocReporter<W> {
    pub fn new(format: DocFormat, out: W) -> Self {
        DocReporter {
            format,
            out,
            error: None,
        }
    }

    fn write(&mut self, results: &[RunResult], duration: Duration) -> io::Result<()> {
        match self.format {
            DocFormat::Json => {
                serde_json::to_writer_pretty(&mut self.out, &json_document(results))?;
                writeln!(self.out)?;
            }
            DocFormat::Junit => {
                let xml = junit_document(results, duration)
                    .to_string()
                    .map_err(io::Error::other)?;
                writeln!(self.out, "{xml}")?;
            }
        }
        self.out.flush()
    }
}

impl<W: Write + Send> Reporter for DocReporter<W> {
    fn on_event(&mut self, ev: &RunEvent<'_>) {
        if let RunEvent::Done { results, duration } = ev {
            if let Err(e) = self.write(results, *duration) {
                self.error = Some(e);
            }
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        self.error.take().map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::verdict::Failure;
    use std::time::SystemTime;

    pub(crate) fn result(verdict: Verdict) -> RunResult {
        RunResult {
            scenario: "basic".into(),
            source: "s/basic.yaml".into(),
            target: "udp:127.0.0.1:5060".into(),
            repetition: 1,
            call_id: "c@siptest".into(),
            verdict,
            findings: Vec::new(),
            duration: Duration::from_millis(12),
            messages: 4,
            trace: Default::default(),
            started_at: SystemTime::UNIX_EPOCH,
        }
    }

    fn fail() -> Verdict {
        Verdict::Fail(Failure {
            step: StepRef {
                index: 2,
                line: 9,
                column: 5,
                kind: "expect",
            },
            expected: "486 at alice".into(),
            actual: "200 OK (to INVITE, CSeq 1)".into(),
        })
    }

    #[test]
    fn json_shape() {
        let doc = json_document(&[result(Verdict::Pass), result(fail())]);
        let runs = doc["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 2);
        for key in ["scenario", "target", "verdict", "findings"] {
            assert!(runs[0].get(key).is_some(), "{key}");
        }
        assert_eq!(runs[1]["verdict"], "fail");
        assert_eq!(runs[1]["step"]["line"], 9);
        assert_eq!(runs[1]["expected"], "486 at alice");
        assert_eq!(doc["summary"]["fail"], 1);
    }

    #[test]
    fn junit_has_a_case_per_run_and_typed_failures() {
        let xml = junit_document(&[result(Verdict::Pass), result(fail())], Duration::ZERO)
            .to_string()
            .unwrap();
        assert_eq!(xml.matches("<testcase").count(), 2, "{xml}");
        assert!(xml.contains("type=\"fail\""), "{xml}");
        assert!(xml.contains("step 2 (expect, 9:5)"), "{xml}");
    }
}
