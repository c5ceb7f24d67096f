//! Databricks SQL through the SQL Statement Execution REST API
//! (`/api/2.0/sql/statements`), authenticated with a personal access token
//! or OAuth token passed as the password.
//!
//! **Tested against a simulated endpoint only**: no Databricks workspace is
//! reachable where this crate's tests run. The tests replay the documented
//! request and response shapes (synchronous answers, polling, result
//! chunks, failures).
//!
//! The catalog read is the spec's catalog (or the warehouse's current one);
//! its schemas are the Unity Catalog schemas. Introspection reads the
//! catalog's `information_schema`: tables, columns (with identity),
//! comments, primary and foreign keys (informational in Unity Catalog).
//! Not read: Delta CHECK constraints and table properties, which live in
//! `TBLPROPERTIES` and would take one statement per table; Databricks has
//! no secondary indexes. There are no multi-statement transactions, so
//! [`Database::execute`] always runs statement by statement.

use crate::build::{self, RawColumn, RawForeignKey, RawKey, RawTable};
use crate::error::{scrub, DbError, ExecError};
use crate::spec::ConnectionSpec;
use crate::{Database, RowCount};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use tidemark_model::{State, TableRef};
use tidemark_sql::{dialect, DialectKind};

/// A Databricks SQL warehouse.
pub(crate) struct Databricks {
    http: reqwest::Client,
    /// `https://host`, without a trailing slash.
    base: String,
    warehouse_id: String,
    catalog: Option<String>,
    schema: Option<String>,
    token: String,
    target: String,
}

/// A failed API call, before it is given its context.
#[derive(Debug)]
struct ApiError {
    message: String,
    /// The statement ran and failed (as opposed to a transport or HTTP
    /// failure).
    statement_failed: bool,
}

#[derive(Serialize)]
struct ExecuteRequest<'a> {
    statement: &'a str,
    warehouse_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    catalog: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    schema: Option<&'a str>,
    wait_timeout: &'static str,
    on_wait_timeout: &'static str,
    disposition: &'static str,
    format: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    parameters: Vec<Parameter<'a>>,
}

#[derive(Serialize)]
struct Parameter<'a> {
    name: String,
    value: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Deserialize)]
struct StatementResponse {
    statement_id: Option<String>,
    status: Status,
    result: Option<Chunk>,
}

#[derive(Deserialize)]
struct Status {
    state: String,
    error: Option<ServiceError>,
}

#[derive(Deserialize)]
struct ServiceError {
    error_code: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize, Default)]
struct Chunk {
    #[serde(default)]
    data_array: Option<Vec<Vec<Option<String>>>>,
    next_chunk_internal_link: Option<String>,
}

type Rows = Vec<Vec<Option<String>>>;

impl Databricks {
    pub(crate) async fn connect(
        spec: &ConnectionSpec,
        host: &str,
        warehouse_id: &str,
        catalog: Option<&str>,
        schema: Option<&str>,
        token: Option<&str>,
    ) -> Result<Self, DbError> {
        let base = format!("https://{host}");
        Self::connect_to(spec, base, warehouse_id, catalog, schema, token).await
    }

    /// Connects to an explicit base URL (tests point it at a local server).
    async fn connect_to(
        spec: &ConnectionSpec,
        base: String,
        warehouse_id: &str,
        catalog: Option<&str>,
        schema: Option<&str>,
        token: Option<&str>,
    ) -> Result<Self, DbError> {
        let target = spec.redacted();
        let connect_err = |message: String| DbError::Connect {
            target: target.clone(),
            message: scrub(message, token),
        };
        let token = token.filter(|t| !t.is_empty()).ok_or_else(|| {
            connect_err("Databricks needs an access token as the password".into())
        })?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .user_agent("tidemark")
            .build()
            .map_err(|e| connect_err(e.to_string()))?;
        let mut db = Databricks {
            http,
            base: base.trim_end_matches('/').to_string(),
            warehouse_id: warehouse_id.to_string(),
            catalog: catalog.map(str::to_string),
            schema: schema.map(str::to_string),
            token: token.to_string(),
            target: target.clone(),
        };
        // A request proves the host, the token and the warehouse at once.
        db.run("SELECT 1", &[])
            .await
            .map_err(|e| connect_err(e.message))?;
        Ok(db)
    }

