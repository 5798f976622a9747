//! MRT routing information export format reader. RFC 6396.
//!
//! [`MrtReader`] iterates the records of any [`std::io::Read`] (decompress first: the reader
//! sees plain MRT). It yields:
//! - BGP4MP / BGP4MP_ET (types 16, 17) MESSAGE (1) and MESSAGE_AS4 (4), and their _LOCAL
//!   variants (6, 7; messages the collector sent): the raw BGP message with its peer, ready for
//!   [`Bgp4mpMessage::decode`] (§4.4.2, §4.4.3, RFC 8050 §3; ET adds microseconds, §3);
//! - TABLE_DUMP_V2 (type 13) PEER_INDEX_TABLE (1) and RIB_IPV4_UNICAST (2) / RIB_IPV6_UNICAST (4)
//!   with decoded path attributes (4-octet AS, abbreviated MP_REACH_NLRI, §4.3.4).
//!
//! Every other record (STATE_CHANGE(_AS4), ADD-PATH subtypes of RFC 8050, TABLE_DUMP v1, other
//! RIB subtypes) is skipped. A record cut short
//! by the end of input is a [`MrtError::Truncated`], never a panic; the iterator ends after
//! any error.

use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr};

use bytes::Bytes;
use ipnetwork::IpNetwork;

use crate::packet::attribute::decode::{AttributeSource, decode_attributes};
use crate::packet::error::{DecodeError, ErrorAction};
use crate::packet::reader::Reader;
use crate::packet::{CodecContext, Message, NextHop, PathAttributes, nlri};

/// MRT type TABLE_DUMP_V2. RFC 6396 §4.3.
pub const TYPE_TABLE_DUMP_V2: u16 = 13;
/// MRT type BGP4MP. RFC 6396 §4.4.
pub const TYPE_BGP4MP: u16 = 16;
/// MRT type BGP4MP_ET (extended timestamp). RFC 6396 §4.4.
pub const TYPE_BGP4MP_ET: u16 = 17;

const SUBTYPE_MESSAGE: u16 = 1;
const SUBTYPE_MESSAGE_AS4: u16 = 4;
const SUBTYPE_MESSAGE_LOCAL: u16 = 6;
const SUBTYPE_MESSAGE_AS4_LOCAL: u16 = 7;
const SUBTYPE_PEER_INDEX_TABLE: u16 = 1;
const SUBTYPE_RIB_IPV4_UNICAST: u16 = 2;
const SUBTYPE_RIB_IPV6_UNICAST: u16 = 4;

const COMMON_HEADER_LEN: usize = 12;

/// A failure while reading MRT.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MrtError {
    /// The underlying reader failed.
    #[error("reading MRT: {0}")]
    Io(#[from] io::Error),
    /// The input ended inside a record (at `offset` bytes into the stream).
    #[error("MRT record at byte {offset} truncated: needs {needed} bytes, {available} available")]
    Truncated {
        offset: u64,
        needed: usize,
        available: usize,
    },
    /// A record body that does not parse.
    #[error("malformed MRT record at byte {record_offset}: {error}")]
    Malformed {
        record_offset: u64,
        error: DecodeError,
    },
    /// A RIB record before any PEER_INDEX_TABLE, or naming a peer index beyond the table.
    #[error("MRT RIB record at byte {record_offset} names unknown peer index {peer_index}")]
    UnknownPeer { record_offset: u64, peer_index: u16 },
}

/// The MRT common header. RFC 6396 §2 and §3 (extended timestamp).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MrtHeader {
    pub timestamp: u32,
    /// Microseconds, for `_ET` types.
    pub microseconds: Option<u32>,
    pub mrt_type: u16,
    pub subtype: u16,
}

/// A BGP message captured by BGP4MP(_ET) MESSAGE or MESSAGE_AS4. RFC 6396 §4.4.2–4.4.3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bgp4mpMessage {
    pub header: MrtHeader,
    pub peer_as: u32,
    pub local_as: u32,
    pub interface_index: u16,
    pub peer_address: IpAddr,
    pub local_address: IpAddr,
    /// MESSAGE_AS4: AS_PATH and AGGREGATOR in the message use 4-octet ASNs.
    pub four_octet_as: bool,
    /// The whole BGP message, header included.
    pub data: Bytes,
}

