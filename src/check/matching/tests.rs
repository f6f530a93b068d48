use super::*;
use crate::check::observe::observe;
use crate::check::observe::tests::trace;
use crate::sip::parse::parse_datagram;
use crate::trace::TracedMessage;
use std::time::Duration;

/// A message of call `c` from a (From tag f, top Via 127.0.0.1:5061 with branch
/// z9hG4bK`branch`) to b; `to_tag` empty for none; `extra` header lines end in `\n`.
pub(crate) fn sip(start: &str, branch: &str, cseq: &str, to_tag: &str, extra: &str) -> String {
    let to = if to_tag.is_empty() {
        String::new()
    } else {
        format!(";tag={to_tag}")
    };
    let mf = if start.starts_with("SIP/") {
        ""
    } else {
        "Max-Forwards: 70\n"
    };
    format!("{start}\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK{branch}\nFrom: <sip:a@x>;tag=f\nTo: <sip:b@x>{to}\nCall-ID: c\nCSeq: {cseq}\n{mf}{extra}")
}

pub(crate) fn req(method: &str, branch: &str, cseq: u32, to_tag: &str) -> String {
    sip(
        &format!("{method} sip:b@x SIP/2.0"),
        branch,
        &format!("{cseq} {method}"),
        to_tag,
        "",
    )
}

/// A response to INVITE 1 on `branch` (`status` is code and reason).
pub(crate) fn resp(status: &str, branch: &str, to_tag: &str, extra: &str) -> String {
    sip(
        &format!("SIP/2.0 {status}"),
        branch,
        "1 INVITE",
        to_tag,
        extra,
    )
}

/// [`trace`] over owned texts.
pub(crate) fn tr(items: &[(u64, &str, &str, String)]) -> Trace {
    let v: Vec<(u64, &str, &str, &str)> = items
        .iter()
        .map(|(t, f, d, s)| (*t, *f, *d, s.as_str()))
        .collect();
    trace(&v)
}

/// The findings of one group over a trace, as (rule id, message index).
pub(crate) fn found(group: &CheckGroup, t: &Trace) -> Vec<(&'static str, usize)> {
    let mut out = Vec::new();
    (group.run)(t, &observe(t), &Tolerances::default(), &mut out);
    out.iter().map(|f| (f.rule.id, f.message_index)).collect()
}

fn ids(t: &Trace) -> Vec<(&'static str, usize)> {
    found(&GROUP, t)
}

const CONTACT_B1: &str = "Contact: <sip:b@10.0.0.1>\n";
const CONTACT_B2: &str = "Contact: <sip:b@10.0.0.2>\n";

/// A clean call: 100 without tag, 180 and 200 with one tag, ACK on a new branch with the
/// INVITE's CSeq number, BYE and its 200.
fn clean_call() -> Vec<(u64, &'static str, &'static str, String)> {
    vec![
        (0, "a", "b", req("INVITE", "1", 1, "")),
        (10, "b", "a", resp("100 Trying", "1", "", "")),
        (20, "b", "a", resp("180 Ringing", "1", "t", CONTACT_B1)),
        (30, "b", "a", resp("200 OK", "1", "t", CONTACT_B1)),
        (40, "a", "b", req("ACK", "2", 1, "t")),
        (50, "a", "b", req("BYE", "3", 2, "t")),
        (60, "b", "a", sip("SIP/2.0 200 OK", "3", "2 BYE", "t", "")),
    ]
}

#[test]
fn a_clean_call_has_no_findings() {
    // Near-misses: 100 without To-tag, ACK for 2xx on a new branch, ACK CSeq = INVITE's.
    let t = tr(&clean_call());
    assert_eq!(ids(&t), []);
    assert_eq!(found(&crate::check::dialogs::GROUP, &t), []);
}

#[test]
fn ack_for_non_2xx_must_be_on_the_invite_branch() {
    let mut c = vec![
        (0, "a", "b", req("INVITE", "1", 1, "")),
        (10, "b", "a", resp("486 Busy Here", "1", "t", "")),
        (20, "a", "b", req("ACK", "9", 1, "t")),
    ];
    assert_eq!(ids(&tr(&c)), [("tx.ack.non-2xx-branch", 2)]);
    c[2].3 = req("ACK", "1", 1, "t");
    assert_eq!(ids(&tr(&c)), []);
}

