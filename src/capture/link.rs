//! Link layers and tunnels, down to the IP packet: Ethernet II with 802.1Q/802.1ad VLAN tags
//! and MPLS labels, Linux "cooked" SLL and SLL2, BSD loopback (NULL/LOOP), raw IP; and the
//! tunnels found in SIP captures: GRE (RFC 2784, RFC 2890 key and sequence number, PPTP's
//! enhanced GRE of RFC 2637 §4.1) carrying IP, Ethernet (transparent bridging), PPP or ERSPAN
//! type II/III (draft-foschiano-erspan). IP-in-IP is handled in the IP layer.
//!
//! Link types are the tcpdump LINKTYPE_* values.

/// EtherTypes used here.
pub const ETH_IPV4: u16 = 0x0800;
pub const ETH_IPV6: u16 = 0x86DD;
const ETH_VLAN: u16 = 0x8100;
const ETH_QINQ: u16 = 0x88A8;
const ETH_QINQ_OLD: u16 = 0x9100;
const ETH_MPLS: u16 = 0x8847;
const ETH_MPLS_MC: u16 = 0x8848;
const ETH_PPPOE: u16 = 0x8864;
const ETH_BRIDGING: u16 = 0x6558;
const ETH_ERSPAN2: u16 = 0x88BE;
const ETH_ERSPAN3: u16 = 0x22EB;
const ETH_PPP: u16 = 0x880B;

/// How many encapsulations are followed before giving up (a crafted loop of tunnels).
pub const MAX_DEPTH: usize = 8;

/// The IP packet inside a frame of link type `link`, if there is one.
pub fn to_ip(link: u32, data: &[u8]) -> Option<&[u8]> {
    match link {
        // LINKTYPE_ETHERNET
        1 => ethernet(data, 0),
        // LINKTYPE_NULL (host byte order AF) and LINKTYPE_LOOP (network order): the AF values
        // for IPv6 differ between systems, so the IP version nibble decides.
        0 | 108 => ip_by_version(data.get(4..)?),
        // LINKTYPE_RAW (101), DLT_RAW on some systems (12, 14), LINKTYPE_IPV4/IPV6.
        101 | 12 | 14 | 228 | 229 => ip_by_version(data),
        // LINKTYPE_LINUX_SLL: 16-octet header, protocol type last.
        113 => {
            let proto = u16::from_be_bytes([*data.get(14)?, *data.get(15)?]);
            ethertype(proto, data.get(16..)?, 0)
        }
        // LINKTYPE_LINUX_SLL2: 20-octet header, protocol type first.
        276 => {
            let proto = u16::from_be_bytes([*data.first()?, *data.get(1)?]);
            ethertype(proto, data.get(20..)?, 0)
        }
        // LINKTYPE_PPP (9) and PPP_HDLC (50)
        9 | 50 => ppp(data),
        _ => None,
    }
}

/// `data` when it starts with an IPv4 or IPv6 header.
fn ip_by_version(data: &[u8]) -> Option<&[u8]> {
    match data.first()? >> 4 {
        4 | 6 => Some(data),
        _ => None,
    }
}

/// An Ethernet II frame (802.3 frames with a length instead of a type carry no IP here).
pub fn ethernet(data: &[u8], depth: usize) -> Option<&[u8]> {
    let t = u16::from_be_bytes([*data.get(12)?, *data.get(13)?]);
    ethertype(t, data.get(14..)?, depth)
}

/// The IP packet behind an EtherType, through VLAN tags, MPLS labels and PPPoE sessions.
fn ethertype(mut t: u16, mut data: &[u8], depth: usize) -> Option<&[u8]> {
    for _ in 0..MAX_DEPTH {
        match t {
            ETH_IPV4 | ETH_IPV6 => return Some(data),
            ETH_VLAN | ETH_QINQ | ETH_QINQ_OLD => {
                // IEEE 802.1Q: TCI (2 octets), then the inner EtherType.
                t = u16::from_be_bytes([*data.get(2)?, *data.get(3)?]);
                data = data.get(4..)?;
            }
            ETH_MPLS | ETH_MPLS_MC => {
                // RFC 3032 §2.1: labels until the bottom-of-stack bit, then (usually) IP.
                loop {
                    let bottom = data.get(2)? & 1 == 1;
                    data = data.get(4..)?;
                    if bottom {
                        break;
                    }
                }
                return ip_by_version(data);
            }
            ETH_PPPOE => return ppp(data.get(6..)?),
            ETH_BRIDGING if depth < MAX_DEPTH => return ethernet(data, depth + 1),
            _ => return None,
        }
    }
    None
}

