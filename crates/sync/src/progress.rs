//! Progress events, for progress bars and the UI's status bar.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SyncPhase {
    /// Checking the job against the tables.
    Validating,
    /// Moving batches.
    Loading,
    /// Looking for deleted keys.
    Reconciling,
    /// Done.
    Finished,
    /// Stopped by an error.
    Failed,
}

/// One progress event of a run: sent when the run starts, after every
/// committed batch, and when it ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct SyncProgress {
    /// The job.
    pub job: String,
    /// The run.
    pub run_id: String,
    /// Where it is.
    pub phase: SyncPhase,
    /// Rows read and committed so far.
    #[ts(type = "number")]
    pub rows: u64,
    /// Batches committed so far.
    #[ts(type = "number")]
    pub batches: u64,
    /// Rows per second since the run started.
    pub rows_per_sec: f64,
    /// Time since the run started.
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    /// The checkpoint reached, e.g. `updated_at=…, id=17`.
    pub watermark: Option<String>,
    /// The error, for a failed run.
    pub message: Option<String>,
}

/// Receives progress events; called from the run's task, so it must be
/// quick (forward to a channel or a progress bar).
pub type ProgressSink = Arc<dyn Fn(&SyncProgress) + Send + Sync>;
