//! The messages agents build before the scenario's edits: requests outside a dialog (RFC 3261
//! §8.1.1), requests inside one (§12.2.1.1, through [`Dialog`]), the ACK of a 2xx (§13.2.2.4)
//! and responses (§8.2.6). Pure functions of their inputs.

use super::draft::Draft;
use super::target::uri_host;
use crate::dialog::{creates_dialog, is_target_refresh, Dialog, DialogError};
use crate::sip::header_name::HeaderName;
use crate::sip::message::Message;
use crate::sip::parse::parse_message;
use crate::trace::Transport;
use std::net::SocketAddr;

/// Max-Forwards of every request (RFC 3261 §8.1.1.6).
pub const MAX_FORWARDS: &str = "70";

/// The User-Agent / Server value of siptest's agents.
pub const PRODUCT: &str = concat!("siptest/", env!("CARGO_PKG_VERSION"));

/// `"Display" <uri>` or `<uri>` (RFC 3261 §20.10: a display name is a quoted string).
pub fn name_addr(display: Option<&str>, uri: &str) -> String {
    match display {
        Some(d) => {
            let d = d.replace('\\', "\\\\").replace('"', "\\\"");
            format!("\"{d}\" <{uri}>")
        }
        None => format!("<{uri}>"),
    }
}

/// `sip:user@host:port`.
pub fn sip_uri(user: &str, addr: SocketAddr) -> String {
    format!("sip:{user}@{}:{}", uri_host(addr.ip()), addr.port())
}

/// A Contact value for an agent (RFC 3261 §8.1.1.8): its address, with `transport=tcp`
/// when it is not UDP, so that requests come back over the same transport.
pub fn contact(user: &str, addr: SocketAddr, transport: Transport) -> String {
    match transport {
        Transport::Udp => format!("<{}>", sip_uri(user, addr)),
        t => format!("<{};transport={t}>", sip_uri(user, addr)),
    }
}

/// Whether a request of this method carries the sender's Contact: those that create dialogs
/// (RFC 3261 §8.1.1.8; RFC 6665 §4.1.1; RFC 3515 §2.4.4), refresh the target (§12.2.1.1) or
/// register one (§10.2.1).
pub fn request_has_contact(method: &str) -> bool {
    creates_dialog(method) || is_target_refresh(method) || method == "REGISTER"
}

/// Everything a request outside any dialog is made of.
#[derive(Clone, Debug)]
pub struct NewRequest<'a> {
    pub method: &'a str,
    pub request_uri: &'a str,
    /// From: display name and URI; tag below.
    pub from: (Option<&'a str>, &'a str),
    pub from_tag: &'a str,
    /// To: display name and URI (no tag, RFC 3261 §8.1.1.2).
    pub to: (Option<&'a str>, &'a str),
    pub call_id: &'a str,
    pub cseq: u32,
    pub via: &'a str,
    pub contact: Option<&'a str>,
}

/// A request outside any dialog (RFC 3261 §8.1.1): Via, Max-Forwards, From with a tag, To,
/// Call-ID, CSeq, Contact when the method calls for it, User-Agent.
pub fn new_request(r: &NewRequest<'_>) -> Draft {
    let mut d = Draft::new(format!("{} {} SIP/2.0", r.method, r.request_uri));
    d.push("Via", r.via);
    d.push("Max-Forwards", MAX_FORWARDS);
    d.push(
        "From",
        format!("{};tag={}", name_addr(r.from.0, r.from.1), r.from_tag),
    );
    d.push("To", name_addr(r.to.0, r.to.1));
    d.push("Call-ID", r.call_id);
    d.push("CSeq", format!("{} {}", r.cseq, r.method));
    if let Some(c) = r.contact.filter(|_| request_has_contact(r.method)) {
        d.push("Contact", c);
    }
    d.push("User-Agent", PRODUCT);
    d
}

/// The next request inside `dialog` (RFC 3261 §12.2.1.1) with a new Via on top; the dialog's
/// local sequence number moves on (a BYE also ends the dialog, §15.1.1).
pub fn in_dialog_request(
    dialog: &mut Dialog,
    method: &str,
    via: &str,
) -> Result<Draft, DialogError> {
    let built = dialog.next_request(method)?.build();
    Ok(with_via(&parse_message(&built), via))
}

/// The ACK of a 2xx to the INVITE with CSeq `invite_cseq` (RFC 3261 §13.2.2.4): built like any
/// request in the dialog, with its own Via branch.
pub fn ack_for_2xx(dialog: &Dialog, invite_cseq: u32, via: &str) -> Draft {
    let built = dialog.ack_for_2xx(invite_cseq).build();
    with_via(&parse_message(&built), via)
}

fn with_via(msg: &Message, via: &str) -> Draft {
    let mut d = Draft::from_message(msg);
    d.headers.insert(0, ("Via".to_string(), via.to_string()));
    d.push("User-Agent", PRODUCT);
    d
}

