//! The session descriptions siptest's agents send (RFC 3264 offer/answer): a fresh offer, an
//! answer to a received offer, hold and unhold re-offers (§8.4), and the explicit `sdp:`
//! mapping of a scenario. No media flows: the ports are placeholders.

use crate::scenario::{SdpParams, SdpSpec};
use crate::sdp::{self, Codec, Direction, HoldStyle, MediaDescription, MediaSpec, Sdp, SdpBuilder};
use std::net::IpAddr;

/// What every description of one agent shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SdpContext {
    /// o= and c= address.
    pub address: IpAddr,
    /// o= session id (RFC 8866 §5.2).
    pub session_id: u64,
    /// o= version; each new description of a session must raise it (RFC 3264 §8).
    pub version: u64,
    /// The audio port written in m= (nothing listens there).
    pub port: u16,
}

/// The codecs offered when a scenario names none, in preference order.
pub fn default_codecs() -> Vec<Codec> {
    vec![Codec::pcmu(), Codec::pcma(), Codec::telephone_event(101)]
}

/// A codec by encoding name: the static payload types of RFC 3551, dynamic ones from 96.
pub fn codec_named(name: &str, next_dynamic: &mut u8) -> Codec {
    let static_pt = match name.to_ascii_uppercase().as_str() {
        "PCMU" => Some(Codec::pcmu()),
        "PCMA" => Some(Codec::pcma()),
        "G722" => Some(Codec::g722()),
        "G729" => Some(Codec::g729()),
        "GSM" => Some(Codec::new(3, "GSM", 8000)),
        _ => None,
    };
    if let Some(c) = static_pt {
        return c;
    }
    let pt = *next_dynamic;
    *next_dynamic = next_dynamic.saturating_add(1).min(127);
    match name.to_ascii_lowercase().as_str() {
        "telephone-event" => Codec::new(pt, "telephone-event", 8000).with_fmtp("0-16"),
        "opus" => Codec::new(pt, "opus", 48000).with_channels(2),
        _ => Codec::new(pt, name, 8000),
    }
}

fn codecs_for(names: &[String]) -> Vec<Codec> {
    if names.is_empty() {
        return default_codecs();
    }
    let mut next = 96;
    names.iter().map(|n| codec_named(n, &mut next)).collect()
}

/// A fresh offer: one audio stream (RFC 3264 §5) with the parameters given.
pub fn offer(ctx: &SdpContext, params: &SdpParams) -> Vec<u8> {
    let mut m = MediaSpec::audio(ctx.port, codecs_for(&params.codecs));
    if params.port_zero {
        m.port = 0;
    }
    m.direction = params.direction;
    m.connection = params.connection;
    builder(ctx).media(m).build()
}

/// The answer to `offered` (RFC 3264 §6): one m= line per offered stream, in order; audio
/// streams are accepted with the codecs both sides have (the offer's payload types kept,
/// §6.1) and the reversed direction; others, and audio without a common codec, are
/// rejected with port 0.
pub fn answer(ctx: &SdpContext, offered: &Sdp, params: &SdpParams) -> Vec<u8> {
    let ours = codecs_for(&params.codecs);
    let mut b = builder(ctx);
    for m in &offered.media {
        b = b.media(answer_stream(ctx, offered, m, &ours, params));
    }
    if offered.media.is_empty() {
        b = b.media(MediaSpec::audio(0, vec![Codec::pcmu()]));
    }
    b.build()
}

fn answer_stream(
    ctx: &SdpContext,
    offered: &Sdp,
    m: &MediaDescription,
    ours: &[Codec],
    params: &SdpParams,
) -> MediaSpec {
    let index = offered.media.iter().position(|x| std::ptr::eq(x, m));
    let common: Vec<Codec> = m
        .payload_types()
        .into_iter()
        .filter_map(|pt| {
            let map = m.encoding(pt)?;
            ours.iter()
                .find(|c| c.encoding.eq_ignore_ascii_case(&map.encoding))
                .map(|c| Codec {
                    pt,
                    encoding: map.encoding.clone(),
                    clock_rate: map.clock_rate,
                    channels: map.channels.filter(|c| *c > 1),
                    fmtp: m
                        .fmtp(&pt.to_string())
                        .map(str::to_string)
                        .or(c.fmtp.clone()),
                })
        })
        .collect();
    let usable = m.media == "audio" && !m.is_disabled() && m.is_rtp() && !common.is_empty();
    if !usable {
        let first = m.payload_types().first().copied().unwrap_or(0);
        let mut spec = MediaSpec::audio(0, vec![Codec::new(first, "PCMU", 8000)]);
        spec.media = m.media.clone();
        spec.proto = m.proto.clone();
        return spec;
    }
    let offered_dir = index.map_or(Direction::SendRecv, |i| offered.effective_direction(i));
    let mut spec = MediaSpec::audio(if params.port_zero { 0 } else { ctx.port }, common);
    spec.proto = m.proto.clone();
    // RFC 3264 §6.1: sendonly is answered recvonly, recvonly sendonly, inactive inactive.
    let dir = params.direction.unwrap_or(offered_dir.reversed());
    spec.direction = (dir != Direction::SendRecv || params.direction.is_some()).then_some(dir);
    spec.connection = params.connection;
    spec
}

