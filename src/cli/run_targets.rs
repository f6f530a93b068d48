//! `siptest run --targets FILE`: the named targets, several at once where they are independent.
//!
//! **Independence.** Two targets are independent when nothing of one can be in the way of
//! the other: a `builtin` target is always independent (each run starts a fresh in-process
//! UA on a port the OS picks); two targets at addresses are dependent when they share a
//! socket address (their SIP address, their `control` port, their driver's `ctrl_tcp`
//! address; transports aside, an unspecified IP matching any) or a driver FIFO. Dependence
//! is made transitive: the targets fall into chains (connected components), each played one
//! target after the other in file order. With `--agent-port` (one fixed port per agent, for
//! every target) or `--target-jobs 1` all targets form one chain: the behaviour of siptest
//! before targets ran at once. Two devices whose `start` or `stop` commands share something
//! siptest cannot see (a lab power switch, a file) are the user's to serialise with
//! `--target-jobs 1`.
//!
//! **The job budget.** `--jobs J` stays the number of runs in flight for the whole plan:
//! with `k = min(--target-jobs, chains)` workers, worker `w` plays its targets' batches with
//! `J / k` jobs (the first `J mod k` workers one more), and at least 1, so at most
//! `max(J, k)` runs are in flight, on about `J + k` threads (the workers, and a batch of
//! more than one job adds a current-thread runtime per job up to the number of cores). One
//! worker (one target at a time) gives a target all `J`, as before. A share is fixed for the
//! worker's life: when fewer targets than workers are left, the idle shares are not lent to
//! the others (the engine's batch owns its semaphore). `--rate` applies to each target's
//! batch as given. Runs are mostly waiting (timers, the peer), so a larger `--jobs` is what
//! buys speed; sharing it keeps sockets and threads bounded however many targets there are.
//!
//! **Order.** Workers take chains in order of their first target. The text progress sees
//! runs as they end, from any target; `results.json`, JUnit, the HTML report and the text
//! table get the `Done` results in plan order (targets in file order, scenarios in path
//! order, then repetitions) whatever the completion order, and the report directory sees the
//! `Finished` runs target by target in file order ([`InPlanOrder`]), so that the names it
//! gives the runs' pcaps (`<target>.<scenario>.pcap`, `-2` for a second scenario of one name)
//! do not depend on which target ended first.

use super::run::TargetBatch;
use crate::engine::batch::RunEvent;
use crate::engine::target::TargetKind;
use crate::engine::targets::{Device, NamedTarget, Restart};
use crate::engine::{run_batch, Batch, Reporter, RunResult, TargetSpec, Verdict};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Reporters shared by the targets played at once.
pub type Shared = Arc<Mutex<Vec<Box<dyn Reporter>>>>;

/// How the named targets are played.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Indexes into the plan's batches, chain by chain: the targets of a chain one after the
    /// other in file order, chains in order of their first target. Targets without runs (in
    /// this shard) are in none.
    pub chains: Vec<Vec<usize>>,
    /// The jobs of each worker's batches: one entry per worker, each at least 1.
    pub shares: Vec<usize>,
}

/// The schedule of `batches`: `target_jobs` targets at once at most, `jobs` runs in flight
/// shared between them; `serial` (`--agent-port`) plays one target at a time.
pub fn schedule(
    batches: &[TargetBatch],
    target_jobs: usize,
    jobs: usize,
    serial: bool,
) -> Schedule {
    let live: Vec<usize> = (0..batches.len())
        .filter(|&i| !batches[i].batch.scenarios.is_empty())
        .collect();
    let chains = if serial || target_jobs <= 1 {
        vec![live]
    } else {
        let specs: Vec<&TargetSpec> = live
            .iter()
            .map(|&i| &batches[i].batch.config.target)
            .collect();
        components(&specs)
            .into_iter()
            .map(|c| c.into_iter().map(|k| live[k]).collect())
            .collect()
    };
    let chains: Vec<Vec<usize>> = chains.into_iter().filter(|c| !c.is_empty()).collect();
    let k = target_jobs.clamp(1, chains.len().max(1));
    Schedule {
        chains,
        shares: shares(jobs, k),
    }
}

