//! Moving table data between databases: extraction as Arrow record batches
//! and loading with a merge strategy, one module per database.
//!
//! This is the database-specific half of incremental sync; the sync engine
//! (change detection, the checkpoint protocol, the run coordinator) lives in
//! the `tidemark-sync` crate and talks to a database only through
//! [`Endpoint`].
//!
//! - **Extraction** reads a table's rows ordered by a tuple of columns (the
//!   tracking column, then the key), starting strictly after a position, and
//!   cuts them into batches of a fixed size. Watermark values are always bound
//!   as parameters, identifiers are always quoted.
//! - **Loading** converts every value to the target column's type first and
//!   refuses one it cannot represent exactly (naming the column and the row's
//!   key) instead of letting the database round or truncate it. A batch, its
//!   merge and the job's checkpoint row are written in one target
//!   transaction, so a checkpoint never moves unless the rows it covers are
//!   durable.
//!
//! Value kinds, their Arrow types and the type chosen for each kind when a
//! target table is created are documented in `docs/sync-types.md`.

mod mysql;
mod postgres;
mod rowmerge;
mod sqlite;
mod value;

use crate::error::DbError;
use crate::spec::ConnectionSpec;
use crate::DialectKind;
use arrow_array::RecordBatch;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use tokio::sync::mpsc;

pub use value::{arrow_type, check_compatible, row_cells_text, scalar_at};

/// A table, optionally qualified by its schema (a PostgreSQL schema, a MySQL
/// database); `None` means the connection's default.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TableName {
    /// Schema, or `None` for the connection's default.
    pub schema: Option<String>,
    /// Table name.
    pub name: String,
}

impl TableName {
    /// Parses `table` or `schema.table`.
    pub fn parse(text: &str) -> TableName {
        match text.split_once('.') {
            Some((schema, name)) if !schema.is_empty() && !name.is_empty() => TableName {
                schema: Some(schema.to_string()),
                name: name.to_string(),
            },
            _ => TableName {
                schema: None,
                name: text.to_string(),
            },
        }
    }

    /// The same name in another table of the same schema.
    pub fn sibling(&self, name: &str) -> TableName {
        TableName {
            schema: self.schema.clone(),
            name: name.to_string(),
        }
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// What a column holds, independent of the database: the common ground the
/// type mapping between databases is defined on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ValueKind {
    /// true / false.
    Bool,
    /// An integer of `bytes` bytes (1, 2, 3, 4 or 8), possibly unsigned.
    Int {
        /// Storage size in bytes (3 is MySQL's MEDIUMINT).
        bytes: u8,
        /// Whether negative values are refused.
        unsigned: bool,
    },
    /// A binary floating-point number.
    Float {
        /// 8 bytes (double) rather than 4.
        double: bool,
    },
    /// An exact decimal with at most 38 digits.
    Decimal {
        /// Total digits.
        precision: u8,
        /// Digits after the point.
        scale: i8,
    },
    /// An exact decimal that does not fit 38 digits or has no declared
    /// precision; carried as its decimal text.
    BigDecimal {
        /// Total digits, if declared.
        precision: Option<u32>,
        /// Digits after the point, if declared.
        scale: Option<u32>,
    },
    /// Unicode text.
    Text {
        /// The declared maximum length in characters, if any.
        max_chars: Option<u32>,
    },
    /// Bytes.
    Binary {
        /// The declared maximum length in bytes, if any.
        max_bytes: Option<u32>,
    },
    /// A calendar date.
    Date,
    /// A time of day.
    Time {
        /// Fractional-second digits kept (0–6).
        precision: u8,
    },
    /// A date and time, with microseconds.
    Timestamp {
        /// Whether it denotes an instant (stored as UTC) rather than a wall
        /// clock reading.
        tz: bool,
        /// Fractional-second digits kept (0–6).
        precision: u8,
        /// MySQL's TIMESTAMP: only 1970-01-01 00:00:01 to 2038-01-19
        /// 03:14:07 UTC fit.
        epoch32: bool,
    },
    /// A UUID.
    Uuid,
    /// A JSON document.
    Json,
    /// Anything else (enums, network addresses, intervals, arrays…): carried
    /// as the database's text form and loaded only into a column of the same
    /// declared type or into text.
    Other,
}

impl ValueKind {
    /// Whether values of this kind have a well-defined order that a
    /// watermark can follow.
    pub fn orderable(&self) -> bool {
        !matches!(
            self,
            ValueKind::Json | ValueKind::Other | ValueKind::Float { .. } | ValueKind::Bool
        )
    }

