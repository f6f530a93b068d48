//! Content-Type (RFC 3261 §20.15, RFC 2045 §5.1), Accept media ranges (RFC 3261 §20.1) and
//! Content-Disposition (RFC 3261 §20.11).

use super::common::{
    excerpt, find_param, non_empty, offset_in, owned, params_tail, quoted_string_len, Cursor,
    Params,
};
use super::HeaderError;
use crate::sip::lex::{self, Param};
use std::borrow::Cow;

/// Body types siptest understands, as lower-case `type/subtype`.
pub const KNOWN_BODY_TYPES: &[&str] = &[
    "application/sdp",
    "message/sipfrag",
    "multipart/mixed",
    "multipart/alternative",
    "multipart/related",
    "application/dtmf-relay",
    "application/dialog-info+xml",
    "text/plain",
    "application/pidf+xml",
    "application/simple-message-summary",
];

/// True when `essence` (`type/subtype`, compared case-insensitively, RFC 2045 §5.1) is in
/// [`KNOWN_BODY_TYPES`].
pub fn is_known_body_type(essence: &str) -> bool {
    let e = lex::trim(essence);
    KNOWN_BODY_TYPES.iter().any(|k| k.eq_ignore_ascii_case(e))
}

/// A media type or, in Accept, a media range (`*/*`, `type/*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaType {
    /// As written; compare case-insensitively (RFC 2045 §5.1).
    pub type_: String,
    pub subtype: String,
    /// Parameters in order, values as written (quoted strings keep their quotes).
    pub params: Params,
}

impl MediaType {
    /// Lower-cased `type/subtype`.
    pub fn essence(&self) -> String {
        format!("{}/{}", self.type_, self.subtype).to_ascii_lowercase()
    }

    /// A parameter's value with quotes and escapes removed (names are case-insensitive,
    /// RFC 2045 §5.1). `None` when absent or a bare flag.
    pub fn param(&self, name: &str) -> Option<Cow<'_, str>> {
        find_param(&self.params, name).flatten().map(lex::unquote)
    }

    /// True for `multipart/*` types (RFC 2046 §5.1), which need a `boundary`.
    pub fn is_multipart(&self) -> bool {
        self.type_.eq_ignore_ascii_case("multipart")
    }

    /// The `q` of an Accept range in thousandths (RFC 3261 §25.1 qvalue), when present and valid.
    pub fn q(&self) -> Option<u16> {
        find_param(&self.params, "q")
            .flatten()
            .and_then(parse_qvalue)
    }
}

/// Parses a Content-Type value (RFC 3261 §20.15): `m-type SLASH m-subtype *(SEMI m-parameter)`.
pub fn parse_content_type(s: &str) -> Result<MediaType, HeaderError> {
    let (type_, subtype, params) = parse_media(s)?;
    for p in &params {
        // RFC 3261 §25.1: m-parameter = m-attribute EQUAL m-value; m-value = token / quoted-string
        match p.value {
            Some(v) if lex::is_token(v.as_bytes()) || quoted_string_len(v) == Some(v.len()) => {}
            Some(v) => {
                return Err(HeaderError::syntax(
                    offset_in(s, v),
                    format!("media-type parameter value `{}` is not a token", excerpt(v)),
                ))
            }
            None => {
                return Err(HeaderError::syntax(
                    offset_in(s, p.name),
                    format!("media-type parameter `{}` needs `=value`", p.name),
                ))
            }
        }
    }
    Ok(MediaType {
        type_: type_.to_string(),
        subtype: subtype.to_string(),
        params: owned(&params),
    })
}

