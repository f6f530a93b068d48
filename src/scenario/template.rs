//! Text with `[variable]` references: Request-URIs, header values, bodies and raw messages.
//!
//! A reference is `[` name `]` where name is `[A-Za-z_][A-Za-z0-9_]*` optionally followed by
//! `.part` segments (`[target.host]`, `[agent.bob.uri]`). Anything else in brackets is literal
//! text, so IPv6 references such as `[2001:db8::1]` and `[::1]` need no escaping; `[[` writes
//! a literal `[` where the text that follows would otherwise read as a reference.

use serde::{Deserialize, Deserializer};
use std::fmt;

/// Parsed template text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    /// The text as written in the scenario.
    pub source: String,
    pub parts: Vec<Part>,
}

/// A piece of a [`Template`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Text(String),
    /// A variable reference, without its brackets (`target.host`).
    Var(String),
}

/// A variable the lookup function did not know when rendering.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("variable `{0}` has no value")]
pub struct UnsetVariable(pub String);

impl Template {
    /// Parses `text`. Never fails: what is not a reference is text.
    pub fn parse(text: &str) -> Template {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(i) = rest.find('[') {
            lit.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(tail) = after.strip_prefix('[') {
                lit.push('[');
                rest = tail;
            } else if let Some(n) = reference_len(after) {
                if !lit.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut lit)));
                }
                parts.push(Part::Var(after[..n].to_string()));
                rest = &after[n + 1..];
            } else {
                lit.push('[');
                rest = after;
            }
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Text(lit));
        }
        Template {
            source: text.to_string(),
            parts,
        }
    }

    /// The variables referenced, in order (with repeats).
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v.as_str()),
            Part::Text(_) => None,
        })
    }

    /// True when the template has no references.
    pub fn is_literal(&self) -> bool {
        self.variables().next().is_none()
    }

    /// The text with every reference replaced by `lookup(name)`.
    pub fn render(
        &self,
        mut lookup: impl FnMut(&str) -> Option<String>,
    ) -> Result<String, UnsetVariable> {
        let mut out = String::with_capacity(self.source.len());
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Var(v) => out.push_str(&lookup(v).ok_or_else(|| UnsetVariable(v.clone()))?),
            }
        }
        Ok(out)
    }
}

/// Length of the name when `s` starts with `name]`.
fn reference_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    loop {
        // one segment: [A-Za-z_][A-Za-z0-9_]* (later segments may start with a digit)
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        if i == start || (start == 0 && b[0].is_ascii_digit()) {
            return None;
        }
        match b.get(i) {
            Some(b']') => return Some(i),
            Some(b'.') => i += 1,
            _ => return None,
        }
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Template {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Template::parse(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(s: &str) -> Vec<String> {
        Template::parse(s).variables().map(String::from).collect()
    }

    #[test]
    fn references_and_literals() {
        assert_eq!(
            vars("sip:[target.user]@[target.host]:[target.port]"),
            ["target.user", "target.host", "target.port"]
        );
        assert!(vars("sip:alice@[2001:db8::1]:5060;x=[::1]").is_empty());
        assert!(vars("[[call_id] and [ ] and [] and [1x] and [a.]").is_empty());
        assert_eq!(vars("[agent.bob.uri]"), ["agent.bob.uri"]);
    }

    #[test]
    fn escape_writes_a_bracket() {
        let t = Template::parse("a [[b] [c]");
        let out = t.render(|v| Some(v.to_uppercase())).unwrap();
        assert_eq!(out, "a [b] C");
    }

    #[test]
    fn render_reports_the_unset_variable() {
        let t = Template::parse("x=[nope]");
        assert_eq!(t.render(|_| None), Err(UnsetVariable("nope".into())));
    }
}
