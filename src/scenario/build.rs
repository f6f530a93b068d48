//! From the document layer to the model: the scenario-level checks (names, agents, variables)
//! and the error collector. Steps are built in `steps.rs` and `parts.rs`.

use super::doc::{AgentMap, OrderedMap, RawScenario};
use super::load::{LoadError, LoadErrorKind};
use super::located::Located;
use super::model::{Agent, Scenario};
use super::steps::StepBuilder;
use super::suggest::did_you_mean;
use std::collections::BTreeMap;

/// Collects located errors for one file.
pub(crate) struct Errors {
    file: String,
    pub list: Vec<LoadError>,
}

impl Errors {
    pub fn new(file: &str) -> Self {
        Errors {
            file: file.to_string(),
            list: Vec::new(),
        }
    }

    pub fn at_pos(&mut self, line: u32, column: u32, kind: LoadErrorKind, msg: impl Into<String>) {
        self.list.push(LoadError {
            file: self.file.clone(),
            line,
            column,
            kind,
            message: msg.into(),
        });
    }

    pub fn at<T>(&mut self, at: &Located<T>, kind: LoadErrorKind, msg: impl Into<String>) {
        self.at_pos(at.line, at.column, kind, msg);
    }
}

/// Built-in variables without a dot.
pub const BUILTIN_VARIABLES: &[&str] = &["call_id", "branch", "cseq", "run_id", "transport", "len"];
/// The fields of `[target.X]`, `[local.X]` and `[agent.NAME.X]`.
pub const ADDRESS_FIELDS: &[&str] = &["host", "port", "user", "uri"];
/// Names a user variable may not take: the built-ins and the dotted prefixes.
const RESERVED_VARIABLES: &[&str] = &["target", "local", "agent"];

/// What a name may look like.
#[derive(Clone, Copy)]
pub(crate) enum NameRule {
    /// `[a-z0-9][a-z0-9-]*`: scenario names and tags.
    Kebab,
    /// `[a-z][a-z0-9_]*`: agents and labels.
    Lower,
    /// `[A-Za-z_][A-Za-z0-9_]*`: variables.
    Variable,
    /// `[A-Za-z0-9][A-Za-z0-9_-]*`: dialogs.
    Dialog,
}

impl NameRule {
    pub fn describe(self) -> &'static str {
        match self {
            NameRule::Kebab => "[a-z0-9][a-z0-9-]* (lower-case letters, digits, dashes)",
            NameRule::Lower => "[a-z][a-z0-9_]* (a lower-case letter, then letters, digits, _)",
            NameRule::Variable => "[A-Za-z_][A-Za-z0-9_]*",
            NameRule::Dialog => "[A-Za-z0-9][A-Za-z0-9_-]*",
        }
    }

    pub fn accepts(self, s: &str) -> bool {
        let b = s.as_bytes();
        let Some(&first) = b.first() else {
            return false;
        };
        let (first_ok, rest_ok): (bool, fn(u8) -> bool) = match self {
            NameRule::Kebab => (first.is_ascii_lowercase() || first.is_ascii_digit(), |c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-'
            }),
            NameRule::Lower => (first.is_ascii_lowercase(), |c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_'
            }),
            NameRule::Variable => (first.is_ascii_alphabetic() || first == b'_', |c| {
                c.is_ascii_alphanumeric() || c == b'_'
            }),
            NameRule::Dialog => (first.is_ascii_alphanumeric(), |c| {
                c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
            }),
        };
        first_ok && b[1..].iter().all(|&c| rest_ok(c))
    }
}

/// Reports `name` unless it follows `rule`; `what` is "agent name", "tag", ...
pub(crate) fn check_name(
    errs: &mut Errors,
    name: &Located<String>,
    rule: NameRule,
    what: &str,
) -> bool {
    if rule.accepts(name) {
        return true;
    }
    errs.at(
        name,
        LoadErrorKind::InvalidValue,
        format!(
            "expected {what} matching {}, found `{}`",
            rule.describe(),
            name.value
        ),
    );
    false
}

/// Reports a user variable name (from `variables` or `capture`) that is malformed or reserved.
pub(crate) fn check_variable_name(errs: &mut Errors, name: &Located<String>) -> bool {
    if !check_name(errs, name, NameRule::Variable, "a variable name") {
        return false;
    }
    if BUILTIN_VARIABLES.contains(&name.as_str()) || RESERVED_VARIABLES.contains(&name.as_str()) {
        errs.at(
            name,
            LoadErrorKind::InvalidValue,
            format!(
                "`{}` is a built-in variable; choose another name",
                name.value
            ),
        );
        return false;
    }
    true
}

