//! MySQL and MariaDB as a sync source and target.
//!
//! - **Extraction** pages through the table in keyset order (`WHERE` the
//!   tuple is after the last row read, `ORDER BY … LIMIT batch`) inside one
//!   read-only transaction with a consistent snapshot, so every page sees the
//!   same data and no query runs longer than one batch.
//! - **Loading** converts the batch, locks and reads the target rows of the
//!   batch's keys (`SELECT … FOR UPDATE`), decides row by row, and writes
//!   with batched multi-row `INSERT … ON DUPLICATE KEY UPDATE`, then moves the
//!   checkpoint, in one InnoDB transaction. Values are always bound.

use super::rowmerge::{classify, prepare, Action};
use super::value::{
    cell_to_scalar, coerce, date_of, datetime_of, days_of, format_decimal, micros_of,
    micros_of_time, parse_decimal, rescale, scalar_to_cell, time_of, BatchBuilder, Cell,
};
use super::{
    canonical_key, replace_copy_name, scalar_at, value_error, CheckpointRow, CheckpointWrite,
    ColumnInfo, Endpoint, ExtractRequest, ExtractedBatch, LoadCounts, LoadMode, LoadPlan,
    NewColumn, Scalar, Start, TableInfo, TableName, ValidFrom, ValueKind,
};
use crate::error::{sqlx_message, DbError};
use crate::spec::{ConnectionSpec, ServerSpec};
use crate::DialectKind;
use arrow_array::RecordBatch;
use async_trait::async_trait;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use sqlx::mysql::{MySqlArguments, MySqlConnection, MySqlRow};
use sqlx::{Connection, Row, ValueRef};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use tokio::sync::mpsc;

type MyQuery<'q> = sqlx::query::Query<'q, sqlx::MySql, MySqlArguments>;

/// At most this many rows per multi-row statement (MySQL allows 65,535
/// placeholders per statement).
const ROWS_PER_STATEMENT: usize = 1000;

/// A MySQL or MariaDB connection moving data.
pub(crate) struct MyEndpoint {
    conn: MySqlConnection,
    target: String,
    /// Whether the server has a native UUID type (MariaDB 10.7+).
    native_uuid: bool,
}

