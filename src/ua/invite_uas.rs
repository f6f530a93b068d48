//! The UAS side of INVITE (RFC 3261 §13.3): the answer plan (provisionals, early media, the
//! final response), 2xx retransmission until the ACK (§13.3.1.4), re-INVITE and UPDATE with
//! offer/answer (RFC 3264, RFC 3311), session timers in the 2xx (RFC 4028 §9).

use super::call::{Answering, Call, Retransmission, Side};
use super::dispatch::option_tags;
use super::respond::Reply;
use super::{Quirk, Rx, Timer, UaCore, Variation};
use crate::dialog::Dialog;
use crate::engine::sdp_gen;
use crate::scenario::SdpParams;
use crate::sdp::{Direction, Sdp};
use crate::sip::message::Message;
use crate::sip::HeaderName;
use std::time::Duration;
use tokio::time::Instant;

/// What the UA makes of an offer.
pub(super) enum OfferOutcome {
    /// The answer to send.
    Answer(Vec<u8>),
    /// 488 Not Acceptable Here (RFC 3261 §13.3.1.3).
    Reject,
}

impl UaCore {
    /// An INVITE outside any dialog: a new call, answered by the plan for its peer.
    pub(super) fn on_invite(&mut self, now: Instant, rx: Rx) {
        // RFC 3891 §3: an INVITE with Replaces must name a dialog it may replace (refer.rs).
        if !self.check_replaces(now, &rx) {
            return;
        }
        let peer = Self::peer_of(&rx.msg);
        let plan = self
            .answer_plans
            .get(&peer)
            .cloned()
            .or_else(|| persona_plan(&rx.msg))
            .unwrap_or_else(|| self.cfg.answer.clone());
        let offer = rx.msg.sdp();
        let sdp = match &offer {
            None if self.quirk(Quirk::NoLateOffer) => {
                // Quirk: an INVITE without offer is refused (RFC 3261 §13.2.1 allows it).
                self.answer_non_invite(now, &rx, 488);
                return;
            }
            None => Some(sdp_gen::offer(&self.next_sdp(), &SdpParams::default())),
            Some(o) => match self.answer_offer(o) {
                OfferOutcome::Answer(a) => Some(a),
                OfferOutcome::Reject => {
                    self.reject_offer(&rx);
                    return;
                }
            },
        };
        let id = self.new_call_id();
        let tag = self.wire.token();
        let mut call = Call::new(
            id,
            Side::Uas,
            peer,
            rx.msg.call_id().unwrap_or_default(),
            tag,
            rx.from,
        );
        call.answering = Some(Answering {
            tx: rx.tx,
            request: rx.msg.clone(),
            from: rx.from,
            plan,
            sent_provisionals: 0,
            sdp,
            answered_early: false,
            awaiting_prack: false,
            rseq: 0,
            rang: false,
        });
        self.calls.push(call);
        self.answer_step(now, id);
    }

    /// 488 to an offer the UA cannot take (RFC 3261 §13.3.1.3), with a Warning (305,
    /// §20.43) and its media capabilities as an SDP body (§21.4.26: formatted as in a 200 to
    /// OPTIONS), so that a peer sees which codecs it would take.
    fn reject_offer(&mut self, rx: &Rx) {
        let tag = rx.msg.to_tag().is_none().then(|| self.wire.token());
        let host = crate::engine::target::uri_host(self.wire.local().ip());
        let params = SdpParams {
            codecs: vec![
                "PCMU".into(),
                "PCMA".into(),
                "G722".into(),
                "telephone-event".into(),
            ],
            ..SdpParams::default()
        };
        let caps = sdp_gen::offer(&self.next_sdp(), &params);
        let reply = Reply {
            tag,
            ..Reply::default()
        }
        .header(
            "Warning",
            format!("305 {host} \"Incompatible media format\""),
        )
        .sdp(Some(caps));
        self.respond(rx, 488, reply);
    }

    /// The answer to an offer (RFC 3264 §6), or a rejection.
    pub(super) fn answer_offer(&mut self, offer: &Sdp) -> OfferOutcome {
        let codecs: Vec<String> = offer
            .media
            .iter()
            .filter(|m| m.media == "audio")
            .flat_map(|m| m.codec_names())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let known = ["PCMU", "PCMA", "TELEPHONE-EVENT", "G722"];
        let usable = codecs
            .iter()
            .any(|c| known.contains(&c.as_str()) && c != "TELEPHONE-EVENT");
        if !usable {
            return OfferOutcome::Reject;
        }
        if self.quirk(Quirk::Codec488) && !codecs.iter().any(|c| c == "PCMU") {
            // Quirk: PCMA alone is refused though the UA's own offers list it (RFC 3264 §6.1).
            return OfferOutcome::Reject;
        }
        let mut params = SdpParams {
            codecs: vec![
                "PCMU".into(),
                "PCMA".into(),
                "G722".into(),
                "telephone-event".into(),
            ],
            ..SdpParams::default()
        };
        let held = offer
            .media
            .iter()
            .position(|m| m.media == "audio")
            .map(|i| offer.effective_direction(i))
            .is_some_and(|d| matches!(d, Direction::SendOnly | Direction::Inactive));
        if held && self.quirk(Quirk::HoldAnsweredSendrecv) {
            // Quirk: a hold offer answered sendrecv (RFC 3264 §6.1: sendonly -> recvonly).
            params.direction = Some(Direction::SendRecv);
        }
        OfferOutcome::Answer(sdp_gen::answer(&self.next_sdp(), offer, &params))
    }

