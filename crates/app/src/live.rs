//! Reading an environment's live side: its connection, the marker in the
//! target, the snapshot the marker names, the live schema, and the drift
//! between what the marker says and what is there.

use crate::mapping::{self, LiveNames};
use crate::marker::{self, Marker, MarkerRead};
use crate::{App, AppError, AppResult};
use serde::Serialize;
use tidemark_db::{ConnectionSpec, Database};
use tidemark_model::{DriftItem, SnapshotHash, State};
use tidemark_sql::{dialect, DialectKind};
use tidemark_store::{Environment, Project};

/// Everything about an environment that is known without connecting.
#[derive(Debug, Clone)]
pub(crate) struct EnvContext {
    pub project: Project,
    pub env: Environment,
    pub names: LiveNames,
}

impl EnvContext {
    /// `environment NAME`, for messages.
    pub fn label(&self) -> String {
        format!("environment {}", self.env.name)
    }
}

/// What the marker says should be in the database.
#[derive(Debug, Clone)]
pub(crate) enum Expected {
    /// No marker: Tidemark never deployed here.
    Nothing,
    /// A state this workspace knows (a snapshot, or a recorded working-state deployment).
    Known {
        version: String,
        hash: SnapshotHash,
        /// In project names.
        state: State,
    },
    /// The marker names something this workspace cannot match.
    Unknown { version: String, reason: String },
}

impl Expected {
    /// The version the marker names, if there is a marker.
    pub fn version(&self) -> Option<&str> {
        match self {
            Expected::Nothing => None,
            Expected::Known { version, .. } | Expected::Unknown { version, .. } => Some(version),
        }
    }
}

/// A live read of an environment's database.
pub(crate) struct LiveSide {
    pub db: Box<dyn Database>,
    pub names: LiveNames,
    pub marker: MarkerRead,
    pub expected: Expected,
    /// The live schema in live names, without Tidemark's own tables.
    pub state: State,
}

impl LiveSide {
    /// The dialect of the database.
    pub fn kind(&self) -> DialectKind {
        self.names.kind
    }
}

/// The drift of an environment: its marker and how the live schema differs
/// from the state the marker names.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct DriftReport {
    /// The environment.
    pub environment: String,
    /// Its connection.
    pub connection: String,
    /// The latest succeeded marker row in the database, if any.
    pub marker: Option<Marker>,
    /// The version compared against (the marker's, when the workspace knows it).
    pub expected_version: Option<String>,
    /// What is wrong with the marker itself: missing on a database that has
    /// tables, or naming a snapshot this project does not have.
    pub marker_problem: Option<String>,
    /// Each difference: missing, modified or extra, in project names.
    pub items: Vec<DriftItem>,
    /// Whether the environment drifted (differences or a marker problem).
    pub drifted: bool,
}

impl App {
    /// Resolves an environment of the current project, its connection and
    /// the names a live read will use. Fails on unknown names (bad input)
    /// before anything connects.
    pub(crate) fn env_context(&self, env_name: &str) -> AppResult<EnvContext> {
        let project = self.ws.current_project()?;
        let env = self.ws.environment(&project.id, env_name)?;
        let connection = self.ws.connection(&env.connection)?;
        let spec = ConnectionSpec::parse(&connection.url).map_err(|e| {
            AppError::Integrity(format!(
                "stored connection {} is unreadable: {e}",
                connection.name
            ))
        })?;
        let names = LiveNames::of(&spec);
        Ok(EnvContext {
            project,
            env,
            names,
        })
    }

    /// Connects to an environment's database (a failure here is the
    /// machine's or the network's: exit 1, nothing recorded).
    pub(crate) fn connect_env(&self, ctx: &EnvContext) -> AppResult<Box<dyn Database>> {
        self.open_database(&ctx.env.connection)
    }

