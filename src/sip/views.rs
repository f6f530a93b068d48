//! Typed accessors on [`Message`]: the values transactions, dialogs and scenarios ask for most,
//! read through the typed views on demand. A header that is absent or does not parse gives
//! `None` (the violation is already in `Message::violations`).

use super::addr::{self, NameAddr};
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
        self.from_addr()?.tag()
    }

    pub fn to_tag(&self) -> Option<String> {
        self.to_addr()?.tag()
    }

    pub fn content_type(&self) -> Option<MediaType> {
        headers::parse_content_type(&self.first_value(HeaderName::ContentType)?).ok()
    }

    /// The session description carried by the message: the body when it is `application/sdp`,
    /// or the first `application/sdp` part of a multipart body (RFC 5621).
    pub fn sdp(&self) -> Option<Sdp> {
        let ct = self.content_type()?;
        if ct.essence() == "application/sdp" {
            return Some(sdp::parse(self.body()));
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
            .map(|p| sdp::parse(&self.body()[p.body.clone()]))
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
