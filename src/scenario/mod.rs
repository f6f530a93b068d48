//! Scenarios: the YAML call flows siptest replays against a device under test.
//!
//! This module is the language, not the engine: the typed [`model`], loading with
//! located errors ([`load_file`], [`load_str`], [`load_dir`]) and the JSON Schema of the
//! format ([`json_schema`]). The format is documented in `docs/scenarios.md`.
//!
//! Loading happens in two layers, as ripgrep turns raw flags into a checked plan: serde reads
//! the YAML into document types that mirror the file (`doc.rs`, every struct with
//! `deny_unknown_fields`), then the builder checks what serde cannot (names, references,
//! combinations of keys) and produces the model, with defaults resolved.

mod act;
mod auth;
mod build;
mod doc;
mod keys;
pub(crate) mod load;
mod located;
pub mod model;
mod parts;
mod schema;
mod steps;
pub(crate) mod suggest;
mod template;
mod values;

pub use load::{load_dir, load_file, load_str, load_str_all, LoadError, LoadErrorKind};
pub use located::Located;
pub use model::*;
pub use schema::json_schema;
pub use template::{Part, Template, UnsetVariable};
pub use values::{check_method, parse_duration, parse_status, CAPTURE_PATHS};
