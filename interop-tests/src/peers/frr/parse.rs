//! Parsers for FRR's JSON: `show bgp ipv4|ipv6 unicast json detail` (FRR 8.4: each prefix maps
//! to an array whose first element is a `{prefix, version}` header and whose other elements
//! are detailed paths) and `show bgp neighbors json`.

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::peers::route::{PeerRoute, SessionState, parse_community};

const WHAT: &str = "vtysh show bgp ... json detail";

/// Received (not locally sourced) paths of one `show bgp AFI unicast json detail` output.
pub fn routes(output: &str) -> Result<Vec<PeerRoute>> {
    let value: Value =
        serde_json::from_str(output).map_err(|e| Error::parse(WHAT, e.to_string(), output))?;
    let mut routes = Vec::new();
    let Some(table) = value.get("routes").and_then(Value::as_object) else {
        return Ok(routes);
    };
    for (prefix_text, paths) in table {
        let prefix: IpNetwork = prefix_text
            .parse()
            .map_err(|e| Error::parse(WHAT, format!("prefix {prefix_text}: {e}"), output))?;
        for path in paths.as_array().into_iter().flatten() {
            if path.get("nexthops").is_none() || flag(path, "local") || flag(path, "sourced") {
                continue;
            }
            routes.push(path_to_route(prefix, path, output)?);
        }
    }
    Ok(routes)
}

fn flag(path: &Value, key: &str) -> bool {
    path.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn number(path: &Value, key: &str) -> Option<u32> {
    path.get(key)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

fn path_to_route(prefix: IpNetwork, path: &Value, output: &str) -> Result<PeerRoute> {
    let next_hops = path
        .get("nexthops")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let chosen = next_hops
        .iter()
        .find(|hop| hop.get("scope").and_then(Value::as_str) == Some("global"))
        .or_else(|| next_hops.first())
        .and_then(|hop| hop.get("ip"))
        .and_then(Value::as_str)
        .ok_or_else(|| Error::parse(WHAT, format!("{prefix}: no next hop"), output))?;
    let next_hop: IpAddr = chosen
        .parse()
        .map_err(|_| Error::parse(WHAT, format!("{prefix}: next hop {chosen}"), output))?;
    let as_path_text = path
        .pointer("/aspath/string")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let as_path: Vec<u32> = as_path_text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|word| !word.is_empty())
        .filter_map(|word| word.parse().ok())
        .collect();
    let mut communities: Vec<(u16, u16)> = path
        .pointer("/community/string")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(parse_community)
        .collect();
    communities.sort_unstable();
    let originator_id = path
        .get("originatorId")
        .and_then(Value::as_str)
        .and_then(|text| text.parse().ok());
    let cluster_list = path
        .pointer("/clusterList/list")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|text| text.parse().ok())
        .collect();
    let best = path
        .pointer("/bestpath/overall")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let from = path
        .pointer("/peer/peerId")
        .and_then(Value::as_str)
        .and_then(|text| text.parse().ok());
    Ok(PeerRoute {
        prefix,
        next_hop,
        as_path,
        local_pref: number(path, "locPrf"),
        med: number(path, "metric"),
        communities,
        originator_id,
        cluster_list,
        stale: flag(path, "stale"),
        best,
        from,
    })
}

/// The state of `neighbor` in `show bgp neighbors json`; absent means Idle.
pub fn session_state(output: &str, neighbor: IpAddr) -> Result<SessionState> {
    let value: Value = serde_json::from_str(output)
        .map_err(|e| Error::parse("vtysh show bgp neighbors json", e.to_string(), output))?;
    Ok(value
        .get(neighbor.to_string())
        .and_then(|n| n.get("bgpState"))
        .and_then(Value::as_str)
        .map(SessionState::from_word)
        .unwrap_or(SessionState::Idle))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"vrfId":0,"routes":{"203.0.113.0/24":[{"prefix":"203.0.113.0/24","version":1},
      {"aspath":{"string":"Local","segments":[],"length":0},"local":true,"sourced":true,"nexthops":[{"ip":"0.0.0.0"}],"bestpath":{"overall":true}}],
      "198.51.100.0/24":[{"prefix":"198.51.100.0/24","version":2},
      {"aspath":{"string":"65001 {65010,65011}","length":3},"origin":"IGP","metric":5,"locPrf":100,
       "community":{"string":"65000:2 65000:1","list":["65000:2","65000:1"]},
       "originatorId":"198.18.0.7","clusterList":{"list":["198.18.0.9"]},"stale":true,
       "valid":true,"bestpath":{"overall":true},"nexthops":[{"ip":"198.18.0.1","afi":"ipv4","used":true}],
       "peer":{"peerId":"198.18.0.1","routerId":"198.18.0.1"}}]}}"#;

    #[test]
    fn parses_received_paths_and_skips_local_ones() {
        let routes = routes(SAMPLE).unwrap();
        assert_eq!(routes.len(), 1, "{routes:#?}");
        let route = &routes[0];
        assert_eq!(route.as_path, vec![65001, 65010, 65011]);
        assert_eq!(route.communities, vec![(65000, 1), (65000, 2)]);
        assert_eq!(route.med, Some(5));
        assert_eq!(route.local_pref, Some(100));
        assert!(route.stale && route.best);
        assert_eq!(route.cluster_list.len(), 1);
        assert_eq!(route.from, Some("198.18.0.1".parse().unwrap()));
    }

    #[test]
    fn neighbor_state_is_read() {
        let output = r#"{"198.18.0.1":{"bgpState":"Established"}}"#;
        let address: IpAddr = "198.18.0.1".parse().unwrap();
        assert_eq!(
            session_state(output, address).unwrap(),
            SessionState::Established
        );
        let other: IpAddr = "198.18.0.2".parse().unwrap();
        assert_eq!(session_state(output, other).unwrap(), SessionState::Idle);
    }
}
