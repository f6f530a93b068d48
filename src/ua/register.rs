//! REGISTER as registrar (RFC 3261 §10.3) with digest authentication (RFC 3261 §22.4,
//! RFC 7616, RFC 8760 SHA-256, qop=auth, stale nonces). The client side is in
//! `register_client.rs`.
//!
//! Choices where the RFCs leave room:
//! - Credentials that do not authenticate (wrong password, replayed nc, unknown nonce) get
//!   401 with fresh challenges every time, never 403: a client must not retry credentials
//!   that were just rejected (RFC 3261 §22.2), so there is no loop to break.
//! - A request that fails RFC 3261 §10.3 step 6 or 7 (same Call-ID, CSeq not higher than the
//!   binding's) gets 400: the RFC says only that "the request fails"; it is the client's
//!   request that is out of order, not the server that is broken.
//! - Any username is accepted with [`super::UaConfig::password`], for any AOR (step 4).

use super::digest_server::{DigestServer, Verdict};
use super::respond::Reply;
use super::{Quirk, Rx, UaConfig, UaCore};
use crate::check::matching::uri_key;
use crate::sip::addr::{parse_contact, ContactValue, NameAddr};
use crate::sip::headers::auth::parse_credentials;
use crate::sip::headers::parse_expires;
use crate::sip::HeaderName;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// Expiration when neither the Contact nor the request says (RFC 3261 §10.2.1.1 suggests
/// one hour; §10.3 step 7: "a locally-configured default value").
pub(super) const DEFAULT_EXPIRES: u32 = 3600;
/// The shortest registration accepted (RFC 3261 §10.3 step 7, §20.23).
pub(super) const MIN_EXPIRES: u32 = 60;

/// One Contact bound to an AOR (RFC 3261 §10.3 step 7).
#[derive(Clone, Debug)]
pub(super) struct Binding {
    /// The contact URI reduced for comparison (RFC 3261 §19.1.4).
    key: String,
    /// The contact URI as registered.
    uri: String,
    call_id: String,
    cseq: u32,
    expires_at: Instant,
}

/// The registrar's state.
#[derive(Debug)]
pub(super) struct Registrar {
    digest: DigestServer,
    /// Bindings per AOR key (the To URI in canonical form, step 5).
    bindings: HashMap<String, Vec<Binding>>,
}

impl Registrar {
    pub fn new(cfg: &UaConfig) -> Registrar {
        let sha256 = !cfg.quirks.has(Quirk::Sha256Unsupported);
        Registrar {
            digest: DigestServer::new(&cfg.realm, &cfg.password, cfg.nonce_lifetime, sha256),
            bindings: HashMap::new(),
        }
    }
}

/// A REGISTER's contacts: `*`, or addresses with the expiration each asks for.
enum Contacts {
    Star,
    List(Vec<(NameAddr, u32)>),
}

/// Why a REGISTER fails before any binding changes.
struct Refusal {
    status: u16,
    headers: Vec<(String, String)>,
    note: String,
}

fn refuse(status: u16, note: impl Into<String>) -> Refusal {
    Refusal {
        status,
        headers: Vec::new(),
        note: note.into(),
    }
}

/// RFC 3261 §10.3 step 5: the To URI with its parameters removed, in canonical form.
fn aor_key(msg: &crate::sip::message::Message) -> Option<String> {
    let mut uri = msg.to_addr()?.uri;
    uri.params.clear();
    uri.headers.clear();
    Some(uri_key(&uri))
}

/// The Contacts of a REGISTER with their expiration (RFC 3261 §10.2.1.1: the Contact's
/// `expires` parameter, else the Expires header, else the default).
fn contacts_of(
    msg: &crate::sip::message::Message,
    header_expires: Option<u32>,
) -> Result<Contacts, Refusal> {
    let mut star = false;
    let mut list = Vec::new();
    for h in msg.headers_named(HeaderName::Contact) {
        match parse_contact(&msg.value(h)) {
            Ok(ContactValue::Star) => star = true,
            Ok(ContactValue::Addresses(a)) => list.extend(a),
            Err(e) => return Err(refuse(400, format!("Contact: {e}"))),
        }
    }
    if star {
        // RFC 3261 §10.3 step 6: `*` must be alone and come with Expires: 0.
        if !list.is_empty() || header_expires != Some(0) {
            return Err(refuse(
                400,
                "Contact: * with other contacts or without Expires: 0",
            ));
        }
        return Ok(Contacts::Star);
    }
    let mut out = Vec::with_capacity(list.len());
    for a in list {
        let expires = match a.expires() {
            Some(Ok(e)) => e,
            Some(Err(e)) => return Err(refuse(400, format!("Contact expires: {e}"))),
            None => header_expires.unwrap_or(DEFAULT_EXPIRES),
        };
        out.push((a, expires));
    }
    Ok(Contacts::List(out))
}

/// RFC 3261 §10.3 step 7: a request with the Call-ID of a binding must have a higher CSeq.
fn out_of_order(b: &Binding, call_id: &str, cseq: u32) -> Option<Refusal> {
    (b.call_id == call_id && cseq <= b.cseq).then(|| {
        refuse(
            400,
            format!(
                "CSeq {cseq} not above the binding's {} for Call-ID {call_id}",
                b.cseq
            ),
        )
    })
}

