//! The `--impair` option: `loss=0.1,delay=20ms,jitter=5ms,dup=0.05,reorder=0.02,seed=7`.
//!
//! Grammar (spaces are allowed around items):
//!
//! ```text
//! spec     = [ item *( "," item ) ]
//! item     = key "=" value
//! key      = "loss" / "dup" / "duplicate" / "reorder" / "delay" / "jitter" / "hold"
//!          / "seed" / "drop"
//! prob     = decimal in [0, 1]                      ; loss, dup, reorder
//! duration = decimal ( "ns" / "us" / "ms" / "s" ) / "0"   ; delay, jitter, hold
//! seed     = 1*DIGIT
//! drop     = ( 3DIGIT / method ) [ "*" 1*DIGIT ]   ; "drop=200", "drop=INVITE*2"
//! ```
//!
//! Every key but `drop` may appear once. Errors give the 1-based column and what was expected.

use super::impair::{DropRule, Impairer, Impairment};
use std::time::Duration;

/// A parsed `--impair` value.
#[derive(Clone, Debug, PartialEq)]
pub struct ImpairSpec {
    pub impairment: Impairment,
    /// The seed of the random draws; 0 when not given.
    pub seed: u64,
    /// `drop=` rules, in the order written.
    pub drops: Vec<DropRule>,
}

impl ImpairSpec {
    /// An impairer for this spec. Give each direction its own `stream` (0, 1) so that the two
    /// directions of one endpoint do not draw the same numbers.
    pub fn impairer(&self, stream: u64) -> Impairer {
        let seed = self.seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut imp = Impairer::new(self.impairment, seed);
        for d in &self.drops {
            imp = imp.with_rule(d.clone());
        }
        imp
    }
}

/// An `--impair` value that did not parse: where, and what was expected there.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: expected {expected}")]
pub struct ImpairSpecError {
    /// 1-based column of the offending character.
    pub column: usize,
    pub expected: String,
}

const KEYS: &str = "one of loss, delay, jitter, dup, reorder, hold, seed, drop";

/// Parses an `--impair` value.
pub fn parse_impair(s: &str) -> Result<ImpairSpec, ImpairSpecError> {
    let mut spec = ImpairSpec {
        impairment: Impairment::none(),
        seed: 0,
        drops: Vec::new(),
    };
    let mut seen: Vec<&str> = Vec::new();
    let mut offset = 0;
    for item in s.split(',') {
        let col = offset + 1;
        offset += item.len() + 1;
        let lead = item.len() - item.trim_start().len();
        let item_col = col + lead;
        let item = item.trim();
        if item.is_empty() {
            if s.trim().is_empty() {
                break;
            }
            return Err(err(item_col, "key=value, found nothing"));
        }
        let Some((key, value)) = item.split_once('=') else {
            return Err(err(item_col, format!("`=` after `{item}`")));
        };
        let value_col = item_col + key.len() + 1;
        let key =
            canonical_key(key).ok_or_else(|| err(item_col, format!("{KEYS}; found `{key}`")))?;
        if key != "drop" && seen.contains(&key) {
            return Err(err(item_col, format!("`{key}` only once")));
        }
        seen.push(key);
        apply(&mut spec, key, value, value_col)?;
    }
    Ok(spec)
}

fn canonical_key(k: &str) -> Option<&'static str> {
    Some(match k {
        "loss" => "loss",
        "dup" | "duplicate" => "dup",
        "reorder" => "reorder",
        "delay" => "delay",
        "jitter" => "jitter",
        "hold" => "hold",
        "seed" => "seed",
        "drop" => "drop",
        _ => return None,
    })
}

fn apply(spec: &mut ImpairSpec, key: &str, value: &str, col: usize) -> Result<(), ImpairSpecError> {
    let imp = &mut spec.impairment;
    match key {
        "loss" => imp.loss = probability(value, col)?,
        "dup" => imp.duplicate = probability(value, col)?,
        "reorder" => imp.reorder = probability(value, col)?,
        "delay" => imp.delay = duration(value, col)?,
        "jitter" => imp.jitter = duration(value, col)?,
        "hold" => imp.hold = duration(value, col)?,
        "seed" => {
            spec.seed = value
                .parse()
                .map_err(|_| err(col, format!("a seed (decimal digits), found `{value}`")))?
        }
        _ => spec.drops.push(drop_rule(value, col)?),
    }
    Ok(())
}

fn err(column: usize, expected: impl Into<String>) -> ImpairSpecError {
    ImpairSpecError {
        column,
        expected: expected.into(),
    }
}

fn probability(v: &str, col: usize) -> Result<f64, ImpairSpecError> {
    let ok = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    match v.parse::<f64>() {
        Ok(p) if ok && (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(err(
            col,
            format!("a probability between 0 and 1, found `{v}`"),
        )),
    }
}

/// `20ms`, `1.5s`, `250us`, `10ns`, or `0`.
fn duration(v: &str, col: usize) -> Result<Duration, ImpairSpecError> {
    if v == "0" {
        return Ok(Duration::ZERO);
    }
    let num_len = v
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    let (num, unit) = v.split_at(num_len);
    let unit_ns: u128 = match unit {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        _ => {
            return Err(err(
                col + num_len,
                format!("a unit (ns, us, ms, s) after the number, found `{unit}`"),
            ))
        }
    };
    let (whole, frac) = num.split_once('.').unwrap_or((num, ""));
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if num.is_empty() || whole.is_empty() || !digits_ok(frac) || frac.len() > 9 {
        return Err(err(col, format!("a duration such as 20ms, found `{v}`")));
    }
    let whole: u128 = whole
        .parse()
        .map_err(|_| err(col, format!("a duration such as 20ms, found `{v}`")))?;
    let frac_val: u128 = if frac.is_empty() {
        0
    } else {
        frac.parse().unwrap_or(0)
    };
    let nanos = whole * unit_ns + frac_val * unit_ns / 10u128.pow(frac.len() as u32);
    u64::try_from(nanos)
        .map(Duration::from_nanos)
        .map_err(|_| err(col, format!("a duration below 584 years, found `{v}`")))
}

/// `200`, `INVITE`, `200*2`.
fn drop_rule(v: &str, col: usize) -> Result<DropRule, ImpairSpecError> {
    let (what, count) = match v.split_once('*') {
        Some((w, c)) => {
            let n = c
                .parse::<usize>()
                .map_err(|_| err(col + w.len() + 1, format!("a count after `*`, found `{c}`")))?;
            (w, n)
        }
        None => (v, 1),
    };
    if what.len() == 3 && what.bytes().all(|b| b.is_ascii_digit()) {
        let code: u16 = what.parse().unwrap_or(0);
        if (100..=699).contains(&code) {
            return Ok(DropRule::status(code, count));
        }
    }
    if !what.is_empty() && what.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Ok(DropRule::method(what, count));
    }
    Err(err(
        col,
        format!("a status code (100-699) or a method name, found `{what}`"),
    ))
}
