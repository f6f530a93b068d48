//! The registrar's side of Digest authentication (RFC 3261 §22.4, RFC 7616, RFC 8760):
//! challenges, a table of the nonces it issued, and the check of credentials.
//!
//! Nonces are 128 random bits kept in a table with the time they were issued, the algorithm
//! of the challenge that carried them and the highest nonce count seen. A nonce older than the
//! configured lifetime answered correctly is *stale* (RFC 7616 §3.3); a nonce count that does
//! not grow is a replay (RFC 7616 §3.4). Nonces are forgotten after four lifetimes, or the
//! oldest first when more than [`MAX_NONCES`] are kept.

use crate::net::Pcg32;
use crate::sip::headers::auth::{digest_response, Credentials, DigestAlgorithm};
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// At most this many nonces are remembered.
pub(super) const MAX_NONCES: usize = 4096;

#[derive(Clone, Debug)]
struct NonceState {
    issued: Instant,
    algorithm: DigestAlgorithm,
    /// The highest nonce count accepted so far (0: none yet).
    last_nc: u32,
}

/// What the credentials of a request come to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Valid: the request is authenticated as `username`.
    Accepted { username: String },
    /// No Digest credentials for our realm: challenge (RFC 3261 §22.4).
    Missing,
    /// Credentials that do not authenticate; the reason is for the UA's notes.
    Rejected(String),
    /// A correct response computed with an expired nonce: challenge with `stale=true`
    /// (RFC 7616 §3.3).
    Stale,
}

/// The registrar's digest state. See the module documentation.
#[derive(Debug)]
pub(super) struct DigestServer {
    realm: String,
    password: String,
    lifetime: Duration,
    /// Offer and accept SHA-256 (the `sha256-unsupported` quirk turns it off).
    sha256: bool,
    nonces: HashMap<String, NonceState>,
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

impl DigestServer {
    pub fn new(realm: &str, password: &str, lifetime: Duration, sha256: bool) -> DigestServer {
        DigestServer {
            realm: realm.to_string(),
            password: password.to_string(),
            lifetime,
            sha256,
            nonces: HashMap::new(),
        }
    }

    /// The WWW-Authenticate values of a 401: one challenge per algorithm, the preferred
    /// first (RFC 8760 §2.4: SHA-256, then MD5), each with its own nonce, `qop="auth"`, and
    /// `stale=true` when the credentials only had an expired nonce (RFC 7616 §3.3).
    pub fn challenges(&mut self, now: Instant, rng: &mut Pcg32, stale: bool) -> Vec<String> {
        self.prune(now);
        let mut algorithms = vec![DigestAlgorithm::Md5];
        if self.sha256 {
            algorithms.insert(0, DigestAlgorithm::Sha256);
        }
        algorithms
            .into_iter()
            .map(|algorithm| {
                let nonce = format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64());
                self.nonces.insert(
                    nonce.clone(),
                    NonceState {
                        issued: now,
                        algorithm,
                        last_nc: 0,
                    },
                );
                let mut c = format!(
                    "Digest realm={}, nonce={}, algorithm={}, qop=\"auth\"",
                    quote(&self.realm),
                    quote(&nonce),
                    algorithm.name()
                );
                if stale {
                    c.push_str(", stale=true");
                }
                c
            })
            .collect()
    }

    /// Forgets nonces older than four lifetimes, and the oldest beyond [`MAX_NONCES`].
    fn prune(&mut self, now: Instant) {
        let keep = self.lifetime * 4;
        self.nonces
            .retain(|_, n| now.saturating_duration_since(n.issued) <= keep);
        while self.nonces.len() >= MAX_NONCES {
            let Some(oldest) = self
                .nonces
                .iter()
                .min_by_key(|(_, n)| n.issued)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            self.nonces.remove(&oldest);
        }
    }

    /// Checks the credentials of a request (any Authorization values; those of other realms
    /// or schemes are ignored, RFC 3261 §22.4). The password is the configured one whatever
    /// the username.
    pub fn verify(&mut self, now: Instant, method: &str, creds: &[Credentials]) -> Verdict {
        let Some(c) = creds
            .iter()
            .find(|c| c.is_digest() && c.realm() == Some(self.realm.as_str()))
        else {
            return Verdict::Missing;
        };
        match self.check(now, method, c) {
            Ok(username) => Verdict::Accepted { username },
            Err(v) => v,
        }
    }

    /// The checks of [`Self::verify`] on the credentials for our realm.
    fn check(&mut self, now: Instant, method: &str, c: &Credentials) -> Result<String, Verdict> {
        let rejected = |why: String| Err(Verdict::Rejected(why));
        let (Some(username), Some(nonce), Some(uri), Some(response)) =
            (c.username(), c.nonce(), c.uri(), c.response())
        else {
            return rejected("credentials without username, nonce, uri or response".into());
        };
        // RFC 7616 §3.4: the algorithm of the challenge answered; MD5 when absent.
        let algorithm = match c
            .algorithm()
            .map_or(Some(DigestAlgorithm::Md5), DigestAlgorithm::from_name)
        {
            Some(a @ (DigestAlgorithm::Md5 | DigestAlgorithm::Sha256)) => a,
            _ => return rejected(format!("algorithm {:?} was not offered", c.algorithm())),
        };
        if algorithm == DigestAlgorithm::Sha256 && !self.sha256 {
            // Quirk `sha256-unsupported` (RFC 8760 §2.4 breaks): SHA-256 is refused.
            return rejected("SHA-256 credentials refused".into());
        }
        let Some(state) = self.nonces.get(nonce).cloned() else {
            return rejected(format!("unknown nonce `{nonce}`"));
        };
        if state.algorithm != algorithm {
            return rejected(format!(
                "{} credentials for the nonce of the {} challenge",
                algorithm.name(),
                state.algorithm.name()
            ));
        }
        // RFC 7616 §3.4: with qop offered, the client answers with qop, cnonce and nc.
        let (Some("auth"), Some(cnonce), Some(nc)) = (c.qop(), c.cnonce(), c.nc_value()) else {
            return rejected("credentials without qop=auth, cnonce or an 8-hex-digit nc".into());
        };
        let nc_text = c.nc().unwrap_or_default();
        let expected = digest_response(
            algorithm,
            username,
            &self.realm,
            &self.password,
            method,
            uri,
            nonce,
            Some((cnonce, nc_text)),
        );
        if !expected.eq_ignore_ascii_case(response) {
            return rejected(format!(
                "wrong {} response for `{username}`",
                algorithm.name()
            ));
        }
        if now.saturating_duration_since(state.issued) > self.lifetime {
            return Err(Verdict::Stale); // RFC 7616 §3.3
        }
        if nc <= state.last_nc {
            // RFC 7616 §3.4: the nonce count must grow with each request using the nonce.
            return rejected(format!(
                "nc {nc_text} replayed (last {:08x})",
                state.last_nc
            ));
        }
        if let Some(s) = self.nonces.get_mut(nonce) {
            s.last_nc = nc;
        }
        Ok(username.to_string())
    }
}
