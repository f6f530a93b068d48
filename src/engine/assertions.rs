//! Assertions of expect steps on a received message (headers, SDP, body) and captures, as
//! pure functions: each returns `Ok` or a sentence saying what was found instead.

use crate::scenario::{
    BodyAssertion, BodyCheck, CapturePath, HeaderAssertion, HeaderCheck, SdpAssertion, SdpCheck,
    Template, UnsetVariable,
};
use crate::sdp::Sdp;
use crate::sip::header_name::HeaderName;
use crate::sip::message::Message;
use regex::Regex;

/// Renders a template of an assertion (user variables and addresses only).
pub type Render<'a> = dyn Fn(&Template) -> Result<String, UnsetVariable> + 'a;

/// Every line of a header (case-insensitive, compact forms included), each value trimmed,
/// joined with ", " (RFC 3261 §7.3.1). `None` when the header is absent.
pub fn header_value(msg: &Message, name: &str) -> Option<String> {
    let (hn, _) = HeaderName::lookup(name.trim().as_bytes());
    let values: Vec<String> = if hn == HeaderName::Other {
        msg.headers_other(name.trim())
            .map(|h| msg.value(h).trim().to_string())
            .collect()
    } else {
        msg.headers_named(hn)
            .map(|h| msg.value(h).trim().to_string())
            .collect()
    };
    (!values.is_empty()).then(|| values.join(", "))
}

fn rendered(t: &Template, render: &Render<'_>) -> Result<String, String> {
    render(t).map_err(|e| {
        format!("{e} (it is captured by a step that did not happen, so the assertion cannot be checked)")
    })
}

fn regex(re: &str) -> Result<Regex, String> {
    Regex::new(re).map_err(|e| format!("the regular expression `{re}` is invalid: {e}"))
}

/// Checks one header assertion.
pub fn check_header(msg: &Message, c: &HeaderCheck, render: &Render<'_>) -> Result<(), String> {
    let name = c.name.as_str();
    let value = header_value(msg, name);
    let absent = || format!("header `{name}` is absent");
    match &c.assertion {
        HeaderAssertion::Present => value.map(|_| ()).ok_or_else(absent),
        HeaderAssertion::Absent => match value {
            None => Ok(()),
            Some(v) => Err(format!("header `{name}` is present: `{v}`")),
        },
        HeaderAssertion::Equals(t) => {
            let want = rendered(t, render)?;
            let v = value.ok_or_else(absent)?;
            if v.trim() == want.trim() {
                Ok(())
            } else {
                Err(format!("header `{name}` is `{v}`, not `{want}`"))
            }
        }
        HeaderAssertion::Contains(t) => {
            let want = rendered(t, render)?;
            let v = value.ok_or_else(absent)?;
            if v.contains(&want) {
                Ok(())
            } else {
                Err(format!(
                    "header `{name}` is `{v}`, which does not contain `{want}`"
                ))
            }
        }
        HeaderAssertion::Matches(re) => {
            let v = value.ok_or_else(absent)?;
            if regex(re)?.is_match(&v) {
                Ok(())
            } else {
                Err(format!(
                    "header `{name}` is `{v}`, which does not match `{}`",
                    re.value
                ))
            }
        }
    }
}

/// The index of the first audio stream (SDP assertions look at it).
fn first_audio(s: &Sdp) -> Option<usize> {
    s.media.iter().position(|m| m.media == "audio")
}

/// Checks an SDP assertion.
pub fn check_sdp(msg: &Message, c: &SdpCheck) -> Result<(), String> {
    match (c, msg.sdp()) {
        (SdpCheck::Absent, None) => Ok(()),
        (SdpCheck::Absent, Some(_)) => Err("the message carries an SDP body".into()),
        (SdpCheck::Present(_), None) => Err("the message carries no SDP body".into()),
        (SdpCheck::Present(a), Some(s)) => check_sdp_properties(&s, a),
    }
}

fn check_sdp_properties(s: &Sdp, a: &SdpAssertion) -> Result<(), String> {
    if let Some(n) = a.media {
        if s.media.len() != n as usize {
            return Err(format!("the SDP has {} m= lines, not {n}", s.media.len()));
        }
    }
    let wants_stream = a.direction.is_some()
        || a.connection.is_some()
        || !a.codecs.is_empty()
        || a.port_zero.is_some();
    if !wants_stream {
        return Ok(());
    }
    let i = first_audio(s).ok_or("the SDP has no audio stream")?;
    if let Some(d) = a.direction {
        let got = s.effective_direction(i);
        if got != d {
            return Err(format!("the audio stream is {got}, not {d}"));
        }
    }
    if let Some(ip) = a.connection {
        let got = s.effective_connection(i).and_then(|c| c.ip());
        if got != Some(ip) {
            let got = got.map_or("no address".to_string(), |g| g.to_string());
            return Err(format!("the audio connection address is {got}, not {ip}"));
        }
    }
    let names = s.media[i].codec_names();
    for want in &a.codecs {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(want)) {
            return Err(format!(
                "codec {want} is not offered (codecs: {})",
                names.join(", ")
            ));
        }
    }
    if let Some(z) = a.port_zero {
        let port = s.media[i].port;
        if (port == 0) != z {
            return Err(format!("the audio port is {port}"));
        }
    }
    Ok(())
}

