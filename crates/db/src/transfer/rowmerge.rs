//! Merging a batch row by row, for targets that load through parameterized
//! statements (MySQL, SQLite): convert every value to the target column's
//! kind, compare each incoming row with the target's row of the same key,
//! and decide what to write. PostgreSQL merges set-based instead.

use super::value::{cell_to_scalar, coerce, readers, render_cell_text, row_key_text, Cell};
use super::{
    canonical_key, value_error, LoadCounts, LoadMode, LoadPlan, OnConflict, Scalar, ValueKind,
};
use crate::error::DbError;
use arrow_array::RecordBatch;
use std::collections::HashMap;

/// A batch converted to the target's kinds.
pub(crate) struct Prepared<'a> {
    /// One row of target-kind cells per batch row, in plan column order.
    pub rows: Vec<Vec<Cell<'a>>>,
    /// Each row's key as checkpoint values.
    pub keys: Vec<Vec<Scalar>>,
    /// Each row's key in canonical form.
    pub canonical: Vec<String>,
    /// Whether each row is flagged deleted by the soft-delete column.
    pub flagged: Vec<bool>,
}

/// Whether a (target-kind) soft-delete value marks the row deleted.
pub(crate) fn is_flagged(cell: &Cell<'_>) -> bool {
    match cell {
        Cell::Null => false,
        Cell::Bool(b) => *b,
        _ => true,
    }
}

/// Converts every value of `batch` to its target column's kind, refusing the
/// batch at the first value the target cannot hold exactly.
pub(crate) fn prepare<'a>(
    target: &str,
    plan: &LoadPlan,
    batch: &'a RecordBatch,
) -> Result<Prepared<'a>, DbError> {
    let kinds: Vec<&ValueKind> = plan.columns.iter().map(|c| &c.source.kind).collect();
    let readers = readers(batch, &kinds);
    let key_names = plan.key_names();
    let n = batch.num_rows();
    let mut out = Prepared {
        rows: Vec::with_capacity(n),
        keys: Vec::with_capacity(n),
        canonical: Vec::with_capacity(n),
        flagged: Vec::with_capacity(n),
    };
    for row in 0..n {
        let mut cells = Vec::with_capacity(plan.columns.len());
        for (i, col) in plan.columns.iter().enumerate() {
            let cell = readers[i].get(row);
            let converted = coerce(cell, &col.target.kind).map_err(|reason| {
                value_error(
                    target,
                    &plan.table,
                    &col.target.name,
                    row_key_text(&readers, &plan.key, &key_names, row),
                    reason,
                )
            })?;
            if converted.is_null() && !col.target.nullable && Some(i) != plan.deleted {
                return Err(value_error(
                    target,
                    &plan.table,
                    &col.target.name,
                    row_key_text(&readers, &plan.key, &key_names, row),
                    "NULL cannot go into this NOT NULL column".into(),
                ));
            }
            cells.push(converted);
        }
        let key: Vec<Scalar> = plan
            .key
            .iter()
            .map(|&k| cell_to_scalar(&cells[k]).unwrap_or(Scalar::Text(String::new())))
            .collect();
        out.canonical.push(canonical_key(&key));
        out.keys.push(key);
        out.flagged
            .push(plan.deleted.is_some_and(|d| is_flagged(&cells[d])));
        out.rows.push(cells);
    }
    Ok(out)
}

/// Whether two target-kind values are the same (JSON compared as documents,
/// since servers may re-format it).
pub(crate) fn cells_equal(a: &Cell<'_>, b: &Cell<'_>) -> bool {
    match (a, b) {
        (Cell::Json(x), Cell::Json(y))
        | (Cell::Json(x), Cell::Text(y))
        | (Cell::Text(x), Cell::Json(y)) => {
            x == y
                || matches!(
                    (serde_json::from_str::<serde_json::Value>(x), serde_json::from_str::<serde_json::Value>(y)),
                    (Ok(p), Ok(q)) if p == q
                )
        }
        (Cell::F32(x), Cell::F32(y)) => x.to_bits() == y.to_bits() || x == y,
        (Cell::F64(x), Cell::F64(y)) => x.to_bits() == y.to_bits() || x == y,
        (Cell::Int(x), Cell::UInt(y)) | (Cell::UInt(y), Cell::Int(x)) => *x >= 0 && *x as u64 == *y,
        (Cell::Dec(m, s), Cell::Dec(n, t)) => {
            render_cell_text(&Cell::Dec(*m, *s)) == render_cell_text(&Cell::Dec(*n, *t))
                || super::value::normalize_decimal_text(&render_cell_text(a))
                    == super::value::normalize_decimal_text(&render_cell_text(b))
        }
        (Cell::Ts(x) | Cell::TsTz(x), Cell::Ts(y) | Cell::TsTz(y)) => x == y,
        _ => a == b,
    }
}

/// What to do with one incoming row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// A new key: insert the row (in SCD2, as the current version).
    Insert,
    /// An existing key with different values: overwrite it.
    Update,
    /// SCD2: close the current version and insert the new one.
    NewVersion,
    /// Remove the row (SCD2: close the current version).
    Delete,
    /// Nothing to write.
    Skip,
}

/// Decides what each row does, given the target's current rows for the
/// batch's keys (by canonical key, cells in plan column order).
pub(crate) fn classify(
    target: &str,
    plan: &LoadPlan,
    prepared: &Prepared<'_>,
    existing: &HashMap<String, Vec<Cell<'static>>>,
) -> Result<(Vec<Action>, LoadCounts), DbError> {
    let mut actions = Vec::with_capacity(prepared.rows.len());
    let mut counts = LoadCounts::default();
    let key_names = plan.key_names();
    for (i, row) in prepared.rows.iter().enumerate() {
        let current = existing.get(&prepared.canonical[i]);
        if prepared.flagged[i] {
            if current.is_some() {
                counts.deleted += 1;
                actions.push(Action::Delete);
            } else {
                counts.skipped += 1;
                actions.push(Action::Skip);
            }
            continue;
        }
        let Some(current) = current else {
            counts.inserted += 1;
            actions.push(Action::Insert);
            continue;
        };
        let same = row
            .iter()
            .zip(current)
            .enumerate()
            .all(|(c, (a, b))| Some(c) == plan.deleted || cells_equal(a, b));
        if same {
            counts.skipped += 1;
            actions.push(Action::Skip);
            continue;
        }
        match (plan.mode, plan.on_conflict) {
            // A changed row is what SCD2 exists for, not a conflict.
            (LoadMode::Scd2, _) => {
                counts.updated += 1;
                actions.push(Action::NewVersion);
            }
            (_, OnConflict::Error) => {
                return Err(DbError::Conflict {
                    target: target.to_string(),
                    table: plan.table.to_string(),
                    key: super::key_text(&key_names, &prepared.keys[i]),
                })
            }
            (LoadMode::Upsert, OnConflict::Overwrite) => {
                counts.updated += 1;
                actions.push(Action::Update);
            }
            _ => {
                counts.skipped += 1;
                actions.push(Action::Skip);
            }
        }
    }
    Ok((actions, counts))
}
