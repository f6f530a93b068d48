//! The scenario library (`scenarios/`) passes against the built-in reference UA: as the
//! default target of `siptest run` (no `--target`), and as a standalone `siptest ua` process
//! driven over its control port, over UDP and over TCP (docs/library.md).

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::Instant;

/// The library runs are timing-sensitive (RFC 4320 windows, retransmission intervals): one at
/// a time in this binary, so that they do not share the 2 cores with each other.
static SERIAL: Mutex<()> = Mutex::new(());

/// T1 of the standalone UA and of the runs against it, as the builtin target uses.
const T1_MS: &str = "25";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn siptest(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_siptest"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run siptest")
}

fn report_dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// The runs of a `--format json` document, with every run that did not pass described.
fn runs_and_failures(out: &Output) -> (Vec<Value>, Vec<String>) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let doc: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let runs = doc["runs"].as_array().expect("runs").clone();
    let failures = runs
        .iter()
        .filter(|r| r["verdict"] != "pass")
        .map(|r| {
            format!(
                "{} [{}]: {} at {}: expected {}, got {}; reason {}; findings {}",
                r["scenario"],
                r["verdict"],
                r["source"],
                r["step"],
                r["expected"],
                r["actual"],
                r["reason"],
                r["findings"]
            )
        })
        .collect();
    (runs, failures)
}

/// Every `.yaml` file of the library, recursively.
fn library_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("scenarios/") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            library_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

/// Every run passed. A run that did not is played once more on its own (`rerun` with its
/// scenario file): T1 is 25 ms, and a machine busy elsewhere can stretch a timer window past
/// the checker's tolerance once; only a failure that repeats counts, and each replay is printed.
fn assert_library_passed(out: &Output, what: &str, rerun: &dyn Fn(&[&str]) -> Output) {
    let (runs, failures) = runs_and_failures(out);
    let mut files = Vec::new();
    library_files(&root().join("scenarios"), &mut files);
    assert_eq!(runs.len(), files.len(), "{what}: one run per scenario file");
    if failures.is_empty() {
        assert_eq!(out.status.code(), Some(0), "{what}: exit status");
        return;
    }
    let sources: Vec<&str> = runs
        .iter()
        .filter(|r| r["verdict"] != "pass")
        .filter_map(|r| r["source"].as_str())
        .collect();
    eprintln!(
        "{what}: replaying {sources:?} once:\n{}",
        failures.join("\n")
    );
    let again = rerun(&sources);
    let (_, repeated) = runs_and_failures(&again);
    assert!(
        repeated.is_empty(),
        "{what}: {} of {} runs did not pass, twice:\n{}",
        repeated.len(),
        runs.len(),
        repeated.join("\n")
    );
}

#[test]
fn the_library_passes_against_the_default_builtin_target() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = report_dir("ua-library-builtin");
    let args = [
        "run",
        "--format",
        "json",
        "--report-dir",
        dir.to_str().unwrap(),
    ];
    let play = |paths: &[&str]| {
        let mut a: Vec<&str> = args.to_vec();
        a.extend_from_slice(paths);
        siptest(&a)
    };
    let out = play(&["scenarios/"]);
    assert_library_passed(&out, "builtin", &play);
    for r in runs_and_failures(&out).0 {
        assert!(
            r["target"]
                .as_str()
                .is_some_and(|t| t.starts_with("builtin")),
            "the default target is builtin: {r}"
        );
    }
}

/// A port free on 127.0.0.1 for `kind` (bound to port 0 and released).
fn free_port(tcp: bool) -> u16 {
    if tcp {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    } else {
        UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }
}

/// A standalone `siptest ua`, killed when dropped.
struct Ua(Child);

impl Drop for Ua {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `siptest ua --listen TRANSPORT:127.0.0.1:P --control 127.0.0.1:C` and waits until
/// it says it listens. Returns it with its `--target` value.
fn start_ua(transport: &str) -> (Ua, String) {
    let sip = free_port(transport == "tcp");
    let control = free_port(true);
    let listen = format!("{transport}:127.0.0.1:{sip}");
    let control_addr = format!("127.0.0.1:{control}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_siptest"))
        .args([
            "ua",
            "--listen",
            &listen,
            "--control",
            &control_addr,
            "--t1",
            T1_MS,
            "--user",
            "target",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start siptest ua");
    let stdout = child.stdout.take().expect("stdout");
    let ua = Ua(child);
    let mut line = String::new();
    let started = Instant::now();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the UA's first line");
    assert!(
        line.contains("listening"),
        "siptest ua did not start ({:?}): {line}",
        started.elapsed()
    );
    let target = format!("{listen}?control={control_addr}");
    (ua, target)
}

fn library_against_standalone(transport: &str) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (ua, target) = start_ua(transport);
    let dir = report_dir(&format!("ua-library-standalone-{transport}"));
    let args = [
        "run",
        "--target",
        &target,
        "--t1",
        T1_MS,
        "--format",
        "json",
        "--report-dir",
        dir.to_str().unwrap(),
    ];
    let play = |paths: &[&str]| {
        let mut a: Vec<&str> = args.to_vec();
        a.extend_from_slice(paths);
        siptest(&a)
    };
    let out = play(&["scenarios/"]);
    assert_library_passed(&out, &format!("standalone ua over {transport}"), &play);
    drop(ua);
}

#[test]
fn the_library_passes_against_a_standalone_ua_over_udp() {
    library_against_standalone("udp");
}

#[test]
fn the_library_passes_against_a_standalone_ua_over_tcp() {
    library_against_standalone("tcp");
}
