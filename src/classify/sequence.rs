//! Sequence-level findings read from the whole trace: a re-INVITE refused with 491 outside
//! glare (RFC 3261 §14.2), a hold offer answered as if no hold (RFC 3264 §6.1), and the
//! transferee's side of a transfer (RFC 3515 §2.4.4, RFC 5589 §6.1).

use super::rules::*;
use super::view::{event_package, method};
use super::{Classified, Input};
use crate::sdp::Direction;
use crate::sip::HeaderName;

/// RFC 3261 §14.2: 491 only when the UAS has a re-INVITE of its own pending in the dialog.
pub(super) fn reinvite_491(input: &Input<'_>, out: &mut Vec<Classified>) {
    for (i, status) in input.target_responses() {
        if status != 491 {
            continue;
        }
        let Some(j) = input.request_of(i) else {
            continue;
        };
        let req = input.msg(j);
        if method(req) != "INVITE" || req.to_tag().is_none() {
            continue;
        }
        let call = req.call_id();
        // A re-INVITE of the target's own in the same call, sent before the one refused and
        // without a final response when that one came (RFC 3261 §14.1).
        let glare = (0..i).any(|k| {
            let m = input.msg(k);
            input.by_target_at(k)
                && m.is_request()
                && method(m) == "INVITE"
                && m.to_tag().is_some()
                && m.call_id() == call
                && k < j
                && input.final_response_to(k).is_none_or(|f| f > j)
        });
        if glare {
            continue;
        }
        out.push(Classified {
            rule: &REINVITE_491,
            expected:
                "the re-INVITE answered (no re-INVITE of the target's own was pending: no glare)"
                    .into(),
            actual: format!(
                "{} (message #{i}) to the re-INVITE (message #{j})",
                input.msg(i).summary()
            ),
            evidence: vec![i, j],
        });
    }
}

/// RFC 3264 §6.1: a sendonly stream is answered recvonly or inactive, an inactive one
/// inactive.
pub(super) fn hold_answers(input: &Input<'_>, out: &mut Vec<Classified>) {
    for (i, status) in input.target_responses() {
        if !(100..300).contains(&status) || status == 100 {
            continue;
        }
        // The answer is parsed only for a hold offer (rare): parsing costs.
        if !input.msg(i).has_sdp() {
            continue;
        }
        let Some(j) = input.request_of(i) else {
            continue;
        };
        let Some(offer) = input.msg(j).sdp() else {
            continue;
        };
        let hold = (0..offer.media.len()).any(|k| {
            matches!(
                offer.effective_direction(k),
                Direction::SendOnly | Direction::Inactive
            )
        });
        let Some(answer) = hold.then(|| input.msg(i).sdp()).flatten() else {
            continue;
        };
        for (k, m) in offer.media.iter().enumerate() {
            if k >= answer.media.len() || m.port == 0 || answer.media[k].port == 0 {
                continue;
            }
            let asked = offer.effective_direction(k);
            if !matches!(asked, Direction::SendOnly | Direction::Inactive) {
                continue;
            }
            let got = answer.effective_direction(k);
            if got.sends() {
                let want = if asked == Direction::SendOnly {
                    "recvonly or inactive"
                } else {
                    "inactive"
                };
                out.push(Classified {
                    rule: &HOLD_ANSWER_DIRECTION,
                    expected: format!(
                        "the {} stream of a {asked} (hold) offer answered {want}",
                        m.media
                    ),
                    actual: format!(
                        "{} (message #{i}) answers {got} to the offer of message #{j}",
                        input.msg(i).summary()
                    ),
                    evidence: vec![i, j],
                });
                break;
            }
        }
    }
}

/// The transferee's side of each REFER sent to the target: its 2xx, the NOTIFYs of the
/// implicit subscription (none when Refer-Sub: false, RFC 4488 §4) and no BYE to the
/// transferor before the final NOTIFY (the transferor hangs up, RFC 5589 §6.1).
pub(super) fn transfers(input: &Input<'_>, out: &mut Vec<Classified>) {
    let n = input.trace.messages.len();
    for j in 0..n {
        let refer = input.msg(j);
        if input.by_target_at(j) || !refer.is_request() || method(refer) != "REFER" {
            continue;
        }
        let Some(ok) = input.final_response_to(j) else {
            continue;
        };
        if !input
            .msg(ok)
            .status()
            .is_some_and(|s| (200..300).contains(&s))
        {
            continue;
        }
        let call = refer.call_id();
        let no_sub = [refer, input.msg(ok)].iter().any(|m| {
            m.first_value(HeaderName::ReferSub)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
        });
        let notifies: Vec<usize> = (j + 1..n)
            .filter(|&k| {
                let m = input.msg(k);
                input.by_target_at(k)
                    && m.is_request()
                    && method(m) == "NOTIFY"
                    && m.call_id() == call
                    && event_package(m).as_deref() == Some("refer")
            })
            .collect();
        if !no_sub {
            match notifies.first() {
                None => out.push(Classified {
                    rule: &TRANSFER_NOTIFY_MISSING,
                    expected:
                        "NOTIFYs of the refer event (message/sipfrag) after the 2xx to the REFER"
                            .into(),
                    actual: format!(
                        "{} (message #{ok}) to the REFER (message #{j}), then no NOTIFY",
                        input.msg(ok).summary()
                    ),
                    evidence: vec![ok, j],
                }),
                Some(&first) if first < ok => out.push(Classified {
                    rule: &TRANSFER_ORDER,
                    expected: "the 2xx to the REFER before the first NOTIFY of its subscription"
                        .into(),
                    actual: format!(
                        "NOTIFY (message #{first}) before {} (message #{ok})",
                        input.msg(ok).summary()
                    ),
                    evidence: vec![first, ok, j],
                }),
                Some(_) => {}
            }
        }
        // The NOTIFY that ends the subscription reports the outcome (RFC 3515 §2.4.5).
        let last = notifies.iter().copied().find(|&k| {
            input
                .msg(k)
                .first_value(HeaderName::SubscriptionState)
                .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("terminated"))
        });
        let bye = (ok + 1..n).find(|&k| {
            let m = input.msg(k);
            input.by_target_at(k) && m.is_request() && method(m) == "BYE" && m.call_id() == call
        });
        // Without a subscription (RFC 4488 §4: Refer-Sub: false) no NOTIFY comes to wait for.
        if let (false, Some(b)) = (no_sub, bye) {
            if last.is_none_or(|l| b < l) {
                out.push(Classified {
                    rule: &TRANSFER_BYE_BEFORE_NOTIFY,
                    expected:
                        "the transferee keeps the transferor's call until the NOTIFY with the \
                               transfer's outcome; the transferor hangs up"
                            .into(),
                    actual: format!(
                        "BYE (message #{b}) from the transferee{}",
                        match last {
                            Some(l) => format!(" before the final NOTIFY (message #{l})"),
                            None => " with no final NOTIFY before it".into(),
                        }
                    ),
                    evidence: vec![b, j],
                });
            }
        }
    }
}

#[cfg(test)]
#[path = "sequence_tests.rs"]
mod tests;
