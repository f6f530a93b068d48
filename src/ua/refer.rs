//! Transfer (RFC 3515 REFER with NOTIFY message/sipfrag, RFC 3891 Replaces, RFC 4488
//! norefersub) as transferee and transferor.

use super::action::ActError;
use super::{Rx, UaCore};
use crate::net::TxId;
use crate::sip::message::Message;
use tokio::time::Instant;

impl UaCore {
    pub(super) fn on_refer(&mut self, now: Instant, _i: usize, rx: Rx) {
        self.answer_non_invite(now, &rx, 501);
    }
    pub(super) fn on_refer_out_of_dialog(&mut self, now: Instant, rx: Rx) {
        self.answer_non_invite(now, &rx, 501);
    }
    pub(super) fn on_notify(&mut self, now: Instant, _i: usize, rx: Rx) {
        self.answer_non_invite(now, &rx, 481);
    }
    /// Call `i` ended (BYE, CANCEL, a final non-2xx).
    pub(super) fn on_call_ended(&mut self, _now: Instant, _i: usize) {}
    pub(super) fn transfer(&mut self, _now: Instant, _peer: &str, _to: &str) -> Result<(), ActError> {
        Err(ActError { action: "transfer", reason: "not implemented yet".into() })
    }
    /// A response to a request that is not an INVITE of a call or a REGISTER; true when
    /// handled.
    pub(super) fn on_other_response(&mut self, _now: Instant, _tx: TxId, _msg: &Message) -> bool {
        false
    }
}