/// Parses one Accept element (RFC 3261 §20.1, §25.1 accept-range): a media range with optional
/// `q` and generic parameters. `*/subtype` is rejected (RFC 2616 §14.1, which §20.1 follows).
pub fn parse_accept_range(s: &str) -> Result<MediaType, HeaderError> {
    let (type_, subtype, params) = parse_media(s)?;
    if type_ == "*" && subtype != "*" {
        // RFC 3261 §25.1: media-range = ( "*/*" / ( m-type SLASH "*" ) / ( m-type SLASH m-subtype ) )
        return Err(HeaderError::syntax(
            offset_in(s, subtype),
            "`*/subtype` is not a media range",
        ));
    }
    if let Some(p) = params.iter().find(|p| p.name.eq_ignore_ascii_case("q")) {
        // RFC 3261 §25.1: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
        if p.value.and_then(parse_qvalue).is_none() {
            return Err(HeaderError::syntax(
                offset_in(s, p.value.unwrap_or(p.name)),
                "q must be a qvalue between 0 and 1 with at most 3 decimals",
            ));
        }
    }
    Ok(MediaType {
        type_: type_.to_string(),
        subtype: subtype.to_string(),
        params: owned(&params),
    })
}

/// qvalue in thousandths (RFC 3261 §25.1).
fn parse_qvalue(v: &str) -> Option<u16> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut thousandths: u16 = 0;
    for (i, b) in frac.bytes().enumerate() {
        thousandths += u16::from(b - b'0') * [100, 10, 1][i];
    }
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// `type SLASH subtype *(SEMI params)` with SWS around the slash (RFC 3261 §25.1 SLASH).
fn parse_media(s: &str) -> Result<(&str, &str, Vec<Param<'_>>), HeaderError> {
    non_empty(s, "media type")?;
    let mut c = Cursor::new(s);
    c.skip_ws();
    let type_ = c.token();
    if type_.is_empty() {
        return Err(c.expected("a media type (token)"));
    }
    c.skip_ws();
    if !c.eat(b'/') {
        return Err(c.expected("`/` between type and subtype"));
    }
    c.skip_ws();
    let subtype = c.token();
    if subtype.is_empty() {
        return Err(c.expected("a media subtype (token)"));
    }
    c.skip_ws();
    let params = params_tail(s, &mut c)?;
    Ok((type_, subtype, params))
}

/// `handling` parameter of Content-Disposition (RFC 3261 §20.11).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handling {
    Optional,
    Required,
    /// other-handling = token
    Other(String),
}

/// Content-Disposition (RFC 3261 §20.11): `disp-type *( SEMI disp-param )`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentDisposition {
    /// `render`, `session`, `icon`, `alert`, `early-session`, ... as written.
    pub disposition: String,
    /// The `handling` parameter, when present (also kept in `params`).
    pub handling: Option<Handling>,
    /// All parameters in order, values as written.
    pub params: Params,
}

impl ContentDisposition {
    /// A parameter by name (case-insensitive): `Some(None)` for a flag.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }
}

