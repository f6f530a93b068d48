//! The scenario library run against the built-in target (`builtin?quirk=NAME`,
//! `builtin?variation=NAME`) by `siptest` child processes, for the catalogue tests
//! (tests/classify.rs, tests/ua_quirks.rs): the runs read back from the JSON, a run played once
//! more before a difference counts, and the targets taken one worker at a time.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

/// Targets at once, and runs at once within each (the machine has 2 cores).
pub const WORKERS: usize = 1;
pub const JOBS: &str = "3";

/// `siptest ARGS` run in the repository; its standard output as JSON.
pub fn siptest(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_siptest"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run siptest");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "siptest {args:?}: not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// One of the reference UA's catalogues: `siptest ua FLAG --format json` with `FLAG`
/// `--list-quirks` or `--list-variations`.
pub fn catalogue(flag: &str) -> Vec<Value> {
    match siptest(&["ua", flag, "--format", "json"]) {
        Value::Array(items) => items,
        other => panic!("siptest ua {flag}: not a JSON array: {other}"),
    }
}

/// A target the library runs against, and where the runs' reports go.
pub struct Subject {
    pub target: String,
    /// The report directory, under the tests' temporary directory.
    dir: String,
    /// The golden directory, under the same; siptest's default when `None`.
    golden_dir: Option<String>,
}

impl Subject {
    /// `target` (`builtin?quirk=no-to-tag`), its reports in `$CARGO_TARGET_TMPDIR/DIR`.
    pub fn new(target: impl Into<String>, dir: impl Into<String>) -> Subject {
        Subject {
            target: target.into(),
            dir: dir.into(),
            golden_dir: None,
        }
    }

    /// Golden files from `$CARGO_TARGET_TMPDIR/DIR` instead of the repository's (a directory
    /// without any: no golden comparison).
    pub fn golden_dir(mut self, dir: &str) -> Subject {
        self.golden_dir = Some(dir.to_string());
        self
    }

    /// `siptest run` of `paths` (files or folders of scenarios): the runs by scenario name.
    pub fn run(&self, paths: &[&str]) -> BTreeMap<String, Value> {
        self.run_in(&self.dir, paths)
    }

    /// The scenario files `sources` played once more, their reports beside the first runs'
    /// (`DIR-again`): a loaded machine can stretch a timer window past the checker's
    /// tolerance, so only a difference that repeats counts.
    pub fn replay(&self, sources: &[&str]) -> BTreeMap<String, Value> {
        self.run_in(&format!("{}-again", self.dir), sources)
    }

    fn run_in(&self, dir: &str, paths: &[&str]) -> BTreeMap<String, Value> {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let report_dir = tmp.join(dir);
        let golden_dir = self.golden_dir.as_ref().map(|g| tmp.join(g));
        let mut args = vec!["run"];
        if let Some(g) = &golden_dir {
            args.extend(["--golden-dir", g.to_str().unwrap()]);
        }
        args.extend(["--target", &self.target, "--jobs", JOBS, "--format", "json"]);
        args.extend(["--report-dir", report_dir.to_str().unwrap()]);
        args.extend_from_slice(paths);
        let doc = siptest(&args);
        doc["runs"]
            .as_array()
            .expect("runs")
            .iter()
            .map(|r| {
                (
                    r["scenario"].as_str().expect("scenario").to_string(),
                    r.clone(),
                )
            })
            .collect()
    }
}

/// `f` on every item, [`WORKERS`] at a time (the last item first); the results in the items'
/// order.
pub fn on_workers<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let queue = Mutex::new((0..items.len()).collect::<Vec<_>>());
    let results = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| loop {
                let Some(i) = queue.lock().unwrap().pop() else {
                    return;
                };
                let r = f(&items[i]);
                results.lock().unwrap().insert(i, r);
            });
        }
    });
    results.into_inner().unwrap().into_values().collect()
}
