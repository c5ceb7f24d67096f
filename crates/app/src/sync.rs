//! Incremental sync jobs: add (checked against the live tables), list,
//! show, remove, run (one, several in parallel, or continuously), history.
//!
//! Runs happen on the app's runtime; the workspace records each run when it
//! starts and when it ends, and mirrors the checkpoint the run reached. The
//! checkpoint that counts is the one in the target database.
//!
//! Progress reaches front ends through a [`ProgressSink`] callback
//! (`Fn(&SyncProgress)`), called after every committed batch: the CLI draws
//! progress bars with it, a server can forward it as events.

use crate::{App, AppError, AppResult};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tidemark_db::transfer::{self, Endpoint, TableName};
use tidemark_db::ConnectionSpec;
use tidemark_store::{SyncCheckpointMirror, SyncJobRow, SyncRunRow, Workspace};
use tidemark_sync::broker::{BrokerCheckpoint, BrokerTarget, CheckpointStore};
use tidemark_sync::iceberg_target::{self, is_iceberg};
use tidemark_sync::{
    detect, parse_duration, ConflictPolicy, Detect, JobSpec, Merge, RunOptions, RunReport,
    RunStatus, SyncError, DEFAULT_BATCH_SIZE,
};

pub use tidemark_sync::{
    format_duration as format_sync_duration, parse_duration as parse_sync_duration, ProgressSink,
    SyncPhase, SyncProgress,
};

/// What `sync add` is given (the CLI's flags, the UI's form).
#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct SyncJobInput {
    /// Job name.
    pub name: String,
    /// Source connection.
    pub source: String,
    /// Source table.
    pub table: String,
    /// Target connection.
    pub target: String,
    /// Target table (default: the source table's name).
    #[serde(default)]
    pub target_table: Option<String>,
    /// timestamp, sequence, version, full or auto.
    pub detect: String,
    /// The tracking column.
    #[serde(default)]
    pub column: Option<String>,
    /// append, upsert, replace or scd2.
    pub merge: String,
    /// Key columns (default: the source's primary key).
    #[serde(default)]
    pub key: Vec<String>,
    /// overwrite, skip or error (default: overwrite; skip for append).
    #[serde(default)]
    pub on_conflict: Option<String>,
    /// Rows per batch.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub batch_size: Option<u64>,
    /// Re-read window, e.g. `30s`.
    #[serde(default)]
    pub lag: Option<String>,
    /// Soft-delete column.
    #[serde(default)]
    pub deleted_column: Option<String>,
    /// Remove target rows whose key left the source.
    #[serde(default)]
    pub reconcile_deletes: bool,
    /// The REST catalog of the job's Iceberg table (`None`: the workspace's
    /// embedded catalog).
    #[serde(default)]
    pub catalog: Option<tidemark_store::RestCatalogRef>,
    /// A chained job's Iceberg table, `iceberg:NAMESPACE.TABLE`: each run
    /// stages the source's changes there as one snapshot and merges it into
    /// the target.
    #[serde(default)]
    pub via: Option<String>,
}

/// The result of `sync add`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct SyncJobAdded {
    /// The stored job.
    pub job: SyncJobRow,
    /// What the user should know: the column auto detection chose and why,
    /// whether the target table will be created.
    pub notes: Vec<String>,
}

/// A job in `sync list`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct SyncJobSummary {
    /// The job.
    pub job: SyncJobRow,
    /// Its latest run.
    pub last_run: Option<SyncRunRow>,
    /// The mirrored checkpoint.
    pub watermark: Option<String>,
}

/// `sync show`: the job, its mirrored checkpoint and its latest runs.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct SyncJobDetail {
    /// The job.
    pub job: SyncJobRow,
    /// The checkpoint as last mirrored from the target.
    pub checkpoint: Option<SyncCheckpointMirror>,
    /// The latest runs, newest first.
    pub runs: Vec<SyncRunRow>,
}

