//! Adding, changing and removing peers; per-peer socket options on the listeners; events
//! from session tasks.

use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::mpsc;
use tracing::warn;

use crate::driver::md5::set_md5_key;
use crate::driver::peer::{self, PeerCommand, PeerEvent, PeerEventEnvelope, PeerTaskConfig};
use crate::driver::socket::ConnectSpec;
use crate::driver::ttl::{TtlPolicy, set_min_ttl};
use crate::fsm::{SessionConfig, State, cease};
use crate::packet::{GracefulRestart, GracefulRestartFamily};
use crate::rib::{AdjRibIn, PeerType};
use crate::speaker::status::SharedCounters;
use crate::speaker::{PeerConfig, SpeakerError};

use super::{Core, CoreTimer, Peer};

impl Core {
    pub(super) fn add_peer(&mut self, config: PeerConfig) -> Result<(), SpeakerError> {
        let address = super::canonical(config.address);
        if self.peers.contains_key(&address) {
            return Err(SpeakerError::PeerExists(address));
        }
        if config.hold_time == 1 || config.hold_time == 2 {
            return Err(SpeakerError::InvalidHoldTime(config.hold_time));
        }
        let mut config = config;
        config.address = address;
        if let Some(password) = &config.password {
            for listener in self.listeners_for(&config) {
                set_md5_key(listener.as_ref(), address, password.as_bytes())?;
            }
        }
        let peer_type = PeerType::between(self.config.asn, config.asn);
        let ttl = TtlPolicy::for_peer(peer_type, config.ttl_security, config.ttl);
        let mut session = SessionConfig::new(self.config.asn, self.config.router_id, config.asn);
        session.hold_time = config.hold_time;
        session.connect_retry = config.connect_retry;
        session.passive = config.passive;
        session.families = config.families.to_vec();
        // RFC 4724 §3: R and F only while we are still in our own restart.
        let restarting = self.deferral.is_some();
        session.graceful_restart = config.graceful_restart.map(|gr| GracefulRestart {
            restarting,
            notification: false,
            restart_time: u16::try_from(gr.restart_time.as_secs())
                .unwrap_or(u16::MAX)
                .min(0x0FFF),
            families: session
                .families
                .iter()
                .map(|&(afi, safi)| GracefulRestartFamily {
                    afi,
                    safi,
                    forwarding_preserved: restarting,
                })
                .collect(),
        });
        let connect = ConnectSpec {
            remote: config.socket_address(),
            local: config.local_address,
            password: config.password.clone(),
            ttl,
        };
        let counters = Arc::new(SharedCounters::default());
        let instance = self.next_instance;
        self.next_instance += 1;
        let (commands, receiver) = mpsc::unbounded_channel();
        let task = peer::spawn(
            PeerTaskConfig {
                instance,
                session,
                connect,
                ttl,
                counters: counters.clone(),
                core: self.events.clone(),
                max_send_queue: config.max_send_queue,
            },
            receiver,
        );
        self.peers.insert(
            address,
            Peer {
                config,
                peer_type,
                instance,
                commands,
                task,
                counters,
                state: State::Idle,
                since: SystemTime::now(),
                last_error: None,
                router_id: None,
                established: None,
                adj_rib_in: AdjRibIn::new(),
                advertised: 0,
                stale_families: Vec::new(),
                max_prefix_warned: false,
                halted: false,
            },
        );
        if let Some(deferral) = &mut self.deferral
            && self
                .peers
                .get(&address)
                .is_some_and(|p| p.config.graceful_restart.is_some())
        {
            deferral.wait_for(address);
        }
        self.update_listener_min_ttl();
        Ok(())
    }

    /// Replace a peer's configuration. Any change restarts its session (NOTIFICATION Cease /
    /// Other Configuration Change, RFC 4486).
    pub(super) fn update_peer(&mut self, config: PeerConfig) -> Result<(), SpeakerError> {
        let address = super::canonical(config.address);
        let Some(existing) = self.peers.get(&address) else {
            return Err(SpeakerError::UnknownPeer(address));
        };
        let mut normalized = config.clone();
        normalized.address = address;
        if existing.config == normalized {
            return Ok(());
        }
        if config.hold_time == 1 || config.hold_time == 2 {
            return Err(SpeakerError::InvalidHoldTime(config.hold_time));
        }
        let mut same_but_filters = existing.config.clone();
        same_but_filters.filters = normalized.filters.clone();
        if same_but_filters == normalized {
            self.change_filters(address, normalized.filters);
            return Ok(());
        }
        self.remove_peer(address, cease::OTHER_CONFIGURATION_CHANGE)?;
        self.add_peer(config)
    }

