//! Single-number header fields: Max-Forwards, Content-Length, Expires, Min-Expires, RSeq, RAck,
//! Retry-After and Timestamp (RFC 3261 §20, RFC 3262 §7). Call-ID lives in [`super::call_id`]
//! and is re-exported here.

pub use super::call_id::{is_word_char, parse_call_id, CallId};
use super::common::{
    comment_len, excerpt, find_param, non_empty, offset_in, owned, params_tail, parse_number,
    Cursor, Params,
};
use super::cseq::CSEQ_MAX;
use super::{HeaderError, HeaderErrorKind};
use crate::sip::lex;

/// Largest delta-seconds value siptest accepts: 2**32-1 (RFC 3261 §20.19).
pub const DELTA_SECONDS_MAX: u32 = u32::MAX;

/// Largest RSeq value: 2**31-1 (RFC 3262 §3).
pub const RSEQ_MAX: u32 = (1 << 31) - 1;

/// Max-Forwards (RFC 3261 §20.22): `1*DIGIT`, 0 to 255. Leading zeros are fine (RFC 4475
/// §3.1.1.1 wsinv `0068`); 300 (RFC 4475 §3.1.2.4 scalar02) is `OutOfRange`.
pub fn parse_max_forwards(s: &str) -> Result<u8, HeaderError> {
    // RFC 3261 §20.22: "an integer in the range 0-255"
    let n = parse_number(s, s, 255, "Max-Forwards")?;
    Ok(u8::try_from(n).unwrap_or(u8::MAX))
}

/// Content-Length (RFC 3261 §20.14): a non-negative decimal number of octets. A sign
/// (RFC 4475 §3.1.2.3 ncl `-999`) is a `Syntax` error.
pub fn parse_content_length(s: &str) -> Result<u64, HeaderError> {
    // RFC 3261 §25.1: Content-Length = ( "Content-Length" / "l" ) HCOLON 1*DIGIT
    parse_number(s, s, u64::MAX, "Content-Length")
}

/// Expires (RFC 3261 §20.19): delta-seconds, 0 to 2**32-1; larger values (RFC 4475 §3.1.2.4
/// scalar02 `10000000000000000000000`) are `OutOfRange`.
pub fn parse_expires(s: &str) -> Result<u32, HeaderError> {
    delta_seconds(s, s, "Expires")
}

/// Min-Expires (RFC 3261 §20.23): delta-seconds, as Expires.
pub fn parse_min_expires(s: &str) -> Result<u32, HeaderError> {
    delta_seconds(s, s, "Min-Expires")
}

/// delta-seconds = 1*DIGIT (RFC 3261 §25.1), bounded by 2**32-1 (RFC 3261 §20.19). `part` must
/// be a sub-slice of `whole`.
pub(crate) fn delta_seconds(whole: &str, part: &str, what: &str) -> Result<u32, HeaderError> {
    let n = parse_number(whole, part, u64::from(DELTA_SECONDS_MAX), what)?;
    Ok(u32::try_from(n).unwrap_or(DELTA_SECONDS_MAX))
}

/// RSeq (RFC 3262 §7.1): `1*DIGIT`, 1 to 2**31-1 (RFC 3262 §3).
pub fn parse_rseq(s: &str) -> Result<u32, HeaderError> {
    rseq_number(s, s)
}

fn rseq_number(whole: &str, part: &str) -> Result<u32, HeaderError> {
    // RFC 3262 §3: "The value MUST be between 1 and 2**31 - 1."
    let n = parse_number(whole, part, u64::from(RSEQ_MAX), "RSeq")?;
    if n == 0 {
        return Err(HeaderError::new(
            HeaderErrorKind::OutOfRange,
            offset_in(whole, lex::trim(part)),
            "RSeq 0 is below the minimum of 1",
        ));
    }
    Ok(u32::try_from(n).unwrap_or(RSEQ_MAX))
}

/// `RAck: response-num LWS CSeq-num LWS Method` (RFC 3262 §7.2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RAck {
    pub response_num: u32,
    pub cseq_num: u32,
    pub method: String,
}

/// Parses RAck (RFC 3262 §7.2). The response number follows RSeq's range (RFC 3262 §3), the
/// CSeq number CSeq's (RFC 3261 §8.1.1.5).
pub fn parse_rack(s: &str) -> Result<RAck, HeaderError> {
    non_empty(s, "RAck")?;
    let mut c = Cursor::new(s);
    c.skip_ws();
    let resp = c.take_while(|b| !lex::is_lws(b));
    let response_num = rseq_number(s, resp)?;
    // RFC 3262 §7.2: RAck = "RAck" HCOLON response-num LWS CSeq-num LWS Method
    if c.skip_ws() == 0 || c.at_end() {
        return Err(c.expected("white space and the CSeq number"));
    }
    let cseq = c.take_while(|b| !lex::is_lws(b));
    let cseq_num = parse_number(s, cseq, u64::from(CSEQ_MAX), "RAck CSeq number")?;
    if c.skip_ws() == 0 || c.at_end() {
        return Err(c.expected("white space and a method"));
    }
    let method = c.token();
    if method.is_empty() {
        return Err(c.expected("a method (token)"));
    }
    c.skip_ws();
    if !c.at_end() {
        return Err(c.expected("end of the RAck value"));
    }
    Ok(RAck {
        response_num,
        cseq_num: u32::try_from(cseq_num).unwrap_or(CSEQ_MAX),
        method: method.to_string(),
    })
}

