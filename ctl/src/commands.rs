//! One function per command: connect, call, print.

use serde::Serialize;
use tern_proto::pb;
use tern_proto::pb::dataplane_client::DataplaneClient;
use tern_proto::pb::node_client::NodeClient;
use tern_proto::pb::policy_client::PolicyClient;
use tokio_stream::StreamExt;

use crate::client::{Connection, connect};
use crate::kinds::{Kind, get_kinds_help};
use crate::output::{Format, plain_table, print_structured, render, timestamp};
use crate::resources;
use crate::routes::{PathView, print_routes};
use crate::status::{PeerView, print_node_status, print_peers, state_name};

pub async fn node_status(connection: &Connection, format: Format) -> anyhow::Result<()> {
    let (channel, target) = connect(connection).await?;
    let status = NodeClient::new(channel)
        .get_status(pb::GetStatusRequest {})
        .await
        .map_err(|status| target.call_error("node status", status))?
        .into_inner();
    print_node_status(format, &status)
}

/// The route options of `get routes`.
#[derive(Debug, Default)]
pub struct RouteQuery {
    pub prefix: Option<String>,
    pub exact: bool,
    pub longer: bool,
    /// `Some(true)`: IPv6 only; `Some(false)`: IPv4 only.
    pub ipv6: Option<bool>,
    pub received_from: Option<String>,
    pub advertised_to: Option<String>,
}

impl RouteQuery {
    fn request(self) -> pb::ListRoutesRequest {
        let (table, peer) = match (self.received_from, self.advertised_to) {
            (Some(peer), _) => (pb::Table::AdjRibIn, peer),
            (None, Some(peer)) => (pb::Table::AdjRibOut, peer),
            (None, None) => (pb::Table::LocRib, String::new()),
        };
        let matching = if self.exact {
            pb::PrefixMatch::Exact
        } else if self.longer {
            pb::PrefixMatch::Longer
        } else {
            pb::PrefixMatch::Longest
        };
        let family = match self.ipv6 {
            None => pb::Family::Unspecified,
            Some(false) => pb::Family::Ipv4Unicast,
            Some(true) => pb::Family::Ipv6Unicast,
        };
        pb::ListRoutesRequest {
            table: table as i32,
            peer,
            prefix: self.prefix.unwrap_or_default(),
            r#match: matching as i32,
            family: family as i32,
        }
    }
}

pub async fn get(
    connection: &Connection,
    format: Format,
    kind: &str,
    name: Option<String>,
    namespace: Option<String>,
    query: RouteQuery,
) -> anyhow::Result<()> {
    let resource = match kind.to_ascii_lowercase().as_str() {
        "routes" | "route" | "rib" => None,
        "peers" | "peer" | "neighbors" | "neighbor" => None,
        other => Some(Kind::from_argument(other).ok_or_else(|| {
            anyhow::anyhow!(
                "unknown resource kind {kind:?}; known: {}",
                get_kinds_help()
            )
        })?),
    };
    let (channel, target) = connect(connection).await?;
    if let Some(resource) = resource {
        return resources::get(channel, &target, resource, name, namespace, format).await;
    }
    let mut node = NodeClient::new(channel);
    if kind.starts_with("route") || kind == "rib" {
        let destinations = node
            .list_routes(query.request())
            .await
            .map_err(|status| target.call_error("get routes", status))?
            .into_inner()
            .destinations;
        print_routes(format, &destinations)
    } else {
        let request = pb::ListPeersRequest {
            address: name.clone().unwrap_or_default(),
        };
        let peers = node
            .list_peers(request)
            .await
            .map_err(|status| target.call_error("get peers", status))?
            .into_inner()
            .peers;
        if let Some(name) = name
            && peers.is_empty()
        {
            anyhow::bail!("no peer {name}");
        }
        print_peers(format, &peers)
    }
}

pub async fn apply(connection: &Connection, file: &str, delete: bool) -> anyhow::Result<()> {
    // Check the manifest before connecting: a typo is reported even without a daemon.
    let (source, text) = resources::read_manifest(file)?;
    crate::manifest::parse(&source, &text)?;
    let (channel, target) = connect(connection).await?;
    resources::apply_or_delete(channel, &target, &source, &text, delete).await
}

pub async fn peer_reset(connection: &Connection, address: String) -> anyhow::Result<()> {
    let (channel, target) = connect(connection).await?;
    NodeClient::new(channel)
        .reset_peer(pb::ResetPeerRequest {
            address: address.clone(),
        })
        .await
        .map_err(|status| target.call_error(&format!("reset peer {address}"), status))?;
    println!("peer {address} reset");
    Ok(())
}

pub async fn peer_refresh(
    connection: &Connection,
    address: String,
    direction: pb::RefreshDirection,
) -> anyhow::Result<()> {
    let (channel, target) = connect(connection).await?;
    NodeClient::new(channel)
        .refresh_peer(pb::RefreshPeerRequest {
            address: address.clone(),
            direction: direction as i32,
        })
        .await
        .map_err(|status| target.call_error(&format!("refresh peer {address}"), status))?;
    println!("peer {address} refreshed");
    Ok(())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DataplaneRouteView<'a> {
    destination: &'a str,
    gateway: &'a str,
    device: &'a str,
    encapsulation: &'a str,
    table: u32,
    kind: &'a str,
}

