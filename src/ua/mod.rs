//! The built-in reference user agent: the default target of `siptest run` and, as
//! `siptest ua --listen`, a standalone UA other tools can test against.
//!
//! [`UaCore`] is the agent's logic. Like the engine's agents it reads no clock and owns no
//! socket: it is fed the events of its endpoint with the time they came at
//! ([`UaCore::on_event`]), woken at [`UaCore::poll_timeout`], and given actions from a driver
//! ([`UaCore::act`]); it sends through a [`Wire`]. [`shell`] runs it on tokio.
//!
//! Without quirks it behaves as RFC 3261 and the extensions it lists in Supported say; each
//! [`Quirk`] switches on one misbehaviour. Its behaviour is documented in `docs/ua.md`.

pub mod action;
mod call;
mod digest_server;
mod dispatch;
mod glare;
mod invite_uac;
mod invite_uas;
mod notify;
mod prack;
mod proxy;
pub mod quirk;
mod refer;
mod register;
mod register_client;
mod respond;
pub mod shell;
mod subscribe;
#[cfg(test)]
pub(super) mod test_wire;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_events;
#[cfg(test)]
mod tests_prack;
#[cfg(test)]
mod tests_proxy;
#[cfg(test)]
mod tests_register;
pub mod variation;

pub use action::{ActError, Action, AnswerPlan, HoldHow, RespondPlan};
pub use quirk::{parse_quirk_list, Quirk, QuirkInfo, Quirks, UnknownQuirk};
pub use variation::{parse_variation_list, UnknownVariation, Variation, VariationInfo, Variations};

use crate::engine::sdp_gen::SdpContext;
use crate::engine::wire::Wire;
use crate::net::{EndpointEvent, TxId};
use crate::sip::message::Message;
use call::Call;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The methods the UA implements, as its Allow header lists them (RFC 3261 §20.5).
pub const ALLOW: &str =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, INFO, UPDATE, PRACK, REFER, SUBSCRIBE, NOTIFY, REGISTER";
/// The option tags it supports (RFC 3261 §20.37): reliable provisionals (RFC 3262), Replaces
/// (RFC 3891), session timers (RFC 4028), REFER without subscription (RFC 4488).
pub const SUPPORTED: &str = "100rel, replaces, timer, norefersub";
/// The event packages it serves (RFC 6665 §8.2.2).
pub const ALLOW_EVENTS: &str = "refer, dialog";
/// The bodies it understands (RFC 3261 §20.1).
pub const ACCEPT: &str = "application/sdp, text/plain, message/sipfrag";
/// The option tags [`SUPPORTED`] lists, for Require checks (RFC 3261 §8.2.2.3).
pub const SUPPORTED_TAGS: &[&str] = &["100rel", "replaces", "timer", "norefersub"];

/// How a UA is set up.
#[derive(Clone, Debug)]
pub struct UaConfig {
    /// The user part of its URI (Contact, From of its requests).
    pub user: String,
    pub quirks: Quirks,
    /// Legal variations of its behaviour (`variation.rs`).
    pub variations: Variations,
    /// T1 and T2 of its own retransmissions (2xx, reliable provisionals).
    pub t1: Duration,
    pub t2: Duration,
    /// How INVITEs are answered unless a driver says otherwise.
    pub answer: AnswerPlan,
    /// The registrar's realm and the password it accepts for every user (digest, RFC 3261
    /// §22.4).
    pub realm: String,
    pub password: String,
    /// How long a registrar nonce stays fresh; a correct response with an older nonce gets
    /// 401 with `stale=true` (RFC 7616 §3.3).
    pub nonce_lifetime: Duration,
}

impl Default for UaConfig {
    fn default() -> Self {
        UaConfig {
            user: "ua".into(),
            quirks: Quirks::default(),
            variations: Variations::default(),
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            answer: AnswerPlan::default(),
            realm: "siptest".into(),
            password: "siptest".into(),
            nonce_lifetime: Duration::from_secs(30),
        }
    }
}

/// Something the UA must do at a given time.
#[derive(Clone, Debug)]
enum Timer {
    /// The next step of the answer plan of call `call` (a provisional, the final).
    AnswerStep { call: u64 },
    /// Retransmit call `call`'s 2xx (RFC 3261 §13.3.1.4) or reliable provisional (RFC 3262
    /// §3).
    Retransmit { call: u64 },
    /// Answer non-INVITE server transaction `tx` late (a [`RespondPlan`]).
    LateResponse {
        tx: TxId,
        request: Message,
        from: SocketAddr,
        status: u16,
    },
    /// Give up on an unanswerable non-INVITE: nothing is sent (RFC 4320 §4.2) unless the
    /// `408-to-non-invite` quirk is on.
    NonInviteGiveUp {
        tx: TxId,
        request: Message,
        from: SocketAddr,
    },
    /// Retry call `call`'s re-INVITE that met a 491 (RFC 3261 §14.1).
    GlareRetry {
        call: u64,
        purpose: call::Purpose,
        sdp: Option<Vec<u8>>,
    },
    /// Refresh registration `reg` before it expires (RFC 3261 §10.2.4).
    RegisterRefresh { reg: u64 },
    /// Subscription `sub` we serve may have expired (RFC 6665 §4.2.2).
    SubscriptionExpiry { sub: u64 },
}

