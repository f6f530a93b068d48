//! Writing the descriptions siptest sends: [`SdpBuilder`] for a fresh offer or answer, and
//! [`hold`], [`unhold`] and [`with_direction`] for the next version of an existing description
//! (RFC 3264 §8, §8.4).

use super::fields::parse_connection;
use super::model::{addrtype_of, zero_address, Direction, HoldStyle, LineEnding, Sdp};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::IpAddr;

/// One RTP payload format to offer: its payload type, rtpmap and optional fmtp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Codec {
    pub pt: u8,
    pub encoding: String,
    pub clock_rate: u32,
    pub channels: Option<u16>,
    /// The `a=fmtp` parameters, without the payload type.
    pub fmtp: Option<String>,
}

impl Codec {
    pub fn new(pt: u8, encoding: &str, clock_rate: u32) -> Codec {
        Codec {
            pt,
            encoding: encoding.to_string(),
            clock_rate,
            channels: None,
            fmtp: None,
        }
    }
    pub fn with_channels(mut self, channels: u16) -> Codec {
        self.channels = Some(channels);
        self
    }
    pub fn with_fmtp(mut self, params: &str) -> Codec {
        self.fmtp = Some(params.to_string());
        self
    }
    /// G.711 µ-law, static payload type 0 (RFC 3551).
    pub fn pcmu() -> Codec {
        Codec::new(0, "PCMU", 8000)
    }
    /// G.711 A-law, static payload type 8 (RFC 3551).
    pub fn pcma() -> Codec {
        Codec::new(8, "PCMA", 8000)
    }
    /// G.722, static payload type 9 (its RTP clock is 8000, RFC 3551 §4.5.2).
    pub fn g722() -> Codec {
        Codec::new(9, "G722", 8000)
    }
    /// G.729, static payload type 18 (RFC 3551).
    pub fn g729() -> Codec {
        Codec::new(18, "G729", 8000)
    }
    /// DTMF events (RFC 4733) on a dynamic payload type, events 0-16.
    pub fn telephone_event(pt: u8) -> Codec {
        Codec::new(pt, "telephone-event", 8000).with_fmtp("0-16")
    }
}

/// One media description to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaSpec {
    pub media: String,
    pub port: u16,
    pub proto: String,
    /// The formats, in preference order. An `m=` line needs at least one.
    pub codecs: Vec<Codec>,
    pub direction: Option<Direction>,
    /// Extra attributes, each the text after `a=` (e.g. `ptime:20`).
    pub attributes: Vec<String>,
    /// A media-level `c=` address; the session-level one is used otherwise.
    pub connection: Option<IpAddr>,
}

impl MediaSpec {
    /// `m=audio <port> RTP/AVP <codecs>`.
    pub fn audio(port: u16, codecs: Vec<Codec>) -> MediaSpec {
        MediaSpec {
            media: "audio".to_string(),
            port,
            proto: "RTP/AVP".to_string(),
            codecs,
            direction: None,
            attributes: Vec::new(),
            connection: None,
        }
    }
    pub fn direction(mut self, direction: Direction) -> MediaSpec {
        self.direction = Some(direction);
        self
    }
    /// Adds `a=<attribute>`.
    pub fn attribute(mut self, attribute: &str) -> MediaSpec {
        self.attributes.push(attribute.to_string());
        self
    }
    pub fn connection(mut self, address: IpAddr) -> MediaSpec {
        self.connection = Some(address);
        self
    }
}

/// Writes a well-formed description (RFC 8866 §5 order, CRLF line endings).
///
/// ```
/// use siptest::sdp::{Codec, Direction, MediaSpec, SdpBuilder};
/// let body = SdpBuilder::new("192.0.2.10".parse().unwrap())
///     .session(2890844526, 1)
///     .media(MediaSpec::audio(49170, vec![Codec::pcmu(), Codec::telephone_event(101)])
///         .direction(Direction::SendRecv))
///     .build();
/// assert!(siptest::sdp::parse(&body).violations.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdpBuilder {
    username: String,
    session_id: u64,
    session_version: u64,
    session_name: String,
    address: IpAddr,
    media: Vec<MediaSpec>,
}

