//! AS_PATH (type 2) and AS4_PATH (type 17). RFC 4271 §4.3 and §5.1.2, RFC 5065 (confederation
//! segments), RFC 6793 (4-octet AS numbers, AS_TRANS, AS4_PATH).
//!
//! ```text
//! +-----------------+-----------------+------------------------------+
//! | segment type 1B | segment len 1B  | len × ASN (2 or 4 bytes each) |
//! +-----------------+-----------------+------------------------------+
//! ```
//!
//! ASNs are always held as `u32`; the width on the wire follows `CodecContext::four_octet_as`.

/// The kind of an AS_PATH segment. RFC 4271 §4.3, RFC 5065 §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AsSegmentType {
    /// 1: an unordered set of ASes a route has traversed.
    Set,
    /// 2: an ordered list of ASes.
    Sequence,
    /// 3: an ordered list of member ASes in the local confederation.
    ConfedSequence,
    /// 4: an unordered set of member ASes in the local confederation.
    ConfedSet,
}

impl AsSegmentType {
    /// The wire value.
    pub fn value(self) -> u8 {
        match self {
            Self::Set => 1,
            Self::Sequence => 2,
            Self::ConfedSequence => 3,
            Self::ConfedSet => 4,
        }
    }

    /// The type for a wire value, if known.
    pub fn from_value(value: u8) -> Option<Self> {
        match value {
            1 => Some(Self::Set),
            2 => Some(Self::Sequence),
            3 => Some(Self::ConfedSequence),
            4 => Some(Self::ConfedSet),
            _ => None,
        }
    }

    /// True for the confederation segment types (RFC 5065).
    pub fn is_confederation(self) -> bool {
        matches!(self, Self::ConfedSequence | Self::ConfedSet)
    }
}

/// One AS_PATH segment: 1 to 255 ASNs on the wire (longer sequences are split on encode).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AsSegment {
    pub kind: AsSegmentType,
    pub asns: Vec<u32>,
}

impl AsSegment {
    /// An AS_SEQUENCE of these ASNs.
    pub fn sequence(asns: impl Into<Vec<u32>>) -> Self {
        Self {
            kind: AsSegmentType::Sequence,
            asns: asns.into(),
        }
    }

    /// An AS_SET of these ASNs.
    pub fn set(asns: impl Into<Vec<u32>>) -> Self {
        Self {
            kind: AsSegmentType::Set,
            asns: asns.into(),
        }
    }
}

/// The AS_PATH attribute: the segments in wire order. An empty path (no segments) is valid
/// and is what an iBGP speaker sends for locally originated routes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AsPath {
    pub segments: Vec<AsSegment>,
}

impl AsPath {
    /// A path of one AS_SEQUENCE.
    pub fn from_sequence(asns: impl Into<Vec<u32>>) -> Self {
        let asns = asns.into();
        if asns.is_empty() {
            return Self::default();
        }
        Self {
            segments: vec![AsSegment::sequence(asns)],
        }
    }

    /// The path length used by best-path selection: each AS in a SEQUENCE counts one, each
    /// AS_SET counts one, confederation segments count zero. RFC 4271 §9.1.2.2 a, RFC 5065 §5.3.
    pub fn path_length(&self) -> usize {
        self.segments
            .iter()
            .map(|segment| match segment.kind {
                AsSegmentType::Sequence => segment.asns.len(),
                AsSegmentType::Set => 1,
                AsSegmentType::ConfedSequence | AsSegmentType::ConfedSet => 0,
            })
            .sum()
    }

    /// The leftmost AS of the first AS_SEQUENCE (the neighbor AS), if any. RFC 4271 §9.1.2.2.
    pub fn first_as(&self) -> Option<u32> {
        match self.segments.first() {
            Some(segment) if segment.kind == AsSegmentType::Sequence => {
                segment.asns.first().copied()
            }
            _ => None,
        }
    }

    /// The rightmost AS of the last segment: the origin AS when it is a sequence.
    pub fn origin_as(&self) -> Option<u32> {
        match self.segments.last() {
            Some(segment) if segment.kind == AsSegmentType::Sequence => {
                segment.asns.last().copied()
            }
            _ => None,
        }
    }

    /// True when `asn` appears in any segment (loop detection, RFC 4271 §9.1.2).
    pub fn contains(&self, asn: u32) -> bool {
        self.segments
            .iter()
            .any(|segment| segment.asns.contains(&asn))
    }

    /// Every ASN in wire order.
    pub fn asns(&self) -> impl Iterator<Item = u32> + '_ {
        self.segments
            .iter()
            .flat_map(|segment| segment.asns.iter().copied())
    }

    /// A copy with `asn` prepended to the leading AS_SEQUENCE (a new one when the path starts
    /// otherwise or the leading sequence is full). RFC 4271 §5.1.2.
    pub fn prepend(&self, asn: u32) -> Self {
        let mut path = self.clone();
        match path.segments.first_mut() {
            Some(segment)
                if segment.kind == AsSegmentType::Sequence && segment.asns.len() < 255 =>
            {
                segment.asns.insert(0, asn);
            }
            _ => path.segments.insert(0, AsSegment::sequence(vec![asn])),
        }
        path
    }
}

// ---- wire codec -------------------------------------------------------------------------

use bytes::{BufMut, BytesMut};

