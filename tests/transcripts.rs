//! Transcripts of real runs (docs/transcripts.md): snapshots against the reference UA and
//! against SIPp (`sipp -sn uas` on loopback) showing the aliasing; two runs of a scenario
//! diff empty; a quirk diffs at the right message; the run's own pcap read back gives the
//! same transcript; golden files and `--accept`; `siptest diff` exit codes.
//!
//! Snapshots are redacted: message times (`+0.001`) become `+T` and retransmission counts
//! (` x2`) are dropped: once aliased, these are the only things that change between runs (the
//! diff compares them within tolerances).

use serde_json::Value;
use siptest::transcript::diff::{align, align_with, DiffKind, Tolerance};
use siptest::transcript::{build, Parties, Transcript};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SIPTEST: &str = env!("CARGO_BIN_EXE_siptest");

fn root() -> &'static str {
    env!("CARGO_MANIFEST_DIR")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("siptest-transcripts-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `siptest run --format json` with its own report and golden directories; the JSON.
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let out = Command::new(SIPTEST)
        .arg("run")
        .args(args)
        .args(["--format", "json"])
        .arg("--report-dir")
        .arg(dir.join("reports"))
        .arg("--golden-dir")
        .arg(dir.join("golden"))
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), doc)
}

fn transcript_of(doc: &Value) -> Transcript {
    Transcript::parse(doc["runs"][0]["transcript"].as_str().expect("a transcript")).unwrap()
}

fn redact(t: &Transcript) -> String {
    let re = regex::Regex::new(r"\+\d+\.\d{3}").unwrap();
    let text = re.replace_all(&t.to_string(), "+T").into_owned();
    // Retransmission counts depend on the load of the machine (T1 is 25 ms).
    let re = regex::Regex::new(r" x\d+ ").unwrap();
    re.replace_all(&text, " ").into_owned()
}

fn library(path: &str) -> String {
    format!("{}/scenarios/{path}", root())
}

#[test]
fn builtin_hold_transcript_shows_the_aliases() {
    let dir = scratch("builtin-hold");
    let (code, doc) = run(&dir, &[&library("hold/sendonly-by-target.yaml")]);
    assert_eq!(code, Some(0), "{doc:#}");
    insta::assert_snapshot!(
        "builtin_hold_sendonly_by_target",
        redact(&transcript_of(&doc))
    );
}

#[test]
fn builtin_prack_and_digest_transcripts_show_rseq_rack_and_nonces() {
    // One agent each: the order of the messages is the order of one socket (with several
    // agents, messages between other parties may come in either order; the diff tolerates
    // that, a snapshot would not).
    let dir = scratch("builtin-prack");
    let (code, doc) = run(&dir, &[&library("extensions/prack-with-sdp.yaml")]);
    assert_eq!(code, Some(0), "{doc:#}");
    insta::assert_snapshot!("builtin_prack_with_sdp", redact(&transcript_of(&doc)));
    let (code, doc) = run(&dir, &[&library("register/digest-sha256.yaml")]);
    assert_eq!(code, Some(0), "{doc:#}");
    insta::assert_snapshot!(
        "builtin_register_digest_sha256",
        redact(&transcript_of(&doc))
    );
}

#[test]
fn two_runs_of_a_scenario_diff_empty() {
    for sc in [
        "call/uac-basic.yaml",
        "extensions/prack-with-sdp.yaml",
        "register/digest-sha256.yaml",
    ] {
        let dir = scratch(&format!("twice-{}", sc.replace('/', "-")));
        let (_, a) = run(&dir, &[&library(sc)]);
        let (_, b) = run(&dir, &[&library(sc)]);
        let (a, b) = (transcript_of(&a), transcript_of(&b));
        let ds = align(&a, &b);
        assert!(ds.is_empty(), "{sc}: {ds:#?}\n{a}\n{b}");
        // Text equal but for the times.
        assert_eq!(redact(&a), redact(&b), "{sc}");
        // And `siptest diff` says so.
        std::fs::write(dir.join("a.txt"), a.to_string()).unwrap();
        std::fs::write(dir.join("b.txt"), b.to_string()).unwrap();
        let st = Command::new(SIPTEST)
            .arg("diff")
            .arg(dir.join("a.txt"))
            .arg(dir.join("b.txt"))
            .output()
            .unwrap();
        assert_eq!(
            st.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&st.stdout)
        );
    }
}

#[test]
fn a_quirk_diffs_at_the_right_message() {
    let dir = scratch("quirk");
    let sc = library("hold/inactive-uac.yaml");
    let (_, ok) = run(&dir, &[&sc]);
    let golden = transcript_of(&ok);
    let (_, bad) = run(
        &dir,
        &[&sc, "--target", "builtin?quirk=hold-answered-sendrecv"],
    );
    let actual = transcript_of(&bad);
    let ds = align(&golden, &actual);
    let first = &ds[0];
    assert_eq!(first.kind, DiffKind::Changed, "{ds:#?}");
    // Message 6: the 200 that answers the inactive hold offer (message 5).
    assert_eq!((first.golden, first.actual), (Some(5), Some(5)), "{ds:#?}");
    assert_eq!(first.changes[0].field, "sdp.m1");
    assert_eq!(
        first.changes[0].golden.as_deref(),
        Some("audio,inactive,c=addr")
    );
    assert_eq!(
        first.changes[0].actual.as_deref(),
        Some("audio,sendrecv,c=addr")
    );
}

