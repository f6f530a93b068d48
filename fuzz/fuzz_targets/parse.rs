//! Fuzzes the lossless parser: any bytes, as a datagram, as a whole message and through a stream
//! framer, must parse without panicking and give back exactly the bytes they came from.
//!
//! From the repository root (cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP lets stable take
//! them), seeding with the torture corpora:
//!
//! ```text
//! mkdir -p fuzz/corpus/parse
//! RUSTC_BOOTSTRAP=1 cargo fuzz run parse fuzz/corpus/parse ../shared/corpus/rfc4475 \
//!     ../shared/corpus/rfc5118 -- -max_total_time=60
//! ```
#![no_main]

use libfuzzer_sys::fuzz_target;
use siptest::sip::framing::{Frame, StreamFramer};
use siptest::sip::parse::{parse_datagram, parse_message};

fuzz_target!(|data: &[u8]| {
    let d = parse_datagram(data);
    assert_eq!(d.to_bytes(), data, "parse_datagram is not lossless");
    let m = parse_message(data);
    assert_eq!(m.to_bytes(), data, "parse_message is not lossless");
    // Every span must point into the message's bytes (the accessors panic otherwise).
    for m in [&d.message, &m] {
        for h in &m.headers {
            let _ = (m.bytes(h.name_span), m.value(h), m.bytes(h.field));
        }
        let _ = (m.summary(), m.body(), m.rule_ids());
    }

    // The stream, split in two reads at a position set by the first byte (0 = start, 255 = end).
    // Every frame must account for exactly the bytes the framer consumed.
    let split = data
        .first()
        .map_or(0, |&b| usize::from(b) * data.len() / 255);
    let mut framer = StreamFramer::new();
    let mut pushed = 0;
    let mut consumed = 0;
    for part in [&data[..split], &data[split..]] {
        framer.push(part);
        pushed += part.len();
        while let Some(frame) = framer.next_frame() {
            let now = pushed - framer.pending().len();
            assert!(now > consumed, "a frame that consumed nothing: {frame:?}");
            let taken = &data[consumed..now];
            match frame {
                Frame::Message(m) => assert_eq!(m.as_bytes(), taken, "framed bytes differ"),
                Frame::Garbage { bytes, .. } => assert_eq!(bytes, taken, "garbage bytes differ"),
                Frame::KeepAlive { line_breaks } => {
                    assert!(taken.iter().all(|&c| c == b'\r' || c == b'\n'));
                    assert_eq!(line_breaks, taken.iter().filter(|&&c| c == b'\n').count());
                }
            }
            consumed = now;
        }
    }
    assert_eq!(
        framer.pending(),
        &data[consumed..],
        "pending is not the unframed rest"
    );
});
