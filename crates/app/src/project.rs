//! Projects and their working state.

use crate::{App, AppError, AppResult};
use chrono::{DateTime, Utc};
use serde::Serialize;
use tidemark_model::{reduce, Snapshot, State};
use tidemark_store::{Project, StoredOp, WriteTx};

/// A project as the front ends show it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ProjectInfo {
    /// Project id.
    pub id: String,
    /// Project name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Whether it is the workspace's current project.
    pub current: bool,
    /// Number of snapshots.
    pub snapshots: usize,
    /// Latest snapshot version, if any.
    pub latest_version: Option<String>,
    /// Ops not yet in a snapshot.
    pub uncommitted_ops: usize,
}

impl App {
    /// Creates a project and makes it current.
    pub fn project_new(&mut self, name: &str) -> AppResult<ProjectInfo> {
        let name = name.trim();
        if name.is_empty() {
            return Err(AppError::BadInput(
                "project name is empty: give a name such as `shop`".into(),
            ));
        }
        let id = crate::new_id("prj").0;
        let now = self.now();
        self.ws.write(|tx| -> AppResult<()> {
            tx.create_project(&id, name, now)?;
            tx.set_current_project(name)?;
            Ok(())
        })?;
        self.project_info(name)
    }

    /// Every project of the workspace.
    pub fn project_list(&self) -> AppResult<Vec<ProjectInfo>> {
        let current = self.ws.current_project().ok().map(|p| p.id);
        self.ws
            .projects()?
            .into_iter()
            .map(|p| self.info_of(&p, current.as_deref()))
            .collect()
    }

    /// Makes `name` the current project.
    pub fn project_use(&mut self, name: &str) -> AppResult<ProjectInfo> {
        self.ws.write(|tx| -> AppResult<()> {
            tx.set_current_project(name)?;
            Ok(())
        })?;
        self.project_info(name)
    }

    /// One project by name.
    pub fn project_info(&self, name: &str) -> AppResult<ProjectInfo> {
        let project = self.ws.project_by_name(name)?;
        let current = self.ws.current_project().ok().map(|p| p.id);
        self.info_of(&project, current.as_deref())
    }

    /// The current project.
    pub fn current_project(&self) -> AppResult<Project> {
        Ok(self.ws.current_project()?)
    }

    fn info_of(&self, p: &Project, current: Option<&str>) -> AppResult<ProjectInfo> {
        let latest = self.ws.latest_snapshot(&p.id)?;
        Ok(ProjectInfo {
            id: p.id.clone(),
            name: p.name.clone(),
            created_at: p.created_at,
            current: current == Some(p.id.as_str()),
            snapshots: self.ws.snapshots(&p.id)?.len(),
            latest_version: latest.map(|s| s.version.to_string()),
            uncommitted_ops: self.ws.uncommitted_ops(&p.id)?.len(),
        })
    }

    /// The current project's working state: the latest snapshot plus the ops after it.
    pub fn working_state(&self) -> AppResult<State> {
        let project = self.ws.current_project()?;
        let latest = self.ws.latest_snapshot(&project.id)?;
        let uncommitted = self.ws.uncommitted_ops(&project.id)?;
        working_state_from(latest.as_ref(), &uncommitted)
    }
}

/// Replays the uncommitted ops over the latest snapshot's state.
pub(crate) fn working_state_from(
    latest: Option<&Snapshot>,
    uncommitted: &[StoredOp],
) -> AppResult<State> {
    let base = latest.map(|s| s.state.clone()).unwrap_or_default();
    reduce(base, uncommitted.iter().map(|s| &s.op)).map_err(|(i, e)| {
        AppError::Integrity(format!(
            "the workspace's op log does not replay: op {} ({}) fails: {e}",
            uncommitted[i].op.id,
            uncommitted[i].op.action.name()
        ))
    })
}

/// The same, inside a write transaction (so validation and append are atomic).
pub(crate) fn working_state_tx(tx: &WriteTx, project_id: &str) -> AppResult<State> {
    let latest = tx.latest_snapshot(project_id)?;
    let uncommitted = tx.uncommitted_ops(project_id)?;
    working_state_from(latest.as_ref(), &uncommitted)
}
