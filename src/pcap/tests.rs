//! The pcap writer checked two ways: a small reader here that decodes every header field and
//! verifies the checksums, and tshark reading the file back (tshark is required: the test
//! fails, with instructions, when it is missing).

use super::*;
use crate::sip::parse::parse_message;
use crate::trace::TracedMessage;
use std::process::Command;

const INVITE: &str = "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\nCall-ID: pcap-1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

fn response(code: &str) -> String {
    format!("SIP/2.0 {code}\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\nFrom: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>;tag=b\r\nCall-ID: pcap-1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
}

const ACK: &str = "ACK sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK2\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>;tag=b\r\nCall-ID: pcap-1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n";

/// INVITE, 100, 200, ACK between `a` and `b`, 10 ms apart.
fn call(a: &str, b: &str, transport: Transport) -> Trace {
    let (a, b): (SocketAddr, SocketAddr) = (a.parse().unwrap(), b.parse().unwrap());
    let msgs = [
        (a, b, INVITE.to_string()),
        (b, a, response("100 Trying")),
        (b, a, response("200 OK")),
        (a, b, ACK.to_string()),
    ];
    Trace {
        messages: msgs
            .into_iter()
            .enumerate()
            .map(|(i, (src, dst, text))| TracedMessage {
                time: Duration::from_millis(10 * i as u64 + 1),
                src,
                dst,
                transport,
                message: parse_message(text.as_bytes()),
            })
            .collect(),
    }
}

/// One record as read back.
#[derive(Debug)]
struct Record {
    secs: u32,
    frac: u32,
    orig_len: u32,
    data: Vec<u8>,
}

fn u16be(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn u32be(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

fn u32le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// (magic, link type, records).
fn read(file: &[u8]) -> (u32, u32, Vec<Record>) {
    assert_eq!((u16::from_le_bytes([file[4], file[5]]), file[6]), (2, 4));
    let mut records = Vec::new();
    let mut at = 24;
    while at < file.len() {
        let incl = u32le(file, at + 8) as usize;
        records.push(Record {
            secs: u32le(file, at),
            frac: u32le(file, at + 4),
            orig_len: u32le(file, at + 12),
            data: file[at + 16..at + 16 + incl].to_vec(),
        });
        at += 16 + incl;
    }
    (u32le(file, 0), u32le(file, 20), records)
}

/// A decoded packet: addresses, transport header fields, payload; checksums verified.
#[derive(Debug)]
struct Decoded {
    src: SocketAddr,
    dst: SocketAddr,
    proto: u8,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: Vec<u8>,
}

fn decode(link: u32, data: &[u8]) -> Decoded {
    let ip = if link == 1 {
        let ethertype = u16be(data, 12);
        assert!(ethertype == 0x0800 || ethertype == 0x86dd);
        assert_eq!(data[0] & 1, 0, "unicast destination MAC");
        &data[14..]
    } else {
        data
    };
    let (src_ip, dst_ip, proto, l4, pseudo): (IpAddr, IpAddr, u8, &[u8], Vec<u8>) = match ip[0] >> 4
    {
        4 => {
            assert_eq!(ip[0] & 0x0f, 5, "IHL");
            assert_eq!(u16be(ip, 2) as usize, ip.len(), "IPv4 total length");
            assert_eq!(internet_checksum(&[&ip[..20]]), 0, "IPv4 header checksum");
            let l4 = &ip[20..];
            let mut p = ip[12..20].to_vec();
            p.extend_from_slice(&[0, ip[9]]);
            p.extend_from_slice(&(l4.len() as u16).to_be_bytes());
            let s: [u8; 4] = ip[12..16].try_into().unwrap();
            let d: [u8; 4] = ip[16..20].try_into().unwrap();
            (s.into(), d.into(), ip[9], l4, p)
        }
        6 => {
            assert_eq!(u16be(ip, 4) as usize, ip.len() - 40, "IPv6 payload length");
            let l4 = &ip[40..];
            let mut p = ip[8..40].to_vec();
            p.extend_from_slice(&(l4.len() as u32).to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, ip[6]]);
            let s: [u8; 16] = ip[8..24].try_into().unwrap();
            let d: [u8; 16] = ip[24..40].try_into().unwrap();
            (s.into(), d.into(), ip[6], l4, p)
        }
        v => panic!("IP version {v}"),
    };
    assert_eq!(internet_checksum(&[&pseudo, l4]), 0, "transport checksum");
    let ports = (u16be(l4, 0), u16be(l4, 2));
    let (seq, ack, flags, payload) = if proto == 17 {
        assert_eq!(u16be(l4, 4) as usize, l4.len(), "UDP length");
        assert_ne!(u16be(l4, 6), 0, "UDP checksum present");
        (0, 0, 0, l4[8..].to_vec())
    } else {
        assert_eq!(l4[12] >> 4, 5, "TCP data offset");
        (u32be(l4, 4), u32be(l4, 8), l4[13], l4[20..].to_vec())
    };
    Decoded {
        src: SocketAddr::new(src_ip, ports.0),
        dst: SocketAddr::new(dst_ip, ports.1),
        proto,
        seq,
        ack,
        flags,
        payload,
    }
}

use std::net::IpAddr;

#[test]
fn udp_over_ipv4_and_ethernet_decodes_field_by_field() {
    let trace = call("192.0.2.1:5060", "192.0.2.2:5070", Transport::Udp);
    let opts = PcapOptions {
        epoch_offset: Duration::new(1_700_000_000, 250_000_000),
        ..PcapOptions::default()
    };
    let (magic, link, recs) = read(&to_bytes(&trace, opts));
    assert_eq!((magic, link), (MAGIC_MICROS, 1));
    assert_eq!(recs.len(), 4);
    for (r, m) in recs.iter().zip(&trace.messages) {
        let d = decode(link, &r.data);
        assert_eq!((d.src, d.dst, d.proto), (m.src, m.dst, 17));
        assert_eq!(d.payload, m.message.as_bytes());
        assert_eq!(r.orig_len as usize, r.data.len());
        let t = opts.epoch_offset + m.time;
        assert_eq!((r.secs, r.frac), (t.as_secs() as u32, t.subsec_micros()));
    }
    assert_eq!(recs[1].frac, 261_000, "250 ms offset + 11 ms");
}

#[test]
fn udp_over_ipv6_raw_with_nanoseconds() {
    let trace = call("[::1]:5060", "[::1]:5070", Transport::Udp);
    let opts = PcapOptions {
        link: LinkType::Raw,
        precision: Precision::Nanos,
        epoch_offset: Duration::new(10, 5),
        ..PcapOptions::default()
    };
    let (magic, link, recs) = read(&to_bytes(&trace, opts));
    assert_eq!((magic, link), (MAGIC_NANOS, 101));
    let d = decode(link, &recs[0].data);
    assert_eq!(d.src, "[::1]:5060".parse().unwrap());
    assert_eq!(d.payload, INVITE.as_bytes());
    assert_eq!((recs[0].secs, recs[0].frac), (10, 1_000_005));
}

#[test]
fn tcp_flows_get_a_handshake_and_continuous_sequence_numbers() {
    let trace = call("192.0.2.1:40000", "192.0.2.2:5060", Transport::Tcp);
    let (_, link, recs) = read(&to_bytes(&trace, PcapOptions::default()));
    let d: Vec<Decoded> = recs.iter().map(|r| decode(link, &r.data)).collect();
    assert_eq!(d.len(), 3 + 4);
    let flags: Vec<u8> = d.iter().map(|p| p.flags).collect();
    assert_eq!(flags, [0x02, 0x12, 0x10, 0x18, 0x18, 0x18, 0x18]);
    let (syn, synack) = (&d[0], &d[1]);
    assert_eq!(synack.ack, syn.seq + 1);
    assert_eq!(d[2].seq, syn.seq + 1);
    assert_eq!(d[2].ack, synack.seq + 1);
    // INVITE a->b, then 100 and 200 b->a, then ACK a->b.
    let invite = &d[3];
    assert_eq!(invite.seq, syn.seq + 1);
    let trying = &d[4];
    assert_eq!(trying.seq, synack.seq + 1);
    assert_eq!(trying.ack, invite.seq + INVITE.len() as u32);
    let ok = &d[5];
    assert_eq!(ok.seq, trying.seq + trying.payload.len() as u32);
    let ack = &d[6];
    assert_eq!(ack.seq, invite.seq + invite.payload.len() as u32);
    assert_eq!(ack.ack, ok.seq + ok.payload.len() as u32);
}

#[test]
fn large_tcp_messages_are_split_into_segments() {
    let body = "x".repeat(150_000);
    let text = format!(
        "MESSAGE sip:b@h SIP/2.0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let trace = Trace {
        messages: vec![TracedMessage {
            time: Duration::ZERO,
            src: "10.0.0.1:5060".parse().unwrap(),
            dst: "10.0.0.2:5060".parse().unwrap(),
            transport: Transport::Tcp,
            message: parse_message(text.as_bytes()),
        }],
    };
    let (_, link, recs) = read(&to_bytes(&trace, PcapOptions::default()));
    let segs: Vec<Decoded> = recs[3..].iter().map(|r| decode(link, &r.data)).collect();
    assert_eq!(segs.len(), 3);
    assert_eq!(segs[1].seq, segs[0].seq + 65_000);
    let all: Vec<u8> = segs.iter().flat_map(|s| s.payload.clone()).collect();
    assert_eq!(all, text.as_bytes());
}

/// Runs tshark on `file` and returns one `method<TAB>status` line per SIP message.
pub(crate) fn tshark_sip_fields(file: &Path) -> Vec<String> {
    let out = Command::new("tshark")
        .args(["-r"])
        .arg(file)
        .args([
            "-Y",
            "sip",
            "-T",
            "fields",
            "-e",
            "sip.Method",
            "-e",
            "sip.Status-Code",
        ])
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => panic!(
            "this test requires tshark, which could not be run ({e}); install it with \
             `apt-get install -y --no-install-recommends tshark`"
        ),
    };
    assert!(
        out.status.success(),
        "tshark failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn tshark_reads_back_every_message_udp_tcp_ipv4_ipv6() {
    let dir = std::env::temp_dir().join(format!("siptest-pcap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            "udp4",
            "192.0.2.1:5060",
            "192.0.2.2:5070",
            Transport::Udp,
            LinkType::Ethernet,
        ),
        (
            "udp6",
            "[2001:db8::1]:5060",
            "[2001:db8::2]:5060",
            Transport::Udp,
            LinkType::Raw,
        ),
        (
            "tcp4",
            "192.0.2.1:40001",
            "192.0.2.2:5060",
            Transport::Tcp,
            LinkType::Ethernet,
        ),
        (
            "tcp6",
            "[::1]:40002",
            "[::1]:5060",
            Transport::Tcp,
            LinkType::Raw,
        ),
    ];
    for (name, a, b, transport, link) in cases {
        let path = dir.join(format!("{name}.pcap"));
        let opts = PcapOptions {
            link,
            ..PcapOptions::starting_at(SystemTime::now())
        };
        write_file(&path, &call(a, b, transport), opts).unwrap();
        let lines = tshark_sip_fields(&path);
        assert_eq!(
            lines,
            ["INVITE\t", "\t100", "\t200", "ACK\t"],
            "{name}: tshark saw {lines:?}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
