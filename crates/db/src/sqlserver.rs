//! Microsoft SQL Server through tiberius.
//!
//! **Untested against a live server**: no SQL Server can run where this
//! crate's tests run, so this module is only compiled and unit-tested. The
//! catalog queries follow the documented `sys.*` views and mirror the
//! PostgreSQL reader: one query per kind of object, filtered to the wanted
//! schemas.
//!
//! Sign-in is SQL Server authentication (user + password); Windows and
//! Azure AD authentication are not supported. `encrypt=false` limits TLS to
//! the login; `trustservercertificate=true` accepts a self-signed
//! certificate. Comments are read from the `MS_Description` extended
//! property, the convention SQL Server tools use.

use crate::build::{self, RawColumn, RawForeignKey, RawIndex, RawKey, RawTable};
use crate::error::{scrub, DbError, ExecError};
use crate::spec::{ConnectionSpec, ServerSpec};
use crate::sqltext::strip_outer_parens;
use crate::{Database, RowCount};
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use tiberius::{AuthMethod, Client, Config, EncryptionLevel, Query, Row};
use tidemark_model::{State, TableRef};
use tidemark_sql::{dialect, DialectKind};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

/// A SQL Server connection.
pub(crate) struct SqlServer {
    client: Client<Compat<TcpStream>>,
    target: String,
}

impl SqlServer {
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
        let user = server.user.as_deref().ok_or_else(|| {
            connect_err("no user in the URL (only SQL Server authentication is supported)".into())
        })?;
        let mut config = Config::new();
        config.host(&server.host);
        config.port(server.port);
        config.database(&server.database);
        config.application_name("tidemark");
        config.authentication(AuthMethod::sql_server(user, password.unwrap_or("")));
        if let Some(instance) = server.params.get("instance") {
            config.instance_name(instance);
        }
        match server.params.get("encrypt").map(|s| s.to_ascii_lowercase()) {
            Some(v) if v == "false" || v == "no" => config.encryption(EncryptionLevel::Off),
            Some(v) if v == "strict" => config.encryption(EncryptionLevel::Strict),
            _ => config.encryption(EncryptionLevel::Required),
        }
        if server
            .params
            .get("trustservercertificate")
            .is_some_and(|v| v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("yes"))
        {
            config.trust_cert();
        }
        let timeout = crate::connect_timeout(server);
        let client = tokio::time::timeout(timeout, async {
            let mut addr = config.get_addr();
            // Azure SQL may redirect the login to another node; follow once.
            for _ in 0..2 {
                let tcp = TcpStream::connect(&addr)
                    .await
                    .map_err(|e| connect_err(e.to_string()))?;
                tcp.set_nodelay(true).ok();
                match Client::connect(config.clone(), tcp.compat_write()).await {
                    Ok(client) => return Ok(client),
                    Err(tiberius::error::Error::Routing { host, port }) => {
                        config.host(&host);
                        config.port(port);
                        addr = format!("{host}:{port}");
                    }
                    Err(e) => return Err(connect_err(e.to_string())),
                }
            }
            Err(connect_err("redirected more than once".into()))
        })
        .await
        .map_err(|_| connect_err("timed out".into()))??;
        Ok(SqlServer { client, target })
    }

    fn err(&self, action: &str, e: tiberius::error::Error) -> DbError {
        DbError::Query {
            target: self.target.clone(),
            action: action.to_string(),
            message: e.to_string(),
        }
    }

    /// Runs a query with string parameters `@P1…` and returns its rows.
    async fn rows(
        &mut self,
        sql: &str,
        params: &[String],
        action: &str,
    ) -> Result<Vec<Row>, DbError> {
        let mut query = Query::new(sql);
        for p in params {
            query.bind(p.as_str());
        }
        let result = match query.query(&mut self.client).await {
            Ok(stream) => stream.into_first_result().await,
            Err(e) => Err(e),
        };
        result.map_err(|e| self.err(action, e))
    }

    /// Runs a batch and drains it, so errors raised by any part surface.
    async fn batch(&mut self, sql: &str) -> Result<(), tiberius::error::Error> {
        self.client.simple_query(sql).await?.into_results().await?;
        Ok(())
    }
}

fn s(row: &Row, i: usize) -> String {
    row.get::<&str, _>(i).unwrap_or_default().to_string()
}

fn opt_s(row: &Row, i: usize) -> Option<String> {
    row.get::<&str, _>(i).map(str::to_string)
}

fn id(row: &Row, i: usize) -> i32 {
    row.get::<i32, _>(i).unwrap_or_default()
}

