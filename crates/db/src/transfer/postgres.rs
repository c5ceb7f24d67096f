//! PostgreSQL as a sync source and target.
//!
//! - **Extraction** is one ordered query per run, streamed: rows arrive in
//!   the binary protocol and are decoded straight into Arrow builders, so
//!   memory holds about one batch whatever the table's size. Watermark values
//!   are bound as text parameters and cast to the column's declared type.
//! - **Loading** writes a batch with binary `COPY` into a temporary staging
//!   table (not WAL-logged, emptied at every commit), then merges it with one
//!   set-based statement (`INSERT … ON CONFLICT` for upsert and append), and
//!   moves the checkpoint row, all in one transaction.

use super::value::{
    cell_to_scalar, coerce, format_decimal, readers, render_cell_text, row_key_text, BatchBuilder,
    Cell,
};
use super::{
    replace_copy_name, scalar_at, value_error, CheckpointRow, CheckpointWrite, ColumnInfo,
    Endpoint, ExtractRequest, ExtractedBatch, LoadCounts, LoadMode, LoadPlan, NewColumn,
    OnConflict, Scalar, Start, TableInfo, TableName, ValidFrom, ValueKind,
};
use crate::error::{sqlx_message, DbError};
use crate::spec::{ConnectionSpec, ServerSpec};
use crate::DialectKind;
use arrow_array::RecordBatch;
use async_trait::async_trait;
use futures::TryStreamExt;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row, ValueRef};
use std::borrow::Cow;
use std::collections::HashSet;
use tokio::sync::mpsc;

/// Microseconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_US: i64 = 946_684_800_000_000;
/// Days from 1970-01-01 to 2000-01-01.
const PG_EPOCH_DAYS: i32 = 10_957;

/// The staging table batches are copied into before they are merged.
const STAGE: &str = "pg_temp.tidemark_stage";

