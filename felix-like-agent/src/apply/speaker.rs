//! [`SpeakerApplier`]: applies intent to a running [`bgp::Speaker`].
//!
//! - Identity change (first intent, AS, router ID, listen port or cluster ID): the running
//!   speaker (if any) is shut down and a new one started with the new identity, listening on
//!   `0.0.0.0:port` and `[::]:port`; then every peer and advertisement of the intent is added
//!   (every session resets, as RFC 4271 requires for a new AS or identifier anyway).
//! - Otherwise: `peers_added` → `add_peer`, `peers_reset` → `update_peer` (restarts the
//!   session), `peers_updated` → `update_peer` (the speaker applies a filter-only change
//!   without a reset), `peers_removed` → `remove_peer`, `originate`/`withdraw`.
//! - Tolerates repeats (the daemon retries a failed apply from the last good intent): adding a
//!   configured peer updates it, removing an unknown one is a no-op.
//!
//! The current speaker is published on a [`watch`] channel so the API can answer from it.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bgp::filter::{Action, CidrMatch, Filter, Rule, RuleSource};
use bgp::packet::{Community as BgpCommunity, LargeCommunity, PathAttributes};
use bgp::{Families, GracefulRestartConfig, PeerConfig, Speaker, SpeakerConfig, SpeakerError};
use tokio::sync::watch;

use super::{IntentApplier, IntentDiff, LoggingApplier};
use crate::calc::{Advertisement, Community, FilterIntent, NodeIntent, PeerIntent};
use crate::model::{BgpFilterRule, FilterAction, MatchOperator, RouteSource};

/// The peer configurations last given to the speaker, by address (for the API's hard reset).
pub type PeerConfigs = Arc<Mutex<HashMap<IpAddr, PeerConfig>>>;

/// Drives a [`Speaker`] from intent.
#[derive(Debug)]
pub struct SpeakerApplier {
    speaker: Option<Speaker>,
    published: watch::Sender<Option<Speaker>>,
    peer_configs: PeerConfigs,
    graceful_restart: bool,
    /// The kernel still holds our routes from before a restart: the first speaker starts as
    /// a restarting speaker (RFC 4724 §4.1) when it has graceful-restart peers.
    forwarding_preserved: bool,
    selection_deferred: watch::Sender<bool>,
}

impl Default for SpeakerApplier {
    fn default() -> Self {
        Self::new()
    }
}

impl SpeakerApplier {
    /// No speaker yet: the first intent starts one.
    pub fn new() -> Self {
        SpeakerApplier {
            speaker: None,
            published: watch::Sender::new(None),
            peer_configs: Arc::default(),
            graceful_restart: false,
            forwarding_preserved: false,
            selection_deferred: watch::Sender::new(false),
        }
    }

    /// Say that forwarding state survived a restart (the route programmer found tern's
    /// routes in the kernel). The first speaker then sets the R and F bits and defers route
    /// selection until its graceful-restart peers sent End-of-RIB ([`SpeakerConfig::restarting`]),
    /// if the intent has any such peer.
    pub fn with_forwarding_preserved(mut self, preserved: bool) -> Self {
        self.forwarding_preserved = preserved;
        self
    }

    /// Whether the speaker published now defers selection after a restart (set before the
    /// speaker is published): its first route change then means the deferral is over.
    pub fn selection_deferred(&self) -> watch::Receiver<bool> {
        self.selection_deferred.subscribe()
    }

    /// The running speaker, from now on (`None` until the first intent is applied).
    pub fn subscribe(&self) -> watch::Receiver<Option<Speaker>> {
        self.published.subscribe()
    }

    /// The peer configurations in force.
    pub fn peer_configs(&self) -> PeerConfigs {
        self.peer_configs.clone()
    }

    /// Stops the speaker: without NOTIFICATION (RFC 4724 §4.1, peers keep our routes) when
    /// any peer has graceful restart, else with Cease / Administrative Shutdown.
    pub async fn shutdown(&mut self) {
        let Some(speaker) = self.speaker.take() else {
            return;
        };
        self.published.send_replace(None);
        let result = if self.graceful_restart {
            tracing::info!("stopping the BGP speaker for a graceful restart");
            speaker.shutdown_for_restart().await
        } else {
            tracing::info!("stopping the BGP speaker");
            speaker.shutdown().await
        };
        if let Err(error) = result {
            tracing::warn!("stopping the BGP speaker: {error}");
        }
    }

