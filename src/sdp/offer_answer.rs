//! The offer/answer relations of RFC 3264: what an answer may say given its offer (§6), and how a
//! new description must relate to the previous one in the same session (§8).
//!
//! Results are structured ([`OfferAnswerProblem`] with a [`ProblemKind`] and its [`Rule`]) so that
//! a classifier can reason about them; [`OfferAnswerProblem::to_violation`] gives the usual
//! [`Violation`] with a span in the answer (or the new description).

use super::model::{Direction, MediaDescription, RtpMap, Sdp};
use super::rules::*;
use crate::rule::{Rule, Span, Violation};
use std::fmt;

/// The directions an answer may use for a stream offered with `offer` (RFC 3264 §6.1).
pub fn allowed_answer_directions(offer: Direction) -> &'static [Direction] {
    use Direction::*;
    match offer {
        SendOnly => &[RecvOnly, Inactive],
        RecvOnly => &[SendOnly, Inactive],
        SendRecv => &[SendRecv, SendOnly, RecvOnly, Inactive],
        Inactive => &[Inactive],
    }
}

/// True when `answer` is an allowed answer direction for `offer` (RFC 3264 §6.1).
pub fn is_allowed_answer_direction(offer: Direction, answer: Direction) -> bool {
    allowed_answer_directions(offer).contains(&answer)
}

/// What is wrong between two descriptions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// RFC 3264 §6: the answer has as many m= lines as the offer.
    MediaCount { offer: usize, answer: usize },
    /// RFC 3264 §6: the m= line at a position answers the offered one, with the same media type.
    MediaType { offer: String, answer: String },
    /// RFC 3264 §6.1: the answer direction is not one [`allowed_answer_directions`] allows.
    Direction { offer: Direction, answer: Direction },
    /// RFC 3264 §8.2: a stream offered with port 0 is answered with a non-zero port.
    PortNotZero { port: u16 },
    /// RFC 3264 §6.1: an accepted stream lists nothing the offer listed.
    NoCommonFormat,
    /// RFC 3264 §6.1: a codec offered as `offer_pt` is answered as `answer_pt` (a SHOULD).
    PayloadTypeChanged {
        encoding: String,
        offer_pt: u8,
        answer_pt: u8,
    },
    /// RFC 3264 §6.1: the answer uses an offered payload type number for another codec.
    PayloadTypeConflict {
        pt: u8,
        offer_encoding: String,
        answer_encoding: String,
    },
    /// RFC 3264 §6.1: the answer must carry a=rtpmap for the dynamic payload types it uses.
    RtpmapMissing { pt: u8 },
    /// RFC 3264 §8: a changed description increments the o= version by exactly one.
    Version { previous: String, next: String },
    /// RFC 3264 §8: only the o= version may change within a session.
    OriginChanged {
        field: &'static str,
        previous: String,
        next: String,
    },
    /// RFC 3264 §8: m= lines are never removed (only disabled with port 0).
    MediaRemoved { previous: usize, next: usize },
}

