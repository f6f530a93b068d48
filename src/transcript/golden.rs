//! Golden files: `golden/<scenario>/<target>.txt`, the transcript a scenario should give
//! against a target. The target's name is sanitised for the file system ([`file_name`]:
//! `builtin`, `builtin-quirk-no-to-tag`, `udp-127.0.0.1-5060`). A scenario's
//! `builtin.txt`, made against the reference UA, is the default for every target without a
//! file of its own; compared with another device it is read leniently ([`Tolerance::lenient`]:
//! what a device advertises, its codecs and its timing are its own business).
//!
//! `siptest run --accept` writes the files ([`accept`]); a run with a golden is compared with
//! it ([`compare`]) and a difference beyond the tolerances fails a run that passed.

use super::diff::{
    align_stopped, align_with, render, render_differences, DiffKind, Difference, Tolerance,
};
use super::{Entry, Transcript};
use crate::engine::verdict::{Failure, Finding, RunResult, StepRef, Verdict};
use crate::rule::{Level, Severity};
use serde::Serialize;
use std::io;
use std::path::{Path, PathBuf};

/// The default directory of golden files.
pub const DEFAULT_DIR: &str = "golden";

/// The name of the reference UA's golden, the default of every target.
pub const DEFAULT_TARGET: &str = "builtin";

/// A target's name as a file name: every run of characters other than ASCII letters, digits,
/// `.`, `_` and `-` becomes one `-` (`udp:[::1]:5060` -> `udp-1-5060`), without `-` at either
/// end; `target` when nothing is left.
pub fn file_name(target: &str) -> String {
    let mut out = String::new();
    for c in target.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() {
        "target".into()
    } else {
        out
    }
}

/// `<dir>/<scenario>/<target>.txt`.
pub fn path_for(dir: &Path, scenario: &str, target: &str) -> PathBuf {
    dir.join(file_name(scenario))
        .join(format!("{}.txt", file_name(target)))
}

/// Whether the target is the reference UA (with or without quirks, over any transport): its
/// runs compare strictly with the reference UA's default golden.
pub fn is_builtin(target: &str) -> bool {
    target == "builtin" || target.starts_with("builtin:") || target.starts_with("builtin?")
}

/// A golden file found for a run.
#[derive(Clone, Debug)]
pub struct Golden {
    pub path: PathBuf,
    pub transcript: Transcript,
    /// The scenario's default (`builtin.txt`) stands in for a target without its own file.
    pub default: bool,
}

/// The golden of `scenario` for `target`: its own file, else the scenario's `builtin.txt`;
/// `Ok(None)` when there is neither. A file that cannot be read or parsed is an error.
pub fn find(dir: &Path, scenario: &str, target: &str) -> Result<Option<Golden>, String> {
    let own = path_for(dir, scenario, target);
    let default = path_for(dir, scenario, DEFAULT_TARGET);
    let (path, is_default) = if own.is_file() {
        (own, false)
    } else if default.is_file() {
        (default, true)
    } else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let transcript = Transcript::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some(Golden {
        path,
        transcript,
        default: is_default,
    }))
}

/// The tolerances for comparing a run against `target` with `golden`.
pub fn tolerance_for(golden: &Golden, target: &str) -> Tolerance {
    if golden.default && !is_builtin(target) {
        Tolerance::lenient()
    } else {
        Tolerance::default()
    }
}

/// The comparison of a run with its golden, as reports show it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GoldenOutcome {
    /// The golden file.
    pub file: String,
    /// The scenario's default golden stood in (compared leniently unless the target is the
    /// reference UA).
    pub default: bool,
    /// Equal within the tolerances.
    pub equal: bool,
    pub differences: Vec<Difference>,
    /// How many differences the tolerances allowed.
    pub tolerated: usize,
    /// The differences with both lines, as text (empty when equal).
    pub diff: String,
    /// The whole aligned view (empty when equal).
    pub aligned: String,
}

/// Compares a run's transcript with its golden. `stopped`: the run ended before its last
/// step (it did not pass), so what the golden has after its last message is not reported.
pub fn compare(golden: &Golden, actual: &Transcript, target: &str, stopped: bool) -> GoldenOutcome {
    let tol = tolerance_for(golden, target);
    let al = if stopped {
        align_stopped(&golden.transcript, actual, &tol)
    } else {
        align_with(&golden.transcript, actual, &tol)
    };
    let equal = al.is_equal();
    GoldenOutcome {
        file: golden.path.display().to_string(),
        default: golden.default,
        equal,
        diff: render_differences(&golden.transcript, actual, &al.differences),
        aligned: if equal {
            String::new()
        } else {
            render(&golden.transcript, actual, &al)
        },
        tolerated: al.tolerated.len(),
        differences: al.differences,
    }
}