/// `Retry-After: delta-seconds [ comment ] *( SEMI retry-param )` (RFC 3261 §20.33).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryAfter {
    pub seconds: u32,
    /// The comment with its parentheses, as written.
    pub comment: Option<String>,
    /// `duration` parameter, if present.
    pub duration: Option<u32>,
    /// All parameters, `duration` included, values as written.
    pub params: Params,
}

/// Parses Retry-After (RFC 3261 §20.33). An overlarge value (RFC 4475 §3.1.2.5 scalarlg) is
/// `OutOfRange`.
pub fn parse_retry_after(s: &str) -> Result<RetryAfter, HeaderError> {
    non_empty(s, "Retry-After")?;
    let mut c = Cursor::new(s);
    c.skip_ws();
    let digits = c.take_while(|b| !lex::is_lws(b) && b != b'(' && b != b';');
    let seconds = delta_seconds(s, digits, "Retry-After")?;
    c.skip_ws();
    let mut comment = None;
    if c.peek() == Some(b'(') {
        // RFC 3261 §25.1: comment = LPAREN *(ctext / quoted-pair / comment) RPAREN
        let n = comment_len(c.rest()).ok_or_else(|| c.expected("a closed comment `(...)`"))?;
        comment = Some(c.rest()[..n].to_string());
        c.advance(n);
        c.skip_ws();
    }
    let params = params_tail(s, &mut c)?;
    let mut duration = None;
    if let Some(p) = params
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case("duration"))
    {
        // RFC 3261 §20.33: retry-param = ("duration" EQUAL delta-seconds) / generic-param
        let v = p.value.unwrap_or("");
        duration = Some(delta_seconds(s, v, "duration")?);
    }
    Ok(RetryAfter {
        seconds,
        comment,
        duration,
        params: owned(&params),
    })
}

impl RetryAfter {
    /// A parameter by name (case-insensitive): `Some(None)` for a flag.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }
}

/// `Timestamp: 1*(DIGIT) [ "." *(DIGIT) ] [ LWS delay ]` (RFC 3261 §20.38), kept as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timestamp {
    pub time: String,
    pub delay: Option<String>,
}

impl Timestamp {
    /// The time value as a float, when it has one (`1.` and `.5` style values parse).
    pub fn time_f64(&self) -> Option<f64> {
        self.time.parse().ok()
    }
    /// The delay as a float, when present and not just `.`.
    pub fn delay_f64(&self) -> Option<f64> {
        self.delay.as_deref().and_then(|d| d.parse().ok())
    }
}

/// Parses a Timestamp value (RFC 3261 §20.38).
pub fn parse_timestamp(s: &str) -> Result<Timestamp, HeaderError> {
    non_empty(s, "Timestamp")?;
    let mut c = Cursor::new(s);
    c.skip_ws();
    let at = c.pos();
    let time = c.take_while(|b| b.is_ascii_digit() || b == b'.');
    // RFC 3261 §25.1: Timestamp = "Timestamp" HCOLON 1*(DIGIT) [ "." *(DIGIT) ] [ LWS delay ]
    if !is_decimal(time, true) {
        return Err(HeaderError::syntax(
            at,
            format!(
                "expected a timestamp like 54.23, found `{}`",
                excerpt(c.rest())
            ),
        ));
    }
    if c.at_end() {
        return Ok(Timestamp {
            time: time.to_string(),
            delay: None,
        });
    }
    if c.skip_ws() == 0 {
        return Err(c.expected("white space before the delay"));
    }
    let delay_at = c.pos();
    let delay = c.take_while(|b| b.is_ascii_digit() || b == b'.');
    c.skip_ws();
    // RFC 3261 §25.1: delay = *(DIGIT) [ "." *(DIGIT) ]
    if !c.at_end() || !is_decimal(delay, false) {
        return Err(HeaderError::syntax(
            delay_at,
            format!(
                "expected a delay like 0.5, found `{}`",
                excerpt(&s[delay_at..])
            ),
        ));
    }
    Ok(Timestamp {
        time: time.to_string(),
        delay: (!delay.is_empty()).then(|| delay.to_string()),
    })
}

