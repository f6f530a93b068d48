//! Judging a captured call against a scenario (`siptest check`, `docs/captures.md`): the
//! scenario's steps are played over the capture's messages as if the capture were a live run,
//! with the same matching ([`super::matching::fit`]), the same absorption of what never breaks
//! a step, the same verdicts and the transaction checker's findings ([`super::judge_trace`]).
//!
//! Sans-IO and synchronous: the capture is the source of arrivals and its timestamps are the
//! clock. A live run's executor ([`super::exec`]) waits on sockets and sends what the steps
//! build; a replay can do neither, so it has its own small executor over the same pure parts
//! instead of a mock network under the live one (which would have to invent branches, tags and
//! times the capture already has). What differs, step by step:
//!
//! - `send`: the agent's next message of that method (or status, answering the request the
//!   step answers) in the capture is the one sent; a capture without it does not play the
//!   scenario, and the run is `inconclusive` at that step.
//! - `expect`, `one_of`, `unordered`: as live, over the arrivals in capture order, each step's
//!   window measured on the capture's clock.
//! - `act`: skipped (the target acted); the next step's window starts when the target's next
//!   message came.
//! - `wait`: nothing is judged; the clock moves on by its duration.
//! - `not`: judged on the captured times.
//!
//! Transaction timeouts (Timer B and F) are derived: a request of a `send` step with no final
//! response within 64*T1 of it gets its timeout arrival then, as a live agent would.

use super::matching::{Arrival, Incoming};
use super::vars::{AddrVars, RunVars};
use super::verdict::{Finding, RunResult};
use super::{judge_trace, plan, RunConfig, Sides, TargetSpec};
use crate::net::TxId;
use crate::scenario::{Matcher, Scenario, Step};
use crate::sip::message::Message;
use crate::trace::{Trace, TracedMessage};
use crate::txn::{TimerConfig, TimerName};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

#[path = "replay_steps.rs"]
mod steps;

/// What `siptest check` was told beyond the scenario and the capture.
#[derive(Clone, Debug, Default)]
pub struct ReplayConfig {
    /// `--map`: agent names (and `target`) to the addresses they had in the capture.
    pub map: BTreeMap<String, SocketAddr>,
    /// `--call`: only this Call-ID's messages.
    pub call: Option<String>,
    /// `--t1`: the T1 the parties used (default: the scenario's, else 500 ms).
    pub t1: Option<Duration>,
    /// `--deadline`, as for `siptest run`.
    pub deadline: Option<Duration>,
}

/// Who was who in the capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parties {
    /// One address per agent of the scenario, in its order.
    pub agents: Vec<SocketAddr>,
    pub target: SocketAddr,
    /// Agents the capture does not show (placed at `0.0.0.0:0`).
    pub unplaced: Vec<String>,
}

/// Judges `trace` (a capture, times since its first packet; `start_time` the wall-clock time
/// of that packet) against `sc`. `Err` is a usage problem (no such call, agents that cannot
/// be placed): exit 2.
pub fn check_capture(
    sc: &Scenario,
    trace: &Trace,
    cfg: &ReplayConfig,
    capture_name: &str,
    start_time: Option<Duration>,
) -> Result<RunResult, String> {
    let selected = select(trace, cfg.call.as_deref())?;
    let parties = parties(sc, &selected, &cfg.map)?;
    let trace = between(&selected, &parties);
    if trace.messages.is_empty() {
        return Err(
            "the capture has no message between the scenario's agents and the target".into(),
        );
    }
    let mut run_cfg = RunConfig::new(TargetSpec::builtin().at(parties.target));
    run_cfg.t1 = cfg.t1;
    run_cfg.deadline = cfg.deadline;
    let timers = match cfg.t1 {
        Some(t1) => TimerConfig::scaled(t1),
        None => sc.timers.apply(TimerConfig::default()),
    };
    let mut r = Replay::new(sc, &trace, &parties, timers);
    r.deadline = r.start + plan::deadline(sc, &run_cfg, &timers);
    let verdict = r.play();
    let mut findings = std::mem::take(&mut r.findings);
    for name in &parties.unplaced {
        findings.push(Finding::engine(
            "capture.agent.absent",
            "every agent of the scenario in the capture",
            format!(
                "agent `{name}` neither sent nor received a message of the capture, and no \
                 sip:USER@IP:PORT names it (--map {name}=IP:PORT places it)"
            ),
        ));
    }
    let sides = Sides {
        ours: parties.agents.clone(),
        target: Some(parties.target),
    };
    let step_started = r.step_started.clone();
    let verdict = judge_trace(
        sc,
        verdict,
        &mut findings,
        &trace,
        timers,
        &sides,
        &step_started,
    );
    let call_id = cfg.call.clone().unwrap_or_else(|| r.vars.call_id.clone());
    let end = trace.end();
    let started_at =
        SystemTime::UNIX_EPOCH + start_time.unwrap_or_default() + trace.messages[0].time;
    let first = trace.messages[0].time;
    let messages = trace.messages.len();
    Ok(RunResult {
        scenario: sc.name.value.clone(),
        source: sc.source.clone(),
        target: format!("capture:{capture_name}"),
        repetition: 1,
        call_id,
        verdict,
        findings,
        duration: end.saturating_sub(first),
        messages,
        trace: rebase(trace, first),
        started_at,
        transcript: Default::default(),
        golden: None,
    })
}

