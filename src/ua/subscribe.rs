//! SUBSCRIBE (RFC 6665) as notifier for the `dialog` package (RFC 4235) and for refreshes of
//! the `refer` subscriptions REFERs create (RFC 3515 §2.4.4), and as subscriber (the
//! `subscribe` action).
//!
//! A SUBSCRIBE to the `refer` package that matches no REFER's subscription gets 403 (RFC 3515
//! §2.4.4: refer subscriptions are created by REFER only), not 489: the UA does list the
//! package in Allow-Events.

use super::action::ActError;
use super::call::{Call, Side};
use super::invite_uac::uri_addr;
use super::notify::{Held, Package, Pending, Served, Usage};
use super::respond::Reply;
use super::{Quirk, Rx, UaCore, ALLOW_EVENTS};
use crate::sip::headers::parse_event;
use crate::sip::message::Message;
use crate::sip::HeaderName;
use std::time::Duration;
use tokio::time::Instant;

/// The subscription duration when SUBSCRIBE has no Expires, and the longest granted (RFC 4235
/// §3.4: 3600 s by default; RFC 6665 §4.2.1.1: the notifier may shorten it).
const DIALOG_EXPIRES: u64 = 3600;

/// The duration a SUBSCRIBE asks for (its Expires), capped.
fn requested_expires(msg: &Message) -> u64 {
    msg.first_value(HeaderName::Expires)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(DIALOG_EXPIRES)
        .min(DIALOG_EXPIRES)
}

/// A dialog's state as RFC 4235 §3.7.1 names it.
fn call_state(c: &Call) -> &'static str {
    if c.ended {
        "terminated"
    } else if c.established {
        "confirmed"
    } else if c.dialog.as_ref().is_some_and(|d| d.is_early()) {
        "early"
    } else {
        "trying"
    }
}

/// Escapes text for an XML attribute value.
fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

impl UaCore {
    /// SUBSCRIBE outside any dialog or inside a call.
    pub(super) fn on_subscribe(&mut self, now: Instant, rx: Rx) {
        let usage = if rx.msg.to_tag().is_some() {
            self.call_of(&rx.msg).map(|i| Usage::Call(self.calls[i].id))
        } else {
            None
        };
        self.on_subscribe_in(now, rx, usage);
    }

    /// SUBSCRIBE in dialog `usage` (`None`: outside any dialog): a refresh or unsubscription
    /// of a subscription we serve there, or a new one.
    pub(super) fn on_subscribe_in(&mut self, now: Instant, rx: Rx, usage: Option<Usage>) {
        let Some(event) = rx
            .msg
            .first_value(HeaderName::Event)
            .and_then(|v| parse_event(&v).ok())
        else {
            // RFC 6665 §8.2.1: SUBSCRIBE carries one Event.
            self.answer_non_invite(now, &rx, 400);
            return;
        };
        let package = event.package().to_ascii_lowercase();
        let id = event.id().map(str::to_string);
        if package == "dialog" && self.quirk(Quirk::DialogEvent489) {
            // Quirk: Allow-Events lists dialog, yet SUBSCRIBE to it gets 489 (RFC 6665
            // §4.1.3 and §8.3.2 reserve 489 for packages the notifier does not serve).
            self.reject_bad_event(now, &rx);
            return;
        }
        let existing = usage.and_then(|u| {
            self.events
                .served
                .iter()
                .find(|s| s.usage == u && s.package.name() == package && s.event_id == id)
                .map(|s| s.id)
        });
        match (existing, package.as_str()) {
            (Some(sub), _) => self.refresh_subscription(now, &rx, sub),
            // RFC 3515 §2.4.4: refer subscriptions come from REFER; a SUBSCRIBE that
            // matches none gets 403.
            (None, "refer") => self.answer_non_invite(now, &rx, 403),
            (None, "dialog") => self.new_dialog_subscription(now, &rx, usage, id),
            // RFC 6665 §4.2.1.1: a package the notifier does not serve gets 489.
            _ => self.reject_bad_event(now, &rx),
        }
    }

