//! Call-ID (RFC 3261 §20.8, §25.1 `callid = word [ "@" word ]`).

use super::common::{non_empty, offset_in};
use super::HeaderError;
use crate::sip::lex;

/// `Call-ID: word [ "@" word ]` (RFC 3261 §20.8). Compared byte for byte (case-sensitive).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CallId {
    /// The whole value as written.
    pub value: String,
}

impl CallId {
    /// The part before `@` (or the whole value).
    pub fn local(&self) -> &str {
        self.value.split_once('@').map_or(&self.value, |(l, _)| l)
    }
    /// The part after `@`, if any.
    pub fn host(&self) -> Option<&str> {
        self.value.split_once('@').map(|(_, h)| h)
    }
}

/// `word` characters (RFC 3261 §25.1): alphanum and `-.!%*_+`'~()<>:\"/[]?{}`.
pub fn is_word_char(b: u8) -> bool {
    lex::is_token_char(b)
        || matches!(
            b,
            b'(' | b')'
                | b'<'
                | b'>'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'{'
                | b'}'
        )
}

/// Parses a Call-ID (RFC 3261 §20.8, §25.1 `callid = word [ "@" word ]`). RFC 4475 §3.1.1.2
/// intmeth uses every word character.
pub fn parse_call_id(s: &str) -> Result<CallId, HeaderError> {
    let t = non_empty(s, "Call-ID")?;
    let base = offset_in(s, t);
    let mut at_seen = false;
    for (i, b) in t.bytes().enumerate() {
        // RFC 3261 §25.1: callid = word [ "@" word ]
        if b == b'@' {
            if at_seen || i == 0 || i + 1 == t.len() {
                return Err(HeaderError::syntax(
                    base + i,
                    "`@` must separate two non-empty words in a Call-ID",
                ));
            }
            at_seen = true;
        } else if !is_word_char(b) {
            let ch = t[i..].chars().next().unwrap_or('?');
            return Err(HeaderError::syntax(
                base + i,
                format!("character {ch:?} is not allowed in a Call-ID word"),
            ));
        }
    }
    Ok(CallId {
        value: t.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::headers::test_support::garbage;
    use crate::sip::headers::HeaderErrorKind;

    fn kind<T: std::fmt::Debug>(r: Result<T, HeaderError>) -> HeaderErrorKind {
        r.unwrap_err().kind
    }

    #[test]
    fn rfc3261_20_8_call_id() {
        let c = parse_call_id("f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com").unwrap();
        assert_eq!(c.local(), "f81d4fae-7dec-11d0-a765-00a0c91e6bf6");
        assert_eq!(c.host(), Some("foo.bar.com"));
        // RFC 4475 §3.1.1.2 intmeth: every word character.
        let weird = r#"intmeth.word%ZK-!.*_+'@word`~)(><:\/"][?}{"#;
        assert_eq!(parse_call_id(weird).unwrap().value, weird);
        // RFC 4475 §3.1.1.7 longreq: very long Call-IDs are fine.
        assert!(parse_call_id(&"a".repeat(5000)).is_ok());
        for bad in ["a@b@c", "@b", "a@", "a b", "a;b", "a,b", "é", "a=b"] {
            assert_eq!(kind(parse_call_id(bad)), HeaderErrorKind::Syntax, "{bad}");
        }
        assert_eq!(kind(parse_call_id("  ")), HeaderErrorKind::Empty);
    }

    #[test]
    fn garbage_never_panics() {
        for g in garbage() {
            if let Ok(c) = parse_call_id(&g) {
                let _ = (c.local(), c.host());
            }
        }
    }
}
