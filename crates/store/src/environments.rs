//! Environments, deployments and deploy locks.
//!
//! An environment belongs to a project and points at a named connection. Its
//! `position` orders the promotion path (dev → test → prod); positions stay
//! contiguous from 0 as environments are added and removed.

use crate::error::{Result, SqlContext, StoreError};
use crate::read::ReadView;
use crate::write::WriteTx;
use crate::{format_time, parse_time};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use tidemark_model::State;

/// A deployment target of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Environment {
    /// The project it belongs to.
    pub project_id: String,
    /// Unique name within the project, e.g. `prod`.
    pub name: String,
    /// The name of the connection it deploys to.
    pub connection: String,
    /// 0-based place in the promotion order.
    pub position: u32,
    /// A CSS colour name or `#rrggbb`, for the environments board.
    pub color: String,
    /// Only sealed snapshots may be deployed here.
    pub require_snapshot: bool,
    /// Deployments go ahead even when the live database drifted.
    pub allow_drift: bool,
    /// Needs a snapshot, a typed confirmation and an explicit go-ahead for
    /// breaking statements.
    pub protected: bool,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// How a deployment attempt ended (or that it is still running).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    /// Started and not finished yet.
    Running,
    /// Every statement ran and the version marker was written.
    Succeeded,
    /// A statement (or the connection) failed; `error` says which and why.
    Failed,
    /// A safety check stopped it before anything ran.
    Refused,
    /// The process ended before recording the outcome; the target's marker
    /// table tells what happened there.
    Interrupted,
}

impl DeploymentStatus {
    /// The lower-case name, as stored and displayed.
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Running => "running",
            DeploymentStatus::Succeeded => "succeeded",
            DeploymentStatus::Failed => "failed",
            DeploymentStatus::Refused => "refused",
            DeploymentStatus::Interrupted => "interrupted",
        }
    }
}

impl fmt::Display for DeploymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeploymentStatus {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s {
            "running" => DeploymentStatus::Running,
            "succeeded" => DeploymentStatus::Succeeded,
            "failed" => DeploymentStatus::Failed,
            "refused" => DeploymentStatus::Refused,
            "interrupted" => DeploymentStatus::Interrupted,
            other => return Err(format!("unknown deployment status {other:?}")),
        })
    }
}

/// What started a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentAction {
    /// `tidemark deploy`.
    Deploy,
    /// `tidemark promote`: the version deployed in another environment.
    Promote,
    /// `tidemark rollback`: an earlier version.
    Rollback,
}

impl DeploymentAction {
    /// The lower-case name, as stored and displayed.
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentAction::Deploy => "deploy",
            DeploymentAction::Promote => "promote",
            DeploymentAction::Rollback => "rollback",
        }
    }
}

impl fmt::Display for DeploymentAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeploymentAction {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s {
            "deploy" => DeploymentAction::Deploy,
            "promote" => DeploymentAction::Promote,
            "rollback" => DeploymentAction::Rollback,
            other => return Err(format!("unknown deployment action {other:?}")),
        })
    }
}

/// One recorded deployment attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Deployment {
    /// Unique id (also written to the target's marker row).
    pub id: String,
    /// The project.
    pub project_id: String,
    /// The environment's name.
    pub environment: String,
    /// Deploy, promote or rollback.
    pub action: DeploymentAction,
    /// The version the target's marker named before, if any.
    pub from_version: Option<String>,
    /// The version deployed (`working` for the working state).
    pub to_version: String,
    /// The SHA-256 of the deployed state.
    pub to_hash: String,
    /// How it ended.
    pub status: DeploymentStatus,
    /// The SQL script that ran, or would have run.
    pub sql: String,
    /// Why it failed or was refused, one line per reason.
    pub error: Option<String>,
    /// The statement the database rejected, when one did.
    pub failed_statement: Option<String>,
    /// The deployed state, kept only for working-state deployments.
    #[serde(default, skip_serializing)]
    #[ts(skip)]
    pub state: Option<State>,
    /// Who deployed.
    pub deployed_by: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended; `None` while running.
    pub finished_at: Option<DateTime<Utc>>,
}

/// The lock row of an environment that is being deployed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployLock {
    /// The project.
    pub project_id: String,
    /// The environment's name.
    pub environment: String,
    /// The holder's process id.
    pub pid: u32,
    /// The holder's host name.
    pub host: String,
    /// A random token only the holder knows, so it releases its own lock only.
    pub token: String,
    /// When it was taken.
    pub acquired_at: DateTime<Utc>,
}

