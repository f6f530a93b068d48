//! Transfer (RFC 3515 REFER with NOTIFY message/sipfrag, RFC 5589 call flows, RFC 3891
//! Replaces, RFC 4488 norefersub) as transferee and transferor.
//!
//! A REFER outside any dialog is accepted like one inside a call: its 202 creates the dialog
//! the refer subscription lives in (RFC 3515 §2.4.4, RFC 6665 §4.4.1).

use super::action::ActError;
use super::call::{Call, Calling, Purpose, Side};
use super::invite_uac::uri_addr;
use super::notify::{refer_sub_false, Held, Package, Pending, Served, Transfer, Usage};
use super::respond::Reply;
use super::{Quirk, Rx, UaCore};
use crate::dialog::{cancel_for, DialogSet};
use crate::engine::draft::Draft;
use crate::engine::sdp_gen;
use crate::scenario::SdpParams;
use crate::sip::addr::parse_name_addr;
use crate::sip::headers::{parse_replaces, parse_replaces_escaped};
use crate::sip::message::Message;
use crate::sip::HeaderName;
use std::time::Duration;
use tokio::time::Instant;

/// How long the implicit refer subscription lasts (the `expires` of its first NOTIFY).
const REFER_EXPIRES: u64 = 60;

fn err(action: &'static str, reason: impl Into<String>) -> ActError {
    ActError {
        action,
        reason: reason.into(),
    }
}

/// Where a REFER sends the UA: the Refer-To URI without its headers, and the Replaces its
/// `?Replaces=` header carries, %-decoded (RFC 3891 §7; RFC 3261 §19.1.5: URI headers become
/// headers of the request).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ReferTarget {
    pub uri: String,
    pub replaces: Option<String>,
}

/// The target of a REFER: exactly one Refer-To (RFC 3515 §2.4.1), a URI that parses.
pub(super) fn refer_target(msg: &Message) -> Result<ReferTarget, String> {
    let values = msg.values(HeaderName::ReferTo);
    let [value] = values.as_slice() else {
        return Err(format!("{} Refer-To values, one expected", values.len()));
    };
    let addr = parse_name_addr(value).map_err(|e| format!("Refer-To: {e}"))?;
    let uri = &addr.uri;
    let base = &uri.raw[..uri.headers_offset.unwrap_or(uri.raw.len())];
    let mut replaces = None;
    for (name, v) in &uri.headers {
        if name.eq_ignore_ascii_case("replaces") {
            let r = parse_replaces_escaped(v).map_err(|e| format!("Replaces in Refer-To: {e}"))?;
            let mut text = r.call_id.clone();
            for (n, val) in &r.params {
                text.push(';');
                text.push_str(n);
                if let Some(val) = val {
                    text.push('=');
                    text.push_str(val);
                }
            }
            replaces = Some(text);
        }
    }
    Ok(ReferTarget {
        uri: base.to_string(),
        replaces,
    })
}

impl UaCore {
    /// REFER inside call `i`.
    pub(super) fn on_refer(&mut self, now: Instant, i: usize, rx: Rx) {
        let usage = Usage::Call(self.calls[i].id);
        self.accept_refer(now, rx, Some(usage));
    }

    /// REFER outside any dialog: accepted, its 202 creating the dialog (see the module
    /// documentation).
    pub(super) fn on_refer_out_of_dialog(&mut self, now: Instant, rx: Rx) {
        self.accept_refer(now, rx, None);
    }