impl SdpBuilder {
    /// A description whose o= and session-level c= use `address`. The session id and version
    /// default to 1; set real ones with [`SdpBuilder::session`].
    pub fn new(address: IpAddr) -> SdpBuilder {
        SdpBuilder {
            username: "siptest".to_string(),
            session_id: 1,
            session_version: 1,
            session_name: "siptest".to_string(),
            address,
            media: Vec::new(),
        }
    }
    /// The o= username; white space is replaced by `_`, empty becomes `-` (RFC 8866 §5.2).
    pub fn username(mut self, username: &str) -> SdpBuilder {
        self.username = username.to_string();
        self
    }
    /// The o= session id and version (RFC 8866 §5.2).
    pub fn session(mut self, id: u64, version: u64) -> SdpBuilder {
        self.session_id = id;
        self.session_version = version;
        self
    }
    /// The s= text; empty becomes `-` (RFC 8866 §5.3).
    pub fn session_name(mut self, name: &str) -> SdpBuilder {
        self.session_name = name.to_string();
        self
    }
    pub fn media(mut self, media: MediaSpec) -> SdpBuilder {
        self.media.push(media);
        self
    }
    /// Shorthand for `media(MediaSpec::audio(port, codecs))`.
    pub fn audio(self, port: u16, codecs: Vec<Codec>) -> SdpBuilder {
        self.media(MediaSpec::audio(port, codecs))
    }

    /// The description as text.
    pub fn build_string(&self) -> String {
        let mut s = String::new();
        let user: String = match self.username.as_str() {
            "" => "-".to_string(),
            u => u
                .chars()
                .map(|c| if c.is_whitespace() { '_' } else { c })
                .collect(),
        };
        let name = if self.session_name.is_empty() {
            "-"
        } else {
            &self.session_name
        };
        let name: String = name
            .chars()
            .filter(|c| !matches!(c, '\r' | '\n' | '\0'))
            .collect();
        let (ty, addr) = (addrtype_of(self.address), self.address);
        let _ = write!(s, "v=0\r\n");
        let _ = write!(
            s,
            "o={user} {} {} IN {ty} {addr}\r\n",
            self.session_id, self.session_version
        );
        let _ = write!(s, "s={name}\r\n");
        let _ = write!(s, "c=IN {ty} {addr}\r\n");
        let _ = write!(s, "t=0 0\r\n");
        for m in &self.media {
            write_media(&mut s, m);
        }
        s
    }

    /// The description as bytes.
    pub fn build(&self) -> Vec<u8> {
        self.build_string().into_bytes()
    }

    /// The description, parsed.
    pub fn build_sdp(&self) -> Sdp {
        super::parse(&self.build())
    }
}

fn write_media(s: &mut String, m: &MediaSpec) {
    let formats: Vec<String> = m.codecs.iter().map(|c| c.pt.to_string()).collect();
    let _ = write!(
        s,
        "m={} {} {} {}\r\n",
        m.media,
        m.port,
        m.proto,
        formats.join(" ")
    );
    if let Some(ip) = m.connection {
        let _ = write!(s, "c=IN {} {ip}\r\n", addrtype_of(ip));
    }
    // rtpmap for every payload type, static ones included (RFC 3264 §6.1 recommends it).
    for c in &m.codecs {
        let _ = write!(s, "a=rtpmap:{} {}/{}", c.pt, c.encoding, c.clock_rate);
        if let Some(ch) = c.channels {
            let _ = write!(s, "/{ch}");
        }
        s.push_str("\r\n");
        if let Some(f) = &c.fmtp {
            let _ = write!(s, "a=fmtp:{} {f}\r\n", c.pt);
        }
    }
    for a in &m.attributes {
        let _ = write!(s, "a={a}\r\n");
    }
    if let Some(d) = m.direction {
        let _ = write!(s, "a={d}\r\n");
    }
}

/// What to do with the c= lines when rewriting.
#[derive(Clone, Copy)]
enum ConnectionChange {
    Keep,
    /// Every c= address becomes 0.0.0.0 (IP4) or :: (IP6).
    Zero,
    /// Zero c= addresses become this one.
    Restore(IpAddr),
}

/// The next version of `sdp` holding every enabled stream the given way (RFC 3264 §8.4): the
/// o= version goes up by one, and either each enabled stream gets `a=sendonly` / `a=inactive`
/// (replacing its direction attributes and the session-level ones), or every c= address becomes
/// `0.0.0.0` (`::` for IP6) with the directions left alone.
pub fn hold(sdp: &Sdp, style: HoldStyle) -> Vec<u8> {
    match style {
        HoldStyle::SendOnly => rewrite(sdp, Some(Direction::SendOnly), ConnectionChange::Keep),
        HoldStyle::Inactive => rewrite(sdp, Some(Direction::Inactive), ConnectionChange::Keep),
        HoldStyle::ZeroConnection => rewrite(sdp, None, ConnectionChange::Zero),
    }
}

/// The next version of a held `sdp` taking it off hold: every enabled stream gets `a=sendrecv`,
/// and zero c= addresses are replaced by `address` when given (needed after a
/// [`HoldStyle::ZeroConnection`] hold, since the real address is gone).
pub fn unhold(sdp: &Sdp, address: Option<IpAddr>) -> Vec<u8> {
    let conn = address.map_or(ConnectionChange::Keep, ConnectionChange::Restore);
    rewrite(sdp, Some(Direction::SendRecv), conn)
}

