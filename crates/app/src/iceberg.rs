//! Iceberg tables in the workspace's embedded catalog (`<workspace
//! stem>-iceberg/` next to the workspace file) or in a REST catalog: list
//! tables and snapshots, read a table now, at a snapshot or as of a time.

use crate::{App, AppError, AppResult};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Serialize;
use std::path::{Path, PathBuf};
use tidemark_iceberg::{At, IcebergError, RestCatalog, SnapshotInfo, TableRef, Warehouse};
pub use tidemark_store::RestCatalogRef;

pub use tidemark_iceberg::CATALOG_NAME as ICEBERG_CATALOG_NAME;

/// The catalog folder of the workspace at `workspace`.
pub(crate) fn warehouse_dir(workspace: &Path) -> PathBuf {
    tidemark_iceberg::dir_for_workspace(workspace)
}

/// A table in `iceberg tables`.
#[derive(Debug, Clone, Serialize)]
pub struct IcebergTableSummary {
    /// `namespace.table`.
    pub table: String,
    /// How many snapshots it has.
    pub snapshots: usize,
    /// The current snapshot.
    pub current_snapshot: Option<i64>,
    /// When the current snapshot was committed.
    pub updated_at: Option<DateTime<Utc>>,
}

/// What `iceberg read` returns.
#[derive(Debug, Clone, Serialize)]
pub struct IcebergRows {
    /// `namespace.table`.
    pub table: String,
    /// The snapshot read (`None`: the table had no rows at that point).
    pub snapshot: Option<i64>,
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, one JSON value per column.
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// Which catalog an Iceberg table is in, resolved for opening: the
/// embedded one's folder, or a REST catalog with its token read from the
/// environment.
#[derive(Debug, Clone)]
pub(crate) enum CatalogAt {
    /// The embedded SQL catalog in this folder.
    Embedded(PathBuf),
    /// A REST catalog.
    Rest(RestCatalog),
}

impl CatalogAt {
    /// Opens (or connects to) the catalog.
    pub(crate) async fn open(&self) -> Result<Warehouse, IcebergError> {
        match self {
            CatalogAt::Embedded(dir) => Warehouse::open(dir).await,
            CatalogAt::Rest(rest) => Warehouse::connect(rest).await,
        }
    }
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks a REST catalog reference as given on the command line and
/// returns it normalized: an `http(s)` URL with no credentials, a trimmed
/// warehouse, a valid environment variable name. Nothing is contacted.
pub(crate) fn check_rest_catalog(r: &RestCatalogRef) -> AppResult<RestCatalogRef> {
    let url = RestCatalog::check_url(&r.url).map_err(iceberg_error)?;
    let warehouse = r
        .warehouse
        .as_deref()
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_string);
    let token_env = match r.token_env.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(name) if is_env_name(name) => Some(name.to_string()),
        Some(name) => {
            return Err(AppError::BadInput(format!(
                "--catalog-token-env `{name}` is not an environment variable name: give the variable's name (letters, digits, _), not the token"
            )))
        }
    };
    Ok(RestCatalogRef {
        url,
        warehouse,
        token_env,
    })
}

/// Reads a REST catalog's token from the environment variable its
/// reference names; a variable that is not set is an error naming it.
fn rest_catalog_of(r: &RestCatalogRef) -> AppResult<RestCatalog> {
    let r = check_rest_catalog(r)?;
    let token = match &r.token_env {
        Some(var) => match std::env::var(var) {
            Ok(t) if !t.is_empty() => Some(t),
            _ => {
                return Err(AppError::BadInput(format!(
                    "environment variable {var} (named by --catalog-token-env) is not set: export the REST catalog's token in it"
                )))
            }
        },
        None => None,
    };
    Ok(RestCatalog {
        url: r.url,
        warehouse: r.warehouse,
        token,
    })
}

fn iceberg_error(e: IcebergError) -> AppError {
    if e.is_bad_input() {
        AppError::BadInput(e.to_string())
    } else {
        AppError::Database(e.to_string())
    }
}

