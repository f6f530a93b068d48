//! The entries left unpaired: what is legal is set apart as tolerated (a 100, a message optional
//! in the scenario), and a missing and an extra copy of the same message become one that moved,
//! unless its move cannot be observed.

use super::{Alignment, DiffKind, Difference, Sides, Tolerated};
use crate::transcript::build::matches_optional;
use crate::transcript::Entry;

/// Sets apart the unpaired entries the tolerances allow (a 100 anywhere or nowhere, a message
/// optional in the scenario); returns the others.
pub(super) fn tolerate_gaps(
    s: &Sides,
    unpaired: Vec<Difference>,
    out: &mut Alignment,
) -> Vec<Difference> {
    let mut rest = Vec::new();
    for d in unpaired {
        let Some(e) = s.entry((d.golden, d.actual)) else {
            continue;
        };
        if e.status() == Some(100) {
            out.tolerated.push(Tolerated {
                difference: d,
                because: "100 Trying",
            });
        } else if matches_optional(&s.optional, e) {
            out.tolerated.push(Tolerated {
                difference: d,
                because: "optional in the scenario",
            });
        } else {
            rest.push(d);
        }
    }
    rest
}

/// Merges each missing message with an extra one that is the same message: reordered, or
/// tolerated when the move cannot be observed. Returns the reordered differences, then the
/// unmerged rest.
pub(super) fn merge_reordered(
    s: &Sides,
    rest: Vec<Difference>,
    out: &mut Alignment,
) -> Vec<Difference> {
    let mut used = vec![false; rest.len()];
    let mut merged = Vec::new();
    for i in 0..rest.len() {
        if used[i] {
            continue;
        }
        let Some(gi) = rest[i].golden.filter(|_| rest[i].actual.is_none()) else {
            continue;
        };
        let partner = (0..rest.len()).find(|&j| {
            !used[j]
                && j != i
                && rest[j]
                    .actual
                    .is_some_and(|ai| rest[j].golden.is_none() && moved(s, gi, ai))
        });
        let Some(j) = partner else {
            continue;
        };
        used[j] = true;
        used[i] = true;
        let ai = rest[j].actual;
        let e = &s.golden[gi];
        let d = Difference {
            kind: DiffKind::Reordered,
            rule: "golden.reordered",
            golden: Some(gi),
            actual: ai,
            changes: Vec::new(),
            what: format!(
                "{} {} comes as message {} instead of {}",
                e.label,
                super::render::party(e),
                ai.map_or(0, |a| a + 1),
                gi + 1
            ),
        };
        match unobservable_move(s, &out.pairs, gi, ai) {
            Some(because) => out.tolerated.push(Tolerated {
                difference: d,
                because,
            }),
            None => merged.push(d),
        }
    }
    for (d, used) in rest.into_iter().zip(used) {
        if !used {
            merged.push(d);
        }
    }
    merged
}

/// Whether golden `gi` and actual `ai` are the same message that moved: the same kind between
/// the same parties. Its aliases may be numbered otherwise (they count in order of first use),
/// so they are not compared here.
fn moved(s: &Sides, gi: usize, ai: usize) -> bool {
    let (x, y) = (&s.golden[gi], &s.actual[ai]);
    s.gm[gi] == s.am[ai] || (x.label == y.label && x.from == y.from && x.to == y.to)
}

/// Why the move of golden `gi` to actual `ai` is not a reordering, if it is not.
fn unobservable_move(
    s: &Sides,
    pairs: &[(Option<usize>, Option<usize>)],
    gi: usize,
    ai: Option<usize>,
) -> Option<&'static str> {
    let p = pairs.iter().position(|x| x.0 == Some(gi) && x.1.is_none());
    let q = pairs.iter().position(|x| x.1 == ai && x.0.is_none());
    let (Some(p), Some(q)) = (p, q) else {
        return None;
    };
    let e = &s.golden[gi];
    let between = || {
        pairs[p.min(q) + 1..p.max(q)]
            .iter()
            .filter_map(|&x| s.entry(x))
    };
    // Messages between other parties are merged from several sockets' traces: their order
    // relative to this one is not observable. A message that only moved past such messages is
    // concurrent, not reordered.
    if between().all(|other| !same_parties(e, other)) {
        return Some("concurrent with messages between other parties");
    }
    // Responses of different transactions are independent (RFC 3261 §17): a 200 to a CANCEL
    // and the 487 to its INVITE may come in either order.
    if e.is_response() && between().all(|other| other.is_response() && other.label != e.label) {
        return Some("responses of different transactions crossed");
    }
    None
}

/// Whether two entries go between the same two parties (either way).
fn same_parties(a: &Entry, b: &Entry) -> bool {
    (a.from == b.from && a.to == b.to) || (a.from == b.to && a.to == b.from)
}
