//! Print the nft script for a manifest:
//! `cargo run -p policy --example render -- policy/examples/shop.yaml node-1 198.18.0.11`.
//! Reads Pods, Namespaces and NetworkPolicies from a multi-document YAML file.

use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use policy::{PolicyInput, compile, render_full};
use serde::Deserialize;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut arguments = std::env::args().skip(1);
    let path = arguments
        .next()
        .ok_or("usage: render FILE.yaml NODE [NODE_ADDRESS...]")?;
    let node_name = arguments.next().unwrap_or_else(|| "node-1".into());
    let mut input = PolicyInput {
        node_name,
        node_addresses: arguments.map(|a| a.parse()).collect::<Result<_, _>>()?,
        ..PolicyInput::default()
    };
    let text = std::fs::read_to_string(path)?;
    for document in serde_yaml_ng::Deserializer::from_str(&text) {
        let value = serde_yaml_ng::Value::deserialize(document)?;
        match value["kind"].as_str() {
            Some("Pod") => input.pods.push(serde_yaml_ng::from_value::<Pod>(value)?),
            Some("Namespace") => input
                .namespaces
                .push(serde_yaml_ng::from_value::<Namespace>(value)?),
            Some("NetworkPolicy") => input
                .policies
                .push(serde_yaml_ng::from_value::<NetworkPolicy>(value)?),
            _ => {}
        }
    }
    let compiled = compile(&input);
    for diagnostic in &compiled.diagnostics {
        eprintln!("warning: {diagnostic}");
    }
    print!("{}", render_full(&compiled.ir));
    Ok(())
}
