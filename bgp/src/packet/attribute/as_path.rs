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
