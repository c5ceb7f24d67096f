//! Incremental diffs written into a PostgreSQL schema
//! (`tidemark incremental-diff --format postgres`).
//!
//! The schema holds the same tables as the workspace — `diff_sync_runs`,
//! `incremental_diff_schema`, `incremental_diff_table`,
//! `incremental_diff_column` and the `diff_summary` view — with the types a
//! PostgreSQL user expects (`uuid`, `jsonb`, `timestamptz`). They are created
//! when missing, under an advisory lock so two first runs cannot race.
//!
//! A diff is written in two steps: [`PgDiffOutput::begin_run`] commits the
//! run row as `running`, so a failure has a row to mark; then
//! [`PgDiffOutput::write_changes`] inserts every change row *and* marks the
//! run completed in one transaction, so a failure part-way leaves no change
//! row of that diff behind. The schema name is user input: it is only ever
//! embedded as a quoted identifier, and every value is bound.

use crate::error::{query_err, sqlx_message, DbError};
use crate::postgres::Postgres;
use crate::spec::ConnectionSpec;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};
use uuid::Uuid;

/// The schema diffs go to when none is named.
pub const DEFAULT_OUTPUT_SCHEMA: &str = "tidemark_meta";

/// Rows per `INSERT … SELECT FROM unnest(…)` statement: large enough that a
/// 40,000-column diff is a handful of round trips, small enough to keep each
/// message modest.
const CHUNK: usize = 5_000;

/// The kind of object a change row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputAsset {
    /// A schema: `incremental_diff_schema`.
    Schema,
    /// A table: `incremental_diff_table`.
    Table,
    /// A column: `incremental_diff_column`.
    Column,
}

impl OutputAsset {
    const ALL: [OutputAsset; 3] = [OutputAsset::Schema, OutputAsset::Table, OutputAsset::Column];

    fn table(self) -> &'static str {
        match self {
            OutputAsset::Schema => "incremental_diff_schema",
            OutputAsset::Table => "incremental_diff_table",
            OutputAsset::Column => "incremental_diff_column",
        }
    }
}

/// A new diff run, as `diff_sync_runs` holds it.
#[derive(Debug, Clone)]
pub struct OutputRun<'a> {
    /// The diff's id.
    pub diff_sync_id: Uuid,
    /// The connection's name.
    pub connection_id: &'a str,
    /// The older scan run.
    pub sync_run_1_id: Uuid,
    /// The newer scan run.
    pub sync_run_2_id: Uuid,
    /// When the diff started.
    pub started_at: DateTime<Utc>,
}

/// One change row to write.
#[derive(Debug, Clone)]
pub struct OutputChange<'a> {
    /// The row's id.
    pub diff_id: Uuid,
    /// Which table it goes to.
    pub asset: OutputAsset,
    /// Schema name.
    pub schema_name: &'a str,
    /// Table name (tables and columns).
    pub table_name: Option<&'a str>,
    /// Column name (columns).
    pub column_name: Option<&'a str>,
    /// `added`, `removed` or `modified`.
    pub change_type: &'a str,
    /// The object in the older run.
    pub sync_run_1_data: Option<&'a Value>,
    /// The object in the newer run.
    pub sync_run_2_data: Option<&'a Value>,
    /// What differs.
    pub differences: Option<&'a Value>,
    /// When the row was made.
    pub created_at: DateTime<Utc>,
}

/// A change row read back.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredChange {
    /// The row's id.
    pub diff_id: Uuid,
    /// Which table it came from.
    pub asset: OutputAsset,
    /// Schema name.
    pub schema_name: String,
    /// Table name (tables and columns).
    pub table_name: Option<String>,
    /// Column name (columns).
    pub column_name: Option<String>,
    /// `added`, `removed` or `modified`.
    pub change_type: String,
    /// The object in the older run.
    pub sync_run_1_data: Option<Value>,
    /// The object in the newer run.
    pub sync_run_2_data: Option<Value>,
    /// What differs.
    pub differences: Option<Value>,
    /// When the row was made.
    pub created_at: DateTime<Utc>,
}

