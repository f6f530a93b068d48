//! Re-INVITE glare (RFC 3261 §14.1): a 491 to our re-INVITE is retried after a random time.
//!
//! The RFC's times assume T1 = 500 ms; with a shorter T1 (tests, fast runs) they shrink in
//! proportion (T1 = 50 ms: 0.21-0.4 s for the Call-ID owner, 0-0.2 s otherwise). A longer T1
//! leaves them as the RFC writes them.

use super::call::{Calling, Purpose, Side};
use super::{Timer, UaCore};
use crate::net::Pcg32;
use std::time::Duration;
use tokio::time::Instant;

/// The T1 the RFC's glare times are written for (RFC 3261 §17.1.1.1).
const RFC_T1: Duration = Duration::from_millis(500);

/// The wait before retrying a re-INVITE that met a 491 (RFC 3261 §14.1): for the owner of
/// the Call-ID (the UA that sent the initial INVITE) a random time in 2.1-4 s, else in 0-2 s,
/// in units of 10 ms, scaled by `t1 / 500 ms` when T1 is shorter.
pub(super) fn glare_delay(rng: &mut Pcg32, owner: bool, t1: Duration) -> Duration {
    let ticks = if owner {
        210 + rng.next_u32() % 191 // 2.10 s ..= 4.00 s
    } else {
        rng.next_u32() % 201 // 0.00 s ..= 2.00 s
    };
    let rfc = Duration::from_millis(u64::from(ticks) * 10);
    if t1 >= RFC_T1 {
        return rfc;
    }
    let scaled = rfc.as_nanos() * t1.as_nanos() / RFC_T1.as_nanos();
    Duration::from_nanos(u64::try_from(scaled).unwrap_or(u64::MAX))
}

/// `body` with the o= version replaced (RFC 3264 §8: a new offer raises it).
fn with_version(body: &[u8], version: u64) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    let mut out = String::with_capacity(text.len() + 4);
    for line in text.split_inclusive('\n') {
        match line.strip_prefix("o=") {
            Some(rest) => {
                let fields: Vec<&str> = rest.trim_end().split(' ').collect();
                if fields.len() == 6 {
                    let mut f = fields.clone();
                    let v = version.to_string();
                    f[2] = &v;
                    out.push_str("o=");
                    out.push_str(&f.join(" "));
                    out.push_str("\r\n");
                } else {
                    out.push_str(line);
                }
            }
            None => out.push_str(line),
        }
    }
    out.into_bytes()
}

impl UaCore {
    /// A 491 to our INVITE in call `i`. A re-INVITE is retried later (RFC 3261 §14.1); a 491
    /// to an initial INVITE is only a failure.
    pub(super) fn on_glare(&mut self, now: Instant, i: usize, calling: Option<Calling>) {
        let Some(c) = calling else {
            return;
        };
        if c.purpose == Purpose::Initial {
            self.calls[i].ended = true;
            return;
        }
        // RFC 3261 §14.1: the owner of the Call-ID is the UA that generated it, the UAC of
        // the initial INVITE.
        let owner = self.calls[i].side == Side::Uac;
        let delay = glare_delay(&mut self.rng, owner, self.cfg.t1);
        let call = self.calls[i].id;
        self.schedule(
            now + delay,
            Timer::GlareRetry {
                call,
                purpose: c.purpose,
                sdp: c.sdp,
            },
        );
    }

    /// Timer::GlareRetry: the re-INVITE again, unless the call ended or another INVITE
    /// transaction of it is in progress (then the retry is dropped: RFC 3261 §14.1 allows
    /// only one at a time, and what it would do is being done).
    pub(super) fn glare_retry(
        &mut self,
        now: Instant,
        call: u64,
        purpose: Purpose,
        sdp: Option<Vec<u8>>,
    ) {
        let Some(i) = self.call_index(call) else {
            return;
        };
        let c = &self.calls[i];
        if c.ended || !c.established || c.calling.is_some() || c.answering.is_some() {
            return;
        }
        // The offer that met the 491 never took effect; the retry is a new offer with the
        // next o= version (RFC 3264 §8).
        let body = sdp.map(|b| with_version(&b, self.next_sdp().version));
        if let Err(e) = self.reinvite(now, i, purpose, body) {
            self.notes.push(e.to_string());
        }
    }
}
