//! A fake [`Wire`] for the UA's sans-IO tests: it records everything the UA sends, in order,
//! and hands out increasing transaction ids. Shared by the UA's test modules.

use crate::engine::wire::Wire;
use crate::net::{EndpointEvent, SendError, TxId};
use crate::sip::message::Message;
use crate::sip::parse::parse_message;
use crate::trace::Transport;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// One message the UA sent.
#[derive(Clone, Debug)]
pub(crate) enum Sent {
    /// Through a new client transaction.
    Request {
        tx: TxId,
        to: SocketAddr,
        msg: Message,
    },
    /// Through server transaction `tx`.
    Response { tx: TxId, msg: Message },
    /// Outside any transaction (ACK to a 2xx, quirky responses).
    Raw { to: SocketAddr, msg: Message },
}

impl Sent {
    pub fn msg(&self) -> &Message {
        match self {
            Sent::Request { msg, .. } | Sent::Response { msg, .. } | Sent::Raw { msg, .. } => msg,
        }
    }

    /// A short label for asserting order: `NOTIFY` for a request, `202 REFER` for a
    /// response (status and CSeq method), `raw ACK` / `raw 100 MESSAGE` for raw sends.
    pub fn label(&self) -> String {
        let m = self.msg();
        let base = match m.method() {
            Some(method) => method.into_owned(),
            None => format!(
                "{} {}",
                m.status().unwrap_or(0),
                m.cseq().map(|c| c.method).unwrap_or_default()
            ),
        };
        match self {
            Sent::Raw { .. } => format!("raw {base}"),
            _ => base,
        }
    }

    /// The first value of a header, as a string.
    pub fn header(&self, name: crate::sip::HeaderName) -> Option<String> {
        self.msg().first_value(name).map(|v| v.into_owned())
    }

    /// The body as text.
    pub fn body(&self) -> String {
        String::from_utf8_lossy(self.msg().body()).into_owned()
    }

    /// The client transaction id of a request.
    pub fn tx(&self) -> TxId {
        match self {
            Sent::Request { tx, .. } | Sent::Response { tx, .. } => *tx,
            Sent::Raw { .. } => TxId(0),
        }
    }
}

/// Records what the UA sends. Client transaction ids start at 1001; tokens are `t1`, `t2`...
pub(crate) struct TestWire {
    local: SocketAddr,
    sent: Mutex<Vec<Sent>>,
    next_tx: Mutex<u64>,
    next_token: Mutex<u64>,
}

impl TestWire {
    /// A wire whose local address is 127.0.0.1:5070 over UDP.
    pub fn new() -> Arc<TestWire> {
        Arc::new(TestWire {
            local: "127.0.0.1:5070".parse().expect("address"),
            sent: Mutex::new(Vec::new()),
            next_tx: Mutex::new(1000),
            next_token: Mutex::new(0),
        })
    }

    /// Everything sent since the last `take`, oldest first.
    pub fn take(&self) -> Vec<Sent> {
        std::mem::take(&mut *self.sent.lock().expect("lock"))
    }

    /// The labels of everything sent since the last `take` (see [`Sent::label`]).
    pub fn take_labels(&self) -> Vec<String> {
        self.take().iter().map(Sent::label).collect()
    }
}

impl Wire for TestWire {
    fn local(&self) -> SocketAddr {
        self.local
    }
    fn transport(&self) -> Transport {
        Transport::Udp
    }
    fn new_via(&self) -> String {
        format!(
            "SIP/2.0/UDP {};branch=z9hG4bK{};rport",
            self.local,
            self.token()
        )
    }
    fn token(&self) -> String {
        let mut n = self.next_token.lock().expect("lock");
        *n += 1;
        format!("t{n}")
    }
    fn send_request_to(&self, to: SocketAddr, msg: Message) -> Result<TxId, SendError> {
        let mut n = self.next_tx.lock().expect("lock");
        *n += 1;
        let tx = TxId(*n);
        self.sent
            .lock()
            .expect("lock")
            .push(Sent::Request { tx, to, msg });
        Ok(tx)
    }
    fn send_response(&self, tx: TxId, msg: Message) -> Result<(), SendError> {
        self.sent
            .lock()
            .expect("lock")
            .push(Sent::Response { tx, msg });
        Ok(())
    }
    fn send_raw(&self, to: SocketAddr, bytes: Vec<u8>) {
        let msg = parse_message(&bytes);
        self.sent.lock().expect("lock").push(Sent::Raw { to, msg });
    }
}

/// Parses a message written as text with `\n` line ends (CRLF on the wire, body included);
/// Content-Length is computed and added (leave it out of `text`).
pub(crate) fn msg(text: &str) -> Message {
    let text = text.trim_start().replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((text.as_str(), ""));
    let body = body.replace('\n', "\r\n");
    let mut out = head.trim_end().replace('\n', "\r\n");
    out.push_str(&format!("\r\nContent-Length: {}\r\n\r\n", body.len()));
    out.push_str(&body);
    parse_message(out.as_bytes())
}

/// A request from `from` in server transaction `tx`.
pub(crate) fn request(tx: u64, from: &str, text: &str) -> EndpointEvent {
    EndpointEvent::Request {
        tx: TxId(tx),
        msg: msg(text),
        from: from.parse().expect("address"),
    }
}

/// A response to client transaction `tx`.
pub(crate) fn response(tx: TxId, text: &str) -> EndpointEvent {
    EndpointEvent::Response { tx, msg: msg(text) }
}
