//! The scenario model: what a scenario file means once it has been loaded and checked.
//!
//! Everything the loader can decide is decided here: defaults are filled in (the agent of a
//! step, the destination of a request), names are resolved (an agent named in `from` exists,
//! a `[variable]` is defined before it is used). The engine takes a [`Scenario`] as it is.
//! The YAML format itself is described in `docs/scenarios.md`.

use super::located::Located;
use super::template::Template;
use crate::sdp::{Direction, HoldStyle};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

/// One scenario file.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The file it was loaded from (as given to the loader), for reports.
    pub source: String,
    /// `[a-z0-9][a-z0-9-]*`, unique within a directory of scenarios.
    pub name: Located<String>,
    pub summary: String,
    /// Where the behaviour comes from, e.g. `RFC 3261 §13.2.1`.
    pub references: Vec<String>,
    /// Free labels for selecting scenarios (`smoke`, `invite`), `[a-z0-9][a-z0-9-]*`.
    pub tags: Vec<String>,
    pub target: Target,
    pub timers: Timers,
    /// Hard limit for the whole run.
    pub deadline: Option<Duration>,
    pub impair: Option<Impairment>,
    /// At least one, in file order.
    pub agents: Vec<Agent>,
    /// Initial values of user variables.
    pub variables: BTreeMap<String, String>,
    /// At least one.
    pub steps: Vec<Located<Step>>,
}

impl Scenario {
    pub fn agent(&self, name: &str) -> Option<&Agent> {
        self.agents.iter().find(|a| a.name.value == name)
    }

    /// Whether the expect step labelled `label` may go without its request: an `optional`
    /// expect, an entry of an optional `one_of`, or an optional `unordered` entry.
    pub fn label_is_optional(&self, label: &str) -> bool {
        let named = |e: &Expect| e.label.as_ref().is_some_and(|l| l.value == label);
        self.steps.iter().any(|s| match &s.value {
            Step::Expect(e) => named(e) && e.optional,
            Step::OneOf(o) => o.optional && o.alternatives.iter().any(|e| named(e)),
            Step::Unordered(u) => u.entries.iter().any(|e| named(e) && e.optional),
            _ => false,
        })
    }
}

/// The device under test and what it must be able to do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Target {
    pub role: Role,
    /// Capabilities the target must have for the scenario to make sense; a run skips the
    /// scenario (rather than failing it) against a target known to lack one.
    pub needs: Vec<Capability>,
    /// True when the target itself must act (place a call, put one on hold) through a driver.
    pub acts: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A user agent (RFC 3261 §8): it answers and places calls itself.
    #[default]
    Ua,
    /// A proxy (RFC 3261 §16): it forwards between siptest's agents.
    Proxy,
    /// A back-to-back user agent: two dialogs, one per side.
    B2bua,
    /// A registrar (RFC 3261 §10.3): it takes REGISTER for its domain, challenging it.
    Registrar,
}

/// Something a target may or may not support.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Capability {
    /// A method, e.g. `REFER` (written `REFER`).
    Method(String),
    /// An option tag, e.g. `100rel` (written `100rel`).
    OptionTag(String),
    /// An event package, e.g. `refer` (written `event:refer`).
    Event(String),
}

/// One of siptest's own user agents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agent {
    /// `[a-z][a-z0-9_]*`, never `target`.
    pub name: Located<String>,
    /// The user part of its URI; the name when not given.
    pub user: String,
    /// The transport; the run's default when not given.
    pub transport: Option<Transport>,
    /// The display name in From/To/Contact.
    pub display: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Udp,
    Tcp,
}

/// Timer base values (RFC 3261 §17.1.1.1); each one not given keeps the run's value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timers {
    #[serde(deserialize_with = "super::values::opt_positive_duration")]
    pub t1: Option<Duration>,
    #[serde(deserialize_with = "super::values::opt_positive_duration")]
    pub t2: Option<Duration>,
    #[serde(deserialize_with = "super::values::opt_positive_duration")]
    pub t4: Option<Duration>,
}

impl Timers {
    /// `base` with the values this scenario sets.
    pub fn apply(&self, base: crate::txn::timers::TimerConfig) -> crate::txn::timers::TimerConfig {
        let mut c = base;
        c.t1 = self.t1.unwrap_or(c.t1);
        c.t2 = self.t2.unwrap_or(c.t2);
        c.t4 = self.t4.unwrap_or(c.t4);
        c
    }
}

