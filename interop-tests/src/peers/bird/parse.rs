//! Parsers for `birdc show route all` and `birdc show protocols all NAME` (BIRD 2.0.12 text).
//!
//! Route output: a header line per path (`PREFIX  TYPE [PROTO TIME (from ADDR)] * (PREF)
//! [AS...]`, the prefix left blank for further paths of the same prefix), then tab-indented
//! attribute lines (`BGP.as_path: 65002 65001`, `BGP.next_hop: 2001:db8::2 fe80::1`, ...).
//! BIRD does not print a graceful-restart stale flag per route: a path carrying the LLGR_STALE
//! community (65535:6) is reported stale, and [`graceful_restart_active`] finds the sessions
//! whose neighbor is restarting (`Neighbor graceful restart active` in `show protocols all`,
//! printed from the session's drop until the neighbor's End-of-RIBs): all their paths are
//! stale.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};

use ipnetwork::IpNetwork;

use crate::error::{Error, Result};
use crate::peers::route::{PeerRoute, SessionState};

const WHAT: &str = "birdc show route all";

struct Pending {
    prefix: IpNetwork,
    protocol: String,
    best: bool,
    next_hop: Option<IpAddr>,
    as_path: Vec<u32>,
    local_pref: Option<u32>,
    med: Option<u32>,
    communities: Vec<(u16, u16)>,
    originator_id: Option<Ipv4Addr>,
    cluster_list: Vec<Ipv4Addr>,
}

/// Parses `show route all`, keeping paths from the BGP protocols in `neighbors` (protocol name →
/// neighbor address).
pub fn routes(output: &str, neighbors: &HashMap<String, IpAddr>) -> Result<Vec<PeerRoute>> {
    let mut routes = Vec::new();
    let mut current: Option<Pending> = None;
    let mut last_prefix: Option<IpNetwork> = None;
    for line in output.lines() {
        if line.trim().is_empty()
            || line.starts_with("BIRD ")
            || line.starts_with("Table ")
            || line.starts_with("Network ")
        {
            continue;
        }
        if let Some(attribute) = line.strip_prefix('\t') {
            if let Some(pending) = current.as_mut() {
                apply_attribute(pending, attribute.trim(), output)?;
            }
            continue;
        }
        // A header line: finish the previous path.
        if let Some(pending) = current.take() {
            finish(pending, neighbors, &mut routes);
        }
        let prefix = match line.starts_with(' ') {
            true => last_prefix
                .ok_or_else(|| Error::parse(WHAT, "continuation line before any prefix", output))?,
            false => {
                let text = line.split_whitespace().next().unwrap_or_default();
                text.parse::<IpNetwork>()
                    .map_err(|e| Error::parse(WHAT, format!("prefix {text:?}: {e}"), output))?
            }
        };
        last_prefix = Some(prefix);
        let Some((_, bracket)) = line.split_once('[') else {
            return Err(Error::parse(
                WHAT,
                format!("no [protocol] in {line:?}"),
                output,
            ));
        };
        let protocol = bracket
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .trim_end_matches(']')
            .to_string();
        let best = bracket
            .split_once(']')
            .map(|(_, rest)| rest.trim_start().starts_with('*'))
            .unwrap_or(false);
        current = Some(Pending {
            prefix,
            protocol,
            best,
            next_hop: None,
            as_path: Vec::new(),
            local_pref: None,
            med: None,
            communities: Vec::new(),
            originator_id: None,
            cluster_list: Vec::new(),
        });
    }
    if let Some(pending) = current.take() {
        finish(pending, neighbors, &mut routes);
    }
    Ok(routes)
}

fn finish(pending: Pending, neighbors: &HashMap<String, IpAddr>, routes: &mut Vec<PeerRoute>) {
    let Some(from) = neighbors.get(&pending.protocol) else {
        return;
    };
    let Some(next_hop) = pending.next_hop else {
        return;
    };
    let mut communities = pending.communities;
    communities.sort_unstable();
    let stale = communities.contains(&(65535, 6));
    routes.push(PeerRoute {
        prefix: pending.prefix,
        next_hop,
        as_path: pending.as_path,
        local_pref: pending.local_pref,
        med: pending.med,
        communities,
        originator_id: pending.originator_id,
        cluster_list: pending.cluster_list,
        stale,
        best: pending.best,
        from: Some(*from),
    });
}

fn apply_attribute(pending: &mut Pending, attribute: &str, output: &str) -> Result<()> {
    let Some((name, value)) = attribute.split_once(':') else {
        return Ok(());
    };
    let value = value.trim();
    let bad = |reason: String| Error::parse(WHAT, format!("{name}: {reason}"), output);
    match name {
        "BGP.as_path" => {
            pending.as_path = value
                .split(|c: char| c.is_whitespace() || c == '{' || c == '}' || c == ',')
                .filter(|word| !word.is_empty())
                .map(|word| word.parse::<u32>().map_err(|e| bad(e.to_string())))
                .collect::<Result<_>>()?;
        }
        "BGP.next_hop" => {
            let first = value.split_whitespace().next().unwrap_or_default();
            pending.next_hop = Some(first.parse().map_err(|_| bad(first.to_string()))?);
        }
        "BGP.local_pref" => {
            pending.local_pref = Some(value.parse().map_err(|_| bad(value.to_string()))?);
        }
        "BGP.med" => pending.med = Some(value.parse().map_err(|_| bad(value.to_string()))?),
        "BGP.community" => {
            pending.communities = value
                .split(')')
                .map(|part| part.trim().trim_start_matches('('))
                .filter(|part| !part.is_empty())
                .map(|part| {
                    let (high, low) = part.split_once(',').ok_or_else(|| bad(part.to_string()))?;
                    Ok((
                        high.trim().parse().map_err(|_| bad(part.to_string()))?,
                        low.trim().parse().map_err(|_| bad(part.to_string()))?,
                    ))
                })
                .collect::<Result<_>>()?;
        }
        "BGP.originator_id" => {
            pending.originator_id = Some(value.parse().map_err(|_| bad(value.to_string()))?);
        }
        "BGP.cluster_list" => {
            pending.cluster_list = value
                .split_whitespace()
                .map(|word| word.parse().map_err(|_| bad(word.to_string())))
                .collect::<Result<_>>()?;
        }
        _ => {}
    }
    Ok(())
}

