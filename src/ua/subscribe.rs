//! SUBSCRIBE/NOTIFY (RFC 6665) for the `refer` (RFC 3515) and `dialog` (RFC 4235) packages.

use super::action::ActError;
use super::{Rx, UaCore};
use tokio::time::Instant;

impl UaCore {
    pub(super) fn on_subscribe(&mut self, now: Instant, rx: Rx) {
        self.answer_non_invite(now, &rx, 489);
    }
    pub(super) fn subscribe(&mut self, _now: Instant, _peer: &str, _event: &str) -> Result<(), ActError> {
        Err(ActError { action: "subscribe", reason: "not implemented yet".into() })
    }
}