/// The next version of `previous` (our last description in the dialog) holding its streams
/// (RFC 3264 §8.4); a fresh offer held when there is none.
pub fn hold(ctx: &SdpContext, previous: Option<&[u8]>, style: HoldStyle) -> Vec<u8> {
    let base = previous.map_or_else(|| offer(ctx, &SdpParams::default()), <[u8]>::to_vec);
    sdp::hold(&sdp::parse(&base), style)
}

/// The next version of `previous` off hold: sendrecv, the real address back (RFC 3264 §8.4).
pub fn unhold(ctx: &SdpContext, previous: Option<&[u8]>) -> Vec<u8> {
    match previous {
        Some(p) => sdp::unhold(&sdp::parse(p), Some(ctx.address)),
        None => offer(ctx, &SdpParams::default()),
    }
}

/// What the model says a message carries when the scenario leaves the body alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role<'a> {
    /// An offer (an INVITE, a 2xx to an INVITE without offer).
    Offer,
    /// The answer to this offer.
    Answer(&'a Sdp),
}

/// The body for an explicit `sdp:` value; `None` for `sdp: none`-like specs handled by the
/// caller. `previous` is the agent's last description in the dialog.
pub fn for_spec(
    ctx: &SdpContext,
    spec: &SdpSpec,
    role: Role<'_>,
    previous: Option<&[u8]>,
) -> Vec<u8> {
    let plain = SdpParams::default();
    match (spec, role) {
        (SdpSpec::Offer, _) | (SdpSpec::Answer, Role::Offer) => offer(ctx, &plain),
        (SdpSpec::Answer, Role::Answer(o)) => answer(ctx, o, &plain),
        (SdpSpec::Hold(style), _) => hold(ctx, previous, *style),
        (SdpSpec::Unhold, _) => unhold(ctx, previous),
        (SdpSpec::Custom(p), Role::Offer) => offer(ctx, p),
        (SdpSpec::Custom(p), Role::Answer(o)) => answer(ctx, o, p),
    }
}

fn builder(ctx: &SdpContext) -> SdpBuilder {
    SdpBuilder::new(ctx.address)
        .session(ctx.session_id, ctx.version)
        .session_name("siptest")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> SdpContext {
        SdpContext {
            address: "127.0.0.1".parse().unwrap(),
            session_id: 42,
            version: 1,
            port: 40000,
        }
    }

    #[test]
    fn offer_is_valid_and_follows_parameters() {
        let s = sdp::parse(&offer(&ctx(), &SdpParams::default()));
        assert!(s.violations.is_empty(), "{:?}", s.violations);
        assert_eq!(
            s.media[0].codec_names(),
            ["PCMU", "PCMA", "telephone-event"]
        );
        let p = SdpParams {
            direction: Some(Direction::SendOnly),
            codecs: vec!["PCMA".into(), "opus".into()],
            connection: Some("192.0.2.9".parse().unwrap()),
            port_zero: false,
        };
        let s = sdp::parse(&offer(&ctx(), &p));
        assert_eq!(s.media[0].codec_names(), ["PCMA", "opus"]);
        assert_eq!(s.effective_direction(0), Direction::SendOnly);
        assert_eq!(
            s.effective_connection(0).and_then(|c| c.ip()),
            Some("192.0.2.9".parse().unwrap())
        );
    }

    #[test]
    fn answer_keeps_payload_types_reverses_direction_rejects_video() {
        let o = "v=0\r\no=x 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
                 m=audio 5004 RTP/AVP 18 8 97\r\na=rtpmap:97 telephone-event/8000\r\na=sendonly\r\n\
                 m=video 5006 RTP/AVP 99\r\na=rtpmap:99 H264/90000\r\n";
        let offered = sdp::parse(o.as_bytes());
        let a = sdp::parse(&answer(&ctx(), &offered, &SdpParams::default()));
        assert!(a.violations.is_empty(), "{:?}", a.violations);
        assert_eq!(a.media.len(), 2);
        assert_eq!(a.media[0].payload_types(), [8, 97]);
        assert_eq!(a.effective_direction(0), Direction::RecvOnly);
        assert!(a.media[1].is_disabled());
        assert_eq!(a.media[1].media, "video");
        assert!(sdp::check_answer(&offered, &a).is_empty());
    }

    #[test]
    fn no_common_codec_rejects_the_stream() {
        let o = "v=0\r\no=x 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
                 m=audio 5004 RTP/AVP 18\r\n";
        let a = sdp::parse(&answer(
            &ctx(),
            &sdp::parse(o.as_bytes()),
            &SdpParams::default(),
        ));
        assert!(a.media[0].is_disabled());
    }

    #[test]
    fn hold_and_unhold_make_new_versions() {
        let first = offer(&ctx(), &SdpParams::default());
        let held = sdp::parse(&hold(&ctx(), Some(&first), HoldStyle::SendOnly));
        assert_eq!(held.effective_direction(0), Direction::SendOnly);
        assert_eq!(held.origin.as_ref().and_then(|o| o.version()), Some(2));
        let zero = sdp::parse(&hold(&ctx(), Some(&first), HoldStyle::ZeroConnection));
        assert!(zero.effective_connection(0).unwrap().is_zero());
        let back = sdp::parse(&unhold(&ctx(), Some(zero.as_bytes())));
        assert_eq!(back.effective_direction(0), Direction::SendRecv);
        assert!(!back.effective_connection(0).unwrap().is_zero());
    }
}
