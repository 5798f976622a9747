//! NetworkPolicy at cluster scale, whole-system figures (issue 6): a synthetic cluster of
//! 10,000 pods over 10 nodes (1,000 on this node), 1,000 namespaces and 2,000 policies of a
//! realistic mix, compiled for this node and applied with `nft` in a network namespace the
//! bench creates (root needed for the nft rows; the others run anyway).
//!
//! `cargo bench -p policy --bench policy_scale [-- PODS NAMESPACES POLICIES NODES]`
//!
//! Prints one table: full compile, render, full `nft -f` apply, ruleset size, the latency of one
//! pod add/remove (incremental compile + one netlink batch) and of one policy change (full
//! compile + nft script of the difference), and the rules a packet meets at 10 vs 2,000
//! policies. Figures, not pass/fail. `TERN_POLICY_SCRIPT=FILE` also writes the full script there.

#[path = "scale/cluster.rs"]
mod cluster;
#[path = "scale/netns.rs"]
mod netns;

use std::time::{Duration, Instant};

use policy::explain::{Hook, Packet, evaluate};
use policy::{
    ApplyKind, NftCommand, PolicyCompiler, PolicyIr, PolicyProgrammer, compile, render_full,
};

use cluster::{Cluster, Shape};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn percentile(mut samples: Vec<Duration>, fraction: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * fraction).round() as usize;
    samples[index]
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1e3)
}

fn row(what: &str, value: impl std::fmt::Display) {
    println!("| {what:<52} | {value:>28} |");
}

/// Rules in the table: group chain rules (a line per family where sets are involved) and the
/// base chains' rules.
fn rule_count(script: &str) -> usize {
    script
        .lines()
        .map(str::trim)
        .filter(|line| {
            !line.is_empty()
                && !line.starts_with("chain ")
                && !line.starts_with("set ")
                && !line.starts_with("map ")
                && !line.starts_with("table ")
                && !line.starts_with("delete ")
                && !line.starts_with('#')
                && !line.starts_with('}')
                && !line.starts_with("type ")
                && !line.starts_with("comment ")
                && !line.contains(" : jump ")
                && !line.starts_with(|c: char| c.is_ascii_digit())
        })
        .count()
}

/// Rules met by the first packet between two local pods that policies select, the longest over
/// a sample of pod pairs.
fn path_length(ir: &PolicyIr, cluster: &Cluster) -> usize {
    let local = cluster.local_addresses();
    local
        .iter()
        .take(50)
        .zip(local.iter().skip(1))
        .map(|(from, to)| evaluate(ir, Hook::Forward, &Packet::tcp(*from, *to, 80)).rules_evaluated)
        .max()
        .unwrap_or(0)
}

/// One pod change in steps: compile and clone the IR, diff to element operations, the netlink
/// batch alone; then the programmer is brought back in line. "a / b / c" in ms.
fn timed_steps(
    compiler: &mut PolicyCompiler,
    programmer: &mut PolicyProgrammer<NftCommand>,
    runner: &NftCommand,
    change: impl FnOnce(&mut PolicyCompiler),
) -> String {
    let before = compiler.ir().clone();
    let start = Instant::now();
    change(compiler);
    let after = compiler.ir().clone();
    let compile_time = start.elapsed();
    let start = Instant::now();
    let ops = policy::element_ops(&before, &after).expect("element-only");
    let diff_time = start.elapsed();
    let start = Instant::now();
    policy::NftRunner::apply_elements(runner, &ops).expect("netlink");
    let batch_time = start.elapsed();
    programmer.invalidate();
    programmer.apply_full(after).expect("nft -f");
    format!(
        "{} / {} / {}",
        ms(compile_time),
        ms(diff_time),
        ms(batch_time)
    )
}

