//! Building steps: which kind a step is, whether its keys fit that kind, and the references
//! between steps (agents, dialogs, labels, the request a response answers).

use super::build::{check_name, find_from, undefined_agent_message, Errors, NameRule};
use super::doc::{KeyAt, RawStep};
use super::keys::*;
use super::load::LoadErrorKind as K;
use super::located::Located;
use super::model::{
    AckMode, Agent, Built, Content, Expect, Matcher, Not, OneOf, Outgoing, Peer, ReplyTo, Send,
    Step, Unordered,
};
use super::suggest::did_you_mean;
use super::values::{check_method, SendWhat};
use std::collections::{HashMap, HashSet};

/// A label and what it names.
struct LabelInfo {
    request: bool,
    agent: String,
    line: u32,
}

/// Walks the steps in order, tracking what earlier steps define.
pub(crate) struct StepBuilder<'a> {
    pub(crate) errs: &'a mut Errors,
    pub(crate) source: &'a str,
    pub(crate) agents: &'a [Agent],
    pub(crate) vars: HashSet<String>,
    pub(crate) pending_vars: Vec<String>,
    dialogs: HashSet<String>,
    labels: HashMap<String, LabelInfo>,
    pending_labels: Vec<(String, LabelInfo)>,
    /// Agent -> methods it has received (in earlier steps).
    received: HashMap<String, HashSet<String>>,
    pending_received: Vec<(String, String)>,
    /// Agents that sent an INVITE with `ack: manual`.
    manual_ack: HashSet<String>,
    /// The agent of the previous step: the default `from` and `at`.
    current: String,
    /// Agents at which an earlier step expects a 401 or 407 (what `auth` answers).
    challenged: HashSet<String>,
}

