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
//!
//! The parts: `pairing` pairs the entries (the dynamic programme and its score); `changes`
//! compares the fields of each pair, aliases by relation; `tolerate` sets apart what is legal
//! among the unpaired entries and merges a missing and an extra message into one that moved;
//! `render` writes the aligned view and the list of differences.

mod changes;
mod pairing;
mod render;
mod tolerate;

pub use render::{render, render_differences};

use super::{Entry, Transcript};
use pairing::{needleman_wunsch, rename_agents, Masked};
use serde::Serialize;

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
    /// Compare [`FieldClass::Detail`](super::FieldClass::Detail) fields and timing (a golden
    /// of the same device). Off for the reference UA's default golden used for another target.
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
    let masked =
        |es: &[Entry]| -> Vec<Masked> { es.iter().map(|e| Masked::of(e, tol.strict)).collect() };
    let mut optional = golden.optional.clone();
    optional.extend(actual.optional.iter().cloned());
    optional.extend(tol.optional.iter().cloned());
    let sides = Sides {
        golden: &golden.entries,
        actual: &renamed,
        gm: masked(&golden.entries),
        am: masked(&renamed),
        optional,
    };
    let mut out = Alignment {
        pairs: needleman_wunsch(&sides.gm, &sides.am),
        ..Alignment::default()
    };
    let unpaired = changes::compare_pairs(&sides, tol, &mut out);
    let rest = tolerate::tolerate_gaps(&sides, unpaired, &mut out);
    let merged = tolerate::merge_reordered(&sides, rest, &mut out);
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

/// The two sides of a comparison as the passes over an alignment read them.
struct Sides<'a> {
    golden: &'a [Entry],
    /// The actual entries, their parties renamed to the golden's ([`rename_agents`]).
    actual: &'a [Entry],
    /// Both sides as the aligner scores them.
    gm: Vec<Masked>,
    am: Vec<Masked>,
    /// The optional matchers of both transcripts and of the tolerance.
    optional: Vec<String>,
}

impl Sides<'_> {
    /// The entry a pair of the alignment stands for: the golden one when there is one.
    fn entry(&self, (gi, ai): (Option<usize>, Option<usize>)) -> Option<&Entry> {
        match (gi, ai) {
            (Some(k), _) => Some(&self.golden[k]),
            (None, Some(k)) => Some(&self.actual[k]),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
