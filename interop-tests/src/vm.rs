//! The kernel-IPIP VM (`vm/run.sh`, see `vm/prepare.sh`, `vm/init`, `vm/guest-test.sh`):
//! boots Debian's kernel under qemu TCG with the host's root over 9p and returns the serial
//! console. Nothing touches the host's network: every namespace lives inside the VM.

use std::path::Path;
use std::process::Command;

/// Bound on the whole run, first-time package installs and the kernel download included.
pub const OVERALL_TIMEOUT_SECONDS: &str = "600";

/// Bound on the VM itself (`TERN_VM_TIMEOUT`).
pub const VM_TIMEOUT_SECONDS: &str = "240";

/// What a VM run left.
#[derive(Debug)]
pub struct VmRun {
    /// `run.sh` exited 0 (the console shows `TERN-VM-PASS`).
    pub passed: bool,
    /// `run.sh`'s exit status, printed.
    pub status: String,
    /// The serial console, `\r` removed.
    pub console: String,
    /// `run.sh`'s own messages (timings, console tail on failure).
    pub stderr: String,
}

/// Runs the guest test with `tern_ipip` (`None`: skip that part) and, when given, `ternd`.
pub fn run(tern_ipip: Option<&Path>, ternd: Option<&Path>) -> VmRun {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("vm/run.sh");
    let temp = tempfile::tempdir().expect("temp dir");
    let console = temp.path().join("console.log");
    let mut command = Command::new("timeout");
    command
        .args(["-k", "10", OVERALL_TIMEOUT_SECONDS, "bash"])
        .arg(script)
        .arg(tern_ipip.map_or_else(|| "-".into(), |path| path.as_os_str().to_owned()))
        .arg(&console)
        .env("TERN_VM_TIMEOUT", VM_TIMEOUT_SECONDS);
    if let Some(ternd) = ternd {
        command.env("TERN_VM_TERND", ternd);
    }
    let output = command.output().expect("run vm/run.sh");
    VmRun {
        passed: output.status.success(),
        status: output.status.to_string(),
        console: std::fs::read_to_string(&console)
            .unwrap_or_default()
            .replace('\r', ""),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
