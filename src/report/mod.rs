//! Reports over result sets: reading `results.json` documents back ([`model`]), merging the
//! shards of one plan ([`merge`]), hiding who the targets were ([`anonymise`]), the
//! HTML compatibility matrix ([`html`], with its ladder diagrams in [`ladder`]), and the check
//! of runs against the expectations of each target ([`expect`]). The edge
//! (`siptest report`, `src/cli/report.rs`) reads and writes the files; everything here takes
//! and returns values.

pub mod expect;
pub mod html;
pub mod ladder;
pub mod model;

use model::{ResultSet, RunRecord, FORMAT};
use std::collections::{BTreeSet, HashMap};

/// Reads one result document; `name` names it in errors.
pub fn parse(text: &str, name: &str) -> Result<ResultSet, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("{name}: not JSON: {e}"))?;
    match v.get("format").and_then(|f| f.as_str()) {
        Some(FORMAT) => {}
        Some(other) => {
            return Err(format!(
                "{name}: result format `{other}`; this siptest reads `{FORMAT}`"
            ))
        }
        None => {
            return Err(format!(
                "{name}: no `format` key: not a siptest result document (or one older than \
                 `{FORMAT}`; run it again)"
            ))
        }
    }
    serde_json::from_value(v).map_err(|e| format!("{name}: {e}"))
}

/// What a merge says beyond the merged set.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MergeNotes {
    /// Shards of an N-shard plan that no input holds (`[2, 4]` of 4).
    pub missing_shards: Vec<u32>,
    pub shard_count: Option<u32>,
}

/// Merges result documents (the shards of one plan, or several plans) into one: targets and
/// scenarios in order of first appearance, runs sorted by target, scenario and repetition in
/// that order, so that the shards of a plan merge into exactly the document of the plan run
/// whole. A run present twice (the same target, scenario and repetition) is an error.
pub fn merge(sets: Vec<ResultSet>) -> Result<(ResultSet, MergeNotes), String> {
    let mut out = ResultSet {
        format: FORMAT.to_string(),
        generator: format!("siptest {}", env!("CARGO_PKG_VERSION")),
        shard: None,
        targets: Vec::new(),
        scenarios: Vec::new(),
        runs: Vec::new(),
        summary: Default::default(),
        classes: Default::default(),
    };
    let mut notes = MergeNotes::default();
    let mut shards: BTreeSet<u32> = BTreeSet::new();
    let mut whole = false;
    for set in sets {
        match set.shard {
            Some(s) => {
                if notes.shard_count.is_some_and(|n| n != s.count) {
                    return Err(format!(
                        "shards of different plans: one of {} shards and one of {}",
                        notes.shard_count.unwrap_or(0),
                        s.count
                    ));
                }
                notes.shard_count = Some(s.count);
                shards.insert(s.index);
            }
            None => whole = true,
        }
        for t in set.targets {
            if !out.targets.contains(&t) {
                out.targets.push(t);
            }
        }
        for s in set.scenarios {
            if !out.scenarios.contains(&s) {
                out.scenarios.push(s);
            }
        }
        out.runs.extend(set.runs);
    }
    // Runs of targets or scenarios a document did not list (older writers) still count.
    for r in &out.runs {
        if !out.targets.contains(&r.target) {
            out.targets.push(r.target.clone());
        }
        let sc = model::ScenarioRef {
            name: r.scenario.clone(),
            source: r.source.clone(),
        };
        if !out.scenarios.contains(&sc) {
            out.scenarios.push(sc);
        }
    }
    if let (Some(n), false) = (notes.shard_count, whole) {
        notes.missing_shards = (1..=n).filter(|k| !shards.contains(k)).collect();
        if !notes.missing_shards.is_empty() && shards.len() == 1 {
            // One shard alone stays that shard.
            out.shard = Some(model::Shard {
                index: *shards.iter().next().unwrap_or(&1),
                count: n,
            });
        }
    }
    let t_index: HashMap<&str, usize> = out
        .targets
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i))
        .collect();
    let s_index: HashMap<(&str, &str), usize> = out
        .scenarios
        .iter()
        .enumerate()
        .map(|(i, s)| ((s.name.as_str(), s.source.as_str()), i))
        .collect();
    let key = |r: &RunRecord| {
        (
            t_index
                .get(r.target.as_str())
                .copied()
                .unwrap_or(usize::MAX),
            s_index
                .get(&(r.scenario.as_str(), r.source.as_str()))
                .copied()
                .unwrap_or(usize::MAX),
            r.repetition,
        )
    };
    let mut runs = std::mem::take(&mut out.runs);
    runs.sort_by_key(|r| key(r));
    for w in runs.windows(2) {
        if key(&w[0]) == key(&w[1]) {
            return Err(format!(
                "the run of `{}` (repetition {}) against `{}` is in two inputs: shards overlap \
                 or a file was given twice",
                w[0].scenario, w[0].repetition, w[0].target
            ));
        }
    }
    out.runs = runs;
    out.recount();
    Ok((out, notes))
}

