//! The reference UA as a transaction-stateful proxy (RFC 3261 §16), for scenarios whose target
//! has `role: proxy`: siptest's agents talk to each other *through* the UA.
//!
//! Which requests are proxied: those whose Request-URI names an IP address and port other than
//! the UA's own (the agents address each other: `INVITE sip:bob@127.0.0.1:5062` sent to the
//! UA), and those whose top Route is the UA's own Record-Route with a further Route after it.
//! A Request-URI with a host name is the UA's (there is no DNS, RFC 3263), and a UA bound to
//! loopback forwards only to loopback addresses. Everything else is handled as a UA.
//!
//! For each forwarded request the proxy keeps a response context ([`Context`], §16.7): the
//! server transaction the request came in on and the client transaction it went out on.
//! Responses come back through the client transaction, lose the proxy's Via and go up through
//! the server transaction. What the transaction layer no longer matches (2xx retransmissions
//! after the INVITE client transaction ended, late responses to non-INVITEs) arrives as
//! `EndpointEvent::Stray` and is matched to its context by the proxy's Via branch.
//!
//! Not implemented: forking (one target per request), Timer C (§16.8), the strict-routing
//! fix-up of §16.4, loop detection (§16.3 step 4, optional) and stateless forwarding of
//! responses that match no context.

use super::{Quirk, UaCore};
use crate::engine::compose::{self, reason_phrase};
use crate::engine::draft::{same_header, Draft};
use crate::net::{via, EndpointEvent, TxId};
use crate::sip::host::Host;
use crate::sip::lex;
use crate::sip::message::Message;
use crate::sip::parse::parse_message;
use crate::sip::uri::parse_uri;
use crate::sip::HeaderName;
use crate::trace::Transport;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

/// How long a response context outlives its creation: past Timer L and M (64*T1) at any T1
/// a test uses, so that 2xx retransmissions and late responses still find it.
const CONTEXT_LIFETIME: Duration = Duration::from_secs(300);
/// At most this many contexts are kept (the oldest go first).
const MAX_CONTEXTS: usize = 1024;

/// The proxy's state: its response contexts and the CANCELs it sent.
#[derive(Debug, Default)]
pub(super) struct Proxy {
    contexts: Vec<Context>,
    /// Client transactions of the CANCELs the proxy generated (§16.10): their responses and
    /// timeouts stop here.
    cancels: Vec<TxId>,
}

/// Where a proxied request goes next (§16.4, §16.5).
#[derive(Clone, Copy, Debug)]
struct Hop {
    to: SocketAddr,
    /// The top Route is the proxy's own and is removed (§16.4).
    strip_route: bool,
}

/// Whether the proxy still has to CANCEL the forwarded INVITE (§16.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cancel {
    No,
    /// Asked for before any provisional: RFC 3261 §9.1 waits for one.
    Wanted,
    Sent,
}

/// A response context (RFC 3261 §16.7): one forwarded request.
#[derive(Debug)]
struct Context {
    server_tx: TxId,
    client_tx: TxId,
    method: String,
    /// The request as received (responses the proxy generates are built from it).
    received: Message,
    from: SocketAddr,
    /// The request as forwarded (a CANCEL is built from it, §9.1).
    forwarded: Message,
    to: SocketAddr,
    /// The branch of the proxy's Via on the forwarded request.
    branch: String,
    created: Instant,
    /// The final status sent upstream, once one was.
    final_sent: Option<u16>,
    provisional_seen: bool,
    cancel: Cancel,
}

