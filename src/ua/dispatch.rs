//! What the reference UA does with each request it receives (RFC 3261 §8.2): the checks every
//! request goes through (Require, dialog membership), then the method's own handling.

use super::call::Side;
use super::respond::Reply;
use super::{Quirk, Rx, Timer, UaCore, Variation, SUPPORTED_TAGS};
use crate::sip::message::Message;
use crate::sip::HeaderName;
use std::net::SocketAddr;
use tokio::time::Instant;

/// Option tags in a header, lower-cased.
pub(super) fn option_tags(msg: &Message, name: HeaderName) -> Vec<String> {
    msg.values(name)
        .iter()
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

impl UaCore {
    pub(super) fn on_request(&mut self, now: Instant, rx: Rx) {
        if rx.method == "ACK" {
            self.on_ack(now, &rx.msg, rx.from);
            return;
        }
        if let Some(problem) = malformed(&rx.msg) {
            // RFC 3261 §21.4.1: a syntactically malformed request gets 400, the reason phrase
            // naming the problem (§8.2: a UAS rejects what it cannot process).
            let tag = rx.msg.to_tag().is_none().then(|| self.wire.token());
            let reply = Reply {
                tag,
                ..Reply::default()
            }
            .header(
                "Warning",
                format!("399 siptest \"{}\"", problem.replace('"', "'")),
            );
            self.respond(&rx, 400, reply);
            return;
        }
        if rx.method == "CANCEL" {
            self.on_cancel(now, &rx);
            return;
        }
        // Quirk `early-100-non-invite`: a 100 at once, over UDP too (RFC 4320 §4.1 says wait
        // until Timer E would reach T2). The transaction layer holds such a 100 back, so it
        // goes out statelessly.
        if rx.method != "INVITE" && self.quirk(Quirk::Early100NonInvite) {
            self.respond_raw(&rx, 100, None);
        }
        if let Some(unsupported) = self.unsupported_required(&rx) {
            // RFC 3261 §8.2.2.3: 420 with the tags not supported in Unsupported.
            let tag = rx.msg.to_tag().is_none().then(|| self.wire.token());
            let reply = Reply {
                tag,
                ..Reply::default()
            }
            .header("Unsupported", unsupported)
            // What it does support, as many stacks say in every response (§20.37).
            .header("Supported", super::SUPPORTED)
            .header("Allow", super::ALLOW);
            self.respond(&rx, 420, reply);
            return;
        }
        if rx.msg.to_tag().is_some() {
            self.on_in_dialog(now, rx);
            return;
        }
        match rx.method.as_str() {
            "INVITE" => self.on_invite(now, rx),
            "BYE" => self.answer_non_invite(now, &rx, 481),
            _ => self.on_out_of_dialog(now, rx),
        }
    }

    /// The Require tags of `rx` the UA does not support (the quirks `100rel-420` and
    /// `replaces-unsupported` refuse tags it claims in Supported).
    fn unsupported_required(&self, rx: &Rx) -> Option<String> {
        let mut missing: Vec<String> = option_tags(&rx.msg, HeaderName::Require)
            .into_iter()
            .filter(|t| !SUPPORTED_TAGS.contains(&t.as_str()))
            .collect();
        let required = option_tags(&rx.msg, HeaderName::Require);
        if self.quirk(Quirk::Require100rel420) && required.iter().any(|t| t == "100rel") {
            missing.push("100rel".into());
        }
        if self.quirk(Quirk::ReplacesUnsupported)
            && rx.method == "INVITE"
            && rx.msg.header(HeaderName::Replaces).is_some()
        {
            missing.push("replaces".into());
        }
        (!missing.is_empty()).then(|| missing.join(", "))
    }

    /// A request outside any dialog other than INVITE.
    fn on_out_of_dialog(&mut self, now: Instant, rx: Rx) {
        match rx.method.as_str() {
            "OPTIONS" | "MESSAGE" | "INFO" | "UPDATE" | "PRACK" | "NOTIFY" => {
                self.on_simple(now, rx)
            }
            "REGISTER" => self.on_register(now, rx),
            "SUBSCRIBE" => self.on_subscribe(now, rx),
            "REFER" => self.on_refer_out_of_dialog(now, rx),
            _ => self.answer_non_invite(now, &rx, 501),
        }
    }

    /// A request with a To tag: it must belong to one of our dialogs (RFC 3261 §12.2.2).
    fn on_in_dialog(&mut self, now: Instant, rx: Rx) {
        let Some(i) = self.call_of(&rx.msg) else {
            // Subscription dialogs (RFC 6665 §4.4.1) are no calls: refer.rs/subscribe.rs.
            if self.on_subscription_request(now, &rx) {
                return;
            }
            // RFC 3261 §12.2.2: 481 for a request that matches no dialog.
            self.answer_non_invite(now, &rx, 481);
            return;
        };
        let checked = self.calls[i]
            .dialog
            .as_mut()
            .map(|d| d.on_remote_request(&rx.msg));
        if let Some(Err(e)) = checked {
            // RFC 5057 §5.2: a NOTIFY of a subscription we hold in the call outlives its BYE.
            let lingering =
                e == crate::dialog::DialogError::Terminated && self.holds_subscription(i, &rx.msg);
            if !lingering {
                let status = e.status_code().unwrap_or(500);
                self.notes.push(format!("{} in dialog: {e}", rx.method));
                self.answer_non_invite(now, &rx, status);
                return;
            }
        }
        match rx.method.as_str() {
            "INVITE" => self.on_reinvite(now, i, rx),
            "UPDATE" => self.on_update(now, i, rx),
            "BYE" => self.on_bye(now, i, rx),
            "PRACK" => self.on_prack(now, i, rx),
            "REFER" => self.on_refer(now, i, rx),
            "NOTIFY" => self.on_notify(now, i, rx),
            "SUBSCRIBE" => self.on_subscribe(now, rx),
            "INFO" | "OPTIONS" | "MESSAGE" => self.on_simple(now, rx),
            _ => self.answer_non_invite(now, &rx, 501),
        }
    }

    /// The call a request belongs to, by Call-ID and tags.
    pub(super) fn call_of(&self, msg: &Message) -> Option<usize> {
        let call_id = msg.call_id()?;
        let local = msg.to_tag();
        let remote = msg.from_tag();
        self.calls
            .iter()
            .rposition(|c| c.matches(&call_id, local.as_deref(), remote.as_deref()))
    }

    /// OPTIONS, MESSAGE, INFO and the like: 200, unless a plan or a quirk says otherwise.
    fn on_simple(&mut self, now: Instant, rx: Rx) {
        let peer = Self::peer_of(&rx.msg);
        if let Some(plan) = self.respond_plans.get(&(peer, rx.method.clone())).cloned() {
            match plan.status {
                Some(status) => {
                    let at = now + std::time::Duration::from_millis(plan.delay_ms);
                    self.schedule(
                        at,
                        Timer::LateResponse {
                            tx: rx.tx,
                            request: rx.msg.clone(),
                            from: rx.from,
                            status,
                        },
                    );
                }
                None => {
                    // It cannot answer: a transaction-stateful UA lets the client's Timer F
                    // expire (RFC 4320 §4.2); the quirk sends 408 at its own Timer F.
                    let at = now + self.cfg.t1 * 64;
                    self.schedule(
                        at,
                        Timer::NonInviteGiveUp {
                            tx: rx.tx,
                            request: rx.msg.clone(),
                            from: rx.from,
                        },
                    );
                }
            }
            return;
        }
        let status = match rx.method.as_str() {
            "INFO" if self.quirk(Quirk::Info405) => 405,
            "MESSAGE" => self.message_status(&rx),
            "PRACK" | "UPDATE" | "NOTIFY" => 481, // outside any dialog (RFC 3262 §7.2, RFC 3311 §5.2)
            _ => 200,
        };
        if rx.method == "MESSAGE" && self.quirk(Quirk::Provisional180ToMessage) {
            // Quirk: a 180 to MESSAGE (RFC 4320 §4.1 allows only 100 to a non-INVITE), with
            // the To tag of the final response (§8.2.6.2).
            let tag = rx.msg.to_tag().is_none().then(|| self.wire.token());
            self.respond_raw(&rx, 180, tag.as_deref());
            self.answer_non_invite_tagged(&rx, status, tag);
            return;
        }
        self.answer_non_invite(now, &rx, status);
    }

    /// 200 for a body the UA accepts, 415 otherwise (RFC 3428 §7; RFC 3261 §21.4.13).
    fn message_status(&self, rx: &Rx) -> u16 {
        let ct = rx
            .msg
            .content_type()
            .map(|t| format!("{}/{}", t.type_, t.subtype).to_ascii_lowercase());
        match ct.as_deref() {
            Some("text/plain") if self.quirk(Quirk::Message415) => 415,
            Some("text/plain") | Some("message/sipfrag") | Some("application/sdp") => 200,
            None if rx.msg.body().is_empty() => 200,
            _ => 415,
        }
    }

    /// An ACK: to a 2xx, it stops the retransmissions (RFC 3261 §13.3.1.4) and may carry the
    /// answer to an offer in the 2xx (RFC 3264 §4).
    pub(super) fn on_ack(&mut self, _now: Instant, msg: &Message, _from: SocketAddr) {
        let Some(i) = self.call_of(msg) else {
            return;
        };
        let number = msg.cseq().map_or(0, |c| c.number);
        let call = &mut self.calls[i];
        call.retransmissions
            .retain(|r| r.reliable_provisional || r.number != number);
        if call.side == Side::Uas {
            call.established = !call.ended;
        }
    }

    /// CANCEL (RFC 3261 §9.2): 200 to the CANCEL; 487 to the INVITE if it has no final
    /// response yet.
    fn on_cancel(&mut self, now: Instant, rx: &Rx) {
        let branch = rx.msg.branch();
        let call_id = rx.msg.call_id();
        let found = self.calls.iter().position(|c| {
            c.answering
                .as_ref()
                .is_some_and(|a| a.request.branch() == branch && a.request.call_id() == call_id)
        });
        let Some(i) = found else {
            // RFC 3261 §9.2: no matching transaction: 481.
            self.answer_non_invite(now, rx, 481);
            return;
        };
        // RFC 3261 §9.2: the 200 to the CANCEL SHOULD carry the To tag of the INVITE's
        // responses.
        let tag = self.calls[i].local_tag.clone();
        self.respond(rx, 200, Reply::tagged(&tag));
        self.finish_invite(now, i, 487);
    }

    /// BYE (RFC 3261 §15.1.2): 200; a pending INVITE of the call gets 487.
    fn on_bye(&mut self, now: Instant, i: usize, rx: Rx) {
        if self.calls[i].answering.is_some() {
            self.finish_invite(now, i, 487);
        }
        self.calls[i].ended = true;
        self.calls[i]
            .retransmissions
            .retain(|r| !r.reliable_provisional);
        if self.variation(Variation::DelayedBye100) {
            // Variation: the 200 comes after the transaction layer's 100, which RFC 4320 §4.1
            // lets out once the client's Timer E would reach T2 (7*T1 over UDP).
            let at = now + self.cfg.t1 * 9;
            self.schedule(
                at,
                Timer::LateResponse {
                    tx: rx.tx,
                    request: rx.msg.clone(),
                    from: rx.from,
                    status: 200,
                },
            );
        } else {
            self.answer_non_invite(now, &rx, 200);
        }
        self.on_call_ended(now, i);
        self.sweep();
    }
}

/// The first error a request has (framing or header syntax, `crate::sip::validate`), as
/// `rule: detail`.
fn malformed(msg: &Message) -> Option<String> {
    let mut checked = msg.clone();
    crate::sip::validate::validate(&mut checked);
    checked
        .violations
        .iter()
        .find(|v| v.rule.severity == crate::rule::Severity::Error)
        .map(|v| format!("{}: {}", v.rule.id, v.detail))
}
