//! The capture container: classic pcap and pcapng, read as a stream of packets with
//! `pcap-parser`.
//!
//! pcap (draft-ietf-opsawg-pcap): one link type and one time-stamp resolution (micro- or
//! nanoseconds, by the magic number) for the whole file. pcapng (draft-ietf-opsawg-pcapng): each
//! Interface Description Block gives its interface's link type and `if_tsresol` / `if_tsoffset`
//! (§4.2); Enhanced Packet Blocks name their interface, Simple Packet Blocks use the first one.
//! A new Section Header Block starts a new list of interfaces (§4.1).
//!
//! The reader holds one buffer (grown only for a record larger than it, up to
//! [`MAX_RECORD`]), so memory does not depend on the size of the file.

use super::{CaptureError, ErrorKind};
use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapBlockOwned, PcapError};
use std::io::Read;
use std::time::Duration;

/// Initial read buffer. Small enough to stay in a core's L2 cache beside the tables of the
/// decoder and of its caller (with 1 MiB, the packets streaming through pushed them out: the
/// capture benchmark's median went from ~0.37 s to ~0.40 s).
const BUFFER: usize = 256 << 10;
/// The largest single record (block) accepted; a corrupt length beyond it ends the read.
pub const MAX_RECORD: usize = 64 << 20;

/// The container format, from the magic number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Pcap,
    Pcapng,
}

/// The container format of `head` (the first four octets of a file), if it is a capture.
pub fn sniff(head: &[u8]) -> Option<Format> {
    let m: [u8; 4] = head.get(..4)?.try_into().ok()?;
    match u32::from_le_bytes(m) {
        0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1 | 0xa1b2_cd34 | 0x34cd_b2a1 => {
            Some(Format::Pcap)
        }
        0x0a0d_0d0a => Some(Format::Pcapng),
        _ => None,
    }
}

/// One packet as the container gives it.
pub struct Packet<'a> {
    /// Wall-clock time since the Unix epoch.
    pub time: Duration,
    /// LINKTYPE_* of the interface that captured it.
    pub link: u32,
    pub data: &'a [u8],
}

/// A pcapng interface: its link type and time-stamp units.
#[derive(Clone, Copy, Debug)]
struct Interface {
    link: u32,
    /// Time-stamp units per second (`if_tsresol`, default 10^6).
    units: u64,
    /// Seconds added to every time stamp (`if_tsoffset`).
    offset: i64,
}

/// Packets from a pcap or pcapng stream.
pub struct PacketSource {
    reader: Box<dyn PcapReaderIterator + Send>,
    /// Legacy pcap: link type and whether fractions are nanoseconds.
    legacy: Option<(u32, bool)>,
    interfaces: Vec<Interface>,
    capacity: usize,
    /// Packets skipped because their interface is unknown.
    pub orphans: u64,
}

impl PacketSource {
    /// Reads the file header. Fails when the stream is not a capture or too short for its header.
    pub fn new(input: Box<dyn Read + Send>) -> Result<Self, CaptureError> {
        let reader = pcap_parser::create_reader(BUFFER, input).map_err(|e| match e {
            PcapError::Eof | PcapError::Incomplete(_) | PcapError::UnexpectedEof => {
                CaptureError::new(ErrorKind::Truncated, 0, "the file ends inside its header")
            }
            PcapError::ReadError => CaptureError::new(ErrorKind::Io, 0, "read error"),
            _ => CaptureError::new(
                ErrorKind::NotACapture,
                0,
                "not a pcap or pcapng file (unknown magic number)",
            ),
        })?;
        Ok(PacketSource {
            reader,
            legacy: None,
            interfaces: Vec::new(),
            capacity: BUFFER,
            orphans: 0,
        })
    }

    /// Octets of the file consumed so far.
    pub fn offset(&self) -> usize {
        self.reader.consumed()
    }