#[test]
fn ack_for_2xx_must_not_reuse_the_invite_branch() {
    let mut c = clean_call();
    c[4].3 = req("ACK", "1", 1, "t");
    assert_eq!(ids(&tr(&c)), [("tx.ack.2xx-same-branch", 4)]);
}

/// INVITE at 0 ms, 180 at `ms_180`, `cancel` at 100 ms, in time order.
fn cancelled(cancel: String, ms_180: u64) -> Vec<(u64, &'static str, &'static str, String)> {
    let mut c = vec![
        (0, "a", "b", req("INVITE", "1", 1, "")),
        (ms_180, "b", "a", resp("180 Ringing", "1", "t", CONTACT_B1)),
        (100, "a", "b", cancel),
    ];
    c.sort_by_key(|m| m.0);
    c
}

#[test]
fn cancel_must_be_on_the_invite_branch_and_copy_it() {
    let t = tr(&cancelled(req("CANCEL", "9", 1, ""), 50));
    assert_eq!(ids(&t), [("tx.cancel.branch", 2)]);
    let t = tr(&cancelled(req("CANCEL", "1", 2, ""), 50));
    assert_eq!(ids(&t), [("tx.cancel.not-copied", 2)]);
    let to_tagged = req("CANCEL", "1", 1, "t");
    assert_eq!(
        ids(&tr(&cancelled(to_tagged, 50))),
        [("tx.cancel.not-copied", 2)]
    );
    // Near-miss: same branch, fields copied, after the 180.
    assert_eq!(ids(&tr(&cancelled(req("CANCEL", "1", 1, ""), 50))), []);
}

#[test]
fn cancel_must_wait_for_a_provisional() {
    let early = tr(&cancelled(req("CANCEL", "1", 1, ""), 300));
    assert_eq!(ids(&early), [("tx.cancel.before-provisional", 1)]);
    // Near-miss: a 180 seen 30 ms after the CANCEL is within clock jitter (50 ms).
    assert_eq!(ids(&tr(&cancelled(req("CANCEL", "1", 1, ""), 130))), []);
}

const TWO_VIAS: &str = "Via: SIP/2.0/UDP 127.0.0.1:5061;rport;branch=z9hG4bK1\nVia: SIP/2.0/UDP Up.Example.com;branch=z9hG4bKu\n";

fn with_vias(text: String, vias: &str) -> String {
    text.replace("Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK1\n", vias)
}

#[test]
fn responses_must_copy_the_via_list() {
    let inv = with_vias(req("INVITE", "1", 1, ""), TWO_VIAS);
    let call = |resp_vias: &str| {
        let ok = with_vias(resp("200 OK", "1", "t", CONTACT_B1), resp_vias);
        ids(&tr(&[(0, "a", "b", inv.clone()), (10, "b", "a", ok)]))
    };
    // Near-miss: compact form, one field, case, spacing, parameter order, explicit default
    // port, and the received/rport the server transport adds.
    let same = "v: SIP/2.0/udp 127.0.0.1:5061 ; branch=z9hG4bK1;received=127.0.0.1;rport=5061 ,SIP/2.0/UDP up.example.COM:5060;branch=z9hG4bKu\n";
    assert_eq!(call(same), []);
    let dropped = "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK1\n";
    assert_eq!(call(dropped), [("tx.response.via-not-copied", 1)]);
    let reordered = "Via: SIP/2.0/UDP Up.Example.com;branch=z9hG4bKu\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK1\n";
    assert_eq!(call(reordered), [("tx.response.via-not-copied", 1)]);
    // Near-miss: an RFC 2543 request (no cookie), whose key holds the Via as written: a
    // respaced copy leaves the response unmatched, yet the parsed Via is the same.
    let old = "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=old1\n";
    let inv = with_vias(req("INVITE", "1", 1, ""), old);
    let ok = with_vias(
        resp("200 OK", "1", "t", ""),
        "Via: SIP/2.0/UDP  127.0.0.1:5061 ;branch=old1\n",
    );
    let t = tr(&[(0, "a", "b", inv), (10, "b", "a", ok)]);
    assert_eq!(observe(&t).unmatched_responses, [1]);
    assert_eq!(ids(&t), [("tx.via.no-cookie", 0)]);
}

