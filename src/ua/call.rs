//! One call of the reference UA: its dialog, the INVITE being answered or sent, and what is
//! retransmitted until it is acknowledged.

use super::AnswerPlan;
use crate::dialog::{Dialog, DialogSet};
use crate::net::TxId;
use crate::sip::message::Message;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

/// Which side of the call the UA is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Side {
    Uas,
    Uac,
}

/// An INVITE (initial or re-INVITE) the UA received and has not answered finally yet.
#[derive(Clone, Debug)]
pub(super) struct Answering {
    pub tx: TxId,
    pub request: Message,
    pub from: SocketAddr,
    pub plan: AnswerPlan,
    /// Provisionals of the plan sent so far.
    pub sent_provisionals: usize,
    /// Our SDP for this exchange: the answer to the INVITE's offer, or our offer when it had
    /// none.
    pub sdp: Option<Vec<u8>>,
    /// The answer went out in a reliable provisional (RFC 3262 §5): the 2xx carries none.
    pub answered_early: bool,
    /// A reliable provisional waits for its PRACK (RFC 3262 §3).
    pub awaiting_prack: bool,
    pub rseq: u32,
    /// The ringing time of the plan was waited out.
    pub rang: bool,
}

/// A response retransmitted until something stops it: a 2xx until its ACK (RFC 3261
/// §13.3.1.4), a reliable provisional until its PRACK (RFC 3262 §3).
#[derive(Clone, Debug)]
pub(super) struct Retransmission {
    pub tx: TxId,
    pub msg: Message,
    /// The CSeq number of the INVITE (2xx) or the RSeq (reliable provisional).
    pub number: u32,
    pub reliable_provisional: bool,
    pub next: Instant,
    pub interval: Duration,
    pub until: Instant,
}

/// Why the UA sent an INVITE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Purpose {
    Initial,
    Hold,
    Unhold,
}

/// An INVITE the UA sent and that has no final response yet.
#[derive(Clone, Debug)]
pub(super) struct Calling {
    pub tx: TxId,
    pub request: Message,
    pub purpose: Purpose,
    /// It carried an offer (else the 2xx carries one, answered in the ACK).
    pub offered: bool,
    /// The SDP it carried.
    pub sdp: Option<Vec<u8>>,
}

#[derive(Clone, Debug)]
pub(super) struct Call {
    pub id: u64,
    pub side: Side,
    /// The peer key (host:port of the peer's URI) a driver names the call by.
    pub peer: String,
    pub call_id: String,
    pub local_tag: String,
    /// The dialog once it exists (early or confirmed).
    pub dialog: Option<Dialog>,
    /// The UAC's dialog set while its initial INVITE is pending (forking, RFC 3261 §12.1.2).
    pub set: Option<DialogSet>,
    /// Where the peer's requests come from / ours go when no route says otherwise.
    pub remote_addr: SocketAddr,
    pub answering: Option<Answering>,
    pub calling: Option<Calling>,
    pub retransmissions: Vec<Retransmission>,
    /// Our last session description (for hold and unhold re-offers, RFC 3264 §8).
    pub local_sdp: Option<Vec<u8>>,
    /// ACKs we sent per INVITE CSeq, re-sent for each retransmitted 2xx (§13.2.2.4).
    pub acks: HashMap<u32, Vec<u8>>,
    /// A 2xx went out or came in: the session exists.
    pub established: bool,
    /// BYE sent or received, CANCELled, or the INVITE failed.
    pub ended: bool,
    /// The To tag used in provisionals when the `to-tag-changes` quirk swaps it for the 2xx.
    pub provisional_tag: Option<String>,
}

impl Call {
    pub fn new(
        id: u64,
        side: Side,
        peer: String,
        call_id: String,
        local_tag: String,
        remote_addr: SocketAddr,
    ) -> Call {
        Call {
            id,
            side,
            peer,
            call_id,
            local_tag,
            dialog: None,
            set: None,
            remote_addr,
            answering: None,
            calling: None,
            retransmissions: Vec::new(),
            local_sdp: None,
            acks: HashMap::new(),
            established: false,
            ended: false,
            provisional_tag: None,
        }
    }

    /// Nothing more will happen in this call.
    pub fn is_finished(&self) -> bool {
        self.ended && self.retransmissions.is_empty() && self.answering.is_none()
    }

    /// Whether a request with this Call-ID and these tags belongs to the call (the remote tag
    /// is the request's From tag, the local one its To tag).
    pub fn matches(
        &self,
        call_id: &str,
        local_tag: Option<&str>,
        remote_tag: Option<&str>,
    ) -> bool {
        if self.call_id != call_id {
            return false;
        }
        if local_tag
            .is_some_and(|t| t != self.local_tag && Some(t) != self.provisional_tag.as_deref())
        {
            return false;
        }
        match (&self.dialog, remote_tag) {
            (Some(d), Some(r)) => d.id.remote_tag == r,
            _ => true,
        }
    }
}
