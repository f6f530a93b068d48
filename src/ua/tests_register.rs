//! The registrar (RFC 3261 §10.3, digest RFC 7616 / RFC 8760) and the REGISTER client
//! (RFC 3261 §10.2), sans-IO with the test wire.

use super::register_client::{best_challenge, credentials};
use super::test_wire::{request, response, Sent, TestWire};
use super::{Action, Quirk, Quirks, UaConfig, UaCore};
use crate::net::EndpointEvent;
use crate::sip::headers::auth::{
    digest_response, parse_challenge, parse_credentials, DigestAlgorithm,
};
use crate::sip::headers::parse_date;
use crate::sip::message::Message;
use crate::sip::HeaderName;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const PEER: &str = "127.0.0.1:6000";

fn registrar(cfg: UaConfig) -> (UaCore, Arc<TestWire>) {
    let wire = TestWire::new();
    (UaCore::new(cfg, wire.clone()), wire)
}

/// A REGISTER for alice with `contact` (a whole Contact line, or empty) and `extra` lines.
fn register(cseq: u32, call_id: &str, contact: &str, extra: &str) -> String {
    let mut lines = vec![
        "REGISTER sip:127.0.0.1:5070 SIP/2.0".to_string(),
        format!("Via: SIP/2.0/UDP {PEER};branch=z9hG4bK{call_id}{cseq}"),
        "Max-Forwards: 70".into(),
        format!("From: <sip:alice@127.0.0.1:5070>;tag=f{call_id}"),
        "To: <sip:alice@127.0.0.1:5070>".into(),
        format!("Call-ID: {call_id}"),
        format!("CSeq: {cseq} REGISTER"),
    ];
    for l in contact.lines().chain(extra.lines()) {
        if !l.trim().is_empty() {
            lines.push(l.to_string());
        }
    }
    lines.join("\n") + "\n"
}

/// The only response sent since the last look.
fn only_response(wire: &TestWire) -> Message {
    let sent = wire.take();
    let responses: Vec<&Sent> = sent
        .iter()
        .filter(|s| matches!(s, Sent::Response { .. }))
        .collect();
    assert_eq!(
        responses.len(),
        1,
        "{:?}",
        sent.iter().map(Sent::label).collect::<Vec<_>>()
    );
    responses[0].msg().clone()
}

/// An Authorization value answering `challenge` with `password` (computed here with the
/// shared digest API, independently of the UA's client).
fn authorization(challenge: &str, algorithm: DigestAlgorithm, password: &str, nc: &str) -> String {
    let c = parse_challenge(challenge).unwrap();
    let (realm, nonce) = (c.realm().unwrap(), c.nonce().unwrap());
    let uri = "sip:127.0.0.1:5070";
    let r = digest_response(
        algorithm,
        "alice",
        realm,
        password,
        "REGISTER",
        uri,
        nonce,
        Some(("cn1", nc)),
    );
    format!(
        "Authorization: Digest username=\"alice\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", \
         response=\"{r}\", algorithm={}, qop=auth, nc={nc}, cnonce=\"cn1\"",
        algorithm.name()
    )
}

/// Sends an unauthenticated REGISTER and returns the challenges of the 401.
fn challenges(ua: &mut UaCore, wire: &TestWire, now: Instant, tx: u64) -> Vec<String> {
    ua.on_event(now, request(tx, PEER, &register(tx as u32, "c0", "", "")));
    let r = only_response(wire);
    assert_eq!(r.status(), Some(401));
    r.values(HeaderName::WwwAuthenticate)
}

fn contacts(r: &Message) -> Vec<String> {
    r.values(HeaderName::Contact)
}

#[test]
fn an_unauthenticated_register_is_challenged_sha256_first_then_md5() {
    let (mut ua, wire) = registrar(UaConfig::default());
    let now = Instant::now();
    ua.on_event(
        now,
        request(
            1,
            PEER,
            &register(1, "c1", "Contact: <sip:alice@127.0.0.1:6000>", ""),
        ),
    );
    let r = only_response(&wire);
    assert_eq!(r.status(), Some(401));
    assert!(r.to_tag().is_some());
    let ch: Vec<_> = r
        .values(HeaderName::WwwAuthenticate)
        .iter()
        .map(|v| parse_challenge(v).unwrap())
        .collect();
    assert_eq!(ch.len(), 2);
    assert_eq!(ch[0].digest_algorithm(), Some(DigestAlgorithm::Sha256));
    assert_eq!(ch[1].digest_algorithm(), Some(DigestAlgorithm::Md5));
    for c in &ch {
        assert_eq!(c.realm(), Some("siptest"));
        assert_eq!(c.qop_options(), vec!["auth"]);
        assert!(!c.stale());
    }
    assert_ne!(ch[0].nonce(), ch[1].nonce());
}

