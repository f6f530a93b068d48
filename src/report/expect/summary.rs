//! Runs per target and class, with the device version from its expectations: the "Tested
//! against" table of a README (`siptest report --summary-md FILE`).

use super::Expectations;
use crate::report::model::ResultSet;
use std::fmt::Write;

/// One target's runs by class (`docs/results.md`: report classes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetSummary {
    pub target: String,
    /// `version` of the target's expectation file.
    pub version: Option<String>,
    pub runs: usize,
    pub pass: usize,
    /// Failed runs by the level their verdict leads with.
    pub transaction: usize,
    pub sequence: usize,
    pub spec: usize,
    /// Failed runs no finding about the target explains.
    pub unclassified: usize,
    pub inconclusive: usize,
    pub error: usize,
}

/// Per target of `results` with at least one run, in plan order.
pub fn summary_table(results: &ResultSet, exp: &[Expectations]) -> Vec<TargetSummary> {
    let mut names: Vec<&String> = Vec::new();
    for t in results
        .targets
        .iter()
        .chain(results.runs.iter().map(|r| &r.target))
    {
        if !names.contains(&t) {
            names.push(t);
        }
    }
    let mut out = Vec::new();
    for name in names {
        let mut row = TargetSummary {
            target: name.clone(),
            version: exp
                .iter()
                .find(|x| &x.target.value == name)
                .and_then(|x| x.version.clone()),
            ..TargetSummary::default()
        };
        for r in results.runs.iter().filter(|r| &r.target == name) {
            row.runs += 1;
            *match r.class() {
                "pass" => &mut row.pass,
                "transaction" => &mut row.transaction,
                "sequence" => &mut row.sequence,
                "spec" => &mut row.spec,
                "inconclusive" => &mut row.inconclusive,
                "error" => &mut row.error,
                _ => &mut row.unclassified,
            } += 1;
        }
        if row.runs > 0 {
            out.push(row);
        }
    }
    out
}

/// The table as GitHub Markdown; target names and versions with `|` escaped.
pub fn summary_markdown(rows: &[TargetSummary]) -> String {
    let mut s = String::new();
    s.push_str(
        "| target | version | runs | pass | fail: transaction | fail: sequence | fail: spec \
         | fail: unclassified | inconclusive | error |\n",
    );
    s.push_str("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    let cell = |t: &str| t.replace('|', "\\|");
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&r.target),
            r.version.as_deref().map(cell).unwrap_or_else(|| "–".into()),
            r.runs,
            r.pass,
            r.transaction,
            r.sequence,
            r.spec,
            r.unclassified,
            r.inconclusive,
            r.error
        );
    }
    s
}
