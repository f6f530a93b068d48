//! Body validation: Content-Type against the body, SDP bodies, multipart bodies, and whether
//! an Accept list leaves any type siptest knows.

use super::header_name::HeaderName;
use super::headers;
use super::lex;
use super::message::Message;
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
    check_accept(msg, out);
    let ct_header = msg.header(HeaderName::ContentType);
    let Some(h) = ct_header else {
        if !msg.body().is_empty() {
            out.push(Violation::new(
                &BODY_WITHOUT_TYPE,
                msg.body,
                format!("{}-octet body without Content-Type", msg.body.len()),
            ));
        }
        return;
    };
    let ct_text = msg.value(h);
    let Ok(ct) = headers::parse_content_type(&ct_text) else {
        return; // reported by the header checks
    };
    check_typed_body(&ct_text, &ct, msg.body(), msg.body.start, h.value, out);
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
        let sdp = crate::sdp::parse(body);
        out.extend(sdp.violations.into_iter().map(|mut v| {
            v.span = v.span.shift(base);
            v
        }));
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
                || (m.subtype == "*"
                    && headers::KNOWN_BODY_TYPES
                        .iter()
                        .any(|k| k.starts_with(&format!("{}/", m.type_.to_ascii_lowercase()))))
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
