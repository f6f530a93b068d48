//! Reliable provisional responses (RFC 3262): the UAS side (RSeq, retransmission until PRACK)
//! and the UAC side (PRACK for each reliable provisional).

use super::call::{Retransmission, Side};
use super::dispatch::option_tags;
use super::invite_uas::OfferOutcome;
use super::respond::Reply;
use super::{Rx, Timer, UaCore};
use crate::engine::compose;
use crate::engine::sdp_gen;
use crate::scenario::SdpParams;
use crate::sip::headers::scalar::RSEQ_MAX;
use crate::sip::headers::{parse_rack, parse_rseq};
use crate::sip::message::Message;
use crate::sip::HeaderName;
use std::collections::{HashMap, HashSet};
use tokio::time::Instant;

/// What the UA remembers about reliable provisionals beyond `Call` and `Answering`.
#[derive(Clone, Debug, Default)]
pub(super) struct PrackState {
    /// UAS: calls whose reliable provisional carried our offer (the INVITE had none): the
    /// PRACK brings the answer (RFC 3262 §5).
    answer_due: HashSet<u64>,
    /// UAC: the last RSeq PRACKed per (call, remote tag) (RFC 3262 §4).
    last_rseq: HashMap<(u64, String), u32>,
}

impl UaCore {
    /// Sends a provisional reliably (RFC 3262 §3): Require: 100rel, RSeq (a random start,
    /// then one more per reliable provisional), retransmitted at T1 doubling up to T2 until
    /// the PRACK; the answer plan waits for the PRACK.
    pub(super) fn send_reliable_provisional(
        &mut self,
        now: Instant,
        i: usize,
        rx: &Rx,
        code: u16,
        reply: Reply,
        early_sdp: bool,
    ) {
        let id = self.calls[i].id;
        let random_start = 1 + self.rng.next_u32() % (RSEQ_MAX - 1);
        let Some(a) = self.calls[i].answering.as_mut() else {
            return;
        };
        // RFC 3262 §3: the first RSeq is chosen uniformly in 1..2^31-1, then each is one
        // higher.
        let rseq = if a.rseq == 0 {
            random_start
        } else {
            a.rseq + 1
        };
        let mut reply = reply
            .header("Require", "100rel")
            .header("RSeq", rseq.to_string());
        let offer_in_1xx = a.request.sdp().is_none() && !a.answered_early && a.sdp.is_some();
        if offer_in_1xx {
            // RFC 3262 §5 / RFC 3261 §13.2.1: an INVITE without offer gets ours in the
            // first reliable provisional; the answer comes in the PRACK, the 2xx has none.
            reply = reply.sdp(a.sdp.clone());
        }
        let Some(sent) = self.respond(rx, code, reply) else {
            return;
        };
        self.note_dialog_response(i, &rx.msg, &sent);
        if offer_in_1xx {
            self.prack.answer_due.insert(id);
        }
        let t1 = self.cfg.t1;
        let call = &mut self.calls[i];
        if let Some(a) = call.answering.as_mut() {
            a.rseq = rseq;
            a.awaiting_prack = true;
            // RFC 3262 §5: an answer (early media) or offer in a reliable provisional
            // completes the SDP exchange of the 2xx.
            a.answered_early |= early_sdp || offer_in_1xx;
        }
        // RFC 3262 §3: retransmitted at T1, doubling up to T2, on any transport (the
        // reliability is end to end); after 64*T1 without PRACK the INVITE gets a 5xx
        // (see `retransmit`).
        call.retransmissions.push(Retransmission {
            tx: rx.tx,
            msg: sent,
            number: rseq,
            reliable_provisional: true,
            next: now + t1,
            interval: t1,
            until: now + t1 * 64,
        });
        self.schedule(now + t1, Timer::Retransmit { call: id });
    }

