//! Route programmer benchmark (needs root; prints figures, passes or fails nothing).
//!
//! In a fresh network namespace of its own (`unshare(CLONE_NEWNET)`, gone when the process
//! exits), five rounds of:
//! 1. `ip -batch`: add then delete 100,000 routes (`route add 198.18.x.y/32 via 198.18.0.2
//!    proto 201`), one request and one ACK per route;
//! 2. tern: the same routes through the programmer's pure plan plus [`RouteSocket::apply`]
//!    (batched `sendmsg`), add then delete;
//! 3. resync pass: with 100,000 tern routes installed, one deleted by hand; time to dump,
//!    plan and repair (what the periodic resync does);
//! 4. event-driven repair: the real [`RouteProgrammer`] loop owning 100,000 routes; one
//!    deleted by hand (`ip route del`); time until it is back (polled with `ip route show`).
//!
//! Run: `cargo bench -p tern-agent --bench route_programmer` (as root). Medians of 5.

use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipnetwork::{IpNetwork, Ipv4Network};
use tern_agent::dataplane::programmer::ProgrammerInputs;
use tern_agent::dataplane::{
    ActualTable, DesiredRoute, LocalRoutes, NextHop, PlainNextHop, ProgrammerConfig,
    RouteProgrammer, RouteSocket, plan,
};
use tokio::sync::watch;

const ROUTES: usize = 100_000;
const ROUNDS: usize = 5;
const GATEWAY: &str = "198.18.0.2";

fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().expect("run ip");
    assert!(status.success(), "ip {args:?} failed");
}

/// 100,000 /32s in 198.18.0.0/15, skipping 198.18.0.0/24 (the device's subnet).
fn destinations() -> Vec<IpNetwork> {
    let base = u32::from(Ipv4Addr::new(198, 18, 1, 0));
    (0..ROUTES as u32)
        .map(|i| IpNetwork::V4(Ipv4Network::new(Ipv4Addr::from(base + i), 32).unwrap()))
        .collect()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

fn ip_batch(lines: &str) -> Duration {
    let path = std::env::temp_dir().join(format!("tern-bench-{}.batch", std::process::id()));
    std::fs::File::create(&path)
        .and_then(|mut file| file.write_all(lines.as_bytes()))
        .expect("write batch file");
    let started = Instant::now();
    let status = Command::new("ip")
        .args(["-batch", &path.to_string_lossy()])
        .status()
        .expect("run ip -batch");
    let elapsed = started.elapsed();
    let _ = std::fs::remove_file(&path);
    assert!(status.success(), "ip -batch failed");
    elapsed
}

fn tern_count(socket: &mut RouteSocket) -> usize {
    socket.dump_main().expect("dump").tern.len()
}

fn main() {
    // SAFETY: called first, before any thread exists.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        eprintln!(
            "route_programmer bench: cannot create a network namespace ({}); run as root",
            std::io::Error::last_os_error()
        );
        std::process::exit(1);
    }
    ip(&["link", "set", "lo", "up"]);
    ip(&[
        "link", "add", "bench0", "type", "veth", "peer", "name", "bench1",
    ]);
    ip(&["link", "set", "bench1", "up"]);
    ip(&["addr", "add", "198.18.0.1/24", "dev", "bench0"]);
    ip(&["link", "set", "bench0", "up"]);

    let destinations = destinations();
    let gateway: IpAddr = GATEWAY.parse().unwrap();
    let desired: HashMap<IpNetwork, DesiredRoute> = destinations
        .iter()
        .map(|d| {
            let route = DesiredRoute::unicast(*d, vec![NextHop::via(gateway)]).unwrap();
            (*d, route)
        })
        .collect();
    let add_lines: String = destinations
        .iter()
        .map(|d| format!("route add {d} via {GATEWAY} proto 201\n"))
        .collect();
    let del_lines: String = destinations
        .iter()
        .map(|d| format!("route del {d} proto 201\n"))
        .collect();
    let mut socket = RouteSocket::open().expect("open rtnetlink socket");

    let (mut ip_add, mut ip_del, mut tern_add, mut tern_del, mut resync) =
        (vec![], vec![], vec![], vec![], vec![]);
    for round in 0..ROUNDS {
        ip_add.push(ip_batch(&add_lines));
        assert_eq!(tern_count(&mut socket), ROUTES);
        ip_del.push(ip_batch(&del_lines));
        assert_eq!(tern_count(&mut socket), 0);

        let started = Instant::now();
        let install = plan(&desired, &ActualTable::default(), true);
        let report = socket.apply(&install.operations).expect("apply");
        tern_add.push(started.elapsed());
        assert_eq!((report.applied, report.failed.len()), (ROUTES, 0));

        // Resync pass with one route deleted by someone else.
        let drifted = destinations[round * 7919 % ROUTES];
        ip(&["route", "del", &drifted.to_string()]);
        let started = Instant::now();
        let actual = socket.dump_main().expect("dump");
        let repair = plan(&desired, &actual, true);
        let report = socket.apply(&repair.operations).expect("apply");
        resync.push(started.elapsed());
        assert_eq!(report.applied, 1, "exactly the drifted route is repaired");

        let started = Instant::now();
        let actual = socket.dump_main().expect("dump");
        let remove = plan(&HashMap::new(), &actual, true);
        let report = socket.apply(&remove.operations).expect("apply");
        tern_del.push(started.elapsed());
        assert_eq!((report.applied, report.failed.len()), (ROUTES, 0));
    }
    let event_repair = event_driven_repair(&destinations);

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let ratio = |tern: Duration, ip: Duration| tern.as_secs_f64() / ip.as_secs_f64();
    println!(
        "route programmer, {ROUTES} IPv4 routes, median of {ROUNDS} (loadavg {})",
        load.trim()
    );
    let (ia, id, ta, td) = (
        median(ip_add),
        median(ip_del),
        median(tern_add),
        median(tern_del),
    );
    println!(
        "  install: ip -batch {:>10}   tern {:>10}   ({:.2}x)",
        ms(ia),
        ms(ta),
        ratio(ta, ia)
    );
    println!(
        "  remove:  ip -batch {:>10}   tern {:>10}   ({:.2}x, tern includes the dump)",
        ms(id),
        ms(td),
        ratio(td, id)
    );
    println!(
        "  resync pass, 1 of {ROUTES} drifted (dump + plan + repair): {}",
        ms(median(resync))
    );
    println!(
        "  event-driven repair of 1 deleted route among {ROUTES}: {}",
        ms(event_repair)
    );
}

