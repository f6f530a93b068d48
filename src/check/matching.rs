//! Transaction matching (RFC 3261 §8.2.6.2, §9.1, §13.2.2.4, §17.1.1.3, §17.1.3, §18.3): whether
//! ACK and CANCEL travel on the branch they must, whether responses copy what identifies their
//! request, whether one UAS keeps one To-tag per transaction, and the message-level violations
//! of the parser lifted into per-call findings (so `siptest lint` reports them with the index).

use super::{CheckGroup, Finding, Observation, ObservedTx, Tolerances};
use crate::rule::Rule;
use crate::sip::addr::{self, ContactValue};
use crate::sip::headers::Via;
use crate::sip::host::Host;
use crate::sip::message::Message;
use crate::sip::uri::{self, Uri};
use crate::sip::HeaderName;
use crate::trace::{Trace, Transport};
use std::collections::HashSet;
use std::net::SocketAddr;

crate::declare_rules! {
    ACK_NON_2XX_BRANCH = ("tx.ack.non-2xx-branch", Transaction, Error, "RFC 3261 §17.1.1.3",
        "the ACK for a non-2xx final response is not on the INVITE's branch (its Via must equal the INVITE's top Via)");
    ACK_2XX_SAME_BRANCH = ("tx.ack.2xx-same-branch", Transaction, Error, "RFC 3261 §13.2.2.4, §8.1.1.7",
        "the ACK for a 2xx reuses the INVITE's branch (it is a transaction of its own, with a new branch)");
    CANCEL_BRANCH = ("tx.cancel.branch", Transaction, Error, "RFC 3261 §9.1",
        "a CANCEL whose top Via (branch, sent-by) differs from the top Via of the request it cancels");
    CANCEL_NOT_COPIED = ("tx.cancel.not-copied", Transaction, Error, "RFC 3261 §9.1",
        "a CANCEL whose Request-URI, Call-ID, From, To or CSeq number differs from the request it cancels");
    CANCEL_BEFORE_PROVISIONAL = ("tx.cancel.before-provisional", Transaction, Error, "RFC 3261 §9.1",
        "a CANCEL sent before any provisional response to the request it cancels was received");
    RESPONSE_VIA = ("tx.response.via-not-copied", Transaction, Error, "RFC 3261 §8.2.6.2, §17.1.3",
        "a response whose Via values differ from its request's (other branch or sent-by, missing, added or reordered values)");
    RESPONSE_CSEQ = ("tx.response.cseq-not-copied", Transaction, Error, "RFC 3261 §8.2.6.2",
        "a response whose CSeq number or method differs from its request's");
    RESPONSE_FROM_CALL_ID = ("tx.response.from-callid-not-copied", Transaction, Error, "RFC 3261 §8.2.6.2",
        "a response whose From (URI or tag) or Call-ID differs from its request's");
    RESPONSE_TO = ("tx.response.to-not-copied", Transaction, Error, "RFC 3261 §8.2.6.2",
        "a response whose To URI differs from its request's, or whose To-tag differs from the request's To-tag");
    RESPONSE_NO_TO_TAG = ("tx.response.no-to-tag", Transaction, Error, "RFC 3261 §8.2.6.2, §12.1.1",
        "a response other than 100 without a To-tag");
    RESPONSE_TO_TAG_CHANGED = ("tx.response.to-tag-changed", Transaction, Error, "RFC 3261 §8.2.6.2",
        "one UAS answered one request with two different To-tags (e.g. 180 with tag A, 200 with tag B)");
    MESSAGE_MISSING_HEADER = ("tx.message.missing-header", Transaction, Error, "RFC 3261 §8.1.1, §8.2.6.2",
        "a message without one of To, From, CSeq, Call-ID, Via");
    UDP_CONTENT_LENGTH = ("tx.udp.content-length", Transaction, Error, "RFC 3261 §18.3, §20.14",
        "over UDP, a Content-Length larger than the body the datagram carries");
    UDP_TRAILING_OCTETS = ("tx.udp.trailing-octets", Transaction, Warning, "RFC 3261 §18.3, §20.14",
        "over UDP, octets after the body Content-Length delimits (the receiver discards them)");
    MESSAGE_HEADER_SYNTAX = ("tx.message.header-syntax", Transaction, Warning, "RFC 3261 §25.1, §7.3",
        "a header value that does not match its grammar (e.g. `Subscription-State: terminated;reason=reason=noresource`): a strict receiver answers 400");
    VIA_NO_COOKIE = ("tx.via.no-cookie", Transaction, Info, "RFC 3261 §8.1.1.7, §17.2.3",
        "a request's top Via branch lacks the z9hG4bK cookie: an RFC 2543 sender, matched the old way");
}