/// Changed-object totals of a completed diff.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputTotals {
    /// Schemas added, removed or modified.
    pub schemas: i64,
    /// Tables added, removed or modified.
    pub tables: i64,
    /// Columns added, removed or modified.
    pub columns: i64,
}

/// Checks an output schema name before it goes near SQL: PostgreSQL cuts
/// identifiers at 63 bytes, which would silently write somewhere else.
pub fn validate_schema_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("the output schema name is empty".into());
    }
    if name.len() > 63 {
        return Err(format!(
            "the output schema name {name:?} is longer than PostgreSQL's 63-byte limit"
        ));
    }
    if name.contains('\0') {
        return Err("the output schema name contains a NUL character".into());
    }
    Ok(())
}

/// `"name"` with embedded quotes doubled.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The tables, indexes and view, created when missing.
fn ddl(q: &str) -> String {
    let change_table = |name: &str, name_columns: &str| {
        format!(
            "CREATE TABLE IF NOT EXISTS {q}.{name} (\n\
             \x20   diff_id uuid PRIMARY KEY,\n\
             \x20   diff_sync_id uuid NOT NULL REFERENCES {q}.diff_sync_runs (diff_sync_id) ON DELETE CASCADE,\n\
             {name_columns}\
             \x20   change_type text NOT NULL CHECK (change_type IN ('added', 'removed', 'modified')),\n\
             \x20   sync_run_1_data jsonb,\n\
             \x20   sync_run_2_data jsonb,\n\
             \x20   differences jsonb,\n\
             \x20   created_at timestamptz NOT NULL DEFAULT now()\n\
             );\n\
             CREATE INDEX IF NOT EXISTS {name}_by_run ON {q}.{name} (diff_sync_id);\n"
        )
    };
    let count = |table: &str, change: &str, alias: &str| {
        format!(
            "       (SELECT count(*) FROM {q}.{table} d \
             WHERE d.diff_sync_id = r.diff_sync_id AND d.change_type = '{change}') AS {alias},\n"
        )
    };
    let mut sql = format!(
        "CREATE SCHEMA IF NOT EXISTS {q};\n\
         CREATE TABLE IF NOT EXISTS {q}.diff_sync_runs (\n\
         \x20   diff_sync_id uuid PRIMARY KEY,\n\
         \x20   connection_id text NOT NULL,\n\
         \x20   sync_run_1_id uuid NOT NULL,\n\
         \x20   sync_run_2_id uuid NOT NULL,\n\
         \x20   started_at timestamptz NOT NULL DEFAULT now(),\n\
         \x20   completed_at timestamptz,\n\
         \x20   status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'failed')),\n\
         \x20   total_schemas_changed integer NOT NULL DEFAULT 0,\n\
         \x20   total_tables_changed integer NOT NULL DEFAULT 0,\n\
         \x20   total_columns_changed integer NOT NULL DEFAULT 0,\n\
         \x20   error_message text,\n\
         \x20   created_at timestamptz NOT NULL DEFAULT now()\n\
         );\n\
         CREATE INDEX IF NOT EXISTS diff_sync_runs_by_connection ON {q}.diff_sync_runs (connection_id, started_at);\n"
    );
    sql += &change_table(
        "incremental_diff_schema",
        "    schema_name text NOT NULL,\n",
    );
    sql += &change_table(
        "incremental_diff_table",
        "    schema_name text NOT NULL,\n    table_name text NOT NULL,\n",
    );
    sql += &change_table(
        "incremental_diff_column",
        "    schema_name text NOT NULL,\n    table_name text NOT NULL,\n    column_name text NOT NULL,\n",
    );
    sql += &format!(
        "CREATE OR REPLACE VIEW {q}.diff_summary AS\n\
         SELECT r.diff_sync_id, r.connection_id, r.sync_run_1_id, r.sync_run_2_id, r.status,\n\
         \x20      r.started_at, r.completed_at,\n"
    );
    for (asset, plural) in [
        ("schema", "schemas"),
        ("table", "tables"),
        ("column", "columns"),
    ] {
        for change in ["added", "removed", "modified"] {
            sql += &count(
                &format!("incremental_diff_{asset}"),
                change,
                &format!("{plural}_{change}"),
            );
        }
    }
    sql += &format!(
        "       r.total_schemas_changed + r.total_tables_changed + r.total_columns_changed AS total_changes\n\
         FROM {q}.diff_sync_runs r;\n"
    );
    sql
}

