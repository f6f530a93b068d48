//! Event (RFC 6665 §8.2.1), Subscription-State (RFC 6665 §8.2.3) and Refer-Sub (RFC 4488).

use super::common::{
    excerpt, find_param, find_raw, non_empty, offset_in, owned, split_value_params, Params,
};
use super::scalar::delta_seconds;
use super::{HeaderError, HeaderErrorKind};
use crate::sip::lex;

/// token-nodot characters: token characters without `.` (RFC 6665 §8.4).
fn is_token_nodot(b: u8) -> bool {
    b != b'.' && lex::is_token_char(b)
}

/// An event type `package *( "." template )` (RFC 6665 §8.2.1, §8.4 event-type).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EventType {
    /// `presence`, `dialog`, `refer`, `message-summary`, ...
    pub package: String,
    /// Event templates such as `winfo` in `presence.winfo`.
    pub templates: Vec<String>,
}

impl EventType {
    /// The type as written: `package[.template...]`.
    pub fn full(&self) -> String {
        let mut s = self.package.clone();
        for t in &self.templates {
            s.push('.');
            s.push_str(t);
        }
        s
    }
}

/// Parses an event-type (RFC 6665 §8.4): `event-package *( "." event-template )`, each part a
/// non-empty token-nodot. Used for Event and for each Allow-Events element.
pub fn parse_event_type(s: &str) -> Result<EventType, HeaderError> {
    let t = non_empty(s, "event type")?;
    let base = offset_in(s, t);
    let mut parts = Vec::new();
    let mut pos = 0;
    for part in t.split('.') {
        // RFC 6665 §8.4: event-package = token-nodot; event-template = token-nodot
        if part.is_empty() || !part.bytes().all(is_token_nodot) {
            return Err(HeaderError::syntax(
                base + pos,
                format!(
                    "event type part `{}` is not a token without dots",
                    excerpt(part)
                ),
            ));
        }
        parts.push(part.to_string());
        pos += part.len() + 1;
    }
    let package = parts.remove(0);
    Ok(EventType {
        package,
        templates: parts,
    })
}

/// Event (RFC 6665 §8.2.1; compact form `o`): `event-type *( SEMI event-param )`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub event_type: EventType,
    /// All parameters in order, values as written.
    pub params: Params,
}

impl Event {
    /// The package name (`presence` in `presence.winfo`).
    pub fn package(&self) -> &str {
        &self.event_type.package
    }
    /// The `id` parameter (RFC 6665 §8.2.1 event-param = ... / ( "id" EQUAL token )).
    pub fn id(&self) -> Option<&str> {
        find_param(&self.params, "id").flatten()
    }
    /// A parameter by name (case-insensitive): `Some(None)` for a flag.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }
}

/// Parses an Event value (RFC 6665 §8.2.1).
pub fn parse_event(s: &str) -> Result<Event, HeaderError> {
    non_empty(s, "Event")?;
    let (ty, params) = split_value_params(s, s)?;
    let event_type = parse_event_type(ty).map_err(|e| e.shifted(offset_in(s, ty)))?;
    if let Some(p) = find_raw(&params, "id") {
        // RFC 6665 §8.4: event-param = generic-param / ( "id" EQUAL token )
        if !p.value.is_some_and(|v| lex::is_token(v.as_bytes())) {
            return Err(HeaderError::syntax(
                offset_in(s, p.value.unwrap_or(p.name)),
                "id needs a token value",
            ));
        }
    }
    Ok(Event {
        event_type,
        params: owned(&params),
    })
}

/// substate-value (RFC 6665 §8.2.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubState {
    Active,
    Pending,
    Terminated,
    /// extension-substate = token
    Other(String),
}

/// Subscription-State (RFC 6665 §8.2.3): `substate-value *( SEMI subexp-params )`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionState {
    pub state: SubState,
    pub expires: Option<u32>,
    /// `deactivated`, `probation`, `rejected`, `timeout`, `giveup`, `noresource`, `invariant`,
    /// or an extension token, as written.
    pub reason: Option<String>,
    pub retry_after: Option<u32>,
    /// All parameters in order, values as written.
    pub params: Params,
}