/// Builds and checks a whole scenario.
pub(crate) fn build(
    raw: Located<RawScenario>,
    source: &str,
    file: &str,
) -> Result<Scenario, Vec<LoadError>> {
    let mut errs = Errors::new(file);
    let root = raw.with(());
    let r = raw.value;
    check_header(&mut errs, &root, &r);
    let agents = match r.agents {
        Some(a) => build_agents(&mut errs, a),
        None => {
            let what = "siptest's user agents, e.g. `agents: { alice: {} }`";
            missing(&mut errs, &root, "agents", what);
            Vec::new()
        }
    };
    let variables = build_variables(&mut errs, &r.variables);
    let steps = match r.steps {
        // Without agents every step would report its agent as undefined.
        Some(_) if agents.is_empty() => Vec::new(),
        Some(steps) => {
            let steps = steps.map(Option::unwrap_or_default);
            let mut b = StepBuilder::new(&mut errs, source, &agents, variables.keys());
            b.build_steps(steps)
        }
        None => {
            let what = "the list of things that happen, at least one";
            missing(&mut errs, &root, "steps", what);
            Vec::new()
        }
    };
    if !errs.list.is_empty() {
        let mut list = errs.list;
        list.sort_by_key(|e| (e.line, e.column));
        return Err(list);
    }
    Ok(Scenario {
        source: file.to_string(),
        name: r.name.expect("checked"),
        summary: r.summary.expect("checked").value,
        references: r.references,
        tags: r.tags.into_iter().map(Located::into_inner).collect(),
        target: r.target,
        timers: r.timers,
        deadline: r.deadline.map(|d| d.value.0),
        impair: r.impair,
        agents,
        variables,
        steps,
    })
}

fn missing(errs: &mut Errors, root: &Located<()>, key: &str, what: &str) {
    let msg = format!("missing required key `{key}` ({what})");
    errs.at(root, LoadErrorKind::MissingKey, msg);
}

/// name, summary, tags, deadline.
fn check_header(errs: &mut Errors, root: &Located<()>, r: &RawScenario) {
    match &r.name {
        Some(n) => {
            check_name(errs, n, NameRule::Kebab, "a scenario name");
        }
        None => missing(
            errs,
            root,
            "name",
            "the scenario's id, e.g. `basic-call-uac`",
        ),
    }
    match &r.summary {
        Some(s) if s.trim().is_empty() => {
            let msg = "expected a one-line summary, found an empty string";
            errs.at(s, LoadErrorKind::InvalidValue, msg);
        }
        Some(_) => {}
        None => missing(errs, root, "summary", "one line saying what happens"),
    }
    for t in &r.tags {
        check_name(errs, t, NameRule::Kebab, "a tag");
    }
    if let Some(d) = r.deadline.as_ref().filter(|d| d.0.is_zero()) {
        let msg = "expected a deadline greater than zero, found 0";
        errs.at(d, LoadErrorKind::InvalidValue, msg);
    }
}

fn build_agents(errs: &mut Errors, raw: Located<Option<AgentMap>>) -> Vec<Agent> {
    let list = raw.value.as_ref().map_or(&[][..], |m| &m.0[..]);
    if list.is_empty() {
        errs.at(
            &raw,
            LoadErrorKind::InvalidValue,
            "expected at least one agent, e.g. `agents: { alice: {} }`, found none",
        );
    }
    let mut out = Vec::new();
    for (name, spec) in list {
        if name.value == "target" {
            errs.at(
                name,
                LoadErrorKind::InvalidValue,
                "an agent cannot be named `target`: that name is the device under test",
            );
            continue;
        }
        if !check_name(errs, name, NameRule::Lower, "an agent name") {
            continue;
        }
        let spec = spec.as_ref();
        out.push(Agent {
            name: name.clone(),
            user: spec
                .and_then(|s| s.user.clone())
                .unwrap_or_else(|| name.value.clone()),
            transport: spec.and_then(|s| s.transport),
            display: spec.and_then(|s| s.display.clone()),
        });
    }
    out
}

fn build_variables(
    errs: &mut Errors,
    raw: &OrderedMap<Located<String>, String>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, value) in &raw.0 {
        if check_variable_name(errs, name) {
            out.insert(name.value.clone(), value.clone());
        }
    }
    out
}

/// An undefined agent name, with a suggestion and the list of agents.
pub(crate) fn undefined_agent_message(name: &str, agents: &[Agent], key: &str) -> String {
    let names: Vec<&str> = agents.iter().map(|a| a.name.as_str()).collect();
    let hint = did_you_mean(name, names.iter().copied());
    if name == "target" {
        return format!(
            "`{key}` names one of siptest's agents ({}); `target` is the device under test",
            names.join(", ")
        );
    }
    format!(
        "undefined agent `{name}` in `{key}` (agents: {}){hint}",
        names.join(", ")
    )
}

/// The position of `needle` in `source` at or after (`line`, `column`), for pointing at a
/// `[variable]` inside a multi-line value. Lines and columns are 1-based, columns in chars.
pub(crate) fn find_from(source: &str, line: u32, column: u32, needle: &str) -> Option<(u32, u32)> {
    let mut start = 0;
    for _ in 1..line {
        start += source[start..].find('\n')? + 1;
    }
    let line_text = &source[start..];
    let skip: usize = line_text
        .chars()
        .take(column.saturating_sub(1) as usize)
        .map(char::len_utf8)
        .sum();
    let from = start + skip;
    let at = from + source.get(from..)?.find(needle)?;
    let before = &source[..at];
    let l = before.matches('\n').count() as u32 + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let c = source[line_start..at].chars().count() as u32 + 1;
    Some((l, c))
}
