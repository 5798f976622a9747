//! Address ranges: `ipBlock` CIDRs with their `except` holes, pod addresses, and the merged,
//! non-overlapping element lists that nftables interval sets require.
//!
//! An interval set rejects overlapping elements ("conflicting intervals specified"), so every
//! list handed to the renderer goes through [`merge`] first.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnetwork::IpNetwork;

use crate::ir::Family;

/// An inclusive range of addresses of one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AddressRange {
    first: IpAddr,
    last: IpAddr,
}

/// Why a CIDR string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CIDR {value:?}")]
pub struct CidrError {
    /// The offending text.
    pub value: String,
}

fn to_bits(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn from_bits(family: Family, bits: u128) -> IpAddr {
    match family {
        // Callers only pass values that came from an IPv4 address of the same range.
        Family::V4 => IpAddr::V4(Ipv4Addr::from(u32::try_from(bits).unwrap_or(u32::MAX))),
        Family::V6 => IpAddr::V6(Ipv6Addr::from(bits)),
    }
}

fn width(family: Family) -> u32 {
    match family {
        Family::V4 => 32,
        Family::V6 => 128,
    }
}

impl AddressRange {
    /// One address.
    pub fn single(address: IpAddr) -> AddressRange {
        AddressRange {
            first: address,
            last: address,
        }
    }

    /// Every address of a network (host bits ignored, as the API server's CIDR parsing does).
    pub fn from_network(network: IpNetwork) -> AddressRange {
        AddressRange {
            first: network.network(),
            last: network.broadcast(),
        }
    }

    /// Parse `a.b.c.d/len` or `x::/len`; host bits are cleared.
    pub fn parse_cidr(text: &str) -> Result<AddressRange, CidrError> {
        let network: IpNetwork = text.trim().parse().map_err(|_| CidrError {
            value: text.to_string(),
        })?;
        Ok(AddressRange::from_network(network))
    }

    /// First address.
    pub fn first(&self) -> IpAddr {
        self.first
    }

    /// Last address.
    pub fn last(&self) -> IpAddr {
        self.last
    }

    /// Address family.
    pub fn family(&self) -> Family {
        Family::of(&self.first)
    }

    /// Whether `address` lies in the range.
    pub fn contains(&self, address: &IpAddr) -> bool {
        Family::of(address) == self.family()
            && to_bits(*address) >= to_bits(self.first)
            && to_bits(*address) <= to_bits(self.last)
    }

    /// The prefix length when the range is exactly one CIDR block.
    fn prefix_length(&self) -> Option<u32> {
        let span = to_bits(self.last) - to_bits(self.first);
        if span == u128::MAX {
            return Some(0);
        }
        let size = span + 1;
        if !size.is_power_of_two() || !to_bits(self.first).is_multiple_of(size) {
            return None;
        }
        Some(width(self.family()) - size.trailing_zeros())
    }

    /// This range minus `hole`: zero, one or two ranges. A hole of the other family, or one
    /// that does not overlap, changes nothing.
    pub fn subtract(&self, hole: &AddressRange) -> Vec<AddressRange> {
        let family = self.family();
        if hole.family() != family {
            return vec![*self];
        }
        let (first, last) = (to_bits(self.first), to_bits(self.last));
        let (hole_first, hole_last) = (to_bits(hole.first), to_bits(hole.last));
        if hole_last < first || hole_first > last {
            return vec![*self];
        }
        let mut pieces = Vec::new();
        if hole_first > first {
            pieces.push(AddressRange {
                first: self.first,
                last: from_bits(family, hole_first - 1),
            });
        }
        if hole_last < last {
            pieces.push(AddressRange {
                first: from_bits(family, hole_last + 1),
                last: self.last,
            });
        }
        pieces
    }
}

/// `cidr` minus every `except` range: what one `ipBlock` peer matches.
pub fn carve(cidr: AddressRange, excepts: &[AddressRange]) -> Vec<AddressRange> {
    let mut pieces = vec![cidr];
    for hole in excepts {
        pieces = pieces
            .iter()
            .flat_map(|piece| piece.subtract(hole))
            .collect();
    }
    pieces
}

/// Sort and merge overlapping ranges (adjacent ones stay separate, so a pod address keeps its
/// own element and churns alone). The result never overlaps.
pub fn merge(mut ranges: Vec<AddressRange>) -> Vec<AddressRange> {
    ranges.sort();
    let mut merged: Vec<AddressRange> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(previous)
                if previous.family() == range.family()
                    && to_bits(range.first) <= to_bits(previous.last) =>
            {
                if to_bits(range.last) > to_bits(previous.last) {
                    previous.last = range.last;
                }
            }
            _ => merged.push(range),
        }
    }
    merged
}

impl fmt::Display for AddressRange {
    /// nft element syntax: `a`, `a/len` or `a-b`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            return write!(f, "{}", self.first);
        }
        match self.prefix_length() {
            Some(length) => write!(f, "{}/{}", self.first, length),
            None => write!(f, "{}-{}", self.first, self.last),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(text: &str) -> AddressRange {
        AddressRange::parse_cidr(text).unwrap()
    }

    #[test]
    fn except_carves_one_hole() {
        let pieces = carve(cidr("192.0.2.0/24"), &[cidr("192.0.2.128/25")]);
        let shown: Vec<String> = pieces.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["192.0.2.0/25"]);
    }

    #[test]
    fn except_in_the_middle_leaves_two_pieces() {
        let pieces = carve(cidr("192.0.2.0/24"), &[cidr("192.0.2.16/28")]);
        let shown: Vec<String> = pieces.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["192.0.2.0/28", "192.0.2.32-192.0.2.255"]);
    }

    #[test]
    fn host_bits_are_cleared() {
        assert_eq!(cidr("192.0.2.77/24").to_string(), "192.0.2.0/24");
        assert_eq!(cidr("2001:db8::1/64").to_string(), "2001:db8::/64");
    }

    #[test]
    fn merge_joins_overlaps_only() {
        let merged = merge(vec![
            AddressRange::single("198.19.1.6".parse().unwrap()),
            cidr("198.19.1.0/29"),
            AddressRange::single("198.19.1.8".parse().unwrap()),
            cidr("2001:db8::/64"),
        ]);
        let shown: Vec<String> = merged.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["198.19.1.0/29", "198.19.1.8", "2001:db8::/64"]);
    }

    #[test]
    fn whole_space_and_other_family_holes() {
        let all = cidr("0.0.0.0/0");
        assert_eq!(all.to_string(), "0.0.0.0/0");
        assert_eq!(carve(all, &[cidr("2001:db8::/32")]), vec![all]);
        assert!(AddressRange::parse_cidr("300.0.0.0/8").is_err());
    }
}
