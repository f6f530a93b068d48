//! A scenario from a captured call (`siptest import`, `docs/captures.md`): one side of the
//! call becomes siptest's agent (`send` steps), the other side is the target (`expect`
//! steps). Pure: a trace in, YAML text out; the loader's checks apply to the result like to any
//! scenario written by hand.
//!
//! What is kept of the capture: the order of the requests and final responses, each method
//! and status, the kind of each SDP (offer, answer, the hold styles of RFC 3264 §8.4, resume),
//! provisionals (as optional steps), the user part of the Request-URI (as a variable). What
//! is not: Call-ID, tags, branches, CSeq numbers, Contact and Via (the agent makes its own,
//! and the tags the target chooses are captured into variables and checked later in the
//! dialog), 100 Trying and retransmissions (absorbed by the engine), the agent's ACKs (sent
//! by the engine itself, RFC 3261 §13.2.2.4, §17.1.1.3).

use crate::dialog::creates_dialog;
use crate::sdp::HoldStyle;
use crate::sip::message::Message;
use crate::sip::HeaderName;
use crate::trace::{Trace, TracedMessage, Transport};
use std::collections::{BTreeSet, HashSet};
use std::fmt::Write;
use std::net::SocketAddr;

/// The side of the call siptest plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Play {
    /// The caller: the sender of the call's first request.
    Uac,
    /// The callee: where the call's first request went.
    Uas,
}

/// What `import` was asked.
#[derive(Clone, Debug)]
pub struct ImportRequest<'a> {
    pub call_id: &'a str,
    pub play: Play,
    /// The scenario's `name` (`[a-z0-9][a-z0-9-]*`).
    pub name: &'a str,
    /// The capture, as named in the header comment.
    pub capture: &'a str,
}

/// One step, before it is written.
#[derive(Debug)]
struct Line {
    yaml: String,
    /// A comment on the step's first line.
    note: Option<String>,
}

/// Writes the scenario of one side of a captured call.
pub fn import(trace: &Trace, req: &ImportRequest<'_>) -> Result<String, String> {
    let msgs: Vec<&TracedMessage> = trace.call(req.call_id).map(|(_, m)| m).collect();
    let first = msgs
        .iter()
        .find(|m| m.message.is_request())
        .ok_or_else(|| format!("call `{}` has no request in the capture", req.call_id))?;
    let (uac, uas) = (first.src, first.dst);
    let (ours, theirs) = match req.play {
        Play::Uac => (uac, uas),
        Play::Uas => (uas, uac),
    };
    let agent = match req.play {
        Play::Uac => "alice",
        Play::Uas => "bob",
    };
    let mut b = Builder::default();
    let mut seen = HashSet::new();
    for m in &msgs {
        let key = (
            m.src,
            m.message.summary(),
            m.message.branch(),
            m.message.cseq().map(|c| (c.number, c.method)),
            tag(&m.message, HeaderName::To),
        );
        if !seen.insert(key) {
            b.retransmissions += 1;
            continue;
        }
        let what = match (m.message.status(), m.message.cseq()) {
            (Some(_), Some(c)) => format!("{} to {}", start_line(&m.message), c.method),
            _ => start_line(&m.message),
        };
        b.note = Some(format!(
            "{:.3}s: {what}",
            m.time.saturating_sub(first.time).as_secs_f64()
        ));
        if m.message.status().is_none() {
            let method = m
                .message
                .method()
                .map(|x| x.into_owned())
                .unwrap_or_default();
            if method != "ACK" && !b.order.contains(&method) {
                b.order.push(method);
            }
        }
        if m.src == ours && m.dst == theirs {
            b.ours(&m.message);
        } else if m.src == theirs && m.dst == ours {
            b.theirs(&m.message);
        }
    }
    if b.steps.is_empty() {
        return Err(format!(
            "call `{}` has no message between {ours} and {theirs}",
            req.call_id
        ));
    }
    let user = match req.play {
        Play::Uac => first.message.first_value(HeaderName::From),
        Play::Uas => first.message.first_value(HeaderName::To),
    }
    .and_then(|v| uri_user(&v));
    let transport = (first.transport == Transport::Tcp).then_some("tcp");
    Ok(b.write(
        req,
        agent,
        user.as_deref(),
        transport,
        (ours, theirs),
        msgs.len(),
    ))
}

