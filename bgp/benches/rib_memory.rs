//! Memory per prefix of the routing tables, as a route reflector holds them: one peer's
//! Adj-RIB-In and the Loc-RIB for a table of 500,000 prefixes in 50,000 attribute sets
//! (interned), a tenth of them changed by an import filter. Counts heap bytes with a
//! counting allocator. Prints figures; not pass/fail.
//!
//! `cargo bench -p bgp --bench rib_memory`

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};

use bgp::packet::{AsPath, Community, Origin, PathAttributes};
use bgp::rib::{AdjRibIn, AttributeInterner, LocRib, PeerType, Received, RouteSource};
use ipnetwork::{IpNetwork, Ipv4Network};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const PREFIXES: u32 = 500_000;
const SETS: u32 = 50_000;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

fn main() {
    let source = RouteSource::peer(
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        Ipv4Addr::new(10, 0, 0, 1),
        PeerType::Internal,
    );
    let next_hop = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    let start = live();
    let mut interner = AttributeInterner::new();
    let mut adj_rib_in = AdjRibIn::new();
    let mut rib = LocRib::with(65000, 8);
    for i in 0..PREFIXES {
        let set = i % SETS;
        let attributes = interner.intern(PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(vec![
                65001,
                65100 + set % 1000,
                4_200_000_000 + set,
            ])),
            local_pref: Some(100),
            communities: vec![Community::new(65001, (set % 50) as u16)],
            ..PathAttributes::default()
        });
        let prefix =
            IpNetwork::V4(Ipv4Network::new(Ipv4Addr::from(0x0100_0000 + (i << 8)), 24).unwrap());
        // Every tenth route is changed by an import filter (its received form is kept).
        let accepted = if i % 10 == 0 {
            let mut changed = (*attributes).clone();
            changed.local_pref = Some(200);
            interner.intern(changed)
        } else {
            attributes.clone()
        };
        let received = Received {
            next_hop,
            attributes,
            accepted: true,
            stale: false,
        };
        adj_rib_in.store(&mut rib, source, prefix, received, Some(accepted));
    }
    let total = live() - start;
    println!(
        "{PREFIXES} prefixes, {} attribute sets: {:.1} MiB, {:.0} bytes per prefix (Adj-RIB-In + Loc-RIB + attributes)",
        interner.len(),
        total as f64 / (1 << 20) as f64,
        total as f64 / f64::from(PREFIXES)
    );
    let before = live();
    drop(adj_rib_in);
    println!(
        "of which Adj-RIB-In (the filtered tenth): {:.0} bytes per prefix",
        (before - live()) as f64 / f64::from(PREFIXES)
    );
    assert_eq!(rib.len(), PREFIXES as usize);
}
