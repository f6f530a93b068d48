//! Header-value validation: runs the typed views over a freshly parsed message and records what
//! they reject as violations. The parser ([`super::parse`]) finds the structure; this module
//! checks what the structure holds. Body checks live in [`super::validate_body`].
//!
//! Each value first goes through the zero-allocation checkers of [`super::fastcheck`]: a value
//! they prove clean cannot give a violation and is done with; any other value goes through the
//! typed views, which name its problems. The result is the same either way (see
//! `fastcheck/tests.rs`); only the cost differs.

use super::addr::{self, AddrError, AddrErrorKind};
use super::fastcheck;
use super::header_name::HeaderName;
use super::headers::{self, HeaderError, HeaderErrorKind};
use super::lex;
use super::message::{Header, Message, StartLine};
use super::uri::{self, Scheme, UriError, UriErrorKind};
use super::validate_body;
use crate::rule::{Rule, Span, Violation};
use std::ops::Range;

crate::declare_rules! {
    MISSING_HEADER = ("msg.header.missing", Transaction, Error, "RFC 3261 §8.1.1, §8.2.6.2",
        "a mandatory header field is missing (To, From, CSeq, Call-ID, Via)");
    MISSING_MAX_FORWARDS = ("msg.header.missing-max-forwards", Transaction, Warning, "RFC 3261 §8.1.1.6",
        "a request without Max-Forwards (legal only from RFC 2543 elements)");
    SINGLE_REPEATED = ("hdr.single-value.repeated", Transaction, Error, "RFC 3261 §7.3.1, RFC 4475 §3.3.8",
        "a header field that takes one value appears more than once");
    EMPTY_ELEMENT = ("hdr.list.empty-element", Transaction, Error, "RFC 3261 §7.3.1, RFC 4475 §3.1.2.1",
        "an empty element or stray separator in a header value");
    EMPTY_PARAM = ("hdr.param.empty", Transaction, Error, "RFC 3261 §25.1, RFC 4475 §3.1.2.1",
        "a `;` with no parameter after it");
    VALUE_SYNTAX = ("hdr.value.syntax", Transaction, Error, "RFC 3261 §25.1",
        "a header value does not match its grammar");
    VALUE_OUT_OF_RANGE = ("hdr.value.out-of-range", Transaction, Error, "RFC 3261 §25.1, RFC 4475 §3.1.2.4",
        "a number larger than its field allows");
    VERSION_IN_HEADER = ("hdr.via.version", Transaction, Error, "RFC 3261 §20.42, RFC 4475 §3.1.2.16",
        "a Via protocol version other than SIP/2.0");
    HOST_INVALID = ("hdr.host.invalid", Transaction, Error, "RFC 3261 §25.1, RFC 5118 §4.2, RFC 5954 §4.1",
        "a host or port that does not parse (IPv6 must be bracketed; no `:::`)");
    DATE_NOT_GMT = ("hdr.date.not-gmt", Transaction, Error, "RFC 3261 §20.17, RFC 4475 §3.1.2.12",
        "a Date whose zone is not GMT");
    BRANCH_NO_COOKIE = ("hdr.via.branch-no-cookie", Transaction, Info, "RFC 3261 §8.1.1.7, §17.1.3",
        "a branch without the z9hG4bK magic cookie (an RFC 2543 element: matching falls back to §17.2.3)");
    BRANCH_COOKIE_ONLY = ("hdr.via.branch-cookie-only", Transaction, Warning, "RFC 3261 §8.1.1.7, RFC 4475 §3.2.1",
        "the branch is only the magic cookie: no usable transaction id");
    BRANCH_MISSING = ("hdr.via.no-branch", Transaction, Warning, "RFC 3261 §8.1.1.7",
        "the top Via of a request has no branch parameter");
    VIA_BROADCAST = ("hdr.via.broadcast-sent-by", Transaction, Warning, "RFC 4475 §3.3.10",
        "a Via sent-by is a broadcast address");
    ADDR_UNTERMINATED_QUOTE = ("hdr.address.unterminated-quote", Transaction, Error, "RFC 3261 §25.1, RFC 4475 §3.1.2.6",
        "a quoted display name is not closed");
    ADDR_DISPLAY_NAME = ("hdr.address.display-name", Transaction, Error, "RFC 3261 §25.1, RFC 4475 §3.1.2.15",
        "an unquoted display name with characters that are not tokens (a comma, a quote)");
    ADDR_SPACE_IN_BRACKETS = ("hdr.address.space-in-brackets", Transaction, Error, "RFC 3261 §25.1, RFC 4475 §3.1.2.14",
        "white space between `<` `>` and the URI");
    ADDR_NEEDS_BRACKETS = ("hdr.address.needs-brackets", Transaction, Error, "RFC 3261 §20, RFC 4475 §3.1.2.13",
        "an addr-spec containing `,` `?` or `;` of its own that is not enclosed in <>");
    ADDR_INVALID = ("hdr.address.invalid", Transaction, Error, "RFC 3261 §25.1",
        "an address (name-addr or addr-spec) that does not parse");
    URI_INVALID = ("uri.invalid", Transaction, Error, "RFC 3261 §19.1, §25.1",
        "a URI that does not parse");
    REQUEST_URI_HEADERS = ("uri.request-uri.headers", Transaction, Error, "RFC 3261 §19.1.1, RFC 4475 §3.1.2.11",
        "URI headers (`?name=value`) in the Request-URI");
    URI_SCHEME_UNSUPPORTED = ("uri.scheme.unsupported", Spec, Info, "RFC 3261 §8.2.2.1, RFC 4475 §3.3.2",
        "a URI scheme other than sip, sips or tel (a UAS answers 416 for a Request-URI)");
    CSEQ_METHOD_MISMATCH = ("msg.cseq.method-mismatch", Transaction, Error, "RFC 3261 §8.1.1.5, RFC 4475 §3.1.2.17",
        "the CSeq method differs from the Request-Line method");
    MAX_FORWARDS_ZERO = ("hdr.max-forwards.zero", Transaction, Info, "RFC 3261 §16.3, RFC 4475 §3.3.11",
        "Max-Forwards is 0: a proxy answers 483, a UAS may still process OPTIONS");
    FROM_NO_TAG = ("hdr.from.no-tag", Transaction, Warning, "RFC 3261 §8.1.1.3, §8.2.6.2",
        "From has no tag (mandatory since RFC 3261)");
    OPTION_TAG_UNKNOWN = ("hdr.option-tag.unknown", Spec, Info, "RFC 3261 §8.2.2.3, RFC 4475 §3.3.5",
        "Require or Proxy-Require names an unregistered option tag (a UAS answers 420)");
    AUTH_SCHEME_UNKNOWN = ("hdr.auth.unknown-scheme", Spec, Info, "RFC 3261 §22.4, RFC 4475 §3.3.7",
        "credentials or a challenge in a scheme other than Digest");
    CONTACT_URI_HEADERS = ("hdr.contact.uri-headers", Spec, Info, "RFC 3261 §10.2.1.1, RFC 4475 §3.3.14",
        "a Contact URI carries escaped headers (a registrar may store or refuse them)");
}

