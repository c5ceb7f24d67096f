//! The sync engine's error type.

use tidemark_db::DbError;

/// Why a sync job could not be checked or run.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The job does not fit the tables as they are (unknown column, a
    /// tracking column with NULLs, a target without the key, mismatched
    /// types…). Found before any row moves; the message names the column and
    /// the fix.
    #[error("{0}")]
    BadInput(String),
    /// A database failed or refused a value.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A message broker was unreachable or did not acknowledge a batch
    /// (broker targets, see `broker`).
    #[error("{0}")]
    Broker(String),
    /// The Iceberg catalog or warehouse failed (Iceberg targets, see
    /// `iceberg_target`).
    #[error("{0}")]
    Iceberg(String),
}

impl SyncError {
    /// Whether the error is the user's to fix (exit code 2) rather than a
    /// failure. A value the target cannot hold is the data's problem and is
    /// reported as such.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            SyncError::BadInput(_)
                | SyncError::Db(DbError::Value { .. } | DbError::Conflict { .. })
        )
    }
}

/// The engine's result type.
pub type SyncResult<T> = Result<T, SyncError>;
