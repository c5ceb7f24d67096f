//! Plans, deployments, promotions and rollbacks.
//!
//! A deployment plans from the environment's LIVE schema (not from what the
//! workspace believes is there) to the chosen state, so whatever happened to
//! the database since, the plan is right for it. In order:
//!
//! 1. names are resolved (unknown environment, snapshot or connection: bad
//!    input, nothing recorded), and a protected environment's confirmation
//!    is checked;
//! 2. the environment's lock row is taken in the workspace (a second
//!    deployment to the same environment is refused while the first runs;
//!    a lock left by a process that no longer exists is taken over);
//! 3. the database is read: its marker, the snapshot the marker names, its
//!    live schema (a database that cannot be reached fails here: exit 1,
//!    nothing recorded, since nothing was planned);
//! 4. drift and the plan are computed; an empty plan to the state the
//!    marker already names is "up to date" and records nothing;
//! 5. safety checks: drift blocks a plan with statements unless the
//!    environment allows drift (an empty plan only moves the marker, adopting
//!    the live schema), and breaking statements need `allow_breaking`. A
//!    refusal is recorded with its reason;
//! 6. the plan runs with the marker write, in one transaction where the
//!    database has transactional DDL, behind a database-side lock and a check
//!    that no other deployment landed since the read; the outcome (with the
//!    failing statement and the database's message) is recorded.

use crate::live::{DriftReport, EnvContext, Expected, LiveSide};
use crate::mapping;
use crate::marker::{self, GuardStep, NewMarker};
use crate::snapshots::parse_version;
use crate::{App, AppError, AppResult};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tidemark_db::{Database, ExecError};
use tidemark_model::{diff, Change, Facts, QualifiedName, Severity, SnapshotHash, State, TableRef};
use tidemark_sql::{plan_changes, DialectKind, Plan};
use tidemark_store::{DeployLock, Deployment, DeploymentAction, DeploymentStatus, StoreError};

/// The version a working-state deployment is recorded under.
pub(crate) const WORKING: &str = "working";

/// Which state to deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotChoice {
    /// The project's latest snapshot.
    Latest,
    /// A snapshot by version.
    Version(String),
    /// The working state (only where the environment does not require a snapshot).
    Working,
}

impl SnapshotChoice {
    /// `None` → the latest snapshot; `working` → the working state; else a version.
    pub fn parse(text: Option<&str>) -> SnapshotChoice {
        match text.map(str::trim) {
            None | Some("") | Some("latest") => SnapshotChoice::Latest,
            Some("working") | Some("current") => SnapshotChoice::Working,
            Some(v) => SnapshotChoice::Version(v.to_string()),
        }
    }
}

/// How a deployment should go.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct DeployOptions {
    /// Plan and check only; change nothing and record nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Go ahead even when statements are breaking (lose data or break readers).
    #[serde(default)]
    pub allow_breaking: bool,
    /// For a protected environment: its name, typed by the user (`--yes` on
    /// the command line).
    #[serde(default)]
    pub confirm: Option<String>,
}

/// One statement of a plan preview.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct PlanStep {
    /// The SQL.
    pub sql: String,
    /// safe / risky / breaking.
    pub severity: Severity,
    /// Why, naming the object.
    pub reason: String,
}

/// A plan from an environment's live schema to a state, with its checks.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct PlanPreview {
    /// The environment.
    pub environment: String,
    /// The database's dialect (`postgres`, `mysql`, `sqlite`).
    pub dialect: String,
    /// The version the database's marker names now, if any.
    pub from_version: Option<String>,
    /// The version to deploy (`working` for the working state).
    pub to_version: String,
    /// Its SHA-256.
    pub to_hash: String,
    /// How many changes the plan makes.
    pub changes: usize,
    /// The statements in execution order.
    pub statements: Vec<PlanStep>,
    /// Changes without a statement of their own, and why.
    pub notes: Vec<String>,
    /// What undoing the plan could not bring back.
    pub down_lossy: Vec<String>,
    /// The worst severity of any statement.
    pub severity: Severity,
    /// The breaking steps, one line each (these need `allow_breaking`).
    pub breaking: Vec<String>,
    /// The drift check made before planning.
    pub drift: DriftReport,
    /// The plan as a commented SQL script.
    pub script: String,
}