#[test]
fn correct_md5_and_sha256_credentials_register_and_the_200_lists_bindings_with_date() {
    for (i, alg) in [DigestAlgorithm::Md5, DigestAlgorithm::Sha256]
        .into_iter()
        .enumerate()
    {
        let (mut ua, wire) = registrar(UaConfig::default());
        let now = Instant::now();
        let ch = challenges(&mut ua, &wire, now, 1);
        let auth = authorization(&ch[1 - i], alg, "siptest", "00000001");
        let req = register(2, "c1", "Contact: <sip:alice@127.0.0.1:6000>", &auth);
        ua.on_event(now, request(2, PEER, &req));
        let r = only_response(&wire);
        assert_eq!(r.status(), Some(200), "{alg:?}");
        assert_eq!(contacts(&r), ["<sip:alice@127.0.0.1:6000>;expires=3600"]);
        let date = r.first_value(HeaderName::Date).expect("Date");
        assert!(parse_date(&date).unwrap().weekday_is_consistent(), "{date}");
    }
}

#[test]
fn a_wrong_password_is_challenged_again_and_noted() {
    let (mut ua, wire) = registrar(UaConfig::default());
    let now = Instant::now();
    let ch = challenges(&mut ua, &wire, now, 1);
    let auth = authorization(&ch[0], DigestAlgorithm::Sha256, "wrong", "00000001");
    ua.on_event(
        now,
        request(
            2,
            PEER,
            &register(2, "c1", "Contact: <sip:alice@127.0.0.1:6000>", &auth),
        ),
    );
    let r = only_response(&wire);
    assert_eq!(r.status(), Some(401));
    assert_eq!(r.values(HeaderName::WwwAuthenticate).len(), 2);
    assert!(
        ua.notes
            .iter()
            .any(|n| n.contains("wrong SHA-256 response")),
        "{:?}",
        ua.notes
    );
}

#[test]
fn an_expired_nonce_with_a_correct_response_is_stale() {
    let cfg = UaConfig {
        nonce_lifetime: Duration::from_secs(1),
        ..UaConfig::default()
    };
    let (mut ua, wire) = registrar(cfg);
    let now = Instant::now();
    let ch = challenges(&mut ua, &wire, now, 1);
    let later = now + Duration::from_secs(2);
    let good = authorization(&ch[1], DigestAlgorithm::Md5, "siptest", "00000001");
    ua.on_event(
        later,
        request(
            2,
            PEER,
            &register(2, "c1", "Contact: <sip:alice@127.0.0.1:6000>", &good),
        ),
    );
    let r = only_response(&wire);
    assert_eq!(r.status(), Some(401));
    let ch2: Vec<_> = r
        .values(HeaderName::WwwAuthenticate)
        .iter()
        .map(|v| parse_challenge(v).unwrap())
        .collect();
    assert!(ch2.iter().all(|c| c.stale()), "{ch2:?}");
    // A wrong password with the old nonce is not stale: the password is the problem.
    let bad = authorization(&ch[0], DigestAlgorithm::Sha256, "nope", "00000001");
    ua.on_event(
        later,
        request(
            3,
            PEER,
            &register(3, "c1", "Contact: <sip:alice@127.0.0.1:6000>", &bad),
        ),
    );
    let r = only_response(&wire);
    assert!(r
        .values(HeaderName::WwwAuthenticate)
        .iter()
        .all(|v| !parse_challenge(v).unwrap().stale()));
    // The fresh nonce works.
    let fresh = authorization(
        &r.values(HeaderName::WwwAuthenticate)[0],
        DigestAlgorithm::Sha256,
        "siptest",
        "00000001",
    );
    ua.on_event(
        later,
        request(
            4,
            PEER,
            &register(4, "c1", "Contact: <sip:alice@127.0.0.1:6000>", &fresh),
        ),
    );
    assert_eq!(only_response(&wire).status(), Some(200));
}

