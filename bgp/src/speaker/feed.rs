//! The best-route change feed behind [`crate::Speaker::subscribe`]: a broadcast channel of
//! [`super::ROUTE_CHANGE_CAPACITY`] changes, made on the first subscription. Its buffer is
//! allocated (and touched) whole when made, so a speaker nobody subscribes to never pays
//! for it.

use std::sync::{Arc, OnceLock};

use tokio::sync::broadcast;

use super::{ROUTE_CHANGE_CAPACITY, RouteChange};

/// Shared by the speaker handles (which subscribe) and the core (which sends).
#[derive(Debug, Clone, Default)]
pub struct RouteFeed {
    sender: Arc<OnceLock<broadcast::Sender<RouteChange>>>,
}

impl RouteFeed {
    /// Changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<RouteChange> {
        self.sender
            .get_or_init(|| broadcast::channel(ROUTE_CHANGE_CAPACITY).0)
            .subscribe()
    }

    /// Subscribers listening now.
    pub fn receiver_count(&self) -> usize {
        self.sender
            .get()
            .map_or(0, broadcast::Sender::receiver_count)
    }

    /// Send to the subscribers, if any.
    pub fn send(&self, change: RouteChange) {
        if let Some(sender) = self.sender.get() {
            // No subscriber right now is fine.
            let _ = sender.send(change);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_allocated_until_someone_subscribes() {
        let feed = RouteFeed::default();
        assert!(feed.sender.get().is_none());
        assert_eq!(feed.receiver_count(), 0);
        feed.send(RouteChange {
            prefix: "198.51.100.0/24".parse().unwrap(),
            best: None,
            multipath: Vec::new(),
        });
        let mut receiver = feed.clone().subscribe();
        assert_eq!(feed.receiver_count(), 1);
        let change = RouteChange {
            prefix: "203.0.113.0/24".parse().unwrap(),
            best: None,
            multipath: Vec::new(),
        };
        feed.send(change.clone());
        assert_eq!(receiver.try_recv().ok(), Some(change));
    }
}
