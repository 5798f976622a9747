//! Graceful restart (RFC 4724) in both roles.
//!
//! **Helper.** When the session of a peer that negotiated graceful restart drops without a
//! NOTIFICATION (TCP closed or reset), or because its hold timer expired, its routes in the
//! families of its capability stay in the Loc-RIB, marked stale and still usable; other
//! families are withdrawn at once. If the peer is not back within its restart time, the stale
//! routes go. When it is back, families whose F bit it no longer sets are swept at once; the
//! rest are swept family by family as its End-of-RIBs arrive (routes it announced again are
//! fresh by then), at the latest after [`STALE_ROUTES_TIME`]. Any other session end (a
//! NOTIFICATION either way, a removed peer) withdraws everything as usual.
//!
//! **Restarting speaker.** With [`crate::SpeakerConfig::restarting`], our OPENs carry the R
//! and F bits, and route selection results are held back — no route changes published, no
//! UPDATEs sent — until every peer configured with graceful restart has sent End-of-RIB for
//! all its families (or came up without the capability, or was removed), or until the
//! selection deferral time runs out. Then the whole Loc-RIB is published and every session
//! gets its table and End-of-RIB.

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::Duration;

use tracing::{debug, info};

use crate::fsm::DownReason;
use crate::packet::{Afi, NotificationCode, Safi};
use crate::rib::BestChange;

use super::{Core, CoreTimer};

/// How long a peer that came back may take to send its End-of-RIBs before its remaining
/// stale routes go (FRR's `stalepath-time` default).
pub const STALE_ROUTES_TIME: Duration = Duration::from_secs(360);

/// The peers whose End-of-RIB our own restart still waits for.
#[derive(Debug, Default)]
pub struct Deferral {
    waiting: HashSet<IpAddr>,
    /// Some peer was waited for (until then an empty set does not end the wait: the agent
    /// adds its peers after starting the speaker).
    had_peers: bool,
}

impl Deferral {
    pub fn wait_for(&mut self, address: IpAddr) {
        self.waiting.insert(address);
        self.had_peers = true;
    }
}

fn family_of(prefix: &ipnetwork::IpNetwork) -> (Afi, Safi) {
    if prefix.is_ipv4() {
        (Afi::Ipv4, Safi::Unicast)
    } else {
        (Afi::Ipv6, Safi::Unicast)
    }
}

impl Core {
    /// An established session ended for `reason`.
    pub(super) fn session_down(&mut self, address: IpAddr, reason: &DownReason) {
        let Some(mut peer) = self.peers.remove(&address) else {
            return;
        };
        let helper = matches!(reason, DownReason::ConnectionClosed)
            || matches!(reason, DownReason::NotificationSent(n)
                if n.code == NotificationCode::HoldTimerExpired);
        let capability = peer.established.as_ref().and_then(|e| {
            e.negotiated
                .graceful_restart
                .clone()
                .map(|gr| (gr, e.negotiated.families.clone()))
        });
        let changes = match capability {
            Some((capability, families)) if helper => {
                let keep: Vec<(Afi, Safi)> = capability
                    .families
                    .iter()
                    .map(|f| (f.afi, f.safi))
                    .filter(|f| families.contains(f))
                    .collect();
                peer.established = None;
                peer.advertised = 0;
                let source = peer.source(std::net::Ipv4Addr::UNSPECIFIED);
                let mut changes = Vec::new();
                for prefix in peer.adj_rib_in.prefixes(&self.rib, &source) {
                    let adj_rib_in = &mut peer.adj_rib_in;
                    changes.extend(if keep.contains(&family_of(&prefix)) {
                        adj_rib_in.set_stale(&mut self.rib, &source, prefix, true)
                    } else {
                        adj_rib_in.withdraw(&mut self.rib, &source, prefix)
                    });
                }
                for family in keep {
                    if !peer.stale_families.contains(&family) {
                        peer.stale_families.push(family);
                    }
                }
                let restart_time = Duration::from_secs(u64::from(capability.restart_time));
                info!(peer = %address, ?restart_time, "peer restarting: keeping its routes as stale");
                self.timers.stop(CoreTimer::StaleRoutes(address));
                self.timers
                    .arm(CoreTimer::PeerRestart(address), restart_time);
                changes
            }
            _ => {
                self.timers.stop(CoreTimer::PeerRestart(address));
                self.timers.stop(CoreTimer::StaleRoutes(address));
                self.forget_routes_of(&mut peer)
            }
        };
        self.peers.insert(address, peer);
        self.propagate(changes);
    }

