//! The injector's table: one peer's IPv4 routes from a TABLE_DUMP_V2 RIB file (bzip2), with
//! attributes rewritten for the injector's session and packed into pre-encoded UPDATEs.
//!
//! Packing follows what a router does: prefixes that share an attribute set go together, each
//! UPDATE at most 4096 bytes (RFC 4271 §4.1), End-of-RIB last (RFC 4724 §2). The stream is cut
//! into chunks of whole messages so the sender can slip KEEPALIVEs between chunks.

use std::collections::HashMap;
use std::io::BufReader;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use anyhow::{Context, bail};
use bgp::mrt::{MrtReader, MrtRecord};
use bgp::packet::{AsPath, CodecContext, MAX_MESSAGE_LEN, Message, PathAttributes, Update};
use bytes::{Bytes, BytesMut};
use ipnetwork::{IpNetwork, Ipv4Network};

/// Target size of one chunk of the pre-encoded stream.
const CHUNK_BYTES: usize = 256 * 1024;

/// How the injector presents the routes.
#[derive(Debug, Clone)]
pub struct Rewrite {
    /// NEXT_HOP of every route (the injector's address).
    pub next_hop: Ipv4Addr,
    /// AS prepended to AS_PATH (eBGP: the injector's AS); `None` keeps it (iBGP).
    pub prepend: Option<u32>,
    /// LOCAL_PREF to set (iBGP); `None` removes it.
    pub local_pref: Option<u32>,
    /// Routes whose AS_PATH holds one of these are left out (they would be dropped as loops).
    pub avoid_asns: Vec<u32>,
}

/// One peer's routes, grouped by (rewritten) attribute set.
#[derive(Debug)]
pub struct Routes {
    /// The MRT peer the routes came from.
    pub peer: IpAddr,
    /// The peer's AS.
    pub peer_as: u32,
    /// Attribute sets and their prefixes, in first-seen order.
    pub groups: Vec<(PathAttributes, Vec<Ipv4Network>)>,
    /// Routes left out (AS_PATH loops with our ASNs).
    pub skipped: usize,
}

/// The encoded stream.
#[derive(Debug)]
pub struct Encoded {
    /// Whole messages, End-of-RIB in the last chunk.
    pub chunks: Vec<Bytes>,
    /// Distinct prefixes announced.
    pub prefixes: usize,
    /// UPDATE messages (without End-of-RIB).
    pub messages: usize,
    /// Bytes on the wire.
    pub bytes: usize,
    /// Prefixes left out because their attributes alone exceed a message.
    pub oversized: usize,
}

fn reader(path: &Path) -> anyhow::Result<MrtReader<impl std::io::Read>> {
    let file = std::fs::File::open(path).with_context(|| format!("open {}", path.display()))?;
    Ok(MrtReader::new(BufReader::with_capacity(
        1 << 20,
        bzip2::read::MultiBzDecoder::new(BufReader::new(file)),
    )))
}

