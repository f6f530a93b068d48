//! The subscriptions of the reference UA (RFC 6665), as notifier and as subscriber, shared by
//! the `refer` package (the implicit subscription of a REFER, RFC 3515 §2.4.4) and the `dialog`
//! package (RFC 4235): their state, the NOTIFYs the UA sends and receives, the responses to its
//! REFER, SUBSCRIBE and NOTIFY requests, and the hooks the call code calls when a call is
//! answered or ends.

use super::call::Side;
use super::{Rx, Timer, UaCore};
use crate::dialog::{Dialog, DialogState};
use crate::engine::compose::{self, reason_phrase};
use crate::engine::draft::Draft;
use crate::net::TxId;
use crate::sip::headers::{parse_event, parse_refer_sub, parse_subscription_state, SubState};
use crate::sip::message::Message;
use crate::sip::parse::parse_message;
use crate::sip::HeaderName;
use std::collections::HashMap;
use std::net::SocketAddr;
use tokio::time::Instant;

/// The dialog a subscription lives in: a call's (a REFER or SUBSCRIBE inside the call shares
/// its dialog, RFC 5057 §5), or one of its own (created by a SUBSCRIBE or REFER outside any
/// dialog, RFC 6665 §4.4.1, RFC 3515 §2.4.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Usage {
    Call(u64),
    Own(u64),
}

/// The event packages the UA serves (its Allow-Events).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Package {
    Refer,
    Dialog,
}

impl Package {
    pub fn name(self) -> &'static str {
        match self {
            Package::Refer => "refer",
            Package::Dialog => "dialog",
        }
    }
}

/// A subscription the UA serves (notifier side).
#[derive(Clone, Debug)]
pub(super) struct Served {
    pub id: u64,
    pub package: Package,
    /// The Event `id` parameter its NOTIFYs carry (RFC 6665 §8.2.1, RFC 3515 §2.4.6).
    pub event_id: Option<String>,
    pub usage: Usage,
    pub expires_at: Instant,
    /// dialog package: the `version` of the next NOTIFY body (RFC 4235 §4.1).
    pub version: u32,
    /// dialog package: the call states the last NOTIFY reported.
    pub reported: Vec<(u64, &'static str)>,
    /// refer package: the sipfrag of the last NOTIFY (RFC 3515 §2.4.5).
    pub sipfrag: String,
}

/// A subscription the UA holds (subscriber side): after its REFER or its SUBSCRIBE.
#[derive(Clone, Debug)]
pub(super) struct Held {
    pub id: u64,
    pub package: String,
    /// The Event `id` its NOTIFYs must carry: a REFER's CSeq number (RFC 3515 §2.4.6), or the
    /// SUBSCRIBE's id (none here).
    pub event_id: Option<String>,
    /// NOTIFYs may leave `id` out: the first REFER of a dialog (RFC 3515 §2.4.6).
    pub id_optional: bool,
    /// Known once the dialog exists (for a SUBSCRIBE: its 2xx).
    pub usage: Option<Usage>,
    pub call_id: String,
    pub local_tag: String,
    /// The REFER or SUBSCRIBE, for the dialog its 2xx creates (RFC 6665 §4.4.1).
    pub request: Message,
    pub remote_addr: SocketAddr,
    /// Transferor: the BYE that ends the transferee's call went out (RFC 5589 §6.1).
    pub transfer_done: bool,
}

/// A dialog of its own, used by subscriptions only.
#[derive(Clone, Debug)]
pub(super) struct OwnDialog {
    pub id: u64,
    pub dialog: Dialog,
    pub remote_addr: SocketAddr,
}

/// A transfer the UA carries out as transferee (RFC 3515 §2.4.3, RFC 5589 §6).
#[derive(Clone, Debug)]
pub(super) struct Transfer {
    /// The refer subscription reporting it; `None`: no NOTIFYs (Refer-Sub: false, or the
    /// `refer-without-notify` quirk).
    pub sub: Option<u64>,
    /// Where the REFER came from: the transferor's call, or a dialog of its own.
    pub referrer: Usage,
    /// The call to the Refer-To target, once placed.
    pub call: Option<u64>,
}

/// What one of our non-INVITE requests was for.
#[derive(Clone, Copy, Debug)]
pub(super) enum Pending {
    Notify { sub: u64 },
    Refer { held: u64 },
    Subscribe { held: u64 },
}

/// Every subscription, transfer and replacement in progress.
#[derive(Default)]
pub(super) struct Events {
    pub served: Vec<Served>,
    pub held: Vec<Held>,
    pub dialogs: Vec<OwnDialog>,
    pub transfers: Vec<Transfer>,
    /// A new call (its Call-ID and the From tag of its INVITE) and the call it replaces once
    /// answered (RFC 3891 §3).
    pub replacing: Vec<((String, String), u64)>,
    pub pending: HashMap<TxId, Pending>,
    /// Dialogs a REFER was received in: the next ones' NOTIFYs need an id (RFC 3515 §2.4.6).
    pub refers_received: Vec<Usage>,
    /// Dialogs a REFER was sent in.
    pub refers_sent: Vec<Usage>,
    next: u64,
}

impl Events {
    pub fn next_id(&mut self) -> u64 {
        self.next += 1;
        self.next
    }
}

/// The status code of a `message/sipfrag` body's status line (RFC 3420; RFC 3515 §2.4.5).
pub(super) fn sipfrag_status(body: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(body).ok()?;
    let line = text.lines().next()?;
    let mut parts = line.split_whitespace();
    if !parts.next()?.eq_ignore_ascii_case("SIP/2.0") {
        return None;
    }
    parts.next()?.parse().ok()
}

/// Whether the request's Refer-Sub says `false` (RFC 4488 §4).
pub(super) fn refer_sub_false(msg: &Message) -> bool {
    msg.first_value(HeaderName::ReferSub)
        .and_then(|v| parse_refer_sub(&v).ok())
        .is_some_and(|r| !r.value)
}

impl UaCore {
    /// The dialog of a usage and where its peer is.
    fn usage_dialog(&mut self, u: Usage) -> Option<(&mut Dialog, SocketAddr)> {
        match u {
            Usage::Call(id) => {
                let i = self.call_index(id)?;
                let c = &mut self.calls[i];
                let addr = c.remote_addr;
                c.dialog.as_mut().map(|d| (d, addr))
            }
            Usage::Own(id) => {
                let d = self.events.dialogs.iter_mut().find(|d| d.id == id)?;
                Some((&mut d.dialog, d.remote_addr))
            }
        }
    }

