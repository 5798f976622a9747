//! IPv4 header (RFC 791 §3.1): a zero-copy view [`Ipv4Packet`] and an owned [`Ipv4Repr`].
//!
//! Contract: [`Ipv4Packet::new_checked`] validates the buffer once (length, version, IHL, total
//! length); after that no accessor panics. Accessors never panic even on an unchecked view:
//! they read through `get` and yield zero for bytes that are not there.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version|  IHL  |  DSCP     |ECN|          Total Length         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Identification        |Flags|      Fragment Offset    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Time to Live |    Protocol   |         Header Checksum       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       Source Address                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Destination Address                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use std::net::Ipv4Addr;

use super::{WireError, checksum};

/// A byte range inside a header.
pub type Field = std::ops::Range<usize>;

/// Field offsets of the fixed IPv4 header.
pub mod field {
    use super::Field;

    /// Version (high nibble) and IHL in 32-bit words (low nibble).
    pub const VER_IHL: usize = 0;
    /// DSCP (high six bits) and ECN (low two bits): the old TOS byte.
    pub const DSCP_ECN: usize = 1;
    /// Total length of header and payload, in bytes.
    pub const LENGTH: Field = 2..4;
    /// Identification.
    pub const IDENT: Field = 4..6;
    /// Flags (reserved, DF, MF) and fragment offset in 8-byte units.
    pub const FLG_OFF: Field = 6..8;
    /// Time to live.
    pub const TTL: usize = 8;
    /// Payload protocol number.
    pub const PROTOCOL: usize = 9;
    /// Header checksum (RFC 1071).
    pub const CHECKSUM: Field = 10..12;
    /// Source address.
    pub const SRC_ADDR: Field = 12..16;
    /// Destination address.
    pub const DST_ADDR: Field = 16..20;
}

/// Length of an IPv4 header without options.
pub const HEADER_LEN: usize = 20;
/// Largest total length an IPv4 packet can carry.
pub const MAX_PACKET_LEN: usize = 65535;
/// Protocol number of ICMP (RFC 792).
pub const PROTOCOL_ICMP: u8 = 1;
/// Protocol number of IP-in-IP (RFC 2003 §3: "Protocol 4").
pub const PROTOCOL_IPIP: u8 = 4;

const FLAG_DONT_FRAGMENT: u16 = 0x4000;
const FLAG_MORE_FRAGMENTS: u16 = 0x2000;
const FRAGMENT_OFFSET_MASK: u16 = 0x1fff;