impl Bgp4mpMessage {
    /// The codec context the message was sent under.
    pub fn context(&self) -> CodecContext {
        CodecContext {
            four_octet_as: self.four_octet_as,
        }
    }

    /// Decode the BGP message.
    pub fn decode(&self) -> Result<Message, DecodeError> {
        Message::decode(&self.data, &self.context())
    }
}

/// A peer of a TABLE_DUMP_V2 PEER_INDEX_TABLE. RFC 6396 §4.3.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    pub bgp_id: Ipv4Addr,
    pub address: IpAddr,
    pub asn: u32,
}

/// TABLE_DUMP_V2 PEER_INDEX_TABLE. RFC 6396 §4.3.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerIndexTable {
    pub collector_id: Ipv4Addr,
    pub view_name: String,
    pub peers: Vec<Peer>,
}

/// One route of a RIB record: a peer's path to the record's prefix. RFC 6396 §4.3.4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RibEntry {
    pub peer_index: u16,
    pub peer: Peer,
    pub originated_time: u32,
    pub attributes: PathAttributes,
    /// The MP_REACH_NLRI next hop (IPv6 routes, or IPv4 routes over IPv6).
    pub mp_next_hop: Option<NextHop>,
    /// Non-fatal attribute errors (RFC 7606 treat-as-withdraw or discard).
    pub errors: Vec<DecodeError>,
}

/// TABLE_DUMP_V2 RIB_IPV4_UNICAST / RIB_IPV6_UNICAST. RFC 6396 §4.3.2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RibRecord {
    pub header: MrtHeader,
    pub sequence: u32,
    pub prefix: IpNetwork,
    pub entries: Vec<RibEntry>,
}

impl RibRecord {
    /// Every route as (peer, prefix, attributes).
    pub fn routes(&self) -> impl Iterator<Item = (&Peer, IpNetwork, &PathAttributes)> + '_ {
        self.entries
            .iter()
            .map(|entry| (&entry.peer, self.prefix, &entry.attributes))
    }
}

/// A record the reader yields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MrtRecord {
    Message(Bgp4mpMessage),
    PeerIndexTable(PeerIndexTable),
    Rib(RibRecord),
}

/// Reads MRT records from a byte stream.
#[derive(Debug)]
pub struct MrtReader<R> {
    input: R,
    offset: u64,
    peers: Option<Vec<Peer>>,
    done: bool,
}

impl<R: Read> MrtReader<R> {
    pub fn new(input: R) -> Self {
        Self {
            input,
            offset: 0,
            peers: None,
            done: false,
        }
    }