/// Checks the header values of `msg` and appends violations.
pub fn validate(msg: &mut Message) {
    validate_with(msg, true);
}

/// What every header check needs to know about the message.
struct Ctx<'m> {
    /// The request method's bytes, `None` for responses and unknown start lines.
    method: Option<&'m [u8]>,
    /// Whether values may be accepted by [`fastcheck`] before the typed views run.
    fast: bool,
}

/// [`validate`], with the zero-allocation fast paths of [`fastcheck`] on or off. Both report
/// exactly the same violations (the fast paths only skip values they prove clean); `fast =
/// false` exists for the differential tests.
pub(crate) fn validate_with(msg: &mut Message, fast: bool) {
    let out = violations(msg, fast);
    if !out.is_empty() {
        msg.violations.extend(out);
    }
}

/// The violations of the header values and the body of `msg`, in this order: Request-URI,
/// missing headers, repeated single-instance headers, each value, the body.
pub(crate) fn violations(msg: &Message, fast: bool) -> Vec<Violation> {
    let cx = Ctx {
        method: match msg.start_line {
            StartLine::Request { method, .. } => Some(msg.bytes(method)),
            _ => None,
        },
        fast,
    };
    let mut out = Vec::new();
    if let StartLine::Request { uri, .. } = msg.start_line {
        check_request_uri(msg, uri, fast, &mut out);
    }
    // One pass over the fields: the names present, the repeats, the values.
    let (mut present, mut singles) = (NameSet::default(), NameSet::default());
    let (mut repeats, mut values) = (Vec::new(), Vec::new());
    let mut first_via = true;
    let mut body = validate_body::BodyFields::default();
    for h in &msg.headers {
        present.insert(h.name);
        check_repeat(h, &mut singles, &mut repeats);
        body.note(h);
        check_header(msg, h, &cx, &mut first_via, &mut values);
    }
    if !matches!(msg.start_line, StartLine::Unknown { .. }) {
        check_mandatory(msg, present, &mut out);
    }
    out.append(&mut repeats);
    out.append(&mut values);
    validate_body::check_body_fields(msg, &body, fast, &mut out);
    out
}