/// A read (and, for mutable buffers, write) view of an IPv4 packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps a buffer without checking it. Accessors still do not panic.
    pub const fn new_unchecked(buffer: T) -> Ipv4Packet<T> {
        Ipv4Packet { buffer }
    }

    /// Wraps a buffer and validates it with [`Ipv4Packet::check_len`].
    pub fn new_checked(buffer: T) -> Result<Ipv4Packet<T>, WireError> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer holds a whole IPv4 packet: at least 20 bytes, version 4, an IHL of
    /// at least 5 words, a total length covering the header and not exceeding the buffer.
    /// Bytes after the total length (link padding) are allowed and ignored.
    pub fn check_len(&self) -> Result<(), WireError> {
        let available = self.buffer.as_ref().len();
        if available < HEADER_LEN {
            return Err(WireError::Truncated {
                what: "IPv4 header",
                needed: HEADER_LEN,
                available,
            });
        }
        if self.version() != 4 {
            return Err(WireError::BadVersion {
                version: self.version(),
            });
        }
        let header_len = self.header_len();
        if header_len < HEADER_LEN {
            return Err(WireError::BadHeaderLength { header_len });
        }
        let total_len = usize::from(self.total_len());
        if total_len < header_len {
            return Err(WireError::BadTotalLength {
                total_len,
                header_len,
            });
        }
        if available < total_len {
            return Err(WireError::Truncated {
                what: "IPv4 packet (total length)",
                needed: total_len,
                available,
            });
        }
        Ok(())
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn byte(&self, index: usize) -> u8 {
        self.buffer.as_ref().get(index).copied().unwrap_or(0)
    }

    fn u16_at(&self, field: Field) -> u16 {
        match self.buffer.as_ref().get(field) {
            Some(&[high, low]) => u16::from_be_bytes([high, low]),
            _ => 0,
        }
    }

    fn address_at(&self, field: Field) -> Ipv4Addr {
        match self.buffer.as_ref().get(field) {
            Some(&[a, b, c, d]) => Ipv4Addr::new(a, b, c, d),
            _ => Ipv4Addr::UNSPECIFIED,
        }
    }

    /// Version field (4 for IPv4).
    pub fn version(&self) -> u8 {
        self.byte(field::VER_IHL) >> 4
    }

    /// Header length in bytes (IHL × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.byte(field::VER_IHL) & 0x0f) * 4
    }

    /// The whole DSCP/ECN byte (the old TOS field, RFC 2474 / RFC 3168).
    pub fn tos(&self) -> u8 {
        self.byte(field::DSCP_ECN)
    }

    /// Differentiated services code point (RFC 2474).
    pub fn dscp(&self) -> u8 {
        self.tos() >> 2
    }

    /// Explicit congestion notification bits (RFC 3168 §5).
    pub fn ecn(&self) -> u8 {
        self.tos() & 0x03
    }

    /// Total length of header and payload.
    pub fn total_len(&self) -> u16 {
        self.u16_at(field::LENGTH)
    }

    /// Identification.
    pub fn ident(&self) -> u16 {
        self.u16_at(field::IDENT)
    }

    /// Don't Fragment flag.
    pub fn dont_fragment(&self) -> bool {
        self.u16_at(field::FLG_OFF) & FLAG_DONT_FRAGMENT != 0
    }

    /// More Fragments flag.
    pub fn more_fragments(&self) -> bool {
        self.u16_at(field::FLG_OFF) & FLAG_MORE_FRAGMENTS != 0
    }

    /// Fragment offset in bytes.
    pub fn fragment_offset(&self) -> u16 {
        (self.u16_at(field::FLG_OFF) & FRAGMENT_OFFSET_MASK) << 3
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.byte(field::TTL)
    }

    /// Payload protocol number.
    pub fn protocol(&self) -> u8 {
        self.byte(field::PROTOCOL)
    }

    /// Header checksum as found on the wire.
    pub fn checksum(&self) -> u16 {
        self.u16_at(field::CHECKSUM)
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        self.address_at(field::SRC_ADDR)
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        self.address_at(field::DST_ADDR)
    }

    /// The header bytes (options included).
    pub fn header(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        data.get(..self.header_len()).unwrap_or(data)
    }

    /// Whether the header checksum is valid (the one's complement sum over the header is 0).
    pub fn verify_checksum(&self) -> bool {
        checksum::ones_complement(self.header()) == 0
    }

    /// The payload: bytes from the end of the header up to the total length.
    pub fn payload(&self) -> &[u8] {
        let range = self.header_len()..usize::from(self.total_len());
        self.buffer.as_ref().get(range).unwrap_or(&[])
    }

    /// Header and payload up to the total length (without link padding).
    pub fn packet(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        data.get(..usize::from(self.total_len())).unwrap_or(data)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    fn set_byte(&mut self, index: usize, value: u8) {
        if let Some(byte) = self.buffer.as_mut().get_mut(index) {
            *byte = value;
        }
    }

    fn set_bytes(&mut self, field: Field, value: &[u8]) {
        if let Some(bytes) = self.buffer.as_mut().get_mut(field)
            && bytes.len() == value.len()
        {
            bytes.copy_from_slice(value);
        }
    }

    /// Sets version and IHL (header length in bytes, a multiple of 4).
    pub fn set_version_and_header_len(&mut self, version: u8, header_len: usize) {
        let words = u8::try_from(header_len / 4).unwrap_or(0x0f) & 0x0f;
        self.set_byte(field::VER_IHL, (version << 4) | words);
    }

    /// Sets the DSCP/ECN byte.
    pub fn set_tos(&mut self, tos: u8) {
        self.set_byte(field::DSCP_ECN, tos);
    }

    /// Sets the total length.
    pub fn set_total_len(&mut self, length: u16) {
        self.set_bytes(field::LENGTH, &length.to_be_bytes());
    }

    /// Sets the identification.
    pub fn set_ident(&mut self, ident: u16) {
        self.set_bytes(field::IDENT, &ident.to_be_bytes());
    }

    /// Sets flags and fragment offset: DF as given, MF clear, offset 0.
    pub fn set_unfragmented(&mut self, dont_fragment: bool) {
        let value = if dont_fragment { FLAG_DONT_FRAGMENT } else { 0 };
        self.set_bytes(field::FLG_OFF, &value.to_be_bytes());
    }

    /// Sets the time to live.
    pub fn set_ttl(&mut self, ttl: u8) {
        self.set_byte(field::TTL, ttl);
    }

    /// Sets the payload protocol.
    pub fn set_protocol(&mut self, protocol: u8) {
        self.set_byte(field::PROTOCOL, protocol);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, address: Ipv4Addr) {
        self.set_bytes(field::SRC_ADDR, &address.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, address: Ipv4Addr) {
        self.set_bytes(field::DST_ADDR, &address.octets());
    }

    /// Computes the header checksum and stores it.
    pub fn fill_checksum(&mut self) {
        self.set_bytes(field::CHECKSUM, &[0, 0]);
        let sum = checksum::ones_complement(self.header());
        self.set_bytes(field::CHECKSUM, &sum.to_be_bytes());
    }

    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.header_len()..usize::from(self.total_len());
        self.buffer.as_mut().get_mut(range).unwrap_or(&mut [])
    }
}

