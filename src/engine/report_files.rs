//! The report directory (`--report-dir`, default `reports/`): `results.json` and `junit.xml`
//! once all runs ended, and the messages of the runs as pcaps (every agent's messages merged
//! by time, real time stamps) and trace logs (the format of `crate::trace::log`):
//!
//! - a scenario played once: `<scenario>.pcap` and `<scenario>.trace`, whatever its verdict,
//!   written as the run ends;
//! - a scenario repeated (`--repeat N`, N > 1): each run that did not pass gets its own files
//!   as it ends (`<scenario>.pcap` for repetition 1, `<scenario>-N.pcap` for repetition N);
//!   the runs that passed share one `<scenario>-passed.pcap` and `.trace` (each run's
//!   Call-ID tells them apart; `siptest lint` checks them call by call), written once all
//!   runs ended. Opening two files per passing run cost more than the run itself
//!   (`ci/bench-calls.sh`).
//!
//! Per-run files are written by a writer thread behind a bounded queue, so that the runs do
//! not wait for the file system; [`Reporter::finish`] waits for it.

use super::batch::RunEvent;
use super::report::{json_document, junit_document, Reporter};
use super::verdict::RunResult;
use crate::pcap::{self, LinkType, PcapOptions, PcapWriter};
use crate::trace::{log, Trace, TracedMessage};
use std::collections::{BTreeMap, HashSet};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

/// Per-run files waiting for the writer thread; beyond this the runs wait (back-pressure).
const QUEUE: usize = 64;

/// Writes a run's pcap and trace log into `dir`; returns their paths.
pub fn write_run_files(dir: &Path, stem: &str, r: &RunResult) -> io::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    write_trace_files(dir, stem, &r.trace, r.started_at)
}

/// Writes `<stem>.pcap` and `<stem>.trace` of a trace whose time zero is `started_at`.
fn write_trace_files(
    dir: &Path,
    stem: &str,
    trace: &Trace,
    started_at: SystemTime,
) -> io::Result<(PathBuf, PathBuf)> {
    let pcap_path = dir.join(format!("{stem}.pcap"));
    let opts = PcapOptions {
        link: LinkType::Ethernet,
        ..PcapOptions::starting_at(started_at)
    };
    pcap::write_file(&pcap_path, trace, opts)?;
    let trace_path = dir.join(format!("{stem}.trace"));
    std::fs::write(&trace_path, log::write(trace))?;
    Ok((pcap_path, trace_path))
}

/// Writes the messages of several runs into one `<stem>.pcap` and `<stem>.trace`, merged by
/// time, with time zero at the earliest run's start.
pub fn write_merged_files(
    dir: &Path,
    stem: &str,
    runs: &[&RunResult],
) -> io::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let zero = runs
        .iter()
        .map(|r| r.started_at)
        .min()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut all: Vec<(Duration, &TracedMessage)> = runs
        .iter()
        .flat_map(|r| {
            let shift = r.started_at.duration_since(zero).unwrap_or_default();
            r.trace.messages.iter().map(move |m| (m.time + shift, m))
        })
        .collect();
    all.sort_by_key(|(t, _)| *t);
    let pcap_path = dir.join(format!("{stem}.pcap"));
    let opts = PcapOptions {
        link: LinkType::Ethernet,
        ..PcapOptions::starting_at(zero)
    };
    let file = io::BufWriter::new(std::fs::File::create(&pcap_path)?);
    let mut w = PcapWriter::new(file, opts)?;
    for (t, m) in &all {
        w.write_message(*t, m.src, m.dst, m.transport, m.message.as_bytes())?;
    }
    w.finish()?;
    let trace_path = dir.join(format!("{stem}.trace"));
    let mut out = io::BufWriter::new(std::fs::File::create(&trace_path)?);
    out.write_all(&log::write_records(all.iter().copied()))?;
    out.flush()?;
    Ok((pcap_path, trace_path))
}

/// One run's files for the writer thread.
struct Job {
    stem: String,
    trace: Trace,
    started_at: SystemTime,
}

/// The writer thread and its queue; started with the first file.
struct Writer {
    tx: SyncSender<Job>,
    thread: JoinHandle<Vec<String>>,
}

impl Writer {
    fn start(dir: PathBuf) -> io::Result<Writer> {
        let (tx, rx) = sync_channel::<Job>(QUEUE);
        let thread = std::thread::Builder::new()
            .name("siptest-reports".into())
            .spawn(move || {
                let mut errors = Vec::new();
                let made = std::fs::create_dir_all(&dir);
                for job in rx {
                    let res = match &made {
                        Ok(()) => write_trace_files(&dir, &job.stem, &job.trace, job.started_at)
                            .map(|_| ()),
                        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
                    };
                    if let Err(e) = res {
                        errors.push(format!(
                            "{}: cannot write {}.pcap/.trace: {e}",
                            dir.display(),
                            job.stem
                        ));
                    }
                }
                errors
            })?;
        Ok(Writer { tx, thread })
    }
}