    /// A peer with stale routes is established again (called from `session_up`).
    pub(super) fn peer_came_back(&mut self, address: IpAddr) {
        let Some(peer) = self.peers.get_mut(&address) else {
            return;
        };
        let Some(established) = &peer.established else {
            return;
        };
        let capability = established.negotiated.graceful_restart.clone();
        let peer_without_capability = capability.is_none();
        if peer_without_capability && let Some(deferral) = &mut self.deferral {
            deferral.waiting.remove(&address);
        }
        if peer.stale_families.is_empty() {
            self.maybe_end_deferral();
            return;
        }
        self.timers.stop(CoreTimer::PeerRestart(address));
        // RFC 4724 §4.2: families the peer no longer preserves are swept now.
        let (keep, sweep): (Vec<_>, Vec<_>) = peer.stale_families.iter().partition(|&&family| {
            capability.as_ref().is_some_and(|gr| {
                gr.families
                    .iter()
                    .any(|f| (f.afi, f.safi) == family && f.forwarding_preserved)
            })
        });
        peer.stale_families = keep;
        let mut changes = Vec::new();
        for family in sweep {
            changes.extend(self.sweep_stale(address, family));
        }
        if self
            .peers
            .get(&address)
            .is_some_and(|peer| !peer.stale_families.is_empty())
        {
            self.timers
                .arm(CoreTimer::StaleRoutes(address), STALE_ROUTES_TIME);
        }
        self.propagate(changes);
        self.maybe_end_deferral();
    }

    /// End-of-RIB from a peer (RFC 4724 §2): sweep what stayed stale in that family, and
    /// count it towards the end of our own selection deferral.
    pub(super) fn end_of_rib_received(&mut self, address: IpAddr, family: (Afi, Safi)) {
        let Some(peer) = self.peers.get_mut(&address) else {
            return;
        };
        let Some(established) = &mut peer.established else {
            return;
        };
        established.end_of_rib.insert(family);
        let complete = established
            .negotiated
            .families
            .iter()
            .all(|f| established.end_of_rib.contains(f));
        let mut changes = Vec::new();
        if let Some(at) = peer.stale_families.iter().position(|f| *f == family) {
            peer.stale_families.remove(at);
            if peer.stale_families.is_empty() {
                self.timers.stop(CoreTimer::StaleRoutes(address));
            }
            changes = self.sweep_stale(address, family);
        }
        debug!(peer = %address, ?family, best_changes = changes.len(), "End-of-RIB received");
        self.propagate(changes);
        if complete {
            self.peer_finished_restart(address);
        }
    }

    /// The peer's restart (or stale) time is over: its stale routes go.
    pub(super) fn restart_time_over(&mut self, address: IpAddr) {
        let Some(peer) = self.peers.get_mut(&address) else {
            return;
        };
        let families = std::mem::take(&mut peer.stale_families);
        let mut changes = Vec::new();
        for family in families {
            changes.extend(self.sweep_stale(address, family));
        }
        info!(peer = %address, removed = changes.len(), "stale routes removed");
        self.propagate(changes);
    }

    /// Remove the peer's routes of `family` that are still stale.
    fn sweep_stale(&mut self, address: IpAddr, family: (Afi, Safi)) -> Vec<BestChange> {
        let Some(peer) = self.peers.get_mut(&address) else {
            return Vec::new();
        };
        let source = peer.source(std::net::Ipv4Addr::UNSPECIFIED);
        if peer.adj_rib_in.stale() == 0 {
            return Vec::new();
        }
        let mut changes = Vec::new();
        for prefix in peer.adj_rib_in.prefixes(&self.rib, &source) {
            let stale = peer
                .adj_rib_in
                .get(&self.rib, &source, &prefix)
                .is_some_and(|received| received.stale);
            if stale && family_of(&prefix) == family {
                changes.extend(peer.adj_rib_in.withdraw(&mut self.rib, &source, prefix));
            }
        }
        changes
    }

    /// The peer no longer holds up our selection deferral.
    pub(super) fn peer_finished_restart(&mut self, address: IpAddr) {
        if let Some(deferral) = &mut self.deferral {
            deferral.waiting.remove(&address);
        }
        self.maybe_end_deferral();
    }

    fn maybe_end_deferral(&mut self) {
        if self
            .deferral
            .as_ref()
            .is_some_and(|d| d.had_peers && d.waiting.is_empty())
        {
            self.end_deferral();
        }
    }

    /// Our restart is over: select and advertise.
    pub(super) fn end_deferral(&mut self) {
        if self.deferral.take().is_none() {
            return;
        }
        self.timers.stop(CoreTimer::SelectionDeferral);
        info!("selection deferral over: advertising");
        self.advertise_everything();
    }
}
