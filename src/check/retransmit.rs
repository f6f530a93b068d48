//! Retransmission timers as the wire shows them: the client's request retransmissions (RFC 3261
//! §17.1.1.2 Timers A and B, §17.1.2.2 Timers E and F), the INVITE server's non-2xx final
//! retransmissions (§17.2.1 Timers G and H) and the UAS core's 2xx retransmissions until the ACK
//! (§13.3.1.4).
//!
//! A message is a retransmission of an earlier one of its transaction when the same party sends
//! it again with the same start line (requests) or the same status and To-tag (responses);
//! identical bytes settle it. Only what the trace covers is judged: a schedule that the trace
//! cuts short is never "stopped early".

use super::rfc4320::proxies;
use super::{CheckGroup, Finding, Observation, ObservedTx, Tolerances};
use crate::rule::Rule;
use crate::trace::{Trace, Transport};
use std::time::Duration;

crate::declare_rules! {
    TIMER_A_INTERVAL = ("tx.retransmit.timer-a-interval", Transaction, Error, "RFC 3261 §17.1.1.2",
        "INVITE retransmitted over UDP at an interval other than T1, 2*T1, 4*T1, ...");
    TIMER_E_INTERVAL = ("tx.retransmit.timer-e-interval", Transaction, Error, "RFC 3261 §17.1.2.2",
        "non-INVITE request retransmitted over UDP at an interval other than MIN(2^n*T1, T2), or T2 after a provisional");
    TIMER_G_INTERVAL = ("tx.retransmit.timer-g-interval", Transaction, Error, "RFC 3261 §17.2.1",
        "non-2xx final response to INVITE retransmitted over UDP at an interval other than MIN(2^n*T1, T2)");
    OK_INTERVAL = ("tx.retransmit.2xx-interval", Transaction, Warning, "RFC 3261 §13.3.1.4",
        "2xx to INVITE retransmitted at an interval other than MIN(2^n*T1, T2)");
    OK_MISSING = ("tx.retransmit.2xx-missing", Transaction, Error, "RFC 3261 §13.3.1.4",
        "2xx to INVITE not retransmitted although no ACK arrived within T1");
    OK_STOPPED = ("tx.retransmit.2xx-stopped-early", Transaction, Error, "RFC 3261 §13.3.1.4",
        "UAS stopped retransmitting a 2xx to INVITE before the ACK and before 64*T1");
    REQUEST_STOPPED = ("tx.retransmit.request-stopped-early", Transaction, Error, "RFC 3261 §17.1.1.2, §17.1.2.2",
        "client stopped retransmitting a request over UDP before a response and before Timer B/F");
    FINAL_STOPPED = ("tx.retransmit.final-stopped-early", Transaction, Error, "RFC 3261 §17.2.1",
        "server stopped retransmitting a non-2xx final to INVITE over UDP before the ACK and before Timer H");
    INVITE_AFTER_PROVISIONAL = ("tx.retransmit.invite-after-provisional", Transaction, Warning, "RFC 3261 §17.1.1.2",
        "INVITE retransmitted after the client received a provisional response");
    REQUEST_AFTER_FINAL = ("tx.retransmit.request-after-final", Transaction, Error, "RFC 3261 §17.1.1.2, §17.1.2.2",
        "request retransmitted after the client received a final response");
    RESPONSE_AFTER_ACK = ("tx.retransmit.response-after-ack", Transaction, Error, "RFC 3261 §17.2.1, §13.3.1.4",
        "final response to INVITE retransmitted after the ACK arrived");
    AFTER_TIMEOUT = ("tx.retransmit.after-timeout", Transaction, Error, "RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1, §13.3.1.4",
        "retransmission more than 64*T1 after the first transmission (Timer B, F or H had fired)");
    RELIABLE = ("tx.retransmit.reliable-transport", Transaction, Warning, "RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1",
        "request or non-2xx final retransmitted by the transaction layer over a reliable transport");
}

/// The retransmission checks.
pub const GROUP: CheckGroup = CheckGroup {
    name: "retransmit",
    rules: RULES,
    run,
};

