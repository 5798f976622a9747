//! Graceful restart (RFC 4724) with real routers (issue 3, acceptance point 3).
//!
//! - tern restarting: BIRD and FRR (graceful restart on) peer with tern; the tern *process*
//!   closes its sessions without NOTIFICATION and a new one starts with `restarting`. The
//!   peers keep tern's routes (FRR shows them stale) and never withdraw the one tern announces
//!   again; after tern's End-of-RIB they are fresh, and the one tern no longer announces is
//!   swept. Then `kill -9` tern and keep it down: the peers drop its routes once the restart
//!   time (5 s) is over.
//! - tern as helper: BIRD restarts gracefully (`birdc graceful restart`, then `bird -R`) with
//!   one route fewer; tern keeps BIRD's routes stale, never loses the one BIRD announces
//!   again, and sweeps the other after BIRD's End-of-RIB.
//!
//! Figures (stale time, sweep time, drop time) are printed.

mod tern_common;
mod tern_lab;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use interop_tests::peers::bird::Bird;
use interop_tests::peers::{BgpPeer, Neighbor, PeerConfig, PeerKind, Route};
use interop_tests::tern::{PeerSpec, RouteSpec, SpeakerSpec};
use ipnetwork::IpNetwork;
use tern_lab::{CONVERGE, Lab, ms, net, path_from};

const TERN_AS: u32 = 65001;
/// The restart time tern advertises.
const TERN_RESTART_TIME: u16 = 5;
/// How long the restarted tern waits at most for its peers' End-of-RIBs.
const DEFERRAL: Duration = Duration::from_secs(10);

/// What one peer router shows for two of tern's prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    Absent,
    Stale,
    Fresh,
}

fn held(peer: &dyn BgpPeer, prefix: IpNetwork) -> Result<Held, String> {
    Ok(match path_from(peer, prefix, None)? {
        None => Held::Absent,
        Some(route) if route.stale => Held::Stale,
        Some(_) => Held::Fresh,
    })
}

fn list(prefixes: &[IpNetwork]) -> String {
    let texts: Vec<String> = prefixes.iter().map(ToString::to_string).collect();
    texts.join(", ")
}

fn states(peer: &dyn BgpPeer, prefixes: &[IpNetwork]) -> Result<Vec<Held>, String> {
    prefixes.iter().map(|prefix| held(peer, *prefix)).collect()
}

/// The peers' own routes (IPv4 and IPv6) of the router at `octet`.
fn router_routes(octet: u8) -> [IpNetwork; 2] {
    [
        net(&format!("203.0.113.{octet}/32")),
        net(&format!("2001:db8:ff{octet:02}::/48")),
    ]
}

/// The text the last started tern process wrote (the log is appended across restarts).
fn last_run(log: &str) -> &str {
    log.rsplit_once("==== tern harness: starting")
        .map_or(log, |(_, last)| last)
}

