//! `Node.Watch` from a speaker: best-route changes from [`bgp::Speaker::subscribe`], peer
//! changes by comparing [`bgp::Speaker::peers`] once a second (the speaker has no peer event
//! stream). A subscriber that falls behind the route stream gets `DATA_LOSS` and should re-read
//! the routes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use bgp::{RouteChange, Speaker, State};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::convert::{peer_status, route_path, timestamp};
use crate::api::WatchStream;
use crate::pb;

/// How often peer states are compared.
pub const PEER_POLL_INTERVAL: Duration = Duration::from_secs(1);

pub fn watch(speaker: Speaker, request: pb::WatchRequest) -> WatchStream {
    let (sender, receiver) = mpsc::channel(256);
    let routes = request.routes.then(|| speaker.subscribe());
    tokio::spawn(forward(speaker, request.peers, routes, sender));
    Box::pin(ReceiverStream::new(receiver))
}

type Sender = mpsc::Sender<Result<pb::WatchEvent, Status>>;

async fn forward(
    speaker: Speaker,
    peers: bool,
    mut routes: Option<broadcast::Receiver<RouteChange>>,
    sender: Sender,
) {
    let mut known: HashMap<IpAddr, (State, Option<String>)> = HashMap::new();
    let mut first = true;
    let mut ticker = tokio::time::interval(PEER_POLL_INTERVAL);
    loop {
        tokio::select! {
            () = sender.closed() => return,
            _ = ticker.tick(), if peers => {
                let Ok(statuses) = speaker.peers().await else {
                    let _ = sender.send(Err(Status::unavailable("the BGP speaker stopped"))).await;
                    return;
                };
                for status in statuses {
                    let now = (status.state, status.last_error.clone());
                    let changed = known.insert(status.address, now.clone()) != Some(now);
                    if (changed || first) && !send(&sender, pb::watch_event::Event::Peer(peer_status(&status))).await {
                        return;
                    }
                }
                first = false;
            }
            change = next_change(&mut routes) => match change {
                Ok(change) => {
                    let event = pb::watch_event::Event::Route(pb::BestRouteChange {
                        prefix: change.prefix.to_string(),
                        best: change.best.as_ref().map(route_path),
                    });
                    if !send(&sender, event).await {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    let status = Status::data_loss(format!("missed {missed} route changes; re-read the routes"));
                    let _ = sender.send(Err(status)).await;
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => {
                    let _ = sender.send(Err(Status::unavailable("the BGP speaker stopped"))).await;
                    return;
                }
            },
        }
    }
}

async fn next_change(
    routes: &mut Option<broadcast::Receiver<RouteChange>>,
) -> Result<RouteChange, broadcast::error::RecvError> {
    match routes {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

async fn send(sender: &Sender, event: pb::watch_event::Event) -> bool {
    let event = pb::WatchEvent {
        time: Some(timestamp(SystemTime::now())),
        event: Some(event),
    };
    sender.send(Ok(event)).await.is_ok()
}
