//! Requests inside a dialog: building ours (RFC 3261 §12.2.1.1, §13.2.2.4, §9.1) and taking in
//! the peer's (§12.2.2).

use super::{
    add_routes, contact_uri, cseq_of, format_party, format_route, is_target_refresh, Dialog,
    DialogError, DialogId, DialogState, Role,
};
use crate::sip::builder::MessageBuilder;
use crate::sip::header_name::HeaderName;
use crate::sip::headers::cseq::CSEQ_MAX;
use crate::sip::message::Message;
use crate::sip::uri::Uri;

/// Max-Forwards of every request we build (RFC 3261 §8.1.1.6).
const MAX_FORWARDS: &str = "70";

impl Dialog {
    /// The next request inside the dialog (RFC 3261 §12.2.1.1): Request-URI and Route from the
    /// remote target and the route set, From = local URI and tag, To = remote URI and tag, the
    /// Call-ID, CSeq = local sequence number + 1 (which becomes the new local sequence number),
    /// Max-Forwards 70 and, for a target refresh request, our Contact when known.
    ///
    /// ACK and CANCEL reuse the number of the last INVITE sent in the dialog and leave the local
    /// sequence number alone (see [`Dialog::ack_for_2xx`] and [`Dialog::cancel`]). Sending a BYE
    /// terminates the dialog (RFC 3261 §15.1.1).
    ///
    /// The Via is the caller's: a new one with a fresh branch (RFC 3261 §8.1.1.7), except for
    /// a CANCEL, whose Via is the top Via of the request it cancels (§9.1). Authentication
    /// headers and a body are the caller's too.
    pub fn next_request(&mut self, method: &str) -> Result<MessageBuilder, DialogError> {
        match method {
            "ACK" => {
                let seq = self
                    .last_invite_seq
                    .ok_or(DialogError::NoInvite { method: "ACK" })?;
                return Ok(self.ack_for_2xx(seq));
            }
            "CANCEL" => return self.cancel(),
            _ => {}
        }
        if self.is_terminated() {
            return Err(DialogError::Terminated);
        }
        // RFC 3261 §12.2.1.1: the local sequence number MUST be incremented by one; when it is
        // empty an initial value is chosen (§8.1.1.5), here 1.
        let seq = match self.local_seq {
            None => 1,
            Some(n) if n >= CSEQ_MAX => return Err(DialogError::CSeqExhausted),
            Some(n) => n + 1,
        };
        self.local_seq = Some(seq);
        if method == "INVITE" {
            self.last_invite_seq = Some(seq);
        }
        let mut b = self.request_skeleton(method, seq);
        if is_target_refresh(method) {
            if let Some(contact) = &self.local_target {
                // RFC 3261 §12.2.1.1: a UAC SHOULD include a Contact in target refresh requests.
                b = b.header("Contact", &format!("<{contact}>"));
            }
        }
        if method == "BYE" {
            // RFC 3261 §15.1.1: the session and the dialog end as soon as the BYE is sent.
            self.terminate();
        }
        Ok(b)
    }

    /// The ACK for a 2xx to the INVITE with CSeq number `invite_cseq`: a request of its own
    /// built like any other in the dialog (route set included) except that CSeq is
    /// `invite_cseq ACK` (RFC 3261 §13.2.2.4). The local sequence number is unchanged. Works in
    /// any state: a 2xx must be ACKed even for a dialog about to be ended with BYE.
    pub fn ack_for_2xx(&self, invite_cseq: u32) -> MessageBuilder {
        self.request_skeleton("ACK", invite_cseq)
    }

    /// A CANCEL for the last INVITE sent in this dialog (a re-INVITE): the same Request-URI,
    /// Call-ID, To, From, Route and CSeq number, method CANCEL (RFC 3261 §9.1). The caller adds
    /// the re-INVITE's top Via unchanged. To cancel the INVITE that creates the dialog, use
    /// [`cancel_for`] on the INVITE itself: its To has no tag, and its Request-URI and Route
    /// are not the dialog's (an early UAC dialog refuses with
    /// [`DialogError::CancelInitialInvite`]).
    pub fn cancel(&self) -> Result<MessageBuilder, DialogError> {
        if self.is_early() && self.role == Role::Uac {
            return Err(DialogError::CancelInitialInvite);
        }
        let seq = self
            .last_invite_seq
            .ok_or(DialogError::NoInvite { method: "CANCEL" })?;
        Ok(self.request_skeleton("CANCEL", seq))
    }

    /// Request-Line, Max-Forwards, Route, From, To, Call-ID, CSeq.
    fn request_skeleton(&self, method: &str, seq: u32) -> MessageBuilder {
        let (request_uri, routes) = self.request_uri_and_routes();
        let b = MessageBuilder::request(method, &request_uri).header("Max-Forwards", MAX_FORWARDS);
        add_routes(b, &routes)
            .header("From", &format_party(&self.local_uri, &self.id.local_tag))
            .header("To", &format_party(&self.remote_uri, &self.id.remote_tag))
            .header("Call-ID", &self.id.call_id)
            .header("CSeq", &format!("{seq} {method}"))
    }

