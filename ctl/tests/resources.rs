//! `ternctl apply -f`, `get KIND`, `delete -f` against a server backed by the file datastore
//! (`tern_proto::file_resources`).

mod support;

use std::sync::Arc;

use support::*;
use tern_proto::file_resources::FileResources;
use tern_proto::{NodeApi, UnixServer, pb};
use tonic::Status;

struct FileNode(FileResources);

#[tonic::async_trait]
impl NodeApi for FileNode {
    async fn status(&self) -> Result<pb::NodeStatus, Status> {
        Ok(pb::NodeStatus::default())
    }

    async fn routes(&self, _: pb::ListRoutesRequest) -> Result<Vec<pb::Destination>, Status> {
        Ok(Vec::new())
    }

    async fn get_resources(
        &self,
        request: pb::GetResourcesRequest,
    ) -> Result<Vec<pb::Resource>, Status> {
        self.0.get(request).await
    }

    async fn apply_resources(
        &self,
        request: pb::ApplyRequest,
    ) -> Result<Vec<pb::ResourceRef>, Status> {
        self.0.apply(request).await
    }

    async fn delete_resources(
        &self,
        request: pb::DeleteRequest,
    ) -> Result<Vec<pb::ResourceRef>, Status> {
        self.0.delete(request).await
    }
}

const POOLS: &str = "apiVersion: tern.dev/v1alpha1
kind: IPPool
metadata:
  name: default-ipv4
spec:
  cidr: 198.19.0.0/16
  ipipMode: Always
---
apiVersion: tern.dev/v1alpha1
kind: IPPool
metadata:
  name: default-ipv6
spec:
  cidr: 2001:db8:42::/48
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_get_delete_round_trip_through_the_datastore_directory() {
    let directory = tempfile::tempdir().unwrap();
    let datastore = directory.path().join("manifests");
    std::fs::create_dir(&datastore).unwrap();
    let socket = directory.path().join("ternd.sock");
    let server = UnixServer::bind(&socket).unwrap();
    let node = FileNode(FileResources::new(&datastore));
    tokio::spawn(server.serve(Arc::new(node), std::future::pending()));

    let manifest = directory.path().join("pools.yaml");
    std::fs::write(&manifest, POOLS).unwrap();
    let manifest = manifest.to_str().unwrap();
    let applied = ternctl(&socket, &["apply", "-f", manifest]).await;
    assert!(applied.status.success(), "{}", stderr(&applied));
    assert_eq!(
        stdout(&applied),
        "ippool/default-ipv4 created\nippool/default-ipv6 created\n"
    );
    assert!(datastore.join("ippool-default-ipv4.yaml").exists());

    let table = stdout(&ternctl(&socket, &["get", "ippools"]).await);
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["NAME", "CIDR", "IPIPMODE"]);
    assert_eq!(rows[1], ["default-ipv4", "198.19.0.0/16", "Always"]);
    assert_eq!(rows[2], ["default-ipv6", "2001:db8:42::/48"]);

    let one = json(&ternctl(&socket, &["get", "ippool", "default-ipv6", "-o", "json"]).await);
    assert_eq!(one["items"][0]["spec"]["cidr"], "2001:db8:42::/48");
    let missing = ternctl(&socket, &["get", "ippool", "nope"]).await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("IPPool \"nope\" not found"));

    let again = ternctl(&socket, &["apply", "-f", manifest]).await;
    assert_eq!(
        stdout(&again),
        "ippool/default-ipv4 unchanged\nippool/default-ipv6 unchanged\n"
    );
    let deleted = ternctl(&socket, &["delete", "-f", manifest]).await;
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    assert_eq!(
        stdout(&deleted),
        "ippool/default-ipv4 deleted\nippool/default-ipv6 deleted\n"
    );
    assert_eq!(std::fs::read_dir(&datastore).unwrap().count(), 0);
    let gone = ternctl(&socket, &["delete", "-f", manifest]).await;
    assert_eq!(gone.status.code(), Some(1));
    assert!(stderr(&gone).contains("not found"), "{}", stderr(&gone));
}
