//! Metadata scan runs, the labels users attach to scanned objects, and
//! incremental diffs between two runs.
//!
//! Scanned objects keep their attribute maps as JSON text: the diff compares
//! tens of thousands of them and only needs to parse the few whose text
//! differs.

use crate::error::{Result, SqlContext, StoreError};
use crate::read::ReadView;
use crate::write::WriteTx;
use crate::{format_time, parse_time};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The kind of object a scan records.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum AssetType {
    /// A schema (a database on MySQL).
    Schema,
    /// A table.
    Table,
    /// A column.
    Column,
}

impl AssetType {
    /// Every asset type, in containment order.
    pub const ALL: [AssetType; 3] = [AssetType::Schema, AssetType::Table, AssetType::Column];

    /// `schema`, `table` or `column`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            AssetType::Schema => "schema",
            AssetType::Table => "table",
            AssetType::Column => "column",
        }
    }

    fn parse(text: &str) -> Option<AssetType> {
        AssetType::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// How an object differs between the older and the newer scan run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum ChangeType {
    /// Only in the newer run.
    Added,
    /// Only in the older run.
    Removed,
    /// In both, with different attributes or custom attributes.
    Modified,
}

impl ChangeType {
    /// Every change type.
    pub const ALL: [ChangeType; 3] = [ChangeType::Added, ChangeType::Removed, ChangeType::Modified];

    /// `added`, `removed` or `modified`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Added => "added",
            ChangeType::Removed => "removed",
            ChangeType::Modified => "modified",
        }
    }

    fn parse(text: &str) -> Option<ChangeType> {
        ChangeType::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// Whether a scan run read the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    /// Every object was read and stored.
    Completed,
    /// Reading failed; the run holds no objects.
    Failed,
}

/// One scan of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct ScanRun {
    /// The run's UUID.
    pub id: String,
    /// The connection's name.
    pub connection: String,
    /// postgres, mysql, sqlite, sqlserver or databricks.
    pub kind: String,
    /// The URL without credentials.
    pub target: String,
    /// The schemas asked for; empty means every user schema.
    pub schemas: Vec<String>,
    /// When reading started.
    pub started_at: DateTime<Utc>,
    /// When the run ended.
    pub completed_at: DateTime<Utc>,
    /// Completed or failed.
    pub status: ScanStatus,
    /// Why it failed.
    pub error_message: Option<String>,
    /// Schemas recorded.
    #[ts(type = "number")]
    pub schema_count: u64,
    /// Tables recorded.
    #[ts(type = "number")]
    pub table_count: u64,
    /// Columns recorded.
    #[ts(type = "number")]
    pub column_count: u64,
}

/// One schema, table or column of a scan run.
///
/// The three maps are JSON object text, written by the app in a fixed key
/// order so that equal maps have equal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanObject {
    /// Schema, table or column.
    pub object_type: AssetType,
    /// The object path (`schema`, `schema.table`, `schema.table.column`).
    pub path: String,
    /// The schema's name.
    pub schema_name: String,
    /// The table's name (tables and columns).
    pub table_name: Option<String>,
    /// The column's name (columns).
    pub column_name: Option<String>,
    /// Attributes the diff compares (type, nullability, keys, comment…).
    pub attributes: String,
    /// Labels in force when the run was recorded.
    pub custom_attributes: String,
    /// Facts shown but never compared on their own (row estimates, times).
    pub info: String,
}

/// A custom attribute attached to an object of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct ScanLabel {
    /// The object path.
    pub path: String,
    /// Attribute name, e.g. `owner`.
    pub key: String,
    /// Attribute value.
    pub value: String,
    /// When it was last set.
    pub updated_at: DateTime<Utc>,
}

/// Where an incremental diff is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum DiffStatus {
    /// Comparing or writing.
    Running,
    /// Every change row is stored.
    Completed,
    /// It stopped; no change row of it is stored.
    Failed,
}

