//! Parsers for `gobgp global rib -a AFI -j` and `gobgp neighbor -j` (GoBGP 3.10).
//!
//! RIB: `{PREFIX: [path]}`; a path has `best`, `stale`, `neighbor-ip` (absent for locally
//! originated paths) and `attrs`, a list of `{type, ...}` objects: 2 AS_PATH (`as_paths[].asns`),
//! 3 NEXT_HOP (`nexthop`), 4 MED (`metric`), 5 LOCAL_PREF (`value`), 8 COMMUNITIES
//! (`communities`, as u32), 9 ORIGINATOR_ID (`value`), 10 CLUSTER_LIST (`value`), 14
//! MP_REACH_NLRI (`nexthop`). Neighbor state: `state.session_state`, the API enum
//! (1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm, 6 Established) or its name.

use std::net::{IpAddr, Ipv4Addr};

use ipnetwork::IpNetwork;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::peers::route::{PeerRoute, SessionState};

const WHAT: &str = "gobgp global rib -j";

/// Received paths (paths without `neighbor-ip` are our own and skipped).
pub fn routes(output: &str) -> Result<Vec<PeerRoute>> {
    let value: Value = match output.trim() {
        "" | "null" => return Ok(Vec::new()),
        text => {
            serde_json::from_str(text).map_err(|e| Error::parse(WHAT, e.to_string(), output))?
        }
    };
    let mut routes = Vec::new();
    let Some(table) = value.as_object() else {
        return Err(Error::parse(WHAT, "not an object", output));
    };
    for (prefix_text, paths) in table {
        let prefix: IpNetwork = prefix_text
            .parse()
            .map_err(|e| Error::parse(WHAT, format!("prefix {prefix_text}: {e}"), output))?;
        for path in paths.as_array().into_iter().flatten() {
            let Some(from) = path
                .get("neighbor-ip")
                .and_then(Value::as_str)
                .and_then(|text| text.parse::<IpAddr>().ok())
            else {
                continue;
            };
            routes.push(path_to_route(prefix, from, path, output)?);
        }
    }
    Ok(routes)
}

fn path_to_route(prefix: IpNetwork, from: IpAddr, path: &Value, output: &str) -> Result<PeerRoute> {
    let mut route = PeerRoute {
        prefix,
        next_hop: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        as_path: Vec::new(),
        local_pref: None,
        med: None,
        communities: Vec::new(),
        originator_id: None,
        cluster_list: Vec::new(),
        stale: path.get("stale").and_then(Value::as_bool).unwrap_or(false),
        best: path.get("best").and_then(Value::as_bool).unwrap_or(false),
        from: Some(from),
    };
    let mut next_hop = None;
    for attribute in path
        .get("attrs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let u32_of = |key: &str| {
            attribute
                .get(key)
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
        };
        match attribute.get("type").and_then(Value::as_u64) {
            Some(2) => {
                route.as_path = attribute
                    .get("as_paths")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .flat_map(|segment| {
                        segment
                            .get("asns")
                            .and_then(Value::as_array)
                            .cloned()
                            .unwrap_or_default()
                    })
                    .filter_map(|asn| asn.as_u64().and_then(|n| u32::try_from(n).ok()))
                    .collect();
            }
            Some(3) | Some(14) => {
                next_hop = attribute
                    .get("nexthop")
                    .and_then(Value::as_str)
                    .and_then(|text| text.parse::<IpAddr>().ok())
                    .or(next_hop);
            }
            Some(4) => route.med = u32_of("metric"),
            Some(5) => route.local_pref = u32_of("value"),
            Some(8) => {
                let mut communities: Vec<(u16, u16)> = attribute
                    .get("communities")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_u64)
                    .filter_map(|n| u32::try_from(n).ok())
                    .map(|n| ((n >> 16) as u16, (n & 0xffff) as u16))
                    .collect();
                communities.sort_unstable();
                route.communities = communities;
            }
            Some(9) => {
                route.originator_id = attribute
                    .get("value")
                    .and_then(Value::as_str)
                    .and_then(|text| text.parse().ok());
            }
            Some(10) => {
                route.cluster_list = attribute
                    .get("value")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .filter_map(|text| text.parse().ok())
                    .collect();
            }
            _ => {}
        }
    }
    route.next_hop =
        next_hop.ok_or_else(|| Error::parse(WHAT, format!("{prefix}: no next hop"), output))?;
    Ok(route)
}

/// The session state of `neighbor`; absent means Idle.
pub fn session_state(output: &str, neighbor: IpAddr) -> Result<SessionState> {
    let value: Value = serde_json::from_str(output)
        .map_err(|e| Error::parse("gobgp neighbor -j", e.to_string(), output))?;
    let peer = value.as_array().into_iter().flatten().find(|peer| {
        peer.pointer("/conf/neighbor_address")
            .and_then(Value::as_str)
            .and_then(|text| text.parse::<IpAddr>().ok())
            == Some(neighbor)
    });
    let Some(state) = peer.and_then(|peer| peer.pointer("/state/session_state")) else {
        return Ok(SessionState::Idle);
    };
    Ok(match state {
        Value::Number(n) => match n.as_u64() {
            Some(2) => SessionState::Connect,
            Some(3) => SessionState::Active,
            Some(4) => SessionState::OpenSent,
            Some(5) => SessionState::OpenConfirm,
            Some(6) => SessionState::Established,
            _ => SessionState::Idle,
        },
        Value::String(word) => SessionState::from_word(word),
        _ => SessionState::Idle,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_received_paths_and_skips_local_ones() {
        let output = r#"{"198.51.100.0/24":[{"nlri":{"prefix":"198.51.100.0/24"},"best":true,"attrs":[{"type":1,"value":0},{"type":2,"as_paths":[{"segment_type":2,"num":1,"asns":[65001]}]},{"type":3,"nexthop":"198.18.10.1"},{"type":8,"communities":[4259905540]},{"type":4,"metric":7},{"type":5,"value":100},{"type":9,"value":"198.18.0.7"},{"type":10,"value":["198.18.0.9"]}],"stale":true,"source-id":"198.18.10.1","neighbor-ip":"198.18.10.1"}],
        "203.0.113.0/24":[{"nlri":{"prefix":"203.0.113.0/24"},"best":true,"attrs":[{"type":3,"nexthop":"0.0.0.0"}],"stale":false}]}"#;
        let routes = routes(output).unwrap();
        assert_eq!(routes.len(), 1);
        let route = &routes[0];
        assert_eq!(route.as_path, vec![65001]);
        assert_eq!(route.communities, vec![(65001, 4)]);
        assert_eq!(route.med, Some(7));
        assert_eq!(route.local_pref, Some(100));
        assert!(route.stale && route.best);
        assert_eq!(route.cluster_list.len(), 1);
        assert!(route.originator_id.is_some());
    }

    #[test]
    fn session_state_from_enum_number() {
        let output = r#"[{"conf":{"neighbor_address":"198.18.10.1"},"state":{"session_state":6}},{"conf":{"neighbor_address":"2001:db8:10::1"},"state":{"session_state":3}}]"#;
        let v4: IpAddr = "198.18.10.1".parse().unwrap();
        let v6: IpAddr = "2001:db8:10::1".parse().unwrap();
        assert_eq!(
            session_state(output, v4).unwrap(),
            SessionState::Established
        );
        assert_eq!(session_state(output, v6).unwrap(), SessionState::Active);
    }
}