/// The result of one job in `sync run`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct SyncRunResult {
    /// The run as recorded in the history.
    pub run: SyncRunRow,
    /// Whether a failure was the job's or the data's fault (fix and rerun)
    /// rather than a database or machine failure.
    pub bad_input: bool,
}

/// The target text of a broker job (`nats:SUBJECT`, `kafka:TOPIC`) with its
/// options (`--nats-url`, `--brokers`, `--encoding`), checked; what
/// [`SyncJobInput::target`] takes for a broker.
pub fn broker_target(
    target: &str,
    nats_url: Option<&str>,
    brokers: Option<&str>,
    encoding: Option<&str>,
) -> AppResult<String> {
    BrokerTarget::compose(target, nats_url, brokers, encoding)
        .map_err(|e| bad(format!("--target: {e}")))
}

/// How many runs `sync show` lists.
const SHOWN_RUNS: usize = 10;

fn bad(message: String) -> AppError {
    AppError::BadInput(message)
}

fn sync_error(e: SyncError) -> AppError {
    if e.is_bad_input() {
        AppError::BadInput(e.to_string())
    } else {
        AppError::Database(e.to_string())
    }
}

/// A stored job as the engine's spec.
pub(crate) fn spec_of(row: &SyncJobRow) -> AppResult<JobSpec> {
    let unreadable = |what: &str, e: String| {
        AppError::Integrity(format!(
            "sync job {} has an unreadable {what}: {e}",
            row.name
        ))
    };
    Ok(JobSpec {
        name: row.name.clone(),
        source: row.source.clone(),
        source_table: row.source_table.clone(),
        target: row.target.clone(),
        target_table: row.target_table.clone(),
        detect: row.detect.parse().map_err(|e| unreadable("detection", e))?,
        detect_auto: row.detect_auto,
        tracking_column: row.tracking_column.clone(),
        merge: row.merge.parse().map_err(|e| unreadable("merge mode", e))?,
        key: row.key_columns.clone(),
        on_conflict: row
            .on_conflict
            .parse()
            .map_err(|e| unreadable("conflict policy", e))?,
        batch_size: row.batch_size,
        lag_ms: row.lag_ms,
        deleted_column: row.deleted_column.clone(),
        reconcile_deletes: row.reconcile_deletes,
    })
}

/// Where to reach a connection: its spec and password, resolved on the
/// calling thread so runs never touch the keychain.
struct Endpoints {
    spec: ConnectionSpec,
    password: Option<String>,
}

impl App {
    fn endpoints_of(&self, name: &str) -> AppResult<Endpoints> {
        let c = self.ws.connection(name)?;
        let spec = ConnectionSpec::parse(&c.url).map_err(|e| {
            AppError::Integrity(format!("stored connection {name} is unreadable: {e}"))
        })?;
        Ok(Endpoints {
            password: self.password_of(&c)?,
            spec,
        })
    }

    fn open_endpoint(&self, name: &str) -> AppResult<Box<dyn Endpoint>> {
        let e = self.endpoints_of(name)?;
        self.block_on(transfer::open(&e.spec, e.password.as_deref()))
            .map_err(|err| AppError::Database(format!("connection {name}: {err}")))
    }

