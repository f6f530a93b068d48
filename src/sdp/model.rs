//! The SDP data model: a session description that keeps every byte it was parsed from, with
//! typed views over the fields siptest reasons about (RFC 8866 §5).

use crate::rule::{Span, Violation};
use serde::Serialize;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

/// How a line ended in the original bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LineEnding {
    /// `\r\n`, as RFC 8866 §5 requires.
    CrLf,
    /// A bare `\n`, which parsers tolerate.
    Lf,
    /// The last line of the body, without a line ending.
    None,
}

impl LineEnding {
    /// The bytes of the line ending.
    pub const fn as_bytes(self) -> &'static [u8] {
        match self {
            LineEnding::CrLf => b"\r\n",
            LineEnding::Lf => b"\n",
            LineEnding::None => b"",
        }
    }
}

/// One line of the description, as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Line {
    /// The type letter, when the line has the form `<letter>=...`; `None` for a malformed line.
    pub kind: Option<u8>,
    /// The line without its line ending.
    pub span: Span,
    /// The text after `<type>=`; the whole line when `kind` is `None`.
    pub value: Span,
    pub ending: LineEnding,
}

impl Line {
    /// The line with its line ending.
    pub const fn full_span(&self) -> Span {
        Span::new(
            self.span.start,
            self.span.end + self.ending.as_bytes().len(),
        )
    }
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (RFC 8866 §5.2).
/// Numbers are kept as written; see [`Origin::version`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    pub username: String,
    pub sess_id: String,
    pub sess_version: String,
    pub nettype: String,
    pub addrtype: String,
    pub address: String,
    pub span: Span,
}

impl Origin {
    /// The session version as a number, when it is one.
    pub fn version(&self) -> Option<u64> {
        self.sess_version.parse().ok()
    }
    /// Everything that must stay the same across a session (all fields but the version,
    /// RFC 3264 §8).
    pub fn identity(&self) -> [&str; 5] {
        [
            &self.username,
            &self.sess_id,
            &self.nettype,
            &self.addrtype,
            &self.address,
        ]
    }
}

/// `c=<nettype> <addrtype> <connection-address>` (RFC 8866 §5.7). For multicast the TTL (IPv4)
/// and the number of addresses are split off `address`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Connection {
    pub nettype: String,
    pub addrtype: String,
    /// The address without any `/ttl/count` suffix: an IP address or a domain name.
    pub address: String,
    pub ttl: Option<u8>,
    pub count: Option<u32>,
    pub span: Span,
}

impl Connection {
    /// The address as an IP address, when it is one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.address.parse().ok()
    }
    /// True for `0.0.0.0` and `::` (and `::ffff:0.0.0.0`): the RFC 2543 way of putting a stream
    /// on hold (RFC 3264 §8.4).
    pub fn is_zero(&self) -> bool {
        match self.ip() {
            Some(IpAddr::V4(a)) => a.is_unspecified(),
            Some(IpAddr::V6(a)) => {
                a.is_unspecified() || a.to_ipv4_mapped().is_some_and(|m| m.is_unspecified())
            }
            None => false,
        }
    }
}

/// `b=<bwtype>:<bandwidth>` (RFC 8866 §5.8).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Bandwidth {
    pub bwtype: String,
    pub bandwidth: u64,
    pub span: Span,
}

/// `t=<start-time> <stop-time>` (RFC 8866 §5.9). `0 0` means unbounded.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Timing {
    pub start: u64,
    pub stop: u64,
    pub span: Span,
}

/// `a=<name>[:<value>]` (RFC 8866 §5.13). The value is kept exactly as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Attribute {
    pub name: String,
    pub value: Option<String>,
    /// The whole `a=` line, without its line ending.
    pub span: Span,
}

/// The media direction attributes (RFC 8866 §6.7, RFC 3264 §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    pub const ALL: [Direction; 4] = [
        Direction::SendRecv,
        Direction::SendOnly,
        Direction::RecvOnly,
        Direction::Inactive,
    ];

    /// The attribute name (`sendrecv`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction an attribute name stands for (names are case-sensitive, RFC 8866 §5.13).
    pub fn from_attribute(name: &str) -> Option<Direction> {
        Direction::ALL.into_iter().find(|d| d.as_str() == name)
    }

    /// The same stream seen from the other end: sendonly and recvonly swap.
    pub const fn reversed(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            d => d,
        }
    }

    pub const fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    pub const fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a description puts a stream on hold.
