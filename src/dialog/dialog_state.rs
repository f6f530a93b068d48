//! The dialog state (RFC 3261 §12): how it is created on each side and how responses move it.

use super::{
    contact_uri, creates_dialog, cseq_of, id_of, is_target_refresh, record_routes, DialogError,
    DialogId, DialogState, Role,
};
use crate::sip::addr::NameAddr;
use crate::sip::message::Message;
use crate::sip::uri::{parse_uri, Scheme, Uri};

/// One dialog, seen from our side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dialog {
    pub id: DialogId,
    pub state: DialogState,
    pub role: Role,
    /// The CSeq number of the last request we sent in the dialog; empty until we send one
    /// (RFC 3261 §12.1.1: the UAS starts empty). Set it before [`Dialog::next_request`] to
    /// choose the first number (§8.1.1.5); otherwise 1 is used.
    pub local_seq: Option<u32>,
    /// The highest CSeq number the peer has used; empty for the UAC until the peer sends a
    /// request (RFC 3261 §12.1.2).
    pub remote_seq: Option<u32>,
    /// Our address (From of the requests we send), tag excluded (RFC 3261 §12.1.1, §12.1.2).
    pub local_uri: NameAddr,
    /// The peer's address (To of the requests we send), tag excluded.
    pub remote_uri: NameAddr,
    /// Where requests go: the peer's Contact (RFC 3261 §12.1.1, §12.1.2, §12.2).
    pub remote_target: Uri,
    /// The proxies that asked to stay on the path, in the order our requests visit them
    /// (RFC 3261 §12.1.1, §12.1.2).
    pub route_set: Vec<NameAddr>,
    /// The request was sent or received over TLS with a SIPS Request-URI (RFC 3261 §12.1.1,
    /// §12.1.2). The dialog cannot see the transport: the caller says it.
    pub secure: bool,
    /// Our own Contact, written in the target refresh requests we send (RFC 3261 §12.2.1.1:
    /// "the same as used in previous requests"). `None`: the caller writes Contact itself.
    pub local_target: Option<Uri>,
    /// The CSeq number of the last INVITE we sent in the dialog, for its ACK and CANCEL
    /// (RFC 3261 §13.2.2.4, §9.1).
    pub last_invite_seq: Option<u32>,
}

impl Dialog {
    /// The UAC's dialog, from the request it sent and a response that creates a dialog: a
    /// 101-199 with a To tag to an INVITE (early) or a 2xx (confirmed) (RFC 3261 §12.1,
    /// §12.1.2). `over_tls`: the request went over TLS (for the secure flag).
    pub fn new_uac(
        request: &Message,
        response: &Message,
        over_tls: bool,
    ) -> Result<Dialog, DialogError> {
        let (method, state) = creating_exchange(request, response)?;
        let id = id_of(response, true)?;
        if id.remote_tag.is_empty() && state == DialogState::Early {
            // RFC 3261 §12.1: only a provisional *with a To tag* creates an early dialog. A
            // 2xx without one is an RFC 2543 peer: its tag is null (§12.1.2).
            return Err(DialogError::ResponseCreatesNoDialog {
                status: response.status().unwrap_or(0),
            });
        }
        if id_of(request, true)?.call_id != id.call_id {
            return Err(DialogError::Mismatch { what: "Call-ID" });
        }
        let number = cseq_of(request)?.number;
        // RFC 3261 §12.1.2: the route set is the Record-Route of the response, in reverse
        // order; the remote target is the response's Contact; the local sequence number is the
        // request's CSeq and the remote one is empty; local URI = From, remote URI = To.
        let mut route_set = record_routes(response)?;
        route_set.reverse();
        Ok(Dialog {
            id,
            state,
            role: Role::Uac,
            local_seq: Some(number),
            remote_seq: None,
            local_uri: party(request, true)?,
            remote_uri: party(response, false)?,
            remote_target: required_contact(response, "RFC 3261 §12.1.2")?,
            route_set,
            secure: over_tls && sips_request_uri(request),
            local_target: contact_uri(request, "RFC 3261 §8.1.1.8")?,
            last_invite_seq: (method == "INVITE").then_some(number),
        })
    }

