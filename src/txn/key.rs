//! Transaction identifiers: how requests and responses are matched to transactions
//! (RFC 3261 §17.1.3 for clients, §17.2.3 for servers, with the RFC 2543 fallback).

use crate::sip::fastcheck;
use crate::sip::host::Host;
use crate::sip::message::Message;
use crate::sip::HeaderName;
use serde::Serialize;
use std::fmt;

/// The identity of a transaction, as computed from any message that belongs to it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum TxKey {
    /// RFC 3261 §17.2.3: the top Via's branch (with the `z9hG4bK` cookie) and sent-by, and the
    /// method, where ACK counts as INVITE (an ACK to a non-2xx final belongs to the INVITE's
    /// transaction; an ACK to a 2xx has a branch of its own and so matches nothing).
    Branch {
        branch: String,
        sent_by: String,
        method: String,
    },
    /// RFC 3261 §17.2.3 for requests from RFC 2543 elements (no cookie): Call-ID, CSeq number,
    /// method (ACK as INVITE), From tag and the top Via as written. The Request-URI and To tag
    /// of §17.2.3 are left out so that a response, which carries neither usable, gets the same
    /// key as its request.
    Rfc2543 {
        call_id: String,
        cseq: u32,
        method: String,
        from_tag: String,
        top_via: String,
    },
}

impl TxKey {
    /// The key of the transaction a message belongs to: for a request, its server transaction
    /// (and the client transaction that sent it); for a response, the transaction it answers.
    /// `None` when the message lacks what a key needs (a Via, a CSeq).
    pub fn of(msg: &Message) -> Option<TxKey> {
        Self::of_clean(msg).or_else(|| Self::of_typed(msg))
    }

    /// [`TxKey::of`] through the typed views.
    fn of_typed(msg: &Message) -> Option<TxKey> {
        let via = msg.top_via()?;
        let cseq = msg.cseq()?;
        // For a response the method comes from CSeq (§17.1.3); for a request from the
        // Request-Line, which §8.1.1.5 requires to equal CSeq's.
        let method = match msg.method() {
            Some(m) => m.into_owned(),
            None => cseq.method.clone(),
        };
        let method = if method == "ACK" {
            "INVITE".to_string()
        } else {
            method
        };
        match via.branch() {
            Some(b) if via.branch_has_cookie() && !via.branch_is_cookie_only() => {
                Some(TxKey::Branch {
                    branch: b.to_string(),
                    sent_by: sent_by_key(&via.sent_by_host, via.sent_by_port),
                    method,
                })
            }
            _ => {
                let h = msg.header(crate::sip::HeaderName::Via)?;
                let text = msg.value(h);
                let top = crate::sip::lex::split_commas(text.as_bytes()).0;
                let top_via = top.first().map(|r| text[r.clone()].to_string())?;
                Some(TxKey::Rfc2543 {
                    call_id: msg.call_id()?,
                    cseq: cseq.number,
                    method,
                    from_tag: msg.from_tag().unwrap_or_default(),
                    top_via,
                })
            }
        }
    }

    /// [`TxKey::of`] for a message whose top Via is clean (nearly all): read by the
    /// zero-allocation fast path (`fastcheck::top_via`), with the key the typed path gives.
    fn of_clean(msg: &Message) -> Option<TxKey> {
        let h = msg.header(HeaderName::Via)?;
        if h.folded {
            return None;
        }
        let top = fastcheck::top_via(msg.bytes(h.value))?;
        let cseq = msg.cseq()?;
        let method = match msg.method() {
            Some(m) if m == "ACK" => "INVITE".to_string(),
            Some(m) => m.into_owned(),
            None if cseq.method == "ACK" => "INVITE".to_string(),
            None => cseq.method,
        };
        // Clean values are ASCII. A host that reads as IPv4 is keyed as the typed parser's
        // `Host::Ipv4` prints; IPv6 likewise; a name in lower case.
        let host = std::str::from_utf8(top.host).ok()?;
        let host = if let Some(inner) = host.strip_prefix('[') {
            let a: std::net::Ipv6Addr = inner.strip_suffix(']')?.parse().ok()?;
            Host::Ipv6(a).to_string()
        } else if let Ok(a) = host.parse::<std::net::Ipv4Addr>() {
            a.to_string()
        } else {
            host.to_ascii_lowercase()
        };
        Some(TxKey::Branch {
            branch: String::from_utf8(top.branch.to_vec()).ok()?,
            sent_by: format!("{host}:{}", top.port.unwrap_or(5060)),
            method,
        })
    }

    /// The method the transaction was created for (ACK folded into INVITE).
    pub fn method(&self) -> &str {
        match self {
            TxKey::Branch { method, .. } | TxKey::Rfc2543 { method, .. } => method,
        }
    }

    /// The same transaction identity for another method: the CANCEL of an INVITE shares its
    /// branch but is a transaction of its own (RFC 3261 §9.2).
    pub fn with_method(&self, m: &str) -> TxKey {
        let mut k = self.clone();
        match &mut k {
            TxKey::Branch { method, .. } | TxKey::Rfc2543 { method, .. } => *method = m.into(),
        }
        k
    }