/// A response to `request` (RFC 3261 §8.2.6.2): its Vias (as received, `received`/`rport`
/// included, §18.2.1), From, To, Call-ID, CSeq and Timestamp (§8.2.6.1), a To tag unless the
/// request had one or this is a 100, and `contact` when given.
pub fn response(
    request: &Message,
    status: u16,
    reason: &str,
    to_tag: Option<&str>,
    contact: Option<&str>,
) -> Draft {
    let mut d = Draft::new(format!("SIP/2.0 {status} {reason}"));
    for h in &request.headers {
        let copied = matches!(
            h.name,
            HeaderName::Via
                | HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::CSeq
                | HeaderName::Timestamp
        ) || (h.name == HeaderName::RecordRoute // RFC 3261 §12.1.1: the UAS copies it
            && (101..300).contains(&status)
            && request.method().is_some_and(|m| creates_dialog(&m)));
        if !copied {
            continue;
        }
        let mut value = request.value(h).into_owned();
        if h.name == HeaderName::To && status != 100 && request.to_tag().is_none() {
            if let Some(tag) = to_tag {
                value = format!("{value};tag={tag}");
            }
        }
        d.push(&request.text(h.name_span), value);
    }
    if let Some(c) = contact {
        d.push("Contact", c);
    }
    d.push("Server", PRODUCT);
    d
}

/// Whether a response carries the UAS's Contact: a 101-299 to a request that creates a
/// dialog (RFC 3261 §12.1.1), a 2xx to a target refresh (§12.2.2).
pub fn response_has_contact(method: &str, status: u16) -> bool {
    (creates_dialog(method) && (101..300).contains(&status))
        || (is_target_refresh(method) && (200..300).contains(&status))
}

/// The reason phrase siptest writes for a status (RFC 3261 §21, and the extensions').
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        415 => "Unsupported Media Type",
        420 => "Bad Extension",
        422 => "Session Interval Too Small",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        489 => "Bad Event",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        600 => "Busy Everywhere",
        603 => "Decline",
        _ => match status / 100 {
            1 => "Provisional",
            2 => "Success",
            3 => "Redirection",
            4 => "Client Error",
            5 => "Server Error",
            _ => "Global Failure",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite() -> Message {
        let d = new_request(&NewRequest {
            method: "INVITE",
            request_uri: "sip:bob@127.0.0.1:5060",
            from: (Some("Al \"x\""), "sip:alice@127.0.0.1:4000"),
            from_tag: "ft",
            to: (None, "sip:bob@127.0.0.1:5060"),
            call_id: "c1",
            cseq: 1,
            via: "SIP/2.0/UDP 127.0.0.1:4000;branch=z9hG4bKa;rport",
            contact: Some("<sip:alice@127.0.0.1:4000>"),
        });
        parse_message(&d.to_bytes())
    }

    #[test]
    fn a_new_request_is_valid_rfc3261() {
        let m = invite();
        assert!(!m.has_errors(), "{:?}", m.rule_ids());
        assert_eq!(m.from_tag().as_deref(), Some("ft"));
        assert_eq!(
            m.from_addr().unwrap().display_name.as_deref(),
            Some("Al \"x\"")
        );
        assert_eq!(m.values(HeaderName::MaxForwards), ["70"]);
        assert!(m.header(HeaderName::Contact).is_some());
    }

    #[test]
    fn responses_copy_and_tag_and_dialogs_follow() {
        let inv = invite();
        let r = parse_message(
            &response(
                &inv,
                180,
                "Ringing",
                Some("tt"),
                Some("<sip:bob@127.0.0.1:5060>"),
            )
            .to_bytes(),
        );
        assert!(!r.has_errors(), "{:?}", r.rule_ids());
        assert_eq!(r.to_tag().as_deref(), Some("tt"));
        assert_eq!(r.branch().as_deref(), Some("z9hG4bKa"));
        let trying = parse_message(&response(&inv, 100, "Trying", Some("tt"), None).to_bytes());
        assert_eq!(trying.to_tag(), None);
        let ok = parse_message(
            &response(
                &inv,
                200,
                "OK",
                Some("tt"),
                Some("<sip:bob@127.0.0.1:5060>"),
            )
            .to_bytes(),
        );
        let mut d = Dialog::new_uac(&inv, &ok, false).unwrap();
        let bye = parse_message(
            &in_dialog_request(&mut d, "BYE", "SIP/2.0/UDP h;branch=z9hG4bKb")
                .unwrap()
                .to_bytes(),
        );
        assert!(!bye.has_errors(), "{:?}", bye.rule_ids());
        assert_eq!(bye.cseq().map(|c| c.number), Some(2));
        assert_eq!(bye.request_uri().as_deref(), Some("sip:bob@127.0.0.1:5060"));
        assert_eq!(bye.branch().as_deref(), Some("z9hG4bKb"));
        let ack = parse_message(&ack_for_2xx(&d, 1, "SIP/2.0/UDP h;branch=z9hG4bKc").to_bytes());
        assert_eq!(
            ack.cseq().map(|c| (c.number, c.method)),
            Some((1, "ACK".into()))
        );
    }

    #[test]
    fn contacts_and_reasons() {
        let a: SocketAddr = "[::1]:5070".parse().unwrap();
        assert_eq!(
            contact("bob", a, Transport::Tcp),
            "<sip:bob@[::1]:5070;transport=tcp>"
        );
        assert!(response_has_contact("INVITE", 180));
        assert!(!response_has_contact("INVITE", 100));
        assert!(!response_has_contact("BYE", 200));
        assert_eq!(reason_phrase(486), "Busy Here");
        assert_eq!(reason_phrase(499), "Client Error");
    }
}
