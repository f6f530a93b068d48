//! Replaces (RFC 3891 §6.1), as a header field and as the escaped `Replaces=` header carried in
//! a Refer-To URI (RFC 3891 §7 example, RFC 3261 §19.1.1 URI headers).

use super::common::{excerpt, find_param, offset_in, owned, parse_params, Params};
use super::scalar::parse_call_id;
use super::{HeaderError, HeaderErrorKind};
use crate::sip::lex::{self, Param};
use crate::sip::uri;

/// `Replaces: callid *(SEMI replaces-param)` (RFC 3891 §6.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replaces {
    pub call_id: String,
    pub to_tag: String,
    pub from_tag: String,
    /// The `early-only` flag (RFC 3891 §6.1 early-flag).
    pub early_only: bool,
    /// All parameters in order (tags included), values as written.
    pub params: Params,
}

impl Replaces {
    /// A parameter by name (case-insensitive): `Some(None)` for a flag.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }
}

/// Parses a Replaces value (RFC 3891 §6.1). It MUST contain exactly one `to-tag` and exactly
/// one `from-tag`; either missing or repeated is a `Syntax` error.
pub fn parse_replaces(s: &str) -> Result<Replaces, HeaderError> {
    let t = lex::trim(s);
    if t.is_empty() {
        return Err(HeaderError::new(
            HeaderErrorKind::Empty,
            0,
            "empty Replaces value",
        ));
    }
    // A callid never contains `;` (RFC 3261 §25.1 word), but may contain `"` and `<`, so split
    // on the first `;` without quote handling.
    let (cid, rest) = match t.find(';') {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let cid = lex::trim(cid);
    let call_id = parse_call_id(cid).map_err(|e| e.shifted(offset_in(s, cid)))?;
    let params = match rest {
        Some(r) => parse_params(s, r)?,
        None => Vec::new(),
    };
    let to_tag = one_tag(s, &params, "to-tag")?;
    let from_tag = one_tag(s, &params, "from-tag")?;
    let early_only = params
        .iter()
        .any(|p| p.name.eq_ignore_ascii_case("early-only"));
    Ok(Replaces {
        call_id: call_id.value,
        to_tag,
        from_tag,
        early_only,
        params: owned(&params),
    })
}

/// The single `name=token` parameter (RFC 3891 §6.1: to-tag / from-tag = name EQUAL token).
fn one_tag(whole: &str, params: &[Param<'_>], name: &str) -> Result<String, HeaderError> {
    let mut found = params.iter().filter(|p| p.name.eq_ignore_ascii_case(name));
    let Some(p) = found.next() else {
        // RFC 3891 §6.1: "MUST contain exactly one to-tag and exactly one from-tag"
        return Err(HeaderError::syntax(whole.len(), format!("missing {name}")));
    };
    if let Some(dup) = found.next() {
        return Err(HeaderError::syntax(
            offset_in(whole, dup.name),
            format!("{name} appears more than once"),
        ));
    }
    match p.value {
        Some(v) if lex::is_token(v.as_bytes()) => Ok(v.to_string()),
        _ => Err(HeaderError::syntax(
            offset_in(whole, p.value.unwrap_or(p.name)),
            format!("{name} needs a token value"),
        )),
    }
}

/// Parses the `%`-escaped Replaces value found in a Refer-To URI header
/// (`?Replaces=12345%40192.0.2.1%3Bto-tag%3D1%3Bfrom-tag%3D2`, RFC 3891 §7; escaping per
/// RFC 3261 §19.1.2). Offsets in errors are relative to the decoded text.
pub fn parse_replaces_escaped(s: &str) -> Result<Replaces, HeaderError> {
    let decoded = percent_decode(s)?;
    parse_replaces(&decoded)
}

/// Resolves `%HH` escapes with [`uri::pct_decode`] after checking that every `%` starts a
/// complete escape (RFC 3261 §25.1 escaped = "%" HEXDIG HEXDIG). The result must be UTF-8.
fn percent_decode(s: &str) -> Result<String, HeaderError> {
    let b = s.as_bytes();
    let hex_at = |i: usize| b.get(i).is_some_and(u8::is_ascii_hexdigit);
    if let Some(i) = (0..b.len()).find(|&i| b[i] == b'%' && !(hex_at(i + 1) && hex_at(i + 2))) {
        return Err(HeaderError::syntax(
            i,
            format!("bad %-escape at `{}`", excerpt(&s[i..])),
        ));
    }
    String::from_utf8(uri::pct_decode(s))
        .map_err(|_| HeaderError::syntax(0, "escaped Replaces value is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::headers::test_support::garbage;

    #[test]
    fn rfc3891_6_1_replaces() {
        let r = parse_replaces("98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff").unwrap();
        assert_eq!(r.call_id, "98732@sip.example.com");
        assert_eq!(r.from_tag, "r33th4x0r");
        assert_eq!(r.to_tag, "ff87ff");
        assert!(!r.early_only);
        let r = parse_replaces("abc ; to-tag=1 ; from-tag=2 ; early-only").unwrap();
        assert!(r.early_only);
        assert_eq!(r.param("early-only"), Some(None));
    }

    #[test]
    fn rfc3891_6_1_exactly_one_of_each_tag() {
        for bad in [
            "abc;to-tag=1",
            "abc;from-tag=2",
            "abc",
            "abc;to-tag=1;from-tag=2;to-tag=3",
            "abc;to-tag;from-tag=2",
            "abc;to-tag=\"1\";from-tag=2",
            "a b;to-tag=1;from-tag=2",
            ";to-tag=1;from-tag=2",
            "abc;to-tag=1;from-tag=2;",
        ] {
            let e = parse_replaces(bad).unwrap_err();
            assert_ne!(e.kind, HeaderErrorKind::OutOfRange, "{bad}");
        }
        assert_eq!(
            parse_replaces(" ").unwrap_err().kind,
            HeaderErrorKind::Empty
        );
    }

    #[test]
    fn rfc3891_7_escaped_in_refer_to() {
        let r = parse_replaces_escaped("12345%40192.0.2.1%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994")
            .unwrap();
        assert_eq!(r.call_id, "12345@192.0.2.1");
        assert_eq!(r.to_tag, "12345");
        assert_eq!(r.from_tag, "5FFE-3994");
        assert!(parse_replaces_escaped("abc%3").is_err());
        assert!(parse_replaces_escaped("abc%zz").is_err());
        assert!(parse_replaces_escaped("abc%ff;to-tag=1;from-tag=2").is_err());
    }

    #[test]
    fn garbage_never_panics() {
        for g in garbage() {
            let _ = parse_replaces(&g);
            let _ = parse_replaces(&format!("a;to-tag=1;from-tag=2;{g}"));
            let _ = parse_replaces_escaped(&g);
            let _ = parse_replaces_escaped(&format!("a%3B{g}"));
        }
    }
}