/// `jobs` split over `k` workers, each at least 1.
fn shares(jobs: usize, k: usize) -> Vec<usize> {
    (0..k)
        .map(|w| (jobs / k + usize::from(w < jobs % k)).max(1))
        .collect()
}

/// The connected components of "dependent", each in input order, ordered by first member.
fn components(specs: &[&TargetSpec]) -> Vec<Vec<usize>> {
    let res: Vec<Vec<Resource>> = specs.iter().map(|s| resources(s)).collect();
    let mut root: Vec<usize> = (0..specs.len()).collect();
    fn find(root: &mut [usize], mut i: usize) -> usize {
        while root[i] != i {
            root[i] = root[root[i]];
            i = root[i];
        }
        i
    }
    for b in 0..specs.len() {
        for a in 0..b {
            if res[a].iter().any(|x| res[b].iter().any(|y| x.same(y))) {
                let (ra, rb) = (find(&mut root, a), find(&mut root, b));
                // The earlier target stays the root: components keep their first member.
                root[ra.max(rb)] = ra.min(rb);
            }
        }
    }
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut at: HashMap<usize, usize> = HashMap::new();
    for i in 0..specs.len() {
        let r = find(&mut root, i);
        let slot = *at.entry(r).or_insert_with(|| {
            out.push(Vec::new());
            out.len() - 1
        });
        out[slot].push(i);
    }
    out
}

/// What a target occupies that another could be in the way of.
#[derive(Debug)]
enum Resource {
    Socket(SocketAddr),
    Path(PathBuf),
}

impl Resource {
    fn same(&self, other: &Resource) -> bool {
        match (self, other) {
            (Resource::Socket(a), Resource::Socket(b)) => {
                a.port() == b.port()
                    && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
            }
            (Resource::Path(a), Resource::Path(b)) => a == b,
            _ => false,
        }
    }
}

/// A builtin target occupies nothing before its runs (each picks a free port).
fn resources(spec: &TargetSpec) -> Vec<Resource> {
    let TargetKind::Address { control, device } = &spec.kind else {
        return Vec::new();
    };
    let mut out = vec![Resource::Socket(spec.addr)];
    out.extend(control.map(Resource::Socket));
    if let Some(d) = device {
        out.push(match &d.channel {
            crate::engine::device_driver::Channel::CtrlTcp(a) => Resource::Socket(*a),
            crate::engine::device_driver::Channel::Fifo(p) => Resource::Path(p.clone()),
        });
    }
    out
}

pub fn lock(
    m: &Mutex<Vec<Box<dyn Reporter>>>,
) -> std::sync::MutexGuard<'_, Vec<Box<dyn Reporter>>> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn emit(reps: &Mutex<Vec<Box<dyn Reporter>>>, ev: &RunEvent<'_>) {
    for r in lock(reps).iter_mut() {
        r.on_event(ev);
    }
}

/// Plays the named targets as `schedule` says, one worker thread per share with its own
/// runtime (`runtimes[w]`); returns every result in plan order. The reporters hear one
/// `Planned` and one `Done` for the whole plan.
pub fn run_named(
    runtimes: &[tokio::runtime::Runtime],
    schedule: &Schedule,
    batches: &[TargetBatch],
    report_dir: &Path,
    reps: &Shared,
) -> Vec<RunResult> {
    let began = Instant::now();
    let total: usize = batches.iter().map(|b| runs_of(&b.batch)).sum();
    emit(reps, &RunEvent::Planned { total });
    let slots: Mutex<Vec<Vec<RunResult>>> = Mutex::new(vec![Vec::new(); batches.len()]);
    let next = AtomicUsize::new(0);
    let worker = |rt: &tokio::runtime::Runtime, jobs: usize| {
        while let Some(chain) = schedule.chains.get(next.fetch_add(1, Ordering::Relaxed)) {
            for &t in chain {
                let results = play_guarded(rt, &batches[t], jobs, report_dir, reps);
                slots
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)[t] = results;
            }
        }
    };
    let mut workers = runtimes.iter().zip(schedule.shares.iter().copied());
    let first = workers.next();
    std::thread::scope(|s| {
        for (rt, jobs) in workers {
            let spawned = std::thread::Builder::new()
                .name("siptest-target".into())
                .spawn_scoped(s, move || worker(rt, jobs));
            // The chains it would have taken go to the others.
            if let Err(e) = spawned {
                eprintln!("siptest run: cannot start a thread for targets: {e}");
            }
        }
        // This thread is the first worker: there is always one.
        if let Some((rt, jobs)) = first {
            worker(rt, jobs);
        }
    });
    let all: Vec<RunResult> = slots
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .flatten()
        .collect();
    emit(
        reps,
        &RunEvent::Done {
            results: &all,
            duration: began.elapsed(),
        },
    );
    all
}

