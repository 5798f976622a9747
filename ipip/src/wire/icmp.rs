//! ICMP "Destination Unreachable — fragmentation needed and DF set" (RFC 792, type 3 code 4)
//! with the next-hop MTU field of RFC 1191 §4.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Type = 3    |   Code = 4    |           Checksum            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           unused = 0          |         Next-Hop MTU          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |      Internet Header + leading bytes of the original datagram |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Like the kernel's `__icmp_send()`, the quoted original is cut so the whole error fits 576
//! bytes (548 bytes of original), and no error is sent about an ICMP error, a non-first
//! fragment, or a packet from an unspecified, broadcast or multicast source.

use super::ipv4::{HEADER_LEN, Ipv4Packet, PROTOCOL_ICMP};
use super::{WireError, checksum};

/// Field offsets of the ICMP header.
pub mod field {
    use super::super::ipv4::Field;

    /// Message type.
    pub const TYPE: usize = 0;
    /// Message code.
    pub const CODE: usize = 1;
    /// Checksum over the whole ICMP message.
    pub const CHECKSUM: Field = 2..4;
    /// Unused, zero (RFC 1191 §4).
    pub const UNUSED: Field = 4..6;
    /// Next-hop MTU (RFC 1191 §4).
    pub const NEXT_HOP_MTU: Field = 6..8;
    /// Start of the quoted original datagram.
    pub const ORIGINAL: usize = 8;
}

/// ICMP type Destination Unreachable.
pub const TYPE_DEST_UNREACHABLE: u8 = 3;
/// Code "fragmentation needed and DF set".
pub const CODE_FRAG_NEEDED: u8 = 4;
/// Length of the ICMP header before the quoted datagram.
pub const ICMP_HEADER_LEN: usize = 8;
/// Most original bytes quoted: 576 − 20 (IP) − 8 (ICMP), as the kernel does.
pub const MAX_ORIGINAL_LEN: usize = 576 - HEADER_LEN - ICMP_HEADER_LEN;

/// ICMP types that are errors (RFC 1122 §3.2.2: never send an error about an error).
const ERROR_TYPES: [u8; 5] = [3, 4, 5, 11, 12];

/// A "fragmentation needed" message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragNeededRepr<'a> {
    /// The MTU the sender must use (RFC 1191 §4).
    pub next_hop_mtu: u16,
    /// The quoted start of the original datagram (IP header included).
    pub original: &'a [u8],
}

impl<'a> FragNeededRepr<'a> {
    /// The error the tunnel sends about `original` (a whole IPv4 packet) with `mtu`, or `None`
    /// when no error may be sent about it (RFC 1122 §3.2.2).
    pub fn about(original: &'a [u8], mtu: u16) -> Option<FragNeededRepr<'a>> {
        let packet = Ipv4Packet::new_checked(original).ok()?;
        if packet.fragment_offset() != 0 {
            return None;
        }
        let source = packet.src_addr();
        if source.is_unspecified() || source.is_broadcast() || source.is_multicast() {
            return None;
        }
        if packet.protocol() == PROTOCOL_ICMP
            && let Some(icmp_type) = packet.payload().first()
            && ERROR_TYPES.contains(icmp_type)
        {
            return None;
        }
        let length = usize::from(packet.total_len()).min(MAX_ORIGINAL_LEN);
        let quoted = original.get(..length).unwrap_or(original);
        Some(FragNeededRepr {
            next_hop_mtu: mtu,
            original: quoted,
        })
    }

    /// Parses an ICMP message (without IP header), checking type, code and checksum.
    pub fn parse(message: &'a [u8]) -> Result<FragNeededRepr<'a>, WireError> {
        if message.len() < ICMP_HEADER_LEN {
            return Err(WireError::Truncated {
                what: "ICMP header",
                needed: ICMP_HEADER_LEN,
                available: message.len(),
            });
        }
        let icmp_type = message.get(field::TYPE).copied().unwrap_or(0);
        let code = message.get(field::CODE).copied().unwrap_or(0);
        if icmp_type != TYPE_DEST_UNREACHABLE || code != CODE_FRAG_NEEDED {
            return Err(WireError::UnexpectedIcmp {
                icmp_type,
                code,
                expected: "type 3 code 4 (fragmentation needed)",
            });
        }
        if checksum::ones_complement(message) != 0 {
            let found = match message.get(field::CHECKSUM) {
                Some(&[high, low]) => u16::from_be_bytes([high, low]),
                _ => 0,
            };
            return Err(WireError::BadChecksum {
                what: "ICMP message",
                found,
            });
        }
        let next_hop_mtu = match message.get(field::NEXT_HOP_MTU) {
            Some(&[high, low]) => u16::from_be_bytes([high, low]),
            _ => 0,
        };
        Ok(FragNeededRepr {
            next_hop_mtu,
            original: message.get(field::ORIGINAL..).unwrap_or(&[]),
        })
    }

    /// Length of the emitted ICMP message.
    pub fn buffer_len(&self) -> usize {
        ICMP_HEADER_LEN + self.original.len()
    }

    /// Writes the message, checksum included, into `buffer` (at least [`Self::buffer_len`]).
    pub fn emit(&self, buffer: &mut [u8]) -> Result<(), WireError> {
        let needed = self.buffer_len();
        let available = buffer.len();
        let Some(message) = buffer.get_mut(..needed) else {
            return Err(WireError::Truncated {
                what: "ICMP buffer",
                needed,
                available,
            });
        };
        let (header, original) = message.split_at_mut(ICMP_HEADER_LEN);
        header.copy_from_slice(&[TYPE_DEST_UNREACHABLE, CODE_FRAG_NEEDED, 0, 0, 0, 0, 0, 0]);
        if let Some(mtu) = header.get_mut(field::NEXT_HOP_MTU) {
            mtu.copy_from_slice(&self.next_hop_mtu.to_be_bytes());
        }
        original.copy_from_slice(self.original);
        let sum = checksum::ones_complement(message);
        if let Some(check) = message.get_mut(field::CHECKSUM) {
            check.copy_from_slice(&sum.to_be_bytes());
        }
        Ok(())
    }

    /// The emitted message as a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut buffer = vec![0; self.buffer_len()];
        // The buffer has exactly the needed length, so emit cannot fail.
        let _ = self.emit(&mut buffer);
        buffer
    }
}

#[cfg(test)]
#[path = "icmp_tests.rs"]
mod tests;
