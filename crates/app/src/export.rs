//! Project export and import: a git-friendly folder.
//!
//! ```text
//! DIR/project.json            {"format": 1, "id", "name", "created_at"}
//! DIR/snapshots/v0.1.0.json   {"snapshot": {...}, "ops": [the ops it includes]}
//! DIR/ops.json                [uncommitted ops]
//! ```
//!
//! Files are pretty JSON with a fixed field order and a trailing newline, so
//! export → import → export gives byte-identical files and diffs read well.

use crate::{App, AppError, AppResult};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use tidemark_model::{Op, Reducer, Snapshot, State};

const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct ProjectFile {
    format: u32,
    id: String,
    name: String,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SnapshotFile {
    snapshot: Snapshot,
    ops: Vec<Op>,
}

/// What `project export` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    /// The folder.
    pub dir: PathBuf,
    /// Project name.
    pub project: String,
    /// Snapshot files written.
    pub snapshots: usize,
    /// Uncommitted ops written.
    pub uncommitted_ops: usize,
}

/// What `project import` read.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    /// Project name.
    pub project: String,
    /// Snapshots imported.
    pub snapshots: usize,
    /// Ops imported in all.
    pub ops: usize,
}

fn to_pretty<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("export types always serialize");
    text.push('\n');
    text
}

/// Writes `contents` next to `path` and renames it into place, so a file is
/// either the old one or the new one, never half written.
fn write_atomic(path: &Path, contents: &str) -> AppResult<()> {
    let tmp = path.with_extension("json.tmp");
    fs::write(&tmp, contents).map_err(|e| AppError::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| AppError::io(path, e))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> AppResult<T> {
    let text = fs::read_to_string(path).map_err(|e| AppError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| {
        AppError::BadInput(format!(
            "{}: not a Tidemark export file: {e}",
            path.display()
        ))
    })
}

impl App {
    /// Writes the current project to `dir` (created if missing).
    pub fn project_export(&self, dir: &Path) -> AppResult<ExportSummary> {
        let project = self.ws.current_project()?;
        let stored = self.ws.ops(&project.id)?;
        let snapshots = self.ws.snapshots(&project.id)?;
        let snap_dir = dir.join("snapshots");
        fs::create_dir_all(&snap_dir).map_err(|e| AppError::io(&snap_dir, e))?;

        let mut by_snapshot: HashMap<&str, Vec<Op>> = HashMap::new();
        let mut uncommitted = Vec::new();
        for s in &stored {
            match &s.snapshot_id {
                Some(id) => by_snapshot
                    .entry(id.as_str())
                    .or_default()
                    .push(s.op.clone()),
                None => uncommitted.push(s.op.clone()),
            }
        }
        let mut written = Vec::new();
        for snapshot in &snapshots {
            let name = format!("v{}.json", snapshot.version);
            let file = SnapshotFile {
                snapshot: snapshot.clone(),
                ops: by_snapshot.remove(snapshot.id.as_str()).unwrap_or_default(),
            };
            write_atomic(&snap_dir.join(&name), &to_pretty(&file))?;
            written.push(name);
        }
        // A snapshot file left from an earlier export of another state would be
        // imported back as if it belonged to this one: remove it.
        for entry in fs::read_dir(&snap_dir).map_err(|e| AppError::io(&snap_dir, e))? {
            let entry = entry.map_err(|e| AppError::io(&snap_dir, e))?;
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('v') && name.ends_with(".json") && !written.contains(&name) {
                fs::remove_file(entry.path()).map_err(|e| AppError::io(entry.path(), e))?;
            }
        }
        write_atomic(&dir.join("ops.json"), &to_pretty(&uncommitted))?;
        let file = ProjectFile {
            format: FORMAT,
            id: project.id.clone(),
            name: project.name.clone(),
            created_at: project.created_at,
        };
        write_atomic(&dir.join("project.json"), &to_pretty(&file))?;
        Ok(ExportSummary {
            dir: dir.to_path_buf(),
            project: project.name,
            snapshots: snapshots.len(),
            uncommitted_ops: uncommitted.len(),
        })
    }

    /// Reads a folder written by [`App::project_export`] into a new project and makes it current.
    ///
    /// Everything is checked before anything is written: every snapshot's hash,
    /// and that replaying its ops gives exactly its state.
    pub fn project_import(&mut self, dir: &Path) -> AppResult<ImportSummary> {
        let project: ProjectFile = read_json(&dir.join("project.json"))?;
        if project.format != FORMAT {
            return Err(AppError::BadInput(format!(
                "{}: export format {} is not supported (this Tidemark reads format {FORMAT})",
                dir.join("project.json").display(),
                project.format
            )));
        }
        let snap_dir = dir.join("snapshots");
        let mut files = Vec::new();
        if snap_dir.exists() {
            for entry in fs::read_dir(&snap_dir).map_err(|e| AppError::io(&snap_dir, e))? {
                let path = entry.map_err(|e| AppError::io(&snap_dir, e))?.path();
                if path.extension().is_some_and(|e| e == "json") {
                    files.push(read_json::<SnapshotFile>(&path)?);
                }
            }
        }
        files.sort_by(|a, b| a.snapshot.version.cmp(&b.snapshot.version));
        let uncommitted: Vec<Op> = read_json(&dir.join("ops.json"))?;

        // Check the whole history replays before touching the workspace.
        let mut reducer = Reducer::new(State::default());
        let mut previous: Option<&str> = None;
        for file in &files {
            let s = &file.snapshot;
            s.verify()
                .map_err(|e| AppError::BadInput(format!("{}: {e}", snap_dir.display())))?;
            let ids: Vec<&str> = file.ops.iter().map(|o| o.id.as_str()).collect();
            if ids
                != s.ops_included
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
            {
                return Err(AppError::BadInput(format!(
                    "snapshot {}: its ops do not match the op ids it includes",
                    s.version
                )));
            }
            if s.previous.as_deref() != previous {
                return Err(AppError::BadInput(format!(
                    "snapshot {}: its previous snapshot is not the one before it in version order",
                    s.version
                )));
            }
            for op in &file.ops {
                reducer.apply(op).map_err(|e| {
                    AppError::BadInput(format!(
                        "snapshot {}: op {} does not apply: {e}",
                        s.version, op.id
                    ))
                })?;
            }
            if reducer.state() != &s.state {
                return Err(AppError::BadInput(format!(
                    "snapshot {}: replaying its ops does not give its stored state",
                    s.version
                )));
            }
            previous = Some(s.id.as_str());
        }
        for op in &uncommitted {
            reducer.apply(op).map_err(|e| {
                AppError::BadInput(format!("ops.json: op {} does not apply: {e}", op.id))
            })?;
        }

        let op_count = files.iter().map(|f| f.ops.len()).sum::<usize>() + uncommitted.len();
        self.ws.write(|tx| -> AppResult<()> {
            tx.create_project(&project.id, &project.name, project.created_at)?;
            for file in &files {
                tx.append_ops(&project.id, &file.ops)?;
                tx.insert_snapshot(&project.id, &file.snapshot)?;
            }
            tx.append_ops(&project.id, &uncommitted)?;
            tx.set_current_project(&project.name)?;
            Ok(())
        })?;
        Ok(ImportSummary {
            project: project.name,
            snapshots: files.len(),
            ops: op_count,
        })
    }
}