fn runs_of(b: &Batch) -> usize {
    b.scenarios.len() * b.repeat.max(1) as usize
}

/// [`play_target`], with a panic (a bug in siptest) turned into error results for the
/// target's runs rather than the end of the other targets' (their devices still stop: a
/// [`Device`] stops when dropped, unwinding too).
fn play_guarded(
    rt: &tokio::runtime::Runtime,
    tb: &TargetBatch,
    jobs: usize,
    report_dir: &Path,
    reps: &Shared,
) -> Vec<RunResult> {
    let played = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        play_target(rt, tb, jobs, report_dir, reps)
    }));
    played.unwrap_or_else(|_| {
        let name = tb.named.as_ref().map_or("", |t| t.name.value.as_str());
        let why = format!("the runs against `{name}` stopped (a bug in siptest)");
        pairs(&tb.batch)
            .map(|(sc, rep)| {
                let mut r = crate::engine::error_result(
                    sc,
                    &tb.batch.config,
                    rep,
                    why.clone(),
                    Duration::ZERO,
                );
                r.target = name.to_string();
                r
            })
            .collect()
    })
}

/// Every (scenario, repetition) of a batch in plan order.
fn pairs(b: &Batch) -> impl Iterator<Item = (&crate::scenario::Scenario, u32)> + '_ {
    b.scenarios
        .iter()
        .flat_map(move |sc| (1..=b.repeat.max(1)).map(move |rep| (sc.as_ref(), rep)))
}

/// Plays one named target: start its device, wait until it is ready, run the scenarios it
/// supports with `jobs` at once (the others are inconclusive, naming what is missing), stop
/// it. The results in plan order, named by the target.
fn play_target(
    rt: &tokio::runtime::Runtime,
    tb: &TargetBatch,
    jobs: usize,
    report_dir: &Path,
    reps: &Shared,
) -> Vec<RunResult> {
    let (Some(target), batch) = (&tb.named, &tb.batch) else {
        return Vec::new();
    };
    // A shard may hold none of this target's pairs: its device is not started.
    if batch.scenarios.is_empty() {
        return Vec::new();
    }
    if target.restart == Restart::PerScenario && target.start.is_some() {
        return play_restarting(rt, target, batch, report_dir, reps);
    }
    let name = target.name.value.clone();
    let log = report_dir.join(format!("target-{name}.log"));
    let (device, not_ready) = start_ready(target, &log, false);
    let why = not_runnable(target, batch, not_ready.as_deref());
    let runnable = Batch {
        scenarios: batch
            .scenarios
            .iter()
            .zip(&why)
            .filter(|(_, m)| m.is_none())
            .map(|(s, _)| s.clone())
            .collect(),
        jobs,
        ..batch.clone()
    };
    let ran = if runnable.scenarios.is_empty() {
        Vec::new()
    } else {
        rt.block_on(run_batch(runnable, &mut relabelled(reps, &name)))
    };
    drop(device);
    assemble(batch, &name, &why, ran, reps)
}

