//! Reason (RFC 3326 §2), Warning (RFC 3261 §20.43), Priority (§20.26) and Subject (§20.36).
//! Date (§20.17) is in [`super::date`].

use super::common::{
    excerpt, find_param, find_raw, non_empty, offset_in, owned, parse_number, quoted_string_len,
    split_value_params, Cursor, Params,
};
use super::{HeaderError, HeaderErrorKind};
use crate::sip::host::parse_hostport;
use crate::sip::lex;

/// `Reason: protocol *(SEMI reason-params)` (RFC 3326 §2), one reason-value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    /// `SIP`, `Q.850` or another token, as written.
    pub protocol: String,
    pub cause: Option<u32>,
    /// The `text` parameter, unquoted.
    pub text: Option<String>,
    /// All parameters in order, values as written.
    pub params: Params,
}

impl Reason {
    /// A parameter by name (case-insensitive): `Some(None)` for a flag.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }
}

/// Parses one reason-value (RFC 3326 §2).
pub fn parse_reason(s: &str) -> Result<Reason, HeaderError> {
    non_empty(s, "Reason")?;
    let (protocol, params) = split_value_params(s, s)?;
    // RFC 3326 §2: protocol = "SIP" / "Q.850" / token
    if !lex::is_token(protocol.as_bytes()) {
        return Err(HeaderError::syntax(
            offset_in(s, protocol),
            format!("Reason protocol `{}` is not a token", excerpt(protocol)),
        ));
    }
    let mut cause = None;
    if let Some(p) = find_raw(&params, "cause") {
        // RFC 3326 §2: protocol-cause = "cause" EQUAL cause; cause = 1*DIGIT
        let v = p.value.unwrap_or("");
        let n = parse_number(s, v, u64::from(u32::MAX), "cause")?;
        cause = Some(u32::try_from(n).unwrap_or(u32::MAX));
    }
    let mut text = None;
    if let Some(p) = find_raw(&params, "text") {
        // RFC 3326 §2: reason-text = "text" EQUAL quoted-string
        match p.value {
            Some(v) if v.starts_with('"') => text = Some(lex::unquote(v).into_owned()),
            _ => {
                return Err(HeaderError::syntax(
                    offset_in(s, p.value.unwrap_or(p.name)),
                    "Reason text must be a quoted string",
                ))
            }
        }
    }
    Ok(Reason {
        protocol: protocol.to_string(),
        cause,
        text,
        params: owned(&params),
    })
}

/// `warning-value = warn-code SP warn-agent SP warn-text` (RFC 3261 §20.43).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub code: u16,
    /// hostport or pseudonym, as written.
    pub agent: String,
    /// The text, unquoted.
    pub text: String,
}

/// Parses one warning-value (RFC 3261 §20.43). A warn-code of more than three digits (RFC 4475
/// §3.1.2.5 scalarlg `1812`) is `OutOfRange`; other malformed codes are `Syntax`.
pub fn parse_warning(s: &str) -> Result<Warning, HeaderError> {
    non_empty(s, "Warning")?;
    let mut c = Cursor::new(s);
    c.skip_ws();
    let at = c.pos();
    let code = c.take_while(|b| b.is_ascii_digit());
    // RFC 3261 §25.1: warn-code = 3DIGIT
    if code.len() > 3 {
        return Err(HeaderError::new(
            HeaderErrorKind::OutOfRange,
            at,
            format!("warn-code `{}` has more than 3 digits", excerpt(code)),
        ));
    }
    if code.len() < 3 {
        return Err(c.expected("a 3-digit warn-code"));
    }
    if c.skip_ws() == 0 {
        return Err(c.expected("a space after the warn-code"));
    }
    let agent_at = c.pos();
    let agent = c.take_while(|b| !lex::is_lws(b));
    // RFC 3261 §25.1: warn-agent = hostport / pseudonym; pseudonym = token
    if agent.is_empty() || !(lex::is_token(agent.as_bytes()) || parse_hostport(agent).is_ok()) {
        return Err(HeaderError::syntax(
            agent_at,
            format!(
                "warn-agent `{}` is neither host[:port] nor a token",
                excerpt(agent)
            ),
        ));
    }
    if c.skip_ws() == 0 {
        return Err(c.expected("a space after the warn-agent"));
    }
    // RFC 3261 §25.1: warn-text = quoted-string
    let text = lex::trim(c.rest());
    if quoted_string_len(text) != Some(text.len()) {
        return Err(c.expected("a quoted warn-text"));
    }
    Ok(Warning {
        code: code.parse().unwrap_or(0),
        agent: agent.to_string(),
        text: lex::unquote(text).into_owned(),
    })
}

/// priority-value (RFC 3261 §20.26).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Priority {
    Emergency,
    Urgent,
    Normal,
    NonUrgent,
    /// other-priority = token
    Other(String),
}

