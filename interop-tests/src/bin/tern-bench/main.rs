//! `tern-bench`: tern against BIRD 2, FRR and GoBGP as a route server / route reflector, same
//! run, same harness (issue 3, acceptance points 6 and 7). Needs root; builds its own
//! namespaces in 198.18.0.0/16 and removes them.
//!
//! ```text
//! cargo build --release -p interop-tests --bin tern-speaker --bin tern-bench
//! target/release/tern-bench --dut none,tern,bird,frr,gobgp --runs 3        # point 6
//! target/release/tern-bench --dut tern,bird --scale-clients 1000 --runs 3  # point 7
//! ```
//!
//! Point 6: an injector (tern's codec, not a full speaker) replays one peer's IPv4 table from
//! a RouteViews RIB dump, pre-encoded before the clock starts, into the DUT, which passes it
//! to `--clients` receivers; the time runs from the first UPDATE byte to the moment every
//! client holds every prefix. `--dut none` writes the same stream straight to the clients
//! (no router): the harness's own floor, and the injector's throughput. Point 7:
//! `--scale-clients N` clients each announce one /26 at the same instant; the time runs until
//! every client holds all N-1 others. Each run prints a table; the medians follow. Peak RSS
//! is VmHWM of the DUT's daemon (`bird`, `bgpd` without zebra, `gobgpd`, `tern-speaker`).

mod dut;
mod ends;
mod report;
mod run;
mod sockets;
mod table;
mod wire;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;

use dut::{DutKind, Mode};
use run::{INJECTOR_ADDRESS, INJECTOR_AS, Outcome, Setup};