#[derive(Default)]
struct Builder {
    steps: Vec<Line>,
    /// Methods the agent sends (`target.needs` gets those the target must answer).
    sent_methods: BTreeSet<String>,
    received_methods: BTreeSet<String>,
    references: BTreeSet<&'static str>,
    variables: Vec<(String, String)>,
    /// The target's dialog tag is in `[remote_tag]`.
    remote_tag: bool,
    /// The agent's streams are on hold (its last offer held them).
    held: bool,
    /// Requests received from the target and not yet answered with a final response, by
    /// (method, CSeq number).
    open: Vec<(String, u32)>,
    /// INVITEs (by CSeq number) answered with a non-2xx final: their ACK stays in the
    /// transaction (RFC 3261 §17.1.1.3) and never reaches the steps.
    rejected: HashSet<u32>,
    retransmissions: usize,
    /// What the capture shows of the message being turned into a step (its time and start),
    /// the comment on the step.
    note: Option<String>,
    /// A provisional answered the agent's latest INVITE in the capture.
    provisional: bool,
    /// Methods and statuses in order of appearance, for the summary.
    order: Vec<String>,
}

impl Builder {
    fn push(&mut self, yaml: String) {
        let note = self.note.take();
        self.steps.push(Line { yaml, note });
    }

    /// A message the played side sent.
    fn ours(&mut self, msg: &Message) {
        if let Some(status) = msg.status() {
            self.our_response(msg, status);
            return;
        }
        let method = msg.method().map(|m| m.into_owned()).unwrap_or_default();
        let in_dialog = tag(msg, HeaderName::To).is_some();
        if method == "ACK" {
            return; // RFC 3261 §13.2.2.4, §17.1.1.3: siptest ACKs by itself
        }
        self.reference(&method, in_dialog);
        let mut y = format!("  - send: {method}\n");
        if method == "INVITE" && !in_dialog || in_dialog && method != "CANCEL" {
            y.push_str("    dialog: call\n");
        }
        if !in_dialog && creates_dialog(&method) || method == "REGISTER" || method == "OPTIONS" {
            if let Some(user) = msg.request_uri().as_deref().and_then(uri_user) {
                let var = "callee".to_string();
                if !self.variables.iter().any(|(k, _)| *k == var) {
                    self.variables.push((var.clone(), user));
                }
                y.push_str("    uri: \"sip:[callee]@[target.host]:[target.port]\"\n");
            }
        }
        if let Some(hint) = self.sdp_hint(msg, &method, true) {
            let _ = writeln!(y, "    sdp: {hint}");
        }
        if method == "INVITE" {
            self.provisional = false;
        }
        self.sent_methods.insert(method);
        self.push(y);
    }

    fn our_response(&mut self, msg: &Message, status: u16) {
        let Some(cseq) = msg.cseq() else { return };
        if status == 100 {
            return; // the server transaction sends it (RFC 3261 §17.2.1)
        }
        let mut y = format!("  - send: {status}\n");
        let latest = self.open.last().cloned();
        if latest.as_ref().map(|(m, _)| m) != Some(&cseq.method) {
            let _ = writeln!(y, "    reply_to: {}", cseq.method);
        }
        if cseq.method == "INVITE" {
            if let Some(hint) = self.sdp_hint(msg, "INVITE", false) {
                let _ = writeln!(y, "    sdp: {hint}");
            }
        }
        if status >= 200 {
            if let Some(k) = self
                .open
                .iter()
                .rposition(|(m, n)| *m == cseq.method && *n == cseq.number)
            {
                self.open.remove(k);
            }
            if cseq.method == "INVITE" && status >= 300 {
                self.rejected.insert(cseq.number);
            }
        }
        self.push(y);
    }

