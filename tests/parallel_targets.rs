//! `siptest run --targets FILE --target-jobs N`: independent targets played at once give the
//! result set of the targets played one after the other, in plan order; the devices of
//! independent targets really are up at the same time; targets at one address are not.
//! No assertion on speed: the observables are verdicts, orders and which device was up
//! while which other was.

use regex::Regex;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SIPTEST: &str = env!("CARGO_BIN_EXE_siptest");

fn work(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("parallel_targets")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `siptest run --targets FILE --target-jobs N --jobs 2 SCENARIOS...` into `out`; T1 is
/// 1 s rather than the scenarios' 500 ms, so that a loaded machine (tests and builds at
/// once) does not make the reference UA late to answer a request retransmitted after T1.
fn run(targets: &Path, target_jobs: u32, out: &Path, scenarios: &[&str]) -> Output {
    let out = Command::new(SIPTEST)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("run")
        .arg("--targets")
        .arg(targets)
        .args([
            "--target-jobs",
            &target_jobs.to_string(),
            "--jobs",
            "2",
            "--t1",
            "1000",
        ])
        .args(["--format", "json", "--report-dir"])
        .arg(out)
        .arg("--golden-dir")
        .arg(out.join("no-golden"))
        .args(scenarios)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "siptest run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn results(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("results.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// What a run is, timings aside: where it ran, its verdict, the step and the rule it leads
/// with. (Not every finding: a target that breaks a transaction may also draw a finding on
/// the spacing of siptest's retransmissions, which depends on timing.)
fn outcome(r: &Value) -> String {
    format!(
        "{} {} {} #{} {} step={} level={} rule={}",
        r["target"],
        r["scenario"],
        r["source"],
        r["repetition"],
        r["verdict"],
        r["step"],
        r["level"],
        r["rule"]
    )
}

/// Report file (`info-405.basic-call-uac.trace`) -> the targets of the Call-IDs in it.
fn trace_files(dir: &Path, doc: &Value) -> BTreeMap<String, Vec<String>> {
    let target_of: BTreeMap<&str, &str> = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["call_id"].as_str().unwrap(),
                r["target"].as_str().unwrap(),
            )
        })
        .collect();
    let call_id = Regex::new(r"(?m)^Call-ID: (\S+)").unwrap();
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "trace") {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            let mut targets: Vec<String> = call_id
                .captures_iter(&text)
                .map(|c| target_of.get(&c[1]).unwrap_or(&"?").to_string())
                .collect();
            targets.sort();
            targets.dedup();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            out.insert(name, targets);
        }
    }
    out
}