impl UaCore {
    /// Takes the events that belong to the proxy and hands the others back: requests for
    /// other hosts, and responses, strays and timeouts of the transactions that forward them.
    pub(super) fn proxy_filter(
        &mut self,
        now: Instant,
        ev: EndpointEvent,
    ) -> Option<EndpointEvent> {
        match ev {
            EndpointEvent::Request { tx, msg, from } => match self.next_hop(&msg) {
                Some(hop) => self.proxy_request(now, tx, msg, from, hop),
                None => return Some(EndpointEvent::Request { tx, msg, from }),
            },
            EndpointEvent::Stray { msg, from } if msg.is_request() => match self.next_hop(&msg) {
                // An ACK to a 2xx after the server transaction left Accepted (RFC 6026 §7.1).
                Some(hop) => self.forward_stateless(msg, hop),
                None => return Some(EndpointEvent::Stray { msg, from }),
            },
            EndpointEvent::Response { tx, msg } => {
                if let Some(i) = self.context_of_client(tx) {
                    self.proxy_response(i, msg);
                } else if !self.proxy.cancels.contains(&tx) {
                    return Some(EndpointEvent::Response { tx, msg });
                }
            }
            EndpointEvent::Stray { msg, from } => {
                let branch = msg.branch();
                let i = self
                    .proxy
                    .contexts
                    .iter()
                    .rposition(|c| Some(&c.branch) == branch.as_ref());
                match i {
                    Some(i) => self.proxy_stray_response(i, msg),
                    None => return Some(EndpointEvent::Stray { msg, from }),
                }
            }
            EndpointEvent::Timeout { tx, timer } => match self.context_of_client(tx) {
                Some(i) => self.proxy_failed(i, false),
                None if self.proxy.cancels.contains(&tx) => {}
                None => return Some(EndpointEvent::Timeout { tx, timer }),
            },
            EndpointEvent::TransportError { tx, peer } => match self.context_of_client(tx) {
                Some(i) => self.proxy_failed(i, true),
                None if self.proxy.cancels.contains(&tx) => {}
                None => return Some(EndpointEvent::TransportError { tx, peer }),
            },
            other => return Some(other),
        }
        None
    }

    fn context_of_client(&self, tx: TxId) -> Option<usize> {
        self.proxy.contexts.iter().position(|c| c.client_tx == tx)
    }

    /// Whether `addr` is the UA's own address (any IP on its port when bound to all).
    fn own_addr(&self, addr: SocketAddr) -> bool {
        let local = self.wire.local();
        addr.port() == local.port() && (addr.ip() == local.ip() || local.ip().is_unspecified())
    }

    /// Where a request goes when the UA proxies it, or `None` when it is the UA's own (see the
    /// module documentation).
    fn next_hop(&self, msg: &Message) -> Option<Hop> {
        let ruri = msg.request_uri()?;
        let ruri_addr = uri_addr(&ruri);
        // A host name cannot be resolved (no RFC 3263): such a request is the UA's.
        // A Request-URI on the UA's IP address without a port is the UA's too: the agents'
        // URIs always carry their port.
        let ruri_ours = match ruri_addr {
            None => true,
            Some(a) => self.own_addr(a) || (a.ip() == self.wire.local().ip() && !has_port(&ruri)),
        };
        let routes = msg.values(HeaderName::Route);
        let top_ours = routes
            .first()
            .and_then(|r| uri_addr(route_uri(r)))
            .is_some_and(|a| self.own_addr(a));
        // RFC 3261 §16.4: the proxy's own top Route is removed; the next one, if any, is the
        // next hop, else the Request-URI (§16.5).
        let next_route = if top_ours {
            routes.get(1)
        } else {
            routes.first()
        };
        if ruri_ours && !(top_ours && next_route.is_some()) {
            return None;
        }
        let to = match next_route {
            Some(r) => uri_addr(route_uri(r))?,
            None => ruri_addr?,
        };
        let local = self.wire.local().ip();
        if self.own_addr(to) || (local.is_loopback() && !to.ip().is_loopback()) {
            return None;
        }
        Some(Hop {
            to,
            strip_route: top_ours,
        })
    }

