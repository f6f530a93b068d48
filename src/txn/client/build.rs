//! The requests a client transaction (or its TU) derives from an INVITE: the ACK for a non-2xx
//! final response (RFC 3261 §17.1.1.3) and the CANCEL (§9.1).

use crate::sip::builder::MessageBuilder;
use crate::sip::header_name::HeaderName;
use crate::sip::lex;
use crate::sip::message::Message;

/// The ACK a client INVITE transaction sends for a 300-699 final response (RFC 3261
/// §17.1.1.3): the INVITE's Request-URI, Call-ID and From; the CSeq number with method ACK;
/// one Via equal to the INVITE's top Via (same branch, so it matches the server transaction);
/// To from the response (with the tag the UAS added); the INVITE's Route headers;
/// Max-Forwards 70 (§8.1.1.6) and no body.
pub fn build_ack_for_non_2xx(invite: &Message, response: &Message) -> Vec<u8> {
    let to = response.first_value(HeaderName::To);
    derived_request(invite, "ACK", to.as_deref())
}

/// A CANCEL for `invite` (RFC 3261 §9.1): the same Request-URI, Call-ID, To (as in the
/// INVITE: no tag is added), From and CSeq number, with method CANCEL; a single Via equal to
/// the INVITE's top Via; the INVITE's Route headers; Max-Forwards 70 and no body. It runs in
/// a client non-INVITE transaction of its own (§9.1), whose key is the INVITE's with method
/// CANCEL.
pub fn build_cancel(invite: &Message) -> Vec<u8> {
    let to = invite.first_value(HeaderName::To);
    derived_request(invite, "CANCEL", to.as_deref())
}

/// The request both builders share: everything from `invite` except the method and To.
/// Headers the INVITE lacks are left out rather than invented.
fn derived_request(invite: &Message, method: &str, to: Option<&str>) -> Vec<u8> {
    let uri = invite.request_uri().unwrap_or_default();
    let mut b = MessageBuilder::request(method, &uri);
    // `values` splits Via fields on commas: the first element is the top Via alone.
    if let Some(via) = invite.values(HeaderName::Via).into_iter().next() {
        b = b.header("Via", &via);
    }
    b = b.header("Max-Forwards", "70");
    for h in invite.headers_named(HeaderName::Route) {
        b = b.header("Route", lex::trim(&invite.value(h)));
    }
    if let Some(from) = invite.first_value(HeaderName::From) {
        b = b.header("From", lex::trim(&from));
    }
    if let Some(to) = to {
        b = b.header("To", lex::trim(to));
    }
    if let Some(call_id) = invite.call_id() {
        b = b.header("Call-ID", &call_id);
    }
    if let Some(cseq) = invite.cseq() {
        b = b.header("CSeq", &format!("{} {method}", cseq.number));
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{invite, response};
    use super::*;
    use crate::sip::parse::parse_message;

    fn text(bytes: &[u8]) -> String {
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn ack_for_non_2xx_follows_17_1_1_3() {
        let inv = invite();
        let busy = response(&inv, 486, Some("callee-1"));
        let ack = parse_message(&build_ack_for_non_2xx(&inv, &busy));
        assert!(ack.violations.is_empty(), "{:?}", ack.rule_ids());
        assert_eq!(ack.method().as_deref(), Some("ACK"));
        assert_eq!(ack.request_uri(), inv.request_uri());
        assert_eq!(ack.vias().len(), 1, "only the INVITE's top Via");
        assert_eq!(ack.top_via(), inv.top_via());
        assert_eq!(ack.branch(), inv.branch());
        let cseq = ack.cseq().unwrap();
        assert_eq!((cseq.number, cseq.method.as_str()), (1, "ACK"));
        assert_eq!(ack.to_tag().as_deref(), Some("callee-1"));
        assert_eq!(ack.call_id(), inv.call_id());
        assert_eq!(
            ack.first_value(HeaderName::From),
            inv.first_value(HeaderName::From)
        );
        assert_eq!(ack.values(HeaderName::Route), inv.values(HeaderName::Route));
        assert_eq!(
            ack.first_value(HeaderName::MaxForwards).as_deref(),
            Some("70")
        );
        assert_eq!(
            ack.first_value(HeaderName::ContentLength).as_deref(),
            Some("0")
        );
        assert!(ack.body().is_empty());
        assert!(ack.header(HeaderName::ContentType).is_none());
    }

    #[test]
    fn cancel_follows_9_1() {
        let inv = invite();
        let bytes = build_cancel(&inv);
        let cancel = parse_message(&bytes);
        assert!(cancel.violations.is_empty(), "{:?}", cancel.rule_ids());
        let t = text(&bytes);
        assert!(
            t.starts_with("CANCEL sip:bob@biloxi.example.com SIP/2.0\r\n"),
            "{t}"
        );
        assert_eq!(cancel.vias().len(), 1);
        assert_eq!(cancel.top_via(), inv.top_via());
        assert_eq!(
            cancel.first_value(HeaderName::To),
            inv.first_value(HeaderName::To)
        );
        assert_eq!(cancel.to_tag(), None, "no tag is added to To");
        assert_eq!(cancel.from_tag(), inv.from_tag());
        assert_eq!(cancel.call_id(), inv.call_id());
        let cseq = cancel.cseq().unwrap();
        assert_eq!((cseq.number, cseq.method.as_str()), (1, "CANCEL"));
        assert_eq!(
            cancel.values(HeaderName::Route),
            vec!["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
        );
        assert!(t.contains("\r\nMax-Forwards: 70\r\n"));
        assert!(t.ends_with("\r\nContent-Length: 0\r\n\r\n"), "no body: {t}");
    }
}
