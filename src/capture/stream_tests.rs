//! The capture framer against the library's `StreamFramer`: same messages, same place where the
//! stream stops being SIP, however the bytes are cut into segments.

use super::*;
use proptest::prelude::*;

/// What `StreamFramer` frames from `chunks`, as the TCP layer used it: the SIP messages up to
/// the first frame that loses sync, and the bytes pending from there.
fn reference(chunks: &[&[u8]]) -> (Vec<Message>, Option<Vec<u8>>) {
    let mut f = StreamFramer::with_limits(FramerLimits {
        max_head: MAX_HEAD,
        max_body: MAX_BODY,
    });
    let mut messages = Vec::new();
    for c in chunks {
        f.push(c);
        while let Some(frame) = f.next_frame() {
            match frame {
                Frame::Message(m) if detect::is_sip_start(m.as_bytes()) => messages.push(m),
                Frame::KeepAlive { .. } => {}
                Frame::Message(_) | Frame::Garbage { .. } => {
                    return (messages, Some(f.pending().to_vec()))
                }
            }
        }
    }
    (messages, None)
}

/// The same through [`SipFramer`], each message parsed with [`parse()`].
fn framed(chunks: &[&[u8]]) -> (Vec<Message>, Option<Vec<u8>>) {
    let mut f = SipFramer::default();
    let mut messages = Vec::new();
    for c in chunks {
        if let Some(rest) = f.push(c, &mut |m| messages.push(parse(m))) {
            return (messages, Some(rest));
        }
    }
    (messages, None)
}

fn request(extra: &str, body: &str) -> String {
    format!("OPTIONS sip:b@x SIP/2.0\r\nVia: SIP/2.0/TCP a;branch=z9hG4bK1\r\n{extra}\r\n{body}")
}

/// Pieces of a stream: messages with every form of Content-Length the parser knows and
/// keep-alives, now and then bytes that end the SIP stream (non-SIP, the limits).
fn piece() -> impl Strategy<Value = Vec<u8>> {
    let sip: Vec<String> = vec![
        request("Content-Length: 4\r\n", "abcd"),
        request("l:2\r\n", "xy"),
        request("L :  3 \r\n", "xyz"),
        request("content-length:\r\n 2\r\n", "ab"),
        request("Content-Length: 2\r\n  \r\n", "ab"),
        request("Content-Length: 1\r\n 2\r\n", ""),
        request("Content-Length: x\r\nContent-Length: 1\r\n", "q"),
        request("Content-Length: 1\r\nContent-Length: 2\r\n", "q"),
        request("Content-Length: 1\r\r\n", "q"),
        request("", ""),
        "SIP/2.0 200 OK\nContent-Length: 1\n\nz".into(),
        "SIP/2.0 200 OK\r\n l: 5\r\n\r\n".into(),
        "\r\n".into(),
        "\r\n\r\n".into(),
        "\n".into(),
    ];
    let not_sip: Vec<String> = vec![
        request("Content-Length: 3000000\r\n", ""),
        request("Content-Length: 99999999999999999999999\r\n", ""),
        "\r".into(),
        "\rINVITE x SIP/2.0\r\n\r\n".into(),
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".into(),
        "garbage".into(),
    ];
    prop_oneof![
        40 => proptest::sample::select(sip).prop_map(String::into_bytes),
        2 => proptest::sample::select(not_sip).prop_map(String::into_bytes),
        1 => Just(vec![b'h'; MAX_HEAD + 10]),
        1 => proptest::collection::vec(
            proptest::sample::select(b"\r\n :lL0x".to_vec()), 0..12),
    ]
}

proptest! {
    #[test]
    fn frames_as_the_stream_framer_does(
        pieces in proptest::collection::vec(piece(), 1..24),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let stream = pieces.concat();
        let mut at: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        at.extend([0, stream.len()]);
        at.sort_unstable();
        let chunks: Vec<&[u8]> = at.windows(2).map(|w| &stream[w[0]..w[1]]).collect();
        prop_assert_eq!(framed(&chunks), reference(&chunks));
    }

    #[test]
    fn body_length_as_the_parser_reads_it(
        lines in proptest::collection::vec(proptest::sample::select(vec![
            "Content-Length: 12", "content-length :7", "l: 3", "L:x", "Content-Length:",
            " 5", "\t", "Via: x", "noColon", "\r", "", "Content-Length: 1 2", "l:\r 4",
        ]), 0..6),
    ) {
        let head = format!("INVITE x SIP/2.0\r\n{}\r\n\r\n", lines.join("\r\n"));
        let head = head.as_bytes();
        let end = find_head_end(head).unwrap_or(head.len());
        prop_assert_eq!(body_length(&head[..end]), body_length_parsed(&head[..end]));
    }
}

#[test]
fn messages_in_one_segment_and_split() {
    let a = request("Content-Length: 4\r\n", "abcd");
    let stream = format!("{a}\r\n\r\n{a}{a}");
    let mut f = SipFramer::default();
    let mut n = 0;
    for chunk in stream.as_bytes().chunks(7) {
        assert_eq!(
            f.push(chunk, &mut |m| {
                assert_eq!(m, a.as_bytes());
                n += 1;
            }),
            None
        );
    }
    assert_eq!(n, 3);
    assert!(f.held.is_empty());
}

#[test]
fn a_message_without_content_length_keeps_its_finding() {
    let m = parse(request("", "").as_bytes());
    assert!(m.rule_ids().contains(&"msg.stream.no-content-length"));
}