    /// A request to forward (RFC 3261 §16.3 to §16.6).
    fn proxy_request(&mut self, now: Instant, tx: TxId, msg: Message, from: SocketAddr, hop: Hop) {
        let method = msg.method().map(|m| m.into_owned()).unwrap_or_default();
        match method.as_str() {
            "ACK" => return self.forward_stateless(msg, hop),
            "CANCEL" => return self.proxy_cancel(tx, msg, hop),
            _ => {}
        }
        // RFC 3261 §16.3 step 3: Max-Forwards 0 -> 483 Too Many Hops.
        let mf = match max_forwards(&msg) {
            Ok(Some(0)) => return self.proxy_reply(tx, &msg, 483, None),
            Ok(n) => n,
            Err(()) => return self.proxy_reply(tx, &msg, 400, None),
        };
        // RFC 3261 §16.3 step 5: the proxy supports no Proxy-Require extension: 420.
        let tags = super::dispatch::option_tags(&msg, HeaderName::ProxyRequire);
        if !tags.is_empty() {
            return self.proxy_reply(tx, &msg, 420, Some(("Unsupported", tags.join(", "))));
        }
        // RFC 3261 §16.6 step 4: Record-Route on requests that create a dialog, so that the
        // requests inside it come through the proxy.
        let creates_dialog = matches!(method.as_str(), "INVITE" | "SUBSCRIBE" | "REFER");
        let record_route = creates_dialog && msg.to_tag().is_none();
        let (forwarded, branch) = self.forwarded_copy(&msg, hop, mf, record_route);
        match self.wire.send_request_to(hop.to, forwarded.clone()) {
            Ok(client_tx) => {
                self.prune_contexts(now);
                self.proxy.contexts.push(Context {
                    server_tx: tx,
                    client_tx,
                    method,
                    received: msg,
                    from,
                    forwarded,
                    to: hop.to,
                    branch,
                    created: now,
                    final_sent: None,
                    provisional_seen: false,
                    cancel: Cancel::No,
                });
            }
            Err(e) => {
                // RFC 3261 §16.9: an error of the transport is a 503, which §16.7 step 6
                // turns into 500 upstream.
                self.notes
                    .push(format!("proxy: {method} to {}: {e}", hop.to));
                self.proxy_reply(tx, &msg, 500, None);
            }
        }
    }

    /// The copy to forward (RFC 3261 §16.6): Request-URI and body unchanged, Max-Forwards
    /// decremented (70 when absent), the proxy's Route removed, its Record-Route added when
    /// asked, its Via on top with a fresh branch. Returns the copy and that branch.
    fn forwarded_copy(
        &self,
        msg: &Message,
        hop: Hop,
        mf: Option<u32>,
        record_route: bool,
    ) -> (Message, String) {
        let mut d = Draft::from_message(msg);
        // §16.6 step 3.
        let mf = mf.map_or(70, |n| n.saturating_sub(1));
        d.set("Max-Forwards", &[mf.to_string()]);
        // §16.6 step 4: before any Record-Route already there.
        if record_route {
            let at = d
                .headers
                .iter()
                .position(|(n, _)| same_header(n, "Record-Route"))
                .unwrap_or(d.headers.len());
            d.headers
                .insert(at, ("Record-Route".into(), self.record_route()));
        }
        // §16.4: the proxy's own Route goes.
        if hop.strip_route {
            remove_first_element(&mut d, "Route");
        }
        // §16.6 step 8: the proxy's Via on top, with a branch of its own (§16.6 step 8,
        // §8.1.1.7).
        let via = self.wire.new_via();
        d.headers.insert(0, ("Via".into(), via));
        let copy = parse_message(&d.to_bytes());
        let branch = copy.branch().unwrap_or_default();
        (copy, branch)
    }

    /// The URI the proxy records (RFC 3261 §16.6 step 4): its address, `lr` (loose routing,
    /// §19.1.1), and the transport unless UDP.
    pub(super) fn record_route(&self) -> String {
        let addr = via::sent_by(self.wire.local());
        match self.wire.transport() {
            Transport::Udp => format!("<sip:{addr};lr>"),
            t => format!("<sip:{addr};transport={};lr>", t.as_str()),
        }
    }