    /// A request in the dialog of usage `u`, with `headers` and an optional body. A dialog
    /// the call's BYE ended still carries the subscription's requests: the subscription usage
    /// outlives the invite usage (RFC 5057 §5.2).
    pub(super) fn send_in_usage(
        &mut self,
        u: Usage,
        method: &str,
        headers: &[(&str, String)],
        body: Option<(&str, Vec<u8>)>,
    ) -> Option<(TxId, Message)> {
        let via = self.wire.new_via();
        let (dialog, fallback) = self.usage_dialog(u)?;
        let ended = dialog.is_terminated();
        if ended {
            dialog.state = DialogState::Confirmed;
        }
        let built = compose::in_dialog_request(dialog, method, &via);
        if ended {
            dialog.terminate();
        }
        let mut d: Draft = match built {
            Ok(d) => d,
            Err(e) => {
                self.notes.push(format!("{method}: {e}"));
                return None;
            }
        };
        for (n, v) in headers {
            d.push(n, v.clone());
        }
        if let Some((ct, b)) = body {
            d.set_body(ct, b);
        }
        match self.send("notify", &d, fallback) {
            Ok(sent) => Some(sent),
            Err(e) => {
                self.notes.push(e.to_string());
                None
            }
        }
    }

    /// A NOTIFY of served subscription `sub` (RFC 6665 §4.2.2): Event with the package and
    /// its id, Subscription-State `state`, the body.
    pub(super) fn send_notify(&mut self, sub: u64, state: &str, body: (&str, Vec<u8>)) {
        let Some(s) = self.events.served.iter().find(|s| s.id == sub) else {
            return;
        };
        let event = match &s.event_id {
            Some(id) => format!("{};id={id}", s.package.name()),
            None => s.package.name().to_string(),
        };
        let usage = s.usage;
        let headers = [("Event", event), ("Subscription-State", state.to_string())];
        if let Some((tx, _)) = self.send_in_usage(usage, "NOTIFY", &headers, Some(body)) {
            self.events.pending.insert(tx, Pending::Notify { sub });
        }
    }

