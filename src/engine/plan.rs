//! What one run of a scenario uses, resolved from the scenario and the run's options before
//! anything is bound: timers, the deadline, impairments, the local address.
//!
//! Precedence: `--t1` and `--deadline` are the user's explicit choice for this run and win
//! over the scenario's `timers` and `deadline`; the scenario's `impair` wins over `--impair`
//! (a scenario that impairs on purpose needs exactly its impairment).

use super::target::TargetSpec;
use crate::net::{DropRule, ImpairSpec, Impairer, Impairment as NetImpairment};
use crate::scenario::{
    BodyCheck, DropCount, Expect, HeaderAssertion, Impairment, LoadError, LoadErrorKind, Located,
    Matcher, PathDirection, PathImpairment, Scenario, Step, Timers,
};
use crate::txn::TimerConfig;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::Duration;

/// The options of a run that apply to every scenario.
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub target: TargetSpec,
    /// `--t1`: every timer scaled from it (T2 = 8*T1, T4 = 10*T1).
    pub t1: Option<Duration>,
    /// `--deadline`.
    pub deadline: Option<Duration>,
    /// `--impair`, for scenarios without `impair`.
    pub impair: Option<ImpairSpec>,
    /// `--agent-port NAME=PORT`: agents that listen on a fixed port (others use any free one).
    pub agent_ports: BTreeMap<String, u16>,
    /// Build each run's transcript (`RunResult::transcript`): golden files and the report
    /// use it. `siptest run` turns it off for repeated runs with no golden to compare with
    /// and no `--accept`, for building it cost a quarter of a run's CPU
    /// (`ci/bench-calls.sh`).
    pub transcripts: bool,
}

impl RunConfig {
    pub fn new(target: TargetSpec) -> RunConfig {
        RunConfig {
            target,
            t1: None,
            deadline: None,
            impair: None,
            agent_ports: BTreeMap::new(),
            transcripts: true,
        }
    }
}

/// Extra time after the last step's budget before the default deadline hits.
const DEADLINE_GRACE: Duration = Duration::from_secs(2);

/// T1 of runs against the built-in UA when neither the scenario (`timers`), the target
/// (`builtin?t1=MS`) nor `--t1` sets it: both sides are siptest on loopback, so the scenario
/// library runs in seconds (`docs/scenarios.md`, "Targets").
pub const BUILTIN_T1: Duration = Duration::from_millis(25);

/// The timers of a run: the defaults (RFC 3261 §17.1.1.1), the scenario's, then the
/// target's T1 (`builtin?t1=MS`), then `--t1`. Against the built-in UA a scenario without
/// `timers` runs with [`BUILTIN_T1`].
pub fn timers(sc: &Scenario, cfg: &RunConfig) -> TimerConfig {
    match cfg.t1.or_else(|| cfg.target.t1()) {
        Some(t1) => TimerConfig::scaled(t1),
        None if cfg.target.is_builtin() && sc.timers == Timers::default() => {
            TimerConfig::scaled(BUILTIN_T1)
        }
        None => sc.timers.apply(TimerConfig::default()),
    }
}

/// The deadline of a run: `--deadline`, else the scenario's, else [`default_deadline`].
pub fn deadline(sc: &Scenario, cfg: &RunConfig, timers: &TimerConfig) -> Duration {
    cfg.deadline
        .or(sc.deadline)
        .unwrap_or_else(|| default_deadline(&sc.steps, timers.t1))
}

/// The longest every step may take, added up, plus a grace period: expect steps their
/// timeout (64*T1 for a response by default), `wait` and `not` their duration.
pub fn default_deadline(steps: &[Located<Step>], t1: Duration) -> Duration {
    let budget: Duration = steps
        .iter()
        .map(|s| match &s.value {
            Step::Send(_) | Step::Act(_) => Duration::ZERO,
            Step::Expect(e) => e.timeout_or_default(t1),
            Step::OneOf(o) => o.timeout_or_default(t1),
            Step::Unordered(u) => u.timeout_or_default(t1),
            Step::Wait(d) => d.at(t1),
            Step::Not(n) => n.within,
        })
        .sum();
    budget + DEADLINE_GRACE
}

/// The outbound and inbound impairers of agent number `index`: the scenario's `impair`, else
/// `--impair`, else none. Each agent and direction draws its own random stream.
pub fn impairers(
    sc: &Scenario,
    cfg: &RunConfig,
    index: usize,
) -> (Option<Impairer>, Option<Impairer>) {
    let (out_stream, in_stream) = (2 * index as u64, 2 * index as u64 + 1);
    if let Some(imp) = &sc.impair {
        return (
            Some(scenario_impairer(imp, PathDirection::Outbound, out_stream)),
            Some(scenario_impairer(imp, PathDirection::Inbound, in_stream)),
        );
    }
    match &cfg.impair {
        Some(spec) => (
            Some(spec.impairer(out_stream)),
            Some(spec.impairer(in_stream)),
        ),
        None => (None, None),
    }
}

fn scenario_impairer(imp: &Impairment, dir: PathDirection, stream: u64) -> Impairer {
    let path = match dir {
        PathDirection::Outbound => &imp.outbound,
        PathDirection::Inbound => &imp.inbound,
    };
    let seed = imp.seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut out = Impairer::new(net_impairment(path), seed);
    for rule in imp
        .rules
        .iter()
        .filter(|r| r.direction.is_none_or(|d| d == dir))
    {
        let count = match rule.drop {
            DropCount::First(n) => n as usize,
            DropCount::All => usize::MAX,
        };
        let m = rule.matcher.clone();
        out = out.with_rule(DropRule::predicate(move |msg| matches(&m, msg), count));
    }
    out
}

