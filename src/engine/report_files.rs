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
//!   runs ended, with time zero at the start of the batch. Opening two files per passing run
//!   cost more than the run itself (`ci/bench-calls.sh`).
//!
//! The files are made on a writer thread behind a bounded queue, so that the runs do not
//! wait for the file system or for the packets to be built: a passing run's messages become
//! pcap and trace records as the run ends, and once all runs ended the records are only
//! sorted and written. [`Reporter::finish`] waits for the thread.

use super::batch::RunEvent;
use super::report::{json_document_with, junit_document, Reporter, ResultsMeta};
use super::verdict::RunResult;
use crate::pcap::{self, LinkType, PcapOptions, PcapWriter};
use crate::trace::{log, Trace};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

/// Jobs waiting for the writer thread; beyond this the runs wait (back-pressure).
const QUEUE: usize = 256;

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
    pcap::write_file(&pcap_path, trace, pcap_options(started_at))?;
    let trace_path = dir.join(format!("{stem}.trace"));
    std::fs::write(&trace_path, log::write(trace))?;
    Ok((pcap_path, trace_path))
}

fn pcap_options(started_at: SystemTime) -> PcapOptions {
    PcapOptions {
        link: LinkType::Ethernet,
        ..PcapOptions::starting_at(started_at)
    }
}

/// The runs that share merged files: same scenario file, scenario and target.
type Group = (String, String, String);

fn group_of(r: &RunResult) -> Group {
    (r.source.clone(), r.scenario.clone(), r.target.clone())
}

/// The pcap and trace-log records of the passing runs of one group, in the order the runs
/// ended; sorted by time when written.
#[derive(Default)]
struct Merged {
    /// Per message: its time since the batch's start, its pcap records (several for the
    /// first message of a TCP connection: the handshake) and its trace-log record.
    records: Vec<(Duration, Range<usize>, Range<usize>)>,
    pcap: Vec<u8>,
    log: Vec<u8>,
}

impl Merged {
    /// Adds the records of one run that started `shift` after the batch.
    fn add(&mut self, trace: &Trace, started_at: SystemTime, shift: Duration) -> io::Result<()> {
        let mut w = PcapWriter::new(Vec::new(), pcap_options(started_at))?;
        let mut from = w.get_ref().len();
        for m in &trace.messages {
            w.write_message(m.time, m.src, m.dst, m.transport, m.message.as_bytes())?;
            let to = w.get_ref().len();
            let (p0, l0) = (self.pcap.len(), self.log.len());
            self.pcap.extend_from_slice(&w.get_ref()[from..to]);
            log::write_record(&mut self.log, m.time + shift, m);
            self.records
                .push((m.time + shift, p0..self.pcap.len(), l0..self.log.len()));
            from = to;
        }
        Ok(())
    }

    /// Writes `<stem>.pcap` and `<stem>.trace`, every record in time order.
    fn write(mut self, dir: &Path, stem: &str) -> io::Result<()> {
        self.records.sort_by_key(|r| r.0);
        let header = PcapWriter::new(Vec::new(), pcap_options(SystemTime::UNIX_EPOCH))?;
        let mut out = io::BufWriter::new(std::fs::File::create(dir.join(format!("{stem}.pcap")))?);
        out.write_all(header.get_ref())?;
        for (_, p, _) in &self.records {
            out.write_all(&self.pcap[p.clone()])?;
        }
        out.flush()?;
        let mut out = io::BufWriter::new(std::fs::File::create(dir.join(format!("{stem}.trace")))?);
        writeln!(out, "{}", log::MAGIC)?;
        for (_, _, l) in &self.records {
            out.write_all(&self.log[l.clone()])?;
        }
        out.flush()
    }
}

/// What the writer thread does.
enum Job {
    /// A run's own files.
    Run {
        stem: String,
        trace: Trace,
        started_at: SystemTime,
    },
    /// A passing run of a repeated scenario, for its group's merged files.
    Merge {
        group: Group,
        trace: Trace,
        started_at: SystemTime,
    },
    /// Every run ended: write the merged files of each group under its stem.
    Finish(Vec<(Group, String)>),
}

/// The writer thread and its queue; started with the first job.
struct Writer {
    tx: SyncSender<Job>,
    thread: JoinHandle<Vec<String>>,
}

impl Writer {
    fn start(dir: PathBuf, zero: SystemTime) -> io::Result<Writer> {
        let (tx, rx) = sync_channel::<Job>(QUEUE);
        let thread = std::thread::Builder::new()
            .name("siptest-reports".into())
            .spawn(move || write_jobs(&dir, zero, rx))?;
        Ok(Writer { tx, thread })
    }
}

