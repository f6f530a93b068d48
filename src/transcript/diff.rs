//! The aligned comparison of two transcripts: a golden one (what should happen) and an actual
//! one (what happened).
//!
//! Messages are aligned by a global sequence alignment (Needleman-Wunsch) over the entries,
//! not line by line: two entries can be paired when they go between the same parties and are
//! the same request method, or responses to the same method (a different status is then a
//! change). A pair scores by how many fields agree once aliases are read as their kind, so
//! that the pairing prefers "the same message with a changed header" over "one missing, one
//! extra". The `similar` crate (which `insta` uses) aligns by equality only; the graded score
//! is why this module has its own dynamic programme, O(golden x actual), which is nothing for
//! transcripts of tens of messages.
//!
//! Aliases are compared by relation, not by name: walking the pairs in order, a golden alias
//! is bound to the actual alias found in the same place the first time they meet, and every
//! later pair must keep that binding (both ways). So a run in which one extra message shifted
//! every `<branch-N>` by one shows no difference, while a 2xx whose To tag is not the one of
//! the 180 shows exactly there.
//!
//! What is legal is tolerated and reported apart ([`Alignment::tolerated`]): a 100 anywhere (or
//! nowhere), a message matching one of the scenario's optional expectations (the transcripts'
//! `# optional:` lines), retransmission counts within bounds, timing within bounds. Header
//! order, compact or mixed-case names and unknown headers never reach a transcript.

use super::build::matches_optional;
use super::{format_time, Entry, FieldClass, Transcript};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;

/// What a difference is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiffKind {
    /// In the golden transcript, not in the actual one.
    Missing,
    /// In the actual transcript, not in the golden one.
    Extra,
    /// Paired, but a field, the status, the timing or the retransmission count differs.
    Changed,
    /// In both, at another place in the sequence.
    Reordered,
}

impl DiffKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DiffKind::Missing => "missing",
            DiffKind::Extra => "extra",
            DiffKind::Changed => "changed",
            DiffKind::Reordered => "reordered",
        }
    }
}

/// One field that differs in a pair (`status`, `time` and `count` for the label, the timing
/// and the retransmission count).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    pub field: String,
    pub golden: Option<String>,
    pub actual: Option<String>,
}

/// One difference between a golden and an actual transcript.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub kind: DiffKind,
    /// The rule it stands for: `golden.missing`, `golden.extra`, `golden.reordered`,
    /// `golden.changed`, or for a pair that differs only there, `golden.timing` and
    /// `golden.retransmissions`.
    pub rule: &'static str,
    /// 0-based index into the golden transcript's entries (the file counts from 1).
    pub golden: Option<usize>,
    /// 0-based index into the actual transcript's entries.
    pub actual: Option<usize>,
    /// What changed, for `changed`.
    pub changes: Vec<Change>,
    /// One line saying what differs.
    pub what: String,
}

/// A difference the tolerances allow, and which tolerance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tolerated {
    pub difference: Difference,
    /// `100 Trying`, `optional in the scenario`, ...
    pub because: &'static str,
}

/// What a comparison lets pass (`docs/transcripts.md`, "Tolerances").
#[derive(Clone, Debug, PartialEq)]
pub struct Tolerance {
    /// Compare [`FieldClass::Detail`] fields and timing (a golden of the same device). Off
    /// for the reference UA's default golden used for another target.
    pub strict: bool,
    /// Timing: the time since the previous paired message may differ by this much...
    pub time_abs_ms: u64,
    /// ...or by this fraction of the larger of the two.
    pub time_rel: f64,
    /// Retransmission counts may differ by this many...
    pub count_slack: u32,
    /// ...or be within this ratio (smaller / larger) of each other.
    pub count_ratio: f64,
    /// Optional matchers beyond those the transcripts declare.
    pub optional: Vec<String>,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            strict: true,
            time_abs_ms: 500,
            time_rel: 0.5,
            count_slack: 2,
            count_ratio: 0.5,
            optional: Vec::new(),
        }
    }
}