/// A request as it reached the UA.
#[derive(Clone, Debug)]
struct Rx {
    tx: TxId,
    msg: Message,
    from: SocketAddr,
    method: String,
}

/// The reference UA's logic. See the module documentation.
pub struct UaCore {
    cfg: UaConfig,
    wire: Arc<dyn Wire>,
    calls: Vec<Call>,
    next_call: u64,
    timers: Vec<(Instant, Timer)>,
    /// Answer plans per peer (an agent's URI host:port), set by drivers.
    answer_plans: HashMap<String, AnswerPlan>,
    /// Non-INVITE plans per (peer, method).
    respond_plans: HashMap<(String, String), RespondPlan>,
    sdp: SdpContext,
    /// The registrar: digest nonces and bindings (RFC 3261 §10.3).
    registrar: register::Registrar,
    /// Our registrations as a client (RFC 3261 §10.2).
    registrations: Vec<register_client::Registration>,
    /// Reliable provisional state (RFC 3262) beyond what `Call` keeps.
    prack: prack::PrackState,
    /// The response contexts of the proxy mode (RFC 3261 §16).
    proxy: proxy::Proxy,
    /// Random numbers: RSeq starts, nonces, cnonces, glare delays.
    rng: crate::net::Pcg32,
    /// Subscriptions (RFC 6665) and transfers (RFC 3515) in progress.
    events: notify::Events,
    /// Problems the UA noticed in what it received (kept for its log).
    pub notes: Vec<String>,
}

impl UaCore {
    pub fn new(cfg: UaConfig, wire: Arc<dyn Wire>) -> UaCore {
        let local = wire.local();
        let session_id = u64::from(local.port()) * 1000 + 7;
        let seed = {
            use std::hash::{BuildHasher, Hasher};
            // RandomState is keyed randomly per process: a seed no run can predict.
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u16(local.port());
            h.finish()
        };
        UaCore {
            registrar: register::Registrar::new(&cfg),
            registrations: Vec::new(),
            prack: prack::PrackState::default(),
            proxy: proxy::Proxy::default(),
            rng: crate::net::Pcg32::new(seed),
            events: notify::Events::default(),
            cfg,
            sdp: SdpContext {
                address: local.ip(),
                session_id,
                version: 0,
                port: crate::engine::agent::media_port(local.port()),
            },
            wire,
            calls: Vec::new(),
            next_call: 1,
            timers: Vec::new(),
            answer_plans: HashMap::new(),
            respond_plans: HashMap::new(),
            notes: Vec::new(),
        }
    }

    pub fn config(&self) -> &UaConfig {
        &self.cfg
    }

    fn quirk(&self, q: Quirk) -> bool {
        self.cfg.quirks.has(q)
    }

    fn variation(&self, v: Variation) -> bool {
        self.cfg.variations.has(v)
    }

    /// The UA's URI: `sip:user@host:port`.
    pub fn uri(&self) -> String {
        crate::engine::compose::sip_uri(&self.cfg.user, self.wire.local())
    }

    fn contact(&self) -> String {
        crate::engine::compose::contact(&self.cfg.user, self.wire.local(), self.wire.transport())
    }

    /// A new SDP context with the next o= version (RFC 3264 §8).
    fn next_sdp(&mut self) -> SdpContext {
        self.sdp.version += 1;
        self.sdp
    }

    /// An event of the UA's endpoint, at `now`.
    pub fn on_event(&mut self, now: Instant, ev: EndpointEvent) {
        // RFC 3261 §16: requests for other hosts, and the responses and timeouts of the
        // transactions that forward them, go to the proxy mode.
        let Some(ev) = self.proxy_filter(now, ev) else {
            return;
        };
        match ev {
            EndpointEvent::Request { tx, msg, from } => {
                let method = msg.method().map(|m| m.into_owned()).unwrap_or_default();
                self.on_request(
                    now,
                    Rx {
                        tx,
                        msg,
                        from,
                        method,
                    },
                );
            }
            EndpointEvent::Response { tx, msg } => self.on_response(now, tx, msg),
            EndpointEvent::Stray { msg, from } if msg.is_request() => {
                // An ACK to a 2xx (RFC 3261 §17.1.1.3: no transaction) or a request the core
                // could not file.
                if msg.method().as_deref() == Some("ACK") {
                    self.on_ack(now, &msg, from);
                }
            }
            EndpointEvent::Stray { msg, .. } => {
                // A retransmitted 2xx of a call of ours: ACK it again (RFC 3261 §13.2.2.4).
                self.on_stray_response(&msg);
            }
            EndpointEvent::Timeout { tx, .. } | EndpointEvent::TransportError { tx, .. } => {
                self.on_transaction_failed(now, tx)
            }
            EndpointEvent::Garbage { .. } => {}
        }
    }

