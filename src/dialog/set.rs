//! The dialogs created by one request when it forks (RFC 3261 §12.1.2, §13.2.2.4, §12.3;
//! RFC 6026 §7.2): one per To tag in the responses.

use super::{creates_dialog, cseq_of, id_of, Dialog, DialogError, DialogId, DialogState};
use crate::sip::message::Message;

/// What a response did to a [`DialogSet`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetEvent {
    /// A 100, a provisional without a To tag, or a provisional to a request other than INVITE:
    /// no dialog (RFC 3261 §12.1).
    NoDialog,
    /// A 101-199 with a To tag: `new` when it created an early dialog for a tag not seen
    /// before (RFC 3261 §12.1.2), false when that dialog existed already.
    Provisional { id: DialogId, new: bool },
    /// A 2xx confirmed the early dialog with its tag or created a confirmed one (RFC 3261
    /// §13.2.2.4). `first` is false when another dialog of the set was confirmed before: a
    /// forked INVITE answered twice. The TU must ACK it and may then end it with a BYE
    /// (§13.2.2.4; RFC 6026 §7.2).
    Confirmed { id: DialogId, first: bool },
    /// A 2xx again for a dialog already confirmed (or since ended): a retransmission that the
    /// TU must ACK again (RFC 3261 §13.2.2.4; RFC 6026 §7.2).
    Retransmitted2xx(DialogId),
    /// A final non-2xx: every early dialog of the set is terminated (RFC 3261 §12.3).
    Failed {
        status: u16,
        terminated: Vec<DialogId>,
    },
}

/// The dialogs one INVITE (or SUBSCRIBE, REFER) creates on the UAC side, keyed by remote tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DialogSet {
    request: Message,
    over_tls: bool,
    dialogs: Vec<Dialog>,
    confirmed_any: bool,
}

impl DialogSet {
    /// The set for `request`, which we sent; `over_tls` as in [`Dialog::new_uac`].
    pub fn new(request: &Message, over_tls: bool) -> Result<DialogSet, DialogError> {
        let method = request
            .method()
            .ok_or(DialogError::bad_header("Request-Line", "RFC 3261 §7.1"))?;
        if !creates_dialog(&method) {
            return Err(DialogError::MethodCreatesNoDialog {
                method: method.into_owned(),
            });
        }
        Ok(DialogSet {
            request: request.clone(),
            over_tls,
            dialogs: Vec::new(),
            confirmed_any: false,
        })
    }

    /// The request the dialogs come from.
    pub fn request(&self) -> &Message {
        &self.request
    }

    /// Every dialog created so far, in order of creation, whatever its state.
    pub fn dialogs(&self) -> &[Dialog] {
        &self.dialogs
    }

    pub fn dialogs_mut(&mut self) -> &mut [Dialog] {
        &mut self.dialogs
    }

    /// The dialog with this remote tag (empty for an RFC 2543 peer that sent none).
    pub fn get(&self, remote_tag: &str) -> Option<&Dialog> {
        self.dialogs.iter().find(|d| d.id.remote_tag == remote_tag)
    }

    pub fn get_mut(&mut self, remote_tag: &str) -> Option<&mut Dialog> {
        self.dialogs
            .iter_mut()
            .find(|d| d.id.remote_tag == remote_tag)
    }

    /// The confirmed dialogs.
    pub fn confirmed(&self) -> impl Iterator<Item = &Dialog> + '_ {
        self.dialogs.iter().filter(|d| d.is_confirmed())
    }

    /// A response to the request (RFC 3261 §12.1.2, §13.2.2.4, §12.3). It must carry the
    /// request's Call-ID, From tag and CSeq.
    pub fn on_response(&mut self, resp: &Message) -> Result<SetEvent, DialogError> {
        self.check_matches(resp)?;
        let status = resp
            .status()
            .ok_or(DialogError::bad_header("Status-Line", "RFC 3261 §7.2"))?;
        if status >= 300 {
            return Ok(self.fail(status));
        }
        let id = id_of(resp, true)?;
        let invite = self.request.method().is_some_and(|m| m == "INVITE");
        if status < 200 && (status == 100 || id.remote_tag.is_empty() || !invite) {
            // RFC 3261 §12.1: only 101-199 with a To tag, to an INVITE, create (early) dialogs.
            return Ok(SetEvent::NoDialog);
        }
        let Some(d) = self.get_mut(&id.remote_tag) else {
            return self.create(resp, id, status);
        };
        if status < 200 {
            d.on_response(resp)?;
            return Ok(SetEvent::Provisional { id, new: false });
        }
        if !d.is_early() {
            return Ok(SetEvent::Retransmitted2xx(id));
        }
        // RFC 3261 §13.2.2.4: the 2xx matches an early dialog: it is confirmed and its route
        // set recomputed from the 2xx.
        d.on_response(resp)?;
        Ok(self.confirmed_event(id))
    }

    /// The client transaction ended (Timer M, 64*T1 after the first 2xx, RFC 6026 §7.2;
    /// RFC 3261 §13.2.2.4): no 2xx can come any more, so the dialogs still early are
    /// terminated. Gives their ids.
    pub fn on_transaction_end(&mut self) -> Vec<DialogId> {
        self.terminate_early()
    }

    /// A new dialog for a tag not seen before: early for a 1xx (RFC 3261 §12.1.2), confirmed
    /// for a 2xx (§13.2.2.4 "a new dialog in the confirmed state MUST be constructed").
    fn create(
        &mut self,
        resp: &Message,
        id: DialogId,
        status: u16,
    ) -> Result<SetEvent, DialogError> {
        let d = Dialog::new_uac(&self.request, resp, self.over_tls)?;
        self.dialogs.push(d);
        if status < 200 {
            Ok(SetEvent::Provisional { id, new: true })
        } else {
            Ok(self.confirmed_event(id))
        }
    }

    fn confirmed_event(&mut self, id: DialogId) -> SetEvent {
        let first = !self.confirmed_any;
        self.confirmed_any = true;
        SetEvent::Confirmed { id, first }
    }

    /// RFC 3261 §12.3: a non-2xx final terminates the early dialogs of the request.
    fn fail(&mut self, status: u16) -> SetEvent {
        SetEvent::Failed {
            status,
            terminated: self.terminate_early(),
        }
    }

    fn terminate_early(&mut self) -> Vec<DialogId> {
        let mut ended = Vec::new();
        for d in self.dialogs.iter_mut().filter(|d| d.is_early()) {
            d.state = DialogState::Terminated;
            ended.push(d.id.clone());
        }
        ended
    }

    /// The response answers our request: same Call-ID and From tag (RFC 3261 §8.1.3.3) and the
    /// same CSeq (§17.1.3).
    fn check_matches(&self, resp: &Message) -> Result<(), DialogError> {
        let ours = id_of(&self.request, true)?;
        let theirs = id_of(resp, true)?;
        if ours.call_id != theirs.call_id {
            return Err(DialogError::Mismatch { what: "Call-ID" });
        }
        if ours.local_tag != theirs.local_tag {
            return Err(DialogError::Mismatch { what: "From tag" });
        }
        if cseq_of(&self.request)? != cseq_of(resp)? {
            return Err(DialogError::Mismatch { what: "CSeq" });
        }
        Ok(())
    }
}
