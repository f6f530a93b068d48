//! Capture reading against the public corpus (`../shared/corpus/pcaps`, or `$SIPTEST_CORPUS`):
//! for every capture, the number of SIP messages siptest finds equals tshark's reference count
//! (INDEX.md, made from `tshark/<file>.sip.tsv`: every `sip.Request-Line` and `sip.Status-Line`
//! occurrence after tshark's reassembly). Plus: siptest's own run pcaps read back to the same
//! messages, truncated and random files never panic.

mod common;

use proptest::prelude::*;
use siptest::capture::{self, ErrorKind};
use siptest::sip::parse::parse_datagram;
use siptest::trace::{Trace, TracedMessage, Transport};
use std::path::PathBuf;
use std::time::Duration;

fn pcaps() -> PathBuf {
    common::corpus_dir().join("pcaps")
}

/// tshark's count for `file`: SIP start lines in its `.sip.tsv` (columns 6 and 7, several
/// values in one field joined with `|`).
fn tshark_count(file: &str) -> usize {
    let tsv = common::corpus("pcaps/tshark", &format!("{file}.sip.tsv"));
    String::from_utf8_lossy(&tsv)
        .lines()
        .skip(1)
        .map(|line| {
            line.split('\t')
                .skip(5)
                .take(2)
                .filter(|f| !f.is_empty())
                .map(|f| f.split('|').count())
                .sum::<usize>()
        })
        .sum()
}

/// The bold "SIP msgs" count of `file` in INDEX.md's summary table.
fn index_count(file: &str) -> usize {
    let index = String::from_utf8_lossy(&common::corpus("pcaps", "INDEX.md")).into_owned();
    let row = index
        .lines()
        .find(|l| l.starts_with(&format!("| `{file}`")))
        .unwrap_or_else(|| panic!("{file} is not in INDEX.md"));
    let bold = row.split("**").nth(1).expect("a bold count in the row");
    bold.parse().expect("a number")
}

