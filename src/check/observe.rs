//! Rebuilding transactions from an observed message stream (RFC 3261 §17.1.3, §17.2.3).
//!
//! Every request starts or continues the transaction its [`TxKey`] names; every response joins
//! the transaction of its key. A hop through a proxy is a transaction of its own, since the
//! proxy's Via (and so the key) is on top.

use crate::trace::{Trace, Transport};
use crate::txn::TxKey;
use std::collections::HashMap;
use std::net::SocketAddr;

/// One transaction as seen on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservedTx {
    pub key: TxKey,
    /// The request method; `ACK` for the ACK to a 2xx, which is a transaction of its own
    /// (RFC 3261 §17.1.1.3: it has its own branch).
    pub method: String,
    /// Who sent the request (the client transaction's side).
    pub client: SocketAddr,
    /// Who received it (the server transaction's side).
    pub server: SocketAddr,
    pub transport: Transport,
    /// The request and each retransmission of it, in order (trace indexes).
    pub requests: Vec<usize>,
    /// Every response, retransmissions included, in order.
    pub responses: Vec<usize>,
    /// ACKs that belong to this INVITE transaction (ACKs to a non-2xx final, same branch).
    pub acks: Vec<usize>,
}

impl ObservedTx {
    /// The first transmission of the request.
    pub fn request(&self) -> usize {
        self.requests[0]
    }

    pub fn is_invite(&self) -> bool {
        self.method == "INVITE"
    }

    /// Responses with a status of at least 200, in order.
    pub fn finals<'a>(&'a self, trace: &'a Trace) -> impl Iterator<Item = usize> + 'a {
        self.responses
            .iter()
            .copied()
            .filter(|&i| trace.messages[i].message.status().is_some_and(|s| s >= 200))
    }

    /// Responses with a status from 100 to 199, in order.
    pub fn provisionals<'a>(&'a self, trace: &'a Trace) -> impl Iterator<Item = usize> + 'a {
        self.responses
            .iter()
            .copied()
            .filter(|&i| trace.messages[i].message.status().is_some_and(|s| s < 200))
    }

    pub fn first_final(&self, trace: &Trace) -> Option<usize> {
        self.finals(trace).next()
    }
}

/// The transactions of a trace and which message belongs to which.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observation {
    pub txs: Vec<ObservedTx>,
    /// For each message of the trace, the index of its transaction in `txs`.
    pub tx_of: Vec<Option<usize>>,
    /// Responses whose key matches no request in the trace.
    pub unmatched_responses: Vec<usize>,
    /// Messages without the Via or CSeq a key needs.
    pub unkeyed: Vec<usize>,
}

impl Observation {
    /// The transaction a message belongs to.
    pub fn tx(&self, message_index: usize) -> Option<&ObservedTx> {
        self.tx_of
            .get(message_index)
            .copied()
            .flatten()
            .map(|t| &self.txs[t])
    }
}

/// Groups the messages of a trace into transactions.
pub fn observe(trace: &Trace) -> Observation {
    let mut obs = Observation {
        tx_of: vec![None; trace.messages.len()],
        ..Observation::default()
    };
    let mut by_key: HashMap<TxKey, usize> = HashMap::new();
    for (i, m) in trace.messages.iter().enumerate() {
        let Some(key) = TxKey::of(&m.message) else {
            obs.unkeyed.push(i);
            continue;
        };
        if m.message.is_response() {
            match by_key.get(&key) {
                Some(&t) => {
                    obs.txs[t].responses.push(i);
                    obs.tx_of[i] = Some(t);
                }
                None => obs.unmatched_responses.push(i),
            }
            continue;
        }
        let is_ack = m.message.method().as_deref() == Some("ACK");
        match by_key.get(&key) {
            Some(&t) if is_ack && obs.txs[t].method == "INVITE" => {
                obs.txs[t].acks.push(i);
                obs.tx_of[i] = Some(t);
            }
            Some(&t) => {
                obs.txs[t].requests.push(i);
                obs.tx_of[i] = Some(t);
            }
            None => {
                let method = m
                    .message
                    .method()
                    .map(|s| s.into_owned())
                    .unwrap_or_default();
                obs.tx_of[i] = Some(obs.txs.len());
                by_key.insert(key.clone(), obs.txs.len());
                obs.txs.push(ObservedTx {
                    key,
                    method,
                    client: m.src,
                    server: m.dst,
                    transport: m.transport,
                    requests: vec![i],
                    responses: Vec::new(),
                    acks: Vec::new(),
                });
            }
        }
    }
    obs
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::sip::parse::parse_message;
    use crate::trace::TracedMessage;
    use std::time::Duration;

    /// A trace from `(millis, from, to, message text)`; `\n` in the text becomes CRLF and a
    /// Content-Length is added when the text has none.
    pub fn trace(items: &[(u64, &str, &str, &str)]) -> Trace {
        let messages = items
            .iter()
            .map(|(ms, from, to, text)| {
                let mut t = text.replace('\n', "\r\n");
                if !t.contains("Content-Length") {
                    t.push_str("Content-Length: 0\r\n");
                }
                t.push_str("\r\n");
                TracedMessage {
                    time: Duration::from_millis(*ms),
                    src: addr(from),
                    dst: addr(to),
                    transport: Transport::Udp,
                    message: parse_message(t.as_bytes()),
                }
            })
            .collect();
        Trace { messages }
    }

    /// `a`, `b`, `p` name the parties 127.0.0.1:5061, :5062 and :5063; anything else is parsed.
    pub fn addr(name: &str) -> SocketAddr {
        match name {
            "a" => "127.0.0.1:5061".parse().unwrap(),
            "b" => "127.0.0.1:5062".parse().unwrap(),
            "p" => "127.0.0.1:5063".parse().unwrap(),
            other => other.parse().unwrap(),
        }
    }

    const INVITE: &str = "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK1\nFrom: <sip:a@x>;tag=f\nTo: <sip:b@x>\nCall-ID: c\nCSeq: 1 INVITE\nMax-Forwards: 70\n";
    const BUSY: &str = "SIP/2.0 486 Busy Here\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK1\nFrom: <sip:a@x>;tag=f\nTo: <sip:b@x>;tag=t\nCall-ID: c\nCSeq: 1 INVITE\n";
    const ACK: &str = "ACK sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK1\nFrom: <sip:a@x>;tag=f\nTo: <sip:b@x>;tag=t\nCall-ID: c\nCSeq: 1 ACK\nMax-Forwards: 70\n";

    #[test]
    fn retransmissions_responses_and_ack_join_the_invite() {
        let t = trace(&[
            (0, "a", "b", INVITE),
            (500, "a", "b", INVITE),
            (600, "b", "a", BUSY),
            (610, "a", "b", ACK),
            (1100, "b", "a", BUSY),
        ]);
        let obs = observe(&t);
        assert_eq!(obs.txs.len(), 1);
        let tx = &obs.txs[0];
        assert_eq!(tx.requests, [0, 1]);
        assert_eq!(tx.responses, [2, 4]);
        assert_eq!(tx.acks, [3]);
        assert_eq!(tx.client, addr("a"));
        assert_eq!(tx.first_final(&t), Some(2));
        assert!(obs.unmatched_responses.is_empty());
    }

    #[test]
    fn a_response_for_no_request_is_unmatched() {
        let t = trace(&[(0, "b", "a", BUSY)]);
        let obs = observe(&t);
        assert!(obs.txs.is_empty());
        assert_eq!(obs.unmatched_responses, [0]);
    }
}
