//! Reporters: independent consumers of [`RunEvent`]s. This file has the trait, the JSON
//! document (`--format json`, `results.json`: the versioned format of `docs/results.md`,
//! read back by `siptest report` as [`crate::report::model::ResultSet`]) and the JUnit
//! document (`--format junit`, `junit.xml`); the terminal and the report directory have
//! their own files.

use super::batch::RunEvent;
use super::verdict::{Finding, RunResult, StepRef, Verdict, VerdictKind};
use crate::report::model::{class_of, ScenarioRef, Shard, TraceRecord, CLASSES, FORMAT};
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
    /// The level and rule of the finding the verdict leads with (the lowest level:
    /// transaction, then sequence, then spec); `null` when no finding is about the target.
    pub level: Option<crate::rule::Level>,
    pub rule: Option<&'a str>,
    pub findings: &'a [Finding],
    pub duration_ms: u64,
    pub messages: usize,
    /// Wall-clock time of the trace's time zero, ms since the Unix epoch.
    pub started_at_ms: u64,
    /// Every message, named by party; left out (`null`) for the passing repetitions after
    /// the first of a repeated scenario, which only share a pcap.
    pub trace: Option<TraceRecord>,
    /// The comparison with the golden transcript, when there was one.
    pub golden: Option<&'a crate::transcript::golden::GoldenOutcome>,
    /// The run's transcript as text (`docs/transcripts.md`; `siptest diff` reads it).
    pub transcript: String,
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
            level: r.lead().and_then(|f| f.level),
            rule: r.lead().map(|f| f.rule.as_str()),
            findings: &r.findings,
            duration_ms: r.duration.as_millis() as u64,
            messages: r.messages,
            started_at_ms: r
                .started_at
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            trace: (r.repetition <= 1 || !r.verdict.is_pass()).then(|| TraceRecord::of(r)),
            golden: r.golden.as_ref(),
            transcript: r.transcript.to_string(),
        }
    }
}

/// What a result document says about the plan beyond its runs: every target and scenario
/// of the plan (a shard ran only some pairs of them) and which shard it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResultsMeta {
    pub targets: Vec<String>,
    pub scenarios: Vec<ScenarioRef>,
    pub shard: Option<Shard>,
}

impl ResultsMeta {
    /// The targets and scenarios of `results`, in order of first appearance.
    pub fn of_results(results: &[RunResult]) -> ResultsMeta {
        let mut m = ResultsMeta::default();
        for r in results {
            if !m.targets.contains(&r.target) {
                m.targets.push(r.target.clone());
            }
            let sc = ScenarioRef {
                name: r.scenario.clone(),
                source: r.source.clone(),
            };
            if !m.scenarios.contains(&sc) {
                m.scenarios.push(sc);
            }
        }
        m
    }
}

#[derive(Serialize)]
struct JsonDoc<'a> {
    format: &'static str,
    generator: String,
    shard: Option<Shard>,
    targets: &'a [String],
    scenarios: &'a [ScenarioRef],
    runs: Vec<JsonRun<'a>>,
    summary: BTreeMap<String, usize>,
    classes: BTreeMap<String, usize>,
}

/// `{"format": "siptest-results/1", ..., "runs": [...], "summary": {"pass": N, ...}}`, the
/// plan taken from the results themselves.
pub fn json_document(results: &[RunResult]) -> serde_json::Value {
    json_document_with(results, &ResultsMeta::of_results(results))
}

/// The JSON document of `results` from a plan described by `meta`.
pub fn json_document_with(results: &[RunResult], meta: &ResultsMeta) -> serde_json::Value {
    let runs: Vec<JsonRun<'_>> = results.iter().map(JsonRun::of).collect();
    let mut summary = BTreeMap::new();
    for k in [
        VerdictKind::Pass,
        VerdictKind::Fail,
        VerdictKind::Inconclusive,
        VerdictKind::Error,
    ] {
        summary.insert(
            k.as_str().to_string(),
            results.iter().filter(|r| r.verdict.kind() == k).count(),
        );
    }
    let mut classes: BTreeMap<String, usize> = CLASSES.iter().map(|c| (c.to_string(), 0)).collect();
    for run in &runs {
        let class = class_of(run.verdict.as_str(), run.level.map(|l| l.as_str()));
        *classes.entry(class.to_string()).or_insert(0) += 1;
    }
    let doc = JsonDoc {
        format: FORMAT,
        generator: format!("siptest {}", env!("CARGO_PKG_VERSION")),
        shard: meta.shard,
        targets: &meta.targets,
        scenarios: &meta.scenarios,
        runs,
        summary,
        classes,
    };
    serde_json::to_value(doc).unwrap_or_default()
}