/// tern vs BIRD, FRR and GoBGP: full-table propagation and many-client convergence.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// DUTs in order (none, tern, bird, frr, gobgp).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "none,tern,bird,frr,gobgp"
    )]
    dut: Vec<DutKind>,
    /// Runs per DUT (medians are reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Clients of the full-table run.
    #[arg(long, default_value_t = 10)]
    clients: usize,
    /// Run the scale test (point 7) with this many clients instead of the full table.
    #[arg(long)]
    scale_clients: Option<usize>,
    /// ebgp (route-server-like: every neighbor its own AS) or rr (iBGP, RR clients).
    #[arg(long, default_value = "ebgp")]
    mode: Mode,
    /// TABLE_DUMP_V2 RIB file (bzip2).
    #[arg(
        long,
        default_value = "/work/shared/data/mrt/routeviews.route-views.jinx.ribs.1401487200.bz2"
    )]
    mrt: PathBuf,
    /// The MRT peer whose table is replayed; `auto`: the one with the most IPv4 routes.
    #[arg(long, default_value = "196.223.14.55")]
    mrt_peer: String,
    /// Replay only the first N prefixes (for profiling runs).
    #[arg(long)]
    limit: Option<usize>,
    /// Bound on each measured phase (seconds).
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// Give up this many seconds after the last change once the senders are done.
    #[arg(long, default_value_t = 20)]
    settle: u64,
    /// The tern-speaker binary (default: next to this binary).
    #[arg(long)]
    tern_speaker: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if std::env::var_os("RUST_LOG").is_none() {
        // SAFETY: no other thread exists yet (the runtime is built below).
        unsafe { std::env::set_var("RUST_LOG", "info") };
    }
    raise_open_files_limit();
    let tern_binary = match &args.tern_speaker {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("binary directory")?
            .join("tern-speaker"),
    };
    if args.dut.contains(&DutKind::Tern) && !tern_binary.exists() {
        anyhow::bail!(
            "{} missing: cargo build --release -p interop-tests --bin tern-speaker",
            tern_binary.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let setup = |kind: DutKind, clients: usize| Setup {
        kind,
        mode: args.mode,
        clients,
        timeout: Duration::from_secs(args.timeout),
        settle: Duration::from_secs(args.settle),
        tern_binary: tern_binary.clone(),
    };
    let mut all: Vec<Vec<Outcome>> = Vec::new();
    match args.scale_clients {
        Some(clients) => {
            interop_tests::raise_neighbor_table_limits(4096, 8192, 16384)?;
            for run in 1..=args.runs {
                let mut outcomes = Vec::new();
                for kind in args.dut.iter().filter(|k| **k != DutKind::None) {
                    outcomes.push(measure(*kind, || {
                        run::scale(&setup(*kind, clients), &runtime)
                    }));
                }
                let title = format!(
                    "run {run}/{}: scale, {clients} clients × one /26, mode {:?}",
                    args.runs, args.mode
                );
                report::print_run(&title, &outcomes);
                all.push(outcomes);
            }
        }
        None => {
            let (chunks, expected) = prepare_table(&args)?;
            for run in 1..=args.runs {
                let mut outcomes = Vec::new();
                for kind in &args.dut {
                    outcomes.push(measure(*kind, || {
                        run::full_table(&setup(*kind, args.clients), &chunks, expected, &runtime)
                    }));
                }
                let title = format!(
                    "run {run}/{}: full table, {} clients, mode {:?}",
                    args.runs, args.clients, args.mode
                );
                report::print_run(&title, &outcomes);
                all.push(outcomes);
            }
        }
    }
    report::print_medians(&args.dut, &all);
    Ok(())
}

/// Runs one measurement; a failed run becomes an outcome carrying its error.
fn measure(kind: DutKind, run: impl FnOnce() -> anyhow::Result<Outcome>) -> Outcome {
    eprintln!("tern-bench: {kind} …");
    match run() {
        Ok(outcome) => outcome,
        Err(error) => Outcome {
            kind,
            seconds: None,
            last_change: 0.0,
            expected: 0,
            sessions: 0,
            fewest_held: 0,
            injector_seconds: None,
            memory: Vec::new(),
            bench_cpu_seconds: None,
            errors: vec![format!("{error:#}")],
        },
    }
}

fn prepare_table(args: &Args) -> anyhow::Result<(Arc<Vec<bytes::Bytes>>, usize)> {
    let begin = Instant::now();
    let peer: IpAddr = match args.mrt_peer.as_str() {
        "auto" => table::fullest_peer(&args.mrt)?,
        text => text.parse().context("--mrt-peer")?,
    };
    let rewrite = table::Rewrite {
        next_hop: INJECTOR_ADDRESS,
        prepend: (args.mode == Mode::Ebgp).then_some(INJECTOR_AS),
        local_pref: (args.mode == Mode::Rr).then_some(100),
        avoid_asns: vec![run::DUT_AS, INJECTOR_AS],
    };
    let mut routes = table::load(&args.mrt, peer, &rewrite)?;
    if let Some(limit) = args.limit {
        let mut left = limit;
        for (_, prefixes) in routes.groups.iter_mut() {
            prefixes.truncate(left);
            left -= prefixes.len();
        }
        routes.groups.retain(|(_, prefixes)| !prefixes.is_empty());
    }
    let encoded = table::encode(&routes.groups)?;
    eprintln!(
        "tern-bench: table of {} (AS{}): {} prefixes in {} attribute sets, {} UPDATEs, {:.1} MiB \
         ({} skipped as AS loops, {} oversized); prepared in {:.1} s",
        routes.peer,
        routes.peer_as,
        encoded.prefixes,
        routes.groups.len(),
        encoded.messages,
        encoded.bytes as f64 / (1024.0 * 1024.0),
        routes.skipped,
        encoded.oversized,
        begin.elapsed().as_secs_f64()
    );
    Ok((Arc::new(encoded.chunks), encoded.prefixes))
}

/// 1,000 sessions need more than the default 1,024 descriptors (the daemons inherit it).
fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain getrlimit/setrlimit on our own process with a valid struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max.min(65536);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
