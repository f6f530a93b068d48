//! `siptest check` and `siptest import` (issue 6, parts 4 and 5), through the binary:
//!
//! - siptest's own run pcaps round-trip: a live run against the built-in UA writes
//!   `<scenario>.pcap`; `siptest check` on that pcap gives the run's verdict (and, for a
//!   failing run, the same step), for passing runs and for quirk runs that fail;
//! - a scenario imported from a real capture of a basic call replays against the built-in UA
//!   and passes: a capture of SIPp's own UAC and UAS made with tshark on `lo` in the test,
//!   and the basic call in the shared corpus (`heplify__sip_ipv6_udp.pcap`, read from
//!   `$SIPTEST_CORPUS` or `../shared/corpus`, never copied here).

mod common;

use serde_json::Value;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SIPTEST: &str = env!("CARGO_BIN_EXE_siptest");
/// T1 of runs against the built-in UA (`engine::plan::BUILTIN_T1`): the capture does not say.
const BUILTIN_T1: &str = "25";

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("siptest-check-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn scenario(rel: &str) -> String {
    format!("{}/scenarios/{rel}", env!("CARGO_MANIFEST_DIR"))
}

fn siptest(args: &[&str]) -> Output {
    Command::new(SIPTEST).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(o)))
}

/// Verdict, what the failing step expected (for the checker's failures: the rule) and, when
/// a step's own expectation failed, the step. The step of a checker's failure is the step
/// during which the message came, and a live run's steps start a little after the arrival
/// that ended the previous one (a capture's replay starts them at once): it is not compared.
fn outcome(run: &Value) -> (String, Value, Value) {
    let scenario_level = run["findings"].as_array().is_some_and(|f| {
        f.iter().any(|f| {
            f["rule"]
                .as_str()
                .is_some_and(|r| r.starts_with("scenario.") || r.starts_with("spec."))
        })
    });
    let step = if scenario_level {
        run["step"]["index"].clone()
    } else {
        Value::Null
    };
    (
        run["verdict"].as_str().unwrap_or_default().to_string(),
        run["expected"].clone(),
        step,
    )
}

/// Runs `scenarios` against `target` with their pcaps in `dir`; the runs of the JSON output.
fn live(dir: &Path, target: &str, scenarios: &[&str]) -> Vec<Value> {
    let mut args = vec![
        "run",
        "--format",
        "json",
        "--jobs",
        "1",
        "--target",
        target,
        "--report-dir",
        dir.to_str().unwrap(),
    ];
    let files: Vec<String> = scenarios.iter().map(|s| scenario(s)).collect();
    args.extend(files.iter().map(String::as_str));
    let o = siptest(&args);
    json(&o)["runs"].as_array().cloned().unwrap_or_default()
}

/// The T1 (ms) a run against builtin had: the scenario's own `timers: { t1: Nms }` when it
/// pins one, else builtin's default.
fn scenario_t1(source: &str) -> String {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(source))
        .or_else(|_| std::fs::read_to_string(source))
        .unwrap_or_default();
    text.lines()
        .find(|l| l.trim_start().starts_with("timers:"))
        .and_then(|l| l.split("t1:").nth(1))
        .and_then(|v| v.trim().split("ms").next())
        .map(|v| v.trim().to_string())
        .filter(|v| v.parse::<u64>().is_ok())
        .unwrap_or_else(|| BUILTIN_T1.to_string())
}