/// Checks a body assertion.
pub fn check_body(msg: &Message, c: &BodyCheck, render: &Render<'_>) -> Result<(), String> {
    let body = msg.body();
    match c {
        BodyCheck::Absent if body.is_empty() => Ok(()),
        BodyCheck::Absent => Err(format!("the message has a body of {} octets", body.len())),
        BodyCheck::Present(_) if body.is_empty() => Err("the message has no body".into()),
        BodyCheck::Present(a) => check_body_properties(msg, a, render),
    }
}

fn check_body_properties(
    msg: &Message,
    a: &BodyAssertion,
    render: &Render<'_>,
) -> Result<(), String> {
    let text = String::from_utf8_lossy(msg.body());
    if let Some(ct) = &a.content_type {
        let got = msg.content_type().map(|m| m.essence());
        let want = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if got.as_deref() != Some(want.as_str()) {
            let got = got.unwrap_or_else(|| "absent".into());
            return Err(format!("the Content-Type is {got}, not {want}"));
        }
    }
    if let Some(t) = &a.equals {
        let want = rendered(t, render)?;
        if text != want {
            return Err(format!("the body is `{}`, not `{want}`", text.trim_end()));
        }
    }
    if let Some(t) = &a.contains {
        let want = rendered(t, render)?;
        if !text.contains(&want) {
            return Err(format!("the body does not contain `{want}`"));
        }
    }
    if let Some(re) = &a.matches {
        if !regex(re)?.is_match(&text) {
            return Err(format!("the body does not match `{}`", re.value));
        }
    }
    Ok(())
}

/// The value a capture path takes from a message, when it has one.
pub fn capture(msg: &Message, path: &CapturePath) -> Option<String> {
    match path {
        CapturePath::FromTag => msg.from_tag(),
        CapturePath::ToTag => msg.to_tag(),
        CapturePath::FromUri => msg.from_addr().map(|a| a.uri.to_string()),
        CapturePath::ToUri => msg.to_addr().map(|a| a.uri.to_string()),
        CapturePath::CallId => msg.call_id(),
        CapturePath::CSeq => msg.cseq().map(|c| c.number.to_string()),
        CapturePath::Method => msg.cseq().map(|c| c.method.to_string()),
        CapturePath::Status => msg.status().map(|s| s.to_string()),
        CapturePath::Reason => msg.reason().map(|r| r.into_owned()),
        CapturePath::RequestUri => msg.request_uri().map(|r| r.into_owned()),
        CapturePath::Header(name) => header_value(msg, name),
        CapturePath::HeaderParam { header, param } => header_param(msg, header, param),
        CapturePath::SdpDirection => sdp_part(msg, |s, i| s.effective_direction(i).to_string()),
        CapturePath::SdpConnection => {
            let s = msg.sdp()?;
            let i = first_audio(&s)?;
            s.effective_connection(i)?.ip().map(|ip| ip.to_string())
        }
        CapturePath::SdpPort => sdp_part(msg, |s, i| s.media[i].port.to_string()),
        CapturePath::Body => Some(String::from_utf8_lossy(msg.body()).into_owned()),
    }
}

fn sdp_part(msg: &Message, f: impl Fn(&Sdp, usize) -> String) -> Option<String> {
    let s = msg.sdp()?;
    let i = first_audio(&s)?;
    Some(f(&s, i))
}

