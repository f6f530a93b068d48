//! The project's own interop matrix: the whole scenario library against real SIP software from
//! Debian's packages, each started on 127.0.0.1 by siptest from its targets file
//! (`ci/targets/NAME.yml`): SIPp's built-in UAS, baresip, linphonec, Twinkle and Kamailio as a
//! proxy and registrar. The results are checked against `ci/expectations/NAME.yaml`, where
//! every non-pass carries its reason: a result that changes in either direction (a pass that
//! fails, a known failure that passes, other rules) fails this test and names the change.
//!
//! The run's reports stay in `reports/matrix/` (results.json, the HTML matrix `index.html`,
//! a pcap and trace per run, each device's log); `tested-against.md` there is the README's
//! "Tested against" table, which must be in the README as it is.
//!
//! The devices are required: ci/test installs them; when one is missing the test fails with
//! the command that installs it (never passes silently).

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Command;

const SIPTEST: &str = env!("CARGO_BIN_EXE_siptest");

/// (target file name, program, Debian package).
const TARGETS: &[(&str, &str, &str)] = &[
    ("sipp-uas", "sipp", "sip-tester"),
    ("baresip", "baresip", "baresip"),
    ("linphone", "linphonec", "linphone-cli"),
    ("twinkle", "twinkle-console", "twinkle-console"),
    ("kamailio", "kamailio", "kamailio"),
];

/// Runs to a verdict (pass or fail, not inconclusive) that at least [`MIN_TARGETS`] targets
/// must have. Kamailio, a proxy and registrar, has only the proxy and registrar scenarios.
const MIN_JUDGED: usize = 15;
const MIN_TARGETS: usize = 4;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn require(tool: &str, package: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{tool}` is not installed: the interop matrix plays the scenario library against it. \
         Install it with `apt-get install -y --no-install-recommends {package}` (ci/test does)"
    );
}

/// Every targets file in one, and the 127.0.0.1 ports they name (each must be free now: a
/// second process on a device's port would take some of its messages).
fn combined_targets(out: &Path) -> Vec<u16> {
    let mut text = String::new();
    for (name, _, _) in TARGETS {
        let p = root().join(format!("ci/targets/{name}.yml"));
        text.push_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p:?}: {e}")));
        text.push('\n');
    }
    std::fs::write(out, &text).unwrap();
    let re = regex::Regex::new(r"127\.0\.0\.1:(\d{4,5})\b").unwrap();
    let mut ports: Vec<u16> = re
        .captures_iter(&text)
        .filter_map(|c| c[1].parse().ok())
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

#[test]
fn real_user_agents_give_the_expected_results() {
    for (_, tool, package) in TARGETS {
        require(tool, package);
    }
    let dir = root().join("reports/matrix");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let targets = dir.join("targets.yml");
    for port in combined_targets(&targets) {
        assert!(
            UdpSocket::bind(("127.0.0.1", port)).is_ok(),
            "127.0.0.1:{port} (UDP) is in use: a device of ci/targets/ needs it"
        );
    }
    let run = Command::new(SIPTEST)
        .args(["run", "--targets"])
        .arg(&targets)
        .args(["--target-jobs", "2", "--format", "json", "--report-dir"])
        .arg(&dir)
        .arg(root().join("scenarios"))
        .output()
        .unwrap();
    assert!(
        matches!(run.status.code(), Some(0 | 1)),
        "siptest run: exit {:?}\n{}",
        run.status.code(),
        String::from_utf8_lossy(&run.stderr)
    );
    let summary = dir.join("tested-against.md");
    let report = Command::new(SIPTEST)
        .arg("report")
        .arg(dir.join("results.json"))
        .arg("--expect")
        .arg(root().join("ci/expectations"))
        .arg("-o")
        .arg(dir.join("index.html"))
        .arg("--summary-md")
        .arg(&summary)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&report.stderr);
    assert_eq!(
        report.status.code(),
        Some(0),
        "results changed from ci/expectations/ (reports in {}; if a change is right, update \
         the expectation with its reason):\n{said}",
        dir.display()
    );
    judged_enough(&dir.join("results.json"));
    let table = std::fs::read_to_string(&summary).unwrap();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains(table.trim()),
        "the README's \"Tested against\" table differs from this run's; it should be:\n{table}"
    );
}

/// At least [`MIN_TARGETS`] targets have [`MIN_JUDGED`] runs or more that ended pass or fail.
fn judged_enough(results: &Path) {
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(results).unwrap()).unwrap();
    let judged: Vec<(&str, usize)> = TARGETS
        .iter()
        .map(|(name, _, _)| {
            let n = doc["runs"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["target"] == *name)
                .filter(|r| r["verdict"] == "pass" || r["verdict"] == "fail")
                .count();
            (*name, n)
        })
        .collect();
    let enough = judged.iter().filter(|(_, n)| *n >= MIN_JUDGED).count();
    assert!(
        enough >= MIN_TARGETS,
        "runs that ended pass or fail, per target: {judged:?}; wanted {MIN_TARGETS} targets \
         with {MIN_JUDGED} or more"
    );
}