    /// Whether this is a date-and-time kind (a timestamp tracking column).
    pub fn is_timestamp(&self) -> bool {
        matches!(self, ValueKind::Timestamp { .. } | ValueKind::Date)
    }

    /// Whether this is an integer kind (a sequence or version column).
    pub fn is_integer(&self) -> bool {
        matches!(self, ValueKind::Int { .. })
    }
}

/// One column of a live table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnInfo {
    /// Column name.
    pub name: String,
    /// The declared type as the database spells it, e.g. `numeric(12,2)`.
    pub native: String,
    /// What it holds.
    pub kind: ValueKind,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// Whether the database numbers it by itself (identity, serial,
    /// AUTO_INCREMENT, SQLite's INTEGER PRIMARY KEY).
    pub auto_increment: bool,
    /// Whether it has a default value.
    pub has_default: bool,
}

/// A live table: its columns in order and its keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableInfo {
    /// The table, with its schema resolved.
    pub name: TableName,
    /// Columns in table order.
    pub columns: Vec<ColumnInfo>,
    /// Primary-key columns in key order; empty when there is none.
    pub primary_key: Vec<String>,
    /// Every unique key (including the primary key), as column lists.
    pub unique_keys: Vec<Vec<String>>,
    /// Whether writes to it can be rolled back (false for MyISAM and the
    /// like, which cannot hold a checkpoint transaction).
    pub transactional: bool,
}

impl TableInfo {
    /// The column named `name` (exact match first, then case-insensitive,
    /// since MySQL and SQLite compare column names case-insensitively).
    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name).or_else(|| {
            self.columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(name))
        })
    }

    /// Whether some unique key consists of exactly these columns (in any
    /// order).
    pub fn has_unique_key(&self, columns: &[String]) -> bool {
        let wanted: HashSet<String> = columns.iter().map(|c| c.to_ascii_lowercase()).collect();
        self.unique_keys.iter().any(|key| {
            key.len() == wanted.len()
                && key.iter().all(|c| wanted.contains(&c.to_ascii_lowercase()))
        })
    }
}

/// One value of a watermark or a key, as stored in a checkpoint.
///
/// Timestamps are `YYYY-MM-DD HH:MM:SS.ffffff` (UTC for `timestamp_tz`), so
/// no precision is lost on the way through a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scalar {
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer above `i64::MAX`.
    UInt(u64),
    /// A float (only ever a key, never a cursor).
    Float(f64),
    /// A decimal, as text.
    Decimal(String),
    /// Text (also SQLite's stored text of a date or time).
    Text(String),
    /// Bytes, as lowercase hex.
    Bytes(String),
    /// `YYYY-MM-DD`.
    Date(String),
    /// `HH:MM:SS.ffffff`.
    Time(String),
    /// A wall-clock date and time.
    Timestamp(String),
    /// An instant, in UTC.
    TimestampTz(String),
    /// A UUID, hyphenated lowercase.
    Uuid(String),
}

impl Scalar {
    /// A string equal for equal keys whichever database they were read
    /// from, for comparing key sets across databases.
    pub fn canonical(&self) -> String {
        match self {
            Scalar::Bool(b) => format!("b{}", u8::from(*b)),
            Scalar::Int(i) => format!("i{i}"),
            Scalar::UInt(u) => format!("i{u}"),
            Scalar::Float(f) => format!("f{f}"),
            Scalar::Decimal(d) => format!("d{}", value::normalize_decimal_text(d)),
            Scalar::Text(s) => format!("s{s}"),
            Scalar::Uuid(s) => format!("s{}", s.to_ascii_lowercase()),
            Scalar::Bytes(h) => format!("x{h}"),
            Scalar::Date(s) => format!("t{s}"),
            Scalar::Time(s) => format!("h{s}"),
            Scalar::Timestamp(s) | Scalar::TimestampTz(s) => format!("t{s}"),
        }
    }