/// Parses Subscription-State (RFC 6665 §8.2.3, §8.4).
pub fn parse_subscription_state(s: &str) -> Result<SubscriptionState, HeaderError> {
    non_empty(s, "Subscription-State")?;
    let (v, params) = split_value_params(s, s)?;
    // RFC 6665 §8.4: substate-value = "active" / "pending" / "terminated" / extension-substate
    let state = match v {
        _ if v.eq_ignore_ascii_case("active") => SubState::Active,
        _ if v.eq_ignore_ascii_case("pending") => SubState::Pending,
        _ if v.eq_ignore_ascii_case("terminated") => SubState::Terminated,
        _ if lex::is_token(v.as_bytes()) => SubState::Other(v.to_string()),
        _ => {
            return Err(HeaderError::syntax(
                offset_in(s, v),
                format!("subscription state `{}` is not a token", excerpt(v)),
            ))
        }
    };
    let mut out = SubscriptionState {
        state,
        expires: None,
        reason: None,
        retry_after: None,
        params: owned(&params),
    };
    for p in &params {
        let value = p.value.unwrap_or("");
        if p.name.eq_ignore_ascii_case("expires") {
            // RFC 6665 §8.4: "expires" EQUAL delta-seconds
            out.expires = Some(delta_seconds(s, value, "expires")?);
        } else if p.name.eq_ignore_ascii_case("retry-after") {
            // RFC 6665 §8.4: "retry-after" EQUAL delta-seconds
            out.retry_after = Some(delta_seconds(s, value, "retry-after")?);
        } else if p.name.eq_ignore_ascii_case("reason") {
            // RFC 6665 §8.4: "reason" EQUAL event-reason-value (a token)
            if !lex::is_token(value.as_bytes()) {
                return Err(HeaderError::syntax(
                    offset_in(s, p.value.unwrap_or(p.name)),
                    "reason needs a token value",
                ));
            }
            out.reason = Some(value.to_string());
        }
    }
    Ok(out)
}

/// Refer-Sub (RFC 4488, Refer-Sub ABNF): `refer-sub-value *(SEMI exten)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferSub {
    /// `true`: the REFER creates a subscription; `false`: it does not.
    pub value: bool,
    pub params: Params,
}

/// Parses Refer-Sub (RFC 4488): `refer-sub-value = "true" / "false"`, case-insensitive as ABNF
/// literals are (RFC 5234 §2.3).
pub fn parse_refer_sub(s: &str) -> Result<ReferSub, HeaderError> {
    non_empty(s, "Refer-Sub")?;
    let (v, params) = split_value_params(s, s)?;
    // RFC 4488: refer-sub-value = "true" / "false"
    let value = if v.eq_ignore_ascii_case("true") {
        true
    } else if v.eq_ignore_ascii_case("false") {
        false
    } else {
        return Err(HeaderError::new(
            HeaderErrorKind::Syntax,
            offset_in(s, v),
            format!("Refer-Sub must be true or false, found `{}`", excerpt(v)),
        ));
    };
    Ok(ReferSub {
        value,
        params: owned(&params),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::headers::test_support::garbage;

    #[test]
    fn rfc6665_8_2_1_event() {
        let e = parse_event("presence.winfo;id=1234").unwrap();
        assert_eq!(e.package(), "presence");
        assert_eq!(e.event_type.templates, vec!["winfo".to_string()]);
        assert_eq!(e.event_type.full(), "presence.winfo");
        assert_eq!(e.id(), Some("1234"));
        let e = parse_event("refer").unwrap();
        assert_eq!((e.package(), e.id()), ("refer", None));
        assert_eq!(
            parse_event(" dialog ; call-id=x ")
                .unwrap()
                .param("call-id"),
            Some(Some("x"))
        );
        for bad in [
            "",
            ".x",
            "x.",
            "x..y",
            "x;id",
            "x;id=\"q\"",
            "x y",
            "x;",
            "pre sence",
        ] {
            assert!(parse_event(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_event("x..y").unwrap_err().offset, 2);
    }

    #[test]
    fn rfc6665_8_2_3_subscription_state() {
        let s = parse_subscription_state("active;expires=3600").unwrap();
        assert_eq!((s.state.clone(), s.expires), (SubState::Active, Some(3600)));
        let s = parse_subscription_state("terminated;reason=timeout;retry-after=30").unwrap();
        assert_eq!(s.state, SubState::Terminated);
        assert_eq!(s.reason.as_deref(), Some("timeout"));
        assert_eq!(s.retry_after, Some(30));
        assert_eq!(
            parse_subscription_state("Pending").unwrap().state,
            SubState::Pending
        );
        assert_eq!(
            parse_subscription_state("waiting").unwrap().state,
            SubState::Other("waiting".into())
        );
        assert_eq!(
            parse_subscription_state("active;expires=4294967296")
                .unwrap_err()
                .kind,
            HeaderErrorKind::OutOfRange
        );
        for bad in [
            "",
            "active;expires",
            "active;expires=x",
            "active;reason",
            "a b",
            "active;",
        ] {
            assert!(parse_subscription_state(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rfc4488_refer_sub() {
        assert!(!parse_refer_sub("false").unwrap().value);
        assert!(parse_refer_sub("TRUE;x=1").unwrap().value);
        for bad in ["", "yes", "0", "false;", "true false"] {
            assert!(parse_refer_sub(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        for g in garbage() {
            let _ = parse_event_type(&g);
            let _ = parse_event(&g);
            let _ = parse_event(&format!("a;{g}"));
            let _ = parse_subscription_state(&g);
            let _ = parse_subscription_state(&format!("active;{g}"));
            let _ = parse_refer_sub(&g);
        }
    }
}
