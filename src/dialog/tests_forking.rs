//! One INVITE, several dialogs (RFC 3261 §12.1.2, §13.2.2.4, §12.3; RFC 6026 §7.2).

use super::tests::{invite, parse, reply, ALICE_TAG, CALL_ID};
use super::*;

fn id(tag: &str) -> DialogId {
    DialogId {
        call_id: CALL_ID.into(),
        local_tag: ALICE_TAG.into(),
        remote_tag: tag.into(),
    }
}

/// A response from the branch that answers with `tag`, Contact `sip:<tag>@192.0.2.4`.
fn from_branch(inv: &Message, code: u16, tag: &str) -> Message {
    let contact = format!("<sip:{tag}@192.0.2.4>");
    reply(inv, code, Some(tag), &[], Some(&contact))
}

fn states(set: &DialogSet) -> Vec<(String, DialogState)> {
    let each = |d: &Dialog| (d.id.remote_tag.clone(), d.state);
    set.dialogs().iter().map(each).collect()
}

fn provisional(tag: &str, new: bool) -> SetEvent {
    SetEvent::Provisional { id: id(tag), new }
}

fn confirmed(tag: &str, first: bool) -> SetEvent {
    SetEvent::Confirmed { id: id(tag), first }
}

/// 180 from A, 180 from B, 183 from A, 200 from B, the 200 again, then a late 200 from A.
fn forked_and_answered_twice() -> DialogSet {
    let inv = invite(&[]);
    let mut set = DialogSet::new(&inv, false).unwrap();
    let mut on = |code, tag| set.on_response(&from_branch(&inv, code, tag)).unwrap();
    assert_eq!(on(180, "A"), provisional("A", true));
    assert_eq!(on(180, "B"), provisional("B", true));
    assert_eq!(on(183, "A"), provisional("A", false));
    // RFC 3261 §13.2.2.4: the 2xx with tag B confirms B only.
    assert_eq!(on(200, "B"), confirmed("B", true));
    // A retransmission is ACKed again (RFC 6026 §7.2).
    assert_eq!(on(200, "B"), SetEvent::Retransmitted2xx(id("B")));
    // A late 2xx with tag A: a second confirmed dialog, to ACK and then BYE.
    assert_eq!(on(200, "A"), confirmed("A", false));
    set
}

#[test]
fn two_tags_two_early_dialogs_then_both_confirmed() {
    let inv = invite(&[]);
    let mut set = DialogSet::new(&inv, false).unwrap();
    set.on_response(&from_branch(&inv, 180, "A")).unwrap();
    set.on_response(&from_branch(&inv, 180, "B")).unwrap();
    let early = DialogState::Early;
    assert_eq!(states(&set), [("A".into(), early), ("B".into(), early)]);
    set.on_response(&from_branch(&inv, 200, "B")).unwrap();
    let ok = DialogState::Confirmed;
    assert_eq!(states(&set), [("A".into(), early), ("B".into(), ok)]);

    let set = forked_and_answered_twice();
    assert_eq!(states(&set), [("A".into(), ok), ("B".into(), ok)]);
    assert_eq!(set.confirmed().count(), 2);
}

#[test]
fn the_late_dialog_is_acked_then_ended_with_bye() {
    // RFC 3261 §13.2.2.4
    let mut set = forked_and_answered_twice();
    let a = set.get_mut("A").unwrap();
    assert_eq!(a.remote_target.to_string(), "sip:A@192.0.2.4");
    let ack = a.next_request("ACK").unwrap();
    let ack = parse(&ack.header("Via", "SIP/2.0/UDP h;branch=z9hG4bKack"));
    assert_eq!(ack.request_uri().as_deref(), Some("sip:A@192.0.2.4"));
    assert_eq!(ack.cseq().map(|c| c.number), Some(314159));
    assert_eq!(ack.to_tag().as_deref(), Some("A"));
    let bye = a.next_request("BYE").unwrap();
    let bye = parse(&bye.header("Via", "SIP/2.0/UDP h;branch=z9hG4bKbye"));
    assert_eq!(bye.cseq().map(|c| c.number), Some(314160));
    assert!(set.get("A").unwrap().is_terminated());
    assert!(set.get("B").unwrap().is_confirmed());
}

#[test]
fn a_final_failure_ends_every_early_dialog() {
    // RFC 3261 §12.3
    let inv = invite(&[]);
    let mut set = DialogSet::new(&inv, false).unwrap();
    set.on_response(&from_branch(&inv, 180, "A")).unwrap();
    set.on_response(&from_branch(&inv, 180, "B")).unwrap();
    let ev = set
        .on_response(&reply(&inv, 486, Some("C"), &[], None))
        .unwrap();
    let terminated = vec![id("A"), id("B")];
    assert_eq!(
        ev,
        SetEvent::Failed {
            status: 486,
            terminated
        }
    );
    assert!(set.dialogs().iter().all(Dialog::is_terminated));
}

#[test]
fn early_dialogs_left_when_the_transaction_ends_are_terminated() {
    // RFC 6026 §7.2 (Timer M), RFC 3261 §13.2.2.4
    let inv = invite(&[]);
    let mut set = DialogSet::new(&inv, false).unwrap();
    set.on_response(&from_branch(&inv, 180, "A")).unwrap();
    let ev = set.on_response(&from_branch(&inv, 200, "C")).unwrap();
    assert_eq!(ev, confirmed("C", true), "2xx without 1xx");
    assert_eq!(set.on_transaction_end(), [id("A")]);
    assert!(set.get("C").unwrap().is_confirmed());
}

#[test]
fn responses_that_make_no_dialog_or_belong_elsewhere() {
    // RFC 3261 §12.1
    let inv = invite(&[]);
    let mut set = DialogSet::new(&inv, false).unwrap();
    let trying = reply(&inv, 100, None, &[], None);
    assert_eq!(set.on_response(&trying).unwrap(), SetEvent::NoDialog);
    let untagged = reply(&inv, 180, None, &[], Some("<sip:x@h>"));
    assert_eq!(set.on_response(&untagged).unwrap(), SetEvent::NoDialog);
    assert!(set.dialogs().is_empty());
    let other = MessageBuilder::response_to(&inv, 200, "OK")
        .remove(HeaderName::CallId)
        .header("Call-ID", "another")
        .header("Contact", "<sip:x@h>")
        .to_tag("Z");
    let other = parse(&other);
    let err = set.on_response(&other).unwrap_err();
    assert_eq!(err, DialogError::Mismatch { what: "Call-ID" });
    let msg = MessageBuilder::request("OPTIONS", "sip:b@x").header("CSeq", "1 OPTIONS");
    let msg = crate::sip::parse::parse_message(&msg.build());
    assert!(matches!(
        DialogSet::new(&msg, false),
        Err(DialogError::MethodCreatesNoDialog { .. })
    ));
}
