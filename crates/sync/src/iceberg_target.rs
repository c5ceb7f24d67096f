//! Sync into an Apache Iceberg table (`--target iceberg:NAMESPACE.TABLE`).
//!
//! Each run streams the source's changes after the checkpoint into data
//! files and commits them as **one** fast-append snapshot whose summary
//! carries the job's checkpoint (`tidemark.job`, `tidemark.position`, …).
//! The checkpoint is read back from the latest snapshot of the job, so the
//! rows and the watermark become visible in the same atomic catalog commit:
//! a crash before the commit leaves only unreferenced files, and the next
//! run starts from the previous snapshot's watermark. A run that finds no
//! change commits nothing.
//!
//! The table is an append-only change log: every changed row is appended
//! as a new row (`--merge append` only); readers take the latest version of
//! a key by its tracking column.

use crate::engine::{check_nulls, RunOptions, RunOutcome, RunReport, RunStatus};
use crate::error::{SyncError, SyncResult};
use crate::job::{JobSpec, Merge};
use crate::plan::{self, SourcePlan};
use crate::progress::{SyncPhase, SyncProgress};
use arrow_schema::{Field, Schema};
use chrono::Utc;
use std::collections::HashMap;
use std::sync::atomic::Ordering as AtomicOrdering;
use std::time::Instant;
use tidemark_db::transfer::{
    arrow_type, key_text, Endpoint, ExtractRequest, ExtractedBatch, Scalar, Start, TableInfo,
    TableName,
};
use tidemark_iceberg::{IcebergError, TableRef, Warehouse};
use tokio::sync::mpsc;

/// The prefix of an Iceberg target.
pub const PREFIX: &str = "iceberg:";

/// Summary property: the job that wrote the snapshot.
pub const PROP_JOB: &str = "tidemark.job";
/// Summary property: the run that wrote the snapshot.
pub const PROP_RUN: &str = "tidemark.run-id";
/// Summary property: the tracking column the position refers to.
pub const PROP_CURSOR_COLUMN: &str = "tidemark.cursor-column";
/// Summary property: the position reached, as JSON (tracking value, key).
pub const PROP_POSITION: &str = "tidemark.position";
/// Summary property: the position as people read it.
pub const PROP_WATERMARK: &str = "tidemark.watermark";

/// Whether a job's target text names an Iceberg table.
pub fn is_iceberg(target: &str) -> bool {
    target.starts_with(PREFIX)
}

/// The table an `iceberg:NAMESPACE.TABLE` target names.
pub fn table_of(target: &str) -> SyncResult<TableRef> {
    let name = target.strip_prefix(PREFIX).unwrap_or(target);
    TableRef::parse(name).map_err(iceberg_error)
}

fn iceberg_error(e: IcebergError) -> SyncError {
    if e.is_bad_input() {
        SyncError::BadInput(e.to_string())
    } else {
        SyncError::Iceberg(e.to_string())
    }
}

/// A job's checkpoint as the latest snapshot it wrote records it.
#[derive(Debug, Clone, PartialEq)]
pub struct IcebergCheckpoint {
    /// The snapshot.
    pub snapshot: i64,
    /// The tracking column (`None`: key order).
    pub cursor_column: Option<String>,
    /// The position: tracking value (if any), then the key.
    pub position: Vec<Scalar>,
}

/// Reads the job's checkpoint from the table's snapshots (`None`: no
/// snapshot of this job yet, or no table).
pub async fn checkpoint(
    warehouse: &Warehouse,
    table: &TableRef,
    job: &str,
) -> SyncResult<Option<IcebergCheckpoint>> {
    if !warehouse.exists(table).await.map_err(iceberg_error)? {
        return Ok(None);
    }
    let snaps = warehouse.snapshots(table).await.map_err(iceberg_error)?;
    let Some(s) = snaps
        .iter()
        .rev()
        .find(|s| s.summary.get(PROP_JOB).map(String::as_str) == Some(job))
    else {
        return Ok(None);
    };
    let position: Vec<Scalar> = match s.summary.get(PROP_POSITION) {
        Some(p) => serde_json::from_str(p).map_err(|e| {
            SyncError::BadInput(format!(
                "snapshot {} of {table} has an unreadable {PROP_POSITION}: {e}",
                s.id
            ))
        })?,
        None => Vec::new(),
    };
    Ok(Some(IcebergCheckpoint {
        snapshot: s.id,
        cursor_column: s.summary.get(PROP_CURSOR_COLUMN).cloned(),
        position,
    }))
}