    /// 489 Bad Event with the packages the UA serves (RFC 6665 §8.3.2, §4.4.4).
    fn reject_bad_event(&mut self, now: Instant, rx: &Rx) {
        let tag = rx.msg.to_tag().is_none().then(|| self.wire.token());
        let reply = Reply {
            tag,
            ..Reply::default()
        }
        .header("Allow-Events", ALLOW_EVENTS);
        self.respond(rx, 489, reply);
        let _ = now;
    }

    /// The 200 to a SUBSCRIBE with Expires (RFC 6665 §4.2.1.1) and our Contact (it creates or
    /// refreshes the dialog's target, RFC 3261 §12.1.1).
    fn subscribe_ok(&mut self, rx: &Rx, expires: u64) -> Message {
        let mut reply = Reply::default().header("Expires", expires.to_string());
        reply.contact = true;
        if rx.msg.to_tag().is_none() {
            reply.tag = Some(self.wire.token());
        }
        Self::built(&self.build_response(rx, 200, reply))
    }

    /// A new subscription to the dialog package (RFC 4235 §3.6): 200, then a NOTIFY with the
    /// full state at once (RFC 6665 §4.2.1.2). Expires 0 is a fetch: that NOTIFY terminates
    /// it (RFC 6665 §4.4.3).
    fn new_dialog_subscription(
        &mut self,
        now: Instant,
        rx: &Rx,
        usage: Option<Usage>,
        id: Option<String>,
    ) {
        let expires = requested_expires(&rx.msg);
        let ok = self.subscribe_ok(rx, expires);
        let usage = match usage {
            Some(u) => u,
            None => match self.new_own_dialog(&rx.msg, &ok, rx.from) {
                Some(u) => u,
                None => {
                    self.answer_non_invite(now, rx, 400);
                    return;
                }
            },
        };
        self.send_response_msg(rx, ok);
        let sub = self.events.next_id();
        let expires_at = now + Duration::from_secs(expires);
        self.events.served.push(Served {
            id: sub,
            package: Package::Dialog,
            event_id: id,
            usage,
            expires_at,
            version: 0,
            reported: Vec::new(),
            sipfrag: String::new(),
        });
        self.notify_current(now, sub, expires == 0);
    }

    /// A SUBSCRIBE for a subscription we serve: a refresh (200 and a NOTIFY, RFC 6665
    /// §4.2.1.2) or, with Expires 0, its end (a final NOTIFY, RFC 6665 §4.1.2.3).
    fn refresh_subscription(&mut self, now: Instant, rx: &Rx, sub: u64) {
        let expires = requested_expires(&rx.msg);
        let ok = self.subscribe_ok(rx, expires);
        self.send_response_msg(rx, ok);
        if let Some(s) = self.events.served.iter_mut().find(|s| s.id == sub) {
            s.expires_at = now + Duration::from_secs(expires);
        }
        self.notify_current(now, sub, expires == 0);
    }

    /// A NOTIFY with the current state of `sub`: `active` with the time left (and the expiry
    /// scheduled), or `terminated;reason=timeout` when `last` (RFC 6665 §4.2.2).
    fn notify_current(&mut self, now: Instant, sub: u64, last: bool) {
        let Some(at) = self
            .events
            .served
            .iter()
            .find(|s| s.id == sub)
            .map(|s| s.expires_at)
        else {
            return;
        };
        let body = self.state_body(sub);
        if last {
            self.send_notify(sub, "terminated;reason=timeout", body);
            self.drop_served(sub);
            return;
        }
        self.schedule_expiry(sub, at);
        let left = at.saturating_duration_since(now).as_secs();
        self.send_notify(sub, &format!("active;expires={left}"), body);
    }