/// One session per router carrying IPv4 and IPv6 unicast (MP-BGP), so End-of-RIB is per
/// family both ways.
#[test]
fn tern_restarts_gracefully_then_dies_and_bird_and_frr_follow() {
    let mut lab = Lab::new("grt", [198, 18, 34]);
    let tern_host = lab.host("tern", 1);
    let bird_host = lab.host("bird", 2);
    let frr_host = lab.host("frr", 3);
    let tern_address = lab.address(1);
    // Announced before and after the restart, and only before.
    let kept = [net("198.19.34.0/24"), net("2001:db8:340::/48")];
    let dropped = [net("198.19.35.0/24"), net("2001:db8:350::/48")];
    let all: Vec<IpNetwork> = kept.iter().chain(&dropped).copied().collect();
    let router = |octet: u8, asn: u32| {
        let address = lab.address(octet);
        let mut config = PeerConfig::new(address, asn).neighbor(
            Neighbor::new(IpAddr::V4(tern_address), TERN_AS)
                .local_address(IpAddr::V4(address))
                .families(true, true)
                .graceful_restart(true),
        );
        for prefix in router_routes(octet) {
            config = config.route(Route::new(prefix));
        }
        config
    };
    let bird = lab.router(PeerKind::Bird, &bird_host, router(2, 65002));
    let frr = lab.router(PeerKind::Frr, &frr_host, router(3, 65003));
    let peers: [(&str, &dyn BgpPeer); 2] = [("BIRD", bird.as_ref()), ("FRR", frr.as_ref())];
    let spec = |routes: &[IpNetwork]| {
        let mut spec = SpeakerSpec::new(TERN_AS, tern_address);
        spec.ipv6_next_hop = Some(lab.address6(1));
        for (octet, asn) in [(2, 65002), (3, 65003)] {
            spec = spec.peer(
                PeerSpec::new(IpAddr::V4(lab.address(octet)), asn)
                    .local_address(IpAddr::V4(tern_address))
                    .graceful_restart(TERN_RESTART_TIME),
            );
        }
        for prefix in routes {
            spec = spec.route(RouteSpec::new(*prefix));
        }
        spec
    };
    let first = lab.tern(&tern_host, spec(&all));
    for (name, peer) in peers {
        lab.established(peer, tern_address);
        lab.wait(&format!("{name} to hold tern's routes"), CONVERGE, || {
            let now = states(peer, &all)?;
            Ok(now.iter().all(|h| *h == Held::Fresh).then_some(()))
        });
    }

    // Graceful restart of the tern process: the peers keep everything, stale.
    let started = Instant::now();
    lab.check(first.shutdown_for_restart());
    for (name, peer) in peers {
        let stale = lab.wait(
            &format!("{name} to mark tern's routes stale"),
            CONVERGE,
            || {
                let now = states(peer, &all)?;
                if now.contains(&Held::Absent) {
                    lab.fail(format!("{name} withdrew tern's routes: {now:?}"));
                }
                Ok(now
                    .iter()
                    .all(|h| *h == Held::Stale)
                    .then(|| started.elapsed()))
            },
        );
        println!(
            "tern stopped for restart; {name} shows its routes stale after {} ms",
            ms(stale)
        );
    }
    let second = lab.tern(&tern_host, spec(&kept).restarting(DEFERRAL));
    let restarted = Instant::now();
    // Until both peers hold `kept` fresh and no longer `dropped`, `kept` must never go.
    let mut swept = [None, None];
    lab.wait(
        "both peers to refresh and sweep tern's routes",
        CONVERGE,
        || {
            for (index, (name, peer)) in peers.iter().enumerate() {
                let (now_kept, now_dropped) = (states(*peer, &kept)?, states(*peer, &dropped)?);
                if now_kept.contains(&Held::Absent) {
                    lab.fail(format!(
                        "{name} withdrew {kept:?} during tern's restart: {now_kept:?}"
                    ));
                }
                let done = now_kept.iter().all(|h| *h == Held::Fresh)
                    && now_dropped.iter().all(|h| *h == Held::Absent);
                if done && swept[index].is_none() {
                    swept[index] = Some(restarted.elapsed());
                }
            }
            Ok(swept.iter().all(Option::is_some).then_some(()))
        },
    );
    for ((name, _), at) in peers.iter().zip(swept) {
        println!(
            "{name}: tern's routes fresh again and the unannounced ones swept {} ms after the new tern started",
            ms(at.unwrap_or_default())
        );
    }
    // The restarted tern learned the peers' routes again, and its selection deferral ended
    // with their End-of-RIBs (both families of both peers), not with the deferral timer.
    for octet in [2u8, 3] {
        for prefix in router_routes(octet) {
            lab.check(second.wait_route(prefix, CONVERGE));
        }
    }
    println!(
        "restarted tern holds the peers' routes {} ms after start",
        ms(restarted.elapsed())
    );
    let log = std::fs::read_to_string(second.process().stderr_path()).unwrap_or_default();
    let run = last_run(&log);
    let over = run
        .find("selection deferral over")
        .unwrap_or_else(|| lab.fail(format!("no end of deferral in tern's log:\n{run}")));
    for octet in [2u8, 3] {
        for family in ["Ipv4", "Ipv6"] {
            let end_of_rib = format!(
                "End-of-RIB received peer={} family=({family}, Unicast)",
                lab.address(octet)
            );
            let at = run
                .find(&end_of_rib)
                .unwrap_or_else(|| lab.fail(format!("no `{end_of_rib}` in tern's log:\n{run}")));
            assert!(at < over, "deferral ended before `{end_of_rib}`:\n{run}");
        }
    }

    // kill -9 and stay down: the routes stay for the restart time, then go.
    second.process().kill();
    let killed = Instant::now();
    for (name, peer) in peers {
        let now = lab.check(states(peer, &kept));
        assert!(
            !now.contains(&Held::Absent),
            "{name} dropped {kept:?} at once after kill -9: {now:?}"
        );
    }
    let mut dropped_at = [None, None];
    lab.wait(
        "both peers to drop tern's routes after its restart time",
        CONVERGE,
        || {
            for (index, (_, peer)) in peers.iter().enumerate() {
                let now = states(*peer, &kept)?;
                if dropped_at[index].is_none() && now.iter().all(|h| *h == Held::Absent) {
                    dropped_at[index] = Some(killed.elapsed());
                }
            }
            Ok(dropped_at.iter().all(Option::is_some).then_some(()))
        },
    );
    for ((name, _), at) in peers.iter().zip(dropped_at) {
        let at = at.unwrap_or_default();
        println!(
            "{name}: dropped tern's routes {} ms after kill -9 (restart time {TERN_RESTART_TIME} s)",
            ms(at)
        );
        assert!(
            at >= Duration::from_secs(u64::from(TERN_RESTART_TIME) - 1),
            "{name} dropped tern's routes after {} ms, before the restart time",
            ms(at)
        );
    }
}