/// The group (a `const`, so that `CHECKS` can list it by value: a `static` cannot be moved).
pub const GROUP: CheckGroup = CheckGroup {
    name: "matching",
    rules: RULES,
    run,
};

fn run(trace: &Trace, obs: &Observation, tol: &Tolerances, out: &mut Vec<Finding>) {
    let repeat = repeats(trace);
    check_acks(trace, obs, &repeat, out);
    check_cancels(trace, obs, tol, out);
    check_copied(trace, obs, &repeat, out);
    check_unmatched(trace, obs, &repeat, out);
    check_no_to_tag(trace, obs, &repeat, out);
    check_to_tags(trace, obs, &repeat, out);
    lift_violations(trace, &repeat, out);
}

// ---- shared helpers (also used by `dialogs`) ----

pub(crate) fn msg(trace: &Trace, i: usize) -> &Message {
    &trace.messages[i].message
}

pub(crate) fn cseq_number(m: &Message) -> Option<u32> {
    m.cseq().map(|c| c.number)
}

fn is_2xx(status: u16) -> bool {
    (200..300).contains(&status)
}

fn is_2xx_at(trace: &Trace, i: usize) -> bool {
    msg(trace, i).status().is_some_and(is_2xx)
}

/// For each message, whether the same bytes already went from the same source to the same
/// destination: a retransmission, which repeats a finding rather than adding one.
pub(crate) fn repeats(trace: &Trace) -> Vec<bool> {
    let mut seen: HashSet<(SocketAddr, SocketAddr, &[u8])> = HashSet::new();
    trace
        .messages
        .iter()
        .map(|m| !seen.insert((m.src, m.dst, m.message.as_bytes())))
        .collect()
}

/// A URI reduced for comparison (RFC 3261 §19.1.4): scheme and host case-insensitive, user
/// %-decoded, port as written (an omitted port does not equal an explicit default), parameters
/// in any order with names and values case-insensitive.
pub(crate) fn uri_key(u: &Uri) -> String {
    if !u.is_sip() {
        return u.raw.to_ascii_lowercase();
    }
    let user = u.user_unescaped().unwrap_or_default();
    let mut params: Vec<String> = u
        .params
        .iter()
        .map(|(n, v)| {
            format!(
                "{}={:?}",
                n.to_ascii_lowercase(),
                v.as_ref().map(|v| v.to_ascii_lowercase())
            )
        })
        .collect();
    params.sort();
    format!(
        "{}:{}:{:?}@{}:{:?};{}",
        u.scheme,
        String::from_utf8_lossy(&user),
        u.password,
        host_key(u.host.as_ref()),
        u.port,
        params.join(";")
    )
}

