//! Token-list header fields: option tags in Supported, Require, Proxy-Require and Unsupported
//! (RFC 3261 §20.37, §20.32, §20.29, §20.40), methods in Allow (§20.5), event types in
//! Allow-Events (RFC 6665 §8.2.2) and media ranges in Accept (§20.1).
//!
//! The `*_list` functions split a whole value on commas. A value that is blank as a whole gives
//! an empty vector: that is legal for Supported, Allow and Accept (`[ ... ]` in RFC 3261 §25.1)
//! but not for Require, Proxy-Require, Unsupported or Allow-Events, which the caller reports.

use super::common::{excerpt, non_empty, offset_in, parse_list};
use super::content_type::{parse_accept_range, MediaType};
use super::event::{parse_event_type, EventType};
use super::HeaderError;
use crate::sip::lex;

/// Option tags registered with IANA ("Option Tags" in the SIP Parameters registry), with the
/// RFC that defines each.
pub const KNOWN_OPTION_TAGS: &[(&str, &str)] = &[
    ("100rel", "RFC 3262"),
    ("199", "RFC 6228"),
    ("answermode", "RFC 5373"),
    ("early-session", "RFC 3959"),
    ("eventlist", "RFC 4662"),
    ("explicitsub", "RFC 7614"),
    ("from-change", "RFC 4916"),
    ("geolocation-http", "RFC 6442"),
    ("geolocation-sip", "RFC 6442"),
    ("gin", "RFC 6140"),
    ("gruu", "RFC 5627"),
    ("histinfo", "RFC 7044"),
    ("ice", "RFC 5768"),
    ("join", "RFC 3911"),
    ("multiple-refer", "RFC 5368"),
    ("norefersub", "RFC 4488"),
    ("nosub", "RFC 7614"),
    ("outbound", "RFC 5626"),
    ("path", "RFC 3327"),
    ("policy", "RFC 6794"),
    ("precondition", "RFC 3312"),
    ("pref", "RFC 3840"),
    ("privacy", "RFC 3323"),
    ("recipient-list-invite", "RFC 5366"),
    ("recipient-list-message", "RFC 5365"),
    ("recipient-list-subscribe", "RFC 5367"),
    ("record-aware", "RFC 7866"),
    ("replaces", "RFC 3891"),
    ("resource-priority", "RFC 4412"),
    ("sdp-anat", "RFC 4092"),
    ("sec-agree", "RFC 3329"),
    ("siprec", "RFC 7866"),
    ("tdialog", "RFC 4538"),
    ("timer", "RFC 4028"),
    ("trickle-ice", "RFC 8840"),
    ("uui", "RFC 7433"),
];

/// Methods defined by RFC 3261 and the extensions siptest knows, with their RFC.
pub const KNOWN_METHODS: &[(&str, &str)] = &[
    ("INVITE", "RFC 3261"),
    ("ACK", "RFC 3261"),
    ("BYE", "RFC 3261"),
    ("CANCEL", "RFC 3261"),
    ("OPTIONS", "RFC 3261"),
    ("REGISTER", "RFC 3261"),
    ("PRACK", "RFC 3262"),
    ("SUBSCRIBE", "RFC 6665"),
    ("NOTIFY", "RFC 6665"),
    ("PUBLISH", "RFC 3903"),
    ("INFO", "RFC 6086"),
    ("REFER", "RFC 3515"),
    ("MESSAGE", "RFC 3428"),
    ("UPDATE", "RFC 3311"),
];

/// True for an IANA-registered option tag. Registered tags are lower-case; the comparison
/// ignores case so that `100REL` is recognised (and can be reported separately if wanted).
pub fn is_known_option_tag(tag: &str) -> bool {
    KNOWN_OPTION_TAGS
        .iter()
        .any(|(t, _)| t.eq_ignore_ascii_case(lex::trim(tag)))
}

/// True for a method in [`KNOWN_METHODS`]. Methods are case-sensitive (RFC 3261 §7.1), so
/// `invite` is not INVITE.
pub fn is_known_method(method: &str) -> bool {
    KNOWN_METHODS.iter().any(|(m, _)| *m == lex::trim(method))
}

/// One option tag (RFC 3261 §25.1 option-tag = token).
pub fn parse_option_tag(s: &str) -> Result<String, HeaderError> {
    one_token(s, "option tag")
}

/// One method (RFC 3261 §25.1 Method = INVITEm / ... / extension-method; extension-method = token).
pub fn parse_method(s: &str) -> Result<String, HeaderError> {
    one_token(s, "method")
}

fn one_token(s: &str, what: &str) -> Result<String, HeaderError> {
    let t = non_empty(s, what)?;
    // RFC 3261 §25.1: option-tag = token; extension-method = token
    if let Some((i, _)) = t.bytes().enumerate().find(|&(_, b)| !lex::is_token_char(b)) {
        return Err(HeaderError::syntax(
            offset_in(s, t) + i,
            format!("{what} `{}` is not a token", excerpt(t)),
        ));
    }
    Ok(t.to_string())
}

