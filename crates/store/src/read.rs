//! Queries shared by [`Workspace`](crate::Workspace) and [`WriteTx`](crate::WriteTx).

use crate::error::{Result, SnapshotFault, SqlContext, StoreError};
use crate::{parse_time, Project, StoredOp};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension, Row};
use tidemark_model::{Op, Snapshot, SnapshotHash, State};

/// The `settings` key holding the current project's id.
pub(crate) const CURRENT_PROJECT_KEY: &str = "current_project";

/// The read side of a workspace connection.
///
/// Both [`Workspace`](crate::Workspace) (outside a transaction) and
/// [`WriteTx`](crate::WriteTx) (inside one, seeing its own uncommitted writes)
/// dereference to this, so every query is written once.
pub struct ReadView {
    pub(crate) conn: Connection,
}

impl ReadView {
    /// Every project, by name.
    pub fn projects(&self) -> Result<Vec<Project>> {
        let action = "listing projects";
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, created_at FROM projects ORDER BY name")
            .ctx(action)?;
        let rows = stmt
            .query_map([], project_columns)
            .ctx(action)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx(action)?;
        rows.into_iter().map(decode_project).collect()
    }

    /// The project named `name`, or [`StoreError::UnknownProject`].
    pub fn project_by_name(&self, name: &str) -> Result<Project> {
        self.find_project(PROJECT_BY_NAME, name)?
            .ok_or_else(|| StoreError::UnknownProject(name.to_string()))
    }

    /// The project with id `id`, or [`StoreError::UnknownProjectId`].
    pub fn project(&self, id: &str) -> Result<Project> {
        self.find_project(PROJECT_BY_ID, id)?
            .ok_or_else(|| StoreError::UnknownProjectId(id.to_string()))
    }

    fn find_project(&self, sql: &str, key: &str) -> Result<Option<Project>> {
        let action = format!("looking up project {key}");
        let row = self
            .conn
            .prepare_cached(sql)
            .ctx(&action)?
            .query_row([key], project_columns)
            .optional()
            .ctx(&action)?;
        row.map(decode_project).transpose()
    }

    /// The current project, or [`StoreError::NoCurrentProject`] if none was chosen.
    pub fn current_project(&self) -> Result<Project> {
        let action = "reading the current project";
        let id: Option<String> = self
            .conn
            .prepare_cached("SELECT value FROM settings WHERE key = ?1")
            .ctx(action)?
            .query_row([CURRENT_PROJECT_KEY], |row| row.get(0))
            .optional()
            .ctx(action)?
            .flatten();
        match id {
            Some(id) => self
                .find_project(PROJECT_BY_ID, &id)?
                .ok_or(StoreError::NoCurrentProject),
            None => Err(StoreError::NoCurrentProject),
        }
    }

    /// The project's whole op log, by seq.
    pub fn ops(&self, project_id: &str) -> Result<Vec<StoredOp>> {
        self.load_ops(
            project_id,
            "SELECT seq, body, snapshot_id FROM ops WHERE project_id = ?1 ORDER BY seq",
        )
    }

    /// The ops no snapshot includes yet, by seq.
    pub fn uncommitted_ops(&self, project_id: &str) -> Result<Vec<StoredOp>> {
        self.load_ops(
            project_id,
            "SELECT seq, body, snapshot_id FROM ops \
             WHERE project_id = ?1 AND snapshot_id IS NULL ORDER BY seq",
        )
    }