#[test]
fn a_response_on_another_branch_did_not_copy_the_via() {
    let c = vec![
        (0, "a", "b", req("INVITE", "1", 1, "")),
        (10, "b", "a", resp("486 Busy Here", "7", "t", "")),
    ];
    assert_eq!(ids(&tr(&c)), [("tx.response.via-not-copied", 1)]);
    // Near-miss: a response for some other call is nobody's copy.
    let other = resp("486 Busy Here", "7", "t", "").replace("Call-ID: c", "Call-ID: d");
    assert_eq!(ids(&tr(&[c[0].clone(), (10, "b", "a", other)])), []);
}

#[test]
fn responses_must_copy_cseq_from_call_id_and_to() {
    let call = |r: String| {
        ids(&tr(&[
            (0, "a", "b", req("INVITE", "1", 1, "")),
            (10, "b", "a", r),
        ]))
    };
    let cseq = sip("SIP/2.0 180 Ringing", "1", "2 INVITE", "t", "");
    assert_eq!(call(cseq), [("tx.response.cseq-not-copied", 1)]);
    let from = resp("180 Ringing", "1", "t", "").replace("tag=f", "tag=g");
    assert_eq!(call(from), [("tx.response.from-callid-not-copied", 1)]);
    let cid = resp("180 Ringing", "1", "t", "").replace("Call-ID: c", "Call-ID: d");
    assert_eq!(call(cid), [("tx.response.from-callid-not-copied", 1)]);
    let to = resp("180 Ringing", "1", "t", "").replace("<sip:b@x>", "<sip:c@x>");
    assert_eq!(call(to), [("tx.response.to-not-copied", 1)]);
    // Near-miss: display names, host case and a new To-tag are fine.
    let same = resp("180 Ringing", "1", "t", "")
        .replace("From: <sip:a@x>", "From: \"A\" <sip:a@X>")
        .replace("To: <sip:b@x>", "t: Bob <sip:b@X>");
    assert_eq!(call(same), []);
}

#[test]
fn an_in_dialog_response_must_keep_the_request_to_tag() {
    let mut c = clean_call();
    c[6].3 = sip("SIP/2.0 200 OK", "3", "2 BYE", "u", "");
    assert_eq!(ids(&tr(&c)), [("tx.response.to-not-copied", 6)]);
}

#[test]
fn responses_other_than_100_need_a_to_tag() {
    let mut c = clean_call();
    c[2].3 = resp("180 Ringing", "1", "", CONTACT_B1);
    c.insert(3, c[2].clone()); // a retransmission is reported once
    assert_eq!(ids(&tr(&c)), [("tx.response.no-to-tag", 2)]);
}

#[test]
fn one_uas_keeps_one_to_tag() {
    let mut c = clean_call();
    c[3].3 = resp("200 OK", "1", "u", CONTACT_B1);
    c.insert(4, c[3].clone()); // the retransmitted 200 is not a second change
    c[5].3 = req("ACK", "2", 1, "u");
    c[6].3 = req("BYE", "3", 2, "u");
    c[7].3 = sip("SIP/2.0 200 OK", "3", "2 BYE", "u", "");
    assert_eq!(ids(&tr(&c)), [("tx.response.to-tag-changed", 3)]);
    // Near-miss: a retransmitted 200 with the same tag.
    let mut c = clean_call();
    c.insert(4, c[3].clone());
    assert_eq!(ids(&tr(&c)), []);
}

/// a → p → b, and p relays two forks' responses to a.
fn forked(second_contact: &str) -> Vec<(u64, &'static str, &'static str, String)> {
    let relayed = req("INVITE", "1", 1, "").replace(
        "Via: ",
        "Via: SIP/2.0/UDP 127.0.0.1:5063;branch=z9hG4bKp1\nVia: ",
    );
    vec![
        (0, "a", "p", req("INVITE", "1", 1, "")),
        (5, "p", "b", relayed),
        (20, "p", "a", resp("180 Ringing", "1", "t1", CONTACT_B1)),
        (30, "p", "a", resp("200 OK", "1", "t2", second_contact)),
    ]
}

#[test]
fn a_forked_second_to_tag_is_not_a_change() {
    assert_eq!(ids(&tr(&forked(CONTACT_B2))), []);
    // Same Contact behind the proxy: the same UAS changed its tag.
    assert_eq!(
        ids(&tr(&forked(CONTACT_B1))),
        [("tx.response.to-tag-changed", 3)]
    );
}