impl ProblemKind {
    /// The rule this problem is an occurrence of (its id, level, severity and RFC section).
    pub fn rule(&self) -> &'static Rule {
        match self {
            ProblemKind::MediaCount { .. } => &ANSWER_MEDIA_COUNT,
            ProblemKind::MediaType { .. } => &ANSWER_MEDIA_TYPE,
            ProblemKind::Direction { .. } => &ANSWER_DIRECTION,
            ProblemKind::PortNotZero { .. } => &ANSWER_PORT_ZERO,
            ProblemKind::NoCommonFormat => &ANSWER_NO_COMMON_FORMAT,
            ProblemKind::PayloadTypeChanged { .. } => &ANSWER_PT_CHANGED,
            ProblemKind::PayloadTypeConflict { .. } => &ANSWER_PT_CONFLICT,
            ProblemKind::RtpmapMissing { .. } => &ANSWER_RTPMAP_MISSING,
            ProblemKind::Version { .. } => &REOFFER_VERSION,
            ProblemKind::OriginChanged { .. } => &REOFFER_ORIGIN,
            ProblemKind::MediaRemoved { .. } => &REOFFER_MEDIA_REMOVED,
        }
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::MediaCount { offer, answer } => {
                write!(f, "the offer has {offer} m= lines, the answer {answer}")
            }
            ProblemKind::MediaType { offer, answer } => {
                write!(f, "offered m={offer} answered with m={answer}")
            }
            ProblemKind::Direction { offer, answer } => {
                let allowed: Vec<&str> =
                    allowed_answer_directions(*offer).iter().map(|d| d.as_str()).collect();
                write!(f, "{offer} answered with {answer} (allowed: {})", allowed.join(", "))
            }
            ProblemKind::PortNotZero { port } => {
                write!(f, "stream offered with port 0 answered with port {port}")
            }
            ProblemKind::NoCommonFormat => {
                write!(f, "the accepted stream lists no format from the offer")
            }
            ProblemKind::PayloadTypeChanged { encoding, offer_pt, answer_pt } => write!(
                f,
                "{encoding} offered as payload type {offer_pt} answered as {answer_pt}"
            ),
            ProblemKind::PayloadTypeConflict { pt, offer_encoding, answer_encoding } => write!(
                f,
                "payload type {pt} is {offer_encoding} in the offer but {answer_encoding} in the answer"
            ),
            ProblemKind::RtpmapMissing { pt } => {
                write!(f, "dynamic payload type {pt} has no a=rtpmap in the answer")
            }
            ProblemKind::Version { previous, next } => write!(
                f,
                "o= version went from {previous} to {next} (must be +1 when the description changes)"
            ),
            ProblemKind::OriginChanged { field, previous, next } => {
                write!(f, "o= {field} changed from `{previous}` to `{next}`")
            }
            ProblemKind::MediaRemoved { previous, next } => {
                write!(f, "{previous} m= lines before, {next} now")
            }
        }
    }
}

/// One problem between two descriptions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferAnswerProblem {
    pub kind: ProblemKind,
    /// The m= line position concerned; `None` for whole-description problems.
    pub media_index: Option<usize>,
    /// Where it shows, in the answer (or the new description).
    pub span: Span,
}

impl OfferAnswerProblem {
    pub fn rule(&self) -> &'static Rule {
        self.kind.rule()
    }
    /// The RFC section, e.g. `RFC 3264 §6.1`.
    pub fn rfc(&self) -> &'static str {
        self.kind.rule().rfc
    }
    pub fn to_violation(&self) -> Violation {
        let detail = match self.media_index {
            Some(i) => format!("m= #{i}: {}", self.kind),
            None => self.kind.to_string(),
        };
        Violation::new(self.rule(), self.span, detail)
    }
}

impl fmt::Display for OfferAnswerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_violation().fmt(f)
    }
}

struct Problems(Vec<OfferAnswerProblem>);

impl Problems {
    fn push(&mut self, kind: ProblemKind, media_index: Option<usize>, span: Span) {
        self.0.push(OfferAnswerProblem {
            kind,
            media_index,
            span,
        });
    }
}

/// Checks an answer against its offer (RFC 3264 §6, §6.1, §8.2).
pub fn check_answer(offer: &Sdp, answer: &Sdp) -> Vec<OfferAnswerProblem> {
    let mut out = Problems(Vec::new());
    if offer.media.len() != answer.media.len() {
        // RFC 3264 §6: the answer has exactly as many m= lines as the offer.
        let kind = ProblemKind::MediaCount {
            offer: offer.media.len(),
            answer: answer.media.len(),
        };
        out.push(kind, None, Span::new(0, answer.as_bytes().len()));
    }
    for i in 0..offer.media.len().min(answer.media.len()) {
        check_stream(offer, answer, i, &mut out);
    }
    out.0
}

