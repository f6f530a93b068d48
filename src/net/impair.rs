//! Seeded network impairments, sans-IO: loss, delay with jitter, duplication, reordering, and
//! rules that drop chosen messages ("the first 200 OK").
//!
//! An [`Impairer`] handles one direction of one endpoint. It takes `(now, peer, bytes)` for
//! every message that would go on (or come off) the wire and returns the [`Delivery`]s that actually
//! happen: none when the message is lost, two when it is duplicated, each at
//! `now + delay ± jitter`. This follows str0m's network emulator: the impairer never sleeps and
//! never reads a clock, so that a test with a fixed seed sees exactly the same losses on every
//! run, and the caller (`EndpointCore`) schedules the deliveries on its own timer queue.
//!
//! Random draws, in this order for every message that no [`DropRule`] removed: loss, duplicate,
//! reorder (always all three, so the sequence does not depend on the probabilities' values
//! being zero or not), then one jitter draw per copy delivered. The same seed and the same
//! inputs give the same outputs.
//!
//! Reordering holds a message back until the next message that gets through, which is then
//! delivered first; the held message follows at the same instant (or later, if its own delay
//! says so). A message is held at most `hold`; after that `handle_timeout` releases it.

use super::rng::Pcg32;
use crate::sip::message::Message;
use crate::sip::parse::parse_datagram;
use crate::txn::Time;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Impairments for one direction. Probabilities are in [0, 1].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Impairment {
    /// Probability that a message is lost.
    pub loss: f64,
    /// Fixed delay added to every delivery.
    pub delay: Duration,
    /// Each delivery is moved by a uniform amount in `[-jitter, +jitter]` (never before `now`).
    pub jitter: Duration,
    /// Probability that a message is delivered twice (each copy with its own jitter).
    pub duplicate: f64,
    /// Probability that a message is held back behind the next one.
    pub reorder: f64,
    /// The longest a reordered message waits for a next message before it is released anyway.
    pub hold: Duration,
}

impl Default for Impairment {
    fn default() -> Self {
        Impairment {
            loss: 0.0,
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            duplicate: 0.0,
            reorder: 0.0,
            hold: Duration::from_millis(200),
        }
    }
}

impl Impairment {
    /// No impairment at all: every message is delivered once, at once.
    pub fn none() -> Self {
        Self::default()
    }

    /// Only loss, with probability `p`.
    pub fn loss(p: f64) -> Self {
        Impairment {
            loss: p,
            ..Self::default()
        }
    }
}

/// Which messages a [`DropRule`] picks.
#[derive(Clone)]
pub enum Match {
    /// Responses with this status code.
    Status(u16),
    /// Requests with this method (case-sensitive, RFC 3261 §7.1).
    Method(String),
    /// Any message the function accepts.
    Predicate(Arc<dyn Fn(&Message) -> bool + Send + Sync>),
}

impl Match {
    pub fn matches(&self, msg: &Message) -> bool {
        match self {
            Match::Status(code) => msg.status() == Some(*code),
            Match::Method(m) => msg.method().as_deref() == Some(m.as_str()),
            Match::Predicate(f) => f(msg),
        }
    }
}

impl fmt::Debug for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Match::Status(c) => write!(f, "Status({c})"),
            Match::Method(m) => write!(f, "Method({m:?})"),
            Match::Predicate(_) => f.write_str("Predicate(..)"),
        }
    }
}

impl PartialEq for Match {
    /// Predicates compare equal only to themselves (the same `Arc`).
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Match::Status(a), Match::Status(b)) => a == b,
            (Match::Method(a), Match::Method(b)) => a == b,
            (Match::Predicate(a), Match::Predicate(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// Drops the first `count` messages that `matcher` picks, before any random impairment
/// (and without consuming random draws).
#[derive(Clone, Debug, PartialEq)]
pub struct DropRule {
    pub matcher: Match,
    pub count: usize,
}

impl DropRule {
    pub fn status(code: u16, count: usize) -> Self {
        DropRule {
            matcher: Match::Status(code),
            count,
        }
    }

    pub fn method(method: &str, count: usize) -> Self {
        DropRule {
            matcher: Match::Method(method.to_string()),
            count,
        }
    }

    pub fn predicate(f: impl Fn(&Message) -> bool + Send + Sync + 'static, count: usize) -> Self {
        DropRule {
            matcher: Match::Predicate(Arc::new(f)),
            count,
        }
    }
}

/// One delivery of a message: when, to (or from) whom, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub at: Time,
    /// The peer the message was handed in with (a held message keeps its own).
    pub peer: SocketAddr,
    pub bytes: Vec<u8>,
}

/// What an impairer did, for reports and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImpairStats {
    /// Messages handed in.
    pub seen: u64,
    /// Removed by a [`DropRule`].
    pub dropped_by_rule: u64,
    /// Removed by random loss.
    pub lost: u64,
    /// Delivered twice.
    pub duplicated: u64,
    /// Held back behind a later message (or until `hold` ran out).
    pub reordered: u64,
}

