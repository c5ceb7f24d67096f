//! Metadata scans and incremental diffs: `scan`, `scan list`, `scan label`,
//! `incremental-diff`, `diff show` and `diff list`.
//!
//! A scan reads a connection's schemas, tables and columns (plus cheap table
//! statistics) and records them as a run in the workspace. An incremental
//! diff compares the last two completed runs of a connection and stores one
//! row per added, removed or modified object, in the workspace or in a
//! PostgreSQL schema. The diff run goes `running` → `completed`, or `failed`
//! with the error; its change rows are written in one transaction, so a
//! failed diff leaves none behind.
//!
//! Custom attributes come from `scan label` (kept in the workspace) and from
//! a `--config` file; for the same object and key the config file wins, so a
//! CI pipeline's file is the source of truth where it speaks.

use crate::scan_config::{Labels, ScanConfig};
use crate::scan_objects::{build_objects, is_diff_output, object_path, parse_object_path};
use crate::{scan_diff, App, AppError, AppResult};
use serde::Serialize;
use std::collections::BTreeMap;
use tidemark_db::scan_output::{
    OutputAsset, OutputChange, OutputRun, OutputTotals, PgDiffOutput, DEFAULT_OUTPUT_SCHEMA,
};
use tidemark_db::{redact_url, ConnectionSpec, DbError};
use tidemark_store::{
    AssetType, ChangeCounts, DiffChange, DiffFormat, DiffRun, DiffStatus, ScanRun, ScanStatus,
};
use uuid::Uuid;

/// Where `incremental-diff` writes its change rows.
#[derive(Debug, Clone)]
pub struct DiffOutputOptions {
    /// `sqlite` (the workspace, the default) or `postgres`.
    pub format: DiffFormat,
    /// With `postgres`: the output database (a URL, or the name of a
    /// connection); defaults to the scanned connection when it is PostgreSQL.
    pub output_url: Option<String>,
    /// With `postgres`: the output schema, created if missing.
    pub output_schema: Option<String>,
}

impl Default for DiffOutputOptions {
    fn default() -> Self {
        DiffOutputOptions {
            format: DiffFormat::Sqlite,
            output_url: None,
            output_schema: None,
        }
    }
}

/// The custom attributes of one object after `scan label`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct LabelReport {
    /// The connection.
    pub connection: String,
    /// The object path.
    pub path: String,
    /// The attributes the next scan will record (workspace labels, with
    /// the config file's on top).
    pub labels: BTreeMap<String, String>,
}

/// The outcome of `incremental-diff`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct IncrementalDiffReport {
    /// The diff run (completed).
    pub diff: DiffRun,
    /// The older scan run.
    pub older: ScanRun,
    /// The newer scan run.
    pub newer: ScanRun,
    /// Changes per asset type and change type.
    pub counts: ChangeCounts,
    /// Every change.
    #[ts(type = "number")]
    pub total: u64,
    /// Where the change rows are, in words.
    pub location: String,
    /// A query that shows the diff's summary row.
    pub summary_query: String,
    /// Things worth knowing, e.g. that the two runs read different schemas.
    pub warnings: Vec<String>,
}

/// One diff with its change rows (`diff show`).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct DiffDetail {
    /// The diff run.
    pub diff: DiffRun,
    /// Changes per asset type and change type.
    pub counts: ChangeCounts,
    /// Every change row: schemas, then tables, then columns, by name.
    pub changes: Vec<DiffChange>,
    /// Where the change rows are, in words.
    pub location: String,
    /// A query that shows the diff's summary row.
    pub summary_query: String,
}

/// A connection ready to open: from the config file or the workspace.
struct ResolvedConnection {
    spec: ConnectionSpec,
    password: Option<String>,
    default_schemas: Vec<String>,
}

/// Where a diff's change rows go.
enum OutputTarget {
    Workspace,
    Postgres {
        spec: ConnectionSpec,
        password: Option<String>,
        schema: String,
        connection: Option<String>,
    },
}