/// A PostgreSQL connection moving data.
pub(crate) struct PgEndpoint {
    conn: PgConnection,
    target: String,
    /// The column list the staging table was created with, if it exists.
    stage: Option<String>,
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

impl PgEndpoint {
    pub(crate) async fn connect(
        spec: &ConnectionSpec,
        server: &ServerSpec,
        password: Option<&str>,
    ) -> Result<PgEndpoint, DbError> {
        let mut conn = crate::postgres::Postgres::connect(spec, server, password)
            .await?
            .conn;
        // A batch and the checkpoint that covers it commit in one
        // transaction, so if the server loses its last commits in a crash it
        // loses rows and checkpoint together, and the next run loads them
        // again. Waiting for each commit's WAL flush buys nothing here.
        sqlx::Executor::execute(&mut conn, "SET synchronous_commit TO off")
            .await
            .map_err(|e| DbError::Connect {
                target: spec.redacted(),
                message: sqlx_message(&e),
            })?;
        Ok(PgEndpoint {
            conn,
            target: spec.redacted(),
            stage: None,
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

    /// Creates the staging table for `plan`'s columns unless it exists.
    async fn ensure_stage(&mut self, plan: &LoadPlan) -> Result<(), DbError> {
        let columns = plan
            .columns
            .iter()
            .map(|c| format!("{} {}", qi(&c.target.name), stage_type(&c.target)))
            .collect::<Vec<_>>()
            .join(", ");
        if self.stage.as_deref() == Some(columns.as_str()) {
            return Ok(());
        }
        let sql = format!(
            "DROP TABLE IF EXISTS {STAGE}; CREATE TEMP TABLE tidemark_stage ({columns}) ON COMMIT DELETE ROWS"
        );
        sqlx::Executor::execute(&mut self.conn, sqlx::raw_sql(&sql))
            .await
            .map_err(self.err("creating the staging table"))?;
        self.stage = Some(columns);
        Ok(())
    }

    /// Copies `batch` into `table` with binary COPY, converting every value to
    /// the target column's type first.
    async fn copy_batch(
        conn: &mut PgConnection,
        target: &str,
        plan: &LoadPlan,
        table: &str,
        batch: &RecordBatch,
    ) -> Result<(), DbError> {
        let data = encode_copy(target, plan, batch)?;
        let columns = plan
            .columns
            .iter()
            .map(|c| qi(&c.target.name))
            .collect::<Vec<_>>()
            .join(", ");
        let err = |e: sqlx::Error| DbError::Query {
            target: target.to_string(),
            action: format!("copying a batch into {}", plan.table),
            message: sqlx_message(&e),
        };
        let mut copy = conn
            .copy_in_raw(&format!(
                "COPY {table} ({columns}) FROM STDIN (FORMAT binary)"
            ))
            .await
            .map_err(err)?;
        if let Err(e) = copy.send(data).await {
            let _ = copy.abort("send failed").await;
            return Err(err(e));
        }
        copy.finish().await.map_err(err)?;
        Ok(())
    }
}

/// The staging column type: the target's own, or text for types loaded
/// through a cast.
fn stage_type(c: &ColumnInfo) -> String {
    match c.kind {
        ValueKind::Other => "text".into(),
        _ => c.native.clone(),
    }
}

/// `s."col"`, cast to the target type when it was staged as text.
fn staged(c: &ColumnInfo) -> String {
    match c.kind {
        ValueKind::Other => format!("s.{}::{}", qi(&c.name), c.native),
        _ => format!("s.{}", qi(&c.name)),
    }
}

/// The kind of a PostgreSQL type from its name and modifier.
fn pg_kind(typname: &str, typmod: i32) -> ValueKind {
    let precision = if typmod >= 0 { typmod.min(6) as u8 } else { 6 };
    match typname {
        "bool" => ValueKind::Bool,
        "int2" => ValueKind::Int {
            bytes: 2,
            unsigned: false,
        },
        "int4" => ValueKind::Int {
            bytes: 4,
            unsigned: false,
        },
        "int8" => ValueKind::Int {
            bytes: 8,
            unsigned: false,
        },
        "float4" => ValueKind::Float { double: false },
        "float8" => ValueKind::Float { double: true },
        "numeric" => {
            if typmod < 4 {
                ValueKind::BigDecimal {
                    precision: None,
                    scale: None,
                }
            } else {
                let p = ((typmod - 4) >> 16) & 0xffff;
                let s = (typmod - 4) & 0xffff;
                if p <= 38 && s <= p {
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
        }
        "varchar" | "bpchar" => ValueKind::Text {
            max_chars: (typmod >= 4).then(|| (typmod - 4) as u32),
        },
        "text" | "name" | "citext" => ValueKind::Text { max_chars: None },
        "bytea" => ValueKind::Binary { max_bytes: None },
        "date" => ValueKind::Date,
        "time" => ValueKind::Time { precision },
        "timestamp" => ValueKind::Timestamp {
            tz: false,
            precision,
            epoch32: false,
        },
        "timestamptz" => ValueKind::Timestamp {
            tz: true,
            precision,
            epoch32: false,
        },
        "uuid" => ValueKind::Uuid,
        "json" | "jsonb" => ValueKind::Json,
        _ => ValueKind::Other,
    }
}

/// The type a created column gets.
fn pg_type_for(kind: &ValueKind) -> String {
    match kind {
        ValueKind::Bool => "boolean".into(),
        ValueKind::Int { bytes, unsigned } => match (bytes, unsigned) {
            (1 | 2, false) | (1, true) => "smallint".into(),
            (2, true) | (3, _) | (4, false) => "integer".into(),
            (4, true) | (8, false) => "bigint".into(),
            _ => "numeric(20,0)".into(),
        },
        ValueKind::Float { double: false } => "real".into(),
        ValueKind::Float { double: true } => "double precision".into(),
        ValueKind::Decimal { precision, scale } => format!("numeric({precision},{scale})"),
        ValueKind::BigDecimal {
            precision: Some(p),
            scale: Some(s),
        } if *p <= 1000 => {
            format!("numeric({p},{s})")
        }
        ValueKind::BigDecimal { .. } => "numeric".into(),
        ValueKind::Text { max_chars: Some(n) } if *n <= 10_485_760 => format!("varchar({n})"),
        ValueKind::Text { .. } | ValueKind::Other => "text".into(),
        ValueKind::Binary { .. } => "bytea".into(),
        ValueKind::Date => "date".into(),
        ValueKind::Time { precision } => format!("time({precision})"),
        ValueKind::Timestamp {
            tz: false,
            precision,
            ..
        } => format!("timestamp({precision})"),
        ValueKind::Timestamp {
            tz: true,
            precision,
            ..
        } => {
            format!("timestamp({precision}) with time zone")
        }
        ValueKind::Uuid => "uuid".into(),
        ValueKind::Json => "jsonb".into(),
    }
}

/// How one source column's binary values are decoded.
#[derive(Clone, Copy)]
enum Decoder {
    Bool,
    I16,
    I32,
    I64,
    F32,
    F64,
    Numeric { scale: Option<i8> },
    Text,
    Bytea,
    Date,
    Time,
    Ts,
    TsTz,
    Uuid,
    Json,
    Jsonb,
}

fn decoder(c: &ColumnInfo) -> Decoder {
    match &c.kind {
        ValueKind::Bool => Decoder::Bool,
        ValueKind::Int { bytes: 2, .. } => Decoder::I16,
        ValueKind::Int { bytes: 4, .. } => Decoder::I32,
        ValueKind::Int { .. } => Decoder::I64,
        ValueKind::Float { double: false } => Decoder::F32,
        ValueKind::Float { double: true } => Decoder::F64,
        ValueKind::Decimal { scale, .. } => Decoder::Numeric {
            scale: Some(*scale),
        },
        ValueKind::BigDecimal { .. } => Decoder::Numeric { scale: None },
        ValueKind::Text { .. } | ValueKind::Other => Decoder::Text,
        ValueKind::Binary { .. } => Decoder::Bytea,
        ValueKind::Date => Decoder::Date,
        ValueKind::Time { .. } => Decoder::Time,
        ValueKind::Timestamp { tz: false, .. } => Decoder::Ts,
        ValueKind::Timestamp { tz: true, .. } => Decoder::TsTz,
        ValueKind::Uuid => Decoder::Uuid,
        ValueKind::Json if c.native.starts_with("jsonb") => Decoder::Jsonb,
        ValueKind::Json => Decoder::Json,
    }
}

/// The select-list expression of a column: types without a binary decoder
/// here are read as their text form.
fn select_expr(c: &ColumnInfo) -> String {
    match c.kind {
        ValueKind::Other => format!("{}::text", qi(&c.name)),
        _ => qi(&c.name),
    }
}

fn fixed<const N: usize>(b: &[u8]) -> Result<[u8; N], String> {
    b.try_into()
        .map_err(|_| format!("expected {N} bytes, got {}", b.len()))
}

fn decode(d: Decoder, b: &[u8]) -> Result<Cell<'_>, String> {
    Ok(match d {
        Decoder::Bool => Cell::Bool(b.first().copied().unwrap_or(0) != 0),
        Decoder::I16 => Cell::Int(i16::from_be_bytes(fixed(b)?) as i64),
        Decoder::I32 => Cell::Int(i32::from_be_bytes(fixed(b)?) as i64),
        Decoder::I64 => Cell::Int(i64::from_be_bytes(fixed(b)?)),
        Decoder::F32 => Cell::F32(f32::from_be_bytes(fixed(b)?)),
        Decoder::F64 => Cell::F64(f64::from_be_bytes(fixed(b)?)),
        Decoder::Numeric { scale } => {
            let text = numeric_text(b)?;
            match scale {
                Some(s) => {
                    let (m, from) = super::value::parse_decimal(&text)
                        .ok_or_else(|| format!("{text} does not fit 38 digits"))?;
                    Cell::Dec(super::value::rescale(m, from, s)?, s)
                }
                None => Cell::DecText(Cow::Owned(text)),
            }
        }
        Decoder::Text => Cell::Text(Cow::Borrowed(
            std::str::from_utf8(b).map_err(|e| e.to_string())?,
        )),
        Decoder::Json => Cell::Json(Cow::Borrowed(
            std::str::from_utf8(b).map_err(|e| e.to_string())?,
        )),
        Decoder::Jsonb => Cell::Json(Cow::Borrowed(
            std::str::from_utf8(b.get(1..).unwrap_or_default()).map_err(|e| e.to_string())?,
        )),
        Decoder::Bytea => Cell::Bytes(Cow::Borrowed(b)),
        Decoder::Date => {
            let d = i32::from_be_bytes(fixed(b)?);
            if d == i32::MAX || d == i32::MIN {
                return Err("infinite dates cannot be moved".into());
            }
            Cell::Date(d + PG_EPOCH_DAYS)
        }
        Decoder::Time => Cell::Time(i64::from_be_bytes(fixed(b)?)),
        Decoder::Ts | Decoder::TsTz => {
            let v = i64::from_be_bytes(fixed(b)?);
            if v == i64::MAX || v == i64::MIN {
                return Err("infinite timestamps cannot be moved".into());
            }
            let us = v + PG_EPOCH_US;
            if matches!(d, Decoder::Ts) {
                Cell::Ts(us)
            } else {
                Cell::TsTz(us)
            }
        }
        Decoder::Uuid => Cell::Uuid(fixed(b)?),
    })
}

/// PostgreSQL's binary numeric as decimal text with its display scale.
fn numeric_text(b: &[u8]) -> Result<String, String> {
    if b.len() < 8 {
        return Err("short numeric value".into());
    }
    let rd = |i: usize| i16::from_be_bytes([b[i], b[i + 1]]);
    let ndigits = rd(0) as usize;
    let weight = rd(2) as i32;
    let sign = u16::from_be_bytes([b[4], b[5]]);
    let dscale = u16::from_be_bytes([b[6], b[7]]) as usize;
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 => return Err("NaN cannot be moved".into()),
        _ => return Err("infinite numerics cannot be moved".into()),
    }
    if b.len() < 8 + 2 * ndigits {
        return Err("short numeric value".into());
    }
    let digits: Vec<i16> = (0..ndigits).map(|i| rd(8 + 2 * i)).collect();
    // Integer part: groups with weight >= 0.
    let mut int = String::new();
    for w in (0..=weight.max(-1)).rev() {
        let idx = (weight - w) as usize;
        let g = digits.get(idx).copied().unwrap_or(0);
        if int.is_empty() {
            if g != 0 {
                int.push_str(&g.to_string());
            }
        } else {
            int.push_str(&format!("{g:04}"));
        }
    }
    if int.is_empty() {
        int.push('0');
    }
    let mut frac = String::new();
    let mut idx = weight + 1;
    while frac.len() < dscale {
        let g = if idx < 0 {
            0
        } else {
            digits.get(idx as usize).copied().unwrap_or(0)
        };
        frac.push_str(&format!("{g:04}"));
        idx += 1;
    }
    frac.truncate(dscale);
    let neg = sign == 0x4000 && (int != "0" || frac.bytes().any(|c| c != b'0'));
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push_str(&int);
    if dscale > 0 {
        out.push('.');
        out.push_str(&frac);
    }
    Ok(out)
}

/// Decimal text as PostgreSQL's binary numeric.
fn encode_numeric(text: &str, out: &mut Vec<u8>) {
    let t = text.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let int = int.trim_start_matches('0');
    let dscale = frac.len();
    let mut int_s = "0".repeat((4 - int.len() % 4) % 4);
    int_s.push_str(int);
    let mut frac_s = frac.to_string();
    frac_s.push_str(&"0".repeat((4 - frac.len() % 4) % 4));
    let mut groups: Vec<i16> = int_s
        .as_bytes()
        .chunks(4)
        .chain(frac_s.as_bytes().chunks(4))
        .map(|c| c.iter().fold(0i16, |a, d| a * 10 + (d - b'0') as i16))
        .collect();
    let mut weight = (int_s.len() / 4) as i32 - 1;
    while groups.first() == Some(&0) {
        groups.remove(0);
        weight -= 1;
    }
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    let sign: u16 = if neg && !groups.is_empty() { 0x4000 } else { 0 };
    let len = 8 + 2 * groups.len();
    out.extend_from_slice(&(len as i32).to_be_bytes());
    out.extend_from_slice(&(groups.len() as i16).to_be_bytes());
    out.extend_from_slice(&(weight as i16).to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&(dscale as u16).to_be_bytes());
    for g in groups {
        out.extend_from_slice(&g.to_be_bytes());
    }
}

/// How a target column's values are written in binary COPY.
#[derive(Clone, Copy)]
enum Encoder {
    Bool,
    I16,
    I32,
    I64,
    F32,
    F64,
    Numeric,
    Text,
    Bytea,
    Date,
    Time,
    Ts,
    Uuid,
    Json,
    Jsonb,
}

fn encoder(c: &ColumnInfo) -> Encoder {
    match &c.kind {
        ValueKind::Bool => Encoder::Bool,
        ValueKind::Int { bytes: 2, .. } => Encoder::I16,
        ValueKind::Int { bytes: 4, .. } => Encoder::I32,
        ValueKind::Int { .. } => Encoder::I64,
        ValueKind::Float { double: false } => Encoder::F32,
        ValueKind::Float { double: true } => Encoder::F64,
        ValueKind::Decimal { .. } | ValueKind::BigDecimal { .. } => Encoder::Numeric,
        ValueKind::Text { .. } | ValueKind::Other => Encoder::Text,
        ValueKind::Binary { .. } => Encoder::Bytea,
        ValueKind::Date => Encoder::Date,
        ValueKind::Time { .. } => Encoder::Time,
        ValueKind::Timestamp { .. } => Encoder::Ts,
        ValueKind::Uuid => Encoder::Uuid,
        ValueKind::Json if c.native.starts_with("jsonb") => Encoder::Jsonb,
        ValueKind::Json => Encoder::Json,
    }
}

fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Writes one converted value.
fn encode(e: Encoder, cell: &Cell<'_>, out: &mut Vec<u8>) -> Result<(), String> {
    if cell.is_null() {
        out.extend_from_slice(&(-1i32).to_be_bytes());
        return Ok(());
    }
    let int = || match cell {
        Cell::Int(i) => Ok(*i),
        Cell::Bool(b) => Ok(*b as i64),
        Cell::UInt(u) => i64::try_from(*u).map_err(|_| format!("{u} is out of range")),
        other => Err(format!("{other:?} is not an integer")),
    };
    match e {
        Encoder::Bool => put(out, &[matches!(cell, Cell::Bool(true)) as u8]),
        Encoder::I16 => put(out, &(int()? as i16).to_be_bytes()),
        Encoder::I32 => put(out, &(int()? as i32).to_be_bytes()),
        Encoder::I64 => put(out, &int()?.to_be_bytes()),
        Encoder::F32 => match cell {
            Cell::F32(f) => put(out, &f.to_be_bytes()),
            other => return Err(format!("{other:?} is not a real")),
        },
        Encoder::F64 => match cell {
            Cell::F64(f) => put(out, &f.to_be_bytes()),
            Cell::F32(f) => put(out, &(*f as f64).to_be_bytes()),
            other => return Err(format!("{other:?} is not a double")),
        },
        Encoder::Numeric => match cell {
            Cell::Dec(m, s) => encode_numeric(&format_decimal(*m, *s), out),
            Cell::DecText(t) => encode_numeric(t, out),
            Cell::Int(i) => encode_numeric(&i.to_string(), out),
            Cell::UInt(u) => encode_numeric(&u.to_string(), out),
            other => return Err(format!("{other:?} is not a decimal")),
        },
        Encoder::Text | Encoder::Json => {
            let text: Cow<'_, str> = match cell {
                Cell::Text(t) | Cell::Json(t) | Cell::DecText(t) => Cow::Borrowed(t.as_ref()),
                other => Cow::Owned(render_cell_text(other)),
            };
            if text.contains('\0') {
                return Err("PostgreSQL text cannot hold the NUL character".into());
            }
            put(out, text.as_bytes());
        }
        Encoder::Jsonb => {
            let text = match cell {
                Cell::Text(t) | Cell::Json(t) => t.as_ref(),
                other => return Err(format!("{other:?} is not JSON")),
            };
            if text.contains("\\u0000") {
                return Err("PostgreSQL jsonb cannot hold the NUL character".into());
            }
            out.extend_from_slice(&((text.len() + 1) as i32).to_be_bytes());
            out.push(1);
            out.extend_from_slice(text.as_bytes());
        }
        Encoder::Bytea => match cell {
            Cell::Bytes(b) => put(out, b),
            other => return Err(format!("{other:?} is not binary")),
        },
        Encoder::Date => match cell {
            Cell::Date(d) => put(out, &(d - PG_EPOCH_DAYS).to_be_bytes()),
            other => return Err(format!("{other:?} is not a date")),
        },
        Encoder::Time => match cell {
            Cell::Time(t) => put(out, &t.to_be_bytes()),
            other => return Err(format!("{other:?} is not a time")),
        },
        Encoder::Ts => match cell {
            Cell::Ts(t) | Cell::TsTz(t) => put(out, &(t - PG_EPOCH_US).to_be_bytes()),
            other => return Err(format!("{other:?} is not a timestamp")),
        },
        Encoder::Uuid => match cell {
            Cell::Uuid(u) => put(out, u),
            other => return Err(format!("{other:?} is not a UUID")),
        },
    }
    Ok(())
}

/// A whole batch as a binary COPY stream, every value converted to its
/// target column's type (the batch is refused at the first value that does
/// not fit, naming the column and the row's key).
fn encode_copy(target: &str, plan: &LoadPlan, batch: &RecordBatch) -> Result<Vec<u8>, DbError> {
    let kinds: Vec<&ValueKind> = plan.columns.iter().map(|c| &c.source.kind).collect();
    let readers = readers(batch, &kinds);
    let encoders: Vec<Encoder> = plan.columns.iter().map(|c| encoder(&c.target)).collect();
    let key_names = plan.key_names();
    let mut out = Vec::with_capacity(batch.num_rows() * plan.columns.len() * 12 + 32);
    out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    out.extend_from_slice(&0i32.to_be_bytes());
    out.extend_from_slice(&0i32.to_be_bytes());
    for row in 0..batch.num_rows() {
        out.extend_from_slice(&(plan.columns.len() as i16).to_be_bytes());
        for (i, col) in plan.columns.iter().enumerate() {
            let fail = |reason: String| {
                value_error(
                    target,
                    &plan.table,
                    &col.target.name,
                    row_key_text(&readers, &plan.key, &key_names, row),
                    reason,
                )
            };
            let cell = coerce(readers[i].get(row), &col.target.kind).map_err(fail)?;
            if cell.is_null() && !col.target.nullable && Some(i) != plan.deleted {
                return Err(fail("NULL cannot go into this NOT NULL column".into()));
            }
            encode(encoders[i], &cell, &mut out).map_err(fail)?;
        }
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    Ok(out)
}

/// A watermark or key value as the text PostgreSQL parses back into the
/// column's type.
fn param_text(s: &Scalar) -> String {
    match s {
        Scalar::TimestampTz(t) => format!("{t}+00"),
        Scalar::Bytes(h) => format!("\\x{h}"),
        other => other.display(),
    }
}

/// `$n::type` placeholders for `values` of `columns`, numbered from `first`.
fn cast_params(columns: &[&ColumnInfo], first: usize) -> Vec<String> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("${}::{}", first + i, c.native))
        .collect()
}

#[async_trait]
impl Endpoint for PgEndpoint {
    fn kind(&self) -> DialectKind {
        DialectKind::Postgres
    }