fn host_key(h: Option<&Host>) -> String {
    match h {
        Some(Host::Name(n)) => n.to_ascii_lowercase(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// The first Contact URI of a message, reduced by [`uri_key`].
pub(crate) fn contact_key(m: &Message) -> Option<String> {
    match addr::parse_contact(&m.first_value(HeaderName::Contact)?).ok()? {
        ContactValue::Addresses(list) => list.first().map(|a| uri_key(&a.uri)),
        ContactValue::Star => None,
    }
}

/// A Via value reduced for comparison: protocol and transport case-insensitive, sent-by host
/// case-insensitive with the default port made explicit, parameters in any order (names
/// case-insensitive; the branch compared exactly, other values case-insensitively). `received`
/// and `rport` are left out: the server transport adds them to the top Via (§18.2.1, RFC 3581).
fn via_key(v: &Via) -> String {
    let transport = v.transport.to_ascii_uppercase();
    let default = if transport == "TLS" { 5061 } else { 5060 };
    let mut params: Vec<String> = v
        .params
        .iter()
        .map(|(n, val)| (n.to_ascii_lowercase(), val.clone().unwrap_or_default()))
        .filter(|(n, _)| n != "received" && n != "rport")
        .map(|(n, val)| match n.as_str() {
            "branch" => format!("{n}={val}"),
            _ => format!("{n}={}", val.to_ascii_lowercase()),
        })
        .collect();
    params.sort();
    format!(
        "{}/{}/{transport} {}:{};{}",
        v.protocol_name.to_ascii_uppercase(),
        v.protocol_version,
        host_key(Some(&v.sent_by_host)),
        v.sent_by_port.unwrap_or(default),
        params.join(";")
    )
}

fn via_text(v: &Via) -> String {
    let params: String = v
        .params
        .iter()
        .map(|(n, val)| match val {
            Some(val) => format!(";{n}={val}"),
            None => format!(";{n}"),
        })
        .collect();
    format!("{} {}{params}", v.transport, v.sent_by())
}

/// How the Via values of a response differ from its request's (§8.2.6.2: "MUST equal the Via
/// header field values in the request and MUST maintain the same ordering"), or `None`.
fn via_difference(request: &Message, response: &Message) -> Option<String> {
    // Copied as written (nearly always): the same values.
    if raw_values(request, HeaderName::Via).eq(raw_values(response, HeaderName::Via)) {
        return None;
    }
    let (a, b) = (request.vias(), response.vias());
    if a.len() != b.len() {
        return Some(format!(
            "the request has {} Via value(s), the response {}",
            a.len(),
            b.len()
        ));
    }
    let k = a
        .iter()
        .zip(&b)
        .position(|(x, y)| via_key(x) != via_key(y))?;
    Some(format!(
        "Via #{}: `{}` in the request, `{}` in the response",
        k + 1,
        via_text(&a[k]),
        via_text(&b[k])
    ))
}

// ---- ACK (§17.1.1.3, §13.2.2.4) ----

fn check_acks(trace: &Trace, obs: &Observation, repeat: &[bool], out: &mut Vec<Finding>) {
    for (t, tx) in obs.txs.iter().enumerate() {
        // RFC 2543 elements have no branch: their ACK for a 2xx shares the INVITE's key.
        if !tx.is_invite() || tx.key.branch().is_none() {
            continue;
        }
        let Some(fin) = tx.first_final(trace) else {
            continue;
        };
        if is_2xx_at(trace, fin) {
            for &ack in tx.acks.iter().filter(|&&a| a > fin && !repeat[a]) {
                out.push(
                    Finding::new(
                        &ACK_2XX_SAME_BRANCH,
                        trace,
                        ack,
                        format!(
                            "reuses the INVITE's branch {} to acknowledge the {} (#{fin}): the ACK for a 2xx needs a new branch",
                            tx.key.branch().unwrap_or_default(),
                            msg(trace, fin).summary()
                        ),
                    )
                    .with_related([tx.request(), fin]),
                );
            }
        } else if !tx.responses.iter().any(|&r| is_2xx_at(trace, r)) {
            acks_off_branch(trace, obs, t, fin, repeat, out);
        }
    }
}

/// ACKs for the non-2xx final `fin` of transaction `t` that the INVITE's client sent to its
/// server on another branch (§17.1.1.3: "The ACK MUST contain a single Via header field, and
/// this MUST be equal to the top Via header field of the original request").
fn acks_off_branch(
    trace: &Trace,
    obs: &Observation,
    t: usize,
    fin: usize,
    repeat: &[bool],
    out: &mut Vec<Finding>,
) {
    let tx = &obs.txs[t];
    let invite = msg(trace, tx.request());
    let (Some(call_id), Some(cseq)) = (invite.call_id(), cseq_number(invite)) else {
        return;
    };
    for (i, m) in trace.messages.iter().enumerate().skip(fin + 1) {
        let p = &m.message;
        if repeat[i]
            || m.src != tx.client
            || m.dst != tx.server
            || p.method().as_deref() != Some("ACK")
            || p.call_id().as_deref() != Some(call_id.as_str())
            || cseq_number(p) != Some(cseq)
            // joined an INVITE transaction: on a branch it may use
            || obs.tx(i).is_some_and(ObservedTx::is_invite)
        {
            continue;
        }
        let detail = format!(
            "acknowledges the {} (#{fin}) on branch {} but the INVITE (#{}) is on {}",
            msg(trace, fin).summary(),
            p.branch().unwrap_or_else(|| "(none)".into()),
            tx.request(),
            tx.key.branch().unwrap_or_default()
        );
        out.push(
            Finding::new(&ACK_NON_2XX_BRANCH, trace, i, detail).with_related([tx.request(), fin]),
        );
    }
}

// ---- CANCEL (§9.1) ----

fn check_cancels(trace: &Trace, obs: &Observation, tol: &Tolerances, out: &mut Vec<Finding>) {
    for ctx in obs.txs.iter().filter(|t| t.method == "CANCEL") {
        let i = ctx.request();
        let on_branch = obs.txs.iter().find(|t| {
            t.method != "CANCEL"
                && t.method != "ACK"
                && t.request() < i
                && t.key.with_method("CANCEL") == ctx.key
        });
        let target = match on_branch {
            Some(t) => {
                cancel_copies(trace, t, i, out);
                t
            }
            None => {
                let Some(t) = cancelled_by_ids(trace, obs, ctx) else {
                    continue;
                };
                let detail = format!(
                    "top Via branch {}, but the {} it cancels (#{}) is on {}",
                    msg(trace, i).branch().unwrap_or_else(|| "(none)".into()),
                    t.method,
                    t.request(),
                    msg(trace, t.request())
                        .branch()
                        .unwrap_or_else(|| "(none)".into())
                );
                out.push(
                    Finding::new(&CANCEL_BRANCH, trace, i, detail).with_related([t.request()]),
                );
                t
            }
        };
        cancel_timing(trace, target, i, tol, out);
    }
}

/// The request a CANCEL on the wrong branch means: same client and server, Call-ID, CSeq
/// number and From tag; the latest such before it.
fn cancelled_by_ids<'a>(
    trace: &Trace,
    obs: &'a Observation,
    ctx: &ObservedTx,
) -> Option<&'a ObservedTx> {
    let c = msg(trace, ctx.request());
    let ids = |m: &Message| (m.call_id(), cseq_number(m), m.from_tag());
    let want = ids(c);
    want.0.as_ref()?;
    obs.txs.iter().rev().find(|t| {
        t.method != "CANCEL"
            && t.method != "ACK"
            && t.client == ctx.client
            && t.server == ctx.server
            && t.request() < ctx.request()
            && ids(msg(trace, t.request())) == want
    })
}

/// §9.1: "The Request-URI, Call-ID, To, the numeric part of CSeq, and From header fields in the
/// CANCEL request MUST be identical to those in the request being cancelled, including tags."
fn cancel_copies(trace: &Trace, tx: &ObservedTx, i: usize, out: &mut Vec<Finding>) {
    let (q, c) = (msg(trace, tx.request()), msg(trace, i));
    let ruri = |m: &Message| {
        m.request_uri()
            .map(|u| uri::parse_uri(&u).map_or_else(|_| u.to_string(), |u| uri_key(&u)))
    };
    let party = |a: Option<addr::NameAddr>| a.map(|a| (uri_key(&a.uri), a.tag()));
    let mut differ = Vec::new();
    if ruri(q) != ruri(c) {
        differ.push("Request-URI");
    }
    if q.call_id() != c.call_id() {
        differ.push("Call-ID");
    }
    if party(q.from_addr()) != party(c.from_addr()) {
        differ.push("From");
    }
    if party(q.to_addr()) != party(c.to_addr()) {
        differ.push("To");
    }
    if cseq_number(q) != cseq_number(c) {
        differ.push("CSeq number");
    }
    if !differ.is_empty() {
        let detail = format!(
            "{} differ from the {} it cancels (#{})",
            differ.join(", "),
            tx.method,
            tx.request()
        );
        out.push(Finding::new(&CANCEL_NOT_COPIED, trace, i, detail).with_related([tx.request()]));
    }
}

/// §9.1: "If no provisional response has been received, the CANCEL request MUST NOT be sent".
/// A response seen up to `clock_jitter` after the CANCEL still counts (capture skew).
fn cancel_timing(
    trace: &Trace,
    tx: &ObservedTx,
    i: usize,
    tol: &Tolerances,
    out: &mut Vec<Finding>,
) {
    let sent = trace.messages[i].time;
    let answered = tx
        .responses
        .iter()
        .any(|&r| trace.messages[r].time <= sent + tol.clock_jitter);
    if answered {
        return;
    }
    let first = tx.responses.first().copied();
    let after = trace.messages[tx.request()].time;
    let detail = format!(
        "sent {} ms after the {} (#{}) before any provisional response to it{}",
        sent.saturating_sub(after).as_millis(),
        tx.method,
        tx.request(),
        first.map_or(String::new(), |r| format!(
            " (first response {} ms later)",
            trace.messages[r].time.saturating_sub(sent).as_millis()
        ))
    );
    let related: Vec<usize> = std::iter::once(tx.request()).chain(first).collect();
    out.push(Finding::new(&CANCEL_BEFORE_PROVISIONAL, trace, i, detail).with_related(related));
}

// ---- responses copy their request (§8.2.6.2) ----

fn check_copied(trace: &Trace, obs: &Observation, repeat: &[bool], out: &mut Vec<Finding>) {
    for tx in &obs.txs {
        let q = msg(trace, tx.request());
        for &r in tx.responses.iter().filter(|&&r| !repeat[r]) {
            let p = msg(trace, r);
            let checks: [(&'static Rule, Option<String>); 4] = [
                (&RESPONSE_VIA, via_difference(q, p)),
                (&RESPONSE_CSEQ, cseq_difference(q, p)),
                (&RESPONSE_FROM_CALL_ID, from_call_id_difference(q, p)),
                (&RESPONSE_TO, to_difference(q, p)),
            ];
            for (rule, d) in checks {
                if let Some(d) = d {
                    out.push(Finding::new(rule, trace, r, d).with_related([tx.request()]));
                }
            }
        }
    }
}

fn cseq_difference(q: &Message, p: &Message) -> Option<String> {
    let (a, b) = (q.cseq()?, p.cseq()?);
    (a != b).then(|| {
        format!(
            "CSeq `{} {}` in the request, `{} {}` in the response",
            a.number, a.method, b.number, b.method
        )
    })
}

fn from_call_id_difference(q: &Message, p: &Message) -> Option<String> {
    if q.first_value(HeaderName::From) == p.first_value(HeaderName::From) {
        // Copied as written (nearly always): the same address, if it parses.
        q.tag_of(HeaderName::From)?;
    } else {
        let (qf, pf) = (q.from_addr()?, p.from_addr()?);
        if uri_key(&qf.uri) != uri_key(&pf.uri) || qf.tag() != pf.tag() {
            return Some(format!(
                "From `{};tag={}` in the request, `{};tag={}` in the response",
                qf.uri,
                qf.tag().unwrap_or_default(),
                pf.uri,
                pf.tag().unwrap_or_default()
            ));
        }
    }
    let (qc, pc) = (q.call_id()?, p.call_id()?);
    (qc != pc).then(|| format!("Call-ID `{qc}` in the request, `{pc}` in the response"))
}

/// The To URI must be copied; a To-tag of the request must be kept. A missing tag is
/// `tx.response.no-to-tag`'s business, except on a 100 (which may omit only a new tag).
fn to_difference(q: &Message, p: &Message) -> Option<String> {
    let (want, got) = if same_to_uri_fast(q, p) {
        (q.to_tag()?, p.to_tag())
    } else {
        let (qt, pt) = (q.to_addr()?, p.to_addr()?);
        if uri_key(&qt.uri) != uri_key(&pt.uri) {
            return Some(format!(
                "To URI `{}` in the request, `{}` in the response",
                qt.uri, pt.uri
            ));
        }
        (qt.tag()?, pt.tag())
    };
    if got.as_deref() == Some(want.as_str()) || (got.is_none() && p.status() != Some(100)) {
        return None;
    }
    Some(format!(
        "the request's To-tag is {want}, the response's {}",
        got.unwrap_or_else(|| "missing".into())
    ))
}

/// Both To values are clean and carry the same URI as written (the typed comparison would
/// find them equal); `false` says nothing.
fn same_to_uri_fast(q: &Message, p: &Message) -> bool {
    let (a, b) = (
        q.from_to_fast(HeaderName::To),
        p.from_to_fast(HeaderName::To),
    );
    a.zip(b).is_some_and(|(a, b)| a.uri == b.uri)
}

/// Responses that match no transaction but answer, by Call-ID, CSeq and addresses, a request
/// sent to their sender: the UAS did not copy the top Via (§8.2.6.2, §17.1.3).
fn check_unmatched(trace: &Trace, obs: &Observation, repeat: &[bool], out: &mut Vec<Finding>) {
    for &r in obs.unmatched_responses.iter().filter(|&&r| !repeat[r]) {
        let m = &trace.messages[r];
        let p = &m.message;
        let (Some(call_id), Some(cseq)) = (p.call_id(), p.cseq()) else {
            continue;
        };
        let Some(tx) = obs.txs.iter().rev().find(|t| {
            let q = msg(trace, t.request());
            t.client == m.dst
                && t.server == m.src
                && t.request() < r
                && t.method == cseq.method
                && q.call_id().as_deref() == Some(call_id.as_str())
                && cseq_number(q) == Some(cseq.number)
        }) else {
            continue;
        };
        if let Some(d) = via_difference(msg(trace, tx.request()), p) {
            let detail = format!("answers #{} but matches no transaction: {d}", tx.request());
            out.push(Finding::new(&RESPONSE_VIA, trace, r, detail).with_related([tx.request()]));
        }
    }
}

// ---- To-tags (§8.2.6.2) ----

/// §8.2.6.2: "the UAS MUST add a tag to the To header field in the response (with the exception
/// of the 100 (Trying) response, in which a tag MAY be present)".
fn check_no_to_tag(trace: &Trace, obs: &Observation, repeat: &[bool], out: &mut Vec<Finding>) {
    for (i, m) in trace.messages.iter().enumerate() {
        let p = &m.message;
        let Some(status) = p.status() else { continue };
        if repeat[i] || status <= 100 || p.tag_of(HeaderName::To) != Some(None) {
            continue;
        }
        let related = obs.tx(i).map(|t| t.request());
        let detail = "no To-tag (only a 100 Trying may leave it out)";
        out.push(Finding::new(&RESPONSE_NO_TO_TAG, trace, i, detail).with_related(related));
    }
}

/// §8.2.6.2: "The same tag MUST be used for all responses to that request, both final and
/// provisional (again excepting the 100 (Trying))". Responses come from one UAS when no proxy
/// is seen on the path (the server forwarded nothing, no Record-Route); behind a proxy only
/// responses with the same Contact URI are known to come from one UAS (forks differ).
fn check_to_tags(trace: &Trace, obs: &Observation, repeat: &[bool], out: &mut Vec<Finding>) {
    for tx in &obs.txs {
        let proxied = forwarded(trace, tx)
            || tx
                .responses
                .iter()
                .any(|&r| msg(trace, r).header(HeaderName::RecordRoute).is_some());
        let mut first: Vec<(Option<String>, String, usize)> = Vec::new();
        let mut reported: HashSet<String> = HashSet::new();
        for &r in tx.responses.iter().filter(|&&r| !repeat[r]) {
            let p = msg(trace, r);
            let (Some(tag), Some(status)) = (p.to_tag(), p.status()) else {
                continue;
            };
            if status == 100 {
                continue;
            }
            let uas = match proxied {
                true => match contact_key(p) {
                    Some(c) => Some(c),
                    None => continue,
                },
                false => None,
            };
            match first.iter().find(|(u, ..)| *u == uas) {
                None => first.push((uas, tag, r)),
                Some((_, t0, r0)) if *t0 != tag && reported.insert(tag.clone()) => {
                    let detail = format!(
                        "To-tag {tag}, but the same UAS answered this request with To-tag {t0} in #{r0}"
                    );
                    let f = Finding::new(&RESPONSE_TO_TAG_CHANGED, trace, r, detail);
                    out.push(f.with_related([tx.request(), *r0]));
                }
                Some(_) => {}
            }
        }
    }
}

/// Whether the server of `tx` forwarded its request elsewhere (it is a proxy for it).
fn forwarded(trace: &Trace, tx: &ObservedTx) -> bool {
    let q = msg(trace, tx.request());
    let ids = (q.call_id(), cseq_number(q), q.method());
    trace.messages.iter().skip(tx.request() + 1).any(|m| {
        m.src == tx.server
            && m.dst != tx.client
            && (
                m.message.call_id(),
                cseq_number(&m.message),
                m.message.method(),
            ) == ids
    })
}

// ---- message-level violations, lifted ----

fn lift_violations(trace: &Trace, repeat: &[bool], out: &mut Vec<Finding>) {
    use crate::sip::{parse, validate};
    for (i, m) in trace
        .messages
        .iter()
        .enumerate()
        .filter(|(i, _)| !repeat[*i])
    {
        let p = &m.message;
        let udp = m.transport == Transport::Udp;
        // Only the top Via of a request: lower ones and responses repeat an upstream sender's.
        let mut top_no_cookie = p.is_request() && top_branch_lacks_cookie(p);
        for v in &p.violations {
            let rule: &'static Rule = match v.rule.id {
                id if id == validate::MISSING_HEADER.id => &MESSAGE_MISSING_HEADER,
                id if udp && id == parse::CONTENT_LENGTH_EXCEEDS.id => &UDP_CONTENT_LENGTH,
                id if udp && id == parse::CONTENT_LENGTH_MISMATCH.id => &UDP_CONTENT_LENGTH,
                id if udp && id == parse::DATAGRAM_TRAILING_OCTETS.id => &UDP_TRAILING_OCTETS,
                // RFC 3261 §25.1: each header value has its grammar (RFC 6665 §8.4 for
                // Subscription-State, ...).
                id if id == validate::VALUE_SYNTAX.id => &MESSAGE_HEADER_SYNTAX,
                id if top_no_cookie && id == validate::BRANCH_NO_COOKIE.id => {
                    top_no_cookie = false;
                    &VIA_NO_COOKIE
                }
                _ => continue,
            };
            out.push(Finding::new(rule, trace, i, v.detail.clone()));
        }
    }
}

/// The values of a header as written.
fn raw_values(m: &Message, name: HeaderName) -> impl Iterator<Item = &[u8]> + '_ {
    m.headers_named(name).map(|h| m.bytes(h.value))
}

/// The top Via has a branch without the magic cookie (a clean top Via has the cookie).
fn top_branch_lacks_cookie(p: &Message) -> bool {
    let h = p.header(HeaderName::Via);
    if h.is_some_and(|h| !h.folded && crate::sip::fastcheck::top_via(p.bytes(h.value)).is_some()) {
        return false;
    }
    p.top_via()
        .is_some_and(|v| v.branch().is_some() && !v.branch_has_cookie())
}

#[cfg(test)]
pub(crate) mod tests;
