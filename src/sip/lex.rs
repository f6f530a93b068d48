//! Lexical helpers shared by the parser and the typed views (RFC 3261 §25.1).
//!
//! They work on bytes or `&str` slices and return ranges into their input, so callers can turn
//! them into spans of the original message without copying.

use std::borrow::Cow;
use std::ops::Range;

/// `token` characters: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"
/// (RFC 3261 §25.1).
pub const fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

/// [`is_token_char`] for every byte value, so that [`is_token`] is one load per byte.
static TOKEN_CHARS: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = is_token_char(i as u8);
        i += 1;
    }
    t
};

/// True when every byte is a token character and there is at least one.
#[inline]
pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| TOKEN_CHARS[usize::from(b)])
}

/// Linear white space inside a header value: SP, HTAB, and the CR LF of a folded line.
pub const fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The range of `s` without leading and trailing LWS.
pub fn trim_range(s: &[u8], r: Range<usize>) -> Range<usize> {
    let mut a = r.start;
    let mut b = r.end;
    while a < b && is_lws(s[a]) {
        a += 1;
    }
    while b > a && is_lws(s[b - 1]) {
        b -= 1;
    }
    a..b
}

/// `s` without leading and trailing LWS.
pub fn trim(s: &str) -> &str {
    // LWS bytes are ASCII, so the trimmed range starts and ends on char boundaries. Like
    // `str::trim_matches`, a value that is all LWS gives the empty slice at its start (callers
    // compute offsets from it).
    let r = trim_range(s.as_bytes(), 0..s.len());
    if r.is_empty() {
        &s[..0]
    } else {
        &s[r]
    }
}

/// A folded value with every CRLF+WSP run replaced by one SP (RFC 3261 §7.3.1: folding is
/// equivalent to a single SP). Values without folding are borrowed unchanged.
pub fn unfold(value: &[u8]) -> Cow<'_, [u8]> {
    // Most values are short and on one line: a plain loop beats `memchr2`'s set-up there.
    let folded = if value.len() < 64 {
        value.iter().any(|&b| b == b'\r' || b == b'\n')
    } else {
        memchr::memchr2(b'\r', b'\n', value).is_some()
    };
    if !folded {
        return Cow::Borrowed(value);
    }
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        let b = value[i];
        if b == b'\r' || b == b'\n' {
            // Swallow the line break and the white space that continues the line.
            while i < value.len() && is_lws(value[i]) {
                i += 1;
            }
            // Trailing white space before the break is kept; collapse to one SP.
            while out.last().is_some_and(|&c: &u8| c == b' ' || c == b'\t') {
                out.pop();
            }
            out.push(b' ');
            continue;
        }
        out.push(b);
        i += 1;
    }
    Cow::Owned(out)
}

/// What went wrong while splitting a value on commas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitProblem {
    /// A `"` was opened and never closed; the offset is the opening quote.
    UnterminatedQuote(usize),
    /// A `<` was opened and never closed; the offset is the opening bracket.
    UnterminatedAngle(usize),
}