    async fn restart(&mut self, intent: &NodeIntent) -> Result<(), SpeakerError> {
        if let Some(old) = self.speaker.take() {
            self.published.send_replace(None);
            tracing::info!("BGP identity changed: restarting the speaker");
            if let Err(error) = old.shutdown().await {
                tracing::warn!("stopping the old BGP speaker: {error}");
            }
        }
        self.peer_configs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        let mut config = speaker_config(intent);
        config.restarting = std::mem::take(&mut self.forwarding_preserved)
            && intent.peers.iter().any(|p| p.max_restart_time.is_some());
        if config.restarting {
            tracing::info!(
                "forwarding state preserved: restarting speaker, selection deferred until End-of-RIB (at most {}s)",
                config.selection_deferral.as_secs()
            );
        }
        self.selection_deferred.send_replace(config.restarting);
        // Peers go in with the start, so one that connects the moment we listen is known.
        let peers: Vec<PeerConfig> = intent.peers.iter().map(peer_config).collect();
        let speaker = Speaker::start_with_peers(config, peers.clone()).await?;
        for peer in peers {
            self.remember(peer);
        }
        self.speaker = Some(speaker.clone());
        self.published.send_replace(Some(speaker));
        Ok(())
    }

    async fn upsert_peer(&self, speaker: &Speaker, peer: &PeerIntent) -> Result<(), SpeakerError> {
        let config = peer_config(peer);
        let result = match speaker.add_peer(config.clone()).await {
            Err(SpeakerError::PeerExists(_)) => speaker.update_peer(config.clone()).await,
            other => other,
        };
        if result.is_ok() {
            self.remember(config);
        }
        result
    }

    async fn update_peer(&self, speaker: &Speaker, peer: &PeerIntent) -> Result<(), SpeakerError> {
        let config = peer_config(peer);
        let result = match speaker.update_peer(config.clone()).await {
            Err(SpeakerError::UnknownPeer(_)) => speaker.add_peer(config.clone()).await,
            other => other,
        };
        if result.is_ok() {
            self.remember(config);
        }
        result
    }

    fn remember(&self, config: PeerConfig) {
        self.peer_configs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(config.address, config);
    }
}

impl IntentApplier for SpeakerApplier {
    type Error = SpeakerError;

    async fn apply(&mut self, intent: &NodeIntent, diff: &IntentDiff) -> Result<(), Self::Error> {
        let Ok(()) = LoggingApplier.apply(intent, diff).await;
        let full = diff.identity_changed || self.speaker.is_none();
        if full {
            self.restart(intent).await?;
        }
        let Some(speaker) = self.speaker.clone() else {
            return Err(SpeakerError::ShutDown);
        };
        if full {
            // `restart` configured every peer of the intent.
            for advertisement in &intent.advertisements {
                originate(&speaker, advertisement).await?;
            }
        } else {
            for (address, _port) in &diff.peers_removed {
                match speaker.remove_peer(*address).await {
                    Ok(()) | Err(SpeakerError::UnknownPeer(_)) => {}
                    Err(error) => return Err(error),
                }
                self.peer_configs
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(address);
            }
            for peer in &diff.peers_added {
                self.upsert_peer(&speaker, peer).await?;
            }
            for peer in diff.peers_reset.iter().chain(&diff.peers_updated) {
                self.update_peer(&speaker, peer).await?;
            }
            for prefix in &diff.withdraw {
                speaker.withdraw(*prefix).await?;
            }
            for advertisement in &diff.originate {
                originate(&speaker, advertisement).await?;
            }
        }
        self.graceful_restart = intent.peers.iter().any(|p| p.max_restart_time.is_some());
        Ok(())
    }
}

async fn originate(speaker: &Speaker, advertisement: &Advertisement) -> Result<(), SpeakerError> {
    speaker
        .originate(advertisement.prefix, path_attributes(advertisement))
        .await
}

/// The speaker's configuration for an intent: listens on both wildcard addresses.
pub fn speaker_config(intent: &NodeIntent) -> SpeakerConfig {
    let mut config = SpeakerConfig::new(intent.asn.0, intent.router_id);
    config.listen = vec![
        SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), intent.listen_port),
        SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), intent.listen_port),
    ];
    config.cluster_id = intent.route_reflector_cluster_id;
    config.ipv4_next_hop = intent.ipv4_address;
    config.ipv6_next_hop = intent.ipv6_address;
    config
}

