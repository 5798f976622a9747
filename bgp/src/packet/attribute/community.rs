//! COMMUNITIES (type 8, RFC 1997), EXTENDED COMMUNITIES (type 16, RFC 4360) and
//! LARGE_COMMUNITY (type 32, RFC 8092). Each attribute is a list of fixed-size values.

use std::fmt;

/// A 4-byte community: `asn:value` in the usual notation. RFC 1997.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Community(pub u32);

impl Community {
    /// NO_EXPORT: do not advertise outside the AS (or confederation). RFC 1997.
    pub const NO_EXPORT: Self = Self(0xFFFF_FF01);
    /// NO_ADVERTISE: do not advertise to any peer. RFC 1997.
    pub const NO_ADVERTISE: Self = Self(0xFFFF_FF02);
    /// NO_EXPORT_SUBCONFED: do not advertise to external peers. RFC 1997.
    pub const NO_EXPORT_SUBCONFED: Self = Self(0xFFFF_FF03);
    /// GRACEFUL_SHUTDOWN. RFC 8326.
    pub const GRACEFUL_SHUTDOWN: Self = Self(0xFFFF_0000);
    /// LLGR_STALE. RFC 9494.
    pub const LLGR_STALE: Self = Self(0xFFFF_0006);
    /// NO_LLGR. RFC 9494.
    pub const NO_LLGR: Self = Self(0xFFFF_0007);

    /// The community `asn:value`.
    pub fn new(asn: u16, value: u16) -> Self {
        Self((u32::from(asn) << 16) | u32::from(value))
    }

    /// The high 16 bits (by convention an AS number).
    pub fn asn(self) -> u16 {
        (self.0 >> 16) as u16
    }

    /// The low 16 bits.
    pub fn value(self) -> u16 {
        self.0 as u16
    }
}

impl fmt::Display for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.asn(), self.value())
    }
}

/// An 8-byte extended community, kept as its wire bytes. RFC 4360 §2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExtendedCommunity(pub [u8; 8]);

impl ExtendedCommunity {
    /// The type high octet. RFC 4360 §2.
    pub fn type_high(&self) -> u8 {
        self.0[0]
    }

    /// The subtype octet (for regular types). RFC 4360 §2.
    pub fn subtype(&self) -> u8 {
        self.0[1]
    }

    /// True when the IANA-authority bit says the community is transitive across ASes.
    pub fn is_transitive(&self) -> bool {
        self.0[0] & 0x40 == 0
    }

    /// A two-octet-AS specific route target `asn:value` (type 0x00, subtype 0x02). RFC 4360 §4.
    pub fn route_target(asn: u16, value: u32) -> Self {
        let a = asn.to_be_bytes();
        let v = value.to_be_bytes();
        Self([0x00, 0x02, a[0], a[1], v[0], v[1], v[2], v[3]])
    }
}

/// A 12-byte large community `global:local1:local2`. RFC 8092 §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LargeCommunity {
    pub global_admin: u32,
    pub local_data1: u32,
    pub local_data2: u32,
}

impl LargeCommunity {
    pub fn new(global_admin: u32, local_data1: u32, local_data2: u32) -> Self {
        Self {
            global_admin,
            local_data1,
            local_data2,
        }
    }
}

impl fmt::Display for LargeCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.global_admin, self.local_data1, self.local_data2
        )
    }
}
