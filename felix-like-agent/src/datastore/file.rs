//! The file datastore: every `*.yaml` / `*.yml` file directly inside one directory, read in
//! name order. A file that fails to decode is reported and ignored as a whole; the objects of
//! its last good version stay in force until it decodes again or is removed. When two files
//! define the same object, the later file (in name order) wins.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::model::{Kind, Object, ObjectKey};
use crate::snapshot::Snapshot;

use super::manifest::{ManifestError, parse_manifest};

/// The directory itself cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DatastoreError {
    /// The directory does not exist.
    #[error("datastore directory {0} does not exist")]
    Missing(PathBuf),
    /// The path exists but is not a directory.
    #[error("datastore path {0} is not a directory")]
    NotADirectory(PathBuf),
    /// The directory cannot be listed.
    #[error("cannot read datastore directory {path}: {source}")]
    Unreadable {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The file watcher could not be set up.
    #[error("cannot watch datastore directory {path}: {message}")]
    Watch {
        /// The directory.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// What one scan found.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ScanReport {
    /// Whether the resulting snapshot differs from the one before the scan.
    pub changed: bool,
    /// Files that changed and failed to decode during this scan (each reported once per change).
    pub errors: Vec<ManifestError>,
    /// Documents skipped in files that changed during this scan.
    pub warnings: Vec<ManifestError>,
    /// Files added, changed or removed during this scan.
    pub files_changed: Vec<PathBuf>,
}

#[derive(Debug)]
struct FileState {
    /// The contents last read (good or bad), to skip unchanged files.
    contents: Vec<u8>,
    /// Objects of the last version that decoded cleanly.
    objects: Vec<Object>,
    /// The problem with the current contents, if any.
    error: Option<ManifestError>,
}

/// A directory of manifests and the last good objects of each file.
#[derive(Debug)]
pub struct FileDatastore {
    directory: PathBuf,
    files: BTreeMap<PathBuf, FileState>,
    snapshot: Snapshot,
}

impl FileDatastore {
    /// Opens `directory` and reads it once. Fails only if the directory itself is unusable;
    /// problems in files are in the returned report.
    pub fn open(directory: impl Into<PathBuf>) -> Result<(Self, ScanReport), DatastoreError> {
        let mut datastore = FileDatastore {
            directory: directory.into(),
            files: BTreeMap::new(),
            snapshot: Snapshot::default(),
        };
        let report = datastore.rescan()?;
        Ok((datastore, report))
    }

    /// The directory.
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// The objects currently in force.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The current problem of every file that does not decode.
    pub fn errors(&self) -> impl Iterator<Item = &ManifestError> {
        self.files.values().filter_map(|state| state.error.as_ref())
    }

    /// Reads the directory again and decodes every file whose contents changed. If the
    /// directory cannot be listed, nothing changes and the error is returned.
    pub fn rescan(&mut self) -> Result<ScanReport, DatastoreError> {
        let paths = list_manifests(&self.directory)?;
        let mut report = ScanReport::default();

        let removed: Vec<PathBuf> = self
            .files
            .keys()
            .filter(|path| !paths.contains(path))
            .cloned()
            .collect();
        for path in removed {
            self.files.remove(&path);
            report.files_changed.push(path);
        }

        for path in paths {
            let contents = match std::fs::read(&path) {
                Ok(contents) => contents,
                // Removed between listing and reading: the next scan drops it.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => {
                    let error = file_error(&path, format!("cannot read: {e}"));
                    self.record_failure(path, Vec::new(), error, &mut report);
                    continue;
                }
            };
            if self
                .files
                .get(&path)
                .is_some_and(|s| s.contents == contents)
            {
                continue;
            }
            let parsed = std::str::from_utf8(&contents)
                .map_err(|e| file_error(&path, format!("not UTF-8: {e}")))
                .and_then(|text| parse_manifest(&path, text));
            match parsed {
                Ok(parsed) => {
                    report.warnings.extend(parsed.warnings);
                    let state = FileState {
                        contents,
                        objects: parsed.objects,
                        error: None,
                    };
                    self.files.insert(path.clone(), state);
                    report.files_changed.push(path);
                }
                Err(error) => self.record_failure(path, contents, error, &mut report),
            }
        }

        let mut snapshot = Snapshot::default();
        let mut defined_in: BTreeMap<(Kind, ObjectKey), &Path> = BTreeMap::new();
        for (path, state) in &self.files {
            for object in &state.objects {
                let id = (object.kind(), object.key());
                if let Some(earlier) = defined_in.insert(id, path)
                    && !report.files_changed.is_empty()
                    && earlier != path.as_path()
                {
                    report.warnings.push(file_error(
                        path,
                        format!(
                            "{} {} is also defined in {}; this definition wins",
                            object.kind().name(),
                            object.key(),
                            earlier.display()
                        ),
                    ));
                }
                snapshot.insert(object.clone());
            }
        }
        report.changed = snapshot != self.snapshot;
        self.snapshot = snapshot;
        Ok(report)
    }

    /// Keeps the file's last good objects and records its new problem.
    fn record_failure(
        &mut self,
        path: PathBuf,
        contents: Vec<u8>,
        error: ManifestError,
        report: &mut ScanReport,
    ) {
        let state = self.files.entry(path.clone()).or_insert_with(|| FileState {
            contents: Vec::new(),
            objects: Vec::new(),
            error: None,
        });
        if state.error.as_ref() == Some(&error) && state.contents == contents {
            return; // already reported
        }
        state.contents = contents;
        state.error = Some(error.clone());
        report.errors.push(error);
        report.files_changed.push(path);
    }
}

fn file_error(path: &Path, message: String) -> ManifestError {
    ManifestError {
        file: path.to_path_buf(),
        document: None,
        line: None,
        field: None,
        message,
    }
}

/// The manifest files in `directory`, sorted by name. Hidden files are skipped.
fn list_manifests(directory: &Path) -> Result<Vec<PathBuf>, DatastoreError> {
    let metadata = std::fs::metadata(directory).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => DatastoreError::Missing(directory.to_path_buf()),
        _ => DatastoreError::Unreadable {
            path: directory.to_path_buf(),
            source,
        },
    })?;
    if !metadata.is_dir() {
        return Err(DatastoreError::NotADirectory(directory.to_path_buf()));
    }
    let unreadable = |source| DatastoreError::Unreadable {
        path: directory.to_path_buf(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(directory).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let is_manifest = name.ends_with(".yaml") || name.ends_with(".yml");
        // `is_file` follows symlinks, as Kubernetes ConfigMap volumes need.
        if is_manifest && !name.starts_with('.') && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}
