//! The executor end to end, siptest against siptest on loopback: one run plays the caller's
//! scenario with the other run's agent as its target, and the other way round. This covers
//! the step kinds, dialogs, captures, labels, raw messages and manual ACKs without SIPp.

use crate::engine::{run_scenario, RunConfig, RunResult, TargetSpec, Verdict};
use crate::scenario::load_str;
use std::time::Duration;

fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn config(target_port: u16, agent: &str, port: u16) -> RunConfig {
    let target = TargetSpec::parse(&format!("udp:127.0.0.1:{target_port}")).unwrap();
    let mut c = RunConfig::new(target);
    c.t1 = Some(Duration::from_millis(50));
    c.deadline = Some(Duration::from_secs(5));
    c.agent_ports.insert(agent.into(), port);
    c
}

/// Plays `a` (agent alice) and `b` (agent bob) against each other.
async fn pair(a: &str, b: &str) -> (RunResult, RunResult) {
    let head = |agent: &str| format!("name: t-{agent}\nsummary: s\nagents:\n  {agent}: {{}}\n");
    let sa = load_str(&format!("{}{a}", head("alice")), "alice.yaml").unwrap();
    let sb = load_str(&format!("{}{b}", head("bob")), "bob.yaml").unwrap();
    let (pa, pb) = (free_port(), free_port());
    let (ca, cb) = (config(pb, "alice", pa), config(pa, "bob", pb));
    tokio::join!(run_scenario(&sa, &ca, 1), run_scenario(&sb, &cb, 1))
}

fn assert_pass(r: &RunResult) {
    assert!(
        r.verdict.is_pass(),
        "{}: {}\n{:#?}",
        r.scenario,
        r.verdict.summary(),
        r.findings
    );
}

const CALLER: &str = "steps:
  - send: INVITE
    dialog: call
  - expect: 100
    optional: true
  - expect: 180
    dialog: call
  - expect: 200
    dialog: call
    sdp: { direction: sendrecv, codecs: [PCMU] }
    headers: { Contact: present }
    capture: { remote_tag: to.tag }
  - send: BYE
    dialog: call
  - expect: 200
    headers: { To: { contains: \"tag=[remote_tag]\" } }
";

const CALLEE: &str = "steps:
  - expect: INVITE
    dialog: call
    label: inv
    sdp: present
  - send: 100
  - send: 180
  - wait: 120ms
  - send: 200
    reply_to: inv
  - expect: ACK
    dialog: call
    sdp: absent
  - expect: BYE
    dialog: call
  - send: 200
";

#[tokio::test]
async fn a_basic_call_passes_on_both_sides() {
    let (a, b) = pair(CALLER, CALLEE).await;
    assert_pass(&a);
    assert_pass(&b);
    // INVITE, 100, 180, 200, ACK, BYE, 200 (the 200 may be retransmitted before the ACK).
    assert!(a.messages >= 7, "{}", a.messages);
    assert!(a.findings.iter().all(|f| !f.is_step_failure()));
}

#[tokio::test]
async fn groups_captures_bodies_and_out_of_dialog_requests() {
    let alice = "steps:
  - send: OPTIONS
    headers: { X-Token: \"[run_id]\", User-Agent: null }
  - one_of:
      - expect: 486
      - expect: 200
        headers: { X-Echo: hello, User-Agent: absent }
        capture: { echoed: header.X-Echo }
  - send: MESSAGE
    body: { content_type: text/plain, text: \"hi [echoed]\" }
  - expect: 200
  - not: { expect: MESSAGE, within: 150ms }
  - unordered:
      - expect: INFO
        label: info
      - expect: NOTIFY
        label: notify
  - send: 200
    reply_to: notify
  - send: 200
    reply_to: info
";
    let bob = "steps:
  - expect: OPTIONS
    headers: { X-Token: present, User-Agent: absent }
  - send: 200
    headers: { X-Echo: hello, Server: null }
  - expect: MESSAGE
    body: { content_type: text/plain, equals: hi hello }
  - send: 200
  - wait: 250ms
  - send: NOTIFY
  - send: INFO
  - unordered:
      - expect: 200
      - expect: 200
";
    let (a, b) = pair(alice, bob).await;
    assert_pass(&a);
    assert_pass(&b);
}

#[tokio::test]
async fn manual_ack_and_a_hold_re_invite() {
    let alice = "steps:
  - send: INVITE
    dialog: call
    ack: manual
  - expect: 200
  - wait: 150ms
  - send: ACK
    dialog: call
  - send: INVITE
    dialog: call
    sdp: hold-sendonly
  - expect: 200
    dialog: call
    sdp: { direction: recvonly }
  - send: BYE
    dialog: call
  - expect: 200
";
    let bob = "steps:
  - expect: INVITE
    dialog: call
  - send: 200
  - expect: ACK
    dialog: call
  - expect: INVITE
    dialog: call
    sdp: { direction: sendonly }
  - send: 200
  - expect: ACK
  - expect: BYE
    dialog: call
  - send: 200
";
    let (a, b) = pair(alice, bob).await;
    assert_pass(&a);
    assert_pass(&b);
    // bob retransmitted its 200 while alice withheld the ACK (RFC 3261 §13.3.1.4).
    let oks = b
        .trace
        .messages
        .iter()
        .filter(|m| m.message.status() == Some(200) && m.src.port() != m.dst.port())
        .count();
    assert!(oks >= 4, "{oks} 200s in bob's trace");
}

#[tokio::test]
async fn raw_requests_and_a_wrong_expectation() {
    let alice = "steps:
  - send: OPTIONS
    raw: |
      OPTIONS sip:[target.user]@[target.host]:[target.port] SIP/2.0
      Via: SIP/2.0/[transport] [local.host]:[local.port];branch=[branch];rport
      Max-Forwards: 70
      From: <sip:[local.user]@[local.host]>;tag=[run_id]
      To: <sip:[target.user]@[target.host]>
      Call-ID: [call_id]
      CSeq: [cseq] OPTIONS
      Content-Type: text/plain
      Content-Length: [len]

      hello
  - expect: 486
";
    let bob = "steps:
  - expect: OPTIONS
    body: { contains: hello }
  - send: 200
";
    let (a, b) = pair(alice, bob).await;
    assert_pass(&b);
    let Verdict::Fail(f) = &a.verdict else {
        panic!("expected a failure, got {:?}", a.verdict);
    };
    assert_eq!((f.step.index, f.step.line, f.step.column), (2, 19, 5));
    assert_eq!(f.expected, "486 at alice");
    assert!(
        f.actual.starts_with("200 OK (to OPTIONS, CSeq 1)"),
        "{}",
        f.actual
    );
}

#[tokio::test]
async fn a_501_to_a_needed_method_is_inconclusive() {
    let alice = "target: { needs: [REFER] }
steps:
  - send: REFER
    headers: { Refer-To: \"<sip:carol@127.0.0.1>\" }
  - expect: 202
";
    let bob = "steps:
  - expect: REFER
  - send: 501
";
    let (a, b) = pair(alice, bob).await;
    assert_pass(&b);
    let Verdict::Inconclusive { step, reason } = &a.verdict else {
        panic!("expected inconclusive, got {:?}", a.verdict);
    };
    assert_eq!(step.as_ref().map(|s| s.index), Some(2));
    assert!(
        reason.starts_with("the target lacks REFER: it answered 501 Not Implemented"),
        "{reason}"
    );
}
