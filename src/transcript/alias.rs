//! Stable aliases for the values that change from run to run. Each kind of value has its own
//! counter, and aliases are handed out in order of first appearance: the same raw value always
//! gets the same alias within a transcript, so relations survive (a To tag that reappears in
//! message 5 shows the alias it had in message 2), and two runs that behave alike get the same
//! text.
//!
//! | kind      | alias          | what                                                   |
//! |-----------|----------------|--------------------------------------------------------|
//! | `call`    | `<call-1>`     | Call-ID (also inside Replaces and Refer-To)             |
//! | `tag`     | `<tag-A>`      | From/To tags (also inside Replaces)                     |
//! | `branch`  | `<branch-1>`   | Via branches                                            |
//! | `cseq`    | `<cseq-1>`     | a CSeq number within one Call-ID and From tag           |
//! | `rseq`    | `<rseq-1>`     | RSeq (and RAck's response number)                       |
//! | `nonce`   | `<nonce-1>`    | digest nonces of challenges and credentials             |
//! | `sdp`     | `<sdp-1>`      | an SDP session (`o=` username, id, address)             |
//!
//! SDP versions are numbered within their session (`v1`, `v2`...) and unknown parties get
//! letters (`A`, `B`...) by [`super::build::Parties`].

use std::collections::HashMap;

/// The kinds of aliased values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Call,
    Tag,
    Branch,
    CSeq,
    RSeq,
    Nonce,
    Sdp,
}

impl Kind {
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Call => "call",
            Kind::Tag => "tag",
            Kind::Branch => "branch",
            Kind::CSeq => "cseq",
            Kind::RSeq => "rseq",
            Kind::Nonce => "nonce",
            Kind::Sdp => "sdp",
        }
    }

    /// Tags count in letters (`<tag-A>`), the others in numbers.
    fn letters(self) -> bool {
        matches!(self, Kind::Tag)
    }
}

/// The aliases handed out so far.
#[derive(Clone, Debug, Default)]
pub struct Aliases {
    seen: HashMap<(Kind, String), String>,
    counts: HashMap<Kind, usize>,
    /// Versions per SDP session alias.
    versions: HashMap<(String, String), usize>,
    version_counts: HashMap<String, usize>,
}

impl Aliases {
    pub fn new() -> Aliases {
        Aliases::default()
    }

    /// The alias of `raw` as a value of `kind`: `<call-1>`, `<tag-B>`...
    pub fn get(&mut self, kind: Kind, raw: &str) -> String {
        if let Some(a) = self.seen.get(&(kind, raw.to_string())) {
            return a.clone();
        }
        let n = self.counts.entry(kind).or_insert(0);
        *n += 1;
        let id = if kind.letters() {
            letters(*n)
        } else {
            n.to_string()
        };
        let alias = format!("<{}-{id}>", kind.prefix());
        self.seen.insert((kind, raw.to_string()), alias.clone());
        alias
    }

    /// The alias of a value already seen, without handing out a new one.
    pub fn known(&self, kind: Kind, raw: &str) -> Option<&str> {
        self.seen.get(&(kind, raw.to_string())).map(String::as_str)
    }

    /// The number of a session version within its session alias: `1` for the first seen.
    pub fn version(&mut self, session: &str, raw: &str) -> usize {
        let key = (session.to_string(), raw.to_string());
        if let Some(v) = self.versions.get(&key) {
            return *v;
        }
        let n = self.version_counts.entry(session.to_string()).or_insert(0);
        *n += 1;
        self.versions.insert(key, *n);
        *n
    }
}

/// 1 -> `A`, 26 -> `Z`, 27 -> `AA`.
pub fn letters(mut n: usize) -> String {
    let mut out = Vec::new();
    while n > 0 {
        n -= 1;
        out.push(b'A' + (n % 26) as u8);
        n /= 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Whether a word is an alias (`<tag-A>`), and its kind prefix.
pub fn kind_of(word: &str) -> Option<&str> {
    let inner = word.strip_prefix('<')?.strip_suffix('>')?;
    let (kind, _) = inner.rsplit_once('-')?;
    Some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_same_alias_in_order_of_appearance() {
        let mut a = Aliases::new();
        assert_eq!(a.get(Kind::Tag, "x1"), "<tag-A>");
        assert_eq!(a.get(Kind::Tag, "y2"), "<tag-B>");
        assert_eq!(a.get(Kind::Tag, "x1"), "<tag-A>");
        assert_eq!(a.get(Kind::Call, "x1"), "<call-1>");
        assert_eq!(a.version("<sdp-1>", "7"), 1);
        assert_eq!(a.version("<sdp-1>", "8"), 2);
        assert_eq!(a.version("<sdp-1>", "7"), 1);
        assert_eq!(letters(27), "AA");
        assert_eq!(kind_of("<branch-12>"), Some("branch"));
        assert_eq!(kind_of("PCMU"), None);
    }
}