/// Compares a finished run with its golden under `dir` (nothing happens without one): sets
/// `r.golden`, adds one finding per difference (rule `golden.*`, level sequence, evidence:
/// the run's messages), and a run that passed fails, its verdict naming the golden file and
/// the first difference. Err: a golden file that cannot be read.
pub fn judge(r: &mut RunResult, dir: &Path) -> Result<(), String> {
    if let Some(golden) = find(dir, &r.scenario, &r.target)? {
        apply(r, &golden);
    }
    Ok(())
}

/// [`judge`] with the golden already found.
pub fn apply(r: &mut RunResult, golden: &Golden) {
    let outcome = compare(golden, &r.transcript, &r.target, !r.verdict.is_pass());
    if !outcome.equal {
        // The first difference that is an error fails a run that passed; warnings (timing,
        // another device's own choices) are shown without failing it.
        let mut failing = None;
        for d in &outcome.differences {
            let f = finding(r, golden, &outcome.file, d);
            if failing.is_none() && f.severity == "error" {
                failing = Some(d);
            }
            r.findings.push(f);
        }
        r.findings.sort_by_key(|f| {
            let sev = match f.severity.as_str() {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                _ => Severity::Info,
            };
            crate::classify::lead_order(f.level, sev)
        });
        if let (true, Some(first)) = (r.verdict.is_pass(), failing) {
            r.verdict = Verdict::Fail(Failure {
                step: StepRef {
                    index: 0,
                    line: 0,
                    column: 0,
                    kind: "golden",
                },
                expected: format!("the golden transcript {}", outcome.file),
                actual: format!(
                    "{} difference(s), first {}: {}",
                    outcome.differences.len(),
                    first.rule,
                    first.what
                ),
            });
        }
    }
    r.golden = Some(outcome);
}

/// The finding of one difference from the golden `file`: its rule, level and severity
/// ([`rule_and_level`]), the golden message it expected, and as evidence the run's messages.
fn finding(r: &RunResult, golden: &Golden, file: &str, d: &Difference) -> Finding {
    let evidence: Vec<usize> = d
        .actual
        .and_then(|a| r.transcript.entries.get(a))
        .map(|e| e.messages.clone())
        .unwrap_or_default();
    let expected = match d.golden.and_then(|g| golden.transcript.entries.get(g)) {
        Some(_) => format!(
            "{} as in {}",
            d.golden.map_or(String::new(), |g| format!(
                "message {} `{}`",
                g + 1,
                golden.transcript.line(g).trim_start()
            )),
            file
        ),
        None => format!("no such message ({file})"),
    };
    let lenient = !tolerance_for(golden, &r.target).strict;
    let (rule, level, severity) = rule_and_level(r, d, lenient);
    Finding {
        level,
        source: "golden".into(),
        severity: severity.into(),
        evidence,
        ..Finding::engine(rule, &expected, d.what.clone())
    }
}