/// The new bindings of an AOR after a REGISTER, or why it fails (nothing is changed then:
/// step 7 commits all updates or none).
fn updated(
    mut current: Vec<Binding>,
    contacts: Contacts,
    call_id: &str,
    cseq: u32,
    now: Instant,
) -> Result<Vec<Binding>, Refusal> {
    let list = match contacts {
        Contacts::Star => {
            // RFC 3261 §10.3 step 6: remove every binding, unless one has this Call-ID and a
            // CSeq not lower than the request's.
            if let Some(r) = current.iter().find_map(|b| out_of_order(b, call_id, cseq)) {
                return Err(r);
            }
            return Ok(Vec::new());
        }
        Contacts::List(list) => list,
    };
    for (addr, expires) in list {
        if expires != 0 && expires < MIN_EXPIRES {
            // RFC 3261 §10.3 step 7: 423 Interval Too Brief with Min-Expires (§20.23).
            let mut r = refuse(423, format!("expires {expires} below {MIN_EXPIRES}"));
            r.headers
                .push(("Min-Expires".into(), MIN_EXPIRES.to_string()));
            return Err(r);
        }
        let key = uri_key(&addr.uri);
        let existing = current.iter().position(|b| b.key == key);
        if let Some(r) = existing.and_then(|i| out_of_order(&current[i], call_id, cseq)) {
            return Err(r);
        }
        if let Some(i) = existing {
            current.remove(i);
        }
        if expires > 0 {
            current.push(Binding {
                key,
                uri: addr.uri.to_string(),
                call_id: call_id.to_string(),
                cseq,
                expires_at: now + Duration::from_secs(u64::from(expires)),
            });
        }
    }
    Ok(current)
}

/// The time as a SIP-date (RFC 3261 §20.17, RFC 1123): `Sat, 13 Nov 2010 23:29:00 GMT`.
pub(super) fn sip_date(t: SystemTime) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (eras of 400 years, March-based years).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[(days.rem_euclid(7)) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

impl UaCore {
    /// REGISTER (RFC 3261 §10.3): authenticate (step 3), then update the AOR's bindings
    /// (steps 5-7) and list them in the 200 (step 8).
    pub(super) fn on_register(&mut self, now: Instant, rx: Rx) {
        let creds: Vec<_> = rx
            .msg
            .values(HeaderName::Authorization)
            .iter()
            .filter_map(|v| parse_credentials(v).ok())
            .collect();
        match self.registrar.digest.verify(now, &rx.method, &creds) {
            Verdict::Accepted { .. } => {}
            Verdict::Missing => return self.challenge(now, &rx, false),
            Verdict::Stale => return self.challenge(now, &rx, true),
            Verdict::Rejected(why) => {
                self.notes.push(format!("REGISTER: {why}"));
                return self.challenge(now, &rx, false);
            }
        }
        match self.update_bindings(now, &rx) {
            Ok(aor) => self.registered(&rx, &aor, now),
            Err(r) => {
                self.notes.push(format!("REGISTER: {}", r.note));
                let tag = self.wire.token();
                let mut reply = Reply::tagged(&tag);
                reply.headers = r.headers;
                self.respond(&rx, r.status, reply);
            }
        }
    }

    /// 401 with one challenge per algorithm (RFC 3261 §22.4, RFC 8760 §2.4).
    fn challenge(&mut self, now: Instant, rx: &Rx, stale: bool) {
        let challenges = self.registrar.digest.challenges(now, &mut self.rng, stale);
        let tag = self.wire.token();
        let mut reply = Reply::tagged(&tag);
        for c in challenges {
            reply = reply.header("WWW-Authenticate", c);
        }
        self.respond(rx, 401, reply);
    }

    /// Steps 5-7: the AOR key, with its bindings updated.
    fn update_bindings(&mut self, now: Instant, rx: &Rx) -> Result<String, Refusal> {
        let aor = aor_key(&rx.msg).ok_or_else(|| refuse(400, "no To URI"))?;
        let header_expires = match rx.msg.first_value(HeaderName::Expires) {
            None => None,
            Some(v) => Some(parse_expires(&v).map_err(|e| refuse(400, format!("Expires: {e}")))?),
        };
        let contacts = contacts_of(&rx.msg, header_expires)?;
        let call_id = rx.msg.call_id().unwrap_or_default();
        let cseq = rx.msg.cseq().map_or(0, |c| c.number);
        let mut current = self.registrar.bindings.remove(&aor).unwrap_or_default();
        current.retain(|b| b.expires_at > now);
        let result = match contacts {
            // No Contact: a query, nothing changes (RFC 3261 §10.2.3, §10.3 step 6).
            Contacts::List(l) if l.is_empty() => Ok(current.clone()),
            c => updated(current.clone(), c, &call_id, cseq, now),
        };
        let (bindings, outcome) = match result {
            Ok(b) => (b, Ok(aor.clone())),
            Err(r) => (current, Err(r)),
        };
        if !bindings.is_empty() {
            self.registrar.bindings.insert(aor, bindings);
        }
        outcome
    }

    /// Step 8: 200 with every current binding of the AOR and its remaining time, and Date.
    fn registered(&mut self, rx: &Rx, aor: &str, now: Instant) {
        let tag = self.wire.token();
        let mut reply = Reply::tagged(&tag);
        for b in self.registrar.bindings.get(aor).into_iter().flatten() {
            let left = b.expires_at.saturating_duration_since(now);
            let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            reply = reply.header("Contact", format!("<{}>;expires={secs}", b.uri));
        }
        // Date (RFC 3261 §10.3 step 8, §20.17): the wall clock, the one thing the core reads
        // that the shell does not feed it; it is informational only.
        reply = reply.header("Date", sip_date(SystemTime::now()));
        self.respond(rx, 200, reply);
    }
}
