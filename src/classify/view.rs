//! What the classifier reads in a trace: which request a response answers, what the target
//! advertises (Allow, Supported, Accept, Allow-Events), the codecs its SDP lists.

use super::Input;
use crate::sip::message::Message;
use crate::sip::HeaderName;

impl Input<'_> {
    pub(super) fn msg(&self, i: usize) -> &Message {
        &self.trace.messages[i].message
    }

    pub(super) fn by_target_at(&self, i: usize) -> bool {
        self.by_target.get(i).copied().unwrap_or(false)
    }

    /// Indexes of the responses the target sent.
    pub(super) fn target_responses(&self) -> impl Iterator<Item = (usize, u16)> + '_ {
        (0..self.trace.messages.len())
            .filter(|&i| self.by_target_at(i))
            .filter_map(|i| self.msg(i).status().map(|s| (i, s)))
    }

    /// The request response `i` answers: the latest earlier request from the other side with
    /// the same Call-ID and CSeq, the same top Via branch preferred (RFC 3261 §17.1.3).
    pub(super) fn request_of(&self, i: usize) -> Option<usize> {
        let resp = self.msg(i);
        let (call, cseq) = (resp.call_id()?, resp.cseq()?);
        let branch = resp.branch();
        let by_target = self.by_target_at(i);
        let candidates: Vec<usize> = (0..i)
            .rev()
            .filter(|&j| self.by_target_at(j) != by_target)
            .filter(|&j| {
                let m = self.msg(j);
                m.is_request()
                    && m.call_id().as_deref() == Some(call.as_str())
                    && m.cseq().is_some_and(|c| c == cseq)
            })
            .collect();
        candidates
            .iter()
            .copied()
            .find(|&j| self.msg(j).branch() == branch)
            .or_else(|| candidates.first().copied())
    }

    /// Whether a message the target sent lists `token` in header `name` (comma-separated,
    /// parameters and case ignored; `*/*` and `type/*` count for Accept).
    pub(super) fn advertised(&self, name: HeaderName, token: &str) -> bool {
        let token = token.trim().to_ascii_lowercase();
        (0..self.trace.messages.len())
            .filter(|&i| self.by_target_at(i))
            .any(|i| {
                self.msg(i).values(name).iter().any(|v| {
                    v.split(',').any(|t| {
                        let t = t
                            .split(';')
                            .next()
                            .unwrap_or("")
                            .trim()
                            .to_ascii_lowercase();
                        t == token || (name == HeaderName::Accept && media_range_covers(&t, &token))
                    })
                })
            })
    }

    /// Every codec (encoding name, upper case) in any SDP the target sent.
    pub(super) fn target_codecs(&self) -> Vec<String> {
        let mut out: Vec<String> = (0..self.trace.messages.len())
            .filter(|&i| self.by_target_at(i))
            .filter_map(|i| self.msg(i).sdp())
            .flat_map(|s| {
                s.media
                    .iter()
                    .flat_map(|m| m.codec_names())
                    .collect::<Vec<_>>()
            })
            .map(|c| c.to_ascii_uppercase())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The final response to request `j` from the other side, if any.
    pub(super) fn final_response_to(&self, j: usize) -> Option<usize> {
        (j + 1..self.trace.messages.len()).find(|&k| {
            self.by_target_at(k) != self.by_target_at(j)
                && self.msg(k).status().is_some_and(|s| s >= 200)
                && self.request_of(k) == Some(j)
        })
    }
}

/// `type/*` or `*/*` covering `type/subtype`.
fn media_range_covers(range: &str, media: &str) -> bool {
    match range.split_once('/') {
        Some(("*", "*")) => true,
        Some((t, "*")) => media.split('/').next() == Some(t),
        _ => false,
    }
}

/// The method of a request, owned.
pub(super) fn method(m: &Message) -> String {
    m.method().map(|m| m.into_owned()).unwrap_or_default()
}

/// `type/subtype` of a message's body, lower case.
pub(super) fn body_type(m: &Message) -> Option<String> {
    m.content_type()
        .map(|t| format!("{}/{}", t.type_, t.subtype).to_ascii_lowercase())
}

/// The package of an Event header (`refer;id=3` -> `refer`).
pub(super) fn event_package(m: &Message) -> Option<String> {
    let v = m.first_value(HeaderName::Event)?;
    Some(v.split(';').next()?.trim().to_ascii_lowercase())
}
