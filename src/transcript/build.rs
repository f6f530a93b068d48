//! From a [`Trace`] to a [`Transcript`]: one entry per message, retransmissions folded into the
//! entry of their first copy, every changing value aliased ([`super::alias`]). Sans-IO: the
//! trace's own times are the only clock.
//!
//! The fields of a line, in this order (absent ones are left out; `docs/transcripts.md` has
//! the reasons):
//!
//! `call`, `from` and `to` (tags; `-` when there is none), `via` (every branch, top first),
//! `cseq` (with its method when it differs from the label's), `contact` (present; `*` for a
//! REGISTER removing all), `expires`, `require`, `rseq`, `rack`, `session-expires`, `event`,
//! `sub-state`, `refer-to` (the party it names, and the Replaces inside it), `replaces`,
//! `challenge` and `auth` (digest algorithm and nonce), `ct` (Content-Type), `frag` (the
//! status of a message/sipfrag body), the SDP summary ([`super::sdp`]), then the detail fields
//! `supported`, `allow`, `accept`, `allow-events`, `min-se`.

use super::alias::{letters, Aliases, Kind};
use super::{Entry, Field, Transcript};
use crate::scenario::{Matcher, Outgoing, ReplyTo, Scenario, Step};
use crate::sip::header_name::HeaderName;
use crate::sip::headers;
use crate::sip::message::Message;
use crate::trace::Trace;
use std::collections::HashMap;
use std::net::SocketAddr;

/// Who is who: names for the addresses of a trace (a run's agents and its target). Addresses
/// not named here get letters (`A`, `B`...) in order of first appearance, except that a
/// request from an unnamed address whose top Via names a known one (a TCP connection's own
/// port) is given that name.
#[derive(Clone, Debug, Default)]
pub struct Parties {
    known: Vec<(SocketAddr, String)>,
}

impl Parties {
    pub fn new() -> Parties {
        Parties::default()
    }

    /// Names an address (the first name given to an address wins).
    pub fn add(&mut self, addr: SocketAddr, name: impl Into<String>) {
        if !self.known.iter().any(|(a, _)| *a == addr) {
            self.known.push((addr, name.into()));
        }
    }

    pub fn with(mut self, addr: SocketAddr, name: impl Into<String>) -> Parties {
        self.add(addr, name);
        self
    }

    fn get(&self, addr: SocketAddr) -> Option<&str> {
        self.known
            .iter()
            .find(|(a, _)| *a == addr)
            .map(|(_, n)| n.as_str())
    }
}

/// The scenario's optional expectations, as matchers (`180-183`, `1xx`, `INFO`), in step
/// order without repeats; and the responses that answer an optional request (`send` with
/// `reply_to` the label of an optional expect), as `agent>status/METHOD` (`alice>200/INVITE`).
pub fn optional_matchers(sc: &Scenario) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    for step in &sc.steps {
        match &step.value {
            Step::Expect(e) if e.optional => add(matcher_text(&e.matcher.value)),
            Step::OneOf(o) => {
                for alt in &o.alternatives {
                    if o.optional || alt.value.optional {
                        add(matcher_text(&alt.value.matcher.value));
                    }
                }
            }
            Step::Unordered(u) => {
                for e in u.entries.iter().filter(|e| e.value.optional) {
                    add(matcher_text(&e.value.matcher.value));
                }
            }
            Step::Send(send) => {
                if let Some(m) = answers_optional(sc, send) {
                    add(m);
                }
            }
            _ => {}
        }
    }
    out
}

fn matcher_text(m: &Matcher) -> String {
    match m {
        Matcher::Status(s) => s.to_string(),
        Matcher::Class(c) => format!("{c}xx"),
        Matcher::Range(lo, hi) => format!("{lo}-{hi}"),
        Matcher::Method(m) => m.clone(),
    }
}