/// `@P1, @P2, …` for `n` parameters.
fn params(n: usize) -> String {
    (1..=n)
        .map(|i| format!("@P{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rebuilds the declared type from `sys.columns` sizes: `nvarchar(50)`,
/// `varchar(max)`, `decimal(10,2)`, `datetime2(3)`.
fn native_type_text(name: &str, max_length: i16, precision: u8, scale: u8) -> String {
    let len = |divisor: i16| {
        if max_length == -1 {
            "max".to_string()
        } else {
            (max_length / divisor).to_string()
        }
    };
    match name {
        "varchar" | "char" | "varbinary" | "binary" => format!("{name}({})", len(1)),
        "nvarchar" | "nchar" => format!("{name}({})", len(2)),
        "decimal" | "numeric" => format!("{name}({precision},{scale})"),
        "datetime2" | "time" | "datetimeoffset" => format!("{name}({scale})"),
        _ => name.to_string(),
    }
}

#[async_trait]
impl Database for SqlServer {
    fn kind(&self) -> DialectKind {
        DialectKind::SqlServer
    }

    fn target(&self) -> &str {
        &self.target
    }

    async fn ping(&mut self) -> Result<(), DbError> {
        match self.batch("SELECT 1").await {
            Ok(()) => Ok(()),
            Err(e) => Err(self.err("ping", e)),
        }
    }

    async fn introspect(&mut self, schemas: &[String]) -> Result<State, DbError> {
        let catalog_rows = self
            .rows("SELECT DB_NAME()", &[], "reading the database name")
            .await?;
        let catalog = catalog_rows.first().map(|r| s(r, 0)).unwrap_or_default();

        let filter = if schemas.is_empty() {
            "s.schema_id < 16384 AND s.name NOT IN ('sys', 'INFORMATION_SCHEMA', 'guest')"
                .to_string()
        } else {
            format!("s.name IN ({})", params(schemas.len()))
        };
        let schema_rows = self
            .rows(
                &format!(
                    "SELECT s.name, CAST(ep.value AS nvarchar(max)) FROM sys.schemas s \
                     LEFT JOIN sys.extended_properties ep ON ep.class = 3 \
                      AND ep.major_id = s.schema_id AND ep.minor_id = 0 \
                      AND ep.name = 'MS_Description' \
                     WHERE {filter}"
                ),
                schemas,
                "reading schemas",
            )
            .await?;
        let schema_list: Vec<(String, Option<String>)> = schema_rows
            .iter()
            .map(|r| (s(r, 0), build::comment(opt_s(r, 1))))
            .collect();
        let names: Vec<String> = schema_list.iter().map(|(n, _)| n.clone()).collect();
        if names.is_empty() {
            return Ok(build::assemble(&catalog, schema_list, Vec::new()));
        }
        let in_schemas = format!(
            "t.is_ms_shipped = 0 AND s.name IN ({})",
            params(names.len())
        );
        let from_tables = "sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id";

        let table_rows = self
            .rows(
                &format!(
                    "SELECT t.object_id, s.name, t.name, CAST(ep.value AS nvarchar(max)) \
                     FROM {from_tables} \
                     LEFT JOIN sys.extended_properties ep ON ep.class = 1 \
                      AND ep.major_id = t.object_id AND ep.minor_id = 0 \
                      AND ep.name = 'MS_Description' \
                     WHERE {in_schemas}"
                ),
                &names,
                "reading tables",
            )
            .await?;
        let mut tables: HashMap<i32, RawTable> = table_rows
            .iter()
            .map(|r| {
                (
                    id(r, 0),
                    RawTable {
                        schema: s(r, 1),
                        name: s(r, 2),
                        comment: build::comment(opt_s(r, 3)),
                        ..Default::default()
                    },
                )
            })
            .collect();

        let column_rows = self
            .rows(
                &format!(
                    "SELECT c.object_id, c.name, TYPE_NAME(c.user_type_id), c.max_length, \
                            c.precision, c.scale, c.is_nullable, c.is_identity, dc.definition, \
                            CAST(ep.value AS nvarchar(max)), c.is_computed \
                     FROM sys.columns c JOIN {from_tables} ON t.object_id = c.object_id \
                     LEFT JOIN sys.default_constraints dc ON dc.object_id = c.default_object_id \
                     LEFT JOIN sys.extended_properties ep ON ep.class = 1 \
                      AND ep.major_id = c.object_id AND ep.minor_id = c.column_id \
                      AND ep.name = 'MS_Description' \
                     WHERE {in_schemas} ORDER BY c.object_id, c.column_id"
                ),
                &names,
                "reading columns",
            )
            .await?;
        for r in &column_rows {
            let Some(table) = tables.get_mut(&id(r, 0)) else {
                continue;
            };
            let native = native_type_text(
                &s(r, 2),
                r.get::<i16, _>(3).unwrap_or_default(),
                r.get::<u8, _>(4).unwrap_or_default(),
                r.get::<u8, _>(5).unwrap_or_default(),
            );
            let computed = r.get::<bool, _>(10).unwrap_or(false);
            table.columns.push(RawColumn {
                name: s(r, 1),
                data_type: dialect(DialectKind::SqlServer).parse_native_type(&native),
                nullable: r.get::<bool, _>(6).unwrap_or(true),
                // SQL Server stores defaults wrapped in parentheses: ((0)).
                default: opt_s(r, 8)
                    .filter(|_| !computed)
                    .map(|d| strip_outer_parens(&d).to_string()),
                comment: build::comment(opt_s(r, 9)),
                identity: r.get::<bool, _>(7).unwrap_or(false),
            });
        }

        let key_rows = self
            .rows(
                &format!(
                    "SELECT kc.parent_object_id, kc.name, kc.type, col.name \
                     FROM sys.key_constraints kc \
                     JOIN sys.index_columns ic ON ic.object_id = kc.parent_object_id \
                      AND ic.index_id = kc.unique_index_id \
                     JOIN sys.columns col ON col.object_id = ic.object_id AND col.column_id = ic.column_id \
                     JOIN {from_tables} ON t.object_id = kc.parent_object_id \
                     WHERE {in_schemas} ORDER BY kc.parent_object_id, kc.name, ic.key_ordinal"
                ),
                &names,
                "reading keys",
            )
            .await?;
        let mut keys: BTreeMap<(i32, String), (String, Vec<String>)> = BTreeMap::new();
        for r in &key_rows {
            keys.entry((id(r, 0), s(r, 1)))
                .or_insert_with(|| (s(r, 2).trim().to_string(), Vec::new()))
                .1
                .push(s(r, 3));
        }
        for ((object, name), (kind, columns)) in keys {
            if let Some(table) = tables.get_mut(&object) {
                if kind == "PK" {
                    table.primary_key = Some(RawKey { name, columns });
                } else {
                    table.uniques.push(RawKey { name, columns });
                }
            }
        }

        let index_rows = self
            .rows(
                &format!(
                    "SELECT i.object_id, i.name, i.is_unique, col.name \
                     FROM sys.indexes i \
                     JOIN sys.index_columns ic ON ic.object_id = i.object_id \
                      AND ic.index_id = i.index_id AND ic.is_included_column = 0 \
                     JOIN sys.columns col ON col.object_id = ic.object_id AND col.column_id = ic.column_id \
                     JOIN {from_tables} ON t.object_id = i.object_id \
                     WHERE i.is_primary_key = 0 AND i.is_unique_constraint = 0 AND i.type > 0 \
                       AND i.is_hypothetical = 0 AND {in_schemas} \
                     ORDER BY i.object_id, i.name, ic.key_ordinal"
                ),
                &names,
                "reading indexes",
            )
            .await?;
        let mut indexes: BTreeMap<(i32, String), (bool, Vec<String>)> = BTreeMap::new();
        for r in &index_rows {
            indexes
                .entry((id(r, 0), s(r, 1)))
                .or_insert_with(|| (r.get::<bool, _>(2).unwrap_or(false), Vec::new()))
                .1
                .push(s(r, 3));
        }
        for ((object, name), (unique, columns)) in indexes {
            if let Some(table) = tables.get_mut(&object) {
                table.indexes.push(RawIndex {
                    name,
                    columns,
                    unique,
                });
            }
        }

        let fk_rows = self
            .rows(
                &format!(
                    "SELECT fk.parent_object_id, fk.name, pc.name, rs.name, rt.name, rc.name, \
                            fk.delete_referential_action_desc, fk.update_referential_action_desc \
                     FROM sys.foreign_keys fk \
                     JOIN sys.foreign_key_columns fkc ON fkc.constraint_object_id = fk.object_id \
                     JOIN sys.columns pc ON pc.object_id = fkc.parent_object_id \
                      AND pc.column_id = fkc.parent_column_id \
                     JOIN sys.tables rt ON rt.object_id = fk.referenced_object_id \
                     JOIN sys.schemas rs ON rs.schema_id = rt.schema_id \
                     JOIN sys.columns rc ON rc.object_id = fkc.referenced_object_id \
                      AND rc.column_id = fkc.referenced_column_id \
                     JOIN {from_tables} ON t.object_id = fk.parent_object_id \
                     WHERE {in_schemas} \
                     ORDER BY fk.parent_object_id, fk.name, fkc.constraint_column_id"
                ),
                &names,
                "reading foreign keys",
            )
            .await?;
        let mut fks: BTreeMap<(i32, String), RawForeignKey> = BTreeMap::new();
        for r in &fk_rows {
            let fk = fks
                .entry((id(r, 0), s(r, 1)))
                .or_insert_with(|| RawForeignKey {
                    name: s(r, 1),
                    columns: Vec::new(),
                    ref_schema: s(r, 3),
                    ref_table: s(r, 4),
                    ref_columns: Vec::new(),
                    on_delete: build::fk_action(&s(r, 6)),
                    on_update: build::fk_action(&s(r, 7)),
                });
            fk.columns.push(s(r, 2));
            fk.ref_columns.push(s(r, 5));
        }
        for ((object, _), fk) in fks {
            if let Some(table) = tables.get_mut(&object) {
                table.foreign_keys.push(fk);
            }
        }

        let check_rows = self
            .rows(
                &format!(
                    "SELECT cc.parent_object_id, cc.name, cc.definition \
                     FROM sys.check_constraints cc \
                     JOIN {from_tables} ON t.object_id = cc.parent_object_id \
                     WHERE {in_schemas}"
                ),
                &names,
                "reading check constraints",
            )
            .await?;
        for r in &check_rows {
            if let Some(table) = tables.get_mut(&id(r, 0)) {
                table
                    .checks
                    .push((s(r, 1), strip_outer_parens(&s(r, 2)).to_string()));
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
        transactional: bool,
    ) -> Result<(), ExecError> {
        let failed = |target: &str, index: usize, e: tiberius::error::Error, rolled_back: bool| {
            ExecError::Statement {
                target: target.to_string(),
                index,
                total: statements.len(),
                sql: statements[index].clone(),
                message: e.to_string(),
                rolled_back,
            }
        };
        if !transactional {
            for (index, sql) in statements.iter().enumerate() {
                if let Err(e) = self.batch(sql).await {
                    return Err(failed(&self.target, index, e, false));
                }
            }
            return Ok(());
        }
        // XACT_ABORT makes any runtime error doom the whole transaction, so
        // no statement half-applies after a failure.
        if let Err(e) = self.batch("SET XACT_ABORT ON; BEGIN TRANSACTION").await {
            return Err(self.err("beginning a transaction", e).into());
        }
        for (index, sql) in statements.iter().enumerate() {
            if let Err(e) = self.batch(sql).await {
                let rolled_back = self
                    .batch("IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION")
                    .await
                    .is_ok();
                return Err(failed(&self.target, index, e, rolled_back));
            }
        }
        if let Err(e) = self.batch("COMMIT TRANSACTION").await {
            return Err(self.err("committing the transaction", e).into());
        }
        Ok(())
    }

    async fn row_counts(&mut self, tables: &[TableRef]) -> Result<Vec<RowCount>, DbError> {
        let mut counts = Vec::with_capacity(tables.len());
        for t in tables {
            let sql = format!(
                "SELECT COUNT_BIG(*) FROM {}.{}",
                dialect(DialectKind::SqlServer).quote_ident(&t.schema),
                dialect(DialectKind::SqlServer).quote_ident(&t.table)
            );
            let result = match self.client.simple_query(sql).await {
                Ok(stream) => stream.into_row().await,
                Err(e) => Err(e),
            };
            let rows = match result {
                Ok(row) => row.and_then(|r| r.get::<i64, _>(0)).unwrap_or(0),
                // 208: invalid object name.
                Err(e) if e.code() == Some(208) => {
                    return Err(DbError::NoSuchTable {
                        target: self.target.clone(),
                        schema: t.schema.clone(),
                        table: t.table.clone(),
                    })
                }
                Err(e) => {
                    return Err(self.err(&format!("counting rows of {}.{}", t.schema, t.table), e))
                }
            };
            counts.push(RowCount {
                table: t.clone(),
                rows: rows.max(0) as u64,
            });
        }
        Ok(counts)
    }

    async fn close(self: Box<Self>) -> Result<(), DbError> {
        let target = self.target.clone();
        self.client.close().await.map_err(|e| DbError::Query {
            target,
            action: "closing the connection".into(),
            message: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidemark_model::DataType;

    #[test]
    fn declared_types_are_rebuilt_from_sizes() {
        assert_eq!(native_type_text("nvarchar", 100, 0, 0), "nvarchar(50)");
        assert_eq!(native_type_text("varchar", -1, 0, 0), "varchar(max)");
        assert_eq!(native_type_text("decimal", 9, 10, 2), "decimal(10,2)");
        assert_eq!(native_type_text("datetime2", 8, 27, 3), "datetime2(3)");
        assert_eq!(native_type_text("int", 4, 10, 0), "int");
        assert_eq!(
            dialect(DialectKind::SqlServer)
                .parse_native_type(&native_type_text("nvarchar", 80, 0, 0)),
            DataType::Varchar { length: Some(40) }
        );
    }

    #[test]
    fn parameter_lists_are_numbered_from_one() {
        assert_eq!(params(3), "@P1, @P2, @P3");
    }
}