fn run(trace: &Trace, obs: &Observation, tol: &Tolerances, out: &mut Vec<Finding>) {
    let proxies = proxies(trace);
    let end = trace.end();
    let mut cx = Cx {
        trace,
        tol,
        end,
        out,
    };
    // The ACK to a 2xx is retransmitted by the UAC core once per 2xx, not on a timer.
    for tx in obs.txs.iter().filter(|tx| tx.method != "ACK") {
        cx.requests(tx);
        if tx.is_invite() {
            cx.non_2xx_final(tx);
            let relayed = trace.messages[tx.request()]
                .message
                .call_id()
                .is_some_and(|c| proxies.contains(&(tx.server, c)));
            // A proxy only relays the UAS's 2xx retransmissions (§16.7); it has none of its own.
            if !relayed {
                cx.ok_2xx(tx);
            }
        }
    }
}

/// Whether message `b` is a retransmission of message `a`: the same sender, and the same bytes,
/// or the same request line, or the same status and To-tag.
pub(crate) fn is_retransmission(trace: &Trace, a: usize, b: usize) -> bool {
    let (ma, mb) = (&trace.messages[a], &trace.messages[b]);
    let (x, y) = (&ma.message, &mb.message);
    if ma.src != mb.src {
        return false;
    }
    if x.as_bytes() == y.as_bytes() {
        return true;
    }
    match (x.status(), y.status()) {
        (Some(s), Some(t)) => s == t && x.to_tag() == y.to_tag(),
        _ => {
            x.is_request()
                && y.is_request()
                && x.text(x.start_line.line()) == y.text(y.start_line.line())
        }
    }
}

/// `first` and its retransmissions among `pool`, in order.
fn series(trace: &Trace, first: usize, pool: &[usize]) -> Vec<usize> {
    let again = pool
        .iter()
        .copied()
        .filter(|&i| i > first && is_retransmission(trace, first, i));
    std::iter::once(first).chain(again).collect()
}

/// A duration as seconds with two decimals: "3.50 s".
pub(crate) fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn transport_name(t: Transport) -> String {
    t.as_str().to_ascii_uppercase()
}

/// How the interval between transmissions grows.
#[derive(Clone, Copy)]
struct Sched {
    /// Timers E and G and the 2xx retransmission stop doubling at T2; Timer A does not.
    capped: bool,
    /// Timer E only: when the client's provisional response was seen; once the client has it,
    /// every interval is T2 (RFC 3261 §17.1.2.2, "Proceeding" state).
    provisional: Option<Duration>,
}

impl Sched {
    fn new(capped: bool, provisional: Option<Duration>) -> Sched {
        Sched {
            capped,
            provisional,
        }
    }

    /// The interval expected after the `n`-th transmission (1 = the first) sent at `prev`: one
    /// value, or two when a provisional was seen too close to `prev` to tell whether the client
    /// had it (it reaches the client within `clock_jitter` of its trace time).
    fn expected(&self, tol: &Tolerances, n: usize, prev: Duration) -> (Duration, Duration) {
        let t = tol.timers;
        let doubled = t.t1.saturating_mul(1 << (n.max(1) - 1).min(16));
        let d = if self.capped {
            doubled.min(t.t2)
        } else {
            doubled
        };
        match self.provisional {
            Some(p) if p + tol.clock_jitter <= prev => (t.t2, t.t2),
            Some(p) if p <= prev => (d, t.t2),
            _ => (d, d),
        }
    }
}

/// What one retransmission schedule is judged against.
struct Plan {
    /// "INVITE over UDP", "486 to INVITE over UDP".
    what: String,
    /// The timer that drives the retransmissions ("Timer A").
    timer: &'static str,
    /// The timer that ends them at 64*T1 ("Timer B").
    deadline: &'static str,
    sched: Sched,
    interval: &'static Rule,
    stopped: &'static Rule,
    /// The rule when nothing was retransmitted at all.
    missing: &'static Rule,
}