impl DiffStatus {
    fn as_str(self) -> &'static str {
        match self {
            DiffStatus::Running => "running",
            DiffStatus::Completed => "completed",
            DiffStatus::Failed => "failed",
        }
    }
}

/// Where an incremental diff wrote its change rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum DiffFormat {
    /// The workspace's `incremental_diff_*` tables.
    Sqlite,
    /// The same tables in a PostgreSQL schema.
    Postgres,
}

impl DiffFormat {
    /// `sqlite` or `postgres`, as stored and typed on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            DiffFormat::Sqlite => "sqlite",
            DiffFormat::Postgres => "postgres",
        }
    }
}

/// How many objects were added, removed and modified.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct ChangeTally {
    /// Added objects.
    #[ts(type = "number")]
    pub added: u64,
    /// Removed objects.
    #[ts(type = "number")]
    pub removed: u64,
    /// Modified objects.
    #[ts(type = "number")]
    pub modified: u64,
}

impl ChangeTally {
    /// Added + removed + modified.
    pub fn total(&self) -> u64 {
        self.added + self.removed + self.modified
    }

    fn bump(&mut self, change: ChangeType) {
        match change {
            ChangeType::Added => self.added += 1,
            ChangeType::Removed => self.removed += 1,
            ChangeType::Modified => self.modified += 1,
        }
    }
}

/// Change counts per asset type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct ChangeCounts {
    /// Schemas.
    pub schema: ChangeTally,
    /// Tables.
    pub table: ChangeTally,
    /// Columns.
    pub column: ChangeTally,
}

impl ChangeCounts {
    /// Counts the changes of a list.
    pub fn of(changes: &[DiffChange]) -> ChangeCounts {
        let mut counts = ChangeCounts::default();
        for c in changes {
            counts.tally_mut(c.asset_type).bump(c.change_type);
        }
        counts
    }

    /// The tally of one asset type.
    pub fn tally(&self, asset: AssetType) -> ChangeTally {
        match asset {
            AssetType::Schema => self.schema,
            AssetType::Table => self.table,
            AssetType::Column => self.column,
        }
    }

    fn tally_mut(&mut self, asset: AssetType) -> &mut ChangeTally {
        match asset {
            AssetType::Schema => &mut self.schema,
            AssetType::Table => &mut self.table,
            AssetType::Column => &mut self.column,
        }
    }

    /// Every change of every asset type.
    pub fn total(&self) -> u64 {
        self.schema.total() + self.table.total() + self.column.total()
    }
}

/// One incremental diff between two scan runs of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct DiffRun {
    /// The diff's UUID.
    pub diff_sync_id: String,
    /// The connection's name.
    pub connection_id: String,
    /// The older scan run.
    pub sync_run_1_id: String,
    /// The newer scan run.
    pub sync_run_2_id: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it completed or failed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Running, completed or failed.
    pub status: DiffStatus,
    /// Why it failed.
    pub error_message: Option<String>,
    /// When the row was created.
    pub created_at: DateTime<Utc>,
    /// Where the change rows are.
    pub output_format: DiffFormat,
    /// With `postgres`: the output database's URL, without credentials.
    pub output_url: Option<String>,
    /// With `postgres`: the output schema.
    pub output_schema: Option<String>,
    /// With `postgres`: the connection whose password opens the output, when
    /// the output is a named connection.
    pub output_connection: Option<String>,
    /// Change counts, once completed.
    pub counts: Option<ChangeCounts>,
}

/// One changed schema, table or column of a diff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct DiffChange {
    /// The row's UUID.
    pub diff_id: String,
    /// Schema, table or column.
    pub asset_type: AssetType,
    /// The schema's name.
    pub schema_name: String,
    /// The table's name (tables and columns).
    pub table_name: Option<String>,
    /// The column's name (columns).
    pub column_name: Option<String>,
    /// Added, removed or modified.
    pub change_type: ChangeType,
    /// The object in the older run (`null` when added).
    pub sync_run_1_data: Option<Value>,
    /// The object in the newer run (`null` when removed).
    pub sync_run_2_data: Option<Value>,
    /// What differs (`null` when added or removed).
    pub differences: Option<Value>,
    /// When the row was written.
    pub created_at: DateTime<Utc>,
}