    /// The transferee's side (RFC 3515 §2.4.2 - §2.4.5): 202, the implicit subscription's
    /// first NOTIFY (`100 Trying`), then the call to the Refer-To target.
    fn accept_refer(&mut self, now: Instant, rx: Rx, usage: Option<Usage>) {
        if self.quirk(Quirk::Refer501) {
            // Quirk: 501 although Allow lists REFER (RFC 3261 §20.5).
            self.answer_non_invite(now, &rx, 501);
            return;
        }
        let target = match refer_target(&rx.msg) {
            Ok(t) => t,
            Err(e) => {
                // RFC 3515 §2.4.1: exactly one Refer-To; §2.4.2: 400 otherwise.
                self.notes.push(format!("REFER: {e}"));
                self.answer_non_invite(now, &rx, 400);
                return;
            }
        };
        // RFC 4488 §4: `Refer-Sub: false` and norefersub supported: no implicit
        // subscription, and the 2xx says so.
        let no_sub = refer_sub_false(&rx.msg);
        let mut reply = Reply::default();
        if rx.msg.to_tag().is_none() {
            reply.tag = Some(self.wire.token());
            reply.contact = true; // the 202 creates a dialog (RFC 3261 §12.1.1)
        }
        if no_sub {
            reply = reply.header("Refer-Sub", "false");
        }
        let accepted = Self::built(&self.build_response(&rx, 202, reply));
        let usage = match usage {
            Some(u) => u,
            None => match self.new_own_dialog(&rx.msg, &accepted, rx.from) {
                Some(u) => u,
                None => {
                    self.answer_non_invite(now, &rx, 400);
                    return;
                }
            },
        };
        let notify = !no_sub && !self.quirk(Quirk::ReferWithoutNotify);
        let sub = notify.then(|| self.new_refer_subscription(now, &rx.msg, usage));
        self.events.refers_received.push(usage);
        match sub {
            Some(sub) if self.quirk(Quirk::NotifyBefore202) => {
                // Quirk: the first NOTIFY ahead of the 202 (RFC 3515 §2.4.4 orders them).
                self.notify_refer(sub, false);
                self.send_response_msg(&rx, accepted);
            }
            Some(sub) => {
                self.send_response_msg(&rx, accepted);
                // RFC 3515 §2.4.4: a NOTIFY at once after accepting the REFER.
                self.notify_refer(sub, false);
            }
            None => {
                self.send_response_msg(&rx, accepted);
            }
        }
        self.start_transfer(now, &rx.msg, target, sub, usage);
    }

    /// The implicit subscription of a REFER (RFC 3515 §2.4.4), reporting `100 Trying` first.
    fn new_refer_subscription(&mut self, now: Instant, refer: &Message, usage: Usage) -> u64 {
        // RFC 3515 §2.4.6: the NOTIFYs of the second and later REFERs of a dialog carry
        // id=<the REFER's CSeq number>.
        let event_id = self
            .events
            .refers_received
            .contains(&usage)
            .then(|| refer.cseq().map_or(0, |c| c.number).to_string());
        let id = self.events.next_id();
        let expires_at = now + Duration::from_secs(REFER_EXPIRES);
        self.events.served.push(Served {
            id,
            package: Package::Refer,
            event_id,
            usage,
            expires_at,
            version: 0,
            reported: Vec::new(),
            sipfrag: Self::sipfrag(100),
        });
        self.schedule_expiry(id, expires_at);
        id
    }

    /// A NOTIFY of refer subscription `sub` with its current sipfrag: `active;expires=60`, or
    /// `terminated;reason=noresource` for the final one (RFC 3515 §2.4.5, §2.4.7).
    fn notify_refer(&mut self, sub: u64, last: bool) {
        let state = if last {
            "terminated;reason=noresource".to_string()
        } else {
            format!("active;expires={REFER_EXPIRES}")
        };
        let body = self.state_body(sub);
        self.send_notify(sub, &state, body);
        if last {
            self.drop_served(sub);
        }
    }

    /// Calls the Refer-To target (RFC 3515 §2.4.3): an INVITE with an offer, the REFER's
    /// Referred-By (RFC 3892 §3) and the Replaces of the Refer-To URI (RFC 3891 §7).
    fn start_transfer(
        &mut self,
        now: Instant,
        refer: &Message,
        target: ReferTarget,
        sub: Option<u64>,
        usage: Usage,
    ) {
        self.events.transfers.push(Transfer {
            sub,
            referrer: usage,
            call: None,
        });
        let referred_by = refer
            .first_value(HeaderName::ReferredBy)
            .map(|v| v.into_owned());
        match self.invite_target(&target, referred_by) {
            Ok(call) => {
                if let Some(t) = self.events.transfers.last_mut() {
                    t.call = Some(call);
                }
            }
            Err(e) => {
                // The target cannot be called: the final NOTIFY says so.
                self.notes.push(e.to_string());
                let pos = self.events.transfers.len() - 1;
                self.report_transfer(now, pos, 503);
            }
        }
    }

