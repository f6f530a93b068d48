//! `siptest run [SCENARIOS...]`: play scenarios against a target and report.
//!
//! As in ripgrep, the raw flags ([`RunArgs`]) are first resolved into a checked plan
//! ([`Plan`]): the target, the options and every scenario loaded; any problem there is a
//! configuration error (exit 2) reported before anything is sent. Then the engine runs the
//! plan and the reporters print. Exit 0 when every run passed, 1 otherwise (inconclusive and
//! error count as not passed).
//!
//! With `--targets FILE` the plan has one batch per named target (all of them, or the one
//! `--target NAME` picks): each target's device is started, awaited, played against and
//! stopped, independent targets several at once (`--target-jobs`; [`super::run_targets`]
//! says which are independent and how `--jobs` is shared), and the reporters see one result
//! set in plan order, each result named by its target.

use super::run_targets::{self, InPlanOrder, Schedule};
use super::{EXIT_FINDINGS, EXIT_USAGE};
use crate::engine::report::{DocFormat, DocReporter, ResultsMeta};
use crate::engine::report_files::ReportDir;
use crate::engine::report_text::TextReporter;
use crate::engine::targets::{load_targets_file, NamedTarget};
use crate::engine::{run_batch, Batch, Reporter, RunConfig, TargetSpec};
use crate::net::parse_impair;
use crate::report::model::{ScenarioRef, Shard};
use crate::scenario::{load_dir, load_str_all, parse_duration, LoadError, Scenario};
use clap::{Args, ValueEnum};
use std::collections::BTreeMap;
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Scenario files and directories (searched recursively for *.yaml and *.yml).
    scenarios: Vec<PathBuf>,
    /// The device under test: udp:HOST:PORT or tcp:HOST:PORT (IPv6 as udp:[::1]:5060;
    /// udp:USER@HOST:PORT sets the user part of its URI; ?control=HOST:PORT names the control
    /// port of a `siptest ua` that acts for it), or the built-in reference UA: builtin,
    /// builtin:tcp, builtin?quirk=NAME,NAME (the default). With --targets: the NAME of the
    /// target to run against (default: every target of the file).
    #[arg(long)]
    target: Option<String>,
    /// A YAML file of named targets (name, address, user, t1, start, ready, stop, supports;
    /// see docs/scenarios.md); independent targets run at once (--target-jobs).
    #[arg(long, value_name = "FILE")]
    targets: Option<PathBuf>,
    /// Runs at once (default: the number of cores). With --targets, for the whole plan:
    /// the targets played at once share it (each at least 1).
    #[arg(long)]
    jobs: Option<usize>,
    /// With --targets: how many independent targets are played at once (default: the number
    /// of cores; 1: one after the other). Builtin targets are independent; targets at an
    /// address are not when they share an address or control port (they run one after the
    /// other in file order); with --agent-port no two are. Results stay in plan order
    /// (docs/results.md).
    #[arg(long, value_name = "N")]
    target_jobs: Option<usize>,
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
    /// Write each passing run's transcript as its golden file (`<golden-dir>/<scenario>/<target>.txt`)
    /// instead of comparing with it; a file equal within tolerance is left as it is.
    #[arg(long)]
    accept: bool,
    /// Where golden transcripts are read from (and written with --accept); a run with a
    /// golden that differs beyond the tolerances fails (docs/transcripts.md).
    #[arg(long, value_name = "DIR", default_value = crate::transcript::golden::DEFAULT_DIR)]
    golden_dir: PathBuf,
    /// Run share K of N (1-based) of the (target, scenario) pairs: those whose index in plan
    /// order (targets in file order, scenarios in path order) is K-1 modulo N. The shards'
    /// results.json files merge with `siptest report` (docs/results.md).
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RunFormat {
    Text,
    Json,
    Junit,
}

/// The checked plan.
pub struct Plan {
    /// One batch per target: exactly one without `--targets`.
    pub batches: Vec<TargetBatch>,
    pub format: RunFormat,
    pub report_dir: PathBuf,
    /// Every target and scenario of the plan and the shard, for results.json.
    pub meta: ResultsMeta,
    /// How the named targets are played (unused without `--targets`).
    pub schedule: Schedule,
}

