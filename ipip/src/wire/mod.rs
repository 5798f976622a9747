//! Wire formats, smoltcp style: zero-copy views with field offsets as constants, validated
//! once by `new_checked`, and owned `Repr`s with `parse`, `emit` and `buffer_len`.
//!
//! - [`ipv4`]: the IPv4 header (the IPIP outer header and the inner packet).
//! - [`encap`]: RFC 2003 encapsulation and decapsulation with the Linux `ipip` module's rules
//!   for TTL, TOS/ECN and DF.
//! - [`icmp`]: the ICMP "fragmentation needed" message (RFC 792, RFC 1191).
//!
//! Nothing here does I/O, and nothing decoded from the network panics.

pub mod checksum;
pub mod encap;
pub mod icmp;
pub mod ipv4;

#[cfg(test)]
mod fixtures;

pub use encap::{Decapsulated, EcnAction, TunnelParams, decapsulate, encapsulate};
pub use icmp::FragNeededRepr;
pub use ipv4::{Ipv4Packet, Ipv4Repr};

/// Why bytes could not be read or written as a packet. Each variant names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// Fewer bytes than the field or length requires.
    #[error("{what}: truncated, need {needed} bytes, have {available}")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes required.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// The IP version field is not 4.
    #[error("IPv4 version field is {version}, expected 4")]
    BadVersion {
        /// The version found.
        version: u8,
    },
    /// IHL below 5 words.
    #[error("IPv4 header length {header_len} is below 20")]
    BadHeaderLength {
        /// Header length in bytes.
        header_len: usize,
    },
    /// Total length shorter than the header.
    #[error("IPv4 total length {total_len} is shorter than the header ({header_len})")]
    BadTotalLength {
        /// Total length field.
        total_len: usize,
        /// Header length.
        header_len: usize,
    },
    /// A checksum does not verify.
    #[error("{what}: bad checksum {found:#06x}")]
    BadChecksum {
        /// Which checksum.
        what: &'static str,
        /// Checksum found on the wire.
        found: u16,
    },
    /// A fragment where a whole datagram was expected.
    #[error("IPv4 fragment (offset {offset}) where a whole datagram was expected")]
    Fragment {
        /// Fragment offset in bytes.
        offset: u16,
    },
    /// The outer header does not carry protocol 4.
    #[error("outer protocol is {protocol}, not 4 (IPIP)")]
    NotIpip {
        /// Protocol found.
        protocol: u8,
    },
    /// A packet longer than a 16-bit total length allows.
    #[error("packet of {length} bytes exceeds the IPv4 maximum of 65535")]
    TooLong {
        /// Length that was asked for.
        length: usize,
    },
    /// An ICMP message of another type or code than expected.
    #[error("ICMP type {icmp_type} code {code}, expected {expected}")]
    UnexpectedIcmp {
        /// ICMP type found.
        icmp_type: u8,
        /// ICMP code found.
        code: u8,
        /// What was expected.
        expected: &'static str,
    },
}