    /// The next step of call `id`'s answer plan: the next provisional, or the final response
    /// once they are all out (after the ringing time).
    pub(super) fn answer_step(&mut self, now: Instant, id: u64) {
        let Some(i) = self.call_index(id) else {
            return;
        };
        let Some(a) = self.calls[i].answering.clone() else {
            return;
        };
        if a.awaiting_prack {
            return; // RFC 3262 §3: the next reliable provisional waits for the PRACK
        }
        if let Some(&code) = a.plan.provisional.get(a.sent_provisionals) {
            self.send_provisional(now, i, code);
            if let Some(a) = self.calls[i].answering.as_mut() {
                a.sent_provisionals += 1;
                if !a.awaiting_prack {
                    self.schedule(now, Timer::AnswerStep { call: id });
                }
            }
            return;
        }
        match a.plan.status {
            None => {} // rings until CANCEL
            Some(_) if a.plan.ring_ms > 0 && !a.rang => {
                let at = now + Duration::from_millis(a.plan.ring_ms);
                if let Some(a) = self.calls[i].answering.as_mut() {
                    a.rang = true;
                }
                self.schedule(at, Timer::AnswerStep { call: id });
            }
            Some(status) => self.finish_invite(now, i, status),
        }
    }

    /// A provisional of the plan: 183 carries the answer when the plan asks for early media;
    /// reliable ones (RFC 3262) carry Require: 100rel and RSeq.
    fn send_provisional(&mut self, now: Instant, i: usize, code: u16) {
        let Some(a) = self.calls[i].answering.clone() else {
            return;
        };
        // Variation `183-for-180`: Session Progress where the plan rings (RFC 3261 §21.1.5).
        let code = if code == 180 && self.variation(Variation::SessionProgressForRinging) {
            183
        } else {
            code
        };
        let rx = Rx {
            tx: a.tx,
            msg: a.request.clone(),
            from: a.from,
            method: "INVITE".into(),
        };
        let tag = self.calls[i].local_tag.clone();
        let mut reply = Reply::tagged(&tag);
        reply.contact = true;
        let early_sdp = a.plan.early_media && code == 183 && a.request.sdp().is_some();
        if early_sdp {
            reply = reply.sdp(a.sdp.clone());
        }
        let reliable = a.plan.reliable
            && option_tags(&a.request, HeaderName::Supported)
                .iter()
                .chain(option_tags(&a.request, HeaderName::Require).iter())
                .any(|t| t == "100rel");
        if reliable {
            self.send_reliable_provisional(now, i, &rx, code, reply, early_sdp);
            return;
        }
        let twice = code == 180 && self.variation(Variation::TwoRinging);
        if let Some(sent) = self.respond(&rx, code, reply.clone()) {
            self.note_dialog_response(i, &a.request, &sent);
        }
        if twice {
            // Variation `two-180`: a second 180 (RFC 3261 §13.3.1.1 allows any number).
            self.respond(&rx, code, reply);
        }
    }

    /// The UAS dialog from a response we sent that creates or confirms it (RFC 3261 §12.1.1).
    pub(super) fn note_dialog_response(&mut self, i: usize, request: &Message, sent: &Message) {
        let call = &mut self.calls[i];
        match call.dialog.as_mut() {
            None => match Dialog::new_uas(request, sent, false) {
                Ok(d) => call.dialog = Some(d),
                Err(e) => self.notes.push(format!("no dialog: {e}")),
            },
            Some(d) => {
                if let Err(e) = d.on_sent_response(sent) {
                    self.notes.push(format!("dialog: {e}"));
                }
            }
        }
    }