///
/// `recvonly` is not a hold style: RFC 3264 §8.4 holds a sendrecv stream with `sendonly` and a
/// recvonly stream with `inactive`, and a recvonly offer asks the peer to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HoldStyle {
    /// `a=sendonly` (RFC 3264 §8.4).
    SendOnly,
    /// `a=inactive` (RFC 3264 §8.4).
    Inactive,
    /// `c=IN IP4 0.0.0.0` (or `c=IN IP6 ::`): the RFC 2543 style RFC 3264 §8.4 still mentions
    /// for backward compatibility.
    ZeroConnection,
}

/// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]`
/// (RFC 8866 §6.6), or the implied mapping of a static payload type (RFC 3551 §6).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RtpMap {
    pub pt: u8,
    pub encoding: String,
    pub clock_rate: u32,
    /// The encoding parameters; for audio, the number of channels.
    pub channels: Option<u16>,
}

/// The static audio and video payload types of RFC 3551 §6 (Tables 4 and 5).
const STATIC_PAYLOAD_TYPES: &[(u8, &str, u32, Option<u16>)] = &[
    (0, "PCMU", 8000, Some(1)),
    (3, "GSM", 8000, Some(1)),
    (4, "G723", 8000, Some(1)),
    (5, "DVI4", 8000, Some(1)),
    (6, "DVI4", 16000, Some(1)),
    (7, "LPC", 8000, Some(1)),
    (8, "PCMA", 8000, Some(1)),
    (9, "G722", 8000, Some(1)),
    (10, "L16", 44100, Some(2)),
    (11, "L16", 44100, Some(1)),
    (12, "QCELP", 8000, Some(1)),
    (13, "CN", 8000, Some(1)),
    (14, "MPA", 90000, None),
    (15, "G728", 8000, Some(1)),
    (16, "DVI4", 11025, Some(1)),
    (17, "DVI4", 22050, Some(1)),
    (18, "G729", 8000, Some(1)),
    (25, "CelB", 90000, None),
    (26, "JPEG", 90000, None),
    (28, "nv", 90000, None),
    (31, "H261", 90000, None),
    (32, "MPV", 90000, None),
    (33, "MP2T", 90000, None),
    (34, "H263", 90000, None),
];

impl RtpMap {
    /// The mapping a static payload type implies when no rtpmap is given.
    pub fn static_payload_type(pt: u8) -> Option<RtpMap> {
        STATIC_PAYLOAD_TYPES
            .iter()
            .find(|e| e.0 == pt)
            .map(|&(pt, name, clock_rate, channels)| RtpMap {
                pt,
                encoding: name.to_string(),
                clock_rate,
                channels,
            })
    }

    /// True when both name the same codec: encoding name (case-insensitive, RFC 4855 §3), clock
    /// rate and channel count (absent means one).
    pub fn same_codec(&self, other: &RtpMap) -> bool {
        self.encoding.eq_ignore_ascii_case(&other.encoding)
            && self.clock_rate == other.clock_rate
            && self.channels.unwrap_or(1) == other.channels.unwrap_or(1)
    }

    /// Parses the value of an `a=rtpmap:` attribute (after the colon).
    pub fn parse(value: &str) -> Result<RtpMap, String> {
        let (pt, rest) = value
            .split_once(' ')
            .ok_or("expected `<payload type> <encoding>/<clock rate>`")?;
        let pt = parse_payload_type(pt)?;
        let mut parts = rest.split('/');
        let encoding = parts.next().unwrap_or_default();
        if !super::fields::is_token(encoding) {
            return Err(format!("encoding name `{encoding}` is not a token"));
        }
        let clock = parts.next().ok_or("missing `/<clock rate>`")?;
        let clock_rate = parse_decimal::<u32>(clock)
            .filter(|&c| c > 0)
            .ok_or_else(|| format!("clock rate `{clock}` is not a positive number"))?;
        let channels = match parts.next() {
            None => None,
            Some(p) => Some(
                parse_decimal::<u16>(p)
                    .filter(|&c| c > 0)
                    .ok_or_else(|| format!("encoding parameter `{p}` is not a channel count"))?,
            ),
        };
        if parts.next().is_some() {
            return Err("too many `/` parts".into());
        }
        Ok(RtpMap {
            pt,
            encoding: encoding.to_string(),
            clock_rate,
            channels,
        })
    }
}