    /// The INVITE of a transfer; returns the new call's id.
    fn invite_target(
        &mut self,
        target: &ReferTarget,
        referred_by: Option<String>,
    ) -> Result<u64, ActError> {
        let addr = uri_addr(&target.uri).ok_or_else(|| {
            err(
                "transfer",
                format!("`{}` is not a sip: URI with an IP address", target.uri),
            )
        })?;
        let host = crate::engine::target::uri_host(self.wire.local().ip());
        let call_id = format!("{}@{host}", self.wire.token());
        let tag = self.wire.token();
        let mut d = self.new_request("INVITE", &target.uri, &call_id, &tag, 1);
        if let Some(rb) = referred_by {
            d.push("Referred-By", rb);
        }
        if let Some(r) = &target.replaces {
            d.push("Replaces", r.clone());
        }
        let sdp = sdp_gen::offer(&self.next_sdp(), &SdpParams::default());
        d.set_body("application/sdp", sdp.clone());
        let (tx, msg) = self.send("transfer", &d, addr)?;
        let id = self.new_call_id();
        let mut call = Call::new(
            id,
            Side::Uac,
            Self::peer_key(&target.uri),
            call_id,
            tag,
            addr,
        );
        call.set = DialogSet::new(&msg, false).ok();
        call.local_sdp = Some(sdp.clone());
        call.calling = Some(Calling {
            tx,
            request: msg,
            purpose: Purpose::Initial,
            offered: true,
            sdp: Some(sdp),
        });
        self.calls.push(call);
        Ok(id)
    }

    /// The transfer carried by call `call` got its outcome `status`, if it is one.
    pub(super) fn finish_transfer(&mut self, now: Instant, call: u64, status: u16) {
        if let Some(pos) = self
            .events
            .transfers
            .iter()
            .position(|t| t.call == Some(call))
        {
            self.report_transfer(now, pos, status);
        }
    }

    /// The final NOTIFY of transfer `pos` (RFC 3515 §2.4.5). The transferee does not hang up
    /// the transferor: the transferor does once told of the success (RFC 5589 §6.1).
    fn report_transfer(&mut self, now: Instant, pos: usize, status: u16) {
        let t = self.events.transfers.remove(pos);
        let subscribed = t.sub.is_some();
        if (200..300).contains(&status) && subscribed && self.quirk(Quirk::ByeBeforeTransferNotify)
        {
            // Quirk: the transferee hangs up the transferor before the NOTIFY with the
            // outcome (RFC 5589 §6.1: the transferor sends the BYE). Without a subscription
            // (Refer-Sub: false, RFC 4488 §4) there is no NOTIFY to come before.
            if let Usage::Call(id) = t.referrer {
                if let Some(i) = self.call_index(id).filter(|&i| !self.calls[i].ended) {
                    let _ = self.bye(now, i);
                }
            }
        }
        if let Some(sub) = t.sub {
            if let Some(s) = self.events.served.iter_mut().find(|s| s.id == sub) {
                s.sipfrag = Self::sipfrag(status);
            }
            self.notify_refer(sub, true);
        }
        self.drop_own_dialog_if_unused(t.referrer);
    }

    /// Transferor: a NOTIFY of our REFER's subscription. A 2xx sipfrag means the transferee
    /// reached the target: hang up the call with the transferee (RFC 5589 §6.1).
    pub(super) fn on_refer_progress(&mut self, now: Instant, held: &Held, body: &[u8]) {
        let ok = super::notify::sipfrag_status(body).is_some_and(|s| (200..300).contains(&s));
        if !ok || held.transfer_done {
            return;
        }
        if let Some(h) = self.events.held.iter_mut().find(|h| h.id == held.id) {
            h.transfer_done = true;
        }
        if let Some(Usage::Call(id)) = held.usage {
            if let Some(i) = self.call_index(id).filter(|&i| !self.calls[i].ended) {
                let _ = self.bye(now, i);
            }
        }
    }

    /// The `transfer` action: REFER the party of the call with `peer` to `to` (RFC 3515
    /// §2.4.1), with our Referred-By (RFC 3892 §3).
    pub(super) fn transfer(&mut self, _now: Instant, peer: &str, to: &str) -> Result<(), ActError> {
        let key = Self::peer_key(peer);
        let i = self
            .calls
            .iter()
            .rposition(|c| c.peer == key && c.established && !c.ended && c.dialog.is_some())
            .ok_or_else(|| err("transfer", format!("no established call with {peer}")))?;
        let usage = Usage::Call(self.calls[i].id);
        let refer_to = if to.trim_start().starts_with('<') {
            to.trim().to_string()
        } else {
            format!("<{}>", to.trim())
        };
        let headers = [
            ("Refer-To", refer_to),
            ("Referred-By", format!("<{}>", self.uri())),
        ];
        let (tx, msg) = self
            .send_in_usage(usage, "REFER", &headers, None)
            .ok_or_else(|| err("transfer", "cannot send the REFER"))?;
        // RFC 3515 §2.4.6: NOTIFYs of the first REFER of a dialog may carry no id.
        let id_optional = !self.events.refers_sent.contains(&usage);
        self.events.refers_sent.push(usage);
        let held = self.events.next_id();
        self.events.held.push(Held {
            id: held,
            package: "refer".into(),
            event_id: msg.cseq().map(|c| c.number.to_string()),
            id_optional,
            usage: Some(usage),
            call_id: self.calls[i].call_id.clone(),
            local_tag: self.calls[i].local_tag.clone(),
            request: msg,
            remote_addr: self.calls[i].remote_addr,
            transfer_done: false,
        });
        self.events.pending.insert(tx, Pending::Refer { held });
        Ok(())
    }

