//! The UAC side: what a driver asks the UA to do (call, hold, unhold, hang up, send a
//! request) and the responses to the requests it sent (RFC 3261 §13.2, §14.1, §15.1.1).

use super::action::{ActError, Action, HoldHow};
use super::call::{Call, Calling, Purpose, Side};
use super::{Quirk, UaCore, ALLOW, SUPPORTED};
use crate::dialog::{cancel_for, DialogSet, SetEvent};
use crate::engine::compose::{self, NewRequest};
use crate::engine::draft::Draft;
use crate::engine::sdp_gen;
use crate::net::{destination, TxId};
use crate::scenario::SdpParams;
use crate::sdp::HoldStyle;
use crate::sip::message::Message;
use crate::sip::parse::parse_message;
use std::net::SocketAddr;
use tokio::time::Instant;

fn err(action: &'static str, reason: impl Into<String>) -> ActError {
    ActError {
        action,
        reason: reason.into(),
    }
}

/// The socket address of a `sip:` URI with an IP-address host (no DNS, RFC 3263).
pub(super) fn uri_addr(uri: &str) -> Option<SocketAddr> {
    let msg = parse_message(format!("OPTIONS {uri} SIP/2.0\r\n\r\n").as_bytes());
    destination(&msg)
}

impl UaCore {
    pub(super) fn act_on_calls(&mut self, now: Instant, action: Action) -> Result<(), ActError> {
        match action {
            Action::Call {
                peer,
                late_offer,
                require_100rel,
                session_expires,
            } => self.place_call(now, &peer, late_offer, require_100rel, session_expires),
            Action::Hold { peer, how } => {
                let style = match how {
                    _ if self.quirk(Quirk::HoldZeroConnectionOnly) => HoldStyle::ZeroConnection,
                    HoldHow::Sendonly => HoldStyle::SendOnly,
                    HoldHow::Inactive => HoldStyle::Inactive,
                    HoldHow::ZeroConnection => HoldStyle::ZeroConnection,
                };
                let i = self.established_call("hold", &peer)?;
                let body =
                    sdp_gen::hold(&self.next_sdp(), self.calls[i].local_sdp.as_deref(), style);
                self.reinvite(now, i, Purpose::Hold, Some(body))
            }
            Action::Unhold { peer, offerless } => {
                let i = self.established_call("unhold", &peer)?;
                let body = (!offerless)
                    .then(|| sdp_gen::unhold(&self.next_sdp(), self.calls[i].local_sdp.as_deref()));
                self.reinvite(now, i, Purpose::Unhold, body)
            }
            Action::Hangup { peer } => self.hang_up(now, &peer),
            Action::Request { peer, method } => self.request(now, &peer, &method),
            Action::Transfer { peer, to } => self.transfer(now, &peer, &to),
            Action::Register {
                peer,
                user,
                password,
                expires,
            } => self.register(now, &peer, &user, &password, expires),
            Action::Subscribe { peer, event } => self.subscribe(now, &peer, &event),
            Action::Answer { .. } | Action::Respond { .. } => Ok(()),
        }
    }

    /// The newest call with `peer` that has a confirmed dialog.
    fn established_call(&self, action: &'static str, peer: &str) -> Result<usize, ActError> {
        let key = Self::peer_key(peer);
        self.calls
            .iter()
            .rposition(|c| c.peer == key && c.established && !c.ended && c.dialog.is_some())
            .ok_or_else(|| err(action, format!("no established call with {peer}")))
    }

    /// A new request outside any dialog, to `peer`.
    pub(super) fn new_request(
        &mut self,
        method: &str,
        peer: &str,
        call_id: &str,
        from_tag: &str,
        cseq: u32,
    ) -> Draft {
        let uri = self.uri();
        let contact = self.contact();
        let via = self.wire.new_via();
        let mut d = compose::new_request(&NewRequest {
            method,
            request_uri: peer,
            from: (None, &uri),
            from_tag,
            to: (None, peer),
            call_id,
            cseq,
            via: &via,
            contact: Some(&contact),
        });
        if method == "INVITE" {
            d.push("Allow", ALLOW);
            d.push("Supported", SUPPORTED);
        }
        d
    }