    fn load_ops(&self, project_id: &str, sql: &str) -> Result<Vec<StoredOp>> {
        let action = format!("reading the ops of project {project_id}");
        let mut stmt = self.conn.prepare_cached(sql).ctx(&action)?;
        let rows = stmt
            .query_map([project_id], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<String>>(2)?,
                ))
            })
            .ctx(&action)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx(&action)?;
        rows.into_iter()
            .map(|(seq, body, snapshot_id)| {
                let op: Op = serde_json::from_str(&body).map_err(|e| StoreError::Unreadable {
                    what: format!("op {seq} of project {project_id}"),
                    reason: e.to_string(),
                })?;
                Ok(StoredOp {
                    seq,
                    op,
                    snapshot_id,
                })
            })
            .collect()
    }

    /// The highest seq in the project's log, 0 when the log is empty.
    pub fn last_seq(&self, project_id: &str) -> Result<i64> {
        let action = format!("reading the last op of project {project_id}");
        self.conn
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM ops WHERE project_id = ?1")
            .ctx(&action)?
            .query_row([project_id], |row| row.get(0))
            .ctx(&action)
    }

    /// Every snapshot of the project, by version, each verified against its
    /// hash; the first bad one fails the call with [`StoreError::Corrupt`] or
    /// [`StoreError::Unreadable`].
    pub fn snapshots(&self, project_id: &str) -> Result<Vec<Snapshot>> {
        self.snapshot_rows(project_id)?
            .iter()
            .map(|row| row.decode().map_err(StoreError::from))
            .collect()
    }

    /// The project's snapshot with this version, verified, or
    /// [`StoreError::UnknownSnapshot`].
    pub fn snapshot(&self, project_id: &str, version: &semver::Version) -> Result<Snapshot> {
        let action = format!("reading snapshot {version}");
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE project_id = ?1 AND version = ?2"
        );
        let row = self
            .conn
            .prepare_cached(&sql)
            .ctx(&action)?
            .query_row(params![project_id, version.to_string()], SnapshotRow::read)
            .optional()
            .ctx(&action)?
            .ok_or_else(|| StoreError::UnknownSnapshot(version.clone()))?;
        Ok(row.decode()?)
    }

    /// The project's highest snapshot version, without loading any state.
    pub fn latest_version(&self, project_id: &str) -> Result<Option<semver::Version>> {
        Ok(self
            .snapshot_versions(project_id)?
            .into_iter()
            .map(|(_, version)| version)
            .max())
    }

    /// The project's latest snapshot, verified, or `None` before the first one.
    pub fn latest_snapshot(&self, project_id: &str) -> Result<Option<Snapshot>> {
        match self.latest_version(project_id)? {
            Some(version) => self.snapshot(project_id, &version).map(Some),
            None => Ok(None),
        }
    }

    /// Checks every snapshot of the project without stopping at the first bad
    /// one, so a report can list them all. Snapshots come by version; a row
    /// whose version text is damaged is keyed by its numeric version columns.
    pub fn verify_snapshots(
        &self,
        project_id: &str,
    ) -> Result<Vec<(semver::Version, Result<(), SnapshotFault>)>> {
        Ok(self
            .snapshot_rows(project_id)?
            .iter()
            .map(|row| (row.key(), row.decode().map(|_| ())))
            .collect())
    }

    /// `(id, version)` of every snapshot of the project, unordered. Rows whose
    /// version text does not parse are left out here; loading them reports it.
    pub(crate) fn snapshot_versions(
        &self,
        project_id: &str,
    ) -> Result<Vec<(String, semver::Version)>> {
        let action = format!("reading the snapshot versions of project {project_id}");
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, version FROM snapshots WHERE project_id = ?1")
            .ctx(&action)?;
        let rows = stmt
            .query_map([project_id], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .ctx(&action)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx(&action)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, text)| semver::Version::parse(&text).ok().map(|v| (id, v)))
            .collect())
    }

    /// Raw snapshot rows, sorted by version (pre-releases before their release,
    /// which the numeric SQL ordering alone cannot do).
    fn snapshot_rows(&self, project_id: &str) -> Result<Vec<SnapshotRow>> {
        let action = format!("reading the snapshots of project {project_id}");
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE project_id = ?1 \
             ORDER BY major, minor, patch"
        );
        let mut stmt = self.conn.prepare_cached(&sql).ctx(&action)?;
        let mut rows = stmt
            .query_map([project_id], SnapshotRow::read)
            .ctx(&action)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx(&action)?;
        rows.sort_by_cached_key(SnapshotRow::key);
        Ok(rows)
    }
}

const PROJECT_BY_ID: &str = "SELECT id, name, created_at FROM projects WHERE id = ?1";
const PROJECT_BY_NAME: &str = "SELECT id, name, created_at FROM projects WHERE name = ?1";

