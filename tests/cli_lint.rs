//! `siptest lint` over trace logs, as a user runs it: findings, JSON shape, exit codes.

use std::path::PathBuf;
use std::process::{Command, Output};

fn siptest(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_siptest"))
        .args(args)
        .output()
        .expect("run siptest")
}

/// Writes a trace log of `(seconds, src, dst, message)` records (`\n` becomes CRLF).
fn trace_file(name: &str, records: &[(f64, &str, &str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("siptest-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let mut out = b"siptest-trace 1\n".to_vec();
    for (t, src, dst, text) in records {
        let msg = format!(
            "{}\r\nContent-Length: 0\r\n\r\n",
            text.replace('\n', "\r\n")
        );
        out.extend_from_slice(format!("@ {t:.6} udp {src} > {dst} {}\n", msg.len()).as_bytes());
        out.extend_from_slice(msg.as_bytes());
        out.push(b'\n');
    }
    std::fs::write(&path, out).unwrap();
    path
}

const A: &str = "127.0.0.1:5061";
const B: &str = "127.0.0.1:5062";

fn options() -> String {
    "OPTIONS sip:b@127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKopt1\nFrom: <sip:a@127.0.0.1>;tag=fa\nTo: <sip:b@127.0.0.1>\nCall-ID: lint-1\nCSeq: 1 OPTIONS\nMax-Forwards: 70".into()
}

fn answer(status: &str) -> String {
    format!("SIP/2.0 {status}\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKopt1\nFrom: <sip:a@127.0.0.1>;tag=fa\nTo: <sip:b@127.0.0.1>;tag=tb\nCall-ID: lint-1\nCSeq: 1 OPTIONS")
}

#[test]
fn a_clean_exchange_exits_0() {
    let (o, ok) = (options(), answer("200 OK"));
    let path = trace_file("clean.trace", &[(0.0, A, B, &o), (0.01, B, A, &ok)]);
    let out = siptest(&["lint", path.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("2 messages, 0 findings"), "{text}");
}

#[test]
fn a_408_to_options_is_reported_with_rule_and_index() {
    let (o, t) = (options(), answer("408 Request Timeout"));
    let path = trace_file("408.trace", &[(0.0, A, B, &o), (0.01, B, A, &t)]);
    let out = siptest(&["lint", "--format", "json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let list = v["violations"].as_array().unwrap();
    let f = list
        .iter()
        .find(|f| f["rule"] == "tx.rfc4320.408")
        .unwrap_or_else(|| panic!("no 408 finding in {v}"));
    assert_eq!(f["level"], "transaction");
    assert_eq!(f["call_id"], "lint-1");
    assert_eq!(f["message_index"], 1);
    assert!(f["rfc"].as_str().unwrap().starts_with("RFC 4320"));
    assert!(!f["detail"].as_str().unwrap().is_empty());
}

#[test]
fn an_unreadable_trace_is_a_located_error() {
    let dir = std::env::temp_dir().join(format!("siptest-lint-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.trace");
    std::fs::write(
        &path,
        "siptest-trace 1\n@ 0.1 udp 127.0.0.1:1 > nowhere 3\nabc\n",
    )
    .unwrap();
    let out = siptest(&["lint", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.trace:2:"), "{err}");
    assert!(err.contains("IP:port"), "{err}");
    assert_eq!(
        siptest(&["lint", "/nonexistent.trace"]).status.code(),
        Some(2)
    );
}