    /// Sends a request and returns its transaction.
    pub(super) fn send(
        &mut self,
        action: &'static str,
        draft: &Draft,
        fallback: SocketAddr,
    ) -> Result<(TxId, Message), ActError> {
        let msg = parse_message(&draft.to_bytes());
        let to = destination(&msg).unwrap_or(fallback);
        let tx = self
            .wire
            .send_request_to(to, msg.clone())
            .map_err(|e| err(action, e.to_string()))?;
        Ok((tx, msg))
    }

    fn place_call(
        &mut self,
        now: Instant,
        peer: &str,
        late_offer: bool,
        require_100rel: bool,
        session_expires: Option<u32>,
    ) -> Result<(), ActError> {
        let addr = uri_addr(peer).ok_or_else(|| {
            err(
                "call",
                format!("`{peer}` is not a sip: URI with an IP address"),
            )
        })?;
        let call_id = format!(
            "{}@{}",
            self.wire.token(),
            crate::engine::target::uri_host(self.wire.local().ip())
        );
        let tag = self.wire.token();
        let mut d = self.new_request("INVITE", peer, &call_id, &tag, 1);
        if require_100rel {
            d.push("Require", "100rel");
        }
        if let Some(se) = session_expires {
            d.push("Session-Expires", se.to_string());
        }
        let sdp = (!late_offer).then(|| sdp_gen::offer(&self.next_sdp(), &SdpParams::default()));
        if let Some(b) = &sdp {
            d.set_body("application/sdp", b.clone());
        }
        let (tx, msg) = self.send("call", &d, addr)?;
        let id = self.new_call_id();
        let mut call = Call::new(id, Side::Uac, Self::peer_key(peer), call_id, tag, addr);
        call.set = DialogSet::new(&msg, false).ok();
        call.local_sdp = sdp.clone();
        call.calling = Some(Calling {
            tx,
            request: msg,
            purpose: Purpose::Initial,
            offered: sdp.is_some(),
            sdp,
        });
        self.calls.push(call);
        let _ = now;
        Ok(())
    }

    /// A re-INVITE in call `i` (RFC 3261 §14.1).
    pub(super) fn reinvite(
        &mut self,
        _now: Instant,
        i: usize,
        purpose: Purpose,
        body: Option<Vec<u8>>,
    ) -> Result<(), ActError> {
        if self.calls[i].calling.is_some() || self.calls[i].answering.is_some() {
            // RFC 3261 §14.1: no re-INVITE while another INVITE transaction is in progress.
            return Err(err(
                "re-INVITE",
                "an INVITE transaction of the call is in progress",
            ));
        }
        let via = self.wire.new_via();
        let dialog = self.calls[i]
            .dialog
            .as_mut()
            .ok_or_else(|| err("re-INVITE", "no dialog"))?;
        let mut d = compose::in_dialog_request(dialog, "INVITE", &via)
            .map_err(|e| err("re-INVITE", e.to_string()))?;
        d.push("Allow", ALLOW);
        d.push("Supported", SUPPORTED);
        if let Some(b) = &body {
            d.set_body("application/sdp", b.clone());
        }
        let fallback = self.calls[i].remote_addr;
        let (tx, msg) = self.send("re-INVITE", &d, fallback)?;
        if body.is_some() {
            self.calls[i].local_sdp = body.clone();
        }
        self.calls[i].calling = Some(Calling {
            tx,
            request: msg,
            purpose,
            offered: body.is_some(),
            sdp: body,
        });
        Ok(())
    }