/// A connection to the PostgreSQL database diffs are written to.
pub struct PgDiffOutput {
    conn: PgConnection,
    target: String,
    schema: String,
    quoted: String,
}

impl PgDiffOutput {
    /// Connects and creates the output schema, tables and view if missing.
    ///
    /// `password` as for [`crate::connect`]; `schema` is checked with
    /// [`validate_schema_name`].
    pub async fn open(
        spec: &ConnectionSpec,
        password: Option<&str>,
        schema: &str,
    ) -> Result<PgDiffOutput, DbError> {
        let ConnectionSpec::Postgres(server) = spec else {
            return Err(DbError::Unsupported {
                target: spec.redacted(),
                what: format!(
                    "writing incremental diffs to {} (the output must be PostgreSQL)",
                    spec.kind()
                ),
            });
        };
        validate_schema_name(schema).map_err(|reason| DbError::InvalidSpec {
            input: spec.redacted(),
            reason,
        })?;
        let conn = Postgres::connect(spec, server, password).await?.conn;
        let mut output = PgDiffOutput {
            conn,
            target: spec.redacted(),
            schema: schema.to_string(),
            quoted: quote_ident(schema),
        };
        output.prepare().await?;
        Ok(output)
    }

    /// The output database's URL, without credentials.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The output schema.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    async fn prepare(&mut self) -> Result<(), DbError> {
        let target = self.target.clone();
        let action = format!("creating the output schema {}", self.schema);
        let mut tx = self
            .conn
            .begin()
            .await
            .map_err(query_err(&target, &action))?;
        // `IF NOT EXISTS` is not safe against a concurrent creator (both
        // can pass the check); the lock makes the second one wait and then
        // find everything in place.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('tidemark diff output ' || $1))")
            .bind(&self.schema)
            .execute(&mut *tx)
            .await
            .map_err(query_err(&target, &action))?;
        sqlx::raw_sql(&ddl(&self.quoted))
            .execute(&mut *tx)
            .await
            .map_err(query_err(&target, &action))?;
        tx.commit().await.map_err(query_err(&target, &action))?;
        tracing::debug!(target = %self.target, schema = %self.schema, "diff output schema ready");
        Ok(())
    }

    /// Records a diff as `running` (committed at once).
    pub async fn begin_run(&mut self, run: &OutputRun<'_>) -> Result<(), DbError> {
        let sql = format!(
            "INSERT INTO {}.diff_sync_runs \
                (diff_sync_id, connection_id, sync_run_1_id, sync_run_2_id, started_at, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'running', $5)",
            self.quoted
        );
        sqlx::query(&sql)
            .bind(run.diff_sync_id)
            .bind(run.connection_id)
            .bind(run.sync_run_1_id)
            .bind(run.sync_run_2_id)
            .bind(run.started_at)
            .execute(&mut self.conn)
            .await
            .map_err(query_err(&self.target, "recording the diff run"))?;
        Ok(())
    }

    /// Inserts every change row of a diff and marks it completed, in one
    /// transaction: on any error nothing of it is left and the run stays
    /// `running` for [`fail_run`](Self::fail_run) to mark.
    pub async fn write_changes(
        &mut self,
        diff_sync_id: Uuid,
        changes: &[OutputChange<'_>],
        totals: OutputTotals,
        completed_at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let target = self.target.clone();
        let quoted = self.quoted.clone();
        let mut tx = self
            .conn
            .begin()
            .await
            .map_err(query_err(&target, "starting the diff transaction"))?;
        let outcome = async {
            for asset in OutputAsset::ALL {
                let rows: Vec<&OutputChange<'_>> =
                    changes.iter().filter(|c| c.asset == asset).collect();
                for chunk in rows.chunks(CHUNK) {
                    insert_chunk(&mut tx, &quoted, diff_sync_id, asset, chunk)
                        .await
                        .map_err(|e| DbError::Query {
                            target: target.clone(),
                            action: format!("writing {} rows", asset.table()),
                            message: sqlx_message(&e),
                        })?;
                }
            }
            let updated = sqlx::query(&format!(
                "UPDATE {quoted}.diff_sync_runs SET status = 'completed', completed_at = $2, \
                    total_schemas_changed = $3, total_tables_changed = $4, \
                    total_columns_changed = $5, error_message = NULL \
                 WHERE diff_sync_id = $1"
            ))
            .bind(diff_sync_id)
            .bind(completed_at)
            .bind(totals.schemas as i32)
            .bind(totals.tables as i32)
            .bind(totals.columns as i32)
            .execute(&mut *tx)
            .await
            .map_err(query_err(&target, "completing the diff run"))?;
            if updated.rows_affected() != 1 {
                return Err(DbError::Query {
                    target: target.clone(),
                    action: "completing the diff run".into(),
                    message: format!("diff run {diff_sync_id} is missing from diff_sync_runs"),
                });
            }
            Ok(())
        }
        .await;
        match outcome {
            Ok(()) => tx
                .commit()
                .await
                .map_err(query_err(&target, "committing the diff")),
            Err(e) => {
                // Rolling back explicitly frees the connection for fail_run;
                // if the connection is gone the server has rolled back anyway.
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }

    /// Marks a diff failed with the error that stopped it.
    pub async fn fail_run(
        &mut self,
        diff_sync_id: Uuid,
        message: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let sql = format!(
            "UPDATE {}.diff_sync_runs SET status = 'failed', completed_at = $2, error_message = $3 \
             WHERE diff_sync_id = $1",
            self.quoted
        );
        sqlx::query(&sql)
            .bind(diff_sync_id)
            .bind(at)
            .bind(message)
            .execute(&mut self.conn)
            .await
            .map_err(query_err(&self.target, "marking the diff run failed"))?;
        Ok(())
    }

    /// The change rows of a diff: schemas, then tables, then columns, each
    /// by name.
    pub async fn read_changes(&mut self, diff_sync_id: Uuid) -> Result<Vec<StoredChange>, DbError> {
        let mut out = Vec::new();
        for asset in OutputAsset::ALL {
            let (table_col, column_col) = match asset {
                OutputAsset::Schema => ("NULL::text", "NULL::text"),
                OutputAsset::Table => ("table_name", "NULL::text"),
                OutputAsset::Column => ("table_name", "column_name"),
            };
            let sql = format!(
                "SELECT diff_id, schema_name, {table_col}, {column_col}, change_type, \
                        sync_run_1_data::text, sync_run_2_data::text, differences::text, created_at \
                 FROM {}.{} WHERE diff_sync_id = $1 \
                 ORDER BY schema_name, {table_col}, {column_col}",
                self.quoted,
                asset.table()
            );
            let rows = sqlx::query(&sql)
                .bind(diff_sync_id)
                .fetch_all(&mut self.conn)
                .await
                .map_err(query_err(&self.target, "reading diff rows"))?;
            for row in rows {
                let json = |i: usize| -> Result<Option<Value>, DbError> {
                    row.get::<Option<String>, _>(i)
                        .map(|t| serde_json::from_str(&t))
                        .transpose()
                        .map_err(|e| DbError::Query {
                            target: self.target.clone(),
                            action: "reading diff rows".into(),
                            message: format!("a JSON column is unreadable: {e}"),
                        })
                };
                out.push(StoredChange {
                    diff_id: row.get(0),
                    asset,
                    schema_name: row.get(1),
                    table_name: row.get(2),
                    column_name: row.get(3),
                    change_type: row.get(4),
                    sync_run_1_data: json(5)?,
                    sync_run_2_data: json(6)?,
                    differences: json(7)?,
                    created_at: row.get(8),
                });
            }
        }
        Ok(out)
    }

    /// Closes the connection politely.
    pub async fn close(self) -> Result<(), DbError> {
        let target = self.target;
        self.conn
            .close()
            .await
            .map_err(query_err(&target, "closing the connection"))
    }
}

/// One multi-row insert: every column travels as one array parameter, so
/// the statement text (and the server's plan) is the same for any row count.
async fn insert_chunk(
    conn: &mut PgConnection,
    quoted: &str,
    diff_sync_id: Uuid,
    asset: OutputAsset,
    rows: &[&OutputChange<'_>],
) -> Result<(), sqlx::Error> {
    let text = |v: Option<&Value>| v.map(Value::to_string);
    let ids: Vec<Uuid> = rows.iter().map(|c| c.diff_id).collect();
    let schemas: Vec<&str> = rows.iter().map(|c| c.schema_name).collect();
    let tables: Vec<Option<&str>> = rows.iter().map(|c| c.table_name).collect();
    let columns: Vec<Option<&str>> = rows.iter().map(|c| c.column_name).collect();
    let changes: Vec<&str> = rows.iter().map(|c| c.change_type).collect();
    let old: Vec<Option<String>> = rows.iter().map(|c| text(c.sync_run_1_data)).collect();
    let new: Vec<Option<String>> = rows.iter().map(|c| text(c.sync_run_2_data)).collect();
    let diffs: Vec<Option<String>> = rows.iter().map(|c| text(c.differences)).collect();
    let created: Vec<DateTime<Utc>> = rows.iter().map(|c| c.created_at).collect();
    let (names, values) = match asset {
        OutputAsset::Schema => ("schema_name", "u.s"),
        OutputAsset::Table => ("schema_name, table_name", "u.s, u.t"),
        OutputAsset::Column => ("schema_name, table_name, column_name", "u.s, u.t, u.c"),
    };
    let sql = format!(
        "INSERT INTO {quoted}.{table} (diff_id, diff_sync_id, {names}, change_type, \
            sync_run_1_data, sync_run_2_data, differences, created_at) \
         SELECT u.id, $1, {values}, u.ch, u.d1::jsonb, u.d2::jsonb, u.df::jsonb, u.at \
         FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], \
                     $7::text[], $8::text[], $9::text[], $10::timestamptz[]) \
              AS u(id, s, t, c, ch, d1, d2, df, at)",
        table = asset.table()
    );
    sqlx::query(&sql)
        .bind(diff_sync_id)
        .bind(ids)
        .bind(schemas)
        .bind(tables)
        .bind(columns)
        .bind(changes)
        .bind(old)
        .bind(new)
        .bind(diffs)
        .bind(created)
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_quoted_and_checked() {
        assert_eq!(quote_ident("meta"), "\"meta\"");
        assert_eq!(
            quote_ident("x\"; DROP SCHEMA public; --"),
            "\"x\"\"; DROP SCHEMA public; --\""
        );
        assert!(validate_schema_name("tidemark_meta").is_ok());
        assert!(validate_schema_name(" ").is_err());
        assert!(validate_schema_name(&"s".repeat(64)).is_err());
        assert!(validate_schema_name("a\0b").is_err());
    }

    #[test]
    fn ddl_puts_every_object_in_the_quoted_schema() {
        let sql = ddl("\"My Meta\"");
        for table in [
            "diff_sync_runs",
            "incremental_diff_schema",
            "incremental_diff_table",
            "incremental_diff_column",
            "diff_summary",
        ] {
            assert!(sql.contains(&format!("\"My Meta\".{table}")), "{table}");
        }
        assert!(sql.contains("columns_modified"));
        assert!(sql.contains("diff_id uuid PRIMARY KEY"));
        assert!(sql.contains("differences jsonb"));
    }
}
