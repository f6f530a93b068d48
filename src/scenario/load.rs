//! Loading scenario files: YAML (serde-saphyr, which reports positions) into the document
//! layer, then the checks that turn it into the model. Every error names the file, the line
//! and column (1-based, columns in characters) and what was expected.

use super::build::build;
use super::doc::RawScenario;
use super::located::Located;
use super::model::Scenario;
use super::suggest::did_you_mean;
use serde_saphyr::{DefaultMessageFormatter, Error as YamlError, MessageFormatter};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// A scenario file that could not be loaded, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// The file as given to the loader.
    pub file: String,
    /// 1-based; 0 when the error has no position (the file could not be read).
    pub line: u32,
    /// 1-based, in characters; 0 when the error has no position.
    pub column: u32,
    pub kind: LoadErrorKind,
    /// What was expected and what was found.
    pub message: String,
}

/// `file:line:column: message`, or `file: message` without a position.
impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

/// What kind of problem a [`LoadError`] is.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoadErrorKind {
    /// The file could not be read.
    Io,
    /// Not valid YAML.
    Syntax,
    /// A key the format does not have here.
    UnknownKey,
    /// A required key is missing.
    MissingKey,
    /// A value of the wrong type (a list where a text was expected, ...).
    WrongType,
    /// A value of the right type that is not allowed (a status of 700, a bad duration, ...).
    InvalidValue,
    /// A reference to something not defined (agent, variable, dialog, label, request).
    Undefined,
    /// Something given twice (a key, an agent, a header, a label, a scenario name).
    Duplicate,
    /// Keys or values that cannot go together (`raw` with `sdp`, `ack` on BYE, ...).
    Conflict,
}

/// Loads one scenario from text; `file` names it in errors. Returns the first error.
pub fn load_str(text: &str, file: &str) -> Result<Scenario, LoadError> {
    load_str_all(text, file).map_err(|mut v| v.remove(0))
}

/// Loads one scenario from text, reporting every error found (at least one on failure), in
/// file order. A YAML error stops loading, so it is always alone.
pub fn load_str_all(text: &str, file: &str) -> Result<Scenario, Vec<LoadError>> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
    };
    let raw: Located<RawScenario> = serde_saphyr::from_str_with_options(text, options)
        .map_err(|e| vec![yaml_error(&e, text, file)])?;
    build(raw, text, file)
}

/// Loads one scenario file.
pub fn load_file(path: impl AsRef<Path>) -> Result<Scenario, LoadError> {
    load_file_all(path.as_ref()).map_err(|mut v| v.remove(0))
}

fn load_file_all(path: &Path) -> Result<Scenario, Vec<LoadError>> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| vec![io_error(&file, &e)])?;
    load_str_all(&text, &file)
}

/// Loads every `*.yaml` and `*.yml` file under `dir`, recursively, in path order (hidden
/// files and directories are skipped). Returns the scenarios that loaded and every error,
/// including scenario names used by more than one file.
pub fn load_dir(dir: impl AsRef<Path>) -> (Vec<Scenario>, Vec<LoadError>) {
    let dir = dir.as_ref();
    let mut files = Vec::new();
    let mut errors = Vec::new();
    collect(dir, &mut files, &mut errors);
    files.sort();
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut names: HashMap<String, usize> = HashMap::new();
    for f in files {
        match load_file_all(&f) {
            Ok(s) => {
                if let Some(&i) = names.get(&s.name.value) {
                    let first = &scenarios[i];
                    errors.push(LoadError {
                        file: s.source.clone(),
                        line: s.name.line,
                        column: s.name.column,
                        kind: LoadErrorKind::Duplicate,
                        message: format!(
                            "scenario name `{}` is already used by {}:{}:{}",
                            s.name.value, first.source, first.name.line, first.name.column
                        ),
                    });
                } else {
                    names.insert(s.name.value.clone(), scenarios.len());
                    scenarios.push(s);
                }
            }
            Err(e) => errors.extend(e),
        }
    }
    (scenarios, errors)
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<LoadError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return errors.push(io_error(&dir.display().to_string(), &e)),
    };
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                errors.push(io_error(&dir.display().to_string(), &e));
                continue;
            }
        };
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => collect(&path, files, errors),
            Ok(_)
                if matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml")
                ) =>
            {
                files.push(path)
            }
            Ok(_) => {}
            Err(e) => errors.push(io_error(&path.display().to_string(), &e)),
        }
    }
}

/// A file that cannot be read, as a [`LoadError`] without a position.
pub(crate) fn io_error(file: &str, e: &std::io::Error) -> LoadError {
    LoadError {
        file: file.to_string(),
        line: 0,
        column: 0,
        kind: LoadErrorKind::Io,
        message: format!("cannot read: {e}"),
    }
}

fn yaml_error(e: &YamlError, text: &str, file: &str) -> LoadError {
    yaml_error_in(
        e,
        text,
        file,
        "a scenario (a mapping with name, summary, agents and steps)",
    )
}

/// A serde-saphyr error in the YAML file `file` (its text `text`) as a [`LoadError`]: its
/// position, what was expected and, for a value of the wrong shape, what was found. `document`
/// says what the file should hold (for an empty file). Scenarios, targets files and
/// expectation files share it.
pub(crate) fn yaml_error_in(e: &YamlError, text: &str, file: &str, document: &str) -> LoadError {
    let e = e.without_snippet();
    let (line, column) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .filter(|(l, _)| *l > 0)
        .unwrap_or((1, 1));
    let (kind, mut message) = describe(e, document);
    if let YamlError::Unexpected { .. } = e {
        let line = usize::try_from(line).unwrap_or(usize::MAX);
        let column = usize::try_from(column).unwrap_or(usize::MAX);
        if let Some(found) = found_at(text, line, column) {
            message = format!("{message}, found {found}");
        }
    }
    LoadError {
        file: file.to_string(),
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
        kind,
        message,
    }
}