/// The span inside `h`'s value at `offset` (of the unfolded text), or the whole value when the
/// field is folded and unfolded offsets do not map onto the raw bytes.
fn value_span(h: &Header, offset: usize) -> Span {
    if h.folded {
        h.value
    } else {
        Span::new((h.value.start + offset).min(h.value.end), h.value.end)
    }
}

fn header_rule(kind: HeaderErrorKind) -> &'static Rule {
    match kind {
        HeaderErrorKind::Syntax => &VALUE_SYNTAX,
        HeaderErrorKind::OutOfRange => &VALUE_OUT_OF_RANGE,
        HeaderErrorKind::Empty => &EMPTY_ELEMENT,
        HeaderErrorKind::BadVersion => &VERSION_IN_HEADER,
        HeaderErrorKind::NotGmt => &DATE_NOT_GMT,
        HeaderErrorKind::BadHost => &HOST_INVALID,
        HeaderErrorKind::EmptyParam => &EMPTY_PARAM,
    }
}

fn uri_rule(kind: &UriErrorKind) -> &'static Rule {
    match kind {
        UriErrorKind::Host(_) | UriErrorKind::MissingHost => &HOST_INVALID,
        UriErrorKind::EmptyParam => &EMPTY_PARAM,
        _ => &URI_INVALID,
    }
}

fn addr_rule(kind: &AddrErrorKind) -> &'static Rule {
    match kind {
        AddrErrorKind::UnterminatedQuote => &ADDR_UNTERMINATED_QUOTE,
        AddrErrorKind::BadDisplayName(_) | AddrErrorKind::UnexpectedComma => &ADDR_DISPLAY_NAME,
        AddrErrorKind::SpaceInBrackets => &ADDR_SPACE_IN_BRACKETS,
        AddrErrorKind::AddrSpecNeedsBrackets(_) => &ADDR_NEEDS_BRACKETS,
        AddrErrorKind::EmptyParam => &EMPTY_PARAM,
        AddrErrorKind::EmptyElement | AddrErrorKind::Empty => &EMPTY_ELEMENT,
        AddrErrorKind::BadExpires | AddrErrorKind::BadQ => &VALUE_OUT_OF_RANGE,
        AddrErrorKind::Uri(k) => uri_rule(k),
        _ => &ADDR_INVALID,
    }
}

fn push_header_error(
    msg: &Message,
    h: &Header,
    base: usize,
    e: HeaderError,
    out: &mut Vec<Violation>,
) {
    let name = msg.text(h.name_span);
    out.push(Violation::new(
        header_rule(e.kind),
        value_span(h, base + e.offset),
        format!("{name}: {}", e.what),
    ));
}

fn push_addr_error(msg: &Message, h: &Header, e: AddrError, out: &mut Vec<Violation>) {
    let name = msg.text(h.name_span);
    out.push(Violation::new(
        addr_rule(&e.kind),
        value_span(h, e.offset),
        format!("{name}: {}", e.kind),
    ));
}