/// What a deployment did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum DeployResult {
    /// The plan ran and the marker names the new version.
    Deployed,
    /// Nothing ran (`dry_run`).
    DryRun,
    /// The database already holds the version; nothing ran or was recorded.
    UpToDate,
}

/// The outcome of a deploy, promote or rollback that did not fail.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct DeployOutcome {
    /// Deployed, dry run, or up to date.
    pub result: DeployResult,
    /// Deploy, promote or rollback.
    pub action: DeploymentAction,
    /// The recorded deployment, when one ran.
    pub deployment_id: Option<String>,
    /// The plan and its checks.
    pub plan: PlanPreview,
}

/// The state chosen for deployment.
#[derive(Debug, Clone)]
struct Target {
    version: String,
    hash: SnapshotHash,
    state: State,
    working: bool,
}

impl Target {
    fn label(&self) -> String {
        if self.working {
            "the working state".to_string()
        } else {
            format!("snapshot {}", self.version)
        }
    }
}

/// The lock this process holds on an environment.
struct HeldLock {
    token: String,
}

impl App {
    /// `tidemark plan --env E [--snapshot V]`: the plan from the live
    /// database to a snapshot (the latest by default), with its checks.
    /// Takes no lock and records nothing.
    pub fn plan(&self, env_name: &str, snapshot: Option<&str>) -> AppResult<PlanPreview> {
        let ctx = self.env_context(env_name)?;
        let target = self.resolve_target(&ctx, &SnapshotChoice::parse(snapshot))?;
        let mut live = self.read_live(&ctx, Some(&target.state))?;
        let result = self.prepare(&ctx, &mut live, &target);
        self.close_quietly(live.db);
        result.map(|(_, preview)| preview)
    }

    /// `tidemark deploy --env E`: deploys a snapshot (the latest by default).
    pub fn deploy(
        &mut self,
        env_name: &str,
        snapshot: Option<&str>,
        options: &DeployOptions,
    ) -> AppResult<DeployOutcome> {
        let choice = SnapshotChoice::parse(snapshot);
        self.run_deployment(env_name, &choice, DeploymentAction::Deploy, options)
    }

    /// `tidemark promote --from A --to B`: deploys to `to` the snapshot its
    /// marker says `from` holds, with the same checks as a deploy.
    pub fn promote(
        &mut self,
        from: &str,
        to: &str,
        options: &DeployOptions,
    ) -> AppResult<DeployOutcome> {
        if from == to {
            return Err(AppError::BadInput(format!(
                "cannot promote {from} to itself: name two different environments"
            )));
        }
        let source = self.env_context(from)?;
        self.env_context(to)?;
        let (_, expected) = self.read_marker(&source)?;
        let version = match expected {
            Expected::Known { version, .. } if version == WORKING => {
                return Err(AppError::BadInput(format!(
                    "environment {from} runs the working state, not a snapshot: create a snapshot, deploy it to {from}, then promote"
                )))
            }
            Expected::Known { version, .. } => version,
            Expected::Nothing => {
                return Err(AppError::BadInput(format!(
                    "nothing is deployed in environment {from} yet, so there is nothing to promote: deploy to {from} first"
                )))
            }
            Expected::Unknown { reason, .. } => {
                return Err(AppError::BadInput(format!(
                    "cannot promote from environment {from}: {reason}"
                )))
            }
        };
        self.run_deployment(
            to,
            &SnapshotChoice::Version(version),
            DeploymentAction::Promote,
            options,
        )
    }

