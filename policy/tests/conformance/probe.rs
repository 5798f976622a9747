//! The probe matrix: every (family, from pod, to pod, port 80/81, TCP/UDP), IPv4 probes from
//! and to the pods' IPv4 addresses and IPv6 probes likewise, run concurrently from
//! threads inside the source pod's namespace, each bounded by a timeout. A TCP probe passes when
//! the server's "ok" arrives (request and reply both went through); a UDP probe when the echo
//! comes back. UDP probes use a fresh source port each, so no conntrack entry of an earlier case
//! can carry a probe of a later one.

use std::fs::File;
use std::io::Read;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use crate::cluster::{Cluster, Family};

/// Next UDP source port (below the kernel's ephemeral range, so never taken by anyone else).
static UDP_SOURCE_PORT: AtomicU16 = AtomicU16::new(12_000);

/// One probe of the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    pub family: Family,
    pub from: usize,
    pub to: usize,
    pub port: u16,
    /// "TCP" or "UDP".
    pub protocol: &'static str,
}

/// The full matrix over the cluster's pods, once per family.
pub fn matrix(pods: usize) -> Vec<Probe> {
    let mut probes = Vec::new();
    for family in Family::BOTH {
        for from in 0..pods {
            for to in 0..pods {
                for port in [80, 81] {
                    for protocol in ["TCP", "UDP"] {
                        probes.push(Probe {
                            family,
                            from,
                            to,
                            port,
                            protocol,
                        });
                    }
                }
            }
        }
    }
    probes
}

fn tcp(target: SocketAddr, timeout: Duration) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&target, timeout) else {
        return false;
    };
    if stream.set_read_timeout(Some(timeout)).is_err() {
        return false;
    }
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    reply == b"ok"
}

fn udp(target: SocketAddr, timeout: Duration) -> bool {
    let port = UDP_SOURCE_PORT.fetch_add(1, Ordering::SeqCst);
    assert!(port < 32_000, "out of UDP source ports");
    let any = if target.is_ipv4() { "0.0.0.0" } else { "::" };
    let Ok(socket) = UdpSocket::bind((any, port)) else {
        return false;
    };
    if socket.set_read_timeout(Some(timeout)).is_err() || socket.send_to(b"hi", target).is_err() {
        return false;
    }
    let mut buffer = [0u8; 8];
    matches!(socket.recv_from(&mut buffer), Ok((2, _)))
}

/// Run `probes` concurrently; `result[i]` tells whether `probes[i]` got through. One thread per
/// source pod enters its namespace; the probe threads it spawns inherit that namespace.
pub fn run(cluster: &Cluster, probes: &[Probe], timeout: Duration) -> Vec<bool> {
    let mut results = vec![false; probes.len()];
    std::thread::scope(|scope| {
        let mut sources = Vec::new();
        for (from, pod) in cluster.pods.iter().enumerate() {
            let mine: Vec<(usize, Probe)> = probes
                .iter()
                .copied()
                .enumerate()
                .filter(|(_, probe)| probe.from == from)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let path = format!("/run/netns/{}", pod.netns.name);
            sources.push(scope.spawn(move || {
                let file = File::open(&path).expect("pod netns");
                let status = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(status, 0, "setns: {}", std::io::Error::last_os_error());
                std::thread::scope(|inner| {
                    let handles: Vec<_> = mine
                        .into_iter()
                        .map(|(index, probe)| {
                            let address = cluster.pods[probe.to].address(probe.family);
                            let target = SocketAddr::new(address, probe.port);
                            inner.spawn(move || {
                                let passed = match probe.protocol {
                                    "TCP" => tcp(target, timeout),
                                    _ => udp(target, timeout),
                                };
                                (index, passed)
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|handle| handle.join().expect("probe thread"))
                        .collect::<Vec<_>>()
                })
            }));
        }
        for source in sources {
            for (index, passed) in source.join().expect("source thread") {
                results[index] = passed;
            }
        }
    });
    results
}