fn check_stream(offer: &Sdp, answer: &Sdp, i: usize, out: &mut Problems) {
    let (o, a) = (&offer.media[i], &answer.media[i]);
    let at = a.m_line;
    if o.media != a.media {
        // RFC 3264 §6: each answer m= line answers the offered one at the same position.
        let kind = ProblemKind::MediaType {
            offer: o.media.clone(),
            answer: a.media.clone(),
        };
        out.push(kind, Some(i), at);
        // The streams do not correspond: comparing their formats would only add noise.
        return;
    }
    if o.is_disabled() {
        // RFC 3264 §8.2: "A stream that is offered with a port of zero MUST be marked with port
        // zero in the answer."
        if !a.is_disabled() {
            out.push(ProblemKind::PortNotZero { port: a.port }, Some(i), at);
        }
        return;
    }
    if a.is_disabled() {
        // RFC 3264 §6: a rejected stream (port 0) makes no further promise.
        return;
    }
    let (od, ad) = (offer.effective_direction(i), answer.effective_direction(i));
    // RFC 3264 §6.1: the direction table.
    if !is_allowed_answer_direction(od, ad) {
        let span = direction_span(answer, a).unwrap_or(at);
        let kind = ProblemKind::Direction {
            offer: od,
            answer: ad,
        };
        out.push(kind, Some(i), span);
    }
    if o.is_rtp() && a.is_rtp() {
        check_payload_types(o, a, i, out);
    } else if !a.formats.iter().any(|f| o.formats.contains(f)) {
        // RFC 3264 §6.1: an accepted stream uses formats from the offer.
        out.push(ProblemKind::NoCommonFormat, Some(i), at);
    }
}

/// The span of the direction attribute that decides a stream's direction.
fn direction_span(sdp: &Sdp, m: &MediaDescription) -> Option<Span> {
    let is_dir = |a: &&super::model::Attribute| Direction::from_attribute(&a.name).is_some();
    m.attributes
        .iter()
        .find(is_dir)
        .or_else(|| sdp.attributes.iter().find(is_dir))
        .map(|a| a.span)
}

/// RFC 3264 §6.1 for RTP: at least one offered codec, the same payload type numbers for the same
/// codecs (SHOULD), rtpmap for every dynamic payload type (MUST).
fn check_payload_types(o: &MediaDescription, a: &MediaDescription, i: usize, out: &mut Problems) {
    let at = a.m_line;
    let offered: Vec<(u8, Option<RtpMap>)> = o
        .payload_types()
        .into_iter()
        .map(|pt| (pt, o.encoding(pt)))
        .collect();
    let answer_maps = a.rtpmaps();
    let mut common = false;
    for pt in a.payload_types() {
        if (96..=127).contains(&pt) && !answer_maps.iter().any(|m| m.pt == pt) {
            out.push(ProblemKind::RtpmapMissing { pt }, Some(i), at);
        }
        let answered = a.encoding(pt);
        let same_pt = offered.iter().find(|(p, _)| *p == pt);
        let same_codec = answered.as_ref().and_then(|enc| {
            offered
                .iter()
                .find(|(_, e)| e.as_ref().is_some_and(|e| e.same_codec(enc)))
        });
        match (same_pt, &answered) {
            (Some((_, Some(oe))), Some(ae)) if !oe.same_codec(ae) => {
                let kind = ProblemKind::PayloadTypeConflict {
                    pt,
                    offer_encoding: describe(oe),
                    answer_encoding: describe(ae),
                };
                out.push(kind, Some(i), at);
            }
            (Some(_), _) => common = true,
            (None, _) => {}
        }
        if let (Some((offer_pt, _)), Some(ae)) = (same_codec, &answered) {
            common = true;
            if *offer_pt != pt {
                let kind = ProblemKind::PayloadTypeChanged {
                    encoding: describe(ae),
                    offer_pt: *offer_pt,
                    answer_pt: pt,
                };
                out.push(kind, Some(i), at);
            }
        }
    }
    if !common {
        out.push(ProblemKind::NoCommonFormat, Some(i), at);
    }
}

fn describe(m: &RtpMap) -> String {
    match m.channels {
        Some(c) if c != 1 => format!("{}/{}/{c}", m.encoding, m.clock_rate),
        _ => format!("{}/{}", m.encoding, m.clock_rate),
    }
}