/// Parses Content-Disposition (RFC 3261 §20.11, §25.1).
pub fn parse_content_disposition(s: &str) -> Result<ContentDisposition, HeaderError> {
    non_empty(s, "Content-Disposition")?;
    let mut c = Cursor::new(s);
    c.skip_ws();
    // RFC 3261 §25.1: disp-type = "render" / "session" / "icon" / "alert" / disp-extension-token
    let disposition = c.token();
    if disposition.is_empty() {
        return Err(c.expected("a disposition type (token)"));
    }
    c.skip_ws();
    let params = params_tail(s, &mut c)?;
    let mut handling = None;
    if let Some(p) = params
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case("handling"))
    {
        // RFC 3261 §25.1: handling-param = "handling" EQUAL ( "optional" / "required" / other-handling )
        handling = Some(match p.value {
            Some(v) if v.eq_ignore_ascii_case("optional") => Handling::Optional,
            Some(v) if v.eq_ignore_ascii_case("required") => Handling::Required,
            Some(v) if lex::is_token(v.as_bytes()) => Handling::Other(v.to_string()),
            _ => {
                return Err(HeaderError::syntax(
                    offset_in(s, p.value.unwrap_or(p.name)),
                    "handling needs a token value",
                ))
            }
        });
    }
    Ok(ContentDisposition {
        disposition: disposition.to_string(),
        handling,
        params: owned(&params),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::headers::test_support::garbage;
    use crate::sip::headers::HeaderErrorKind;

    #[test]
    fn rfc3261_20_15_content_type() {
        let m = parse_content_type("application/sdp").unwrap();
        assert_eq!(m.essence(), "application/sdp");
        assert!(is_known_body_type(&m.essence()));
        let m = parse_content_type("Text / HTML ; charset=ISO-8859-4").unwrap();
        assert_eq!(m.essence(), "text/html");
        assert_eq!(m.param("CHARSET").as_deref(), Some("ISO-8859-4"));
        assert!(!is_known_body_type(&m.essence()));
    }

    #[test]
    fn rfc4475_mpart01_boundary_is_unquoted() {
        // RFC 4475 §3.1.1.11 mpart01; RFC 2046 §5.1.1 boundary.
        let m = parse_content_type(r#"multipart/mixed;boundary="7a9cbec02ceef655""#).unwrap();
        assert!(m.is_multipart());
        assert_eq!(m.param("boundary").as_deref(), Some("7a9cbec02ceef655"));
        assert_eq!(m.params[0].1.as_deref(), Some(r#""7a9cbec02ceef655""#));
        let m = parse_content_type(r#"multipart/related; boundary="a\"b; c""#).unwrap();
        assert_eq!(m.param("boundary").as_deref(), Some(r#"a"b; c"#));
    }

    #[test]
    fn rfc3261_20_15_malformed() {
        for bad in [
            "application",
            "application/",
            "/sdp",
            "application sdp",
            "application/sdp;",
            "application/sdp;charset",
            "application/sdp;charset=",
            "application/sdp;;a=b",
            "application/sdp x",
            "application/sdp;a=[::1]",
            "text/plain;charset=\"open",
        ] {
            assert!(parse_content_type(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_content_type("").unwrap_err().kind,
            HeaderErrorKind::Empty
        );
    }

    #[test]
    fn rfc3261_20_1_accept_ranges() {
        let m = parse_accept_range("application/sdp;level=1;q=0.5").unwrap();
        assert_eq!(m.q(), Some(500));
        assert_eq!(parse_accept_range("*/*").unwrap().q(), None);
        assert_eq!(
            parse_accept_range("text/*;q=1.000").unwrap().q(),
            Some(1000)
        );
        assert_eq!(parse_accept_range("text/*;q=0").unwrap().q(), Some(0));
        for bad in [
            "*/plain",
            "text/*;q=1.5",
            "text/*;q=0.1234",
            "text/*;q",
            "text/*;q=2",
        ] {
            assert!(parse_accept_range(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rfc3261_20_11_content_disposition() {
        let d = parse_content_disposition("session;handling=optional").unwrap();
        assert_eq!(d.disposition, "session");
        assert_eq!(d.handling, Some(Handling::Optional));
        let d = parse_content_disposition("render ; handling=REQUIRED").unwrap();
        assert_eq!(d.handling, Some(Handling::Required));
        let d = parse_content_disposition("early-session;handling=whenever").unwrap();
        assert_eq!(d.handling, Some(Handling::Other("whenever".into())));
        assert_eq!(parse_content_disposition("icon").unwrap().handling, None);
        for bad in [
            "",
            ";handling=optional",
            "session;handling",
            "session x",
            "session;",
        ] {
            assert!(parse_content_disposition(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        for g in garbage() {
            let _ = parse_content_type(&g);
            if let Ok(m) = parse_content_type(&format!("a/b;{g}")) {
                let _ = (m.param("boundary"), m.essence(), m.q());
            }
            let _ = parse_accept_range(&g);
            let _ = parse_accept_range(&format!("a/b;q={g}"));
            let _ = parse_content_disposition(&g);
            let _ = parse_content_disposition(&format!("session;handling={g}"));
            let _ = is_known_body_type(&g);
        }
    }
}
