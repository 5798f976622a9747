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

#[test]
fn tern_restarts_gracefully_then_dies_and_bird_and_frr_follow() {
    let mut lab = Lab::new("grt", [198, 18, 34]);
    let tern_host = lab.host("tern", 1);
    let bird_host = lab.host("bird", 2);
    let frr_host = lab.host("frr", 3);
    let tern_address = lab.address(1);
    let kept = net("198.19.34.0/24");
    let dropped = net("198.19.35.0/24");
    let router = |octet: u8, asn: u32| {
        let address = lab.address(octet);
        PeerConfig::new(address, asn)
            .neighbor(
                Neighbor::new(IpAddr::V4(tern_address), TERN_AS)
                    .local_address(IpAddr::V4(address))
                    .graceful_restart(true),
            )
            .route(Route::new(net(&format!("203.0.113.{octet}/32"))))
    };
    let bird = lab.router(PeerKind::Bird, &bird_host, router(2, 65002));
    let frr = lab.router(PeerKind::Frr, &frr_host, router(3, 65003));
    let peers: [(&str, &dyn BgpPeer); 2] = [("BIRD", bird.as_ref()), ("FRR", frr.as_ref())];
    let spec = |routes: &[IpNetwork]| {
        let mut spec = SpeakerSpec::new(TERN_AS, tern_address);
        for (octet, asn) in [(2, 65002), (3, 65003)] {
            spec = spec.peer(
                PeerSpec::new(IpAddr::V4(lab.address(octet)), asn)
                    .local_address(IpAddr::V4(tern_address))
                    .families(true, false)
                    .graceful_restart(TERN_RESTART_TIME),
            );
        }
        for prefix in routes {
            spec = spec.route(RouteSpec::new(*prefix));
        }
        spec
    };
    let first = lab.tern(&tern_host, spec(&[kept, dropped]));
    for (name, peer) in peers {
        lab.established(peer, tern_address);
        lab.wait(&format!("{name} to hold tern's routes"), CONVERGE, || {
            let both = [held(peer, kept)?, held(peer, dropped)?];
            Ok((both == [Held::Fresh, Held::Fresh]).then_some(()))
        });
    }

    // Graceful restart of the tern process.
    let started = Instant::now();
    lab.check(first.shutdown_for_restart());
    for (name, peer) in peers {
        let stale = lab.wait(
            &format!("{name} to mark tern's routes stale"),
            CONVERGE,
            || {
                let both = [held(peer, kept)?, held(peer, dropped)?];
                match both {
                    [Held::Stale, Held::Stale] => Ok(Some(started.elapsed())),
                    [Held::Absent, _] | [_, Held::Absent] => {
                        lab.fail(format!("{name} withdrew tern's routes: {both:?}"))
                    }
                    _ => Ok(None),
                }
            },
        );
        println!(
            "tern stopped for restart; {name} shows its routes stale after {} ms",
            ms(stale)
        );
    }
    let second = lab.tern(&tern_host, spec(&[kept]).restarting(DEFERRAL));
    let restarted = Instant::now();
    // Until both peers hold `kept` fresh and no longer `dropped`, `kept` must never go.
    let mut swept = [None, None];
    lab.wait(
        "both peers to refresh and sweep tern's routes",
        CONVERGE,
        || {
            for (index, (name, peer)) in peers.iter().enumerate() {
                let now = [held(*peer, kept)?, held(*peer, dropped)?];
                if now[0] == Held::Absent {
                    lab.fail(format!(
                        "{name} withdrew {kept} during tern's restart: {now:?}"
                    ));
                }
                if now == [Held::Fresh, Held::Absent] && swept[index].is_none() {
                    swept[index] = Some(restarted.elapsed());
                }
            }
            Ok(swept.iter().all(Option::is_some).then_some(()))
        },
    );
    for ((name, _), at) in peers.iter().zip(swept) {
        println!(
            "{name}: tern's routes refreshed and the unannounced one swept {} ms after the new tern started",
            ms(at.unwrap_or_default())
        );
    }
    // The restarted tern learned the peers' routes again (after their End-of-RIBs).
    for octet in [2u8, 3] {
        let prefix = net(&format!("203.0.113.{octet}/32"));
        lab.check(second.wait_route(prefix, CONVERGE));
    }
    println!(
        "restarted tern holds the peers' routes {} ms after start",
        ms(restarted.elapsed())
    );

    // kill -9 and stay down: the routes stay for the restart time, then go.
    second.process().kill();
    let killed = Instant::now();
    for (name, peer) in peers {
        let now = lab.check(held(peer, kept));
        assert_ne!(
            now,
            Held::Absent,
            "{name} dropped {kept} at once after kill -9"
        );
    }
    let mut dropped_at = [None, None];
    lab.wait(
        "both peers to drop tern's routes after its restart time",
        CONVERGE,
        || {
            for (index, (_, peer)) in peers.iter().enumerate() {
                if dropped_at[index].is_none() && held(*peer, kept)? == Held::Absent {
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

#[test]
fn bird_restarts_gracefully_and_tern_keeps_its_routes_until_end_of_rib() {
    let mut lab = Lab::new("grh", [198, 18, 35]);
    let tern_host = lab.host("tern", 1);
    let bird_host = lab.host("bird", 2);
    let (tern_address, bird_address) = (lab.address(1), lab.address(2));
    let kept = net("203.0.113.10/32");
    let dropped = net("203.0.113.20/32");
    let mut config = PeerConfig::new(bird_address, 65002)
        .neighbor(
            Neighbor::new(IpAddr::V4(tern_address), TERN_AS)
                .local_address(IpAddr::V4(bird_address))
                .graceful_restart(true),
        )
        .route(Route::new(kept))
        .route(Route::new(dropped));
    config.graceful_restart_time = 30;
    let mut bird =
        Bird::start(&bird_host, config).unwrap_or_else(|e| lab.fail(format!("start BIRD: {e}")));
    let tern = lab.tern(
        &tern_host,
        SpeakerSpec::new(TERN_AS, tern_address)
            .peer(
                PeerSpec::new(IpAddr::V4(bird_address), 65002)
                    .local_address(IpAddr::V4(tern_address))
                    .families(true, false)
                    .graceful_restart(120),
            )
            .route(RouteSpec::new(net("198.19.35.0/24"))),
    );
    let bird_peer = IpAddr::V4(bird_address);
    let stale_of = |prefix: IpNetwork| -> Result<Held, String> {
        let paths = tern.routes_for(prefix).map_err(|e| e.to_string())?;
        Ok(match paths.first() {
            None => Held::Absent,
            Some(path) if path.stale => Held::Stale,
            Some(_) => Held::Fresh,
        })
    };
    lab.wait("tern to hold BIRD's routes", CONVERGE, || {
        Ok(([stale_of(kept)?, stale_of(dropped)?] == [Held::Fresh, Held::Fresh]).then_some(()))
    });

    let started = Instant::now();
    lab.check(bird.graceful_shutdown());
    let stale = lab.wait("tern to keep BIRD's routes stale", CONVERGE, || {
        let both = [stale_of(kept)?, stale_of(dropped)?];
        match both {
            [Held::Stale, Held::Stale] => Ok(Some(started.elapsed())),
            [Held::Absent, _] | [_, Held::Absent] => {
                lab.fail(format!("tern withdrew BIRD's routes: {both:?}"))
            }
            _ => Ok(None),
        }
    });
    let status = lab.check(tern.peer(bird_peer));
    assert_eq!(status.prefixes_stale, 2, "{status:?}");
    println!(
        "BIRD stopped for restart; tern shows its routes stale after {} ms",
        ms(stale)
    );
    // BIRD stays away a moment: still stale, nothing swept.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        [lab.check(stale_of(kept)), lab.check(stale_of(dropped))],
        [Held::Stale, Held::Stale]
    );

    let restarted = Instant::now();
    lab.check(bird.recover(|config| {
        config.remove_route(dropped);
    }));
    let mut established_at = None;
    let mut stale_while_up = false;
    let swept = lab.wait(
        "tern to refresh BIRD's route and sweep the other",
        CONVERGE,
        || {
            let now = [stale_of(kept)?, stale_of(dropped)?];
            if now[0] == Held::Absent {
                lab.fail(format!("tern lost {kept} during BIRD's restart: {now:?}"));
            }
            if established_at.is_none()
                && tern
                    .peer_state(bird_peer)
                    .map_err(|e| e.to_string())?
                    .is_established()
            {
                established_at = Some(restarted.elapsed());
            }
            if established_at.is_some() && now[1] == Held::Stale {
                stale_while_up = true;
            }
            Ok((now == [Held::Fresh, Held::Absent]).then(|| restarted.elapsed()))
        },
    );
    println!(
        "BIRD restarted (-R): session up after {} ms, tern refreshed {kept} and swept {dropped} after {} ms",
        ms(established_at.unwrap_or_default()),
        ms(swept)
    );
    let status = lab.check(tern.peer(bird_peer));
    assert_eq!(
        (status.prefixes_received, status.prefixes_stale),
        (1, 0),
        "{status:?}"
    );
    // The sweep came with BIRD's End-of-RIB (BIRD's restart time, 30 s, was far off).
    let log = std::fs::read_to_string(tern.process().stderr_path()).unwrap_or_default();
    let end_of_rib = format!("End-of-RIB received peer={bird_address}");
    assert!(
        log.contains(&end_of_rib),
        "tern logged no End-of-RIB from BIRD:\n{}",
        tern.logs()
    );
    println!(
        "tern held {dropped} stale while the new session was up: {}",
        stale_while_up
    );
}
