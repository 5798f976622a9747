//! Local origination, and forgetting what a peer sent when its session ends.

use ipnetwork::IpNetwork;

use crate::packet::{Origin, PathAttributes};
use crate::rib::{BestChange, Path, RouteSource};

use super::{Core, Peer};

impl Core {
    pub(super) fn originate(&mut self, prefix: IpNetwork, attributes: PathAttributes) {
        let mut attributes = attributes;
        attributes.origin.get_or_insert(Origin::Igp);
        attributes.next_hop = None;
        let path = Path::new(RouteSource::Local, None, self.interner.intern(attributes));
        let changes = self.rib.insert(normalize(prefix), path);
        self.propagate(changes.into_iter().collect());
    }

    pub(super) fn withdraw(&mut self, prefix: IpNetwork) {
        let changes = self.rib.remove(normalize(prefix), &RouteSource::Local);
        self.propagate(changes.into_iter().collect());
    }

    /// The peer's session ended (or the peer is going away): forget the session and withdraw
    /// everything learned from it. Returns the best-path changes.
    pub(super) fn forget_routes_of(&mut self, peer: &mut Peer) -> Vec<BestChange> {
        peer.established = None;
        peer.advertised = 0;
        peer.stale_families.clear();
        let source = peer.source(std::net::Ipv4Addr::UNSPECIFIED);
        peer.adj_rib_in.clear(&mut self.rib, &source)
    }
}

/// The prefix with its host bits cleared (198.51.100.7/24 is 198.51.100.0/24).
fn normalize(prefix: IpNetwork) -> IpNetwork {
    IpNetwork::new(prefix.network(), prefix.prefix()).unwrap_or(prefix)
}