fn unreadable(what: String) -> impl FnOnce(String) -> StoreError {
    move |reason| StoreError::Unreadable { what, reason }
}

const ENV_COLUMNS: &str = "project_id, name, connection, position, color, require_snapshot, \
     allow_drift, protected, created_at";

fn read_env(row: &Row<'_>) -> rusqlite::Result<(Environment, String)> {
    let created: String = row.get(8)?;
    Ok((
        Environment {
            project_id: row.get(0)?,
            name: row.get(1)?,
            connection: row.get(2)?,
            position: row.get(3)?,
            color: row.get(4)?,
            require_snapshot: row.get(5)?,
            allow_drift: row.get(6)?,
            protected: row.get(7)?,
            created_at: DateTime::<Utc>::MIN_UTC,
        },
        created,
    ))
}

fn decode_env((mut env, created): (Environment, String)) -> Result<Environment> {
    env.created_at =
        parse_time(&created).map_err(unreadable(format!("environment {}", env.name)))?;
    Ok(env)
}

const DEPLOYMENT_COLUMNS: &str = "id, project_id, environment, action, from_version, to_version, \
     to_hash, status, sql, error, failed_statement, state, deployed_by, started_at, finished_at";

/// A deployment row before its text columns are parsed.
struct DeploymentRow {
    id: String,
    project_id: String,
    environment: String,
    action: String,
    from_version: Option<String>,
    to_version: String,
    to_hash: String,
    status: String,
    sql: String,
    error: Option<String>,
    failed_statement: Option<String>,
    state: Option<String>,
    deployed_by: String,
    started_at: String,
    finished_at: Option<String>,
}

impl DeploymentRow {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(DeploymentRow {
            id: row.get(0)?,
            project_id: row.get(1)?,
            environment: row.get(2)?,
            action: row.get(3)?,
            from_version: row.get(4)?,
            to_version: row.get(5)?,
            to_hash: row.get(6)?,
            status: row.get(7)?,
            sql: row.get(8)?,
            error: row.get(9)?,
            failed_statement: row.get(10)?,
            state: row.get(11)?,
            deployed_by: row.get(12)?,
            started_at: row.get(13)?,
            finished_at: row.get(14)?,
        })
    }

    fn decode(self) -> Result<Deployment> {
        let what = || format!("deployment {}", self.id);
        let state =
            match &self.state {
                Some(text) => Some(serde_json::from_str::<State>(text).map_err(|e| {
                    StoreError::Unreadable {
                        what: what(),
                        reason: e.to_string(),
                    }
                })?),
                None => None,
            };
        Ok(Deployment {
            action: self.action.parse().map_err(unreadable(what()))?,
            status: self.status.parse().map_err(unreadable(what()))?,
            started_at: parse_time(&self.started_at).map_err(unreadable(what()))?,
            finished_at: self
                .finished_at
                .as_deref()
                .map(parse_time)
                .transpose()
                .map_err(unreadable(what()))?,
            state,
            id: self.id,
            project_id: self.project_id,
            environment: self.environment,
            from_version: self.from_version,
            to_version: self.to_version,
            to_hash: self.to_hash,
            sql: self.sql,
            error: self.error,
            failed_statement: self.failed_statement,
            deployed_by: self.deployed_by,
        })
    }
}