fn matches(m: &Matcher, msg: &crate::sip::message::Message) -> bool {
    match (msg.status(), msg.method()) {
        (Some(s), _) => m.matches_status(s),
        (None, Some(method)) => m.matches_method(&method),
        _ => false,
    }
}

fn net_impairment(p: &PathImpairment) -> NetImpairment {
    NetImpairment {
        loss: p.loss,
        delay: p.delay,
        jitter: p.jitter,
        duplicate: p.duplicate,
        reorder: p.reorder,
        hold: p.hold,
    }
}

/// The local address to bind for a target: the one the system would use to reach it (a
/// connected UDP socket sends nothing), loopback when that cannot be found.
pub fn local_ip_for(target: SocketAddr) -> IpAddr {
    let (any, loopback): (SocketAddr, IpAddr) = match target {
        SocketAddr::V4(_) => (
            (Ipv4Addr::UNSPECIFIED, 0).into(),
            Ipv4Addr::LOCALHOST.into(),
        ),
        SocketAddr::V6(_) => (
            (Ipv6Addr::UNSPECIFIED, 0).into(),
            Ipv6Addr::LOCALHOST.into(),
        ),
    };
    if target.ip().is_loopback() {
        return target.ip();
    }
    UdpSocket::bind(any)
        .and_then(|s| s.connect(target).and_then(|_| s.local_addr()))
        .map(|a| a.ip())
        .ok()
        .filter(|ip| !ip.is_unspecified())
        .unwrap_or(loopback)
}

/// Regular expressions of `matches` assertions that do not compile, as load errors (the
/// loader checks everything else; a bad regex must not wait for the message to fail a run).
pub fn check_regexes(sc: &Scenario) -> Vec<LoadError> {
    let mut out = Vec::new();
    let mut check = |re: &Located<String>| {
        if let Err(e) = regex::Regex::new(&re.value) {
            out.push(LoadError {
                file: sc.source.clone(),
                line: re.line,
                column: re.column,
                kind: LoadErrorKind::InvalidValue,
                message: format!("invalid regular expression `{}`: {e}", re.value),
            });
        }
    };
    for step in &sc.steps {
        for e in expects_of(&step.value) {
            for h in &e.headers {
                if let HeaderAssertion::Matches(re) = &h.assertion {
                    check(re);
                }
            }
            if let Some(BodyCheck::Present(b)) = &e.body {
                if let Some(re) = &b.matches {
                    check(re);
                }
            }
        }
    }
    out
}

/// Every expect of a step (none for send and wait).
pub fn expects_of(step: &Step) -> Vec<&Expect> {
    match step {
        Step::Expect(e) => vec![e],
        Step::OneOf(o) => o.alternatives.iter().map(|a| &a.value).collect(),
        Step::Unordered(u) => u.entries.iter().map(|a| &a.value).collect(),
        Step::Not(n) => vec![&n.expect],
        Step::Send(_) | Step::Wait(_) | Step::Act(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_str;

    const SC: &str = "name: t\nsummary: s\nagents: { a: {} }\nsteps:\n  - send: OPTIONS\n  \
                      - expect: 200\n  - wait: 1s\n  - expect: BYE\n    timeout: 5s\n    \
                      headers: { X: { matches: \"(\" } }\n";

    fn cfg() -> RunConfig {
        RunConfig::new(TargetSpec::parse("udp:127.0.0.1:5060").unwrap())
    }

    #[test]
    fn deadline_adds_up_step_budgets() {
        let sc = load_str(SC, "t.yaml").unwrap();
        let t = timers(&sc, &cfg());
        // 68*T1 (34 s) + 1 s + 5 s + grace.
        assert_eq!(deadline(&sc, &cfg(), &t), Duration::from_secs(42));
        let mut c = cfg();
        c.t1 = Some(Duration::from_millis(50));
        let t = timers(&sc, &c);
        assert_eq!(t.t2, Duration::from_millis(400));
        assert_eq!(deadline(&sc, &c, &t), Duration::from_millis(3400 + 8000));
        c.deadline = Some(Duration::from_secs(3));
        assert_eq!(deadline(&sc, &c, &t), Duration::from_secs(3));
    }

    #[test]
    fn bad_regex_is_a_located_error() {
        let sc = load_str(SC, "t.yaml").unwrap();
        let e = check_regexes(&sc);
        assert_eq!(e.len(), 1);
        assert!(e[0].to_string().starts_with("t.yaml:10:"), "{}", e[0]);
    }

    #[test]
    fn loopback_targets_bind_loopback() {
        assert_eq!(
            local_ip_for("[::1]:5060".parse().unwrap()),
            "::1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            local_ip_for("127.0.0.1:5060".parse().unwrap()),
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn scenario_impairment_rules_pick_their_direction() {
        let text = "name: t\nsummary: s\nimpair:\n  rules:\n    - { drop: first, match: 2xx, direction: inbound }\nagents: { a: {} }\nsteps:\n  - send: OPTIONS\n";
        let sc = load_str(text, "t.yaml").unwrap();
        let (out, inb) = impairers(&sc, &cfg(), 0);
        assert!(out.is_some() && inb.is_some());
    }
}