#[test]
fn golden_files_accept_compare_and_fail_a_passing_run() {
    let dir = scratch("golden");
    let sc = library("call/uac-basic.yaml");
    let (code, _) = run(&dir, &[&sc, "--accept"]);
    assert_eq!(code, Some(0));
    let file = dir.join("golden/call-uac-basic/builtin.txt");
    let first = std::fs::read_to_string(&file).unwrap();
    // A second --accept leaves an equal file untouched.
    run(&dir, &[&sc, "--accept"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), first);
    // A run compared with it passes and says so.
    let (code, doc) = run(&dir, &[&sc]);
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(doc["runs"][0]["golden"]["equal"], true, "{doc:#}");
    // A golden that expects another codec order in the answer: the run fails on golden.changed.
    let edited = first.replacen(
        "sdp.m1.codecs=PCMU+PCMA+telephone-event",
        "sdp.m1.codecs=PCMA+telephone-event",
        2,
    );
    assert_ne!(edited, first);
    std::fs::write(&file, edited).unwrap();
    let (code, doc) = run(&dir, &[&sc]);
    assert_eq!(code, Some(1), "{doc:#}");
    let r = &doc["runs"][0];
    assert_eq!(r["verdict"], "fail", "{r:#}");
    assert_eq!(r["golden"]["equal"], false);
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "golden.changed"),
        "{r:#}"
    );
    // A target without its own golden is compared with the default, leniently: codecs are
    // the device's own business.
    let g = Transcript::parse(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let a = transcript_of(&doc);
    assert!(align_with(&g, &a, &Tolerance::lenient()).is_equal());
}

#[test]
fn a_capture_of_a_run_gives_the_same_transcript() {
    let dir = scratch("capture");
    for sc in ["transfer/attended-replaces.yaml", "hold/sendonly-uac.yaml"] {
        let (_, doc) = run(&dir, &[&library(sc)]);
        let live = transcript_of(&doc);
        let name = doc["runs"][0]["scenario"].as_str().unwrap();
        let pcap = dir.join("reports").join(format!("{name}.pcap"));
        let cap = siptest::capture::read_file(&pcap).unwrap();
        assert!(cap.error.is_none());
        let from_capture = build(&cap.trace, &Parties::new());
        // Parties are `A`, `B`... in a capture; the diff pairs them by appearance.
        let al = align_with(&live, &from_capture, &Tolerance::default());
        assert!(al.is_equal(), "{sc}: {:#?}", al.differences);
        assert!(al.tolerated.is_empty(), "{sc}: {:#?}", al.tolerated);
        // Line by line the same, once parties are named alike.
        assert_eq!(live.entries.len(), from_capture.entries.len());
        let mut names = std::collections::HashMap::new();
        for (l, c) in live.entries.iter().zip(&from_capture.entries) {
            names.insert(c.from.clone(), l.from.clone());
            names.insert(c.to.clone(), l.to.clone());
        }
        for (l, c) in live.entries.iter().zip(&from_capture.entries) {
            let mut c = c.clone();
            c.from = names[&c.from].clone();
            c.to = names[&c.to].clone();
            assert_eq!(l.body_text(), c.body_text(), "{sc}");
            assert!(l.time_ms.abs_diff(c.time_ms) <= 1, "{sc}");
        }
        // `siptest diff transcript capture` agrees.
        let t = dir.join("live.txt");
        std::fs::write(&t, live.to_string()).unwrap();
        let st = Command::new(SIPTEST)
            .arg("diff")
            .arg(&t)
            .arg(&pcap)
            .output()
            .unwrap();
        assert_eq!(
            st.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&st.stdout)
        );
    }
}

#[test]
fn diff_exit_codes() {
    let dir = scratch("diff-exit");
    let sc = library("call/uac-basic.yaml");
    let (_, a) = run(&dir, &[&sc]);
    std::fs::copy(dir.join("reports/results.json"), dir.join("a.json")).unwrap();
    let (_, _) = run(&dir, &[&library("call/busy-486.yaml")]);
    // Same scenario name, another flow: rename the busy run's scenario.
    let mut b: Value =
        serde_json::from_slice(&std::fs::read(dir.join("reports/results.json")).unwrap()).unwrap();
    b["runs"][0]["scenario"] = a["runs"][0]["scenario"].clone();
    std::fs::write(dir.join("b.json"), b.to_string()).unwrap();
    let diff = |x: &str, y: &str| {
        Command::new(SIPTEST)
            .arg("diff")
            .arg(dir.join(x))
            .arg(dir.join(y))
            .output()
            .unwrap()
    };
    assert_eq!(diff("a.json", "a.json").status.code(), Some(0));
    let out = diff("a.json", "b.json");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("486/INVITE"), "{text}");
    assert_eq!(diff("a.json", "nothing.json").status.code(), Some(2));
}

/// SIPp, killed when dropped.
struct Sipp(Child);

impl Drop for Sipp {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sipp_uas_transcript_shows_the_aliases() {
    let dir = scratch("sipp");
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let p = port.to_string();
    let child = Command::new("sipp")
        .current_dir(&dir)
        .args(["-sn", "uas", "-i", "127.0.0.1", "-p", &p])
        .args(["-m", "1", "-nostdin", "-timeout", "20s", "-timeout_error"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("these tests require SIPp (apt-get install sip-tester)");
    let _sipp = Sipp(child);
    let end = Instant::now() + Duration::from_secs(5);
    while UdpSocket::bind(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < end, "SIPp does not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    let target = format!("udp:127.0.0.1:{port}");
    let sc = format!("{}/tests/scenarios/sipp/uac-basic.yaml", root());
    let (code, doc) = run(&dir, &[&sc, "--target", &target, "--t1", "100"]);
    assert_eq!(code, Some(0), "{doc:#}");
    let t = transcript_of(&doc);
    // The target's name holds its port: redact it too.
    let text = redact(&t).replace(&target, "udp:127.0.0.1:PORT");
    insta::assert_snapshot!("sipp_uas_uac_basic", text);
}
