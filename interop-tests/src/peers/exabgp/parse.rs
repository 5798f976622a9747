//! Rebuilds ExaBGP's view from the API helper's log: one JSON message per line
//! (`encoder json`, `receive { parsed; update; }`, `neighbor-changes`). UPDATEs add and
//! remove paths per (neighbor, prefix); a `state` message `down` drops the neighbor's paths.
//! Lines that are not JSON (ExaBGP's `done` acknowledgements) are ignored.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use serde_json::Value;

use crate::peers::route::{PeerRoute, SessionState};

/// What the log says so far.
#[derive(Debug, Default)]
pub struct Replayed {
    /// Current paths, keyed by (neighbor, prefix).
    pub routes: BTreeMap<(IpAddr, IpNetwork), PeerRoute>,
    /// Last state per neighbor.
    pub states: HashMap<IpAddr, SessionState>,
}

/// Replays a whole log.
pub fn replay(log: &str) -> Replayed {
    let mut replayed = Replayed::default();
    for line in log.lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(peer) = message
            .pointer("/neighbor/address/peer")
            .and_then(Value::as_str)
            .and_then(|text| text.parse::<IpAddr>().ok())
        else {
            continue;
        };
        match message.get("type").and_then(Value::as_str) {
            Some("state") => {
                let state = message
                    .pointer("/neighbor/state")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let state = match state {
                    "up" => SessionState::Established,
                    "connected" => SessionState::OpenSent,
                    _ => SessionState::Idle,
                };
                if state == SessionState::Idle {
                    replayed.routes.retain(|(neighbor, _), _| *neighbor != peer);
                }
                replayed.states.insert(peer, state);
            }
            Some("update") => {
                if let Some(update) = message.pointer("/neighbor/message/update") {
                    apply_update(&mut replayed, peer, update);
                }
            }
            _ => {}
        }
    }
    replayed
}

fn nlri_prefixes(entries: &Value) -> Vec<IpNetwork> {
    let mut prefixes = Vec::new();
    let mut push = |text: &str| {
        if let Ok(prefix) = text.parse() {
            prefixes.push(prefix);
        }
    };
    match entries {
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::String(text) => push(text),
                    Value::Object(object) => {
                        if let Some(text) = object.get("nlri").and_then(Value::as_str) {
                            push(text);
                        }
                    }
                    _ => {}
                }
            }
        }
        Value::Object(object) => {
            for key in object.keys() {
                push(key);
            }
        }
        _ => {}
    }
    prefixes
}

fn apply_update(replayed: &mut Replayed, peer: IpAddr, update: &Value) {
    if let Some(withdraw) = update.get("withdraw").and_then(Value::as_object) {
        for entries in withdraw.values() {
            for prefix in nlri_prefixes(entries) {
                replayed.routes.remove(&(peer, prefix));
            }
        }
    }
    let Some(announce) = update.get("announce").and_then(Value::as_object) else {
        return;
    };
    let attributes = update.get("attribute").cloned().unwrap_or(Value::Null);
    // ExaBGP lists an IPv6 next hop pair (global + link-local) as two keys with the same
    // NLRI; keep the global one.
    let mut chosen: BTreeMap<IpNetwork, IpAddr> = BTreeMap::new();
    for by_next_hop in announce.values() {
        let Some(by_next_hop) = by_next_hop.as_object() else {
            continue;
        };
        for (next_hop_text, entries) in by_next_hop {
            let Some(next_hop) = next_hop_text
                .split_whitespace()
                .next()
                .and_then(|text| text.parse::<IpAddr>().ok())
            else {
                continue;
            };
            for prefix in nlri_prefixes(entries) {
                let keep_existing = chosen
                    .get(&prefix)
                    .is_some_and(|existing| !is_link_local(*existing));
                if !keep_existing {
                    chosen.insert(prefix, next_hop);
                }
            }
        }
    }
    for (prefix, next_hop) in chosen {
        let route = route_from(prefix, next_hop, peer, &attributes);
        replayed.routes.insert((peer, prefix), route);
    }
}

fn is_link_local(address: IpAddr) -> bool {
    match address {
        IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
        IpAddr::V4(_) => false,
    }
}

