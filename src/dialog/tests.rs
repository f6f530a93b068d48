//! Dialog creation, requests inside dialogs and their updates (RFC 3261 §12).

use super::*;
use crate::sip::parse::parse_message;

pub(super) const CALL_ID: &str = "a84b4c76e66710@pc33.atlanta.example.com";
pub(super) const ALICE_TAG: &str = "1928301774";

/// A request we built, parsed after adding the Via the caller is responsible for.
fn sent(b: MessageBuilder) -> Message {
    parse(&b.header("Via", "SIP/2.0/UDP 192.0.2.99;branch=z9hG4bKtest"))
}

pub(super) fn parse(b: &MessageBuilder) -> Message {
    let m = parse_message(&b.build());
    assert!(!m.has_errors(), "{:?}\n{}", m.rule_ids(), m.summary());
    m
}

/// Alice's INVITE (RFC 3665-style), with `rr` as Record-Route fields when it reaches Bob.
pub(super) fn invite(rr: &[&str]) -> Message {
    let mut b = MessageBuilder::request("INVITE", "sip:bob@biloxi.example.com")
        .header(
            "Via",
            "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds",
        )
        .header("Max-Forwards", "70")
        .header("To", "Bob <sip:bob@biloxi.example.com>")
        .header(
            "From",
            &format!("Alice <sip:alice@atlanta.example.com>;tag={ALICE_TAG}"),
        )
        .header("Call-ID", CALL_ID)
        .header("CSeq", "314159 INVITE")
        .header("Contact", "<sip:alice@pc33.atlanta.example.com>");
    for r in rr {
        b = b.header("Record-Route", r);
    }
    parse(&b)
}

/// A response to `req` with an optional To tag, Record-Route fields and Contact.
pub(super) fn reply(
    req: &Message,
    code: u16,
    tag: Option<&str>,
    rr: &[&str],
    contact: Option<&str>,
) -> Message {
    let mut b = MessageBuilder::response_to(req, code, "Reason");
    if let Some(t) = tag {
        b = b.to_tag(t);
    }
    for r in rr {
        b = b.header("Record-Route", r);
    }
    if let Some(c) = contact {
        b = b.header("Contact", c);
    }
    parse(&b)
}

/// A request Bob sends to Alice inside the dialog, `bob_tag` being his.
fn from_bob(method: &str, cseq: u32, bob_tag: &str, contact: Option<&str>) -> Message {
    let mut b = MessageBuilder::request(method, "sip:alice@pc33.atlanta.example.com")
        .header("Via", "SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds10")
        .header("Max-Forwards", "70")
        .header(
            "From",
            &format!("Bob <sip:bob@biloxi.example.com>;tag={bob_tag}"),
        )
        .header(
            "To",
            &format!("Alice <sip:alice@atlanta.example.com>;tag={ALICE_TAG}"),
        )
        .header("Call-ID", CALL_ID)
        .header("CSeq", &format!("{cseq} {method}"));
    if let Some(c) = contact {
        b = b.header("Contact", c);
    }
    parse(&b)
}

/// Alice's confirmed dialog after a 200 from Bob (tag `b1`) with `rr` as Record-Route.
fn alice_dialog(rr: &[&str]) -> Dialog {
    let inv = invite(&[]);
    let ok = reply(&inv, 200, Some("b1"), rr, Some("<sip:bob@192.0.2.4>"));
    Dialog::new_uac(&inv, &ok, false).unwrap()
}

/// Bob's confirmed dialog: Alice's INVITE came through `rr`; Bob answered 200 with tag `b1`.
fn bob_dialog(rr: &[&str]) -> Dialog {
    let inv = invite(rr);
    let ok = reply(&inv, 200, Some("b1"), rr, Some("<sip:bob@192.0.2.4>"));
    Dialog::new_uas(&inv, &ok, false).unwrap()
}

fn lines(b: &MessageBuilder, name: &str) -> Vec<String> {
    let text = String::from_utf8(b.build()).unwrap();
    let prefix = format!("{name}: ");
    text.lines()
        .filter_map(|l| l.strip_prefix(&prefix).map(str::to_string))
        .collect()
}

fn uris(d: &Dialog) -> Vec<String> {
    d.route_set.iter().map(|r| r.uri.to_string()).collect()
}

