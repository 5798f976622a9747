//! Loc-RIB and advertisement figures: inserting learned paths, choosing best paths, and
//! exporting a whole table to a peer packed into UPDATEs. Prints figures; not pass/fail.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use bgp::packet::{Afi, AsPath, CodecContext, Origin, PathAttributes, Safi};
use bgp::rib::{ExportCache, ExportContext, LocRib, Path, PeerType, RouteSource, build_updates};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ipnetwork::{IpNetwork, Ipv4Network};

const PREFIXES: u32 = 100_000;

fn prefixes() -> Vec<IpNetwork> {
    (0..PREFIXES)
        .map(|i| {
            IpNetwork::V4(Ipv4Network::new(Ipv4Addr::from(0x0a00_0000 + (i << 8)), 24).unwrap())
        })
        .collect()
}

fn path(peer: u8, as_path: Vec<u32>) -> Path {
    Path::new(
        RouteSource::peer(
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, peer)),
            Ipv4Addr::new(10, 0, 0, peer),
            PeerType::External,
        ),
        Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, peer))),
        Arc::new(PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(as_path)),
            ..PathAttributes::default()
        }),
    )
}

fn bench(c: &mut Criterion) {
    let prefixes = prefixes();
    let mut group = c.benchmark_group("rib");
    group.throughput(Throughput::Elements(u64::from(PREFIXES)));
    group.sample_size(10);

    let first = path(1, vec![65001, 65010]);
    let second = path(2, vec![65002]);
    group.bench_function("insert two paths per prefix (100k prefixes)", |b| {
        b.iter_batched(
            LocRib::new,
            |mut rib| {
                for prefix in &prefixes {
                    rib.insert(*prefix, first.clone());
                    rib.insert(*prefix, second.clone());
                }
                rib
            },
            BatchSize::LargeInput,
        )
    });

    let mut rib = LocRib::new();
    for prefix in &prefixes {
        rib.insert(*prefix, first.clone());
    }
    let mut context = ExportContext::new(
        65000,
        Ipv4Addr::new(192, 0, 2, 254),
        65100,
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100)),
    );
    context.next_hop_v4 = Some(Ipv4Addr::new(192, 0, 2, 254));
    context.families = vec![(Afi::Ipv4, Safi::Unicast)];
    group.bench_function("export whole table to a peer as UPDATEs", |b| {
        b.iter(|| {
            let mut cache = ExportCache::new(&context);
            let announce: Vec<_> = rib
                .best_paths()
                .filter_map(|(prefix, path)| cache.export(&prefix, &path).map(|e| (prefix, e)))
                .collect();
            build_updates(announce, Vec::new(), &CodecContext::FOUR_OCTET_AS)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
