//! The quirk catalogue of the reference user agent: each quirk switches on one realistic
//! misbehaviour seen in deployed SIP stacks, labelled with the level of the failure it causes
//! and the rule (and RFC section) a scenario that reveals it breaks.
//!
//! The levels are the three of the project (README): a *transaction*-level quirk breaks the
//! RFC 3261 §17 / §8.2.6 machinery or the RFC 4320 fixes; a *sequence*-level quirk realises a
//! feature with another call flow; a *spec*-level quirk claims a capability it does not
//! deliver. Which scenarios reveal which quirk is asserted by `tests/ua_quirks.rs`.

use crate::rule::Level;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

macro_rules! quirks {
    ($( $variant:ident => $name:literal, $level:ident, $rule:literal, $rfc:literal, $summary:literal; )*) => {
        /// One misbehaviour of the reference UA. See the module documentation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Quirk { $( $variant, )* }

        impl Quirk {
            /// Every quirk, in catalogue order.
            pub const ALL: &'static [Quirk] = &[ $( Quirk::$variant, )* ];

            /// The name written after `--quirk` and in `builtin?quirk=`.
            pub fn name(self) -> &'static str {
                match self { $( Quirk::$variant => $name, )* }
            }
            /// The level of the failure it causes.
            pub fn level(self) -> Level {
                match self { $( Quirk::$variant => Level::$level, )* }
            }
            /// The rule a scenario that reveals it breaks.
            pub fn rule(self) -> &'static str {
                match self { $( Quirk::$variant => $rule, )* }
            }
            /// The RFC section the UA breaks.
            pub fn rfc(self) -> &'static str {
                match self { $( Quirk::$variant => $rfc, )* }
            }
            /// What the UA does with it.
            pub fn summary(self) -> &'static str {
                match self { $( Quirk::$variant => $summary, )* }
            }
        }
    };
}

quirks! {
    // --- transaction level ---
    Timeout408 => "408-to-non-invite", Transaction, "tx.rfc4320.408", "RFC 4320 §4.2",
        "answers a non-INVITE request it cannot answer in time with 408 Request Timeout";
    Provisional180ToMessage => "180-to-message", Transaction, "tx.rfc4320.non-100-provisional", "RFC 4320 §4.1",
        "sends 180 Ringing to MESSAGE before the final response";
    Early100NonInvite => "early-100-non-invite", Transaction, "tx.rfc4320.early-100", "RFC 4320 §4.1",
        "sends 100 Trying to every non-INVITE request at once, over UDP too";
    No2xxRetransmission => "no-2xx-retransmission", Transaction, "tx.retransmit.2xx-missing", "RFC 3261 §13.3.1.4",
        "sends the 2xx to an INVITE once and never retransmits it while the ACK is missing";
    WrongViaBranch => "wrong-via-branch", Transaction, "tx.response.via-not-copied", "RFC 3261 §8.2.6.2",
        "answers with a Via branch other than the request's";
    NoToTag => "no-to-tag", Transaction, "tx.response.no-to-tag", "RFC 3261 §8.2.6.2",
        "sends final responses without a To tag";
    WrongContentLength => "wrong-content-length", Transaction, "tx.udp.content-length", "RFC 3261 §18.3",
        "declares a Content-Length larger than the body it sends";
    CseqNotCopied => "cseq-not-copied", Transaction, "tx.response.cseq-not-copied", "RFC 3261 §8.2.6.2",
        "answers with its own CSeq number instead of the request's";
    ToTagChanges => "to-tag-changes", Transaction, "tx.response.to-tag-changed", "RFC 3261 §12.1.1",
        "uses one To tag in provisional responses and another in the 2xx";
    ForwardsLateResponses => "forwards-late-responses", Transaction, "tx.rfc4320.late-response-forwarded", "RFC 4320 §4.2",
        "as a proxy, forwards a response to a non-INVITE that arrives after its transaction ended";
    // --- sequence level ---
    HoldAnsweredSendrecv => "hold-answered-sendrecv", Sequence, "seq.hold.answer-direction", "RFC 3264 §6.1",
        "answers a sendonly or inactive hold offer with sendrecv";
    HoldZeroConnectionOnly => "hold-zero-connection-only", Sequence, "seq.hold.style", "RFC 3264 §8.4",
        "puts calls on hold only the RFC 2543 way, c=0.0.0.0 with sendrecv, whatever style it is asked for";
    UnholdRequiresSdp => "unhold-requires-sdp", Sequence, "seq.unhold.offerless", "RFC 3261 §14.2",
        "rejects a re-INVITE without an offer with 488 instead of offering in its 2xx";
    ReferWithoutNotify => "refer-without-notify", Sequence, "seq.transfer.notify-missing", "RFC 3515 §2.4.4",
        "accepts REFER with 202 and never sends the NOTIFYs";
    NotifyBefore202 => "notify-before-202", Sequence, "seq.transfer.order", "RFC 3515 §2.4.4",
        "sends the first NOTIFY of a REFER before its 202";
    ReInvite491 => "reinvite-always-491", Sequence, "seq.reinvite.491", "RFC 3261 §14.2",
        "answers every re-INVITE with 491 Request Pending";
    NoLateOffer => "no-late-offer", Sequence, "seq.offer.late-offer-rejected", "RFC 3261 §13.2.1",
        "rejects an INVITE without an offer with 488";
    ByeBeforeTransferNotify => "bye-before-transfer-notify", Sequence, "seq.transfer.bye-before-notify", "RFC 5589 §6.1",
        "as transferee, hangs up the transferor before the NOTIFY with the transfer's outcome";
    // --- spec level ---
    Refer501 => "refer-in-allow-501", Spec, "spec.allow.not-implemented", "RFC 3261 §20.5",
        "lists REFER in Allow but answers it with 501 Not Implemented";
    Info405 => "info-405", Spec, "spec.allow.not-allowed", "RFC 3261 §20.5",
        "lists INFO in Allow but answers it with 405 Method Not Allowed";
    Require100rel420 => "100rel-420", Spec, "spec.supported.420", "RFC 3262 §3",
        "lists 100rel in Supported but answers Require: 100rel with 420";
    ReplacesUnsupported => "replaces-unsupported", Spec, "spec.supported.420", "RFC 3891 §3",
        "lists replaces in Supported but answers an INVITE with Replaces with 420";
    DialogEvent489 => "dialog-event-489", Spec, "spec.allow-events.489", "RFC 6665 §4.1.3",
        "lists the dialog package in Allow-Events but answers SUBSCRIBE to it with 489";
    Codec488 => "codec-488", Spec, "spec.sdp.488-to-own-codec", "RFC 3264 §6.1",
        "answers 488 to an offer of PCMA alone, although its own offers list PCMA";
    Sha256Unsupported => "sha256-unsupported", Spec, "spec.auth.algorithm", "RFC 8760 §2.4",
        "as registrar, challenges with MD5 only and refuses SHA-256 credentials";
    SessionExpiresIgnored => "session-expires-ignored", Spec, "spec.supported.timer-ignored", "RFC 4028 §9",
        "lists timer in Supported but leaves Session-Expires out of its 2xx";
    Message415 => "message-415", Spec, "spec.accept.415", "RFC 3428 §7",
        "lists text/plain in Accept but answers a text/plain MESSAGE with 415";
}

