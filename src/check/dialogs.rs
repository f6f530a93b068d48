//! Within a dialog (RFC 3261 §12.2.1.1, §12.2.2, §8.1.1.5): each party's CSeq numbers go up,
//! and the tags that name the dialog stay what the confirming 2xx made them.
//!
//! A dialog is named by its Call-ID and its two tags, in either order: the UAC's requests carry
//! its tag in From, the UAS's in To. The request that created the dialog has no To-tag; it seeds
//! the CSeq order of every dialog it creates (§12.1.2: the local sequence number starts at its
//! CSeq).

use super::matching::{cseq_number, msg};
use super::{CheckGroup, Finding, Observation, Tolerances};
use crate::trace::Trace;
use std::collections::HashSet;
use std::net::SocketAddr;

crate::declare_rules! {
    CSEQ_NOT_INCREASING = ("tx.dialog.cseq-not-increasing", Transaction, Error, "RFC 3261 §12.2.1.1, §8.1.1.5",
        "an in-dialog request whose CSeq number is not above the sender's previous request in the dialog (ACK, CANCEL and retransmissions aside)");
    TAG_CHANGED = ("tx.dialog.tag-changed", Transaction, Error, "RFC 3261 §12.2.1.1, §12.1.2",
        "after a 2xx confirmed the dialog, an in-dialog request carries a remote tag no response gave (UAC: To-tag; UAS: From-tag)");
}

/// The group (a `const`, so that `CHECKS` can list it by value).
pub const GROUP: CheckGroup = CheckGroup {
    name: "dialogs",
    rules: RULES,
    run,
};

fn run(trace: &Trace, obs: &Observation, _tol: &Tolerances, out: &mut Vec<Finding>) {
    check_cseq(trace, obs, out);
    check_tags(trace, obs, out);
}

/// Whether message `i` is the first transmission of a request of its own transaction: not a
/// retransmission, not an ACK that belongs to an INVITE transaction (ACK for a non-2xx).
fn first_transmission(obs: &Observation, i: usize) -> bool {
    obs.tx(i)
        .is_none_or(|t| t.request() == i && !t.acks.contains(&i))
}

/// A request as the CSeq rule sees it.
struct Sent {
    index: usize,
    src: SocketAddr,
    call_id: String,
    from_tag: String,
    to_tag: Option<String>,
    cseq: u32,
}

/// The first transmission of every request but ACK and CANCEL, which reuse the number of the
/// request they acknowledge or cancel (§12.2.1.1: "excepting ACK and CANCEL of course").
fn sent_requests(trace: &Trace, obs: &Observation) -> Vec<Sent> {
    let mut v = Vec::new();
    for (i, m) in trace.messages.iter().enumerate() {
        let p = &m.message;
        let Some(method) = p.method() else { continue };
        if method == "ACK" || method == "CANCEL" || !first_transmission(obs, i) {
            continue;
        }
        let (Some(call_id), Some(from_tag), Some(cseq)) =
            (p.call_id(), p.from_tag(), cseq_number(p))
        else {
            continue;
        };
        v.push(Sent {
            index: i,
            src: m.src,
            call_id,
            from_tag,
            to_tag: p.to_tag(),
            cseq,
        });
    }
    v
}

/// §12.2.1.1: "Requests within a dialog MUST contain strictly monotonically increasing and
/// contiguous CSeq sequence numbers (increasing-by-one) in each direction". Gaps are not
/// reported: §12.2.2 says a higher jump "is not an error condition" (a challenged request that
/// the trace does not show leaves one). One sender is one address with one From-tag, so a proxy
/// relaying both directions and the same request on two hops are ordered separately.
fn check_cseq(trace: &Trace, obs: &Observation, out: &mut Vec<Finding>) {
    let sent = sent_requests(trace, obs);
    for (k, s) in sent.iter().enumerate() {
        let Some(tag) = &s.to_tag else { continue };
        let prev = sent[..k]
            .iter()
            .filter(|p| {
                p.src == s.src
                    && p.call_id == s.call_id
                    && p.from_tag == s.from_tag
                    && p.to_tag.as_ref().is_none_or(|t| t == tag)
            })
            .max_by_key(|p| p.cseq);
        let Some(prev) = prev.filter(|p| p.cseq >= s.cseq) else {
            continue;
        };
        let detail = format!(
            "CSeq {}, not above the {} CSeq {} the same sender used in this dialog (#{})",
            s.cseq,
            msg(trace, prev.index).method().unwrap_or_default(),
            prev.cseq,
            prev.index
        );
        out.push(
            Finding::new(&CSEQ_NOT_INCREASING, trace, s.index, detail).with_related([prev.index]),
        );
    }
}

