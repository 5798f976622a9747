//! `tern-speaker`: tern's `bgp::Speaker` as a small daemon for the interop tests.
//!
//! `tern-speaker --config FILE.json --control SOCKET` starts the speaker described by the
//! JSON file (`interop_tests::tern::SpeakerSpec`: AS, router id, listen addresses, next hops,
//! peers, originated routes), then answers newline-delimited JSON requests on the unix socket
//! (`rib`, `peers`, `originate`, `withdraw`, `add_peer`, `update_peer`, `remove_peer`,
//! `shutdown`, `shutdown_for_restart`). Logs go to stderr (`RUST_LOG`, default `info`).
//! SIGTERM, SIGINT or a `shutdown` request stop every session with a Cease NOTIFICATION and
//! exit 0; `shutdown_for_restart` closes them without one (RFC 4724 graceful restart) and
//! exits 0.

mod control;
mod convert;

use std::path::PathBuf;

use anyhow::Context;
use bgp::{Speaker, SpeakerConfig};
use clap::Parser;
use interop_tests::tern::SpeakerSpec;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tracing::info;

/// tern's BGP speaker for interop tests.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// JSON configuration (SpeakerSpec).
    #[arg(long)]
    config: PathBuf,
    /// Unix socket for control requests.
    #[arg(long)]
    control: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("read {}", args.config.display()))?;
    let spec: SpeakerSpec =
        serde_json::from_str(&text).with_context(|| format!("parse {}", args.config.display()))?;
    let mut config = SpeakerConfig::new(spec.asn, spec.router_id);
    config.listen = spec.listen.clone();
    config.ipv4_next_hop = spec.ipv4_next_hop;
    config.ipv6_next_hop = spec.ipv6_next_hop;
    config.cluster_id = spec.cluster_id;
    if let Some(max_paths) = spec.max_paths {
        config.max_paths = max_paths;
    }
    config.restarting = spec.restarting;
    if let Some(deferral) = spec.selection_deferral_ms {
        config.selection_deferral = std::time::Duration::from_millis(deferral);
    }
    let speaker = Speaker::start(config).await.context("start speaker")?;
    info!(asn = spec.asn, router_id = %spec.router_id, listen = ?speaker.listen_addresses(), "speaker started");
    for route in &spec.routes {
        speaker
            .originate(route.prefix, convert::attributes(route))
            .await
            .with_context(|| format!("originate {}", route.prefix))?;
    }
    for peer in &spec.peers {
        let config = convert::peer_config(peer)
            .map_err(|e| anyhow::anyhow!("peer {}: {e}", peer.address))?;
        speaker
            .add_peer(config)
            .await
            .with_context(|| format!("add peer {}", peer.address))?;
    }
    let (shutdown, mut shutdown_requested) = mpsc::channel(1);
    control::serve(&args.control, speaker.clone(), shutdown)?;
    let mut terminate = signal(SignalKind::terminate()).context("SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("SIGINT handler")?;
    tokio::select! {
        _ = terminate.recv() => {
            info!("SIGTERM: shutting down");
            speaker.shutdown().await.context("shutdown")?;
        }
        _ = interrupt.recv() => {
            info!("SIGINT: shutting down");
            speaker.shutdown().await.context("shutdown")?;
        }
        _ = shutdown_requested.recv() => {}
    }
    let _ = std::fs::remove_file(&args.control);
    info!("stopped");
    Ok(())
}