/// The writer thread: every job in turn; returns what could not be written.
fn write_jobs(dir: &Path, zero: SystemTime, rx: Receiver<Job>) -> Vec<String> {
    let mut errors = Vec::new();
    let mut merged: HashMap<Group, Merged> = HashMap::new();
    let made = std::fs::create_dir_all(dir);
    for job in rx {
        let (what, res) = match job {
            Job::Run {
                stem,
                trace,
                started_at,
            } => {
                let res = match &made {
                    Ok(()) => write_trace_files(dir, &stem, &trace, started_at).map(|_| ()),
                    Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
                };
                (stem, res)
            }
            Job::Merge {
                group,
                trace,
                started_at,
            } => {
                let shift = started_at.duration_since(zero).unwrap_or_default();
                let res = merged
                    .entry(group.clone())
                    .or_default()
                    .add(&trace, started_at, shift);
                (format!("{}-passed", group.1), res)
            }
            Job::Finish(stems) => {
                for (group, stem) in stems {
                    let Some(m) = merged.remove(&group) else {
                        continue;
                    };
                    let res = match &made {
                        Ok(()) => m.write(dir, &stem),
                        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
                    };
                    if let Err(e) = res {
                        errors.push(format!(
                            "{}: cannot write {stem}.pcap/.trace: {e}",
                            dir.display()
                        ));
                    }
                }
                continue;
            }
        };
        if let Err(e) = res {
            errors.push(format!(
                "{}: cannot write {what}.pcap/.trace: {e}",
                dir.display()
            ));
        }
    }
    errors
}

/// The report-directory reporter.
pub struct ReportDir {
    dir: PathBuf,
    /// File stems used so far (two scenarios of one name in different directories get `-2`,
    /// `-3`...; with several targets each stem starts with the target's name).
    stems: HashSet<String>,
    /// Scenarios are repeated: passing runs share one pcap and trace per scenario.
    merge_passing: bool,
    /// Time zero of the merged files: when the batch began.
    zero: SystemTime,
    /// The groups of passing runs sent to the writer, in order of their first run.
    groups: Vec<Group>,
    writer: Option<Writer>,
    errors: Vec<String>,
    /// The plan, for `results.json` (every target and scenario, the shard); taken from the
    /// results when not given.
    meta: Option<ResultsMeta>,
}

impl ReportDir {
    pub fn new(dir: impl Into<PathBuf>) -> ReportDir {
        ReportDir {
            dir: dir.into(),
            stems: HashSet::new(),
            merge_passing: false,
            zero: SystemTime::now(),
            groups: Vec::new(),
            writer: None,
            errors: Vec::new(),
            meta: None,
        }
    }

    /// Describes the plan in `results.json` (`docs/results.md`).
    pub fn with_meta(mut self, meta: ResultsMeta) -> ReportDir {
        self.meta = Some(meta);
        self
    }

    /// With `true` (scenarios are repeated), the runs that pass go into one
    /// `<scenario>-passed.pcap` and `.trace` per scenario and target, and only the others get
    /// files of their own.
    pub fn merge_passing(mut self, yes: bool) -> ReportDir {
        self.merge_passing = yes;
        self
    }

    /// `linphone.` before the file names of a run of target `linphone` when the plan has
    /// several targets (so `ls` groups each device's files); nothing with one target.
    fn target_prefix(&self, target: &str) -> String {
        match &self.meta {
            Some(m) if m.targets.len() > 1 => {
                format!("{}.", crate::transcript::golden::file_name(target))
            }
            _ => String::new(),
        }
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

    /// Hands a job to the writer thread (started on first use); writes here if there is
    /// no thread.
    fn send(&mut self, job: Job) {
        if self.writer.is_none() {
            match Writer::start(self.dir.clone(), self.zero) {
                Ok(w) => self.writer = Some(w),
                Err(e) => self
                    .errors
                    .push(format!("cannot start the report writer: {e}")),
            }
        }
        let job = match &self.writer {
            Some(w) => match w.tx.send(job) {
                Ok(()) => return,
                Err(e) => e.0,
            },
            None => job,
        };
        // The thread is gone (or never started): do it here, in order.
        let (tx, rx) = sync_channel(1);
        let _ = tx.send(job);
        drop(tx);
        self.errors.extend(write_jobs(&self.dir, self.zero, rx));
    }

    fn write_summary(&self, results: &[RunResult], d: Duration) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let meta = match &self.meta {
            Some(m) => m.clone(),
            None => ResultsMeta::of_results(results),
        };
        let json = serde_json::to_vec_pretty(&json_document_with(results, &meta))?;
        std::fs::write(self.dir.join("results.json"), json)?;
        let xml = junit_document(results, d)
            .to_string()
            .map_err(io::Error::other)?;
        std::fs::write(self.dir.join("junit.xml"), xml)
    }