    /// `tidemark rollback --env E --to V`: deploys an earlier snapshot. Any
    /// breaking (data-losing) step is refused, by name, unless allowed.
    pub fn rollback(
        &mut self,
        env_name: &str,
        to: &str,
        options: &DeployOptions,
    ) -> AppResult<DeployOutcome> {
        let choice = SnapshotChoice::Version(to.to_string());
        self.run_deployment(env_name, &choice, DeploymentAction::Rollback, options)
    }

    fn run_deployment(
        &mut self,
        env_name: &str,
        choice: &SnapshotChoice,
        action: DeploymentAction,
        options: &DeployOptions,
    ) -> AppResult<DeployOutcome> {
        let ctx = self.env_context(env_name)?;
        let target = self.resolve_target(&ctx, choice)?;
        if ctx.env.protected && !options.dry_run {
            let confirmed = options
                .confirm
                .as_deref()
                .is_some_and(|c| c.trim() == ctx.env.name);
            if !confirmed {
                return Err(AppError::BadInput(format!(
                    "environment {} is protected: confirm by typing its name (on the command line, pass --yes)",
                    ctx.env.name
                )));
            }
        }
        if options.dry_run {
            return self.deploy_connected(&ctx, &target, action, options);
        }
        let lock = self.lock_env(&ctx)?;
        let result = self.deploy_connected(&ctx, &target, action, options);
        self.unlock_env(&ctx, &lock);
        result
    }

    fn deploy_connected(
        &mut self,
        ctx: &EnvContext,
        target: &Target,
        action: DeploymentAction,
        options: &DeployOptions,
    ) -> AppResult<DeployOutcome> {
        let mut live = self.read_live(ctx, Some(&target.state))?;
        let result = self.deploy_live(ctx, &mut live, target, action, options);
        self.close_quietly(live.db);
        result
    }

    /// Drift, plan and preview for deploying `target` to `live`.
    fn prepare(
        &self,
        ctx: &EnvContext,
        live: &mut LiveSide,
        target: &Target,
    ) -> AppResult<(Plan, PlanPreview)> {
        let drift = self.drift_of(ctx, live)?;
        let target_live =
            mapping::to_live(&target.state, &live.names, &target.label(), &ctx.label())?;
        let kind = live.kind();
        // Live objects know no ids; matching them with the snapshot the
        // marker names gives them the project's, so an object renamed since
        // that snapshot is renamed, not dropped and re-added with its data.
        let known = match &live.expected {
            Expected::Known { state, .. } => {
                mapping::to_live(state, &live.names, "the deployed state", &ctx.label()).ok()
            }
            _ => None,
        };
        let (from, pinned) = match &known {
            Some(expected) => (
                mapping::align(&live.state, expected, kind),
                mapping::ids_of(expected),
            ),
            None => (live.state.clone(), Default::default()),
        };
        // Objects that now carry the deployed snapshot's ids are the
        // project's own: the target is matched to them by id only, so what
        // the project dropped and re-added is dropped and re-added here too.
        let from = mapping::align_pinned(&from, &target_live, kind, pinned);
        let changes = diff(&from, &target_live);
        let facts = self.block_on(facts_for(live.db.as_mut(), &from, &changes));
        let plan = plan_changes(kind, changes, &from, &target_live, &facts).map_err(|e| {
            AppError::BadInput(format!(
                "cannot deploy {} to {}: {e}",
                target.label(),
                ctx.label()
            ))
        })?;
        let preview = PlanPreview {
            environment: ctx.env.name.clone(),
            dialect: kind.name().to_string(),
            from_version: live.expected.version().map(str::to_string),
            to_version: target.version.clone(),
            to_hash: target.hash.0.clone(),
            changes: plan.changes.len(),
            statements: plan
                .statements
                .iter()
                .map(|s| PlanStep {
                    sql: s.sql.clone(),
                    severity: s.severity,
                    reason: s.reason.clone(),
                })
                .collect(),
            notes: plan
                .notes
                .iter()
                .map(|n| {
                    let change = plan
                        .changes
                        .get(n.change)
                        .map(crate::describe_change)
                        .unwrap_or_default();
                    format!("{change}: {}", n.reason)
                })
                .collect(),
            down_lossy: plan.down_lossy.clone(),
            severity: plan.severity(),
            breaking: {
                // A table rebuild spreads one change over several statements.
                let mut reasons: Vec<String> = Vec::new();
                for s in plan.breaking() {
                    if !reasons.contains(&s.reason) {
                        reasons.push(s.reason.clone());
                    }
                }
                reasons
            },
            drift,
            script: plan.to_sql_script(),
        };
        Ok((plan, preview))
    }

