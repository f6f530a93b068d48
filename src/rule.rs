//! Rules and violations.
//!
//! Every check siptest makes is a [`Rule`]: a stable id, the level it belongs to (which part of a
//! device is at fault), a severity, the RFC section it comes from and a one-line summary. A
//! [`Violation`] is one occurrence of a rule in a message, with the bytes that show it.
//!
//! Rules are declared with [`declare_rules!`], which also collects each module's rules into a
//! slice so that the catalogue (`siptest rules`, `docs/rules.md`) is generated from the code.

use serde::Serialize;
use std::fmt;
use std::ops::Range;

/// How bad a violation is.
///
/// `Error` means the message breaks a MUST of the grammar or of the protocol: a conformant receiver
/// would reject it (400, 416, ...) or misread it. `Warning` is legal but dangerous or deprecated.
/// `Info` records a fact worth knowing (RFC 2543 compatibility, an unknown extension).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// Which part of an implementation a rule points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The SIP stack: framing, syntax, transactions, timers, matching.
    Transaction,
    /// The call flow chosen to realise a feature.
    Sequence,
    /// What is advertised against what is delivered: methods, extensions, packages, types.
    Spec,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Transaction => "transaction",
            Level::Sequence => "sequence",
            Level::Spec => "spec",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A named check.
#[derive(Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Rule {
    /// Stable identifier, dotted: `area.subject.problem`. Never renamed once released.
    pub id: &'static str,
    pub level: Level,
    pub severity: Severity,
    /// The RFC and section the rule comes from, e.g. `RFC 3261 §18.3`.
    pub rfc: &'static str,
    /// What triggers the rule, in one line.
    pub summary: &'static str,
}

/// A byte range inside a message's raw bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub const fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    pub const fn len(&self) -> usize {
        self.end - self.start
    }
    pub const fn is_empty(&self) -> bool {
        self.end == self.start
    }
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
    /// This span moved by `base` bytes (for spans computed inside a sub-slice).
    pub const fn shift(&self, base: usize) -> Span {
        Span::new(self.start + base, self.end + base)
    }
}

impl From<Range<usize>> for Span {
    fn from(r: Range<usize>) -> Self {
        Span::new(r.start, r.end)
    }
}

/// One occurrence of a rule, with evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub rule: &'static Rule,
    /// What exactly was wrong, in words a SIP engineer reads in a log.
    pub detail: String,
    /// The offending bytes, relative to the start of the message.
    pub span: Span,
}

impl Violation {
    pub fn new(rule: &'static Rule, span: Span, detail: impl Into<String>) -> Self {
        Violation {
            rule,
            detail: detail.into(),
            span,
        }
    }
    pub fn severity(&self) -> Severity {
        self.rule.severity
    }
}

impl Serialize for Violation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Violation", 7)?;
        st.serialize_field("rule", self.rule.id)?;
        st.serialize_field("level", &self.rule.level)?;
        st.serialize_field("severity", &self.rule.severity)?;
        st.serialize_field("rfc", self.rule.rfc)?;
        st.serialize_field("detail", &self.detail)?;
        st.serialize_field("offset", &self.span.start)?;
        st.serialize_field("length", &self.span.len())?;
        st.end()
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} [{}] @{}: {}",
            self.rule.severity, self.rule.id, self.rule.rfc, self.span.start, self.detail
        )
    }
}

/// Declares rules as `pub static` items plus a `RULES` slice holding all of them.
///
/// ```
/// siptest::declare_rules! {
///     CL_NEGATIVE = ("example.content-length.invalid", Transaction, Error, "RFC 3261 §20.14",
///                    "Content-Length is not a non-negative decimal number");
/// }
/// assert_eq!(CL_NEGATIVE.id, "example.content-length.invalid");
/// assert_eq!(RULES.len(), 1);
/// ```
#[macro_export]
macro_rules! declare_rules {
    ($($name:ident = ($id:literal, $level:ident, $sev:ident, $rfc:literal, $summary:literal);)+) => {
        $(
            pub static $name: $crate::rule::Rule = $crate::rule::Rule {
                id: $id,
                level: $crate::rule::Level::$level,
                severity: $crate::rule::Severity::$sev,
                rfc: $rfc,
                summary: $summary,
            };
        )+
        /// Every rule declared in this module, in declaration order.
        pub static RULES: &[&$crate::rule::Rule] = &[$(&$name),+];
    };
}
