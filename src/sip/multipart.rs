//! Multipart bodies (RFC 2046 §5.1), as SIP carries them for SDP plus S/MIME, ISUP, PIDF and
//! the like (RFC 3261 §7.4, RFC 5621).
//!
//! [`split_multipart`] finds the body parts and returns byte ranges into the body it was given,
//! so binary content (bare LF, NUL, any octet) is never copied or altered. Nested multiparts are
//! split by calling it again on a part's range with that part's Content-Type.

use super::lex;
use memchr::memmem;
use std::ops::Range;

/// One body part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// The part's own header lines (name, value), in order, folded lines joined.
    pub headers: Vec<(String, String)>,
    /// The part's Content-Type value, if it has one. RFC 2046 §5.1.1: absent means `text/plain`
    /// (`message/rfc822` inside multipart/digest).
    pub content_type: Option<String>,
    /// The part's content, without the CRLF that belongs to the next delimiter.
    pub body: Range<usize>,
    /// The whole part: headers, blank line and content.
    pub span: Range<usize>,
}

impl Part {
    /// A header of this part by name, case-insensitive.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What was wrong with a multipart body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MultipartErrorKind {
    #[error("the Content-Type has no boundary parameter (RFC 2046 §5.1.1)")]
    NoBoundary,
    #[error("the boundary must be 1 to 70 characters from bchars, not ending in a space (RFC 2046 §5.1.1)")]
    BadBoundary,
    #[error("no `--boundary` delimiter line in the body (RFC 2046 §5.1.1)")]
    BoundaryNotFound,
    #[error("close delimiter before any body part: a multipart body has at least one part (RFC 2046 §5.1.1)")]
    NoParts,
    #[error("the body ends without the close delimiter `--boundary--` (RFC 2046 §5.1.1)")]
    NoCloseDelimiter,
    #[error("part header line is not `name: value` (RFC 2046 §5.1.1, RFC 2045 §3)")]
    BadPartHeader,
}

/// A multipart body that did not split. `offset` is a byte offset into the body, except for
/// `NoBoundary` and `BadBoundary`, where it is into the Content-Type value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} (at byte {offset})")]
pub struct MultipartError {
    pub offset: usize,
    pub kind: MultipartErrorKind,
}

impl MultipartError {
    fn new(offset: usize, kind: MultipartErrorKind) -> Self {
        MultipartError { offset, kind }
    }
}

/// The `boundary` parameter of a Content-Type value, unquoted (RFC 2046 §5.1.1).
pub fn boundary(content_type: &str) -> Result<String, MultipartError> {
    let missing = MultipartError::new(content_type.len(), MultipartErrorKind::NoBoundary);
    let semi = content_type.find(';').ok_or(missing.clone())?;
    let params = lex::split_params(&content_type[semi + 1..]);
    let p = params
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case("boundary"))
        .ok_or(missing.clone())?;
    let value = p.unquoted().ok_or(missing)?.into_owned();
    let at = (p.name.as_ptr() as usize).saturating_sub(content_type.as_ptr() as usize);
    // boundary := 0*69<bchars> bcharsnospace; bcharsnospace := DIGIT / ALPHA / "'" / "(" / ")"
    // / "+" / "_" / "," / "-" / "." / "/" / ":" / "=" / "?"; bchars := bcharsnospace / " "
    let is_bchar = |b: u8| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'\''
                    | b'('
                    | b')'
                    | b'+'
                    | b'_'
                    | b','
                    | b'-'
                    | b'.'
                    | b'/'
                    | b':'
                    | b'='
                    | b'?'
                    | b' '
            )
    };
    if value.is_empty() || value.len() > 70 || value.ends_with(' ') || !value.bytes().all(is_bchar)
    {
        return Err(MultipartError::new(at, MultipartErrorKind::BadBoundary));
    }
    Ok(value)
}

/// A delimiter line found in the body.
enum Delim {
    /// `--boundary` then transport padding and CRLF: a part starts at this offset.
    Open(usize),
    /// `--boundary--`: the end; what follows is the epilogue.
    Close,
}