    /// Drops response contexts that are too old to be matched any more.
    fn prune_contexts(&mut self, now: Instant) {
        let contexts = &mut self.proxy.contexts;
        contexts.retain(|c| now.saturating_duration_since(c.created) < CONTEXT_LIFETIME);
        if contexts.len() >= MAX_CONTEXTS {
            let excess = contexts.len() + 1 - MAX_CONTEXTS;
            contexts.drain(..excess);
        }
        if self.proxy.cancels.len() > MAX_CONTEXTS {
            let excess = self.proxy.cancels.len() - MAX_CONTEXTS;
            self.proxy.cancels.drain(..excess);
        }
    }

    /// ACK to a 2xx, and CANCEL without a response context (§16.10): forwarded with no
    /// transaction (RFC 3261 §16.11 for the stateless case; an ACK has no client transaction,
    /// §17). An ACK to a non-2xx final the proxy sent ends here: it was for the proxy's server
    /// transaction (§16.7, §17.2.1).
    fn forward_stateless(&mut self, msg: Message, hop: Hop) {
        let acked_failure = msg.method().as_deref() == Some("ACK")
            && self.proxy.contexts.iter().any(|c| {
                c.received.branch() == msg.branch() && c.final_sent.is_some_and(|s| s >= 300)
            });
        if acked_failure {
            return;
        }
        let mf = match max_forwards(&msg) {
            Ok(Some(0)) | Err(()) => return, // nothing can answer an ACK (§16.3 step 3)
            Ok(n) => n,
        };
        let (copy, _) = self.forwarded_copy(&msg, hop, mf, false);
        self.wire.send_raw(hop.to, copy.to_bytes());
    }

    /// CANCEL (RFC 3261 §16.10): 200 to it, then the pending client INVITE transaction is
    /// cancelled; its 487 comes back and is forwarded like any final.
    fn proxy_cancel(&mut self, tx: TxId, msg: Message, hop: Hop) {
        let branch = msg.branch();
        let call_id = msg.call_id();
        let found = self.proxy.contexts.iter().rposition(|c| {
            c.method == "INVITE" && c.received.branch() == branch && c.received.call_id() == call_id
        });
        let Some(i) = found else {
            // §16.10: no response context: the CANCEL is forwarded statelessly.
            return self.forward_stateless(msg, hop);
        };
        self.proxy_reply(tx, &msg, 200, None);
        let c = &mut self.proxy.contexts[i];
        if c.final_sent.is_some() || c.cancel != Cancel::No {
            return;
        }
        c.cancel = Cancel::Wanted;
        if c.provisional_seen {
            self.send_cancel(i);
        }
    }

    /// Sends the CANCEL of context `i`'s forwarded INVITE (RFC 3261 §9.1: same Request-URI,
    /// Call-ID, From, To, CSeq number, Route and top Via), to where the INVITE went.
    fn send_cancel(&mut self, i: usize) {
        let c = &mut self.proxy.contexts[i];
        c.cancel = Cancel::Sent;
        let Some(b) = crate::dialog::cancel_for(&c.forwarded) else {
            return;
        };
        let to = c.to;
        match self.wire.send_request_to(to, parse_message(&b.build())) {
            Ok(t) => self.proxy.cancels.push(t),
            Err(e) => self.notes.push(format!("proxy: CANCEL to {to}: {e}")),
        }
    }

    /// A response through context `i`'s client transaction (RFC 3261 §16.7).
    fn proxy_response(&mut self, i: usize, msg: Message) {
        let status = msg.status().unwrap_or(0);
        // §16.7 step 3: the proxy's own Via goes.
        let Some(up) = without_top_via(&msg) else {
            return;
        };
        let c = &mut self.proxy.contexts[i];
        if status < 200 {
            c.provisional_seen = true;
            if c.cancel == Cancel::Wanted {
                self.send_cancel(i);
            }
            // §16.7 step 5: 100 is hop by hop, never forwarded; other provisionals are
            // forwarded at once, until a final went up.
            if status > 100 && self.proxy.contexts[i].final_sent.is_none() {
                self.forward_up(i, up);
            }
            return;
        }
        let c = &self.proxy.contexts[i];
        let invite_2xx = c.method == "INVITE" && (200..300).contains(&status);
        if invite_2xx {
            // §16.7 step 10: every 2xx to an INVITE is forwarded, even after another final.
            return self.forward_2xx(i, up);
        }
        if c.final_sent.is_some() {
            return self.late_response(i, up);
        }
        self.forward_final(i, up);
    }