impl Plan {
    /// `timers`: the retransmission timer and the 64*T1 one; `stop`: the rules for a schedule
    /// that stopped early, after some retransmissions and after none.
    fn new(
        what: String,
        [timer, deadline]: [&'static str; 2],
        sched: Sched,
        interval: &'static Rule,
        [stopped, missing]: [&'static Rule; 2],
    ) -> Plan {
        Plan {
            what,
            timer,
            deadline,
            sched,
            interval,
            stopped,
            missing,
        }
    }
}

/// Something that ends a schedule: retransmissions sent `clock_jitter` after it are violations.
struct Ender {
    at: Duration,
    index: usize,
    rule: &'static Rule,
}

/// A retransmission off schedule.
struct Off {
    index: usize,
    prev: usize,
    n: usize,
    actual: Duration,
    expected: (Duration, Duration),
}

struct Cx<'a> {
    trace: &'a Trace,
    tol: &'a Tolerances,
    /// The time of the trace's last message: nothing later is known.
    end: Duration,
    out: &'a mut Vec<Finding>,
}

impl Cx<'_> {
    fn at(&self, i: usize) -> Duration {
        self.trace.messages[i].time
    }

    fn status(&self, i: usize) -> u16 {
        self.trace.messages[i].message.status().unwrap_or(0)
    }

    /// A response sent within `clock_jitter` after a request retransmission: the answer to it
    /// (RFC 3261 §17.2.1: "if a request retransmission is received, the server SHOULD pass the
    /// response to the transport"), not a timer firing.
    fn triggered(&self, i: usize, triggers: &[usize]) -> bool {
        triggers
            .iter()
            .any(|&q| q < i && self.at(i) <= self.at(q) + self.tol.clock_jitter)
    }

    /// The client's request: Timer A (INVITE) or E (non-INVITE), over UDP only.
    fn requests(&mut self, tx: &ObservedTx) {
        let series = series(self.trace, tx.request(), &tx.requests);
        let what = format!("{} over {}", tx.method, transport_name(tx.transport));
        if tx.transport != Transport::Udp {
            return self.reliable(&what, &series, &[]);
        }
        let mut enders: Vec<Ender> = tx
            .first_final(self.trace)
            .map(|f| self.ender(f, &REQUEST_AFTER_FINAL))
            .into_iter()
            .collect();
        let provisional = tx.provisionals(self.trace).next();
        let stop = [&REQUEST_STOPPED, &REQUEST_STOPPED];
        let plan = if tx.is_invite() {
            // §17.1.1.2: in "Proceeding" the client SHOULD NOT retransmit the INVITE any longer.
            enders.extend(provisional.map(|p| self.ender(p, &INVITE_AFTER_PROVISIONAL)));
            let sched = Sched::new(false, None);
            Plan::new(what, ["Timer A", "Timer B"], sched, &TIMER_A_INTERVAL, stop)
        } else {
            let sched = Sched::new(true, provisional.map(|p| self.at(p)));
            Plan::new(what, ["Timer E", "Timer F"], sched, &TIMER_E_INTERVAL, stop)
        };
        self.judge(&plan, &series, &[], &enders);
    }

    /// The non-2xx final to INVITE: Timer G until the ACK or Timer H, over UDP only.
    fn non_2xx_final(&mut self, tx: &ObservedTx) {
        let Some(f) = tx
            .first_final(self.trace)
            .filter(|&f| self.status(f) >= 300)
        else {
            return;
        };
        let series = series(self.trace, f, &tx.responses);
        let transport = self.trace.messages[f].transport;
        let what = format!(
            "{} to INVITE over {}",
            self.status(f),
            transport_name(transport)
        );
        let triggers = &tx.requests[1..];
        if transport != Transport::Udp {
            return self.reliable(&what, &series, triggers);
        }
        let ack = tx.acks.iter().copied().find(|&a| a > f);
        let enders: Vec<Ender> = ack
            .map(|a| self.ender(a, &RESPONSE_AFTER_ACK))
            .into_iter()
            .collect();
        let timers = ["Timer G", "Timer H"];
        let stop = [&FINAL_STOPPED, &FINAL_STOPPED];
        let plan = Plan::new(
            what,
            timers,
            Sched::new(true, None),
            &TIMER_G_INTERVAL,
            stop,
        );
        self.judge(&plan, &series, triggers, &enders);
    }

