//! The classifier on the quirk catalogue (issue 7, "Must show"): the library runs against
//! every quirk of the reference UA, and every run a quirk makes fail is classified at the
//! quirk's labelled level, with the quirk's rule among the findings at that level. The
//! confusion matrix (labelled level x the level the verdict leads with) is printed and must
//! be diagonal. The unquirked UA and every legal variation give no finding about the target
//! at all, and every run passes.
//!
//! Slow (the library once per quirk and per variation): quirks run two at a time, as in
//! `tests/ua_quirks.rs`; a run whose classification differs is played once more on its own
//! (a loaded machine can stretch a timer window past the checker's tolerance), and only a
//! difference that repeats counts.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

const WORKERS: usize = 1;
const JOBS: &str = "3";
const LEVELS: [&str; 4] = ["transaction", "sequence", "spec", "none"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn siptest(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_siptest"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run siptest");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "siptest {args:?}: not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The runs of `paths` against `target`, by scenario name.
fn run(target: &str, dir: &str, paths: &[&str]) -> BTreeMap<String, Value> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("classify/{dir}"));
    let mut args = vec![
        "run",
        "--target",
        target,
        "--jobs",
        JOBS,
        "--format",
        "json",
        "--report-dir",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(paths);
    let doc = siptest(&args);
    doc["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| (r["scenario"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

/// The level a run's verdict leads with (`none` when no finding is about the target).
fn lead_level(r: &Value) -> String {
    r["level"].as_str().unwrap_or("none").to_string()
}

/// Whether `rule` is among the run's findings at `level`.
fn has_rule(r: &Value, level: &str, rule: &str) -> bool {
    r["findings"]
        .as_array()
        .is_some_and(|fs| fs.iter().any(|f| f["level"] == level && f["rule"] == rule))
}

struct Quirk {
    name: String,
    level: String,
    rule: String,
}

/// One classified run: scenario, the level it led with, its leading rule, and a problem.
type Outcome = (String, String, String, Option<String>);

fn check_quirk(q: &Quirk) -> Vec<Outcome> {
    let target = format!("builtin?quirk={}", q.name);
    let runs = run(&target, &q.name, &["scenarios/"]);
    let mut out = Vec::new();
    for (name, r) in &runs {
        if r["verdict"] == "pass" {
            continue;
        }
        let judge = |r: &Value| -> Option<String> {
            if r["verdict"] == "pass" {
                return Some("passed on replay".into());
            }
            let got = lead_level(r);
            if got != q.level {
                return Some(format!(
                    "led with {got} {}, labelled {} {}",
                    r["rule"], q.level, q.rule
                ));
            }
            if !has_rule(r, &q.level, &q.rule) {
                return Some(format!("no finding {} at {}", q.rule, q.level));
            }
            None
        };
        let mut r = r.clone();
        let mut problem = judge(&r);
        if problem.is_some() {
            let source = r["source"].as_str().unwrap().to_string();
            let again = run(&target, &format!("{}-again", q.name), &[&source]);
            if let Some(a) = again.get(name) {
                if a["verdict"] == "pass" {
                    eprintln!("{}: {name} failed once and passed on replay", q.name);
                    continue;
                }
                if judge(a).is_none() {
                    eprintln!("{}: {name} was misclassified once, not on replay", q.name);
                    r = a.clone();
                    problem = None;
                }
            }
        }
        out.push((
            name.clone(),
            lead_level(&r),
            r["rule"].as_str().unwrap_or("-").to_string(),
            problem.map(|p| format!("{}: {name}: {p}", q.name)),
        ));
    }
    if out.is_empty() {
        out.push((
            "-".into(),
            "none".into(),
            "-".into(),
            Some(format!("{}: no scenario reveals it", q.name)),
        ));
    }
    out
}

fn quirks() -> Vec<Quirk> {
    let list = siptest(&["ua", "--list-quirks", "--format", "json"]);
    list.as_array()
        .expect("a JSON array of quirks")
        .iter()
        .map(|q| Quirk {
            name: q["name"].as_str().unwrap().to_string(),
            level: q["level"].as_str().unwrap().to_string(),
            rule: q["rule"].as_str().unwrap().to_string(),
        })
        .collect()
}

#[test]
fn every_quirk_is_classified_at_its_level_and_rule() {
    let all = quirks();
    let queue = Mutex::new((0..all.len()).collect::<Vec<_>>());
    let results = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| loop {
                let Some(i) = queue.lock().unwrap().pop() else {
                    return;
                };
                let r = check_quirk(&all[i]);
                results.lock().unwrap().insert(i, r);
            });
        }
    });
    let results = results.into_inner().unwrap();
    let mut matrix = [[0usize; 4]; 3];
    let mut problems = Vec::new();
    println!(
        "{:<28} {:<12} {:<36} revealing runs: lead level / rule",
        "quirk", "labelled", "rule"
    );
    for (i, q) in all.iter().enumerate() {
        let row = LEVELS.iter().position(|l| *l == q.level).expect("level");
        let mut leads: BTreeMap<String, usize> = BTreeMap::new();
        for (_, level, rule, problem) in &results[&i] {
            let col = LEVELS.iter().position(|l| l == level).unwrap_or(3);
            matrix[row][col] += 1;
            *leads.entry(format!("{level} {rule}")).or_default() += 1;
            problems.extend(problem.iter().cloned());
        }
        let leads: Vec<String> = leads.iter().map(|(k, n)| format!("{k} x{n}")).collect();
        println!(
            "{:<28} {:<12} {:<36} {}",
            q.name,
            q.level,
            q.rule,
            leads.join(", ")
        );
    }
    println!(
        "\nconfusion matrix (rows: labelled level; columns: the level the verdict leads with)"
    );
    println!(
        "{:<12} {:>12} {:>12} {:>12} {:>12}",
        "", LEVELS[0], LEVELS[1], LEVELS[2], LEVELS[3]
    );
    let (mut right, mut total) = (0, 0);
    for (row, counts) in matrix.iter().enumerate() {
        println!(
            "{:<12} {:>12} {:>12} {:>12} {:>12}",
            LEVELS[row], counts[0], counts[1], counts[2], counts[3]
        );
        right += counts[row];
        total += counts.iter().sum::<usize>();
    }
    println!(
        "{right}/{total} runs classified at their labelled level ({:.1}%)",
        100.0 * right as f64 / total.max(1) as f64
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(right, total);
}

