//! Values in transit: Arrow types per kind, reading cells out of Arrow
//! arrays, building arrays, and the exact conversion of a value to a target
//! column's kind (refusing what would be rounded or cut).

use super::{ColumnInfo, Scalar, ValueKind};
use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, FixedSizeBinaryBuilder,
    Float32Builder, Float64Builder, Int16Builder, Int32Builder, Int64Builder, StringBuilder,
    Time64MicrosecondBuilder, TimestampMicrosecondBuilder, UInt64Builder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type,
    Time64MicrosecondType, TimestampMicrosecondType, UInt64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use std::borrow::Cow;
use std::sync::Arc;

/// Days from 0001-01-01 (chrono's CE day 1) to 1970-01-01.
const UNIX_EPOCH_CE_DAYS: i32 = 719_163;

/// The Arrow type a kind travels as.
pub fn arrow_type(kind: &ValueKind) -> DataType {
    match kind {
        ValueKind::Bool => DataType::Boolean,
        ValueKind::Int { bytes, unsigned } => match (bytes, unsigned) {
            (1 | 2, false) | (1, true) => DataType::Int16,
            (2, true) | (3, _) | (4, false) => DataType::Int32,
            (4, true) | (8, false) => DataType::Int64,
            _ => DataType::UInt64,
        },
        ValueKind::Float { double: false } => DataType::Float32,
        ValueKind::Float { double: true } => DataType::Float64,
        ValueKind::Decimal { precision, scale } => DataType::Decimal128(*precision, *scale),
        ValueKind::BigDecimal { .. }
        | ValueKind::Text { .. }
        | ValueKind::Json
        | ValueKind::Other => DataType::Utf8,
        ValueKind::Binary { .. } => DataType::Binary,
        ValueKind::Date => DataType::Date32,
        ValueKind::Time { .. } => DataType::Time64(TimeUnit::Microsecond),
        ValueKind::Timestamp { tz, .. } => {
            DataType::Timestamp(TimeUnit::Microsecond, tz.then(|| Arc::from("UTC")))
        }
        ValueKind::Uuid => DataType::FixedSizeBinary(16),
    }
}

/// One value, borrowed from an array or owned after a conversion.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    F32(f32),
    F64(f64),
    /// Mantissa and scale: the value is `m / 10^scale`.
    Dec(i128, i8),
    /// A decimal's text, for decimals beyond 38 digits.
    DecText(Cow<'a, str>),
    Text(Cow<'a, str>),
    Bytes(Cow<'a, [u8]>),
    /// Days since 1970-01-01.
    Date(i32),
    /// Microseconds since midnight.
    Time(i64),
    /// Microseconds since 1970-01-01 00:00:00 (wall clock).
    Ts(i64),
    /// Microseconds since the Unix epoch (an instant).
    TsTz(i64),
    Uuid([u8; 16]),
    Json(Cow<'a, str>),
}

impl Cell<'_> {
    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Cell::Null)
    }
}

