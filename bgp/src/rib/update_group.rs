//! Update groups: peers that get the same export of every path share one export computation,
//! one packing into UPDATEs and one encoding (the bytes are shared by every member's writer).
//!
//! Two sessions are in one group when their [`ExportContext`]s differ only in what names the
//! peer itself (address, BGP identifier and, for external peers without export filters, AS
//! number) and they use the same [`CodecContext`]. Those per-peer fields only ever *suppress*
//! an advertisement to one peer (RFC 4271 §9.1.3 split horizon, the RFC 4456 §8 ORIGINATOR_ID
//! check, the sender-side AS loop check), so a path whose source, ORIGINATOR_ID and AS path
//! name no member is exported identically to every member. For each change, the members the
//! paths do name are set apart ([`Share::except`]) and given their own export.

use foldhash::{HashMap, HashMapExt};
use std::net::{IpAddr, Ipv4Addr};

use ipnetwork::IpNetwork;

use crate::packet::CodecContext;

use super::export::{ExportCache, ExportContext, Exported};
use super::route::{Path, PeerType};

/// What identifies an update group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupKey {
    /// The members' export context without what names one peer.
    pub context: ExportContext,
    pub codec: CodecContext,
}

impl GroupKey {
    /// The group of a session exported to with `context`, encoded with `codec`.
    pub fn of(context: &ExportContext, codec: CodecContext) -> Self {
        let mut context = context.clone();
        context.peer_address = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        context.peer_router_id = None;
        if context.peer_type == PeerType::External && context.filters.is_empty() {
            // AS 0 is in no AS path (RFC 7607); members are set apart by AS instead.
            context.peer_asn = 0;
        }
        Self { context, codec }
    }
}

/// What names one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub address: IpAddr,
    pub router_id: Option<Ipv4Addr>,
    pub asn: u32,
}

/// The net change of one prefix: the best path before (what was advertised) and now.
pub type NetChange<'a> = (IpNetwork, Option<&'a Path>, Option<&'a Path>);

/// Changes whose group export is the same for every member but those in `except`.
#[derive(Debug, Default)]
pub struct Share<'a> {
    /// Members (indices into the member list) that need their own export of `changes`.
    pub except: Vec<usize>,
    /// The group's advertisements for the others.
    pub announce: Vec<(IpNetwork, Exported)>,
    pub withdraw: Vec<IpNetwork>,
    /// How the others' count of advertised prefixes changes.
    pub delta: isize,
    /// The changes themselves, kept only when `except` is not empty.
    pub changes: Vec<NetChange<'a>>,
}

/// Split `net` by the members it sets apart and export each part once for the group.
pub fn share<'a>(key: &GroupKey, members: &[Member], net: &[NetChange<'a>]) -> Vec<Share<'a>> {
    let index = MemberIndex::new(key, members);
    let mut cache = ExportCache::new(&key.context);
    let mut shares: Vec<Share<'a>> = Vec::new();
    let mut by_except: HashMap<Vec<usize>, usize> = HashMap::new();
    let mut except = Vec::new();
    let mut last: Option<(Vec<usize>, usize)> = None;
    for &(prefix, previous, best) in net {
        except.clear();
        for path in [previous, best].into_iter().flatten() {
            index.named_by(path, &mut except);
        }
        except.sort_unstable();
        except.dedup();
        let at = match &last {
            Some((set, at)) if *set == except => *at,
            _ => {
                let at = match by_except.get(&except) {
                    Some(&at) => at,
                    None => {
                        shares.push(Share {
                            except: except.clone(),
                            ..Share::default()
                        });
                        by_except.insert(except.clone(), shares.len() - 1);
                        shares.len() - 1
                    }
                };
                last = Some((except.clone(), at));
                at
            }
        };
        let Some(share) = shares.get_mut(at) else {
            continue;
        };
        let before = previous.and_then(|path| cache.export(&prefix, path));
        let after = best.and_then(|path| cache.export(&prefix, path));
        share.delta += diff(
            &prefix,
            before,
            after,
            &mut share.announce,
            &mut share.withdraw,
        );
        if !share.except.is_empty() {
            share.changes.push((prefix, previous, best));
        }
    }
    shares
}

/// Add to `announce` / `withdraw` what turns `before` into `after`; returns the change in
/// the number of advertised prefixes.
pub fn diff(
    prefix: &IpNetwork,
    before: Option<Exported>,
    after: Option<Exported>,
    announce: &mut Vec<(IpNetwork, Exported)>,
    withdraw: &mut Vec<IpNetwork>,
) -> isize {
    match (before, after) {
        (before, Some(after)) if before.as_ref() != Some(&after) => {
            announce.push((*prefix, after));
            isize::from(before.is_none())
        }
        (Some(_), None) => {
            withdraw.push(*prefix);
            -1
        }
        _ => 0,
    }
}

/// Members by what a path can name them with.
struct MemberIndex {
    by_address: HashMap<IpAddr, usize>,
    by_router_id: HashMap<Ipv4Addr, Vec<usize>>,
    /// Only when the group does not tell members apart by AS already.
    by_asn: HashMap<u32, Vec<usize>>,
}

impl MemberIndex {
    fn new(key: &GroupKey, members: &[Member]) -> Self {
        let mut index = Self {
            by_address: HashMap::with_capacity(members.len()),
            by_router_id: HashMap::new(),
            by_asn: HashMap::new(),
        };
        let by_asn = key.context.peer_type == PeerType::External && key.context.peer_asn == 0;
        for (i, member) in members.iter().enumerate() {
            index.by_address.insert(member.address, i);
            if let Some(router_id) = member.router_id {
                index.by_router_id.entry(router_id).or_default().push(i);
            }
            if by_asn {
                index.by_asn.entry(member.asn).or_default().push(i);
            }
        }
        index
    }

    /// Add the members `path` names to `out`.
    fn named_by(&self, path: &Path, out: &mut Vec<usize>) {
        if let Some(&i) = path
            .source
            .peer_address()
            .and_then(|address| self.by_address.get(&address))
        {
            out.push(i);
        }
        if let Some(ids) = path
            .attributes
            .originator_id
            .and_then(|id| self.by_router_id.get(&id))
        {
            out.extend_from_slice(ids);
        }
        if !self.by_asn.is_empty()
            && let Some(as_path) = &path.attributes.as_path
        {
            for asn in as_path.asns() {
                if let Some(ids) = self.by_asn.get(&asn) {
                    out.extend_from_slice(ids);
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "tests/update_group.rs"]
mod tests;
