//! REGISTER as a client (RFC 3261 §10.2), answering digest challenges (RFC 3261 §22.2,
//! RFC 7616, RFC 8760).
//!
//! - One registration per (registrar, user): the same Call-ID for all its REGISTERs and a
//!   CSeq one higher each time (RFC 3261 §10.2); `expires: 0` unregisters with them.
//! - A 401/407 is answered with the strongest algorithm offered (SHA-256 over MD5, RFC 8760
//!   §2.4), qop=auth with a cnonce and a nonce count per nonce (RFC 7616 §3.4). A challenge
//!   to a request that already carried credentials is answered only when it says
//!   `stale=true` (RFC 3261 §22.2: rejected credentials are not retried).
//! - A 423 is answered once with the registrar's Min-Expires (RFC 3261 §10.2.8).
//! - The registration is refreshed when 90% of the granted time has passed (RFC 3261
//!   §10.2.4 leaves the moment to the UA); the refresh is challenged like the first one.

use super::action::ActError;
use super::invite_uac::uri_addr;
use super::{Timer, UaCore};
use crate::check::matching::uri_key;
use crate::engine::compose::{self, NewRequest};
use crate::net::TxId;
use crate::sip::addr::{parse_contact, parse_name_addr, ContactValue};
use crate::sip::headers::auth::{digest_response, parse_challenge, Challenge, DigestAlgorithm};
use crate::sip::headers::{parse_expires, parse_min_expires};
use crate::sip::message::Message;
use crate::sip::HeaderName;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

/// Consecutive challenges answered before giving up.
const MAX_CHALLENGES: u32 = 3;

/// One registration of ours.
#[derive(Clone, Debug)]
pub(super) struct Registration {
    pub id: u64,
    /// The registrar's peer key (host:port).
    pub peer: String,
    pub user: String,
    pub password: String,
    /// Request-URI: the registrar's domain, no user part (RFC 3261 §10.2).
    pub registrar_uri: String,
    /// To and From: the address of record (RFC 3261 §10.2).
    pub aor: String,
    pub addr: SocketAddr,
    pub call_id: String,
    pub from_tag: String,
    pub cseq: u32,
    /// The expiration asked for.
    pub expires: u32,
    /// The REGISTER without a final response yet.
    pub tx: Option<TxId>,
    /// The pending REGISTER carried credentials.
    pub sent_credentials: bool,
    pub challenges: u32,
    pub min_expires_retried: bool,
    /// Nonce counts per nonce (RFC 7616 §3.4).
    pub nonce_counts: HashMap<String, u32>,
    /// Until when the registrar holds our binding (after a 2xx).
    pub registered_until: Option<Instant>,
    pub last_status: Option<u16>,
}

