//! Typed accessors on [`Message`]: the values transactions, dialogs and scenarios ask for most,
//! read through the typed views on demand. A header that is absent or does not parse gives
//! `None` (the violation is already in `Message::violations`).

use super::addr::{self, NameAddr};
use super::fastcheck::FromTo;
use super::header_name::HeaderName;
use super::headers::{self, CSeq, MediaType, Via};
use super::message::Message;
use super::multipart;
use crate::sdp::{self, Sdp};

impl Message {
    /// Every Via value, top first, across all Via fields (RFC 3261 §20.42).
    pub fn vias(&self) -> Vec<Via> {
        self.headers_named(HeaderName::Via)
            .flat_map(|h| headers::parse_via_list(&self.value(h)))
            .filter_map(Result::ok)
            .collect()
    }

    /// The topmost Via: the one that names the transaction (RFC 3261 §17.1.3, §17.2.3).
    pub fn top_via(&self) -> Option<Via> {
        let h = self.header(HeaderName::Via)?;
        headers::parse_via_list(&self.value(h))
            .into_iter()
            .next()?
            .ok()
    }

    /// The branch of the topmost Via.
    pub fn branch(&self) -> Option<String> {
        self.top_via()?.branch().map(str::to_string)
    }

    pub fn cseq(&self) -> Option<CSeq> {
        headers::parse_cseq(&self.first_value(HeaderName::CSeq)?).ok()
    }

    /// The Call-ID as written, trimmed.
    pub fn call_id(&self) -> Option<String> {
        let v = self.first_value(HeaderName::CallId)?;
        Some(super::lex::trim(&v).to_string())
    }

    pub fn from_addr(&self) -> Option<NameAddr> {
        addr::parse_from_to(&self.first_value(HeaderName::From)?).ok()
    }

    pub fn to_addr(&self) -> Option<NameAddr> {
        addr::parse_from_to(&self.first_value(HeaderName::To)?).ok()
    }

    pub fn from_tag(&self) -> Option<String> {
        self.tag_of(HeaderName::From)?
    }

    pub fn to_tag(&self) -> Option<String> {
        self.tag_of(HeaderName::To)?
    }

    /// The tag of the first From or To (RFC 3261 §19.3): `None` when the header is absent or
    /// does not parse, `Some(None)` when it has no tag. Dialogs, transactions and the checker
    /// ask for tags far more often than for addresses: clean values are read by the
    /// zero-allocation fast path, the others by the typed parser (the same answer).
    pub fn tag_of(&self, name: HeaderName) -> Option<Option<String>> {
        if let Some(parts) = self.from_to_fast(name) {
            let tag = parts
                .tag
                .map(|t| super::lex::unquote(&String::from_utf8_lossy(t)).into_owned());
            return Some(tag);
        }
        let h = self.header(name)?;
        Some(addr::parse_from_to(&self.value(h)).ok()?.tag())
    }

    /// The URI and tag of the first From or To when its value is clean
    /// (`fastcheck::from_to_parts`); `None` when absent or not certainly clean.
    pub fn from_to_fast(&self, name: HeaderName) -> Option<FromTo<'_>> {
        let h = self.header(name)?;
        if h.folded {
            return None;
        }
        super::fastcheck::from_to_parts(self.bytes(h.value))
    }

    pub fn content_type(&self) -> Option<MediaType> {
        headers::parse_content_type(&self.first_value(HeaderName::ContentType)?).ok()
    }

    /// The session description carried by the message: the body when it is `application/sdp`,
    /// or the first `application/sdp` part of a multipart body (RFC 5621).
    pub fn sdp(&self) -> Option<Sdp> {
        self.sdp_range().map(|r| sdp::parse(&self.body()[r]))
    }

    /// Whether [`Message::sdp`] finds a session description, without parsing it.
    pub fn has_sdp(&self) -> bool {
        self.sdp_range().is_some()
    }

    /// Where in the body the session description is.
    fn sdp_range(&self) -> Option<std::ops::Range<usize>> {
        let ct = self.content_type()?;
        if ct.essence() == "application/sdp" {
            return Some(0..self.body().len());
        }
        if !ct.is_multipart() {
            return None;
        }
        let ct_text = self.first_value(HeaderName::ContentType)?;
        let parts = multipart::split_multipart(&ct_text, self.body()).ok()?;
        parts
            .iter()
            .find(|p| {
                p.content_type.as_deref().is_some_and(|t| {
                    headers::parse_content_type(t).is_ok_and(|m| m.essence() == "application/sdp")
                })
            })
            .map(|p| p.body.clone())
    }
}

#[cfg(test)]
mod tests {
    use crate::sip::builder::MessageBuilder;
    use crate::sip::parse::parse_message;

    #[test]
    fn accessors_read_the_common_values() {
        let sdp_body = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";
        let bytes = MessageBuilder::request("INVITE", "sip:bob@example.com")
            .header("v", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtop, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK2")
            .header("f", "Alice <sip:alice@example.com>;tag=a1")
            .header("t", "<sip:bob@example.com>")
            .header("i", " call-1@host ")
            .header("CSeq", "7 INVITE")
            .header("Max-Forwards", "70")
            .body("application/sdp", sdp_body)
            .build();
        let m = parse_message(&bytes);
        assert!(m.violations.is_empty(), "{:?}", m.rule_ids());
        assert_eq!(m.vias().len(), 2);
        assert_eq!(m.branch().as_deref(), Some("z9hG4bKtop"));
        assert_eq!(m.call_id().as_deref(), Some("call-1@host"));
        assert_eq!(m.cseq().map(|c| c.number), Some(7));
        assert_eq!(m.from_tag().as_deref(), Some("a1"));
        assert_eq!(m.to_tag(), None);
        let sdp = m.sdp().expect("an SDP body");
        assert_eq!(sdp.effective_direction(0), crate::sdp::Direction::SendOnly);
    }
}
