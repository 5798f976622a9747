//! Packing advertisements into UPDATEs: prefixes that share attributes and next hop go
//! together, each UPDATE at most 4096 bytes (RFC 4271 §4.1). IPv4 unicast travels in the
//! classic NLRI and withdrawn fields, IPv6 unicast in MP_REACH_NLRI / MP_UNREACH_NLRI
//! (RFC 4760, next hop per RFC 2545).

use foldhash::{HashMap, HashMapExt};
use std::net::IpAddr;
use std::sync::Arc;

use ipnetwork::{IpNetwork, Ipv4Network};

use crate::packet::{
    Afi, CodecContext, Encode, HEADER_LEN, MAX_MESSAGE_LEN, MpReach, MpUnreach, NextHop,
    PathAttributes, Safi, Update,
};

use super::export::Exported;

/// Room for the MP attribute's length field growing to two octets (extended length).
const SLACK: usize = 2;

/// UPDATEs that announce `announce` and withdraw `withdraw`, packed. Withdrawals come first.
pub fn build_updates(
    announce: Vec<(IpNetwork, Exported)>,
    withdraw: Vec<IpNetwork>,
    context: &CodecContext,
) -> Vec<Update> {
    let mut updates = Vec::new();
    let (v4, v6): (Vec<IpNetwork>, Vec<IpNetwork>) =
        withdraw.into_iter().partition(|p| p.is_ipv4());
    let v4: Vec<Ipv4Network> = v4
        .into_iter()
        .filter_map(|p| match p {
            IpNetwork::V4(p) => Some(p),
            IpNetwork::V6(_) => None,
        })
        .collect();
    let base = Update::default().encoded_len(context);
    for chunk in chunks_with_base(&v4, base, |p| prefix_len(p.prefix())) {
        updates.push(Update {
            withdrawn: chunk.to_vec(),
            ..Update::default()
        });
    }
    let unreach = |withdrawn: Vec<IpNetwork>| Update {
        mp_unreach: Some(MpUnreach {
            afi: Afi::Ipv6,
            safi: Safi::Unicast,
            withdrawn,
        }),
        ..Update::default()
    };
    let base = unreach(Vec::new()).encoded_len(context);
    for chunk in chunks_with_base(&v6, base, |p| prefix_len(p.prefix())) {
        updates.push(unreach(chunk.to_vec()));
    }

    // Group announcements by what they share (the same shared attribute set: exports of
    // one path share it), keeping first-seen order.
    let mut groups: HashMap<(usize, IpAddr), usize> = HashMap::new();
    let mut grouped: Vec<(Arc<PathAttributes>, IpAddr, Vec<IpNetwork>)> = Vec::new();
    for (prefix, exported) in announce {
        let key = (
            Arc::as_ptr(&exported.attributes) as usize,
            exported.next_hop,
        );
        let index = *groups.entry(key).or_insert_with(|| {
            grouped.push((exported.attributes, exported.next_hop, Vec::new()));
            grouped.len() - 1
        });
        if let Some(group) = grouped.get_mut(index) {
            group.2.push(prefix);
        }
    }
    // Equal sets behind different pointers (exported separately) still share UPDATEs.
    let mut merged: Vec<(Arc<PathAttributes>, IpAddr, Vec<IpNetwork>)> = Vec::new();
    let mut by_content: HashMap<(Arc<PathAttributes>, IpAddr), usize> = HashMap::new();
    for (attributes, next_hop, mut prefixes) in grouped {
        match by_content.get(&(attributes.clone(), next_hop)) {
            Some(&i) => merged[i].2.append(&mut prefixes),
            None => {
                by_content.insert((attributes.clone(), next_hop), merged.len());
                merged.push((attributes, next_hop, prefixes));
            }
        }
    }
    for (attributes, next_hop, prefixes) in merged {
        updates.extend(announcements(&attributes, next_hop, prefixes, context));
    }
    updates
}

/// The End-of-RIB marker of every family in `families` (RFC 4724 §2).
pub fn end_of_rib(families: &[(Afi, Safi)]) -> Vec<Update> {
    families
        .iter()
        .map(|&(afi, safi)| Update::end_of_rib(afi, safi))
        .collect()
}

fn announcements(
    attributes: &PathAttributes,
    next_hop: IpAddr,
    prefixes: Vec<IpNetwork>,
    context: &CodecContext,
) -> Vec<Update> {
    match next_hop {
        IpAddr::V4(next_hop) => {
            let v4: Vec<Ipv4Network> = prefixes
                .into_iter()
                .filter_map(|p| match p {
                    IpNetwork::V4(p) => Some(p),
                    IpNetwork::V6(_) => None,
                })
                .collect();
            let mut template = Update {
                attributes: attributes.clone(),
                ..Update::default()
            };
            template.attributes.next_hop = Some(next_hop);
            let base = template.encoded_len(context);
            chunks_with_base(&v4, base, |p| prefix_len(p.prefix()))
                .map(|chunk| Update {
                    nlri: chunk.to_vec(),
                    ..template.clone()
                })
                .collect()
        }
        IpAddr::V6(global) => {
            let v6: Vec<IpNetwork> = prefixes.into_iter().filter(|p| p.is_ipv6()).collect();
            let mut template = Update {
                attributes: attributes.clone(),
                mp_reach: Some(MpReach {
                    afi: Afi::Ipv6,
                    safi: Safi::Unicast,
                    next_hop: NextHop::Ipv6 {
                        global,
                        link_local: None,
                    },
                    nlri: Vec::new(),
                }),
                ..Update::default()
            };
            template.attributes.next_hop = None;
            let base = template.encoded_len(context);
            chunks_with_base(&v6, base, |p| prefix_len(p.prefix()))
                .map(|chunk| {
                    let mut update = template.clone();
                    if let Some(reach) = update.mp_reach.as_mut() {
                        reach.nlri = chunk.to_vec();
                    }
                    update
                })
                .collect()
        }
    }
}

/// Bytes of one prefix in NLRI encoding: length octet plus the significant octets.
fn prefix_len(bits: u8) -> usize {
    1 + usize::from(bits).div_ceil(8)
}

/// Split `items` into runs whose sizes, added to an UPDATE body of `base` bytes, fit in one
/// message. Never yields an empty run.
fn chunks_with_base<'a, T>(
    items: &'a [T],
    base: usize,
    size: impl Fn(&T) -> usize + 'a,
) -> impl Iterator<Item = &'a [T]> + 'a {
    let budget = MAX_MESSAGE_LEN.saturating_sub(HEADER_LEN + base + SLACK);
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut used = 0;
        let mut count = 0;
        for item in rest {
            let len = size(item);
            if count > 0 && used + len > budget {
                break;
            }
            used += len;
            count += 1;
        }
        let (chunk, tail) = rest.split_at(count);
        rest = tail;
        Some(chunk)
    })
}
