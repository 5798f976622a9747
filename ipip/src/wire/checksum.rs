//! The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum.

/// The one's complement of the one's complement sum of `data` taken as big-endian 16-bit words
/// (an odd last byte is padded with zero). Over a header whose checksum field is filled in, the
/// result is 0 when the checksum is right.
pub fn ones_complement(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut words = data.chunks_exact(2);
    for word in &mut words {
        if let &[high, low] = word {
            sum += u32::from(u16::from_be_bytes([high, low]));
        }
    }
    if let &[last] = words.remainder() {
        sum += u32::from(u16::from_be_bytes([last, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1071 §3 worked example: words 0001 f203 f4f5 f6f7 sum to ddf2 (one's complement
    /// 220d).
    #[test]
    fn rfc1071_example() {
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(ones_complement(&data), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(ones_complement(&[0x12]), !0x1200);
        assert_eq!(ones_complement(&[]), 0xffff);
    }
}
