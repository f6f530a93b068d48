//! `siptest check CAPTURE --scenario FILE`: judges a captured call against a scenario as if
//! the capture were a live run (`engine::replay`), and reports as `siptest run` does: a
//! table, `--format json` or `--format junit`; exit 0 on pass, 1 otherwise, 2 on usage, I/O
//! or load errors.

use super::run::{load_scenarios, ConfigError, RunFormat};
use super::{EXIT_FINDINGS, EXIT_USAGE};
use crate::engine::batch::RunEvent;
use crate::engine::replay::{check_capture, ReplayConfig};
use crate::engine::report::{DocFormat, DocReporter};
use crate::engine::report_text::TextReporter;
use crate::engine::Reporter;
use crate::scenario::parse_duration;
use crate::trace::{log, Trace};
use clap::Args;
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// A pcap or pcapng capture (or a siptest trace log).
    capture: PathBuf,
    /// The scenario whose expectations the captured call must meet.
    #[arg(long, value_name = "FILE")]
    scenario: PathBuf,
    /// Who was who in the capture: `alice=IP:PORT,target=IP:PORT` (repeatable). Without it
    /// the first request's sender is the scenario's first agent and its destination the
    /// target (see docs/captures.md).
    #[arg(long, value_name = "NAME=IP:PORT,...")]
    map: Vec<String>,
    /// Only the messages of this Call-ID (default: every message between the parties).
    #[arg(long, value_name = "CALL-ID")]
    call: Option<String>,
    /// T1 in milliseconds the parties used (default: the scenario's `timers`, else 500 ms);
    /// a run against `builtin` used 25.
    #[arg(long)]
    t1: Option<u64>,
    /// Hard limit of the run on the capture's clock, e.g. `30s`.
    #[arg(long)]
    deadline: Option<String>,
    /// Output on stdout.
    #[arg(long, value_enum, default_value = "text")]
    format: RunFormat,
}

/// `NAME=IP:PORT` items, comma-separated, in any number of `--map` flags.
pub fn parse_map(items: &[String]) -> Result<BTreeMap<String, SocketAddr>, String> {
    let mut out = BTreeMap::new();
    for item in items.iter().flat_map(|i| i.split(',')) {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let parsed = item.split_once('=').and_then(|(n, a)| {
            let addr = a.trim().parse::<SocketAddr>().ok()?;
            Some((n.trim().to_string(), addr))
        });
        match parsed {
            Some((name, addr)) if !name.is_empty() => {
                out.insert(name, addr);
            }
            _ => {
                return Err(format!(
                    "--map `{item}`: expected NAME=IP:PORT, e.g. alice=192.0.2.1:5060 or \
                     target=[2001:db8::1]:5060"
                ))
            }
        }
    }
    Ok(out)
}

/// The capture's messages and the wall-clock time of its first packet. A damaged capture
/// gives what came before the damage and a warning.
fn load_capture(path: &Path) -> Result<(Trace, Option<Duration>, Option<String>), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if crate::capture::sniff(&bytes).is_some() {
        let c =
            crate::capture::read_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let warning = c.error.map(|e| format!("{}: {e}", path.display()));
        return Ok((c.trace, c.start, warning));
    }
    log::read(&bytes).map(|t| (t, None, None)).map_err(|e| {
        format!(
            "{}:{}:{}: expected {} (a pcap, pcapng or siptest trace log)",
            path.display(),
            e.line,
            e.column,
            e.expected
        )
    })
}

fn config(args: &CheckArgs) -> Result<ReplayConfig, String> {
    let mut cfg = ReplayConfig {
        map: parse_map(&args.map)?,
        call: args.call.clone(),
        ..ReplayConfig::default()
    };
    if let Some(ms) = args.t1 {
        if ms == 0 {
            return Err("--t1 must be greater than 0 (RFC 3261 §17.1.1.1)".into());
        }
        cfg.t1 = Some(Duration::from_millis(ms));
    }
    if let Some(d) = &args.deadline {
        let d = parse_duration(d).map_err(|e| format!("--deadline `{d}`: {e}"))?;
        if d.is_zero() {
            return Err("--deadline must be greater than 0".into());
        }
        cfg.deadline = Some(d);
    }
    Ok(cfg)
}

pub fn run(args: &CheckArgs) -> i32 {
    let cfg = match config(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("siptest check: {e}");
            return EXIT_USAGE;
        }
    };
    let scenario = match load_scenarios(std::slice::from_ref(&args.scenario)) {
        Ok(mut s) if s.len() == 1 => s.remove(0),
        Ok(s) => {
            eprintln!(
                "siptest check: --scenario names {} scenarios; give one file",
                s.len()
            );
            return EXIT_USAGE;
        }
        Err(ConfigError(lines)) => {
            for l in lines {
                eprintln!("{l}");
            }
            return EXIT_USAGE;
        }
    };
    let (trace, start, warning) = match load_capture(&args.capture) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("siptest check: {e}");
            return EXIT_USAGE;
        }
    };
    if let Some(w) = &warning {
        eprintln!("siptest check: warning: {w} (judging what was read before it)");
    }
    let name = args.capture.display().to_string();
    let result = match check_capture(&scenario, &trace, &cfg, &name, start) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("siptest check: {}: {e}", args.capture.display());
            return EXIT_USAGE;
        }
    };
    let mut out: Box<dyn Reporter> = match args.format {
        RunFormat::Text => Box::new(TextReporter::stdout()),
        RunFormat::Json => Box::new(DocReporter::new(DocFormat::Json, io::stdout())),
        RunFormat::Junit => Box::new(DocReporter::new(DocFormat::Junit, io::stdout())),
    };
    out.on_event(&RunEvent::Planned { total: 1 });
    out.on_event(&RunEvent::Started {
        scenario: &result.scenario,
        repetition: 1,
    });
    out.on_event(&RunEvent::Finished(&result));
    let results = [result];
    out.on_event(&RunEvent::Done {
        results: &results,
        duration: results[0].duration,
    });
    let mut code = if results[0].verdict.is_pass() {
        0
    } else {
        EXIT_FINDINGS
    };
    if let Err(e) = out.finish() {
        eprintln!("siptest check: {e}");
        code = EXIT_USAGE;
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_items_split_on_commas_and_flags() {
        let m = parse_map(&[
            "alice=127.0.0.1:5060, target=[::1]:5080".into(),
            "bob=10.0.0.2:5062".into(),
        ])
        .unwrap();
        assert_eq!(m["alice"], "127.0.0.1:5060".parse().unwrap());
        assert_eq!(m["target"], "[::1]:5080".parse().unwrap());
        assert_eq!(m.len(), 3);
        assert!(parse_map(&["alice".into()]).is_err());
        assert!(parse_map(&["alice=host:5060".into()]).is_err());
    }
}
