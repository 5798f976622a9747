//! Decoding speed on real UPDATEs: every UPDATE of a RIPE RIS BGP4MP_ET dump
//! (`updates.et-header.2015.gz`), extracted into memory once, then decoded in a loop.
//!
//! The MRT directory is `$TERN_MRT_DIR`, else `../shared/data/mrt` relative to the workspace
//! root, else `/work/shared/data/mrt`. Criterion reports bytes/s; prefixes/s is printed.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::time::Instant;

use bgp::mrt::{MrtReader, MrtRecord};
use bgp::packet::{CodecContext, Message};
use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};

const SAMPLE: &str = "updates.et-header.2015.gz";

fn mrt_dir() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    std::env::var_os("TERN_MRT_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain([
            workspace.join("../shared/data/mrt"),
            PathBuf::from("/work/shared/data/mrt"),
        ])
        .find(|dir| dir.join(SAMPLE).is_file())
        .expect("MRT sample not found; set TERN_MRT_DIR")
}

/// Every UPDATE frame in the sample, with the context it was sent under.
fn load_updates() -> Vec<(Vec<u8>, CodecContext)> {
    let file = File::open(mrt_dir().join(SAMPLE)).expect("open sample");
    let input = BufReader::new(flate2::read::MultiGzDecoder::new(BufReader::new(file)));
    let mut frames = Vec::new();
    for record in MrtReader::new(input) {
        let Ok(MrtRecord::Message(message)) = record else {
            continue;
        };
        if message.data.get(18) == Some(&2) {
            frames.push((message.data.to_vec(), message.context()));
        }
    }
    frames
}

fn decode_all(frames: &[(Vec<u8>, CodecContext)]) -> usize {
    let mut prefixes = 0;
    for (frame, ctx) in frames {
        if let Ok(Message::Update(update)) = Message::decode(frame, ctx) {
            prefixes += update.announced().count() + update.withdrawn_prefixes().count();
        }
    }
    prefixes
}

fn bench(c: &mut Criterion) {
    let frames = load_updates();
    let bytes: usize = frames.iter().map(|(frame, _)| frame.len()).sum();
    let prefixes = decode_all(&frames);
    println!(
        "{SAMPLE}: {} UPDATEs, {bytes} bytes, {prefixes} prefixes",
        frames.len()
    );

    // A plain timing for the prefixes/s figure criterion does not report.
    let rounds = 5;
    let start = Instant::now();
    for _ in 0..rounds {
        black_box(decode_all(black_box(&frames)));
    }
    let seconds = start.elapsed().as_secs_f64() / f64::from(rounds);
    println!(
        "decode: {:.1} MB/s, {:.0} prefixes/s, {:.0} UPDATEs/s",
        bytes as f64 / seconds / 1e6,
        prefixes as f64 / seconds,
        frames.len() as f64 / seconds
    );

    let mut group = c.benchmark_group("decode_mrt");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("updates_et_header_2015", |b| {
        b.iter(|| decode_all(black_box(&frames)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
