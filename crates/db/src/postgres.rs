//! PostgreSQL through sqlx.
//!
//! Introspection is one set-based catalog query per kind of object (schemas,
//! tables, columns, constraints, indexes) whatever the number of tables, so
//! a database with thousands of tables reads in well under a second on a
//! local server.
//!
//! What the model cannot hold is left out on purpose: partitions (their
//! parent is read), generated-column expressions (the column is read as a
//! plain column with no default), index predicates, `INCLUDE` columns and
//! sort orders, exclusion constraints.

use crate::build::{self, RawColumn, RawForeignKey, RawIndex, RawKey, RawTable};
use crate::error::{query_err, scrub, sqlx_message, DbError, ExecError};
use crate::spec::{ConnectionSpec, ServerSpec};
use crate::{Database, RowCount};
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::{Connection, Row};
use std::collections::HashMap;
use tidemark_model::{State, TableRef};
use tidemark_sql::{dialect, DialectKind};

/// A PostgreSQL connection.
pub(crate) struct Postgres {
    pub(crate) conn: PgConnection,
    target: String,
}

/// Only ordinary and partitioned tables of the schemas in `$1`; partitions
/// are read through their parent.
const TABLE_FILTER: &str = "c.relkind IN ('r', 'p') AND NOT c.relispartition \
     AND n.nspname = ANY($1::text[])";

impl Postgres {
    pub(crate) async fn connect(
        spec: &ConnectionSpec,
        server: &ServerSpec,
        password: Option<&str>,
    ) -> Result<Self, DbError> {
        let target = spec.redacted();
        let connect_err = |message: String| DbError::Connect {
            target: target.clone(),
            message: scrub(message, password),
        };
        // Never read ~/.pgpass: the app decides where passwords come from.
        let mut options = PgConnectOptions::new_without_pgpass()
            .host(&server.host)
            .port(server.port)
            .database(&server.database)
            .application_name("tidemark");
        if let Some(user) = &server.user {
            options = options.username(user);
        }
        if let Some(password) = password {
            options = options.password(password);
        }
        if let Some(mode) = server.params.get("sslmode") {
            let mode: PgSslMode = mode
                .parse()
                .map_err(|_| connect_err(format!("unknown sslmode `{mode}`")))?;
            options = options.ssl_mode(mode);
        }
        let conn = tokio::time::timeout(
            crate::connect_timeout(server),
            PgConnection::connect_with(&options),
        )
        .await
        .map_err(|_| connect_err("timed out".into()))?
        .map_err(|e| connect_err(sqlx_message(&e)))?;
        Ok(Postgres { conn, target })
    }
}

#[async_trait]
impl Database for Postgres {
    fn kind(&self) -> DialectKind {
        DialectKind::Postgres
    }

    fn target(&self) -> &str {
        &self.target
    }

    async fn ping(&mut self) -> Result<(), DbError> {
        self.conn.ping().await.map_err(|e| DbError::Query {
            target: self.target.clone(),
            action: "ping".into(),
            message: sqlx_message(&e),
        })
    }

