//! Writes, only reachable inside [`Workspace::write`](crate::Workspace::write).

use crate::error::{Result, SqlContext, StoreError};
use crate::read::{ReadView, CURRENT_PROJECT_KEY};
use crate::{format_time, Project};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashSet;
use std::ops::Deref;
use tidemark_model::{Op, Snapshot};

/// An open write transaction (see [`Workspace::write`](crate::Workspace::write)).
///
/// Reads through `Deref` see the transaction's own writes. Each write method
/// is all-or-nothing on its own (a savepoint), so a caller that handles one
/// method's error and carries on never commits half of that method; anything
/// that must succeed together, such as a whole `project import`
/// ([`create_project`](Self::create_project), then
/// [`append_ops`](Self::append_ops) with every op in log order, then
/// [`insert_snapshot`](Self::insert_snapshot) for each snapshot by version),
/// belongs in one `write` call.
pub struct WriteTx<'w> {
    view: &'w ReadView,
}

impl Deref for WriteTx<'_> {
    type Target = ReadView;

    fn deref(&self) -> &ReadView {
        self.view
    }
}

impl<'w> WriteTx<'w> {
    pub(crate) fn new(view: &'w ReadView) -> WriteTx<'w> {
        WriteTx { view }
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.view.conn
    }

    /// Runs `f` inside a savepoint, undoing its writes if it fails.
    fn atomically<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let conn = self.conn();
        conn.execute_batch("SAVEPOINT store_write")
            .ctx("starting a savepoint")?;
        match f() {
            Ok(value) => {
                conn.execute_batch("RELEASE store_write")
                    .ctx("releasing a savepoint")?;
                Ok(value)
            }
            Err(e) => {
                conn.execute_batch("ROLLBACK TO store_write; RELEASE store_write")
                    .ctx("rolling back a savepoint")?;
                Err(e)
            }
        }
    }

    /// Creates a project; [`StoreError::ProjectExists`] if the name is taken.
    /// The caller assigns the id and the time, as everywhere in Tidemark.
    pub fn create_project(
        &self,
        id: &str,
        name: &str,
        created_at: DateTime<Utc>,
    ) -> Result<Project> {
        if self.project_by_name(name).is_ok() {
            return Err(StoreError::ProjectExists(name.to_string()));
        }
        self.conn()
            .prepare_cached("INSERT INTO projects (id, name, created_at) VALUES (?1, ?2, ?3)")
            .ctx("creating a project")?
            .execute(params![id, name, format_time(&created_at)])
            .ctx(&format!("creating project {name}"))?;
        Ok(Project {
            id: id.to_string(),
            name: name.to_string(),
            created_at,
        })
    }