    /// A message the target sent.
    fn theirs(&mut self, msg: &Message) {
        let Some(cseq) = msg.cseq() else { return };
        if let Some(status) = msg.status() {
            if status == 100 {
                return; // hop-by-hop, never required (RFC 3261 §8.2.6.1)
            }
            if status >= 200 && cseq.method == "INVITE" && !self.provisional {
                // Not in the capture, but a target may ring first (RFC 3261 §13.3.1.1).
                let note = self
                    .note
                    .replace("any provisional (none in the capture)".into());
                let dialog = if self.remote_tag {
                    ""
                } else {
                    "    dialog: call\n"
                };
                self.push(format!("  - expect: 1xx\n{dialog}    optional: true\n"));
                self.note = note;
            }
            let shown = if status < 200 {
                self.provisional = true;
                "1xx".to_string() // another provisional than the captured one is as good
            } else {
                status.to_string()
            };
            let mut y = format!("  - expect: {shown}\n");
            let in_call = cseq.method == "INVITE" || self.remote_tag;
            if (101..300).contains(&status) && cseq.method == "INVITE" && !self.remote_tag {
                y.push_str("    dialog: call\n");
            }
            if status < 200 {
                y.push_str("    optional: true\n");
            } else if self.remote_tag && in_call && tag(msg, HeaderName::To).is_some() {
                y.push_str("    headers:\n      To: { contains: \"tag=[remote_tag]\" }\n");
            }
            if (200..300).contains(&status)
                && cseq.method == "INVITE"
                && !self.remote_tag
                && tag(msg, HeaderName::To).is_some()
            {
                y.push_str("    capture: { remote_tag: to.tag }\n");
                self.remote_tag = true;
            }
            if cseq.method == "INVITE" && (200..300).contains(&status) {
                if let Some(dir) = msg.sdp().map(|s| s.effective_direction(0)) {
                    let _ = writeln!(y, "    sdp: {{ direction: {} }}", dir_name(dir));
                }
            }
            self.push(y);
            return;
        }
        let method = msg.method().map(|m| m.into_owned()).unwrap_or_default();
        if method == "ACK" && self.rejected.contains(&cseq.number) {
            return;
        }
        let in_dialog = tag(msg, HeaderName::To).is_some();
        self.reference(&method, in_dialog);
        let mut y = format!("  - expect: {method}\n");
        if in_dialog || creates_dialog(&method) {
            y.push_str("    dialog: call\n");
        }
        if !in_dialog
            && method == "INVITE"
            && !self.remote_tag
            && tag(msg, HeaderName::From).is_some()
        {
            y.push_str("    capture: { remote_tag: from.tag }\n");
            self.remote_tag = true;
        } else if in_dialog && self.remote_tag && method != "ACK" {
            y.push_str("    headers:\n      From: { contains: \"tag=[remote_tag]\" }\n");
        }
        if method != "ACK" {
            self.open.push((method.clone(), cseq.number));
        }
        self.received_methods.insert(method);
        self.push(y);
    }

    /// The `sdp:` of a message the agent sends, when the default would not do: an INVITE
    /// without offer, a hold or resume re-offer, an answer that holds.
    fn sdp_hint(&mut self, msg: &Message, method: &str, request: bool) -> Option<&'static str> {
        if !matches!(method, "INVITE" | "UPDATE") {
            return None;
        }
        let Some(sdp) = msg.sdp() else {
            return request.then_some("none");
        };
        let style = sdp.hold_style(0);
        let hint = match style {
            Some(HoldStyle::SendOnly) => Some("hold-sendonly"),
            Some(HoldStyle::Inactive) => Some("hold-inactive"),
            Some(HoldStyle::ZeroConnection) => Some("hold-zero-connection"),
            None if self.held && request => Some("unhold"),
            None => None,
        };
        if request {
            self.held = style.is_some();
            if style.is_some() || hint == Some("unhold") {
                self.references.insert("RFC 3264 §8.4");
            }
        }
        match hint {
            Some(h) if request => Some(h),
            // An answer siptest generates follows the offer; a held answer is not one of the
            // shorthands: leave it to the model.
            _ => None,
        }
    }

    fn reference(&mut self, method: &str, in_dialog: bool) {
        let r = match (method, in_dialog) {
            ("INVITE", false) => "RFC 3261 §13",
            ("INVITE", true) => "RFC 3261 §14",
            ("BYE", _) => "RFC 3261 §15",
            ("CANCEL", _) => "RFC 3261 §9",
            ("OPTIONS", _) => "RFC 3261 §11",
            ("REGISTER", _) => "RFC 3261 §10",
            ("PRACK", _) => "RFC 3262",
            ("UPDATE", _) => "RFC 3311",
            ("INFO", _) => "RFC 6086",
            ("MESSAGE", _) => "RFC 3428",
            ("REFER", _) => "RFC 3515",
            ("SUBSCRIBE" | "NOTIFY", _) => "RFC 6665",
            _ => return,
        };
        self.references.insert(r);
    }

    fn write(
        &self,
        req: &ImportRequest<'_>,
        agent: &str,
        user: Option<&str>,
        transport: Option<&str>,
        (ours, theirs): (SocketAddr, SocketAddr),
        total: usize,
    ) -> String {
        let side = match req.play {
            Play::Uac => "caller (UAC)",
            Play::Uas => "callee (UAS)",
        };
        let mut y = String::new();
        let _ = writeln!(y, "# Imported by `siptest import` from {}", req.capture);
        let _ = writeln!(y, "# call {}", req.call_id);
        let _ = writeln!(
            y,
            "# ({total} messages, {} retransmissions left to the engine). siptest's `{agent}` plays the",
            self.retransmissions
        );
        let _ = writeln!(
            y,
            "# {side} at {ours}; the target stands where {theirs} was. Tags, Call-ID, branches"
        );
        y.push_str("# and CSeq numbers are the run's own; the target's tag is captured into\n");
        y.push_str("# [remote_tag] and checked in the dialog. Provisionals are optional.\n");
        if req.play == Play::Uas {
            y.push_str(
                "# The target calls the agent by itself: run with --agent-port bob=PORT where it \
                 sends.\n",
            );
        }
        let _ = writeln!(y, "name: {}", req.name);
        let methods = &self.order;
        let _ = writeln!(
            y,
            "summary: {}",
            quote(&format!(
                "Replays the {side} of a captured call ({}) against the target.",
                methods.join(", ")
            ))
        );
        let refs: Vec<String> = self.references.iter().map(|r| quote(r)).collect();
        let _ = writeln!(y, "references: [{}]", refs.join(", "));
        y.push_str("tags: [imported]\ntarget:\n  role: ua\n");
        // What the target must answer (the agent's requests) or send (its own requests).
        let needs: BTreeSet<&str> = self
            .sent_methods
            .iter()
            .chain(&self.received_methods)
            .map(String::as_str)
            .filter(|m| !matches!(*m, "ACK" | "CANCEL"))
            .collect();
        if !needs.is_empty() {
            let list: Vec<&str> = needs.into_iter().collect();
            let _ = writeln!(y, "  needs: [{}]", list.join(", "));
        }
        if req.play == Play::Uas {
            y.push_str("  acts: true\n");
        }
        y.push_str("agents:\n");
        let mut settings = Vec::new();
        if let Some(u) = user.filter(|u| *u != agent) {
            settings.push(format!("user: {}", quote(u)));
        }
        if let Some(t) = transport {
            settings.push(format!("transport: {t}"));
        }
        let _ = writeln!(y, "  {agent}: {{ {} }}", settings.join(", "));
        if !self.variables.is_empty() {
            y.push_str("variables:\n");
            for (k, v) in &self.variables {
                let _ = writeln!(y, "  {k}: {}", quote(v));
            }
        }
        y.push_str("steps:\n");
        for step in &self.steps {
            let mut lines = step.yaml.lines();
            if let Some(first) = lines.next() {
                match &step.note {
                    Some(n) => {
                        let _ = writeln!(y, "{first}  # {n}");
                    }
                    None => {
                        let _ = writeln!(y, "{first}");
                    }
                }
            }
            for l in lines {
                let _ = writeln!(y, "{l}");
            }
        }
        y
    }
}