/// Parses `--as-of`: RFC 3339, `YYYY-MM-DD HH:MM:SS[.fff]` (UTC) or Unix
/// milliseconds.
pub fn parse_as_of(text: &str) -> AppResult<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return Ok(Utc.from_utc_datetime(&n));
        }
    }
    if let Ok(ms) = t.parse::<i64>() {
        if let Some(d) = Utc.timestamp_millis_opt(ms).single() {
            return Ok(d);
        }
    }
    Err(AppError::BadInput(format!(
        "--as-of `{text}` is not a time: use 2024-05-01T10:00:00Z, `2024-05-01 10:00:00` (UTC) or Unix milliseconds"
    )))
}

impl App {
    /// The workspace's Iceberg catalog folder.
    pub fn iceberg_dir(&self) -> PathBuf {
        warehouse_dir(self.ws.path())
    }

    /// The catalog `rest` names, or the workspace's embedded one.
    pub(crate) fn catalog_at(&self, rest: Option<&RestCatalogRef>) -> AppResult<CatalogAt> {
        Ok(match rest {
            Some(r) => CatalogAt::Rest(rest_catalog_of(r)?),
            None => CatalogAt::Embedded(self.iceberg_dir()),
        })
    }

    pub(crate) fn warehouse(&self, rest: Option<&RestCatalogRef>) -> AppResult<Warehouse> {
        let at = self.catalog_at(rest)?;
        self.block_on(at.open()).map_err(iceberg_error)
    }

    /// Every table in the catalog (`rest`, or the workspace's embedded one).
    pub fn iceberg_tables(
        &self,
        rest: Option<&RestCatalogRef>,
    ) -> AppResult<Vec<IcebergTableSummary>> {
        let wh = self.warehouse(rest)?;
        self.block_on(async {
            let mut out = Vec::new();
            for t in wh.tables().await? {
                let snaps = wh.snapshots(&t).await?;
                let current = wh.current_snapshot(&t).await?;
                out.push(IcebergTableSummary {
                    table: t.to_string(),
                    snapshots: snaps.len(),
                    current_snapshot: current,
                    updated_at: snaps
                        .iter()
                        .find(|s| Some(s.id) == current)
                        .map(|s| s.committed_at),
                });
            }
            Ok(out)
        })
        .map_err(iceberg_error)
    }

    /// A table's snapshots, oldest first.
    pub fn iceberg_snapshots(
        &self,
        rest: Option<&RestCatalogRef>,
        table: &str,
    ) -> AppResult<Vec<SnapshotInfo>> {
        let t = TableRef::parse(table).map_err(iceberg_error)?;
        let wh = self.warehouse(rest)?;
        self.block_on(wh.snapshots(&t)).map_err(iceberg_error)
    }

    /// Reads a table: the current snapshot, `snapshot`, or the one current
    /// at `as_of`; at most `limit` rows.
    pub fn iceberg_read(
        &self,
        rest: Option<&RestCatalogRef>,
        table: &str,
        snapshot: Option<i64>,
        as_of: Option<&str>,
        limit: Option<usize>,
    ) -> AppResult<IcebergRows> {
        let t = TableRef::parse(table).map_err(iceberg_error)?;
        let at = match (snapshot, as_of) {
            (Some(_), Some(_)) => {
                return Err(AppError::BadInput(
                    "give either --snapshot or --as-of, not both".into(),
                ))
            }
            (Some(id), None) => At::Snapshot(id),
            (None, Some(text)) => At::AsOf(parse_as_of(text)?),
            (None, None) => At::Current,
        };
        let wh = self.warehouse(rest)?;
        self.block_on(async {
            let id = wh.resolve(&t, at).await?;
            let (schema, batches) = wh.scan(&t, at, limit).await?;
            let (columns, rows) = tidemark_iceberg::rows_as_json(&schema, &batches)?;
            Ok(IcebergRows {
                table: t.to_string(),
                snapshot: id,
                columns,
                rows,
            })
        })
        .map_err(iceberg_error)
    }
}

