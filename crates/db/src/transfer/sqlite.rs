//! SQLite as a sync source and target, with every call on tokio's blocking
//! pool.
//!
//! SQLite stores values by storage class, not by declared type, so the
//! declared type decides the kind and each value is checked against it on
//! the way out. Dates and times are ISO-8601 text (`YYYY-MM-DD HH:MM:SS.ffffff`,
//! with `+00:00` for instants); integers stored in a timestamp column are
//! read as Unix seconds. A watermark on SQLite holds the tracking column's
//! value exactly as stored, so the `WHERE` comparison is the one SQLite
//! itself orders by.

use super::rowmerge::{classify, prepare, Action};
use super::value::{
    cell_to_scalar, coerce, format_date, format_decimal, format_time, format_timestamp, hex,
    parse_date, parse_decimal, parse_time, parse_timestamp, parse_uuid, rescale, BatchBuilder,
    Cell,
};
use super::{
    canonical_key, replace_copy_name, value_error, CheckpointRow, CheckpointWrite, ColumnInfo,
    Endpoint, ExtractRequest, ExtractedBatch, LoadCounts, LoadMode, LoadPlan, NewColumn, Scalar,
    Start, TableInfo, TableName, ValidFrom, ValueKind,
};
use crate::error::DbError;
use crate::spec::ConnectionSpec;
use crate::DialectKind;
use arrow_array::RecordBatch;
use async_trait::async_trait;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{params_from_iter, Connection, OptionalExtension};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Significant digits a REAL holds exactly; decimal columns without TEXT
/// affinity hold no more.
const REAL_DIGITS: u8 = 15;

/// A SQLite database file moving data.
pub(crate) struct LiteEndpoint {
    conn: Arc<Mutex<Connection>>,
    target: String,
}