#[test]
fn a_nonce_count_that_does_not_grow_is_a_replay() {
    let (mut ua, wire) = registrar(UaConfig::default());
    let now = Instant::now();
    let ch = challenges(&mut ua, &wire, now, 1);
    let c = "Contact: <sip:alice@127.0.0.1:6000>";
    let nc1 = authorization(&ch[0], DigestAlgorithm::Sha256, "siptest", "00000001");
    ua.on_event(now, request(2, PEER, &register(2, "c1", c, &nc1)));
    assert_eq!(only_response(&wire).status(), Some(200));
    ua.on_event(now, request(3, PEER, &register(3, "c1", c, &nc1)));
    assert_eq!(only_response(&wire).status(), Some(401));
    assert!(
        ua.notes.iter().any(|n| n.contains("replayed")),
        "{:?}",
        ua.notes
    );
    let nc2 = authorization(&ch[0], DigestAlgorithm::Sha256, "siptest", "00000002");
    ua.on_event(now, request(4, PEER, &register(4, "c1", c, &nc2)));
    assert_eq!(only_response(&wire).status(), Some(200));
}

/// A registrar core and an authenticated REGISTER sender (a fresh challenge each time).
struct Reg {
    ua: UaCore,
    wire: Arc<TestWire>,
    tx: u64,
}

impl Reg {
    fn new() -> Reg {
        let (ua, wire) = registrar(UaConfig::default());
        Reg { ua, wire, tx: 100 }
    }
    /// An authenticated REGISTER; returns the final response.
    fn send(
        &mut self,
        now: Instant,
        cseq: u32,
        call_id: &str,
        contact: &str,
        extra: &str,
    ) -> Message {
        self.tx += 2;
        let ch = challenges(&mut self.ua, &self.wire, now, self.tx);
        let auth = authorization(&ch[0], DigestAlgorithm::Sha256, "siptest", "00000001");
        let extra = format!("{extra}\n{auth}");
        let req = register(cseq, call_id, contact, &extra);
        self.ua.on_event(now, request(self.tx + 1, PEER, &req));
        only_response(&self.wire)
    }
}

#[test]
fn bindings_refresh_add_remove_one_and_star_removes_all() {
    let mut reg = Reg::new();
    let now = Instant::now();
    let a = "Contact: <sip:alice@127.0.0.1:6000>";
    let b = "Contact: <sip:alice@127.0.0.1:6001>;expires=300";
    assert_eq!(
        contacts(&reg.send(now, 1, "ca", a, "")),
        ["<sip:alice@127.0.0.1:6000>;expires=3600"]
    );
    // Refresh with the same Call-ID and a higher CSeq, a new time from the Expires header.
    let later = now + Duration::from_secs(10);
    let r = reg.send(later, 2, "ca", a, "Expires: 120");
    assert_eq!(contacts(&r), ["<sip:alice@127.0.0.1:6000>;expires=120"]);
    // Another contact from another Call-ID is added; the 200 lists both with their times.
    let r = reg.send(later + Duration::from_secs(20), 1, "cb", b, "");
    assert_eq!(
        contacts(&r),
        [
            "<sip:alice@127.0.0.1:6000>;expires=100",
            "<sip:alice@127.0.0.1:6001>;expires=300"
        ]
    );
    // Expires 0 removes that one only (RFC 3261 §10.2.2).
    let r = reg.send(
        later + Duration::from_secs(20),
        3,
        "ca",
        "Contact: <sip:alice@127.0.0.1:6000>;expires=0",
        "",
    );
    assert_eq!(contacts(&r), ["<sip:alice@127.0.0.1:6001>;expires=300"]);
    // A query (no Contact) lists the bindings unchanged.
    let r = reg.send(later + Duration::from_secs(20), 2, "cb", "", "");
    assert_eq!(contacts(&r), ["<sip:alice@127.0.0.1:6001>;expires=300"]);
    // `*` without Expires: 0 is a bad request; with it, everything goes (§10.3 step 6).
    let r = reg.send(later, 3, "cb", "Contact: *", "");
    assert_eq!(r.status(), Some(400));
    let r = reg.send(later, 4, "cb", "Contact: *", "Expires: 0");
    assert_eq!(r.status(), Some(200));
    assert!(contacts(&r).is_empty());
}