/// Finds the next delimiter at or after `from`. `needle` is CRLF "--" boundary; the returned
/// offset is where the delimiter starts (its CRLF, or 0 when the body opens with `--boundary`).
/// A line that merely starts with the boundary is not a delimiter (RFC 2046 §5.1.1:
/// `delimiter transport-padding CRLF`).
fn next_delimiter(body: &[u8], needle: &[u8], from: usize) -> Option<(usize, Delim)> {
    // RFC 2046 §5.1.1: "the boundary delimiter MUST occur at the beginning of a line"; the
    // first one may start the body, with no CRLF before it.
    if from == 0 && body.starts_with(&needle[2..]) {
        if let Some(d) = delimiter_kind(body, needle.len() - 2) {
            return Some((0, d));
        }
    }
    let mut at = from;
    while at <= body.len() {
        let p = at + memmem::find(&body[at..], needle)?;
        if let Some(d) = delimiter_kind(body, p + needle.len()) {
            return Some((p, d));
        }
        at = p + 1;
    }
    None
}

/// What follows `--boundary` ending at `after`: `--` (close), or transport padding then CRLF.
fn delimiter_kind(body: &[u8], after: usize) -> Option<Delim> {
    let rest = &body[after..];
    if rest.starts_with(b"--") {
        return Some(Delim::Close);
    }
    // transport-padding := *LWSP-char
    let pad = rest
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    rest[pad..]
        .starts_with(b"\r\n")
        .then_some(Delim::Open(after + pad + 2))
}

/// Splits a multipart body into its parts (RFC 2046 §5.1.1). The preamble before the first
/// delimiter and the epilogue after the close delimiter are ignored.
pub fn split_multipart(content_type: &str, body: &[u8]) -> Result<Vec<Part>, MultipartError> {
    let b = boundary(content_type)?;
    let mut needle = b"\r\n--".to_vec();
    needle.extend_from_slice(b.as_bytes());
    let (first_at, first) = next_delimiter(body, &needle, 0)
        .ok_or(MultipartError::new(0, MultipartErrorKind::BoundaryNotFound))?;
    let mut start = match first {
        Delim::Open(s) => s,
        Delim::Close => return Err(MultipartError::new(first_at, MultipartErrorKind::NoParts)),
    };
    let mut parts = Vec::new();
    loop {
        let (end, next) = next_delimiter(body, &needle, start).ok_or(MultipartError::new(
            body.len(),
            MultipartErrorKind::NoCloseDelimiter,
        ))?;
        // The CRLF before a delimiter belongs to the delimiter, not to the part (RFC 2046
        // §5.1.1), so the part ends where the delimiter's CRLF starts.
        parts.push(parse_part(body, start..end)?);
        match next {
            Delim::Open(s) => start = s,
            Delim::Close => return Ok(parts),
        }
    }
}

/// `body-part := MIME-part-headers [CRLF *OCTET]` (RFC 2046 §5.1.1).
fn parse_part(body: &[u8], span: Range<usize>) -> Result<Part, MultipartError> {
    let content = &body[span.clone()];
    let (headers_end, body_start) = if content.starts_with(b"\r\n") {
        // No header fields: the content follows the blank line at once.
        (span.start, span.start + 2)
    } else if let Some(i) = memmem::find(content, b"\r\n\r\n") {
        (span.start + i, span.start + i + 4)
    } else {
        // Header fields only, no content.
        (span.end, span.end)
    };
    let headers = parse_part_headers(body, span.start..headers_end)?;
    let content_type = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Content-Type"))
        .map(|(_, v)| v.clone());
    Ok(Part {
        headers,
        content_type,
        body: body_start..span.end,
        span,
    })
}

