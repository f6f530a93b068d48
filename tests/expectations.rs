//! Expectation files (`docs/expectations.md`) against real runs: the reference UA and three
//! quirk sets as targets over four scenarios, then `siptest report --expect`. All as expected
//! exits 0; a change in either direction, other rules, a glob that comes too late and a target
//! without a file exit 1 with one line each; malformed files exit 2 with `file:line:column`.

use siptest::report::expect::{self, LoadErrorKind};
use siptest::report::model::ResultSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const SIPTEST: &str = env!("CARGO_BIN_EXE_siptest");

const TARGETS: &[(&str, &str)] = &[
    ("reference", "builtin"),
    ("no-to-tag", "builtin?quirk=no-to-tag"),
    ("hold-sendrecv", "builtin?quirk=hold-answered-sendrecv"),
    ("info-405", "builtin?quirk=info-405"),
];

const SCENARIOS: &[&str] = &[
    "scenarios/examples/options.yaml",
    "scenarios/hold/sendonly-uac.yaml",
    "scenarios/non-invite/info-in-dialog.yaml",
    "scenarios/call/uac-basic.yaml",
];

const REFERENCE: &str = "target: reference\nversion: siptest reference UA\n";

const NO_TO_TAG: &str = r#"target: no-to-tag
expect:
  - scenario: "hold-*"
    verdict: fail
    level: transaction
    rules: [tx.response.no-to-tag, seq.flow.unexpected]
    reason: >-
      final responses without To tag (RFC 3261 §8.2.6.2), so the re-INVITE of the hold
      goes to no dialog and its answer is unexpected
  - scenario: "*"
    verdict: fail
    level: transaction
    rules: [tx.response.no-to-tag]
    reason: final responses without To tag (RFC 3261 §8.2.6.2)
"#;

const HOLD_SENDRECV: &str = r#"target: hold-sendrecv
version: builtin?quirk=hold-answered-sendrecv
expect:
  - scenario: hold-sendonly-uac
    verdict: fail
    level: sequence
    rules: [seq.hold.answer-direction]
    match: "a=sendrecv"
    reason: answers a sendonly hold offer with sendrecv (RFC 3264 §6.1 wants recvonly)
"#;

const INFO_405: &str = r#"target: info-405
expect:
  - scenario: non-invite-info-in-dialog
    verdict: fail
    level: spec
    rules: [spec.allow.not-allowed]
    match: "405"
    reason: lists INFO in Allow but answers it with 405 (RFC 3261 §20.5)
"#;

fn work(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("expectations")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One `siptest run` of every target and scenario, shared by the tests; its results.json.
fn results() -> &'static Path {
    static RESULTS: OnceLock<PathBuf> = OnceLock::new();
    RESULTS.get_or_init(|| {
        let dir = work("run");
        let mut yaml = String::new();
        for (name, addr) in TARGETS {
            yaml.push_str(&format!("- name: {name}\n  address: \"{addr}\"\n"));
        }
        std::fs::write(dir.join("targets.yaml"), yaml).unwrap();
        let out = Command::new(SIPTEST)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["run", "--jobs", "2", "--format", "json", "--targets"])
            .arg(dir.join("targets.yaml"))
            .arg("--report-dir")
            .arg(dir.join("reports"))
            .arg("--golden-dir")
            .arg(dir.join("no-golden"))
            .args(SCENARIOS)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "siptest run: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir.join("reports/results.json")
    })
}

/// An expectations directory of the given files (name, text).
fn exp_dir(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = work(name).join("expectations");
    std::fs::create_dir_all(&dir).unwrap();
    for (f, text) in files {
        std::fs::write(dir.join(f), text).unwrap();
    }
    dir
}

fn all_files() -> Vec<(&'static str, &'static str)> {
    vec![
        ("reference.yaml", REFERENCE),
        ("no-to-tag.yaml", NO_TO_TAG),
        ("hold-sendrecv.yaml", HOLD_SENDRECV),
        ("info-405.yaml", INFO_405),
    ]
}

/// `siptest report RESULTS --expect DIR [extra]`: (exit code, stderr).
fn report(results: &Path, expect: &Path, extra: &[&str]) -> (i32, String) {
    let out_dir = expect.parent().unwrap().join("out");
    let out = Command::new(SIPTEST)
        .arg("report")
        .arg(results)
        .arg("-o")
        .arg(out_dir.join("index.html"))
        .arg("--expect")
        .arg(expect)
        .args(extra)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), err)
}

