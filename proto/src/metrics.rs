//! Prometheus metrics (opt-in): `GET /metrics` in the text exposition format, computed on each
//! scrape from [`NodeApi::status`] and [`NodeApi::routes`] (no counters are kept here).
//!
//! Metrics: `tern_bgp_peer_state` (1 Idle … 6 Established, RFC 4271 §8.2.2),
//! `tern_bgp_peer_up`, `tern_bgp_peer_state_since_seconds` (Unix time),
//! `tern_bgp_peer_prefixes{direction="received|accepted|advertised"}`,
//! `tern_bgp_peer_messages_total{direction="sent|received",type=…}`,
//! `tern_bgp_loc_rib_prefixes`, `tern_bgp_loc_rib_paths`.

use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::api::NodeApi;
use crate::pb;

/// The exposition text for one status and Loc-RIB snapshot.
pub fn render(status: &pb::NodeStatus, loc_rib: &[pb::Destination]) -> String {
    let node = escape(&status.node);
    // One block per metric family: its HELP and TYPE lines, then its samples.
    let mut blocks: Vec<String> = [
        ("tern_bgp_peer_state", "gauge", "BGP session state: 1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm, 6 Established."),
        ("tern_bgp_peer_up", "gauge", "1 when the session is Established."),
        ("tern_bgp_peer_state_since_seconds", "gauge", "When the session entered its state (Unix time)."),
        ("tern_bgp_peer_prefixes", "gauge", "Prefixes received, accepted and advertised per peer."),
        ("tern_bgp_peer_messages_total", "counter", "BGP messages per peer, direction and type."),
    ]
    .into_iter()
    .map(|(name, kind, help)| format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"))
    .collect();
    for peer in &status.peers {
        let labels = format!(
            "node=\"{node}\",peer=\"{}\",peer_as=\"{}\",type=\"{}\"",
            escape(&peer.address),
            peer.as_number,
            escape(&peer.r#type)
        );
        let established = peer.state() == pb::PeerState::Established;
        let since = peer.since.as_ref().map_or(0, |t| t.seconds);
        let _ = writeln!(blocks[0], "tern_bgp_peer_state{{{labels}}} {}", peer.state);
        let _ = writeln!(
            blocks[1],
            "tern_bgp_peer_up{{{labels}}} {}",
            u8::from(established)
        );
        let _ = writeln!(
            blocks[2],
            "tern_bgp_peer_state_since_seconds{{{labels}}} {since}"
        );
        for (direction, value) in [
            ("received", peer.prefixes_received),
            ("accepted", peer.prefixes_accepted),
            ("advertised", peer.prefixes_advertised),
        ] {
            let _ = writeln!(
                blocks[3],
                "tern_bgp_peer_prefixes{{{labels},direction=\"{direction}\"}} {value}"
            );
        }
        for (direction, counts) in [
            ("sent", peer.messages_sent.as_ref()),
            ("received", peer.messages_received.as_ref()),
        ] {
            let counts = counts.copied().unwrap_or_default();
            for (kind, value) in [
                ("open", counts.open),
                ("update", counts.update),
                ("notification", counts.notification),
                ("keepalive", counts.keepalive),
                ("route_refresh", counts.route_refresh),
            ] {
                let _ = writeln!(
                    blocks[4],
                    "tern_bgp_peer_messages_total{{{labels},direction=\"{direction}\",type=\"{kind}\"}} {value}"
                );
            }
        }
    }
    let paths: usize = loc_rib.iter().map(|d| d.paths.len()).sum();
    let mut text = blocks.concat();
    let _ = writeln!(
        text,
        "# HELP tern_bgp_loc_rib_prefixes Prefixes in the Loc-RIB.\n# TYPE tern_bgp_loc_rib_prefixes gauge\ntern_bgp_loc_rib_prefixes{{node=\"{node}\"}} {}",
        loc_rib.len()
    );
    let _ = writeln!(
        text,
        "# HELP tern_bgp_loc_rib_paths Paths in the Loc-RIB.\n# TYPE tern_bgp_loc_rib_paths gauge\ntern_bgp_loc_rib_paths{{node=\"{node}\"}} {paths}"
    );
    text
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Serve `GET /metrics` on `address` until `shutdown`.
pub async fn serve_metrics<A: NodeApi>(
    listener: tokio::net::TcpListener,
    api: Arc<A>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app =
        axum::Router::new().route("/metrics", axum::routing::get(move || scrape(api.clone())));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Bind the metrics listener (e.g. `0.0.0.0:9091`).
pub async fn bind_metrics(address: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(address).await
}

async fn scrape<A: NodeApi>(api: Arc<A>) -> axum::response::Response {
    let status = match api.status().await {
        Ok(status) => status,
        Err(error) => {
            return (StatusCode::SERVICE_UNAVAILABLE, error.message().to_string()).into_response();
        }
    };
    let loc_rib = api
        .routes(pb::ListRoutesRequest::default())
        .await
        .unwrap_or_default();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        render(&status, &loc_rib),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_and_rib_sizes_are_exposed_with_labels() {
        let status = pb::NodeStatus {
            node: "node-1".into(),
            peers: vec![pb::PeerStatus {
                address: "198.18.0.1".into(),
                as_number: 64512,
                r#type: "iBGP".into(),
                state: pb::PeerState::Established as i32,
                prefixes_received: 3,
                messages_sent: Some(pb::MessageCounts {
                    update: 7,
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        };
        let rib = vec![pb::Destination {
            prefix: "198.19.0.0/24".into(),
            paths: vec![pb::RoutePath::default(), pb::RoutePath::default()],
        }];
        let text = render(&status, &rib);
        let labels = "node=\"node-1\",peer=\"198.18.0.1\",peer_as=\"64512\",type=\"iBGP\"";
        assert!(
            text.contains(&format!("tern_bgp_peer_state{{{labels}}} 6\n")),
            "{text}"
        );
        assert!(text.contains(&format!("tern_bgp_peer_up{{{labels}}} 1\n")));
        assert!(text.contains(&format!(
            "tern_bgp_peer_prefixes{{{labels},direction=\"received\"}} 3\n"
        )));
        assert!(text.contains(&format!(
            "tern_bgp_peer_messages_total{{{labels},direction=\"sent\",type=\"update\"}} 7\n"
        )));
        assert!(text.contains("tern_bgp_loc_rib_prefixes{node=\"node-1\"} 1\n"));
        assert!(text.contains("tern_bgp_loc_rib_paths{node=\"node-1\"} 2\n"));
        // Every family is declared once, before its samples.
        assert_eq!(text.matches("# TYPE tern_bgp_peer_state gauge").count(), 1);
        let declared = text.find("# TYPE tern_bgp_peer_up gauge").unwrap();
        let sample = text.find("tern_bgp_peer_up{").unwrap();
        assert!(declared < sample);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