    /// The value as plain text, for messages (`id=17`).
    pub fn display(&self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::UInt(u) => u.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bytes(h) => format!("\\x{h}"),
            Scalar::Decimal(s)
            | Scalar::Text(s)
            | Scalar::Date(s)
            | Scalar::Time(s)
            | Scalar::Timestamp(s)
            | Scalar::TimestampTz(s)
            | Scalar::Uuid(s) => s.clone(),
        }
    }

    /// Compares two values of the same column. Numbers compare as numbers,
    /// everything else by its text (the fixed-width date formats make text
    /// order time order).
    pub fn compare(&self, other: &Scalar) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        fn num(s: &Scalar) -> Option<f64> {
            match s {
                Scalar::Int(i) => Some(*i as f64),
                Scalar::UInt(u) => Some(*u as f64),
                Scalar::Float(f) => Some(*f),
                Scalar::Decimal(d) => d.parse().ok(),
                _ => None,
            }
        }
        match (self, other) {
            (Scalar::Int(a), Scalar::Int(b)) => a.cmp(b),
            (Scalar::UInt(a), Scalar::UInt(b)) => a.cmp(b),
            _ => match (num(self), num(other)) {
                (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
                _ => self.display().cmp(&other.display()),
            },
        }
    }
}

/// Formats a key for messages: `id=17` or `a=1, b=x`.
pub fn key_text(columns: &[String], values: &[Scalar]) -> String {
    columns
        .iter()
        .zip(values)
        .map(|(c, v)| format!("{c}={}", v.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where an extraction starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// At the first row.
    All,
    /// Strictly after this tuple of the ordering columns, compared
    /// lexicographically: `(c > v) OR (c = v AND key > k)`.
    After(Vec<Scalar>),
    /// At the first row whose first ordering column is strictly greater than
    /// this value (a re-read window: the watermark minus the lag).
    CursorAbove(Scalar),
}

/// What to read from a source table.
#[derive(Debug, Clone)]
pub struct ExtractRequest {
    /// The source table.
    pub table: TableName,
    /// The columns to read, in the order of the batches' columns.
    pub columns: Vec<ColumnInfo>,
    /// The columns rows are ordered by (tracking column first, then the key);
    /// each must be among `columns`.
    pub order: Vec<String>,
    /// Where to start.
    pub start: Start,
    /// Rows per batch.
    pub batch_size: usize,
}

/// One batch of extracted rows.
#[derive(Debug, Clone)]
pub struct ExtractedBatch {
    /// The rows, with one Arrow column per requested column.
    pub batch: RecordBatch,
    /// The ordering columns' values at the batch's last row: the position a
    /// checkpoint records once the batch is durable in the target.
    pub last: Vec<Scalar>,
}

/// How a batch is merged into the target table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadMode {
    /// Insert rows whose key is new; never change an existing row.
    Append,
    /// Insert new keys, update existing ones (subject to the conflict policy).
    Upsert,
    /// Slowly changing dimension type 2: keep every version, close the
    /// current one when a row changes.
    Scd2,
}

/// What happens when an incoming row's key already exists with different
/// values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnConflict {
    /// The incoming row wins.
    Overwrite,
    /// The target's row is kept.
    Skip,
    /// The load stops and reports the key.
    Error,
}

/// One loaded column: where its values come from and where they go.
#[derive(Debug, Clone)]
pub struct LoadColumn {
    /// The source column (its kind is the batch's Arrow type).
    pub source: ColumnInfo,
    /// The target column.
    pub target: ColumnInfo,
}

/// Where an SCD2 version's `valid_from` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidFrom {
    /// The batch column with this index (the timestamp tracking column).
    Column(usize),
    /// The time of the load transaction.
    LoadTime,
}

/// The SCD2 bookkeeping columns of a target table.
#[derive(Debug, Clone)]
pub struct Scd2Columns {
    /// When the version became current.
    pub valid_from: ColumnInfo,
    /// When it stopped being current (NULL while current).
    pub valid_to: ColumnInfo,
    /// Whether it is the current version.
    pub is_current: ColumnInfo,
    /// Where `valid_from` comes from.
    pub from: ValidFrom,
}

/// Everything a target needs to merge batches of one job.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// The job, as named in the checkpoint table.
    pub job: String,
    /// The target table.
    pub table: TableName,
    /// The checkpoint table (`tidemark_checkpoints` in the target's schema).
    pub checkpoints: TableName,
    /// One entry per batch column, in batch order.
    pub columns: Vec<LoadColumn>,
    /// Indexes (into `columns`) of the key columns.
    pub key: Vec<usize>,
    /// How batches are merged.
    pub mode: LoadMode,
    /// What an existing key with different values does.
    pub on_conflict: OnConflict,
    /// Index of the soft-delete column: a row with it set (true, or not
    /// NULL for non-boolean columns) is removed from the target.
    pub deleted: Option<usize>,
    /// The SCD2 columns, in `Scd2` mode.
    pub scd2: Option<Scd2Columns>,
    /// The target held no rows when the run started and the source delivers
    /// each key at most once in this run (one consistent snapshot), so
    /// batches can be inserted without merging. A key that shows up anyway
    /// fails the batch on the primary key; nothing is overwritten.
    pub fresh: bool,
}