    /// Fill `buf` from the input; returns how many bytes were read (short only at EOF).
    fn read_full(&mut self, buf: &mut [u8]) -> Result<usize, MrtError> {
        let mut filled = 0;
        while filled < buf.len() {
            let Some(rest) = buf.get_mut(filled..) else {
                break;
            };
            match self.input.read(rest) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(filled)
    }

    /// The next raw record: header and body, or `None` at a clean end of input.
    fn next_raw(&mut self) -> Result<Option<(MrtHeader, Vec<u8>, u64)>, MrtError> {
        let record_offset = self.offset;
        let mut header = [0u8; COMMON_HEADER_LEN];
        let got = self.read_full(&mut header)?;
        if got == 0 {
            return Ok(None);
        }
        if got < COMMON_HEADER_LEN {
            return Err(MrtError::Truncated {
                offset: record_offset,
                needed: COMMON_HEADER_LEN,
                available: got,
            });
        }
        let [t0, t1, t2, t3, y0, y1, s0, s1, l0, l1, l2, l3] = header;
        let timestamp = u32::from_be_bytes([t0, t1, t2, t3]);
        let mrt_type = u16::from_be_bytes([y0, y1]);
        let subtype = u16::from_be_bytes([s0, s1]);
        let length = u32::from_be_bytes([l0, l1, l2, l3]) as usize;
        // Read through `take` so a bogus length cannot force a huge allocation up front.
        let mut body = Vec::with_capacity(length.min(1 << 16));
        let got = (&mut self.input)
            .take(length as u64)
            .read_to_end(&mut body)?;
        self.offset += (COMMON_HEADER_LEN + got) as u64;
        if got < length {
            return Err(MrtError::Truncated {
                offset: record_offset,
                needed: length,
                available: got,
            });
        }
        let mut header = MrtHeader {
            timestamp,
            microseconds: None,
            mrt_type,
            subtype,
        };
        if mrt_type == TYPE_BGP4MP_ET {
            let Some(micro) = body.get(..4).and_then(|m| <[u8; 4]>::try_from(m).ok()) else {
                return Err(MrtError::Truncated {
                    offset: record_offset,
                    needed: 4,
                    available: body.len(),
                });
            };
            header.microseconds = Some(u32::from_be_bytes(micro));
            body.drain(..4);
        }
        Ok(Some((header, body, record_offset)))
    }

    /// The next record tern understands, skipping the others.
    pub fn next_record(&mut self) -> Result<Option<MrtRecord>, MrtError> {
        loop {
            let Some((header, body, record_offset)) = self.next_raw()? else {
                return Ok(None);
            };
            let malformed = |error| MrtError::Malformed {
                record_offset,
                error,
            };
            let record = match (header.mrt_type, header.subtype) {
                (
                    TYPE_BGP4MP | TYPE_BGP4MP_ET,
                    SUBTYPE_MESSAGE
                    | SUBTYPE_MESSAGE_AS4
                    | SUBTYPE_MESSAGE_LOCAL
                    | SUBTYPE_MESSAGE_AS4_LOCAL,
                ) => MrtRecord::Message(parse_bgp4mp(header, &body).map_err(malformed)?),
                (TYPE_TABLE_DUMP_V2, SUBTYPE_PEER_INDEX_TABLE) => {
                    let table = parse_peer_index(&body).map_err(malformed)?;
                    self.peers = Some(table.peers.clone());
                    MrtRecord::PeerIndexTable(table)
                }
                (TYPE_TABLE_DUMP_V2, SUBTYPE_RIB_IPV4_UNICAST | SUBTYPE_RIB_IPV6_UNICAST) => {
                    let peers = self.peers.as_deref().unwrap_or_default();
                    MrtRecord::Rib(parse_rib(header, &body, peers, record_offset)?)
                }
                _ => continue,
            };
            return Ok(Some(record));
        }
    }
}

impl<R: Read> Iterator for MrtReader<R> {
    type Item = Result<MrtRecord, MrtError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.next_record().transpose();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}

fn body_reader(body: &[u8]) -> Reader<'_> {
    Reader::new(body, 0, ErrorAction::AttributeDiscard)
}

fn read_address(
    r: &mut Reader<'_>,
    ipv6: bool,
    field: &'static str,
) -> Result<IpAddr, DecodeError> {
    Ok(if ipv6 {
        IpAddr::V6(r.ipv6(field)?)
    } else {
        IpAddr::V4(r.ipv4(field)?)
    })
}

/// BGP4MP MESSAGE / MESSAGE_AS4. RFC 6396 §4.4.2–4.4.3.
fn parse_bgp4mp(header: MrtHeader, body: &[u8]) -> Result<Bgp4mpMessage, DecodeError> {
    let four_octet_as = matches!(
        header.subtype,
        SUBTYPE_MESSAGE_AS4 | SUBTYPE_MESSAGE_AS4_LOCAL
    );
    let mut r = body_reader(body);
    let (peer_as, local_as) = if four_octet_as {
        (r.u32("BGP4MP peer AS")?, r.u32("BGP4MP local AS")?)
    } else {
        (
            u32::from(r.u16("BGP4MP peer AS")?),
            u32::from(r.u16("BGP4MP local AS")?),
        )
    };
    let interface_index = r.u16("BGP4MP interface index")?;
    let afi_at = r.clone();
    let afi = r.u16("BGP4MP address family")?;
    let ipv6 = match afi {
        1 => false,
        2 => true,
        other => {
            return Err(afi_at.error(
                "BGP4MP address family",
                crate::packet::ErrorReason::InvalidValue(u32::from(other)),
            ));
        }
    };
    let peer_address = read_address(&mut r, ipv6, "BGP4MP peer address")?;
    let local_address = read_address(&mut r, ipv6, "BGP4MP local address")?;
    let data = Bytes::copy_from_slice(r.take_rest());
    Ok(Bgp4mpMessage {
        header,
        peer_as,
        local_as,
        interface_index,
        peer_address,
        local_address,
        four_octet_as,
        data,
    })
}

