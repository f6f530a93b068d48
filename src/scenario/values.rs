//! Scalar values of the scenario format and their parsers: durations, probabilities, methods,
//! statuses, matchers, capabilities, drop counts and capture paths.
//!
//! Each parser runs while the YAML is deserialized, so its error is reported at the value's
//! own line and column; the messages say what was expected and what was found.

use super::model::{Capability, CapturePath, DropCount, Matcher};
use super::suggest::nearest;
use crate::sip::headers::tokens::{is_known_method, KNOWN_METHODS, KNOWN_OPTION_TAGS};
use crate::sip::lex::is_token_char;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// A YAML scalar as the YAML core schema resolved it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Scalar {
    Str(String),
    Int(i128),
    Float(f64),
    Bool(bool),
    Null,
}

impl Scalar {
    /// Deserializes any scalar; a list or mapping is an error that names `expected`.
    pub(crate) fn read<'de, D: Deserializer<'de>>(
        d: D,
        expected: &'static str,
    ) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor(expected))
    }

    /// How the value reads in a message: "the number 1.5", "`abc`".
    pub(crate) fn describe(&self) -> String {
        match self {
            Scalar::Str(s) if s.is_empty() => "an empty string".into(),
            Scalar::Str(s) => format!("`{s}`"),
            Scalar::Int(i) => format!("the number {i}"),
            Scalar::Float(f) => format!("the number {f}"),
            Scalar::Bool(b) => format!("`{b}`"),
            Scalar::Null => "nothing (null)".into(),
        }
    }
}

struct ScalarVisitor(&'static str);

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
}

/// What a duration looks like, for messages.
pub(crate) const DURATION_FORM: &str = "a duration with a unit (200ms, 4s, 1.5s, 2m)";

/// Parses `200ms`, `4s`, `1.5s`, `2m`, or `0`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let unit_ns: u128 = match unit {
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "" => {
            return Err(format!(
                "expected {DURATION_FORM}, found `{t}` without a unit"
            ))
        }
        _ => {
            return Err(format!(
                "expected {DURATION_FORM}, found unit `{unit}` in `{t}`"
            ))
        }
    };
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    let bad = || format!("expected {DURATION_FORM}, found `{t}`");
    if int.is_empty() || frac.contains('.') || frac.len() > 9 {
        return Err(bad());
    }
    let int: u128 = int.parse().map_err(|_| bad())?;
    let frac_ns = if frac.is_empty() {
        0
    } else {
        let f: u128 = frac.parse().map_err(|_| bad())?;
        f * unit_ns / 10u128.pow(frac.len() as u32)
    };
    let ns = int
        .checked_mul(unit_ns)
        .and_then(|n| n.checked_add(frac_ns))
        .ok_or_else(bad)?;
    let secs = u64::try_from(ns / 1_000_000_000).map_err(|_| bad())?;
    Ok(Duration::new(secs, (ns % 1_000_000_000) as u32))
}

fn duration_from_scalar(v: Scalar) -> Result<Duration, String> {
    match v {
        Scalar::Str(s) => parse_duration(&s),
        Scalar::Int(0) => Ok(Duration::ZERO),
        Scalar::Int(i) => Err(format!(
            "expected {DURATION_FORM}, found the number {i} without a unit (write {i}s or {i}ms)"
        )),
        other => Err(format!(
            "expected {DURATION_FORM}, found {}",
            other.describe()
        )),
    }
}

/// A `wait`: a duration, or `N*T1` (N from 1 to 1000).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WaitDur(pub super::model::Delay);

impl<'de> Deserialize<'de> for WaitDur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Scalar::read(d, WAIT_FORM)?;
        if let Scalar::Str(s) = &v {
            if let Some(n) = s.trim().strip_suffix("*T1") {
                return match n.trim().parse::<u32>() {
                    Ok(n) if (1..=1000).contains(&n) => {
                        Ok(WaitDur(super::model::Delay::T1Times(n)))
                    }
                    _ => Err(de::Error::custom(format!(
                        "expected {WAIT_FORM}, found `{s}` (N*T1 takes a whole N from 1 to 1000)"
                    ))),
                };
            }
        }
        duration_from_scalar(v)
            .map(|d| WaitDur(super::model::Delay::Fixed(d)))
            .map_err(de::Error::custom)
    }
}

