//! One measured run: topology, DUT, ends, clock, memory, teardown.
//!
//! Topology: the DUT's host and a "load" host joined by one veth in 198.18.0.0/16. The DUT
//! is 198.18.0.1, the injector 198.18.0.2, the full-table clients 198.18.0.11.. and the scale
//! clients 198.18.4.1.. (all addresses of the load host's veth end, so every neighbor is
//! directly connected: plain eBGP needs no multihop). Everything is torn down when the run's
//! hosts drop, also on error.
//!
//! - [`full_table`]: all clients Established, then the injector connects; the clock runs from
//!   its first UPDATE byte until every client holds every prefix.
//! - [`scale`]: every client Established, then all announce one /26 at once; the clock runs
//!   until every client holds every other client's prefix.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bgp::packet::{AsPath, CodecContext, Message, Origin, PathAttributes, Update};
use bytes::Bytes;
use interop_tests::{Host, Veth};
use ipnetwork::Ipv4Network;
use tokio::runtime::Runtime;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::dut::{self, DutKind, Memory, Mode, Plan};
use crate::ends::{Announcement, Progress, spawn_client, spawn_injector};
use crate::sockets;
use crate::wire::{Session, handshake, prefix_key};

/// The DUT's address.
pub const DUT_ADDRESS: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
/// The injector's address.
pub const INJECTOR_ADDRESS: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
/// The DUT's AS (and everyone's in RR mode): 4-octet private, absent from real tables.
pub const DUT_AS: u32 = 4_200_000_000;
/// The injector's AS in eBGP mode.
pub const INJECTOR_AS: u32 = 4_200_000_001;
/// Client `i`'s AS in eBGP mode is this plus `i`.
pub const CLIENT_AS_BASE: u32 = 4_200_001_000;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(10);

/// What a run is asked to do.
#[derive(Debug, Clone)]
pub struct Setup {
    pub kind: DutKind,
    pub mode: Mode,
    /// Number of clients.
    pub clients: usize,
    /// Bound on the whole measured phase.
    pub timeout: Duration,
    /// Give up this long after the last change once the senders are done.
    pub settle: Duration,
    pub tern_binary: PathBuf,
}

impl Setup {
    fn asn(&self, ebgp_asn: u32) -> u32 {
        match self.mode {
            Mode::Ebgp => ebgp_asn,
            Mode::Rr => DUT_AS,
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub kind: DutKind,
    /// Seconds from the clock's start until every client was full; `None` if some never were.
    pub seconds: Option<f64>,
    /// Seconds until the last observed change (the answer when incomplete).
    pub last_change: f64,
    /// Prefixes each client expects.
    pub expected: usize,
    /// Client sessions.
    pub sessions: usize,
    /// The fewest prefixes any client held at the end.
    pub fewest_held: usize,
    /// Injector: seconds from first to last UPDATE byte written (full-table runs).
    pub injector_seconds: Option<f64>,
    /// The DUT host's processes, biggest peak first.
    pub memory: Vec<Memory>,
    /// CPU seconds the bench process (injector and clients) used during the measured phase.
    pub bench_cpu_seconds: Option<f64>,
    /// Errors reported by our ends.
    pub errors: Vec<String>,
}

impl Outcome {
    /// Peak RSS of the DUT's main process, MiB.
    pub fn peak_rss_mib(&self) -> Option<f64> {
        let name = dut::main_process(self.kind);
        self.memory
            .iter()
            .find(|m| !name.is_empty() && m.command.starts_with(name))
            .map(|m| m.peak_kib as f64 / 1024.0)
    }
}

fn client_address(index: usize) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, 0, 11 + index as u8)
}

fn scale_client_address(index: usize) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 4, 1)) + index as u32)
}

/// Hosts and link for a run; `extra` addresses go on the load host's end.
fn topology(extra: &[Ipv4Addr]) -> anyhow::Result<(Host, Host)> {
    let dut_host = Host::new("bench-dut")?;
    let load = Host::new("bench-load")?;
    let veth = Veth::with_addresses(
        &dut_host,
        &["198.18.0.1/16".parse()?],
        &load,
        &["198.18.0.2/16".parse()?],
    )?;
    let batch = load.dir().join("addresses.batch");
    let lines: String = extra
        .iter()
        .map(|a| format!("addr add {a}/16 dev {}\n", veth.b_interface))
        .collect();
    std::fs::write(&batch, lines)?;
    interop_tests::command::ip(&["-n", load.name(), "-batch", &batch.to_string_lossy()])?;
    Ok((dut_host, load))
}

