//! `siptest report RESULTS...`: merges result documents (`results.json` of `siptest run`, or
//! of its shards) into one and writes the HTML matrix, and on request the merged JSON and
//! JUnit. With `--expect`, also checks every run against the expectations of its target
//! (`docs/expectations.md`) and prints what changed. Exit 0 when everything was written (and
//! every run was as expected), 1 when a run changed, 2 when an input or an expectation file
//! cannot be read or the inputs do not go together (overlapping shards), or an output cannot
//! be written.

use super::{EXIT_FINDINGS, EXIT_USAGE};
use crate::engine::report::{junit_from_cases, note, CaseFacts, CaseLead};
use crate::report::expect::{self, Comparison, Expectations};
use crate::report::html::{render, PageOptions};
use crate::report::model::{ResultSet, RunRecord};
use crate::report::{anonymise, merge, parse};
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Result documents (`results.json` of `siptest run`, one per shard), or directories
    /// holding one.
    #[arg(required = true)]
    results: Vec<PathBuf>,
    /// The HTML report.
    #[arg(short, long, default_value = "reports/index.html")]
    output: PathBuf,
    /// Also write the merged result document (the format of results.json).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also write the merged JUnit report.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Replace target names with letters and drop User-Agent and Server values (in every
    /// output), for results shared without names.
    #[arg(long, alias = "anonymize")]
    anonymise: bool,
    /// The report's title.
    #[arg(long, default_value = "siptest compatibility matrix")]
    title: String,
    /// Check every run against the expectations of its target: an expectation file, or a
    /// directory of them (`ci/expectations/`, one file per target); repeatable. Exit 1 when
    /// a run is not as expected (docs/expectations.md).
    #[arg(long, value_name = "PATH")]
    expect: Vec<PathBuf>,
    /// Also write runs per target and class as a Markdown table (with each target's
    /// `version` from its expectation file), for a README's "Tested against".
    #[arg(long, value_name = "FILE")]
    summary_md: Option<PathBuf>,
}

/// Reads, merges and anonymises the inputs; the notes the page shows.
pub fn load(
    paths: &[PathBuf],
    anonymous: bool,
    title: &str,
) -> Result<(ResultSet, PageOptions), String> {
    let (mut set, mut opts) = load_merged(paths, title)?;
    if anonymous {
        anonymise_with_note(&mut set, &mut opts);
    }
    Ok((set, opts))
}

fn anonymise_with_note(set: &mut ResultSet, opts: &mut PageOptions) {
    anonymise(set);
    opts.notes
        .push("anonymised: targets are letters, User-Agent and Server removed".into());
}

/// Reads and merges the inputs; the notes the page shows.
fn load_merged(paths: &[PathBuf], title: &str) -> Result<(ResultSet, PageOptions), String> {
    let mut sets = Vec::new();
    for p in paths {
        let file = if p.is_dir() {
            p.join("results.json")
        } else {
            p.clone()
        };
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
        sets.push(parse(&text, &file.display().to_string())?);
    }
    let (set, notes) = merge(sets)?;
    let mut opts = PageOptions {
        title: title.to_string(),
        notes: Vec::new(),
    };
    if let Some(n) = notes.shard_count {
        if notes.missing_shards.is_empty() {
            opts.notes.push(format!("merged from all {n} shards"));
        } else {
            let list: Vec<String> = notes.missing_shards.iter().map(u32::to_string).collect();
            opts.notes.push(format!(
                "incomplete: shard{} {} of {n} missing (their cells show –)",
                if list.len() > 1 { "s" } else { "" },
                list.join(", ")
            ));
        }
    }
    Ok((set, opts))
}

/// The JUnit report of a result set: the XML `siptest run` writes for the same runs.
pub fn junit(set: &ResultSet) -> Result<String, String> {
    let total: u64 = set.runs.iter().map(|r| r.duration_ms).sum();
    junit_from_cases(set.runs.iter().map(case), Duration::from_millis(total))
        .to_string()
        .map_err(|e| e.to_string())
}

