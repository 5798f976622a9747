//! `Host`: one network namespace with loopback up, its own temp dir for configs and logs, and
//! helpers to run commands and set addresses, routes and sysctls inside it.
//!
//! Dropping a `Host` kills every process still inside the namespace, then deletes it; this also
//! happens while a test panics. On a panic the temp dir is kept and the paths and tails of the
//! logs are printed, so a failed test's evidence is one `cat` away.

use std::ffi::OsStr;
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ipnetwork::IpNetwork;

use crate::cleanup;
use crate::command::{self, COMMAND_TIMEOUT, Output};
use crate::error::{Error, Result};
use crate::logs;
use crate::naming;
use crate::process::{self, Process};

/// A network namespace standing for one machine in a test topology. Clones share the same
/// namespace (peer drivers keep one); it is deleted when the last clone drops.
#[derive(Debug, Clone)]
pub struct Host {
    inner: Arc<HostInner>,
}

#[derive(Debug)]
struct HostInner {
    name: String,
    label: String,
    dir: Option<tempfile::TempDir>,
    interface_counter: AtomicU32,
    logs: Mutex<Vec<PathBuf>>,
}

impl Host {
    /// Creates namespace `tern-<pid>-<n>-<label>` (`ip netns add`), brings `lo` up, disables
    /// IPv6 duplicate address detection (tests must not wait on DAD), and makes a temp dir
    /// readable by other users (FRR's `bgpd` runs as user `frr`). Cleans stale namespaces of
    /// aborted runs first (once per test process).
    pub fn new(label: &str) -> Result<Host> {
        cleanup::ensure_clean_start();
        let name = naming::unique(label);
        let dir = tempfile::Builder::new()
            .prefix(&format!("{name}."))
            .tempdir()
            .map_err(|e| Error::io("create host temp dir", e))?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io("chmod host temp dir", e))?;
        command::ip(&["netns", "add", &name])?;
        let host = Host {
            inner: Arc::new(HostInner {
                name,
                label: label.to_string(),
                dir: Some(dir),
                interface_counter: AtomicU32::new(0),
                logs: Mutex::new(Vec::new()),
            }),
        };
        host.set_link_up("lo")?;
        host.set_sysctl("net.ipv6.conf.all.accept_dad", "0")?;
        host.set_sysctl("net.ipv6.conf.default.accept_dad", "0")?;
        Ok(host)
    }

    /// The namespace name (as in `ip netns list`).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The label given at creation.
    pub fn label(&self) -> &str {
        &self.inner.label
    }

    /// This host's temp dir (mode 0755): configs, sockets and logs of its processes.
    pub fn dir(&self) -> &Path {
        self.inner
            .dir
            .as_ref()
            .map(|dir| dir.path())
            .unwrap_or_else(|| Path::new("/nonexistent"))
    }

    /// Runs `program args` inside the namespace; a non-zero exit is an error with its stderr.
    pub fn exec<S: AsRef<OsStr>>(&self, program: &str, args: &[S]) -> Result<Output> {
        command::run(Some(&self.inner.name), program, args, COMMAND_TIMEOUT)
    }

    /// Like [`Host::exec`] with a custom deadline.
    pub fn exec_timeout<S: AsRef<OsStr>>(
        &self,
        program: &str,
        args: &[S],
        timeout: Duration,
    ) -> Result<Output> {
        command::run(Some(&self.inner.name), program, args, timeout)
    }

    /// Runs a shell command line (`sh -c`) inside the namespace and returns its stdout.
    pub fn run(&self, shell_command: &str) -> Result<String> {
        Ok(self.exec("sh", &["-c", shell_command])?.stdout)
    }

    /// `ip -n NAME ARGS`.
    pub fn ip<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<Output> {
        let mut full: Vec<&OsStr> = vec![OsStr::new("-n"), OsStr::new(&self.inner.name)];
        full.extend(args.iter().map(|arg| arg.as_ref()));
        command::ip(&full)
    }

    /// Adds an address to an interface (`ip addr add A dev IF`, with `nodad` for IPv6).
    pub fn add_address(&self, interface: &str, address: IpNetwork) -> Result<()> {
        let address = address.to_string();
        match address.contains(':') {
            true => self.ip(&["-6", "addr", "add", &address, "dev", interface, "nodad"])?,
            false => self.ip(&["addr", "add", &address, "dev", interface])?,
        };
        Ok(())
    }

    /// Adds a route via a gateway (`ip route add DEST via GW`).
    pub fn add_route(&self, destination: IpNetwork, via: IpAddr) -> Result<()> {
        let family = if destination.is_ipv6() { "-6" } else { "-4" };
        self.ip(&[
            family,
            "route",
            "add",
            &destination.to_string(),
            "via",
            &via.to_string(),
        ])?;
        Ok(())
    }

    /// Adds a directly connected route (`ip route add DEST dev IF`).
    pub fn add_device_route(&self, destination: IpNetwork, interface: &str) -> Result<()> {
        let family = if destination.is_ipv6() { "-6" } else { "-4" };
        self.ip(&[
            family,
            "route",
            "add",
            &destination.to_string(),
            "dev",
            interface,
        ])?;
        Ok(())
    }

    /// Sets a sysctl inside the namespace (`net.*` keys are per namespace).
    pub fn set_sysctl(&self, key: &str, value: &str) -> Result<()> {
        let path = sysctl_path(key);
        self.exec("sh", &["-c", &format!("echo {value} > {path}")])?;
        Ok(())
    }

    /// Reads a sysctl inside the namespace.
    pub fn sysctl(&self, key: &str) -> Result<String> {
        Ok(self
            .exec("cat", &[sysctl_path(key)])?
            .stdout
            .trim()
            .to_string())
    }

    /// Turns on IPv4 and IPv6 forwarding (a router).
    pub fn enable_forwarding(&self) -> Result<()> {
        self.set_sysctl("net.ipv4.ip_forward", "1")?;
        self.set_sysctl("net.ipv6.conf.all.forwarding", "1")
    }

    /// `ip link set IF up`.
    pub fn set_link_up(&self, interface: &str) -> Result<()> {
        self.ip(&["link", "set", interface, "up"])?;
        Ok(())
    }

    /// `ip link set IF down`.
    pub fn set_link_down(&self, interface: &str) -> Result<()> {
        self.ip(&["link", "set", interface, "down"])?;
        Ok(())
    }

    /// Adds a dummy interface (a place for extra "loopback" addresses), up.
    pub fn add_dummy(&self, interface: &str) -> Result<()> {
        self.ip(&["link", "add", interface, "type", "dummy"])?;
        self.set_link_up(interface)
    }

    /// A fresh interface name for this host: `STEM<n>` (kept within 15 chars).
    pub fn next_interface_name(&self, stem: &str) -> String {
        let n = self.inner.interface_counter.fetch_add(1, Ordering::Relaxed);
        let suffix = n.to_string();
        let stem: String = stem.chars().take(15 - suffix.len()).collect();
        format!("{stem}{suffix}")
    }

    /// One ICMP echo with a one-second deadline (`ping -c 1 -W 1 ADDR`).
    pub fn ping(&self, address: IpAddr) -> Result<()> {
        self.exec("ping", &["-n", "-c", "1", "-W", "1", &address.to_string()])?;
        Ok(())
    }

    /// Starts a long-running program inside this host; see [`process::spawn_in`].
    pub fn spawn<S: AsRef<OsStr>>(
        &self,
        label: &str,
        program: &str,
        args: &[S],
    ) -> Result<Process> {
        process::spawn_in(self, label, program, args, &[])
    }

    /// Records a log file so failure reports include it.
    pub fn register_log(&self, path: PathBuf) {
        if let Ok(mut logs) = self.inner.logs.lock()
            && !logs.contains(&path)
        {
            logs.push(path);
        }
    }

    /// Paths of every log registered on this host.
    pub fn log_paths(&self) -> Vec<PathBuf> {
        self.inner
            .logs
            .lock()
            .map(|logs| logs.clone())
            .unwrap_or_default()
    }

    /// The last `lines` lines of each log, with headers naming the files.
    pub fn logs_tail(&self, lines: usize) -> String {
        logs::tails(&self.log_paths(), lines)
    }
}

impl Drop for HostInner {
    fn drop(&mut self) {
        for pid in cleanup::namespace_pids(&self.name) {
            cleanup::kill(pid);
        }
        let mut deleted = false;
        for _ in 0..20 {
            if command::ip(&["netns", "del", &self.name]).is_ok() {
                deleted = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if !deleted {
            eprintln!("tern harness: could not delete netns {}", self.name);
        }
        if std::thread::panicking()
            && let Some(dir) = self.dir.take()
        {
            let kept = dir.keep();
            let _ = std::fs::write(
                kept.join(cleanup::KEPT_MARKER),
                "kept because a test panicked; delete by hand\n",
            );
            let logs = self
                .logs
                .lock()
                .map(|logs| logs.clone())
                .unwrap_or_default();
            eprintln!(
                "tern harness: host {} ({}) kept its files in {}\n{}",
                self.label,
                self.name,
                kept.display(),
                logs::tails(&logs, 40)
            );
        }
    }
}

fn sysctl_path(key: &str) -> String {
    format!("/proc/sys/{}", key.replace('.', "/"))
}
