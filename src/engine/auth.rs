//! `auth` on send steps: digest credentials answering the agent's latest 401 or 407 to a
//! request of the same method (RFC 3261 §22.2, RFC 7616 §3.4 with qop=auth, RFC 8760
//! SHA-256). The computation itself is `sip::headers::auth::digest_response`.

use super::draft::Draft;
use super::exec::Stop;
use super::run::Run;
use crate::scenario::{Auth, DigestChoice};
use crate::sip::headers::auth::{digest_response, parse_challenge, Challenge, DigestAlgorithm};
use crate::sip::message::Message;
use crate::sip::HeaderName;

/// What one Authorization value is made of.
pub(crate) struct Answer<'a> {
    pub challenge: &'a Challenge,
    pub algorithm: DigestAlgorithm,
    pub user: &'a str,
    pub password: &'a str,
    pub method: &'a str,
    pub uri: &'a str,
    pub cnonce: &'a str,
    /// The nonce count, 1 for the first use of a nonce (RFC 7616 §3.4).
    pub nc: u32,
}

impl Run<'_> {
    /// Adds Authorization (to a 401) or Proxy-Authorization (to a 407) to `draft`.
    pub(super) fn authorize(
        &mut self,
        a: usize,
        method: &str,
        auth: &Auth,
        draft: &mut Draft,
    ) -> Result<(), Stop> {
        let user = self.render(a, &auth.user, false)?;
        let password = self.render(a, &auth.password, false)?;
        let agent = &self.agents[a];
        let Some(resp) = agent.last_final.get(method).cloned() else {
            return Err(Stop::Error(format!(
                "`auth` answers a 401 or 407, but `{}` has had no final response to a {method} \
                 yet (RFC 3261 §22.2)",
                agent.name
            )));
        };
        let status = resp.status().unwrap_or(0);
        let (asks, answers) = match status {
            401 => (HeaderName::WwwAuthenticate, "Authorization"),
            407 => (HeaderName::ProxyAuthenticate, "Proxy-Authorization"),
            _ => {
                return Err(Stop::Error(format!(
                    "`auth` answers a 401 or 407, but the latest final response to `{}`'s \
                     {method} was {} (RFC 3261 §22.2)",
                    agent.name,
                    resp.summary()
                )))
            }
        };
        let challenges = challenges(&resp, asks);
        let (challenge, algorithm) =
            choose(&challenges, auth.algorithm).map_err(|actual| Stop::Fail {
                rule: "scenario.auth.challenge",
                expected: match auth.algorithm {
                    Some(DigestChoice::Sha256) => {
                        "a Digest challenge with algorithm SHA-256 (RFC 8760 §2.4)".into()
                    }
                    Some(DigestChoice::Md5) => {
                        "a Digest challenge with algorithm MD5 (RFC 8760 §2.4)".into()
                    }
                    None => "a Digest challenge with realm and nonce, MD5 or SHA-256, qop=auth \
                             or none (RFC 3261 §22.4, RFC 7616 §3.3)"
                        .to_string(),
                },
                actual: format!("the {}: {actual}", resp.summary()),
            })?;
        let uri = draft
            .start_line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string();
        let agent = &mut self.agents[a];
        let nonce = challenge.nonce().unwrap_or_default().to_string();
        let nc = agent.nonce_counts.entry(nonce).or_insert(0);
        *nc += 1;
        let value = credentials(&Answer {
            challenge,
            algorithm,
            user: &user,
            password: &password,
            method,
            uri: &uri,
            cnonce: &agent.wire.token(),
            nc: *nc,
        });
        draft.push(answers, value);
        Ok(())
    }
}

/// The Digest challenges of a response, one per header field (RFC 8760 §2.4: one field per
/// algorithm).
fn challenges(resp: &Message, name: HeaderName) -> Vec<Challenge> {
    resp.headers_named(name)
        .filter_map(|h| parse_challenge(&resp.value(h)).ok())
        .filter(Challenge::is_digest)
        .collect()
}

/// The challenge to answer: the strongest one siptest can (SHA-256 before MD5, RFC 8760
/// §2.4), or the one of `insist`'s algorithm; `Err` says what the challenges offered.
fn choose(
    all: &[Challenge],
    insist: Option<DigestChoice>,
) -> Result<(&Challenge, DigestAlgorithm), String> {
    let strength = |a: DigestAlgorithm| match a {
        DigestAlgorithm::Sha256 | DigestAlgorithm::Sha256Sess => 2,
        DigestAlgorithm::Md5 | DigestAlgorithm::Md5Sess => 1,
    };
    let wanted = |a: DigestAlgorithm| match insist {
        None => true,
        Some(DigestChoice::Sha256) => strength(a) == 2,
        Some(DigestChoice::Md5) => strength(a) == 1,
    };
    let usable = all.iter().filter_map(|c| {
        let alg = c.digest_algorithm()?;
        let qop = c.qop_options();
        // RFC 7616 §3.4: qop=auth, or the RFC 2069 form when no qop is offered.
        let qop_ok = qop.is_empty() || qop.iter().any(|q| q.eq_ignore_ascii_case("auth"));
        (qop_ok && c.realm().is_some() && c.nonce().is_some() && wanted(alg)).then_some((c, alg))
    });
    // The first of the strongest: max_by_key keeps the last of equals, so reverse first.
    let best = usable
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .max_by_key(|(_, a)| strength(*a));
    best.ok_or_else(|| {
        if all.is_empty() {
            return "no Digest challenge".to_string();
        }
        let offered: Vec<String> = all
            .iter()
            .map(|c| {
                format!(
                    "algorithm={} qop={}",
                    c.algorithm().unwrap_or("MD5 (none given)"),
                    c.param("qop").unwrap_or("(none)")
                )
            })
            .collect();
        format!("it offers {}", offered.join("; "))
    })
}

