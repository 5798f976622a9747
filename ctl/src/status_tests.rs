use super::*;

fn status() -> pb::NodeStatus {
    let since = prost_types::Timestamp {
        seconds: 1_795_000_000,
        nanos: 0,
    };
    pb::NodeStatus {
        node: "node-1".into(),
        as_number: 64512,
        router_id: "198.18.0.11".into(),
        peers: vec![
            pb::PeerStatus {
                address: "198.18.0.1".into(),
                as_number: 64512,
                r#type: "iBGP".into(),
                state: pb::PeerState::Established as i32,
                since: Some(since),
                prefixes_received: 3,
                prefixes_accepted: 3,
                prefixes_advertised: 2,
                send_queue_bytes: 4321,
                ..Default::default()
            },
            pb::PeerStatus {
                address: "2001:db8::1".into(),
                as_number: 65001,
                r#type: "eBGP".into(),
                state: pb::PeerState::Active as i32,
                since: Some(since),
                last_error: "connection refused".into(),
                ..Default::default()
            },
        ],
    }
}

#[test]
fn json_has_exactly_the_contract_keys() {
    let json = serde_json::to_value(NodeStatusView::from(&status())).unwrap();
    let keys = |value: &serde_json::Value| {
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&json), ["asNumber", "node", "peers", "routerId"]);
    assert_eq!(
        keys(&json["peers"][0]),
        [
            "address",
            "asNumber",
            "lastError",
            "prefixesAdvertised",
            "prefixesReceived",
            "since",
            "state",
            "type"
        ]
    );
    assert_eq!(json["asNumber"], 64512);
    assert_eq!(json["peers"][0]["state"], "Established");
    assert_eq!(json["peers"][0]["since"], "2026-11-18T11:06:40Z");
    assert_eq!(json["peers"][0]["lastError"], serde_json::Value::Null);
    assert_eq!(json["peers"][1]["state"], "Active");
    assert_eq!(json["peers"][1]["lastError"], "connection refused");
}

#[test]
fn yaml_has_the_same_structure() {
    let yaml = serde_yaml::to_string(&NodeStatusView::from(&status())).unwrap();
    let value: serde_json::Value = serde_yaml::from_str(&yaml).unwrap();
    assert_eq!(
        value,
        serde_json::to_value(NodeStatusView::from(&status())).unwrap()
    );
}

#[test]
fn table_has_calicoctl_columns_per_family() {
    let text = render_node_status(&status());
    assert!(text.contains("IPv4 BGP status"));
    assert!(text.contains("IPv6 BGP status"));
    let header = text
        .lines()
        .find(|line| line.contains("PEER ADDRESS"))
        .unwrap();
    let columns: Vec<&str> = header
        .split('|')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        columns,
        ["PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO"]
    );
    let row = text
        .lines()
        .find(|line| line.contains("198.18.0.1 "))
        .unwrap();
    assert!(
        row.contains("| iBGP")
            && row.contains("Established")
            && row.contains("3 received, 2 advertised")
    );
    let row = text
        .lines()
        .find(|line| line.contains("2001:db8::1"))
        .unwrap();
    assert!(row.contains("Active") && row.contains("connection refused"));
}

#[test]
fn every_state_has_its_rfc_name() {
    let names: Vec<&str> = [
        pb::PeerState::Idle,
        pb::PeerState::Connect,
        pb::PeerState::Active,
        pb::PeerState::OpenSent,
        pb::PeerState::OpenConfirm,
        pb::PeerState::Established,
    ]
    .into_iter()
    .map(state_name)
    .collect();
    assert_eq!(
        names,
        [
            "Idle",
            "Connect",
            "Active",
            "OpenSent",
            "OpenConfirm",
            "Established"
        ]
    );
}

#[test]
fn peers_table_wide_adds_columns() {
    let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_312);
    let narrow = render_peers(&status().peers, false, now);
    assert!(narrow.lines().next().unwrap().starts_with("PEER"));
    assert!(narrow.contains("5m12s"));
    assert!(!narrow.contains("LAST ERROR"));
    let wide = render_peers(&status().peers, true, now);
    assert!(wide.contains("LAST ERROR") && wide.contains("connection refused"));
    assert!(wide.contains("OUTQ") && wide.contains("4321"), "{wide}");
}
