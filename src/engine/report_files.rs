//! The report directory (`--report-dir`, default `reports/`): per run `<scenario>.pcap`
//! (every agent's messages merged by time, real time stamps) and `<scenario>.trace` (the
//! trace log format of `crate::trace::log`), written as each run ends; `results.json` and
//! `junit.xml` once all runs ended.

use super::batch::RunEvent;
use super::report::{json_document, junit_document, Reporter};
use super::verdict::RunResult;
use crate::pcap::{self, LinkType, PcapOptions};
use crate::trace::log;
use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};

/// Writes a run's pcap and trace log into `dir`; returns their paths.
pub fn write_run_files(dir: &Path, stem: &str, r: &RunResult) -> io::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let pcap_path = dir.join(format!("{stem}.pcap"));
    let opts = PcapOptions {
        link: LinkType::Ethernet,
        ..PcapOptions::starting_at(r.started_at)
    };
    pcap::write_file(&pcap_path, &r.trace, opts)?;
    let trace_path = dir.join(format!("{stem}.trace"));
    std::fs::write(&trace_path, log::write(&r.trace))?;
    Ok((pcap_path, trace_path))
}

/// The report-directory reporter.
pub struct ReportDir {
    dir: PathBuf,
    /// File stems used so far (two scenarios of one name in different directories, or runs
    /// of several targets, get `-2`, `-3`...).
    stems: HashSet<String>,
    errors: Vec<String>,
}

impl ReportDir {
    pub fn new(dir: impl Into<PathBuf>) -> ReportDir {
        ReportDir {
            dir: dir.into(),
            stems: HashSet::new(),
            errors: Vec::new(),
        }
    }

    fn stem_for(&mut self, r: &RunResult) -> String {
        let base = r.file_stem();
        let mut stem = base.clone();
        let mut n = 2;
        while !self.stems.insert(stem.clone()) {
            stem = format!("{base}-{n}");
            n += 1;
        }
        stem
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
}

impl Reporter for ReportDir {
    fn on_event(&mut self, ev: &RunEvent<'_>) {
        match ev {
            RunEvent::Finished(r) => {
                let stem = self.stem_for(r);
                if let Err(e) = write_run_files(&self.dir, &stem, r) {
                    self.errors.push(format!(
                        "{}: cannot write {stem}.pcap/.trace: {e}",
                        self.dir.display()
                    ));
                }
            }
            RunEvent::Done { results, duration } => {
                if let Err(e) = self.write_summary(results, *duration) {
                    self.errors.push(format!(
                        "{}: cannot write results.json/junit.xml: {e}",
                        self.dir.display()
                    ));
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(io::Error::other(self.errors.join("; ")))
        }
    }
}