    /// The Request-URI and the Route values of a request inside the dialog (RFC 3261
    /// §12.2.1.1).
    pub fn request_uri_and_routes(&self) -> (String, Vec<String>) {
        let target = self.remote_target.to_string();
        let Some(first) = self.route_set.first() else {
            // No route set: Request-URI = remote target, no Route header.
            return (target, Vec::new());
        };
        if first.uri.has_lr() {
            // Loose routing: Request-URI = remote target, Route = the route set in order.
            return (target, self.route_set.iter().map(format_route).collect());
        }
        // Strict routing: Request-URI = the first route, stripped of what a Request-URI may not
        // carry; Route = the rest of the route set, then the remote target as the last value.
        let mut routes: Vec<String> = self.route_set[1..].iter().map(format_route).collect();
        routes.push(format!("<{target}>"));
        (strip_for_request_uri(&first.uri), routes)
    }

    /// A request the peer sent inside this dialog (RFC 3261 §12.2.2). On success the remote
    /// sequence number is raised to the request's CSeq (set when empty), the remote target is
    /// replaced by the Contact of a target refresh request (§12.2.2; RFC 3311 §5.2; RFC 6665
    /// §3.1, §3.2), and a BYE terminates the dialog (§15.1.2). On error nothing changes and
    /// [`DialogError::status_code`] is the response to send (500 for an out-of-order CSeq).
    ///
    /// ACK and CANCEL carry the number of the INVITE they belong to (§13.2.2.4, §9.1), so they
    /// are not checked against nor raise the remote sequence number.
    pub fn on_remote_request(&mut self, req: &Message) -> Result<(), DialogError> {
        self.check_id(&DialogId::from_request_as_uas(req)?)?;
        let method = req
            .method()
            .ok_or(DialogError::bad_header("Request-Line", "RFC 3261 §7.1"))?
            .into_owned();
        if self.is_terminated() && method != "ACK" {
            return Err(DialogError::Terminated);
        }
        let cseq = cseq_of(req)?;
        if cseq.method != method {
            // RFC 3261 §8.1.1.5: the CSeq method MUST match the request's.
            return Err(DialogError::bad_header("CSeq method", "RFC 3261 §8.1.1.5"));
        }
        if method == "ACK" || method == "CANCEL" {
            return Ok(());
        }
        if let Some(last) = self.remote_seq {
            if cseq.number < last {
                return Err(DialogError::CSeqOutOfOrder {
                    got: cseq.number,
                    last,
                });
            }
        }
        let new_target = if is_target_refresh(&method) {
            contact_uri(req, "RFC 3261 §12.2.2")?
        } else {
            None
        };
        self.remote_seq = Some(cseq.number);
        if let Some(t) = new_target {
            self.remote_target = t;
        }
        if method == "BYE" {
            self.state = DialogState::Terminated;
        }
        Ok(())
    }
}

/// The CANCEL for any request we sent, typically the INVITE that creates the dialogs (RFC 3261
/// §9.1): the same Request-URI, Call-ID, To, From, Route and top Via, and CSeq with the same
/// number and method CANCEL. `None` when the request lacks a Request-Line or a CSeq.
pub fn cancel_for(request: &Message) -> Option<MessageBuilder> {
    let uri = request.request_uri()?;
    let cseq = request.cseq()?;
    let mut b = MessageBuilder::request("CANCEL", &uri);
    if let Some(h) = request.header(HeaderName::Via) {
        // Only the top Via: the one that names the transaction being cancelled.
        let via = request.value(h);
        let top = crate::sip::lex::split_commas(via.as_bytes()).0;
        let first = top.first().map_or(&via[..], |r| &via[r.clone()]);
        b = b.header("Via", first);
    }
    b = b.header("Max-Forwards", MAX_FORWARDS);
    for h in &request.headers {
        if matches!(
            h.name,
            HeaderName::Route | HeaderName::From | HeaderName::To | HeaderName::CallId
        ) {
            b = b.header(&request.text(h.name_span), &request.value(h));
        }
    }
    Some(b.header("CSeq", &format!("{} CANCEL", cseq.number)))
}

/// A route URI as a Request-URI: without the `method` parameter and without headers, which the
/// Request-URI may not carry (RFC 3261 §12.2.1.1 "stripping any parameters that are not
/// allowed in a Request-URI", §19.1.1 table).
fn strip_for_request_uri(uri: &Uri) -> String {
    if !uri.is_sip() {
        return uri.to_string();
    }
    let raw = &uri.raw;
    let no_headers = &raw[..uri.headers_offset.unwrap_or(raw.len())];
    if !uri.has_param("method") {
        return no_headers.to_string();
    }
    // The parameters are kept as written, so their text is `;name[=value]` repeated at the end
    // of `no_headers`.
    let written =
        |(n, v): &(String, Option<String>)| 1 + n.len() + v.as_ref().map_or(0, |v| 1 + v.len());
    let params_len: usize = uri.params.iter().map(written).sum();
    let Some(base) = no_headers.get(..no_headers.len().saturating_sub(params_len)) else {
        return no_headers.to_string();
    };
    let mut out = base.to_string();
    for (n, v) in uri
        .params
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("method"))
    {
        out.push(';');
        out.push_str(n);
        if let Some(v) = v {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}
