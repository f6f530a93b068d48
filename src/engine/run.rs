//! One run of one scenario: the endpoints bound for its agents, the variables, and the only
//! place that waits ([`Run::pump`]): for the next event of any agent, an agent's timer, or a
//! time limit. Everything else the engine does is synchronous.

use super::agent::{Agent, Wire};
use super::plan::{self, RunConfig};
use super::target::uri_host;
use super::vars::{AddrVars, RunVars};
use super::verdict::Finding;
use crate::net::{Endpoint, EndpointConfig, EndpointEvent};
use crate::scenario::Scenario;
use crate::trace::{Trace, Transport};
use crate::txn::TimerConfig;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// Octets of messages each agent's trace keeps (later ones are counted, not kept).
const TRACE_LIMIT: usize = 16 << 20;

/// Runs started in this process, to make Call-IDs unique even for endpoints seeded alike.
static RUNS: AtomicU64 = AtomicU64::new(0);

/// The state of a run in progress.
pub struct Run<'s> {
    pub sc: &'s Scenario,
    pub agents: Vec<Agent>,
    endpoints: Vec<Arc<Endpoint>>,
    pub vars: RunVars,
    pub timers: TimerConfig,
    pub start: Instant,
    pub started_at: SystemTime,
    pub deadline: Instant,
    /// Arrivals so far, across agents (their order).
    seq: u64,
    /// Some SIP message (not garbage) came from the target.
    pub heard_target: bool,
    /// Findings of the engine (notes, floods), added to the result.
    pub findings: Vec<Finding>,
    rotate: usize,
    /// What carries out `act` steps on the target, if anything does.
    pub driver: Option<super::driver::Driver>,
    /// When each step played so far started, since `start`.
    pub step_started: Vec<Duration>,
    /// The run did not pass and its calls were ended ([`Run::teardown`]).
    pub torn_down: bool,
}

