//! Tidemark use cases shared by every front end (CLI, desktop app, `serve`).
//!
//! **Architecture invariant**: front ends hold no business logic. A rule the
//! CLI and the UI both need lives here or below.

pub mod api;
mod compare;
mod connections;
mod demo;
mod deploy;
mod describe;
mod envs;
mod error;
mod export;
mod iceberg;
mod import_live;
mod live;
mod mapping;
mod marker;
mod ops;
mod project;
mod scan_config;
mod scan_diff;
mod scan_objects;
mod scans;
mod snapshots;
mod sync;

pub use compare::{parse_dialect, text_diff, Comparison, DiffLine};
pub use connections::ConnectionCheck;
pub use demo::{create_demo, DemoSummary};
pub use deploy::{
    DeployOptions, DeployOutcome, DeployResult, PlanPreview, PlanStep, SnapshotChoice,
};
pub use describe::describe_change;
pub use envs::{EnvSettings, EnvStatus, StatusReport};
pub use error::{AppError, AppResult};
pub use export::{ExportSummary, ImportSummary};
pub use iceberg::{
    parse_as_of, IcebergRows, IcebergTableSummary, RestCatalogRef, ICEBERG_CATALOG_NAME,
};
pub use import_live::LiveImport;
pub use live::DriftReport;
pub use marker::Marker;
pub use ops::{AddedOps, DdlImportSummary};
pub use project::ProjectInfo;
pub use scan_config::{ConfigConnection, Labels, ScanConfig};
pub use scans::{
    parse_label_pairs, DiffDetail, DiffOutputOptions, IncrementalDiffReport, LabelReport,
};
pub use snapshots::{DiffReport, SnapshotRef, SnapshotSummary, VerifyReport, VerifyRow};
pub use sync::{
    broker_target, format_sync_duration, parse_sync_duration, ProgressSink, SyncJobAdded,
    SyncJobDetail, SyncJobInput, SyncJobSummary, SyncPhase, SyncProgress, SyncRunResult,
};
pub use tidemark_iceberg::SnapshotInfo as IcebergSnapshot;

use chrono::{DateTime, Utc};
use std::path::Path;
use tidemark_model::ObjectId;
use tidemark_store::Workspace;

/// An open workspace plus who is acting: the entry point of every use case.
pub struct App {
    ws: Workspace,
    actor: String,
    /// A fixed clock, used by the demo to lay snapshots out over past days.
    clock: Option<DateTime<Utc>>,
    /// The runtime live-database work runs on, made on first use so that
    /// commands which never touch a database never start threads.
    runtime: std::sync::OnceLock<tokio::runtime::Runtime>,
}

impl App {
    /// Opens (creating if needed) the workspace file at `path`.
    pub fn open(path: &Path, actor: impl Into<String>) -> AppResult<App> {
        Ok(App {
            ws: Workspace::open(path)?,
            actor: actor.into(),
            clock: None,
            runtime: std::sync::OnceLock::new(),
        })
    }

    /// The workspace file.
    pub fn workspace_path(&self) -> &Path {
        self.ws.path()
    }

    /// Who is recorded as the author of snapshots and deployments.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// Runs async database work to completion. Front ends call the app from
    /// plain threads (the CLI's main thread, a blocking pool), never from
    /// inside an async task.
    pub(crate) fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime
            .get_or_init(|| {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .thread_name("tidemark-db")
                    .build()
                    .expect("the OS gives us threads")
            })
            .block_on(f)
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.unwrap_or_else(Utc::now)
    }
}

/// The user name recorded on snapshots and deployments: `$TIDEMARK_USER`,
/// else `$USER`, else `unknown`.
pub fn default_actor() -> String {
    std::env::var("TIDEMARK_USER")
        .or_else(|_| std::env::var("USER"))
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// A fresh object id with a readable prefix, e.g. `tbl_3f9a0c1e2b4d`.
pub fn new_id(prefix: &str) -> ObjectId {
    let uuid = uuid::Uuid::new_v4().simple().to_string();
    ObjectId(format!("{prefix}_{}", &uuid[..12]))
}

/// A fresh op id.
pub(crate) fn new_op_id() -> String {
    new_id("op").0
}