/// The protocols of `show protocols all` that say `Neighbor graceful restart active`.
pub fn graceful_restart_active(output: &str) -> HashSet<String> {
    let mut active = HashSet::new();
    let mut protocol = None;
    for line in output.lines() {
        if line.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            protocol = line.split_whitespace().next().map(str::to_string);
        } else if line.trim() == "Neighbor graceful restart active"
            && let Some(name) = &protocol
        {
            active.insert(name.clone());
        }
    }
    active.remove("BIRD");
    active
}

/// The `BGP state:` of `show protocols all NAME`; a protocol that is down (disabled, or not
/// started) has no such line and is Idle.
pub fn session_state(output: &str) -> SessionState {
    output
        .lines()
        .find_map(|line| line.trim().strip_prefix("BGP state:"))
        .map(|state| SessionState::from_word(state.trim()))
        .unwrap_or(SessionState::Idle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "BIRD 2.0.12 ready.
Table master4:
198.51.100.0/24      unreachable [originate_ipv4 06:39:21.321] * (200)
\tType: static univ
203.0.113.0/24       unicast [n1 06:39:23.451] * (100) [AS65002i]
\tvia 198.18.0.2 on eth0
\tType: BGP univ
\tBGP.origin: IGP
\tBGP.as_path: 65002 65010
\tBGP.next_hop: 198.18.0.2
\tBGP.med: 0
\tBGP.local_pref: 100
\tBGP.community: (65000,2) (65000,1)
                     unicast [n0 06:39:24.000 from 198.18.0.9] (100) [AS65002i]
\tvia 198.18.0.3 on eth0
\tType: BGP univ
\tBGP.origin: IGP
\tBGP.as_path: 
\tBGP.next_hop: 198.18.0.3
\tBGP.local_pref: 100
\tBGP.originator_id: 198.18.0.7
\tBGP.cluster_list: 198.18.0.9 198.18.0.8

Table master6:
2001:db8:200::/48    unicast [n2 06:39:23.451] * (100) [AS65002i]
\tvia 2001:db8::2 on eth0
\tType: BGP univ
\tBGP.origin: IGP
\tBGP.as_path: 65002
\tBGP.next_hop: 2001:db8::2 fe80::1
\tBGP.local_pref: 100
";

    #[test]
    fn parses_paths_attributes_and_secondary_paths() {
        let neighbors: HashMap<String, IpAddr> = [
            ("n0".to_string(), "198.18.0.9".parse().unwrap()),
            ("n1".to_string(), "198.18.0.2".parse().unwrap()),
            ("n2".to_string(), "2001:db8::2".parse().unwrap()),
        ]
        .into_iter()
        .collect();
        let routes = routes(SAMPLE, &neighbors).unwrap();
        assert_eq!(routes.len(), 3, "{routes:#?}");
        let first = &routes[0];
        assert_eq!(first.prefix.to_string(), "203.0.113.0/24");
        assert!(first.best);
        assert_eq!(first.as_path, vec![65002, 65010]);
        assert_eq!(first.communities, vec![(65000, 1), (65000, 2)]);
        assert_eq!(first.med, Some(0));
        let second = &routes[1];
        assert_eq!(second.prefix.to_string(), "203.0.113.0/24");
        assert!(!second.best);
        assert!(second.as_path.is_empty());
        assert_eq!(second.originator_id, Some("198.18.0.7".parse().unwrap()));
        assert_eq!(second.cluster_list.len(), 2);
        assert_eq!(second.from, Some("198.18.0.9".parse().unwrap()));
        assert_eq!(routes[2].next_hop, "2001:db8::2".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn restarting_neighbors_are_found_per_protocol() {
        let output = "BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
n0         BGP        ---        start  09:33:23.904  Active        Socket: Connection closed
  BGP state:          Active
    Neighbor address: 198.18.34.1
    Neighbor graceful restart active
    Restart timer:    4.555/-
n1         BGP        ---        up     09:33:22.904  Established
  BGP state:          Established
";
        let active = graceful_restart_active(output);
        assert_eq!(active, HashSet::from(["n0".to_string()]));
    }

    #[test]
    fn protocol_state_is_read_from_bgp_state_line() {
        let output =
            "n1  BGP  ---  up  06:39:22.399  Established\n  BGP state:          Established\n";
        assert_eq!(session_state(output), SessionState::Established);
        assert_eq!(
            session_state("n1 BGP --- start 06:39 Active\n  BGP state:  Active\n"),
            SessionState::Active
        );
        assert_eq!(session_state("n1 BGP --- down 06:39\n"), SessionState::Idle);
    }
}