impl LoadPlan {
    /// The target names of the key columns.
    pub fn key_names(&self) -> Vec<String> {
        self.key
            .iter()
            .map(|&i| self.columns[i].target.name.clone())
            .collect()
    }

    /// The target key columns.
    pub fn key_columns(&self) -> Vec<ColumnInfo> {
        self.key
            .iter()
            .map(|&i| self.columns[i].target.clone())
            .collect()
    }
}

/// What a load changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadCounts {
    /// Rows (or, in SCD2, keys) that were new.
    pub inserted: u64,
    /// Existing rows changed (in SCD2: keys that got a new version).
    pub updated: u64,
    /// Rows removed (in SCD2: versions closed) because the source deleted them.
    pub deleted: u64,
    /// Rows that changed nothing: identical re-reads, keys kept by the
    /// conflict policy, deletions of rows the target never had.
    pub skipped: u64,
}

impl std::ops::AddAssign for LoadCounts {
    fn add_assign(&mut self, o: LoadCounts) {
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.deleted += o.deleted;
        self.skipped += o.skipped;
    }
}

/// A job's row in the target's checkpoint table.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointRow {
    /// The job.
    pub job: String,
    /// The tracking column the position refers to (`None` for key order).
    pub cursor_column: Option<String>,
    /// The tracking column's value at the position.
    pub cursor: Option<Scalar>,
    /// The key's values at the position.
    pub key: Vec<Scalar>,
    /// The run that wrote it.
    pub run_id: Option<String>,
    /// Incremented by every write; a write expects the value it read, so two
    /// runs of one job cannot both move the checkpoint.
    pub seq: i64,
    /// When it was written, as the target reports it.
    pub updated_at: Option<String>,
}

impl CheckpointRow {
    /// Whether the row has ever recorded a position.
    pub fn is_empty(&self) -> bool {
        self.cursor.is_none() && self.key.is_empty()
    }
}

/// The new checkpoint written with a batch.
#[derive(Debug, Clone)]
pub struct CheckpointWrite {
    /// The job.
    pub job: String,
    /// The `seq` this run last read or wrote; the write fails if the row moved.
    pub expected_seq: i64,
    /// The tracking column (`None` for key order).
    pub cursor_column: Option<String>,
    /// Its value.
    pub cursor: Option<Scalar>,
    /// The key's values.
    pub key: Vec<Scalar>,
    /// This run.
    pub run_id: String,
}

/// A column of a table the target should create.
#[derive(Debug, Clone)]
pub struct NewColumn {
    /// Name.
    pub name: String,
    /// What it will hold.
    pub kind: ValueKind,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// The source's declared type, used when the source is the same kind of
    /// database (a same-database copy keeps its exact types).
    pub same_kind_native: Option<String>,
}

/// A live database used to move data: one connection, used by one task at a
/// time. Open one per side of a sync.
#[async_trait]
pub trait Endpoint: Send {
    /// What kind of database this is.
    fn kind(&self) -> DialectKind;

    /// The connection URL without credentials, for messages.
    fn target(&self) -> &str;

    /// The table with its schema filled in from the connection's default.
    async fn resolve(&mut self, table: &TableName) -> Result<TableName, DbError>;

    /// Reads a table's columns and keys; `None` when it does not exist.
    async fn describe(&mut self, table: &TableName) -> Result<Option<TableInfo>, DbError>;

    /// Whether the table has no rows.
    async fn is_empty(&mut self, table: &TableName) -> Result<bool, DbError>;

    /// The key of some row whose `column` is NULL, if there is one.
    async fn first_null(
        &mut self,
        table: &TableName,
        column: &str,
        key: &[ColumnInfo],
    ) -> Result<Option<Vec<Scalar>>, DbError>;

    /// Streams the rows of `req` into `sink` in batches, in order. Stops
    /// early, without error, when the receiver is dropped. Returns the number
    /// of rows sent.
    async fn extract(
        &mut self,
        req: &ExtractRequest,
        sink: mpsc::Sender<ExtractedBatch>,
    ) -> Result<u64, DbError>;

    /// Creates a table (no rows).
    async fn create_table(
        &mut self,
        table: &TableName,
        columns: &[NewColumn],
        primary_key: &[String],
        index: &[String],
        source_kind: DialectKind,
    ) -> Result<(), DbError>;

