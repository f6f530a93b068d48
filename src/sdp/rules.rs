//! The rules the SDP parser ([`super::parse()`]) and the offer/answer checks
//! ([`super::offer_answer`]) report.
//!
//! Syntax problems of one description are `Transaction` level (the SDP stack of the device that
//! wrote it is at fault); problems in the relation between an offer and its answer, or between a
//! description and the previous one, are `Sequence` level.

crate::declare_rules! {
    // ---- lines (RFC 8866 §5) ----
    LINE_MALFORMED = ("sdp.line.malformed", Transaction, Error, "RFC 8866 §5",
        "a line is not `<type>=<value>`, or contains a NUL or bare CR");
    LINE_EMPTY = ("sdp.line.empty", Transaction, Warning, "RFC 8866 §5",
        "an empty line inside the description (the grammar has no blank lines)");
    LINE_UNKNOWN_TYPE = ("sdp.line.unknown-type", Transaction, Error, "RFC 8866 §5",
        "a type letter SDP does not define; receivers must ignore the whole description");
    LINE_DUPLICATE = ("sdp.line.duplicate", Transaction, Error, "RFC 8866 §5",
        "a line that may appear at most once at its level appears again");
    LINE_ORDER = ("sdp.line-order", Transaction, Warning, "RFC 8866 §5",
        "lines are not in the order RFC 8866 §5 requires");
    LINE_ENDING_LF = ("sdp.line-ending.lf", Transaction, Warning, "RFC 8866 §5",
        "lines end with a bare LF instead of CRLF (tolerated by parsers)");
    LINE_ENDING_MISSING = ("sdp.line-ending.missing", Transaction, Warning, "RFC 8866 §9",
        "the last line has no line ending");
    // ---- session-level fields ----
    VERSION_MISSING = ("sdp.version.missing", Transaction, Error, "RFC 8866 §5.1",
        "there is no v= line");
    VERSION_INVALID = ("sdp.version.invalid", Transaction, Error, "RFC 8866 §5.1",
        "v= is not 0");
    ORIGIN_MISSING = ("sdp.origin.missing", Transaction, Error, "RFC 8866 §5.2",
        "there is no o= line");
    ORIGIN_INVALID = ("sdp.origin.invalid", Transaction, Error, "RFC 8866 §5.2",
        "o= is not `<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`");
    SESSION_NAME_MISSING = ("sdp.session-name.missing", Transaction, Error, "RFC 8866 §5.3",
        "there is no s= line, or it is empty (use `s=-` or `s= `)");
    TIME_MISSING = ("sdp.time.missing", Transaction, Error, "RFC 8866 §5.9",
        "there is no t= line");
    TIME_INVALID = ("sdp.time.invalid", Transaction, Error, "RFC 8866 §5.9",
        "t= is not `<start-time> <stop-time>` in decimal");
    CONNECTION_MISSING = ("sdp.connection.missing", Transaction, Error, "RFC 8866 §5.7",
        "a media description has no c= and there is no session-level c=");
    CONNECTION_INVALID = ("sdp.connection.invalid", Transaction, Error, "RFC 8866 §5.7",
        "c= is malformed or its address does not match its address type");
    BANDWIDTH_INVALID = ("sdp.bandwidth.invalid", Transaction, Error, "RFC 8866 §5.8",
        "b= is not `<bwtype>:<bandwidth>`");
    ATTRIBUTE_INVALID = ("sdp.attribute.invalid", Transaction, Error, "RFC 8866 §5.13",
        "a= has an empty or non-token name, or an empty value after `:`");
    // ---- media ----
    MEDIA_INVALID = ("sdp.media.invalid", Transaction, Error, "RFC 8866 §5.14",
        "m= is not `<media> <port>[/<count>] <proto> <fmt> ...` (bad port, no formats, ...)");
    DIRECTION_MULTIPLE = ("sdp.direction.multiple", Transaction, Error, "RFC 8866 §6.7",
        "more than one of sendrecv/sendonly/recvonly/inactive at one level");
    RTPMAP_INVALID = ("sdp.rtpmap.invalid", Transaction, Error, "RFC 8866 §6.6",
        "a=rtpmap is not `<payload type> <encoding name>/<clock rate>[/<parameters>]`");
    RTPMAP_NO_CLOCK_RATE = ("sdp.rtpmap.no-clock-rate", Transaction, Warning, "RFC 8866 §6.6",
        "a=rtpmap without `/<clock rate>` (RFC 4475's valid messages carry `a=rtpmap:31 LPC`; tolerated)");
    RTPMAP_MISSING = ("sdp.rtpmap.missing", Transaction, Warning, "RFC 8866 §5.14",
        "a dynamic RTP payload type (96-127) has no a=rtpmap");
    // ---- offer/answer (RFC 3264) ----
    ANSWER_MEDIA_COUNT = ("sdp.answer.media-count", Sequence, Error, "RFC 3264 §6",
        "the answer does not have exactly as many m= lines as the offer");
    ANSWER_MEDIA_TYPE = ("sdp.answer.media-type", Sequence, Error, "RFC 3264 §6",
        "an answer m= line has a different media type from the offer's at that position");
    ANSWER_DIRECTION = ("sdp.answer.direction", Sequence, Error, "RFC 3264 §6.1",
        "the answer's direction is not allowed for the offered direction");
    ANSWER_PORT_ZERO = ("sdp.answer.port-zero", Sequence, Error, "RFC 3264 §8.2",
        "a stream offered with port 0 is not answered with port 0");
    ANSWER_NO_COMMON_FORMAT = ("sdp.answer.no-common-format", Sequence, Error, "RFC 3264 §6.1",
        "an accepted stream lists no format that the offer listed");
    ANSWER_PT_CHANGED = ("sdp.answer.payload-type-changed", Sequence, Warning, "RFC 3264 §6.1",
        "the answer uses a different payload type number for a codec than the offer did");
    ANSWER_PT_CONFLICT = ("sdp.answer.payload-type-conflict", Sequence, Warning, "RFC 3264 §6.1",
        "the answer maps an offered payload type number to a different codec");
    ANSWER_RTPMAP_MISSING = ("sdp.answer.rtpmap-missing", Sequence, Error, "RFC 3264 §6.1",
        "the answer uses a dynamic payload type without an a=rtpmap for it");
    REOFFER_VERSION = ("sdp.reoffer.version", Sequence, Error, "RFC 3264 §8",
        "a changed description does not increment the o= version by exactly one");
    REOFFER_ORIGIN = ("sdp.reoffer.origin-changed", Sequence, Error, "RFC 3264 §8",
        "o= fields other than the version changed within the session");
    REOFFER_MEDIA_REMOVED = ("sdp.reoffer.media-removed", Sequence, Error, "RFC 3264 §8",
        "a new description has fewer m= lines than the previous one");
}