pub async fn dataplane_routes(connection: &Connection, format: Format) -> anyhow::Result<()> {
    let (channel, target) = connect(connection).await?;
    let routes = DataplaneClient::new(channel)
        .list_routes(pb::ListDataplaneRoutesRequest {})
        .await
        .map_err(|status| target.call_error("dataplane routes", status))?
        .into_inner()
        .routes;
    let views: Vec<DataplaneRouteView> = routes
        .iter()
        .map(|r| DataplaneRouteView {
            destination: &r.destination,
            gateway: &r.gateway,
            device: &r.device,
            encapsulation: &r.encapsulation,
            table: r.table,
            kind: &r.kind,
        })
        .collect();
    if print_structured(format, &serde_json::json!({ "routes": views }))? {
        return Ok(());
    }
    let mut table = plain_table(&["DESTINATION", "GATEWAY", "DEVICE", "ENCAP", "TABLE", "TYPE"]);
    for r in &routes {
        table.add_row(vec![
            r.destination.clone(),
            r.gateway.clone(),
            r.device.clone(),
            r.encapsulation.clone(),
            r.table.to_string(),
            r.kind.clone(),
        ]);
    }
    print!("{}", render(&table));
    Ok(())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleView<'a> {
    policy: &'a str,
    direction: &'a str,
    action: &'a str,
    description: &'a str,
}

pub async fn policy_show(
    connection: &Connection,
    format: Format,
    pod: String,
    namespace: String,
) -> anyhow::Result<()> {
    let (channel, target) = connect(connection).await?;
    let policy = PolicyClient::new(channel)
        .show_pod(pb::ShowPodRequest {
            pod: pod.clone(),
            namespace: namespace.clone(),
        })
        .await
        .map_err(|status| target.call_error(&format!("policy for {namespace}/{pod}"), status))?
        .into_inner();
    let rules: Vec<RuleView> = policy
        .rules
        .iter()
        .map(|r| RuleView {
            policy: &r.policy,
            direction: &r.direction,
            action: &r.action,
            description: &r.description,
        })
        .collect();
    let view = serde_json::json!({
        "pod": policy.pod, "namespace": policy.namespace, "addresses": policy.addresses,
        "policies": policy.policies, "ingressIsolated": policy.ingress_isolated,
        "egressIsolated": policy.egress_isolated, "rules": rules, "nftables": policy.nftables,
    });
    if print_structured(format, &view)? {
        return Ok(());
    }
    let isolation = |isolated: bool| if isolated { "isolated" } else { "open" };
    println!(
        "Pod {}/{} ({})",
        policy.namespace,
        policy.pod,
        policy.addresses.join(", ")
    );
    println!(
        "Ingress: {}, egress: {}",
        isolation(policy.ingress_isolated),
        isolation(policy.egress_isolated)
    );
    println!(
        "Policies: {}",
        if policy.policies.is_empty() {
            "none".to_string()
        } else {
            policy.policies.join(", ")
        }
    );
    if !policy.rules.is_empty() {
        let mut table = plain_table(&["POLICY", "DIRECTION", "ACTION", "MATCH"]);
        for r in &policy.rules {
            table.add_row(vec![
                r.policy.clone(),
                r.direction.clone(),
                r.action.clone(),
                r.description.clone(),
            ]);
        }
        print!("\n{}", render(&table));
    }
    if format == Format::Wide && !policy.nftables.is_empty() {
        print!("\n{}", policy.nftables);
    }
    Ok(())
}

pub async fn watch(
    connection: &Connection,
    format: Format,
    peers: bool,
    routes: bool,
) -> anyhow::Result<()> {
    let (channel, target) = connect(connection).await?;
    let mut stream = NodeClient::new(channel)
        .watch(pb::WatchRequest { peers, routes })
        .await
        .map_err(|status| target.call_error("watch", status))?
        .into_inner();
    while let Some(event) = stream.next().await {
        let event = event.map_err(|status| target.call_error("watch", status))?;
        let time = timestamp(event.time.as_ref()).unwrap_or_default();
        let structured = format == Format::Json || format == Format::Yaml;
        match event.event {
            Some(pb::watch_event::Event::Peer(peer)) => {
                if structured {
                    let view = serde_json::json!({"time": time, "peer": PeerView::from(&peer)});
                    print_line(format, &view)?;
                } else {
                    let info = if peer.last_error.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", peer.last_error)
                    };
                    println!(
                        "{time} peer {} {}{info}",
                        peer.address,
                        state_name(peer.state())
                    );
                }
            }
            Some(pb::watch_event::Event::Route(change)) => {
                let best = change.best.as_ref().map(PathView::from);
                if structured {
                    let view = serde_json::json!({"time": time, "route": {"prefix": change.prefix, "bestPath": best}});
                    print_line(format, &view)?;
                } else {
                    match best {
                        Some(best) => println!(
                            "{time} route {} via {} from {}",
                            change.prefix,
                            best.next_hop.as_deref().unwrap_or("self"),
                            best.source_peer.as_deref().unwrap_or("local")
                        ),
                        None => println!("{time} route {} withdrawn", change.prefix),
                    }
                }
            }
            None => {}
        }
    }
    Ok(())
}

/// JSON: one object per line; YAML: one document each.
fn print_line(format: Format, value: &serde_json::Value) -> anyhow::Result<()> {
    if format == Format::Json {
        println!("{}", serde_json::to_string(value)?);
    } else {
        print!("---\n{}", crate::output::to_yaml(value)?);
    }
    Ok(())
}