    /// The UAS core's 2xx to INVITE: "the response is retransmitted periodically even if the
    /// transport at the UAS is reliable" (RFC 3261 §13.3.1.4), so on every transport.
    fn ok_2xx(&mut self, tx: &ObservedTx) {
        let Some(f) = tx.finals(self.trace).find(|&i| self.status(i) < 300) else {
            return;
        };
        let series = series(self.trace, f, &tx.responses);
        let transport = self.trace.messages[f].transport;
        let what = format!(
            "{} to INVITE over {}",
            self.status(f),
            transport_name(transport)
        );
        let ack = self.ack_for_2xx(tx, f);
        let enders: Vec<Ender> = ack
            .map(|a| self.ender(a, &RESPONSE_AFTER_ACK))
            .into_iter()
            .collect();
        let timers = ["the 2xx retransmission timer", "64*T1"];
        let stop = [&OK_STOPPED, &OK_MISSING];
        let plan = Plan::new(what, timers, Sched::new(true, None), &OK_INTERVAL, stop);
        self.judge(&plan, &series, &tx.requests[1..], &enders);
    }

    fn ender(&self, index: usize, rule: &'static Rule) -> Ender {
        Ender {
            at: self.at(index),
            index,
            rule,
        }
    }

    /// The ACK to the 2xx at `f`: a separate transaction (RFC 3261 §17.1.1.3), found by Call-ID,
    /// CSeq number and To-tag, sent by the INVITE's client or received by its server.
    fn ack_for_2xx(&self, tx: &ObservedTx, f: usize) -> Option<usize> {
        let resp = &self.trace.messages[f].message;
        let (call, tag) = (resp.call_id(), resp.to_tag());
        let number = resp.cseq().map(|c| c.number);
        let found = self
            .trace
            .messages
            .iter()
            .enumerate()
            .skip(f + 1)
            .find(|(_, m)| {
                let a = &m.message;
                a.method().as_deref() == Some("ACK")
                    && (m.src == tx.client || m.dst == tx.server)
                    && a.call_id() == call
                    && a.cseq().map(|c| c.number) == number
                    && (tag.is_none() || a.to_tag().is_none() || a.to_tag() == tag)
            });
        found.map(|(i, _)| i)
    }

    /// Over a reliable transport the transaction layer never retransmits: Timers A, E and G are
    /// started "if an unreliable transport is being used" (RFC 3261 §17.1.1.2, §17.1.2.2,
    /// §17.2.1). Responses answering a retransmitted request are not counted.
    fn reliable(&mut self, what: &str, series: &[usize], triggers: &[usize]) {
        let first = series[0];
        let Some(&i) = series[1..].iter().find(|&&i| !self.triggered(i, triggers)) else {
            return;
        };
        let detail = format!(
            "{what} retransmitted {} after its first transmission; the transaction layer \
             retransmits only over unreliable transports (Timers A, E and G are UDP-only)",
            secs(self.at(i) - self.at(first)),
        );
        let f = Finding::new(&RELIABLE, self.trace, i, detail).with_related([first]);
        self.out.push(f);
    }

    /// Judges one schedule: what came after its end, its intervals, and whether it stopped early.
    fn judge(&mut self, plan: &Plan, series: &[usize], triggers: &[usize], enders: &[Ender]) {
        let start = self.at(series[0]);
        let live = self.after_end(plan, series, enders);
        let (timed, off) = self.walk(plan, &live, triggers);
        if let Some(off) = off {
            self.report_off(plan, series[0], &off);
        }
        let stop = enders.iter().map(|e| e.at).min();
        self.stopped_early(plan, &timed, start, stop);
    }

    /// Reports the first retransmission after each kind of end (a final, a provisional, the
    /// ACK, 64*T1) and returns the transmissions made while the schedule was running.
    fn after_end(&mut self, plan: &Plan, series: &[usize], enders: &[Ender]) -> Vec<usize> {
        let (first, start) = (series[0], self.at(series[0]));
        let jitter = self.tol.clock_jitter;
        let mut live = vec![first];
        let mut reported: Vec<&'static str> = Vec::new();
        for (n, &i) in series.iter().enumerate().skip(1) {
            let t = self.at(i);
            let (e1, _) = plan.sched.expected(self.tol, n, t);
            let timeout = self.tol.timers.t1x64();
            let finding = if let Some(e) = enders.iter().find(|e| t >= e.at + jitter) {
                let detail = format!(
                    "{} retransmitted at {}, {} after {} (message {}), which ends the retransmissions",
                    plan.what,
                    secs(t),
                    secs(t - e.at),
                    self.describe(e.index),
                    e.index
                );
                Finding::new(e.rule, self.trace, i, detail).with_related([first, e.index])
            } else if t > start + timeout + e1.mul_f64(self.tol.timer_slack) + jitter {
                let detail = format!(
                    "{} retransmitted {} after its first transmission; {} (64*T1 = {}) had fired",
                    plan.what,
                    secs(t - start),
                    plan.deadline,
                    secs(timeout)
                );
                Finding::new(&AFTER_TIMEOUT, self.trace, i, detail).with_related([first])
            } else {
                live.push(i);
                continue;
            };
            if !reported.contains(&finding.rule.id) {
                reported.push(finding.rule.id);
                self.out.push(finding);
            }
        }
        live
    }

