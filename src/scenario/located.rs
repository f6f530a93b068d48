//! `Located<T>`: a value and where it was written, so that checks made after parsing (and the
//! engine, when it reports a step) can point at the right line and column.

use serde::{Deserialize, Deserializer};
use std::fmt;
use std::ops::Deref;

/// A value with the 1-based line and column (in characters) where it starts in the scenario
/// file. For a mapping or a list, that is where its first entry starts.
///
/// It derefs to the value, so `located.len()` works on a `Located<String>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Located<T> {
    pub value: T,
    pub line: u32,
    pub column: u32,
}

impl<T> Located<T> {
    pub fn new(value: T, line: u32, column: u32) -> Self {
        Located {
            value,
            line,
            column,
        }
    }

    /// The same position with another value (for defaults filled in at a step's position).
    pub fn with<U>(&self, value: U) -> Located<U> {
        Located::new(value, self.line, self.column)
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Located<U> {
        Located::new(f(self.value), self.line, self.column)
    }

    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T> Deref for Located<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: fmt::Display> fmt::Display for Located<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

/// Only meaningful with serde-saphyr's deserializer, which records positions; the position
/// comes from its `Spanned` wrapper (the referencing position when the value is an alias).
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = serde_saphyr::Spanned::<T>::deserialize(d)?;
        let at = s.referenced;
        Ok(Located::new(s.value, clamp(at.line()), clamp(at.column())))
    }
}

fn clamp(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
