//! The scenario library against real user agents on loopback, as `ci/real-targets.sh` runs it
//! and the README's "Tested against real user agents" records: the basic call, OPTIONS and the
//! six hold scenarios against SIPp's built-in UAS and against baresip, each started by siptest
//! from its targets file (`ci/targets/NAME.yml`, moved to free ports here).
//!
//! The verdicts observed are asserted exactly: a pass must stay a pass, and each explained
//! non-pass must stay that non-pass, at the same step and for the same reason (rule), so that a
//! change in either direction (siptest, a scenario or the device) fails here and is looked at.
//! SIPp (`sip-tester`) and baresip are required: ci/test installs both; when one is missing the
//! test fails with the command that installs it (never passes silently).

use serde_json::Value;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Command;

const SIPTEST: &str = env!("CARGO_BIN_EXE_siptest");

/// The scenarios played against each target, as ci/real-targets.sh plays them.
const SCENARIOS: &[&str] = &[
    "call/uac-basic.yaml",
    "non-invite/options.yaml",
    "hold/inactive-uac.yaml",
    "hold/sendonly-uac.yaml",
    "hold/zero-connection-uac.yaml",
    "hold/inactive-by-target.yaml",
    "hold/sendonly-by-target.yaml",
    "hold/zero-connection-by-target.yaml",
];

/// What a run must come out as.
enum Want {
    Pass,
    /// `fail` at the step on this line of the scenario, with one of these texts in the
    /// verdict's rule, its findings' rules or causes, or its `actual`.
    Fail {
        line: u64,
        any_of: &'static [&'static str],
    },
    /// `inconclusive` with this text in its reason.
    Inconclusive(&'static str),
}

/// The `act` steps of the `*-by-target` scenarios need a driver, which neither device has.
const NO_DRIVER: Want = Want::Inconclusive("no driver for `act: hold`");