    /// An INVITE with Replaces (RFC 3891 §3): true when it may go on (no Replaces, or one
    /// naming a dialog it may replace); otherwise the refusal is sent.
    pub(super) fn check_replaces(&mut self, now: Instant, rx: &Rx) -> bool {
        let values = rx.msg.values(HeaderName::Replaces);
        if values.is_empty() {
            return true;
        }
        let parsed = match values.as_slice() {
            [one] => parse_replaces(one).ok(),
            _ => None, // RFC 3891 §3: more than one Replaces: 400
        };
        let Some(r) = parsed else {
            self.reject_replacing(now, rx, 400);
            return false;
        };
        // RFC 3891 §3: to-tag is compared with our local tag, from-tag with the remote tag.
        let found = self.calls.iter().rposition(|c| {
            c.call_id == r.call_id
                && (c.local_tag == r.to_tag
                    || c.provisional_tag.as_deref() == Some(r.to_tag.as_str()))
                && c.dialog
                    .as_ref()
                    .is_some_and(|d| d.id.remote_tag == r.from_tag)
        });
        let status = match found.map(|i| &self.calls[i]) {
            // RFC 3891 §3: no matching dialog: 481.
            None => 481,
            // RFC 3891 §3: a dialog that has already terminated SHOULD get 603.
            Some(c) if c.ended => 603,
            // RFC 3891 §3: a confirmed dialog with early-only: 486.
            Some(c) if c.established && r.early_only => 486,
            Some(c) if c.established => 0,
            // RFC 3891 §3: an early dialog this UA did not originate: 481, left alone.
            Some(c) if c.side == Side::Uas => 481,
            Some(_) => 0,
        };
        if status != 0 {
            self.reject_replacing(now, rx, status);
            return false;
        }
        let old = self.calls[found.expect("matched")].id;
        let key = (
            rx.msg.call_id().unwrap_or_default(),
            rx.msg.from_tag().unwrap_or_default(),
        );
        self.events.replacing.push((key, old));
        true
    }

    fn reject_replacing(&mut self, now: Instant, rx: &Rx, status: u16) {
        self.notes
            .push(format!("INVITE with Replaces refused with {status}"));
        self.answer_non_invite(now, rx, status);
    }

    /// Call `i` was answered: the call its INVITE's Replaces named ends, with BYE when
    /// confirmed, with CANCEL when it is our early call (RFC 3891 §3).
    pub(super) fn end_replaced_call(&mut self, now: Instant, i: usize) {
        let remote = self.calls[i]
            .dialog
            .as_ref()
            .map(|d| d.id.remote_tag.clone());
        let key = (self.calls[i].call_id.clone(), remote.unwrap_or_default());
        let Some(pos) = self.events.replacing.iter().position(|(k, _)| *k == key) else {
            return;
        };
        let (_, old) = self.events.replacing.remove(pos);
        let Some(j) = self.call_index(old).filter(|&j| !self.calls[j].ended) else {
            return;
        };
        if self.calls[j].established {
            let _ = self.bye(now, j);
        } else if self.is_calling(j) {
            self.cancel_call(j);
        }
    }

    /// CANCELs our INVITE of call `j` (RFC 3261 §9.1).
    fn cancel_call(&mut self, j: usize) {
        let Some(c) = self.calls[j].calling.as_ref() else {
            return;
        };
        let Some(cancel) = cancel_for(&c.request) else {
            return;
        };
        let draft = Draft::from_message(&crate::sip::parse::parse_message(&cancel.build()));
        let fallback = self.calls[j].remote_addr;
        if let Err(e) = self.send("replace", &draft, fallback) {
            self.notes.push(e.to_string());
        }
    }
}