/// The runs against one target.
pub struct TargetBatch {
    /// The target of `--targets`; `None` for `--target ADDRESS`.
    pub named: Option<NamedTarget>,
    pub batch: Batch,
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

/// The targets to run against: the `--target` address, or the named targets of `--targets`
/// (the one `--target NAME` picks, else all); the built-in UA when neither is given.
fn targets(args: &RunArgs) -> Result<Vec<(Option<NamedTarget>, TargetSpec)>, ConfigError> {
    let Some(file) = &args.targets else {
        let target = match args.target.as_deref() {
            Some(t) => TargetSpec::parse(t).map_err(|e| e.to_string())?,
            None => TargetSpec::builtin(),
        };
        return Ok(vec![(None, target)]);
    };
    let all = load_targets_file(file)
        .map_err(|e| ConfigError(e.iter().map(ToString::to_string).collect()))?;
    let picked: Vec<NamedTarget> = match &args.target {
        None => all,
        Some(name) => {
            let names: Vec<&str> = all.iter().map(|t| t.name.value.as_str()).collect();
            match all.iter().find(|t| t.name.value == *name) {
                Some(t) => vec![t.clone()],
                None => {
                    return Err(format!(
                        "--target `{name}`: no target of that name in {} (it has: {})",
                        file.display(),
                        names.join(", ")
                    )
                    .into())
                }
            }
        }
    };
    Ok(picked
        .into_iter()
        .map(|t| {
            let spec = t.spec.clone();
            (Some(t), spec)
        })
        .collect())
}

fn options(args: &RunArgs, target: TargetSpec) -> Result<RunConfig, ConfigError> {
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

fn check_counts(args: &RunArgs) -> Result<(), ConfigError> {
    if args.repeat == 0 || args.jobs == Some(0) || args.target_jobs == Some(0) {
        return Err("--repeat, --jobs and --target-jobs must be at least 1"
            .to_string()
            .into());
    }
    if args.rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
        return Err("--rate must be a positive number of runs per second"
            .to_string()
            .into());
    }
    Ok(())
}

/// Whether the runs build their transcripts.
fn wants_transcripts(args: &RunArgs, scenarios: &[Arc<Scenario>]) -> bool {
    // Transcripts serve the golden files only: none to compare with, none to write, none built.
    let golden = args.accept
        || scenarios.iter().any(|s| {
            crate::transcript::golden::path_for(&args.golden_dir, &s.name.value, "-")
                .parent()
                .is_some_and(Path::is_dir)
        });
    // The report's ladder diagrams name the parties after the transcript (agents, `target`);
    // a run played once builds it anyway. Repeated load runs (`--repeat`) skip it.
    golden || args.repeat <= 1
}

/// Raw flags to a checked plan.
pub fn resolve(args: &RunArgs) -> Result<Plan, ConfigError> {
    let scenarios: Vec<Arc<Scenario>> = load_scenarios(&args.scenarios)?
        .into_iter()
        .map(Arc::new)
        .collect();
    let targets = targets(args)?;
    check_counts(args)?;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let jobs = args.jobs.unwrap_or(cores);
    let transcripts = wants_transcripts(args, &scenarios);
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let mut meta = ResultsMeta {
        targets: Vec::new(),
        scenarios: scenarios
            .iter()
            .map(|s| ScenarioRef {
                name: s.name.value.clone(),
                source: s.source.clone(),
            })
            .collect(),
        shard,
    };
    let mut batches = Vec::new();
    for (t, (named, spec)) in targets.into_iter().enumerate() {
        let mut config = options(args, spec)?;
        meta.targets.push(match &named {
            Some(n) => n.name.value.clone(),
            None => config.target.to_string(),
        });
        config.transcripts = transcripts;
        let scenarios = match shard {
            None => scenarios.clone(),
            Some(sh) => scenarios
                .iter()
                .enumerate()
                .filter(|(s, _)| in_shard(t * scenarios.len() + s, sh))
                .map(|(_, sc)| sc.clone())
                .collect(),
        };
        // The target's T1 unless --t1 says otherwise.
        if config.t1.is_none() {
            config.t1 = named.as_ref().and_then(|t| t.t1);
        }
        batches.push(TargetBatch {
            named,
            batch: Batch {
                scenarios: scenarios.clone(),
                config,
                jobs,
                repeat: args.repeat,
                rate: args.rate,
            },
        });
    }
    let target_jobs = args.target_jobs.unwrap_or(cores);
    let schedule = run_targets::schedule(&batches, target_jobs, jobs, !args.agent_port.is_empty());
    Ok(Plan {
        batches,
        format: args.format,
        report_dir: args.report_dir.clone(),
        meta,
        schedule,
    })
}

/// `K/N` with 1 <= K <= N.
fn parse_shard(s: &str) -> Result<Shard, ConfigError> {
    let parsed = s
        .split_once('/')
        .and_then(|(k, n)| Some((k.trim().parse::<u32>().ok()?, n.trim().parse::<u32>().ok()?)));
    match parsed {
        Some((index, count)) if index >= 1 && index <= count => Ok(Shard { index, count }),
        _ => Err(
            format!("--shard `{s}`: expected K/N with 1 <= K <= N, e.g. 2/4")
                .to_string()
                .into(),
        ),
    }
}

/// Whether the pair at `index` (in plan order: target by target, scenario by scenario)
/// belongs to the shard. Index modulo count spreads every target's scenarios evenly over the
/// shards, and depends only on the targets file and the scenario paths, so every job of a CI
/// matrix computes the same split.
pub fn in_shard(index: usize, shard: Shard) -> bool {
    index % shard.count as usize == (shard.index - 1) as usize
}

/// The reporters of a run: the progress line first (it clears itself before the others
/// print), then the report directory, then stdout in the chosen format.
fn reporters(plan: &Plan) -> Vec<Box<dyn Reporter>> {
    let mut out: Vec<Box<dyn Reporter>> = Vec::new();
    if plan.format != RunFormat::Text && io::stderr().is_terminal() {
        out.push(Box::new(TextReporter::new(io::sink(), true)));
    }
    let repeated = plan.batches.iter().any(|b| b.batch.repeat > 1);
    let dir: Box<dyn Reporter> = Box::new(
        ReportDir::new(&plan.report_dir)
            .merge_passing(repeated)
            .with_meta(plan.meta.clone()),
    );
    // With targets at once, the report directory names the runs' files target by target.
    out.push(if plan.batches.iter().any(|b| b.named.is_some()) {
        let order: Vec<(String, usize)> = plan
            .meta
            .targets
            .iter()
            .zip(&plan.batches)
            .map(|(name, b)| {
                (
                    name.clone(),
                    b.batch.scenarios.len() * b.batch.repeat.max(1) as usize,
                )
            })
            .collect();
        Box::new(InPlanOrder::new(dir, &order))
    } else {
        dir
    });
    // Buffered: stdout alone writes each line of a document with its own system call.
    let stdout = || io::BufWriter::with_capacity(1 << 16, io::stdout());
    out.push(match plan.format {
        RunFormat::Text => Box::new(TextReporter::stdout()),
        RunFormat::Json => {
            Box::new(DocReporter::new(DocFormat::Json, stdout()).with_meta(plan.meta.clone()))
        }
        RunFormat::Junit => Box::new(DocReporter::new(DocFormat::Junit, stdout())),
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
    let named = plan.batches.iter().any(|b| b.named.is_some());
    let runtimes = match runtimes(if named { plan.schedule.shares.len() } else { 1 }) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("siptest run: cannot start the runtime: {e}");
            return EXIT_USAGE;
        }
    };
    // The golden stage sees each run first and hands the judged result to the reporters.
    let golden_failed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut reps: Vec<Box<dyn Reporter>> =
        vec![Box::new(crate::transcript::stage::GoldenStage::new(
            reporters(&plan),
            &args.golden_dir,
            args.accept,
            golden_failed.clone(),
        ))];
    let results = if named {
        let shared = Arc::new(Mutex::new(reps));
        let results = run_targets::run_named(
            &runtimes,
            &plan.schedule,
            &plan.batches,
            &plan.report_dir,
            &shared,
        );
        reps = std::mem::take(&mut *run_targets::lock(&shared));
        results
    } else {
        match plan.batches.into_iter().next() {
            Some(b) => runtimes[0].block_on(run_batch(b.batch, &mut reps)),
            None => Vec::new(),
        }
    };
    let golden_failed = golden_failed.load(std::sync::atomic::Ordering::Relaxed);
    let mut code = if golden_failed == 0 && results.iter().all(|r| r.verdict.is_pass()) {
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

/// `n` runtimes (at least one) of one thread each: a run is a handful of messages between an
/// endpoint's driver task and the run's task, and handing each over between worker threads
/// cost more than the work (`ci/bench-calls.sh`: 25-35% less CPU per call than the
/// multi-threaded runtime). With targets at once, each worker has its own. The report files
/// are written on a thread of their own.
fn runtimes(n: usize) -> std::io::Result<Vec<tokio::runtime::Runtime>> {
    (0..n.max(1))
        .map(|_| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        })
        .collect()
}