/// Impairment of siptest's own network path (the target's path is not touched).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Impairment {
    /// Seed of the random draws, so that a failing run can be repeated; 0 when not given.
    pub seed: u64,
    /// Messages siptest sends to the target.
    pub outbound: PathImpairment,
    /// Messages siptest receives from the target.
    pub inbound: PathImpairment,
    /// Deterministic drops, applied before the random impairments.
    pub rules: Vec<ImpairRule>,
}

/// Random impairments of one direction. Probabilities are in [0, 1].
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PathImpairment {
    #[serde(deserialize_with = "super::values::probability")]
    pub loss: f64,
    #[serde(deserialize_with = "super::values::duration")]
    pub delay: Duration,
    /// Each delivery moves by a uniform amount in `[-jitter, +jitter]`.
    #[serde(deserialize_with = "super::values::duration")]
    pub jitter: Duration,
    #[serde(deserialize_with = "super::values::probability")]
    pub duplicate: f64,
    /// Probability that a message is held back behind the next one.
    #[serde(deserialize_with = "super::values::probability")]
    pub reorder: f64,
    /// The longest a reordered message waits for a next one (default 200 ms).
    #[serde(deserialize_with = "super::values::duration")]
    pub hold: Duration,
}

impl Default for PathImpairment {
    fn default() -> Self {
        PathImpairment {
            loss: 0.0,
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            duplicate: 0.0,
            reorder: 0.0,
            hold: Duration::from_millis(200),
        }
    }
}

/// "Drop the first 200 the target sends": forces a retransmission on purpose.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpairRule {
    pub drop: DropCount,
    #[serde(rename = "match")]
    pub matcher: Matcher,
    /// Both directions when not given.
    #[serde(default)]
    pub direction: Option<PathDirection>,
}

/// How many matching messages a rule drops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropCount {
    /// The first N (`first` is 1).
    First(u32),
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PathDirection {
    /// From the target to siptest.
    Inbound,
    /// From siptest to the target.
    Outbound,
}

/// What a step does.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Send(Send),
    Expect(Expect),
    /// The first alternative that matches is taken.
    OneOf(OneOf),
    /// Every entry must match, in any order.
    Unordered(Unordered),
    /// Let time pass.
    Wait(Delay),
    /// Nothing matching may arrive within the window.
    Not(Not),
    /// The target does something, through its driver (`act`).
    Act(Act),
}

/// Ask the target to act through its driver: answer calls a given way, place a call, hold,
/// transfer... (`docs/scenarios.md`, "act"). The engine turns it into a `ua::Action`.
#[derive(Clone, Debug, PartialEq)]
pub struct Act {
    /// The agent concerned (resolved: the agent of the previous step when not written);
    /// `None` for `answer` and `respond`, which concern every agent of the run.
    pub with: Option<Located<String>>,
    pub action: ActKind,
}

/// What the target is asked to do.
#[derive(Clone, Debug, PartialEq)]
pub enum ActKind {
    /// How it answers INVITEs from the run's agents from now on.
    Answer {
        /// Provisional statuses before the final one (101..=199).
        provisional: Vec<u16>,
        /// Reliable provisionals (RFC 3262).
        reliable: bool,
        /// The 183 carries the SDP answer.
        early_media: bool,
        /// Wait before the final response.
        ring: Duration,
        /// The final status; `None`: never answers.
        status: Option<u16>,
    },
    /// How it answers non-INVITE requests of one method from the run's agents.
    Respond {
        method: String,
        delay: Duration,
        /// `None`: never answers.
        status: Option<u16>,
    },
    /// It calls the agent.
    Call {
        /// An INVITE without SDP (RFC 3261 §13.2.1).
        late_offer: bool,
        /// `Require: 100rel` (RFC 3262).
        require_100rel: bool,
        /// Session-Expires in seconds (RFC 4028).
        session_expires: Option<u32>,
    },
    /// It puts the call with the agent on hold (RFC 3264 §8.4).
    Hold { style: HoldStyle },
    /// It takes the call off hold; `offerless`: a re-INVITE without SDP.
    Unhold { offerless: bool },
    /// It ends the call: BYE, CANCEL before the answer, 603 while ringing.
    Hangup,
    /// It refers the agent to the agent `to` (RFC 3515).
    Transfer { to: Located<String> },
    /// A request in the call with the agent, else outside any dialog.
    Request { method: String },
    /// It registers at the agent (a registrar), with digest credentials when challenged.
    Register {
        user: String,
        password: String,
        expires: u32,
    },
    /// It subscribes to an event package at the agent (RFC 6665).
    Subscribe { event: String },
}

