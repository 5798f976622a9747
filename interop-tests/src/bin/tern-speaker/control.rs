//! The control socket: newline-delimited JSON requests, one reply line each
//! (see `interop_tests::tern::protocol`).

use std::path::Path;

use anyhow::Context;
use bgp::Speaker;
use interop_tests::tern::{Reply, Request};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::convert;

/// Binds the socket (replacing a stale file) and serves connections until the process ends.
/// A `shutdown` request is answered, then reported on `shutdown`.
pub fn serve(path: &Path, speaker: Speaker, shutdown: mpsc::Sender<()>) -> anyhow::Result<()> {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path).with_context(|| format!("bind {}", path.display()))?;
    info!(socket = %path.display(), "control socket listening");
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(connection(stream, speaker.clone(), shutdown.clone()));
                }
                Err(e) => {
                    warn!(error = %e, "control accept failed");
                    return;
                }
            }
        }
    });
    Ok(())
}

async fn connection(stream: UnixStream, speaker: Speaker, shutdown: mpsc::Sender<()>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let (reply, stop) = match serde_json::from_str::<Request>(&line) {
            Ok(request) => {
                let stop = matches!(request, Request::Shutdown | Request::ShutdownForRestart);
                (handle(&speaker, request).await, stop)
            }
            Err(e) => (
                Reply::Error {
                    message: format!("bad request {line:?}: {e}"),
                },
                false,
            ),
        };
        let mut text = serde_json::to_string(&reply).unwrap_or_else(|e| {
            format!(r#"{{"reply":"error","message":"cannot encode reply: {e}"}}"#)
        });
        text.push('\n');
        if write.write_all(text.as_bytes()).await.is_err() {
            return;
        }
        if stop {
            let _ = shutdown.send(()).await;
            return;
        }
    }
}

async fn handle(speaker: &Speaker, request: Request) -> Reply {
    let result = match request {
        Request::Rib => speaker.loc_rib().await.map(|routes| Reply::Rib {
            routes: routes.iter().map(convert::rib_entry).collect(),
        }),
        Request::Peers => speaker.peers().await.map(|peers| Reply::Peers {
            peers: peers.iter().map(convert::peer_entry).collect(),
        }),
        Request::Originate { route } => {
            info!(prefix = %route.prefix, "originate");
            speaker
                .originate(route.prefix, convert::attributes(&route))
                .await
                .map(|()| Reply::Ok)
        }
        Request::Withdraw { prefix } => {
            info!(%prefix, "withdraw");
            speaker.withdraw(prefix).await.map(|()| Reply::Ok)
        }
        Request::AddPeer { peer } => {
            info!(address = %peer.address, asn = peer.asn, "add peer");
            match convert::peer_config(&peer) {
                Ok(config) => speaker.add_peer(config).await.map(|()| Reply::Ok),
                Err(message) => Ok(Reply::Error { message }),
            }
        }
        Request::UpdatePeer { peer } => {
            info!(address = %peer.address, asn = peer.asn, "update peer");
            match convert::peer_config(&peer) {
                Ok(config) => speaker.update_peer(config).await.map(|()| Reply::Ok),
                Err(message) => Ok(Reply::Error { message }),
            }
        }
        Request::RemovePeer { address } => {
            info!(%address, "remove peer");
            speaker.remove_peer(address).await.map(|()| Reply::Ok)
        }
        Request::Shutdown => {
            info!("shutdown requested");
            speaker.shutdown().await.map(|()| Reply::Ok)
        }
        Request::ShutdownForRestart => {
            info!("shutdown for graceful restart requested");
            speaker.shutdown_for_restart().await.map(|()| Reply::Ok)
        }
    };
    result.unwrap_or_else(|e| Reply::Error {
        message: e.to_string(),
    })
}