/// `schema` as it must be written in SQL: bare when it is a plain
/// lower-case identifier, else double-quoted.
fn sql_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// Where a diff's rows are, in words, and the query for its summary row.
fn location_of(run: &DiffRun, workspace: &std::path::Path) -> (String, String) {
    match run.output_format {
        DiffFormat::Sqlite => (
            format!(
                "the incremental_diff_* tables of the workspace {}",
                workspace.display()
            ),
            format!(
                "SELECT * FROM diff_summary WHERE diff_sync_id = '{}'",
                run.diff_sync_id
            ),
        ),
        DiffFormat::Postgres => {
            let schema = sql_ident(
                run.output_schema
                    .as_deref()
                    .unwrap_or(DEFAULT_OUTPUT_SCHEMA),
            );
            (
                format!(
                    "the {schema}.incremental_diff_* tables of {}",
                    run.output_url.as_deref().unwrap_or("the output database")
                ),
                format!(
                    "SELECT * FROM {schema}.diff_summary WHERE diff_sync_id = '{}'",
                    run.diff_sync_id
                ),
            )
        }
    }
}

fn output_asset(asset: AssetType) -> OutputAsset {
    match asset {
        AssetType::Schema => OutputAsset::Schema,
        AssetType::Table => OutputAsset::Table,
        AssetType::Column => OutputAsset::Column,
    }
}

fn parse_uuid(id: &str, what: &str) -> Result<Uuid, String> {
    Uuid::parse_str(id).map_err(|e| format!("{what} {id} is not a UUID: {e}"))
}

impl App {
    /// Finds a connection in the config file (first) or the workspace and
    /// fetches its password.
    fn resolve_connection(
        &self,
        name: &str,
        config: Option<&ScanConfig>,
    ) -> AppResult<ResolvedConnection> {
        if let Some(c) = config.and_then(|c| c.connection(name)) {
            let spec = ConnectionSpec::parse(&c.url)
                .map_err(|e| AppError::BadInput(format!("connection {name}: {e}")))?;
            let password = match &c.password_env {
                None => None,
                Some(var) => Some(std::env::var(var).map_err(|_| {
                    AppError::BadInput(format!(
                        "connection {name} reads its password from ${var}, which is not set: export {var}=… and retry"
                    ))
                })?),
            };
            return Ok(ResolvedConnection {
                spec,
                password,
                default_schemas: c.schemas.clone(),
            });
        }
        let c = match self.ws.connection(name) {
            Ok(c) => c,
            Err(tidemark_store::StoreError::UnknownConnection(_)) => {
                return Err(AppError::BadInput(match config {
                    Some(config) => format!(
                        "no connection named {name} in the workspace or in {}: add it with `tidemark connection add {name} --url URL` or declare it in the config file",
                        config.path.display()
                    ),
                    None => format!(
                        "no connection named {name}: add it with `tidemark connection add {name} --url URL`, or declare it in a --config file"
                    ),
                }))
            }
            Err(e) => return Err(e.into()),
        };
        let spec = ConnectionSpec::parse(&c.url).map_err(|e| {
            AppError::Integrity(format!("stored connection {name} is unreadable: {e}"))
        })?;
        Ok(ResolvedConnection {
            spec,
            password: self.password_of(&c)?,
            default_schemas: Vec::new(),
        })
    }

