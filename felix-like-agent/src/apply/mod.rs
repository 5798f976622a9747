//! Applying intent: the pure diff between two intents and the seam through which the daemon
//! hands each change to whatever drives BGP (the speaker; a logger until it is wired).

mod diff;
mod speaker;

use std::future::Future;

use crate::calc::NodeIntent;

pub use diff::{IntentDiff, PeerKey, diff_intents};
pub use speaker::{
    PeerConfigs, SpeakerApplier, filter, path_attributes, peer_config, speaker_config,
};

/// Makes the world match a new intent. `apply` receives the full new intent and the diff
/// from the previous one; it is called again with the next change only after it returns.
pub trait IntentApplier {
    /// Why applying failed.
    type Error: std::fmt::Display;

    /// Applies `diff`, which leads from the last applied intent to `intent`.
    fn apply(
        &mut self,
        intent: &NodeIntent,
        diff: &IntentDiff,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// Logs every change and applies nothing: the stand-in until the speaker is wired.
#[derive(Debug, Default)]
pub struct LoggingApplier;

impl IntentApplier for LoggingApplier {
    type Error = std::convert::Infallible;

    async fn apply(&mut self, intent: &NodeIntent, diff: &IntentDiff) -> Result<(), Self::Error> {
        if diff.identity_changed {
            tracing::info!(
                asn = %intent.asn,
                router_id = %intent.router_id,
                listen_port = intent.listen_port,
                "BGP identity"
            );
        }
        for peer in &diff.peers_added {
            tracing::info!(address = %peer.address, port = peer.port, asn = %peer.asn, r#type = peer.source.type_name(), "add peer");
        }
        for peer in &diff.peers_reset {
            tracing::info!(address = %peer.address, port = peer.port, asn = %peer.asn, "reset peer: session parameters changed");
        }
        for peer in &diff.peers_updated {
            tracing::info!(address = %peer.address, port = peer.port, "update peer policy");
        }
        for (address, port) in &diff.peers_removed {
            tracing::info!(%address, port, "remove peer");
        }
        for advertisement in &diff.originate {
            let communities: Vec<String> = advertisement
                .communities
                .iter()
                .map(|c| c.to_string())
                .collect();
            tracing::info!(prefix = %advertisement.prefix, communities = ?communities, "originate");
        }
        for prefix in &diff.withdraw {
            tracing::info!(%prefix, "withdraw");
        }
        Ok(())
    }
}