impl ActKind {
    /// The action's name as written after `act:`.
    pub fn name(&self) -> &'static str {
        match self {
            ActKind::Answer { .. } => "answer",
            ActKind::Respond { .. } => "respond",
            ActKind::Call { .. } => "call",
            ActKind::Hold { .. } => "hold",
            ActKind::Unhold { .. } => "unhold",
            ActKind::Hangup => "hangup",
            ActKind::Transfer { .. } => "transfer",
            ActKind::Request { .. } => "request",
            ActKind::Register { .. } => "register",
            ActKind::Subscribe { .. } => "subscribe",
        }
    }
}

/// Digest credentials for a request (RFC 3261 §22.2): it answers the challenge of the
/// agent's latest 401/407 to a request of its method.
#[derive(Clone, Debug, PartialEq)]
pub struct Auth {
    pub user: Located<Template>,
    pub password: Located<Template>,
    /// Insist on one algorithm; by default the strongest offered (SHA-256, then MD5).
    pub algorithm: Option<DigestChoice>,
}

/// The digest algorithms a scenario can insist on (RFC 7616 §3.2, RFC 8760 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DigestChoice {
    Md5,
    Sha256,
}

/// Send a request or a response from one of siptest's agents.
#[derive(Clone, Debug, PartialEq)]
pub struct Send {
    /// The sending agent (resolved: the agent of the previous step when not written).
    pub from: Located<String>,
    pub message: Outgoing,
    /// The dialog the message creates, continues or answers within.
    pub dialog: Option<Located<String>>,
    pub content: Content,
}

/// A request or a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outgoing {
    Request {
        /// Any token; misspellings of well-known methods are rejected by the loader.
        method: String,
        to: Located<Peer>,
        /// Only `Manual` for INVITE, where it withholds the ACK to a 2xx.
        ack: AckMode,
    },
    Response {
        /// 100..=699.
        status: u16,
        /// The reason phrase; the standard one when not given.
        reason: Option<String>,
        reply_to: Located<ReplyTo>,
    },
}

/// Where a request is addressed (its Request-URI and To). The message itself always goes to
/// the target: with a proxy or B2BUA target, addressing an agent means "through the target".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Peer {
    Target,
    Agent(String),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AckMode {
    /// The agent ACKs a 2xx as soon as it arrives (and every retransmission of it).
    #[default]
    Auto,
    /// The ACK to a 2xx is withheld until a later `send: ACK`, so that the target
    /// retransmits its 2xx (RFC 3261 §13.3.1.4). ACKs to non-2xx finals are always automatic
    /// (they belong to the INVITE transaction, RFC 3261 §17.1.1.3).
    Manual,
}

/// Which received request a response answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplyTo {
    /// The agent's most recent request that has no final response yet.
    Latest,
    /// The agent's most recent request with this method that has no final response yet.
    Method(String),
    /// The request received by the expect step with this `label`.
    Label(String),
}

