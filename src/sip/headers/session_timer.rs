//! Session-Expires (RFC 4028 §4; compact form `x`) and Min-SE (RFC 4028 §5).

use super::common::{
    find_param, find_raw, non_empty, offset_in, owned, split_value_params, Params,
};
use super::scalar::delta_seconds;
use super::HeaderError;

/// The smallest session interval allowed: 90 seconds (RFC 4028 §4, §5).
pub const MIN_SESSION_INTERVAL: u32 = 90;

/// Who refreshes the session (RFC 4028 §4 refresher-param).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refresher {
    Uac,
    Uas,
}

/// `Session-Expires: delta-seconds *(SEMI se-params)` (RFC 4028 §4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionExpires {
    pub seconds: u32,
    pub refresher: Option<Refresher>,
    /// All parameters in order (`refresher` included), values as written.
    pub params: Params,
}

impl SessionExpires {
    /// True when the interval is below 90 s, which RFC 4028 §4 forbids ("MUST NOT be less than
    /// 90 seconds"); the value still parses so the caller can report it.
    pub fn below_minimum(&self) -> bool {
        self.seconds < MIN_SESSION_INTERVAL
    }
    /// A parameter by name (case-insensitive): `Some(None)` for a flag.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }
}

/// Parses Session-Expires (RFC 4028 §4):
/// `delta-seconds *(SEMI (("refresher" EQUAL ("uas" / "uac")) / generic-param))`.
pub fn parse_session_expires(s: &str) -> Result<SessionExpires, HeaderError> {
    non_empty(s, "Session-Expires")?;
    let (v, params) = split_value_params(s, s)?;
    let seconds = delta_seconds(s, v, "Session-Expires")?;
    let refresher = match find_raw(&params, "refresher") {
        None => None,
        // RFC 4028 §4: refresher-param = "refresher" EQUAL ("uas" / "uac")
        Some(p) => Some(match p.value {
            Some(r) if r.eq_ignore_ascii_case("uac") => Refresher::Uac,
            Some(r) if r.eq_ignore_ascii_case("uas") => Refresher::Uas,
            _ => {
                return Err(HeaderError::syntax(
                    offset_in(s, p.value.unwrap_or(p.name)),
                    "refresher must be uac or uas",
                ))
            }
        }),
    };
    Ok(SessionExpires {
        seconds,
        refresher,
        params: owned(&params),
    })
}

/// `Min-SE: delta-seconds *(SEMI generic-param)` (RFC 4028 §5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinSe {
    pub seconds: u32,
    pub params: Params,
}

impl MinSe {
    /// True below 90 s (RFC 4028 §5: "MUST NOT be less than 90 seconds").
    pub fn below_minimum(&self) -> bool {
        self.seconds < MIN_SESSION_INTERVAL
    }
}

/// Parses Min-SE (RFC 4028 §5).
pub fn parse_min_se(s: &str) -> Result<MinSe, HeaderError> {
    non_empty(s, "Min-SE")?;
    let (v, params) = split_value_params(s, s)?;
    // RFC 4028 §5: Min-SE = "Min-SE" HCOLON delta-seconds *(SEMI generic-param)
    let seconds = delta_seconds(s, v, "Min-SE")?;
    Ok(MinSe {
        seconds,
        params: owned(&params),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::headers::test_support::garbage;
    use crate::sip::headers::HeaderErrorKind;

    #[test]
    fn rfc4028_4_session_expires() {
        let se = parse_session_expires("4000;refresher=uac").unwrap();
        assert_eq!((se.seconds, se.refresher), (4000, Some(Refresher::Uac)));
        let se = parse_session_expires(" 1800 ; refresher=UAS ; x=1").unwrap();
        assert_eq!(se.refresher, Some(Refresher::Uas));
        assert_eq!(se.param("x"), Some(Some("1")));
        let se = parse_session_expires("30").unwrap();
        assert!(se.below_minimum());
        assert_eq!(se.refresher, None);
        assert!(!parse_session_expires("90").unwrap().below_minimum());
        for bad in [
            "",
            "abc",
            "-5",
            "1800;refresher",
            "1800;refresher=proxy",
            "1800;",
            "1800 x",
            ";refresher=uac",
        ] {
            assert!(parse_session_expires(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_session_expires("99999999999").unwrap_err().kind,
            HeaderErrorKind::OutOfRange
        );
    }

    #[test]
    fn rfc4028_5_min_se() {
        assert_eq!(parse_min_se("90").unwrap().seconds, 90);
        assert!(parse_min_se("60;x").unwrap().below_minimum());
        assert!(parse_min_se("x").is_err());
        assert!(parse_min_se("90;;").is_err());
    }

    #[test]
    fn garbage_never_panics() {
        for g in garbage() {
            let _ = parse_session_expires(&g);
            let _ = parse_session_expires(&format!("90;refresher={g}"));
            let _ = parse_min_se(&g);
            let _ = parse_min_se(&format!("90;{g}"));
        }
    }
}