    fn hang_up(&mut self, now: Instant, peer: &str) -> Result<(), ActError> {
        let key = Self::peer_key(peer);
        let i = self
            .calls
            .iter()
            .rposition(|c| c.peer == key && !c.ended)
            .ok_or_else(|| err("hangup", format!("no call with {peer}")))?;
        if self.calls[i].side == Side::Uas
            && self.calls[i].answering.is_some()
            && !self.calls[i].established
        {
            // Rejecting a call that rings: 603 Decline (RFC 3261 §21.6.2).
            self.finish_invite(now, i, 603);
            return Ok(());
        }
        if !self.calls[i].established {
            // RFC 3261 §9.1: CANCEL the INVITE (only after a provisional; the engine's
            // transaction layer copes with an early one).
            let Some(c) = self.calls[i].calling.as_ref() else {
                return Err(err("hangup", "the call is neither ringing nor established"));
            };
            let cancel =
                cancel_for(&c.request).ok_or_else(|| err("hangup", "cannot build the CANCEL"))?;
            let draft = Draft::from_message(&parse_message(&cancel.build()));
            let fallback = self.calls[i].remote_addr;
            self.send("hangup", &draft, fallback)?;
            return Ok(());
        }
        self.bye(now, i)
    }

    /// BYE in call `i` (RFC 3261 §15.1.1).
    pub(super) fn bye(&mut self, now: Instant, i: usize) -> Result<(), ActError> {
        let via = self.wire.new_via();
        let dialog = self.calls[i]
            .dialog
            .as_mut()
            .ok_or_else(|| err("hangup", "no dialog"))?;
        let d = compose::in_dialog_request(dialog, "BYE", &via)
            .map_err(|e| err("hangup", e.to_string()))?;
        let fallback = self.calls[i].remote_addr;
        self.send("hangup", &d, fallback)?;
        self.calls[i].ended = true;
        // Dialog subscriptions hear of it (notify.rs).
        self.on_call_ended(now, i);
        Ok(())
    }

    /// A request in the call with `peer`, or outside any call when there is none.
    fn request(&mut self, _now: Instant, peer: &str, method: &str) -> Result<(), ActError> {
        let key = Self::peer_key(peer);
        let in_call = self
            .calls
            .iter()
            .rposition(|c| c.peer == key && !c.ended && c.dialog.is_some());
        if let Some(i) = in_call {
            let via = self.wire.new_via();
            let dialog = self.calls[i].dialog.as_mut().expect("checked");
            let mut d = compose::in_dialog_request(dialog, method, &via)
                .map_err(|e| err("request", e.to_string()))?;
            if method == "MESSAGE" || method == "INFO" {
                d.set_body("text/plain", b"siptest".to_vec());
            }
            let fallback = self.calls[i].remote_addr;
            self.send("request", &d, fallback)?;
            return Ok(());
        }
        let addr = uri_addr(peer).ok_or_else(|| {
            err(
                "request",
                format!("`{peer}` is not a sip: URI with an IP address"),
            )
        })?;
        let call_id = format!(
            "{}@{}",
            self.wire.token(),
            crate::engine::target::uri_host(self.wire.local().ip())
        );
        let tag = self.wire.token();
        let mut d = self.new_request(method, peer, &call_id, &tag, 1);
        if method == "MESSAGE" {
            d.set_body("text/plain", b"siptest".to_vec());
        }
        self.send("request", &d, addr)?;
        Ok(())
    }

    /// A response to one of our requests.
    pub(super) fn on_response(&mut self, now: Instant, tx: TxId, msg: Message) {
        if self.on_registration_response(now, tx, &msg) || self.on_other_response(now, tx, &msg) {
            return;
        }
        let Some(i) = self
            .calls
            .iter()
            .position(|c| c.calling.as_ref().is_some_and(|k| k.tx == tx))
        else {
            return;
        };
        let status = msg.status().unwrap_or(0);
        if self.calls[i].set.is_some() && !self.calls[i].established {
            self.on_initial_invite_response(now, i, &msg);
        } else if let Some(d) = self.calls[i].dialog.as_mut() {
            if let Err(e) = d.on_response(&msg) {
                self.notes.push(format!("response in dialog: {e}"));
            }
        }
        if (101..200).contains(&status) {
            self.on_reliable_provisional(now, i, &msg);
            return;
        }
        if (200..300).contains(&status) {
            self.ack_2xx(i, &msg);
            let calling = self.calls[i].calling.take();
            self.calls[i].established = true;
            let initial = calling.is_some_and(|c| c.purpose == Purpose::Initial);
            if initial && self.calls[i].ended {
                // Hung up while ringing and the 200 crossed the CANCEL: end it (§15.1.1).
                let _ = self.bye(now, i);
            } else if initial {
                // Transfers, Replaces and dialog subscriptions hear of the answer (notify.rs).
                self.on_call_answered(now, i);
            }
            return;
        }
        if status >= 300 {
            let calling = self.calls[i].calling.take();
            if status == 491 {
                self.on_glare(now, i, calling);
                return;
            }
            if calling.is_some_and(|c| c.purpose == Purpose::Initial) {
                self.calls[i].ended = true;
                // A transfer's outcome, dialog subscriptions (notify.rs).
                self.on_call_failed(now, i, status);
            }
        }
    }