fn check_request_uri(msg: &Message, span: Span, fast: bool, out: &mut Vec<Violation>) {
    let raw = msg.bytes(span);
    if fast && fastcheck::sip_uri_ok(raw) {
        return; // a sip/sips URI without headers: nothing to report
    }
    if raw.first() == Some(&b'<') || raw.contains(&b' ') {
        return; // already reported by the parser; the URI cannot be read as one
    }
    let text = msg.text(span);
    match uri::parse_uri(&text) {
        Err(UriError { offset, kind }) => out.push(Violation::new(
            uri_rule(&kind),
            Span::new((span.start + offset).min(span.end), span.end),
            format!("Request-URI: {kind}"),
        )),
        Ok(u) => {
            if matches!(u.scheme, Scheme::Sip | Scheme::Sips) && !u.headers.is_empty() {
                let at = u.headers_offset.unwrap_or(0);
                out.push(Violation::new(
                    &REQUEST_URI_HEADERS,
                    Span::new((span.start + at).min(span.end), span.end),
                    format!(
                        "Request-URI carries headers: {}",
                        u.escaped_header_names().join(", ")
                    ),
                ));
            }
            check_scheme(&u, "Request-URI", span, out);
        }
    }
}

fn check_scheme(u: &uri::Uri, place: &str, span: Span, out: &mut Vec<Violation>) {
    if let Scheme::Other(s) = &u.scheme {
        out.push(Violation::new(
            &URI_SCHEME_UNSUPPORTED,
            span,
            format!("{place} uses the `{s}` scheme"),
        ));
    }
}

/// A set of header names, one bit each.
#[derive(Clone, Copy, Default)]
struct NameSet(u128);

// Every `HeaderName` (the known ones and `Other`) has a bit.
const _: () = assert!(HeaderName::ALL.len() < 128);

impl NameSet {
    fn contains(self, n: HeaderName) -> bool {
        self.0 & (1 << n as u8) != 0
    }
    fn insert(&mut self, n: HeaderName) {
        self.0 |= 1 << n as u8;
    }
}

fn check_mandatory(msg: &Message, present: NameSet, out: &mut Vec<Violation>) {
    // RFC 3261 §8.1.1 (requests) and §8.2.6.2 (responses copy these).
    let required = [
        HeaderName::To,
        HeaderName::From,
        HeaderName::CSeq,
        HeaderName::CallId,
        HeaderName::Via,
    ];
    let line = msg.start_line.line();
    if required.iter().any(|n| !present.contains(*n)) {
        let missing: Vec<&str> = required
            .iter()
            .filter(|n| !present.contains(**n))
            .map(|n| n.canonical())
            .collect();
        out.push(Violation::new(
            &MISSING_HEADER,
            line,
            format!("missing {}", missing.join(", ")),
        ));
    }
    if msg.is_request() && !present.contains(HeaderName::MaxForwards) {
        out.push(Violation::new(
            &MISSING_MAX_FORWARDS,
            line,
            "no Max-Forwards",
        ));
    }
}

/// A repeat of a header that takes one value (RFC 3261 §7.3.1); `seen` holds those met so far.
fn check_repeat(h: &Header, seen: &mut NameSet, out: &mut Vec<Violation>) {
    if !h.name.single_instance() || h.name == HeaderName::ContentLength {
        return; // Content-Length repeats are judged by value in the parser
    }
    if seen.contains(h.name) {
        out.push(Violation::new(
            &SINGLE_REPEATED,
            h.field,
            format!("{} appears more than once", h.name),
        ));
    } else {
        seen.insert(h.name);
    }
}

/// The headers whose values [`check_header_typed`] checks; the others are never looked at.
const fn checks_value(name: HeaderName) -> bool {
    use HeaderName as N;
    matches!(
        name,
        N::Via
            | N::From
            | N::To
            | N::Contact
            | N::Route
            | N::RecordRoute
            | N::Path
            | N::ReferTo
            | N::ReferredBy
            | N::CSeq
            | N::CallId
            | N::MaxForwards
            | N::Expires
            | N::MinExpires
            | N::RSeq
            | N::RAck
            | N::RetryAfter
            | N::Timestamp
            | N::Date
            | N::Warning
            | N::Reason
            | N::Event
            | N::SubscriptionState
            | N::ReferSub
            | N::Replaces
            | N::SessionExpires
            | N::MinSe
            | N::ContentType
            | N::ContentDisposition
            | N::Allow
            | N::Supported
            | N::Unsupported
            | N::Require
            | N::ProxyRequire
            | N::Accept
            | N::Authorization
            | N::ProxyAuthorization
            | N::WwwAuthenticate
            | N::ProxyAuthenticate
    )
}