fn unreadable(what: String) -> impl Fn(String) -> StoreError {
    move |reason| StoreError::Unreadable {
        what: what.clone(),
        reason,
    }
}

fn json_text(value: &Option<Value>, what: &str) -> Result<Option<String>> {
    value
        .as_ref()
        .map(|v| {
            serde_json::to_string(v).map_err(|source| StoreError::Json {
                what: what.to_string(),
                source,
            })
        })
        .transpose()
}

fn json_value(text: Option<String>, what: &str) -> Result<Option<Value>> {
    text.map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| StoreError::Unreadable {
            what: what.to_string(),
            reason: e.to_string(),
        })
}

const SCAN_RUN_COLUMNS: &str = "id, connection, kind, target, schemas, started_at, completed_at, \
     status, error_message, schema_count, table_count, column_count";

type ScanRunRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    [i64; 3],
);

fn read_scan_run(row: &Row<'_>) -> rusqlite::Result<ScanRunRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
        [row.get(9)?, row.get(10)?, row.get(11)?],
    ))
}

fn decode_scan_run(row: ScanRunRow) -> Result<ScanRun> {
    let (id, connection, kind, target, schemas, started, completed, status, error, counts) = row;
    let bad = unreadable(format!("scan run {id}"));
    Ok(ScanRun {
        schemas: serde_json::from_str(&schemas).map_err(|e| bad(e.to_string()))?,
        started_at: parse_time(&started).map_err(&bad)?,
        completed_at: parse_time(&completed).map_err(&bad)?,
        status: match status.as_str() {
            "completed" => ScanStatus::Completed,
            "failed" => ScanStatus::Failed,
            other => return Err(bad(format!("unknown status {other:?}"))),
        },
        error_message: error,
        schema_count: counts[0].max(0) as u64,
        table_count: counts[1].max(0) as u64,
        column_count: counts[2].max(0) as u64,
        id,
        connection,
        kind,
        target,
    })
}

const DIFF_RUN_COLUMNS: &str = "diff_sync_id, connection_id, sync_run_1_id, sync_run_2_id, \
     started_at, completed_at, status, error_message, created_at, output_format, output_url, \
     output_schema, output_connection, counts";

type DiffRunRow = (
    [String; 4],
    String,
    Option<String>,
    String,
    Option<String>,
    String,
    String,
    [Option<String>; 4],
);

fn read_diff_run(row: &Row<'_>) -> rusqlite::Result<DiffRunRow> {
    Ok((
        [row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?],
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
        row.get(9)?,
        [row.get(10)?, row.get(11)?, row.get(12)?, row.get(13)?],
    ))
}

fn decode_diff_run(row: DiffRunRow) -> Result<DiffRun> {
    let ([id, connection, run_1, run_2], started, completed, status, error, created, format, rest) =
        row;
    let [output_url, output_schema, output_connection, counts] = rest;
    let bad = unreadable(format!("incremental diff {id}"));
    Ok(DiffRun {
        started_at: parse_time(&started).map_err(&bad)?,
        completed_at: completed
            .map(|c| parse_time(&c))
            .transpose()
            .map_err(&bad)?,
        status: match status.as_str() {
            "running" => DiffStatus::Running,
            "completed" => DiffStatus::Completed,
            "failed" => DiffStatus::Failed,
            other => return Err(bad(format!("unknown status {other:?}"))),
        },
        error_message: error,
        created_at: parse_time(&created).map_err(&bad)?,
        output_format: match format.as_str() {
            "sqlite" => DiffFormat::Sqlite,
            "postgres" => DiffFormat::Postgres,
            other => return Err(bad(format!("unknown output format {other:?}"))),
        },
        output_url,
        output_schema,
        output_connection,
        counts: counts
            .map(|c| serde_json::from_str(&c))
            .transpose()
            .map_err(|e| bad(e.to_string()))?,
        diff_sync_id: id,
        connection_id: connection,
        sync_run_1_id: run_1,
        sync_run_2_id: run_2,
    })
}