    /// Ends served subscription `sub`; its own dialog goes with its last subscription.
    pub(super) fn drop_served(&mut self, sub: u64) {
        let Some(pos) = self.events.served.iter().position(|s| s.id == sub) else {
            return;
        };
        let usage = self.events.served.remove(pos).usage;
        self.drop_own_dialog_if_unused(usage);
    }

    /// Drops a dialog of its own that no subscription or transfer uses any more.
    pub(super) fn drop_own_dialog_if_unused(&mut self, usage: Usage) {
        let Usage::Own(id) = usage else {
            return;
        };
        let used = self.events.served.iter().any(|s| s.usage == usage)
            || self.events.held.iter().any(|h| h.usage == Some(usage))
            || self.events.transfers.iter().any(|t| t.referrer == usage);
        if !used {
            self.events.dialogs.retain(|d| d.id != id);
        }
    }

    /// A new dialog of its own from a request we received and our 2xx to it (RFC 3261
    /// §12.1.1).
    pub(super) fn new_own_dialog(
        &mut self,
        request: &Message,
        response: &Message,
        from: SocketAddr,
    ) -> Option<Usage> {
        match Dialog::new_uas(request, response, false) {
            Ok(dialog) => {
                let id = self.events.next_id();
                self.events.dialogs.push(OwnDialog {
                    id,
                    dialog,
                    remote_addr: from,
                });
                Some(Usage::Own(id))
            }
            Err(e) => {
                self.notes.push(format!("no subscription dialog: {e}"));
                None
            }
        }
    }

    /// Schedules the expiry check of served subscription `sub`.
    pub(super) fn schedule_expiry(&mut self, sub: u64, at: Instant) {
        self.schedule(at, Timer::SubscriptionExpiry { sub });
    }

    /// A served subscription reached its expiry time without a refresh: a final NOTIFY with
    /// `terminated;reason=timeout` (RFC 6665 §4.2.2).
    pub(super) fn on_subscription_expiry(&mut self, now: Instant, sub: u64) {
        let Some(s) = self.events.served.iter().find(|s| s.id == sub) else {
            return;
        };
        if s.expires_at > now {
            return; // refreshed since
        }
        let body = self.state_body(sub);
        self.send_notify(sub, "terminated;reason=timeout", body);
        self.drop_served(sub);
    }

    /// The body of the next NOTIFY of `sub`: the refer sipfrag or the dialog-info document.
    pub(super) fn state_body(&mut self, sub: u64) -> (&'static str, Vec<u8>) {
        let Some(s) = self.events.served.iter().find(|s| s.id == sub) else {
            return ("message/sipfrag", Vec::new());
        };
        match s.package {
            Package::Refer => ("message/sipfrag", s.sipfrag.clone().into_bytes()),
            Package::Dialog => ("application/dialog-info+xml", self.dialog_info(sub)),
        }
    }

    /// A response to a request that is not an INVITE of a call or a REGISTER; true when it
    /// was one of ours here (NOTIFY, REFER, SUBSCRIBE).
    pub(super) fn on_other_response(&mut self, _now: Instant, tx: TxId, msg: &Message) -> bool {
        let status = msg.status().unwrap_or(0);
        let Some(&pending) = self.events.pending.get(&tx) else {
            return false;
        };
        if status < 200 {
            return true;
        }
        self.events.pending.remove(&tx);
        match pending {
            // RFC 6665 §4.2.2: a 481 or a timeout to a NOTIFY removes the subscription.
            Pending::Notify { sub } if matches!(status, 408 | 481) => self.drop_served(sub),
            Pending::Notify { .. } => {}
            Pending::Refer { held } => {
                // RFC 3515 §2.4.2: no subscription after a failed REFER; RFC 4488 §4: none
                // either when the 2xx says Refer-Sub: false.
                if status >= 300 || refer_sub_false(msg) {
                    self.drop_held(held);
                }
            }
            Pending::Subscribe { held } => self.on_subscribe_response(held, status, msg),
        }
        true
    }

