//! The prefix limit of a peer (RFC 4486 §4): a warning at the threshold, NOTIFICATION
//! Cease / Maximum Number of Prefixes Reached above the limit (data: AFI, SAFI, the limit),
//! and an optional restart later.

use std::net::IpAddr;

use bytes::{BufMut, BytesMut};
use tracing::warn;

use crate::driver::peer::PeerCommand;
use crate::fsm::cease;
use crate::packet::{Afi, Notification, NotificationCode, Safi};

use super::{Core, CoreTimer};

impl Core {
    /// After an UPDATE from the peer: compare its accepted prefixes with its limit.
    pub(super) fn check_max_prefixes(&mut self, address: IpAddr) {
        let Some(peer) = self.peers.get_mut(&address) else {
            return;
        };
        let Some(max) = peer.config.max_prefixes else {
            return;
        };
        if peer.halted {
            return;
        }
        let limit = usize::try_from(max.limit).unwrap_or(usize::MAX);
        let over = [(true, Afi::Ipv4), (false, Afi::Ipv6)]
            .into_iter()
            .find(|(ipv4, _)| peer.adj_rib_in.accepted_in(*ipv4) > limit);
        if let Some((_, afi)) = over {
            warn!(peer = %address, limit = max.limit, ?afi, "prefix limit exceeded: closing");
            let mut data = BytesMut::with_capacity(7);
            data.put_u16(afi.value());
            data.put_u8(Safi::Unicast.value());
            data.put_u32(max.limit);
            let notification = Notification::new(
                NotificationCode::Cease,
                cease::MAXIMUM_PREFIXES_REACHED,
                data.freeze(),
            );
            let _ = peer.commands.send(PeerCommand::Halt(notification));
            peer.halted = true;
            if let Some(after) = max.restart_after {
                self.timers.arm(CoreTimer::MaxPrefixRestart(address), after);
            }
            if let Some(mut peer) = self.peers.remove(&address) {
                let changes = self.forget_routes_of(&mut peer);
                self.peers.insert(address, peer);
                self.propagate(changes);
            }
            return;
        }
        let threshold = limit.saturating_mul(usize::from(max.warning_threshold_percent)) / 100;
        let most = peer
            .adj_rib_in
            .accepted_in(true)
            .max(peer.adj_rib_in.accepted_in(false));
        if most >= threshold && max.warning_threshold_percent > 0 {
            if !peer.max_prefix_warned {
                warn!(peer = %address, prefixes = most, limit = max.limit, "prefix limit nearly reached");
                peer.max_prefix_warned = true;
            }
        } else {
            peer.max_prefix_warned = false;
        }
    }

    /// The restart timer of a peer stopped for too many prefixes ran out.
    pub(super) fn restart_halted(&mut self, address: IpAddr) {
        if let Some(peer) = self.peers.get_mut(&address)
            && peer.halted
        {
            peer.halted = false;
            peer.max_prefix_warned = false;
            let _ = peer.commands.send(PeerCommand::Start);
        }
    }
}