    /// Adds a sync job after checking it against the live source and target
    /// (nothing is created or moved). With `detect = auto` the tracking
    /// column is chosen now, and the choice is reported in the notes.
    pub fn sync_add(&mut self, input: &SyncJobInput) -> AppResult<SyncJobAdded> {
        let name = input.name.trim();
        if name.is_empty() {
            return Err(bad("the job name is empty".into()));
        }
        if self.ws.sync_job(name).is_ok() {
            return Err(tidemark_store::StoreError::SyncJobExists(name.to_string()).into());
        }
        // `nats:SUBJECT` / `kafka:TOPIC`: a broker instead of a connection.
        let broker = if BrokerTarget::is_broker(&input.target) {
            Some(BrokerTarget::parse(&input.target).map_err(|e| bad(format!("--target: {e}")))?)
        } else {
            None
        };
        let via = match input.via.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(v) => {
                let v = if is_iceberg(v) {
                    v.to_string()
                } else {
                    format!("{}{v}", iceberg_target::PREFIX)
                };
                let table = iceberg_target::table_of(&v).map_err(|e| bad(format!("--via: {e}")))?;
                if is_iceberg(&input.source)
                    || is_iceberg(&input.target)
                    || BrokerTarget::is_broker(&input.target)
                {
                    return Err(bad(
                        "--via chains two connections through an Iceberg table: --source and --target must be connections".into(),
                    ));
                }
                Some(format!("{}{table}", iceberg_target::PREFIX))
            }
        };
        let catalog = match &input.catalog {
            Some(c) if !is_iceberg(&input.source) && !is_iceberg(&input.target) && via.is_none() => {
                return Err(bad(format!(
                    "--catalog-url {}: only a job with an iceberg: source, target or --via uses an Iceberg catalog",
                    c.url
                )))
            }
            Some(c) => Some(crate::iceberg::check_rest_catalog(c)?),
            None => None,
        };
        let input = &SyncJobInput {
            catalog,
            via,
            ..input.clone()
        };
        if is_iceberg(&input.source) {
            // `iceberg:NAMESPACE.TABLE`: read by snapshot (see iceberg.rs).
            if BrokerTarget::is_broker(&input.target) || is_iceberg(&input.target) {
                return Err(bad(
                    "an Iceberg source needs a database connection as the target".into(),
                ));
            }
            self.ws.connection(&input.target)?;
            let target = self.open_endpoint(&input.target)?;
            return self.sync_add_from_iceberg(input, target);
        }
        if input.table.trim().is_empty() {
            return Err(bad("--table: name the source table".into()));
        }
        self.ws.connection(&input.source)?;
        let iceberg = is_iceberg(&input.target);
        if broker.is_none() && !iceberg {
            self.ws.connection(&input.target)?;
        }
        let merge: Merge = input
            .merge
            .parse()
            .map_err(|e| bad(format!("--merge: {e}")))?;
        let auto = input.detect.trim().eq_ignore_ascii_case("auto");
        let mut detect: Detect = if auto {
            Detect::Full
        } else {
            input
                .detect
                .parse()
                .map_err(|e: String| bad(format!("--detect: {e} (or auto)")))?
        };
        let on_conflict: ConflictPolicy = match &input.on_conflict {
            Some(p) => p.parse().map_err(|e| bad(format!("--on-conflict: {e}")))?,
            None if merge == Merge::Append => ConflictPolicy::Skip,
            None => ConflictPolicy::Overwrite,
        };
        let lag_ms = match &input.lag {
            Some(l) => parse_duration(l)
                .map_err(|e| bad(format!("--lag: {e}")))?
                .as_millis() as u64,
            None => 0,
        };
        let mut column = input.column.clone();
        let mut notes = Vec::new();
        // A REST catalog must answer now, not at the first run; a chained
        // job's check also reads its Iceberg table, if it exists.
        let warehouse = if input.via.is_some() || (iceberg && input.catalog.is_some()) {
            Some(self.warehouse(input.catalog.as_ref())?)
        } else {
            None
        };
        let mut source = self.open_endpoint(&input.source)?;
        let mut target = match broker {
            Some(_) => None,
            None if iceberg => None,
            None => Some(self.open_endpoint(&input.target)?),
        };
        if auto {
            if merge == Merge::Replace {
                notes.push("auto: --merge replace reads every row, so detection is full".into());
            } else {
                let table = TableName::parse(&input.table);
                let info = self
                    .block_on(async {
                        let resolved = source.resolve(&table).await?;
                        source.describe(&resolved).await
                    })
                    .map_err(|e| AppError::Database(format!("connection {}: {e}", input.source)))?
                    .ok_or_else(|| {
                        bad(format!(
                            "source table {} does not exist on connection {}: check --table",
                            input.table, input.source
                        ))
                    })?;
                let choice = detect::choose(&info);
                if let Some(c) = &column {
                    if choice.column.as_deref() != Some(c.as_str()) {
                        return Err(bad(format!(
                            "--detect auto chooses the tracking column itself (it would pick {}); to track {c}, give --detect timestamp, sequence or version",
                            choice.column.as_deref().unwrap_or("none")
                        )));
                    }
                }
                detect = choice.detect;
                column = choice.column;
                notes.push(format!("auto: {}", choice.reason));
            }
        }
        if detect == Detect::Full {
            column = None;
        }
        let spec = JobSpec {
            name: name.to_string(),
            source: input.source.clone(),
            source_table: input.table.clone(),
            target: match &broker {
                Some(b) => b.to_string(),
                None => input.target.clone(),
            },
            target_table: match &broker {
                Some(b) => b.subject.clone(),
                None if iceberg => input.target[iceberg_target::PREFIX.len()..].to_string(),
                None => input
                    .target_table
                    .clone()
                    .unwrap_or_else(|| TableName::parse(&input.table).name),
            },
            detect,
            detect_auto: auto,
            tracking_column: column,
            merge,
            key: input.key.clone(),
            on_conflict,
            batch_size: input.batch_size.unwrap_or(DEFAULT_BATCH_SIZE as u64),
            lag_ms,
            deleted_column: input.deleted_column.clone(),
            reconcile_deletes: input.reconcile_deletes,
        };
        let checked = self.block_on(async {
            let checked = match (&broker, &mut target) {
                (Some(b), _) => tidemark_sync::broker::check(&spec, b, &mut *source)
                    .await
                    .map(|(_, plan)| (plan, true)),
                (None, Some(t)) => match (&input.via, &warehouse) {
                    (Some(via), Some(wh)) => {
                        tidemark_sync::chain::check(&spec, via, &mut *source, wh, &mut **t)
                            .await
                            .map(|(_, plan, target)| (plan, target.is_some()))
                    }
                    _ => tidemark_sync::check(&spec, &mut *source, &mut **t)
                        .await
                        .map(|c| (c.plan, c.target.is_some())),
                },
                (None, None) if iceberg => iceberg_target::check(&spec, &mut *source)
                    .await
                    .map(|(_, plan)| (plan, true)),
                (None, None) => unreachable!("a job has a broker or a target connection"),
            };
            let _ = source.close().await;
            if let Some(t) = target {
                let _ = t.close().await;
            }
            checked
        });
        let (plan, target_exists) = checked.map_err(sync_error)?;
        notes.extend(plan.notes.iter().cloned());
        if !target_exists {
            notes.push(format!(
                "target table {} does not exist yet: the first run creates it",
                spec.target_table
            ));
        }
        let row = SyncJobRow {
            name: spec.name.clone(),
            source: spec.source.clone(),
            source_table: spec.source_table.clone(),
            target: spec.target.clone(),
            target_table: spec.target_table.clone(),
            detect: spec.detect.to_string(),
            detect_auto: spec.detect_auto,
            tracking_column: spec.tracking_column.clone(),
            merge: spec.merge.to_string(),
            key_columns: spec.key.clone(),
            on_conflict: spec.on_conflict.to_string(),
            batch_size: spec.batch_size,
            lag_ms: spec.lag_ms,
            deleted_column: spec.deleted_column.clone(),
            reconcile_deletes: spec.reconcile_deletes,
            created_at: self.now(),
            iceberg_catalog: input.catalog.clone(),
            via: input.via.clone(),
        };
        if let Some(v) = &row.via {
            notes.push(format!(
                "each run appends the changes to Iceberg table {} as one snapshot, then merges that snapshot into {}",
                &v[iceberg_target::PREFIX.len()..],
                row.target_table
            ));
        }
        self.ws
            .write(|tx| -> AppResult<()> { Ok(tx.add_sync_job(&row)?) })?;
        Ok(SyncJobAdded { job: row, notes })
    }

    /// Every job with its latest run and mirrored watermark.
    pub fn sync_list(&self) -> AppResult<Vec<SyncJobSummary>> {
        self.ws
            .sync_jobs()?
            .into_iter()
            .map(|job| {
                let last_run = self.ws.sync_runs(&job.name, 1)?.into_iter().next();
                let watermark = self
                    .ws
                    .sync_checkpoint(&job.name)?
                    .and_then(|c| c.watermark);
                Ok(SyncJobSummary {
                    job,
                    last_run,
                    watermark,
                })
            })
            .collect()
    }

    /// One job, its mirrored checkpoint and its latest runs.
    pub fn sync_show(&self, name: &str) -> AppResult<SyncJobDetail> {
        Ok(SyncJobDetail {
            job: self.ws.sync_job(name)?,
            checkpoint: self.ws.sync_checkpoint(name)?,
            runs: self.ws.sync_runs(name, SHOWN_RUNS)?,
        })
    }

    /// Removes a job with its history. The target table and the target's
    /// checkpoint row stay: adding a job of the same name again resumes from
    /// that checkpoint.
    pub fn sync_remove(&mut self, name: &str) -> AppResult<()> {
        self.ws
            .write(|tx| -> AppResult<()> { Ok(tx.remove_sync_job(name)?) })
    }

    /// A job's runs, newest first.
    pub fn sync_history(&self, name: &str, limit: usize) -> AppResult<Vec<SyncRunRow>> {
        self.ws.sync_job(name)?;
        Ok(self.ws.sync_runs(name, limit)?)
    }

    /// Names of every job, for `--all`.
    pub fn sync_job_names(&self) -> AppResult<Vec<String>> {
        Ok(self.ws.sync_jobs()?.into_iter().map(|j| j.name).collect())
    }

    /// Runs jobs once, up to `parallel` at a time, reporting progress to
    /// `progress`; setting `cancel` stops each job after its batch in flight.
    /// Every job gets a result (a failed job does not stop the others); the
    /// history records each run.
    pub fn sync_run(
        &mut self,
        names: &[String],
        parallel: usize,
        progress: ProgressSink,
        cancel: Arc<AtomicBool>,
    ) -> AppResult<Vec<SyncRunResult>> {
        if names.is_empty() {
            return Err(bad(
                "no sync jobs to run: add one with `tidemark sync add`".into()
            ));
        }
        let mut work = Vec::new();
        for name in names {
            let row = self.ws.sync_job(name)?;
            let spec = spec_of(&row)?;
            let source = if is_iceberg(&spec.source) {
                Source::Iceberg(self.catalog_at(row.iceberg_catalog.as_ref())?)
            } else {
                Source::Table(self.endpoints_of(&spec.source)?)
            };
            let target = if BrokerTarget::is_broker(&spec.target) {
                let broker = BrokerTarget::parse(&spec.target).map_err(|e| {
                    AppError::Integrity(format!("sync job {name} has an unreadable target: {e}"))
                })?;
                Target::Broker(broker, self.ws.path().to_path_buf())
            } else if is_iceberg(&spec.target) {
                Target::Iceberg(self.catalog_at(row.iceberg_catalog.as_ref())?)
            } else if let Some(via) = &row.via {
                let legs = tidemark_sync::chain::legs(&spec, via).map_err(|e| {
                    AppError::Integrity(format!("sync job {name} has an unreadable --via: {e}"))
                })?;
                Target::Chained(
                    Box::new(legs),
                    self.catalog_at(row.iceberg_catalog.as_ref())?,
                    self.endpoints_of(&spec.target)?,
                )
            } else {
                Target::Table(self.endpoints_of(&spec.target)?)
            };
            work.push((spec, source, target));
        }
        let handle = self.block_on(async { tokio::runtime::Handle::current() });
        let permits = Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
        let (done_tx, done_rx) = std::sync::mpsc::channel::<(RunReport, bool)>();
        let mut expected = 0;
        for (spec, source, target) in work {
            let run_id = tidemark_sync::new_run_id();
            let started = self.now();
            // A run whose process died stays `running` in the history;
            // once a new run of the job starts it is known to be over.
            self.ws.write(|tx| -> AppResult<()> {
                for mut stale in tx.sync_runs(&spec.name, 50)? {
                    if stale.status == "running" {
                        stale.status = "interrupted".into();
                        stale.error =
                            Some("the process running it ended before it finished".into());
                        tx.record_sync_run(&stale)?;
                    }
                }
                tx.record_sync_run(&running_row(&spec.name, &run_id, started))?;
                Ok(())
            })?;
            let opts = RunOptions {
                run_id,
                progress: progress.clone(),
                cancel: cancel.clone(),
            };
            let (permits, done) = (permits.clone(), done_tx.clone());
            expected += 1;
            handle.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let outcome = run_one(&spec, &source, &target, &opts).await;
                let bad_input = outcome.1.as_ref().is_some_and(SyncError::is_bad_input);
                let _ = done.send((outcome.0, bad_input));
            });
        }
        drop(done_tx);
        let mut results = Vec::with_capacity(expected);
        for (report, bad_input) in done_rx.iter() {
            let now = self.now();
            let run = run_row(&report, now);
            self.ws.write(|tx| -> AppResult<()> {
                tx.record_sync_run(&run)?;
                // The target's checkpoint is the truth; this copy is for
                // display and moves only when the run reached one.
                // Broker jobs keep their checkpoint here already.
                let job = tx.sync_job(&report.job)?;
                if report.watermark.is_some() && !BrokerTarget::is_broker(&job.target) {
                    tx.mirror_sync_checkpoint(&SyncCheckpointMirror {
                        job: report.job.clone(),
                        cursor_column: job.tracking_column,
                        watermark: report.watermark.clone(),
                        position: None,
                        run_id: Some(report.run_id.clone()),
                        updated_at: run.finished_at.map(|t| t.to_rfc3339()),
                        mirrored_at: now,
                    })?;
                }
                Ok(())
            })?;
            results.push(SyncRunResult { run, bad_input });
        }
        // Results in the order the jobs were asked for.
        results.sort_by_key(|r| names.iter().position(|n| *n == r.run.job));
        Ok(results)
    }

    /// Runs one job (no progress listener, cannot be stopped): the API's
    /// `sync_run` call.
    pub fn sync_run_one(&mut self, name: &str) -> AppResult<SyncRunResult> {
        let mut results = self.sync_run(
            &[name.to_string()],
            1,
            Arc::new(|_| {}),
            Arc::new(AtomicBool::new(false)),
        )?;
        Ok(results.remove(0))
    }

    /// Runs jobs every `every` until `cancel` is set, handing each round's
    /// results to `on_round`. A round that takes longer than `every` is
    /// followed by the next one at once. Stopping waits for the batches in
    /// flight.
    pub fn sync_watch(
        &mut self,
        names: &[String],
        every: Duration,
        parallel: usize,
        progress: ProgressSink,
        cancel: Arc<AtomicBool>,
        on_round: &mut dyn FnMut(&[SyncRunResult]),
    ) -> AppResult<()> {
        let mut failed_rounds = 0u32;
        while !cancel.load(Ordering::SeqCst) {
            let started = Instant::now();
            let results = self.sync_run(names, parallel, progress.clone(), cancel.clone())?;
            on_round(&results);
            // A failed round (a database or broker away) is retried, with a
            // growing pause, until it succeeds: nothing is skipped, since
            // the next run starts from the last checkpoint.
            let wait = if results.iter().any(|r| r.run.status == "failed") {
                failed_rounds += 1;
                every.max(retry_backoff(failed_rounds))
            } else {
                failed_rounds = 0;
                every
            };
            while started.elapsed() < wait && !cancel.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50).min(every));
            }
        }
        Ok(())
    }
}