/// Parses an RTP payload type: a decimal number from 0 to 127 (RFC 3550 §5.1).
pub fn parse_payload_type(s: &str) -> Result<u8, String> {
    parse_decimal::<u8>(s)
        .filter(|&pt| pt <= 127)
        .ok_or_else(|| format!("payload type `{s}` is not a number from 0 to 127"))
}

/// A non-empty run of ASCII digits as a number (no sign, no spaces).
pub fn parse_decimal<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// One media description: an `m=` line and the lines up to the next `m=` (RFC 8866 §5.14).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaDescription {
    /// `audio`, `video`, `text`, `application`, `message`, `image`, ...
    pub media: String,
    /// The transport port; 0 when the stream is disabled, or when the port did not parse (an
    /// `sdp.media.invalid` violation is reported then).
    pub port: u16,
    pub port_count: Option<u16>,
    pub proto: String,
    pub formats: Vec<String>,
    pub information: Option<String>,
    /// Media-level `c=` lines (several are allowed for multicast).
    pub connections: Vec<Connection>,
    pub bandwidths: Vec<Bandwidth>,
    pub attributes: Vec<Attribute>,
    /// The whole section, from `m` to the end of its last line ending.
    pub span: Span,
    /// The `m=` line, without its line ending.
    pub m_line: Span,
    /// Indices into [`Sdp::lines`] of the section's lines.
    pub lines: Range<usize>,
}

impl MediaDescription {
    /// Port 0: the stream is rejected or removed (RFC 3264 §6, §8.2).
    pub fn is_disabled(&self) -> bool {
        self.port == 0
    }

    /// True for the RTP profiles (`RTP/AVP`, `RTP/SAVPF`, `UDP/TLS/RTP/SAVPF`, ...), whose formats
    /// are payload type numbers (RFC 8866 §5.14).
    pub fn is_rtp(&self) -> bool {
        self.proto.split('/').any(|p| p == "RTP")
    }

    /// The first media-level `c=`.
    pub fn connection(&self) -> Option<&Connection> {
        self.connections.first()
    }

    /// The media-level attributes called `name`.
    pub fn attributes_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Attribute> {
        self.attributes.iter().filter(move |a| a.name == name)
    }

    /// The first media-level attribute called `name`.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The first media-level direction attribute.
    pub fn direction(&self) -> Option<Direction> {
        direction_of(&self.attributes)
    }

    /// The well-formed `a=rtpmap` lines, in order.
    pub fn rtpmaps(&self) -> Vec<RtpMap> {
        self.attributes_named("rtpmap")
            .filter_map(|a| RtpMap::parse(a.value.as_deref()?).ok())
            .collect()
    }

    /// The `a=fmtp` parameters for a format (`a=fmtp:<fmt> <parameters>`).
    pub fn fmtp(&self, format: &str) -> Option<&str> {
        self.attributes_named("fmtp").find_map(|a| {
            let (fmt, params) = a.value.as_deref()?.split_once(' ')?;
            (fmt == format).then_some(params)
        })
    }

    /// The codec a payload type stands for: its rtpmap, else the static assignment.
    pub fn encoding(&self, pt: u8) -> Option<RtpMap> {
        self.rtpmaps()
            .into_iter()
            .find(|m| m.pt == pt)
            .or_else(|| RtpMap::static_payload_type(pt))
    }

    /// The formats as payload type numbers (RTP only; formats that are not numbers are skipped).
    pub fn payload_types(&self) -> Vec<u8> {
        if !self.is_rtp() {
            return Vec::new();
        }
        self.formats
            .iter()
            .filter_map(|f| parse_payload_type(f).ok())
            .collect()
    }

    /// The codec names in `m=` order: rtpmap names, or the static assignment when there is no
    /// rtpmap; formats that name neither are skipped. Empty for non-RTP media.
    pub fn codec_names(&self) -> Vec<String> {
        let maps = self.rtpmaps();
        self.payload_types()
            .into_iter()
            .filter_map(|pt| {
                maps.iter()
                    .find(|m| m.pt == pt)
                    .map(|m| m.encoding.clone())
                    .or_else(|| RtpMap::static_payload_type(pt).map(|m| m.encoding))
            })
            .collect()
    }
}

