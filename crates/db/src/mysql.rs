//! MySQL and MariaDB through sqlx.
//!
//! A MySQL "schema" is a database: by default the connected database is read
//! as the one schema, and the catalog carries its name too. Other databases
//! on the same server can be read by naming them as schemas.
//!
//! Catalog facts worth knowing when comparing with a project:
//! - the primary key is always named `PRIMARY`;
//! - every unique index is a unique constraint (MySQL has no other kind);
//! - an index MySQL created by itself for a foreign key (same name as the
//!   key) is implied by the key and not listed as an index;
//! - a foreign key declared without actions reads as `RESTRICT`, which is
//!   what InnoDB reports and does;
//! - MariaDB stores JSON as `longtext` plus a `json_valid()` check named
//!   after the column (a rename keeps the old name); a `longtext` column
//!   with that check reads back as one `json` column;
//! - index prefix lengths (`name(10)`) and functional index parts on MariaDB
//!   are not represented.
//!
//! DDL commits implicitly, so [`Database::execute`] always runs statement by
//! statement here.

use crate::build::{self, RawColumn, RawForeignKey, RawIndex, RawKey, RawTable};
use crate::error::{query_err, scrub, sqlx_message, DbError, ExecError};
use crate::spec::{ConnectionSpec, ServerSpec};
use crate::{Database, RowCount};
use async_trait::async_trait;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlRow, MySqlSslMode};
use sqlx::{Connection, Row};
use std::collections::{BTreeMap, HashMap, HashSet};
use tidemark_model::{DataType, State, TableRef};
use tidemark_sql::{dialect, DialectKind};

/// A MySQL or MariaDB connection.
pub(crate) struct MySql {
    conn: MySqlConnection,
    target: String,
    mariadb: bool,
}

type Key = (String, String);

impl MySql {
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
        // sqlx adds PIPES_AS_CONCAT and NO_ENGINE_SUBSTITUTION to the session
        // sql_mode by default; a schema tool must see and run DDL exactly as
        // the server's own mode would (`||` in a CHECK means OR there).
        let mut options = MySqlConnectOptions::new()
            .host(&server.host)
            .port(server.port)
            .database(&server.database)
            .pipes_as_concat(false)
            .no_engine_substitution(false);
        if let Some(user) = &server.user {
            options = options.username(user);
        }
        if let Some(password) = password {
            options = options.password(password);
        }
        if let Some(mode) = server.params.get("ssl-mode") {
            let mode: MySqlSslMode = mode
                .parse()
                .map_err(|_| connect_err(format!("unknown ssl-mode `{mode}`")))?;
            options = options.ssl_mode(mode);
        }
        let mut conn = tokio::time::timeout(
            crate::connect_timeout(server),
            MySqlConnection::connect_with(&options),
        )
        .await
        .map_err(|_| connect_err("timed out".into()))?
        .map_err(|e| connect_err(sqlx_message(&e)))?;
        let version: String = sqlx::query_scalar("SELECT CAST(VERSION() AS CHAR)")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| connect_err(sqlx_message(&e)))?;
        Ok(MySql {
            conn,
            target,
            mariadb: version.to_ascii_lowercase().contains("mariadb"),
        })
    }

    /// The driver connection, for the data-transfer module.
    pub(crate) fn into_conn(self) -> MySqlConnection {
        self.conn
    }
}

