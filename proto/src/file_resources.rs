//! `Resources` get/apply/delete on the file datastore: the directory `ternd --datastore DIR`
//! watches. Every write is atomic (a temporary file in DIR, not named `*.yaml`, renamed over
//! the target), so the watcher never reads half a file.
//!
//! - apply: an object already in some file is replaced there, in place (the file's other
//!   documents and their comments stay as they are); a new object goes to
//!   `DIR/<kind>[-<namespace>]-<name>.yaml`. Results: `created`, `configured`, `unchanged`.
//! - delete: the object's document is removed from its file; a file left without documents
//!   is removed. Nothing is deleted if any object named is missing (`NOT_FOUND`).
//! - get: objects of a kind (case-insensitive), optionally one name / namespace; the YAML is
//!   the document as written.
//!
//! Namespaces are compared literally ("" when absent).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use tokio::sync::Mutex;
use tonic::Status;

use crate::manifest::{DocumentText, ObjectKey, parse_document, split_documents};
use crate::pb;

/// The file datastore's directory.
#[derive(Debug)]
pub struct FileResources {
    directory: PathBuf,
    /// Serializes apply and delete.
    writing: Mutex<()>,
}

/// One file of the directory, split.
struct ManifestFile {
    path: PathBuf,
    documents: Vec<DocumentText>,
}

impl FileResources {
    pub fn new(directory: impl Into<PathBuf>) -> Self {
        FileResources {
            directory: directory.into(),
            writing: Mutex::new(()),
        }
    }

    pub fn directory(&self) -> &Path {
        &self.directory
    }

    pub async fn get(&self, request: pb::GetResourcesRequest) -> Result<Vec<pb::Resource>, Status> {
        let files = self.read_all()?;
        let mut found = Vec::new();
        for file in &files {
            for document in &file.documents {
                let Ok(Some((key, api_version, _))) = parse_document(document) else {
                    continue;
                };
                let wanted = key.kind.eq_ignore_ascii_case(&request.kind)
                    && (request.name.is_empty() || key.name == request.name)
                    && (request.namespace.is_empty() || key.namespace == request.namespace);
                if wanted {
                    found.push(pb::Resource {
                        api_version,
                        kind: key.kind,
                        name: key.name,
                        namespace: key.namespace,
                        yaml: document.text.clone(),
                    });
                }
            }
        }
        found.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        Ok(found)
    }

    pub async fn apply(&self, request: pb::ApplyRequest) -> Result<Vec<pb::ResourceRef>, Status> {
        let incoming = parse_request(&request.source, &request.yaml)?;
        let _guard = self.writing.lock().await;
        let mut files = self.read_all()?;
        let mut results = Vec::new();
        let mut new_files: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
        let mut changed = vec![false; files.len()];
        for (key, text, value) in incoming {
            let result = match locate(&files, &key) {
                Some((file, index)) => {
                    let existing = &mut files[file].documents[index];
                    let same = parse_document(existing)
                        .ok()
                        .flatten()
                        .is_some_and(|(_, _, old)| old == value);
                    if same {
                        "unchanged"
                    } else {
                        existing.text = text;
                        changed[file] = true;
                        "configured"
                    }
                }
                None => {
                    new_files.entry(self.file_for(&key)).or_default().push(text);
                    "created"
                }
            };
            results.push(reference(&key, result));
        }
        for (file, changed) in files.iter().zip(changed) {
            if changed {
                write_atomically(&file.path, &join(&file.documents))?;
            }
        }
        for (path, documents) in new_files {
            let mut text = std::fs::read_to_string(&path).unwrap_or_default();
            for document in documents {
                if !text.trim().is_empty() {
                    text.push_str("---\n");
                }
                text.push_str(&document);
            }
            write_atomically(&path, &text)?;
        }
        Ok(results)
    }

    pub async fn delete(&self, request: pb::DeleteRequest) -> Result<Vec<pb::ResourceRef>, Status> {
        let incoming = parse_request(&request.source, &request.yaml)?;
        let _guard = self.writing.lock().await;
        let mut files = self.read_all()?;
        let mut targets = Vec::new();
        for (key, _, _) in &incoming {
            let Some(location) = locate(&files, key) else {
                return Err(Status::not_found(format!(
                    "{} {:?} not found{}",
                    key.kind,
                    key.name,
                    if key.namespace.is_empty() {
                        String::new()
                    } else {
                        format!(" in namespace {:?}", key.namespace)
                    }
                )));
            };
            targets.push(location);
        }
        // Remove from the back so earlier indexes stay valid.
        targets.sort_unstable_by(|a, b| b.cmp(a));
        targets.dedup();
        let mut touched: Vec<usize> = Vec::new();
        for (file, index) in targets {
            files[file].documents.remove(index);
            touched.push(file);
        }
        touched.sort_unstable();
        touched.dedup();
        for file in touched {
            let file = &files[file];
            let left = file
                .documents
                .iter()
                .any(|d| matches!(parse_document(d), Ok(Some(_)) | Err(_)));
            if left {
                write_atomically(&file.path, &join(&file.documents))?;
            } else {
                std::fs::remove_file(&file.path).map_err(|e| io_status(&file.path, e))?;
            }
        }
        Ok(incoming
            .iter()
            .map(|(key, _, _)| reference(key, "deleted"))
            .collect())
    }