    /// What a marker row names, looked up in the workspace: a snapshot whose
    /// hash matches, or a recorded working-state deployment.
    pub(crate) fn expected_of(
        &self,
        project: &Project,
        marker: Option<&Marker>,
    ) -> AppResult<Expected> {
        let Some(m) = marker else {
            return Ok(Expected::Nothing);
        };
        if m.version == crate::deploy::WORKING {
            return Ok(match self.ws.deployment(&m.deployment_id)? {
                Some(d) if d.to_hash == m.hash && d.state.is_some() => Expected::Known {
                    version: m.version.clone(),
                    hash: SnapshotHash(m.hash.clone()),
                    state: d.state.unwrap_or_default(),
                },
                _ => Expected::Unknown {
                    version: m.version.clone(),
                    reason: format!(
                        "the marker names a working-state deployment ({}) that this workspace did not record",
                        m.deployment_id
                    ),
                },
            });
        }
        let unknown = |reason: String| Expected::Unknown {
            version: m.version.clone(),
            reason,
        };
        let Ok(version) = semver::Version::parse(&m.version) else {
            return Ok(unknown(format!(
                "the marker names version {:?}, which is not a version",
                m.version
            )));
        };
        match self.ws.snapshot(&project.id, &version) {
            Ok(s) if s.hash.0 == m.hash => Ok(Expected::Known {
                version: m.version.clone(),
                hash: s.hash,
                state: s.state,
            }),
            Ok(s) => Ok(unknown(format!(
                "the marker names snapshot {} with hash {}, but project {}'s {} has hash {}",
                m.version,
                short(&m.hash),
                project.name,
                s.version,
                s.hash.short()
            ))),
            Err(tidemark_store::StoreError::UnknownSnapshot(_)) => Ok(unknown(format!(
                "the marker names snapshot {}, which project {} does not have",
                m.version, project.name
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Connects and reads the environment's marker and live schema. The read
    /// covers the schemas of the expected state and of `also` (the state
    /// about to be deployed), mapped to live names.
    pub(crate) fn read_live(&self, ctx: &EnvContext, also: Option<&State>) -> AppResult<LiveSide> {
        if !marker::supported(ctx.names.kind) {
            return Err(unsupported_kind(ctx));
        }
        let mut db = self.connect_env(ctx)?;
        let connection = ctx.env.connection.clone();
        let db_err =
            |e: tidemark_db::DbError| AppError::Database(format!("connection {connection}: {e}"));
        let marker = self.block_on(marker::read(db.as_mut())).map_err(db_err)?;
        let expected = self.expected_of(&ctx.project, marker.latest.as_ref())?;
        let mut wanted: Vec<&State> = Vec::new();
        if let Expected::Known { state, .. } = &expected {
            wanted.push(state);
        }
        wanted.extend(also);
        // One schema per connection (MySQL, SQLite): the read takes it
        // whatever its name. Elsewhere the read covers the schemas the
        // project uses, so a database's other schemas are not drift; with no
        // schema known at all, every user schema is read.
        let schemas = if ctx.names.schema.is_some() {
            Vec::new()
        } else {
            mapping::schema_names(wanted)
        };
        let state = self.block_on(db.introspect(&schemas)).map_err(db_err)?;
        let state = mapping::without_own_tables(&state);
        let names = ctx.names.clone().with_live_catalog(&state);
        Ok(LiveSide {
            db,
            names,
            marker,
            expected,
            state,
        })
    }

    /// Connects and reads only the environment's marker and what it names.
    pub(crate) fn read_marker(&self, ctx: &EnvContext) -> AppResult<(Option<Marker>, Expected)> {
        if !marker::supported(ctx.names.kind) {
            return Err(unsupported_kind(ctx));
        }
        let mut db = self.connect_env(ctx)?;
        let read = self.block_on(marker::read(db.as_mut()));
        self.close_quietly(db);
        let read = read
            .map_err(|e| AppError::Database(format!("connection {}: {e}", ctx.env.connection)))?;
        let expected = self.expected_of(&ctx.project, read.latest.as_ref())?;
        Ok((read.latest, expected))
    }

    /// Compares the live schema with the state its marker names.
    pub(crate) fn drift_of(&self, ctx: &EnvContext, live: &LiveSide) -> AppResult<DriftReport> {
        let d = dialect(live.kind());
        let mut report = DriftReport {
            environment: ctx.env.name.clone(),
            connection: ctx.env.connection.clone(),
            marker: live.marker.latest.clone(),
            expected_version: None,
            marker_problem: None,
            items: Vec::new(),
            drifted: false,
        };
        match &live.expected {
            Expected::Known { version, state, .. } => {
                report.expected_version = Some(version.clone());
                let actual = mapping::from_live(&live.state, state, &live.names);
                report.items = tidemark_model::drift(&d.normalize(state), &d.normalize(&actual));
            }
            Expected::Unknown { reason, .. } => {
                report.marker_problem = Some(reason.clone());
            }
            Expected::Nothing => {
                // Compared with an empty database, every live table is extra.
                let names_from = self.naming_state()?;
                let actual = mapping::from_live(&live.state, &names_from, &live.names);
                let mut empty = actual.clone();
                for schema in empty.catalogs.iter_mut().flat_map(|c| &mut c.schemas) {
                    schema.tables.clear();
                }
                report.items = tidemark_model::drift(&d.normalize(&empty), &d.normalize(&actual));
                if !report.items.is_empty() {
                    report.marker_problem = Some(format!(
                        "the database has no Tidemark marker ({}) but holds {} table{}: it was not deployed by Tidemark",
                        marker::MARKER_TABLE,
                        live.state.table_count(),
                        if live.state.table_count() == 1 { "" } else { "s" }
                    ));
                }
            }
        }
        report.drifted = report.marker_problem.is_some() || !report.items.is_empty();
        Ok(report)
    }

    /// The state whose catalog and schema names a live read is shown in when
    /// no snapshot is deployed: the latest snapshot, else the working state.
    pub(crate) fn naming_state(&self) -> AppResult<State> {
        let project = self.ws.current_project()?;
        match self.ws.latest_snapshot(&project.id)? {
            Some(s) => Ok(s.state),
            None => self.working_state(),
        }
    }

    /// `tidemark drift --env E`: the live database against the snapshot its
    /// marker says is deployed.
    pub fn drift(&self, env_name: &str) -> AppResult<DriftReport> {
        let ctx = self.env_context(env_name)?;
        // The latest design's schemas too, so a drift check on a database
        // without a marker still looks where the project's tables would be.
        let naming = self.naming_state()?;
        let live = self.read_live(&ctx, Some(&naming))?;
        let report = self.drift_of(&ctx, &live);
        self.close_quietly(live.db);
        report
    }

    /// Closes a connection; a failure to say goodbye changes nothing.
    pub(crate) fn close_quietly(&self, db: Box<dyn Database>) {
        if let Err(e) = self.block_on(db.close()) {
            tracing::debug!(error = %e, "closing a database connection failed");
        }
    }
}

/// The refusal for an environment on a database that cannot hold a marker.
fn unsupported_kind(ctx: &EnvContext) -> AppError {
    AppError::BadInput(format!(
        "{} uses {}: environments support PostgreSQL, MySQL/MariaDB and SQLite databases",
        ctx.label(),
        ctx.names.kind.product()
    ))
}

/// The first 12 hex digits of a hash, for messages.
pub(crate) fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}