    async fn introspect(&mut self, schemas: &[String]) -> Result<State, DbError> {
        let target = self.target.clone();
        let err = |action: &'static str| query_err(&target, action);
        let catalog: String = sqlx::query_scalar("SELECT current_database()::text")
            .fetch_one(&mut self.conn)
            .await
            .map_err(err("reading the database name"))?;

        // With no list, every user schema; a schema asked for by name is read
        // even when it is a system one.
        let schema_rows = sqlx::query(
            "SELECT n.nspname::text, d.description \
             FROM pg_catalog.pg_namespace n \
             LEFT JOIN pg_catalog.pg_description d \
               ON d.objoid = n.oid AND d.classoid = 'pg_catalog.pg_namespace'::regclass \
             WHERE (cardinality($1::text[]) = 0 \
                    AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema') \
                OR n.nspname = ANY($1::text[])",
        )
        .bind(schemas)
        .fetch_all(&mut self.conn)
        .await
        .map_err(err("reading schemas"))?;
        let mut schema_list = Vec::with_capacity(schema_rows.len());
        let mut schema_names = Vec::with_capacity(schema_rows.len());
        for row in schema_rows {
            let name: String = row.get(0);
            schema_names.push(name.clone());
            schema_list.push((name, build::comment(row.get(1))));
        }

        let table_rows = sqlx::query(&format!(
            "SELECT c.oid::int8, n.nspname::text, c.relname::text, d.description \
             FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_catalog.pg_description d \
               ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::regclass \
              AND d.objsubid = 0 \
             WHERE {TABLE_FILTER}"
        ))
        .bind(&schema_names)
        .fetch_all(&mut self.conn)
        .await
        .map_err(err("reading tables"))?;
        let mut tables: HashMap<i64, RawTable> = HashMap::with_capacity(table_rows.len());
        for row in table_rows {
            tables.insert(
                row.get(0),
                RawTable {
                    schema: row.get(1),
                    name: row.get(2),
                    comment: build::comment(row.get(3)),
                    ..Default::default()
                },
            );
        }

        // A serial column is an integer whose default calls nextval() on a
        // sequence the column owns (pg_depend 'a'); it reads as identity with
        // no default, like an identity column, since that is what it means.
        let column_rows = sqlx::query(&format!(
            "SELECT a.attrelid::int8, a.attname::text, \
                    pg_catalog.format_type(a.atttypid, a.atttypmod), \
                    a.attnotnull, pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), \
                    a.attidentity::text, a.attgenerated::text, d.description, \
                    (ad.adbin IS NOT NULL AND EXISTS ( \
                        SELECT 1 FROM pg_catalog.pg_depend dep \
                        JOIN pg_catalog.pg_class s ON s.oid = dep.objid AND s.relkind = 'S' \
                        WHERE dep.classid = 'pg_catalog.pg_class'::regclass \
                          AND dep.refclassid = 'pg_catalog.pg_class'::regclass \
                          AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum \
                          AND dep.deptype = 'a')) \
             FROM pg_catalog.pg_attribute a \
             JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
             LEFT JOIN pg_catalog.pg_description d \
               ON d.objoid = a.attrelid AND d.classoid = 'pg_catalog.pg_class'::regclass \
              AND d.objsubid = a.attnum \
             WHERE a.attnum > 0 AND NOT a.attisdropped AND {TABLE_FILTER} \
             ORDER BY a.attrelid, a.attnum"
        ))
        .bind(&schema_names)
        .fetch_all(&mut self.conn)
        .await
        .map_err(err("reading columns"))?;
        for row in column_rows {
            let Some(table) = tables.get_mut(&row.get::<i64, _>(0)) else {
                continue;
            };
            let native: String = row.get(2);
            let not_null: bool = row.get(3);
            let default: Option<String> = row.get(4);
            let attidentity: String = row.get(5);
            let generated: String = row.get(6);
            let owns_sequence: bool = row.get(8);
            let serial = owns_sequence
                && default
                    .as_deref()
                    .is_some_and(|d| d.starts_with("nextval("));
            let identity = !attidentity.is_empty() || serial;
            let default = if identity || !generated.is_empty() {
                None
            } else {
                default
            };
            table.columns.push(RawColumn {
                name: row.get(1),
                data_type: dialect(DialectKind::Postgres).parse_native_type(&native),
                nullable: !not_null,
                default,
                comment: build::comment(row.get(7)),
                identity,
            });
        }

        let constraint_rows = sqlx::query(&format!(
            "SELECT con.conrelid::int8, con.conname::text, con.contype::text, \
                    ARRAY(SELECT att.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(num, ord) \
                          JOIN pg_catalog.pg_attribute att \
                            ON att.attrelid = con.conrelid AND att.attnum = k.num \
                          ORDER BY k.ord), \
                    fn.nspname::text, fc.relname::text, \
                    ARRAY(SELECT att.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(num, ord) \
                          JOIN pg_catalog.pg_attribute att \
                            ON att.attrelid = con.confrelid AND att.attnum = k.num \
                          ORDER BY k.ord), \
                    con.confdeltype::text, con.confupdtype::text, \
                    CASE WHEN con.contype = 'c' \
                         THEN pg_catalog.pg_get_constraintdef(con.oid, true) END \
             FROM pg_catalog.pg_constraint con \
             JOIN pg_catalog.pg_class c ON c.oid = con.conrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid \
             LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace \
             WHERE con.contype IN ('p', 'u', 'f', 'c') AND {TABLE_FILTER}"
        ))
        .bind(&schema_names)
        .fetch_all(&mut self.conn)
        .await
        .map_err(err("reading constraints"))?;
        for row in constraint_rows {
            let Some(table) = tables.get_mut(&row.get::<i64, _>(0)) else {
                continue;
            };
            let name: String = row.get(1);
            let kind: String = row.get(2);
            let columns: Vec<String> = row.get(3);
            match kind.as_str() {
                "p" => table.primary_key = Some(RawKey { name, columns }),
                "u" => table.uniques.push(RawKey { name, columns }),
                "f" => table.foreign_keys.push(RawForeignKey {
                    name,
                    columns,
                    ref_schema: row.get(4),
                    ref_table: row.get(5),
                    ref_columns: row.get(6),
                    on_delete: pg_action(&row.get::<String, _>(7)),
                    on_update: pg_action(&row.get::<String, _>(8)),
                }),
                _ => {
                    let def: String = row.get(9);
                    table
                        .checks
                        .push((name, crate::sqltext::check_expression(&def)));
                }
            }
        }

        // Indexes that back a primary key, unique or exclusion constraint are
        // implied by the constraint, not secondary indexes. Key columns that
        // are expressions come back as their SQL text.
        let index_rows = sqlx::query(&format!(
            "SELECT i.indrelid::int8, ic.relname::text, i.indisunique, \
                    ARRAY(SELECT CASE WHEN i.indkey[k.k - 1] = 0 \
                                      THEN pg_catalog.pg_get_indexdef(i.indexrelid, k.k, true) \
                                      ELSE (SELECT att.attname::text FROM pg_catalog.pg_attribute att \
                                            WHERE att.attrelid = i.indrelid \
                                              AND att.attnum = i.indkey[k.k - 1]) END \
                          FROM generate_series(1, i.indnkeyatts) AS k(k) ORDER BY k.k) \
             FROM pg_catalog.pg_index i \
             JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid \
             JOIN pg_catalog.pg_class c ON c.oid = i.indrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_catalog.pg_constraint con \
               ON con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x') \
             WHERE con.oid IS NULL AND {TABLE_FILTER}"
        ))
        .bind(&schema_names)
        .fetch_all(&mut self.conn)
        .await
        .map_err(err("reading indexes"))?;
        for row in index_rows {
            let Some(table) = tables.get_mut(&row.get::<i64, _>(0)) else {
                continue;
            };
            table.indexes.push(RawIndex {
                name: row.get(1),
                unique: row.get(2),
                columns: row.get(3),
            });
        }

        Ok(build::assemble(
            &catalog,
            schema_list,
            tables.into_values().collect(),
        ))
    }