/// A session's configuration. The session carries the address family of the peer's address
/// only (RFC 4760 §8: IPv4 unicast to an IPv4 peer, IPv6 unicast to an IPv6 peer), as Calico's
/// separate IPv4 and IPv6 sessions do: a dual-stack pair of nodes has one session per family,
/// and a node without an IPv6 address is never sent IPv6 routes whose next hop it cannot
/// reach. Hold time is three keepalive intervals when a keepalive time is given (RFC 4271
/// §4.4 suggests a third of the hold time); graceful restart is offered exactly when
/// `maxRestartTime` is set (RFC 4724 §3, at most 4095 s).
pub fn peer_config(peer: &PeerIntent) -> PeerConfig {
    let mut config = PeerConfig::new(peer.address, peer.asn.0);
    config.families = Families {
        ipv4: peer.address.is_ipv4(),
        ipv6: peer.address.is_ipv6(),
    };
    config.port = peer.port;
    config.local_address = peer.source_address;
    config.passive = peer.passive;
    config.password = peer.password.as_ref().map(|p| p.0.clone());
    config.ttl_security = peer.ttl_security;
    config.keep_original_next_hop = peer.keep_original_next_hop;
    config.route_reflector_client = peer.route_reflector_client;
    config.graceful_restart = peer.max_restart_time.map(|time| GracefulRestartConfig {
        restart_time: time.min(Duration::from_secs(4095)),
    });
    if let Some(keepalive) = peer.keepalive_time {
        let hold = keepalive
            .as_secs()
            .saturating_mul(3)
            .clamp(3, u64::from(u16::MAX));
        config.hold_time = u16::try_from(hold).unwrap_or(u16::MAX);
    }
    config.filters = peer.filters.iter().map(|f| Arc::new(filter(f))).collect();
    config
}

/// A BGPFilter as the speaker's filter. Rules with an `interface` match cannot be evaluated
/// on BGP routes and are left out (with a warning).
pub fn filter(intent: &FilterIntent) -> Filter {
    let rules = |list: &[BgpFilterRule]| -> Vec<Rule> {
        list.iter()
            .filter_map(|rule| {
                if rule.interface.is_some() {
                    tracing::warn!(
                        filter = %intent.name,
                        "BGPFilter rule with an interface match is not supported; rule ignored"
                    );
                    return None;
                }
                Some(filter_rule(rule))
            })
            .collect()
    };
    Filter {
        name: intent.name.clone(),
        export_v4: rules(&intent.spec.export_v4),
        import_v4: rules(&intent.spec.import_v4),
        export_v6: rules(&intent.spec.export_v6),
        import_v6: rules(&intent.spec.import_v6),
    }
}

fn filter_rule(rule: &BgpFilterRule) -> Rule {
    let mut out = Rule::new(match rule.action {
        FilterAction::Accept => Action::Accept,
        FilterAction::Reject => Action::Reject,
    });
    if let (Some(cidr), Some(operator)) = (rule.cidr, rule.match_operator) {
        out.cidr = Some(CidrMatch {
            cidr,
            operator: match operator {
                MatchOperator::Equal => bgp::filter::MatchOperator::Equal,
                MatchOperator::NotEqual => bgp::filter::MatchOperator::NotEqual,
                MatchOperator::In => bgp::filter::MatchOperator::In,
                MatchOperator::NotIn => bgp::filter::MatchOperator::NotIn,
            },
            prefix_length: rule.prefix_length.map(|p| bgp::filter::PrefixLength {
                min: p.min,
                max: p.max,
            }),
        });
    }
    out.source = rule.source.map(|source| match source {
        RouteSource::RemotePeers => RuleSource::RemotePeers,
    });
    out
}

