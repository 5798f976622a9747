//! Shared helpers for the integration tests: locating and opening the MRT sample files.

#![allow(dead_code)]

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::PathBuf;

/// The MRT sample directory: `$TERN_MRT_DIR`, else `../shared/data/mrt` relative to the
/// workspace root, else `/work/shared/data/mrt`.
pub fn mrt_dir() -> Option<PathBuf> {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    std::env::var_os("TERN_MRT_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain([
            workspace.join("../shared/data/mrt"),
            PathBuf::from("/work/shared/data/mrt"),
        ])
        .find(|dir| dir.is_dir())
}

/// Open a sample file, decompressing by extension (.gz, .bz2).
pub fn open_mrt(name: &str) -> Option<Box<dyn Read>> {
    let path = mrt_dir()?.join(name);
    let file = BufReader::new(File::open(&path).ok()?);
    Some(if name.ends_with(".gz") {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
    } else if name.ends_with(".bz2") {
        Box::new(BufReader::new(bzip2::read::MultiBzDecoder::new(file)))
    } else {
        Box::new(file)
    })
}

/// Bytes from hex digits; whitespace is ignored and `#` starts a comment to the end of line.
pub fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text
        .lines()
        .flat_map(|line| line.split('#').next().unwrap_or("").bytes())
        .filter(|c| c.is_ascii_hexdigit())
        .map(|c| (c as char).to_digit(16).unwrap() as u8)
        .collect();
    assert!(
        digits.len().is_multiple_of(2),
        "odd number of hex digits in fixture"
    );
    digits
        .chunks(2)
        .map(|pair| pair[0] << 4 | pair[1])
        .collect()
}

/// A whole message: marker, computed length, `kind`, then `body`.
pub fn frame(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF; 16];
    out.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    out.push(kind);
    out.extend_from_slice(body);
    out
}

/// An UPDATE body with these withdrawn routes, attributes and NLRI (lengths computed).
pub fn update_body(withdrawn: &[u8], attributes: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(withdrawn.len() as u16).to_be_bytes());
    out.extend_from_slice(withdrawn);
    out.extend_from_slice(&(attributes.len() as u16).to_be_bytes());
    out.extend_from_slice(attributes);
    out.extend_from_slice(nlri);
    out
}

/// Assert `bytes` decodes to `expected` and `expected` encodes to `bytes`.
pub fn assert_both_ways(
    bytes: &[u8],
    expected: &bgp::packet::Message,
    ctx: &bgp::packet::CodecContext,
) {
    let decoded = bgp::packet::Message::decode(bytes, ctx).expect("fixture decodes");
    assert_eq!(&decoded, expected, "decode");
    let encoded = expected.to_bytes(ctx).expect("fixture encodes");
    assert_eq!(encoded.as_ref(), bytes, "encode");
}