/// `alice>200/INVITE` when `send` answers the request of an optional expect step: it is sent
/// only when that request came (docs/scenarios.md, `reply_to`).
fn answers_optional(sc: &Scenario, send: &crate::scenario::Send) -> Option<String> {
    let Outgoing::Response {
        status, reply_to, ..
    } = &send.message
    else {
        return None;
    };
    let ReplyTo::Label(label) = &reply_to.value else {
        return None;
    };
    if !sc.label_is_optional(label) {
        return None;
    }
    let method = sc.steps.iter().find_map(|s| {
        let labelled: Vec<&crate::scenario::Expect> = match &s.value {
            Step::Expect(e) => vec![e],
            Step::OneOf(o) => o.alternatives.iter().map(|e| &e.value).collect(),
            Step::Unordered(u) => u.entries.iter().map(|e| &e.value).collect(),
            _ => Vec::new(),
        };
        labelled.into_iter().find_map(|e| match &e.matcher.value {
            Matcher::Method(m) if e.label.as_ref().is_some_and(|l| &l.value == label) => {
                Some(m.clone())
            }
            _ => None,
        })
    })?;
    Some(format!("{}>{status}/{method}", send.from.value))
}

/// Whether an entry matches one of the optional matchers.
pub fn matches_optional(optional: &[String], e: &Entry) -> bool {
    optional.iter().any(|m| {
        if let Some((from, label)) = m.split_once('>') {
            return e.from == from && e.label == label;
        }
        match e.status() {
            Some(status) => {
                if let Some((lo, hi)) = m.split_once('-') {
                    matches!((lo.parse::<u16>(), hi.parse::<u16>()), (Ok(lo), Ok(hi)) if (lo..=hi).contains(&status))
                } else if let Some(c) = m.strip_suffix("xx") {
                    c.parse::<u16>().is_ok_and(|c| status / 100 == c)
                } else {
                    m.parse::<u16>().is_ok_and(|s| s == status)
                }
            }
            None => *m == e.label,
        }
    })
}

/// The transcript of a trace. `scenario`, `target` and `optional` of the result are left
/// empty for the caller to fill.
pub fn build(trace: &Trace, parties: &Parties) -> Transcript {
    let mut b = Builder {
        parties,
        learned: HashMap::new(),
        unnamed: 0,
        aliases: Aliases::new(),
    };
    let mut t = Transcript::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let zero = trace.messages.first().map(|m| m.time).unwrap_or_default();
    for (i, m) in trace.messages.iter().enumerate() {
        let msg = &m.message;
        if msg.is_request() {
            b.learn_from_via(m.src, msg);
        } else {
            b.learn_from_via(m.dst, msg);
        }
        let from = b.party(m.src);
        let to = b.party(m.dst);
        let label = label(msg);
        let fields = b.fields(msg);
        let entry = Entry {
            time_ms: m.time.saturating_sub(zero).as_millis() as u64,
            from,
            to,
            label,
            count: 1,
            fields,
            messages: vec![i],
        };
        // A retransmission is the same line again (same parties, transaction, dialog and
        // content once aliased): it is counted on the first copy's entry.
        let key = entry.body_text();
        if let Some(&j) = seen.get(&key) {
            let first: &mut Entry = &mut t.entries[j];
            first.count += 1;
            first.messages.push(i);
            continue;
        }
        seen.insert(key, t.entries.len());
        t.entries.push(entry);
    }
    t
}

/// `INVITE`, or `200/INVITE` for a response (`200/?` without a CSeq).
fn label(m: &Message) -> String {
    match m.status() {
        Some(s) => {
            let method = m.cseq().map_or_else(|| "?".to_string(), |c| c.method);
            format!("{s}/{method}")
        }
        None => m
            .method()
            .map_or_else(|| "?".to_string(), |s| s.into_owned()),
    }
}

struct Builder<'a> {
    parties: &'a Parties,
    learned: HashMap<SocketAddr, String>,
    unnamed: usize,
    aliases: Aliases,
}

