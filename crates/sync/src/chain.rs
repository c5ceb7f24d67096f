//! Chained jobs: source table → Iceberg table → target table in one run.
//!
//! A chained job (`sync add … --via iceberg:NAMESPACE.TABLE`) is two legs
//! under one name. The first leg extracts the source's changes after its
//! checkpoint and appends them to the Iceberg table as one snapshot whose
//! summary carries the new watermark ([`crate::iceberg_target`]); the
//! second merges the rows of every snapshot after the target's checkpoint
//! into the target, moving that checkpoint (a snapshot id) in the same
//! transaction as the rows ([`crate::iceberg_source`]). Each leg's
//! checkpoint commits atomically with its data, so a crash between the legs
//! leaves a snapshot the next run's second leg merges before anything else.

use crate::engine::{RunOptions, RunOutcome, RunStatus};
use crate::error::{SyncError, SyncResult};
use crate::job::{ConflictPolicy, Detect, JobSpec, Merge};
use crate::plan::SourcePlan;
use crate::progress::{SyncPhase, SyncProgress};
use crate::{iceberg_source, iceberg_target};
use std::sync::Arc;
use tidemark_db::transfer::{Endpoint, TableInfo};
use tidemark_iceberg::Warehouse;

/// The two legs of a chained job: `spec` with its source and target, and
/// `via` (`iceberg:NAMESPACE.TABLE`) between them.
pub fn legs(spec: &JobSpec, via: &str) -> SyncResult<(JobSpec, JobSpec)> {
    let table = iceberg_target::table_of(via)?;
    let into_iceberg = JobSpec {
        target: format!("{}{table}", iceberg_target::PREFIX),
        target_table: table.to_string(),
        merge: Merge::Append,
        on_conflict: ConflictPolicy::Skip,
        ..spec.clone()
    };
    let out_of_iceberg = JobSpec {
        source: format!("{}{table}", iceberg_target::PREFIX),
        source_table: table.to_string(),
        detect: Detect::Full,
        detect_auto: false,
        tracking_column: None,
        ..spec.clone()
    };
    Ok((into_iceberg, out_of_iceberg))
}

/// Checks a chained job (nothing is written): the first leg against the
/// source; the merge mode of the second; and, when the Iceberg table
/// already exists, the second leg against it and the target.
pub async fn check(
    spec: &JobSpec,
    via: &str,
    source: &mut dyn Endpoint,
    warehouse: &Warehouse,
    target: &mut dyn Endpoint,
) -> SyncResult<(TableInfo, SourcePlan, Option<TableInfo>)> {
    if !matches!(spec.merge, Merge::Upsert | Merge::Append) {
        return Err(SyncError::BadInput(format!(
            "--merge {} does not apply to a chained job: the target is merged from Iceberg snapshots; use --merge upsert (or append)",
            spec.merge
        )));
    }
    if spec.lag_ms > 0 || spec.reconcile_deletes || spec.deleted_column.is_some() {
        return Err(SyncError::BadInput(
            "--lag, --reconcile-deletes and --deleted-column do not apply to a chained job (its Iceberg table is an append-only change log)".into(),
        ));
    }
    let (first, second) = legs(spec, via)?;
    let (info, plan) = iceberg_target::check(&first, source).await?;
    let table = iceberg_target::table_of(via)?;
    let exists = warehouse
        .exists(&table)
        .await
        .map_err(|e| SyncError::Iceberg(e.to_string()))?;
    let target_info = if exists {
        iceberg_source::check(&second, warehouse, target).await?.2
    } else {
        let name = target
            .resolve(&tidemark_db::transfer::TableName::parse(&spec.target_table))
            .await?;
        target.describe(&name).await?
    };
    Ok((info, plan, target_info))
}

/// Runs a chained job once, given its [`legs`]: the first leg, then (if it
/// succeeded) the second. The report is the job's: rows extracted from the
/// source, rows loaded into the target, the source watermark, both legs'
/// notes.
pub async fn run(
    (first, second): &(JobSpec, JobSpec),
    source: &mut dyn Endpoint,
    warehouse: &Warehouse,
    target: &mut dyn Endpoint,
    opts: &RunOptions,
) -> RunOutcome {
    // The first leg's end is not the job's: its Finished event is held back.
    let forward = opts.progress.clone();
    let first_opts = RunOptions {
        run_id: opts.run_id.clone(),
        progress: Arc::new(move |p: &SyncProgress| {
            if p.phase != SyncPhase::Finished {
                forward(p)
            }
        }),
        cancel: opts.cancel.clone(),
    };
    let staged = iceberg_target::run(first, source, warehouse, &first_opts).await;
    if staged.error.is_some() || staged.report.status != RunStatus::Succeeded {
        return staged;
    }
    let table = match iceberg_target::table_of(&first.target) {
        Ok(t) => t,
        Err(e) => return failed(staged, e),
    };
    match warehouse.exists(&table).await {
        Ok(true) => {}
        Ok(false) => return staged,
        Err(e) => return failed(staged, SyncError::Iceberg(e.to_string())),
    }
    let merged = iceberg_source::run(second, warehouse, target, opts).await;
    let s = staged.report;
    let mut report = merged.report;
    report.started_at = s.started_at;
    report.duration_ms += s.duration_ms;
    report.full = s.full;
    report.rows_extracted = s.rows_extracted;
    report.batches += s.batches;
    report.previous_watermark = s.previous_watermark;
    report.watermark = s.watermark;
    let mut notes = s.notes;
    notes.append(&mut report.notes);
    report.notes = notes;
    RunOutcome {
        report,
        error: merged.error,
    }
}

fn failed(mut outcome: RunOutcome, e: SyncError) -> RunOutcome {
    outcome.report.status = RunStatus::Failed;
    outcome.report.error = Some(e.to_string());
    outcome.error = Some(e);
    outcome
}
