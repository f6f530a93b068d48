//! Targets that misbehave, written here with std sockets: one never answers, one answers
//! garbage, one floods the agent with thousands of datagrams a second. Each run must end by
//! its deadline with a verdict that is not a pass, and leave results.json, the pcap and the
//! trace log in the report directory.

use serde_json::Value;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const SIPTEST: &str = env!("CARGO_BIN_EXE_siptest");
/// The run's deadline, and the slack allowed after it (process start, linger, reports).
const DEADLINE: Duration = Duration::from_secs(3);
const SLACK: Duration = Duration::from_millis(3000);

fn scenario() -> String {
    format!(
        "{}/tests/scenarios/sipp/uac-basic.yaml",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("siptest-misbehave-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A UDP target on its own thread, running `behave` for each datagram until stopped.
struct Target {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

type Behaviour = fn(&UdpSocket, SocketAddr, &AtomicBool, &AtomicU64);

impl Target {
    fn start(behave: Behaviour) -> Target {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let addr = sock.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let (s, n) = (stop.clone(), sent.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 65_536];
            while !s.load(Ordering::Relaxed) {
                if let Ok((_, from)) = sock.recv_from(&mut buf) {
                    behave(&sock, from, &s, &n);
                }
            }
        });
        Target {
            addr,
            stop,
            sent,
            thread: Some(thread),
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn silent(_: &UdpSocket, _: SocketAddr, _: &AtomicBool, _: &AtomicU64) {}

fn garbage(sock: &UdpSocket, from: SocketAddr, _: &AtomicBool, n: &AtomicU64) {
    let _ = sock.send_to(b"\x00\x01\xffGARBAGE not sip at all\r\n\r\n\x7f", from);
    n.fetch_add(1, Ordering::Relaxed);
}

/// At the first datagram, floods its sender for up to 6 s: garbage and stray responses
/// alternately, about 20,000 a second (bursts of 200 every 10 ms: a flood, yet leaving the
/// two-core test machines some room).
fn flood(sock: &UdpSocket, from: SocketAddr, stop: &AtomicBool, n: &AtomicU64) {
    if n.load(Ordering::Relaxed) > 0 {
        return;
    }
    let stray = b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKflood\r\n\
From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: flood\r\nCSeq: 1 INVITE\r\n\
Content-Length: 0\r\n\r\n";
    let end = Instant::now() + Duration::from_secs(6);
    let mut i: u64 = 0;
    while Instant::now() < end && !stop.load(Ordering::Relaxed) {
        let bytes: &[u8] = if i % 2 == 0 {
            b"flood flood flood\r\n"
        } else {
            stray
        };
        if sock.send_to(bytes, from).is_ok() {
            n.fetch_add(1, Ordering::Relaxed);
        }
        i += 1;
        if i % 200 == 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Runs the basic call against the target with T1 = 50 ms and a 3 s deadline.
fn run_against(target: &Target, name: &str) -> (Output, Duration, PathBuf) {
    run_scenario(&scenario(), target, name)
}

fn run_scenario(file: &str, target: &Target, name: &str) -> (Output, Duration, PathBuf) {
    let reports = scratch(name);
    let started = Instant::now();
    let out = Command::new(SIPTEST)
        .args([
            "run",
            file,
            "--format",
            "json",
            "--t1",
            "50",
            "--deadline",
            "3s",
        ])
        .arg("--target")
        .arg(format!("udp:{}", target.addr))
        .arg("--report-dir")
        .arg(&reports)
        .output()
        .unwrap();
    (out, started.elapsed(), reports)
}

fn check_ended_badly(out: &Output, took: Duration, reports: &Path) -> Value {
    check_files(out, took, reports, "uac-basic")
}

fn check_files(out: &Output, took: Duration, reports: &Path, stem: &str) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(took < DEADLINE + SLACK, "the run took {took:?}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = doc["runs"][0].clone();
    assert_ne!(run["verdict"], "pass", "{run:#}");
    let (pcap, trace) = (format!("{stem}.pcap"), format!("{stem}.trace"));
    for f in ["results.json", "junit.xml", &pcap, &trace] {
        assert!(
            reports.join(f).exists(),
            "{f} missing in {}",
            reports.display()
        );
    }
    let trace = std::fs::read(reports.join(trace)).unwrap();
    assert!(trace.starts_with(b"siptest-trace 1\n"));
    run
}

#[test]
fn a_target_that_never_answers() {
    let target = Target::start(silent);
    let (out, took, reports) = run_against(&target, "silent");
    let run = check_ended_badly(&out, took, &reports);
    // Nothing ever came back: the target cannot be reached, which says nothing of it.
    assert_eq!(run["verdict"], "inconclusive", "{run:#}");
    // Every retransmission of the INVITE is in the capture (T1 = 50 ms: several in 3 s).
    let pcap = std::fs::metadata(reports.join("uac-basic.pcap"))
        .unwrap()
        .len();
    assert!(pcap > 24 + 4 * 500, "pcap of {pcap} octets");
}

#[test]
fn a_target_that_answers_garbage() {
    let target = Target::start(garbage);
    let (out, took, reports) = run_against(&target, "garbage");
    let run = check_ended_badly(&out, took, &reports);
    assert_eq!(run["verdict"], "fail", "{run:#}");
    // The verdict leads with the lowest level: the transaction checker's finding about the
    // garbage (a "message" without the mandatory headers) comes before the step's mismatch.
    let actual = run["actual"].as_str().unwrap();
    assert!(
        actual.contains("not a SIP message") || actual.contains("missing To, From"),
        "{run:#}"
    );
    assert!(actual.contains("GARBAGE"), "the bytes are shown: {run:#}");
}

#[test]
fn a_target_that_floods() {
    let target = Target::start(flood);
    let (out, took, reports) = run_against(&target, "flood");
    let run = check_ended_badly(&out, took, &reports);
    assert!(
        target.sent.load(Ordering::Relaxed) > 1000,
        "the flood did not flood"
    );
    assert_eq!(run["verdict"], "fail", "{run:#}");
}

/// The agent keeps waiting while the flood pours in: the run must still end by its deadline
/// (the wait is longer than the deadline), with the flood counted and the reports written.
#[test]
fn a_flood_during_a_long_wait_still_ends_by_the_deadline() {
    let dir = scratch("flood-wait-scenario");
    let file = dir.join("flood-wait.yaml");
    std::fs::write(
        &file,
        "name: flood-wait\nsummary: asks once, then waits longer than the deadline\n\
         agents: { alice: {} }\nsteps:\n  - send: OPTIONS\n  - wait: 10s\n",
    )
    .unwrap();
    let target = Target::start(flood);
    let (out, took, reports) = run_scenario(file.to_str().unwrap(), &target, "flood-wait");
    let run = check_files(&out, took, &reports, "flood-wait");
    assert!(
        target.sent.load(Ordering::Relaxed) > 1000,
        "the flood did not flood"
    );
    assert_eq!(run["verdict"], "fail", "{run:#}");
    assert!(
        run["actual"].as_str().unwrap().contains("deadline"),
        "{run:#}"
    );
}