/// Checks one header: the fast path first (a one-line value it proves clean needs nothing
/// more), then the typed views, which name every problem.
fn check_header(
    msg: &Message,
    h: &Header,
    cx: &Ctx<'_>,
    first_via: &mut bool,
    out: &mut Vec<Violation>,
) {
    if cx.fast {
        if !checks_value(h.name) {
            return;
        }
        if !h.folded && fastcheck::header_clean(h.name, msg.bytes(h.value), cx.method) {
            if h.name == HeaderName::Via {
                *first_via = false;
            }
            return;
        }
    }
    // The method as text, as `Message::method` gives it.
    let method = cx.method.map(String::from_utf8_lossy);
    check_header_typed(msg, h, method.as_deref(), first_via, out);
}

fn check_header_typed(
    msg: &Message,
    h: &Header,
    method: Option<&str>,
    first_via: &mut bool,
    out: &mut Vec<Violation>,
) {
    let value = msg.value(h);
    let v: &str = &value;
    use HeaderName as N;
    let single = |r: Result<(), HeaderError>, out: &mut Vec<Violation>| {
        if let Err(e) = r {
            push_header_error(msg, h, 0, e, out);
        }
    };
    match h.name {
        N::Via => check_via(msg, h, v, method.is_some(), first_via, out),
        N::From | N::To => check_from_to(msg, h, v, method, out),
        N::Contact => check_contact(msg, h, v, out),
        N::Route | N::RecordRoute | N::Path => {
            if let Err(e) = addr::parse_address_list(v) {
                push_addr_error(msg, h, e, out);
            }
        }
        N::ReferTo => {
            if let Err(e) = addr::parse_refer_to(v) {
                push_addr_error(msg, h, e, out);
            }
        }
        N::ReferredBy => {
            if let Err(e) = addr::parse_referred_by(v) {
                push_addr_error(msg, h, e, out);
            }
        }
        N::CSeq => check_cseq(msg, h, v, method, out),
        N::CallId => single(headers::parse_call_id(v).map(drop), out),
        N::MaxForwards => match headers::parse_max_forwards(v) {
            Ok(0) if method.is_some() => out.push(Violation::new(
                &MAX_FORWARDS_ZERO,
                h.value,
                "Max-Forwards: 0",
            )),
            Ok(_) => {}
            Err(e) => push_header_error(msg, h, 0, e, out),
        },
        N::Expires => single(headers::parse_expires(v).map(drop), out),
        N::MinExpires => single(headers::parse_min_expires(v).map(drop), out),
        N::RSeq => single(headers::parse_rseq(v).map(drop), out),
        N::RAck => single(headers::parse_rack(v).map(drop), out),
        N::RetryAfter => single(headers::parse_retry_after(v).map(drop), out),
        N::Timestamp => single(headers::parse_timestamp(v).map(drop), out),
        N::Date => single(headers::parse_date(v).map(drop), out),
        N::Warning => each_element(msg, h, v, out, |e| headers::parse_warning(e).map(drop)),
        N::Reason => each_element(msg, h, v, out, |e| headers::parse_reason(e).map(drop)),
        N::Event => single(headers::parse_event(v).map(drop), out),
        N::SubscriptionState => single(headers::parse_subscription_state(v).map(drop), out),
        N::ReferSub => single(headers::parse_refer_sub(v).map(drop), out),
        N::Replaces => single(headers::parse_replaces(v).map(drop), out),
        N::SessionExpires => single(headers::parse_session_expires(v).map(drop), out),
        N::MinSe => single(headers::parse_min_se(v).map(drop), out),
        N::ContentType => single(headers::parse_content_type(v).map(drop), out),
        N::ContentDisposition => single(headers::parse_content_disposition(v).map(drop), out),
        N::Allow => each_element(msg, h, v, out, |e| headers::parse_method(e).map(drop)),
        N::Supported | N::Unsupported => {
            each_element(msg, h, v, out, |e| headers::parse_option_tag(e).map(drop))
        }
        N::Require | N::ProxyRequire => check_require(msg, h, v, out),
        N::Accept => each_element(msg, h, v, out, |e| headers::parse_accept_range(e).map(drop)),
        N::Authorization | N::ProxyAuthorization => check_credentials(msg, h, v, out),
        N::WwwAuthenticate | N::ProxyAuthenticate => check_challenge(msg, h, v, out),
        _ => {}
    }
}

