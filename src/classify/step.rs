//! The failing step and the golden differences: which finding explains the step that
//! stopped the run, and the `seq.flow.*` findings for what nothing more precise explains.

use super::rules::*;
use super::{Classified, Explained, FlowDifference, Input, StepFailure, NOT_TARGET};
use crate::rule::Severity;
use crate::scenario::{Expect, Step};
use crate::sip::HeaderName;

/// Golden differences as `seq.flow.*` findings.
pub(super) fn golden(input: &Input<'_>, out: &mut Vec<Classified>) {
    for d in input.golden {
        let (rule, expected, actual, evidence) = match d {
            FlowDifference::Missing { golden, near } => (
                &FLOW_MISSING,
                format!("`{golden}` (golden transcript)"),
                "no such message".to_string(),
                near.iter().copied().collect(),
            ),
            FlowDifference::Extra { index } => (
                &FLOW_UNEXPECTED,
                "no message here (golden transcript)".to_string(),
                format!("{} (message #{index})", input.msg(*index).summary()),
                vec![*index],
            ),
            FlowDifference::Reordered { index } => (
                &FLOW_REORDERED,
                "the golden transcript's order".to_string(),
                format!(
                    "{} (message #{index}) out of order",
                    input.msg(*index).summary()
                ),
                vec![*index],
            ),
            FlowDifference::Changed { index, what } => (
                &FLOW_CONTENT,
                format!("message #{index} as in the golden transcript"),
                what.clone(),
                vec![*index],
            ),
        };
        out.push(Classified {
            rule,
            expected,
            actual,
            evidence,
        });
    }
}

/// Which finding explains the step failure `f`; pushes a finding when none of the scans
/// found one.
pub(super) fn explain(
    input: &Input<'_>,
    f: &StepFailure<'_>,
    out: &mut Vec<Classified>,
) -> Explained {
    if f.cause.starts_with("engine.") {
        return Explained::NotTarget;
    }
    let target_checker_error = |k: &usize| {
        let c = &input.checked[*k];
        c.rule.severity == Severity::Error && culprit_is_target(input, c)
    };
    let errors = |out: &Vec<Classified>| -> Option<usize> {
        // The lowest level first: a sequence finding before a spec one.
        let mut v: Vec<usize> = (0..out.len())
            .filter(|&n| out[n].rule.severity == Severity::Error)
            .collect();
        v.sort_by_key(|&n| out[n].rule.level);
        v.first().copied()
    };
    if NOT_TARGET.contains(&f.cause) {
        if let Some(k) = (0..input.checked.len()).find(target_checker_error) {
            return Explained::Checker(k);
        }
        return errors(out).map_or(Explained::NotTarget, Explained::Finding);
    }
    if let Some(a) = f.arrival {
        // A finding whose decisive message is what the step got, then one that shows it.
        if let Some(n) = (0..out.len()).find(|&n| out[n].evidence.first() == Some(&a)) {
            return Explained::Finding(n);
        }
        if let Some(k) = (0..input.checked.len())
            .filter(target_checker_error)
            .find(|&k| input.checked[k].message_index == a || input.checked[k].related.contains(&a))
        {
            return Explained::Checker(k);
        }
        if let Some(n) = (0..out.len()).find(|&n| out[n].evidence.contains(&a)) {
            return Explained::Finding(n);
        }
        if let Some(c) = hold_style(input, f, a).or_else(|| auth(input, f, Some(a))) {
            out.push(c);
            return Explained::Finding(out.len() - 1);
        }
    } else {
        if let Some(c) = auth(input, f, None) {
            out.push(c);
            return Explained::Finding(out.len() - 1);
        }
        // Nothing came: what the scans found in the run explains it, the lowest level first.
        if let Some(k) = (0..input.checked.len()).find(target_checker_error) {
            return Explained::Checker(k);
        }
        if let Some(n) = errors(out) {
            return Explained::Finding(n);
        }
    }
    let rule = match f.cause {
        id if id.starts_with("spec.") || id.starts_with("seq.") => {
            by_id(id).unwrap_or(&FLOW_UNEXPECTED)
        }
        "scenario.expect.timeout" => &FLOW_MISSING,
        "scenario.expect.assertion" | "scenario.auth.challenge" => &FLOW_CONTENT,
        _ => &FLOW_UNEXPECTED,
    };
    out.push(Classified {
        rule,
        expected: f.expected.to_string(),
        actual: f.actual.to_string(),
        evidence: f.arrival.into_iter().collect(),
    });
    Explained::Finding(out.len() - 1)
}