/// Reads a text column whatever its collation: information_schema columns
/// come back as binary strings on some servers, which sqlx will not decode as
/// `String`.
fn text(row: &MySqlRow, index: usize) -> Option<String> {
    row.try_get::<Option<Vec<u8>>, _>(index)
        .ok()
        .flatten()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn text_or_empty(row: &MySqlRow, index: usize) -> String {
    text(row, index).unwrap_or_default()
}

/// Reads an integer column, signed or unsigned.
fn int(row: &MySqlRow, index: usize) -> i64 {
    row.try_get::<i64, _>(index)
        .or_else(|_| row.try_get::<u64, _>(index).map(|v| v as i64))
        .unwrap_or(0)
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// A `COLUMN_DEFAULT` as SQL text.
///
/// MariaDB reports defaults as expressions already (`'new'`, `0`,
/// `current_timestamp()`, and `NULL` for an explicit `DEFAULT NULL`). MySQL
/// reports literals unquoted and marks expressions `DEFAULT_GENERATED`, so
/// string literals are quoted here.
fn default_sql(
    raw: Option<String>,
    mariadb: bool,
    extra: &str,
    data_type: &DataType,
) -> Option<String> {
    let raw = raw?;
    if mariadb {
        return (raw != "NULL").then_some(raw);
    }
    let numeric = matches!(
        data_type,
        DataType::Boolean
            | DataType::SmallInt
            | DataType::Integer
            | DataType::BigInt
            | DataType::Decimal { .. }
            | DataType::Real
            | DataType::Double
    );
    if extra.to_ascii_uppercase().contains("DEFAULT_GENERATED")
        || raw.eq_ignore_ascii_case("CURRENT_TIMESTAMP")
        || (numeric && raw.parse::<f64>().is_ok())
    {
        Some(raw)
    } else {
        Some(format!("'{}'", raw.replace('\'', "''")))
    }
}

#[async_trait]
impl Database for MySql {
    fn kind(&self) -> DialectKind {
        DialectKind::Mysql
    }

    fn target(&self) -> &str {
        &self.target
    }

    async fn ping(&mut self) -> Result<(), DbError> {
        self.conn
            .ping()
            .await
            .map_err(query_err(&self.target, "ping"))
    }

    async fn introspect(&mut self, schemas: &[String]) -> Result<State, DbError> {
        let target = self.target.clone();
        let err = |action: &'static str| query_err(&target, action);
        let catalog: String = sqlx::query_scalar("SELECT CAST(DATABASE() AS CHAR)")
            .fetch_one(&mut self.conn)
            .await
            .map_err(err("reading the database name"))?;
        let wanted: Vec<String> = if schemas.is_empty() {
            vec![catalog.clone()]
        } else {
            schemas.to_vec()
        };
        let marks = placeholders(wanted.len());
        macro_rules! fetch {
            ($sql:expr, $action:literal) => {{
                let sql = $sql;
                let mut q = sqlx::query(&sql);
                for s in &wanted {
                    q = q.bind(s);
                }
                q.fetch_all(&mut self.conn).await.map_err(err($action))
            }};
        }

        let schema_rows = fetch!(
            format!(
                "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN ({marks})"
            ),
            "reading schemas"
        )?;
        let schema_list: Vec<(String, Option<String>)> = schema_rows
            .iter()
            .map(|r| (text_or_empty(r, 0), None))
            .collect();

        // MariaDB's system-versioned tables are base tables too.
        let table_rows = fetch!(
            format!(
                "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_COMMENT FROM information_schema.TABLES \
                 WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') AND TABLE_SCHEMA IN ({marks})"
            ),
            "reading tables"
        )?;
        let mut tables: HashMap<Key, RawTable> = HashMap::with_capacity(table_rows.len());
        for r in &table_rows {
            let key = (text_or_empty(r, 0), text_or_empty(r, 1));
            tables.insert(
                key.clone(),
                RawTable {
                    schema: key.0,
                    name: key.1,
                    comment: build::comment(text(r, 2)),
                    ..Default::default()
                },
            );
        }

        let column_rows = fetch!(
            format!(
                "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, \
                        COLUMN_DEFAULT, EXTRA, COLUMN_COMMENT, GENERATION_EXPRESSION \
                 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN ({marks}) \
                 ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION"
            ),
            "reading columns"
        )?;
        // (schema, table, column) of longtext columns: candidates for
        // MariaDB's JSON alias.
        let mut longtext: HashSet<(String, String, String)> = HashSet::new();
        for r in &column_rows {
            let Some(table) = tables.get_mut(&(text_or_empty(r, 0), text_or_empty(r, 1))) else {
                continue;
            };
            let native = text_or_empty(r, 3);
            if native.eq_ignore_ascii_case("longtext") {
                longtext.insert((
                    table.schema.clone(),
                    table.name.clone(),
                    text_or_empty(r, 2),
                ));
            }
            let data_type = dialect(DialectKind::Mysql).parse_native_type(&native);
            let extra = text_or_empty(r, 6);
            let generated = text(r, 8).is_some_and(|g| !g.is_empty());
            let default = if generated {
                None
            } else {
                default_sql(text(r, 5), self.mariadb, &extra, &data_type)
            };
            table.columns.push(RawColumn {
                name: text_or_empty(r, 2),
                data_type,
                nullable: text_or_empty(r, 4) == "YES",
                default,
                comment: build::comment(text(r, 7)),
                identity: extra.to_ascii_lowercase().contains("auto_increment"),
            });
        }

        let fk_rows = fetch!(
            format!(
                "SELECT k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, \
                        k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, \
                        r.UPDATE_RULE, r.DELETE_RULE \
                 FROM information_schema.KEY_COLUMN_USAGE k \
                 JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
                   ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME \
                  AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
                 WHERE k.REFERENCED_TABLE_NAME IS NOT NULL AND k.TABLE_SCHEMA IN ({marks}) \
                 ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION"
            ),
            "reading foreign keys"
        )?;
        for r in &fk_rows {
            let Some(table) = tables.get_mut(&(text_or_empty(r, 0), text_or_empty(r, 1))) else {
                continue;
            };
            let name = text_or_empty(r, 2);
            let fk = match table.foreign_keys.iter_mut().find(|f| f.name == name) {
                Some(fk) => fk,
                None => {
                    table.foreign_keys.push(RawForeignKey {
                        name,
                        columns: Vec::new(),
                        ref_schema: text_or_empty(r, 4),
                        ref_table: text_or_empty(r, 5),
                        ref_columns: Vec::new(),
                        on_update: build::fk_action(&text_or_empty(r, 7)),
                        on_delete: build::fk_action(&text_or_empty(r, 8)),
                    });
                    table.foreign_keys.last_mut().expect("just pushed")
                }
            };
            fk.columns.push(text_or_empty(r, 3));
            fk.ref_columns.push(text_or_empty(r, 6));
        }

        // MySQL 8 can index expressions (COLUMN_NAME is NULL, EXPRESSION has
        // the text); MariaDB has no such column.
        let expression = if self.mariadb { "NULL" } else { "EXPRESSION" };
        let index_rows = fetch!(
            format!(
                "SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, {expression} \
                 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA IN ({marks}) \
                 ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
            ),
            "reading indexes"
        )?;
        // (table, index name) → (unique, columns), in index order.
        let mut indexes: BTreeMap<(Key, String), (bool, Vec<String>)> = BTreeMap::new();
        for r in &index_rows {
            let key = (text_or_empty(r, 0), text_or_empty(r, 1));
            let column = text(r, 4).or_else(|| text(r, 5)).unwrap_or_default();
            indexes
                .entry((key, text_or_empty(r, 2)))
                .or_insert_with(|| (int(r, 3) == 0, Vec::new()))
                .1
                .push(column);
        }
        for ((key, name), (unique, columns)) in indexes {
            let Some(table) = tables.get_mut(&key) else {
                continue;
            };
            if name == "PRIMARY" {
                table.primary_key = Some(RawKey { name, columns });
            } else if unique {
                table.uniques.push(RawKey { name, columns });
            } else if table
                .foreign_keys
                .iter()
                .any(|f| f.name == name && columns.starts_with(&f.columns))
            {
                // Created by the server for the foreign key of the same name.
            } else {
                table.indexes.push(RawIndex {
                    name,
                    columns,
                    unique: false,
                });
            }
        }

        // MariaDB scopes check names per table and lists the table; MySQL 8
        // scopes them per schema and needs TABLE_CONSTRAINTS for the table.
        let check_sql = if self.mariadb {
            format!(
                "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE \
                 FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA IN ({marks})"
            )
        } else {
            format!(
                "SELECT tc.TABLE_SCHEMA, tc.TABLE_NAME, tc.CONSTRAINT_NAME, cc.CHECK_CLAUSE \
                 FROM information_schema.TABLE_CONSTRAINTS tc \
                 JOIN information_schema.CHECK_CONSTRAINTS cc \
                   ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA \
                  AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME \
                 WHERE tc.CONSTRAINT_TYPE = 'CHECK' AND tc.TABLE_SCHEMA IN ({marks})"
            )
        };
        let check_rows = match fetch!(check_sql, "reading check constraints") {
            Ok(rows) => rows,
            // Servers before MySQL 8.0.16 have no CHECK_CONSTRAINTS view and
            // ignore CHECK clauses altogether: there is nothing to read.
            Err(DbError::Query { message, .. }) if message.contains("(code 42S02)") => Vec::new(),
            Err(e) => return Err(e),
        };
        for r in &check_rows {
            let Some(table) = tables.get_mut(&(text_or_empty(r, 0), text_or_empty(r, 1))) else {
                continue;
            };
            let name = text_or_empty(r, 2);
            let clause = text_or_empty(r, 3);
            let expression = crate::sqltext::strip_outer_parens(&clause).to_string();
            let (schema, table_name) = (table.schema.clone(), table.name.clone());
            // The check is named after the column when the column is made,
            // but keeps that name when the column is renamed: the expression
            // is what marks the column.
            let json_column = table.columns.iter_mut().find(|c| {
                longtext.contains(&(schema.clone(), table_name.clone(), c.name.clone()))
                    && expression.eq_ignore_ascii_case(&format!(
                        "json_valid({})",
                        dialect(DialectKind::Mysql).quote_ident(&c.name)
                    ))
            });
            match json_column {
                Some(column) => column.data_type = DataType::Json,
                None => table.checks.push((name, expression)),
            }
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
        _transactional: bool,
    ) -> Result<(), ExecError> {
        for (index, sql) in statements.iter().enumerate() {
            // Executor::execute returns a boxed future; the generic
            // RawSql::execute trips the Send check inside async_trait.
            if let Err(e) = sqlx::Executor::execute(&mut self.conn, sqlx::raw_sql(sql)).await {
                return Err(ExecError::Statement {
                    target: self.target.clone(),
                    index,
                    total: statements.len(),
                    sql: sql.clone(),
                    message: sqlx_message(&e),
                    rolled_back: false,
                });
            }
        }
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
                        text(row, i)
                            .or_else(|| {
                                row.try_get::<Option<i64>, _>(i)
                                    .ok()
                                    .flatten()
                                    .map(|v| v.to_string())
                            })
                            .or_else(|| {
                                row.try_get::<Option<u64>, _>(i)
                                    .ok()
                                    .flatten()
                                    .map(|v| v.to_string())
                            })
                    })
                    .collect()
            })
            .collect())
    }

    async fn table_stats(&mut self, schemas: &[String]) -> Result<Vec<crate::TableStats>, DbError> {
        // The same default as introspection: the connected database.
        let wanted = if schemas.is_empty() {
            let current: Option<String> = sqlx::query_scalar("SELECT CAST(DATABASE() AS CHAR)")
                .fetch_one(&mut self.conn)
                .await
                .map_err(query_err(&self.target, "reading the database name"))?;
            current.into_iter().collect()
        } else {
            schemas.to_vec()
        };
        crate::table_stats::mysql(&mut self.conn, &self.target, &wanted).await
    }

    async fn row_counts(&mut self, tables: &[TableRef]) -> Result<Vec<RowCount>, DbError> {
        let mut counts = Vec::with_capacity(tables.len());
        for t in tables {
            let sql = format!(
                "SELECT COUNT(*) FROM {}.{}",
                dialect(DialectKind::Mysql).quote_ident(&t.schema),
                dialect(DialectKind::Mysql).quote_ident(&t.table)
            );
            let row = sqlx::query(&sql)
                .fetch_one(&mut self.conn)
                .await
                .map_err(|e| match &e {
                    sqlx::Error::Database(db) if db.code().as_deref() == Some("42S02") => {
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
                rows: int(&row, 0).max(0) as u64,
            });
        }
        Ok(counts)
    }

    async fn close(self: Box<Self>) -> Result<(), DbError> {
        let target = self.target.clone();
        self.conn
            .close()
            .await
            .map_err(query_err(&target, "closing the connection"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_literal_defaults_are_quoted_and_expressions_kept() {
        let text = DataType::Varchar { length: Some(10) };
        assert_eq!(
            default_sql(Some("new".into()), false, "", &text).as_deref(),
            Some("'new'")
        );
        assert_eq!(
            default_sql(Some("it's".into()), false, "", &text).as_deref(),
            Some("'it''s'")
        );
        assert_eq!(
            default_sql(Some("0".into()), false, "", &DataType::Integer).as_deref(),
            Some("0")
        );
        assert_eq!(
            default_sql(Some("uuid()".into()), false, "DEFAULT_GENERATED", &text).as_deref(),
            Some("uuid()")
        );
        assert_eq!(default_sql(None, false, "", &text), None);
    }

    #[test]
    fn mariadb_defaults_are_expressions_already() {
        let text = DataType::Varchar { length: Some(10) };
        assert_eq!(
            default_sql(Some("'new'".into()), true, "", &text).as_deref(),
            Some("'new'")
        );
        assert_eq!(default_sql(Some("NULL".into()), true, "", &text), None);
    }
}