/// Typed access to one Arrow column.
pub(crate) enum Reader<'a> {
    Bool(&'a arrow_array::BooleanArray),
    I16(&'a arrow_array::PrimitiveArray<Int16Type>),
    I32(&'a arrow_array::PrimitiveArray<Int32Type>),
    I64(&'a arrow_array::PrimitiveArray<Int64Type>),
    U64(&'a arrow_array::PrimitiveArray<UInt64Type>),
    F32(&'a arrow_array::PrimitiveArray<Float32Type>),
    F64(&'a arrow_array::PrimitiveArray<Float64Type>),
    Dec(&'a arrow_array::PrimitiveArray<Decimal128Type>, i8),
    Utf8(&'a arrow_array::StringArray, Utf8Flavor),
    Bin(&'a arrow_array::BinaryArray),
    Date(&'a arrow_array::PrimitiveArray<Date32Type>),
    Time(&'a arrow_array::PrimitiveArray<Time64MicrosecondType>),
    Ts(
        &'a arrow_array::PrimitiveArray<TimestampMicrosecondType>,
        bool,
    ),
    Uuid(&'a arrow_array::FixedSizeBinaryArray),
}

#[derive(Clone, Copy)]
pub(crate) enum Utf8Flavor {
    Text,
    DecText,
    Json,
}

impl<'a> Reader<'a> {
    /// A reader for an array built for `kind`.
    pub(crate) fn new(array: &'a ArrayRef, kind: &ValueKind) -> Reader<'a> {
        match array.data_type() {
            DataType::Boolean => Reader::Bool(array.as_boolean()),
            DataType::Int16 => Reader::I16(array.as_primitive()),
            DataType::Int32 => Reader::I32(array.as_primitive()),
            DataType::Int64 => Reader::I64(array.as_primitive()),
            DataType::UInt64 => Reader::U64(array.as_primitive()),
            DataType::Float32 => Reader::F32(array.as_primitive()),
            DataType::Float64 => Reader::F64(array.as_primitive()),
            DataType::Decimal128(_, s) => Reader::Dec(array.as_primitive(), *s),
            DataType::Utf8 => Reader::Utf8(
                array.as_string(),
                match kind {
                    ValueKind::BigDecimal { .. } => Utf8Flavor::DecText,
                    ValueKind::Json => Utf8Flavor::Json,
                    _ => Utf8Flavor::Text,
                },
            ),
            DataType::Binary => Reader::Bin(array.as_binary()),
            DataType::Date32 => Reader::Date(array.as_primitive()),
            DataType::Time64(_) => Reader::Time(array.as_primitive()),
            DataType::Timestamp(_, tz) => Reader::Ts(array.as_primitive(), tz.is_some()),
            DataType::FixedSizeBinary(_) => Reader::Uuid(array.as_fixed_size_binary()),
            other => unreachable!("transfer batches never hold {other}"),
        }
    }

    /// The value at `row`.
    pub(crate) fn get(&self, row: usize) -> Cell<'a> {
        macro_rules! null_or {
            ($a:expr, $e:expr) => {
                if $a.is_null(row) {
                    Cell::Null
                } else {
                    $e
                }
            };
        }
        match self {
            Reader::Bool(a) => null_or!(a, Cell::Bool(a.value(row))),
            Reader::I16(a) => null_or!(a, Cell::Int(a.value(row) as i64)),
            Reader::I32(a) => null_or!(a, Cell::Int(a.value(row) as i64)),
            Reader::I64(a) => null_or!(a, Cell::Int(a.value(row))),
            Reader::U64(a) => null_or!(a, Cell::UInt(a.value(row))),
            Reader::F32(a) => null_or!(a, Cell::F32(a.value(row))),
            Reader::F64(a) => null_or!(a, Cell::F64(a.value(row))),
            Reader::Dec(a, s) => null_or!(a, Cell::Dec(a.value(row), *s)),
            Reader::Utf8(a, flavor) => null_or!(a, {
                let text = Cow::Borrowed(a.value(row));
                match flavor {
                    Utf8Flavor::Text => Cell::Text(text),
                    Utf8Flavor::DecText => Cell::DecText(text),
                    Utf8Flavor::Json => Cell::Json(text),
                }
            }),
            Reader::Bin(a) => null_or!(a, Cell::Bytes(Cow::Borrowed(a.value(row)))),
            Reader::Date(a) => null_or!(a, Cell::Date(a.value(row))),
            Reader::Time(a) => null_or!(a, Cell::Time(a.value(row))),
            Reader::Ts(a, tz) => null_or!(a, {
                let v = a.value(row);
                if *tz {
                    Cell::TsTz(v)
                } else {
                    Cell::Ts(v)
                }
            }),
            Reader::Uuid(a) => null_or!(a, {
                let mut u = [0u8; 16];
                u.copy_from_slice(a.value(row));
                Cell::Uuid(u)
            }),
        }
    }
}

/// Readers for every column of a batch, given the columns' kinds.
pub(crate) fn readers<'a>(batch: &'a RecordBatch, kinds: &[&ValueKind]) -> Vec<Reader<'a>> {
    batch
        .columns()
        .iter()
        .zip(kinds)
        .map(|(a, k)| Reader::new(a, k))
        .collect()
}

/// Builds one Arrow column from cells of its kind.
pub(crate) enum Builder {
    Bool(BooleanBuilder),
    I16(Int16Builder),
    I32(Int32Builder),
    I64(Int64Builder),
    U64(UInt64Builder),
    F32(Float32Builder),
    F64(Float64Builder),
    Dec(Decimal128Builder, i8),
    Utf8(StringBuilder),
    Bin(BinaryBuilder),
    Date(Date32Builder),
    Time(Time64MicrosecondBuilder),
    Ts(TimestampMicrosecondBuilder),
    Uuid(FixedSizeBinaryBuilder),
}

impl Builder {
    pub(crate) fn new(kind: &ValueKind, capacity: usize) -> Builder {
        match arrow_type(kind) {
            DataType::Boolean => Builder::Bool(BooleanBuilder::with_capacity(capacity)),
            DataType::Int16 => Builder::I16(Int16Builder::with_capacity(capacity)),
            DataType::Int32 => Builder::I32(Int32Builder::with_capacity(capacity)),
            DataType::Int64 => Builder::I64(Int64Builder::with_capacity(capacity)),
            DataType::UInt64 => Builder::U64(UInt64Builder::with_capacity(capacity)),
            DataType::Float32 => Builder::F32(Float32Builder::with_capacity(capacity)),
            DataType::Float64 => Builder::F64(Float64Builder::with_capacity(capacity)),
            DataType::Decimal128(p, s) => Builder::Dec(
                Decimal128Builder::with_capacity(capacity)
                    .with_precision_and_scale(p, s)
                    .expect("precision is at most 38"),
                s,
            ),
            DataType::Utf8 => Builder::Utf8(StringBuilder::with_capacity(capacity, capacity * 16)),
            DataType::Binary => Builder::Bin(BinaryBuilder::with_capacity(capacity, capacity * 16)),
            DataType::Date32 => Builder::Date(Date32Builder::with_capacity(capacity)),
            DataType::Time64(_) => Builder::Time(Time64MicrosecondBuilder::with_capacity(capacity)),
            DataType::Timestamp(_, tz) => Builder::Ts(
                TimestampMicrosecondBuilder::with_capacity(capacity).with_timezone_opt(tz),
            ),
            DataType::FixedSizeBinary(_) => {
                Builder::Uuid(FixedSizeBinaryBuilder::with_capacity(capacity, 16))
            }
            other => unreachable!("no builder for {other}"),
        }
    }

    /// Appends a value; a cell of the wrong shape is an error (the decoder
    /// and the column's kind disagree).
    pub(crate) fn push(&mut self, cell: Cell<'_>) -> Result<(), String> {
        match (self, cell) {
            (Builder::Bool(b), Cell::Null) => b.append_null(),
            (Builder::I16(b), Cell::Null) => b.append_null(),
            (Builder::I32(b), Cell::Null) => b.append_null(),
            (Builder::I64(b), Cell::Null) => b.append_null(),
            (Builder::U64(b), Cell::Null) => b.append_null(),
            (Builder::F32(b), Cell::Null) => b.append_null(),
            (Builder::F64(b), Cell::Null) => b.append_null(),
            (Builder::Dec(b, _), Cell::Null) => b.append_null(),
            (Builder::Utf8(b), Cell::Null) => b.append_null(),
            (Builder::Bin(b), Cell::Null) => b.append_null(),
            (Builder::Date(b), Cell::Null) => b.append_null(),
            (Builder::Time(b), Cell::Null) => b.append_null(),
            (Builder::Ts(b), Cell::Null) => b.append_null(),
            (Builder::Uuid(b), Cell::Null) => b.append_null(),
            (Builder::Bool(b), Cell::Bool(v)) => b.append_value(v),
            (Builder::I16(b), Cell::Int(v)) => {
                b.append_value(i16::try_from(v).map_err(|_| format!("{v} is out of range"))?)
            }
            (Builder::I32(b), Cell::Int(v)) => {
                b.append_value(i32::try_from(v).map_err(|_| format!("{v} is out of range"))?)
            }
            (Builder::I64(b), Cell::Int(v)) => b.append_value(v),
            (Builder::U64(b), Cell::UInt(v)) => b.append_value(v),
            (Builder::U64(b), Cell::Int(v)) => {
                b.append_value(u64::try_from(v).map_err(|_| format!("{v} is out of range"))?)
            }
            (Builder::F32(b), Cell::F32(v)) => b.append_value(v),
            (Builder::F64(b), Cell::F64(v)) => b.append_value(v),
            (Builder::F64(b), Cell::F32(v)) => b.append_value(v as f64),
            (Builder::Dec(b, scale), Cell::Dec(m, s)) => b.append_value(rescale(m, s, *scale)?),
            (Builder::Utf8(b), Cell::Text(v) | Cell::DecText(v) | Cell::Json(v)) => {
                b.append_value(v)
            }
            (Builder::Bin(b), Cell::Bytes(v)) => b.append_value(v),
            (Builder::Date(b), Cell::Date(v)) => b.append_value(v),
            (Builder::Time(b), Cell::Time(v)) => b.append_value(v),
            (Builder::Ts(b), Cell::Ts(v) | Cell::TsTz(v)) => b.append_value(v),
            (Builder::Uuid(b), Cell::Uuid(v)) => b
                .append_value(v)
                .map_err(|e| format!("bad UUID value: {e}"))?,
            (_, cell) => return Err(format!("unexpected value {cell:?} for this column")),
        }
        Ok(())
    }

    pub(crate) fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::I16(b) => Arc::new(b.finish()),
            Builder::I32(b) => Arc::new(b.finish()),
            Builder::I64(b) => Arc::new(b.finish()),
            Builder::U64(b) => Arc::new(b.finish()),
            Builder::F32(b) => Arc::new(b.finish()),
            Builder::F64(b) => Arc::new(b.finish()),
            Builder::Dec(b, _) => Arc::new(b.finish()),
            Builder::Utf8(b) => Arc::new(b.finish()),
            Builder::Bin(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::Time(b) => Arc::new(b.finish()),
            Builder::Ts(b) => Arc::new(b.finish()),
            Builder::Uuid(b) => Arc::new(b.finish()),
        }
    }
}

/// Builds batches of `columns` row by row.
pub(crate) struct BatchBuilder {
    schema: arrow_schema::SchemaRef,
    builders: Vec<Builder>,
    rows: usize,
    capacity: usize,
}

impl BatchBuilder {
    pub(crate) fn new(columns: &[ColumnInfo], capacity: usize) -> BatchBuilder {
        let fields: Vec<arrow_schema::Field> = columns
            .iter()
            .map(|c| arrow_schema::Field::new(&c.name, arrow_type(&c.kind), true))
            .collect();
        BatchBuilder {
            schema: Arc::new(arrow_schema::Schema::new(fields)),
            builders: columns
                .iter()
                .map(|c| Builder::new(&c.kind, capacity))
                .collect(),
            rows: 0,
            capacity,
        }
    }

    pub(crate) fn push(&mut self, column: usize, cell: Cell<'_>) -> Result<(), String> {
        self.builders[column].push(cell)
    }

    /// Counts a completed row; true when the batch is full.
    pub(crate) fn row_done(&mut self) -> bool {
        self.rows += 1;
        self.rows >= self.capacity
    }

    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    pub(crate) fn finish(&mut self) -> RecordBatch {
        self.rows = 0;
        let arrays: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        RecordBatch::try_new(self.schema.clone(), arrays).expect("builders match the schema")
    }
}

/// The ordering columns' values at one row of a batch.
pub fn scalar_at(
    batch: &RecordBatch,
    kinds: &[&ValueKind],
    columns: &[usize],
    row: usize,
) -> Vec<Scalar> {
    columns
        .iter()
        .map(|&c| {
            let reader = Reader::new(batch.column(c), kinds[c]);
            cell_to_scalar(&reader.get(row)).unwrap_or(Scalar::Text(String::new()))
        })
        .collect()
}

/// A cell as a checkpoint value; `None` for NULL.
pub(crate) fn cell_to_scalar(cell: &Cell<'_>) -> Option<Scalar> {
    Some(match cell {
        Cell::Null => return None,
        Cell::Bool(b) => Scalar::Bool(*b),
        Cell::Int(i) => Scalar::Int(*i),
        Cell::UInt(u) => match i64::try_from(*u) {
            Ok(i) => Scalar::Int(i),
            Err(_) => Scalar::UInt(*u),
        },
        Cell::F32(f) => Scalar::Float(*f as f64),
        Cell::F64(f) => Scalar::Float(*f),
        Cell::Dec(m, s) => Scalar::Decimal(format_decimal(*m, *s)),
        Cell::DecText(t) => Scalar::Decimal(t.to_string()),
        Cell::Text(t) => Scalar::Text(t.to_string()),
        Cell::Json(t) => Scalar::Text(t.to_string()),
        Cell::Bytes(b) => Scalar::Bytes(hex(b)),
        Cell::Date(d) => Scalar::Date(format_date(*d)),
        Cell::Time(t) => Scalar::Time(format_time(*t)),
        Cell::Ts(t) => Scalar::Timestamp(format_timestamp(*t)),
        Cell::TsTz(t) => Scalar::TimestampTz(format_timestamp(*t)),
        Cell::Uuid(u) => Scalar::Uuid(format_uuid(u)),
    })
}

/// A checkpoint value as a cell of `kind`, for binding it as a parameter.
pub(crate) fn scalar_to_cell(s: &Scalar, kind: &ValueKind) -> Result<Cell<'static>, String> {
    let cell = match s {
        Scalar::Bool(b) => Cell::Bool(*b),
        Scalar::Int(i) => Cell::Int(*i),
        Scalar::UInt(u) => Cell::UInt(*u),
        Scalar::Float(f) => Cell::F64(*f),
        Scalar::Decimal(d) => Cell::DecText(Cow::Owned(d.clone())),
        Scalar::Text(t) => Cell::Text(Cow::Owned(t.clone())),
        Scalar::Bytes(h) => Cell::Bytes(Cow::Owned(unhex(h).ok_or("bad hex")?)),
        Scalar::Date(d) => Cell::Date(parse_date(d).ok_or_else(|| format!("bad date {d}"))?),
        Scalar::Time(t) => Cell::Time(parse_time(t).ok_or_else(|| format!("bad time {t}"))?),
        Scalar::Timestamp(t) | Scalar::TimestampTz(t) => {
            let us = parse_timestamp(t).ok_or_else(|| format!("bad timestamp {t}"))?;
            if matches!(kind, ValueKind::Timestamp { tz: true, .. }) {
                Cell::TsTz(us)
            } else {
                Cell::Ts(us)
            }
        }
        Scalar::Uuid(u) => Cell::Uuid(parse_uuid(u).ok_or_else(|| format!("bad uuid {u}"))?),
    };
    // Keys travel between databases: make the cell fit the column's kind.
    coerce(cell, kind)
}

/// Why a source column cannot be loaded into a target column at all; `None`
/// when it can (individual values may still be refused by [`coerce`]).
pub fn check_compatible(source: &ValueKind, target: &ValueKind) -> Option<String> {
    use ValueKind::*;
    let ok = matches!(
        (source, target),
        (_, Other)
            | (Bool, Bool | Int { .. })
            | (Int { .. }, Bool)
            | (
                Int { .. },
                Int { .. } | Decimal { .. } | BigDecimal { .. } | Float { .. }
            )
            | (Float { .. }, Float { .. })
            | (
                Decimal { .. } | BigDecimal { .. },
                Decimal { .. } | BigDecimal { .. } | Int { .. }
            )
            | (Text { .. } | Other, Text { .. } | Uuid | Json)
            | (Uuid, Uuid | Text { .. })
            | (Json, Json | Text { .. })
            | (Binary { .. }, Binary { .. })
            | (Date, Date)
            | (Time { .. }, Time { .. })
            | (Timestamp { .. }, Timestamp { .. })
    );
    if ok {
        None
    } else {
        Some(format!(
            "{} values cannot be loaded into a {} column",
            kind_name(source),
            kind_name(target)
        ))
    }
}

/// A short name of a kind for messages.
pub(crate) fn kind_name(kind: &ValueKind) -> String {
    match kind {
        ValueKind::Bool => "boolean".into(),
        ValueKind::Int { .. } => "integer".into(),
        ValueKind::Float { .. } => "floating-point".into(),
        ValueKind::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
        ValueKind::BigDecimal { .. } => "decimal".into(),
        ValueKind::Text { .. } => "text".into(),
        ValueKind::Binary { .. } => "binary".into(),
        ValueKind::Date => "date".into(),
        ValueKind::Time { .. } => "time".into(),
        ValueKind::Timestamp { tz: true, .. } => "timestamp with time zone".into(),
        ValueKind::Timestamp { tz: false, .. } => "timestamp".into(),
        ValueKind::Uuid => "uuid".into(),
        ValueKind::Json => "json".into(),
        ValueKind::Other => "other".into(),
    }
}

fn int_range(bytes: u8, unsigned: bool) -> (i128, i128) {
    let bits = 8 * bytes as u32;
    if unsigned {
        (0, (1i128 << bits) - 1)
    } else {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    }
}

/// `m / 10^from` expressed with scale `to`, refusing to drop non-zero digits.
pub(crate) fn rescale(m: i128, from: i8, to: i8) -> Result<i128, String> {
    if to >= from {
        10i128
            .checked_pow((to - from) as u32)
            .and_then(|f| m.checked_mul(f))
            .ok_or_else(|| "the value has too many digits".to_string())
    } else {
        let f = 10i128
            .checked_pow((from - to) as u32)
            .ok_or_else(|| "the value has too many digits".to_string())?;
        if m % f != 0 {
            Err(format!(
                "{} has more than {to} decimal places and would be rounded",
                format_decimal(m, from)
            ))
        } else {
            Ok(m / f)
        }
    }
}

/// Converts a value to `target`'s kind exactly, or says why it cannot be.
pub(crate) fn coerce<'a>(cell: Cell<'a>, target: &ValueKind) -> Result<Cell<'a>, String> {
    use ValueKind as K;
    if cell.is_null() {
        return Ok(Cell::Null);
    }
    match target {
        K::Other => Ok(match cell {
            Cell::Text(_) | Cell::Json(_) | Cell::DecText(_) => cell,
            other => Cell::Text(Cow::Owned(render_cell_text(&other))),
        }),
        K::Bool => match cell {
            Cell::Bool(_) => Ok(cell),
            Cell::Int(0) | Cell::UInt(0) => Ok(Cell::Bool(false)),
            Cell::Int(1) | Cell::UInt(1) => Ok(Cell::Bool(true)),
            other => Err(format!(
                "{} is not a boolean (0 or 1)",
                render_cell_text(&other)
            )),
        },
        K::Int { bytes, unsigned } => {
            let v: i128 = match cell {
                Cell::Bool(b) => b as i128,
                Cell::Int(i) => i as i128,
                Cell::UInt(u) => u as i128,
                Cell::Dec(m, s) => rescale(m, s, 0)?,
                Cell::DecText(ref t) => {
                    let (m, s) = parse_decimal(t).ok_or_else(|| format!("{t} is not a number"))?;
                    rescale(m, s, 0)?
                }
                other => return Err(format!("{} is not an integer", render_cell_text(&other))),
            };
            let (lo, hi) = int_range(*bytes, *unsigned);
            if v < lo || v > hi {
                return Err(format!("{v} is outside the column's range {lo}..={hi}"));
            }
            Ok(if v > i64::MAX as i128 {
                Cell::UInt(v as u64)
            } else {
                Cell::Int(v as i64)
            })
        }
        K::Float { double } => {
            let v = match cell {
                Cell::F32(f) => f as f64,
                Cell::F64(f) => f,
                Cell::Int(i) => {
                    let limit = if *double { 1i64 << 53 } else { 1i64 << 24 };
                    if i.abs() > limit {
                        return Err(format!(
                            "{i} cannot be held exactly by a floating-point column"
                        ));
                    }
                    i as f64
                }
                Cell::UInt(u) => {
                    return Err(format!(
                        "{u} cannot be held exactly by a floating-point column"
                    ))
                }
                other => return Err(format!("{} is not a number", render_cell_text(&other))),
            };
            if *double {
                Ok(Cell::F64(v))
            } else {
                let narrow = v as f32;
                if (narrow as f64) != v && !v.is_nan() {
                    return Err(format!(
                        "{v} would be rounded by a 4-byte floating-point column"
                    ));
                }
                Ok(Cell::F32(narrow))
            }
        }
        K::Decimal { precision, scale } => {
            let (m, s) = decimal_of(&cell)?;
            let m = rescale(m, s, *scale)?;
            check_digits(m, *scale, *precision as u32)?;
            Ok(Cell::Dec(m, *scale))
        }
        K::BigDecimal { precision, scale } => {
            let text = match cell {
                Cell::DecText(t) => t.into_owned(),
                other => {
                    let (m, s) = decimal_of(&other)?;
                    format_decimal(m, s)
                }
            };
            let text = normalize_decimal_text(&text);
            if let (Some(p), Some(s)) = (precision, scale) {
                let (int_digits, frac_digits) = decimal_text_digits(&text);
                if frac_digits > *s as usize {
                    return Err(format!(
                        "{text} has more than {s} decimal places and would be rounded"
                    ));
                }
                if int_digits > (*p as usize).saturating_sub(*s as usize) {
                    return Err(format!("{text} does not fit decimal({p},{s})"));
                }
            }
            Ok(Cell::DecText(Cow::Owned(text)))
        }
        K::Text { max_chars } => {
            let text: Cow<'a, str> = match cell {
                Cell::Text(t) | Cell::Json(t) | Cell::DecText(t) => t,
                Cell::Uuid(u) => Cow::Owned(format_uuid(&u)),
                other => return Err(format!("{} is not text", render_cell_text(&other))),
            };
            if let Some(max) = max_chars {
                let n = text.chars().count();
                if n > *max as usize {
                    return Err(format!(
                        "the text is {n} characters long and the column holds at most {max}"
                    ));
                }
            }
            Ok(Cell::Text(text))
        }
        K::Binary { max_bytes } => match cell {
            Cell::Bytes(b) => {
                if let Some(max) = max_bytes {
                    if b.len() > *max as usize {
                        return Err(format!(
                            "the value is {} bytes long and the column holds at most {max}",
                            b.len()
                        ));
                    }
                }
                Ok(Cell::Bytes(b))
            }
            other => Err(format!("{} is not binary", render_cell_text(&other))),
        },
        K::Date => match cell {
            Cell::Date(_) => Ok(cell),
            other => Err(format!("{} is not a date", render_cell_text(&other))),
        },
        K::Time { precision } => match cell {
            Cell::Time(t) => {
                check_fraction(t, *precision)?;
                Ok(cell)
            }
            other => Err(format!("{} is not a time", render_cell_text(&other))),
        },
        K::Timestamp {
            tz,
            precision,
            epoch32,
        } => {
            let us = match cell {
                Cell::Ts(v) | Cell::TsTz(v) => v,
                other => return Err(format!("{} is not a timestamp", render_cell_text(&other))),
            };
            check_fraction(us, *precision)?;
            if *epoch32 && !(1_000_000..=2_147_483_647_999_999).contains(&us) {
                return Err(format!(
                    "{} is outside the range of a MySQL TIMESTAMP (1970-01-01 00:00:01 to 2038-01-19 03:14:07 UTC); use DATETIME(6)",
                    format_timestamp(us)
                ));
            }
            Ok(if *tz { Cell::TsTz(us) } else { Cell::Ts(us) })
        }
        K::Uuid => match cell {
            Cell::Uuid(_) => Ok(cell),
            Cell::Text(t) => parse_uuid(&t)
                .map(Cell::Uuid)
                .ok_or_else(|| format!("{t:?} is not a UUID")),
            other => Err(format!("{} is not a UUID", render_cell_text(&other))),
        },
        K::Json => match cell {
            Cell::Json(_) => Ok(cell),
            Cell::Text(t) => {
                if serde_json::from_str::<serde::de::IgnoredAny>(&t).is_err() {
                    return Err("the text is not valid JSON".into());
                }
                Ok(Cell::Json(t))
            }
            other => Err(format!("{} is not JSON", render_cell_text(&other))),
        },
    }
}

fn check_fraction(us: i64, precision: u8) -> Result<(), String> {
    if precision >= 6 {
        return Ok(());
    }
    let unit = 10i64.pow(6 - precision as u32);
    if us.rem_euclid(unit) != 0 {
        return Err(format!(
            "the value has more fractional-second digits than the column keeps ({precision}) and would be rounded"
        ));
    }
    Ok(())
}

fn decimal_of(cell: &Cell<'_>) -> Result<(i128, i8), String> {
    match cell {
        Cell::Dec(m, s) => Ok((*m, *s)),
        Cell::Int(i) => Ok((*i as i128, 0)),
        Cell::UInt(u) => Ok((*u as i128, 0)),
        Cell::DecText(t) | Cell::Text(t) => {
            parse_decimal(t).ok_or_else(|| format!("{t} is not a decimal that fits 38 digits"))
        }
        other => Err(format!("{} is not a decimal", render_cell_text(other))),
    }
}

fn check_digits(m: i128, scale: i8, precision: u32) -> Result<(), String> {
    let limit = 10i128.checked_pow(precision).unwrap_or(i128::MAX);
    if m.abs() >= limit {
        return Err(format!(
            "{} does not fit decimal({precision},{scale})",
            format_decimal(m, scale)
        ));
    }
    Ok(())
}

/// Parses `-12.3400` into mantissa and scale; `None` beyond 38 digits.
pub(crate) fn parse_decimal(text: &str) -> Option<(i128, i8)> {
    let t = text.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.len() > 38 {
        return None;
    }
    let mut m: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        m = m.checked_mul(10)?.checked_add((b - b'0') as i128)?;
    }
    if m >= 10i128.pow(38) {
        return None;
    }
    Some((if neg { -m } else { m }, frac.len() as i8))
}

/// `m / 10^scale` as text with exactly `scale` decimals.
pub(crate) fn format_decimal(m: i128, scale: i8) -> String {
    let neg = m < 0;
    let digits = m.unsigned_abs().to_string();
    let scale = scale.max(0) as usize;
    let mut out = String::with_capacity(digits.len() + 3);
    if neg {
        out.push('-');
    }
    if scale == 0 {
        out.push_str(&digits);
    } else if digits.len() > scale {
        out.push_str(&digits[..digits.len() - scale]);
        out.push('.');
        out.push_str(&digits[digits.len() - scale..]);
    } else {
        out.push_str("0.");
        out.push_str(&"0".repeat(scale - digits.len()));
        out.push_str(&digits);
    }
    out
}

/// A decimal's text without a plus sign, leading zeros or trailing
/// fractional zeros (`-0012.3400` → `-12.34`), so equal values compare equal.
pub(crate) fn normalize_decimal_text(text: &str) -> String {
    let t = text.trim();
    let (neg, rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let body = if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    };
    if neg && body != "0" {
        format!("-{body}")
    } else {
        body
    }
}

fn decimal_text_digits(normalized: &str) -> (usize, usize) {
    let body = normalized.trim_start_matches('-');
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let int_digits = if int == "0" { 0 } else { int.len() };
    (int_digits, frac.len())
}

pub(crate) fn format_date(days: i32) -> String {
    match NaiveDate::from_num_days_from_ce_opt(days + UNIX_EPOCH_CE_DAYS) {
        Some(d) => d.format("%Y-%m-%d").to_string(),
        None => format!("day {days}"),
    }
}

pub(crate) fn date_of(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days + UNIX_EPOCH_CE_DAYS)
}

pub(crate) fn days_of(date: NaiveDate) -> i32 {
    chrono::Datelike::num_days_from_ce(&date) - UNIX_EPOCH_CE_DAYS
}

pub(crate) fn parse_date(text: &str) -> Option<i32> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .map(days_of)
}

pub(crate) fn format_time(us: i64) -> String {
    match time_of(us) {
        Some(t) => t.format("%H:%M:%S%.6f").to_string(),
        None => format!("{us} us"),
    }
}

pub(crate) fn time_of(us: i64) -> Option<NaiveTime> {
    if !(0..86_400_000_000).contains(&us) {
        return None;
    }
    NaiveTime::from_num_seconds_from_midnight_opt(
        (us / 1_000_000) as u32,
        ((us % 1_000_000) * 1000) as u32,
    )
}

pub(crate) fn micros_of_time(t: NaiveTime) -> i64 {
    t.num_seconds_from_midnight() as i64 * 1_000_000 + (t.nanosecond() / 1000) as i64
}

pub(crate) fn parse_time(text: &str) -> Option<i64> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M:%S%.f")
        .ok()
        .map(micros_of_time)
}

pub(crate) fn datetime_of(us: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_micros(us).map(|d| d.naive_utc())
}

pub(crate) fn micros_of(dt: NaiveDateTime) -> i64 {
    dt.and_utc().timestamp_micros()
}

/// `YYYY-MM-DD HH:MM:SS.ffffff`.
pub(crate) fn format_timestamp(us: i64) -> String {
    match datetime_of(us) {
        Some(d) => d.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
        None => format!("{us} us"),
    }
}

/// Parses the ISO forms SQLite databases and checkpoints hold:
/// `YYYY-MM-DD[ T]HH:MM[:SS[.f…]][Z|±HH:MM]` (an offset is applied, giving
/// UTC) or a bare date.
pub(crate) fn parse_timestamp(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(&t.replacen(' ', "T", 1)) {
        return Some(dt.timestamp_micros());
    }
    let t2 = t.trim_end_matches('Z');
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t2, fmt) {
            return Some(micros_of(dt));
        }
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%#z"] {
        if let Ok(dt) = DateTime::parse_from_str(t, fmt) {
            return Some(dt.timestamp_micros());
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .map(|d| micros_of(d.and_hms_opt(0, 0, 0).expect("midnight exists")))
}

pub(crate) fn format_uuid(u: &[u8; 16]) -> String {
    uuid::Uuid::from_bytes(*u).hyphenated().to_string()
}

pub(crate) fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    uuid::Uuid::parse_str(text.trim())
        .ok()
        .map(|u| *u.as_bytes())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    let t = text.trim_start_matches("\\x");
    if !t.len().is_multiple_of(2) {
        return None;
    }
    (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&t[i..i + 2], 16).ok())
        .collect()
}

