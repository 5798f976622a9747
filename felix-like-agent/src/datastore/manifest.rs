//! Decoding one manifest file: a multi-document YAML stream where each document is one object,
//! typed by its `apiVersion` and `kind`. A problem is reported with the file, the document's
//! position, its line when known and the path of the offending field; the caller decides what
//! to keep. Unknown kinds are skipped with a warning so newer manifests still load.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_yaml_ng::Value;

use crate::model::{Kind, Object};

/// A problem found in a manifest file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ManifestError {
    /// The file.
    pub file: PathBuf,
    /// Zero-based index of the document in the file, when the problem is in one document.
    pub document: Option<usize>,
    /// One-based line in the file, when known.
    pub line: Option<usize>,
    /// Path of the offending field (`spec.asNumber`, `spec.filters[0]`), when known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(index) = self.document {
            write!(f, ": document {} (index {index})", index + 1)?;
        }
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The objects of a file that decoded cleanly, and the documents skipped on the way.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedManifest {
    /// Objects in document order.
    pub objects: Vec<Object>,
    /// Documents that were skipped (unknown kinds); not errors.
    pub warnings: Vec<ManifestError>,
}

/// Decodes every document of `text` (the contents of `file`). Any malformed document makes
/// the whole file an error, so a half-edited file never takes partial effect.
pub fn parse_manifest(file: &Path, text: &str) -> Result<ParsedManifest, ManifestError> {
    let mut parsed = ParsedManifest::default();
    let error = |document: usize, line, field: Option<&str>, message: String| ManifestError {
        file: file.to_path_buf(),
        document: Some(document),
        line,
        field: field.map(str::to_string),
        message,
    };
    for (index, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let value = Value::deserialize(document).map_err(|e| {
            let line = e.location().map(|l| l.line());
            error(index, line, None, format!("invalid YAML: {e}"))
        })?;
        if value.is_null() {
            continue; // an empty document, e.g. after a trailing `---`
        }
        let Some(mapping) = value.as_mapping() else {
            return Err(error(
                index,
                None,
                None,
                "a document must be a mapping".into(),
            ));
        };
        let api_version = required_string(mapping, "apiVersion")
            .map_err(|message| error(index, None, Some("apiVersion"), message))?;
        let kind_name = required_string(mapping, "kind")
            .map_err(|message| error(index, None, Some("kind"), message))?;
        let Some(kind) = Kind::from_type(&api_version, &kind_name) else {
            parsed.warnings.push(error(
                index,
                None,
                None,
                format!("unknown kind {api_version}/{kind_name}; document skipped"),
            ));
            continue;
        };
        let mut unknown_fields = Vec::new();
        let object = match decode(kind, value, &mut |path| {
            unknown_fields.push(path.to_string())
        }) {
            Ok(object) => object,
            Err(e) => {
                let field = field_path(&e);
                let line = locate(text, index, kind);
                return Err(error(
                    index,
                    line,
                    field.as_deref(),
                    e.into_inner().to_string(),
                ));
            }
        };
        if object
            .metadata()
            .name
            .as_deref()
            .unwrap_or_default()
            .is_empty()
        {
            return Err(error(
                index,
                None,
                Some("metadata.name"),
                "missing object name".into(),
            ));
        }
        // apiVersion and kind were checked above; some types skip them while decoding.
        unknown_fields.retain(|field| field != "apiVersion" && field != "kind");
        for field in unknown_fields {
            parsed.warnings.push(error(
                index,
                None,
                Some(&field),
                format!("unknown field of {}; ignored", kind.name()),
            ));
        }
        parsed.objects.push(object);
    }
    Ok(parsed)
}

fn required_string(mapping: &serde_yaml_ng::Mapping, key: &str) -> Result<String, String> {
    match mapping.get(key) {
        None => Err(format!("missing field `{key}`")),
        Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
        Some(_) => Err(format!("`{key}` must be a non-empty string")),
    }
}

type DecodeError<E> = serde_path_to_error::Error<E>;

/// Decodes one document as `kind`, tracking the path to any failing field and telling
/// `unknown_field` the path of every field the kind does not have.
fn decode<'de, D, F>(
    kind: Kind,
    document: D,
    unknown_field: &mut F,
) -> Result<Object, DecodeError<D::Error>>
where
    D: serde::Deserializer<'de>,
    F: FnMut(serde_ignored::Path),
{
    use serde_path_to_error::deserialize as typed;
    let document = serde_ignored::Deserializer::new(document, unknown_field);
    Ok(match kind {
        Kind::Node => Object::Node(typed(document)?),
        Kind::Service => Object::Service(typed(document)?),
        Kind::Namespace => Object::Namespace(typed(document)?),
        Kind::Pod => Object::Pod(typed(document)?),
        Kind::Secret => Object::Secret(typed(document)?),
        Kind::EndpointSlice => Object::EndpointSlice(typed(document)?),
        Kind::NetworkPolicy => Object::NetworkPolicy(typed(document)?),
        Kind::BgpConfiguration => Object::BgpConfiguration(typed(document)?),
        Kind::BgpPeer => Object::BgpPeer(typed(document)?),
        Kind::IpPool => Object::IpPool(typed(document)?),
        Kind::BgpFilter => Object::BgpFilter(typed(document)?),
    })
}

fn field_path<E>(error: &DecodeError<E>) -> Option<String> {
    let path = error.path().to_string();
    (path != "." && !path.is_empty()).then_some(path)
}

/// Decodes document `index` again, straight from the text, to learn the line of a failure
/// (decoding from an already parsed value loses positions). Only runs on the error path.
fn locate(text: &str, index: usize, kind: Kind) -> Option<usize> {
    let document = serde_yaml_ng::Deserializer::from_str(text).nth(index)?;
    let error = decode(kind, document, &mut |_| {}).err()?;
    error
        .into_inner()
        .location()
        .map(|location| location.line())
}