    /// The final response to our SUBSCRIBE: a 2xx creates the dialog (RFC 6665 §4.1.2.1,
    /// §4.4.1), anything else ends the subscription.
    fn on_subscribe_response(&mut self, held: u64, status: u16, msg: &Message) {
        let Some(h) = self.events.held.iter().find(|h| h.id == held).cloned() else {
            return;
        };
        if status >= 300 {
            self.drop_held(held);
            return;
        }
        if h.usage.is_some() {
            return;
        }
        match Dialog::new_uac(&h.request, msg, false) {
            Ok(dialog) => {
                let id = self.events.next_id();
                self.events.dialogs.push(OwnDialog {
                    id,
                    dialog,
                    remote_addr: h.remote_addr,
                });
                if let Some(h) = self.events.held.iter_mut().find(|h| h.id == held) {
                    h.usage = Some(Usage::Own(id));
                }
            }
            Err(e) => self.notes.push(format!("SUBSCRIBE 2xx: {e}")),
        }
    }

    pub(super) fn drop_held(&mut self, held: u64) {
        let Some(pos) = self.events.held.iter().position(|h| h.id == held) else {
            return;
        };
        if let Some(u) = self.events.held.remove(pos).usage {
            self.drop_own_dialog_if_unused(u);
        }
    }

    /// NOTIFY inside call `i` (RFC 6665 §4.1.3): 200 when it belongs to a subscription we
    /// hold (the refer subscription of our REFER), else 481.
    pub(super) fn on_notify(&mut self, now: Instant, _i: usize, rx: Rx) {
        self.take_notify(now, &rx);
    }

    /// Whether held subscription `h` lives in the dialog of a NOTIFY we received: its
    /// Call-ID, and its To tag as our tag (RFC 6665 §4.1.3; the From tag is checked with the
    /// dialog when it exists).
    fn held_matches(h: &Held, msg: &Message) -> bool {
        msg.call_id().is_some_and(|c| c == h.call_id)
            && msg.to_tag().is_some_and(|t| t == h.local_tag)
    }

    /// A NOTIFY for one of our held subscriptions: 200 and its state taken in; 481 when none
    /// matches its dialog and Event (RFC 6665 §4.1.3); 400 without a valid Event.
    fn take_notify(&mut self, now: Instant, rx: &Rx) {
        let Some(event) = rx
            .msg
            .first_value(HeaderName::Event)
            .and_then(|v| parse_event(&v).ok())
        else {
            // RFC 6665 §8.2.1: NOTIFY carries one Event.
            self.answer_non_invite(now, rx, 400);
            return;
        };
        let id = event.id().map(str::to_string);
        let found = self.events.held.iter().position(|h| {
            Self::held_matches(h, &rx.msg)
                && h.package.eq_ignore_ascii_case(event.package())
                && (id == h.event_id || (id.is_none() && h.id_optional))
        });
        let Some(pos) = found else {
            // RFC 6665 §4.1.3: a NOTIFY that matches no subscription gets 481.
            self.answer_non_invite(now, rx, 481);
            return;
        };
        self.answer_non_invite(now, rx, 200);
        let held = self.events.held[pos].clone();
        if held.package == "refer" {
            self.on_refer_progress(now, &held, rx.msg.body());
        }
        let terminated = rx
            .msg
            .first_value(HeaderName::SubscriptionState)
            .and_then(|v| parse_subscription_state(&v).ok())
            .is_some_and(|s| s.state == SubState::Terminated);
        if terminated {
            self.drop_held(held.id);
        }
    }

    /// Requests inside a dialog that is no call's: the subscription dialogs (RFC 6665 §4.4.1).
    /// True when handled; otherwise the caller answers 481.
    pub(super) fn on_subscription_request(&mut self, now: Instant, rx: &Rx) -> bool {
        let (Some(call_id), Some(local)) = (rx.msg.call_id(), rx.msg.to_tag()) else {
            return false;
        };
        let remote = rx.msg.from_tag().unwrap_or_default();
        let own = self.events.dialogs.iter().position(|d| {
            d.dialog.id.call_id == call_id
                && d.dialog.id.local_tag == local
                && d.dialog.id.remote_tag == remote
        });
        if let Some(pos) = own {
            if let Err(e) = self.events.dialogs[pos].dialog.on_remote_request(&rx.msg) {
                self.notes
                    .push(format!("{} in subscription dialog: {e}", rx.method));
                let status = e.status_code().unwrap_or(500);
                self.answer_non_invite(now, rx, status);
                return true;
            }
        }
        let usage = own.map(|p| Usage::Own(self.events.dialogs[p].id));
        match rx.method.as_str() {
            "NOTIFY" => {
                // Ours, or a NOTIFY ahead of the 2xx to our SUBSCRIBE (RFC 6665 §4.1.2.4).
                self.take_notify(now, rx);
                true
            }
            "SUBSCRIBE" if usage.is_some() => {
                self.on_subscribe_in(now, rx.clone(), usage);
                true
            }
            _ => false,
        }
    }