    /// When the UA must be woken next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.iter().map(|(at, _)| *at).min()
    }

    /// Does what is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        loop {
            let Some(i) = self
                .timers
                .iter()
                .enumerate()
                .filter(|(_, (at, _))| *at <= now)
                .min_by_key(|(_, (at, _))| *at)
                .map(|(i, _)| i)
            else {
                return;
            };
            let (_, timer) = self.timers.swap_remove(i);
            self.fire(now, timer);
        }
    }

    fn schedule(&mut self, at: Instant, timer: Timer) {
        self.timers.push((at, timer));
    }

    fn fire(&mut self, now: Instant, timer: Timer) {
        match timer {
            Timer::AnswerStep { call } => self.answer_step(now, call),
            Timer::Retransmit { call } => self.retransmit(now, call),
            Timer::LateResponse {
                tx,
                request,
                from,
                status,
            } => {
                let rx = Rx {
                    method: request.method().map(|m| m.into_owned()).unwrap_or_default(),
                    tx,
                    msg: request,
                    from,
                };
                self.answer_non_invite(now, &rx, status);
            }
            Timer::NonInviteGiveUp { tx, request, from } => {
                if self.quirk(Quirk::Timeout408) {
                    // The quirk: a 408 to a non-INVITE (RFC 4320 §4.2 forbids it). The
                    // transaction layer refuses it, so it goes out statelessly.
                    let rx = Rx {
                        method: request.method().map(|m| m.into_owned()).unwrap_or_default(),
                        tx,
                        msg: request,
                        from,
                    };
                    let tag = rx.msg.to_tag().is_none().then(|| self.wire.token());
                    self.respond_raw(&rx, 408, tag.as_deref());
                }
            }
            Timer::GlareRetry { call, purpose, sdp } => self.glare_retry(now, call, purpose, sdp),
            Timer::RegisterRefresh { reg } => self.refresh_registration(now, reg),
            Timer::SubscriptionExpiry { sub } => self.on_subscription_expiry(now, sub),
        }
    }

    /// The peer key of a URI or address: `host:port` as written in the URI.
    fn peer_key(uri: &str) -> String {
        let s = uri.trim().trim_start_matches('<').trim_end_matches('>');
        let s = s.split(';').next().unwrap_or(s);
        let s = s
            .strip_prefix("sips:")
            .or_else(|| s.strip_prefix("sip:"))
            .unwrap_or(s);
        let s = s.rsplit_once('@').map_or(s, |(_, h)| h);
        s.to_ascii_lowercase()
    }

    /// The peer key of a received request: its From URI's host and port.
    fn peer_of(msg: &Message) -> String {
        let from = msg
            .first_value(crate::sip::HeaderName::From)
            .map(|v| v.into_owned())
            .unwrap_or_default();
        let uri = from
            .split_once('<')
            .and_then(|(_, r)| r.split_once('>'))
            .map_or_else(
                || from.split(';').next().unwrap_or("").to_string(),
                |(u, _)| u.to_string(),
            );
        Self::peer_key(&uri)
    }

    /// Carries out a driver's action.
    pub fn act(&mut self, now: Instant, action: Action) -> Result<(), ActError> {
        match action {
            Action::Answer { peers, plan } => {
                for p in peers {
                    self.answer_plans.insert(Self::peer_key(&p), plan.clone());
                }
                Ok(())
            }
            Action::Respond { peers, plan } => {
                for p in peers {
                    self.respond_plans
                        .insert((Self::peer_key(&p), plan.method.clone()), plan.clone());
                }
                Ok(())
            }
            other => self.act_on_calls(now, other),
        }
    }

    fn call_index(&self, id: u64) -> Option<usize> {
        self.calls.iter().position(|c| c.id == id)
    }

    fn new_call_id(&mut self) -> u64 {
        let id = self.next_call;
        self.next_call += 1;
        id
    }

    /// Ended calls are dropped once nothing refers to them any more.
    fn sweep(&mut self) {
        let timers = &self.timers;
        self.calls.retain(|c| {
            !c.is_finished()
                || timers.iter().any(|(_, t)| {
                    matches!(t, Timer::AnswerStep { call } | Timer::Retransmit { call } if *call == c.id)
                })
        });
    }
}
