//! Reading expectation files: serde-saphyr with positions into raw types, then checks that
//! name the line and column and what was expected. Every error of a file is reported, in file
//! order; a YAML error stops that file's loading, so it is alone.

use super::{glob_match, is_glob, Expectation, Expectations, Level, Verdict};
use crate::scenario::load::io_error;
use crate::scenario::suggest::did_you_mean;
use crate::scenario::{LoadError, LoadErrorKind, Located};
use serde::Deserialize;
use serde_saphyr::Error as YamlError;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    target: Located<String>,
    version: Option<String>,
    #[serde(default)]
    expect: Vec<Located<RawEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    scenario: Located<String>,
    verdict: Located<String>,
    level: Option<Located<String>>,
    rules: Option<Located<Vec<Located<String>>>>,
    #[serde(rename = "match")]
    matches: Option<Located<String>>,
    reason: Option<Located<String>>,
}

/// Errors of one file, gathered in order.
struct Errs<'a> {
    file: &'a str,
    list: Vec<LoadError>,
}

impl Errs<'_> {
    fn at<T>(&mut self, l: &Located<T>, kind: LoadErrorKind, message: String) {
        self.list.push(LoadError {
            file: self.file.to_string(),
            line: l.line.max(1),
            column: l.column.max(1),
            kind,
            message,
        });
    }
}

/// Loads one expectation file from text; `file` names it in errors.
pub fn load_str(text: &str, file: &str) -> Result<Expectations, Vec<LoadError>> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
    };
    let raw: Located<RawFile> = serde_saphyr::from_str_with_options(text, options)
        .map_err(|e| vec![yaml_error(&e, text, file)])?;
    let raw = raw.value;
    let mut errs = Errs {
        file,
        list: Vec::new(),
    };
    if raw.target.trim().is_empty() || raw.target.contains(char::is_whitespace) {
        let msg = format!(
            "expected the target's name as results.json names it (no spaces), found `{}`",
            raw.target.value
        );
        errs.at(&raw.target, LoadErrorKind::InvalidValue, msg);
    }
    let mut entries: Vec<Expectation> = Vec::new();
    for e in raw.expect {
        if let Some(entry) = entry(e, &mut errs) {
            shadowed(&entry, &entries, &mut errs);
            entries.push(entry);
        }
    }
    if !errs.list.is_empty() {
        return Err(errs.list);
    }
    Ok(Expectations {
        file: file.to_string(),
        target: raw.target,
        version: raw.version,
        entries,
    })
}

/// Checks one entry; `None` when it has errors (pushed to `errs`).
fn entry(e: Located<RawEntry>, errs: &mut Errs) -> Option<Expectation> {
    let before = errs.list.len();
    let at = e.with(());
    let r = e.value;
    pattern(&r.scenario, errs);
    let verdict = Verdict::parse(&r.verdict);
    if verdict.is_none() {
        let names = Verdict::ALL.map(Verdict::as_str);
        let msg = format!(
            "expected a verdict ({}), found `{}`{}",
            names.join(", "),
            r.verdict.value,
            did_you_mean(&r.verdict, names)
        );
        errs.at(&r.verdict, LoadErrorKind::InvalidValue, msg);
    }
    // The other checks depend on the verdict.
    let verdict = verdict?;
    let level = level(verdict, r.level.as_ref(), &at, errs);
    let rules = rules(verdict, r.rules, &at, errs);
    if let Some(m) = &r.matches {
        if verdict == Verdict::Pass {
            let msg = "`match` is for a run that does not pass: a pass has no reason, \
                       expected or actual text to search"
                .to_string();
            errs.at(m, LoadErrorKind::Conflict, msg);
        } else if m.is_empty() {
            let msg = "expected a text to find in the run, found an empty one".to_string();
            errs.at(m, LoadErrorKind::InvalidValue, msg);
        }
    }
    let reason = r.reason.filter(|s| !s.trim().is_empty());
    if verdict != Verdict::Pass && reason.is_none() {
        let msg = format!(
            "missing required key `reason`: a `{verdict}` expectation says why the device \
             does this (what it does, and the RFC section that allows or forbids it)"
        );
        errs.at(&at, LoadErrorKind::MissingKey, msg);
    }
    (errs.list.len() == before).then(|| Expectation {
        scenario: r.scenario,
        verdict,
        level,
        rules,
        matches: r.matches.map(Located::into_inner),
        reason: reason.map(Located::into_inner),
    })
}

/// A scenario name (`[a-z0-9][a-z0-9-]*`) with `*` and `?` allowed anywhere.
fn pattern(p: &Located<String>, errs: &mut Errs) {
    let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-*?".contains(c);
    if p.is_empty() || !p.chars().all(ok) {
        let msg = format!(
            "expected a scenario name or a glob over names (lowercase letters, digits, `-`, \
             and the wildcards `*` and `?`), found `{}`",
            p.value
        );
        errs.at(p, LoadErrorKind::InvalidValue, msg);
    }
}