/// The JUnit report: one test suite per target, one test case per target x scenario run
/// (`name#N` for repetitions). A run that did not pass is a failure (an error for `error`)
/// whose type is its report class (the lead finding's level `transaction`, `sequence` or
/// `spec`; else `unclassified`, `inconclusive` or `error`) and whose message is the lead
/// finding's rule and RFC section (the verdict's summary when there is none); the
/// description has the step, expected and actual, and every finding goes to system-out.
pub fn junit_document(results: &[RunResult], duration: Duration) -> Report {
    let cases = results.iter().map(|r| {
        let lead = r.lead().map(|f| CaseLead {
            level: level_name(f),
            rule: &f.rule,
            rfc: f.rfc.as_deref(),
            expected: &f.expected,
            actual: &f.actual,
        });
        CaseFacts {
            target: &r.target,
            scenario: &r.scenario,
            source: &r.source,
            repetition: r.repetition,
            verdict: r.verdict.kind().as_str(),
            class: class_of(r.verdict.kind().as_str(), lead.as_ref().map(|l| l.level)),
            summary: r.verdict.summary(),
            lead,
            notes: r
                .findings
                .iter()
                .map(|f| {
                    note(
                        level_name(f),
                        &f.severity,
                        &f.rule,
                        f.rfc.as_deref(),
                        &f.actual,
                    )
                })
                .collect(),
            duration: r.duration,
        }
    });
    junit_from_cases(cases, duration)
}

/// What one JUnit test case says about a run; made from a [`RunResult`] here and from a
/// read-back result by `siptest report`, so that both write the same XML.
pub struct CaseFacts<'a> {
    pub target: &'a str,
    pub scenario: &'a str,
    pub source: &'a str,
    pub repetition: u32,
    /// `pass`, `fail`, `inconclusive`, `error`.
    pub verdict: &'a str,
    /// The report class ([`class_of`]).
    pub class: &'a str,
    /// The verdict's one-line summary ([`Verdict::summary`]).
    pub summary: String,
    pub lead: Option<CaseLead<'a>>,
    pub notes: Vec<String>,
    pub duration: Duration,
}

/// The finding a failure leads with.
pub struct CaseLead<'a> {
    pub level: &'a str,
    pub rule: &'a str,
    pub rfc: Option<&'a str>,
    pub expected: &'a str,
    pub actual: &'a str,
}

/// A finding as a line of a test case's system-out.
pub fn note(level: &str, severity: &str, rule: &str, rfc: Option<&str>, actual: &str) -> String {
    format!(
        "[{level} {severity}] {rule} ({}): {actual}",
        rfc.unwrap_or("-")
    )
}

/// The JUnit report of some test cases, one suite per target in order of first appearance.
pub fn junit_from_cases<'a>(
    cases: impl IntoIterator<Item = CaseFacts<'a>>,
    duration: Duration,
) -> Report {
    let mut report = Report::new("siptest");
    report.set_time(duration);
    let mut suites: Vec<(&str, TestSuite)> = Vec::new();
    for c in cases {
        let i = match suites.iter().position(|(t, _)| *t == c.target) {
            Some(i) => i,
            None => {
                suites.push((
                    c.target,
                    TestSuite::new(format!("siptest run {}", c.target)),
                ));
                suites.len() - 1
            }
        };
        suites[i].1.add_test_case(junit_case(c));
    }
    report.add_test_suites(suites.into_iter().map(|(_, s)| s));
    report
}