/// The diff table of an asset type.
fn diff_table(asset: AssetType) -> &'static str {
    match asset {
        AssetType::Schema => "incremental_diff_schema",
        AssetType::Table => "incremental_diff_table",
        AssetType::Column => "incremental_diff_column",
    }
}

impl ReadView {
    /// The scan runs of a connection, newest first.
    pub fn scan_runs(&self, connection: &str) -> Result<Vec<ScanRun>> {
        let action = format!("listing the scan runs of {connection}");
        let rows = self
            .conn
            .prepare_cached(&format!(
                "SELECT {SCAN_RUN_COLUMNS} FROM scan_runs WHERE connection = ?1 \
                 ORDER BY started_at DESC, rowid DESC"
            ))
            .ctx(&action)?
            .query_map([connection], read_scan_run)
            .ctx(&action)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx(&action)?;
        rows.into_iter().map(decode_scan_run).collect()
    }

    /// The newest `limit` completed scan runs of a connection, newest first.
    pub fn latest_completed_scan_runs(
        &self,
        connection: &str,
        limit: usize,
    ) -> Result<Vec<ScanRun>> {
        let action = format!("finding the latest scan runs of {connection}");
        let rows = self
            .conn
            .prepare_cached(&format!(
                "SELECT {SCAN_RUN_COLUMNS} FROM scan_runs \
                 WHERE connection = ?1 AND status = 'completed' \
                 ORDER BY started_at DESC, rowid DESC LIMIT ?2"
            ))
            .ctx(&action)?
            .query_map(params![connection, limit as i64], read_scan_run)
            .ctx(&action)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx(&action)?;
        rows.into_iter().map(decode_scan_run).collect()
    }

    /// The scan run with this id, if there is one.
    pub fn scan_run(&self, id: &str) -> Result<Option<ScanRun>> {
        let action = format!("looking up scan run {id}");
        self.conn
            .prepare_cached(&format!(
                "SELECT {SCAN_RUN_COLUMNS} FROM scan_runs WHERE id = ?1"
            ))
            .ctx(&action)?
            .query_row([id], read_scan_run)
            .optional()
            .ctx(&action)?
            .map(decode_scan_run)
            .transpose()
    }

