//! Building the parts of a step: templates and their variables, headers, SDP, bodies and
//! captures.

use super::build::{check_variable_name, ADDRESS_FIELDS, BUILTIN_VARIABLES};
use super::doc::{
    BodyDoc, HeaderAssertionDoc, HeaderValue, HeaderValueDoc, OrderedMap, SdpDoc, WordOr,
};
use super::load::LoadErrorKind as K;
use super::located::Located;
use super::model::{
    BodyAssertion, BodyCheck, BodySpec, Capture, CapturePath, HeaderAssertion, HeaderCheck,
    HeaderEdit, SdpAssertion, SdpCheck, SdpParams, SdpSpec,
};
use super::steps::StepBuilder;
use super::suggest::did_you_mean;
use super::template::Template;
use crate::sdp::HoldStyle;
use crate::sip::header_name::HeaderName;
use crate::sip::lex::is_token_char;

type Headers = Option<Located<OrderedMap<Located<String>, HeaderValue>>>;
type Captures = Option<Located<OrderedMap<Located<String>, Located<CapturePath>>>>;

/// The words `sdp:` takes in a send step.
pub const SEND_SDP_WORDS: &[&str] = &[
    "offer",
    "answer",
    "hold-sendonly",
    "hold-inactive",
    "hold-zero-connection",
    "unhold",
    "none",
];

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

/// `type/subtype`, optionally followed by `;parameters`.
fn is_media_type(s: &str) -> bool {
    let main = s.split(';').next().unwrap_or("").trim();
    matches!(main.split_once('/'), Some((t, st)) if is_token(t) && is_token(st))
}