    fn deploy_live(
        &mut self,
        ctx: &EnvContext,
        live: &mut LiveSide,
        target: &Target,
        action: DeploymentAction,
        options: &DeployOptions,
    ) -> AppResult<DeployOutcome> {
        if action == DeploymentAction::Rollback {
            check_rollback(ctx, &live.expected, target)?;
        }
        let (plan, preview) = self.prepare(ctx, live, target)?;
        let outcome = |result, deployment_id| DeployOutcome {
            result,
            action,
            deployment_id,
            plan: preview.clone(),
        };
        let marker_names_target =
            matches!(&live.expected, Expected::Known { hash, .. } if *hash == target.hash);
        if plan.changes.is_empty() && marker_names_target {
            return Ok(outcome(DeployResult::UpToDate, None));
        }
        if options.dry_run {
            return Ok(outcome(DeployResult::DryRun, None));
        }
        let now = self.now();
        let mut record = Deployment {
            id: crate::new_id("dep").0,
            project_id: ctx.project.id.clone(),
            environment: ctx.env.name.clone(),
            action,
            from_version: preview.from_version.clone(),
            to_version: target.version.clone(),
            to_hash: target.hash.0.clone(),
            status: DeploymentStatus::Running,
            sql: preview.script.clone(),
            error: None,
            failed_statement: None,
            state: target.working.then(|| target.state.clone()),
            deployed_by: self.actor.clone(),
            started_at: now,
            finished_at: None,
        };
        if let Some(reason) = refusal(ctx, target, &plan, &preview, options) {
            record.status = DeploymentStatus::Refused;
            record.error = Some(reason.clone());
            record.finished_at = Some(now);
            self.ws
                .write(|tx| -> AppResult<()> { Ok(tx.insert_deployment(&record)?) })?;
            return Err(AppError::Refused(reason));
        }
        self.ws
            .write(|tx| -> AppResult<()> { Ok(tx.insert_deployment(&record)?) })?;
        let deployed_at = marker_time(now);
        let marker_row = |status: &'static str| {
            marker::insert(
                live.kind(),
                &NewMarker {
                    deployment_id: &record.id,
                    project: &ctx.project.name,
                    environment: &ctx.env.name,
                    version: &target.version,
                    hash: &target.hash.0,
                    deployed_at: &deployed_at,
                    deployed_by: &record.deployed_by,
                    status,
                    sql: &record.sql,
                },
            )
        };
        let run = Run {
            kind: live.kind(),
            plan: &plan,
            max_seq: live.marker.max_seq,
            marker: marker_row("succeeded"),
            failed_marker: marker_row("failed"),
        };
        let result = self.block_on(run.execute(live.db.as_mut()));
        let finished = self.now();
        match result {
            Ok(()) => {
                self.ws.write(|tx| -> AppResult<bool> {
                    Ok(tx.finish_deployment(
                        &record.id,
                        DeploymentStatus::Succeeded,
                        None,
                        None,
                        finished,
                    )?)
                })?;
                tracing::info!(environment = %ctx.env.name, version = %target.version, "deployed");
                Ok(outcome(DeployResult::Deployed, Some(record.id)))
            }
            Err(failure) => {
                let message = format!(
                    "deploying {} to {} failed: {}",
                    target.label(),
                    ctx.label(),
                    failure.message
                );
                self.ws.write(|tx| -> AppResult<bool> {
                    Ok(tx.finish_deployment(
                        &record.id,
                        DeploymentStatus::Failed,
                        Some(&failure.message),
                        failure.statement.as_deref(),
                        finished,
                    )?)
                })?;
                Err(AppError::Database(message))
            }
        }
    }

    /// The state a choice names, refusing the working state where the
    /// environment requires a snapshot.
    fn resolve_target(&self, ctx: &EnvContext, choice: &SnapshotChoice) -> AppResult<Target> {
        let project = &ctx.project;
        match choice {
            SnapshotChoice::Latest => {
                let snapshot = self.ws.latest_snapshot(&project.id)?.ok_or_else(|| {
                    AppError::BadInput(format!(
                        "project {} has no snapshot to deploy: create one with `tidemark snapshot create --name …`",
                        project.name
                    ))
                })?;
                Ok(Target {
                    version: snapshot.version.to_string(),
                    hash: snapshot.hash,
                    state: snapshot.state,
                    working: false,
                })
            }
            SnapshotChoice::Version(v) => {
                let version = parse_version(v)?;
                let snapshot = self.ws.snapshot(&project.id, &version)?;
                Ok(Target {
                    version: snapshot.version.to_string(),
                    hash: snapshot.hash,
                    state: snapshot.state,
                    working: false,
                })
            }
            SnapshotChoice::Working => {
                if ctx.env.require_snapshot || ctx.env.protected {
                    return Err(AppError::BadInput(format!(
                        "{} only takes snapshots: create one with `tidemark snapshot create` and deploy it",
                        ctx.label()
                    )));
                }
                let state = self.working_state()?;
                let ops: Vec<String> = self
                    .ws
                    .uncommitted_ops(&project.id)?
                    .into_iter()
                    .map(|s| s.op.id)
                    .collect();
                Ok(Target {
                    version: WORKING.to_string(),
                    hash: SnapshotHash::compute(&state, &ops),
                    state,
                    working: true,
                })
            }
        }
    }

    /// Takes the environment's lock row, or says who holds it.
    fn lock_env(&mut self, ctx: &EnvContext) -> AppResult<HeldLock> {
        let now = self.now();
        let mine = DeployLock {
            project_id: ctx.project.id.clone(),
            environment: ctx.env.name.clone(),
            pid: std::process::id(),
            host: host_name(),
            token: crate::new_id("lock").0,
            acquired_at: now,
        };
        self.ws.write(|tx| -> AppResult<()> {
            if let Some(held) = tx.deploy_lock(&mine.project_id, &mine.environment)? {
                if holder_alive(&held, now) {
                    return Err(StoreError::EnvironmentLocked {
                        environment: held.environment,
                        pid: held.pid,
                        host: held.host,
                        since: held.acquired_at.to_rfc3339(),
                    }
                    .into());
                }
                let reason = format!(
                    "interrupted: process {} on {} ended before recording the outcome; the database's {} table tells what happened there",
                    held.pid,
                    held.host,
                    marker::MARKER_TABLE
                );
                let closed =
                    tx.interrupt_running(&mine.project_id, &mine.environment, &reason, now)?;
                tracing::warn!(environment = %mine.environment, pid = held.pid, closed, "took over a stale deploy lock");
            }
            tx.put_deploy_lock(&mine)?;
            Ok(())
        })?;
        Ok(HeldLock { token: mine.token })
    }

    /// Releases the lock; if that fails the next deployment finds it stale.
    fn unlock_env(&mut self, ctx: &EnvContext, lock: &HeldLock) {
        let (project, env) = (ctx.project.id.clone(), ctx.env.name.clone());
        let released = self.ws.write(|tx| -> AppResult<bool> {
            Ok(tx.release_deploy_lock(&project, &env, &lock.token)?)
        });
        if let Err(e) = released {
            tracing::warn!(environment = %env, error = %e, "could not release the deploy lock");
        }
    }
}