/// Runs `parse` on every comma-separated element of a list header; empty elements are
/// reported once each (a value that is empty as a whole is legal for some lists, e.g. Allow).
fn each_element(
    msg: &Message,
    h: &Header,
    v: &str,
    out: &mut Vec<Violation>,
    parse: impl Fn(&str) -> Result<(), HeaderError>,
) {
    if lex::trim(v).is_empty() {
        return;
    }
    let (parts, _) = lex::split_commas(v.as_bytes());
    each_part(msg, h, v, &parts, out, parse);
}

/// [`each_element`] over elements already split.
fn each_part(
    msg: &Message,
    h: &Header,
    v: &str,
    parts: &[Range<usize>],
    out: &mut Vec<Violation>,
    parse: impl Fn(&str) -> Result<(), HeaderError>,
) {
    for r in parts.iter().cloned() {
        if r.is_empty() {
            out.push(Violation::new(
                &EMPTY_ELEMENT,
                value_span(h, r.start),
                format!("{}: empty element in the list", msg.text(h.name_span)),
            ));
            continue;
        }
        if let Err(e) = parse(&v[r.clone()]) {
            push_header_error(msg, h, r.start, e, out);
        }
    }
}

fn check_via(
    msg: &Message,
    h: &Header,
    v: &str,
    is_request: bool,
    first_via: &mut bool,
    out: &mut Vec<Violation>,
) {
    for (i, r) in headers::parse_via_list(v).into_iter().enumerate() {
        let top = *first_via && i == 0;
        match r {
            Err(e) => push_header_error(msg, h, 0, e, out),
            Ok(via) => check_via_value(&via, h, is_request && top, out),
        }
    }
    *first_via = false;
}

fn check_via_value(via: &headers::Via, h: &Header, top_of_request: bool, out: &mut Vec<Violation>) {
    match via.branch() {
        None if top_of_request => out.push(Violation::new(
            &BRANCH_MISSING,
            h.value,
            "top Via has no branch",
        )),
        None => {}
        Some(_) if via.branch_is_cookie_only() => out.push(Violation::new(
            &BRANCH_COOKIE_ONLY,
            h.value,
            "branch=z9hG4bK carries no transaction id",
        )),
        Some(b) if !via.branch_has_cookie() => out.push(Violation::new(
            &BRANCH_NO_COOKIE,
            h.value,
            format!("branch `{b}` has no z9hG4bK cookie"),
        )),
        Some(_) => {}
    }
    if let super::host::Host::Ipv4(a) = &via.sent_by_host {
        if a.is_broadcast() {
            out.push(Violation::new(
                &VIA_BROADCAST,
                h.value,
                format!("sent-by {a} is the broadcast address"),
            ));
        }
    }
}

fn check_from_to(
    msg: &Message,
    h: &Header,
    v: &str,
    method: Option<&str>,
    out: &mut Vec<Violation>,
) {
    match addr::parse_from_to(v) {
        Err(e) => push_addr_error(msg, h, e, out),
        Ok(a) => {
            check_scheme(&a.uri, h.name.canonical(), h.value, out);
            // RFC 3261 §8.1.1.3: the UAC MUST add a From tag (RFC 2543 peers did not).
            if h.name == HeaderName::From && method.is_some() && a.tag().is_none() {
                out.push(Violation::new(&FROM_NO_TAG, h.value, "From has no tag"));
            }
        }
    }
}

fn check_contact(msg: &Message, h: &Header, v: &str, out: &mut Vec<Violation>) {
    match addr::parse_contact(v) {
        Err(e) => push_addr_error(msg, h, e, out),
        Ok(addr::ContactValue::Star) => {}
        Ok(addr::ContactValue::Addresses(list)) => {
            for a in list {
                check_scheme(&a.uri, "Contact", h.value, out);
                if !a.uri.headers.is_empty() {
                    out.push(Violation::new(
                        &CONTACT_URI_HEADERS,
                        h.value,
                        format!(
                            "Contact URI carries headers: {}",
                            a.uri.escaped_header_names().join(", ")
                        ),
                    ));
                }
            }
        }
    }
}