    fn target(&self) -> &str {
        &self.target
    }

    async fn resolve(&mut self, table: &TableName) -> Result<TableName, DbError> {
        if table.schema.is_some() {
            return Ok(table.clone());
        }
        let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
            .fetch_one(&mut self.conn)
            .await
            .map_err(self.err("reading the current schema"))?;
        Ok(TableName {
            schema: Some(schema),
            name: table.name.clone(),
        })
    }

    async fn describe(&mut self, table: &TableName) -> Result<Option<TableInfo>, DbError> {
        let table = self.resolve(table).await?;
        let schema = table.schema.clone().unwrap_or_default();
        let rows = sqlx::query(
            "SELECT a.attname::text, COALESCE(bt.typname, t.typname)::text, a.atttypmod, \
                    pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef, \
                    a.attidentity::text <> '' \
                      OR COALESCE(pg_catalog.pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false) \
             FROM pg_catalog.pg_attribute a \
             JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_catalog.pg_type t ON t.oid = a.atttypid \
             LEFT JOIN pg_catalog.pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype \
             LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p') \
               AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum",
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
                let typname: String = r.get(1);
                let typmod: i32 = r.get(2);
                ColumnInfo {
                    name: r.get(0),
                    native: r.get(3),
                    kind: pg_kind(&typname, typmod),
                    nullable: !r.get::<bool, _>(4),
                    has_default: r.get(5),
                    auto_increment: r.get(6),
                }
            })
            .collect();
        let keys = sqlx::query(
            "SELECT i.indisprimary, \
                    ARRAY(SELECT a.attname::text \
                          FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(num, ord) \
                          JOIN pg_catalog.pg_attribute a \
                            ON a.attrelid = i.indrelid AND a.attnum = k.num \
                          ORDER BY k.ord) \
             FROM pg_catalog.pg_index i \
             JOIN pg_catalog.pg_class c ON c.oid = i.indrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = $2 AND i.indisunique \
               AND i.indpred IS NULL AND i.indexprs IS NULL \
             ORDER BY NOT i.indisprimary",
        )
        .bind(&schema)
        .bind(&table.name)
        .fetch_all(&mut self.conn)
        .await
        .map_err(self.err(format!("reading the keys of {table}")))?;
        let mut primary_key = Vec::new();
        let mut unique_keys = Vec::new();
        for r in keys {
            let cols: Vec<String> = r.get(1);
            if r.get::<bool, _>(0) {
                primary_key = cols.clone();
            }
            unique_keys.push(cols);
        }
        Ok(Some(TableInfo {
            name: table,
            columns,
            primary_key,
            unique_keys,
            transactional: true,
        }))
    }

