//! Helpers shared by the header parsers: generic-param lists, bounded decimal numbers, list
//! splitting and offsets (RFC 3261 §25.1).

pub(crate) use super::cursor::{comment_len, excerpt, quoted_string_len, Cursor};
use super::{HeaderError, HeaderErrorKind};
use crate::sip::host::HostError;
use crate::sip::lex::{self, is_token_char, Param};

/// Parameters as `(name, value)`, values as written (quoted strings keep their quotes); `None`
/// for a flag such as `;lr` or `;rport`.
pub type Params = Vec<(String, Option<String>)>;

pub(crate) use crate::sip::lex::offset_in;

/// True when `v` is a valid gen-value: token / host / quoted-string (RFC 3261 §25.1).
pub(crate) fn is_gen_value(v: &str) -> bool {
    if v.starts_with('"') {
        return quoted_string_len(v) == Some(v.len());
    }
    // host covers IPv6 references, which add `[`, `]` and `:` to the token characters.
    !v.is_empty()
        && v.bytes()
            .all(|b| is_token_char(b) || matches!(b, b'[' | b']' | b':'))
}

/// Parses `;`-separated generic-params. `rest` is the text after the first `;` and must be a
/// sub-slice of `whole` (for offsets). Names must be non-empty tokens; values gen-values
/// (RFC 3261 §25.1 generic-param). An empty `rest` means a trailing `;`, which is an error.
pub(crate) fn parse_params<'a>(whole: &str, rest: &'a str) -> Result<Vec<Param<'a>>, HeaderError> {
    let params = lex::split_params(rest);
    for p in &params {
        let at = offset_in(whole, p.name);
        // RFC 3261 §25.1: generic-param = token [ EQUAL gen-value ]; `;;` has no token.
        if p.name.is_empty() {
            return Err(HeaderError::new(
                HeaderErrorKind::EmptyParam,
                at,
                "empty parameter name after `;`",
            ));
        }
        if !lex::is_token(p.name.as_bytes()) {
            return Err(HeaderError::syntax(
                at,
                format!("parameter name `{}` is not a token", excerpt(p.name)),
            ));
        }
        if let Some(v) = p.value {
            // RFC 3261 §25.1: gen-value = token / host / quoted-string.
            if !is_gen_value(v) {
                return Err(HeaderError::syntax(
                    offset_in(whole, v),
                    format!("bad value `{}` for parameter `{}`", excerpt(v), p.name),
                ));
            }
        }
    }
    Ok(params)
}

/// Owned copies of borrowed parameters.
pub(crate) fn owned(params: &[Param<'_>]) -> Params {
    params
        .iter()
        .map(|p| (p.name.to_string(), p.value.map(str::to_string)))
        .collect()
}

/// Splits `s` at its first `;` outside quotes: the value before it (trimmed) and the params after.
/// `s` must be a sub-slice of `whole`.
pub(crate) fn split_value_params<'a>(
    whole: &str,
    s: &'a str,
) -> Result<(&'a str, Vec<Param<'a>>), HeaderError> {
    match lex::find_unquoted(s.as_bytes(), b';') {
        Some(i) => Ok((lex::trim(&s[..i]), parse_params(whole, &s[i + 1..])?)),
        None => Ok((lex::trim(s), Vec::new())),
    }
}

/// The first parameter called `name` (case-insensitive, RFC 3261 §7.3.1).
pub(crate) fn find_raw<'p, 'a>(params: &'p [Param<'a>], name: &str) -> Option<&'p Param<'a>> {
    params.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// Looks a parameter up by name, case-insensitively (RFC 3261 §7.3.1); `Some(None)` for a flag.
pub(crate) fn find_param<'p>(params: &'p Params, name: &str) -> Option<Option<&'p str>> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_deref())
}

