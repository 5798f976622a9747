//! `GET /metrics` over HTTP.

use std::sync::Arc;
use std::time::Duration;

use tern_proto::metrics::{bind_metrics, serve_metrics};
use tern_proto::{NodeApi, pb};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Status;

struct OnePeer;

#[tonic::async_trait]
impl NodeApi for OnePeer {
    async fn status(&self) -> Result<pb::NodeStatus, Status> {
        Ok(pb::NodeStatus {
            node: "node-1".into(),
            as_number: 64512,
            router_id: "198.18.0.11".into(),
            peers: vec![pb::PeerStatus {
                address: "198.18.0.1".into(),
                as_number: 64512,
                r#type: "iBGP".into(),
                state: pb::PeerState::Active as i32,
                ..Default::default()
            }],
        })
    }

    async fn routes(&self, _: pb::ListRoutesRequest) -> Result<Vec<pb::Destination>, Status> {
        Ok(Vec::new())
    }
}

async fn get(address: std::net::SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(
        Duration::from_secs(10),
        stream.read_to_string(&mut response),
    )
    .await
    .unwrap()
    .unwrap();
    response
}

#[tokio::test]
async fn metrics_are_served_as_prometheus_text() {
    let listener = bind_metrics("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(serve_metrics(
        listener,
        Arc::new(OnePeer),
        std::future::pending(),
    ));
    let response = get(address, "/metrics").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains("content-type: text/plain; version=0.0.4"),
        "{response}"
    );
    assert!(response.contains("tern_bgp_peer_state{node=\"node-1\",peer=\"198.18.0.1\",peer_as=\"64512\",type=\"iBGP\"} 3\n"));
    assert!(response.contains(
        "tern_bgp_peer_up{node=\"node-1\",peer=\"198.18.0.1\",peer_as=\"64512\",type=\"iBGP\"} 0\n"
    ));
    let missing = get(address, "/other").await;
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
}

/// The value of the first sample line starting with `series` (name and labels), or `None`.
fn sample(text: &str, series: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series))
        .and_then(|rest| rest.trim().parse().ok())
}

#[tokio::test]
async fn per_peer_series_change_as_routes_arrive() {
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};

    use bgp::packet::PathAttributes;
    use bgp::{PeerConfig, Speaker, SpeakerConfig};
    use tern_proto::speaker_backend::SpeakerBackend;

    let start = |asn: u32, address: Ipv4Addr| async move {
        let mut config = SpeakerConfig::new(asn, address);
        config.listen = vec![SocketAddr::new(IpAddr::V4(address), 0)];
        Speaker::start(config).await.unwrap()
    };
    let ours_address = Ipv4Addr::new(127, 0, 0, 91);
    let theirs_address = Ipv4Addr::new(127, 0, 0, 92);
    let ours = start(65001, ours_address).await;
    let theirs = start(65002, theirs_address).await;
    let mut to_theirs = PeerConfig::new(IpAddr::V4(theirs_address), 65002);
    to_theirs.port = theirs.listen_addresses()[0].port();
    to_theirs.local_address = Some(IpAddr::V4(ours_address));
    to_theirs.connect_retry = Duration::from_secs(1);
    ours.add_peer(to_theirs).await.unwrap();
    let mut to_ours = PeerConfig::new(IpAddr::V4(ours_address), 65001);
    to_ours.passive = true;
    theirs.add_peer(to_ours).await.unwrap();

    let listener = bind_metrics("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let address = listener.local_addr().unwrap();
    let backend = Arc::new(SpeakerBackend::new("node-1", ours.clone()));
    tokio::spawn(serve_metrics(listener, backend, std::future::pending()));

    let labels = "node=\"node-1\",peer=\"127.0.0.92\",peer_as=\"65002\",type=\"eBGP\"";
    let up = format!("tern_bgp_peer_up{{{labels}}}");
    let received = format!("tern_bgp_peer_prefixes{{{labels},direction=\"received\"}}");
    let updates =
        format!("tern_bgp_peer_messages_total{{{labels},direction=\"received\",type=\"update\"}}");
    let scrape_until = |what: &'static str, done: Box<dyn Fn(&str) -> bool + Send>| async move {
        let mut last = String::new();
        for _ in 0..200 {
            last = get(address, "/metrics").await;
            if done(&last) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{what} not seen in /metrics within 10 s:\n{last}");
    };

    let up_series = up.clone();
    let before = scrape_until(
        "the session up",
        Box::new(move |text| sample(text, &up_series) == Some(1)),
    )
    .await;
    assert_eq!(sample(&before, &received), Some(0), "{before}");
    let updates_before = sample(&before, &updates).unwrap_or_else(|| panic!("{before}"));

    for prefix in ["198.51.100.0/24", "203.0.113.0/24"] {
        theirs
            .originate(prefix.parse().unwrap(), PathAttributes::default())
            .await
            .unwrap();
    }
    let received_series = received.clone();
    let after = scrape_until(
        "two prefixes received",
        Box::new(move |text| sample(text, &received_series) == Some(2)),
    )
    .await;
    let updates_after = sample(&after, &updates).unwrap_or_else(|| panic!("{after}"));
    assert!(
        updates_after > updates_before,
        "UPDATEs received went from {updates_before} to {updates_after}"
    );
    assert_eq!(
        sample(&after, "tern_bgp_loc_rib_prefixes{node=\"node-1\"}"),
        Some(2),
        "{after}"
    );
}
