//! Checking a job against the live tables, before any row moves, and
//! turning it into what the endpoints need.

use crate::error::{SyncError, SyncResult};
use crate::job::{ConflictPolicy, Detect, JobSpec, Merge};
use tidemark_db::transfer::{
    check_compatible, ColumnInfo, LoadColumn, LoadMode, LoadPlan, NewColumn, OnConflict,
    Scd2Columns, TableInfo, TableName, ValidFrom, ValueKind,
};
use tidemark_db::DialectKind;

/// The SCD2 bookkeeping column names.
pub const VALID_FROM: &str = "valid_from";
/// See [`VALID_FROM`].
pub const VALID_TO: &str = "valid_to";
/// See [`VALID_FROM`].
pub const IS_CURRENT: &str = "is_current";

/// The name of the checkpoint table in the target's schema.
pub const CHECKPOINT_TABLE: &str = "tidemark_checkpoints";

/// What the source side of a job resolves to.
#[derive(Debug, Clone)]
pub struct SourcePlan {
    /// The key columns (source names).
    pub key: Vec<String>,
    /// The tracking column in effect (`None`: every run reads every row in
    /// key order).
    pub cursor: Option<String>,
    /// Things the user should know (fallbacks, what detection implies).
    pub notes: Vec<String>,
}