/// An owned IPv4 header without options: what tern emits as the IPIP outer header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Repr {
    /// Source address.
    pub src_addr: Ipv4Addr,
    /// Destination address.
    pub dst_addr: Ipv4Addr,
    /// Payload protocol number.
    pub protocol: u8,
    /// DSCP/ECN byte.
    pub tos: u8,
    /// Identification.
    pub ident: u16,
    /// Don't Fragment flag.
    pub dont_fragment: bool,
    /// Time to live.
    pub ttl: u8,
    /// Payload length in bytes.
    pub payload_len: usize,
}

impl Ipv4Repr {
    /// Parses a checked packet. Rejects a bad checksum and fragments (the kernel hands raw
    /// sockets reassembled datagrams, so a fragment here is an error). Options are skipped.
    pub fn parse<T: AsRef<[u8]>>(packet: &Ipv4Packet<T>) -> Result<Ipv4Repr, WireError> {
        packet.check_len()?;
        if !packet.verify_checksum() {
            return Err(WireError::BadChecksum {
                what: "IPv4 header",
                found: packet.checksum(),
            });
        }
        if packet.more_fragments() || packet.fragment_offset() != 0 {
            return Err(WireError::Fragment {
                offset: packet.fragment_offset(),
            });
        }
        Ok(Ipv4Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            tos: packet.tos(),
            ident: packet.ident(),
            dont_fragment: packet.dont_fragment(),
            ttl: packet.ttl(),
            payload_len: usize::from(packet.total_len()) - packet.header_len(),
        })
    }

    /// Length of the emitted header (no options).
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Total length of header and payload.
    pub fn total_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Writes the header, checksum included, into the first 20 bytes of `packet`.
    /// Fails when the payload does not fit a 16-bit total length or the buffer is short.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Ipv4Packet<T>,
    ) -> Result<(), WireError> {
        let total_len = u16::try_from(self.total_len()).map_err(|_| WireError::TooLong {
            length: self.total_len(),
        })?;
        let available = packet.buffer.as_ref().len();
        if available < HEADER_LEN {
            return Err(WireError::Truncated {
                what: "IPv4 header buffer",
                needed: HEADER_LEN,
                available,
            });
        }
        packet.set_version_and_header_len(4, HEADER_LEN);
        packet.set_tos(self.tos);
        packet.set_total_len(total_len);
        packet.set_ident(self.ident);
        packet.set_unfragmented(self.dont_fragment);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        packet.fill_checksum();
        Ok(())
    }
}

#[cfg(test)]
#[path = "ipv4_tests.rs"]
mod tests;
