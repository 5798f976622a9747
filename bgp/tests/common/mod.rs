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