/// Checks a new description against the previous one sent by the same party in the same session
/// (RFC 3264 §8): same o= apart from the version, version +1 when anything changed, no m= line
/// removed.
pub fn check_reoffer(previous: &Sdp, next: &Sdp) -> Vec<OfferAnswerProblem> {
    let mut out = Problems(Vec::new());
    if let (Some(p), Some(n)) = (&previous.origin, &next.origin) {
        const NAMES: [&str; 5] = ["username", "sess-id", "nettype", "addrtype", "address"];
        let changed = p.identity().into_iter().zip(n.identity()).zip(NAMES);
        if let Some(((pv, nv), field)) = changed.into_iter().find(|((pv, nv), _)| pv != nv) {
            let kind = ProblemKind::OriginChanged {
                field,
                previous: pv.to_string(),
                next: nv.to_string(),
            };
            out.push(kind, None, n.span);
        }
        let ok = match (p.version(), n.version()) {
            (Some(pv), Some(nv)) if pv == nv => same_apart_from_origin(previous, next),
            (Some(pv), Some(nv)) => pv.checked_add(1) == Some(nv),
            _ => true,
        };
        if !ok {
            let kind = ProblemKind::Version {
                previous: p.sess_version.clone(),
                next: n.sess_version.clone(),
            };
            out.push(kind, None, n.span);
        }
    }
    if next.media.len() < previous.media.len() {
        let kind = ProblemKind::MediaRemoved {
            previous: previous.media.len(),
            next: next.media.len(),
        };
        out.push(kind, None, Span::new(0, next.as_bytes().len()));
    }
    out.0
}