/// The rule, level and severity of a difference from the golden in run `r`.
/// `lenient`: the run is another device's, compared with the reference UA's golden.
fn rule_and_level(
    r: &RunResult,
    d: &Difference,
    lenient: bool,
) -> (&'static str, Option<Level>, &'static str) {
    // Timing and retransmission counts depend on the network and on siptest's own
    // timers as much as on the target (the checker judges retransmission schedules by
    // the RFC): shown, never failing a run.
    // A difference at a message another finding already explains (a 405 where the
    // golden has a 200 is the spec-level refusal, not a second problem) is shown as
    // its evidence, without a level of its own.
    // When the run already failed for a classified reason, its golden differences
    // are that failure's consequences (a broken flow turns later messages into
    // noise): they are listed as evidence, without a level of their own.
    let explained = r
        .findings
        .iter()
        .any(|f| f.level.is_some() && f.severity == "error" && f.source != "golden");
    // A changed digest challenge is what the target offers, not a flow: spec level
    // (RFC 8760 §2.4: SHA-256 challenges come first).
    let challenge = d
        .changes
        .iter()
        .any(|c| c.field == "challenge" || c.field == "auth");
    // A final response to a non-INVITE that the reference flow does not have: the
    // transaction layer answered or forwarded what it should not have (RFC 4320
    // §4.2: a late response a proxy must drop).
    let extra_final = matches!(d.kind, DiffKind::Extra)
        && d.actual
            .and_then(|a| r.transcript.entries.get(a))
            .is_some_and(|e| is_non_invite_final(&e.label));
    // Another device's challenge may offer other algorithms than the reference UA's
    // (RFC 8760 §2.4 lets a server offer one or several): the scenario's own auth steps
    // judge whether what it offers works. Its answer may hold with `c=0.0.0.0` where the
    // reference UA keeps its address (RFC 3264 §8.4 allows both); a direction that differs is
    // still a sequence-level difference.
    let device_variation = lenient && (challenge || sdp_address_only(d));
    if is_timing(d.rule) || explained || device_variation {
        (d.rule, None, "warning")
    } else if let Some(e) = sdp_in_invite(r, d) {
        let rule = if e.label == "INVITE" {
            "seq.hold.style"
        } else {
            "seq.hold.answer-direction"
        };
        (rule, Some(Level::Sequence), "error")
    } else if challenge {
        ("spec.auth.algorithm", Some(Level::Spec), "error")
    } else if extra_final {
        (
            "tx.rfc4320.late-response-forwarded",
            Some(Level::Transaction),
            "error",
        )
    } else {
        (d.rule, Some(Level::Sequence), "error")
    }
}

/// The entry of `d` when it is an INVITE of the target's, or the target's response to one,
/// whose session description changed. That is how the call is held or answered (RFC 3264
/// §8.4): a request of the target's is its hold style, a response the direction of its answer.
fn sdp_in_invite<'r>(r: &'r RunResult, d: &Difference) -> Option<&'r Entry> {
    d.actual
        .and_then(|a| r.transcript.entries.get(a))
        .filter(|e| e.from == "target")
        .filter(|e| e.label == "INVITE" || e.label.ends_with("/INVITE"))
        .filter(|_| {
            // `sdp.m1`: a stream's direction and connection (not its codecs).
            d.changes.iter().any(|c| {
                c.field
                    .strip_prefix("sdp.m")
                    .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
            })
        })
}

/// Every change of `d` is a stream's connection address alone (`sdp.mN` values equal but for
/// `c=`), and there is at least one.
fn sdp_address_only(d: &Difference) -> bool {
    fn without_c(v: &Option<String>) -> Option<Vec<&str>> {
        v.as_deref()
            .map(|s| s.split(',').filter(|p| !p.starts_with("c=")).collect())
    }
    !d.changes.is_empty()
        && d.changes.iter().all(|c| {
            c.field
                .strip_prefix("sdp.m")
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
                && without_c(&c.golden) == without_c(&c.actual)
        })
}

/// `200/MESSAGE`: a final response to a request other than INVITE.
fn is_non_invite_final(label: &str) -> bool {
    label.split_once('/').is_some_and(|(code, method)| {
        code.parse::<u16>().is_ok_and(|c| c >= 200) && method != "INVITE"
    })
}

/// Differences in timing or retransmission counts only.
fn is_timing(rule: &str) -> bool {
    matches!(rule, "golden.timing" | "golden.retransmissions")
}

/// The differences as the classifier takes them (`crate::classify::FlowDifference`: indexes
/// into the run's trace).
pub fn flow_differences(
    golden: &Transcript,
    actual: &Transcript,
    ds: &[Difference],
) -> Vec<crate::classify::FlowDifference> {
    use crate::classify::FlowDifference as F;
    let first_msg = |a: Option<usize>| {
        a.and_then(|a| actual.entries.get(a))
            .and_then(|e| e.messages.first().copied())
    };
    ds.iter()
        .filter_map(|d| {
            Some(match d.kind {
                DiffKind::Missing => F::Missing {
                    golden: d
                        .golden
                        .map(|g| golden.line(g).trim_start().to_string())
                        .unwrap_or_default(),
                    near: None,
                },
                DiffKind::Extra => F::Extra {
                    index: first_msg(d.actual)?,
                },
                DiffKind::Reordered => F::Reordered {
                    index: first_msg(d.actual)?,
                },
                DiffKind::Changed => F::Changed {
                    index: first_msg(d.actual)?,
                    what: d.what.clone(),
                },
            })
        })
        .collect()
}

