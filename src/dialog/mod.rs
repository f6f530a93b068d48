//! SIP dialogs (RFC 3261 §12) as sans-IO state: created from a request and a response, updated
//! by the requests and responses exchanged inside them, and able to build the next request.
//!
//! A [`Dialog`] never sends anything. It reads parsed [`Message`]s and hands back
//! [`MessageBuilder`]s; the caller adds the Via (with a new branch, RFC 3261 §8.1.1.7) and any
//! authentication headers, then gives the bytes to a client transaction.
//!
//! * [`Dialog::new_uac`] / [`Dialog::new_uas`]: creation (§12.1.2, §12.1.1).
//! * [`Dialog::next_request`], [`Dialog::ack_for_2xx`], [`Dialog::cancel`]: requests inside the
//!   dialog (§12.2.1.1, §13.2.2.4, §9.1).
//! * [`Dialog::on_remote_request`], [`Dialog::on_response`], [`Dialog::on_sent_response`]:
//!   updates (§12.2.2, §12.2.1.2, §12.3).
//! * [`DialogSet`]: the dialogs one INVITE creates when a proxy forks it (§12.1.2, §13.2.2.4,
//!   RFC 6026).

mod dialog_state;
mod request;
mod set;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_forking;

pub use dialog_state::Dialog;
pub use request::cancel_for;
pub use set::{DialogSet, SetEvent};

use crate::sip::addr::{self, ContactValue, NameAddr};
use crate::sip::builder::MessageBuilder;
use crate::sip::header_name::HeaderName;
use crate::sip::message::Message;
use crate::sip::uri::Uri;

/// The identity of a dialog: Call-ID, local tag and remote tag (RFC 3261 §12). A tag that the
/// peer left out (an RFC 2543 element) is the empty string: "null" in §12.1.1 and §12.1.2.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DialogId {
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
}

impl DialogId {
    /// The dialog a received request belongs to: local tag = To tag, remote tag = From tag
    /// (RFC 3261 §12.2.2). A request without a To tag is outside any dialog (§12.2.2, §8.2.2.2).
    pub fn from_request_as_uas(req: &Message) -> Result<DialogId, DialogError> {
        let id = id_of(req, false)?;
        if id.local_tag.is_empty() {
            return Err(DialogError::OutsideDialog);
        }
        Ok(id)
    }

    /// The dialog a received response belongs to: local tag = From tag, remote tag = To tag
    /// (RFC 3261 §12.1.2). A missing To tag gives an empty remote tag (RFC 2543 peers).
    pub fn from_response_as_uac(resp: &Message) -> Result<DialogId, DialogError> {
        id_of(resp, true)
    }

    /// The dialog of any received message: a request as UAS, a response as UAC.
    pub fn of_received(msg: &Message) -> Result<DialogId, DialogError> {
        if msg.is_request() {
            Self::from_request_as_uas(msg)
        } else {
            Self::from_response_as_uac(msg)
        }
    }
}

/// The id a message carries, reading the local tag from From (`local_is_from`: requests we send
/// and their responses) or from To (requests we receive and our responses to them).
fn id_of(msg: &Message, local_is_from: bool) -> Result<DialogId, DialogError> {
    let call_id = msg
        .call_id()
        .ok_or(DialogError::bad_header("Call-ID", "RFC 3261 §8.1.1.4"))?;
    let from = msg
        .tag_of(HeaderName::From)
        .ok_or(DialogError::bad_header("From", "RFC 3261 §8.1.1.3"))?;
    let to = msg
        .tag_of(HeaderName::To)
        .ok_or(DialogError::bad_header("To", "RFC 3261 §8.1.1.2"))?;
    // RFC 3261 §12.1.1, §12.1.2: a missing tag is a null tag.
    let from_tag = from.unwrap_or_default();
    let to_tag = to.unwrap_or_default();
    let (local_tag, remote_tag) = if local_is_from {
        (from_tag, to_tag)
    } else {
        (to_tag, from_tag)
    };
    Ok(DialogId {
        call_id,
        local_tag,
        remote_tag,
    })
}

/// Where a dialog is in its life (RFC 3261 §12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DialogState {
    /// Created by a 101-199 response with a To tag (RFC 3261 §12.1).
    Early,
    /// Created or confirmed by a 2xx (RFC 3261 §12.1, §13.2.2.4).
    Confirmed,
    /// Ended by a non-2xx final to the creating INVITE (§12.3), a BYE (§15), or a 481/408 to a
    /// request inside it (§12.2.1.2).
    Terminated,
}

/// Which side of the dialog-creating transaction we were (RFC 3261 §12.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// We sent the request that created the dialog.
    Uac,
    /// We received it.
    Uas,
}