/// True when both descriptions have the same lines, o= aside (line endings ignored).
fn same_apart_from_origin(a: &Sdp, b: &Sdp) -> bool {
    let content = |s: &Sdp| -> Vec<Vec<u8>> {
        s.lines
            .iter()
            .filter(|l| l.kind != Some(b'o'))
            .map(|l| s.slice(l.span).to_vec())
            .collect()
    };
    content(a) == content(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdp::parse;
    use crate::sdp::tests::{crlf, OFFER};

    fn sdp(media: &str) -> Sdp {
        parse(&crlf(&format!(
            "v=0\no=- 7 7 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n{media}"
        )))
    }

    fn kinds(p: &[OfferAnswerProblem]) -> Vec<&'static str> {
        p.iter().map(|p| p.rule().id).collect()
    }

    const ANSWER: &str = "v=0
o=bob 2808844564 2808844564 IN IP4 192.0.2.201
s=-
c=IN IP4 192.0.2.201
t=0 0
m=audio 49174 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 0 RTP/AVP 32
a=rtpmap:32 MPV/90000
";

    #[test]
    fn typical_answer_is_fine() {
        let (o, a) = (parse(&crlf(OFFER)), parse(&crlf(ANSWER)));
        assert!(a.violations.is_empty(), "{:?}", a.violations);
        assert_eq!(check_answer(&o, &a), []);
    }

    #[test]
    fn direction_table_both_ways() {
        use Direction::*;
        let table = [
            (SendOnly, vec![RecvOnly, Inactive]),
            (RecvOnly, vec![SendOnly, Inactive]),
            (SendRecv, vec![SendRecv, SendOnly, RecvOnly, Inactive]),
            (Inactive, vec![Inactive]),
        ];
        for (offered, allowed) in table {
            assert_eq!(allowed_answer_directions(offered), allowed.as_slice());
            for answered in Direction::ALL {
                let o = sdp(&format!("m=audio 5004 RTP/AVP 0\na={offered}\n"));
                let a = sdp(&format!("m=audio 6004 RTP/AVP 0\na={answered}\n"));
                let problems = check_answer(&o, &a);
                if allowed.contains(&answered) {
                    assert_eq!(problems, [], "{offered} -> {answered}");
                } else {
                    assert_eq!(
                        kinds(&problems),
                        ["sdp.answer.direction"],
                        "{offered} -> {answered}"
                    );
                    let kind = ProblemKind::Direction {
                        offer: offered,
                        answer: answered,
                    };
                    assert_eq!(problems[0].kind, kind);
                    assert_eq!(
                        a.slice(problems[0].span),
                        format!("a={answered}").as_bytes()
                    );
                }
            }
        }
    }

    #[test]
    fn session_level_directions_count() {
        let o = parse(&crlf(
            "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\na=sendonly\nm=audio 5004 RTP/AVP 0\n",
        ));
        let a = sdp("m=audio 6004 RTP/AVP 0\n");
        assert_eq!(kinds(&check_answer(&o, &a)), ["sdp.answer.direction"]);
        assert_eq!(
            a.slice(check_answer(&o, &a)[0].span),
            b"m=audio 6004 RTP/AVP 0"
        );
    }

    #[test]
    fn media_count_and_type() {
        let o = sdp("m=audio 5004 RTP/AVP 0\nm=video 5006 RTP/AVP 31\n");
        let a = sdp("m=audio 6004 RTP/AVP 0\n");
        let p = check_answer(&o, &a);
        assert_eq!(kinds(&p), ["sdp.answer.media-count"]);
        assert_eq!(
            p[0].kind,
            ProblemKind::MediaCount {
                offer: 2,
                answer: 1
            }
        );
        let a = sdp("m=audio 6004 RTP/AVP 0\nm=audio 6006 RTP/AVP 0\n");
        let p = check_answer(&o, &a);
        assert_eq!(kinds(&p), ["sdp.answer.media-type"]);
        assert_eq!(p[0].media_index, Some(1));
    }

    #[test]
    fn rejected_streams_keep_port_zero() {
        let o = sdp("m=audio 5004 RTP/AVP 0\nm=video 0 RTP/AVP 31\n");
        let good = sdp("m=audio 6004 RTP/AVP 0\nm=video 0 RTP/AVP 31\n");
        assert_eq!(check_answer(&o, &good), []);
        let bad = sdp("m=audio 6004 RTP/AVP 0\nm=video 6006 RTP/AVP 31\n");
        let p = check_answer(&o, &bad);
        assert_eq!(kinds(&p), ["sdp.answer.port-zero"]);
        assert_eq!(p[0].rfc(), "RFC 3264 §8.2");
        // An answer may reject an offered stream with any formats and direction.
        let rejected = sdp("m=audio 0 RTP/AVP 18\na=sendonly\nm=video 0 RTP/AVP 31\n");
        let o = sdp("m=audio 5004 RTP/AVP 0\na=sendonly\nm=video 0 RTP/AVP 31\n");
        assert_eq!(check_answer(&o, &rejected), []);
    }

    #[test]
    fn no_common_format() {
        let o = sdp("m=audio 5004 RTP/AVP 0 8\n");
        let a = sdp("m=audio 6004 RTP/AVP 18\n");
        assert_eq!(
            kinds(&check_answer(&o, &a)),
            ["sdp.answer.no-common-format"]
        );
        let o = sdp("m=application 9 TCP/BFCP *\n");
        assert_eq!(check_answer(&o, &sdp("m=application 9 TCP/BFCP *\n")), []);
        let a = sdp("m=application 9 TCP/BFCP x\n");
        assert_eq!(
            kinds(&check_answer(&o, &a)),
            ["sdp.answer.no-common-format"]
        );
    }

    #[test]
    fn payload_type_remapping_is_detected() {
        let o = sdp("m=audio 5004 RTP/AVP 97 101\na=rtpmap:97 iLBC/8000\na=rtpmap:101 telephone-event/8000\n");
        // Same codecs, renumbered.
        let a = sdp("m=audio 6004 RTP/AVP 98 101\na=rtpmap:98 iLBC/8000\na=rtpmap:101 telephone-event/8000\n");
        let p = check_answer(&o, &a);
        assert_eq!(kinds(&p), ["sdp.answer.payload-type-changed"]);
        let kind = ProblemKind::PayloadTypeChanged {
            encoding: "iLBC/8000".into(),
            offer_pt: 97,
            answer_pt: 98,
        };
        assert_eq!(p[0].kind, kind);
        assert_eq!(p[0].rule().severity, crate::rule::Severity::Warning);
        // Same number, another codec.
        let a = sdp("m=audio 6004 RTP/AVP 97\na=rtpmap:97 opus/48000/2\n");
        let p = check_answer(&o, &a);
        assert_eq!(
            kinds(&p),
            [
                "sdp.answer.payload-type-conflict",
                "sdp.answer.no-common-format"
            ]
        );
        // A swap is both.
        let a = sdp("m=audio 6004 RTP/AVP 101 97\na=rtpmap:101 iLBC/8000\na=rtpmap:97 telephone-event/8000\n");
        let p = kinds(&check_answer(&o, &a));
        assert_eq!(
            p.iter()
                .filter(|k| **k == "sdp.answer.payload-type-conflict")
                .count(),
            2
        );
        assert_eq!(
            p.iter()
                .filter(|k| **k == "sdp.answer.payload-type-changed")
                .count(),
            2
        );
        // A static codec moved to a dynamic number.
        let o = sdp("m=audio 5004 RTP/AVP 0\n");
        let a = sdp("m=audio 6004 RTP/AVP 96\na=rtpmap:96 PCMU/8000\n");
        let p = check_answer(&o, &a);
        assert_eq!(kinds(&p), ["sdp.answer.payload-type-changed"]);
        // Encoding names compare case-insensitively.
        let a = sdp("m=audio 6004 RTP/AVP 0\na=rtpmap:0 pcmu/8000\n");
        assert_eq!(check_answer(&o, &a), []);
    }

    #[test]
    fn answer_rtpmap_missing() {
        let o = sdp("m=audio 5004 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\n");
        let a = sdp("m=audio 6004 RTP/AVP 0 101\n");
        let p = check_answer(&o, &a);
        assert_eq!(kinds(&p), ["sdp.answer.rtpmap-missing"]);
        let v = p[0].to_violation();
        assert_eq!(v.rule.rfc, "RFC 3264 §6.1");
        assert_eq!(a.slice(v.span), b"m=audio 6004 RTP/AVP 0 101");
        assert!(v.detail.starts_with("m= #0: "), "{}", v.detail);
    }

    #[test]
    fn reoffer_rules() {
        let v = |n: u64, media: &str| {
            parse(&crlf(&format!(
                "v=0\no=- 7 {n} IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n{media}"
            )))
        };
        let prev = v(7, "m=audio 5004 RTP/AVP 0\n");
        assert_eq!(
            check_reoffer(&prev, &v(8, "m=audio 5004 RTP/AVP 0\na=sendonly\n")),
            []
        );
        assert_eq!(check_reoffer(&prev, &v(7, "m=audio 5004 RTP/AVP 0\n")), []);
        let p = check_reoffer(&prev, &v(7, "m=audio 5004 RTP/AVP 0\na=sendonly\n"));
        assert_eq!(kinds(&p), ["sdp.reoffer.version"]);
        let p = check_reoffer(&prev, &v(9, "m=audio 5004 RTP/AVP 0\n"));
        assert_eq!(kinds(&p), ["sdp.reoffer.version"]);
        let p = check_reoffer(
            &v(7, "m=audio 5004 RTP/AVP 0\nm=video 5006 RTP/AVP 31\n"),
            &v(8, "m=audio 5004 RTP/AVP 0\n"),
        );
        assert_eq!(kinds(&p), ["sdp.reoffer.media-removed"]);
        let other = parse(&crlf(
            "v=0\no=bob 7 8 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n",
        ));
        let p = check_reoffer(&v(7, ""), &other);
        assert_eq!(
            p[0].kind,
            ProblemKind::OriginChanged {
                field: "username",
                previous: "-".into(),
                next: "bob".into()
            }
        );
        assert_eq!(other.slice(p[0].span), b"o=bob 7 8 IN IP4 192.0.2.1");
    }
}