    async fn is_empty(&mut self, table: &TableName) -> Result<bool, DbError> {
        let any: Option<i32> = sqlx::query_scalar(&format!("SELECT 1 FROM {} LIMIT 1", qt(table)))
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
        let col = |name: &str| req.columns.iter().position(|c| c.name == name);
        let order_idx: Vec<usize> = req
            .order
            .iter()
            .map(|o| col(o).expect("order columns are among the columns"))
            .collect();
        let order_cols: Vec<&ColumnInfo> = order_idx.iter().map(|&i| &req.columns[i]).collect();
        let (filter, params): (String, Vec<String>) = match &req.start {
            Start::All => (String::new(), Vec::new()),
            Start::After(values) => {
                let names: Vec<String> = order_cols.iter().map(|c| qi(&c.name)).collect();
                let casts = cast_params(&order_cols, 1);
                let first = format!("{} >= {} AND ", names[0], casts[0]);
                (
                    format!(
                        "WHERE {first}({}) > ({})",
                        names.join(", "),
                        casts.join(", ")
                    ),
                    values.iter().map(param_text).collect(),
                )
            }
            Start::CursorAbove(v) => (
                format!(
                    "WHERE {} > {}",
                    qi(&order_cols[0].name),
                    cast_params(&order_cols[..1], 1)[0]
                ),
                vec![param_text(v)],
            ),
        };
        let sql = format!(
            "SELECT {} FROM {} {filter} ORDER BY {}",
            req.columns
                .iter()
                .map(select_expr)
                .collect::<Vec<_>>()
                .join(", "),
            qt(&req.table),
            order_cols
                .iter()
                .map(|c| qi(&c.name))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let decoders: Vec<Decoder> = req.columns.iter().map(decoder).collect();
        let kinds: Vec<ValueKind> = req.columns.iter().map(|c| c.kind.clone()).collect();
        let kind_refs: Vec<&ValueKind> = kinds.iter().collect();
        let target = self.target.clone();
        let mut builder = BatchBuilder::new(&req.columns, req.batch_size);
        let mut sent = 0u64;
        let mut query = sqlx::query(&sql);
        for p in &params {
            query = query.bind(p.as_str());
        }
        let mut rows = query.fetch(&mut self.conn);
        let read_err = |e: sqlx::Error| DbError::Query {
            target: target.clone(),
            action: format!("reading {}", req.table),
            message: sqlx_message(&e),
        };
        loop {
            let row = rows.try_next().await.map_err(read_err)?;
            let Some(row) = row else { break };
            for (i, d) in decoders.iter().enumerate() {
                let raw = row.try_get_raw(i).map_err(read_err)?;
                let cell = if raw.is_null() {
                    Cell::Null
                } else {
                    let bytes = raw.as_bytes().map_err(|e| DbError::Query {
                        target: target.clone(),
                        action: format!("reading {}", req.table),
                        message: e.to_string(),
                    })?;
                    decode(*d, bytes).map_err(|reason| {
                        value_error(
                            &target,
                            &req.table,
                            &req.columns[i].name,
                            key_of_row(&row, &req.columns, &order_idx),
                            reason,
                        )
                    })?
                };
                builder.push(i, cell).map_err(|reason| {
                    value_error(
                        &target,
                        &req.table,
                        &req.columns[i].name,
                        key_of_row(&row, &req.columns, &order_idx),
                        reason,
                    )
                })?;
            }
            if builder.row_done() {
                let batch = builder.finish();
                let last = scalar_at(&batch, &kind_refs, &order_idx, batch.num_rows() - 1);
                sent += batch.num_rows() as u64;
                if sink.send(ExtractedBatch { batch, last }).await.is_err() {
                    return Ok(sent);
                }
            }
        }
        if builder.rows() > 0 {
            let batch = builder.finish();
            let last = scalar_at(&batch, &kind_refs, &order_idx, batch.num_rows() - 1);
            sent += batch.num_rows() as u64;
            let _ = sink.send(ExtractedBatch { batch, last }).await;
        }
        Ok(sent)
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
                let ty = match (&c.same_kind_native, source_kind, &c.kind) {
                    (Some(native), DialectKind::Postgres, k) if *k != ValueKind::Other => {
                        native.clone()
                    }
                    _ => pg_type_for(&c.kind),
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
                "; CREATE INDEX ON {} ({})",
                qt(table),
                index.iter().map(|k| qi(k)).collect::<Vec<_>>().join(", ")
            ));
        }
        sqlx::Executor::execute(&mut self.conn, sqlx::raw_sql(&sql))
            .await
            .map_err(self.err(format!("creating {table}")))?;
        Ok(())
    }

