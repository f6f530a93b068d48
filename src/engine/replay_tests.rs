use super::*;
use crate::scenario::load_str;
use crate::sip::parse::parse_message;
use crate::trace::Transport;

fn msg(t: u64, src: &str, dst: &str, text: &str) -> TracedMessage {
    TracedMessage {
        time: Duration::from_millis(t),
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        transport: Transport::Udp,
        message: parse_message(text.replace('\n', "\r\n").as_bytes()),
    }
}

const INVITE: &str = "INVITE sip:b@10.0.0.2 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\n\
From: <sip:a@10.0.0.1>;tag=1\nTo: <sip:b@10.0.0.2>\nCall-ID: c\nCSeq: 1 INVITE\n\
Content-Length: 0\n\n";
const OK: &str = "SIP/2.0 486 Busy Here\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\n\
From: <sip:a@10.0.0.1>;tag=1\nTo: <sip:b@10.0.0.2>;tag=2\nCall-ID: c\nCSeq: 1 INVITE\n\
Content-Length: 0\n\n";

fn trace() -> Trace {
    Trace {
        messages: vec![
            msg(0, "10.0.0.1:5060", "10.0.0.2:5060", INVITE),
            msg(10, "10.0.0.2:5060", "10.0.0.1:5060", OK),
            msg(510, "10.0.0.2:5060", "10.0.0.1:5060", OK), // Timer G: T1 later
        ],
    }
}

fn scenario(steps: &str) -> Scenario {
    let text = format!("name: t\nsummary: s\nagents:\n  alice: {{}}\nsteps:\n{steps}");
    load_str(&text, "t.yaml").unwrap()
}

#[test]
fn the_first_request_places_the_first_agent_and_the_target() {
    let sc = scenario("  - send: INVITE\n  - expect: 486\n");
    let p = parties(&sc, &trace(), &BTreeMap::new()).unwrap();
    assert_eq!(p.agents, vec!["10.0.0.1:5060".parse().unwrap()]);
    assert_eq!(p.target, "10.0.0.2:5060".parse().unwrap());
    // A scenario that starts by expecting a request: the agent is where it went.
    let sc = scenario("  - expect: INVITE\n  - send: 486\n");
    let p = parties(&sc, &trace(), &BTreeMap::new()).unwrap();
    assert_eq!(p.agents, vec!["10.0.0.2:5060".parse().unwrap()]);
    let bad = BTreeMap::from([("carol".to_string(), "10.0.0.9:1".parse().unwrap())]);
    assert!(parties(&sc, &trace(), &bad).is_err());
}

#[test]
fn retransmissions_are_absorbed_and_the_verdict_is_the_live_one() {
    let cfg = ReplayConfig::default();
    let sc = scenario("  - send: INVITE\n  - expect: 486\n  - not: { expect: 486, within: 1s }\n");
    let r = check_capture(&sc, &trace(), &cfg, "t.pcap", None).unwrap();
    assert!(r.verdict.is_pass(), "{:?}", r.verdict);
    let sc = scenario("  - send: INVITE\n  - expect: 200\n");
    let r = check_capture(&sc, &trace(), &cfg, "t.pcap", None).unwrap();
    assert_eq!(r.verdict.kind().as_str(), "fail");
    // A scenario the capture does not play: inconclusive at the send.
    let sc = scenario("  - send: OPTIONS\n  - expect: 200\n");
    let r = check_capture(&sc, &trace(), &cfg, "t.pcap", None).unwrap();
    assert_eq!(r.verdict.kind().as_str(), "inconclusive", "{:?}", r.verdict);
}