#[test]
fn a_missing_mandatory_header_is_lifted() {
    let mut c = clean_call();
    c[5].3 = req("BYE", "3", 2, "t").replace("To: <sip:b@x>;tag=t\n", "");
    c.truncate(6);
    assert_eq!(ids(&tr(&c)), [("tx.message.missing-header", 5)]);
}

fn datagram(text: &str, transport: Transport) -> Trace {
    let message = parse_datagram(text.replace('\n', "\r\n").as_bytes()).message;
    let (src, dst) = (
        crate::check::observe::tests::addr("a"),
        crate::check::observe::tests::addr("b"),
    );
    Trace {
        messages: vec![TracedMessage {
            time: Duration::ZERO,
            src,
            dst,
            transport,
            message,
        }],
    }
}

#[test]
fn a_wrong_content_length_over_udp_is_lifted() {
    let options = req("OPTIONS", "1", 1, "");
    let long = format!("{options}Content-Length: 10\n\nv=0\n");
    assert_eq!(
        ids(&datagram(&long, Transport::Udp)),
        [("tx.udp.content-length", 0)]
    );
    let short = format!("{options}Content-Length: 0\n\nv=0\n");
    assert_eq!(
        ids(&datagram(&short, Transport::Udp)),
        [("tx.udp.trailing-octets", 0)]
    );
    // Near-misses: the exact length; the same datagram over TCP is not a UDP finding.
    let exact = format!("{options}Content-Length: 5\n\nv=0\n");
    assert_eq!(ids(&datagram(&exact, Transport::Udp)), []);
    assert_eq!(ids(&datagram(&long, Transport::Tcp)), []);
}

#[test]
fn a_branch_without_cookie_is_reported_once_on_the_request() {
    let old = |s: String| s.replace("branch=z9hG4bK1", "branch=old1");
    let c = vec![
        (0, "a", "b", old(req("OPTIONS", "1", 1, ""))),
        (500, "a", "b", old(req("OPTIONS", "1", 1, ""))),
        (
            600,
            "b",
            "a",
            old(sip("SIP/2.0 200 OK", "1", "1 OPTIONS", "t", "")),
        ),
    ];
    assert_eq!(ids(&tr(&c)), [("tx.via.no-cookie", 0)]);
    // Near-miss: a lower Via without the cookie is an upstream sender's.
    let lower = with_vias(
        req("OPTIONS", "1", 1, ""),
        "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK1\nVia: SIP/2.0/UDP h;branch=old\n",
    );
    assert_eq!(ids(&tr(&[(0, "a", "b", lower)])), []);
}

#[test]
fn findings_point_at_the_request() {
    let c = vec![
        (0, "a", "b", req("INVITE", "1", 1, "")),
        (10, "b", "a", resp("180 Ringing", "1", "", "")),
    ];
    let t = tr(&c);
    let mut out = Vec::new();
    run(&t, &observe(&t), &Tolerances::default(), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].related, [0]);
    assert_eq!(out[0].call_id.as_deref(), Some("c"));
    assert!(out[0].detail.starts_with("no To-tag"), "{}", out[0].detail);
}

// RFC 6665 §8.4: the reason of a Subscription-State is a token, so `reason=reason=noresource`
// (linphonec 5.1.65's final transfer NOTIFY) does not match the grammar.
#[test]
fn a_header_value_off_its_grammar_is_lifted_as_a_warning() {
    let notify = |state: &str| {
        sip(
            "NOTIFY sip:b@x SIP/2.0",
            "1",
            "1 NOTIFY",
            "t",
            &format!("Event: refer\nSubscription-State: {state}\nContent-Length: 0\n\n"),
        )
    };
    let bad = notify("terminated;reason=reason=noresource");
    assert_eq!(
        ids(&datagram(&bad, Transport::Udp)),
        [("tx.message.header-syntax", 0)]
    );
    assert_eq!(
        MESSAGE_HEADER_SYNTAX.severity,
        crate::rule::Severity::Warning
    );
    // Near-miss: the same header with a token reason.
    let good = notify("terminated;reason=noresource");
    assert_eq!(ids(&datagram(&good, Transport::Udp)), []);
}