/// Why a deployment must not run, if it must not.
fn refusal(
    ctx: &EnvContext,
    target: &Target,
    plan: &Plan,
    preview: &PlanPreview,
    options: &DeployOptions,
) -> Option<String> {
    let drift = &preview.drift;
    if drift.drifted && !plan.statements.is_empty() && !ctx.env.allow_drift {
        let mut what: Vec<String> = Vec::new();
        if let Some(problem) = &drift.marker_problem {
            what.push(problem.clone());
        }
        for item in drift.items.iter().take(5) {
            what.push(format!(
                "{} {} {} ({})",
                item.kind, item.object_type, item.object_name, item.detail
            ));
        }
        if drift.items.len() > 5 {
            what.push(format!("and {} more", drift.items.len() - 5));
        }
        return Some(format!(
            "{} drifted from {}: {}; see `tidemark drift --env {}`, bring the change into the project with `tidemark import --env {}`, or allow drift on the environment",
            ctx.label(),
            drift
                .expected_version
                .as_deref()
                .map(|v| format!("snapshot {v}"))
                .unwrap_or_else(|| "what Tidemark deployed".into()),
            what.join("; "),
            ctx.env.name,
            ctx.env.name
        ));
    }
    if !preview.breaking.is_empty() && !options.allow_breaking {
        return Some(format!(
            "deploying {} to {} has {} breaking step{}: {}; pass --allow-breaking to run it anyway",
            target.label(),
            ctx.label(),
            preview.breaking.len(),
            if preview.breaking.len() == 1 { "" } else { "s" },
            preview.breaking.join("; ")
        ));
    }
    None
}