    fn scrubbed(&self, message: String) -> String {
        scrub(message, Some(&self.token))
    }

    /// Runs one statement with named string parameters (`:p0`, `:p1`, …),
    /// waits for it, and returns every row of every result chunk.
    async fn run(&mut self, sql: &str, params: &[String]) -> Result<Rows, ApiError> {
        let request = ExecuteRequest {
            statement: sql,
            warehouse_id: &self.warehouse_id,
            catalog: self.catalog.as_deref(),
            schema: self.schema.as_deref(),
            wait_timeout: "30s",
            on_wait_timeout: "CONTINUE",
            disposition: "INLINE",
            format: "JSON_ARRAY",
            parameters: params
                .iter()
                .enumerate()
                .map(|(i, value)| Parameter {
                    name: format!("p{i}"),
                    value,
                    kind: "STRING",
                })
                .collect(),
        };
        let url = format!("{}/api/2.0/sql/statements", self.base);
        let mut response: StatementResponse =
            self.send(self.http.post(&url).json(&request)).await?;
        let mut delay = Duration::from_millis(100);
        while matches!(response.status.state.as_str(), "PENDING" | "RUNNING") {
            let id = response.statement_id.clone().ok_or_else(|| ApiError {
                message: "the server returned a pending statement without an id".into(),
                statement_failed: false,
            })?;
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(2));
            let url = format!("{}/api/2.0/sql/statements/{id}", self.base);
            response = self.send(self.http.get(&url)).await?;
        }
        if response.status.state != "SUCCEEDED" {
            let (code, message) = response
                .status
                .error
                .map(|e| (e.error_code, e.message))
                .unwrap_or((None, None));
            let message = message.unwrap_or_else(|| format!("statement {}", response.status.state));
            return Err(ApiError {
                message: self.scrubbed(match code {
                    Some(code) => format!("{message} (code {code})"),
                    None => message,
                }),
                statement_failed: true,
            });
        }
        let mut rows = Vec::new();
        let mut chunk = response.result.unwrap_or_default();
        loop {
            rows.extend(chunk.data_array.take().unwrap_or_default());
            let Some(link) = chunk.next_chunk_internal_link.take() else {
                break;
            };
            let url = format!("{}{link}", self.base);
            chunk = self.send(self.http.get(&url)).await?;
        }
        Ok(rows)
    }

    /// Sends a request with the token and decodes a JSON answer; HTTP
    /// errors carry the API's `message`.
    async fn send<T: for<'de> Deserialize<'de>>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ApiError> {
        let transport = |e: reqwest::Error| ApiError {
            // Without the URL: it names the host already in the target.
            message: self.scrubbed(e.without_url().to_string()),
            statement_failed: false,
        };
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            let detail = serde_json::from_str::<ServiceError>(&body)
                .ok()
                .and_then(|e| e.message)
                .unwrap_or(body);
            return Err(ApiError {
                message: self.scrubbed(format!("HTTP {status}: {detail}")),
                statement_failed: false,
            });
        }
        response.json::<T>().await.map_err(transport)
    }

    fn query_error(&self, action: &str, e: ApiError) -> DbError {
        DbError::Query {
            target: self.target.clone(),
            action: action.to_string(),
            message: e.message,
        }
    }

    async fn rows(&mut self, action: &str, sql: &str, params: &[String]) -> Result<Rows, DbError> {
        match self.run(sql, params).await {
            Ok(rows) => Ok(rows),
            Err(e) => Err(self.query_error(action, e)),
        }
    }
}