    /// Creates the checkpoint table if needed and returns the job's row,
    /// adding an empty one if it has none.
    async fn checkpoint(
        &mut self,
        checkpoints: &TableName,
        job: &str,
    ) -> Result<CheckpointRow, DbError>;

    /// Merges one batch and moves the checkpoint, in one transaction.
    /// Returns what changed and the checkpoint's new `seq`.
    async fn load(
        &mut self,
        plan: &LoadPlan,
        batch: &RecordBatch,
        checkpoint: &CheckpointWrite,
    ) -> Result<(LoadCounts, i64), DbError>;

    /// Starts a replace: an empty copy of the target table (any copy left by
    /// an interrupted replace is dropped first).
    async fn replace_begin(&mut self, plan: &LoadPlan) -> Result<(), DbError>;

    /// Adds a batch to the copy started by [`Endpoint::replace_begin`].
    async fn replace_load(&mut self, plan: &LoadPlan, batch: &RecordBatch) -> Result<u64, DbError>;

    /// Puts the copy in place of the target table and moves the checkpoint
    /// (in one transaction where the database's DDL allows it). Returns the
    /// checkpoint's new `seq`.
    async fn replace_commit(
        &mut self,
        plan: &LoadPlan,
        checkpoint: &CheckpointWrite,
    ) -> Result<i64, DbError>;

    /// Up to `limit` keys of `table` in key order, after `after`;
    /// `current_only` names an SCD2 `is_current` column to filter on.
    async fn key_page(
        &mut self,
        table: &TableName,
        key: &[ColumnInfo],
        current_only: Option<&str>,
        after: Option<&[Scalar]>,
        limit: usize,
    ) -> Result<Vec<Vec<Scalar>>, DbError>;

    /// Which of `keys` exist in `table`, as [`Scalar::canonical`] strings
    /// joined with `\u{1f}`.
    async fn keys_present(
        &mut self,
        table: &TableName,
        key: &[ColumnInfo],
        keys: &[Vec<Scalar>],
    ) -> Result<HashSet<String>, DbError>;

    /// Removes the rows with these keys (in SCD2 mode, closes their current
    /// versions) in one transaction. Returns how many rows changed.
    async fn delete_keys(&mut self, plan: &LoadPlan, keys: &[Vec<Scalar>]) -> Result<u64, DbError>;

    /// Closes the connection.
    async fn close(self: Box<Self>) -> Result<(), DbError>;
}

/// The canonical form of a whole key (see [`Scalar::canonical`]).
pub fn canonical_key(values: &[Scalar]) -> String {
    values
        .iter()
        .map(Scalar::canonical)
        .collect::<Vec<_>>()
        .join("\u{1f}")
}

/// Opens a connection for moving data.
pub async fn open(
    spec: &ConnectionSpec,
    password: Option<&str>,
) -> Result<Box<dyn Endpoint>, DbError> {
    match spec {
        ConnectionSpec::Postgres(server) => Ok(Box::new(
            postgres::PgEndpoint::connect(spec, server, password).await?,
        )),
        ConnectionSpec::MySql(server) => Ok(Box::new(
            mysql::MyEndpoint::connect(spec, server, password).await?,
        )),
        ConnectionSpec::Sqlite { path, create } => Ok(Box::new(
            sqlite::LiteEndpoint::open(spec, path, *create).await?,
        )),
        _ => Err(DbError::Unsupported {
            target: spec.redacted(),
            what: "moving data to or from this kind of database".into(),
        }),
    }
}

/// Parses a date and time in any ISO-8601 form SQLite databases and
/// checkpoints hold, into microseconds since the Unix epoch (an offset is
/// applied, giving UTC).
pub fn parse_timestamp_text(text: &str) -> Option<i64> {
    value::parse_timestamp(text)
}

/// Microseconds since the Unix epoch as `YYYY-MM-DD HH:MM:SS.ffffff`.
pub fn format_timestamp_micros(us: i64) -> String {
    value::format_timestamp(us)
}

/// The name of the table's copy during a replace.
pub(crate) fn replace_copy_name(table: &TableName) -> TableName {
    table.sibling(&format!("{}__tidemark_new", table.name))
}

/// A value the target cannot hold, with the column and the row's key.
pub(crate) fn value_error(
    target: &str,
    table: &TableName,
    column: &str,
    key: String,
    reason: String,
) -> DbError {
    DbError::Value {
        target: target.to_string(),
        table: table.to_string(),
        column: column.to_string(),
        key,
        reason,
    }
}