/// The content of an outgoing message.
#[derive(Clone, Debug, PartialEq)]
pub enum Content {
    /// Built by siptest from the agent's state and these adjustments.
    Built(Built),
    /// Exactly these bytes after `[variable]` substitution, line ends sent as CRLF.
    Raw(Located<Template>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Built {
    pub uri: Option<Located<Template>>,
    /// Digest credentials answering the latest challenge (`auth`); boxed, as few sends have it.
    pub auth: Option<Box<Auth>>,
    /// In file order.
    pub headers: Vec<HeaderEdit>,
    pub body: BodySpec,
}

/// Add, replace or remove a header of the message siptest builds.
#[derive(Clone, Debug, PartialEq)]
pub struct HeaderEdit {
    /// As written (a compact form stays compact on the wire).
    pub name: Located<String>,
    /// `None` removes the header siptest would add; otherwise one header line per value.
    pub values: Option<Vec<Located<Template>>>,
}

/// The body of an outgoing message.
#[derive(Clone, Debug, PartialEq)]
pub enum BodySpec {
    /// The offer/answer model decides: see `docs/scenarios.md`.
    Auto,
    /// No body (`sdp: none`), e.g. an INVITE without offer.
    Empty,
    Sdp(SdpSpec),
    Text {
        content_type: String,
        text: Located<Template>,
    },
}

/// An SDP body siptest generates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SdpSpec {
    Offer,
    Answer,
    /// A new offer putting the streams on hold (RFC 3264 §8.4).
    Hold(HoldStyle),
    /// A new offer taking them off hold (sendrecv, the real address).
    Unhold,
    Custom(SdpParams),
}

/// Explicit description parameters; what is not given follows the offer/answer model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SdpParams {
    pub direction: Option<Direction>,
    /// Encoding names in preference order (`PCMU`, `PCMA`, `telephone-event`).
    pub codecs: Vec<String>,
    pub connection: Option<IpAddr>,
    /// Port 0 on the audio stream: an answer that rejects it (RFC 3264 §6).
    pub port_zero: bool,
}

/// Wait for a message at one of siptest's agents.
#[derive(Clone, Debug, PartialEq)]
pub struct Expect {
    pub matcher: Located<Matcher>,
    /// The receiving agent (resolved: the agent of the previous step when not written).
    pub at: Located<String>,
    /// The dialog the message must belong to; the first step naming a dialog creates it.
    pub dialog: Option<Located<String>>,
    /// A name `reply_to` can use for the request received here.
    pub label: Option<Located<String>>,
    /// The message may not come; if something else comes, the scenario moves on.
    pub optional: bool,
    /// See [`Expect::timeout_or_default`].
    pub timeout: Option<Duration>,
    pub headers: Vec<HeaderCheck>,
    pub sdp: Option<SdpCheck>,
    pub body: Option<BodyCheck>,
    pub captures: Vec<Capture>,
}

/// Default wait for a request: 32 s (RFC 3261's longest transaction timer with T1 = 500 ms).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(32);

impl Expect {
    /// The timeout, or the default: 64*T1 for a response (Timer B/F, RFC 3261 §17.1.1.2),
    /// 32 s for a request.
    /// The step's `timeout`, else for a request 32 s and for a response 68*T1: Timer B or F
    /// (64*T1 from when the request left, RFC 3261 §17.1.1.2, §17.1.2.2) then always fires
    /// first, so a request that gets no answer is reported one way, not as whichever of the
    /// two happened to come first.
    pub fn timeout_or_default(&self, t1: Duration) -> Duration {
        self.timeout.unwrap_or(if self.matcher.is_request() {
            DEFAULT_REQUEST_TIMEOUT
        } else {
            t1 * 68
        })
    }
}

/// Which messages an expect step accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Matcher {
    /// Exactly this status (`200`).
    Status(u16),
    /// A status class, 1..=6 (`2xx`).
    Class(u8),
    /// An inclusive range of statuses (`180-183`).
    Range(u16, u16),
    /// A request with this method (case-sensitive, RFC 3261 §7.1).
    Method(String),
}

impl Matcher {
    pub fn is_request(&self) -> bool {
        matches!(self, Matcher::Method(_))
    }

    /// Whether a response with `status` matches.
    pub fn matches_status(&self, status: u16) -> bool {
        match self {
            Matcher::Status(s) => *s == status,
            Matcher::Class(c) => status / 100 == u16::from(*c),
            Matcher::Range(lo, hi) => (*lo..=*hi).contains(&status),
            Matcher::Method(_) => false,
        }
    }

    /// Whether a request with `method` matches.
    pub fn matches_method(&self, method: &str) -> bool {
        matches!(self, Matcher::Method(m) if m == method)
    }
}

/// An assertion on one header of a received message.
#[derive(Clone, Debug, PartialEq)]
pub struct HeaderCheck {
    /// As written; compared case-insensitively, compact forms included (`m` is Contact).
    pub name: Located<String>,
    pub assertion: HeaderAssertion,
}

/// What a header must look like. Several header lines of one name are compared as their
/// values joined with ", " (RFC 3261 §7.3.1).
#[derive(Clone, Debug, PartialEq)]
pub enum HeaderAssertion {
    Present,
    Absent,
    /// The whole value, after trimming surrounding whitespace.
    Equals(Located<Template>),
    Contains(Located<Template>),
    /// A regular expression searched in the value (not a template: `[` is regex syntax).
    Matches(Located<String>),
}

