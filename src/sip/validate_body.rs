//! Body validation: Content-Type against the body, SDP bodies, multipart bodies, and whether
//! an Accept list leaves any type siptest knows.

use super::fastcheck;
use super::header_name::HeaderName;
use super::headers;
use super::lex;
use super::message::{Header, Message};
use super::multipart;
use crate::rule::{Span, Violation};

crate::declare_rules! {
    BODY_WITHOUT_TYPE = ("body.content-type.missing", Transaction, Error, "RFC 3261 §20.15",
        "a non-empty body without Content-Type");
    CONTENT_TYPE_UNKNOWN = ("body.content-type.unknown", Spec, Info, "RFC 3261 §8.2.3, RFC 4475 §3.3.6",
        "a body type siptest does not know (a UAS that cannot handle it answers 415)");
    MULTIPART_INVALID = ("body.multipart.invalid", Transaction, Error, "RFC 2046 §5.1",
        "a multipart body that cannot be split into parts");
    ACCEPT_NONE_KNOWN = ("hdr.accept.none-known", Spec, Info, "RFC 3261 §8.2.3, RFC 4475 §3.3.15",
        "Accept lists no body type siptest knows (a UAS that must send a body answers 406 or 415)");
}

/// Checks the body against the headers that describe it.
pub fn check_body(msg: &Message, out: &mut Vec<Violation>) {
    let mut fields = BodyFields::default();
    msg.headers.iter().for_each(|h| fields.note(h));
    check_body_fields(msg, &fields, true, out);
}

/// The header fields the body checks read, noted while the validator walks the fields.
#[derive(Default)]
pub(crate) struct BodyFields<'m> {
    /// The first Content-Type field.
    content_type: Option<&'m Header>,
    /// Whether there is an Accept field.
    accept: bool,
}

impl<'m> BodyFields<'m> {
    pub(crate) fn note(&mut self, h: &'m Header) {
        match h.name {
            HeaderName::ContentType if self.content_type.is_none() => self.content_type = Some(h),
            HeaderName::Accept => self.accept = true,
            _ => {}
        }
    }
}

/// [`check_body`] given the fields noted, with the zero-allocation fast paths of [`fastcheck`]
/// on or off (both report the same violations).
pub(crate) fn check_body_fields(
    msg: &Message,
    fields: &BodyFields<'_>,
    fast: bool,
    out: &mut Vec<Violation>,
) {
    if fields.accept && !(fast && accept_certainly_fine(msg)) {
        check_accept(msg, out);
    }
    let Some(h) = fields.content_type else {
        if !msg.body().is_empty() {
            out.push(Violation::new(
                &BODY_WITHOUT_TYPE,
                msg.body,
                format!("{}-octet body without Content-Type", msg.body.len()),
            ));
        }
        return;
    };
    if fast && !h.folded && msg.bytes(h.value).eq_ignore_ascii_case(b"application/sdp") {
        // The common case, without parsing the Content-Type: an SDP body (RFC 3261 §13.2.1).
        if !fastcheck::sdp_clean(msg.body()) {
            check_sdp(msg.body(), msg.body.start, out);
        }
        return;
    }
    let ct_text = msg.value(h);
    let Ok(ct) = headers::parse_content_type(&ct_text) else {
        return; // reported by the header checks
    };
    check_typed_body(&ct_text, &ct, msg.body(), msg.body.start, h.value, out);
}

/// The violations of an SDP body that starts at `base` in the message.
fn check_sdp(body: &[u8], base: usize, out: &mut Vec<Violation>) {
    let sdp = crate::sdp::parse(body);
    out.extend(sdp.violations.into_iter().map(|mut v| {
        v.span = v.span.shift(base);
        v
    }));
}

/// True when [`check_accept`] certainly reports nothing: every Accept field is a one-line list
/// of plain media ranges and one of them names a type siptest knows, or all are empty
/// (RFC 3261 §20.1).
fn accept_certainly_fine(msg: &Message) -> bool {
    let mut empty = true;
    for h in msg.headers_named(HeaderName::Accept) {
        let v = msg.bytes(h.value);
        if h.folded || !fastcheck::accept_ok(v) {
            return false;
        }
        if !v.is_empty() {
            if fastcheck::accept_elements(v).any(fastcheck::accept_range_known) {
                return true;
            }
            empty = false;
        }
    }
    empty
}

/// Checks one body (or body part) of a known media type. `base` is the body's offset in the
/// message, for spans.
fn check_typed_body(
    ct_text: &str,
    ct: &headers::MediaType,
    body: &[u8],
    base: usize,
    ct_span: Span,
    out: &mut Vec<Violation>,
) {
    let essence = ct.essence();
    if !headers::is_known_body_type(&essence) && !ct.is_multipart() {
        out.push(Violation::new(
            &CONTENT_TYPE_UNKNOWN,
            ct_span,
            format!("body of type `{essence}`"),
        ));
        return;
    }
    if essence == "application/sdp" {
        check_sdp(body, base, out);
    } else if ct.is_multipart() {
        check_multipart(ct_text, body, base, ct_span, out);
    }
}

fn check_multipart(
    ct_text: &str,
    body: &[u8],
    base: usize,
    ct_span: Span,
    out: &mut Vec<Violation>,
) {
    match multipart::split_multipart(ct_text, body) {
        Err(e) => out.push(Violation::new(
            &MULTIPART_INVALID,
            Span::new(base, base + body.len()),
            e.to_string(),
        )),
        Ok(parts) => {
            for p in parts {
                // RFC 2046 §5.1.1: a part without Content-Type is text/plain.
                let text = p
                    .content_type
                    .clone()
                    .unwrap_or_else(|| "text/plain".into());
                if let Ok(ct) = headers::parse_content_type(&text) {
                    let part_base = base + p.body.start;
                    check_typed_body(&text, &ct, &body[p.body.clone()], part_base, ct_span, out);
                }
            }
        }
    }
}

fn check_accept(msg: &Message, out: &mut Vec<Violation>) {
    let Some(h) = msg.header(HeaderName::Accept) else {
        return;
    };
    let value = msg.values(HeaderName::Accept);
    if value.is_empty() || value.iter().all(|v| lex::trim(v).is_empty()) {
        return; // an empty Accept means no body is acceptable: legal (RFC 3261 §20.1)
    }
    let known = value.iter().any(|v| {
        headers::parse_accept_range(v).is_ok_and(|m| {
            let e = m.essence();
            e == "*/*"
                || (m.subtype == "*" && {
                    // `type/*`: a known type of that top-level type (RFC 3261 §20.1)
                    let prefix = format!("{}/", m.type_.to_ascii_lowercase());
                    headers::KNOWN_BODY_TYPES
                        .iter()
                        .any(|k| k.starts_with(&prefix))
                })
                || headers::is_known_body_type(&e)
                || e.starts_with("multipart/")
        })
    });
    if !known {
        out.push(Violation::new(
            &ACCEPT_NONE_KNOWN,
            h.value,
            format!("Accept: {}", value.join(", ")),
        ));
    }
}