/// Checks an Iceberg job against its source (nothing is written).
pub async fn check(
    job: &JobSpec,
    source: &mut dyn Endpoint,
) -> SyncResult<(TableInfo, SourcePlan)> {
    plan::check_options(job)?;
    table_of(&job.target)?;
    if job.merge != Merge::Append {
        return Err(SyncError::BadInput(format!(
            "--merge {} does not apply to an Iceberg target: every changed row is appended as a new row in one snapshot per run; use --merge append",
            job.merge
        )));
    }
    if job.lag_ms > 0 || job.reconcile_deletes || job.deleted_column.is_some() {
        return Err(SyncError::BadInput(
            "--lag, --reconcile-deletes and --deleted-column do not apply to an Iceberg target (an append-only change log)".into(),
        ));
    }
    let name = source.resolve(&TableName::parse(&job.source_table)).await?;
    let info = source.describe(&name).await?.ok_or_else(|| {
        SyncError::BadInput(format!(
            "source table {name} does not exist on {}: check --table",
            source.target()
        ))
    })?;
    let splan = plan::plan_source(job, &info, false)?;
    check_nulls(source, &info, &splan).await?;
    Ok((info, splan))
}

/// Runs one Iceberg job once: every change after the checkpoint becomes one
/// snapshot (none when nothing changed).
pub async fn run(
    job: &JobSpec,
    source: &mut dyn Endpoint,
    warehouse: &Warehouse,
    opts: &RunOptions,
) -> RunOutcome {
    let clock = Instant::now();
    let mut report = RunReport {
        job: job.name.clone(),
        run_id: opts.run_id.clone(),
        started_at: Utc::now(),
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
    let result = run_inner(job, source, warehouse, opts, &mut report, clock).await;
    report.duration_ms = clock.elapsed().as_millis() as u64;
    report.rows_loaded = report.inserted;
    let error = result.err();
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
        rows_per_sec: 0.0,
        elapsed_ms: report.duration_ms,
        watermark: report.watermark.clone(),
        message: report.error.clone(),
    });
    RunOutcome { report, error }
}