/// What the SDP body of a received message must look like.
#[derive(Clone, Debug, PartialEq)]
pub enum SdpCheck {
    Absent,
    /// Present, with these properties (all optional).
    Present(SdpAssertion),
}

/// Properties of a received SDP. `direction`, `connection`, `codecs` and `port_zero` look at
/// the first audio stream (media-level attributes first, then session-level).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SdpAssertion {
    pub direction: Option<Direction>,
    pub connection: Option<IpAddr>,
    /// Each must be offered (by encoding name, case-insensitively); others may be too.
    pub codecs: Vec<String>,
    pub port_zero: Option<bool>,
    /// The number of m= lines.
    pub media: Option<u32>,
}

/// What the body of a received message must look like.
#[derive(Clone, Debug, PartialEq)]
pub enum BodyCheck {
    Absent,
    Present(BodyAssertion),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct BodyAssertion {
    /// The media type (`type/subtype`, compared case-insensitively, parameters ignored).
    pub content_type: Option<String>,
    pub equals: Option<Located<Template>>,
    pub contains: Option<Located<Template>>,
    pub matches: Option<Located<String>>,
}

/// Store part of a received message in a variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capture {
    pub variable: Located<String>,
    pub path: CapturePath,
}

/// The part of a message a capture takes. The written form is in [`CapturePath::parse`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CapturePath {
    FromTag,
    ToTag,
    FromUri,
    ToUri,
    CallId,
    /// The CSeq number.
    CSeq,
    /// The CSeq method.
    Method,
    Status,
    Reason,
    RequestUri,
    /// A whole header value (several lines joined with ", ").
    Header(String),
    /// A parameter of the first value of a header (`header.Via.branch`).
    HeaderParam {
        header: String,
        param: String,
    },
    SdpDirection,
    SdpConnection,
    SdpPort,
    Body,
}

/// Alternatives: the first whose matcher (and assertions) fit the next message is taken.
#[derive(Clone, Debug, PartialEq)]
pub struct OneOf {
    /// At least two; none is optional on its own, and they carry no timeout.
    pub alternatives: Vec<Located<Expect>>,
    pub optional: bool,
    /// For the group; the longest default of its alternatives when not given.
    pub timeout: Option<Duration>,
}

impl OneOf {
    /// The timeout, or the longest default of the alternatives.
    pub fn timeout_or_default(&self, t1: Duration) -> Duration {
        self.timeout
            .unwrap_or_else(|| longest(&self.alternatives, t1))
    }
}

fn longest(entries: &[Located<Expect>], t1: Duration) -> Duration {
    let defaults = entries.iter().map(|e| e.timeout_or_default(t1));
    defaults.max().unwrap_or(DEFAULT_REQUEST_TIMEOUT)
}

/// Entries that must all match, in any order (an entry may be optional).
#[derive(Clone, Debug, PartialEq)]
pub struct Unordered {
    /// At least two; they carry no timeout.
    pub entries: Vec<Located<Expect>>,
    /// For the group; the longest default of its entries when not given.
    pub timeout: Option<Duration>,
}

impl Unordered {
    /// The timeout, or the longest default of the entries.
    pub fn timeout_or_default(&self, t1: Duration) -> Duration {
        self.timeout.unwrap_or_else(|| longest(&self.entries, t1))
    }
}

/// Nothing matching `expect` may arrive at its agent within `within`.
#[derive(Clone, Debug, PartialEq)]
pub struct Not {
    /// Never optional, never with captures, timeout or label.
    pub expect: Expect,
    pub within: Duration,
}

/// How long a `wait` step waits: a fixed time, or a multiple of the run's T1 (`6*T1`), so that
/// a scenario about retransmissions waits as long against a device with T1 = 500 ms as
/// against the built-in UA at 25 ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delay {
    Fixed(Duration),
    T1Times(u32),
}

impl Delay {
    /// The delay for a run whose T1 is `t1`.
    pub fn at(self, t1: Duration) -> Duration {
        match self {
            Delay::Fixed(d) => d,
            Delay::T1Times(n) => t1.saturating_mul(n),
        }
    }
}
