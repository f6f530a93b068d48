//! `siptest run [SCENARIOS...]`: play scenarios against a target and report.
//!
//! As in ripgrep, the raw flags ([`RunArgs`]) are first resolved into a checked plan
//! ([`Plan`]): the target, the options and every scenario loaded; any problem there is a
//! configuration error (exit 2) reported before anything is sent. Then the engine runs the
//! plan and the reporters print. Exit 0 when every run passed, 1 otherwise (inconclusive and
//! error count as not passed).

use super::{EXIT_FINDINGS, EXIT_USAGE};
use crate::engine::report::{DocFormat, DocReporter};
use crate::engine::report_files::ReportDir;
use crate::engine::report_text::TextReporter;
use crate::engine::{run_batch, Batch, Reporter, RunConfig, TargetSpec};
use crate::net::parse_impair;
use crate::scenario::{load_dir, load_str_all, parse_duration, LoadError, Scenario};
use clap::{Args, ValueEnum};
use std::collections::BTreeMap;
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// What `siptest run` says when there is no target to run against.
pub const NO_TARGET: &str = "no --target given. The built-in reference user agent, which will \
be the default target, arrives with the next issue; until then give the device under test: \
--target udp:HOST:PORT or --target tcp:HOST:PORT (IPv6 as udp:[::1]:5060)";

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Scenario files and directories (searched recursively for *.yaml and *.yml).
    scenarios: Vec<PathBuf>,
    /// The device under test: udp:HOST:PORT or tcp:HOST:PORT (IPv6 as udp:[::1]:5060;
    /// udp:USER@HOST:PORT sets the user part of its URI).
    #[arg(long)]
    target: Option<String>,
    /// Runs at once (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Runs of each scenario, each a fresh run with its own Call-ID.
    #[arg(long, default_value_t = 1)]
    repeat: u32,
    /// Runs started per second (calls per second).
    #[arg(long)]
    rate: Option<f64>,
    /// Impair siptest's own network path, e.g. `loss=0.1,delay=20ms,seed=7` (a scenario's
    /// `impair` wins over this).
    #[arg(long)]
    impair: Option<String>,
    /// T1 in milliseconds; T2, T4 and the other timers scale from it (overrides the
    /// scenarios' `timers`).
    #[arg(long)]
    t1: Option<u64>,
    /// Output on stdout.
    #[arg(long, value_enum, default_value = "text")]
    format: RunFormat,
    /// Where results.json, junit.xml and each run's .pcap and .trace go.
    #[arg(long, default_value = "reports")]
    report_dir: PathBuf,
    /// Hard limit of each run, e.g. `30s` (overrides the scenarios' `deadline`).
    #[arg(long)]
    deadline: Option<String>,
    /// Make an agent listen on a fixed port, e.g. `bob=5080` (repeatable); agents otherwise
    /// use any free port. Needed when the target calls an agent.
    #[arg(long = "agent-port", value_name = "AGENT=PORT")]
    agent_port: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RunFormat {
    Text,
    Json,
    Junit,
}

/// The checked plan.
pub struct Plan {
    pub batch: Batch,
    pub format: RunFormat,
    pub report_dir: PathBuf,
}

/// A configuration problem: the lines to print on stderr. Load errors are printed bare
/// (`file:line:column: message`, as compilers do, so that editors can jump to them); the
/// others start with `siptest run: `.
pub struct ConfigError(pub Vec<String>);

impl From<String> for ConfigError {
    fn from(s: String) -> Self {
        ConfigError(vec![format!("siptest run: {s}")])
    }
}

fn options(args: &RunArgs) -> Result<RunConfig, ConfigError> {
    let target = args
        .target
        .as_deref()
        .map(TargetSpec::parse)
        .transpose()
        .map_err(|e| e.to_string())?;
    let Some(target) = target else {
        return Err(NO_TARGET.to_string().into());
    };
    let mut cfg = RunConfig::new(target);
    if let Some(ms) = args.t1 {
        if ms == 0 {
            return Err("--t1 must be greater than 0 (RFC 3261 §17.1.1.1)"
                .to_string()
                .into());
        }
        cfg.t1 = Some(Duration::from_millis(ms));
    }
    if let Some(d) = &args.deadline {
        let d = parse_duration(d).map_err(|e| format!("--deadline `{d}`: {e}"))?;
        if d.is_zero() {
            return Err("--deadline must be greater than 0".to_string().into());
        }
        cfg.deadline = Some(d);
    }
    if let Some(spec) = &args.impair {
        cfg.impair = Some(parse_impair(spec).map_err(|e| format!("--impair `{spec}`: {e}"))?);
    }
    cfg.agent_ports = agent_ports(&args.agent_port)?;
    Ok(cfg)
}

