//! The transferee's rules over small hand-written flows: siptest (alice) sends REFER to the
//! target (bob), who answers it and later hangs up.

use super::*;
use crate::sip::parse::parse_message;
use crate::trace::{Trace, TracedMessage, Transport};
use std::time::Duration;

const ALICE: &str = "127.0.0.1:5060";
const BOB: &str = "127.0.0.1:5070";

fn msg(text: &str) -> Vec<u8> {
    text.replace('\n', "\r\n").into_bytes()
}

fn refer() -> Vec<u8> {
    msg("REFER sip:bob@127.0.0.1:5070 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKr1
From: <sip:alice@127.0.0.1>;tag=a1
To: <sip:bob@127.0.0.1>;tag=b1
Call-ID: call-1
CSeq: 2 REFER
Refer-To: <sip:carol@127.0.0.1:5080>
Contact: <sip:alice@127.0.0.1:5060>
Content-Length: 0

")
}

fn accepted(refer_sub: Option<&str>) -> Vec<u8> {
    let extra = refer_sub.map_or(String::new(), |v| format!("Refer-Sub: {v}\n"));
    msg(&format!(
        "SIP/2.0 202 Accepted
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKr1
From: <sip:alice@127.0.0.1>;tag=a1
To: <sip:bob@127.0.0.1>;tag=b1
Call-ID: call-1
CSeq: 2 REFER
{extra}Content-Length: 0

"
    ))
}

fn bye() -> Vec<u8> {
    msg("BYE sip:alice@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKb1
From: <sip:bob@127.0.0.1>;tag=b1
To: <sip:alice@127.0.0.1>;tag=a1
Call-ID: call-1
CSeq: 7 BYE
Content-Length: 0

")
}

/// The rules `transfers` finds in the flow; `by_target` per message.
fn rules_of(flow: &[(Vec<u8>, bool)]) -> Vec<&'static str> {
    let trace = Trace {
        messages: flow
            .iter()
            .enumerate()
            .map(|(i, (bytes, by_target))| {
                let (src, dst) = if *by_target {
                    (BOB, ALICE)
                } else {
                    (ALICE, BOB)
                };
                TracedMessage {
                    time: Duration::from_millis(i as u64 * 10),
                    src: src.parse().unwrap(),
                    dst: dst.parse().unwrap(),
                    transport: Transport::Udp,
                    message: parse_message(bytes),
                }
            })
            .collect(),
    };
    let by_target: Vec<bool> = flow.iter().map(|(_, t)| *t).collect();
    let input = Input {
        trace: &trace,
        by_target: &by_target,
        needs: &[],
        tags: &[],
        failure: None,
        checked: &[],
        golden: &[],
    };
    let mut out = Vec::new();
    transfers(&input, &mut out);
    out.iter().map(|c| c.rule.id).collect()
}

#[test]
fn a_subscription_wants_notifies_before_the_transferee_hangs_up() {
    let rules = rules_of(&[(refer(), false), (accepted(None), true), (bye(), true)]);
    assert_eq!(
        rules,
        [
            "seq.transfer.notify-missing",
            "seq.transfer.bye-before-notify"
        ]
    );
}

// RFC 4488 §4: with Refer-Sub: false there is no subscription, so no NOTIFY to miss or to
// wait for before a BYE.
#[test]
fn refer_sub_false_wants_no_notify() {
    let rules = rules_of(&[
        (refer(), false),
        (accepted(Some("false")), true),
        (bye(), true),
    ]);
    assert!(rules.is_empty(), "{rules:?}");
}