/// A parameter of the first value of a header (`header.Via.branch`): the parameters after the
/// closing `>` of a name-addr, else after the first `;`.
fn header_param(msg: &Message, header: &str, param: &str) -> Option<String> {
    let all = header_value(msg, header)?;
    let first = crate::sip::lex::split_commas(all.as_bytes())
        .0
        .first()
        .map_or(all.clone(), |r| all[r.clone()].to_string());
    let params = match first.rfind('>') {
        Some(i) => &first[i + 1..],
        None => first.split_once(';').map_or("", |(_, p)| p),
    };
    params.split(';').find_map(|p| {
        let (n, v) = p.split_once('=').unwrap_or((p, ""));
        n.trim()
            .eq_ignore_ascii_case(param)
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Located;
    use crate::sdp::Direction;
    use crate::sip::parse::parse_message;

    const SDP: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\na=recvonly\r\n";

    fn msg() -> Message {
        let text = format!(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1;rport=5, SIP/2.0/UDP b\r\n\
             From: <sip:a@x>;tag=f1\r\nTo: \"B\" <sip:b@x>;tag=t1\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\
             Allow: INVITE, ACK\r\nAllow: BYE\r\nX-Thing: 7\r\nContent-Type: application/sdp\r\n\
             Content-Length: {}\r\n\r\n{SDP}",
            SDP.len()
        );
        parse_message(text.as_bytes())
    }

    fn hc(name: &str, a: HeaderAssertion) -> HeaderCheck {
        HeaderCheck {
            name: Located::new(name.into(), 1, 1),
            assertion: a,
        }
    }

    fn t(s: &str) -> Located<Template> {
        Located::new(Template::parse(s), 1, 1)
    }

    #[test]
    fn header_assertions() {
        let m = msg();
        let r = |t: &Template| t.render(|v| (v == "tag").then(|| "t1".to_string()));
        let ok = |a| check_header(&m, &hc("allow", a), &r);
        assert_eq!(ok(HeaderAssertion::Present), Ok(()));
        assert_eq!(ok(HeaderAssertion::Equals(t("INVITE, ACK, BYE"))), Ok(()));
        assert_eq!(ok(HeaderAssertion::Contains(t("BYE"))), Ok(()));
        let re = Located::new("^INV.*BYE$".to_string(), 1, 1);
        assert_eq!(ok(HeaderAssertion::Matches(re)), Ok(()));
        let e = ok(HeaderAssertion::Absent).unwrap_err();
        assert_eq!(e, "header `allow` is present: `INVITE, ACK, BYE`");
        let to = check_header(&m, &hc("t", HeaderAssertion::Contains(t("tag=[tag]"))), &r);
        assert_eq!(to, Ok(()));
        let e = check_header(&m, &hc("x-thing", HeaderAssertion::Equals(t("8"))), &r);
        assert_eq!(e.unwrap_err(), "header `x-thing` is `7`, not `8`");
        let e = check_header(&m, &hc("X", HeaderAssertion::Contains(t("[nope]"))), &r);
        assert!(e.unwrap_err().contains("`nope` has no value"));
    }

    #[test]
    fn sdp_and_body_assertions() {
        let m = msg();
        let a = SdpAssertion {
            direction: Some(Direction::RecvOnly),
            codecs: vec!["pcma".into()],
            port_zero: Some(false),
            media: Some(1),
            connection: Some("10.0.0.1".parse().unwrap()),
        };
        assert_eq!(check_sdp(&m, &SdpCheck::Present(a)), Ok(()));
        let wrong = SdpAssertion {
            direction: Some(Direction::SendRecv),
            ..SdpAssertion::default()
        };
        assert_eq!(
            check_sdp(&m, &SdpCheck::Present(wrong)).unwrap_err(),
            "the audio stream is recvonly, not sendrecv"
        );
        assert!(check_sdp(&m, &SdpCheck::Absent).is_err());
        let r = |t: &Template| t.render(|_| None);
        let body = BodyAssertion {
            content_type: Some("Application/SDP; x=1".into()),
            contains: Some(t("m=audio")),
            ..BodyAssertion::default()
        };
        assert_eq!(check_body(&m, &BodyCheck::Present(body), &r), Ok(()));
        assert!(check_body(&m, &BodyCheck::Absent, &r).is_err());
    }

    #[test]
    fn captures() {
        let m = msg();
        let c = |p| capture(&m, &p);
        assert_eq!(c(CapturePath::ToTag).as_deref(), Some("t1"));
        assert_eq!(c(CapturePath::FromUri).as_deref(), Some("sip:a@x"));
        assert_eq!(c(CapturePath::Status).as_deref(), Some("200"));
        assert_eq!(c(CapturePath::Method).as_deref(), Some("INVITE"));
        let branch = CapturePath::HeaderParam {
            header: "Via".into(),
            param: "branch".into(),
        };
        assert_eq!(c(branch).as_deref(), Some("z9hG4bK1"));
        let tag = CapturePath::HeaderParam {
            header: "To".into(),
            param: "tag".into(),
        };
        assert_eq!(c(tag).as_deref(), Some("t1"));
        assert_eq!(c(CapturePath::SdpDirection).as_deref(), Some("recvonly"));
        assert_eq!(c(CapturePath::SdpPort).as_deref(), Some("4000"));
        assert_eq!(c(CapturePath::RequestUri), None);
    }
}