/// Plays a `restart: per-scenario` target: for each scenario it suits, a fresh start of
/// the device (its output appended to one log, under a line naming the scenario), the
/// scenario's runs, and the stop, before the next scenario.
fn play_restarting(
    rt: &tokio::runtime::Runtime,
    target: &NamedTarget,
    batch: &Batch,
    report_dir: &Path,
    reps: &Shared,
) -> Vec<RunResult> {
    let name = target.name.value.clone();
    let log = report_dir.join(format!("target-{name}.log"));
    let _ = std::fs::remove_file(&log);
    let mut why = Vec::with_capacity(batch.scenarios.len());
    let mut ran = Vec::new();
    for sc in &batch.scenarios {
        if let Some(unsuited) = target.unsuited(sc) {
            why.push(Some(unsuited));
            continue;
        }
        note_in_log(
            &log,
            &format!("siptest: starting `{name}` for {}", sc.name.value),
        );
        let (device, not_ready) = start_ready(target, &log, true);
        if let Some(e) = not_ready {
            why.push(Some(format!("target `{name}` is not ready: {e}")));
            continue;
        }
        why.push(None);
        let one = Batch {
            scenarios: vec![sc.clone()],
            jobs: 1,
            ..batch.clone()
        };
        ran.extend(rt.block_on(run_batch(one, &mut relabelled(reps, &name))));
        drop(device);
    }
    assemble(batch, &name, &why, ran, reps)
}

/// Starts the target's device and waits until it is ready: the device (stopped when
/// dropped) and why it is not ready, if it is not.
fn start_ready(target: &NamedTarget, log: &Path, append: bool) -> (Option<Device>, Option<String>) {
    match Device::start(target, log, append) {
        Ok(mut d) => {
            let r = d.wait_ready(target);
            (Some(d), r.err())
        }
        Err(e) => (None, Some(e)),
    }
}

fn note_in_log(log: &Path, line: &str) {
    use std::io::Write;
    if let Some(dir) = log.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    {
        let _ = writeln!(f, "{line}");
    }
}

fn relabelled(reps: &Shared, name: &str) -> Vec<Box<dyn Reporter>> {
    vec![Box::new(Relabel {
        inner: reps.clone(),
        name: name.to_string(),
    })]
}

/// Per scenario of the batch: why it is not played against the target (not ready, or a
/// need its `supports` lacks), or `None`.
fn not_runnable(
    target: &NamedTarget,
    batch: &Batch,
    not_ready: Option<&str>,
) -> Vec<Option<String>> {
    let name = &target.name.value;
    batch
        .scenarios
        .iter()
        .map(|sc| {
            if let Some(why) = not_ready {
                return Some(format!("target `{name}` is not ready: {why}"));
            }
            target.unsuited(sc)
        })
        .collect()
}

/// The target's results in plan order: the runs played (`ran`, in plan order) and an
/// inconclusive result, reported here, for each run not played.
fn assemble(
    batch: &Batch,
    name: &str,
    why: &[Option<String>],
    ran: Vec<RunResult>,
    reps: &Shared,
) -> Vec<RunResult> {
    let mut ran = ran.into_iter();
    let mut out = Vec::with_capacity(runs_of(batch));
    for (sc, why) in batch.scenarios.iter().zip(why) {
        for rep in 1..=batch.repeat.max(1) {
            let mut r = match why {
                Some(reason) => {
                    let mut r = crate::engine::error_result(
                        sc,
                        &batch.config,
                        rep,
                        String::new(),
                        Duration::ZERO,
                    );
                    r.verdict = Verdict::Inconclusive {
                        step: None,
                        reason: reason.clone(),
                    };
                    r.target = name.to_string();
                    emit(
                        reps,
                        &RunEvent::Started {
                            scenario: &sc.name.value,
                            repetition: rep,
                        },
                    );
                    emit(reps, &RunEvent::Finished(&r));
                    r
                }
                None => match ran.next() {
                    Some(r) => r,
                    None => continue,
                },
            };
            r.target = name.to_string();
            out.push(r);
        }
    }
    out
}

/// Forwards one target's runs to the shared reporters, named by the target; the batch's own
/// `Planned` and `Done` are dropped (the whole plan has one of each).
struct Relabel {
    inner: Shared,
    name: String,
}

impl Reporter for Relabel {
    fn on_event(&mut self, ev: &RunEvent<'_>) {
        match ev {
            RunEvent::Started { .. } => emit(&self.inner, ev),
            RunEvent::Finished(r) => {
                let mut r = (*r).clone();
                r.target.clone_from(&self.name);
                emit(&self.inner, &RunEvent::Finished(&r));
            }
            RunEvent::Planned { .. } | RunEvent::Done { .. } => {}
        }
    }
}