fn require(tool: &str, package: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "`{tool}` is not installed: this test plays the scenario library against it. Install it \
         with `apt-get install -y --no-install-recommends {package}` (ci/test does)"
    );
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("siptest-real-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A UDP port on 127.0.0.1 that is free now. With `below_40000`, one under 40000: siptest's
/// SDP offers m=audio on 40000 + (its SIP port % 10000) rounded down to even
/// (src/engine/agent.rs), which is the agent's own SIP port, or its RTCP port is, when that
/// port lies in 40000-49999; baresip's RTP/RTCP then reaches siptest's SIP socket.
fn free_udp(below_40000: bool) -> u16 {
    for _ in 0..200 {
        let port = UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !below_40000 || !(40_000..50_000).contains(&port) {
            return port;
        }
    }
    // The ephemeral range is above 40000 on this system: take a fixed range below it.
    (15_800..15_860)
        .find(|p| UdpSocket::bind(("127.0.0.1", *p)).is_ok())
        .expect("no free UDP port in 15800-15860")
}

/// The targets file `ci/targets/NAME.yml` with each (old, new) replacement made, written to
/// `dir`.
fn targets_file(dir: &Path, name: &str, replace: &[(&str, String)]) -> PathBuf {
    let src = format!("{}/ci/targets/{name}.yml", env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(&src).unwrap_or_else(|e| panic!("{src}: {e}"));
    for (old, new) in replace {
        assert!(text.contains(old), "{src} no longer contains `{old}`");
        text = text.replace(old, new);
    }
    let path = dir.join(format!("{name}.yml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Plays the scenarios against the target of `targets` and checks every verdict.
fn play(name: &str, dir: &Path, targets: &Path, want: &[(&str, Want)]) {
    let reports = dir.join("reports");
    let alice = format!("alice={}", free_udp(true));
    let lib = format!("{}/scenarios", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(SIPTEST)
        .arg("run")
        .arg("--targets")
        .arg(targets)
        .args(["--jobs", "1", "--agent-port", &alice, "--format", "json"])
        .arg("--report-dir")
        .arg(&reports)
        .args(SCENARIOS.iter().map(|s| format!("{lib}/{s}")))
        .output()
        .unwrap();
    let log =
        std::fs::read_to_string(reports.join(format!("target-{name}.log"))).unwrap_or_default();
    let log_tail: String = {
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    };
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{name}: stdout is not JSON ({e}), exit {:?}:\n{}\nstderr:\n{}\ntarget log (end):\n{log_tail}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let runs = doc["runs"].as_array().expect("runs");
    let mut problems = Vec::new();
    for (scenario, want) in want {
        let Some(run) = runs.iter().find(|r| r["scenario"] == *scenario) else {
            problems.push(format!("{scenario}: no run"));
            continue;
        };
        assert_eq!(run["target"], name);
        let verdict = run["verdict"].as_str().unwrap_or("?");
        let text = |k: &str| run[k].as_str().unwrap_or("").to_string();
        let mut said = vec![text("rule"), text("actual"), text("reason")];
        for f in run["findings"].as_array().into_iter().flatten() {
            for k in ["rule", "cause"] {
                said.push(f[k].as_str().unwrap_or("").to_string());
            }
        }
        let ok = match want {
            Want::Pass => verdict == "pass",
            Want::Fail { line, any_of } => {
                verdict == "fail"
                    && run["step"]["line"].as_u64() == Some(*line)
                    && any_of.iter().any(|a| said.iter().any(|s| s.contains(a)))
            }
            Want::Inconclusive(why) => verdict == "inconclusive" && text("reason").contains(why),
        };
        if !ok {
            let wanted = match want {
                Want::Pass => "pass".to_string(),
                Want::Fail { line, any_of } => {
                    format!("fail at line {line} with one of {any_of:?}")
                }
                Want::Inconclusive(why) => format!("inconclusive: {why}"),
            };
            problems.push(format!(
                "{scenario}: wanted {wanted} (see README, Tested against real user agents), got {}",
                serde_json::to_string_pretty(run).unwrap()
            ));
        }
    }
    assert_eq!(runs.len(), want.len(), "{name}: runs {doc:#}");
    assert!(
        problems.is_empty(),
        "{name}: the verdicts changed; if on purpose, update the README and this test.\n{}\n\
         reports in {}\ntarget log (end):\n{log_tail}",
        problems.join("\n"),
        reports.display()
    );
    // Every run was judged, none ended in siptest's own error: exit 1 (not all pass), not 2.
    assert_eq!(out.status.code(), Some(1), "{name}: {doc:#}");
}

#[test]
fn sipp_builtin_uas() {
    require("sipp", "sip-tester");
    let dir = scratch("sipp");
    let port = free_udp(false).to_string();
    let targets = targets_file(&dir, "sipp-uas", &[("15870", port)]);
    // SIPp's built-in uas answers a bare 200 to OPTIONS (`-aa`) without a To-tag (RFC 3261
    // §8.2.6.2 MUST) and without Allow/Supported/Accept (§11.2 SHOULD); its script has no
    // re-INVITE, so the hold re-INVITE is never answered (§13.3.1: every INVITE gets a final
    // response): the step waiting for its 200 fails when its 64*T1 (T1 = 100 ms) runs out,
    // as a timeout or as Timer B, whichever fires first.
    let no_answer: &[&str] = &[
        "nothing before",
        "no final response to the INVITE before Timer B",
    ];
    play(
        "sipp-uas",
        &dir,
        &targets,
        &[
            ("call-uac-basic", Want::Pass),
            (
                "non-invite-options",
                Want::Fail {
                    line: 19,
                    any_of: &["tx.response.no-to-tag"],
                },
            ),
            (
                "hold-inactive-uac",
                Want::Fail {
                    line: 22,
                    any_of: no_answer,
                },
            ),
            (
                "hold-sendonly-uac",
                Want::Fail {
                    line: 22,
                    any_of: no_answer,
                },
            ),
            (
                "hold-zero-connection-uac",
                Want::Fail {
                    line: 23,
                    any_of: no_answer,
                },
            ),
            ("hold-inactive-by-target", NO_DRIVER),
            ("hold-sendonly-by-target", NO_DRIVER),
            ("hold-zero-connection-by-target", NO_DRIVER),
        ],
    );
}

#[test]
fn baresip_auto_answer() {
    require("baresip", "baresip");
    let dir = scratch("baresip");
    let port = free_udp(false);
    let rtp = free_udp(false) & !1;
    let targets = targets_file(
        &dir,
        "baresip",
        &[
            (
                "rtp_ports 15882-15899",
                format!("rtp_ports {rtp}-{}", rtp + 17),
            ),
            ("15880", port.to_string()),
        ],
    );
    // baresip's 200 to OPTIONS has Allow and an empty Supported but no Accept: RFC 3261 §11.2
    // says SHOULD, so the scenario does not require them and the run passes.
    play(
        "baresip",
        &dir,
        &targets,
        &[
            ("call-uac-basic", Want::Pass),
            ("non-invite-options", Want::Pass),
            ("hold-inactive-uac", Want::Pass),
            ("hold-sendonly-uac", Want::Pass),
            ("hold-zero-connection-uac", Want::Pass),
            // Its ctrl_tcp driver holds only with a=sendonly (baresip's `hold`).
            (
                "hold-inactive-by-target",
                Want::Inconclusive("no command for `hold:inactive`"),
            ),
            ("hold-sendonly-by-target", Want::Pass),
            (
                "hold-zero-connection-by-target",
                Want::Inconclusive("no command for `hold:zero-connection`"),
            ),
        ],
    );
}