/// `siptest check` on the pcap of `run` (in `dir`) against its scenario file.
fn check(dir: &Path, run: &Value, extra: &[&str]) -> (Output, Value) {
    let name = run["scenario"].as_str().unwrap();
    let pcap = dir.join(format!("{name}.pcap"));
    assert!(pcap.exists(), "the report dir has no {}", pcap.display());
    let source = run["source"].as_str().unwrap();
    let t1 = scenario_t1(source);
    let mut args = vec![
        "check",
        pcap.to_str().unwrap(),
        "--scenario",
        source,
        "--t1",
        &t1,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let o = siptest(&args);
    let doc = json(&o);
    let r = doc["runs"][0].clone();
    (o, r)
}

/// Every pcap of `runs` checks to the verdict (and failing step) the live run had.
fn assert_round_trip(dir: &Path, runs: &[Value]) {
    let mut differ = Vec::new();
    for run in runs {
        let (o, checked) = check(dir, run, &[]);
        let want = outcome(run);
        let got = outcome(&checked);
        let code = if want.0 == "pass" { 0 } else { 1 };
        if want != got || o.status.code() != Some(code) {
            differ.push(format!(
                "{}: live {want:?} ({} / {}), check {got:?} exit {:?} ({} / {})",
                run["scenario"],
                run["expected"],
                run["actual"],
                o.status.code(),
                checked["expected"],
                checked["actual"]
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// The whole scenario library against `target`, then every run's pcap through `check`.
fn library_round_trip(name: &str, target: &str) -> Vec<Value> {
    let dir = scratch(name);
    let runs = live(&dir, target, &["."]);
    assert!(runs.len() >= 40, "the library ran: {} runs", runs.len());
    assert_round_trip(&dir, &runs);
    runs
}

#[test]
fn passing_run_pcaps_check_to_pass() {
    let runs = library_round_trip("pass", "builtin");
    for r in &runs {
        assert_eq!(r["verdict"], "pass", "the live run must pass first: {r}");
    }
}

#[test]
fn quirk_run_pcaps_check_to_the_same_failure() {
    // A transaction-level quirk (the checker decides), a sequence-level one (an SDP
    // assertion of a step) and a spec-level one (a refusal of what the target advertises).
    for (quirk, scenario, failed) in [
        ("no-to-tag", "call-uac-basic", "tx.response.no-to-tag"),
        (
            "hold-answered-sendrecv",
            "hold-sendonly-uac",
            "not recvonly",
        ),
        ("info-405", "non-invite-info-in-dialog", "Allow lists it"),
    ] {
        let runs = library_round_trip(quirk, &format!("builtin?quirk={quirk}"));
        let run = runs
            .iter()
            .find(|r| r["scenario"] == scenario)
            .unwrap_or_else(|| panic!("no run of {scenario}"));
        assert_eq!(
            run["verdict"], "fail",
            "{quirk} must fail {scenario}: {run}"
        );
        let said = format!("{} {}", run["expected"], run["actual"]);
        assert!(said.contains(failed), "{quirk}: {said}");
    }
}

#[test]
fn check_without_the_right_scenario_fails_and_bad_usage_exits_2() {
    let dir = scratch("usage");
    let runs = live(&dir, "builtin", &["call/uac-basic.yaml"]);
    let pcap = dir.join("call-uac-basic.pcap");
    let pcap = pcap.to_str().unwrap();
    // The capture of a call that was answered is not a busy call.
    let o = siptest(&["check", pcap, "--scenario", &scenario("call/busy-486.yaml")]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("FAIL"),
        "{}",
        text(&o)
    );
    // An explicit map naming the parties gives the same verdict as the guess.
    let trace = std::fs::read_to_string(dir.join("call-uac-basic.trace")).unwrap();
    let first = trace.lines().find(|l| l.starts_with("@ ")).unwrap();
    let f: Vec<&str> = first.split(' ').collect();
    let map = format!("alice={},target={}", f[3], f[5]);
    let (o, checked) = check(&dir, &runs[0], &["--map", &map]);
    assert_eq!(checked["verdict"], "pass", "{}", text(&o));
    // Wrong agents, a call that is not there, a map that does not parse: exit 2.
    for bad in [
        vec!["--map", "carol=127.0.0.1:1"],
        vec!["--call", "no-such-call"],
        vec!["--map", "alice"],
    ] {
        let mut args = vec![
            "check",
            pcap,
            "--scenario",
            runs[0]["source"].as_str().unwrap(),
        ];
        args.extend(bad.iter().copied());
        let o = siptest(&args);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", text(&o));
    }
    // JUnit, as `siptest run` writes it.
    let o = siptest(&[
        "check",
        pcap,
        "--scenario",
        runs[0]["source"].as_str().unwrap(),
        "--format",
        "junit",
    ]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("<testsuites"),
        "{}",
        text(&o)
    );
}

/// Imports `--play uac` of the one call in `pcap`, checks that siptest's loader takes the
/// file, runs it against the built-in UA: pass.
fn import_and_run(pcap: &Path, dir: &Path, name: &str) -> String {
    let out = dir.join(format!("{name}.yaml"));
    let o = siptest(&[
        "import",
        pcap.to_str().unwrap(),
        "--play",
        "uac",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let yaml = std::fs::read_to_string(&out).unwrap();
    siptest::scenario::load_str(&yaml, &out.display().to_string())
        .unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let reports = dir.join("reports");
    let o = siptest(&[
        "run",
        "--format",
        "json",
        "--report-dir",
        reports.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    let runs = json(&o)["runs"].clone();
    assert_eq!(runs[0]["verdict"], "pass", "{yaml}\n{}", text(&o));
    assert_eq!(o.status.code(), Some(0));
    yaml
}

#[test]
fn a_scenario_imported_from_the_corpus_basic_call_passes_against_builtin() {
    let dir = scratch("import-corpus");
    let pcap = common::corpus_dir().join("pcaps/heplify__sip_ipv6_udp.pcap");
    assert!(
        pcap.exists(),
        "{} is missing; set SIPTEST_CORPUS to the shared corpus",
        pcap.display()
    );
    let yaml = import_and_run(&pcap, &dir, "corpus-basic-call");
    // Readable and tied to the capture: header comment, references, variables for the
    // dialog's values, never the captured tags or Call-ID.
    assert!(yaml.starts_with("# Imported by `siptest import` from heplify__sip_ipv6_udp.pcap"));
    assert!(yaml.contains("references: [\"RFC 3261 §13\""), "{yaml}");
    assert!(
        yaml.contains("send: INVITE") && yaml.contains("send: BYE"),
        "{yaml}"
    );
    assert!(yaml.contains("capture: { remote_tag: to.tag }"), "{yaml}");
    assert!(yaml.contains("# call c3eF6f58-363323Cd"), "{yaml}");
    let steps = yaml.split("\nsteps:\n").nth(1).unwrap();
    assert!(
        !steps.contains("a3bhg") && !steps.contains("c3eF6f58"),
        "{yaml}"
    );
    // The callee side imports too and loads.
    let out = dir.join("uas.yaml");
    let o = siptest(&[
        "import",
        pcap.to_str().unwrap(),
        "--play",
        "uas",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let uas = std::fs::read_to_string(&out).unwrap();
    assert!(
        uas.contains("expect: INVITE") && uas.contains("send: 200"),
        "{uas}"
    );
}

fn free_udp() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed (by its own id) when dropped.
struct Kid(Child);

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Stops tshark as Ctrl-C does (by its id), so that it stops its dumpcap and closes the
/// file; killed when it does not end within 5 s.
fn stop(mut k: Kid) {
    let pid = k.0.id().to_string();
    let _ = Command::new("kill").args(["-INT", &pid]).status();
    let began = Instant::now();
    while began.elapsed() < Duration::from_secs(5) {
        if let Ok(Some(_)) = k.0.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn have(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

#[test]
fn a_scenario_imported_from_a_sipp_capture_passes_against_builtin() {
    assert!(
        have("sipp") && have("tshark"),
        "sipp and tshark are needed (Debian: sip-tester, tshark; ci/test installs them)"
    );
    let dir = scratch("import-sipp");
    let pcap = dir.join("sipp-basic.pcapng");
    let (uas_port, uac_port) = (free_udp(), free_udp());
    let filter = format!("udp port {uas_port}");
    let tshark = Kid(Command::new("tshark")
        .args([
            "-i",
            "lo",
            "-f",
            &filter,
            "-w",
            pcap.to_str().unwrap(),
            "-q",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap());
    // tshark creates the file once it captures.
    let began = Instant::now();
    while !pcap.exists() && began.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    // ci/test installs tshark and runs as a user that may capture on lo: a capture that
    // does not start is a broken set-up, not a reason to pass.
    assert!(
        pcap.exists(),
        "tshark did not start capturing on lo within 10 s (capture permission?)"
    );
    std::thread::sleep(Duration::from_millis(300));
    let timeout = ["-timeout", "15s", "-timeout_error"];
    let uas = Kid(Command::new("sipp")
        .args([
            "-sn",
            "uas",
            "-i",
            "127.0.0.1",
            "-p",
            &uas_port.to_string(),
            "-m",
            "1",
        ])
        .args(["-nostdin", "-trace_err"])
        .args(timeout)
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap());
    std::thread::sleep(Duration::from_millis(300));
    let uac = Command::new("sipp")
        .args([
            "-sn",
            "uac",
            "-i",
            "127.0.0.1",
            "-p",
            &uac_port.to_string(),
            "-m",
            "1",
        ])
        .args(["-nostdin"])
        .args(timeout)
        .arg(format!("127.0.0.1:{uas_port}"))
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(uac.success(), "sipp -sn uac failed");
    std::thread::sleep(Duration::from_millis(500));
    drop(uas);
    stop(tshark);
    let c = siptest::capture::read_file(&pcap).unwrap();
    assert!(
        c.trace.messages.len() >= 5,
        "the capture has {} SIP messages",
        c.trace.messages.len()
    );
    let yaml = import_and_run(&pcap, &dir, "sipp-basic");
    assert!(yaml.contains("callee: \"service\""), "{yaml}");
    assert!(yaml.contains("user: \"sipp\""), "{yaml}");
}
