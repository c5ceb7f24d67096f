//! Adding ops to the current project: from JSON, and from DDL files.

use crate::project::working_state_tx;
use crate::{App, AppError, AppResult};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;
use tidemark_model::{Op, Reducer, State};
use tidemark_sql::parse::{import_ddl, ImportContext, SourceDialect};

/// The result of adding ops.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct AddedOps {
    /// The ops as stored (with their ids and timestamps).
    pub ops: Vec<Op>,
    /// How many ops are now uncommitted in the project.
    pub uncommitted: usize,
}

/// The result of `import --sql`.
#[derive(Debug, Clone, Serialize)]
pub struct DdlImportSummary {
    /// The ops that were added.
    pub added: AddedOps,
    /// Statements that were not schema definitions and were skipped.
    pub skipped: Vec<String>,
}

/// The id prefix for the object an `add_*` op creates.
fn id_prefix(op: &str) -> Option<&'static str> {
    Some(match op {
        "add_catalog" => "cat",
        "add_schema" => "sch",
        "add_table" => "tbl",
        "add_column" => "col",
        "add_primary_key" => "pk",
        "add_unique" => "uq",
        "add_index" => "idx",
        "add_foreign_key" => "fk",
        "add_check" => "ck",
        _ => return None,
    })
}

impl App {
    /// Parses op JSON (one op or an array) and appends it to the current project.
    ///
    /// `id` and `ts` may be left out, and so may the new object's `payload.id`
    /// of an `add_*` op: they are filled in. Every op is validated against the
    /// working state first; if any is rejected nothing is written.
    pub fn add_ops_json(&mut self, text: &str) -> AppResult<AddedOps> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| AppError::BadInput(format!("malformed op JSON: {e}")))?;
        let items = match value {
            Value::Array(items) => items,
            one @ Value::Object(_) => vec![one],
            _ => {
                return Err(AppError::BadInput(
                    "malformed op JSON: expected an op object or an array of ops".into(),
                ))
            }
        };
        if items.is_empty() {
            return Err(AppError::BadInput(
                "no ops given: the array is empty".into(),
            ));
        }
        let now = self.now();
        let mut ops = Vec::with_capacity(items.len());
        for (i, mut item) in items.into_iter().enumerate() {
            let obj = item.as_object_mut().ok_or_else(|| {
                AppError::BadInput(format!("op {}: malformed op JSON: not an object", i + 1))
            })?;
            obj.entry("id")
                .or_insert_with(|| Value::String(crate::new_op_id()));
            obj.entry("ts")
                .or_insert_with(|| Value::String(now.to_rfc3339()));
            let prefix = obj.get("op").and_then(Value::as_str).and_then(id_prefix);
            if let (Some(prefix), Some(Value::Object(payload))) = (prefix, obj.get_mut("payload")) {
                payload
                    .entry("id")
                    .or_insert_with(|| Value::String(crate::new_id(prefix).0));
            }
            let op: Op = serde_json::from_value(item)
                .map_err(|e| AppError::BadInput(format!("op {}: malformed op JSON: {e}", i + 1)))?;
            ops.push(op);
        }
        self.append_validated(ops)
    }

    /// Reads a DDL file and appends the ops it describes to the current project.
    pub fn import_sql(&mut self, path: &Path, dialect: &str) -> AppResult<DdlImportSummary> {
        let dialect: SourceDialect = dialect
            .parse()
            .map_err(|e| AppError::BadInput(format!("{e}")))?;
        let sql = std::fs::read_to_string(path).map_err(|e| AppError::io(path, e))?;
        let state = self.working_state()?;
        let (catalog, schema) = default_location(&state, dialect);
        let now = self.now();
        let mut new_id = |prefix: &str| crate::new_id(prefix);
        let mut ctx = ImportContext {
            catalog: &catalog,
            default_schema: &schema,
            new_id: &mut new_id,
        };
        let imported =
            import_ddl(&sql, dialect, &state, &mut ctx).map_err(|source| AppError::Ddl {
                path: path.to_path_buf(),
                source,
            })?;
        if imported.ops.is_empty() {
            return Err(AppError::BadInput(format!(
                "{}: no CREATE TABLE, CREATE INDEX or ALTER TABLE statements found",
                path.display()
            )));
        }
        let ops = imported
            .ops
            .into_iter()
            .map(|o| Op {
                id: crate::new_op_id(),
                ts: now,
                target: o.target,
                action: o.action,
            })
            .collect();
        Ok(DdlImportSummary {
            added: self.append_validated(ops)?,
            skipped: imported.skipped,
        })
    }

    /// Validates `ops` against the working state and appends them, atomically.
    pub(crate) fn append_validated(&mut self, ops: Vec<Op>) -> AppResult<AddedOps> {
        let project = self.ws.current_project()?;
        let uncommitted = self.ws.write(|tx| -> AppResult<usize> {
            let state = working_state_tx(tx, &project.id)?;
            let known: HashSet<String> =
                tx.ops(&project.id)?.into_iter().map(|s| s.op.id).collect();
            let mut seen = HashSet::new();
            let mut reducer = Reducer::new(state);
            for (i, op) in ops.iter().enumerate() {
                if known.contains(&op.id) || !seen.insert(op.id.as_str()) {
                    return Err(AppError::BadInput(format!(
                        "op {}: duplicate op id {}: leave `id` out to get a fresh one",
                        i + 1,
                        op.id
                    )));
                }
                reducer.apply(op).map_err(|source| AppError::OpRejected {
                    index: i + 1,
                    op: op.action.name().to_string(),
                    source: Box::new(source),
                })?;
            }
            tx.append_ops(&project.id, &ops)?;
            Ok(tx.uncommitted_ops(&project.id)?.len())
        })?;
        Ok(AddedOps { ops, uncommitted })
    }

    /// The current project's uncommitted ops, oldest first.
    pub fn uncommitted_ops(&self) -> AppResult<Vec<Op>> {
        let project = self.ws.current_project()?;
        Ok(self
            .ws
            .uncommitted_ops(&project.id)?
            .into_iter()
            .map(|s| s.op)
            .collect())
    }
}

/// Where unqualified names in a DDL file land: the project's first catalog and
/// its first schema, or a sensible default for the dialect in an empty project.
fn default_location(state: &State, dialect: SourceDialect) -> (String, String) {
    let fallback_schema = match dialect {
        SourceDialect::Postgres => "public",
        SourceDialect::SqlServer => "dbo",
        SourceDialect::Mysql | SourceDialect::Sqlite => "main",
    };
    match state.catalogs.first() {
        Some(cat) => (
            cat.name.clone(),
            cat.schemas
                .first()
                .map(|s| s.name.clone())
                .unwrap_or_else(|| fallback_schema.to_string()),
        ),
        None => ("main".to_string(), fallback_schema.to_string()),
    }
}