/// PEER_INDEX_TABLE. RFC 6396 §4.3.1.
fn parse_peer_index(body: &[u8]) -> Result<PeerIndexTable, DecodeError> {
    let mut r = body_reader(body);
    let collector_id = r.ipv4("PEER_INDEX_TABLE collector BGP ID")?;
    let name_len = usize::from(r.u16("PEER_INDEX_TABLE view name length")?);
    let view_name =
        String::from_utf8_lossy(r.bytes(name_len, "PEER_INDEX_TABLE view name")?).into_owned();
    let count = r.u16("PEER_INDEX_TABLE peer count")?;
    let mut peers = Vec::with_capacity(usize::from(count).min(r.remaining() / 7 + 1));
    for _ in 0..count {
        let peer_type = r.u8("PEER_INDEX_TABLE peer type")?;
        let bgp_id = r.ipv4("PEER_INDEX_TABLE peer BGP ID")?;
        let address = read_address(
            &mut r,
            peer_type & 0x01 != 0,
            "PEER_INDEX_TABLE peer address",
        )?;
        let asn = if peer_type & 0x02 != 0 {
            r.u32("PEER_INDEX_TABLE peer AS")?
        } else {
            u32::from(r.u16("PEER_INDEX_TABLE peer AS")?)
        };
        peers.push(Peer {
            bgp_id,
            address,
            asn,
        });
    }
    Ok(PeerIndexTable {
        collector_id,
        view_name,
        peers,
    })
}

/// RIB_IPV4_UNICAST / RIB_IPV6_UNICAST. RFC 6396 §4.3.2 and §4.3.4.
fn parse_rib(
    header: MrtHeader,
    body: &[u8],
    peers: &[Peer],
    record_offset: u64,
) -> Result<RibRecord, MrtError> {
    let malformed = |error| MrtError::Malformed {
        record_offset,
        error,
    };
    let mut r = body_reader(body);
    let sequence = r.u32("RIB sequence number").map_err(malformed)?;
    let ipv6 = header.subtype == SUBTYPE_RIB_IPV6_UNICAST;
    let prefix = if ipv6 {
        IpNetwork::V6(nlri::decode_ipv6_prefix(&mut r, "RIB prefix").map_err(malformed)?)
    } else {
        IpNetwork::V4(nlri::decode_ipv4_prefix(&mut r, "RIB prefix").map_err(malformed)?)
    };
    let count = r.u16("RIB entry count").map_err(malformed)?;
    let mut entries = Vec::with_capacity(usize::from(count).min(r.remaining() / 8 + 1));
    let ctx = CodecContext::FOUR_OCTET_AS;
    for _ in 0..count {
        let peer_index = r.u16("RIB entry peer index").map_err(malformed)?;
        let originated_time = r.u32("RIB entry originated time").map_err(malformed)?;
        let len = usize::from(r.u16("RIB entry attribute length").map_err(malformed)?);
        let offset = r.offset();
        let data = r.bytes(len, "RIB entry attributes").map_err(malformed)?;
        let Some(peer) = peers.get(usize::from(peer_index)).copied() else {
            return Err(MrtError::UnknownPeer {
                record_offset,
                peer_index,
            });
        };
        let decoded = decode_attributes(data, offset, &ctx, AttributeSource::MrtRibEntry)
            .map_err(malformed)?;
        entries.push(RibEntry {
            peer_index,
            peer,
            originated_time,
            attributes: decoded.attributes,
            mp_next_hop: decoded.mp_reach.map(|reach| reach.next_hop),
            errors: decoded.errors,
        });
    }
    Ok(RibRecord {
        header,
        sequence,
        prefix,
        entries,
    })
}

#[cfg(test)]
mod tests;
