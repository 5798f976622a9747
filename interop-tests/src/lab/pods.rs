//! Pods wired by the real CNI plugins (`containernetworking-plugins`), from the conflist
//! ternd writes: each pod is a network namespace, and the conflist's plugin (`ptp` with
//! `host-local` IPAM) runs inside the node's namespace exactly as a container runtime would
//! run it (`CNI_COMMAND=ADD`, the network configuration on stdin).
//!
//! One change is made to the configuration on its way to the plugin: `ipam.dataDir` points
//! into the node's temp dir, so the three lab nodes (one file system) keep separate IPAM
//! state and nothing is left under `/var/lib/cni`.

use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::command;
use crate::error::{Error, Result};
use crate::netns::Host;
use crate::wait::wait_until;

/// Name of the conflist ternd writes (`tern_agent::cni::CONFLIST_NAME`).
pub const CONFLIST_NAME: &str = "10-tern.conflist";

/// How long a plugin may run.
const PLUGIN_TIMEOUT: Duration = Duration::from_secs(20);

/// A pod: its namespace and the address the plugin gave it.
#[derive(Debug)]
pub struct Pod {
    /// Pod name (`pod-<node>`).
    pub name: String,
    /// The node it runs on.
    pub node: String,
    /// The pod's network namespace.
    pub host: Host,
    /// Its IPv4 address.
    pub address: Ipv4Addr,
}

/// Waits (up to `timeout`) for ternd's conflist in `conf_dir` and returns its text.
pub fn wait_for_conflist(conf_dir: &Path, timeout: Duration) -> Result<String> {
    let path = conf_dir.join(CONFLIST_NAME);
    wait_until(
        &format!("ternd to write {}", path.display()),
        timeout,
        || match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(error) => Err(error.to_string()),
        },
    )
}

/// Creates a pod on `node` with the conflist in `conf_dir`, using the plugins in `cni_path`.
pub fn add_pod(
    node_name: &str,
    node: &Host,
    conf_dir: &Path,
    cni_path: &Path,
    timeout: Duration,
) -> Result<Pod> {
    let conflist = wait_for_conflist(conf_dir, timeout)?;
    let name = format!("pod-{node_name}");
    let host = Host::new(&name)?;
    let config = plugin_config(&conflist, &node.dir().join("cni-ipam"))?;
    let plugin = config["type"].as_str().unwrap_or_default().to_string();
    let result = run_plugin(node, &cni_path.join(&plugin), &host, cni_path, &config)?;
    let address = first_ipv4(&result)?;
    Ok(Pod {
        name,
        node: node_name.to_string(),
        host,
        address,
    })
}

/// The single-plugin network configuration for the first plugin of a conflist.
fn plugin_config(conflist: &str, ipam_dir: &Path) -> Result<Value> {
    let list: Value = serde_json::from_str(conflist)
        .map_err(|e| Error::parse("CNI conflist", e.to_string(), conflist))?;
    let mut plugin = list["plugins"]
        .get(0)
        .cloned()
        .ok_or_else(|| Error::parse("CNI conflist", "no plugins", conflist))?;
    plugin["cniVersion"] = list["cniVersion"].clone();
    plugin["name"] = list["name"].clone();
    if plugin["ipam"].is_object() {
        plugin["ipam"]["dataDir"] = Value::String(ipam_dir.to_string_lossy().to_string());
    }
    Ok(plugin)
}

fn run_plugin(
    node: &Host,
    plugin: &PathBuf,
    pod: &Host,
    cni_path: &Path,
    config: &Value,
) -> Result<Value> {
    let what = format!("CNI ADD {} for {}", plugin.display(), pod.name());
    let mut command = Command::new(plugin);
    command
        .env("CNI_COMMAND", "ADD")
        .env("CNI_CONTAINERID", pod.name())
        .env("CNI_NETNS", command::netns_path(pod.name()))
        .env("CNI_IFNAME", "eth0")
        .env("CNI_PATH", cni_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let _handle = command::enter_netns(&mut command, node.name())?;
    let mut child = command.spawn().map_err(|e| Error::io(&what, e))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(config.to_string().as_bytes())
            .map_err(|e| Error::io(&what, e))?;
    }
    let deadline = Instant::now() + PLUGIN_TIMEOUT;
    while child.try_wait().map_err(|e| Error::io(&what, e))?.is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Unsupported(format!(
                "{what}: no answer within {}s",
                PLUGIN_TIMEOUT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().map_err(|e| Error::io(&what, e))?;
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    if !output.status.success() {
        return Err(Error::parse(
            what,
            format!(
                "exit {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ),
            &stdout,
        ));
    }
    serde_json::from_str(&stdout).map_err(|e| Error::parse(what, e.to_string(), &stdout))
}

/// The first IPv4 address of a CNI result (`ips[].address`, `A.B.C.D/len`).
fn first_ipv4(result: &Value) -> Result<Ipv4Addr> {
    result["ips"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|ip| ip["address"].as_str())
        .filter_map(|text| text.split('/').next())
        .find_map(|text| text.parse::<Ipv4Addr>().ok())
        .ok_or_else(|| Error::parse("CNI result", "no IPv4 address", &result.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_config_takes_name_and_version_from_the_list() {
        let conflist = r#"{"cniVersion":"1.0.0","name":"tern","plugins":[{"type":"ptp","ipam":{"type":"host-local","ranges":[[{"subnet":"198.19.1.0/24"}]]}}]}"#;
        let config = plugin_config(conflist, Path::new("/tmp/x")).unwrap();
        assert_eq!(config["type"], "ptp");
        assert_eq!(config["name"], "tern");
        assert_eq!(config["cniVersion"], "1.0.0");
        assert_eq!(config["ipam"]["dataDir"], "/tmp/x");
        assert_eq!(config["ipam"]["ranges"][0][0]["subnet"], "198.19.1.0/24");
    }

    #[test]
    fn first_ipv4_of_a_result() {
        let result: Value = serde_json::from_str(
            r#"{"ips":[{"address":"2001:db8:42:1::2/64"},{"address":"198.19.1.2/24","gateway":"198.19.1.1"}]}"#,
        )
        .unwrap();
        assert_eq!(first_ipv4(&result).unwrap(), Ipv4Addr::new(198, 19, 1, 2));
        assert!(first_ipv4(&serde_json::json!({})).is_err());
    }
}