/// The lines of stderr that are changes (neither siptest's own nor warnings).
fn changes(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| !l.starts_with("siptest report:") && !l.contains(": warning: "))
        .collect()
}

#[test]
fn all_as_expected_exits_0_and_writes_the_summary_table() {
    let dir = exp_dir("all", &all_files());
    let md = dir.parent().unwrap().join("tested.md");
    let md_arg = md.to_str().unwrap();
    let (code, err) = report(results(), &dir, &["--summary-md", md_arg]);
    assert_eq!(code, 0, "{err}");
    assert!(changes(&err).is_empty(), "{err}");
    assert!(
        err.contains("expectations: 16 runs as expected (10 pass, 6 known non-pass), 0 changed"),
        "{err}"
    );
    let md = std::fs::read_to_string(md).unwrap();
    let rows: Vec<&str> = md.lines().collect();
    assert_eq!(rows.len(), 2 + TARGETS.len(), "{md}");
    assert_eq!(
        rows[2],
        "| reference | siptest reference UA | 4 | 4 | 0 | 0 | 0 | 0 | 0 | 0 |"
    );
    assert_eq!(rows[3], "| no-to-tag | – | 4 | 0 | 4 | 0 | 0 | 0 | 0 | 0 |");
    assert!(
        rows[4].starts_with(
            "| hold-sendrecv | builtin?quirk=hold-answered-sendrecv | 4 | 3 | 0 | 1 |"
        ),
        "{md}"
    );
    assert_eq!(rows[5], "| info-405 | – | 4 | 3 | 0 | 0 | 1 | 0 | 0 | 0 |");
}

#[test]
fn a_pass_expected_to_fail_is_a_change() {
    let mut files = all_files();
    let reference = "target: reference\nexpect:\n  - scenario: options-query\n    \
                     verdict: fail\n    level: spec\n    rules: [spec.allow.not-allowed]\n    \
                     reason: used to refuse OPTIONS\n";
    files[0] = ("reference.yaml", reference);
    let dir = exp_dir("pass-now", &files);
    let (code, err) = report(results(), &dir, &[]);
    assert_eq!(code, 1, "{err}");
    let file = dir.join("reference.yaml");
    assert_eq!(
        changes(&err),
        [format!(
            "reference options-query: expected fail [spec: spec.allow.not-allowed] (used to \
             refuse OPTIONS), got pass [{}:3:15]",
            file.display()
        )],
        "{err}"
    );
    assert!(err.contains("15 runs as expected (9 pass, 6 known non-pass), 1 changed"));
}

#[test]
fn a_fail_expected_to_pass_is_a_change() {
    let mut files = all_files();
    files[3] = ("info-405.yaml", "target: info-405\n");
    let dir = exp_dir("fail-now", &files);
    let (code, err) = report(results(), &dir, &[]);
    assert_eq!(code, 1, "{err}");
    let lines = changes(&err);
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with(
            "info-405 non-invite-info-in-dialog: expected pass (no entry), got fail [spec: \
             spec.allow.not-allowed] (405 Method Not Allowed"
        ),
        "{err}"
    );
}

#[test]
fn other_rules_or_a_missing_text_are_changes() {
    let mut files = all_files();
    let info = INFO_405.replace("spec.allow.not-allowed]", "spec.allow.not-implemented]");
    let hold = HOLD_SENDRECV.replace("a=sendrecv", "a=recvonly");
    files[3] = ("info-405.yaml", &info);
    files[2] = ("hold-sendrecv.yaml", &hold);
    let dir = exp_dir("rules", &files);
    let (code, err) = report(results(), &dir, &[]);
    assert_eq!(code, 1, "{err}");
    let lines = changes(&err);
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with(
            "hold-sendrecv hold-sendonly-uac: expected fail [sequence: \
             seq.hold.answer-direction] matching \"a=recvonly\""
        ),
        "{err}"
    );
    assert!(
        lines[0].contains(": no \"a=recvonly\" in the run ["),
        "{err}"
    );
    assert!(
        lines[1].starts_with(
            "info-405 non-invite-info-in-dialog: expected fail [spec: \
             spec.allow.not-implemented] matching \"405\""
        ),
        "{err}"
    );
    assert!(
        lines[1].contains(
            ", got fail [spec: spec.allow.not-allowed] (405 Method Not Allowed (to INFO, \
             CSeq 2) at "
        ),
        "{err}"
    );
    // The time of the 405 in the run is the machine's, not the test's.
    assert!(
        lines[1].contains(
            "ms): the rules differ (new spec.allow.not-allowed; gone \
             spec.allow.not-implemented) ["
        ),
        "{err}"
    );
}

