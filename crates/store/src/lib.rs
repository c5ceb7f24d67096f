//! The Tidemark workspace: one local SQLite file holding projects, their
//! append-only op logs and their sealed snapshots.
//!
//! # The file
//!
//! - **Schema version**: SQLite's `PRAGMA user_version` holds the number of
//!   applied migrations (see [`SCHEMA_VERSION`]) and `PRAGMA application_id`
//!   holds [`APPLICATION_ID`], so a workspace is told apart from any other
//!   SQLite file by its header alone. Both live in the database header and are
//!   read without a transaction that could write, which is what lets a file
//!   from a newer build be refused byte-for-byte untouched. Migrations are the
//!   SQL files under `migrations/`, embedded in order and applied in one
//!   transaction together with the new `user_version`.
//! - **Journal**: WAL, so commands that read never wait for one that writes.
//!   Write transactions start with `BEGIN IMMEDIATE` and wait up to
//!   [`BUSY_TIMEOUT`] for each other, so concurrent processes serialize.
//! - **Rows**: ops and snapshot parts are stored as the serde_json text of the
//!   `tidemark-model` types; every snapshot is verified against its SHA-256 on
//!   load.
//!
//! # Reads and writes
//!
//! [`Workspace`] and [`WriteTx`] both dereference to [`ReadView`], which holds
//! every query. Writes exist only on [`WriteTx`], inside [`Workspace::write`].

mod connections;
mod environments;
mod error;
mod read;
mod scans;
mod sync;
mod workspace;
mod write;

pub use connections::{Connection, PasswordSource};
pub use environments::{DeployLock, Deployment, DeploymentAction, DeploymentStatus, Environment};
pub use error::{Result, SnapshotFault, StoreError};
pub use read::ReadView;
pub use scans::{
    AssetType, ChangeCounts, ChangeTally, ChangeType, DiffChange, DiffFormat, DiffRun, DiffStatus,
    ScanLabel, ScanObject, ScanRun, ScanStatus,
};
pub use sync::{RestCatalogRef, SyncCheckpointMirror, SyncJobRow, SyncRunRow};
pub use workspace::{Workspace, APPLICATION_ID, BUSY_TIMEOUT, SCHEMA_VERSION};
pub use write::WriteTx;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use tidemark_model::Op;

/// A schema project of the workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// Stable id, assigned by the caller.
    pub id: String,
    /// Unique name, as typed in `tidemark project use NAME`.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// An op as stored in a project's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredOp {
    /// Position in the log: 1, 2, 3, … without gaps.
    pub seq: i64,
    /// The op itself.
    pub op: Op,
    /// The snapshot that includes the op; `None` while it is uncommitted.
    pub snapshot_id: Option<String>,
}

/// Fixed-width UTC text (nine fractional digits), so that text order in SQL
/// is time order and no precision is lost on the way back.
pub(crate) fn format_time(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// The inverse of [`format_time`]; accepts any RFC 3339 offset.
pub(crate) fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|e| format!("time {text:?} is not RFC 3339: {e}"))
}