impl Builder<'_> {
    fn party(&mut self, addr: SocketAddr) -> String {
        if let Some(n) = self.parties.get(addr) {
            return n.to_string();
        }
        if let Some(n) = self.learned.get(&addr) {
            return n.clone();
        }
        self.unnamed += 1;
        let name = letters(self.unnamed);
        self.learned.insert(addr, name.clone());
        name
    }

    /// An unnamed address that sends requests with a known address in the top Via (or
    /// receives responses whose top Via names one) is that party on another port.
    fn learn_from_via(&mut self, addr: SocketAddr, m: &Message) {
        if self.parties.get(addr).is_some() || self.learned.contains_key(&addr) {
            return;
        }
        let Some(sent_by) = m
            .top_via()
            .and_then(|v| v.sent_by().parse::<SocketAddr>().ok())
        else {
            return;
        };
        if let Some(n) = self.parties.get(sent_by) {
            self.learned.insert(addr, n.to_string());
        }
    }

    fn alias(&mut self, kind: Kind, raw: &str) -> String {
        self.aliases.get(kind, raw)
    }

    /// The fields of a line, in the order the module's documentation lists them.
    fn fields(&mut self, m: &Message) -> Vec<Field> {
        let mut out = Vec::new();
        self.identifiers(m, &mut out);
        registration(m, &mut out);
        list(m, HeaderName::Require, "require", false, &mut out);
        self.reliability_and_timers(m, &mut out);
        self.events_and_transfer(m, &mut out);
        self.digest(m, &mut out);
        self.body(m, &mut out);
        list(m, HeaderName::Supported, "supported", false, &mut out);
        list(m, HeaderName::Allow, "allow", true, &mut out);
        list(m, HeaderName::Accept, "accept", false, &mut out);
        list(m, HeaderName::AllowEvents, "allow-events", false, &mut out);
        if let Some(v) = m.first_value(HeaderName::MinSe) {
            out.push(Field::new("min-se", v.trim()));
        }
        out
    }

    /// `call`, `from`, `to`, `via` and `cseq`: the dialog and the transaction.
    fn identifiers(&mut self, m: &Message, out: &mut Vec<Field>) {
        let push_tag = |b: &mut Self, out: &mut Vec<Field>, key: &str, tag: Option<String>| {
            let v = match tag {
                Some(t) => b.alias(Kind::Tag, &t),
                None => "-".to_string(),
            };
            out.push(Field::new(key, v));
        };
        if let Some(c) = m.call_id() {
            let a = self.alias(Kind::Call, &c);
            out.push(Field::new("call", a));
        }
        push_tag(self, out, "from", m.from_tag());
        push_tag(self, out, "to", m.to_tag());
        let branches: Vec<String> = m
            .vias()
            .iter()
            .map(|v| match v.branch() {
                Some(b) => self.alias(Kind::Branch, b),
                None => "-".to_string(),
            })
            .collect();
        if !branches.is_empty() {
            out.push(Field::new("via", branches.join(",")));
        }
        if let Some(cs) = m.cseq() {
            let mut v = self.alias(Kind::CSeq, &cseq_key(m, cs.number));
            let own = m.method();
            if m.is_request() && own.as_deref() != Some(cs.method.as_str()) {
                v.push(':');
                v.push_str(&cs.method);
            }
            out.push(Field::new("cseq", v));
        }
    }

    /// `rseq` and `rack` (RFC 3262), `session-expires` (RFC 4028).
    fn reliability_and_timers(&mut self, m: &Message, out: &mut Vec<Field>) {
        if let Some(r) = m.first_value(HeaderName::RSeq) {
            let a = self.alias(Kind::RSeq, r.trim());
            out.push(Field::new("rseq", a));
        }
        if let Some(ra) = m
            .first_value(HeaderName::RAck)
            .and_then(|v| headers::parse_rack(&v).ok())
        {
            let r = self.alias(Kind::RSeq, &ra.response_num.to_string());
            let c = self.alias(Kind::CSeq, &cseq_key(m, ra.cseq_num));
            out.push(Field::new("rack", format!("{r}/{c}:{}", ra.method)));
        }
        if let Some(se) = m
            .first_value(HeaderName::SessionExpires)
            .and_then(|v| headers::parse_session_expires(&v).ok())
        {
            let refresher = se
                .param("refresher")
                .flatten()
                .map(str::to_ascii_lowercase)
                .unwrap_or_else(|| "-".into());
            out.push(Field::new(
                "session-expires",
                format!("{}/{refresher}", se.seconds),
            ));
        }
    }

    /// `event` and `sub-state` (RFC 6665), `refer-to` (RFC 3515) and `replaces` (RFC 3891).
    fn events_and_transfer(&mut self, m: &Message, out: &mut Vec<Field>) {
        if let Some(ev) = m
            .first_value(HeaderName::Event)
            .and_then(|v| headers::parse_event(&v).ok())
        {
            out.push(Field::new("event", ev.package().to_ascii_lowercase()));
        }
        if let Some(v) = m.first_value(HeaderName::SubscriptionState) {
            let state = v
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            out.push(Field::new("sub-state", state));
        }
        if let Some(v) = m.first_value(HeaderName::ReferTo) {
            let v = v.into_owned();
            out.push(Field::new("refer-to", self.refer_to(&v)));
        }
        if let Some(r) = m
            .first_value(HeaderName::Replaces)
            .and_then(|v| headers::parse_replaces(&v).ok())
        {
            let v = self.replaces(&r);
            out.push(Field::new("replaces", v));
        }
    }

    /// `challenge` and `auth`: the digest algorithm and nonce of each side.
    fn digest(&mut self, m: &Message, out: &mut Vec<Field>) {
        for name in [HeaderName::WwwAuthenticate, HeaderName::ProxyAuthenticate] {
            let mut found = Vec::new();
            for h in m.headers_named(name) {
                if let Ok(c) = headers::parse_challenge(&m.value(h)) {
                    let alg = c.algorithm().unwrap_or("MD5").to_ascii_uppercase();
                    let nonce = c
                        .nonce()
                        .map_or("-".to_string(), |n| self.alias(Kind::Nonce, n));
                    found.push(format!("{alg}:{nonce}"));
                }
            }
            if !found.is_empty() {
                out.push(Field::new("challenge", found.join(",")));
            }
        }
        for name in [HeaderName::Authorization, HeaderName::ProxyAuthorization] {
            if let Some(c) = m
                .first_value(name)
                .and_then(|v| headers::parse_credentials(&v).ok())
            {
                let alg = c.param("algorithm").unwrap_or("MD5").to_ascii_uppercase();
                let nonce = c
                    .nonce()
                    .map_or("-".to_string(), |n| self.alias(Kind::Nonce, n));
                out.push(Field::new("auth", format!("{alg}:{nonce}")));
            }
        }
    }

    /// `ct`, `frag` (the status of a message/sipfrag body) and the SDP summary.
    fn body(&mut self, m: &Message, out: &mut Vec<Field>) {
        if let Some(ct) = m.content_type() {
            let essence = ct.essence();
            if essence == "message/sipfrag" {
                let status = String::from_utf8_lossy(m.body())
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("?")
                    .to_string();
                out.push(Field::new("ct", essence));
                out.push(Field::new("frag", status));
            } else {
                out.push(Field::new("ct", essence));
            }
        }
        if let Some(sdp) = m.sdp() {
            super::sdp::summarise(&sdp, &mut self.aliases, out);
        }
    }

    /// The party a Refer-To URI names (when its host and port are known), with the Replaces
    /// it carries: `bob`, `bob+replaces=<call-1>/<tag-B>/<tag-A>`, or `uri`.
    fn refer_to(&mut self, v: &str) -> String {
        let uri = v.trim().trim_start_matches('<');
        let hostport = uri
            .split_once('@')
            .map_or(uri, |(_, h)| h)
            .split([';', '>', '?'])
            .next()
            .unwrap_or("");
        let mut out = match hostport.parse::<SocketAddr>() {
            Ok(a) => self
                .parties
                .get(a)
                .map_or("uri".to_string(), str::to_string),
            Err(_) => "uri".to_string(),
        };
        let lower = v.to_ascii_lowercase();
        if let Some(at) = lower.find("replaces=") {
            let rest = &v[at + "replaces=".len()..];
            let end = rest.find(['>', '&']).unwrap_or(rest.len());
            if let Ok(r) = headers::parse_replaces_escaped(&rest[..end]) {
                out.push_str("+replaces=");
                out.push_str(&self.replaces(&r));
            }
        }
        out
    }

    fn replaces(&mut self, r: &headers::Replaces) -> String {
        let c = self.alias(Kind::Call, &r.call_id);
        let to = self.alias(Kind::Tag, &r.to_tag);
        let from = self.alias(Kind::Tag, &r.from_tag);
        format!("{c}/{to}/{from}")
    }
}