    /// A response to the INVITE that creates the call: dialogs per To tag (RFC 3261 §12.1.2).
    fn on_initial_invite_response(&mut self, _now: Instant, i: usize, msg: &Message) {
        let call = &mut self.calls[i];
        let Some(set) = call.set.as_mut() else {
            return;
        };
        match set.on_response(msg) {
            Ok(SetEvent::Provisional { id, .. } | SetEvent::Confirmed { id, .. }) => {
                call.dialog = set.get(&id.remote_tag).cloned();
            }
            Ok(_) => {}
            Err(e) => self.notes.push(format!("response to the INVITE: {e}")),
        }
    }

    /// The ACK of a 2xx (RFC 3261 §13.2.2.4), with the answer when the 2xx carried the offer.
    fn ack_2xx(&mut self, i: usize, ok: &Message) {
        let cseq = ok.cseq().map_or(0, |c| c.number);
        let via = self.wire.new_via();
        let Some(dialog) = self.calls[i].dialog.clone() else {
            return;
        };
        let mut draft = compose::ack_for_2xx(&dialog, cseq, &via);
        let offered = self.calls[i].calling.as_ref().is_some_and(|c| c.offered);
        if let (false, Some(offer)) = (offered, ok.sdp()) {
            let body = sdp_gen::answer(&self.next_sdp(), &offer, &SdpParams::default());
            self.calls[i].local_sdp = Some(body.clone());
            draft.set_body("application/sdp", body);
        }
        let bytes = draft.to_bytes();
        let to = destination(&parse_message(&bytes)).unwrap_or(self.calls[i].remote_addr);
        self.wire.send_raw(to, bytes.clone());
        self.calls[i].acks.insert(cseq, bytes);
    }

    /// A retransmitted 2xx (no transaction any more): the same ACK again (§13.2.2.4).
    pub(super) fn on_stray_response(&mut self, msg: &Message) {
        if !(200..300).contains(&msg.status().unwrap_or(0)) {
            return;
        }
        let cseq = msg.cseq().map_or(0, |c| c.number);
        let Some(call_id) = msg.call_id() else {
            return;
        };
        let from_tag = msg.from_tag();
        let Some(c) = self
            .calls
            .iter()
            .find(|c| c.call_id == call_id && from_tag.as_deref() == Some(c.local_tag.as_str()))
        else {
            return;
        };
        if let Some(ack) = c.acks.get(&cseq) {
            let to = destination(&parse_message(ack)).unwrap_or(c.remote_addr);
            self.wire.send_raw(to, ack.clone());
        }
    }

    /// Timer B/F or a transport error ended one of our transactions.
    pub(super) fn on_transaction_failed(&mut self, now: Instant, tx: TxId) {
        self.on_registration_failed(tx);
        if let Some(i) = self
            .calls
            .iter()
            .position(|c| c.calling.as_ref().is_some_and(|k| k.tx == tx))
        {
            let calling = self.calls[i].calling.take();
            if calling.is_some_and(|c| c.purpose == Purpose::Initial) {
                self.calls[i].ended = true;
                // Timer B: a transfer's outcome is 408 (notify.rs).
                self.on_call_failed(now, i, 408);
            }
        }
    }
}