/// What was wrong, with the section of the RFC that says so.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DialogError {
    #[error("{header} is missing or does not parse ({rfc})")]
    BadHeader {
        header: &'static str,
        rfc: &'static str,
    },
    #[error("the request has no To tag, so it is outside any dialog (RFC 3261 §12.2.2, §8.2.2.2)")]
    OutsideDialog,
    #[error("{method} does not create dialogs: INVITE (RFC 3261 §12.1), SUBSCRIBE (RFC 6665 §4.4.1) and REFER (RFC 3515 §2.4.4) do")]
    MethodCreatesNoDialog { method: String },
    #[error("a {status} response does not create a dialog: only 2xx, and 101-199 with a To tag to an INVITE, do (RFC 3261 §12.1)")]
    ResponseCreatesNoDialog { status: u16 },
    #[error("the message is not part of this dialog or transaction: its {what} differs (RFC 3261 §12, §12.2.2: 481)")]
    Mismatch { what: &'static str },
    #[error("CSeq {got} is lower than the remote sequence number {last}: the request is out of order and gets a 500 (RFC 3261 §12.2.2)")]
    CSeqOutOfOrder { got: u32, last: u32 },
    #[error("the next CSeq number would reach 2**31 (RFC 3261 §8.1.1.5)")]
    CSeqExhausted,
    #[error("the dialog is terminated (RFC 3261 §12.3); requests for it get a 481 (§12.2.2)")]
    Terminated,
    #[error("no INVITE was sent in this dialog: nothing to {method} (RFC 3261 §9.1, §13.2.2.4)")]
    NoInvite { method: &'static str },
    #[error("the INVITE that created an early dialog is cancelled with a CANCEL built from that INVITE, whose To has no tag (RFC 3261 §9.1): use cancel_for")]
    CancelInitialInvite,
}

impl DialogError {
    fn bad_header(header: &'static str, rfc: &'static str) -> Self {
        DialogError::BadHeader { header, rfc }
    }

    /// The RFC section behind the error.
    pub fn rfc(&self) -> &'static str {
        match self {
            DialogError::BadHeader { rfc, .. } => rfc,
            DialogError::OutsideDialog => "RFC 3261 §12.2.2",
            DialogError::MethodCreatesNoDialog { .. }
            | DialogError::ResponseCreatesNoDialog { .. } => "RFC 3261 §12.1",
            DialogError::Mismatch { .. } | DialogError::CSeqOutOfOrder { .. } => "RFC 3261 §12.2.2",
            DialogError::CSeqExhausted => "RFC 3261 §8.1.1.5",
            DialogError::Terminated => "RFC 3261 §12.3",
            DialogError::NoInvite { .. } | DialogError::CancelInitialInvite => "RFC 3261 §9.1",
        }
    }

    /// The status a UAS answers a request with when [`Dialog::on_remote_request`] fails this
    /// way: 500 for an out-of-order CSeq and 481 for a request matching no live dialog
    /// (RFC 3261 §12.2.2), 400 for a malformed request (§8.2). `None` for the errors that are
    /// not about a received request.
    pub fn status_code(&self) -> Option<u16> {
        match self {
            DialogError::CSeqOutOfOrder { .. } => Some(500),
            DialogError::Mismatch { .. } | DialogError::Terminated => Some(481),
            DialogError::BadHeader { .. } => Some(400),
            _ => None,
        }
    }
}

/// Methods whose requests refresh the remote target: INVITE (RFC 3261 §12.2, §14), UPDATE
/// (RFC 3311 §5), SUBSCRIBE and NOTIFY (RFC 6665 §3.1, §3.2).
pub fn is_target_refresh(method: &str) -> bool {
    matches!(method, "INVITE" | "UPDATE" | "SUBSCRIBE" | "NOTIFY")
}

/// Methods whose 2xx creates a dialog: INVITE (RFC 3261 §12.1), SUBSCRIBE (RFC 6665 §4.4.1),
/// REFER (its implicit subscription, RFC 3515 §2.4.4).
pub fn creates_dialog(method: &str) -> bool {
    matches!(method, "INVITE" | "SUBSCRIBE" | "REFER")
}

/// The CSeq of a message, or the error naming it (RFC 3261 §8.1.1.5).
fn cseq_of(msg: &Message) -> Result<crate::sip::headers::CSeq, DialogError> {
    msg.cseq()
        .ok_or(DialogError::bad_header("CSeq", "RFC 3261 §8.1.1.5"))
}

/// The first Contact URI, `None` when there is no Contact header. A Contact that does not parse
/// or is `*` is an error: a dialog's target is one SIP URI (RFC 3261 §8.1.1.8, §12.1.1).
fn contact_uri(msg: &Message, rfc: &'static str) -> Result<Option<Uri>, DialogError> {
    let Some(h) = msg.header(HeaderName::Contact) else {
        return Ok(None);
    };
    match addr::parse_contact(&msg.value(h)) {
        Ok(ContactValue::Addresses(list)) if !list.is_empty() => {
            Ok(list.into_iter().next().map(|a| a.uri))
        }
        _ => Err(DialogError::bad_header("Contact", rfc)),
    }
}

/// Every Record-Route value, top first, across all Record-Route fields (RFC 3261 §20.30).
fn record_routes(msg: &Message) -> Result<Vec<NameAddr>, DialogError> {
    let mut out = Vec::new();
    for h in msg.headers_named(HeaderName::RecordRoute) {
        let list = addr::parse_address_list(&msg.value(h))
            .map_err(|_| DialogError::bad_header("Record-Route", "RFC 3261 §20.30"))?;
        out.extend(list);
    }
    Ok(out)
}

/// `display <uri>;tag=tag`, the To or From of a request inside a dialog (RFC 3261 §12.2.1.1).
/// An empty tag (an RFC 2543 peer) is left out.
fn format_party(a: &NameAddr, tag: &str) -> String {
    let mut s = match &a.display_name_raw {
        Some(d) => format!("{d} <{}>", a.uri),
        None => format!("<{}>", a.uri),
    };
    if !tag.is_empty() {
        s.push_str(";tag=");
        s.push_str(tag);
    }
    s
}

/// A route set entry as a Route value: `<uri>` and its header parameters, all kept (RFC 3261
/// §12.2.1.1 "including all parameters").
fn format_route(a: &NameAddr) -> String {
    let mut s = format!("<{}>", a.uri);
    for (name, value) in &a.params {
        s.push(';');
        s.push_str(name);
        if let Some(v) = value {
            s.push('=');
            s.push_str(v);
        }
    }
    s
}

/// Adds the Route header fields, one value per field, in order.
fn add_routes(mut b: MessageBuilder, routes: &[String]) -> MessageBuilder {
    for r in routes {
        b = b.header("Route", r);
    }
    b
}