/// Parses Priority (RFC 3261 §20.26): `"emergency" / "urgent" / "normal" / "non-urgent" / token`.
pub fn parse_priority(s: &str) -> Result<Priority, HeaderError> {
    let t = non_empty(s, "Priority")?;
    // RFC 3261 §25.1: priority-value = "emergency" / "urgent" / "normal" / "non-urgent" / other-priority
    Ok(match t.to_ascii_lowercase().as_str() {
        "emergency" => Priority::Emergency,
        "urgent" => Priority::Urgent,
        "normal" => Priority::Normal,
        "non-urgent" => Priority::NonUrgent,
        _ if lex::is_token(t.as_bytes()) => Priority::Other(t.to_string()),
        _ => {
            return Err(HeaderError::syntax(
                offset_in(s, t),
                format!("priority `{}` is not a token", excerpt(t)),
            ))
        }
    })
}

/// Parses Subject (RFC 3261 §20.36): free UTF-8 text, possibly empty, trimmed. Control characters
/// other than HTAB are a `Syntax` error (RFC 3261 §25.1 TEXT-UTF8char).
pub fn parse_subject(s: &str) -> Result<String, HeaderError> {
    // RFC 3261 §25.1: Subject = ( "Subject" / "s" ) HCOLON [TEXT-UTF8-TRIM]
    if let Some((i, ch)) = s
        .char_indices()
        .find(|&(_, ch)| ch.is_ascii_control() && ch != '\t')
    {
        return Err(HeaderError::syntax(
            i,
            format!("control character {ch:?} in Subject"),
        ));
    }
    Ok(lex::trim(s).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::headers::test_support::garbage;

    #[test]
    fn rfc3326_2_reason() {
        let r = parse_reason(r#"Q.850 ;cause=16 ;text="Terminated""#).unwrap();
        assert_eq!(r.protocol, "Q.850");
        assert_eq!(r.cause, Some(16));
        assert_eq!(r.text.as_deref(), Some("Terminated"));
        let r = parse_reason("SIP;cause=200;text=\"Call completed elsewhere\"").unwrap();
        assert_eq!(r.text.as_deref(), Some("Call completed elsewhere"));
        assert_eq!(parse_reason("SIP").unwrap().cause, None);
        for bad in [
            "",
            "SIP;cause",
            "SIP;cause=x",
            "SIP;text=bare",
            "S I P",
            "SIP;",
            ";cause=1",
        ] {
            assert!(parse_reason(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_reason("SIP;cause=99999999999").unwrap_err().kind,
            HeaderErrorKind::OutOfRange
        );
    }

    #[test]
    fn rfc3261_20_43_warning() {
        let w = parse_warning(r#"307 isi.edu "Session parameter 'foo' not understood""#).unwrap();
        assert_eq!((w.code, w.agent.as_str()), (307, "isi.edu"));
        assert_eq!(w.text, "Session parameter 'foo' not understood");
        let w = parse_warning(r#"301 [2001:db8::1]:5060 "x""#).unwrap();
        assert_eq!(w.agent, "[2001:db8::1]:5060");
        assert_eq!(
            parse_warning(r#"399 proxy.example.com:5060 "" "#)
                .unwrap()
                .text,
            ""
        );
    }

    #[test]
    fn rfc4475_scalarlg_four_digit_warn_code() {
        // RFC 4475 §3.1.2.5: `Warning: 1812 overture "In Progress"`.
        let e = parse_warning(r#"1812 overture "In Progress""#).unwrap_err();
        assert_eq!((e.kind, e.offset), (HeaderErrorKind::OutOfRange, 0));
        for bad in [
            r#"30 a "x""#,
            r#"3x7 a "x""#,
            r#"307 "x""#,
            r#"307 a x"#,
            r#"307 a "x" y"#,
            r#"307 a "open"#,
            r#"307a "x""#,
            r#"307 a<b "x""#,
        ] {
            assert_eq!(
                parse_warning(bad).unwrap_err().kind,
                HeaderErrorKind::Syntax,
                "{bad}"
            );
        }
    }

    #[test]
    fn rfc3261_20_26_priority() {
        assert_eq!(parse_priority("emergency"), Ok(Priority::Emergency));
        assert_eq!(parse_priority("Non-Urgent"), Ok(Priority::NonUrgent));
        assert_eq!(parse_priority("normal"), Ok(Priority::Normal));
        assert_eq!(parse_priority("urgent"), Ok(Priority::Urgent));
        assert_eq!(
            parse_priority("x-high"),
            Ok(Priority::Other("x-high".into()))
        );
        assert!(parse_priority("very high").is_err());
        assert!(parse_priority("").is_err());
    }

    #[test]
    fn rfc3261_20_36_subject() {
        assert_eq!(
            parse_subject("  Need more boxes "),
            Ok("Need more boxes".into())
        );
        assert_eq!(parse_subject(""), Ok(String::new()));
        assert_eq!(parse_subject("café\tau lait"), Ok("café\tau lait".into()));
        assert_eq!(parse_subject("a\u{0}b").unwrap_err().offset, 1);
    }

    #[test]
    fn garbage_never_panics() {
        for g in garbage() {
            let _ = parse_reason(&g);
            let _ = parse_reason(&format!("SIP;{g}"));
            let _ = parse_warning(&g);
            let _ = parse_warning(&format!("399 {g}"));
            let _ = parse_warning(&format!("399 a {g}"));
            let _ = parse_priority(&g);
            let _ = parse_subject(&g);
        }
    }
}