/// Parses `part` (a sub-slice of `whole`) as a decimal number not above `max`. Empty text gives
/// `Empty`, anything but digits `Syntax`, too large a value `OutOfRange`.
pub(crate) fn parse_number(
    whole: &str,
    part: &str,
    max: u64,
    what: &str,
) -> Result<u64, HeaderError> {
    let at = offset_in(whole, part);
    let t = lex::trim(part);
    if t.is_empty() {
        return Err(HeaderError::new(
            HeaderErrorKind::Empty,
            at,
            format!("expected {what}, found nothing"),
        ));
    }
    if !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HeaderError::syntax(
            offset_in(whole, t),
            format!("expected {what} (digits only), found `{}`", excerpt(t)),
        ));
    }
    match lex::parse_decimal(t) {
        Some(v) if v <= max => Ok(v),
        _ => Err(HeaderError::new(
            HeaderErrorKind::OutOfRange,
            offset_in(whole, t),
            format!("{what} `{}` is larger than {max}", excerpt(t)),
        )),
    }
}

/// Maps a host-parsing failure to a `BadHost` error at `offset`.
pub(crate) fn host_error(offset: usize, e: HostError) -> HeaderError {
    HeaderError::new(HeaderErrorKind::BadHost, offset, e.to_string())
}

/// Fails with `Empty` when `s` is blank.
pub(crate) fn non_empty<'a>(s: &'a str, what: &str) -> Result<&'a str, HeaderError> {
    let t = lex::trim(s);
    if t.is_empty() {
        Err(HeaderError::new(
            HeaderErrorKind::Empty,
            0,
            format!("empty {what} value"),
        ))
    } else {
        Ok(t)
    }
}

/// Splits a whole list value on commas (RFC 3261 §7.3.1) and parses each element with `f`.
/// Empty elements are reported as `Empty`; offsets are relative to `s`. A value that is blank
/// as a whole gives an empty vector.
pub(crate) fn parse_list<T>(
    s: &str,
    f: impl Fn(&str) -> Result<T, HeaderError>,
) -> Vec<Result<T, HeaderError>> {
    if lex::trim(s).is_empty() {
        return Vec::new();
    }
    let (parts, problem) = lex::split_commas(s.as_bytes());
    let mut out: Vec<Result<T, HeaderError>> = parts
        .into_iter()
        .map(|r| match s.get(r.clone()) {
            Some("") | None => Err(HeaderError::new(
                HeaderErrorKind::Empty,
                r.start,
                "empty list element between commas",
            )),
            Some(elem) => f(elem).map_err(|e| e.shifted(r.start)),
        })
        .collect();
    if let Some(p) = problem {
        let (at, what) = match p {
            lex::SplitProblem::UnterminatedQuote(at) => (at, "unterminated quoted string"),
            lex::SplitProblem::UnterminatedAngle(at) => (at, "unterminated `<`"),
        };
        out.push(Err(HeaderError::syntax(at, what)));
    }
    out
}

/// The optional `;params` that end a value, read at the cursor: an empty list at the end of
/// the value, the parsed parameters after a `;`, or an error naming what else was found.
pub(crate) fn params_tail<'a>(
    whole: &str,
    c: &mut Cursor<'a>,
) -> Result<Vec<Param<'a>>, HeaderError> {
    if c.eat(b';') {
        parse_params(whole, c.rest())
    } else if c.at_end() {
        Ok(Vec::new())
    } else {
        Err(c.expected("`;` or end of value"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_reject_empty_names() {
        // RFC 3261 §25.1 generic-param.
        let e = parse_params(";", ";").unwrap_err();
        assert_eq!(e.kind, HeaderErrorKind::EmptyParam);
        assert_eq!(parse_params("a=1;b", "a=1;b").unwrap().len(), 2);
        assert!(parse_params("a=", "a=").is_err());
    }

    #[test]
    fn numbers_are_bounded() {
        assert_eq!(parse_number("0068", "0068", 255, "n"), Ok(68));
        assert_eq!(
            parse_number("256", "256", 255, "n").unwrap_err().kind,
            HeaderErrorKind::OutOfRange
        );
        assert_eq!(
            parse_number("-1", "-1", 255, "n").unwrap_err().kind,
            HeaderErrorKind::Syntax
        );
    }
}