#[test]
fn uac_reverses_record_route_and_targets_the_contact() {
    // RFC 3261 §12.1.2
    let d = alice_dialog(&["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>;ftag=x"]);
    assert_eq!((d.state, d.role), (DialogState::Confirmed, Role::Uac));
    assert_eq!(uris(&d), ["sip:p2.example.com;lr", "sip:p1.example.com;lr"]);
    assert_eq!(d.remote_target.to_string(), "sip:bob@192.0.2.4");
    assert_eq!((d.local_seq, d.remote_seq), (Some(314159), None));
    let id = DialogId {
        call_id: CALL_ID.into(),
        local_tag: ALICE_TAG.into(),
        remote_tag: "b1".into(),
    };
    assert_eq!(d.id, id);
    assert_eq!(d.local_uri.uri.to_string(), "sip:alice@atlanta.example.com");
    assert_eq!(d.remote_uri.uri.to_string(), "sip:bob@biloxi.example.com");
    assert!(!d.secure);

    let mut d = d;
    let bye = d.next_request("BYE").unwrap();
    let m = sent(bye.clone());
    assert_eq!(m.request_uri().as_deref(), Some("sip:bob@192.0.2.4"));
    let routes = lines(&bye, "Route");
    assert_eq!(
        routes,
        ["<sip:p2.example.com;lr>;ftag=x", "<sip:p1.example.com;lr>"]
    );
    assert_eq!(m.from_tag().as_deref(), Some(ALICE_TAG));
    assert_eq!(m.to_tag().as_deref(), Some("b1"));
    assert_eq!(m.call_id().as_deref(), Some(CALL_ID));
    assert_eq!(
        m.first_value(HeaderName::MaxForwards).as_deref(),
        Some("70")
    );
    assert_eq!(
        DialogId::from_response_as_uac(&reply(&m, 200, None, &[], None)),
        Ok(id)
    );
    assert!(d.is_terminated(), "sending BYE ends the dialog (§15.1.1)");
}

