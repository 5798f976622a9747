//! `ternctl node status` and `ternctl get peers`.
//!
//! The JSON/YAML of `node status` is the CLI contract of ARCHITECTURE.md, exactly:
//! `{"node","asNumber","routerId","peers":[{"address","asNumber","type","state","since",
//! "prefixesReceived","prefixesAdvertised","lastError"}]}`. `state` is the RFC 4271 name;
//! `since` is RFC 3339 UTC with seconds (`2026-11-21T08:01:02Z`), `null` if unknown;
//! `lastError` is `null` when the session never failed, else the reason. `get peers -o json`
//! gives every detail the API has.

use std::net::IpAddr;
use std::time::SystemTime;

use serde::Serialize;
use tern_proto::pb;

use crate::output::{Format, age, boxed_table, plain_table, print_structured, render, timestamp};

/// The contract shape of `node status -o json|yaml`.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatusView {
    pub node: String,
    pub as_number: u32,
    pub router_id: String,
    pub peers: Vec<PeerView>,
}

/// One peer of [`NodeStatusView`].
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PeerView {
    pub address: String,
    pub as_number: u32,
    #[serde(rename = "type")]
    pub peer_type: String,
    pub state: String,
    pub since: Option<String>,
    pub prefixes_received: u64,
    pub prefixes_advertised: u64,
    pub last_error: Option<String>,
}

/// The RFC 4271 name of a state (`Idle` … `Established`).
pub fn state_name(state: pb::PeerState) -> &'static str {
    match state {
        pb::PeerState::Unspecified => "Unknown",
        pb::PeerState::Idle => "Idle",
        pb::PeerState::Connect => "Connect",
        pb::PeerState::Active => "Active",
        pb::PeerState::OpenSent => "OpenSent",
        pb::PeerState::OpenConfirm => "OpenConfirm",
        pb::PeerState::Established => "Established",
    }
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

impl From<&pb::NodeStatus> for NodeStatusView {
    fn from(status: &pb::NodeStatus) -> Self {
        NodeStatusView {
            node: status.node.clone(),
            as_number: status.as_number,
            router_id: status.router_id.clone(),
            peers: status.peers.iter().map(PeerView::from).collect(),
        }
    }
}

impl From<&pb::PeerStatus> for PeerView {
    fn from(peer: &pb::PeerStatus) -> Self {
        PeerView {
            address: peer.address.clone(),
            as_number: peer.as_number,
            peer_type: peer.r#type.clone(),
            state: state_name(peer.state()).to_string(),
            since: timestamp(peer.since.as_ref()),
            prefixes_received: peer.prefixes_received,
            prefixes_advertised: peer.prefixes_advertised,
            last_error: non_empty(&peer.last_error),
        }
    }
}

/// What the INFO column says: counts when Established, else the last error.
fn info(peer: &pb::PeerStatus) -> String {
    if peer.state() == pb::PeerState::Established {
        format!(
            "{} received, {} advertised",
            peer.prefixes_received, peer.prefixes_advertised
        )
    } else {
        peer.last_error.clone()
    }
}

fn is_ipv6(peer: &pb::PeerStatus) -> bool {
    matches!(peer.address.parse::<IpAddr>(), Ok(IpAddr::V6(_)))
}

/// `calicoctl node status` layout: a header, then one table per address family.
pub fn render_node_status(status: &pb::NodeStatus) -> String {
    let mut out = format!(
        "ternd is running on node {}.\nAS {}, router ID {}\n",
        status.node, status.as_number, status.router_id
    );
    for (family, v6) in [("IPv4", false), ("IPv6", true)] {
        let peers: Vec<&pb::PeerStatus> =
            status.peers.iter().filter(|p| is_ipv6(p) == v6).collect();
        out.push('\n');
        if peers.is_empty() {
            out.push_str(&format!("No {family} peers found.\n"));
            continue;
        }
        out.push_str(&format!("{family} BGP status\n"));
        let mut table = boxed_table(&["PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO"]);
        for peer in peers {
            table.add_row(vec![
                peer.address.clone(),
                peer.r#type.clone(),
                state_name(peer.state()).to_string(),
                timestamp(peer.since.as_ref()).unwrap_or_default(),
                info(peer),
            ]);
        }
        out.push_str(&render(&table));
    }
    out
}

