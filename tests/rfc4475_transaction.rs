//! RFC 4475 §3.2.1 (badbranch): a branch that is only the magic cookie. "An element receiving
//! this request could reject the request with a 400 Response ... or it could fall back to the
//! RFC 2543-style transaction identifier." siptest falls back: the request gets a server
//! transaction keyed the RFC 2543 way, its retransmission is absorbed, and the response it
//! sends matches the same transaction.

mod common;

use siptest::sip::parse::parse_datagram;
use siptest::txn::server::{build_response, ServerTransaction};
use siptest::txn::{Output, Reliability, TimerConfig, TxKey};
use std::time::Duration;

#[test]
fn badbranch_falls_back_to_rfc2543_matching() {
    let bytes = common::corpus("rfc4475", "badbranch.dat");
    let req = parse_datagram(&bytes).message;
    let key = TxKey::of(&req).expect("a key");
    assert!(matches!(key, TxKey::Rfc2543 { cseq: 8, .. }), "{key:?}");

    let cfg = TimerConfig::default();
    let mut tx = ServerTransaction::new(Duration::ZERO, req.clone(), cfg, Reliability::Unreliable)
        .expect("a server transaction for a cookie-only branch");
    assert_eq!(tx.key(), &key);
    // A retransmission of the request is absorbed: nothing is sent back.
    tx.handle_request(Duration::from_millis(500), req.clone());
    assert_eq!(tx.poll_output(), None);

    let resp = build_response(&req, 200, "OK", Some("srv1"));
    let parsed = siptest::sip::parse_message(&resp);
    assert_eq!(
        TxKey::of(&parsed).as_ref(),
        Some(&key),
        "the response matches the transaction"
    );
    tx.send_response(Duration::from_millis(600), parsed)
        .expect("a 200 is allowed");
    assert!(matches!(tx.poll_output(), Some(Output::Transmit(b)) if b == resp));
}
