//! Write seed corpora for the fuzz targets in `bgp/fuzz/` from the MRT sample files:
//! real BGP messages (whole frames and bodies per type) and raw MRT prefixes.
//!
//! `cargo run -p bgp --example fuzz_seeds -- bgp/fuzz/corpus` (MRT directory: `$TERN_MRT_DIR`,
//! else `../shared/data/mrt` next to the workspace, else `/work/shared/data/mrt`).

use std::fs;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use bgp::mrt::{MrtReader, MrtRecord};

const PER_TYPE: usize = 200;

fn mrt_dir() -> Option<PathBuf> {
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

fn open(path: &Path) -> std::io::Result<Box<dyn Read>> {
    let file = BufReader::new(fs::File::open(path)?);
    let name = path.to_string_lossy();
    Ok(if name.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else if name.ends_with(".bz2") {
        Box::new(bzip2::read::MultiBzDecoder::new(file))
    } else {
        Box::new(file)
    })
}

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let dir = dir.join(target);
    fs::create_dir_all(&dir)?;
    fs::write(dir.join(name), bytes)
}

fn main() -> std::io::Result<()> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "bgp/fuzz/corpus".into()),
    );
    let Some(mrt) = mrt_dir() else {
        eprintln!("no MRT directory; nothing seeded");
        return Ok(());
    };
    let files = [
        "rrc15.updates.20100227.1600.gz",
        "updates.20190101.0000.gz",
        "updates.20070211.0141.gz",
    ];
    let mut counts = [0usize; 6];
    for file in files {
        let path = mrt.join(file);
        let Ok(input) = open(&path) else { continue };
        // Raw MRT prefix for the mrt target.
        let mut head = Vec::new();
        open(&path)?.take(8192).read_to_end(&mut head)?;
        write(&out, "mrt", file, &head)?;
        let mut stream = Vec::new();
        for record in MrtReader::new(input) {
            let Ok(MrtRecord::Message(message)) = record else {
                continue;
            };
            let frame = message.data.as_ref();
            let (Some(&kind), Some(body)) = (frame.get(18), frame.get(19..)) else {
                continue;
            };
            let slot = usize::from(kind).min(5);
            if counts[slot] >= PER_TYPE {
                continue;
            }
            counts[slot] += 1;
            let name = format!("{file}-{kind}-{}", counts[slot]);
            write(&out, "message", &name, frame)?;
            if stream.len() < 16384 {
                stream.extend_from_slice(frame);
            }
            match kind {
                1 => {
                    write(&out, "open", &name, body)?;
                    if let Some(params) = body.get(10..) {
                        write(&out, "capabilities", &name, params)?;
                    }
                }
                2 if message.four_octet_as => write(&out, "update", &name, body)?,
                2 => write(&out, "update_as2", &name, body)?,
                3 => write(&out, "notification", &name, body)?,
                _ => {}
            }
        }
        write(&out, "frame_len", file, &stream)?;
    }
    let rib = mrt.join("rib.20140523.0600_firstMB.bz2");
    if let Ok(input) = open(&rib) {
        let mut head = Vec::new();
        input.take(65536).read_to_end(&mut head)?;
        write(&out, "mrt", "rib-head", &head)?;
    }
    for (name, body) in [
        ("request", [0u8, 1, 0, 1]),
        ("borr", [0, 2, 1, 1]),
        ("eorr", [0, 2, 2, 1]),
    ] {
        write(&out, "route_refresh", name, &body)?;
    }
    eprintln!("seeded {} (messages by type: {counts:?})", out.display());
    Ok(())
}