/// A PPP frame (RFC 1661 §2), with or without the HDLC address/control octets (RFC 1662).
fn ppp(data: &[u8]) -> Option<&[u8]> {
    let data = if data.starts_with(&[0xff, 0x03]) {
        &data[2..]
    } else {
        data
    };
    // Protocol field: one octet when the first is odd (compressed), else two.
    let (proto, rest) = if data.first()? & 1 == 1 {
        (u16::from(data[0]), &data[1..])
    } else {
        (u16::from_be_bytes([data[0], *data.get(1)?]), data.get(2..)?)
    };
    match proto {
        0x21 | 0x57 => ip_by_version(rest),
        _ => None,
    }
}

/// The IP packet inside a GRE packet (IP protocol 47).
pub fn gre(data: &[u8], depth: usize) -> Option<&[u8]> {
    if depth >= MAX_DEPTH {
        return None;
    }
    let flags = u16::from_be_bytes([*data.first()?, *data.get(1)?]);
    let proto = u16::from_be_bytes([*data.get(2)?, *data.get(3)?]);
    let version = flags & 0x7;
    let mut off = 4;
    // RFC 2784 §2.1: C (checksum + reserved), RFC 2890 §2: K (key) and S (sequence number).
    if flags & 0x8000 != 0 {
        off += 4;
    }
    if flags & 0x2000 != 0 {
        off += 4;
    }
    let seq = flags & 0x1000 != 0;
    if seq {
        off += 4;
    }
    // RFC 2637 §4.1 (version 1): an acknowledgment number when A is set.
    if version == 1 && flags & 0x0080 != 0 {
        off += 4;
    }
    let inner = data.get(off..)?;
    match proto {
        ETH_IPV4 | ETH_IPV6 => ip_by_version(inner),
        ETH_BRIDGING => ethernet(inner, depth + 1),
        ETH_PPP => ppp(inner),
        // ERSPAN type II: an 8-octet header then the mirrored Ethernet frame; without the S bit
        // it is type I, with no ERSPAN header.
        ETH_ERSPAN2 => ethernet(if seq { inner.get(8..)? } else { inner }, depth + 1),
        ETH_ERSPAN3 => {
            // Type III: 12 octets; the O bit (lowest of the last octet) adds an 8-octet
            // platform-specific subheader. Frame type 0 is Ethernet, 2 is IP.
            let last = *inner.get(11)?;
            let frame_type = (inner.get(10)? >> 2) & 0x1f;
            let len = if last & 1 == 1 { 20 } else { 12 };
            let frame = inner.get(len..)?;
            if frame_type == 2 {
                ip_by_version(frame)
            } else {
                ethernet(frame, depth + 1)
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vlan_and_null() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x81, 0x00, 0x00, 0x05, 0x08, 0x00, 0x45, 0]);
        assert_eq!(to_ip(1, &f), Some(&[0x45u8, 0][..]));
        assert_eq!(to_ip(0, &[2, 0, 0, 0, 0x60, 1]), Some(&[0x60u8, 1][..]));
        assert_eq!(to_ip(0, &[2, 0, 0, 0, 0x10]), None);
        assert_eq!(to_ip(9999, &f), None);
    }

    #[test]
    fn gre_with_ppp() {
        // GRE version 1 with key and sequence (no acknowledgment), PPP carrying IPv4.
        let mut g = vec![0x30, 0x01, 0x88, 0x0b, 0, 4, 0, 1, 0, 0, 0, 1];
        g.extend_from_slice(&[0xff, 0x03, 0x00, 0x21, 0x45, 9]);
        assert_eq!(gre(&g, 0), Some(&[0x45u8, 9][..]));
    }
}