/// The dialogs one dialog-creating request (no To-tag) led to, by Call-ID and the UAC's tag.
struct DialogSet {
    call_id: String,
    uac_tag: String,
    /// The first 2xx to an INVITE of the set, with its To-tag.
    confirmed: Option<(usize, String)>,
    /// Every To-tag any response of the set carried: each names a dialog, early or confirmed,
    /// from one UAS or another fork.
    known: HashSet<String>,
}

fn dialog_sets(trace: &Trace, obs: &Observation) -> Vec<DialogSet> {
    let mut sets: Vec<DialogSet> = Vec::new();
    for tx in &obs.txs {
        let q = msg(trace, tx.request());
        let (Some(call_id), Some(uac_tag), None) = (q.call_id(), q.from_tag(), q.to_tag()) else {
            continue;
        };
        let k = match sets
            .iter()
            .position(|s| s.call_id == call_id && s.uac_tag == uac_tag)
        {
            Some(k) => k,
            None => {
                sets.push(DialogSet {
                    call_id,
                    uac_tag,
                    confirmed: None,
                    known: HashSet::new(),
                });
                sets.len() - 1
            }
        };
        let set = &mut sets[k];
        for &r in &tx.responses {
            let p = msg(trace, r);
            let Some(tag) = p.to_tag() else { continue };
            let is_2xx = p.status().is_some_and(|s| (200..300).contains(&s));
            if tx.is_invite() && is_2xx && set.confirmed.as_ref().is_none_or(|(c, _)| r < *c) {
                set.confirmed = Some((r, tag.clone()));
            }
            set.known.insert(tag);
        }
    }
    sets
}