impl<'a> StepBuilder<'a> {
    pub fn new<'v>(
        errs: &'a mut Errors,
        source: &'a str,
        agents: &'a [Agent],
        vars: impl Iterator<Item = &'v String>,
    ) -> Self {
        StepBuilder {
            errs,
            source,
            agents,
            vars: vars.cloned().collect(),
            pending_vars: Vec::new(),
            dialogs: HashSet::new(),
            labels: HashMap::new(),
            pending_labels: Vec::new(),
            received: HashMap::new(),
            pending_received: Vec::new(),
            manual_ack: HashSet::new(),
            challenged: HashSet::new(),
            current: agents
                .first()
                .map(|a| a.name.value.clone())
                .unwrap_or_default(),
        }
    }

    pub fn build_steps(&mut self, steps: Located<Vec<Located<RawStep>>>) -> Vec<Located<Step>> {
        if steps.is_empty() {
            self.errs.at(
                &steps,
                K::InvalidValue,
                "expected at least one step, found none",
            );
        }
        let mut out = Vec::new();
        for raw in steps.value {
            let pos = raw.with(());
            if let Some(step) = self.build_step(raw) {
                out.push(pos.with(step));
            }
            // What a step captures or receives is usable from the next step on.
            self.vars.extend(self.pending_vars.drain(..));
            self.labels.extend(self.pending_labels.drain(..));
            for (agent, method) in self.pending_received.drain(..) {
                self.received.entry(agent).or_default().insert(method);
            }
        }
        out
    }

    fn build_step(&mut self, raw: Located<RawStep>) -> Option<Step> {
        let keys = raw.keys();
        match self.kind_of(&raw, &keys)? {
            "send" => self.build_send(raw, &keys).map(Step::Send),
            "expect" => {
                self.check_keys(&keys, EXPECT_KEYS, "an expect step");
                self.build_expect(raw, true).map(|e| Step::Expect(e.value))
            }
            "one_of" | "unordered" => self.build_group(raw, &keys),
            "act" => self.build_act(raw, &keys).map(Step::Act),
            "wait" => {
                self.check_keys(&keys, WAIT_KEYS, "a wait step");
                raw.value.wait.map(|w| Step::Wait(w.value.0))
            }
            _ => self.build_not(raw, &keys),
        }
    }

    /// The one kind key of a step.
    fn kind_of(&mut self, raw: &Located<RawStep>, keys: &[KeyAt]) -> Option<&'static str> {
        let mut kinds: Vec<&KeyAt> = keys.iter().filter(|k| KIND_KEYS.contains(&k.key)).collect();
        kinds.sort_by_key(|k| (k.line, k.column));
        match kinds.as_slice() {
            [] => {
                let found: Vec<&str> = keys.iter().map(|k| k.key).collect();
                let found = if found.is_empty() {
                    "no keys".to_string()
                } else {
                    format!("only {}", found.join(", "))
                };
                self.errs.at(
                    raw,
                    K::MissingKey,
                    format!(
                        "expected a step with one of the keys send, expect, one_of, unordered, \
                         wait, not or act, found {found}"
                    ),
                );
                None
            }
            [k] => Some(k.key),
            [a, b, ..] => {
                self.errs.at_pos(
                    b.line,
                    b.column,
                    K::Conflict,
                    format!(
                        "a step does one thing: `{}` cannot be combined with `{}` (line {}); \
                         split them into two steps",
                        b.key, a.key, a.line
                    ),
                );
                None
            }
        }
    }

    /// Reports every key not in `allowed`.
    pub(crate) fn check_keys(&mut self, keys: &[KeyAt], allowed: &[&str], what: &str) {
        for k in keys.iter().filter(|k| !allowed.contains(&k.key)) {
            let hint = key_hint(k.key, allowed)
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            self.errs.at_pos(
                k.line,
                k.column,
                K::UnknownKey,
                format!(
                    "`{}` does not belong in {what}{hint}; expected one of: {}",
                    k.key,
                    allowed.join(", ")
                ),
            );
        }
    }

    fn build_send(&mut self, raw: Located<RawStep>, keys: &[KeyAt]) -> Option<Send> {
        let pos = raw.with(());
        let mut r = raw.value;
        let what = r.send.take()?;
        let request = matches!(what.value, SendWhat::Method(_));
        let allowed = if request {
            self.check_keys(keys, SEND_REQUEST_KEYS, "a send step for a request");
            SEND_REQUEST_KEYS
        } else {
            self.check_keys(keys, SEND_RESPONSE_KEYS, "a send step for a response");
            SEND_RESPONSE_KEYS
        };
        if r.raw.is_some() {
            let conflicting = keys
                .iter()
                .filter(|k| NOT_WITH_RAW.contains(&k.key) && allowed.contains(&k.key));
            for k in conflicting {
                let msg = format!(
                    "`{}` cannot be combined with `raw`: a raw message is sent exactly as \
                     written (only [variables] are substituted)",
                    k.key
                );
                self.errs.at_pos(k.line, k.column, K::Conflict, msg);
            }
        }
        let from = self.agent_ref(r.from.as_ref(), &pos, "from");
        let message = match what.value {
            SendWhat::Method(m) => self.request(m, &r, &pos, &from),
            SendWhat::Response(status, reason) => Outgoing::Response {
                status,
                reason,
                reply_to: self.reply_to(r.reply_to.as_ref(), &from, &pos),
            },
        };
        let dialog = self.send_dialog(r.dialog.take(), &message);
        let content = match r.raw.take() {
            Some(t) => {
                self.check_template(&t, true);
                Content::Raw(t)
            }
            None => {
                let uri = r.uri.take();
                if let Some(u) = &uri {
                    self.check_template(u, false);
                }
                let auth = (r.auth.take())
                    .filter(|_| request)
                    .and_then(|a| self.send_auth(a, &from))
                    .map(Box::new);
                let headers = self.send_headers(r.headers.take());
                let body = self.send_body(r.sdp.take(), r.body.take());
                Content::Built(Built {
                    uri,
                    auth,
                    headers,
                    body,
                })
            }
        };
        self.current = from.value.clone();
        Some(Send {
            from,
            message,
            dialog,
            content,
        })
    }

    fn request(
        &mut self,
        method: String,
        r: &RawStep,
        pos: &Located<()>,
        from: &Located<String>,
    ) -> Outgoing {
        let to = match &r.to {
            None => pos.with(Peer::Target),
            Some(t) if t.value == "target" => t.with(Peer::Target),
            Some(t) => {
                if !self.is_agent(t) {
                    let msg = undefined_agent_message(t, self.agents, "to");
                    self.errs.at(t, K::Undefined, format!("{msg}, or `target`"));
                }
                t.with(Peer::Agent(t.value.clone()))
            }
        };
        let ack = match &r.ack {
            Some(a) if method != "INVITE" => {
                let msg = format!(
                    "`ack` applies to INVITE only (it controls the ACK to a 2xx response); \
                     this step sends {method}"
                );
                self.errs.at(a, K::Conflict, msg);
                AckMode::Auto
            }
            Some(a) => a.value,
            None => AckMode::Auto,
        };
        if ack == AckMode::Manual {
            self.manual_ack.insert(from.value.clone());
        }
        if method == "ACK" && r.raw.is_none() && !self.manual_ack.contains(&from.value) {
            let msg = format!(
                "`send: ACK` needs an earlier INVITE from `{}` with `ack: manual`: otherwise \
                 siptest ACKs every final response itself (RFC 3261 §13.2.2.4, §17.1.1.3)",
                from.value
            );
            self.errs.at(pos, K::Conflict, msg);
        }
        Outgoing::Request { method, to, ack }
    }

    fn reply_to(
        &mut self,
        r: Option<&Located<String>>,
        from: &Located<String>,
        pos: &Located<()>,
    ) -> Located<ReplyTo> {
        let received = self.received.get(&from.value);
        let Some(r) = r else {
            if received.is_none_or(|m| m.is_empty()) {
                let msg = format!(
                    "a response answers a request, but `{}` has not received one in an earlier \
                     step (e.g. `- expect: INVITE` with `at: {}`)",
                    from.value, from.value
                );
                self.errs.at(pos, K::Undefined, msg);
            }
            return pos.with(ReplyTo::Latest);
        };
        if let Some(l) = self.labels.get(&r.value) {
            if !l.request {
                let msg = format!(
                    "label `{}` names a response; `reply_to` needs a received request",
                    r.value
                );
                self.errs.at(r, K::InvalidValue, msg);
            } else if l.agent != from.value {
                let msg = format!(
                    "label `{}` (line {}) was received at `{}`, but this response is sent from \
                     `{}`",
                    r.value, l.line, l.agent, from.value
                );
                self.errs.at(r, K::Conflict, msg);
            }
            return r.with(ReplyTo::Label(r.value.clone()));
        }
        if r.starts_with(|c: char| c.is_ascii_lowercase()) {
            let hint = did_you_mean(r, self.labels.keys().map(String::as_str));
            let msg = format!(
                "undefined label `{}` (`reply_to` takes a method, like INVITE, or the \
                 `label` of an earlier expect step){hint}",
                r.value
            );
            self.errs.at(r, K::Undefined, msg);
        } else if let Err(e) = check_method(r) {
            self.errs.at(r, K::InvalidValue, e);
        } else if !received.is_some_and(|m| m.contains(&r.value)) {
            let msg = format!(
                "`{}` has not received a {} request in an earlier step",
                from.value, r.value
            );
            self.errs.at(r, K::Undefined, msg);
        }
        r.with(ReplyTo::Method(r.value.clone()))
    }

    fn send_dialog(
        &mut self,
        d: Option<Located<String>>,
        message: &Outgoing,
    ) -> Option<Located<String>> {
        let d = d?;
        if !check_name(self.errs, &d, NameRule::Dialog, "a dialog name") {
            return Some(d);
        }
        let creates = matches!(message, Outgoing::Request { method, .. }
            if DIALOG_CREATING.contains(&method.as_str()));
        if creates {
            self.dialogs.insert(d.value.clone());
        } else if !self.dialogs.contains(&d.value) {
            let hint = did_you_mean(&d, self.dialogs.iter().map(String::as_str));
            let msg = format!(
                "dialog `{}` does not exist yet: a dialog is created by an INVITE, SUBSCRIBE \
                 or REFER sent with `dialog: {}`, or by an expect step naming it{hint}",
                d.value, d.value
            );
            self.errs.at(&d, K::Undefined, msg);
        }
        Some(d)
    }

    /// Builds an expect step (top level or inside a group or `not`). `receives` is false for
    /// `not`, whose message must never arrive.
    fn build_expect(&mut self, raw: Located<RawStep>, receives: bool) -> Option<Located<Expect>> {
        let pos = raw.with(());
        let mut r = raw.value;
        let matcher = r.expect.take()?;
        let at = self.agent_ref(r.at.as_ref(), &pos, "at");
        let dialog = (r.dialog.as_ref())
            .filter(|d| check_name(self.errs, d, NameRule::Dialog, "a dialog name"));
        if let Some(d) = dialog {
            if receives {
                self.dialogs.insert(d.value.clone());
            } else if !self.dialogs.contains(&d.value) {
                let msg = format!(
                    "dialog `{}` does not exist: no earlier step creates it",
                    d.value
                );
                self.errs.at(d, K::Undefined, msg);
            }
        }
        if let Some(l) = &r.label {
            self.define_label(l, &matcher, &at);
        }
        let headers = self.expect_headers(r.headers.take());
        let sdp = r.sdp.take().and_then(|s| self.expect_sdp(s));
        let body = r.body.take().and_then(|b| self.expect_body(b));
        let captures = self.captures(r.capture.take());
        if let (Matcher::Method(m), true) = (&matcher.value, receives) {
            self.pending_received.push((at.value.clone(), m.clone()));
        }
        if receives && (matcher.matches_status(401) || matcher.matches_status(407)) {
            self.challenged.insert(at.value.clone());
        }
        self.current = at.value.clone();
        Some(pos.with(Expect {
            matcher,
            at,
            dialog: r.dialog,
            label: r.label,
            optional: r.optional.is_some_and(|o| o.value),
            timeout: r.timeout.map(|t| t.value.0),
            headers,
            sdp,
            body,
            captures,
        }))
    }

    fn define_label(
        &mut self,
        l: &Located<String>,
        matcher: &Located<Matcher>,
        at: &Located<String>,
    ) {
        if !check_name(self.errs, l, NameRule::Lower, "a label") {
            return;
        }
        let earlier = self.labels.get(&l.value).map(|i| i.line).or_else(|| {
            let p = self.pending_labels.iter().find(|(n, _)| *n == l.value);
            p.map(|(_, i)| i.line)
        });
        if let Some(line) = earlier {
            let msg = format!("label `{}` is already used on line {line}", l.value);
            self.errs.at(l, K::Duplicate, msg);
            return;
        }
        let info = LabelInfo {
            request: matcher.is_request(),
            agent: at.value.clone(),
            line: l.line,
        };
        self.pending_labels.push((l.value.clone(), info));
    }

    fn build_group(&mut self, raw: Located<RawStep>, keys: &[KeyAt]) -> Option<Step> {
        let one_of = raw.one_of.is_some();
        let (what, entry_keys) = if one_of {
            self.check_keys(keys, ONE_OF_KEYS, "a `one_of` step");
            ("one_of", ONE_OF_ENTRY_KEYS)
        } else {
            self.check_keys(keys, UNORDERED_KEYS, "an `unordered` step");
            ("unordered", UNORDERED_ENTRY_KEYS)
        };
        let mut r = raw.value;
        let list = if one_of {
            r.one_of.take()?
        } else {
            r.unordered.take()?
        };
        if list.len() < 2 {
            let msg = format!(
                "expected at least two entries in `{what}`, found {}; for one expectation use \
                 `expect` directly",
                list.len()
            );
            self.errs.at(&list, K::InvalidValue, msg);
        }
        let start = self.current.clone();
        let mut entries = Vec::new();
        for e in list.value {
            self.current = start.clone();
            if let Some(x) = self.group_entry(e, what, entry_keys) {
                entries.push(x);
            }
        }
        self.current = entries.first().map_or(start, |e| e.at.value.clone());
        let timeout = r.timeout.map(|t| t.value.0);
        Some(if one_of {
            let optional = r.optional.is_some_and(|o| o.value);
            Step::OneOf(OneOf {
                alternatives: entries,
                optional,
                timeout,
            })
        } else {
            Step::Unordered(Unordered { entries, timeout })
        })
    }

    fn group_entry(
        &mut self,
        e: Located<RawStep>,
        what: &str,
        allowed: &[&str],
    ) -> Option<Located<Expect>> {
        let keys = e.keys();
        if let Some(k) = keys
            .iter()
            .find(|k| KIND_KEYS.contains(&k.key) && k.key != "expect")
        {
            let msg = format!("`{what}` holds expect steps only, found `{}`", k.key);
            self.errs.at_pos(k.line, k.column, K::Conflict, msg);
            return None;
        }
        if e.expect.is_none() {
            let msg = format!(
                "each entry of `{what}` is an expect step, e.g. `- expect: 180`; this one \
                 has no `expect`"
            );
            self.errs.at(&e, K::MissingKey, msg);
            return None;
        }
        self.check_keys(&keys, allowed, &format!("an entry of `{what}`"));
        self.build_expect(e, true)
    }

    fn build_not(&mut self, raw: Located<RawStep>, keys: &[KeyAt]) -> Option<Step> {
        self.check_keys(keys, NOT_KEYS, "a `not` step");
        let inner = raw.value.not?;
        let pos = inner.with(());
        let inner = *inner.value;
        let keys = inner.keys();
        if let Some(k) = keys
            .iter()
            .find(|k| KIND_KEYS.contains(&k.key) && k.key != "expect")
        {
            let msg = format!(
                "`not` holds one expectation, e.g. `not: {{ expect: BYE, within: 2s }}`, \
                 found `{}`",
                k.key
            );
            self.errs.at_pos(k.line, k.column, K::Conflict, msg);
            return None;
        }
        let Some(within) = inner.within.as_ref().map(|w| w.value.0) else {
            let msg = "`not` needs `within`: how long nothing matching may arrive, \
                       e.g. `not: { expect: BYE, within: 2s }`";
            self.errs.at(&pos, K::MissingKey, msg);
            return None;
        };
        if inner.expect.is_none() {
            let msg = "`not` needs `expect`: what must not arrive, \
                       e.g. `not: { expect: BYE, within: 2s }`";
            self.errs.at(&pos, K::MissingKey, msg);
            return None;
        }
        self.check_keys(&keys, NOT_ENTRY_KEYS, "`not`");
        if within.is_zero() {
            let w = inner.within.as_ref().expect("checked");
            self.errs.at(
                w,
                K::InvalidValue,
                "expected a window greater than zero, found 0",
            );
        }
        let expect = self.build_expect(pos.with(inner), false)?;
        Some(Step::Not(Not {
            expect: expect.value,
            within,
        }))
    }

    pub(crate) fn set_current(&mut self, agent: &str) {
        self.current = agent.to_string();
    }

    /// Whether an earlier step expects a 401 or 407 at `agent`.
    pub(crate) fn was_challenged(&self, agent: &str) -> bool {
        self.challenged.contains(agent)
    }

    pub(crate) fn is_agent(&self, name: &str) -> bool {
        self.agents.iter().any(|a| a.name.value == name)
    }

    /// The agent named in `from`/`at`, or the current agent at the step's position.
    pub(crate) fn agent_ref(
        &mut self,
        name: Option<&Located<String>>,
        pos: &Located<()>,
        key: &str,
    ) -> Located<String> {
        match name {
            None => pos.with(self.current.clone()),
            Some(n) => {
                if !self.is_agent(n) {
                    let msg = undefined_agent_message(n, self.agents, key);
                    self.errs.at(n, K::Undefined, msg);
                }
                n.clone()
            }
        }
    }

    /// Reports the first position of `needle` in a value starting at `at`, or `at` itself.
    pub(crate) fn error_in_value<T>(
        &mut self,
        at: &Located<T>,
        needle: &str,
        kind: K,
        msg: String,
    ) {
        let (line, column) =
            find_from(self.source, at.line, at.column, needle).unwrap_or((at.line, at.column));
        self.errs.at_pos(line, column, kind, msg);
    }
}