    /// The final response to call `i`'s pending INVITE.
    pub(super) fn finish_invite(&mut self, now: Instant, i: usize, status: u16) {
        let Some(a) = self.calls[i].answering.take() else {
            return;
        };
        self.calls[i]
            .retransmissions
            .retain(|r| !r.reliable_provisional);
        let rx = Rx {
            tx: a.tx,
            msg: a.request.clone(),
            from: a.from,
            method: "INVITE".into(),
        };
        let mut tag = self.calls[i].local_tag.clone();
        if (200..300).contains(&status)
            && self.quirk(Quirk::ToTagChanges)
            && a.sent_provisionals > 0
            && self.calls[i].dialog.is_some()
        {
            // Quirk: another To tag in the 2xx than in the provisionals (RFC 3261 §12.1.1).
            let old = std::mem::replace(&mut self.calls[i].local_tag, self.wire.token());
            self.calls[i].provisional_tag = Some(old);
            tag = self.calls[i].local_tag.clone();
        }
        let mut reply = Reply::tagged(&tag);
        if (200..300).contains(&status) {
            reply.contact = true;
            reply = reply.capabilities();
            if !a.answered_early {
                reply = reply.sdp(a.sdp.clone());
            }
            reply.headers.extend(self.session_timer_headers(&a.request));
        }
        let Some(sent) = self.respond(&rx, status, reply) else {
            return;
        };
        if !(200..300).contains(&status) {
            self.calls[i].ended = true;
            self.on_call_ended(now, i);
            return;
        }
        if self.calls[i].provisional_tag.is_some() && self.quirk(Quirk::ToTagChanges) {
            self.calls[i].dialog = None;
        }
        self.note_dialog_response(i, &a.request, &sent);
        if a.sdp.is_some() {
            self.calls[i].local_sdp = a.sdp.clone();
        }
        self.calls[i].established = true;
        let number = a.request.cseq().map_or(0, |c| c.number);
        self.start_2xx_retransmission(now, i, a.tx, sent, number);
        // Transfers, Replaces and dialog subscriptions hear of the answer (notify.rs).
        self.on_call_answered(now, i);
    }

    /// RFC 3261 §13.3.1.4: the 2xx is retransmitted at T1, doubling up to T2, until the ACK
    /// comes or 64*T1 passed, "even if the transport at the UAS is reliable" (UDP hops may
    /// follow). Quirk `no-2xx-retransmission`: never.
    fn start_2xx_retransmission(
        &mut self,
        now: Instant,
        i: usize,
        tx: crate::net::TxId,
        ok: Message,
        number: u32,
    ) {
        if self.quirk(Quirk::No2xxRetransmission) {
            return;
        }
        let t1 = self.cfg.t1;
        let id = self.calls[i].id;
        self.calls[i].retransmissions.push(Retransmission {
            tx,
            msg: ok,
            number,
            reliable_provisional: false,
            next: now + t1,
            interval: t1,
            until: now + t1 * 64,
        });
        self.schedule(now + t1, Timer::Retransmit { call: id });
    }

    /// Retransmits what is due in call `id` and schedules the next round.
    pub(super) fn retransmit(&mut self, now: Instant, id: u64) {
        let Some(i) = self.call_index(id) else {
            return;
        };
        let t2 = self.cfg.t2;
        let wire = self.wire.clone();
        let mut gave_up_prack = false;
        self.calls[i].retransmissions.retain_mut(|r| {
            if r.next > now {
                return true;
            }
            if now >= r.until {
                gave_up_prack |= r.reliable_provisional;
                return false;
            }
            if wire.send_response(r.tx, r.msg.clone()).is_err() {
                return false;
            }
            // RFC 3262 §3 and RFC 3261 §13.3.1.4: the interval doubles up to T2.
            r.interval = (r.interval * 2).min(t2);
            // Woken at 64*T1 at the latest, to give up on time (RFC 3262 §3).
            r.next = (now + r.interval).min(r.until);
            true
        });
        if gave_up_prack {
            // RFC 3262 §3: no PRACK within 64*T1: reject the INVITE with 5xx.
            if let Some(a) = self.calls[i].answering.as_mut() {
                a.awaiting_prack = false;
            }
            self.finish_invite(now, i, 504);
        }
        if let Some(next) = self
            .calls
            .get(i)
            .and_then(|c| c.retransmissions.iter().map(|r| r.next).min())
        {
            self.schedule(next, Timer::Retransmit { call: id });
        }
        self.sweep();
    }