impl Tolerance {
    /// For a golden of another device (the reference UA's default): detail fields and timing
    /// are not compared.
    pub fn lenient() -> Tolerance {
        Tolerance {
            strict: false,
            ..Tolerance::default()
        }
    }
}

/// The full result of [`align_with`].
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Alignment {
    /// The alignment in order: `(Some(g), Some(a))` paired, `(Some(g), None)` only in the
    /// golden, `(None, Some(a))` only in the actual transcript. Indexes are 0-based.
    pub pairs: Vec<(Option<usize>, Option<usize>)>,
    /// The differences beyond the tolerances, in alignment order.
    pub differences: Vec<Difference>,
    /// The differences the tolerances allowed.
    pub tolerated: Vec<Tolerated>,
}

impl Alignment {
    pub fn is_equal(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Aligns `actual` against `golden` with the default (strict) tolerances and returns every
/// difference beyond them; empty when the two are equal within tolerance. This is the API the
/// classifier reads: each [`Difference`] names its kind, the entries on both sides (map them to
/// trace messages with [`Entry::messages`]) and what changed.
pub fn align(golden: &Transcript, actual: &Transcript) -> Vec<Difference> {
    align_with(golden, actual, &Tolerance::default()).differences
}

/// [`align_with`] for a run that stopped before its end (a failed step, then siptest's
/// teardown): golden messages missing after the first other difference, or after the run's
/// last message, are left out as consequences of the stop.
pub fn align_stopped(golden: &Transcript, actual: &Transcript, tol: &Tolerance) -> Alignment {
    let mut al = align_with(golden, actual, tol);
    let at = |d: &Difference| {
        al.pairs
            .iter()
            .position(|p| {
                (d.golden.is_some() && p.0 == d.golden) || (d.golden.is_none() && p.1 == d.actual)
            })
            .unwrap_or(usize::MAX)
    };
    let first_other = al
        .differences
        .iter()
        .filter(|d| d.kind != DiffKind::Missing)
        .map(at)
        .min()
        .unwrap_or(usize::MAX);
    let last = al.pairs.iter().rposition(|p| p.1.is_some()).unwrap_or(0);
    let cut = first_other.min(last + 1);
    let keep: Vec<bool> = al
        .differences
        .iter()
        .map(|d| d.kind != DiffKind::Missing || at(d) < cut)
        .collect();
    let mut k = keep.into_iter();
    al.differences.retain(|_| k.next().unwrap_or(true));
    al
}

/// [`align`] with explicit tolerances, returning the alignment and the tolerated differences
/// too.
pub fn align_with(golden: &Transcript, actual: &Transcript, tol: &Tolerance) -> Alignment {
    let renamed = rename_agents(golden, actual);
    let actual_entries = &renamed;
    let g = &golden.entries;
    let gm: Vec<Masked> = g.iter().map(|e| Masked::of(e, tol.strict)).collect();
    let am: Vec<Masked> = actual_entries
        .iter()
        .map(|e| Masked::of(e, tol.strict))
        .collect();
    let pairs = needleman_wunsch(&gm, &am);
    let mut optional = golden.optional.clone();
    optional.extend(actual.optional.iter().cloned());
    optional.extend(tol.optional.iter().cloned());

    let mut out = Alignment {
        pairs: pairs.clone(),
        ..Alignment::default()
    };
    let mut binding = Binding::default();
    let mut prev: Option<(u64, u64)> = None;
    let mut unpaired: Vec<Difference> = Vec::new();
    for &(gi, ai) in &pairs {
        match (gi, ai) {
            (Some(gi), Some(ai)) => {
                let (ge, ae) = (&g[gi], &actual_entries[ai]);
                let mut changes = Vec::new();
                if ge.label != ae.label && !same_provisional_kind(&ge.label, &ae.label) {
                    changes.push(Change {
                        field: "status".into(),
                        golden: Some(ge.label.clone()),
                        actual: Some(ae.label.clone()),
                    });
                }
                compare_fields(ge, ae, tol.strict, &mut binding, &mut changes);
                let mut rule = "golden.changed";
                if changes.is_empty() {
                    if !counts_close(ge.count, ae.count, tol) {
                        rule = "golden.retransmissions";
                    }
                    if tol.strict {
                        if let Some((pg, pa)) = prev {
                            let dg = ge.time_ms.saturating_sub(pg);
                            let da = ae.time_ms.saturating_sub(pa);
                            if !times_close(dg, da, tol) {
                                rule = "golden.timing";
                                changes.push(Change {
                                    field: "time".into(),
                                    golden: Some(format!("{} after the previous", ms(dg))),
                                    actual: Some(format!("{} after the previous", ms(da))),
                                });
                            }
                        }
                    }
                }
                if !counts_close(ge.count, ae.count, tol) {
                    changes.push(Change {
                        field: "count".into(),
                        golden: Some(format!("x{}", ge.count)),
                        actual: Some(format!("x{}", ae.count)),
                    });
                }
                prev = Some((ge.time_ms, ae.time_ms));
                if changes.is_empty() {
                    continue;
                }
                let d = Difference {
                    kind: DiffKind::Changed,
                    rule,
                    golden: Some(gi),
                    actual: Some(ai),
                    what: format!(
                        "{} {}: {}",
                        ae.label,
                        party(ae),
                        changes
                            .iter()
                            .map(change_text)
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                    changes,
                };
                let both_optional = ge.label != ae.label
                    && matches_optional(&optional, ge)
                    && matches_optional(&optional, ae);
                if both_optional {
                    out.tolerated.push(Tolerated {
                        difference: d,
                        because: "optional in the scenario",
                    });
                } else {
                    out.differences.push(d);
                }
            }
            (Some(gi), None) => unpaired.push(Difference {
                kind: DiffKind::Missing,
                rule: "golden.missing",
                golden: Some(gi),
                actual: None,
                changes: Vec::new(),
                what: format!("{} {} is missing", g[gi].label, party(&g[gi])),
            }),
            (None, Some(ai)) => unpaired.push(Difference {
                kind: DiffKind::Extra,
                rule: "golden.extra",
                golden: None,
                actual: Some(ai),
                changes: Vec::new(),
                what: format!(
                    "{} {} is extra",
                    actual_entries[ai].label,
                    party(&actual_entries[ai])
                ),
            }),
            (None, None) => {}
        }
    }
    // Tolerated gaps, then missing + extra of the same message: reordered.
    let mut rest = Vec::new();
    for d in unpaired {
        let e = match (d.golden, d.actual) {
            (Some(gi), _) => &g[gi],
            (_, Some(ai)) => &actual_entries[ai],
            _ => continue,
        };
        if e.status() == Some(100) {
            out.tolerated.push(Tolerated {
                difference: d,
                because: "100 Trying",
            });
        } else if matches_optional(&optional, e) {
            out.tolerated.push(Tolerated {
                difference: d,
                because: "optional in the scenario",
            });
        } else {
            rest.push(d);
        }
    }
    let mut used = vec![false; rest.len()];
    let mut merged = Vec::new();
    for i in 0..rest.len() {
        if used[i] {
            continue;
        }
        if let Some(gi) = rest[i].golden.filter(|_| rest[i].actual.is_none()) {
            let partner = (0..rest.len()).find(|&j| {
                !used[j]
                    && j != i
                    && rest[j].actual.is_some_and(|ai| {
                        // The same message moved: same kind between the same parties. Its
                        // aliases may be numbered otherwise (they count in order of first
                        // use), so they are not compared here.
                        let (x, y) = (&g[gi], &actual_entries[ai]);
                        rest[j].golden.is_none()
                            && (gm[gi] == am[ai]
                                || (x.label == y.label && x.from == y.from && x.to == y.to))
                    })
            });
            if let Some(j) = partner {
                used[j] = true;
                let ai = rest[j].actual;
                let e = &g[gi];
                let d = Difference {
                    kind: DiffKind::Reordered,
                    rule: "golden.reordered",
                    golden: Some(gi),
                    actual: ai,
                    changes: Vec::new(),
                    what: format!(
                        "{} {} comes as message {} instead of {}",
                        e.label,
                        party(e),
                        ai.map_or(0, |a| a + 1),
                        gi + 1
                    ),
                };
                used[i] = true;
                // Messages between other parties are merged from several sockets' traces:
                // their order relative to this one is not observable. A message that only
                // moved past such messages is concurrent, not reordered.
                let p = out
                    .pairs
                    .iter()
                    .position(|x| x.0 == Some(gi) && x.1.is_none());
                let q = out.pairs.iter().position(|x| x.1 == ai && x.0.is_none());
                let concurrent = match (p, q) {
                    (Some(p), Some(q)) => out.pairs[p.min(q) + 1..p.max(q)].iter().all(|x| {
                        let other = match *x {
                            (Some(k), _) => &g[k],
                            (None, Some(k)) => &actual_entries[k],
                            _ => return true,
                        };
                        !same_parties(e, other)
                    }),
                    _ => false,
                };
                // Responses of different transactions are independent (RFC 3261 §17): a 200
                // to a CANCEL and the 487 to its INVITE may come in either order.
                let crossing_responses = e.is_response()
                    && match (p, q) {
                        (Some(p), Some(q)) => out.pairs[p.min(q) + 1..p.max(q)].iter().all(|x| {
                            let other = match *x {
                                (Some(k), _) => &g[k],
                                (None, Some(k)) => &actual_entries[k],
                                _ => return true,
                            };
                            other.is_response() && other.label != e.label
                        }),
                        _ => false,
                    };
                if concurrent {
                    out.tolerated.push(Tolerated {
                        difference: d,
                        because: "concurrent with messages between other parties",
                    });
                } else if crossing_responses {
                    out.tolerated.push(Tolerated {
                        difference: d,
                        because: "responses of different transactions crossed",
                    });
                } else {
                    merged.push(d);
                }
            }
        }
    }
    for (i, d) in rest.iter().enumerate() {
        if !used[i] {
            merged.push(d.clone());
        }
    }
    out.differences.extend(merged);
    let pos = |d: &Difference| {
        out.pairs
            .iter()
            .position(|p| {
                (d.golden.is_some() && p.0 == d.golden) || (d.actual.is_some() && p.1 == d.actual)
            })
            .unwrap_or(usize::MAX)
    };
    let mut ds = std::mem::take(&mut out.differences);
    ds.sort_by_key(|d| pos(d));
    out.differences = ds;
    out
}

/// Whether two entries go between the same two parties (either way).
fn same_parties(a: &Entry, b: &Entry) -> bool {
    (a.from == b.from && a.to == b.to) || (a.from == b.to && a.to == b.from)
}

fn party(e: &Entry) -> String {
    format!("({} > {})", e.from, e.to)
}

fn ms(v: u64) -> String {
    format_time(v).trim_start_matches('+').to_string() + "s"
}

fn change_text(c: &Change) -> String {
    format!(
        "{} {} -> {}",
        c.field,
        c.golden.as_deref().unwrap_or("(none)"),
        c.actual.as_deref().unwrap_or("(none)")
    )
}

fn counts_close(g: u32, a: u32, tol: &Tolerance) -> bool {
    let (lo, hi) = (g.min(a), g.max(a));
    hi - lo <= tol.count_slack || f64::from(lo) >= f64::from(hi) * tol.count_ratio
}

fn times_close(g: u64, a: u64, tol: &Tolerance) -> bool {
    let d = g.abs_diff(a);
    d <= tol.time_abs_ms || (d as f64) <= tol.time_rel * g.max(a) as f64
}

/// The actual transcript's entries with its parties renamed to the golden's when the two
/// name them differently (a capture's `A`, `B` against a run's `alice`, `target`): by order of
/// first appearance. Names the golden does not have stay as they are.
fn rename_agents(golden: &Transcript, actual: &Transcript) -> Vec<Entry> {
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
struct Masked {
    from: String,
    to: String,
    label: String,
    /// Key, value with aliases masked, value as written.
    fields: Vec<(String, String, String)>,
}

impl Masked {
    fn of(e: &Entry, strict: bool) -> Masked {
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

enum Part<'a> {
    Text(&'a str),
    /// Kind and the whole alias.
    Alias(&'a str, &'a str),
}

/// Splits a value into text and aliases (`<kind-ID>`).
fn split_aliases(v: &str) -> Vec<Part<'_>> {
    let mut out = Vec::new();
    let mut rest = v;
    while let Some(start) = rest.find('<') {
        let Some(len) = rest[start..].find('>') else {
            break;
        };
        let whole = &rest[start..start + len + 1];
        match super::alias::kind_of(whole) {
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
fn needleman_wunsch(g: &[Masked], a: &[Masked]) -> Vec<(Option<usize>, Option<usize>)> {
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

/// The alias bindings between golden and actual, both ways.
#[derive(Default)]
struct Binding {
    g2a: HashMap<String, String>,
    a2g: HashMap<String, String>,
}

impl Binding {
    /// Whether `g` and `a` may stand for the same value; binds them when both are new.
    fn check(&mut self, g: &str, a: &str) -> bool {
        match (self.g2a.get(g), self.a2g.get(a)) {
            (Some(x), Some(y)) => x == a && y == g,
            (None, None) => {
                self.g2a.insert(g.to_string(), a.to_string());
                self.a2g.insert(a.to_string(), g.to_string());
                true
            }
            _ => false,
        }
    }

    fn rename(&self, a: &str) -> Option<&String> {
        self.a2g.get(a)
    }
}

/// Compares the fields of a pair, aliases by relation; appends what differs.
fn compare_fields(
    g: &Entry,
    a: &Entry,
    strict: bool,
    binding: &mut Binding,
    changes: &mut Vec<Change>,
) {
    let mut keys: Vec<&str> = g.fields.iter().map(|f| f.key.as_str()).collect();
    for f in &a.fields {
        if !keys.contains(&f.key.as_str()) {
            keys.push(&f.key);
        }
    }
    // Against another device's golden, a session description only matters where offers and
    // answers go (RFC 3264 over INVITE, ACK, PRACK, UPDATE: RFC 3261 §13.2.1, RFC 3262,
    // RFC 3311); elsewhere a body (SDP in a 200 to OPTIONS, RFC 3261 §11.2) and a Contact
    // where none is required are the device's choice.
    let method = g.label.rsplit('/').next().unwrap_or("");
    let offer_answer = matches!(method, "INVITE" | "ACK" | "PRACK" | "UPDATE");
    for key in keys {
        if !strict && FieldClass::of(key) == FieldClass::Detail {
            continue;
        }
        let body = key == "ct" || key == "sdp" || key.starts_with("sdp.");
        if !strict && (key == "contact" || (body && !offer_answer)) {
            continue;
        }
        let (gv, av) = (g.field(key), a.field(key));
        let same = match (gv, av) {
            (Some(gv), Some(av)) => same_value(gv, av, binding),
            (None, None) => true,
            _ => false,
        };
        if !same {
            changes.push(Change {
                field: key.to_string(),
                golden: gv.map(str::to_string),
                actual: av.map(|v| explain(v, binding)),
            });
        }
    }
}

/// Equal text around the aliases, and aliases that keep their bindings.
fn same_value(g: &str, a: &str, binding: &mut Binding) -> bool {
    let (gp, ap) = (split_aliases(g), split_aliases(a));
    if gp.len() != ap.len() {
        return false;
    }
    // Text first, so that a mismatch binds nothing.
    for (x, y) in gp.iter().zip(&ap) {
        match (x, y) {
            (Part::Text(x), Part::Text(y)) if x == y => {}
            (Part::Alias(kx, _), Part::Alias(ky, _)) if kx == ky => {}
            _ => return false,
        }
    }
    let mut ok = true;
    for (x, y) in gp.iter().zip(&ap) {
        if let (Part::Alias(_, x), Part::Alias(_, y)) = (x, y) {
            ok &= binding.check(x, y);
        }
    }
    ok
}

/// An actual value with each alias that stands for a golden alias shown as `actual (=golden)`
/// when they differ in name, so that a reader can follow the relation.
fn explain(a: &str, binding: &Binding) -> String {
    let mut out = String::new();
    for p in split_aliases(a) {
        match p {
            Part::Text(t) => out.push_str(t),
            Part::Alias(_, whole) => {
                out.push_str(whole);
                if let Some(g) = binding.rename(whole) {
                    if g != whole {
                        let _ = write!(out, "(={g})");
                    }
                }
            }
        }
    }
    out
}

/// The aligned view: every pair in order, `=` equal, `-` missing, `+` extra, `~` changed, `>`
/// reordered, `?` tolerated, each with the golden and actual message numbers and the line.
pub fn render(golden: &Transcript, actual: &Transcript, al: &Alignment) -> String {
    let mut out = String::new();
    let status = |gi: Option<usize>, ai: Option<usize>| -> (char, Option<&Difference>) {
        let hit = |d: &&Difference| {
            (gi.is_some() && d.golden == gi)
                || (ai.is_some() && d.actual == ai && d.golden.is_none() == gi.is_none())
        };
        if let Some(d) = al.differences.iter().find(hit) {
            let c = match d.kind {
                DiffKind::Missing => '-',
                DiffKind::Extra => '+',
                DiffKind::Changed => '~',
                DiffKind::Reordered => '>',
            };
            return (c, Some(d));
        }
        if al.tolerated.iter().map(|t| &t.difference).any(|d| hit(&d)) {
            return ('?', None);
        }
        if gi.is_none()
            && al
                .differences
                .iter()
                .any(|d| d.kind == DiffKind::Reordered && d.actual == ai)
        {
            return ('>', None);
        }
        ('=', None)
    };
    let num = |i: Option<usize>| i.map_or("-".to_string(), |i| (i + 1).to_string());
    for &(gi, ai) in &al.pairs {
        let (mark, diff) = status(gi, ai);
        let line = match (gi, ai) {
            (Some(g), _) => strip_number(&golden.line(g)),
            (None, Some(a)) => strip_number(&actual.line(a)),
            _ => continue,
        };
        let _ = writeln!(out, "{mark} {:>3} {:>3} {line}", num(gi), num(ai));
        if let Some(d) = diff {
            if d.kind == DiffKind::Changed {
                for c in &d.changes {
                    let _ = writeln!(out, "          {}", change_text(c));
                }
            } else if d.kind == DiffKind::Reordered
                || d.kind == DiffKind::Missing
                || d.kind == DiffKind::Extra
            {
                let _ = writeln!(out, "          {}", d.what);
            }
        }
    }
    out
}

/// Only the differences, one block each: for reports.
pub fn render_differences(golden: &Transcript, actual: &Transcript, ds: &[Difference]) -> String {
    let mut out = String::new();
    for d in ds {
        let _ = writeln!(out, "{} [{}]: {}", d.kind.as_str(), d.rule, d.what);
        if let Some(g) = d.golden.filter(|g| *g < golden.entries.len()) {
            let _ = writeln!(out, "  golden {}", golden.line(g).trim_start());
        }
        if let Some(a) = d.actual.filter(|a| *a < actual.entries.len()) {
            let _ = writeln!(out, "  actual {}", actual.line(a).trim_start());
        }
    }
    out
}

fn strip_number(line: &str) -> String {
    line.trim_start()
        .split_once(' ')
        .map_or(line, |(_, rest)| rest)
        .trim_start()
        .to_string()
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;

/// Two provisional responses other than 100 to the same method (`180/INVITE`,
/// `183/INVITE`): which one a UA sends is its choice (RFC 3261 §13.3.1.1: 180 when alerting,
/// 183 for session progress, RFC 3960 early media), so the flow is the same.
fn same_provisional_kind(golden: &str, actual: &str) -> bool {
    let split = |l: &str| -> Option<(u16, String)> {
        let (code, method) = l.split_once('/')?;
        Some((code.parse().ok()?, method.to_string()))
    };
    match (split(golden), split(actual)) {
        (Some((a, ma)), Some((b, mb))) => {
            ma == mb && (101..200).contains(&a) && (101..200).contains(&b)
        }
        _ => false,
    }
}
