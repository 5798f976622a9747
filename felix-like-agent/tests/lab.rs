//! The README's lab command, end to end: `interop_tests::lab::run` with `--once` semantics
//! (what `tern-lab --once`, and so `scripts/lab.sh --once`, runs) on this build's ternd. Every
//! check must pass: sessions Established, the router holding every pod CIDR, and every cell
//! of the reachability matrix (pod↔pod across nodes, outside client → pods). Needs root.

mod common;

use std::time::Instant;

#[test]
fn lab_once_passes_every_check() {
    let started = Instant::now();
    let passed = interop_tests::lab::run(&common::lab_options(true), None, true)
        .unwrap_or_else(|e| panic!("the lab did not run: {e}"));
    assert!(
        passed,
        "the lab reported failed checks (see its output above)"
    );
    eprintln!("lab --once took {:.1}s", started.elapsed().as_secs_f64());
}
