//! The CNI network configuration for this node: a `.conflist` using the `ptp` plugin with
//! `host-local` IPAM over the node's `spec.podCIDRs` (one range set per address family).
//! Written atomically, and only when its contents change.

use std::io;
use std::path::{Path, PathBuf};

use ipnetwork::IpNetwork;
use serde_json::json;

use crate::snapshot::Snapshot;

/// File name of the configuration; `10-` sorts it before most others.
pub const CONFLIST_NAME: &str = "10-tern.conflist";

/// The CNI network name.
pub const NETWORK_NAME: &str = "tern";

/// The node's pod CIDRs (`spec.podCIDRs`, else `spec.podCIDR`), skipping unparsable ones.
pub fn pod_cidrs(snapshot: &Snapshot, node_name: &str) -> Vec<IpNetwork> {
    let Some(spec) = snapshot.node(node_name).and_then(|node| node.spec.as_ref()) else {
        return Vec::new();
    };
    let texts: Vec<&String> = match &spec.pod_cidrs {
        Some(cidrs) if !cidrs.is_empty() => cidrs.iter().collect(),
        _ => spec.pod_cidr.iter().collect(),
    };
    texts
        .into_iter()
        .filter_map(|text| text.parse().ok())
        .collect()
}

/// The conflist for these pod CIDRs, or `None` when there are none (pods cannot be wired).
pub fn render_conflist(pod_cidrs: &[IpNetwork], mtu: Option<u32>) -> Option<String> {
    if pod_cidrs.is_empty() {
        return None;
    }
    let ranges: Vec<_> = pod_cidrs
        .iter()
        .map(|cidr| json!([{ "subnet": IpNetwork::new(cidr.network(), cidr.prefix()).unwrap_or(*cidr).to_string() }]))
        .collect();
    let mut routes = Vec::new();
    if pod_cidrs.iter().any(IpNetwork::is_ipv4) {
        routes.push(json!({ "dst": "0.0.0.0/0" }));
    }
    if pod_cidrs.iter().any(IpNetwork::is_ipv6) {
        routes.push(json!({ "dst": "::/0" }));
    }
    let mut ptp = json!({
        "type": "ptp",
        "ipam": {
            "type": "host-local",
            "ranges": ranges,
            "routes": routes,
        },
    });
    if let Some(mtu) = mtu {
        ptp["mtu"] = json!(mtu);
    }
    let conflist = json!({
        "cniVersion": "1.0.0",
        "name": NETWORK_NAME,
        "plugins": [ptp],
    });
    serde_json::to_string_pretty(&conflist)
        .ok()
        .map(|text| text + "\n")
}

/// Writes `contents` to `directory/10-tern.conflist` unless it already holds exactly that.
/// Returns whether the file was written.
pub fn write_conflist(directory: &Path, contents: &str) -> io::Result<bool> {
    let path = directory.join(CONFLIST_NAME);
    if std::fs::read_to_string(&path).is_ok_and(|current| current == contents) {
        return Ok(false);
    }
    std::fs::create_dir_all(directory)?;
    let temporary: PathBuf = directory.join(format!(".{CONFLIST_NAME}.tmp"));
    std::fs::write(&temporary, contents)?;
    std::fs::rename(&temporary, &path)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dual_stack_conflist() {
        let cidrs: Vec<IpNetwork> = vec![
            "198.19.1.0/24".parse().unwrap(),
            "2001:db8:42:1::/64".parse().unwrap(),
        ];
        let text = render_conflist(&cidrs, Some(1480)).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["name"], "tern");
        let ptp = &value["plugins"][0];
        assert_eq!(ptp["type"], "ptp");
        assert_eq!(ptp["mtu"], 1480);
        assert_eq!(ptp["ipam"]["type"], "host-local");
        assert_eq!(ptp["ipam"]["ranges"][0][0]["subnet"], "198.19.1.0/24");
        assert_eq!(ptp["ipam"]["ranges"][1][0]["subnet"], "2001:db8:42:1::/64");
        assert_eq!(ptp["ipam"]["routes"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn no_pod_cidrs_no_conflist() {
        assert_eq!(render_conflist(&[], None), None);
    }

    #[test]
    fn writes_only_on_change() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("net.d");
        assert!(write_conflist(&target, "a").unwrap());
        assert!(!write_conflist(&target, "a").unwrap());
        assert!(write_conflist(&target, "b").unwrap());
        assert_eq!(
            std::fs::read_to_string(target.join(CONFLIST_NAME)).unwrap(),
            "b"
        );
        assert_eq!(
            std::fs::read_dir(&target).unwrap().count(),
            1,
            "no temporary left"
        );
    }
}