    /// Every object of a scan run, by type and path.
    pub fn scan_objects(&self, run_id: &str) -> Result<Vec<ScanObject>> {
        let action = format!("reading the objects of scan run {run_id}");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT object_type, path, schema_name, table_name, column_name, attributes, \
                        custom_attributes, info \
                 FROM scan_objects WHERE run_id = ?1 ORDER BY object_type, path",
            )
            .ctx(&action)?;
        let rows = stmt
            .query_map([run_id], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    ScanObject {
                        object_type: AssetType::Schema,
                        path: row.get(1)?,
                        schema_name: row.get(2)?,
                        table_name: row.get(3)?,
                        column_name: row.get(4)?,
                        attributes: row.get(5)?,
                        custom_attributes: row.get(6)?,
                        info: row.get(7)?,
                    },
                ))
            })
            .ctx(&action)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx(&action)?;
        rows.into_iter()
            .map(|(kind, mut object)| {
                object.object_type =
                    AssetType::parse(&kind).ok_or_else(|| StoreError::Unreadable {
                        what: format!("object {} of scan run {run_id}", object.path),
                        reason: format!("unknown object type {kind:?}"),
                    })?;
                Ok(object)
            })
            .collect()
    }

    /// The custom attributes attached to a connection's objects, by path and key.
    pub fn scan_labels(&self, connection: &str) -> Result<Vec<ScanLabel>> {
        let action = format!("reading the labels of {connection}");
        let rows = self
            .conn
            .prepare_cached(
                "SELECT path, key, value, updated_at FROM scan_labels \
                 WHERE connection = ?1 ORDER BY path, key",
            )
            .ctx(&action)?
            .query_map([connection], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                ))
            })
            .ctx(&action)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx(&action)?;
        rows.into_iter()
            .map(|(path, key, value, updated)| {
                let updated_at =
                    parse_time(&updated).map_err(unreadable(format!("label {key} of {path}")))?;
                Ok(ScanLabel {
                    path,
                    key,
                    value,
                    updated_at,
                })
            })
            .collect()
    }

    /// The incremental diffs of a connection, newest first.
    pub fn diff_runs(&self, connection: &str) -> Result<Vec<DiffRun>> {
        let action = format!("listing the incremental diffs of {connection}");
        let rows = self
            .conn
            .prepare_cached(&format!(
                "SELECT {DIFF_RUN_COLUMNS} FROM diff_sync_runs WHERE connection_id = ?1 \
                 ORDER BY started_at DESC, rowid DESC"
            ))
            .ctx(&action)?
            .query_map([connection], read_diff_run)
            .ctx(&action)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx(&action)?;
        rows.into_iter().map(decode_diff_run).collect()
    }

    /// The incremental diff with this id, if there is one.
    pub fn diff_run(&self, id: &str) -> Result<Option<DiffRun>> {
        let action = format!("looking up incremental diff {id}");
        self.conn
            .prepare_cached(&format!(
                "SELECT {DIFF_RUN_COLUMNS} FROM diff_sync_runs WHERE diff_sync_id = ?1"
            ))
            .ctx(&action)?
            .query_row([id], read_diff_run)
            .optional()
            .ctx(&action)?
            .map(decode_diff_run)
            .transpose()
    }

    /// The change rows of a diff stored in this workspace: schemas, then
    /// tables, then columns, each by name.
    pub fn diff_changes(&self, diff_sync_id: &str) -> Result<Vec<DiffChange>> {
        let mut changes = Vec::new();
        for asset in AssetType::ALL {
            let action = format!(
                "reading the {} changes of diff {diff_sync_id}",
                asset.as_str()
            );
            let (table_col, column_col) = match asset {
                AssetType::Schema => ("NULL", "NULL"),
                AssetType::Table => ("table_name", "NULL"),
                AssetType::Column => ("table_name", "column_name"),
            };
            let sql = format!(
                "SELECT diff_id, schema_name, {table_col}, {column_col}, change_type, \
                        sync_run_1_data, sync_run_2_data, differences, created_at \
                 FROM {} WHERE diff_sync_id = ?1 \
                 ORDER BY schema_name, {table_col}, {column_col}",
                diff_table(asset)
            );
            let mut stmt = self.conn.prepare_cached(&sql).ctx(&action)?;
            type Raw = (
                String,
                String,
                Option<String>,
                Option<String>,
                String,
                [Option<String>; 3],
                String,
            );
            let rows = stmt
                .query_map([diff_sync_id], |row| -> rusqlite::Result<Raw> {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        [row.get(5)?, row.get(6)?, row.get(7)?],
                        row.get(8)?,
                    ))
                })
                .ctx(&action)?
                .collect::<rusqlite::Result<Vec<Raw>>>()
                .ctx(&action)?;
            for (
                diff_id,
                schema_name,
                table_name,
                column_name,
                change,
                [old, new, differences],
                created,
            ) in rows
            {
                let what = format!("change {diff_id} of diff {diff_sync_id}");
                let bad = unreadable(what.clone());
                changes.push(DiffChange {
                    asset_type: asset,
                    change_type: ChangeType::parse(&change)
                        .ok_or_else(|| bad(format!("unknown change type {change:?}")))?,
                    sync_run_1_data: json_value(old, &what)?,
                    sync_run_2_data: json_value(new, &what)?,
                    differences: json_value(differences, &what)?,
                    created_at: parse_time(&created).map_err(&bad)?,
                    diff_id,
                    schema_name,
                    table_name,
                    column_name,
                });
            }
        }
        Ok(changes)
    }
}