fn agent_ports(items: &[String]) -> Result<BTreeMap<String, u16>, ConfigError> {
    let mut out = BTreeMap::new();
    for item in items {
        let parsed = item
            .split_once('=')
            .and_then(|(n, p)| Some((n.trim().to_string(), p.trim().parse::<u16>().ok()?)));
        match parsed {
            Some((name, port)) if !name.is_empty() => {
                out.insert(name, port);
            }
            _ => {
                return Err(
                    format!("--agent-port `{item}`: expected AGENT=PORT, e.g. bob=5080").into(),
                )
            }
        }
    }
    Ok(out)
}

/// Loads every scenario; all errors of all files, as `file:line:column: message`.
pub fn load_scenarios(paths: &[PathBuf]) -> Result<Vec<Scenario>, ConfigError> {
    let mut scenarios = Vec::new();
    let mut errors: Vec<LoadError> = Vec::new();
    for p in paths {
        if p.is_dir() {
            let (s, e) = load_dir(p);
            scenarios.extend(s);
            errors.extend(e);
        } else {
            match load_file_all(p) {
                Ok(s) => scenarios.push(s),
                Err(e) => errors.extend(e),
            }
        }
    }
    for s in &scenarios {
        errors.extend(crate::engine::plan::check_regexes(s));
    }
    if !errors.is_empty() {
        return Err(ConfigError(
            errors.iter().map(ToString::to_string).collect(),
        ));
    }
    if scenarios.is_empty() {
        let list: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        let where_ = if list.is_empty() {
            "no SCENARIOS given".to_string()
        } else {
            format!("no *.yaml or *.yml scenario in {}", list.join(", "))
        };
        return Err(format!("{where_}: nothing to run").into());
    }
    Ok(scenarios)
}

fn load_file_all(p: &Path) -> Result<Scenario, Vec<LoadError>> {
    let file = p.display().to_string();
    match std::fs::read_to_string(p) {
        Ok(text) => load_str_all(&text, &file),
        Err(e) => Err(vec![LoadError {
            file,
            line: 0,
            column: 0,
            kind: crate::scenario::LoadErrorKind::Io,
            message: format!("cannot read: {e}"),
        }]),
    }
}

/// Raw flags to a checked plan.
pub fn resolve(args: &RunArgs) -> Result<Plan, ConfigError> {
    let scenarios = load_scenarios(&args.scenarios)?;
    let config = options(args)?;
    if args.repeat == 0 || args.jobs == Some(0) {
        return Err("--repeat and --jobs must be at least 1".to_string().into());
    }
    if args.rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
        return Err("--rate must be a positive number of runs per second"
            .to_string()
            .into());
    }
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    Ok(Plan {
        batch: Batch {
            scenarios: scenarios.into_iter().map(Arc::new).collect(),
            config,
            jobs,
            repeat: args.repeat,
            rate: args.rate,
        },
        format: args.format,
        report_dir: args.report_dir.clone(),
    })
}

/// The reporters of a run: the progress line first (it clears itself before the others
/// print), then the report directory, then stdout in the chosen format.
fn reporters(plan: &Plan) -> Vec<Box<dyn Reporter>> {
    let mut out: Vec<Box<dyn Reporter>> = Vec::new();
    if plan.format != RunFormat::Text && io::stderr().is_terminal() {
        out.push(Box::new(TextReporter::new(io::sink(), true)));
    }
    out.push(Box::new(ReportDir::new(&plan.report_dir)));
    out.push(match plan.format {
        RunFormat::Text => Box::new(TextReporter::stdout()),
        RunFormat::Json => Box::new(DocReporter::new(DocFormat::Json, io::stdout())),
        RunFormat::Junit => Box::new(DocReporter::new(DocFormat::Junit, io::stdout())),
    });
    out
}

pub fn run(args: &RunArgs) -> i32 {
    let plan = match resolve(args) {
        Ok(p) => p,
        Err(ConfigError(lines)) => {
            for l in lines {
                eprintln!("{l}");
            }
            return EXIT_USAGE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("siptest run: cannot start the runtime: {e}");
            return EXIT_USAGE;
        }
    };
    let mut reps = reporters(&plan);
    let results = runtime.block_on(run_batch(plan.batch, &mut reps));
    let mut code = if results.iter().all(|r| r.verdict.is_pass()) {
        0
    } else {
        EXIT_FINDINGS
    };
    for r in &mut reps {
        if let Err(e) = r.finish() {
            eprintln!("siptest run: {e}");
            code = EXIT_USAGE;
        }
    }
    code
}