fn err(reason: impl Into<String>) -> ActError {
    ActError {
        action: "register",
        reason: reason.into(),
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Strength order of the algorithms: SHA-256 over MD5 (RFC 8760 §2.4), plain over -sess.
fn strength(a: DigestAlgorithm) -> u8 {
    match a {
        DigestAlgorithm::Sha256 => 4,
        DigestAlgorithm::Sha256Sess => 3,
        DigestAlgorithm::Md5 => 2,
        DigestAlgorithm::Md5Sess => 1,
    }
}

/// The challenge to answer: Digest, an algorithm we compute, qop absent or offering `auth`;
/// the strongest algorithm wins.
pub(super) fn best_challenge(values: &[String]) -> Option<(Challenge, DigestAlgorithm)> {
    values
        .iter()
        .filter_map(|v| parse_challenge(v).ok())
        .filter(|c| c.is_digest())
        .filter(|c| c.qop_options().is_empty() || c.qop_options().contains(&"auth"))
        .filter_map(|c| c.digest_algorithm().map(|a| (c, a)))
        .max_by_key(|(_, a)| strength(*a))
}

/// Digest credentials for `challenge` (RFC 7616 §3.4; RFC 3261 §22.4): qop=auth with `cnonce`
/// and `nc` when the challenge offers qop, the RFC 2069 form otherwise.
#[allow(clippy::too_many_arguments)]
pub(super) fn credentials(
    challenge: &Challenge,
    algorithm: DigestAlgorithm,
    user: &str,
    password: &str,
    method: &str,
    uri: &str,
    cnonce: &str,
    nc: u32,
) -> String {
    let realm = challenge.realm().unwrap_or_default();
    let nonce = challenge.nonce().unwrap_or_default();
    let with_qop = !challenge.qop_options().is_empty();
    let nc_text = format!("{nc:08x}");
    let qop = with_qop.then_some((cnonce, nc_text.as_str()));
    let response = digest_response(algorithm, user, realm, password, method, uri, nonce, qop);
    let mut v = format!(
        "Digest username={}, realm={}, nonce={}, uri={}, response={}, algorithm={}",
        quote(user),
        quote(realm),
        quote(nonce),
        quote(uri),
        quote(&response),
        algorithm.name()
    );
    if with_qop {
        v.push_str(&format!(
            ", qop=auth, nc={nc_text}, cnonce={}",
            quote(cnonce)
        ));
    }
    if let Some(o) = challenge.opaque() {
        v.push_str(&format!(", opaque={}", quote(o)));
    }
    v
}

/// The expiration a 2xx to REGISTER grants our contact (RFC 3261 §10.2.4): its Contact's
/// `expires`, else the Expires header, else what we asked.
fn granted(ok: &Message, our_contact: &str, asked: u32) -> u32 {
    let ours = parse_name_addr(our_contact.trim())
        .ok()
        .map(|a| uri_key(&a.uri));
    for h in ok.headers_named(HeaderName::Contact) {
        if let Ok(ContactValue::Addresses(list)) = parse_contact(&ok.value(h)) {
            for a in list {
                if Some(uri_key(&a.uri)) == ours {
                    if let Some(Ok(e)) = a.expires() {
                        return e;
                    }
                }
            }
        }
    }
    ok.first_value(HeaderName::Expires)
        .and_then(|v| parse_expires(&v).ok())
        .unwrap_or(asked)
}

impl UaCore {
    /// The `register` action: REGISTER at `peer` (RFC 3261 §10.2); `expires: 0` unregisters
    /// (§10.2.2) with the registration's Call-ID and the next CSeq.
    pub(super) fn register(
        &mut self,
        _now: Instant,
        peer: &str,
        user: &str,
        password: &str,
        expires: u32,
    ) -> Result<(), ActError> {
        let addr = uri_addr(peer)
            .ok_or_else(|| err(format!("`{peer}` is not a sip: URI with an IP address")))?;
        let key = Self::peer_key(peer);
        let i = match self
            .registrations
            .iter()
            .position(|r| r.peer == key && r.user == user)
        {
            Some(i) => {
                let r = &mut self.registrations[i];
                r.cseq += 1; // RFC 3261 §10.2: same Call-ID, CSeq one higher
                i
            }
            None => {
                let call_id = format!(
                    "{}@{}",
                    self.wire.token(),
                    crate::engine::target::uri_host(self.wire.local().ip())
                );
                let id = self.new_call_id();
                self.registrations.push(Registration {
                    id,
                    peer: key.clone(),
                    user: user.to_string(),
                    password: String::new(),
                    registrar_uri: format!("sip:{key}"),
                    aor: format!("sip:{user}@{key}"),
                    addr,
                    call_id,
                    from_tag: self.wire.token(),
                    cseq: 1,
                    expires,
                    tx: None,
                    sent_credentials: false,
                    challenges: 0,
                    min_expires_retried: false,
                    nonce_counts: HashMap::new(),
                    registered_until: None,
                    last_status: None,
                });
                self.registrations.len() - 1
            }
        };
        let r = &mut self.registrations[i];
        r.password = password.to_string();
        r.expires = expires;
        r.challenges = 0;
        r.min_expires_retried = false;
        let id = r.id;
        self.timers
            .retain(|(_, t)| !matches!(t, Timer::RegisterRefresh { reg } if *reg == id));
        self.send_register(i, None)
    }

    /// Sends registration `i`'s REGISTER with its current CSeq, and credentials when given
    /// (header name, value).
    fn send_register(&mut self, i: usize, auth: Option<(&str, String)>) -> Result<(), ActError> {
        let via = self.wire.new_via();
        let contact = self.contact();
        let r = &self.registrations[i];
        let mut d = compose::new_request(&NewRequest {
            method: "REGISTER",
            request_uri: &r.registrar_uri,
            from: (None, &r.aor),
            from_tag: &r.from_tag,
            to: (None, &r.aor),
            call_id: &r.call_id,
            cseq: r.cseq,
            via: &via,
            contact: Some(&contact),
        });
        // RFC 3261 §10.2.1.1: the expiration for every contact of the request.
        d.push("Expires", r.expires.to_string());
        let sent_credentials = auth.is_some();
        if let Some((name, value)) = auth {
            d.push(name, value);
        }
        let addr = r.addr;
        let (tx, _) = self.send("register", &d, addr)?;
        let r = &mut self.registrations[i];
        r.tx = Some(tx);
        r.sent_credentials = sent_credentials;
        Ok(())
    }

    /// A response to one of our REGISTERs; true when it was one.
    pub(super) fn on_registration_response(
        &mut self,
        now: Instant,
        tx: TxId,
        msg: &Message,
    ) -> bool {
        let Some(i) = self.registrations.iter().position(|r| r.tx == Some(tx)) else {
            return false;
        };
        let status = msg.status().unwrap_or(0);
        if status < 200 {
            return true;
        }
        self.registrations[i].tx = None;
        self.registrations[i].last_status = Some(status);
        let outcome = match status {
            200..=299 => {
                self.registration_ok(now, i, msg);
                Ok(())
            }
            401 | 407 => self.answer_challenge(i, status, msg),
            423 => self.retry_min_expires(i, msg),
            _ => Err(err(format!("the registrar answered {status}"))),
        };
        if let Err(e) = outcome {
            self.notes.push(e.to_string());
        }
        true
    }

    /// A 2xx: the registration holds for the granted time and is refreshed at 90% of it.
    fn registration_ok(&mut self, now: Instant, i: usize, msg: &Message) {
        let contact = self.contact();
        let r = &mut self.registrations[i];
        r.challenges = 0;
        if r.expires == 0 {
            r.registered_until = None;
            return;
        }
        let secs = granted(msg, &contact, r.expires);
        if secs == 0 {
            r.registered_until = None;
            return;
        }
        let held = Duration::from_secs(u64::from(secs));
        r.registered_until = Some(now + held);
        let id = r.id;
        self.schedule(now + held * 9 / 10, Timer::RegisterRefresh { reg: id });
    }

    /// 401/407 (RFC 3261 §22.2): the same request again with credentials and the next CSeq.
    fn answer_challenge(&mut self, i: usize, status: u16, msg: &Message) -> Result<(), ActError> {
        let (challenge_header, credentials_header) = if status == 401 {
            (HeaderName::WwwAuthenticate, "Authorization")
        } else {
            (HeaderName::ProxyAuthenticate, "Proxy-Authorization")
        };
        let (challenge, algorithm) =
            best_challenge(&msg.values(challenge_header)).ok_or_else(|| {
                err(format!(
                    "no Digest challenge with a usable algorithm and qop in the {status}"
                ))
            })?;
        let r = &self.registrations[i];
        if r.sent_credentials && !challenge.stale() {
            return Err(err(format!(
                "the registrar rejected the credentials of `{}` ({status})",
                r.user
            )));
        }
        if r.challenges >= MAX_CHALLENGES {
            return Err(err(format!("{MAX_CHALLENGES} challenges in a row")));
        }
        let cnonce = format!("{:016x}", self.rng.next_u64());
        let r = &mut self.registrations[i];
        let nonce = challenge.nonce().unwrap_or_default().to_string();
        let nc = r.nonce_counts.entry(nonce).or_insert(0);
        *nc += 1;
        let value = credentials(
            &challenge,
            algorithm,
            &r.user,
            &r.password,
            "REGISTER",
            &r.registrar_uri,
            &cnonce,
            *nc,
        );
        r.challenges += 1;
        r.cseq += 1;
        self.send_register(i, Some((credentials_header, value)))
    }

    /// 423 Interval Too Brief (RFC 3261 §10.2.8): once more with the Min-Expires asked for.
    fn retry_min_expires(&mut self, i: usize, msg: &Message) -> Result<(), ActError> {
        let min = msg
            .first_value(HeaderName::MinExpires)
            .and_then(|v| parse_min_expires(&v).ok())
            .ok_or_else(|| err("423 without a valid Min-Expires"))?;
        let r = &mut self.registrations[i];
        if r.min_expires_retried || min <= r.expires {
            return Err(err(format!(
                "423 with Min-Expires {min} for expires {}",
                r.expires
            )));
        }
        r.min_expires_retried = true;
        r.expires = min;
        r.cseq += 1;
        self.send_register(i, None)
    }

    /// Timer F or a transport error ended REGISTER `tx` (RFC 3261 §17.1.2.2): the
    /// registration is not held any more; a later `register` action starts again.
    pub(super) fn on_registration_failed(&mut self, tx: TxId) {
        if let Some(r) = self.registrations.iter_mut().find(|r| r.tx == Some(tx)) {
            r.tx = None;
            r.registered_until = None;
            r.last_status = Some(408);
            self.notes
                .push(format!("REGISTER to {} got no response", r.registrar_uri));
        }
    }

    /// Timer::RegisterRefresh: REGISTER again before the binding expires (RFC 3261 §10.2.4).
    pub(super) fn refresh_registration(&mut self, _now: Instant, reg: u64) {
        let Some(i) = self.registrations.iter().position(|r| r.id == reg) else {
            return;
        };
        let r = &mut self.registrations[i];
        if r.expires == 0 || r.tx.is_some() {
            return;
        }
        r.cseq += 1;
        r.challenges = 0;
        if let Err(e) = self.send_register(i, None) {
            self.notes.push(e.to_string());
        }
    }
}