/// The peer with the most IPv4 routes in the file (one extra pass over it).
pub fn fullest_peer(path: &Path) -> anyhow::Result<IpAddr> {
    let mut reader = reader(path)?;
    let mut counts: HashMap<IpAddr, usize> = HashMap::new();
    while let Some(record) = reader.next_record()? {
        if let MrtRecord::Rib(rib) = record
            && rib.prefix.is_ipv4()
        {
            for entry in &rib.entries {
                *counts.entry(entry.peer.address).or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .max_by_key(|(_, count)| *count)
        .map(|(peer, _)| peer)
        .context("no IPv4 RIB entries in the file")
}

/// Reads `peer`'s IPv4 routes and rewrites their attributes.
pub fn load(path: &Path, peer: IpAddr, rewrite: &Rewrite) -> anyhow::Result<Routes> {
    let mut reader = reader(path)?;
    let mut index: HashMap<PathAttributes, usize> = HashMap::new();
    let mut groups: Vec<(PathAttributes, Vec<Ipv4Network>)> = Vec::new();
    let mut skipped = 0;
    let mut peer_as = 0;
    while let Some(record) = reader.next_record()? {
        let MrtRecord::Rib(rib) = record else {
            continue;
        };
        let IpNetwork::V4(prefix) = rib.prefix else {
            continue;
        };
        let Some(entry) = rib.entries.iter().find(|e| e.peer.address == peer) else {
            continue;
        };
        peer_as = entry.peer.asn;
        let loops = entry
            .attributes
            .as_path
            .as_ref()
            .is_some_and(|path| rewrite.avoid_asns.iter().any(|asn| path.contains(*asn)));
        if loops || !entry.errors.is_empty() {
            skipped += 1;
            continue;
        }
        let attributes = rewritten(&entry.attributes, rewrite);
        let slot = match index.get(&attributes) {
            Some(slot) => *slot,
            None => {
                index.insert(attributes.clone(), groups.len());
                groups.push((attributes, Vec::new()));
                groups.len() - 1
            }
        };
        if let Some((_, prefixes)) = groups.get_mut(slot) {
            prefixes.push(prefix);
        }
    }
    if groups.is_empty() {
        bail!("no IPv4 routes of peer {peer} in {}", path.display());
    }
    Ok(Routes {
        peer,
        peer_as,
        groups,
        skipped,
    })
}

fn rewritten(original: &PathAttributes, rewrite: &Rewrite) -> PathAttributes {
    let mut attributes = original.for_readvertisement();
    attributes.next_hop = Some(rewrite.next_hop);
    attributes.local_pref = rewrite.local_pref;
    attributes.originator_id = None;
    attributes.cluster_list.clear();
    if let Some(asn) = rewrite.prepend {
        attributes.as_path = Some(match &attributes.as_path {
            Some(path) => path.prepend(asn),
            None => AsPath::from_sequence(vec![asn]),
        });
    }
    attributes
}

/// Packs `groups` into UPDATEs of at most 4096 bytes, then End-of-RIB.
pub fn encode(groups: &[(PathAttributes, Vec<Ipv4Network>)]) -> anyhow::Result<Encoded> {
    let context = CodecContext::default();
    let mut encoded = Encoded {
        chunks: Vec::new(),
        prefixes: 0,
        messages: 0,
        bytes: 0,
        oversized: 0,
    };
    let mut current = BytesMut::with_capacity(CHUNK_BYTES + MAX_MESSAGE_LEN);
    let mut push = |message: Message, encoded: &mut Encoded| -> anyhow::Result<()> {
        encoded.bytes += message.encode(&context, &mut current)?;
        if current.len() >= CHUNK_BYTES {
            encoded.chunks.push(current.split().freeze());
        }
        Ok(())
    };
    for (attributes, prefixes) in groups {
        let base = Message::Update(Update {
            attributes: attributes.clone(),
            ..Update::default()
        })
        .encoded_len(&context);
        if base >= MAX_MESSAGE_LEN {
            encoded.oversized += prefixes.len();
            continue;
        }
        let room = MAX_MESSAGE_LEN - base;
        let mut batch: Vec<Ipv4Network> = Vec::new();
        let mut used = 0;
        for prefix in prefixes {
            let size = 1 + usize::from(prefix.prefix()).div_ceil(8);
            if used + size > room {
                encoded.prefixes += batch.len();
                encoded.messages += 1;
                push(update(attributes, std::mem::take(&mut batch)), &mut encoded)?;
                used = 0;
            }
            batch.push(*prefix);
            used += size;
        }
        if !batch.is_empty() {
            encoded.prefixes += batch.len();
            encoded.messages += 1;
            push(update(attributes, batch), &mut encoded)?;
        }
    }
    push(Message::Update(Update::default()), &mut encoded)?;
    if !current.is_empty() {
        encoded.chunks.push(current.freeze());
    }
    Ok(encoded)
}

fn update(attributes: &PathAttributes, nlri: Vec<Ipv4Network>) -> Message {
    Message::Update(Update {
        attributes: attributes.clone(),
        nlri,
        ..Update::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{PrefixSet, apply_frame, drain_frames};

    #[test]
    fn packs_groups_into_full_messages_and_ends_with_end_of_rib() {
        let attributes = PathAttributes {
            next_hop: Some(Ipv4Addr::new(198, 18, 0, 2)),
            as_path: Some(AsPath::from_sequence(vec![65001, 30844])),
            ..PathAttributes::default()
        };
        let prefixes: Vec<Ipv4Network> = (0..3000u32)
            .filter_map(|i| Ipv4Network::new(Ipv4Addr::from(0x0A00_0000 + (i << 8)), 24).ok())
            .collect();
        let encoded = encode(&[(attributes, prefixes)]).expect("encodes");
        assert_eq!(encoded.prefixes, 3000);
        assert!(
            encoded.messages >= 3,
            "3000 × 4 bytes needs several UPDATEs"
        );
        let mut stream = BytesMut::new();
        for chunk in &encoded.chunks {
            stream.extend_from_slice(chunk);
        }
        assert_eq!(stream.len(), encoded.bytes);
        let mut seen = PrefixSet::default();
        let mut frames = 0;
        drain_frames(&mut stream, |frame| {
            frames += 1;
            assert!(frame.len() <= MAX_MESSAGE_LEN);
            apply_frame(frame, &mut seen, None)
        })
        .expect("well-formed");
        assert_eq!(seen.len(), 3000);
        assert_eq!(frames, encoded.messages + 1, "End-of-RIB last");
        assert!(stream.is_empty());
    }
}