use crate::packet::AS_TRANS;
use crate::packet::error::{DecodeError, ErrorReason};
use crate::packet::reader::Reader;

/// Most ASNs one segment holds on the wire.
const MAX_SEGMENT_ASNS: usize = 255;

/// Decode an AS_PATH (or AS4_PATH) value with 2- or 4-octet ASNs. Malformed per RFC 7606
/// §7.2: unknown segment type, zero segment length, a segment overrunning the attribute, or a
/// single octet left over; and per RFC 7607 §2: an AS number of zero.
pub(crate) fn decode_as_path(
    mut r: Reader<'_>,
    four_octet: bool,
    field: &'static str,
) -> Result<AsPath, DecodeError> {
    let width = if four_octet { 4 } else { 2 };
    let mut segments = Vec::new();
    while !r.is_empty() {
        let segment_at = r.clone();
        let kind = r.u8(field)?;
        let Some(kind) = AsSegmentType::from_value(kind) else {
            return Err(segment_at.error(field, ErrorReason::InvalidValue(u32::from(kind))));
        };
        let count = r.u8(field)?;
        if count == 0 {
            return Err(segment_at.error(field, ErrorReason::BadLength(0)));
        }
        let mut asns_reader = r.sub(usize::from(count) * width, field)?;
        let mut asns = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let asn_at = asns_reader.clone();
            let asn = if four_octet {
                asns_reader.u32(field)?
            } else {
                u32::from(asns_reader.u16(field)?)
            };
            // RFC 7607 §2: AS 0 in AS_PATH or AS4_PATH makes the attribute malformed.
            if asn == 0 {
                return Err(asn_at.error(field, ErrorReason::InvalidValue(0)));
            }
            asns.push(asn);
        }
        segments.push(AsSegment { kind, asns });
    }
    Ok(AsPath { segments })
}

/// Segments as they go on the wire: empty ones dropped, long ones split.
fn wire_segments(path: &AsPath) -> impl Iterator<Item = (AsSegmentType, &[u32])> {
    path.segments.iter().flat_map(|segment| {
        segment
            .asns
            .chunks(MAX_SEGMENT_ASNS)
            .map(move |chunk| (segment.kind, chunk))
    })
}

/// Length of the encoded AS_PATH value.
pub(crate) fn as_path_len(path: &AsPath, four_octet: bool) -> usize {
    let width = if four_octet { 4 } else { 2 };
    wire_segments(path)
        .map(|(_, asns)| 2 + width * asns.len())
        .sum()
}

/// Append the AS_PATH value. With 2-octet ASNs, ASNs above 65535 become AS_TRANS (RFC 6793
/// §4.2.2).
pub(crate) fn encode_as_path(path: &AsPath, four_octet: bool, buf: &mut BytesMut) {
    for (kind, asns) in wire_segments(path) {
        buf.put_u8(kind.value());
        buf.put_u8(asns.len() as u8);
        for asn in asns {
            if four_octet {
                buf.put_u32(*asn);
            } else {
                buf.put_u16(u16::try_from(*asn).unwrap_or(AS_TRANS));
            }
        }
    }
}

/// True when the path holds an ASN that 2 octets cannot carry, outside confederation segments,
/// so a 2-octet peer needs AS4_PATH. RFC 6793 §4.2.2.
pub(crate) fn needs_as4_path(path: &AsPath) -> bool {
    path.segments
        .iter()
        .filter(|segment| !segment.kind.is_confederation())
        .any(|segment| segment.asns.iter().any(|asn| *asn > u32::from(u16::MAX)))
}

/// The AS4_PATH sent to a 2-octet peer: the path without confederation segments (RFC 6793
/// §3: AS4_PATH carries no confederation segments).
pub(crate) fn as4_path_of(path: &AsPath) -> AsPath {
    AsPath {
        segments: path
            .segments
            .iter()
            .filter(|segment| !segment.kind.is_confederation())
            .cloned()
            .collect(),
    }
}

/// Rebuild the real path from AS_PATH and AS4_PATH of a 2-octet peer. RFC 6793 §4.2.3: when
/// AS_PATH has fewer ASes than AS4_PATH, AS4_PATH is ignored; otherwise the leading
/// (count(AS_PATH) − count(AS4_PATH)) ASes of AS_PATH are prepended to AS4_PATH, where an AS_SET
/// counts one and confederation segments count zero (and are kept).
pub(crate) fn merge_as4_path(as_path: &AsPath, as4_path: &AsPath) -> AsPath {
    let as_count = as_path.path_length();
    let as4_count = as4_path.path_length();
    if as_count < as4_count {
        return as_path.clone();
    }
    let mut remaining = as_count - as4_count;
    let mut segments = Vec::with_capacity(as_path.segments.len() + as4_path.segments.len());
    for segment in &as_path.segments {
        if segment.kind.is_confederation() {
            segments.push(segment.clone());
            continue;
        }
        if remaining == 0 {
            break;
        }
        match segment.kind {
            AsSegmentType::Sequence => {
                let take = remaining.min(segment.asns.len());
                let asns = segment.asns.iter().take(take).copied().collect();
                segments.push(AsSegment {
                    kind: AsSegmentType::Sequence,
                    asns,
                });
                remaining -= take;
            }
            _ => {
                segments.push(segment.clone());
                remaining -= 1;
            }
        }
    }
    segments.extend(as4_path.segments.iter().cloned());
    AsPath { segments }
}