/// Digits with at most one `.`; `need_int` demands at least one digit before it.
fn is_decimal(t: &str, need_int: bool) -> bool {
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    (!need_int || !int.is_empty())
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::headers::test_support::garbage;

    fn kind<T: std::fmt::Debug>(r: Result<T, HeaderError>) -> HeaderErrorKind {
        r.unwrap_err().kind
    }

    #[test]
    fn rfc3261_20_22_max_forwards() {
        assert_eq!(parse_max_forwards("70"), Ok(70));
        assert_eq!(parse_max_forwards("0068"), Ok(68)); // RFC 4475 §3.1.1.1 wsinv
        assert_eq!(parse_max_forwards("0"), Ok(0));
        assert_eq!(parse_max_forwards("255"), Ok(255));
        assert_eq!(kind(parse_max_forwards("256")), HeaderErrorKind::OutOfRange);
        assert_eq!(kind(parse_max_forwards("300")), HeaderErrorKind::OutOfRange); // scalar02
        assert_eq!(kind(parse_max_forwards("7 0")), HeaderErrorKind::Syntax);
        assert_eq!(kind(parse_max_forwards("")), HeaderErrorKind::Empty);
    }

    #[test]
    fn rfc3261_20_14_content_length() {
        assert_eq!(parse_content_length("0"), Ok(0));
        assert_eq!(parse_content_length(" 150 "), Ok(150));
        assert_eq!(kind(parse_content_length("-999")), HeaderErrorKind::Syntax); // RFC 4475 ncl
        assert_eq!(kind(parse_content_length("+1")), HeaderErrorKind::Syntax);
        assert_eq!(
            kind(parse_content_length("99999999999999999999999")),
            HeaderErrorKind::OutOfRange
        );
    }

    #[test]
    fn rfc3261_20_19_expires() {
        assert_eq!(parse_expires("3600"), Ok(3600));
        assert_eq!(parse_expires("4294967295"), Ok(u32::MAX));
        assert_eq!(
            kind(parse_expires("4294967296")),
            HeaderErrorKind::OutOfRange
        );
        // RFC 4475 §3.1.2.4 scalar02.
        assert_eq!(
            kind(parse_expires("10000000000000000000000")),
            HeaderErrorKind::OutOfRange
        );
        assert_eq!(
            kind(parse_expires("Thu, 01 Dec 1994 16:00:00 GMT")),
            HeaderErrorKind::Syntax
        );
        assert_eq!(parse_min_expires("60"), Ok(60));
    }

    #[test]
    fn rfc3262_rseq_and_rack() {
        assert_eq!(parse_rseq("988789"), Ok(988789));
        assert_eq!(parse_rseq("2147483647"), Ok(RSEQ_MAX));
        assert_eq!(kind(parse_rseq("2147483648")), HeaderErrorKind::OutOfRange);
        assert_eq!(kind(parse_rseq("0")), HeaderErrorKind::OutOfRange);
        let r = parse_rack("776656 1 INVITE").unwrap();
        assert_eq!(
            (r.response_num, r.cseq_num, r.method.as_str()),
            (776656, 1, "INVITE")
        );
        for bad in [
            "776656 1",
            "776656",
            "x 1 INVITE",
            "1 x INVITE",
            "1 1 INVITE x",
            "11 INVITE",
        ] {
            assert!(parse_rack(bad).is_err(), "{bad}");
        }
        assert_eq!(
            kind(parse_rack("1 2147483648 INVITE")),
            HeaderErrorKind::OutOfRange
        );
    }

    #[test]
    fn rfc3261_20_33_retry_after() {
        let r = parse_retry_after("18000;duration=3600").unwrap();
        assert_eq!((r.seconds, r.duration), (18000, Some(3600)));
        let r = parse_retry_after("120 (I'm in a meeting) ;duration=60;x").unwrap();
        assert_eq!(r.comment.as_deref(), Some("(I'm in a meeting)"));
        assert_eq!(r.param("x"), Some(None));
        let r = parse_retry_after("5(a (nested) one)").unwrap();
        assert_eq!(r.comment.as_deref(), Some("(a (nested) one)"));
        // RFC 4475 §3.1.2.5 scalarlg.
        assert_eq!(
            kind(parse_retry_after("949302838503028349304023988")),
            HeaderErrorKind::OutOfRange
        );
        for bad in ["(x)", "5 (open", "5 x", "5;duration", "5;duration=x", "5;"] {
            assert!(parse_retry_after(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rfc3261_20_38_timestamp() {
        let t = parse_timestamp("54").unwrap();
        assert_eq!((t.time.as_str(), t.delay), ("54", None));
        let t = parse_timestamp("54.23 0.5").unwrap();
        assert_eq!(t.delay_f64(), Some(0.5));
        assert_eq!(t.time_f64(), Some(54.23));
        assert!(parse_timestamp("1.").is_ok());
        for bad in [".5", "a", "1.2.3", "1 2 3", "1 x", "-1"] {
            assert!(parse_timestamp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        for g in garbage() {
            let _ = parse_max_forwards(&g);
            let _ = parse_content_length(&g);
            let _ = parse_expires(&g);
            let _ = parse_min_expires(&g);
            let _ = parse_rseq(&g);
            let _ = parse_rack(&g);
            let _ = parse_rack(&format!("1 1 {g}"));
            let _ = parse_retry_after(&g);
            let _ = parse_retry_after(&format!("1 {g}"));
            let _ = parse_timestamp(&g);
        }
    }
}