/// A value as readable text: the form messages and comparisons use.
/// Timestamps are `YYYY-MM-DD HH:MM:SS.ffffff` (with `+00:00` for instants),
/// decimals keep their scale, bytes are `\x…` hex, booleans `true`/`false`.
pub(crate) fn render_cell_text(cell: &Cell<'_>) -> String {
    match cell {
        Cell::Null => "NULL".into(),
        Cell::Bool(b) => b.to_string(),
        Cell::Int(i) => i.to_string(),
        Cell::UInt(u) => u.to_string(),
        Cell::F32(f) => f.to_string(),
        Cell::F64(f) => f.to_string(),
        Cell::Dec(m, s) => format_decimal(*m, *s),
        Cell::DecText(t) | Cell::Text(t) | Cell::Json(t) => t.to_string(),
        Cell::Bytes(b) => format!("\\x{}", hex(b)),
        Cell::Date(d) => format_date(*d),
        Cell::Time(t) => format_time(*t),
        Cell::Ts(t) => format_timestamp(*t),
        Cell::TsTz(t) => format!("{}+00:00", format_timestamp(*t)),
        Cell::Uuid(u) => format_uuid(u),
    }
}

/// Every row of a batch as text cells (`None` for NULL), for tests and
/// diagnostics that compare tables across databases.
pub fn row_cells_text(batch: &RecordBatch, kinds: &[&ValueKind]) -> Vec<Vec<Option<String>>> {
    let readers = readers(batch, kinds);
    (0..batch.num_rows())
        .map(|row| {
            readers
                .iter()
                .map(|r| match r.get(row) {
                    Cell::Null => None,
                    Cell::F32(f) => Some(format!("{}", f as f64)),
                    Cell::Dec(m, s) => Some(normalize_decimal_text(&format_decimal(m, s))),
                    Cell::DecText(t) => Some(normalize_decimal_text(&t)),
                    Cell::Json(t) => Some(
                        serde_json::from_str::<serde_json::Value>(&t)
                            .map(|v| v.to_string())
                            .unwrap_or_else(|_| t.to_string()),
                    ),
                    Cell::TsTz(t) => Some(format_timestamp(t)),
                    other => Some(render_cell_text(&other)),
                })
                .collect()
        })
        .collect()
}