/// The messages of `call` (all of them without `--call`).
fn select(trace: &Trace, call: Option<&str>) -> Result<Trace, String> {
    let Some(call) = call else {
        return Ok(trace.clone());
    };
    let messages: Vec<TracedMessage> = trace.call(call).map(|(_, m)| m.clone()).collect();
    if messages.is_empty() {
        let ids = trace.call_ids();
        let shown: Vec<&str> = ids.iter().take(5).map(String::as_str).collect();
        return Err(format!(
            "--call `{call}`: no such Call-ID in the capture (it has {} call(s){}{})",
            ids.len(),
            if shown.is_empty() { "" } else { ": " },
            shown.join(", ")
        ));
    }
    Ok(Trace { messages })
}

/// Only the messages between the parties (both ends are parties).
fn between(trace: &Trace, p: &Parties) -> Trace {
    let is_party = |a: &SocketAddr| *a == p.target || p.agents.contains(a);
    Trace {
        messages: trace
            .messages
            .iter()
            .filter(|m| is_party(&m.src) && is_party(&m.dst))
            .cloned()
            .collect(),
    }
}

/// A trace with time zero at `zero`.
fn rebase(mut t: Trace, zero: Duration) -> Trace {
    for m in &mut t.messages {
        m.time = m.time.saturating_sub(zero);
    }
    t
}

/// Which way the scenario's first message goes: sent by the agent (`true`) or to it.
fn first_message(sc: &Scenario) -> Option<(String, bool)> {
    for s in &sc.steps {
        let e = match &s.value {
            Step::Send(s) => return Some((s.from.value.clone(), true)),
            Step::Expect(e) => e,
            Step::OneOf(o) => &o.alternatives.first()?.value,
            Step::Unordered(u) => &u.entries.first()?.value,
            Step::Not(_) | Step::Wait(_) | Step::Act(_) => continue,
        };
        // A response at an agent answers a request that agent sent.
        return Some((
            e.at.value.clone(),
            !matches!(e.matcher.value, Matcher::Method(_)),
        ));
    }
    None
}

