//! Sync out of an Apache Iceberg table (`--source iceberg:NAMESPACE.TABLE`)
//! into a database table.
//!
//! Changes are found by snapshot: each run reads the rows added by the
//! snapshots after the one the target's checkpoint names, up to the table's
//! current snapshot, oldest snapshot first (walking manifests, reading only
//! added data files), and merges them (`--merge upsert` or `append`) into
//! the target. The checkpoint row in the target holds the last snapshot
//! whose rows are all merged; it moves in the transaction of that
//! snapshot's last batch. A crash inside a snapshot leaves the checkpoint on
//! the previous one, and the replay of that snapshot's rows is harmless
//! (upsert writes the same values again, append skips keys already there).

use crate::engine::{RunOptions, RunOutcome, RunReport, RunStatus};
use crate::error::{SyncError, SyncResult};
use crate::job::{JobSpec, Merge};
use crate::plan::{self, SourcePlan, CHECKPOINT_TABLE};
use crate::progress::{SyncPhase, SyncProgress};
use arrow_array::RecordBatch;
use arrow_schema::{DataType, Schema};
use chrono::Utc;
use std::sync::atomic::Ordering as AtomicOrdering;
use std::time::Instant;
use tidemark_db::transfer::{
    CheckpointWrite, ColumnInfo, Endpoint, LoadCounts, Scalar, TableInfo, TableName, ValueKind,
};
use tidemark_db::DialectKind;
use tidemark_iceberg::{IcebergError, TableRef, Warehouse};

/// The tracking column name recorded in the target's checkpoint row: the
/// position is a snapshot id, not a column value.
pub const CURSOR: &str = "iceberg snapshot";

fn iceberg_error(e: IcebergError) -> SyncError {
    if e.is_bad_input() {
        SyncError::BadInput(e.to_string())
    } else {
        SyncError::Iceberg(e.to_string())
    }
}

/// The kind an Iceberg table's Arrow column reads as.
fn kind_of(dt: &DataType) -> ValueKind {
    match dt {
        DataType::Boolean => ValueKind::Bool,
        DataType::Int32 => ValueKind::Int {
            bytes: 4,
            unsigned: false,
        },
        DataType::Int64 => ValueKind::Int {
            bytes: 8,
            unsigned: false,
        },
        DataType::Float32 => ValueKind::Float { double: false },
        DataType::Float64 => ValueKind::Float { double: true },
        DataType::Decimal128(p, s) => ValueKind::Decimal {
            precision: *p,
            scale: *s,
        },
        DataType::Utf8 | DataType::LargeUtf8 => ValueKind::Text { max_chars: None },
        DataType::Binary | DataType::LargeBinary => ValueKind::Binary { max_bytes: None },
        DataType::FixedSizeBinary(16) => ValueKind::Uuid,
        DataType::Date32 => ValueKind::Date,
        DataType::Time64(_) => ValueKind::Time { precision: 6 },
        DataType::Timestamp(_, tz) => ValueKind::Timestamp {
            tz: tz.is_some(),
            precision: 6,
            epoch32: false,
        },
        _ => ValueKind::Other,
    }
}

/// The Iceberg table as a source table.
fn table_info(table: &TableRef, schema: &Schema, key: Vec<String>) -> TableInfo {
    TableInfo {
        name: TableName::parse(&table.to_string()),
        columns: schema
            .fields()
            .iter()
            .map(|f| ColumnInfo {
                name: f.name().clone(),
                native: f.data_type().to_string(),
                kind: kind_of(f.data_type()),
                nullable: f.is_nullable(),
                auto_increment: false,
                has_default: false,
            })
            .collect(),
        unique_keys: if key.is_empty() {
            Vec::new()
        } else {
            vec![key.clone()]
        },
        primary_key: key,
        transactional: true,
    }
}

/// Checks a job reading from an Iceberg table: the table, the key (the
/// job's or the table's identifier fields), the merge mode, and the target
/// table if it exists.
pub async fn check(
    job: &JobSpec,
    warehouse: &Warehouse,
    target: &mut dyn Endpoint,
) -> SyncResult<(TableInfo, SourcePlan, Option<TableInfo>)> {
    plan::check_options(job)?;
    if !matches!(job.merge, Merge::Upsert | Merge::Append) {
        return Err(SyncError::BadInput(format!(
            "--merge {} does not apply to an Iceberg source: use --merge upsert (or append)",
            job.merge
        )));
    }
    if job.reconcile_deletes || job.deleted_column.is_some() || job.lag_ms > 0 {
        return Err(SyncError::BadInput(
            "--lag, --reconcile-deletes and --deleted-column do not apply to an Iceberg source"
                .into(),
        ));
    }
    let table = crate::iceberg_target::table_of(&job.source)?;
    if !warehouse.exists(&table).await.map_err(iceberg_error)? {
        return Err(SyncError::BadInput(format!(
            "Iceberg table {table} does not exist: check --source"
        )));
    }
    let schema = warehouse
        .arrow_schema(&table)
        .await
        .map_err(iceberg_error)?;
    let key = warehouse
        .identifier_fields(&table)
        .await
        .map_err(iceberg_error)?;
    let info = table_info(&table, &schema, key);
    let splan = plan::plan_source(job, &info, false)?;
    let tgt_name = target.resolve(&TableName::parse(&job.target_table)).await?;
    let target_info = target.describe(&tgt_name).await?;
    if let Some(t) = &target_info {
        plan::plan_load(job, &info, &splan, t, tgt_name.sibling(CHECKPOINT_TABLE))?;
    }
    Ok((info, splan, target_info))
}

