//! Renders a [`PeerConfig`] as an FRR `bgpd.conf` for `bgpd` running without zebra.
//!
//! Needed without zebra: `no bgp network import-check` (else `network` statements wait for an
//! IGP route that never comes) and `no bgp ebgp-requires-policy` (else FRR 8 drops every eBGP
//! route without a policy). `no bgp default ipv4-unicast` so each family is activated
//! explicitly. Attributes of originated routes come from one route-map per prefix.

use std::fmt::Write;

use ipnetwork::IpNetwork;

use crate::peers::config::{Neighbor, PeerConfig, Route, Ttl};

/// Name of the route-map that sets the attributes of an originated prefix.
pub fn route_map_name(prefix: IpNetwork) -> String {
    let text: String = prefix
        .to_string()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("TERN-ORIGINATE-{text}")
}

/// `route-map` lines (without the leading `route-map NAME permit 10` handled by the caller's
/// context) that set a route's attributes.
pub fn route_map_sets(route: &Route) -> Vec<String> {
    let mut sets = Vec::new();
    if !route.communities.is_empty() {
        let communities: Vec<String> = route
            .communities
            .iter()
            .map(|(high, low)| format!("{high}:{low}"))
            .collect();
        sets.push(format!("set community {}", communities.join(" ")));
    }
    if let Some(med) = route.med {
        sets.push(format!("set metric {med}"));
    }
    if !route.as_path.is_empty() {
        let path: Vec<String> = route.as_path.iter().map(u32::to_string).collect();
        sets.push(format!("set as-path prepend {}", path.join(" ")));
    }
    match route.next_hop {
        Some(std::net::IpAddr::V4(next_hop)) => sets.push(format!("set ip next-hop {next_hop}")),
        Some(std::net::IpAddr::V6(next_hop)) => {
            sets.push(format!("set ipv6 next-hop global {next_hop}"))
        }
        None => {}
    }
    sets
}

/// The `address-family` name for a prefix.
pub fn family_of(prefix: IpNetwork) -> &'static str {
    match prefix {
        IpNetwork::V4(_) => "ipv4 unicast",
        IpNetwork::V6(_) => "ipv6 unicast",
    }
}

/// The whole `bgpd.conf`.
pub fn render(config: &PeerConfig, hostname: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "frr defaults traditional");
    let _ = writeln!(out, "hostname {hostname}");
    let _ = writeln!(out, "log stdout informational");
    let _ = writeln!(out, "!");
    for route in &config.routes {
        let _ = writeln!(out, "route-map {} permit 10", route_map_name(route.prefix));
        for set in route_map_sets(route) {
            let _ = writeln!(out, " {set}");
        }
        let _ = writeln!(out, "!");
    }
    let _ = writeln!(out, "router bgp {}", config.local_as);
    let _ = writeln!(out, " bgp router-id {}", config.router_id);
    let _ = writeln!(out, " no bgp ebgp-requires-policy");
    let _ = writeln!(out, " no bgp network import-check");
    let _ = writeln!(out, " no bgp default ipv4-unicast");
    if let Some(cluster_id) = config.cluster_id {
        let _ = writeln!(out, " bgp cluster-id {cluster_id}");
    }
    if config.neighbors.iter().any(|n| n.graceful_restart) {
        let _ = writeln!(
            out,
            " bgp graceful-restart restart-time {}",
            config.graceful_restart_time
        );
    }
    for neighbor in &config.neighbors {
        out.push_str(&neighbor_lines(neighbor));
    }
    for (family, is_v6) in [("ipv4 unicast", false), ("ipv6 unicast", true)] {
        let _ = writeln!(out, " address-family {family}");
        for route in config.routes.iter().filter(|r| r.prefix.is_ipv6() == is_v6) {
            let _ = writeln!(
                out,
                "  network {} route-map {}",
                route.prefix,
                route_map_name(route.prefix)
            );
        }
        for neighbor in &config.neighbors {
            let enabled = match is_v6 {
                false => neighbor.ipv4_unicast,
                true => neighbor.ipv6_unicast,
            };
            if !enabled {
                continue;
            }
            let address = neighbor.address;
            let _ = writeln!(out, "  neighbor {address} activate");
            if neighbor.next_hop_self {
                let _ = writeln!(out, "  neighbor {address} next-hop-self");
            }
            if neighbor.route_reflector_client {
                let _ = writeln!(out, "  neighbor {address} route-reflector-client");
            }
        }
        let _ = writeln!(out, " exit-address-family");
    }
    let _ = writeln!(out, "!");
    out
}

fn neighbor_lines(neighbor: &Neighbor) -> String {
    let mut out = String::new();
    let address = neighbor.address;
    let _ = writeln!(out, " neighbor {address} remote-as {}", neighbor.remote_as);
    if neighbor.passive {
        let _ = writeln!(out, " neighbor {address} passive");
    }
    // Tests want fast reconnection (default connect retry: 120 s).
    let _ = writeln!(out, " neighbor {address} timers connect 2");
    if let Some(password) = &neighbor.md5_password {
        let _ = writeln!(out, " neighbor {address} password {password}");
    }
    match neighbor.ttl {
        Ttl::Default => {}
        Ttl::Multihop(ttl) => {
            let _ = writeln!(out, " neighbor {address} ebgp-multihop {ttl}");
        }
        Ttl::Security { hops } => {
            let _ = writeln!(out, " neighbor {address} ttl-security hops {hops}");
        }
    }
    if let Some(hold) = neighbor.hold_time {
        let keepalive = (hold / 3).max(1);
        let _ = writeln!(out, " neighbor {address} timers {keepalive} {hold}");
    }
    if let Some(local) = neighbor.local_address {
        let _ = writeln!(out, " neighbor {address} update-source {local}");
    }
    match neighbor.graceful_restart {
        true => {
            let _ = writeln!(out, " neighbor {address} graceful-restart");
        }
        false => {
            let _ = writeln!(out, " neighbor {address} graceful-restart-disable");
        }
    }
    out
}
