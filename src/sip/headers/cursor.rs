//! A byte cursor over header values and scanners for quoted strings and comments
//! (RFC 3261 §25.1).

use super::HeaderError;
use crate::sip::lex::{self, is_token_char};

/// At most 40 characters of `s`, for error messages.
pub(crate) fn excerpt(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// A forward-only cursor over a header value. It only stops on ASCII bytes, so every position
/// it reports is a `char` boundary.
pub(crate) struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }
    pub fn pos(&self) -> usize {
        self.pos
    }
    pub fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }
    pub fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }
    pub fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }
    /// Skips SP / HTAB (and stray CR LF: values are unfolded); returns how many were skipped.
    pub fn skip_ws(&mut self) -> usize {
        self.take_while(lex::is_lws).len()
    }
    /// Consumes `b` if it is next.
    pub fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    /// Consumes bytes while `f` holds. `f` must only accept ASCII bytes.
    pub fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        let b = self.s.as_bytes();
        while self.pos < b.len() && b[self.pos].is_ascii() && f(b[self.pos]) {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }
    /// Consumes a token (RFC 3261 §25.1); empty when none is next.
    pub fn token(&mut self) -> &'a str {
        self.take_while(is_token_char)
    }
    /// Advances by `n` bytes that the caller has checked (end on a char boundary).
    pub fn advance(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.s.len());
        while !self.s.is_char_boundary(self.pos) {
            self.pos += 1;
        }
    }
    /// A syntax error at the current position, naming what was expected and what was found.
    pub fn expected(&self, what: &str) -> HeaderError {
        let found = if self.at_end() {
            "end of value".to_string()
        } else {
            format!("`{}`", excerpt(self.rest()))
        };
        HeaderError::syntax(self.pos, format!("expected {what}, found {found}"))
    }
}

/// Length in bytes of the quoted-string at the start of `s` (quotes included), or `None` when
/// `s` does not start with a well-formed one (RFC 3261 §25.1 quoted-string, qdtext, quoted-pair).
pub(crate) fn quoted_string_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'"' => return Some(i + 1),
            // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
            b'\\' => match b.get(i + 1) {
                Some(&n) if n <= 0x7F && n != b'\n' && n != b'\r' => i += 2,
                _ => return None,
            },
            // qdtext excludes controls other than LWS.
            c if c < 0x20 && !lex::is_lws(c) || c == 0x7F => return None,
            _ => i += 1,
        }
    }
    None
}

/// Length in bytes of the comment at the start of `s`, parentheses included, with nesting and
/// quoted-pairs (RFC 3261 §25.1 comment, ctext).
pub(crate) fn comment_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.first() != Some(&b'(') {
        return None;
    }
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b'\\' => i += 1,
            c if c < 0x20 && !lex::is_lws(c) || c == 0x7F => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::headers::test_support;

    #[test]
    fn quoted_strings_and_comments() {
        // RFC 3261 §25.1 quoted-string / comment.
        assert_eq!(quoted_string_len(r#""a\"b" rest"#), Some(6));
        assert_eq!(quoted_string_len(r#""open"#), None);
        assert_eq!(comment_len("(a (b) c) x"), Some(9));
        assert_eq!(comment_len("(a (b) c"), None);
    }

    #[test]
    fn cursor_never_panics() {
        for g in test_support::garbage() {
            let mut c = Cursor::new(&g);
            c.skip_ws();
            let _ = c.token();
            let _ = c.expected("x");
            c.advance(3);
            let _ = c.rest();
            let _ = quoted_string_len(&g);
            let _ = comment_len(&g);
        }
    }
}