/// The kind and a message in the loader's words for a serde-saphyr error.
fn describe(e: &YamlError, document: &str) -> (LoadErrorKind, String) {
    use LoadErrorKind as K;
    if let Some(d) = describe_serde(e) {
        return d;
    }
    match e {
        YamlError::DuplicateMappingKey { key, .. } => {
            let key = key
                .as_deref()
                .map(|k| format!(" `{k}`"))
                .unwrap_or_default();
            let msg = format!("duplicate key{key}: each key may appear once in a mapping");
            (K::Duplicate, msg)
        }
        YamlError::Unexpected { expected, .. } => (K::WrongType, unexpected(expected)),
        YamlError::InvalidScalar { ty, .. } => (K::WrongType, invalid_scalar(ty)),
        YamlError::InvalidBooleanStrict { .. } => (
            K::WrongType,
            "expected true or false (YAML 1.2 booleans)".into(),
        ),
        YamlError::Message { msg, .. } => (K::InvalidValue, msg.clone()),
        YamlError::Eof { .. } => (
            K::Syntax,
            format!("expected {document}, found the end of the file"),
        ),
        other => {
            let msg = DefaultMessageFormatter.format_message(other).into_owned();
            (K::Syntax, msg)
        }
    }
}

/// The errors serde's derived code raises.
fn describe_serde(e: &YamlError) -> Option<(LoadErrorKind, String)> {
    use LoadErrorKind as K;
    Some(match e {
        YamlError::SerdeUnknownField {
            field, expected, ..
        } => {
            let hint = did_you_mean(field, expected.iter().copied());
            let list = expected.join(", ");
            (
                K::UnknownKey,
                format!("unknown key `{field}`, expected one of: {list}{hint}"),
            )
        }
        YamlError::SerdeMissingField { field, .. } => {
            (K::MissingKey, format!("missing required key `{field}`"))
        }
        YamlError::SerdeUnknownVariant {
            variant, expected, ..
        } => {
            let hint = did_you_mean(variant, expected.iter().copied());
            let list = expected.join(", ");
            (
                K::InvalidValue,
                format!("expected one of {list}, found `{variant}`{hint}"),
            )
        }
        YamlError::SerdeInvalidType {
            unexpected,
            expected,
            ..
        } => {
            let found = article(unexpected);
            (K::WrongType, format!("expected {expected}, found {found}"))
        }
        YamlError::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => (
            K::InvalidValue,
            format!("expected {expected}, found {unexpected}"),
        ),
        _ => return None,
    })
}

fn article(unexpected: &str) -> String {
    match unexpected {
        "sequence" => "a list".into(),
        "map" => "a mapping".into(),
        "unit value" => "nothing (null)".into(),
        other => other.to_string(),
    }
}

/// What starts at a position, for "found ..." in a message: a list, a mapping or a value.
fn found_at(text: &str, line: usize, column: usize) -> Option<String> {
    let rest: String = text
        .lines()
        .nth(line.checked_sub(1)?)?
        .chars()
        .skip(column.saturating_sub(1))
        .collect();
    let rest = rest.trim_end();
    Some(match rest.chars().next() {
        None | Some('#') => "nothing (null)".to_string(),
        Some('[') => "a list".to_string(),
        Some('-') if rest.len() == 1 || rest.starts_with("- ") => "a list".to_string(),
        Some('{') => "a mapping".to_string(),
        _ if rest.contains(": ") || rest.ends_with(':') => "a mapping".to_string(),
        _ => format!("`{rest}`"),
    })
}

fn unexpected(expected: &str) -> String {
    match expected {
        "string scalar" => "expected a text value".into(),
        "mapping start" => "expected a mapping (`key: value` lines, or `{ key: value }`)".into(),
        "sequence start" => "expected a list (`- item` lines, or `[a, b]`)".into(),
        other => format!("expected {other}"),
    }
}

fn invalid_scalar(ty: &str) -> String {
    match ty {
        "bool" => "expected true or false".into(),
        "f32" | "f64" => "expected a number".into(),
        "u8" | "u16" | "u32" | "u64" | "usize" => "expected a whole number, 0 or more".into(),
        other => format!("expected a value of type {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_at_names_what_starts_there() {
        let text = "a: [x]\nb: {y: 1}\nc:\n  - z\nd: plain text\ne: k: v\nf:\n";
        assert_eq!(found_at(text, 1, 4).as_deref(), Some("a list"));
        assert_eq!(found_at(text, 2, 4).as_deref(), Some("a mapping"));
        assert_eq!(found_at(text, 4, 3).as_deref(), Some("a list"));
        assert_eq!(found_at(text, 5, 4).as_deref(), Some("`plain text`"));
        assert_eq!(found_at(text, 6, 4).as_deref(), Some("a mapping"));
        assert_eq!(found_at(text, 7, 3).as_deref(), Some("nothing (null)"));
        assert_eq!(found_at(text, 99, 1), None);
    }

    #[test]
    fn type_errors_say_what_was_found() {
        let head = "name: t\nsummary: s\nagents: { a: {} }\n";
        let e = load_str(&format!("{head}steps:\n  send: OPTIONS\n"), "t").unwrap_err();
        assert!(e.message.ends_with("found a mapping"), "{e}");
        let e = load_str(&format!("{head}steps:\n  -\n"), "t").unwrap_err();
        assert!(e.message.ends_with("found nothing (null)"), "{e}");
    }
}