/// Runs one job from an Iceberg table once.
pub async fn run(
    job: &JobSpec,
    warehouse: &Warehouse,
    target: &mut dyn Endpoint,
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
    let result = run_inner(job, warehouse, target, opts, &mut report).await;
    report.duration_ms = clock.elapsed().as_millis() as u64;
    report.rows_loaded = report.inserted + report.updated;
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

fn snapshot_text(id: Option<i64>) -> Option<String> {
    id.map(|i| format!("snapshot {i}"))
}

async fn run_inner(
    job: &JobSpec,
    warehouse: &Warehouse,
    target: &mut dyn Endpoint,
    opts: &RunOptions,
    report: &mut RunReport,
) -> SyncResult<()> {
    let (info, splan, target_info) = check(job, warehouse, target).await?;
    report.notes.extend(splan.notes.iter().cloned());
    let table = crate::iceberg_target::table_of(&job.source)?;
    let tgt_name = target.resolve(&TableName::parse(&job.target_table)).await?;
    let target_info = match target_info {
        Some(t) => t,
        None => {
            let (columns, pk, index) =
                plan::new_table(job, &info, &splan, DialectKind::Databricks, target.kind());
            target
                .create_table(&tgt_name, &columns, &pk, &index, DialectKind::Databricks)
                .await?;
            report
                .notes
                .push(format!("created target table {tgt_name}"));
            target.describe(&tgt_name).await?.ok_or_else(|| {
                SyncError::BadInput(format!(
                    "target table {tgt_name} was created but cannot be read back"
                ))
            })?
        }
    };
    let checkpoints = tgt_name.sibling(CHECKPOINT_TABLE);
    let load = plan::plan_load(job, &info, &splan, &target_info, checkpoints.clone())?;
    let cp = target.checkpoint(&checkpoints, &job.name).await?;
    let mut seq = cp.seq;
    let after = match (&cp.cursor_column, &cp.cursor) {
        (Some(c), Some(Scalar::Int(id))) if c == CURSOR => Some(*id),
        _ if cp.is_empty() => None,
        _ => {
            report.notes.push(
                "the target's checkpoint is not an Iceberg snapshot: reading every snapshot".into(),
            );
            None
        }
    };
    report.previous_watermark = snapshot_text(after);
    report.full = after.is_none();
    let Some(upto) = warehouse
        .current_snapshot(&table)
        .await
        .map_err(iceberg_error)?
    else {
        report.watermark = report.previous_watermark.clone();
        return Ok(());
    };
    // The snapshots to apply, oldest first.
    let snaps = warehouse.snapshots(&table).await.map_err(iceberg_error)?;
    let mut chain = Vec::new();
    let mut cursor = Some(upto);
    while let Some(id) = cursor {
        if Some(id) == after {
            break;
        }
        chain.push(id);
        cursor = snaps.iter().find(|s| s.id == id).and_then(|s| s.parent);
    }
    if after.is_some() && cursor != after {
        return Err(SyncError::BadInput(format!(
            "the target's checkpoint names snapshot {} which is not in the history of {table} (expired or rolled back): remove the job's checkpoint row to reload",
            after.unwrap_or_default()
        )));
    }
    chain.reverse();
    let mut counts = LoadCounts::default();
    let mut done = after;
    for id in chain {
        let (_, batches) = warehouse
            .added_rows(&table, done, id)
            .await
            .map_err(iceberg_error)?;
        let batches: Vec<RecordBatch> = batches.into_iter().filter(|b| b.num_rows() > 0).collect();
        let n = batches.len();
        for (i, batch) in batches.into_iter().enumerate() {
            let step = (job.batch_size as usize).max(1);
            for from in (0..batch.num_rows()).step_by(step) {
                let len = step.min(batch.num_rows() - from);
                // The checkpoint reaches `id` with the snapshot's last rows.
                let last = i + 1 == n && from + len == batch.num_rows();
                let reached = if last { Some(id) } else { done };
                let write = CheckpointWrite {
                    job: job.name.clone(),
                    expected_seq: seq,
                    cursor_column: reached.map(|_| CURSOR.to_string()),
                    cursor: reached.map(Scalar::Int),
                    key: Vec::new(),
                    run_id: opts.run_id.clone(),
                };
                let (c, s) = target.load(&load, &batch.slice(from, len), &write).await?;
                seq = s;
                counts += c;
                report.rows_extracted += len as u64;
                report.batches += 1;
            }
        }
        done = Some(id);
        if opts.cancel.load(AtomicOrdering::SeqCst) {
            report.status = RunStatus::Interrupted;
            break;
        }
    }
    report.inserted = counts.inserted;
    report.updated = counts.updated;
    report.skipped = counts.skipped;
    report.watermark = snapshot_text(done);
    Ok(())
}
