//! What a peer router reports, normalized across BIRD, FRR, GoBGP and ExaBGP.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use ipnetwork::IpNetwork;

use super::config::Community;

/// One path a peer router received from one of its BGP neighbors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRoute {
    /// The prefix.
    pub prefix: IpNetwork,
    /// BGP next hop as received (RFC 4271 §5.1.3; for IPv6 the global address).
    pub next_hop: IpAddr,
    /// AS_PATH flattened to its AS numbers in order (sets are flattened too).
    pub as_path: Vec<u32>,
    /// LOCAL_PREF, when present.
    pub local_pref: Option<u32>,
    /// MULTI_EXIT_DISC, when present.
    pub med: Option<u32>,
    /// Standard communities, sorted.
    pub communities: Vec<Community>,
    /// ORIGINATOR_ID (RFC 4456), when present.
    pub originator_id: Option<Ipv4Addr>,
    /// CLUSTER_LIST (RFC 4456), in order.
    pub cluster_list: Vec<Ipv4Addr>,
    /// Kept as stale by graceful restart (RFC 4724 §4.2).
    pub stale: bool,
    /// Chosen as best by the peer (ExaBGP has no selection: always true).
    pub best: bool,
    /// The neighbor it was learned from, when the router reports it.
    pub from: Option<IpAddr>,
}

/// A session's state, with RFC 4271 §8.2.2 names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionState {
    /// Idle (also: administratively down, or unknown to the router yet).
    Idle,
    /// Connect.
    Connect,
    /// Active.
    Active,
    /// OpenSent.
    OpenSent,
    /// OpenConfirm.
    OpenConfirm,
    /// Established.
    Established,
}

impl SessionState {
    /// Maps a router's state word (any case, e.g. `ESTABLISHED`, `Established`, `established`,
    /// `opensent`, `BGP_FSM_ESTABLISHED`) to the RFC state; unknown words become `Idle`.
    pub fn from_word(word: &str) -> SessionState {
        let word = word.to_ascii_lowercase().replace(['_', '-', ' '], "");
        let word = word
            .trim_start_matches("bgpfsm")
            .trim_start_matches("sessionstate");
        match word {
            "connect" => SessionState::Connect,
            "active" => SessionState::Active,
            "opensent" => SessionState::OpenSent,
            "openconfirm" => SessionState::OpenConfirm,
            "established" => SessionState::Established,
            _ => SessionState::Idle,
        }
    }

    /// Whether the state is Established.
    pub fn is_established(&self) -> bool {
        *self == SessionState::Established
    }
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            SessionState::Idle => "Idle",
            SessionState::Connect => "Connect",
            SessionState::Active => "Active",
            SessionState::OpenSent => "OpenSent",
            SessionState::OpenConfirm => "OpenConfirm",
            SessionState::Established => "Established",
        };
        f.write_str(name)
    }
}

/// Parses `65000:100` into a community.
pub fn parse_community(text: &str) -> Option<Community> {
    let (high, low) = text.trim().split_once(':')?;
    Some((high.trim().parse().ok()?, low.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_words_of_every_router_map_to_rfc_names() {
        assert_eq!(
            SessionState::from_word("Established"),
            SessionState::Established
        );
        assert_eq!(
            SessionState::from_word("BGP_FSM_ESTABLISHED"),
            SessionState::Established
        );
        assert_eq!(SessionState::from_word("opensent"), SessionState::OpenSent);
        assert_eq!(
            SessionState::from_word("OpenConfirm"),
            SessionState::OpenConfirm
        );
        assert_eq!(SessionState::from_word("ACTIVE"), SessionState::Active);
        assert_eq!(SessionState::from_word("Clearing"), SessionState::Idle);
    }

    #[test]
    fn communities_parse() {
        assert_eq!(parse_community("65000:100"), Some((65000, 100)));
        assert_eq!(parse_community("65000"), None);
        assert_eq!(parse_community("70000:1"), None);
    }
}
