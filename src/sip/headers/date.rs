//! Date (RFC 3261 §20.17): an RFC 1123 date that MUST be in GMT.

use super::common::{excerpt, non_empty, Cursor};
use super::{HeaderError, HeaderErrorKind};
use crate::sip::lex;

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A SIP-date: `wkday "," SP date1 SP time SP "GMT"` (RFC 3261 §20.17, §25.1; RFC 1123).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SipDate {
    /// 0 = Monday .. 6 = Sunday, as written.
    pub weekday: u8,
    pub day: u8,
    /// 1 = January .. 12 = December.
    pub month: u8,
    pub year: u16,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl SipDate {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub fn unix_time(&self) -> i64 {
        days_from_civil(i64::from(self.year), self.month, self.day) * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }
    /// True when the written weekday is the real weekday of the date.
    pub fn weekday_is_consistent(&self) -> bool {
        // 1970-01-01 was a Thursday (index 3).
        let days = days_from_civil(i64::from(self.year), self.month, self.day);
        (days + 3).rem_euclid(7) == i64::from(self.weekday)
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (eras of 400 years).
fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let (m, d) = (i64::from(month), i64::from(day));
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Parses a Date value (RFC 3261 §20.17): `Sat, 13 Nov 2010 23:29:00 GMT`. A zone other than
/// GMT (RFC 4475 §3.1.2.12 baddate `EST`) is `NotGmt`; impossible fields are `OutOfRange`.
pub fn parse_date(s: &str) -> Result<SipDate, HeaderError> {
    non_empty(s, "Date")?;
    let mut c = Cursor::new(s);
    c.skip_ws();
    // RFC 3261 §25.1: rfc1123-date = wkday "," SP date1 SP time SP "GMT"
    let weekday = name_index(&mut c, &WEEKDAYS, "a weekday (Mon..Sun)")?;
    if !c.eat(b',') {
        return Err(c.expected("`,` after the weekday"));
    }
    let day = date_field(&mut c, 2, "a 2-digit day")?;
    spaces(&mut c)?;
    let month = name_index(&mut c, &MONTHS, "a month (Jan..Dec)")? + 1;
    let year = date_field(&mut c, 4, "a 4-digit year")?;
    let hour = date_field(&mut c, 2, "2-digit hours")?;
    let minute = time_part(&mut c, "2-digit minutes")?;
    let second = time_part(&mut c, "2-digit seconds")?;
    spaces(&mut c)?;
    let zone_at = c.pos();
    let zone = c.take_while(|b| !lex::is_lws(b));
    c.skip_ws();
    if !c.at_end() {
        return Err(c.expected("end of the date"));
    }
    // RFC 3261 §20.17: "SIP only supports recent dates, and the time zone MUST be GMT"
    if !zone.eq_ignore_ascii_case("GMT") {
        let what = if zone.is_empty() {
            "missing time zone, expected GMT"
        } else {
            "time zone is not GMT"
        };
        return Err(HeaderError::new(HeaderErrorKind::NotGmt, zone_at, what));
    }
    let d = SipDate {
        weekday,
        day: u8::try_from(day).unwrap_or(0),
        month,
        year,
        hour: u8::try_from(hour).unwrap_or(u8::MAX),
        minute: u8::try_from(minute).unwrap_or(u8::MAX),
        second: u8::try_from(second).unwrap_or(u8::MAX),
    };
    check_date_ranges(&d)?;
    Ok(d)
}

fn check_date_ranges(d: &SipDate) -> Result<(), HeaderError> {
    let bad = |what: &str| {
        Err(HeaderError::new(
            HeaderErrorKind::OutOfRange,
            0,
            what.to_string(),
        ))
    };
    if d.day == 0 || d.day > days_in_month(d.year, d.month) {
        return bad("day does not exist in that month");
    }
    // RFC 1123 §5.2.14 / RFC 822 §5: hours 00-23, minutes 00-59, seconds 00-60 (leap second).
    if d.hour > 23 || d.minute > 59 || d.second > 60 {
        return bad("time of day out of range");
    }
    Ok(())
}

/// One of `names` (case-insensitive, RFC 5234 §2.3) at the cursor; its index.
fn name_index(c: &mut Cursor<'_>, names: &[&str], what: &str) -> Result<u8, HeaderError> {
    let at = c.pos();
    let word = c.take_while(|b| b.is_ascii_alphabetic());
    match names.iter().position(|n| n.eq_ignore_ascii_case(word)) {
        Some(i) => Ok(u8::try_from(i).unwrap_or(0)),
        None => Err(HeaderError::syntax(
            at,
            format!("expected {what}, found `{}`", excerpt(word)),
        )),
    }
}

/// At least one space, then exactly `n` digits.
fn date_field(c: &mut Cursor<'_>, n: usize, what: &str) -> Result<u16, HeaderError> {
    spaces(c)?;
    fixed_digits(c, n, what)
}

/// `:` then exactly two digits.
fn time_part(c: &mut Cursor<'_>, what: &str) -> Result<u16, HeaderError> {
    if !c.eat(b':') {
        return Err(c.expected("`:` in the time"));
    }
    fixed_digits(c, 2, what)
}

fn fixed_digits(c: &mut Cursor<'_>, n: usize, what: &str) -> Result<u16, HeaderError> {
    let at = c.pos();
    let d = c.take_while(|b| b.is_ascii_digit());
    if d.len() != n {
        return Err(HeaderError::syntax(at, format!("expected {what}")));
    }
    Ok(d.parse().unwrap_or(0))
}

fn spaces(c: &mut Cursor<'_>) -> Result<(), HeaderError> {
    if c.skip_ws() == 0 {
        return Err(c.expected("a space"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::headers::test_support::garbage;

    #[test]
    fn rfc3261_20_17_date() {
        let d = parse_date("Sat, 13 Nov 2010 23:29:00 GMT").unwrap();
        assert_eq!((d.day, d.month, d.year), (13, 11, 2010));
        assert_eq!((d.hour, d.minute, d.second), (23, 29, 0));
        assert!(d.weekday_is_consistent());
        assert_eq!(d.unix_time(), 1_289_690_940);
        let d = parse_date("Thu, 21 Feb 2002 13:02:03 GMT").unwrap();
        assert!(d.weekday_is_consistent());
        assert_eq!(d.unix_time(), 1_014_296_523);
        // Legal but inconsistent weekday: visible, not an error.
        assert!(!parse_date("Mon, 21 Feb 2002 13:02:03 GMT")
            .unwrap()
            .weekday_is_consistent());
        assert!(parse_date("Tue, 29 Feb 2000 00:00:60 GMT").is_ok());
    }

    #[test]
    fn rfc4475_baddate_not_gmt() {
        // RFC 4475 §3.1.2.12.
        let e = parse_date("Fri, 01 Jan 2010 16:00:00 EST").unwrap_err();
        assert_eq!((e.kind, e.offset), (HeaderErrorKind::NotGmt, 26));
        for z in ["UTC", "+0000", "gmt+1", ""] {
            let v = format!("Fri, 01 Jan 2010 16:00:00 {z}");
            let k = parse_date(&v).unwrap_err().kind;
            assert!(
                matches!(k, HeaderErrorKind::NotGmt | HeaderErrorKind::Syntax),
                "{v}"
            );
        }
    }

    #[test]
    fn rfc3261_25_1_date_malformed() {
        for bad in [
            "",
            "13 Nov 2010 23:29:00 GMT",
            "Sat 13 Nov 2010 23:29:00 GMT",
            "Sat, 3 Nov 2010 23:29:00 GMT",
            "Sat, 13 November 2010 23:29:00 GMT",
            "Sat, 13 Nov 10 23:29:00 GMT",
            "Sat, 13 Nov 2010 23:29 GMT",
            "Sat, 13 Nov 2010 23-29-00 GMT",
            "Sat, 13 Nov 2010 23:29:00 GMT extra",
            "Xyz, 13 Nov 2010 23:29:00 GMT",
        ] {
            assert_ne!(
                parse_date(bad).unwrap_err().kind,
                HeaderErrorKind::NotGmt,
                "{bad}"
            );
        }
        for bad in [
            "Sat, 31 Apr 2010 23:29:00 GMT",
            "Sat, 29 Feb 2100 23:29:00 GMT",
            "Sat, 00 Jan 2010 23:29:00 GMT",
            "Sat, 13 Nov 2010 24:00:00 GMT",
            "Sat, 13 Nov 2010 23:60:00 GMT",
            "Sat, 13 Nov 2010 23:00:61 GMT",
        ] {
            assert_eq!(
                parse_date(bad).unwrap_err().kind,
                HeaderErrorKind::OutOfRange,
                "{bad}"
            );
        }
    }

    #[test]
    fn garbage_never_panics() {
        for g in garbage() {
            let _ = parse_date(&g);
            let _ = parse_date(&format!("Sat, 13 Nov 2010 23:29:00 {g}"));
            let _ = parse_date(&format!("Sat, {g} Nov 2010 23:29:00 GMT"));
        }
    }
}