/// `level`: required for `fail`, not allowed otherwise.
fn level(
    verdict: Verdict,
    raw: Option<&Located<String>>,
    at: &Located<()>,
    errs: &mut Errs,
) -> Option<Level> {
    let names = Level::ALL.map(Level::as_str);
    match raw {
        None if verdict == Verdict::Fail => {
            let msg = format!(
                "missing required key `level` for a `fail`: the level the run's verdict \
                 leads with ({})",
                names.join(", ")
            );
            errs.at(at, LoadErrorKind::MissingKey, msg);
            None
        }
        None => None,
        Some(l) if verdict != Verdict::Fail => {
            let msg = format!("`level` is for verdict `fail` only, not `{verdict}`");
            errs.at(l, LoadErrorKind::Conflict, msg);
            None
        }
        Some(l) => {
            let level = Level::parse(l);
            if level.is_none() {
                let msg = format!(
                    "expected a level ({}), found `{}`{}",
                    names.join(", "),
                    l.value,
                    did_you_mean(l, names)
                );
                errs.at(l, LoadErrorKind::InvalidValue, msg);
            }
            level
        }
    }
}

/// `rules`: required for `fail`, optional for `inconclusive` and `error`, not allowed for
/// `pass`; each a known rule id, none twice.
fn rules(
    verdict: Verdict,
    raw: Option<Located<Vec<Located<String>>>>,
    at: &Located<()>,
    errs: &mut Errs,
) -> Option<BTreeSet<String>> {
    let Some(list) = raw else {
        if verdict == Verdict::Fail {
            let msg = "missing required key `rules` for a `fail`: the run's failing rules \
                       (`[]` when it has none)"
                .to_string();
            errs.at(at, LoadErrorKind::MissingKey, msg);
        }
        return None;
    };
    if verdict == Verdict::Pass {
        let msg = "`rules` is for a run that does not pass".to_string();
        errs.at(&list, LoadErrorKind::Conflict, msg);
        return None;
    }
    let known: Vec<&'static str> = crate::catalogue::all_rules().iter().map(|r| r.id).collect();
    let mut set = BTreeSet::new();
    for r in list.value {
        let engine =
            r.starts_with("scenario.") || r.starts_with("engine.") || r.starts_with("golden.");
        if !engine && !known.contains(&r.as_str()) {
            let msg = format!(
                "unknown rule `{}`: expected a rule id of `siptest rules`, or an engine id \
                 (`scenario.*`, `engine.*`, `golden.*`){}",
                r.value,
                did_you_mean(&r, known.iter().copied())
            );
            errs.at(&r, LoadErrorKind::InvalidValue, msg);
        } else if !set.insert(r.value.clone()) {
            let msg = format!("rule `{}` is listed twice", r.value);
            errs.at(&r, LoadErrorKind::Duplicate, msg);
        }
    }
    Some(set)
}

/// An entry that can never apply: an earlier one has the same pattern, or matches the one
/// scenario it names.
fn shadowed(e: &Expectation, earlier: &[Expectation], errs: &mut Errs) {
    let (p, at) = (&e.scenario.value, |x: &Expectation| {
        format!("{}:{}", x.scenario.line, x.scenario.column)
    });
    let msg = if let Some(x) = earlier.iter().find(|x| &x.scenario.value == p) {
        format!("`{p}` is already the pattern of the entry at {}", at(x))
    } else if let Some(x) = earlier
        .iter()
        .find(|x| !is_glob(p) && glob_match(&x.scenario, p))
    {
        format!(
            "this entry never applies: the entry at {} (`{}`) matches `{p}` first; put the \
             more specific entry first",
            at(x),
            x.scenario.value
        )
    } else {
        return;
    };
    errs.at(&e.scenario, LoadErrorKind::Duplicate, msg);
}

/// Loads an expectation file, or every `*.yaml` and `*.yml` file of a directory (not its
/// subdirectories; hidden files are skipped), in name order.
pub fn load_path(path: &Path) -> Result<Vec<Expectations>, Vec<LoadError>> {
    load_paths(&[path.to_path_buf()])
}

/// Loads files and directories (as [`load_path`]); a target named by two files is an error.
/// Every error of every file.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Expectations>, Vec<LoadError>> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        match files_of(p) {
            Ok(f) => files.extend(f),
            Err(e) => errors.push(e),
        }
    }
    let mut out: Vec<Expectations> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for f in files {
        let name = f.display().to_string();
        let loaded = std::fs::read_to_string(&f)
            .map_err(|e| vec![io_error(&name, &e)])
            .and_then(|text| load_str(&text, &name));
        match loaded {
            Ok(x) => {
                if let Some(&i) = seen.get(&x.target.value) {
                    let first = &out[i];
                    let msg = format!(
                        "target `{}` already has expectations in {}:{}:{}",
                        x.target.value, first.file, first.target.line, first.target.column
                    );
                    let mut errs = Errs {
                        file: &name,
                        list: Vec::new(),
                    };
                    errs.at(&x.target, LoadErrorKind::Duplicate, msg);
                    errors.extend(errs.list);
                } else {
                    seen.insert(x.target.value.clone(), out.len());
                    out.push(x);
                }
            }
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The file itself, or the YAML files of a directory in name order.
fn files_of(p: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let name = p.display().to_string();
    if !p.is_dir() {
        return match std::fs::metadata(p) {
            Ok(_) => Ok(vec![p.to_path_buf()]),
            Err(e) => Err(io_error(&name, &e)),
        };
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(p).map_err(|e| io_error(&name, &e))? {
        let path = entry.map_err(|e| io_error(&name, &e))?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        let yaml = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        if yaml && !hidden && !path.is_dir() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// A serde-saphyr error in an expectation file, located.
fn yaml_error(e: &YamlError, text: &str, file: &str) -> LoadError {
    crate::scenario::load::yaml_error_in(
        e,
        text,
        file,
        "an expectation file (a mapping with `target` and `expect`)",
    )
}