pub fn print_node_status(format: Format, status: &pb::NodeStatus) -> anyhow::Result<()> {
    if !print_structured(format, &NodeStatusView::from(status))? {
        print!("{}", render_node_status(status));
    }
    Ok(())
}

/// Every detail of a peer, for `get peers -o json|yaml`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerDetailView {
    #[serde(flatten)]
    pub summary: PeerView,
    pub prefixes_accepted: u64,
    pub peer_router_id: Option<String>,
    pub hold_time: u32,
    pub local_address: Option<String>,
    pub remote_address: Option<String>,
    pub capabilities: Vec<String>,
    pub messages_sent: Counts,
    pub messages_received: Counts,
    /// Bytes waiting to be written to the peer (FRR's OutQ).
    pub send_queue_bytes: u64,
}

#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub open: u64,
    pub update: u64,
    pub notification: u64,
    pub keepalive: u64,
    pub route_refresh: u64,
}

impl From<Option<&pb::MessageCounts>> for Counts {
    fn from(counts: Option<&pb::MessageCounts>) -> Self {
        counts.map_or_else(Counts::default, |c| Counts {
            open: c.open,
            update: c.update,
            notification: c.notification,
            keepalive: c.keepalive,
            route_refresh: c.route_refresh,
        })
    }
}

impl From<&pb::PeerStatus> for PeerDetailView {
    fn from(peer: &pb::PeerStatus) -> Self {
        PeerDetailView {
            summary: PeerView::from(peer),
            prefixes_accepted: peer.prefixes_accepted,
            peer_router_id: non_empty(&peer.peer_router_id),
            hold_time: peer.hold_time,
            local_address: non_empty(&peer.local_address),
            remote_address: non_empty(&peer.remote_address),
            capabilities: peer.capabilities.clone(),
            messages_sent: peer.messages_sent.as_ref().into(),
            messages_received: peer.messages_received.as_ref().into(),
            send_queue_bytes: peer.send_queue_bytes,
        }
    }
}

pub fn render_peers(peers: &[pb::PeerStatus], wide: bool, now: SystemTime) -> String {
    let mut headers = vec![
        "PEER",
        "AS",
        "TYPE",
        "STATE",
        "SINCE",
        "RECEIVED",
        "ACCEPTED",
        "ADVERTISED",
    ];
    if wide {
        headers.extend([
            "ROUTER ID",
            "HOLD",
            "LOCAL",
            "MSGS IN",
            "MSGS OUT",
            "OUTQ",
            "LAST ERROR",
        ]);
    }
    let mut table = plain_table(&headers);
    for peer in peers {
        let mut row = vec![
            peer.address.clone(),
            peer.as_number.to_string(),
            peer.r#type.clone(),
            state_name(peer.state()).to_string(),
            age(peer.since.as_ref(), now),
            peer.prefixes_received.to_string(),
            peer.prefixes_accepted.to_string(),
            peer.prefixes_advertised.to_string(),
        ];
        if wide {
            let total = |c: Option<&pb::MessageCounts>| {
                c.map_or(0, |c| {
                    c.open + c.update + c.notification + c.keepalive + c.route_refresh
                })
            };
            row.extend([
                peer.peer_router_id.clone(),
                peer.hold_time.to_string(),
                peer.local_address.clone(),
                total(peer.messages_received.as_ref()).to_string(),
                total(peer.messages_sent.as_ref()).to_string(),
                peer.send_queue_bytes.to_string(),
                peer.last_error.clone(),
            ]);
        }
        table.add_row(row);
    }
    render(&table)
}

pub fn print_peers(format: Format, peers: &[pb::PeerStatus]) -> anyhow::Result<()> {
    let details: Vec<PeerDetailView> = peers.iter().map(PeerDetailView::from).collect();
    if !print_structured(format, &serde_json::json!({ "peers": details }))? {
        print!(
            "{}",
            render_peers(peers, format == Format::Wide, SystemTime::now())
        );
    }
    Ok(())
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
