//! The comparison of each pair of the alignment: status, fields (aliases by relation, through
//! the bindings made so far), timing and retransmission count.

use super::pairing::{split_aliases, Part};
use super::render::{change_text, party};
use super::{Alignment, Change, DiffKind, Difference, Sides, Tolerance, Tolerated};
use crate::transcript::build::matches_optional;
use crate::transcript::{format_time, Entry, FieldClass};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Walks the pairs in order: a pair that differs beyond the tolerances is a difference (or a
/// tolerated one when both messages are optional in the scenario); the entries left unpaired
/// are returned, as missing and extra, for [`super::tolerate`].
pub(super) fn compare_pairs(s: &Sides, tol: &Tolerance, out: &mut Alignment) -> Vec<Difference> {
    let Alignment {
        pairs,
        differences,
        tolerated,
    } = out;
    let mut binding = Binding::default();
    let mut prev: Option<(u64, u64)> = None;
    let mut unpaired: Vec<Difference> = Vec::new();
    for &(gi, ai) in pairs.iter() {
        match (gi, ai) {
            (Some(gi), Some(ai)) => {
                let (ge, ae) = (&s.golden[gi], &s.actual[ai]);
                let d = changed(s, (gi, ai), tol, &mut binding, prev);
                prev = Some((ge.time_ms, ae.time_ms));
                let Some(d) = d else {
                    continue;
                };
                let both_optional = ge.label != ae.label
                    && matches_optional(&s.optional, ge)
                    && matches_optional(&s.optional, ae);
                if both_optional {
                    tolerated.push(Tolerated {
                        difference: d,
                        because: "optional in the scenario",
                    });
                } else {
                    differences.push(d);
                }
            }
            (Some(gi), None) => unpaired.push(Difference {
                kind: DiffKind::Missing,
                rule: "golden.missing",
                golden: Some(gi),
                actual: None,
                changes: Vec::new(),
                what: format!("{} {} is missing", s.golden[gi].label, party(&s.golden[gi])),
            }),
            (None, Some(ai)) => unpaired.push(Difference {
                kind: DiffKind::Extra,
                rule: "golden.extra",
                golden: None,
                actual: Some(ai),
                changes: Vec::new(),
                what: format!("{} {} is extra", s.actual[ai].label, party(&s.actual[ai])),
            }),
            (None, None) => {}
        }
    }
    unpaired
}

/// What differs in the pair `(gi, ai)` beyond the tolerances, if anything; `prev`: the times of
/// the previous pair.
fn changed(
    s: &Sides,
    (gi, ai): (usize, usize),
    tol: &Tolerance,
    binding: &mut Binding,
    prev: Option<(u64, u64)>,
) -> Option<Difference> {
    let (ge, ae) = (&s.golden[gi], &s.actual[ai]);
    let mut changes = Vec::new();
    if ge.label != ae.label && !same_provisional_kind(&ge.label, &ae.label) {
        changes.push(Change {
            field: "status".into(),
            golden: Some(ge.label.clone()),
            actual: Some(ae.label.clone()),
        });
    }
    compare_fields(ge, ae, tol.strict, binding, &mut changes);
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
    if changes.is_empty() {
        return None;
    }
    let what: Vec<String> = changes.iter().map(change_text).collect();
    Some(Difference {
        kind: DiffKind::Changed,
        rule,
        golden: Some(gi),
        actual: Some(ai),
        what: format!("{} {}: {}", ae.label, party(ae), what.join("; ")),
        changes,
    })
}

fn ms(v: u64) -> String {
    format_time(v).trim_start_matches('+').to_string() + "s"
}

fn counts_close(g: u32, a: u32, tol: &Tolerance) -> bool {
    let (lo, hi) = (g.min(a), g.max(a));
    hi - lo <= tol.count_slack || f64::from(lo) >= f64::from(hi) * tol.count_ratio
}

fn times_close(g: u64, a: u64, tol: &Tolerance) -> bool {
    let d = g.abs_diff(a);
    d <= tol.time_abs_ms || (d as f64) <= tol.time_rel * g.max(a) as f64
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
