//! A minimal speaker for trying tern against real routers by hand.
//!
//! ```text
//! cargo run -p bgp --example speaker -- --asn 65002 --router-id 127.0.0.72 \
//!     --listen 127.0.0.72:1790 --peer 127.0.0.71:1790,65001,local=127.0.0.72 \
//!     --originate 198.19.72.0/24 --seconds 30
//! ```
//!
//! Peer options after the address and AS, comma-separated: `passive`, `local=ADDR`,
//! `password=TEXT`, `ttl-security=HOPS`, `hold=SECONDS`, `rr-client`, `next-hop-self`,
//! `graceful-restart`, `allowas-in=N`, `max-prefixes=N`. Every two seconds it prints the peers
//! and the Loc-RIB; it stops after `--seconds` (default 30).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use bgp::packet::PathAttributes;
use bgp::{PeerConfig, Speaker, SpeakerConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut asn = 65000;
    let mut router_id = Ipv4Addr::new(127, 0, 0, 1);
    let mut listen: Vec<SocketAddr> = Vec::new();
    let mut peers = Vec::new();
    let mut originate = Vec::new();
    let mut seconds: u64 = 30;
    let mut ipv6_next_hop = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--asn" => asn = value.parse()?,
            "--router-id" => router_id = value.parse()?,
            "--listen" => listen.push(value.parse()?),
            "--peer" => peers.push(value),
            "--originate" => originate.push(value.parse()?),
            "--seconds" => seconds = value.parse()?,
            "--ipv6-next-hop" => ipv6_next_hop = Some(value.parse()?),
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    let mut config = SpeakerConfig::new(asn, router_id);
    config.listen = listen;
    config.ipv6_next_hop = ipv6_next_hop;
    let speaker = Speaker::start(config).await?;
    for spec in peers {
        let mut parts = spec.split(',');
        let address: SocketAddr = parts.next().ok_or("peer address")?.parse()?;
        let peer_asn: u32 = parts.next().ok_or("peer AS")?.parse()?;
        let mut peer = PeerConfig::new(address.ip(), peer_asn);
        peer.port = address.port();
        for option in parts {
            match option.split_once('=') {
                None if option == "passive" => peer.passive = true,
                Some(("local", v)) => peer.local_address = Some(v.parse()?),
                Some(("password", v)) => peer.password = Some(v.to_string()),
                Some(("ttl-security", v)) => peer.ttl_security = Some(v.parse()?),
                Some(("hold", v)) => peer.hold_time = v.parse()?,
                None if option == "rr-client" => peer.route_reflector_client = true,
                None if option == "next-hop-self" => peer.next_hop_self = true,
                None if option == "graceful-restart" => {
                    peer.graceful_restart = Some(bgp::GracefulRestartConfig::default());
                }
                Some(("allowas-in", v)) => peer.allow_as_in = v.parse()?,
                Some(("max-prefixes", v)) => {
                    peer.max_prefixes = Some(bgp::MaxPrefix {
                        limit: v.parse()?,
                        warning_threshold_percent: 75,
                        restart_after: None,
                    });
                }
                _ => return Err(format!("unknown peer option {option}").into()),
            }
        }
        speaker.add_peer(peer).await?;
    }
    for prefix in originate {
        speaker.originate(prefix, PathAttributes::default()).await?;
    }
    for _ in 0..seconds.div_ceil(2) {
        tokio::time::sleep(Duration::from_secs(2)).await;
        for peer in speaker.peers().await? {
            println!(
                "peer {} AS{} {} {} received {} advertised {} last error {:?}",
                peer.address,
                peer.asn,
                peer.peer_type,
                peer.state,
                peer.prefixes_received,
                peer.prefixes_advertised,
                peer.last_error
            );
        }
        for route in speaker.loc_rib().await? {
            println!(
                "route {} via {:?} path {:?} best {} multipath {} ({}){}",
                route.prefix,
                route.path.next_hop,
                route.as_path(),
                route.best,
                route.multipath,
                route.decided_by.map_or("-", |step| step.describe()),
                if route.path.stale { " stale" } else { "" }
            );
        }
    }
    speaker.shutdown().await?;
    Ok(())
}