async fn run_inner(
    job: &JobSpec,
    source: &mut dyn Endpoint,
    warehouse: &Warehouse,
    opts: &RunOptions,
    report: &mut RunReport,
    clock: Instant,
) -> SyncResult<()> {
    let emit = |phase: SyncPhase, rows: u64, batches: u64, watermark: Option<String>| {
        (opts.progress)(&SyncProgress {
            job: job.name.clone(),
            run_id: opts.run_id.clone(),
            phase,
            rows,
            batches,
            rows_per_sec: 0.0,
            elapsed_ms: clock.elapsed().as_millis() as u64,
            watermark,
            message: None,
        })
    };
    emit(SyncPhase::Validating, 0, 0, None);
    let (info, splan) = check(job, source).await?;
    report.notes.extend(splan.notes.iter().cloned());
    let table = table_of(&job.target)?;
    let schema = Schema::new(
        info.columns
            .iter()
            .map(|c| Field::new(&c.name, arrow_type(&c.kind), c.nullable))
            .collect::<Vec<_>>(),
    );
    if !warehouse.exists(&table).await.map_err(iceberg_error)? {
        warehouse
            .create_table(&table, &schema, &splan.key)
            .await
            .map_err(iceberg_error)?;
        report.notes.push(format!(
            "created Iceberg table {table} (types per docs/iceberg.md)"
        ));
    } else {
        // New nullable source columns are added to the table before any
        // row is written; any other change stops the run here.
        let added = warehouse
            .evolve_schema(&table, &schema, &splan.key)
            .await
            .map_err(iceberg_error)?;
        if !added.is_empty() {
            report.notes.push(format!(
                "added column(s) {} to Iceberg table {table} (a new schema; older snapshots keep theirs)",
                added.join(", ")
            ));
        }
    }
    let order = plan::order_columns(&splan);
    let cp = checkpoint(warehouse, &table, &job.name).await?;
    let start = match &cp {
        _ if splan.cursor.is_none() => Start::All,
        None => {
            report.notes.push(
                "no snapshot of this job in the table yet: this first run reads every row".into(),
            );
            Start::All
        }
        Some(c) if c.cursor_column != splan.cursor || c.position.len() != order.len() => {
            report.notes.push(format!(
                "the table's checkpoint (for {}) does not fit this job's tracking column: reading every row",
                c.cursor_column.as_deref().unwrap_or("key order")
            ));
            Start::All
        }
        Some(c) => Start::After(c.position.clone()),
    };
    if let Some(c) = &cp {
        report.previous_watermark = Some(key_text(&order, &c.position));
    }
    report.full = matches!(start, Start::All);
    let req = ExtractRequest {
        table: info.name.clone(),
        columns: plan::extract_columns(&info),
        order: order.clone(),
        start,
        batch_size: job.batch_size as usize,
    };
    emit(SyncPhase::Loading, 0, 0, report.previous_watermark.clone());
    let mut appender = warehouse.appender(&table).await.map_err(iceberg_error)?;
    let (tx, mut rx) = mpsc::channel::<ExtractedBatch>(2);
    let mut position: Option<Vec<Scalar>> = None;
    let loader = async {
        while let Some(eb) = rx.recv().await {
            appender.write(&eb.batch).await.map_err(iceberg_error)?;
            report.rows_extracted += eb.batch.num_rows() as u64;
            report.batches += 1;
            position = Some(eb.last.clone());
            emit(
                SyncPhase::Loading,
                report.rows_extracted,
                report.batches,
                position.as_ref().map(|p| key_text(&order, p)),
            );
            if opts.cancel.load(AtomicOrdering::SeqCst) {
                break;
            }
        }
        drop(rx);
        Ok::<(), SyncError>(())
    };
    let (extracted, loaded) = tokio::join!(source.extract(&req, tx), loader);
    loaded?;
    extracted?;
    let Some(pos) = position else {
        report.watermark = report.previous_watermark.clone();
        report
            .notes
            .push("no changes since the last snapshot: nothing committed".into());
        return Ok(());
    };
    // Another run of this job must not have committed in the meantime.
    let now = checkpoint(warehouse, &table, &job.name).await?;
    if now.as_ref().map(|c| c.snapshot) != cp.as_ref().map(|c| c.snapshot) {
        return Err(SyncError::BadInput(format!(
            "another run of job {} committed to {table} while this one ran: nothing committed; run again",
            job.name
        )));
    }
    let watermark = key_text(&order, &pos);
    let mut props = HashMap::from([
        (PROP_JOB.to_string(), job.name.clone()),
        (PROP_RUN.to_string(), opts.run_id.clone()),
        (
            PROP_POSITION.to_string(),
            serde_json::to_string(&pos).expect("scalars serialize"),
        ),
        (PROP_WATERMARK.to_string(), watermark.clone()),
    ]);
    if let Some(c) = &splan.cursor {
        props.insert(PROP_CURSOR_COLUMN.to_string(), c.clone());
    }
    let rows = appender.rows();
    let snapshot = appender.commit(props).await.map_err(iceberg_error)?;
    report.inserted = rows;
    report.watermark = Some(watermark);
    if let Some(id) = snapshot {
        report
            .notes
            .push(format!("committed snapshot {id} to Iceberg table {table}"));
    }
    if opts.cancel.load(AtomicOrdering::SeqCst) {
        report.status = RunStatus::Interrupted;
    }
    Ok(())
}
