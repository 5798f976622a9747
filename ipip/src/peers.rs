//! Which remote node an inner destination is tunnelled to: a longest-prefix-match table of
//! `inner prefix → remote node address`, the userspace tunnel's stand-in for the kernel's
//! `rt_nexthop()` on routes `via NODE dev tunl0 onlink`.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use ipnetwork::Ipv4Network;

/// One destination block behind a remote node (typically that node's pod CIDR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    /// Inner destinations routed to this node.
    pub prefix: Ipv4Network,
    /// The node's underlay address: the outer destination.
    pub remote: Ipv4Addr,
}

impl Peer {
    /// A peer entry.
    pub fn new(prefix: Ipv4Network, remote: Ipv4Addr) -> Peer {
        Peer { prefix, remote }
    }
}

/// Longest-prefix-match table of peers, plus the set of known remote addresses (decapsulation
/// accepts packets only from those).
#[derive(Debug, Clone, Default)]
pub struct PeerTable {
    /// Sorted by prefix length, longest first.
    entries: Vec<Peer>,
    remotes: HashSet<Ipv4Addr>,
}

impl PeerTable {
    /// Builds a table; for a prefix given twice the last entry wins.
    pub fn new(peers: impl IntoIterator<Item = Peer>) -> PeerTable {
        let mut entries: Vec<Peer> = Vec::new();
        for peer in peers {
            let prefix = normalize(peer.prefix);
            entries.retain(|entry| entry.prefix != prefix);
            entries.push(Peer::new(prefix, peer.remote));
        }
        entries.sort_by(|a, b| {
            b.prefix
                .prefix()
                .cmp(&a.prefix.prefix())
                .then(a.prefix.network().cmp(&b.prefix.network()))
        });
        let remotes = entries.iter().map(|entry| entry.remote).collect();
        PeerTable { entries, remotes }
    }

    /// Also accepts decapsulated packets from `sources`: every node of the cluster may
    /// tunnel to us, including nodes we reach without encapsulation (CrossSubnet is decided
    /// by each sender on its own), as the kernel's `tunl0` accepts any sender.
    pub fn with_known_remotes(mut self, sources: impl IntoIterator<Item = Ipv4Addr>) -> PeerTable {
        self.remotes.extend(sources);
        self
    }

    /// The remote node for an inner destination (longest matching prefix).
    pub fn lookup(&self, destination: Ipv4Addr) -> Option<Ipv4Addr> {
        self.entries
            .iter()
            .find(|entry| entry.prefix.contains(destination))
            .map(|entry| entry.remote)
    }

    /// Whether `address` is one of the remote nodes.
    pub fn is_known_remote(&self, address: Ipv4Addr) -> bool {
        self.remotes.contains(&address)
    }

    /// The entries, longest prefix first.
    pub fn entries(&self) -> &[Peer] {
        &self.entries
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn normalize(prefix: Ipv4Network) -> Ipv4Network {
    Ipv4Network::new(prefix.network(), prefix.prefix()).unwrap_or(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(prefix: &str, remote: [u8; 4]) -> Peer {
        Peer::new(prefix.parse().expect("prefix"), Ipv4Addr::from(remote))
    }

    #[test]
    fn longest_prefix_wins() {
        let table = PeerTable::new([
            peer("198.19.0.0/17", [198, 18, 0, 9]),
            peer("198.19.2.0/24", [198, 18, 0, 2]),
            peer("198.19.2.128/25", [198, 18, 0, 3]),
        ]);
        assert_eq!(
            table.lookup(Ipv4Addr::new(198, 19, 2, 1)),
            Some(Ipv4Addr::new(198, 18, 0, 2))
        );
        assert_eq!(
            table.lookup(Ipv4Addr::new(198, 19, 2, 200)),
            Some(Ipv4Addr::new(198, 18, 0, 3))
        );
        assert_eq!(
            table.lookup(Ipv4Addr::new(198, 19, 7, 1)),
            Some(Ipv4Addr::new(198, 18, 0, 9))
        );
        assert_eq!(table.lookup(Ipv4Addr::new(192, 0, 2, 1)), None);
    }

    #[test]
    fn host_bits_are_ignored_and_last_duplicate_wins() {
        let table = PeerTable::new([
            peer("198.19.2.7/24", [198, 18, 0, 2]),
            peer("198.19.2.0/24", [198, 18, 0, 4]),
        ]);
        assert_eq!(table.len(), 1);
        assert_eq!(
            table.lookup(Ipv4Addr::new(198, 19, 2, 1)),
            Some(Ipv4Addr::new(198, 18, 0, 4))
        );
        assert!(table.is_known_remote(Ipv4Addr::new(198, 18, 0, 4)));
        assert!(!table.is_known_remote(Ipv4Addr::new(198, 18, 0, 2)));
    }

    #[test]
    fn known_remotes_are_accepted_without_a_route_to_them() {
        let table = PeerTable::new([peer("198.19.2.0/24", [198, 18, 1, 12])])
            .with_known_remotes([Ipv4Addr::new(198, 18, 0, 21)]);
        assert!(table.is_known_remote(Ipv4Addr::new(198, 18, 0, 21)));
        assert!(table.is_known_remote(Ipv4Addr::new(198, 18, 1, 12)));
        assert!(!table.is_known_remote(Ipv4Addr::new(198, 18, 0, 99)));
        assert_eq!(table.lookup(Ipv4Addr::new(198, 19, 9, 1)), None);
    }
}
