//! Tables: one per run, then the medians over runs.

use crate::dut::DutKind;
use crate::run::Outcome;

fn seconds_cell(outcome: &Outcome) -> String {
    match outcome.seconds {
        Some(seconds) => format!("{seconds:.2}"),
        None if outcome.expected == 0 => "failed".to_string(),
        None => format!(
            "incomplete ({}/{} after {:.1})",
            outcome.fewest_held, outcome.expected, outcome.last_change
        ),
    }
}

fn rss_cell(rss: Option<f64>) -> String {
    rss.map(|mib| format!("{mib:.1}"))
        .unwrap_or_else(|| "-".to_string())
}

/// One run's table, with the injector's rate and every DUT process's memory underneath.
pub fn print_run(title: &str, outcomes: &[Outcome]) {
    println!("\n== {title} ==");
    println!(
        "{:<6} | {:>28} | {:>14} | {:>8}",
        "DUT", "time to all clients full (s)", "peak RSS (MiB)", "prefixes"
    );
    println!("{}", "-".repeat(66));
    for outcome in outcomes {
        println!(
            "{:<6} | {:>28} | {:>14} | {:>8}",
            outcome.kind.to_string(),
            seconds_cell(outcome),
            rss_cell(outcome.peak_rss_mib()),
            outcome.expected
        );
    }
    for outcome in outcomes {
        let mut notes = Vec::new();
        if let Some(seconds) = outcome.injector_seconds
            && seconds > 0.0
        {
            notes.push(format!(
                "injector wrote the table in {seconds:.2} s ({:.0} prefixes/s per session)",
                outcome.expected as f64 / seconds
            ));
        }
        if let Some(seconds) = outcome.seconds
            && seconds > 0.0
            && outcome.kind == DutKind::None
        {
            notes.push(format!(
                "harness delivered {:.0} prefixes/s in total to the clients",
                outcome.expected as f64 / seconds * client_count_hint(outcome)
            ));
        }
        for memory in &outcome.memory {
            notes.push(format!(
                "{} peak {:.1} MiB (now {:.1}), CPU {:.1} s",
                memory.command,
                memory.peak_kib as f64 / 1024.0,
                memory.current_kib as f64 / 1024.0,
                memory.cpu_seconds
            ));
        }
        if let Some(cpu) = outcome.bench_cpu_seconds {
            notes.push(format!("bench process (injector + clients) CPU {cpu:.1} s"));
        }
        notes.extend(outcome.errors.iter().map(|e| format!("error: {e}")));
        if !notes.is_empty() {
            println!("  {}: {}", outcome.kind, notes.join("; "));
        }
    }
}

/// Without a DUT there is one injector session per client.
fn client_count_hint(outcome: &Outcome) -> f64 {
    outcome.sessions as f64
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => values.get(n / 2).copied(),
        _ => Some((values.get(n / 2 - 1)? + values.get(n / 2)?) / 2.0),
    }
}

/// Medians per DUT over every run (completed runs only for the time).
pub fn print_medians(kinds: &[DutKind], runs: &[Vec<Outcome>]) {
    println!("\n== medians over {} run(s) ==", runs.len());
    println!(
        "{:<6} | {:>28} | {:>14} | {:>8}",
        "DUT", "time to all clients full (s)", "peak RSS (MiB)", "prefixes"
    );
    println!("{}", "-".repeat(66));
    for kind in kinds {
        let outcomes: Vec<&Outcome> = runs.iter().flatten().filter(|o| o.kind == *kind).collect();
        if outcomes.is_empty() {
            continue;
        }
        let completed = outcomes.iter().filter(|o| o.seconds.is_some()).count();
        // An incomplete run counts as slower than any complete one.
        let time = match median(
            outcomes
                .iter()
                .map(|o| o.seconds.unwrap_or(f64::INFINITY))
                .collect(),
        ) {
            Some(s) if s.is_finite() => format!("{s:.2} ({completed}/{} complete)", outcomes.len()),
            _ => format!("incomplete ({completed}/{} complete)", outcomes.len()),
        };
        let rss = median(outcomes.iter().filter_map(|o| o.peak_rss_mib()).collect());
        let prefixes = outcomes.iter().map(|o| o.expected).max().unwrap_or(0);
        println!(
            "{:<6} | {:>28} | {:>14} | {:>8}",
            kind.to_string(),
            time,
            rss_cell(rss),
            prefixes
        );
    }
}