    pub(super) fn remove_peer(
        &mut self,
        address: std::net::IpAddr,
        cease_subcode: u8,
    ) -> Result<(), SpeakerError> {
        let address = super::canonical(address);
        let Some(mut peer) = self.peers.remove(&address) else {
            return Err(SpeakerError::UnknownPeer(address));
        };
        let _ = peer.commands.send(PeerCommand::Stop { cease_subcode });
        if peer.config.password.is_some() {
            for listener in self.listeners_for(&peer.config) {
                if let Err(error) = set_md5_key(listener.as_ref(), address, &[]) {
                    warn!(%error, "cannot remove TCP-MD5 key");
                }
            }
        }
        for timer in [
            CoreTimer::PeerRestart(address),
            CoreTimer::StaleRoutes(address),
            CoreTimer::MaxPrefixRestart(address),
        ] {
            self.timers.stop(timer);
        }
        let changes = self.forget_routes_of(&mut peer);
        self.propagate(changes);
        self.peer_finished_restart(address);
        self.update_listener_min_ttl();
        Ok(())
    }

    /// Listeners of the peer's address family (IPv6 listeners are IPv6-only).
    fn listeners_for(&self, config: &PeerConfig) -> Vec<Arc<tokio::net::TcpListener>> {
        self.listeners
            .iter()
            .filter(|listener| {
                listener
                    .local_addr()
                    .is_ok_and(|local| local.is_ipv4() == config.address.is_ipv4())
            })
            .cloned()
            .collect()
    }

    /// GTSM on the listeners (RFC 5082 §3): only when every peer of the family uses it, with
    /// the most permissive minimum, so SYNs from farther away are dropped by the kernel.
    fn update_listener_min_ttl(&self) {
        for listener in &self.listeners {
            let Ok(local) = listener.local_addr() else {
                continue;
            };
            let policies: Vec<Option<u8>> = self
                .peers
                .values()
                .filter(|peer| peer.config.address.is_ipv4() == local.is_ipv4())
                .map(|peer| {
                    TtlPolicy::for_peer(peer.peer_type, peer.config.ttl_security, peer.config.ttl)
                        .min_receive
                })
                .collect();
            let min = if !policies.is_empty() && policies.iter().all(Option::is_some) {
                policies.into_iter().flatten().min().unwrap_or(0)
            } else {
                0
            };
            if let Err(error) = set_min_ttl(listener.as_ref(), &local, min) {
                warn!(%local, %error, "cannot set minimum TTL on listener");
            }
        }
    }

    pub(super) fn peer_event(&mut self, envelope: PeerEventEnvelope) {
        let address = envelope.peer;
        let Some(peer) = self.peers.get_mut(&address) else {
            return;
        };
        if peer.instance != envelope.instance {
            return;
        }
        // Only UPDATEs batch; anything else sees every earlier change advertised.
        let batches = matches!(&envelope.event, PeerEvent::Update(update) if update.end_of_rib_family().is_none());
        if !batches && !self.pending.is_empty() {
            self.propagate(Vec::new());
        }
        let Some(peer) = self.peers.get_mut(&address) else {
            return;
        };
        match envelope.event {
            PeerEvent::State(state) => {
                peer.state = state;
                peer.since = SystemTime::now();
            }
            PeerEvent::Established {
                epoch,
                negotiated,
                local,
                remote,
            } => {
                peer.router_id = Some(negotiated.peer_id);
                self.session_up(address, epoch, *negotiated, local, remote);
            }
            PeerEvent::Down {
                reason,
                was_established,
                detail,
            } => {
                // Collision resolution picks one of two connections; the session goes on
                // over the other one. That holds even when the loser had already reached
                // Established on our side (the peer resolved the collision while its end was
                // still in OpenConfirm), so it is never the error users should see.
                if !reason.is_collision_resolution() {
                    peer.last_error = Some(match detail {
                        Some(detail) => format!("{reason}: {detail}"),
                        None => reason.to_string(),
                    });
                }
                if was_established {
                    self.session_down(address, &reason);
                }
            }
            PeerEvent::ConnectFailed(error) => peer.last_error = Some(error),
            PeerEvent::Update(update) => match update.end_of_rib_family() {
                Some(family) => self.end_of_rib_received(address, family),
                None => {
                    let changes = self.import(address, *update);
                    self.pending.extend(changes);
                    self.check_max_prefixes(address);
                }
            },
            PeerEvent::RouteRefresh(refresh) => self.refresh(address, refresh),
            PeerEvent::Written { epoch } => self.continue_table(address, epoch),
        }
    }
}
