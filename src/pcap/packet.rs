//! Synthesised packet headers: Ethernet II, IPv4 (RFC 791), IPv6 (RFC 8200), UDP (RFC 768)
//! and TCP (RFC 9293), with the Internet checksum (RFC 1071) over the pseudo-headers of
//! RFC 768 / RFC 9293 §3.1 (IPv4) and RFC 8200 §8.1 (IPv6).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_IPV6: u16 = 0x86DD;

/// TCP flags.
pub const TCP_FIN: u8 = 0x01;
pub const TCP_SYN: u8 = 0x02;
pub const TCP_PSH: u8 = 0x08;
pub const TCP_ACK: u8 = 0x10;

/// The largest transport payload that fits an IPv4 packet (65535 - 20 - 8 for UDP). Over
/// IPv6 the limit is 65535 - 8; the smaller one is used for both.
pub const MAX_UDP_PAYLOAD: usize = 65_535 - 20 - 8;
/// Segment size used when a message is split over several TCP segments.
pub const MAX_TCP_SEGMENT: usize = 65_000;

/// The addresses of one packet, both of one family (IPv4 with IPv6 is written as IPv6, with
/// the IPv4 address mapped, RFC 4291 §2.5.5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoints {
    pub src: SocketAddr,
    pub dst: SocketAddr,
}

impl Endpoints {
    fn ips(&self) -> (IpAddr, IpAddr) {
        match (self.src.ip(), self.dst.ip()) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (a.into(), b.into()),
            (a, b) => (v6(a).into(), v6(b).into()),
        }
    }
}

fn v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    }
}

/// RFC 1071: the one's complement of the one's complement sum of 16-bit words.
pub fn internet_checksum(chunks: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let mut odd: Option<u8> = None;
    for chunk in chunks {
        for &b in *chunk {
            match odd.take() {
                Some(hi) => sum += u32::from(u16::from_be_bytes([hi, b])),
                None => odd = Some(b),
            }
        }
    }
    if let Some(hi) = odd {
        sum += u32::from(u16::from_be_bytes([hi, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The pseudo-header the UDP and TCP checksums cover.
fn pseudo_header(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(40);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            // RFC 768 / RFC 9293 §3.1: src, dst, zero, protocol, length (16 bits).
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            p.push(0);
            p.push(proto);
            p.extend_from_slice(&(len as u16).to_be_bytes());
        }
        (s, d) => {
            // RFC 8200 §8.1: src, dst, upper-layer length (32 bits), 3 zero octets, next header.
            p.extend_from_slice(&v6(s).octets());
            p.extend_from_slice(&v6(d).octets());
            p.extend_from_slice(&(len as u32).to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, proto]);
        }
    }
    p
}

/// An IP header for `payload_len` octets of `proto`. IPv4 gets a header checksum and
/// Don't Fragment; `id` is the Identification field.
pub fn ip_header(ends: &Endpoints, proto: u8, payload_len: usize, id: u16) -> Vec<u8> {
    match ends.ips() {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = (20 + payload_len) as u16;
            let mut h = vec![0x45, 0];
            h.extend_from_slice(&total.to_be_bytes());
            h.extend_from_slice(&id.to_be_bytes());
            h.extend_from_slice(&[0x40, 0, 64, proto, 0, 0]);
            h.extend_from_slice(&s.octets());
            h.extend_from_slice(&d.octets());
            let sum = internet_checksum(&[&h]);
            h[10..12].copy_from_slice(&sum.to_be_bytes());
            h
        }
        (s, d) => {
            let mut h = vec![0x60, 0, 0, 0];
            h.extend_from_slice(&(payload_len as u16).to_be_bytes());
            h.push(proto);
            h.push(64);
            h.extend_from_slice(&v6(s).octets());
            h.extend_from_slice(&v6(d).octets());
            h
        }
    }
}

/// A UDP header with its checksum (computed for IPv4 too, where 0 would be allowed; a sum of
/// 0 is sent as 0xFFFF, RFC 768).
pub fn udp_header(ends: &Endpoints, payload: &[u8]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut h = Vec::with_capacity(8);
    h.extend_from_slice(&ends.src.port().to_be_bytes());
    h.extend_from_slice(&ends.dst.port().to_be_bytes());
    h.extend_from_slice(&(len as u16).to_be_bytes());
    h.extend_from_slice(&[0, 0]);
    let (s, d) = ends.ips();
    let pseudo = pseudo_header(s, d, PROTO_UDP, len);
    let sum = match internet_checksum(&[&pseudo, &h, payload]) {
        0 => 0xffff,
        x => x,
    };
    h[6..8].copy_from_slice(&sum.to_be_bytes());
    h
}

/// A 20-octet TCP header (no options) with its checksum.
pub fn tcp_header(ends: &Endpoints, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::with_capacity(20);
    h.extend_from_slice(&ends.src.port().to_be_bytes());
    h.extend_from_slice(&ends.dst.port().to_be_bytes());
    h.extend_from_slice(&seq.to_be_bytes());
    h.extend_from_slice(&ack.to_be_bytes());
    h.push(5 << 4);
    h.push(flags);
    h.extend_from_slice(&65535u16.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0, 0]);
    let (s, d) = ends.ips();
    let pseudo = pseudo_header(s, d, PROTO_TCP, 20 + payload.len());
    let sum = internet_checksum(&[&pseudo, &h, payload]);
    h[16..18].copy_from_slice(&sum.to_be_bytes());
    h
}

