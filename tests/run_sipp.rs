//! `siptest run` against real SIPp on loopback: siptest as caller (UDP and TCP), as callee,
//! and a scenario that expects the wrong thing. SIPp is required (package `sip-tester`): the
//! tests fail with instructions when it is missing. Every SIPp is bounded by its own
//! `-timeout` and killed when the test ends; ports are picked free per test.

use serde_json::Value;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SIPTEST: &str = env!("CARGO_BIN_EXE_siptest");

fn scenario(name: &str) -> String {
    format!("{}/tests/scenarios/sipp/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("siptest-run-sipp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn free_udp() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn free_tcp() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A SIPp process, killed (if still running) when dropped.
struct Sipp {
    child: Child,
    dir: PathBuf,
}

impl Sipp {
    fn spawn(dir: &Path, args: &[&str]) -> Sipp {
        let log = std::fs::File::create(dir.join("sipp.log")).unwrap();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["-m", "1", "-nostdin", "-timeout", "20s", "-timeout_error"]);
        let child = Command::new("sipp")
            .current_dir(dir)
            .args(&all)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "these tests require SIPp ({e}); install it with \
                     `apt-get install -y --no-install-recommends sip-tester`"
                )
            });
        Sipp {
            child,
            dir: dir.to_path_buf(),
        }
    }

    /// Waits for SIPp to exit (at most `limit`); returns whether it succeeded, and its log.
    fn wait(mut self, limit: Duration) -> (bool, String) {
        let end = Instant::now() + limit;
        let ok = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s.success();
            }
            if Instant::now() > end {
                break false;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        (
            ok,
            std::fs::read_to_string(self.dir.join("sipp.log")).unwrap_or_default(),
        )
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until something listens on the port (UDP: the port can no longer be bound).
fn wait_listening(port: u16, tcp: bool) {
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        let busy = if tcp {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        } else {
            UdpSocket::bind(("127.0.0.1", port)).is_err()
        };
        if busy {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nothing listens on port {port} after 5 s");
}

fn siptest(args: &[&str]) -> Command {
    let mut c = Command::new(SIPTEST);
    c.arg("run").args(args).args(["--format", "json"]);
    c
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn caller_passes(transport: &str) {
    let dir = scratch(&format!("uac-{transport}"));
    let tcp = transport == "tcp";
    let port = if tcp { free_tcp() } else { free_udp() };
    let p = port.to_string();
    let t = if tcp { "t1" } else { "u1" };
    let sipp = Sipp::spawn(&dir, &["-sn", "uas", "-t", t, "-i", "127.0.0.1", "-p", &p]);
    wait_listening(port, tcp);
    let target = format!("{transport}:127.0.0.1:{port}");
    let reports = dir.join("reports");
    let out = siptest(&[
        &scenario("uac-basic.yaml"),
        "--target",
        &target,
        "--t1",
        "100",
    ])
    .arg("--report-dir")
    .arg(&reports)
    .output()
    .unwrap();
    let (sipp_ok, log) = sipp.wait(Duration::from_secs(10));
    let doc = json(&out);
    assert_eq!(
        doc["runs"][0]["verdict"], "pass",
        "{transport}: {doc:#}\nSIPp log:\n{log}"
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(sipp_ok, "{transport}: SIPp did not finish its call:\n{log}");
    assert!(reports.join("uac-basic.pcap").exists());
    assert!(reports.join("uac-basic.trace").exists());
}

#[test]
fn siptest_calls_sipp_over_udp() {
    caller_passes("udp");
}

#[test]
fn siptest_calls_sipp_over_tcp() {
    caller_passes("tcp");
}

fn callee_passes(transport: &str) {
    let dir = scratch(&format!("uas-{transport}"));
    let tcp = transport == "tcp";
    let free = if tcp { free_tcp } else { free_udp };
    let (bob, sipp_port) = (free(), free());
    let target = format!("{transport}:127.0.0.1:{sipp_port}");
    let agent = format!("bob={bob}");
    let run = siptest(&[
        &scenario("uas-basic.yaml"),
        "--target",
        &target,
        "--t1",
        "100",
    ])
    .args(["--agent-port", &agent, "--deadline", "20s"])
    .arg("--report-dir")
    .arg(dir.join("reports"))
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    wait_listening(bob, tcp);
    let bob_addr = format!("127.0.0.1:{bob}");
    let (p, t) = (sipp_port.to_string(), if tcp { "t1" } else { "u1" });
    let sipp = Sipp::spawn(
        &dir,
        &[
            "-sn",
            "uac",
            &bob_addr,
            "-t",
            t,
            "-i",
            "127.0.0.1",
            "-p",
            &p,
        ],
    );
    let out = run.wait_with_output().unwrap();
    let (sipp_ok, log) = sipp.wait(Duration::from_secs(10));
    let doc = json(&out);
    assert_eq!(
        doc["runs"][0]["verdict"], "pass",
        "{transport}: {doc:#}\nSIPp log:\n{log}"
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(sipp_ok, "{transport}: SIPp's call did not succeed:\n{log}");
}

#[test]
fn sipp_calls_siptest_over_udp() {
    callee_passes("udp");
}

#[test]
fn sipp_calls_siptest_over_tcp() {
    callee_passes("tcp");
}

#[test]
fn a_wrong_expectation_fails_with_expected_and_actual() {
    let dir = scratch("wrong");
    let port = free_udp();
    let p = port.to_string();
    let _sipp = Sipp::spawn(&dir, &["-sn", "uas", "-i", "127.0.0.1", "-p", &p]);
    wait_listening(port, false);
    let target = format!("udp:127.0.0.1:{port}");
    let reports = dir.join("reports");
    let out = Command::new(SIPTEST)
        .args([
            "run",
            &format!(
                "{}/tests/fixtures/uac-expects-busy.yaml",
                env!("CARGO_MANIFEST_DIR")
            ),
            "--target",
            &target,
        ])
        .args(["--t1", "100", "--format", "text"])
        .arg("--report-dir")
        .arg(&reports)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    // SIPp's 200 to the teardown's CANCEL has no To-tag: that transaction-level defect leads
    // the verdict; the failing step's expected and actual are printed with it.
    assert!(stdout.contains("uac-expects-busy.yaml:11:5"), "{stdout}");
    assert!(stdout.contains("tx.response.no-to-tag"), "{stdout}");
    assert!(
        stdout.contains("180 Ringing (to INVITE, CSeq 1)"),
        "{stdout}"
    );
    let doc: Value =
        serde_json::from_slice(&std::fs::read(reports.join("results.json")).unwrap()).unwrap();
    let run = &doc["runs"][0];
    assert_eq!(run["verdict"], "fail", "{run:#}");
    assert_eq!(run["step"]["line"], 11);
    assert_eq!(run["step"]["column"], 5);
    let step_finding = run["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["cause"] == "scenario.expect.mismatch")
        .cloned()
        .unwrap_or_default();
    assert_eq!(step_finding["expected"], "486 at alice", "{run:#}");
    assert!(
        step_finding["actual"]
            .as_str()
            .unwrap_or("")
            .starts_with("180 Ringing"),
        "{run:#}"
    );
    // The step's failure is among the findings, classified (a message the flow did not
    // expect: sequence level). The run's level leads with SIPp's own defect, its 200 to the
    // CANCEL of the teardown has no To-tag (transaction level, RFC 3261 §8.2.6.2).
    let findings = run["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["cause"] == "scenario.expect.mismatch" && f["level"] == "sequence"),
        "{run:#}"
    );
    assert_eq!(run["level"], "transaction", "{run:#}");
    assert_eq!(run["rule"], "tx.response.no-to-tag", "{run:#}");
}
