//! What a scenario can ask the device under test to do (the `act` step): place a call, hold,
//! transfer, register, or answer the next calls in a given way. The reference UA carries these
//! out itself (in-process, or over its control port as JSON lines); other targets need a
//! driver, and a run against a target without one is inconclusive.
//!
//! Every action names the scenario agents it concerns (`peer`: an agent's URI), so that one
//! standalone UA can serve several runs at once without mixing their calls.

use serde::{Deserialize, Serialize};

/// The hold styles of RFC 3264 §8.4 (and RFC 2543's `c=0.0.0.0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HoldHow {
    Sendonly,
    Inactive,
    ZeroConnection,
}

/// How the UA answers INVITEs (until told otherwise).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnswerPlan {
    /// Provisional responses before the final one, in order (180, 183...).
    pub provisional: Vec<u16>,
    /// Send the provisionals reliably (RFC 3262): `Require: 100rel`, `RSeq`, wait for PRACK.
    pub reliable: bool,
    /// A 183 carries the SDP answer (early media, RFC 3960).
    pub early_media: bool,
    /// Time from the last provisional to the final response, in milliseconds.
    pub ring_ms: u64,
    /// The final status; `None`: never answers (ringing until CANCEL).
    pub status: Option<u16>,
}

impl Default for AnswerPlan {
    fn default() -> Self {
        AnswerPlan {
            provisional: vec![180],
            reliable: false,
            early_media: false,
            ring_ms: 0,
            status: Some(200),
        }
    }
}

/// How the UA answers non-INVITE requests of one method (RFC 4320 scenarios: a slow answer,
/// or none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RespondPlan {
    pub method: String,
    /// Delay before the final response, in milliseconds.
    #[serde(default)]
    pub delay_ms: u64,
    /// The final status; `None`: never answers.
    #[serde(default)]
    pub status: Option<u16>,
}

/// One action. `peer` is the URI of the scenario agent concerned (`sip:alice@127.0.0.1:40000`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "act", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Action {
    /// Answer INVITEs from these peers by `plan`.
    Answer {
        peers: Vec<String>,
        #[serde(flatten)]
        plan: AnswerPlan,
    },
    /// Answer requests of `plan.method` from these peers by `plan`.
    Respond {
        peers: Vec<String>,
        #[serde(flatten)]
        plan: RespondPlan,
    },
    /// Call `peer`: an INVITE with an offer, or none (`late_offer`, RFC 3261 §13.2.1).
    Call {
        peer: String,
        #[serde(default)]
        late_offer: bool,
        /// `Require: 100rel` (RFC 3262).
        #[serde(default)]
        require_100rel: bool,
        /// Session-Expires in seconds (RFC 4028).
        #[serde(default)]
        session_expires: Option<u32>,
    },
    /// Put the call with `peer` on hold (a re-INVITE).
    Hold { peer: String, how: HoldHow },
    /// Take the call with `peer` off hold; `offerless`: a re-INVITE without SDP.
    Unhold {
        peer: String,
        #[serde(default)]
        offerless: bool,
    },
    /// End the call with `peer`: BYE, or CANCEL before the answer.
    Hangup { peer: String },
    /// Blind transfer (RFC 3515): REFER `peer` to `to`.
    Transfer { peer: String, to: String },
    /// A request in the call with `peer` (INFO, UPDATE, OPTIONS, MESSAGE), or outside any call
    /// when there is none.
    Request { peer: String, method: String },
    /// Register at `peer` (a registrar) as `user`, with digest credentials when challenged.
    Register {
        peer: String,
        user: String,
        password: String,
        #[serde(default = "default_expires")]
        expires: u32,
    },
    /// SUBSCRIBE `peer` to an event package.
    Subscribe { peer: String, event: String },
}

fn default_expires() -> u32 {
    3600
}

impl Action {
    /// The action's name as written in a scenario (`act: call`).
    pub fn name(&self) -> &'static str {
        match self {
            Action::Answer { .. } => "answer",
            Action::Respond { .. } => "respond",
            Action::Call { .. } => "call",
            Action::Hold { .. } => "hold",
            Action::Unhold { .. } => "unhold",
            Action::Hangup { .. } => "hangup",
            Action::Transfer { .. } => "transfer",
            Action::Request { .. } => "request",
            Action::Register { .. } => "register",
            Action::Subscribe { .. } => "subscribe",
        }
    }

    /// Every action name.
    pub const NAMES: &'static [&'static str] = &[
        "answer",
        "respond",
        "call",
        "hold",
        "unhold",
        "hangup",
        "transfer",
        "request",
        "register",
        "subscribe",
    ];
}

/// Why the UA could not carry an action out.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action}: {reason}")]
pub struct ActError {
    pub action: &'static str,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_through_json_lines() {
        let all = vec![
            Action::Answer {
                peers: vec!["sip:a@127.0.0.1:1".into()],
                plan: AnswerPlan {
                    status: Some(486),
                    ..AnswerPlan::default()
                },
            },
            Action::Hold {
                peer: "sip:a@127.0.0.1:1".into(),
                how: HoldHow::ZeroConnection,
            },
            Action::Register {
                peer: "sip:r@127.0.0.1:2".into(),
                user: "u".into(),
                password: "p".into(),
                expires: 60,
            },
        ];
        for a in all {
            let line = serde_json::to_string(&a).unwrap();
            assert!(!line.contains('\n'));
            let back: Action = serde_json::from_str(&line).unwrap();
            assert_eq!(back, a, "{line}");
        }
        let a: Action =
            serde_json::from_str(r#"{"act":"answer","peers":[],"status":null}"#).unwrap();
        assert!(
            matches!(a, Action::Answer { plan, .. } if plan.status.is_none() && plan.provisional == vec![180])
        );
        assert!(serde_json::from_str::<Action>(r#"{"act":"dance","peer":"x"}"#).is_err());
    }
}