/// Whether the checker's finding `c` is about something the target did.
fn culprit_is_target(input: &Input<'_>, c: &crate::check::Finding) -> bool {
    match c.culprit {
        Some(addr) => input
            .trace
            .messages
            .iter()
            .enumerate()
            .any(|(i, m)| input.by_target_at(i) && m.src == addr),
        None => input.by_target_at(c.message_index),
    }
}

/// The expects of a step (one for `expect`, several for `one_of`, `unordered`).
fn expects(step: Option<&Step>) -> Vec<&Expect> {
    match step {
        Some(Step::Expect(e)) => vec![e],
        Some(Step::OneOf(o)) => o.alternatives.iter().map(|e| &e.value).collect(),
        Some(Step::Unordered(u)) => u.entries.iter().map(|e| &e.value).collect(),
        _ => Vec::new(),
    }
}

/// A re-INVITE of the target that holds the call in another style than the step asserts
/// (RFC 3264 §8.4: sendonly, inactive, or the RFC 2543 c=0.0.0.0).
fn hold_style(input: &Input<'_>, f: &StepFailure<'_>, a: usize) -> Option<Classified> {
    let m = input.msg(a);
    if !input.by_target_at(a)
        || m.method().as_deref() != Some("INVITE")
        || m.to_tag().is_none()
        || f.cause != "scenario.expect.assertion"
        || !expects(f.step).iter().any(|e| e.sdp.is_some())
    {
        return None;
    }
    let sdp = m.sdp()?;
    let k = sdp.media.iter().position(|x| x.media == "audio")?;
    let style = sdp.hold_style(k)?;
    let style = match style {
        crate::sdp::HoldStyle::SendOnly => "a=sendonly",
        crate::sdp::HoldStyle::Inactive => "a=inactive",
        crate::sdp::HoldStyle::ZeroConnection => "c=0.0.0.0 (RFC 2543)",
    };
    Some(Classified {
        rule: &HOLD_STYLE,
        expected: f.expected.to_string(),
        actual: format!(
            "{} (message #{a}) holds with {style}, direction {}",
            m.summary(),
            sdp.effective_direction(k)
        ),
        evidence: vec![a],
    })
}

/// A challenge without the digest algorithm the step needs (RFC 8760 §2.4, RFC 7616 §3.7).
fn auth(input: &Input<'_>, f: &StepFailure<'_>, a: Option<usize>) -> Option<Classified> {
    let about_challenge = f.cause == "scenario.auth.challenge"
        || expects(f.step).iter().any(|e| {
            e.headers.iter().any(|h| {
                let n = h.name.value.to_ascii_lowercase();
                n == "www-authenticate" || n == "proxy-authenticate"
            })
        });
    if !about_challenge {
        return None;
    }
    // The challenge: the arrival, else the target's last 401/407.
    let a = a
        .filter(|&i| matches!(input.msg(i).status(), Some(401 | 407)))
        .or_else(|| {
            input
                .target_responses()
                .filter(|(_, s)| matches!(s, 401 | 407))
                .map(|(i, _)| i)
                .last()
        })?;
    let m = input.msg(a);
    let offered: Vec<String> = [HeaderName::WwwAuthenticate, HeaderName::ProxyAuthenticate]
        .into_iter()
        .flat_map(|h| m.values(h))
        .map(|v| algorithm(&v))
        .collect();
    Some(Classified {
        rule: &AUTH_ALGORITHM,
        expected: f.expected.to_string(),
        actual: format!(
            "{} (message #{a}) offers {}",
            m.summary(),
            if offered.is_empty() {
                "no digest challenge".to_string()
            } else {
                offered.join(", ")
            }
        ),
        evidence: vec![a],
    })
}

/// The algorithm of a challenge (`MD5` when absent, RFC 7616 §3.3).
fn algorithm(challenge: &str) -> String {
    challenge
        .split(',')
        .find_map(|p| {
            let (k, v) = p.split_once('=')?;
            let k = k.trim().rsplit(' ').next()?.trim();
            k.eq_ignore_ascii_case("algorithm")
                .then(|| v.trim().trim_matches('"').to_string())
        })
        .unwrap_or_else(|| "MD5".into())
}
