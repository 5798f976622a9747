//! Reading manifests for `apply -f` / `delete -f`: multi-document YAML, checked before it is
//! sent so that a mistake is reported with its file and line.

use std::fmt;

use serde_yaml::Value;

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
    let mut documents = Vec::new();
    for (start, body) in split(text) {
        let error = |line: usize, column: Option<usize>, message: String| ManifestError {
            source: source.to_string(),
            line,
            column,
            message,
        };
        let value: Value = serde_yaml::from_str(&body).map_err(|e| {
            let location = e.location();
            let line = start + location.as_ref().map_or(0, |l| l.line().saturating_sub(1));
            error(line, location.map(|l| l.column()), e.to_string())
        })?;
        if value.is_null() {
            continue;
        }
        let Some(mapping) = value.as_mapping() else {
            return Err(error(start, None, "a document must be a mapping".into()));
        };
        let field = |name: &str| mapping.get(name).and_then(Value::as_str);
        if field("apiVersion").is_none() {
            return Err(error(start, None, "missing apiVersion".into()));
        }
        let kind_name = field("kind").ok_or_else(|| error(start, None, "missing kind".into()))?;
        let kind = Kind::from_kind(kind_name).ok_or_else(|| {
            error(
                start,
                None,
                format!(
                    "unknown resource kind {kind_name:?} (known: {})",
                    Kind::known_kinds()
                ),
            )
        })?;
        let metadata = mapping.get("metadata");
        let meta = |name: &str| {
            metadata
                .and_then(|m| m.get(name))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let name =
            meta("name").ok_or_else(|| error(start, None, "missing metadata.name".into()))?;
        documents.push(Document {
            kind,
            name,
            namespace: meta("namespace"),
            line: start,
        });
    }
    if documents.is_empty() {
        return Err(ManifestError {
            source: source.to_string(),
            line: 1,
            column: None,
            message: "no objects in the manifest".into(),
        });
    }
    Ok(documents)
}

/// Documents with the 1-based line of their first line.
fn split(text: &str) -> Vec<(usize, String)> {
    let mut documents = Vec::new();
    let mut current = String::new();
    let mut start = 1;
    for (index, line) in text.lines().enumerate() {
        if line == "---" || line.starts_with("--- ") {
            documents.push((start, std::mem::take(&mut current)));
            start = index + 2;
            continue;
        }
        current.push_str(line);
        current.push('\n');
    }
    documents.push((start, current));
    documents
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