    /// Hands the next packet to `f`. `Ok(false)` at the clean end of the file; an error when the
    /// file is truncated or corrupt (everything before it has been handed over).
    pub fn next_packet(&mut self, f: &mut dyn FnMut(Packet<'_>)) -> Result<bool, CaptureError> {
        loop {
            let offset = self.reader.consumed();
            let ifaces = &mut self.interfaces;
            let orphans = &mut self.orphans;
            match self.reader.next() {
                Ok((len, block)) => {
                    match block {
                        PcapBlockOwned::LegacyHeader(h) => {
                            self.legacy = Some((h.network.0 as u32, h.is_nanosecond_precision()));
                        }
                        PcapBlockOwned::Legacy(b) => {
                            let (link, nanos) = self.legacy.unwrap_or((1, false));
                            let frac = if nanos {
                                b.ts_usec.min(999_999_999)
                            } else {
                                b.ts_usec.min(999_999).saturating_mul(1000)
                            };
                            let time = Duration::new(u64::from(b.ts_sec), frac);
                            let data = &b.data[..b.data.len().min(b.caplen as usize)];
                            f(Packet { time, link, data });
                        }
                        PcapBlockOwned::NG(b) => ng_block(ifaces, orphans, b, f),
                    }
                    // No shift here: `refill` moves only the incomplete tail to the front when the
                    // buffer runs dry, where `consume` would move half the buffer every time half
                    // of it was read (the whole file copied once more).
                    self.reader.consume_noshift(len);
                    return Ok(true);
                }
                Err(PcapError::Eof) => return Ok(false),
                Err(PcapError::Incomplete(_)) => {
                    if self.reader.refill().is_err() {
                        return Err(CaptureError::new(ErrorKind::Io, offset, "read error"));
                    }
                }
                Err(PcapError::BufferTooSmall) => {
                    if self.capacity >= MAX_RECORD {
                        return Err(CaptureError::new(
                            ErrorKind::Corrupt,
                            offset,
                            format!("a record longer than {MAX_RECORD} octets (corrupt length?)"),
                        ));
                    }
                    self.capacity *= 4;
                    self.reader.grow(self.capacity);
                    if self.reader.refill().is_err() {
                        return Err(CaptureError::new(ErrorKind::Io, offset, "read error"));
                    }
                }
                Err(PcapError::UnexpectedEof) => {
                    return Err(CaptureError::new(
                        ErrorKind::Truncated,
                        offset,
                        "the file ends in the middle of a record (truncated capture)",
                    ))
                }
                Err(PcapError::ReadError) => {
                    return Err(CaptureError::new(ErrorKind::Io, offset, "read error"))
                }
                Err(e) => {
                    return Err(CaptureError::new(
                        ErrorKind::Corrupt,
                        offset,
                        format!("corrupt record ({})", short(&e)),
                    ))
                }
            }
        }
    }
}

/// One pcapng block: interfaces are remembered, packets handed to `f`.
fn ng_block(
    interfaces: &mut Vec<Interface>,
    orphans: &mut u64,
    b: Block<'_>,
    f: &mut dyn FnMut(Packet<'_>),
) {
    {
        match b {
            Block::SectionHeader(_) => interfaces.clear(),
            Block::InterfaceDescription(idb) => {
                // if_tsresol: 10^-n or 2^-n seconds; invalid values fall back to microseconds.
                let units = idb.ts_resolution().unwrap_or(1_000_000).max(1);
                interfaces.push(Interface {
                    link: idb.linktype.0 as u32,
                    units,
                    offset: idb.ts_offset(),
                });
            }
            Block::EnhancedPacket(epb) => {
                let Some(i) = interfaces.get(epb.if_id as usize).copied() else {
                    *orphans += 1;
                    return;
                };
                let ts = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                let time = ng_time(ts, i);
                let data = &epb.data[..epb.data.len().min(epb.caplen as usize)];
                f(Packet {
                    time,
                    link: i.link,
                    data,
                });
            }
            Block::SimplePacket(spb) => {
                let Some(i) = interfaces.first().copied() else {
                    *orphans += 1;
                    return;
                };
                // §4.4: no time stamp; the original length bounds the (padded) data.
                let data = &spb.data[..spb.data.len().min(spb.origlen as usize)];
                f(Packet {
                    time: Duration::ZERO,
                    link: i.link,
                    data,
                });
            }
            _ => {}
        }
    }
}

/// A pcapng time stamp in `i.units` per second, plus `if_tsoffset` seconds.
fn ng_time(ts: u64, i: Interface) -> Duration {
    let secs = ts / i.units;
    let frac = ts % i.units;
    let nanos = (u128::from(frac) * 1_000_000_000 / u128::from(i.units)) as u32;
    let secs = if i.offset >= 0 {
        secs.saturating_add(i.offset as u64)
    } else {
        secs.saturating_sub(i.offset.unsigned_abs())
    };
    Duration::new(secs, nanos)
}

fn short(e: &PcapError<&[u8]>) -> String {
    match e {
        PcapError::NomError(_, k) => format!("{k:?}"),
        PcapError::OwnedNomError(_, k) => format!("{k:?}"),
        PcapError::HeaderNotRecognized => "unknown block".into(),
        other => format!("{other:?}").chars().take(80).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcapng_resolutions() {
        let micro = Interface {
            link: 1,
            units: 1_000_000,
            offset: 0,
        };
        assert_eq!(ng_time(1_500_000, micro), Duration::from_millis(1500));
        let binary = Interface {
            units: 1 << 10,
            ..micro
        };
        assert_eq!(ng_time(1024 + 512, binary), Duration::from_millis(1500));
        let offset = Interface {
            offset: 10,
            ..micro
        };
        assert_eq!(ng_time(0, offset), Duration::from_secs(10));
    }

    #[test]
    fn sniffs_magic() {
        assert_eq!(sniff(&[0xd4, 0xc3, 0xb2, 0xa1]), Some(Format::Pcap));
        assert_eq!(sniff(&[0x0a, 0x0d, 0x0d, 0x0a]), Some(Format::Pcapng));
        assert_eq!(sniff(b"siptest-trace 1"), None);
        assert_eq!(sniff(b"ab"), None);
    }
}