    /// PRACK in call `i` (RFC 3262 §3): it must acknowledge the unacknowledged reliable
    /// provisional (RAck: its RSeq, the INVITE's CSeq number and method), else 481.
    pub(super) fn on_prack(&mut self, now: Instant, i: usize, rx: Rx) {
        let id = self.calls[i].id;
        let rack = rx
            .msg
            .first_value(HeaderName::RAck)
            .and_then(|v| parse_rack(&v).ok());
        let matched = match (&rack, self.calls[i].answering.as_ref()) {
            (Some(r), Some(a)) => {
                a.awaiting_prack
                    && r.response_num == a.rseq
                    && Some(r.cseq_num) == a.request.cseq().map(|c| c.number)
                    && r.method == "INVITE"
            }
            _ => false,
        };
        if !matched {
            // RFC 3262 §3: a PRACK matching no unacknowledged reliable provisional: 481.
            self.answer_non_invite(now, &rx, 481);
            return;
        }
        let rseq = rack.map_or(0, |r| r.response_num);
        let answer_due = self.prack.answer_due.remove(&id);
        let body = match (answer_due, rx.msg.sdp()) {
            (true, Some(_)) => None, // the answer to our offer (RFC 3262 §5)
            (true, None) => {
                self.notes.push("PRACK without the answer to the offer of the reliable provisional (RFC 3262 §5)".into());
                None
            }
            // RFC 3262 §5: an offer in the PRACK is answered in its 200.
            (false, Some(offer)) => match self.answer_offer(&offer) {
                OfferOutcome::Answer(a) => Some(a),
                OfferOutcome::Reject => {
                    self.respond(&rx, 488, Reply::default());
                    return;
                }
            },
            (false, None) => None,
        };
        if body.is_some() {
            self.calls[i].local_sdp = body.clone();
        }
        self.respond(&rx, 200, Reply::default().sdp(body));
        let call = &mut self.calls[i];
        call.retransmissions
            .retain(|r| !(r.reliable_provisional && r.number == rseq));
        if let Some(a) = call.answering.as_mut() {
            a.awaiting_prack = false;
        }
        self.prack
            .answer_due
            .retain(|c| self.calls.iter().any(|k| k.id == *c));
        // The answer plan goes on (its next provisional or the final).
        self.schedule(now, Timer::AnswerStep { call: id });
    }

    /// A provisional to our INVITE: PRACK it when it is reliable (RFC 3262 §4), once per
    /// RSeq (retransmissions are absorbed; one out of order waits for its retransmission).
    pub(super) fn on_reliable_provisional(&mut self, _now: Instant, i: usize, msg: &Message) {
        if !option_tags(msg, HeaderName::Require)
            .iter()
            .any(|t| t == "100rel")
        {
            return;
        }
        let (Some(rseq), Some(tag), Some(cseq)) = (
            msg.first_value(HeaderName::RSeq)
                .and_then(|v| parse_rseq(&v).ok()),
            msg.to_tag(),
            msg.cseq(),
        ) else {
            self.notes
                .push("reliable provisional without RSeq or To tag (RFC 3262 §3)".into());
            return;
        };
        let key = (self.calls[i].id, tag.clone());
        match self.prack.last_rseq.get(&key) {
            Some(&last) if rseq <= last => return, // a retransmission: already PRACKed
            Some(&last) if rseq != last + 1 => {
                // RFC 3262 §4: out of order: not acknowledged until the missing ones come.
                self.notes.push(format!(
                    "RSeq {rseq} after {last}: out of order (RFC 3262 §4)"
                ));
                return;
            }
            _ => {}
        }
        self.prack.last_rseq.insert(key, rseq);
        if let Err(e) = self.send_prack(i, msg, &tag, rseq, cseq.number, &cseq.method) {
            self.notes.push(format!("PRACK: {e}"));
        }
    }

    /// The PRACK (RFC 3262 §7.2 RAck) in the early dialog of `tag`, with the answer when the
    /// provisional carried an offer to our offerless INVITE (RFC 3262 §5).
    fn send_prack(
        &mut self,
        i: usize,
        msg: &Message,
        tag: &str,
        rseq: u32,
        cseq: u32,
        method: &str,
    ) -> Result<(), String> {
        let via = self.wire.new_via();
        let call = &mut self.calls[i];
        let in_set = call.side == Side::Uac && !call.established && call.set.is_some();
        let dialog = match (in_set, call.set.as_mut(), call.dialog.as_mut()) {
            (true, Some(set), _) => set.get_mut(tag),
            (_, _, d) => d,
        };
        let dialog = dialog.ok_or("no dialog for the reliable provisional")?;
        let mut d = compose::in_dialog_request(dialog, "PRACK", &via).map_err(|e| e.to_string())?;
        if in_set {
            // Keep the call's copy of the early dialog in step (local CSeq).
            call.dialog = call.set.as_ref().and_then(|s| s.get(tag)).cloned();
        }
        d.push("RAck", format!("{rseq} {cseq} {method}"));
        let offerless = call.calling.as_ref().is_some_and(|c| !c.offered);
        if let (true, Some(offer)) = (offerless, msg.sdp()) {
            let answer = sdp_gen::answer(&self.next_sdp(), &offer, &SdpParams::default());
            let call = &mut self.calls[i];
            call.local_sdp = Some(answer.clone());
            if let Some(c) = call.calling.as_mut() {
                // The offer/answer exchange is complete: a 2xx repeating the offer is not
                // answered again in the ACK.
                c.offered = true;
            }
            d.set_body("application/sdp", answer);
        }
        let fallback = self.calls[i].remote_addr;
        self.send("PRACK", &d, fallback)
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}
