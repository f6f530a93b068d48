//! The steps of a replay ([`super::Replay`]): the same decisions as the live executor
//! (`engine/exec.rs`), taken over the capture's arrivals on the capture's clock.

use super::super::assertions::capture;
use super::super::exec::{seconds, Stop};
use super::super::matching::{describe_expect, fit, wants_trying, Arrival, Fit, Incoming};
use super::super::verdict::{Failure, Finding, StepRef, Verdict};
use super::{Replay, Slot, Tx};
use crate::dialog::creates_dialog;
use crate::scenario::{
    Capability, Expect, Not, OneOf, Outgoing, ReplyTo, Send, Step, Template, Unordered,
};
use std::time::Duration;

type Entries<'e> = Vec<(usize, &'e Expect)>;

/// Methods that, without `dialog:`, go in the agent's most recent dialog (as `engine/send.rs`).
const IN_DIALOG_BY_DEFAULT: &[&str] = &[
    "BYE", "INVITE", "UPDATE", "INFO", "PRACK", "NOTIFY", "REFER",
];

impl Replay<'_> {
    /// Plays every step in order; the first that stops decides the verdict.
    pub(super) fn play(&mut self) -> Verdict {
        let sc = self.sc;
        for (i, step) in sc.steps.iter().enumerate() {
            let at = StepRef::of(i, step);
            // What came by now was there before this step began (and belongs to the one
            // before, as in a live run, where a step starts just after the last arrival).
            self.step_started.push(self.clock + Duration::from_nanos(1));
            let res = match &step.value {
                Step::Send(s) => self.send(s),
                Step::Expect(e) => {
                    let t = e.timeout_or_default(self.timers.t1);
                    self.first_of(vec![(self.agent_index(&e.at), e)], e.optional, t)
                }
                Step::OneOf(o) => self.one_of(o),
                Step::Unordered(u) => self.unordered(u),
                Step::Wait(d) => self.wait(d.at(self.timers.t1)),
                Step::Not(n) => self.not(n),
                Step::Act(_) => {
                    self.acted();
                    Ok(())
                }
            };
            if let Err(stop) = res {
                return self.verdict(stop, at);
            }
        }
        Verdict::Pass
    }

    fn verdict(&mut self, stop: Stop, step: StepRef) -> Verdict {
        match stop {
            Stop::Fail {
                rule,
                expected,
                actual,
            } => {
                let f = Failure {
                    step,
                    expected,
                    actual,
                };
                self.findings.push(Finding::from_failure(rule, &f));
                Verdict::Fail(f)
            }
            Stop::Inconclusive(reason) => Verdict::Inconclusive {
                step: Some(step),
                reason,
            },
            Stop::Error(reason) => Verdict::Error {
                reason: format!("{step}: {reason}"),
            },
        }
    }

    /// The end of a window of `d` from now, and whether the run's deadline cuts it short.
    fn until(&self, d: Duration) -> (Duration, bool) {
        let want = self.clock + d;
        (want.min(self.deadline), want > self.deadline)
    }

    /// `act`: the target acted; what it did shows as its next message, so the clock moves
    /// to the next message the target sent that is not yet delivered (if any).
    fn acted(&mut self) {
        let next = self.trace.messages[self.cursor.min(self.trace.messages.len())..]
            .iter()
            .find(|m| m.src == self.target)
            .map(|m| m.time);
        if let Some(t) = next {
            self.clock = self.clock.max(t);
        }
    }

    /// `wait`: nothing is judged; arrivals within it queue up as in a live run.
    fn wait(&mut self, d: Duration) -> Result<(), Stop> {
        let (until, capped) = self.until(d);
        while self.pump(until) {}
        if capped {
            let what = format!("a wait of {} within the run's deadline", seconds(d));
            return Err(self.timed_out(what, d, true));
        }
        Ok(())
    }

    /// `send`: the agent's message in the capture.
    fn send(&mut self, s: &Send) -> Result<(), Stop> {
        let a = self.agent_index(&s.from);
        match &s.message {
            Outgoing::Request { method, .. } => self.sent_request(a, s, method),
            Outgoing::Response {
                status, reply_to, ..
            } => self.sent_response(a, s, *status, &reply_to.value),
        }
    }

    /// What a capture that does not play the scenario makes of a `send` step.
    fn not_in_capture(&self, a: usize, what: String) -> Stop {
        let side = &self.sides[a];
        Stop::Inconclusive(format!(
            "the capture does not show {} ({}) sending {what} after {}: it does not play \
             this scenario (or the agents are mapped wrongly: --map)",
            side.name,
            side.addr,
            seconds(side.last_send.saturating_sub(self.start))
        ))
    }

    /// A request the capture does not show: as live, a request in a dialog the target ended
    /// cannot be sent (`scenario.dialog.unusable`); otherwise the capture does not play the
    /// scenario.
    fn unsendable(&self, a: usize, s: &Send, method: &str) -> Stop {
        let side = &self.sides[a];
        let slot = match &s.dialog {
            Some(n) => side
                .slots
                .iter()
                .position(|x| x.name.as_deref() == Some(n.value.as_str())),
            None if IN_DIALOG_BY_DEFAULT.contains(&method) => side.last_slot,
            None => None,
        };
        if slot.is_some_and(|i| side.slots[i].ended) {
            let name = s
                .dialog
                .as_ref()
                .map_or("(most recent)", |d| d.value.as_str());
            return Stop::Fail {
                rule: "scenario.dialog.unusable",
                expected: format!("dialog `{name}` established, to send {method} in it"),
                actual: "the dialog is terminated (RFC 3261 §12.3); requests for it get a 481 \
                         (§12.2.2)"
                    .into(),
            };
        }
        self.not_in_capture(a, format!("a {method} request"))
    }

    fn sent_request(&mut self, a: usize, s: &Send, method: &str) -> Result<(), Stop> {
        let side = &self.sides[a];
        let known: Vec<(Option<String>, &str)> = side
            .sent
            .iter()
            .map(|t| (t.branch.clone(), t.method.as_str()))
            .collect();
        let found = self.trace.messages.iter().enumerate().find(|(i, m)| {
            m.src == side.addr
                && m.time >= side.last_send
                && !self.consumed.contains(i)
                && m.message.method().as_deref() == Some(method)
                // not a retransmission of a request a step already took
                && (method == "ACK" || !known.contains(&(m.message.branch(), method)))
        });
        let Some((i, m)) = found else {
            return Err(self.unsendable(a, s, method));
        };
        let (time, msg) = (m.time, m.message.clone());
        self.consumed.insert(i);
        let side = &mut self.sides[a];
        side.last_send = time;
        // The dialog of the request (`docs/scenarios.md`, "Dialogs"), from its tags.
        let from_tag = msg.from_tag();
        let mut slot = match &s.dialog {
            Some(name) => side
                .slots
                .iter()
                .position(|x| x.name.as_deref() == Some(name.value.as_str())),
            None => None,
        };
        if slot.is_none() {
            slot = side
                .slots
                .iter()
                .rposition(|x| x.local_tag.is_some() && x.local_tag == from_tag)
                .filter(|_| msg.to_tag().is_some() || method == "ACK");
        }
        if slot.is_none() && msg.to_tag().is_none() && creates_dialog(method) {
            side.slots.push(Slot {
                name: None,
                local_tag: from_tag,
                remote_tag: None,
                ended: false,
            });
            slot = Some(side.slots.len() - 1);
        }
        if let (Some(i), Some(name)) = (slot, &s.dialog) {
            side.slots[i].name.get_or_insert(name.value.clone());
        }
        if slot.is_some() {
            side.last_slot = slot;
        }
        let first_of_method = side.methods_sent.insert(method.to_string());
        side.sent.push(Tx {
            method: method.to_string(),
            branch: msg.branch(),
            slot,
            first_of_method,
            finished: method == "ACK",
            event: msg
                .first_value(crate::sip::HeaderName::Event)
                .and_then(|v| v.split(';').next().map(|e| e.trim().to_string())),
        });
        let tx = side.sent.len() - 1;
        self.clock = self.clock.max(time);
        self.arm_timeout(a, tx, time);
        Ok(())
    }

    fn sent_response(
        &mut self,
        a: usize,
        s: &Send,
        status: u16,
        reply_to: &ReplyTo,
    ) -> Result<(), Stop> {
        let side = &self.sides[a];
        let idx = match reply_to {
            ReplyTo::Latest => side.received.iter().rposition(|x| !x.answered),
            ReplyTo::Method(m) => side
                .received
                .iter()
                .rposition(|x| !x.answered && &x.method == m),
            ReplyTo::Label(l) => side
                .received
                .iter()
                .rposition(|x| x.label.as_deref() == Some(l)),
        };
        let Some(idx) = idx else {
            if let ReplyTo::Label(l) = reply_to {
                if self.sc.label_is_optional(l) {
                    // The optional request it answers did not come: not sent (as in a run).
                    return Ok(());
                }
            }
            return Err(Stop::Fail {
                rule: "scenario.send.nothing-to-answer",
                expected: format!("a request at {} to answer with {status}", side.name),
                actual: "every request it received has its final response".into(),
            });
        };
        let req = side.received[idx].clone();
        let (branch, cseq) = (req.msg.branch(), req.msg.cseq());
        let found = self.trace.messages.iter().enumerate().find(|(i, m)| {
            m.src == side.addr
                && *i > req.index
                && !self.consumed.contains(i)
                && m.message.status() == Some(status)
                && m.message.branch() == branch
                && m.message.cseq() == cseq
        });
        let Some((i, m)) = found else {
            return Err(
                self.not_in_capture(a, format!("a {status} to the {} it received", req.method))
            );
        };
        let (time, msg) = (m.time, m.message.clone());
        self.consumed.insert(i);
        let side = &mut self.sides[a];
        side.last_send = side.last_send.max(time);
        if status >= 200 {
            side.received[idx].answered = true;
        }
        if let Some(k) = req.slot {
            let slot = &mut side.slots[k];
            if slot.local_tag.is_none() && status > 100 {
                slot.local_tag = msg.to_tag();
            }
            if let Some(name) = &s.dialog {
                slot.name.get_or_insert(name.value.clone());
            }
            side.last_slot = Some(k);
        }
        self.clock = self.clock.max(time);
        Ok(())
    }

    fn one_of(&mut self, o: &OneOf) -> Result<(), Stop> {
        let entries = o
            .alternatives
            .iter()
            .map(|e| (self.agent_index(&e.at), &e.value))
            .collect();
        let t = o.timeout_or_default(self.timers.t1);
        self.first_of(entries, o.optional, t)
    }

    /// As the live `first_of`: the next arrival at the entries' agents must match one.
    fn first_of(
        &mut self,
        entries: Entries<'_>,
        optional: bool,
        timeout: Duration,
    ) -> Result<(), Stop> {
        let (until, capped) = self.until(timeout);
        let expected = describe_all(&entries, "one of");
        let agents: Vec<usize> = entries.iter().map(|(a, _)| *a).collect();
        loop {
            while let Some(a) = self.earliest(&agents) {
                let Some(front) = self.sides[a].mailbox.front().cloned() else {
                    break;
                };
                let mine: Vec<&Expect> = entries
                    .iter()
                    .filter(|(x, _)| *x == a)
                    .map(|e| e.1)
                    .collect();
                if front.what.is_trying() && !mine.iter().any(|e| wants_trying(e)) {
                    self.sides[a].mailbox.pop_front(); // RFC 3261 §8.2.6.1: hop-by-hop
                    continue;
                }
                let mut wrong = None;
                for e in mine {
                    match self.fit_at(a, e, &front.what) {
                        Fit::Match => {
                            self.sides[a].mailbox.pop_front();
                            self.consume(a, e, &front);
                            return Ok(());
                        }
                        Fit::Wrong(w) => {
                            wrong.get_or_insert(w);
                        }
                        Fit::Other => {}
                    }
                }
                if optional && wrong.is_none() {
                    return Ok(());
                }
                return Err(self.mismatch(a, &front, expected, wrong));
            }
            if !self.pump(until) {
                return match (optional, capped) {
                    (true, false) => Ok(()),
                    _ => Err(self.timed_out(expected, timeout, capped)),
                };
            }
        }
    }

    /// As the live `unordered`.
    fn unordered(&mut self, u: &Unordered) -> Result<(), Stop> {
        let timeout = u.timeout_or_default(self.timers.t1);
        let (until, capped) = self.until(timeout);
        let mut left: Entries<'_> = u
            .entries
            .iter()
            .map(|e| (self.agent_index(&e.at), &e.value))
            .collect();
        loop {
            loop {
                let agents: Vec<usize> = left.iter().map(|(a, _)| *a).collect();
                let Some(a) = self.earliest(&agents) else {
                    break;
                };
                let Some(front) = self.sides[a].mailbox.front().cloned() else {
                    break;
                };
                let mine: Vec<usize> = (0..left.len()).filter(|&k| left[k].0 == a).collect();
                if front.what.is_trying() && !mine.iter().any(|&k| wants_trying(left[k].1)) {
                    self.sides[a].mailbox.pop_front();
                    continue;
                }
                let fits: Vec<(usize, Fit)> = mine
                    .iter()
                    .map(|&k| (k, self.fit_at(a, left[k].1, &front.what)))
                    .collect();
                if let Some(&(k, _)) = fits.iter().find(|(_, f)| *f == Fit::Match) {
                    self.sides[a].mailbox.pop_front();
                    let (_, e) = left.remove(k);
                    self.consume(a, e, &front);
                    if left.is_empty() {
                        return Ok(());
                    }
                    continue;
                }
                let wrong = fits.into_iter().find_map(|(_, f)| match f {
                    Fit::Wrong(w) => Some(w),
                    _ => None,
                });
                if wrong.is_none() && left.iter().all(|(_, e)| e.optional) {
                    return Ok(());
                }
                let expected = describe_all(&left, "all of (in any order)");
                return Err(self.mismatch(a, &front, expected, wrong));
            }
            if left.iter().all(|(_, e)| e.optional) {
                return Ok(());
            }
            if !self.pump(until) {
                let expected = describe_all(&left, "all of (in any order)");
                return Err(self.timed_out(expected, timeout, capped));
            }
        }
    }

    /// `not`: nothing matching may reach the agent within the window, on the capture's
    /// clock (what already waits counts too).
    fn not(&mut self, n: &Not) -> Result<(), Stop> {
        let a = self.agent_index(&n.expect.at);
        let (until, capped) = self.until(n.within);
        let expected = format!(
            "no {} within {}",
            describe_expect(&n.expect),
            seconds(n.within)
        );
        let mut checked = 0;
        loop {
            while checked < self.sides[a].mailbox.len() {
                let inc = self.sides[a].mailbox[checked].clone();
                if self.fit_at(a, &n.expect, &inc.what) == Fit::Match {
                    return Err(Stop::Fail {
                        rule: "scenario.not.arrived",
                        expected,
                        actual: format!("{} at {}", inc.what.describe(), seconds(inc.at)),
                    });
                }
                checked += 1;
            }
            if !self.pump(until) {
                return if capped {
                    Err(self.timed_out(expected, n.within, true))
                } else {
                    Ok(())
                };
            }
        }
    }

    fn earliest(&self, agents: &[usize]) -> Option<usize> {
        agents
            .iter()
            .filter_map(|&a| self.sides[a].mailbox.front().map(|i| (i.seq, a)))
            .min()
            .map(|(_, a)| a)
    }

    fn fit_at(&self, a: usize, e: &Expect, arrival: &Arrival) -> Fit {
        let in_dialog = e
            .dialog
            .as_ref()
            .is_none_or(|d| self.belongs(a, &d.value, arrival));
        let vars = &self.vars;
        let agent = e.at.value.as_str();
        let render = |t: &Template| vars.render_plain(t, agent);
        fit(e, arrival, in_dialog, &render)
    }

    /// A matched arrival: its label, its dialog's name, the captures.
    fn consume(&mut self, a: usize, e: &Expect, inc: &Incoming) {
        let side = &mut self.sides[a];
        match &inc.what {
            Arrival::Request { received, .. } => {
                let r = &mut side.received[*received];
                if let Some(l) = &e.label {
                    r.label = Some(l.value.clone());
                }
                if let Some(slot) = r.slot {
                    if let (Some(name), None) = (&e.dialog, &side.slots[slot].name) {
                        side.slots[slot].name = Some(name.value.clone());
                    }
                    side.last_slot = Some(slot);
                }
            }
            Arrival::Response { tx: Some(t), .. } => {
                if let Some(slot) = side.sent[t.0 as usize].slot {
                    if let (Some(name), None) = (&e.dialog, &side.slots[slot].name) {
                        side.slots[slot].name = Some(name.value.clone());
                    }
                }
            }
            _ => {}
        }
        let Some(msg) = inc.what.message() else {
            return;
        };
        for c in &e.captures {
            if let Some(v) = capture(msg, &c.path) {
                self.vars.user.insert(c.variable.value.clone(), v);
            }
        }
    }

    fn mismatch(&self, a: usize, inc: &Incoming, expected: String, wrong: Option<String>) -> Stop {
        if let Some(stop) = self.claimed_but_refused(a, inc) {
            return stop;
        }
        if let Some(reason) = self.lacks_capability(a, &inc.what) {
            return Stop::Inconclusive(reason);
        }
        let unreachable = matches!(
            inc.what,
            Arrival::TransportError { .. } | Arrival::Timeout { .. }
        );
        if unreachable && !self.heard_target {
            return Stop::Inconclusive(format!(
                "the target cannot be reached: {}",
                inc.what.describe()
            ));
        }
        let rule = if wrong.is_some() {
            "scenario.expect.assertion"
        } else if matches!(inc.what, Arrival::Timeout { .. }) {
            // The transaction gave up (Timer B, F or H, RFC 3261 §17): what the step waits
            // for never came, as when the step's own timeout ends first.
            "scenario.expect.timeout"
        } else {
            "scenario.expect.mismatch"
        };
        let why = wrong.map(|w| format!(", but {w}")).unwrap_or_default();
        Stop::Fail {
            rule,
            expected,
            actual: format!("{} at {}{why}", inc.what.describe(), seconds(inc.at)),
        }
    }

    fn timed_out(&self, expected: String, waited: Duration, deadline: bool) -> Stop {
        let waited = if deadline {
            format!(
                "the run's deadline ({})",
                seconds(self.deadline.saturating_sub(self.start))
            )
        } else {
            seconds(waited)
        };
        if !self.heard_target {
            return Stop::Inconclusive(format!(
                "the target sent nothing before {waited}: it cannot be reached or was not \
                 started (waiting for {expected})"
            ));
        }
        Stop::Fail {
            rule: if deadline {
                "scenario.run.deadline"
            } else {
                "scenario.expect.timeout"
            },
            expected,
            actual: format!("nothing before {waited}"),
        }
    }

    /// A 405/501 to a method the target's Allow lists, a 420 naming an option tag its
    /// Supported lists (RFC 3261 §20.5, §20.37), a 489 to a package its Allow-Events lists
    /// (RFC 6665 §8.2.2): as in a live run, spec level.
    fn claimed_but_refused(&self, a: usize, inc: &Incoming) -> Option<Stop> {
        use crate::sip::HeaderName;
        let Arrival::Response {
            msg,
            tx: Some(_),
            method,
            ..
        } = &inc.what
        else {
            return None;
        };
        let status = msg.status()?;
        let (rule, claim) = match status {
            405 | 501 if self.target_advertised(HeaderName::Allow, method) => (
                if status == 501 {
                    "spec.allow.not-implemented"
                } else {
                    "spec.allow.not-allowed"
                },
                format!("{method} (its Allow lists it, RFC 3261 §20.5)"),
            ),
            420 => {
                let tags: Vec<String> = msg
                    .values(HeaderName::Unsupported)
                    .iter()
                    .flat_map(|v| {
                        v.split(',')
                            .map(|t| t.trim().to_string())
                            .collect::<Vec<_>>()
                    })
                    .filter(|t| self.target_advertised(HeaderName::Supported, t))
                    .collect();
                if tags.is_empty() {
                    return None;
                }
                (
                    "spec.supported.420",
                    format!(
                        "{} (its Supported lists it, RFC 3261 §20.37)",
                        tags.join(", ")
                    ),
                )
            }
            489 => {
                let Arrival::Response { tx: Some(tx), .. } = &inc.what else {
                    return None;
                };
                let event = self.sides[a].sent[tx.0 as usize].event.clone()?;
                if !self.target_advertised(HeaderName::AllowEvents, &event) {
                    return None;
                }
                (
                    "spec.allow-events.489",
                    format!("the {event} package (its Allow-Events lists it, RFC 6665 §8.2.2)"),
                )
            }
            _ => return None,
        };
        Some(Stop::Fail {
            rule,
            expected: format!("{method} answered: the target advertises {claim}"),
            actual: format!("{} at {}", inc.what.describe(), seconds(inc.at)),
        })
    }

    fn lacks_capability(&self, a: usize, arrival: &Arrival) -> Option<String> {
        let Arrival::Response {
            msg,
            tx: Some(tx),
            method,
            ..
        } = arrival
        else {
            return None;
        };
        let sent = &self.sides[a].sent[tx.0 as usize];
        let status = msg.status()?;
        let needs = &self.sc.target.needs;
        let why = match status {
            405 | 501
                if sent.first_of_method && needs.contains(&Capability::Method(method.clone())) =>
            {
                format!("the target lacks {method}")
            }
            420 if needs.iter().any(|c| matches!(c, Capability::OptionTag(_))) => {
                "the target lacks a needed option tag".to_string()
            }
            489 if needs.iter().any(|c| matches!(c, Capability::Event(_))) => {
                "the target lacks a needed event package".to_string()
            }
            _ => return None,
        };
        Some(format!(
            "{why}: it answered {} (target.needs)",
            arrival.describe()
        ))
    }
}

fn describe_all(entries: &Entries<'_>, what: &str) -> String {
    if entries.len() == 1 {
        return describe_expect(entries[0].1);
    }
    let all: Vec<String> = entries.iter().map(|(_, e)| describe_expect(e)).collect();
    format!("{what}: {}", all.join("; "))
}
