//! REGISTER (RFC 3261 §10) as registrar and as client, with digest authentication (RFC 3261
//! §22.4, RFC 8760 SHA-256, qop=auth, stale nonces).

use super::action::ActError;
use super::{Rx, UaCore};
use crate::net::TxId;
use crate::sip::message::Message;
use tokio::time::Instant;

impl UaCore {
    pub(super) fn on_register(&mut self, now: Instant, rx: Rx) {
        self.answer_non_invite(now, &rx, 501);
    }
    pub(super) fn register(&mut self, _now: Instant, _peer: &str, _user: &str, _password: &str, _expires: u32) -> Result<(), ActError> {
        Err(ActError { action: "register", reason: "not implemented yet".into() })
    }
    /// A response to one of our REGISTERs; true when handled.
    pub(super) fn on_registration_response(&mut self, _now: Instant, _tx: TxId, _msg: &Message) -> bool {
        false
    }
}
