//! `siptest run` as a command: configuration errors exit 2 with a clear message (located
//! load errors, a bad target or quirk, nothing to run), no target means the built-in UA, and
//! the JSON output's shape.

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
fn no_target_runs_against_the_builtin_agent() {
    let dir = scratch("no-target");
    let examples = format!("{}/scenarios/examples", env!("CARGO_MANIFEST_DIR"));
    let out = run(&[&examples, "--format", "json"], &dir.join("reports"));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{doc:#}\n{}", stderr(&out));
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 5);
    for r in runs {
        assert_eq!(r["target"], "builtin");
        assert_eq!(r["verdict"], "pass", "{r:#}");
    }
}

#[test]
fn an_unknown_quirk_exits_2_with_a_hint() {
    let dir = scratch("bad-quirk");
    let out = run(
        &[
            &example("options.yaml"),
            "--target",
            "builtin?quirk=no-to-tg",
        ],
        &dir.join("reports"),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unknown quirk `no-to-tg`"), "{err}");
    assert!(err.contains("did you mean `no-to-tag`?"), "{err}");
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
        // Not played, so not compared with its golden (golden/options-query/builtin.txt).
        assert!(r["golden"].is_null(), "{r:#}");
        let golden_findings = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"].as_str().unwrap_or("").starts_with("golden."))
            .count();
        assert_eq!(golden_findings, 0, "{r:#}");
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

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn sipp_scenario(name: &str) -> String {
    format!("{}/tests/scenarios/sipp/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A targets file with a SIPp UAS that siptest starts itself (bounded by `timeout`) and waits
/// for with OPTIONS (`-aa` makes SIPp answer them), and a target lacking BYE.
fn targets_file(dir: &std::path::Path, port: u16) -> PathBuf {
    let file = dir.join("targets.yaml");
    std::fs::write(
        &file,
        format!(
            "# two targets\n\
             - name: sipp-uas\n  address: udp:127.0.0.1:{port}\n  user: service\n  t1: 100\n  \
             start: timeout -s INT -k 2 30 sipp -sn uas -aa -i 127.0.0.1 -p {port} -nostdin\n  \
             ready: {{ options_ping: true, timeout: 10s }}\n  supports: [INVITE, ACK, BYE]\n\
             - name: no-bye\n  address: udp:127.0.0.1:9\n  supports: [INVITE, OPTIONS]\n"
        ),
    )
    .unwrap();
    file
}

#[test]
fn targets_file_starts_sipp_and_skips_what_a_target_lacks() {
    let dir = scratch("targets");
    let port = free_udp_port();
    let file = targets_file(&dir, port);
    let out = run(
        &[
            &sipp_scenario("uac-basic.yaml"),
            "--targets",
            file.to_str().unwrap(),
            "--format",
            "json",
            "--repeat",
            "2",
        ],
        &dir.join("reports"),
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    let runs = doc["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 4, "{doc:#}");
    let of = |t: &str| -> Vec<&Value> { runs.iter().filter(|r| r["target"] == t).collect() };
    for r in of("sipp-uas") {
        assert_eq!(r["verdict"], "pass", "{r:#}\n{}", stderr(&out));
    }
    let skipped = of("no-bye");
    assert_eq!(skipped.len(), 2, "{doc:#}");
    for r in skipped {
        assert_eq!(r["verdict"], "inconclusive", "{r:#}");
        let reason = r["reason"].as_str().unwrap();
        assert!(reason.contains("does not support BYE"), "{reason}");
        assert!(!reason.contains("INVITE"), "{reason}");
    }
    assert_eq!(out.status.code(), Some(1), "inconclusive is not a pass");
    // The started SIPp is gone: its port is free again.
    std::net::UdpSocket::bind(("127.0.0.1", port)).expect("SIPp was stopped");
    let junit = std::fs::read_to_string(dir.join("reports/junit.xml")).unwrap();
    assert!(junit.contains("siptest run sipp-uas"), "{junit}");
    assert!(dir.join("reports/target-sipp-uas.log").exists());
}

#[test]
fn target_picks_one_named_target() {
    let dir = scratch("targets-one");
    let file = targets_file(&dir, free_udp_port());
    let out = run(
        &[
            &sipp_scenario("uac-basic.yaml"),
            "--targets",
            file.to_str().unwrap(),
            "--target",
            "no-bye",
            "--format",
            "json",
        ],
        &dir.join("reports"),
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{doc:#}");
    assert_eq!(runs[0]["target"], "no-bye");
    assert_eq!(runs[0]["verdict"], "inconclusive");
    let out = run(
        &[
            &sipp_scenario("uac-basic.yaml"),
            "--targets",
            file.to_str().unwrap(),
            "--target",
            "nobody",
        ],
        &dir.join("reports"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("sipp-uas, no-bye"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_malformed_targets_file_exits_2_located() {
    let dir = scratch("targets-bad");
    let file = dir.join("t.yaml");
    let path = file.display().to_string();
    for (text, at) in [
        (
            "- name: a\n  address: udp:127.0.0.1:5060\n  suports: [INVITE]\n",
            "3:3: unknown key `suports`",
        ),
        (
            "- name: a\n  address: udp:localhost:5060\n",
            "2:12: bad target",
        ),
        (
            "- name: a\n  address: udp:127.0.0.1:5060\n  ready: { timeout: soon }\n",
            "3:21: expected a duration",
        ),
        (
            "- name: a\n  address: udp:127.0.0.1:5060\n  supports: [INVITE, 100rell]\n",
            "3:",
        ),
        (
            "- name: a\n  address: udp:127.0.0.1:5060\n- name: a\n  address: udp:127.0.0.1:5061\n",
            "3:9: target name `a` is used twice",
        ),
    ] {
        std::fs::write(&file, text).unwrap();
        let out = run(
            &[&example("options.yaml"), "--targets", &path],
            &dir.join("reports"),
        );
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(
            stderr(&out).starts_with(&format!("{path}:{at}")),
            "{text}: {}",
            stderr(&out)
        );
    }
}

const HEAD: &str = "name: t\nsummary: s\nagents:\n  alice: {}\nsteps:\n";

/// A malformed scenario: the text, where the error is (line, column) and a word of its message.
struct Malformed {
    what: &'static str,
    text: String,
    at: (u32, u32),
    says: &'static str,
}

fn whole(what: &'static str, text: &str, at: (u32, u32), says: &'static str) -> Malformed {
    Malformed {
        what,
        text: text.to_string(),
        at,
        says,
    }
}

/// `HEAD` followed by `steps` (the steps start on line 6).
fn steps(what: &'static str, steps: &str, at: (u32, u32), says: &'static str) -> Malformed {
    whole(what, &format!("{HEAD}{steps}"), at, says)
}

/// The shapes of `tests/scenario_load.rs`, each run through the binary.
fn malformed_files() -> Vec<Malformed> {
    vec![
        whole("bad YAML", "name: t\nsummary: s: x\n", (2, 11), "mapping values are not allowed"),
        whole("bad indentation", "name: t\nsummary: s\nagents:\n  alice: {}\n steps: []\n", (5, 2), "did not find expected key"),
        whole("unknown top-level key", "name: t\nsumary: s\nagents:\n  alice: {}\nsteps:\n  - send: OPTIONS\n", (2, 1), "unknown key `sumary`"),
        steps("unknown step key", "  - send: OPTIONS\n    frm: alice\n", (7, 5), "unknown key `frm`"),
        whole("missing required key", "# c\nname: t\nagents:\n  alice: {}\nsteps:\n  - send: OPTIONS\n", (2, 1), "missing required key `summary`"),
        whole("wrong type", "name: t\nsummary: s\nagents: [alice]\nsteps:\n  - send: OPTIONS\n", (3, 9), "expected a mapping"),
        steps("misspelled method", "  - send: INVIT\n", (6, 11), "unknown method `INVIT`"),
        steps("status out of range", "  - expect: 700\n", (6, 13), "from 100 to 699"),
        steps("status below range in send", "  - expect: INVITE\n  - send: \"99 Low\"\n", (7, 11), "from 100 to 699"),
        steps("undefined agent", "  - send: OPTIONS\n    from: alcie\n", (7, 11), "undefined agent `alcie`"),
        steps("undefined agent in at", "  - send: OPTIONS\n  - expect: 200\n    at: bob\n", (8, 9), "undefined agent `bob`"),
        whole("agent named target", "name: t\nsummary: s\nagents:\n  target: {}\nsteps:\n  - send: OPTIONS\n", (4, 3), "cannot be named `target`"),
        whole("duplicate agent", "name: t\nsummary: s\nagents:\n  alice: {}\n  alice: { user: a2 }\nsteps:\n  - send: OPTIONS\n", (5, 3), "duplicate key `alice`"),
        steps("undefined variable", "  - send: OPTIONS\n    headers:\n      Subject: \"hi [nope]\"\n", (8, 20), "undefined variable `[nope]`"),
        steps("variable captured only later", "  - send: OPTIONS\n    headers: { X-Tag: \"[tag]\" }\n  - expect: 200\n    capture: { tag: to.tag }\n", (7, 24), "undefined variable `[tag]`"),
        steps("duration without unit", "  - expect: 200\n    timeout: 5\n", (7, 14), "expected a duration with a unit"),
        steps("duration with unknown unit", "  - wait: 5 sec\n", (6, 11), "expected a duration"),
        steps("bad SDP direction", "  - expect: 200\n    sdp: { direction: sendonli }\n", (7, 23), "expected a direction"),
        steps("bad IP in SDP assertion", "  - expect: 200\n    sdp: { connection: 1.2.3 }\n", (7, 24), "expected an IPv4 or IPv6 address"),
        steps("bad capture path", "  - expect: 200\n    capture: { t: to.tga }\n", (7, 19), "unknown capture path `to.tga`"),
        steps("bad header name", "  - send: OPTIONS\n    headers:\n      \"X Bad\": 1\n", (8, 7), "expected a header name"),
        whole("empty steps", "name: t\nsummary: s\nagents:\n  alice: {}\nsteps: []\n", (5, 8), "at least one step"),
        steps("two kinds in one step", "  - send: OPTIONS\n    expect: 200\n", (7, 13), "cannot be combined with `send`"),
        steps("one_of with one entry", "  - one_of:\n      - expect: 180\n", (7, 7), "at least two entries in `one_of`"),
        steps("unordered holding a send", "  - unordered:\n      - expect: 180\n      - send: BYE\n", (8, 15), "expect steps only"),
        steps("raw with sdp", "  - send: OPTIONS\n    sdp: offer\n    raw: \"OPTIONS sip:x SIP/2.0\"\n", (7, 10), "`sdp` cannot be combined with `raw`"),
        steps("ack on a non-INVITE", "  - send: BYE\n    ack: manual\n", (7, 10), "`ack` applies to INVITE only"),
        whole("probability above 1", "name: t\nsummary: s\nimpair:\n  outbound: { loss: 1.5 }\nagents:\n  alice: {}\nsteps:\n  - send: OPTIONS\n", (4, 21), "probability from 0 to 1"),
        whole("misspelled capability", "name: t\nsummary: s\ntarget: { needs: [INVITE, 100rle] }\nagents:\n  alice: {}\nsteps:\n  - send: OPTIONS\n", (3, 27), "unknown option tag `100rle`"),
        steps("YAML 1.1 boolean", "  - expect: 200\n    optional: yes\n", (7, 15), "expected true or false"),
        steps("invalid regular expression", "  - send: OPTIONS\n  - expect: 200\n    headers: { Server: { matches: \"(\" } }\n", (8, 35), "invalid regular expression"),
    ]
}

#[test]
fn every_kind_of_malformed_scenario_exits_2_at_its_line_and_column() {
    let dir = scratch("malformed-kinds");
    let mut failures = Vec::new();
    let cases = malformed_files();
    assert!(cases.len() >= 15);
    for (i, c) in cases.iter().enumerate() {
        let file = dir.join(format!("case-{i}.yaml"));
        std::fs::write(&file, &c.text).unwrap();
        let out = run(
            &["--target", "udp:127.0.0.1:9", file.to_str().unwrap()],
            &dir.join("reports"),
        );
        let err = stderr(&out);
        let want = format!("{}:{}:{}: ", file.display(), c.at.0, c.at.1);
        let first = err.lines().next().unwrap_or_default();
        if out.status.code() != Some(2) || !first.starts_with(&want) || !first.contains(c.says) {
            failures.push(format!(
                "{}: exit {:?}, wanted `{want}...{}`, stderr: {err}",
                c.what,
                out.status.code(),
                c.says
            ));
        }
        if !out.stdout.is_empty() {
            failures.push(format!("{}: something ran", c.what));
        }
    }
    assert!(
        dir.join("reports").read_dir().is_err(),
        "no report for runs that never started"
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn duplicate_scenario_names_in_a_directory_exit_2_at_the_second_name() {
    let dir = scratch("malformed-dup");
    let scenarios = dir.join("scenarios");
    std::fs::create_dir_all(scenarios.join("sub")).unwrap();
    let one = "# first\nname: same\nsummary: s\nagents: { a: {} }\nsteps:\n  - send: OPTIONS\n";
    std::fs::write(scenarios.join("a.yaml"), one).unwrap();
    std::fs::write(scenarios.join("sub/b.yaml"), one).unwrap();
    let out = run(
        &["--target", "udp:127.0.0.1:9", scenarios.to_str().unwrap()],
        &dir.join("reports"),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let second = scenarios.join("sub/b.yaml").display().to_string();
    let first = scenarios.join("a.yaml").display().to_string();
    assert!(
        err.starts_with(&format!(
            "{second}:2:7: scenario name `same` is already used by {first}:2:7"
        )),
        "{err}"
    );
}
