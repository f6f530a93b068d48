//! The comparison as text: the aligned view (`siptest diff`, a golden outcome's `aligned`) and
//! the list of differences (reports), with the phrases the differences are written in.

use super::{Alignment, Change, DiffKind, Difference};
use crate::transcript::{Entry, Transcript};
use std::fmt::Write as _;

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

/// `(alice > target)`.
pub(super) fn party(e: &Entry) -> String {
    format!("({} > {})", e.from, e.to)
}

/// `to <tag-B> -> <tag-C>`.
pub(super) fn change_text(c: &Change) -> String {
    format!(
        "{} {} -> {}",
        c.field,
        c.golden.as_deref().unwrap_or("(none)"),
        c.actual.as_deref().unwrap_or("(none)")
    )
}