/// A rollback goes to an earlier snapshot than the one deployed.
fn check_rollback(ctx: &EnvContext, expected: &Expected, target: &Target) -> AppResult<()> {
    let Some(current) = expected.version() else {
        return Err(AppError::BadInput(format!(
            "nothing is deployed in {}, so there is nothing to roll back: use `tidemark deploy`",
            ctx.label()
        )));
    };
    let (Ok(current_v), Ok(target_v)) = (
        semver::Version::parse(current),
        semver::Version::parse(&target.version),
    ) else {
        return Ok(());
    };
    if target_v >= current_v {
        return Err(AppError::BadInput(format!(
            "{} holds {current}; {} is not earlier: use `tidemark deploy --env {} --snapshot {}`",
            ctx.label(),
            target.version,
            ctx.env.name,
            target.version
        )));
    }
    Ok(())
}

/// Row counts of the live tables the changes touch, so the breaking-change
/// verdicts can say how much data is at stake. Best effort: a failure to
/// count leaves the verdicts without counts.
async fn facts_for(db: &mut dyn Database, from: &State, changes: &[Change]) -> Facts {
    let mut wanted: BTreeMap<(String, String), QualifiedName> = BTreeMap::new();
    for change in changes {
        let value = serde_json::to_value(change).unwrap_or_default();
        let table = value.get("table").or_else(|| value.get("from"));
        if let Some(Ok(name)) = table.map(|t| serde_json::from_value::<QualifiedName>(t.clone())) {
            if from.find_table(&name.schema, &name.name).is_some() {
                wanted.insert((name.schema.clone(), name.name.clone()), name);
            }
        }
    }
    if wanted.is_empty() {
        return Facts::default();
    }
    let refs: Vec<TableRef> = wanted
        .keys()
        .map(|(schema, table)| TableRef {
            schema: schema.clone(),
            table: table.clone(),
        })
        .collect();
    match db.row_counts(&refs).await {
        Ok(counts) => Facts {
            row_counts: counts
                .into_iter()
                .filter_map(|c| {
                    wanted
                        .get(&(c.table.schema, c.table.table))
                        .map(|name| (name.clone(), c.rows))
                })
                .collect(),
        },
        Err(e) => {
            tracing::debug!(error = %e, "row counts unavailable");
            Facts::default()
        }
    }
}

/// What a statement of a run is, for explaining a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Guard(GuardStep),
    /// A statement of the plan, by its index in the plan.
    Plan(usize),
    Marker,
    Release,
}

