//! `tern-lab`: the lab behind `scripts/lab.sh` — three nodes running `ternd` on the contract
//! manifests, a top-of-rack BIRD router and an outside client in network namespaces, pods
//! wired by the real CNI plugins. Prints each node's peer table, the router's routes and a
//! reachability matrix; stays up until Ctrl-C, or exits after printing with `--once` (non-zero
//! when a check failed). Removes everything it created on exit. Needs root.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use interop_tests::lab::{self, LabOptions};

/// The tern lab.
#[derive(Debug, Parser)]
#[command(name = "tern-lab", about)]
struct Args {
    /// Print everything once, remove the lab and exit (non-zero if a check failed).
    #[arg(long)]
    once: bool,
    /// The ternd binary (default: `ternd` next to this program).
    #[arg(long)]
    ternd: Option<PathBuf>,
    /// ternctl, to print the peer tables (default: `ternctl` next to this program, if there).
    #[arg(long)]
    ternctl: Option<PathBuf>,
    /// Manifest directories making up the datastore, in order (default: the repository's
    /// deploy/examples and interop-tests/lab/manifests).
    #[arg(long = "manifests")]
    manifests: Vec<PathBuf>,
    /// Where the CNI plugins are.
    #[arg(long, default_value = "/usr/lib/cni")]
    cni_path: PathBuf,
}

fn main() {
    match run(Args::parse()) {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(error) => {
            eprintln!("tern-lab: error: {error:#}");
            std::process::exit(2);
        }
    }
}

fn run(args: Args) -> anyhow::Result<bool> {
    lab::install_interrupt_handler().context("cannot install the Ctrl-C handler")?;
    let here = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(PathBuf::from))
        .unwrap_or_default();
    let ternd = args.ternd.unwrap_or_else(|| here.join("ternd"));
    anyhow::ensure!(
        ternd.is_file(),
        "no ternd at {} (build it: cargo build --release -p tern-agent; or pass --ternd)",
        ternd.display()
    );
    let ternctl = args
        .ternctl
        .or_else(|| Some(here.join("ternctl")).filter(|path| path.is_file()));
    let manifests = match args.manifests.is_empty() {
        true => {
            let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
            vec![
                repo.join("deploy/examples"),
                repo.join("interop-tests/lab/manifests"),
            ]
        }
        false => args.manifests,
    };
    let mut options = LabOptions::new(ternd, manifests);
    options.cni_path = args.cni_path;
    options.verbose = true;
    let passed = lab::run(&options, ternctl.as_deref(), args.once)?;
    Ok(passed)
}
