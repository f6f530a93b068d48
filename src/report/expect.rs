//! Expectations per target (`ci/expectations/<target>.yaml`, `docs/expectations.md`): for each
//! scenario, the verdict and findings a real device is known to give, and for every non-pass
//! the reason, in the open (rustls keeps its known gaps as glob -> reason in one file;
//! hickory-dns marks known failures `#[ignore = "reason"]`, never silently).
//!
//! ```yaml
//! target: baresip
//! version: baresip 1.0.0
//! expect:
//!   - scenario: options-query
//!     verdict: fail
//!     level: sequence
//!     rules: [seq.flow.unexpected]
//!     match: "404"
//!     reason: baresip answers 404 to an OPTIONS for a user it does not have
//! ```
//!
//! A check ([`compare`]) fails on every run whose outcome is not the expected one, in either
//! direction: a pass that becomes a fail, and a known fail that starts passing (or fails
//! otherwise). Scenarios no entry matches are expected to pass. Loading ([`load_path`],
//! [`load_str`]) is like the scenarios': serde-saphyr with positions, unknown keys are errors,
//! every error a [`LoadError`] (`file:line:column: message`). Everything but the file reading
//! takes and returns values.

mod compare;
mod load;
mod summary;

pub use compare::{compare, run_rules, Change, Comparison, Difference, Outcome, RunChange, Stale};
pub use load::{load_path, load_paths, load_str};
pub use summary::{summary_markdown, summary_table, TargetSummary};

use crate::scenario::Located;
pub use crate::scenario::{LoadError, LoadErrorKind};
use std::collections::BTreeSet;
use std::fmt;

/// The expectations of one target: one file.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectations {
    /// The file as given to the loader.
    pub file: String,
    /// The target's name as the results name it (`targets` of results.json).
    pub target: Located<String>,
    /// What the device was (`baresip 1.0.0`); shown in reports, not checked.
    pub version: Option<String>,
    /// In file order; the first whose pattern matches a scenario applies to it.
    pub entries: Vec<Expectation>,
}

/// One entry: what the runs of the scenarios its pattern matches are expected to give.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// A scenario name, or a glob over names (`*` any run of characters, `?` one).
    pub scenario: Located<String>,
    pub verdict: Verdict,
    /// For `fail`: the run's report class (the level its verdict leads with).
    pub level: Option<Level>,
    /// The run's failing rules, as a set: the rules of its findings of severity error and the
    /// rule its verdict leads with. Always present for `fail`, optional for `inconclusive`
    /// and `error`, absent for `pass`.
    pub rules: Option<BTreeSet<String>>,
    /// A text that must appear in the run's reason, expected or actual text, a finding's
    /// expected or actual text, or a message a finding points at.
    pub matches: Option<String>,
    /// Why the device does this; required for every non-pass.
    pub reason: Option<String>,
}

/// A run's verdict (`docs/scenarios.md#verdicts`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    Pass,
    Fail,
    Inconclusive,
    Error,
}

/// The report class of a failed run (`docs/results.md`): the level of the finding its verdict
/// leads with, or `unclassified` when no finding about the target explains it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    Transaction,
    Sequence,
    Spec,
    Unclassified,
}

impl Verdict {
    pub const ALL: [Verdict; 4] = [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::Inconclusive,
        Verdict::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl Level {
    pub const ALL: [Level; 4] = [
        Level::Transaction,
        Level::Sequence,
        Level::Spec,
        Level::Unclassified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Transaction => "transaction",
            Level::Sequence => "sequence",
            Level::Spec => "spec",
            Level::Unclassified => "unclassified",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Expectations {
    /// The entry that applies to `scenario`: the first whose pattern matches it.
    pub fn entry_for(&self, scenario: &str) -> Option<&Expectation> {
        self.entries
            .iter()
            .find(|e| glob_match(&e.scenario, scenario))
    }
}

/// `*` matches any run of characters (none too), `?` exactly one; everything else itself.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    // Where the last `*` was, and where in the name its match ends so far.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == n[ni])) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            // Let the last `*` take one more character and try again after it.
            star = Some((sp, sn + 1));
            pi = sp + 1;
            ni = sn + 1;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether a pattern has wildcards (else it names one scenario).
pub fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod glob_tests {
    use super::*;

    #[test]
    fn globs_match_as_shells_do() {
        let cases = [
            ("hold-*-by-target", "hold-sendonly-by-target", true),
            ("hold-*-by-target", "hold-by-target", false),
            ("hold-*", "hold-", true),
            ("hold-*", "hold", false),
            ("*", "", true),
            ("*", "anything", true),
            ("", "", true),
            ("", "a", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("a?c", "abbc", false),
            ("*-uac", "call-late-offer-uac", true),
            ("*-uac", "call-late-offer-uas", false),
            ("*a*b*", "xxaxxbxx", true),
            ("*a*b", "xxaxxbxxb", true),
            ("*a*b", "xxaxxbxxc", false),
            ("**", "abc", true),
            ("options-query", "options-query", true),
            ("options-query", "options-query-2", false),
            ("a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
        ];
        for (p, n, want) in cases {
            assert_eq!(glob_match(p, n), want, "{p:?} against {n:?}");
        }
    }

    #[test]
    fn the_first_matching_entry_wins() {
        let entry = |pattern: &str, v: Verdict| Expectation {
            scenario: Located::new(pattern.to_string(), 1, 1),
            verdict: v,
            level: None,
            rules: None,
            matches: None,
            reason: None,
        };
        let e = Expectations {
            file: "x.yaml".into(),
            target: Located::new("x".into(), 1, 1),
            version: None,
            entries: vec![
                entry("hold-sendonly-uac", Verdict::Pass),
                entry("hold-*", Verdict::Fail),
            ],
        };
        assert_eq!(
            e.entry_for("hold-sendonly-uac").unwrap().verdict,
            Verdict::Pass
        );
        assert_eq!(
            e.entry_for("hold-inactive-uac").unwrap().verdict,
            Verdict::Fail
        );
        assert!(e.entry_for("options-query").is_none());
    }
}