/// Why a run failed: a one-line message and the statement the database
/// rejected, if one did.
#[derive(Debug)]
struct RunFailure {
    message: String,
    statement: Option<String>,
    /// Whether a statement of the plan itself failed (rather than the guard,
    /// the marker or the connection).
    in_plan: bool,
}

/// One execution of a plan with its marker, guard and lock statements.
struct Run<'p> {
    kind: DialectKind,
    plan: &'p Plan,
    max_seq: i64,
    marker: String,
    failed_marker: String,
}

impl Run<'_> {
    async fn execute(&self, db: &mut dyn Database) -> Result<(), RunFailure> {
        let plan = &self.plan.statements;
        let mut main: Vec<(Part, String)> = marker::guard(self.kind, self.max_seq)
            .into_iter()
            .map(|(step, sql)| (Part::Guard(step), sql))
            .collect();
        match self.kind {
            DialectKind::Sqlite => {
                // PRAGMA foreign_keys only takes effect outside a transaction.
                let range = self.plan.transaction_range();
                let outside = |r: std::ops::Range<usize>| -> Vec<(Part, String)> {
                    r.map(|i| (Part::Plan(i), plan[i].sql.clone())).collect()
                };
                let before = outside(0..range.start);
                let after = outside(range.end..plan.len());
                main.extend(range.map(|i| (Part::Plan(i), plan[i].sql.clone())));
                main.push((Part::Marker, self.marker.clone()));
                self.batch(db, &before, false).await?;
                let result = self.batch(db, &main, true).await;
                // Switch foreign keys back on whatever happened.
                let restored = self.batch(db, &after, false).await;
                result.and(restored)
            }
            DialectKind::Mysql => {
                main.extend(
                    plan.iter()
                        .enumerate()
                        .map(|(i, s)| (Part::Plan(i), s.sql.clone())),
                );
                main.push((Part::Marker, self.marker.clone()));
                main.extend(
                    marker::release(self.kind)
                        .into_iter()
                        .map(|sql| (Part::Release, sql)),
                );
                let result = self.batch(db, &main, false).await;
                if let Err(failure) = &result {
                    // MySQL commits DDL as it goes: say in the target that
                    // this run stopped half way, then let the lock go.
                    let mut after: Vec<String> = Vec::new();
                    if failure.in_plan {
                        after.push(self.failed_marker.clone());
                    }
                    after.extend(marker::release(self.kind));
                    if let Err(e) = db.execute(&after, false).await {
                        tracing::warn!(error = %e, "recording the failed run in the target failed");
                    }
                }
                result
            }
            _ => {
                main.extend(
                    plan.iter()
                        .enumerate()
                        .map(|(i, s)| (Part::Plan(i), s.sql.clone())),
                );
                main.push((Part::Marker, self.marker.clone()));
                self.batch(db, &main, true).await
            }
        }
    }

    async fn batch(
        &self,
        db: &mut dyn Database,
        parts: &[(Part, String)],
        transactional: bool,
    ) -> Result<(), RunFailure> {
        if parts.is_empty() {
            return Ok(());
        }
        let sql: Vec<String> = parts.iter().map(|(_, s)| s.clone()).collect();
        match db.execute(&sql, transactional).await {
            Ok(()) => Ok(()),
            Err(ExecError::Statement {
                index,
                message,
                rolled_back,
                sql,
                ..
            }) => Err(self.explain(parts[index].0, &message, rolled_back, sql)),
            Err(ExecError::Db(e)) => Err(RunFailure {
                message: one_line(&e.to_string()),
                statement: None,
                in_plan: false,
            }),
        }
    }

    fn explain(&self, part: Part, message: &str, rolled_back: bool, sql: String) -> RunFailure {
        let message = one_line(message);
        let outcome = if rolled_back {
            "; the transaction was rolled back: the database is unchanged".to_string()
        } else {
            String::new()
        };
        match part {
            Part::Guard(GuardStep::Lock) => RunFailure {
                message: format!(
                    "another deployment holds the database's deployment lock: wait for it to finish and run the command again ({message})"
                ),
                statement: None,
                in_plan: false,
            },
            Part::Guard(GuardStep::Unchanged) => RunFailure {
                message: format!(
                    "another deployment changed the database after it was read (its {} table moved): run the command again to plan from its new state{outcome}",
                    marker::MARKER_TABLE
                ),
                statement: None,
                in_plan: false,
            },
            Part::Guard(GuardStep::Setup) => RunFailure {
                message: format!("preparing the database failed: {message}{outcome}"),
                statement: Some(sql),
                in_plan: false,
            },
            Part::Plan(i) => {
                let total = self.plan.statements.len();
                let kept = if rolled_back || self.kind != DialectKind::Mysql {
                    outcome
                } else {
                    format!(
                        "; {} commits each DDL statement, so the {i} statement{} before it stay applied: check `tidemark drift`",
                        self.kind.product(),
                        if i == 1 { "" } else { "s" }
                    )
                };
                RunFailure {
                    message: format!(
                        "statement {} of {total} failed: {message}{kept} (statement: {})",
                        i + 1,
                        clip(&one_line(&sql), 200)
                    ),
                    statement: Some(sql),
                    in_plan: true,
                }
            }
            Part::Marker => RunFailure {
                message: format!("writing the version marker failed: {message}{outcome}"),
                statement: Some(sql),
                in_plan: false,
            },
            Part::Release => RunFailure {
                message: format!("releasing the database lock failed: {message}"),
                statement: Some(sql),
                in_plan: false,
            },
        }
    }
}