/// The unquirked UA and each legal variation: every run passes and no finding is about the
/// target (findings without a level, siptest's own notes, may be there).
#[test]
fn the_unquirked_ua_and_every_legal_variation_give_no_finding() {
    let list = siptest(&["ua", "--list-variations", "--format", "json"]);
    let mut targets = vec![("builtin".to_string(), "plain".to_string())];
    for v in list.as_array().expect("a JSON array of variations") {
        let name = v["name"].as_str().unwrap();
        targets.push((format!("builtin?variation={name}"), name.to_string()));
    }
    assert!(targets.len() >= 9, "{targets:?}");
    let queue = Mutex::new(targets.clone());
    let problems = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| loop {
                let Some((target, dir)) = queue.lock().unwrap().pop() else {
                    return;
                };
                let runs = run(&target, &format!("clean-{dir}"), &["scenarios/"]);
                assert!(runs.len() >= 40, "{target}: {} runs", runs.len());
                for (name, r) in &runs {
                    let about: Vec<&Value> = r["findings"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|f| !f["level"].is_null())
                        .collect();
                    if r["verdict"] == "pass" && about.is_empty() {
                        continue;
                    }
                    // Once more on its own before it counts (a loaded machine).
                    let source = r["source"].as_str().unwrap();
                    let again = run(&target, &format!("clean-{dir}-again"), &[source]);
                    let a = &again[name];
                    let about_again = a["findings"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|f| !f["level"].is_null())
                        .count();
                    if a["verdict"] != "pass" || about_again > 0 {
                        problems.lock().unwrap().push(format!(
                            "{target}: {name}: {} with {} finding(s) about the target: {}",
                            a["verdict"], about_again, a["findings"]
                        ));
                    } else {
                        eprintln!("{target}: {name} differed once, not on replay");
                    }
                }
            });
        }
    });
    let problems = problems.into_inner().unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
