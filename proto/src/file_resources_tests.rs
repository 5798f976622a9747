use super::*;

const POOL: &str = "apiVersion: tern.dev/v1alpha1\nkind: IPPool\nmetadata:\n  name: pool-a\nspec:\n  cidr: 198.19.0.0/16\n";

fn apply_request(yaml: &str) -> pb::ApplyRequest {
    pb::ApplyRequest {
        yaml: yaml.into(),
        source: "test.yaml".into(),
    }
}

fn results(refs: &[pb::ResourceRef]) -> Vec<String> {
    refs.iter()
        .map(|r| format!("{}/{} {}", r.kind, r.name, r.result))
        .collect()
}

fn yaml_files(directory: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn apply_creates_then_reports_unchanged_then_configured() {
    let directory = tempfile::tempdir().unwrap();
    let store = FileResources::new(directory.path());
    let created = store.apply(apply_request(POOL)).await.unwrap();
    assert_eq!(results(&created), ["IPPool/pool-a created"]);
    assert_eq!(yaml_files(directory.path()), ["ippool-pool-a.yaml"]);
    let again = store.apply(apply_request(POOL)).await.unwrap();
    assert_eq!(results(&again), ["IPPool/pool-a unchanged"]);
    let changed = POOL.replace("198.19.0.0/16", "198.19.0.0/17");
    let configured = store.apply(apply_request(&changed)).await.unwrap();
    assert_eq!(results(&configured), ["IPPool/pool-a configured"]);
    let text = std::fs::read_to_string(directory.path().join("ippool-pool-a.yaml")).unwrap();
    assert!(text.contains("198.19.0.0/17"));
    assert_eq!(
        yaml_files(directory.path()),
        ["ippool-pool-a.yaml"],
        "no temporary files left"
    );
}

#[tokio::test]
async fn an_object_in_a_users_file_is_replaced_in_place_keeping_the_rest() {
    let directory = tempfile::tempdir().unwrap();
    let users = directory.path().join("site.yaml");
    let other = "# the top-of-rack peer\napiVersion: tern.dev/v1alpha1\nkind: BGPPeer\nmetadata:\n  name: tor\nspec:\n  peerIP: 198.18.0.1\n";
    std::fs::write(&users, format!("{other}---\n{POOL}")).unwrap();
    let store = FileResources::new(directory.path());
    let changed = POOL.replace("198.19.0.0/16", "198.19.0.0/17");
    store.apply(apply_request(&changed)).await.unwrap();
    let text = std::fs::read_to_string(&users).unwrap();
    assert_eq!(text, format!("{other}---\n{changed}"));
    assert_eq!(yaml_files(directory.path()), ["site.yaml"]);

    let deleted = store
        .delete(pb::DeleteRequest {
            yaml: POOL.into(),
            source: "-".into(),
        })
        .await
        .unwrap();
    assert_eq!(results(&deleted), ["IPPool/pool-a deleted"]);
    assert_eq!(std::fs::read_to_string(&users).unwrap(), other);
}

#[tokio::test]
async fn get_filters_by_kind_and_name_and_delete_removes_empty_files() {
    let directory = tempfile::tempdir().unwrap();
    let store = FileResources::new(directory.path());
    let second = POOL.replace("pool-a", "pool-b");
    store
        .apply(apply_request(&format!("{POOL}---\n{second}")))
        .await
        .unwrap();
    let all = store
        .get(pb::GetResourcesRequest {
            kind: "ippool".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let names: Vec<&str> = all.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["pool-a", "pool-b"]);
    assert_eq!(all[0].yaml, POOL);
    let one = store
        .get(pb::GetResourcesRequest {
            kind: "IPPool".into(),
            name: "pool-b".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    store
        .delete(pb::DeleteRequest {
            yaml: POOL.into(),
            source: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(yaml_files(directory.path()), ["ippool-pool-b.yaml"]);
}

#[tokio::test]
async fn deleting_a_missing_object_changes_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let store = FileResources::new(directory.path());
    store.apply(apply_request(POOL)).await.unwrap();
    let missing = POOL.replace("pool-a", "pool-z");
    let error = store
        .delete(pb::DeleteRequest {
            yaml: format!("{POOL}---\n{missing}"),
            source: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), tonic::Code::NotFound);
    assert!(error.message().contains("\"pool-z\""));
    assert_eq!(yaml_files(directory.path()), ["ippool-pool-a.yaml"]);
}

#[tokio::test]
async fn an_invalid_body_names_source_and_line() {
    let directory = tempfile::tempdir().unwrap();
    let store = FileResources::new(directory.path());
    let error = store
        .apply(apply_request(&format!(
            "{POOL}---\napiVersion: v1\nkind: Node\n"
        )))
        .await
        .unwrap_err();
    assert_eq!(error.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        error.message(),
        "invalid manifest test.yaml:8: missing metadata.name"
    );
    assert!(yaml_files(directory.path()).is_empty());
}
