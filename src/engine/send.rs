//! `send` steps (`docs/scenarios.md`, "send"): build the request or response from the agent's
//! state, apply the scenario's body and header edits, hand it to the endpoint, and update
//! the dialogs. Sending never waits.

use super::compose::{self, NewRequest};
use super::draft::{Draft, RenderedEdit};
use super::exec::Stop;
use super::run::Run;
use super::sdp_gen::{self, Role};
use super::vars::{finish_raw, StepScope};
use crate::dialog::{cancel_for, creates_dialog, Dialog, DialogSet};
use crate::net::TxId;
use crate::scenario::{
    AckMode, BodySpec, Built, Content, HeaderEdit, Located, Outgoing, Peer, ReplyTo, Send, Template,
};
use crate::sip::message::Message;
use crate::sip::parse::parse_message;
use tokio::time::Instant;

/// Where a request goes with respect to dialogs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// It creates the dialog of this slot.
    New(usize),
    /// Inside the dialog of this slot.
    In(usize),
    /// Outside any dialog.
    Outside,
}

/// Methods that, without `dialog:`, go in the agent's most recent dialog when it is live.
const IN_DIALOG_BY_DEFAULT: &[&str] = &[
    "BYE", "INVITE", "UPDATE", "INFO", "PRACK", "NOTIFY", "REFER",
];

fn unset(e: crate::scenario::UnsetVariable) -> Stop {
    Stop::Fail {
        rule: "scenario.variable.unset",
        expected: format!("variable `{}` to have a value", e.0),
        actual: "it has none: the step that captures it did not happen".into(),
    }
}