/// The next version of `sdp` with every enabled stream set to `direction`.
pub fn with_direction(sdp: &Sdp, direction: Direction) -> Vec<u8> {
    rewrite(sdp, Some(direction), ConnectionChange::Keep)
}

/// Copies `sdp` line by line, changing o=, c= and direction attributes. Lines keep their own
/// endings; new lines (and a last line that had none) use the description's first ending.
fn rewrite(sdp: &Sdp, direction: Option<Direction>, conn: ConnectionChange) -> Vec<u8> {
    let eol = sdp
        .lines
        .iter()
        .map(|l| l.ending)
        .find(|e| *e != LineEnding::None)
        .unwrap_or(LineEnding::CrLf)
        .as_bytes();
    let mut out = Vec::with_capacity(sdp.as_bytes().len() + 64);
    let mut section: Option<usize> = None;
    for (idx, line) in sdp.lines.iter().enumerate() {
        if line.kind == Some(b'm') {
            section = sdp.media.iter().position(|m| m.lines.start == idx);
        }
        let enabled = !matches!(section, Some(m) if sdp.media[m].is_disabled());
        if let Some(text) = rewrite_line(sdp, idx, enabled && direction.is_some(), conn) {
            out.extend_from_slice(&text);
            out.extend_from_slice(match line.ending {
                LineEnding::None => eol,
                e => e.as_bytes(),
            });
        }
        let Some(m) = section else { continue };
        if let (Some(d), true) = (direction, sdp.media[m].lines.end == idx + 1 && enabled) {
            out.extend_from_slice(format!("a={d}").as_bytes());
            out.extend_from_slice(eol);
        }
    }
    out
}

/// One line of the rewritten description (without its ending); `None` drops it.
fn rewrite_line(
    sdp: &Sdp,
    idx: usize,
    drop_direction: bool,
    conn: ConnectionChange,
) -> Option<Cow<'_, [u8]>> {
    let line = sdp.lines[idx];
    let text = sdp.slice(line.span);
    let value = String::from_utf8_lossy(sdp.slice(line.value));
    match line.kind {
        Some(b'o') => Some(next_origin(sdp, idx).map_or(Cow::Borrowed(text), Cow::Owned)),
        Some(b'a') => {
            let name = value.split(':').next().unwrap_or_default();
            let is_dir = Direction::from_attribute(name).is_some();
            (!(drop_direction && is_dir)).then_some(Cow::Borrowed(text))
        }
        Some(b'c') => {
            let Ok(c) = parse_connection(&value, line.span) else {
                return Some(Cow::Borrowed(text));
            };
            let new = match conn {
                ConnectionChange::Zero => zero_address(&c.addrtype),
                ConnectionChange::Restore(ip) if c.is_zero() => ip,
                _ => return Some(Cow::Borrowed(text)),
            };
            let line = format!("c={} {} {new}", c.nettype, addrtype_of(new));
            Some(Cow::Owned(line.into_bytes()))
        }
        _ => Some(Cow::Borrowed(text)),
    }
}