    /// Waits until the writer thread has written every file.
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
            RunEvent::Planned { .. } => self.zero = SystemTime::now(),
            RunEvent::Finished(r) if self.merge_passing && r.verdict.is_pass() => {
                let group = group_of(r);
                if !self.groups.contains(&group) {
                    self.groups.push(group.clone());
                }
                self.send(Job::Merge {
                    group,
                    trace: r.trace.clone(),
                    started_at: r.started_at,
                });
            }
            RunEvent::Finished(r) => {
                let base = self.target_prefix(&r.target) + &r.file_stem();
                let stem = self.stem_for(base);
                self.send(Job::Run {
                    stem,
                    trace: r.trace.clone(),
                    started_at: r.started_at,
                });
            }
            RunEvent::Done { results, duration } => {
                // Stems in a stable order: by scenario file, scenario, target.
                let mut groups = std::mem::take(&mut self.groups);
                groups.sort();
                let stems: BTreeMap<Group, String> = groups
                    .into_iter()
                    .map(|g| {
                        let stem =
                            self.stem_for(format!("{}{}-passed", self.target_prefix(&g.2), g.1));
                        (g, stem)
                    })
                    .collect();
                if !stems.is_empty() {
                    self.send(Job::Finish(stems.into_iter().collect()));
                }
                if let Err(e) = self.write_summary(results, *duration) {
                    self.errors.push(format!(
                        "{}: cannot write results.json/junit.xml: {e}",
                        self.dir.display()
                    ));
                }
                self.drain();
            }
            RunEvent::Started { .. } => {}
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::verdict::Verdict;
    use crate::sip::parse::parse_message;
    use crate::trace::{TracedMessage, Transport};

    fn run(rep: u32, verdict: Verdict, started_at: SystemTime, call: &str) -> RunResult {
        let a = "127.0.0.1:5061".parse().unwrap();
        let b = "127.0.0.1:5062".parse().unwrap();
        let msg = |text: String, ms: u64, src, dst| TracedMessage {
            time: Duration::from_millis(ms),
            src,
            dst,
            transport: Transport::Udp,
            message: parse_message(text.as_bytes()),
        };
        let opts = format!(
            "OPTIONS sip:b@127.0.0.1:5062 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK{call}\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nCall-ID: {call}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        );
        let ok = format!(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK{call}\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: {call}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        );
        RunResult {
            scenario: "basic".into(),
            source: "s/basic.yaml".into(),
            target: "udp:127.0.0.1:5062".into(),
            repetition: rep,
            call_id: call.into(),
            verdict,
            findings: Vec::new(),
            duration: Duration::from_millis(30),
            messages: 2,
            trace: Trace {
                messages: vec![msg(opts, 0, a, b), msg(ok, 30, b, a)],
            },
            started_at,
            transcript: Default::default(),
            golden: None,
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn repeated_passing_runs_share_one_time_ordered_pcap_and_trace() {
        let dir = std::env::temp_dir().join(format!("siptest-rd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut rd = ReportDir::new(&dir).merge_passing(true);
        rd.on_event(&RunEvent::Planned { total: 3 });
        let t0 = SystemTime::now();
        // Run 2 started 10 ms after run 1 and ended first; run 3 failed.
        let runs = [
            run(2, Verdict::Pass, t0 + Duration::from_millis(10), "c2"),
            run(1, Verdict::Pass, t0, "c1"),
            run(3, Verdict::Error { reason: "x".into() }, t0, "c3"),
        ];
        for r in &runs {
            rd.on_event(&RunEvent::Finished(r));
        }
        rd.on_event(&RunEvent::Done {
            results: &runs,
            duration: Duration::ZERO,
        });
        rd.finish().unwrap();
        assert_eq!(
            names(&dir),
            [
                "basic-3.pcap",
                "basic-3.trace",
                "basic-passed.pcap",
                "basic-passed.trace",
                "junit.xml",
                "results.json"
            ]
        );
        let merged = log::read(&std::fs::read(dir.join("basic-passed.trace")).unwrap()).unwrap();
        let calls: Vec<String> = merged
            .messages
            .iter()
            .map(|m| m.message.call_id().unwrap())
            .collect();
        // c1 at 0 and 30 ms, c2 at 10 and 40 ms (after the batch's start).
        assert_eq!(calls, ["c1", "c2", "c1", "c2"]);
        assert!(merged.messages.windows(2).all(|w| w[0].time <= w[1].time));
        let pcap = std::fs::read(dir.join("basic-passed.pcap")).unwrap();
        let single = crate::pcap::to_bytes(&runs[1].trace, pcap_options(t0));
        // The global header, then four records of the same sizes as a single run's two.
        assert_eq!(pcap.len(), 24 + 2 * (single.len() - 24));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