const WAIT_FORM: &str = "a duration such as 150ms or 2s, or a multiple of T1 such as 6*T1";

/// A duration written in the scenario format (used with `Located`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dur(pub Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Scalar::read(d, DURATION_FORM)?;
        duration_from_scalar(v).map(Dur).map_err(de::Error::custom)
    }
}

/// `deserialize_with` for a duration.
pub(crate) fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    Dur::deserialize(d).map(|x| x.0)
}

/// `deserialize_with` for an optional duration that must not be zero (timer values).
pub(crate) fn opt_positive_duration<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Duration>, D::Error> {
    let v = duration(d)?;
    if v.is_zero() {
        return Err(de::Error::custom(
            "expected a duration greater than zero (200ms, 4s, 1.5s, 2m), found 0",
        ));
    }
    Ok(Some(v))
}

/// `deserialize_with` for a probability in [0, 1].
pub(crate) fn probability<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    const FORM: &str = "a probability from 0 to 1 (0.05 is 5 %)";
    let p = match Scalar::read(d, FORM)? {
        Scalar::Int(i) => i as f64,
        Scalar::Float(f) => f,
        other => {
            return Err(de::Error::custom(format!(
                "expected {FORM}, found {}",
                other.describe()
            )))
        }
    };
    if !(0.0..=1.0).contains(&p) {
        return Err(de::Error::custom(format!("expected {FORM}, found {p}")));
    }
    Ok(p)
}

/// Checks a method: a token (RFC 3261 §25.1), and not a misspelling of a well-known one.
/// Any other token is an extension method and allowed.
pub fn check_method(m: &str) -> Result<(), String> {
    if m.is_empty() {
        return Err("expected a method (INVITE, BYE, ...), found an empty string".into());
    }
    if let Some(c) = m
        .chars()
        .find(|&c| !c.is_ascii() || !is_token_char(c as u8))
    {
        return Err(format!(
            "expected a method, which is a token (RFC 3261 §25.1), found `{m}` with `{c}`"
        ));
    }
    if is_known_method(m) {
        return Ok(());
    }
    match nearest(m, KNOWN_METHODS.iter().map(|(k, _)| *k)) {
        Some(k) => Err(format!(
            "unknown method `{m}`; did you mean `{k}`? (methods are case-sensitive, RFC 3261 \
             §7.1; to send a misspelled method on purpose, use `raw`)"
        )),
        None => Ok(()),
    }
}

/// Parses a status code, 100..=699.
pub fn parse_status(s: &str) -> Result<u16, String> {
    let out_of_range = || format!("expected a status code from 100 to 699, found `{s}`");
    if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(out_of_range());
    }
    let n: u16 = s.parse().map_err(|_| out_of_range())?;
    if (100..=699).contains(&n) {
        Ok(n)
    } else {
        Err(out_of_range())
    }
}

fn status_from_int(i: i128) -> Result<u16, String> {
    match u16::try_from(i) {
        Ok(n) if (100..=699).contains(&n) => Ok(n),
        _ => Err(format!("expected a status code from 100 to 699, found {i}")),
    }
}

/// The value of `send`: a method, or a status with an optional reason phrase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SendWhat {
    Method(String),
    Response(u16, Option<String>),
}

const SEND_FORM: &str = "a method (INVITE) or a status (200, \"486 Busy Here\")";

impl<'de> Deserialize<'de> for SendWhat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Scalar::read(d, SEND_FORM)?;
        send_what(v).map_err(de::Error::custom)
    }
}