#[test]
fn uas_keeps_record_route_order_and_starts_without_local_seq() {
    // RFC 3261 §12.1.1; two Record-Route fields count as one list in order.
    let mut d = bob_dialog(&["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]);
    assert_eq!(d.role, Role::Uas);
    assert_eq!(uris(&d), ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]);
    assert_eq!(
        d.remote_target.to_string(),
        "sip:alice@pc33.atlanta.example.com"
    );
    assert_eq!((d.local_seq, d.remote_seq), (None, Some(314159)));
    assert_eq!(
        (d.id.local_tag.as_str(), d.id.remote_tag.as_str()),
        ("b1", ALICE_TAG)
    );
    let bye = d.next_request("BYE").unwrap();
    let m = sent(bye.clone());
    assert_eq!(
        m.cseq().map(|c| c.number),
        Some(1),
        "§12.2.1.1: empty local seq gets a first value"
    );
    assert_eq!(
        m.from_addr().unwrap().uri.to_string(),
        "sip:bob@biloxi.example.com"
    );
    assert_eq!(
        (m.from_tag().unwrap(), m.to_tag().unwrap()),
        ("b1".into(), ALICE_TAG.into())
    );
    assert_eq!(
        lines(&bye, "Route"),
        ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    );
    let from_alice = parse(&MessageBuilder::response_to(&m, 200, "OK"));
    assert_eq!(
        DialogId::from_response_as_uac(&from_alice)
            .unwrap()
            .local_tag,
        "b1"
    );
}

#[test]
fn dialog_id_of_received_requests() {
    // RFC 3261 §12.2.2: local tag = To tag, remote tag = From tag.
    let bye = from_bob("BYE", 1, "b1", None);
    let id = DialogId::from_request_as_uas(&bye).unwrap();
    assert_eq!(
        (id.local_tag.as_str(), id.remote_tag.as_str()),
        (ALICE_TAG, "b1")
    );
    assert_eq!(DialogId::of_received(&bye), Ok(id));
    let err = DialogId::from_request_as_uas(&invite(&[])).unwrap_err();
    assert_eq!(err, DialogError::OutsideDialog);
}

#[test]
fn cseq_increments_and_ack_cancel_reuse_the_invite_number() {
    let mut d = alice_dialog(&[]);
    let cseq = |b: &MessageBuilder| lines(b, "CSeq");
    let uas = bob_dialog(&[]);
    assert_eq!(
        uas.cancel().unwrap_err(),
        DialogError::NoInvite { method: "CANCEL" }
    );
    let inv = invite(&[]);
    let ringing = reply(&inv, 180, Some("b1"), &[], Some("<sip:bob@192.0.2.4>"));
    let early = Dialog::new_uac(&inv, &ringing, false).unwrap();
    assert_eq!(
        early.cancel().unwrap_err(),
        DialogError::CancelInitialInvite
    );
    // The 2xx to the initial INVITE is ACKed with its number.
    assert_eq!(cseq(&d.next_request("ACK").unwrap()), ["314159 ACK"]);
    // RFC 3261 §12.2.1.1: +1 per request.
    let info = d.next_request("INFO").unwrap();
    assert_eq!(cseq(&info), ["314160 INFO"]);
    assert!(
        lines(&info, "Contact").is_empty(),
        "INFO is no target refresh"
    );
    let reinvite = d.next_request("INVITE").unwrap();
    assert_eq!(cseq(&reinvite), ["314161 INVITE"]);
    assert_eq!(
        lines(&reinvite, "Contact"),
        ["<sip:alice@pc33.atlanta.example.com>"]
    );
    // RFC 3261 §9.1, §13.2.2.4: CANCEL and ACK reuse the INVITE's number.
    assert_eq!(cseq(&d.next_request("CANCEL").unwrap()), ["314161 CANCEL"]);
    assert_eq!(cseq(&d.next_request("ACK").unwrap()), ["314161 ACK"]);
    let ack = d.ack_for_2xx(314161);
    assert_eq!(cseq(&ack), ["314161 ACK"]);
    assert_eq!(
        sent(ack).request_uri().as_deref(),
        Some("sip:bob@192.0.2.4")
    );
    assert_eq!(d.local_seq, Some(314161));
    assert_eq!(cseq(&d.next_request("BYE").unwrap()), ["314162 BYE"]);
    assert_eq!(d.next_request("INFO").unwrap_err(), DialogError::Terminated);
    d.local_seq = Some(crate::sip::headers::CSEQ_MAX);
    d.state = DialogState::Confirmed;
    assert_eq!(
        d.next_request("INFO").unwrap_err(),
        DialogError::CSeqExhausted
    );
}

#[test]
fn cancel_for_the_initial_invite_copies_its_identity() {
    // RFC 3261 §9.1: same Request-URI, Call-ID, To (no tag), From, top Via; CSeq n CANCEL.
    let inv = invite(&[]);
    let c = parse(&cancel_for(&inv).unwrap());
    assert_eq!(c.method().as_deref(), Some("CANCEL"));
    assert_eq!(c.request_uri(), inv.request_uri());
    assert_eq!((c.branch(), c.to_tag()), (inv.branch(), None));
    assert_eq!(c.from_tag().as_deref(), Some(ALICE_TAG));
    let cs = c.cseq().unwrap();
    assert_eq!((cs.number, cs.method.as_str()), (314159, "CANCEL"));
}

#[test]
fn strict_first_route_becomes_the_request_uri() {
    // RFC 3261 §12.2.1.1: reversed, the strict router is first.
    let rr = [
        "<sip:loose.example.com;lr>",
        "<sip:strict.example.com;maddr=10.0.0.1;method=INVITE?Subject=x>",
    ];
    let mut d = alice_dialog(&rr);
    let (ruri, routes) = d.request_uri_and_routes();
    assert_eq!(
        ruri, "sip:strict.example.com;maddr=10.0.0.1",
        "method= and ?headers stripped"
    );
    assert_eq!(
        routes,
        ["<sip:loose.example.com;lr>", "<sip:bob@192.0.2.4>"]
    );
    let m = sent(d.next_request("INFO").unwrap());
    assert_eq!(
        m.request_uri().as_deref(),
        Some("sip:strict.example.com;maddr=10.0.0.1")
    );
    assert_eq!(m.values(HeaderName::Route), routes);
    // Loose first route: the remote target stays the Request-URI.
    let d = alice_dialog(&["<sip:strict.example.com>", "<sip:loose.example.com;lr>"]);
    let (ruri, routes) = d.request_uri_and_routes();
    assert_eq!(ruri, "sip:bob@192.0.2.4");
    assert_eq!(
        routes,
        ["<sip:loose.example.com;lr>", "<sip:strict.example.com>"]
    );
}

#[test]
fn reinvite_and_update_refresh_the_remote_target() {
    // Alice's dialog as UAC; Bob sends requests to her (RFC 3261 §12.2.2, RFC 3311 §5.2).
    let mut d = alice_dialog(&[]);
    let reinvite = from_bob("INVITE", 7, "b1", Some("<sip:bob@198.51.100.1>"));
    d.on_remote_request(&reinvite).unwrap();
    assert_eq!(d.remote_target.to_string(), "sip:bob@198.51.100.1");
    assert_eq!(d.remote_seq, Some(7), "§12.2.2: an empty remote seq is set");
    let update = from_bob(
        "UPDATE",
        8,
        "b1",
        Some("<sip:bob@198.51.100.2;transport=tcp>"),
    );
    d.on_remote_request(&update).unwrap();
    assert_eq!(
        d.remote_target.to_string(),
        "sip:bob@198.51.100.2;transport=tcp"
    );
    // INFO is not a target refresh: its Contact is ignored.
    d.on_remote_request(&from_bob("INFO", 9, "b1", Some("<sip:x@203.0.113.9>")))
        .unwrap();
    assert_eq!(
        d.remote_target.to_string(),
        "sip:bob@198.51.100.2;transport=tcp"
    );
    assert_eq!(d.remote_seq, Some(9));
    // RFC 3261 §12.2.1.2: the 2xx to our own re-INVITE refreshes it too.
    let ours = sent(d.next_request("INVITE").unwrap());
    d.on_response(&reply(&ours, 200, None, &[], Some("<sip:bob@203.0.113.7>")))
        .unwrap();
    assert_eq!(d.remote_target.to_string(), "sip:bob@203.0.113.7");
    assert!(d.is_confirmed());
}

#[test]
fn out_of_order_remote_cseq_is_rejected_with_500() {
    let mut d = bob_dialog(&[]);
    let mut alice = |method: &str, n: u32| {
        let b = MessageBuilder::request(method, "sip:bob@192.0.2.4")
            .header(
                "Via",
                "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKx",
            )
            .header("Max-Forwards", "70")
            .header(
                "From",
                &format!("<sip:alice@atlanta.example.com>;tag={ALICE_TAG}"),
            )
            .header("To", "<sip:bob@biloxi.example.com>;tag=b1")
            .header("Call-ID", CALL_ID)
            .header("CSeq", &format!("{n} {method}"));
        d.on_remote_request(&parse(&b))
    };
    // RFC 3261 §12.2.2: lower than the remote sequence number is out of order.
    let err = alice("INFO", 314158).unwrap_err();
    assert_eq!(
        err,
        DialogError::CSeqOutOfOrder {
            got: 314158,
            last: 314159
        }
    );
    assert_eq!(
        (err.status_code(), err.rfc()),
        (Some(500), "RFC 3261 §12.2.2")
    );
    assert!(err.to_string().contains("§12.2.2"));
    // The ACK for the 2xx carries the INVITE's number (§13.2.2.4).
    alice("ACK", 314159).unwrap();
    alice("INFO", 314160).unwrap();
    assert_eq!(alice("INFO", 314159).unwrap_err().status_code(), Some(500));
    alice("BYE", 314161).unwrap();
    assert_eq!(
        alice("INFO", 314162),
        Err(DialogError::Terminated),
        "§15.1.2"
    );
    assert_eq!(d.remote_seq, Some(314161));
}

#[test]
fn requests_for_another_dialog_get_481() {
    let mut d = alice_dialog(&[]);
    let err = d
        .on_remote_request(&from_bob("BYE", 1, "other", None))
        .unwrap_err();
    assert_eq!(err, DialogError::Mismatch { what: "remote tag" });
    assert_eq!(err.status_code(), Some(481));
    assert!(d.is_confirmed());
}

#[test]
fn early_dialog_is_confirmed_by_2xx_with_the_same_tag() {
    // RFC 3261 §12.1.2, §13.2.2.4: the 2xx recomputes the route set and the target.
    let inv = invite(&[]);
    let ringing = reply(
        &inv,
        180,
        Some("b1"),
        &["<sip:p1.example.com;lr>"],
        Some("<sip:bob@192.0.2.4>"),
    );
    let mut d = Dialog::new_uac(&inv, &ringing, false).unwrap();
    assert!(d.is_early());
    assert_eq!(uris(&d), ["sip:p1.example.com;lr"]);
    d.on_response(&ringing).unwrap();
    assert!(d.is_early());
    let rr = ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"];
    d.on_response(&reply(
        &inv,
        200,
        Some("b1"),
        &rr,
        Some("<sip:bob@192.0.2.5>"),
    ))
    .unwrap();
    assert!(d.is_confirmed());
    assert_eq!(uris(&d), ["sip:p2.example.com;lr", "sip:p1.example.com;lr"]);
    assert_eq!(d.remote_target.to_string(), "sip:bob@192.0.2.5");
    let other = reply(&inv, 200, Some("b2"), &[], Some("<sip:x@h>"));
    assert!(matches!(
        d.on_response(&other),
        Err(DialogError::Mismatch { .. })
    ));
}

#[test]
fn early_dialog_is_terminated_by_486() {
    // RFC 3261 §12.3
    let inv = invite(&[]);
    let ringing = reply(&inv, 180, Some("b1"), &[], Some("<sip:bob@192.0.2.4>"));
    let mut d = Dialog::new_uac(&inv, &ringing, false).unwrap();
    d.on_response(&reply(&inv, 486, Some("b1"), &[], None))
        .unwrap();
    assert!(d.is_terminated());
    // A failed re-INVITE leaves a confirmed dialog alone; a 481 ends it (§12.2.1.2).
    let mut d = alice_dialog(&[]);
    let re = sent(d.next_request("INVITE").unwrap());
    d.on_response(&reply(&re, 488, None, &[], None)).unwrap();
    assert!(d.is_confirmed());
    d.on_response(&reply(&re, 481, None, &[], None)).unwrap();
    assert!(d.is_terminated());
}

#[test]
fn uas_early_dialog_follows_the_responses_it_sends() {
    // RFC 3261 §12.1.1, §12.3
    let inv = invite(&[]);
    let ringing = reply(&inv, 180, Some("b1"), &[], Some("<sip:bob@192.0.2.4>"));
    let mut d = Dialog::new_uas(&inv, &ringing, false).unwrap();
    assert!(d.is_early());
    d.on_sent_response(&reply(&inv, 200, Some("b1"), &[], None))
        .unwrap();
    assert!(d.is_confirmed());
    let mut d = Dialog::new_uas(&inv, &ringing, false).unwrap();
    d.on_sent_response(&reply(&inv, 486, Some("b1"), &[], None))
        .unwrap();
    assert!(d.is_terminated());
}

#[test]
fn what_does_not_create_a_dialog() {
    // RFC 3261 §12.1
    let inv = invite(&[]);
    let contact = Some("<sip:bob@192.0.2.4>");
    for (code, tag) in [(100, Some("b1")), (180, None), (486, Some("b1"))] {
        let r = reply(&inv, code, tag, &[], contact);
        let err = Dialog::new_uac(&inv, &r, false).unwrap_err();
        assert_eq!(err, DialogError::ResponseCreatesNoDialog { status: code });
    }
    let no_tag = reply(&inv, 200, None, &[], contact);
    let d = Dialog::new_uac(&inv, &no_tag, false).unwrap();
    assert_eq!(d.id.remote_tag, "", "RFC 2543 peer: null tag (§12.1.2)");
    let uas = Dialog::new_uas(&inv, &no_tag, false).unwrap_err();
    assert!(matches!(
        uas,
        DialogError::BadHeader {
            header: "To tag",
            ..
        }
    ));
    let no_contact = reply(&inv, 200, Some("b1"), &[], None);
    let err = Dialog::new_uac(&inv, &no_contact, false).unwrap_err();
    assert!(matches!(
        err,
        DialogError::BadHeader {
            header: "Contact",
            ..
        }
    ));
    let msg = parse_message(
        &MessageBuilder::request("MESSAGE", "sip:b@x")
            .header("CSeq", "1 MESSAGE")
            .build(),
    );
    let err = Dialog::new_uac(&msg, &no_contact, false).unwrap_err();
    assert!(matches!(err, DialogError::MethodCreatesNoDialog { .. }));
}

#[test]
fn secure_needs_tls_and_a_sips_request_uri() {
    // RFC 3261 §12.1.1, §12.1.2
    let b = MessageBuilder::request("INVITE", "sips:bob@biloxi.example.com")
        .header(
            "Via",
            "SIP/2.0/TLS pc33.atlanta.example.com;branch=z9hG4bK7",
        )
        .header("Max-Forwards", "70")
        .header("To", "<sips:bob@biloxi.example.com>")
        .header("From", "<sips:alice@atlanta.example.com>;tag=a")
        .header("Call-ID", "c")
        .header("CSeq", "1 INVITE")
        .header("Contact", "<sips:alice@pc33.atlanta.example.com>");
    let inv = parse(&b);
    let ok = reply(&inv, 200, Some("b"), &[], Some("<sips:bob@192.0.2.4>"));
    assert!(Dialog::new_uac(&inv, &ok, true).unwrap().secure);
    assert!(!Dialog::new_uac(&inv, &ok, false).unwrap().secure);
    assert!(!alice_dialog(&[]).secure);
}
