//! Transcripts: a run (or a capture) as one plain-text line per message, with every value that
//! changes between runs replaced by a stable alias, so that two runs of the same scenario
//! against the same target give the same text and a golden file can be reviewed in a pull
//! request. `docs/transcripts.md` describes the format; this module has the model, the text
//! form (write and read back), and its parts:
//!
//! - [`alias`]: the aliases (`<call-1>`, `<tag-A>`, `<branch-3>`) that keep the relations
//!   between values;
//! - [`build`]: a [`Trace`](crate::trace::Trace) to a [`Transcript`] (sans-IO: messages and
//!   their times in, text out);
//! - [`diff`]: the aligned comparison of two transcripts, with the tolerances of what is legal;
//!   its [`diff::align`] is the API the classifier reads;
//! - [`golden`]: golden files `golden/<scenario>/<target>.txt` and their comparison with runs;
//! - [`stage`]: `siptest run`'s reporter that compares (or `--accept`s) each run.

pub mod alias;
pub mod build;
pub mod diff;
pub mod golden;
mod sdp;
pub mod stage;

pub use build::{build, optional_matchers, Parties};

use serde::Serialize;
use std::fmt;

/// The first line of every transcript file.
pub const MAGIC: &str = "# siptest transcript 1";

/// A whole transcript: what it is of, and its lines.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Transcript {
    /// The scenario's name, when known.
    pub scenario: Option<String>,
    /// The target as `siptest run` names it (`builtin`, `udp:127.0.0.1:5060`), when known.
    pub target: Option<String>,
    /// The scenario's optional expectations as matchers (`180-183`, `2xx`, `INFO`): messages
    /// matching one may be missing or extra in a comparison (`docs/transcripts.md`).
    pub optional: Vec<String>,
    pub entries: Vec<Entry>,
}

/// One message, with its retransmissions folded in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Milliseconds since the first message of the transcript.
    pub time_ms: u64,
    /// The sender's alias: a scenario agent's name, `target`, else `A`, `B`...
    pub from: String,
    /// The receiver's alias.
    pub to: String,
    /// The method of a request (`INVITE`), or a response's status and CSeq method
    /// (`200/INVITE`).
    pub label: String,
    /// How many times it was seen: 1, plus its retransmissions.
    pub count: u32,
    /// The headers and body summary that matter, in a fixed order.
    pub fields: Vec<Field>,
    /// The messages of the trace it stands for (the first, then each retransmission); empty
    /// for a transcript read from text.
    #[serde(skip)]
    pub messages: Vec<usize>,
}

/// `key=value`, or a bare `key` for a flag (an empty value). Values never hold white space.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Field {
    pub key: String,
    pub value: String,
}

impl Field {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Field {
        let value: String = value.into();
        Field {
            key: key.into(),
            value: value
                .chars()
                .map(|c| if c.is_whitespace() { '_' } else { c })
                .collect(),
        }
    }

    /// The field as it is written in a line.
    pub fn text(&self) -> String {
        if self.value.is_empty() {
            self.key.clone()
        } else {
            format!("{}={}", self.key, self.value)
        }
    }
}

/// How a field takes part in a comparison (`docs/transcripts.md`, "Tolerances").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldClass {
    /// Compared always: what the call flow is (dialog and transaction identifiers, offer and
    /// answer, extensions required and used).
    Core,
    /// What a device advertises or picks among equals (Allow, Supported, Accept, codecs, the
    /// expiry it grants, a session timer it offers unasked, its SDP session's identity and
    /// version): compared against the target's own golden only, not against the reference
    /// UA's default.
    Detail,
}

impl FieldClass {
    pub fn of(key: &str) -> FieldClass {
        match key {
            "allow" | "supported" | "accept" | "allow-events" | "min-se" | "expires"
            | "session-expires" | "sdp" => FieldClass::Detail,
            k if k.ends_with(".codecs") => FieldClass::Detail,
            _ => FieldClass::Core,
        }
    }
}

impl Entry {
    /// A field's value by key.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.key == key)
            .map(|f| f.value.as_str())
    }

    /// Whether it is a response (`200/INVITE`).
    pub fn is_response(&self) -> bool {
        self.status().is_some()
    }

    /// A response's status.
    pub fn status(&self) -> Option<u16> {
        let (s, _) = self.label.split_once('/')?;
        s.parse().ok()
    }

    /// A request's method, or the CSeq method of a response.
    pub fn method(&self) -> &str {
        self.label
            .split_once('/')
            .map_or(self.label.as_str(), |(_, m)| m)
    }

    /// The line without its number and time (what folding and equality look at).
    pub fn body_text(&self) -> String {
        let mut s = format!("{} > {} {}", self.from, self.to, self.label);
        if self.count > 1 {
            s.push_str(&format!(" x{}", self.count));
        }
        for f in &self.fields {
            s.push(' ');
            s.push_str(&f.text());
        }
        s
    }
}

/// Seconds with milliseconds: `+1.250`.
pub fn format_time(ms: u64) -> String {
    format!("+{}.{:03}", ms / 1000, ms % 1000)
}