impl Run<'_> {
    pub(super) fn send(&mut self, s: &Send) -> Result<(), Stop> {
        let a = self.agent_index(&s.from);
        match &s.message {
            Outgoing::Request { method, to, ack } => match (method.as_str(), &s.content) {
                ("ACK", c) => self.send_manual_ack(a, s, c),
                (_, Content::Raw(t)) => self.send_raw_request(a, t),
                ("CANCEL", Content::Built(b)) => self.send_cancel(a, b),
                (_, Content::Built(b)) => self.send_built_request(a, s, method, to, *ack, b),
            },
            Outgoing::Response {
                status,
                reason,
                reply_to,
            } => self.send_response(a, s, *status, reason.as_deref(), reply_to),
        }
    }

    /// Renders a template in the scope of agent `a` (`raw`: `[len]` allowed).
    pub(super) fn render(&self, a: usize, t: &Template, raw: bool) -> Result<String, Stop> {
        let agent = &self.agents[a];
        let wire = agent.wire.clone();
        let mut branch = move || format!("z9hG4bK{}", wire.token());
        let transport = agent.wire.transport().as_str().to_ascii_uppercase();
        let mut scope = StepScope {
            agent: &agent.name,
            transport: &transport,
            next_cseq: agent.cseq + 1,
            branch: &mut branch,
            raw,
        };
        self.vars.render(t, &mut scope).map_err(unset)
    }

    fn render_edits(&self, a: usize, edits: &[HeaderEdit]) -> Result<Vec<RenderedEdit>, Stop> {
        edits
            .iter()
            .map(|e| {
                let values = match &e.values {
                    None => None,
                    Some(vs) => Some(
                        vs.iter()
                            .map(|v| self.render(a, v, false))
                            .collect::<Result<Vec<_>, _>>()?,
                    ),
                };
                Ok((e.name.value.clone(), values))
            })
            .collect()
    }

    fn send_raw_request(&mut self, a: usize, t: &Located<Template>) -> Result<(), Stop> {
        let bytes = finish_raw(&self.render(a, t, true)?);
        let agent = &mut self.agents[a];
        if t.variables().any(|v| v == "cseq") {
            agent.cseq += 1;
        }
        let msg = parse_message(&bytes);
        // Through a client transaction when one can be made of it (so that answers match and
        // it is retransmitted); else as it is, statelessly.
        match agent.wire.send_request_to(agent.target, msg.clone()) {
            Ok(tx) => agent.record_sent(tx, msg, None, AckMode::Auto),
            Err(_) => {
                agent.sent_stateless = true;
                agent.wire.send_raw(agent.target, bytes);
            }
        }
        Ok(())
    }

    fn send_built_request(
        &mut self,
        a: usize,
        s: &Send,
        method: &str,
        to: &Located<Peer>,
        ack: AckMode,
        b: &Built,
    ) -> Result<(), Stop> {
        let place = self.place(a, s, method)?;
        let mut draft = match place {
            Place::In(i) => self.in_dialog_draft(a, i, method, s)?,
            Place::New(i) => {
                let tag = self.agents[a].slots[i].local_tag.clone();
                self.new_request_draft(a, method, to, b, tag)?
            }
            Place::Outside => {
                let tag = self.agents[a].wire.token();
                self.new_request_draft(a, method, to, b, tag)?
            }
        };
        let slot = match place {
            Place::In(i) | Place::New(i) => Some(i),
            Place::Outside => None,
        };
        self.request_body(a, slot, method, &b.body, &mut draft)?;
        if let Some(auth) = &b.auth {
            self.authorize(a, method, auth, &mut draft)?;
        }
        draft.apply(&self.render_edits(a, &b.headers)?);
        let msg = parse_message(&draft.to_bytes());
        let tx = self.transmit(a, &msg)?;
        let agent = &mut self.agents[a];
        agent.record_sent(tx, msg.clone(), slot, ack);
        if let Place::New(i) = place {
            let set = DialogSet::new(&msg, false).map_err(|e| Stop::Error(e.to_string()))?;
            agent.slots[i].set = Some(set);
            agent.slots[i].creating_tx = Some(tx);
        }
        Ok(())
    }

    fn transmit(&self, a: usize, msg: &Message) -> Result<TxId, Stop> {
        let agent = &self.agents[a];
        agent
            .wire
            .send_request_to(agent.target, msg.clone())
            .map_err(|e| Stop::Error(format!("cannot send the {}: {e}", msg.summary())))
    }

    /// Decides the dialog of a request (`docs/scenarios.md`, "Dialogs").
    fn place(&mut self, a: usize, s: &Send, method: &str) -> Result<Place, Stop> {
        let agent = &mut self.agents[a];
        if let Some(name) = &s.dialog {
            return match agent.slot_named(name) {
                Some(i) => Ok(Place::In(i)),
                None => {
                    let tag = agent.wire.token();
                    Ok(Place::New(agent.new_slot(Some(name.value.clone()), tag)))
                }
            };
        }
        let live = agent.last_slot.filter(|&i| {
            agent.slots[i]
                .dialog
                .as_ref()
                .is_some_and(|d| !d.is_terminated())
        });
        match live {
            Some(i) if IN_DIALOG_BY_DEFAULT.contains(&method) => Ok(Place::In(i)),
            _ if creates_dialog(method) => {
                let tag = agent.wire.token();
                Ok(Place::New(agent.new_slot(None, tag)))
            }
            _ => Ok(Place::Outside),
        }
    }

    fn in_dialog_draft(
        &mut self,
        a: usize,
        i: usize,
        method: &str,
        s: &Send,
    ) -> Result<Draft, Stop> {
        let agent = &mut self.agents[a];
        let name = s
            .dialog
            .as_ref()
            .map_or("(most recent)", |d| d.value.as_str());
        let via = agent.wire.new_via();
        let unusable = |actual: String| Stop::Fail {
            rule: "scenario.dialog.unusable",
            expected: format!("dialog `{name}` established, to send {method} in it"),
            actual,
        };
        let dialog = agent.slots[i]
            .dialog
            .as_mut()
            .ok_or_else(|| unusable("no response established it (RFC 3261 §12.1)".into()))?;
        let d = compose::in_dialog_request(dialog, method, &via)
            .map_err(|e| unusable(e.to_string()))?;
        agent.last_slot = Some(i);
        Ok(d)
    }

    fn new_request_draft(
        &mut self,
        a: usize,
        method: &str,
        to: &Located<Peer>,
        b: &Built,
        tag: String,
    ) -> Result<Draft, Stop> {
        let (to_uri, to_display) = match &to.value {
            Peer::Target => (
                self.vars
                    .target
                    .as_ref()
                    .map(|t| t.uri())
                    .unwrap_or_default(),
                None,
            ),
            Peer::Agent(n) => {
                let i = self.agent_index(n);
                (self.agents[i].uri(), self.agents[i].display.clone())
            }
        };
        let request_uri = match &b.uri {
            Some(t) => self.render(a, t, false)?,
            None => to_uri.clone(),
        };
        let agent = &mut self.agents[a];
        agent.cseq += 1;
        let (from_uri, contact, via) = (agent.uri(), agent.contact(), agent.wire.new_via());
        Ok(compose::new_request(&NewRequest {
            method,
            request_uri: &request_uri,
            from: (agent.display.as_deref(), &from_uri),
            from_tag: &tag,
            to: (to_display.as_deref(), &to_uri),
            call_id: &agent.call_id,
            cseq: agent.cseq,
            via: &via,
            contact: Some(&contact),
        }))
    }

    /// The body of a request: the scenario's, else an offer in an INVITE (RFC 3264 §5).
    fn request_body(
        &mut self,
        a: usize,
        slot: Option<usize>,
        method: &str,
        spec: &BodySpec,
        draft: &mut Draft,
    ) -> Result<(), Stop> {
        let sdp = match spec {
            BodySpec::Empty => None,
            BodySpec::Auto if method == "INVITE" => {
                let ctx = self.agents[a].next_sdp();
                Some(sdp_gen::offer(&ctx, &Default::default()))
            }
            BodySpec::Auto => None,
            BodySpec::Sdp(spec) => {
                let agent = &mut self.agents[a];
                let prev = slot.and_then(|i| agent.slots[i].last_sdp.clone());
                let ctx = agent.next_sdp();
                Some(sdp_gen::for_spec(&ctx, spec, Role::Offer, prev.as_deref()))
            }
            BodySpec::Text { content_type, text } => {
                return self.text_body(a, content_type, text, draft);
            }
        };
        self.set_sdp_body(a, slot, sdp, draft);
        Ok(())
    }

    /// `send: ACK` after an INVITE with `ack: manual`: the withheld ACK of its 2xx.
    fn send_manual_ack(&mut self, a: usize, s: &Send, content: &Content) -> Result<(), Stop> {
        let edits = match content {
            Content::Built(b) => self.render_edits(a, &b.headers)?,
            Content::Raw(t) => return self.send_raw_request(a, t),
        };
        let agent = &mut self.agents[a];
        let slot = match &s.dialog {
            Some(name) => agent.slot_named(name),
            None => agent.slots.iter().rposition(|x| x.held_2xx.is_some()),
        };
        let held = slot.and_then(|i| agent.slots[i].held_2xx.take().map(|m| (i, m)));
        let Some((i, ok)) = held else {
            return Err(Stop::Fail {
                rule: "scenario.ack.nothing-to-ack",
                expected: "a 2xx to the INVITE sent with `ack: manual`, waiting for its ACK".into(),
                actual: "no such 2xx has arrived".into(),
            });
        };
        agent
            .send_ack(i, &ok, &edits)
            .map(|_| ())
            .map_err(Stop::Error)
    }

    /// CANCEL of the agent's latest INVITE that has no final response (RFC 3261 §9.1).
    fn send_cancel(&mut self, a: usize, b: &Built) -> Result<(), Stop> {
        let agent = &self.agents[a];
        let invite = agent
            .sent
            .iter()
            .filter(|(_, s)| s.method == "INVITE" && !s.finished)
            .max_by_key(|(tx, _)| **tx)
            .map(|(_, s)| s.msg.clone());
        let Some(invite) = invite else {
            return Err(Stop::Fail {
                rule: "scenario.cancel.nothing-to-cancel",
                expected: "an INVITE without a final response, to CANCEL".into(),
                actual: "every INVITE of the agent has its final response".into(),
            });
        };
        let built =
            cancel_for(&invite).ok_or_else(|| Stop::Error("cannot build the CANCEL".into()))?;
        let mut draft = Draft::from_message(&parse_message(&built.build()));
        draft.apply(&self.render_edits(a, &b.headers)?);
        let msg = parse_message(&draft.to_bytes());
        let tx = self.transmit(a, &msg)?;
        self.agents[a].record_sent(tx, msg, None, AckMode::Auto);
        Ok(())
    }

    fn send_response(
        &mut self,
        a: usize,
        s: &Send,
        status: u16,
        reason: Option<&str>,
        reply_to: &ReplyTo,
    ) -> Result<(), Stop> {
        if let ReplyTo::Label(l) = reply_to {
            let came = self.agents[a]
                .received
                .iter()
                .any(|x| x.label.as_deref() == Some(l.as_str()));
            if !came && self.sc.label_is_optional(l) {
                // The optional request it answers did not come: nothing to answer, the
                // step is passed over (docs/scenarios.md, `reply_to`).
                return Ok(());
            }
        }
        let idx = self.find_received(a, reply_to).ok_or_else(|| Stop::Fail {
            rule: "scenario.send.nothing-to-answer",
            expected: format!(
                "a request at {} to answer with {status}",
                self.agents[a].name
            ),
            actual: "every request it received has its final response".into(),
        })?;
        let req = self.agents[a].received[idx].clone();
        let reason = reason.unwrap_or(compose::reason_phrase(status));
        let bytes = match &s.content {
            Content::Raw(t) => finish_raw(&self.render(a, t, true)?),
            Content::Built(b) => {
                let agent = &self.agents[a];
                let contact =
                    compose::response_has_contact(&req.method, status).then(|| agent.contact());
                let mut d = compose::response(
                    &req.msg,
                    status,
                    reason,
                    Some(&req.local_tag),
                    contact.as_deref(),
                );
                self.response_body(a, &req.msg, req.slot, status, &b.body, &mut d)?;
                d.apply(&self.render_edits(a, &b.headers)?);
                d.to_bytes()
            }
        };
        let msg = parse_message(&bytes);
        let raw = matches!(s.content, Content::Raw(_));
        let agent = &mut self.agents[a];
        let sent = match req.tx {
            Some(tx) => agent.wire.send_response(tx, msg.clone()),
            None => Err(crate::net::SendError::NoDestination),
        };
        match sent {
            Ok(()) => {}
            // A raw response the transaction refuses (malformed on purpose) goes as it is.
            Err(_) if raw || req.tx.is_none() => agent.wire.send_raw(agent.target, bytes),
            Err(e) => return Err(Stop::Error(format!("cannot send the {status}: {e}"))),
        }
        if status >= 200 {
            agent.received[idx].answered = true;
        }
        self.after_response(a, idx, &msg, s);
        Ok(())
    }

    /// Dialog bookkeeping after a response (RFC 3261 §12.1.1, §13.3.1.4).
    fn after_response(&mut self, a: usize, idx: usize, resp: &Message, s: &Send) {
        let agent = &mut self.agents[a];
        let req = agent.received[idx].clone();
        let status = resp.status().unwrap_or(0);
        let Some(i) = req.slot else {
            return;
        };
        if let (Some(name), None) = (&s.dialog, &agent.slots[i].name) {
            agent.slots[i].name = Some(name.value.clone());
        }
        agent.last_slot = Some(i);
        let creating = creates_dialog(&req.method) && req.msg.to_tag().is_none();
        if creating && (101..300).contains(&status) {
            let slot = &mut agent.slots[i];
            let res = match slot.dialog.as_mut() {
                Some(d) => d.on_sent_response(resp),
                None => Dialog::new_uas(&req.msg, resp, false).map(|d| slot.dialog = Some(d)),
            };
            if let Err(e) = res {
                agent
                    .notes
                    .push(format!("the {status} does not make a dialog: {e}"));
            }
        }
        if req.method == "INVITE" && (200..300).contains(&status) {
            if let Some(tx) = req.tx {
                agent.retransmit_2xx(tx, resp, &req.msg, Instant::now());
            }
        }
    }

    /// The body of a response: the scenario's, else the offer/answer model (RFC 3264): the
    /// answer in a 2xx to an INVITE or UPDATE with an offer, an offer in a 2xx to an INVITE
    /// without one.
    fn response_body(
        &mut self,
        a: usize,
        req: &Message,
        slot: Option<usize>,
        status: u16,
        spec: &BodySpec,
        draft: &mut Draft,
    ) -> Result<(), Stop> {
        let offer = req.sdp();
        let method = req.method().map(|m| m.into_owned()).unwrap_or_default();
        let ok = (200..300).contains(&status);
        let agent = &mut self.agents[a];
        let prev = slot.and_then(|i| agent.slots[i].last_sdp.clone());
        let role = offer.as_ref().map_or(Role::Offer, Role::Answer);
        let body = match spec {
            BodySpec::Empty => None,
            // RFC 3264 §5: a 2xx to an INVITE answers its offer (or offers, when the INVITE had
            // none); a 2xx to an UPDATE answers the UPDATE's offer (RFC 3311 §5.2).
            BodySpec::Auto
                if ok && (method == "INVITE" || method == "UPDATE" && offer.is_some()) =>
            {
                let ctx = agent.next_sdp();
                Some(sdp_gen::for_spec(
                    &ctx,
                    &crate::scenario::SdpSpec::Answer,
                    role,
                    None,
                ))
            }
            BodySpec::Auto => None,
            BodySpec::Sdp(spec) => {
                let ctx = agent.next_sdp();
                Some(sdp_gen::for_spec(&ctx, spec, role, prev.as_deref()))
            }
            BodySpec::Text { content_type, text } => {
                return self.text_body(a, content_type, text, draft);
            }
        };
        self.set_sdp_body(a, slot, body, draft);
        Ok(())
    }

    /// A `body:` given as text: rendered with the agent's variables.
    fn text_body(
        &mut self,
        a: usize,
        content_type: &str,
        text: &crate::scenario::Template,
        draft: &mut Draft,
    ) -> Result<(), Stop> {
        let body = self.render(a, text, false)?;
        draft.set_body(content_type, body.into_bytes());
        Ok(())
    }

    /// Puts an SDP body into the draft and remembers it as the dialog's last description (the
    /// base of the next hold or unhold, RFC 3264 §8).
    fn set_sdp_body(
        &mut self,
        a: usize,
        slot: Option<usize>,
        sdp: Option<Vec<u8>>,
        draft: &mut Draft,
    ) {
        if let Some(body) = sdp {
            if let Some(i) = slot {
                self.agents[a].slots[i].last_sdp = Some(body.clone());
            }
            draft.set_body("application/sdp", body);
        }
    }

    /// After a run that did not pass, ends what it left open, best effort and without
    /// waiting for answers: a CANCEL for each INVITE with a provisional but no final
    /// response (RFC 3261 §9.1), a BYE in each confirmed dialog (§15.1.1). A target in a lab is not left
    /// ringing or in a call.
    /// Ends what a run that did not pass leaves behind: CANCELs INVITEs still ringing (when
    /// `cancel`) and BYEs every INVITE dialog that is confirmed and has seen no BYE, so that
    /// a real device is not left in a call that blocks the next run. While the run lingers
    /// it is called again without `cancel`, for a 2xx that crossed the CANCEL (RFC 3261
    /// §9.1: that call is up and must be ended with a BYE).
    pub(super) fn teardown(&mut self, cancel: bool) {
        self.torn_down = true;
        for agent in &mut self.agents {
            if !cancel {
                bye_leftovers(agent);
                continue;
            }
            let pending: Vec<Message> = agent
                .sent
                .values()
                .filter(|s| s.method == "INVITE" && !s.finished && s.provisional)
                .map(|s| s.msg.clone())
                .collect();
            for invite in pending {
                if let Some(b) = cancel_for(&invite) {
                    let msg = parse_message(&b.build());
                    if let Ok(tx) = agent.wire.send_request_to(agent.target, msg.clone()) {
                        agent.record_sent(tx, msg, None, AckMode::Auto);
                    }
                }
            }
            bye_leftovers(agent);
        }
    }

    /// The received request a response answers (`reply_to`).
    fn find_received(&self, a: usize, reply_to: &ReplyTo) -> Option<usize> {
        let r = &self.agents[a].received;
        match reply_to {
            ReplyTo::Latest => r.iter().rposition(|x| !x.answered),
            ReplyTo::Method(m) => r.iter().rposition(|x| !x.answered && &x.method == m),
            ReplyTo::Label(l) => r.iter().rposition(|x| x.label.as_deref() == Some(l)),
        }
    }
}

/// BYEs each confirmed INVITE dialog of `agent` in which no BYE was sent or received.
fn bye_leftovers(agent: &mut super::agent::Agent) {
    for i in 0..agent.slots.len() {
        let in_slot = |method: &str| {
            agent
                .sent
                .values()
                .any(|s| s.slot == Some(i) && s.method == method)
                || agent
                    .received
                    .iter()
                    .any(|r| r.slot == Some(i) && r.method == method)
        };
        if !in_slot("INVITE") || in_slot("BYE") {
            continue;
        }
        let via = agent.wire.new_via();
        let Some(d) = agent.slots[i].dialog.as_mut() else {
            continue;
        };
        if !d.is_confirmed() {
            continue;
        }
        if let Ok(bye) = compose::in_dialog_request(d, "BYE", &via) {
            let msg = parse_message(&bye.to_bytes());
            if let Ok(tx) = agent.wire.send_request_to(agent.target, msg.clone()) {
                agent.record_sent(tx, msg, Some(i), AckMode::Auto);
            }
        }
    }
}