/// Header lines `name ":" value`, with folded continuation lines joined (RFC 2045 §3, RFC 822
/// §3.1.1).
fn parse_part_headers(
    body: &[u8],
    r: Range<usize>,
) -> Result<Vec<(String, String)>, MultipartError> {
    let bad = |at| MultipartError::new(at, MultipartErrorKind::BadPartHeader);
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut at = r.start;
    while at < r.end {
        let line_end = memmem::find(&body[at..r.end], b"\r\n").map_or(r.end, |i| at + i);
        let line = &body[at..line_end];
        if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            // A continuation of the previous field.
            let (_, v) = out.last_mut().ok_or(bad(at))?;
            v.extend_from_slice(b"\r\n");
            v.extend_from_slice(line);
        } else {
            let colon = memchr::memchr(b':', line).ok_or(bad(at))?;
            let name = lex::trim(&String::from_utf8_lossy(&line[..colon])).to_string();
            if !lex::is_token(name.as_bytes()) {
                return Err(bad(at));
            }
            out.push((name, line[colon + 1..].to_vec()));
        }
        at = line_end + 2;
    }
    Ok(out
        .into_iter()
        .map(|(n, v)| {
            let v = String::from_utf8_lossy(&lex::unfold(&v)).into_owned();
            (n, lex::trim(&v).to_string())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(ct: &str, body: &[u8]) -> MultipartErrorKind {
        split_multipart(ct, body).expect_err("should fail").kind
    }

    fn corpus_file(rel: &str) -> Vec<u8> {
        let dir = std::env::var("SIPTEST_CORPUS").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus").to_string()
        });
        std::fs::read(format!("{dir}/{rel}")).expect("corpus file")
    }

    #[test]
    fn mpart01_binary_part_is_exact() {
        // RFC 4475 §3.1.1.11
        let msg = corpus_file("rfc4475/mpart01.dat");
        let head_end = memmem::find(&msg, b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&msg[..head_end]).into_owned();
        let ct_at = head.find("\r\nContent-Type: ").unwrap() + 16;
        let ct = &head[ct_at..ct_at + head[ct_at..].find("\r\n").unwrap()];
        assert_eq!(ct, "multipart/mixed;boundary=7a9cbec02ceef655");
        let body = &msg[head_end + 4..];
        assert_eq!(body.len(), 553);
        let parts = split_multipart(ct, body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].content_type.as_deref(), Some("text/plain"));
        assert_eq!(parts[0].header("content-transfer-encoding"), Some("binary"));
        assert_eq!(&body[parts[0].body.clone()], b"Hello");
        let bin = &body[parts[1].body.clone()];
        assert_eq!(
            parts[1].content_type.as_deref(),
            Some("application/octet-stream")
        );
        // The binary content runs up to the CRLF before the close delimiter, bare LFs kept.
        let close = memmem::find(body, b"\r\n--7a9cbec02ceef655--").unwrap();
        assert_eq!(parts[1].body.end, close);
        assert_eq!(
            bin.iter().filter(|&&b| b == b'\n').count() - memmem::find_iter(bin, b"\r\n").count(),
            3
        );
        assert_eq!(bin[0], 0x30);
        assert_eq!(parts[1].span.start, parts[0].body.end + 2 + 20);
    }

    #[test]
    fn preamble_epilogue_and_quoted_boundary() {
        let body = b"This is the preamble.\r\n--a b'c\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n\r\n--a b'c  \r\nContent-Type: text/plain\r\n\r\nhi\r\n--a b'c--\r\nepilogue --a b'c\r\n";
        let parts = split_multipart(r#"multipart/mixed; Boundary="a b'c""#, body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(&body[parts[0].body.clone()], b"v=0\r\n");
        assert_eq!(&body[parts[1].body.clone()], b"hi");
        assert_eq!(parts[0].span, 32..70);
    }

    #[test]
    fn longer_line_is_not_a_delimiter() {
        let body = b"--b\r\n\r\nx\r\n--bx\r\ny\r\n--b--";
        let parts = split_multipart("multipart/mixed;boundary=b", body).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(&body[parts[0].body.clone()], b"x\r\n--bx\r\ny");
        assert!(parts[0].headers.is_empty());
        assert_eq!(parts[0].content_type, None);
    }

    #[test]
    fn headers_only_empty_and_folded_parts() {
        let body = b"--b\r\nContent-Type: text/plain\r\n--b\r\n\r\n--b\r\nX-A: one\r\n two\r\nContent-Type: message/sipfrag\r\n\r\nSIP/2.0 200 OK\r\n--b--";
        let parts = split_multipart("multipart/mixed;boundary=b", body).unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].content_type.as_deref(), Some("text/plain"));
        assert!(parts[0].body.is_empty());
        assert!(parts[1].headers.is_empty() && parts[1].body.is_empty());
        assert_eq!(parts[2].header("x-a"), Some("one two"));
        assert_eq!(&body[parts[2].body.clone()], b"SIP/2.0 200 OK");
    }

    #[test]
    fn errors() {
        let ct = "multipart/mixed;boundary=b";
        assert_eq!(
            kind("multipart/mixed", b"--b\r\n\r\n--b--"),
            MultipartErrorKind::NoBoundary
        );
        assert_eq!(
            kind("multipart/mixed;charset=x", b""),
            MultipartErrorKind::NoBoundary
        );
        assert_eq!(
            kind("multipart/mixed;boundary", b""),
            MultipartErrorKind::NoBoundary
        );
        assert_eq!(
            kind("multipart/mixed;boundary=\"\"", b""),
            MultipartErrorKind::BadBoundary
        );
        assert_eq!(
            kind("multipart/mixed;boundary=\"a \"", b""),
            MultipartErrorKind::BadBoundary
        );
        assert_eq!(
            kind("multipart/mixed;boundary=a*b", b""),
            MultipartErrorKind::BadBoundary
        );
        let long = format!("multipart/mixed;boundary={}", "x".repeat(71));
        assert_eq!(kind(&long, b""), MultipartErrorKind::BadBoundary);
        assert_eq!(
            kind(ct, b"no delimiter here"),
            MultipartErrorKind::BoundaryNotFound
        );
        assert_eq!(kind(ct, b"--bb\r\n"), MultipartErrorKind::BoundaryNotFound);
        let e = split_multipart(ct, b"--b\r\n\r\nx\r\n--b\r\n\r\ny").unwrap_err();
        assert_eq!(
            (e.offset, e.kind),
            (18, MultipartErrorKind::NoCloseDelimiter)
        );
        assert_eq!(kind(ct, b"--b--"), MultipartErrorKind::NoParts);
        let e = split_multipart(ct, b"--b\r\nbad header\r\n\r\nx\r\n--b--").unwrap_err();
        assert_eq!((e.offset, e.kind), (5, MultipartErrorKind::BadPartHeader));
        assert_eq!(
            kind(ct, b"--b\r\n folded\r\n\r\nx\r\n--b--"),
            MultipartErrorKind::BadPartHeader
        );
        assert_eq!(
            kind(ct, b"--b\r\n: v\r\n\r\nx\r\n--b--"),
            MultipartErrorKind::BadPartHeader
        );
    }

    #[test]
    fn garbage_never_panics() {
        let cts = [
            "",
            ";",
            "multipart/mixed;boundary=b",
            "x;boundary=\"",
            "x;boundary=\"b",
            "x;=;boundary=b",
        ];
        let big = [b'-'; 10_000];
        let bodies: [&[u8]; 16] = [
            b"",
            b"-",
            b"--",
            b"--b",
            b"--b-",
            b"--b--",
            b"--b\r",
            b"--b\r\n",
            b"\r\n--b\r\n",
            b"--b\r\n\r",
            b"--b\r\n\r\n",
            b"--b \t",
            b"--b\r\n\r\n--b",
            b"--b\r\n\xff\xfe:\r\n\r\n--b--",
            b"\r\n\r\n\r\n",
            &big,
        ];
        for ct in cts {
            for body in bodies {
                let _ = split_multipart(ct, body);
            }
        }
    }
}