fn qi(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn qt(t: &TableName) -> String {
    match &t.schema {
        Some(s) => format!("{}.{}", qi(s), qi(&t.name)),
        None => qi(&t.name),
    }
}

/// The kind of a column from its declared type.
fn lite_kind(declared: &str) -> ValueKind {
    let d = declared.to_ascii_uppercase();
    let args: Vec<u32> = d
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inner, _)| {
            inner
                .split(',')
                .filter_map(|p| p.trim().parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let text_affinity = d.contains("CHAR") || d.contains("CLOB") || d.contains("TEXT");
    if d.contains("BOOL") {
        ValueKind::Bool
    } else if d.contains("INT") {
        ValueKind::Int {
            bytes: 8,
            unsigned: false,
        }
    } else if d.starts_with("DECIMAL") || d.starts_with("NUMERIC") {
        let p = args.first().copied().unwrap_or(38);
        let s = args.get(1).copied().unwrap_or(0);
        // Without TEXT affinity SQLite keeps decimals as REALs.
        let p = if text_affinity {
            p
        } else {
            p.min(REAL_DIGITS as u32)
        };
        if p <= 38 && s <= p {
            ValueKind::Decimal {
                precision: p as u8,
                scale: s as i8,
            }
        } else {
            ValueKind::BigDecimal {
                precision: Some(p),
                scale: Some(s),
            }
        }
    } else if d.contains("REAL") || d.contains("FLOA") || d.contains("DOUB") {
        ValueKind::Float { double: true }
    } else if d.contains("DATETIME") || d.contains("TIMESTAMP") {
        ValueKind::Timestamp {
            tz: d.contains("TZ") || d.contains("WITH TIME ZONE"),
            precision: 6,
            epoch32: false,
        }
    } else if d.starts_with("DATE") {
        ValueKind::Date
    } else if d.starts_with("TIME") {
        ValueKind::Time { precision: 6 }
    } else if d.contains("UUID") {
        ValueKind::Uuid
    } else if d.contains("JSON") {
        ValueKind::Json
    } else if text_affinity {
        ValueKind::Text { max_chars: None }
    } else if d.contains("BLOB") {
        ValueKind::Binary { max_bytes: None }
    } else {
        ValueKind::Other
    }
}

/// The declared type a created column gets.
fn lite_type(kind: &ValueKind) -> String {
    match kind {
        ValueKind::Bool => "BOOLEAN".into(),
        ValueKind::Int { .. } => "INTEGER".into(),
        ValueKind::Float { .. } => "REAL".into(),
        ValueKind::Decimal { precision, scale } if *precision <= REAL_DIGITS => {
            format!("DECIMAL({precision},{scale})")
        }
        ValueKind::Decimal { precision, scale } => format!("DECIMAL_TEXT({precision},{scale})"),
        ValueKind::BigDecimal {
            precision: Some(p),
            scale: Some(s),
        } => {
            format!("DECIMAL_TEXT({p},{s})")
        }
        ValueKind::BigDecimal { .. } => "DECIMAL_TEXT".into(),
        ValueKind::Text { .. } | ValueKind::Other => "TEXT".into(),
        ValueKind::Binary { .. } => "BLOB".into(),
        ValueKind::Date => "DATE".into(),
        ValueKind::Time { .. } => "TIME".into(),
        ValueKind::Timestamp { tz: false, .. } => "DATETIME".into(),
        ValueKind::Timestamp { tz: true, .. } => "TIMESTAMPTZ".into(),
        ValueKind::Uuid => "UUID".into(),
        ValueKind::Json => "JSON".into(),
    }
}

/// Reads a stored value as a cell of `kind`.
fn read_cell(v: ValueRef<'_>, kind: &ValueKind) -> Result<Cell<'static>, String> {
    let text = |v: ValueRef<'_>| -> Result<String, String> {
        match v {
            ValueRef::Text(t) => {
                String::from_utf8(t.to_vec()).map_err(|_| "the text is not valid UTF-8".to_string())
            }
            ValueRef::Integer(i) => Ok(i.to_string()),
            ValueRef::Real(f) => Ok(f.to_string()),
            ValueRef::Blob(b) => String::from_utf8(b.to_vec())
                .map_err(|_| "the value is a BLOB, not text".to_string()),
            ValueRef::Null => Ok(String::new()),
        }
    };
    if let ValueRef::Null = v {
        return Ok(Cell::Null);
    }
    Ok(match kind {
        ValueKind::Bool => match v {
            ValueRef::Integer(i) => Cell::Bool(i != 0),
            other => match text(other)?.to_ascii_lowercase().as_str() {
                "true" | "t" | "1" => Cell::Bool(true),
                "false" | "f" | "0" => Cell::Bool(false),
                t => return Err(format!("{t:?} is not a boolean")),
            },
        },
        ValueKind::Int { .. } => match v {
            ValueRef::Integer(i) => Cell::Int(i),
            ValueRef::Real(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Cell::Int(f as i64),
            other => {
                let t = text(other)?;
                Cell::Int(
                    t.trim()
                        .parse()
                        .map_err(|_| format!("{t:?} is not an integer"))?,
                )
            }
        },
        ValueKind::Float { double } => {
            let f = match v {
                ValueRef::Real(f) => f,
                ValueRef::Integer(i) => i as f64,
                other => {
                    let t = text(other)?;
                    t.trim()
                        .parse()
                        .map_err(|_| format!("{t:?} is not a number"))?
                }
            };
            if *double {
                Cell::F64(f)
            } else {
                Cell::F32(f as f32)
            }
        }
        ValueKind::Decimal { scale, .. } => {
            let t = text(v)?;
            let (m, s) = parse_decimal(&t).ok_or_else(|| format!("{t:?} is not a decimal"))?;
            Cell::Dec(rescale(m, s, *scale)?, *scale)
        }
        ValueKind::BigDecimal { .. } => {
            let t = text(v)?;
            if parse_decimal(&t).is_none()
                && !t
                    .trim()
                    .chars()
                    .all(|c| c.is_ascii_digit() || "+-.".contains(c))
            {
                return Err(format!("{t:?} is not a decimal"));
            }
            Cell::DecText(Cow::Owned(t))
        }
        ValueKind::Text { .. } | ValueKind::Other => Cell::Text(Cow::Owned(text(v)?)),
        ValueKind::Json => Cell::Json(Cow::Owned(text(v)?)),
        ValueKind::Binary { .. } => match v {
            ValueRef::Blob(b) | ValueRef::Text(b) => Cell::Bytes(Cow::Owned(b.to_vec())),
            other => return Err(format!("{:?} is not binary", text(other)?)),
        },
        ValueKind::Date => {
            let t = text(v)?;
            Cell::Date(parse_date(&t).ok_or_else(|| format!("{t:?} is not a YYYY-MM-DD date"))?)
        }
        ValueKind::Time { .. } => {
            let t = text(v)?;
            Cell::Time(parse_time(&t).ok_or_else(|| format!("{t:?} is not an HH:MM:SS time"))?)
        }
        ValueKind::Timestamp { tz, .. } => {
            let us = match v {
                ValueRef::Integer(secs) => secs
                    .checked_mul(1_000_000)
                    .ok_or_else(|| format!("{secs} is out of range"))?,
                other => {
                    let t = text(other)?;
                    parse_timestamp(&t)
                        .ok_or_else(|| format!("{t:?} is not an ISO-8601 date and time"))?
                }
            };
            if *tz {
                Cell::TsTz(us)
            } else {
                Cell::Ts(us)
            }
        }
        ValueKind::Uuid => match v {
            ValueRef::Blob(b) if b.len() == 16 => {
                let mut u = [0u8; 16];
                u.copy_from_slice(b);
                Cell::Uuid(u)
            }
            other => {
                let t = text(other)?;
                Cell::Uuid(parse_uuid(&t).ok_or_else(|| format!("{t:?} is not a UUID"))?)
            }
        },
    })
}

/// A target-kind cell as the value SQLite stores.
fn to_value(cell: &Cell<'_>) -> Value {
    match cell {
        Cell::Null => Value::Null,
        Cell::Bool(b) => Value::Integer(*b as i64),
        Cell::Int(i) => Value::Integer(*i),
        Cell::UInt(u) => i64::try_from(*u)
            .map(Value::Integer)
            .unwrap_or_else(|_| Value::Text(u.to_string())),
        Cell::F32(f) => Value::Real(*f as f64),
        Cell::F64(f) => Value::Real(*f),
        Cell::Dec(m, s) => Value::Text(format_decimal(*m, *s)),
        Cell::DecText(t) | Cell::Text(t) | Cell::Json(t) => Value::Text(t.to_string()),
        Cell::Bytes(b) => Value::Blob(b.to_vec()),
        Cell::Date(d) => Value::Text(format_date(*d)),
        Cell::Time(t) => Value::Text(format_time(*t)),
        Cell::Ts(t) => Value::Text(format_timestamp(*t)),
        Cell::TsTz(t) => Value::Text(format!("{}+00:00", format_timestamp(*t))),
        Cell::Uuid(u) => Value::Text(super::value::format_uuid(u)),
    }
}

/// A stored value as a watermark value, exactly as stored.
fn raw_scalar(v: ValueRef<'_>) -> Scalar {
    match v {
        ValueRef::Null => Scalar::Text(String::new()),
        ValueRef::Integer(i) => Scalar::Int(i),
        ValueRef::Real(f) => Scalar::Float(f),
        ValueRef::Text(t) => Scalar::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Scalar::Bytes(hex(b)),
    }
}

/// A watermark or key value as a parameter: raw values as they are, typed
/// values in the form this module writes them.
fn scalar_value(s: &Scalar, kind: &ValueKind) -> Value {
    match s {
        Scalar::Int(i) => Value::Integer(*i),
        Scalar::Float(f) => Value::Real(*f),
        Scalar::Text(t) => Value::Text(t.clone()),
        Scalar::Bytes(h) => Value::Blob(super::value::unhex(h).unwrap_or_default()),
        other => match super::value::scalar_to_cell(other, kind) {
            Ok(cell) => to_value(&cell),
            Err(_) => Value::Text(other.display()),
        },
    }
}

fn select_list(columns: &[ColumnInfo]) -> String {
    columns
        .iter()
        .map(|c| qi(&c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

impl LiteEndpoint {
    pub(crate) async fn open(
        spec: &ConnectionSpec,
        path: &Path,
        create: bool,
    ) -> Result<LiteEndpoint, DbError> {
        let conn = crate::sqlite::Sqlite::open(spec, path, create)
            .await?
            .into_conn();
        Ok(LiteEndpoint {
            conn,
            target: spec.redacted(),
        })
    }

    /// Runs `f` on the connection on the blocking pool; its error (an action
    /// and SQLite's message) becomes a query error.
    async fn run<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &str) -> Result<T, DbError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let target = self.target.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard, &target)
        })
        .await
        .map_err(|e| DbError::Query {
            target: self.target.clone(),
            action: "running a blocking SQLite call".into(),
            message: e.to_string(),
        })?
    }
}

fn qerr(target: &str, action: impl Into<String>) -> impl Fn(rusqlite::Error) -> DbError {
    let target = target.to_string();
    let action = action.into();
    move |e| DbError::Query {
        target: target.clone(),
        action: action.clone(),
        message: e.to_string(),
    }
}

fn key_where(key: &[ColumnInfo], first: usize) -> String {
    key.iter()
        .enumerate()
        .map(|(i, c)| format!("{} = ?{}", qi(&c.name), first + i))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Moves the checkpoint inside the open transaction.
fn write_checkpoint(
    conn: &Connection,
    target: &str,
    plan: &LoadPlan,
    cp: &CheckpointWrite,
) -> Result<i64, DbError> {
    let (cursor, key) = super::postgres::encode_position(cp);
    let n = conn
        .execute(
            &format!(
                "UPDATE {} SET cursor_column = ?1, cursor_value = ?2, key_value = ?3, run_id = ?4, \
                 seq = seq + 1, updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') \
                 WHERE job = ?5 AND seq = ?6",
                qt(&plan.checkpoints)
            ),
            rusqlite::params![
                cp.cursor_column,
                cursor,
                key,
                cp.run_id,
                cp.job,
                cp.expected_seq
            ],
        )
        .map_err(qerr(target, "moving the checkpoint"))?;
    if n != 1 {
        return Err(DbError::CheckpointMoved {
            target: target.to_string(),
            job: cp.job.clone(),
        });
    }
    Ok(cp.expected_seq + 1)
}

#[async_trait]
impl Endpoint for LiteEndpoint {
    fn kind(&self) -> DialectKind {
        DialectKind::Sqlite
    }

    fn target(&self) -> &str {
        &self.target
    }

    async fn resolve(&mut self, table: &TableName) -> Result<TableName, DbError> {
        Ok(TableName {
            schema: Some(table.schema.clone().unwrap_or_else(|| "main".into())),
            name: table.name.clone(),
        })
    }

    async fn describe(&mut self, table: &TableName) -> Result<Option<TableInfo>, DbError> {
        let table = self.resolve(table).await?;
        self.run(move |conn, target| {
            let schema = table.schema.clone().unwrap_or_else(|| "main".into());
            let err = qerr(target, format!("reading the columns of {table}"));
            let mut stmt = conn
                .prepare("SELECT name, type, \"notnull\", dflt_value IS NOT NULL, pk FROM pragma_table_info(?1, ?2) ORDER BY cid")
                .map_err(&err)?;
            let rows: Vec<(String, String, bool, bool, i64)> = stmt
                .query_map([&table.name, &schema], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
                .map_err(&err)?
                .collect::<Result<_, _>>()
                .map_err(&err)?;
            if rows.is_empty() {
                return Ok(None);
            }
            let mut pk: Vec<(i64, String)> = rows
                .iter()
                .filter(|r| r.4 > 0)
                .map(|r| (r.4, r.0.clone()))
                .collect();
            pk.sort();
            let primary_key: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();
            let rowid_key = primary_key.len() == 1
                && rows.iter().any(|r| r.0 == primary_key[0] && r.1.eq_ignore_ascii_case("INTEGER"));
            let columns = rows
                .iter()
                .map(|(name, declared, notnull, has_default, _)| {
                    let is_rowid = rowid_key && *name == primary_key[0];
                    ColumnInfo {
                        name: name.clone(),
                        native: declared.clone(),
                        kind: lite_kind(declared),
                        nullable: !notnull && !is_rowid,
                        auto_increment: is_rowid,
                        has_default: *has_default,
                    }
                })
                .collect();
            let mut stmt = conn
                .prepare(
                    "SELECT il.name, ii.name FROM pragma_index_list(?1, ?2) AS il \
                     JOIN pragma_index_info(il.name, ?2) AS ii \
                     WHERE il.\"unique\" = 1 AND il.partial = 0 ORDER BY il.name, ii.seqno",
                )
                .map_err(&err)?;
            let mut groups: Vec<(String, Vec<String>)> = Vec::new();
            let idx: Vec<(String, Option<String>)> = stmt
                .query_map([&table.name, &schema], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(&err)?
                .collect::<Result<_, _>>()
                .map_err(&err)?;
            for (index, column) in idx {
                let Some(column) = column else { continue };
                match groups.last_mut() {
                    Some((n, cols)) if *n == index => cols.push(column),
                    _ => groups.push((index, vec![column])),
                }
            }
            let mut unique_keys: Vec<Vec<String>> = groups.into_iter().map(|(_, c)| c).collect();
            if !primary_key.is_empty() {
                unique_keys.insert(0, primary_key.clone());
            }
            Ok(Some(TableInfo {
                name: table,
                columns,
                primary_key,
                unique_keys,
                transactional: true,
            }))
        })
        .await
    }

    async fn is_empty(&mut self, table: &TableName) -> Result<bool, DbError> {
        let sql = format!("SELECT 1 FROM {} LIMIT 1", qt(table));
        let action = format!("looking into {table}");
        self.run(move |conn, target| {
            conn.query_row(&sql, [], |_| Ok(()))
                .optional()
                .map(|row| row.is_none())
                .map_err(qerr(target, action))
        })
        .await
    }

    async fn first_null(
        &mut self,
        table: &TableName,
        column: &str,
        key: &[ColumnInfo],
    ) -> Result<Option<Vec<Scalar>>, DbError> {
        let sql = format!(
            "SELECT {} FROM {} WHERE {} IS NULL LIMIT 1",
            select_list(key),
            qt(table),
            qi(column)
        );
        let key = key.to_vec();
        let action = format!("looking for NULLs in {table}.{column}");
        self.run(move |conn, target| {
            conn.query_row(&sql, [], |r| {
                Ok(key
                    .iter()
                    .enumerate()
                    .map(|(i, _)| {
                        r.get_ref(i)
                            .map(raw_scalar)
                            .unwrap_or(Scalar::Text(String::new()))
                    })
                    .collect::<Vec<_>>())
            })
            .optional()
            .map_err(qerr(target, action))
        })
        .await
    }

    async fn extract(
        &mut self,
        req: &ExtractRequest,
        sink: mpsc::Sender<ExtractedBatch>,
    ) -> Result<u64, DbError> {
        let req = req.clone();
        self.run(move |conn, target| {
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
            let names: Vec<String> = order_idx
                .iter()
                .map(|&i| qi(&req.columns[i].name))
                .collect();
            let select = format!(
                "SELECT {} FROM {}",
                select_list(&req.columns),
                qt(&req.table)
            );
            let order_by = format!("ORDER BY {} LIMIT {}", names.join(", "), req.batch_size);
            let mut start = req.start.clone();
            let mut sent = 0u64;
            let err = qerr(target, format!("reading {}", req.table));
            loop {
                let (filter, params): (String, Vec<Value>) = match &start {
                    Start::All => (String::new(), Vec::new()),
                    Start::CursorAbove(v) => (
                        format!("WHERE {} > ?1", names[0]),
                        vec![scalar_value(v, &req.columns[order_idx[0]].kind)],
                    ),
                    Start::After(values) => {
                        let placeholders: Vec<String> =
                            (1..=names.len()).map(|i| format!("?{i}")).collect();
                        (
                            format!(
                                "WHERE {} >= ?1 AND ({}) > ({})",
                                names[0],
                                names.join(", "),
                                placeholders.join(", ")
                            ),
                            values
                                .iter()
                                .zip(&order_idx)
                                .map(|(v, &i)| scalar_value(v, &req.columns[i].kind))
                                .collect(),
                        )
                    }
                };
                let sql = format!("{select} {filter} {order_by}");
                let mut stmt = conn.prepare_cached(&sql).map_err(&err)?;
                let mut rows = stmt.query(params_from_iter(params.iter())).map_err(&err)?;
                let mut builder = BatchBuilder::new(&req.columns, req.batch_size);
                let mut last = Vec::new();
                while let Some(row) = rows.next().map_err(&err)? {
                    for (i, c) in req.columns.iter().enumerate() {
                        let v = row.get_ref(i).map_err(&err)?;
                        let pushed = read_cell(v, &c.kind).and_then(|cell| builder.push(i, cell));
                        if let Err(reason) = pushed {
                            let key: Vec<Scalar> = order_idx
                                .iter()
                                .map(|&k| {
                                    row.get_ref(k)
                                        .map(raw_scalar)
                                        .unwrap_or(Scalar::Text("?".into()))
                                })
                                .collect();
                            return Err(value_error(
                                target,
                                &req.table,
                                &c.name,
                                super::key_text(&req.order, &key),
                                reason,
                            ));
                        }
                    }
                    builder.row_done();
                    last = order_idx
                        .iter()
                        .map(|&k| {
                            row.get_ref(k)
                                .map(raw_scalar)
                                .unwrap_or(Scalar::Text(String::new()))
                        })
                        .collect();
                }
                let n = builder.rows();
                if n == 0 {
                    break;
                }
                let batch = builder.finish();
                sent += n as u64;
                start = Start::After(last.clone());
                if sink.blocking_send(ExtractedBatch { batch, last }).is_err() || n < req.batch_size
                {
                    break;
                }
            }
            Ok(sent)
        })
        .await
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
                let ty = match (&c.same_kind_native, source_kind) {
                    (Some(native), DialectKind::Sqlite) => native.clone(),
                    _ => lite_type(&c.kind),
                };
                format!(
                    "{} {ty}{}",
                    qi(&c.name),
                    if c.nullable { "" } else { " NOT NULL" }
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
        let mut sql = format!("CREATE TABLE {} ({})", qt(table), defs.join(", "));
        if !index.is_empty() {
            sql.push_str(&format!(
                "; CREATE INDEX {} ON {} ({})",
                qt(&table.sibling(&format!("{}_tidemark_key", table.name))),
                qi(&table.name),
                index.iter().map(|k| qi(k)).collect::<Vec<_>>().join(", ")
            ));
        }
        let action = format!("creating {table}");
        self.run(move |conn, target| conn.execute_batch(&sql).map_err(qerr(target, action)))
            .await
    }

    async fn checkpoint(
        &mut self,
        checkpoints: &TableName,
        job: &str,
    ) -> Result<CheckpointRow, DbError> {
        let t = qt(checkpoints);
        let job = job.to_string();
        self.run(move |conn, target| {
            conn.execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS {t} (job TEXT PRIMARY KEY NOT NULL, cursor_column TEXT, \
                 cursor_value TEXT, key_value TEXT, run_id TEXT, seq INTEGER NOT NULL DEFAULT 0, \
                 updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')))"
            ))
            .map_err(qerr(target, "creating the checkpoint table"))?;
            conn.execute(&format!("INSERT OR IGNORE INTO {t} (job) VALUES (?1)"), [&job])
                .map_err(qerr(target, "adding the job's checkpoint row"))?;
            let row = conn
                .query_row(
                    &format!("SELECT cursor_column, cursor_value, key_value, run_id, seq, updated_at FROM {t} WHERE job = ?1"),
                    [&job],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
                )
                .map_err(qerr(target, "reading the checkpoint"))?;
            super::postgres::checkpoint_row(target, &job, row.0, row.1, row.2, row.3, row.4, row.5)
        })
        .await
    }

    async fn load(
        &mut self,
        plan: &LoadPlan,
        batch: &RecordBatch,
        checkpoint: &CheckpointWrite,
    ) -> Result<(LoadCounts, i64), DbError> {
        let (plan, batch, checkpoint) = (plan.clone(), batch.clone(), checkpoint.clone());
        self.run(move |conn, target| {
            let prepared = prepare(target, &plan, &batch)?;
            let err = qerr(target, format!("writing a batch into {}", plan.table));
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(&err)?;
            let key = plan.key_columns();
            let t = qt(&plan.table);
            let names: Vec<String> = plan.columns.iter().map(|c| qi(&c.target.name)).collect();
            let current = plan
                .scd2
                .as_ref()
                .map(|s| format!(" AND {} = 1", qi(&s.is_current.name)))
                .unwrap_or_default();
            let mut existing: HashMap<String, Vec<Cell<'static>>> = HashMap::new();
            if !plan.fresh {
                let mut stmt = tx
                    .prepare_cached(&format!(
                        "SELECT {} FROM {t} WHERE {}{current}",
                        names.join(", "),
                        key_where(&key, 1)
                    ))
                    .map_err(&err)?;
                for (i, k) in prepared.keys.iter().enumerate() {
                    let params: Vec<Value> = k
                        .iter()
                        .zip(&key)
                        .map(|(v, c)| scalar_value(v, &c.kind))
                        .collect();
                    let mut rows = stmt.query(params_from_iter(params.iter())).map_err(&err)?;
                    if let Some(row) = rows.next().map_err(&err)? {
                        let mut cells = Vec::with_capacity(plan.columns.len());
                        for (c, col) in plan.columns.iter().enumerate() {
                            let v = row.get_ref(c).map_err(&err)?;
                            cells.push(read_cell(v, &col.target.kind).map_err(|reason| {
                                value_error(
                                    target,
                                    &plan.table,
                                    &col.target.name,
                                    super::key_text(&plan.key_names(), k),
                                    reason,
                                )
                            })?);
                        }
                        existing.insert(prepared.canonical[i].clone(), cells);
                    }
                }
            }
            let (actions, counts) = classify(target, &plan, &prepared, &existing)?;
            let row_values = |i: usize| prepared.rows[i].iter().map(to_value).collect::<Vec<_>>();
            let key_values = |i: usize| -> Vec<Value> {
                prepared.keys[i]
                    .iter()
                    .zip(&key)
                    .map(|(v, c)| scalar_value(v, &c.kind))
                    .collect()
            };
            let insert_sql = format!(
                "INSERT INTO {t} ({}) VALUES ({})",
                names.join(", "),
                (1..=names.len())
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            match plan.mode {
                LoadMode::Append | LoadMode::Upsert => {
                    let non_key: Vec<usize> =
                        (0..names.len()).filter(|i| !plan.key.contains(i)).collect();
                    let update_sql = format!(
                        "UPDATE {t} SET {} WHERE {}",
                        non_key
                            .iter()
                            .enumerate()
                            .map(|(n, &i)| format!("{} = ?{}", names[i], n + 1))
                            .collect::<Vec<_>>()
                            .join(", "),
                        key_where(&key, non_key.len() + 1)
                    );
                    let delete_sql = format!("DELETE FROM {t} WHERE {}", key_where(&key, 1));
                    for (i, a) in actions.iter().enumerate() {
                        match a {
                            Action::Insert => {
                                tx.prepare_cached(&insert_sql)
                                    .and_then(|mut s| s.execute(params_from_iter(row_values(i))))
                                    .map_err(&err)?;
                            }
                            Action::Update if !non_key.is_empty() => {
                                let values = row_values(i);
                                let mut params: Vec<Value> =
                                    non_key.iter().map(|&c| values[c].clone()).collect();
                                params.extend(key_values(i));
                                tx.prepare_cached(&update_sql)
                                    .and_then(|mut s| s.execute(params_from_iter(params)))
                                    .map_err(&err)?;
                            }
                            Action::Delete => {
                                tx.prepare_cached(&delete_sql)
                                    .and_then(|mut s| s.execute(params_from_iter(key_values(i))))
                                    .map_err(&err)?;
                            }
                            _ => {}
                        }
                    }
                }
                LoadMode::Scd2 => {
                    let scd = plan.scd2.as_ref().expect("an SCD2 plan has its columns");
                    let now = {
                        let us = chrono::Utc::now().timestamp_micros();
                        Cell::Ts(us)
                    };
                    let valid_from = |i: usize| -> Result<Value, DbError> {
                        let cell = match scd.from {
                            ValidFrom::Column(c) => prepared.rows[i][c].clone(),
                            ValidFrom::LoadTime => now.clone(),
                        };
                        coerce(cell, &scd.valid_from.kind)
                            .map(|c| to_value(&c))
                            .map_err(|reason| {
                                value_error(
                                    target,
                                    &plan.table,
                                    &scd.valid_from.name,
                                    super::key_text(&plan.key_names(), &prepared.keys[i]),
                                    reason,
                                )
                            })
                    };
                    let close_sql = format!(
                        "UPDATE {t} SET {} = ?1, {} = 0 WHERE {} = 1 AND {}",
                        qi(&scd.valid_to.name),
                        qi(&scd.is_current.name),
                        qi(&scd.is_current.name),
                        key_where(&key, 2)
                    );
                    let version_sql = format!(
                        "INSERT INTO {t} ({}, {}, {}, {}) VALUES ({}, NULL, 1)",
                        names.join(", "),
                        qi(&scd.valid_from.name),
                        qi(&scd.valid_to.name),
                        qi(&scd.is_current.name),
                        (1..=names.len() + 1)
                            .map(|i| format!("?{i}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    for (i, a) in actions.iter().enumerate() {
                        if matches!(a, Action::NewVersion | Action::Delete) {
                            let mut params = vec![valid_from(i)?];
                            params.extend(key_values(i));
                            tx.prepare_cached(&close_sql)
                                .and_then(|mut s| s.execute(params_from_iter(params)))
                                .map_err(&err)?;
                        }
                        if matches!(a, Action::NewVersion | Action::Insert) {
                            let mut params = row_values(i);
                            params.push(valid_from(i)?);
                            tx.prepare_cached(&version_sql)
                                .and_then(|mut s| s.execute(params_from_iter(params)))
                                .map_err(&err)?;
                        }
                    }
                }
            }
            let seq = write_checkpoint(&tx, target, &plan, &checkpoint)?;
            tx.commit().map_err(&err)?;
            Ok((counts, seq))
        })
        .await
    }

    async fn replace_begin(&mut self, plan: &LoadPlan) -> Result<(), DbError> {
        let plan = plan.clone();
        self.run(move |conn, target| {
            let err = qerr(target, format!("creating the copy of {}", plan.table));
            let schema = qi(plan.table.schema.as_deref().unwrap_or("main"));
            let copy = replace_copy_name(&plan.table);
            let create: String = conn
                .query_row(
                    &format!(
                        "SELECT sql FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?1"
                    ),
                    [&plan.table.name],
                    |r| r.get(0),
                )
                .map_err(&err)?;
            // Same definition, new name: the name is the token after
            // CREATE TABLE, however it was quoted.
            let rest = create
                .trim_start()
                .get("CREATE TABLE".len()..)
                .unwrap_or_default()
                .trim_start();
            let body = rest.find('(').map(|i| &rest[i..]).unwrap_or_default();
            conn.execute_batch(&format!(
                "DROP TABLE IF EXISTS {}; CREATE TABLE {} {body}",
                qt(&copy),
                qt(&copy)
            ))
            .map_err(&err)
        })
        .await
    }

    async fn replace_load(&mut self, plan: &LoadPlan, batch: &RecordBatch) -> Result<u64, DbError> {
        let (plan, batch) = (plan.clone(), batch.clone());
        self.run(move |conn, target| {
            let prepared = prepare(target, &plan, &batch)?;
            let err = qerr(target, format!("loading the copy of {}", plan.table));
            let names: Vec<String> = plan.columns.iter().map(|c| qi(&c.target.name)).collect();
            let sql = format!(
                "INSERT INTO {} ({}) VALUES ({})",
                qt(&replace_copy_name(&plan.table)),
                names.join(", "),
                (1..=names.len())
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let tx = conn.transaction().map_err(&err)?;
            {
                let mut stmt = tx.prepare_cached(&sql).map_err(&err)?;
                for row in &prepared.rows {
                    stmt.execute(params_from_iter(row.iter().map(to_value)))
                        .map_err(&err)?;
                }
            }
            tx.commit().map_err(&err)?;
            Ok(prepared.rows.len() as u64)
        })
        .await
    }

    async fn replace_commit(
        &mut self,
        plan: &LoadPlan,
        checkpoint: &CheckpointWrite,
    ) -> Result<i64, DbError> {
        let (plan, checkpoint) = (plan.clone(), checkpoint.clone());
        self.run(move |conn, target| {
            let err = qerr(target, format!("swapping in the new {}", plan.table));
            let schema = qi(plan.table.schema.as_deref().unwrap_or("main"));
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(&err)?;
            let indexes: Vec<String> = {
                let mut stmt = tx
                    .prepare(&format!(
                        "SELECT sql FROM {schema}.sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL"
                    ))
                    .map_err(&err)?;
                let rows = stmt
                    .query_map([&plan.table.name], |r| r.get(0))
                    .map_err(&err)?
                    .collect::<Result<_, _>>()
                    .map_err(&err)?;
                rows
            };
            let seq = write_checkpoint(&tx, target, &plan, &checkpoint)?;
            tx.execute_batch(&format!(
                "DROP TABLE {}; ALTER TABLE {} RENAME TO {}",
                qt(&plan.table),
                qt(&replace_copy_name(&plan.table)),
                qi(&plan.table.name)
            ))
            .map_err(&err)?;
            for sql in indexes {
                tx.execute_batch(&sql).map_err(&err)?;
            }
            tx.commit().map_err(&err)?;
            Ok(seq)
        })
        .await
    }

    async fn key_page(
        &mut self,
        table: &TableName,
        key: &[ColumnInfo],
        current_only: Option<&str>,
        after: Option<&[Scalar]>,
        limit: usize,
    ) -> Result<Vec<Vec<Scalar>>, DbError> {
        let names: Vec<String> = key.iter().map(|c| qi(&c.name)).collect();
        let mut conditions = Vec::new();
        if let Some(current) = current_only {
            conditions.push(format!("{} = 1", qi(current)));
        }
        let params: Vec<Value> = after
            .map(|values| {
                values
                    .iter()
                    .zip(key)
                    .map(|(v, c)| scalar_value(v, &c.kind))
                    .collect()
            })
            .unwrap_or_default();
        if after.is_some() {
            conditions.push(format!(
                "({}) > ({})",
                names.join(", "),
                (1..=names.len())
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let sql = format!(
            "SELECT {} FROM {} {} ORDER BY {} LIMIT {limit}",
            names.join(", "),
            qt(table),
            if conditions.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", conditions.join(" AND "))
            },
            names.join(", ")
        );
        let kinds: Vec<ValueKind> = key.iter().map(|c| c.kind.clone()).collect();
        let action = format!("reading the keys of {table}");
        self.run(move |conn, target| {
            let err = qerr(target, action);
            let mut stmt = conn.prepare(&sql).map_err(&err)?;
            // Typed values, so other databases can look these keys up.
            let rows = stmt
                .query_map(params_from_iter(params.iter()), |r| {
                    kinds
                        .iter()
                        .enumerate()
                        .map(|(i, kind)| {
                            r.get_ref(i).map(|v| {
                                read_cell(v, kind)
                                    .ok()
                                    .and_then(|cell| cell_to_scalar(&cell))
                                    .unwrap_or_else(|| raw_scalar(v))
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(&err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(&err)?;
            Ok(rows)
        })
        .await
    }

    async fn keys_present(
        &mut self,
        table: &TableName,
        key: &[ColumnInfo],
        keys: &[Vec<Scalar>],
    ) -> Result<HashSet<String>, DbError> {
        let key = key.to_vec();
        let keys = keys.to_vec();
        let sql = format!(
            "SELECT {} FROM {} WHERE {}",
            select_list(&key),
            qt(table),
            key.iter()
                .enumerate()
                .map(|(i, c)| match c.kind {
                    // Text forms of UUIDs vary in case.
                    ValueKind::Uuid => format!("lower({}) = lower(?{})", qi(&c.name), i + 1),
                    _ => format!("{} = ?{}", qi(&c.name), i + 1),
                })
                .collect::<Vec<_>>()
                .join(" AND ")
        );
        let action = format!("looking up keys in {table}");
        self.run(move |conn, target| {
            let err = qerr(target, action);
            let mut stmt = conn.prepare(&sql).map_err(&err)?;
            let mut out = HashSet::new();
            for k in &keys {
                let params: Vec<Value> = k
                    .iter()
                    .zip(&key)
                    .map(|(v, c)| scalar_value(v, &c.kind))
                    .collect();
                let mut rows = stmt.query(params_from_iter(params.iter())).map_err(&err)?;
                if let Some(row) = rows.next().map_err(&err)? {
                    let values: Vec<Scalar> = key
                        .iter()
                        .enumerate()
                        .map(|(i, c)| {
                            row.get_ref(i)
                                .ok()
                                .and_then(|v| read_cell(v, &c.kind).ok())
                                .and_then(|cell| coerce(cell, &c.kind).ok())
                                .and_then(|cell| cell_to_scalar(&cell))
                                .unwrap_or(Scalar::Text(String::new()))
                        })
                        .collect();
                    out.insert(canonical_key(&values));
                    // The caller's form of the key counts as present too.
                    out.insert(canonical_key(k));
                }
            }
            Ok(out)
        })
        .await
    }

    async fn delete_keys(&mut self, plan: &LoadPlan, keys: &[Vec<Scalar>]) -> Result<u64, DbError> {
        let plan = plan.clone();
        let keys = keys.to_vec();
        self.run(move |conn, target| {
            let err = qerr(target, format!("deleting rows of {}", plan.table));
            let key = plan.key_columns();
            let t = qt(&plan.table);
            let (sql, extra) = match &plan.scd2 {
                Some(scd) => (
                    format!(
                        "UPDATE {t} SET {} = ?{}, {} = 0 WHERE {} = 1 AND {}",
                        qi(&scd.valid_to.name),
                        key.len() + 1,
                        qi(&scd.is_current.name),
                        qi(&scd.is_current.name),
                        key_where(&key, 1)
                    ),
                    Some(to_value(
                        &coerce(
                            Cell::Ts(chrono::Utc::now().timestamp_micros()),
                            &scd.valid_to.kind,
                        )
                        .unwrap_or(Cell::Null),
                    )),
                ),
                None => (
                    format!("DELETE FROM {t} WHERE {}", key_where(&key, 1)),
                    None,
                ),
            };
            let tx = conn.transaction().map_err(&err)?;
            let mut n = 0u64;
            {
                let mut stmt = tx.prepare_cached(&sql).map_err(&err)?;
                for k in &keys {
                    let mut params: Vec<Value> = k
                        .iter()
                        .zip(&key)
                        .map(|(v, c)| scalar_value(v, &c.kind))
                        .collect();
                    if let Some(e) = &extra {
                        params.push(e.clone());
                    }
                    n += stmt.execute(params_from_iter(params)).map_err(&err)? as u64;
                }
            }
            tx.commit().map_err(&err)?;
            Ok(n)
        })
        .await
    }

    async fn close(self: Box<Self>) -> Result<(), DbError> {
        Ok(())
    }
}
