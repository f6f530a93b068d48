//! `siptest msg` and `siptest rules` as a user runs them: output, JSON shape and exit codes.

mod common;

use std::process::{Command, Output};

fn siptest(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_siptest"))
        .args(args)
        .output()
        .expect("run siptest")
}

fn corpus_path(folder: &str, file: &str) -> String {
    common::corpus_dir()
        .join(folder)
        .join(file)
        .display()
        .to_string()
}

#[test]
fn valid_message_exits_0_and_prints_its_summary() {
    let out = siptest(&["msg", &corpus_path("rfc4475", "wsinv.dat")]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("INVITE sip:vivekg@chair-dnrc.example.com;unknownparam"),
        "{text}"
    );
    // Only info and warnings (a branch without the cookie, an rtpmap without clock rate).
    assert!(!text.contains("    error "), "{text}");
    assert!(text.contains("info hdr.via.branch-no-cookie"), "{text}");
}

#[test]
fn invalid_message_exits_1_and_names_the_rule() {
    let out = siptest(&["msg", &corpus_path("rfc4475", "clerr.dat")]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("msg.content-length.exceeds-datagram"),
        "{text}"
    );
    assert!(text.contains("RFC 3261 §18.3"), "{text}");
}

#[test]
fn missing_file_and_bad_usage_exit_2() {
    let out = siptest(&["msg", "/nonexistent/file.sip"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/file.sip"));
    assert_eq!(siptest(&["msg"]).status.code(), Some(2));
    assert_eq!(siptest(&["no-such-command"]).status.code(), Some(2));
    assert_eq!(
        siptest(&["msg", "--format", "xml", "x"]).status.code(),
        Some(2)
    );
}

#[test]
fn json_has_the_documented_shape() {
    let out = siptest(&[
        "msg",
        "--format",
        "json",
        &corpus_path("rfc4475", "dblreq.dat"),
        &corpus_path("rfc4475", "badvers.dat"),
    ]);
    assert_eq!(out.status.code(), Some(1), "badvers has errors");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let files = v.as_array().unwrap();
    assert_eq!(files.len(), 2);
    let dbl = &files[0]["messages"][0];
    assert_eq!(dbl["kind"], "request");
    assert_eq!(dbl["method"], "REGISTER");
    assert_eq!(files[0]["trailing_octets"], 450);
    let trailing = &dbl["violations"][0];
    for key in ["rule", "severity", "rfc", "detail", "offset"] {
        assert!(
            trailing.get(key).is_some(),
            "violation lacks {key}: {trailing}"
        );
    }
    assert_eq!(trailing["rule"], "msg.datagram.trailing-octets");
    assert_eq!(trailing["offset"], 300);
    let bad = &files[1]["messages"][0];
    let rules: Vec<&str> = bad["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"msg.version.unsupported"), "{rules:?}");
}

#[test]
fn tcp_transport_frames_every_message_of_a_stream() {
    let dir = std::env::temp_dir().join(format!("siptest-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("stream.bin");
    let one = b"OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/TCP a.example.com;branch=z9hG4bK1\r\nTo: <sip:b@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    let mut stream = one.to_vec();
    stream.extend_from_slice(b"\r\n\r\n"); // a keep-alive ping between messages
    stream.extend_from_slice(one);
    std::fs::write(&path, &stream).unwrap();
    let out = siptest(&[
        "msg",
        "--transport",
        "tcp",
        "--format",
        "json",
        path.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let msgs = v[0]["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1]["offset"], one.len() + 4);
    // A stream that ends inside a message is an error, not a silent drop.
    std::fs::write(&path, &stream[..stream.len() - 10]).unwrap();
    let out = siptest(&["msg", "--transport", "tcp", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("msg.stream.incomplete"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn rules_markdown_matches_docs() {
    let out = siptest(&["rules", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0));
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md"))
        .expect("docs/rules.md");
    assert!(
        docs == String::from_utf8_lossy(&out.stdout),
        "docs/rules.md is stale: run `cargo run -- rules --format markdown > docs/rules.md`"
    );
}
