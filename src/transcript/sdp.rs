//! The SDP summary of a transcript line: the session (aliased) and its version number within
//! the session, then per media stream its kind, effective direction and connection address
//! class (`sdp.m1=audio,sendrecv,c=addr`; `audio,off` for a stream refused with port 0), and
//! its codecs as a detail field (`sdp.m1.codecs=PCMU+PCMA+telephone-event`). Ports and
//! addresses never appear: they change between runs and say nothing about the call flow.

use super::alias::{Aliases, Kind};
use super::Field;
use crate::sdp::Sdp;

/// Appends the summary fields of `sdp` to `out`.
pub(super) fn summarise(sdp: &Sdp, aliases: &mut Aliases, out: &mut Vec<Field>) {
    let session = match &sdp.origin {
        Some(o) => {
            let id = format!("{} {} {}", o.username, o.sess_id, o.address);
            let alias = aliases.get(Kind::Sdp, &id);
            let v = aliases.version(&alias, &o.sess_version);
            format!("{alias}.v{v}")
        }
        None => "no-origin".to_string(),
    };
    out.push(Field::new("sdp", session));
    for (i, m) in sdp.media.iter().enumerate() {
        let key = format!("sdp.m{}", i + 1);
        if m.is_disabled() {
            out.push(Field::new(key, format!("{},off", m.media)));
            continue;
        }
        let c = match sdp.effective_connection(i) {
            None => "c=none".to_string(),
            Some(c) if c.is_zero() => format!("c={}", c.address),
            Some(c) if c.ip().is_some() => "c=addr".to_string(),
            Some(_) => "c=host".to_string(),
        };
        out.push(Field::new(
            key.clone(),
            format!("{},{},{c}", m.media, sdp.effective_direction(i)),
        ));
        let codecs = if m.is_rtp() {
            m.codec_names().join("+")
        } else {
            m.formats.join("+")
        };
        if !codecs.is_empty() {
            out.push(Field::new(format!("{key}.codecs"), codecs));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_and_refusal_are_visible_addresses_are_not() {
        let text = "v=0\r\no=- 42 7 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n\
                    m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n\
                    m=video 0 RTP/AVP 31\r\n";
        let sdp = crate::sdp::parse(text.as_bytes());
        let mut a = Aliases::new();
        let mut out = Vec::new();
        summarise(&sdp, &mut a, &mut out);
        let words: Vec<String> = out.iter().map(Field::text).collect();
        assert_eq!(
            words,
            [
                "sdp=<sdp-1>.v1",
                "sdp.m1=audio,sendonly,c=0.0.0.0",
                "sdp.m1.codecs=PCMU+telephone-event",
                "sdp.m2=video,off"
            ]
        );
    }
}