    /// Makes the project named `name` the current one and returns it.
    pub fn set_current_project(&self, name: &str) -> Result<Project> {
        let project = self.project_by_name(name)?;
        self.conn()
            .prepare_cached(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .ctx("setting the current project")?
            .execute(params![CURRENT_PROJECT_KEY, project.id])
            .ctx(&format!("setting the current project to {name}"))?;
        Ok(project)
    }

    /// Appends ops at the end of the project's log (seq = last seq + 1, …) and
    /// returns the new last seq. [`StoreError::DuplicateOp`] if an op id is
    /// already in the workspace; then none of `ops` is appended.
    pub fn append_ops(&self, project_id: &str, ops: &[Op]) -> Result<i64> {
        self.atomically(|| {
            self.project(project_id)?;
            let action = format!("appending ops to project {project_id}");
            let mut seq = self.last_seq(project_id)?;
            let conn = self.conn();
            let mut exists = conn
                .prepare_cached("SELECT 1 FROM ops WHERE id = ?1")
                .ctx(&action)?;
            let mut insert = conn
                .prepare_cached(
                    "INSERT INTO ops (project_id, seq, id, ts, action, target, body) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .ctx(&action)?;
            for op in ops {
                if exists.exists([&op.id]).ctx(&action)? {
                    return Err(StoreError::DuplicateOp(op.id.clone()));
                }
                let body = to_json(op, || format!("op {}", op.id))?;
                seq += 1;
                insert
                    .execute(params![
                        project_id,
                        seq,
                        op.id,
                        format_time(&op.ts),
                        op.action.name(),
                        op.target.as_str(),
                        body,
                    ])
                    .ctx(&action)?;
            }
            Ok(seq)
        })
    }

    /// [`append_ops`](Self::append_ops), but only if the log still ends at
    /// `expected_last_seq`, for a caller that decided what to append from a
    /// read made before this transaction; otherwise [`StoreError::Conflict`].
    pub fn append_ops_expecting(
        &self,
        project_id: &str,
        expected_last_seq: i64,
        ops: &[Op],
    ) -> Result<i64> {
        let found = self.last_seq(project_id)?;
        if found != expected_last_seq {
            return Err(StoreError::Conflict {
                project_id: project_id.to_string(),
                expected: expected_last_seq,
                found,
            });
        }
        self.append_ops(project_id, ops)
    }

    /// Stores a sealed snapshot and marks the ops it includes as committed.
    ///
    /// Refused, with nothing written, when: its hash does not match its content;
    /// the version exists ([`StoreError::DuplicateVersion`]) or is not above the
    /// latest ([`StoreError::VersionNotIncreasing`]); `previous` is not the
    /// latest snapshot's id; or an included op is not an uncommitted op of
    /// this project.
    pub fn insert_snapshot(&self, project_id: &str, snapshot: &Snapshot) -> Result<()> {
        self.atomically(|| {
            self.project(project_id)?;
            self.check_snapshot(project_id, snapshot)?;
            let version = &snapshot.version;
            let action = format!("storing snapshot {version}");
            let what = |part: &'static str| move || format!("the {part} of snapshot {version}");
            let tags = to_json(&snapshot.tags, what("tags"))?;
            let ops_included = to_json(&snapshot.ops_included, what("op ids"))?;
            let state = to_json(&snapshot.state, what("state"))?;
            let part = |n: u64| {
                i64::try_from(n).map_err(|_| StoreError::InvalidSnapshot {
                    version: version.clone(),
                    reason: format!("version part {n} is too large to store"),
                })
            };
            let conn = self.conn();
            conn.prepare_cached(
                "INSERT INTO snapshots (id, project_id, version, major, minor, patch, name, \
                 comment, tags, created_by, created_at, previous_id, ops_included, state, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )
            .ctx(&action)?
            .execute(params![
                snapshot.id,
                project_id,
                version.to_string(),
                part(version.major)?,
                part(version.minor)?,
                part(version.patch)?,
                snapshot.name,
                snapshot.comment,
                tags,
                snapshot.created_by,
                format_time(&snapshot.created_at),
                snapshot.previous,
                ops_included,
                state,
                snapshot.hash.0,
            ])
            .ctx(&action)?;
            let mut commit = conn
                .prepare_cached("UPDATE ops SET snapshot_id = ?1 WHERE id = ?2")
                .ctx(&action)?;
            for op_id in &snapshot.ops_included {
                commit.execute(params![snapshot.id, op_id]).ctx(&action)?;
            }
            Ok(())
        })
    }

    /// Every check of [`insert_snapshot`](Self::insert_snapshot), before it writes.
    fn check_snapshot(&self, project_id: &str, snapshot: &Snapshot) -> Result<()> {
        let version = &snapshot.version;
        let invalid = |reason: String| StoreError::InvalidSnapshot {
            version: version.clone(),
            reason,
        };
        if let Err(mismatch) = snapshot.verify() {
            return Err(invalid(format!(
                "its hash {} does not match its content (computed {}); it was changed after it was sealed",
                mismatch.stored, mismatch.computed
            )));
        }
        let existing = self.snapshot_versions(project_id)?;
        if existing.iter().any(|(_, v)| v == version) {
            return Err(StoreError::DuplicateVersion(version.clone()));
        }
        let latest = existing.iter().max_by(|a, b| a.1.cmp(&b.1));
        if let Some((_, latest)) = latest.filter(|(_, latest)| latest > version) {
            return Err(StoreError::VersionNotIncreasing {
                version: version.clone(),
                latest: latest.clone(),
            });
        }
        let latest_id = latest.map(|(id, _)| id.as_str());
        if snapshot.previous.as_deref() != latest_id {
            return Err(invalid(format!(
                "it names {} as its previous snapshot, but the project's latest snapshot is {}",
                snapshot.previous.as_deref().unwrap_or("none"),
                latest.map_or("none".to_string(), |(id, v)| format!("{v} ({id})")),
            )));
        }
        let action = format!("checking snapshot {version}");
        let taken: bool = self
            .conn()
            .prepare_cached("SELECT 1 FROM snapshots WHERE id = ?1")
            .ctx(&action)?
            .exists([&snapshot.id])
            .ctx(&action)?;
        if taken {
            return Err(invalid(format!(
                "a snapshot with id {} already exists",
                snapshot.id
            )));
        }
        let mut lookup = self
            .conn()
            .prepare_cached("SELECT project_id, snapshot_id FROM ops WHERE id = ?1")
            .ctx(&action)?;
        let mut seen = HashSet::new();
        for op_id in &snapshot.ops_included {
            if !seen.insert(op_id) {
                return Err(invalid(format!("it lists op {op_id} twice")));
            }
            let row: Option<(String, Option<String>)> = lookup
                .query_row([op_id], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
                .ctx(&action)?;
            match row {
                Some((owner, None)) if owner == project_id => {}
                Some((owner, Some(by))) if owner == project_id => {
                    return Err(invalid(format!(
                        "it includes op {op_id}, which snapshot {by} already includes"
                    )));
                }
                _ => {
                    return Err(invalid(format!(
                        "it includes op {op_id}, which is not in the project's log"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Encodes a model value as the JSON text stored in a column.
fn to_json<T: serde::Serialize>(value: &T, what: impl FnOnce() -> String) -> Result<String> {
    serde_json::to_string(value).map_err(|source| StoreError::Json {
        what: what(),
        source,
    })
}
