//! Playing the steps (`docs/scenarios.md`, "Steps"): each step either succeeds or stops the
//! run with a [`Stop`], which becomes the verdict. Waiting steps look at the agents'
//! mailboxes in arrival order and call [`Run::pump`] when they need more.

use super::assertions::capture;
use super::matching::{describe_expect, fit, wants_trying, Arrival, Fit, Incoming};
use super::run::Run;
use super::verdict::{Arrived, Failure, Finding, StepRef, Verdict};
use crate::scenario::{Capability, Expect, Not, OneOf, Step, Template, Unordered};
use std::time::Duration;
use tokio::time::Instant;

/// Why a step stopped the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    Fail {
        rule: &'static str,
        expected: String,
        actual: String,
    },
    Inconclusive(String),
    Error(String),
}

/// Waiting entries of a group: the agent index and the expect.
type Entries<'e> = Vec<(usize, &'e Expect)>;

impl Run<'_> {
    /// Plays every step in order; the first one that stops decides the verdict. A run that
    /// did not pass ends the calls it left open ([`Run::teardown`]). Then the run lingers a
    /// moment (whatever the verdict), so that what was just sent leaves, late answers are
    /// absorbed (a 2xx still gets its ACK) and appear in the trace.
    pub async fn execute(&mut self) -> Verdict {
        self.execute_then(|_| {}).await
    }

    /// [`Run::execute`], calling `steps_done` with the steps' verdict before the linger.
    pub async fn execute_then(&mut self, steps_done: impl FnOnce(&Verdict)) -> Verdict {
        let v = self.play().await;
        if !v.is_pass() {
            self.teardown(true);
        }
        steps_done(&v);
        self.linger().await;
        v
    }

    async fn play(&mut self) -> Verdict {
        let sc = self.sc;
        for (i, step) in sc.steps.iter().enumerate() {
            let at = StepRef::of(i, step);
            self.step_started.push(self.elapsed());
            let res = match &step.value {
                Step::Send(s) => self.send(s),
                Step::Expect(e) => {
                    let t = e.timeout_or_default(self.timers.t1);
                    self.first_of(vec![(self.agent_index(&e.at), e)], e.optional, t)
                        .await
                }
                Step::OneOf(o) => self.one_of(o).await,
                Step::Unordered(u) => self.unordered(u).await,
                Step::Wait(d) => self.wait(d.at(self.timers.t1)).await,
                Step::Not(n) => self.not(n).await,
                Step::Act(a) => self.act(a).await,
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
                let arrival = self.failing_arrival(rule, step.index);
                let f = Failure {
                    step,
                    expected,
                    actual,
                };
                let mut finding = Finding::from_failure(rule, &f);
                finding.arrival = arrival;
                self.findings.push(finding);
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

    /// The message a failed step (1-based `index`) got instead of what it waited for: a
    /// step that stops on an arrival leaves it at the front of its agent's mailbox (the
    /// earliest among the step's agents). For the classifier, which finds it in the trace.
    fn failing_arrival(&self, rule: &str, index: usize) -> Option<Arrived> {
        let about_arrival = matches!(
            rule,
            "scenario.expect.mismatch" | "scenario.expect.assertion"
        ) || rule.starts_with("spec.")
            || rule.starts_with("seq.");
        if !about_arrival {
            return None;
        }
        let agents: Vec<usize> = match &self.sc.steps.get(index.checked_sub(1)?)?.value {
            Step::Expect(e) => vec![self.agent_index(&e.at)],
            Step::OneOf(o) => o
                .alternatives
                .iter()
                .map(|e| self.agent_index(&e.at))
                .collect(),
            Step::Unordered(u) => u.entries.iter().map(|e| self.agent_index(&e.at)).collect(),
            _ => return None,
        };
        let a = self.earliest(&agents)?;
        let inc = self.agents[a].mailbox.front()?;
        let msg = inc.what.message()?;
        Some(Arrived {
            at: inc.at,
            first_line: crate::classify::first_line(msg),
        })
    }

    /// The end of a wait of `d`, and whether the run's deadline cut it short.
    fn until(&self, d: Duration) -> (Instant, bool) {
        let want = Instant::now() + d;
        (want.min(self.deadline), want > self.deadline)
    }

    async fn one_of(&mut self, o: &OneOf) -> Result<(), Stop> {
        let entries = o
            .alternatives
            .iter()
            .map(|e| (self.agent_index(&e.at), &e.value))
            .collect();
        let t = o.timeout_or_default(self.timers.t1);
        self.first_of(entries, o.optional, t).await
    }

    /// The next arrival at the entries' agents must match one of them (the first that does
    /// is taken). `optional`: if something else comes first, or nothing, the step is done.
    async fn first_of(
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
                let Some(front) = self.agents[a].mailbox.front().cloned() else {
                    break;
                };
                let mine: Vec<&Expect> = entries
                    .iter()
                    .filter(|(x, _)| *x == a)
                    .map(|e| e.1)
                    .collect();
                if front.what.is_trying() && !mine.iter().any(|e| wants_trying(e)) {
                    self.agents[a].mailbox.pop_front(); // RFC 3261 §8.2.6.1: hop-by-hop
                    continue;
                }
                let mut wrong = None;
                for e in mine {
                    match self.fit_at(a, e, &front.what) {
                        Fit::Match => {
                            self.agents[a].mailbox.pop_front();
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
                    return Ok(()); // the arrival waits for the next step
                }
                return Err(self.mismatch(a, &front, expected, wrong));
            }
            if !self.pump(until).await {
                return match (optional, capped) {
                    (true, false) => Ok(()),
                    _ => Err(self.timed_out(expected, timeout, capped)),
                };
            }
        }
    }

    /// Every entry must match an arrival at its agent, in any order; optional entries may
    /// stay unmatched.
    async fn unordered(&mut self, u: &Unordered) -> Result<(), Stop> {
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
                let Some(front) = self.agents[a].mailbox.front().cloned() else {
                    break;
                };
                let mine: Vec<usize> = (0..left.len()).filter(|&k| left[k].0 == a).collect();
                if front.what.is_trying() && !mine.iter().any(|&k| wants_trying(left[k].1)) {
                    self.agents[a].mailbox.pop_front();
                    continue;
                }
                let fits: Vec<(usize, Fit)> = mine
                    .iter()
                    .map(|&k| (k, self.fit_at(a, left[k].1, &front.what)))
                    .collect();
                if let Some(&(k, _)) = fits.iter().find(|(_, f)| *f == Fit::Match) {
                    self.agents[a].mailbox.pop_front();
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
            if !self.pump(until).await {
                let expected = describe_all(&left, "all of (in any order)");
                return Err(self.timed_out(expected, timeout, capped));
            }
        }
    }

    /// `not`: nothing matching may arrive at the agent within the window (what is already
    /// waiting there counts too).
    async fn not(&mut self, n: &Not) -> Result<(), Stop> {
        let a = self.agent_index(&n.expect.at);
        let (until, capped) = self.until(n.within);
        let expected = format!(
            "no {} within {}",
            describe_expect(&n.expect),
            seconds(n.within)
        );
        let mut checked = 0;
        loop {
            while checked < self.agents[a].mailbox.len() {
                let inc = self.agents[a].mailbox[checked].clone();
                if self.fit_at(a, &n.expect, &inc.what) == Fit::Match {
                    return Err(Stop::Fail {
                        rule: "scenario.not.arrived",
                        expected,
                        actual: format!("{} at {}", inc.what.describe(), seconds(inc.at)),
                    });
                }
                checked += 1;
            }
            if !self.pump(until).await {
                return if capped {
                    Err(self.timed_out(expected, n.within, true))
                } else {
                    Ok(())
                };
            }
        }
    }

    async fn wait(&mut self, d: Duration) -> Result<(), Stop> {
        let (until, capped) = self.until(d);
        while self.pump(until).await {}
        if capped {
            let what = format!("a wait of {} within the run's deadline", seconds(d));
            return Err(self.timed_out(what, d, true));
        }
        Ok(())
    }

    /// Among `agents`, the one whose first waiting arrival came first.
    fn earliest(&self, agents: &[usize]) -> Option<usize> {
        agents
            .iter()
            .filter_map(|&a| self.agents[a].mailbox.front().map(|i| (i.seq, a)))
            .min()
            .map(|(_, a)| a)
    }

    fn fit_at(&self, a: usize, e: &Expect, arrival: &Arrival) -> Fit {
        let in_dialog = e
            .dialog
            .as_ref()
            .is_none_or(|d| self.agents[a].belongs(&d.value, arrival));
        let vars = &self.vars;
        let agent = e.at.value.as_str();
        let render = |t: &Template| vars.render_plain(t, agent);
        fit(e, arrival, in_dialog, &render)
    }

    /// A matched arrival: its label, its dialog's name, the captures.
    fn consume(&mut self, a: usize, e: &Expect, inc: &Incoming) {
        let agent = &mut self.agents[a];
        if let Arrival::Request { received, .. } = &inc.what {
            let r = &mut agent.received[*received];
            if let Some(l) = &e.label {
                r.label = Some(l.value.clone());
            }
            if let Some(slot) = r.slot {
                if let (Some(name), None) = (&e.dialog, &agent.slots[slot].name) {
                    agent.slots[slot].name = Some(name.value.clone());
                }
                agent.last_slot = Some(slot);
            }
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

    /// An arrival that is not what the step waits for.
    fn mismatch(&self, a: usize, inc: &Incoming, expected: String, wrong: Option<String>) -> Stop {
        if let Some(stop) = self.claimed_but_refused(a, &inc.what) {
            return stop;
        }
        if let Some(reason) = self.lacks_capability(a, &inc.what) {
            return Stop::Inconclusive(reason);
        }
        let unreachable = matches!(
            inc.what,
            Arrival::TransportError { .. } | Arrival::Timeout { .. }
        );
        if unreachable && !self.heard_anything() {
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

    /// Nothing (matching) came in time.
    fn timed_out(&self, expected: String, waited: Duration, deadline: bool) -> Stop {
        let waited = if deadline {
            format!(
                "the run's deadline ({})",
                seconds(self.deadline - self.start)
            )
        } else {
            seconds(waited)
        };
        if !self.heard_anything() {
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

    /// A 405/501 to the first request of a needed method, a 420 when option tags are needed,
    /// a 489 when event packages are: the target lacks what the scenario needs.
    /// A refusal of something the target itself advertised in this run (spec level): a
    /// 405/501 to a method its Allow lists (RFC 3261 §20.5), a 420 naming an option tag its
    /// Supported lists (§20.37), a 489 to a package its Allow-Events lists (RFC 6665 §8.2.2).
    /// Such a target does not lack the capability: it claims it and does not deliver.
    fn claimed_but_refused(&self, a: usize, arrival: &Arrival) -> Option<Stop> {
        use crate::sip::HeaderName;
        let Arrival::Response {
            msg,
            tx: Some(tx),
            method,
            ..
        } = arrival
        else {
            return None;
        };
        let sent = self.agents[a].sent.get(tx)?;
        let status = msg.status()?;
        let (rule, claim) = match status {
            405 | 501 if self.target_advertised(HeaderName::Allow, method) => {
                let rule = if status == 501 {
                    "spec.allow.not-implemented"
                } else {
                    "spec.allow.not-allowed"
                };
                (
                    rule,
                    format!("{method} (its Allow lists it, RFC 3261 §20.5)"),
                )
            }
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
                let event = sent
                    .msg
                    .first_value(HeaderName::Event)?
                    .split(';')
                    .next()?
                    .trim()
                    .to_string();
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
            actual: format!("{} at {}", arrival.describe(), seconds(self.elapsed())),
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
        let sent = self.agents[a].sent.get(tx)?;
        let status = msg.status()?;
        let needs = &self.sc.target.needs;
        let why = match status {
            // RFC 3261 §8.2.1 (405), §21.5.2 (501).
            405 | 501
                if sent.first_of_method && needs.contains(&Capability::Method(method.clone())) =>
            {
                format!("the target lacks {method}")
            }
            // RFC 3261 §8.2.2.3.
            420 if needs.iter().any(|c| matches!(c, Capability::OptionTag(_))) => {
                "the target lacks a needed option tag".to_string()
            }
            // RFC 6665 §8.2.1.
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

/// `1.5s`, `200ms`.
pub fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.3}s", d.as_secs_f64())
    }
}

#[cfg(test)]
#[path = "exec_tests.rs"]
mod tests;
