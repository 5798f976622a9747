//! The intent diff on realistic changes to the contract examples: only what changed moves.

mod common;

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use tern_agent::apply::{IntentDiff, diff_intents};
use tern_agent::calc::{Community, calculate};
use tern_agent::model::{AsNumber, FilterAction, ObjectKey, SecretKeyRef, SecretPassword};
use tern_agent::snapshot::Snapshot;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn net(text: &str) -> IpNetwork {
    text.parse().unwrap()
}

fn diff(before: &Snapshot, after: &Snapshot, node: &str) -> IntentDiff {
    let old = calculate(before, node).unwrap();
    let new = calculate(after, node).unwrap();
    diff_intents(Some(&old), &new)
}

fn no_peer_changes(diff: &IntentDiff) -> bool {
    !diff.identity_changed
        && diff.peers_added.is_empty()
        && diff.peers_reset.is_empty()
        && diff.peers_updated.is_empty()
        && diff.peers_removed.is_empty()
}

#[test]
fn first_intent_adds_everything() {
    let intent = calculate(&common::contract_snapshot(), "node-1").unwrap();
    let diff = diff_intents(None, &intent);
    assert!(diff.identity_changed);
    assert_eq!(diff.peers_added.len(), intent.peers.len());
    assert_eq!(diff.originate.len(), intent.advertisements.len());
    assert!(diff.peers_removed.is_empty() && diff.withdraw.is_empty());
    assert!(diff_intents(Some(&intent), &intent).is_empty());
}

#[test]
fn moving_an_endpoint_moves_only_the_service_routes() {
    let before = common::contract_snapshot();
    let mut after = before.clone();
    let slice = after.endpoint_slices.values_mut().next().unwrap();
    for endpoint in slice.endpoints.iter_mut().flatten() {
        let ready = endpoint.node_name.as_deref() == Some("node-1");
        endpoint.conditions.get_or_insert_default().ready = Some(ready);
    }
    let node_1 = diff(&before, &after, "node-1");
    assert!(no_peer_changes(&node_1), "{node_1:?}");
    let originated: Vec<IpNetwork> = node_1.originate.iter().map(|a| a.prefix).collect();
    assert_eq!(
        originated,
        [net("198.19.240.20/32"), net("198.51.100.20/32")]
    );
    assert!(node_1.withdraw.is_empty());

    let node_2 = diff(&before, &after, "node-2");
    assert!(no_peer_changes(&node_2));
    assert!(node_2.originate.is_empty());
    assert_eq!(
        node_2.withdraw,
        [net("198.19.240.20/32"), net("198.51.100.20/32")]
    );
}

#[test]
fn removing_the_service_withdraws_without_touching_sessions() {
    let before = common::contract_snapshot();
    let mut after = before.clone();
    after
        .services
        .remove(&ObjectKey::namespaced("shop", "checkout"));
    let node_2 = diff(&before, &after, "node-2");
    assert!(no_peer_changes(&node_2));
    assert_eq!(node_2.withdraw.len(), 2);
}

#[test]
fn a_new_password_resets_only_that_peer() {
    let before = common::contract_snapshot();
    let mut after = before.clone();
    let secret = after.secrets.values_mut().next().unwrap();
    secret
        .data
        .as_mut()
        .unwrap()
        .insert("tor-r1".into(), k8s_openapi::ByteString(b"n3w".to_vec()));
    let node_1 = diff(&before, &after, "node-1");
    let reset: Vec<IpAddr> = node_1.peers_reset.iter().map(|p| p.address).collect();
    assert_eq!(reset, [ip("198.18.0.254")]);
    assert!(node_1.peers_added.is_empty() && node_1.peers_updated.is_empty());
    assert!(node_1.originate.is_empty() && node_1.withdraw.is_empty());
}

#[test]
fn a_filter_edit_updates_policy_without_reset() {
    let before = common::contract_snapshot();
    let mut after = before.clone();
    let filter = after.bgp_filters.values_mut().next().unwrap();
    filter.spec.export_v4[1].action = FilterAction::Accept;
    let node_1 = diff(&before, &after, "node-1");
    let updated: Vec<IpAddr> = node_1.peers_updated.iter().map(|p| p.address).collect();
    assert_eq!(updated, [ip("198.18.0.254")]);
    assert!(node_1.peers_reset.is_empty());
}

#[test]
fn peer_removal_and_addition() {
    let before = common::contract_snapshot();
    let mut after = before.clone();
    let tor = after
        .bgp_peers
        .remove(&ObjectKey::cluster("tor-r1"))
        .unwrap();
    let node_1 = diff(&before, &after, "node-1");
    assert_eq!(node_1.peers_removed, [(ip("198.18.0.254"), 179)]);
    assert!(node_1.peers_added.is_empty() && node_1.peers_reset.is_empty());

    // Back, with a password from a key that does not exist: the session is not configured.
    let mut broken = tor.clone();
    broken.spec.password = Some(SecretPassword {
        secret_key_ref: Some(SecretKeyRef {
            name: "bgp-secrets".into(),
            key: "absent".into(),
        }),
    });
    after.bgp_peers.insert(ObjectKey::cluster("tor-r1"), broken);
    let intent = calculate(&after, "node-1").unwrap();
    assert!(intent.peer(ip("198.18.0.254")).is_none());
    assert_eq!(intent.problems.len(), 1);
}

#[test]
fn changing_the_global_as_changes_identity() {
    let before = common::contract_snapshot();
    let mut after = before.clone();
    let config = after.bgp_configurations.values_mut().next().unwrap();
    config.spec.as_number = Some(AsNumber(64600));
    let node_1 = diff(&before, &after, "node-1");
    assert!(node_1.identity_changed);
    // The reflector's AS changed too: that session resets; the ToR session does not.
    let reset: Vec<IpAddr> = node_1.peers_reset.iter().map(|p| p.address).collect();
    assert_eq!(reset, [ip("198.18.0.21")]);
}

#[test]
fn community_change_reoriginates_in_place() {
    let before = common::contract_snapshot();
    let mut after = before.clone();
    let config = after.bgp_configurations.values_mut().next().unwrap();
    config.spec.communities[0].value = "64512:200".into();
    let node_1 = diff(&before, &after, "node-1");
    assert!(no_peer_changes(&node_1));
    assert!(node_1.withdraw.is_empty());
    assert_eq!(node_1.originate.len(), 1);
    assert!(
        node_1.originate[0]
            .communities
            .contains(&Community::Standard(64512, 200))
    );
}