/// A list header as one sorted, comma-separated field (`allow=ACK,BYE,INVITE`); methods
/// (`upper`) upper-cased, other tokens lower-cased.
fn list(m: &Message, name: HeaderName, key: &str, upper: bool, out: &mut Vec<Field>) {
    if m.header(name).is_none() {
        return;
    }
    let mut items: Vec<String> = m
        .values(name)
        .iter()
        .map(|v| v.split(';').next().unwrap_or("").trim().to_string())
        .filter(|v| !v.is_empty())
        .map(|v| {
            if upper {
                v.to_ascii_uppercase()
            } else {
                v.to_ascii_lowercase()
            }
        })
        .collect();
    items.sort();
    items.dedup();
    out.push(Field::new(
        key,
        if items.is_empty() {
            "-".to_string()
        } else {
            items.join(",")
        },
    ));
}

/// `contact` (present; `*` for a REGISTER removing all) and `expires` (the header, else a
/// Contact's parameter).
fn registration(m: &Message, out: &mut Vec<Field>) {
    let contacts = m.values(HeaderName::Contact);
    if !contacts.is_empty() {
        let star = contacts.iter().any(|c| c.trim() == "*");
        out.push(Field::new("contact", if star { "*" } else { "" }));
    }
    if let Some(e) = m.first_value(HeaderName::Expires) {
        out.push(Field::new("expires", e.trim()));
    } else if let Some(e) = contacts.iter().find_map(|c| param(c, "expires")) {
        out.push(Field::new("expires", e));
    }
}