/// The pause before retrying after `failed_rounds` failed rounds in a row:
/// 1 s, 2 s, 4 s… up to 30 s.
pub(crate) fn retry_backoff(failed_rounds: u32) -> Duration {
    Duration::from_secs(1u64 << failed_rounds.saturating_sub(1).min(5)).min(Duration::from_secs(30))
}

/// Where a job's rows come from.
enum Source {
    /// A table behind a connection.
    Table(Endpoints),
    /// An Iceberg table in the workspace's catalog or a REST catalog.
    Iceberg(crate::iceberg::CatalogAt),
}

/// Runs a job whose source is an Iceberg table (`iceberg:NS.TABLE`).
async fn run_from_iceberg(
    spec: &JobSpec,
    catalog: &crate::iceberg::CatalogAt,
    target: &Target,
    opts: &RunOptions,
) -> (RunReport, Option<SyncError>) {
    let fail = |error: SyncError| (failed_report(spec, opts, &error), Some(error));
    let Target::Table(t) = target else {
        return fail(SyncError::BadInput(
            "an Iceberg source needs a database connection as the target".into(),
        ));
    };
    let wh = match catalog.open().await {
        Ok(wh) => wh,
        Err(e) => return fail(SyncError::Iceberg(e.to_string())),
    };
    let mut t = match transfer::open(&t.spec, t.password.as_deref()).await {
        Ok(t) => t,
        Err(e) => return fail(SyncError::from(e)),
    };
    let outcome = tidemark_sync::iceberg_source::run(spec, &wh, &mut *t, opts).await;
    let _ = t.close().await;
    (outcome.report, outcome.error)
}

