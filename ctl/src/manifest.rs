//! Reading manifests for `apply -f` / `delete -f`: multi-document YAML, checked before it is
//! sent so that a mistake is reported with its file and line.

use std::fmt;

use tern_proto::manifest::{parse_document, split_documents};

use crate::kinds::Kind;

/// One document of a manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub kind: Kind,
    pub name: String,
    pub namespace: Option<String>,
    /// 1-based line where the document starts.
    pub line: usize,
}

/// An invalid manifest: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    pub source: String,
    pub line: usize,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid manifest {}:{}", self.source, self.line)?;
        if let Some(column) = self.column {
            write!(f, ":{column}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ManifestError {}

/// The documents of `text` (from `source`, a file name or `-`), split at `---` lines. Empty
/// documents are skipped; every other one needs `apiVersion`, a known `kind` and
/// `metadata.name`.
pub fn parse(source: &str, text: &str) -> Result<Vec<Document>, ManifestError> {
    let error = |line: usize, column: Option<usize>, message: String| ManifestError {
        source: source.to_string(),
        line,
        column,
        message,
    };
    let mut documents = Vec::new();
    for document in split_documents(text) {
        let parsed = parse_document(&document).map_err(|e| error(e.line, e.column, e.message))?;
        let Some((key, _, _)) = parsed else {
            continue;
        };
        let kind = Kind::from_kind(&key.kind).ok_or_else(|| {
            error(
                document.line,
                None,
                format!(
                    "unknown resource kind {:?} (known: {})",
                    key.kind,
                    Kind::known_kinds()
                ),
            )
        })?;
        documents.push(Document {
            kind,
            name: key.name,
            namespace: (!key.namespace.is_empty()).then_some(key.namespace),
            line: document.line,
        });
    }
    if documents.is_empty() {
        return Err(error(1, None, "no objects in the manifest".into()));
    }
    Ok(documents)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEER: &str = "apiVersion: tern.dev/v1alpha1\nkind: BGPPeer\nmetadata:\n  name: rack1-tor\nspec:\n  peerIP: 198.18.0.1\n  asNumber: 64512\n";

    #[test]
    fn multi_document_manifests_give_each_object_and_its_line() {
        let text = format!("{PEER}---\n{}", PEER.replace("rack1-tor", "rack2-tor"));
        let documents = parse("peers.yaml", &text).unwrap();
        assert_eq!(documents.len(), 2);
        assert_eq!(documents[0].kind, Kind::BgpPeer);
        assert_eq!(documents[1].name, "rack2-tor");
        assert_eq!(documents[1].line, 9);
    }

    #[test]
    fn a_yaml_syntax_error_names_file_and_line() {
        let text = format!(
            "{PEER}---\n{}",
            "kind: BGPPeer\nmetadata:\n  name: [unclosed\n"
        );
        let error = parse("peers.yaml", &text).unwrap_err();
        assert_eq!(error.source, "peers.yaml");
        assert!(
            error.line >= 10,
            "line {} should be in the second document",
            error.line
        );
        assert!(
            error
                .to_string()
                .starts_with("invalid manifest peers.yaml:")
        );
    }

    #[test]
    fn an_unknown_kind_is_named() {
        let text = "apiVersion: v1\nkind: Gadget\nmetadata:\n  name: x\n";
        let error = parse("-", text).unwrap_err();
        assert_eq!(error.line, 1);
        assert!(error.message.contains("unknown resource kind \"Gadget\""));
    }

    #[test]
    fn missing_name_is_reported() {
        let error = parse("a.yaml", "apiVersion: v1\nkind: Node\nmetadata: {}\n").unwrap_err();
        assert_eq!(error.message, "missing metadata.name");
    }
}