    fn file_for(&self, key: &ObjectKey) -> PathBuf {
        let mut name = key.kind.to_ascii_lowercase();
        for part in [&key.namespace, &key.name] {
            if !part.is_empty() {
                name.push('-');
                name.extend(part.chars().map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' {
                        c
                    } else {
                        '-'
                    }
                }));
            }
        }
        self.directory.join(format!("{name}.yaml"))
    }

    /// Every `*.yaml` / `*.yml` file of the directory, by name.
    fn read_all(&self) -> Result<Vec<ManifestFile>, Status> {
        let entries =
            std::fs::read_dir(&self.directory).map_err(|e| io_status(&self.directory, e))?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| {
                path.is_file()
                    && matches!(
                        path.extension().and_then(|e| e.to_str()),
                        Some("yaml" | "yml")
                    )
            })
            .collect();
        paths.sort();
        paths
            .into_iter()
            .map(|path| {
                let text = std::fs::read_to_string(&path).map_err(|e| io_status(&path, e))?;
                Ok(ManifestFile {
                    documents: split_documents(&text),
                    path,
                })
            })
            .collect()
    }
}

/// The objects of a request body, or `INVALID_ARGUMENT` naming source and line.
fn parse_request(
    source: &str,
    yaml: &str,
) -> Result<Vec<(ObjectKey, String, serde_yaml::Value)>, Status> {
    let source = if source.is_empty() {
        "<request>"
    } else {
        source
    };
    let mut objects = Vec::new();
    for document in split_documents(yaml) {
        match parse_document(&document) {
            Ok(Some((key, _, value))) => objects.push((key, document.text.clone(), value)),
            Ok(None) => {}
            Err(error) => {
                return Err(Status::invalid_argument(format!(
                    "invalid manifest {source}:{}{}: {}",
                    error.line,
                    error.column.map(|c| format!(":{c}")).unwrap_or_default(),
                    error.message
                )));
            }
        }
    }
    if objects.is_empty() {
        return Err(Status::invalid_argument(format!("no objects in {source}")));
    }
    Ok(objects)
}

fn locate(files: &[ManifestFile], key: &ObjectKey) -> Option<(usize, usize)> {
    files.iter().enumerate().find_map(|(file_index, file)| {
        file.documents
            .iter()
            .position(|d| matches!(parse_document(d), Ok(Some((k, _, _))) if &k == key))
            .map(|index| (file_index, index))
    })
}

fn reference(key: &ObjectKey, result: &str) -> pb::ResourceRef {
    pb::ResourceRef {
        kind: key.kind.clone(),
        name: key.name.clone(),
        namespace: key.namespace.clone(),
        result: result.to_string(),
    }
}

fn join(documents: &[DocumentText]) -> String {
    documents
        .iter()
        .map(|d| d.text.as_str())
        .collect::<Vec<_>>()
        .join("---\n")
}

fn io_status(path: &Path, error: std::io::Error) -> Status {
    Status::internal(format!("{}: {error}", path.display()))
}

/// Write `text` to `path` through a temporary file in the same directory (not `*.yaml`, so
/// the datastore watcher ignores it) and a rename.
fn write_atomically(path: &Path, text: &str) -> Result<(), Status> {
    let directory = path.parent().unwrap_or(Path::new("."));
    let mut temporary = tempfile::Builder::new()
        .prefix(".tern-")
        .suffix(".tmp")
        .tempfile_in(directory)
        .map_err(|e| io_status(directory, e))?;
    if let Ok(metadata) = std::fs::metadata(path) {
        // Keep the mode of a file we replace.
        let _ = temporary.as_file().set_permissions(metadata.permissions());
    }
    temporary
        .write_all(text.as_bytes())
        .and_then(|()| temporary.as_file().sync_all())
        .map_err(|e| io_status(temporary.path(), e))?;
    temporary
        .persist(path)
        .map_err(|e| io_status(path, e.error))?;
    Ok(())
}

#[cfg(test)]
#[path = "file_resources_tests.rs"]
mod tests;
