//! Prefixes in NLRI, withdrawn routes and MP attributes. RFC 4271 §4.3, RFC 4760 §5.
//!
//! ```text
//! +---------------------------+
//! |   Length (1 octet, bits)  |
//! +---------------------------+
//! |   Prefix (ceil(len/8))    |
//! +---------------------------+
//! ```
//!
//! Host bits: trailing bits after the prefix length are "irrelevant" (RFC 4271 §4.3), so tern
//! clears them on decode and never sends them on encode; a decoded prefix always has a zero host
//! part. A length beyond 32 (IPv4) or 128 (IPv6), or a prefix running past its field, makes the
//! whole field unparseable: the caller's reader action applies (session reset, RFC 7606 §5.3).

use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, BytesMut};
use ipnetwork::{IpNetwork, Ipv4Network, Ipv6Network};

use super::error::{DecodeError, ErrorReason};
use super::reader::Reader;

/// Bytes a prefix of `len` bits takes after its length byte.
fn prefix_bytes(len: u8) -> usize {
    usize::from(len).div_ceil(8)
}

/// Copy the prefix bytes into a zeroed address, clearing bits past `len`.
fn masked<const N: usize>(bytes: &[u8], len: u8) -> [u8; N] {
    let mut octets = [0u8; N];
    for (slot, byte) in octets.iter_mut().zip(bytes) {
        *slot = *byte;
    }
    let full = usize::from(len) / 8;
    let bits = len % 8;
    if bits != 0
        && let Some(last) = octets.get_mut(full)
    {
        *last &= 0xFFu8 << (8 - bits);
    }
    octets
}

/// One IPv4 prefix.
pub(crate) fn decode_ipv4_prefix(
    reader: &mut Reader<'_>,
    field: &'static str,
) -> Result<Ipv4Network, DecodeError> {
    let start = reader.clone();
    let len = reader.u8(field)?;
    if len > 32 {
        return Err(start.error(field, ErrorReason::BadPrefixLength(len)));
    }
    let bytes = reader.bytes(prefix_bytes(len), field)?;
    let address = Ipv4Addr::from(masked::<4>(bytes, len));
    Ipv4Network::new(address, len)
        .map_err(|_| start.error(field, ErrorReason::BadPrefixLength(len)))
}

/// One IPv6 prefix.
pub(crate) fn decode_ipv6_prefix(
    reader: &mut Reader<'_>,
    field: &'static str,
) -> Result<Ipv6Network, DecodeError> {
    let start = reader.clone();
    let len = reader.u8(field)?;
    if len > 128 {
        return Err(start.error(field, ErrorReason::BadPrefixLength(len)));
    }
    let bytes = reader.bytes(prefix_bytes(len), field)?;
    let address = Ipv6Addr::from(masked::<16>(bytes, len));
    Ipv6Network::new(address, len)
        .map_err(|_| start.error(field, ErrorReason::BadPrefixLength(len)))
}

/// Every IPv4 prefix until the reader is empty.
pub(crate) fn decode_ipv4_prefixes(
    mut reader: Reader<'_>,
    field: &'static str,
) -> Result<Vec<Ipv4Network>, DecodeError> {
    let mut prefixes = Vec::with_capacity(reader.remaining() / 3);
    while !reader.is_empty() {
        prefixes.push(decode_ipv4_prefix(&mut reader, field)?);
    }
    Ok(prefixes)
}

/// Every prefix of one family until the reader is empty.
pub(crate) fn decode_prefixes(
    mut reader: Reader<'_>,
    ipv6: bool,
    field: &'static str,
) -> Result<Vec<IpNetwork>, DecodeError> {
    let mut prefixes = Vec::with_capacity(reader.remaining() / 4);
    while !reader.is_empty() {
        let prefix = if ipv6 {
            IpNetwork::V6(decode_ipv6_prefix(&mut reader, field)?)
        } else {
            IpNetwork::V4(decode_ipv4_prefix(&mut reader, field)?)
        };
        prefixes.push(prefix);
    }
    Ok(prefixes)
}

/// Encoded length of one prefix (length byte included).
pub(crate) fn prefix_len(prefix: &IpNetwork) -> usize {
    1 + prefix_bytes(prefix.prefix())
}

/// Encoded length of a list of IPv4 prefixes.
pub(crate) fn ipv4_prefixes_len(prefixes: &[Ipv4Network]) -> usize {
    prefixes.iter().map(|p| 1 + prefix_bytes(p.prefix())).sum()
}

/// Encoded length of a list of prefixes.
pub(crate) fn prefixes_len(prefixes: &[IpNetwork]) -> usize {
    prefixes.iter().map(prefix_len).sum()
}

/// Append one IPv4 prefix, host bits cleared.
pub(crate) fn encode_ipv4_prefix(prefix: &Ipv4Network, buf: &mut BytesMut) {
    let len = prefix.prefix();
    let octets = masked::<4>(&prefix.ip().octets(), len);
    buf.put_u8(len);
    buf.put_slice(octets.get(..prefix_bytes(len)).unwrap_or(&octets));
}

/// Append one prefix, host bits cleared.
pub(crate) fn encode_prefix(prefix: &IpNetwork, buf: &mut BytesMut) {
    match prefix {
        IpNetwork::V4(v4) => encode_ipv4_prefix(v4, buf),
        IpNetwork::V6(v6) => {
            let len = v6.prefix();
            let octets = masked::<16>(&v6.ip().octets(), len);
            buf.put_u8(len);
            buf.put_slice(octets.get(..prefix_bytes(len)).unwrap_or(&octets));
        }
    }
}