/// §12.2.1.1: "The tag in the To header field of the request MUST be set to the remote tag of
/// the dialog ID. [...] The tag in the From header field of the request MUST be set to the
/// local tag of the dialog ID." After the dialog is confirmed, a request whose Call-ID and one
/// tag name the dialog set but whose other tag no response gave has changed the dialog's tag. A
/// second 2xx with another tag (a fork) is another dialog, so its tag is known, not changed.
fn check_tags(trace: &Trace, obs: &Observation, out: &mut Vec<Finding>) {
    let sets = dialog_sets(trace, obs);
    for (i, m) in trace.messages.iter().enumerate() {
        let p = &m.message;
        if !p.is_request() || !first_transmission(obs, i) {
            continue;
        }
        let (Some(call_id), Some(from), Some(to)) = (p.call_id(), p.from_tag(), p.to_tag()) else {
            continue;
        };
        for s in sets.iter().filter(|s| s.call_id == call_id) {
            let Some((at, tag)) = s.confirmed.as_ref().filter(|(at, _)| *at < i) else {
                continue;
            };
            let (side, header, got) = if from == s.uac_tag {
                ("UAC", "To", &to)
            } else if to == s.uac_tag {
                ("UAS", "From", &from)
            } else {
                continue;
            };
            if s.known.contains(got) {
                continue;
            }
            let detail = format!(
                "the {side}'s request carries {header}-tag {got}, but the dialog was confirmed with tag {tag} (#{at}) and no response gave {got}"
            );
            out.push(Finding::new(&TAG_CHANGED, trace, i, detail).with_related([*at]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::GROUP;
    use crate::check::matching::tests::{found, req, resp, sip, tr};

    type Call = Vec<(u64, &'static str, &'static str, String)>;

    fn ids(c: &Call) -> Vec<(&'static str, usize)> {
        found(&GROUP, &tr(c))
    }

    /// A request from b (the UAS, tag `from_tag`) to a in the dialog.
    fn from_b(method: &str, branch: &str, cseq: u32, from_tag: &str) -> String {
        format!(
            "{method} sip:a@x SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK{branch}\nFrom: <sip:b@x>;tag={from_tag}\nTo: <sip:a@x>;tag=f\nCall-ID: c\nCSeq: {cseq} {method}\nMax-Forwards: 70\n"
        )
    }

    /// INVITE (CSeq 1), 200 with tag t, ACK on a new branch (CSeq 1): a confirmed dialog.
    fn confirmed() -> Call {
        vec![
            (0, "a", "b", req("INVITE", "1", 1, "")),
            (
                10,
                "b",
                "a",
                resp("200 OK", "1", "t", "Contact: <sip:b@10.0.0.1>\n"),
            ),
            (20, "a", "b", req("ACK", "2", 1, "t")),
        ]
    }

    #[test]
    fn cseq_must_increase_per_sender_in_a_dialog() {
        let mut c = confirmed();
        c.push((30, "a", "b", req("INFO", "3", 5, "t")));
        c.push((40, "a", "b", req("BYE", "4", 5, "t")));
        assert_eq!(ids(&c), [("tx.dialog.cseq-not-increasing", 4)]);
        c[4].3 = req("BYE", "4", 3, "t");
        assert_eq!(ids(&c), [("tx.dialog.cseq-not-increasing", 4)]);
        // Below the INVITE that created the dialog.
        let mut c = confirmed();
        c[0].3 = req("INVITE", "1", 7, "");
        c[1].3 = sip("SIP/2.0 200 OK", "1", "7 INVITE", "t", "");
        c[2].3 = req("ACK", "2", 7, "t");
        c.push((30, "a", "b", req("BYE", "3", 7, "t")));
        assert_eq!(ids(&c), [("tx.dialog.cseq-not-increasing", 3)]);
    }

    #[test]
    fn ack_retransmissions_and_the_other_direction_are_not_out_of_order() {
        let mut c = confirmed(); // ACK with the INVITE's CSeq
        c.push((30, "a", "b", req("BYE", "3", 2, "t")));
        c.push((530, "a", "b", req("BYE", "3", 2, "t"))); // retransmission
        c.push((40, "b", "a", from_b("INFO", "b1", 1, "t"))); // b's own numbering
        c.push((50, "b", "a", from_b("INFO", "b2", 2, "t")));
        assert_eq!(ids(&c), []);
        c.push((60, "b", "a", from_b("INFO", "b3", 2, "t")));
        assert_eq!(ids(&c), [("tx.dialog.cseq-not-increasing", 7)]);
    }

    /// a → p INVITE, p relays 200s from two forks (tags t1, t2), a ACKs both.
    fn forked() -> Call {
        let ok =
            |tag: &str, host: &str| resp("200 OK", "1", tag, &format!("Contact: <sip:b@{host}>\n"));
        vec![
            (0, "a", "p", req("INVITE", "1", 1, "")),
            (10, "p", "a", ok("t1", "10.0.0.1")),
            (20, "p", "a", ok("t2", "10.0.0.2")),
            (30, "a", "p", req("ACK", "2", 1, "t1")),
            (40, "a", "p", req("ACK", "3", 1, "t2")),
        ]
    }

    #[test]
    fn each_fork_is_its_own_dialog() {
        let mut c = forked();
        c.push((50, "a", "p", req("BYE", "4", 2, "t1")));
        c.push((60, "a", "p", req("BYE", "5", 2, "t2")));
        assert_eq!(ids(&c), []);
    }

    #[test]
    fn the_uac_must_keep_the_confirmed_to_tag() {
        let mut c = confirmed();
        c.push((30, "a", "b", req("BYE", "3", 2, "x")));
        assert_eq!(ids(&c), [("tx.dialog.tag-changed", 3)]);
        let mut c = forked();
        c.push((50, "a", "p", req("BYE", "4", 2, "t3")));
        assert_eq!(ids(&c), [("tx.dialog.tag-changed", 5)]);
    }

    #[test]
    fn the_uas_must_keep_its_from_tag() {
        let mut c = confirmed();
        c.push((30, "b", "a", from_b("BYE", "b1", 1, "x")));
        assert_eq!(ids(&c), [("tx.dialog.tag-changed", 3)]);
        c[3].3 = from_b("BYE", "b1", 1, "t");
        assert_eq!(ids(&c), []);
    }

    #[test]
    fn requests_before_the_2xx_are_not_judged_by_it() {
        // A PRACK in an early dialog from a 183 with tag e, before the 200 (tag e too).
        let c = vec![
            (0, "a", "b", req("INVITE", "1", 1, "")),
            (10, "b", "a", resp("183 Session Progress", "1", "e", "")),
            (20, "a", "b", req("PRACK", "2", 2, "e")),
            (30, "b", "a", resp("200 OK", "1", "e", "")),
            (40, "a", "b", req("ACK", "3", 1, "e")),
        ];
        assert_eq!(ids(&c), []);
    }
}