/// Hands `Finished` runs to its reporter target by target in plan order: the runs of the
/// first target not yet complete go through as they end, the others wait until every
/// earlier target is complete (within a target, in the order they ended, as with one target
/// at a time). `Done` lets through whatever still waits (a run that ended without
/// `Finished`, a panic) first. Other events go through.
pub struct InPlanOrder {
    inner: Box<dyn Reporter>,
    index: HashMap<String, usize>,
    expected: Vec<usize>,
    seen: Vec<usize>,
    held: Vec<Vec<RunResult>>,
    head: usize,
}

impl InPlanOrder {
    /// `plan`: each target's name and number of runs, in plan order.
    pub fn new(inner: Box<dyn Reporter>, plan: &[(String, usize)]) -> InPlanOrder {
        InPlanOrder {
            inner,
            index: plan
                .iter()
                .enumerate()
                .map(|(i, (n, _))| (n.clone(), i))
                .collect(),
            expected: plan.iter().map(|p| p.1).collect(),
            seen: vec![0; plan.len()],
            held: vec![Vec::new(); plan.len()],
            head: 0,
        }
    }

    /// Moves past the complete targets, handing on what the new head target held.
    fn advance(&mut self) {
        while self.head < self.expected.len() && self.seen[self.head] >= self.expected[self.head] {
            self.head += 1;
            if let Some(held) = self.held.get_mut(self.head) {
                for r in std::mem::take(held) {
                    self.inner.on_event(&RunEvent::Finished(&r));
                }
            }
        }
    }
}