fn send_what(v: Scalar) -> Result<SendWhat, String> {
    match v {
        Scalar::Int(i) => Ok(SendWhat::Response(status_from_int(i)?, None)),
        Scalar::Str(s) if s.starts_with(|c: char| c.is_ascii_digit()) => {
            let (code, reason) = match s.split_once(' ') {
                Some((c, r)) => (c, Some(r.trim().to_string()).filter(|r| !r.is_empty())),
                None => (s.as_str(), None),
            };
            Ok(SendWhat::Response(parse_status(code)?, reason))
        }
        Scalar::Str(s) => check_method(&s).map(|()| SendWhat::Method(s)),
        other => Err(format!("expected {SEND_FORM}, found {}", other.describe())),
    }
}

const MATCHER_FORM: &str = "a status (200), a class (2xx), a range (180-183) or a method (BYE)";

impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Scalar::read(d, MATCHER_FORM)?;
        matcher(v).map_err(de::Error::custom)
    }
}

fn matcher(v: Scalar) -> Result<Matcher, String> {
    let s = match v {
        Scalar::Int(i) => return status_from_int(i).map(Matcher::Status),
        Scalar::Str(s) => s,
        other => {
            return Err(format!(
                "expected {MATCHER_FORM}, found {}",
                other.describe()
            ))
        }
    };
    if !s.starts_with(|c: char| c.is_ascii_digit()) {
        return check_method(&s).map(|()| Matcher::Method(s));
    }
    let b = s.as_bytes();
    if b.len() == 3 && b[1..].eq_ignore_ascii_case(b"xx") {
        return match b[0] {
            c @ b'1'..=b'6' => Ok(Matcher::Class(c - b'0')),
            _ => Err(format!(
                "expected a status class from 1xx to 6xx, found `{s}`"
            )),
        };
    }
    if let Some((lo, hi)) = s.split_once('-') {
        let (lo, hi) = (parse_status(lo.trim())?, parse_status(hi.trim())?);
        if lo > hi {
            return Err(format!(
                "expected a range low-high with low <= high, found `{s}`"
            ));
        }
        return Ok(Matcher::Range(lo, hi));
    }
    if let Some((code, _)) = s.split_once(' ') {
        return Err(format!(
            "expected {MATCHER_FORM}, found `{s}`: write `{code}` (reason phrases are not \
             compared, RFC 3261 §21)"
        ));
    }
    parse_status(&s).map(Matcher::Status)
}

impl<'de> Deserialize<'de> for Capability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let form = "a method (REFER), an option tag (100rel) or an event package (event:refer)";
        match Scalar::read(d, form)? {
            Scalar::Str(s) => capability(&s).map_err(de::Error::custom),
            other => Err(de::Error::custom(format!(
                "expected {form}, found {}",
                other.describe()
            ))),
        }
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

/// `event:<package>`, an upper-case method, or an option tag.
fn capability(s: &str) -> Result<Capability, String> {
    if let Some(pkg) = s.strip_prefix("event:") {
        return if is_token(pkg) {
            Ok(Capability::Event(pkg.to_string()))
        } else {
            Err(format!(
                "expected an event package after `event:` (a token), found `{s}`"
            ))
        };
    }
    let upper =
        s.bytes().any(|b| b.is_ascii_uppercase()) && !s.bytes().any(|b| b.is_ascii_lowercase());
    if upper || is_known_method(s) {
        return check_method(s).map(|()| Capability::Method(s.to_string()));
    }
    if !is_token(s) {
        return Err(format!(
            "expected an option tag (a token, RFC 3261 §25.1), found `{s}`"
        ));
    }
    let known = KNOWN_OPTION_TAGS.iter().map(|(t, _)| *t);
    if let Some(t) = known.clone().find(|t| t.eq_ignore_ascii_case(s)) {
        return Ok(Capability::OptionTag(t.to_string()));
    }
    match nearest(s, known) {
        Some(t) => Err(format!("unknown option tag `{s}`; did you mean `{t}`?")),
        None => Ok(Capability::OptionTag(s.to_string())),
    }
}

