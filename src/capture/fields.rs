//! The few header values a capture summary needs (Call-ID, From, To, CSeq, method or status),
//! read straight from the bytes without the full lossless parse and validation: one pass over
//! the header section, names matched case-insensitively in full or compact form (RFC 3261
//! §7.3.3: `i`, `f`, `t`). Folded continuation lines are not joined: a summary does not need
//! them, and `siptest lint` / `--call` use the full parser.

/// The summary fields of one message; values are trimmed, as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fields<'a> {
    /// The request method, for a request.
    pub method: Option<&'a str>,
    /// The status code, for a response.
    pub status: Option<u16>,
    pub call_id: Option<&'a str>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    /// The CSeq method.
    pub cseq_method: Option<&'a str>,
}

impl Fields<'_> {
    /// Every header value found: later lines cannot change anything (the first one counts).
    fn complete(&self) -> bool {
        self.call_id.is_some()
            && self.from.is_some()
            && self.to.is_some()
            && self.cseq_method.is_some()
    }
}

/// The status of a status line, or the method of a request line.
fn read_start_line<'m>(f: &mut Fields<'m>, start: &'m [u8]) {
    if let Some(rest) = start.strip_prefix(b"SIP/2.0 ") {
        f.status = std::str::from_utf8(rest.get(..3).unwrap_or(b""))
            .ok()
            .and_then(|c| c.parse().ok());
    } else if let Some(sp) = memchr::memchr(b' ', start) {
        f.method = std::str::from_utf8(&start[..sp]).ok();
    }
}

/// Reads the summary fields of a message (the first occurrence of each header counts).
pub fn scan(msg: &[u8]) -> Fields<'_> {
    let mut f = Fields::default();
    let mut lines = Lines { rest: msg };
    let Some(start) = lines.next() else { return f };
    read_start_line(&mut f, start);
    for line in lines {
        if line.is_empty() || f.complete() {
            break;
        }
        // Most lines are other headers: their first octet rules them out before the colon
        // search (the name is trimmed below, so a line starting with white space is looked at).
        if !matches!(line[0] | 0x20, b'i' | b'f' | b't' | b'c') && !line[0].is_ascii_whitespace() {
            continue;
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let name = trim(&line[..colon]);
        let value = || std::str::from_utf8(trim(&line[colon + 1..])).ok();
        let slot = match name.len() {
            1 => match name[0].to_ascii_lowercase() {
                b'i' => &mut f.call_id,
                b'f' => &mut f.from,
                b't' => &mut f.to,
                _ => continue,
            },
            2 if name.eq_ignore_ascii_case(b"to") => &mut f.to,
            4 if name.eq_ignore_ascii_case(b"from") => &mut f.from,
            4 if name.eq_ignore_ascii_case(b"cseq") => {
                if f.cseq_method.is_none() {
                    f.cseq_method = value().and_then(|v| v.split_ascii_whitespace().nth(1));
                }
                continue;
            }
            7 if name.eq_ignore_ascii_case(b"call-id") => &mut f.call_id,
            _ => continue,
        };
        if slot.is_none() {
            *slot = value();
        }
    }
    f
}

/// Lines ending in LF (a CR before it is dropped).
struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match memchr::memchr(b'\n', self.rest) {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, &b""[..]),
        };
        self.rest = rest;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The straightforward reading [`scan`] must agree with: every header line looked at.
    fn reference(msg: &[u8]) -> Fields<'_> {
        let mut f = Fields::default();
        let mut lines = Lines { rest: msg };
        let Some(start) = lines.next() else { return f };
        read_start_line(&mut f, start);
        for line in lines.take_while(|l| !l.is_empty()) {
            let Some(colon) = memchr::memchr(b':', line) else {
                continue;
            };
            let name = trim(&line[..colon]).to_ascii_lowercase();
            let value = || std::str::from_utf8(trim(&line[colon + 1..])).ok();
            let slot = match &name[..] {
                b"i" | b"call-id" => &mut f.call_id,
                b"f" | b"from" => &mut f.from,
                b"t" | b"to" => &mut f.to,
                b"cseq" => {
                    if f.cseq_method.is_none() {
                        f.cseq_method = value().and_then(|v| v.split_ascii_whitespace().nth(1));
                    }
                    continue;
                }
                _ => continue,
            };
            if slot.is_none() {
                *slot = value();
            }
        }
        f
    }

    proptest! {
        #[test]
        fn agrees_with_the_straightforward_reading(
            start in proptest::sample::select(vec![
                "INVITE sip:b SIP/2.0", "SIP/2.0 180 Ringing", "SIP/2.0 +12 x", "B\u{e9}YE x SIP/2.0", "",
            ]),
            lines in proptest::collection::vec(proptest::sample::select(vec![
                "Call-ID: a@b", "i:c", " call-id : d ", "Call-ID: \u{e9}t\u{e9}", "Call-ID: \u{ff}",
                "From: <sip:a>;tag=1", "f: x", "FROM:", "To: <sip:b>", "t : y", "to: \u{ff}z",
                "CSeq: 1 INVITE", "cseq: 2", "CSeq: \u{ff} BYE", "CSeq:  3   ACK  x", "Via: v",
                "Contact: c", "noColon", "\tTo: folded", "", "Content-Length: 0",
            ]), 0..10),
        ) {
            // `\u{ff}` stands for an octet that is not UTF-8.
            let text = format!("{start}\r\n{}\r\n\r\nCall-ID: body", lines.join("\r\n"));
            let msg: Vec<u8> = text
                .replace('\u{ff}', "\u{1}")
                .bytes()
                .map(|b| if b == 1 { 0xff } else { b })
                .collect();
            prop_assert_eq!(scan(&msg), reference(&msg));
        }
    }

    #[test]
    fn full_and_compact_names() {
        let m = b"SIP/2.0 486 Busy Here\r\nv: SIP/2.0/UDP x\r\ni: abc@h \r\nf: <sip:a@x>;tag=1\r\n\
                  TO: <sip:b@x>\r\nCSeq: 7 INVITE\r\n\r\nCall-ID: body";
        let f = scan(m);
        assert_eq!(f.status, Some(486));
        assert_eq!(f.call_id, Some("abc@h"));
        assert_eq!(f.from, Some("<sip:a@x>;tag=1"));
        assert_eq!(f.to, Some("<sip:b@x>"));
        assert_eq!(f.cseq_method, Some("INVITE"));
        let r = scan(b"BYE sip:x SIP/2.0\nCall-ID: z\n\n");
        assert_eq!((r.method, r.call_id), (Some("BYE"), Some("z")));
    }

    /// The scanner agrees with the full parser on every message of a typical exchange.
    #[test]
    fn agrees_with_the_parser() {
        let m = b"INVITE sip:bob@b SIP/2.0\r\nFrom: \"A\" <sip:a@a>;tag=x\r\nTo: sip:bob@b\r\n\
                  Call-ID: 123@a\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
        let parsed = crate::sip::parse::parse_datagram(m).message;
        let f = scan(m);
        assert_eq!(f.call_id.map(str::to_string), parsed.call_id());
        assert_eq!(
            f.cseq_method.map(str::to_string),
            parsed.cseq().map(|c| c.method)
        );
        assert_eq!(f.method, parsed.method().as_deref());
    }
}