async fn connect_session(
    load: &str,
    local: Ipv4Addr,
    asn: u32,
    timeout: Duration,
) -> anyhow::Result<Session> {
    let deadline = tokio::time::Instant::now() + timeout;
    let remote = SocketAddr::new(IpAddr::V4(DUT_ADDRESS), 179);
    let source = SocketAddr::new(IpAddr::V4(local), 0);
    loop {
        let stream = sockets::connect(load, source, remote, timeout).await?;
        match handshake(stream, asn, local, HANDSHAKE_TIMEOUT).await {
            Ok(session) => return Ok(session),
            Err(error) if tokio::time::Instant::now() >= deadline => {
                return Err(error.context(format!("session {local} → {DUT_ADDRESS}")));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

/// Establishes sessions from `locals` (address, AS) to the DUT, all at once.
async fn connect_all(
    load: &str,
    locals: &[(Ipv4Addr, u32)],
    timeout: Duration,
) -> anyhow::Result<Vec<Session>> {
    let mut set = JoinSet::new();
    for (index, (address, asn)) in locals.iter().copied().enumerate() {
        let load = load.to_string();
        set.spawn(async move { (index, connect_session(&load, address, asn, timeout).await) });
    }
    let mut sessions: Vec<Option<Session>> = (0..locals.len()).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        let (index, session) = joined?;
        if let Some(slot) = sessions.get_mut(index) {
            *slot = Some(session?);
        }
    }
    Ok(sessions.into_iter().flatten().collect())
}

/// Polls until every client is done, an end fails, the run times out, or nothing changed
/// for `settle` after `senders_done` turned true. Returns (all done, last change).
async fn watch_clients(
    clients: &[Arc<Progress>],
    senders: &[Arc<Progress>],
    setup: &Setup,
    started: Instant,
) -> (bool, Instant) {
    let mut last_total = 0;
    let mut last_change = started;
    loop {
        let total: usize = clients
            .iter()
            .map(|c| c.count.load(Ordering::Relaxed))
            .sum();
        if total != last_total {
            last_total = total;
            last_change = Instant::now();
        }
        if clients.iter().all(|c| c.done_at.get().is_some()) {
            return (true, last_change);
        }
        let failed = clients.iter().chain(senders).any(|p| p.error().is_some());
        let senders_done = senders.iter().all(|s| s.done_at.get().is_some());
        if failed
            || started.elapsed() > setup.timeout
            || (senders_done && last_change.elapsed() > setup.settle)
        {
            return (false, last_change);
        }
        tokio::time::sleep(POLL).await;
    }
}

fn finish(
    setup: &Setup,
    dut_host: &Host,
    clients: &[Arc<Progress>],
    senders: &[Arc<Progress>],
    started: Instant,
    (all_done, last_change): (bool, Instant),
    expected: usize,
) -> Outcome {
    let seconds = all_done.then(|| {
        clients
            .iter()
            .filter_map(|c| c.done_at.get())
            .max()
            .map(|done| done.duration_since(started).as_secs_f64())
            .unwrap_or(0.0)
    });
    let injector_seconds = senders
        .iter()
        .filter_map(|s| Some(s.done_at.get()?.duration_since(*s.started_at.get()?)))
        .max()
        .map(|d| d.as_secs_f64());
    Outcome {
        kind: setup.kind,
        seconds,
        last_change: last_change.saturating_duration_since(started).as_secs_f64(),
        expected,
        sessions: clients.len(),
        fewest_held: clients
            .iter()
            .map(|c| c.count.load(Ordering::Relaxed))
            .min()
            .unwrap_or(0),
        injector_seconds,
        memory: dut::memory(dut_host),
        bench_cpu_seconds: None,
        errors: clients
            .iter()
            .chain(senders)
            .filter_map(|p| p.error())
            .collect(),
    }
}

fn abort_all(tasks: &[JoinHandle<()>]) {
    for task in tasks {
        task.abort();
    }
}

/// Point 6: the full table from the injector to `setup.clients` clients through the DUT.
pub fn full_table(
    setup: &Setup,
    chunks: &Arc<Vec<Bytes>>,
    expected: usize,
    runtime: &Runtime,
) -> anyhow::Result<Outcome> {
    let addresses: Vec<Ipv4Addr> = (0..setup.clients).map(client_address).collect();
    let (dut_host, load) = topology(&addresses)?;
    let client_ends: Vec<(Ipv4Addr, u32)> = addresses
        .iter()
        .enumerate()
        .map(|(i, a)| (*a, setup.asn(CLIENT_AS_BASE + i as u32)))
        .collect();
    let injector_as = setup.asn(INJECTOR_AS);
    let mut neighbors = vec![(INJECTOR_ADDRESS, injector_as)];
    neighbors.extend(client_ends.iter().copied());
    let plan = Plan {
        mode: setup.mode,
        address: DUT_ADDRESS,
        asn: DUT_AS,
        neighbors,
    };
    let running = dut::start(setup.kind, &dut_host, &plan, &setup.tern_binary)?;
    runtime.block_on(async {
        let (start, start_signal) = watch::channel(false);
        let mut tasks = Vec::new();
        let mut clients = Vec::new();
        let mut senders = Vec::new();
        let (client_sessions, injector_sessions) = match setup.kind {
            DutKind::None => direct_sessions(&dut_host, &load, &client_ends, injector_as).await?,
            _ => {
                let clients = connect_all(load.name(), &client_ends, setup.timeout).await?;
                let injector = connect_all(
                    load.name(),
                    &[(INJECTOR_ADDRESS, injector_as)],
                    HANDSHAKE_TIMEOUT,
                )
                .await?;
                (clients, injector)
            }
        };
        for session in client_sessions {
            let progress = Arc::new(Progress::default());
            tasks.push(spawn_client(session, expected, None, progress.clone()));
            clients.push(progress);
        }
        for session in injector_sessions {
            let progress = Arc::new(Progress::default());
            let signal = start_signal.clone();
            tasks.push(spawn_injector(
                session,
                chunks.clone(),
                signal,
                progress.clone(),
            ));
            senders.push(progress);
        }
        // Let the DUT finish its side of the handshakes (its first KEEPALIVE, End-of-RIB).
        tokio::time::sleep(Duration::from_secs(1)).await;
        let started = Instant::now();
        let cpu_before = dut::cpu_seconds(std::process::id());
        start.send(true).context("start the injector")?;
        let watched = watch_clients(&clients, &senders, setup, started).await;
        // The injector's own clock starts with its first write; prefer it.
        let started = senders
            .iter()
            .filter_map(|s| s.started_at.get().copied())
            .min()
            .unwrap_or(started);
        let mut outcome = finish(
            setup, &dut_host, &clients, &senders, started, watched, expected,
        );
        abort_all(&tasks);
        outcome.bench_cpu_seconds = cpu_before
            .zip(dut::cpu_seconds(std::process::id()))
            .map(|(before, after)| after - before);
        if outcome.seconds.is_none() {
            eprintln!(
                "tern-bench: {} did not complete; its logs:\n{}",
                setup.kind,
                running.logs()
            );
        }
        Ok(outcome)
    })
}

/// Without a DUT: the clients listen on the DUT's address and the injector opens one session
/// to each, so the same stream is written to every client at once.
async fn direct_sessions(
    dut_host: &Host,
    load: &Host,
    client_ends: &[(Ipv4Addr, u32)],
    injector_as: u32,
) -> anyhow::Result<(Vec<Session>, Vec<Session>)> {
    let listener = sockets::listener(
        dut_host.name(),
        SocketAddr::new(IpAddr::V4(DUT_ADDRESS), 179),
    )?;
    let ends = client_ends.to_vec();
    let accepting = tokio::spawn(async move {
        let mut sessions = Vec::new();
        for (_, asn) in ends {
            let (stream, _) = listener.accept().await?;
            sessions.push(handshake(stream, asn, DUT_ADDRESS, HANDSHAKE_TIMEOUT).await?);
        }
        Ok::<_, anyhow::Error>(sessions)
    });
    let mut injectors = Vec::new();
    for _ in client_ends {
        let source = SocketAddr::new(IpAddr::V4(INJECTOR_ADDRESS), 0);
        let remote = SocketAddr::new(IpAddr::V4(DUT_ADDRESS), 179);
        let stream = sockets::connect(load.name(), source, remote, HANDSHAKE_TIMEOUT).await?;
        injectors.push(handshake(stream, injector_as, INJECTOR_ADDRESS, HANDSHAKE_TIMEOUT).await?);
    }
    let clients = accepting.await??;
    Ok((clients, injectors))
}

/// The /26 client `index` announces (inside 198.19.0.0/16).
fn scale_prefix(index: usize) -> anyhow::Result<Ipv4Network> {
    let base = u32::from(Ipv4Addr::new(198, 19, 0, 0)) + (index as u32) * 64;
    Ok(Ipv4Network::new(Ipv4Addr::from(base), 26)?)
}

fn scale_update(
    address: Ipv4Addr,
    asn: u32,
    prefix: Ipv4Network,
    mode: Mode,
) -> anyhow::Result<Bytes> {
    let (as_path, local_pref) = match mode {
        Mode::Ebgp => (AsPath::from_sequence(vec![asn]), None),
        Mode::Rr => (AsPath::default(), Some(100)),
    };
    let update = Update {
        attributes: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(as_path),
            next_hop: Some(address),
            local_pref,
            ..PathAttributes::default()
        },
        nlri: vec![prefix],
        ..Update::default()
    };
    Ok(Message::Update(update).to_bytes(&CodecContext::default())?)
}

/// Point 7: `setup.clients` clients each announce one /26; every one must learn all others.
pub fn scale(setup: &Setup, runtime: &Runtime) -> anyhow::Result<Outcome> {
    if setup.kind == DutKind::None {
        bail!("the scale run needs a DUT");
    }
    let addresses: Vec<Ipv4Addr> = (0..setup.clients).map(scale_client_address).collect();
    let (dut_host, load) = topology(&addresses)?;
    let ends: Vec<(Ipv4Addr, u32)> = addresses
        .iter()
        .enumerate()
        .map(|(i, a)| (*a, setup.asn(CLIENT_AS_BASE + i as u32)))
        .collect();
    let plan = Plan {
        mode: setup.mode,
        address: DUT_ADDRESS,
        asn: DUT_AS,
        neighbors: ends.clone(),
    };
    let running = dut::start(setup.kind, &dut_host, &plan, &setup.tern_binary)?;
    let expected = setup.clients.saturating_sub(1);
    runtime.block_on(async {
        let sessions = connect_all(load.name(), &ends, setup.timeout).await?;
        let (start, start_signal) = watch::channel(false);
        let mut tasks = Vec::new();
        let mut clients = Vec::new();
        for (index, session) in sessions.into_iter().enumerate() {
            let (address, asn) = ends.get(index).copied().context("client index")?;
            let prefix = scale_prefix(index)?;
            let announcement = Announcement {
                update: scale_update(address, asn, prefix, setup.mode)?,
                own: prefix_key(prefix.network(), prefix.prefix()),
                start: start_signal.clone(),
            };
            let progress = Arc::new(Progress::default());
            tasks.push(spawn_client(
                session,
                expected,
                Some(announcement),
                progress.clone(),
            ));
            clients.push(progress);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let started = Instant::now();
        let cpu_before = dut::cpu_seconds(std::process::id());
        start.send(true).context("start the clients")?;
        let watched = watch_clients(&clients, &[], setup, started).await;
        let mut outcome = finish(setup, &dut_host, &clients, &[], started, watched, expected);
        abort_all(&tasks);
        outcome.bench_cpu_seconds = cpu_before
            .zip(dut::cpu_seconds(std::process::id()))
            .map(|(before, after)| after - before);
        if outcome.seconds.is_none() {
            eprintln!(
                "tern-bench: {} did not complete; its logs:\n{}",
                setup.kind,
                running.logs()
            );
        }
        Ok(outcome)
    })
}
