//! Every call a front end can make, declared once.
//!
//! The desktop shell (one Tauri command) and `tidemark serve` (one HTTP route)
//! both deserialize a [`Call`] and hand it to [`App::call`]; neither holds any
//! logic of its own. Errors cross the boundary as [`ApiError`] `{kind, message}`.

use crate::{App, AppError, SnapshotRef};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tidemark_model::Bump;

/// A request from a front end: `{"command": "...", "args": {...}}`.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(tag = "command", content = "args", rename_all = "snake_case")]
pub enum Call {
    /// The workspace file, the current project and the actor.
    WorkspaceInfo,
    /// Every project.
    ProjectList,
    /// Make a project current.
    ProjectUse {
        /// Project name.
        name: String,
    },
    /// The current project's snapshots, oldest first.
    SnapshotList,
    /// One snapshot in full.
    SnapshotShow {
        /// Version.
        version: String,
    },
    /// Seal the working state.
    SnapshotCreate {
        /// Explicit version.
        #[serde(default)]
        version: Option<String>,
        /// Or a bump of the latest.
        #[serde(default)]
        bump: Option<Bump>,
        /// Name.
        name: String,
        /// Comment.
        #[serde(default)]
        comment: Option<String>,
        /// Tags.
        #[serde(default)]
        tags: Vec<String>,
    },
    /// Verify every snapshot's seal.
    SnapshotVerify,
    /// Uncommitted ops.
    Ops,
    /// Append ops (one op object or an array, as `tidemark op add`).
    AddOps {
        /// The ops.
        ops: Value,
    },
    /// The working state.
    WorkingState,
    /// The changes between two snapshots (`working` for the working state).
    Diff {
        /// From.
        from: String,
        /// To.
        to: String,
    },
    /// The compare view for a dialect: changes, plan, script, DDL text diff.
    Compare {
        /// From.
        from: String,
        /// To.
        to: String,
        /// postgres, mysql, sqlite, sqlserver or databricks.
        dialect: String,
    },
    /// Every connection (never with a password).
    ConnectionList,
    /// Connect, ping and read a connection's catalog.
    ConnectionTest {
        /// Connection name.
        name: String,
    },
    /// The scan runs of a connection, newest first (`ScanRun[]`).
    ScanList {
        /// Connection name.
        connection: String,
    },
    /// Scan a connection and record the run (`ScanRun`).
    ScanRun {
        /// Connection name.
        connection: String,
        /// Schemas to read; empty for every user schema.
        #[serde(default)]
        schemas: Vec<String>,
    },
    /// Compare the last two scan runs of a connection and store the changes
    /// in the workspace (`IncrementalDiffReport`).
    IncrementalDiff {
        /// Connection name.
        connection: String,
    },
    /// One incremental diff with its change rows (`DiffDetail`).
    DiffShow {
        /// The diff's id.
        id: String,
    },
    /// The incremental diffs of a connection, newest first (`DiffRun[]`).
    DiffList {
        /// Connection name.
        connection: String,
    },
    /// The current project's environments in promotion order (`Environment[]`).
    EnvList,
    /// Add an environment (`Environment`).
    EnvAdd {
        /// Environment name.
        name: String,
        /// The connection it deploys to.
        connection: String,
        /// Flags, position and colour.
        #[serde(default)]
        settings: crate::EnvSettings,
    },
    /// Remove an environment; its history stays (`null`).
    EnvRemove {
        /// Environment name.
        name: String,
    },
    /// Every environment with its deployed version, drift and lag (`StatusReport`).
    EnvStatus,
    /// The plan from an environment's live database to a snapshot (`PlanPreview`).
    Plan {
        /// Environment name.
        env: String,
        /// Snapshot version; the latest when absent, `working` for the working state.
        #[serde(default)]
        snapshot: Option<String>,
    },
    /// Deploy a snapshot to an environment (`DeployOutcome`).
    Deploy {
        /// Environment name.
        env: String,
        /// Snapshot version; the latest when absent.
        #[serde(default)]
        snapshot: Option<String>,
        /// Run breaking statements too.
        #[serde(default)]
        allow_breaking: bool,
        /// For a protected environment: its name as typed by the user.
        #[serde(default)]
        confirm: Option<String>,
        /// Plan and check only.
        #[serde(default)]
        dry_run: bool,
    },
    /// Deploy to `to` the snapshot deployed in `from` (`DeployOutcome`).
    Promote {
        /// Source environment.
        from: String,
        /// Target environment.
        to: String,
        /// Run breaking statements too.
        #[serde(default)]
        allow_breaking: bool,
        /// For a protected target: its name as typed by the user.
        #[serde(default)]
        confirm: Option<String>,
        /// Plan and check only.
        #[serde(default)]
        dry_run: bool,
    },
    /// Deploy an earlier snapshot (`DeployOutcome`).
    Rollback {
        /// Environment name.
        env: String,
        /// The earlier version.
        to: String,
        /// Run breaking (data-losing) statements too.
        #[serde(default)]
        allow_breaking: bool,
        /// For a protected environment: its name as typed by the user.
        #[serde(default)]
        confirm: Option<String>,
        /// Plan and check only.
        #[serde(default)]
        dry_run: bool,
    },
    /// The live database against the snapshot its marker names (`DriftReport`).
    Drift {
        /// Environment name.
        env: String,
    },
    /// Deployment attempts, newest first (`Deployment[]`).
    History {
        /// Only this environment's.
        #[serde(default)]
        env: Option<String>,
    },
    /// Bring an environment's drift into the project as ops (`LiveImport`).
    ImportFromEnv {
        /// Environment name.
        env: String,
    },
    /// Every sync job with its latest run (`SyncJobSummary[]`).
    SyncList,
    /// One sync job, its checkpoint and latest runs (`SyncJobDetail`).
    SyncShow {
        /// Job name.
        name: String,
    },
    /// Run one sync job once (`SyncRunResult`); progress events come
    /// through `App::sync_run` for shells that forward them.
    SyncRun {
        /// Job name.
        name: String,
    },
    /// A sync job's runs, newest first (`SyncRunRow[]`).
    SyncHistory {
        /// Job name.
        name: String,
    },
}