/// An Ethernet II header with locally administered MAC addresses derived from the IPs (so
/// that each host keeps one MAC across the capture).
pub fn ethernet_header(ends: &Endpoints) -> Vec<u8> {
    let (s, d) = ends.ips();
    let ethertype = match s {
        IpAddr::V4(_) => ETHERTYPE_IPV4,
        IpAddr::V6(_) => ETHERTYPE_IPV6,
    };
    let mut h = Vec::with_capacity(14);
    h.extend_from_slice(&mac(d));
    h.extend_from_slice(&mac(s));
    h.extend_from_slice(&ethertype.to_be_bytes());
    h
}

/// `02:00` + the last four octets of the address: unicast, locally administered.
fn mac(ip: IpAddr) -> [u8; 6] {
    let o = match ip {
        IpAddr::V4(a) => a.octets(),
        IpAddr::V6(a) => {
            let b = a.octets();
            [b[12], b[13], b[14], b[15]]
        }
    };
    [0x02, 0x00, o[0], o[1], o[2], o[3]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_rfc1071_example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (before complement).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet_checksum(&[&data]), !0xddf2);
        // Split across chunks at an odd offset gives the same sum.
        assert_eq!(internet_checksum(&[&data[..3], &data[3..]]), !0xddf2);
    }

    #[test]
    fn headers_verify_to_zero() {
        let ends = Endpoints {
            src: "192.0.2.1:5060".parse().unwrap(),
            dst: "192.0.2.2:5070".parse().unwrap(),
        };
        let ip = ip_header(&ends, PROTO_UDP, 8 + 3, 7);
        assert_eq!(internet_checksum(&[&ip]), 0);
        let udp = udp_header(&ends, b"abc");
        let pseudo = pseudo_header(ends.src.ip(), ends.dst.ip(), PROTO_UDP, 11);
        assert_eq!(internet_checksum(&[&pseudo, &udp, b"abc"]), 0);
        let v6 = Endpoints {
            src: "[::1]:5060".parse().unwrap(),
            dst: "[::1]:5070".parse().unwrap(),
        };
        let tcp = tcp_header(&v6, 1, 2, TCP_ACK, b"abcd");
        let pseudo = pseudo_header(v6.src.ip(), v6.dst.ip(), PROTO_TCP, 24);
        assert_eq!(internet_checksum(&[&pseudo, &tcp, b"abcd"]), 0);
        assert_eq!(ip_header(&v6, PROTO_TCP, 24, 0).len(), 40);
    }
}
