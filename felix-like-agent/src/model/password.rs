//! Where a BGP session password comes from: a key of a Kubernetes Secret.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Calico's `password` field: `{secretKeyRef: {name, key}}`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretPassword {
    /// The Secret key holding the password. The Secret lives in tern's own namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<SecretKeyRef>,
}

/// A key of a Secret in tern's namespace.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct SecretKeyRef {
    /// Secret name.
    pub name: String,
    /// Key within the Secret's `data` / `stringData`.
    pub key: String,
}