/// How a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum ApiErrorKind {
    /// The request was wrong; fix it and retry.
    BadInput,
    /// Something failed; retrying may help.
    Failure,
}

/// An error as front ends receive it.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct ApiError {
    /// bad_input or failure.
    pub kind: ApiErrorKind,
    /// The backend's message, unchanged.
    pub message: String,
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError {
            kind: if e.is_bad_input() {
                ApiErrorKind::BadInput
            } else {
                ApiErrorKind::Failure
            },
            message: e.to_string(),
        }
    }
}

/// The workspace as the status bar shows it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct WorkspaceInfo {
    /// The workspace file.
    pub path: String,
    /// The current project's name, if one is selected.
    pub project: Option<String>,
    /// Who acts.
    pub actor: String,
}

fn json<T: Serialize>(value: T) -> Result<Value, AppError> {
    serde_json::to_value(value)
        .map_err(|e| AppError::Integrity(format!("cannot encode a result: {e}")))
}

impl App {
    /// Runs one front-end call and returns its result as JSON.
    pub fn call(&mut self, call: Call) -> Result<Value, ApiError> {
        Ok(self.dispatch(call)?)
    }

    fn dispatch(&mut self, call: Call) -> Result<Value, AppError> {
        match call {
            Call::WorkspaceInfo => json(WorkspaceInfo {
                path: self.workspace_path().display().to_string(),
                project: self.current_project().ok().map(|p| p.name),
                actor: self.actor().to_string(),
            }),
            Call::ProjectList => json(self.project_list()?),
            Call::ProjectUse { name } => json(self.project_use(&name)?),
            Call::SnapshotList => json(self.snapshot_list()?),
            Call::SnapshotShow { version } => json(self.snapshot_show(&version)?),
            Call::SnapshotCreate {
                version,
                bump,
                name,
                comment,
                tags,
            } => json(self.snapshot_create(
                version.as_deref(),
                bump,
                &name,
                comment.as_deref(),
                &tags,
            )?),
            Call::SnapshotVerify => json(self.snapshot_verify()?),
            Call::Ops => json(self.uncommitted_ops()?),
            Call::AddOps { ops } => json(self.add_ops_json(&ops.to_string())?),
            Call::WorkingState => json(self.working_state()?),
            Call::Diff { from, to } => {
                json(self.diff(&SnapshotRef::parse(&from), &SnapshotRef::parse(&to))?)
            }
            Call::Compare { from, to, dialect } => json(self.compare(
                &SnapshotRef::parse(&from),
                &SnapshotRef::parse(&to),
                crate::parse_dialect(&dialect)?,
            )?),
            Call::ConnectionList => json(self.connection_list()?),
            Call::ConnectionTest { name } => json(self.connection_test(&name)?),
            Call::ScanList { connection } => json(self.scan_list(&connection)?),
            Call::ScanRun {
                connection,
                schemas,
            } => json(self.scan(&connection, &schemas, None, &mut |_| {})?),
            Call::IncrementalDiff { connection } => json(self.incremental_diff(
                &connection,
                &crate::DiffOutputOptions::default(),
                None,
                &mut |_| {},
            )?),
            Call::DiffShow { id } => json(self.diff_show(&id, None)?),
            Call::DiffList { connection } => json(self.diff_list(&connection)?),
            Call::EnvList => json(self.env_list()?),
            Call::EnvAdd {
                name,
                connection,
                settings,
            } => json(self.env_add(&name, &connection, &settings)?),
            Call::EnvRemove { name } => json(self.env_remove(&name)?),
            Call::EnvStatus => json(self.env_status()?),
            Call::Plan { env, snapshot } => json(self.plan(&env, snapshot.as_deref())?),
            Call::Deploy {
                env,
                snapshot,
                allow_breaking,
                confirm,
                dry_run,
            } => json(self.deploy(
                &env,
                snapshot.as_deref(),
                &crate::DeployOptions {
                    dry_run,
                    allow_breaking,
                    confirm,
                },
            )?),
            Call::Promote {
                from,
                to,
                allow_breaking,
                confirm,
                dry_run,
            } => json(self.promote(
                &from,
                &to,
                &crate::DeployOptions {
                    dry_run,
                    allow_breaking,
                    confirm,
                },
            )?),
            Call::Rollback {
                env,
                to,
                allow_breaking,
                confirm,
                dry_run,
            } => json(self.rollback(
                &env,
                &to,
                &crate::DeployOptions {
                    dry_run,
                    allow_breaking,
                    confirm,
                },
            )?),
            Call::Drift { env } => json(self.drift(&env)?),
            Call::History { env } => json(self.history(env.as_deref())?),
            Call::ImportFromEnv { env } => json(self.import_from_env(&env)?),
            Call::SyncList => json(self.sync_list()?),
            Call::SyncShow { name } => json(self.sync_show(&name)?),
            Call::SyncRun { name } => json(self.sync_run_one(&name)?),
            Call::SyncHistory { name } => json(self.sync_history(&name, 100)?),
        }
    }
}
