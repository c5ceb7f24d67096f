//! The run coordinator: one run of one job, from the checkpoint in the
//! target to a new one.
//!
//! 1. Check the job against the live tables (nothing moves if this fails).
//! 2. Read the job's checkpoint from the target: the target's row is the
//!    truth, since it only ever moves in the transaction that made its rows
//!    durable.
//! 3. Stream batches from the source in (tracking column, key) order, from
//!    strictly after the checkpoint (or from `checkpoint − lag`), and load
//!    each one together with the checkpoint it reaches, in one target
//!    transaction. Extraction and loading overlap (two batches in flight).
//! 4. Optionally reconcile deletes by key.
//!
//! A crash at any point leaves the target at some committed batch boundary
//! with the checkpoint describing exactly that boundary; the next run
//! resumes from there, so no row is skipped and none is applied twice.

use crate::error::{SyncError, SyncResult};
use crate::job::{JobSpec, Merge};
use crate::plan::{self, SourcePlan, CHECKPOINT_TABLE};
use crate::progress::{ProgressSink, SyncPhase, SyncProgress};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tidemark_db::transfer::{
    canonical_key, format_timestamp_micros, key_text, parse_timestamp_text, CheckpointRow,
    CheckpointWrite, ColumnInfo, Endpoint, ExtractRequest, ExtractedBatch, LoadCounts, Scalar,
    Start, TableInfo, TableName,
};
use tokio::sync::mpsc;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RunStatus {
    /// Every change up to the end of the source was loaded.
    Succeeded,
    /// Stopped on request after a committed batch; the next run resumes.
    Interrupted,
    /// Stopped by an error; committed batches stay, the next run resumes.
    Failed,
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Failed => "failed",
        })
    }
}

/// What one run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct RunReport {
    /// The job.
    pub job: String,
    /// This run's id (also recorded in the target's checkpoint row).
    pub run_id: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// How long it took.
    #[ts(type = "number")]
    pub duration_ms: u64,
    /// How it ended.
    pub status: RunStatus,
    /// Whether it read every row rather than the changes since a checkpoint.
    pub full: bool,
    /// Rows read from the source.
    #[ts(type = "number")]
    pub rows_extracted: u64,
    /// Rows written to the target (inserted + updated).
    #[ts(type = "number")]
    pub rows_loaded: u64,
    /// New rows (SCD2: new keys).
    #[ts(type = "number")]
    pub inserted: u64,
    /// Changed rows (SCD2: keys that got a new version).
    #[ts(type = "number")]
    pub updated: u64,
    /// Rows removed (soft deletes and reconciliation; SCD2: versions closed).
    #[ts(type = "number")]
    pub deleted: u64,
    /// Rows read that changed nothing (identical re-reads, kept by the
    /// conflict policy).
    #[ts(type = "number")]
    pub skipped: u64,
    /// Batches committed.
    #[ts(type = "number")]
    pub batches: u64,
    /// The checkpoint before the run, e.g. `updated_at=…, id=17`.
    pub previous_watermark: Option<String>,
    /// The checkpoint after the run.
    pub watermark: Option<String>,
    /// What the user should know: fallbacks to a full sync, what was created.
    pub notes: Vec<String>,
    /// The error, if the run failed.
    pub error: Option<String>,
}

/// A run's report, and the error that ended it, if any.
#[derive(Debug)]
pub struct RunOutcome {
    /// What the run did (also for failed runs: committed batches count).
    pub report: RunReport,
    /// Why it failed.
    pub error: Option<SyncError>,
}

/// How a run is driven.
#[derive(Clone)]
pub struct RunOptions {
    /// This run's id.
    pub run_id: String,
    /// Where progress events go.
    pub progress: ProgressSink,
    /// Set to stop after the batch in flight.
    pub cancel: Arc<AtomicBool>,
}