    async fn execute(
        &mut self,
        statements: &[String],
        transactional: bool,
    ) -> Result<(), ExecError> {
        let target = self.target.clone();
        let failed = |index: usize, e: sqlx::Error, rolled_back: bool| ExecError::Statement {
            target: target.clone(),
            index,
            total: statements.len(),
            sql: statements[index].clone(),
            message: sqlx_message(&e),
            rolled_back,
        };
        if !transactional {
            for (index, sql) in statements.iter().enumerate() {
                sqlx::Executor::execute(&mut self.conn, sqlx::raw_sql(sql))
                    .await
                    .map_err(|e| failed(index, e, false))?;
            }
            return Ok(());
        }
        let mut tx = self
            .conn
            .begin()
            .await
            .map_err(query_err(&target, "beginning a transaction"))?;
        for (index, sql) in statements.iter().enumerate() {
            if let Err(e) = sqlx::Executor::execute(&mut *tx, sqlx::raw_sql(sql)).await {
                // Dropping an open transaction rolls it back too, but an
                // explicit rollback reports a broken connection.
                let rolled_back = tx.rollback().await.is_ok();
                return Err(failed(index, e, rolled_back));
            }
        }
        tx.commit()
            .await
            .map_err(query_err(&target, "committing the transaction"))?;
        Ok(())
    }

    async fn query_text(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError> {
        let rows = sqlx::query(sql)
            .fetch_all(&mut self.conn)
            .await
            .map_err(query_err(&self.target, "reading rows"))?;
        Ok(rows
            .iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| {
                        row.try_get::<Option<String>, _>(i)
                            .or_else(|_| {
                                row.try_get::<Option<i64>, _>(i)
                                    .map(|v| v.map(|v| v.to_string()))
                            })
                            .or_else(|_| {
                                row.try_get::<Option<i32>, _>(i)
                                    .map(|v| v.map(|v| v.to_string()))
                            })
                            .or_else(|_| {
                                row.try_get::<Option<bool>, _>(i)
                                    .map(|v| v.map(|v| v.to_string()))
                            })
                            .unwrap_or(None)
                    })
                    .collect()
            })
            .collect())
    }

    async fn table_stats(&mut self, schemas: &[String]) -> Result<Vec<crate::TableStats>, DbError> {
        crate::table_stats::postgres(&mut self.conn, &self.target, schemas).await
    }

    async fn row_counts(&mut self, tables: &[TableRef]) -> Result<Vec<RowCount>, DbError> {
        let mut counts = Vec::with_capacity(tables.len());
        for t in tables {
            let sql = format!(
                "SELECT count(*) FROM {}.{}",
                dialect(DialectKind::Postgres).quote_ident(&t.schema),
                dialect(DialectKind::Postgres).quote_ident(&t.table)
            );
            let rows: i64 = sqlx::query_scalar(&sql)
                .fetch_one(&mut self.conn)
                .await
                .map_err(|e| match &e {
                    sqlx::Error::Database(db) if db.code().as_deref() == Some("42P01") => {
                        DbError::NoSuchTable {
                            target: self.target.clone(),
                            schema: t.schema.clone(),
                            table: t.table.clone(),
                        }
                    }
                    _ => DbError::Query {
                        target: self.target.clone(),
                        action: format!("counting rows of {}.{}", t.schema, t.table),
                        message: sqlx_message(&e),
                    },
                })?;
            counts.push(RowCount {
                table: t.clone(),
                rows: rows.max(0) as u64,
            });
        }
        Ok(counts)
    }

    async fn close(self: Box<Self>) -> Result<(), DbError> {
        let target = self.target.clone();
        self.conn.close().await.map_err(|e| DbError::Query {
            target,
            action: "closing the connection".into(),
            message: sqlx_message(&e),
        })
    }
}

/// `pg_constraint.confdeltype` / `confupdtype` codes.
fn pg_action(code: &str) -> tidemark_model::FkAction {
    use tidemark_model::FkAction;
    match code {
        "r" => FkAction::Restrict,
        "c" => FkAction::Cascade,
        "n" => FkAction::SetNull,
        "d" => FkAction::SetDefault,
        _ => FkAction::NoAction,
    }
}
