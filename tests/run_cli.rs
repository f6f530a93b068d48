//! `siptest run` as a command: configuration errors exit 2 with a clear message (located
//! load errors, no target, a bad target, nothing to run), and the JSON output's shape.

use serde_json::Value;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};

const SIPTEST: &str = env!("CARGO_BIN_EXE_siptest");

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("siptest-run-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn example(name: &str) -> String {
    format!("{}/scenarios/examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str], reports: &PathBuf) -> Output {
    Command::new(SIPTEST)
        .arg("run")
        .args(args)
        .arg("--report-dir")
        .arg(reports)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_malformed_scenario_exits_2_at_its_line_and_column() {
    let dir = scratch("malformed");
    let file = dir.join("bad.yaml");
    std::fs::write(
        &file,
        "name: bad\nsummary: s\nagents:\n  alice: {}\nsteps:\n  - send: INVIT\n  - expect: 200\n",
    )
    .unwrap();
    let out = run(
        &[file.to_str().unwrap(), "--target", "udp:127.0.0.1:5060"],
        &dir.join("reports"),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let path = file.display().to_string();
    assert!(
        err.starts_with(&format!("{path}:6:11: unknown method `INVIT`")),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing runs");
}

#[test]
fn an_invalid_regex_is_a_load_error_too() {
    let dir = scratch("regex");
    let file = dir.join("re.yaml");
    std::fs::write(
        &file,
        "name: re\nsummary: s\nagents: { alice: {} }\nsteps:\n  - send: OPTIONS\n  - expect: 200\n    headers: { Server: { matches: \"(\" } }\n",
    )
    .unwrap();
    let out = run(
        &[file.to_str().unwrap(), "--target", "udp:127.0.0.1:5060"],
        &dir.join("r"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(":7:"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("invalid regular expression"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn no_target_exits_2_and_says_the_reference_agent_comes_next() {
    let dir = scratch("no-target");
    let out = run(&[&example("options.yaml")], &dir.join("reports"));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("no --target given"), "{err}");
    assert!(err.contains("reference user agent"), "{err}");
    assert!(err.contains("next issue"), "{err}");
    assert!(err.contains("--target udp:HOST:PORT"), "{err}");
}

#[test]
fn bad_options_exit_2() {
    let dir = scratch("bad-options");
    let r = dir.join("reports");
    let opts = example("options.yaml");
    for (args, says) in [
        (
            vec![opts.as_str(), "--target", "udp:localhost:5060"],
            "bad target",
        ),
        (
            vec![opts.as_str(), "--target", "sctp:127.0.0.1:5060"],
            "bad target",
        ),
        (
            vec![
                opts.as_str(),
                "--target",
                "udp:127.0.0.1:5060",
                "--deadline",
                "5",
            ],
            "--deadline",
        ),
        (
            vec![
                opts.as_str(),
                "--target",
                "udp:127.0.0.1:5060",
                "--impair",
                "loss=2",
            ],
            "--impair",
        ),
        (
            vec![
                opts.as_str(),
                "--target",
                "udp:127.0.0.1:5060",
                "--agent-port",
                "bob",
            ],
            "--agent-port",
        ),
        (
            vec![opts.as_str(), "--target", "udp:127.0.0.1:5060", "--t1", "0"],
            "--t1",
        ),
    ] {
        let out = run(&args, &r);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn no_scenarios_found_exits_2() {
    let dir = scratch("empty");
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = run(
        &[empty.to_str().unwrap(), "--target", "udp:127.0.0.1:5060"],
        &dir.join("r"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nothing to run"), "{}", stderr(&out));
    let out = run(&["--target", "udp:127.0.0.1:5060"], &dir.join("r"));
    assert_eq!(out.status.code(), Some(2));
}

/// A TCP port nobody listens on: the connection is refused at once, so runs end quickly
/// (inconclusive: the target cannot be reached).
fn closed_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn json_output_has_runs_with_scenario_target_verdict_findings() {
    let dir = scratch("json");
    let target = format!("tcp:127.0.0.1:{}", closed_tcp_port());
    let out = run(
        &[
            &example("options.yaml"),
            &example("raw-negative-content-length.yaml"),
            "--target",
            &target,
            "--format",
            "json",
            "--repeat",
            "2",
            "--t1",
            "50",
            "--deadline",
            "3s",
        ],
        &dir.join("reports"),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    let runs = doc["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 4, "two scenarios, twice each");
    for r in runs {
        assert!(r["scenario"].is_string(), "{r:#}");
        assert_eq!(r["target"], target.as_str());
        assert_eq!(r["verdict"], "inconclusive", "{r:#}");
        assert!(r["findings"].is_array(), "{r:#}");
        assert!(
            r["reason"].as_str().unwrap().contains("cannot be reached"),
            "{r:#}"
        );
    }
    let ids: Vec<&str> = runs
        .iter()
        .map(|r| r["call_id"].as_str().unwrap())
        .collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 4, "a Call-ID per run: {ids:?}");
    let reports = dir.join("reports");
    for f in [
        "results.json",
        "junit.xml",
        "options-query.pcap",
        "options-query-2.trace",
    ] {
        assert!(reports.join(f).exists(), "{f}");
    }
    let junit = std::fs::read_to_string(reports.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase").count(), 4, "{junit}");
    assert!(junit.contains("type=\"inconclusive\""), "{junit}");
}

#[test]
fn junit_output_goes_to_stdout() {
    let dir = scratch("junit");
    let target = format!("tcp:127.0.0.1:{}", closed_tcp_port());
    let out = run(
        &[
            &example("options.yaml"),
            "--target",
            &target,
            "--format",
            "junit",
            "--deadline",
            "3s",
        ],
        &dir.join("reports"),
    );
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains("<testcase name=\"options-query\""), "{xml}");
}
