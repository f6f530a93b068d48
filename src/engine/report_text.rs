//! The terminal: a one-line progress indicator on stderr while runs go on (only when stderr
//! is a terminal), and a table of the results on stdout at the end, with the expected and
//! actual of each run that did not pass.

use super::batch::RunEvent;
use super::exec::seconds;
use super::report::Reporter;
use super::verdict::{RunResult, Verdict, VerdictKind};
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use std::io::{self, IsTerminal, Write};

/// The text reporter.
pub struct TextReporter<W: Write + Send> {
    out: W,
    /// Show the progress line (stderr is a terminal).
    progress: bool,
    total: usize,
    started: usize,
    finished: usize,
    failed: usize,
    /// When the batch began: the progress line only shows on runs longer than a second.
    began: Option<std::time::Instant>,
    error: Option<io::Error>,
}

impl TextReporter<io::Stdout> {
    /// To stdout, with progress when stderr is a terminal.
    pub fn stdout() -> Self {
        TextReporter::new(io::stdout(), io::stderr().is_terminal())
    }
}

impl<W: Write + Send> TextReporter<W> {
    pub fn new(out: W, progress: bool) -> Self {
        TextReporter {
            out,
            progress,
            total: 0,
            started: 0,
            finished: 0,
            failed: 0,
            began: None,
            error: None,
        }
    }

    fn progress_line(&self, current: &str) {
        let long = self
            .began
            .is_some_and(|b| b.elapsed() >= std::time::Duration::from_secs(1));
        if !self.progress || !long {
            return;
        }
        let line = format!(
            "[{}/{}] {} running, {} not passed · {current}",
            self.finished,
            self.total,
            self.started - self.finished,
            self.failed
        );
        let mut err = io::stderr();
        let _ = write!(err, "\r\x1b[2K{}", truncate(&line, 100));
        let _ = err.flush();
    }

    fn clear_progress(&self) {
        if self.progress {
            let _ = write!(io::stderr(), "\r\x1b[2K");
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(std::iter::once('…')).collect()
    }
}

/// The results table.
pub fn table(results: &[RunResult]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(120)
        .set_header(vec![
            "scenario", "target", "verdict", "level", "time", "msgs", "findings", "where",
        ]);
    for r in results {
        let name = if r.repetition > 1 {
            format!("{} #{}", r.scenario, r.repetition)
        } else {
            r.scenario.clone()
        };
        let place = match r.verdict.step() {
            Some(s) => format!("{}:{}:{} step {}", r.source, s.line, s.column, s.index),
            None => String::new(),
        };
        let about = r.findings.iter().filter(|f| f.is_about_target()).count();
        let level = r
            .lead()
            .map(|f| format!("{} {}", super::report::level_name(f), f.rule))
            .unwrap_or_default();
        t.add_row(vec![
            name,
            r.target.clone(),
            r.verdict.kind().to_string().to_uppercase(),
            level,
            seconds(r.duration),
            r.messages.to_string(),
            about.to_string(),
            place,
        ]);
    }
    t
}

/// The table, the details of every run that did not pass, and a summary line.
pub fn render(results: &[RunResult]) -> String {
    let mut s = format!("{}\n", table(results));
    for r in results.iter().filter(|r| !r.verdict.is_pass()) {
        s.push_str(&format!(
            "\n{} {} ({}):\n",
            r.verdict.kind().to_string().to_uppercase(),
            r.scenario,
            r.target
        ));
        match &r.verdict {
            Verdict::Fail(f) => {
                s.push_str(&format!(
                    "  at {}:{}:{} ({})\n",
                    r.source, f.step.line, f.step.column, f.step
                ));
                s.push_str(&format!(
                    "  expected: {}\n  actual:   {}\n",
                    f.expected, f.actual
                ));
            }
            other => s.push_str(&format!("  {}\n", other.summary())),
        }
    }
    for r in results {
        for f in &r.findings {
            s.push_str(&format!(
                "  note {} [{} {}] {}: {}\n",
                r.scenario,
                super::report::level_name(f),
                f.severity,
                f.rule,
                f.actual
            ));
        }
    }
    let count = |k| results.iter().filter(|r| r.verdict.kind() == k).count();
    s.push_str(&format!(
        "\n{} runs: {} passed, {} failed, {} inconclusive, {} errors\n",
        results.len(),
        count(VerdictKind::Pass),
        count(VerdictKind::Fail),
        count(VerdictKind::Inconclusive),
        count(VerdictKind::Error)
    ));
    s
}

impl<W: Write + Send> Reporter for TextReporter<W> {
    fn on_event(&mut self, ev: &RunEvent<'_>) {
        match ev {
            RunEvent::Planned { total } => {
                self.total = *total;
                self.began = Some(std::time::Instant::now());
            }
            RunEvent::Started { scenario, .. } => {
                self.started += 1;
                self.progress_line(&format!("running {scenario}"));
            }
            RunEvent::Finished(r) => {
                self.finished += 1;
                if !r.verdict.is_pass() {
                    self.failed += 1;
                }
                self.progress_line(&format!("{} {}", r.scenario, r.verdict.kind()));
            }
            RunEvent::Done { results, .. } => {
                self.clear_progress();
                if let Err(e) = self.out.write_all(render(results).as_bytes()) {
                    self.error = Some(e);
                }
            }
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        self.error.take().map_or(Ok(()), Err)
    }
}
