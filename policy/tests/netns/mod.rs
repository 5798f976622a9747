//! Network namespaces for root tests: uniquely named `tern-pol-<pid>-<n>`, deleted on drop
//! (also on panic), stale ones from killed runs removed first. Nothing here touches the root
//! namespace's addresses, routes or nftables.

#![allow(dead_code)]

use std::fs::File;
use std::io::Write;
use std::net::{TcpListener, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::thread::JoinHandle;
use std::time::Duration;

const PREFIX: &str = "tern-pol-";
static COUNTER: AtomicUsize = AtomicUsize::new(0);
static CLEANUP: Once = Once::new();

/// Remove `tern-pol-<pid>-*` namespaces whose process is gone.
fn remove_stale() {
    let Ok(output) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let Some(pid) = rest.split('-').next() else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

fn check(output: Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A network namespace owned by this test.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new() -> Netns {
        assert_eq!(unsafe { libc::geteuid() }, 0, "netns tests need root");
        CLEANUP.call_once(remove_stale);
        let name = format!(
            "{PREFIX}{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        check(
            Command::new("ip")
                .args(["netns", "add", &name])
                .output()
                .unwrap(),
            "ip netns add",
        );
        let netns = Netns { name };
        netns.run(&["ip", "link", "set", "lo", "up"]);
        netns
    }

    /// `ip netns exec NAME args…`, output whatever the status.
    pub fn exec(&self, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(args)
            .output()
            .unwrap()
    }

    /// `ip netns exec NAME args…`, which must succeed; its stdout.
    pub fn run(&self, args: &[&str]) -> String {
        check(self.exec(args), &args.join(" "))
    }

    /// Run `work` on a thread that entered this namespace: sockets it creates live here.
    pub fn enter<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let file = File::open(path).unwrap();
            let status = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(status, 0, "setns: {}", std::io::Error::last_os_error());
            work()
        })
        .join()
        .unwrap()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Serve "ok" to every TCP connection until `stop` (the listener may live in any namespace).
pub fn tcp_server(listener: TcpListener, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    let _ = stream.set_nonblocking(false);
                    let _ = stream.write_all(b"ok");
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    })
}

/// Answer "ok" to every UDP datagram until `stop`.
pub fn udp_server(socket: UdpSocket, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 64];
        while !stop.load(Ordering::SeqCst) {
            if let Ok((_, peer)) = socket.recv_from(&mut buffer) {
                let _ = socket.send_to(b"ok", peer);
            }
        }
    })
}
