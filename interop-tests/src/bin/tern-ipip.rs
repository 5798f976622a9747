//! `tern-ipip`: tern's IPIP tunnel (`ipip::Tunnel`) as a small daemon for the netns tests.
//!
//! `tern-ipip --local 198.18.0.1 --tunnel-address 198.19.1.1 --peer 198.19.2.0/24=198.18.0.2
//! [--device tunl0] [--underlay-mtu N] [--mode auto|kernel|userspace]` opens the tunnel in the
//! current network namespace (run it with `ip netns exec` or the harness's `spawn_in`), prints
//! `READY mode=… device=…` on stdout, and runs until SIGTERM/SIGINT, then prints the packet
//! counters and exits 0. Logs go to stderr (`RUST_LOG`, default `info`).

use std::net::Ipv4Addr;

use anyhow::{Context, anyhow};
use clap::Parser;
use ipip::{Mode, Peer, Tunnel, TunnelConfig};
use ipnetwork::Ipv4Network;
use tokio::signal::unix::{SignalKind, signal};

/// tern's IPIP tunnel for netns tests.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// This node's underlay address (outer source).
    #[arg(long)]
    local: Ipv4Addr,
    /// `/32` tunnel address put on the device.
    #[arg(long)]
    tunnel_address: Option<Ipv4Addr>,
    /// `PREFIX=REMOTE`: inner prefix behind a remote node (repeatable).
    #[arg(long = "peer", value_parser = parse_peer)]
    peers: Vec<Peer>,
    /// Device name.
    #[arg(long, default_value = ipip::DEFAULT_DEVICE)]
    device: String,
    /// Underlay MTU (default: the MTU of the interface holding --local).
    #[arg(long)]
    underlay_mtu: Option<u32>,
    /// `auto` (kernel if available), `kernel` or `userspace`.
    #[arg(long, default_value = "auto")]
    mode: String,
}

fn parse_peer(text: &str) -> Result<Peer, String> {
    let (prefix, remote) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: expected PREFIX=REMOTE"))?;
    let prefix: Ipv4Network = prefix.parse().map_err(|e| format!("{prefix}: {e}"))?;
    let remote: Ipv4Addr = remote.parse().map_err(|e| format!("{remote}: {e}"))?;
    Ok(Peer::new(prefix, remote))
}

#[tokio::main(flavor = "current_thread")]
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
    let mut config = TunnelConfig::new(args.local);
    config.device = args.device;
    config.tunnel_address = args.tunnel_address;
    config.underlay_mtu = args.underlay_mtu;
    config.peers = args.peers;
    config.force_mode = match args.mode.as_str() {
        "auto" => None,
        "kernel" => Some(Mode::Kernel),
        "userspace" => Some(Mode::Userspace),
        other => {
            return Err(anyhow!(
                "--mode {other}: expected auto, kernel or userspace"
            ));
        }
    };
    let mut terminate = signal(SignalKind::terminate()).context("SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("SIGINT handler")?;
    let tunnel = Tunnel::open(&config).await.context("open IPIP tunnel")?;
    println!("READY mode={:?} device={}", tunnel.mode(), tunnel.device());
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    if let Some(stats) = tunnel.stats() {
        println!("STATS {stats:?}");
    }
    tunnel.shutdown().await;
    Ok(())
}