/// The o= line at `idx` with its version incremented (RFC 3264 §8), when it is the parsed origin
/// and its version is a number that can grow.
fn next_origin(sdp: &Sdp, idx: usize) -> Option<Vec<u8>> {
    let o = sdp
        .origin
        .as_ref()
        .filter(|o| o.span == sdp.lines[idx].span)?;
    let v = o.version()?.checked_add(1)?;
    let line = format!(
        "o={} {} {v} {} {} {}",
        o.username, o.sess_id, o.nettype, o.addrtype, o.address
    );
    Some(line.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdp::offer_answer::check_reoffer;
    use crate::sdp::parse;
    use crate::sdp::tests::crlf;

    fn offer(address: &str) -> Vec<u8> {
        SdpBuilder::new(address.parse().unwrap())
            .session(2890844526, 1)
            .media(
                MediaSpec::audio(
                    49170,
                    vec![Codec::pcmu(), Codec::pcma(), Codec::telephone_event(101)],
                )
                .attribute("ptime:20")
                .direction(Direction::SendRecv),
            )
            .build()
    }

    #[test]
    fn builder_output_is_clean() {
        let body = offer("192.0.2.10");
        let text = String::from_utf8(body.clone()).unwrap();
        assert_eq!(
            text,
            "v=0\r\no=siptest 2890844526 1 IN IP4 192.0.2.10\r\ns=siptest\r\nc=IN IP4 192.0.2.10\r\n\
             t=0 0\r\nm=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
        );
        let sdp = parse(&body);
        assert!(sdp.violations.is_empty(), "{:?}", sdp.violations);
        assert_eq!(
            sdp.media[0].codec_names(),
            ["PCMU", "PCMA", "telephone-event"]
        );
        let v6 = parse(&offer("2001:db8::10"));
        assert!(v6.violations.is_empty(), "{:?}", v6.violations);
        assert_eq!(v6.connection.as_ref().unwrap().addrtype, "IP6");
    }

    #[test]
    fn builder_options_stay_clean() {
        let sdp = SdpBuilder::new("192.0.2.10".parse().unwrap())
            .username("two words")
            .session_name("")
            .audio(
                5004,
                vec![Codec::g722(), Codec::g729().with_fmtp("annexb=no")],
            )
            .media(
                MediaSpec::audio(0, vec![Codec::new(111, "opus", 48000).with_channels(2)])
                    .connection("2001:db8::1".parse().unwrap())
                    .direction(Direction::Inactive),
            )
            .build_sdp();
        assert!(sdp.violations.is_empty(), "{:?}", sdp.violations);
        assert_eq!(sdp.origin.as_ref().unwrap().username, "two_words");
        assert_eq!(sdp.session_name.as_deref(), Some("-"));
        assert!(sdp.media[1].is_disabled());
        assert_eq!(sdp.media[1].rtpmaps()[0].channels, Some(2));
        assert_eq!(sdp.media[0].fmtp("18"), Some("annexb=no"));
    }

    #[test]
    fn hold_variants() {
        let original = parse(&offer("192.0.2.10"));
        for style in [
            HoldStyle::SendOnly,
            HoldStyle::Inactive,
            HoldStyle::ZeroConnection,
        ] {
            let held = parse(&hold(&original, style));
            assert!(
                held.violations.is_empty(),
                "{style:?}: {:?}",
                held.violations
            );
            assert_eq!(held.origin.as_ref().unwrap().version(), Some(2));
            assert_eq!(held.hold_style(0), Some(style));
            assert_eq!(check_reoffer(&original, &held), []);
            let back = parse(&unhold(&held, Some("192.0.2.10".parse().unwrap())));
            assert!(back.violations.is_empty(), "{:?}", back.violations);
            assert_eq!(back.hold_style(0), None);
            assert_eq!(back.effective_direction(0), Direction::SendRecv);
            assert_eq!(back.origin.as_ref().unwrap().version(), Some(3));
            assert_eq!(back.connection.as_ref().unwrap().address, "192.0.2.10");
            assert_eq!(check_reoffer(&held, &back), []);
        }
        let held = parse(&hold(&original, HoldStyle::ZeroConnection));
        assert_eq!(held.connection.as_ref().unwrap().address, "0.0.0.0");
        // Unhold without an address leaves the zero address alone.
        let still = parse(&unhold(&held, None));
        assert_eq!(still.hold_style(0), Some(HoldStyle::ZeroConnection));
        let v6 = parse(&hold(
            &parse(&offer("2001:db8::10")),
            HoldStyle::ZeroConnection,
        ));
        assert_eq!(v6.connection.as_ref().unwrap().address, "::");
        assert_eq!(v6.hold_style(0), Some(HoldStyle::ZeroConnection));
    }

    #[test]
    fn hold_rewrites_only_what_it_must() {
        let body = "v=0\no=alice 5 41 IN IP4 192.0.2.1\ns=call\nc=IN IP4 192.0.2.1\nt=0 0\n\
                    a=recvonly\nm=audio 5004 RTP/AVP 0\na=x-odd:  kept  \nm=video 0 RTP/AVP 31\n\
                    a=sendrecv\nm=application 9 TCP/BFCP *\na=floorctrl:c-s\n";
        for input in [body.as_bytes().to_vec(), crlf(body)] {
            let sdp = parse(&input);
            let out = with_direction(&sdp, Direction::Inactive);
            let text = String::from_utf8(out.clone())
                .unwrap()
                .replace("\r\n", "\n");
            assert_eq!(
                text,
                "v=0\no=alice 5 42 IN IP4 192.0.2.1\ns=call\nc=IN IP4 192.0.2.1\nt=0 0\n\
                 m=audio 5004 RTP/AVP 0\na=x-odd:  kept  \na=inactive\nm=video 0 RTP/AVP 31\n\
                 a=sendrecv\nm=application 9 TCP/BFCP *\na=floorctrl:c-s\na=inactive\n"
            );
            // Line endings follow the input.
            assert_eq!(
                out.windows(2).any(|w| w == b"\r\n"),
                input.windows(2).any(|w| w == b"\r\n")
            );
        }
        // A last line without an ending gets one.
        let mut raw = crlf(body);
        raw.truncate(raw.len() - 2);
        let out = parse(&hold(&parse(&raw), HoldStyle::SendOnly));
        assert!(out.violations.is_empty(), "{:?}", out.violations);
        assert_eq!(out.hold_style(2), Some(HoldStyle::SendOnly));
    }
}
