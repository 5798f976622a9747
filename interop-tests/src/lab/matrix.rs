//! The reachability matrix: one ping per cell, from every pod and from the outside client to
//! every pod on another node. A cell passes when one echo is answered within
//! [`CELL_TIMEOUT`] (retried once a second meanwhile, so a route still settling is waited
//! for, boundedly).

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::netns::Host;

use super::Lab;

/// How long one cell may take.
pub const CELL_TIMEOUT: Duration = Duration::from_secs(6);

/// One source→destination check.
#[derive(Debug, Clone)]
pub struct Cell {
    /// Source name (`pod-node-1`, `client`).
    pub from: String,
    /// Destination pod name.
    pub to: String,
    /// Destination address.
    pub address: Ipv4Addr,
    /// Whether the echo came back.
    pub passed: bool,
}

/// Every cell, in row order.
#[derive(Debug, Clone, Default)]
pub struct Matrix {
    /// Cells (sources: pods then the client; destinations: pods on other nodes).
    pub cells: Vec<Cell>,
    sources: Vec<String>,
    destinations: Vec<String>,
}

impl Matrix {
    /// Pings every cell of the lab. Stops early (cells left failing) when interrupted.
    pub fn measure(lab: &Lab) -> Matrix {
        let mut sources: Vec<(String, Option<&str>, &Host)> = lab
            .pods
            .iter()
            .map(|pod| (pod.name.clone(), Some(pod.node.as_str()), &pod.host))
            .collect();
        sources.push(("client".to_string(), None, &lab.client));
        let mut matrix = Matrix {
            cells: Vec::new(),
            sources: sources.iter().map(|(name, _, _)| name.clone()).collect(),
            destinations: lab.pods.iter().map(|pod| pod.name.clone()).collect(),
        };
        for (from, from_node, host) in &sources {
            for pod in &lab.pods {
                if *from_node == Some(pod.node.as_str()) {
                    continue;
                }
                let passed = lab
                    .wait(
                        &format!("{from} to reach {} ({})", pod.name, pod.address),
                        CELL_TIMEOUT,
                        || Ok(host.ping(IpAddr::V4(pod.address)).ok()),
                    )
                    .is_ok();
                matrix.cells.push(Cell {
                    from: from.clone(),
                    to: pod.name.clone(),
                    address: pod.address,
                    passed,
                });
            }
        }
        matrix
    }

    /// Whether there is at least one cell and every cell passed.
    pub fn all_passed(&self) -> bool {
        !self.cells.is_empty() && self.cells.iter().all(|cell| cell.passed)
    }

    /// Rows are sources, columns destinations: `ok`, `FAIL`, or `-` (same node).
    pub fn render(&self) -> String {
        let width = self
            .sources
            .iter()
            .chain(&self.destinations)
            .map(String::len)
            .max()
            .unwrap_or(4)
            + 2;
        let mut out = String::new();
        let _ = write!(out, "{:<width$}", "from \\ to");
        for destination in &self.destinations {
            let _ = write!(out, "{destination:<width$}");
        }
        out.push('\n');
        for source in &self.sources {
            let _ = write!(out, "{source:<width$}");
            for destination in &self.destinations {
                let mark = self
                    .cells
                    .iter()
                    .find(|c| &c.from == source && &c.to == destination)
                    .map(|c| if c.passed { "ok" } else { "FAIL" })
                    .unwrap_or("-");
                let _ = write!(out, "{mark:<width$}");
            }
            out.push('\n');
        }
        let passed = self.cells.iter().filter(|c| c.passed).count();
        let _ = writeln!(out, "{passed}/{} passed", self.cells.len());
        out
    }
}