/// Communities (RFC 1997) and large communities (RFC 8092) of an advertisement.
pub fn path_attributes(advertisement: &Advertisement) -> PathAttributes {
    let mut attributes = PathAttributes::default();
    for community in &advertisement.communities {
        match *community {
            Community::Standard(high, low) => {
                attributes.communities.push(BgpCommunity::new(high, low));
            }
            Community::Large(global, one, two) => attributes
                .large_communities
                .push(LargeCommunity::new(global, one, two)),
        }
    }
    attributes
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::calc::{Password, PeerSource};
    use crate::model::{AsNumber, BgpFilterSpec, PrefixLength};

    fn peer() -> PeerIntent {
        PeerIntent {
            address: "198.18.0.254".parse().unwrap(),
            port: 1179,
            asn: AsNumber(65000),
            source: PeerSource::Global {
                bgp_peer: "tor".into(),
            },
            peer_node: None,
            password: Some(Password("secret".into())),
            ttl_security: Some(1),
            keep_original_next_hop: true,
            max_restart_time: Some(Duration::from_secs(120)),
            keepalive_time: Some(Duration::from_secs(10)),
            source_address: Some("198.18.0.11".parse().unwrap()),
            route_reflector_client: true,
            passive: true,
            filters: vec![FilterIntent {
                name: "only-pool".into(),
                spec: BgpFilterSpec {
                    export_v4: vec![BgpFilterRule {
                        action: FilterAction::Accept,
                        match_operator: Some(MatchOperator::In),
                        cidr: Some("198.19.0.0/16".parse().unwrap()),
                        prefix_length: Some(PrefixLength {
                            min: Some(24),
                            max: None,
                        }),
                        source: None,
                        interface: None,
                    }],
                    import_v4: vec![BgpFilterRule {
                        action: FilterAction::Reject,
                        match_operator: None,
                        cidr: None,
                        prefix_length: None,
                        source: None,
                        interface: Some("eth*".into()),
                    }],
                    ..BgpFilterSpec::default()
                },
            }],
        }
    }

    #[test]
    fn peer_intent_maps_to_peer_config() {
        let config = peer_config(&peer());
        assert_eq!(config.address, "198.18.0.254".parse::<IpAddr>().unwrap());
        assert_eq!((config.asn, config.port), (65000, 1179));
        assert_eq!(config.local_address, Some("198.18.0.11".parse().unwrap()));
        assert!(config.passive && config.keep_original_next_hop && config.route_reflector_client);
        assert_eq!(config.password.as_deref(), Some("secret"));
        assert_eq!(config.ttl_security, Some(1));
        assert_eq!(config.hold_time, 30);
        assert_eq!(
            config.graceful_restart,
            Some(GracefulRestartConfig {
                restart_time: Duration::from_secs(120)
            })
        );
        let filter = &config.filters[0];
        assert_eq!(filter.name, "only-pool");
        assert_eq!(
            filter.export_v4,
            [Rule::new(Action::Accept)
                .cidr(
                    "198.19.0.0/16".parse().unwrap(),
                    bgp::filter::MatchOperator::In
                )
                .prefix_length(Some(24), None)]
        );
        assert!(filter.import_v4.is_empty(), "interface rules are skipped");
    }

    #[test]
    fn a_session_carries_the_family_of_its_address_only() {
        let v4 = peer_config(&peer());
        assert_eq!(
            v4.families,
            Families {
                ipv4: true,
                ipv6: false
            }
        );
        let mut intent = peer();
        intent.address = "2001:db8:ff::21".parse().unwrap();
        intent.source_address = Some("2001:db8:ff::11".parse().unwrap());
        assert_eq!(
            peer_config(&intent).families,
            Families {
                ipv4: false,
                ipv6: true
            }
        );
    }

    #[test]
    fn defaults_without_keepalive_or_restart_time() {
        let mut intent = peer();
        intent.keepalive_time = None;
        intent.max_restart_time = None;
        let config = peer_config(&intent);
        assert_eq!(
            config.hold_time,
            PeerConfig::new(intent.address, 65000).hold_time
        );
        assert_eq!(config.graceful_restart, None);
    }

    #[test]
    fn communities_go_into_path_attributes() {
        let advertisement = Advertisement {
            prefix: "198.19.1.0/24".parse().unwrap(),
            communities: BTreeSet::from([
                Community::Standard(64512, 100),
                Community::Large(64512, 1, 2),
            ]),
            origins: BTreeSet::new(),
        };
        let attributes = path_attributes(&advertisement);
        assert_eq!(attributes.communities, [BgpCommunity::new(64512, 100)]);
        assert_eq!(
            attributes.large_communities,
            [LargeCommunity::new(64512, 1, 2)]
        );
    }
}