/// Newlines out, so an error stays one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(max).collect();
        out.push('…');
        out
    }
}

/// Fixed-width RFC 3339 UTC, so text order in the marker table is time order.
fn marker_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// This machine's name, recorded with a lock so another host's lock is never
/// judged by this host's process table.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// Locks older than this from a process whose liveness cannot be checked
/// (another host, or a system without /proc) are treated as stale.
const UNCHECKABLE_LOCK_HOURS: i64 = 6;

/// Whether a lock's holder may still be running.
fn holder_alive(held: &DeployLock, now: DateTime<Utc>) -> bool {
    let old = now - held.acquired_at > chrono::Duration::hours(UNCHECKABLE_LOCK_HOURS);
    if held.host != host_name() {
        return !old;
    }
    if held.pid == std::process::id() {
        return true;
    }
    let proc_root = std::path::Path::new("/proc");
    if proc_root.join("self").exists() {
        proc_root.join(held.pid.to_string()).exists()
    } else {
        !old
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_choices_parse() {
        assert_eq!(SnapshotChoice::parse(None), SnapshotChoice::Latest);
        assert_eq!(
            SnapshotChoice::parse(Some("working")),
            SnapshotChoice::Working
        );
        assert_eq!(
            SnapshotChoice::parse(Some("1.2.0")),
            SnapshotChoice::Version("1.2.0".into())
        );
    }

    #[test]
    fn a_dead_local_holder_is_stale_and_a_live_one_is_not() {
        let now = Utc::now();
        let mut lock = DeployLock {
            project_id: "p".into(),
            environment: "dev".into(),
            pid: std::process::id(),
            host: host_name(),
            token: "t".into(),
            acquired_at: now,
        };
        assert!(holder_alive(&lock, now));
        // Process ids are below 2^22 on Linux; this one cannot exist.
        lock.pid = u32::MAX - 1;
        assert!(!holder_alive(&lock, now));
        lock.host = "another-host.example".into();
        assert!(holder_alive(&lock, now));
        assert!(!holder_alive(&lock, now + chrono::Duration::hours(7)));
    }

    #[test]
    fn errors_stay_on_one_line_and_are_clipped() {
        assert_eq!(one_line("a\n  b\tc"), "a b c");
        assert_eq!(clip("abcdef", 3), "abc…");
    }
}