fn junit_case(c: CaseFacts<'_>) -> TestCase {
    let status = if c.verdict == "pass" {
        TestCaseStatus::success()
    } else {
        let kind = match c.verdict {
            "error" => NonSuccessKind::Error,
            _ => NonSuccessKind::Failure,
        };
        let mut s = TestCaseStatus::non_success(kind);
        s.set_type(c.class);
        match &c.lead {
            Some(l) => {
                s.set_message(format!("{} ({})", l.rule, l.rfc.unwrap_or("-")));
                s.set_description(format!(
                    "{}\n[{}] {}: expected {}\nactual: {}",
                    c.summary, l.level, l.rule, l.expected, l.actual
                ));
            }
            None => {
                s.set_message(c.summary.clone());
            }
        }
        s
    };
    let name = if c.repetition > 1 {
        format!("{}#{}", c.scenario, c.repetition)
    } else {
        c.scenario.to_string()
    };
    let mut case = TestCase::new(name, status);
    case.set_classname(c.source.to_string());
    case.set_time(c.duration);
    if !c.notes.is_empty() {
        case.set_system_out(c.notes.join("\n"));
    }
    case
}

/// A finding's level as reports show it; `-` for what is not about the target.
pub fn level_name(f: &Finding) -> &'static str {
    f.level.map_or("-", |l| l.as_str())
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
    /// The plan, for the JSON document; taken from the results when not given.
    pub meta: Option<ResultsMeta>,
    error: Option<io::Error>,
}

impl<W: Write + Send> DocReporter<W> {
    pub fn new(format: DocFormat, out: W) -> Self {
        DocReporter {
            format,
            out,
            meta: None,
            error: None,
        }
    }

    /// Describes the plan in the JSON document (every target and scenario, the shard).
    pub fn with_meta(mut self, meta: ResultsMeta) -> Self {
        self.meta = Some(meta);
        self
    }

    fn write(&mut self, results: &[RunResult], duration: Duration) -> io::Result<()> {
        match self.format {
            DocFormat::Json => {
                let doc = match &self.meta {
                    Some(m) => json_document_with(results, m),
                    None => json_document(results),
                };
                serde_json::to_writer_pretty(&mut self.out, &doc)?;
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
            transcript: Default::default(),
            golden: None,
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
    fn the_document_reads_back_field_for_field() {
        // `siptest report` reads what `siptest run` writes: every field survives the round
        // trip through the owned model (crate::report::model).
        let mut r = result(fail());
        let text = "OPTIONS sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
        let m = crate::trace::TracedMessage {
            time: Duration::from_millis(3),
            src: "127.0.0.1:5061".parse().unwrap(),
            dst: "127.0.0.1:5062".parse().unwrap(),
            transport: crate::trace::Transport::Udp,
            message: crate::sip::parse::parse_message(text.as_bytes()),
        };
        r.trace.messages = vec![m.clone(), m];
        r.messages = 2;
        let doc = json_document(&[result(Verdict::Pass), r]);
        assert_eq!(doc["format"], "siptest-results/1");
        let set: crate::report::model::ResultSet = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!(serde_json::to_value(&set).unwrap(), doc);
        let t = set.runs[1].trace.as_ref().unwrap();
        assert_eq!(t.messages[1].retransmission_of, Some(0));
        assert_eq!(t.messages[0].first_line, "OPTIONS sip:b@127.0.0.1 SIP/2.0");
        assert_eq!(t.parties.len(), 2);
    }

    #[test]
    fn junit_has_a_case_per_run_and_typed_failures() {
        let xml = junit_document(&[result(Verdict::Pass), result(fail())], Duration::ZERO)
            .to_string()
            .unwrap();
        assert_eq!(xml.matches("<testcase").count(), 2, "{xml}");
        // No finding about the target: the class says so, the message is the step.
        assert!(xml.contains("type=\"unclassified\""), "{xml}");
        assert!(xml.contains("step 2 (expect, 9:5)"), "{xml}");
        // A lead finding: type = its level, message = rule and RFC section.
        let mut r = result(fail());
        r.findings.push(Finding {
            level: Some(crate::rule::Level::Sequence),
            source: "classifier".into(),
            rule: "seq.hold.answer-direction".into(),
            rfc: Some("RFC 3264 §6.1".into()),
            severity: "error".into(),
            step: None,
            expected: "recvonly".into(),
            actual: "sendrecv".into(),
            evidence: vec![5, 4],
            cause: None,
            arrival: None,
        });
        let xml = junit_document(&[r], Duration::ZERO).to_string().unwrap();
        assert!(xml.contains("type=\"sequence\""), "{xml}");
        assert!(
            xml.contains("message=\"seq.hold.answer-direction (RFC 3264 §6.1)\""),
            "{xml}"
        );
    }
}