impl WriteTx<'_> {
    /// Runs `f` inside a savepoint, so a failed call writes nothing even if
    /// the caller carries on with the transaction.
    fn savepoint<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let conn = self.conn();
        conn.execute_batch("SAVEPOINT scan_write")
            .ctx("starting a savepoint")?;
        match f() {
            Ok(value) => {
                conn.execute_batch("RELEASE scan_write")
                    .ctx("releasing a savepoint")?;
                Ok(value)
            }
            Err(e) => {
                conn.execute_batch("ROLLBACK TO scan_write; RELEASE scan_write")
                    .ctx("rolling back a savepoint")?;
                Err(e)
            }
        }
    }

    /// Records a scan run and its objects.
    pub fn insert_scan_run(&self, run: &ScanRun, objects: &[ScanObject]) -> Result<()> {
        self.savepoint(|| {
            let action = format!("recording scan run {}", run.id);
            let schemas =
                serde_json::to_string(&run.schemas).map_err(|source| StoreError::Json {
                    what: "the scanned schema list".into(),
                    source,
                })?;
            self.conn()
                .prepare_cached(&format!(
                    "INSERT INTO scan_runs ({SCAN_RUN_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                ))
                .ctx(&action)?
                .execute(params![
                    run.id,
                    run.connection,
                    run.kind,
                    run.target,
                    schemas,
                    format_time(&run.started_at),
                    format_time(&run.completed_at),
                    match run.status {
                        ScanStatus::Completed => "completed",
                        ScanStatus::Failed => "failed",
                    },
                    run.error_message,
                    run.schema_count as i64,
                    run.table_count as i64,
                    run.column_count as i64,
                ])
                .ctx(&action)?;
            let mut stmt = self
                .conn()
                .prepare_cached(
                    "INSERT INTO scan_objects (run_id, object_type, path, schema_name, table_name, \
                        column_name, attributes, custom_attributes, info) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .ctx(&action)?;
            for o in objects {
                stmt.execute(params![
                    run.id,
                    o.object_type.as_str(),
                    o.path,
                    o.schema_name,
                    o.table_name,
                    o.column_name,
                    o.attributes,
                    o.custom_attributes,
                    o.info,
                ])
                .ctx(&format!("{action}: object {}", o.path))?;
            }
            Ok(())
        })
    }

    /// Sets and removes custom attributes of one object of a connection.
    pub fn set_scan_labels(
        &self,
        connection: &str,
        path: &str,
        set: &[(String, String)],
        unset: &[String],
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.savepoint(|| {
            let action = format!("labelling {path} of {connection}");
            let mut upsert = self
                .conn()
                .prepare_cached(
                    "INSERT INTO scan_labels (connection, path, key, value, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5) \
                     ON CONFLICT (connection, path, key) \
                     DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                )
                .ctx(&action)?;
            for (key, value) in set {
                upsert
                    .execute(params![connection, path, key, value, format_time(&at)])
                    .ctx(&action)?;
            }
            let mut delete = self
                .conn()
                .prepare_cached(
                    "DELETE FROM scan_labels WHERE connection = ?1 AND path = ?2 AND key = ?3",
                )
                .ctx(&action)?;
            for key in unset {
                delete
                    .execute(params![connection, path, key])
                    .ctx(&action)?;
            }
            Ok(())
        })
    }

    /// Records a new incremental diff (normally with status running).
    pub fn insert_diff_run(&self, run: &DiffRun) -> Result<()> {
        let action = format!("recording incremental diff {}", run.diff_sync_id);
        let counts = run
            .counts
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|source| StoreError::Json {
                what: "change counts".into(),
                source,
            })?;
        self.conn()
            .prepare_cached(&format!(
                "INSERT INTO diff_sync_runs ({DIFF_RUN_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
            ))
            .ctx(&action)?
            .execute(params![
                run.diff_sync_id,
                run.connection_id,
                run.sync_run_1_id,
                run.sync_run_2_id,
                format_time(&run.started_at),
                run.completed_at.as_ref().map(format_time),
                run.status.as_str(),
                run.error_message,
                format_time(&run.created_at),
                run.output_format.as_str(),
                run.output_url,
                run.output_schema,
                run.output_connection,
                counts,
            ])
            .ctx(&action)?;
        Ok(())
    }

    /// Stores the change rows of a diff in the workspace's
    /// `incremental_diff_*` tables, all or none.
    pub fn insert_diff_changes(&self, diff_sync_id: &str, changes: &[DiffChange]) -> Result<()> {
        self.savepoint(|| {
            for asset in AssetType::ALL {
                let action = format!("storing the {} changes of diff {diff_sync_id}", asset.as_str());
                let sql = match asset {
                    AssetType::Schema => {
                        "INSERT INTO incremental_diff_schema (diff_id, diff_sync_id, schema_name, \
                            change_type, sync_run_1_data, sync_run_2_data, differences, created_at) \
                         VALUES (?1, ?2, ?3, ?6, ?7, ?8, ?9, ?10)"
                    }
                    AssetType::Table => {
                        "INSERT INTO incremental_diff_table (diff_id, diff_sync_id, schema_name, \
                            table_name, change_type, sync_run_1_data, sync_run_2_data, differences, \
                            created_at) \
                         VALUES (?1, ?2, ?3, ?4, ?6, ?7, ?8, ?9, ?10)"
                    }
                    AssetType::Column => {
                        "INSERT INTO incremental_diff_column (diff_id, diff_sync_id, schema_name, \
                            table_name, column_name, change_type, sync_run_1_data, sync_run_2_data, \
                            differences, created_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                    }
                };
                let mut stmt = self.conn().prepare_cached(sql).ctx(&action)?;
                for c in changes.iter().filter(|c| c.asset_type == asset) {
                    let what = format!("change {}", c.diff_id);
                    stmt.execute(params![
                        c.diff_id,
                        diff_sync_id,
                        c.schema_name,
                        c.table_name,
                        c.column_name,
                        c.change_type.as_str(),
                        json_text(&c.sync_run_1_data, &what)?,
                        json_text(&c.sync_run_2_data, &what)?,
                        json_text(&c.differences, &what)?,
                        format_time(&c.created_at),
                    ])
                    .ctx(&action)?;
                }
            }
            Ok(())
        })
    }

    /// Marks a diff completed, with its totals.
    pub fn complete_diff_run(
        &self,
        diff_sync_id: &str,
        completed_at: DateTime<Utc>,
        counts: &ChangeCounts,
    ) -> Result<()> {
        let action = format!("completing incremental diff {diff_sync_id}");
        let counts_text = serde_json::to_string(counts).map_err(|source| StoreError::Json {
            what: "change counts".into(),
            source,
        })?;
        self.conn()
            .prepare_cached(
                "UPDATE diff_sync_runs SET status = 'completed', completed_at = ?2, \
                    total_schemas_changed = ?3, total_tables_changed = ?4, \
                    total_columns_changed = ?5, counts = ?6, error_message = NULL \
                 WHERE diff_sync_id = ?1",
            )
            .ctx(&action)?
            .execute(params![
                diff_sync_id,
                format_time(&completed_at),
                counts.schema.total() as i64,
                counts.table.total() as i64,
                counts.column.total() as i64,
                counts_text,
            ])
            .ctx(&action)?;
        Ok(())
    }

    /// Marks a diff failed with the error that stopped it.
    pub fn fail_diff_run(
        &self,
        diff_sync_id: &str,
        at: DateTime<Utc>,
        message: &str,
    ) -> Result<()> {
        let action = format!("marking incremental diff {diff_sync_id} failed");
        self.conn()
            .prepare_cached(
                "UPDATE diff_sync_runs SET status = 'failed', completed_at = ?2, \
                    error_message = ?3 WHERE diff_sync_id = ?1",
            )
            .ctx(&action)?
            .execute(params![diff_sync_id, format_time(&at), message])
            .ctx(&action)?;
        Ok(())
    }
}