fn quote(name: &str) -> String {
    dialect(DialectKind::Databricks).quote_ident(name)
}

/// `:p0, :p1, …` for `n` parameters.
fn markers(n: usize) -> String {
    (0..n)
        .map(|i| format!(":p{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn cell(row: &[Option<String>], i: usize) -> String {
    row.get(i).cloned().flatten().unwrap_or_default()
}

fn opt_cell(row: &[Option<String>], i: usize) -> Option<String> {
    row.get(i).cloned().flatten()
}

#[async_trait]
impl Database for Databricks {
    fn kind(&self) -> DialectKind {
        DialectKind::Databricks
    }

    fn target(&self) -> &str {
        &self.target
    }

    async fn ping(&mut self) -> Result<(), DbError> {
        self.rows("ping", "SELECT 1", &[]).await.map(|_| ())
    }

    async fn introspect(&mut self, schemas: &[String]) -> Result<State, DbError> {
        let catalog = match &self.catalog {
            Some(c) => c.clone(),
            None => {
                let rows = self
                    .rows(
                        "reading the current catalog",
                        "SELECT current_catalog()",
                        &[],
                    )
                    .await?;
                rows.first().map(|r| cell(r, 0)).unwrap_or_default()
            }
        };
        let info = format!("{}.information_schema", quote(&catalog));

        let filter = if schemas.is_empty() {
            "schema_name <> 'information_schema'".to_string()
        } else {
            format!("schema_name IN ({})", markers(schemas.len()))
        };
        let schema_rows = self
            .rows(
                "reading schemas",
                &format!("SELECT schema_name, comment FROM {info}.schemata WHERE {filter}"),
                schemas,
            )
            .await?;
        let schema_list: Vec<(String, Option<String>)> = schema_rows
            .iter()
            .map(|r| (cell(r, 0), build::comment(opt_cell(r, 1))))
            .collect();
        let names: Vec<String> = schema_list.iter().map(|(n, _)| n.clone()).collect();
        if names.is_empty() {
            return Ok(build::assemble(&catalog, schema_list, Vec::new()));
        }
        let in_schemas = |column: &str| format!("{column} IN ({})", markers(names.len()));

        let table_rows = self
            .rows(
                "reading tables",
                &format!(
                    "SELECT table_schema, table_name, comment FROM {info}.tables \
                     WHERE table_type IN ('MANAGED', 'EXTERNAL', 'MANAGED_SHALLOW_CLONE', \
                     'EXTERNAL_SHALLOW_CLONE') AND {}",
                    in_schemas("table_schema")
                ),
                &names,
            )
            .await?;
        let mut tables: HashMap<(String, String), RawTable> = table_rows
            .iter()
            .map(|r| {
                let key = (cell(r, 0), cell(r, 1));
                let table = RawTable {
                    schema: key.0.clone(),
                    name: key.1.clone(),
                    comment: build::comment(opt_cell(r, 2)),
                    ..Default::default()
                };
                (key, table)
            })
            .collect();

        let column_rows = self
            .rows(
                "reading columns",
                &format!(
                    "SELECT table_schema, table_name, column_name, full_data_type, is_nullable, \
                            column_default, comment, is_identity, is_generated \
                     FROM {info}.columns WHERE {} \
                     ORDER BY table_schema, table_name, ordinal_position",
                    in_schemas("table_schema")
                ),
                &names,
            )
            .await?;
        for r in &column_rows {
            let Some(table) = tables.get_mut(&(cell(r, 0), cell(r, 1))) else {
                continue;
            };
            let identity = cell(r, 7).eq_ignore_ascii_case("YES");
            let generated = cell(r, 8).eq_ignore_ascii_case("ALWAYS");
            table.columns.push(RawColumn {
                name: cell(r, 2),
                data_type: dialect(DialectKind::Databricks).parse_native_type(&cell(r, 3)),
                nullable: cell(r, 4).eq_ignore_ascii_case("YES"),
                default: opt_cell(r, 5).filter(|_| !identity && !generated),
                comment: build::comment(opt_cell(r, 6)),
                identity,
            });
        }

        // Primary and foreign keys with their columns in key order; a
        // foreign key's referenced column is the one at the same position
        // of the key it references.
        let key_rows = self
            .rows(
                "reading keys",
                &format!(
                    "SELECT tc.table_schema, tc.table_name, tc.constraint_name, tc.constraint_type, \
                            k.column_name, rk.table_schema, rk.table_name, rk.column_name, \
                            rc.update_rule, rc.delete_rule \
                     FROM {info}.table_constraints tc \
                     JOIN {info}.key_column_usage k \
                       ON k.constraint_schema = tc.constraint_schema \
                      AND k.constraint_name = tc.constraint_name \
                     LEFT JOIN {info}.referential_constraints rc \
                       ON rc.constraint_schema = tc.constraint_schema \
                      AND rc.constraint_name = tc.constraint_name \
                     LEFT JOIN {info}.key_column_usage rk \
                       ON rk.constraint_schema = rc.unique_constraint_schema \
                      AND rk.constraint_name = rc.unique_constraint_name \
                      AND rk.ordinal_position = k.position_in_unique_constraint \
                     WHERE tc.constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY') AND {} \
                     ORDER BY tc.table_schema, tc.table_name, tc.constraint_name, k.ordinal_position",
                    in_schemas("tc.table_schema")
                ),
                &names,
            )
            .await?;
        let mut fks: BTreeMap<(String, String, String), RawForeignKey> = BTreeMap::new();
        for r in &key_rows {
            let key = (cell(r, 0), cell(r, 1));
            let Some(table) = tables.get_mut(&key) else {
                continue;
            };
            let name = cell(r, 2);
            if cell(r, 3) == "PRIMARY KEY" {
                table
                    .primary_key
                    .get_or_insert_with(|| RawKey {
                        name: name.clone(),
                        columns: Vec::new(),
                    })
                    .columns
                    .push(cell(r, 4));
            } else {
                let fk = fks
                    .entry((key.0, key.1, name.clone()))
                    .or_insert_with(|| RawForeignKey {
                        name,
                        columns: Vec::new(),
                        ref_schema: cell(r, 5),
                        ref_table: cell(r, 6),
                        ref_columns: Vec::new(),
                        on_update: build::fk_action(&cell(r, 8)),
                        on_delete: build::fk_action(&cell(r, 9)),
                    });
                fk.columns.push(cell(r, 4));
                fk.ref_columns.push(cell(r, 7));
            }
        }
        for ((schema, table, _), fk) in fks {
            if let Some(t) = tables.get_mut(&(schema, table)) {
                t.foreign_keys.push(fk);
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
            if let Err(e) = self.run(sql, &[]).await {
                if !e.statement_failed {
                    // The request never reached a verdict on the statement.
                    return Err(self
                        .query_error(&format!("sending statement {}", index + 1), e)
                        .into());
                }
                return Err(ExecError::Statement {
                    target: self.target.clone(),
                    index,
                    total: statements.len(),
                    sql: sql.clone(),
                    message: e.message,
                    rolled_back: false,
                });
            }
        }
        Ok(())
    }

    async fn row_counts(&mut self, tables: &[TableRef]) -> Result<Vec<RowCount>, DbError> {
        let catalog = self.catalog.clone();
        let mut counts = Vec::with_capacity(tables.len());
        for t in tables {
            let name = match &catalog {
                Some(c) => format!("{}.{}.{}", quote(c), quote(&t.schema), quote(&t.table)),
                None => format!("{}.{}", quote(&t.schema), quote(&t.table)),
            };
            let rows = match self.run(&format!("SELECT count(*) FROM {name}"), &[]).await {
                Ok(rows) => rows,
                Err(e) if e.message.contains("TABLE_OR_VIEW_NOT_FOUND") => {
                    return Err(DbError::NoSuchTable {
                        target: self.target.clone(),
                        schema: t.schema.clone(),
                        table: t.table.clone(),
                    })
                }
                Err(e) => {
                    return Err(
                        self.query_error(&format!("counting rows of {}.{}", t.schema, t.table), e)
                    )
                }
            };
            let n = rows
                .first()
                .map(|r| cell(r, 0))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            counts.push(RowCount {
                table: t.clone(),
                rows: n,
            });
        }
        Ok(counts)
    }

    async fn close(self: Box<Self>) -> Result<(), DbError> {
        // Stateless HTTP: nothing to close.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::{Path, State as AxState};
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::{get, post};
    use axum::{Json, Router};
    use serde_json::{json, Value};
    use std::sync::{Arc, Mutex};
    use tidemark_model::{DataType, FkAction};

    const TOKEN: &str = "dapi-test-token-0123456789";

    /// Every statement request the simulated warehouse received.
    #[derive(Default)]
    struct Seen {
        requests: Vec<Value>,
        polls: usize,
    }

    type Shared = Arc<Mutex<Seen>>;

    fn succeeded(rows: Value) -> Value {
        json!({
            "statement_id": "s-done",
            "status": {"state": "SUCCEEDED"},
            "manifest": {"format": "JSON_ARRAY"},
            "result": {"chunk_index": 0, "data_array": rows}
        })
    }

    fn failed(code: &str, message: &str) -> Value {
        json!({
            "statement_id": "s-failed",
            "status": {"state": "FAILED", "error": {"error_code": code, "message": message}}
        })
    }

    /// Answers like a warehouse holding catalog `main`, schema `shop` with
    /// `customer` and `order` (`order.customer_id` → `customer.id`).
    async fn execute(
        AxState(seen): AxState<Shared>,
        headers: HeaderMap,
        Json(body): Json<Value>,
    ) -> (StatusCode, Json<Value>) {
        if headers.get("authorization").and_then(|v| v.to_str().ok())
            != Some(&format!("Bearer {TOKEN}"))
        {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error_code": "UNAUTHENTICATED", "message": "Invalid access token."})),
            );
        }
        seen.lock().unwrap().requests.push(body.clone());
        let sql = body["statement"].as_str().unwrap_or_default().to_string();
        let reply = if sql == "SELECT 1" {
            succeeded(json!([["1"]]))
        } else if sql.contains("information_schema.schemata") {
            succeeded(json!([["shop", "The shop"]]))
        } else if sql.contains("information_schema.tables") {
            // Slow answer: the client has to poll.
            json!({"statement_id": "s-tables", "status": {"state": "PENDING"}})
        } else if sql.contains("information_schema.columns") {
            // First of two chunks.
            json!({
                "statement_id": "s-cols",
                "status": {"state": "SUCCEEDED"},
                "result": {
                    "chunk_index": 0,
                    "data_array": [
                        ["shop", "customer", "id", "bigint", "NO", null, null, "YES", "NEVER"],
                        ["shop", "customer", "email", "string", "NO", null, "Login", "NO", "NEVER"]
                    ],
                    "next_chunk_internal_link": "/api/2.0/sql/statements/s-cols/result/chunks/1"
                }
            })
        } else if sql.contains("table_constraints") {
            succeeded(json!([
                [
                    "shop",
                    "customer",
                    "customer_pk",
                    "PRIMARY KEY",
                    "id",
                    null,
                    null,
                    null,
                    null,
                    null
                ],
                [
                    "shop",
                    "order",
                    "order_customer_fk",
                    "FOREIGN KEY",
                    "customer_id",
                    "shop",
                    "customer",
                    "id",
                    "NO ACTION",
                    "NO ACTION"
                ],
                [
                    "shop",
                    "order",
                    "order_pk",
                    "PRIMARY KEY",
                    "id",
                    null,
                    null,
                    null,
                    null,
                    null
                ]
            ]))
        } else if sql.starts_with("SELECT count(*) FROM `main`.`shop`.`order`") {
            succeeded(json!([["42"]]))
        } else if sql.starts_with("SELECT count(*)") {
            failed(
                "BAD_REQUEST",
                "[TABLE_OR_VIEW_NOT_FOUND] The table cannot be found.",
            )
        } else if sql.starts_with("ALTER TABLE missing") {
            failed(
                "BAD_REQUEST",
                "[TABLE_OR_VIEW_NOT_FOUND] The table `missing` cannot be found.",
            )
        } else {
            succeeded(json!([]))
        };
        (StatusCode::OK, Json(reply))
    }

    async fn poll(AxState(seen): AxState<Shared>, Path(id): Path<String>) -> Json<Value> {
        assert_eq!(id, "s-tables");
        let mut seen = seen.lock().unwrap();
        seen.polls += 1;
        if seen.polls < 2 {
            return Json(json!({"statement_id": "s-tables", "status": {"state": "RUNNING"}}));
        }
        Json(succeeded(json!([
            ["shop", "customer", "People"],
            ["shop", "order", null]
        ])))
    }

    async fn chunk(Path((id, index)): Path<(String, u32)>) -> Json<Value> {
        assert_eq!((id.as_str(), index), ("s-cols", 1));
        Json(json!({
            "chunk_index": 1,
            "data_array": [
                ["shop", "order", "id", "bigint", "NO", null, null, "NO", "NEVER"],
                ["shop", "order", "customer_id", "bigint", "NO", null, null, "NO", "NEVER"],
                ["shop", "order", "total", "decimal(12,2)", "YES", "0", null, "NO", "NEVER"]
            ]
        }))
    }

    async fn serve() -> (String, Shared) {
        let seen: Shared = Arc::default();
        let app = Router::new()
            .route("/api/2.0/sql/statements", post(execute))
            .route("/api/2.0/sql/statements/{id}", get(poll))
            .route(
                "/api/2.0/sql/statements/{id}/result/chunks/{index}",
                get(chunk),
            )
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (format!("http://{addr}"), seen)
    }

    fn spec() -> ConnectionSpec {
        ConnectionSpec::parse("databricks://adb-1.azuredatabricks.net/wh1?catalog=main").unwrap()
    }

    async fn open(base: &str, token: Option<&str>) -> Result<Databricks, DbError> {
        Databricks::connect_to(&spec(), base.to_string(), "wh1", Some("main"), None, token).await
    }

    #[tokio::test]
    async fn introspects_through_polling_and_chunks_with_bound_parameters() {
        let (base, seen) = serve().await;
        let mut db = open(&base, Some(TOKEN)).await.unwrap();
        let state = db.introspect(&["shop".to_string()]).await.unwrap();

        let cat = &state.catalogs[0];
        assert_eq!(cat.name, "main");
        assert_eq!(cat.schemas.len(), 1);
        let shop = &cat.schemas[0];
        assert_eq!(
            (shop.name.as_str(), shop.comment.as_deref()),
            ("shop", Some("The shop"))
        );
        let names: Vec<&str> = shop.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, vec!["customer", "order"]);

        let customer = &shop.tables[0];
        assert_eq!(customer.comment.as_deref(), Some("People"));
        assert_eq!(customer.columns.len(), 2);
        assert!(customer.columns[0].identity);
        assert_eq!(customer.columns[0].data_type, DataType::BigInt);
        assert!(!customer.columns[0].nullable);
        assert_eq!(customer.columns[1].data_type, DataType::Text);
        assert_eq!(customer.columns[1].comment.as_deref(), Some("Login"));
        let pk = customer.primary_key.as_ref().unwrap();
        assert_eq!(
            (pk.name.as_str(), pk.columns.clone()),
            ("customer_pk", vec!["id".to_string()])
        );

        let order = &shop.tables[1];
        let cols: Vec<&str> = order.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(cols, vec!["id", "customer_id", "total"]);
        assert_eq!(
            order.columns[2].data_type,
            DataType::Decimal {
                precision: Some(12),
                scale: Some(2)
            }
        );
        assert_eq!(order.columns[2].default.as_deref(), Some("0"));
        assert_eq!(order.foreign_keys.len(), 1);
        let fk = &order.foreign_keys[0];
        assert_eq!(fk.name, "order_customer_fk");
        assert_eq!(fk.columns, vec!["customer_id"]);
        assert_eq!(
            fk.references,
            TableRef {
                schema: "shop".into(),
                table: "customer".into()
            }
        );
        assert_eq!(fk.ref_columns, vec!["id"]);
        assert_eq!(fk.on_delete, FkAction::NoAction);

        let seen = seen.lock().unwrap();
        assert_eq!(seen.polls, 2, "the pending statement was polled until done");
        // Schema names travel as parameters, never inside the SQL text.
        for request in &seen.requests[1..] {
            let sql = request["statement"].as_str().unwrap();
            assert!(!sql.contains("'shop'"), "{sql}");
            assert_eq!(request["warehouse_id"], "wh1");
            assert_eq!(request["catalog"], "main");
        }
        let schemata = &seen.requests[1];
        assert_eq!(
            schemata["parameters"],
            json!([{"name": "p0", "value": "shop", "type": "STRING"}])
        );
        assert!(schemata["statement"]
            .as_str()
            .unwrap()
            .contains("`main`.information_schema"));
    }

    #[tokio::test]
    async fn execution_stops_at_the_failing_statement_and_counts_rows() {
        let (base, seen) = serve().await;
        let mut db = open(&base, Some(TOKEN)).await.unwrap();
        let plan = vec![
            "CREATE TABLE shop.a (id INT)".to_string(),
            "ALTER TABLE missing ADD COLUMN x INT".to_string(),
            "CREATE TABLE shop.b (id INT)".to_string(),
        ];
        let err = db.execute(&plan, true).await.unwrap_err();
        assert_eq!(err.statement_index(), Some(1));
        let text = err.to_string();
        assert!(
            text.contains("ALTER TABLE missing ADD COLUMN x INT"),
            "{text}"
        );
        assert!(text.contains("TABLE_OR_VIEW_NOT_FOUND"), "{text}");
        assert!(text.contains("stay applied"), "{text}");
        let sent: Vec<String> = seen
            .lock()
            .unwrap()
            .requests
            .iter()
            .map(|r| r["statement"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(sent, vec!["SELECT 1", &plan[0], &plan[1]]);

        let counts = db
            .row_counts(&[TableRef {
                schema: "shop".into(),
                table: "order".into(),
            }])
            .await
            .unwrap();
        assert_eq!(counts[0].rows, 42);
        let missing = db
            .row_counts(&[TableRef {
                schema: "shop".into(),
                table: "gone".into(),
            }])
            .await
            .unwrap_err();
        assert!(
            matches!(missing, DbError::NoSuchTable { .. }),
            "{missing:?}"
        );
    }

    #[tokio::test]
    async fn a_bad_token_is_a_clear_connect_error_without_the_token() {
        let (base, _) = serve().await;
        let wrong = "dapi-wrong-token-987654321";
        let err = open(&base, Some(wrong)).await.err().expect("must fail");
        let text = err.to_string();
        assert!(matches!(err, DbError::Connect { .. }), "{err:?}");
        assert!(
            text.contains("databricks://adb-1.azuredatabricks.net/wh1?catalog=main"),
            "{text}"
        );
        assert!(text.contains("401"), "{text}");
        assert!(text.contains("Invalid access token"), "{text}");
        assert!(!text.contains(wrong), "{text}");

        let err = open(&base, None).await.err().expect("must fail");
        assert!(err.to_string().contains("needs an access token"), "{err}");
    }
}