/// Where a job's rows go.
enum Target {
    /// A table behind a connection.
    Table(Endpoints),
    /// A message broker; the checkpoint lives in the workspace at this path.
    Broker(BrokerTarget, std::path::PathBuf),
    /// An Iceberg table (in the workspace's catalog or a REST catalog); the
    /// checkpoint lives in the snapshot summaries.
    Iceberg(crate::iceberg::CatalogAt),
    /// A table behind a connection, through an Iceberg table (a chained
    /// job's two legs).
    Chained(
        Box<(JobSpec, JobSpec)>,
        crate::iceberg::CatalogAt,
        Endpoints,
    ),
}

/// Broker jobs' checkpoints, in the workspace's `sync_checkpoints` table
/// (the position as JSON): written only after the broker acknowledged the
/// batch it describes.
struct WorkspaceCheckpoints(std::sync::Mutex<Workspace>);

impl CheckpointStore for WorkspaceCheckpoints {
    fn load(&self, job: &str) -> Result<Option<BrokerCheckpoint>, String> {
        let ws = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match ws.sync_checkpoint(job).map_err(|e| e.to_string())? {
            Some(m) => match m.position {
                Some(p) => serde_json::from_str(&p)
                    .map(Some)
                    .map_err(|e| format!("the stored position is unreadable: {e}")),
                None => Ok(None),
            },
            None => Ok(None),
        }
    }

