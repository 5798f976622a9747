//! Between the control protocol's plain types and `bgp`'s types.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bgp::packet::{AsPath, Community, PathAttributes};
use bgp::{Families, GracefulRestartConfig, MaxPrefix, PeerConfig, PeerStatus, Route};
use interop_tests::tern::{PeerEntry, PeerSpec, RibEntry, RouteSpec};

/// A peer as the speaker takes it; an error names a filter the speaker cannot take.
pub fn peer_config(spec: &PeerSpec) -> Result<PeerConfig, String> {
    let mut config = PeerConfig::new(spec.address, spec.asn);
    config.port = spec.port;
    config.local_address = spec.local_address;
    config.passive = spec.passive;
    config.password = spec.password.clone();
    config.ttl_security = spec.ttl_security;
    config.ttl = spec.ttl;
    config.hold_time = spec.hold_time;
    config.connect_retry = Duration::from_millis(spec.connect_retry_ms);
    config.families = Families {
        ipv4: spec.ipv4,
        ipv6: spec.ipv6,
    };
    config.keep_original_next_hop = spec.keep_original_next_hop;
    config.route_reflector_client = spec.route_reflector_client;
    config.next_hop_self = spec.next_hop_self;
    config.allow_as_in = spec.allow_as_in;
    config.graceful_restart = spec
        .graceful_restart_time
        .map(|seconds| GracefulRestartConfig {
            restart_time: Duration::from_secs(u64::from(seconds)),
        });
    config.max_prefixes = spec.max_prefixes.map(|max| MaxPrefix {
        limit: max.limit,
        warning_threshold_percent: max.warning_threshold_percent,
        restart_after: max.restart_after_ms.map(Duration::from_millis),
    });
    config.filters = spec
        .filters
        .iter()
        .map(|filter| filter.to_filter())
        .collect::<Result<_, _>>()?;
    Ok(config)
}

/// The attributes of an originated route.
pub fn attributes(spec: &RouteSpec) -> PathAttributes {
    PathAttributes {
        as_path: (!spec.as_path.is_empty()).then(|| AsPath::from_sequence(spec.as_path.clone())),
        med: spec.med,
        local_pref: spec.local_pref,
        communities: spec
            .communities
            .iter()
            .map(|&(high, low)| Community::new(high, low))
            .collect(),
        ..PathAttributes::default()
    }
}

/// One Loc-RIB path for the control socket.
pub fn rib_entry(route: &Route) -> RibEntry {
    let attributes = &route.path.attributes;
    let mut communities: Vec<(u16, u16)> = attributes
        .communities
        .iter()
        .map(|community| (community.asn(), community.value()))
        .collect();
    communities.sort_unstable();
    RibEntry {
        prefix: route.prefix,
        next_hop: route.path.next_hop,
        as_path: route.as_path(),
        local_pref: attributes.local_pref,
        med: attributes.med,
        communities,
        from: route.path.source.peer_address(),
        best: route.best,
        multipath: route.multipath,
        stale: route.path.stale,
        originator_id: attributes.originator_id,
        cluster_list: attributes.cluster_list.clone(),
    }
}

/// One peer's status for the control socket.
pub fn peer_entry(status: &PeerStatus) -> PeerEntry {
    PeerEntry {
        address: status.address,
        asn: status.asn,
        peer_type: status.peer_type.to_string(),
        state: status.state.to_string(),
        since_unix_ms: unix_ms(status.since),
        prefixes_received: status.prefixes_received,
        prefixes_stale: status.prefixes_stale,
        prefixes_advertised: status.prefixes_advertised,
        last_error: status.last_error.clone(),
        hold_time: status.hold_time,
    }
}

fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