fn main() {
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let get = |i: usize, default: usize| numbers.get(i).copied().unwrap_or(default);
    let shape = Shape {
        pods: get(0, 10_000),
        namespaces: get(1, 1_000),
        policies: get(2, 2_000),
        nodes: get(3, 10),
    };
    let cluster = Cluster::generate(&shape);
    let input = cluster.input();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "policy_scale: {} pods ({} local), {} namespaces, {} policies, {} nodes; load {}",
        shape.pods,
        cluster.local_addresses().len(),
        shape.namespaces,
        shape.policies,
        shape.nodes,
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("| {:<52} | {:>28} |", "measure", "value");
    println!("|{:-<54}|{:->30}|", "", "");

    let compile_times: Vec<Duration> = (0..3)
        .map(|_| {
            let start = Instant::now();
            let _ = compile(&input);
            start.elapsed()
        })
        .collect();
    let compiled = compile(&input);
    row("full compile (median of 3)", ms(median(compile_times)));
    let start = Instant::now();
    let script = render_full(&compiled.ir);
    row("render full script", ms(start.elapsed()));
    if let Some(path) = std::env::var_os("TERN_POLICY_SCRIPT") {
        std::fs::write(&path, &script).expect("write the script");
    }
    let ir = &compiled.ir;
    let elements: usize = ir.sets.values().map(|s| s.elements.len()).sum();
    row(
        "ruleset: chains / rules",
        format!("{} / {}", ir.chains.len() + 3, rule_count(&script)),
    );
    row(
        "ruleset: sets / set elements / map entries",
        format!(
            "{} / {elements} / {}",
            script
                .lines()
                .filter(|line| line.trim_start().starts_with("set "))
                .count(),
            ir.ingress_map.len() + ir.egress_map.len()
        ),
    );
    row(
        "script size",
        format!(
            "{} KiB, {} lines",
            script.len() / 1024,
            script.lines().count()
        ),
    );
    row("diagnostics", compiled.diagnostics.len());

    let small = Cluster::generate(&Shape {
        policies: 10,
        ..shape
    });
    let small_ir = compile(&small.input()).ir;
    row(
        "rules per packet (local pod -> local pod, max)",
        format!(
            "{} at 10 policies, {} at {}",
            path_length(&small_ir, &small),
            path_length(ir, &cluster),
            shape.policies
        ),
    );

    let Some(_netns) = netns::Netns::create().filter(|netns| netns.enter()) else {
        row("nft rows", "skipped: needs root and nft");
        return;
    };
    let mut programmer = PolicyProgrammer::new(NftCommand::new());
    let full: Vec<Duration> = (0..3)
        .map(|_| {
            let start = Instant::now();
            programmer.apply_full(compiled.ir.clone()).expect("nft -f");
            start.elapsed()
        })
        .collect();
    row("full apply: nft -f (median of 3)", ms(median(full)));

    // Pod churn on this node: incremental compile + one netlink batch, end to end.
    let mut compiler = PolicyCompiler::new(input.clone());
    programmer
        .apply_full(compiler.ir().clone())
        .expect("nft -f");
    let (mut add, mut remove, mut add_compile, mut kinds) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut remove_compile, mut remove_kinds) = (Vec::new(), Vec::new());
    for n in 0..30 {
        let pod = cluster.extra_pod(n, true);
        let start = Instant::now();
        let update = compiler.upsert_pod(pod);
        add_compile.push(start.elapsed());
        let kind = programmer.reconcile_ref(compiler.ir()).expect("add");
        add.push(start.elapsed());
        kinds.push((update, kind));
        let start = Instant::now();
        let update = compiler.remove_pod(&cluster.extra_namespace(n), &cluster.extra_name(n));
        remove_compile.push(start.elapsed());
        let kind = programmer.reconcile_ref(compiler.ir()).expect("remove");
        remove.push(start.elapsed());
        remove_kinds.push((update, kind));
    }
    let incremental = kinds
        .iter()
        .filter(|(u, k)| {
            *u == policy::Update::Incremental && matches!(k, ApplyKind::Incremental { .. })
        })
        .count();
    row(
        "local pod add: compile only (median)",
        ms(median(add_compile)),
    );
    row(
        "local pod add: compile + apply (median / p90)",
        format!("{} / {}", ms(median(add.clone())), ms(percentile(add, 0.9))),
    );
    row(
        "local pod remove: compile + apply (median / p90)",
        format!(
            "{} / {}",
            ms(median(remove.clone())),
            ms(percentile(remove, 0.9))
        ),
    );
    row(
        "  of 30 adds: incremental compile and netlink batch",
        incremental,
    );
    row(
        "local pod remove: compile only (median)",
        ms(median(remove_compile)),
    );
    row(
        "  of 30 removes: incremental compile and netlink",
        remove_kinds
            .iter()
            .filter(|(u, k)| {
                *u == policy::Update::Incremental && matches!(k, ApplyKind::Incremental { .. })
            })
            .count(),
    );
    // Where one local pod add and remove go: compile and IR clone, element diff, the netlink
    // batch alone.
    let runner = NftCommand::new();
    let (add_steps, remove_steps) = (
        timed_steps(&mut compiler, &mut programmer, &runner, |compiler| {
            compiler.upsert_pod(cluster.extra_pod(99, true));
        }),
        timed_steps(&mut compiler, &mut programmer, &runner, |compiler| {
            compiler.remove_pod(&cluster.extra_namespace(99), &cluster.extra_name(99));
        }),
    );
    row("  add breakdown: compile+clone / diff / netlink", add_steps);
    row(
        "  remove breakdown: compile+clone / diff / netlink",
        remove_steps,
    );

    let mut remote = Vec::new();
    for n in 30..50 {
        let start = Instant::now();
        compiler.upsert_pod(cluster.extra_pod(n, false));
        programmer.reconcile_ref(compiler.ir()).expect("remote add");
        remote.push(start.elapsed());
        compiler.remove_pod(&cluster.extra_namespace(n), &cluster.extra_name(n));
        programmer
            .reconcile_ref(compiler.ir())
            .expect("remote remove");
    }
    row(
        "remote pod (peer) add: compile + apply (median)",
        ms(median(remote)),
    );

    // One policy edited: everything compiles again, nft gets a script of the difference.
    let mut changes = Vec::new();
    let mut commands = 0;
    for n in 0..5 {
        let mut edited = compiler.input().clone();
        cluster.edit_policy(&mut edited, n);
        let start = Instant::now();
        compiler.replace(edited);
        let kind = programmer.reconcile_ref(compiler.ir()).expect("policy");
        changes.push(start.elapsed());
        if let ApplyKind::Incremental { commands: c } = kind {
            commands = c;
        }
    }
    row(
        "policy change: compile + nft script (median of 5)",
        ms(median(changes)),
    );
    row("  nft commands in that script", commands);
}
