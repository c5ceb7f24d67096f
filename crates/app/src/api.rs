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
        }
    }
}