#[test]
fn bindings_expire_and_a_lower_cseq_for_the_same_call_id_fails() {
    let mut reg = Reg::new();
    let now = Instant::now();
    let a = "Contact: <sip:alice@127.0.0.1:6000>;expires=60";
    assert_eq!(reg.send(now, 5, "ca", a, "").status(), Some(200));
    // RFC 3261 §10.3 step 7: same Call-ID, CSeq not higher: the request fails, nothing changes.
    let r = reg.send(
        now,
        5,
        "ca",
        "Contact: <sip:alice@127.0.0.1:6000>;expires=0",
        "",
    );
    assert_eq!(r.status(), Some(400));
    let r = reg.send(now, 4, "ca", "Contact: *", "Expires: 0");
    assert_eq!(r.status(), Some(400));
    assert_eq!(contacts(&reg.send(now, 6, "ca", "", "")).len(), 1);
    // After 60 s the binding is gone.
    let r = reg.send(now + Duration::from_secs(61), 7, "ca", "", "");
    assert!(contacts(&r).is_empty());
}

#[test]
fn a_too_brief_interval_gets_423_with_min_expires() {
    let mut reg = Reg::new();
    let now = Instant::now();
    let r = reg.send(
        now,
        1,
        "ca",
        "Contact: <sip:alice@127.0.0.1:6000>;expires=30",
        "",
    );
    assert_eq!(r.status(), Some(423));
    assert_eq!(r.first_value(HeaderName::MinExpires).as_deref(), Some("60"));
    let r = reg.send(
        now,
        2,
        "ca",
        "Contact: <sip:alice@127.0.0.1:6000>",
        "Expires: 59",
    );
    assert_eq!(r.status(), Some(423));
    let r = reg.send(
        now,
        3,
        "ca",
        "Contact: <sip:alice@127.0.0.1:6000>",
        "Expires: 60",
    );
    assert_eq!(contacts(&r), ["<sip:alice@127.0.0.1:6000>;expires=60"]);
}

#[test]
fn quirk_sha256_unsupported_challenges_md5_only_and_refuses_sha256() {
    let cfg = UaConfig {
        quirks: Quirks::new([Quirk::Sha256Unsupported]),
        ..UaConfig::default()
    };
    let (mut ua, wire) = registrar(cfg);
    let now = Instant::now();
    let ch = challenges(&mut ua, &wire, now, 1);
    assert_eq!(ch.len(), 1);
    assert_eq!(
        parse_challenge(&ch[0]).unwrap().digest_algorithm(),
        Some(DigestAlgorithm::Md5)
    );
    let c = "Contact: <sip:alice@127.0.0.1:6000>";
    let sha = authorization(&ch[0], DigestAlgorithm::Sha256, "siptest", "00000001");
    ua.on_event(now, request(2, PEER, &register(2, "c1", c, &sha)));
    assert_eq!(only_response(&wire).status(), Some(401));
    let md5 = authorization(&ch[0], DigestAlgorithm::Md5, "siptest", "00000001");
    ua.on_event(now, request(3, PEER, &register(3, "c1", c, &md5)));
    assert_eq!(only_response(&wire).status(), Some(200));
}

#[test]
fn client_credentials_match_the_rfc7616_3_9_1_vectors() {
    // RFC 7616 §3.9.1: the same request answered with MD5 and with SHA-256.
    for (alg, expected) in [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        (
            "SHA-256",
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
        ),
    ] {
        let ch = format!(
            "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm={alg}, \
             nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
             opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
        );
        let (c, a) = best_challenge(&[ch]).unwrap();
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        let v = credentials(
            &c,
            a,
            "Mufasa",
            "Circle of Life",
            "GET",
            "/dir/index.html",
            cnonce,
            1,
        );
        let creds = parse_credentials(&v).unwrap();
        assert_eq!(creds.response(), Some(expected), "{alg}");
        assert_eq!(creds.nc(), Some("00000001"));
        assert_eq!(creds.qop(), Some("auth"));
        assert_eq!(
            creds.opaque(),
            Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
        );
        assert_eq!(creds.algorithm(), Some(alg));
    }
}

#[test]
fn the_client_picks_the_strongest_algorithm_whatever_the_order() {
    let md5 = "Digest realm=\"r\", nonce=\"a\", algorithm=MD5, qop=\"auth\"".to_string();
    let sha = "Digest realm=\"r\", nonce=\"b\", algorithm=SHA-256, qop=\"auth\"".to_string();
    let odd = "Digest realm=\"r\", nonce=\"c\", algorithm=SHA-512-256, qop=\"auth\"".to_string();
    let int = "Digest realm=\"r\", nonce=\"d\", algorithm=SHA-256, qop=\"auth-int\"".to_string();
    assert_eq!(
        best_challenge(&[md5.clone(), sha.clone()]).unwrap().1,
        DigestAlgorithm::Sha256
    );
    assert_eq!(
        best_challenge(&[sha, md5.clone()]).unwrap().0.nonce(),
        Some("b")
    );
    assert_eq!(
        best_challenge(&[odd, int, md5]).unwrap().1,
        DigestAlgorithm::Md5
    );
}

