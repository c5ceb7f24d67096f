//! Snapshots: create, list, show, verify, and diff between any two.

use crate::project::working_state_tx;
use crate::{App, AppError, AppResult};
use chrono::{DateTime, Utc};
use serde::Serialize;
use tidemark_model::{assess, diff, Bump, Change, Facts, Severity, Snapshot, SnapshotHash, State};

/// A snapshot as lists show it (no state).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct SnapshotSummary {
    /// Snapshot id.
    pub id: String,
    /// Semantic version.
    pub version: String,
    /// Name.
    pub name: String,
    /// Comment.
    pub comment: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Author.
    pub created_by: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// The previous snapshot's version.
    pub previous_version: Option<String>,
    /// Number of ops it includes.
    pub ops: usize,
    /// Number of tables in its state.
    pub tables: usize,
    /// Full SHA-256 hash.
    pub hash: SnapshotHash,
}

impl SnapshotSummary {
    fn of(s: &Snapshot, previous_version: Option<String>) -> Self {
        SnapshotSummary {
            id: s.id.clone(),
            version: s.version.to_string(),
            name: s.name.clone(),
            comment: s.comment.clone(),
            tags: s.tags.clone(),
            created_by: s.created_by.clone(),
            created_at: s.created_at,
            previous_version,
            ops: s.ops_included.len(),
            tables: table_count(&s.state),
            hash: s.hash.clone(),
        }
    }
}

fn table_count(state: &State) -> usize {
    state
        .catalogs
        .iter()
        .flat_map(|c| &c.schemas)
        .map(|s| s.tables.len())
        .sum()
}

/// One side of a comparison: a snapshot version or the working state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "snake_case", tag = "kind", content = "version")]
pub enum SnapshotRef {
    /// A snapshot by version.
    Version(String),
    /// The current project's working state (latest snapshot + uncommitted ops).
    Working,
}

impl SnapshotRef {
    /// Parses `working` (or `current`) or a version.
    pub fn parse(text: &str) -> SnapshotRef {
        match text.trim() {
            "working" | "current" | "WORKING" => SnapshotRef::Working,
            v => SnapshotRef::Version(v.trim_start_matches('v').to_string()),
        }
    }
}

/// One change of a diff with its assessment.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct DiffRow {
    /// The change.
    #[serde(flatten)]
    pub change: Change,
    /// One-line description.
    pub summary: String,
    /// safe / risky / breaking.
    pub severity: Severity,
    /// Why.
    pub reason: String,
}

/// The structured difference between two states.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct DiffReport {
    /// The from side.
    pub from: SnapshotRef,
    /// The to side.
    pub to: SnapshotRef,
    /// The changes in order.
    pub changes: Vec<DiffRow>,
    /// The highest severity (safe when there are no changes).
    pub severity: Severity,
}

/// One row of `snapshot verify`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct VerifyRow {
    /// The snapshot's version.
    pub version: String,
    /// Whether the stored hash matches the content.
    pub ok: bool,
    /// What is wrong, when not ok.
    pub error: Option<String>,
}

/// The result of `snapshot verify`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct VerifyReport {
    /// One row per snapshot, in version order.
    pub snapshots: Vec<VerifyRow>,
}

impl VerifyReport {
    /// Whether every snapshot verified.
    pub fn ok(&self) -> bool {
        self.snapshots.iter().all(|r| r.ok)
    }
}

/// Parses a version the way every command accepts it (`1.2.0` or `v1.2.0`).
pub(crate) fn parse_version(text: &str) -> AppResult<semver::Version> {
    semver::Version::parse(text.trim().trim_start_matches('v')).map_err(|e| {
        AppError::BadInput(format!(
            "bad version '{text}': {e}; expected MAJOR.MINOR.PATCH such as 1.2.0"
        ))
    })
}