    /// A final response for context `i`'s server transaction (RFC 3261 §16.7 step 6 with a
    /// single branch: the best response is this one; a 503 goes up as 500).
    fn forward_final(&mut self, i: usize, up: Message) {
        let status = up.status().unwrap_or(0);
        self.proxy.contexts[i].final_sent = Some(status);
        if status == 503 {
            let received = self.proxy.contexts[i].received.clone();
            let tx = self.proxy.contexts[i].server_tx;
            return self.proxy_reply(tx, &received, 500, None);
        }
        self.forward_up(i, up);
    }

    /// A 2xx to a forwarded INVITE: through the server transaction while it is in Accepted
    /// (RFC 6026 §7.1), else statelessly (RFC 3261 §16.7 step 10, RFC 6026 §8.4).
    fn forward_2xx(&mut self, i: usize, up: Message) {
        let c = &mut self.proxy.contexts[i];
        if c.final_sent.is_some_and(|s| s >= 300) {
            // The server transaction already sent a failure; only this 2xx can still end
            // the call: forwarded statelessly all the same (§16.7 step 10).
            return self.send_up_raw(i, &up);
        }
        c.final_sent = Some(up.status().unwrap_or(200));
        let tx = c.server_tx;
        if self.wire.send_response(tx, up.clone()).is_err() {
            self.send_up_raw(i, &up);
        }
    }

    /// Sends `up` through context `i`'s server transaction; a refusal is noted.
    fn forward_up(&mut self, i: usize, up: Message) {
        let c = &self.proxy.contexts[i];
        let (tx, method) = (c.server_tx, c.method.clone());
        let status = up.status().unwrap_or(0);
        if let Err(e) = self.wire.send_response(tx, up) {
            self.notes
                .push(format!("proxy: {status} to {method} not forwarded: {e}"));
        }
    }

    /// Sends `up` to context `i`'s upstream with no transaction (RFC 3261 §18.2.2).
    fn send_up_raw(&mut self, i: usize, up: &Message) {
        let c = &self.proxy.contexts[i];
        let reliable = self.wire.transport() != Transport::Udp;
        let to = via::response_destination(&c.received, c.from, reliable);
        self.wire.send_raw(to, up.to_bytes());
    }

    /// A response that reached no live client transaction but carries the proxy's branch of
    /// context `i`: a 2xx retransmission to an INVITE is forwarded (RFC 6026 §8.4); a late
    /// response to a non-INVITE is not (RFC 4320 §4.2).
    fn proxy_stray_response(&mut self, i: usize, msg: Message) {
        let status = msg.status().unwrap_or(0);
        let Some(up) = without_top_via(&msg) else {
            return;
        };
        let c = &self.proxy.contexts[i];
        let is_invite = msg.cseq().is_some_and(|s| s.method == "INVITE");
        if c.method == "INVITE" && is_invite && (200..300).contains(&status) {
            self.forward_2xx(i, up);
        } else if c.method != "INVITE" && status >= 200 {
            self.late_response(i, up);
        }
    }

    /// RFC 4320 §4.2: "A transaction-stateful SIP proxy MUST NOT send any response to a
    /// non-INVITE request unless it has a matching server transaction that is not in the
    /// Terminated state": a late response is dropped. The `forwards-late-responses` quirk
    /// forwards it anyway, with no transaction.
    fn late_response(&mut self, i: usize, up: Message) {
        let status = up.status().unwrap_or(0);
        let method = self.proxy.contexts[i].method.clone();
        if self.quirk(Quirk::ForwardsLateResponses) {
            self.send_up_raw(i, &up);
        } else {
            self.notes.push(format!(
                "proxy: late {status} to {method} dropped (RFC 4320 §4.2)"
            ));
        }
    }