fn qi(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn qt(t: &TableName) -> String {
    match &t.schema {
        Some(s) => format!("{}.{}", qi(s), qi(&t.name)),
        None => qi(&t.name),
    }
}

/// A bound value.
enum Param {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F32(f32),
    F64(f64),
    Str(String),
    Bytes(Vec<u8>),
    Date(NaiveDate),
    Time(NaiveTime),
    DateTime(NaiveDateTime),
}

fn bind(q: MyQuery<'_>, p: Param) -> MyQuery<'_> {
    match p {
        Param::Null => q.bind(None::<String>),
        Param::Bool(v) => q.bind(v),
        Param::I64(v) => q.bind(v),
        Param::U64(v) => q.bind(v),
        Param::F32(v) => q.bind(v),
        Param::F64(v) => q.bind(v),
        Param::Str(v) => q.bind(v),
        Param::Bytes(v) => q.bind(v),
        Param::Date(v) => q.bind(v),
        Param::Time(v) => q.bind(v),
        Param::DateTime(v) => q.bind(v),
    }
}

/// A target-kind cell as a parameter.
fn param(cell: &Cell<'_>) -> Param {
    match cell {
        Cell::Null => Param::Null,
        Cell::Bool(b) => Param::Bool(*b),
        Cell::Int(i) => Param::I64(*i),
        Cell::UInt(u) => Param::U64(*u),
        Cell::F32(f) => Param::F32(*f),
        Cell::F64(f) => Param::F64(*f),
        Cell::Dec(m, s) => Param::Str(format_decimal(*m, *s)),
        Cell::DecText(t) | Cell::Text(t) | Cell::Json(t) => Param::Str(t.to_string()),
        Cell::Bytes(b) => Param::Bytes(b.to_vec()),
        Cell::Date(d) => date_of(*d).map(Param::Date).unwrap_or(Param::Null),
        Cell::Time(t) => time_of(*t).map(Param::Time).unwrap_or(Param::Null),
        Cell::Ts(t) | Cell::TsTz(t) => datetime_of(*t).map(Param::DateTime).unwrap_or(Param::Null),
        Cell::Uuid(u) => Param::Str(super::value::format_uuid(u)),
    }
}

/// A watermark or key value as a parameter for a column of `kind`.
fn scalar_param(s: &Scalar, kind: &ValueKind) -> Result<Param, String> {
    Ok(param(&scalar_to_cell(s, kind)?))
}

/// The placeholder for a value compared with a column: decimals are cast so
/// MySQL compares them as decimals, not as doubles.
fn placeholder(c: &ColumnInfo) -> &'static str {
    match c.kind {
        ValueKind::Decimal { .. } | ValueKind::BigDecimal { .. } => "CAST(? AS DECIMAL(65,30))",
        _ => "?",
    }
}

fn select_expr(c: &ColumnInfo) -> String {
    match c.kind {
        ValueKind::Other => format!("CAST({} AS CHAR)", qi(&c.name)),
        _ => qi(&c.name),
    }
}

/// `(o1, o2, …)` strictly after the bound values, expanded so MySQL can use
/// an index on the leading column: `o1 >= ? AND (o1 > ? OR (o1 = ? AND …))`.
/// Returns the SQL and, for each placeholder, the index of its value.
fn tuple_after(cols: &[&ColumnInfo]) -> (String, Vec<usize>) {
    fn rest(cols: &[&ColumnInfo], i: usize, order: &mut Vec<usize>) -> String {
        let c = qi(&cols[i].name);
        let p = placeholder(cols[i]);
        if i + 1 == cols.len() {
            order.push(i);
            format!("{c} > {p}")
        } else {
            order.push(i);
            order.push(i);
            let inner = rest(cols, i + 1, order);
            format!("({c} > {p} OR ({c} = {p} AND {inner}))")
        }
    }
    let mut order = vec![0];
    let body = rest(cols, 0, &mut order);
    (
        format!(
            "{} >= {} AND {body}",
            qi(&cols[0].name),
            placeholder(cols[0])
        ),
        order,
    )
}

/// `(k1, k2) IN ((?, ?), …)` for `n` keys (`k IN (?, …)` for one column).
fn key_in(key: &[ColumnInfo], n: usize) -> String {
    let names: Vec<String> = key.iter().map(|c| qi(&c.name)).collect();
    let one = if key.len() == 1 {
        placeholder(&key[0]).to_string()
    } else {
        format!(
            "({})",
            key.iter().map(placeholder).collect::<Vec<_>>().join(", ")
        )
    };
    let lhs = if key.len() == 1 {
        names[0].clone()
    } else {
        format!("({})", names.join(", "))
    };
    format!("{lhs} IN ({})", vec![one; n].join(", "))
}

/// Reads one value of a column of `kind` as an owned cell.
fn read_cell(row: &MySqlRow, i: usize, kind: &ValueKind) -> Result<Cell<'static>, String> {
    let raw = row.try_get_raw(i).map_err(|e| e.to_string())?;
    if raw.is_null() {
        return Ok(Cell::Null);
    }
    let e = |e: sqlx::Error| e.to_string();
    Ok(match kind {
        ValueKind::Bool => Cell::Bool(row.try_get_unchecked::<i64, _>(i).map_err(e)? != 0),
        ValueKind::Int { unsigned: true, .. } => {
            let v = row.try_get_unchecked::<u64, _>(i).map_err(e)?;
            match i64::try_from(v) {
                Ok(v) => Cell::Int(v),
                Err(_) => Cell::UInt(v),
            }
        }
        ValueKind::Int { .. } => Cell::Int(row.try_get_unchecked::<i64, _>(i).map_err(e)?),
        ValueKind::Float { double: false } => {
            Cell::F32(row.try_get_unchecked::<f32, _>(i).map_err(e)?)
        }
        ValueKind::Float { double: true } => {
            Cell::F64(row.try_get_unchecked::<f64, _>(i).map_err(e)?)
        }
        ValueKind::Decimal { scale, .. } => {
            let text = text_of(row, i)?;
            let (m, s) = parse_decimal(&text).ok_or_else(|| format!("{text} is not a decimal"))?;
            Cell::Dec(rescale(m, s, *scale)?, *scale)
        }
        ValueKind::BigDecimal { .. } => Cell::DecText(Cow::Owned(text_of(row, i)?)),
        ValueKind::Text { .. } | ValueKind::Other => Cell::Text(Cow::Owned(text_of(row, i)?)),
        ValueKind::Json => Cell::Json(Cow::Owned(text_of(row, i)?)),
        ValueKind::Binary { .. } => Cell::Bytes(Cow::Owned(
            row.try_get_unchecked::<Vec<u8>, _>(i).map_err(e)?,
        )),
        ValueKind::Date => Cell::Date(days_of(
            row.try_get_unchecked::<NaiveDate, _>(i)
                .map_err(|err| format!("not a valid date ({err})"))?,
        )),
        ValueKind::Time { .. } => Cell::Time(micros_of_time(
            row.try_get_unchecked::<NaiveTime, _>(i)
                .map_err(|err| format!("not a time of day between 00:00 and 24:00 ({err})"))?,
        )),
        ValueKind::Timestamp { tz, .. } => {
            let us = micros_of(
                row.try_get_unchecked::<NaiveDateTime, _>(i)
                    .map_err(|err| format!("not a valid date and time ({err})"))?,
            );
            if *tz {
                Cell::TsTz(us)
            } else {
                Cell::Ts(us)
            }
        }
        ValueKind::Uuid => {
            let text = text_of(row, i)?;
            Cell::Uuid(
                super::value::parse_uuid(&text).ok_or_else(|| format!("{text:?} is not a UUID"))?,
            )
        }
    })
}

/// A string column whatever its collation (binary collations come back as
/// bytes).
fn text_of(row: &MySqlRow, i: usize) -> Result<String, String> {
    let bytes = row
        .try_get_unchecked::<Vec<u8>, _>(i)
        .map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|_| "the text is not valid UTF-8".to_string())
}

