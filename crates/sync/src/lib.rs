//! Tidemark's incremental sync engine: change detection, the checkpoint
//! protocol, merge strategies, the run coordinator and progress events.
//!
//! A job moves one source table's changes into one target table. Changes
//! are found by a tracking column ([`Detect`]): rows are read in the order
//! of the tuple (tracking column, key) strictly after the watermark stored
//! in the target, so rows that share a tracking value are never skipped at
//! a batch boundary. Each batch is merged ([`Merge`]) and the checkpoint
//! moved in the same target transaction ([`engine`]), which is what makes a
//! run exactly-once across crashes: the database-specific halves live in
//! `tidemark_db::transfer`.
//!
//! **Append and `--lag`**: append inserts only keys the target does not
//! have yet, so re-reading a window behind the watermark (or replaying after
//! a crash) never duplicates a row; a row that changed after it was
//! appended is not changed again (use upsert or scd2 for that).

pub mod broker;
pub mod chain;
pub mod detect;
pub mod engine;
mod error;
pub mod iceberg_source;
pub mod iceberg_target;
pub mod job;
pub mod plan;
pub mod progress;

pub use engine::{
    check, new_run_id, run, CheckReport, RunOptions, RunOutcome, RunReport, RunStatus,
};
pub use error::{SyncError, SyncResult};
pub use job::{
    format_duration, parse_duration, ConflictPolicy, Detect, JobSpec, Merge, DEFAULT_BATCH_SIZE,
};
pub use progress::{ProgressSink, SyncPhase, SyncProgress};
