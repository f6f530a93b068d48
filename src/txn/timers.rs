//! Timer values (RFC 3261 §17 and Table 4 of Appendix A; RFC 6026 §8.4 for L and M).

use std::time::Duration;

/// The named timers of RFC 3261 Appendix A, plus RFC 6026's L and M and the two delayed-100
/// timers siptest's server transactions use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum TimerName {
    /// INVITE request retransmit interval, unreliable only (§17.1.1.2).
    A,
    /// INVITE transaction timeout (§17.1.1.2): 64*T1.
    B,
    /// Wait time for response retransmits in Completed (§17.1.1.2): >32 s unreliable, 0 reliable.
    D,
    /// Non-INVITE request retransmit interval, unreliable only (§17.1.2.2).
    E,
    /// Non-INVITE transaction timeout (§17.1.2.2): 64*T1.
    F,
    /// INVITE final (non-2xx) response retransmit interval (§17.2.1).
    G,
    /// Wait time for ACK receipt (§17.2.1): 64*T1.
    H,
    /// Wait time for ACK retransmits in Confirmed (§17.2.1): T4 unreliable, 0 reliable.
    I,
    /// Wait time for non-INVITE request retransmits in Completed (§17.2.2): 64*T1 unreliable.
    J,
    /// Wait time for response retransmits in Completed (§17.1.2.2): T4 unreliable, 0 reliable.
    K,
    /// Wait time for accepted INVITE request retransmits (RFC 6026 §8.4): 64*T1.
    L,
    /// Wait time for retransmission of 2xx to INVITE or additional 2xx from other branches of
    /// a forked INVITE (RFC 6026 §8.4): 64*T1.
    M,
    /// The server INVITE transaction's own 100 Trying when the TU has not answered within
    /// 200 ms (§17.2.1).
    Trying100,
    /// The server non-INVITE transaction's 100 Trying, sent over unreliable transports only
    /// once the client's Timer E would have reached T2 (RFC 4320 §4.1).
    NonInvite100,
}

/// The timer base values of one endpoint (RFC 3261 §17.1.1.1 and Appendix A).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerConfig {
    /// RTT estimate, default 500 ms.
    pub t1: Duration,
    /// Maximum retransmit interval for non-INVITE requests and INVITE responses, default 4 s.
    pub t2: Duration,
    /// Maximum duration a message remains in the network, default 5 s.
    pub t4: Duration,
    /// Timer D on unreliable transports; RFC 3261 says "> 32 s".
    pub timer_d: Duration,
    /// How long a server INVITE transaction waits for the TU before sending 100 itself (200 ms).
    pub trying_delay: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            timer_d: Duration::from_secs(32),
            trying_delay: Duration::from_millis(200),
        }
    }
}

impl TimerConfig {
    /// A configuration with every base value scaled from `t1` (T2 = 8*T1, T4 = 10*T1,
    /// D = 64*T1, the 100 delay = 0.4*T1): for fast tests against targets that accept it.
    pub fn scaled(t1: Duration) -> Self {
        TimerConfig {
            t1,
            t2: t1 * 8,
            t4: t1 * 10,
            timer_d: t1 * 64,
            trying_delay: t1 * 2 / 5,
        }
    }

    /// 64*T1: Timers B, F, H, J (unreliable), L and M.
    pub fn t1x64(&self) -> Duration {
        self.t1 * 64
    }

    /// RFC 4320 §4.1: the time at which a client's Timer E is first reset to T2 (the interval
    /// doubling from T1 reaches T2), measured from the first transmission. A server must not
    /// send 100 to a non-INVITE over an unreliable transport before this. With the defaults
    /// (T1 = 500 ms, T2 = 4 s): 0.5 + 1 + 2 = 3.5 s.
    pub fn timer_e_reaches_t2(&self) -> Duration {
        let mut elapsed = Duration::ZERO;
        let mut interval = self.t1;
        while interval < self.t2 && !interval.is_zero() {
            elapsed += interval;
            interval *= 2;
        }
        elapsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_e_reaches_t2_at_three_and_a_half_seconds_by_default() {
        assert_eq!(
            TimerConfig::default().timer_e_reaches_t2(),
            Duration::from_millis(3500)
        );
        // T1 = 100 ms, T2 = 800 ms: 100 + 200 + 400.
        assert_eq!(
            TimerConfig::scaled(Duration::from_millis(100)).timer_e_reaches_t2(),
            Duration::from_millis(700)
        );
    }
}