fn opt_text(row: &MySqlRow, i: usize) -> Option<String> {
    row.try_get_unchecked::<Option<Vec<u8>>, _>(i)
        .ok()
        .flatten()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn opt_int(row: &MySqlRow, i: usize) -> Option<i64> {
    row.try_get_unchecked::<Option<i64>, _>(i)
        .ok()
        .flatten()
        .or_else(|| {
            row.try_get_unchecked::<Option<u64>, _>(i)
                .ok()
                .flatten()
                .map(|v| v as i64)
        })
}

/// The kind of a column from information_schema.
fn my_kind(
    data_type: &str,
    column_type: &str,
    chars: Option<i64>,
    p: Option<i64>,
    s: Option<i64>,
    dp: Option<i64>,
) -> ValueKind {
    let unsigned = column_type.contains("unsigned");
    let precision = dp.unwrap_or(0).clamp(0, 6) as u8;
    match data_type {
        "tinyint" if column_type.starts_with("tinyint(1)") => ValueKind::Bool,
        "bool" | "boolean" => ValueKind::Bool,
        "tinyint" => ValueKind::Int { bytes: 1, unsigned },
        "smallint" | "year" => ValueKind::Int { bytes: 2, unsigned },
        "mediumint" => ValueKind::Int { bytes: 3, unsigned },
        "int" | "integer" => ValueKind::Int { bytes: 4, unsigned },
        "bigint" => ValueKind::Int { bytes: 8, unsigned },
        "float" => ValueKind::Float { double: false },
        "double" | "real" => ValueKind::Float { double: true },
        "decimal" | "numeric" => {
            let p = p.unwrap_or(10);
            let s = s.unwrap_or(0);
            if p <= 38 {
                ValueKind::Decimal {
                    precision: p as u8,
                    scale: s as i8,
                }
            } else {
                ValueKind::BigDecimal {
                    precision: Some(p as u32),
                    scale: Some(s as u32),
                }
            }
        }
        "char" | "varchar" => ValueKind::Text {
            max_chars: chars.map(|c| c as u32),
        },
        "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set" => {
            ValueKind::Text { max_chars: None }
        }
        "binary" | "varbinary" => ValueKind::Binary {
            max_bytes: chars.map(|c| c as u32),
        },
        "tinyblob" | "blob" | "mediumblob" | "longblob" => ValueKind::Binary { max_bytes: None },
        "date" => ValueKind::Date,
        "time" => ValueKind::Time { precision },
        "datetime" => ValueKind::Timestamp {
            tz: false,
            precision,
            epoch32: false,
        },
        "timestamp" => ValueKind::Timestamp {
            tz: true,
            precision,
            epoch32: true,
        },
        "json" => ValueKind::Json,
        "uuid" => ValueKind::Uuid,
        _ => ValueKind::Other,
    }
}

impl MyEndpoint {
    pub(crate) async fn connect(
        spec: &ConnectionSpec,
        server: &ServerSpec,
        password: Option<&str>,
    ) -> Result<MyEndpoint, DbError> {
        let mut conn = crate::mysql::MySql::connect(spec, server, password)
            .await?
            .into_conn();
        let target = spec.redacted();
        // Strict mode makes the server refuse, not truncate, any value that
        // slipped past the checks made here.
        sqlx::Executor::execute(
            &mut conn,
            "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@sql_mode, ''), 'STRICT_ALL_TABLES'), \
             time_zone = '+00:00'",
        )
        .await
        .map_err(|e| DbError::Connect {
            target: target.clone(),
            message: sqlx_message(&e),
        })?;
        let version: String = sqlx::query_scalar("SELECT CAST(VERSION() AS CHAR)")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| DbError::Connect {
                target: target.clone(),
                message: sqlx_message(&e),
            })?;
        let lower = version.to_ascii_lowercase();
        let (major, minor) = {
            let mut parts = lower.split(['.', '-']);
            let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
            let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
            (major, minor)
        };
        Ok(MyEndpoint {
            conn,
            target,
            native_uuid: lower.contains("mariadb") && (major, minor) >= (10, 7),
        })
    }

    fn err(&self, action: impl Into<String>) -> impl Fn(sqlx::Error) -> DbError {
        let target = self.target.clone();
        let action = action.into();
        move |e| DbError::Query {
            target: target.clone(),
            action: action.clone(),
            message: sqlx_message(&e),
        }
    }

    fn type_for(&self, kind: &ValueKind, keyed: bool) -> String {
        let text = " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin";
        match kind {
            ValueKind::Bool => "tinyint(1)".into(),
            ValueKind::Int { bytes, unsigned } => {
                let base = match bytes {
                    1 => "tinyint",
                    2 => "smallint",
                    3 => "mediumint",
                    4 => "int",
                    _ => "bigint",
                };
                if *unsigned {
                    format!("{base} unsigned")
                } else {
                    base.into()
                }
            }
            ValueKind::Float { double: false } => "float".into(),
            ValueKind::Float { double: true } => "double".into(),
            ValueKind::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
            ValueKind::BigDecimal {
                precision: Some(p),
                scale: Some(s),
            } if *p <= 65 && *s <= 30 => {
                format!("decimal({p},{s})")
            }
            ValueKind::BigDecimal { .. } => "decimal(65,30)".into(),
            ValueKind::Text { max_chars: Some(n) } if *n <= 16_383 => format!("varchar({n}){text}"),
            ValueKind::Text { .. } | ValueKind::Other if keyed => format!("varchar(255){text}"),
            ValueKind::Text { .. } | ValueKind::Other => format!("longtext{text}"),
            ValueKind::Binary { max_bytes: Some(n) } if *n <= 65_535 => format!("varbinary({n})"),
            ValueKind::Binary { .. } if keyed => "varbinary(255)".into(),
            ValueKind::Binary { .. } => "longblob".into(),
            ValueKind::Date => "date".into(),
            ValueKind::Time { precision } => format!("time({precision})"),
            ValueKind::Timestamp { precision, .. } => format!("datetime({precision})"),
            ValueKind::Uuid if self.native_uuid => "uuid".into(),
            ValueKind::Uuid => format!("char(36){text}"),
            ValueKind::Json if keyed => format!("varchar(255){text}"),
            ValueKind::Json => "json".into(),
        }
    }

    /// The target's rows for the batch's keys, locked for the transaction.
    async fn existing_rows(
        conn: &mut MySqlConnection,
        target: &str,
        plan: &LoadPlan,
        keys: &[Vec<Scalar>],
    ) -> Result<HashMap<String, Vec<Cell<'static>>>, DbError> {
        let key = plan.key_columns();
        let select = plan
            .columns
            .iter()
            .map(|c| select_expr(&c.target))
            .collect::<Vec<_>>()
            .join(", ");
        let current = plan
            .scd2
            .as_ref()
            .map(|s| format!(" AND {} = 1", qi(&s.is_current.name)))
            .unwrap_or_default();
        let mut out = HashMap::new();
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT {select} FROM {} WHERE {}{current} FOR UPDATE",
                qt(&plan.table),
                key_in(&key, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for k in chunk {
                for (v, c) in k.iter().zip(&key) {
                    q = bind(q, scalar_param(v, &c.kind).unwrap_or(Param::Null));
                }
            }
            let rows = q.fetch_all(&mut *conn).await.map_err(|e| DbError::Query {
                target: target.to_string(),
                action: format!("reading the target rows of a batch ({})", plan.table),
                message: sqlx_message(&e),
            })?;
            for row in rows {
                let mut cells = Vec::with_capacity(plan.columns.len());
                for (i, c) in plan.columns.iter().enumerate() {
                    let cell = read_cell(&row, i, &c.target.kind).map_err(|reason| {
                        value_error(target, &plan.table, &c.target.name, "?".into(), reason)
                    })?;
                    cells.push(cell);
                }
                let key_values: Vec<Scalar> = plan
                    .key
                    .iter()
                    .map(|&k| cell_to_scalar(&cells[k]).unwrap_or(Scalar::Text(String::new())))
                    .collect();
                out.insert(canonical_key(&key_values), cells);
            }
        }
        Ok(out)
    }

    /// Inserts rows with multi-row statements; with `upsert`, existing keys
    /// are overwritten (`ON DUPLICATE KEY UPDATE`).
    async fn insert_rows(
        conn: &mut MySqlConnection,
        target: &str,
        table: &TableName,
        names: &[String],
        rows: &[Vec<Param>],
        upsert_columns: Option<&[String]>,
    ) -> Result<(), DbError> {
        if rows.is_empty() {
            return Ok(());
        }
        let per = (60_000 / names.len().max(1)).clamp(1, ROWS_PER_STATEMENT);
        let one = format!("({})", vec!["?"; names.len()].join(", "));
        let update = match upsert_columns {
            Some(cols) if !cols.is_empty() => format!(
                " ON DUPLICATE KEY UPDATE {}",
                cols.iter()
                    .map(|c| format!("{c} = VALUES({c})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => String::new(),
        };
        let mut iter = rows.iter();
        let mut remaining = rows.len();
        while remaining > 0 {
            let n = remaining.min(per);
            let sql = format!(
                "INSERT INTO {} ({}) VALUES {}{update}",
                qt(table),
                names.join(", "),
                vec![one.as_str(); n].join(", ")
            );
            let mut q = sqlx::query(&sql);
            for row in iter.by_ref().take(n) {
                for p in row {
                    q = bind(q, clone_param(p));
                }
            }
            q.execute(&mut *conn).await.map_err(|e| DbError::Query {
                target: target.to_string(),
                action: format!("writing a batch into {table}"),
                message: sqlx_message(&e),
            })?;
            remaining -= n;
        }
        Ok(())
    }

    async fn write_checkpoint(
        conn: &mut MySqlConnection,
        target: &str,
        plan: &LoadPlan,
        cp: &CheckpointWrite,
    ) -> Result<i64, DbError> {
        let (cursor, key) = super::postgres::encode_position(cp);
        let n = sqlx::query(&format!(
            "UPDATE {} SET cursor_column = ?, cursor_value = ?, key_value = ?, run_id = ?, \
             seq = seq + 1, updated_at = CURRENT_TIMESTAMP(6) WHERE job = ? AND seq = ?",
            qt(&plan.checkpoints)
        ))
        .bind(&cp.cursor_column)
        .bind(cursor)
        .bind(key)
        .bind(&cp.run_id)
        .bind(&cp.job)
        .bind(cp.expected_seq)
        .execute(&mut *conn)
        .await
        .map_err(|e| DbError::Query {
            target: target.to_string(),
            action: "moving the checkpoint".into(),
            message: sqlx_message(&e),
        })?
        .rows_affected();
        if n != 1 {
            return Err(DbError::CheckpointMoved {
                target: target.to_string(),
                job: cp.job.clone(),
            });
        }
        Ok(cp.expected_seq + 1)
    }
}

fn clone_param(p: &Param) -> Param {
    match p {
        Param::Null => Param::Null,
        Param::Bool(v) => Param::Bool(*v),
        Param::I64(v) => Param::I64(*v),
        Param::U64(v) => Param::U64(*v),
        Param::F32(v) => Param::F32(*v),
        Param::F64(v) => Param::F64(*v),
        Param::Str(v) => Param::Str(v.clone()),
        Param::Bytes(v) => Param::Bytes(v.clone()),
        Param::Date(v) => Param::Date(*v),
        Param::Time(v) => Param::Time(*v),
        Param::DateTime(v) => Param::DateTime(*v),
    }
}

/// The current time in whole units of a column's precision.
fn now_for(kind: &ValueKind) -> Cell<'static> {
    let precision = match kind {
        ValueKind::Timestamp { precision, .. } => *precision,
        _ => 6,
    };
    let unit = 10i64.pow(6 - precision.min(6) as u32);
    let now = chrono::Utc::now().timestamp_micros();
    Cell::Ts(now - now.rem_euclid(unit))
}

#[async_trait]
impl Endpoint for MyEndpoint {
    fn kind(&self) -> DialectKind {
        DialectKind::Mysql
    }

    fn target(&self) -> &str {
        &self.target
    }

    async fn resolve(&mut self, table: &TableName) -> Result<TableName, DbError> {
        if table.schema.is_some() {
            return Ok(table.clone());
        }
        let row = sqlx::query("SELECT DATABASE()")
            .fetch_one(&mut self.conn)
            .await
            .map_err(self.err("reading the current database"))?;
        Ok(TableName {
            schema: opt_text(&row, 0),
            name: table.name.clone(),
        })
    }

    async fn describe(&mut self, table: &TableName) -> Result<Option<TableInfo>, DbError> {
        let table = self.resolve(table).await?;
        let schema = table.schema.clone().unwrap_or_default();
        let rows = sqlx::query(
            "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, \
                    CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
             ORDER BY ORDINAL_POSITION",
        )
        .bind(&schema)
        .bind(&table.name)
        .fetch_all(&mut self.conn)
        .await
        .map_err(self.err(format!("reading the columns of {table}")))?;
        if rows.is_empty() {
            return Ok(None);
        }
        let columns = rows
            .iter()
            .map(|r| {
                let data_type = opt_text(r, 1).unwrap_or_default().to_ascii_lowercase();
                let column_type = opt_text(r, 2).unwrap_or_default().to_ascii_lowercase();
                let extra = opt_text(r, 5).unwrap_or_default().to_ascii_lowercase();
                let default = opt_text(r, 4);
                ColumnInfo {
                    name: opt_text(r, 0).unwrap_or_default(),
                    kind: my_kind(
                        &data_type,
                        &column_type,
                        opt_int(r, 6),
                        opt_int(r, 7),
                        opt_int(r, 8),
                        opt_int(r, 9),
                    ),
                    native: column_type,
                    nullable: opt_text(r, 3).as_deref() == Some("YES"),
                    auto_increment: extra.contains("auto_increment"),
                    has_default: default.is_some_and(|d| d != "NULL"),
                }
            })
            .collect();
        let keys = sqlx::query(
            "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 \
             ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX",
        )
        .bind(&schema)
        .bind(&table.name)
        .fetch_all(&mut self.conn)
        .await
        .map_err(self.err(format!("reading the keys of {table}")))?;
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for r in keys {
            let index = opt_text(&r, 0).unwrap_or_default();
            let column = opt_text(&r, 1).unwrap_or_default();
            match groups.last_mut() {
                Some((name, cols)) if *name == index => cols.push(column),
                _ => groups.push((index, vec![column])),
            }
        }
        let primary_key = groups
            .iter()
            .find(|(n, _)| n == "PRIMARY")
            .map(|(_, c)| c.clone())
            .unwrap_or_default();
        let engine = sqlx::query(
            "SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
        )
        .bind(&schema)
        .bind(&table.name)
        .fetch_optional(&mut self.conn)
        .await
        .map_err(self.err(format!("reading the engine of {table}")))?
        .and_then(|r| opt_text(&r, 0))
        .unwrap_or_default();
        Ok(Some(TableInfo {
            name: table,
            columns,
            primary_key,
            unique_keys: groups.into_iter().map(|(_, c)| c).collect(),
            transactional: engine.eq_ignore_ascii_case("InnoDB"),
        }))
    }

    async fn is_empty(&mut self, table: &TableName) -> Result<bool, DbError> {
        let any = sqlx::query(&format!("SELECT 1 FROM {} LIMIT 1", qt(table)))
            .fetch_optional(&mut self.conn)
            .await
            .map_err(self.err(format!("looking into {table}")))?;
        Ok(any.is_none())
    }

    async fn first_null(
        &mut self,
        table: &TableName,
        column: &str,
        key: &[ColumnInfo],
    ) -> Result<Option<Vec<Scalar>>, DbError> {
        let sql = format!(
            "SELECT {} FROM {} WHERE {} IS NULL LIMIT 1",
            key.iter().map(select_expr).collect::<Vec<_>>().join(", "),
            qt(table),
            qi(column)
        );
        let row = sqlx::query(&sql)
            .fetch_optional(&mut self.conn)
            .await
            .map_err(self.err(format!("looking for NULLs in {table}.{column}")))?;
        Ok(row.map(|r| row_scalars(&r, key)))
    }

    async fn extract(
        &mut self,
        req: &ExtractRequest,
        sink: mpsc::Sender<ExtractedBatch>,
    ) -> Result<u64, DbError> {
        let order_idx: Vec<usize> = req
            .order
            .iter()
            .map(|o| {
                req.columns
                    .iter()
                    .position(|c| &c.name == o)
                    .expect("order columns are among the columns")
            })
            .collect();
        let order_cols: Vec<&ColumnInfo> = order_idx.iter().map(|&i| &req.columns[i]).collect();
        let kind_refs: Vec<&ValueKind> = req.columns.iter().map(|c| &c.kind).collect();
        let select = format!(
            "SELECT {} FROM {}",
            req.columns
                .iter()
                .map(select_expr)
                .collect::<Vec<_>>()
                .join(", "),
            qt(&req.table)
        );
        let order_by = format!(
            "ORDER BY {} LIMIT {}",
            order_cols
                .iter()
                .map(|c| qi(&c.name))
                .collect::<Vec<_>>()
                .join(", "),
            req.batch_size
        );
        sqlx::Executor::execute(
            &mut self.conn,
            "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
        )
        .await
        .map_err(self.err("starting a read transaction"))?;
        let outcome = async {
            let mut start = req.start.clone();
            let mut sent = 0u64;
            loop {
                let (filter, params): (String, Vec<Param>) = match &start {
                    Start::All => (String::new(), Vec::new()),
                    Start::CursorAbove(v) => (
                        format!(
                            "WHERE {} > {}",
                            qi(&order_cols[0].name),
                            placeholder(order_cols[0])
                        ),
                        vec![scalar_param(v, &order_cols[0].kind).map_err(|r| {
                            value_error(
                                &self.target,
                                &req.table,
                                &order_cols[0].name,
                                "-".into(),
                                r,
                            )
                        })?],
                    ),
                    Start::After(values) => {
                        let (sql, order) = tuple_after(&order_cols);
                        let mut params = Vec::with_capacity(order.len());
                        for i in order {
                            params.push(scalar_param(&values[i], &order_cols[i].kind).map_err(
                                |r| {
                                    value_error(
                                        &self.target,
                                        &req.table,
                                        &order_cols[i].name,
                                        "-".into(),
                                        r,
                                    )
                                },
                            )?);
                        }
                        (format!("WHERE {sql}"), params)
                    }
                };
                let sql = format!("{select} {filter} {order_by}");
                let mut q = sqlx::query(&sql);
                for p in params {
                    q = bind(q, p);
                }
                let rows = q
                    .fetch_all(&mut self.conn)
                    .await
                    .map_err(self.err(format!("reading {}", req.table)))?;
                let n = rows.len();
                if n == 0 {
                    break;
                }
                let mut builder = BatchBuilder::new(&req.columns, n);
                for row in &rows {
                    for (i, c) in req.columns.iter().enumerate() {
                        let cell = read_cell(row, i, &c.kind)
                            .and_then(|cell| builder.push(i, cell).map(|_| ()))
                            .map_err(|reason| {
                                value_error(
                                    &self.target,
                                    &req.table,
                                    &c.name,
                                    super::key_text(
                                        &req.order,
                                        &row_scalars_at(row, &req.columns, &order_idx),
                                    ),
                                    reason,
                                )
                            });
                        cell?;
                    }
                    builder.row_done();
                }
                let batch = builder.finish();
                let last = scalar_at(&batch, &kind_refs, &order_idx, n - 1);
                sent += n as u64;
                start = Start::After(last.clone());
                if sink.send(ExtractedBatch { batch, last }).await.is_err() || n < req.batch_size {
                    break;
                }
            }
            Ok::<u64, DbError>(sent)
        }
        .await;
        let _ = sqlx::Executor::execute(&mut self.conn, "COMMIT").await;
        outcome
    }

    async fn create_table(
        &mut self,
        table: &TableName,
        columns: &[NewColumn],
        primary_key: &[String],
        index: &[String],
        source_kind: DialectKind,
    ) -> Result<(), DbError> {
        let mut defs: Vec<String> = columns
            .iter()
            .map(|c| {
                let keyed = primary_key.contains(&c.name) || index.contains(&c.name);
                let ty = match (&c.same_kind_native, source_kind, &c.kind) {
                    (Some(native), DialectKind::Mysql, k)
                        if *k != ValueKind::Other && !(keyed && native.contains("text")) =>
                    {
                        native.clone()
                    }
                    _ => self.type_for(&c.kind, keyed),
                };
                format!(
                    "{} {ty}{}",
                    qi(&c.name),
                    if c.nullable { " NULL" } else { " NOT NULL" }
                )
            })
            .collect();
        if !primary_key.is_empty() {
            defs.push(format!(
                "PRIMARY KEY ({})",
                primary_key
                    .iter()
                    .map(|k| qi(k))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !index.is_empty() {
            defs.push(format!(
                "INDEX ({})",
                index.iter().map(|k| qi(k)).collect::<Vec<_>>().join(", ")
            ));
        }
        let sql = format!(
            "CREATE TABLE {} ({}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
            qt(table),
            defs.join(", ")
        );
        sqlx::Executor::execute(&mut self.conn, sql.as_str())
            .await
            .map_err(self.err(format!("creating {table}")))?;
        Ok(())
    }

    async fn checkpoint(
        &mut self,
        checkpoints: &TableName,
        job: &str,
    ) -> Result<CheckpointRow, DbError> {
        let t = qt(checkpoints);
        sqlx::Executor::execute(
            &mut self.conn,
            format!(
                "CREATE TABLE IF NOT EXISTS {t} (\
                   job varchar(255) NOT NULL PRIMARY KEY, cursor_column varchar(255) NULL, \
                   cursor_value text NULL, key_value text NULL, run_id varchar(64) NULL, \
                   seq bigint NOT NULL DEFAULT 0, \
                   updated_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) \
                 ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
            )
            .as_str(),
        )
        .await
        .map_err(self.err("creating the checkpoint table"))?;
        sqlx::query(&format!("INSERT IGNORE INTO {t} (job) VALUES (?)"))
            .bind(job)
            .execute(&mut self.conn)
            .await
            .map_err(self.err("adding the job's checkpoint row"))?;
        let row = sqlx::query(&format!(
            "SELECT cursor_column, cursor_value, key_value, run_id, seq, \
                    CAST(updated_at AS CHAR) FROM {t} WHERE job = ?"
        ))
        .bind(job)
        .fetch_one(&mut self.conn)
        .await
        .map_err(self.err("reading the checkpoint"))?;
        super::postgres::checkpoint_row(
            &self.target,
            job,
            opt_text(&row, 0),
            opt_text(&row, 1),
            opt_text(&row, 2),
            opt_text(&row, 3),
            opt_int(&row, 4).unwrap_or(0),
            opt_text(&row, 5),
        )
    }

    async fn load(
        &mut self,
        plan: &LoadPlan,
        batch: &RecordBatch,
        checkpoint: &CheckpointWrite,
    ) -> Result<(LoadCounts, i64), DbError> {
        let target = self.target.clone();
        let prepared = prepare(&target, plan, batch)?;
        let names: Vec<String> = plan.columns.iter().map(|c| qi(&c.target.name)).collect();
        let err = self.err(format!("writing a batch into {}", plan.table));
        let mut tx = self.conn.begin().await.map_err(&err)?;
        let existing = if plan.fresh {
            HashMap::new()
        } else {
            MyEndpoint::existing_rows(&mut tx, &target, plan, &prepared.keys).await?
        };
        let (actions, counts) = classify(&target, plan, &prepared, &existing)?;
        let row_params = |i: usize| prepared.rows[i].iter().map(param).collect::<Vec<_>>();
        let mut deletes = Vec::new();
        match plan.mode {
            LoadMode::Append | LoadMode::Upsert => {
                let mut writes = Vec::new();
                for (i, a) in actions.iter().enumerate() {
                    match a {
                        Action::Insert | Action::Update => writes.push(row_params(i)),
                        Action::Delete => deletes.push(prepared.keys[i].clone()),
                        _ => {}
                    }
                }
                let update: Vec<String> = (0..names.len())
                    .filter(|i| !plan.key.contains(i))
                    .map(|i| names[i].clone())
                    .collect();
                MyEndpoint::insert_rows(
                    &mut tx,
                    &target,
                    &plan.table,
                    &names,
                    &writes,
                    Some(&update),
                )
                .await?;
                if !deletes.is_empty() {
                    let key = plan.key_columns();
                    for chunk in deletes.chunks(ROWS_PER_STATEMENT) {
                        let sql = format!(
                            "DELETE FROM {} WHERE {}",
                            qt(&plan.table),
                            key_in(&key, chunk.len())
                        );
                        let mut q = sqlx::query(&sql);
                        for k in chunk {
                            for (v, c) in k.iter().zip(&key) {
                                q = bind(q, scalar_param(v, &c.kind).unwrap_or(Param::Null));
                            }
                        }
                        q.execute(&mut *tx).await.map_err(&err)?;
                    }
                }
            }
            LoadMode::Scd2 => {
                let scd = plan.scd2.as_ref().expect("an SCD2 plan has its columns");
                let now = now_for(&scd.valid_from.kind);
                let valid_from = |i: usize| -> Result<Param, DbError> {
                    let cell = match scd.from {
                        ValidFrom::Column(c) => prepared.rows[i][c].clone(),
                        ValidFrom::LoadTime => now.clone(),
                    };
                    coerce(cell, &scd.valid_from.kind)
                        .map(|c| param(&c))
                        .map_err(|reason| {
                            value_error(
                                &target,
                                &plan.table,
                                &scd.valid_from.name,
                                super::key_text(&plan.key_names(), &prepared.keys[i]),
                                reason,
                            )
                        })
                };
                let key = plan.key_columns();
                let close_sql = format!(
                    "UPDATE {} SET {} = ?, {} = 0 WHERE {} = 1 AND {}",
                    qt(&plan.table),
                    qi(&scd.valid_to.name),
                    qi(&scd.is_current.name),
                    qi(&scd.is_current.name),
                    key_in(&key, 1)
                );
                let mut versions = Vec::new();
                for (i, a) in actions.iter().enumerate() {
                    if matches!(a, Action::NewVersion | Action::Delete) {
                        let mut q = bind(sqlx::query(&close_sql), valid_from(i)?);
                        for (v, c) in prepared.keys[i].iter().zip(&key) {
                            q = bind(q, scalar_param(v, &c.kind).unwrap_or(Param::Null));
                        }
                        q.execute(&mut *tx).await.map_err(&err)?;
                    }
                    if matches!(a, Action::NewVersion | Action::Insert) {
                        let mut row = row_params(i);
                        row.push(valid_from(i)?);
                        row.push(Param::Null);
                        row.push(Param::Bool(true));
                        versions.push(row);
                    }
                }
                let mut all = names.clone();
                all.push(qi(&scd.valid_from.name));
                all.push(qi(&scd.valid_to.name));
                all.push(qi(&scd.is_current.name));
                MyEndpoint::insert_rows(&mut tx, &target, &plan.table, &all, &versions, None)
                    .await?;
            }
        }
        let seq = MyEndpoint::write_checkpoint(&mut tx, &target, plan, checkpoint).await?;
        tx.commit().await.map_err(&err)?;
        Ok((counts, seq))
    }

    async fn replace_begin(&mut self, plan: &LoadPlan) -> Result<(), DbError> {
        let copy = qt(&replace_copy_name(&plan.table));
        for sql in [
            format!("DROP TABLE IF EXISTS {copy}"),
            format!("CREATE TABLE {copy} LIKE {}", qt(&plan.table)),
        ] {
            sqlx::Executor::execute(&mut self.conn, sql.as_str())
                .await
                .map_err(self.err(format!("creating the copy of {}", plan.table)))?;
        }
        Ok(())
    }

    async fn replace_load(&mut self, plan: &LoadPlan, batch: &RecordBatch) -> Result<u64, DbError> {
        let target = self.target.clone();
        let prepared = prepare(&target, plan, batch)?;
        let names: Vec<String> = plan.columns.iter().map(|c| qi(&c.target.name)).collect();
        let rows: Vec<Vec<Param>> = prepared
            .rows
            .iter()
            .map(|r| r.iter().map(param).collect())
            .collect();
        let err = self.err(format!("loading the copy of {}", plan.table));
        let mut tx = self.conn.begin().await.map_err(&err)?;
        MyEndpoint::insert_rows(
            &mut tx,
            &target,
            &replace_copy_name(&plan.table),
            &names,
            &rows,
            None,
        )
        .await?;
        tx.commit().await.map_err(&err)?;
        Ok(rows.len() as u64)
    }

    async fn replace_commit(
        &mut self,
        plan: &LoadPlan,
        checkpoint: &CheckpointWrite,
    ) -> Result<i64, DbError> {
        // RENAME TABLE swaps both names atomically, but MySQL commits DDL on
        // its own: the checkpoint follows in its own transaction. A crash in
        // between only means the next run replaces the table again.
        let old = qt(&plan
            .table
            .sibling(&format!("{}__tidemark_old", plan.table.name)));
        let err = self.err(format!("swapping in the new {}", plan.table));
        for sql in [
            format!("DROP TABLE IF EXISTS {old}"),
            format!(
                "RENAME TABLE {t} TO {old}, {copy} TO {t}",
                t = qt(&plan.table),
                copy = qt(&replace_copy_name(&plan.table))
            ),
            format!("DROP TABLE {old}"),
        ] {
            sqlx::Executor::execute(&mut self.conn, sql.as_str())
                .await
                .map_err(&err)?;
        }
        let target = self.target.clone();
        let mut tx = self.conn.begin().await.map_err(&err)?;
        let seq = MyEndpoint::write_checkpoint(&mut tx, &target, plan, checkpoint).await?;
        tx.commit().await.map_err(&err)?;
        Ok(seq)
    }

    async fn key_page(
        &mut self,
        table: &TableName,
        key: &[ColumnInfo],
        current_only: Option<&str>,
        after: Option<&[Scalar]>,
        limit: usize,
    ) -> Result<Vec<Vec<Scalar>>, DbError> {
        let cols: Vec<&ColumnInfo> = key.iter().collect();
        let mut conditions = Vec::new();
        let mut params = Vec::new();
        if let Some(current) = current_only {
            conditions.push(format!("{} = 1", qi(current)));
        }
        if let Some(values) = after {
            let (sql, order) = tuple_after(&cols);
            conditions.push(sql);
            for i in order {
                params.push(scalar_param(&values[i], &cols[i].kind).unwrap_or(Param::Null));
            }
        }
        let sql = format!(
            "SELECT {} FROM {} {} ORDER BY {} LIMIT {limit}",
            key.iter().map(select_expr).collect::<Vec<_>>().join(", "),
            qt(table),
            if conditions.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", conditions.join(" AND "))
            },
            key.iter()
                .map(|c| qi(&c.name))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut q = sqlx::query(&sql);
        for p in params {
            q = bind(q, p);
        }
        let rows = q
            .fetch_all(&mut self.conn)
            .await
            .map_err(self.err(format!("reading the keys of {table}")))?;
        Ok(rows.iter().map(|r| row_scalars(r, key)).collect())
    }

    async fn keys_present(
        &mut self,
        table: &TableName,
        key: &[ColumnInfo],
        keys: &[Vec<Scalar>],
    ) -> Result<HashSet<String>, DbError> {
        let mut out = HashSet::new();
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT {} FROM {} WHERE {}",
                key.iter().map(select_expr).collect::<Vec<_>>().join(", "),
                qt(table),
                key_in(key, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for k in chunk {
                for (v, c) in k.iter().zip(key) {
                    q = bind(q, scalar_param(v, &c.kind).unwrap_or(Param::Null));
                }
            }
            let rows = q
                .fetch_all(&mut self.conn)
                .await
                .map_err(self.err(format!("looking up keys in {table}")))?;
            // Answer in the caller's spelling of each key: map the caller's
            // keys through this table's types to match the rows found.
            let typed = |k: &Vec<Scalar>| {
                let values: Vec<Scalar> = k
                    .iter()
                    .zip(key)
                    .map(|(v, c)| {
                        scalar_to_cell(v, &c.kind)
                            .ok()
                            .and_then(|cell| cell_to_scalar(&cell))
                            .unwrap_or_else(|| v.clone())
                    })
                    .collect();
                canonical_key(&values)
            };
            let asked: HashMap<String, String> =
                chunk.iter().map(|k| (typed(k), canonical_key(k))).collect();
            for r in &rows {
                if let Some(original) = asked.get(&canonical_key(&row_scalars(r, key))) {
                    out.insert(original.clone());
                }
            }
        }
        Ok(out)
    }

    async fn delete_keys(&mut self, plan: &LoadPlan, keys: &[Vec<Scalar>]) -> Result<u64, DbError> {
        let key = plan.key_columns();
        let err = self.err(format!("deleting rows of {}", plan.table));
        let mut tx = self.conn.begin().await.map_err(&err)?;
        let mut n = 0;
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let (sql, now) = match &plan.scd2 {
                Some(scd) => (
                    format!(
                        "UPDATE {} SET {} = ?, {} = 0 WHERE {} = 1 AND {}",
                        qt(&plan.table),
                        qi(&scd.valid_to.name),
                        qi(&scd.is_current.name),
                        qi(&scd.is_current.name),
                        key_in(&key, chunk.len())
                    ),
                    Some(param(&now_for(&scd.valid_to.kind))),
                ),
                None => (
                    format!(
                        "DELETE FROM {} WHERE {}",
                        qt(&plan.table),
                        key_in(&key, chunk.len())
                    ),
                    None,
                ),
            };
            let mut q = sqlx::query(&sql);
            if let Some(now) = now {
                q = bind(q, now);
            }
            for k in chunk {
                for (v, c) in k.iter().zip(&key) {
                    q = bind(q, scalar_param(v, &c.kind).unwrap_or(Param::Null));
                }
            }
            n += q.execute(&mut *tx).await.map_err(&err)?.rows_affected();
        }
        tx.commit().await.map_err(&err)?;
        Ok(n)
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

fn row_scalars(row: &MySqlRow, key: &[ColumnInfo]) -> Vec<Scalar> {
    key.iter()
        .enumerate()
        .map(|(i, c)| {
            read_cell(row, i, &c.kind)
                .ok()
                .and_then(|cell| cell_to_scalar(&cell))
                .unwrap_or(Scalar::Text(String::new()))
        })
        .collect()
}

fn row_scalars_at(row: &MySqlRow, columns: &[ColumnInfo], idx: &[usize]) -> Vec<Scalar> {
    idx.iter()
        .map(|&i| {
            read_cell(row, i, &columns[i].kind)
                .ok()
                .and_then(|cell| cell_to_scalar(&cell))
                .unwrap_or(Scalar::Text("?".into()))
        })
        .collect()
}