    fn save(&self, cp: &BrokerCheckpoint) -> Result<(), String> {
        let position = serde_json::to_string(cp).map_err(|e| e.to_string())?;
        let now = chrono::Utc::now();
        let mut ws = self.0.lock().unwrap_or_else(|e| e.into_inner());
        ws.write(|tx| {
            tx.mirror_sync_checkpoint(&SyncCheckpointMirror {
                job: cp.job.clone(),
                cursor_column: cp.cursor_column.clone(),
                watermark: Some(cp.watermark.clone()),
                position: Some(position),
                run_id: Some(cp.run_id.clone()),
                updated_at: Some(now.to_rfc3339()),
                mirrored_at: now,
            })
        })
        .map_err(|e| e.to_string())
    }
}

async fn run_one(
    spec: &JobSpec,
    source: &Source,
    target: &Target,
    opts: &RunOptions,
) -> (RunReport, Option<SyncError>) {
    let failed = |e: tidemark_db::DbError| {
        let error = SyncError::from(e);
        (failed_report(spec, opts, &error), Some(error))
    };
    let source = match source {
        Source::Table(e) => e,
        Source::Iceberg(catalog) => return run_from_iceberg(spec, catalog, target, opts).await,
    };
    let mut s = match transfer::open(&source.spec, source.password.as_deref()).await {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    let target = match target {
        Target::Table(t) => t,
        Target::Broker(broker, path) => {
            let store = match Workspace::open_existing(path) {
                Ok(ws) => WorkspaceCheckpoints(std::sync::Mutex::new(ws)),
                Err(e) => {
                    let error = SyncError::Broker(format!("opening the workspace: {e}"));
                    return (failed_report(spec, opts, &error), Some(error));
                }
            };
            let outcome = tidemark_sync::broker::run(spec, broker, &mut *s, &store, opts).await;
            let _ = s.close().await;
            return (outcome.report, outcome.error);
        }
        Target::Iceberg(catalog) => {
            let outcome = match catalog.open().await {
                Ok(wh) => iceberg_target::run(spec, &mut *s, &wh, opts).await,
                Err(e) => {
                    let error = SyncError::Iceberg(e.to_string());
                    let _ = s.close().await;
                    return (failed_report(spec, opts, &error), Some(error));
                }
            };
            let _ = s.close().await;
            return (outcome.report, outcome.error);
        }
        Target::Chained(legs, catalog, t) => {
            let wh = match catalog.open().await {
                Ok(wh) => wh,
                Err(e) => {
                    let error = SyncError::Iceberg(e.to_string());
                    let _ = s.close().await;
                    return (failed_report(spec, opts, &error), Some(error));
                }
            };
            let mut t = match transfer::open(&t.spec, t.password.as_deref()).await {
                Ok(t) => t,
                Err(e) => {
                    let _ = s.close().await;
                    return failed(e);
                }
            };
            let outcome = tidemark_sync::chain::run(legs, &mut *s, &wh, &mut *t, opts).await;
            let _ = s.close().await;
            let _ = t.close().await;
            return (outcome.report, outcome.error);
        }
    };
    let mut t = match transfer::open(&target.spec, target.password.as_deref()).await {
        Ok(t) => t,
        Err(e) => return failed(e),
    };
    let outcome = tidemark_sync::run(spec, &mut *s, &mut *t, opts).await;
    let _ = s.close().await;
    let _ = t.close().await;
    (outcome.report, outcome.error)
}

fn failed_report(spec: &JobSpec, opts: &RunOptions, e: &SyncError) -> RunReport {
    RunReport {
        job: spec.name.clone(),
        run_id: opts.run_id.clone(),
        started_at: chrono::Utc::now(),
        duration_ms: 0,
        status: RunStatus::Failed,
        full: false,
        rows_extracted: 0,
        rows_loaded: 0,
        inserted: 0,
        updated: 0,
        deleted: 0,
        skipped: 0,
        batches: 0,
        previous_watermark: None,
        watermark: None,
        notes: Vec::new(),
        error: Some(e.to_string()),
    }
}

fn running_row(job: &str, id: &str, started: chrono::DateTime<chrono::Utc>) -> SyncRunRow {
    SyncRunRow {
        id: id.to_string(),
        job: job.to_string(),
        started_at: started,
        finished_at: None,
        status: "running".into(),
        full_sync: false,
        rows_extracted: 0,
        rows_loaded: 0,
        rows_inserted: 0,
        rows_updated: 0,
        rows_deleted: 0,
        rows_skipped: 0,
        batches: 0,
        duration_ms: 0,
        previous_watermark: None,
        watermark: None,
        notes: Vec::new(),
        error: None,
    }
}

fn run_row(r: &RunReport, now: chrono::DateTime<chrono::Utc>) -> SyncRunRow {
    SyncRunRow {
        id: r.run_id.clone(),
        job: r.job.clone(),
        started_at: r.started_at,
        finished_at: Some(now),
        status: r.status.to_string(),
        full_sync: r.full,
        rows_extracted: r.rows_extracted,
        rows_loaded: r.rows_loaded,
        rows_inserted: r.inserted,
        rows_updated: r.updated,
        rows_deleted: r.deleted,
        rows_skipped: r.skipped,
        batches: r.batches,
        duration_ms: r.duration_ms,
        previous_watermark: r.previous_watermark.clone(),
        watermark: r.watermark.clone(),
        notes: r.notes.clone(),
        error: r.error.clone(),
    }
}