/// What a CSeq number is aliased by: Call-ID, From tag and number (a CSeq counts per sender
/// of a dialog), so that a RAck's CSeq reads as the alias of the request it acknowledges.
fn cseq_key(m: &Message, number: u32) -> String {
    format!(
        "{}\n{}\n{}",
        m.call_id().as_deref().unwrap_or(""),
        m.from_tag().as_deref().unwrap_or(""),
        number
    )
}

/// A parameter of a header value (`expires` of a Contact), by name.
fn param(v: &str, name: &str) -> Option<String> {
    let after = v.rsplit_once('>').map_or(v, |(_, p)| p);
    after.split(';').skip(1).find_map(|p| {
        let (k, val) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| val.trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::parse::parse_message;
    use crate::trace::{TracedMessage, Transport};
    use std::time::Duration;

    fn msg(t: u64, src: &str, dst: &str, text: &str) -> TracedMessage {
        TracedMessage {
            time: Duration::from_millis(t),
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            transport: Transport::Udp,
            message: parse_message(text.replace('\n', "\r\n").as_bytes()),
        }
    }

    const A: &str = "127.0.0.1:5001";
    const T: &str = "127.0.0.1:5060";

    fn invite(branch: &str) -> String {
        format!(
            "INVITE sip:t@{T} SIP/2.0\nVia: SIP/2.0/UDP {A};branch={branch}\n\
             From: <sip:a@x>;tag=f1\nTo: <sip:t@y>\nCall-ID: c1@x\nCSeq: 7 INVITE\n\
             Contact: <sip:a@{A}>\nContent-Length: 0\n\n"
        )
    }

    fn ok(to_tag: &str) -> String {
        format!(
            "SIP/2.0 200 OK\nVia: SIP/2.0/UDP {A};branch=z9hG4bKb1\n\
             From: <sip:a@x>;tag=f1\nTo: <sip:t@y>;tag={to_tag}\nCall-ID: c1@x\nCSeq: 7 INVITE\n\
             Allow: INVITE, BYE,ACK\nContent-Length: 0\n\n"
        )
    }

    #[test]
    fn aliases_keep_relations_and_retransmissions_fold() {
        let trace = Trace {
            messages: vec![
                msg(0, A, T, &invite("z9hG4bKb1")),
                msg(500, A, T, &invite("z9hG4bKb1")),
                msg(510, T, A, &ok("tt")),
                msg(520, T, "127.0.0.1:9999", &ok("tt")),
                msg(
                    530,
                    "127.0.0.1:7777",
                    T,
                    &invite("z9hG4bKb9").replace(A, "127.0.0.1:7777"),
                ),
            ],
        };
        let parties = Parties::new()
            .with(A.parse().unwrap(), "alice")
            .with(T.parse().unwrap(), "target");
        let t = build(&trace, &parties);
        let lines: Vec<String> = (0..t.entries.len()).map(|i| t.line(i)).collect();
        assert_eq!(
            lines,
            [
                "  1  +0.000 alice  > target INVITE x2 call=<call-1> from=<tag-A> to=- via=<branch-1> cseq=<cseq-1> contact",
                "  2  +0.510 target > alice  200/INVITE x2 call=<call-1> from=<tag-A> to=<tag-B> via=<branch-1> cseq=<cseq-1> allow=ACK,BYE,INVITE",
                "  3  +0.530 A      > target INVITE call=<call-1> from=<tag-A> to=- via=<branch-2> cseq=<cseq-1> contact",
            ]
        );
        assert_eq!(t.entries[0].messages, [0, 1]);
        // The response to another port of alice's (a TCP connection) is alice's.
        assert_eq!(t.entries[1].messages, [2, 3]);
    }
}
