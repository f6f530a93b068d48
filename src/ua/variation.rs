//! Legal variations of the reference UA: behaviour RFC 3261 allows that differs from the
//! UA's default, so that the scenarios, the golden transcripts' diff and the classifier are
//! shown to tolerate it. Unlike a [`super::Quirk`], a variation breaks nothing: with any of
//! them the library passes and the classifier finds nothing (`tests/classify.rs`).
//!
//! `siptest ua --variation NAME` (repeatable, or `a,b`) and `--target
//! builtin?variation=NAME,NAME` switch them on.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

macro_rules! variations {
    ($( $variant:ident => $name:literal, $rfc:literal, $summary:literal; )*) => {
        /// One legal variation of the reference UA. See the module documentation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Variation { $( $variant, )* }

        impl Variation {
            /// Every variation, in catalogue order.
            pub const ALL: &'static [Variation] = &[ $( Variation::$variant, )* ];
            /// The name written after `--variation` and in `builtin?variation=`.
            pub fn name(self) -> &'static str {
                match self { $( Variation::$variant => $name, )* }
            }
            /// The RFC section that allows it.
            pub fn rfc(self) -> &'static str {
                match self { $( Variation::$variant => $rfc, )* }
            }
            /// What the UA does with it.
            pub fn summary(self) -> &'static str {
                match self { $( Variation::$variant => $summary, )* }
            }
        }
    };
}

variations! {
    No100 => "no-100", "RFC 3261 §17.2.1",
        "never sends 100 Trying to an INVITE (the transaction layer's own 100 after 200 ms is off)";
    SessionProgressForRinging => "183-for-180", "RFC 3261 §21.1.5",
        "sends 183 Session Progress wherever its answer plan has 180 Ringing";
    TwoRinging => "two-180", "RFC 3261 §13.3.1.1",
        "sends every 180 Ringing twice (a second alerting, as after a re-alert)";
    CompactHeaders => "compact-headers", "RFC 3261 §7.3.3",
        "writes the header names of its responses in their compact forms (v, f, t, i, m, c, l, k, ...)";
    MixedCaseHeaders => "mixed-case-headers", "RFC 3261 §7.3.1",
        "writes the header names of its responses in mixed case (vIA, cALL-id, ...)";
    UnknownHeaders => "unknown-headers", "RFC 3261 §7.3",
        "adds header fields siptest does not know (X-Foo, X-Siptest-Variation) to its responses";
    DelayedBye100 => "delayed-bye-100", "RFC 4320 §4.1",
        "answers BYE late: its transaction layer sends 100 Trying once Timer E would reach T2, the 200 follows";
    RecordRoute => "record-route", "RFC 3261 §12.1.1",
        "puts a Record-Route (its own URI, lr) in its responses to INVITE, as a proxy on its side would";
}

impl fmt::Display for Variation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A variation name that is not in the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown variation `{name}`{hint}; known: {known}")]
pub struct UnknownVariation {
    pub name: String,
    hint: String,
    known: String,
}

impl FromStr for Variation {
    type Err = UnknownVariation;
    fn from_str(s: &str) -> Result<Variation, UnknownVariation> {
        if let Some(v) = Variation::ALL.iter().find(|v| v.name() == s) {
            return Ok(*v);
        }
        let names: Vec<&str> = Variation::ALL.iter().map(|v| v.name()).collect();
        Err(UnknownVariation {
            name: s.to_string(),
            hint: crate::scenario::suggest::did_you_mean(s, names.iter().copied()),
            known: names.join(", "),
        })
    }
}

/// Parses `a,b`; empty items are errors.
pub fn parse_variation_list(s: &str) -> Result<Vec<Variation>, UnknownVariation> {
    let mut out = Vec::new();
    for name in s.split(',') {
        let v: Variation = name.trim().parse()?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

/// A variation as `--list-variations --format json` would print it.
#[derive(Clone, Debug, Serialize)]
pub struct VariationInfo {
    pub name: &'static str,
    pub rfc: &'static str,
    pub summary: &'static str,
}

impl From<Variation> for VariationInfo {
    fn from(v: Variation) -> VariationInfo {
        VariationInfo {
            name: v.name(),
            rfc: v.rfc(),
            summary: v.summary(),
        }
    }
}

/// The set of variations a UA runs with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Variations(Vec<Variation>);

impl Variations {
    pub fn new(list: impl IntoIterator<Item = Variation>) -> Variations {
        let mut v: Vec<Variation> = list.into_iter().collect();
        v.sort();
        v.dedup();
        Variations(v)
    }
    pub fn has(&self, v: Variation) -> bool {
        self.0.contains(&v)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = Variation> + '_ {
        self.0.iter().copied()
    }
}

/// The compact form of a header name (RFC 3261 §7.3.3, RFC 3515 §7.1, RFC 4028 §4,
/// RFC 6665 §8.2.1), if it has one.
pub fn compact_name(name: &str) -> Option<&'static str> {
    Some(match name.to_ascii_lowercase().as_str() {
        "via" => "v",
        "from" => "f",
        "to" => "t",
        "call-id" => "i",
        "contact" => "m",
        "content-type" => "c",
        "content-length" => "l",
        "content-encoding" => "e",
        "supported" => "k",
        "subject" => "s",
        "allow-events" => "u",
        "event" => "o",
        "refer-to" => "r",
        "session-expires" => "x",
        _ => return None,
    })
}

/// `Call-ID` -> `cALL-iD`: every letter's case swapped.
pub fn mixed_case(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_forms_are_right() {
        for v in Variation::ALL {
            assert_eq!(v.name().parse::<Variation>().unwrap(), *v);
            assert!(v.rfc().starts_with("RFC "));
        }
        assert!("no-10"
            .parse::<Variation>()
            .unwrap_err()
            .to_string()
            .contains("no-100"));
        assert_eq!(compact_name("Call-ID"), Some("i"));
        assert_eq!(compact_name("CSeq"), None);
        assert_eq!(mixed_case("Call-ID"), "cALL-id");
    }
}