#[test]
fn the_first_matching_entry_wins() {
    // `*` before `hold-*`: the hold run gets `*`, whose rules lack seq.flow.unexpected, and
    // `hold-*` applies to nothing (a warning).
    let swapped = "target: no-to-tag\nexpect:\n  - scenario: \"*\"\n    verdict: fail\n    \
                   level: transaction\n    rules: [tx.response.no-to-tag]\n    reason: no To \
                   tag\n  - scenario: \"hold-*\"\n    verdict: fail\n    level: transaction\n    \
                   rules: [tx.response.no-to-tag, seq.flow.unexpected]\n    reason: no To tag\n";
    let mut files = all_files();
    files[1] = ("no-to-tag.yaml", swapped);
    let dir = exp_dir("glob-order", &files);
    let (code, err) = report(results(), &dir, &[]);
    assert_eq!(code, 1, "{err}");
    let file = dir.join("no-to-tag.yaml").display().to_string();
    assert_eq!(changes(&err).len(), 1, "{err}");
    let line = changes(&err)[0];
    assert!(
        line.starts_with(
            "no-to-tag hold-sendonly-uac: expected fail [transaction: tx.response.no-to-tag] \
             (no To tag), got fail [transaction: seq.flow.unexpected, tx.response.no-to-tag]"
        ),
        "{err}"
    );
    assert!(
        line.ends_with(&format!(
            ": the rules differ (new seq.flow.unexpected) [{file}:3:15]"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{file}:8:15: warning: `hold-*` applies to no scenario of the plan for \
             `no-to-tag` (earlier entries take every scenario it matches)"
        )),
        "{err}"
    );
    // A scenario name after a glob that takes it can never apply: a load error.
    let dead = format!("{NO_TO_TAG}  - scenario: options-query\n    verdict: pass\n");
    let errs = expect::load_str(&dead, "dead.yaml").unwrap_err();
    assert_eq!(
        errs[0].to_string(),
        "dead.yaml:15:15: this entry never applies: the entry at 10:15 (`*`) matches \
         `options-query` first; put the more specific entry first"
    );
}

#[test]
fn a_target_without_a_file_is_a_change() {
    let mut files = all_files();
    files.remove(2);
    let dir = exp_dir("missing", &files);
    let (code, err) = report(results(), &dir, &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        changes(&err),
        [
            "hold-sendrecv: no expectations for this target (4 runs not checked); write an \
          expectation file with `target: hold-sendrecv`"
        ],
        "{err}"
    );
    assert!(err.contains("12 runs as expected (7 pass, 5 known non-pass), 4 changed"));
}

#[test]
fn a_shard_checks_its_runs_and_warns_of_nothing() {
    // Half of the runs, as a shard holds them: the plan's scenarios are all listed, so no
    // entry is stale, and the missing runs are no change.
    let text = std::fs::read_to_string(results()).unwrap();
    let mut set: ResultSet = siptest::report::parse(&text, "results.json").unwrap();
    set.shard = Some(siptest::report::model::Shard { index: 1, count: 2 });
    let mut i = 0;
    set.runs.retain(|_| {
        i += 1;
        i % 2 == 1
    });
    set.recount();
    let dir = exp_dir("shard", &all_files());
    let shard = dir.parent().unwrap().join("shard-1.json");
    std::fs::write(&shard, serde_json::to_vec(&set).unwrap()).unwrap();
    let (code, err) = report(&shard, &dir, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("warning"), "{err}");
    assert!(err.contains("8 runs as expected"), "{err}");
}