    fn describe(&self, i: usize) -> String {
        let m = &self.trace.messages[i].message;
        match (m.status(), m.method()) {
            (Some(s), _) => format!("the {s} response"),
            (None, Some(method)) => format!("the {method}"),
            _ => "a message".to_string(),
        }
    }

    /// Walks the live transmissions against the schedule: returns those the timer drove (a
    /// response answering a request retransmission is skipped) and the first one off schedule.
    fn walk(&self, plan: &Plan, live: &[usize], triggers: &[usize]) -> (Vec<usize>, Option<Off>) {
        let mut timed = vec![live[0]];
        let mut off = None;
        for &i in &live[1..] {
            let prev = *timed.last().expect("never empty");
            let n = timed.len();
            let actual = self.at(i).saturating_sub(self.at(prev));
            let expected = plan.sched.expected(self.tol, n, self.at(prev));
            let ok = self.tol.interval_ok(actual, expected.0)
                || self.tol.interval_ok(actual, expected.1);
            if !ok && self.triggered(i, triggers) {
                continue;
            }
            if !ok && off.is_none() {
                off = Some(Off {
                    index: i,
                    prev,
                    n,
                    actual,
                    expected,
                });
            }
            timed.push(i);
        }
        (timed, off)
    }

    fn report_off(&mut self, plan: &Plan, first: usize, off: &Off) {
        let (e1, e2) = off.expected;
        let expected = if e1 == e2 {
            secs(e1)
        } else {
            format!("{} or {}", secs(e1), secs(e2))
        };
        let detail = format!(
            "{} retransmission #{} came {} after the previous one; {} expects {} \
             (T1 = {}, T2 = {}, tolerance {:.0}% + {})",
            plan.what,
            off.n,
            secs(off.actual),
            plan.timer,
            expected,
            secs(self.tol.timers.t1),
            secs(self.tol.timers.t2),
            self.tol.timer_slack * 100.0,
            secs(self.tol.clock_jitter),
        );
        let f = Finding::new(plan.interval, self.trace, off.index, detail);
        self.out.push(f.with_related([first, off.prev]));
    }

    /// Flags a schedule whose next transmission was due (with its tolerance) inside the trace,
    /// before the schedule's end (`stop`: a response, the ACK) and before 64*T1.
    fn stopped_early(
        &mut self,
        plan: &Plan,
        timed: &[usize],
        start: Duration,
        stop: Option<Duration>,
    ) {
        let last = *timed.last().expect("never empty");
        let (e1, e2) = plan.sched.expected(self.tol, timed.len(), self.at(last));
        let interval = e1.max(e2);
        let due = self.at(last) + interval;
        let late = due + interval.mul_f64(self.tol.timer_slack) + self.tol.clock_jitter;
        let deadline = start + self.tol.timers.t1x64();
        if due + self.tol.clock_jitter >= deadline
            || self.end <= late
            || stop.is_some_and(|s| s <= late)
        {
            return;
        }
        let (rule, sent) = match timed.len() {
            1 => (
                plan.missing,
                format!("sent once, at {}", secs(self.at(last))),
            ),
            n => (
                plan.stopped,
                format!("sent {n} times, last at {}", secs(self.at(last))),
            ),
        };
        let detail = format!(
            "{} {sent}; the next transmission was due at {} ({} = {}) but none came by {} \
             and the trace runs to {}, before {} at {}",
            plan.what,
            secs(due),
            plan.timer,
            secs(interval),
            secs(late),
            secs(self.end),
            plan.deadline,
            secs(deadline),
        );
        let f = Finding::new(rule, self.trace, last, detail)
            .with_related(timed[..timed.len() - 1].to_vec());
        self.out.push(f);
    }
}

#[cfg(test)]
pub(crate) mod tests;