impl ReadView {
    /// The project's environments in promotion order.
    pub fn environments(&self, project_id: &str) -> Result<Vec<Environment>> {
        let action = "listing environments";
        let rows = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ENV_COLUMNS} FROM environments WHERE project_id = ?1 ORDER BY position"
            ))
            .ctx(action)?
            .query_map([project_id], read_env)
            .ctx(action)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx(action)?;
        rows.into_iter().map(decode_env).collect()
    }

    /// The project's environment named `name`, or [`StoreError::UnknownEnvironment`].
    pub fn environment(&self, project_id: &str, name: &str) -> Result<Environment> {
        let action = format!("looking up environment {name}");
        let row = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ENV_COLUMNS} FROM environments WHERE project_id = ?1 AND name = ?2"
            ))
            .ctx(&action)?
            .query_row([project_id, name], read_env)
            .optional()
            .ctx(&action)?;
        row.map(decode_env)
            .transpose()?
            .ok_or_else(|| StoreError::UnknownEnvironment(name.to_string()))
    }

    /// The project's deployments, newest first, optionally of one environment.
    pub fn deployments(
        &self,
        project_id: &str,
        environment: Option<&str>,
    ) -> Result<Vec<Deployment>> {
        let action = "listing deployments";
        let rows = self
            .conn
            .prepare_cached(&format!(
                "SELECT {DEPLOYMENT_COLUMNS} FROM deployments \
                 WHERE project_id = ?1 AND (?2 IS NULL OR environment = ?2) \
                 ORDER BY started_at DESC, rowid DESC"
            ))
            .ctx(action)?
            .query_map(params![project_id, environment], DeploymentRow::read)
            .ctx(action)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx(action)?;
        rows.into_iter().map(DeploymentRow::decode).collect()
    }

    /// One deployment by id, if it exists.
    pub fn deployment(&self, id: &str) -> Result<Option<Deployment>> {
        let action = format!("reading deployment {id}");
        self.conn
            .prepare_cached(&format!(
                "SELECT {DEPLOYMENT_COLUMNS} FROM deployments WHERE id = ?1"
            ))
            .ctx(&action)?
            .query_row([id], DeploymentRow::read)
            .optional()
            .ctx(&action)?
            .map(DeploymentRow::decode)
            .transpose()
    }

    /// The environment's most recent deployment with `status`, if any.
    pub fn last_deployment(
        &self,
        project_id: &str,
        environment: &str,
        status: DeploymentStatus,
    ) -> Result<Option<Deployment>> {
        let action = format!("reading the last deployment of {environment}");
        self.conn
            .prepare_cached(&format!(
                "SELECT {DEPLOYMENT_COLUMNS} FROM deployments \
                 WHERE project_id = ?1 AND environment = ?2 AND status = ?3 \
                 ORDER BY started_at DESC, rowid DESC LIMIT 1"
            ))
            .ctx(&action)?
            .query_row(
                params![project_id, environment, status.as_str()],
                DeploymentRow::read,
            )
            .optional()
            .ctx(&action)?
            .map(DeploymentRow::decode)
            .transpose()
    }

    /// The lock row of an environment, if one is held (or was left behind).
    pub fn deploy_lock(&self, project_id: &str, environment: &str) -> Result<Option<DeployLock>> {
        let action = format!("reading the deploy lock of {environment}");
        let row = self
            .conn
            .prepare_cached(
                "SELECT pid, host, token, acquired_at FROM deploy_locks \
                 WHERE project_id = ?1 AND environment = ?2",
            )
            .ctx(&action)?
            .query_row([project_id, environment], |r| {
                Ok((
                    r.get::<_, u32>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .optional()
            .ctx(&action)?;
        row.map(|(pid, host, token, acquired)| {
            Ok(DeployLock {
                project_id: project_id.to_string(),
                environment: environment.to_string(),
                pid,
                host,
                token,
                acquired_at: parse_time(&acquired)
                    .map_err(unreadable(format!("the deploy lock of {environment}")))?,
            })
        })
        .transpose()
    }
}

impl WriteTx<'_> {
    /// Adds an environment at `env.position` (at the end when the position is
    /// past it), moving the ones at or after it one place right.
    /// [`StoreError::EnvironmentExists`] if the name is taken.
    pub fn add_environment(&self, env: &Environment) -> Result<Environment> {
        if self.environment(&env.project_id, &env.name).is_ok() {
            return Err(StoreError::EnvironmentExists(env.name.clone()));
        }
        let action = format!("adding environment {}", env.name);
        let count = self.environments(&env.project_id)?.len() as u32;
        let position = env.position.min(count);
        let conn = self.conn();
        // Two steps so the shift never collides with itself on a unique index
        // (there is none today, but positions must stay a permutation).
        conn.prepare_cached(
            "UPDATE environments SET position = position + 1 \
             WHERE project_id = ?1 AND position >= ?2",
        )
        .ctx(&action)?
        .execute(params![env.project_id, position])
        .ctx(&action)?;
        conn.prepare_cached(&format!(
            "INSERT INTO environments ({ENV_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ))
        .ctx(&action)?
        .execute(params![
            env.project_id,
            env.name,
            env.connection,
            position,
            env.color,
            env.require_snapshot,
            env.allow_drift,
            env.protected,
            format_time(&env.created_at),
        ])
        .ctx(&action)?;
        Ok(Environment {
            position,
            ..env.clone()
        })
    }

    /// Removes an environment (its deployment history stays) and closes the
    /// gap in the order. [`StoreError::UnknownEnvironment`] if there is none.
    pub fn remove_environment(&self, project_id: &str, name: &str) -> Result<()> {
        let env = self.environment(project_id, name)?;
        let action = format!("removing environment {name}");
        let conn = self.conn();
        conn.prepare_cached("DELETE FROM environments WHERE project_id = ?1 AND name = ?2")
            .ctx(&action)?
            .execute([project_id, name])
            .ctx(&action)?;
        conn.prepare_cached("DELETE FROM deploy_locks WHERE project_id = ?1 AND environment = ?2")
            .ctx(&action)?
            .execute([project_id, name])
            .ctx(&action)?;
        conn.prepare_cached(
            "UPDATE environments SET position = position - 1 \
             WHERE project_id = ?1 AND position > ?2",
        )
        .ctx(&action)?
        .execute(params![project_id, env.position])
        .ctx(&action)?;
        Ok(())
    }

    /// Records a deployment attempt.
    pub fn insert_deployment(&self, d: &Deployment) -> Result<()> {
        let action = format!("recording deployment {}", d.id);
        let state = d
            .state
            .as_ref()
            .map(|s| {
                serde_json::to_string(s).map_err(|source| StoreError::Json {
                    what: format!("the state of deployment {}", d.id),
                    source,
                })
            })
            .transpose()?;
        self.conn()
            .prepare_cached(&format!(
                "INSERT INTO deployments ({DEPLOYMENT_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
            ))
            .ctx(&action)?
            .execute(params![
                d.id,
                d.project_id,
                d.environment,
                d.action.as_str(),
                d.from_version,
                d.to_version,
                d.to_hash,
                d.status.as_str(),
                d.sql,
                d.error,
                d.failed_statement,
                state,
                d.deployed_by,
                format_time(&d.started_at),
                d.finished_at.as_ref().map(format_time),
            ])
            .ctx(&action)?;
        Ok(())
    }

    /// Records how a running deployment ended. Only a `running` row moves, so
    /// an outcome is never overwritten.
    pub fn finish_deployment(
        &self,
        id: &str,
        status: DeploymentStatus,
        error: Option<&str>,
        failed_statement: Option<&str>,
        finished_at: DateTime<Utc>,
    ) -> Result<bool> {
        let action = format!("recording the outcome of deployment {id}");
        let n = self
            .conn()
            .prepare_cached(
                "UPDATE deployments SET status = ?2, error = ?3, failed_statement = ?4, \
                 finished_at = ?5 WHERE id = ?1 AND status = 'running'",
            )
            .ctx(&action)?
            .execute(params![
                id,
                status.as_str(),
                error,
                failed_statement,
                format_time(&finished_at)
            ])
            .ctx(&action)?;
        Ok(n == 1)
    }

    /// Marks the environment's `running` deployments as interrupted (their
    /// process is gone) and returns how many there were.
    pub fn interrupt_running(
        &self,
        project_id: &str,
        environment: &str,
        reason: &str,
        finished_at: DateTime<Utc>,
    ) -> Result<usize> {
        let action = format!("closing interrupted deployments of {environment}");
        self.conn()
            .prepare_cached(
                "UPDATE deployments SET status = 'interrupted', error = ?3, finished_at = ?4 \
                 WHERE project_id = ?1 AND environment = ?2 AND status = 'running'",
            )
            .ctx(&action)?
            .execute(params![
                project_id,
                environment,
                reason,
                format_time(&finished_at)
            ])
            .ctx(&action)
    }

    /// Takes the environment's lock row. The caller has checked (in this same
    /// transaction) that no live holder exists; a stale row is replaced.
    pub fn put_deploy_lock(&self, lock: &DeployLock) -> Result<()> {
        let action = format!("locking environment {}", lock.environment);
        self.conn()
            .prepare_cached(
                "INSERT INTO deploy_locks (project_id, environment, pid, host, token, acquired_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (project_id, environment) DO UPDATE SET pid = excluded.pid, \
                 host = excluded.host, token = excluded.token, acquired_at = excluded.acquired_at",
            )
            .ctx(&action)?
            .execute(params![
                lock.project_id,
                lock.environment,
                lock.pid,
                lock.host,
                lock.token,
                format_time(&lock.acquired_at)
            ])
            .ctx(&action)?;
        Ok(())
    }

    /// Releases the environment's lock if `token` still holds it; returns
    /// whether it did.
    pub fn release_deploy_lock(
        &self,
        project_id: &str,
        environment: &str,
        token: &str,
    ) -> Result<bool> {
        let action = format!("unlocking environment {environment}");
        let n = self
            .conn()
            .prepare_cached(
                "DELETE FROM deploy_locks WHERE project_id = ?1 AND environment = ?2 AND token = ?3",
            )
            .ctx(&action)?
            .execute([project_id, environment, token])
            .ctx(&action)?;
        Ok(n == 1)
    }
}