fn as_numbers(value: &Value, out: &mut Vec<u32>) {
    match value {
        Value::Number(n) => {
            if let Some(n) = n.as_u64().and_then(|n| u32::try_from(n).ok()) {
                out.push(n);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| as_numbers(item, out)),
        Value::Object(object) => {
            // {"0": {"element": "as-sequence", "value": [..]}} in newer encoders.
            let mut keys: Vec<&String> = object.keys().collect();
            keys.sort_by_key(|key| key.parse::<u32>().unwrap_or(u32::MAX));
            for key in keys {
                if let Some(inner) = object.get(key.as_str()) {
                    match inner.get("value") {
                        Some(segment) => as_numbers(segment, out),
                        None => as_numbers(inner, out),
                    }
                }
            }
        }
        _ => {}
    }
}

fn route_from(prefix: IpNetwork, next_hop: IpAddr, peer: IpAddr, attributes: &Value) -> PeerRoute {
    let number = |key: &str| {
        attributes
            .get(key)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
    };
    let mut as_path = Vec::new();
    if let Some(path) = attributes.get("as-path") {
        as_numbers(path, &mut as_path);
    }
    let mut communities: Vec<(u16, u16)> = attributes
        .get("community")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|pair| {
            let pair = pair.as_array()?;
            let high = u16::try_from(pair.first()?.as_u64()?).ok()?;
            let low = u16::try_from(pair.get(1)?.as_u64()?).ok()?;
            Some((high, low))
        })
        .collect();
    communities.sort_unstable();
    PeerRoute {
        prefix,
        next_hop,
        as_path,
        local_pref: number("local-preference"),
        med: number("med"),
        communities,
        originator_id: attributes
            .get("originator-id")
            .and_then(Value::as_str)
            .and_then(|text| text.parse().ok()),
        cluster_list: attributes
            .get("cluster-list")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(|text| text.parse().ok())
            .collect(),
        stale: false,
        best: true,
        from: Some(peer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = r#"{ "exabgp": "4.0.1", "type": "state", "neighbor": { "address": { "local": "198.18.10.2", "peer": "198.18.10.1" }, "state": "up" } }
{ "exabgp": "4.0.1", "type": "update", "neighbor": { "address": { "local": "198.18.10.2", "peer": "198.18.10.1" }, "direction": "receive", "message": { "update": { "attribute": { "origin": "igp", "as-path": [ 65001, 65010 ], "confederation-path": [], "med": 7, "community": [ [ 65001, 4 ] ] }, "announce": { "ipv4 unicast": { "198.18.10.1": [ { "nlri": "198.51.100.0/24" }, { "nlri": "198.51.100.128/25" } ] } } } } } }
done
{ "exabgp": "4.0.1", "type": "update", "neighbor": { "address": { "local": "198.18.10.2", "peer": "198.18.10.1" }, "direction": "receive", "message": { "update": { "withdraw": { "ipv4 unicast": [ { "nlri": "198.51.100.128/25" } ] } } } } }
{ "exabgp": "4.0.1", "type": "update", "neighbor": { "address": { "local": "2001:db8:10::2", "peer": "2001:db8:10::1" }, "direction": "receive", "message": { "update": { "attribute": { "origin": "igp", "as-path": [ 65001 ] }, "announce": { "ipv6 unicast": { "2001:db8:10::1": [ { "nlri": "2001:db8:100::/48" } ], "fe80::1": [ { "nlri": "2001:db8:100::/48" } ] } } } } } }
"#;

    #[test]
    fn replays_announces_withdraws_and_states() {
        let replayed = replay(LOG);
        let routes: Vec<&PeerRoute> = replayed.routes.values().collect();
        assert_eq!(routes.len(), 2, "{routes:#?}");
        let v4 = routes.iter().find(|r| r.prefix.is_ipv4()).unwrap();
        assert_eq!(v4.as_path, vec![65001, 65010]);
        assert_eq!(v4.med, Some(7));
        assert_eq!(v4.communities, vec![(65001, 4)]);
        let v6 = routes.iter().find(|r| r.prefix.is_ipv6()).unwrap();
        assert_eq!(v6.next_hop, "2001:db8:10::1".parse::<IpAddr>().unwrap());
        let peer: IpAddr = "198.18.10.1".parse().unwrap();
        assert_eq!(replayed.states.get(&peer), Some(&SessionState::Established));
    }

    #[test]
    fn session_down_drops_the_neighbors_paths() {
        let log = format!(
            "{LOG}{}\n",
            r#"{ "type": "state", "neighbor": { "address": { "local": "198.18.10.2", "peer": "198.18.10.1" }, "state": "down", "reason": "x" } }"#
        );
        let replayed = replay(&log);
        assert_eq!(replayed.routes.len(), 1);
    }
}