/// A whole Supported / Require / Proxy-Require / Unsupported value (RFC 3261 §20.37, §20.32,
/// §20.29, §20.40): `option-tag *(COMMA option-tag)`.
pub fn parse_option_tag_list(s: &str) -> Vec<Result<String, HeaderError>> {
    parse_list(s, parse_option_tag)
}

/// A whole Allow value (RFC 3261 §20.5): `[Method *(COMMA Method)]`.
pub fn parse_method_list(s: &str) -> Vec<Result<String, HeaderError>> {
    parse_list(s, parse_method)
}

/// A whole Allow-Events value (RFC 6665 §8.2.2): `event-type *(COMMA event-type)`.
pub fn parse_event_type_list(s: &str) -> Vec<Result<EventType, HeaderError>> {
    parse_list(s, parse_event_type)
}

/// A whole Accept value (RFC 3261 §20.1): `[ accept-range *(COMMA accept-range) ]`.
pub fn parse_accept_list(s: &str) -> Vec<Result<MediaType, HeaderError>> {
    parse_list(s, parse_accept_range)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::headers::test_support::garbage;
    use crate::sip::headers::HeaderErrorKind;

    fn oks<T: Clone>(v: Vec<Result<T, HeaderError>>) -> Vec<T> {
        v.into_iter().map(|r| r.unwrap()).collect()
    }

    #[test]
    fn rfc3261_20_37_supported_list() {
        assert_eq!(
            oks(parse_option_tag_list(
                "100rel, timer,replaces ,  norefersub"
            )),
            vec!["100rel", "timer", "replaces", "norefersub"]
        );
        // RFC 3261 §20.37: Supported may be empty.
        assert!(parse_option_tag_list("  ").is_empty());
    }

    #[test]
    fn rfc3261_20_32_require_bad_elements() {
        let r = parse_option_tag_list("100rel,,foo bar,");
        assert!(r[0].is_ok());
        assert_eq!(r[1].as_ref().unwrap_err().kind, HeaderErrorKind::Empty);
        let e = r[2].as_ref().unwrap_err();
        assert_eq!((e.kind, e.offset), (HeaderErrorKind::Syntax, 11));
        assert_eq!(r[3].as_ref().unwrap_err().kind, HeaderErrorKind::Empty);
        assert!(parse_option_tag("\"timer\"").is_err());
    }

    #[test]
    fn iana_option_tags_are_known() {
        for t in [
            "100rel",
            "timer",
            "replaces",
            "norefersub",
            "path",
            "gruu",
            "outbound",
        ] {
            assert!(is_known_option_tag(t), "{t}");
        }
        for t in [
            "precondition",
            "join",
            "sec-agree",
            "tdialog",
            "histinfo",
            "199",
            "uui",
        ] {
            assert!(is_known_option_tag(t), "{t}");
        }
        assert!(is_known_option_tag("100REL"));
        assert!(!is_known_option_tag("foo"));
        assert!(!is_known_option_tag(""));
    }

    #[test]
    fn rfc3261_20_5_allow_and_methods() {
        let m = oks(parse_method_list(
            "INVITE, ACK, OPTIONS, CANCEL, BYE, NEWMETHOD",
        ));
        assert_eq!(m.len(), 6);
        assert!(m[..5].iter().all(|x| is_known_method(x)));
        assert!(!is_known_method("NEWMETHOD"));
        // RFC 3261 §7.1: methods are case-sensitive.
        assert!(!is_known_method("invite"));
        assert!(parse_method("IN VITE").is_err());
        assert!(parse_method_list("").is_empty());
    }

    #[test]
    fn rfc6665_8_2_2_allow_events() {
        let e = oks(parse_event_type_list(
            "presence, dialog,presence.winfo, refer",
        ));
        assert_eq!(e[2].full(), "presence.winfo");
        assert!(parse_event_type_list("presence,.x")[1].is_err());
    }

    #[test]
    fn rfc3261_20_1_accept_list() {
        let a = oks(parse_accept_list(
            "application/sdp;level=1, application/x-private, text/html;q=0.3",
        ));
        assert_eq!(a[2].q(), Some(300));
        assert!(parse_accept_list("").is_empty());
        let r = parse_accept_list("application/sdp, bogus");
        assert!(r[1].is_err());
        // A comma inside a quoted parameter does not split.
        assert_eq!(parse_accept_list(r#"a/b;x="1,2", c/d"#).len(), 2);
    }

    #[test]
    fn garbage_never_panics() {
        for g in garbage() {
            let _ = parse_option_tag(&g);
            let _ = parse_option_tag_list(&g);
            let _ = parse_method(&g);
            let _ = parse_method_list(&g);
            let _ = parse_event_type_list(&g);
            let _ = parse_accept_list(&g);
            let _ = is_known_option_tag(&g);
            let _ = is_known_method(&g);
        }
    }
}