#[test]
fn builtin_targets_at_once_give_the_results_of_one_at_a_time() {
    let dir = work("same-results");
    let quirks = [
        "",
        "no-to-tag",
        "hold-answered-sendrecv",
        "info-405",
        "cseq-not-copied",
        "reinvite-always-491",
    ];
    let mut yaml = String::new();
    for q in quirks {
        let (name, address) = match q {
            "" => ("reference".to_string(), "builtin".to_string()),
            q => (q.to_string(), format!("builtin?quirk={q}")),
        };
        yaml.push_str(&format!("- name: {name}\n  address: \"{address}\"\n"));
    }
    let targets = dir.join("targets.yaml");
    std::fs::write(&targets, yaml).unwrap();
    let scenarios = [
        "scenarios/examples",
        "scenarios/hold/sendonly-uac.yaml",
        "scenarios/non-invite/info-in-dialog.yaml",
    ];
    let (one, four) = (dir.join("one"), dir.join("four"));
    let out_one = run(&targets, 1, &one, &scenarios);
    let out_four = run(&targets, 4, &four, &scenarios);
    let (a, b) = (results(&one), results(&four));
    let runs =
        |d: &Value| -> Vec<String> { d["runs"].as_array().unwrap().iter().map(outcome).collect() };
    assert_eq!(runs(&a).len(), quirks.len() * 7, "{:#?}", runs(&a));
    assert_eq!(runs(&a), runs(&b));
    for key in ["targets", "scenarios", "summary", "classes", "shard"] {
        assert_eq!(a[key], b[key], "{key}");
    }
    // Every quirk failed something; the reference passed everything.
    let failed = |t: &str| {
        runs(&b)
            .iter()
            .any(|r| r.starts_with(&format!("\"{t}\"")) && !r.contains("\"pass\""))
    };
    assert!(!failed("reference"));
    assert!(quirks[1..].iter().all(|q| failed(q)), "{:#?}", runs(&b));
    // stdout is the same document as results.json, and the runs' files got the same names.
    let stdout: Value = serde_json::from_slice(&out_four.stdout).unwrap();
    assert_eq!(runs(&stdout), runs(&b));
    assert_eq!(out_one.status.code(), out_four.status.code());
    assert_eq!(trace_files(&one, &a), trace_files(&four, &b));
    // Each file's name starts with the name of the target whose run it holds (`?`: the
    // target placed the call, so its Call-ID is none of siptest's).
    for (file, targets) in trace_files(&four, &b) {
        for t in targets.iter().filter(|t| *t != "?") {
            assert!(file.starts_with(&format!("{t}.")), "{file}: {targets:?}");
        }
        let named =
            |q: &str| file.starts_with(&format!("{}.", if q.is_empty() { "reference" } else { q }));
        assert!(quirks.iter().any(|q| named(q)), "{file}");
    }
    // JUnit: the same test cases in the same order with the same failures.
    let case =
        Regex::new(r#"<testcase name="[^"]*" classname="[^"]*"|<(failure|error) [^>]*>"#).unwrap();
    let cases = |d: &Path| -> Vec<String> {
        let xml = std::fs::read_to_string(d.join("junit.xml")).unwrap();
        case.find_iter(&xml)
            .map(|m| m.as_str().to_string())
            .collect()
    };
    assert!(cases(&one).len() >= quirks.len() * 7);
    assert_eq!(cases(&one), cases(&four));
}

/// A device that can only become ready while the other one is up: its `start` records when
/// it began, says it is up, waits until the other is up too, then runs the reference UA on
/// `port`; its `stop` records when it ended.
fn rendezvous_target(dir: &Path, name: &str, other: &str, port: u16) -> String {
    let d = dir.display();
    format!(
        "- name: {name}\n  address: udp:127.0.0.1:{port}\n  \
         start: \"date +%s.%N >> {d}/{name}.times; touch {d}/{name}.up; \
         while [ ! -e {d}/{other}.up ]; do sleep 0.02; done; \
         exec {SIPTEST} ua --listen udp:127.0.0.1:{port} --duration 60\"\n  \
         ready: {{ options_ping: true, timeout: 4s }}\n  \
         stop: \"date +%s.%N >> {d}/{name}.times\"\n"
    )
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The [start, stop] interval of each device start of `name`, from its times file.
fn intervals(dir: &Path, name: &str) -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(dir.join(format!("{name}.times"))).unwrap();
    let t: Vec<f64> = text.lines().map(|l| l.trim().parse().unwrap()).collect();
    assert_eq!(t.len() % 2, 0, "{name}: a start without its stop: {text}");
    t.chunks(2).map(|c| (c[0], c[1])).collect()
}

fn verdicts(dir: &Path) -> Vec<(String, String)> {
    results(dir)["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["target"].as_str().unwrap().into(),
                r["verdict"].as_str().unwrap().into(),
            )
        })
        .collect()
}

