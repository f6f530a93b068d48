//! Many runs: every scenario, `repeat` times each, at most `jobs` at once, started at most
//! `rate` per second. Runs report through [`RunEvent`]s to every [`Reporter`] in turn; the
//! reporters know nothing of each other (nextest's model, `../shared/STYLE.md`).

use super::report::Reporter;
use super::verdict::RunResult;
use super::{run_in_slot, RunConfig};
use crate::scenario::Scenario;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio::time::Instant;

/// What a batch runs.
#[derive(Clone, Debug)]
pub struct Batch {
    pub scenarios: Vec<Arc<Scenario>>,
    pub config: RunConfig,
    /// Runs at once (at least 1).
    pub jobs: usize,
    /// Runs of each scenario (at least 1), each a fresh run with its own Call-ID.
    pub repeat: u32,
    /// Runs started per second, when limited.
    pub rate: Option<f64>,
}

/// What reporters hear.
#[derive(Debug)]
pub enum RunEvent<'a> {
    /// The batch starts with this many runs.
    Planned { total: usize },
    /// A run starts.
    Started { scenario: &'a str, repetition: u32 },
    /// A run ended (in the order runs end).
    Finished(&'a RunResult),
    /// Every run ended; the results in plan order (scenario, then repetition).
    Done {
        results: &'a [RunResult],
        duration: Duration,
    },
}

enum Msg {
    Started(usize),
    Finished(usize, Box<RunResult>),
}

/// Runs the batch, telling every reporter about each event, and returns the results in plan
/// order.
pub async fn run_batch(batch: Batch, reporters: &mut [Box<dyn Reporter>]) -> Vec<RunResult> {
    let began = Instant::now();
    let plan: Vec<(Arc<Scenario>, u32)> = batch
        .scenarios
        .iter()
        .flat_map(|s| (1..=batch.repeat.max(1)).map(move |r| (s.clone(), r)))
        .collect();
    emit(reporters, &RunEvent::Planned { total: plan.len() });
    let (tx, mut rx) = mpsc::channel::<Msg>(64);
    let config = batch.config.clone();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let shards = Shards::start(cores.min(batch.jobs).min(plan.len()));
    let spawner = tokio::spawn(spawn_runs(
        plan.clone(),
        batch,
        tx,
        began,
        shards.handles.clone(),
    ));
    let mut results: Vec<Option<RunResult>> = vec![None; plan.len()];
    let mut done = 0;
    while done < plan.len() {
        match rx.recv().await {
            Some(Msg::Started(i)) => emit(
                reporters,
                &RunEvent::Started {
                    scenario: &plan[i].0.name.value,
                    repetition: plan[i].1,
                },
            ),
            Some(Msg::Finished(i, r)) => {
                emit(reporters, &RunEvent::Finished(&r));
                results[i] = Some(*r);
                done += 1;
            }
            None => break,
        }
    }
    let _ = spawner.await;
    shards.stop();
    // A run whose task died (a panic: a bug in siptest) still gets a verdict.
    let results: Vec<RunResult> = results
        .into_iter()
        .zip(&plan)
        .map(|(r, (sc, rep))| {
            r.unwrap_or_else(|| {
                let why = "the run stopped without a result (a bug in siptest)".to_string();
                super::error_result(sc, &config, *rep, why, Duration::ZERO)
            })
        })
        .collect();
    emit(
        reporters,
        &RunEvent::Done {
            results: &results,
            duration: began.elapsed(),
        },
    );
    results
}

/// The threads that play the runs: one current-thread runtime each, so that a run and the
/// driver tasks of its endpoints stay on the thread it started on (handing each message over
/// between threads cost more than handling it), while runs spread over the cores. With one
/// core (or one job) the runs play on the caller's runtime.
struct Shards {
    handles: Vec<Handle>,
    stops: Vec<oneshot::Sender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Shards {
    fn start(n: usize) -> Shards {
        let mut s = Shards {
            handles: Vec::new(),
            stops: Vec::new(),
            threads: Vec::new(),
        };
        let threads = if n > 1 { n } else { 0 };
        for k in 0..threads {
            let (handle_tx, handle_rx) = std::sync::mpsc::channel();
            let (stop_tx, stop_rx) = oneshot::channel::<()>();
            let thread = std::thread::Builder::new()
                .name(format!("siptest-runs-{k}"))
                .spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    let _ = handle_tx.send(rt.handle().clone());
                    rt.block_on(async move {
                        let _ = stop_rx.await;
                    });
                });
            // A thread or runtime that cannot start leaves its share to the others.
            if let (Ok(t), Ok(h)) = (thread, handle_rx.recv()) {
                s.handles.push(h);
                s.stops.push(stop_tx);
                s.threads.push(t);
            }
        }
        if s.handles.is_empty() {
            s.handles.push(Handle::current());
        }
        s
    }

    /// Ends the threads (every run has ended: nothing is left on them but finished tasks).
    fn stop(self) {
        for stop in self.stops {
            let _ = stop.send(());
        }
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Starts the runs in plan order, `jobs` at a time, spaced by `rate`, on the shards in turn.
async fn spawn_runs(
    plan: Vec<(Arc<Scenario>, u32)>,
    batch: Batch,
    tx: mpsc::Sender<Msg>,
    began: Instant,
    shards: Vec<Handle>,
) {
    let permits = Arc::new(Semaphore::new(batch.jobs.max(1)));
    let config = Arc::new(batch.config);
    let spacing = batch
        .rate
        .filter(|r| *r > 0.0)
        .map(|r| Duration::from_secs_f64(1.0 / r));
    for (i, (sc, rep)) in plan.into_iter().enumerate() {
        if let Some(gap) = spacing {
            tokio::time::sleep_until(began + gap.mul_f64(i as f64)).await;
        }
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let (tx, config) = (tx.clone(), config.clone());
        shards[i % shards.len()].spawn(async move {
            let _ = tx.send(Msg::Started(i)).await;
            // The permit goes back as soon as the run no longer needs its slot.
            let result = run_in_slot(&sc, &config, rep, permit).await;
            let _ = tx.send(Msg::Finished(i, Box::new(result))).await;
        });
    }
}

fn emit(reporters: &mut [Box<dyn Reporter>], ev: &RunEvent<'_>) {
    for r in reporters.iter_mut() {
        r.on_event(ev);
    }
}
