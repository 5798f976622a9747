//! The shared contract manifest (`shared/contract/40-policy.yaml`, copied into fixtures) is
//! accepted unchanged and means what it says.

mod common;

use common::*;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use policy::{PolicyInput, compile};
use serde::Deserialize;
use serde_json::json;

fn load(text: &str) -> PolicyInput {
    let mut input = PolicyInput {
        node_name: "node-1".into(),
        node_addresses: vec![ip("198.18.0.11")],
        ..PolicyInput::default()
    };
    for document in serde_yaml_ng::Deserializer::from_str(text) {
        let value = serde_yaml_ng::Value::deserialize(document).unwrap();
        match value["kind"].as_str() {
            Some("Pod") => input
                .pods
                .push(serde_yaml_ng::from_value::<Pod>(value).unwrap()),
            Some("NetworkPolicy") => input
                .policies
                .push(serde_yaml_ng::from_value::<NetworkPolicy>(value).unwrap()),
            other => panic!("unexpected kind {other:?}"),
        }
    }
    input
}

fn check(text: &str) {
    let mut input = load(text);
    input.namespaces.push(namespace("shop", json!({})));
    input
        .namespaces
        .push(namespace("front", json!({"team": "frontend"})));
    input.pods.push(pod(
        "front",
        "ui",
        "node-2",
        &["198.19.2.5"],
        json!({"role": "ui"}),
        &[],
    ));
    input.pods.push(pod(
        "front",
        "batch",
        "node-2",
        &["198.19.2.6"],
        json!({"role": "batch"}),
        &[],
    ));
    input.pods.push(pod(
        "shop",
        "ui",
        "node-2",
        &["198.19.2.7"],
        json!({"role": "ui"}),
        &[],
    ));
    let compiled = compile(&input);
    assert!(
        compiled.diagnostics.is_empty(),
        "{:?}",
        compiled.diagnostics
    );
    let web = "198.19.1.5";
    assert!(
        tcp(&compiled, "198.19.2.5", web, 8080),
        "http-alt resolves to 8080"
    );
    assert!(tcp(&compiled, "198.19.2.5", web, 9005));
    assert!(!tcp(&compiled, "198.19.2.5", web, 9011));
    assert!(
        !tcp(&compiled, "198.19.2.6", web, 8080),
        "role batch is not In [ui, api]"
    );
    assert!(
        !tcp(&compiled, "198.19.2.7", web, 8080),
        "namespace shop is not team=frontend"
    );
    assert!(tcp(&compiled, "192.0.2.5", web, 8080));
    assert!(
        !tcp(&compiled, "192.0.2.200", web, 8080),
        "except 192.0.2.128/25"
    );
    assert!(
        !tcp(&compiled, web, "192.0.2.5", 80),
        "default-deny isolates egress"
    );
}

#[test]
fn contract_manifest_fixture_compiles_and_behaves() {
    check(include_str!("fixtures/contract-40-policy.yaml"));
}

#[test]
fn shared_contract_manifest_when_present() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/contract/40-policy.yaml");
    if let Ok(text) = std::fs::read_to_string(path) {
        check(&text);
    }
}