/// The agents' and the target's addresses: `--map` first; then the first request of the
/// capture places the agent of the scenario's first message and the target (its sender and
/// destination, or the other way round when the scenario starts by expecting a request); the
/// other agents are the other addresses the target exchanged messages with, in order of
/// first appearance.
pub fn parties(
    sc: &Scenario,
    trace: &Trace,
    map: &BTreeMap<String, SocketAddr>,
) -> Result<Parties, String> {
    for name in map.keys() {
        if name != "target" && sc.agent(name).is_none() {
            let names: Vec<&str> = sc.agents.iter().map(|a| a.name.value.as_str()).collect();
            return Err(format!(
                "--map `{name}`: the scenario has no such agent (it has: {}, and `target`)",
                names.join(", ")
            ));
        }
    }
    let mut agents: Vec<Option<SocketAddr>> = sc
        .agents
        .iter()
        .map(|a| map.get(&a.name.value).copied())
        .collect();
    let mut target = map.get("target").copied();
    let first_req = trace.messages.iter().find(|m| m.message.is_request());
    if let (Some(req), Some((agent, sends))) = (first_req, first_message(sc)) {
        let i = sc
            .agents
            .iter()
            .position(|a| a.name.value == agent)
            .unwrap_or(0);
        let (a, t) = if sends {
            (req.src, req.dst)
        } else {
            (req.dst, req.src)
        };
        if agents[i].is_none() && target.is_none() {
            agents[i] = Some(a);
            target = Some(t);
        } else if target.is_none() {
            target = Some(if agents[i] == Some(t) { a } else { t });
        } else if agents[i].is_none() && Some(a) != target {
            agents[i] = Some(a);
        }
    }
    let Some(target) = target else {
        return Err(
            "cannot tell the target in the capture: it has no request; give --map \
                    target=IP:PORT"
                .into(),
        );
    };
    let mut others: Vec<SocketAddr> = Vec::new();
    for m in &trace.messages {
        let other = if m.src == target {
            m.dst
        } else if m.dst == target {
            m.src
        } else {
            continue;
        };
        if !others.contains(&other) && !agents.contains(&Some(other)) {
            others.push(other);
        }
    }
    let mut others = others.into_iter();
    let mut out = Vec::new();
    let mut unplaced = Vec::new();
    for (a, addr) in sc.agents.iter().zip(agents) {
        match addr
            .or_else(|| others.next())
            .or_else(|| named_in(trace, &a.user))
        {
            Some(x) => out.push(x),
            // It never sent nor received anything here (a run that failed before it came
            // in): nothing of it is judged, and no message can be mistaken for its.
            None => {
                unplaced.push(a.name.value.clone());
                out.push(SocketAddr::new(std::net::Ipv4Addr::UNSPECIFIED.into(), 0));
            }
        }
    }
    Ok(Parties {
        agents: out,
        target,
        unplaced,
    })
}

/// An agent that never sent nor received a message of the capture (carol, to whom a REFER
/// points): the address of the first `sip:USER@IP:PORT` URI with its user in the capture.
fn named_in(trace: &Trace, user: &str) -> Option<SocketAddr> {
    let needle = format!("sip:{user}@");
    trace.messages.iter().find_map(|m| {
        let text = String::from_utf8_lossy(m.message.as_bytes());
        text.match_indices(&needle).find_map(|(i, _)| {
            let rest = &text[i + needle.len()..];
            let end = rest
                .find(['>', ';', '?', ' ', '\r', '\n', ','])
                .unwrap_or(rest.len());
            rest[..end].parse().ok()
        })
    })
}

/// A request an agent received.
#[derive(Clone, Debug)]
struct Rx {
    msg: Message,
    method: String,
    label: Option<String>,
    answered: bool,
    slot: Option<usize>,
    /// Its index in the trace.
    index: usize,
}

/// A request a `send` step found in the capture.
#[derive(Clone, Debug)]
struct Tx {
    method: String,
    branch: Option<String>,
    slot: Option<usize>,
    first_of_method: bool,
    finished: bool,
    /// The package of its Event header (SUBSCRIBE).
    event: Option<String>,
}

/// A dialog of an agent, by its tags as the capture shows them.
#[derive(Clone, Debug, Default)]
struct Slot {
    name: Option<String>,
    local_tag: Option<String>,
    remote_tag: Option<String>,
    /// The target ended it with a BYE (RFC 3261 §15.1.2).
    ended: bool,
}

/// One agent as the capture shows it.
struct Side {
    name: String,
    addr: SocketAddr,
    mailbox: VecDeque<Incoming>,
    received: Vec<Rx>,
    sent: Vec<Tx>,
    slots: Vec<Slot>,
    last_slot: Option<usize>,
    seen: HashSet<String>,
    methods_sent: HashSet<String>,
    /// Branches of every request the agent sent in the capture (answers to them are not
    /// strays, whether a step sent them or the agent did by itself: ACK, CANCEL, BYE).
    branches: HashSet<(String, String)>,
    /// The time of the last message a `send` step took, so that sends keep their order.
    last_send: Duration,
}

/// The replay of one scenario over one capture.
pub(super) struct Replay<'a> {
    sc: &'a Scenario,
    trace: &'a Trace,
    sides: Vec<Side>,
    target: SocketAddr,
    vars: RunVars,
    timers: TimerConfig,
    /// The capture's clock: the time of what was last looked at.
    clock: Duration,
    start: Duration,
    deadline: Duration,
    /// The next message of the trace to deliver.
    cursor: usize,
    /// Trace indices a `send` step took.
    consumed: HashSet<usize>,
    /// Derived transaction timeouts: (time, agent, arrival), by time.
    timeouts: Vec<(Duration, usize, Arrival)>,
    seq: u64,
    heard_target: bool,
    findings: Vec<Finding>,
    step_started: Vec<Duration>,
}