fn names(t: &TableInfo) -> String {
    t.columns
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn unknown(what: &str, column: &str, t: &TableInfo) -> SyncError {
    SyncError::BadInput(format!(
        "{what} `{column}` does not exist in source table {} (its columns: {}): name one of those columns",
        t.name,
        names(t)
    ))
}

/// Checks the job's options against each other (no database needed).
pub fn check_options(job: &JobSpec) -> SyncResult<()> {
    let bad = |m: String| Err(SyncError::BadInput(m));
    if job.name.trim().is_empty() {
        return bad("the job name is empty".into());
    }
    if job.batch_size == 0 {
        return bad("--batch-size must be at least 1".into());
    }
    if matches!(
        job.detect,
        Detect::Timestamp | Detect::Sequence | Detect::Version
    ) && job.tracking_column.is_none()
    {
        return bad(format!(
            "--detect {} needs the tracking column: add --column COLUMN (or use --detect auto)",
            job.detect
        ));
    }
    if job.merge == Merge::Replace && job.detect != Detect::Full {
        return bad("--merge replace reloads the whole table on every run: use it with --detect full (or auto)".into());
    }
    if job.lag_ms > 0 && job.detect != Detect::Timestamp {
        return bad(format!(
            "--lag re-reads a time window behind the watermark and needs a timestamp tracking column, but this job uses --detect {}",
            job.detect
        ));
    }
    if job.merge == Merge::Append && job.on_conflict == ConflictPolicy::Overwrite {
        return bad("--merge append never changes a row already in the target: use --on-conflict skip or error, or --merge upsert to overwrite".into());
    }
    if matches!(job.merge, Merge::Scd2 | Merge::Replace)
        && job.on_conflict != ConflictPolicy::Overwrite
    {
        return bad(format!(
            "--on-conflict applies to append and upsert; --merge {} keeps every change",
            job.merge
        ));
    }
    if job.merge == Merge::Replace && job.deleted_column.is_some() {
        return bad(
            "--deleted-column does not apply to --merge replace: filter the source instead".into(),
        );
    }
    Ok(())
}

/// Resolves the key and the tracking column against the source table.
///
/// With `strict` (when a job is added) a tracking column the table does not
/// have is refused; otherwise (when a job runs) it means the column is gone
/// and its checkpoint unusable, and the run falls back to a full sync.
pub fn plan_source(job: &JobSpec, source: &TableInfo, strict: bool) -> SyncResult<SourcePlan> {
    let mut notes = Vec::new();
    let key: Vec<String> = if job.key.is_empty() {
        if source.primary_key.is_empty() {
            return Err(SyncError::BadInput(format!(
                "source table {} has no primary key: name the key column(s) with --key COLUMN",
                source.name
            )));
        }
        source.primary_key.clone()
    } else {
        job.key
            .iter()
            .map(|k| {
                source
                    .column(k)
                    .map(|c| c.name.clone())
                    .ok_or_else(|| unknown("key column (--key)", k, source))
            })
            .collect::<SyncResult<_>>()?
    };
    for k in &key {
        let c = source.column(k).expect("checked above");
        if !c.kind.orderable() {
            return Err(SyncError::BadInput(format!(
                "key column {k} of {} is {} and cannot order rows: choose another --key",
                source.name, c.native
            )));
        }
    }
    if let Some(d) = &job.deleted_column {
        if source.column(d).is_none() {
            return Err(unknown("soft-delete column (--deleted-column)", d, source));
        }
    }
    let cursor = match (job.detect, &job.tracking_column) {
        (Detect::Full, _) | (_, None) => None,
        (detect, Some(col)) => match source.column(col) {
            None if strict => return Err(unknown("tracking column (--column)", col, source)),
            None => {
                // The checkpoint cannot be used without its column: read
                // everything, and say so.
                notes.push(format!(
                    "tracking column {col} no longer exists in {}: running a full sync (every row); re-create the job to track another column",
                    source.name
                ));
                None
            }
            Some(c) => {
                let ok = match detect {
                    Detect::Timestamp => c.kind.is_timestamp(),
                    Detect::Sequence => c.kind.is_integer(),
                    _ => c.kind.orderable(),
                };
                if !ok {
                    return Err(SyncError::BadInput(format!(
                        "tracking column {col} of {} is {}, which cannot drive --detect {detect}: {}",
                        source.name,
                        c.native,
                        match detect {
                            Detect::Timestamp => "pick a date/time column (or --detect version for a number)",
                            Detect::Sequence => "pick an integer column that only grows",
                            _ => "pick an integer, decimal, text or date/time column",
                        }
                    )));
                }
                Some(c.name.clone())
            }
        },
    };
    if job.detect == Detect::Sequence {
        notes.push("sequence detection picks up new rows only; updates are not seen (use timestamp or full detection, and --reconcile-deletes for deletes)".into());
    }
    Ok(SourcePlan { key, cursor, notes })
}

/// The ordering columns: the tracking column, then the key columns that are
/// not the tracking column.
pub fn order_columns(plan: &SourcePlan) -> Vec<String> {
    let mut order: Vec<String> = plan.cursor.iter().cloned().collect();
    for k in &plan.key {
        if !order.contains(k) {
            order.push(k.clone());
        }
    }
    order
}

/// The kind of the SCD2 validity columns: the tracking timestamp's, so
/// `valid_from` can be the source's own change time.
fn validity_kind(source: &TableInfo, plan: &SourcePlan, job: &JobSpec) -> ValueKind {
    match (&plan.cursor, job.detect) {
        (Some(c), Detect::Timestamp) => match source.column(c).map(|c| &c.kind) {
            Some(ValueKind::Timestamp { tz, .. }) => ValueKind::Timestamp {
                tz: *tz,
                precision: 6,
                epoch32: false,
            },
            _ => ValueKind::Timestamp {
                tz: true,
                precision: 6,
                epoch32: false,
            },
        },
        _ => ValueKind::Timestamp {
            tz: true,
            precision: 6,
            epoch32: false,
        },
    }
}

/// The table a first run creates when the target does not exist: every
/// source column (types mapped per docs/sync-types.md), keyed like the
/// source; SCD2 adds the validity columns and keeps versions under a plain
/// index on the key.
pub fn new_table(
    job: &JobSpec,
    source: &TableInfo,
    plan: &SourcePlan,
    source_kind: DialectKind,
    target_kind: DialectKind,
) -> (Vec<NewColumn>, Vec<String>, Vec<String>) {
    let same = source_kind == target_kind;
    let mut columns: Vec<NewColumn> = source
        .columns
        .iter()
        .map(|c| NewColumn {
            name: c.name.clone(),
            kind: c.kind.clone(),
            nullable: c.nullable && !plan.key.contains(&c.name),
            same_kind_native: same.then(|| c.native.clone()),
        })
        .collect();
    if job.merge == Merge::Scd2 {
        let kind = validity_kind(source, plan, job);
        columns.push(NewColumn {
            name: VALID_FROM.into(),
            kind: kind.clone(),
            nullable: false,
            same_kind_native: None,
        });
        columns.push(NewColumn {
            name: VALID_TO.into(),
            kind,
            nullable: true,
            same_kind_native: None,
        });
        columns.push(NewColumn {
            name: IS_CURRENT.into(),
            kind: ValueKind::Bool,
            nullable: false,
            same_kind_native: None,
        });
        let mut index = plan.key.clone();
        index.push(IS_CURRENT.into());
        (columns, Vec::new(), index)
    } else {
        (columns, plan.key.clone(), Vec::new())
    }
}

/// Checks the target table against the job and builds the load plan.
pub fn plan_load(
    job: &JobSpec,
    source: &TableInfo,
    plan: &SourcePlan,
    target: &TableInfo,
    checkpoints: TableName,
) -> SyncResult<LoadPlan> {
    let bad = |m: String| Err(SyncError::BadInput(m));
    if !target.transactional {
        return bad(format!(
            "target table {} uses a storage engine without transactions, so a batch and its checkpoint cannot commit together: convert it (ALTER TABLE {} ENGINE=InnoDB)",
            target.name, target.name
        ));
    }
    let mut columns = Vec::with_capacity(source.columns.len());
    for s in &source.columns {
        let Some(t) = target.column(&s.name) else {
            return bad(format!(
                "target table {} has no column `{}` (the source has it, {}): add it to the target, or drop the target table so the first run creates it",
                target.name, s.name, s.native
            ));
        };
        if let Some(why) = check_compatible(&s.kind, &t.kind) {
            return bad(format!(
                "column {}: the source's {} cannot be loaded into the target's {} ({why}): change the target column to a matching type, or drop the target table so the first run creates it",
                s.name, s.native, t.native
            ));
        }
        columns.push(LoadColumn {
            source: s.clone(),
            target: t.clone(),
        });
    }
    let scd_names = [VALID_FROM, VALID_TO, IS_CURRENT];
    for t in &target.columns {
        let covered = source.column(&t.name).is_some()
            || (job.merge == Merge::Scd2
                && scd_names.iter().any(|n| n.eq_ignore_ascii_case(&t.name)));
        if !covered && !t.nullable && !t.has_default && !t.auto_increment {
            return bad(format!(
                "target column {}.{} is NOT NULL without a default and the source has no such column: give it a default or allow NULL",
                target.name, t.name
            ));
        }
    }
    let key: Vec<usize> = plan
        .key
        .iter()
        .map(|k| {
            source
                .columns
                .iter()
                .position(|c| &c.name == k)
                .expect("key columns come from the source")
        })
        .collect();
    let target_key: Vec<String> = key
        .iter()
        .map(|&i| columns[i].target.name.clone())
        .collect();
    let scd2 = if job.merge == Merge::Scd2 {
        let find = |name: &str| {
            target.column(name).cloned().ok_or_else(|| {
                SyncError::BadInput(format!(
                    "target table {} has no `{name}` column, which --merge scd2 needs (valid_from and valid_to timestamps, is_current boolean): add them, or drop the target table so the first run creates it",
                    target.name
                ))
            })
        };
        let (valid_from, valid_to, is_current) =
            (find(VALID_FROM)?, find(VALID_TO)?, find(IS_CURRENT)?);
        for c in [&valid_from, &valid_to] {
            if !matches!(c.kind, ValueKind::Timestamp { .. }) {
                return bad(format!(
                    "target column {}.{} must be a timestamp for --merge scd2, not {}",
                    target.name, c.name, c.native
                ));
            }
        }
        if !matches!(is_current.kind, ValueKind::Bool | ValueKind::Int { .. }) {
            return bad(format!(
                "target column {}.{} must be a boolean for --merge scd2, not {}",
                target.name, is_current.name, is_current.native
            ));
        }
        let from = match (&plan.cursor, job.detect) {
            (Some(c), Detect::Timestamp)
                if matches!(
                    source.column(c).map(|c| &c.kind),
                    Some(ValueKind::Timestamp { .. })
                ) =>
            {
                ValidFrom::Column(
                    source
                        .columns
                        .iter()
                        .position(|s| &s.name == c)
                        .expect("cursor is a source column"),
                )
            }
            _ => ValidFrom::LoadTime,
        };
        Some(Scd2Columns {
            valid_from,
            valid_to,
            is_current,
            from,
        })
    } else {
        if !target.has_unique_key(&target_key) {
            return bad(format!(
                "target table {} has no primary key or unique index on ({}): --merge {} matches rows by key, so add one (ALTER TABLE {} ADD PRIMARY KEY ({}))",
                target.name,
                target_key.join(", "),
                job.merge,
                target.name,
                target_key.join(", ")
            ));
        }
        None
    };
    let deleted = job.deleted_column.as_ref().map(|d| {
        source
            .columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(d))
            .expect("checked by plan_source")
    });
    Ok(LoadPlan {
        job: job.name.clone(),
        table: target.name.clone(),
        checkpoints,
        columns,
        key,
        mode: match job.merge {
            Merge::Append => LoadMode::Append,
            Merge::Scd2 => LoadMode::Scd2,
            Merge::Upsert | Merge::Replace => LoadMode::Upsert,
        },
        on_conflict: match job.on_conflict {
            ConflictPolicy::Overwrite => OnConflict::Overwrite,
            ConflictPolicy::Skip => OnConflict::Skip,
            ConflictPolicy::Error => OnConflict::Error,
        },
        deleted,
        scd2,
        fresh: false,
    })
}

/// The source columns to read, in table order.
pub fn extract_columns(source: &TableInfo) -> Vec<ColumnInfo> {
    source.columns.clone()
}
