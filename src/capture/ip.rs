//! The IP layer: IPv4 (RFC 791) and IPv6 (RFC 8200) headers through `etherparse`'s lax slicing
//! (a packet cut short by the snap length still yields what it holds), and the reassembly of
//! fragments: IPv4 fragments by (source, destination, protocol, Identification) (RFC 791 §3.2,
//! "Fragmentation and Reassembly"), IPv6 fragments by (source, destination, Identification of
//! the Fragment header) (RFC 8200 §4.5).
//!
//! Reassembly is bounded: at most [`MAX_PENDING`] datagrams are being reassembled at a time,
//! each at most 64 KiB (the IP length fields cannot say more), and a datagram whose fragments
//! stop arriving is dropped after [`REASSEMBLY_TIMEOUT`] of capture time (RFC 8200 §4.5 gives
//! 60 seconds). The per-datagram work is `etherparse`'s `IpDefragBuf`; the pool around it is
//! ours because `etherparse`'s own pool has no bound.

use etherparse::defrag::IpDefragBuf;
use etherparse::{IpFragOffset, IpNumber, Ipv6ExtensionSlice, LaxIpSlice};
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

/// Datagrams reassembled at the same time.
pub const MAX_PENDING: usize = 256;
/// How long an incomplete datagram is kept after its last fragment.
pub const REASSEMBLY_TIMEOUT: Duration = Duration::from_secs(60);

/// What an IP packet carries.
pub struct IpPacket<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The upper-layer protocol (after IPv6 extension headers).
    pub proto: u8,
    pub payload: &'a [u8],
    /// Set when the payload is one fragment of a bigger datagram.
    pub fragment: Option<Fragment>,
}

/// Where a fragment belongs.
#[derive(Clone, Copy, Debug)]
pub struct Fragment {
    pub id: u32,
    pub offset: IpFragOffset,
    pub more: bool,
}

/// Parses an IP header. `None` when it is not one (or too broken to find the payload).
pub fn parse(data: &[u8]) -> Option<IpPacket<'_>> {
    let (ip, _ext_err) = LaxIpSlice::from_slice(data).ok()?;
    let payload = ip.payload();
    let fragment = if payload.fragmented {
        match &ip {
            LaxIpSlice::Ipv4(v4) => {
                let h = v4.header();
                Some(Fragment {
                    id: u32::from(h.identification()),
                    offset: h.fragments_offset(),
                    more: h.more_fragments(),
                })
            }
            LaxIpSlice::Ipv6(v6) => v6.extensions().clone().into_iter().find_map(|e| match e {
                Ipv6ExtensionSlice::Fragment(f) => Some(Fragment {
                    id: f.identification(),
                    offset: f.fragment_offset(),
                    more: f.more_fragments(),
                }),
                _ => None,
            }),
        }
    } else {
        None
    };
    Some(IpPacket {
        src: ip.source_addr(),
        dst: ip.destination_addr(),
        proto: payload.ip_number.0,
        payload: payload.payload,
        fragment,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    id: u32,
}

struct Pending {
    buf: IpDefragBuf,
    last: Duration,
}

/// Fragments waiting for the rest of their datagram.
#[derive(Default)]
pub struct Defrag {
    pending: HashMap<Key, Pending>,
    /// Datagrams dropped: expired, evicted for room, or with inconsistent fragments.
    pub dropped: u64,
    /// Datagrams put back together.
    pub reassembled: u64,
}

impl Defrag {
    /// Adds a fragment; returns the whole payload once the last piece is in.
    pub fn add(&mut self, now: Duration, p: &IpPacket<'_>, frag: Fragment) -> Option<Vec<u8>> {
        let key = Key {
            src: p.src,
            dst: p.dst,
            proto: p.proto,
            id: frag.id,
        };
        if !self.pending.contains_key(&key) && self.pending.len() >= MAX_PENDING {
            self.expire(now);
            if self.pending.len() >= MAX_PENDING {
                // Still full: drop the datagram that waited longest.
                if let Some(oldest) = self
                    .pending
                    .iter()
                    .min_by_key(|(_, v)| v.last)
                    .map(|(k, _)| *k)
                {
                    self.pending.remove(&oldest);
                    self.dropped += 1;
                }
            }
        }
        let entry = self.pending.entry(key).or_insert_with(|| Pending {
            buf: IpDefragBuf::new(IpNumber(p.proto), Vec::new(), Vec::new()),
            last: now,
        });
        entry.last = now;
        if entry.buf.add(frag.offset, frag.more, p.payload).is_err() {
            self.pending.remove(&key);
            self.dropped += 1;
            return None;
        }
        if entry.buf.is_complete() {
            let done = self.pending.remove(&key)?;
            self.reassembled += 1;
            return Some(done.buf.take_bufs().0);
        }
        None
    }

    /// Drops datagrams whose last fragment is older than the timeout.
    pub fn expire(&mut self, now: Duration) {
        let before = self.pending.len();
        self.pending
            .retain(|_, v| now.saturating_sub(v.last) <= REASSEMBLY_TIMEOUT);
        self.dropped += (before - self.pending.len()) as u64;
    }

    /// Datagrams still incomplete.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}