fn project_columns(row: &Row<'_>) -> rusqlite::Result<(String, String, String)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

fn decode_project((id, name, created_at): (String, String, String)) -> Result<Project> {
    let created_at = parse_time(&created_at).map_err(|reason| StoreError::Unreadable {
        what: format!("project {name}"),
        reason,
    })?;
    Ok(Project {
        id,
        name,
        created_at,
    })
}

/// The columns [`SnapshotRow`] reads, in its order.
const SNAPSHOT_COLUMNS: &str = "id, version, major, minor, patch, name, comment, tags, \
     created_by, created_at, previous_id, ops_included, state, hash";

/// One `snapshots` row as raw SQLite values, so that a damaged row (even a
/// column of the wrong type) becomes a [`SnapshotFault`] rather than a failed
/// query that would hide every other row from `verify_snapshots`.
struct SnapshotRow(Vec<Value>);

impl SnapshotRow {
    fn read(row: &Row<'_>) -> rusqlite::Result<SnapshotRow> {
        (0..14)
            .map(|i| row.get::<_, Value>(i))
            .collect::<rusqlite::Result<_>>()
            .map(SnapshotRow)
    }

    fn text(&self, index: usize, column: &str) -> Result<String, String> {
        match &self.0[index] {
            Value::Text(text) => Ok(text.clone()),
            _ => Err(format!("column {column} is not text")),
        }
    }

    fn optional_text(&self, index: usize, column: &str) -> Result<Option<String>, String> {
        match &self.0[index] {
            Value::Null => Ok(None),
            _ => self.text(index, column).map(Some),
        }
    }

    fn integer(&self, index: usize) -> Option<u64> {
        match self.0[index] {
            Value::Integer(n) => u64::try_from(n).ok(),
            _ => None,
        }
    }

    /// The stored version text, for messages about a row that may not parse.
    fn label(&self) -> String {
        match &self.0[1] {
            Value::Text(text) => text.clone(),
            _ => self.numeric_version().to_string(),
        }
    }

    fn numeric_version(&self) -> semver::Version {
        semver::Version::new(
            self.integer(2).unwrap_or(0),
            self.integer(3).unwrap_or(0),
            self.integer(4).unwrap_or(0),
        )
    }

    /// The row's version: the parsed text, or the numeric columns if the text is damaged.
    fn key(&self) -> semver::Version {
        self.text(1, "version")
            .ok()
            .and_then(|text| semver::Version::parse(&text).ok())
            .unwrap_or_else(|| self.numeric_version())
    }

    /// Parses the row into a snapshot and verifies its hash.
    fn decode(&self) -> Result<Snapshot, SnapshotFault> {
        let snapshot = self.parse().map_err(|reason| SnapshotFault::Unreadable {
            version: self.label(),
            reason,
        })?;
        snapshot.verify()?;
        Ok(snapshot)
    }

    fn parse(&self) -> Result<Snapshot, String> {
        let version_text = self.text(1, "version")?;
        let version = semver::Version::parse(&version_text)
            .map_err(|e| format!("version {version_text:?} is not a semantic version: {e}"))?;
        // The hash does not cover the version, so the copy in the numeric
        // columns is the check against a version edited by hand.
        let numeric = (self.integer(2), self.integer(3), self.integer(4));
        if numeric
            != (
                Some(version.major),
                Some(version.minor),
                Some(version.patch),
            )
        {
            return Err(format!(
                "version {version} disagrees with its numeric columns {numeric:?}"
            ));
        }
        let tags: Vec<String> = serde_json::from_str(&self.text(7, "tags")?)
            .map_err(|e| format!("column tags is not a JSON list of strings: {e}"))?;
        let ops_included: Vec<String> = serde_json::from_str(&self.text(11, "ops_included")?)
            .map_err(|e| format!("column ops_included is not a JSON list of op ids: {e}"))?;
        let state: State = serde_json::from_str(&self.text(12, "state")?)
            .map_err(|e| format!("column state is not a valid schema state: {e}"))?;
        Ok(Snapshot {
            id: self.text(0, "id")?,
            version,
            name: self.text(5, "name")?,
            comment: self.optional_text(6, "comment")?,
            tags,
            created_by: self.text(8, "created_by")?,
            created_at: parse_time(&self.text(9, "created_at")?)?,
            previous: self.optional_text(10, "previous_id")?,
            ops_included,
            state,
            hash: SnapshotHash(self.text(13, "hash")?),
        })
    }
}