    /// The states of the UA's calls, for the dialog package.
    fn call_states(&self) -> Vec<(u64, &'static str)> {
        self.calls.iter().map(|c| (c.id, call_state(c))).collect()
    }

    /// The dialog-info document of the next NOTIFY of `sub` (RFC 4235 §4.1): every call of the
    /// UA, full state; its version goes up by one per document.
    pub(super) fn dialog_info(&mut self, sub: u64) -> Vec<u8> {
        let states = self.call_states();
        let entity = xml_escape(&self.uri());
        let mut dialogs = String::new();
        for c in &self.calls {
            let tags = c.dialog.as_ref().map_or(String::new(), |d| {
                format!(
                    " local-tag=\"{}\" remote-tag=\"{}\"",
                    xml_escape(&d.id.local_tag),
                    xml_escape(&d.id.remote_tag)
                )
            });
            let direction = if c.side == Side::Uac {
                "initiator"
            } else {
                "recipient"
            };
            dialogs.push_str(&format!(
                "  <dialog id=\"d{}\" call-id=\"{}\"{tags} direction=\"{direction}\">\n    <state>{}</state>\n  </dialog>\n",
                c.id,
                xml_escape(&c.call_id),
                call_state(c)
            ));
        }
        let Some(s) = self.events.served.iter_mut().find(|s| s.id == sub) else {
            return Vec::new();
        };
        let version = s.version;
        s.version += 1;
        s.reported = states;
        format!(
            "<?xml version=\"1.0\"?>\n<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"{version}\" state=\"full\" entity=\"{entity}\">\n{dialogs}</dialog-info>\n"
        )
        .into_bytes()
    }

    /// A NOTIFY to every dialog subscription whose calls changed state since its last one
    /// (RFC 4235 §3.7).
    pub(super) fn notify_dialog_watchers(&mut self, now: Instant) {
        let states = self.call_states();
        let due: Vec<u64> = self
            .events
            .served
            .iter()
            .filter(|s| s.package == Package::Dialog && s.reported != states)
            .map(|s| s.id)
            .collect();
        for sub in due {
            self.notify_current(now, sub, false);
        }
    }

    /// The `subscribe` action: SUBSCRIBE `peer` to `event` outside any dialog (RFC 6665
    /// §4.1.2.1); its NOTIFYs get 200 (RFC 6665 §4.1.3).
    pub(super) fn subscribe(
        &mut self,
        _now: Instant,
        peer: &str,
        event: &str,
    ) -> Result<(), ActError> {
        let fail = |reason: String| ActError {
            action: "subscribe",
            reason,
        };
        let addr = uri_addr(peer)
            .ok_or_else(|| fail(format!("`{peer}` is not a sip: URI with an IP address")))?;
        let parsed = parse_event(event).map_err(|e| fail(format!("event `{event}`: {e}")))?;
        let host = crate::engine::target::uri_host(self.wire.local().ip());
        let call_id = format!("{}@{host}", self.wire.token());
        let tag = self.wire.token();
        let mut d = self.new_request("SUBSCRIBE", peer, &call_id, &tag, 1);
        d.push("Event", event.trim());
        d.push("Expires", DIALOG_EXPIRES.to_string());
        if parsed.package().eq_ignore_ascii_case("dialog") {
            // RFC 4235 §3.5: the body format of its NOTIFYs.
            d.push("Accept", "application/dialog-info+xml");
        }
        let (tx, msg) = self.send("subscribe", &d, addr)?;
        let held = self.events.next_id();
        self.events.held.push(Held {
            id: held,
            package: parsed.package().to_ascii_lowercase(),
            event_id: parsed.id().map(str::to_string),
            id_optional: false,
            usage: None,
            call_id,
            local_tag: tag,
            request: msg,
            remote_addr: addr,
            transfer_done: false,
        });
        self.events.pending.insert(tx, Pending::Subscribe { held });
        Ok(())
    }
}
