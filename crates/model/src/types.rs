//! Logical column types shared by every dialect.

use serde::{Deserialize, Serialize};

/// A column's logical type. Dialects map these to native types and back; a
/// native type with no logical equivalent is kept verbatim as [`DataType::Raw`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DataType {
    /// Boolean.
    Boolean,
    /// 16-bit integer.
    SmallInt,
    /// 32-bit integer.
    Integer,
    /// 64-bit integer.
    BigInt,
    /// Exact decimal; `None` precision means the dialect's unconstrained numeric.
    Decimal {
        /// Total digits.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        precision: Option<u32>,
        /// Digits after the point.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scale: Option<u32>,
    },
    /// 32-bit float.
    Real,
    /// 64-bit float.
    Double,
    /// Variable-length string with an optional maximum length.
    Varchar {
        /// Maximum length in characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        length: Option<u32>,
    },
    /// Fixed-length string.
    Char {
        /// Length in characters.
        length: u32,
    },
    /// Unbounded text.
    Text,
    /// Binary data.
    Binary,
    /// Calendar date.
    Date,
    /// Time of day without zone.
    Time,
    /// Timestamp without time zone.
    Timestamp,
    /// Timestamp with time zone.
    TimestampTz,
    /// UUID.
    Uuid,
    /// JSON document.
    Json,
    /// A dialect-specific type kept verbatim (e.g. `int4range`, `geometry`).
    Raw {
        /// The native type as written.
        sql: String,
    },
}

/// A dialect-neutral, lowercase spelling such as `integer`, `varchar(20)` or
/// `decimal(10,2)`, for messages and reports; dialects render their own DDL.
impl std::fmt::Display for DataType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DataType::Boolean => f.write_str("boolean"),
            DataType::SmallInt => f.write_str("smallint"),
            DataType::Integer => f.write_str("integer"),
            DataType::BigInt => f.write_str("bigint"),
            DataType::Decimal {
                precision: Some(p),
                scale: Some(s),
            } => write!(f, "decimal({p},{s})"),
            DataType::Decimal {
                precision: Some(p),
                scale: None,
            } => write!(f, "decimal({p})"),
            DataType::Decimal {
                precision: None, ..
            } => f.write_str("decimal"),
            DataType::Real => f.write_str("real"),
            DataType::Double => f.write_str("double"),
            DataType::Varchar { length: Some(n) } => write!(f, "varchar({n})"),
            DataType::Varchar { length: None } => f.write_str("varchar"),
            DataType::Char { length } => write!(f, "char({length})"),
            DataType::Text => f.write_str("text"),
            DataType::Binary => f.write_str("binary"),
            DataType::Date => f.write_str("date"),
            DataType::Time => f.write_str("time"),
            DataType::Timestamp => f.write_str("timestamp"),
            DataType::TimestampTz => f.write_str("timestamptz"),
            DataType::Uuid => f.write_str("uuid"),
            DataType::Json => f.write_str("json"),
            DataType::Raw { sql } => f.write_str(sql),
        }
    }
}
