//! Responses of the reference UA (RFC 3261 §8.2.6), where the transaction-level quirks bend
//! them: a wrong Via branch, no To tag, its own CSeq, a wrong Content-Length.

use super::variation::{compact_name, mixed_case};
use super::{Quirk, Rx, UaCore, Variation, ACCEPT, ALLOW, ALLOW_EVENTS, SUPPORTED};
use crate::engine::compose::{self, reason_phrase};
use crate::engine::draft::Draft;
use crate::sip::builder::ContentLength;
use crate::sip::message::Message;
use crate::sip::parse::parse_message;

/// What a response carries beyond the copied headers.
#[derive(Clone, Debug, Default)]
pub(super) struct Reply {
    /// The To tag to add (the request had none).
    pub tag: Option<String>,
    /// Add the UA's Contact.
    pub contact: bool,
    pub headers: Vec<(String, String)>,
    /// Content type and body.
    pub body: Option<(String, Vec<u8>)>,
}

impl Reply {
    pub fn tagged(tag: &str) -> Reply {
        Reply {
            tag: Some(tag.to_string()),
            ..Reply::default()
        }
    }
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }
    pub fn sdp(mut self, body: Option<Vec<u8>>) -> Reply {
        if let Some(b) = body {
            self.body = Some(("application/sdp".into(), b));
        }
        self
    }
    /// Allow, Supported, Accept and Allow-Events: what the UA claims (RFC 3261 §11.2).
    pub fn capabilities(self) -> Reply {
        self.header("Allow", ALLOW)
            .header("Supported", SUPPORTED)
            .header("Accept", ACCEPT)
            .header("Allow-Events", ALLOW_EVENTS)
    }
}

impl UaCore {
    /// Builds the response to `rx`, with the quirks that bend responses applied.
    pub(super) fn build_response(&mut self, rx: &Rx, status: u16, reply: Reply) -> Draft {
        let final_ = status >= 200;
        // Quirk `no-to-tag`: final responses leave the To tag out (RFC 3261 §8.2.6.2).
        let tag = if final_ && self.quirk(Quirk::NoToTag) {
            None
        } else {
            reply.tag.as_deref().map(str::to_string)
        };
        let contact = reply.contact.then(|| self.contact());
        let mut d = compose::response(
            &rx.msg,
            status,
            reason_phrase(status),
            tag.as_deref(),
            contact.as_deref(),
        );
        for (name, value) in reply.headers {
            d.push(&name, value);
        }
        if let Some((ct, body)) = reply.body {
            d.set_body(&ct, body);
        }
        if self.quirk(Quirk::WrongViaBranch) {
            // Quirk: the top Via's branch is not the request's (RFC 3261 §8.2.6.2).
            if let Some((_, via)) = d
                .headers
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case("via") || n == "v")
            {
                *via = via.replacen("branch=", "branch=z9hG4bKq", 1);
            }
        }
        if self.quirk(Quirk::CseqNotCopied) {
            // Quirk: the UA's own CSeq number (RFC 3261 §8.2.6.2 says copy it).
            if let Some((_, cseq)) = d
                .headers
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case("cseq"))
            {
                if let Some((num, method)) = cseq.split_once(' ') {
                    let n: u64 = num.trim().parse().unwrap_or(0);
                    *cseq = format!("{} {}", n + 1000, method.trim());
                }
            }
        }
        if self.quirk(Quirk::WrongContentLength) {
            // Quirk: declares 20 octets more than it sends (RFC 3261 §18.3, §20.14).
            d.content_length = ContentLength::Literal((d.body.len() + 20).to_string());
        }
        self.vary_response(rx, status, &mut d);
        d
    }

    /// The legal variations that change responses (`variation.rs`).
    fn vary_response(&self, rx: &Rx, status: u16, d: &mut Draft) {
        if self.variation(Variation::RecordRoute)
            && rx.method == "INVITE"
            && status > 100
            && status < 300
        {
            // RFC 3261 §12.1.1: a dialog-creating response carries the Record-Route of the
            // path; here one element that routes to the UA itself (loose routing, §16.12).
            let local = self.wire.local();
            let tcp = if self.wire.transport() == crate::trace::Transport::Tcp {
                ";transport=tcp"
            } else {
                ""
            };
            let host = crate::engine::target::uri_host(local.ip());
            let rr = format!("<sip:{host}:{};lr{tcp}>", local.port());
            d.push("Record-Route", rr);
        }
        if self.variation(Variation::UnknownHeaders) {
            // RFC 3261 §8.2.2 and §18: header fields a receiver does not know are ignored.
            d.push("X-Foo", "bar");
            d.push("X-Siptest-Variation", "unknown-headers; x=1");
        }
        if self.variation(Variation::CompactHeaders) {
            for (name, _) in d.headers.iter_mut() {
                if let Some(c) = compact_name(name) {
                    *name = c.to_string();
                }
            }
        }
        if self.variation(Variation::MixedCaseHeaders) {
            for (name, _) in d.headers.iter_mut() {
                *name = mixed_case(name);
            }
        }
    }

    /// Sends a response through the request's server transaction; a refusal (the transaction
    /// layer enforcing RFC 4320 or §17.2) is noted. Returns what was sent.
    pub(super) fn respond(&mut self, rx: &Rx, status: u16, reply: Reply) -> Option<Message> {
        let draft = self.build_response(rx, status, reply);
        let msg = parse_message(&draft.to_bytes());
        match self.wire.send_response(rx.tx, msg.clone()) {
            Ok(()) => Some(msg),
            Err(e) => {
                self.notes.push(format!("{status} to {}: {e}", rx.method));
                None
            }
        }
    }

    /// Sends a response outside the transaction layer, to where the request came from (RFC
    /// 3261 §18.2.2): what the quirks that break RFC 4320 need, since the transaction layer
    /// refuses to send them.
    pub(super) fn respond_raw(&mut self, rx: &Rx, status: u16, tag: Option<&str>) {
        let reply = Reply {
            tag: tag.map(str::to_string),
            ..Reply::default()
        };
        let draft = self.build_response(rx, status, reply);
        self.wire.send_raw(rx.from, draft.to_bytes());
    }

    /// A final response to a non-INVITE request, with what the method calls for.
    pub(super) fn answer_non_invite(&mut self, _now: tokio::time::Instant, rx: &Rx, status: u16) {
        let tag = rx.msg.to_tag().is_none().then(|| self.wire.token());
        self.answer_non_invite_tagged(rx, status, tag);
    }

    /// [`UaCore::answer_non_invite`] with the To tag to add (`None`: the request has one).
    pub(super) fn answer_non_invite_tagged(&mut self, rx: &Rx, status: u16, tag: Option<String>) {
        let mut reply = Reply {
            tag,
            ..Reply::default()
        };
        if rx.method == "OPTIONS" && (200..300).contains(&status) {
            reply = reply.capabilities();
        }
        if status == 405 || status == 501 {
            reply = reply.header("Allow", ALLOW);
        }
        if status == 415 {
            reply = reply.header("Accept", ACCEPT);
        }
        self.respond(rx, status, reply);
    }
}
