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