    /// The UAS's dialog, from the request it received and the response it sends, which must
    /// carry the To tag the UAS chose (RFC 3261 §12.1, §12.1.1). `over_tls`: the request came
    /// over TLS.
    pub fn new_uas(
        request: &Message,
        response: &Message,
        over_tls: bool,
    ) -> Result<Dialog, DialogError> {
        let (_, state) = creating_exchange(request, response)?;
        let id = id_of(response, false)?;
        if id.local_tag.is_empty() {
            // RFC 3261 §12.1.1: the UAS MUST add a To tag to a response that creates a dialog.
            return Err(DialogError::bad_header("To tag", "RFC 3261 §12.1.1"));
        }
        if id_of(request, false)?.remote_tag != id.remote_tag {
            return Err(DialogError::Mismatch { what: "From tag" });
        }
        // RFC 3261 §12.1.1: the route set is the Record-Route of the request, in order; the
        // remote target is the request's Contact; the remote sequence number is the request's
        // CSeq and the local one is empty; remote URI = From, local URI = To.
        Ok(Dialog {
            id,
            state,
            role: Role::Uas,
            local_seq: None,
            remote_seq: Some(cseq_of(request)?.number),
            local_uri: party(response, false)?,
            remote_uri: party(request, true)?,
            remote_target: required_contact(request, "RFC 3261 §12.1.1")?,
            route_set: record_routes(request)?,
            secure: over_tls && sips_request_uri(request),
            local_target: contact_uri(response, "RFC 3261 §12.1.1")?,
            last_invite_seq: None,
        })
    }

    pub fn is_early(&self) -> bool {
        self.state == DialogState::Early
    }

    pub fn is_confirmed(&self) -> bool {
        self.state == DialogState::Confirmed
    }

    pub fn is_terminated(&self) -> bool {
        self.state == DialogState::Terminated
    }

    /// Ends the dialog (after a BYE, a final NOTIFY, or when the TU gives up on it).
    pub fn terminate(&mut self) {
        self.state = DialogState::Terminated;
    }

    /// A response to a request we sent inside this dialog, including the dialog-creating INVITE
    /// while the dialog is early.
    ///
    /// * 2xx to the INVITE of an early dialog: confirmed, with the route set and the remote
    ///   target recomputed from the 2xx (RFC 3261 §13.2.2.4, §12.1.2).
    /// * 2xx to any other target refresh request: the remote target becomes its Contact
    ///   (§12.2.1.2; RFC 3311 §5.1; RFC 6665 §3.1).
    /// * A final non-2xx to the INVITE of an early dialog terminates it (§12.3).
    /// * 481 or 408 to any request terminates the dialog (§12.2.1.2).
    pub fn on_response(&mut self, resp: &Message) -> Result<(), DialogError> {
        let id = DialogId::from_response_as_uac(resp)?;
        self.check_id(&id)?;
        let status = resp
            .status()
            .ok_or(DialogError::bad_header("Status-Line", "RFC 3261 §7.2"))?;
        let method = cseq_of(resp)?.method;
        let early_invite = self.is_early() && method == "INVITE";
        match status {
            100..=199 => {}
            200..=299 if early_invite => {
                // RFC 3261 §13.2.2.4: confirm, and recompute the route set from the 2xx.
                let mut route_set = record_routes(resp)?;
                route_set.reverse();
                let target = contact_uri(resp, "RFC 3261 §12.2.1.2")?;
                self.route_set = route_set;
                if let Some(t) = target {
                    self.remote_target = t;
                }
                self.state = DialogState::Confirmed;
            }
            200..=299 if is_target_refresh(&method) => {
                // RFC 3261 §12.2.1.2: a 2xx to a target refresh replaces the remote target.
                if let Some(t) = contact_uri(resp, "RFC 3261 §12.2.1.2")? {
                    self.remote_target = t;
                }
            }
            // RFC 3261 §12.2.1.2: a 481 or 408 to a request inside the dialog ends it.
            408 | 481 => self.terminate(),
            // RFC 3261 §12.3: a non-2xx final to the request outside the dialog that created
            // the early dialog terminates it.
            300.. if early_invite => self.terminate(),
            _ => {}
        }
        Ok(())
    }

