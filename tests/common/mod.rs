//! Shared helpers for the integration tests: where the corpus is, and reading from it; and
//! ([`runs`]) the scenario library run against the built-in target.

#![allow(dead_code)]

pub mod runs;

use siptest::rule::Severity;
use siptest::sip::Message;
use std::path::PathBuf;

/// The external corpus: `$SIPTEST_CORPUS`, else `../shared/corpus` beside the repository.
pub fn corpus_dir() -> PathBuf {
    match std::env::var_os("SIPTEST_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus")),
    }
}

/// The bytes of a corpus file, e.g. `corpus("rfc4475", "wsinv.dat")`. Panics with a clear
/// message when the corpus is missing: these tests must not pass silently without it.
pub fn corpus(folder: &str, file: &str) -> Vec<u8> {
    let path = corpus_dir().join(folder).join(file);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read corpus file {} ({e}); set SIPTEST_CORPUS to the shared corpus",
            path.display()
        )
    })
}

/// An RFC 5118 message as wire bytes: its archived LF endings become CRLF, and a header
/// section without its terminating empty line gets one (see the corpus INDEX.md).
pub fn rfc5118_wire(file: &str) -> Vec<u8> {
    let raw = corpus("rfc5118", file);
    let mut out = Vec::with_capacity(raw.len() + 32);
    for &b in &raw {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    if !out.windows(4).any(|w| w == b"\r\n\r\n") {
        if !out.ends_with(b"\r\n") {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Asserts that `m` (parsed from `name`) has no error-severity violation, listing them if so.
pub fn assert_valid(name: &str, m: &Message) {
    let errors: Vec<String> = m
        .violations
        .iter()
        .filter(|v| v.severity() == Severity::Error)
        .map(|v| v.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{name} is valid but got errors: {errors:#?}"
    );
}
