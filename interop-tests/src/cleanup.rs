//! Removal of what an aborted run left behind: `tern-<pid>-*` namespaces whose creating process
//! is dead (after killing the processes still inside them), and daemons we spawned whose owner
//! is dead (found by the [`OWNER_ENV`] marker in their environment).
//!
//! Nothing else is touched: names without our pid encoding, and namespaces of live test
//! processes, are left alone.

use std::sync::Once;

use crate::command;
use crate::naming::{OWNER_ENV, PREFIX, owner_pid, pid_alive};

/// What a cleanup pass removed.
#[derive(Debug, Default, Clone)]
pub struct CleanupReport {
    /// Namespaces deleted.
    pub namespaces: Vec<String>,
    /// Process ids killed.
    pub processes: Vec<u32>,
    /// Temp dirs removed.
    pub dirs: Vec<std::path::PathBuf>,
}

/// A host dir containing this file was kept on purpose (its test panicked) and is never
/// removed by cleanup.
pub const KEPT_MARKER: &str = "KEPT-FOR-INSPECTION";

static ONCE: Once = Once::new();

/// Runs [`cleanup_stale`] once per test process; every `Host::new` calls this.
pub fn ensure_clean_start() {
    ONCE.call_once(|| {
        let report = cleanup_stale();
        if !report.namespaces.is_empty() || !report.processes.is_empty() {
            eprintln!(
                "tern harness: removed stale namespaces {:?}, processes {:?}, {} dirs",
                report.namespaces,
                report.processes,
                report.dirs.len()
            );
        }
    });
}

/// Kills stale daemons and deletes stale namespaces (see the module docs). Best effort: every
/// step that fails is skipped.
pub fn cleanup_stale() -> CleanupReport {
    let mut report = CleanupReport::default();
    for pid in stale_marked_processes() {
        kill(pid);
        report.processes.push(pid);
    }
    for name in list_namespaces() {
        let Some(owner) = owner_pid(&name) else {
            continue;
        };
        if pid_alive(owner) {
            continue;
        }
        for pid in namespace_pids(&name) {
            kill(pid);
            report.processes.push(pid);
        }
        if command::ip(&["netns", "del", &name]).is_ok() {
            report.namespaces.push(name);
        }
    }
    report.dirs = remove_stale_dirs();
    report
}

/// Removes `<tmp>/tern-<pid>-*` host dirs of dead processes, except kept ones.
fn remove_stale_dirs() -> Vec<std::path::PathBuf> {
    let temp = std::env::temp_dir();
    let Ok(entries) = std::fs::read_dir(&temp) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.filter_map(|entry| entry.ok()) {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Some(owner) = owner_pid(&name) else {
            continue;
        };
        let path = entry.path();
        if pid_alive(owner) || !path.is_dir() || path.join(KEPT_MARKER).exists() {
            continue;
        }
        if std::fs::remove_dir_all(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// Names of all harness-looking namespaces (`tern-*`) currently present.
pub fn list_namespaces() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.starts_with(PREFIX))
        .collect();
    names.sort();
    names
}

/// Process ids inside a named namespace (`ip netns pids NAME`).
pub fn namespace_pids(netns: &str) -> Vec<u32> {
    match command::ip(&["netns", "pids", netns]) {
        Ok(output) => output
            .stdout
            .split_whitespace()
            .filter_map(|pid| pid.parse().ok())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Sends SIGKILL to `pid` (a stopped process dies too).
pub fn kill(pid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: plain syscall on a pid we found; errors (already gone) are ignored.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

fn stale_marked_processes() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let marker = format!("{OWNER_ENV}=");
    let mut stale = Vec::new();
    for entry in entries.filter_map(|entry| entry.ok()) {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        let owner = environ
            .split(|byte| *byte == 0)
            .filter_map(|var| std::str::from_utf8(var).ok())
            .find_map(|var| var.strip_prefix(&marker))
            .and_then(|owner| owner.parse::<u32>().ok());
        if let Some(owner) = owner
            && owner != std::process::id()
            && !pid_alive(owner)
        {
            stale.push(pid);
        }
    }
    stale
}