/// A quoted-string (RFC 3261 §25.1): `"` and `\` escaped.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The Authorization / Proxy-Authorization value (RFC 3261 §22.4, RFC 7616 §3.4).
pub(crate) fn credentials(a: &Answer<'_>) -> String {
    let c = a.challenge;
    let realm = c.realm().unwrap_or_default();
    let nonce = c.nonce().unwrap_or_default();
    let qop = c
        .qop_options()
        .iter()
        .any(|q| q.eq_ignore_ascii_case("auth"));
    let nc = format!("{:08x}", a.nc);
    let response = digest_response(
        a.algorithm,
        a.user,
        realm,
        a.password,
        a.method,
        a.uri,
        nonce,
        qop.then_some((a.cnonce, nc.as_str())),
    );
    let mut v = format!(
        "Digest username={}, realm={}, nonce={}, uri={}, response=\"{response}\", algorithm={}",
        quoted(a.user),
        quoted(realm),
        quoted(nonce),
        quoted(a.uri),
        a.algorithm.name()
    );
    if qop {
        v.push_str(&format!(", qop=auth, cnonce={}, nc={nc}", quoted(a.cnonce)));
    }
    if let Some(o) = c.opaque() {
        v.push_str(&format!(", opaque={}", quoted(o)));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::headers::auth::parse_credentials;

    const NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    const CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
    const OPAQUE: &str = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";

    fn challenge(alg: &str) -> Challenge {
        parse_challenge(&format!(
            "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", \
             algorithm={alg}, nonce=\"{NONCE}\", opaque=\"{OPAQUE}\""
        ))
        .unwrap()
    }

    /// RFC 7616 §3.9.1: the MD5 and SHA-256 responses of the example.
    #[test]
    fn rfc7616_vectors_through_the_whole_value() {
        for (alg, algorithm, response) in [
            (
                "MD5",
                DigestAlgorithm::Md5,
                "8ca523f5e9506fed4657c9700eebdbec",
            ),
            (
                "SHA-256",
                DigestAlgorithm::Sha256,
                "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            ),
        ] {
            let ch = challenge(alg);
            let v = credentials(&Answer {
                challenge: &ch,
                algorithm,
                user: "Mufasa",
                password: "Circle of Life",
                method: "GET",
                uri: "/dir/index.html",
                cnonce: CNONCE,
                nc: 1,
            });
            let c = parse_credentials(&v).unwrap();
            assert_eq!(c.response(), Some(response), "{v}");
            assert_eq!(c.nc(), Some("00000001"));
            assert_eq!(c.qop(), Some("auth"));
            assert_eq!(c.cnonce(), Some(CNONCE));
            assert_eq!(c.opaque(), Some(OPAQUE));
            assert_eq!(c.algorithm(), Some(alg));
            assert_eq!(c.username(), Some("Mufasa"));
            assert_eq!(c.uri(), Some("/dir/index.html"));
        }
    }

    #[test]
    fn sha256_is_preferred_and_insisting_narrows_the_choice() {
        let both = vec![challenge("MD5"), challenge("SHA-256")];
        let (_, a) = choose(&both, None).unwrap();
        assert_eq!(a, DigestAlgorithm::Sha256);
        let (_, a) = choose(&both, Some(DigestChoice::Md5)).unwrap();
        assert_eq!(a, DigestAlgorithm::Md5);
        let md5 = vec![challenge("MD5")];
        let e = choose(&md5, Some(DigestChoice::Sha256)).unwrap_err();
        assert!(e.contains("algorithm=MD5"), "{e}");
        let no_alg = vec![parse_challenge("Digest realm=\"r\", nonce=\"n\"").unwrap()];
        assert_eq!(choose(&no_alg, None).unwrap().1, DigestAlgorithm::Md5);
        let int_only = vec![parse_challenge("Digest realm=r, nonce=n, qop=auth-int").unwrap()];
        assert!(choose(&int_only, None).is_err());
        assert_eq!(choose(&[], None).unwrap_err(), "no Digest challenge");
    }

    #[test]
    fn without_qop_the_rfc2069_form_is_used() {
        let ch = parse_challenge("Digest realm=\"r\", nonce=\"n\"").unwrap();
        let v = credentials(&Answer {
            challenge: &ch,
            algorithm: DigestAlgorithm::Md5,
            user: "u\"x",
            password: "p",
            method: "REGISTER",
            uri: "sip:r",
            cnonce: "c",
            nc: 1,
        });
        assert!(!v.contains("cnonce"), "{v}");
        let c = parse_credentials(&v).unwrap();
        assert_eq!(c.username(), Some("u\"x"));
        assert_eq!(
            c.response().unwrap(),
            digest_response(
                DigestAlgorithm::Md5,
                "u\"x",
                "r",
                "p",
                "REGISTER",
                "sip:r",
                "n",
                None
            )
        );
    }
}
