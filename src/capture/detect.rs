//! Recognising SIP by content, not by port: a payload is SIP when it starts with a SIP
//! Request-Line (RFC 3261 §7.1: `Method SP Request-URI SP SIP-Version CRLF`) or Status-Line
//! (§7.2: `SIP-Version SP Status-Code SP Reason-Phrase CRLF`).
//!
//! The test is deliberately as lenient as tshark's about what sits inside the line (a mangled
//! method such as `REGIStER` or a URI with a bad scheme is still a request line) and strict
//! about its shape and the version: `NOTIFY * HTTP/1.1` (SSDP) and HTTP on port 5060 are not
//! SIP. Like tshark, the line ends at the first CR or LF (a lone CR ends it too), and a line
//! with a NUL octet in it is not taken for SIP (tshark: "this may be SIP within another
//! protocol"); the fuzzed corpus capture depends on both.

/// How far the first line is looked for.
const MAX_LINE: usize = 8 * 1024;

/// The number of leading CRLF (or LF) octets: keep-alives before a message (RFC 5626 §3.5.1,
/// RFC 3261 §7.5).
pub fn leading_line_breaks(data: &[u8]) -> usize {
    data.iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count()
}

/// Whether `data` starts with a complete SIP start line.
pub fn is_sip_start(data: &[u8]) -> bool {
    let window = &data[..data.len().min(MAX_LINE)];
    // One search for the line end and a NUL in the line: the first of the three must not be NUL.
    let Some(end) = memchr::memchr3(b'\n', b'\r', 0, window) else {
        return false;
    };
    let line = &window[..end];
    window[end] != 0 && (is_status_line(line) || is_request_line(line))
}

fn is_version(v: &[u8]) -> bool {
    v.eq_ignore_ascii_case(b"SIP/2.0")
}

/// `SIP/2.0 DDD` followed by a space and a reason (possibly empty) or the end of the line.
fn is_status_line(line: &[u8]) -> bool {
    if line.len() < 11 || !is_version(&line[..7]) || line[7] != b' ' {
        return false;
    }
    let code = &line[8..11];
    code.iter().all(u8::is_ascii_digit) && (line.len() == 11 || line[11] == b' ')
}

/// `token SP uri SP SIP/2.0`: a method of token characters (RFC 3261 §25.1), a URI without
/// spaces, and the version last.
fn is_request_line(line: &[u8]) -> bool {
    let Some(sp1) = memchr::memchr(b' ', line) else {
        return false;
    };
    let Some(sp2) = memchr::memrchr(b' ', line) else {
        return false;
    };
    if sp2 <= sp1 + 1 || !is_version(&line[sp2 + 1..]) {
        return false;
    }
    let method = &line[..sp1];
    !method.is_empty() && method.iter().all(|&b| is_token(b)) && !line[sp1 + 1..sp2].contains(&b' ')
}

/// RFC 3261 §25.1 `token`: alphanumerics and `-.!%*_+`'~`.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_responses() {
        assert!(is_sip_start(b"INVITE sip:bob@b SIP/2.0\r\nVia: x\r\n"));
        assert!(is_sip_start(b"REGIStER pip:x SIP/2.0\r\n"));
        assert!(is_sip_start(b"SIP/2.0 200 OK\r\n"));
        assert!(is_sip_start(b"SIP/2.0 100\r\n"));
        assert!(!is_sip_start(b"NOTIFY * HTTP/1.1\r\nHost: x\r\n"));
        assert!(!is_sip_start(b"GET / HTTP/1.1\r\n"));
        assert!(!is_sip_start(b"HTTP/1.1 200 OK\r\n"));
        assert!(
            !is_sip_start(b"INVITE sip:bob@b SIP/2.0"),
            "no line end yet"
        );
        assert!(!is_sip_start(b"SIP/2.0 2000 OK\r\n"));
        assert!(!is_sip_start(b"IN VITE sip:x SIP/2.0\r\n"));
        assert!(!is_sip_start(b"\x00\x00\x00\x00"));
        assert!(
            is_sip_start(b"CANCEL sip:x SIP/2.0\r7Via: x"),
            "a lone CR ends the line"
        );
        assert!(
            !is_sip_start(b"SIP/2.0 401 Unauthori%s\x00\r\n"),
            "NUL in the line"
        );
    }
}
