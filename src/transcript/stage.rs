//! The golden stage of `siptest run`: a [`Reporter`] in front of the others that compares each
//! finished run with its golden file ([`super::golden::judge`]) before they see it, or with
//! `--accept` writes the golden files ([`super::golden::accept`]). The reporters downstream
//! (terminal, JSON, JUnit, report directory) get the judged results, in `Finished` and in
//! `Done` alike.

use super::golden::{self, Accepted, Golden};
use crate::engine::batch::RunEvent;
use crate::engine::report::Reporter;
use crate::engine::verdict::RunResult;
use crate::engine::Verdict;
use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Compares (or accepts) every run, then hands it on.
pub struct GoldenStage {
    inner: Vec<Box<dyn Reporter>>,
    dir: PathBuf,
    accept: bool,
    /// Judged results by (source, scenario, target, repetition), for `Done`.
    judged: HashMap<(String, String, String, u32), RunResult>,
    /// Golden files read so far (`None`: there is none) by (scenario, target).
    cache: HashMap<(String, String), Option<Golden>>,
    /// Runs that passed their scenario and failed their golden.
    failed: Arc<AtomicUsize>,
    accepted: [usize; 3],
    errors: Vec<String>,
}

impl GoldenStage {
    /// `failed` counts the runs the golden comparison failed (for the exit status).
    pub fn new(
        inner: Vec<Box<dyn Reporter>>,
        dir: impl Into<PathBuf>,
        accept: bool,
        failed: Arc<AtomicUsize>,
    ) -> GoldenStage {
        GoldenStage {
            inner,
            dir: dir.into(),
            accept,
            judged: HashMap::new(),
            cache: HashMap::new(),
            failed,
            accepted: [0; 3],
            errors: Vec::new(),
        }
    }

    fn forward(&mut self, ev: &RunEvent<'_>) {
        for r in &mut self.inner {
            r.on_event(ev);
        }
    }

    fn key(r: &RunResult) -> (String, String, String, u32) {
        (
            r.source.clone(),
            r.scenario.clone(),
            r.target.clone(),
            r.repetition,
        )
    }

    /// The run judged against its golden; `None` when it has none (it goes on unchanged).
    /// An inconclusive or error run is not compared: it was not played to its end because of
    /// the target's configuration, the scenario or siptest, so what its golden has and it
    /// lacks says nothing about the target.
    fn judge(&mut self, r: &RunResult) -> Option<RunResult> {
        if matches!(
            r.verdict,
            Verdict::Inconclusive { .. } | Verdict::Error { .. }
        ) {
            return None;
        }
        let key = (r.scenario.clone(), r.target.clone());
        if !self.cache.contains_key(&key) {
            let found = match golden::find(&self.dir, &r.scenario, &r.target) {
                Ok(g) => g,
                Err(e) => {
                    self.errors.push(e);
                    None
                }
            };
            self.cache.insert(key.clone(), found);
        }
        let g = self.cache.get(&key)?.as_ref()?;
        let mut out = r.clone();
        golden::apply(&mut out, g);
        if r.verdict.is_pass() && !out.verdict.is_pass() {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        Some(out)
    }

    fn accept(&mut self, r: &RunResult) {
        // Only a run that passed its scenario becomes a golden, and one per scenario.
        if !r.verdict.is_pass() || r.repetition != 1 {
            return;
        }
        match golden::accept(&self.dir, &r.scenario, &r.target, &r.transcript) {
            Ok((_, how)) => {
                let i = match how {
                    Accepted::Created => 0,
                    Accepted::Updated => 1,
                    Accepted::Unchanged => 2,
                };
                self.accepted[i] += 1;
            }
            Err(e) => self.errors.push(format!(
                "{}: cannot write the golden of {}: {e}",
                self.dir.display(),
                r.scenario
            )),
        }
    }
}

impl Reporter for GoldenStage {
    fn on_event(&mut self, ev: &RunEvent<'_>) {
        match ev {
            RunEvent::Finished(r) => {
                if self.accept {
                    self.accept(r);
                    self.forward(ev);
                    return;
                }
                match self.judge(r) {
                    Some(j) => {
                        self.forward(&RunEvent::Finished(&j));
                        self.judged.insert(Self::key(&j), j);
                    }
                    None => self.forward(ev),
                }
            }
            RunEvent::Done { results, duration } if !self.judged.is_empty() => {
                let all: Vec<RunResult> = results
                    .iter()
                    .map(|r| {
                        self.judged
                            .remove(&Self::key(r))
                            .unwrap_or_else(|| r.clone())
                    })
                    .collect();
                self.forward(&RunEvent::Done {
                    results: &all,
                    duration: *duration,
                });
            }
            _ => self.forward(ev),
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        let mut errors = std::mem::take(&mut self.errors);
        for r in &mut self.inner {
            if let Err(e) = r.finish() {
                errors.push(e.to_string());
            }
        }
        if self.accept {
            let [c, u, s] = self.accepted;
            eprintln!(
                "siptest run --accept: {} golden file(s) created, {u} updated, {s} unchanged (within tolerance) in {}",
                c,
                self.dir.display()
            );
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(io::Error::other(errors.join("; ")))
        }
    }
}