impl App {
    /// Seals the working state as a new snapshot.
    ///
    /// The version is `version` if given, else the latest bumped by `bump`
    /// (minor by default). It must be above the latest snapshot's version.
    pub fn snapshot_create(
        &mut self,
        version: Option<&str>,
        bump: Option<Bump>,
        name: &str,
        comment: Option<&str>,
        tags: &[String],
    ) -> AppResult<SnapshotSummary> {
        if version.is_some() && bump.is_some() {
            return Err(AppError::BadInput(
                "give either --version or --bump, not both".into(),
            ));
        }
        let explicit = version.map(parse_version).transpose()?;
        if name.trim().is_empty() {
            return Err(AppError::BadInput(
                "snapshot name is empty: pass --name \"what changed\"".into(),
            ));
        }
        let project = self.ws.current_project()?;
        let now = self.now();
        let actor = self.actor.clone();
        let snapshot = self.ws.write(|tx| -> AppResult<Snapshot> {
            let latest = tx.latest_snapshot(&project.id)?;
            let latest_version = latest.as_ref().map(|s| &s.version);
            let version = match explicit {
                Some(v) => v,
                None => bump.unwrap_or(Bump::Minor).next(latest_version),
            };
            if let Some(latest) = latest_version {
                if &version <= latest {
                    return Err(AppError::BadInput(format!(
                        "version {version} is not above the latest snapshot {latest}: pass a higher --version or use --bump"
                    )));
                }
            }
            let uncommitted = tx.uncommitted_ops(&project.id)?;
            if uncommitted.is_empty() && latest.is_some() {
                return Err(AppError::BadInput(format!(
                    "nothing to snapshot: no ops since {}; add ops first",
                    latest_version.map(ToString::to_string).unwrap_or_default()
                )));
            }
            let state = working_state_tx(tx, &project.id)?;
            let ops_included: Vec<String> = uncommitted.into_iter().map(|s| s.op.id).collect();
            let hash = SnapshotHash::compute(&state, &ops_included);
            let snapshot = Snapshot {
                id: crate::new_id("snap").0,
                version,
                name: name.trim().to_string(),
                comment: comment.map(str::to_string).filter(|c| !c.trim().is_empty()),
                tags: tags.to_vec(),
                created_by: actor,
                created_at: now,
                previous: latest.map(|s| s.id),
                ops_included,
                state,
                hash,
            };
            tx.insert_snapshot(&project.id, &snapshot)?;
            Ok(snapshot)
        })?;
        let previous = self.previous_version(&snapshot)?;
        Ok(SnapshotSummary::of(&snapshot, previous))
    }

    fn previous_version(&self, s: &Snapshot) -> AppResult<Option<String>> {
        let project = self.ws.current_project()?;
        Ok(match &s.previous {
            None => None,
            Some(id) => self
                .ws
                .snapshots(&project.id)?
                .into_iter()
                .find(|p| &p.id == id)
                .map(|p| p.version.to_string()),
        })
    }

    /// The current project's snapshots, oldest first.
    pub fn snapshot_list(&self) -> AppResult<Vec<SnapshotSummary>> {
        let project = self.ws.current_project()?;
        let snapshots = self.ws.snapshots(&project.id)?;
        Ok(snapshots
            .iter()
            .map(|s| {
                let prev = s.previous.as_ref().and_then(|id| {
                    snapshots
                        .iter()
                        .find(|p| &p.id == id)
                        .map(|p| p.version.to_string())
                });
                SnapshotSummary::of(s, prev)
            })
            .collect())
    }

    /// One snapshot in full (hash-verified).
    pub fn snapshot_show(&self, version: &str) -> AppResult<Snapshot> {
        let v = parse_version(version)?;
        let project = self.ws.current_project()?;
        Ok(self.ws.snapshot(&project.id, &v)?)
    }

    /// Verifies the hash of every snapshot of the current project.
    pub fn snapshot_verify(&self) -> AppResult<VerifyReport> {
        let project = self.ws.current_project()?;
        let rows = self
            .ws
            .verify_snapshots(&project.id)?
            .into_iter()
            .map(|(version, result)| VerifyRow {
                version: version.to_string(),
                ok: result.is_ok(),
                error: result.err().map(|e| e.to_string()),
            })
            .collect();
        Ok(VerifyReport { snapshots: rows })
    }

    /// The state a [`SnapshotRef`] names.
    pub fn state_of(&self, r: &SnapshotRef) -> AppResult<State> {
        match r {
            SnapshotRef::Working => self.working_state(),
            SnapshotRef::Version(v) => Ok(self.snapshot_show(v)?.state),
        }
    }

    /// The structured change list between two states, each change assessed.
    pub fn diff(&self, from: &SnapshotRef, to: &SnapshotRef) -> AppResult<DiffReport> {
        let a = self.state_of(from)?;
        let b = self.state_of(to)?;
        let facts = Facts::default();
        let changes: Vec<DiffRow> = diff(&a, &b)
            .into_iter()
            .map(|change| {
                let assessment = assess(&change, &facts);
                DiffRow {
                    summary: crate::describe_change(&change),
                    change,
                    severity: assessment.severity,
                    reason: assessment.reason,
                }
            })
            .collect();
        let severity = changes
            .iter()
            .map(|c| c.severity)
            .max()
            .unwrap_or(Severity::Safe);
        Ok(DiffReport {
            from: from.clone(),
            to: to.clone(),
            changes,
            severity,
        })
    }
}