    async fn checkpoint(
        &mut self,
        checkpoints: &TableName,
        job: &str,
    ) -> Result<CheckpointRow, DbError> {
        let create = format!(
            "CREATE TABLE IF NOT EXISTS {} (\
               job text PRIMARY KEY, cursor_column text, cursor_value text, key_value text, \
               run_id text, seq bigint NOT NULL DEFAULT 0, \
               updated_at timestamptz NOT NULL DEFAULT now())",
            qt(checkpoints)
        );
        // Two jobs creating the table at once: the loser's error is harmless.
        if let Err(e) = sqlx::Executor::execute(&mut self.conn, sqlx::raw_sql(&create)).await {
            let exists = sqlx::query_scalar::<_, bool>("SELECT to_regclass($1) IS NOT NULL")
                .bind(qt(checkpoints))
                .fetch_one(&mut self.conn)
                .await
                .unwrap_or(false);
            if !exists {
                return Err(self.err("creating the checkpoint table")(e));
            }
        }
        sqlx::query(&format!(
            "INSERT INTO {} (job) VALUES ($1) ON CONFLICT (job) DO NOTHING",
            qt(checkpoints)
        ))
        .bind(job)
        .execute(&mut self.conn)
        .await
        .map_err(self.err("adding the job's checkpoint row"))?;
        let row = sqlx::query(&format!(
            "SELECT cursor_column, cursor_value, key_value, run_id, seq, updated_at::text \
             FROM {} WHERE job = $1",
            qt(checkpoints)
        ))
        .bind(job)
        .fetch_one(&mut self.conn)
        .await
        .map_err(self.err("reading the checkpoint"))?;
        checkpoint_row(
            &self.target,
            job,
            row.get(0),
            row.get(1),
            row.get(2),
            row.get(3),
            row.get(4),
            row.get(5),
        )
    }