impl<'a> Replay<'a> {
    fn new(sc: &'a Scenario, trace: &'a Trace, p: &Parties, timers: TimerConfig) -> Replay<'a> {
        let start = trace.messages.first().map(|m| m.time).unwrap_or_default();
        let sides: Vec<Side> = sc
            .agents
            .iter()
            .zip(&p.agents)
            .map(|(a, addr)| Side {
                name: a.name.value.clone(),
                addr: *addr,
                mailbox: VecDeque::new(),
                received: Vec::new(),
                sent: Vec::new(),
                slots: Vec::new(),
                last_slot: None,
                seen: HashSet::new(),
                methods_sent: HashSet::new(),
                branches: trace
                    .messages
                    .iter()
                    .filter(|m| m.src == *addr && m.message.is_request())
                    .filter_map(|m| Some((m.message.branch()?, m.message.method()?.into_owned())))
                    .collect(),
                last_send: start,
            })
            .collect();
        let mut vars = RunVars {
            call_id: trace
                .messages
                .iter()
                .find_map(|m| m.message.call_id())
                .unwrap_or_default(),
            run_id: "capture".into(),
            target: Some(addr_vars(&target_user(trace, p.target), p.target)),
            user: sc.variables.clone(),
            ..RunVars::default()
        };
        for (a, addr) in sc.agents.iter().zip(&p.agents) {
            vars.agents
                .insert(a.name.value.clone(), addr_vars(&a.user, *addr));
        }
        Replay {
            sc,
            trace,
            sides,
            target: p.target,
            vars,
            timers,
            clock: start,
            start,
            deadline: start,
            cursor: 0,
            consumed: HashSet::new(),
            timeouts: Vec::new(),
            seq: 0,
            heard_target: false,
            findings: Vec::new(),
            step_started: Vec::new(),
        }
    }

    fn agent_index(&self, name: &str) -> usize {
        self.sides.iter().position(|a| a.name == name).unwrap_or(0)
    }

    /// Delivers the next arrival (a captured message to an agent, or a derived timeout) that
    /// came by `until`, and moves the clock to it; false, with the clock at `until`, when
    /// nothing more came by then.
    fn pump(&mut self, until: Duration) -> bool {
        loop {
            let next_msg = self.trace.messages.get(self.cursor).map(|m| m.time);
            let next_timeout = self.timeouts.first().map(|t| t.0);
            let take_timeout = match (next_msg, next_timeout) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(m), Some(t)) => t < m,
            };
            let at = if take_timeout { next_timeout } else { next_msg };
            match at {
                Some(t) if t <= until => {
                    self.clock = self.clock.max(t);
                    if take_timeout {
                        let (t, a, what) = self.timeouts.remove(0);
                        let still_open = match &what {
                            Arrival::Timeout { tx, .. } => {
                                !self.sides[a].sent[tx.0 as usize].finished
                            }
                            _ => true,
                        };
                        if still_open {
                            if let Arrival::Timeout { tx, .. } = &what {
                                self.sides[a].sent[tx.0 as usize].finished = true;
                            }
                            self.push(a, t, what);
                            return true;
                        }
                        continue;
                    }
                    let i = self.cursor;
                    self.cursor += 1;
                    if self.deliver(i) {
                        return true;
                    }
                }
                _ => {
                    self.clock = self.clock.max(until);
                    return false;
                }
            }
        }
    }

    fn push(&mut self, a: usize, t: Duration, what: Arrival) {
        self.seq += 1;
        let inc = Incoming {
            seq: self.seq,
            at: t.saturating_sub(self.start),
            what,
        };
        self.sides[a].mailbox.push_back(inc);
    }

    /// Message `i` of the trace reaches an agent (when it is addressed to one): absorbed as a
    /// live agent absorbs it (retransmissions, duplicate ACKs), else queued. Whether it was
    /// queued.
    fn deliver(&mut self, i: usize) -> bool {
        let m = &self.trace.messages[i];
        let Some(a) = self.sides.iter().position(|s| s.addr == m.dst) else {
            return false;
        };
        if self.sides.iter().any(|s| s.addr == m.src) && m.src != self.target {
            return false; // between agents: never an arrival in a live run
        }
        self.heard_target = true;
        let msg = m.message.clone();
        let arrival = if msg.is_request() {
            self.on_request(a, msg, i)
        } else {
            self.on_response(a, msg)
        };
        match arrival {
            Some(what) => {
                self.push(a, m.time, what);
                true
            }
            None => false,
        }
    }

    fn on_request(&mut self, a: usize, msg: Message, index: usize) -> Option<Arrival> {
        let side = &mut self.sides[a];
        let method = msg.method().map(|m| m.into_owned()).unwrap_or_default();
        let cseq = msg.cseq().map_or(0, |c| c.number);
        let key = if method == "ACK" {
            // RFC 3261 §13.2.2.4: an ACK re-sent for a retransmitted 2xx.
            format!(
                "ACK {} {cseq} {}",
                msg.call_id().unwrap_or_default(),
                msg.from_tag().unwrap_or_default()
            )
        } else {
            // RFC 3261 §17.2.1, §17.2.2: the server transaction absorbs retransmissions.
            format!("REQ {method} {:?} {cseq}", msg.branch())
        };
        if !side.seen.insert(key) {
            return None;
        }
        if method == "ACK" && self.acks_rejection(a, &msg, index) {
            return None; // RFC 3261 §17.2.1: the server transaction absorbs it
        }
        let side = &mut self.sides[a];
        let to_tag = msg.to_tag();
        let mut slot = to_tag.as_ref().and_then(|t| {
            side.slots
                .iter()
                .position(|s| s.local_tag.as_ref() == Some(t))
        });
        if slot.is_none() && to_tag.is_none() {
            if crate::dialog::creates_dialog(&method) {
                side.slots.push(Slot {
                    name: None,
                    local_tag: None,
                    remote_tag: msg.from_tag(),
                    ended: false,
                });
                side.last_slot = Some(side.slots.len() - 1);
                slot = side.last_slot;
            } else if method == "CANCEL" {
                slot = side
                    .slots
                    .iter()
                    .rposition(|s| s.remote_tag == msg.from_tag());
            }
        }
        if let (Some(i), "BYE") = (slot, method.as_str()) {
            side.slots[i].ended = true;
        }
        side.received.push(Rx {
            msg: msg.clone(),
            method: method.clone(),
            label: None,
            answered: method == "ACK",
            slot,
            index,
        });
        Some(Arrival::Request {
            msg,
            tx: None,
            received: side.received.len() - 1,
        })
    }

    /// Whether an ACK (message `index`) acknowledges a non-2xx final response the agent sent
    /// to an INVITE: same branch and CSeq number (RFC 3261 §17.1.1.3).
    fn acks_rejection(&self, a: usize, ack: &Message, index: usize) -> bool {
        let addr = self.sides[a].addr;
        let (branch, cseq) = (ack.branch(), ack.cseq().map(|c| c.number));
        self.trace.messages[..index].iter().any(|m| {
            m.src == addr
                && m.message.status().is_some_and(|s| s >= 300)
                && m.message.branch() == branch
                && m.message
                    .cseq()
                    .is_some_and(|c| c.method == "INVITE" && Some(c.number) == cseq)
        })
    }

    fn on_response(&mut self, a: usize, msg: Message) -> Option<Arrival> {
        let side = &mut self.sides[a];
        let status = msg.status().unwrap_or(0);
        let cseq = msg.cseq();
        let method = cseq.as_ref().map(|c| c.method.clone()).unwrap_or_default();
        let branch = msg.branch();
        let tx = side
            .sent
            .iter()
            .rposition(|t| t.branch == branch && t.method == method);
        let key = if method == "INVITE" && (200..300).contains(&status) {
            // RFC 3261 §13.2.2.4: a retransmitted 2xx is ACKed again and absorbed.
            format!(
                "2xx {} {}",
                msg.to_tag().unwrap_or_default(),
                cseq.as_ref().map_or(0, |c| c.number)
            )
        } else {
            // RFC 3261 §17.1.1.2, §17.1.2.2: a retransmission already offered.
            format!(
                "{status} {branch:?} {} {}",
                cseq.as_ref().map_or(0, |c| c.number),
                msg.to_tag().unwrap_or_default()
            )
        };
        if !side.seen.insert(key) {
            return None;
        }
        let known = branch
            .as_ref()
            .is_some_and(|b| side.branches.contains(&(b.clone(), method.clone())));
        if let Some(t) = tx {
            let sent = &mut side.sent[t];
            sent.finished |= status >= 200;
            if let (Some(i), Some(tag)) = (sent.slot, msg.to_tag()) {
                let s = &mut side.slots[i];
                // RFC 3261 §12.1.2, §13.2.2.4: the first tag, or the one a 2xx confirms.
                if s.remote_tag.is_none() || (200..300).contains(&status) {
                    s.remote_tag = Some(tag);
                }
            }
        }
        Some(Arrival::Response {
            msg,
            tx: tx.map(|t| TxId(t as u64)),
            method,
            stray: tx.is_none() && !known,
        })
    }

    /// Whether an arrival belongs to the dialog named `name` (or creates it), as
    /// `Agent::belongs` decides in a live run.
    fn belongs(&self, a: usize, name: &str, arrival: &Arrival) -> bool {
        let side = &self.sides[a];
        let named = side
            .slots
            .iter()
            .position(|s| s.name.as_deref() == Some(name));
        match (named, arrival) {
            (Some(i), Arrival::Response { msg, tx, .. }) => {
                tx.and_then(|t| side.sent[t.0 as usize].slot) == Some(i)
                    || side.slots[i].local_tag.is_some()
                        && side.slots[i].local_tag == msg.from_tag()
            }
            (Some(i), Arrival::Request { msg, received, .. }) => {
                let s = &side.slots[i];
                side.received[*received].slot == Some(i)
                    || match msg.to_tag() {
                        Some(t) => s.local_tag.as_ref() == Some(&t),
                        None => s.remote_tag.is_some() && s.remote_tag == msg.from_tag(),
                    }
            }
            (None, Arrival::Request { msg, received, .. }) => {
                msg.to_tag().is_none()
                    && side.received[*received]
                        .slot
                        .is_some_and(|s| side.slots[s].name.is_none())
            }
            _ => false,
        }
    }

    /// Whether the target sent, by now, a message listing `token` in header `header`.
    fn target_advertised(&self, header: crate::sip::HeaderName, token: &str) -> bool {
        self.trace
            .messages
            .iter()
            .take_while(|m| m.time <= self.clock)
            .any(|m| {
                m.src == self.target
                    && m.message
                        .values(header)
                        .iter()
                        .flat_map(|v| v.split(','))
                        .any(|t| t.trim().eq_ignore_ascii_case(token))
            })
    }

    /// Derives Timer B or F for request `tx` of agent `a`, sent at `sent`: when no final
    /// response to it reached the agent within 64*T1 (RFC 3261 §17.1.1.2, §17.1.2.2).
    fn arm_timeout(&mut self, a: usize, tx: usize, sent: Duration) {
        let side = &self.sides[a];
        let t = &side.sent[tx];
        if t.method == "ACK" {
            return;
        }
        let fires = sent + self.timers.t1 * 64;
        let answered = self.trace.messages.iter().any(|m| {
            m.dst == side.addr
                && m.time <= fires
                && m.message.status().is_some_and(|s| s >= 200)
                && m.message.branch() == t.branch
                && m.message.cseq().is_some_and(|c| c.method == t.method)
        });
        if answered {
            return;
        }
        let timer = if t.method == "INVITE" {
            TimerName::B
        } else {
            TimerName::F
        };
        let what = Arrival::Timeout {
            tx: TxId(tx as u64),
            timer,
            method: t.method.clone(),
        };
        let k = self.timeouts.partition_point(|x| x.0 <= fires);
        self.timeouts.insert(k, (fires, a, what));
    }
}

fn addr_vars(user: &str, addr: SocketAddr) -> AddrVars {
    AddrVars {
        user: user.to_string(),
        host: super::target::uri_host(addr.ip()),
        port: addr.port(),
    }
}

/// The user part of the Request-URI of the first request sent to the target.
fn target_user(trace: &Trace, target: SocketAddr) -> String {
    trace
        .messages
        .iter()
        .find(|m| m.dst == target && m.message.is_request())
        .and_then(|m| m.message.request_uri())
        .and_then(|u| {
            let rest = u.split_once(':')?.1.to_string();
            let (user, _) = rest.split_once('@')?;
            Some(user.split(';').next().unwrap_or(user).to_string())
        })
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "replay_tests.rs"]
mod tests;