    /// A response we (the UAS) send to the dialog-creating request: a 2xx confirms the early
    /// dialog (RFC 3261 §13.3.1.4, §12.1.1), a non-2xx final terminates it (§12.3).
    pub fn on_sent_response(&mut self, resp: &Message) -> Result<(), DialogError> {
        self.check_id(&id_of(resp, false)?)?;
        let status = resp
            .status()
            .ok_or(DialogError::bad_header("Status-Line", "RFC 3261 §7.2"))?;
        if self.is_early() && cseq_of(resp)?.method == "INVITE" {
            match status {
                200..=299 => self.state = DialogState::Confirmed,
                300.. => self.terminate(),
                _ => {}
            }
        }
        Ok(())
    }

    /// Whether `id` names this dialog (RFC 3261 §12: Call-ID, local tag and remote tag).
    pub(super) fn check_id(&self, id: &DialogId) -> Result<(), DialogError> {
        if id.call_id != self.id.call_id {
            Err(DialogError::Mismatch { what: "Call-ID" })
        } else if id.local_tag != self.id.local_tag {
            Err(DialogError::Mismatch { what: "local tag" })
        } else if id.remote_tag != self.id.remote_tag {
            Err(DialogError::Mismatch { what: "remote tag" })
        } else {
            Ok(())
        }
    }
}

/// Checks that `response` answers `request` in a way that creates a dialog, and gives the
/// method and the state the dialog starts in (RFC 3261 §12.1).
pub(super) fn creating_exchange(
    request: &Message,
    response: &Message,
) -> Result<(String, DialogState), DialogError> {
    let method = request
        .method()
        .ok_or(DialogError::bad_header("Request-Line", "RFC 3261 §7.1"))?
        .into_owned();
    if !creates_dialog(&method) {
        return Err(DialogError::MethodCreatesNoDialog { method });
    }
    let (req_cseq, resp_cseq) = (cseq_of(request)?, cseq_of(response)?);
    if req_cseq != resp_cseq {
        // RFC 3261 §8.1.3.3, §17.1.3: a response carries its request's CSeq.
        return Err(DialogError::Mismatch { what: "CSeq" });
    }
    let status = response.status().unwrap_or(0);
    let state = match status {
        // RFC 3261 §12.1: provisionals create (early) dialogs only for INVITE; 100 never does.
        101..=199 if method == "INVITE" => DialogState::Early,
        200..=299 => DialogState::Confirmed,
        _ => return Err(DialogError::ResponseCreatesNoDialog { status }),
    };
    Ok((method, state))
}

/// From (`from`) or To of a message, for the local or remote URI (RFC 3261 §12.1.1, §12.1.2).
fn party(msg: &Message, from: bool) -> Result<NameAddr, DialogError> {
    let a = if from { msg.from_addr() } else { msg.to_addr() };
    a.ok_or(if from {
        DialogError::bad_header("From", "RFC 3261 §8.1.1.3")
    } else {
        DialogError::bad_header("To", "RFC 3261 §8.1.1.2")
    })
}

/// The Contact that becomes the remote target; a dialog without one has nowhere to send
/// requests (RFC 3261 §12.1.1, §12.1.2, §8.1.1.8).
fn required_contact(msg: &Message, rfc: &'static str) -> Result<Uri, DialogError> {
    contact_uri(msg, rfc)?.ok_or(DialogError::bad_header("Contact", rfc))
}

/// The Request-URI is a SIPS URI (RFC 3261 §12.1.1, §12.1.2 secure flag).
fn sips_request_uri(request: &Message) -> bool {
    request
        .request_uri()
        .and_then(|u| parse_uri(&u).ok())
        .is_some_and(|u| u.scheme == Scheme::Sips)
}
