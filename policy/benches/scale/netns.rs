//! A network namespace for the bench's nft rows, `tern-bench-<pid>`, deleted on drop.

use std::process::Command;

pub struct Netns {
    name: String,
}

impl Netns {
    /// `None` without root or without `ip`/`nft`.
    pub fn create() -> Option<Netns> {
        if unsafe { libc::geteuid() } != 0 {
            return None;
        }
        let name = format!("tern-bench-{}", std::process::id());
        let created = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .ok()?;
        if !created.success() {
            return None;
        }
        let netns = Netns { name };
        let nft = Command::new("ip")
            .args(["netns", "exec", &netns.name, "nft", "list", "ruleset"])
            .output()
            .ok()?;
        nft.status.success().then_some(netns)
    }

    /// Move the calling thread into the namespace, as ternd runs in its node's namespace:
    /// `nft` children and netlink sockets of this thread then act there directly.
    pub fn enter(&self) -> bool {
        use std::os::fd::AsRawFd;
        let Ok(file) = std::fs::File::open(format!("/run/netns/{}", self.name)) else {
            return false;
        };
        unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) == 0 }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}
