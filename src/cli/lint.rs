//! `siptest lint FILE...`: run the transaction-level checker over recorded message streams.

use super::{Format, EXIT_FINDINGS, EXIT_USAGE};
use crate::check::{self, Finding, Tolerances};
use crate::rule::{Level, Severity};
use crate::trace::{log, Trace};
use clap::Args;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct LintArgs {
    /// Trace logs (`siptest-trace 1` format, see docs/traces.md) or pcap/pcapng captures
    /// (recognised by their magic number, see docs/captures.md).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[arg(long, default_value = "text")]
    format: Format,
    /// T1 the parties are expected to use, in milliseconds (RFC 3261 §17.1.1.1).
    #[arg(long, default_value_t = 500)]
    t1: u64,
    /// T2 in milliseconds.
    #[arg(long, default_value_t = 4000)]
    t2: u64,
    /// T4 in milliseconds.
    #[arg(long, default_value_t = 5000)]
    t4: u64,
    /// Relative slack on retransmission intervals (0.25 = ±25 %).
    #[arg(long, default_value_t = 0.25)]
    timer_slack: f64,
    /// Absolute slack on timestamps, in milliseconds (capture jitter, transit).
    #[arg(long, default_value_t = 50)]
    jitter: u64,
}

/// One finding as `siptest lint --format json` prints it.
#[derive(Serialize)]
struct JsonViolation<'a> {
    file: String,
    rule: &'static str,
    level: Level,
    severity: Severity,
    rfc: &'static str,
    call_id: Option<&'a str>,
    message_index: usize,
    related: &'a [usize],
    detail: &'a str,
}

impl LintArgs {
    fn tolerances(&self) -> Result<Tolerances, String> {
        if self.t1 == 0 || self.t2 < self.t1 || !(0.0..=1.0).contains(&self.timer_slack) {
            return Err(
                "--t1 must be positive, --t2 at least --t1, --timer-slack between 0 and 1".into(),
            );
        }
        let timers = crate::txn::TimerConfig {
            t1: Duration::from_millis(self.t1),
            t2: Duration::from_millis(self.t2),
            t4: Duration::from_millis(self.t4),
            ..crate::txn::TimerConfig::default()
        };
        Ok(Tolerances {
            timers,
            timer_slack: self.timer_slack,
            clock_jitter: Duration::from_millis(self.jitter),
        })
    }
}

/// A trace log, or a capture read into a trace. A capture that ends early (truncated, corrupt)
/// gives the messages before the damage and a warning.
fn load(path: &PathBuf) -> Result<(Trace, Option<String>), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if crate::capture::sniff(&bytes).is_some() {
        let c =
            crate::capture::read_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let warning = c.error.map(|e| format!("{}: {e}", path.display()));
        return Ok((c.trace, warning));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    log::read(&bytes).map(|t| (t, None)).map_err(|e| {
        format!(
            "{}:{}:{}: expected {}",
            path.display(),
            e.line,
            e.column,
            e.expected
        )
    })
}

fn print_text(path: &std::path::Path, trace: &Trace, findings: &[Finding]) {
    println!(
        "{}: {} messages, {} findings",
        path.display(),
        trace.messages.len(),
        findings.len()
    );
    let mut by_call: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        by_call
            .entry(f.call_id.clone().unwrap_or_else(|| "(no Call-ID)".into()))
            .or_default()
            .push(f);
    }
    for (call, fs) in by_call {
        println!("  call {call}:");
        for f in fs {
            let m = &trace.messages[f.message_index].message;
            println!(
                "    #{:<4} {:<7} {} [{}] {}: {}",
                f.message_index,
                f.rule.severity,
                f.rule.id,
                f.rule.rfc,
                m.summary(),
                f.detail
            );
        }
    }
}

pub fn run(args: &LintArgs) -> i32 {
    let tol = match args.tolerances() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("siptest lint: {e}");
            return EXIT_USAGE;
        }
    };
    let mut results = Vec::new();
    let mut damaged = false;
    for path in &args.files {
        match load(path) {
            Ok((trace, warning)) => {
                if let Some(w) = warning {
                    eprintln!("siptest lint: {w} (checking the messages before it)");
                    damaged = true;
                }
                let findings = check::check(&trace, &tol);
                results.push((path.clone(), trace, findings));
            }
            Err(e) => {
                eprintln!("siptest lint: {e}");
                return EXIT_USAGE;
            }
        }
    }
    match args.format {
        Format::Text => results.iter().for_each(|(p, t, f)| print_text(p, t, f)),
        Format::Json => {
            let violations: Vec<JsonViolation> = results
                .iter()
                .flat_map(|(p, _, fs)| {
                    fs.iter().map(move |f| JsonViolation {
                        file: p.display().to_string(),
                        rule: f.rule.id,
                        level: f.rule.level,
                        severity: f.rule.severity,
                        rfc: f.rule.rfc,
                        call_id: f.call_id.as_deref(),
                        message_index: f.message_index,
                        related: &f.related,
                        detail: &f.detail,
                    })
                })
                .collect();
            match serde_json::to_string_pretty(&serde_json::json!({ "violations": violations })) {
                Ok(s) => println!("{s}"),
                Err(e) => {
                    eprintln!("siptest lint: {e}");
                    return EXIT_USAGE;
                }
            }
        }
    }
    // Informational findings (an RFC 2543 branch) are printed but do not fail the run.
    let failing = results
        .iter()
        .flat_map(|(_, _, f)| f)
        .any(|f| f.severity() > Severity::Info);
    if damaged {
        EXIT_USAGE
    } else if failing {
        EXIT_FINDINGS
    } else {
        0
    }
}
