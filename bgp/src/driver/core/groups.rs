//! Advertising best-path changes through update groups ([`crate::rib::update_group`]):
//! established peers whose whole table has gone out are grouped by their [`GroupKey`]; a
//! group exports, packs and encodes each batch of changes once and hands every member the
//! same bytes. Peers alone in their group, and peers still receiving their initial table,
//! are served one by one.

use foldhash::{HashMap, HashMapExt};
use std::net::IpAddr;

use bytes::{Bytes, BytesMut};
use ipnetwork::IpNetwork;
use tracing::warn;

use crate::driver::peer::PeerCommand;
use crate::packet::{Message, Update};
use crate::rib::{ExportCache, Exported, GroupKey, Member, NetChange, build_updates, diff, share};

use super::{Core, Peer, TableState, advertise::send};

impl Core {
    /// The number of the update group `key` (a new one if no session had it yet).
    pub(super) fn group_of(&mut self, key: GroupKey) -> usize {
        match self.groups.iter().position(|known| *known == key) {
            Some(i) => i,
            None => {
                self.groups.push(key);
                self.groups.len() - 1
            }
        }
    }

    /// Advertise the net changes to every established peer.
    pub(super) fn advertise_net(&mut self, net: &[NetChange<'_>]) {
        let mut alone: Vec<IpAddr> = Vec::new();
        let mut groups: HashMap<usize, Vec<IpAddr>> = HashMap::new();
        for (address, peer) in &self.peers {
            let Some(established) = &peer.established else {
                continue;
            };
            match established.table {
                TableState::NotSent => {}
                TableState::Walking { .. } => alone.push(*address),
                TableState::Sent => groups.entry(established.group).or_default().push(*address),
            }
        }
        for (group, mut members) in groups {
            if members.len() == 1 {
                alone.append(&mut members);
            } else {
                members.sort_unstable();
                self.advertise_group(group, &members, net);
            }
        }
        for address in alone {
            if let Some(peer) = self.peers.get_mut(&address) {
                advertise_alone(peer, net);
            }
        }
    }

    fn advertise_group(&mut self, group: usize, addresses: &[IpAddr], net: &[NetChange<'_>]) {
        let Some(key) = self.groups.get(group) else {
            return;
        };
        let members: Vec<Member> = addresses
            .iter()
            .filter_map(|address| {
                let peer = self.peers.get(address)?;
                Some(Member {
                    address: *address,
                    router_id: peer.router_id,
                    asn: peer.config.asn,
                })
            })
            .collect();
        if members.len() != addresses.len() {
            return;
        }
        /// A member's own advertisements, and how its count differs from the group's.
        type Own = (Vec<(IpNetwork, Exported)>, Vec<IpNetwork>, isize);
        let mut own: HashMap<usize, Own> = HashMap::new();
        // Every share's UPDATEs back to back in one buffer; a member gets the buffer less
        // the shares it is set apart from (a few slices, whatever the number of shares).
        let mut buffer = BytesMut::new();
        let mut skip: HashMap<usize, Vec<(usize, usize, u64)>> = HashMap::new();
        let mut total = 0;
        let mut delta_all = 0;
        for share in share(key, &members, net) {
            let start = buffer.len();
            let mut count = 0;
            if !share.announce.is_empty() || !share.withdraw.is_empty() {
                let updates = build_updates(share.announce, share.withdraw, &key.codec);
                count = encode(updates, key, &mut buffer);
            }
            total += count;
            delta_all += share.delta;
            for &i in &share.except {
                skip.entry(i)
                    .or_default()
                    .push((start, buffer.len(), count));
                let Some(peer) = addresses.get(i).and_then(|a| self.peers.get(a)) else {
                    continue;
                };
                let Some(established) = &peer.established else {
                    continue;
                };
                let (announce, withdraw, delta) = own.entry(i).or_default();
                let mut cache = ExportCache::new(&established.export);
                // Undo the group's count for this share; the member's own export counts.
                *delta -= share.delta;
                for (prefix, previous, best) in &share.changes {
                    let before = previous.and_then(|path| cache.export(prefix, path));
                    let after = best.and_then(|path| cache.export(prefix, path));
                    *delta += diff(prefix, before, after, announce, withdraw);
                }
            }
        }
        let all = buffer.freeze();
        for (i, address) in addresses.iter().enumerate() {
            let Some(peer) = self.peers.get_mut(address) else {
                continue;
            };
            let Some(established) = &peer.established else {
                continue;
            };
            let own_delta = own.get(&i).map_or(0, |own| own.2);
            peer.advertised = peer.advertised.saturating_add_signed(delta_all + own_delta);
            let (bytes, updates) = match skip.get(&i) {
                None => (vec![all.clone()], total),
                Some(ranges) => without(&all, ranges, total),
            };
            if updates > 0 {
                let _ = peer.commands.send(PeerCommand::SendEncoded {
                    epoch: established.epoch,
                    bytes,
                    updates,
                });
            }
        }
        for (i, (announce, withdraw, _)) in own {
            if let Some(peer) = addresses.get(i).and_then(|a| self.peers.get(a)) {
                send(peer, announce, withdraw);
            }
        }
    }
}

/// The changes for one peer with its own export (the prefixes its table walk has reached).
fn advertise_alone(peer: &mut Peer, net: &[NetChange<'_>]) {
    let Some(established) = &peer.established else {
        return;
    };
    let mut cache = ExportCache::new(&established.export);
    let mut announce: Vec<(IpNetwork, Exported)> = Vec::new();
    let mut withdraw = Vec::new();
    let mut delta = 0;
    for (prefix, previous, best) in net {
        if !established.table.covers(prefix) {
            continue;
        }
        let before = previous.and_then(|path| cache.export(prefix, path));
        let after = best.and_then(|path| cache.export(prefix, path));
        delta += diff(prefix, before, after, &mut announce, &mut withdraw);
    }
    peer.advertised = peer.advertised.saturating_add_signed(delta);
    send(peer, announce, withdraw);
}

/// Encode `updates` at the end of `buffer`; returns how many there are.
fn encode(updates: Vec<Update>, key: &GroupKey, buffer: &mut BytesMut) -> u64 {
    let mut count = 0;
    for update in updates {
        match Message::Update(update).encode(&key.codec, buffer) {
            Ok(_) => count += 1,
            Err(error) => warn!(%error, "cannot encode UPDATE"),
        }
    }
    count
}

/// `all` without the byte ranges `skip` (in order, not overlapping), and the number of
/// UPDATEs left of `total`.
fn without(all: &Bytes, skip: &[(usize, usize, u64)], total: u64) -> (Vec<Bytes>, u64) {
    let mut parts = Vec::with_capacity(skip.len() + 1);
    let mut at = 0;
    let mut updates = total;
    for &(start, end, count) in skip {
        if start > at {
            parts.push(all.slice(at..start));
        }
        at = end;
        updates = updates.saturating_sub(count);
    }
    if at < all.len() {
        parts.push(all.slice(at..));
    }
    (parts, updates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_gets_the_buffer_less_the_shares_it_is_set_apart_from() {
        let all = Bytes::from_static(b"aaabbbbcc");
        let (parts, updates) = without(&all, &[(3, 7, 2)], 5);
        assert_eq!(
            parts,
            vec![Bytes::from_static(b"aaa"), Bytes::from_static(b"cc")]
        );
        assert_eq!(updates, 3);
        let (parts, updates) = without(&all, &[(0, 3, 1), (7, 9, 1)], 5);
        assert_eq!(parts, vec![Bytes::from_static(b"bbbb")]);
        assert_eq!(updates, 3);
        let (parts, _) = without(&all, &[], 5);
        assert_eq!(parts, vec![all]);
    }
}