impl StepBuilder<'_> {
    /// Reports every `[variable]` of `t` that is not defined at this point.
    pub(crate) fn check_template(&mut self, t: &Located<Template>, raw: bool) {
        let vars: Vec<String> = t.variables().map(String::from).collect();
        for v in vars {
            if let Some(msg) = self.variable_problem(&v, raw) {
                self.error_in_value(t, &format!("[{v}]"), K::Undefined, msg);
            }
        }
    }

    fn variable_problem(&self, v: &str, raw: bool) -> Option<String> {
        let parts: Vec<&str> = v.split('.').collect();
        let fields = ADDRESS_FIELDS.join(", ");
        match parts.as_slice() {
            ["len"] if !raw => {
                Some("`[len]` (the length of the body) is only available in `raw`".into())
            }
            [b] if BUILTIN_VARIABLES.contains(b) || self.vars.contains(*b) => None,
            [b] => {
                let known = self
                    .vars
                    .iter()
                    .map(String::as_str)
                    .chain(BUILTIN_VARIABLES.iter().copied());
                let hint = did_you_mean(b, known);
                Some(format!(
                    "undefined variable `[{b}]`: a variable comes from `variables`, from \
                     `capture` in an earlier step, or is built in (call_id, branch, cseq, run_id, \
                     transport, target.host, agent.NAME.uri, ...){hint}"
                ))
            }
            ["target" | "local", f] if ADDRESS_FIELDS.contains(f) => None,
            ["agent", name, f] if ADDRESS_FIELDS.contains(f) => {
                if self.agents.iter().any(|a| a.name.value == *name) {
                    return None;
                }
                let names = self.agents.iter().map(|a| a.name.as_str());
                let hint = did_you_mean(name, names);
                Some(format!("undefined agent `{name}` in `[{v}]`{hint}"))
            }
            ["target" | "local", f] | ["agent", _, f] => Some(format!(
                "unknown field `{f}` in `[{v}]`; expected one of {fields}"
            )),
            _ => Some(format!(
                "unknown variable `[{v}]`: the dotted variables are [target.X], [local.X] and \
                 [agent.NAME.X], with X one of {fields}"
            )),
        }
    }

    /// A header name: a token, given once (compact and full forms are the same header).
    fn header_name_ok(
        &mut self,
        name: &Located<String>,
        seen: &mut Vec<(String, Located<String>)>,
    ) -> bool {
        if !is_token(name) {
            let msg = format!(
                "expected a header name (a token, RFC 3261 §25.1), found `{}`",
                name.value
            );
            self.errs.at(name, K::InvalidValue, msg);
            return false;
        }
        let key = match HeaderName::lookup(name.as_bytes()) {
            (HeaderName::Other, _) => name.to_ascii_lowercase(),
            (h, _) => h.canonical().to_ascii_lowercase(),
        };
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            let msg = format!(
                "header `{}` is given twice (as `{}` on line {}); give several values as a list",
                name.value, first.value, first.line
            );
            self.errs.at(name, K::Duplicate, msg);
            return false;
        }
        seen.push((key, name.clone()));
        true
    }

    /// The spelling of a number-like header value as written in the file.
    fn as_written(&self, bytes: Option<(usize, usize)>, fallback: String) -> String {
        let written = bytes.and_then(|(o, l)| self.source.get(o..o.checked_add(l)?));
        match written.map(str::trim) {
            Some(s) if !s.is_empty() && !s.contains('\n') && !s.starts_with(['*', '&', '!']) => {
                s.to_string()
            }
            _ => fallback,
        }
    }

    pub(crate) fn send_headers(&mut self, h: Headers) -> Vec<HeaderEdit> {
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for (name, HeaderValue { value, bytes }) in h.map(|h| h.value.0).unwrap_or_default() {
            if !self.header_name_ok(&name, &mut seen) {
                continue;
            }
            let at = value.with(());
            let values = match value.value {
                HeaderValueDoc::Null => None,
                HeaderValueDoc::Text(s) => Some(vec![at.with(Template::parse(&s))]),
                HeaderValueDoc::Number(n) => {
                    Some(vec![at.with(Template::parse(&self.as_written(bytes, n)))])
                }
                HeaderValueDoc::List(l) if l.is_empty() => {
                    let msg = "expected at least one value in the list \
                               (to remove the header, write null)";
                    self.errs.at(&at, K::InvalidValue, msg);
                    continue;
                }
                HeaderValueDoc::List(l) => Some(l),
                HeaderValueDoc::Object(_) => {
                    let msg = "expected a text, a list of texts, or null (to remove the header): \
                               `equals`, `contains` and `matches` are for expect steps";
                    self.errs.at(&at, K::WrongType, msg);
                    continue;
                }
            };
            for t in values.iter().flatten() {
                self.check_template(t, false);
            }
            out.push(HeaderEdit { name, values });
        }
        out
    }

    pub(crate) fn expect_headers(&mut self, h: Headers) -> Vec<HeaderCheck> {
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for (name, HeaderValue { value, bytes }) in h.map(|h| h.value.0).unwrap_or_default() {
            if !self.header_name_ok(&name, &mut seen) {
                continue;
            }
            let at = value.with(());
            let assertion = match value.value {
                HeaderValueDoc::Text(s) if s == "present" => HeaderAssertion::Present,
                HeaderValueDoc::Text(s) if s == "absent" => HeaderAssertion::Absent,
                HeaderValueDoc::Text(s) => HeaderAssertion::Equals(at.with(Template::parse(&s))),
                HeaderValueDoc::Number(n) => {
                    HeaderAssertion::Equals(at.with(Template::parse(&self.as_written(bytes, n))))
                }
                HeaderValueDoc::Null | HeaderValueDoc::List(_) => {
                    let msg = "expected present, absent, a text, or \
                               { equals | contains | matches: ... }, found a null or a list \
                               (to require that the header is missing, write `absent`)";
                    self.errs.at(&at, K::WrongType, msg);
                    continue;
                }
                HeaderValueDoc::Object(o) => match self.header_assertion(o, &at) {
                    Some(a) => a,
                    None => continue,
                },
            };
            out.push(HeaderCheck { name, assertion });
        }
        out
    }

    /// `{ equals | contains | matches: ... }`: exactly one of them.
    fn header_assertion(
        &mut self,
        o: HeaderAssertionDoc,
        at: &Located<()>,
    ) -> Option<HeaderAssertion> {
        let given = [
            o.equals.is_some(),
            o.contains.is_some(),
            o.matches.is_some(),
        ];
        match given.iter().filter(|g| **g).count() {
            1 => {}
            0 => {
                let msg = "expected one of equals, contains or matches";
                self.errs.at(at, K::MissingKey, msg);
                return None;
            }
            _ => {
                let msg = "expected one of equals, contains or matches, found several: \
                           give one per header";
                self.errs.at(at, K::Conflict, msg);
                return None;
            }
        }
        if let Some(t) = &o.equals {
            self.check_template(t, false);
        }
        if let Some(t) = &o.contains {
            self.check_template(t, false);
        }
        Some(match (o.equals, o.contains, o.matches) {
            (Some(t), _, _) => HeaderAssertion::Equals(t),
            (_, Some(t), _) => HeaderAssertion::Contains(t),
            (_, _, m) => HeaderAssertion::Matches(m.expect("counted")),
        })
    }

    pub(crate) fn send_body(
        &mut self,
        sdp: Option<Located<WordOr<SdpDoc>>>,
        body: Option<Located<WordOr<BodyDoc>>>,
    ) -> BodySpec {
        match (sdp, body) {
            (Some(_), Some(b)) => {
                self.errs
                    .at(&b, K::Conflict, "give either `sdp` or `body`, not both");
                BodySpec::Auto
            }
            (Some(s), None) => self.send_sdp(s),
            (None, Some(b)) => self.send_text_body(b),
            (None, None) => BodySpec::Auto,
        }
    }

    fn send_sdp(&mut self, s: Located<WordOr<SdpDoc>>) -> BodySpec {
        let at = s.with(());
        let o = match s.value {
            WordOr::Word(w) => {
                return match w.as_str() {
                    "offer" => BodySpec::Sdp(SdpSpec::Offer),
                    "answer" => BodySpec::Sdp(SdpSpec::Answer),
                    "hold-sendonly" => BodySpec::Sdp(SdpSpec::Hold(HoldStyle::SendOnly)),
                    "hold-inactive" => BodySpec::Sdp(SdpSpec::Hold(HoldStyle::Inactive)),
                    "hold-zero-connection" => {
                        BodySpec::Sdp(SdpSpec::Hold(HoldStyle::ZeroConnection))
                    }
                    "unhold" => BodySpec::Sdp(SdpSpec::Unhold),
                    "none" => BodySpec::Empty,
                    _ => {
                        let hint = did_you_mean(&w, SEND_SDP_WORDS.iter().copied());
                        let msg = format!(
                            "expected one of {}, or a mapping {{ direction, codecs, connection, \
                             port_zero }}, found `{w}`{hint}",
                            SEND_SDP_WORDS.join(", ")
                        );
                        self.errs.at(&at, K::InvalidValue, msg);
                        BodySpec::Auto
                    }
                };
            }
            WordOr::Object(o) => o,
        };
        if let Some(m) = &o.media {
            let msg = "`media` is an assertion for expect steps; expected one of: direction, \
                       codecs, connection, port_zero";
            self.errs.at(m, K::UnknownKey, msg);
        }
        let codecs = self.codecs(o.codecs);
        BodySpec::Sdp(SdpSpec::Custom(SdpParams {
            direction: o.direction.map(|d| d.0),
            codecs,
            connection: o.connection.map(|c| c.0),
            port_zero: o.port_zero.unwrap_or(false),
        }))
    }

    fn codecs(&mut self, codecs: Option<Vec<Located<String>>>) -> Vec<String> {
        let mut out = Vec::new();
        for c in codecs.unwrap_or_default() {
            if is_token(&c) {
                out.push(c.value);
            } else {
                let msg = format!(
                    "expected an encoding name (a token such as PCMU, opus, telephone-event), \
                     found `{}`",
                    c.value
                );
                self.errs.at(&c, K::InvalidValue, msg);
            }
        }
        out
    }

    fn content_type_ok(&mut self, ct: &Located<String>) -> bool {
        if is_media_type(ct) {
            return true;
        }
        let msg = format!(
            "expected a media type like text/plain or application/sdp, found `{}`",
            ct.value
        );
        self.errs.at(ct, K::InvalidValue, msg);
        false
    }

    fn send_text_body(&mut self, b: Located<WordOr<BodyDoc>>) -> BodySpec {
        let at = b.with(());
        let o = match b.value {
            WordOr::Word(w) => {
                let msg = format!(
                    "expected a body mapping {{ content_type: text/plain, text: ... }}, \
                     found `{w}` (an SDP body is given with `sdp`)"
                );
                self.errs.at(&at, K::WrongType, msg);
                return BodySpec::Auto;
            }
            WordOr::Object(o) => o,
        };
        for (key, pos) in [
            ("equals", o.equals.as_ref().map(|l| l.with(()))),
            ("contains", o.contains.as_ref().map(|l| l.with(()))),
            ("matches", o.matches.as_ref().map(|l| l.with(()))),
        ] {
            if let Some(p) = pos {
                let msg = format!(
                    "`{key}` is an assertion for expect steps; a body to send has \
                     content_type and text"
                );
                self.errs.at(&p, K::UnknownKey, msg);
            }
        }
        let (Some(ct), Some(text)) = (o.content_type, o.text) else {
            let msg = "a body to send needs both `content_type` and `text`";
            self.errs.at(&at, K::MissingKey, msg);
            return BodySpec::Auto;
        };
        self.content_type_ok(&ct);
        self.check_template(&text, false);
        BodySpec::Text {
            content_type: ct.value,
            text,
        }
    }

    pub(crate) fn expect_sdp(&mut self, s: Located<WordOr<SdpDoc>>) -> Option<SdpCheck> {
        let at = s.with(());
        let o = match s.value {
            WordOr::Word(w) if w == "present" => {
                return Some(SdpCheck::Present(SdpAssertion::default()))
            }
            WordOr::Word(w) if w == "absent" => return Some(SdpCheck::Absent),
            WordOr::Word(w) => {
                let msg = format!(
                    "expected present, absent, or a mapping {{ direction, connection, codecs, \
                     port_zero, media }}, found `{w}`"
                );
                self.errs.at(&at, K::InvalidValue, msg);
                return None;
            }
            WordOr::Object(o) => o,
        };
        let codecs = self.codecs(o.codecs);
        Some(SdpCheck::Present(SdpAssertion {
            direction: o.direction.map(|d| d.0),
            connection: o.connection.map(|c| c.0),
            codecs,
            port_zero: o.port_zero,
            media: o.media.map(Located::into_inner),
        }))
    }

    pub(crate) fn expect_body(&mut self, b: Located<WordOr<BodyDoc>>) -> Option<BodyCheck> {
        let at = b.with(());
        let o = match b.value {
            WordOr::Word(w) if w == "present" => {
                return Some(BodyCheck::Present(BodyAssertion::default()))
            }
            WordOr::Word(w) if w == "absent" => return Some(BodyCheck::Absent),
            WordOr::Word(w) => {
                let msg = format!(
                    "expected present, absent, or a mapping {{ content_type, equals, contains, \
                     matches }}, found `{w}`"
                );
                self.errs.at(&at, K::InvalidValue, msg);
                return None;
            }
            WordOr::Object(o) => o,
        };
        if let Some(t) = &o.text {
            let msg = "`text` is for sending; to compare the whole body use `equals`";
            self.errs.at(t, K::UnknownKey, msg);
        }
        if let Some(ct) = &o.content_type {
            self.content_type_ok(ct);
        }
        for t in [&o.equals, &o.contains].into_iter().flatten() {
            self.check_template(t, false);
        }
        Some(BodyCheck::Present(BodyAssertion {
            content_type: o.content_type.map(Located::into_inner),
            equals: o.equals,
            contains: o.contains,
            matches: o.matches,
        }))
    }

    pub(crate) fn captures(&mut self, c: Captures) -> Vec<Capture> {
        let mut out = Vec::new();
        for (variable, path) in c.map(|c| c.value.0).unwrap_or_default() {
            if check_variable_name(self.errs, &variable) {
                self.pending_vars.push(variable.value.clone());
                out.push(Capture {
                    variable,
                    path: path.value,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        assert!(is_media_type("text/plain"));
        assert!(is_media_type("application/sdp; charset=utf-8"));
        assert!(!is_media_type("text"));
        assert!(!is_media_type("text/"));
        assert!(!is_media_type("te xt/plain"));
    }
}
