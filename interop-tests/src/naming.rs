//! Unique names for namespaces and their temp dirs: `tern-<pid>-<counter>-<label>`.
//!
//! The creating process id is part of every name so a later run can tell a stale namespace (its
//! creator is dead) from one that belongs to a test running right now in another process.

use std::sync::atomic::{AtomicU32, Ordering};

/// Every namespace, temp dir and marker the harness makes starts with this.
pub const PREFIX: &str = "tern-";

/// Environment variable set on every process the harness spawns; its value is the pid of the
/// test process that owns it, so stale daemons can be found after an aborted run.
pub const OWNER_ENV: &str = "TERN_HARNESS_OWNER";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh name `tern-<pid>-<n>-<label>`; the label is reduced to `[a-z0-9-]`, at most 16 chars.
pub fn unique(label: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let label: String = label
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(16)
        .collect();
    format!("{PREFIX}{}-{n}-{label}", std::process::id())
}

/// The creator pid encoded in a harness name, if the name is one of ours.
pub fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?;
    let (pid, rest) = rest.split_once('-')?;
    let (counter, _label) = rest.split_once('-')?;
    counter.parse::<u32>().ok()?;
    pid.parse().ok()
}

/// Whether a process with this pid exists.
pub fn pid_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_encode_the_owner_pid() {
        let a = unique("Bird 1");
        let b = unique("bird 1");
        assert_ne!(a, b);
        assert!(a.ends_with("-bird-1"));
        assert_eq!(owner_pid(&a), Some(std::process::id()));
    }

    #[test]
    fn foreign_names_have_no_owner() {
        assert_eq!(owner_pid("tern-probe-a"), None);
        assert_eq!(owner_pid("calico-1-2"), None);
        assert_eq!(owner_pid("tern-12-x"), None);
        assert_eq!(owner_pid("tern-12-3-x"), Some(12));
    }
}