    async fn load(
        &mut self,
        plan: &LoadPlan,
        batch: &RecordBatch,
        checkpoint: &CheckpointWrite,
    ) -> Result<(LoadCounts, i64), DbError> {
        self.ensure_stage(plan).await?;
        let target = self.target.clone();
        let err = |action: &str| {
            let target = target.clone();
            let action = format!("{action} ({})", plan.table);
            move |e: sqlx::Error| DbError::Query {
                target: target.clone(),
                action: action.clone(),
                message: sqlx_message(&e),
            }
        };
        let rows = batch.num_rows() as u64;
        let t = qt(&plan.table);
        let key_names = plan.key_names();
        let key_match = key_names
            .iter()
            .map(|k| format!("t.{} = s.{}", qi(k), qi(k)))
            .collect::<Vec<_>>()
            .join(" AND ");
        let names: Vec<String> = plan.columns.iter().map(|c| qi(&c.target.name)).collect();
        let exprs: Vec<String> = plan.columns.iter().map(|c| staged(&c.target)).collect();
        // The columns compared to tell a changed row from a re-read.
        let compared: Vec<usize> = (0..plan.columns.len())
            .filter(|i| !plan.key.contains(i) && Some(*i) != plan.deleted)
            .collect();
        let differs = |left: &str, right_excluded: bool| {
            if compared.is_empty() {
                return "false".to_string();
            }
            let l = compared
                .iter()
                .map(|&i| format!("{left}.{}", names[i]))
                .collect::<Vec<_>>()
                .join(", ");
            let r = compared
                .iter()
                .map(|&i| {
                    if right_excluded {
                        format!("EXCLUDED.{}", names[i])
                    } else {
                        exprs[i].clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            format!("ROW({l}) IS DISTINCT FROM ROW({r})")
        };
        let flag = match plan.deleted {
            Some(d) if plan.columns[d].target.kind == ValueKind::Bool => {
                format!("s.{} IS TRUE", names[d])
            }
            Some(d) => format!("s.{} IS NOT NULL", names[d]),
            None => "false".into(),
        };

        let mut tx = self
            .conn
            .begin()
            .await
            .map_err(err("beginning a transaction"))?;
        let direct = plan.fresh
            && plan.deleted.is_none()
            && matches!(plan.mode, LoadMode::Append | LoadMode::Upsert)
            && plan
                .columns
                .iter()
                .all(|c| c.target.kind != ValueKind::Other);
        if direct {
            // Nothing to merge with: straight into the table.
            PgEndpoint::copy_batch(&mut tx, &target, plan, &t, batch).await?;
            let counts = LoadCounts {
                inserted: rows,
                ..LoadCounts::default()
            };
            let seq = write_checkpoint(&mut tx, &target, plan, checkpoint).await?;
            tx.commit().await.map_err(err("committing the batch"))?;
            return Ok((counts, seq));
        }
        PgEndpoint::copy_batch(&mut tx, &target, plan, STAGE, batch).await?;
        let mut counts = LoadCounts::default();
        let conflict_target = key_names
            .iter()
            .map(|k| qi(k))
            .collect::<Vec<_>>()
            .join(", ");
        match plan.mode {
            LoadMode::Append | LoadMode::Upsert => {
                if plan.deleted.is_some() {
                    let deleted = sqlx::query(&format!(
                        "DELETE FROM {t} AS t USING {STAGE} AS s WHERE {key_match} AND {flag}"
                    ))
                    .execute(&mut *tx)
                    .await
                    .map_err(err("deleting soft-deleted rows"))?
                    .rows_affected();
                    counts.deleted = deleted;
                }
                if plan.on_conflict == OnConflict::Error {
                    let sql = format!(
                        "SELECT {} FROM {STAGE} AS s JOIN {t} AS t ON {key_match} \
                         WHERE NOT ({flag}) AND {} LIMIT 1",
                        key_names
                            .iter()
                            .map(|k| format!("s.{}::text", qi(k)))
                            .collect::<Vec<_>>()
                            .join(", "),
                        differs("t", false)
                    );
                    if let Some(row) = sqlx::query(&sql)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err("checking for conflicts"))?
                    {
                        let values: Vec<Scalar> = (0..key_names.len())
                            .map(|i| Scalar::Text(row.get::<String, _>(i)))
                            .collect();
                        return Err(DbError::Conflict {
                            target: target.clone(),
                            table: plan.table.to_string(),
                            key: super::key_text(&key_names, &values),
                        });
                    }
                }
                let on_conflict = if plan.mode == LoadMode::Upsert
                    && plan.on_conflict == OnConflict::Overwrite
                    && !compared.is_empty()
                {
                    format!(
                        "DO UPDATE SET {} WHERE {}",
                        compared
                            .iter()
                            .chain(plan.deleted.iter())
                            .map(|&i| format!("{} = EXCLUDED.{}", names[i], names[i]))
                            .collect::<Vec<_>>()
                            .join(", "),
                        differs("t", true)
                    )
                } else {
                    "DO NOTHING".into()
                };
                let sql = format!(
                    "WITH m AS (INSERT INTO {t} AS t ({}) OVERRIDING SYSTEM VALUE \
                     SELECT {} FROM {STAGE} AS s WHERE NOT ({flag}) \
                     ON CONFLICT ({conflict_target}) {on_conflict} RETURNING (t.xmax = 0) AS ins) \
                     SELECT count(*) FILTER (WHERE ins), count(*) FILTER (WHERE NOT ins) FROM m",
                    names.join(", "),
                    exprs.join(", ")
                );
                let (inserted, updated): (i64, i64) = sqlx::query_as(&sql)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(err("merging the batch"))?;
                counts.inserted = inserted as u64;
                counts.updated = updated as u64;
            }
            LoadMode::Scd2 => {
                let scd = plan.scd2.as_ref().expect("an SCD2 plan has its columns");
                let vf = match scd.from {
                    ValidFrom::Column(i) => {
                        format!("CAST({} AS {})", exprs[i], scd.valid_from.native)
                    }
                    ValidFrom::LoadTime => format!("CAST(now() AS {})", scd.valid_from.native),
                };
                let (closed_deleted, closed_changed): (i64, i64) = sqlx::query_as(&format!(
                    "WITH c AS (UPDATE {t} AS t SET {} = {vf}, {} = false FROM {STAGE} AS s \
                     WHERE {key_match} AND t.{} AND (({flag}) OR {}) RETURNING ({flag}) AS del) \
                     SELECT count(*) FILTER (WHERE del), count(*) FILTER (WHERE NOT del) FROM c",
                    qi(&scd.valid_to.name),
                    qi(&scd.is_current.name),
                    qi(&scd.is_current.name),
                    differs("t", false),
                ))
                .fetch_one(&mut *tx)
                .await
                .map_err(err("closing changed versions"))?;
                let inserted = sqlx::query(&format!(
                    "INSERT INTO {t} ({}, {}, {}, {}) OVERRIDING SYSTEM VALUE \
                     SELECT {}, {vf}, NULL, true FROM {STAGE} AS s \
                     WHERE NOT ({flag}) AND NOT EXISTS \
                       (SELECT 1 FROM {t} AS t WHERE {key_match} AND t.{})",
                    names.join(", "),
                    qi(&scd.valid_from.name),
                    qi(&scd.valid_to.name),
                    qi(&scd.is_current.name),
                    exprs.join(", "),
                    qi(&scd.is_current.name),
                ))
                .execute(&mut *tx)
                .await
                .map_err(err("inserting new versions"))?
                .rows_affected();
                counts.updated = closed_changed as u64;
                counts.inserted = inserted.saturating_sub(closed_changed as u64);
                counts.deleted = closed_deleted as u64;
            }
        }
        counts.skipped = rows.saturating_sub(counts.inserted + counts.updated + counts.deleted);
        let seq = write_checkpoint(&mut tx, &target, plan, checkpoint).await?;
        tx.commit().await.map_err(err("committing the batch"))?;
        Ok((counts, seq))
    }

    async fn replace_begin(&mut self, plan: &LoadPlan) -> Result<(), DbError> {
        let copy = qt(&replace_copy_name(&plan.table));
        let sql = format!(
            "DROP TABLE IF EXISTS {copy}; CREATE TABLE {copy} (LIKE {} INCLUDING ALL)",
            qt(&plan.table)
        );
        sqlx::Executor::execute(&mut self.conn, sqlx::raw_sql(&sql))
            .await
            .map_err(self.err(format!("creating the copy of {}", plan.table)))?;
        Ok(())
    }

    async fn replace_load(&mut self, plan: &LoadPlan, batch: &RecordBatch) -> Result<u64, DbError> {
        self.ensure_stage(plan).await?;
        let target = self.target.clone();
        let err = self.err(format!("loading the copy of {}", plan.table));
        let names: Vec<String> = plan.columns.iter().map(|c| qi(&c.target.name)).collect();
        let exprs: Vec<String> = plan.columns.iter().map(|c| staged(&c.target)).collect();
        let mut tx = self.conn.begin().await.map_err(&err)?;
        PgEndpoint::copy_batch(&mut tx, &target, plan, STAGE, batch).await?;
        let n = sqlx::query(&format!(
            "INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {STAGE} AS s",
            qt(&replace_copy_name(&plan.table)),
            names.join(", "),
            exprs.join(", ")
        ))
        .execute(&mut *tx)
        .await
        .map_err(&err)?
        .rows_affected();
        tx.commit().await.map_err(&err)?;
        Ok(n)
    }

    async fn replace_commit(
        &mut self,
        plan: &LoadPlan,
        checkpoint: &CheckpointWrite,
    ) -> Result<i64, DbError> {
        let target = self.target.clone();
        let err = self.err(format!("swapping in the new {}", plan.table));
        let mut tx = self.conn.begin().await.map_err(&err)?;
        let seq = write_checkpoint(&mut tx, &target, plan, checkpoint).await?;
        sqlx::Executor::execute(
            &mut *tx,
            sqlx::raw_sql(&format!(
                "DROP TABLE {}; ALTER TABLE {} RENAME TO {}",
                qt(&plan.table),
                qt(&replace_copy_name(&plan.table)),
                qi(&plan.table.name)
            )),
        )
        .await
        .map_err(&err)?;
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
        let names: Vec<String> = key.iter().map(|c| qi(&c.name)).collect();
        let cols: Vec<&ColumnInfo> = key.iter().collect();
        let mut conditions = Vec::new();
        if let Some(current) = current_only {
            conditions.push(format!("{} IS TRUE", qi(current)));
        }
        if after.is_some() {
            conditions.push(format!(
                "({}) > ({})",
                names.join(", "),
                cast_params(&cols, 1).join(", ")
            ));
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
            names.join(", ")
        );
        let mut q = sqlx::query(&sql);
        let params: Vec<String> = after.unwrap_or_default().iter().map(param_text).collect();
        for p in &params {
            q = q.bind(p.as_str());
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
        if keys.is_empty() {
            return Ok(HashSet::new());
        }
        // The database compares the typed values and answers with the
        // positions of the keys it has, so the answer never depends on how
        // another database spells a value.
        let arrays: Vec<String> = (1..=key.len()).map(|i| format!("${i}::text[]")).collect();
        let aliases: Vec<String> = (0..key.len()).map(|i| format!("k{i}")).collect();
        let matching = key
            .iter()
            .enumerate()
            .map(|(i, c)| format!("t.{} = u.k{i}::{}", qi(&c.name), c.native))
            .collect::<Vec<_>>()
            .join(" AND ");
        let sql = format!(
            "SELECT u.i FROM unnest({}) WITH ORDINALITY AS u({}, i) \
             WHERE EXISTS (SELECT 1 FROM {} AS t WHERE {matching})",
            arrays.join(", "),
            aliases.join(", "),
            qt(table)
        );
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for i in 0..key.len() {
            let column: Vec<String> = keys.iter().map(|k| param_text(&k[i])).collect();
            q = q.bind(column);
        }
        let found = q
            .fetch_all(&mut self.conn)
            .await
            .map_err(self.err(format!("looking up keys in {table}")))?;
        Ok(found
            .into_iter()
            .filter_map(|i| keys.get((i - 1) as usize))
            .map(|k| super::canonical_key(k))
            .collect())
    }

    async fn delete_keys(&mut self, plan: &LoadPlan, keys: &[Vec<Scalar>]) -> Result<u64, DbError> {
        if keys.is_empty() {
            return Ok(0);
        }
        let key = plan.key_columns();
        let names: Vec<String> = key.iter().map(|c| qi(&c.name)).collect();
        let arrays: Vec<String> = key
            .iter()
            .enumerate()
            .map(|(i, c)| format!("${}::text[]::{}[]", i + 1, c.native))
            .collect();
        let matching = format!(
            "({}) IN (SELECT * FROM unnest({}))",
            names.join(", "),
            arrays.join(", ")
        );
        let sql = match &plan.scd2 {
            Some(scd) => format!(
                "UPDATE {} SET {} = CAST(now() AS {}), {} = false WHERE {} AND {matching}",
                qt(&plan.table),
                qi(&scd.valid_to.name),
                scd.valid_to.native,
                qi(&scd.is_current.name),
                qi(&scd.is_current.name),
            ),
            None => format!("DELETE FROM {} WHERE {matching}", qt(&plan.table)),
        };
        let mut q = sqlx::query(&sql);
        for i in 0..key.len() {
            let column: Vec<String> = keys.iter().map(|k| param_text(&k[i])).collect();
            q = q.bind(column);
        }
        Ok(q.execute(&mut self.conn)
            .await
            .map_err(self.err(format!("deleting rows of {}", plan.table)))?
            .rows_affected())
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

/// The values of a row's columns `key` (read with [`select_expr`]) as
/// scalars.
fn row_scalars(row: &sqlx::postgres::PgRow, key: &[ColumnInfo]) -> Vec<Scalar> {
    key.iter()
        .enumerate()
        .map(|(i, c)| {
            let cell = match row.try_get_raw(i) {
                Ok(raw) if !raw.is_null() => raw
                    .as_bytes()
                    .ok()
                    .and_then(|b| decode(decoder(c), b).ok())
                    .and_then(|cell| coerce(cell, &c.kind).ok())
                    .unwrap_or(Cell::Null),
                _ => Cell::Null,
            };
            cell_to_scalar(&cell).unwrap_or(Scalar::Text(String::new()))
        })
        .collect()
}

/// The ordering columns of a row being read, for an error message.
fn key_of_row(row: &sqlx::postgres::PgRow, columns: &[ColumnInfo], order: &[usize]) -> String {
    order
        .iter()
        .map(|&i| {
            let c = &columns[i];
            let value = row
                .try_get_raw(i)
                .ok()
                .filter(|r| !r.is_null())
                .and_then(|r| r.as_bytes().ok().and_then(|b| decode(decoder(c), b).ok()))
                .map(|cell| render_cell_text(&cell))
                .unwrap_or_else(|| "NULL".into());
            format!("{}={value}", c.name)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Moves the checkpoint inside the batch's transaction, expecting the
/// `seq` this run last saw.
async fn write_checkpoint(
    conn: &mut PgConnection,
    target: &str,
    plan: &LoadPlan,
    cp: &CheckpointWrite,
) -> Result<i64, DbError> {
    let (cursor, key) = encode_position(cp);
    let seq: Option<i64> = sqlx::query_scalar(&format!(
        "UPDATE {} SET cursor_column = $2, cursor_value = $3, key_value = $4, run_id = $5, \
         seq = seq + 1, updated_at = now() WHERE job = $1 AND seq = $6 RETURNING seq",
        qt(&plan.checkpoints)
    ))
    .bind(&cp.job)
    .bind(&cp.cursor_column)
    .bind(cursor)
    .bind(key)
    .bind(&cp.run_id)
    .bind(cp.expected_seq)
    .fetch_optional(conn)
    .await
    .map_err(|e| DbError::Query {
        target: target.to_string(),
        action: "moving the checkpoint".into(),
        message: sqlx_message(&e),
    })?;
    seq.ok_or_else(|| DbError::CheckpointMoved {
        target: target.to_string(),
        job: cp.job.clone(),
    })
}

/// A checkpoint position as the JSON text stored in the checkpoint table.
pub(crate) fn encode_position(cp: &CheckpointWrite) -> (Option<String>, Option<String>) {
    let cursor = cp
        .cursor
        .as_ref()
        .map(|c| serde_json::to_string(c).expect("scalars serialize"));
    let key =
        (!cp.key.is_empty()).then(|| serde_json::to_string(&cp.key).expect("scalars serialize"));
    (cursor, key)
}

/// A checkpoint row from its stored text.
#[allow(clippy::too_many_arguments)]
pub(crate) fn checkpoint_row(
    target: &str,
    job: &str,
    cursor_column: Option<String>,
    cursor: Option<String>,
    key: Option<String>,
    run_id: Option<String>,
    seq: i64,
    updated_at: Option<String>,
) -> Result<CheckpointRow, DbError> {
    let unreadable = |e: serde_json::Error| DbError::Query {
        target: target.to_string(),
        action: format!("reading the checkpoint of {job}"),
        message: format!("the stored position is unreadable ({e})"),
    };
    Ok(CheckpointRow {
        job: job.to_string(),
        cursor_column,
        cursor: cursor
            .map(|c| serde_json::from_str(&c))
            .transpose()
            .map_err(unreadable)?,
        key: key
            .map(|k| serde_json::from_str(&k))
            .transpose()
            .map_err(unreadable)?
            .unwrap_or_default(),
        run_id,
        seq,
        updated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        let mut out = Vec::new();
        encode_numeric(text, &mut out);
        numeric_text(&out[4..]).unwrap()
    }

    #[test]
    fn numerics_round_trip_through_the_binary_format() {
        for t in [
            "0",
            "0.00",
            "1",
            "-1",
            "12.34",
            "-12.34",
            "10000",
            "123456789.000001",
            "0.0001",
            "-0.5",
            "99999999999999999999999999999999999999",
            "1.10",
        ] {
            assert_eq!(round_trip(t), t, "{t}");
        }
    }
}