impl Reporter for InPlanOrder {
    fn on_event(&mut self, ev: &RunEvent<'_>) {
        match ev {
            RunEvent::Finished(r) => {
                self.advance();
                match self.index.get(&r.target).copied() {
                    Some(i) if i > self.head => {
                        self.seen[i] += 1;
                        self.held[i].push((*r).clone());
                    }
                    Some(i) => {
                        self.seen[i] += 1;
                        self.inner.on_event(ev);
                    }
                    None => self.inner.on_event(ev),
                }
                self.advance();
            }
            RunEvent::Done { .. } => {
                for held in &mut self.held {
                    for r in std::mem::take(held) {
                        self.inner.on_event(&RunEvent::Finished(&r));
                    }
                }
                self.inner.on_event(ev);
            }
            _ => self.inner.on_event(ev),
        }
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.inner.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RunConfig;
    use crate::scenario::{load_str, Scenario};

    fn scenario(name: &str) -> Arc<Scenario> {
        let text = format!(
            "name: {name}\nsummary: s\nagents:\n  alice: {{}}\nsteps:\n  - send: OPTIONS\n    uri: \"sip:[target.host]:[target.port]\"\n  - expect: 200\n"
        );
        Arc::new(load_str(&text, "t.yaml").unwrap())
    }

    fn batch(address: &str, scenarios: usize) -> TargetBatch {
        TargetBatch {
            named: None,
            batch: Batch {
                scenarios: (0..scenarios).map(|i| scenario(&format!("s{i}"))).collect(),
                config: RunConfig::new(TargetSpec::parse(address).unwrap()),
                jobs: 4,
                repeat: 1,
                rate: None,
            },
        }
    }

    fn chains(addresses: &[&str], target_jobs: usize, serial: bool) -> Vec<Vec<usize>> {
        let batches: Vec<TargetBatch> = addresses.iter().map(|a| batch(a, 1)).collect();
        schedule(&batches, target_jobs, 4, serial).chains
    }

    #[test]
    fn builtin_targets_are_independent() {
        let b = [
            "builtin",
            "builtin?quirk=no-to-tag",
            "builtin:tcp",
            "builtin",
        ];
        assert_eq!(chains(&b, 8, false), [[0], [1], [2], [3]]);
    }

    #[test]
    fn one_address_one_chain_in_file_order() {
        let a = [
            "udp:127.0.0.1:5070",
            "builtin",
            "tcp:127.0.0.1:5070",
            "udp:127.0.0.1:5080",
            "udp:0.0.0.0:5080",
        ];
        assert_eq!(chains(&a, 8, false), vec![vec![0, 2], vec![1], vec![3, 4]]);
    }

    #[test]
    fn control_ports_count_and_dependence_is_transitive() {
        let a = [
            "udp:127.0.0.1:5070?control=127.0.0.1:5071",
            "udp:127.0.0.1:5072?control=127.0.0.1:5071",
            "udp:127.0.0.1:5073",
            "udp:127.0.0.1:5071",
            "udp:127.0.0.1:5074?control=127.0.0.1:5073",
        ];
        assert_eq!(chains(&a, 8, false), vec![vec![0, 1, 3], vec![2, 4]]);
    }

    #[test]
    fn agent_ports_or_one_target_job_make_one_chain() {
        let b = ["builtin", "builtin", "udp:127.0.0.1:5070"];
        assert_eq!(chains(&b, 8, true), [[0, 1, 2]]);
        assert_eq!(chains(&b, 1, false), [[0, 1, 2]]);
    }

    #[test]
    fn targets_without_runs_are_left_out() {
        let batches = vec![
            batch("builtin", 2),
            batch("builtin", 0),
            batch("builtin", 1),
        ];
        let s = schedule(&batches, 8, 4, false);
        assert_eq!(s.chains, [[0], [2]]);
        assert_eq!(s.shares, [2, 2]);
        assert_eq!(schedule(&[batch("builtin", 0)], 8, 4, false).shares, [4]);
    }

    #[test]
    fn the_jobs_are_shared_and_each_worker_has_one() {
        assert_eq!(shares(8, 1), [8]);
        assert_eq!(shares(8, 3), [3, 3, 2]);
        assert_eq!(shares(2, 4), [1, 1, 1, 1]);
        let batches: Vec<TargetBatch> = (0..6).map(|_| batch("builtin", 1)).collect();
        assert_eq!(schedule(&batches, 4, 10, false).shares, [3, 3, 2, 2]);
    }

    /// Records the order of the `Finished` runs it hears, as `target/scenario`.
    struct Record(Arc<Mutex<Vec<String>>>);

    impl Reporter for Record {
        fn on_event(&mut self, ev: &RunEvent<'_>) {
            let mut seen = self.0.lock().unwrap();
            match ev {
                RunEvent::Finished(r) => seen.push(format!("{}/{}", r.target, r.scenario)),
                RunEvent::Done { .. } => seen.push("done".into()),
                _ => {}
            }
        }
    }

    #[test]
    fn the_report_directory_hears_targets_in_plan_order() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let plan = [("a", 2), ("b", 0), ("c", 2), ("d", 1)].map(|(n, k)| (n.to_string(), k));
        let mut gate = InPlanOrder::new(Box::new(Record(seen.clone())), &plan);
        let b = batch("builtin", 1);
        let sc = &b.batch.scenarios[0];
        let finished = |gate: &mut InPlanOrder, target: &str, scenario: &str| {
            let cfg = &b.batch.config;
            let mut r = crate::engine::error_result(sc, cfg, 1, String::new(), Duration::ZERO);
            r.target = target.into();
            r.scenario = scenario.into();
            gate.on_event(&RunEvent::Finished(&r));
        };
        finished(&mut gate, "c", "2");
        finished(&mut gate, "a", "1");
        finished(&mut gate, "d", "1");
        assert_eq!(*seen.lock().unwrap(), ["a/1"]);
        finished(&mut gate, "c", "1");
        finished(&mut gate, "a", "2");
        assert_eq!(*seen.lock().unwrap(), ["a/1", "a/2", "c/2", "c/1", "d/1"]);
        // A target whose runs did not all report (a panic) is let through at `Done`.
        let mut gate = InPlanOrder::new(Box::new(Record(seen.clone())), &plan);
        seen.lock().unwrap().clear();
        finished(&mut gate, "c", "1");
        let done = RunEvent::Done {
            results: &[],
            duration: Duration::ZERO,
        };
        gate.on_event(&done);
        assert_eq!(*seen.lock().unwrap(), ["c/1", "done"]);
    }
}