/// Splits a header value on the commas that separate its elements (RFC 3261 §7.3.1), ignoring
/// commas inside quoted strings (with `\` escapes), inside `<...>` and inside comments `(...)`.
/// Each returned range is trimmed of LWS; empty elements (as in `a,,b`) are returned as empty
/// ranges so that callers can report them.
pub fn split_commas(s: &[u8]) -> (Vec<Range<usize>>, Option<SplitProblem>) {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut problem = None;
    while i < s.len() {
        match s[i] {
            b'"' => {
                let open = i;
                i += 1;
                let mut closed = false;
                while i < s.len() {
                    match s[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            closed = true;
                            break;
                        }
                        _ => i += 1,
                    }
                }
                if !closed {
                    problem.get_or_insert(SplitProblem::UnterminatedQuote(open));
                    break;
                }
            }
            b'<' => {
                let open = i;
                match memchr::memchr(b'>', &s[i..]) {
                    Some(n) => i += n,
                    None => {
                        problem.get_or_insert(SplitProblem::UnterminatedAngle(open));
                        break;
                    }
                }
            }
            b',' => {
                parts.push(trim_range(s, start..i));
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(trim_range(s, start..s.len()));
    (parts, problem)
}

/// Finds the first occurrence of `needle` in `s` that is outside a quoted string and outside
/// `<...>`.
pub fn find_unquoted(s: &[u8], needle: u8) -> Option<usize> {
    let mut i = 0;
    let mut in_angle = false;
    while i < s.len() {
        let b = s[i];
        if b == needle && !in_angle {
            return Some(i);
        }
        match b {
            b'"' if !in_angle => {
                i += 1;
                while i < s.len() && s[i] != b'"' {
                    if s[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'<' => in_angle = true,
            b'>' => in_angle = false,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Byte offset of `part` inside `whole` when `part` is a sub-slice of it (as the splitting
/// helpers here return), else 0.
pub fn offset_in(whole: &str, part: &str) -> usize {
    let w = whole.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    if p >= w && p <= w + whole.len() {
        p - w
    } else {
        0
    }
}

/// A generic parameter `name[=value]` (RFC 3261 §25.1 `generic-param`), with ranges into the
/// string it was split from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param<'a> {
    pub name: &'a str,
    /// The value as written, quotes included; `None` for a bare flag like `;lr`.
    pub value: Option<&'a str>,
}

impl<'a> Param<'a> {
    /// The value with surrounding quotes and `\` escapes removed.
    pub fn unquoted(&self) -> Option<Cow<'a, str>> {
        self.value.map(unquote)
    }
}

/// Splits `;`-separated parameters (the text after the first `;`), honouring quoted values.
/// Empty parameters (`;;`) are returned with an empty name so callers can report them.
pub fn split_params(s: &str) -> Vec<Param<'_>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    loop {
        let end = if i >= b.len() {
            true
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            continue;
        } else {
            b[i] == b';'
        };
        if end {
            let piece = trim(&s[start..i.min(b.len())]);
            let (name, value) = match piece.find('=') {
                Some(eq) => (trim(&piece[..eq]), Some(trim(&piece[eq + 1..]))),
                None => (piece, None),
            };
            out.push(Param { name, value });
            if i >= b.len() {
                break;
            }
            start = i + 1;
        }
        i += 1;
    }
    out
}

/// Removes surrounding double quotes and resolves `\` escapes (RFC 3261 `quoted-pair`).
/// A value that is not quoted is returned as is.
pub fn unquote(s: &str) -> Cow<'_, str> {
    let t = trim(s);
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        let inner = &t[1..t.len() - 1];
        if !inner.contains('\\') {
            return Cow::Borrowed(inner);
        }
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else {
                out.push(c);
            }
        }
        Cow::Owned(out)
    } else {
        Cow::Borrowed(t)
    }
}

/// Parses a decimal number made only of ASCII digits (leading zeros allowed), with no sign.
/// Returns `None` on anything else or on overflow of `u64`.
pub fn parse_decimal(s: &str) -> Option<u64> {
    let t = trim(s);
    if t.is_empty() {
        return None;
    }
    // One pass: a non-digit and an overflow both give `None`.
    let mut v: u64 = 0;
    for b in t.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_inside_quotes_and_angles_do_not_split() {
        let v = br#""Doe, J" <sip:a@b;x=1,2>;tag=1, <sip:c@d>"#;
        let (parts, problem) = split_commas(v);
        assert_eq!(problem, None);
        let got: Vec<&[u8]> = parts.iter().map(|r| &v[r.clone()]).collect();
        assert_eq!(
            got,
            vec![&br#""Doe, J" <sip:a@b;x=1,2>;tag=1"#[..], &b"<sip:c@d>"[..]]
        );
    }

    #[test]
    fn escaped_quote_does_not_close_a_string() {
        let v = br#""a \" , b" <sip:x@y>, c"#;
        let (parts, problem) = split_commas(v);
        assert_eq!(problem, None);
        assert_eq!(parts.len(), 2);
    }

    #[test]
    fn unterminated_quote_is_reported() {
        let (_, problem) = split_commas(br#""abc <sip:x@y>"#);
        assert_eq!(problem, Some(SplitProblem::UnterminatedQuote(0)));
    }

    #[test]
    fn empty_elements_are_kept() {
        let (parts, _) = split_commas(b"a,,b,");
        let lens: Vec<usize> = parts.iter().map(|r| r.len()).collect();
        assert_eq!(lens, vec![1, 0, 1, 0]);
    }

    #[test]
    fn unfold_collapses_line_breaks() {
        assert_eq!(&*unfold(b"a\r\n  b\r\n\tc"), b"a b c");
        assert!(matches!(unfold(b"plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn params_split_with_quotes() {
        let p = split_params(r#"tag=1;x="a;b";lr"#);
        assert_eq!(p.len(), 3);
        assert_eq!(p[1].value, Some(r#""a;b""#));
        assert_eq!(p[1].unquoted().as_deref(), Some("a;b"));
        assert_eq!(p[2].name, "lr");
        assert_eq!(p[2].value, None);
    }

    #[test]
    fn trim_matches_str_trim_matches_offsets_included() {
        let lws = |c: char| c == ' ' || c == '\t' || c == '\r' || c == '\n';
        for s in [
            "",
            " ",
            "\t\r\n ",
            "a",
            " a ",
            "\r\n\tab c\t",
            " é ",
            "é",
            "  \u{a0}x\u{a0} ",
        ] {
            let (ours, std) = (trim(s), s.trim_matches(lws));
            assert_eq!(ours, std, "{s:?}");
            assert_eq!(offset_in(s, ours), offset_in(s, std), "{s:?}");
        }
    }

    #[test]
    fn token_table_matches_token_chars() {
        for b in 0..=255u8 {
            assert_eq!(is_token(&[b]), is_token_char(b), "{b}");
        }
        assert!(!is_token(b""));
    }

    #[test]
    fn decimal_rejects_signs_and_overflow() {
        assert_eq!(parse_decimal("0068"), Some(68));
        assert_eq!(parse_decimal("-1"), None);
        assert_eq!(parse_decimal("99999999999999999999999"), None);
    }
}