/// The first direction attribute in a list.
pub(crate) fn direction_of(attributes: &[Attribute]) -> Option<Direction> {
    attributes
        .iter()
        .find_map(|a| Direction::from_attribute(&a.name))
}

/// A parsed session description. `as_bytes()` returns exactly the bytes it was parsed from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sdp {
    pub(crate) raw: Vec<u8>,
    /// Every line, in order; their full spans cover the body without gaps.
    pub lines: Vec<Line>,
    /// The `v=` value, when it is a number.
    pub version: Option<u32>,
    pub origin: Option<Origin>,
    pub session_name: Option<String>,
    pub information: Option<String>,
    /// The session-level `c=`.
    pub connection: Option<Connection>,
    pub bandwidths: Vec<Bandwidth>,
    pub times: Vec<Timing>,
    /// Session-level attributes.
    pub attributes: Vec<Attribute>,
    pub media: Vec<MediaDescription>,
    /// Everything wrong with the description, spans relative to the start of the body.
    pub violations: Vec<Violation>,
}

impl Sdp {
    pub(crate) fn empty(raw: &[u8]) -> Sdp {
        Sdp {
            raw: raw.to_vec(),
            lines: Vec::new(),
            version: None,
            origin: None,
            session_name: None,
            information: None,
            connection: None,
            bandwidths: Vec::new(),
            times: Vec::new(),
            attributes: Vec::new(),
            media: Vec::new(),
            violations: Vec::new(),
        }
    }

    /// The bytes the description was parsed from.
    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// The bytes under a span (empty when the span is out of range).
    pub fn slice(&self, span: Span) -> &[u8] {
        self.raw.get(span.range()).unwrap_or_default()
    }

    /// The lines of one type letter.
    pub fn lines_of(&self, kind: u8) -> impl Iterator<Item = &Line> {
        self.lines.iter().filter(move |l| l.kind == Some(kind))
    }

    /// The first session-level attribute called `name`.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The session-level direction attribute, if any.
    pub fn direction(&self) -> Option<Direction> {
        direction_of(&self.attributes)
    }

    /// The direction of a media stream: its own attribute, else the session-level one, else
    /// sendrecv (RFC 3264 §5.1, RFC 8866 §6.7).
    pub fn effective_direction(&self, media_index: usize) -> Direction {
        self.media
            .get(media_index)
            .and_then(MediaDescription::direction)
            .or_else(|| self.direction())
            .unwrap_or(Direction::SendRecv)
    }

    /// The connection of a media stream: its own `c=`, else the session-level one (RFC 8866 §5.7).
    pub fn effective_connection(&self, media_index: usize) -> Option<&Connection> {
        self.media
            .get(media_index)?
            .connection()
            .or(self.connection.as_ref())
    }

    /// How the stream signals hold, read as an offer from the party holding: a zero connection
    /// address first (RFC 2543 style), then `sendonly` or `inactive` (RFC 3264 §8.4). `None` for a
    /// stream that is not held, for a disabled stream and for an index out of range.
    pub fn hold_style(&self, media_index: usize) -> Option<HoldStyle> {
        let m = self.media.get(media_index)?;
        if m.is_disabled() {
            return None;
        }
        // RFC 3264 §8.4: c=0.0.0.0 is the RFC 2543 hold, kept for backward compatibility.
        if self
            .effective_connection(media_index)
            .is_some_and(Connection::is_zero)
        {
            return Some(HoldStyle::ZeroConnection);
        }
        match self.effective_direction(media_index) {
            Direction::SendOnly => Some(HoldStyle::SendOnly),
            Direction::Inactive => Some(HoldStyle::Inactive),
            Direction::SendRecv | Direction::RecvOnly => None,
        }
    }

    /// True when some enabled stream signals hold.
    pub fn is_hold(&self) -> bool {
        (0..self.media.len()).any(|i| self.hold_style(i).is_some())
    }
}

/// The address type (`IP4`/`IP6`) for an IP address.
pub fn addrtype_of(ip: IpAddr) -> &'static str {
    match ip {
        IpAddr::V4(_) => "IP4",
        IpAddr::V6(_) => "IP6",
    }
}

/// The unspecified address of an address type (`0.0.0.0` for IP4, `::` for IP6).
pub fn zero_address(addrtype: &str) -> IpAddr {
    if addrtype == "IP6" {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    }
}