#[test]
fn anonymised_outputs_are_checked_under_the_real_names() {
    let dir = exp_dir("anonymous", &all_files());
    let md = dir.parent().unwrap().join("tested.md");
    let (code, err) = report(
        results(),
        &dir,
        &["--anonymise", "--summary-md", md.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    let md = std::fs::read_to_string(md).unwrap();
    assert!(md.contains("\n| target A | – | 4 | 4 |"), "{md}");
    assert!(!md.contains("reference") && !md.contains("quirk"), "{md}");
}

/// (file text, line, column, kind, start of the message) of malformed files.
const BAD: &[(&str, u32, u32, LoadErrorKind, &str)] = &[
    (
        "target: x\nexpect:\n  - scenario: a\n    verdict: fial\n    reason: r\n",
        4,
        14,
        LoadErrorKind::InvalidValue,
        "expected a verdict (pass, fail, inconclusive, error), found `fial`",
    ),
    (
        "target: x\nexpect:\n  - scenario: a\n    verdict: fail\n    level: seqence\n    \
         rules: []\n    reason: r\n",
        5,
        12,
        LoadErrorKind::InvalidValue,
        "expected a level (transaction, sequence, spec, unclassified), found `seqence`; did \
         you mean `sequence`?",
    ),
    (
        "target: x\nexpect:\n  - scenario: \"Hold_[x]\"\n    verdict: pass\n",
        3,
        15,
        LoadErrorKind::InvalidValue,
        "expected a scenario name or a glob over names",
    ),
    (
        "target: x\nexpect:\n  - scenario: a\n    verdict: fail\n    level: spec\n    \
         rules: [seq.flow.unexpcted]\n    reason: r\n",
        6,
        13,
        LoadErrorKind::InvalidValue,
        "unknown rule `seq.flow.unexpcted`",
    ),
    (
        "target: x\nexpect:\n  - scenario: a\n    verdcit: pass\n",
        4,
        5,
        LoadErrorKind::UnknownKey,
        "unknown key `verdcit`, expected one of: scenario, verdict, level, rules, match, \
         reason; did you mean `verdict`?",
    ),
    (
        "target: x\nexpect:\n  scenario: a\n",
        3,
        3,
        LoadErrorKind::WrongType,
        "expected a list (`- item` lines, or `[a, b]`), found a mapping",
    ),
    (
        "target: x\nexpect:\n  - scenario: a\n    verdict: fail\n    reason: r\n    rules: \
         []\n",
        3,
        5,
        LoadErrorKind::MissingKey,
        "missing required key `level` for a `fail`",
    ),
    (
        "target: x\nexpect:\n  - scenario: a\n    verdict: pass\n    level: spec\n",
        5,
        12,
        LoadErrorKind::Conflict,
        "`level` is for verdict `fail` only, not `pass`",
    ),
    (
        "expect: []\n",
        1,
        1,
        LoadErrorKind::MissingKey,
        "missing required key `target`",
    ),
    (
        "",
        1,
        1,
        LoadErrorKind::Syntax,
        "expected an expectation file (a mapping with `target` and `expect`)",
    ),
];

#[test]
fn malformed_files_are_located_errors() {
    for (text, line, column, kind, msg) in BAD {
        let errs = expect::load_str(text, "bad.yaml").unwrap_err();
        let e = &errs[0];
        assert_eq!(
            (e.line, e.column, e.kind),
            (*line, *column, *kind),
            "{e}\n{text}"
        );
        assert!(e.message.starts_with(msg), "{e}\n{text}");
        assert!(e
            .to_string()
            .starts_with(&format!("bad.yaml:{line}:{column}: ")));
    }
    // Through the command line: every error of every file, exit 2, nothing checked.
    let dir = exp_dir("bad", &[("a.yaml", BAD[0].0), ("b.yaml", BAD[4].0)]);
    let (code, err) = report(results(), &dir, &[]);
    assert_eq!(code, 2, "{err}");
    let a = dir.join("a.yaml").display().to_string();
    let b = dir.join("b.yaml").display().to_string();
    assert!(
        err.contains(&format!("{a}:4:14: expected a verdict")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{b}:4:5: unknown key `verdcit`")),
        "{err}"
    );
    assert!(!err.contains("as expected"), "{err}");
}

#[test]
fn every_non_pass_needs_a_reason() {
    for verdict in ["fail", "inconclusive", "error"] {
        let rest = if verdict == "fail" {
            "\n    level: spec\n    rules: []"
        } else {
            ""
        };
        let text = format!(
            "target: x\nexpect:\n  - scenario: a\n    verdict: {verdict}{rest}\n    reason: \"  \"\n"
        );
        let errs = expect::load_str(&text, "r.yaml").unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(
            (errs[0].line, errs[0].column, errs[0].kind),
            (3, 5, LoadErrorKind::MissingKey)
        );
        assert!(errs[0].message.starts_with(&format!(
            "missing required key `reason`: a `{verdict}` expectation"
        )));
    }
    let pass = "target: x\nexpect:\n  - scenario: a\n    verdict: pass\n";
    assert!(expect::load_str(pass, "p.yaml").is_ok());
    // Two files for one target.
    let dir = exp_dir(
        "twice",
        &[("a.yaml", "target: x\n"), ("b.yaml", "target: x\n")],
    );
    let errs = expect::load_path(&dir).unwrap_err();
    assert_eq!(errs[0].kind, LoadErrorKind::Duplicate);
    assert!(errs[0]
        .to_string()
        .contains("b.yaml:1:9: target `x` already has expectations in"));
}
