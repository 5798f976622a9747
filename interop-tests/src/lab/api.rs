//! ternd's node API over its unix socket (tern-proto's generated client), and the peer table
//! the lab prints from it.

use std::fmt::Write;
use std::path::Path;

use hyper_util::rt::TokioIo;
use tern_proto::pb;
use tonic::transport::{Endpoint, Uri};

use crate::error::{Error, Result};

/// `Node.GetStatus` from the ternd serving `socket`.
pub fn node_status(socket: &Path) -> Result<pb::NodeStatus> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("start a runtime for the API client", e))?;
    let path = socket.to_path_buf();
    let what = format!("node status from {}", socket.display());
    runtime
        .block_on(async move {
            let channel = Endpoint::from_static("http://ternd.invalid")
                .connect_with_connector(tower::service_fn(move |_: Uri| {
                    let path = path.clone();
                    async move {
                        let stream = tokio::net::UnixStream::connect(path).await?;
                        Ok::<_, std::io::Error>(TokioIo::new(stream))
                    }
                }))
                .await
                .map_err(|e| e.to_string())?;
            let mut client = pb::node_client::NodeClient::new(channel);
            client
                .get_status(pb::GetStatusRequest::default())
                .await
                .map(|response| response.into_inner())
                .map_err(|e| e.message().to_string())
        })
        .map_err(|reason| Error::parse(what, reason, ""))
}

/// Whether every peer of the status is Established (and there is at least one).
pub fn all_established(status: &pb::NodeStatus) -> bool {
    !status.peers.is_empty()
        && status
            .peers
            .iter()
            .all(|peer| peer.state() == pb::PeerState::Established)
}

/// The peer table, like `ternctl node status`.
pub fn peer_table(status: &pb::NodeStatus) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "node {}  AS {}  router ID {}",
        status.node, status.as_number, status.router_id
    );
    let _ = writeln!(
        out,
        "  {:<16} {:>7}  {:<18} {:<12} {:>8} {:>10}",
        "PEER", "AS", "TYPE", "STATE", "RECEIVED", "ADVERTISED"
    );
    for peer in &status.peers {
        let _ = writeln!(
            out,
            "  {:<16} {:>7}  {:<18} {:<12} {:>8} {:>10}",
            peer.address,
            peer.as_number,
            peer.r#type,
            format!("{:?}", peer.state()),
            peer.prefixes_received,
            peer.prefixes_advertised
        );
    }
    out
}