impl RunOptions {
    /// Options with a fresh run id, no progress listener and no way to stop.
    pub fn new() -> RunOptions {
        RunOptions {
            run_id: new_run_id(),
            progress: Arc::new(|_| {}),
            cancel: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// A fresh run id (time-ordered, so ids sort like runs).
pub fn new_run_id() -> String {
    format!("run_{}", uuid::Uuid::now_v7().simple())
}

/// What [`check`] found out about a job.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The source table, resolved.
    pub source: TableInfo,
    /// The target table, if it exists yet.
    pub target: Option<TableInfo>,
    /// The key and tracking column in effect.
    pub plan: SourcePlan,
}

/// Checks a job against the live tables without moving or creating
/// anything: the source table, key, tracking column (and that it has no
/// NULLs), soft-delete column, and the target table if it exists.
pub async fn check(
    job: &JobSpec,
    source: &mut dyn Endpoint,
    target: &mut dyn Endpoint,
) -> SyncResult<CheckReport> {
    check_tables(job, source, target, true).await
}

/// [`check`], optionally lenient about a vanished tracking column (see
/// [`plan::plan_source`]).
async fn check_tables(
    job: &JobSpec,
    source: &mut dyn Endpoint,
    target: &mut dyn Endpoint,
    strict: bool,
) -> SyncResult<CheckReport> {
    plan::check_options(job)?;
    let src_name = source.resolve(&TableName::parse(&job.source_table)).await?;
    let source_info = source.describe(&src_name).await?.ok_or_else(|| {
        SyncError::BadInput(format!(
            "source table {src_name} does not exist on {}: check --table",
            source.target()
        ))
    })?;
    let splan = plan::plan_source(job, &source_info, strict)?;
    check_nulls(source, &source_info, &splan).await?;
    let tgt_name = target.resolve(&TableName::parse(&job.target_table)).await?;
    let target_info = target.describe(&tgt_name).await?;
    if let Some(t) = &target_info {
        plan::plan_load(
            job,
            &source_info,
            &splan,
            t,
            tgt_name.sibling(CHECKPOINT_TABLE),
        )?;
    }
    Ok(CheckReport {
        source: source_info,
        target: target_info,
        plan: splan,
    })
}

/// Refuses a tracking or key column that holds NULLs: such rows would never
/// be read.
pub(crate) async fn check_nulls(
    source: &mut dyn Endpoint,
    info: &TableInfo,
    splan: &SourcePlan,
) -> SyncResult<()> {
    let key_cols: Vec<ColumnInfo> = splan
        .key
        .iter()
        .filter_map(|k| info.column(k).cloned())
        .collect();
    let mut checked: Vec<&String> = splan.cursor.iter().collect();
    checked.extend(splan.key.iter());
    for col in checked {
        let Some(c) = info.column(col) else { continue };
        if !c.nullable {
            continue;
        }
        if let Some(key) = source.first_null(&info.name, col, &key_cols).await? {
            let is_key = splan.key.contains(col);
            return Err(SyncError::BadInput(format!(
                "{} column {col} of {} is NULL in some rows (e.g. {}): {}",
                if is_key { "key" } else { "tracking" },
                info.name,
                key_text(&splan.key, &key),
                if is_key {
                    "key columns must never be NULL; choose another --key".to_string()
                } else {
                    format!(
                        "those rows would never be synced; fill them (UPDATE {} SET {col} = … WHERE {col} IS NULL) and make the column NOT NULL, or use --detect full",
                        info.name
                    )
                }
            )));
        }
    }
    Ok(())
}

fn tuple_cmp(a: &[Scalar], b: &[Scalar]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        match x.compare(y) {
            Ordering::Equal => continue,
            other => return other,
        }
    }
    a.len().cmp(&b.len())
}

/// `value − lag` in the value's own form; `None` for values that are not
/// points in time.
pub fn minus_lag(value: &Scalar, lag: Duration) -> Option<Scalar> {
    let lag_us = i64::try_from(lag.as_micros()).ok()?;
    match value {
        Scalar::Timestamp(t) => Some(Scalar::Timestamp(format_timestamp_micros(
            parse_timestamp_text(t)? - lag_us,
        ))),
        Scalar::TimestampTz(t) => Some(Scalar::TimestampTz(format_timestamp_micros(
            parse_timestamp_text(t)? - lag_us,
        ))),
        Scalar::Date(d) => {
            let us = parse_timestamp_text(d)? - lag_us;
            let day = 86_400_000_000i64;
            Some(Scalar::Date(
                format_timestamp_micros(us - us.rem_euclid(day))[..10].to_string(),
            ))
        }
        // SQLite keeps its own text: the bound must be written the same way
        // for text order to be time order.
        Scalar::Text(t) => {
            let us = parse_timestamp_text(t)? - lag_us;
            Some(Scalar::Text(mimic_timestamp(t, us)))
        }
        // Integers in a timestamp column are Unix seconds.
        Scalar::Int(i) => Some(Scalar::Int(i - lag.as_secs() as i64 - 1)),
        _ => None,
    }
}

/// Formats `us` like `original` (separator, seconds, fraction digits, zone
/// suffix), rounding down so a re-read window is never too short.
fn mimic_timestamp(original: &str, us: i64) -> String {
    let base = format_timestamp_micros(us);
    let o = original.trim();
    let bytes = o.as_bytes();
    let has_seconds = bytes.get(16) == Some(&b':');
    let mut out = base[..if has_seconds { 19 } else { 16 }].to_string();
    if has_seconds {
        let digits = o
            .get(20..)
            .filter(|_| bytes.get(19) == Some(&b'.'))
            .map(|f| f.chars().take_while(|c| c.is_ascii_digit()).count())
            .unwrap_or(0);
        if digits > 0 {
            out.push('.');
            let frac = &base[20..26];
            out.push_str(&frac[..digits.min(6)]);
            out.push_str(&"0".repeat(digits.saturating_sub(6)));
        }
    }
    if bytes.get(10) == Some(&b'T') {
        out.replace_range(10..11, "T");
    }
    if o.ends_with('Z') {
        out.push('Z');
    } else if o.len() > 19
        && (o.ends_with(":00") || o.contains('+'))
        && o[19..].contains(['+', '-'])
    {
        out.push_str("+00:00");
    }
    out
}

fn position_text(order: &[String], values: &[Scalar]) -> String {
    key_text(order, values)
}

fn checkpoint_position(cp: &CheckpointRow) -> Vec<Scalar> {
    cp.cursor
        .iter()
        .cloned()
        .chain(cp.key.iter().cloned())
        .collect()
}

/// Runs one job once. Never panics on database errors: a failed run returns
/// its partial report and the error.
pub async fn run(
    job: &JobSpec,
    source: &mut dyn Endpoint,
    target: &mut dyn Endpoint,
    opts: &RunOptions,
) -> RunOutcome {
    let started_at = Utc::now();
    let clock = Instant::now();
    let mut report = RunReport {
        job: job.name.clone(),
        run_id: opts.run_id.clone(),
        started_at,
        duration_ms: 0,
        status: RunStatus::Succeeded,
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
        error: None,
    };
    let outcome = run_inner(job, source, target, opts, &mut report, clock).await;
    report.duration_ms = clock.elapsed().as_millis() as u64;
    report.rows_loaded = report.inserted + report.updated;
    let error = outcome.err();
    if let Some(e) = &error {
        report.status = RunStatus::Failed;
        report.error = Some(e.to_string());
    }
    (opts.progress)(&SyncProgress {
        job: job.name.clone(),
        run_id: opts.run_id.clone(),
        phase: if error.is_some() {
            SyncPhase::Failed
        } else {
            SyncPhase::Finished
        },
        rows: report.rows_extracted,
        batches: report.batches,
        rows_per_sec: rate(report.rows_extracted, clock),
        elapsed_ms: report.duration_ms,
        watermark: report.watermark.clone(),
        message: report.error.clone(),
    });
    RunOutcome { report, error }
}

fn rate(rows: u64, clock: Instant) -> f64 {
    let secs = clock.elapsed().as_secs_f64();
    if secs > 0.0 {
        rows as f64 / secs
    } else {
        0.0
    }
}

async fn run_inner(
    job: &JobSpec,
    source: &mut dyn Endpoint,
    target: &mut dyn Endpoint,
    opts: &RunOptions,
    report: &mut RunReport,
    clock: Instant,
) -> SyncResult<()> {
    let emit = |phase: SyncPhase,
                rows: u64,
                batches: u64,
                watermark: Option<String>,
                message: Option<String>| {
        (opts.progress)(&SyncProgress {
            job: job.name.clone(),
            run_id: opts.run_id.clone(),
            phase,
            rows,
            batches,
            rows_per_sec: rate(rows, clock),
            elapsed_ms: clock.elapsed().as_millis() as u64,
            watermark,
            message,
        })
    };
    emit(SyncPhase::Validating, 0, 0, None, None);
    let checked = check_tables(job, source, target, false).await?;
    let CheckReport {
        source: source_info,
        target: target_info,
        plan: splan,
    } = checked;
    report.notes.extend(splan.notes.iter().cloned());
    let tgt_name = target.resolve(&TableName::parse(&job.target_table)).await?;
    let target_info = match target_info {
        Some(t) => t,
        None => {
            let (columns, pk, index) =
                plan::new_table(job, &source_info, &splan, source.kind(), target.kind());
            target
                .create_table(&tgt_name, &columns, &pk, &index, source.kind())
                .await?;
            report.notes.push(format!(
                "created target table {tgt_name} (types per docs/sync-types.md)"
            ));
            target.describe(&tgt_name).await?.ok_or_else(|| {
                SyncError::BadInput(format!(
                    "target table {tgt_name} was created but cannot be read back"
                ))
            })?
        }
    };
    let checkpoints = tgt_name.sibling(CHECKPOINT_TABLE);
    let load = plan::plan_load(job, &source_info, &splan, &target_info, checkpoints.clone())?;
    let cp = target.checkpoint(&checkpoints, &job.name).await?;
    let mut seq = cp.seq;
    let order = plan::order_columns(&splan);
    let stored = checkpoint_position(&cp);
    if !cp.is_empty() {
        let mut names: Vec<String> = cp.cursor_column.iter().cloned().collect();
        names.extend(
            order
                .iter()
                .skip(cp.cursor_column.is_some() as usize)
                .cloned(),
        );
        report.previous_watermark = Some(position_text(&names, &stored));
    }
    let replace = job.merge == Merge::Replace;
    let usable = splan.cursor.is_some()
        && !cp.is_empty()
        && cp.cursor_column == splan.cursor
        && cp.cursor.is_some()
        && stored.len() == order.len();
    let (start, mut position) = if splan.cursor.is_none() {
        (Start::All, None)
    } else if cp.is_empty() {
        report.notes.push(
            "no checkpoint in the target yet: this first run is a full sync of every row".into(),
        );
        (Start::All, None)
    } else if !usable {
        report.notes.push(format!(
            "the target's checkpoint (for {}) does not fit this job's tracking column {}: running a full sync",
            cp.cursor_column.as_deref().unwrap_or("key order"),
            splan.cursor.as_deref().unwrap_or("-")
        ));
        (Start::All, None)
    } else {
        match job.lag() {
            Some(lag) => match minus_lag(&stored[0], lag) {
                Some(bound) => (Start::CursorAbove(bound), Some(stored.clone())),
                None => {
                    report.notes.push("--lag does not apply to this tracking column's values; reading from the checkpoint".into());
                    (Start::After(stored.clone()), Some(stored.clone()))
                }
            },
            None => (Start::After(stored.clone()), Some(stored.clone())),
        }
    };
    report.full = matches!(start, Start::All);
    // A first load into an empty table needs no merge. SQLite sources page
    // without one snapshot, so a row updated mid-run could come twice.
    let mut load = load;
    load.fresh = report.full
        && cp.is_empty()
        && matches!(job.merge, Merge::Upsert | Merge::Append)
        && job.deleted_column.is_none()
        && source.kind() != tidemark_db::DialectKind::Sqlite
        && target.is_empty(&load.table).await?;
    if replace {
        target.replace_begin(&load).await?;
    }
    let req = ExtractRequest {
        table: source_info.name.clone(),
        columns: plan::extract_columns(&source_info),
        order: order.clone(),
        start,
        batch_size: job.batch_size as usize,
    };
    let has_cursor = splan.cursor.is_some();
    let checkpoint_for = |pos: &[Scalar], seq: i64| CheckpointWrite {
        job: job.name.clone(),
        expected_seq: seq,
        cursor_column: splan.cursor.clone(),
        cursor: if has_cursor {
            pos.first().cloned()
        } else {
            None
        },
        key: pos[has_cursor as usize..].to_vec(),
        run_id: opts.run_id.clone(),
    };
    emit(
        SyncPhase::Loading,
        0,
        0,
        report.previous_watermark.clone(),
        None,
    );
    let (tx, mut rx) = mpsc::channel::<ExtractedBatch>(2);
    let mut counts = LoadCounts::default();
    let mut interrupted = false;
    let loader = async {
        while let Some(eb) = rx.recv().await {
            let rows = eb.batch.num_rows() as u64;
            // With a lag the first batches re-read rows behind the stored
            // checkpoint; it never moves backwards.
            let next = match &position {
                Some(p) if tuple_cmp(p, &eb.last) == Ordering::Greater => p.clone(),
                _ => eb.last.clone(),
            };
            if replace {
                counts.inserted += target.replace_load(&load, &eb.batch).await?;
            } else {
                let (c, s) = target
                    .load(&load, &eb.batch, &checkpoint_for(&next, seq))
                    .await?;
                counts += c;
                seq = s;
            }
            position = Some(next);
            report.rows_extracted += rows;
            report.batches += 1;
            emit(
                SyncPhase::Loading,
                report.rows_extracted,
                report.batches,
                position.as_ref().map(|p| position_text(&order, p)),
                None,
            );
            if opts.cancel.load(AtomicOrdering::SeqCst) {
                interrupted = true;
                break;
            }
        }
        drop(rx);
        Ok::<(), SyncError>(())
    };
    let (extracted, loaded) = tokio::join!(source.extract(&req, tx), loader);
    loaded?;
    extracted?;
    if replace && !interrupted {
        let pos = position.clone().unwrap_or_default();
        let write = CheckpointWrite {
            job: job.name.clone(),
            expected_seq: seq,
            cursor_column: None,
            cursor: None,
            key: pos,
            run_id: opts.run_id.clone(),
        };
        target.replace_commit(&load, &write).await?;
    }
    report.inserted = counts.inserted;
    report.updated = counts.updated;
    report.deleted = counts.deleted;
    report.skipped = counts.skipped;
    report.watermark = position
        .as_ref()
        .map(|p| position_text(&order, p))
        .or_else(|| report.previous_watermark.clone());
    if interrupted {
        report.status = RunStatus::Interrupted;
        report.notes.push(
            "stopped on request after a committed batch; the next run resumes from its checkpoint"
                .into(),
        );
        return Ok(());
    }
    if job.reconcile_deletes && !replace {
        emit(
            SyncPhase::Reconciling,
            report.rows_extracted,
            report.batches,
            report.watermark.clone(),
            None,
        );
        report.deleted += reconcile(job, source, target, &source_info, &splan, &load, opts).await?;
    }
    Ok(())
}

/// Removes target rows whose key is gone from the source, one page of keys
/// at a time (SCD2: closes their current versions).
async fn reconcile(
    job: &JobSpec,
    source: &mut dyn Endpoint,
    target: &mut dyn Endpoint,
    source_info: &TableInfo,
    splan: &SourcePlan,
    load: &tidemark_db::transfer::LoadPlan,
    opts: &RunOptions,
) -> SyncResult<u64> {
    let target_key = load.key_columns();
    let source_key: Vec<ColumnInfo> = splan
        .key
        .iter()
        .filter_map(|k| source_info.column(k).cloned())
        .collect();
    let current = load.scd2.as_ref().map(|s| s.is_current.name.clone());
    let page_size = (job.batch_size as usize).max(100);
    let mut after: Option<Vec<Scalar>> = None;
    let mut deleted = 0;
    loop {
        let page = target
            .key_page(
                &load.table,
                &target_key,
                current.as_deref(),
                after.as_deref(),
                page_size,
            )
            .await?;
        if page.is_empty() {
            break;
        }
        let present = source
            .keys_present(&source_info.name, &source_key, &page)
            .await?;
        let missing: Vec<Vec<Scalar>> = page
            .iter()
            .filter(|k| !present.contains(&canonical_key(k)))
            .cloned()
            .collect();
        if !missing.is_empty() {
            deleted += target.delete_keys(load, &missing).await?;
        }
        if page.len() < page_size || opts.cancel.load(AtomicOrdering::SeqCst) {
            break;
        }
        after = page.last().cloned();
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_keeps_the_form_of_the_stored_value() {
        let lag = Duration::from_secs(90);
        assert_eq!(
            minus_lag(&Scalar::Timestamp("2024-05-01 10:00:00.250000".into()), lag),
            Some(Scalar::Timestamp("2024-05-01 09:58:30.250000".into()))
        );
        assert_eq!(
            minus_lag(&Scalar::Text("2024-05-01T10:00:00.25Z".into()), lag),
            Some(Scalar::Text("2024-05-01T09:58:30.25Z".into()))
        );
        assert_eq!(
            minus_lag(&Scalar::Text("2024-05-01 10:00:00".into()), lag),
            Some(Scalar::Text("2024-05-01 09:58:30".into()))
        );
        assert_eq!(minus_lag(&Scalar::Uuid("x".into()), lag), None);
    }

    #[test]
    fn positions_compare_as_tuples() {
        let a = [
            Scalar::Timestamp("2024-01-01 00:00:00.000000".into()),
            Scalar::Int(9),
        ];
        let b = [
            Scalar::Timestamp("2024-01-01 00:00:00.000000".into()),
            Scalar::Int(10),
        ];
        assert_eq!(tuple_cmp(&a, &b), Ordering::Less);
        assert_eq!(tuple_cmp(&b, &a), Ordering::Greater);
    }
}