fn case(r: &RunRecord) -> CaseFacts<'_> {
    let lead = r.lead().map(|f| CaseLead {
        level: f.level.as_deref().unwrap_or("-"),
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
        verdict: &r.verdict,
        class: r.class(),
        summary: summary(r),
        lead,
        notes: r
            .findings
            .iter()
            .map(|f| {
                note(
                    f.level.as_deref().unwrap_or("-"),
                    &f.severity,
                    &f.rule,
                    f.rfc.as_deref(),
                    &f.actual,
                )
            })
            .collect(),
        duration: Duration::from_millis(r.duration_ms),
    }
}

/// `Verdict::summary` of a read-back run.
fn summary(r: &RunRecord) -> String {
    let step = r
        .step
        .as_ref()
        .map(|s| format!("step {} ({}, {}:{})", s.index, s.kind, s.line, s.column));
    let reason = r.reason.clone().unwrap_or_default();
    match r.verdict.as_str() {
        "pass" => String::new(),
        "fail" => format!(
            "{}: expected {}; actual: {}",
            step.unwrap_or_default(),
            r.expected.as_deref().unwrap_or(""),
            r.actual.as_deref().unwrap_or("")
        ),
        "inconclusive" => match step {
            Some(s) => format!("{s}: {reason}"),
            None => reason,
        },
        _ => reason,
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("{}: cannot write: {e}", path.display()))
}

/// What `siptest report` did: the line it says, and the expectation check when asked for.
struct Done {
    said: String,
    check: Option<Comparison>,
}

/// The expectation files of `--expect`; each error `file:line:column: message`.
fn expectations(args: &ReportArgs) -> Result<Vec<Expectations>, String> {
    if args.expect.is_empty() {
        return Ok(Vec::new());
    }
    expect::load_paths(&args.expect).map_err(|errs| {
        let lines: Vec<String> = errs.iter().map(ToString::to_string).collect();
        lines.join("\n")
    })
}

fn outputs(args: &ReportArgs) -> Result<Done, String> {
    let exp = expectations(args)?;
    let (mut set, mut opts) = load_merged(&args.results, &args.title)?;
    // Checked under the real names; the outputs may hide them.
    let check = (!args.expect.is_empty()).then(|| expect::compare(&set, &exp));
    let mut versions = exp.as_slice();
    if args.anonymise {
        anonymise_with_note(&mut set, &mut opts);
        versions = &[];
    }
    write(&args.output, render(&set, &opts).as_bytes())?;
    if let Some(p) = &args.json {
        let mut json = serde_json::to_vec_pretty(&set).map_err(|e| e.to_string())?;
        json.push(b'\n');
        write(p, &json)?;
    }
    if let Some(p) = &args.junit {
        write(p, junit(&set)?.as_bytes())?;
    }
    if let Some(p) = &args.summary_md {
        let rows = expect::summary_table(&set, versions);
        write(p, expect::summary_markdown(&rows).as_bytes())?;
    }
    let mut said = format!(
        "{}: {} runs, {} targets, {} scenarios",
        args.output.display(),
        set.runs.len(),
        set.targets.len(),
        set.scenarios.len()
    );
    for n in &opts.notes {
        said.push_str("; ");
        said.push_str(n);
    }
    Ok(Done { said, check })
}

pub fn run(args: &ReportArgs) -> i32 {
    match outputs(args) {
        Ok(Done { said, check }) => {
            eprintln!("siptest report: {said}");
            let Some(c) = check else { return 0 };
            for s in &c.stale {
                eprintln!("{s}");
            }
            for ch in &c.changes {
                eprintln!("{ch}");
            }
            eprintln!("siptest report: expectations: {}", c.summary_line());
            if c.changes.is_empty() {
                0
            } else {
                EXIT_FINDINGS
            }
        }
        Err(e) => {
            eprintln!("siptest report: {e}");
            EXIT_USAGE
        }
    }
}