    /// Context `i`'s client transaction ended with no final response: Timer B (or F), or a
    /// transport error (RFC 3261 §16.7 step 6, §16.9).
    fn proxy_failed(&mut self, i: usize, transport_error: bool) {
        let c = &self.proxy.contexts[i];
        if c.final_sent.is_some() {
            return;
        }
        let status = if transport_error {
            // §16.9: treated as a 503, which §16.7 step 6 sends up as 500.
            500
        } else if c.method == "INVITE" {
            // §16.7 step 6: no response at all: the best response is a 408.
            408
        } else {
            // RFC 4320 §4.2: no 408 to a non-INVITE; the proxy sends nothing and lets the
            // client's Timer F expire.
            return;
        };
        let (tx, received) = (c.server_tx, c.received.clone());
        self.proxy.contexts[i].final_sent = Some(status);
        self.proxy_reply(tx, &received, status, None);
    }

    /// A response the proxy generates to `req` (RFC 3261 §16.7 step 6 / §8.2.6), through
    /// server transaction `tx`, with a To tag of its own unless the request had one.
    fn proxy_reply(&mut self, tx: TxId, req: &Message, status: u16, extra: Option<(&str, String)>) {
        let tag = req.to_tag().is_none().then(|| self.wire.token());
        let mut d = compose::response(req, status, reason_phrase(status), tag.as_deref(), None);
        if let Some((name, value)) = extra {
            d.push(name, value);
        }
        if let Err(e) = self.wire.send_response(tx, parse_message(&d.to_bytes())) {
            self.notes.push(format!("proxy: {status} not sent: {e}"));
        }
    }
}

/// Max-Forwards as a number: `Ok(None)` when absent, `Err` when not a number (§20.22).
fn max_forwards(msg: &Message) -> Result<Option<u32>, ()> {
    match msg.first_value(HeaderName::MaxForwards) {
        None => Ok(None),
        Some(v) => v.trim().parse::<u32>().map(Some).map_err(|_| ()),
    }
}

/// The URI of a Route value (`<uri>;params` or a bare URI).
fn route_uri(value: &str) -> &str {
    match value.find('<') {
        Some(start) => {
            let rest = &value[start + 1..];
            rest.find('>').map_or(rest, |end| &rest[..end])
        }
        None => value.split(';').next().unwrap_or(value).trim(),
    }
}

/// The address a sip/sips URI names, when its host is an IP address (5060, 5061 for sips,
/// by default).
fn uri_addr(uri: &str) -> Option<SocketAddr> {
    let uri = parse_uri(uri.trim()).ok()?;
    let default_port = if uri.scheme.as_str() == "sips" {
        5061
    } else {
        5060
    };
    let port = uri.port.unwrap_or(default_port);
    match uri.host? {
        Host::Ipv4(ip) => Some(SocketAddr::new(ip.into(), port)),
        Host::Ipv6(ip) => Some(SocketAddr::new(ip.into(), port)),
        Host::Name(_) => None,
    }
}

/// Whether a URI writes its port.
fn has_port(uri: &str) -> bool {
    parse_uri(uri.trim()).is_ok_and(|u| u.port.is_some())
}

/// Removes the first element of a list header (the first line's first comma-separated
/// value; the line goes when it had one).
fn remove_first_element(d: &mut Draft, name: &str) {
    let Some(at) = d.headers.iter().position(|(n, _)| same_header(n, name)) else {
        return;
    };
    let value = d.headers[at].1.clone();
    let (parts, _) = lex::split_commas(value.as_bytes());
    if parts.len() <= 1 {
        d.headers.remove(at);
        return;
    }
    let rest: Vec<&str> = parts[1..].iter().map(|r| value[r.clone()].trim()).collect();
    d.headers[at].1 = rest.join(", ");
}

/// The response with its top Via removed (RFC 3261 §16.7 step 3); `None` when no Via would
/// be left (the response was for the proxy itself, §16.7 step 4: not forwarded).
fn without_top_via(msg: &Message) -> Option<Message> {
    if msg.values(HeaderName::Via).len() < 2 {
        return None;
    }
    let mut d = Draft::from_message(msg);
    remove_first_element(&mut d, "Via");
    Some(parse_message(&d.to_bytes()))
}