/// A message held back for reordering.
#[derive(Clone, Debug)]
struct Held {
    deliveries: Vec<Delivery>,
    deadline: Time,
}

/// Applies an [`Impairment`] and [`DropRule`]s to one direction, deterministically for a seed.
#[derive(Clone, Debug)]
pub struct Impairer {
    cfg: Impairment,
    rules: Vec<DropRule>,
    rng: Pcg32,
    held: Option<Held>,
    stats: ImpairStats,
}

impl Impairer {
    pub fn new(cfg: Impairment, seed: u64) -> Self {
        Impairer {
            cfg,
            rules: Vec::new(),
            rng: Pcg32::new(seed),
            held: None,
            stats: ImpairStats::default(),
        }
    }

    /// Adds a rule; rules are tried in the order added and the first that matches takes the
    /// message.
    pub fn with_rule(mut self, rule: DropRule) -> Self {
        self.rules.push(rule);
        self
    }

    pub fn config(&self) -> &Impairment {
        &self.cfg
    }

    pub fn stats(&self) -> ImpairStats {
        self.stats
    }

    /// The deliveries of one message handed in at `now`, earliest first. Deliveries at `now`
    /// are due at once.
    pub fn process(&mut self, now: Time, peer: SocketAddr, bytes: &[u8]) -> Vec<Delivery> {
        self.stats.seen += 1;
        if self.take_by_rule(bytes) {
            self.stats.dropped_by_rule += 1;
            return Vec::new();
        }
        let lost = self.rng.chance(self.cfg.loss);
        let dup = self.rng.chance(self.cfg.duplicate);
        let reorder = self.rng.chance(self.cfg.reorder);
        if lost {
            self.stats.lost += 1;
            return Vec::new();
        }
        let copies = if dup { 2 } else { 1 };
        if dup {
            self.stats.duplicated += 1;
        }
        let mut out: Vec<Delivery> = (0..copies)
            .map(|_| Delivery {
                at: self.delivery_time(now),
                peer,
                bytes: bytes.to_vec(),
            })
            .collect();
        out.sort_by_key(|d| d.at);
        if reorder && self.held.is_none() {
            self.stats.reordered += 1;
            self.held = Some(Held {
                deliveries: out,
                deadline: now + self.cfg.hold,
            });
            return Vec::new();
        }
        if let Some(held) = self.held.take() {
            // The held message goes right behind this one.
            let after = out.last().map_or(now, |d| d.at);
            out.extend(held.deliveries.into_iter().map(|d| Delivery {
                at: d.at.max(after),
                ..d
            }));
        }
        out
    }

    /// When a held message must be released if no other message comes first.
    pub fn poll_timeout(&self) -> Option<Time> {
        self.held.as_ref().map(|h| h.deadline)
    }

    /// Releases a held message whose `hold` ran out by `now`.
    pub fn handle_timeout(&mut self, now: Time) -> Vec<Delivery> {
        match &self.held {
            Some(h) if h.deadline <= now => {}
            _ => return Vec::new(),
        }
        let held = self.held.take().map(|h| h.deliveries).unwrap_or_default();
        held.into_iter()
            .map(|d| Delivery {
                at: d.at.max(now),
                ..d
            })
            .collect()
    }

    /// `now + delay ± jitter`, never before `now`.
    fn delivery_time(&mut self, now: Time) -> Time {
        let base = now + self.cfg.delay;
        let j = self.cfg.jitter.as_nanos().min(u128::from(u64::MAX / 2)) as u64;
        if j == 0 {
            return base;
        }
        let offset = self.rng.up_to(2 * j);
        if offset >= j {
            base + Duration::from_nanos(offset - j)
        } else {
            base.saturating_sub(Duration::from_nanos(j - offset))
                .max(now)
        }
    }

    /// Whether a drop rule takes this message (and counts it down).
    fn take_by_rule(&mut self, bytes: &[u8]) -> bool {
        if self.rules.iter().all(|r| r.count == 0) {
            return false;
        }
        let msg = parse_datagram(bytes).message;
        match self
            .rules
            .iter_mut()
            .find(|r| r.count > 0 && r.matcher.matches(&msg))
        {
            Some(rule) => {
                rule.count -= 1;
                true
            }
            None => false,
        }
    }
}