impl App {
    /// `sync add` for a job whose source is `iceberg:NAMESPACE.TABLE`:
    /// checked against the Iceberg table and the open `target`; detection is
    /// by snapshot (`--detect full` or `auto`).
    pub(crate) fn sync_add_from_iceberg(
        &mut self,
        input: &crate::SyncJobInput,
        mut target: Box<dyn tidemark_db::transfer::Endpoint>,
    ) -> AppResult<crate::SyncJobAdded> {
        use tidemark_sync::{ConflictPolicy, Detect, JobSpec, Merge, DEFAULT_BATCH_SIZE};
        let bad = AppError::BadInput;
        let detect = input.detect.trim().to_ascii_lowercase();
        if detect != "full" && detect != "auto" {
            return Err(bad(format!(
                "--detect {detect}: an Iceberg source is read by snapshot; use --detect full (or auto)"
            )));
        }
        let merge: Merge = input
            .merge
            .parse()
            .map_err(|e| bad(format!("--merge: {e}")))?;
        let on_conflict: ConflictPolicy = match &input.on_conflict {
            Some(p) => p.parse().map_err(|e| bad(format!("--on-conflict: {e}")))?,
            None if merge == Merge::Append => ConflictPolicy::Skip,
            None => ConflictPolicy::Overwrite,
        };
        if input.lag.is_some() {
            return Err(bad("--lag does not apply to an Iceberg source".into()));
        }
        let source_table = input.source[tidemark_sync::iceberg_target::PREFIX.len()..].to_string();
        let spec = JobSpec {
            name: input.name.trim().to_string(),
            source: input.source.clone(),
            source_table: source_table.clone(),
            target: input.target.clone(),
            target_table: input.target_table.clone().unwrap_or_else(|| {
                TableRef::parse(&source_table)
                    .map(|t| t.name)
                    .unwrap_or(source_table.clone())
            }),
            detect: Detect::Full,
            detect_auto: detect == "auto",
            tracking_column: None,
            merge,
            key: input.key.clone(),
            on_conflict,
            batch_size: input.batch_size.unwrap_or(DEFAULT_BATCH_SIZE as u64),
            lag_ms: 0,
            deleted_column: input.deleted_column.clone(),
            reconcile_deletes: input.reconcile_deletes,
        };
        let wh = self.warehouse(input.catalog.as_ref())?;
        let checked = self.block_on(async {
            let checked = tidemark_sync::iceberg_source::check(&spec, &wh, &mut *target).await;
            let _ = target.close().await;
            checked
        });
        let (_, plan, target_info) = checked.map_err(|e| {
            if e.is_bad_input() {
                AppError::BadInput(e.to_string())
            } else {
                AppError::Database(e.to_string())
            }
        })?;
        let mut notes = plan.notes.clone();
        notes.push("changes are read by Iceberg snapshot; the target's checkpoint row holds the last snapshot merged".into());
        if target_info.is_none() {
            notes.push(format!(
                "target table {} does not exist yet: the first run creates it",
                spec.target_table
            ));
        }
        let row = tidemark_store::SyncJobRow {
            name: spec.name.clone(),
            source: spec.source.clone(),
            source_table: spec.source_table.clone(),
            target: spec.target.clone(),
            target_table: spec.target_table.clone(),
            detect: spec.detect.to_string(),
            detect_auto: spec.detect_auto,
            tracking_column: None,
            merge: spec.merge.to_string(),
            key_columns: spec.key.clone(),
            on_conflict: spec.on_conflict.to_string(),
            batch_size: spec.batch_size,
            lag_ms: 0,
            deleted_column: spec.deleted_column.clone(),
            reconcile_deletes: spec.reconcile_deletes,
            created_at: self.now(),
            iceberg_catalog: input.catalog.clone(),
            via: None,
        };
        self.ws
            .write(|tx| -> AppResult<()> { Ok(tx.add_sync_job(&row)?) })?;
        Ok(crate::SyncJobAdded { job: row, notes })
    }
}