impl<'s> Run<'s> {
    /// Binds one endpoint per agent on the address that reaches the target, each on its
    /// fixed port (`--agent-port`) or any free one.
    pub async fn bind(sc: &'s Scenario, cfg: &RunConfig) -> Result<Run<'s>, String> {
        let timers = plan::timers(sc, cfg);
        let deadline = plan::deadline(sc, cfg, &timers);
        let endpoints = bind_endpoints(sc, cfg, timers).await?;
        let n = RUNS.fetch_add(1, Ordering::Relaxed);
        let run_id = format!("{}r{n}", endpoints[0].unique_token());
        let call_id = format!("{run_id}@siptest");
        let mut vars = RunVars {
            call_id: call_id.clone(),
            run_id,
            target: Some(AddrVars {
                user: cfg.target.user.clone(),
                host: cfg.target.host(),
                port: cfg.target.addr.port(),
            }),
            user: sc.variables.clone(),
            ..RunVars::default()
        };
        let mut agents = Vec::new();
        for (i, (a, ep)) in sc.agents.iter().zip(&endpoints).enumerate() {
            let local = ep.local_addr();
            vars.agents.insert(
                a.name.value.clone(),
                AddrVars {
                    user: a.user.clone(),
                    host: uri_host(local.ip()),
                    port: local.port(),
                },
            );
            let wire: Arc<dyn Wire> = ep.clone();
            let session = u64::from(local.port()) << 16 | (n & 0xffff);
            // Each agent is a UA of its own, and a Call-ID names one UA's dialog (RFC 3261
            // §8.1.1.4): the first agent's is `[call_id]`, the others' are derived from it.
            let agent_call_id = if i == 0 {
                call_id.clone()
            } else {
                format!("{}-{}@siptest", vars.run_id, a.name.value)
            };
            agents.push(Agent::new(
                &a.name.value,
                &a.user,
                a.display.clone(),
                wire,
                cfg.target.addr,
                &agent_call_id,
                (timers.t1, timers.t2),
                session,
            ));
        }
        let start = Instant::now();
        Ok(Run {
            sc,
            agents,
            endpoints,
            vars,
            timers,
            start,
            started_at: SystemTime::now(),
            deadline: start + deadline,
            seq: 0,
            heard_target: false,
            findings: Vec::new(),
            rotate: 0,
            driver: None,
            step_started: Vec::new(),
            torn_down: false,
        })
    }

    pub fn agent_index(&self, name: &str) -> usize {
        self.agents.iter().position(|a| a.name == name).unwrap_or(0)
    }

    /// Time since the run started.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Waits for one event of any agent and hands it over; fires agents' timers on the way.
    /// Returns false once `until` has come (nothing more arrived before it).
    pub async fn pump(&mut self, until: Instant) -> bool {
        loop {
            let now = Instant::now();
            for a in &mut self.agents {
                if a.poll_timeout().is_some_and(|t| t <= now) {
                    a.handle_timeout(now);
                }
            }
            if now >= until {
                return false;
            }
            let wake = self
                .agents
                .iter()
                .filter_map(Agent::poll_timeout)
                .min()
                .map_or(until, |t| t.min(until));
            let got = tokio::select! {
                ev = recv_any(&self.endpoints, self.rotate) => Some(ev),
                _ = tokio::time::sleep_until(wake) => None,
            };
            if let Some((i, ev)) = got {
                self.rotate = (i + 1) % self.endpoints.len();
                self.dispatch(i, ev);
                return true;
            }
        }
    }

    fn dispatch(&mut self, i: usize, ev: EndpointEvent) {
        if matches!(
            ev,
            EndpointEvent::Request { .. }
                | EndpointEvent::Response { .. }
                | EndpointEvent::Stray { .. }
        ) {
            self.heard_target = true;
        }
        self.seq += 1;
        let at = self.elapsed();
        self.agents[i].on_event(ev, self.seq, at);
    }

    /// Whether any message the target sent in this run lists `token` in a header named
    /// `header` (Allow, Supported, Allow-Events), compared case-insensitively.
    pub fn target_advertised(&self, header: crate::sip::HeaderName, token: &str) -> bool {
        let ours: Vec<SocketAddr> = self.endpoints.iter().map(|e| e.local_addr()).collect();
        self.endpoints.iter().any(|ep| {
            ep.trace().messages.iter().any(|m| {
                !ours.contains(&m.src)
                    && m.message
                        .values(header)
                        .iter()
                        .flat_map(|v| v.split(','))
                        .any(|t| t.trim().eq_ignore_ascii_case(token))
            })
        })
    }

    /// Whether any SIP message came from the target, including those the run's own inbound
    /// impairment dropped after they reached the socket (the trace has them).
    pub fn heard_anything(&self) -> bool {
        self.heard_target
            || self.endpoints.iter().any(|ep| {
                let local = ep.local_addr();
                // Received: to the listening address (connections this side opened are
                // not looked at; over them the impairment is rarely the cause).
                ep.trace().messages.iter().any(|m| {
                    m.dst == local
                        && m.src != local
                        && m.message.kind() != crate::sip::message::Kind::Unknown
                })
            })
    }

    /// Keeps answering for a moment after the last step, so that what was just sent leaves
    /// the sockets and late retransmissions are absorbed.
    pub async fn linger(&mut self) {
        let until = Instant::now() + self.timers.t1.min(Duration::from_millis(100));
        while self.pump(until).await {
            // A 2xx that crossed the CANCEL of a failed run's teardown: end that call too.
            if self.torn_down {
                self.teardown(false);
            }
        }
    }

    /// Every agent's trace merged by time, with time zero at `started_at`.
    pub fn merged_trace(&self) -> Trace {
        let mut all = Vec::new();
        for ep in &self.endpoints {
            let offset = ep.started_at().duration_since(self.started_at);
            let back = self
                .started_at
                .duration_since(ep.started_at())
                .unwrap_or_default();
            for mut m in ep.trace().messages {
                m.time = match &offset {
                    Ok(o) => m.time + *o,
                    Err(_) => m.time.saturating_sub(back),
                };
                all.push(m);
            }
        }
        all.sort_by_key(|m| m.time);
        Trace { messages: all }
    }

    /// Notes the agents made (dialog errors, floods) as findings.
    pub fn collect_notes(&mut self) {
        for a in &self.agents {
            for n in &a.notes {
                self.findings.push(Finding::engine(
                    "engine.dialog.note",
                    "messages the dialog layer accepts (RFC 3261 §12)",
                    format!("{}: {n}", a.name),
                ));
            }
            if a.overflow > 0 {
                self.findings.push(Finding::engine(
                    "engine.mailbox.overflow",
                    "no more arrivals than the steps can take",
                    format!(
                        "{}: {} arrivals dropped (more than {} waiting)",
                        a.name,
                        a.overflow,
                        super::agent::MAILBOX_LIMIT
                    ),
                ));
            }
        }
        for (a, ep) in self.agents.iter().zip(&self.endpoints) {
            let s = ep.stats();
            if s.dropped + s.trace_dropped > 0 {
                self.findings.push(Finding::engine(
                    "engine.endpoint.dropped",
                    "every event and message kept",
                    format!(
                        "{}: {} events and {} trace messages dropped by the endpoint's bounds",
                        a.name, s.dropped, s.trace_dropped
                    ),
                ));
            }
        }
    }
}

async fn bind_endpoints(
    sc: &Scenario,
    cfg: &RunConfig,
    timers: TimerConfig,
) -> Result<Vec<Arc<Endpoint>>, String> {
    let ip = plan::local_ip_for(cfg.target.addr);
    let mut endpoints = Vec::new();
    for (i, a) in sc.agents.iter().enumerate() {
        let port = cfg.agent_ports.get(&a.name.value).copied().unwrap_or(0);
        let transport = match a.transport {
            Some(crate::scenario::Transport::Tcp) => Transport::Tcp,
            Some(crate::scenario::Transport::Udp) => Transport::Udp,
            None => cfg.target.transport,
        };
        let mut ec = EndpointConfig::new(SocketAddr::new(ip, port), transport).timers(timers);
        // A run's reports need its calls, not every octet of a flood.
        ec.limits.max_trace_bytes = TRACE_LIMIT;
        (ec.outbound, ec.inbound) = plan::impairers(sc, cfg, i);
        let ep = Endpoint::bind(ec).await.map_err(|e| {
            format!(
                "cannot bind agent `{}` on {ip}:{port} ({transport}): {e}",
                a.name.value
            )
        })?;
        endpoints.push(Arc::new(ep));
    }
    Ok(endpoints)
}

type RecvFuture<'a> = Pin<Box<dyn Future<Output = EndpointEvent> + Send + 'a>>;

/// The next event of any endpoint, trying them in turn from `start` (so that a flooded agent
/// does not starve the others). Cancel-safe: `Endpoint::recv` is.
async fn recv_any(eps: &[Arc<Endpoint>], start: usize) -> (usize, EndpointEvent) {
    let n = eps.len();
    let mut futs: Vec<(usize, RecvFuture<'_>)> = (0..n)
        .map(|k| {
            let i = (start + k) % n;
            (i, Box::pin(eps[i].recv()) as RecvFuture<'_>)
        })
        .collect();
    std::future::poll_fn(|cx| {
        for (i, f) in futs.iter_mut() {
            if let Poll::Ready(ev) = f.as_mut().poll(cx) {
                return Poll::Ready((*i, ev));
            }
        }
        Poll::Pending
    })
    .await
}