fn overlap(a: (f64, f64), b: (f64, f64)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

#[test]
fn independent_started_devices_are_up_at_the_same_time() {
    for (target_jobs, expected) in [(2, ["pass", "pass"]), (1, ["inconclusive", "pass"])] {
        let dir = work(&format!("rendezvous-{target_jobs}"));
        let yaml = rendezvous_target(&dir, "a", "b", free_udp_port())
            + &rendezvous_target(&dir, "b", "a", free_udp_port());
        let targets = dir.join("targets.yaml");
        std::fs::write(&targets, yaml).unwrap();
        let reports = dir.join("reports");
        run(
            &targets,
            target_jobs,
            &reports,
            &["scenarios/examples/options.yaml"],
        );
        // Played at once, each device finds the other up; one after the other, the first
        // waits in vain (not ready) and the second finds the first's mark.
        let got = verdicts(&reports);
        let want =
            [("a", expected[0]), ("b", expected[1])].map(|(t, v)| (t.to_string(), v.to_string()));
        assert_eq!(got, want, "--target-jobs {target_jobs}");
        let (a, b) = (intervals(&dir, "a"), intervals(&dir, "b"));
        assert_eq!((a.len(), b.len()), (1, 1));
        assert_eq!(overlap(a[0], b[0]), target_jobs > 1, "a {a:?} b {b:?}");
    }
}

#[test]
fn targets_at_one_address_are_played_one_after_the_other() {
    let dir = work("one-address");
    let port = free_udp_port();
    let d = dir.display();
    let device = |name: &str| {
        format!(
            "- name: {name}\n  address: udp:127.0.0.1:{port}\n  \
             start: \"date +%s.%N >> {d}/{name}.times; \
             exec {SIPTEST} ua --listen udp:127.0.0.1:{port} --duration 60\"\n  \
             ready: {{ options_ping: true, timeout: 5s }}\n  \
             stop: \"date +%s.%N >> {d}/{name}.times\"\n"
        )
    };
    let yaml = device("first") + "- name: reference\n  address: builtin\n" + &device("second");
    let targets = dir.join("targets.yaml");
    std::fs::write(&targets, yaml).unwrap();
    let reports = dir.join("reports");
    let scenarios = [
        "scenarios/examples/options.yaml",
        "scenarios/examples/basic-call-uac.yaml",
    ];
    run(&targets, 3, &reports, &scenarios);
    let got = verdicts(&reports);
    let want: Vec<(String, String)> = [
        "first",
        "first",
        "reference",
        "reference",
        "second",
        "second",
    ]
    .iter()
    .map(|t| (t.to_string(), "pass".to_string()))
    .collect();
    assert_eq!(got, want);
    let (first, second) = (intervals(&dir, "first"), intervals(&dir, "second"));
    assert_eq!((first.len(), second.len()), (1, 1));
    assert!(
        first[0].1 <= second[0].0,
        "in file order, one after the other: {first:?} {second:?}"
    );
}

/// `restart: per-scenario`: a fresh start of the device for each scenario it suits, each
/// stopped before the next starts; none for a scenario of another role; per-target (the
/// default) starts it once.
#[test]
fn a_per_scenario_device_is_started_afresh_for_each_scenario() {
    for (restart, starts) in [("per-scenario", 2), ("per-target", 1)] {
        let dir = work(&format!("restart-{restart}"));
        let port = free_udp_port();
        let d = dir.display();
        let yaml = format!(
            "- name: phone\n  address: udp:127.0.0.1:{port}\n  roles: [ua]\n  \
             restart: {restart}\n  \
             start: \"date +%s.%N >> {d}/phone.times; \
             exec {SIPTEST} ua --listen udp:127.0.0.1:{port} --duration 60\"\n  \
             ready: {{ options_ping: true, timeout: 5s }}\n  \
             stop: \"date +%s.%N >> {d}/phone.times\"\n"
        );
        let targets = dir.join("targets.yaml");
        std::fs::write(&targets, yaml).unwrap();
        let reports = dir.join("reports");
        let scenarios = [
            "scenarios/examples/options.yaml",
            "scenarios/proxy/basic-call.yaml",
            "scenarios/examples/basic-call-uac.yaml",
        ];
        run(&targets, 1, &reports, &scenarios);
        let got: Vec<String> = verdicts(&reports).into_iter().map(|(_, v)| v).collect();
        assert_eq!(got, ["pass", "inconclusive", "pass"], "restart: {restart}");
        let up = intervals(&dir, "phone");
        assert_eq!(up.len(), starts, "restart: {restart}: {up:?}");
        assert!(
            up.windows(2).all(|w| w[0].1 <= w[1].0),
            "one at a time: {up:?}"
        );
        // Each start's output goes to the one log, under a line naming its scenario.
        if restart == "per-scenario" {
            let log = std::fs::read_to_string(reports.join("target-phone.log")).unwrap();
            let marks: Vec<&str> = log
                .lines()
                .filter(|l| l.starts_with("siptest: starting"))
                .collect();
            assert_eq!(
                marks,
                [
                    "siptest: starting `phone` for options-query",
                    "siptest: starting `phone` for basic-call-uac"
                ],
                "{log}"
            );
        }
    }
}