/// What [`accept`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    Created,
    Updated,
    /// The file exists and the run equals it within the tolerances: left as it is, so that
    /// golden files only change when behaviour does (not with every run's timing).
    Unchanged,
}

/// Writes `actual` as the golden of its scenario for `target` (the target's own file; for the
/// reference UA, the scenario's default).
pub fn accept(
    dir: &Path,
    scenario: &str,
    target: &str,
    actual: &Transcript,
) -> io::Result<(PathBuf, Accepted)> {
    let path = path_for(dir, scenario, target);
    let mut how = Accepted::Created;
    if let Ok(text) = std::fs::read_to_string(&path) {
        how = Accepted::Updated;
        if let Ok(old) = Transcript::parse(&text) {
            let same_header = old.optional == actual.optional && old.scenario == actual.scenario;
            if same_header && align_with(&old, actual, &Tolerance::default()).is_equal() {
                return Ok((path, Accepted::Unchanged));
            }
        }
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&path, actual.to_string())?;
    Ok((path, how))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_that_only_moves_its_address_is_told_apart() {
        let d = |golden: &str, actual: &str| Difference {
            kind: DiffKind::Changed,
            rule: "golden.changed",
            golden: Some(0),
            actual: Some(0),
            changes: vec![super::super::diff::Change {
                field: "sdp.m1".into(),
                golden: Some(golden.into()),
                actual: Some(actual.into()),
            }],
            what: String::new(),
        };
        assert!(sdp_address_only(&d(
            "audio,inactive,c=addr",
            "audio,inactive,c=0.0.0.0"
        )));
        assert!(!sdp_address_only(&d(
            "audio,inactive,c=addr",
            "audio,sendrecv,c=0.0.0.0"
        )));
        assert!(!sdp_address_only(&d(
            "audio,recvonly,c=addr",
            "audio,inactive,c=addr"
        )));
    }

    /// A passing run whose only difference from the reference UA's golden is its answer's
    /// hold address: another device passes with a warning, the reference UA itself fails.
    #[test]
    fn only_errors_fail_a_run_that_passed() {
        let golden_text = "# siptest transcript 1\n# scenario: s\n# target: builtin\n  \
            1  +0.000 alice  > target INVITE call=<call-1> sdp.m1=audio,inactive,c=addr\n  \
            2  +0.010 target > alice  200/INVITE call=<call-1> sdp.m1=audio,inactive,c=addr\n";
        let actual_text = golden_text.replace(
            "200/INVITE call=<call-1> sdp.m1=audio,inactive,c=addr",
            "200/INVITE call=<call-1> sdp.m1=audio,inactive,c=0.0.0.0",
        );
        let golden = Golden {
            path: "golden/s/builtin.txt".into(),
            transcript: Transcript::parse(golden_text).unwrap(),
            default: true,
        };
        let run = |target: &str| {
            let mut r = RunResult {
                scenario: "s".into(),
                source: "s.yaml".into(),
                target: target.into(),
                repetition: 1,
                call_id: String::new(),
                verdict: Verdict::Pass,
                findings: Vec::new(),
                duration: std::time::Duration::ZERO,
                messages: 2,
                trace: crate::trace::Trace::default(),
                started_at: std::time::SystemTime::UNIX_EPOCH,
                transcript: Transcript::parse(&actual_text).unwrap(),
                golden: None,
            };
            apply(&mut r, &golden);
            r
        };
        let device = run("udp:127.0.0.1:5070");
        assert!(device.verdict.is_pass(), "{:?}", device.verdict);
        assert!(device.findings.iter().all(|f| f.severity == "warning"));
        assert_eq!(device.findings.len(), 1);
        let reference = run("builtin");
        assert!(!reference.verdict.is_pass());
    }

    #[test]
    fn target_names_become_file_names() {
        assert_eq!(file_name("builtin"), "builtin");
        assert_eq!(
            file_name("builtin?quirk=no-to-tag"),
            "builtin-quirk-no-to-tag"
        );
        assert_eq!(file_name("udp:127.0.0.1:5060"), "udp-127.0.0.1-5060");
        assert_eq!(file_name("udp:[::1]:5060"), "udp-1-5060");
        assert_eq!(file_name("::"), "target");
        assert!(is_builtin("builtin?quirk=x") && is_builtin("builtin:tcp"));
        assert!(!is_builtin("udp:127.0.0.1:5060"));
    }
}
