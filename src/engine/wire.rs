//! What an agent needs from its endpoint: sending, and fresh identifiers. A trait so that
//! the agent logic can be tested without sockets; [`Endpoint`] is the real one.

use crate::net::{Endpoint, SendError, TxId};
use crate::sip::message::Message;
use crate::trace::Transport;
use std::net::SocketAddr;

/// What the agent needs from its endpoint: sending. A trait so that the agent logic can be
/// tested without sockets.
pub trait Wire: Send + Sync {
    fn local(&self) -> SocketAddr;
    fn transport(&self) -> Transport;
    /// A Via value with a fresh branch (RFC 3261 §8.1.1.7).
    fn new_via(&self) -> String;
    fn token(&self) -> String;
    fn send_request_to(&self, to: SocketAddr, msg: Message) -> Result<TxId, SendError>;
    fn send_response(&self, tx: TxId, msg: Message) -> Result<(), SendError>;
    fn send_raw(&self, to: SocketAddr, bytes: Vec<u8>);
}

impl Wire for Endpoint {
    fn local(&self) -> SocketAddr {
        self.local_addr()
    }
    fn transport(&self) -> Transport {
        Endpoint::transport(self)
    }
    fn new_via(&self) -> String {
        Endpoint::new_via(self)
    }
    fn token(&self) -> String {
        self.unique_token()
    }
    fn send_request_to(&self, to: SocketAddr, msg: Message) -> Result<TxId, SendError> {
        Endpoint::send_request_to(self, to, msg)
    }
    fn send_response(&self, tx: TxId, msg: Message) -> Result<(), SendError> {
        Endpoint::send_response(self, tx, msg)
    }
    fn send_raw(&self, to: SocketAddr, bytes: Vec<u8>) {
        Endpoint::send_raw(self, to, bytes)
    }
}