fn check_cseq(msg: &Message, h: &Header, v: &str, method: Option<&str>, out: &mut Vec<Violation>) {
    match headers::parse_cseq(v) {
        Err(e) => push_header_error(msg, h, 0, e, out),
        Ok(c) => {
            // RFC 3261 §8.1.1.5: the method MUST match that of the request (case-sensitive).
            if let Some(m) = method {
                if c.method != m {
                    out.push(Violation::new(
                        &CSEQ_METHOD_MISMATCH,
                        h.value,
                        format!("CSeq method `{}` but the Request-Line says `{m}`", c.method),
                    ));
                }
            }
        }
    }
}

fn check_require(msg: &Message, h: &Header, v: &str, out: &mut Vec<Violation>) {
    if lex::trim(v).is_empty() {
        return; // no element, no tag
    }
    // One split for both passes; the syntax errors come first, then the unknown tags.
    let (parts, _) = lex::split_commas(v.as_bytes());
    each_part(msg, h, v, &parts, out, |e| {
        headers::parse_option_tag(e).map(drop)
    });
    for r in parts.into_iter().filter(|r| !r.is_empty()) {
        let tag = &v[r.clone()];
        if lex::is_token(tag.as_bytes()) && !headers::is_known_option_tag(tag) {
            out.push(Violation::new(
                &OPTION_TAG_UNKNOWN,
                value_span(h, r.start),
                format!(
                    "{} names the unknown option tag `{tag}`",
                    msg.text(h.name_span)
                ),
            ));
        }
    }
}

fn check_credentials(msg: &Message, h: &Header, v: &str, out: &mut Vec<Violation>) {
    match headers::parse_credentials(v) {
        Err(e) => push_header_error(msg, h, 0, e, out),
        Ok(c) if !c.scheme.eq_ignore_ascii_case("Digest") => out.push(Violation::new(
            &AUTH_SCHEME_UNKNOWN,
            h.value,
            format!("credentials in the `{}` scheme", c.scheme),
        )),
        Ok(_) => {}
    }
}

fn check_challenge(msg: &Message, h: &Header, v: &str, out: &mut Vec<Violation>) {
    match headers::parse_challenge(v) {
        Err(e) => push_header_error(msg, h, 0, e, out),
        Ok(c) if !c.scheme.eq_ignore_ascii_case("Digest") => out.push(Violation::new(
            &AUTH_SCHEME_UNKNOWN,
            h.value,
            format!("a challenge in the `{}` scheme", c.scheme),
        )),
        Ok(_) => {}
    }
}

/// Test hooks for the differential tests of [`fastcheck`]: the typed path alone.
#[cfg(test)]
pub(crate) mod typed {
    use super::*;

    /// A message holding `value` as its only bytes, with one header field of `name` over it.
    fn one_header(name: HeaderName, value: &[u8]) -> Message {
        let all = Span::new(0, value.len());
        Message {
            raw: value.to_vec(),
            start_line: StartLine::Unknown {
                line: Span::new(0, 0),
            },
            headers: vec![Header {
                name,
                name_span: Span::new(0, 0),
                value: all,
                field: all,
                compact: false,
                folded: false,
            }],
            head_end: value.len(),
            body: Span::new(value.len(), value.len()),
            violations: Vec::new(),
        }
    }

    /// What the typed check of one header value reports, for a request with `method` (or a
    /// response), the field being the first Via of the message or not.
    pub(crate) fn header(
        name: HeaderName,
        value: &[u8],
        method: Option<&str>,
        first_via: bool,
    ) -> Vec<Violation> {
        let msg = one_header(name, value);
        let (mut first, mut out) = (first_via, Vec::new());
        check_header_typed(&msg, &msg.headers[0], method, &mut first, &mut out);
        out
    }

    /// What the typed check of a Request-URI reports.
    pub(crate) fn request_uri(uri: &[u8]) -> Vec<Violation> {
        let msg = one_header(HeaderName::Other, uri);
        let mut out = Vec::new();
        check_request_uri(&msg, Span::new(0, uri.len()), false, &mut out);
        out
    }

    /// Whether the typed path looks at the value of header `name` at all.
    pub(crate) fn checks_value(name: HeaderName) -> bool {
        super::checks_value(name)
    }
}
