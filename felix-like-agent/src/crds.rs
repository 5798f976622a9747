//! CustomResourceDefinitions of tern's kinds, generated from the Rust types, so the schema
//! the API server validates is exactly what the agent decodes. `ternd crds --output-dir
//! deploy/crds` writes them; a test keeps the committed files current.

use std::path::{Path, PathBuf};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

use crate::model::{BgpConfiguration, BgpFilter, BgpPeer, IpPool};

/// Every tern CRD, in a fixed order.
pub fn all_crds() -> Vec<CustomResourceDefinition> {
    vec![
        BgpConfiguration::crd(),
        BgpPeer::crd(),
        IpPool::crd(),
        BgpFilter::crd(),
    ]
}

/// One CRD as YAML.
pub fn crd_yaml(crd: &CustomResourceDefinition) -> Result<String, serde_yaml_ng::Error> {
    serde_yaml_ng::to_string(crd)
}

/// Every CRD as one multi-document YAML stream.
pub fn all_crds_yaml() -> Result<String, serde_yaml_ng::Error> {
    let documents: Result<Vec<String>, _> = all_crds().iter().map(crd_yaml).collect();
    Ok(documents?.join("---\n"))
}

/// The file a CRD is written to: `<plural>.<group>.yaml`.
pub fn crd_file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}.yaml", crd.metadata.name.as_deref().unwrap_or("unnamed"))
}

/// Writes every CRD into `directory` (created if missing); returns the paths written.
pub fn write_crds(directory: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(directory)?;
    let mut written = Vec::new();
    for crd in all_crds() {
        let path = directory.join(crd_file_name(&crd));
        std::fs::write(&path, crd_yaml(&crd)?)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_crds_match_the_rust_types() {
        let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/crds");
        for crd in all_crds() {
            let path = directory.join(crd_file_name(&crd));
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert_eq!(
                committed,
                crd_yaml(&crd).unwrap(),
                "{} is stale: run `ternd crds --output-dir deploy/crds`",
                path.display()
            );
        }
    }

    #[test]
    fn crds_are_cluster_scoped_tern_kinds_with_schemas() {
        let kinds: Vec<String> = all_crds()
            .iter()
            .map(|crd| {
                assert_eq!(crd.spec.group, "tern.dev");
                assert_eq!(crd.spec.scope, "Cluster");
                let version = &crd.spec.versions[0];
                assert_eq!(version.name, "v1alpha1");
                assert!(
                    version
                        .schema
                        .as_ref()
                        .unwrap()
                        .open_api_v3_schema
                        .is_some()
                );
                crd.spec.names.kind.clone()
            })
            .collect();
        assert_eq!(
            kinds,
            ["BGPConfiguration", "BGPPeer", "IPPool", "BGPFilter"]
        );
    }
}
