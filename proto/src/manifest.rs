//! Multi-document YAML manifests split into documents, each with the line it starts on, so
//! errors can say `file:line` and documents can be replaced in place.

use serde_yaml::Value;

/// One document's text and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentText {
    /// 1-based line of the document's first line (after a `---` separator).
    pub line: usize,
    pub text: String,
}

/// Split at `---` lines (a separator may carry a comment: `--- # x`).
pub fn split_documents(text: &str) -> Vec<DocumentText> {
    let mut documents = Vec::new();
    let mut current = String::new();
    let mut start = 1;
    for (index, line) in text.lines().enumerate() {
        if line == "---" || line.starts_with("--- ") {
            documents.push(DocumentText {
                line: start,
                text: std::mem::take(&mut current),
            });
            start = index + 2;
            continue;
        }
        current.push_str(line);
        current.push('\n');
    }
    documents.push(DocumentText {
        line: start,
        text: current,
    });
    documents
}

/// Identity of an object: kind, namespace ("" when absent), name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// What is wrong with a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}{}: {message}", column.map(|c| format!(":{c}")).unwrap_or_default())]
pub struct DocumentError {
    pub line: usize,
    pub column: Option<usize>,
    pub message: String,
}

/// A parsed document: `None` when it is empty (only comments or nothing).
pub fn parse_document(
    document: &DocumentText,
) -> Result<Option<(ObjectKey, String, Value)>, DocumentError> {
    let error = |line: usize, column: Option<usize>, message: &str| DocumentError {
        line,
        column,
        message: message.to_string(),
    };
    let value: Value = serde_yaml::from_str(&document.text).map_err(|e| {
        let location = e.location();
        let line = document.line + location.as_ref().map_or(0, |l| l.line().saturating_sub(1));
        error(line, location.map(|l| l.column()), &e.to_string())
    })?;
    if value.is_null() {
        return Ok(None);
    }
    let field =
        |value: &Value, name: &str| value.get(name).and_then(Value::as_str).map(str::to_string);
    let api_version = field(&value, "apiVersion")
        .ok_or_else(|| error(document.line, None, "missing apiVersion"))?;
    let kind = field(&value, "kind").ok_or_else(|| error(document.line, None, "missing kind"))?;
    let metadata = value.get("metadata").cloned().unwrap_or(Value::Null);
    let name = field(&metadata, "name")
        .ok_or_else(|| error(document.line, None, "missing metadata.name"))?;
    let namespace = field(&metadata, "namespace").unwrap_or_default();
    Ok(Some((
        ObjectKey {
            kind,
            namespace,
            name,
        },
        api_version,
        value,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_know_their_first_line() {
        let documents = split_documents("a: 1\n---\nb: 2\nc: 3\n--- # next\nd: 4\n");
        let lines: Vec<usize> = documents.iter().map(|d| d.line).collect();
        assert_eq!(lines, [1, 3, 6]);
        assert_eq!(documents[1].text, "b: 2\nc: 3\n");
    }

    #[test]
    fn a_document_needs_kind_and_name() {
        let document = DocumentText {
            line: 4,
            text: "apiVersion: v1\nkind: Node\n".into(),
        };
        let error = parse_document(&document).unwrap_err();
        assert_eq!(error.to_string(), "line 4: missing metadata.name");
        let empty = DocumentText {
            line: 1,
            text: "# nothing\n".into(),
        };
        assert_eq!(parse_document(&empty), Ok(None));
    }
}