/// The programmer loop with `ROUTES` blackholes (as local pod CIDRs); each round deletes one
/// by hand and waits for it to come back.
fn event_driven_repair(destinations: &[IpNetwork]) -> Duration {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let programmer = RouteProgrammer::open(ProgrammerConfig::default())
            .await
            .expect("open programmer");
        let local = LocalRoutes {
            pod_cidrs: destinations.iter().copied().collect(),
            ..LocalRoutes::default()
        };
        let (_local_sender, local_receiver) = watch::channel(local);
        let (_speaker, speaker) = watch::channel(None);
        let (_deferred, selection_deferred) = watch::channel(false);
        let handle = programmer.handle();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(programmer.run(
            ProgrammerInputs {
                speaker,
                selection_deferred,
                local: local_receiver,
                via: Arc::new(PlainNextHop),
            },
            async move {
                let _ = stopped.await;
            },
        ));
        while handle.installed_routes().len() < destinations.len() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Let the notifications of the initial install drain.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut samples = Vec::new();
        for round in 0..ROUNDS {
            let victim = destinations[(round * 15_401 + 3) % destinations.len()].to_string();
            let started = Instant::now();
            ip(&["route", "del", "blackhole", &victim]);
            loop {
                let output = Command::new("ip")
                    .args(["route", "show", "exact", &victim, "proto", "201"])
                    .output()
                    .unwrap();
                if !output.stdout.is_empty() {
                    break;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "never repaired"
                );
            }
            samples.push(started.elapsed());
        }
        let _ = stop.send(());
        let _ = task.await;
        median(samples)
    })
}