/// One session carrying IPv4 and IPv6 unicast: tern sweeps each family on its End-of-RIB.
#[test]
fn bird_restarts_gracefully_and_tern_keeps_its_routes_until_end_of_rib() {
    let mut lab = Lab::new("grh", [198, 18, 35]);
    let tern_host = lab.host("tern", 1);
    let bird_host = lab.host("bird", 2);
    let (tern_address, bird_address) = (lab.address(1), lab.address(2));
    // Announced by BIRD before and after its restart, and only before.
    let kept = [net("203.0.113.10/32"), net("2001:db8:1010::/48")];
    let dropped = [net("203.0.113.20/32"), net("2001:db8:1020::/48")];
    let mut config = PeerConfig::new(bird_address, 65002).neighbor(
        Neighbor::new(IpAddr::V4(tern_address), TERN_AS)
            .local_address(IpAddr::V4(bird_address))
            .families(true, true)
            .graceful_restart(true),
    );
    for prefix in kept.iter().chain(&dropped) {
        config = config.route(Route::new(*prefix));
    }
    config.graceful_restart_time = 30;
    let mut bird =
        Bird::start(&bird_host, config).unwrap_or_else(|e| lab.fail(format!("start BIRD: {e}")));
    let mut spec = SpeakerSpec::new(TERN_AS, tern_address)
        .peer(
            PeerSpec::new(IpAddr::V4(bird_address), 65002)
                .local_address(IpAddr::V4(tern_address))
                .graceful_restart(120),
        )
        .route(RouteSpec::new(net("198.19.35.0/24")));
    spec.ipv6_next_hop = Some(lab.address6(1));
    let tern = lab.tern(&tern_host, spec);
    let bird_peer = IpAddr::V4(bird_address);
    let at_tern = |prefixes: &[IpNetwork]| -> Result<Vec<Held>, String> {
        prefixes
            .iter()
            .map(|prefix| {
                let paths = tern.routes_for(*prefix).map_err(|e| e.to_string())?;
                Ok(match paths.first() {
                    None => Held::Absent,
                    Some(path) if path.stale => Held::Stale,
                    Some(_) => Held::Fresh,
                })
            })
            .collect()
    };
    let all: Vec<IpNetwork> = kept.iter().chain(&dropped).copied().collect();
    lab.wait("tern to hold BIRD's routes", CONVERGE, || {
        Ok(at_tern(&all)?
            .iter()
            .all(|h| *h == Held::Fresh)
            .then_some(()))
    });

    let started = Instant::now();
    lab.check(bird.graceful_shutdown());
    let stale = lab.wait("tern to keep BIRD's routes stale", CONVERGE, || {
        let now = at_tern(&all)?;
        if now.contains(&Held::Absent) {
            lab.fail(format!("tern withdrew BIRD's routes: {now:?}"));
        }
        Ok(now
            .iter()
            .all(|h| *h == Held::Stale)
            .then(|| started.elapsed()))
    });
    let status = lab.check(tern.peer(bird_peer));
    assert_eq!(status.prefixes_stale, 4, "{status:?}");
    println!(
        "BIRD stopped for restart; tern shows its routes stale after {} ms",
        ms(stale)
    );
    // BIRD stays away a moment: still stale, nothing swept.
    std::thread::sleep(Duration::from_secs(1));
    let now = lab.check(at_tern(&all));
    assert!(now.iter().all(|h| *h == Held::Stale), "{now:?}");

    let restarted = Instant::now();
    lab.check(bird.recover(|config| {
        for prefix in dropped {
            config.remove_route(prefix);
        }
    }));
    let mut established_at = None;
    let mut stale_while_up = false;
    let swept = lab.wait(
        "tern to refresh BIRD's routes and sweep the others",
        CONVERGE,
        || {
            let (now_kept, now_dropped) = (at_tern(&kept)?, at_tern(&dropped)?);
            if now_kept.contains(&Held::Absent) {
                lab.fail(format!(
                    "tern lost {kept:?} during BIRD's restart: {now_kept:?}"
                ));
            }
            if established_at.is_none()
                && tern
                    .peer_state(bird_peer)
                    .map_err(|e| e.to_string())?
                    .is_established()
            {
                established_at = Some(restarted.elapsed());
            }
            if established_at.is_some() && now_dropped.contains(&Held::Stale) {
                stale_while_up = true;
            }
            let done = now_kept.iter().all(|h| *h == Held::Fresh)
                && now_dropped.iter().all(|h| *h == Held::Absent);
            Ok(done.then(|| restarted.elapsed()))
        },
    );
    println!(
        "BIRD restarted (-R): session up after {} ms; tern refreshed {} and swept {} after {} ms",
        ms(established_at.unwrap_or_default()),
        list(&kept),
        list(&dropped),
        ms(swept)
    );
    println!(
        "tern still held the swept routes stale while the new session was up: {stale_while_up}"
    );
    let status = lab.check(tern.peer(bird_peer));
    assert_eq!(
        (status.prefixes_received, status.prefixes_stale),
        (2, 0),
        "{status:?}"
    );
    // The sweeps came with BIRD's End-of-RIBs after the restart (BIRD's restart time, 30 s,
    // was far off).
    let log = std::fs::read_to_string(tern.process().stderr_path()).unwrap_or_default();
    let restart = log
        .find("peer restarting: keeping its routes as stale")
        .unwrap_or_else(|| lab.fail(format!("tern did not log BIRD's restart:\n{log}")));
    for family in ["Ipv4", "Ipv6"] {
        let end_of_rib =
            format!("End-of-RIB received peer={bird_address} family=({family}, Unicast)");
        assert!(
            log[restart..].contains(&end_of_rib),
            "tern logged no `{end_of_rib}` after BIRD's restart:\n{}",
            &log[restart..]
        );
    }
}
