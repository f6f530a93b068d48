//! Spec-level findings: a refusal of what the target itself advertises in this run (RFC 3261
//! §20.5 Allow, §20.37 Supported, §20.1 Accept, RFC 6665 §8.2.2 Allow-Events, its own SDP),
//! and a session timer left out although Supported lists timer (RFC 4028 §9). A refusal of
//! what the scenario needs and the target does not advertise is `spec.needs.refused`
//! (a warning: the run is inconclusive, the target lacks the capability and says so).
//!
//! The 488s to offers without SDP are sequence-level (late offer, offerless re-INVITE) and
//! are named here too, since they come from the same scan of refusals.

use super::rules::*;
use super::view::{body_type, event_package, method};
use super::{Classified, Input};
use crate::scenario::Capability;
use crate::sip::HeaderName;

pub(super) fn refusals(input: &Input<'_>, out: &mut Vec<Classified>) {
    for (i, status) in input.target_responses() {
        if !matches!(status, 405 | 501 | 420 | 489 | 415 | 488 | 606) {
            continue;
        }
        let Some(j) = input.request_of(i) else {
            continue;
        };
        let req = input.msg(j);
        let m = method(req);
        let got = format!(
            "{} (message #{i}) to {m} (message #{j})",
            input.msg(i).summary()
        );
        let mut push = |rule, expected: String| {
            out.push(Classified {
                rule,
                expected,
                actual: got.clone(),
                evidence: vec![i, j],
            })
        };
        let needs = |c: &Capability| input.needs.contains(c);
        match status {
            405 | 501 => {
                if input.advertised(HeaderName::Allow, &m) {
                    let rule = if status == 501 {
                        &ALLOW_NOT_IMPLEMENTED
                    } else {
                        &ALLOW_NOT_ALLOWED
                    };
                    push(rule, format!("{m} answered: the target lists it in Allow"));
                } else if needs(&Capability::Method(m.clone())) {
                    push(&NEEDS_REFUSED, format!("{m}, which the scenario needs"));
                }
            }
            420 => {
                let tags: Vec<String> = input
                    .msg(i)
                    .values(HeaderName::Unsupported)
                    .iter()
                    .flat_map(|v| {
                        v.split(',')
                            .map(|t| t.trim().to_ascii_lowercase())
                            .collect::<Vec<_>>()
                    })
                    .filter(|t| !t.is_empty())
                    .collect();
                let claimed: Vec<&String> = tags
                    .iter()
                    .filter(|t| input.advertised(HeaderName::Supported, t))
                    .collect();
                if !claimed.is_empty() {
                    let list: Vec<&str> = claimed.iter().map(|s| s.as_str()).collect();
                    push(
                        &SUPPORTED_420,
                        format!(
                            "{m} accepted with {}: the target lists it in Supported",
                            list.join(", ")
                        ),
                    );
                } else if tags
                    .iter()
                    .any(|t| needs(&Capability::OptionTag(t.clone())))
                {
                    push(
                        &NEEDS_REFUSED,
                        format!("option tag {}, which the scenario needs", tags.join(", ")),
                    );
                }
            }
            489 => {
                let Some(pkg) = event_package(req) else {
                    continue;
                };
                if input.advertised(HeaderName::AllowEvents, &pkg) {
                    push(
                        &ALLOW_EVENTS_489,
                        format!("SUBSCRIBE to {pkg} accepted: the target lists it in Allow-Events"),
                    );
                } else if needs(&Capability::Event(pkg.clone())) {
                    push(
                        &NEEDS_REFUSED,
                        format!("event package {pkg}, which the scenario needs"),
                    );
                }
            }
            415 => {
                let Some(ct) = body_type(req) else {
                    continue;
                };
                if input.advertised(HeaderName::Accept, &ct) {
                    push(
                        &ACCEPT_415,
                        format!("a {ct} body accepted: the target lists it in Accept"),
                    );
                }
            }
            _ => {
                // 488 (RFC 3261 §21.4.26) and 606.
                if !matches!(m.as_str(), "INVITE" | "UPDATE") {
                    continue;
                }
                match req.sdp() {
                    None if m == "INVITE" && req.to_tag().is_none() => push(
                        &LATE_OFFER_REJECTED,
                        "an INVITE without offer answered with an offer in the 2xx (or a reliable 1xx)".into(),
                    ),
                    None if m == "INVITE" => push(
                        &UNHOLD_OFFERLESS,
                        "a re-INVITE without offer answered with an offer in the 2xx".into(),
                    ),
                    None => {}
                    Some(offer) => {
                        let own = input.target_codecs();
                        let offered: Vec<String> = offer
                            .media
                            .iter()
                            .flat_map(|m| m.codec_names())
                            .map(|c| c.to_ascii_uppercase())
                            .filter(|c| c != "TELEPHONE-EVENT")
                            .collect();
                        let common: Vec<&String> = offered.iter().filter(|c| own.contains(c)).collect();
                        if let Some(c) = common.first() {
                            push(
                                &SDP_488_OWN_CODEC,
                                format!("an offer of {c} accepted: the target's own SDP lists {c}"),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// RFC 4028 §9: a UAS that supports timer puts Session-Expires in the 2xx to a request that
/// carries one.
pub(super) fn session_timer(input: &Input<'_>, out: &mut Vec<Classified>) {
    if !input.advertised(HeaderName::Supported, "timer") {
        return;
    }
    for (i, status) in input.target_responses() {
        if !(200..300).contains(&status) {
            continue;
        }
        let Some(j) = input.request_of(i) else {
            continue;
        };
        let req = input.msg(j);
        if !matches!(method(req).as_str(), "INVITE" | "UPDATE")
            || req.header(HeaderName::SessionExpires).is_none()
            || input.msg(i).header(HeaderName::SessionExpires).is_some()
        {
            continue;
        }
        out.push(Classified {
            rule: &TIMER_IGNORED,
            expected: format!(
                "Session-Expires in the 2xx to {} (message #{j} asks for a session timer; the target lists timer in Supported)",
                method(req)
            ),
            actual: format!("{} (message #{i}) without Session-Expires", input.msg(i).summary()),
            evidence: vec![i, j],
        });
    }
}