impl Transcript {
    /// The text of one entry, as in the file (`n` is 0-based; the file counts from 1).
    pub fn line(&self, n: usize) -> String {
        let w = self.agent_width();
        let e = &self.entries[n];
        let mut s = format!(
            "{:>3} {:>7} {:<w$} > {:<w$} {}",
            n + 1,
            format_time(e.time_ms),
            e.from,
            e.to,
            e.label
        );
        if e.count > 1 {
            s.push_str(&format!(" x{}", e.count));
        }
        for f in &e.fields {
            s.push(' ');
            s.push_str(&f.text());
        }
        s
    }

    fn agent_width(&self) -> usize {
        self.entries
            .iter()
            .flat_map(|e| [e.from.len(), e.to.len()])
            .max()
            .unwrap_or(1)
    }

    /// Reads the text form back ([`fmt::Display`] writes it).
    pub fn parse(text: &str) -> Result<Transcript, ParseError> {
        let mut t = Transcript::default();
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, l)) if l.trim_end() == MAGIC => {}
            _ => {
                return Err(ParseError {
                    line: 1,
                    expected: format!("`{MAGIC}` as the first line"),
                })
            }
        }
        for (i, raw) in lines {
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                let comment = comment.trim();
                if let Some(v) = comment.strip_prefix("scenario:") {
                    t.scenario = Some(v.trim().to_string());
                } else if let Some(v) = comment.strip_prefix("target:") {
                    t.target = Some(v.trim().to_string());
                } else if let Some(v) = comment.strip_prefix("optional:") {
                    t.optional = v.split_whitespace().map(str::to_string).collect();
                }
                continue;
            }
            t.entries.push(parse_entry(line, i + 1)?);
        }
        Ok(t)
    }
}

/// One message line of the text form (`line`: its 1-based number, for errors).
fn parse_entry(text: &str, line: usize) -> Result<Entry, ParseError> {
    let err = |expected: &str| ParseError {
        line,
        expected: expected.to_string(),
    };
    let mut words = text.split_whitespace();
    words
        .next()
        .and_then(|n| n.parse::<usize>().ok())
        .ok_or_else(|| err("the message number"))?;
    let time_ms = words
        .next()
        .and_then(parse_time)
        .ok_or_else(|| err("the time as `+SECONDS.MILLISECONDS`"))?;
    let from = words.next().ok_or_else(|| err("the sender"))?.to_string();
    if words.next() != Some(">") {
        return Err(err("`>` between sender and receiver"));
    }
    let to = words.next().ok_or_else(|| err("the receiver"))?.to_string();
    let label = words
        .next()
        .ok_or_else(|| err("a method or STATUS/METHOD"))?
        .to_string();
    let mut e = Entry {
        time_ms,
        from,
        to,
        label,
        count: 1,
        ..Entry::default()
    };
    for (k, w) in words.enumerate() {
        if k == 0 {
            if let Some(n) = w.strip_prefix('x').and_then(|n| n.parse().ok()) {
                e.count = n;
                continue;
            }
        }
        let (key, value) = w.split_once('=').unwrap_or((w, ""));
        e.fields.push(Field::new(key, value));
    }
    Ok(e)
}

fn parse_time(s: &str) -> Option<u64> {
    let s = s.strip_prefix('+')?;
    let (secs, ms) = s.split_once('.')?;
    if ms.len() != 3 {
        return None;
    }
    Some(secs.parse::<u64>().ok()? * 1000 + ms.parse::<u64>().ok()?)
}

/// A transcript file that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: expected {expected}")]
pub struct ParseError {
    pub line: usize,
    pub expected: String,
}

impl fmt::Display for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{MAGIC}")?;
        if let Some(s) = &self.scenario {
            writeln!(f, "# scenario: {s}")?;
        }
        if let Some(t) = &self.target {
            writeln!(f, "# target: {t}")?;
        }
        if !self.optional.is_empty() {
            writeln!(f, "# optional: {}", self.optional.join(" "))?;
        }
        for i in 0..self.entries.len() {
            writeln!(f, "{}", self.line(i))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        let t = Transcript {
            scenario: Some("call-uac-basic".into()),
            target: Some("builtin".into()),
            optional: vec!["180-183".into()],
            entries: vec![
                Entry {
                    time_ms: 0,
                    from: "alice".into(),
                    to: "target".into(),
                    label: "INVITE".into(),
                    count: 1,
                    fields: vec![Field::new("call", "<call-1>"), Field::new("contact", "")],
                    messages: vec![],
                },
                Entry {
                    time_ms: 1250,
                    from: "target".into(),
                    to: "alice".into(),
                    label: "200/INVITE".into(),
                    count: 3,
                    fields: vec![Field::new("call", "<call-1>")],
                    messages: vec![],
                },
            ],
        };
        let text = t.to_string();
        assert!(text.contains("  2  +1.250 target > alice  200/INVITE x3 call=<call-1>"));
        assert_eq!(Transcript::parse(&text).unwrap(), t);
        assert_eq!(t.entries[1].status(), Some(200));
        assert_eq!(t.entries[1].method(), "INVITE");
    }

    #[test]
    fn errors_name_the_line() {
        let e = Transcript::parse("# siptest transcript 1\n  1 +0.000 a b INVITE\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(Transcript::parse("hello").is_err());
    }
}