/// Delivers every request `client` sent to `server` (server transaction = client
/// transaction id) and every response back; returns the labels of what went by.
fn exchange(
    client: &mut UaCore,
    cw: &TestWire,
    server: &mut UaCore,
    sw: &TestWire,
    now: Instant,
) -> Vec<String> {
    let mut log = Vec::new();
    loop {
        let sent = cw.take();
        if sent.is_empty() {
            return log;
        }
        for s in sent {
            let Sent::Request { tx, msg, .. } = s else {
                continue;
            };
            log.push(format!(
                "{} {}",
                msg.method().unwrap_or_default(),
                msg.cseq().map_or(0, |c| c.number)
            ));
            server.on_event(
                now,
                EndpointEvent::Request {
                    tx,
                    msg,
                    from: "127.0.0.1:5070".parse().unwrap(),
                },
            );
            for r in sw.take() {
                if let Sent::Response { tx, msg } = r {
                    log.push(msg.status().unwrap_or(0).to_string());
                    client.on_event(now, EndpointEvent::Response { tx, msg });
                }
            }
        }
    }
}

#[test]
fn the_client_registers_refreshes_and_unregisters_at_the_registrar() {
    for quirks in [Quirks::default(), Quirks::new([Quirk::Sha256Unsupported])] {
        let (mut client, cw) = registrar(UaConfig::default());
        let (mut server, sw) = registrar(UaConfig {
            quirks: quirks.clone(),
            ..UaConfig::default()
        });
        let now = Instant::now();
        let reg = Action::Register {
            peer: "sip:reg@127.0.0.1:5070".into(),
            user: "bob".into(),
            password: "siptest".into(),
            expires: 600,
        };
        client.act(now, reg).unwrap();
        let first = cw.take();
        let r = first[0].msg().clone();
        assert_eq!(r.request_uri().as_deref(), Some("sip:127.0.0.1:5070"));
        assert_eq!(
            r.to_addr().unwrap().uri.to_string(),
            "sip:bob@127.0.0.1:5070"
        );
        assert_eq!(r.first_value(HeaderName::Expires).as_deref(), Some("600"));
        let call_id = r.call_id();
        // Put it back to go through the exchange.
        server.on_event(
            now,
            EndpointEvent::Request {
                tx: first[0].tx(),
                msg: r,
                from: "127.0.0.1:5070".parse().unwrap(),
            },
        );
        let ch = sw.take();
        client.on_event(
            now,
            EndpointEvent::Response {
                tx: first[0].tx(),
                msg: ch[0].msg().clone(),
            },
        );
        let auth_req = cw.take();
        assert_eq!(
            auth_req.len(),
            1,
            "{:?} {:?}",
            client.notes,
            ch[0].msg().summary()
        );
        let auth = auth_req[0]
            .header(HeaderName::Authorization)
            .expect("Authorization");
        let want = if quirks.is_empty() {
            "algorithm=SHA-256"
        } else {
            "algorithm=MD5"
        };
        assert!(
            auth.contains(want) && auth.contains("qop=auth") && auth.contains("nc=00000001"),
            "{auth}"
        );
        assert_eq!(auth_req[0].msg().cseq().unwrap().number, 2);
        server.on_event(
            now,
            EndpointEvent::Request {
                tx: auth_req[0].tx(),
                msg: auth_req[0].msg().clone(),
                from: "127.0.0.1:5070".parse().unwrap(),
            },
        );
        let ok = sw.take();
        assert_eq!(ok[0].msg().status(), Some(200), "{:?}", server.notes);
        client.on_event(
            now,
            EndpointEvent::Response {
                tx: auth_req[0].tx(),
                msg: ok[0].msg().clone(),
            },
        );
        // Refreshed at 90% of the 600 s granted.
        assert_eq!(client.poll_timeout(), Some(now + Duration::from_secs(540)));
        let at = now + Duration::from_secs(540);
        client.handle_timeout(at);
        assert_eq!(
            exchange(&mut client, &cw, &mut server, &sw, at),
            ["REGISTER 3", "401", "REGISTER 4", "200"]
        );
        // Unregister: same Call-ID, next CSeq, Expires 0; the registrar lists nothing.
        let unreg = Action::Register {
            peer: "sip:reg@127.0.0.1:5070".into(),
            user: "bob".into(),
            password: "siptest".into(),
            expires: 0,
        };
        client.act(at, unreg).unwrap();
        assert_eq!(client.poll_timeout(), None, "the refresh is cancelled");
        let sent = cw.take();
        assert_eq!(sent[0].msg().call_id(), call_id);
        assert_eq!(sent[0].msg().cseq().unwrap().number, 5);
        assert_eq!(sent[0].header(HeaderName::Expires).as_deref(), Some("0"));
        server.on_event(
            at,
            EndpointEvent::Request {
                tx: sent[0].tx(),
                msg: sent[0].msg().clone(),
                from: "127.0.0.1:5070".parse().unwrap(),
            },
        );
        let ch = sw.take();
        client.on_event(
            at,
            EndpointEvent::Response {
                tx: sent[0].tx(),
                msg: ch[0].msg().clone(),
            },
        );
        let log = exchange(&mut client, &cw, &mut server, &sw, at);
        assert_eq!(log, ["REGISTER 6", "200"]);
        assert!(client.registrations[0].registered_until.is_none());
    }
}

