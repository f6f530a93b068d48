//! CSeq (RFC 3261 §20.16, §8.1.1.5).

use super::common::{excerpt, non_empty, parse_number, Cursor};
use super::HeaderError;
use crate::sip::lex;

/// The largest CSeq number allowed: it MUST be less than 2**31 (RFC 3261 §8.1.1.5).
pub const CSEQ_MAX: u32 = (1 << 31) - 1;

/// `CSeq: 1*DIGIT LWS Method`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CSeq {
    pub number: u32,
    /// The method as written (methods are case-sensitive, RFC 3261 §7.1).
    pub method: String,
}

/// Parses a CSeq value (RFC 3261 §20.16): `1*DIGIT LWS Method`. Leading zeros are allowed
/// (RFC 4475 §3.1.1.1 wsinv has `0009`); a number of 2**31 or more is `OutOfRange`.
pub fn parse_cseq(s: &str) -> Result<CSeq, HeaderError> {
    non_empty(s, "CSeq")?;
    let mut c = Cursor::new(s);
    c.skip_ws();
    let digits = c.take_while(|b| !lex::is_lws(b));
    // RFC 3261 §8.1.1.5: the sequence number MUST be less than 2**31.
    let number = parse_number(s, digits, u64::from(CSEQ_MAX), "CSeq number")?;
    // RFC 3261 §25.1: CSeq = "CSeq" HCOLON 1*DIGIT LWS Method
    if c.skip_ws() == 0 || c.at_end() {
        return Err(c.expected("white space and a method after the CSeq number"));
    }
    let method = c.token();
    if method.is_empty() {
        return Err(c.expected("a method (token)"));
    }
    c.skip_ws();
    if !c.at_end() {
        return Err(HeaderError::syntax(
            c.pos(),
            format!("unexpected `{}` after the CSeq method", excerpt(c.rest())),
        ));
    }
    Ok(CSeq {
        number: u32::try_from(number).unwrap_or(CSEQ_MAX),
        method: method.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::headers::test_support::garbage;
    use crate::sip::headers::HeaderErrorKind;

    #[test]
    fn rfc3261_20_16_basic() {
        assert_eq!(
            parse_cseq("4711 INVITE"),
            Ok(CSeq {
                number: 4711,
                method: "INVITE".into()
            })
        );
        // Extension methods are tokens (RFC 3261 §25.1 extension-method).
        assert_eq!(parse_cseq("1 NEWMETHOD").unwrap().method, "NEWMETHOD");
    }

    #[test]
    fn rfc4475_wsinv_leading_zeros_and_spaces() {
        // RFC 4475 §3.1.1.1: `CSeq: 0009\r\n  INVITE`, unfolded.
        let c = parse_cseq("0009 INVITE").unwrap();
        assert_eq!(c.number, 9);
        assert_eq!(parse_cseq("  0009 \t INVITE  ").unwrap().method, "INVITE");
    }

    #[test]
    fn rfc3261_8_1_1_5_edge_numbers() {
        assert_eq!(parse_cseq("2147483647 ACK").unwrap().number, 2_147_483_647);
        let e = parse_cseq("2147483648 ACK").unwrap_err();
        assert_eq!(e.kind, HeaderErrorKind::OutOfRange);
        assert_eq!(parse_cseq("0 OPTIONS").unwrap().number, 0);
    }

    #[test]
    fn rfc4475_scalar02_scalarlg_overlarge() {
        // RFC 4475 §3.1.2.4 scalar02 and §3.1.2.5 scalarlg.
        for v in [
            "36893488147419103232 REGISTER",
            "9292394834772304023312 OPTIONS",
        ] {
            assert_eq!(parse_cseq(v).unwrap_err().kind, HeaderErrorKind::OutOfRange);
        }
    }

    #[test]
    fn rfc3261_20_16_malformed() {
        for bad in [
            "INVITE",
            "1",
            "1 ",
            "-1 INVITE",
            "1INVITE",
            "1 INVITE extra",
            "1 INV/ITE",
            "1.5 INVITE",
            "0x10 INVITE",
        ] {
            let e = parse_cseq(bad).unwrap_err();
            assert_eq!(e.kind, HeaderErrorKind::Syntax, "{bad}");
        }
        assert_eq!(parse_cseq(" ").unwrap_err().kind, HeaderErrorKind::Empty);
    }

    #[test]
    fn garbage_never_panics() {
        for g in garbage() {
            let _ = parse_cseq(&g);
            let _ = parse_cseq(&format!("1 {g}"));
            let _ = parse_cseq(&format!("{g} INVITE"));
        }
    }
}
