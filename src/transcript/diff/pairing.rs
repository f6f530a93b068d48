//! The pairing: parties renamed, entries reduced to what the aligner scores (aliases read as
//! their kind), the pairing score, and the global alignment (Needleman-Wunsch) that maximises it.

use crate::transcript::{Entry, FieldClass, Transcript};
use std::collections::HashMap;

/// The actual transcript's entries with its parties renamed to the golden's when the two
/// name them differently (a capture's `A`, `B` against a run's `alice`, `target`): by order of
/// first appearance. Names the golden does not have stay as they are.
pub(super) fn rename_agents(golden: &Transcript, actual: &Transcript) -> Vec<Entry> {
    let order = |t: &Transcript| {
        let mut v: Vec<String> = Vec::new();
        for e in &t.entries {
            for n in [&e.from, &e.to] {
                if !v.contains(n) {
                    v.push(n.clone());
                }
            }
        }
        v
    };
    let (go, ao) = (order(golden), order(actual));
    let mut gs = go.clone();
    gs.sort();
    let mut as_ = ao.clone();
    as_.sort();
    if gs == as_ || ao.iter().all(|n| go.contains(n)) {
        return actual.entries.clone();
    }
    let map: HashMap<&String, &String> = ao.iter().zip(go.iter()).collect();
    actual
        .entries
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.from = map.get(&e.from).map_or(e.from.clone(), |n| (*n).clone());
            e.to = map.get(&e.to).map_or(e.to.clone(), |n| (*n).clone());
            e
        })
        .collect()
}

/// An entry as the aligner scores it: aliases reduced to their kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Masked {
    from: String,
    to: String,
    label: String,
    /// Key, value with aliases masked, value as written.
    fields: Vec<(String, String, String)>,
}

impl Masked {
    pub(super) fn of(e: &Entry, strict: bool) -> Masked {
        Masked {
            from: e.from.clone(),
            to: e.to.clone(),
            label: e.label.clone(),
            fields: e
                .fields
                .iter()
                .filter(|f| strict || FieldClass::of(&f.key) == FieldClass::Core)
                .map(|f| (f.key.clone(), mask(&f.value), f.value.clone()))
                .collect(),
        }
    }

    fn status(&self) -> Option<(&str, &str)> {
        self.label.split_once('/')
    }
}

/// `<tag-B>` -> `<tag>`.
fn mask(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for part in split_aliases(v) {
        match part {
            Part::Text(t) => out.push_str(t),
            Part::Alias(kind, _) => {
                out.push('<');
                out.push_str(kind);
                out.push('>');
            }
        }
    }
    out
}

pub(super) enum Part<'a> {
    Text(&'a str),
    /// Kind and the whole alias.
    Alias(&'a str, &'a str),
}

/// Splits a value into text and aliases (`<kind-ID>`).
pub(super) fn split_aliases(v: &str) -> Vec<Part<'_>> {
    let mut out = Vec::new();
    let mut rest = v;
    while let Some(start) = rest.find('<') {
        let Some(len) = rest[start..].find('>') else {
            break;
        };
        let whole = &rest[start..start + len + 1];
        match crate::transcript::alias::kind_of(whole) {
            Some(kind) => {
                if start > 0 {
                    out.push(Part::Text(&rest[..start]));
                }
                out.push(Part::Alias(kind, whole));
            }
            None => out.push(Part::Text(&rest[..start + len + 1])),
        }
        rest = &rest[start + len + 1..];
    }
    if !rest.is_empty() {
        out.push(Part::Text(rest));
    }
    out
}

/// The pairing score of two entries; `None` when they cannot be the same message.
fn score(g: &Masked, a: &Masked) -> Option<i64> {
    if g.from != a.from || g.to != a.to {
        return None;
    }
    let base = if g.label == a.label {
        100
    } else {
        match (g.status(), a.status()) {
            // Responses to the same method with another status (never a 100: that one is
            // tolerated as missing or extra, not paired).
            (Some((gs, gm)), Some((as_, am))) if gm == am && gs != "100" && as_ != "100" => 40,
            _ => return None,
        }
    };
    // Fields equal once masked count; equal as written (the same alias: the runs went
    // alike so far) count a little more, which breaks ties towards the pairing that keeps
    // the relations.
    let mut same = 0i64;
    let mut differ = 0i64;
    for (k, v, raw) in &g.fields {
        match a.fields.iter().find(|(ak, _, _)| ak == k) {
            Some((_, av, araw)) if av == v => same += if araw == raw { 6 } else { 5 },
            _ => differ += 5,
        }
    }
    differ += 5 * a
        .fields
        .iter()
        .filter(|(k, _, _)| !g.fields.iter().any(|(gk, _, _)| gk == k))
        .count() as i64;
    Some((base + same - differ).max(10))
}

/// Global alignment maximising the total pairing score (gaps score 0).
pub(super) fn needleman_wunsch(g: &[Masked], a: &[Masked]) -> Vec<(Option<usize>, Option<usize>)> {
    let (n, m) = (g.len(), a.len());
    let w = m + 1;
    let mut best = vec![0i64; (n + 1) * w];
    // 0: diagonal, 1: up (golden only), 2: left (actual only)
    let mut from = vec![0u8; (n + 1) * w];
    for i in 1..=n {
        from[i * w] = 1;
    }
    for f in from.iter_mut().take(m + 1).skip(1) {
        *f = 2;
    }
    for i in 1..=n {
        for j in 1..=m {
            let up = best[(i - 1) * w + j];
            let left = best[i * w + j - 1];
            let mut v = up;
            let mut f = 1;
            if left > v {
                v = left;
                f = 2;
            }
            if let Some(s) = score(&g[i - 1], &a[j - 1]) {
                let d = best[(i - 1) * w + j - 1] + s;
                if d >= v {
                    v = d;
                    f = 0;
                }
            }
            best[i * w + j] = v;
            from[i * w + j] = f;
        }
    }
    let mut out = Vec::new();
    let (mut i, mut j) = (n, m);
    while i > 0 || j > 0 {
        match from[i * w + j] {
            0 if i > 0 && j > 0 => {
                out.push((Some(i - 1), Some(j - 1)));
                i -= 1;
                j -= 1;
            }
            1 if i > 0 => {
                out.push((Some(i - 1), None));
                i -= 1;
            }
            _ => {
                out.push((None, Some(j - 1)));
                j -= 1;
            }
        }
    }
    out.reverse();
    out
}