/// The report-directory reporter.
pub struct ReportDir {
    dir: PathBuf,
    /// File stems used so far (two scenarios of one name in different directories, or runs
    /// of several targets, get `-2`, `-3`...).
    stems: HashSet<String>,
    /// Scenarios are repeated: passing runs share one pcap and trace per scenario.
    merge_passing: bool,
    writer: Option<Writer>,
    errors: Vec<String>,
}

impl ReportDir {
    pub fn new(dir: impl Into<PathBuf>) -> ReportDir {
        ReportDir {
            dir: dir.into(),
            stems: HashSet::new(),
            merge_passing: false,
            writer: None,
            errors: Vec::new(),
        }
    }

    /// With `true` (scenarios are repeated), the runs that pass go into one
    /// `<scenario>-passed.pcap` and `.trace` per scenario and target, and only the others get
    /// files of their own.
    pub fn merge_passing(mut self, yes: bool) -> ReportDir {
        self.merge_passing = yes;
        self
    }

    fn stem_for(&mut self, base: String) -> String {
        let mut stem = base.clone();
        let mut n = 2;
        while !self.stems.insert(stem.clone()) {
            stem = format!("{base}-{n}");
            n += 1;
        }
        stem
    }

    /// Queues a run's files for the writer thread (started on first use).
    fn queue(&mut self, r: &RunResult) {
        let stem = self.stem_for(r.file_stem());
        if self.writer.is_none() {
            match Writer::start(self.dir.clone()) {
                Ok(w) => self.writer = Some(w),
                Err(e) => {
                    self.errors
                        .push(format!("cannot start the report writer: {e}"));
                }
            }
        }
        let job = Job {
            stem,
            trace: r.trace.clone(),
            started_at: r.started_at,
        };
        let failed = match &self.writer {
            Some(w) => w.tx.send(job).err().map(|e| e.0),
            None => Some(job),
        };
        // The thread is gone (or never started): write here.
        if let Some(job) = failed {
            let res = std::fs::create_dir_all(&self.dir)
                .and_then(|()| write_trace_files(&self.dir, &job.stem, &job.trace, job.started_at));
            if let Err(e) = res {
                self.errors.push(format!(
                    "{}: cannot write {}.pcap/.trace: {e}",
                    self.dir.display(),
                    job.stem
                ));
            }
        }
    }

    /// One pcap and trace of the passing runs per (source, scenario, target).
    fn write_passing(&mut self, results: &[RunResult]) {
        let mut groups: BTreeMap<(&str, &str, &str), Vec<&RunResult>> = BTreeMap::new();
        for r in results.iter().filter(|r| r.verdict.is_pass()) {
            let key = (r.source.as_str(), r.scenario.as_str(), r.target.as_str());
            groups.entry(key).or_default().push(r);
        }
        for ((_, scenario, _), runs) in groups {
            let stem = self.stem_for(format!("{scenario}-passed"));
            if let Err(e) = write_merged_files(&self.dir, &stem, &runs) {
                self.errors.push(format!(
                    "{}: cannot write {stem}.pcap/.trace: {e}",
                    self.dir.display()
                ));
            }
        }
    }

    fn write_summary(&self, results: &[RunResult], d: std::time::Duration) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let json = serde_json::to_vec_pretty(&json_document(results))?;
        std::fs::write(self.dir.join("results.json"), json)?;
        let xml = junit_document(results, d)
            .to_string()
            .map_err(io::Error::other)?;
        std::fs::write(self.dir.join("junit.xml"), xml)
    }

    /// Waits until the writer thread has written every queued file.
    fn drain(&mut self) {
        if let Some(Writer { tx, thread }) = self.writer.take() {
            drop(tx);
            match thread.join() {
                Ok(errors) => self.errors.extend(errors),
                Err(_) => self.errors.push("the report writer stopped".into()),
            }
        }
    }
}

impl Reporter for ReportDir {
    fn on_event(&mut self, ev: &RunEvent<'_>) {
        match ev {
            RunEvent::Finished(r) => {
                if !(self.merge_passing && r.verdict.is_pass()) {
                    self.queue(r);
                }
            }
            RunEvent::Done { results, duration } => {
                if self.merge_passing {
                    self.write_passing(results);
                }
                if let Err(e) = self.write_summary(results, *duration) {
                    self.errors.push(format!(
                        "{}: cannot write results.json/junit.xml: {e}",
                        self.dir.display()
                    ));
                }
                self.drain();
            }
            _ => {}
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        self.drain();
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(io::Error::other(self.errors.join("; ")))
        }
    }
}

impl Drop for ReportDir {
    fn drop(&mut self) {
        self.drain();
    }
}