impl fmt::Display for Quirk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A quirk name that is not in the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown quirk `{name}`{hint}; `siptest ua --list-quirks` lists them")]
pub struct UnknownQuirk {
    pub name: String,
    hint: String,
}

impl FromStr for Quirk {
    type Err = UnknownQuirk;
    fn from_str(s: &str) -> Result<Quirk, UnknownQuirk> {
        if let Some(q) = Quirk::ALL.iter().find(|q| q.name() == s) {
            return Ok(*q);
        }
        let names: Vec<&str> = Quirk::ALL.iter().map(|q| q.name()).collect();
        let hint = crate::scenario::suggest::did_you_mean(s, names.iter().copied());
        Err(UnknownQuirk {
            name: s.to_string(),
            hint,
        })
    }
}

/// Parses a comma-separated list of quirk names (`a,b`); empty items are errors.
pub fn parse_quirk_list(s: &str) -> Result<Vec<Quirk>, UnknownQuirk> {
    let mut out = Vec::new();
    for name in s.split(',') {
        let q: Quirk = name.trim().parse()?;
        if !out.contains(&q) {
            out.push(q);
        }
    }
    Ok(out)
}

/// A quirk as `--list-quirks --format json` prints it.
#[derive(Clone, Debug, Serialize)]
pub struct QuirkInfo {
    pub name: &'static str,
    pub level: &'static str,
    pub rule: &'static str,
    pub rfc: &'static str,
    pub summary: &'static str,
}

impl From<Quirk> for QuirkInfo {
    fn from(q: Quirk) -> QuirkInfo {
        QuirkInfo {
            name: q.name(),
            level: q.level().as_str(),
            rule: q.rule(),
            rfc: q.rfc(),
            summary: q.summary(),
        }
    }
}

/// The set of quirks a UA runs with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Quirks(Vec<Quirk>);

impl Quirks {
    pub fn new(list: impl IntoIterator<Item = Quirk>) -> Quirks {
        let mut v: Vec<Quirk> = list.into_iter().collect();
        v.sort();
        v.dedup();
        Quirks(v)
    }
    pub fn has(&self, q: Quirk) -> bool {
        self.0.contains(&q)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = Quirk> + '_ {
        self.0.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_has_at_least_eight_quirks_per_level_with_unique_names() {
        for level in [Level::Transaction, Level::Sequence, Level::Spec] {
            let n = Quirk::ALL.iter().filter(|q| q.level() == level).count();
            assert!(n >= 8, "{level:?}: {n}");
        }
        let mut names: Vec<&str> = Quirk::ALL.iter().map(|q| q.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Quirk::ALL.len());
        for q in Quirk::ALL {
            assert!(q.rfc().starts_with("RFC "), "{q}");
            let prefix = match q.level() {
                Level::Transaction => "tx.",
                Level::Sequence => "seq.",
                Level::Spec => "spec.",
            };
            assert!(q.rule().starts_with(prefix), "{q}: {}", q.rule());
        }
    }

    #[test]
    fn names_parse_back_and_typos_get_a_hint() {
        for q in Quirk::ALL {
            assert_eq!(q.name().parse::<Quirk>().unwrap(), *q);
        }
        let e = "no-to-tg".parse::<Quirk>().unwrap_err();
        assert!(e.to_string().contains("did you mean `no-to-tag`"), "{e}");
        assert_eq!(
            parse_quirk_list("no-to-tag,info-405,no-to-tag").unwrap(),
            vec![Quirk::NoToTag, Quirk::Info405]
        );
        assert!(parse_quirk_list("no-to-tag,").is_err());
    }
}