    /// The branch, when the key is an RFC 3261 one.
    pub fn branch(&self) -> Option<&str> {
        match self {
            TxKey::Branch { branch, .. } => Some(branch),
            TxKey::Rfc2543 { .. } => None,
        }
    }
}

impl fmt::Display for TxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TxKey::Branch {
                branch,
                sent_by,
                method,
            } => write!(f, "{method} {branch} via {sent_by}"),
            TxKey::Rfc2543 {
                call_id,
                cseq,
                method,
                ..
            } => write!(f, "{method} {cseq} {call_id} (RFC 2543)"),
        }
    }
}

/// sent-by compared case-insensitively for names, with the default port made explicit
/// (RFC 3261 §20.42: sent-by is compared as host and port).
fn sent_by_key(host: &Host, port: Option<u16>) -> String {
    let h = match host {
        Host::Name(n) => n.to_ascii_lowercase(),
        other => other.to_string(),
    };
    format!("{h}:{}", port.unwrap_or(5060))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::parse::parse_message;

    fn msg(start: &str, via: &str, cseq: &str) -> Message {
        let text = format!(
            "{start}\r\nVia: {via}\r\nFrom: <sip:a@x>;tag=f\r\nTo: <sip:b@y>\r\nCall-ID: c1\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n\r\n"
        );
        parse_message(text.as_bytes())
    }

    /// The fast path gives the typed path's key whenever it gives one.
    #[test]
    fn clean_vias_get_the_typed_key() {
        let vias = [
            "SIP/2.0/UDP Host.example.com;branch=z9hG4bK1",
            "SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKabc;rport",
            "SIP/2.0/TCP [2001:DB8::1]:5070;branch=z9hG4bK.x-Y;received=1.2.3.4",
            "SIP/2.0/UDP [::1];branch=z9hG4bKq , SIP/2.0/UDP a.b;branch=z9hG4bKr",
            "SIP/2.0/UDP EXAMPLE.com:05060 ;rport=5 ; branch = z9hG4bKz",
            "SIP/2.0/UDP 10.0.0.1:65535;BRANCH=z9hG4bK7;branch=z9hG4bK8",
        ];
        for via in vias {
            for (start, cseq) in [
                ("INVITE sip:b@y SIP/2.0", "1 INVITE"),
                ("ACK sip:b@y SIP/2.0", "1 ACK"),
                ("SIP/2.0 200 OK", "2 BYE"),
            ] {
                let m = msg(start, via, cseq);
                let fast = TxKey::of_clean(&m);
                assert!(fast.is_some(), "{via} takes the fast path");
                assert_eq!(fast, TxKey::of_typed(&m), "{via}");
            }
        }
    }

    #[test]
    fn request_response_and_ack_to_non_2xx_share_a_key() {
        let via = "SIP/2.0/UDP Host.example.com;branch=z9hG4bK1";
        let inv = TxKey::of(&msg("INVITE sip:b@y SIP/2.0", via, "1 INVITE")).unwrap();
        let resp = TxKey::of(&msg("SIP/2.0 486 Busy", via, "1 INVITE")).unwrap();
        let ack = TxKey::of(&msg("ACK sip:b@y SIP/2.0", via, "1 ACK")).unwrap();
        assert_eq!(inv, resp);
        assert_eq!(inv, ack);
        // sent-by compares case-insensitively with the default port.
        let other = TxKey::of(&msg(
            "SIP/2.0 486 Busy",
            "SIP/2.0/UDP host.EXAMPLE.com:5060;branch=z9hG4bK1",
            "1 INVITE",
        ))
        .unwrap();
        assert_eq!(inv, other);
    }

    #[test]
    fn cancel_and_other_branches_are_other_transactions() {
        let via = "SIP/2.0/UDP h;branch=z9hG4bK1";
        let inv = TxKey::of(&msg("INVITE sip:b@y SIP/2.0", via, "1 INVITE")).unwrap();
        let cancel = TxKey::of(&msg("CANCEL sip:b@y SIP/2.0", via, "1 CANCEL")).unwrap();
        assert_ne!(inv, cancel);
        assert_eq!(inv.with_method("CANCEL"), cancel);
        let ack2xx = TxKey::of(&msg(
            "ACK sip:b@y SIP/2.0",
            "SIP/2.0/UDP h;branch=z9hG4bK2",
            "1 ACK",
        ))
        .unwrap();
        assert_ne!(inv, ack2xx);
    }

    #[test]
    fn rfc2543_requests_fall_back_to_dialog_fields() {
        let via = "SIP/2.0/UDP h";
        let inv = TxKey::of(&msg("INVITE sip:b@y SIP/2.0", via, "5 INVITE")).unwrap();
        assert!(matches!(inv, TxKey::Rfc2543 { cseq: 5, .. }));
        let resp = TxKey::of(&msg("SIP/2.0 200 OK", via, "5 INVITE")).unwrap();
        assert_eq!(inv, resp);
        // RFC 4475 §3.2.1: a branch that is only the cookie is no identifier either.
        let k = TxKey::of(&msg(
            "OPTIONS sip:b@y SIP/2.0",
            "SIP/2.0/UDP h;branch=z9hG4bK",
            "5 OPTIONS",
        ))
        .unwrap();
        assert!(matches!(k, TxKey::Rfc2543 { .. }));
    }
}