/// Replaces the target names with letters (`A`, `B`... in plan order) everywhere they appear
/// as a word, and drops the values of User-Agent and Server headers from the raw messages:
/// for events whose results are shared without names. Addresses stay.
pub fn anonymise(set: &mut ResultSet) {
    let names: Vec<(String, String)> = set
        .targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            (
                t.clone(),
                format!("target {}", crate::transcript::alias::letters(i + 1)),
            )
        })
        .collect();
    // Longest first, so that `pbx` does not cut into `pbx-2`.
    let mut by_len = names.clone();
    by_len.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
    let hide = |s: &mut String| {
        for (name, letter) in &by_len {
            *s = replace_word(s, name, letter);
        }
    };
    for t in &mut set.targets {
        if let Some((_, l)) = names.iter().find(|(n, _)| n == t) {
            *t = l.clone();
        }
    }
    for r in &mut set.runs {
        if let Some((_, l)) = names.iter().find(|(n, _)| *n == r.target) {
            r.target = l.clone();
        }
        for s in [&mut r.expected, &mut r.actual, &mut r.reason]
            .into_iter()
            .flatten()
        {
            hide(s);
        }
        for f in &mut r.findings {
            hide(&mut f.expected);
            hide(&mut f.actual);
        }
        if let Some(t) = &mut r.trace {
            for m in &mut t.messages {
                m.raw = drop_header_values(&m.raw, &["user-agent", "server"]);
            }
        }
        if let Some(g) = &mut r.golden {
            if let Some(file) = g.get_mut("file") {
                let mut s = file.as_str().unwrap_or_default().to_string();
                hide(&mut s);
                *file = serde_json::Value::String(s);
            }
        }
    }
}

/// `text` with every occurrence of `word` that is not part of a longer name (letters,
/// digits, `-`, `_`, `.` around it) replaced.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    if word.is_empty() {
        return text.to_string();
    }
    let is_name = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(word) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + word.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(is_name) || after.is_some_and(is_name) {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = &rest[i + word.len()..];
    }
    out.push_str(rest);
    out
}

/// A raw message with the values of the named headers (and their continuation lines)
/// removed; the header names stay, so the message still shows that they were there.
pub fn drop_header_values(raw: &str, names: &[&str]) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut in_head = true;
    let mut dropping = false;
    for (i, line) in raw.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches(['\r', '\n']);
        if !in_head || i == 0 {
            out.push_str(line);
            continue;
        }
        if bare.is_empty() {
            in_head = false;
            out.push_str(line);
            continue;
        }
        if dropping && (bare.starts_with(' ') || bare.starts_with('\t')) {
            continue;
        }
        dropping = false;
        if let Some((name, _)) = bare.split_once(':') {
            if names.iter().any(|n| name.trim().eq_ignore_ascii_case(n)) {
                out.push_str(name);
                out.push_str(": (removed)");
                out.push_str(&line[bare.len()..]);
                dropping = true;
                continue;
            }
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_replaced_whole() {
        assert_eq!(
            replace_word("target `pbx` and pbx-2 and pbx.", "pbx", "target A"),
            "target `target A` and pbx-2 and pbx."
        );
        assert_eq!(replace_word("pbx", "pbx", "A"), "A");
    }

    #[test]
    fn user_agent_and_server_values_go() {
        let raw = "SIP/2.0 200 OK\r\nServer: Acme PBX 9.1\r\n  build 7\r\nuser-agent:x\r\nCSeq: 1 INVITE\r\n\r\nv=0\r\n";
        assert_eq!(
            drop_header_values(raw, &["user-agent", "server"]),
            "SIP/2.0 200 OK\r\nServer: (removed)\r\nuser-agent: (removed)\r\nCSeq: 1 INVITE\r\n\r\nv=0\r\n"
        );
    }
}