impl<'de> Deserialize<'de> for DropCount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let form = "`first`, `all` or a number of messages (1, 2, ...)";
        match Scalar::read(d, form)? {
            Scalar::Str(s) if s == "first" => Ok(DropCount::First(1)),
            Scalar::Str(s) if s == "all" => Ok(DropCount::All),
            Scalar::Int(i) if i >= 1 && i <= i128::from(u32::MAX) => Ok(DropCount::First(i as u32)),
            other => Err(de::Error::custom(format!(
                "expected {form}, found {}",
                other.describe()
            ))),
        }
    }
}

/// The fixed capture paths, as written.
pub const CAPTURE_PATHS: &[(&str, CapturePath)] = &[
    ("from.tag", CapturePath::FromTag),
    ("to.tag", CapturePath::ToTag),
    ("from.uri", CapturePath::FromUri),
    ("to.uri", CapturePath::ToUri),
    ("call-id", CapturePath::CallId),
    ("cseq", CapturePath::CSeq),
    ("method", CapturePath::Method),
    ("status", CapturePath::Status),
    ("reason", CapturePath::Reason),
    ("request-uri", CapturePath::RequestUri),
    ("sdp.direction", CapturePath::SdpDirection),
    ("sdp.connection", CapturePath::SdpConnection),
    ("sdp.port", CapturePath::SdpPort),
    ("body", CapturePath::Body),
];

impl CapturePath {
    /// Parses one of [`CAPTURE_PATHS`], `header.NAME` or `header.NAME.PARAM` (NAME and
    /// PARAM are tokens without dots).
    pub fn parse(s: &str) -> Result<CapturePath, String> {
        if let Some((_, p)) = CAPTURE_PATHS.iter().find(|(k, _)| *k == s) {
            return Ok(p.clone());
        }
        if let Some(rest) = s.strip_prefix("header.") {
            let mut it = rest.split('.');
            let name = it.next().unwrap_or("");
            let param = it.next();
            let ok = |t: &str| is_token(t) && !t.contains('.');
            return match (ok(name), param, it.next()) {
                (true, None, _) => Ok(CapturePath::Header(name.to_string())),
                (true, Some(p), None) if ok(p) => Ok(CapturePath::HeaderParam {
                    header: name.to_string(),
                    param: p.to_string(),
                }),
                _ => Err(format!(
                    "expected header.NAME or header.NAME.PARAM (tokens), found `{s}`"
                )),
            };
        }
        let hint = match nearest(s, CAPTURE_PATHS.iter().map(|(k, _)| *k)) {
            Some(k) => format!("; did you mean `{k}`?"),
            None => String::new(),
        };
        let all: Vec<&str> = CAPTURE_PATHS.iter().map(|(k, _)| *k).collect();
        Err(format!(
            "unknown capture path `{s}`, expected one of {}, header.NAME, header.NAME.PARAM{hint}",
            all.join(", ")
        ))
    }
}

impl fmt::Display for CapturePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CapturePath::Header(h) => write!(f, "header.{h}"),
            CapturePath::HeaderParam { header, param } => write!(f, "header.{header}.{param}"),
            p => {
                let (k, _) = CAPTURE_PATHS.iter().find(|(_, q)| q == p).expect("listed");
                f.write_str(k)
            }
        }
    }
}

impl<'de> Deserialize<'de> for CapturePath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CapturePath::parse(&s).map_err(de::Error::custom)
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matcher::Status(s) => write!(f, "{s}"),
            Matcher::Class(c) => write!(f, "{c}xx"),
            Matcher::Range(lo, hi) => write!(f, "{lo}-{hi}"),
            Matcher::Method(m) => f.write_str(m),
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capability::Method(m) | Capability::OptionTag(m) => f.write_str(m),
            Capability::Event(e) => write!(f, "event:{e}"),
        }
    }
}

#[cfg(test)]
#[path = "values_tests.rs"]
mod tests;