#[test]
fn the_client_does_not_retry_rejected_credentials_but_answers_stale_and_423() {
    let (mut client, cw) = registrar(UaConfig::default());
    let now = Instant::now();
    let reg = Action::Register {
        peer: "sip:reg@127.0.0.1:5080".into(),
        user: "bob".into(),
        password: "x".into(),
        expires: 30,
    };
    client.act(now, reg).unwrap();
    let s = cw.take().remove(0);
    let reply = |s: &Sent, status: &str, extra: &str| {
        let m = s.msg();
        response(
            s.tx(),
            &format!(
                "SIP/2.0 {status}\nVia: {}\nFrom: {}\nTo: {};tag=r\nCall-ID: {}\nCSeq: {} REGISTER\n{extra}\n",
                m.first_value(HeaderName::Via).unwrap(),
                m.first_value(HeaderName::From).unwrap(),
                m.first_value(HeaderName::To).unwrap(),
                m.call_id().unwrap(),
                m.cseq().unwrap().number
            ),
        )
    };
    // 423: again with Min-Expires.
    client.on_event(now, reply(&s, "423 Interval Too Brief", "Min-Expires: 60"));
    let s = cw.take().remove(0);
    assert_eq!(s.header(HeaderName::Expires).as_deref(), Some("60"));
    let ch = "WWW-Authenticate: Digest realm=\"r\", nonce=\"n1\", algorithm=MD5, qop=\"auth\"";
    client.on_event(now, reply(&s, "401 Unauthorized", ch));
    let s = cw.take().remove(0);
    assert!(s
        .header(HeaderName::Authorization)
        .unwrap()
        .contains("nonce=\"n1\""));
    // Stale: answered with the new nonce.
    let stale = "WWW-Authenticate: Digest realm=\"r\", nonce=\"n2\", algorithm=MD5, qop=\"auth\", stale=true";
    client.on_event(now, reply(&s, "401 Unauthorized", stale));
    let s = cw.take().remove(0);
    assert!(s
        .header(HeaderName::Authorization)
        .unwrap()
        .contains("nonce=\"n2\""));
    // Not stale: the credentials were rejected; no retry.
    client.on_event(now, reply(&s, "401 Unauthorized", ch));
    assert!(cw.take().is_empty());
    assert!(
        client
            .notes
            .iter()
            .any(|n| n.contains("rejected the credentials")),
        "{:?}",
        client.notes
    );
    // A new action starts again with the next CSeq; Timer F ends that attempt.
    let reg = Action::Register {
        peer: "sip:reg@127.0.0.1:5080".into(),
        user: "bob".into(),
        password: "x".into(),
        expires: 60,
    };
    client.act(now, reg).unwrap();
    let s2 = cw.take().remove(0);
    assert_eq!(
        s2.msg().cseq().unwrap().number,
        s.msg().cseq().unwrap().number + 1
    );
    assert_eq!(s2.msg().call_id(), s.msg().call_id());
    client.on_event(
        now,
        EndpointEvent::Timeout {
            tx: s2.tx(),
            timer: crate::txn::TimerName::F,
        },
    );
    assert!(client.registrations[0].tx.is_none());
    assert!(
        client.notes.iter().any(|n| n.contains("got no response")),
        "{:?}",
        client.notes
    );
}