fn siptest_capture(file: &str) -> capture::Capture {
    capture::read_file(&pcaps().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// One test per corpus capture: siptest's count equals tshark's (and INDEX.md agrees with the
/// TSV it was made from).
macro_rules! corpus_counts {
    ($($name:ident => $file:literal,)*) => {$(
        #[test]
        fn $name() {
            let reference = tshark_count($file);
            assert_eq!(reference, index_count($file), "INDEX.md and the TSV disagree");
            let c = siptest_capture($file);
            assert!(c.error.is_none(), "{}: {:?}", $file, c.error);
            assert_eq!(
                c.trace.messages.len(),
                reference,
                "{}: siptest found {} SIP messages, tshark {} ({:?})",
                $file,
                c.trace.messages.len(),
                reference,
                c.stats
            );
        }
    )*};
}

corpus_counts! {
    fax_t38_mirror_port => "heplify__FAX-Call-t38-CA-TDM-SIP-FB-1.pcap",
    erspan_gre => "heplify__erspan_sip_ipv4_udp.pcapng",
    negative_ipv6_fragmented_ndn => "heplify__ipv6_udp_fragmented.pcap",
    sip_among_rtp => "heplify__rtp_rtcp_sip_ipv4_udp.pcap",
    tcp_basic => "heplify__sip_ipv4_tcp.pcap",
    tcp_port_6060_segmented => "heplify__sip_ipv4_tcp_fragmented.pcap",
    tcp_retransmission_once => "heplify__sip_ipv4_tcp_retrans.pcap",
    ipv6_udp => "heplify__sip_ipv6_udp.pcap",
    sctp => "heplify__sip_sctp.pcap",
    websocket => "heplify__sip_tcp_websocket.pcap",
    fuzzed => "ndpi__fuzz-2006-06-26-2594.pcap",
    gre_ppp_vlan => "ndpi__gre.pcapng",
    negative_http_on_5060 => "ndpi__http_on_sip_port.pcap",
    pcapng_register => "ndpi__sip_hello.pcapng",
    aaa => "sngrep__aaa.pcap",
    ip_in_ip => "sngrep__ipip.pcap",
    ipv6_fragmented_invites => "sngrep__ipv6frag.pcap",
    cloudshark => "suricata-verify__sip-body-frames__public-cloudshark-sip-s0.pcap",
    large_body_null_link => "suricata-verify__sip-body-large__sip-body-large.pcap",
    compact_form => "suricata-verify__sip-compact-form__sip_compact_form.pcap",
    header_multi_value => "suricata-verify__sip-header-multi-value__sip_header_multi_val.pcap",
    pattern_matching => "suricata-verify__sip-pattern-matching__sip.pcap",
    sdp => "suricata-verify__sip-sdp__sdp.pcap",
    negative_ssdp => "suricata-verify__sip-ssdp-pm__ssdp.pcap",
    tcp_method => "suricata-verify__sip-tcp-method__sip-tcp.pcap",
    tcp_pattern_matching => "suricata-verify__sip-tcp-pattern-matching__sip.pcap",
    junk_before_request => "zeek__sip-junk-before-request.pcap",
    raw_ipv4_long_paths => "zeek__sip-long-request-response-paths.pcap",
}

/// Every capture in the folder is covered by a test above (a new file needs a row).
#[test]
fn every_corpus_capture_has_a_row() {
    let src = include_str!("captures.rs");
    for entry in std::fs::read_dir(pcaps()).expect("the corpus pcaps folder") {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".pcap") || name.ends_with(".pcapng") {
            assert!(src.contains(&format!("\"{name}\"")), "no row for {name}");
        }
    }
}

#[test]
fn transports_and_addresses() {
    let ws = siptest_capture("heplify__sip_tcp_websocket.pcap");
    let count = |t| {
        ws.trace
            .messages
            .iter()
            .filter(|m| m.transport == t)
            .count()
    };
    assert_eq!((count(Transport::Udp), count(Transport::Ws)), (28, 11));
    let sctp = siptest_capture("heplify__sip_sctp.pcap");
    assert!(sctp
        .trace
        .messages
        .iter()
        .all(|m| m.transport == Transport::Sctp));
    // ERSPAN: the inner (SIP endpoint) addresses, not the mirror tunnel's.
    let tsv = common::corpus(
        "pcaps/tshark",
        "heplify__erspan_sip_ipv4_udp.pcapng.sip.tsv",
    );
    let first = String::from_utf8_lossy(&tsv)
        .lines()
        .nth(1)
        .unwrap()
        .to_owned();
    let cols: Vec<&str> = first.split('\t').collect();
    let erspan = siptest_capture("heplify__erspan_sip_ipv4_udp.pcapng");
    let m = &erspan.trace.messages[0];
    assert_eq!(
        cols[1].split('|').next_back().unwrap(),
        m.src.ip().to_string()
    );
    assert_eq!(
        cols[2].split('|').next_back().unwrap(),
        m.dst.ip().to_string()
    );
    // The 64 KiB body over TCP is one whole message.
    let large = siptest_capture("suricata-verify__sip-body-large__sip-body-large.pcap");
    assert_eq!(large.trace.messages[0].message.body().len(), 65536);
}

#[test]
fn time_stamps_are_real() {
    let c = siptest_capture("sngrep__aaa.pcap");
    let start = c.start.expect("a first packet");
    // 2005 capture.
    assert!((1_100_000_000..1_200_000_000).contains(&start.as_secs()));
    let times: Vec<Duration> = c.trace.messages.iter().map(|m| m.time).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    assert!(c.trace.end() > Duration::from_secs(1));
}

fn sample_trace() -> Trace {
    let msg = |s: &str| parse_datagram(s.as_bytes()).message;
    let invite =
        "INVITE sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
                  Call-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    let ok = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
              Call-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    let big = format!(
        "MESSAGE sip:bob@[2001:db8::2] SIP/2.0\r\nCall-ID: c2\r\nCSeq: 1 MESSAGE\r\n\
         Content-Length: 100000\r\n\r\n{}",
        "x".repeat(100_000)
    );
    let a = "192.0.2.1:5060".parse().unwrap();
    let b = "192.0.2.2:5080".parse().unwrap();
    let a6 = "[2001:db8::1]:5061".parse().unwrap();
    let b6 = "[2001:db8::2]:5062".parse().unwrap();
    let m = |t: u64, src, dst, transport, message| TracedMessage {
        time: Duration::from_millis(t),
        src,
        dst,
        transport,
        message,
    };
    Trace {
        messages: vec![
            m(0, a, b, Transport::Udp, msg(invite)),
            m(12, b, a, Transport::Udp, msg(ok)),
            m(20, a, b, Transport::Tcp, msg(invite)),
            m(20, a, b, Transport::Tcp, msg(invite)),
            m(35, b, a, Transport::Tcp, msg(ok)),
            m(50, a6, b6, Transport::Tcp, msg(&big)),
            m(60, b6, a6, Transport::Udp, msg(ok)),
        ],
    }
}

#[test]
fn own_run_pcaps_read_back_to_the_same_messages() {
    use siptest::pcap::{LinkType, PcapOptions, Precision};
    let trace = sample_trace();
    for (link, precision) in [
        (LinkType::Ethernet, Precision::Micros),
        (LinkType::Raw, Precision::Nanos),
    ] {
        let opts = PcapOptions {
            link,
            precision,
            epoch_offset: Duration::from_secs(1_700_000_000),
            ..PcapOptions::default()
        };
        let bytes = siptest::pcap::to_bytes(&trace, opts);
        let c = capture::read_bytes(&bytes).expect("a capture");
        assert!(c.error.is_none());
        assert_eq!(c.start, Some(Duration::from_secs(1_700_000_000)));
        assert_eq!(c.trace.messages.len(), trace.messages.len());
        for (got, want) in c.trace.messages.iter().zip(&trace.messages) {
            assert_eq!(got.message.as_bytes(), want.message.as_bytes());
            assert_eq!(
                (got.src, got.dst, got.transport),
                (want.src, want.dst, want.transport)
            );
            assert_eq!(got.time, want.time);
        }
    }
}

/// Cutting a capture anywhere gives the messages before the cut and a truncation error, never
/// a panic.
#[test]
fn truncated_files_report_an_error() {
    for file in [
        "sngrep__ipv6frag.pcap",
        "ndpi__sip_hello.pcapng",
        "heplify__sip_tcp_websocket.pcap",
        "heplify__erspan_sip_ipv4_udp.pcapng",
    ] {
        let bytes = common::corpus("pcaps", file);
        let full = capture::read_bytes(&bytes).unwrap().trace.messages.len();
        let step = (bytes.len() / 97).max(1);
        let mut cut = 1;
        while cut < bytes.len() {
            match capture::read_bytes(&bytes[..cut]) {
                Ok(c) => {
                    assert!(c.trace.messages.len() <= full, "{file} cut at {cut}");
                    // A cut on a record boundary is a complete (shorter) file.
                    if let Some(e) = &c.error {
                        assert!(matches!(e.kind, ErrorKind::Truncated | ErrorKind::Corrupt));
                        assert!(e.offset <= cut);
                    }
                }
                Err(e) => assert!(
                    matches!(e.kind, ErrorKind::Truncated | ErrorKind::NotACapture),
                    "{file} cut at {cut}: {e}"
                ),
            }
            cut += step;
        }
        // A cut in the middle of the last record is reported.
        let c = capture::read_bytes(&bytes[..bytes.len() - 3]).unwrap();
        assert_eq!(
            c.error.map(|e| e.kind),
            Some(ErrorKind::Truncated),
            "{file}"
        );
    }
}

#[test]
fn not_a_capture() {
    let e = capture::read_bytes(b"siptest-trace 1\n").unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotACapture);
    assert!(capture::read_bytes(b"").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random bytes behind a valid pcap or pcapng header never panic.
    #[test]
    fn random_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..4096), ng in any::<bool>()) {
        let mut file = if ng {
            common::corpus("pcaps", "ndpi__gre.pcapng")[..28].to_vec()
        } else {
            common::corpus("pcaps", "sngrep__aaa.pcap")[..24].to_vec()
        };
        file.extend_from_slice(&body);
        let _ = capture::read_bytes(&file);
        let _ = capture::read_bytes(&body);
    }

    /// Random packet bytes under every link type never panic the decoder.
    #[test]
    fn random_packets_never_panic(packets in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 1..20)) {
        let mut d = capture::Decoder::new();
        for (i, p) in packets.iter().enumerate() {
            for link in [0, 1, 101, 113, 276, 228] {
                d.packet(Duration::from_millis(i as u64), link, p);
            }
        }
        while d.pop().is_some() {}
    }
}