    /// A re-INVITE (RFC 3261 §14.2): hold, unhold, a session refresh.
    pub(super) fn on_reinvite(&mut self, now: Instant, i: usize, rx: Rx) {
        if self.quirk(Quirk::ReInvite491)
            || self.calls[i].calling.is_some()
            || self.calls[i].answering.is_some()
        {
            // RFC 3261 §14.2: a re-INVITE while one of ours is pending gets 491 (glare). The
            // quirk answers every re-INVITE so.
            let reply = Reply::default();
            self.respond(&rx, 491, reply);
            return;
        }
        let sdp = match rx.msg.sdp() {
            None if self.quirk(Quirk::UnholdRequiresSdp) => {
                // Quirk: a re-INVITE without offer is refused (RFC 3261 §14.2 says offer in
                // the 2xx).
                self.respond(&rx, 488, Reply::default());
                return;
            }
            // No offer: ours goes in the 2xx, sendrecv (an unhold), answered in the ACK.
            None => Some(sdp_gen::unhold(
                &self.next_sdp(),
                self.calls[i].local_sdp.as_deref(),
            )),
            Some(o) => match self.answer_offer(&o) {
                OfferOutcome::Answer(a) => Some(a),
                OfferOutcome::Reject => {
                    self.reject_offer(&rx);
                    return;
                }
            },
        };
        let plan = super::AnswerPlan {
            provisional: Vec::new(),
            ..super::AnswerPlan::default()
        };
        self.calls[i].answering = Some(Answering {
            tx: rx.tx,
            request: rx.msg.clone(),
            from: rx.from,
            plan,
            sent_provisionals: 0,
            sdp,
            answered_early: false,
            awaiting_prack: false,
            rseq: 0,
            rang: false,
        });
        self.finish_invite(now, i, 200);
    }

    /// UPDATE (RFC 3311 §5.2): an offer answered in the 200, in an early or confirmed
    /// dialog; a session refresh without one (RFC 4028 §7.4).
    pub(super) fn on_update(&mut self, now: Instant, i: usize, rx: Rx) {
        let body = match rx.msg.sdp() {
            None => None,
            Some(o) => match self.answer_offer(&o) {
                OfferOutcome::Answer(a) => Some(a),
                OfferOutcome::Reject => {
                    self.reject_offer(&rx);
                    return;
                }
            },
        };
        if body.is_some() {
            self.calls[i].local_sdp = body.clone();
        }
        let mut reply = Reply::default().sdp(body);
        reply.contact = true;
        reply.headers.extend(self.session_timer_headers(&rx.msg));
        let _ = now;
        self.respond(&rx, 200, reply);
    }

    /// Session-Expires and Require: timer for the 2xx to a request that asked for a session
    /// timer (RFC 4028 §9). Quirk `session-expires-ignored`: none, although Supported lists
    /// timer.
    pub(super) fn session_timer_headers(&self, req: &Message) -> Vec<(String, String)> {
        if self.quirk(Quirk::SessionExpiresIgnored) {
            return Vec::new();
        }
        let Some(se) = req.first_value(HeaderName::SessionExpires) else {
            return Vec::new();
        };
        let interval: u32 = se
            .split(';')
            .next()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(1800);
        // RFC 4028 §9: the UAS chooses the refresher when the UAC did not; the UAC refreshes
        // if it supports timer.
        let uac_supports = option_tags(req, HeaderName::Supported)
            .iter()
            .any(|t| t == "timer");
        let refresher = se
            .split(';')
            .skip(1)
            .find_map(|p| p.trim().strip_prefix("refresher="))
            .map(str::to_string)
            .unwrap_or_else(|| {
                if uac_supports {
                    "uac".into()
                } else {
                    "uas".into()
                }
            });
        let mut h = vec![(
            "Session-Expires".to_string(),
            format!("{interval};refresher={refresher}"),
        )];
        if uac_supports {
            h.push(("Require".into(), "timer".into()));
        }
        h
    }
}

/// An answer plan chosen by the Request-URI's user part, for tools that cannot drive the UA:
/// `busy` (486), `decline` (603), `ring` (180, never answers), `early` (183 with SDP, then
/// 200), `noanswer` (no response at all but the transaction layer's 100), `prack` (reliable
/// 180, RFC 3262).
pub fn persona_plan(invite: &Message) -> Option<super::AnswerPlan> {
    let ruri = invite.request_uri()?.to_string();
    let user = ruri
        .split_once(':')
        .map(|(_, r)| r)
        .and_then(|r| r.split_once('@'))
        .map(|(u, _)| u.to_ascii_lowercase())?;
    let base = super::AnswerPlan::default();
    Some(match user.as_str() {
        "busy" => super::AnswerPlan {
            provisional: vec![],
            status: Some(486),
            ..base
        },
        "decline" => super::AnswerPlan {
            provisional: vec![180],
            status: Some(603),
            ..base
        },
        "ring" => super::AnswerPlan {
            status: None,
            ..base
        },
        "early" => super::AnswerPlan {
            provisional: vec![183],
            early_media: true,
            ring_ms: 200,
            ..base
        },
        "noanswer" => super::AnswerPlan {
            provisional: vec![],
            status: None,
            ..base
        },
        "prack" => super::AnswerPlan {
            reliable: true,
            ..base
        },
        _ => return None,
    })
}