/// The key of row `row` for messages, e.g. `id=17`.
pub(crate) fn row_key_text(
    readers: &[Reader<'_>],
    key: &[usize],
    names: &[String],
    row: usize,
) -> String {
    key.iter()
        .zip(names)
        .map(|(&k, name)| format!("{name}={}", render_cell_text(&readers[k].get(row))))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_round_trip_and_refuse_rounding() {
        assert_eq!(parse_decimal("-12.3400"), Some((-123400, 4)));
        assert_eq!(format_decimal(-123400, 4), "-12.3400");
        assert_eq!(format_decimal(5, 3), "0.005");
        assert_eq!(rescale(123400, 4, 2), Ok(1234));
        assert!(rescale(123456, 4, 2).is_err());
        assert_eq!(normalize_decimal_text("-0012.3400"), "-12.34");
        assert_eq!(normalize_decimal_text("0.000"), "0");
        let target = ValueKind::Decimal {
            precision: 5,
            scale: 2,
        };
        assert_eq!(
            coerce(Cell::Dec(12345, 2), &target),
            Ok(Cell::Dec(12345, 2))
        );
        assert!(coerce(Cell::Dec(123456, 2), &target).is_err());
        assert!(coerce(Cell::Dec(1234, 3), &target).is_err());
    }

    #[test]
    fn integers_text_and_timestamps_are_checked() {
        let tiny = ValueKind::Int {
            bytes: 1,
            unsigned: false,
        };
        assert!(coerce(Cell::Int(127), &tiny).is_ok());
        assert!(coerce(Cell::Int(128), &tiny).is_err());
        let unsigned = ValueKind::Int {
            bytes: 4,
            unsigned: true,
        };
        assert!(coerce(Cell::Int(-1), &unsigned).is_err());
        let short = ValueKind::Text { max_chars: Some(3) };
        assert!(coerce(Cell::Text("naï".into()), &short).is_ok());
        assert!(coerce(Cell::Text("naïv".into()), &short).is_err());
        let seconds = ValueKind::Timestamp {
            tz: false,
            precision: 0,
            epoch32: false,
        };
        assert!(coerce(Cell::Ts(1_000_000), &seconds).is_ok());
        assert!(coerce(Cell::Ts(1_000_001), &seconds).is_err());
    }

    #[test]
    fn timestamps_parse_in_every_iso_form() {
        let base = parse_timestamp("2024-05-01 10:20:30.123456").unwrap();
        assert_eq!(format_timestamp(base), "2024-05-01 10:20:30.123456");
        assert_eq!(parse_timestamp("2024-05-01T10:20:30.123456Z"), Some(base));
        assert_eq!(
            parse_timestamp("2024-05-01 12:20:30.123456+02:00"),
            Some(base)
        );
        assert_eq!(
            parse_timestamp("2024-05-01"),
            parse_timestamp("2024-05-01 00:00:00")
        );
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(format_date(-1), "1969-12-31");
    }
}