    /// The labels of a connection: the workspace's, then the config file's
    /// on top.
    fn labels_of(&self, connection: &str, config: Option<&ScanConfig>) -> AppResult<Labels> {
        let mut labels = Labels::new();
        for l in self.ws.scan_labels(connection)? {
            labels.entry(l.path).or_default().insert(l.key, l.value);
        }
        if let Some(extra) = config.and_then(|c| c.labels(connection)) {
            for (path, pairs) in extra {
                labels
                    .entry(path.clone())
                    .or_default()
                    .extend(pairs.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        Ok(labels)
    }

    /// Scans a connection and records the run.
    ///
    /// `schemas` limits the scan (empty: the config file's list for the
    /// connection, else every user schema). A database that cannot be read
    /// is recorded as a failed run, and the error returned. `progress` hears
    /// each step, for a spinner.
    pub fn scan(
        &mut self,
        connection: &str,
        schemas: &[String],
        config: Option<&ScanConfig>,
        progress: &mut dyn FnMut(&str),
    ) -> AppResult<ScanRun> {
        let _span = tracing::info_span!("scan", connection).entered();
        let resolved = self.resolve_connection(connection, config)?;
        let labels = self.labels_of(connection, config)?;
        let schemas = if schemas.is_empty() {
            resolved.default_schemas.clone()
        } else {
            schemas.to_vec()
        };
        let target = resolved.spec.redacted();
        let started_at = self.now();
        let id = Uuid::new_v4().to_string();
        tracing::info!(%target, ?schemas, run = %id, "scanning");
        progress(&format!("connecting to {target}"));
        let read = self.block_on(async {
            let mut db = tidemark_db::connect(&resolved.spec, resolved.password.as_deref()).await?;
            progress("reading the catalog");
            let state = db.introspect(&schemas).await?;
            progress("reading table statistics");
            let stats = db.table_stats(&schemas).await?;
            if let Err(e) = db.close().await {
                tracing::debug!(error = %e, "closing the scanned connection failed");
            }
            Ok::<_, DbError>((state, stats))
        });
        let mut run = ScanRun {
            id: id.clone(),
            connection: connection.to_string(),
            kind: resolved.spec.kind().to_string(),
            target,
            schemas,
            started_at,
            completed_at: started_at,
            status: ScanStatus::Completed,
            error_message: None,
            schema_count: 0,
            table_count: 0,
            column_count: 0,
        };
        let (mut state, stats) = match read {
            Ok(read) => read,
            Err(e) => {
                let message = e.to_string();
                run.status = ScanStatus::Failed;
                run.error_message = Some(message.clone());
                run.completed_at = self.now();
                self.ws.write(|tx| tx.insert_scan_run(&run, &[]))?;
                tracing::warn!(run = %id, error = %message, "scan failed");
                return Err(AppError::Database(format!(
                    "scan of {connection} failed (recorded as failed run {id}): {message}"
                )));
            }
        };
        if run.schemas.is_empty() {
            for catalog in &mut state.catalogs {
                catalog.schemas.retain(|s| {
                    let skip = is_diff_output(s);
                    if skip {
                        tracing::info!(schema = %s.name, "skipping an incremental-diff output schema (name it with --schema to scan it)");
                    }
                    !skip
                });
            }
        }
        progress("recording the scan run");
        let built = build_objects(&state, &stats, &labels);
        for path in labels.keys() {
            if !built.objects.iter().any(|o| &o.path == path) {
                tracing::warn!(%path, "custom attributes are set on an object this scan did not find");
            }
        }
        run.schema_count = built.schemas;
        run.table_count = built.tables;
        run.column_count = built.columns;
        run.completed_at = self.now();
        self.ws
            .write(|tx| tx.insert_scan_run(&run, &built.objects))?;
        tracing::info!(
            run = %id,
            schemas = built.schemas,
            tables = built.tables,
            columns = built.columns,
            "scan recorded"
        );
        Ok(run)
    }

    /// The scan runs of a connection, newest first.
    pub fn scan_list(&self, connection: &str) -> AppResult<Vec<ScanRun>> {
        Ok(self.ws.scan_runs(connection)?)
    }

    /// Sets (`key=value`) and removes custom attributes of one object of a
    /// connection; they are recorded from the next scan on.
    pub fn scan_label(
        &mut self,
        connection: &str,
        object: &str,
        set: &[(String, String)],
        unset: &[String],
        config: Option<&ScanConfig>,
    ) -> AppResult<LabelReport> {
        let known = config.is_some_and(|c| c.connection(connection).is_some())
            || self.ws.connection(connection).is_ok();
        if !known {
            // Reuse the message that says where connections come from.
            self.resolve_connection(connection, config)?;
        }
        let parts = parse_object_path(object).map_err(AppError::BadInput)?;
        let path = object_path(&parts);
        if set.is_empty() && unset.is_empty() {
            return Err(AppError::BadInput(
                "nothing to do: give key=value pairs to set and/or --unset KEY".into(),
            ));
        }
        for (key, _) in set {
            if key.trim().is_empty() {
                return Err(AppError::BadInput(
                    "a custom attribute needs a name: write key=value".into(),
                ));
            }
        }
        if let Some(key) = unset.iter().find(|k| set.iter().any(|(s, _)| s == *k)) {
            return Err(AppError::BadInput(format!(
                "custom attribute {key} is both set and unset"
            )));
        }
        let now = self.now();
        self.ws.write(|tx| -> AppResult<()> {
            Ok(tx.set_scan_labels(connection, &path, set, unset, now)?)
        })?;
        let labels = self
            .labels_of(connection, config)?
            .remove(&path)
            .unwrap_or_default();
        Ok(LabelReport {
            connection: connection.to_string(),
            path,
            labels,
        })
    }

    /// Where the diff's rows go; checks the flags before anything is written.
    fn resolve_output(
        &self,
        connection: &str,
        options: &DiffOutputOptions,
        config: Option<&ScanConfig>,
    ) -> AppResult<OutputTarget> {
        if options.format == DiffFormat::Sqlite {
            if options.output_url.is_some() || options.output_schema.is_some() {
                return Err(AppError::BadInput(
                    "--output-url and --output-schema go with --format postgres".into(),
                ));
            }
            return Ok(OutputTarget::Workspace);
        }
        let schema = options
            .output_schema
            .clone()
            .unwrap_or_else(|| DEFAULT_OUTPUT_SCHEMA.to_string());
        tidemark_db::scan_output::validate_schema_name(&schema).map_err(AppError::BadInput)?;
        let (spec, password, via) = match options.output_url.as_deref() {
            None => {
                let scanned = self.resolve_connection(connection, config)?;
                if !matches!(scanned.spec, ConnectionSpec::Postgres(_)) {
                    return Err(AppError::BadInput(format!(
                        "connection {connection} is {}, not PostgreSQL: pass --output-url postgres://… for --format postgres",
                        scanned.spec.kind()
                    )));
                }
                (scanned.spec, scanned.password, Some(connection.to_string()))
            }
            // A bare name is a connection (its password comes along).
            Some(name) if !name.contains(':') => {
                let named = self.resolve_connection(name, config)?;
                (named.spec, named.password, Some(name.to_string()))
            }
            Some(url) => {
                if redact_url(url) != url {
                    return Err(AppError::BadInput(format!(
                        "--output-url {} holds a password: remove it and set PGPASSWORD, or pass the name of a connection",
                        redact_url(url)
                    )));
                }
                let spec = ConnectionSpec::parse(url)
                    .map_err(|e| AppError::BadInput(format!("--output-url: {e}")))?;
                // No password: the driver falls back to PGPASSWORD.
                (spec, None, None)
            }
        };
        if !matches!(spec, ConnectionSpec::Postgres(_)) {
            return Err(AppError::BadInput(format!(
                "--format postgres needs a PostgreSQL output, not {}",
                spec.redacted()
            )));
        }
        Ok(OutputTarget::Postgres {
            spec,
            password,
            schema,
            connection: via,
        })
    }

    /// Compares the last two completed scan runs of a connection and stores
    /// the changes.
    ///
    /// Fewer than two runs is bad input (run `scan` again). Once the diff
    /// run is created, any failure marks it failed with the error and leaves
    /// none of its change rows behind.
    pub fn incremental_diff(
        &mut self,
        connection: &str,
        options: &DiffOutputOptions,
        config: Option<&ScanConfig>,
        progress: &mut dyn FnMut(&str),
    ) -> AppResult<IncrementalDiffReport> {
        let _span = tracing::info_span!("incremental_diff", connection).entered();
        progress("finding the last two scan runs");
        let runs = self.ws.latest_completed_scan_runs(connection, 2)?;
        if runs.len() < 2 {
            if runs.is_empty() {
                // An unknown name deserves that message rather than "scan again".
                self.resolve_connection(connection, config)?;
            }
            return Err(AppError::BadInput(format!(
                "connection {connection} has {} completed scan run{}; an incremental diff needs two: run `tidemark scan --connection-id {connection}` {}",
                runs.len(),
                if runs.len() == 1 { "" } else { "s" },
                if runs.is_empty() { "twice" } else { "again" }
            )));
        }
        let (newer, older) = (runs[0].clone(), runs[1].clone());
        let target = self.resolve_output(connection, options, config)?;
        let mut warnings = Vec::new();
        if older.schemas != newer.schemas {
            warnings.push(format!(
                "the two runs read different schemas ({:?} then {:?}): objects outside either list show as added or removed",
                older.schemas, newer.schemas
            ));
        }
        let started_at = self.now();
        let mut run = DiffRun {
            diff_sync_id: Uuid::new_v4().to_string(),
            connection_id: connection.to_string(),
            sync_run_1_id: older.id.clone(),
            sync_run_2_id: newer.id.clone(),
            started_at,
            completed_at: None,
            status: DiffStatus::Running,
            error_message: None,
            created_at: started_at,
            output_format: options.format,
            output_url: None,
            output_schema: None,
            output_connection: None,
            counts: None,
        };
        if let OutputTarget::Postgres {
            spec,
            schema,
            connection,
            ..
        } = &target
        {
            run.output_url = Some(spec.redacted());
            run.output_schema = Some(schema.clone());
            run.output_connection = connection.clone();
        }
        self.ws.write(|tx| tx.insert_diff_run(&run))?;
        tracing::info!(diff = %run.diff_sync_id, older = %older.id, newer = %newer.id, "incremental diff started");

        match self.run_diff(&run, &target, progress) {
            Ok(counts) => {
                run.status = DiffStatus::Completed;
                run = self.ws.diff_run(&run.diff_sync_id)?.unwrap_or(run);
                let (location, summary_query) = location_of(&run, self.workspace_path());
                tracing::info!(diff = %run.diff_sync_id, total = counts.total(), "incremental diff completed");
                Ok(IncrementalDiffReport {
                    total: counts.total(),
                    diff: run,
                    older,
                    newer,
                    counts,
                    location,
                    summary_query,
                    warnings,
                })
            }
            Err(message) => {
                let id = run.diff_sync_id.clone();
                tracing::error!(diff = %id, error = %message, "incremental diff failed");
                let now = self.now();
                if let Err(e) = self.ws.write(|tx| tx.fail_diff_run(&id, now, &message)) {
                    tracing::error!(diff = %id, error = %e, "could not mark the diff failed in the workspace");
                }
                Err(AppError::Database(format!(
                    "incremental diff {id} failed: {message}"
                )))
            }
        }
    }

    /// Compares and writes; an `Err` is the message the run is marked
    /// failed with.
    fn run_diff(
        &mut self,
        run: &DiffRun,
        target: &OutputTarget,
        progress: &mut dyn FnMut(&str),
    ) -> Result<ChangeCounts, String> {
        let diff_uuid = parse_uuid(&run.diff_sync_id, "diff")?;
        let mut output = match target {
            OutputTarget::Workspace => None,
            OutputTarget::Postgres {
                spec,
                password,
                schema,
                ..
            } => {
                progress(&format!("connecting to the output {}", spec.redacted()));
                let output_run = OutputRun {
                    diff_sync_id: diff_uuid,
                    connection_id: &run.connection_id,
                    sync_run_1_id: parse_uuid(&run.sync_run_1_id, "scan run")?,
                    sync_run_2_id: parse_uuid(&run.sync_run_2_id, "scan run")?,
                    started_at: run.started_at,
                };
                let opened = self.block_on(async {
                    let mut out = PgDiffOutput::open(spec, password.as_deref(), schema).await?;
                    out.begin_run(&output_run).await?;
                    Ok::<_, DbError>(out)
                });
                Some(opened.map_err(|e| e.to_string())?)
            }
        };
        let result = self.compare_and_write(run, output.as_mut(), progress);
        if let Some(mut out) = output {
            let at = self.now();
            self.block_on(async {
                if let Err(message) = &result {
                    // The output may be the thing that failed; the workspace
                    // row is marked failed regardless.
                    if let Err(e) = out.fail_run(diff_uuid, message, at).await {
                        tracing::warn!(error = %e, "could not mark the diff failed in the output database");
                    }
                }
                if let Err(e) = out.close().await {
                    tracing::debug!(error = %e, "closing the output connection failed");
                }
            });
        }
        result
    }

    fn compare_and_write(
        &mut self,
        run: &DiffRun,
        output: Option<&mut PgDiffOutput>,
        progress: &mut dyn FnMut(&str),
    ) -> Result<ChangeCounts, String> {
        let id = run.diff_sync_id.as_str();
        progress("reading the two scan runs");
        let older = self
            .ws
            .scan_objects(&run.sync_run_1_id)
            .map_err(|e| e.to_string())?;
        let newer = self
            .ws
            .scan_objects(&run.sync_run_2_id)
            .map_err(|e| e.to_string())?;
        progress(&format!(
            "comparing {} objects with the {} of the older run",
            newer.len(),
            older.len()
        ));
        let found = scan_diff::compare(&older, &newer)?;
        let created_at = self.now();
        let changes: Vec<DiffChange> = found
            .into_iter()
            .map(|f| DiffChange {
                diff_id: Uuid::new_v4().to_string(),
                asset_type: f.asset_type,
                schema_name: f.schema_name,
                table_name: f.table_name,
                column_name: f.column_name,
                change_type: f.change_type,
                sync_run_1_data: f.old,
                sync_run_2_data: f.new,
                differences: f.differences,
                created_at,
            })
            .collect();
        let counts = ChangeCounts::of(&changes);
        progress(&format!("writing {} change rows", changes.len()));
        match output {
            None => {
                let completed_at = self.now();
                self.ws
                    .write(|tx| {
                        tx.insert_diff_changes(id, &changes)?;
                        tx.complete_diff_run(id, completed_at, &counts)
                    })
                    .map_err(|e| e.to_string())?
            }
            Some(out) => {
                let rows: Vec<OutputChange<'_>> = changes
                    .iter()
                    .map(|c| {
                        Ok(OutputChange {
                            diff_id: parse_uuid(&c.diff_id, "change")?,
                            asset: output_asset(c.asset_type),
                            schema_name: &c.schema_name,
                            table_name: c.table_name.as_deref(),
                            column_name: c.column_name.as_deref(),
                            change_type: c.change_type.as_str(),
                            sync_run_1_data: c.sync_run_1_data.as_ref(),
                            sync_run_2_data: c.sync_run_2_data.as_ref(),
                            differences: c.differences.as_ref(),
                            created_at: c.created_at,
                        })
                    })
                    .collect::<Result<_, String>>()?;
                let totals = OutputTotals {
                    schemas: counts.schema.total() as i64,
                    tables: counts.table.total() as i64,
                    columns: counts.column.total() as i64,
                };
                let completed_at = self.now();
                self.block_on(out.write_changes(
                    parse_uuid(id, "diff")?,
                    &rows,
                    totals,
                    completed_at,
                ))
                .map_err(|e| e.to_string())?;
                self.ws
                    .write(|tx| tx.complete_diff_run(id, completed_at, &counts))
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(counts)
    }

    /// One diff with its change rows, read from wherever they were written.
    pub fn diff_show(&self, id: &str, config: Option<&ScanConfig>) -> AppResult<DiffDetail> {
        let run = self.ws.diff_run(id)?.ok_or_else(|| {
            AppError::BadInput(format!(
                "no incremental diff {id}: see `tidemark diff list --connection-id NAME`"
            ))
        })?;
        let changes = match run.output_format {
            DiffFormat::Sqlite => self.ws.diff_changes(id)?,
            // A failed or running diff has no rows to fetch.
            DiffFormat::Postgres if run.status != DiffStatus::Completed => Vec::new(),
            DiffFormat::Postgres => self.read_postgres_changes(&run, config)?,
        };
        let counts = ChangeCounts::of(&changes);
        let (location, summary_query) = location_of(&run, self.workspace_path());
        Ok(DiffDetail {
            diff: run,
            counts,
            changes,
            location,
            summary_query,
        })
    }

    fn read_postgres_changes(
        &self,
        run: &DiffRun,
        config: Option<&ScanConfig>,
    ) -> AppResult<Vec<DiffChange>> {
        let (spec, password) = match &run.output_connection {
            Some(name) => {
                let c = self.resolve_connection(name, config)?;
                (c.spec, c.password)
            }
            None => {
                let url = run.output_url.as_deref().unwrap_or_default();
                let spec = ConnectionSpec::parse(url).map_err(|e| {
                    AppError::Integrity(format!(
                        "diff {} has an unreadable output URL: {e}",
                        run.diff_sync_id
                    ))
                })?;
                (spec, None)
            }
        };
        let schema = run
            .output_schema
            .clone()
            .unwrap_or_else(|| DEFAULT_OUTPUT_SCHEMA.to_string());
        let id = parse_uuid(&run.diff_sync_id, "diff").map_err(AppError::Integrity)?;
        let rows = self
            .block_on(async {
                let mut out = PgDiffOutput::open(&spec, password.as_deref(), &schema).await?;
                let rows = out.read_changes(id).await?;
                let _ = out.close().await;
                Ok::<_, DbError>(rows)
            })
            .map_err(|e| {
                AppError::Database(format!(
                    "reading diff {} from its PostgreSQL output: {e}",
                    run.diff_sync_id
                ))
            })?;
        rows.into_iter()
            .map(|r| {
                Ok(DiffChange {
                    diff_id: r.diff_id.to_string(),
                    asset_type: match r.asset {
                        OutputAsset::Schema => AssetType::Schema,
                        OutputAsset::Table => AssetType::Table,
                        OutputAsset::Column => AssetType::Column,
                    },
                    change_type: tidemark_store::ChangeType::ALL
                        .into_iter()
                        .find(|c| c.as_str() == r.change_type)
                        .ok_or_else(|| {
                            AppError::Integrity(format!(
                                "diff row {} has an unknown change type {:?}",
                                r.diff_id, r.change_type
                            ))
                        })?,
                    schema_name: r.schema_name,
                    table_name: r.table_name,
                    column_name: r.column_name,
                    sync_run_1_data: r.sync_run_1_data,
                    sync_run_2_data: r.sync_run_2_data,
                    differences: r.differences,
                    created_at: r.created_at,
                })
            })
            .collect()
    }

    /// The incremental diffs of a connection, newest first.
    pub fn diff_list(&self, connection: &str) -> AppResult<Vec<DiffRun>> {
        Ok(self.ws.diff_runs(connection)?)
    }
}

/// Splits `key=value` arguments of `scan label`.
pub fn parse_label_pairs(args: &[String]) -> AppResult<Vec<(String, String)>> {
    args.iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => Err(AppError::BadInput(format!(
                "{a:?} is not key=value (remove an attribute with --unset KEY)"
            ))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_only_when_needed() {
        assert_eq!(sql_ident("tidemark_meta"), "tidemark_meta");
        assert_eq!(sql_ident("Meta"), "\"Meta\"");
        assert_eq!(sql_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(sql_ident("1x"), "\"1x\"");
    }

    #[test]
    fn label_pairs_need_a_key() {
        assert_eq!(
            parse_label_pairs(&["owner=crm".into(), "note=a=b".into()]).unwrap(),
            [
                ("owner".to_string(), "crm".to_string()),
                ("note".to_string(), "a=b".to_string())
            ]
        );
        assert!(parse_label_pairs(&["=x".into()]).is_err());
        assert!(parse_label_pairs(&["novalue".into()]).is_err());
    }
}