    /// Whether a NOTIFY in call `i`, whose dialog a BYE ended, belongs to a subscription we
    /// still hold there: the subscription usage outlives the BYE (RFC 5057 §5.2).
    pub(super) fn holds_subscription(&self, _i: usize, msg: &Message) -> bool {
        msg.method().as_deref() == Some("NOTIFY")
            && self.events.held.iter().any(|h| Self::held_matches(h, msg))
    }

    /// Call `i` ended: the subscriptions and transfers that share its dialog keep it as a
    /// dialog of their own, alive, since the subscription usage outlives the invite usage
    /// (RFC 5057 §5.2) and the call itself is dropped once finished.
    fn keep_subscription_dialog(&mut self, i: usize) {
        let from = Usage::Call(self.calls[i].id);
        let e = &self.events;
        let used = e.served.iter().any(|s| s.usage == from)
            || e.held.iter().any(|h| h.usage == Some(from))
            || e.transfers.iter().any(|t| t.referrer == from);
        let Some(mut dialog) = self.calls[i].dialog.clone().filter(|_| used) else {
            return;
        };
        dialog.state = DialogState::Confirmed;
        let id = self.events.next_id();
        let to = Usage::Own(id);
        self.events.dialogs.push(OwnDialog {
            id,
            dialog,
            remote_addr: self.calls[i].remote_addr,
        });
        let e = &mut self.events;
        e.served
            .iter_mut()
            .filter(|s| s.usage == from)
            .for_each(|s| s.usage = to);
        e.held
            .iter_mut()
            .filter(|h| h.usage == Some(from))
            .for_each(|h| h.usage = Some(to));
        e.transfers
            .iter_mut()
            .filter(|t| t.referrer == from)
            .for_each(|t| t.referrer = to);
    }

    /// Call `i` was answered (a 2xx sent or received to its INVITE): a transfer it carries
    /// succeeded, a call it replaces ends, dialog watchers hear of it.
    pub(super) fn on_call_answered(&mut self, now: Instant, i: usize) {
        let id = self.calls[i].id;
        self.finish_transfer(now, id, 200);
        self.end_replaced_call(now, i);
        self.notify_dialog_watchers(now);
    }

    /// Our INVITE of call `i` failed with `status` (a final non-2xx, or 408 for Timer B).
    pub(super) fn on_call_failed(&mut self, now: Instant, i: usize, status: u16) {
        let id = self.calls[i].id;
        self.finish_transfer(now, id, status);
        self.on_call_ended(now, i);
    }

    /// Call `i` ended (BYE either way, CANCEL, a final non-2xx).
    pub(super) fn on_call_ended(&mut self, now: Instant, i: usize) {
        let id = self.calls[i].id;
        // A transfer call that ends without its final response was cancelled.
        self.finish_transfer(now, id, 487);
        self.keep_subscription_dialog(i);
        self.notify_dialog_watchers(now);
    }

    /// The status line of a sipfrag for `status` (RFC 3515 §2.4.5).
    pub(super) fn sipfrag(status: u16) -> String {
        format!("SIP/2.0 {status} {}", reason_phrase(status))
    }

    /// Whether call `i` is one of ours (UAC) still waiting for its INVITE's final response.
    pub(super) fn is_calling(&self, i: usize) -> bool {
        self.calls[i].side == Side::Uac
            && self.calls[i].calling.is_some()
            && !self.calls[i].established
    }

    /// Sends a response built beforehand through the request's transaction.
    pub(super) fn send_response_msg(&mut self, rx: &Rx, msg: Message) {
        if let Err(e) = self.wire.send_response(rx.tx, msg) {
            self.notes.push(format!("response to {}: {e}", rx.method));
        }
    }

    /// Parses a message we built (for sending it through a transaction).
    pub(super) fn built(draft: &Draft) -> Message {
        parse_message(&draft.to_bytes())
    }
}