/// `INVITE`, `180 Ringing`.
fn start_line(msg: &Message) -> String {
    match msg.status() {
        Some(s) => format!("{s} {}", msg.reason().unwrap_or_default())
            .trim_end()
            .to_string(),
        None => msg.method().map(|m| m.into_owned()).unwrap_or_default(),
    }
}

fn dir_name(d: crate::sdp::Direction) -> &'static str {
    use crate::sdp::Direction::*;
    match d {
        SendRecv => "sendrecv",
        SendOnly => "sendonly",
        RecvOnly => "recvonly",
        Inactive => "inactive",
    }
}

/// The tag of From or To: the typed view's, else `;tag=` in the raw value (captures carry
/// values the typed parser rejects, such as unbracketed IPv6 hosts).
fn tag(msg: &Message, name: HeaderName) -> Option<String> {
    if let Some(t) = msg.tag_of(name).flatten() {
        return Some(t);
    }
    let v = msg.first_value(name)?;
    let after = v.rsplit_once('>').map_or(v.as_ref(), |(_, p)| p);
    after
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("tag"))
        .map(|(_, t)| t.trim().to_string())
}

/// A double-quoted YAML scalar.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32 & 0xff);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The user part of a SIP URI, in a name-addr or bare (`"A" <sip:alice@h>;tag=1`).
fn uri_user(v: &str) -> Option<String> {
    let inner = match (v.find('<'), v.find('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v.split(';').next().unwrap_or(v),
    };
    let rest = inner.trim().split_once(':')?.1;
    let (user, _) = rest.split_once('@')?;
    let user = user.split(';').next().unwrap_or(user);
    let user = user.split(':').next().unwrap_or(user); // a password (RFC 3261 §19.1.1)
    (!user.is_empty()).then(|| user.to_string())
}

/// A scenario name from a file stem: lower case, other characters as `-`.
pub fn scenario_name(stem: &str) -> String {
    let mut s: String = stem
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() {
                c
            } else {
                '-'
            }
        })
        .collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    let s = s.trim_matches('-').to_string();
    if s.is_empty() {
        "imported".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_and_names() {
        assert_eq!(
            uri_user("\"A\" <sip:alice@h:5060>;tag=1").as_deref(),
            Some("alice")
        );
        assert_eq!(
            uri_user("sip:service@127.0.0.1:5060").as_deref(),
            Some("service")
        );
        assert_eq!(uri_user("sip:h.example").as_deref(), None);
        assert_eq!(scenario_name("SIPp_Basic.Call"), "sipp-basic-call");
        assert_eq!(scenario_name("__"), "imported");
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
    }
}
